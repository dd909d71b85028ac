//! T3 (paper Thm 2.4): the gradient size η on a simplex, α = 0.
//!
//! η → 0 below γ_c, (1 − 1/d)/(4q) at γ_c, (1 − 1/d)/q above. Rates (THEORY §5, and our
//! certificates): n^{−2κ}η → 1/q below for −1/2 < κ < 0; n^{κ}(1 − qη/(1 − 1/d)) → 2 above.
//! The threshold of the gradient (qη/(1 − 1/d) = 1/8, half its critical value; any fixed level
//! in (0, 1) would do) extrapolates to γ_c, as the forward one (`T1.threshold`) does: gradients
//! vanish exactly where tokens collapse. Both the intercept γ_c and the slope
//! b_η = γ_c·logit(1/√8) of γ*(n) = a + b/log n are claims (THEORY §9). On the simplex the two
//! thresholds are functions of the self weight p alone, so "they coincide" is an identity there
//! and is not a claim.

use crate::t1::{
    BetaRule, CONSTANT_BETA, THRESHOLD_LAW, Where, Words, decade_range, decades, gamma_c,
    judge_slope, layer_big, layer_f64, ln_decades, power_law, rate_title, threshold_sizes,
};
use crate::{
    Budget, Claim, Measurement, Model, Perturbation, Series, SeriesCheck, control, fraction_text,
    judge_single, number_text,
};
use critscale_asymptotics::Policy;
use critscale_asymptotics::threshold::find_crossing;
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
fn limit(w: Where, factor: f64, exponent: f64, p: &Perturbation) -> Result<Measurement, String> {
    let n: f64 = 1e300;
    let measured = layer_f64(n, w.at, 0.0).eta.ok_or("no eta")?;
    let beta = w.claim * gamma_c() * n.ln();
    Ok(Measurement {
        prediction: (1.0 - 1.0 / n) * factor + p.limit,
        measured,
        ci: [measured, measured],
        tolerance: LIMIT_RATE_CONSTANT * (n.powf(-exponent) + 1.0 / n + beta * beta / n)
            + F64_LIMIT_ROUNDING_ABS,
        method: format!("exact simplex eta, f64, n = d = 1e300{}", w.words()),
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
    rate_sub_at(budget, SUB)
}

/// The series of `T3.rate.sub` at γ = `ratio`·γ_c, predicted slope 2κ at that κ (a control
/// evaluates it above γ_c, where η → (1 − 1/d)/q).
fn rate_sub_at(budget: Budget, ratio: f64) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| {
            layer_f64(10f64.powi(k as i32), ratio, 0.0)
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
    let slope = 2.0 * (ratio - 1.0);
    let words = Words {
        quantity: "eta".to_owned(),
        title: rate_title("η", ratio, ""),
        law: format!(
            "η ≈ (1 − 1/d) n^{{2κ}}/q: slope 2κ = {}",
            number_text(slope)
        ),
    };
    Ok(vec![power_law(
        RATE_SUB.id,
        words,
        ratio,
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
    rate_super_at(budget, SUPER)
}

/// The series of `T3.rate.super` at γ = `ratio`·γ_c, predicted slope −κ at that κ (a control
/// evaluates it below γ_c, where η → 0 and the deficit → 1).
fn rate_super_at(budget: Budget, ratio: f64) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 10, 120);
    let bits = 512;
    let mut log_y = Vec::new();
    for &k in &ks {
        let layer = layer_big(k, ratio, 0.0, bits);
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
    let slope = -(ratio - 1.0);
    let words = Words {
        quantity: "1 - q eta/(1 - 1/d)".to_owned(),
        title: rate_title("1 − qη/(1 − 1/d)", ratio, &format!(", {bits} bits")),
        law: format!(
            "1 − qη/(1 − 1/d) ≈ 2 n^{{−κ}}: slope −κ = {}",
            number_text(slope)
        ),
    };
    Ok(vec![power_law(
        RATE_SUPER.id,
        words,
        ratio,
        &ks,
        log_y,
        slope,
        method,
    )])
}

/// The series of `T3.threshold`: γ*(n) where the gradient reaches qη/(1 − 1/d) = 1/8 (half its
/// critical value; bisection to 1e-14 from a 50-point grid on [γ_c/2, 3γ_c]), at the sizes of
/// `T1.threshold`, fitted to a + b/log n. η depends on (n, γ) through the self weight p up to
/// O((log n)²/n), so the model is exact to that order: tolerance 1e-6 on a. On the simplex this
/// threshold and the forward one (`T1.threshold`) are both functions of p, so their limits
/// agree by construction; what each claim checks is its own limit γ_c and slope.
///
/// # Errors
///
/// When qη/(1 − 1/d) does not cross its level exactly once on the grid at some n (the message
/// names n).
pub fn threshold_series(budget: Budget) -> Result<Vec<Series>, String> {
    threshold_series_with(budget, BetaRule::GammaLogN)
}

/// The series of `T3.threshold` under `rule` (see [`BetaRule`]).
fn threshold_series_with(budget: Budget, rule: BetaRule) -> Result<Vec<Series>, String> {
    let ks = threshold_sizes(budget);
    let mut gamma_star = Vec::new();
    for &k in &ks {
        let n = 10f64.powi(k as i32);
        let grid = rule.grid(n, 0.5, 3.0, 50)?;
        let eta = |gamma: f64| rule.layer(n, gamma).eta.unwrap_or(f64::NAN) / (1.0 - 1.0 / n);
        let b = find_crossing(eta, GRADIENT_LEVEL, &grid, 1e-14, Policy::Unique)
            .map_err(|e| format!("eta, n = 1e{k}: {e}"))?;
        gamma_star.push(b.root);
    }
    let level = fraction_text(GRADIENT_LEVEL);
    Ok(vec![Series {
        id: THRESHOLD.id,
        quantity: format!("gamma* (q eta/(1 - 1/d) = {level})"),
        model: Model::InverseLog,
        x_label: "1/log n".to_owned(),
        y_label: "gamma*".to_owned(),
        title: format!("γ*(n) where qη/(1 − 1/d) = {level}{}", rule.words()),
        law: THRESHOLD_LAW.to_owned(),
        gamma_ratio: None,
        // qη/(1 − 1/d) ≈ p² at leading order, so the level is reached at p² = GRADIENT_LEVEL.
        leading_slope: Some(gamma_c() * logit(GRADIENT_LEVEL.sqrt())),
        log_n: ln_decades(&ks),
        y: gamma_star,
        predicted: gamma_c(),
        tolerance: 1e-6,
        method: format!(
            "gamma*(n) where q eta/(1-1/d) = {level} (bisection), fit a + b/log n over n = 1e{}..1e{} ({} sizes){}",
            ks[0],
            ks[ks.len() - 1],
            ks.len(),
            rule.words()
        ),
        log10_n: ks,
    }])
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

/// `T3.threshold`: the n → ∞ limit of the gradient threshold γ*(n) (qη/(1 − 1/d) = 1/8),
/// predicted γ_c.
pub const THRESHOLD: SeriesCheck = SeriesCheck {
    id: "T3.threshold",
    series: threshold_series,
    judge: judge_single,
};

/// The fitted T3 claims, in registry order.
pub fn series_checks() -> Vec<SeriesCheck> {
    vec![RATE_SUB, RATE_SUPER, THRESHOLD]
}

/// The T3 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T3.limit.sub",
            "below gamma_c eta -> 0 (n = d = 1e300)",
            Limit,
            |_, p| limit(Where::own(0.7), 0.0, 0.6, p),
            limit_controls!(
                0.7,
                |w| limit(w, 0.0, 0.6, &Perturbation::default()),
                1.0 => "gamma = gamma_c (at the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T3.limit.crit",
            "at gamma_c eta -> (1 - 1/d)/(4q)",
            Limit,
            |_, p| limit(Where::own(1.0), 0.25, 1.0, p),
            limit_controls!(
                1.0,
                |w| limit(w, 0.25, 1.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T3.limit.super",
            "above gamma_c eta -> (1 - 1/d)/q",
            Limit,
            |_, p| limit(Where::own(SUPER), 1.0, SUPER - 1.0, p),
            limit_controls!(
                SUPER,
                |w| limit(w, 1.0, SUPER - 1.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.0 => "gamma = gamma_c (at the threshold)"
            )
        ),
        claim!(
            RATE_SUB.id,
            "below gamma_c (-1/2 < kappa < 0) eta ~ n^(2 kappa)",
            Exponent,
            |b, p| RATE_SUB.measure(b, p),
            [control(
                "gamma = 1.3 gamma_c (above the threshold; law at that kappa)",
                |b| { judge_single(&rate_sub_at(b, SUPER)?, &Perturbation::default()) }
            )]
        ),
        claim!(
            RATE_SUPER.id,
            "above gamma_c 1 - q eta/(1-1/d) ~ n^(-kappa)",
            Exponent,
            |b, p| RATE_SUPER.measure(b, p),
            [control(
                "gamma = 0.8 gamma_c (below the threshold; law at that kappa)",
                |b| { judge_single(&rate_super_at(b, SUB)?, &Perturbation::default()) }
            )]
        ),
        claim!(
            THRESHOLD.id,
            "gamma*(n) (q eta/(1-1/d) = 1/8) = a + b/log n with a = gamma_c: gradients vanish where tokens collapse",
            Threshold,
            |b, p| THRESHOLD.measure(b, p),
            [control(CONSTANT_BETA, |b| {
                judge_single(
                    &threshold_series_with(b, BetaRule::Constant)?,
                    &Perturbation::default(),
                )
            })]
        ),
        claim!(
            "T3.threshold.slope",
            "gamma*(n) (q eta/(1-1/d) = 1/8) = a + b/log n with b = gamma_c logit(1/sqrt(8))",
            Threshold,
            |b, p| judge_slope(&threshold_series(b)?, p),
            [control(CONSTANT_BETA, |b| {
                judge_slope(
                    &threshold_series_with(b, BetaRule::Constant)?,
                    &Perturbation::default(),
                )
            })]
        ),
    ]
}
