use super::*;
use approx::{abs_diff_eq, assert_abs_diff_eq};
use serde_json::{Value, json};

fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn row_json_round_trip_is_exact_through_text() {
    let grid = Grid::quick();
    let key = RowKey {
        dim_index: 1,
        rho_index: 2,
    };
    let mut row = compute_row(&grid, key).unwrap();
    // Values that serde_json's parser reads back one ulp off without its `float_roundtrip`
    // feature (about 18% of random doubles are), extreme magnitudes and non-finite values.
    row.points[0].lambda = 0.115_829_093_872_752_23;
    row.points[1].support = 1.692_043_798_761_085e-8;
    row.points[2].entropy = 0.012_837_748_982_554_853;
    row.points[3].lambda_angle = 2.0f64.powi(-1070);
    row.points[4].cos_out_mean = 1.0 / 3.0 * 1e300;
    row.points[5].eta = Some(f64::INFINITY);
    row.simplex_crossing = None;
    for r in [row.clone(), compute_row(&grid, key).unwrap()] {
        let value = serde_json::to_value(&r).unwrap();
        assert_eq!(
            serde_json::from_value::<RowResult>(value.clone()).unwrap(),
            r
        );
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::from_str::<RowResult>(&text).unwrap(), r);
    }
    // The layout of the shard files: the key flattened, the crossing tagged by its kind.
    let value = serde_json::to_value(&row).unwrap();
    let fields: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        [
            "dim_index",
            "rho_index",
            "n",
            "d",
            "rho",
            "seed",
            "cos_in_min",
            "cos_in_mean",
            "cos_in_max",
            "eta_identity",
            "points",
            "crossing",
            "simplex_crossing"
        ]
    );
    assert_eq!(value["points"][5]["eta"], json!("inf"));
    assert_eq!(value["simplex_crossing"], Value::Null);
    assert!(value["crossing"]["kind"].is_string());
    let mut broken = value;
    broken["points"][0]["lambda"] = json!(true);
    assert!(serde_json::from_value::<RowResult>(broken).is_err());
}

#[test]
fn row_keys_and_names_are_stable() {
    let grid = Grid::full();
    let keys = row_keys(&grid);
    assert_eq!(keys.len(), 3 * 18);
    assert_eq!(row_key_name(keys[0], &grid), "gaussian/d512/rho0");
    assert_eq!(row_key_name(keys[18 + 3], &grid), "gaussian/d32/rho3");
    assert_eq!(
        row_key_name(*keys.last().unwrap(), &grid),
        "gaussian/d2/rho17"
    );
    assert!(grid.check().is_ok() && Grid::quick().check().is_ok());
    let seed = |d, rho| row_sample_key(&grid, d, rho).stream_seed();
    assert_ne!(seed(512, 0.05), seed(512, 0.1));
    assert_ne!(seed(512, 0.05), seed(32, 0.05));
}

#[test]
fn quick_budget_shows_the_transition_and_does_not_depend_on_threads() {
    let grid = Grid::quick();
    let one = in_pool(1, || compute(&grid, &|| {}).unwrap());
    let ticks = std::sync::atomic::AtomicUsize::new(0);
    let two = in_pool(2, || {
        compute(&grid, &|| {
            ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap()
    });
    assert_eq!(ticks.into_inner(), row_keys(&grid).len());
    assert_eq!(one, two);

    // d = 512: collapse at the smallest γ, identity at the largest, λ rising in between, and
    // a crossing in every row not far from γ_c.
    assert_eq!(grid.dims[0], 512);
    for row in one.rows_of(0) {
        let lambdas: Vec<f64> = row.points.iter().map(|p| p.lambda).collect();
        assert!(lambdas[0] < 0.05, "rho {}: {lambdas:?}", row.rho);
        assert!(
            *lambdas.last().unwrap() > 0.9,
            "rho {}: {lambdas:?}",
            row.rho
        );
        for w in lambdas.windows(2) {
            assert!(w[1] >= w[0] - 1e-12, "rho {}: {lambdas:?}", row.rho);
        }
        let star = row.crossing.gamma().expect("a crossing at d = 512");
        let ratio = star * (1.0 - row.rho);
        assert!((0.6..1.6).contains(&ratio), "rho {}: {ratio}", row.rho);
        let simplex = row.simplex_crossing.unwrap();
        assert!(
            abs_diff_eq!(star, simplex, epsilon = 0.5 * simplex),
            "{star} vs {simplex}"
        );
        // λ at γ* is ½ up to the bracket's interpolation.
        let config = Configuration::draw(&row_sample_key(&grid, row.d, row.rho)).unwrap();
        let at = config.layer(star, false).unwrap().lambda;
        assert!(
            abs_diff_eq!(at, LAMBDA_HALF, epsilon = 0.01),
            "rho {}: {at}",
            row.rho
        );
    }
    for row in one.rows() {
        if row.d == 512 {
            assert!(
                abs_diff_eq!(row.cos_in_mean, row.rho, epsilon = 0.05),
                "{}",
                row.rho
            );
        }
        for p in &row.points {
            let eta = p.eta.unwrap();
            assert!(eta >= 0.0 && eta.is_finite(), "{eta}");
            assert!((0.0..=1.0 + 1e-9).contains(&p.lambda_angle));
            assert!(p.self_weight > 0.0 && p.self_weight <= 1.0);
        }
        // Deep in the identity phase (γ ≥ 8γ_c at d = 512) η approaches its identity limit.
        if row.d == 512 {
            let last = row.points.last().unwrap();
            let eta = last.eta.unwrap();
            assert!(
                abs_diff_eq!(eta / row.eta_identity, 1.0, epsilon = 0.1),
                "{eta} vs {}",
                row.eta_identity
            );
            assert!(row.points[0].eta.unwrap() < 0.1 * row.eta_identity);
            let e = row.eta_identity;
            assert!(abs_diff_eq!(e, 1.0 - 1.0 / 512.0, epsilon = 0.1), "{e}");
        }
    }
}

#[test]
fn assemble_rejects_missing_and_foreign_rows() {
    let grid = Grid {
        dims: vec![8],
        rhos: vec![0.3, 0.6],
        gammas: vec![1.0, 3.0],
        n: 16,
        ..Grid::quick()
    };
    let rows: Vec<RowResult> = row_keys(&grid)
        .into_iter()
        .map(|k| compute_row(&grid, k).unwrap())
        .collect();
    assert!(assemble(&grid, rows.clone()).is_ok());
    let missing = assemble(&grid, rows[..1].to_vec()).unwrap_err();
    assert!(
        missing.to_string().contains("gaussian/d8/rho1"),
        "{missing}"
    );
    let swapped = vec![rows[1].clone(), rows[0].clone()];
    assert!(assemble(&grid, swapped).is_err());
    let other_seed = Grid {
        seed: 7,
        ..grid.clone()
    };
    assert!(assemble(&other_seed, rows.clone()).is_err());
    let mut tampered = rows;
    tampered[1].points[1].gamma = 3.5;
    assert!(assemble(&grid, tampered).is_err());
    let outside = RowKey {
        dim_index: 1,
        rho_index: 0,
    };
    assert!(compute_row(&grid, outside).is_err());
}

#[test]
fn fit_recovers_a_line_in_one_over_one_minus_rho() {
    let pts: Vec<(f64, f64)> = [0.1, 0.3, 0.5, 0.7]
        .iter()
        .map(|&r| (r, 1.2 / (1.0 - r) - 0.3))
        .collect();
    let f = fit(&pts).unwrap();
    assert_abs_diff_eq!(f.a, 1.2, epsilon = 1e-12);
    assert_abs_diff_eq!(f.b, -0.3, epsilon = 1e-12);
    assert!(f.rms < 1e-12);
    assert_abs_diff_eq!(f.at(0.5), 2.1, epsilon = 1e-12);
    assert!(fit(&pts[..2]).is_none());
}
