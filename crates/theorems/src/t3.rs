//! T3 (paper Thm 2.4): the gradient size η on a simplex, α = 0.
//!
//! η → 0 below γ_c, (1 − 1/d)/(4q) at γ_c, (1 − 1/d)/q above. Rates (THEORY §5, and our
//! certificates): n^{−2κ}η → 1/q below for −1/2 < κ < 0; n^{κ}(1 − qη/(1 − 1/d)) → 2 above.
//! The thresholds of the forward pass (λ = 1/2) and of the gradient (qη/(1 − 1/d) = 1/8, half
//! its critical value; any fixed level in (0, 1) would do) both extrapolate to γ_c: gradients
//! vanish exactly where tokens collapse.

use crate::t1::{
    LEVEL, RHO, decades, exponent_fit as fit, layer_big, layer_f64, ln_decade, ln_decades,
};
use crate::{Budget, Claim, Measurement, Perturbation, Prediction};
use critscale_asymptotics::threshold::linspace;
use critscale_asymptotics::{Policy, find_crossing, fit_inverse_log};
use critscale_real::Real;
use critscale_real::prec::{F64_LIMIT_ROUNDING_ABS, LIMIT_RATE_CONSTANT};

/// γ/γ_c below (κ = −0.2: inside (−1/2, 0), where n^{2κ} beats the 1/n terms).
const SUB: f64 = 0.8;
/// γ/γ_c above (κ = 0.3).
const SUPER: f64 = 1.3;

fn gamma_c() -> f64 {
    1.0 / (1.0 - RHO)
}

/// η at n = 1e300, d = n, q = 1 against (1 − 1/d)·{0, 1/4, 1}. The tolerance is
/// K·(n^{−e} + 1/n + β²/d) plus rounding: the p² term approaches like the self weight, the
/// off-diagonal blocks add 1/n and the attention covariance O(β²/d).
fn limit(ratio: f64, factor: f64, exponent: f64, p: &Perturbation) -> Result<Measurement, String> {
    let n: f64 = 1e300;
    let measured = layer_f64(n, ratio, 0.0).eta.ok_or("no eta")?;
    let beta = ratio * gamma_c() * n.ln();
    Ok(Measurement {
        prediction: (1.0 - 1.0 / n) * factor + p.limit,
        measured,
        ci: [measured, measured],
        tolerance: LIMIT_RATE_CONSTANT * (n.powf(-exponent) + 1.0 / n + beta * beta / n)
            + F64_LIMIT_ROUNDING_ABS,
        method: "exact simplex eta, f64, n = d = 1e300".to_owned(),
    })
}

/// Slope of log η against log n below γ_c (d = n): 2κ. The 1/n and β²/d terms are relatively
/// n^{−(1+2κ)} ≤ 1e-12 at n ≥ 1e20.
fn rate_sub(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    let ks = decades(budget, 20, 300);
    let log_n = ln_decades(&ks);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| {
            layer_f64(10f64.powi(k as i32), SUB, 0.0)
                .eta
                .map(f64::ln)
                .unwrap_or(f64::NAN)
        })
        .collect();
    fit(
        &log_n,
        &log_y,
        2.0 * (SUB - 1.0) + p.exponent,
        format!(
            "OLS of log eta on log n, f64, d = n = 1e20..1e300 ({} sizes)",
            ks.len()
        ),
    )
}

/// Slope of log(1 − qη/(1 − 1/d)) against log n above γ_c: −κ. The deficit (≈ 2n^{−κ}) cancels
/// in f64, so this uses 512-bit big floats up to n = 1e120.
fn rate_super(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    let ks = decades(budget, 10, 120);
    let log_n = ln_decades(&ks);
    let mut log_y = Vec::new();
    for &k in &ks {
        let layer = layer_big(k, SUPER, 0.0, 512);
        let eta = layer.eta.ok_or("no eta")?;
        let one = critscale_real::BigReal::one(&eta.ctx());
        let n = critscale_real::BigReal::parse_decimal(&eta.ctx(), &format!("1e{k}"))
            .map_err(|e| e.to_string())?;
        let deficit = one.clone() - &(eta / &(one - &n.recip()));
        log_y.push(deficit.ln().to_f64());
    }
    fit(
        &log_n,
        &log_y,
        -(SUPER - 1.0) + p.exponent,
        format!(
            "OLS of log(1 - q eta/(1-1/d)) on log n, 512 bits, d = n = 1e10..1e120 ({} sizes)",
            ks.len()
        ),
    )
}

/// γ* of the forward pass (λ = 1/2) and of the gradient (qη/(1 − 1/d) = 1/8), each extrapolated
/// by a + b/log n; the claim is that the two limits coincide (difference 0). Both models are exact
/// to O((log n)²/n): tolerance 1e-6.
fn thresholds_coincide(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    let ks: Vec<u32> = match budget {
        Budget::Quick => vec![8, 12, 16, 24, 32, 48, 64, 96, 128],
        Budget::Full => (8..=288).step_by(8).collect(),
    };
    let grid = linspace(0.5 * gamma_c(), 3.0 * gamma_c(), 50).map_err(|e| e.to_string())?;
    let mut log_n = Vec::new();
    let mut forward = Vec::new();
    let mut backward = Vec::new();
    for &k in &ks {
        let n = 10f64.powi(k as i32);
        let lambda = |gamma: f64| layer_f64(n, gamma / gamma_c(), 0.0).lambda;
        let eta = |gamma: f64| {
            layer_f64(n, gamma / gamma_c(), 0.0).eta.unwrap_or(f64::NAN) / (1.0 - 1.0 / n)
        };
        let f = find_crossing(lambda, 0.5, &grid, 1e-14, Policy::Unique)
            .map_err(|e| format!("lambda, n = 1e{k}: {e}"))?;
        let b = find_crossing(eta, 0.125, &grid, 1e-14, Policy::Unique)
            .map_err(|e| format!("eta, n = 1e{k}: {e}"))?;
        log_n.push(ln_decade(k));
        forward.push(f.root);
        backward.push(b.root);
    }
    let fwd = fit_inverse_log(&log_n, &forward, None, LEVEL).map_err(|e| e.to_string())?;
    let bwd = fit_inverse_log(&log_n, &backward, None, LEVEL).map_err(|e| e.to_string())?;
    let difference = bwd.a - fwd.a;
    let half = (fwd.a_ci.1 - fwd.a_ci.0) / 2.0 + (bwd.a_ci.1 - bwd.a_ci.0) / 2.0;
    Ok(Measurement {
        prediction: 0.0 + p.gamma_c,
        measured: difference,
        ci: [difference - half, difference + half],
        tolerance: 1e-6,
        method: format!(
            "a(eta threshold) - a(lambda threshold); a_lambda = {:.9}, a_eta = {:.9}, gamma_c = {:.9}",
            fwd.a,
            bwd.a,
            gamma_c()
        ),
    })
}

macro_rules! claim {
    ($id:expr, $statement:expr, $kind:ident, $check:expr) => {
        Claim {
            id: $id,
            theorem: "T3",
            statement: $statement,
            prediction: Prediction::$kind,
            check: $check,
        }
    };
}

/// The T3 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T3.limit.sub",
            "below gamma_c eta -> 0 (n = d = 1e300)",
            Limit,
            |_, p| limit(0.7, 0.0, 0.6, p)
        ),
        claim!(
            "T3.limit.crit",
            "at gamma_c eta -> (1 - 1/d)/(4q)",
            Limit,
            |_, p| limit(1.0, 0.25, 1.0, p)
        ),
        claim!(
            "T3.limit.super",
            "above gamma_c eta -> (1 - 1/d)/q",
            Limit,
            |_, p| limit(SUPER, 1.0, SUPER - 1.0, p)
        ),
        claim!(
            "T3.rate.sub",
            "below gamma_c (-1/2 < kappa < 0) eta ~ n^(2 kappa)",
            Exponent,
            rate_sub
        ),
        claim!(
            "T3.rate.super",
            "above gamma_c 1 - q eta/(1-1/d) ~ n^(-kappa)",
            Exponent,
            rate_super
        ),
        claim!(
            "T3.threshold.coincide",
            "the forward and gradient thresholds extrapolate to the same gamma_c",
            Threshold,
            thresholds_coincide
        ),
    ]
}
