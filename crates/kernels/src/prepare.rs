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

/// |v| without overflow or underflow (scaled by the largest magnitude).
pub(crate) fn scaled_norm(v: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = v.clone().fold(0.0f64, |m, e| m.max(e.abs()));
    if m == 0.0 {
        return 0.0;
    }
    let s: f64 = v.map(|e| (e / m) * (e / m)).sum();
    m * s.sqrt()
}

/// z_i = y_i − c (rounded to T) and |z_i|² (accumulated in f64 from the rounded z), row by row
/// in parallel.
pub(crate) fn centre_rows<T: Element>(y: &[f64], center: &[f64], d: usize) -> (Vec<T>, Vec<f64>) {
    let mut z = vec![T::ZERO; y.len()];
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
    (z, zn)
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
    let mut y = vec![0.0f64; n * d];
    let norms: Vec<f64> = y
        .par_chunks_mut(d)
        .enumerate()
        .map(|(i, yr)| {
            let row = x.row(i);
            let r = scaled_norm(row.iter().map(|v| v.to_f64()));
            if r != 0.0 {
                for (yv, v) in yr.iter_mut().zip(row.iter()) {
                    *yv = v.to_f64() / r;
                }
            }
            r
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
    let (z, zn) = centre_rows::<T>(&y, &center, d);
    Ok(Prepared {
        n,
        d,
        norms,
        center,
        z,
        zn,
    })
}
