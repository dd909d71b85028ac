//! The simplex phase diagram as files: data tables, heatmaps of λ over (ρ, γ/γ_c) at several n,
//! the cut at ρ = 0.3 and the section's prose. The numbers — the closed-form grid, the λ = ½
//! contours and the transition table — are computed by `critscale_sweeps::phase` (see its docs for
//! the formulas); this module only turns a computed [`Phase`] into files and text.

use crate::format::{md_num, num};
use crate::plot::{self, Heatmap, Line, LineStyle};
use crate::table::{Column, Table, columns, positional};
use crate::{Artifact, ReportError};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The phase grid's types and computation, from `critscale_sweeps::phase` (where they are
/// documented), under the names the report's other modules use.
pub use critscale_sweeps::phase::{
    CUT_RHO, Grid, Matrix, Phase, RATIO_MAX, SIZES, Transition, asymptotic_shift_and_width,
    compute, limit_lambda,
};

/// Number of colour levels of the heatmaps (λ in steps of 0.02).
const LEVELS: usize = 50;

/// A line of `phase_grid.csv` (`phase_grid.json` holds the same values as matrices per n).
#[derive(Serialize)]
struct GridLine {
    n: &'static str,
    rho: f64,
    gamma_over_gamma_c: f64,
    gamma: f64,
    lambda: f64,
    lambda_angle: f64,
}

/// A line of `phase_transition.csv` and of the `sizes` of `phase_transition.json`.
#[derive(Serialize)]
struct TransitionLine {
    n: &'static str,
    log_n: f64,
    threshold_over_gamma_c: f64,
    shift_times_log_n: f64,
    lambda_quarter_at: f64,
    lambda_three_quarters_at: f64,
    width: f64,
    width_times_log_n: f64,
}

/// The transition table at each n (the CSV adds the n → ∞ limits; see [`artifacts`]).
fn transition_table(phase: &Phase) -> Result<Table, ReportError> {
    let mut table = Table::new(vec![
        Column::new("n").md("n"),
        Column::new("log_n").md("log n"),
        Column::new("threshold_over_gamma_c").md("γ*(n)/γ_c (λ = 1/2)"),
        Column::new("shift_times_log_n").md("(γ*/γ_c − 1)·log n"),
        Column::new("lambda_quarter_at"),
        Column::new("lambda_three_quarters_at"),
        Column::new("width").md("width (λ = 1/4 → 3/4)"),
        Column::new("width_times_log_n").md("width·log n"),
    ]);
    for t in &phase.transitions {
        let ln = t.n.ln();
        table.push(&TransitionLine {
            n: t.label,
            log_n: ln,
            threshold_over_gamma_c: t.threshold,
            shift_times_log_n: (t.threshold - 1.0) * ln,
            lambda_quarter_at: t.quarter,
            lambda_three_quarters_at: t.three_quarters,
            width: t.width(),
            width_times_log_n: t.width() * ln,
        })?;
    }
    Ok(table)
}

/// The grid as `provenance.json` describes it.
pub fn grid_description(grid: &Grid) -> Value {
    json!({
        "sizes": SIZES.iter().map(|(label, _)| *label).collect::<Vec<_>>(),
        "rho_cells": grid.rho_cells,
        "ratio_cells": grid.ratio_cells,
        "cut_points": grid.cut_points,
    })
}

/// The data files and figures.
pub fn artifacts(phase: &Phase) -> Result<Vec<Artifact>, ReportError> {
    let mut out = Vec::new();
    // Grid, long form.
    let mut table = Table::new(columns(&[
        "n",
        "rho",
        "gamma_over_gamma_c",
        "gamma",
        "lambda",
        "lambda_angle",
    ]));
    let mut per_size = Vec::new();
    for (s, &(label, n)) in SIZES.iter().enumerate() {
        let (lam, angle) = &phase.lambda[s];
        for (j, &ratio) in phase.ratios.iter().enumerate() {
            for (i, &rho) in phase.rhos.iter().enumerate() {
                table.push(&GridLine {
                    n: label,
                    rho,
                    gamma_over_gamma_c: ratio,
                    gamma: ratio / (1.0 - rho),
                    lambda: lam[j][i],
                    lambda_angle: angle[j][i],
                })?;
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
            "lambda_half_contour": phase.contour[s].iter().map(|&x| num(x)).collect::<Vec<_>>(),
        }));
    }
    out.push(Artifact::new("data/phase_grid.csv", table.csv()?));
    let grid_json = json!({
        "description": "lambda and lambda_angle of the simplex closed forms (alpha = 0, q = 1); lambda[j][i] is at gamma_over_gamma_c[j], rho[i] (cell centres); lambda_half_contour[i] is the gamma/gamma_c where lambda = 1/2 at rho[i]",
        "rho": phase.rhos.iter().map(|&x| num(x)).collect::<Vec<_>>(),
        "gamma_over_gamma_c": phase.ratios.iter().map(|&x| num(x)).collect::<Vec<_>>(),
        "sizes": per_size,
    });
    out.push(Artifact::json("data/phase_grid.json", &grid_json));

    // Cut at ρ = 0.3.
    let mut header = vec!["gamma_over_gamma_c".to_owned()];
    header.extend(SIZES.iter().map(|(label, _)| format!("lambda_n{label}")));
    header.push("lambda_limit".to_owned());
    let mut table = Table::new(positional(&header));
    let limit = |ratio: f64| limit_lambda(CUT_RHO, ratio);
    for (k, &ratio) in phase.cut_ratios.iter().enumerate() {
        let mut row = vec![ratio];
        row.extend(phase.cut.iter().map(|c| c[k]));
        row.push(limit(ratio));
        table.push(&row)?;
    }
    out.push(Artifact::new("data/phase_cut.csv", table.csv()?));
    out.push(Artifact::json(
        "data/phase_cut.json",
        &json!({
            "rho": num(CUT_RHO),
            "gamma_over_gamma_c": phase.cut_ratios.iter().map(|&x| num(x)).collect::<Vec<_>>(),
            "lambda": SIZES.iter().zip(&phase.cut).map(|(&(label, _), c)| json!({
                "n": label,
                "values": c.iter().map(|&x| num(x)).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "lambda_limit": phase.cut_ratios.iter().map(|&r| num(limit(r))).collect::<Vec<_>>(),
        }),
    ));

    // Summary table.
    let (shift_inf, width_inf) = asymptotic_shift_and_width(CUT_RHO);
    let mut table = transition_table(phase)?;
    let rows = table.json_rows();
    // The CSV ends with the n → ∞ limit of each column (log n itself left empty).
    table.push(&TransitionLine {
        n: "inf",
        log_n: f64::INFINITY,
        threshold_over_gamma_c: 1.0,
        shift_times_log_n: shift_inf,
        lambda_quarter_at: 1.0,
        lambda_three_quarters_at: 1.0,
        width: 0.0,
        width_times_log_n: width_inf,
    })?;
    out.push(Artifact::new("data/phase_transition.csv", table.csv()?));
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
        let svg = heatmap_svg(phase, s, label)?;
        out.push(Artifact::new(
            &format!("figures/phase_lambda_n{label}.svg"),
            svg.into_bytes(),
        ));
    }
    out.push(Artifact::new(
        "figures/phase_cut.svg",
        cut_svg(phase)?.into_bytes(),
    ));
    Ok(out)
}

fn heatmap_svg(phase: &Phase, s: usize, label: &str) -> Result<String, ReportError> {
    let (lam, _) = &phase.lambda[s];
    let rho_step = 1.0 / phase.grid.rho_cells as f64;
    let ratio_step = RATIO_MAX / phase.grid.ratio_cells as f64;
    let contour: Vec<(f64, f64)> = phase
        .rhos
        .iter()
        .zip(&phase.contour[s])
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
        x_centres: &phase.rhos,
        y_centres: &phase.ratios,
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

fn cut_svg(phase: &Phase) -> Result<String, ReportError> {
    let mut lines: Vec<Line> = SIZES
        .iter()
        .zip(&phase.cut)
        .enumerate()
        .map(|(s, (&(label, _), values))| Line {
            label: format!("n = {label}"),
            points: phase
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
pub fn markdown(phase: &Phase) -> String {
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
        phase.grid.rho_cells, phase.grid.ratio_cells
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
    // A table the data files also hold; a failure to serialise it cannot happen with its plain
    // fields, and would only leave the table out.
    if let Ok(table) = transition_table(phase) {
        md.push_str(&table.markdown());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_prose_of_a_small_grid() {
        let phase = compute(Grid {
            rho_cells: 4,
            ratio_cells: 4,
            cut_points: 5,
        })
        .unwrap();
        let files = artifacts(&phase).unwrap();
        assert_eq!(files, artifacts(&phase).unwrap());
        let grid_csv = files
            .iter()
            .find(|f| f.path == "data/phase_grid.csv")
            .unwrap();
        let text = String::from_utf8(grid_csv.bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 1 + SIZES.len() * 4 * 4);
        for file in files.iter().filter(|f| f.path.ends_with(".svg")) {
            assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
        }
        // Every figure and data file the prose links to exists.
        let md = markdown(&phase);
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            assert!(
                files.iter().any(|f| f.path == target),
                "broken link {target}"
            );
        }
    }
}
