//! The data files of the rates section: every point (`rates.csv`, `rates.json`), every fit with
//! the claim's measurement beside it (`rates_fits.csv`, `rates_fits.json`), and the figures.

use super::{RHO, Rates, stem};
use crate::format::num;
use crate::table::{Column, Table, columns, json_row};
use crate::{Artifact, ReportError, plot};
use critscale_theorems::{Model, Series, SeriesFit};
use serde::Serialize;
use serde_json::json;

/// A line of `rates.csv`: one point of a series (`rates.json` lists each series as arrays).
#[derive(Serialize)]
struct PointLine<'a> {
    claim: &'a str,
    quantity: &'a str,
    model: &'static str,
    log10_n: u32,
    log_n: f64,
    x: f64,
    y: f64,
    y_fitted: f64,
    y_predicted: f64,
}

/// One series' fit: an entry of a claim's `series` in `rates_fits.json`, and the middle of a
/// line of `rates_fits.csv`.
#[derive(Serialize)]
struct FitCells<'a> {
    quantity: &'a str,
    model: &'static str,
    x: &'a str,
    y: &'a str,
    points: usize,
    log10_n_min: u32,
    log10_n_max: u32,
    predicted: f64,
    estimate: f64,
    ci: [f64; 2],
    estimate_minus_predicted: f64,
    ci_half_width: f64,
    slope: f64,
    intercept: f64,
    centroid: [f64; 2],
    residual_sd: f64,
}

/// A line of `rates_fits.csv`: the claim, its series' fit, and the claim's measurement.
#[derive(Serialize)]
struct FitLine<'a> {
    claim: &'a str,
    #[serde(flatten)]
    fit: FitCells<'a>,
    claim_prediction: f64,
    claim_measured: f64,
    claim_ci: [f64; 2],
    claim_tolerance: f64,
    claim_verdict: &'static str,
}

impl Rates {
    /// The data files and figures.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let mut out = Vec::new();
        // All points.
        let mut points = Table::new(columns(&[
            "claim",
            "quantity",
            "model",
            "log10_n",
            "log_n",
            "x",
            "y",
            "y_fitted",
            "y_predicted",
        ]));
        let mut series_json = Vec::new();
        for claim in &self.claims {
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let xs = s.x();
                let predicted: Vec<f64> = xs.iter().map(|&x| predicted_at(s, f, x)).collect();
                for (i, &x) in xs.iter().enumerate() {
                    points.push(&PointLine {
                        claim: claim.id,
                        quantity: &s.quantity,
                        model: model_word(s.model),
                        log10_n: s.log10_n[i],
                        log_n: s.log_n[i],
                        x,
                        y: s.y[i],
                        y_fitted: f.at(x),
                        y_predicted: predicted[i],
                    })?;
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
        out.push(Artifact::new("data/rates.csv", points.csv()?));
        out.push(Artifact::json(
            "data/rates.json",
            &json!({
                "description": format!("the series the fitted claims are judged on (rho = {RHO}, q = 1, d = n, alpha = 0; n = 10^log10_n; natural logs). x and y are the fit's coordinates: (log n, log Y) for power laws in n, (log log n, log Y) for power laws in log n, (1/log n, gamma*) for thresholds. y_fitted is the least-squares line; y_predicted the line with the predicted slope through the centroid (power laws) or gamma_c + b0/log n with the leading-order b0 (thresholds)."),
                "budget": self.budget.word(),
                "series": series_json,
            }),
        ));

        // Fits, one row per series, with the claim's measurement beside it.
        let mut fits = Table::new(vec![
            Column::new("claim"),
            Column::new("quantity"),
            Column::new("model"),
            Column::new("x"),
            Column::new("y"),
            Column::new("points"),
            Column::new("log10_n_min"),
            Column::new("log10_n_max"),
            Column::new("predicted"),
            Column::new("estimate"),
            Column::at("ci_low", "/ci/0"),
            Column::at("ci_high", "/ci/1"),
            Column::new("estimate_minus_predicted"),
            Column::new("ci_half_width"),
            Column::new("slope"),
            Column::new("intercept"),
            Column::at("centroid_x", "/centroid/0"),
            Column::at("centroid_y", "/centroid/1"),
            Column::new("residual_sd"),
            Column::new("claim_prediction"),
            Column::new("claim_measured"),
            Column::at("claim_ci_low", "/claim_ci/0"),
            Column::at("claim_ci_high", "/claim_ci/1"),
            Column::new("claim_tolerance"),
            Column::new("claim_verdict"),
        ]);
        let mut fits_json = Vec::new();
        for claim in &self.claims {
            let m = &claim.measurement;
            let verdict = if claim.passes() { "pass" } else { "fail" };
            let mut per_series = Vec::new();
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let fit = FitCells {
                    quantity: &s.quantity,
                    model: model_word(s.model),
                    x: &s.x_label,
                    y: &s.y_label,
                    points: s.y.len(),
                    log10_n_min: s.log10_n.first().copied().unwrap_or(0),
                    log10_n_max: s.log10_n.last().copied().unwrap_or(0),
                    predicted: s.predicted,
                    estimate: f.estimate,
                    ci: f.ci,
                    estimate_minus_predicted: f.estimate - s.predicted,
                    ci_half_width: (f.ci[1] - f.ci[0]) / 2.0,
                    slope: f.slope,
                    intercept: f.intercept,
                    centroid: f.centroid,
                    residual_sd: f.residual_sd,
                };
                per_series.push(json_row(&fit)?);
                fits.push(&FitLine {
                    claim: claim.id,
                    fit,
                    claim_prediction: m.prediction,
                    claim_measured: m.measured,
                    claim_ci: m.ci,
                    claim_tolerance: m.tolerance,
                    claim_verdict: verdict,
                })?;
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
        out.push(Artifact::new("data/rates_fits.csv", fits.csv()?));
        out.push(Artifact::json(
            "data/rates_fits.json",
            &json!({
                "description": "least-squares fits of the series in rates.json (95% intervals) and the measurement of each claim; estimate is the slope for power laws and the intercept a for thresholds",
                "budget": self.budget.word(),
                "level": num(critscale_theorems::CONFIDENCE_LEVEL),
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
}

/// The predicted ordinate at x: the predicted slope through the centroid (power laws), or
/// γ_c + b₀x with the leading-order b₀ (thresholds; NaN when b₀ is unknown).
fn predicted_at(s: &Series, f: &SeriesFit, x: f64) -> f64 {
    match s.model {
        Model::PowerLaw | Model::PowerOfLog => f.centroid[1] + s.predicted * (x - f.centroid[0]),
        Model::InverseLog => s.leading_slope.map_or(f64::NAN, |b| s.predicted + b * x),
    }
}

fn model_word(model: Model) -> &'static str {
    match model {
        Model::PowerLaw => "power_law",
        Model::PowerOfLog => "power_of_log",
        Model::InverseLog => "inverse_log",
    }
}
