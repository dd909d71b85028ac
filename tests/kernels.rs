//! The fast path (`critscale-kernels`) and `critscale simulate`: agreement with the reference model
//! and the simplex closed forms at sizes beyond the unit tests, and one clear line with exit code
//! 2 for every bad input.

use super::support::critscale;
use approx::{abs_diff_eq, assert_abs_diff_eq};
use critscale::options::Given;
use critscale::simulate::{self, GammaArg, SimulateArgs, simulate};
use critscale_kernels::{Options, Params, eta_exact, eta_hutchinson, forward, observables};
use critscale_model::{LayerParams, gaussian_almost_simplex};
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use critscale_tokens::npy::{NpyDType, to_npy_bytes};
use ndarray::Array2;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A fresh path in the temp directory holding `bytes`.
pub(crate) fn temp_file(bytes: &[u8]) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let k = COUNTER.fetch_add(1, Ordering::SeqCst);
    let path =
        std::env::temp_dir().join(format!("critscale-kernels-{}-{k}.npy", std::process::id()));
    std::fs::write(&path, bytes).expect("temp dir is writable");
    path
}

fn args(config: &str, n: usize, d: usize, rho: f64) -> SimulateArgs {
    SimulateArgs {
        config: Some(simulate::token_config(config).unwrap()),
        n: Some(n),
        d: Some(d),
        rho: Some(Given::of(rho)),
        seed: 3,
        gamma: Some(GammaArg::Value(Given::of(1.1))),
        probes: 16,
        ..SimulateArgs::default()
    }
}

#[test]
fn kernels_agree_with_the_reference_model_at_n_200() {
    let (n, d) = (200, 24);
    let x: Array2<f64> = gaussian_almost_simplex(&(), n, d, 0.4, 9);
    for (beta, alpha) in [(2.0, 0.0), (9.0, 0.3), (40.0, 0.0)] {
        let want_out = critscale_model::forward(&x, &LayerParams::new(beta, alpha)).unwrap();
        let want = critscale_model::observables(&want_out).unwrap();
        let fwd = forward(x.view(), &Params::new(beta, alpha), &Options::default()).unwrap();
        let got = observables(&fwd).unwrap();
        let tol = 1e-12 * (1.0 + beta);
        for (name, g, w) in [
            ("lambda", got.lambda, want.lambda),
            ("lambda_angle", got.lambda_angle, want.lambda_angle),
            ("cos_out_min", got.cos_out_min, want.cos_out_min),
            ("cos_out_mean", got.cos_out_mean, want.cos_out_mean),
            ("cos_out_max", got.cos_out_max, want.cos_out_max),
            ("self_weight", got.self_weight, want.self_weight),
            ("support", got.support, want.support),
            ("entropy", got.entropy, want.entropy),
        ] {
            assert!(
                abs_diff_eq!(g, w, epsilon = tol * w.abs().max(1e-3)),
                "beta {beta}: {name} {g:e} vs {w:e}"
            );
        }
        // The reference Jacobian is 4800 × 4800 here: compare with its Hutchinson estimate
        // instead (same draws), and the exact η with that estimate's error bars.
        let ref_h =
            critscale_model::eta_hutchinson(&x, &LayerParams::new(beta, alpha), 4, 17).unwrap();
        let h = eta_hutchinson(
            x.view(),
            &Params::new(beta, alpha),
            4,
            17,
            &Options::default(),
        )
        .unwrap();
        assert_abs_diff_eq!(
            h.mean,
            ref_h.mean,
            epsilon = 1e-12 * (1.0 + beta).powi(2) * ref_h.mean
        );
        let exact = eta_exact(x.view(), &Params::new(beta, alpha), &Options::default()).unwrap();
        let est = eta_hutchinson(
            x.view(),
            &Params::new(beta, alpha),
            64,
            5,
            &Options::default(),
        )
        .unwrap();
        assert!(
            abs_diff_eq!(
                est.mean,
                exact,
                epsilon = critscale_real::prec::MONTE_CARLO_SIGMAS * est.stderr
            ),
            "beta {beta}: Hutchinson {} ± {} vs exact {exact}",
            est.mean,
            est.stderr
        );
    }
}

#[test]
fn simulate_on_a_simplex_matches_the_closed_forms() {
    for (n, gamma, rho) in [
        (60usize, 0.8f64, 0.3f64),
        (60, 1.0 / 0.7, 0.3),
        (120, 2.5, 0.5),
    ] {
        let mut a = args("simplex", n, n + 3, rho);
        a.gamma = Some(GammaArg::Value(Given::of(gamma)));
        let report = simulate(&a).unwrap();
        let sp = SimplexParams::new(
            n as f64,
            rho,
            Scaling::Gamma(gamma),
            0.0,
            1.0,
            Some((n + 3) as f64),
        )
        .unwrap();
        let closed = SimplexLayer::evaluate(&sp);
        let tol = 1e-11 * (1.0 + report.beta).powi(2);
        let eta = report.eta.unwrap();
        let want_eta = closed.eta.unwrap();
        assert!(
            abs_diff_eq!(eta, want_eta, epsilon = tol * want_eta),
            "n {n}: eta {eta:e} vs {want_eta:e}"
        );
        assert_abs_diff_eq!(
            report.obs.lambda,
            closed.lambda,
            epsilon = 1e-10 * closed.lambda
        );
        assert_abs_diff_eq!(report.obs.self_weight, closed.self_weight, epsilon = 1e-12);
        assert_abs_diff_eq!(report.obs.cos_out_mean, closed.cos_out, epsilon = 1e-12);
        assert_abs_diff_eq!(
            report.obs.cos_out_min,
            report.obs.cos_out_max,
            epsilon = 1e-12
        );
    }
}

#[test]
fn simulate_json_has_every_field_and_hutchinson_reports_its_error() {
    let out = critscale(&[
        "simulate",
        "--config",
        "gaussian",
        "--n",
        "300",
        "--d",
        "32",
        "--rho",
        "0.3",
        "--gamma",
        "crit",
        "--eta",
        "hutchinson",
        "--probes",
        "8",
        "--json",
    ]);
    out.expect_success();
    let v: serde_json::Value = out.json();
    let o = v.as_object().unwrap();
    for key in [
        "lambda",
        "lambda_angle",
        "cos_out_min",
        "cos_out_mean",
        "cos_out_max",
        "self_weight",
        "support",
        "entropy",
        "eta",
        "eta_stderr",
        "beta",
        "gamma",
    ] {
        let x = o[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key} is a number"));
        assert!(x.is_finite(), "{key} = {x}");
    }
    assert_abs_diff_eq!(o["gamma"].as_f64().unwrap(), 1.0 / 0.7, epsilon = 1e-12);
    assert!(o["eta_stderr"].as_f64().unwrap() > 0.0);
    let t = o["timings"].as_object().unwrap();
    for phase in ["generate", "forward", "observables", "eta"] {
        assert!(t[phase].as_f64().unwrap() >= 0.0, "{phase}");
    }
    // Exact: no standard error.
    let out = critscale(&[
        "simulate", "--config", "gaussian", "--n", "100", "--d", "8", "--rho", "0.5", "--beta",
        "3", "--json",
    ]);
    let v: serde_json::Value = out.json();
    assert!(v.get("eta").is_some() && v.get("eta_stderr").is_none());
    // Table output names the phases.
    let out = critscale(&[
        "simulate", "--config", "gaussian", "--n", "50", "--d", "8", "--rho", "0.5", "--beta", "3",
        "--eta", "none",
    ]);
    let text = &out.stdout;
    assert!(text.contains("lambda") && text.contains("time forward") && !text.contains("\neta "));
}

#[test]
fn simulate_reads_npy_files_in_f64_and_f32() {
    let x: Array2<f64> = gaussian_almost_simplex(&(), 80, 12, 0.3, 4);
    let mut a = args("gaussian", 80, 12, 0.3);
    a.seed = 4;
    let generated = simulate(&a).unwrap();
    for (dt, tol) in [(NpyDType::F64, 0.0), (NpyDType::F32, 1e-5)] {
        let path = temp_file(&to_npy_bytes(&x, dt));
        let mut b = args("gaussian", 80, 12, 0.3);
        b.config = None;
        b.tokens = Some(path.clone());
        let from_file = simulate(&b).unwrap();
        std::fs::remove_file(&path).ok();
        let (g, f) = (generated.obs, from_file.obs);
        assert!(
            abs_diff_eq!(g.lambda, f.lambda, epsilon = tol * g.lambda),
            "{dt:?}: {} vs {}",
            g.lambda,
            f.lambda
        );
        let (ge, fe) = (generated.eta.unwrap(), from_file.eta.unwrap());
        assert!(
            abs_diff_eq!(ge, fe, epsilon = tol * ge),
            "{dt:?}: eta {ge} vs {fe}"
        );
        // f32 arithmetic on the same tokens agrees with f64 to 1e-5.
        b.dtype = simulate::Dtype::F32;
        let path = temp_file(&to_npy_bytes(&x, dt));
        b.tokens = Some(path.clone());
        let f32_run = simulate(&b).unwrap();
        std::fs::remove_file(&path).ok();
        assert_abs_diff_eq!(f32_run.obs.lambda, g.lambda, epsilon = 1e-5 * g.lambda);
        assert_abs_diff_eq!(f32_run.eta.unwrap(), ge, epsilon = 1e-5 * ge);
    }
}

/// Runs `simulate` expecting exit code 2 and exactly one line on stderr containing `needle`.
fn rejects(extra: &[&str], needle: &str) {
    let mut a = vec!["simulate"];
    a.extend_from_slice(extra);
    let out = critscale(&a);
    let err = &out.stderr;
    out.expect_exit(2);
    assert_eq!(err.trim_end().lines().count(), 1, "{a:?}: {err}");
    assert!(
        err.starts_with("error: ") && err.contains(needle),
        "{a:?}: {err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_token_files_get_one_line_and_exit_2() {
    let good = ndarray::array![[1.0, 2.0], [3.0, 4.0], [0.5, -1.0]];
    let bytes = to_npy_bytes(&good, NpyDType::F64);
    let truncated = temp_file(&bytes[..bytes.len() - 5]);
    let garbage = temp_file(b"this is not a numpy file");
    let one_row = temp_file(&to_npy_bytes(&ndarray::array![[1.0, 2.0]], NpyDType::F64));
    let zero = temp_file(&to_npy_bytes(
        &ndarray::array![[1.0, 2.0], [0.0, 0.0]],
        NpyDType::F32,
    ));
    let mut nan = good.clone();
    nan[[2, 1]] = f64::INFINITY;
    let nonfinite = temp_file(&to_npy_bytes(&nan, NpyDType::F64));
    let dup = temp_file(&to_npy_bytes(
        &ndarray::array![[1.0, 2.0], [2.0, 4.0]],
        NpyDType::F64,
    ));
    let ok = temp_file(&bytes);
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (vec![s(&truncated)], "declares 3 x 2 float64 values"),
        (vec![s(&garbage)], "not a valid .npy file"),
        (vec![s(&one_row)], "shape [1, 2]"),
        (vec![s(&zero)], "token 1 is the zero vector"),
        (
            vec![s(&nonfinite)],
            "token 2 has a non-finite entry inf in column 1",
        ),
        (vec![s(&dup)], "all 2 tokens share one direction"),
        (vec!["/nonexistent/dir/x.npy".into()], "cannot read"),
    ];
    for (file, needle) in cases {
        rejects(&["--tokens", &file[0], "--beta", "2"], needle);
    }
    rejects(
        &["--tokens", &s(&ok), "--beta", "2", "--dtype", "f16"],
        "--dtype",
    );
    rejects(
        &["--tokens", &s(&ok), "--beta", "2", "--eta", "maybe"],
        "--eta",
    );
    rejects(&["--tokens", &s(&ok), "--beta", "nan"], "--beta");
    rejects(&["--tokens", &s(&ok), "--gamma", "-1"], "--gamma");
    rejects(
        &["--tokens", &s(&ok), "--beta", "1", "--alpha", "-0.5"],
        "--alpha",
    );
    rejects(
        &[
            "--tokens",
            &s(&ok),
            "--beta",
            "1",
            "--eta",
            "hutchinson",
            "--probes",
            "1",
        ],
        "--probes",
    );
    rejects(
        &["--tokens", &s(&ok), "--config", "gaussian", "--beta", "1"],
        "--config",
    );
    rejects(
        &[
            "--config", "cube", "--n", "4", "--d", "4", "--rho", "0.1", "--beta", "1",
        ],
        "--config",
    );
    rejects(
        &[
            "--config", "simplex", "--n", "8", "--d", "4", "--rho", "0.1", "--beta", "1",
        ],
        "--d",
    );
    rejects(
        &[
            "--config", "gaussian", "--n", "1", "--d", "4", "--rho", "0.1", "--beta", "1",
        ],
        "--n",
    );
    rejects(
        &[
            "--config", "gaussian", "--n", "8", "--d", "4", "--rho", "1.5", "--beta", "1",
        ],
        "--rho",
    );
    for p in [truncated, garbage, one_row, zero, nonfinite, dup, ok] {
        std::fs::remove_file(p).ok();
    }
}
