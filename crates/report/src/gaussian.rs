//! Figures 1 and 2 of the paper: λ, λ_angle and η of one attention layer on Gaussian
//! almost-simplices, over a (ρ, γ) grid at d = 512, 32 and 2, through the fast kernels
//! (`critscale-kernels`).
//!
//! **Tokens** (THEORY §2). For each (d, ρ) row of the grid, n tokens
//! x_i = √ρ z₀ + √(1 − ρ) z_i with z₀, z_1, …, z_n i.i.d. N(0, I_d/d)
//! (`critscale_model::gaussian_almost_simplex`), so E|x_i|² = 1 and E⟨x_i, x_j⟩ = ρ. The row's
//! seed is a fixed mix of the grid seed, d and the index of ρ ([`row_seed`]); one draw serves
//! every γ of the row.
//!
//! **Layer** (THEORY §1). y_i = x_i/|x_i|, scores β⟨y_i, y_j⟩ with **β = γ ln n**, row softmax A,
//! x'_i = Σ_j A_ij y_j (α = 0, one layer), y'_i = x'_i/|x'_i|.
//!
//! **Observables** (THEORY §3), means over the n(n − 1)/2 pairs i < j:
//!
//! * λ = mean (1 − ⟨y'_i, y'_j⟩)/(1 − ⟨y_i, y_j⟩), the primary ratio (≈ 0: collapse, ≈ 1: identity);
//! * λ_angle = mean θ'_ij/θ_ij with θ = arccos⟨·,·⟩;
//! * η = ‖∂X'/∂X‖²_F/(nd), the mean squared singular value of the full nd × nd Jacobian of the
//!   un-normalised outputs x' with respect to the inputs x, computed **exactly**
//!   (`critscale_kernels::eta_exact`, no estimator), on every `eta_every`-th γ of the grid.
//!
//! **Transition.** Per row, γ*(ρ) is the γ where λ = 1/2: the first grid interval where λ goes
//! from below 1/2 to at least 1/2 is bisected with further forward passes on the same tokens down
//! to `crossing_tol`, and the last bracket is interpolated linearly. When λ stays below 1/2 on the
//! whole γ range (or is above 1/2 already at its start) no crossing is invented: the row records
//! [`Crossing::Above`] (or [`Crossing::Below`]). Per d, the rows with a crossing are fitted by
//! least squares to γ*(ρ) = a/(1 − ρ) + b (a = 1, b = 0 is the n → ∞ simplex curve γ_c). For
//! comparison, each row also carries the exact simplex crossing at the same n (closed forms of
//! `critscale-simplex`, bisection to 1e-12): at finite n it is shifted from γ_c by
//! γ_c·(logit p½ − ln(n/(n − 1)))/ln n + o(1/ln n), p½ = √(ρ/(1 + ρ)) (see `phase.rs`).
//!
//! **Sharding.** One unit of work is one (d, ρ) row ([`RowKey`], named by [`row_key_name`]);
//! [`compute_row`] is deterministic and independent of the thread count (the kernels are
//! bit-identical for any pool size, and the γ loop of a row is sequential). [`RowResult`] goes
//! to JSON and back without loss: every `f64` goes through [`crate::shard::exact`] (shortest
//! round-trip form; the workspace enables `serde_json`'s `float_roundtrip`, without which about
//! one double in six would come back one ulp off). Rounding to the 10 digits of the data files
//! happens only in [`Gaussian::artifacts`].
//!
//! **Figures.** Heatmaps over ρ (across) and γ (up) of λ, λ_angle and η/η_∞, where
//! η_∞ = (1 − 1/d)·mean_i 1/|x_i|² is the exact identity-phase value of η for the drawn tokens
//! (T4); at small d the token norms spread (E 1/|x|² is infinite at d = 2), so raw η would
//! mostly show the smallest norms. Overlaid: γ = γ_c = 1/(1 − ρ), the measured crossings, the
//! fit, and the simplex crossing. Because the shared component z₀ of one draw has
//! |z₀|² = 1 ± √(2/d), the realised mean input cosine ρ̂ of a row differs from ρ at small d;
//! a second fit γ* = a/(1 − ρ̂) + b uses it.

use crate::format::{Csv, csv_num, csv_text, md_num, num};
use crate::plot::{self, Heatmap, Line, LineStyle};
use crate::shard::exact;
use crate::{Artifact, ReportError};
use critscale_kernels::{Observables, Options, Params, eta_exact, forward, observables, prepare};
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use ndarray::Array2;
use rayon::prelude::*;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The level of λ that defines the transition.
pub const LEVEL: f64 = 0.5;

/// Number of colour levels of the heatmaps.
const LEVELS: usize = 50;

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
    /// The grid seed; each row's seed is [`row_seed`]`(seed, d, rho_index)`.
    pub seed: u64,
    /// η is computed exactly at the γ of index j with j % `eta_every` == 0.
    pub eta_every: usize,
    /// The bisection for λ = 1/2 stops when its bracket is at most this wide (in γ).
    pub crossing_tol: f64,
}

/// `count` equally spaced values `start + k·step`.
fn progression(start: f64, step: f64, count: usize) -> Vec<f64> {
    (0..count).map(|k| start + k as f64 * step).collect()
}

/// The spacing of an equally spaced list (1 for a single value).
fn spacing(values: &[f64]) -> f64 {
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
    fn check(&self) -> Result<(), ReportError> {
        let bad = |what: &str| Err(ReportError::Internal(format!("gaussian grid: {what}")));
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The seed of the tokens of row (d, ρ index): `mix(mix(mix(seed) ^ d) ^ rho_index)`, with
/// `mix` SplitMix64's finaliser.
pub fn row_seed(grid_seed: u64, d: usize, rho_index: usize) -> u64 {
    mix(mix(mix(grid_seed) ^ d as u64) ^ rho_index as u64)
}

/// The observables at one γ of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// γ (β = γ ln n).
    pub gamma: f64,
    /// λ, the mean 1 − cos ratio.
    pub lambda: f64,
    /// λ_angle, the mean angle ratio.
    pub lambda_angle: f64,
    /// Mean output cosine ⟨y'_i, y'_j⟩.
    pub cos_out_mean: f64,
    /// Mean self weight A_ii.
    pub self_weight: f64,
    /// Mean effective support 1/Σ_j A_ij².
    pub support: f64,
    /// Mean row entropy.
    pub entropy: f64,
    /// Exact η, where computed.
    pub eta: Option<f64>,
}

/// Where λ crosses 1/2 along the γ range of a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Crossing {
    /// λ = 1/2 at `gamma` (bisection on the tokens of the row).
    At {
        /// γ*.
        gamma: f64,
        /// Extra forward passes the bisection used.
        steps: usize,
    },
    /// λ < 1/2 at every γ of the grid: no crossing in the range.
    Above {
        /// The largest λ seen.
        lambda_max: f64,
    },
    /// λ ≥ 1/2 already at the smallest γ of the grid.
    Below {
        /// λ at the smallest γ.
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
#[derive(Debug, Clone, PartialEq)]
pub struct RowResult {
    /// Which row.
    pub key: RowKey,
    /// Number of tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// ρ of the token model.
    pub rho: f64,
    /// Seed of the tokens.
    pub seed: u64,
    /// Smallest input cosine min_{i<j} ⟨y_i, y_j⟩ of the drawn tokens.
    pub cos_in_min: f64,
    /// Mean input cosine (≈ ρ).
    pub cos_in_mean: f64,
    /// Largest input cosine.
    pub cos_in_max: f64,
    /// The identity-phase limit of η for these tokens (T4): (1 − 1/d)·mean_i 1/|x_i|².
    pub eta_identity: f64,
    /// One point per γ of the grid, in grid order.
    pub points: Vec<Point>,
    /// Where λ = 1/2.
    pub crossing: Crossing,
    /// The exact simplex crossing at the same n and ρ (None if the bisection failed).
    pub simplex_crossing: Option<f64>,
}

fn kernel_error(what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Internal(format!("gaussian {what}: {e}"))
}

/// The observables (and η when asked) of the tokens `x` at γ; `name` names the row in errors.
fn evaluate(
    x: &Array2<f64>,
    gamma: f64,
    with_eta: bool,
    name: &str,
) -> Result<(Point, Observables), ReportError> {
    let params = Params::from_gamma(gamma, x.nrows(), 0.0);
    let opts = Options::default();
    let at = |e| kernel_error(&format!("{name} at gamma = {gamma}"), e);
    let fwd = forward(x.view(), &params, &opts).map_err(at)?;
    let obs = observables(&fwd).map_err(at)?;
    drop(fwd);
    let eta = if with_eta {
        Some(eta_exact(x.view(), &params, &opts).map_err(at)?)
    } else {
        None
    };
    let point = Point {
        gamma,
        lambda: obs.lambda,
        lambda_angle: obs.lambda_angle,
        cos_out_mean: obs.cos_out_mean,
        self_weight: obs.self_weight,
        support: obs.support,
        entropy: obs.entropy,
        eta,
    };
    Ok((point, obs))
}

/// λ of the exact simplex (α = 0, q = 1) at n, ρ, γ.
fn simplex_lambda(n: usize, rho: f64, gamma: f64) -> Option<f64> {
    let params = SimplexParams::new(n as f64, rho, Scaling::Gamma(gamma), 0.0, 1.0, None).ok()?;
    Some(SimplexLayer::evaluate(&params).lambda)
}

/// The γ where the simplex λ = 1/2, by bisection of the closed form (λ increases with γ).
pub fn simplex_crossing(n: usize, rho: f64) -> Option<f64> {
    let (mut lo, mut hi) = (1e-3, 1e3);
    if simplex_lambda(n, rho, lo)? >= LEVEL || simplex_lambda(n, rho, hi)? < LEVEL {
        return None;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if simplex_lambda(n, rho, mid)? < LEVEL {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// Finds where λ = 1/2 on the row: the first grid bracket, then bisection on the same tokens.
fn find_crossing(
    x: &Array2<f64>,
    points: &[Point],
    tol: f64,
    name: &str,
) -> Result<Crossing, ReportError> {
    let first = points[0].lambda;
    if first >= LEVEL {
        return Ok(Crossing::Below { lambda_min: first });
    }
    let Some(j) = points
        .windows(2)
        .position(|w| w[0].lambda < LEVEL && w[1].lambda >= LEVEL)
    else {
        let lambda_max = points.iter().map(|p| p.lambda).fold(f64::MIN, f64::max);
        return Ok(Crossing::Above { lambda_max });
    };
    let (mut lo, mut hi) = (points[j].gamma, points[j + 1].gamma);
    let (mut lambda_lo, mut lambda_hi) = (points[j].lambda, points[j + 1].lambda);
    let mut steps = 0;
    while hi - lo > tol {
        let mid = 0.5 * (lo + hi);
        let lambda = evaluate(x, mid, false, name)?.0.lambda;
        steps += 1;
        if lambda < LEVEL {
            (lo, lambda_lo) = (mid, lambda);
        } else {
            (hi, lambda_hi) = (mid, lambda);
        }
    }
    let gamma = lo + (LEVEL - lambda_lo) / (lambda_hi - lambda_lo) * (hi - lo);
    Ok(Crossing::At { gamma, steps })
}

/// Computes one row: draws the tokens once, then every γ of the grid, the crossing and the
/// simplex comparison. Deterministic; independent of the thread count.
pub fn compute_row(grid: &Grid, key: RowKey) -> Result<RowResult, ReportError> {
    grid.check()?;
    let name = row_key_name(key, grid);
    let (Some(&d), Some(&rho)) = (grid.dims.get(key.dim_index), grid.rhos.get(key.rho_index))
    else {
        return Err(ReportError::Internal(format!(
            "gaussian: {name} is not a row of the grid"
        )));
    };
    let n = grid.n;
    let seed = row_seed(grid.seed, d, key.rho_index);
    let x = critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, rho, seed);
    let prep = prepare(x.view(), &Params::new(0.0, 0.0)).map_err(|e| kernel_error(&name, e))?;
    let inv_sq = prep.norms.iter().map(|r| 1.0 / (r * r)).sum::<f64>() / n as f64;
    let eta_identity = (1.0 - 1.0 / d as f64) * inv_sq;
    drop(prep);
    let mut points = Vec::with_capacity(grid.gammas.len());
    // The input cosines do not depend on γ: taken from the first pass.
    let mut cos_in = (0.0, 0.0, 0.0);
    for (j, &gamma) in grid.gammas.iter().enumerate() {
        let (point, obs) = evaluate(&x, gamma, grid.has_eta(j), &name)?;
        if j == 0 {
            cos_in = (obs.cos_in_min, obs.cos_in_mean, obs.cos_in_max);
        }
        points.push(point);
    }
    let crossing = find_crossing(&x, &points, grid.crossing_tol, &name)?;
    Ok(RowResult {
        key,
        n,
        d,
        rho,
        seed,
        cos_in_min: cos_in.0,
        cos_in_mean: cos_in.1,
        cos_in_max: cos_in.2,
        eta_identity,
        points,
        crossing,
        simplex_crossing: simplex_crossing(n, rho),
    })
}

fn field<'a>(v: &'a Value, name: &str) -> Result<&'a Value, ReportError> {
    v.get(name)
        .ok_or_else(|| ReportError::Internal(format!("gaussian row JSON: missing field {name}")))
}

fn read_f64(v: &Value, name: &str) -> Result<f64, ReportError> {
    crate::shard::field_f64(v, name)
        .map_err(|e| ReportError::Internal(format!("gaussian row JSON: {e}")))
}

fn read_u64(v: &Value, name: &str) -> Result<u64, ReportError> {
    field(v, name)?.as_u64().ok_or_else(|| {
        ReportError::Internal(format!(
            "gaussian row JSON: {name} is not an unsigned integer"
        ))
    })
}

fn read_usize(v: &Value, name: &str) -> Result<usize, ReportError> {
    usize::try_from(read_u64(v, name)?)
        .map_err(|_| ReportError::Internal(format!("gaussian row JSON: {name} is too large")))
}

impl RowResult {
    /// The row as JSON, without loss (see the module docs).
    pub fn to_json(&self) -> Value {
        let points: Vec<Value> = self
            .points
            .iter()
            .map(|p| {
                json!({
                    "gamma": exact(p.gamma),
                    "lambda": exact(p.lambda),
                    "lambda_angle": exact(p.lambda_angle),
                    "cos_out_mean": exact(p.cos_out_mean),
                    "self_weight": exact(p.self_weight),
                    "support": exact(p.support),
                    "entropy": exact(p.entropy),
                    "eta": p.eta.map_or(Value::Null, exact),
                })
            })
            .collect();
        let crossing = match self.crossing {
            Crossing::At { gamma, steps } => {
                json!({ "kind": "at", "gamma": exact(gamma), "steps": steps })
            }
            Crossing::Above { lambda_max } => {
                json!({ "kind": "above", "lambda_max": exact(lambda_max) })
            }
            Crossing::Below { lambda_min } => {
                json!({ "kind": "below", "lambda_min": exact(lambda_min) })
            }
        };
        json!({
            "dim_index": self.key.dim_index,
            "rho_index": self.key.rho_index,
            "n": self.n,
            "d": self.d,
            "rho": exact(self.rho),
            "seed": self.seed,
            "cos_in_min": exact(self.cos_in_min),
            "cos_in_mean": exact(self.cos_in_mean),
            "cos_in_max": exact(self.cos_in_max),
            "eta_identity": exact(self.eta_identity),
            "points": points,
            "crossing": crossing,
            "simplex_crossing": self.simplex_crossing.map_or(Value::Null, exact),
        })
    }

    /// Reads what [`RowResult::to_json`] wrote.
    pub fn from_json(v: &Value) -> Result<RowResult, ReportError> {
        let bad = |what: &str| ReportError::Internal(format!("gaussian row JSON: {what}"));
        let points = field(v, "points")?
            .as_array()
            .ok_or_else(|| bad("points is not an array"))?
            .iter()
            .map(|p| {
                let eta = match field(p, "eta")? {
                    Value::Null => None,
                    _ => Some(read_f64(p, "eta")?),
                };
                Ok(Point {
                    gamma: read_f64(p, "gamma")?,
                    lambda: read_f64(p, "lambda")?,
                    lambda_angle: read_f64(p, "lambda_angle")?,
                    cos_out_mean: read_f64(p, "cos_out_mean")?,
                    self_weight: read_f64(p, "self_weight")?,
                    support: read_f64(p, "support")?,
                    entropy: read_f64(p, "entropy")?,
                    eta,
                })
            })
            .collect::<Result<Vec<_>, ReportError>>()?;
        let c = field(v, "crossing")?;
        let crossing = match field(c, "kind")?.as_str() {
            Some("at") => Crossing::At {
                gamma: read_f64(c, "gamma")?,
                steps: read_usize(c, "steps")?,
            },
            Some("above") => Crossing::Above {
                lambda_max: read_f64(c, "lambda_max")?,
            },
            Some("below") => Crossing::Below {
                lambda_min: read_f64(c, "lambda_min")?,
            },
            _ => return Err(bad("crossing.kind is not at, above or below")),
        };
        let simplex_crossing = match field(v, "simplex_crossing")? {
            Value::Null => None,
            _ => Some(read_f64(v, "simplex_crossing")?),
        };
        Ok(RowResult {
            key: RowKey {
                dim_index: read_usize(v, "dim_index")?,
                rho_index: read_usize(v, "rho_index")?,
            },
            n: read_usize(v, "n")?,
            d: read_usize(v, "d")?,
            rho: read_f64(v, "rho")?,
            seed: read_u64(v, "seed")?,
            cos_in_min: read_f64(v, "cos_in_min")?,
            cos_in_mean: read_f64(v, "cos_in_mean")?,
            cos_in_max: read_f64(v, "cos_in_max")?,
            eta_identity: read_f64(v, "eta_identity")?,
            points,
            crossing,
            simplex_crossing,
        })
    }

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
        self.a / (1.0 - rho) + self.b
    }
}

/// Fewest crossings a fit uses (two points always fit a two-parameter curve exactly).
pub const FIT_MIN_ROWS: usize = 3;

/// Fits (ρ, γ*) pairs; None with fewer than [`FIT_MIN_ROWS`] of them.
fn fit(points: &[(f64, f64)]) -> Option<Fit> {
    let m = points.len() as f64;
    if points.len() < FIT_MIN_ROWS {
        return None;
    }
    let u: Vec<f64> = points.iter().map(|&(rho, _)| 1.0 / (1.0 - rho)).collect();
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

/// The assembled section: the grid, every row in [`row_keys`] order and the fits per d.
#[derive(Debug, Clone, PartialEq)]
pub struct Gaussian {
    grid: Grid,
    rows: Vec<RowResult>,
    /// Per d: γ* = a/(1 − ρ) + b in the nominal ρ.
    fits: Vec<Option<Fit>>,
    /// Per d: γ* = a/(1 − ρ̂) + b in the realised mean input cosine ρ̂.
    fits_realised: Vec<Option<Fit>>,
}

/// Checks that `row` was computed for its place in `grid`: its key names a cell of the grid,
/// and its n, d, ρ, seed and γ values (and which γ carry η) are that cell's, bit for bit.
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
        || row.seed != row_seed(grid.seed, d, row.key.rho_index)
        || !gammas_match
    {
        return Err(format!(
            "the row {name} does not match the grid (its n, d, rho, seed or gamma values differ)"
        ));
    }
    Ok(())
}

/// Puts the rows (in [`row_keys`] order) together; an error if a row is missing, extra, out of
/// order, or was computed for another grid.
pub fn assemble(grid: &Grid, rows: Vec<RowResult>) -> Result<Gaussian, ReportError> {
    grid.check()?;
    let keys = row_keys(grid);
    if rows.len() != keys.len() {
        let have: Vec<RowKey> = rows.iter().map(|r| r.key).collect();
        let missing: Vec<String> = keys
            .iter()
            .filter(|k| !have.contains(k))
            .map(|&k| row_key_name(k, grid))
            .collect();
        return Err(ReportError::Internal(format!(
            "gaussian: {} rows for a grid of {} (missing: {})",
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
            return Err(ReportError::Internal(format!(
                "gaussian: the row at the place of {} is {}",
                row_key_name(key, grid),
                row_key_name(row.key, grid)
            )));
        }
        check_row_place(row, grid).map_err(|e| ReportError::Internal(format!("gaussian: {e}")))?;
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
pub fn compute(grid: &Grid, tick: &(dyn Fn() + Sync)) -> Result<Gaussian, ReportError> {
    grid.check()?;
    let rows = row_keys(grid)
        .par_iter()
        .map(|&key| {
            let row = compute_row(grid, key);
            tick();
            row
        })
        .collect::<Result<Vec<_>, _>>()?;
    assemble(grid, rows)
}

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

impl Gaussian {
    /// The grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Every row, in [`row_keys`] order.
    pub fn rows(&self) -> &[RowResult] {
        &self.rows
    }

    /// The fit γ* = a/(1 − ρ) + b of dimension `dim_index` (None: fewer than [`FIT_MIN_ROWS`]
    /// crossings).
    pub fn fit(&self, dim_index: usize) -> Option<Fit> {
        self.fits.get(dim_index).copied().flatten()
    }

    /// The fit γ* = a/(1 − ρ̂) + b of dimension `dim_index` in the realised mean input cosine ρ̂
    /// of each row (None: fewer than [`FIT_MIN_ROWS`] crossings).
    pub fn fit_realised(&self, dim_index: usize) -> Option<Fit> {
        self.fits_realised.get(dim_index).copied().flatten()
    }

    /// The rows of dimension `dim_index`, ρ increasing.
    pub fn rows_of(&self, dim_index: usize) -> impl Iterator<Item = &RowResult> {
        self.rows
            .iter()
            .filter(move |r| r.key.dim_index == dim_index)
    }

    fn gamma_range(&self) -> (f64, f64) {
        let g = &self.grid.gammas;
        let h = spacing(g) / 2.0;
        (g[0] - h, g[g.len() - 1] + h)
    }

    fn rho_range(&self) -> (f64, f64) {
        let r = &self.grid.rhos;
        let h = spacing(r) / 2.0;
        (r[0] - h, r[r.len() - 1] + h)
    }

    /// The largest η of dimension `dim_index`.
    fn eta_max(&self, dim_index: usize) -> f64 {
        self.rows_of(dim_index)
            .flat_map(|r| r.points.iter().filter_map(|p| p.eta))
            .fold(0.0, f64::max)
    }

    /// The largest η/η_∞ of dimension `dim_index` (whether the colour scale clips).
    fn eta_ratio_max(&self, dim_index: usize) -> f64 {
        self.rows_of(dim_index)
            .flat_map(|r| r.points.iter().filter_map(|p| Quantity::Eta.value(r, p)))
            .fold(0.0, f64::max)
    }

    fn heatmap_svg(&self, dim_index: usize, q: Quantity) -> Result<String, ReportError> {
        let grid = &self.grid;
        let d = grid.dims[dim_index];
        let rows: Vec<&RowResult> = self.rows_of(dim_index).collect();
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
        let x_range = self.rho_range();
        let y_range = self.gamma_range();
        let mut lines = vec![Line {
            label: "gamma_c = 1/(1-rho)".to_owned(),
            points: curve(|r| 1.0 / (1.0 - r), x_range, y_range),
            style: LineStyle::DashedWhite,
        }];
        if let Some(fit) = self.fit(dim_index) {
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
                if self.eta_ratio_max(dim_index) > 1.005 {
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

    /// The data files and figures, in a fixed order.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let grid = &self.grid;
        let mut out = Vec::new();
        let opt_csv = |x: Option<f64>| x.map_or_else(String::new, csv_num);
        let opt_num = |x: Option<f64>| x.map_or(Value::Null, num);

        // The grid, long form.
        let mut csv = Csv::new(&[
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
        ]);
        for row in &self.rows {
            for p in &row.points {
                csv.row([
                    row.d.to_string(),
                    csv_num(row.rho),
                    csv_num(p.gamma),
                    csv_num(p.gamma * (1.0 - row.rho)),
                    csv_num(p.lambda),
                    csv_num(p.lambda_angle),
                    opt_csv(p.eta),
                    csv_num(p.self_weight),
                    csv_num(p.support),
                    csv_num(p.entropy),
                    csv_num(p.cos_out_mean),
                ]);
            }
        }
        out.push(Artifact::new("data/gaussian_grid.csv", csv.into_bytes()));
        let series = |row: &RowResult, f: &dyn Fn(&Point) -> Option<f64>| -> Value {
            Value::Array(row.points.iter().map(|p| opt_num(f(p))).collect())
        };
        let dims: Vec<Value> = grid
            .dims
            .iter()
            .enumerate()
            .map(|(k, &d)| {
                let rows: Vec<Value> = self
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
        let mut csv = Csv::new(&[
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
        ]);
        let mut rows_json = Vec::new();
        for row in &self.rows {
            let gamma_c = 1.0 / (1.0 - row.rho);
            let star = row.crossing.gamma();
            let diff = star.zip(row.simplex_crossing).map(|(a, b)| a - b);
            let fitted = self.fit(row.key.dim_index).map(|f| f.at(row.rho));
            let steps = match row.crossing {
                Crossing::At { steps, .. } => Some(steps),
                _ => None,
            };
            let etas: Vec<f64> = row.points.iter().filter_map(|p| p.eta).collect();
            let (eta_first, eta_last) = (etas.first().copied(), etas.last().copied());
            let rise = row.steepest_eta_rise();
            csv.row([
                row.d.to_string(),
                csv_num(row.rho),
                csv_num(gamma_c),
                csv_text(row.crossing.kind()),
                opt_csv(star),
                opt_csv(star.map(|g| g / gamma_c)),
                opt_csv(row.simplex_crossing),
                opt_csv(diff),
                opt_csv(fitted),
                steps.map_or_else(String::new, |s| s.to_string()),
                csv_num(row.cos_in_mean),
                opt_csv(eta_first),
                opt_csv(eta_last),
                csv_num(row.eta_identity),
                opt_csv(rise),
            ]);
            rows_json.push(json!({
                "d": row.d,
                "rho": num(row.rho),
                "gamma_c": num(gamma_c),
                "crossing": row.crossing.kind(),
                "gamma_star": opt_num(star),
                "gamma_star_over_gamma_c": opt_num(star.map(|g| g / gamma_c)),
                "simplex_gamma_star": opt_num(row.simplex_crossing),
                "gamma_star_minus_simplex": opt_num(diff),
                "fit_gamma_star": opt_num(fitted),
                "bisection_steps": steps,
                "cos_in_mean": num(row.cos_in_mean),
                "eta_first": opt_num(eta_first),
                "eta_last": opt_num(eta_last),
                "eta_identity": num(row.eta_identity),
                "steepest_eta_rise_at": opt_num(rise),
            }));
        }
        out.push(Artifact::new(
            "data/gaussian_transition.csv",
            csv.into_bytes(),
        ));
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
                    "nominal_rho": fit_json(self.fit(k)),
                    "realised_rho": fit_json(self.fit_realised(k)),
                })
            })
            .collect();
        out.push(Artifact::json(
            "data/gaussian_transition.json",
            &json!({
                "description": "per (d, rho) row: gamma_star where lambda = 1/2 (bisection on the row's tokens; crossing = above/below when lambda stays below/above 1/2 on the gamma range), the exact simplex crossing at the same n, and per d the least-squares fits gamma_star = a/(1-x) + b over the rows with a crossing, x = the nominal rho or the realised mean input cosine (cos_in_mean)",
                "n": grid.n,
                "level": num(LEVEL),
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
                    self.heatmap_svg(k, q)?.into_bytes(),
                ));
            }
        }
        Ok(out)
    }

    /// The Markdown of the section, with an unnumbered heading.
    pub fn markdown(&self) -> String {
        self.markdown_with_heading(
            "## Gaussian almost-simplices: the paper's Figures 1 and 2 (fast kernels)",
        )
    }

    /// The Markdown of the section under the given heading line (e.g. `## 5. …`).
    pub fn markdown_with_heading(&self, heading: &str) -> String {
        let grid = &self.grid;
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
             (d, ρ) row, shared by all its γ, seeded by SplitMix64 mixes of the grid seed {seed}, d and the ρ index \
             (`row_seed`; the seeds are in the data). The transition γ* is where λ = 1/2: the first grid interval \
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
        let shift_max = self
            .rows
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
            self.markdown_dim(&mut md, k, d);
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

    fn markdown_dim(&self, md: &mut String, k: usize, d: usize) {
        let rows: Vec<&RowResult> = self.rows_of(k).collect();
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
        match self.fit(k) {
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
        if let Some(f) = self.fit_realised(k) {
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
            csv_num(self.grid.gammas[0]),
            md_num(mean(&last)),
            csv_num(
                self.grid.gammas[(0..self.grid.gammas.len())
                    .rev()
                    .find(|&j| self.grid.has_eta(j))
                    .unwrap_or(0)]
            ),
            md_num(mean(&ident)),
            md_num(self.eta_max(k)),
        );
        let _ = writeln!(
            md,
            "| ρ | ρ̂ (mean cos in) | γ_c | γ* (measured) | γ*/γ_c | γ*(1 − ρ̂) | simplex γ* (n = {}) | γ* − simplex γ* | fit | η steepest rise at γ | η/η_∞ at largest γ |",
            self.grid.n
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|---|---|");
        let fit = self.fit(k);
        for r in rows {
            let gamma_c = 1.0 / (1.0 - r.rho);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(f)
    }

    #[test]
    fn row_json_round_trip_is_exact_through_text() {
        let grid = Grid::quick();
        let key = RowKey {
            dim_index: 1,
            rho_index: 2,
        };
        let mut row = compute_row(&grid, key).unwrap();
        // Values that serde_json's parser reads back one ulp off without its `float_roundtrip`
        // feature (about 18% of random doubles are), and extreme magnitudes.
        row.points[0].lambda = 0.115_829_093_872_752_23;
        row.points[1].support = 1.692_043_798_761_085e-8;
        row.points[2].entropy = 0.012_837_748_982_554_853;
        row.points[3].lambda_angle = 2.0f64.powi(-1070);
        row.points[4].cos_out_mean = 1.0 / 3.0 * 1e300;
        row.simplex_crossing = None;
        for r in [row.clone(), compute_row(&grid, key).unwrap()] {
            let value = r.to_json();
            assert_eq!(RowResult::from_json(&value).unwrap(), r);
            let text = serde_json::to_string(&value).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(RowResult::from_json(&back).unwrap(), r);
        }
        let mut broken = row.to_json();
        broken["points"][0]["lambda"] = json!(true);
        assert!(RowResult::from_json(&broken).is_err());
    }

    #[test]
    fn row_keys_and_names_are_stable() {
        let grid = Grid::full();
        let keys = row_keys(&grid);
        assert_eq!(keys.len(), 3 * 18);
        assert_eq!(row_key_name(keys[0], &grid), "gaussian/d512/rho0");
        assert_eq!(row_key_name(keys[18 + 3], &grid), "gaussian/d32/rho3");
        assert_eq!(
            row_key_name(*keys.last().unwrap(), &grid),
            "gaussian/d2/rho17"
        );
        assert!(grid.check().is_ok() && Grid::quick().check().is_ok());
        assert_ne!(row_seed(1, 512, 0), row_seed(1, 512, 1));
        assert_ne!(row_seed(1, 512, 0), row_seed(1, 32, 0));
    }

    #[test]
    fn quick_budget_shows_the_transition_and_does_not_depend_on_threads() {
        let grid = Grid::quick();
        let one = in_pool(1, || compute(&grid, &|| {}).unwrap());
        let ticks = std::sync::atomic::AtomicUsize::new(0);
        let two = in_pool(2, || {
            compute(&grid, &|| {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap()
        });
        assert_eq!(ticks.into_inner(), row_keys(&grid).len());
        assert_eq!(one, two);
        let (a, b) = (one.artifacts().unwrap(), two.artifacts().unwrap());
        assert_eq!(a, b);
        assert_eq!(one.markdown(), two.markdown());
        assert_eq!(a.len(), 4 + 9);
        for file in &a {
            if file.path.ends_with(".svg") {
                assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
                assert!(file.bytes.len() < 600_000, "{}", file.path);
            } else if file.path.ends_with(".json") {
                serde_json::from_slice::<Value>(&file.bytes).unwrap();
            }
        }
        // Every link of the section points at one of its files.
        let md = one.markdown();
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            assert!(a.iter().any(|f| f.path == target), "broken link {target}");
        }

        // d = 512: collapse at the smallest γ, identity at the largest, λ rising in between, and
        // a crossing in every row not far from γ_c.
        assert_eq!(grid.dims[0], 512);
        for row in one.rows_of(0) {
            let lambdas: Vec<f64> = row.points.iter().map(|p| p.lambda).collect();
            assert!(lambdas[0] < 0.05, "rho {}: {lambdas:?}", row.rho);
            assert!(
                *lambdas.last().unwrap() > 0.9,
                "rho {}: {lambdas:?}",
                row.rho
            );
            for w in lambdas.windows(2) {
                assert!(w[1] >= w[0] - 1e-12, "rho {}: {lambdas:?}", row.rho);
            }
            let star = row.crossing.gamma().expect("a crossing at d = 512");
            let ratio = star * (1.0 - row.rho);
            assert!((0.6..1.6).contains(&ratio), "rho {}: {ratio}", row.rho);
            let simplex = row.simplex_crossing.unwrap();
            assert!(
                (star - simplex).abs() < 0.5 * simplex,
                "{star} vs {simplex}"
            );
        }
        for row in one.rows() {
            if row.d == 512 {
                assert!((row.cos_in_mean - row.rho).abs() < 0.05, "{}", row.rho);
            }
            for p in &row.points {
                let eta = p.eta.unwrap();
                assert!(eta >= 0.0 && eta.is_finite(), "{eta}");
                assert!((0.0..=1.0 + 1e-9).contains(&p.lambda_angle));
                assert!(p.self_weight > 0.0 && p.self_weight <= 1.0);
            }
            // Deep in the identity phase (γ ≥ 8γ_c at d = 512) η approaches its identity limit.
            if row.d == 512 {
                let last = row.points.last().unwrap();
                let eta = last.eta.unwrap();
                assert!(
                    (eta / row.eta_identity - 1.0).abs() < 0.1,
                    "{eta} vs {}",
                    row.eta_identity
                );
                assert!(row.points[0].eta.unwrap() < 0.1 * row.eta_identity);
                let e = row.eta_identity;
                assert!((e - (1.0 - 1.0 / 512.0)).abs() < 0.1, "{e}");
            }
        }
    }

    #[test]
    fn assemble_rejects_missing_and_foreign_rows() {
        let grid = Grid {
            dims: vec![8],
            rhos: vec![0.3, 0.6],
            gammas: vec![1.0, 3.0],
            n: 16,
            ..Grid::quick()
        };
        let rows: Vec<RowResult> = row_keys(&grid)
            .into_iter()
            .map(|k| compute_row(&grid, k).unwrap())
            .collect();
        assert!(assemble(&grid, rows.clone()).is_ok());
        let missing = assemble(&grid, rows[..1].to_vec()).unwrap_err();
        assert!(
            missing.to_string().contains("gaussian/d8/rho1"),
            "{missing}"
        );
        let swapped = vec![rows[1].clone(), rows[0].clone()];
        assert!(assemble(&grid, swapped).is_err());
        let other_seed = Grid {
            seed: 7,
            ..grid.clone()
        };
        assert!(assemble(&other_seed, rows.clone()).is_err());
        let mut tampered = rows;
        tampered[1].points[1].gamma = 3.5;
        assert!(assemble(&grid, tampered).is_err());
    }

    #[test]
    fn fit_recovers_a_line_in_one_over_one_minus_rho() {
        let pts: Vec<(f64, f64)> = [0.1, 0.3, 0.5, 0.7]
            .iter()
            .map(|&r| (r, 1.2 / (1.0 - r) - 0.3))
            .collect();
        let f = fit(&pts).unwrap();
        assert!((f.a - 1.2).abs() < 1e-12 && (f.b + 0.3).abs() < 1e-12 && f.rms < 1e-12);
        assert!(fit(&pts[..2]).is_none());
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
        let files = g.artifacts().unwrap();
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
            std::fs::write(std::path::Path::new(&dir).join("gaussian.md"), g.markdown()).unwrap();
        }
    }
}
