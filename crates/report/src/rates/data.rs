//! The data files of the rates section: every point (`rates.csv`, `rates.json`), every fit with
//! the claim's measurement beside it (`rates_fits.csv`, `rates_fits.json`), and the figures.

use super::{RHO, Rates, stem};
use crate::format::{Csv, csv_num, csv_text, num};
use crate::{Artifact, ReportError, plot};
use critscale_theorems::{Model, Series, SeriesFit};
use serde_json::json;

impl Rates {
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
                "description": format!("the series the fitted claims are judged on (rho = {RHO}, q = 1, d = n, alpha = 0; n = 10^log10_n; natural logs). x and y are the fit's coordinates: (log n, log Y) for power laws in n, (log log n, log Y) for power laws in log n, (1/log n, gamma*) for thresholds. y_fitted is the least-squares line; y_predicted the line with the predicted slope through the centroid (power laws) or gamma_c + b0/log n with the leading-order b0 (thresholds)."),
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
