//! T1 and T3 limits on the simplex at n = 1e12 … 1e300 in f64.
//!
//! Each check asserts |value(n) − limit| ≤ K·n^{−e} + rounding, with e the exponent of the
//! approach predicted by THEORY §5 and K = [`LIMIT_RATE_CONSTANT`]. The bound shrinks with n, so the
//! test fails for a wrong limit, and for a deviation that shrinks more slowly than predicted.

use approx::{abs_diff_eq, assert_abs_diff_eq};
use critscale_real::prec::{F64_LIMIT_ROUNDING_ABS, LIMIT_RATE_CONSTANT};
use critscale_simplex::limits::{cos_out_limit, critical_lambda_limit, eta_limit};
use critscale_simplex::{Regime, Scaling, SimplexLayer, SimplexParams, gamma_c};

const NS: [f64; 6] = [1e12, 1e30, 1e50, 1e100, 1e200, 1e300];
const RHOS: [f64; 4] = [0.1, 0.3, 0.7, 0.9];
/// γ/γ_c on each side of the threshold.
const SUB: [f64; 3] = [0.3, 0.5, 0.8];
const SUPER: [f64; 3] = [1.2, 2.0, 5.0];

fn layer(
    n: f64,
    rho: f64,
    scaling: Scaling<f64>,
    alpha: f64,
    q: f64,
    d: Option<f64>,
) -> SimplexLayer<f64> {
    SimplexLayer::evaluate(&SimplexParams::new(n, rho, scaling, alpha, q, d).unwrap())
}

fn gamma(rho: f64, ratio: f64) -> Scaling<f64> {
    Scaling::Gamma(ratio * gamma_c(&rho))
}

fn bound(n: f64, exponent: f64) -> f64 {
    LIMIT_RATE_CONSTANT * n.powf(-exponent) + F64_LIMIT_ROUNDING_ABS
}

/// (α, q) pairs: no residual, and residuals with a = α√q up to 1.5.
const RESIDUALS: [(f64, f64); 4] = [(0.0, 1.0), (0.0, 2.0), (0.5, 1.0), (0.75, 4.0)];

#[test]
fn t1_cos_out_limits_in_all_regimes() {
    for n in NS {
        for rho in RHOS {
            for (alpha, q) in RESIDUALS {
                let a = alpha * q.sqrt();
                for ratio in SUB {
                    let kappa = ratio - 1.0;
                    // p enters squared without residual, linearly with one.
                    let exponent = if alpha == 0.0 { -2.0 * kappa } else { -kappa };
                    let value = layer(n, rho, gamma(rho, ratio), alpha, q, None).cos_out;
                    let limit = cos_out_limit(Regime::Subcritical, &rho, &a);
                    assert!(
                        abs_diff_eq!(value, limit, epsilon = bound(n, exponent)),
                        "sub n={n:e} rho={rho} ratio={ratio} a={a}: {value} vs {limit}"
                    );
                }
                let value = layer(n, rho, Scaling::Critical, alpha, q, None).cos_out;
                let limit = cos_out_limit(Regime::Critical, &rho, &a);
                assert!(
                    abs_diff_eq!(value, limit, epsilon = bound(n, 1.0)),
                    "crit n={n:e} rho={rho} a={a}: {value} vs {limit}"
                );
                for ratio in SUPER {
                    let value = layer(n, rho, gamma(rho, ratio), alpha, q, None).cos_out;
                    let limit = cos_out_limit(Regime::Supercritical, &rho, &a);
                    assert!(
                        abs_diff_eq!(value, limit, epsilon = bound(n, ratio - 1.0)),
                        "super n={n:e} rho={rho} ratio={ratio} a={a}: {value} vs {limit}"
                    );
                }
            }
        }
    }
}

#[test]
fn t1_critical_lambda_and_the_brief_value() {
    for n in NS {
        for rho in RHOS {
            let value = layer(n, rho, Scaling::Critical, 0.0, 1.0, None).lambda;
            assert_abs_diff_eq!(value, critical_lambda_limit(&rho), epsilon = bound(n, 1.0));
        }
    }
    // THEORY §4 (T1 at γ_c): cos_out → 4ρ/(1 + 3ρ) = 0.631579 at ρ = 0.3.
    let value = layer(1e300, 0.3, Scaling::Critical, 0.0, 1.0, None).cos_out;
    assert!(abs_diff_eq!(value, 0.631579, epsilon = 5e-7), "{value}");
}

#[test]
fn t3_eta_limits_in_all_regimes() {
    for n in NS {
        for rho in RHOS {
            for q in [1.0, 2.5] {
                for d in [n, 10.0 * n] {
                    // O(β²/d) from the attention covariance, with β = γ log n.
                    let ln_n = n.ln();
                    let covariance = |ratio: f64| {
                        let beta = ratio * gamma_c(&rho) * ln_n;
                        LIMIT_RATE_CONSTANT * beta * beta / d / q
                    };
                    let eta_at = |scaling| layer(n, rho, scaling, 0.0, q, Some(d)).eta.unwrap();
                    for ratio in SUB {
                        let value = eta_at(gamma(rho, ratio));
                        let limit = eta_limit(Regime::Subcritical, &q, &d);
                        // n^{2κ}/q from the diagonal blocks, 1/(nq) from the n(n−1) others.
                        let tol = bound(n, -2.0 * (ratio - 1.0)) / q
                            + LIMIT_RATE_CONSTANT / (n * q)
                            + covariance(ratio);
                        assert!(
                            abs_diff_eq!(value, limit, epsilon = tol),
                            "sub n={n:e} rho={rho} q={q} d={d:e}: {value} vs {limit}"
                        );
                    }
                    let value = eta_at(Scaling::Critical);
                    let limit = eta_limit(Regime::Critical, &q, &d);
                    let tol = bound(n, 1.0) / q + covariance(1.0);
                    assert!(
                        abs_diff_eq!(value, limit, epsilon = tol),
                        "crit n={n:e} rho={rho} q={q} d={d:e}: {value} vs {limit}"
                    );
                    for ratio in SUPER {
                        let value = eta_at(gamma(rho, ratio));
                        let limit = eta_limit(Regime::Supercritical, &q, &d);
                        let tol = bound(n, ratio - 1.0) / q + covariance(ratio);
                        assert!(
                            abs_diff_eq!(value, limit, epsilon = tol),
                            "super n={n:e} rho={rho} q={q} d={d:e}: {value} vs {limit}"
                        );
                    }
                }
            }
        }
    }
}

/// The tests above must be able to fail: a limit off by 0.01 or an exponent too optimistic by 0.1
/// is caught at the largest n.
#[test]
fn limit_checks_reject_wrong_predictions() {
    let n = 1e300;
    let rho = 0.3;
    let value = layer(n, rho, Scaling::Critical, 0.0, 1.0, None).cos_out;
    let wrong_limit = cos_out_limit(Regime::Critical, &rho, &0.0) + 0.01;
    assert!((value - wrong_limit).abs() > bound(n, 1.0));

    let ratio = 0.8;
    let value = layer(1e12, rho, gamma(rho, ratio), 0.0, 1.0, None).cos_out;
    let too_fast = -2.0 * (ratio - 1.0) + 0.1;
    assert!((value - 1.0).abs() > LIMIT_RATE_CONSTANT * 1e12f64.powf(-too_fast));
}
