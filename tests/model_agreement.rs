//! The simplex closed forms equal the reference layer run on explicit simplices.
//!
//! `critscale-model` builds the n × d token matrix, runs the naive forward pass and forms the full
//! (nd) × (nd) Jacobian; `critscale-simplex` evaluates the formulas. Agreement on random points
//! validates the formulas (including the derived exact η) and the reference model together.

use approx::abs_diff_eq;
use critscale_model::{LayerParams, eta_from_jacobian, forward, observables, simplex};
use critscale_real::prec::F64_MODEL_VS_CLOSED_REL;
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use proptest::prelude::*;

fn close(model: f64, closed: f64, what: &str) -> Result<(), TestCaseError> {
    let scale = closed.abs().max(f64::MIN_POSITIVE);
    prop_assert!(
        abs_diff_eq!(model, closed, epsilon = F64_MODEL_VS_CLOSED_REL * scale),
        "{what}: model {model:e}, closed form {closed:e}"
    );
    Ok(())
}

/// ρ in the valid range for n, mostly positive, sometimes slightly negative.
fn rho_for(n: usize, unit: f64) -> f64 {
    let lower = -1.0 / (n as f64 - 1.0);
    if unit < 0.1 {
        lower * (1.0 - unit * 9.0) * 0.9
    } else {
        (unit - 0.1) / 0.9 * 0.98 + 0.01
    }
}

struct Point {
    n: usize,
    d: usize,
    rho: f64,
    gamma: f64,
    alpha: f64,
    q: f64,
}

fn closed_form(point: &Point) -> SimplexLayer<f64> {
    let params = SimplexParams::new(
        point.n as f64,
        point.rho,
        Scaling::Gamma(point.gamma),
        point.alpha,
        point.q,
        Some(point.d as f64),
    )
    .unwrap();
    SimplexLayer::evaluate(&params)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn forward_observables_match_closed_forms(
        n in 2usize..=64, extra in 0usize..3, unit in 0.0f64..1.0,
        gamma in 0.05f64..6.0, alpha in prop_oneof![Just(0.0), 0.0f64..1.5], q in 0.1f64..4.0,
    ) {
        let point = Point { n, d: n + extra, rho: rho_for(n, unit), gamma, alpha, q };
        let x = simplex::<f64>(&(), point.n, point.d, &point.rho, &point.q).unwrap();
        let params = LayerParams::from_gamma(&point.gamma, point.n, point.alpha);
        let out = forward(&x, &params).unwrap();
        let obs = observables(&out).unwrap();
        let cf = closed_form(&point);
        close(obs.self_weight, cf.self_weight, "self weight")?;
        close(out.attention[[0, 1]], cf.other_weight, "other weight")?;
        close(obs.cos_out_min, cf.cos_out, "min cos_out")?;
        close(obs.cos_out_max, cf.cos_out, "max cos_out")?;
        close(obs.lambda, cf.lambda, "lambda")?;
        close(obs.lambda_angle, cf.lambda_angle, "lambda_angle")?;
        let norm_sq: f64 = out.x_out.row(0).iter().map(|v| v * v).sum();
        close(norm_sq, cf.out_norm_sq, "|x'|^2")?;
    }

    #[test]
    fn exact_simplex_eta_matches_the_jacobian(
        n in 2usize..=8, extra in 0usize..4, unit in 0.0f64..1.0,
        gamma in 0.05f64..6.0, alpha in prop_oneof![Just(0.0), 0.0f64..1.5], q in 0.1f64..4.0,
    ) {
        let point = Point { n, d: n + extra, rho: rho_for(n, unit), gamma, alpha, q };
        let x = simplex::<f64>(&(), point.n, point.d, &point.rho, &point.q).unwrap();
        let params = LayerParams::from_gamma(&point.gamma, point.n, point.alpha);
        let from_jacobian = eta_from_jacobian(&x, &params).unwrap();
        close(from_jacobian, closed_form(&point).eta.unwrap(), "eta")?;
    }
}
