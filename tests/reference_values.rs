//! `critscale eval --json` against 40-digit values computed independently with mpmath
//! (`tests/reference/simplex_reference.py`: direct formulas at 60 digits, a brute-force forward pass
//! for n ≤ 64, and η from the explicit Jacobian checked against finite differences).

use super::support::critscale;
use approx::abs_diff_eq;
use critscale_real::prec::F64_CLOSED_FORM_REL;
use serde_json::Value;

const FIELDS: [&str; 6] = [
    "self_weight",
    "cos_out",
    "one_minus_cos_out",
    "lambda",
    "lambda_angle",
    "eta",
];

/// A decimal string as (mantissa in [1, 10), power of ten), so that values outside the `f64` range
/// (λ ≈ 1e-420 at n = 1e300) can be compared.
fn split_decimal(text: &str) -> (f64, i64) {
    let (mantissa, exponent) = match text.split_once(['e', 'E']) {
        Some((m, e)) => (m.parse::<f64>().unwrap(), e.parse::<i64>().unwrap()),
        None => (text.parse::<f64>().unwrap(), 0),
    };
    if mantissa == 0.0 {
        return (0.0, 0);
    }
    let shift = mantissa.abs().log10().floor() as i64;
    (mantissa / 10f64.powi(shift as i32), exponent + shift)
}

fn relative_difference(ours: &str, reference: &str) -> f64 {
    let (a, ea) = split_decimal(ours);
    let (b, eb) = split_decimal(reference);
    if b == 0.0 {
        return if a == 0.0 { 0.0 } else { f64::INFINITY };
    }
    let a_scaled = a * 10f64.powi((ea - eb).clamp(-400, 400) as i32);
    ((a_scaled - b) / b).abs()
}

#[test]
fn split_decimal_handles_tiny_values() {
    assert_eq!(split_decimal("1.4e-420"), (1.4, -420));
    let (m, e) = split_decimal("0.025");
    assert!(abs_diff_eq!(m, 2.5, epsilon = 1e-15) && e == -2);
    assert!(relative_difference("1.4000000000001e-420", "1.4e-420") < 1e-12);
    assert!(relative_difference("1.4e-421", "1.4e-420") > 0.5);
}

#[test]
fn eval_json_matches_forty_digit_references() {
    let data: Value =
        serde_json::from_str(include_str!("data/simplex_reference.json")).expect("reference JSON");
    let points = data["points"].as_array().unwrap();
    assert!(
        points.len() >= 300,
        "the reference set shrank to {}",
        points.len()
    );
    let mut worst = (0.0f64, String::new());
    let mut compared = 0;
    for point in points {
        let text = |key: &str| point[key].as_str().map(str::to_owned);
        // `--on-doubt off`: these references take the inputs as the f64 values of their strings, so
        // the f64 engine itself is what is tested here (escalation is tested in `big_engines`).
        let mut args = vec![
            "eval".to_owned(),
            "--json".to_owned(),
            "--on-doubt".to_owned(),
            "off".to_owned(),
        ];
        for key in ["n", "rho", "gamma", "alpha", "q", "d"] {
            if let Some(value) = text(key) {
                args.push(format!("--{key}"));
                args.push(value);
            }
        }
        let out = critscale(&args);
        out.expect_success();
        let ours: Value = out.json();
        for field in FIELDS {
            let Some(reference) = text(field) else {
                continue;
            };
            let value = ours[field]
                .as_str()
                .unwrap_or_else(|| panic!("{field} missing for {args:?}"));
            let diff = relative_difference(value, &reference);
            compared += 1;
            if diff > worst.0 {
                worst = (diff, format!("{field} at {args:?}: {value} vs {reference}"));
            }
            assert!(
                diff <= F64_CLOSED_FORM_REL,
                "{field} at {args:?}: ours {value}, reference {reference}, relative {diff:e}"
            );
        }
    }
    assert!(compared > 1800, "only {compared} values compared");
    eprintln!("worst relative difference {:e}: {}", worst.0, worst.1);
}
