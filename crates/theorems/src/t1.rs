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
    Budget, Claim, Measurement, Model, Perturbation, Series, SeriesCheck, control, fraction_text,
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

/// Where a limit claim is measured: at its own γ/γ_c (`claim`), or, for a negative control, at
/// another γ/γ_c (`at`) on a different side of γ_c, where the claimed limit is false.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Where {
    /// γ/γ_c of the claim: its predicted limit and tolerance.
    pub claim: f64,
    /// γ/γ_c the layer is evaluated at.
    pub at: f64,
}

impl Where {
    /// The claim measured at its own γ.
    pub(crate) const fn own(ratio: f64) -> Where {
        Where {
            claim: ratio,
            at: ratio,
        }
    }

    /// The claim's check at another γ (a control).
    pub(crate) const fn control(claim: f64, at: f64) -> Where {
        Where { claim, at }
    }

    /// `, evaluated at γ = … γ_c` for a control, nothing otherwise.
    pub(crate) fn words(self) -> String {
        if self.at == self.claim {
            String::new()
        } else {
            format!(", evaluated at gamma = {} gamma_c", self.at)
        }
    }
}

/// cos_out at n = 1e300 in f64 against the T1 limit; tolerance K·n^{−e} + rounding, e the
/// predicted exponent of approach (K = `LIMIT_RATE_CONSTANT`).
fn limit_f64(w: Where, alpha: f64, p: &Perturbation) -> Result<Measurement, String> {
    let n = 1e300;
    let measured = layer_f64(n, w.at, alpha).cos_out;
    Ok(Measurement {
        prediction: limit_at(w.claim, alpha, p),
        measured,
        ci: [measured, measured],
        tolerance: LIMIT_RATE_CONSTANT * n.powf(-approach_exponent(w.claim, alpha))
            + F64_LIMIT_ROUNDING_ABS,
        method: format!("closed form, f64, n = 1e300{}", w.words()),
    })
}

/// cos_out at n = 1e10000 with 128-bit big floats; the deviation n^{−e} is far below 1e-30.
fn limit_big(w: Where, alpha: f64, p: &Perturbation) -> Result<Measurement, String> {
    let measured = layer_big(10_000, w.at, alpha, 128).cos_out.to_f64();
    Ok(Measurement {
        prediction: limit_at(w.claim, alpha, p),
        measured,
        ci: [measured, measured],
        tolerance: 1e-30 + F64_LIMIT_ROUNDING_ABS,
        method: format!(
            "closed form, astro-float 128 bits, n = 1e10000{}",
            w.words()
        ),
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
    rate_sub_at(budget, SUB)
}

/// The series of `T1.rate.sub` at γ = `ratio`·γ_c, its predicted slope 2κ at that κ (a
/// control evaluates it above γ_c, where λ → 1 and the law n^{2κ} cannot hold).
fn rate_sub_at(budget: Budget, ratio: f64) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| layer_f64(10f64.powi(k as i32), ratio, 0.0).ln_lambda)
        .collect();
    let method = format!(
        "OLS of log lambda on log n, f64 log domain, n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = 2.0 * (ratio - 1.0);
    let words = Words {
        quantity: "lambda".to_owned(),
        title: rate_title("λ", ratio, ""),
        law: format!("λ ≈ n^{{2κ}}/ρ: slope 2κ = {}", number_text(slope)),
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

/// The series of `T1.rate.super`: log(1 − λ) against log n above γ_c; slope −κ.
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_super_series(budget: Budget) -> Result<Vec<Series>, String> {
    rate_super_at(budget, SUPER)
}

/// The series of `T1.rate.super` at γ = `ratio`·γ_c, its predicted slope −κ at that κ (a
/// control evaluates it below γ_c, where 1 − λ → 1).
fn rate_super_at(budget: Budget, ratio: f64) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 20, 300);
    let log_y: Vec<f64> = ks
        .iter()
        .map(|&k| layer_f64(10f64.powi(k as i32), ratio, 0.0).ln_one_minus_lambda)
        .collect();
    let method = format!(
        "OLS of log(1 - lambda) on log n, f64 log domain, n = {} ({} sizes)",
        decade_range(&ks),
        ks.len()
    );
    let slope = -(ratio - 1.0);
    let words = Words {
        quantity: "1 - lambda".to_owned(),
        title: rate_title("1 − λ", ratio, ""),
        law: format!("1 − λ ≈ 2ρ n^{{−κ}}: slope −κ = {}", number_text(slope)),
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

/// The series of `T1.rate.crit`: log|cos_out − 4ρ/(1+3ρ)| against log n at γ_c; slope −1. The
/// deviation (≈ 1/n) is far below f64's resolution, so this uses 512-bit big floats up to
/// n = 1e120 (full budget; 1e114 at the quick budget).
///
/// # Errors
///
/// None in practice (the closed forms are evaluated at fixed, valid parameters); the `Result`
/// is the signature every [`crate::SeriesCheck::series`] shares.
pub fn rate_crit_series(budget: Budget) -> Result<Vec<Series>, String> {
    rate_crit_at(budget, 1.0)
}

/// The series of `T1.rate.crit` with the layer at γ = `ratio`·γ_c (a control evaluates it
/// slightly above γ_c, where cos_out → ρ and the deviation from 4ρ/(1+3ρ) does not vanish).
fn rate_crit_at(budget: Budget, ratio: f64) -> Result<Vec<Series>, String> {
    let ks = decades(budget, 10, 120);
    let bits = 512;
    let prec = Precision::new(bits).expect("valid");
    let rho = BigReal::parse_decimal(&prec, &RHO.to_string()).expect("decimal");
    let limit = cos_out_limit(Regime::Critical, &rho, &BigReal::zero(&prec));
    let mut log_y = Vec::new();
    for &k in &ks {
        let deviation = (layer_big(k, ratio, 0.0, bits).cos_out - &limit).abs();
        log_y.push(deviation.ln().to_f64());
    }
    let at = if ratio == 1.0 {
        String::new()
    } else {
        format!(", layer at gamma = {ratio} gamma_c")
    };
    let method = format!(
        "OLS of log|cos_out - limit| on log n, {bits} bits, n = {} ({} sizes){at}",
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
        ratio,
        &ks,
        log_y,
        slope,
        method,
    )])
}

/// The law of every threshold series (THEORY §5).
pub(crate) const THRESHOLD_LAW: &str = "γ*(n) = γ_c + b/log n + O(1/n): intercept γ_c";

/// Sizes of the threshold fits, n = 10^k from 1e16: the terms the model a + b/log n leaves out
/// are O(1/n) for λ and O((log n)²/n) for η (the attention covariance β²/d at d = n), which the
/// slope b carries multiplied by log n. At n = 1e8 that is ≈ 1e-6 in b_η (measured: the fitted
/// b_η was 1.0e-6 off its exact value with 1e8 included); from 1e16 on it is below 1e-10.
pub(crate) fn threshold_sizes(budget: Budget) -> Vec<u32> {
    match budget {
        Budget::Quick => vec![16, 24, 32, 48, 64, 96, 128, 160, 192],
        Budget::Full => (16..=288).step_by(8).collect(),
    }
}

/// How the inverse temperature follows the parameter γ that a threshold check scans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BetaRule {
    /// The paper's scaling β = γ log n: the transition sits at γ_c + O(1/log n).
    GammaLogN,
    /// β = γ, no log n (a negative control): λ = 1/2 needs β ≈ log n/(1 − ρ), so the crossing
    /// runs away like log n and there is no n → ∞ threshold at γ_c.
    Constant,
}

impl BetaRule {
    /// The simplex layer (f64, q = 1, d = n, no residual) at n and the scanned parameter γ.
    pub(crate) fn layer(self, n: f64, gamma: f64) -> SimplexLayer<f64> {
        match self {
            BetaRule::GammaLogN => layer_f64(n, gamma / gamma_c(), 0.0),
            BetaRule::Constant => {
                let params = SimplexParams::new(n, RHO, Scaling::Beta(gamma), 0.0, 1.0, Some(n))
                    .expect("valid point");
                SimplexLayer::evaluate(&params)
            }
        }
    }

    /// The scan grid at n for a threshold check whose paper-scaling grid is
    /// [`lo`·γ_c, `hi`·γ_c]: the same for β = γ log n, stretched by log n for β = γ (where the
    /// crossing lies near log n/(1 − ρ)).
    pub(crate) fn grid(self, n: f64, lo: f64, hi: f64, points: usize) -> Result<Vec<f64>, String> {
        let stretch = match self {
            BetaRule::GammaLogN => 1.0,
            BetaRule::Constant => n.ln(),
        };
        linspace(lo * gamma_c(), hi * gamma_c() * stretch, points).map_err(|e| e.to_string())
    }

    /// Words for titles and methods: nothing for the paper's scaling.
    pub(crate) fn words(self) -> &'static str {
        match self {
            BetaRule::GammaLogN => "",
            BetaRule::Constant => " (control: beta = gamma, no log n)",
        }
    }
}

/// λ as a function of γ at n = 10^k (f64) under `rule`.
fn lambda_of_gamma(k: u32, rule: BetaRule) -> impl Fn(f64) -> f64 {
    let n = 10f64.powi(k as i32);
    move |gamma: f64| rule.layer(n, gamma).lambda
}

/// The series of `T1.threshold`: γ*(n), where λ crosses 1/2 (bisection to 1e-14 from a 50-point
/// grid on [γ_c/2, 3γ_c]), at n = 1e16 … 1e192 (quick) or 1e288 (full), fitted to a + b/log n;
/// the claim is a = γ_c. λ depends on (n, γ) through κ log n up to O(1/n) terms, so the model is
/// exact to O(1/n) ≤ 1e-16: tolerance 1e-6 on a.
///
/// # Errors
///
/// When λ does not cross the level exactly once on the grid at some n (the message names n).
pub fn threshold_series(budget: Budget) -> Result<Vec<Series>, String> {
    threshold_series_with(budget, BetaRule::GammaLogN)
}

/// The series of `T1.threshold` under `rule` (see [`BetaRule`]).
pub(crate) fn threshold_series_with(budget: Budget, rule: BetaRule) -> Result<Vec<Series>, String> {
    let ks = threshold_sizes(budget);
    let mut gamma_star = Vec::new();
    for &k in &ks {
        let grid = rule.grid(10f64.powi(k as i32), 0.5, 3.0, 50)?;
        let crossing = find_crossing(
            lambda_of_gamma(k, rule),
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
        title: format!("γ*(n) where λ = {level}{}", rule.words()),
        law: THRESHOLD_LAW.to_owned(),
        gamma_ratio: None,
        // λ = 1/2 where p² = ρ/(1 + ρ) at leading order (THEORY §5): the phase grid's shift.
        leading_slope: Some(gamma_c() * asymptotic_shift_and_width(RHO).0),
        log_n: ln_decades(&ks),
        y: gamma_star,
        predicted: gamma_c(),
        tolerance: 1e-6,
        method: format!(
            "gamma*(n) where lambda = {level} (bisection), fit a + b/log n over n = 1e{}..1e{} ({} sizes){}",
            ks[0],
            ks[ks.len() - 1],
            ks.len(),
            rule.words()
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
    width_series_with(budget, BetaRule::GammaLogN)
}

/// The series of `T1.width` under `rule` (see [`BetaRule`]).
fn width_series_with(budget: Budget, rule: BetaRule) -> Result<Vec<Series>, String> {
    let ks = threshold_sizes(budget);
    let mut low = Vec::new();
    let mut high = Vec::new();
    for &k in &ks {
        let grid = rule.grid(10f64.powi(k as i32), 0.3, 4.0, 80)?;
        let w = transition_width(
            lambda_of_gamma(k, rule),
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
        title: format!(
            "width of the transition (λ = {from} → {to}){}",
            rule.words()
        ),
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
            "width between lambda = {from} and {to}, OLS of log width on log log n, n = 1e{}..1e{}{}",
            ks[0],
            ks[ks.len() - 1],
            rule.words()
        ),
        log10_n: ks,
    }])
}

/// The judge of a threshold's slope: b of the fit γ*(n) = a + b/log n of the one threshold
/// series, with its t-interval, against the series' exact leading slope b = γ_c·logit p_ℓ
/// (THEORY §9; p_ℓ the self weight at which the level is reached), moved by the perturbation
/// of γ_c. The neglected terms in γ*(n) are O((log n)²/n) at most ([`threshold_sizes`]), below
/// 1e-10 in b at n ≥ 1e16; the tolerance 1e-6 leaves room for the f64 evaluation of λ and η
/// near the crossing.
///
/// # Errors
///
/// When `series` is not one threshold series ([`Model::InverseLog`] with a leading slope), or
/// its fit fails.
pub fn judge_slope(series: &[Series], p: &Perturbation) -> Result<Measurement, String> {
    let [one] = series else {
        return Err(format!("expected one series, got {}", series.len()));
    };
    let b = one
        .leading_slope
        .filter(|_| one.model == Model::InverseLog)
        .ok_or("not a threshold series")?;
    let fit =
        critscale_asymptotics::fit_inverse_log(&one.log_n, &one.y, None, crate::CONFIDENCE_LEVEL)
            .map_err(|e| e.to_string())?;
    Ok(Measurement {
        prediction: b + p.gamma_c,
        measured: fit.b,
        ci: [fit.b_ci.0, fit.b_ci.1],
        tolerance: 1e-6,
        method: format!("{}; slope b of the fit; a = {:.9}", one.method, fit.a),
    })
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

/// The setting of the threshold and width controls ([`BetaRule::Constant`]).
pub(crate) const CONSTANT_BETA: &str =
    "beta = gamma without the log n factor (no threshold at a fixed gamma)";

/// The T1 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T1.limit.sub",
            "below gamma_c cos_out -> 1 (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(Where::own(SUB), 0.0, p),
            limit_controls!(
                SUB,
                |w| limit_f64(w, 0.0, &Perturbation::default()),
                1.0 => "gamma = gamma_c (at the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.crit",
            "at gamma_c cos_out -> 4 rho/(1+3 rho) (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(Where::own(1.0), 0.0, p),
            limit_controls!(
                1.0,
                |w| limit_f64(w, 0.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.super",
            "above gamma_c cos_out -> rho (n = 1e300, f64)",
            Limit,
            |_, p| limit_f64(Where::own(SUPER), 0.0, p),
            limit_controls!(
                SUPER,
                |w| limit_f64(w, 0.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.0 => "gamma = gamma_c (at the threshold)"
            )
        ),
        claim!(
            "T1.limit.sub.residual",
            "below gamma_c with residual a: cos_out -> rho(a+1)^2/(a^2+2a rho+rho)",
            Limit,
            |_, p| limit_f64(Where::own(SUB), ALPHA, p),
            limit_controls!(
                SUB,
                |w| limit_f64(w, ALPHA, &Perturbation::default()),
                1.0 => "gamma = gamma_c (at the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.crit.residual",
            "at gamma_c with residual a: cos_out -> rho(a+1)^2/(a^2+a(1+rho)+(1+3rho)/4)",
            Limit,
            |_, p| limit_f64(Where::own(1.0), ALPHA, p),
            limit_controls!(
                1.0,
                |w| limit_f64(w, ALPHA, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.super.residual",
            "above gamma_c with residual: cos_out -> rho",
            Limit,
            |_, p| limit_f64(Where::own(SUPER), ALPHA, p),
            limit_controls!(
                SUPER,
                |w| limit_f64(w, ALPHA, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.0 => "gamma = gamma_c (at the threshold)"
            )
        ),
        claim!(
            "T1.limit.sub.big",
            "below gamma_c cos_out -> 1 (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(Where::own(SUB), 0.0, p),
            limit_controls!(
                SUB,
                |w| limit_big(w, 0.0, &Perturbation::default()),
                1.0 => "gamma = gamma_c (at the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.crit.big",
            "at gamma_c cos_out -> 4 rho/(1+3 rho) (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(Where::own(1.0), 0.0, p),
            limit_controls!(
                1.0,
                |w| limit_big(w, 0.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.05 => "gamma = 1.05 gamma_c (above the threshold)"
            )
        ),
        claim!(
            "T1.limit.super.big",
            "above gamma_c cos_out -> rho (n = 1e10000, 128 bits)",
            Limit,
            |_, p| limit_big(Where::own(SUPER), 0.0, p),
            limit_controls!(
                SUPER,
                |w| limit_big(w, 0.0, &Perturbation::default()),
                0.95 => "gamma = 0.95 gamma_c (below the threshold)",
                1.0 => "gamma = gamma_c (at the threshold)"
            )
        ),
        claim!(
            RATE_SUB.id,
            "below gamma_c lambda ~ n^(2 kappa)",
            Exponent,
            |b, p| RATE_SUB.measure(b, p),
            [control(
                "gamma = 1.3 gamma_c (above the threshold; law at that kappa)",
                |b| { judge_single(&rate_sub_at(b, SUPER)?, &Perturbation::default()) }
            )]
        ),
        claim!(
            RATE_SUPER.id,
            "above gamma_c 1 - lambda ~ n^(-kappa)",
            Exponent,
            |b, p| RATE_SUPER.measure(b, p),
            [control(
                "gamma = 0.7 gamma_c (below the threshold; law at that kappa)",
                |b| { judge_single(&rate_super_at(b, SUB)?, &Perturbation::default()) }
            )]
        ),
        claim!(
            RATE_CRIT.id,
            "at gamma_c |cos_out - 4rho/(1+3rho)| ~ n^(-1)",
            Exponent,
            |b, p| RATE_CRIT.measure(b, p),
            [control(
                "gamma = 1.05 gamma_c (just above the threshold)",
                |b| { judge_single(&rate_crit_at(b, 1.05)?, &Perturbation::default()) }
            )]
        ),
        claim!(
            THRESHOLD.id,
            "gamma*(n) (lambda = 1/2) = a + b/log n with a = gamma_c",
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
            "T1.threshold.slope",
            "gamma*(n) (lambda = 1/2) = a + b/log n with b = gamma_c logit(sqrt(rho/(1+rho)))",
            Threshold,
            |b, p| judge_slope(&threshold_series(b)?, p),
            [control(CONSTANT_BETA, |b| {
                judge_slope(
                    &threshold_series_with(b, BetaRule::Constant)?,
                    &Perturbation::default(),
                )
            })]
        ),
        claim!(
            WIDTH.id,
            "the transition width shrinks like (log n)^(-1)",
            Exponent,
            |b, p| WIDTH.measure(b, p),
            [control(CONSTANT_BETA, |b| {
                judge_single(
                    &width_series_with(b, BetaRule::Constant)?,
                    &Perturbation::default(),
                )
            })]
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
