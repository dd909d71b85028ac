//! Tests of the shard file: round trips, checksums, value checks.

use super::*;
use crate::{Budget, BudgetGrids, claims, gaussian};
use critscale_sweeps::exact::{from_value as read_exact, to_value as exact};
use critscale_theorems::{Evidence, Verdict};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A small valid shard, built by hand (no computing): one Gaussian row of the quick grid and
/// one claim.
fn sample() -> ShardRun {
    let grid = Budget::Quick.gaussian();
    let key = gaussian::RowKey {
        dim_index: 0,
        rho_index: 0,
    };
    let d = grid.dims[0];
    let points = grid
        .gammas
        .iter()
        .enumerate()
        .map(|(j, &gamma)| gaussian::Point {
            gamma,
            lambda: 0.1 * j as f64,
            lambda_angle: 0.2,
            cos_out_mean: 0.5,
            self_weight: 0.25,
            support: 3.0,
            entropy: 1.5,
            eta: Some(0.75 + j as f64),
        })
        .collect();
    let row = gaussian::RowResult {
        key,
        n: grid.n,
        d,
        rho: grid.rhos[0],
        seed: gaussian::row_sample_key(&grid, d, grid.rhos[0]).stream_seed(),
        cos_in_min: 0.1,
        cos_in_mean: 0.2,
        cos_in_max: 0.3,
        eta_identity: 1.0,
        points,
        crossing: gaussian::Crossing::At {
            gamma: 4.0,
            steps: 7,
        },
        simplex_crossing: Some(4.2),
    };
    let registry = critscale_theorems::registry();
    let claim = &registry[0];
    let claim_row = claims::Row {
        id: claim.id.to_owned(),
        theorem: claim.theorem.to_owned(),
        statement: claim.statement.to_owned(),
        outcome: Ok(Evidence {
            id: claim.id.to_owned(),
            statement: claim.statement.to_owned(),
            prediction: 1.0,
            measured: 1.0,
            ci: [1.0, 1.0],
            tolerance: 1e-12,
            verdict: Verdict::Pass,
            seconds: 0.5,
            method: "by hand".to_owned(),
            controls: Vec::new(),
        }),
        seconds: 0.5,
    };
    ShardRun {
        spec: ShardSpec { index: 1, count: 1 },
        budget: Budget::Quick,
        claim_filter: vec![claim.id.to_owned()],
        git_revision: "0123abcd".to_owned(),
        host: "test".to_owned(),
        results: vec![
            UnitResult {
                key: row_key_name_of(key, &grid),
                result: serde_json::to_value(&row).unwrap(),
            },
            UnitResult {
                key: format!("claim/{}", claim.id),
                result: serde_json::to_value(&claim_row).unwrap(),
            },
        ],
        seconds: 2.0,
        threads: 1,
    }
}

fn row_key_name_of(key: gaussian::RowKey, grid: &gaussian::Grid) -> String {
    gaussian::row_key_name(key, grid)
}

/// The bytes of the marker and of the shard file, as `report --shard` writes them.
fn files_of(run: &ShardRun) -> (Vec<u8>, Vec<u8>) {
    let files = run.artifacts();
    let marker = crate::write::Manifest::of(crate::write::SHARD, &files).to_text();
    (marker.into_bytes(), files[0].bytes.clone())
}

/// `run` with the unit `k`'s JSON changed by `edit`, re-checksummed (as someone who
/// rewrites the marker too would do): only the value checks can catch it.
fn edited(k: usize, edit: impl FnOnce(&mut Value)) -> Result<ShardRun, String> {
    let mut run = sample();
    edit(&mut run.results[k].result);
    let (marker, file) = files_of(&run);
    parse_shard(&marker, &file)
}

#[test]
fn a_valid_shard_is_read_back() {
    let run = sample();
    let (marker, file) = files_of(&run);
    let back = parse_shard(&marker, &file).unwrap();
    assert_eq!(back, run);
}

#[test]
fn out_of_range_values_and_false_verdicts_are_refused_even_with_a_valid_checksum() {
    let point = |v: &mut Value, name: &str, x: Value| v["points"][1][name] = x;
    for (name, x) in [
        ("lambda", json!(-3.0)),
        ("lambda", json!(1.5)),
        ("lambda", json!("nan")),
        ("eta", json!("inf")),
        ("eta", json!(-1.0)),
        ("support", json!(0.5)),
        ("entropy", json!(100.0)),
        ("cos_out_mean", json!(-2.0)),
        ("self_weight", json!("-inf")),
    ] {
        let err = edited(0, |v| point(v, name, x.clone())).unwrap_err();
        assert!(err.contains(name), "{name} = {x}: {err}");
    }
    assert!(edited(0, |v| v["crossing"]["gamma"] = json!(1e9)).is_err());
    assert!(edited(0, |v| v["simplex_crossing"] = json!(-1.0)).is_err());
    // A claim whose verdict says pass while its evidence fails, and the other way round.
    let err = edited(1, |v| v["outcome"]["measured"] = json!("inf")).unwrap_err();
    assert!(err.contains("outside its interval"), "{err}");
    // A measurement moved alone, its interval and verdict kept: the pass would still hold
    // on the interval, but a measurement outside its own interval was edited.
    let err = edited(1, |v| v["outcome"]["measured"] = json!(1.7)).unwrap_err();
    assert!(err.contains("outside its interval"), "{err}");
    let err = edited(1, |v| v["outcome"]["prediction"] = json!(2.0)).unwrap_err();
    assert!(err.contains("verdict"), "{err}");
    let err = edited(1, |v| v["outcome"]["verdict"] = json!("fail")).unwrap_err();
    assert!(err.contains("verdict"), "{err}");
    assert!(edited(1, |v| v["outcome"]["tolerance"] = json!(-1.0)).is_err());
    assert!(edited(1, |v| v["statement"] = json!("anything")).is_err());
    assert!(edited(1, |v| v["outcome"]["ci"] = json!([2.0, 1.0])).is_err());
}

#[test]
fn an_edit_without_a_new_checksum_is_refused() {
    let run = sample();
    let (marker, file) = files_of(&run);
    let text = String::from_utf8(file).unwrap();
    // The claim's measured value changed while its verdict stays "pass".
    let edited = text.replacen("\"measured\": 1.0", "\"measured\": 1.5", 1);
    assert_ne!(edited, text);
    let err = parse_shard(&marker, edited.as_bytes()).unwrap_err();
    assert!(err.contains("checksum"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(marker in proptest::collection::vec(any::<u8>(), 0..300),
                                file in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_shard(&marker, &file);
        let valid = files_of(&sample()).0;
        let _ = parse_shard(&valid, &file);
    }

    #[test]
    fn every_single_byte_edit_is_refused(in_marker in any::<bool>(), at in any::<prop::sample::Index>(),
                                         byte in any::<u8>()) {
        let (mut marker, mut file) = files_of(&sample());
        let target = if in_marker { &mut marker } else { &mut file };
        let k = at.index(target.len());
        prop_assume!(target[k] != byte);
        target[k] = byte;
        prop_assert!(parse_shard(&marker, &file).is_err());
    }

    #[test]
    fn random_json_values_with_a_valid_checksum_never_panic(x in any::<f64>(), k in 0usize..2,
                                                             field in 0usize..4) {
        let _ = edited(k, |v| {
            let names = ["lambda", "eta", "support", "gamma"];
            if k == 0 {
                v["points"][0][names[field]] = exact(x);
            } else {
                v["outcome"][["prediction", "measured", "tolerance", "prediction"][field]] = exact(x);
            }
        });
    }
}

#[test]
fn shard_specs_parse_and_split_the_units() {
    assert_eq!(
        ShardSpec::parse(" 2/8 ").unwrap(),
        ShardSpec { index: 2, count: 8 }
    );
    for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3", "-1/2"] {
        assert!(ShardSpec::parse(bad).is_err(), "{bad}");
    }
    let count = 3;
    for k in 0..20 {
        let owners = (1..=count)
            .filter(|&index| ShardSpec { index, count }.owns(k))
            .count();
        assert_eq!(owners, 1, "unit {k}");
    }
}

#[test]
fn exact_numbers_round_trip_through_text() {
    // Without serde_json's `float_roundtrip` feature about one double in six would come
    // back one ulp off; sweep many bit patterns.
    let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..20_000 {
        bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let x = f64::from_bits(bits >> 1);
        if !x.is_finite() {
            continue;
        }
        let text = serde_json::to_string(&exact(x)).unwrap();
        let back = read_exact(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
    }
}

#[test]
fn exact_numbers_round_trip() {
    for x in [
        0.1,
        -1.0 / 3.0,
        1e-300,
        5e-324,
        f64::MAX,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ] {
        let text = serde_json::to_string(&exact(x)).unwrap();
        let back = read_exact(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
    }
    assert!(read_exact(&exact(f64::NAN)).unwrap().is_nan());
    assert!(read_exact(&json!(true)).is_err());
}

#[test]
fn claim_rows_round_trip_through_json() {
    let row = claims::Row {
        id: "T1.x".to_owned(),
        theorem: "T1".to_owned(),
        statement: "a | b".to_owned(),
        outcome: Ok(Evidence {
            id: "T1.x".to_owned(),
            statement: "a | b".to_owned(),
            prediction: 1.0 / 0.7,
            measured: 1.428_571_428_571_6,
            ci: [f64::NEG_INFINITY, 2.0],
            tolerance: 1e-6,
            verdict: Verdict::Fail,
            seconds: 0.125,
            method: "fit".to_owned(),
            controls: Vec::new(),
        }),
        seconds: 0.125,
    };
    let text = serde_json::to_string(&row).unwrap();
    let back: claims::Row = serde_json::from_str(&text).unwrap();
    assert_eq!(back, row);
    let failed = claims::Row {
        outcome: Err("no crossing".to_owned()),
        ..row
    };
    let value = serde_json::to_value(&failed).unwrap();
    assert_eq!(value["outcome"], json!({ "error": "no crossing" }));
    assert_eq!(
        serde_json::from_value::<claims::Row>(value).unwrap(),
        failed
    );
}
