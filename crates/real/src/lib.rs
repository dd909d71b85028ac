//! The scalar abstraction of critscale.
//!
//! Every formula of the project (the reference attention layer, the simplex closed forms, the
//! certificates) is written once, generic over [`Real`]. A backend supplies the arithmetic and the
//! elementary functions:
//!
//! | backend | type | context ([`Real::Ctx`]) |
//! |---|---|---|
//! | IEEE double | `f64` | `()` |
//! | arbitrary precision | [`BigReal`] (astro-float; `MpfrReal` with the `mpfr` feature) | its [`Precision`] |
//! | intervals | [`Interval`], outward-rounded over astro-float | its [`Precision`] |
//!
//! Design choices that let the big-float and interval backends run the generic code unchanged:
//!
//! * **No `Copy`**: generic code clones. Binary operators are required both by value and with a
//!   borrowed right-hand side (`a.clone() * &b`), so big floats need not be cloned twice.
//! * **Constants need a context**: `T::from_f64(&ctx, 0.5)`; a value hands out its context with
//!   [`Real::ctx`], so a function that receives any value can make constants of the same precision.
//! * **Branch-free primitives**: functions whose natural implementation branches on a sign
//!   ([`Real::softplus`], [`Real::ln_add_exp`], [`Real::max`], ...) are trait methods with a default
//!   body, so [`Interval`] overrides them with an evaluation that is monotone in each
//!   endpoint instead of taking one side of an uncertain comparison.
//!
//! `num-traits` is used for the primitive floats (see [`float`]), but its `Float` trait cannot be the
//! abstraction itself: it requires `Copy` and context-free constants (`Float::one()`), which a
//! precision-carrying float cannot provide.

#![warn(missing_docs)]

pub mod big;
pub mod decimal;
pub mod float;
pub mod format;
pub mod interval;
#[cfg(feature = "mpfr")]
pub mod mpfr;
pub mod prec;

use std::fmt::{Debug, Display};
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

pub use big::{BigReal, Precision};
pub use format::{decimal_from_ln, decimal_string, digits_from_ln, integer_decimal};
pub use interval::Interval;
#[cfg(feature = "mpfr")]
pub use mpfr::MpfrReal;

/// A decimal string that could not be read as a real number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {input:?} as a real number: {reason}")]
pub struct ParseRealError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// The real numbers generic code needs: field arithmetic, comparisons and the elementary functions.
///
/// Implementations must round each operation faithfully for their precision (an interval backend:
/// enclose it). Every method that can leave the reals (`ln` of a negative, `sqrt` of a negative,
/// `acos` outside [−1, 1]) returns the backend's NaN; callers validate domains first.
pub trait Real:
    Clone
    + Debug
    + Display
    + PartialEq
    + PartialOrd
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + for<'a> Add<&'a Self, Output = Self>
    + for<'a> Sub<&'a Self, Output = Self>
    + for<'a> Mul<&'a Self, Output = Self>
    + for<'a> Div<&'a Self, Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// What it takes to make a value from nothing: `()` for `f64`, a precision for big floats.
    type Ctx: Clone + Debug + Send + Sync + 'static;

    /// A short name of the backend and its precision, e.g. `"f64"`.
    fn backend_name(ctx: &Self::Ctx) -> String;

    /// The context this value was made in.
    fn ctx(&self) -> Self::Ctx;

    /// The value of `x` (exact when the backend has at least 53 bits).
    fn from_f64(ctx: &Self::Ctx, x: f64) -> Self;

    /// The integer `i`, rounded to the backend's precision.
    fn from_i64(ctx: &Self::Ctx, i: i64) -> Self;

    /// Reads a decimal number such as `12345`, `0.3`, `-1.5e-7` or `1e40`, rounded to nearest.
    ///
    /// Infinities and NaN parse (so that callers can name them in their errors); check
    /// [`Real::is_finite`].
    fn parse_decimal(ctx: &Self::Ctx, text: &str) -> Result<Self, ParseRealError>;

    /// The nearest `f64` (may overflow to ±∞ or underflow to 0).
    fn to_f64(&self) -> f64;

    /// The value in scientific notation `[-]d[.ddd]e[-]x` with as many significant digits as the
    /// precision supports (for `f64`: the shortest string that reads back to the same double).
    fn to_sci_string(&self) -> String;

    /// Decimal digits the precision supports (17 for `f64`).
    fn significant_digits(ctx: &Self::Ctx) -> usize;

    /// The unit roundoff: half the distance from 1 to the next representable number.
    fn unit_roundoff(ctx: &Self::Ctx) -> Self;

    /// False for NaN and ±∞.
    fn is_finite(&self) -> bool;

    /// True for finite, nonzero values that are not subnormal: values that carry full precision.
    fn is_normal(&self) -> bool;

    /// e^x.
    fn exp(&self) -> Self;
    /// Natural logarithm.
    fn ln(&self) -> Self;
    /// ln(1 + x), accurate for small x.
    fn ln_1p(&self) -> Self;
    /// e^x − 1, accurate for small x.
    fn exp_m1(&self) -> Self;
    /// Square root.
    fn sqrt(&self) -> Self;
    /// x^y for x > 0.
    fn powf(&self, y: &Self) -> Self;
    /// Arc cosine in [0, π].
    fn acos(&self) -> Self;
    /// Arc sine in [−π/2, π/2].
    fn asin(&self) -> Self;
    /// Largest integer ≤ x.
    fn floor(&self) -> Self;

    /// For enclosure types: decimal strings at or below and at or above every value enclosed.
    /// `None` (the default) for point types.
    fn bounds_strings(&self) -> Option<(String, String)> {
        None
    }

    /// For enclosure types holding a logarithm ℓ: decimal strings at or below e^{ℓ.lo} and at or
    /// above e^{ℓ.hi}, with exact decimal exponents, also where e^ℓ lies outside the backend's
    /// exponent range (so an enclosure of a positive quantity keeps a positive lower end).
    /// `None` for point types and when the precision cannot fix the exponents.
    fn exp_bounds_strings(&self) -> Option<(String, String)> {
        None
    }

    /// The constant 0.
    fn zero(ctx: &Self::Ctx) -> Self {
        Self::from_f64(ctx, 0.0)
    }

    /// The constant 1.
    fn one(ctx: &Self::Ctx) -> Self {
        Self::from_f64(ctx, 1.0)
    }

    /// x².
    fn square(&self) -> Self {
        self.clone() * self
    }

    /// 1 / x.
    fn recip(&self) -> Self {
        Self::one(&self.ctx()) / self
    }

    /// |x|.
    fn abs(&self) -> Self {
        if *self < Self::zero(&self.ctx()) {
            -self.clone()
        } else {
            self.clone()
        }
    }

    /// The larger of the two.
    fn max(&self, other: &Self) -> Self {
        if *other > *self {
            other.clone()
        } else {
            self.clone()
        }
    }

    /// The smaller of the two.
    fn min(&self, other: &Self) -> Self {
        if *other < *self {
            other.clone()
        } else {
            self.clone()
        }
    }

    /// softplus(x) = ln(1 + eˣ), without overflow for large x and without losing digits for
    /// negative x: x + ln(1 + e^{−x}) when x > 0, ln(1 + eˣ) otherwise.
    fn softplus(&self) -> Self {
        softplus_formula(self)
    }

    /// The logistic function σ(x) = 1 / (1 + e^{−x}), computed as exp(−softplus(−x)) so that it
    /// neither overflows nor loses relative accuracy in either tail.
    fn logistic(&self) -> Self {
        logistic_formula(self)
    }

    /// ln(eˣ + eʸ) without overflow: max + ln(1 + e^{−|x−y|}).
    fn ln_add_exp(&self, other: &Self) -> Self {
        ln_add_exp_formula(self, other)
    }
}

/// softplus(x) = x + ln(1 + e^{−x}) for x > 0, ln(1 + eˣ) otherwise (the default of
/// [`Real::softplus`]).
pub fn softplus_formula<T: Real>(x: &T) -> T {
    let zero = T::zero(&x.ctx());
    if *x > zero {
        x.clone() + (-x.clone()).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// σ(x) = exp(−softplus(−x)) (the default of [`Real::logistic`]).
pub fn logistic_formula<T: Real>(x: &T) -> T {
    (-(-x.clone()).softplus()).exp()
}

/// ln(eˣ + eʸ) = max + ln(1 + e^{min − max}) (the default of [`Real::ln_add_exp`]).
pub fn ln_add_exp_formula<T: Real>(x: &T, y: &T) -> T {
    let hi = x.max(y);
    let lo = x.min(y);
    (lo - &hi).exp().ln_1p() + hi
}
