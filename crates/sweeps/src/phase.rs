//! The simplex phase grid from the closed forms (THEORY §5): λ over (ρ, γ/γ_c) at several n.
//! The report (`critscale-report`) draws it and writes its data files.
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
//! forms (to 1e-13, [`crate::simplex::level_ratio`]), so the approach to w(ρ) is measured, not assumed.

use crate::{LAMBDA_HALF, Result, simplex};
use rayon::prelude::*;

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

/// logit p = log(p/(1 − p)): the self weight p = σ(·) of the simplex read back as its argument
/// (THEORY §5), for p in (0, 1).
pub fn logit(p: f64) -> f64 {
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

/// Computes the phase grid, the λ = ½ contours, the cut and the table.
///
/// # Errors
/// [`crate::Error::Simplex`] or [`crate::Error::Crossing`] if a closed-form point or crossing
/// fails.
pub fn compute(grid: Grid) -> Result<Phase> {
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
            .map(|&ratio| {
                rhos.iter()
                    .map(|&rho| simplex::lambda(n, rho, ratio))
                    .collect()
            })
            .collect::<Result<_>>()?;
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
                .map(|&rho| simplex::level_ratio(n, rho, LAMBDA_HALF))
                .collect::<Result<Vec<_>>>()?,
        );
        cuts.push(
            cut_ratios
                .par_iter()
                .map(|&ratio| simplex::lambda(n, CUT_RHO, ratio).map(|v| v.0))
                .collect::<Result<Vec<_>>>()?,
        );
        transitions.push(Transition {
            label,
            n,
            threshold: simplex::level_ratio(n, CUT_RHO, LAMBDA_HALF)?,
            quarter: simplex::level_ratio(n, CUT_RHO, 0.25)?,
            three_quarters: simplex::level_ratio(n, CUT_RHO, 0.75)?,
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
    use approx::{abs_diff_eq, assert_abs_diff_eq};

    #[test]
    fn width_times_log_n_approaches_its_limit() {
        let phase = compute(Grid {
            rho_cells: 4,
            ratio_cells: 4,
            cut_points: 5,
        })
        .unwrap();
        let (shift, width) = asymptotic_shift_and_width(CUT_RHO);
        assert!(abs_diff_eq!(width, 1.632, epsilon = 1e-3), "{width}");
        let last = phase.transitions.last().unwrap();
        let ln = last.n.ln();
        assert_abs_diff_eq!(last.width() * ln, width, epsilon = 1e-6);
        assert_abs_diff_eq!((last.threshold - 1.0) * ln, shift, epsilon = 1e-6);
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
