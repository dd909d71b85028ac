//! `critscale diagnose` through the binary (issue 13): the table with its description column,
//! the JSON fields, the files of `--out` (and the refusal to replace a directory critscale did
//! not write), and exit code 2 with one line for bad input.

use super::kernels::temp_file;
use super::support::{Run, critscale};
use critscale_tokens::npy::{NpyDType, to_npy_bytes};
use ndarray::Array2;
use std::path::{Path, PathBuf};

/// 64 Gaussian tokens (d = 32, ρ = 0.3) of which rows 48…63 repeat rows 0…15 (row 63 rescaled):
/// 16 copy pairs among 2016, 32 rows with a copy, m = 48.
fn tokens_with_repeats() -> Array2<f64> {
    let mut x = critscale_model::gaussian_almost_simplex::<f64>(&(), 64, 32, 0.3, 5);
    for i in 48..64 {
        let scale = if i == 63 { 2.5 } else { 1.0 };
        let src = x.row(i - 48).to_owned();
        x.row_mut(i).assign(&(&src * scale));
    }
    x
}

fn file(x: &Array2<f64>) -> PathBuf {
    temp_file(&to_npy_bytes(x, NpyDType::F64))
}

fn diagnose(path: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["diagnose", "--tokens", path.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    critscale(&args)
}

fn scratch(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("critscale-diagnose-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_table_has_a_description_column_and_every_prediction() {
    let path = file(&tokens_with_repeats());
    let out = diagnose(&path, &["--gamma", "0.2:3:15"]);
    out.expect_success();
    let text = &out.stdout;
    assert!(text.starts_with("quantity"), "{text}");
    for needle in [
        "description",
        "distinct_m               48",
        "rho_hat",
        "gamma_star_lambda",
        "gamma_star_self",
        "simplex_crossing",
        "m_type_simplex_crossing",
        "self_law_crossing",
        "gap_scale_median",
        "mean cosine over non-copy pairs",
        "lambda_angle",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // 15 sweep lines after the header.
    let sweep = text.split("\n\n").nth(1).unwrap();
    assert_eq!(sweep.lines().count(), 16, "{sweep}");
    assert!(!text.contains("NaN"), "{text}");
    let _ = std::fs::remove_file(path);
}

#[test]
fn json_has_the_fields_of_the_issue() {
    let path = file(&tokens_with_repeats());
    let out = diagnose(&path, &["--gamma", "0.2:3:15", "--json"]);
    out.expect_success();
    let v = out.json();
    let f = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}: {}", v[k]));
    approx::assert_abs_diff_eq!(f("copy_pair_fraction"), 16.0 / 2016.0, epsilon = 1e-15);
    approx::assert_abs_diff_eq!(f("rows_with_copy_share"), 0.5, epsilon = 1e-15);
    assert_eq!(v["distinct_m"], 48);
    approx::assert_abs_diff_eq!(
        f("heaps_exponent"),
        48f64.ln() / 64f64.ln(),
        epsilon = 1e-15
    );
    assert!((0.2..0.4).contains(&f("rho_hat")), "{}", v["rho_hat"]);
    for k in ["gamma_star_lambda", "gamma_star_self"] {
        let g = f(k);
        assert!((0.2..3.0).contains(&g), "{k} = {g}");
    }
    let p = v["predictions"].as_object().unwrap();
    for k in [
        "gamma_c_hat",
        "simplex_crossing",
        "m_type_simplex_crossing",
        "self_law_crossing",
        "self_law_mean_logodds",
        "gap_scale_median",
    ] {
        assert!(p[k].as_f64().is_some_and(f64::is_finite), "{k}: {}", p[k]);
    }
    let sweep = v["sweep"].as_array().unwrap();
    assert_eq!(sweep.len(), 15);
    assert!(sweep[0]["lambda"].as_f64().is_some() && sweep[0]["eta"].is_null());
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 64);
    assert_eq!(rows[63]["class"], rows[15]["class"]);
    approx::assert_abs_diff_eq!(rows[0]["share"].as_f64().unwrap(), 2.0 / 64.0);
    approx::assert_abs_diff_eq!(rows[20]["share"].as_f64().unwrap(), 1.0 / 64.0);
    let _ = std::fs::remove_file(path);
}

#[test]
fn exact_eta_is_a_sweep_column_when_asked() {
    let x = critscale_model::gaussian_almost_simplex::<f64>(&(), 24, 8, 0.3, 2);
    let path = file(&x);
    let out = diagnose(&path, &["--gamma", "0.5,1,2", "--eta", "exact", "--json"]);
    let _ = std::fs::remove_file(path);
    out.expect_success();
    let v = out.json();
    for p in v["sweep"].as_array().unwrap() {
        let eta = p["eta"].as_f64().unwrap();
        assert!(eta > 0.0 && eta < 1.0, "{eta}");
    }
    assert!(v["eta_note"].as_str().is_some());
}

#[test]
fn out_writes_json_csv_and_figures_and_refuses_foreign_directories() {
    let root = scratch("out");
    let dir = root.join("diag");
    let path = file(&tokens_with_repeats());
    let out = diagnose(
        &path,
        &["--gamma", "0.2:3:8", "--out", dir.to_str().unwrap()],
    );
    out.expect_success();
    for name in [
        ".critscale-diagnose",
        "diagnose.json",
        "summary.csv",
        "sweep.csv",
        "rows.csv",
        "lambda.svg",
        "self_mass.svg",
        "gap_scale.svg",
    ] {
        assert!(dir.join(name).is_file(), "{name} missing");
    }
    let sweep = std::fs::read_to_string(dir.join("sweep.csv")).unwrap();
    assert!(
        sweep.starts_with("gamma,beta,lambda,lambda_angle,self_mass"),
        "{sweep}"
    );
    assert_eq!(sweep.lines().count(), 9);
    assert_eq!(
        std::fs::read_to_string(dir.join("rows.csv"))
            .unwrap()
            .lines()
            .count(),
        65
    );
    assert!(
        std::fs::read_to_string(dir.join("lambda.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    // Its own directory is replaced; a file it did not write makes it refuse.
    diagnose(
        &path,
        &["--gamma", "0.2:3:8", "--out", dir.to_str().unwrap()],
    )
    .expect_success();
    std::fs::write(dir.join("mine.txt"), "keep").unwrap();
    let out = diagnose(
        &path,
        &["--gamma", "0.2:3:8", "--out", dir.to_str().unwrap()],
    );
    out.expect_exit(2);
    assert_eq!(out.stderr.trim_end().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("mine.txt"), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.txt")).unwrap(),
        "keep"
    );
    // A directory of someone else's files is refused before any work.
    let foreign = root.join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "precious").unwrap();
    let out = diagnose(&path, &["--out", foreign.to_str().unwrap()]);
    out.expect_exit(2);
    assert_eq!(
        std::fs::read_to_string(foreign.join("notes.txt")).unwrap(),
        "precious"
    );
    std::fs::remove_dir_all(&root).unwrap();
    let _ = std::fs::remove_file(path);
}

#[test]
fn bad_input_exits_2_with_one_line() {
    let good = file(&tokens_with_repeats());
    let mut zero = tokens_with_repeats();
    zero.row_mut(7).fill(0.0);
    let mut same = Array2::<f64>::zeros((5, 3));
    same.column_mut(0).fill(1.0);
    let missing = std::env::temp_dir().join("critscale-diagnose-no-such-file.npy");
    let cases: Vec<(PathBuf, Vec<&str>, &str)> = vec![
        (good.clone(), vec!["--gamma", "0:1:5"], "--gamma"),
        (good.clone(), vec!["--gamma", "2,1"], "strictly increasing"),
        (good.clone(), vec!["--gamma", "1:2:x"], "--gamma"),
        (good.clone(), vec!["--eta", "maybe"], "--eta"),
        (file(&zero), vec![], "token 7 is the zero vector"),
        (file(&same), vec![], "share one direction"),
        (missing, vec![], "critscale-diagnose-no-such-file.npy"),
    ];
    for (path, extra, needle) in cases {
        let out = diagnose(&path, &extra);
        out.expect_exit(2);
        let err = out.stderr.trim_end();
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(
            err.starts_with("error: ") && err.contains(needle),
            "{needle}: {err}"
        );
        assert!(out.stdout.is_empty() && !err.contains("panicked"), "{err}");
        let _ = std::fs::remove_file(path);
    }
}

/// The numpy reference of THEORY §10 on the real fixture (`tests/reference/real_reference.py`,
/// float64 from the float16 rows, no centring): the prefixes n = 256, 512 of the context and
/// n = 256 of the distinct control. Counts and shares are exact; ρ̂, the sweep and the gap
/// quartiles agree to rounding (1e-10 relative: both sum n² terms in different orders and the
/// kernels' centring moves the last bits); the reference bisects to 1e-6 and this crate to 1e-4,
/// so the crossings agree within 1e-4 + 1e-6 and the closed-form predictions within 1e-6.
#[test]
fn the_real_fixture_matches_the_numpy_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("tests/data/real_reference.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    for (file, key, n) in [
        ("context.npy", "context", 256usize),
        ("context.npy", "context", 512),
        ("distinct.npy", "distinct_control", 256),
    ] {
        let want = reference[key]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["n"] == n)
            .unwrap();
        let tokens =
            critscale_tokens::load(&root.join("tests/data/real").join(file), None, None).unwrap();
        let x = tokens.x.slice(ndarray::s![..n, ..]).to_owned();
        let sweep_gammas: Vec<f64> = want["sweep"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["gamma"].as_f64().unwrap())
            .collect();
        let config = critscale_diagnose::Config {
            gammas: Some(sweep_gammas),
            ..Default::default()
        };
        let got = critscale_diagnose::diagnose(x.view(), &config, &mut |_, _, _| {}).unwrap();
        let what = format!("{file} n = {n}");
        let close = |name: &str, g: f64, w: &serde_json::Value, tol: f64| {
            let w = w
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: {name} missing"));
            assert!(
                (g - w).abs() <= tol * w.abs().max(1.0),
                "{what}: {name} {g} vs {w} (tol {tol:e})"
            );
        };
        assert_eq!(
            got.distinct_m,
            want["distinct_m"].as_u64().unwrap() as usize,
            "{what}"
        );
        close(
            "rows_with_copy_share",
            got.rows_with_copy_share,
            &want["rows_with_copy_share"],
            1e-15,
        );
        close(
            "copy_pair_fraction",
            got.copy_pair_fraction,
            &want["copy_pair_fraction"],
            1e-15,
        );
        close(
            "heaps_exponent",
            got.heaps_exponent,
            &want["heaps_exponent"],
            1e-15,
        );
        close("rho_hat", got.rho_hat, &want["rho_hat"], 1e-12);
        let p = &got.predictions;
        let wp = &want["predictions"];
        for (name, g, tol) in [
            ("gamma_c_hat", p.gamma_c_hat, 1e-12),
            ("self_law_mean_logodds", p.self_law_mean_logodds, 1e-12),
            ("self_law_mean_gamma", p.self_law_mean_gamma, 1e-12),
            ("m_type_gamma_c", p.m_type_gamma_c, 1e-12),
            ("equal_multiplicity_self", p.equal_multiplicity_self, 1e-12),
            ("gap_scale_q1", p.gap_scale_q1, 1e-10),
            ("gap_scale_median", p.gap_scale_median, 1e-10),
            ("gap_scale_q3", p.gap_scale_q3, 1e-10),
            ("self_law_crossing", p.self_law_crossing.unwrap(), 1e-6),
            ("simplex_crossing", p.simplex_crossing.unwrap(), 1e-6),
            (
                "m_type_simplex_crossing",
                p.m_type_simplex_crossing.unwrap(),
                1e-6,
            ),
        ] {
            close(name, g, &wp[name], tol);
        }
        for (g, w) in got.sweep.iter().zip(want["sweep"].as_array().unwrap()) {
            for (name, v) in [
                ("lambda", g.lambda),
                ("lambda_angle", g.lambda_angle),
                ("self_mass", g.self_mass),
                ("self_weight", g.self_weight),
                ("cos_out_mean", g.cos_out_mean),
                ("support", g.support),
                ("entropy", g.entropy),
            ] {
                close(&format!("{name} at gamma {}", g.gamma), v, &w[name], 1e-10);
            }
        }
        let tol = critscale_diagnose::XTOL + 1e-6;
        close(
            "gamma_star_self",
            got.gamma_star_self.unwrap(),
            &want["gamma_star_self"],
            tol,
        );
        close(
            "gamma_star_lambda",
            got.gamma_star_lambda.unwrap(),
            &want["gamma_star_lambda"],
            tol,
        );
    }
}

/// The real context read five ways gives the same diagnosis to the last bit: the float16
/// `.npy`, the table with ids, a float32 and a float64 `.npy` and an F16 tensor chosen by name
/// in a `.safetensors` file (f16 values are exact in every one of these).
#[test]
fn every_token_format_gives_the_same_answers() {
    use critscale_tokens::StoredDtype;
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/real");
    let context = data.join("context.npy");
    let x = critscale_tokens::load(&context, None, None).unwrap().x;
    let f32_file = temp_file(&to_npy_bytes(&x, NpyDType::F32));
    let f64_file = file(&x);
    let other = Array2::<f64>::ones((2, 3));
    let st = std::env::temp_dir().join(format!(
        "critscale-diagnose-{}.safetensors",
        std::process::id()
    ));
    std::fs::write(
        &st,
        critscale_tokens::to_safetensors_bytes(&[
            ("embed", &x, StoredDtype::F16),
            ("other", &other, StoredDtype::F32),
        ]),
    )
    .unwrap();
    let grid = ["--gamma", "0.2:1.5:14", "--json"];
    let run = |path: &Path, extra: &[&str]| {
        let mut args: Vec<&str> = extra.to_vec();
        args.extend_from_slice(&grid);
        let out = diagnose(path, &args);
        out.expect_success();
        let mut v = out.json();
        let source = v.as_object_mut().unwrap().remove("source").unwrap();
        (v, source.as_str().unwrap().to_owned())
    };
    let (want, source) = run(&context, &[]);
    assert!(source.contains("f16"), "{source}");
    assert_eq!(want["n"], 4096);
    assert_eq!(want["distinct_m"], 979);
    let ids = data.join("ids.npy");
    for (path, extra) in [
        (data.join("table.npy"), vec!["--ids", ids.to_str().unwrap()]),
        (f32_file.clone(), vec![]),
        (f64_file.clone(), vec![]),
        (st.clone(), vec!["--tensor", "embed"]),
    ] {
        let (got, source) = run(&path, &extra);
        assert!(got == want, "{source}: differs");
    }
    // Several tensors and no --tensor: one line listing them.
    let out = diagnose(&st, &[]);
    out.expect_exit(2);
    assert!(out.stderr.contains("embed") && out.stderr.trim_end().lines().count() == 1);
    for f in [f32_file, f64_file, st] {
        let _ = std::fs::remove_file(f);
    }
}

/// 20000 distinct directions need a 3.2 GB matrix of 1 − cos: under a 1 GB address-space limit
/// the run is refused before it is allocated (exit 2, one line with the estimate and the limit).
#[test]
fn too_little_memory_is_refused_before_the_gram_matrix() {
    let x = critscale_model::gaussian_almost_simplex::<f64>(&(), 20_000, 2, 0.1, 4);
    let path = file(&x);
    let cmd = "ulimit -v 1000000; exec \"$0\" \"$@\"";
    let out = super::support::command(&["diagnose", "--tokens", path.to_str().unwrap(), "--quiet"])
        .via("sh", &["-c", cmd])
        .env("RAYON_NUM_THREADS", "2")
        .run();
    let _ = std::fs::remove_file(&path);
    out.expect_exit(2);
    let err = out.stderr.trim_end();
    assert_eq!(err.lines().count(), 1, "{err}");
    for needle in ["1 - cos", "20000 distinct directions", "GB", "ulimit -v"] {
        assert!(err.contains(needle), "missing {needle:?} in {err}");
    }
}
