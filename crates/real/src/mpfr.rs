//! The MPFR engine: [`MpfrReal`], on `rug` (feature `mpfr`).
//!
//! An independent implementation of the same arithmetic as [`crate::BigReal`]: GNU MPFR rounds
//! every operation and function correctly to nearest at the value's precision. It serves as the
//! cross-check of the pure-Rust engine and as the faster engine where a C toolchain is available.

use crate::big::Precision;
use crate::decimal::{Direction, is_decimal_literal, round_sci};
use crate::{ParseRealError, Real};
use rug::Float;
use rug::float::{Round, Special};
use rug::ops::Pow;
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

/// An arbitrary-precision real on MPFR, rounded to nearest at its precision.
#[derive(Clone)]
pub struct MpfrReal(Float);

impl MpfrReal {
    /// The underlying MPFR value.
    pub fn as_float(&self) -> &Float {
        &self.0
    }

    /// Wraps an MPFR value (its precision becomes the context).
    pub fn from_float(value: Float) -> Self {
        MpfrReal(value)
    }

    fn bits(&self) -> u32 {
        self.0.prec()
    }

    fn unary(&self, f: impl FnOnce(&mut Float)) -> Self {
        let mut value = self.0.clone();
        f(&mut value);
        MpfrReal(value)
    }
}

impl fmt::Debug for MpfrReal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MpfrReal({}, {} bits)",
            self.to_sci_string(),
            self.bits()
        )
    }
}

impl fmt::Display for MpfrReal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_sci_string())
    }
}

impl PartialEq for MpfrReal {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl PartialOrd for MpfrReal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.0.partial_cmp(&other.0)
    }
}

macro_rules! mpfr_binary_op {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident) => {
        impl $trait for MpfrReal {
            type Output = MpfrReal;
            fn $method(self, rhs: MpfrReal) -> MpfrReal {
                self.$method(&rhs)
            }
        }
        impl<'a> $trait<&'a MpfrReal> for MpfrReal {
            type Output = MpfrReal;
            fn $method(self, rhs: &'a MpfrReal) -> MpfrReal {
                let bits = self.bits().max(rhs.bits());
                MpfrReal(Float::with_val(bits, (&self.0).$method(&rhs.0)))
            }
        }
        impl $assign_trait for MpfrReal {
            fn $assign_method(&mut self, rhs: MpfrReal) {
                *self = self.clone().$method(&rhs);
            }
        }
    };
}

mpfr_binary_op!(Add, add, AddAssign, add_assign);
mpfr_binary_op!(Sub, sub, SubAssign, sub_assign);
mpfr_binary_op!(Mul, mul, MulAssign, mul_assign);
mpfr_binary_op!(Div, div, DivAssign, div_assign);

impl Neg for MpfrReal {
    type Output = MpfrReal;
    fn neg(self) -> MpfrReal {
        MpfrReal(-self.0)
    }
}

impl Real for MpfrReal {
    type Ctx = Precision;

    fn backend_name(ctx: &Precision) -> String {
        format!("mpfr {} bits", ctx.bits())
    }

    fn ctx(&self) -> Precision {
        Precision::new(self.bits() as u64).expect("an MpfrReal is made at a checked precision")
    }

    fn from_f64(ctx: &Precision, x: f64) -> Self {
        MpfrReal(Float::with_val(ctx.bits() as u32, x))
    }

    fn from_i64(ctx: &Precision, i: i64) -> Self {
        MpfrReal(Float::with_val(ctx.bits() as u32, i))
    }

    fn parse_decimal(ctx: &Precision, text: &str) -> Result<Self, ParseRealError> {
        let error = || ParseRealError {
            input: text.to_owned(),
            reason: "expected a decimal number such as 0.3, 12345 or 1e40".to_owned(),
        };
        let trimmed = text.trim();
        if !is_decimal_literal(trimmed) {
            return Err(error());
        }
        let lower = trimmed.to_ascii_lowercase();
        let unsigned = lower.trim_start_matches(['+', '-']);
        let bits = ctx.bits() as u32;
        let value = match unsigned {
            "inf" | "infinity" if lower.starts_with('-') => {
                Float::with_val(bits, Special::NegInfinity)
            }
            "inf" | "infinity" => Float::with_val(bits, Special::Infinity),
            "nan" => Float::with_val(bits, Special::Nan),
            _ => Float::with_val(bits, Float::parse(trimmed).map_err(|_| error())?),
        };
        Ok(MpfrReal(value))
    }

    fn to_f64(&self) -> f64 {
        self.0.to_f64()
    }

    fn to_sci_string(&self) -> String {
        if self.0.is_nan() {
            return "NaN".to_owned();
        }
        if self.0.is_infinite() {
            return if self.0.is_sign_negative() {
                "-inf"
            } else {
                "inf"
            }
            .to_owned();
        }
        if self.0.is_zero() {
            return "0e0".to_owned();
        }
        let digits = self.ctx().decimal_digits();
        let text = self
            .0
            .to_string_radix_round(10, Some(digits), Round::Nearest);
        round_sci(&text, digits, Direction::Nearest).unwrap_or(text)
    }

    fn significant_digits(ctx: &Precision) -> usize {
        ctx.decimal_digits()
    }

    fn unit_roundoff(ctx: &Precision) -> Self {
        let bits = ctx.bits() as u32;
        MpfrReal(Float::with_val(bits, Float::u_exp(1, -(bits as i32))))
    }

    fn is_finite(&self) -> bool {
        self.0.is_finite()
    }

    fn is_normal(&self) -> bool {
        self.0.is_normal()
    }

    fn exp(&self) -> Self {
        self.unary(|x| {
            x.exp_mut();
        })
    }

    fn ln(&self) -> Self {
        self.unary(|x| {
            x.ln_mut();
        })
    }

    fn ln_1p(&self) -> Self {
        self.unary(|x| {
            x.ln_1p_mut();
        })
    }

    fn exp_m1(&self) -> Self {
        self.unary(|x| {
            x.exp_m1_mut();
        })
    }

    fn sqrt(&self) -> Self {
        self.unary(|x| {
            x.sqrt_mut();
        })
    }

    fn powf(&self, y: &Self) -> Self {
        let bits = self.bits().max(y.bits());
        MpfrReal(Float::with_val(bits, (&self.0).pow(&y.0)))
    }

    fn acos(&self) -> Self {
        self.unary(|x| {
            x.acos_mut();
        })
    }

    fn asin(&self) -> Self {
        self.unary(|x| {
            x.asin_mut();
        })
    }

    fn floor(&self) -> Self {
        self.unary(|x| {
            x.floor_mut();
        })
    }

    fn abs(&self) -> Self {
        self.unary(|x| {
            x.abs_mut();
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BigReal;
    use approx::abs_diff_eq;
    use proptest::prelude::*;

    fn ctx() -> Precision {
        Precision::new(256).unwrap()
    }

    /// |a − b| / |b| computed in MPFR from the two engines' decimal strings.
    fn relative_gap(a: &BigReal, b: &MpfrReal) -> f64 {
        let a = MpfrReal::parse_decimal(&ctx(), &a.to_sci_string()).unwrap();
        ((a - b) / b).abs().to_f64()
    }

    #[test]
    fn prints_and_parses_huge_values() {
        let n = MpfrReal::parse_decimal(&ctx(), "1e100000").unwrap();
        assert_eq!(n.to_sci_string(), "1e100000");
        assert!(MpfrReal::parse_decimal(&ctx(), "1e").is_err());
    }

    proptest! {
        // Two independent engines, each faithful at 256 bits: they agree to a few units of
        // 2^{-256} ≈ 8.6e-78 (plus the 77-digit decimal hand-over).
        #[test]
        fn engines_agree_on_elementary_functions(x in -50.0f64..50.0, s in -1.0f64..1.0) {
            let big = BigReal::from_f64(&ctx(), x);
            let mpfr = MpfrReal::from_f64(&ctx(), x);
            let tol = 1e-75;
            prop_assert!(relative_gap(&big.exp(), &mpfr.exp()) < tol);
            prop_assert!(relative_gap(&big.exp_m1(), &mpfr.exp_m1()) < tol || x == 0.0);
            if x > -1.0 && x != 0.0 {
                prop_assert!(relative_gap(&big.ln_1p(), &mpfr.ln_1p()) < tol);
            }
            if x > 0.0 {
                prop_assert!(relative_gap(&big.ln(), &mpfr.ln()) < tol || abs_diff_eq!(x, 1.0, epsilon = 1e-3));
                prop_assert!(relative_gap(&big.sqrt(), &mpfr.sqrt()) < tol);
            }
            let bs = BigReal::from_f64(&ctx(), s);
            let ms = MpfrReal::from_f64(&ctx(), s);
            prop_assert!(relative_gap(&bs.acos(), &ms.acos()) < tol);
            if s != 0.0 {
                prop_assert!(relative_gap(&bs.asin(), &ms.asin()) < tol);
            }
        }
    }

    /// The interval engine's ends must contain MPFR's correctly rounded 1024-bit values: this tests
    /// astro-float's functions (whose rounding is not documented) against MPFR.
    fn contains(enclosure: &crate::Interval, exact: &MpfrReal) -> bool {
        let lo = MpfrReal::parse_decimal(&Precision::new(1024).unwrap(), &enclosure.lo_string())
            .unwrap();
        let hi = MpfrReal::parse_decimal(&Precision::new(1024).unwrap(), &enclosure.hi_string())
            .unwrap();
        lo.0 <= exact.0 && exact.0 <= hi.0
    }

    proptest! {
        #[test]
        fn interval_ends_contain_mpfr_values(x in -40.0f64..40.0, s in -1.0f64..1.0, y in 1e-6f64..50.0) {
            let c = Precision::new(96).unwrap();
            let f = Precision::new(1024).unwrap();
            let (ix, iy, is) = (crate::Interval::from_f64(&c, x), crate::Interval::from_f64(&c, y), crate::Interval::from_f64(&c, s));
            let (mx, my, ms) = (MpfrReal::from_f64(&f, x), MpfrReal::from_f64(&f, y), MpfrReal::from_f64(&f, s));
            prop_assert!(contains(&ix.exp(), &mx.exp()));
            prop_assert!(contains(&ix.exp_m1(), &mx.exp_m1()));
            prop_assert!(contains(&iy.ln(), &my.ln()));
            prop_assert!(contains(&iy.sqrt(), &my.sqrt()));
            prop_assert!(contains(&is.acos(), &ms.acos()));
            prop_assert!(contains(&is.asin(), &ms.asin()));
            prop_assert!(contains(&iy.powf(&is), &my.powf(&ms)));
            if x > -1.0 {
                prop_assert!(contains(&ix.ln_1p(), &mx.ln_1p()));
            }
            let tiny = crate::Interval::from_f64(&c, x * 1e-40);
            let mtiny = MpfrReal::from_f64(&f, x * 1e-40);
            prop_assert!(contains(&tiny.ln_1p(), &mtiny.ln_1p()) || x == 0.0);
            prop_assert!(contains(&tiny.exp_m1(), &mtiny.exp_m1()) || x == 0.0);
        }
    }
}
