//! T6 (beyond the paper; THEORY §10): repeated tokens. On a context whose distinct directions form
//! a simplex of cosine ρ, a token whose type has share f = c/n puts the mass
//! s = 1/(1 + ((1 − f)/f)e^{−β(1−ρ)}) on its own copies, so s = ½ at
//! **β = log((1 − f)/f)/(1 − ρ)**, whatever n is (`critscale_simplex::multiset`). The checks run
//! on Gaussian contexts with repeated tokens (`critscale_sweeps::repeats`, ρ = 0.3, d = 256, tag
//! `T6`): the exact mean self mass Σ_{j copy of i} A_ij of the repeated rows, bisected in β to
//! 1e-9.
//!
//! * `T6.self.crossing`: the measured crossing β* against the law log((1 − f)/f)/(1 − ρ̂), ρ̂ the
//!   measured rows' mean cosine to the tokens outside their type, on contexts with equal
//!   multiplicities (m = 4, 8, 16 types, n/m copies each) and with unequal ones (2 types of n/8 or
//!   n/16 copies among singletons), n = 1024. The measurement is the mean over the contexts of
//!   β*/β_law with its Student-t interval, predicted 1. **Tolerance** (`proofs/T6.md`): the law
//!   replaces every cosine by the row's mean μ_i; at the crossing
//!   β(1 − μ_i) = log((1 − f)/f) + J_i(β) exactly, J_i = log mean_j e^{β(g_ij − μ_i)} ≥ 0 (Jensen)
//!   the log-Laplace transform of the row's cosines, = β²v_i/2 for Gaussian cosines of variance v_i.
//!   The allowance is J ≤ β²v (sub-Gaussian cosines with variance proxy ≤ 2v, twice the Gaussian
//!   value), relative to the law: max over the contexts of β_law·v/(1 − ρ̂) (≈ 0.5–1.5% at d = 256).
//!   It is computed from the inputs and the law, not from the comparison. Controls: near-copies
//!   (cosine 0.9 inside a type instead of 1: the type's mass crosses near log((1 − f)/f)/(0.9 − ρ),
//!   17% later) and d = 16 (the cosines fluctuate so much that J is not small), both judged with
//!   the claim's tolerance.
//! * `T6.self.flat`: at a fixed share (2 types of n/8 copies among singletons), the slope of β*
//!   against log n over n = 256 … 2048 (quick) or 8192 (full), predicted 0 (e^{β*} ∝ n^0), with
//!   the fit's 95% interval; γ* = β*/log n falls like 1/log n (in the method text). Tolerance: the
//!   only n-dependence the law leaves out, the O(1/n) bias of the log of the singletons' mean
//!   weight (≤ β²v/(2(1 − 2f)n(1 − ρ̂)) in β), over the fit's range of log n. Controls: distinct
//!   tokens (f = 1/n: β* = log(n − 1)/(1 − ρ) grows like log n/(1 − ρ)) and a fixed count of 8
//!   copies (f = 8/n: the same growth), judged with the claim's tolerance.

use crate::{Budget, CONFIDENCE_LEVEL, Claim, Measurement, Perturbation, control};
use critscale_asymptotics::powerlaw::fit_log_ols_logs;
use critscale_asymptotics::stats::t_critical;
use critscale_simplex::self_mass_crossing;
use critscale_sweeps::repeats::{Context, Layout, Repeats};
use critscale_sweeps::{Memo, SampleKey};

/// The sample tag of every T6 context.
pub const TAG: &str = "T6";
/// Nominal mean cosine of the Gaussian directions.
pub const RHO: f64 = 0.3;
/// Dimension of the claims' contexts.
pub const D: usize = 256;
/// Dimension of the `T6.self.crossing` control where the cosines fluctuate too much.
pub const D_SMALL: usize = 16;
/// Context size of `T6.self.crossing`.
pub const CROSSING_N: usize = 1024;
/// The cosine inside a type of the near-copy control.
pub const NEAR_COPY: f64 = 0.9;
/// The crossings are bisected to a bracket of this width in β.
const XTOL: f64 = 1e-9;

/// Seeds (replicates) per context.
fn seeds(budget: Budget) -> u64 {
    match budget {
        Budget::Quick => 3,
        Budget::Full => 8,
    }
}

/// The layouts of `T6.self.crossing` at n: equal multiplicities (f = 1/4, 1/8, 1/16) and two
/// frequent types among singletons (f = 1/8, 1/16).
fn crossing_layouts(n: usize) -> Vec<Layout> {
    vec![
        Layout::Equal { types: 4 },
        Layout::Equal { types: 8 },
        Layout::Equal { types: 16 },
        Layout::Frequent {
            types: 2,
            count: n / 8,
        },
        Layout::Frequent {
            types: 2,
            count: n / 16,
        },
    ]
}

/// The layouts of the near-copy control: the unequal ones of the claim (near-copies of all n
/// tokens of an equal layout would need an n × n matrix of cosines).
fn near_layouts(n: usize) -> Vec<Layout> {
    crossing_layouts(n)
        .into_iter()
        .filter(|l| matches!(l, Layout::Frequent { .. }))
        .collect()
}

/// One context's crossing and what the law says of it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Point {
    /// log n.
    ln_n: f64,
    /// The measured β* (mean self mass = ½).
    beta: f64,
    /// The law log((1 − f)/f)/(1 − ρ̂).
    law: f64,
    /// The share f of the measured rows.
    share: f64,
    /// ρ̂.
    rho_hat: f64,
    /// The mean variance v of the measured rows' cosines.
    var: f64,
    /// The mean third central moment.
    k3: f64,
}

/// Draws a context and bisects its crossing.
fn point(repeats: Repeats, n: usize, d: usize, seed: u64) -> Result<Point, String> {
    let key = SampleKey::new(TAG, n, d, RHO, seed);
    let ctx: Context = repeats.draw(&key).map_err(|e| e.to_string())?;
    let crossing = ctx.self_mass_crossing(XTOL).map_err(|e| e.to_string())?;
    let (share, rho_hat) = (ctx.share(), ctx.rho_hat());
    Ok(Point {
        ln_n: (n as f64).ln(),
        beta: crossing.root,
        law: self_mass_crossing(&share, &rho_hat),
        share,
        rho_hat,
        var: ctx.var(),
        k3: ctx.k3(),
    })
}

/// Every (layout, seed) context of `layouts` at (n, d), exact copies or near-copies.
fn points(
    layouts: &[Layout],
    within: Option<f64>,
    ns: &[usize],
    d: usize,
    budget: Budget,
) -> Result<Vec<Point>, String> {
    let mut out = Vec::new();
    for &n in ns {
        for layout in layouts {
            for seed in 0..seeds(budget) {
                out.push(point(
                    Repeats {
                        layout: *layout,
                        within,
                    },
                    n,
                    d,
                    seed,
                )?);
            }
        }
    }
    Ok(out)
}

/// The relative allowance of one context: J ≤ β²v in log-odds, over (1 − ρ̂) in β, relative to
/// the law (see the module docs).
fn allowance(p: &Point) -> f64 {
    p.law * p.var / (1.0 - p.rho_hat)
}

/// The mean of `r` and its Student-t interval at [`CONFIDENCE_LEVEL`].
fn mean_interval(r: &[f64]) -> Result<(f64, [f64; 2]), String> {
    if r.len() < 2 {
        return Err(format!("need 2 or more values, got {}", r.len()));
    }
    let k = r.len() as f64;
    let mean = r.iter().sum::<f64>() / k;
    let sd = (r.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1.0)).sqrt();
    let t = t_critical(CONFIDENCE_LEVEL, r.len() - 1).map_err(|e| e.to_string())?;
    let half = t * sd / k.sqrt();
    Ok((mean, [mean - half, mean + half]))
}

/// β*/β_law over `points`, judged against 1 with `tolerance`.
fn ratio(points: &[Point], tolerance: f64, setting: &str) -> Result<Measurement, String> {
    let r: Vec<f64> = points.iter().map(|p| p.beta / p.law).collect();
    let (mean, ci) = mean_interval(&r)?;
    // The measured shift in units of the Gaussian first-order shift β²v/2 (in log-odds).
    let first: Vec<f64> = points
        .iter()
        .map(|p| (p.beta - p.law) * (1.0 - p.rho_hat) / (p.law * p.law * p.var / 2.0))
        .collect();
    let (lo, hi) = first
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        });
    let k3 = points
        .iter()
        .map(|p| (p.law * p.k3.abs() / 3.0) / p.var)
        .fold(0.0f64, f64::max);
    Ok(Measurement {
        prediction: 1.0,
        measured: mean,
        ci,
        tolerance,
        method: format!(
            "beta*/beta_law, beta* the exact mean self-mass crossing (bisection to {XTOL:e}), beta_law = log((1-f)/f)/(1-rho_hat); {setting}; {} contexts, ratios {:.4}..{:.4}; (beta* - beta_law)(1-rho_hat)/(beta^2 v/2) in {lo:.2}..{hi:.2}; max beta|k3|/(3v) = {k3:.3}",
            points.len(),
            r.iter().copied().fold(f64::INFINITY, f64::min),
            r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        ),
    })
}

/// The contexts of `T6.self.crossing`.
fn crossing_points(budget: Budget) -> Result<Vec<Point>, String> {
    static CACHE: Memo<Budget, Result<Vec<Point>, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        points(
            &crossing_layouts(CROSSING_N),
            None,
            &[CROSSING_N],
            D,
            budget,
        )
    })
}

/// The claim's tolerance: the largest relative allowance over its contexts.
fn crossing_tolerance(budget: Budget) -> Result<f64, String> {
    Ok(crossing_points(budget)?
        .iter()
        .map(allowance)
        .fold(0.0f64, f64::max))
}

/// β*/β_law → 1 on exact copies.
fn crossing(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    let mut m = ratio(
        &crossing_points(budget)?,
        crossing_tolerance(budget)?,
        &format!(
            "exact copies, n = {CROSSING_N}, d = {D}, rho = {RHO}, layouts m = 4, 8, 16 equal types and 2 types of n/8, n/16 copies among singletons, {} seeds; tolerance max beta_law v/(1-rho_hat) (J <= beta^2 v)",
            seeds(budget)
        ),
    )?;
    m.prediction += p.limit;
    Ok(m)
}

/// Control of `T6.self.crossing`: near-copies at cosine 0.9 inside a type.
fn crossing_near(budget: Budget) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        let pts = points(
            &near_layouts(CROSSING_N),
            Some(NEAR_COPY),
            &[CROSSING_N],
            D,
            budget,
        )?;
        ratio(
            &pts,
            crossing_tolerance(budget)?,
            &format!(
                "near-copies (cosine {NEAR_COPY} inside a type), n = {CROSSING_N}, d = {D}, 2 types of n/8, n/16 near-copies among singletons; tolerance that of the claim"
            ),
        )
    })
}

/// Control of `T6.self.crossing`: exact copies at d = 16.
fn crossing_small_d(budget: Budget) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        let pts = points(
            &crossing_layouts(CROSSING_N),
            None,
            &[CROSSING_N],
            D_SMALL,
            budget,
        )?;
        let b2v = pts
            .iter()
            .map(|p| p.law * p.law * p.var)
            .fold(0.0f64, f64::max);
        ratio(
            &pts,
            crossing_tolerance(budget)?,
            &format!(
                "exact copies at d = {D_SMALL} (max beta^2 v = {b2v:.2}), n = {CROSSING_N}, the claim's layouts; tolerance that of the claim"
            ),
        )
    })
}

/// The sizes of `T6.self.flat`.
fn flat_sizes(budget: Budget) -> Vec<usize> {
    match budget {
        Budget::Quick => vec![256, 512, 1024, 2048],
        Budget::Full => vec![256, 512, 1024, 2048, 4096, 8192],
    }
}

/// The share of each of the two frequent types of `T6.self.flat`.
const FLAT_SHARE: usize = 8;

/// The slope of β* against log n over `points`, judged against 0 with `tolerance`.
fn slope(points: &[Point], tolerance: f64, setting: &str) -> Result<Measurement, String> {
    let x: Vec<f64> = points.iter().map(|p| p.ln_n).collect();
    let y: Vec<f64> = points.iter().map(|p| p.beta).collect();
    let fit = fit_log_ols_logs(&x, &y, None, CONFIDENCE_LEVEL).map_err(|e| e.to_string())?;
    let at = |ln_n: f64| -> (f64, f64) {
        let sel: Vec<&Point> = points.iter().filter(|p| p.ln_n == ln_n).collect();
        let k = sel.len() as f64;
        let beta = sel.iter().map(|p| p.beta).sum::<f64>() / k;
        (beta, beta / ln_n)
    };
    let (first, last) = (x[0], x[x.len() - 1]);
    let ((b0, g0), (b1, g1)) = (at(first), at(last));
    Ok(Measurement {
        prediction: 0.0,
        measured: fit.alpha,
        ci: [fit.alpha_ci.0, fit.alpha_ci.1],
        tolerance,
        method: format!(
            "least-squares slope of beta* (exact mean self-mass crossing) against log n, {} contexts; {setting}; mean beta* {b0:.4} (n = {:.0}) -> {b1:.4} (n = {:.0}), gamma* = beta*/log n {g0:.4} -> {g1:.4}",
            points.len(),
            first.exp(),
            last.exp(),
        ),
    })
}

/// The contexts of `T6.self.flat`.
fn flat_points(budget: Budget) -> Result<Vec<Point>, String> {
    static CACHE: Memo<Budget, Result<Vec<Point>, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        let mut out = Vec::new();
        for n in flat_sizes(budget) {
            let layout = Layout::Frequent {
                types: 2,
                count: n / FLAT_SHARE,
            };
            out.extend(points(&[layout], None, &[n], D, budget)?);
        }
        Ok(out)
    })
}

/// The tolerance of `T6.self.flat`: the largest O(1/n) bias β²v/(2(1 − 2f)n(1 − ρ̂)) of β*,
/// over the fit's range of log n.
fn flat_tolerance(budget: Budget) -> Result<f64, String> {
    let pts = flat_points(budget)?;
    let range = pts.iter().map(|p| p.ln_n).fold(f64::NEG_INFINITY, f64::max)
        - pts.iter().map(|p| p.ln_n).fold(f64::INFINITY, f64::min);
    let bias = pts
        .iter()
        .map(|p| {
            let singles = (1.0 - 2.0 * p.share) * p.ln_n.exp();
            p.beta * p.beta * p.var / (2.0 * singles * (1.0 - p.rho_hat))
        })
        .fold(0.0f64, f64::max);
    Ok(bias / range)
}

/// β* does not grow with n at a fixed share.
fn flat(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    let mut m = slope(
        &flat_points(budget)?,
        flat_tolerance(budget)?,
        &format!(
            "2 types of n/{FLAT_SHARE} exact copies among singletons (f = 1/{FLAT_SHARE}), d = {D}, rho = {RHO}, n = {:?}, {} seeds; tolerance the O(1/n) bias over the range of log n",
            flat_sizes(budget),
            seeds(budget)
        ),
    )?;
    m.prediction += p.exponent;
    Ok(m)
}

/// A control of `T6.self.flat`: the slope on contexts of `layout(n)`.
fn flat_control(
    budget: Budget,
    layout: fn(usize) -> Layout,
    words: &str,
) -> Result<Measurement, String> {
    let mut pts = Vec::new();
    for n in flat_sizes(budget) {
        pts.extend(points(&[layout(n)], None, &[n], D, budget)?);
    }
    slope(
        &pts,
        flat_tolerance(budget)?,
        &format!(
            "{words}, d = {D}, n = {:?}; tolerance that of the claim",
            flat_sizes(budget)
        ),
    )
}

/// Rows measured in the distinct-token control.
const DISTINCT_ROWS: usize = 16;
/// Copies per type in the fixed-count control.
const FIXED_COUNT: usize = 8;

/// Control of `T6.self.flat`: every token distinct (f = 1/n).
fn flat_distinct(budget: Budget) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        flat_control(
            budget,
            |_| Layout::Distinct {
                tracked: DISTINCT_ROWS,
            },
            &format!("distinct tokens (f = 1/n), the mean self weight A_ii of the first {DISTINCT_ROWS} rows"),
        )
    })
}

/// Control of `T6.self.flat`: 2 types of a fixed count of 8 copies (f = 8/n).
fn flat_fixed_count(budget: Budget) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    CACHE.get_or_insert_with(budget, || {
        flat_control(
            budget,
            |_| Layout::Frequent {
                types: 2,
                count: FIXED_COUNT,
            },
            &format!("2 types of {FIXED_COUNT} copies among singletons (f = {FIXED_COUNT}/n)"),
        )
    })
}

/// The T6 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T6.self.crossing",
            "with repeated tokens the mass a token puts on its own copies crosses 1/2 at beta = log((1-f)/f)/(1-rho_hat), f its type's share (beyond the paper; ratio 1, to J <= beta^2 v)",
            Limit,
            crossing,
            [
                control(
                    "near-copies: cosine 0.9 inside a type instead of exact copies (n = 1024, d = 256)",
                    crossing_near
                ),
                control(
                    "d = 16: the cosines fluctuate too much for the simplex law (n = 1024, exact copies)",
                    crossing_small_d
                ),
            ]
        ),
        claim!(
            "T6.self.flat",
            "at a fixed share f the self-mass crossing beta* does not grow with n (slope of beta* against log n = 0, so gamma* = beta*/log n falls; beyond the paper)",
            Exponent,
            flat,
            [
                control(
                    "distinct tokens (f = 1/n): beta* = log(n-1)/(1-rho) grows like log n",
                    flat_distinct
                ),
                control(
                    "a fixed count of 8 copies per type (f = 8/n): beta* grows like log n",
                    flat_fixed_count
                ),
            ]
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Verdict;

    #[test]
    fn both_claims_pass_and_reject_their_controls_at_the_quick_budget() {
        for claim in claims() {
            let e = claim
                .run(Budget::Quick, &Perturbation::default())
                .unwrap_or_else(|e| panic!("{e}"));
            eprintln!(
                "{}: predicted {} measured {} ci {:?} tol {:.3e}\n  {}",
                e.id, e.prediction, e.measured, e.ci, e.tolerance, e.method
            );
            for c in &e.controls {
                eprintln!(
                    "  control {}: measured {} ci {:?} tol {:.3e} -> {:?}\n    {}",
                    c.setting, c.measured, c.ci, c.tolerance, c.verdict, c.method
                );
            }
            assert_eq!(e.verdict, Verdict::Pass, "{e:?}");
            assert!(e.controls.iter().all(|c| c.rejected()));
        }
    }
}
