//! The simplex phase diagram from the closed forms (THEORY §5): λ over (ρ, γ/γ_c) at several n.
//!
//! For a simplex with pairwise cosine ρ, α = 0 and q = 1, the closed forms of
//! `critscale-simplex` give λ = (1 − cos_out)/(1 − ρ) exactly at every n. The layer collapses
//! (λ → 0) below γ_c = 1/(1 − ρ) and is the identity (λ → 1) above it, but at finite n the
//! transition has a width: the self weight is p = σ(κ log n + log(n/(n−1))) with
//! κ = γ(1 − ρ) − 1 = γ/γ_c − 1, and for large n λ ≈ p²/(p² + ρ(1 − p²)). So λ = ℓ where
//! p² = ℓρ/(1 − ℓ + ℓρ):
//!
//! * λ = 1/2 ⇔ p² = ρ/(1 + ρ), λ = 1/4 ⇔ p² = ρ/(3 + ρ), λ = 3/4 ⇔ p² = 3ρ/(1 + 3ρ);
//! * in the variable γ/γ_c = 1 + κ, the level ℓ sits at 1 + (logit p_ℓ − log(n/(n−1)))/log n,
//!   so the threshold γ*(n)/γ_c = 1 + O(1/log n) and the width between λ = 1/4 and λ = 3/4 is
//!   w(ρ)/log n with w(ρ) = logit p_{3/4} − logit p_{1/4} (1.632 at ρ = 0.3).
//!
//! The transition therefore sharpens only like 1/log n: the table shows width·log n → w(ρ).
//! The numbers in the table are not these asymptotic formulas but bisections of the exact closed
//! forms (to 1e-13), so the approach to w(ρ) is measured, not assumed.

use crate::format::{Csv, csv_num, csv_text, md_num, num};
use crate::plot::{self, Heatmap, Line, LineStyle};
use crate::{Artifact, ReportError};
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The sizes of the phase diagram: (label, n).
pub const SIZES: [(&str, f64); 4] = [("1e2", 1e2), ("1e4", 1e4), ("1e16", 1e16), ("1e100", 1e100)];

/// The ρ of the one-dimensional cut and of the summary table.
pub const CUT_RHO: f64 = 0.3;

/// Largest γ/γ_c on the grid.
pub const RATIO_MAX: f64 = 2.0;

/// Grid sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Cells along ρ ∈ (0, 1) (cell centres (i + 1/2)/cells).
    pub rho_cells: usize,
    /// Cells along γ/γ_c ∈ (0, 2].
    pub ratio_cells: usize,
    /// Points of the cut at ρ = 0.3 along γ/γ_c ∈ [0, 2] (end points included).
    pub cut_points: usize,
}

/// λ and λ_angle of the simplex at (n, ρ, γ/γ_c), α = 0, q = 1.
fn lambda(n: f64, rho: f64, ratio: f64) -> Result<(f64, f64), ReportError> {
    let params = SimplexParams::new(n, rho, Scaling::Gamma(ratio / (1.0 - rho)), 0.0, 1.0, None)
        .map_err(|e| ReportError::Internal(format!("phase diagram point: {e}")))?;
    let layer = SimplexLayer::evaluate(&params);
    Ok((layer.lambda, layer.lambda_angle))
}

/// The γ/γ_c where λ = level, by bisection of the exact closed form (λ increases with γ).
fn level_crossing(n: f64, rho: f64, level: f64) -> Result<f64, ReportError> {
    let (mut lo, mut hi) = (1e-6, 64.0);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if lambda(n, rho, mid)?.0 < level {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-13 * hi {
            break;
        }
    }
    Ok(0.5 * (lo + hi))
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// The n → ∞ value of (γ/γ_c − 1)·log n at λ = 1/2, and of width·log n (see the module docs).
pub fn asymptotic_shift_and_width(rho: f64) -> (f64, f64) {
    let half = logit((rho / (1.0 + rho)).sqrt());
    let quarter = logit((rho / (3.0 + rho)).sqrt());
    let three_quarters = logit((3.0 * rho / (1.0 + 3.0 * rho)).sqrt());
    (half, three_quarters - quarter)
}

/// One row of the summary table.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// Label of n.
    pub label: &'static str,
    /// n.
    pub n: f64,
    /// γ*(n)/γ_c, where λ = 1/2.
    pub threshold: f64,
    /// γ/γ_c at λ = 1/4 and at λ = 3/4.
    pub quarter: f64,
    /// γ/γ_c at λ = 3/4.
    pub three_quarters: f64,
}

impl Transition {
    /// The width in γ/γ_c between λ = 1/4 and λ = 3/4.
    pub fn width(&self) -> f64 {
        self.three_quarters - self.quarter
    }
}

/// Values on the grid: `m[j][i]` at γ/γ_c = `ratios[j]`, ρ = `rhos[i]`.
pub type Matrix = Vec<Vec<f64>>;

/// Everything the phase section computed.
#[derive(Debug, Clone)]
pub struct Phase {
    /// The grid.
    pub grid: Grid,
    /// ρ cell centres.
    pub rhos: Vec<f64>,
    /// γ/γ_c cell centres.
    pub ratios: Vec<f64>,
    /// Per size: λ and λ_angle, indexed `[ratio][rho]`.
    pub lambda: Vec<(Matrix, Matrix)>,
    /// Per size: γ/γ_c where λ = 1/2, at each ρ centre.
    pub contour: Vec<Vec<f64>>,
    /// The cut at ρ = 0.3: γ/γ_c values and λ per size.
    pub cut_ratios: Vec<f64>,
    /// λ along the cut, per size.
    pub cut: Vec<Vec<f64>>,
    /// The summary table at ρ = 0.3.
    pub transitions: Vec<Transition>,
}

/// Computes the section.
pub fn compute(grid: Grid) -> Result<Phase, ReportError> {
    let rhos: Vec<f64> = (0..grid.rho_cells)
        .map(|i| (i as f64 + 0.5) / grid.rho_cells as f64)
        .collect();
    let step = RATIO_MAX / grid.ratio_cells as f64;
    let ratios: Vec<f64> = (0..grid.ratio_cells)
        .map(|j| (j as f64 + 0.5) * step)
        .collect();
    let cut_ratios: Vec<f64> = (0..grid.cut_points)
        .map(|k| (k as f64 / (grid.cut_points - 1) as f64 * RATIO_MAX).max(1e-3))
        .collect();
    let mut lambda_grids = Vec::new();
    let mut contours = Vec::new();
    let mut cuts = Vec::new();
    let mut transitions = Vec::new();
    for &(label, n) in &SIZES {
        let rows: Vec<Vec<(f64, f64)>> = ratios
            .par_iter()
            .map(|&ratio| rhos.iter().map(|&rho| lambda(n, rho, ratio)).collect())
            .collect::<Result<_, _>>()?;
        let lam = rows
            .iter()
            .map(|row| row.iter().map(|v| v.0).collect())
            .collect();
        let angle = rows
            .iter()
            .map(|row| row.iter().map(|v| v.1).collect())
            .collect();
        lambda_grids.push((lam, angle));
        contours.push(
            rhos.par_iter()
                .map(|&rho| level_crossing(n, rho, 0.5))
                .collect::<Result<Vec<_>, _>>()?,
        );
        cuts.push(
            cut_ratios
                .par_iter()
                .map(|&ratio| lambda(n, CUT_RHO, ratio).map(|v| v.0))
                .collect::<Result<Vec<_>, _>>()?,
        );
        transitions.push(Transition {
            label,
            n,
            threshold: level_crossing(n, CUT_RHO, 0.5)?,
            quarter: level_crossing(n, CUT_RHO, 0.25)?,
            three_quarters: level_crossing(n, CUT_RHO, 0.75)?,
        });
    }
    Ok(Phase {
        grid,
        rhos,
        ratios,
        lambda: lambda_grids,
        contour: contours,
        cut_ratios,
        cut: cuts,
        transitions,
    })
}

/// Number of colour levels of the heatmaps (λ in steps of 0.02).
const LEVELS: usize = 50;

impl Phase {
    /// The data files and figures.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let mut out = Vec::new();
        // Grid, long form.
        let mut csv = Csv::new(&[
            "n",
            "rho",
            "gamma_over_gamma_c",
            "gamma",
            "lambda",
            "lambda_angle",
        ]);
        let mut per_size = Vec::new();
        for (s, &(label, n)) in SIZES.iter().enumerate() {
            let (lam, angle) = &self.lambda[s];
            for (j, &ratio) in self.ratios.iter().enumerate() {
                for (i, &rho) in self.rhos.iter().enumerate() {
                    csv.row([
                        label.to_owned(),
                        csv_num(rho),
                        csv_num(ratio),
                        csv_num(ratio / (1.0 - rho)),
                        csv_num(lam[j][i]),
                        csv_num(angle[j][i]),
                    ]);
                }
            }
            let matrix = |m: &Matrix| -> Value {
                Value::Array(
                    m.iter()
                        .map(|row| Value::Array(row.iter().map(|&x| num(x)).collect()))
                        .collect(),
                )
            };
            per_size.push(json!({
                "n": label,
                "log_n": num(n.ln()),
                "lambda": matrix(lam),
                "lambda_angle": matrix(angle),
                "lambda_half_contour": self.contour[s].iter().map(|&x| num(x)).collect::<Vec<_>>(),
            }));
        }
        out.push(Artifact::new("data/phase_grid.csv", csv.into_bytes()));
        let grid_json = json!({
            "description": "lambda and lambda_angle of the simplex closed forms (alpha = 0, q = 1); lambda[j][i] is at gamma_over_gamma_c[j], rho[i] (cell centres); lambda_half_contour[i] is the gamma/gamma_c where lambda = 1/2 at rho[i]",
            "rho": self.rhos.iter().map(|&x| num(x)).collect::<Vec<_>>(),
            "gamma_over_gamma_c": self.ratios.iter().map(|&x| num(x)).collect::<Vec<_>>(),
            "sizes": per_size,
        });
        out.push(Artifact::json("data/phase_grid.json", &grid_json));

        // Cut at ρ = 0.3.
        let mut header = vec!["gamma_over_gamma_c".to_owned()];
        header.extend(SIZES.iter().map(|(label, _)| format!("lambda_n{label}")));
        header.push("lambda_limit".to_owned());
        let header_refs: Vec<&str> = header.iter().map(String::as_str).collect();
        let mut csv = Csv::new(&header_refs);
        let limit = |ratio: f64| limit_lambda(CUT_RHO, ratio);
        for (k, &ratio) in self.cut_ratios.iter().enumerate() {
            let mut row = vec![csv_num(ratio)];
            row.extend(self.cut.iter().map(|c| csv_num(c[k])));
            row.push(csv_num(limit(ratio)));
            csv.row(row);
        }
        out.push(Artifact::new("data/phase_cut.csv", csv.into_bytes()));
        out.push(Artifact::json(
            "data/phase_cut.json",
            &json!({
                "rho": num(CUT_RHO),
                "gamma_over_gamma_c": self.cut_ratios.iter().map(|&x| num(x)).collect::<Vec<_>>(),
                "lambda": SIZES.iter().zip(&self.cut).map(|(&(label, _), c)| json!({
                    "n": label,
                    "values": c.iter().map(|&x| num(x)).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "lambda_limit": self.cut_ratios.iter().map(|&r| num(limit(r))).collect::<Vec<_>>(),
            }),
        ));

        // Summary table.
        let (shift_inf, width_inf) = asymptotic_shift_and_width(CUT_RHO);
        let mut csv = Csv::new(&[
            "n",
            "log_n",
            "threshold_over_gamma_c",
            "shift_times_log_n",
            "lambda_quarter_at",
            "lambda_three_quarters_at",
            "width",
            "width_times_log_n",
        ]);
        let mut rows = Vec::new();
        for t in &self.transitions {
            let ln = t.n.ln();
            csv.row([
                t.label.to_owned(),
                csv_num(ln),
                csv_num(t.threshold),
                csv_num((t.threshold - 1.0) * ln),
                csv_num(t.quarter),
                csv_num(t.three_quarters),
                csv_num(t.width()),
                csv_num(t.width() * ln),
            ]);
            rows.push(json!({
                "n": t.label,
                "log_n": num(ln),
                "threshold_over_gamma_c": num(t.threshold),
                "shift_times_log_n": num((t.threshold - 1.0) * ln),
                "lambda_quarter_at": num(t.quarter),
                "lambda_three_quarters_at": num(t.three_quarters),
                "width": num(t.width()),
                "width_times_log_n": num(t.width() * ln),
            }));
        }
        csv.row([
            csv_text("inf"),
            String::new(),
            csv_num(1.0),
            csv_num(shift_inf),
            csv_num(1.0),
            csv_num(1.0),
            csv_num(0.0),
            csv_num(width_inf),
        ]);
        out.push(Artifact::new("data/phase_transition.csv", csv.into_bytes()));
        out.push(Artifact::json(
            "data/phase_transition.json",
            &json!({
                "rho": num(CUT_RHO),
                "sizes": rows,
                "limit": {
                    "shift_times_log_n": num(shift_inf),
                    "width_times_log_n": num(width_inf),
                },
            }),
        ));

        // Figures.
        for (s, &(label, _)) in SIZES.iter().enumerate() {
            let svg = self.heatmap_svg(s, label)?;
            out.push(Artifact::new(
                &format!("figures/phase_lambda_n{label}.svg"),
                svg.into_bytes(),
            ));
        }
        out.push(Artifact::new(
            "figures/phase_cut.svg",
            self.cut_svg()?.into_bytes(),
        ));
        Ok(out)
    }

    fn heatmap_svg(&self, s: usize, label: &str) -> Result<String, ReportError> {
        let (lam, _) = &self.lambda[s];
        let rho_step = 1.0 / self.grid.rho_cells as f64;
        let ratio_step = RATIO_MAX / self.grid.ratio_cells as f64;
        let contour: Vec<(f64, f64)> = self
            .rhos
            .iter()
            .zip(&self.contour[s])
            .map(|(&rho, &ratio)| (rho, ratio.min(RATIO_MAX)))
            .collect();
        plot::heatmap(&Heatmap {
            title: format!("simplex, closed forms: lambda at n = {label}"),
            x_label: "rho".to_owned(),
            y_label: "gamma / gamma_c".to_owned(),
            x_range: (0.0, 1.0),
            y_range: (0.0, RATIO_MAX),
            x_step: rho_step,
            y_step: ratio_step,
            x_centres: &self.rhos,
            y_centres: &self.ratios,
            values: lam,
            levels: LEVELS,
            value_label: "lambda".to_owned(),
            lines: vec![
                Line {
                    label: "gamma = gamma_c = 1/(1-rho)".to_owned(),
                    points: vec![(0.0, 1.0), (1.0, 1.0)],
                    style: LineStyle::DashedBlack,
                },
                Line {
                    label: "lambda = 1/2 (exact, this n)".to_owned(),
                    points: contour,
                    style: LineStyle::SolidRed,
                },
            ],
        })
    }

    fn cut_svg(&self) -> Result<String, ReportError> {
        let mut lines: Vec<Line> = SIZES
            .iter()
            .zip(&self.cut)
            .enumerate()
            .map(|(s, (&(label, _), values))| Line {
                label: format!("n = {label}"),
                points: self
                    .cut_ratios
                    .iter()
                    .copied()
                    .zip(values.iter().copied())
                    .collect(),
                style: LineStyle::Series(s),
            })
            .collect();
        let crit = limit_lambda(CUT_RHO, 1.0);
        lines.push(Line {
            label: "n -> infinity".to_owned(),
            points: vec![
                (0.0, 0.0),
                (1.0, 0.0),
                (1.0, crit),
                (1.0, 1.0),
                (RATIO_MAX, 1.0),
            ],
            style: LineStyle::DashedBlack,
        });
        plot::lines(&plot::LinePlot {
            title: format!("lambda along rho = {CUT_RHO}: the transition sharpens like 1/log n"),
            x_label: "gamma / gamma_c".to_owned(),
            y_label: "lambda".to_owned(),
            x_range: (0.0, RATIO_MAX),
            y_range: (0.0, 1.0),
            x_log: false,
            lines,
            bands: Vec::new(),
            notes: Vec::new(),
            legend_left: false,
        })
    }

    /// The Markdown of the section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## The simplex phase diagram (closed forms)\n");
        let _ = writeln!(
            md,
            "λ = (1 − cos_out)/(1 − ρ) of one attention layer on a token simplex (α = 0, q = 1), from the exact \
             closed forms of `crates/simplex`, over ρ ∈ (0, 1) ({} cells) and γ/γ_c ∈ (0, {RATIO_MAX}] ({} cells), \
             at n = 10², 10⁴, 10¹⁶ and 10¹⁰⁰. Dark is collapse (λ ≈ 0), bright is the identity (λ ≈ 1). \
             The dashed line is the critical scaling γ = γ_c = 1/(1 − ρ); the red line is where λ = 1/2 at that n \
             (bisection of the closed form). The colour scale has {LEVELS} levels; the exact values are in \
             [`data/phase_grid.csv`](data/phase_grid.csv).\n",
            self.grid.rho_cells, self.grid.ratio_cells
        );
        let _ = writeln!(md, "| n = 10² | n = 10⁴ |\n|---|---|");
        let _ = writeln!(
            md,
            "| ![lambda at n = 1e2](figures/phase_lambda_n1e2.svg) | ![lambda at n = 1e4](figures/phase_lambda_n1e4.svg) |"
        );
        let _ = writeln!(md, "| **n = 10¹⁶** | **n = 10¹⁰⁰** |");
        let _ = writeln!(
            md,
            "| ![lambda at n = 1e16](figures/phase_lambda_n1e16.svg) | ![lambda at n = 1e100](figures/phase_lambda_n1e100.svg) |\n"
        );
        let _ = writeln!(
            md,
            "The transition sharpens only logarithmically. Along ρ = {CUT_RHO} ([figure](figures/phase_cut.svg), \
             [data](data/phase_cut.csv)): with p = σ(κ log n + log(n/(n−1))) the self weight and κ = γ/γ_c − 1, \
             λ → p²/(p² + ρ(1 − p²)), so λ = 1/2, 1/4, 3/4 sit at fixed values of κ log n and the width between \
             λ = 1/4 and λ = 3/4 is w(ρ)/log n with w(ρ) = logit √(3ρ/(1+3ρ)) − logit √(ρ/(3+ρ)). \
             The table bisects the exact closed forms; the last row is the n → ∞ value of each scaled column.\n"
        );
        let _ = writeln!(md, "![lambda along rho = 0.3](figures/phase_cut.svg)\n");
        let _ = writeln!(
            md,
            "| n | log n | γ*(n)/γ_c (λ = 1/2) | (γ*/γ_c − 1)·log n | width (λ = 1/4 → 3/4) | width·log n |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|");
        for t in &self.transitions {
            let ln = t.n.ln();
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} |",
                t.label,
                md_num(ln),
                md_num(t.threshold),
                md_num((t.threshold - 1.0) * ln),
                md_num(t.width()),
                md_num(t.width() * ln)
            );
        }
        let (shift_inf, width_inf) = asymptotic_shift_and_width(CUT_RHO);
        let _ = writeln!(
            md,
            "| ∞ | ∞ | 1 | {} | 0 | {} |\n",
            md_num(shift_inf),
            md_num(width_inf)
        );
        let _ = writeln!(
            md,
            "Data: [`phase_transition.csv`](data/phase_transition.csv), [`phase_grid.json`](data/phase_grid.json), \
             [`phase_cut.json`](data/phase_cut.json).\n"
        );
        md
    }
}

/// The n → ∞ limit of λ on the simplex (α = 0): 0 below γ_c, 1/(1 + 3ρ) at γ_c, 1 above.
pub fn limit_lambda(rho: f64, ratio: f64) -> f64 {
    if ratio < 1.0 {
        0.0
    } else if ratio == 1.0 {
        1.0 / (1.0 + 3.0 * rho)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn width_times_log_n_approaches_its_limit() {
        let phase = compute(Grid {
            rho_cells: 4,
            ratio_cells: 4,
            cut_points: 5,
        })
        .unwrap();
        let (shift, width) = asymptotic_shift_and_width(CUT_RHO);
        assert!((width - 1.632).abs() < 1e-3, "{width}");
        let last = phase.transitions.last().unwrap();
        let ln = last.n.ln();
        assert!((last.width() * ln - width).abs() < 1e-6);
        assert!(((last.threshold - 1.0) * ln - shift).abs() < 1e-6);
        // Narrower at every larger n.
        for pair in phase.transitions.windows(2) {
            assert!(pair[1].width() < pair[0].width());
        }
    }

    #[test]
    fn lambda_is_monotone_along_the_cut() {
        let phase = compute(Grid {
            rho_cells: 2,
            ratio_cells: 2,
            cut_points: 41,
        })
        .unwrap();
        for cut in &phase.cut {
            for pair in cut.windows(2) {
                assert!(pair[1] >= pair[0] - 1e-15);
            }
        }
    }
}
