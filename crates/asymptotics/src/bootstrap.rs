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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand_distr::StandardNormal;

    fn mean(x: &[f64]) -> f64 {
        x.iter().sum::<f64>() / x.len() as f64
    }

    fn normal_sample(seed: u64, m: usize, mu: f64) -> Vec<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..m)
            .map(|_| mu + rng.sample::<f64, _>(StandardNormal))
            .collect()
    }

    #[test]
    fn deterministic_per_seed() {
        let x = normal_sample(1, 30, 0.0);
        let opts = BootstrapOptions {
            resamples: 500,
            level: 0.9,
            seed: 42,
        };
        let a = bootstrap(&x, mean, &opts).unwrap();
        let b = bootstrap(&x, mean, &opts).unwrap();
        assert_eq!(a, b);
        let c = bootstrap(&x, mean, &BootstrapOptions { seed: 43, ..opts }).unwrap();
        assert_ne!(a.replicates, c.replicates);
        assert_eq!(a.estimate, c.estimate);
        // Same numbers through the index interface, and replicate b depends only on (seed, b).
        let d = bootstrap_indices(
            x.len(),
            |idx| mean(&idx.iter().map(|&i| x[i]).collect::<Vec<_>>()),
            &opts,
        )
        .unwrap();
        assert_eq!(a, d);
        let idx = resample_indices(42, 17, x.len());
        let direct = mean(&idx.iter().map(|&i| x[i]).collect::<Vec<_>>());
        assert_eq!(a.replicates[17], direct);
    }

    #[test]
    fn mean_interval_covers_the_truth_and_se_matches_theory() {
        let (mu, m) = (1.5, 40);
        let opts = BootstrapOptions {
            resamples: 400,
            level: 0.95,
            seed: 7,
        };
        let (mut hits, reps) = (0, 200);
        let mut se_ratio = 0.0;
        for r in 0..reps {
            let x = normal_sample(1000 + r, m, mu);
            let res = bootstrap(&x, mean, &opts).unwrap();
            hits += crate::stats::contains(res.ci, mu) as usize;
            // The bootstrap se of a mean is s·√((m−1)/m)/√m, up to resampling noise.
            let xb = mean(&x);
            let s = (x.iter().map(|v| (v - xb).powi(2)).sum::<f64>() / (m as f64 - 1.0)).sqrt();
            se_ratio += res.standard_error / (s / (m as f64).sqrt()) / reps as f64;
            assert!(res.ci.0 <= res.ci.1);
        }
        let cov = hits as f64 / reps as f64;
        assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
        assert!((se_ratio - 1.0).abs() < 0.05, "mean se ratio {se_ratio}");
    }

    #[test]
    fn bad_input_is_an_error() {
        let opts = BootstrapOptions::default();
        assert!(matches!(
            bootstrap(&[1.0], mean, &opts),
            Err(Error::TooFewPoints {
                needed: 2,
                got: 1,
                ..
            })
        ));
        assert!(matches!(
            bootstrap(
                &[1.0, 2.0],
                mean,
                &BootstrapOptions {
                    resamples: 1,
                    ..opts
                }
            ),
            Err(Error::BadParameter {
                what: "resamples",
                ..
            })
        ));
        assert!(matches!(
            bootstrap(&[1.0, 2.0], mean, &BootstrapOptions { level: 1.0, ..opts }),
            Err(Error::BadLevel { .. })
        ));
        // log of the mean of data that can resample to all zeros: the failing replicate is named.
        let x = [0.0, 0.0, 0.0, 1.0];
        let e = bootstrap(&x, |s| mean(s).ln(), &opts).unwrap_err();
        match e {
            Error::NonFiniteStatistic { on, value } => {
                assert!(on.starts_with("bootstrap replicate"), "{on}");
                assert_eq!(value, f64::NEG_INFINITY);
            }
            e => panic!("{e}"),
        }
        assert!(matches!(
            bootstrap(&[0.0, 0.0], |s| mean(s).ln(), &opts),
            Err(Error::NonFiniteStatistic { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        #[test]
        fn indices_are_in_range_and_reproducible(seed in any::<u64>(), b in any::<u64>(), m in 1usize..200) {
            let idx = resample_indices(seed, b, m);
            prop_assert_eq!(idx.len(), m);
            prop_assert!(idx.iter().all(|&i| i < m));
            prop_assert_eq!(idx, resample_indices(seed, b, m));
        }

        /// Percentile intervals of a mean lie within the data range, are ordered, and nest by level.
        #[test]
        fn intervals_of_a_mean_are_sane(
            x in prop::collection::vec(-100.0f64..100.0, 2..40),
            seed in any::<u64>(),
        ) {
            let lo = bootstrap(&x, mean, &BootstrapOptions { resamples: 200, level: 0.8, seed }).unwrap();
            let hi = bootstrap(&x, mean, &BootstrapOptions { resamples: 200, level: 0.99, seed }).unwrap();
            let (min, max) = x.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            prop_assert!(min - 1e-9 <= hi.ci.0 && hi.ci.1 <= max + 1e-9);
            prop_assert!(hi.ci.0 <= lo.ci.0 && lo.ci.0 <= lo.ci.1 && lo.ci.1 <= hi.ci.1);
            prop_assert!(lo.standard_error >= 0.0);
            prop_assert_eq!(lo.replicates, hi.replicates);
        }
    }
}
