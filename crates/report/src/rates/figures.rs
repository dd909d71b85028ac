//! The figures of the rates section: one log-log plot per rate claim, γ*(n) against 1/log n, and
//! width·log n against 1/log n. Coordinates and conventions are in the parent module's docs.

use super::{Fitted, Rates, gamma_c, half_width, short, sizes, width_limit};
use crate::format::round;
use crate::plot::{Line, LinePlot, LineStyle};
use critscale_theorems::{Model, t1};
use std::f64::consts::LN_10;

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
        let (title, formula) = (&series.title, &series.law);
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
            if let Some(b) = s.leading_slope {
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
            title: format!(
                "{}: width·log n is constant (width ∝ 1/log n)",
                t1::WIDTH.id
            ),
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
}
