//! Transition width versus log n.
//!
//! In the simplex the critical window has width Δγ ≍ 1/((1−ρ) log n) (THEORY §5): the transition
//! sharpens only logarithmically. Measure it per n as the distance between the γ's at which an
//! observable crosses two levels (e.g. λ = 0.25 and λ = 0.75, [`transition_width`]), then fit
//!
//! `width = k·(log n)^e`
//!
//! — a power law in x = log n — by least squares of `log width` on `log log n` ([`fit_width`],
//! with [`crate::powerlaw`]). The prediction is e = −1; the fit reports e with its CI.

use crate::error::{Error, Result};
use crate::powerlaw::{PowerLawFit, fit_log_ols_logs};
use crate::stats::{check_finite, check_len, check_positive};
use crate::threshold::{Crossing, Policy, refine, scan};

/// The fit width = k·(log n)^e.
#[derive(Debug, Clone, PartialEq)]
pub struct WidthFit {
    /// log n of each point.
    pub log_n: Vec<f64>,
    /// The widths |γ_hi − γ_lo|.
    pub widths: Vec<f64>,
    /// The log–log estimate: `alpha` is the exponent e and `c` the prefactor k.
    pub fit: PowerLawFit,
}

impl WidthFit {
    /// Whether `e` lies in the CI of the exponent.
    pub fn exponent_consistent_with(&self, e: f64) -> bool {
        crate::stats::contains(self.fit.alpha_ci, e)
    }
}

/// The widths `|γ_hi,i − γ_lo,i|`, each required to be > 0.
///
/// # Errors
/// [`Error::LengthMismatch`], [`Error::NonFinite`], or [`Error::NonPositive`] for a zero width.
pub fn widths(gamma_lo: &[f64], gamma_hi: &[f64]) -> Result<Vec<f64>> {
    check_len("gamma_hi", gamma_hi, gamma_lo.len())?;
    check_finite("gamma_lo", gamma_lo)?;
    check_finite("gamma_hi", gamma_hi)?;
    let w: Vec<f64> = gamma_lo
        .iter()
        .zip(gamma_hi)
        .map(|(a, b)| (b - a).abs())
        .collect();
    check_positive("width", &w)?;
    Ok(w)
}

/// Fit width = k·(log n)^e from the two crossing points per n.
///
/// `log_n` are natural logs of the sizes (each > 0); `gamma_lo[i]`, `gamma_hi[i]` the γ's at which
/// the observable crosses the two levels at that n; `weights` optional relative inverse variances
/// of the widths (the log–log fit uses `w_i·width_i²`, the delta-method inverse variance of
/// log width); at least 3 points. Without weights it assumes equal relative errors.
///
/// # Errors
/// Bad or degenerate input as in [`widths`] and [`fit_log_ols_logs`].
pub fn fit_width(
    log_n: &[f64],
    gamma_lo: &[f64],
    gamma_hi: &[f64],
    weights: Option<&[f64]>,
    level: f64,
) -> Result<WidthFit> {
    check_len("gamma_lo", gamma_lo, log_n.len())?;
    let w = widths(gamma_lo, gamma_hi)?;
    check_positive("log_n", log_n)?;
    let log_log_n: Vec<f64> = log_n.iter().map(|l| l.ln()).collect();
    let log_w: Vec<f64> = w.iter().map(|w| w.ln()).collect();
    // Var(log w) ≈ Var(w)/w²: the log fit's weights are w_i·width_i² (delta method).
    let log_weights: Option<Vec<f64>> =
        weights.map(|u| u.iter().zip(&w).map(|(u, w)| u * w * w).collect());
    let fit = fit_log_ols_logs(&log_log_n, &log_w, log_weights.as_deref(), level)?;
    Ok(WidthFit {
        log_n: log_n.to_vec(),
        widths: w,
        fit,
    })
}

/// The width of a transition at one n: where f crosses each of two levels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransitionWidth {
    /// The crossing of the first level.
    pub first: Crossing,
    /// The crossing of the second level.
    pub second: Crossing,
    /// |second.root − first.root|.
    pub width: f64,
    /// A rigorous bound on the bisection error of `width`: (first.width + second.width)/2.
    pub uncertainty: f64,
}

/// Find where f crosses `levels.0` and `levels.1` on one shared scan of `grid` (f is evaluated once
/// per grid point), bisect each to `xtol`, and return the distance between them.
///
/// # Errors
/// As [`crate::threshold::find_crossing`] for each level; [`Error::BadParameter`] if the two
/// levels are equal.
pub fn transition_width(
    mut f: impl FnMut(f64) -> f64,
    levels: (f64, f64),
    grid: &[f64],
    xtol: f64,
    policy: Policy,
) -> Result<TransitionWidth> {
    if levels.0 == levels.1 {
        return Err(Error::BadParameter {
            what: "second level",
            value: levels.1,
            valid: "different from the first level",
        });
    }
    let s = scan(&mut f, grid)?;
    let first = refine(&mut f, &s, levels.0, xtol, policy)?;
    let second = refine(&mut f, &s, levels.1, xtol, policy)?;
    Ok(TransitionWidth {
        first,
        second,
        width: (second.root - first.root).abs(),
        uncertainty: 0.5 * (first.width + second.width),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::threshold::linspace;
    use approx::abs_diff_eq;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// The simplex self weight p(γ) = σ(γ(1−ρ) log n − log(n−1)) (THEORY §5) crosses 1/4 and 3/4
    /// at γ(1−ρ) log n − log(n−1) = ∓ln 3: the width is exactly 2 ln 3 / ((1−ρ) log n).
    #[test]
    fn simplex_self_weight_width_scales_as_inverse_log_n() {
        let rho: f64 = 0.3;
        let grid = linspace(0.2, 4.0, 39).unwrap();
        let (mut log_n, mut lo, mut hi) = (vec![], vec![], vec![]);
        for k in [2, 3, 4, 6, 8, 12, 16] {
            let ln_n = k as f64 * 10f64.ln();
            let ln_n1 = (10f64.powi(k) - 1.0).ln();
            let p = |g: f64| 1.0 / (1.0 + (ln_n1 - g * (1.0 - rho) * ln_n).exp());
            let tw = transition_width(p, (0.25, 0.75), &grid, 1e-14, Policy::Unique).unwrap();
            let want = 2.0 * 3f64.ln() / ((1.0 - rho) * ln_n);
            assert!(
                abs_diff_eq!(tw.width, want, epsilon = 1e-12) && tw.uncertainty <= 1e-14,
                "{tw:?}"
            );
            log_n.push(ln_n);
            lo.push(tw.first.root);
            hi.push(tw.second.root);
        }
        let fit = fit_width(&log_n, &lo, &hi, None, 0.95).unwrap();
        let f = &fit.fit;
        assert!(abs_diff_eq!(f.alpha, -1.0, epsilon = 1e-10), "{f:?}");
        assert!(
            abs_diff_eq!(f.c, 2.0 * 3f64.ln() / (1.0 - rho), epsilon = 1e-9),
            "{f:?}"
        );
        assert!(fit.exponent_consistent_with(-1.0));
    }

    #[test]
    fn noisy_widths_give_minus_one_within_the_interval() {
        let log_n: Vec<f64> = (1..=10).map(|k| (k as f64 * 3.0).max(2.0)).collect();
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let (mut hits, reps) = (0, 200);
        for _ in 0..reps {
            let lo: Vec<f64> = log_n.iter().map(|_| 1.0).collect();
            let hi: Vec<f64> = log_n
                .iter()
                .map(|l| 1.0 + 2.0 / l * (0.03 * rng.sample::<f64, _>(StandardNormal)).exp())
                .collect();
            let fit = fit_width(&log_n, &lo, &hi, None, 0.95).unwrap();
            // Log-normal noise: the log-log fit is the correctly specified one.
            hits += fit.exponent_consistent_with(-1.0) as usize;
        }
        let cov = hits as f64 / reps as f64;
        assert!((0.88..=0.99).contains(&cov), "coverage {cov}");
    }

    #[test]
    fn degenerate_widths_are_errors() {
        assert!(matches!(
            fit_width(
                &[2.0, 3.0, 4.0],
                &[1.0, 1.0, 1.0],
                &[1.5, 1.0, 1.2],
                None,
                0.95
            ),
            Err(Error::NonPositive {
                what: "width",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            fit_width(
                &[2.0, -3.0, 4.0],
                &[1.0, 1.0, 1.0],
                &[1.5, 1.1, 1.2],
                None,
                0.95
            ),
            Err(Error::NonPositive {
                what: "log_n",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            fit_width(&[2.0, 3.0], &[1.0, 1.0], &[1.5, 1.1], None, 0.95),
            Err(Error::TooFewPoints { .. })
        ));
        assert!(matches!(
            fit_width(&[2.0, 3.0, 4.0], &[1.0, 1.0], &[1.5, 1.1, 1.2], None, 0.95),
            Err(Error::LengthMismatch { .. })
        ));
        let grid = [0.0, 1.0];
        assert!(matches!(
            transition_width(|x| x, (0.5, 0.5), &grid, 1e-9, Policy::Unique),
            Err(Error::BadParameter { .. })
        ));
        // The second level is never reached: an error, not a width.
        assert!(matches!(
            transition_width(|x| x, (0.5, 2.0), &grid, 1e-9, Policy::Unique),
            Err(Error::NoCrossing { level: 2.0, .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn exact_width_laws_recovered(
            k in 0.01f64..10.0,
            e in -2.0f64..0.5,
            logs in prop::collection::btree_set(2u32..300, 3..9),
        ) {
            let log_n: Vec<f64> = logs.iter().map(|&l| l as f64 * 0.5).collect();
            let lo: Vec<f64> = log_n.iter().map(|l| 1.0 + 0.01 * l).collect();
            let hi: Vec<f64> = log_n.iter().zip(&lo).map(|(l, a)| a + k * l.powf(e)).collect();
            let fit = fit_width(&log_n, &lo, &hi, None, 0.95).unwrap();
            // The widths are differences of O(1) numbers: ~1e-16 absolute error each.
            let tol = 1e-9 * (1.0 + 1.0 / k);
            prop_assert!(abs_diff_eq!(fit.fit.alpha, e, epsilon = tol), "{:?}", fit.fit);
        }
    }
}
