//! Power-law fits y = C·n^α with confidence intervals, by least squares on logs.
//!
//! Regress `log y_i = log C + α log n_i + ε_i` (multiplicative errors, [`linear_regression`] with
//! the centred design `[1, log n_i − L̄]`, `L̄ = Σ w_i log n_i / Σ w_i`). Every quantity is exact
//! linear-model algebra, so the t interval for α is exact under log-normal noise; C's CI is
//! `exp(log Ĉ ± t·se(log Ĉ))` (asymmetric), and `se(C) = C·se(log C)` (delta method). Its
//! `residual_sd` is on the log scale.
//!
//! Abscissae may be given as n or as log n ([`fit_log_ols_logs`]), so n can exceed the f64
//! range; for the same reason every fit also reports `log C`, and the amplitude `c_ref` at the
//! reference size `log n = log_n_ref`, which are representable whenever the data are.

use crate::error::{Error, Result};
use crate::extrapolate::linear_regression;
use crate::stats::{check_finite, check_len, check_positive, check_weights, t_critical};
use nalgebra::DMatrix;

/// A fitted power law y = C·n^α.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerLawFit {
    /// The amplitude C.
    pub c: f64,
    /// log |C| (natural log), available even when C under- or overflows.
    pub log_c: f64,
    /// The exponent α.
    pub alpha: f64,
    /// Standard error of C.
    pub c_se: f64,
    /// Standard error of α.
    pub alpha_se: f64,
    /// CI of C at `level` (`exp` of a symmetric interval for log C).
    pub c_ci: (f64, f64),
    /// CI of α at `level`.
    pub alpha_ci: (f64, f64),
    /// Cov(C, α).
    pub cov_c_alpha: f64,
    /// The reference size log n̄ (weighted mean of the data's log n).
    pub log_n_ref: f64,
    /// The fitted amplitude at the reference size, C·e^{α·log_n_ref}.
    pub c_ref: f64,
    /// σ̂ of the (weighted) residuals, in units of log y.
    pub residual_sd: f64,
    /// Residual degrees of freedom, m − 2.
    pub dof: usize,
    /// Number of data points m.
    pub n_points: usize,
    /// The confidence level of the intervals.
    pub level: f64,
}

impl PowerLawFit {
    /// The fitted C·n^α at `log n`, evaluated as `c_ref·e^{α(log n − log_n_ref)}`.
    pub fn predict_log_n(&self, log_n: f64) -> f64 {
        self.c_ref * (self.alpha * (log_n - self.log_n_ref)).exp()
    }

    /// The fitted C·n^α at n.
    pub fn predict(&self, n: f64) -> f64 {
        self.predict_log_n(n.ln())
    }
}

fn logs(what: &'static str, xs: &[f64]) -> Result<Vec<f64>> {
    check_positive(what, xs)?;
    Ok(xs.iter().map(|x| x.ln()).collect())
}

fn common_checks(
    what: &'static str,
    log_n: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<f64> {
    let m = log_n.len();
    check_len("y", y, m)?;
    if m < 3 {
        return Err(Error::TooFewPoints {
            what,
            needed: 3,
            got: m,
        });
    }
    check_finite("log_n", log_n)?;
    check_finite("y", y)?;
    check_weights(weights, m)?;
    let t = t_critical(level, m - 2)?;
    if log_n.iter().all(|&l| l == log_n[0]) {
        return Err(Error::Singular {
            what: "power-law fit (all n equal)",
            condition: f64::INFINITY,
        });
    }
    Ok(t)
}

fn weighted_mean(x: &[f64], weights: Option<&[f64]>) -> f64 {
    match weights {
        Some(w) => {
            let sw: f64 = w.iter().sum();
            x.iter().zip(w).map(|(x, w)| x * w).sum::<f64>() / sw
        }
        None => x.iter().sum::<f64>() / x.len() as f64,
    }
}

fn check_output(fit: PowerLawFit) -> Result<PowerLawFit> {
    let fields = [
        ("C", fit.c),
        ("log C", fit.log_c),
        ("alpha", fit.alpha),
        ("se(C)", fit.c_se),
        ("se(alpha)", fit.alpha_se),
        ("cov(C, alpha)", fit.cov_c_alpha),
        ("C_ref", fit.c_ref),
    ];
    for (what, v) in fields {
        if !v.is_finite() {
            return Err(Error::OutOfRange {
                what,
                value: v,
                hint: "the fitted amplitude is outside the f64 range at n = 1: use log_c or c_ref",
            });
        }
    }
    Ok(fit)
}

/// Least squares of log y on log n; abscissa n (> 0), y > 0.
///
/// `weights`, if given, are relative inverse variances of log y (for a relative error s_i of y_i,
/// `w_i = 1/s_i²`).
///
/// # Errors
/// See [`fit_log_ols_logs`]; also [`Error::NonPositive`] for n ≤ 0 or y ≤ 0.
pub fn fit_log_ols(
    n: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<PowerLawFit> {
    fit_log_ols_logs(&logs("n", n)?, &logs("y", y)?, weights, level)
}

/// Least squares of `log y` on `log n`, both given as logarithms (so y may lie outside the f64
/// range, e.g. λ ≈ 10^{−558}).
///
/// # Errors
/// [`Error::TooFewPoints`] for fewer than 3 points; [`Error::LengthMismatch`],
/// [`Error::NonFinite`], [`Error::BadWeight`], [`Error::BadLevel`] for bad input;
/// [`Error::Singular`] when all n are equal; [`Error::OutOfRange`] if C = e^{log C} overflows.
pub fn fit_log_ols_logs(
    log_n: &[f64],
    log_y: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<PowerLawFit> {
    const WHAT: &str = "power-law fit (least squares on logs)";
    let t = common_checks(WHAT, log_n, log_y, weights, level)?;
    let m = log_n.len();
    let l_ref = weighted_mean(log_n, weights);
    let design = DMatrix::from_fn(m, 2, |i, j| if j == 0 { 1.0 } else { log_n[i] - l_ref });
    let fit = linear_regression(&design, log_y, weights, level)?;
    let (a0, alpha) = (fit.coefficients[0], fit.coefficients[1]);
    let (v00, v01, v11) = (
        fit.covariance[(0, 0)],
        fit.covariance[(0, 1)],
        fit.covariance[(1, 1)],
    );
    // log C = a0 − α L̄.
    let log_c = a0 - alpha * l_ref;
    let var_log_c = v00 - 2.0 * l_ref * v01 + l_ref * l_ref * v11;
    let se_log_c = var_log_c.max(0.0).sqrt();
    let c = log_c.exp();
    let alpha_se = v11.max(0.0).sqrt();
    check_output(PowerLawFit {
        c,
        log_c,
        alpha,
        c_se: c * se_log_c,
        alpha_se,
        c_ci: ((log_c - t * se_log_c).exp(), (log_c + t * se_log_c).exp()),
        alpha_ci: (alpha - t * alpha_se, alpha + t * alpha_se),
        cov_c_alpha: c * (v01 - l_ref * v11),
        log_n_ref: l_ref,
        c_ref: a0.exp(),
        residual_sd: fit.residual_sd,
        dof: m - 2,
        n_points: m,
        level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    fn sizes() -> Vec<f64> {
        [
            16.0, 32.0, 64.0, 128.0, 256.0, 512.0, 1024.0, 2048.0, 4096.0,
        ]
        .to_vec()
    }

    /// `a` within `tol` of `b`, relative to `|b|`.
    fn rel_close(a: f64, b: f64, tol: f64) -> bool {
        abs_diff_eq!(a, b, epsilon = tol * b.abs().max(1e-300))
    }

    #[test]
    fn exact_power_laws_recovered() {
        for &(c, alpha) in &[(1.0, -0.4), (2.5, 0.5), (0.3, -1.0), (7.0, 2.0), (1.0, 0.0)] {
            let n = sizes();
            let y: Vec<f64> = n.iter().map(|n| c * n.powf(alpha)).collect();
            let fit = fit_log_ols(&n, &y, None, 0.95).unwrap();
            assert!(abs_diff_eq!(fit.alpha, alpha, epsilon = 1e-10), "{fit:?}");
            assert!(rel_close(fit.c, c, 1e-10), "{fit:?}");
            assert!(abs_diff_eq!(fit.log_c, c.ln(), epsilon = 1e-10), "{fit:?}");
            assert!(fit.alpha_se < 1e-9, "{fit:?}");
            assert!(fit.residual_sd < 1e-12, "{fit:?}");
            assert!(fit.alpha_ci.0 <= fit.alpha && fit.alpha <= fit.alpha_ci.1);
            assert!(fit.c_ci.0 <= fit.c && fit.c <= fit.c_ci.1);
            assert_eq!((fit.n_points, fit.dof), (9, 7));
            assert!(rel_close(fit.predict(100.0), c * 100f64.powf(alpha), 1e-9));
        }
    }

    #[test]
    fn log_domain_fit_beyond_f64_range() {
        // n from 1e50 to 1e300, y = 2 n^{-2}: y underflows f64, log y does not.
        let log_n: Vec<f64> = (1..=6).map(|k| (50.0 * k as f64) * 10f64.ln()).collect();
        let log_y: Vec<f64> = log_n.iter().map(|l| 2f64.ln() - 2.0 * l).collect();
        let fit = fit_log_ols_logs(&log_n, &log_y, None, 0.95).unwrap();
        assert!(abs_diff_eq!(fit.alpha, -2.0, epsilon = 1e-12), "{fit:?}");
        assert!(
            abs_diff_eq!(fit.log_c, 2f64.ln(), epsilon = 1e-9),
            "{fit:?}"
        );
    }

    /// Empirical coverage of the α interval over `reps` seeded replications (log-normal noise).
    fn coverage(reps: usize, seed: u64) -> f64 {
        let (c, alpha, sigma) = (2.0, -0.6, 0.05);
        let n: Vec<f64> = (0..12).map(|k| 10f64 * 1.6f64.powi(k)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut hits = 0;
        for _ in 0..reps {
            let y: Vec<f64> = n
                .iter()
                .map(|n| {
                    let e: f64 = rng.sample(StandardNormal);
                    c * n.powf(alpha) * (sigma * e).exp()
                })
                .collect();
            let fit = fit_log_ols(&n, &y, None, 0.95).unwrap();
            if crate::stats::contains(fit.alpha_ci, alpha) {
                hits += 1;
            }
        }
        hits as f64 / reps as f64
    }

    #[test]
    fn log_ols_interval_covers_at_nominal_rate() {
        let cov = coverage(200, 12);
        assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
    }

    #[test]
    fn degenerate_input_is_an_error() {
        let n = [10.0, 100.0, 1000.0];
        let y = [1.0, 2.0, 3.0];
        assert!(matches!(
            fit_log_ols(&n[..2], &y[..2], None, 0.95),
            Err(Error::TooFewPoints {
                needed: 3,
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            fit_log_ols(&n, &y[..2], None, 0.95),
            Err(Error::LengthMismatch { .. })
        ));
        assert_eq!(
            fit_log_ols(&n, &[1.0, -2.0, 3.0], None, 0.95).unwrap_err(),
            Error::NonPositive {
                what: "y",
                index: 1,
                value: -2.0
            }
        );
        assert!(matches!(
            fit_log_ols(&[10.0, 0.0, 5.0], &y, None, 0.95),
            Err(Error::NonPositive {
                what: "n",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            fit_log_ols_logs(&[1.0, 2.0, 3.0], &[0.0, f64::NAN, 1.0], None, 0.95),
            Err(Error::NonFinite {
                what: "y",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            fit_log_ols(&[5.0, 5.0, 5.0], &y, None, 0.95),
            Err(Error::Singular { .. })
        ));
        assert!(matches!(
            fit_log_ols(&n, &y, None, 1.5),
            Err(Error::BadLevel { .. })
        ));
        assert!(matches!(
            fit_log_ols(&n, &y, Some(&[1.0, 0.0, 1.0]), 0.95),
            Err(Error::BadWeight { index: 1, .. })
        ));
        assert!(matches!(
            fit_log_ols_logs(&[1.0, 2.0, 3.0], &[800.0, 900.0, 1000.0], None, 0.95),
            Err(Error::OutOfRange { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn recovers_any_exact_power_law(
            c in 0.05f64..20.0,
            alpha in -2.0f64..2.0,
            log_n0 in 1.0f64..8.0,
            steps in prop::collection::vec(0.1f64..1.5, 3..12),
        ) {
            let mut l = log_n0;
            let log_n: Vec<f64> = steps.iter().map(|s| { l += s; l }).collect();
            let log_y: Vec<f64> = log_n.iter().map(|l| c.ln() + alpha * l).collect();
            let fit = fit_log_ols_logs(&log_n, &log_y, None, 0.95).unwrap();
            prop_assert!(abs_diff_eq!(fit.alpha, alpha, epsilon = 1e-10), "{:?}", fit);
            prop_assert!(rel_close(fit.c, c, 1e-9), "{:?}", fit);
        }

        #[test]
        fn weights_matter_only_up_to_scale(
            scale in 0.01f64..100.0,
            seed in 0u64..1000,
        ) {
            let n = sizes();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let y: Vec<f64> = n.iter().map(|n| {
                let e: f64 = rng.sample(StandardNormal);
                n.powf(0.3) * (1.0 + 0.05 * e)
            }).collect();
            let w: Vec<f64> = (0..n.len()).map(|i| 1.0 + (i % 3) as f64).collect();
            let ws: Vec<f64> = w.iter().map(|w| w * scale).collect();
            let a = fit_log_ols(&n, &y, Some(&w), 0.95).unwrap();
            let b = fit_log_ols(&n, &y, Some(&ws), 0.95).unwrap();
            prop_assert!(abs_diff_eq!(a.alpha, b.alpha, epsilon = 1e-6 * a.alpha_se));
            prop_assert!(abs_diff_eq!(a.alpha_se, b.alpha_se, epsilon = 1e-6 * a.alpha_se));
        }

        #[test]
        fn intervals_are_ordered_and_widen_with_level(seed in 0u64..1000) {
            let n = sizes();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let y: Vec<f64> = n.iter().map(|n| {
                let e: f64 = rng.sample(StandardNormal);
                1.5 * n.powf(-0.5) * (0.1 * e).exp()
            }).collect();
            let lo = fit_log_ols(&n, &y, None, 0.8).unwrap();
            let hi = fit_log_ols(&n, &y, None, 0.99).unwrap();
            prop_assert!(lo.alpha_ci.0 < lo.alpha && lo.alpha < lo.alpha_ci.1);
            prop_assert!(lo.c_ci.0 < lo.c && lo.c < lo.c_ci.1);
            prop_assert!(hi.alpha_ci.0 < lo.alpha_ci.0 && lo.alpha_ci.1 < hi.alpha_ci.1);
        }
    }
}
