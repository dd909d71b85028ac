//! Figures 1 and 2 of the paper as files: the data tables (CSV, JSON) and heatmaps of λ,
//! λ_angle and η/η_∞ over (ρ, γ) of the Gaussian almost-simplex grid, and the section's prose
//! ([`markdown`]). The grid itself — tokens, layers, crossings, fits — is computed by
//! `critscale_sweeps::gaussian` (see its docs for the pipeline and the seed policy); this module
//! only turns a computed [`Gaussian`] into files and text.
//!
//! **Figures.** Heatmaps over ρ (across) and γ (up) of λ, λ_angle and η/η_∞, where
//! η_∞ = (1 − 1/d)·mean_i 1/|x_i|² is the exact identity-phase value of η for the drawn tokens
//! (T4); at small d the token norms spread (E 1/|x|² is infinite at d = 2), so raw η would
//! mostly show the smallest norms. Overlaid: γ = γ_c = 1/(1 − ρ), the measured crossings, the
//! fit, and the simplex crossing. Because the shared component z₀ of one draw has
//! |z₀|² = 1 ± √(2/d), the realised mean input cosine ρ̂ of a row differs from ρ at small d;
//! a second fit γ* = a/(1 − ρ̂) + b uses it. Rounding to the 10 digits of the data files happens
//! only here ([`artifacts`]); the rows themselves are exact.

use crate::format::num;
use crate::plot::{self, Heatmap, Line, LineStyle};
use crate::table::{Table, columns};
use crate::{Artifact, ReportError};
use critscale_simplex::gamma_c;
use critscale_sweeps::LAMBDA_HALF;
use critscale_sweeps::gaussian::spacing;
use serde::Serialize;
use serde_json::{Value, json};

mod prose;
pub use prose::{markdown, markdown_with_heading};

/// The grid's types and computation, from `critscale_sweeps::gaussian` (where they are
/// documented), under the names the report's other modules use.
pub use critscale_sweeps::gaussian::{
    Crossing, FIT_MIN_ROWS, Fit, Gaussian, Grid, Point, RowKey, RowResult, assemble,
    check_row_place, compute, compute_row, row_key_name, row_keys, row_sample_key,
};

/// Number of colour levels of the heatmaps.
const LEVELS: usize = 50;

/// Which quantity a heatmap shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quantity {
    Lambda,
    LambdaAngle,
    Eta,
}

impl Quantity {
    const ALL: [Quantity; 3] = [Quantity::Lambda, Quantity::LambdaAngle, Quantity::Eta];

    fn stem(self) -> &'static str {
        match self {
            Quantity::Lambda => "lambda",
            Quantity::LambdaAngle => "lambda_angle",
            Quantity::Eta => "eta",
        }
    }

    /// The value shown: λ, λ_angle, or η relative to the row's identity limit.
    fn value(self, row: &RowResult, p: &Point) -> Option<f64> {
        match self {
            Quantity::Lambda => Some(p.lambda),
            Quantity::LambdaAngle => Some(p.lambda_angle),
            Quantity::Eta => p.eta.map(|e| e / row.eta_identity),
        }
    }
}

/// Points of y = f(x) on [x0, x1] that lie within [y0, y1] (f monotone, so one run).
fn curve(f: impl Fn(f64) -> f64, x: (f64, f64), y: (f64, f64)) -> Vec<(f64, f64)> {
    const SAMPLES: usize = 200;
    (0..=SAMPLES)
        .map(|k| x.0 + (x.1 - x.0) * k as f64 / SAMPLES as f64)
        .map(|r| (r, f(r)))
        .filter(|&(_, g)| g.is_finite() && g >= y.0 && g <= y.1)
        .collect()
}

fn gamma_range(gaussian: &Gaussian) -> (f64, f64) {
    let g = &gaussian.grid().gammas;
    let h = spacing(g) / 2.0;
    (g[0] - h, g[g.len() - 1] + h)
}

fn rho_range(gaussian: &Gaussian) -> (f64, f64) {
    let r = &gaussian.grid().rhos;
    let h = spacing(r) / 2.0;
    (r[0] - h, r[r.len() - 1] + h)
}

/// The largest η of dimension `dim_index`.
fn eta_max(gaussian: &Gaussian, dim_index: usize) -> f64 {
    gaussian
        .rows_of(dim_index)
        .flat_map(|r| r.points.iter().filter_map(|p| p.eta))
        .fold(0.0, f64::max)
}

/// The largest η/η_∞ of dimension `dim_index` (whether the colour scale clips).
fn eta_ratio_max(gaussian: &Gaussian, dim_index: usize) -> f64 {
    gaussian
        .rows_of(dim_index)
        .flat_map(|r| r.points.iter().filter_map(|p| Quantity::Eta.value(r, p)))
        .fold(0.0, f64::max)
}

fn heatmap_svg(gaussian: &Gaussian, dim_index: usize, q: Quantity) -> Result<String, ReportError> {
    let grid = gaussian.grid();
    let d = grid.dims[dim_index];
    let rows: Vec<&RowResult> = gaussian.rows_of(dim_index).collect();
    let indices: Vec<usize> = (0..grid.gammas.len())
        .filter(|&j| q != Quantity::Eta || grid.has_eta(j))
        .collect();
    let y_centres: Vec<f64> = indices.iter().map(|&j| grid.gammas[j]).collect();
    let values: Vec<Vec<f64>> = indices
        .iter()
        .map(|&j| {
            rows.iter()
                .map(|r| q.value(r, &r.points[j]).unwrap_or(f64::NAN))
                .collect()
        })
        .collect();
    let y_step = spacing(&grid.gammas)
        * if q == Quantity::Eta {
            grid.eta_every as f64
        } else {
            1.0
        };
    let x_range = rho_range(gaussian);
    let y_range = gamma_range(gaussian);
    let mut lines = vec![Line {
        label: "gamma_c = 1/(1-rho)".to_owned(),
        points: curve(|r| gamma_c(&r), x_range, y_range),
        style: LineStyle::DashedWhite,
    }];
    if let Some(fit) = gaussian.fit(dim_index) {
        lines.push(Line {
            label: format!(
                "fit {:.3}/(1-rho) {} {:.3} (rms {:.2})",
                fit.a,
                if fit.b < 0.0 { '-' } else { '+' },
                fit.b.abs(),
                fit.rms
            ),
            points: curve(|r| fit.at(r), x_range, y_range),
            style: LineStyle::Series(1),
        });
    }
    let simplex: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.simplex_crossing.map(|g| (r.rho, g)))
        .filter(|&(_, g)| g <= y_range.1)
        .collect();
    if simplex.len() > 1 {
        lines.push(Line {
            label: format!("simplex lambda = 1/2, n = {}", grid.n),
            points: simplex,
            style: LineStyle::ThinGrey,
        });
    }
    // The measured crossings as plus signs (plot.rs has no point markers).
    let (hx, hy) = (
        0.012 * (x_range.1 - x_range.0),
        0.018 * (y_range.1 - y_range.0),
    );
    for (k, (rho, g)) in rows
        .iter()
        .filter_map(|r| r.crossing.gamma().map(|g| (r.rho, g)))
        .enumerate()
    {
        lines.push(Line {
            label: if k == 0 {
                "measured lambda = 1/2 (bisection)".to_owned()
            } else {
                String::new()
            },
            points: vec![
                (rho - hx, g),
                (rho + hx, g),
                (rho, g),
                (rho, g - hy),
                (rho, g + hy),
            ],
            style: LineStyle::SolidRed,
        });
    }
    let (title, value_label) = match q {
        Quantity::Lambda => (
            format!(
                "lambda = mean (1 - cos')/(1 - cos), Gaussian, d = {d}, n = {}",
                grid.n
            ),
            "lambda".to_owned(),
        ),
        Quantity::LambdaAngle => (
            format!(
                "lambda_angle = mean theta'/theta, Gaussian, d = {d}, n = {}",
                grid.n
            ),
            "lambda_angle".to_owned(),
        ),
        Quantity::Eta => (
            format!(
                "eta (exact) / its identity limit, Gaussian, d = {d}, n = {}",
                grid.n
            ),
            if eta_ratio_max(gaussian, dim_index) > 1.005 {
                "eta / eta_identity (clipped at 1)".to_owned()
            } else {
                "eta / eta_identity".to_owned()
            },
        ),
    };
    plot::heatmap(&Heatmap {
        title,
        x_label: "rho".to_owned(),
        y_label: "gamma (beta = gamma ln n)".to_owned(),
        x_range,
        y_range,
        x_step: spacing(&grid.rhos),
        y_step,
        x_centres: &grid.rhos,
        y_centres: &y_centres,
        values: &values,
        levels: LEVELS,
        value_label,
        lines,
    })
}

/// A line of `gaussian_grid.csv`: one (d, ρ, γ) point (`gaussian_grid.json` groups them by row).
#[derive(Serialize)]
struct GridLine {
    d: usize,
    rho: f64,
    gamma: f64,
    gamma_over_gamma_c: f64,
    lambda: f64,
    lambda_angle: f64,
    eta: Option<f64>,
    self_weight: f64,
    support: f64,
    entropy: f64,
    cos_out_mean: f64,
}

/// A line of `gaussian_transition.csv` and of the `rows` of `gaussian_transition.json`.
#[derive(Serialize)]
struct TransitionLine {
    d: usize,
    rho: f64,
    gamma_c: f64,
    crossing: &'static str,
    gamma_star: Option<f64>,
    gamma_star_over_gamma_c: Option<f64>,
    simplex_gamma_star: Option<f64>,
    gamma_star_minus_simplex: Option<f64>,
    fit_gamma_star: Option<f64>,
    bisection_steps: Option<usize>,
    cos_in_mean: f64,
    eta_first: Option<f64>,
    eta_last: Option<f64>,
    eta_identity: f64,
    steepest_eta_rise_at: Option<f64>,
}

/// The grid as `provenance.json` describes it.
pub fn grid_description(grid: &Grid) -> Value {
    json!({
        "n": grid.n,
        "dims": grid.dims,
        "rhos": grid.rhos.iter().map(|&r| num(r)).collect::<Vec<_>>(),
        "gammas": grid.gammas.iter().map(|&g| num(g)).collect::<Vec<_>>(),
        "eta_every": grid.eta_every,
        "crossing_tol": num(grid.crossing_tol),
    })
}

/// The data files and figures, in a fixed order.
pub fn artifacts(gaussian: &Gaussian) -> Result<Vec<Artifact>, ReportError> {
    let grid = gaussian.grid();
    let mut out = Vec::new();
    let opt_num = |x: Option<f64>| x.map_or(Value::Null, num);

    // The grid, long form.
    let mut table = Table::new(columns(&[
        "d",
        "rho",
        "gamma",
        "gamma_over_gamma_c",
        "lambda",
        "lambda_angle",
        "eta",
        "self_weight",
        "support",
        "entropy",
        "cos_out_mean",
    ]));
    for row in gaussian.rows() {
        for p in &row.points {
            table.push(&GridLine {
                d: row.d,
                rho: row.rho,
                gamma: p.gamma,
                gamma_over_gamma_c: p.gamma * (1.0 - row.rho),
                lambda: p.lambda,
                lambda_angle: p.lambda_angle,
                eta: p.eta,
                self_weight: p.self_weight,
                support: p.support,
                entropy: p.entropy,
                cos_out_mean: p.cos_out_mean,
            })?;
        }
    }
    out.push(Artifact::new("data/gaussian_grid.csv", table.csv()?));
    let series = |row: &RowResult, f: &dyn Fn(&Point) -> Option<f64>| -> Value {
        Value::Array(row.points.iter().map(|p| opt_num(f(p))).collect())
    };
    let dims: Vec<Value> = grid
        .dims
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            let rows: Vec<Value> = gaussian
                .rows_of(k)
                .map(|r| {
                    json!({
                        "rho": num(r.rho),
                        "seed": r.seed,
                        "cos_in_mean": num(r.cos_in_mean),
                        "eta_identity": num(r.eta_identity),
                        "lambda": series(r, &|p| Some(p.lambda)),
                        "lambda_angle": series(r, &|p| Some(p.lambda_angle)),
                        "eta": series(r, &|p| p.eta),
                        "self_weight": series(r, &|p| Some(p.self_weight)),
                        "support": series(r, &|p| Some(p.support)),
                        "entropy": series(r, &|p| Some(p.entropy)),
                        "cos_out_mean": series(r, &|p| Some(p.cos_out_mean)),
                    })
                })
                .collect();
            json!({ "d": d, "rows": rows })
        })
        .collect();
    out.push(Artifact::json(
        "data/gaussian_grid.json",
        &json!({
            "description": "one attention layer (alpha = 0, beta = gamma ln n) on Gaussian almost-simplices x_i = sqrt(rho) z0 + sqrt(1-rho) z_i, z ~ N(0, I_d/d); per d and rho row, each series has one value per gamma; eta is exact and null where not computed",
            "n": grid.n,
            "grid_seed": grid.seed,
            "gamma": grid.gammas.iter().map(|&g| num(g)).collect::<Vec<_>>(),
            "rho": grid.rhos.iter().map(|&r| num(r)).collect::<Vec<_>>(),
            "eta_every": grid.eta_every,
            "dims": dims,
        }),
    ));

    // The transition per row, and the fits.
    let mut table = Table::new(columns(&[
        "d",
        "rho",
        "gamma_c",
        "crossing",
        "gamma_star",
        "gamma_star_over_gamma_c",
        "simplex_gamma_star",
        "gamma_star_minus_simplex",
        "fit_gamma_star",
        "bisection_steps",
        "cos_in_mean",
        "eta_first",
        "eta_last",
        "eta_identity",
        "steepest_eta_rise_at",
    ]));
    for row in gaussian.rows() {
        let gamma_c = gamma_c(&row.rho);
        let star = row.crossing.gamma();
        let etas: Vec<f64> = row.points.iter().filter_map(|p| p.eta).collect();
        table.push(&TransitionLine {
            d: row.d,
            rho: row.rho,
            gamma_c,
            crossing: row.crossing.kind(),
            gamma_star: star,
            gamma_star_over_gamma_c: star.map(|g| g / gamma_c),
            simplex_gamma_star: row.simplex_crossing,
            gamma_star_minus_simplex: star.zip(row.simplex_crossing).map(|(a, b)| a - b),
            fit_gamma_star: gaussian.fit(row.key.dim_index).map(|f| f.at(row.rho)),
            bisection_steps: match row.crossing {
                Crossing::At { steps, .. } => Some(steps),
                _ => None,
            },
            cos_in_mean: row.cos_in_mean,
            eta_first: etas.first().copied(),
            eta_last: etas.last().copied(),
            eta_identity: row.eta_identity,
            steepest_eta_rise_at: row.steepest_eta_rise(),
        })?;
    }
    out.push(Artifact::new("data/gaussian_transition.csv", table.csv()?));
    let rows_json = table.json_rows();
    let fit_json = |f: Option<Fit>| match f {
        Some(f) => json!({ "a": num(f.a), "b": num(f.b), "rows": f.rows, "rms": num(f.rms) }),
        None => json!({ "a": null, "b": null, "rows": 0, "rms": null }),
    };
    let fits: Vec<Value> = grid
        .dims
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            json!({
                "d": d,
                "nominal_rho": fit_json(gaussian.fit(k)),
                "realised_rho": fit_json(gaussian.fit_realised(k)),
            })
        })
        .collect();
    out.push(Artifact::json(
        "data/gaussian_transition.json",
        &json!({
            "description": "per (d, rho) row: gamma_star where lambda = 1/2 (bisection on the row's tokens; crossing = above/below when lambda stays below/above 1/2 on the gamma range), the exact simplex crossing at the same n, and per d the least-squares fits gamma_star = a/(1-x) + b over the rows with a crossing, x = the nominal rho or the realised mean input cosine (cos_in_mean)",
            "n": grid.n,
            "level": num(LAMBDA_HALF),
            "crossing_tol": num(grid.crossing_tol),
            "rows": rows_json,
            "fits": fits,
        }),
    ));

    // Figures.
    for q in Quantity::ALL {
        for (k, &d) in grid.dims.iter().enumerate() {
            out.push(Artifact::new(
                &format!("figures/gaussian_{}_d{d}.svg", q.stem()),
                heatmap_svg(gaussian, k, q)?.into_bytes(),
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quick_budget_files_and_links() {
        let grid = Grid::quick();
        let g = compute(&grid, &|| {}).unwrap();
        let files = artifacts(&g).unwrap();
        assert_eq!(files, artifacts(&g).unwrap());
        assert_eq!(files.len(), 4 + 9);
        for file in &files {
            if file.path.ends_with(".svg") {
                assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
                assert!(file.bytes.len() < 600_000, "{}", file.path);
            } else if file.path.ends_with(".json") {
                serde_json::from_slice::<Value>(&file.bytes).unwrap();
            }
        }
        // Every link of the section points at one of its files.
        let md = markdown(&g);
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            assert!(
                files.iter().any(|f| f.path == target),
                "broken link {target}"
            );
        }
        // The transition table has one line per row.
        let transition = files
            .iter()
            .find(|f| f.path == "data/gaussian_transition.csv")
            .unwrap();
        let text = String::from_utf8(transition.bytes.clone()).unwrap();
        assert_eq!(text.lines().count(), 1 + row_keys(&grid).len());
    }

    /// The full budget, timed: `cargo test --release -p critscale-report gaussian::tests::full_budget
    /// -- --ignored --nocapture` (`GAUSSIAN_BUDGET=quick` for the quick grid, `GAUSSIAN_OUT=DIR` to
    /// write the files and the Markdown there).
    #[test]
    #[ignore = "minutes in release; run by hand to time the full budget"]
    fn full_budget() {
        let grid = match std::env::var("GAUSSIAN_BUDGET").as_deref() {
            Ok("quick") => Grid::quick(),
            _ => Grid::full(),
        };
        let start = std::time::Instant::now();
        let g = compute(&grid, &|| {}).unwrap();
        let compute_s = start.elapsed().as_secs_f64();
        let files = artifacts(&g).unwrap();
        let total = start.elapsed().as_secs_f64();
        println!(
            "full budget: compute {compute_s:.1} s, with artifacts {total:.1} s, {} threads",
            rayon::current_num_threads()
        );
        for f in &files {
            println!("{} {} bytes", f.path, f.bytes.len());
        }
        if let Ok(dir) = std::env::var("GAUSSIAN_OUT") {
            for f in &files {
                let path = std::path::Path::new(&dir).join(&f.path);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, &f.bytes).unwrap();
            }
            std::fs::write(std::path::Path::new(&dir).join("gaussian.md"), markdown(&g)).unwrap();
        }
    }
}
