//! A vectorised exponential, dispatched at run time (AVX-512 / AVX2+FMA / scalar) through `pulp`.
//!
//! `pulp` 0.22 compiles a closure three times, with the target features of x86-64-v4 (AVX-512),
//! x86-64-v3 (AVX2 + FMA) and none, and picks the best one the CPU has when it is called. The
//! loops below are written as straight-line lane-wise code (no branches, only selects), which the
//! compiler turns into 8-wide (f64, AVX-512) or 16-wide (f32) vector code inside each variant.
//! `pulp` has no exponential, so it is written here.
//!
//! **Algorithm (Cody–Waite range reduction + polynomial).** For x in the finite range,
//!
//! * k = round(x / ln 2), computed as t = x·log₂e + 1.5·2⁵² (the addition rounds to an integer
//!   because the ulp of t is 1; its low mantissa bits are k);
//! * r = (x − k·ln2_hi) − k·ln2_lo, with ln 2 = ln2_hi + ln2_lo split so that k·ln2_hi is exact
//!   for |k| < 2²⁰; then |r| ≤ ln2/2 + ε;
//! * e^r = Σ_{m=0}^{13} r^m/m! (Horner with FMA); the truncation error r¹⁴/14! ≤ 4.2e-18 is below
//!   half an ulp;
//! * e^x = e^r · 2^{k₁} · 2^{k₂} with k₁ = ⌊k/2⌋, k₂ = k − k₁, so each power of two is a normal
//!   number even where the result is subnormal (k down to −1075); for normal results the two
//!   scalings are exact.
//!
//! Beyond the range the result is set by selects: x > 709.78 gives +∞, x < −745.14 gives 0 and
//! NaN gives NaN. The error is at most 2 ulp over the whole range (tested against `f64::exp`).
//!
//! The `f32` version is the same with t = x·log₂e + 1.5·2²³, Cephes's ln 2 split
//! (0.693359375 − 2.12194440e-4) and Cephes's degree-7 polynomial for e^r (≤ 1 ulp in f32).

use pulp::{Arch, Simd, WithSimd};

const LOG2E: f64 = std::f64::consts::LOG2_E;
#[allow(clippy::excessive_precision)] // the fdlibm split of ln 2, digit for digit
const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
#[allow(clippy::excessive_precision)]
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
const SHIFT: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
/// Above this e^x overflows to +∞ in f64.
pub const EXP_F64_MAX: f64 = 709.782_712_893_384;
/// Below this e^x rounds to 0 in f64.
pub const EXP_F64_MIN: f64 = -745.133_219_101_941_1;

/// 1/m! for m = 2..=13, highest first (Horner order).
const INV_FACT: [f64; 12] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
];

/// e^x for one f64, in the branch-free form the vector loops use (see the module docs).
#[inline(always)]
pub fn exp_f64(x: f64) -> f64 {
    let xc = x.clamp(-746.0, 710.0);
    let t = xc.mul_add(LOG2E, SHIFT);
    let k = t - SHIFT;
    let r = k.mul_add(-LN2_HI, xc);
    let r = k.mul_add(-LN2_LO, r);
    let mut p = INV_FACT[0];
    for c in &INV_FACT[1..] {
        p = p.mul_add(r, *c);
    }
    p = p.mul_add(r, 1.0);
    p = p.mul_add(r, 1.0);
    // k₁ = ⌊k/2⌋ and k₂ = k − k₁ as exact integers in floating point, then as exponent bits.
    let k1 = (k * 0.5).floor();
    let k2 = k - k1;
    let bits = |v: f64| (v + SHIFT).to_bits().wrapping_sub(SHIFT.to_bits());
    let s1 = f64::from_bits(bits(k1).wrapping_add(1023) << 52);
    let s2 = f64::from_bits(bits(k2).wrapping_add(1023) << 52);
    let y = p * s1 * s2;
    let y = if x > EXP_F64_MAX { f64::INFINITY } else { y };
    let y = if x < EXP_F64_MIN { 0.0 } else { y };
    if x.is_nan() { x } else { y }
}

const LOG2E_F32: f32 = std::f32::consts::LOG2_E;
const LN2_HI_F32: f32 = 0.693_359_4;
const LN2_LO_F32: f32 = -2.121_944_4e-4;
const SHIFT_F32: f32 = 12_582_912.0; // 1.5 * 2^23
/// Above this e^x overflows to +∞ in f32.
pub const EXP_F32_MAX: f32 = 88.722_83;
/// Below this e^x rounds to 0 in f32.
pub const EXP_F32_MIN: f32 = -103.972_08;

/// e^x for one f32 (see the module docs).
#[inline(always)]
#[allow(clippy::excessive_precision)] // Cephes's coefficients as published
pub fn exp_f32(x: f32) -> f32 {
    let xc = x.clamp(-104.0, 89.0);
    let t = xc.mul_add(LOG2E_F32, SHIFT_F32);
    let k = t - SHIFT_F32;
    let r = k.mul_add(-LN2_HI_F32, xc);
    let r = k.mul_add(-LN2_LO_F32, r);
    let mut p: f32 = 1.987_569_2e-4;
    p = p.mul_add(r, 1.398_199_9e-3);
    p = p.mul_add(r, 8.333_452e-3);
    p = p.mul_add(r, 4.166_579_6e-2);
    p = p.mul_add(r, 1.666_666_5e-1);
    p = p.mul_add(r, 5.000_000_1e-1);
    let p = (p * r).mul_add(r, r) + 1.0;
    let k1 = (k * 0.5).floor();
    let k2 = k - k1;
    let bits = |v: f32| (v + SHIFT_F32).to_bits().wrapping_sub(SHIFT_F32.to_bits());
    let s1 = f32::from_bits(bits(k1).wrapping_add(127) << 23);
    let s2 = f32::from_bits(bits(k2).wrapping_add(127) << 23);
    let y = p * s1 * s2;
    let y = if x > EXP_F32_MAX { f32::INFINITY } else { y };
    let y = if x < EXP_F32_MIN { 0.0 } else { y };
    if x.is_nan() { x } else { y }
}

struct ExpF64<'a>(&'a mut [f64]);
impl WithSimd for ExpF64<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        for v in self.0.iter_mut() {
            *v = exp_f64(*v);
        }
    }
}

struct ExpF32<'a>(&'a mut [f32]);
impl WithSimd for ExpF32<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) {
        for v in self.0.iter_mut() {
            *v = exp_f32(*v);
        }
    }
}

/// Replaces every x by e^x, with the best instruction set of this CPU.
pub fn exp_in_place_f64(xs: &mut [f64]) {
    Arch::new().dispatch(ExpF64(xs));
}

/// Replaces every x by e^x, with the best instruction set of this CPU.
pub fn exp_in_place_f32(xs: &mut [f32]) {
    Arch::new().dispatch(ExpF32(xs));
}

/// Replaces every x by e^x without vector instructions (the fallback path; for tests).
pub fn exp_in_place_f64_scalar(xs: &mut [f64]) {
    Arch::Scalar.dispatch(ExpF64(xs));
}

/// Replaces every x by e^x without vector instructions (the fallback path; for tests).
pub fn exp_in_place_f32_scalar(xs: &mut [f32]) {
    Arch::Scalar.dispatch(ExpF32(xs));
}

/// Name of the instruction set [`exp_in_place_f64`] dispatches to on this CPU.
pub fn dispatched_isa() -> &'static str {
    match Arch::new() {
        #[cfg(target_arch = "x86_64")]
        Arch::V4(_) => "avx512",
        #[cfg(target_arch = "x86_64")]
        Arch::V3(_) => "avx2+fma",
        _ => "scalar",
    }
}

struct FmaProbe(u64);
impl WithSimd for FmaProbe {
    type Output = f64;
    #[inline(always)]
    fn with_simd<S: Simd>(self, _simd: S) -> f64 {
        // 12 independent 8-lane accumulators: enough chains to cover the FMA latency (4 cycles)
        // times the number of FMA pipes, so the loop runs at the FMA throughput.
        let mut acc = [[0.0f64; 8]; 12];
        let b = std::hint::black_box([1.000_000_1f64; 8]);
        let c = std::hint::black_box([1e-9f64; 8]);
        for _ in 0..self.0 {
            for a in acc.iter_mut() {
                for l in 0..8 {
                    a[l] = a[l].mul_add(b[l], c[l]);
                }
            }
        }
        std::hint::black_box(acc).iter().flatten().sum()
    }
}

/// Measures the peak f64 FMA rate of **one core** in flop/s: a register-only loop of 96
/// independent FMAs per iteration (2 flops each), compiled for the dispatched instruction set,
/// timed over `iters` iterations. Multiply by the number of cores for the machine's peak.
pub fn measure_peak_f64_flops_one_core(iters: u64) -> f64 {
    let t = std::time::Instant::now();
    let s = Arch::new().dispatch(FmaProbe(iters));
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(s);
    (iters as f64) * 12.0 * 8.0 * 2.0 / secs
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Distance in units in the last place, through the ordered integer image of the floats.
    fn ulps64(a: f64, b: f64) -> u64 {
        let key = |v: f64| {
            let b = v.to_bits() as i64;
            if b < 0 { i64::MIN - b } else { b }
        };
        key(a).abs_diff(key(b))
    }

    fn ulps32(a: f32, b: f32) -> u32 {
        let key = |v: f32| {
            let b = v.to_bits() as i32;
            if b < 0 { i32::MIN - b } else { b }
        };
        key(a).abs_diff(key(b))
    }

    fn check64(xs: &[f64]) -> Result<(), TestCaseError> {
        let mut v = xs.to_vec();
        exp_in_place_f64(&mut v);
        let mut s = xs.to_vec();
        exp_in_place_f64_scalar(&mut s);
        for ((x, got), sc) in xs.iter().zip(&v).zip(&s) {
            let want = x.exp();
            prop_assert!(
                ulps64(*got, want) <= 2,
                "exp({x:e}) = {got:e}, libm {want:e}"
            );
            prop_assert!(
                ulps64(*sc, want) <= 2,
                "scalar exp({x:e}) = {sc:e}, libm {want:e}"
            );
        }
        Ok(())
    }

    fn check32(xs: &[f32]) -> Result<(), TestCaseError> {
        let mut v = xs.to_vec();
        exp_in_place_f32(&mut v);
        let mut s = xs.to_vec();
        exp_in_place_f32_scalar(&mut s);
        for ((x, got), sc) in xs.iter().zip(&v).zip(&s) {
            // Correctly rounded reference: f64 exp rounded to f32.
            let want = (f64::from(*x)).exp() as f32;
            prop_assert!(
                ulps32(*got, want) <= 2,
                "expf({x:e}) = {got:e}, want {want:e}"
            );
            prop_assert!(
                ulps32(*sc, want) <= 2,
                "scalar expf({x:e}) = {sc:e}, want {want:e}"
            );
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn exp_f64_within_two_ulps_over_the_whole_range(xs in prop::collection::vec(-746.0f64..710.0, 1..64)) {
            check64(&xs)?;
        }

        #[test]
        fn exp_f64_within_two_ulps_near_zero(xs in prop::collection::vec(-1.0f64..1.0, 1..64)) {
            check64(&xs)?;
        }

        #[test]
        fn exp_f32_within_two_ulps_over_the_whole_range(xs in prop::collection::vec(-104.0f32..89.0, 1..64)) {
            check32(&xs)?;
        }
    }

    #[test]
    fn exp_edges() {
        let xs = [
            0.0,
            -0.0,
            1e-300,
            -1e-300,
            EXP_F64_MAX,
            EXP_F64_MAX + 1e-9,
            -708.39,
            -708.4,
            -740.0,
            -745.0,
            EXP_F64_MIN,
            EXP_F64_MIN - 1e-9,
            -1e300,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        check64(&xs).unwrap();
        let mut nan = [f64::NAN; 9];
        exp_in_place_f64(&mut nan);
        assert!(nan.iter().all(|v| v.is_nan()));
        let xs32 = [
            0.0f32,
            88.7,
            88.8,
            -87.0,
            -100.0,
            -103.9,
            -104.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        check32(&xs32).unwrap();
        assert_eq!(exp_f64(0.0), 1.0);
        assert_eq!(exp_f32(0.0), 1.0);
    }

    #[test]
    fn every_subnormal_exponent_is_close() {
        // One input per binade of the result down to the smallest subnormal: compare in absolute
        // terms in units of the smallest subnormal, where ulps are that unit.
        let mut x = -708.0;
        while x > -745.1 {
            let got = exp_f64(x);
            let want = x.exp();
            assert!(ulps64(got, want) <= 2, "exp({x}) = {got:e} vs {want:e}");
            x -= 0.37;
        }
    }
}
