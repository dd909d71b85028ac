//! Putting the rows of the grid together: checks that each row belongs to its place, and the
//! fits per d.

use super::{Fit, Grid, RowKey, RowResult, compute_row, fit, row_key_name, row_keys};
use crate::{Error, Result};
use rayon::prelude::*;

/// The assembled grid: every row in [`row_keys`] order and the fits per d.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    grid: Grid,
    rows: Vec<RowResult>,
    /// Per d: γ* = a/(1 − ρ) + b in the nominal ρ.
    fits: Vec<Option<Fit>>,
    /// Per d: γ* = a/(1 − ρ̂) + b in the realised mean input cosine ρ̂.
    fits_realised: Vec<Option<Fit>>,
}

impl Gaussian {
    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Every row, in [`row_keys`] order.
    pub fn rows(&self) -> &[RowResult] {
        &self.rows
    }

    /// The fit γ* = a/(1 − ρ) + b of dimension `dim_index` (None: fewer than
    /// [`super::FIT_MIN_ROWS`] crossings).
    pub fn fit(&self, dim_index: usize) -> Option<Fit> {
        self.fits.get(dim_index).copied().flatten()
    }

    /// The fit γ* = a/(1 − ρ̂) + b of dimension `dim_index` in the realised mean input cosine ρ̂
    /// of each row (None: fewer than [`super::FIT_MIN_ROWS`] crossings).
    pub fn fit_realised(&self, dim_index: usize) -> Option<Fit> {
        self.fits_realised.get(dim_index).copied().flatten()
    }

    /// The rows of dimension `dim_index`, ρ increasing.
    pub fn rows_of(&self, dim_index: usize) -> impl Iterator<Item = &RowResult> {
        self.rows
            .iter()
            .filter(move |r| r.key.dim_index == dim_index)
    }
}

/// Checks that `row` was computed for its place in `grid`: its key names a cell of the grid,
/// and its n, d, ρ, stream seed and γ values (and which γ carry η) are that cell's, bit for bit.
///
/// # Errors
/// One line naming the row and what does not match.
pub fn check_row_place(row: &RowResult, grid: &Grid) -> Result<(), String> {
    let name = row_key_name(row.key, grid);
    let (Some(&d), Some(&rho)) = (
        grid.dims.get(row.key.dim_index),
        grid.rhos.get(row.key.rho_index),
    ) else {
        return Err(format!("the row {name} is not a cell of the grid"));
    };
    let gammas_match = row.points.len() == grid.gammas.len()
        && row
            .points
            .iter()
            .zip(&grid.gammas)
            .enumerate()
            .all(|(j, (p, &g))| {
                p.gamma.to_bits() == g.to_bits() && p.eta.is_some() == grid.has_eta(j)
            });
    if row.n != grid.n
        || row.d != d
        || row.rho.to_bits() != rho.to_bits()
        || row.seed != super::row_sample_key(grid, d, rho).stream_seed()
        || !gammas_match
    {
        return Err(format!(
            "the row {name} does not match the grid (its n, d, rho, seed or gamma values differ)"
        ));
    }
    Ok(())
}

/// Puts the rows (in [`row_keys`] order) together and fits each d.
///
/// # Errors
/// [`Error::Rows`] if a row is missing, extra, out of order, or was computed for another grid;
/// [`Error::BadInput`] for a bad grid.
pub fn assemble(grid: &Grid, rows: Vec<RowResult>) -> Result<Gaussian> {
    grid.check()?;
    let keys = row_keys(grid);
    if rows.len() != keys.len() {
        let have: Vec<RowKey> = rows.iter().map(|r| r.key).collect();
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !have.contains(k))
            .map(|&k| row_key_name(k, grid))
            .collect();
        return Err(Error::Rows(format!(
            "{} rows for a grid of {} (missing: {})",
            rows.len(),
            keys.len(),
            if missing.is_empty() {
                "none; duplicates".to_owned()
            } else {
                missing.join(", ")
            }
        )));
    }
    for (row, &key) in rows.iter().zip(&keys) {
        if row.key != key {
            return Err(Error::Rows(format!(
                "the row at the place of {} is {}",
                row_key_name(key, grid),
                row_key_name(row.key, grid)
            )));
        }
        check_row_place(row, grid).map_err(Error::Rows)?;
    }
    let fits_by = |x: &dyn Fn(&RowResult) -> f64| -> Vec<Option<Fit>> {
        (0..grid.dims.len())
            .map(|k| {
                let pairs: Vec<(f64, f64)> = rows
                    .iter()
                    .filter(|r| r.key.dim_index == k)
                    .filter_map(|r| r.crossing.gamma().map(|g| (x(r), g)))
                    .collect();
                fit(&pairs)
            })
            .collect()
    };
    let fits = fits_by(&|r| r.rho);
    let fits_realised = fits_by(&|r| r.cos_in_mean);
    Ok(Gaussian {
        grid: grid.clone(),
        rows,
        fits,
        fits_realised,
    })
}

/// Computes every row in parallel (rayon; results collected in [`row_keys`] order), calling
/// `tick` after each row, and assembles them.
///
/// # Errors
/// The first error of [`compute_row`], or of [`assemble`].
pub fn compute(grid: &Grid, tick: &(dyn Fn() + Sync)) -> Result<Gaussian> {
    grid.check()?;
    let rows = row_keys(grid)
        .par_iter()
        .map(|&key| {
            let row = compute_row(grid, key);
            tick();
            row
        })
        .collect::<Result<Vec<_>>>()?;
    assemble(grid, rows)
}
