//! The real-token fixture (`tests/data/real/`, THEORY §10) against its independent numpy
//! reference (`tests/data/real_reference.json`, `tests/reference/real_reference.py`) at the
//! sizes `tests/diagnose.rs` does not cover: the whole context (n = 4096) through the binary as
//! a table plus ids, and the prefixes n = 1024, 2048 of `context.npy` and n = 512, 1024 of the
//! distinct control through the library.
//!
//! Tolerances (both sides work in f64 on the same f16 values, widened exactly):
//! * counts are exact; shares and ln m/ln n are the same few f64 operations: 1e-15 relative;
//! * means over the n(n − 1) ordered pairs (ρ̂, the sweep's λ, λ_angle, cos_out) and over rows
//!   (self mass, support, entropy) are sums of N ≤ 4096² terms taken in different orders: the
//!   rounding of a sum of N terms is at most N·ε·Σ|term|, so a mean of terms of size ≤ 1 moves
//!   by at most N·ε ≈ 1.9e-9 (N = 4096², ε = 2^-53·2); we allow 2e-9 (absolute, the observables
//!   are O(1));
//! * the measured crossings: diagnose returns the midpoint of a bracket at most
//!   `critscale_diagnose::XTOL` wide, the reference the midpoint of one at most 1e-6 wide, so the
//!   two differ by at most XTOL/2 + 5e-7, plus the shift of the root from the arithmetic above
//!   (≤ 2e-9 divided by a slope ≥ 0.5 on this fixture: 4e-9);
//! * the bisected predictions (the reference's bracket is 1e-6 wide): 1e-6; the closed forms in
//!   ρ̂: 1e-8 (they move with ρ̂ by its error times a derivative ≤ 2).

use super::support::critscale;
use serde_json::Value;
use std::path::{Path, PathBuf};

const SUM_TOL: f64 = 2e-9;
const PRED_BISECT_TOL: f64 = 1e-6;
const CLOSED_TOL: f64 = 1e-8;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(root().join("tests/data/real_reference.json"))
        .expect("tests/data/real_reference.json");
    serde_json::from_str(&text).expect("reference JSON")
}

fn entry<'a>(reference: &'a Value, key: &str, n: u64) -> &'a Value {
    reference[key]
        .as_array()
        .expect("a list of prefixes")
        .iter()
        .find(|e| e["n"] == n)
        .unwrap_or_else(|| panic!("{key} n = {n} missing from the reference"))
}

fn f(v: &Value, name: &str) -> f64 {
    v[name]
        .as_f64()
        .unwrap_or_else(|| panic!("{name} missing or not a number in {v}"))
}

#[track_caller]
fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}: {got} vs reference {want} (|diff| {:e} > {tol:e})",
        (got - want).abs()
    );
}

/// The crossing `got` (midpoint of `bracket`) against the reference `want`.
#[track_caller]
fn crossing(what: &str, got: f64, bracket: [f64; 2], want: f64) {
    let slack = 5e-7 + 4e-9;
    assert!(bracket[1] - bracket[0] <= critscale_diagnose::XTOL * (1.0 + 1e-12));
    assert!(
        bracket[0] - slack <= want && want <= bracket[1] + slack,
        "{what}: reference {want} outside [{}, {}] ± {slack:e}",
        bracket[0],
        bracket[1]
    );
    close(what, got, want, critscale_diagnose::XTOL / 2.0 + slack);
}

/// Summary, crossings and predictions of one diagnosis (as the JSON of `--json` or of the
/// library's `Diagnosis` serialised) against one reference entry.
fn compare(what: &str, got: &Value, want: &Value) {
    assert_eq!(got["n"], want["n"], "{what}: n");
    assert_eq!(got["distinct_m"], want["distinct_m"], "{what}: m");
    for name in [
        "rows_with_copy_share",
        "copy_pair_fraction",
        "heaps_exponent",
    ] {
        let w = f(want, name);
        close(&format!("{what}: {name}"), f(got, name), w, 1e-15 * w.abs());
    }
    close(
        &format!("{what}: rho_hat"),
        f(got, "rho_hat"),
        f(want, "rho_hat"),
        SUM_TOL,
    );
    for (name, detail) in [
        ("gamma_star_self", "crossing_self"),
        ("gamma_star_lambda", "crossing_lambda"),
    ] {
        let bracket = got[detail]["bracket"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {detail} has no bracket: {}", got[detail]));
        let bracket = [bracket[0].as_f64().unwrap(), bracket[1].as_f64().unwrap()];
        crossing(
            &format!("{what}: {name}"),
            f(got, name),
            bracket,
            f(want, name),
        );
    }
    let (gp, wp) = (&got["predictions"], &want["predictions"]);
    for name in [
        "gamma_c_hat",
        "self_law_mean_logodds",
        "self_law_mean_gamma",
        "m_type_gamma_c",
        "equal_multiplicity_self",
    ] {
        close(
            &format!("{what}: {name}"),
            f(gp, name),
            f(wp, name),
            CLOSED_TOL,
        );
    }
    for name in [
        "self_law_crossing",
        "simplex_crossing",
        "m_type_simplex_crossing",
    ] {
        close(
            &format!("{what}: {name}"),
            f(gp, name),
            f(wp, name),
            PRED_BISECT_TOL,
        );
    }
}

/// The whole context through the binary, read as a table plus ids: the crossings and
/// predictions of the reference at n = 4096 (default grid).
#[test]
fn the_binary_on_table_and_ids_matches_the_reference_at_4096() {
    let data = root().join("tests/data/real");
    let table = data.join("table.npy");
    let ids = data.join("ids.npy");
    let run = critscale(&[
        "diagnose",
        "--tokens",
        table.to_str().unwrap(),
        "--ids",
        ids.to_str().unwrap(),
        "--json",
        "--quiet",
    ]);
    run.expect_success();
    let got = run.json();
    let reference = reference();
    compare(
        "table+ids n = 4096",
        &got,
        entry(&reference, "context", 4096),
    );
}

/// Prefixes of `context.npy` and of the control through the library, with the reference's
/// fixed-γ sweep.
#[test]
fn prefixes_and_the_control_match_the_reference() {
    let reference = reference();
    let data = root().join("tests/data/real");
    for (file, key, n) in [
        ("context.npy", "context", 1024usize),
        ("context.npy", "context", 2048),
        ("distinct.npy", "distinct_control", 512),
        ("distinct.npy", "distinct_control", 1024),
    ] {
        let want = entry(&reference, key, n as u64);
        let tokens = critscale_tokens::load(&data.join(file), None, None).expect(file);
        let x = tokens.x.slice(ndarray::s![..n, ..]).to_owned();
        let gammas: Vec<f64> = want["sweep"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| f(p, "gamma"))
            .collect();
        let config = critscale_diagnose::Config {
            gammas: Some(gammas),
            ..Default::default()
        };
        let diagnosis =
            critscale_diagnose::diagnose(x.view(), &config, &mut |_, _, _| {}).expect("diagnose");
        let got = serde_json::to_value(&diagnosis).unwrap();
        let what = format!("{file} n = {n}");
        compare(&what, &got, want);
        let (gs, ws) = (
            got["sweep"].as_array().unwrap(),
            want["sweep"].as_array().unwrap(),
        );
        assert_eq!(gs.len(), ws.len());
        for (g, w) in gs.iter().zip(ws) {
            close(&format!("{what}: gamma"), f(g, "gamma"), f(w, "gamma"), 0.0);
            for name in [
                "lambda",
                "lambda_angle",
                "self_mass",
                "self_weight",
                "cos_out_mean",
                "support",
                "entropy",
            ] {
                // support is a mean of values up to n: its rounding scales with them.
                let tol = if name == "support" {
                    SUM_TOL * n as f64
                } else {
                    SUM_TOL
                };
                close(
                    &format!("{what}: {name} at gamma {}", f(w, "gamma")),
                    f(g, name),
                    f(w, name),
                    tol,
                );
            }
        }
    }
}
