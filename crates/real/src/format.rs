//! Decimal output of values that may lie outside the backend's exponent range.
//!
//! Quantities such as λ ≈ n^{2κ}/ρ reach 10^{−600} at n = 10^{300}: below the smallest `f64`. The
//! closed forms therefore also return their logarithm, and [`decimal_from_ln`] prints e^{ℓ} from ℓ
//! by splitting ℓ / ln 10 into an integer exponent k and a mantissa 10^{ℓ/ln 10 − k} ∈ [1, 10).
//! The relative error of the printed value is about |ℓ| times the unit roundoff (≈ 1.5e-13 for
//! ℓ ≈ −1400 in `f64`), which is why the direct value is preferred whenever it is representable.

use crate::Real;

/// The value in scientific notation with the backend's full precision (see [`Real::to_sci_string`]).
pub fn decimal_string<T: Real>(x: &T) -> String {
    x.to_sci_string()
}

/// e^{ln_x} in scientific notation, also when e^{ln_x} under- or overflows the backend.
///
/// When e^{ln_x} is a normal number of the backend it is printed directly; otherwise the exponent
/// is carried separately. `ln_x = −∞` prints `0e0`.
pub fn decimal_from_ln<T: Real>(ln_x: &T) -> String {
    let ctx = ln_x.ctx();
    if !ln_x.is_finite() {
        return if ln_x.to_f64() == f64::NEG_INFINITY {
            "0e0".to_owned()
        } else {
            ln_x.exp().to_sci_string()
        };
    }
    let direct = ln_x.exp();
    if direct.is_normal() {
        return direct.to_sci_string();
    }
    let ln10 = T::from_f64(&ctx, 10.0).ln();
    let decimal_exponent = ln_x.clone() / &ln10;
    let k = decimal_exponent.floor();
    let mantissa = ((decimal_exponent - &k) * &ln10).exp();
    shift_exponent(&mantissa.to_sci_string(), k.to_f64() as i64)
}

/// Adds `shift` to the exponent of a string in the form `[-]d[.ddd]e[-]x`.
fn shift_exponent(sci: &str, shift: i64) -> String {
    match sci.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => {
            let exponent: i64 = exponent.parse().unwrap_or(0);
            format!("{mantissa}e{}", exponent + shift)
        }
        None => format!("{sci}e{shift}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representable_values_print_directly() {
        assert_eq!(decimal_from_ln(&0.0f64), "1e0");
        assert_eq!(
            decimal_from_ln(&(0.3f64).ln()),
            (0.3f64).ln().exp().to_sci_string()
        );
    }

    #[test]
    fn tiny_values_keep_their_exponent() {
        // ln(2.5e-600) = ln 2.5 − 600 ln 10
        let ln_x = 2.5f64.ln() - 600.0 * 10f64.ln();
        let s = decimal_from_ln(&ln_x);
        let (mantissa, exponent) = s.split_once('e').unwrap();
        assert_eq!(exponent, "-600");
        assert!(
            (mantissa.parse::<f64>().unwrap() - 2.5).abs() < 1e-12,
            "{s}"
        );
    }

    #[test]
    fn huge_values_keep_their_exponent() {
        let ln_x = 7.0f64.ln() + 1000.0 * 10f64.ln();
        let s = decimal_from_ln(&ln_x);
        let (mantissa, exponent) = s.split_once('e').unwrap();
        assert_eq!(exponent, "1000");
        assert!(
            (mantissa.parse::<f64>().unwrap() - 7.0).abs() < 1e-11,
            "{s}"
        );
    }

    #[test]
    fn minus_infinity_is_zero() {
        assert_eq!(decimal_from_ln(&f64::NEG_INFINITY), "0e0");
    }
}
