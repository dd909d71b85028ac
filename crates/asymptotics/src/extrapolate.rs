//! Weighted linear least squares with confidence intervals, and the finite-size extrapolation
//! γ*(n) = a + b / log n.
//!
//! # Linear regression
//!
//! Model `y_i = Σ_j X_ij β_j + ε_i` with `ε_i ~ N(0, σ²/w_i)` (weights `w_i > 0` are relative
//! inverse variances; unit weights by default). The estimate minimises `Σ_i w_i (y_i − (Xβ)_i)²`:
//! with `W = diag(w)`,
//!
//! * `β̂ = (XᵀWX)⁻¹ XᵀW y`,
//! * `σ̂² = Σ_i w_i r_i² / (m − p)` (m points, p coefficients, `ν = m − p` degrees of freedom),
//! * `Cov(β̂) = σ̂² (XᵀWX)⁻¹`, `se_j = √Cov_jj`,
//! * CI at level L: `β̂_j ± t_{ν,(1+L)/2} se_j`.
//!
//! Because σ² is estimated from the residuals, the weights only matter up to a common factor.
//!
//! Numerically the normal equations are never formed: the rows are scaled by `√w_i`, the columns
//! by their norms (equilibration), and the scaled design is factored by an SVD
//! `X_s = U Σ Vᵀ`; then `β̂_s = V Σ⁻¹ Uᵀ y_w` and `(X_sᵀX_s)⁻¹ = V Σ⁻² Vᵀ`, followed by one step
//! of iterative refinement. A design whose scaled condition number σ_max/σ_min exceeds
//! `1 / (max(m, p)·ε)` (numpy's rank tolerance) is rejected as [`Error::Singular`].
//!
//! # Extrapolation in 1/log n
//!
//! A finite-n threshold estimate approaches the critical value logarithmically (THEORY §5):
//! `γ*(n) = a + b / log n + o(1/log n)`. [`fit_inverse_log`] is the linear regression of γ* on the
//! design `[1, 1/log n]`; `a` is the n → ∞ limit (to compare with γ_c = 1/(1−ρ)), with its CI.
//! The abscissa is given as `log n` (natural log), never as n, so n may exceed the f64 range.

use crate::error::{Error, Result};
use crate::stats::{check_finite, check_len, check_positive, check_weights, t_critical};
use nalgebra::{DMatrix, DVector};

/// The result of a weighted linear least-squares fit.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearFit {
    /// β̂, one per design column.
    pub coefficients: Vec<f64>,
    /// Standard errors √Cov_jj.
    pub standard_errors: Vec<f64>,
    /// Two-sided confidence intervals at `level`.
    pub cis: Vec<(f64, f64)>,
    /// Cov(β̂) = σ̂²(XᵀWX)⁻¹, p × p.
    pub covariance: DMatrix<f64>,
    /// σ̂ = √(Σ w_i r_i² / ν).
    pub residual_sd: f64,
    /// The weighted residuals `√w_i (y_i − (Xβ̂)_i)`.
    pub residuals: Vec<f64>,
    /// ν = m − p.
    pub dof: usize,
    /// m.
    pub n_points: usize,
    /// The confidence level of `cis`.
    pub level: f64,
    /// The Student-t critical value used, `t_{ν,(1+level)/2}`.
    pub t_critical: f64,
    /// Condition number of the column-scaled, row-weighted design.
    pub condition: f64,
}

impl LinearFit {
    /// The fitted mean response `xᵀβ̂` at a design row `x`.
    ///
    /// # Panics
    /// If `x.len()` differs from the number of coefficients.
    pub fn predict(&self, x: &[f64]) -> f64 {
        assert_eq!(x.len(), self.coefficients.len(), "design row length");
        x.iter().zip(&self.coefficients).map(|(a, b)| a * b).sum()
    }

    /// Standard error of the fitted mean response at `x`: `√(xᵀ Cov(β̂) x)`.
    ///
    /// # Panics
    /// If `x.len()` differs from the number of coefficients.
    pub fn predict_se(&self, x: &[f64]) -> f64 {
        assert_eq!(x.len(), self.coefficients.len(), "design row length");
        let v = DVector::from_column_slice(x);
        (v.dot(&(&self.covariance * &v))).max(0.0).sqrt()
    }
}

/// Weighted least squares `y ≈ Xβ` with covariance and CIs at `level` (see the module docs).
///
/// `design` is m × p (one row per point); `weights`, if given, are relative inverse variances.
///
/// # Errors
/// [`Error::TooFewPoints`] unless m ≥ p + 1 (one residual degree of freedom is needed for σ̂);
/// [`Error::LengthMismatch`], [`Error::NonFinite`], [`Error::BadWeight`], [`Error::BadLevel`] for
/// bad input; [`Error::Singular`] for a rank-deficient design.
pub fn linear_regression(
    design: &DMatrix<f64>,
    y: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<LinearFit> {
    const WHAT: &str = "linear regression";
    let (m, p) = design.shape();
    if p == 0 {
        return Err(Error::BadParameter {
            what: "design columns",
            value: 0.0,
            valid: "at least 1",
        });
    }
    check_len("y", y, m)?;
    if m < p + 1 {
        return Err(Error::TooFewPoints {
            what: WHAT,
            needed: p + 1,
            got: m,
        });
    }
    check_finite("design", design.as_slice())?;
    check_finite("y", y)?;
    check_weights(weights, m)?;
    let t = t_critical(level, m - p)?;

    let sw: Vec<f64> = match weights {
        Some(w) => w.iter().map(|w| w.sqrt()).collect(),
        None => vec![1.0; m],
    };
    let xw = DMatrix::from_fn(m, p, |i, j| sw[i] * design[(i, j)]);
    let yw = DVector::from_fn(m, |i, _| sw[i] * y[i]);
    let norms: Vec<f64> = (0..p).map(|j| xw.column(j).norm()).collect();
    if let Some(_j) = norms.iter().position(|&d| !(d > 0.0 && d.is_finite())) {
        return Err(Error::Singular {
            what: WHAT,
            condition: f64::INFINITY,
        });
    }
    let xs = DMatrix::from_fn(m, p, |i, j| xw[(i, j)] / norms[j]);
    let svd = xs.clone().svd(true, true);
    let s = &svd.singular_values;
    let smax = s.max();
    let smin = s.min();
    let condition = if smin > 0.0 {
        smax / smin
    } else {
        f64::INFINITY
    };
    if smin.is_nan() || smin <= smax * (m.max(p) as f64) * f64::EPSILON {
        return Err(Error::Singular {
            what: WHAT,
            condition,
        });
    }
    let u = svd.u.as_ref().expect("svd computed with u");
    let v_t = svd.v_t.as_ref().expect("svd computed with v_t");
    let solve = |rhs: &DVector<f64>| -> DVector<f64> {
        let mut z = u.transpose() * rhs;
        for (zi, si) in z.iter_mut().zip(s.iter()) {
            *zi /= si;
        }
        v_t.transpose() * z
    };
    // β̂_s, then one step of iterative refinement on the residual.
    let mut beta_s = solve(&yw);
    let r0 = &yw - &xs * &beta_s;
    beta_s += solve(&r0);
    let residual = &yw - &xs * &beta_s;
    let rss = residual.norm_squared();
    let dof = m - p;
    let sigma2 = rss / dof as f64;

    // (X_sᵀX_s)⁻¹ = V Σ⁻² Vᵀ, then undo the column scaling.
    let mut vs = v_t.transpose();
    for (j, si) in s.iter().enumerate() {
        vs.column_mut(j).scale_mut(1.0 / si);
    }
    let inv_s = &vs * vs.transpose();
    let covariance = DMatrix::from_fn(p, p, |i, j| sigma2 * inv_s[(i, j)] / (norms[i] * norms[j]));
    let coefficients: Vec<f64> = (0..p).map(|j| beta_s[j] / norms[j]).collect();
    let standard_errors: Vec<f64> = (0..p).map(|j| covariance[(j, j)].max(0.0).sqrt()).collect();
    let cis = coefficients
        .iter()
        .zip(&standard_errors)
        .map(|(b, se)| (b - t * se, b + t * se))
        .collect();
    Ok(LinearFit {
        coefficients,
        standard_errors,
        cis,
        covariance,
        residual_sd: sigma2.sqrt(),
        residuals: residual.iter().copied().collect(),
        dof,
        n_points: m,
        level,
        t_critical: t,
        condition,
    })
}

/// The fit γ*(n) = a + b / log n.
#[derive(Debug, Clone, PartialEq)]
pub struct InverseLogFit {
    /// a, the n → ∞ limit.
    pub a: f64,
    /// b, the coefficient of 1/log n.
    pub b: f64,
    /// Standard error of a.
    pub a_se: f64,
    /// Standard error of b.
    pub b_se: f64,
    /// CI of a at `level`.
    pub a_ci: (f64, f64),
    /// CI of b at `level`.
    pub b_ci: (f64, f64),
    /// Cov(a, b).
    pub cov_ab: f64,
    /// σ̂, in the units of γ (weighted).
    pub residual_sd: f64,
    /// Residual degrees of freedom, m − 2.
    pub dof: usize,
    /// Number of points m.
    pub n_points: usize,
    /// The confidence level.
    pub level: f64,
    /// The underlying regression on the design `[1, 1/log n]`.
    pub regression: LinearFit,
}

impl InverseLogFit {
    /// The fitted γ*(n) = a + b / log n at a given `log n`.
    pub fn predict(&self, log_n: f64) -> f64 {
        self.a + self.b / log_n
    }
}

/// Fit γ*(n) = a + b / log n by (weighted) least squares, with CIs at `level`.
///
/// `log_n` holds the natural logarithms of the sizes (each > 0, i.e. n > 1), `gamma` the threshold
/// estimates, `weights` optional relative inverse variances (e.g. 1/se² of each γ*).
///
/// # Errors
/// Fewer than 3 points, non-positive or non-finite `log_n`, non-finite `gamma`, bad weights or
/// level, or all `log_n` equal ([`Error::Singular`]).
pub fn fit_inverse_log(
    log_n: &[f64],
    gamma: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<InverseLogFit> {
    let m = log_n.len();
    check_len("gamma", gamma, m)?;
    if m < 3 {
        return Err(Error::TooFewPoints {
            what: "fit gamma = a + b/log n",
            needed: 3,
            got: m,
        });
    }
    check_positive("log_n", log_n)?;
    let design = DMatrix::from_fn(m, 2, |i, j| if j == 0 { 1.0 } else { 1.0 / log_n[i] });
    let regression = linear_regression(&design, gamma, weights, level).map_err(|e| match e {
        Error::Singular { condition, .. } => Error::Singular {
            what: "fit gamma = a + b/log n (all log n equal?)",
            condition,
        },
        e => e,
    })?;
    Ok(InverseLogFit {
        a: regression.coefficients[0],
        b: regression.coefficients[1],
        a_se: regression.standard_errors[0],
        b_se: regression.standard_errors[1],
        a_ci: regression.cis[0],
        b_ci: regression.cis[1],
        cov_ab: regression.covariance[(0, 1)],
        residual_sd: regression.residual_sd,
        dof: regression.dof,
        n_points: m,
        level,
        regression,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    #[test]
    fn simple_regression_matches_closed_form() {
        // y = b0 + b1 x: b1 = Sxy/Sxx, b0 = ȳ − b1 x̄, Var(b1) = σ̂²/Sxx,
        // Var(b0) = σ̂²(1/m + x̄²/Sxx), Cov = −x̄ σ̂²/Sxx.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let y = [2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8];
        let m = x.len() as f64;
        let (xb, yb) = (x.iter().sum::<f64>() / m, y.iter().sum::<f64>() / m);
        let sxx: f64 = x.iter().map(|x| (x - xb).powi(2)).sum();
        let sxy: f64 = x.iter().zip(&y).map(|(x, y)| (x - xb) * (y - yb)).sum();
        let b1 = sxy / sxx;
        let b0 = yb - b1 * xb;
        let rss: f64 = x
            .iter()
            .zip(&y)
            .map(|(x, y)| (y - b0 - b1 * x).powi(2))
            .sum();
        let s2 = rss / (m - 2.0);
        let design = DMatrix::from_fn(7, 2, |i, j| if j == 0 { 1.0 } else { x[i] });
        let fit = linear_regression(&design, &y, None, 0.95).unwrap();
        let close = |a: f64, b: f64| abs_diff_eq!(a, b, epsilon = 1e-12 * b.abs().max(1.0));
        assert!(close(fit.coefficients[0], b0) && close(fit.coefficients[1], b1));
        assert!(close(fit.covariance[(1, 1)], s2 / sxx));
        assert!(close(
            fit.covariance[(0, 0)],
            s2 * (1.0 / m + xb * xb / sxx)
        ));
        assert!(close(fit.covariance[(0, 1)], -xb * s2 / sxx));
        assert!(close(fit.residual_sd, s2.sqrt()));
        let t = 2.570581835636314; // qt(0.975, 5)
        assert_abs_diff_eq!(fit.cis[1].1, b1 + t * (s2 / sxx).sqrt(), epsilon = 1e-8);
        assert_eq!((fit.dof, fit.n_points), (5, 7));
        assert!(close(fit.predict(&[1.0, 2.5]), b0 + 2.5 * b1));
        let se_mean = (s2 * (1.0 / m + (2.5 - xb).powi(2) / sxx)).sqrt();
        assert!(close(fit.predict_se(&[1.0, 2.5]), se_mean));
    }

    #[test]
    fn exact_polynomial_recovered() {
        let x: Vec<f64> = (0..20).map(|i| -1.0 + 0.1 * i as f64).collect();
        let beta = [0.5, -2.0, 3.0, 0.25];
        let design = DMatrix::from_fn(20, 4, |i, j| x[i].powi(j as i32));
        let y: Vec<f64> = (0..20)
            .map(|i| (0..4).map(|j| beta[j] * design[(i, j)]).sum())
            .collect();
        let fit = linear_regression(&design, &y, None, 0.95).unwrap();
        for (got, want) in fit.coefficients.iter().zip(beta) {
            assert!(abs_diff_eq!(*got, want, epsilon = 1e-12), "{fit:?}");
        }
    }

    #[test]
    fn inverse_log_recovers_a_and_b() {
        let log_n: Vec<f64> = [1e2, 1e3, 1e4, 1e5, 1e6]
            .iter()
            .map(|n: &f64| n.ln())
            .collect();
        let (a, b) = (1.0 / 0.7, -2.3);
        let g: Vec<f64> = log_n.iter().map(|l| a + b / l).collect();
        let fit = fit_inverse_log(&log_n, &g, None, 0.95).unwrap();
        assert!(
            abs_diff_eq!(fit.a, a, epsilon = 1e-12) && abs_diff_eq!(fit.b, b, epsilon = 1e-11),
            "{fit:?}"
        );
        assert_abs_diff_eq!(fit.predict(20.0), a + b / 20.0, epsilon = 1e-12);
        assert!(fit.a_ci.0 <= fit.a && fit.a <= fit.a_ci.1);
    }

    #[test]
    fn inverse_log_interval_covers_at_nominal_rate() {
        let log_n: Vec<f64> = (0..8).map(|k| (100.0 * 3f64.powi(k)).ln()).collect();
        let (a, b, sigma) = (1.25, 1.7, 0.01);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (mut ha, mut hb) = (0, 0);
        for _ in 0..200 {
            let g: Vec<f64> = log_n
                .iter()
                .map(|l| a + b / l + sigma * rng.sample::<f64, _>(StandardNormal))
                .collect();
            let fit = fit_inverse_log(&log_n, &g, None, 0.95).unwrap();
            ha += crate::stats::contains(fit.a_ci, a) as usize;
            hb += crate::stats::contains(fit.b_ci, b) as usize;
        }
        for h in [ha, hb] {
            let cov = h as f64 / 200.0;
            assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
        }
    }

    #[test]
    fn degenerate_designs_are_errors() {
        let y = [1.0, 2.0, 3.0, 4.0];
        // Collinear columns.
        let d = DMatrix::from_fn(4, 2, |i, j| (i as f64 + 1.0) * (j as f64 + 1.0));
        assert!(matches!(
            linear_regression(&d, &y, None, 0.95),
            Err(Error::Singular { .. })
        ));
        // A zero column.
        let d = DMatrix::from_fn(4, 2, |i, j| if j == 0 { 1.0 } else { 0.0 * i as f64 });
        assert!(matches!(
            linear_regression(&d, &y, None, 0.95),
            Err(Error::Singular { .. })
        ));
        // No residual degree of freedom.
        let d = DMatrix::from_fn(2, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        assert!(matches!(
            linear_regression(&d, &y[..2], None, 0.95),
            Err(Error::TooFewPoints {
                needed: 3,
                got: 2,
                ..
            })
        ));
        let d = DMatrix::from_fn(4, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        assert!(matches!(
            linear_regression(&d, &[1.0, f64::NAN, 1.0, 1.0], None, 0.95),
            Err(Error::NonFinite {
                what: "y",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            linear_regression(&d, &y[..3], None, 0.95),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(matches!(
            fit_inverse_log(&[3.0, 3.0, 3.0], &[1.0, 2.0, 3.0], None, 0.95),
            Err(Error::Singular { .. })
        ));
        assert!(matches!(
            fit_inverse_log(&[3.0, 0.0, 4.0], &[1.0, 2.0, 3.0], None, 0.95),
            Err(Error::NonPositive { what: "log_n", .. })
        ));
        assert!(matches!(
            fit_inverse_log(&[3.0, 4.0], &[1.0, 2.0], None, 0.95),
            Err(Error::TooFewPoints { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn inverse_log_exact_for_any_a_b(
            a in -5.0f64..5.0,
            b in -20.0f64..20.0,
            logs in prop::collection::btree_set(2u32..400, 3..10),
        ) {
            let log_n: Vec<f64> = logs.iter().map(|&l| l as f64 * 0.1 + 0.5).collect();
            let g: Vec<f64> = log_n.iter().map(|l| a + b / l).collect();
            let fit = fit_inverse_log(&log_n, &g, None, 0.9).unwrap();
            prop_assert!(abs_diff_eq!(fit.a, a, epsilon = 1e-9 * (1.0 + b.abs())), "{:?}", fit);
            prop_assert!(abs_diff_eq!(fit.b, b, epsilon = 1e-9 * (1.0 + b.abs()) * 10.0), "{:?}", fit);
        }

        /// An integer weight k on a point gives the same coefficients as k copies of it.
        #[test]
        fn integer_weights_equal_duplicated_points(
            ks in prop::collection::vec(1usize..4, 6),
            seed in 0u64..1000,
        ) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let x: Vec<f64> = (0..6).map(|i| i as f64 * 0.7).collect();
            let y: Vec<f64> = x.iter().map(|x| 1.0 + 0.5 * x + rng.sample::<f64, _>(StandardNormal)).collect();
            let row = |x: f64, j: usize| if j == 0 { 1.0 } else { x };
            let w: Vec<f64> = ks.iter().map(|&k| k as f64).collect();
            let fw = linear_regression(&DMatrix::from_fn(6, 2, |i, j| row(x[i], j)), &y, Some(&w), 0.95).unwrap();
            let (mut xd, mut yd) = (vec![], vec![]);
            for i in 0..6 {
                for _ in 0..ks[i] {
                    xd.push(x[i]);
                    yd.push(y[i]);
                }
            }
            let fd = linear_regression(&DMatrix::from_fn(xd.len(), 2, |i, j| row(xd[i], j)), &yd, None, 0.95).unwrap();
            for j in 0..2 {
                prop_assert!(abs_diff_eq!(fw.coefficients[j], fd.coefficients[j], epsilon = 1e-12));
            }
        }
    }
}
