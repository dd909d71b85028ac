//! The (d, ρ, γ) grid of the paper's Figures 1 and 2: λ, λ_angle and η of one attention layer on
//! Gaussian almost-simplices ([`crate::sample`]), per (d, ρ) row, with the crossing λ = ½ and per
//! d the fit γ*(ρ) = a/(1 − ρ) + b. The report (`critscale-report`) turns a [`Gaussian`] into
//! data files, figures and prose.
//!
//! **Rows.** One unit of work is one (d, ρ) row ([`RowKey`], named by [`row_key_name`]): its
//! tokens are the sample of key (`"gaussian-grid"`, n, d, ρ, grid seed) under the crate's seed
//! policy ([`row_sample_key`]), drawn once and shared by every γ of the row. [`compute_row`] is
//! deterministic and independent of the thread count (the kernels are bit-identical for any pool
//! size, and the γ loop of a row is sequential).
//!
//! **Transition.** Per row, γ*(ρ) is the γ where λ = ½: the first grid cell where λ goes from
//! below ½ to at least ½ is bisected (`critscale_asymptotics::threshold::refine` on the grid's
//! scan) with further forward passes on the same tokens down to `crossing_tol`, and the last
//! bracket is interpolated linearly. When λ stays below ½ on the whole γ range (or is above ½
//! already at its start) no crossing is invented: the row records [`Crossing::Above`] (or
//! [`Crossing::Below`]). For comparison each row carries the exact simplex crossing at the same n
//! ([`crate::simplex::half_crossing`]): at finite n it is shifted from γ_c by
//! γ_c·(logit p½ − ln(n/(n − 1)))/ln n + o(1/ln n), p½ = √(ρ/(1 + ρ)) (THEORY §5).
//!
//! **Serialisation.** [`RowResult`] goes to JSON and back without loss (`serde`, every `f64`
//! through [`crate::exact`]); the shard files of the report are these rows.

use crate::sample::{Configuration, Sample};
use crate::seed::SampleKey;
use crate::{Error, LAMBDA_HALF, Result};
use critscale_asymptotics::threshold::{self, Policy, Scan};
use serde::{Deserialize, Serialize};

/// The tag of the grid's samples in the seed policy.
pub const GRID_TAG: &str = "gaussian-grid";

/// The grid of the section and its numerical choices.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Number of tokens.
    pub n: usize,
    /// Dimensions, in figure order.
    pub dims: Vec<usize>,
    /// ρ values, increasing and equally spaced (the heatmaps' columns).
    pub rhos: Vec<f64>,
    /// γ values, increasing and equally spaced (the heatmaps' rows); β = γ ln n.
    pub gammas: Vec<f64>,
    /// The grid seed: the replicate of every row's [`SampleKey`] ([`row_sample_key`]).
    pub seed: u64,
    /// η is computed exactly at the γ of index j with j % `eta_every` == 0.
    pub eta_every: usize,
    /// The bisection for λ = ½ stops when its bracket is at most this wide (in γ).
    pub crossing_tol: f64,
}

/// `count` equally spaced values `start + k·step`.
fn progression(start: f64, step: f64, count: usize) -> Vec<f64> {
    (0..count).map(|k| start + k as f64 * step).collect()
}

/// The spacing of an equally spaced list (1 for a single value).
pub fn spacing(values: &[f64]) -> f64 {
    if values.len() < 2 {
        1.0
    } else {
        (values[values.len() - 1] - values[0]) / (values.len() - 1) as f64
    }
}

impl Grid {
    /// What the tests run: n = 64, ρ = 0.2, 0.4, 0.6, 0.8, γ = 0.5, 2.5, …, 10.5, η at every γ.
    pub fn quick() -> Grid {
        Grid {
            n: 64,
            dims: vec![512, 32, 2],
            rhos: progression(0.2, 0.2, 4),
            gammas: progression(0.5, 2.0, 6),
            seed: 20_251_006,
            eta_every: 1,
            crossing_tol: 1e-3,
        }
    }

    /// The reference grid: n = 1024, ρ = 0.05, 0.10, …, 0.90 (18 rows), γ = 0.3, 0.6, …, 12
    /// (40 values; γ_c(0.9) = 10 and the finite-n simplex crossing at ρ = 0.9 is 11.1), η at
    /// every second γ (0.3, 0.9, …, 11.7).
    pub fn full() -> Grid {
        Grid {
            n: 1024,
            dims: vec![512, 32, 2],
            rhos: progression(0.05, 0.05, 18),
            gammas: progression(0.3, 0.3, 40),
            seed: 20_251_006,
            eta_every: 2,
            crossing_tol: 5e-3,
        }
    }

    /// Whether η is computed at the γ of index `j`.
    pub fn has_eta(&self, j: usize) -> bool {
        j.is_multiple_of(self.eta_every.max(1))
    }

    /// Checks what the computation and the figures rely on.
    ///
    /// # Errors
    /// [`Error::BadInput`] naming the first violated condition.
    pub fn check(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::BadInput {
                what: "gaussian grid".to_owned(),
                reason: reason.to_owned(),
            })
        };
        if self.n < 2 {
            return bad("need n >= 2");
        }
        if self.dims.is_empty() || self.dims.contains(&0) {
            return bad("need at least one dimension, all >= 1");
        }
        if self.rhos.is_empty() || self.rhos.iter().any(|r| !(0.0..1.0).contains(r)) {
            return bad("need rho values in [0, 1)");
        }
        if self.gammas.is_empty() || self.gammas.iter().any(|g| !(g.is_finite() && *g > 0.0)) {
            return bad("need finite gamma values > 0");
        }
        if self.eta_every == 0 || !self.crossing_tol.is_finite() || self.crossing_tol <= 0.0 {
            return bad("need eta_every >= 1 and crossing_tol > 0");
        }
        for (name, values) in [("rho", &self.rhos), ("gamma", &self.gammas)] {
            let step = spacing(values);
            let regular = values
                .iter()
                .enumerate()
                .all(|(k, &v)| (v - (values[0] + k as f64 * step)).abs() <= 1e-9 * (1.0 + v.abs()));
            if !regular || (values.len() > 1 && step <= 0.0) {
                return bad(&format!(
                    "the {name} values must increase in equal steps (the figures are regular grids)"
                ));
            }
        }
        Ok(())
    }
}

/// One unit of work: one (d, ρ) row of the grid (all γ for that d and ρ, same tokens).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowKey {
    /// Index into [`Grid::dims`].
    pub dim_index: usize,
    /// Index into [`Grid::rhos`].
    pub rho_index: usize,
}

/// Every row of the grid, in the fixed global order: dimensions in grid order, then ρ increasing.
pub fn row_keys(grid: &Grid) -> Vec<RowKey> {
    (0..grid.dims.len())
        .flat_map(|dim_index| {
            (0..grid.rhos.len()).map(move |rho_index| RowKey {
                dim_index,
                rho_index,
            })
        })
        .collect()
}

/// The stable text key of a row, e.g. `gaussian/d512/rho3` (ρ by its index in the grid).
pub fn row_key_name(key: RowKey, grid: &Grid) -> String {
    let d = grid
        .dims
        .get(key.dim_index)
        .map_or_else(|| format!("?{}", key.dim_index), |d| d.to_string());
    format!("gaussian/d{d}/rho{}", key.rho_index)
}

/// The sample key of the row at dimension `d` and ρ = `rho`: (`"gaussian-grid"`, n, d, ρ,
/// grid seed).
pub fn row_sample_key(grid: &Grid, d: usize, rho: f64) -> SampleKey {
    SampleKey::new(GRID_TAG, grid.n, d, rho, grid.seed)
}

/// The observables at one γ of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// γ (β = γ ln n).
    #[serde(with = "crate::exact")]
    pub gamma: f64,
    /// λ, the mean 1 − cos ratio.
    #[serde(with = "crate::exact")]
    pub lambda: f64,
    /// λ_angle, the mean angle ratio.
    #[serde(with = "crate::exact")]
    pub lambda_angle: f64,
    /// Mean output cosine ⟨y'_i, y'_j⟩.
    #[serde(with = "crate::exact")]
    pub cos_out_mean: f64,
    /// Mean self weight A_ii.
    #[serde(with = "crate::exact")]
    pub self_weight: f64,
    /// Mean effective support 1/Σ_j A_ij².
    #[serde(with = "crate::exact")]
    pub support: f64,
    /// Mean row entropy.
    #[serde(with = "crate::exact")]
    pub entropy: f64,
    /// Exact η, where computed.
    #[serde(with = "crate::exact::option")]
    pub eta: Option<f64>,
}

impl From<&Sample> for Point {
    fn from(s: &Sample) -> Point {
        Point {
            gamma: s.gamma,
            lambda: s.lambda,
            lambda_angle: s.lambda_angle,
            cos_out_mean: s.cos_out_mean,
            self_weight: s.self_weight,
            support: s.support,
            entropy: s.entropy,
            eta: s.eta,
        }
    }
}

/// Where λ crosses ½ along the γ range of a row.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Crossing {
    /// λ = ½ at `gamma` (bisection on the tokens of the row).
    At {
        /// γ*.
        #[serde(with = "crate::exact")]
        gamma: f64,
        /// Extra forward passes the bisection used.
        steps: usize,
    },
    /// λ < ½ at every γ of the grid: no crossing in the range.
    Above {
        /// The largest λ seen.
        #[serde(with = "crate::exact")]
        lambda_max: f64,
    },
    /// λ ≥ ½ already at the smallest γ of the grid.
    Below {
        /// λ at the smallest γ.
        #[serde(with = "crate::exact")]
        lambda_min: f64,
    },
}

impl Crossing {
    /// γ* when there is a crossing.
    pub fn gamma(&self) -> Option<f64> {
        match *self {
            Crossing::At { gamma, .. } => Some(gamma),
            _ => None,
        }
    }

    /// `at`, `above` or `below`.
    pub fn kind(&self) -> &'static str {
        match self {
            Crossing::At { .. } => "at",
            Crossing::Above { .. } => "above",
            Crossing::Below { .. } => "below",
        }
    }
}

/// Everything computed for one (d, ρ) row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RowResult {
    /// Which row.
    #[serde(flatten)]
    pub key: RowKey,
    /// Number of tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// ρ of the token model.
    #[serde(with = "crate::exact")]
    pub rho: f64,
    /// The seed of the tokens' ChaCha stream ([`SampleKey::stream_seed`] of [`row_sample_key`]).
    pub seed: u64,
    /// Smallest input cosine min_{i<j} ⟨y_i, y_j⟩ of the drawn tokens.
    #[serde(with = "crate::exact")]
    pub cos_in_min: f64,
    /// Mean input cosine (≈ ρ).
    #[serde(with = "crate::exact")]
    pub cos_in_mean: f64,
    /// Largest input cosine.
    #[serde(with = "crate::exact")]
    pub cos_in_max: f64,
    /// The identity-phase limit of η for these tokens (T4): (1 − 1/d)·mean_i 1/|x_i|².
    #[serde(with = "crate::exact")]
    pub eta_identity: f64,
    /// One point per γ of the grid, in grid order.
    pub points: Vec<Point>,
    /// Where λ = ½.
    pub crossing: Crossing,
    /// The exact simplex crossing at the same n and ρ (None if the bisection failed).
    #[serde(with = "crate::exact::option")]
    pub simplex_crossing: Option<f64>,
}

impl RowResult {
    /// γ of the steepest rise of η between consecutive computed values (midpoint), if any.
    pub fn steepest_eta_rise(&self) -> Option<f64> {
        let etas: Vec<(f64, f64)> = self
            .points
            .iter()
            .filter_map(|p| p.eta.map(|e| (p.gamma, e)))
            .collect();
        etas.windows(2)
            .map(|w| (0.5 * (w[0].0 + w[1].0), w[1].1 - w[0].1))
            .fold(None, |best: Option<(f64, f64)>, (g, rise)| match best {
                Some((_, r)) if r >= rise => best,
                _ => Some((g, rise)),
            })
            .map(|(g, _)| g)
    }
}

/// Finds where λ = ½ on the row: the first grid cell of the scan `points`, then bisection on
/// the same tokens to `tol`, then linear interpolation in the last bracket.
fn find_crossing(config: &Configuration, points: &[Point], tol: f64) -> Result<Crossing> {
    let first = points[0].lambda;
    if first >= LAMBDA_HALF {
        return Ok(Crossing::Below { lambda_min: first });
    }
    let scan = Scan {
        grid: points.iter().map(|p| p.gamma).collect(),
        values: points.iter().map(|p| p.lambda).collect(),
    };
    if scan.crossings(LAMBDA_HALF).is_empty() {
        let lambda_max = scan.values.iter().copied().fold(f64::MIN, f64::max);
        return Ok(Crossing::Above { lambda_max });
    }
    // λ starts below ½, so the first cell is the first rise to ½.
    let c = config.search_lambda("lambda = 1/2", |f| {
        threshold::refine(f, &scan, LAMBDA_HALF, tol, Policy::First)
    })?;
    let ((lo, hi), (lambda_lo, lambda_hi)) = (c.bracket, c.f_bracket);
    let gamma = if c.exact || hi == lo {
        c.root
    } else {
        lo + (LAMBDA_HALF - lambda_lo) / (lambda_hi - lambda_lo) * (hi - lo)
    };
    Ok(Crossing::At {
        gamma,
        steps: c.evaluations,
    })
}

/// Computes one row: draws the tokens once, then every γ of the grid, the crossing and the
/// simplex comparison. Deterministic; independent of the thread count.
///
/// # Errors
/// [`Error::BadInput`] for a bad grid or a key outside it; kernel and crossing errors.
pub fn compute_row(grid: &Grid, key: RowKey) -> Result<RowResult> {
    grid.check()?;
    let (Some(&d), Some(&rho)) = (grid.dims.get(key.dim_index), grid.rhos.get(key.rho_index))
    else {
        return Err(Error::BadInput {
            what: "gaussian".to_owned(),
            reason: format!("{} is not a row of the grid", row_key_name(key, grid)),
        });
    };
    let config = Configuration::draw(&row_sample_key(grid, d, rho))?;
    let samples = grid
        .gammas
        .iter()
        .enumerate()
        .map(|(j, &gamma)| config.layer(gamma, grid.has_eta(j)))
        .collect::<Result<Vec<_>>>()?;
    let points: Vec<Point> = samples.iter().map(Point::from).collect();
    let crossing = find_crossing(&config, &points, grid.crossing_tol)?;
    // The input statistics do not depend on γ: taken from the first pass.
    let first = &samples[0];
    Ok(RowResult {
        key,
        n: grid.n,
        d,
        rho,
        seed: first.seed,
        cos_in_min: first.cos_in_min,
        cos_in_mean: first.cos_in_mean,
        cos_in_max: first.cos_in_max,
        eta_identity: first.eta_identity,
        points,
        crossing,
        simplex_crossing: crate::simplex::half_crossing(grid.n as f64, rho).ok(),
    })
}

/// The least-squares fit γ*(ρ) = a/(1 − ρ) + b over the rows of one d with a crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Coefficient of 1/(1 − ρ).
    pub a: f64,
    /// Offset.
    pub b: f64,
    /// Rows used.
    pub rows: usize,
    /// Root-mean-square residual in γ.
    pub rms: f64,
}

impl Fit {
    /// The fitted γ* at ρ.
    pub fn at(&self, rho: f64) -> f64 {
        self.a * critscale_simplex::gamma_c(&rho) + self.b
    }
}

/// Fewest crossings a fit uses (two points always fit a two-parameter curve exactly).
pub const FIT_MIN_ROWS: usize = 3;

/// Fits (ρ, γ*) pairs to γ* = a/(1 − ρ) + b; None with fewer than [`FIT_MIN_ROWS`] of them.
pub fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let m = points.len() as f64;
    if points.len() < FIT_MIN_ROWS {
        return None;
    }
    let u: Vec<f64> = points
        .iter()
        .map(|&(rho, _)| critscale_simplex::gamma_c(&rho))
        .collect();
    let u_mean = u.iter().sum::<f64>() / m;
    let g_mean = points.iter().map(|&(_, g)| g).sum::<f64>() / m;
    let (mut suu, mut sug) = (0.0, 0.0);
    for (ui, &(_, g)) in u.iter().zip(points) {
        suu += (ui - u_mean) * (ui - u_mean);
        sug += (ui - u_mean) * (g - g_mean);
    }
    if suu <= 0.0 {
        return None;
    }
    let a = sug / suu;
    let b = g_mean - a * u_mean;
    let ss: f64 = u
        .iter()
        .zip(points)
        .map(|(ui, &(_, g))| (a * ui + b - g).powi(2))
        .sum();
    Some(Fit {
        a,
        b,
        rows: points.len(),
        rms: (ss / m).sqrt(),
    })
}

mod assemble;
pub use assemble::{Gaussian, assemble, check_row_place, compute};

#[cfg(test)]
mod tests;
