//! `simulate` and the kernels at the edges (issue 10): η at very large β is exact or refused
//! (exit 3), rows whose norm overflows or underflows keep their direction, copies (issue 13) are
//! left out of λ and near-copies just above the copy tolerance are right or refused, runs too large for the memory are refused before any work, and
//! token files are read header first and never past what they declare.

use super::kernels::temp_file;
use super::support::{Run, command, critscale};
use approx::{abs_diff_eq, assert_abs_diff_eq};
use critscale_kernels::{
    COPY_TOLERANCE, KernelError, Options, Params, eta_error_limit, eta_exact, eta_hutchinson,
    forward, observables,
};
use critscale_model::LayerParams;
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use critscale_tokens::npy::{NpyDType, to_npy_bytes};
use ndarray::Array2;
use std::time::{Duration, Instant};

/// Asserts exit code `code`, nothing on stdout and one `error:` line on stderr containing every
/// needle; returns the line.
fn refused(out: &Run, code: i32, needles: &[&str]) -> String {
    let err = out.stderr.clone();
    assert_eq!(out.code, Some(code), "{err}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    for n in needles {
        assert!(err.contains(n), "missing {n:?} in {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn simplex_eta(n: usize, d: usize, rho: f64, beta: f64) -> f64 {
    let sp =
        SimplexParams::new(n as f64, rho, Scaling::Beta(beta), 0.0, 1.0, Some(d as f64)).unwrap();
    SimplexLayer::evaluate(&sp).eta.unwrap()
}

/// Item 3: the exact η of a simplex against the closed form of `critscale-simplex` (computed in
/// a log-domain form that is exact at any β) from moderate β to 1e10, in f64 and f32: either
/// within the stated accuracy or refused, and never refused at moderate β.
#[test]
fn exact_eta_at_large_beta_is_right_or_refused() {
    let (n, d, rho) = (64usize, 64usize, 0.3);
    let x: Array2<f64> = critscale_model::simplex(&(), n, d, &rho, &1.0).unwrap();
    let x32 = x.mapv(|v| v as f32);
    // The identity limit (1 − 1/d)/q, checked once against the closed form.
    assert_abs_diff_eq!(simplex_eta(n, d, rho, 1e10), 0.984375, epsilon = 1e-15);
    let mut refused_f64 = 0;
    for beta in [
        1.0, 5.0, 20.0, 60.0, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e10,
    ] {
        let want = simplex_eta(n, d, rho, beta);
        let p = Params::new(beta, 0.0);
        for (dtype, got) in [
            ("f64", eta_exact(x.view(), &p, &Options::default())),
            ("f32", eta_exact(x32.view(), &p, &Options::default())),
        ] {
            let limit = if dtype == "f64" {
                eta_error_limit::<f64>()
            } else {
                // f32 inputs: the tokens' own rounding (6e-8) moves the exact η by about
                // β·6e-8 relative where the attention is in transition.
                eta_error_limit::<f32>() + 1e-7 * beta
            };
            match got {
                Ok(v) => assert!(
                    abs_diff_eq!(v, want, epsilon = limit * want),
                    "{dtype} beta {beta}: {v} vs {want} (rel {:e})",
                    (v - want).abs() / want
                ),
                Err(KernelError::PrecisionLoss { .. }) => {
                    assert!(beta > 100.0, "{dtype} refused at moderate beta {beta}");
                    if dtype == "f64" {
                        refused_f64 += 1;
                    }
                }
                Err(e) => panic!("{dtype} beta {beta}: {e}"),
            }
        }
    }
    // At β = 1e10 the f64 sums lose everything: refused, not printed.
    assert!(refused_f64 >= 1);
}

/// Item 3 on random tokens: the f32 and f64 kernels against the reference Jacobian (which forms
/// C_i from explicit differences and does not cancel) on the same (f32-rounded) tokens.
#[test]
fn exact_and_hutchinson_eta_on_random_tokens_are_right_or_refused() {
    for (n, d, seed) in [(6usize, 4usize, 1u64), (9, 3, 2)] {
        let x: Array2<f64> = critscale_model::gaussian_almost_simplex(&(), n, d, 0.3, seed);
        let x32 = x.mapv(|v| v as f32);
        let x_r = x32.mapv(f64::from);
        for beta in [3.0, 30.0, 300.0, 3e3, 3e4, 3e6, 3e8, 1e10] {
            let want =
                critscale_model::eta_from_jacobian(&x_r, &LayerParams::new(beta, 0.0)).unwrap();
            let p = Params::new(beta, 0.0);
            for (dtype, got, limit) in [
                (
                    "f64",
                    eta_exact(x_r.view(), &p, &Options::default()),
                    eta_error_limit::<f64>(),
                ),
                (
                    "f32",
                    eta_exact(x32.view(), &p, &Options::default()),
                    eta_error_limit::<f32>(),
                ),
            ] {
                match got {
                    // The reference itself rounds like u·β in its β·C_i terms.
                    Ok(v) => assert!(
                        abs_diff_eq!(v, want, epsilon = (limit + 1e-15 * beta) * want),
                        "{dtype} n {n} beta {beta}: {v} vs {want}"
                    ),
                    Err(KernelError::PrecisionLoss { .. }) => assert!(beta > 30.0),
                    Err(e) => panic!("{dtype} beta {beta}: {e}"),
                }
            }
            // Hutchinson in f32: refused or within its error bars of the exact value.
            match eta_hutchinson(x32.view(), &p, 64, 7, &Options::default()) {
                Ok(h) => assert!(
                    abs_diff_eq!(h.mean, want, epsilon = 5.0 * h.stderr + 1e-3 * want),
                    "hutchinson beta {beta}: {} ± {} vs {want}",
                    h.mean,
                    h.stderr
                ),
                Err(KernelError::PrecisionLoss { .. }) => assert!(beta > 30.0),
                Err(e) => panic!("hutchinson beta {beta}: {e}"),
            }
        }
    }
}

/// Item 3 through the CLI: the two reproducers exit 3 with one line and print no number.
#[test]
fn simulate_refuses_eta_it_cannot_vouch_for_with_exit_3() {
    let base = [
        "simulate", "--config", "simplex", "--n", "64", "--d", "64", "--rho", "0.3",
    ];
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--gamma", "1e6", "--dtype", "f32"]);
    refused(&critscale(&a), 3, &["exact eta", "rounding"]);
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--beta", "1e10"]);
    refused(&critscale(&a), 3, &["exact eta in f64", "beta = 1.0000e10"]);
    // Hutchinson in f32 at that β cancels in the same way.
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--gamma", "1e6", "--dtype", "f32", "--eta", "hutchinson"]);
    refused(&critscale(&a), 3, &["Hutchinson eta"]);
    // Moderate β is reported, and matches the closed form.
    let mut a: Vec<&str> = base.to_vec();
    a.extend(["--gamma", "3", "--json"]);
    let out = critscale(&a);
    out.expect_success();
    let v: serde_json::Value = out.json();
    let want = simplex_eta(64, 64, 0.3, 3.0 * 64f64.ln());
    let got = v["eta"].as_f64().unwrap();
    assert!(
        abs_diff_eq!(got, want, epsilon = 1e-10 * want),
        "{got} vs {want}"
    );
}

/// Moderate β in f32 with close pairs of tokens (d = 2) is reported, not refused for the
/// pessimism of the error estimate, and agrees with f64.
#[test]
fn f32_eta_at_moderate_beta_is_reported() {
    let eta = |dtype: &str| {
        let out = critscale(&[
            "simulate", "--config", "gaussian", "--n", "300", "--d", "2", "--rho", "0.8",
            "--gamma", "4", "--dtype", dtype, "--json",
        ]);
        out.expect_success();
        let v: serde_json::Value = out.json();
        v["eta"].as_f64().unwrap()
    };
    let (e64, e32) = (eta("f64"), eta("f32"));
    assert!(
        abs_diff_eq!(e64, e32, epsilon = 1e-4 * e64),
        "{e64} vs {e32}"
    );
}

/// Runs `simulate` on `x` (α = 0, β = 2) and returns (λ, cos_in_mean) or the error line.
fn lambda_of(x: &Array2<f64>, dtype: NpyDType, work: &str) -> Result<(f64, f64), String> {
    let path = temp_file(&to_npy_bytes(x, dtype));
    let out = critscale(&[
        "simulate",
        "--tokens",
        path.to_str().unwrap(),
        "--beta",
        "2",
        "--eta",
        "none",
        "--dtype",
        work,
        "--json",
    ]);
    std::fs::remove_file(&path).ok();
    if !out.success() {
        return Err(out.stderr.clone());
    }
    let v: serde_json::Value = out.json();
    Ok((
        v["lambda"].as_f64().unwrap(),
        v["cos_in_mean"].as_f64().unwrap(),
    ))
}

/// Item 4: a row whose norm overflows f64 (entries 1e308), or whose entries are subnormal,
/// keeps its exact direction: λ equals that of the same directions at unit scale.
#[test]
fn rows_at_the_ends_of_the_range_keep_their_direction() {
    // Row 1 has few significant bits, so that it scales exactly even into the subnormals.
    let base = ndarray::array![
        [1.0, 0.5, -0.25],
        [0.375, -1.0, 0.75],
        [-0.7, 0.2, 0.9],
        [0.1, 0.4, -1.0]
    ];
    let (want, cos) = lambda_of(&base, NpyDType::F64, "f64").unwrap();
    // 2^−1065: the row's entries are subnormals with 10 significant bits, exact here; its norm
    // computed directly would keep only about 10 bits.
    let two_m1065 = 2f64.powi(-532) * 2f64.powi(-533);
    for scale in [1e308, 1.7e308, 1e-310, two_m1065] {
        let mut x = base.clone();
        for v in x.row_mut(1) {
            *v *= scale;
        }
        let (got, got_cos) =
            lambda_of(&x, NpyDType::F64, "f64").unwrap_or_else(|e| panic!("scale {scale:e}: {e}"));
        // The scaled row is exact up to the rounding of v·scale (none for 2^−1065).
        let tol = 1e-12;
        assert!(
            abs_diff_eq!(got, want, epsilon = tol * want)
                && abs_diff_eq!(got_cos, cos, epsilon = tol),
            "scale {scale:e}: lambda {got} vs {want}, cos {got_cos} vs {cos}"
        );
    }
    // f32 subnormal entries (stored in an f32 file) in f32 and f64 arithmetic.
    let mut x = base.mapv(|v| f64::from(v as f32));
    for v in x.row_mut(2) {
        *v = f64::from((*v * 1e-39) as f32);
    }
    let (w64, _) = lambda_of(&x, NpyDType::F32, "f64").unwrap();
    let (w32, _) = lambda_of(&x, NpyDType::F32, "f32").unwrap();
    assert!(
        abs_diff_eq!(w64, w32, epsilon = 1e-5 * w64),
        "{w64} vs {w32}"
    );
    let mut unit = x.clone();
    let m = unit.row(2).iter().fold(0.0f64, |m, v| m.max(v.abs()));
    for v in unit.row_mut(2) {
        *v /= m;
    }
    let (wu, _) = lambda_of(&unit, NpyDType::F64, "f64").unwrap();
    assert!(abs_diff_eq!(w64, wu, epsilon = 1e-12 * wu), "{w64} vs {wu}");
}

/// Item 12: values f32 cannot hold get a message that says so, not "zero vector" or
/// "non-finite".
#[test]
fn f32_range_problems_are_named() {
    let mut big = ndarray::array![[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]];
    big[[1, 0]] = 1e39;
    let e = lambda_of(&big, NpyDType::F64, "f32").unwrap_err();
    assert!(
        e.contains("token 1, column 0") && e.contains("overflows f32"),
        "{e}"
    );
    assert!(
        e.contains("--dtype f64") && !e.contains("non-finite"),
        "{e}"
    );
    let mut tiny = ndarray::array![[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]];
    tiny[[2, 0]] = 1e-41;
    tiny[[2, 1]] = 3.3e-42;
    let e = lambda_of(&tiny, NpyDType::F64, "f32").unwrap_err();
    assert!(e.contains("token 2") && e.contains("underflows f32"), "{e}");
    assert!(!e.contains("zero vector"), "{e}");
    // Both are fine in f64.
    assert!(lambda_of(&big, NpyDType::F64, "f64").is_ok());
    assert!(lambda_of(&tiny, NpyDType::F64, "f64").is_ok());
}

/// The reference model's (f64) λ, λ_angle, mean input cosine and self mass with the copies
/// (1 − ⟨y_i, y_j⟩ ≤ `COPY_TOLERANCE`) left out of the pair means, and the number of copy pairs.
fn reference_without_copies(x: &Array2<f64>, beta: f64) -> (f64, f64, f64, f64, u64) {
    let out = critscale_model::forward(x, &LayerParams::new(beta, 0.0)).unwrap();
    let n = x.nrows();
    let (mut lam, mut ang, mut cos, mut mass) = (0.0, 0.0, 0.0, 0.0);
    let (mut pairs, mut copies) = (0u64, 0u64);
    for i in 0..n {
        for j in 0..n {
            let c = out.y.row(i).dot(&out.y.row(j));
            if 1.0 - c <= COPY_TOLERANCE {
                mass += out.attention[[i, j]];
                copies += u64::from(j > i);
            } else if j > i {
                let din = (&out.y.row(i) - &out.y.row(j)).mapv(|v| v * v).sum();
                let dout = (&out.y_out.row(i) - &out.y_out.row(j))
                    .mapv(|v| v * v)
                    .sum();
                lam += dout / din;
                ang += (0.5 * dout.sqrt()).asin() / (0.5 * din.sqrt()).asin();
                cos += c;
                pairs += 1;
            }
        }
    }
    let p = pairs as f64;
    (lam / p, ang / p, cos / p, mass / n as f64, copies)
}

/// `simulate --json` on `x` with the extra arguments.
fn simulate_json(x: &Array2<f64>, extra: &[&str]) -> Result<serde_json::Value, Run> {
    let path = temp_file(&to_npy_bytes(x, NpyDType::F64));
    let mut args = vec!["simulate", "--tokens", path.to_str().unwrap(), "--json"];
    args.extend_from_slice(extra);
    let out = critscale(&args);
    std::fs::remove_file(&path).ok();
    if out.success() {
        Ok(out.json())
    } else {
        Err(out)
    }
}

/// Issue 13 item 2: a context with exact and rescaled copies (x_5 = x_1, x_7 = 2.5·x_3) is not
/// refused: λ, λ_angle and the mean cosine are those of the reference model over the pairs that
/// are not copies, the self mass is mean_i Σ_{j copy of i} A_ij, exact η is the reference
/// Jacobian's, in f64 and f32; `--gamma crit` takes ρ̂; a file whose pairs are all copies is
/// exit 2 with one line.
#[test]
fn copies_are_left_out_not_refused() {
    let mut x: Array2<f64> = critscale_model::gaussian_almost_simplex(&(), 10, 6, 0.3, 5);
    let (row1, row3) = (x.row(1).to_owned(), x.row(3).to_owned());
    x.row_mut(5).assign(&row1);
    x.row_mut(7).assign(&row3.mapv(|v| 2.5 * v));
    // The rescaled copy's direction is not bitwise equal (else it were an exact copy).
    let p = critscale_kernels::prepare(x.view(), &Params::new(2.0, 0.0)).unwrap();
    assert!((0..6).any(|a| p.y(3, a) != p.y(7, a)));
    let (lam, ang, cos, mass, copies) = reference_without_copies(&x, 2.0);
    assert_eq!(copies, 2);
    let want_eta = critscale_model::eta_from_jacobian(&x, &LayerParams::new(2.0, 0.0)).unwrap();
    for (work, tol) in [("f64", 1e-12), ("f32", 1e-5)] {
        let v = simulate_json(&x, &["--beta", "2", "--dtype", work])
            .unwrap_or_else(|r| panic!("{work}: {}", r.stderr));
        assert_eq!(v["copy_pairs"].as_u64(), Some(2), "{work}");
        for (name, w) in [
            ("lambda", lam),
            ("lambda_angle", ang),
            ("cos_in_mean", cos),
            ("self_mass", mass),
            ("eta", want_eta),
        ] {
            let g = v[name].as_f64().unwrap();
            assert!(
                abs_diff_eq!(g, w, epsilon = tol * w.abs()),
                "{work}: {name} {g:e} vs {w:e}"
            );
        }
        assert!(v["self_mass"].as_f64() > v["self_weight"].as_f64());
    }
    // Kernels directly: no error, the same count.
    let f = forward(x.view(), &Params::new(2.0, 0.0), &Options::default()).unwrap();
    assert_eq!(observables(&f).unwrap().copy_pairs, 2);
    // γ_c from ρ̂ (no --rho): β = ln n/(1 − ρ̂), ρ̂ printed.
    let v = simulate_json(&x, &["--gamma", "crit", "--eta", "none"]).unwrap();
    let rho_hat = v["rho_hat"].as_f64().unwrap();
    assert!(
        abs_diff_eq!(rho_hat, cos, epsilon = 1e-12),
        "{rho_hat} vs {cos}"
    );
    let beta = v["beta"].as_f64().unwrap();
    assert!(abs_diff_eq!(
        beta,
        10f64.ln() / (1.0 - rho_hat),
        epsilon = 1e-12 * beta
    ));
    assert!(abs_diff_eq!(
        v["gamma"].as_f64().unwrap(),
        1.0 / (1.0 - rho_hat),
        epsilon = 1e-12
    ));
    // Every pair a copy: one line, exit 2.
    let same = ndarray::array![[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]];
    let r = simulate_json(&same, &["--beta", "2"]).unwrap_err();
    refused(&r, 2, &["all 3 tokens share one direction", "lambda"]);
    let r = simulate_json(&same, &["--gamma", "crit"]).unwrap_err();
    refused(&r, 2, &["all 3 tokens share one direction"]);
}

/// `sh -c 'ulimit -v KIB; exec critscale simulate ARGS'`.
fn under_ulimit(kib: u64, args: &[&str]) -> Run {
    let cmd = format!("ulimit -v {kib}; exec \"$0\" \"$@\"");
    // Two worker threads, so that the allowance for their stacks and arenas does not depend on
    // the machine.
    command(args)
        .via("sh", &["-c", &cmd])
        .env("RAYON_NUM_THREADS", "2")
        .run()
}

/// Item 10: exact η at n = 40000 needs three 12.8 GB matrices; under a 2 GB address-space limit
/// it is refused at once (exit 2, a hint), not aborted after the forward pass.
#[test]
fn runs_too_large_for_the_memory_are_refused_before_any_work() {
    let start = Instant::now();
    let out = under_ulimit(
        2_000_000,
        &[
            "simulate", "--config", "gaussian", "--n", "40000", "--d", "8", "--rho", "0.3",
            "--gamma", "1", "--eta", "exact",
        ],
    );
    refused(
        &out,
        2,
        &["--eta exact", "n = 40000", "--eta hutchinson", "ulimit -v"],
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    // The forward pass alone of 1e9 tokens is refused too, whatever the limit.
    let out = critscale(&[
        "simulate", "--config", "gaussian", "--n", "1e9", "--d", "512", "--rho", "0.3", "--gamma",
        "1", "--eta", "none",
    ]);
    refused(&out, 2, &["forward pass", "fewer tokens"]);
    // A small run fits under the same limit.
    let out = under_ulimit(
        2_000_000,
        &[
            "simulate", "--config", "gaussian", "--n", "200", "--d", "8", "--rho", "0.3",
            "--gamma", "1", "--json",
        ],
    );
    out.expect_success();
}

/// Item 11 and 12: devices are refused before reading, and a file whose header declares more
/// values than it holds is reported as such.
#[test]
fn token_files_are_read_header_first() {
    let start = Instant::now();
    let out = critscale(&["simulate", "--tokens", "/dev/zero", "--beta", "1"]);
    refused(&out, 2, &["/dev/zero", "not a regular file"]);
    assert!(start.elapsed() < Duration::from_secs(5));
    // A header declaring 1e12 x 5 float64 values followed by 40 bytes.
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 5), }";
    let mut dict = dict.to_owned();
    while !(10 + dict.len() + 1).is_multiple_of(64) {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.extend_from_slice(&[0u8; 40]);
    let path = temp_file(&bytes);
    let out = critscale(&[
        "simulate",
        "--tokens",
        path.to_str().unwrap(),
        "--beta",
        "1",
    ]);
    std::fs::remove_file(&path).ok();
    let line = refused(
        &out,
        2,
        &[
            "declares 1000000000000 x 5 float64 values",
            "holds 40 bytes",
        ],
    );
    assert!(!line.contains("fill whole buffer"), "{line}");
}

/// Fault B: `--probes` is range-checked (exit 2, one line naming the flag, the value and the
/// range) instead of aborting on a failed allocation or panicking on a capacity overflow, and
/// the probes' buffers are part of the memory estimate.
#[test]
fn absurd_probe_counts_are_refused() {
    let args = |p: &'static str| {
        vec![
            "simulate",
            "--config",
            "gaussian",
            "--n",
            "64",
            "--d",
            "8",
            "--rho",
            "0.3",
            "--gamma",
            "1",
            "--eta",
            "hutchinson",
            "--probes",
            p,
        ]
    };
    for p in ["1000000000", "18446744073709551615", "1000001", "1"] {
        let out = under_ulimit(2_000_000, &args(p));
        refused(&out, 2, &["--probes", p, "[2, 1e6]"]);
    }
    // The largest accepted count passes the memory check (its buffers are counted: 16 MB).
    let w = critscale_kernels::memory::Work {
        n: 64,
        d: 8,
        elem: 8,
        block: None,
        eta: critscale_kernels::memory::EtaWork::Hutchinson(1_000_000),
        threads: 2,
    };
    assert!(w.bytes() >= 16_000_000);
    // A huge --block is clamped to n, not an allocation of block² values.
    let out = critscale(&[
        "simulate",
        "--config",
        "gaussian",
        "--n",
        "64",
        "--d",
        "8",
        "--rho",
        "0.3",
        "--gamma",
        "1",
        "--eta",
        "none",
        "--block",
        "18446744073709551615",
        "--json",
    ]);
    out.expect_success();
}

/// Fault G: β ≤ 0 is refused like γ ≤ 0 (exit 2, one line).
#[test]
fn nonpositive_beta_is_refused() {
    for b in ["0", "-1", "-0", "inf", "nan", "1e400"] {
        let out = critscale(&[
            "simulate", "--config", "simplex", "--n", "16", "--d", "16", "--rho", "0.3", "--beta",
            b, "--eta", "none",
        ]);
        refused(&out, 2, &["--beta", b]);
    }
}

/// λ and λ_angle of `x` by the reference model at 256 bits (exact to far more digits than f64).
fn lambda_exact(x: &Array2<f64>, beta: f64, alpha: f64) -> (f64, f64) {
    use critscale_real::{BigReal, Precision, Real};
    let ctx = Precision::new(256).unwrap();
    let xb = x.mapv(|v| BigReal::from_f64(&ctx, v));
    let p = LayerParams::new(
        BigReal::from_f64(&ctx, beta),
        BigReal::from_f64(&ctx, alpha),
    );
    let out = critscale_model::forward(&xb, &p).unwrap();
    let o = critscale_model::observables(&out).unwrap();
    (o.lambda.to_f64(), o.lambda_angle.to_f64())
}

/// λ and λ_angle of the simplex from the closed forms of `critscale-simplex`, at 256 bits.
fn simplex_lambda(n: usize, d: usize, rho: f64, beta: f64) -> (f64, f64) {
    use critscale_real::{BigReal, Precision, Real};
    let ctx = Precision::new(256).unwrap();
    let r = |v: f64| BigReal::from_f64(&ctx, v);
    let sp = SimplexParams::new(
        r(n as f64),
        r(rho),
        Scaling::Beta(r(beta)),
        r(0.0),
        r(1.0),
        Some(r(d as f64)),
    )
    .unwrap();
    let l = SimplexLayer::evaluate(&sp);
    (l.lambda.to_f64(), l.lambda_angle.to_f64())
}

/// Fault C, kernels: on the exact simplex from β = 1e-20 to 1e3, in f64 and f32, the estimated
/// rounding error of λ and λ_angle bounds the actual error (against the closed forms), so that
/// whatever `simulate` prints (estimate ≤ the limit) is within the limit; and moderate β is
/// not refused.
#[test]
fn lambda_error_estimate_bounds_the_error_on_the_simplex() {
    let (n, d, rho) = (16usize, 16usize, 0.3);
    let x: Array2<f64> = critscale_model::simplex(&(), n, d, &rho, &1.0).unwrap();
    // The closed forms against the 256-bit reference model, once.
    let (a, b) = simplex_lambda(n, d, rho, 1e-20);
    let (ea, eb) = lambda_exact(&x, 1e-20, 0.0);
    assert!(
        abs_diff_eq!(a, ea, epsilon = 1e-12 * ea) && abs_diff_eq!(b, eb, epsilon = 1e-12 * eb),
        "{a} {ea} {b} {eb}"
    );
    let x32 = x.mapv(|v| v as f32);
    let mut worst: f64 = 0.0;
    for beta in [
        1e-20, 1e-12, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-3, 0.1, 1.0, 4.0, 30.0, 1e3,
    ] {
        let (lam, ang) = simplex_lambda(n, d, rho, beta);
        let p = Params::new(beta, 0.0);
        let o = observables(&forward(x.view(), &p, &Options::default()).unwrap()).unwrap();
        let o32 = observables(&forward(x32.view(), &p, &Options::default()).unwrap()).unwrap();
        for (dtype, o, extra) in [("f64", o, 0.0), ("f32", o32, 1e-5)] {
            for (what, got, err, want) in [
                ("lambda", o.lambda, o.lambda_error, lam),
                ("lambda_angle", o.lambda_angle, o.lambda_angle_error, ang),
            ] {
                // f32: the tokens' own rounding moves λ by about 1e-6 relative besides.
                let actual = (got - want).abs();
                assert!(
                    actual <= err + extra * want,
                    "{dtype} beta {beta:e} {what}: {got:e} vs {want:e}, error {actual:e} > \
                     estimate {err:e}"
                );
                if dtype == "f64" {
                    worst = worst.max(actual / err);
                    if beta >= 1e-6 {
                        assert!(err <= 1e-6 * got, "{what} refused at beta {beta}: {err:e}");
                    }
                }
            }
        }
    }
    // The estimate is safe but not absurd (calibration: actual/estimate).
    assert!(worst > 1e-4, "{worst}");
}

/// Fault C through the CLI: λ at tiny β is refused (exit 3), never printed as 0, for the simplex
/// and Gaussian tokens; at β = 1e-6 it is printed and matches the closed form to 1e-6.
#[test]
fn lambda_at_tiny_beta_is_refused_not_printed() {
    for beta in ["1e-20", "1e-10"] {
        let out = critscale(&[
            "simulate", "--config", "simplex", "--n", "16", "--d", "16", "--rho", "0.3", "--beta",
            beta, "--eta", "none",
        ]);
        refused(
            &out,
            3,
            &["lambda in f64", "outputs nearly coincide", "raise beta"],
        );
        let out = critscale(&[
            "simulate", "--config", "gaussian", "--n", "16", "--d", "8", "--rho", "0.3", "--beta",
            beta, "--eta", "none", "--dtype", "f32",
        ]);
        refused(&out, 3, &["lambda in f32", "--dtype f64"]);
    }
    let out = critscale(&[
        "simulate", "--config", "simplex", "--n", "16", "--d", "16", "--rho", "0.3", "--beta",
        "1e-6", "--eta", "none", "--json",
    ]);
    out.expect_success();
    let v: serde_json::Value = out.json();
    let (lam, ang) = simplex_lambda(16, 16, 0.3, 1e-6);
    let (got, got_a) = (
        v["lambda"].as_f64().unwrap(),
        v["lambda_angle"].as_f64().unwrap(),
    );
    assert!(
        abs_diff_eq!(got, lam, epsilon = 1e-6 * lam),
        "{got} vs {lam}"
    );
    assert!(
        abs_diff_eq!(got_a, ang, epsilon = 1e-6 * ang),
        "{got_a} vs {ang}"
    );
}

/// Fault D, with the copy tolerance of issue 13 (1 − cos ≤ 1e-12): x_7 = x_3 with entry 0
/// raised by ε·|x_3|. ε = 3e-14 (1 − cos ≈ 5e-28) and 1e-9 are copies, left out of λ; ε = 3e-6
/// (1 − cos ≈ 4e-12, just above the tolerance) is printed and right to 1e-6 against the
/// reference model at 256 bits, the kernels' estimate bounding the actual error; in f32, whose
/// tolerance is 1.2e-10, ε = 3e-5 (1 − cos ≈ 4e-10) is refused with exit 3 naming tokens 3 and 7.
#[test]
fn near_copies_outside_the_tolerance_are_refused_or_right() {
    let base: Array2<f64> = critscale_model::gaussian_almost_simplex(&(), 8, 16, 0.3, 3);
    let beta = 8f64.ln();
    for eps in [3e-14, 1e-9] {
        let mut x = base.clone();
        let row3 = x.row(3).to_owned();
        x.row_mut(7).assign(&row3);
        x[[7, 0]] += eps * row3.dot(&row3).sqrt();
        let (lam, ang, _, _, copies) = reference_without_copies(&x, beta);
        assert_eq!(copies, 1, "eps {eps}");
        let v = simulate_json(&x, &["--gamma", "1", "--eta", "none"]).unwrap();
        assert_eq!(v["copy_pairs"].as_u64(), Some(1));
        let (g, ga) = (
            v["lambda"].as_f64().unwrap(),
            v["lambda_angle"].as_f64().unwrap(),
        );
        assert!(abs_diff_eq!(g, lam, epsilon = 1e-12 * lam), "{g} vs {lam}");
        assert!(
            abs_diff_eq!(ga, ang, epsilon = 1e-12 * ang),
            "{ga} vs {ang}"
        );
    }
    let near = |eps: f64| {
        let mut x = base.clone();
        let row3 = x.row(3).to_owned();
        x.row_mut(7).assign(&row3);
        x[[7, 0]] += eps * row3.dot(&row3).sqrt();
        x
    };
    let x = near(3e-6);
    let (lam, ang) = lambda_exact(&x, beta, 0.0);
    let o = observables(&forward(x.view(), &Params::new(beta, 0.0), &Options::default()).unwrap())
        .unwrap();
    assert_eq!((o.copy_pairs, o.closest_pair), (0, (3, 7)));
    assert!(o.closest_one_minus_cos > COPY_TOLERANCE && o.closest_one_minus_cos < 1e-11);
    assert!(
        abs_diff_eq!(o.lambda, lam, epsilon = o.lambda_error),
        "{} vs {lam}",
        o.lambda
    );
    assert!(
        abs_diff_eq!(o.lambda_angle, ang, epsilon = o.lambda_angle_error),
        "{} vs {ang}",
        o.lambda_angle
    );
    let v = simulate_json(&x, &["--gamma", "1", "--eta", "none"]).unwrap();
    let (g, ga) = (
        v["lambda"].as_f64().unwrap(),
        v["lambda_angle"].as_f64().unwrap(),
    );
    assert!(abs_diff_eq!(g, lam, epsilon = 1e-6 * lam), "{g} vs {lam}");
    assert!(abs_diff_eq!(ga, ang, epsilon = 1e-6 * ang), "{ga} vs {ang}");
    let r = simulate_json(
        &near(3e-5),
        &["--gamma", "1", "--eta", "none", "--dtype", "f32"],
    )
    .unwrap_err();
    refused(&r, 3, &["tokens 3 and 7", "nearly share a direction"]);
}
