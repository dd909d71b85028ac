//! The prose of the Gaussian section: choices, expectations and per-d tables (Markdown).

use super::{Crossing, FIT_MIN_ROWS, Gaussian, LEVELS, Quantity, RowResult, eta_max};
use crate::format::{csv_num, md_num};
use critscale_simplex::gamma_c;
use std::fmt::Write as _;

/// The Markdown of the section, with an unnumbered heading.
pub fn markdown(gaussian: &Gaussian) -> String {
    markdown_with_heading(
        gaussian,
        "## Gaussian almost-simplices: the paper's Figures 1 and 2 (fast kernels)",
    )
}

/// The Markdown of the section under the given heading line (e.g. `## 5. …`).
pub fn markdown_with_heading(gaussian: &Gaussian, heading: &str) -> String {
    let grid = gaussian.grid();
    let g = &grid.gammas;
    let r = &grid.rhos;
    let n = grid.n;
    let ln_n = (n as f64).ln();
    let mut md = String::new();
    let _ = writeln!(md, "{heading}\n");
    let _ = writeln!(
        md,
        "One attention layer (α = 0, β = γ·ln n) on **Gaussian almost-simplices** x_i = √ρ z₀ + √(1 − ρ) z_i, \
         z₀, z_i i.i.d. N(0, I_d/d), through the fast kernels (`crates/kernels`, f64), at d = {dims}. \
         λ = mean_{{i<j}} (1 − ⟨y'_i, y'_j⟩)/(1 − ⟨y_i, y_j⟩) (primary: ≈ 0 collapse, ≈ 1 identity), \
         λ_angle = mean θ'_ij/θ_ij, and η = ‖∂X'/∂X‖²_F/(nd), computed exactly (no estimator).\n",
        dims = grid
            .dims
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    let eta_gammas: Vec<f64> = (0..g.len())
        .filter(|&j| grid.has_eta(j))
        .map(|j| g[j])
        .collect();
    let eta_note = if grid.eta_every > 1 {
        format!(
            "η at γ = {}, {}, …, {} (one γ in {}: exact η is the costly part), ",
            csv_num(eta_gammas[0]),
            csv_num(eta_gammas[1.min(eta_gammas.len() - 1)]),
            csv_num(eta_gammas[eta_gammas.len() - 1]),
            grid.eta_every
        )
    } else {
        "η at every γ, ".to_owned()
    };
    let _ = writeln!(
        md,
        "**Choices** (the paper gives none): n = {n} tokens (ln n = {ln}); ρ = {r0}, {r1}, …, {rl} \
         ({rc} rows per d); γ = {g0}, {g1}, …, {gl} ({gc} values); {eta_note}λ at every γ. One token draw per \
         (d, ρ) row, shared by all its γ, from its own ChaCha stream keyed by \
         (gaussian-grid, n, d, ρ, grid seed {seed}) (`critscale_sweeps::seed`; the stream seeds are in the data). The transition γ* is where λ = 1/2: the first grid interval \
         where λ reaches 1/2 is bisected with extra forward passes on the same tokens to a bracket of {tol} in γ, \
         then interpolated linearly inside it (λ is smooth on that scale, so the interpolation error is far below \
         the scatter between draws). Rows where λ stays below 1/2 on the whole range say so (*none*), and rows \
         where λ ≥ 1/2 already at the smallest γ say *below range*, instead of extrapolating.\n",
        ln = md_num(ln_n),
        r0 = csv_num(r[0]),
        r1 = csv_num(r[1.min(r.len() - 1)]),
        rl = csv_num(r[r.len() - 1]),
        rc = r.len(),
        g0 = csv_num(g[0]),
        g1 = csv_num(g[1.min(g.len() - 1)]),
        gl = csv_num(g[g.len() - 1]),
        gc = g.len(),
        seed = grid.seed,
        tol = csv_num(grid.crossing_tol),
    );
    let _ = writeln!(
        md,
        "In every figure ρ is across and γ up; the dashed white curve is the paper's γ = γ_c = 1/(1 − ρ), the red \
         plus signs are the measured crossings γ*, the orange curve is the least-squares fit \
         γ* = a/(1 − ρ) + b over the rows with a crossing, and the thin grey dashes are the exact simplex \
         crossing at the same n (closed forms). Colours: {LEVELS} levels of viridis on [0, 1]. The η maps \
         show η/η_∞, where η_∞ = (1 − 1/d)·mean_i 1/|x_i|² is the exact identity-phase value for the drawn \
         tokens (T4): at d = 512 it is 1 − 1/d within a few per cent, but at small d the token norms spread \
         (E 1/|x|² is infinite at d = 2), so raw η would mostly measure the smallest norms; raw η is in the \
         data.\n"
    );
    let _ = writeln!(md, "| d | λ (Figure 1) | λ_angle | η (Figure 2) |");
    let _ = writeln!(md, "|---|---|---|---|");
    for &d in &grid.dims {
        let _ = write!(md, "| {d} |");
        for q in Quantity::ALL {
            let stem = q.stem();
            let _ = write!(
                md,
                " ![{stem} at d = {d}](figures/gaussian_{stem}_d{d}.svg) |"
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(md);
    let shift_max = gaussian
        .rows()
        .iter()
        .filter_map(|row| {
            row.simplex_crossing
                .map(|g| (g * (1.0 - row.rho) - 1.0).abs())
        })
        .fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "**Why γ* ≠ γ_c at finite n.** The transition sharpens only like 1/ln n. On an exact simplex the self \
         weight is p = σ(κ ln n + ln(n/(n − 1))) with κ = γ/γ_c − 1, and λ → p²/(p² + ρ(1 − p²)), so λ = 1/2 at \
         γ*/γ_c = 1 + (logit √(ρ/(1 + ρ)) − ln(n/(n − 1)))/ln n + o(1/ln n): below γ_c for ρ < 1/3, above it for \
         ρ > 1/3, by up to ~{pct}% here (ln n = {ln}). The grey curve is this exact finite-n crossing; a fit \
         a ≠ 1, b ≠ 0 is expected for that reason alone. Gaussian tokens add a second shift: their pairwise \
         cosines scatter around ρ by ≈ (1 − ρ)·√(2/d) (and the largest of n by more), and the shared \
         component z₀ of one draw has |z₀|² = 1 ± √(2/d), so the realised mean cosine ρ̂ of a row differs from \
         the nominal ρ (by ±0.1 at d = 32; at d = 2 it is almost unrelated to ρ). The tables therefore also give \
         γ*(1 − ρ̂), the crossing relative to γ_c of the realised ρ̂.\n",
        pct = (100.0 * shift_max).round(),
        ln = md_num(ln_n),
    );
    for (k, &d) in grid.dims.iter().enumerate() {
        markdown_dim(gaussian, &mut md, k, d);
    }
    let _ = writeln!(
        md,
        "Data: [`gaussian_grid.csv`](data/gaussian_grid.csv) and [`gaussian_grid.json`](data/gaussian_grid.json) \
         (every (d, ρ, γ): λ, λ_angle, η, self weight, support, entropy, mean output cosine), \
         [`gaussian_transition.csv`](data/gaussian_transition.csv) and \
         [`gaussian_transition.json`](data/gaussian_transition.json) (per row: γ*, simplex γ*, η summary; the \
         fits).\n"
    );
    md
}

fn markdown_dim(gaussian: &Gaussian, md: &mut String, k: usize, d: usize) {
    let rows: Vec<&RowResult> = gaussian.rows_of(k).collect();
    let crossed: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.crossing.gamma().map(|g| g * (1.0 - r.rho)))
        .collect();
    let stars: Vec<f64> = rows.iter().filter_map(|r| r.crossing.gamma()).collect();
    let crossed_hat: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.crossing.gamma().map(|g| g * (1.0 - r.cos_in_mean)))
        .collect();
    let range = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let _ = writeln!(md, "### d = {d}\n");
    let mut summary = format!(
        "λ crosses 1/2 inside the γ range in {} of {} rows",
        crossed.len(),
        rows.len()
    );
    if !crossed.is_empty() {
        let (lo, hi) = range(&crossed);
        let (lo_hat, hi_hat) = range(&crossed_hat);
        let _ = write!(
            summary,
            "; there γ*/γ_c lies between {} and {}, and γ*(1 − ρ̂) between {} and {}",
            md_num(lo),
            md_num(hi),
            md_num(lo_hat),
            md_num(hi_hat)
        );
    }
    match gaussian.fit(k) {
        Some(f) => {
            let _ = write!(
                summary,
                ". Fit over those rows: **a = {}, b = {}** (rms residual {} in γ{})",
                md_num(f.a),
                md_num(f.b),
                md_num(f.rms),
                if f.rms > 0.1 * mean(&stars) {
                    "; large: the crossings do not follow a curve a/(1 − ρ) + b, so a and b \
                     mean little"
                } else {
                    ""
                }
            );
        }
        None => {
            let _ = write!(summary, ". No fit (fewer than {FIT_MIN_ROWS} crossings)");
        }
    }
    if let Some(f) = gaussian.fit_realised(k) {
        let _ = write!(
            summary,
            ". In the realised ρ̂ instead, γ* = a/(1 − ρ̂) + b gives a = {}, b = {} (rms residual {})",
            md_num(f.a),
            md_num(f.b),
            md_num(f.rms)
        );
    }
    let cells: Vec<f64> = rows
        .iter()
        .flat_map(|r| r.points.iter().map(|p| p.lambda))
        .collect();
    let between = cells.iter().filter(|&&l| l > 0.1 && l < 0.9).count();
    let _ = write!(
        summary,
        ". λ is strictly between 0.1 and 0.9 in {} of the {} (ρ, γ) cells ({}%): the larger this share, the \
         broader the transition",
        between,
        cells.len(),
        (100.0 * between as f64 / cells.len().max(1) as f64).round()
    );
    let _ = writeln!(md, "{summary}.\n");
    let first: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.points.iter().find_map(|p| p.eta))
        .collect();
    let last: Vec<f64> = rows
        .iter()
        .filter_map(|r| r.points.iter().rev().find_map(|p| p.eta))
        .collect();
    let ident: Vec<f64> = rows.iter().map(|r| r.eta_identity).collect();
    let _ = writeln!(
        md,
        "Figure 2 (η). Expected: η ≈ 0 at small γ (collapse), → (1 − 1/d)·mean 1/|x_i|² ≈ 1 − 1/d = {} at \
         large γ (identity, T4), with a jump near γ_c when d is large. Measured, averaged over the ρ rows: η = {} \
         at γ = {}, η = {} at γ = {}, against the identity limit η_∞ of the drawn tokens {} (max η anywhere {}). \
         The table gives, per row, the γ where η rises fastest (a jump near γ_c is a fast rise there).\n",
        md_num(1.0 - 1.0 / d as f64),
        md_num(mean(&first)),
        csv_num(gaussian.grid().gammas[0]),
        md_num(mean(&last)),
        csv_num(
            gaussian.grid().gammas[(0..gaussian.grid().gammas.len())
                .rev()
                .find(|&j| gaussian.grid().has_eta(j))
                .unwrap_or(0)]
        ),
        md_num(mean(&ident)),
        md_num(eta_max(gaussian, k)),
    );
    let _ = writeln!(
        md,
        "| ρ | ρ̂ (mean cos in) | γ_c | γ* (measured) | γ*/γ_c | γ*(1 − ρ̂) | simplex γ* (n = {}) | γ* − simplex γ* | fit | η steepest rise at γ | η/η_∞ at largest γ |",
        gaussian.grid().n
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
    let fit = gaussian.fit(k);
    for r in rows {
        let gamma_c = gamma_c(&r.rho);
        let star = r.crossing.gamma();
        let star_text = match r.crossing {
            Crossing::At { gamma, .. } => md_num(gamma),
            Crossing::Above { lambda_max } => {
                format!("none (λ ≤ {})", md_num(lambda_max))
            }
            Crossing::Below { lambda_min } => {
                format!("below range (λ ≥ {})", md_num(lambda_min))
            }
        };
        let opt = |x: Option<f64>| x.map_or_else(|| "–".to_owned(), md_num);
        let eta_last = r.points.iter().rev().find_map(|p| p.eta);
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            csv_num(r.rho),
            md_num(r.cos_in_mean),
            md_num(gamma_c),
            star_text,
            opt(star.map(|g| g / gamma_c)),
            opt(star.map(|g| g * (1.0 - r.cos_in_mean))),
            opt(r.simplex_crossing),
            opt(star.zip(r.simplex_crossing).map(|(a, b)| a - b)),
            opt(fit.map(|f| f.at(r.rho))),
            opt(r.steepest_eta_rise()),
            opt(eta_last.map(|e| e / r.eta_identity)),
        );
    }
    let _ = writeln!(md);
}
