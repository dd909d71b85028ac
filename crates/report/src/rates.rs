//! Rates and thresholds: the series behind the fitted claims, plotted with their fits.
//!
//! The rate and threshold claims of `crates/theorems` (`T1.rate.*`, `T1.threshold`, `T1.width`,
//! `T3.rate.*`, `T3.threshold.coincide`) are judged on least-squares fits to series of points,
//! one per size n = 10^k, computed from the exact simplex closed forms (ρ = 0.3, q = 1, d = n,
//! α = 0). This section takes those series from [`critscale_theorems::series_checks`] — the very
//! functions the registered checks call — fits them with [`Series::fit`] and judges them with
//! the claims' own judges, so the figures show exactly the points, fits and numbers of the claims
//! table. Nothing here recomputes a series.
//!
//! With κ = γ(1 − ρ) − 1 = γ/γ_c − 1 and p = A_ii the self weight, the predictions are
//! (THEORY §5):
//!
//! * below γ_c: p ≈ n^κ, so λ ≈ n^{2κ}/ρ and η ≈ (1 − 1/d) n^{2κ}/q (slope 2κ of log λ, log η
//!   against log n; κ = −0.3 for λ, κ = −0.2 for η);
//! * above γ_c: 1 − p ≈ n^{−κ}, so 1 − λ ≈ 2ρ n^{−κ} and 1 − qη/(1 − 1/d) ≈ 2 n^{−κ}
//!   (slope −κ = −0.3);
//! * at γ_c: |cos_out − 4ρ/(1 + 3ρ)| ≈ C/n (slope −1);
//! * the threshold: λ depends on (n, γ) only through κ·log n up to O(1/n), so the γ where λ
//!   crosses a level ℓ is γ*(n) = γ_c + b/log n + O(1/n) with b = γ_c·logit p_ℓ, p_ℓ the self
//!   weight at which λ = ℓ (p_{1/2}² = ρ/(1 + ρ)); for the gradient level qη/(1 − 1/d) = 1/8,
//!   p_ℓ = 1/√8 at leading order. Both extrapolate to γ_c at 1/log n = 0;
//! * the width between λ = 1/4 and λ = 3/4 is γ_c·w(ρ)/log n with
//!   w(ρ) = logit √(3ρ/(1+3ρ)) − logit √(ρ/(3+ρ)) (slope −1 of log width against log log n).
//!
//! Figures use base-10 logarithms on both axes of the log-log plots (log10 n on x, written 1e{k};
//! log10 of the quantity on y), which leaves slopes unchanged; the fits themselves are done in
//! natural logs, and the data files give both. The fitted line is drawn over the fitted range;
//! the predicted line has the predicted slope and passes through the centroid of the points (the
//! fitted line passes through it too). `plot.rs` has no point markers: each point is drawn as a
//! small "+" made of a polyline.

use crate::format::{Csv, csv_num, csv_text, md_num, num, round};
use crate::plot::{self, Line, LinePlot, LineStyle};
use crate::{Artifact, ReportError};
use critscale_theorems::{
    Budget, Measurement, Model, Perturbation, Series, SeriesFit, series_checks, t1, t3,
};
use rayon::prelude::*;
use serde_json::json;
use std::f64::consts::LN_10;
use std::fmt::Write as _;

/// One fitted claim: its series, their fits and the claim's measurement (unperturbed).
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The claim ID.
    pub id: &'static str,
    /// The series, as the claim's check computes them.
    pub series: Vec<Series>,
    /// The fit of each series.
    pub fits: Vec<SeriesFit>,
    /// The claim's measurement: its judge applied to `series` with no perturbation.
    pub measurement: Measurement,
}

impl Fitted {
    /// Whether the claim passes, by the one verdict rule ([`critscale_theorems::Verdict::judge`]).
    pub fn passes(&self) -> bool {
        let m = &self.measurement;
        critscale_theorems::Verdict::judge(m.prediction, m.measured, m.ci, m.tolerance)
            == critscale_theorems::Verdict::Pass
    }
}

/// Everything the section computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// The theorems' budget the series were computed at.
    pub budget: Budget,
    /// The fitted claims, in registry order.
    pub claims: Vec<Fitted>,
}

/// Computes the series of every fitted claim (in parallel, collected in registry order), fits
/// them and judges them. Deterministic: a pure function of `budget`.
pub fn compute(budget: Budget) -> Result<Rates, ReportError> {
    let checks = series_checks();
    let claims = checks
        .par_iter()
        .map(|check| {
            let error = |e: String| ReportError::Internal(format!("{}: {e}", check.id));
            let series = (check.series)(budget).map_err(error)?;
            let fits = series
                .iter()
                .map(Series::fit)
                .collect::<Result<Vec<_>, _>>()
                .map_err(error)?;
            let measurement = (check.judge)(&series, &Perturbation::default()).map_err(error)?;
            Ok(Fitted {
                id: check.id,
                series,
                fits,
                measurement,
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    Ok(Rates { budget, claims })
}

/// ρ of every series.
const RHO: f64 = t1::RHO;

fn gamma_c() -> f64 {
    1.0 / (1.0 - RHO)
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The leading-order coefficient b of γ*(n) = γ_c + b/log n for a threshold series (see the
/// module docs), from the level in its quantity; `None` for an unknown level.
fn leading_b(series: &Series) -> Option<f64> {
    let p = if series.quantity.contains("lambda = 1/2") {
        (RHO / (1.0 + RHO)).sqrt()
    } else if series.quantity.contains("= 1/8") {
        (0.125f64).sqrt()
    } else {
        return None;
    };
    Some(gamma_c() * logit(p))
}

/// The n → ∞ limit of width·log n in γ units: γ_c·w(ρ).
fn width_limit() -> f64 {
    gamma_c() * crate::phase::asymptotic_shift_and_width(RHO).1
}

/// A number with 10 significant digits, shortest form (as in the data files).
fn short(x: f64) -> String {
    csv_num(x)
}

/// measured − predicted with two significant digits (computed before any rounding).
fn difference(measured: f64, predicted: f64) -> String {
    format!("{:.1e}", round(measured - predicted))
}

/// A CI half-width in the legends: two significant digits.
fn half_width(ci: [f64; 2]) -> String {
    format!("{:.1e}", round((ci[1] - ci[0]) / 2.0))
}

/// The file stem of a claim's figure: `T1.rate.sub` → `rate_t1_sub`, `T1.width` → `rate_t1_width`.
fn stem(id: &str) -> String {
    format!(
        "rate_{}",
        id.to_lowercase().replace(".rate", "").replace('.', "_")
    )
}

/// Title and the prediction in words, per claim.
fn describe(id: &str) -> (&'static str, &'static str) {
    match id {
        "T1.rate.sub" => (
            "λ below γ_c (γ = 0.7 γ_c, κ = −0.3)",
            "λ ≈ n^{2κ}/ρ: slope 2κ = −0.6",
        ),
        "T1.rate.super" => (
            "1 − λ above γ_c (γ = 1.3 γ_c, κ = 0.3)",
            "1 − λ ≈ 2ρ n^{−κ}: slope −κ = −0.3",
        ),
        "T1.rate.crit" => (
            "|cos_out − 4ρ/(1+3ρ)| at γ_c (512 bits)",
            "|cos_out − 4ρ/(1+3ρ)| ≈ C/n: slope −1",
        ),
        "T1.width" => (
            "width of the transition (λ = 1/4 → 3/4)",
            "width ≈ γ_c w(ρ)/log n: slope −1 against log log n",
        ),
        "T3.rate.sub" => (
            "η below γ_c (γ = 0.8 γ_c, κ = −0.2)",
            "η ≈ (1 − 1/d) n^{2κ}/q: slope 2κ = −0.4",
        ),
        "T3.rate.super" => (
            "1 − qη/(1 − 1/d) above γ_c (γ = 1.3 γ_c, κ = 0.3, 512 bits)",
            "1 − qη/(1 − 1/d) ≈ 2 n^{−κ}: slope −κ = −0.3",
        ),
        "T1.threshold" => (
            "γ*(n) where λ = 1/2",
            "γ*(n) = γ_c + b/log n + O(1/n): intercept γ_c",
        ),
        "T3.threshold.coincide" => (
            "γ*(n) of λ = 1/2 and of qη/(1 − 1/d) = 1/8",
            "both intercepts equal γ_c: difference 0",
        ),
        _ => ("", ""),
    }
}

/// The sizes of a series in words: `n = 1e20 … 1e300 (41 sizes)`.
fn sizes(series: &Series) -> String {
    let ks = &series.log10_n;
    match (ks.first(), ks.last()) {
        (Some(a), Some(b)) => format!("n = 1e{a} … 1e{b} ({} sizes)", ks.len()),
        _ => "none".to_owned(),
    }
}

/// A "+" marker of half-size (hx, hy) at (x, y), as one polyline.
fn marker(x: f64, y: f64, hx: f64, hy: f64, label: String, style: LineStyle) -> Line {
    Line {
        label,
        points: vec![(x - hx, y), (x + hx, y), (x, y), (x, y + hy), (x, y - hy)],
        style,
    }
}

/// Points of a series as markers; the first carries the legend label.
fn markers(
    points: &[(f64, f64)],
    x_range: (f64, f64),
    y_range: (f64, f64),
    label: String,
    style: LineStyle,
) -> Vec<Line> {
    let hx = 0.007 * (x_range.1 - x_range.0);
    let hy = 0.009 * (y_range.1 - y_range.0);
    points
        .iter()
        .enumerate()
        .map(|(i, &(x, y))| {
            let label = if i == 0 { label.clone() } else { String::new() };
            marker(x, y, hx, hy, label, style)
        })
        .collect()
}

/// (min, max) of values, padded by `low` and `high` times the span.
fn padded(values: impl Iterator<Item = f64>, low: f64, high: f64) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    let span = (hi - lo).max(1e-12);
    (lo - low * span, hi + high * span)
}

/// The plotted coordinates of a power-law series: (log10 n or log10 log n, log10 of the quantity),
/// and the conversion of fit coordinates (natural logs) to them.
fn to_plot(model: Model, x: f64, y: f64) -> (f64, f64) {
    match model {
        Model::PowerLaw | Model::PowerOfLog => (x / LN_10, y / LN_10),
        Model::InverseLog => (x, y),
    }
}

impl Rates {
    /// The fitted claims judged on one power-law series (the log-log figures), in order.
    fn rate_claims(&self) -> impl Iterator<Item = &Fitted> {
        self.claims.iter().filter(|c| {
            c.series.len() == 1 && matches!(c.series[0].model, Model::PowerLaw | Model::PowerOfLog)
        })
    }

    /// The log-log figure of a claim with one power-law series.
    pub fn rate_plot(&self, claim: &Fitted) -> LinePlot {
        let series = &claim.series[0];
        let fit = &claim.fits[0];
        let model = series.model;
        let xs = series.x();
        let points: Vec<(f64, f64)> = xs
            .iter()
            .zip(&series.y)
            .map(|(&x, &y)| to_plot(model, x, y))
            .collect();
        let (x0, x1) = (
            xs.iter().copied().fold(f64::INFINITY, f64::min),
            xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        );
        let [cx, cy] = fit.centroid;
        let predicted = |x: f64| cy + series.predicted * (x - cx);
        let fitted_line = vec![
            to_plot(model, x0, fit.at(x0)),
            to_plot(model, x1, fit.at(x1)),
        ];
        let predicted_line = vec![
            to_plot(model, x0, predicted(x0)),
            to_plot(model, x1, predicted(x1)),
        ];
        let log_n_axis = model == Model::PowerLaw;
        let x_range = if log_n_axis {
            let span = (x1 - x0) / LN_10;
            (
                (x0 / LN_10 - 0.05 * span).floor(),
                (x1 / LN_10 + 0.05 * span).ceil(),
            )
        } else {
            padded(points.iter().map(|p| p.0), 0.05, 0.05)
        };
        let y_range = padded(
            points
                .iter()
                .chain(&fitted_line)
                .chain(&predicted_line)
                .map(|p| p.1),
            0.08,
            0.35,
        );
        let (title, formula) = describe(claim.id);
        let mut lines = markers(
            &points,
            x_range,
            y_range,
            format!("{} ({})", series.quantity, sizes(series)),
            LineStyle::Series(0),
        );
        lines.push(Line {
            label: format!(
                "fitted slope {} ± {} (95%)",
                short(fit.estimate),
                half_width(fit.ci)
            ),
            points: fitted_line,
            style: LineStyle::SolidRed,
        });
        lines.push(Line {
            label: format!(
                "predicted slope {} (through the centroid)",
                short(series.predicted)
            ),
            points: predicted_line,
            style: LineStyle::DashedBlack,
        });
        let note_y = y_range.0 + 0.04 * (y_range.1 - y_range.0);
        let note_x = x_range.0 + 0.03 * (x_range.1 - x_range.0);
        LinePlot {
            title: format!("{}: {title}", claim.id),
            x_label: if log_n_axis {
                "n (log10 scale)".to_owned()
            } else {
                "log10(log n)".to_owned()
            },
            y_label: format!("log10({})", series.quantity),
            x_range,
            y_range,
            x_log: log_n_axis,
            lines,
            bands: Vec::new(),
            notes: vec![(
                note_x,
                note_y,
                format!(
                    "{formula}; fitted − predicted = {:.1e}, tolerance {:.0e}",
                    round(fit.estimate - series.predicted),
                    series.tolerance
                ),
            )],
            legend_left: false,
        }
    }

    /// The threshold series (the λ series of `T1.threshold` and the η series of
    /// `T3.threshold.coincide`), with their fits.
    fn threshold_series(&self) -> Vec<(&Series, &SeriesFit)> {
        let mut out = Vec::new();
        for claim in &self.claims {
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let duplicate = out.iter().any(|(t, _): &(&Series, _)| t.y == s.y);
                if s.model == Model::InverseLog && !duplicate {
                    out.push((s, f));
                }
            }
        }
        out
    }

    /// γ*(n) against 1/log n with the fitted a + b/log n, extended to 1/log n = 0.
    pub fn gamma_star_plot(&self) -> LinePlot {
        let thresholds = self.threshold_series();
        let x_max = thresholds
            .iter()
            .flat_map(|(s, _)| s.x())
            .fold(0.0, f64::max)
            * 1.05;
        let x_range = (0.0, x_max);
        let y_range = padded(
            thresholds
                .iter()
                .flat_map(|(s, _)| s.y.iter().copied())
                .chain([gamma_c()]),
            0.08,
            0.45,
        );
        let mut lines = vec![Line {
            label: format!("γ_c = 1/(1 − ρ) = {}", short(gamma_c())),
            points: vec![(0.0, gamma_c()), (x_max, gamma_c())],
            style: LineStyle::DashedBlack,
        }];
        for (k, (s, f)) in thresholds.iter().enumerate() {
            let points: Vec<(f64, f64)> = s.x().into_iter().zip(s.y.iter().copied()).collect();
            lines.extend(markers(
                &points,
                x_range,
                y_range,
                format!("{} ({})", s.quantity, sizes(s)),
                LineStyle::Series(k),
            ));
            lines.push(Line {
                label: format!(
                    "fit a + b/log n: a = {} ± {}, b = {}",
                    short(f.intercept),
                    half_width(f.ci),
                    short(f.slope)
                ),
                points: vec![(0.0, f.at(0.0)), (x_max, f.at(x_max))],
                style: LineStyle::Series(k),
            });
            if let Some(b) = leading_b(s) {
                lines.push(Line {
                    label: if k == 0 {
                        "leading order γ_c + γ_c logit(p_ℓ)/log n".to_owned()
                    } else {
                        String::new()
                    },
                    points: vec![(0.0, gamma_c()), (x_max, gamma_c() + b * x_max)],
                    style: LineStyle::ThinGrey,
                });
            }
        }
        LinePlot {
            title: "γ*(n) against 1/log n: the extrapolation to γ_c".to_owned(),
            x_label: "1/log n (natural log)".to_owned(),
            y_label: "γ*(n)".to_owned(),
            x_range,
            y_range,
            x_log: false,
            lines,
            bands: Vec::new(),
            notes: Vec::new(),
            legend_left: false,
        }
    }

    /// The `T1.width` series as width·log n against 1/log n, with its limit γ_c·w(ρ).
    fn width_series(&self) -> Option<(&Series, Vec<(f64, f64)>)> {
        let claim = self.claims.iter().find(|c| c.id == t1::WIDTH.id)?;
        let s = claim.series.first()?;
        let points = s
            .log_n
            .iter()
            .zip(&s.y)
            .map(|(&l, &log_w)| (1.0 / l, log_w.exp() * l))
            .collect();
        Some((s, points))
    }

    /// width·log n against 1/log n.
    pub fn width_plot(&self) -> Option<LinePlot> {
        let (s, points) = self.width_series()?;
        let limit = width_limit();
        let x_max = points.iter().map(|p| p.0).fold(0.0, f64::max) * 1.05;
        let x_range = (0.0, x_max);
        // ±3 %: the points sit on the limit to ~1e-8, far below what a figure can show; the
        // note gives the largest deviation.
        let y_range = (0.97 * limit, 1.03 * limit);
        let deviation = points
            .iter()
            .map(|p| (p.1 - limit).abs())
            .fold(0.0, f64::max);
        let mut lines = vec![Line {
            label: format!("γ_c w(ρ) = {}", short(limit)),
            points: vec![(0.0, limit), (x_max, limit)],
            style: LineStyle::DashedBlack,
        }];
        lines.extend(markers(
            &points,
            x_range,
            y_range,
            format!("width·log n ({})", sizes(s)),
            LineStyle::Series(0),
        ));
        Some(LinePlot {
            title: "T1.width: width·log n is constant (width ∝ 1/log n)".to_owned(),
            x_label: "1/log n (natural log)".to_owned(),
            y_label: "width·log n (γ units)".to_owned(),
            x_range,
            y_range,
            x_log: false,
            lines,
            bands: Vec::new(),
            notes: vec![(
                0.03 * x_max,
                y_range.0 + 0.04 * (y_range.1 - y_range.0),
                format!(
                    "largest |width·log n − γ_c w(ρ)| = {:.1e}",
                    round(deviation)
                ),
            )],
            legend_left: false,
        })
    }

    /// The data files and figures.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let mut out = Vec::new();
        // All points.
        let mut csv = Csv::new(&[
            "claim",
            "quantity",
            "model",
            "log10_n",
            "log_n",
            "x",
            "y",
            "y_fitted",
            "y_predicted",
        ]);
        let mut series_json = Vec::new();
        for claim in &self.claims {
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let xs = s.x();
                let predicted: Vec<f64> = xs.iter().map(|&x| predicted_at(s, f, x)).collect();
                for (i, &x) in xs.iter().enumerate() {
                    csv.row([
                        csv_text(claim.id),
                        csv_text(&s.quantity),
                        model_word(s.model).to_owned(),
                        s.log10_n[i].to_string(),
                        csv_num(s.log_n[i]),
                        csv_num(x),
                        csv_num(s.y[i]),
                        csv_num(f.at(x)),
                        csv_num(predicted[i]),
                    ]);
                }
                let list = |v: &[f64]| v.iter().map(|&x| num(x)).collect::<Vec<_>>();
                series_json.push(json!({
                    "claim": claim.id,
                    "quantity": s.quantity,
                    "model": model_word(s.model),
                    "x": s.x_label,
                    "y": s.y_label,
                    "method": s.method,
                    "log10_n": s.log10_n,
                    "log_n": list(&s.log_n),
                    "x_values": list(&xs),
                    "y_values": list(&s.y),
                    "y_fitted": xs.iter().map(|&x| num(f.at(x))).collect::<Vec<_>>(),
                    "y_predicted": list(&predicted),
                }));
            }
        }
        out.push(Artifact::new("data/rates.csv", csv.into_bytes()));
        out.push(Artifact::json(
            "data/rates.json",
            &json!({
                "description": "the series the fitted claims are judged on (rho = 0.3, q = 1, d = n, alpha = 0; n = 10^log10_n; natural logs). x and y are the fit's coordinates: (log n, log Y) for power laws in n, (log log n, log Y) for power laws in log n, (1/log n, gamma*) for thresholds. y_fitted is the least-squares line; y_predicted the line with the predicted slope through the centroid (power laws) or gamma_c + b0/log n with the leading-order b0 (thresholds).",
                "budget": self.budget.word(),
                "series": series_json,
            }),
        ));

        // Fits, one row per series, with the claim's measurement beside it.
        let mut csv = Csv::new(&[
            "claim",
            "quantity",
            "model",
            "x",
            "y",
            "points",
            "log10_n_min",
            "log10_n_max",
            "predicted",
            "estimate",
            "ci_low",
            "ci_high",
            "estimate_minus_predicted",
            "ci_half_width",
            "slope",
            "intercept",
            "centroid_x",
            "centroid_y",
            "residual_sd",
            "claim_prediction",
            "claim_measured",
            "claim_ci_low",
            "claim_ci_high",
            "claim_tolerance",
            "claim_verdict",
        ]);
        let mut fits_json = Vec::new();
        for claim in &self.claims {
            let m = &claim.measurement;
            let verdict = if claim.passes() { "pass" } else { "fail" };
            let mut per_series = Vec::new();
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let (k0, k1) = (
                    s.log10_n.first().copied().unwrap_or(0),
                    s.log10_n.last().copied().unwrap_or(0),
                );
                csv.row([
                    csv_text(claim.id),
                    csv_text(&s.quantity),
                    model_word(s.model).to_owned(),
                    csv_text(&s.x_label),
                    csv_text(&s.y_label),
                    s.y.len().to_string(),
                    k0.to_string(),
                    k1.to_string(),
                    csv_num(s.predicted),
                    csv_num(f.estimate),
                    csv_num(f.ci[0]),
                    csv_num(f.ci[1]),
                    csv_num(f.estimate - s.predicted),
                    csv_num((f.ci[1] - f.ci[0]) / 2.0),
                    csv_num(f.slope),
                    csv_num(f.intercept),
                    csv_num(f.centroid[0]),
                    csv_num(f.centroid[1]),
                    csv_num(f.residual_sd),
                    csv_num(m.prediction),
                    csv_num(m.measured),
                    csv_num(m.ci[0]),
                    csv_num(m.ci[1]),
                    csv_num(m.tolerance),
                    verdict.to_owned(),
                ]);
                per_series.push(json!({
                    "quantity": s.quantity,
                    "model": model_word(s.model),
                    "x": s.x_label,
                    "y": s.y_label,
                    "points": s.y.len(),
                    "log10_n_min": k0,
                    "log10_n_max": k1,
                    "predicted": num(s.predicted),
                    "estimate": num(f.estimate),
                    "ci": [num(f.ci[0]), num(f.ci[1])],
                    "estimate_minus_predicted": num(f.estimate - s.predicted),
                    "ci_half_width": num((f.ci[1] - f.ci[0]) / 2.0),
                    "slope": num(f.slope),
                    "intercept": num(f.intercept),
                    "centroid": [num(f.centroid[0]), num(f.centroid[1])],
                    "residual_sd": num(f.residual_sd),
                }));
            }
            fits_json.push(json!({
                "claim": claim.id,
                "prediction": num(m.prediction),
                "measured": num(m.measured),
                "ci": [num(m.ci[0]), num(m.ci[1])],
                "tolerance": num(m.tolerance),
                "verdict": verdict,
                "method": m.method,
                "series": per_series,
            }));
        }
        out.push(Artifact::new("data/rates_fits.csv", csv.into_bytes()));
        out.push(Artifact::json(
            "data/rates_fits.json",
            &json!({
                "description": "least-squares fits of the series in rates.json (95% intervals) and the measurement of each claim; estimate is the slope for power laws and the intercept a for thresholds",
                "budget": self.budget.word(),
                "level": num(t1::LEVEL),
                "claims": fits_json,
            }),
        ));

        // Figures.
        for claim in self.rate_claims() {
            let svg = plot::lines(&self.rate_plot(claim))?;
            out.push(Artifact::new(
                &format!("figures/{}.svg", stem(claim.id)),
                svg.into_bytes(),
            ));
        }
        if !self.threshold_series().is_empty() {
            out.push(Artifact::new(
                "figures/gamma_star.svg",
                plot::lines(&self.gamma_star_plot())?.into_bytes(),
            ));
        }
        if let Some(plot) = self.width_plot() {
            out.push(Artifact::new(
                "figures/gamma_star_width.svg",
                plot::lines(&plot)?.into_bytes(),
            ));
        }
        Ok(out)
    }

    /// The Markdown of the section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## Rates and thresholds\n");
        let _ = writeln!(
            md,
            "The rate and threshold claims are judged on least-squares fits to series of points, one per size \
             n = 10^k, from the exact simplex closed forms at ρ = {RHO} (q = 1, d = n, α = 0). The figures below \
             plot those very series — computed by the functions the claims' checks call, at the {} budget — with \
             the fits the verdicts were reached on; the fitted numbers are the ones in the claims table. \
             κ = γ(1 − ρ) − 1 = γ/γ_c − 1 and p = A_ii is the self weight.\n",
            self.budget.word()
        );
        let _ = writeln!(
            md,
            "**Rates (log-log).** Axes are base-10 logarithms: x is log10 n (ticks written 1e{{k}}), y is log10 of \
             the quantity; slopes are the same in any base. The fit is ordinary least squares of log Y on log n \
             (natural logs); the red line is the fit, the dashed line has the predicted slope and passes through \
             the centroid of the points. The lines coincide to the eye: the local slope differs from the \
             asymptotic exponent only by the next correction, relatively ≤ n^{{−|κ|}}, and the note in each \
             figure gives fitted − predicted. The predictions (THEORY §5):\n"
        );
        let _ = writeln!(
            md,
            "- below γ_c, p ≈ n^κ, so **λ ≈ n^{{2κ}}/ρ** and **η ≈ (1 − 1/d) n^{{2κ}}/q** (slope 2κ; κ = −0.3 \
             for λ at γ = {}·γ_c, κ = −0.2 for η at γ = {}·γ_c, where n^{{2κ}} dominates the 1/n terms);",
            t1::SUB,
            t3::SUB
        );
        let _ = writeln!(
            md,
            "- above γ_c, 1 − p ≈ n^{{−κ}}, so **1 − λ ≈ 2ρ n^{{−κ}}** and **1 − qη/(1 − 1/d) ≈ 2 n^{{−κ}}** \
             (slope −κ = −0.3 at γ = {}·γ_c);",
            t1::SUPER
        );
        let _ = writeln!(
            md,
            "- at γ_c, **|cos_out − 4ρ/(1 + 3ρ)| ≈ C/n** (slope −1). This deviation and the gradient deficit \
             cancel in f64, so those two series use 512-bit floats up to n = 1e120; the others use f64 (in the \
             log domain for λ) up to n = 1e300.\n"
        );
        for claim in self.rate_claims() {
            let (title, formula) = describe(claim.id);
            let _ = writeln!(
                md,
                "![{}: {title}](figures/{}.svg)\n",
                claim.id,
                stem(claim.id)
            );
            let fit = &claim.fits[0];
            let _ = writeln!(
                md,
                "`{}` — {formula}. Fitted {} ± {} (95%), fitted − predicted = {}, over {}.\n",
                claim.id,
                short(fit.estimate),
                half_width(fit.ci),
                difference(fit.estimate, claim.series[0].predicted),
                sizes(&claim.series[0])
            );
        }
        let _ = writeln!(
            md,
            "**Thresholds against 1/log n.** λ depends on (n, γ) only through κ·log n up to O(1/n) terms, so the γ \
             where it crosses a level ℓ is **γ*(n) = γ_c + b/log n + O(1/n)**, with b = γ_c·logit p_ℓ at leading \
             order and p_ℓ the self weight at which the level is reached (p² = ρ/(1 + ρ) for λ = 1/2; p² = 1/8 \
             for the gradient level qη/(1 − 1/d) = 1/8, since qη/(1 − 1/d) ≈ p²). Plotted against 1/log n the \
             points lie on a straight line whose intercept at 1/log n = 0 is the n → ∞ threshold; the claims fit \
             a + b/log n by least squares and compare a with γ_c = 1/(1 − ρ) = {}. The thin grey lines are the \
             leading-order predictions γ_c + γ_c·logit(p_ℓ)/log n.\n",
            md_num(gamma_c())
        );
        let _ = writeln!(md, "![gamma*(n) against 1/log n](figures/gamma_star.svg)\n");
        for (s, f) in self.threshold_series() {
            let b0 = leading_b(s).map_or_else(|| "–".to_owned(), md_num);
            let _ = writeln!(
                md,
                "- {}: a = {} ± {} (95%), a − γ_c = {}, b = {} (leading order {}), {}.",
                s.quantity,
                short(f.intercept),
                half_width(f.ci),
                difference(f.intercept, s.predicted),
                md_num(f.slope),
                b0,
                sizes(s)
            );
        }
        let _ = writeln!(md);
        if let Some((s, points)) = self.width_series() {
            let last = points.first().map_or(f64::NAN, |p| p.1);
            let _ = writeln!(
                md,
                "**Width.** Between λ = 1/4 and λ = 3/4 the transition has width γ_c·w(ρ)/log n + O(1/n) with \
                 w(ρ) = logit √(3ρ/(1+3ρ)) − logit √(ρ/(3+ρ)), so width·log n is flat at γ_c·w(ρ) = {} \
                 (at n = 1e{}: {}), and `T1.width` fits the exponent of log n in the width (log width against \
                 log log n, figure `{}.svg`).\n",
                md_num(width_limit()),
                s.log10_n.first().copied().unwrap_or(0),
                md_num(last),
                stem(t1::WIDTH.id)
            );
            let _ = writeln!(
                md,
                "![width times log n against 1/log n](figures/gamma_star_width.svg)\n"
            );
        }
        let _ = writeln!(
            md,
            "| claim | quantity | predicted | fitted | ± (95%) | fitted − predicted | tolerance | sizes | verdict |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        for claim in &self.claims {
            let m = &claim.measurement;
            let quantity = if claim.id == t3::THRESHOLDS_COINCIDE.id {
                "a(η threshold) − a(λ threshold)".to_owned()
            } else {
                let s = &claim.series[0];
                match s.model {
                    Model::InverseLog => format!("n → ∞ limit a of {}", s.quantity),
                    _ => format!("exponent of {}", s.quantity),
                }
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | {} | {:.0e} | {} | {} |",
                claim.id,
                quantity.replace('|', "\\|"),
                short(m.prediction),
                short(m.measured),
                half_width(m.ci),
                difference(m.measured, m.prediction),
                m.tolerance,
                claim.series.first().map_or_else(|| "–".to_owned(), sizes),
                if claim.passes() { "pass" } else { "**fail**" }
            );
        }
        let _ = writeln!(
            md,
            "\nThe verdict is the claims' rule: pass when the prediction lies in the interval widened by the \
             tolerance. Data: every point in [`rates.csv`](data/rates.csv) ([JSON](data/rates.json)), every fit \
             in [`rates_fits.csv`](data/rates_fits.csv) ([JSON](data/rates_fits.json)).\n"
        );
        md
    }
}

/// The predicted ordinate at x: the predicted slope through the centroid (power laws), or
/// γ_c + b₀x with the leading-order b₀ (thresholds; NaN when b₀ is unknown).
fn predicted_at(s: &Series, f: &SeriesFit, x: f64) -> f64 {
    match s.model {
        Model::PowerLaw | Model::PowerOfLog => f.centroid[1] + s.predicted * (x - f.centroid[0]),
        Model::InverseLog => leading_b(s).map_or(f64::NAN, |b| s.predicted + b * x),
    }
}

fn model_word(model: Model) -> &'static str {
    match model {
        Model::PowerLaw => "power_law",
        Model::PowerOfLog => "power_of_log",
        Model::InverseLog => "inverse_log",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use critscale_theorems::registry;

    fn quick() -> Rates {
        compute(Budget::Quick).unwrap()
    }

    #[test]
    fn two_computes_give_the_same_bytes() {
        let a = quick().artifacts().unwrap();
        let b = quick().artifacts().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.path, y.path);
            assert!(x.bytes == y.bytes, "{} differs", x.path);
        }
        assert_eq!(quick().markdown(), quick().markdown());
    }

    #[test]
    fn the_section_shows_the_claims_numbers() {
        let rates = quick();
        let registry = registry();
        assert_eq!(rates.claims.len(), series_checks().len());
        for fitted in &rates.claims {
            let claim = registry.iter().find(|c| c.id == fitted.id).unwrap();
            let evidence = claim.run(Budget::Quick, &Perturbation::default()).unwrap();
            assert_eq!(
                evidence.measured, fitted.measurement.measured,
                "{}",
                fitted.id
            );
            assert_eq!(evidence.ci, fitted.measurement.ci, "{}", fitted.id);
            assert_eq!(evidence.prediction, fitted.measurement.prediction);
            assert_eq!(
                evidence.verdict == critscale_theorems::Verdict::Pass,
                fitted.passes()
            );
            if fitted.series.len() == 1 {
                assert_eq!(fitted.fits[0].estimate, evidence.measured);
            }
        }
        // And the Markdown table carries them.
        let md = rates.markdown();
        for fitted in &rates.claims {
            let row = md
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", fitted.id)))
                .unwrap_or_else(|| panic!("no row for {}", fitted.id));
            assert!(row.contains(&short(fitted.measurement.measured)), "{row}");
        }
    }

    #[test]
    fn figures_are_small_svgs_with_their_data() {
        let files = quick().artifacts().unwrap();
        let paths: Vec<&str> = files.iter().map(|a| a.path.as_str()).collect();
        for path in [
            "data/rates.csv",
            "data/rates.json",
            "data/rates_fits.csv",
            "data/rates_fits.json",
            "figures/gamma_star.svg",
            "figures/gamma_star_width.svg",
            "figures/rate_t1_sub.svg",
            "figures/rate_t1_super.svg",
            "figures/rate_t1_crit.svg",
            "figures/rate_t1_width.svg",
            "figures/rate_t3_sub.svg",
            "figures/rate_t3_super.svg",
        ] {
            assert!(paths.contains(&path), "{path} missing");
        }
        for file in &files {
            if file.path.ends_with(".svg") {
                assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
                assert!(file.bytes.len() < 600_000, "{}", file.path);
            }
            if file.path.ends_with(".json") {
                serde_json::from_slice::<serde_json::Value>(&file.bytes).unwrap();
            }
        }
        // Every figure linked from the section exists.
        let md = quick().markdown();
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            assert!(paths.contains(&target), "broken link {target}");
        }
        // One CSV row per (claim, series, n).
        let rows = String::from_utf8(files[0].bytes.clone())
            .unwrap()
            .lines()
            .count()
            - 1;
        let points: usize = quick()
            .claims
            .iter()
            .flat_map(|c| c.series.iter().map(|s| s.y.len()))
            .sum();
        assert_eq!(rows, points);
    }

    /// The slope of the drawn lines (in plot coordinates) against the claim's prediction: the
    /// fitted line must agree with the prediction to the claim's CI and tolerance, the predicted
    /// line must have the predicted slope. A shifted prediction must fail the same test.
    #[test]
    fn plotted_slopes_agree_with_the_predictions() {
        let rates = quick();
        let slope_of = |plot: &LinePlot, prefix: &str| {
            let line = plot
                .lines
                .iter()
                .find(|l| l.label.starts_with(prefix))
                .unwrap();
            let (a, b) = (line.points[0], line.points[line.points.len() - 1]);
            (b.1 - a.1) / (b.0 - a.0)
        };
        let mut checked = 0;
        for claim in rates.rate_claims() {
            let plot = rates.rate_plot(claim);
            let s = &claim.series[0];
            let fit = &claim.fits[0];
            let fitted = slope_of(&plot, "fitted slope");
            let predicted = slope_of(&plot, "predicted slope");
            let allowed = (fit.ci[1] - fit.ci[0]) / 2.0 + s.tolerance;
            let agrees = |p: f64| (fitted - p).abs() <= allowed + 1e-9;
            assert!(
                agrees(s.predicted),
                "{}: {fitted} vs {}",
                claim.id,
                s.predicted
            );
            assert!(!agrees(s.predicted + 0.01), "{}", claim.id);
            assert!((predicted - s.predicted).abs() < 1e-9, "{}", claim.id);
            checked += 1;
        }
        assert_eq!(checked, 6);
        // The threshold fits reach γ_c at 1/log n = 0.
        let plot = rates.gamma_star_plot();
        let fits: Vec<&Line> = plot
            .lines
            .iter()
            .filter(|l| l.label.starts_with("fit a + b/log n"))
            .collect();
        assert_eq!(fits.len(), 2);
        for line in fits {
            assert_eq!(line.points[0].0, 0.0);
            assert!((line.points[0].1 - gamma_c()).abs() < 1e-6, "{line:?}");
        }
    }

    #[test]
    fn threshold_slopes_and_width_match_the_leading_order() {
        let rates = quick();
        for (s, f) in rates.threshold_series() {
            let b0 = leading_b(s).unwrap();
            assert!(
                (f.slope - b0).abs() < 1e-3 * b0.abs(),
                "{}: {} vs {b0}",
                s.quantity,
                f.slope
            );
        }
        let (_, points) = rates.width_series().unwrap();
        for (_, w) in points {
            assert!((w - width_limit()).abs() < 1e-6, "{w}");
        }
    }

    /// `cargo test --release -p critscale-report rates::tests::full_budget -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn full_budget() {
        let start = std::time::Instant::now();
        let rates = compute(Budget::Full).unwrap();
        let computed = start.elapsed().as_secs_f64();
        let files = rates.artifacts().unwrap();
        let _ = rates.markdown();
        eprintln!(
            "compute(Full): {computed:.2} s; with artifacts and markdown: {:.2} s; {} files, threads {}",
            start.elapsed().as_secs_f64(),
            files.len(),
            rayon::current_num_threads()
        );
        assert!(rates.claims.iter().all(Fitted::passes));
    }
}
