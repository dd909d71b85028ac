//! The default arbitrary-precision engine: [`BigReal`], on `astro-float` (pure Rust).
//!
//! A value carries its working precision p (bits); every operation rounds to nearest at p bits.
//! `astro-float` has no ln(1+x) or eˣ − 1, so [`ln_1p_near`] and [`exp_m1_near`] supply them: a
//! short Taylor series when |x| < 2^{−(p+g)/4} (remainder below 2^{−(p+g)}|x|), otherwise the plain
//! function at p + g + |log₂|x|| bits, enough that 1 + x is exact and the cancellation in eˣ − 1
//! costs nothing (g = [`GUARD_BITS`]).

use crate::decimal::{Direction, is_decimal_literal, round_sci};
use crate::{ParseRealError, Real};
use astro_float::{BigFloat, Consts, Radix, RoundingMode};
use std::cell::RefCell;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// Extra bits carried inside composite functions.
pub const GUARD_BITS: usize = 32;

/// The smallest precision the big engines accept (that of `f64`).
pub const MIN_PRECISION_BITS: u32 = 53;

/// The largest precision accepted: beyond a million bits a single exp takes seconds.
pub const MAX_PRECISION_BITS: u32 = 1_000_000;

/// A working precision in bits, in [`MIN_PRECISION_BITS`, `MAX_PRECISION_BITS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Precision(u32);

/// A precision outside the supported range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("precision {bits} bits is outside [{MIN_PRECISION_BITS}, {MAX_PRECISION_BITS}]")]
pub struct BadPrecision {
    /// The precision asked for.
    pub bits: u64,
}

impl Precision {
    /// A checked precision.
    pub fn new(bits: u64) -> Result<Self, BadPrecision> {
        if (MIN_PRECISION_BITS as u64..=MAX_PRECISION_BITS as u64).contains(&bits) {
            Ok(Precision(bits as u32))
        } else {
            Err(BadPrecision { bits })
        }
    }

    /// The number of bits.
    pub fn bits(self) -> usize {
        self.0 as usize
    }

    /// Decimal digits this precision determines: ⌊p·log₁₀2⌋.
    pub fn decimal_digits(self) -> usize {
        ((self.0 as f64) * std::f64::consts::LOG10_2).floor() as usize
    }
}

thread_local! {
    /// astro-float caches constants (π, ln 2, …) per precision; one cache per thread.
    static CONSTS: RefCell<Consts> = RefCell::new(Consts::new().expect("astro-float constants cache"));
}

/// Runs `f` with this thread's constants cache.
pub(crate) fn with_consts<R>(f: impl FnOnce(&mut Consts) -> R) -> R {
    CONSTS.with(|cell| f(&mut cell.borrow_mut()))
}

/// Reads a decimal at `bits` bits with rounding `rm`; `None` if it is not a decimal number.
pub(crate) fn parse_big(text: &str, bits: usize, rm: RoundingMode) -> Option<BigFloat> {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let negative = lower.starts_with('-');
    match unsigned {
        "inf" | "infinity" => {
            return Some(if negative {
                astro_float::INF_NEG
            } else {
                astro_float::INF_POS
            });
        }
        "nan" => return Some(astro_float::NAN),
        _ => {}
    }
    if !is_decimal_literal(trimmed) {
        return None;
    }
    let value = with_consts(|cc| BigFloat::parse(trimmed, Radix::Dec, bits, rm, cc));
    (!value.is_nan()).then_some(value)
}

/// The decimal expansion astro-float prints (more digits than the precision determines).
pub(crate) fn format_big(x: &BigFloat, rm: RoundingMode) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_inf_pos() {
        return "inf".to_owned();
    }
    if x.is_inf_neg() {
        return "-inf".to_owned();
    }
    if x.is_zero() {
        return "0e0".to_owned();
    }
    with_consts(|cc| x.format(Radix::Dec, rm, cc)).unwrap_or_else(|_| "NaN".to_owned())
}

/// The nearest `f64`, through the decimal expansion (exact enough: ~77 digits at 256 bits).
pub(crate) fn big_to_f64(x: &BigFloat) -> f64 {
    let text = format_big(x, RoundingMode::ToEven);
    match text.as_str() {
        "NaN" => f64::NAN,
        "inf" => f64::INFINITY,
        "-inf" => f64::NEG_INFINITY,
        _ => round_sci(&text, 20, Direction::Nearest)
            .and_then(|s| s.parse().ok())
            .unwrap_or(f64::NAN),
    }
}

/// 2^k at `bits` bits (exact).
pub(crate) fn power_of_two(k: i64, bits: usize) -> BigFloat {
    let mut x = BigFloat::from_i32(1, bits);
    let e = x.exponent().unwrap_or(1) as i64;
    x.set_exponent((e + k) as i32);
    x
}

/// log₂|x| rounded down (the binary exponent), or `None` for 0, ∞, NaN.
pub(crate) fn binary_exponent(x: &BigFloat) -> Option<i64> {
    if x.is_zero() || x.is_nan() || x.is_inf() {
        None
    } else {
        // astro-float keeps the mantissa in [1/2, 1): x = m·2^e.
        x.exponent().map(|e| e as i64 - 1)
    }
}

/// ln(1 + x) rounded to nearest at `bits` bits (faithful: error below one ulp).
pub fn ln_1p_near(x: &BigFloat, bits: usize) -> BigFloat {
    let Some(e) = binary_exponent(x) else {
        return if x.is_zero() {
            x.clone()
        } else {
            ln_plain(
                &BigFloat::from_i32(1, bits).add(x, bits, RoundingMode::ToEven),
                bits,
            )
        };
    };
    let work = bits + GUARD_BITS;
    let rm = RoundingMode::ToEven;
    if e < -((work as i64) / 4) {
        // x − x²/2 + x³/3 − x⁴/4, remainder ≤ |x|⁵/(5(1−|x|)) < 2^{−work}|x|.
        let x2 = x.mul(x, work, rm);
        let x3 = x2.mul(x, work, rm);
        let x4 = x2.mul(&x2, work, rm);
        let series = x
            .sub(&x2.div(&BigFloat::from_i32(2, work), work, rm), work, rm)
            .add(&x3.div(&BigFloat::from_i32(3, work), work, rm), work, rm)
            .sub(&x4.div(&BigFloat::from_i32(4, work), work, rm), work, rm);
        return round_to(&series, bits);
    }
    let wide = work + e.unsigned_abs() as usize;
    let one_plus_x = BigFloat::from_i32(1, wide).add(x, wide, rm);
    round_to(&ln_plain(&one_plus_x, wide), bits)
}

/// eˣ − 1 rounded to nearest at `bits` bits (faithful).
pub fn exp_m1_near(x: &BigFloat, bits: usize) -> BigFloat {
    let Some(e) = binary_exponent(x) else {
        return if x.is_zero() {
            x.clone()
        } else {
            exp_plain(x, bits).sub(&BigFloat::from_i32(1, bits), bits, RoundingMode::ToEven)
        };
    };
    let work = bits + GUARD_BITS;
    let rm = RoundingMode::ToEven;
    if e < -((work as i64) / 4) {
        // x + x²/2 + x³/6 + x⁴/24, remainder ≤ e^{|x|}|x|⁵/120 < 2^{−work}|x|.
        let x2 = x.mul(x, work, rm);
        let x3 = x2.mul(x, work, rm);
        let x4 = x2.mul(&x2, work, rm);
        let series = x
            .add(&x2.div(&BigFloat::from_i32(2, work), work, rm), work, rm)
            .add(&x3.div(&BigFloat::from_i32(6, work), work, rm), work, rm)
            .add(&x4.div(&BigFloat::from_i32(24, work), work, rm), work, rm);
        return round_to(&series, bits);
    }
    let wide = work + if e < 0 { e.unsigned_abs() as usize } else { 0 };
    let ex = exp_plain(x, wide);
    round_to(&ex.sub(&BigFloat::from_i32(1, wide), wide, rm), bits)
}

pub(crate) fn ln_plain(x: &BigFloat, bits: usize) -> BigFloat {
    with_consts(|cc| x.ln(bits, RoundingMode::ToEven, cc))
}

pub(crate) fn exp_plain(x: &BigFloat, bits: usize) -> BigFloat {
    with_consts(|cc| x.exp(bits, RoundingMode::ToEven, cc))
}

/// `x` rounded to nearest at `bits` bits.
pub(crate) fn round_to(x: &BigFloat, bits: usize) -> BigFloat {
    let mut y = x.clone();
    // Only fails for NaN/∞, which stay as they are.
    let _ = y.set_precision(bits, RoundingMode::ToEven);
    y
}

/// An arbitrary-precision real on `astro-float`, rounded to nearest at its precision.
#[derive(Clone)]
pub struct BigReal {
    value: BigFloat,
    bits: usize,
}

impl BigReal {
    /// Wraps an `astro-float` value computed at `precision`.
    pub fn from_big(value: BigFloat, precision: Precision) -> Self {
        BigReal {
            value,
            bits: precision.bits(),
        }
    }

    /// The underlying value.
    pub fn as_big(&self) -> &BigFloat {
        &self.value
    }

    fn with(&self, value: BigFloat) -> Self {
        BigReal {
            value,
            bits: self.bits,
        }
    }

    fn precision(&self) -> Precision {
        Precision(self.bits as u32)
    }
}

impl fmt::Debug for BigReal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigReal({}, {} bits)", self.to_sci_string(), self.bits)
    }
}

impl fmt::Display for BigReal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sci_string())
    }
}

impl PartialEq for BigReal {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl PartialOrd for BigReal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.value.partial_cmp(&other.value)
    }
}

macro_rules! big_binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident, $op:ident) => {
        impl $trait for BigReal {
            type Output = BigReal;
            fn $method(self, rhs: BigReal) -> BigReal {
                self.$method(&rhs)
            }
        }
        impl<'a> $trait<&'a BigReal> for BigReal {
            type Output = BigReal;
            fn $method(self, rhs: &'a BigReal) -> BigReal {
                let bits = self.bits.max(rhs.bits);
                BigReal {
                    value: self.value.$op(&rhs.value, bits, RoundingMode::ToEven),
                    bits,
                }
            }
        }
        impl $assign_trait for BigReal {
            fn $assign_method(&mut self, rhs: BigReal) {
                *self = self.clone().$method(&rhs);
            }
        }
    };
}

big_binary_op!(Add, add, AddAssign, add_assign, add);
big_binary_op!(Sub, sub, SubAssign, sub_assign, sub);
big_binary_op!(Mul, mul, MulAssign, mul_assign, mul);
big_binary_op!(Div, div, DivAssign, div_assign, div);

impl Neg for BigReal {
    type Output = BigReal;
    fn neg(self) -> BigReal {
        let value = self.value.neg();
        BigReal { value, ..self }
    }
}

impl Real for BigReal {
    type Ctx = Precision;

    fn backend_name(ctx: &Precision) -> String {
        format!("astro-float {} bits", ctx.bits())
    }

    fn ctx(&self) -> Precision {
        self.precision()
    }

    fn from_f64(ctx: &Precision, x: f64) -> Self {
        BigReal {
            value: BigFloat::from_f64(x, ctx.bits()),
            bits: ctx.bits(),
        }
    }

    fn from_i64(ctx: &Precision, i: i64) -> Self {
        // astro-float's from_i64 returns NaN below one 64-bit word of precision: make the integer
        // exactly, then round it.
        BigReal {
            value: round_to(&BigFloat::from_i64(i, ctx.bits().max(64)), ctx.bits()),
            bits: ctx.bits(),
        }
    }

    fn parse_decimal(ctx: &Precision, text: &str) -> Result<Self, ParseRealError> {
        parse_big(text, ctx.bits(), RoundingMode::ToEven)
            .map(|value| BigReal {
                value,
                bits: ctx.bits(),
            })
            .ok_or_else(|| ParseRealError {
                input: text.to_owned(),
                reason: "expected a decimal number such as 0.3, 12345 or 1e40".to_owned(),
            })
    }

    fn to_f64(&self) -> f64 {
        big_to_f64(&self.value)
    }

    fn to_sci_string(&self) -> String {
        let text = format_big(&self.value, RoundingMode::ToEven);
        round_sci(&text, self.precision().decimal_digits(), Direction::Nearest).unwrap_or(text)
    }

    fn significant_digits(ctx: &Precision) -> usize {
        ctx.decimal_digits()
    }

    fn unit_roundoff(ctx: &Precision) -> Self {
        BigReal {
            value: power_of_two(-(ctx.bits() as i64), ctx.bits()),
            bits: ctx.bits(),
        }
    }

    fn is_finite(&self) -> bool {
        !self.value.is_nan() && !self.value.is_inf()
    }

    fn is_normal(&self) -> bool {
        self.is_finite() && !self.value.is_zero() && !self.value.is_subnormal()
    }

    fn exp(&self) -> Self {
        self.with(with_consts(|cc| {
            self.value.exp(self.bits, RoundingMode::ToEven, cc)
        }))
    }

    fn ln(&self) -> Self {
        self.with(ln_plain(&self.value, self.bits))
    }

    fn ln_1p(&self) -> Self {
        self.with(ln_1p_near(&self.value, self.bits))
    }

    fn exp_m1(&self) -> Self {
        self.with(exp_m1_near(&self.value, self.bits))
    }

    fn sqrt(&self) -> Self {
        self.with(self.value.sqrt(self.bits, RoundingMode::ToEven))
    }

    fn powf(&self, y: &Self) -> Self {
        let bits = self.bits.max(y.bits);
        BigReal {
            value: with_consts(|cc| self.value.pow(&y.value, bits, RoundingMode::ToEven, cc)),
            bits,
        }
    }

    fn acos(&self) -> Self {
        self.with(with_consts(|cc| {
            self.value.acos(self.bits, RoundingMode::ToEven, cc)
        }))
    }

    fn asin(&self) -> Self {
        self.with(with_consts(|cc| {
            self.value.asin(self.bits, RoundingMode::ToEven, cc)
        }))
    }

    fn floor(&self) -> Self {
        self.with(self.value.floor())
    }

    fn abs(&self) -> Self {
        self.with(self.value.abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;

    fn p(bits: u64) -> Precision {
        Precision::new(bits).unwrap()
    }

    fn big(x: f64) -> BigReal {
        BigReal::from_f64(&p(256), x)
    }

    #[test]
    fn precision_is_checked() {
        assert!(Precision::new(52).is_err());
        assert!(Precision::new(1_000_001).is_err());
        assert_eq!(p(256).decimal_digits(), 77);
    }

    #[test]
    fn parses_and_prints_at_full_precision() {
        let third = BigReal::one(&p(256)) / BigReal::from_f64(&p(256), 3.0);
        let text = third.to_sci_string();
        // 77 significant digits; the last may be 3 or 4 (the 256-bit value of 1/3 sits near a tie).
        let (mantissa, exponent) = text.split_once('e').unwrap();
        assert_eq!(exponent, "-1");
        assert_eq!(mantissa.len(), 78, "{text}");
        assert!(
            mantissa.starts_with(&format!("3.{}", "3".repeat(75))),
            "{text}"
        );
        let n = BigReal::parse_decimal(&p(256), "1e100000").unwrap();
        assert_eq!(n.to_sci_string(), "1e100000");
        assert!(BigReal::parse_decimal(&p(256), "1e").is_err());
        assert!(BigReal::parse_decimal(&p(256), "0x10").is_err());
        assert!(BigReal::parse_decimal(&p(256), ".").is_err());
        assert!(!BigReal::parse_decimal(&p(256), "inf").unwrap().is_finite());
        assert!(!BigReal::parse_decimal(&p(256), "nan").unwrap().is_finite());
        assert_eq!(
            BigReal::parse_decimal(&p(256), "-0.5").unwrap().to_f64(),
            -0.5
        );
    }

    #[test]
    fn integers_at_the_smallest_precision() {
        // astro-float's own from_i64 gives NaN below 64 bits.
        let p53 = p(53);
        assert_eq!(BigReal::from_i64(&p53, 0).to_f64(), 0.0);
        assert_eq!(BigReal::from_i64(&p53, -912018412).to_f64(), -912018412.0);
        // 2^53 + 1 rounds to 53 bits.
        assert_eq!(
            BigReal::from_i64(&p53, (1 << 53) + 1).to_f64(),
            9007199254740992.0
        );
    }

    #[test]
    fn log_of_a_huge_number() {
        let n = BigReal::parse_decimal(&p(256), "1e100000").unwrap();
        let expected = 100000.0 * std::f64::consts::LN_10;
        assert_abs_diff_eq!(n.ln().to_f64(), expected, epsilon = 1e-9);
    }

    #[test]
    fn ln_1p_and_exp_m1_keep_tiny_arguments() {
        let tiny = BigReal::parse_decimal(&p(256), "1e-100000").unwrap();
        let l = tiny.ln_1p();
        let rel = ((l.clone() - &tiny) / &tiny).to_f64();
        assert!(rel.abs() < 1e-70, "{rel}");
        let e = tiny.exp_m1();
        assert!((((e - &tiny) / &tiny).to_f64()).abs() < 1e-70);
    }

    proptest! {
        #[test]
        fn agrees_with_f64_where_f64_is_accurate(x in -20.0f64..20.0) {
            let b = big(x);
            let close =
                |a: f64, b: f64| abs_diff_eq!(a, b, epsilon = 4.0 * f64::EPSILON * b.abs().max(1e-300));
            prop_assert!(close(b.exp().to_f64(), x.exp()));
            prop_assert!(close(b.exp_m1().to_f64(), x.exp_m1()));
            if x > -1.0 {
                prop_assert!(close(b.ln_1p().to_f64(), x.ln_1p()));
            }
            if x > 0.0 {
                prop_assert!(close(b.ln().to_f64(), x.ln()));
                prop_assert!(close(b.sqrt().to_f64(), x.sqrt()));
            }
            let s = x / 20.0;
            prop_assert!(close(big(s).asin().to_f64(), s.asin()));
            prop_assert!(close(big(s).acos().to_f64(), s.acos()));
        }

        #[test]
        fn ln_1p_and_exp_m1_are_inverse(x in -0.5f64..2.0, scale in -40i32..0) {
            let v = big(x * 2f64.powi(scale));
            let round_trip = v.ln_1p().exp_m1();
            let rel = ((round_trip - &v) / &v).abs().to_f64();
            prop_assert!(rel < 1e-74, "{rel}");
        }

        #[test]
        fn sci_string_reads_back(x in -1e300f64..1e300) {
            let b = big(x);
            let back = BigReal::parse_decimal(&p(256), &b.to_sci_string()).unwrap();
            let rel = ((back - &b) / &b).abs().to_f64();
            prop_assert!(rel < 1e-75 || x == 0.0);
        }
    }
}
