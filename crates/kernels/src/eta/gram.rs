//! The n × n ingredients of the exact η (see the parent module docs, "GEMM-shaped ingredients"):
//! the Gram matrix G = Z Zᵀ of the centred tokens (half of its tiles, mirrored), the attention A
//! rebuilt from it, and Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩² by the cheaper of two GEMM routes.
//!
//! **Q through half of H.** H is symmetric, so with column blocks K of width b and H̃ equal to H
//! except that its diagonal blocks H_KK are halved (exact in binary),
//! a_iᵀ H a_i = Σ_K a_iKᵀ H_KK a_iK + 2 Σ_{J>K} a_iJᵀ H_JK a_iK = 2 Σ_K ⟨a_iK, R_iK⟩ with
//! R_·K = A_·,J≥K H̃_J≥K,K: block column K of H is only read from row block K down, so the
//! products cost n²(n + b) flops instead of the 2n³ of A·H. (Measured at n = 4096: the Q phase
//! drops from 1.6 s to about 0.85 s. A Cholesky H = L Lᵀ would give Q_i = |Lᵀ a_i|² for
//! n³/3 + n³ flops, more than this, and needs care because H is only semidefinite.)

use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::memory::try_zeros;
use crate::prepare::Prepared;
use crate::tiles::block_starts;
use rayon::prelude::*;

/// A raw pointer that may be shared between threads that write disjoint regions.
#[derive(Clone, Copy)]
struct SyncPtr<T>(*mut T);
// SAFETY: only used to write disjoint tiles from different threads (see `symmetric_gram`).
unsafe impl<T: Send> Send for SyncPtr<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for SyncPtr<T> {}

impl<T> SyncPtr<T> {
    /// The pointer (a method, so that closures capture the whole `Sync` wrapper).
    fn get(self) -> *mut T {
        self.0
    }
}

/// G = Z Zᵀ (n × n, row-major), computing only the tiles I ≤ J and mirroring them.
pub(super) fn symmetric_gram<T: Element>(
    prep: &Prepared<T>,
    bs: usize,
) -> Result<Vec<T>, KernelError> {
    let (n, d) = (prep.n, prep.d);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let mut g = try_zeros::<T>(n * n, "the Gram matrix G (n x n)")?;
    let ptr = SyncPtr(g.as_mut_ptr());
    let tiles: Vec<(usize, usize)> = (0..nb).flat_map(|i| (i..nb).map(move |j| (i, j))).collect();
    let z = &prep.z;
    tiles.par_iter().for_each_init(
        || vec![T::ZERO; bs * bs],
        |buf, &(bi, bj)| {
            let base = ptr.get();
            let (i0, i1, j0, j1) = (starts[bi], starts[bi + 1], starts[bj], starts[bj + 1]);
            let (ri, rj) = (i1 - i0, j1 - j0);
            gemm(
                buf,
                rj,
                false,
                Mat::new(&z[i0 * d..i1 * d], ri, d, d),
                Op::N,
                Mat::new(&z[j0 * d..j1 * d], rj, d, d),
                Op::T,
            );
            // SAFETY: tile (bi, bj) writes rows i0..i1 × columns j0..j1 and its mirror rows
            // j0..j1 × columns i0..i1; distinct tiles I ≤ J cover disjoint regions (a diagonal
            // tile writes only its own square, from one thread), and every index is < n·n. Rows are written contiguously:
            // the mirror reads the tile (in cache) by columns instead of writing G by columns.
            unsafe {
                for ii in 0..ri {
                    let dst = base.add((i0 + ii) * n + j0);
                    std::ptr::copy_nonoverlapping(buf.as_ptr().add(ii * rj), dst, rj);
                }
                if bi != bj {
                    for jj in 0..rj {
                        let dst = base.add((j0 + jj) * n + i0);
                        for ii in 0..ri {
                            *dst.add(ii) = buf[ii * rj + jj];
                        }
                    }
                } else {
                    // The strict lower triangle is mirrored, so that G is exactly symmetric.
                    for ii in 0..ri {
                        let dst = base.add((i0 + ii) * n + j0);
                        for jj in ii + 1..rj {
                            *dst.add(jj) = buf[jj * rj + ii];
                        }
                    }
                }
            }
        },
    );
    Ok(g)
}

/// δ_ij = max(0, (|z_i|² + |z_j|²)/2 − G_ij), and 0 on the diagonal.
#[inline(always)]
pub(crate) fn delta(zn: &[f64], g: f64, i: usize, j: usize) -> f64 {
    if i == j {
        0.0
    } else {
        (0.5 * (zn[i] + zn[j]) - g).max(0.0)
    }
}

/// The attention A (n × n, row-major) from G: row i is exp(−βδ_ij) normalised, see
/// [`attention_rows`]; rows in parallel, by groups of [`SOFTMAX_ROWS`].
pub(super) fn attention_from_gram<T: Element>(
    g: &[T],
    zn: &[f64],
    n: usize,
    beta: f64,
) -> Result<Vec<T>, KernelError> {
    let mut a = try_zeros::<T>(n * n, "the attention matrix A (n x n)")?;
    a.par_chunks_mut(SOFTMAX_ROWS * n)
        .zip(g.par_chunks(SOFTMAX_ROWS * n))
        .enumerate()
        .for_each(|(b, (ab, gb))| attention_rows(ab, gb, b * SOFTMAX_ROWS, zn, beta));
    Ok(a)
}

/// Rows whose sums [`attention_rows`] adds side by side (one per f64 lane of AVX-512).
pub(crate) const SOFTMAX_ROWS: usize = 8;

/// The attention rows A_i· = exp(−βδ_ij)/Σ_j exp(−βδ_ij) for i = i0, i0 + 1, … into `a` from the
/// same rows of G in `g` (both row-major with rows of length n = `zn.len()`). The exponents and
/// the scaling run in `pulp` kernels; the normalising sum of each row is taken in the order
/// j = 0, 1, …, n − 1 (as `Iterator::sum`), for [`SOFTMAX_ROWS`] rows at once so that their
/// chains of dependent additions overlap.
pub(crate) fn attention_rows<T: Element>(a: &mut [T], g: &[T], i0: usize, zn: &[f64], beta: f64) {
    let n = zn.len();
    pulp::Arch::new().dispatch(Exponents { a, g, i0, zn, beta });
    for row in a.chunks_exact_mut(n) {
        T::exp_in_place(row);
    }
    for group in a.chunks_mut(SOFTMAX_ROWS * n) {
        pulp::Arch::new().dispatch(Normalise { a: group, n });
    }
}

/// The exponents −βδ_ij of rows i0.. (first step of [`attention_rows`]).
struct Exponents<'a, T> {
    a: &'a mut [T],
    g: &'a [T],
    i0: usize,
    zn: &'a [f64],
    beta: f64,
}

impl<T: Element> pulp::WithSimd for Exponents<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Exponents { a, g, i0, zn, beta } = self;
        let n = zn.len();
        for (ii, (row, grow)) in a.chunks_exact_mut(n).zip(g.chunks_exact(n)).enumerate() {
            let i = i0 + ii;
            let zi = zn[i];
            // The expression of `delta` off the diagonal, then its 0 on the diagonal.
            for ((av, gv), znj) in row.iter_mut().zip(grow).zip(zn) {
                *av = T::from_f64(-beta * (0.5 * (zi + znj) - gv.to_f64()).max(0.0));
            }
            row[i] = T::from_f64(-beta * 0.0);
        }
    }
}

/// Divides each of up to [`SOFTMAX_ROWS`] rows (length `n`) by its sum (last step of
/// [`attention_rows`]).
struct Normalise<'a, T> {
    a: &'a mut [T],
    n: usize,
}

impl<T: Element> pulp::WithSimd for Normalise<'_, T> {
    type Output = ();
    #[inline(always)]
    // The lane loops index the sums and the rows by lane: the shape the compiler vectorises.
    #[allow(clippy::needless_range_loop)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        const L: usize = SOFTMAX_ROWS;
        let Normalise { a, n } = self;
        // Each sum starts at −0.0 and adds in column order, as `Iterator::sum` does.
        let mut s = [-0.0f64; L];
        if a.len() == L * n {
            let rows: [&[T]; L] = std::array::from_fn(|l| &a[l * n..(l + 1) * n]);
            let full = n / L * L;
            for j0 in (0..full).step_by(L) {
                let tile: [&[T]; L] = std::array::from_fn(|l| &rows[l][j0..j0 + L]);
                for jj in 0..L {
                    for l in 0..L {
                        s[l] += tile[l][jj].to_f64();
                    }
                }
            }
            for j in full..n {
                for l in 0..L {
                    s[l] += rows[l][j].to_f64();
                }
            }
        } else {
            for (sl, row) in s.iter_mut().zip(a.chunks_exact(n)) {
                *sl = row.iter().map(|v| v.to_f64()).sum();
            }
        }
        for (sl, row) in s.iter().zip(a.chunks_exact_mut(n)) {
            let inv = 1.0 / sl;
            for v in row.iter_mut() {
                *v = T::from_f64(v.to_f64() * inv);
            }
        }
    }
}

/// Q_i = |Σ_j A_ij K_j|² with K_j = vech(z_j z_jᵀ), off-diagonal entries × √2, so that
/// ⟨K_j, K_l⟩ = ⟨z_j, z_l⟩²: one n × n × d(d+1)/2 GEMM per row block (`starts`), the route of
/// [`q_diag`] and of the lean η when 2·d(d+1)/2 < n.
pub(crate) fn q_vech<T: Element>(
    prep: &Prepared<T>,
    a: &[T],
    starts: &[usize],
) -> Result<Vec<f64>, KernelError> {
    let (n, d) = (prep.n, prep.d);
    let dh = d * (d + 1) / 2;
    let nb = starts.len() - 1;
    let s2 = std::f64::consts::SQRT_2;
    let mut k = try_zeros::<T>(n * dh, "the matrix of vech(z zT) (n x d(d+1)/2)")?;
    k.par_chunks_mut(dh).enumerate().for_each(|(j, row)| {
        let zj = prep.zrow(j);
        let mut idx = 0;
        for p in 0..d {
            for q in p..d {
                let w = if p == q { 1.0 } else { s2 };
                row[idx] = T::from_f64(w * zj[p].to_f64() * zj[q].to_f64());
                idx += 1;
            }
        }
    });
    Ok((0..nb)
        .into_par_iter()
        .map(|b| {
            let (i0, i1) = (starts[b], starts[b + 1]);
            let ri = i1 - i0;
            let mut f = vec![T::ZERO; ri * dh];
            gemm(
                &mut f,
                dh,
                false,
                Mat::new(&a[i0 * n..i1 * n], ri, n, n),
                Op::N,
                Mat::new(&k, n, dh, dh),
                Op::N,
            );
            f.chunks(dh)
                .map(|r| r.iter().map(|v| v.to_f64() * v.to_f64()).sum::<f64>())
                .collect::<Vec<f64>>()
        })
        .collect::<Vec<_>>()
        .concat())
}

/// Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩², by the cheaper of the two GEMM routes.
pub(super) fn q_diag<T: Element>(
    prep: &Prepared<T>,
    a: &[T],
    g: &[T],
    bs: usize,
) -> Result<Vec<f64>, KernelError> {
    let (n, d) = (prep.n, prep.d);
    let dh = d * (d + 1) / 2;
    // Taller row blocks for the n × n × n product: B (n × n) is packed once per block, so fewer
    // blocks pack it fewer times (measured: 512 rows run this shape ~15% faster than 256).
    let kb = bs.min(n);
    let bs = bs.max(512).min(n);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    // The vech route costs 2n²·dh flops, the triangular one n²(n + kb).
    if 2 * dh < n {
        q_vech(prep, a, &starts)
    } else {
        // Q_i = aᵀ H a with H = G∘G symmetric: by column blocks K of H (the block size of the
        // options, 256 at large n: measured as fast as 128 and 512),
        // Q_i = 2 Σ_K ⟨a_iK, R_iK⟩ with R_·K = A_·,K.. H̃_K..,K, where H̃ is H with its diagonal
        // blocks halved (exact in binary) and only the rows from block K on are used: half of
        // the n³ product of the plain A·H.
        let kstarts = block_starts(n, kb);
        let nk = kstarts.len() - 1;
        let mut h: Vec<T> = try_zeros::<T>(n * n, "the matrix G∘G (n x n)")?;
        h.par_chunks_mut(n).enumerate().for_each(|(j, hr)| {
            let gr = &g[j * n..(j + 1) * n];
            for (hv, gv) in hr.iter_mut().zip(gr) {
                *hv = *gv * *gv;
            }
            let k = j / kb;
            let half = T::from_f64(0.5);
            for hv in &mut hr[kstarts[k]..kstarts[k + 1]] {
                *hv = *hv * half;
            }
        });
        let tasks: Vec<(usize, usize)> =
            (0..nb).flat_map(|b| (0..nk).map(move |k| (b, k))).collect();
        let parts: Vec<Vec<f64>> = tasks
            .par_iter()
            .map_init(
                || vec![T::ZERO; bs * kb],
                |r, &(b, kk)| {
                    let (i0, i1) = (starts[b], starts[b + 1]);
                    let (k0, k1) = (kstarts[kk], kstarts[kk + 1]);
                    let (ri, rk) = (i1 - i0, k1 - k0);
                    gemm(
                        r,
                        rk,
                        false,
                        Mat::new(&a[i0 * n + k0..], ri, n - k0, n),
                        Op::N,
                        Mat::new(&h[k0 * n + k0..], n - k0, rk, n),
                        Op::N,
                    );
                    (0..ri)
                        .map(|ii| {
                            let ar = &a[(i0 + ii) * n + k0..(i0 + ii) * n + k1];
                            let rr = &r[ii * rk..(ii + 1) * rk];
                            ar.iter()
                                .zip(rr)
                                .map(|(x, y)| x.to_f64() * y.to_f64())
                                .sum::<f64>()
                        })
                        .collect()
                },
            )
            .collect();
        let mut q = vec![0.0f64; n];
        for (&(b, _), part) in tasks.iter().zip(&parts) {
            for (qv, pv) in q[starts[b]..starts[b + 1]].iter_mut().zip(part) {
                *qv += pv;
            }
        }
        for qv in &mut q {
            *qv *= 2.0;
        }
        Ok(q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prepare::{Params, prepare};
    use crate::testutil::tokens;
    use approx::abs_diff_eq;

    #[test]
    fn both_q_routes_agree() {
        // d(d+1) < n takes the vech route, the other the (G∘G) GEMM, here with 3 uneven column
        // blocks (5, 5, 2); force both on one input.
        let x = tokens(0, 40, 5, 7, 0.0);
        let prep = prepare(x.view(), &Params::new(3.0, 0.0)).unwrap();
        let g = symmetric_gram(&prep, 7).unwrap();
        let a = attention_from_gram(&g, &prep.zn, 40, 3.0).unwrap();
        let q1 = q_diag(&prep, &a, &g, 7).unwrap();
        let x2 = tokens(0, 12, 5, 7, 0.0);
        let prep2 = prepare(x2.view(), &Params::new(3.0, 0.0)).unwrap();
        let g2 = symmetric_gram(&prep2, 5).unwrap();
        let a2 = attention_from_gram(&g2, &prep2.zn, 12, 3.0).unwrap();
        let q2 = q_diag(&prep2, &a2, &g2, 5).unwrap();
        for (qs, prep, a, n) in [(&q1, &prep, &a, 40usize), (&q2, &prep2, &a2, 12)] {
            for i in 0..n {
                let mut want = 0.0;
                for j in 0..n {
                    for l in 0..n {
                        let gz: f64 = prep
                            .zrow(j)
                            .iter()
                            .zip(prep.zrow(l))
                            .map(|(u, v)| u * v)
                            .sum();
                        want += a[i * n + j] * a[i * n + l] * gz * gz;
                    }
                }
                assert!(
                    abs_diff_eq!(qs[i], want, epsilon = 1e-13 * want.max(1e-300)),
                    "Q_{i}: {} vs {want}",
                    qs[i]
                );
            }
        }
    }
}
