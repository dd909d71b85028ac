//! T3 (paper Thm 2.4): the gradient size η on a simplex, α = 0.
//!
//! η → 0 below γ_c, (1 − 1/d)/(4q) at γ_c, (1 − 1/d)/q above. Rates (THEORY §5, and our
//! certificates): n^{−2κ}η → 1/q below for −1/2 < κ < 0; n^{κ}(1 − qη/(1 − 1/d)) → 2 above.
//! The thresholds of the forward pass (λ = 1/2) and of the gradient (qη/(1 − 1/d) = 1/8, half
//! its critical value; any fixed level in (0, 1) would do) both extrapolate to γ_c: gradients
//! vanish exactly where tokens collapse.

use crate::t1::{
    self, THRESHOLD_LAW, Words, decade_range, decades, gamma_c, layer_big, layer_f64, ln_decades,
    power_law, rate_title, threshold_sizes,
};
use crate::{
    Budget, Claim, Measurement, Model, Perturbation, Series, SeriesCheck, fraction_text,
    judge_single, number_text,
};
use critscale_asymptotics::Policy;
use critscale_asymptotics::threshold::{find_crossing, linspace};
use critscale_real::Real;
use critscale_real::prec::{F64_LIMIT_ROUNDING_ABS, LIMIT_RATE_CONSTANT};
use critscale_sweeps::phase::logit;

/// γ/γ_c below (κ = −0.2: inside (−1/2, 0), where n^{2κ} beats the 1/n terms).
pub const SUB: f64 = 0.8;
/// γ/γ_c above (κ = 0.3).
pub const SUPER: f64 = 1.3;
/// The level of qη/(1 − 1/d) whose crossing is the gradient threshold (half its critical value).
pub const GRADIENT_LEVEL: f64 = 0.125;

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

/// The series of `T3.rate.sub`: log η against log n below γ_c (d = n); slope 2κ. The 1/n and
/// β²/d terms are relatively n^{−(1+2κ)} ≤ 1e-12 at n ≥ 1e20.
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_sub_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| {
            layer_f64(10f64.powi(k as i32), SUB, 0.0)
                .eta
                .map(f64::ln)
                .unwrap_or(f64::NAN)
        })
        .collect();
    let method = format!(
        "OLS of log eta on log n, f64, d = n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = 2.0 * (SUB - 1.0);
    let words = Words {
        quantity: "eta".to_owned(),
        title: rate_title("η", SUB, ""),
        law: format!(
            "η ≈ (1 − 1/d) n^{{2κ}}/q: slope 2κ = {}",
            number_text(slope)
        ),
    };
    Ok(vec![power_law(
        RATE_SUB.id,
        words,
        SUB,
        &ks,
        log_y,
        slope,
        method,
    )])
}

/// The series of `T3.rate.super`: log(1 − qη/(1 − 1/d)) against log n above γ_c; slope −κ. The
/// deficit (≈ 2n^{−κ}) cancels in f64, so this uses 512-bit big floats up to n = 1e120 (full
/// budget; 1e114 at the quick budget).
///
/// # Errors
///
/// When the big-float layer gives no η, or n cannot be read at the working precision (neither
/// happens at the fixed parameters used).
pub fn rate_super_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 10, 120);
    let bits = 512;
    let mut log_y = Vec::new();
    for &k in &ks {
        let layer = layer_big(k, SUPER, 0.0, bits);
        let eta = layer.eta.ok_or("no eta")?;
        let one = critscale_real::BigReal::one(&eta.ctx());
        let n = critscale_real::BigReal::parse_decimal(&eta.ctx(), &format!("1e{k}"))
            .map_err(|e| e.to_string())?;
        let deficit = one.clone() - &(eta / &(one - &n.recip()));
        log_y.push(deficit.ln().to_f64());
    }
    let method = format!(
        "OLS of log(1 - q eta/(1-1/d)) on log n, {bits} bits, d = n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = -(SUPER - 1.0);
    let words = Words {
        quantity: "1 - q eta/(1 - 1/d)".to_owned(),
        title: rate_title("1 − qη/(1 − 1/d)", SUPER, &format!(", {bits} bits")),
        law: format!(
            "1 − qη/(1 − 1/d) ≈ 2 n^{{−κ}}: slope −κ = {}",
            number_text(slope)
        ),
    };
    Ok(vec![power_law(
        RATE_SUPER.id,
        words,
        SUPER,
        &ks,
        log_y,
        slope,
        method,
    )])
}

/// The series of `T3.threshold.coincide`: γ*(n) of the forward pass (λ = 1/2; the series of
/// `T1.threshold`, relabelled) and of the gradient (qη/(1 − 1/d) = 1/8, bisected the same way),
/// each to be fitted by a + b/log n. Both models are exact to O((log n)²/n): tolerance 1e-6.
///
/// # Errors
///
/// When the forward threshold fails ([`t1::threshold_series`]), or qη/(1 − 1/d) does not cross
/// its level exactly once on the grid at some n (the message names n).
pub fn thresholds_series(budget: Budget) -> Result<Vec<Series>, String> {
    let mut forward = t1::threshold_series(budget)?
        .pop()
        .ok_or("no forward threshold series")?;
    forward.id = THRESHOLDS_COINCIDE.id;
    forward.tolerance = 1e-6;
    let ks = threshold_sizes(budget);
    let grid = linspace(0.5 * gamma_c(), 3.0 * gamma_c(), 50).map_err(|e| e.to_string())?;
    let mut backward = Vec::new();
    for &k in &ks {
        let n = 10f64.powi(k as i32);
        let eta = |gamma: f64| {
            layer_f64(n, gamma / gamma_c(), 0.0).eta.unwrap_or(f64::NAN) / (1.0 - 1.0 / n)
        };
        let b = find_crossing(eta, GRADIENT_LEVEL, &grid, 1e-14, Policy::Unique)
            .map_err(|e| format!("eta, n = 1e{k}: {e}"))?;
        backward.push(b.root);
    }
    let level = fraction_text(GRADIENT_LEVEL);
    let backward = Series {
        id: THRESHOLDS_COINCIDE.id,
        quantity: format!("gamma* (q eta/(1 - 1/d) = {level})"),
        model: Model::InverseLog,
        x_label: "1/log n".to_owned(),
        y_label: "gamma*".to_owned(),
        title: format!("γ*(n) where qη/(1 − 1/d) = {level}"),
        law: THRESHOLD_LAW.to_owned(),
        gamma_ratio: None,
        // qη/(1 − 1/d) ≈ p² at leading order, so the level is reached at p² = GRADIENT_LEVEL.
        leading_slope: Some(gamma_c() * logit(GRADIENT_LEVEL.sqrt())),
        log_n: ln_decades(&ks),
        y: backward,
        predicted: gamma_c(),
        tolerance: 1e-6,
        method: format!(
            "gamma*(n) where q eta/(1-1/d) = {level} (bisection), fit a + b/log n over n = 1e{}..1e{} ({} sizes)",
            ks[0],
            ks[ks.len() - 1],
            ks.len()
        ),
        log10_n: ks,
    };
    Ok(vec![forward, backward])
}

/// The judge of `T3.threshold.coincide`: a(η threshold) − a(λ threshold), with the half-widths
/// of the two intervals added; predicted 0 (moved by the perturbation of γ_c).
///
/// # Errors
///
/// When `series` is not the two threshold series, or either fit fails ([`crate::Series::fit`]).
pub fn judge_coincide(series: &[Series], p: &Perturbation) -> Result<Measurement, String> {
    let [forward, backward] = series else {
        return Err(format!("expected two series, got {}", series.len()));
    };
    let fwd = forward.fit()?;
    let bwd = backward.fit()?;
    let difference = bwd.estimate - fwd.estimate;
    let half = (fwd.ci[1] - fwd.ci[0]) / 2.0 + (bwd.ci[1] - bwd.ci[0]) / 2.0;
    Ok(Measurement {
        prediction: 0.0 + p.gamma_c,
        measured: difference,
        ci: [difference - half, difference + half],
        tolerance: backward.tolerance,
        method: format!(
            "a(eta threshold) - a(lambda threshold); a_lambda = {:.9}, a_eta = {:.9}, gamma_c = {:.9}",
            fwd.estimate,
            bwd.estimate,
            gamma_c()
        ),
    })
}

/// `T3.rate.sub`: slope of log η against log n below γ_c, predicted 2κ.
pub const RATE_SUB: SeriesCheck = SeriesCheck {
    id: "T3.rate.sub",
    series: rate_sub_series,
    judge: judge_single,
};

/// `T3.rate.super`: slope of log(1 − qη/(1 − 1/d)) against log n above γ_c, predicted −κ.
pub const RATE_SUPER: SeriesCheck = SeriesCheck {
    id: "T3.rate.super",
    series: rate_super_series,
    judge: judge_single,
};

/// `T3.threshold.coincide`: the forward and gradient thresholds have the same n → ∞ limit.
pub const THRESHOLDS_COINCIDE: SeriesCheck = SeriesCheck {
    id: "T3.threshold.coincide",
    series: thresholds_series,
    judge: judge_coincide,
};

/// The fitted T3 claims, in registry order.
pub fn series_checks() -> Vec<SeriesCheck> {
    vec![RATE_SUB, RATE_SUPER, THRESHOLDS_COINCIDE]
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
            RATE_SUB.id,
            "below gamma_c (-1/2 < kappa < 0) eta ~ n^(2 kappa)",
            Exponent,
            |b, p| RATE_SUB.measure(b, p)
        ),
        claim!(
            RATE_SUPER.id,
            "above gamma_c 1 - q eta/(1-1/d) ~ n^(-kappa)",
            Exponent,
            |b, p| RATE_SUPER.measure(b, p)
        ),
        claim!(
            THRESHOLDS_COINCIDE.id,
            "the forward and gradient thresholds extrapolate to the same gamma_c",
            Threshold,
            |b, p| THRESHOLDS_COINCIDE.measure(b, p)
        ),
    ]
}
