//! The gradient size η = ‖∂X'/∂X‖²_F/(nd) (THEORY §3, §5b), exactly and by Hutchinson's estimator,
//! without the nd × nd Jacobian.
//!
//! # The exact form
//!
//! Notation: y_i unit, r_i = |x_i|, δ_ij = 1 − ⟨y_i, y_j⟩, A the attention, m_i = Σ_j A_ij y_j,
//! C_i = Σ_j A_ij (y_j − m_i)(y_j − m_i)ᵀ, Π_k = I − y_k y_kᵀ. THEORY §5b gives the blocks
//! J_ik = D_ik Π_k/r_k + αδ_ik I with D_ik = A_ik(I + β(y_k − m_i)y_iᵀ) + δ_ik βC_i, and
//! ‖MΠ_k‖² = ‖M‖² − |M y_k|² for any M.
//!
//! **Off-diagonal blocks** (k ≠ i), with w = y_k − m_i:
//! ‖I + βw y_iᵀ‖² = d + 2β⟨w, y_i⟩ + β²|w|² and |(I + βw y_iᵀ)y_k|² = 1 + 2β⟨y_i, y_k⟩⟨w, y_k⟩
//! + β²⟨y_i, y_k⟩²|w|², so
//!
//! ‖J_ik‖² = (A_ik²/r_k²)·[(d − 1) + 2β(⟨w, y_i⟩ − ⟨y_i, y_k⟩⟨w, y_k⟩) + β²|w|²(1 − ⟨y_i, y_k⟩²)]
//!
//! with ⟨w, y_i⟩ = δ̄_i − δ_ik (δ̄_i = Σ_j A_ij δ_ij = 1 − ⟨m_i, y_i⟩), ⟨w, y_k⟩ = P_ik and
//! 1 − ⟨y_i, y_k⟩² = δ_ik(2 − δ_ik).
//!
//! **Diagonal blocks**, F = D_ii = a(I + βv y_iᵀ) + βC (a = A_ii, v = y_i − m_i): expanding
//! ‖F‖² − |F y_i|², every term with v cancels and
//!
//! ‖F Π_i‖² = a²(d − 1) + 2aβ(tr C − y_iᵀC y_i) + β²(tr C² − |C y_i|²),
//! tr(F Π_i) = a(d − 1) + β(tr C − y_iᵀ C y_i),
//! ‖J_ii‖² = ‖FΠ_i‖²/r_i² + 2α tr(FΠ_i)/r_i + α² d.
//!
//! **GEMM-shaped ingredients**, in the centred frame z = y − c, μ_i = m_i − c (all invariant
//! under the shift, see [`mod@crate::prepare`]): G = Z Zᵀ (half, symmetric tiles), M = A Z,
//! B = M Zᵀ (B_ik = ⟨μ_i, z_k⟩), and
//!
//! * |w|² = |z_k|² − 2B_ik + |μ_i|²; P_ik = ⟨y_k − m_i, y_k⟩ = |z_k|² − B_ik + ⟨z_k, c⟩ − ⟨μ_i, c⟩;
//! * tr C_i = Σ_j A_ij |z_j − μ_i|²; y_iᵀC_i y_i = Σ_j A_ij (δ_ij − δ̄_i)² (the variance of δ_i·);
//! * C_i y_i = Σ_j A_ij(δ̄_i − δ_ij) z_j = (W Z)_i with W_ij = A_ij(δ̄_i − δ_ij) (its weights sum to
//!   0, so the shift drops out): one more GEMM;
//! * tr C_i² = ‖S_i − μ_iμ_iᵀ‖² with S_i = Σ_j A_ij z_j z_jᵀ, i.e. Q_i − 2Σ_j A_ij B_ij² + |μ_i|⁴ with
//!   Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩² = a_iᵀ H a_i with H = G∘G, or, when d(d+1) < n,
//!   Q_i = |Σ_j A_ij vech(z_j z_jᵀ)|² with off-diagonal entries weighted by √2: an
//!   n × n × d(d+1)/2 GEMM (2n²·d(d+1)/2 flops).
//!
//! **Q through half of H.** H is symmetric, so with column blocks K of width b and H̃ equal to H
//! except that its diagonal blocks H_KK are halved (exact in binary),
//! a_iᵀ H a_i = Σ_K a_iKᵀ H_KK a_iK + 2 Σ_{J>K} a_iJᵀ H_JK a_iK = 2 Σ_K ⟨a_iK, R_iK⟩ with
//! R_·K = A_·,J≥K H̃_J≥K,K: block column K of H is only read from row block K down, so the
//! products cost n²(n + b) flops instead of the 2n³ of A·H. (Measured at n = 4096: the Q phase
//! drops from 1.6 s to about 0.85 s. A Cholesky H = L Lᵀ would give Q_i = |Lᵀ a_i|² for
//! n³/3 + n³ flops, more than this, and needs care because H is only semidefinite.)
//!
//! Work O(n²d + n³) (n³ + 6n²d flops: the triangular Q products, M = A Z, B = M Zᵀ, W Z, and
//! half of G) or O(n²d²); memory three n × n matrices (G, A and G∘G when that route is
//! taken). All sums over rows are taken in row order, so the result does not depend on the thread
//! count.
//!
//! **Cancellation.** Every quantity above is a difference of tokens or of tokens and means, so
//! the centring bounds the magnitudes by the spread of the tokens; tr C_i² = Q_i − 2s_i + |μ_i|⁴
//! still cancels when row i attends to one token (then tr C_i² → 0 while Q_i ≈ |z_i|⁴), with an
//! absolute error of a few ulps of |z_i|⁴ multiplied by β². At moderate β this is the order of
//! the rounding of the reference Jacobian itself; at very large β it swamps η (1e10 in f64, 1e3
//! in f32), so [`eta_exact`] carries an estimate of this error alongside the sum
//! ([`eta_exact_with_error`]) and refuses when it exceeds [`eta_error_limit`].
//!
//! # Hutchinson
//!
//! (J v)_i = Σ_k A_ik u_k + β Σ_k A_ik (g_ik + g_ki − ⟨m_i, u_i⟩) z_k − β(Σ_k A_ik g_ik) μ_i + α v_i,
//! with u_k = Π_k v_k/r_k and g_ik = ⟨y_i, u_k⟩ (from the matrix-free product of THEORY §5b;
//! the weights of C_i u_i sum to zero, so it is a GEMM with z). Per probe four GEMMs of n·n·d:
//! O(k n² d) for k probes, in row blocks (memory O(n·d) per probe in a batch plus O(b·n)).
//! When row i attends only to itself, g_ii = ⟨y_i, u_i⟩ = 0 and μ_i = z_i, so the β terms cancel
//! and their rounding (u·|u_i|, times β) remains: an estimate of it is kept per probe, and the
//! estimate is refused when it exceeds [`eta_error_limit`] of η and a quarter of the standard
//! error.

use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::forward::accumulate_eu;
use crate::memory::try_zeros;
use crate::prepare::{Options, Params, Prepared, prepare};
use crate::tiles::{block_starts, simd_run};
use ndarray::ArrayView2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use rayon::prelude::*;

/// A Monte-Carlo estimate: sample mean, standard error, sample size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Sample mean.
    pub mean: f64,
    /// Sample standard deviation (denominator k − 1) over √k.
    pub stderr: f64,
    /// Number of probes k.
    pub probes: usize,
}

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
fn symmetric_gram<T: Element>(prep: &Prepared<T>, bs: usize) -> Result<Vec<T>, KernelError> {
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
fn delta(zn: &[f64], g: f64, i: usize, j: usize) -> f64 {
    if i == j {
        0.0
    } else {
        (0.5 * (zn[i] + zn[j]) - g).max(0.0)
    }
}

/// Replaces rows of G by the attention rows A_i· (exp(−βδ_ij) normalised), in parallel.
fn attention_from_gram<T: Element>(
    g: &[T],
    zn: &[f64],
    n: usize,
    beta: f64,
) -> Result<Vec<T>, KernelError> {
    let mut a = try_zeros::<T>(n * n, "the attention matrix A (n x n)")?;
    a.par_chunks_mut(n).enumerate().for_each(|(i, row)| {
        let grow = &g[i * n..(i + 1) * n];
        simd_run(|| {
            for (j, (av, gv)) in row.iter_mut().zip(grow).enumerate() {
                *av = T::from_f64(-beta * delta(zn, gv.to_f64(), i, j));
            }
        });
        T::exp_in_place(row);
        let s: f64 = row.iter().map(|v| v.to_f64()).sum();
        let inv = 1.0 / s;
        for v in row.iter_mut() {
            *v = T::from_f64(v.to_f64() * inv);
        }
    });
    Ok(a)
}

/// Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩², by the cheaper of the two GEMM routes.
fn q_diag<T: Element>(
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
        // K_j = vech(z_j z_jᵀ) with off-diagonal entries × √2, so ⟨K_j, K_l⟩ = ⟨z_j, z_l⟩².
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

/// The largest estimated relative rounding error with which [`eta_exact`] (and
/// [`eta_hutchinson`]) report η: 1e-6 in `f64`, 1e-2 in `f32`. The estimate is an over-estimate
/// (3 to 100 times the actual error in the tests), so f32 results that pass it are typically
/// good to 1e-4 or better; in f32 the limit is set so that moderate β (up to about 300 on a
/// simplex, with close pairs of tokens in d = 2) is not refused for the estimate's pessimism.
pub fn eta_error_limit<T: Element>() -> f64 {
    if T::UNIT_ROUNDOFF < 1e-10 { 1e-6 } else { 1e-2 }
}

/// The exact η = ‖∂X'/∂X‖²_F/(nd) (see the module docs for the formula), refused when its
/// estimated rounding error exceeds [`eta_error_limit`] (see [`eta_exact_with_error`]).
///
/// # Errors
///
/// What [`prepare`] reports; [`KernelError::NonFiniteResult`] if the sum overflows;
/// [`KernelError::PrecisionLoss`] when the rounding error could exceed the limit (very large
/// β, above all in `f32`); [`KernelError::OutOfMemory`] if an n × n matrix cannot be
/// allocated.
pub fn eta_exact<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<f64, KernelError> {
    let (eta, err) = eta_exact_with_error(x, params, opts)?;
    let limit = eta_error_limit::<T>();
    if err > limit * eta {
        return Err(KernelError::PrecisionLoss {
            what: "exact eta",
            precision: T::NAME,
            bound: err / eta,
            limit,
            beta: params.beta,
        });
    }
    Ok(eta)
}

/// Relative size of the rounding error of the terms, per unit roundoff: sums of n products in
/// the GEMMs and d in the Gram entries, whose errors grow like √n and √d (random-walk model).
/// Calibrated by measurement: on simplices (n = d = 64) and random tokens (n ≤ 9), f64 and f32,
/// β from 1 to 1e10, the estimate is 1.5 to 100 times the actual error of η (checked against
/// the closed form and the reference Jacobian in `tests/simulate_safety.rs`).
fn error_factor(n: usize, d: usize) -> f64 {
    2.0 + 0.25 * ((n as f64).sqrt() + (d as f64).sqrt())
}

/// [`eta_exact`] without the refusal: η and an estimate of its absolute rounding error.
///
/// **Why an estimate is needed.** When row i attends almost only to itself (large β),
/// tr C_i² = Q_i − 2Σ_j A_ij B_ij² + |μ_i|⁴ is a small difference of terms of size |z_i|⁴, and
/// it is multiplied by β²: its rounding error, a few u·|z_i|⁴·β², grows like β² while the exact
/// value tends to (d − 1)/r_i² (at β = 1e10 in f64 the computed η of a simplex was 20 times too
/// large). The estimate adds, for every cancelling sum, u_T·c(n, d) times the sum of the
/// magnitudes of its terms (u_T the unit roundoff of the working precision, c = 2 + (√n + √d)/4),
/// with the powers of β and the weights with which the sum enters η. It does not change η.
///
/// # Errors
///
/// As [`eta_exact`], except [`KernelError::PrecisionLoss`].
pub fn eta_exact_with_error<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<(f64, f64), KernelError> {
    let prep = prepare(x, params)?;
    let (n, d) = (prep.n, prep.d);
    let (beta, alpha) = (params.beta, params.alpha);
    if d == 1 {
        // In one dimension y_k = ±1 does not move (Π_k = 0), so J = αI exactly.
        return Ok((alpha * alpha, 0.0));
    }
    let bs = opts.block(n);
    let g = symmetric_gram(&prep, bs)?;
    let a = attention_from_gram(&g, &prep.zn, n, beta)?;
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let z = &prep.z;

    // M = A Z (the centred attention means μ_i), |μ_i|², ⟨μ_i, c⟩ and ⟨z_k, c⟩.
    let mut m = try_zeros::<T>(n * d, "the attention means M = A Z (n x d)")?;
    m.par_chunks_mut(bs * d).enumerate().for_each(|(b, mb)| {
        let (i0, i1) = (starts[b], starts[b + 1]);
        gemm(
            mb,
            d,
            false,
            Mat::new(&a[i0 * n..i1 * n], i1 - i0, n, n),
            Op::N,
            Mat::new(z, n, d, d),
            Op::N,
        );
    });
    let dotc = |row: &[T]| -> f64 {
        row.iter()
            .zip(&prep.center)
            .map(|(v, c)| v.to_f64() * c)
            .sum()
    };
    let m2: Vec<f64> = m
        .chunks(d)
        .map(|r| r.iter().map(|v| v.to_f64() * v.to_f64()).sum())
        .collect();
    let mc: Vec<f64> = m.chunks(d).map(dotc).collect();
    let zc: Vec<f64> = z.chunks(d).map(dotc).collect();
    let q = q_diag(&prep, &a, &g, bs)?;
    let ku = error_factor(n, d) * T::UNIT_ROUNDOFF;
    let zn_max = prep.zn.iter().fold(0.0f64, |m, v| m.max(*v));
    let zc_max = zc.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let inv_r2: Vec<f64> = prep.norms.iter().map(|r| 1.0 / (r * r)).collect();
    let df = d as f64;

    let per_row: Vec<(f64, f64)> = (0..nb)
        .into_par_iter()
        .map(|b| {
            let (i0, i1) = (starts[b], starts[b + 1]);
            let ri = i1 - i0;
            // B_I = M_I Zᵀ.
            let mut bz = vec![T::ZERO; ri * n];
            gemm(
                &mut bz,
                n,
                false,
                Mat::new(&m[i0 * d..i1 * d], ri, d, d),
                Op::N,
                Mat::new(z, n, d, d),
                Op::T,
            );
            // δ̄_i and W_I = A_ij(δ̄_i − δ_ij).
            let mut w = vec![T::ZERO; ri * n];
            let mut dbar = vec![0.0f64; ri];
            for ii in 0..ri {
                let i = i0 + ii;
                let (ar, gr) = (&a[i * n..(i + 1) * n], &g[i * n..(i + 1) * n]);
                let s: f64 = (0..n)
                    .map(|j| ar[j].to_f64() * delta(&prep.zn, gr[j].to_f64(), i, j))
                    .sum();
                dbar[ii] = s;
                for j in 0..n {
                    let dl = delta(&prep.zn, gr[j].to_f64(), i, j);
                    w[ii * n + j] = T::from_f64(ar[j].to_f64() * (s - dl));
                }
            }
            let mut cy = vec![T::ZERO; ri * d];
            gemm(
                &mut cy,
                d,
                false,
                Mat::new(&w, ri, n, n),
                Op::N,
                Mat::new(z, n, d, d),
                Op::N,
            );
            (0..ri)
                .map(|ii| {
                    let i = i0 + ii;
                    let (ar, gr, br) = (
                        &a[i * n..(i + 1) * n],
                        &g[i * n..(i + 1) * n],
                        &bz[ii * n..(ii + 1) * n],
                    );
                    let (mu2, db) = (m2[i], dbar[ii]);
                    let (mut trc, mut ycy, mut s1, mut off) = (0.0, 0.0, 0.0, 0.0);
                    // For the error estimate only (three more operations per entry):
                    // P_i = Σ_k A_ik |z_k|², Σ_k A_ik |B_ik| and Σ_{k≠i} A_ik²/r_k².
                    let (mut p_i, mut s1_abs, mut s2) = (0.0, 0.0, 0.0);
                    for k in 0..n {
                        let akv = ar[k].to_f64();
                        let bik = br[k].to_f64();
                        let dl = delta(&prep.zn, gr[k].to_f64(), i, k);
                        let w2 = (prep.zn[k] - 2.0 * bik + mu2).max(0.0);
                        trc += akv * w2;
                        ycy += akv * (dl - db) * (dl - db);
                        s1 += akv * bik * bik;
                        p_i += akv * prep.zn[k];
                        s1_abs += akv * bik.abs();
                        if k != i {
                            let p = (prep.zn[k] - bik) + (zc[k] - mc[i]);
                            let bracket = (df - 1.0)
                                + 2.0 * beta * ((db - dl) - (1.0 - dl) * p)
                                + beta * beta * w2 * dl * (2.0 - dl);
                            let wk = akv * akv * inv_r2[k];
                            off += wk * bracket;
                            s2 += wk;
                        }
                    }
                    // The off-diagonal brackets: δ carries an error of u·(|z_i|² + |z_k|²), w2
                    // one of u·(|z_k|² + 2|B_ik| + |μ_i|²), p one of u·(its terms); bounded
                    // here by the row's largest values (|B_ik| ≤ |μ_i||z_k|, δ ≤ 2).
                    let w2_max = zn_max + 2.0 * (zn_max * mu2).sqrt() + mu2;
                    let dl_max = prep.zn[i] + zn_max;
                    let p_max = zn_max + (zn_max * mu2).sqrt() + zc_max + mc[i].abs();
                    let off_err = s2
                        * (2.0 * beta * beta * w2_max * (2.0 + dl_max)
                            + 2.0 * beta * (dl_max * (2.0 + p_max) + p_max));
                    let trc_mag = p_i + 2.0 * s1_abs + mu2;
                    let cy2: f64 = cy[ii * d..(ii + 1) * d]
                        .iter()
                        .map(|v| v.to_f64() * v.to_f64())
                        .sum();
                    let trc2 = (q[i] - 2.0 * s1 + mu2 * mu2).max(0.0);
                    let av = ar[i].to_f64();
                    let t1 = (trc - ycy).max(0.0);
                    let t2 = (trc2 - cy2).max(0.0);
                    let fp = av * av * (df - 1.0) + 2.0 * av * beta * t1 + beta * beta * t2;
                    let trfp = av * (df - 1.0) + beta * t1;
                    let r = prep.norms[i];
                    let value = off + fp / (r * r) + 2.0 * alpha * trfp / r + alpha * alpha * df;
                    // tr C² − |C y|² cancels its terms Q, 2Σ A B², |μ|⁴, |Cy|² (each ≤ P_i²,
                    // P_i = Σ_j A_ij |z_j|², up to the factor 2); tr C − yᵀCy its terms.
                    let t2_mag = q[i] + 2.0 * s1 + mu2 * mu2 + cy2 + 2.0 * s1_abs * p_i.sqrt();
                    let t1_mag = trc_mag + ycy + db * db;
                    let diag_err = (beta * beta * t2_mag + 2.0 * av * beta * t1_mag) / (r * r)
                        + 2.0 * alpha * beta * t1_mag / r;
                    (value, ku * (diag_err + off_err))
                })
                .collect::<Vec<(f64, f64)>>()
        })
        .collect::<Vec<_>>()
        .concat();
    let eta = per_row.iter().map(|r| r.0).sum::<f64>() / (n as f64 * df);
    if !eta.is_finite() {
        return Err(KernelError::NonFiniteResult { what: "exact eta" });
    }
    let err = per_row.iter().map(|r| r.1).sum::<f64>() / (n as f64 * df);
    Ok((eta, err))
}

/// Probes per pass of [`eta_hutchinson`] (bounds the memory to a few n × d matrices per probe).
pub(crate) const PROBE_BATCH: usize = 8;

/// Hutchinson's estimate of η: the mean over `probes` directions v ~ N(0, I_{nd}) of |J v|²/(nd),
/// with its standard error.
///
/// The draws are those of `critscale_model::eta_hutchinson`: a `ChaCha8Rng` seeded with
/// `seed_from_u64(seed)` draws `StandardNormal` f64s probe after probe, each probe's n·d entries in
/// row-major order; so the two estimates agree to rounding for the same seed.
///
/// # Errors
///
/// [`KernelError::TooFewProbes`] if probes < 2; what [`prepare`] reports.
pub fn eta_hutchinson<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    probes: usize,
    seed: u64,
    opts: &Options,
) -> Result<Estimate, KernelError> {
    if probes < 2 {
        return Err(KernelError::TooFewProbes { probes });
    }
    // One sample and one error bound per probe, allocated fallibly before any work.
    let oom = || KernelError::OutOfMemory {
        what: "the Hutchinson samples (2 x probes)",
        bytes: (probes as u64).saturating_mul(16),
    };
    let mut samples: Vec<f64> = Vec::new();
    let mut errors: Vec<f64> = Vec::new();
    samples.try_reserve_exact(probes).map_err(|_| oom())?;
    errors.try_reserve_exact(probes).map_err(|_| oom())?;
    let prep = prepare(x, params)?;
    let (n, d) = (prep.n, prep.d);
    let bs = opts.block(n);
    let (beta, alpha) = (params.beta, params.alpha);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let (u_acc, sums) = accumulate_eu(&prep, beta, bs);
    // μ_i = U_i / Z_i.
    let mu: Vec<f64> = (0..n * d)
        .map(|k| u_acc[k].to_f64() / (1.0 + sums.s0[k / d]))
        .collect();
    let z = &prep.z;
    // For the error estimate: |μ_i| and max_k |z_k|.
    let mu_norm: Vec<f64> = mu
        .chunks(d)
        .map(|r| r.iter().map(|v| v * v).sum::<f64>().sqrt())
        .collect();
    let zmax = prep.zn.iter().fold(0.0f64, |m, v| m.max(*v)).sqrt();
    let ku = error_factor(n, d) * T::UNIT_ROUNDOFF;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut done = 0;
    while done < probes {
        let batch = PROBE_BATCH.min(probes - done);
        // v, u = Π v / r, ⟨c, u_k⟩, ⟨μ_i, u_i⟩ for each probe of the batch.
        let mut vs = Vec::with_capacity(batch);
        let mut us = Vec::with_capacity(batch);
        let mut cus = Vec::with_capacity(batch);
        let mut uns = Vec::with_capacity(batch);
        for _ in 0..batch {
            let v: Vec<f64> = (0..n * d)
                .map(|_| T::from_f64(rng.sample::<f64, _>(StandardNormal)).to_f64())
                .collect();
            let mut u = vec![T::ZERO; n * d];
            let mut cu = vec![0.0f64; n];
            let mut un = vec![0.0f64; n];
            for k in 0..n {
                let vk = &v[k * d..(k + 1) * d];
                let p: f64 = (0..d).map(|b| prep.y(k, b) * vk[b]).sum();
                let mut s = 0.0;
                let mut s2 = 0.0;
                for b in 0..d {
                    let ub = (vk[b] - p * prep.y(k, b)) / prep.norms[k];
                    let ut = T::from_f64(ub);
                    u[k * d + b] = ut;
                    s += prep.center[b] * ut.to_f64();
                    s2 += ub * ub;
                }
                cu[k] = s;
                un[k] = s2.sqrt();
            }
            vs.push(v);
            us.push(u);
            cus.push(cu);
            uns.push(un);
        }
        // Per block, per probe: Σ_{i in block} |(J v)_i|².
        let per_block: Vec<Vec<(f64, f64)>> = (0..nb)
            .into_par_iter()
            .map(|b| {
                let (i0, i1) = (starts[b], starts[b + 1]);
                let ri = i1 - i0;
                let zi = Mat::new(&z[i0 * d..i1 * d], ri, d, d);
                let zall = Mat::new(z, n, d, d);
                // A_I from the Gram rows.
                let mut ab = vec![T::ZERO; ri * n];
                gemm(&mut ab, n, false, zi, Op::N, zall, Op::T);
                for ii in 0..ri {
                    let i = i0 + ii;
                    let row = &mut ab[ii * n..(ii + 1) * n];
                    simd_run(|| {
                        for (j, v) in row.iter_mut().enumerate() {
                            *v = T::from_f64(-beta * delta(&prep.zn, v.to_f64(), i, j));
                        }
                    });
                    T::exp_in_place(row);
                    let inv = 1.0 / (1.0 + sums.s0[i]);
                    for v in row.iter_mut() {
                        *v = T::from_f64(v.to_f64() * inv);
                    }
                }
                let amat = Mat::new(&ab, ri, n, n);
                let mut gz = vec![T::ZERO; ri * n];
                let mut gt = vec![T::ZERO; ri * n];
                let mut w = vec![T::ZERO; ri * n];
                let mut o1 = vec![T::ZERO; ri * d];
                let mut o2 = vec![T::ZERO; ri * d];
                let mut out = Vec::with_capacity(batch);
                for p in 0..batch {
                    let (u, cu, v, un) = (&us[p], &cus[p], &vs[p], &uns[p]);
                    let uall = Mat::new(u, n, d, d);
                    let ui = Mat::new(&u[i0 * d..i1 * d], ri, d, d);
                    gemm(&mut gz, n, false, zi, Op::N, uall, Op::T);
                    gemm(&mut gt, n, false, ui, Op::N, zall, Op::T);
                    let mut sg = vec![0.0f64; ri];
                    // Per row, for the error estimate: Σ_k |W_ik| and Σ_k A_ik |u_k|.
                    let mut wabs = vec![0.0f64; ri];
                    let mut au = vec![0.0f64; ri];
                    for ii in 0..ri {
                        let i = i0 + ii;
                        let mu_u: f64 = (0..d)
                            .map(|b| mu[i * d + b] * u[i * d + b].to_f64())
                            .sum::<f64>()
                            + cu[i];
                        let mut s = 0.0;
                        let (mut wa, mut aun) = (0.0, 0.0);
                        for k in 0..n {
                            let aik = ab[ii * n + k].to_f64();
                            let gik = gz[ii * n + k].to_f64() + cu[k];
                            let gki = gt[ii * n + k].to_f64() + cu[i];
                            s += aik * gik;
                            let wik = aik * (gik + gki - mu_u);
                            w[ii * n + k] = T::from_f64(wik);
                            wa += wik.abs();
                            aun += aik * un[k];
                        }
                        sg[ii] = s;
                        wabs[ii] = wa;
                        au[ii] = aun;
                    }
                    gemm(&mut o1, d, false, amat, Op::N, uall, Op::N);
                    gemm(
                        &mut o2,
                        d,
                        false,
                        Mat::new(&w, ri, n, n),
                        Op::N,
                        zall,
                        Op::N,
                    );
                    let (mut acc, mut err) = (0.0, 0.0);
                    for ii in 0..ri {
                        let i = i0 + ii;
                        let mut row = 0.0;
                        for b in 0..d {
                            let jv = o1[ii * d + b].to_f64() + beta * o2[ii * d + b].to_f64()
                                - beta * sg[ii] * mu[i * d + b]
                                + alpha * v[i * d + b];
                            acc += jv * jv;
                            row += jv * jv;
                        }
                        // The β terms cancel when row i attends to itself only (g_ii = 0 and
                        // μ_i = z_i): their rounding, relative to the magnitudes of the
                        // products (g carries u·|y||u_k|), is multiplied by β.
                        let e = ku
                            * (au[ii]
                                + beta
                                    * (zmax * (wabs[ii] + 3.0 * au[ii])
                                        + mu_norm[i] * (sg[ii].abs() + au[ii])));
                        err += 2.0 * row.sqrt() * e + e * e;
                    }
                    out.push((acc, err));
                }
                out
            })
            .collect();
        for p in 0..batch {
            let s: f64 = per_block.iter().map(|blk| blk[p].0).sum();
            samples.push(s / (n as f64 * d as f64));
            let e: f64 = per_block.iter().map(|blk| blk[p].1).sum();
            errors.push(e / (n as f64 * d as f64));
        }
        done += batch;
    }
    let k = probes as f64;
    let mean = samples.iter().sum::<f64>() / k;
    let var = samples.iter().map(|s| (s - mean) * (s - mean)).sum::<f64>() / (k - 1.0);
    let est = Estimate {
        mean,
        stderr: (var / k).sqrt(),
        probes,
    };
    if !est.mean.is_finite() {
        return Err(KernelError::NonFiniteResult {
            what: "Hutchinson eta",
        });
    }
    // Rounding below a quarter of the statistical error bar cannot mislead more than the bar.
    let err = errors.iter().sum::<f64>() / k;
    let limit = eta_error_limit::<T>();
    if err > (limit * est.mean).max(0.25 * est.stderr) {
        return Err(KernelError::PrecisionLoss {
            what: "Hutchinson eta",
            precision: T::NAME,
            bound: err / est.mean,
            limit,
            beta,
        });
    }
    Ok(est)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tokens;
    use approx::abs_diff_eq;
    use critscale_model::{LayerParams, eta_from_jacobian};
    use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
    use proptest::prelude::*;

    /// Exact η against the full reference Jacobian. Tolerance 1e-12 relative times (1 + β)²: the
    /// β² terms of J carry the rounding of the Gram entries amplified by β twice (see the module
    /// docs on cancellation), in the reference as much as here.
    fn check_exact(
        x: &ndarray::Array2<f64>,
        beta: f64,
        alpha: f64,
        block: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let want = eta_from_jacobian(x, &LayerParams::new(beta, alpha)).unwrap();
        let got = eta_exact(x.view(), &Params::new(beta, alpha), &Options { block }).unwrap();
        let tol = 1e-12 * (1.0 + beta).powi(2);
        // Absolute floor: a few ulps of the β² terms (η itself is 0 for d = 1).
        let (n, _) = x.dim();
        let inv_r2 = x.rows().into_iter().map(|r| 1.0 / r.dot(&r)).sum::<f64>() / n as f64;
        let floor = 1e-13 * (1.0 + beta).powi(2) * inv_r2;
        prop_assert!(
            abs_diff_eq!(got, want, epsilon = tol * want.abs() + floor),
            "eta {got:e} vs {want:e} (rel {:e})",
            (got - want).abs() / want
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn exact_eta_matches_the_reference_jacobian(
            n in 2usize..=10,
            d in 1usize..=6,
            beta in 0.0f64..12.0,
            alpha in 0.0f64..1.0,
            kind in 0u8..4,
            seed in any::<u64>(),
            block in prop_oneof![Just(None), (1usize..5).prop_map(Some)],
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            check_exact(&x, beta, alpha, block)?;
        }

        #[test]
        fn exact_eta_matches_the_reference_at_huge_beta(
            n in 2usize..=8,
            d in 2usize..=5,
            beta in prop_oneof![Just(300.0f64), Just(3e3)],
            kind in 0u8..4,
            seed in any::<u64>(),
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            check_exact(&x, beta, 0.0, Some(3))?;
        }

        #[test]
        fn exact_eta_matches_the_simplex_closed_form(
            n in 2usize..=40,
            extra in 0usize..4,
            rho in 0.05f64..0.95,
            q in 0.2f64..5.0,
            gamma in 0.2f64..4.0,
            alpha in 0.0f64..1.0,
        ) {
            let d = n + extra;
            let x = critscale_model::simplex::<f64>(&(), n, d, &rho, &q).unwrap();
            let sp = SimplexParams::new(n as f64, rho, Scaling::Gamma(gamma), alpha, q, Some(d as f64)).unwrap();
            let want = SimplexLayer::evaluate(&sp).eta.expect("d given");
            let beta = gamma * (n as f64).ln();
            let got = eta_exact(x.view(), &Params::new(beta, alpha), &Options::default()).unwrap();
            let tol = 1e-11 * (1.0 + beta).powi(2);
            prop_assert!(abs_diff_eq!(got, want, epsilon = tol * want), "eta {got:e} vs closed form {want:e}");
        }
    }

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

    #[test]
    fn hutchinson_matches_the_reference_draw_for_draw() {
        for (n, d, beta, alpha, seed) in [
            (5usize, 3usize, 2.0f64, 0.0f64, 1u64),
            (9, 4, 7.0, 0.5, 2),
            (20, 6, 1.0, 0.0, 3),
        ] {
            let x = tokens(0, n, d, seed, 0.0);
            let want =
                critscale_model::eta_hutchinson(&x, &LayerParams::new(beta, alpha), 11, seed + 5)
                    .unwrap();
            let got = eta_hutchinson(
                x.view(),
                &Params::new(beta, alpha),
                11,
                seed + 5,
                &Options { block: Some(4) },
            )
            .unwrap();
            assert_eq!(got.probes, 11);
            let tol = 1e-12 * (1.0 + beta).powi(2);
            assert!(
                abs_diff_eq!(got.mean, want.mean, epsilon = tol * want.mean),
                "{} vs {}",
                got.mean,
                want.mean
            );
            assert!(
                abs_diff_eq!(got.stderr, want.stderr, epsilon = 1e-9 * want.stderr),
                "{} vs {}",
                got.stderr,
                want.stderr
            );
        }
    }

    #[test]
    fn hutchinson_lands_within_its_error_bars_of_exact_eta() {
        for (n, d, beta, alpha, seed) in [
            (30usize, 8usize, 4.0f64, 0.0f64, 1u64),
            (50, 16, 9.0, 0.3, 2),
        ] {
            let x = tokens(0, n, d, seed, 0.0);
            let p = Params::new(beta, alpha);
            let exact = eta_exact(x.view(), &p, &Options::default()).unwrap();
            let est = eta_hutchinson(x.view(), &p, 200, seed, &Options::default()).unwrap();
            assert!(est.stderr > 0.0);
            assert!(
                abs_diff_eq!(
                    est.mean,
                    exact,
                    epsilon = critscale_real::prec::MONTE_CARLO_SIGMAS * est.stderr
                ),
                "{} ± {} vs {exact}",
                est.mean,
                est.stderr
            );
        }
        assert_eq!(
            eta_hutchinson(
                tokens(0, 3, 2, 1, 0.0).view(),
                &Params::new(1.0, 0.0),
                1,
                0,
                &Options::default()
            ),
            Err(KernelError::TooFewProbes { probes: 1 })
        );
    }

    #[test]
    fn absurd_probe_counts_are_an_allocation_error_not_an_abort() {
        let got = eta_hutchinson(
            tokens(0, 3, 2, 1, 0.0).view(),
            &Params::new(1.0, 0.0),
            usize::MAX / 8,
            0,
            &Options::default(),
        );
        assert!(
            matches!(got, Err(KernelError::OutOfMemory { .. })),
            "{got:?}"
        );
    }
}
