//! Rigorous enclosures: [`Interval`], outward-rounded intervals on `astro-float`.
//!
//! `astro-float` documents correct rounding for all its arithmetic operations, mathematical
//! functions (exp, ln, sqrt, pow, asin, acos, …), radix conversion and constants, in the chosen
//! rounding mode; but its rounding modes are all round-to-*nearest* (`Up`/`Down` are "round half
//! up/down": they differ only in how ties break), so there is no directed rounding to use. It is
//! built here: every endpoint is computed to nearest at the working precision p and then moved
//! outward by two units in the last place, |x̃|·2^{2−p}. A correctly rounded operation needs half an
//! ulp of that. ln(1 + x) and eˣ − 1, which astro-float lacks, are composed here (`big`:
//! a series, or the plain function at extra precision, then rounded again) and are faithful,
//! within one ulp; the two ulps cover that too, and leave a margin should an implementation fall
//! short of its documented guarantee, which the tests cannot rule out everywhere. The move itself
//! is rounded to nearest and loses at most half an ulp of the margin. An exact zero is kept as it
//! is: nearest rounding returns 0 only when the true result is 0. The tests check the enclosures
//! against MPFR's correctly rounded values at higher precision.
//!
//! Monotone functions map endpoints to endpoints. Sign-dependent helpers (`softplus`, `logistic`,
//! `ln_add_exp`), which are increasing, are evaluated on each endpoint as a degenerate interval,
//! where every comparison is decided, and the outer ends are kept.

use crate::big::{
    BigReal, Precision, big_to_f64, binary_exponent, exp_m1_near, exp_plain, format_big,
    ln_1p_near, ln_plain, parse_big, power_of_two, with_consts,
};
use crate::decimal::{Direction, round_sci};
use crate::{ParseRealError, Real};
use astro_float::{BigFloat, RoundingMode};
use std::cmp::Ordering;
use std::fmt;
use std::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

const NEAREST: RoundingMode = RoundingMode::ToEven;

/// Which end of an interval is being computed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Lower,
    Upper,
}

/// `x` (a nearest-rounded result at `bits`) moved outward by two ulps.
fn outward(x: BigFloat, bits: usize, end: End) -> BigFloat {
    if x.is_zero() || x.is_nan() || x.is_inf() {
        return x;
    }
    let margin = x
        .abs()
        .mul(&power_of_two(2 - bits as i64, bits), bits, NEAREST);
    match end {
        End::Lower => x.sub(&margin, bits, NEAREST),
        End::Upper => x.add(&margin, bits, NEAREST),
    }
}

/// A closed interval [lo, hi] of reals at a working precision, with outward rounding.
#[derive(Clone)]
pub struct Interval {
    lo: BigFloat,
    hi: BigFloat,
    bits: usize,
}

impl Interval {
    /// [lo, hi] from two values (the caller guarantees lo ≤ hi).
    fn new(lo: BigFloat, hi: BigFloat, bits: usize) -> Self {
        Interval { lo, hi, bits }
    }

    fn point(x: BigFloat, bits: usize) -> Self {
        Interval {
            lo: x.clone(),
            hi: x,
            bits,
        }
    }

    fn nan(bits: usize) -> Self {
        Interval::point(astro_float::NAN, bits)
    }

    /// The lower end as an `f64` rounded to nearest (for plotting, not for proofs).
    pub fn lo_f64(&self) -> f64 {
        big_to_f64(&self.lo)
    }

    /// The upper end as an `f64` rounded to nearest (for plotting, not for proofs).
    pub fn hi_f64(&self) -> f64 {
        big_to_f64(&self.hi)
    }

    /// The lower end.
    pub fn lo(&self) -> &BigFloat {
        &self.lo
    }

    /// The upper end.
    pub fn hi(&self) -> &BigFloat {
        &self.hi
    }

    /// A decimal string ≤ the lower end.
    pub fn lo_string(&self) -> String {
        directed_decimal(&self.lo, self.bits, End::Lower)
    }

    /// A decimal string ≥ the upper end.
    pub fn hi_string(&self) -> String {
        directed_decimal(&self.hi, self.bits, End::Upper)
    }

    /// hi − lo, rounded up.
    pub fn width(&self) -> Interval {
        let w = outward(
            self.hi.sub(&self.lo, self.bits, NEAREST),
            self.bits,
            End::Upper,
        );
        Interval::point(w, self.bits)
    }

    /// True when `x` lies in [lo, hi].
    pub fn contains(&self, x: &BigFloat) -> bool {
        self.lo <= *x && *x <= self.hi
    }

    /// The degenerate interval at the lower end.
    pub fn lower_point(&self) -> Interval {
        Interval::point(self.lo.clone(), self.bits)
    }

    /// The degenerate interval at the upper end.
    pub fn upper_point(&self) -> Interval {
        Interval::point(self.hi.clone(), self.bits)
    }

    /// The smallest interval containing both enclosures, whatever their order: the image of a
    /// monotone function from its values at the two ends of a box, or the box between two
    /// points. It equals [lower.lo, upper.hi] when `lower` lies below `upper`, and is still the
    /// true hull when the arguments come reversed or overlap (a reversed span used to produce an
    /// interval with lo > hi, on which every later test is meaningless).
    pub fn span(lower: &Interval, upper: &Interval) -> Interval {
        lower.hull(upper)
    }

    /// True when lo = hi.
    pub fn is_point(&self) -> bool {
        self.lo == self.hi
    }

    /// Certainly inside [a, b] for every a enclosed by `min` and b enclosed by `max`:
    /// min.hi ≤ lo and hi ≤ max.lo.
    pub fn is_within(&self, min: &Interval, max: &Interval) -> bool {
        min.hi <= self.lo && self.hi <= max.lo
    }

    /// Certainly disjoint from [a, b] for every a enclosed by `min` and b enclosed by `max`:
    /// hi < min.lo or lo > max.hi.
    pub fn is_outside(&self, min: &Interval, max: &Interval) -> bool {
        self.hi < min.lo || self.lo > max.hi
    }

    /// True when the lower end is exactly zero.
    pub fn starts_at_zero(&self) -> bool {
        self.lo.is_zero()
    }

    /// The smallest interval containing both.
    pub fn hull(&self, other: &Interval) -> Interval {
        Interval::new(
            self.lo.min(&other.lo),
            self.hi.max(&other.hi),
            self.bits.max(other.bits),
        )
    }

    /// [lo, hi] from two decimal strings, enclosing both.
    pub fn from_decimals(ctx: &Precision, lo: &str, hi: &str) -> Result<Self, ParseRealError> {
        let a = Interval::parse_decimal(ctx, lo)?;
        let b = Interval::parse_decimal(ctx, hi)?;
        Ok(a.hull(&b))
    }

    /// Applies an increasing function given to nearest at `bits` bits.
    fn increasing(&self, f: impl Fn(&BigFloat, usize) -> BigFloat) -> Interval {
        Interval::new(
            outward(f(&self.lo, self.bits), self.bits, End::Lower),
            outward(f(&self.hi, self.bits), self.bits, End::Upper),
            self.bits,
        )
    }

    /// Applies an increasing function whose point evaluation is itself an interval computation.
    fn increasing_composite(&self, f: impl Fn(Interval) -> Interval) -> Interval {
        let lo = f(Interval::point(self.lo.clone(), self.bits)).lo;
        let hi = f(Interval::point(self.hi.clone(), self.bits)).hi;
        Interval::new(lo, hi, self.bits)
    }

    /// The largest distance max(|x − lo|, |x − hi|), rounded to nearest at 64 bits beyond both
    /// inputs, and that working precision (the callers' comparisons are made at it).
    fn gap(&self, x: &BigReal) -> (BigFloat, usize) {
        let bits = self
            .bits
            .max(x.as_big().mantissa_max_bit_len().unwrap_or(0))
            + 64;
        let x = x.as_big();
        let gap = x
            .sub(&self.lo, bits, NEAREST)
            .abs()
            .max(&x.sub(&self.hi, bits, NEAREST).abs());
        (gap, bits)
    }

    /// True when `x` is within relative `tol` of every point of the enclosure,
    /// |x − v| ≤ tol·|v| for all v in [lo, hi], so of the enclosed value whichever it is. False
    /// when the enclosure contains 0 or is not finite.
    pub fn vouches_for(&self, x: &BigReal, tol: f64) -> bool {
        if !self.is_normal() || !x.is_finite() {
            return false;
        }
        let (gap, bits) = self.gap(x);
        let smallest = self.lo.abs().min(&self.hi.abs());
        // The comparison is rounded at 64 bits beyond both inputs; shave the tolerance for it.
        let allowed = smallest.mul(&BigFloat::from_f64(tol * (1.0 - 1e-9), bits), bits, NEAREST);
        gap <= allowed
    }

    /// The largest relative distance max |x − v| / |v| of `x` from the points v of the enclosure
    /// (an upper bound, as `f64`); `None` when the enclosure contains 0 or is not finite.
    pub fn relative_distance(&self, x: &BigReal) -> Option<f64> {
        if !self.is_normal() || !x.is_finite() {
            return None;
        }
        let (gap, bits) = self.gap(x);
        let smallest = self.lo.abs().min(&self.hi.abs());
        let ratio = big_to_f64(&gap.div(&smallest, bits, NEAREST));
        // Rounded to nearest twice (quotient, f64): a relative nudge keeps it an upper bound.
        Some(ratio * (1.0 + 1e-12))
    }

    /// The largest distance max |x − v| of `x` from the points v of the enclosure (an upper
    /// bound, as `f64`); `None` when the enclosure is not finite.
    pub fn absolute_distance(&self, x: &BigReal) -> Option<f64> {
        if !self.is_finite() || !x.is_finite() {
            return None;
        }
        let (gap, _) = self.gap(x);
        Some(big_to_f64(&gap) * (1.0 + 1e-12))
    }

    /// True when `x` is within `delta` of every point of the enclosure: |x − v| ≤ delta for all
    /// v in [lo, hi] (for logarithms, where an absolute error is a relative one of the value).
    pub fn within_absolute(&self, x: &BigReal, delta: f64) -> bool {
        if !self.is_finite() || !x.is_finite() {
            return false;
        }
        let (gap, bits) = self.gap(x);
        gap <= BigFloat::from_f64(delta * (1.0 - 1e-9), bits)
    }

    /// Restricts to [min, max] (the domain of a function), NaN when disjoint.
    fn clamp_to(&self, min: &BigFloat, max: &BigFloat) -> Option<Interval> {
        if self.hi < *min || self.lo > *max || self.lo.is_nan() || self.hi.is_nan() {
            return None;
        }
        Some(Interval::new(self.lo.max(min), self.hi.min(max), self.bits))
    }
}

/// True when a nonzero finite end lies far enough inside astro-float's exponent range that the
/// outward move |x|·2^{2−p} is itself representable, i.e. the end carries full precision.
fn well_inside_range(x: &BigFloat, bits: usize) -> bool {
    match x.exponent() {
        Some(e) if !x.is_zero() && !x.is_subnormal() => {
            let (e, margin) = (e as i64, bits as i64 + 8);
            e > astro_float::EXPONENT_MIN as i64 + margin
                && e < astro_float::EXPONENT_MAX as i64 - 8
        }
        _ => false,
    }
}

/// A decimal bound of e^x for one end x of an enclosure of a logarithm: at or below e^x for the
/// lower end, at or above for the upper. With D = x / ln 10 enclosed and k = ⌊D.lo⌋ exact, the
/// mantissa 10^{D − k} is enclosed and rounded outward, and k is written out exactly; `None`
/// when |k| is too large for that (2^{p−2} or more, where x does not fix k anyway).
fn exp_end(x: &BigFloat, bits: usize, end: End) -> Option<String> {
    let ctx = Precision::new(bits as u64).ok()?;
    let ln10 = Interval::from_f64(&ctx, 10.0).ln();
    let d = Interval::point(x.clone(), bits) / &ln10;
    let k = d.lo.floor();
    if binary_exponent(&k).is_some_and(|e| e >= bits as i64 - 2) || !d.is_finite() {
        return None;
    }
    let mantissa = ((d - &Interval::point(k.clone(), bits)) * &ln10).exp();
    let text = match end {
        End::Lower => mantissa.lo_string(),
        End::Upper => mantissa.hi_string(),
    };
    Some(crate::format::shift_exponent(
        &text,
        &BigReal::from_big(k, ctx),
    ))
}

/// Decimal text for an endpoint, rounded outward with one decimal digit fewer than the precision
/// determines and after a further four-ulp move, so that the decimal conversion cannot make it
/// too tight.
fn directed_decimal(x: &BigFloat, bits: usize, end: End) -> String {
    if x.is_nan() {
        return "NaN".to_owned();
    }
    if x.is_inf() {
        return format_big(x, NEAREST);
    }
    if x.is_zero() {
        return "0e0".to_owned();
    }
    let mut moved = outward(x.clone(), bits, end);
    moved = outward(moved, bits, end);
    let text = format_big(&moved, NEAREST);
    let digits = Precision::new(bits as u64)
        .map(|p| p.decimal_digits())
        .unwrap_or(15)
        .saturating_sub(1)
        .max(1);
    let direction = match end {
        End::Lower => Direction::Down,
        End::Upper => Direction::Up,
    };
    round_sci(&text, digits, direction).unwrap_or(text)
}

impl fmt::Debug for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo_string(), self.hi_string())
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[{}, {}]", self.lo_string(), self.hi_string())
    }
}

impl PartialEq for Interval {
    /// Structural equality: the same two ends.
    fn eq(&self, other: &Self) -> bool {
        self.lo == other.lo && self.hi == other.hi
    }
}

impl PartialOrd for Interval {
    /// `Less` / `Greater` only when every point of one lies below / above every point of the
    /// other; `Equal` for identical degenerate intervals; otherwise undecided (`None`), so that
    /// `a < b` holds exactly when it is certain.
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        if self.hi < other.lo {
            Some(Ordering::Less)
        } else if self.lo > other.hi {
            Some(Ordering::Greater)
        } else if self.lo == self.hi && self == other {
            Some(Ordering::Equal)
        } else {
            None
        }
    }
}

impl Add<&Interval> for Interval {
    type Output = Interval;
    fn add(self, rhs: &Interval) -> Interval {
        let bits = self.bits.max(rhs.bits);
        Interval::new(
            outward(self.lo.add(&rhs.lo, bits, NEAREST), bits, End::Lower),
            outward(self.hi.add(&rhs.hi, bits, NEAREST), bits, End::Upper),
            bits,
        )
    }
}

impl Sub<&Interval> for Interval {
    type Output = Interval;
    fn sub(self, rhs: &Interval) -> Interval {
        let bits = self.bits.max(rhs.bits);
        Interval::new(
            outward(self.lo.sub(&rhs.hi, bits, NEAREST), bits, End::Lower),
            outward(self.hi.sub(&rhs.lo, bits, NEAREST), bits, End::Upper),
            bits,
        )
    }
}

/// The smallest and largest of the products (or quotients) of the ends, moved outward.
fn extremes(candidates: [BigFloat; 4], bits: usize) -> Interval {
    if candidates.iter().any(|c| c.is_nan()) {
        return Interval::nan(bits);
    }
    let mut lo = candidates[0].clone();
    let mut hi = candidates[0].clone();
    for c in &candidates[1..] {
        if *c < lo {
            lo = c.clone();
        }
        if *c > hi {
            hi = c.clone();
        }
    }
    Interval::new(
        outward(lo, bits, End::Lower),
        outward(hi, bits, End::Upper),
        bits,
    )
}

impl Mul<&Interval> for Interval {
    type Output = Interval;
    fn mul(self, rhs: &Interval) -> Interval {
        let bits = self.bits.max(rhs.bits);
        let m = |a: &BigFloat, b: &BigFloat| a.mul(b, bits, NEAREST);
        extremes(
            [
                m(&self.lo, &rhs.lo),
                m(&self.lo, &rhs.hi),
                m(&self.hi, &rhs.lo),
                m(&self.hi, &rhs.hi),
            ],
            bits,
        )
    }
}

impl Div<&Interval> for Interval {
    type Output = Interval;
    fn div(self, rhs: &Interval) -> Interval {
        let bits = self.bits.max(rhs.bits);
        let zero = BigFloat::from_i32(0, bits);
        if rhs.lo <= zero && rhs.hi >= zero {
            // Division by an interval containing 0 encloses nothing finite.
            return Interval::new(astro_float::INF_NEG, astro_float::INF_POS, bits);
        }
        let d = |a: &BigFloat, b: &BigFloat| a.div(b, bits, NEAREST);
        extremes(
            [
                d(&self.lo, &rhs.lo),
                d(&self.lo, &rhs.hi),
                d(&self.hi, &rhs.lo),
                d(&self.hi, &rhs.hi),
            ],
            bits,
        )
    }
}

macro_rules! by_value_ops {
    ($trait:ident, $method:ident, $assign_trait:ident, $assign_method:ident) => {
        impl $trait for Interval {
            type Output = Interval;
            fn $method(self, rhs: Interval) -> Interval {
                self.$method(&rhs)
            }
        }
        impl $assign_trait for Interval {
            fn $assign_method(&mut self, rhs: Interval) {
                *self = self.clone().$method(&rhs);
            }
        }
    };
}

by_value_ops!(Add, add, AddAssign, add_assign);
by_value_ops!(Sub, sub, SubAssign, sub_assign);
by_value_ops!(Mul, mul, MulAssign, mul_assign);
by_value_ops!(Div, div, DivAssign, div_assign);

impl Neg for Interval {
    type Output = Interval;
    fn neg(self) -> Interval {
        Interval::new(self.hi.neg(), self.lo.neg(), self.bits)
    }
}

/// Integer literals of up to 18 digits are read exactly.
fn exact_integer(text: &str) -> Option<i64> {
    let t = text.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || digits.len() > 18 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

impl Real for Interval {
    type Ctx = Precision;

    fn backend_name(ctx: &Precision) -> String {
        format!("astro-float interval {} bits", ctx.bits())
    }

    fn ctx(&self) -> Precision {
        Precision::new(self.bits as u64).expect("an Interval is made at a checked precision")
    }

    fn from_f64(ctx: &Precision, x: f64) -> Self {
        Interval::point(BigFloat::from_f64(x, ctx.bits()), ctx.bits())
    }

    fn from_i64(ctx: &Precision, i: i64) -> Self {
        let bits = ctx.bits();
        if bits >= 64 || i.unsigned_abs() < (1u64 << 53) {
            return Interval::point(BigFloat::from_i64(i, bits.max(64)), bits);
        }
        // Narrower precisions round it: enclose.
        let exact = BigFloat::from_i64(i, 64);
        let mut lo = exact.clone();
        let mut hi = exact;
        let _ = lo.set_precision(bits, NEAREST);
        let _ = hi.set_precision(bits, NEAREST);
        Interval::new(
            outward(lo, bits, End::Lower),
            outward(hi, bits, End::Upper),
            bits,
        )
    }

    fn parse_decimal(ctx: &Precision, text: &str) -> Result<Self, ParseRealError> {
        if let Some(i) = exact_integer(text) {
            return Ok(Interval::from_i64(ctx, i));
        }
        let bits = ctx.bits();
        let value = parse_big(text, bits, NEAREST).ok_or_else(|| ParseRealError {
            input: text.to_owned(),
            reason: "expected a decimal number such as 0.3, 12345 or 1e40".to_owned(),
        })?;
        Ok(Interval::new(
            outward(value.clone(), bits, End::Lower),
            outward(value, bits, End::Upper),
            bits,
        ))
    }

    fn to_f64(&self) -> f64 {
        let mid = self.lo.add(&self.hi, self.bits, NEAREST).div(
            &BigFloat::from_i32(2, self.bits),
            self.bits,
            NEAREST,
        );
        big_to_f64(&mid)
    }

    fn to_sci_string(&self) -> String {
        format!("[{}, {}]", self.lo_string(), self.hi_string())
    }

    fn significant_digits(ctx: &Precision) -> usize {
        ctx.decimal_digits().saturating_sub(1)
    }

    fn bounds_strings(&self) -> Option<(String, String)> {
        Some((self.lo_string(), self.hi_string()))
    }

    fn unit_roundoff(ctx: &Precision) -> Self {
        Interval::point(power_of_two(-(ctx.bits() as i64), ctx.bits()), ctx.bits())
    }

    fn is_finite(&self) -> bool {
        !(self.lo.is_nan() || self.hi.is_nan() || self.lo.is_inf() || self.hi.is_inf())
    }

    fn is_normal(&self) -> bool {
        self.is_finite()
            && well_inside_range(&self.lo, self.bits)
            && well_inside_range(&self.hi, self.bits)
            && self.lo.is_positive() == self.hi.is_positive()
    }

    fn exp_bounds_strings(&self) -> Option<(String, String)> {
        if self.lo.is_nan() || self.hi.is_nan() || self.hi.is_inf_pos() || self.lo > self.hi {
            return None;
        }
        let bound = |x: &BigFloat, end| {
            if x.is_inf_neg() {
                Some("0e0".to_owned())
            } else {
                exp_end(x, self.bits, end)
            }
        };
        Some((bound(&self.lo, End::Lower)?, bound(&self.hi, End::Upper)?))
    }

    fn exp(&self) -> Self {
        self.increasing(exp_plain)
    }

    fn ln(&self) -> Self {
        let bits = self.bits;
        let zero = BigFloat::from_i32(0, bits);
        if self.hi <= zero || self.lo.is_nan() {
            return Interval::nan(bits);
        }
        let hi = outward(ln_plain(&self.hi, bits), bits, End::Upper);
        let lo = if self.lo <= zero {
            astro_float::INF_NEG
        } else {
            outward(ln_plain(&self.lo, bits), bits, End::Lower)
        };
        Interval::new(lo, hi, bits)
    }

    fn ln_1p(&self) -> Self {
        let bits = self.bits;
        let minus_one = BigFloat::from_i32(-1, bits);
        if self.hi <= minus_one || self.lo.is_nan() {
            return Interval::nan(bits);
        }
        let hi = outward(ln_1p_near(&self.hi, bits), bits, End::Upper);
        let lo = if self.lo <= minus_one {
            astro_float::INF_NEG
        } else {
            outward(ln_1p_near(&self.lo, bits), bits, End::Lower)
        };
        Interval::new(lo, hi, bits)
    }

    fn exp_m1(&self) -> Self {
        self.increasing(exp_m1_near)
    }

    fn sqrt(&self) -> Self {
        let zero = BigFloat::from_i32(0, self.bits);
        match self.clamp_to(&zero, &astro_float::INF_POS) {
            Some(domain) => domain.increasing(|x, bits| x.sqrt(bits, NEAREST)),
            None => Interval::nan(self.bits),
        }
    }

    fn powf(&self, y: &Self) -> Self {
        (y.clone() * &self.ln()).exp()
    }

    fn acos(&self) -> Self {
        let bits = self.bits;
        let (min, max) = (BigFloat::from_i32(-1, bits), BigFloat::from_i32(1, bits));
        let Some(domain) = self.clamp_to(&min, &max) else {
            return Interval::nan(bits);
        };
        let f = |x: &BigFloat| with_consts(|cc| x.acos(bits, NEAREST, cc));
        // Decreasing: the upper end comes from the lower argument.
        Interval::new(
            outward(f(&domain.hi), bits, End::Lower),
            outward(f(&domain.lo), bits, End::Upper),
            bits,
        )
    }

    fn asin(&self) -> Self {
        let bits = self.bits;
        let (min, max) = (BigFloat::from_i32(-1, bits), BigFloat::from_i32(1, bits));
        match self.clamp_to(&min, &max) {
            Some(domain) => {
                domain.increasing(|x, bits| with_consts(|cc| x.asin(bits, NEAREST, cc)))
            }
            None => Interval::nan(bits),
        }
    }

    fn floor(&self) -> Self {
        Interval::new(self.lo.floor(), self.hi.floor(), self.bits)
    }

    fn abs(&self) -> Self {
        let zero = BigFloat::from_i32(0, self.bits);
        if self.lo >= zero {
            self.clone()
        } else if self.hi <= zero {
            -self.clone()
        } else {
            Interval::new(zero, self.hi.max(&self.lo.clone().neg()), self.bits)
        }
    }

    fn max(&self, other: &Self) -> Self {
        Interval::new(
            self.lo.max(&other.lo),
            self.hi.max(&other.hi),
            self.bits.max(other.bits),
        )
    }

    fn min(&self, other: &Self) -> Self {
        Interval::new(
            self.lo.min(&other.lo),
            self.hi.min(&other.hi),
            self.bits.max(other.bits),
        )
    }

    fn softplus(&self) -> Self {
        self.increasing_composite(|x| crate::softplus_formula(&x))
    }

    fn logistic(&self) -> Self {
        self.increasing_composite(|x| crate::logistic_formula(&x))
    }

    fn ln_add_exp(&self, other: &Self) -> Self {
        let bits = self.bits.max(other.bits);
        let at = |a: &BigFloat, b: &BigFloat| {
            crate::ln_add_exp_formula(
                &Interval::point(a.clone(), bits),
                &Interval::point(b.clone(), bits),
            )
        };
        Interval::new(at(&self.lo, &other.lo).lo, at(&self.hi, &other.hi).hi, bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BigReal;
    use proptest::prelude::*;

    fn ctx(bits: u64) -> Precision {
        Precision::new(bits).unwrap()
    }

    /// The value of `x` (as text) at 512 bits, the reference for 128-bit enclosures.
    fn fine(x: &BigReal) -> BigFloat {
        x.as_big().clone()
    }

    fn check(enclosure: &Interval, reference: &BigReal) -> Result<(), TestCaseError> {
        prop_assert!(
            enclosure.contains(&fine(reference)),
            "{enclosure} misses {reference}"
        );
        Ok(())
    }

    #[test]
    fn decimals_are_enclosed() {
        let third = Interval::parse_decimal(&ctx(128), "0.3").unwrap();
        let exact = BigReal::parse_decimal(&ctx(512), "0.3").unwrap();
        assert!(third.contains(exact.as_big()));
        assert!(third.lo < third.hi);
        let two = Interval::parse_decimal(&ctx(128), "2").unwrap();
        assert!(two.lo == two.hi);
        assert!(Interval::parse_decimal(&ctx(128), "x").is_err());
    }

    #[test]
    fn printed_ends_enclose_the_interval() {
        let x = Interval::parse_decimal(&ctx(128), "0.1").unwrap().exp();
        let lo = BigReal::parse_decimal(&ctx(512), &x.lo_string()).unwrap();
        let hi = BigReal::parse_decimal(&ctx(512), &x.hi_string()).unwrap();
        assert!(*lo.as_big() <= x.lo && x.hi <= *hi.as_big());
    }

    #[test]
    fn comparisons_are_certain_or_undecided() {
        let a = Interval::from_decimals(&ctx(128), "1", "2").unwrap();
        let b = Interval::from_decimals(&ctx(128), "3", "4").unwrap();
        let c = Interval::from_decimals(&ctx(128), "1.5", "3.5").unwrap();
        assert_eq!(a.partial_cmp(&b), Some(Ordering::Less));
        assert_eq!(b.partial_cmp(&a), Some(Ordering::Greater));
        assert_eq!(a.partial_cmp(&c), None);
    }

    /// e^ℓ at ℓ = −2.1e9 lies below astro-float's range (2^−2^31 ≈ 10^−646456993): the bounds
    /// come from ℓ, stay positive and carry the exact exponent (mpmath: 1.00732859385233525307…
    /// e-912018412).
    #[test]
    fn exponentials_below_the_range_keep_a_positive_lower_end() {
        let ln = Interval::parse_decimal(&ctx(128), "-2.1e9").unwrap();
        assert!(!ln.exp().is_normal());
        let (lo, hi) = ln.exp_bounds_strings().unwrap();
        for end in [&lo, &hi] {
            assert!(end.starts_with("1.0073285938523352530"), "{end}");
            assert!(end.ends_with("e-912018412"), "{end}");
        }
        assert!(lo < hi, "{lo} {hi}");
        // −∞ is the logarithm of 0; NaN bounds nothing.
        let minus_inf = Interval::new(astro_float::INF_NEG, BigFloat::from_i32(-5, 128), 128);
        assert_eq!(minus_inf.exp_bounds_strings().unwrap().0, "0e0");
        assert!(Interval::nan(128).exp_bounds_strings().is_none());
    }

    #[test]
    fn distances_bound_every_enclosed_point() {
        let x = Interval::from_decimals(&ctx(128), "1", "1.001").unwrap();
        let mid = BigReal::parse_decimal(&ctx(256), "1.0005").unwrap();
        let rel = x.relative_distance(&mid).unwrap();
        assert!((5e-4..5.1e-4).contains(&rel), "{rel}");
        assert!(x.vouches_for(&mid, 6e-4) && !x.vouches_for(&mid, 4e-4));
        assert!(x.within_absolute(&mid, 6e-4) && !x.within_absolute(&mid, 4e-4));
        let straddles = Interval::from_decimals(&ctx(128), "-1", "1").unwrap();
        assert!(straddles.relative_distance(&mid).is_none());
    }

    #[test]
    fn division_by_an_interval_containing_zero_is_unbounded() {
        let a = Interval::from_decimals(&ctx(128), "1", "2").unwrap();
        let z = Interval::from_decimals(&ctx(128), "-1", "1").unwrap();
        assert!(!(a / z).is_finite());
    }

    proptest! {
        /// Every interval operation on point inputs contains the 512-bit result.
        #[test]
        fn point_operations_are_enclosed(x in -30.0f64..30.0, y in 0.01f64..30.0, s in -1.0f64..1.0) {
            let (c, f) = (ctx(128), ctx(512));
            let ix = Interval::from_f64(&c, x);
            let iy = Interval::from_f64(&c, y);
            let fx = BigReal::from_f64(&f, x);
            let fy = BigReal::from_f64(&f, y);
            check(&(ix.clone() + &iy), &(fx.clone() + &fy))?;
            check(&(ix.clone() - &iy), &(fx.clone() - &fy))?;
            check(&(ix.clone() * &iy), &(fx.clone() * &fy))?;
            check(&(ix.clone() / &iy), &(fx.clone() / &fy))?;
            check(&ix.exp(), &fx.exp())?;
            check(&ix.exp_m1(), &fx.exp_m1())?;
            check(&iy.ln(), &fy.ln())?;
            check(&iy.sqrt(), &fy.sqrt())?;
            check(&iy.powf(&ix.clone().div(Interval::from_f64(&c, 10.0))), &fy.powf(&(fx.clone() / BigReal::from_f64(&f, 10.0))))?;
            check(&ix.softplus(), &fx.softplus())?;
            check(&ix.logistic(), &fx.logistic())?;
            check(&ix.ln_add_exp(&iy), &fx.ln_add_exp(&fy))?;
            if x > -1.0 {
                check(&ix.ln_1p(), &fx.ln_1p())?;
            }
            let is = Interval::from_f64(&c, s);
            let fs = BigReal::from_f64(&f, s);
            check(&is.acos(), &fs.acos())?;
            check(&is.asin(), &fs.asin())?;
        }

        /// Wide inputs: the image of an increasing function contains the images of the ends and
        /// of an inner point.
        #[test]
        fn wide_intervals_contain_inner_images(a in -5.0f64..5.0, w in 0.0f64..3.0, t in 0.0f64..1.0) {
            let (c, f) = (ctx(128), ctx(512));
            let x = Interval::from_decimals(&c, &a.to_string(), &(a + w).to_string()).unwrap();
            let inner = BigReal::from_f64(&f, a + t * w);
            check(&x.exp(), &inner.exp())?;
            check(&x.softplus(), &inner.softplus())?;
            check(&(x.clone() * &x), &(inner.clone() * &inner))?;
            check(&x.abs(), &inner.abs())?;
        }

        /// `span` is the hull of its two arguments in either order: it contains every point of
        /// both, its ends are ends of the arguments, and lo <= hi.
        #[test]
        fn span_is_the_hull_in_either_order(a in -5.0f64..5.0, wa in 0.0f64..2.0, b in -5.0f64..5.0, wb in 0.0f64..2.0, t in 0.0f64..1.0) {
            let c = ctx(128);
            let x = Interval::from_decimals(&c, &a.to_string(), &(a + wa).to_string()).unwrap();
            let y = Interval::from_decimals(&c, &b.to_string(), &(b + wb).to_string()).unwrap();
            let forward = Interval::span(&x, &y);
            let backward = Interval::span(&y, &x);
            prop_assert!(forward == backward);
            prop_assert!(forward.lo <= forward.hi);
            prop_assert!(forward.lo == x.lo().min(y.lo()) && forward.hi == x.hi().max(y.hi()));
            for z in [&x, &y] {
                let inner = BigFloat::from_f64(z.lo_f64() + t * (z.hi_f64() - z.lo_f64()), 128);
                prop_assert!(!z.contains(&inner) || forward.contains(&inner));
                prop_assert!(forward.contains(z.lo()) && forward.contains(z.hi()));
            }
        }
    }

    #[test]
    fn a_reversed_span_is_not_an_empty_interval() {
        let c = ctx(128);
        let high = Interval::from_f64(&c, 4.0);
        let low = Interval::from_f64(&c, 1.25);
        let span = Interval::span(&high, &low);
        assert!(span.contains(high.lo()) && span.contains(low.lo()));
        assert_eq!(span, Interval::span(&low, &high));
    }
}
