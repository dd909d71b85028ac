//! The arbitrary-precision engines: `eval --precision` against 40-digit references computed
//! independently (mpmath at 120 digits, inputs read as exact decimals), enclosures that contain
//! those references, the f64 precision policy, and (feature `mpfr`) agreement of the two
//! independent big-float engines on the closed forms.

use super::support::critscale;
use critscale_real::{BigReal, Precision, Real};
use serde_json::Value;

const FIELDS: [&str; 6] = [
    "self_weight",
    "cos_out",
    "one_minus_cos_out",
    "lambda",
    "lambda_angle",
    "eta",
];

/// Relative accuracy of the references: 40 significant digits, correctly rounded.
const REFERENCE_REL: f64 = 1e-39;

fn reference_points() -> Vec<Value> {
    let data: Value = serde_json::from_str(include_str!("data/simplex_reference_big.json"))
        .expect("reference JSON");
    data["points"].as_array().unwrap().clone()
}

fn point_args(point: &Value) -> Vec<String> {
    let mut args = vec!["eval".to_owned(), "--json".to_owned()];
    for key in ["n", "rho", "gamma", "alpha", "q", "d"] {
        if let Some(value) = point[key].as_str() {
            args.push(format!("--{key}"));
            args.push(value.to_owned());
        }
    }
    args
}

fn at(bits: u64, text: &str) -> BigReal {
    BigReal::parse_decimal(&Precision::new(bits).unwrap(), text).unwrap()
}

/// |ours − reference| / |reference|, in 512-bit arithmetic (values reach 1e-140000).
fn relative(ours: &str, reference: &str) -> f64 {
    let (a, b) = (at(512, ours), at(512, reference));
    if b == BigReal::zero(&b.ctx()) {
        return if a == b { 0.0 } else { f64::INFINITY };
    }
    ((a - &b) / &b).abs().to_f64()
}

fn sample() -> impl Iterator<Item = Value> {
    reference_points().into_iter()
}

#[test]
fn precision_256_matches_forty_digit_references_up_to_n_1e100000() {
    let mut checked = 0;
    let mut largest_n = 0usize;
    for point in sample() {
        let mut args = point_args(&point);
        args.extend(["--precision".to_owned(), "256".to_owned()]);
        let out = critscale(&args);
        out.expect_success();
        let ours: Value = out.json();
        assert_eq!(ours["backend"], "astro-float 256 bits");
        largest_n = largest_n.max(point["n"].as_str().unwrap().len());
        for field in FIELDS {
            let Some(reference) = point[field].as_str() else {
                continue;
            };
            let value = ours[field].as_str().unwrap();
            let rel = relative(value, reference);
            assert!(
                rel <= REFERENCE_REL,
                "{field} at {args:?}: {value} vs {reference} ({rel:e})"
            );
            checked += 1;
        }
    }
    assert!(checked > 1200, "only {checked} values checked");
    assert!(largest_n >= "1e100000".len());
}

#[test]
fn enclosures_contain_the_references() {
    let mut checked = 0;
    for point in sample() {
        let mut args = point_args(&point);
        args.extend([
            "--enclose".to_owned(),
            "--precision".to_owned(),
            "128".to_owned(),
        ]);
        let out = critscale(&args);
        out.expect_success();
        let ours: Value = out.json();
        for field in FIELDS {
            let Some(reference) = point[field].as_str() else {
                continue;
            };
            let lo = ours[field]["lo"].as_str().unwrap();
            let hi = ours[field]["hi"].as_str().unwrap();
            let (lo_v, hi_v, r) = (at(512, lo), at(512, hi), at(512, reference));
            assert!(
                lo_v <= r && r <= hi_v,
                "{field} at {args:?}: [{lo}, {hi}] misses {reference}"
            );
            // The enclosure must also be tight, or containment would prove little.
            let width = relative(hi, lo);
            assert!(width < 1e-30, "{field} at {args:?}: width {width:e}");
            checked += 1;
        }
    }
    assert!(checked > 1200);
}

#[test]
fn f64_escalates_where_it_cannot_vouch() {
    // n = 1e300, ρ = 0.95, γ = 18: λ has condition number ~1e4 in ρ, so the binary rounding of
    // "0.95" alone moves it by 1e-12. eval must notice, say so and re-evaluate.
    let args: Vec<String> = [
        "eval", "--json", "--n", "1e300", "--rho", "0.95", "--gamma", "18",
    ]
    .map(str::to_owned)
    .to_vec();
    let out = critscale(&args);
    out.expect_success();
    let stderr = &out.stderr;
    assert!(stderr.contains("cannot vouch"), "{stderr}");
    let ours: Value = out.json();
    assert!(
        ours["backend"]
            .as_str()
            .unwrap()
            .contains("escalated from f64")
    );
    // The escalated value agrees with the exact-decimal reference at 1e-30.
    let reference = reference_points()
        .into_iter()
        .find(|p| {
            p["n"] == "1e300"
                && p["rho"] == "0.95"
                && p["gamma"].as_str().unwrap().starts_with("18")
        })
        .expect("the reference set has this point");
    let rel = relative(
        ours["lambda"].as_str().unwrap(),
        reference["lambda"].as_str().unwrap(),
    );
    assert!(rel < 1e-30, "{rel:e}");

    let mut refuse = args.clone();
    refuse.extend(["--on-doubt".to_owned(), "refuse".to_owned()]);
    let out = critscale(&refuse);
    out.expect_exit(3);
    assert_eq!(out.stderr.lines().count(), 1);
}

#[test]
fn f64_is_kept_where_it_can_vouch() {
    let args: Vec<String> = [
        "eval", "--json", "--n", "1e6", "--rho", "0.3", "--gamma", "crit", "--d", "1e6",
    ]
    .map(str::to_owned)
    .to_vec();
    let out = critscale(&args);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let ours: Value = out.json();
    assert_eq!(ours["backend"], "f64");
}

#[test]
fn bad_engine_options_exit_2_with_one_line() {
    let base = ["eval", "--n", "10", "--rho", "0.3", "--gamma", "1"];
    let cases: &[&[&str]] = &[
        &["--precision", "52"],
        &["--precision", "1000001"],
        &["--precision", "many"],
        &["--precision", "256.5"],
        &["--engine", "gmp"],
        &["--engine", "mpfr", "--enclose"],
        &["--rel-tol", "0"],
        &["--on-doubt", "maybe"],
    ];
    for extra in cases {
        let args: Vec<String> = base
            .iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect();
        let out = critscale(&args);
        let stderr = &out.stderr;
        out.expect_exit(2);
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(
            stderr.contains(extra[0].trim_start_matches('-')) || stderr.contains(extra[1]),
            "{stderr}"
        );
    }
    #[cfg(not(feature = "mpfr"))]
    {
        let args: Vec<String> = base
            .iter()
            .chain(["--engine", "mpfr"].iter())
            .map(|s| s.to_string())
            .collect();
        let out = critscale(&args);
        out.expect_exit(2);
        assert!(out.stderr.contains("features mpfr"));
    }
}

#[cfg(feature = "mpfr")]
mod mpfr_agreement {
    use critscale_real::{BigReal, MpfrReal, Precision, Real};
    use critscale_simplex::{Scaling, SimplexLayer, SimplexParams, gamma_c};
    use proptest::prelude::*;

    fn layer<T: Real<Ctx = Precision>>(
        p: &Precision,
        point: &[String; 6],
        d: &str,
    ) -> SimplexLayer<T> {
        let read = |s: &str| T::parse_decimal(p, s).unwrap();
        let params = SimplexParams::new(
            read(&point[0]),
            read(&point[1]),
            Scaling::Gamma(read(&point[2])),
            read(&point[3]),
            read(&point[4]),
            Some(read(d)),
        )
        .unwrap();
        SimplexLayer::evaluate(&params)
    }

    fn gap(a: &BigReal, b: &MpfrReal) -> f64 {
        let p = Precision::new(512).unwrap();
        let a = MpfrReal::parse_decimal(&p, &a.to_sci_string()).unwrap();
        let b = MpfrReal::parse_decimal(&p, &b.to_sci_string()).unwrap();
        if b == MpfrReal::zero(&p) {
            return if a == b { 0.0 } else { f64::INFINITY };
        }
        ((a - &b) / &b).abs().to_f64()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Two independent engines at 256 bits agree on every closed form. Each engine is
        /// faithful (a few units of 2^-256 ≈ 8.6e-78 per operation); the closed forms take
        /// O(30) operations whose errors the point's condition number (≤ κ·log n ≈ 1e4 here)
        /// amplifies, and the decimal hand-over keeps 77 digits: 1e-70 leaves a wide margin.
        #[test]
        fn big_and_mpfr_agree_on_the_closed_forms(
            log10_n in 0.31f64..1000.0, rho in 0.01f64..0.99, ratio in 0.2f64..4.0,
            alpha in prop_oneof![Just(0.0), 0.0f64..2.0], q in 0.1f64..10.0,
        ) {
            let p = Precision::new(256).unwrap();
            let point = [
                format!("{:.6}e{}", 10f64.powf(log10_n.fract()), log10_n.trunc() as i64),
                format!("{rho}"),
                format!("{}", ratio * gamma_c(&rho)),
                format!("{alpha}"),
                format!("{q}"),
                String::new(),
            ];
            let d = format!("{:.6}e{}", 2.0 * 10f64.powf(log10_n.fract()), log10_n.trunc() as i64);
            let big = layer::<BigReal>(&p, &point, &d);
            let mpfr = layer::<MpfrReal>(&p, &point, &d);
            let pairs = [
                (&big.self_weight, &mpfr.self_weight),
                (&big.cos_out, &mpfr.cos_out),
                (&big.lambda, &mpfr.lambda),
                (&big.one_minus_lambda, &mpfr.one_minus_lambda),
                (&big.lambda_angle, &mpfr.lambda_angle),
                (big.eta.as_ref().unwrap(), mpfr.eta.as_ref().unwrap()),
            ];
            for (a, b) in pairs {
                prop_assert!(gap(a, b) < 1e-70, "{a} vs {b} at {point:?}");
            }
        }
    }
}

mod f64_against_big {
    use critscale_real::{BigReal, Precision, Real, prec::F64_CLOSED_FORM_REL};
    use critscale_simplex::{Scaling, SimplexLayer, SimplexParams, gamma_c};
    use proptest::prelude::*;

    fn layer<T: Real>(ctx: &T::Ctx, x: [f64; 6]) -> SimplexLayer<T> {
        let v = |f: f64| T::from_f64(ctx, f);
        let params = SimplexParams::new(
            v(x[0]),
            v(x[1]),
            Scaling::Gamma(v(x[2])),
            v(x[3]),
            v(x[4]),
            Some(v(x[5])),
        )
        .unwrap();
        SimplexLayer::evaluate(&params)
    }

    /// Relative difference, through logarithms when the f64 value left its range.
    fn rel(f: f64, ln_f: f64, b: &BigReal, ln_b: &BigReal) -> f64 {
        if f.is_normal() {
            ((BigReal::from_f64(&b.ctx(), f) - b) / b).abs().to_f64()
        } else {
            (ln_f - ln_b.to_f64()).abs()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Where f64 is valid (n ≤ 1e300), the f64 closed forms agree with 256-bit evaluations of
        /// the same binary inputs to the f64 tolerance.
        #[test]
        fn f64_agrees_with_256_bits(
            log10_n in 0.31f64..300.0, rho in 0.01f64..0.99, ratio in 0.1f64..5.0,
            alpha in prop_oneof![Just(0.0), 0.0f64..2.0], q in 0.1f64..10.0,
        ) {
            let n = 10f64.powf(log10_n);
            let x = [n, rho, ratio * gamma_c(&rho), alpha, q, 2.0 * n];
            let f = layer::<f64>(&(), x);
            let b = layer::<BigReal>(&Precision::new(256).unwrap(), x);
            let pairs = [
                ("p", rel(f.self_weight, f.ln_self_weight, &b.self_weight, &b.ln_self_weight)),
                ("lambda", rel(f.lambda, f.ln_lambda, &b.lambda, &b.ln_lambda)),
                ("1-lambda", rel(f.one_minus_lambda, f.ln_one_minus_lambda, &b.one_minus_lambda, &b.ln_one_minus_lambda)),
                ("1-cos", rel(f.one_minus_cos_out, f.ln_one_minus_cos_out, &b.one_minus_cos_out, &b.ln_one_minus_cos_out)),
                ("cos", rel(f.cos_out, 0.0, &b.cos_out, &b.cos_out)),
                ("lambda_angle", rel(f.lambda_angle, 0.0, &b.lambda_angle, &b.lambda_angle)),
                ("eta", rel(f.eta.unwrap(), 0.0, b.eta.as_ref().unwrap(), b.eta.as_ref().unwrap())),
            ];
            for (name, r) in pairs {
                prop_assert!(r <= F64_CLOSED_FORM_REL, "{name}: {r:e} at {x:?}");
            }
        }
    }
}

/// With the MPFR engine compiled in, `eval --engine mpfr` matches the same references.
#[cfg(feature = "mpfr")]
#[test]
fn mpfr_engine_matches_forty_digit_references() {
    let mut checked = 0;
    for point in reference_points().into_iter().step_by(3) {
        let mut args = point_args(&point);
        args.extend(["--precision", "256", "--engine", "mpfr"].map(str::to_owned));
        let out = critscale(&args);
        out.expect_success();
        let ours: Value = out.json();
        assert_eq!(ours["backend"], "mpfr 256 bits");
        for field in FIELDS {
            let Some(reference) = point[field].as_str() else {
                continue;
            };
            let value = ours[field].as_str().unwrap();
            assert!(
                relative(value, reference) <= REFERENCE_REL,
                "{field} at {args:?}: {value} vs {reference}"
            );
            checked += 1;
        }
    }
    assert!(checked > 400);
}
