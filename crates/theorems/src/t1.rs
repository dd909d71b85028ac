//! T1 (paper Thm 2.1): one layer on a simplex, β = γ log n.
//!
//! cos_out → 1 below γ_c = 1/(1 − ρ), → 4ρ/(1 + 3ρ) at γ_c, → ρ above (with a residual
//! a = α√q: ρ(a+1)²/(a² + 2aρ + ρ), ρ(a+1)²/(a² + a(1+ρ) + (1+3ρ)/4), ρ). Rates (THEORY §5):
//! λ ≈ n^{2κ}/ρ below, 1 − λ ≈ 2ρ n^{−κ} above (κ = γ(1 − ρ) − 1), |cos_out − limit| ≈ 1/n at γ_c;
//! the transition is at γ*(n) = γ_c + b/log n + O(1/n) with width ∝ 1/log n, because λ depends on
//! n and γ only through κ log n up to O(1/n).
//!
//! All checks use the closed forms of `critscale-simplex` at ρ = 0.3 (q = 1): `f64` up to
//! n = 1e300, the big-float engine beyond (1e10000) and wherever a deviation is below `f64`'s
//! resolution.

use crate::{
    Budget, Claim, Measurement, Model, Perturbation, Series, SeriesCheck, fraction_text,
    judge_single, number_text,
};
use critscale_asymptotics::threshold::linspace;
use critscale_asymptotics::width::widths;
use critscale_asymptotics::{Policy, find_crossing, transition_width};
use critscale_real::prec::{F64_LIMIT_ROUNDING_ABS, LIMIT_RATE_CONSTANT};
use critscale_real::{BigReal, Precision, Real};
use critscale_simplex::limits::cos_out_limit;
use critscale_simplex::{Regime, Scaling, SimplexLayer, SimplexParams};
use critscale_sweeps::phase::asymptotic_shift_and_width;

/// ρ of every T1 check.
pub const RHO: f64 = 0.3;
/// γ/γ_c below the threshold (κ = −0.3).
pub const SUB: f64 = 0.7;
/// γ/γ_c above the threshold (κ = 0.3).
pub const SUPER: f64 = 1.3;
/// Residual weight of the residual variants.
pub const ALPHA: f64 = 0.5;
/// The level of λ whose crossing γ*(n) is the threshold of `T1.threshold`.
pub const THRESHOLD_LEVEL: f64 = 0.5;
/// The levels of λ between which `T1.width` measures the transition width.
pub const WIDTH_LEVELS: (f64, f64) = (0.25, 0.75);

/// γ_c at [`RHO`].
pub(crate) fn gamma_c() -> f64 {
    critscale_simplex::gamma_c(&RHO)
}

/// The closed forms in `f64` at (n, γ/γ_c, α), q = 1, d = n.
pub(crate) fn layer_f64(n: f64, ratio: f64, alpha: f64) -> SimplexLayer<f64> {
    let scaling = if ratio == 1.0 {
        Scaling::Critical
    } else {
        Scaling::Gamma(ratio * gamma_c())
    };
    let params = SimplexParams::new(n, RHO, scaling, alpha, 1.0, Some(n)).expect("valid point");
    SimplexLayer::evaluate(&params)
}

/// The closed forms at `bits` bits at n = 10^`log10_n`, γ/γ_c = `ratio`, q = 1, d = n.
pub(crate) fn layer_big(log10_n: u32, ratio: f64, alpha: f64, bits: u64) -> SimplexLayer<BigReal> {
    let p = Precision::new(bits).expect("valid precision");
    let read = |s: &str| BigReal::parse_decimal(&p, s).expect("decimal");
    let n = read(&format!("1e{log10_n}"));
    let rho = read(&RHO.to_string());
    let scaling = if ratio == 1.0 {
        Scaling::Critical
    } else {
        Scaling::Gamma(critscale_simplex::gamma_c(&rho) * &BigReal::from_f64(&p, ratio))
    };
    let params = SimplexParams::new(
        n.clone(),
        rho,
        scaling,
        BigReal::from_f64(&p, alpha),
        BigReal::one(&p),
        Some(n),
    )
    .expect("valid point");
    SimplexLayer::evaluate(&params)
}

fn regime(ratio: f64) -> Regime {
    if ratio < 1.0 {
        Regime::Subcritical
    } else if ratio == 1.0 {
        Regime::Critical
    } else {
        Regime::Supercritical
    }
}

/// Exponent e of the approach |cos_out(n) − limit| ≈ n^{−e} (THEORY §5): 2|κ| below without
/// residual, |κ| below with one, 1 at γ_c, κ above.
fn approach_exponent(ratio: f64, alpha: f64) -> f64 {
    let kappa = ratio - 1.0;
    match regime(ratio) {
        Regime::Subcritical if alpha == 0.0 => -2.0 * kappa,
        Regime::Subcritical => -kappa,
        Regime::Critical => 1.0,
        Regime::Supercritical => kappa,
    }
}

fn limit_at(ratio: f64, alpha: f64, p: &Perturbation) -> f64 {
    cos_out_limit(regime(ratio), &RHO, &alpha) + p.limit
}

/// cos_out at n = 1e300 in f64 against the T1 limit; tolerance K·n^{−e} + rounding, e the
/// predicted exponent of approach (K = `LIMIT_RATE_CONSTANT`).
fn limit_f64(ratio: f64, alpha: f64, p: &Perturbation) -> Result<Measurement, String> {
    let n = 1e300;
    let measured = layer_f64(n, ratio, alpha).cos_out;
    Ok(Measurement {
        prediction: limit_at(ratio, alpha, p),
        measured,
        ci: [measured, measured],
        tolerance: LIMIT_RATE_CONSTANT * n.powf(-approach_exponent(ratio, alpha))
            + F64_LIMIT_ROUNDING_ABS,
        method: "closed form, f64, n = 1e300".to_owned(),
    })
}

/// cos_out at n = 1e10000 with 128-bit big floats; the deviation n^{−e} is far below 1e-30.
fn limit_big(ratio: f64, alpha: f64, p: &Perturbation) -> Result<Measurement, String> {
    let measured = layer_big(10_000, ratio, alpha, 128).cos_out.to_f64();
    Ok(Measurement {
        prediction: limit_at(ratio, alpha, p),
        measured,
        ci: [measured, measured],
        tolerance: 1e-30 + F64_LIMIT_ROUNDING_ABS,
        method: "closed form, astro-float 128 bits, n = 1e10000".to_owned(),
    })
}

/// log(10^k).
pub(crate) fn ln_decade(k: u32) -> f64 {
    k as f64 * std::f64::consts::LN_10
}

/// log n for each n = 10^k.
pub(crate) fn ln_decades(ks: &[u32]) -> Vec<f64> {
    ks.iter().map(|&k| ln_decade(k)).collect()
}

/// The powers of ten used by the rate fits.
pub(crate) fn decades(budget: Budget, from: u32, to: u32) -> Vec<u32> {
    let step = match budget {
        Budget::Quick => (to - from) / 8,
        Budget::Full => (to - from) / 40,
    }
    .max(1);
    (from..=to).step_by(step as usize).collect()
}

/// The sizes `ks` (powers of ten, ascending) as the range a method text quotes:
/// `1e{first}..1e{last}`, so that the text names the sizes actually used at every budget.
pub(crate) fn decade_range(ks: &[u32]) -> String {
    match (ks.first(), ks.last()) {
        (Some(first), Some(last)) => format!("1e{first}..1e{last}"),
        _ => "no sizes".to_owned(),
    }
}

/// The allowance of the exponent fits. The local slope differs from the asymptotic exponent by
/// the relative size of the next correction (≤ n^{−|κ|} ≈ 1e-6 at the smallest n used), so the
/// tolerance is 1e-4.
pub(crate) const EXPONENT_TOLERANCE: f64 = 1e-4;

/// The words of a series: its quantity (ASCII, for data files), title and law (Unicode, for
/// figures; see [`Series`]).
pub(crate) struct Words {
    pub quantity: String,
    pub title: String,
    pub law: String,
}

/// The title of a rate series at γ = `ratio`·γ_c: `{what} {below|above} γ_c (γ = … γ_c, κ = …{extra})`.
pub(crate) fn rate_title(what: &str, ratio: f64, extra: &str) -> String {
    let side = if ratio < 1.0 { "below" } else { "above" };
    format!(
        "{what} {side} γ_c (γ = {} γ_c, κ = {}{extra})",
        number_text(ratio),
        number_text(ratio - 1.0)
    )
}

/// A power-law series log Y against log n (see [`Model::PowerLaw`]) at γ = `gamma_ratio`·γ_c.
pub(crate) fn power_law(
    id: &'static str,
    words: Words,
    gamma_ratio: f64,
    ks: &[u32],
    log_y: Vec<f64>,
    predicted: f64,
    method: String,
) -> Series {
    let Words {
        quantity,
        title,
        law,
    } = words;
    Series {
        id,
        model: Model::PowerLaw,
        x_label: "log n".to_owned(),
        y_label: format!("log({quantity})"),
        quantity,
        title,
        law,
        gamma_ratio: Some(gamma_ratio),
        leading_slope: None,
        log10_n: ks.to_vec(),
        log_n: ln_decades(ks),
        y: log_y,
        predicted,
        tolerance: EXPONENT_TOLERANCE,
        method,
    }
}

/// The series of `T1.rate.sub`: log λ against log n below γ_c (f64 log domain); slope 2κ.
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_sub_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| layer_f64(10f64.powi(k as i32), SUB, 0.0).ln_lambda)
        .collect();
    let method = format!(
        "OLS of log lambda on log n, f64 log domain, n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = 2.0 * (SUB - 1.0);
    let words = Words {
        quantity: "lambda".to_owned(),
        title: rate_title("λ", SUB, ""),
        law: format!("λ ≈ n^{{2κ}}/ρ: slope 2κ = {}", number_text(slope)),
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

/// The series of `T1.rate.super`: log(1 − λ) against log n above γ_c; slope −κ.
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_super_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| layer_f64(10f64.powi(k as i32), SUPER, 0.0).ln_one_minus_lambda)
        .collect();
    let method = format!(
        "OLS of log(1 - lambda) on log n, f64 log domain, n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = -(SUPER - 1.0);
    let words = Words {
        quantity: "1 - lambda".to_owned(),
        title: rate_title("1 − λ", SUPER, ""),
        law: format!("1 − λ ≈ 2ρ n^{{−κ}}: slope −κ = {}", number_text(slope)),
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

/// The series of `T1.rate.crit`: log|cos_out − 4ρ/(1+3ρ)| against log n at γ_c; slope −1. The
/// deviation (≈ 1/n) is far below f64's resolution, so this uses 512-bit big floats up to
/// n = 1e120 (full budget; 1e114 at the quick budget).
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_crit_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 10, 120);
    let bits = 512;
    let prec = Precision::new(bits).expect("valid");
    let rho = BigReal::parse_decimal(&prec, &RHO.to_string()).expect("decimal");
    let limit = cos_out_limit(Regime::Critical, &rho, &BigReal::zero(&prec));
    let mut log_y = Vec::new();
    for &k in &ks {
        let deviation = (layer_big(k, 1.0, 0.0, bits).cos_out - &limit).abs();
        log_y.push(deviation.ln().to_f64());
    }
    let method = format!(
        "OLS of log|cos_out - limit| on log n, {bits} bits, n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = -1.0;
    let words = Words {
        quantity: "|cos_out - 4 rho/(1+3 rho)|".to_owned(),
        title: format!("|cos_out − 4ρ/(1+3ρ)| at γ_c ({bits} bits)"),
        law: format!("|cos_out − 4ρ/(1+3ρ)| ≈ C/n: slope {}", number_text(slope)),
    };
    Ok(vec![power_law(
        RATE_CRIT.id,
        words,
        1.0,
        &ks,
        log_y,
        slope,
        method,
    )])
}

/// The law of every threshold series (THEORY §5).
pub(crate) const THRESHOLD_LAW: &str = "γ*(n) = γ_c + b/log n + O(1/n): intercept γ_c";

/// Sizes of the threshold fits.
pub(crate) fn threshold_sizes(budget: Budget) -> Vec<u32> {
    match budget {
        Budget::Quick => vec![8, 12, 16, 24, 32, 48, 64, 96, 128],
        Budget::Full => (8..=288).step_by(8).collect(),
    }
}

/// λ as a function of γ at n = 10^k (f64).
fn lambda_of_gamma(k: u32) -> impl Fn(f64) -> f64 {
    let n = 10f64.powi(k as i32);
    move |gamma: f64| layer_f64(n, gamma / gamma_c(), 0.0).lambda
}

/// The series of `T1.threshold`: γ*(n), where λ crosses 1/2 (bisection to 1e-14 from a 50-point
/// grid on [γ_c/2, 3γ_c]), at n = 1e8 … 1e128 (quick) or 1e288 (full), fitted to a + b/log n;
/// the claim is a = γ_c. λ depends on (n, γ) through κ log n up to O(1/n) terms, so the model is
/// exact to O(1/n) ≤ 1e-8: tolerance 1e-6 on a.
///
/// # Errors
///
/// When λ does not cross the level exactly once on the grid at some n (the message names n).
pub fn threshold_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = threshold_sizes(budget);
    let grid = linspace(0.5 * gamma_c(), 3.0 * gamma_c(), 50).map_err(|e| e.to_string())?;
    let mut gamma_star = Vec::new();
    for &k in &ks {
        let crossing = find_crossing(
            lambda_of_gamma(k),
            THRESHOLD_LEVEL,
            &grid,
            1e-14,
            Policy::Unique,
        )
        .map_err(|e| format!("n = 1e{k}: {e}"))?;
        gamma_star.push(crossing.root);
    }
    let level = fraction_text(THRESHOLD_LEVEL);
    Ok(vec![Series {
        id: THRESHOLD.id,
        quantity: format!("gamma* (lambda = {level})"),
        model: Model::InverseLog,
        x_label: "1/log n".to_owned(),
        y_label: "gamma*".to_owned(),
        title: format!("γ*(n) where λ = {level}"),
        law: THRESHOLD_LAW.to_owned(),
        gamma_ratio: None,
        // λ = 1/2 where p² = ρ/(1 + ρ) at leading order (THEORY §5): the phase grid's shift.
        leading_slope: Some(gamma_c() * asymptotic_shift_and_width(RHO).0),
        log_n: ln_decades(&ks),
        y: gamma_star,
        predicted: gamma_c(),
        tolerance: 1e-6,
        method: format!(
            "gamma*(n) where lambda = {level} (bisection), fit a + b/log n over n = 1e{}..1e{} ({} sizes)",
            ks[0],
            ks[ks.len() - 1],
            ks.len()
        ),
        log10_n: ks,
    }])
}

/// The series of `T1.width`: the width between the crossings of λ = 1/4 and λ = 3/4 (one
/// 80-point grid on [0.3γ_c, 4γ_c], bisection to 1e-14), fitted to k·(log n)^e by least squares
/// of log width on log log n; the claim is e = −1 (exact up to O(1/n)): tolerance 1e-4.
///
/// # Errors
///
/// When λ does not cross each width level exactly once on the grid at some n (the message names
/// n), or a width is not positive.
pub fn width_series(budget: Budget) -> Result<Vec<Series>, String> {
    let ks = threshold_sizes(budget);
    let grid = linspace(0.3 * gamma_c(), 4.0 * gamma_c(), 80).map_err(|e| e.to_string())?;
    let mut low = Vec::new();
    let mut high = Vec::new();
    for &k in &ks {
        let w = transition_width(
            lambda_of_gamma(k),
            WIDTH_LEVELS,
            &grid,
            1e-14,
            Policy::Unique,
        )
        .map_err(|e| format!("n = 1e{k}: {e}"))?;
        low.push(w.first.root);
        high.push(w.second.root);
    }
    let log_width = widths(&low, &high)
        .map_err(|e| e.to_string())?
        .iter()
        .map(|w| w.ln())
        .collect();
    let (from, to) = (fraction_text(WIDTH_LEVELS.0), fraction_text(WIDTH_LEVELS.1));
    let predicted = -1.0;
    Ok(vec![Series {
        id: WIDTH.id,
        quantity: format!("width (lambda = {from} -> {to})"),
        model: Model::PowerOfLog,
        x_label: "log log n".to_owned(),
        y_label: "log(width)".to_owned(),
        title: format!("width of the transition (λ = {from} → {to})"),
        law: format!(
            "width ≈ γ_c w(ρ)/log n: slope {} against log log n",
            number_text(predicted)
        ),
        gamma_ratio: None,
        leading_slope: None,
        log_n: ln_decades(&ks),
        y: log_width,
        predicted,
        tolerance: EXPONENT_TOLERANCE,
        method: format!(
            "width between lambda = {from} and {to}, OLS of log width on log log n, n = 1e{}..1e{}",
            ks[0],
            ks[ks.len() - 1]
        ),
        log10_n: ks,
    }])
}

/// `T1.rate.sub`: slope of log λ against log n below γ_c, predicted 2κ.
pub const RATE_SUB: SeriesCheck = SeriesCheck {
    id: "T1.rate.sub",
    series: rate_sub_series,
    judge: judge_single,
};

/// `T1.rate.super`: slope of log(1 − λ) against log n above γ_c, predicted −κ.
pub const RATE_SUPER: SeriesCheck = SeriesCheck {
    id: "T1.rate.super",
    series: rate_super_series,
    judge: judge_single,
};

/// `T1.rate.crit`: slope of log|cos_out − 4ρ/(1+3ρ)| against log n at γ_c, predicted −1.
pub const RATE_CRIT: SeriesCheck = SeriesCheck {
    id: "T1.rate.crit",
    series: rate_crit_series,
    judge: judge_single,
};

/// `T1.threshold`: the n → ∞ limit of γ*(n) (λ = 1/2), predicted γ_c.
pub const THRESHOLD: SeriesCheck = SeriesCheck {
    id: "T1.threshold",
    series: threshold_series,
    judge: judge_single,
};

/// `T1.width`: the exponent of log n in the width, predicted −1.
pub const WIDTH: SeriesCheck = SeriesCheck {
    id: "T1.width",
    series: width_series,
    judge: judge_single,
};

/// The fitted T1 claims, in registry order.
pub fn series_checks() -> Vec<SeriesCheck> {
    vec![RATE_SUB, RATE_SUPER, RATE_CRIT, THRESHOLD, WIDTH]
}

/// The T1 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T1.limit.sub",
            "below gamma_c cos_out -> 1 (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(SUB, 0.0, p)
        ),
        claim!(
            "T1.limit.crit",
            "at gamma_c cos_out -> 4 rho/(1+3 rho) (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(1.0, 0.0, p)
        ),
        claim!(
            "T1.limit.super",
            "above gamma_c cos_out -> rho (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(SUPER, 0.0, p)
        ),
        claim!(
            "T1.limit.sub.residual",
            "below gamma_c with residual a: cos_out -> rho(a+1)^2/(a^2+2a rho+rho)",
            Limit,
            |_, p| limit_f64(SUB, ALPHA, p)
        ),
        claim!(
            "T1.limit.crit.residual",
            "at gamma_c with residual a: cos_out -> rho(a+1)^2/(a^2+a(1+rho)+(1+3rho)/4)",
            Limit,
            |_, p| limit_f64(1.0, ALPHA, p)
        ),
        claim!(
            "T1.limit.super.residual",
            "above gamma_c with residual: cos_out -> rho",
            Limit,
            |_, p| limit_f64(SUPER, ALPHA, p)
        ),
        claim!(
            "T1.limit.sub.big",
            "below gamma_c cos_out -> 1 (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(SUB, 0.0, p)
        ),
        claim!(
            "T1.limit.crit.big",
            "at gamma_c cos_out -> 4 rho/(1+3 rho) (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(1.0, 0.0, p)
        ),
        claim!(
            "T1.limit.super.big",
            "above gamma_c cos_out -> rho (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(SUPER, 0.0, p)
        ),
        claim!(
            RATE_SUB.id,
            "below gamma_c lambda ~ n^(2 kappa)",
            Exponent,
            |b, p| RATE_SUB.measure(b, p)
        ),
        claim!(
            RATE_SUPER.id,
            "above gamma_c 1 - lambda ~ n^(-kappa)",
            Exponent,
            |b, p| RATE_SUPER.measure(b, p)
        ),
        claim!(
            RATE_CRIT.id,
            "at gamma_c |cos_out - 4rho/(1+3rho)| ~ n^(-1)",
            Exponent,
            |b, p| RATE_CRIT.measure(b, p)
        ),
        claim!(
            THRESHOLD.id,
            "gamma*(n) (lambda = 1/2) = a + b/log n with a = gamma_c",
            Threshold,
            |b, p| THRESHOLD.measure(b, p)
        ),
        claim!(
            WIDTH.id,
            "the transition width shrinks like (log n)^(-1)",
            Exponent,
            |b, p| WIDTH.measure(b, p)
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_methods_quote_the_sizes_used_at_each_budget() {
        for budget in [Budget::Quick, Budget::Full] {
            for (from, to) in [(20, 300), (10, 120)] {
                let ks = decades(budget, from, to);
                let range = decade_range(&ks);
                assert_eq!(range, format!("1e{}..1e{}", ks[0], ks[ks.len() - 1]));
            }
        }
        // At the full budget the sizes run to the ends asked for, so the reference report's
        // method texts are those of the fixed ranges; the quick budget stops short of 1e120.
        assert_eq!(decade_range(&decades(Budget::Full, 20, 300)), "1e20..1e300");
        assert_eq!(decade_range(&decades(Budget::Full, 10, 120)), "1e10..1e120");
        assert_ne!(
            decade_range(&decades(Budget::Quick, 10, 120)),
            "1e10..1e120"
        );
        let series = rate_sub_series(Budget::Quick).expect("f64 series");
        assert!(series[0].method.contains("n = 1e20..1e300 (9 sizes)"));
    }
}
