//! The two element types of the fast path (`f64`, `f32`) and the matrix products on them.
//!
//! All matrices are row-major slices with an explicit row stride. The products go through the
//! `gemm` crate (see the crate README for the measurement against `faer` and `matrixmultiply`),
//! always single-threaded: parallelism comes from rayon over fixed row blocks or tiles, so the
//! summation order of every entry is fixed by the block decomposition alone.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};

/// Flops of every [`gemm()`] call of this process: `[f64, f32]`.
static GEMM_FLOPS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// The floating-point operations the matrix products ([`gemm()`]) of this process have done so
/// far, 2·m·n·k per product of an m × k by a k × n matrix (a multiply and an add per term;
/// what a GEMM's rate in GFLOP/s counts), by element type. With the machine's measured GEMM
/// peak (`examples/peak.rs`) it gives the time the products alone need at that peak: a floor
/// for any computation made of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GemmFlops {
    /// Flops of the `f64` products.
    pub f64: u64,
    /// Flops of the `f32` products.
    pub f32: u64,
}

impl GemmFlops {
    /// The flops done between `earlier` and `self` (two readings of [`gemm_flops`]).
    pub fn since(self, earlier: GemmFlops) -> GemmFlops {
        GemmFlops {
            f64: self.f64.saturating_sub(earlier.f64),
            f32: self.f32.saturating_sub(earlier.f32),
        }
    }
}

/// The running total of [`GemmFlops`] of this process (all threads).
pub fn gemm_flops() -> GemmFlops {
    GemmFlops {
        f64: GEMM_FLOPS[0].load(Ordering::Relaxed),
        f32: GEMM_FLOPS[1].load(Ordering::Relaxed),
    }
}

/// An element type of the kernels: `f64` or `f32`. Reductions are always accumulated in `f64`.
pub trait Element:
    Copy
    + Debug
    + Default
    + PartialOrd
    + Send
    + Sync
    + 'static
    + std::ops::Add<Output = Self>
    + std::ops::Sub<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::ops::Div<Output = Self>
{
    /// `"f64"` or `"f32"`.
    const NAME: &'static str;
    /// Unit roundoff 2^{−p}.
    const UNIT_ROUNDOFF: f64;
    /// Zero.
    const ZERO: Self;
    /// One.
    const ONE: Self;
    /// Widening (exact) conversion.
    fn to_f64(self) -> f64;
    /// Rounding conversion.
    fn from_f64(v: f64) -> Self;
    /// Replaces every x by e^x (vectorised, see [`crate::simd`]).
    fn exp_in_place(xs: &mut [Self]);
    /// The raw product through the `gemm` crate; see [`gemm()`].
    ///
    /// # Safety
    ///
    /// The pointers and strides must describe valid matrices (checked by [`gemm()`]).
    #[allow(clippy::too_many_arguments)]
    unsafe fn raw_gemm(
        m: usize,
        n: usize,
        k: usize,
        dst: *mut Self,
        dst_rs: isize,
        accumulate: bool,
        lhs: *const Self,
        lhs_cs: isize,
        lhs_rs: isize,
        rhs: *const Self,
        rhs_cs: isize,
        rhs_rs: isize,
    );
}

macro_rules! impl_element {
    ($t:ty, $name:expr, $u:expr, $exp:path) => {
        impl Element for $t {
            const NAME: &'static str = $name;
            const UNIT_ROUNDOFF: f64 = $u;
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            #[inline(always)]
            fn to_f64(self) -> f64 {
                f64::from(self)
            }
            #[inline(always)]
            #[allow(clippy::cast_possible_truncation, clippy::unnecessary_cast)]
            fn from_f64(v: f64) -> Self {
                v as $t
            }
            fn exp_in_place(xs: &mut [Self]) {
                $exp(xs)
            }
            unsafe fn raw_gemm(
                m: usize,
                n: usize,
                k: usize,
                dst: *mut Self,
                dst_rs: isize,
                accumulate: bool,
                lhs: *const Self,
                lhs_cs: isize,
                lhs_rs: isize,
                rhs: *const Self,
                rhs_cs: isize,
                rhs_rs: isize,
            ) {
                // SAFETY: forwarded from the caller, which checked the extents.
                unsafe {
                    gemm::gemm(
                        m,
                        n,
                        k,
                        dst,
                        1,
                        dst_rs,
                        accumulate,
                        lhs,
                        lhs_cs,
                        lhs_rs,
                        rhs,
                        rhs_cs,
                        rhs_rs,
                        1.0,
                        1.0,
                        false,
                        false,
                        false,
                        gemm::Parallelism::None,
                    )
                }
            }
        }
    };
}

impl_element!(
    f64,
    "f64",
    1.1102230246251565e-16,
    crate::simd::exp_in_place_f64
);
impl_element!(
    f32,
    "f32",
    5.960464477539063e-8,
    crate::simd::exp_in_place_f32
);

/// How an operand of [`gemm()`] is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// As stored: an r × c operand is r rows of the slice.
    N,
    /// Transposed: an r × c operand is the transpose of c stored rows of length ≥ r.
    T,
}

/// A row-major matrix view: `rows` rows of `cols` entries, row i starting at `i * stride`.
#[derive(Debug, Clone, Copy)]
pub struct Mat<'a, T> {
    /// The entries.
    pub data: &'a [T],
    /// Stored rows.
    pub rows: usize,
    /// Stored columns.
    pub cols: usize,
    /// Distance between row starts.
    pub stride: usize,
}

impl<'a, T> Mat<'a, T> {
    /// A view of `rows` × `cols` with stride `stride`.
    ///
    /// # Panics
    ///
    /// If the slice is too short or the stride is smaller than `cols`.
    pub fn new(data: &'a [T], rows: usize, cols: usize, stride: usize) -> Self {
        assert!(stride >= cols, "stride {stride} < cols {cols}");
        assert!(
            rows == 0 || cols == 0 || data.len() >= (rows - 1) * stride + cols,
            "slice of {} too short for {rows} x {cols} with stride {stride}",
            data.len()
        );
        Self {
            data,
            rows,
            cols,
            stride,
        }
    }
}

/// C = op(A)·op(B) (or C += op(A)·op(B) when `accumulate`), C an m × n row-major block of `c`
/// with row stride `ldc`.
///
/// # Panics
///
/// If the shapes do not match or `c` is too short.
pub fn gemm<T: Element>(
    c: &mut [T],
    ldc: usize,
    accumulate: bool,
    a: Mat<'_, T>,
    op_a: Op,
    b: Mat<'_, T>,
    op_b: Op,
) {
    let (m, k) = match op_a {
        Op::N => (a.rows, a.cols),
        Op::T => (a.cols, a.rows),
    };
    let (kb, n) = match op_b {
        Op::N => (b.rows, b.cols),
        Op::T => (b.cols, b.rows),
    };
    assert_eq!(k, kb, "inner dimensions differ");
    assert!(ldc >= n, "ldc {ldc} < n {n}");
    if m == 0 || n == 0 {
        return;
    }
    assert!(c.len() >= (m - 1) * ldc + n, "destination too short");
    if k == 0 {
        if !accumulate {
            for i in 0..m {
                c[i * ldc..i * ldc + n].fill(T::ZERO);
            }
        }
        return;
    }
    let (a_cs, a_rs) = match op_a {
        Op::N => (1, a.stride as isize),
        Op::T => (a.stride as isize, 1),
    };
    let (b_cs, b_rs) = match op_b {
        Op::N => (1, b.stride as isize),
        Op::T => (b.stride as isize, 1),
    };
    let slot = usize::from(std::mem::size_of::<T>() != 8);
    GEMM_FLOPS[slot].fetch_add(2 * (m * n * k) as u64, Ordering::Relaxed);
    // SAFETY: `Mat::new` checked that every (row, col) of A and B lies in its slice, and the
    // assertion above that every (i, j), i < m, j < n, of C lies in `c`.
    unsafe {
        T::raw_gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            ldc as isize,
            accumulate,
            a.data.as_ptr(),
            a_cs,
            a_rs,
            b.data.as_ptr(),
            b_cs,
            b_rs,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;
    use proptest::prelude::*;

    fn naive(a: &[f64], b: &[f64], m: usize, k: usize, n: usize, ta: bool, tb: bool) -> Vec<f64> {
        let ga = |i: usize, p: usize| if ta { a[p * m + i] } else { a[i * k + p] };
        let gb = |p: usize, j: usize| if tb { b[j * k + p] } else { b[p * n + j] };
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| ga(i, p) * gb(p, j)).sum();
            }
        }
        c
    }

    /// Each product adds its 2·m·n·k to the counter of its element type (other tests may add
    /// theirs at the same time, hence the lower bounds).
    #[test]
    fn products_are_counted_by_element_type() {
        let (m, k, n) = (3, 5, 7);
        let before = gemm_flops();
        let mut c = vec![0.0f64; m * n];
        let (a, b) = (vec![1.0f64; m * k], vec![1.0f64; k * n]);
        gemm(
            &mut c,
            n,
            false,
            Mat::new(&a, m, k, k),
            Op::N,
            Mat::new(&b, k, n, n),
            Op::N,
        );
        let mid = gemm_flops();
        assert!(mid.since(before).f64 >= 2 * (m * k * n) as u64);
        let mut c32 = vec![0.0f32; m * n];
        let (a32, b32) = (vec![1.0f32; m * k], vec![1.0f32; k * n]);
        gemm(
            &mut c32,
            n,
            false,
            Mat::new(&a32, m, k, k),
            Op::N,
            Mat::new(&b32, k, n, n),
            Op::N,
        );
        assert!(gemm_flops().since(mid).f32 >= 2 * (m * k * n) as u64);
        assert_eq!(c32, vec![k as f32; m * n]);
    }

    proptest! {
        #[test]
        fn gemm_matches_naive_for_every_transpose(
            m in 1usize..20, k in 1usize..20, n in 1usize..20,
            ta in any::<bool>(), tb in any::<bool>(), seed in any::<u64>(),
        ) {
            let mut s = seed | 1;
            let mut rnd = || { s ^= s << 13; s ^= s >> 7; s ^= s << 17; (s % 1000) as f64 / 500.0 - 1.0 };
            let a: Vec<f64> = (0..m * k).map(|_| rnd()).collect();
            let b: Vec<f64> = (0..k * n).map(|_| rnd()).collect();
            let am = if ta { Mat::new(&a, k, m, m) } else { Mat::new(&a, m, k, k) };
            let bm = if tb { Mat::new(&b, n, k, k) } else { Mat::new(&b, k, n, n) };
            let mut c = vec![1.0; m * n];
            gemm(&mut c, n, true, am, if ta { Op::T } else { Op::N }, bm, if tb { Op::T } else { Op::N });
            let want = naive(&a, &b, m, k, n, ta, tb);
            for (g, w) in c.iter().zip(&want) {
                prop_assert!(abs_diff_eq!(*g, w + 1.0, epsilon = 1e-13));
            }
        }
    }
}
