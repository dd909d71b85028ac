//! Decimal output of values that may lie outside the backend's exponent range.
//!
//! Quantities such as λ ≈ n^{2κ}/ρ reach 10^{−600} at n = 10^{300}: below the smallest `f64`, and
//! 1 − λ at β = 3·10⁹ (10^{−912018411}) is below even the big engines' binary exponent range. The
//! closed forms therefore also return their logarithm ℓ, and [`decimal_from_ln`] prints e^ℓ by
//! splitting D = ℓ / ln 10 into an integer exponent k = ⌊D⌋ and a mantissa 10^{D − k} ∈ [1, 10).
//!
//! Two rules keep the output honest:
//!
//! * **The exponent is an exact integer at any size.** It is formed in the backend itself (⌊D⌋ is
//!   exact there whenever the precision determines it) and converted to text in exact chunks of
//!   15 digits, never through an `f64` or `i64` cast that rounds or saturates.
//! * **Only the digits the logarithm determines are printed.** ℓ carries the backend's precision,
//!   so the integer digits of D use up as many of its significant digits: with s digits of
//!   precision and D of j integer digits, the mantissa keeps s − j − 1 digits (one guard digit for
//!   the few-ulp error of ℓ). When none are left the value cannot be printed at this precision and
//!   [`decimal_from_ln`] returns `None`, so that the caller refuses instead of printing noise.

use crate::Real;
use crate::decimal::{Direction, round_sci};

/// The value in scientific notation with the backend's full precision (see [`Real::to_sci_string`]).
pub fn decimal_string<T: Real>(x: &T) -> String {
    x.to_sci_string()
}

/// Significant digits of e^{ln_x} that its logarithm determines (see the module docs); `None`
/// when ln_x is not finite, 0 or less when none.
pub fn digits_from_ln<T: Real>(ln_x: &T) -> Option<i64> {
    if !ln_x.is_finite() {
        return None;
    }
    let ctx = ln_x.ctx();
    let decimal_exponent = (ln_x.clone() / &T::from_f64(&ctx, 10.0).ln())
        .abs()
        .to_f64();
    let integer_digits = if decimal_exponent < 1.0 {
        0
    } else if decimal_exponent.is_finite() {
        decimal_exponent.log10().floor() as i64 + 1
    } else {
        // ℓ beyond f64's range: far more integer digits than any supported precision has.
        i64::MAX / 2
    };
    Some(T::significant_digits(&ctx) as i64 - integer_digits - 1)
}

/// e^{ln_x} in scientific notation `[-]d[.ddd]e[-]x`, also when e^{ln_x} under- or overflows the
/// backend, with an exact decimal exponent and only the digits ln_x determines.
///
/// `ln_x = −∞` prints `0e0`. Returns `None` when ln_x is NaN or +∞, or when its precision does not
/// determine one significant digit of e^{ln_x} (|ln_x| too large for the backend's precision): the
/// caller must then refuse or use more precision.
pub fn decimal_from_ln<T: Real>(ln_x: &T) -> Option<String> {
    if !ln_x.is_finite() {
        return (ln_x.to_f64() == f64::NEG_INFINITY).then(|| "0e0".to_owned());
    }
    let digits = digits_from_ln(ln_x)?;
    if digits < 1 {
        return None;
    }
    let digits = digits as usize;
    let direct = ln_x.exp();
    if direct.is_normal() {
        return round_sci(&direct.to_sci_string(), digits, Direction::Nearest);
    }
    let ctx = ln_x.ctx();
    let ln10 = T::from_f64(&ctx, 10.0).ln();
    let decimal_exponent = ln_x.clone() / &ln10;
    let k = decimal_exponent.floor();
    // D − ⌊D⌋ is exact: both share D's leading bits.
    let mantissa = ((decimal_exponent - &k) * &ln10).exp();
    let mantissa = round_sci(&mantissa.to_sci_string(), digits, Direction::Nearest)?;
    Some(shift_exponent(&mantissa, &k))
}

/// `sci` (a short mantissa such as `9.5e0` or `1e1`) times 10^k, for an integer-valued k of
/// any size: the small exponent of `sci` is added to k in the backend (exact for integers below
/// 2^precision) and the sum is written out exactly.
pub(crate) fn shift_exponent<T: Real>(sci: &str, k: &T) -> String {
    let (mantissa, small) = match sci.split_once(['e', 'E']) {
        Some((mantissa, exponent)) => (mantissa, exponent.parse::<i64>().unwrap_or(0)),
        None => (sci, 0),
    };
    let total = k.clone() + &T::from_i64(&k.ctx(), small);
    format!("{mantissa}e{}", integer_decimal(&total))
}

/// The exact decimal digits of an integer-valued `k` (|k| below 2^precision), with its sign.
///
/// Written in chunks of 15 digits: each chunk is below 10^15 < 2^53, so its conversion to `f64`
/// is exact, and q·10^15 and k − q·10^15 are integers no larger than |k| + 10^15, so exact in
/// the backend.
pub fn integer_decimal<T: Real>(k: &T) -> String {
    if !k.is_finite() {
        return k.to_sci_string();
    }
    let ctx = k.ctx();
    let zero = T::zero(&ctx);
    let chunk = T::from_f64(&ctx, 1e15);
    let negative = *k < zero;
    let mut rest = k.abs();
    let mut chunks: Vec<u64> = Vec::new();
    loop {
        let mut quotient = (rest.clone() / &chunk).floor();
        let mut remainder = rest.clone() - &(quotient.clone() * &chunk);
        // The rounded division may put the quotient one off; the remainder says which way.
        while remainder < zero {
            remainder += chunk.clone();
            quotient -= T::one(&ctx);
        }
        while remainder >= chunk {
            remainder -= chunk.clone();
            quotient += T::one(&ctx);
        }
        chunks.push(remainder.to_f64() as u64);
        if quotient <= zero {
            break;
        }
        rest = quotient;
    }
    let mut text = String::new();
    if negative && chunks.iter().any(|&c| c != 0) {
        text.push('-');
    }
    let mut iter = chunks.iter().rev();
    if let Some(first) = iter.next() {
        text.push_str(&first.to_string());
    }
    for c in iter {
        text.push_str(&format!("{c:015}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BigReal, Precision};
    use approx::abs_diff_eq;

    fn big(text: &str, bits: u64) -> BigReal {
        BigReal::parse_decimal(&Precision::new(bits).unwrap(), text).unwrap()
    }

    fn split(s: &str) -> (f64, &str) {
        let (mantissa, exponent) = s.split_once('e').unwrap();
        (mantissa.parse().unwrap(), exponent)
    }

    #[test]
    fn representable_values_print_directly() {
        assert_eq!(decimal_from_ln(&0.0f64).unwrap(), "1e0");
        let (m, e) = (decimal_from_ln(&(0.3f64).ln()).unwrap(), "-1");
        assert_eq!(split(&m).1, e);
        assert!(abs_diff_eq!(split(&m).0, 3.0, epsilon = 1e-14), "{m}");
    }

    #[test]
    fn tiny_values_keep_their_exponent() {
        // ln(2.5e-600) = ln 2.5 − 600 ln 10
        let ln_x = 2.5f64.ln() - 600.0 * 10f64.ln();
        let s = decimal_from_ln(&ln_x).unwrap();
        let (mantissa, exponent) = split(&s);
        assert_eq!(exponent, "-600");
        assert!(abs_diff_eq!(mantissa, 2.5, epsilon = 1e-12), "{s}");
        // 17 digits of f64, 3 taken by the exponent, one guard digit: 13 digits at most.
        assert!(s.split_once('e').unwrap().0.len() <= 14, "{s}");
    }

    #[test]
    fn huge_values_keep_their_exponent() {
        let ln_x = 7.0f64.ln() + 1000.0 * 10f64.ln();
        let s = decimal_from_ln(&ln_x).unwrap();
        let (mantissa, exponent) = split(&s);
        assert_eq!(exponent, "1000");
        assert!(abs_diff_eq!(mantissa, 7.0, epsilon = 1e-11), "{s}");
    }

    #[test]
    fn minus_infinity_is_zero_and_nan_is_refused() {
        assert_eq!(decimal_from_ln(&f64::NEG_INFINITY).unwrap(), "0e0");
        assert!(decimal_from_ln(&f64::NAN).is_none());
        assert!(decimal_from_ln(&f64::INFINITY).is_none());
    }

    /// Exponents beyond 2^53 and beyond i64 are exact (values from mpmath at 200 digits:
    /// k = ⌊ℓ/ln 10⌋, mantissa 10^{ℓ/ln 10 − k}).
    #[test]
    fn big_exponents_are_exact_integers() {
        let cases = [
            ("-7e17", "-304006137332276280", 4.407676953143839),
            (
                "-1e50",
                "-43429448190325182765112891891660508229439700580367",
                2.204898259408932,
            ),
            ("-2.1e9", "-912018412", 1.007328593852335),
        ];
        for (ln_x, exponent, mantissa) in cases {
            let s = decimal_from_ln(&big(ln_x, 256)).unwrap();
            let (m, e) = split(&s);
            assert_eq!(e, exponent, "{ln_x}: {s}");
            assert!(abs_diff_eq!(m, mantissa, epsilon = 1e-14), "{ln_x}: {s}");
        }
    }

    /// ℓ beyond f64's exponent range of D (|D| ≈ 5e307): still printed, with a 308-digit
    /// exponent (mpmath at 700 digits).
    #[test]
    fn exponents_near_the_f64_limit_are_exact() {
        let s = decimal_from_ln(&big("-1.19e308", 2048)).unwrap();
        let (m, e) = split(&s);
        assert_eq!(
            e,
            "-51681043346486967490484341351076004793033243690636321367620000196737893255855622192777768971273378049926026702627190144303359835171916704881737306694874659636403123301671769221611133489400375911408469320880371199847749134546894374413113181637269503075881668852075320643905148607676278895163156536918590538499"
        );
        assert!(abs_diff_eq!(m, 5.638455940242314, epsilon = 1e-14), "{s}");
    }

    #[test]
    fn digits_the_logarithm_cannot_determine_are_not_printed() {
        // ℓ = −1e50 at 256 bits (77 digits): 50 integer digits leave 26.
        let s = decimal_from_ln(&big("-1e50", 256)).unwrap();
        assert_eq!(s.split_once('e').unwrap().0.len(), 27, "{s}");
        // At 53 bits (15 digits) ℓ = −1e50 does not even fix the exponent: refused.
        assert!(decimal_from_ln(&big("-1e50", 53)).is_none());
        assert!(decimal_from_ln(&-1e50f64).is_none());
        assert!(decimal_from_ln(&-1e16f64).is_none());
    }

    #[test]
    fn integers_are_written_exactly() {
        assert_eq!(integer_decimal(&0.0f64), "0");
        assert_eq!(integer_decimal(&-1e15f64), "-1000000000000000");
        assert_eq!(integer_decimal(&9007199254740991f64), "9007199254740991");
        let k = big("-123456789012345678901234567890123456789", 256);
        assert_eq!(
            integer_decimal(&k),
            "-123456789012345678901234567890123456789"
        );
        let k = big("1000000000000000000000000000000", 256);
        assert_eq!(integer_decimal(&k), "1000000000000000000000000000000");
    }
}
