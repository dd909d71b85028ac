//! Seeded nonparametric percentile bootstrap over samples (e.g. random token configurations).
//!
//! Given m samples `X_1 … X_m` and a statistic `T`, the estimate is `T̂ = T(X_1 … X_m)`. For
//! `b = 0 … B−1` draw m indices uniformly with replacement, `X*_b = (X_{I_b1} … X_{I_bm})`, and
//! compute the replicate `T*_b = T(X*_b)`. Then, with `T*_(·)` sorted and `Q` the type-7 sample
//! quantile ([`crate::stats::quantile_sorted`]):
//!
//! * percentile CI at level L: `[Q(T*; (1−L)/2), Q(T*; (1+L)/2)]`,
//! * standard error: the sample standard deviation of the replicates, `√(Σ(T*_b − T̄*)²/(B−1))`,
//! * bias estimate: `T̄* − T̂`.
//!
//! **Determinism.** Replicate b draws its indices from its own `ChaCha8Rng`, seeded with
//! `seed_from_u64(seed)` and switched to stream b (`set_stream(b)`), by `random_range(0..m)`. So
//! each replicate depends only on (seed, b, m): the result is the same for a given seed whatever the
//! order in which replicates are computed, and a run can be split into ranges of b and merged.
//! (The index sequence is fixed by the `rand`/`rand_chacha` versions in `Cargo.lock`.)
//!
//! There is no maintained bootstrap crate for Rust, which is why this is written here (DESIGN.md).

use crate::error::{Error, Result};
use crate::stats::{check_level, quantile_sorted};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Settings of a bootstrap run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapOptions {
    /// Number of resamples B (≥ 2; 1000–10000 is usual for a 95% percentile interval).
    pub resamples: usize,
    /// Confidence level of the percentile interval, in (0, 1).
    pub level: f64,
    /// Seed of the index generator.
    pub seed: u64,
}

impl Default for BootstrapOptions {
    /// B = 2000, level 0.95, seed 0.
    fn default() -> Self {
        Self {
            resamples: 2000,
            level: 0.95,
            seed: 0,
        }
    }
}

/// The outcome of a bootstrap run.
#[derive(Debug, Clone, PartialEq)]
pub struct BootstrapResult {
    /// T̂, the statistic on the original samples.
    pub estimate: f64,
    /// The percentile interval at `level`.
    pub ci: (f64, f64),
    /// Standard deviation of the replicates.
    pub standard_error: f64,
    /// Mean of the replicates minus the estimate.
    pub bias: f64,
    /// The replicates T*_b in order of b (not sorted).
    pub replicates: Vec<f64>,
    /// Number of samples m.
    pub n_samples: usize,
    /// The options used.
    pub options: BootstrapOptions,
}

/// The m indices of replicate `b`: uniform on `0..m`, with replacement, from (seed, b) alone.
pub fn resample_indices(seed: u64, b: u64, m: usize) -> Vec<usize> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(b);
    (0..m).map(|_| rng.random_range(0..m)).collect()
}

/// Bootstrap a statistic of index sets: `statistic` receives m indices into the caller's samples
/// (`0..m` in order for the estimate, a resample for each replicate). Use this when the samples are
/// expensive to clone.
///
/// # Errors
/// [`Error::TooFewPoints`] if m < 2; [`Error::BadParameter`] if B < 2; [`Error::BadLevel`];
/// [`Error::NonFiniteStatistic`] if the statistic returns NaN or ±∞ on the original samples or on
/// any replicate (named).
pub fn bootstrap_indices(
    n_samples: usize,
    mut statistic: impl FnMut(&[usize]) -> f64,
    options: &BootstrapOptions,
) -> Result<BootstrapResult> {
    if n_samples < 2 {
        return Err(Error::TooFewPoints {
            what: "bootstrap",
            needed: 2,
            got: n_samples,
        });
    }
    if options.resamples < 2 {
        return Err(Error::BadParameter {
            what: "resamples",
            value: options.resamples as f64,
            valid: ">= 2",
        });
    }
    check_level(options.level)?;
    let identity: Vec<usize> = (0..n_samples).collect();
    let estimate = statistic(&identity);
    if !estimate.is_finite() {
        return Err(Error::NonFiniteStatistic {
            on: "the original samples".into(),
            value: estimate,
        });
    }
    let mut replicates = Vec::with_capacity(options.resamples);
    for b in 0..options.resamples {
        let idx = resample_indices(options.seed, b as u64, n_samples);
        let t = statistic(&idx);
        if !t.is_finite() {
            return Err(Error::NonFiniteStatistic {
                on: format!("bootstrap replicate {b} (seed {})", options.seed),
                value: t,
            });
        }
        replicates.push(t);
    }
    let bn = replicates.len() as f64;
    let mean = replicates.iter().sum::<f64>() / bn;
    let var = replicates.iter().map(|t| (t - mean).powi(2)).sum::<f64>() / (bn - 1.0);
    let mut sorted = replicates.clone();
    sorted.sort_by(f64::total_cmp);
    let a = 0.5 * (1.0 - options.level);
    Ok(BootstrapResult {
        estimate,
        ci: (
            quantile_sorted(&sorted, a),
            quantile_sorted(&sorted, 1.0 - a),
        ),
        standard_error: var.sqrt(),
        bias: mean - estimate,
        replicates,
        n_samples,
        options: *options,
    })
}

/// Bootstrap a statistic of the samples themselves: `statistic` receives the original samples for
/// the estimate and a resampled copy for each replicate.
///
/// # Errors
/// As [`bootstrap_indices`].
pub fn bootstrap<T: Clone>(
    samples: &[T],
    mut statistic: impl FnMut(&[T]) -> f64,
    options: &BootstrapOptions,
) -> Result<BootstrapResult> {
    let mut buf: Vec<T> = Vec::with_capacity(samples.len());
    bootstrap_indices(
        samples.len(),
        |idx| {
            buf.clear();
            buf.extend(idx.iter().map(|&i| samples[i].clone()));
            statistic(&buf)
        },
        options,
    )
}
