//! Power-law fits y = C·n^α with confidence intervals, by two independent methods.
//!
//! # (a) Nonlinear least squares (variable projection)
//!
//! Minimise `Σ_i w_i (y_i − C n_i^α)²` over (C, α) — additive errors `ε_i ~ N(0, σ²/w_i)` on the
//! natural scale. The model is linear in C and nonlinear in α, which is exactly the separable
//! form that [`varpro`] solves: for fixed α the best C is a linear least-squares solution, and
//! Levenberg–Marquardt runs on α alone. To keep C and α nearly uncorrelated the abscissa is
//! centred internally: with `L̄ = Σ w_i log n_i / Σ w_i` and `u_i = log n_i − L̄` the fitted model
//! is `y = C_ref·e^{α u}`, and `C = C_ref·e^{−α L̄}`. varpro's covariance of (C_ref, α) is
//! `σ̂²(HᵀH)⁻¹` (H the weighted model Jacobian, `σ̂² = Σ w_i r_i² / (m − 2)`), carried to (C, α)
//! by the exact Jacobian of the map, `∂C/∂C_ref = e^{−α L̄}`, `∂C/∂α = −C L̄`.
//! CIs are Wald intervals `θ̂ ± t_{m−2,(1+L)/2}·se(θ̂)` (asymptotic for a nonlinear model).
//! The start value of α is the slope of the log–log regression when all y have one sign, else 0.
//! The solver stops on the step size (`ftol = 0`, `xtol = 30ε`), not on the relative decrease of
//! the objective; even so, with noisy data α is located only to ~10⁻⁷ of its standard error (the
//! floor of a sum of squares evaluated in f64) — statistically irrelevant. Exact power laws are
//! recovered to better than 10⁻¹⁰.
//!
//! # (b) Ordinary least squares on logs (model-free second estimate)
//!
//! Regress `log y_i = log C + α log n_i + ε_i` (multiplicative errors, [`linear_regression`] with
//! the centred design `[1, log n_i − L̄]`). Every quantity is exact linear-model algebra, so the
//! t interval for α is exact under log-normal noise; C's CI is `exp(log Ĉ ± t·se(log Ĉ))`
//! (asymmetric), and `se(C) = C·se(log C)` (delta method). Its `residual_sd` is on the log scale.
//!
//! The two estimates weigh the data differently (absolute vs relative errors); agreement of the two
//! α's within their CIs is evidence that the power law, not the error model, drives the answer.
//!
//! Abscissae may be given as n or as log n (the `*_log_n` functions), so n can exceed the f64
//! range; for the same reason every fit also reports `log |C|`, and the amplitude `c_ref` at the
//! reference size `log n = log_n_ref`, which are representable whenever the data are.

use crate::error::{Error, Result};
use crate::extrapolate::linear_regression;
use crate::stats::{check_finite, check_len, check_positive, check_weights, t_critical};
use levenberg_marquardt::LevenbergMarquardt;
use nalgebra::{DMatrix, DVector};
use varpro::prelude::*;
use varpro::problem::SeparableProblemBuilder;
use varpro::solvers::levmar::LevMarSolver;
use varpro::statistics::FitStatistics;

/// Which estimator produced a [`PowerLawFit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// (a) Nonlinear least squares on the natural scale (varpro).
    NonlinearLeastSquares,
    /// (b) Ordinary (or weighted) least squares of log y on log n.
    LogLinearOls,
}

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
    /// CI of C at `level` (symmetric for NLS, `exp` of a symmetric interval for OLS on logs).
    pub c_ci: (f64, f64),
    /// CI of α at `level`.
    pub alpha_ci: (f64, f64),
    /// Cov(C, α).
    pub cov_c_alpha: f64,
    /// The reference size log n̄ (weighted mean of the data's log n).
    pub log_n_ref: f64,
    /// The fitted amplitude at the reference size, C·e^{α·log_n_ref}.
    pub c_ref: f64,
    /// σ̂ of the (weighted) residuals: in units of y for NLS, of log y for OLS on logs.
    pub residual_sd: f64,
    /// Residual degrees of freedom, m − 2.
    pub dof: usize,
    /// Number of data points m.
    pub n_points: usize,
    /// The confidence level of the intervals.
    pub level: f64,
    /// The estimator.
    pub method: Method,
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

/// Both estimates of the same power law.
#[derive(Debug, Clone, PartialEq)]
pub struct PowerLawFits {
    /// (a) nonlinear least squares.
    pub nls: PowerLawFit,
    /// (b) least squares on logs.
    pub ols: PowerLawFit,
}

impl PowerLawFits {
    /// Whether the two α confidence intervals overlap.
    pub fn alphas_agree(&self) -> bool {
        self.nls.alpha_ci.0 <= self.ols.alpha_ci.1 && self.ols.alpha_ci.0 <= self.nls.alpha_ci.1
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

/// (a) Nonlinear least squares fit of y = C·n^α, abscissa given as n (> 0).
///
/// `weights`, if given, are relative inverse variances of y (`w_i ∝ 1/Var(y_i)`).
///
/// # Errors
/// See [`fit_nls_log_n`]; also [`Error::NonPositive`] for n ≤ 0.
pub fn fit_nls(n: &[f64], y: &[f64], weights: Option<&[f64]>, level: f64) -> Result<PowerLawFit> {
    fit_nls_log_n(&logs("n", n)?, y, weights, level)
}

/// (a) Nonlinear least squares fit of y = C·n^α with the abscissa given as `log n`.
///
/// # Errors
/// [`Error::TooFewPoints`] for fewer than 3 points; [`Error::LengthMismatch`],
/// [`Error::NonFinite`], [`Error::BadWeight`], [`Error::BadLevel`] for bad input;
/// [`Error::Singular`] when all n are equal or the fit is degenerate (e.g. all y = 0);
/// [`Error::NoConvergence`] if Levenberg–Marquardt fails; [`Error::OutOfRange`] if C is not
/// representable.
pub fn fit_nls_log_n(
    log_n: &[f64],
    y: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<PowerLawFit> {
    const WHAT: &str = "power-law fit (nonlinear least squares)";
    let t = common_checks(WHAT, log_n, y, weights, level)?;
    let m = log_n.len();
    if y.iter().all(|&v| v == 0.0) {
        return Err(Error::Singular {
            what: "power-law fit (all y = 0: alpha is not identified)",
            condition: f64::INFINITY,
        });
    }
    let l_ref = weighted_mean(log_n, weights);
    let u: Vec<f64> = log_n.iter().map(|l| l - l_ref).collect();

    // Start value: the log-log slope when all y share a sign (and are non-zero), else 0.
    let alpha0 = if y.iter().all(|&v| v > 0.0) || y.iter().all(|&v| v < 0.0) {
        let ly: Vec<f64> = y.iter().map(|v| v.abs().ln()).collect();
        let design = DMatrix::from_fn(m, 2, |i, j| if j == 0 { 1.0 } else { u[i] });
        linear_regression(&design, &ly, weights, level)
            .map(|f| f.coefficients[1])
            .unwrap_or(0.0)
    } else {
        0.0
    };

    let model = SeparableModelBuilder::<f64>::new(["alpha"])
        .function(["alpha"], |u: &DVector<f64>, a: f64| {
            u.map(|x| (a * x).exp())
        })
        .partial_deriv("alpha", |u: &DVector<f64>, a: f64| {
            u.map(|x| x * (a * x).exp())
        })
        .independent_variable(DVector::from_vec(u))
        .initial_parameters(vec![alpha0])
        .build()
        .map_err(|e| Error::NoConvergence {
            what: WHAT,
            detail: format!("model construction failed: {e}"),
        })?;
    let mut builder =
        SeparableProblemBuilder::new(model).observations(DVector::from_column_slice(y));
    if let Some(w) = weights {
        // varpro multiplies residuals by the weights: pass √w for Σ w r².
        builder = builder.weights(DVector::from_iterator(m, w.iter().map(|w| w.sqrt())));
    }
    let problem = builder.build().map_err(|e| Error::NoConvergence {
        what: WHAT,
        detail: format!("problem construction failed: {e}"),
    })?;
    // ftol = 0: stop on the step size (xtol = 30ε relative) or the gradient instead of the relative
    // reduction of the objective, which would leave α off by ~√ε·se.
    let solver = LevMarSolver::with_solver(LevenbergMarquardt::new().with_ftol(0.0));
    let result = match solver.solve(problem) {
        Ok(r) => r,
        Err(r) => {
            use levenberg_marquardt::TerminationReason as T;
            // At machine precision the tolerance test can fail although the optimum is reached.
            match &r.minimization_report.termination {
                T::NoImprovementPossible(_) => r,
                other => {
                    return Err(Error::NoConvergence {
                        what: WHAT,
                        detail: format!("{other:?}"),
                    });
                }
            }
        }
    };
    let alpha = result.nonlinear_parameters()[0];
    let c_ref = result
        .linear_coefficients()
        .map(|c| c[0])
        .ok_or_else(|| Error::NoConvergence {
            what: WHAT,
            detail: "no linear coefficient".into(),
        })?;
    let stats = FitStatistics::try_from(&result).map_err(|e| Error::Singular {
        what: match e {
            varpro::statistics::Error::MatrixInversion => {
                "power-law fit (singular Jacobian at the optimum)"
            }
            _ => "power-law fit (statistics)",
        },
        condition: f64::INFINITY,
    })?;
    let cov = stats.covariance_matrix(); // order (C_ref, α)
    let (v_cc, v_ca, v_aa) = (cov[(0, 0)], cov[(0, 1)], cov[(1, 1)]);
    let e = (-alpha * l_ref).exp();
    let c = c_ref * e;
    let log_c = c_ref.abs().ln() - alpha * l_ref;
    // (C, α) = g(C_ref, α), J = [[e, −C L̄], [0, 1]].
    let var_c = e * e * v_cc - 2.0 * e * c * l_ref * v_ca + c * c * l_ref * l_ref * v_aa;
    let cov_c_alpha = e * v_ca - c * l_ref * v_aa;
    let c_se = var_c.max(0.0).sqrt();
    let alpha_se = v_aa.max(0.0).sqrt();
    check_output(PowerLawFit {
        c,
        log_c,
        alpha,
        c_se,
        alpha_se,
        c_ci: (c - t * c_se, c + t * c_se),
        alpha_ci: (alpha - t * alpha_se, alpha + t * alpha_se),
        cov_c_alpha,
        log_n_ref: l_ref,
        c_ref,
        residual_sd: stats.regression_standard_error(),
        dof: m - 2,
        n_points: m,
        level,
        method: Method::NonlinearLeastSquares,
    })
}

/// (b) Least squares of log y on log n; abscissa n (> 0), y > 0.
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

/// (b) Least squares of `log y` on `log n`, both given as logarithms (so y may lie outside the f64
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
        method: Method::LogLinearOls,
    })
}

/// Both estimates, (a) and (b), of y = C·n^α (n > 0, y > 0).
///
/// `weights`, if given, are relative inverse variances of y: the nonlinear fit uses them as they
/// are, the log fit uses `w_i·y_i²`, the delta-method inverse variance of log y. Without weights,
/// (a) assumes equal absolute and (b) equal relative errors.
///
/// # Errors
/// The first error of either fit.
pub fn fit_both(n: &[f64], y: &[f64], weights: Option<&[f64]>, level: f64) -> Result<PowerLawFits> {
    check_len("y", y, n.len())?;
    check_weights(weights, n.len())?;
    let log_weights: Option<Vec<f64>> =
        weights.map(|w| w.iter().zip(y).map(|(w, y)| w * y * y).collect());
    Ok(PowerLawFits {
        ols: fit_log_ols(n, y, log_weights.as_deref(), level)?,
        nls: fit_nls(n, y, weights, level)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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

    fn rel(a: f64, b: f64) -> f64 {
        (a - b).abs() / b.abs().max(1e-300)
    }

    #[test]
    fn exact_power_laws_recovered_by_both_methods() {
        for &(c, alpha) in &[(1.0, -0.4), (2.5, 0.5), (0.3, -1.0), (7.0, 2.0), (1.0, 0.0)] {
            let n = sizes();
            let y: Vec<f64> = n.iter().map(|n| c * n.powf(alpha)).collect();
            let fits = fit_both(&n, &y, None, 0.95).unwrap();
            for fit in [&fits.nls, &fits.ols] {
                assert!((fit.alpha - alpha).abs() < 1e-10, "{fit:?}");
                assert!(rel(fit.c, c) < 1e-10, "{fit:?}");
                assert!((fit.log_c - c.ln()).abs() < 1e-10, "{fit:?}");
                assert!(fit.alpha_se < 1e-9, "{fit:?}");
                let y_max = y.iter().fold(0f64, |a, b| a.max(b.abs()));
                let scale = if fit.method == Method::LogLinearOls {
                    1.0
                } else {
                    y_max
                };
                assert!(fit.residual_sd < 1e-12 * scale, "{fit:?}");
                assert!(fit.alpha_ci.0 <= fit.alpha && fit.alpha <= fit.alpha_ci.1);
                assert!(fit.c_ci.0 <= fit.c && fit.c <= fit.c_ci.1);
                assert_eq!((fit.n_points, fit.dof), (9, 7));
                assert!(rel(fit.predict(100.0), c * 100f64.powf(alpha)) < 1e-9);
            }
            assert_eq!(fits.nls.method, Method::NonlinearLeastSquares);
            assert_eq!(fits.ols.method, Method::LogLinearOls);
        }
    }

    #[test]
    fn nls_handles_negative_amplitude_and_weights() {
        let n = sizes();
        let y: Vec<f64> = n.iter().map(|n| -3.0 * n.powf(-0.7)).collect();
        let w: Vec<f64> = (0..n.len()).map(|i| 1.0 + i as f64).collect();
        let fit = fit_nls(&n, &y, Some(&w), 0.9).unwrap();
        assert!(
            (fit.alpha + 0.7).abs() < 1e-10 && rel(fit.c, -3.0) < 1e-10,
            "{fit:?}"
        );
        assert!((fit.log_c - 3f64.ln()).abs() < 1e-10);
    }

    #[test]
    fn log_domain_fit_beyond_f64_range() {
        // n from 1e50 to 1e300, y = 2 n^{-2}: y underflows f64, log y does not.
        let log_n: Vec<f64> = (1..=6).map(|k| (50.0 * k as f64) * 10f64.ln()).collect();
        let log_y: Vec<f64> = log_n.iter().map(|l| 2f64.ln() - 2.0 * l).collect();
        let fit = fit_log_ols_logs(&log_n, &log_y, None, 0.95).unwrap();
        assert!((fit.alpha + 2.0).abs() < 1e-12, "{fit:?}");
        assert!((fit.log_c - 2f64.ln()).abs() < 1e-9, "{fit:?}");
        // And the NLS path with n given as log n (y representable: alpha small).
        let y: Vec<f64> = log_n.iter().map(|l| 3.0 * (-0.001 * l).exp()).collect();
        let fit = fit_nls_log_n(&log_n, &y, None, 0.95).unwrap();
        assert!(
            (fit.alpha + 0.001).abs() < 1e-12 && rel(fit.c, 3.0) < 1e-10,
            "{fit:?}"
        );
    }

    /// Empirical coverage of the α interval over `reps` seeded replications.
    fn coverage(reps: usize, seed: u64, multiplicative: bool) -> f64 {
        let (c, alpha, sigma) = (2.0, -0.6, 0.05);
        let n: Vec<f64> = (0..12).map(|k| 10f64 * 1.6f64.powi(k)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut hits = 0;
        for _ in 0..reps {
            let y: Vec<f64> = n
                .iter()
                .map(|n| {
                    let e: f64 = rng.sample(StandardNormal);
                    let m = c * n.powf(alpha);
                    if multiplicative {
                        m * (sigma * e).exp()
                    } else {
                        m + sigma * 0.05 * e
                    }
                })
                .collect();
            let fit = if multiplicative {
                fit_log_ols(&n, &y, None, 0.95)
            } else {
                fit_nls(&n, &y, None, 0.95)
            }
            .unwrap();
            if crate::stats::contains(fit.alpha_ci, alpha) {
                hits += 1;
            }
        }
        hits as f64 / reps as f64
    }

    #[test]
    fn nls_interval_covers_at_nominal_rate() {
        let cov = coverage(200, 11, false);
        assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
    }

    #[test]
    fn log_ols_interval_covers_at_nominal_rate() {
        let cov = coverage(200, 12, true);
        assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
    }

    #[test]
    fn degenerate_input_is_an_error() {
        let n = [10.0, 100.0, 1000.0];
        let y = [1.0, 2.0, 3.0];
        assert!(matches!(
            fit_nls(&n[..2], &y[..2], None, 0.95),
            Err(Error::TooFewPoints {
                needed: 3,
                got: 2,
                ..
            })
        ));
        assert!(matches!(
            fit_nls(&n, &y[..2], None, 0.95),
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
            fit_nls(&[10.0, 0.0, 5.0], &y, None, 0.95),
            Err(Error::NonPositive {
                what: "n",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            fit_nls(&n, &[1.0, f64::NAN, 3.0], None, 0.95),
            Err(Error::NonFinite {
                what: "y",
                index: 1,
                ..
            })
        ));
        for f in [fit_nls, fit_log_ols] {
            assert!(matches!(
                f(&[5.0, 5.0, 5.0], &y, None, 0.95),
                Err(Error::Singular { .. })
            ));
            assert!(matches!(f(&n, &y, None, 1.5), Err(Error::BadLevel { .. })));
            assert!(matches!(
                f(&n, &y, Some(&[1.0, 0.0, 1.0]), 0.95),
                Err(Error::BadWeight { index: 1, .. })
            ));
        }
        assert!(matches!(
            fit_nls(&n, &[0.0, 0.0, 0.0], None, 0.95),
            Err(Error::Singular { .. })
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
            let y: Vec<f64> = log_n.iter().map(|l| c * (alpha * l).exp()).collect();
            let log_y: Vec<f64> = y.iter().map(|y| y.ln()).collect();
            let nls = fit_nls_log_n(&log_n, &y, None, 0.95).unwrap();
            let ols = fit_log_ols_logs(&log_n, &log_y, None, 0.95).unwrap();
            for fit in [nls, ols] {
                prop_assert!((fit.alpha - alpha).abs() < 1e-10, "{:?}", fit);
                prop_assert!(rel(fit.c, c) < 1e-9, "{:?}", fit);
            }
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
            for f in [fit_nls, fit_log_ols] {
                let a = f(&n, &y, Some(&w), 0.95).unwrap();
                let b = f(&n, &y, Some(&ws), 0.95).unwrap();
                // Minimising a sum of squares evaluated in f64 locates the optimum to ~√ε of the
                // objective's curvature scale: far below the statistical error.
                prop_assert!((a.alpha - b.alpha).abs() < 1e-6 * a.alpha_se);
                prop_assert!(
                    (a.alpha_se - b.alpha_se).abs() < 1e-6 * a.alpha_se,
                    "{:?} {:?} {:?}", a.method, a.alpha_se, b.alpha_se
                );
            }
        }

        #[test]
        fn intervals_are_ordered_and_widen_with_level(seed in 0u64..1000) {
            let n = sizes();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let y: Vec<f64> = n.iter().map(|n| {
                let e: f64 = rng.sample(StandardNormal);
                1.5 * n.powf(-0.5) * (0.1 * e).exp()
            }).collect();
            for f in [fit_nls, fit_log_ols] {
                let lo = f(&n, &y, None, 0.8).unwrap();
                let hi = f(&n, &y, None, 0.99).unwrap();
                prop_assert!(lo.alpha_ci.0 < lo.alpha && lo.alpha < lo.alpha_ci.1);
                prop_assert!(lo.c_ci.0 < lo.c && lo.c < lo.c_ci.1);
                prop_assert!(hi.alpha_ci.0 < lo.alpha_ci.0 && lo.alpha_ci.1 < hi.alpha_ci.1);
            }
            let both = fit_both(&n, &y, None, 0.99).unwrap();
            prop_assert!(both.alphas_agree(), "{:?}", both);
        }
    }
}
