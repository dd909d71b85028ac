//! Validation, the pre-layer norm and the centred tokens every kernel starts from. O(n·d).
//!
//! y_i = x_i/|x_i|, c = (1/n) Σ_i y_i, z_i = y_i − c. All kernels work with z: every quantity
//! of the layer that involves differences of tokens (|y_i − y_j|², y_j − m_i, the attention
//! covariance C_i) is invariant under a common shift, and in the centred frame the Gram entries
//! ⟨z_i, z_j⟩ are of the size of the spread of the tokens instead of 1. So, for tokens that all
//! lie near one direction (ρ near 1, or the collapsed outputs), the GEMM-shaped forms
//! |z_i − z_j|² = |z_i|² + |z_j|² − 2⟨z_i, z_j⟩ lose only the digits the spread has, not the digits
//! of 1 − ρ.

use crate::element::Element;
use crate::error::KernelError;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// β and α of the layer (THEORY §1): scores β⟨y_i, y_j⟩, output x'_i = Σ_j A_ij y_j + α x_i.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Inverse temperature β.
    pub beta: f64,
    /// Residual weight α.
    pub alpha: f64,
}

impl Params {
    /// β and α given directly.
    pub fn new(beta: f64, alpha: f64) -> Self {
        Self { beta, alpha }
    }

    /// β = γ ln n.
    pub fn from_gamma(gamma: f64, n: usize, alpha: f64) -> Self {
        Self {
            beta: gamma * (n as f64).ln(),
            alpha,
        }
    }

    pub(crate) fn validate(&self) -> Result<(), KernelError> {
        for (name, value) in [("beta", self.beta), ("alpha", self.alpha)] {
            if !value.is_finite() {
                return Err(KernelError::NonFiniteParam { name, value });
            }
        }
        Ok(())
    }
}

/// Tuning knobs. The defaults depend on n only (never on the thread count), so results are
/// bit-identical for any number of threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Rows per block; `None` picks [`default_block`]`(n)`.
    pub block: Option<usize>,
}

impl Options {
    pub(crate) fn block(&self, n: usize) -> usize {
        self.block
            .unwrap_or_else(|| default_block(n))
            .clamp(1, n.max(1))
    }
}

/// The default row block: 64 rows up to n = 512, 128 up to 2048, 256 beyond (measured: tiles of
/// 256 × 256 keep the GEMM micro-kernel busy while the tile's exponentials stay in L2).
pub fn default_block(n: usize) -> usize {
    if n <= 512 {
        64
    } else if n <= 2048 {
        128
    } else {
        256
    }
}

/// The tokens after the pre-layer norm, centred.
#[derive(Debug, Clone)]
pub struct Prepared<T> {
    /// Number of tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// |x_i|.
    pub norms: Vec<f64>,
    /// c = mean of the y_i.
    pub center: Vec<f64>,
    /// z_i = y_i − c, row-major n × d.
    pub z: Vec<T>,
    /// |z_i|² (accumulated in f64 from the stored z).
    pub zn: Vec<f64>,
}

impl<T: Element> Prepared<T> {
    /// Row i of z.
    pub fn zrow(&self, i: usize) -> &[T] {
        &self.z[i * self.d..(i + 1) * self.d]
    }

    /// y_{ia} = z_{ia} + c_a in f64.
    pub fn y(&self, i: usize, a: usize) -> f64 {
        self.z[i * self.d + a].to_f64() + self.center[a]
    }
}

/// |v| without overflow or underflow (scaled by the largest magnitude). The result is +∞ when
/// the norm itself exceeds f64's range although every entry is finite.
pub(crate) fn scaled_norm(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0f64, |m, e| m.max(e.abs()));
    if m == 0.0 {
        return 0.0;
    }
    let s: f64 = v.map(|e| (e / m) * (e / m)).sum();
    m * s.sqrt()
}

/// 2^512 and 2^−512: scaling by them is exact (away from the subnormal range).
const BIG: f64 = 1.340_780_792_994_259_7e154;
const SMALL: f64 = 7.458_340_731_200_207e-155;

/// Replaces `v` (finite entries) by its direction v/|v| and returns |v|: 0 for the zero vector
/// (left unchanged), +∞ when |v| exceeds f64's range although every entry is finite.
///
/// In the usual range (largest |entry| a normal number and |v| finite) this is v_a/|v| with
/// |v| from [`scaled_norm`], as before. Otherwise (entries near f64::MAX whose norm overflows,
/// or subnormal entries, where |v| would carry only the few bits of a subnormal and the
/// "direction" would not have length 1) the row is first scaled by powers of two, which is
/// exact, until its largest entry lies in [2^−512, 2^512); the direction is then that of the
/// scaled row, to full precision, and the norm is scaled back (+∞ if it overflows).
pub(crate) fn normalise_in_place(v: &mut [f64]) -> f64 {
    let r = scaled_norm(v.iter().copied());
    if r == 0.0 {
        return 0.0;
    }
    let m = v.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    if m.is_normal() && r.is_finite() {
        for e in v.iter_mut() {
            *e /= r;
        }
        return r;
    }
    // Powers of two applied to the entries; `shift` counts them (in units of 512 bits).
    let (mut m, mut shift) = (m, 0i32);
    while m >= BIG {
        v.iter_mut().for_each(|e| *e *= SMALL);
        m *= SMALL;
        shift += 1;
    }
    while m < SMALL {
        v.iter_mut().for_each(|e| *e *= BIG);
        m *= BIG;
        shift -= 1;
    }
    let rs = scaled_norm(v.iter().copied());
    for e in v.iter_mut() {
        *e /= rs;
    }
    let mut r = rs;
    for _ in 0..shift.unsigned_abs() {
        r *= if shift > 0 { BIG } else { SMALL };
    }
    r
}

/// z_i = y_i − c (rounded to T) and |z_i|² (accumulated in f64 from the rounded z), row by row
/// in parallel.
pub(crate) fn centre_rows<T: Element>(
    y: &[f64],
    center: &[f64],
    d: usize,
) -> Result<(Vec<T>, Vec<f64>), KernelError> {
    let mut z = crate::memory::try_zeros::<T>(y.len(), "the centred tokens z (n x d)")?;
    let zn = z
        .par_chunks_mut(d)
        .zip(y.par_chunks(d))
        .map(|(zr, yr)| {
            let mut s = 0.0;
            for ((zv, yv), c) in zr.iter_mut().zip(yr).zip(center) {
                *zv = T::from_f64(yv - c);
                s += zv.to_f64() * zv.to_f64();
            }
            s
        })
        .collect();
    Ok((z, zn))
}

/// Checks the tokens and the parameters, normalises and centres.
///
/// # Errors
///
/// [`KernelError::BadShape`] (n < 2 or d < 1), [`KernelError::NonFinite`] (first offending entry
/// in row-major order), [`KernelError::ZeroToken`], [`KernelError::NonFiniteParam`].
pub fn prepare<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
) -> Result<Prepared<T>, KernelError> {
    let (n, d) = x.dim();
    if n < 2 || d < 1 {
        return Err(KernelError::BadShape { n, d });
    }
    for (i, row) in x.rows().into_iter().enumerate() {
        for (a, v) in row.iter().enumerate() {
            if !v.to_f64().is_finite() {
                return Err(KernelError::NonFinite {
                    row: i,
                    col: a,
                    value: v.to_f64(),
                });
            }
        }
    }
    params.validate()?;
    // Rows are independent: normalise them in parallel (the result does not depend on the
    // thread count; the first zero row in row order is reported).
    let mut y = crate::memory::try_zeros::<f64>(n * d, "the directions y (n x d)")?;
    let norms: Vec<f64> = y
        .par_chunks_mut(d)
        .enumerate()
        .map(|(i, yr)| {
            for (yv, v) in yr.iter_mut().zip(x.row(i).iter()) {
                *yv = v.to_f64();
            }
            normalise_in_place(yr)
        })
        .collect();
    if let Some(i) = norms.iter().position(|&r| r == 0.0) {
        return Err(KernelError::ZeroToken { row: i });
    }
    let mut center = vec![0.0f64; d];
    for i in 0..n {
        for a in 0..d {
            center[a] += y[i * d + a];
        }
    }
    for c in &mut center {
        *c /= n as f64;
    }
    let (z, zn) = centre_rows::<T>(&y, &center, d)?;
    Ok(Prepared {
        n,
        d,
        norms,
        center,
        z,
        zn,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;

    /// The direction of `v` at unit scale, in f64 (the reference for the scaled rows).
    fn unit_direction(v: &[f64]) -> Vec<f64> {
        let r = v.iter().map(|e| e * e).sum::<f64>().sqrt();
        v.iter().map(|e| e / r).collect()
    }

    #[test]
    fn directions_are_exact_at_both_ends_of_the_range() {
        let base = [3.0, -4.0, 12.0, 0.5];
        let want = unit_direction(&base);
        // Powers of two keep the entries exact, so the direction must be the same to rounding.
        for k in [1023, 1000, 600, -1000, -1060, -1070] {
            // 2^k in two steps (powi(−1060) would underflow on the way).
            let s = 2f64.powi(k / 2) * 2f64.powi(k - k / 2);
            let mut v: Vec<f64> = base.iter().map(|e| e * s).collect();
            if v.iter().any(|e| !e.is_finite()) {
                continue;
            }
            let r = normalise_in_place(&mut v);
            assert!(r > 0.0, "2^{k}: norm {r}");
            for (g, w) in v.iter().zip(&want) {
                // Subnormal entries carry fewer bits: 0.5·2^−1070 keeps only a few.
                let tol = if k < -1050 { 1e-3 } else { 4e-16 };
                assert!(abs_diff_eq!(g, w, epsilon = tol), "2^{k}: {g} vs {w}");
            }
            let len: f64 = v.iter().map(|e| e * e).sum::<f64>().sqrt();
            assert!(
                abs_diff_eq!(len, 1.0, epsilon = 1e-15),
                "2^{k}: |y| = {len}"
            );
        }
        // Every entry 1e308: the norm overflows, the direction is (1, 1, 1, 1)/2.
        let mut v = vec![1e308; 4];
        assert_eq!(normalise_in_place(&mut v), f64::INFINITY);
        assert_eq!(v, vec![0.5; 4]);
        // Subnormal entries: the direction is exact, the norm is the subnormal it should be.
        let mut v = vec![1e-310, 1e-310, 0.0, 1e-310, 1e-310];
        let r = normalise_in_place(&mut v);
        assert!(r > 0.0 && abs_diff_eq!(r, 2e-310, epsilon = 1e-323), "{r}");
        assert_eq!(v, vec![0.5, 0.5, 0.0, 0.5, 0.5]);
        // The zero vector is left alone.
        let mut v = vec![0.0; 3];
        assert_eq!(normalise_in_place(&mut v), 0.0);
    }

    #[test]
    fn prepare_keeps_rows_of_huge_and_tiny_tokens() {
        let x = ndarray::array![[1.5e308, 1.5e308], [1.0, 0.0], [3e-320, -3e-320]];
        let p = prepare(x.view(), &Params::new(1.0, 0.0)).unwrap();
        let s = std::f64::consts::FRAC_1_SQRT_2;
        for (i, want) in [[s, s], [1.0, 0.0], [s, -s]].iter().enumerate() {
            for (a, w) in want.iter().enumerate() {
                assert!(
                    abs_diff_eq!(p.y(i, a), w, epsilon = 1e-15),
                    "y[{i}][{a}] = {}",
                    p.y(i, a)
                );
            }
        }
        assert_eq!(p.norms[0], f64::INFINITY);
        // f32 subnormals are widened exactly and normalised like any row.
        let x32 = ndarray::array![[1e-40f32, 1e-40], [1.0, 0.0]];
        let p = prepare(x32.view(), &Params::new(1.0, 0.0)).unwrap();
        assert!(
            abs_diff_eq!(p.y(0, 0), s, epsilon = 1e-7)
                && abs_diff_eq!(p.y(0, 1), s, epsilon = 1e-7)
        );
    }
}
