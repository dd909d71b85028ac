//! `eval` prints nothing it cannot vouch for (issue 10, items 5, 6 and 12): the f64 precision
//! policy covers every printed number, decimal exponents are exact at any size, enclosures of
//! positive quantities that leave the exponent range keep a positive lower end, and values a
//! backend cannot hold are refused with a message that says so.
//!
//! Values come from tests/data/eval_extremes.json (tests/reference/eval_extremes.py: mpmath at
//! 400 digits, inputs read as exact decimals; positive quantities as natural logarithms, so that
//! a printed `m e k` is compared through ln m + k ln 10 at any exponent).

use super::support::{Run, critscale};
use approx::abs_diff_eq;
use critscale::eval::{EvalArgs, EvalError, EvalOptions, EvalReport, run};
use critscale_real::{BigReal, Precision, Real};
use serde_json::Value;

fn reference() -> Value {
    serde_json::from_str(include_str!("data/eval_extremes.json")).expect("reference JSON")
}

/// A precision that reads `digits` decimal digits exactly, with 256 bits to spare.
fn bits_for(text: &str) -> Precision {
    Precision::new(256 + 4 * text.len() as u64).unwrap()
}

/// ln of a printed positive number `m e k`, for any size of k.
fn ln_of(text: &str) -> BigReal {
    let (m, k) = text.split_once('e').unwrap_or((text, "0"));
    let p = bits_for(text);
    let m = BigReal::parse_decimal(&p, m).unwrap();
    assert!(m > BigReal::zero(&p), "{text} is not positive");
    let k = BigReal::parse_decimal(&p, k).unwrap();
    m.ln() + &(k * &BigReal::from_f64(&p, 10.0).ln())
}

/// A printed signed number (exponents of up to nine digits).
fn value_of(text: &str) -> BigReal {
    BigReal::parse_decimal(&bits_for(text), text).unwrap()
}

fn ref_big(text: &str) -> BigReal {
    let p = Precision::new(1024 + 4 * text.len() as u64).unwrap();
    BigReal::parse_decimal(&p, text).unwrap()
}

fn number<'a>(json: &'a Value, name: &str) -> &'a str {
    json[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name}: {json}"))
}

/// |printed − reference| for a positive field in the log domain (a relative error of the value),
/// for a signed field relative to max(1, |reference|).
fn error(name: &str, text: &str, point: &Value) -> f64 {
    if let Some(ln) = point["ln"][name].as_str() {
        (ln_of(text) - &ref_big(ln)).abs().to_f64()
    } else {
        let reference = ref_big(point["value"][name].as_str().unwrap());
        let scale = reference.abs().max(&BigReal::one(&reference.ctx()));
        ((value_of(text) - &reference).abs() / &scale).to_f64()
    }
}

/// True when the printed range [lo, hi] contains the reference.
fn contains(name: &str, range: &Value, point: &Value) -> bool {
    let (lo, hi) = (range["lo"].as_str().unwrap(), range["hi"].as_str().unwrap());
    // Slack for the 90-digit references and the rounding of ln of the printed ends (1e-80
    // relative: far below the width of any 256-bit enclosure, 1e-76 relative at least).
    let slack = |r: &BigReal| r.abs().max(&BigReal::one(&r.ctx())) * &ref_big("1e-80");
    if let Some(ln) = point["ln"][name].as_str() {
        let r = ref_big(ln);
        let eps = slack(&r);
        // A positive quantity: the lower end must be positive (ln_of asserts it).
        ln_of(lo) <= r.clone() + &eps && r - &eps <= ln_of(hi)
    } else {
        let r = ref_big(point["value"][name].as_str().unwrap());
        let eps = slack(&r);
        value_of(lo) <= r.clone() + &eps && r - &eps <= value_of(hi)
    }
}

fn args_of(point: &Value) -> EvalArgs {
    EvalArgs {
        n: point["n"].as_str().unwrap().to_owned(),
        rho: point["rho"].as_str().unwrap().to_owned(),
        gamma: point["gamma"].as_str().map(str::to_owned),
        beta: point["beta"].as_str().map(str::to_owned),
        alpha: "0".to_owned(),
        q: "1".to_owned(),
        d: None,
    }
}

fn fields(point: &Value) -> Vec<String> {
    let ln = point["ln"].as_object().unwrap().keys();
    let value = point["value"].as_object().unwrap().keys();
    ln.chain(value).cloned().collect()
}

/// Every printed number of a report against the reference: within `tol` (numbers) or
/// containing it (ranges). Returns the worst error, for the message.
fn check_report(report: &EvalReport, point: &Value, tol: f64, what: &str) {
    let json = report.to_json();
    for name in fields(point) {
        let item = &json[name.as_str()];
        match item {
            Value::String(text) => {
                let err = error(&name, text, point);
                // tol = 0: every printed digit must be right (error below one unit of the last
                // printed digit), checked for the positive quantities; the signed ones (κ may
                // be 0 exactly) to 1e-60 of max(1, |value|).
                let digits = text
                    .split_once('e')
                    .map_or(text.as_str(), |(m, _)| m)
                    .trim_start_matches(['-', '0', '.'])
                    .chars()
                    .filter(char::is_ascii_digit)
                    .count() as i32;
                let tol = match (tol, point["ln"][name.as_str()].is_string()) {
                    (0.0, true) => 10f64.powi(1 - digits.max(1)),
                    (0.0, false) => 1e-60,
                    (tol, _) => tol,
                };
                assert!(
                    err <= tol,
                    "{what} {point_id}: {name} = {text} is off by {err:e} (tol {tol:e}, backend {})",
                    report.backend,
                    point_id = id(point)
                );
            }
            Value::Object(_) => assert!(
                contains(&name, item, point),
                "{what} {}: {name} = {item} misses the reference",
                id(point)
            ),
            other => panic!("{what} {}: {name} = {other}", id(point)),
        }
    }
}

fn grid(data: &Value) -> impl Iterator<Item = &Value> {
    data["points"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["grid"].as_bool().unwrap())
}

fn id(point: &Value) -> String {
    format!(
        "n={} rho={} gamma={} beta={}",
        point["n"], point["rho"], point["gamma"], point["beta"]
    )
}

/// Item 5: f64 with the default policy prints only numbers within 1e-12 of the exact values
/// (escalating where f64 cannot), or refuses (exit 3); never a wrong number.
#[test]
fn f64_policy_vouches_for_every_printed_number_on_the_extreme_grid() {
    let data = reference();
    for point in grid(&data) {
        match run(&args_of(point), &EvalOptions::default()) {
            Ok(report) => check_report(&report, point, 1.0001e-12, "f64"),
            Err(EvalError::Bad(bad)) => {
                assert!(
                    !point["f64_range"].as_bool().unwrap(),
                    "{}: {bad}",
                    id(point)
                );
                assert!(bad.requirement.contains("--precision"), "{bad}");
            }
            Err(refused) => {
                // Exit 3 is honest; make sure it is not the common case of the f64 range.
                let text = refused.to_string();
                assert!(!text.is_empty());
            }
        }
    }
}

/// Items 5 and 6: at 256 bits every printed digit is right (exact exponents, only the digits an
/// enclosure at the same precision vouches for), and every enclosure contains the exact value
/// with a positive lower end for positive quantities.
#[test]
fn big_and_enclosures_are_right_on_the_extreme_grid() {
    let data = reference();
    for point in grid(&data) {
        let big = EvalOptions {
            precision: Some(256),
            ..EvalOptions::default()
        };
        match run(&args_of(point), &big) {
            Ok(report) => check_report(&report, point, 0.0, "256 bits"),
            Err(err) => panic!("256 bits {}: {err}", id(point)),
        }
        let enclose = EvalOptions {
            enclose: true,
            ..EvalOptions::default()
        };
        match run(&args_of(point), &enclose) {
            Ok(report) => check_report(&report, point, 0.0, "enclose"),
            Err(err) => panic!("enclose {}: {err}", id(point)),
        }
        // The smallest precision: still enclosures (or exit 3 when the exponent is not fixed),
        // never a NaN exponent (BigReal::from_i64 below 64 bits was NaN).
        let narrow = EvalOptions {
            enclose: true,
            precision: Some(53),
            ..EvalOptions::default()
        };
        match run(&args_of(point), &narrow) {
            Ok(report) => check_report(&report, point, 0.0, "enclose 53 bits"),
            Err(err @ EvalError::Unprintable { .. }) => {
                assert!(err.to_string().contains("--precision"))
            }
            Err(err) => panic!("enclose 53 bits {}: {err}", id(point)),
        }
    }
}

fn point(n: &str, rho: &str, kind: &str, scale: &str) -> Value {
    reference()["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["n"] == n && p["rho"] == rho && p[kind] == scale)
        .unwrap()
        .clone()
}

fn json_of(out: &Run) -> Value {
    out.expect_success().json()
}

/// Item 5, first reproducer: in f64 1 − λ at n = 1e300, γ = 1e6 came out 5e-8 wrong with exit 0.
#[test]
fn huge_gamma_in_f64_is_escalated_not_printed_wrong() {
    let out = critscale(&[
        "eval", "--n", "1e300", "--rho", "0.3", "--gamma", "1e6", "--json",
    ]);
    let json = json_of(&out);
    let p = point("1e300", "0.3", "gamma", "1e6");
    let text = number(&json, "one_minus_lambda");
    assert!(error("one_minus_lambda", text, &p) <= 1e-12, "{text}");
    // At n = 64 the mantissa is not a round number: f64 cannot give 1e-12, so it escalates.
    let out = critscale(&[
        "eval", "--n", "64", "--rho", "0.3", "--gamma", "1e6", "--json",
    ]);
    let json = json_of(&out);
    let text = number(&json, "one_minus_lambda");
    let p = point("64", "0.3", "gamma", "1e6");
    assert!(error("one_minus_lambda", text, &p) <= 1e-12, "{text}");
    assert!(
        json["backend"].as_str().unwrap().contains("escalated"),
        "{json}"
    );
}

/// Item 5, second reproducer: at 256 bits the exponent of 1 − λ came from an f64 (off by 10 at
/// β = 1e18, i64::MIN at β = 1e50).
#[test]
fn exponents_are_exact_at_256_bits() {
    // Exponents from mpmath (tests/reference/eval_extremes.py's logarithms, at 400 digits).
    for (beta, exponent) in [
        ("1e18", "-304006137332276278"),
        (
            "1e50",
            "-30400613733227627935579024324162355760607790406256",
        ),
    ] {
        let out = critscale(&[
            "eval",
            "--n",
            "64",
            "--rho",
            "0.3",
            "--beta",
            beta,
            "--precision",
            "256",
            "--json",
        ]);
        let json = json_of(&out);
        let text = number(&json, "one_minus_lambda");
        let p = point("64", "0.3", "beta", beta);
        assert!(error("one_minus_lambda", text, &p) <= 1e-20, "{text}");
        assert_eq!(text.split_once('e').unwrap().1, exponent, "{text}");
    }
}

/// β at the top of f64's range: 1 − λ ≈ 10^(−5.2e307) is printed exactly (at 2048 bits, where
/// the logarithm fixes its 308-digit exponent), not refused for want of precision.
#[test]
fn beta_at_the_top_of_f64_escalates_to_an_exact_exponent() {
    let out = critscale(&[
        "eval", "--n", "64", "--rho", "0.3", "--beta", "1.7e308", "--json",
    ]);
    let json = json_of(&out);
    let text = number(&json, "one_minus_lambda");
    let p = point("64", "0.3", "beta", "1.7e308");
    assert!(error("one_minus_lambda", text, &p) <= 1e-12, "{text}");
}

/// Item 6: the enclosure of 1 − λ ≈ 4e-912018411 was [0, 0].
#[test]
fn enclosure_of_a_value_below_the_exponent_range_is_positive() {
    let out = critscale(&[
        "eval",
        "--n",
        "64",
        "--rho",
        "0.3",
        "--beta",
        "3e9",
        "--enclose",
        "--json",
    ]);
    let json = json_of(&out);
    let range = &json["one_minus_lambda"];
    assert!(
        range["lo"].as_str().unwrap().starts_with("4.009167803532"),
        "{range}"
    );
    assert!(
        range["lo"].as_str().unwrap().ends_with("e-912018411"),
        "{range}"
    );
    assert!(contains(
        "one_minus_lambda",
        range,
        &point("64", "0.3", "beta", "3e9")
    ));
}

/// A value whose logarithm does not fix its exponent at the chosen precision is refused with
/// exit 3 and the precision that would do, not printed.
#[test]
fn an_undetermined_exponent_is_refused_with_exit_3() {
    let out = critscale(&[
        "eval",
        "--n",
        "64",
        "--rho",
        "0.3",
        "--beta",
        "1e50",
        "--precision",
        "64",
    ]);
    let stderr = &out.stderr;
    out.expect_exit(3);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--precision 256"), "{stderr}");
    assert!(out.stdout.is_empty());
}

/// Item 12: a value the backend rounds out of the valid range is reported as rounding, with the
/// precision that holds it; a value invalid in itself keeps the plain message.
#[test]
fn values_f64_cannot_hold_are_named_as_such() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["--rho", "0.999999999999999999999999999999", "--gamma", "1"],
            "--rho",
            "--precision 128",
        ),
        (
            &["--rho", "0.3", "--gamma", "1e-400"],
            "--gamma",
            "--precision 128",
        ),
        (
            &["--rho", "0.3", "--beta", "1e400"],
            "--beta",
            "--precision 128",
        ),
        (
            &["--rho", "0.3", "--gamma", "1", "--q", "1e-330"],
            "--q",
            "--precision 128",
        ),
    ];
    for (extra, flag, hint) in cases {
        let mut args = vec!["eval", "--n", "10"];
        args.extend_from_slice(extra);
        let out = critscale(&args);
        let stderr = &out.stderr;
        out.expect_exit(2);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(hint) && stderr.contains("f64"),
            "{args:?}: {stderr}"
        );
    }
    let out = critscale(&["eval", "--n", "1e400", "--rho", "0.3", "--gamma", "1"]);
    let stderr = &out.stderr;
    assert!(stderr.contains("--precision 128"), "{stderr}");
    // Invalid at any precision: no suggestion to raise it.
    let out = critscale(&["eval", "--n", "10", "--rho", "1", "--gamma", "1"]);
    let stderr = &out.stderr;
    out.expect_exit(2);
    assert!(!stderr.contains("--precision"), "{stderr}");
}

/// Item 12 for `schemes`: options f64 cannot hold or that would print a non-finite value are
/// refused up front with exit 2 and one line naming the real reason.
#[test]
fn schemes_refuses_what_f64_cannot_hold() {
    let cases: &[(&[&str], &str, &str)] = &[
        (&["--n", "1e1000"], "--n", "beyond the range of f64"),
        (&["--beta0", "5e-324"], "--beta0", "too small"),
        (&["--n", "1e3,1e1000"], "--n", "beyond the range of f64"),
        (&["--beta0", "1e308"], "--beta0", "not a finite f64"),
        (&["--ssmax-s", "1e307"], "--ssmax-s", "not a finite f64"),
        (&["--swan-tau", "1e307"], "--swan-tau", "not a finite f64"),
        (
            &["--rho", "0.99999999999999999999"],
            "--rho",
            "f64, in which schemes evaluates, rounds",
        ),
        (&["--train-len", "1e999"], "--train-len", "beyond the range"),
        (&["--ssmax-s", "1e-400"], "--ssmax-s", "rounds"),
    ];
    for (extra, flag, reason) in cases {
        let mut args = vec!["schemes"];
        args.extend_from_slice(extra);
        let out = critscale(&args);
        let stderr = &out.stderr;
        out.expect_exit(2);
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains(reason),
            "{args:?}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
    // The refusal names the valid side of the option (that the named value runs is
    // `schemes::the_valid_range_named_in_a_refusal_is_accepted`).
    let out = critscale(&["schemes", "--beta0", "1e308"]);
    let stderr = &out.stderr;
    assert!(stderr.contains("valid up to about 1e30"), "{stderr}");
    // The largest sensible values still run, and print no error text.
    let out = critscale(&["schemes", "--beta0", "1e300", "--n", "1e308"]);
    let stdout = &out.stdout;
    out.expect_success();
    assert!(!stdout.contains("error") && !stdout.contains("inf") && !stdout.contains("NaN"));
}

/// The whole kind for `schemes`: every numeric option at the edges of f64 either runs and prints
/// only finite numbers (no error text, no `inf`, `NaN` or JSON `null`), or exits 2 with one line.
#[test]
fn schemes_extreme_options_print_only_finite_numbers_or_exit_2() {
    let values = [
        "5e-324",
        "1e-400",
        "1e-300",
        "0.9999999999999999999",
        "1e300",
        "1.7e308",
        "1e400",
    ];
    for flag in [
        "--rho",
        "--n",
        "--beta0",
        "--train-len",
        "--ssmax-s",
        "--swan-tau",
    ] {
        for value in values {
            for json in [false, true] {
                let mut args = vec!["schemes", flag, value];
                if json {
                    args.push("--json");
                }
                let out = critscale(&args);
                let stdout = &out.stdout;
                let stderr = &out.stderr;
                match out.code {
                    Some(0) => {
                        for bad in ["error", "inf", "NaN", "null"] {
                            assert!(!stdout.contains(bad), "{args:?} printed {bad}: {stdout}");
                        }
                    }
                    Some(2) => {
                        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
                        assert!(stderr.contains(flag), "{args:?}: {stderr}");
                    }
                    other => panic!("{args:?}: exit {other:?}: {stderr}"),
                }
            }
        }
    }
}

/// `schemes --json` readings carry ln λ and ln A_ii, finite where the `f64` values underflow
/// (SSMax at β₀ = 1, n = 1e300: λ ≈ e^-964.5, printed as 0). Reference: mpmath at 60 digits with
/// β = 0.43·ln(1e300) as f64 computes it (297.03347699623185), tests/reference/eval_extremes.py's
/// closed forms.
#[test]
fn schemes_json_keeps_logarithms_of_underflowing_values() {
    let out = critscale(&[
        "schemes", "--json", "--n", "1e300", "--rho", "0.3", "--beta0", "1",
    ]);
    let json = json_of(&out);
    let ssmax = &json[1]["readings"][0];
    assert_eq!(ssmax["lambda"].as_f64(), Some(0.0), "{ssmax}");
    let ln_lambda = ssmax["ln_lambda"].as_f64().unwrap();
    assert!(
        abs_diff_eq!(ln_lambda, -964.500_215_197_376_9, epsilon = 1e-9),
        "{ssmax}"
    );
    let ln_p = ssmax["ln_self_weight"].as_f64().unwrap();
    assert!(
        abs_diff_eq!(ln_p, -482.852_094_000_851_4, epsilon = 1e-9),
        "{ssmax}"
    );
}
