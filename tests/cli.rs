//! The `critscale` binary: output of `eval`, and exit code 2 with one line for every bad input.

use super::support::{Run, critscale};

fn eval(extra: &[&str]) -> Run {
    let mut args = vec!["eval"];
    args.extend_from_slice(extra);
    critscale(&args)
}

#[test]
fn eval_table_snapshot() {
    let out = eval(&[
        "--n", "1e6", "--rho", "0.3", "--gamma", "crit", "--d", "1e6",
    ]);
    out.expect_success();
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn eval_json_is_one_object_of_decimal_strings() {
    let out = eval(&["--n", "1e300", "--rho", "0.3", "--gamma", "0.1", "--json"]);
    out.expect_success();
    let value: serde_json::Value = out.json();
    let object = value.as_object().unwrap();
    assert_eq!(object["backend"], "f64");
    assert_eq!(object["regime"], "subcritical");
    for key in [
        "self_weight",
        "cos_out",
        "lambda",
        "lambda_angle",
        "gamma_c",
    ] {
        let text = object[key].as_str().unwrap();
        let parsed: f64 = text.parse().unwrap();
        assert!(parsed.is_finite(), "{key} = {text}");
    }
    // λ ≈ n^{2κ}/ρ = 1e-558/0.3 is below f64's range and printed from its logarithm.
    let lambda = object["lambda"].as_str().unwrap();
    assert!(lambda.ends_with("e-558"), "{lambda}");
    assert!(!object.contains_key("eta"));
}

#[test]
fn eval_reports_eta_only_with_d() {
    let out = eval(&[
        "--n", "64", "--rho", "0.5", "--beta", "3", "--d", "80", "--json",
    ]);
    let value: serde_json::Value = out.json();
    assert!(value["eta"].as_str().unwrap().parse::<f64>().unwrap() > 0.0);
}

#[test]
fn bad_inputs_exit_2_with_one_line_naming_the_parameter() {
    let cases: &[(&[&str], &str)] = &[
        (&["--n", "1", "--rho", "0.3", "--gamma", "1"], "--n"),
        (&["--n", "1.9", "--rho", "0.3", "--gamma", "1"], "--n"),
        (&["--n", "ten", "--rho", "0.3", "--gamma", "1"], "--n"),
        (&["--n", "1e400", "--rho", "0.3", "--gamma", "1"], "--n"),
        (&["--n", "nan", "--rho", "0.3", "--gamma", "1"], "--n"),
        (&["--n", "10", "--rho", "1", "--gamma", "1"], "--rho"),
        (&["--n", "10", "--rho", "-0.2", "--gamma", "1"], "--rho"),
        (&["--n", "10", "--rho", "NaN", "--gamma", "1"], "--rho"),
        (&["--n", "10", "--rho", "0.3", "--gamma", "0"], "--gamma"),
        (&["--n", "10", "--rho", "0.3", "--gamma", "-2"], "--gamma"),
        (&["--n", "10", "--rho", "0.3", "--gamma", "inf"], "--gamma"),
        (&["--n", "10", "--rho", "0.3", "--gamma", "1,5"], "--gamma"),
        (&["--n", "10", "--rho", "0.3", "--beta", "-1"], "--beta"),
        (
            &["--n", "10", "--rho", "0.3", "--gamma", "1", "--q", "0"],
            "--q",
        ),
        (
            &["--n", "10", "--rho", "0.3", "--gamma", "1", "--q", "-inf"],
            "--q",
        ),
        (
            &[
                "--n", "10", "--rho", "0.3", "--gamma", "1", "--alpha", "-0.1",
            ],
            "--alpha",
        ),
        (
            &["--n", "10", "--rho", "0.3", "--gamma", "1", "--d", "9"],
            "--d",
        ),
        (
            &["--n", "10", "--rho", "0.3", "--gamma", "1", "--d", "x"],
            "--d",
        ),
    ];
    for (args, flag) in cases {
        let out = eval(args);
        let stderr = &out.stderr;
        out.expect_exit(2);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.contains(flag), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_parameter_is_named_with_what_requires_it() {
    // Each case: the arguments, then words the one line must contain (the parameter(s) and what
    // requires them), and no empty value quoted as if it had been given.
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["eval", "--n", "10", "--rho", "0.3"],
            &["--gamma", "--beta"],
        ),
        (
            &["simulate", "--config", "gaussian", "--n", "10", "--d", "3"],
            &["--gamma", "--beta"],
        ),
        (
            &[
                "simulate", "--config", "gaussian", "--n", "10", "--d", "3", "--gamma", "1",
            ],
            &["missing --rho", "--config"],
        ),
        (
            &[
                "simulate", "--config", "gaussian", "--d", "3", "--rho", "0.1", "--gamma", "1",
            ],
            &["missing --n", "--config"],
        ),
        (
            &[
                "simulate", "--config", "gaussian", "--n", "10", "--rho", "0.1", "--gamma", "1",
            ],
            &["missing --d", "--config"],
        ),
        (
            &["simulate", "--n", "10", "--gamma", "1"],
            &["missing --tokens or --config"],
        ),
    ];
    for (args, words) in cases {
        let out = critscale(args);
        let stderr = &out.stderr;
        out.expect_exit(2);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        for word in *words {
            assert!(stderr.contains(word), "{args:?}: {stderr}");
        }
        assert!(!stderr.contains("''"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn non_positive_rho_is_evaluated_with_a_warning() {
    let out = eval(&["--n", "10", "--rho", "-0.05", "--gamma", "1", "--json"]);
    out.expect_success();
    let stderr = &out.stderr;
    assert!(
        stderr.starts_with("warning:") && stderr.contains("rho"),
        "{stderr}"
    );
}

#[test]
fn help_states_the_report_default_out_and_the_raw_simulate_seed() {
    let report = critscale(&["report", "--help"]);
    report.expect_success();
    assert!(
        report.stdout.contains(critscale::report::DEFAULT_OUT),
        "{}",
        report.stdout
    );
    let simulate = critscale(&["simulate", "--help"]);
    simulate.expect_success();
    assert!(
        simulate.stdout.contains("gaussian_grid.json"),
        "{}",
        simulate.stdout
    );
}
