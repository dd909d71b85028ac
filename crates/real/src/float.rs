//! [`Real`] for `f64`, through `num_traits::Float`.
//!
//! The elementary functions are the platform's libm (correctly rounded or within 1 ulp for exp, ln,
//! ln_1p, exp_m1, sqrt; within a few ulps for powf, acos, asin).

use crate::{ParseRealError, Real};
use num_traits::Float;

impl Real for f64 {
    type Ctx = ();

    fn backend_name(_: &()) -> String {
        "f64".to_owned()
    }

    fn ctx(&self) {}

    fn from_f64(_: &(), x: f64) -> Self {
        x
    }

    fn from_i64(_: &(), i: i64) -> Self {
        i as f64
    }

    fn parse_decimal(_: &(), text: &str) -> Result<Self, ParseRealError> {
        let trimmed = text.trim();
        let is_decimal = crate::decimal::is_decimal_literal(trimmed);
        if !is_decimal {
            return Err(ParseRealError {
                input: text.to_owned(),
                reason: "expected a decimal number such as 0.3, 12345 or 1e40".to_owned(),
            });
        }
        trimmed.parse::<f64>().map_err(|err| ParseRealError {
            input: text.to_owned(),
            reason: err.to_string(),
        })
    }

    fn to_f64(&self) -> f64 {
        *self
    }

    fn to_sci_string(&self) -> String {
        // `{:e}` prints the shortest digits that read back to the same double.
        format!("{self:e}")
    }

    fn significant_digits(_: &()) -> usize {
        17
    }

    fn unit_roundoff(_: &()) -> Self {
        f64::EPSILON / 2.0
    }

    fn is_finite(&self) -> bool {
        Float::is_finite(*self)
    }

    fn is_normal(&self) -> bool {
        Float::is_normal(*self)
    }

    fn exp(&self) -> Self {
        Float::exp(*self)
    }

    fn ln(&self) -> Self {
        Float::ln(*self)
    }

    fn ln_1p(&self) -> Self {
        Float::ln_1p(*self)
    }

    fn exp_m1(&self) -> Self {
        Float::exp_m1(*self)
    }

    fn sqrt(&self) -> Self {
        Float::sqrt(*self)
    }

    fn powf(&self, y: &Self) -> Self {
        Float::powf(*self, *y)
    }

    fn acos(&self) -> Self {
        Float::acos(*self)
    }

    fn asin(&self) -> Self {
        Float::asin(*self)
    }

    fn floor(&self) -> Self {
        Float::floor(*self)
    }

    fn abs(&self) -> Self {
        Float::abs(*self)
    }

    fn max(&self, other: &Self) -> Self {
        Float::max(*self, *other)
    }

    fn min(&self, other: &Self) -> Self {
        Float::min(*self, *other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;
    use proptest::prelude::*;

    #[test]
    fn parses_plain_and_exponent_forms() {
        assert_eq!(f64::parse_decimal(&(), "12345").unwrap(), 12345.0);
        assert_eq!(f64::parse_decimal(&(), " 1e40 ").unwrap(), 1e40);
        assert_eq!(f64::parse_decimal(&(), "-0.3").unwrap(), -0.3);
        assert!(f64::parse_decimal(&(), "inf").unwrap().is_infinite());
        assert!(f64::parse_decimal(&(), "NaN").unwrap().is_nan());
        assert!(f64::parse_decimal(&(), "0x10").is_err());
        assert!(f64::parse_decimal(&(), "one").is_err());
        assert!(f64::parse_decimal(&(), "").is_err());
        assert!(f64::parse_decimal(&(), "1e").is_err());
    }

    #[test]
    fn sci_string_round_trips() {
        for x in [0.3, 1.0, 1e-300, 6.02214076e23, -2.5, 1.0 / 3.0] {
            let s = x.to_sci_string();
            assert!(s.contains('e'), "{s}");
            assert_eq!(s.parse::<f64>().unwrap(), x);
        }
    }

    proptest! {
        #[test]
        // 1 + eˣ rounds away the digits of eˣ for negative x, so the naive form is a fair
        // reference only from x ≈ −1 up.
        fn softplus_matches_naive_where_naive_is_safe(x in -1.0f64..30.0) {
            let naive = (1.0 + x.exp()).ln();
            prop_assert!(abs_diff_eq!(Real::softplus(&x), naive, epsilon = 8.0 * f64::EPSILON * naive));
        }

        #[test]
        fn softplus_is_finite_in_the_tails(x in -1e300f64..1e300) {
            let s = Real::softplus(&x);
            prop_assert!(Float::is_finite(s));
            prop_assert!(s >= 0.0);
            prop_assert!(s >= x);
        }

        #[test]
        fn logistic_tails_are_complementary(x in -700.0f64..700.0) {
            let a = Real::logistic(&x);
            let b = Real::logistic(&-x);
            prop_assert!(abs_diff_eq!(a + b, 1.0, epsilon = 4.0 * f64::EPSILON));
            prop_assert!(a > 0.0 && b > 0.0);
        }

        #[test]
        fn ln_add_exp_matches_direct(x in -300.0f64..300.0, y in -300.0f64..300.0) {
            let direct = (x.exp() + y.exp()).ln();
            let stable = x.ln_add_exp(&y);
            prop_assert!(abs_diff_eq!(stable, direct, epsilon = 8.0 * f64::EPSILON * direct.abs().max(1.0)));
        }
    }

    quickcheck::quickcheck! {
        fn ln_add_exp_is_symmetric(x: f64, y: f64) -> bool {
            let (a, b) = (x.ln_add_exp(&y), y.ln_add_exp(&x));
            a == b || (a.is_nan() && b.is_nan())
        }
    }
}
