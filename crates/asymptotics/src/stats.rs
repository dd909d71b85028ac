//! Small statistical helpers shared by the fits: Student-t critical values, sample quantiles,
//! input validation.
//!
//! A two-sided confidence interval at level `L` for a coefficient with standard error `se`,
//! estimated with `ν` residual degrees of freedom, is `θ̂ ± t_{ν, (1+L)/2}·se`, where `t_{ν, p}` is
//! the `p`-quantile of Student's t with `ν` degrees of freedom ([`t_critical`], from `statrs`).

use crate::error::{Error, Result};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// The two-sided critical value `t_{ν, (1+level)/2}` of Student's t with `dof = ν` degrees of
/// freedom: `θ̂ ± t·se` covers θ with probability `level` under Gaussian errors.
///
/// # Errors
/// [`Error::BadLevel`] unless `0 < level < 1`; [`Error::TooFewPoints`] if `dof == 0`.
pub fn t_critical(level: f64, dof: usize) -> Result<f64> {
    check_level(level)?;
    if dof == 0 {
        return Err(Error::TooFewPoints {
            what: "Student-t interval (zero residual degrees of freedom)",
            needed: 1,
            got: 0,
        });
    }
    let p = 0.5 * (1.0 + level);
    if dof > CORNISH_FISHER_DOF {
        return Ok(t_quantile_large_dof(p, dof as f64));
    }
    let t = StudentsT::new(0.0, 1.0, dof as f64).map_err(|_| Error::BadParameter {
        what: "degrees of freedom",
        value: dof as f64,
        valid: "a positive number",
    })?;
    Ok(t.inverse_cdf(p))
}

/// Above this many degrees of freedom `statrs`' inverse incomplete beta loses digits (3e-6 relative
/// at ν = 10⁵, measured against 40-digit mpmath), so the Cornish–Fisher expansion takes over.
const CORNISH_FISHER_DOF: usize = 5_000;

/// Student-t quantile for large ν by the Cornish–Fisher expansion about the normal quantile z
/// (Abramowitz & Stegun 26.7.5): `t = z + g₁/ν + g₂/ν² + g₃/ν³ + g₄/ν⁴` with
/// `g₁ = (z³+z)/4`, `g₂ = (5z⁵+16z³+3z)/96`, `g₃ = (3z⁷+19z⁵+17z³−15z)/384`,
/// `g₄ = (79z⁹+776z⁷+1482z⁵−1920z³−945z)/92160`. The truncation error is O(z¹¹/ν⁵): below 1e-15
/// relative for ν > 5000 and z < 5.
fn t_quantile_large_dof(p: f64, nu: f64) -> f64 {
    use statrs::distribution::Normal;
    let z = Normal::standard().inverse_cdf(p);
    let z2 = z * z;
    let g1 = (z2 + 1.0) * z / 4.0;
    let g2 = ((5.0 * z2 + 16.0) * z2 + 3.0) * z / 96.0;
    let g3 = (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) * z / 384.0;
    let g4 = ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) * z / 92160.0;
    z + (g1 + (g2 + (g3 + g4 / nu) / nu) / nu) / nu
}

/// The `p`-quantile of already sorted (ascending) data, by linear interpolation between order
/// statistics (Hyndman–Fan type 7, the default of R and numpy): with `h = (m − 1)·p`,
/// `Q(p) = x_⌊h⌋ + (h − ⌊h⌋)(x_⌊h⌋+1 − x_⌊h⌋)`.
///
/// # Panics
/// If `sorted` is empty or `p` is outside `[0, 1]` (internal use only, callers validate).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of empty data");
    assert!((0.0..=1.0).contains(&p), "quantile p = {p} outside [0, 1]");
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let frac = h - lo as f64;
    sorted[lo] + frac * (sorted[hi] - sorted[lo])
}

/// Whether the closed interval `ci` contains `x`.
pub fn contains(ci: (f64, f64), x: f64) -> bool {
    ci.0 <= x && x <= ci.1
}

/// `0 < level < 1`, else [`Error::BadLevel`].
pub(crate) fn check_level(level: f64) -> Result<()> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(Error::BadLevel { value: level })
    }
}

/// Every value finite, else [`Error::NonFinite`] naming the first bad one.
pub(crate) fn check_finite(what: &'static str, xs: &[f64]) -> Result<()> {
    match xs.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what,
            index,
            value: xs[index],
        }),
        None => Ok(()),
    }
}

/// Every value finite and > 0, else the first bad one.
pub(crate) fn check_positive(what: &'static str, xs: &[f64]) -> Result<()> {
    check_finite(what, xs)?;
    match xs.iter().position(|&x| x <= 0.0) {
        Some(index) => Err(Error::NonPositive {
            what,
            index,
            value: xs[index],
        }),
        None => Ok(()),
    }
}

/// `xs.len() == expected`, else [`Error::LengthMismatch`].
pub(crate) fn check_len(what: &'static str, xs: &[f64], expected: usize) -> Result<()> {
    if xs.len() == expected {
        Ok(())
    } else {
        Err(Error::LengthMismatch {
            what,
            expected,
            got: xs.len(),
        })
    }
}

/// Optional weights: one per point, each finite and > 0.
pub(crate) fn check_weights(weights: Option<&[f64]>, n: usize) -> Result<()> {
    if let Some(w) = weights {
        check_len("weights", w, n)?;
        if let Some(index) = w.iter().position(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(Error::BadWeight {
                index,
                value: w[index],
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;

    #[test]
    #[allow(clippy::excessive_precision)] // the references are kept as printed, to 20 digits
    fn t_critical_matches_tables() {
        // Reference values: 40-digit mpmath (inverse of the regularised incomplete beta).
        let cases = [
            (0.95, 1, 12.706204736174693314),
            (0.95, 2, 4.3026527297494617894),
            (0.95, 3, 3.1824463052837084359),
            (0.95, 10, 2.2281388519862742245),
            (0.95, 30, 2.0422724563012378878),
            (0.95, 1000, 1.9623390808264081039),
            (0.95, 5000, 1.9604385517065075384),
            (0.95, 5001, 1.9604384567894740028),
            (0.95, 10000, 1.9602012398906258778),
            (0.95, 100000, 1.9599877075346092587),
            (0.9, 5, 2.0150483733330244119),
            (0.99, 20, 2.8453397097861080688),
            (0.99, 3, 5.8409093097333554113),
            (0.8, 50, 1.2987136941948097806),
        ];
        for (level, dof, want) in cases {
            let got = t_critical(level, dof).unwrap();
            assert!(
                abs_diff_eq!(got, want, epsilon = 1e-12 * want),
                "t({level}, {dof}) = {got}, want {want}"
            );
        }
    }

    #[test]
    fn t_critical_rejects_bad_input() {
        assert_eq!(t_critical(1.0, 5), Err(Error::BadLevel { value: 1.0 }));
        assert!(matches!(t_critical(0.0, 5), Err(Error::BadLevel { .. })));
        assert!(matches!(
            t_critical(f64::NAN, 5),
            Err(Error::BadLevel { .. })
        ));
        assert!(matches!(
            t_critical(0.95, 0),
            Err(Error::TooFewPoints { .. })
        ));
    }

    #[test]
    fn quantile_type7() {
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&x, 0.0), 1.0);
        assert_eq!(quantile_sorted(&x, 1.0), 5.0);
        assert_eq!(quantile_sorted(&x, 0.5), 3.0);
        assert_eq!(quantile_sorted(&x, 0.1), 1.4);
        assert_eq!(quantile_sorted(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn validation_names_the_bad_value() {
        assert_eq!(
            check_positive("y", &[1.0, 0.0]),
            Err(Error::NonPositive {
                what: "y",
                index: 1,
                value: 0.0
            })
        );
        assert!(matches!(
            check_finite("x", &[1.0, f64::INFINITY]),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert!(matches!(
            check_weights(Some(&[1.0, -1.0]), 2),
            Err(Error::BadWeight { index: 1, .. })
        ));
        assert!(matches!(
            check_weights(Some(&[1.0]), 2),
            Err(Error::LengthMismatch { .. })
        ));
        assert!(contains((1.0, 2.0), 1.5) && !contains((1.0, 2.0), 2.5));
    }
}
