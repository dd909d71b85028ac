//! The exact η of [`crate::eta_exact`] with one n × n matrix in memory instead of three.
//!
//! [`crate::eta_exact`] keeps the Gram matrix G = Z Zᵀ, the attention A and H = G∘G, all n × n:
//! 24n² bytes in `f64` (1.6 GB at n = 8192). [`eta_exact_lean`] computes the same sums from the
//! same GEMM-shaped ingredients (the formula and its derivation are in the docs of
//! [`mod@crate::eta`]) but keeps only A, recomputing what it needs of G where it needs it:
//!
//! * A row block by row block from G_I = Z_I Zᵀ (b × n), and with the same G_I the row pass
//!   of that block (its sums need only the block's rows of A and G; Q_i enters only at the
//!   end), then G_I is discarded;
//! * Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩², by the products of `crate::eta` (through half of the
//!   symmetric H), with column block K of H (from row block K down) formed from Z when it is
//!   used: H_{J≥K,K} = (Z_{J≥K} Z_Kᵀ)∘², its diagonal block halved.
//!
//! Memory: A (n² elements) plus per-thread blocks of O(b·n) (b the block of the options, 512
//! rows at most for Q); 8n² bytes in `f64`, a third of [`crate::eta_exact`]'s. Work: forming G
//! by row blocks (2n²d) and H's blocks from Z (n²d) instead of half of G once (n²d) adds 2n²d
//! flops to the n³ + 6n²d of [`crate::eta_exact`] (counted by `element::gemm_flops`: 17.6 n²d
//! against 15.6 at n = 2048, d = 256; 9% more at n = 8192, d = 512).
//!
//! **Same numbers.** Every sum is taken in the order of [`crate::eta_exact`] from entries
//! computed by the same GEMM shapes (an entry ⟨z_i, z_j⟩ is one dot product over d whichever
//! of the two tokens is the row operand), and the rounding-error estimate and the refusal
//! ([`crate::eta_error_limit`]) are those of [`crate::eta_exact`]; the tests compare the two.

use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::eta::{RowPartial, RowPass, Scratch, attention_rows, exact_within_limit, q_vech};
use crate::memory::try_zeros;
use crate::prepare::{Options, Params, Prepared, prepare};
use crate::tiles::block_starts;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// G_I = Z_I Zᵀ for rows `i0..i1` (row-major, (i1 − i0) × n) into `g`.
fn gram_rows<T: Element>(prep: &Prepared<T>, i0: usize, i1: usize, g: &mut [T]) {
    let (n, d) = (prep.n, prep.d);
    gemm(
        g,
        n,
        false,
        Mat::new(&prep.z[i0 * d..i1 * d], i1 - i0, d, d),
        Op::N,
        Mat::new(&prep.z, n, d, d),
        Op::T,
    );
}

/// The exact η = ‖∂X'/∂X‖²_F/(nd), as [`crate::eta_exact`], holding one n × n matrix (see the
/// module docs).
///
/// # Errors
///
/// As [`crate::eta_exact`]: what [`prepare`] reports; [`KernelError::NonFiniteResult`];
/// [`KernelError::PrecisionLoss`] when the estimated rounding error exceeds
/// [`crate::eta_error_limit`]; [`KernelError::OutOfMemory`] if A cannot be allocated.
pub fn eta_exact_lean<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<f64, KernelError> {
    let (eta, err) = eta_lean_with_error(x, params, opts)?;
    exact_within_limit::<T>(eta, err, params.beta)
}

/// η and the estimate of its absolute rounding error (that of `eta_exact_with_error`).
fn eta_lean_with_error<T: Element>(
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
    let starts = block_starts(n, bs);

    // A row block by row block from G_I, and with the same G_I the row pass of the block: its
    // sums need only the block's rows of A and G, Q_i only at the end.
    let pass = RowPass::new(&prep, params, bs);
    let mut a = try_zeros::<T>(n * n, "the attention matrix A (n x n)")?;
    let mut partials = vec![RowPartial::default(); n];
    a.par_chunks_mut(bs * n)
        .zip(partials.par_chunks_mut(bs))
        .enumerate()
        .for_each_init(
            || (Vec::new(), Scratch::<T>::default()),
            |(g, sc), (b, (ab, out))| {
                let (i0, i1) = (starts[b], starts[b + 1]);
                g.resize((i1 - i0) * n, T::ZERO);
                gram_rows(&prep, i0, i1, g);
                attention_rows(ab, g, i0, &prep.zn, beta);
                pass.block(b, ab, g, sc, out);
            },
        );
    let q = q_lean(&prep, &a, bs)?;
    pass.finish(&q, &partials)
}

/// Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩², by the products of `crate::eta` (vech route when
/// d(d + 1) < n, else half of H = G∘G by column blocks) with H's column blocks formed from Z
/// as they are used.
fn q_lean<T: Element>(prep: &Prepared<T>, a: &[T], bs: usize) -> Result<Vec<f64>, KernelError> {
    let (n, d) = (prep.n, prep.d);
    let dh = d * (d + 1) / 2;
    let kb = bs.min(n);
    let bs = bs.max(512).min(n);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    if 2 * dh < n {
        return q_vech(prep, a, &starts);
    }
    let kstarts = block_starts(n, kb);
    let nk = kstarts.len() - 1;
    let z = &prep.z;
    // For each column block K: H_{J≥K,K} ((n − k0) × rk), then every row block's product with
    // it. parts[kk][b] holds the row block's partial sums.
    let parts: Vec<Vec<Vec<f64>>> = (0..nk)
        .into_par_iter()
        .map(|kk| {
            let (k0, k1) = (kstarts[kk], kstarts[kk + 1]);
            let rk = k1 - k0;
            let mut h = vec![T::ZERO; (n - k0) * rk];
            gemm(
                &mut h,
                rk,
                false,
                Mat::new(&z[k0 * d..], n - k0, d, d),
                Op::N,
                Mat::new(&z[k0 * d..k1 * d], rk, d, d),
                Op::T,
            );
            let half = T::from_f64(0.5);
            for (jj, hr) in h.chunks_mut(rk).enumerate() {
                let diag = jj < rk;
                for hv in hr.iter_mut() {
                    *hv = *hv * *hv;
                    if diag {
                        *hv = *hv * half;
                    }
                }
            }
            let mut r = vec![T::ZERO; bs * rk];
            (0..nb)
                .map(|b| {
                    let (i0, i1) = (starts[b], starts[b + 1]);
                    let ri = i1 - i0;
                    gemm(
                        &mut r,
                        rk,
                        false,
                        Mat::new(&a[i0 * n + k0..], ri, n - k0, n),
                        Op::N,
                        Mat::new(&h, n - k0, rk, rk),
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
                })
                .collect()
        })
        .collect();
    // Summed in the order of `crate::eta`: row block by row block, column blocks in order.
    let mut q = vec![0.0f64; n];
    for b in 0..nb {
        for part in &parts {
            for (qv, pv) in q[starts[b]..starts[b + 1]].iter_mut().zip(&part[b]) {
                *qv += pv;
            }
        }
    }
    for qv in &mut q {
        *qv *= 2.0;
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eta_exact;
    use crate::testutil::tokens;

    /// The lean η equals `eta_exact` bit for bit in f64 (and to rounding in f32) on random and
    /// adversarial tokens, both Q routes, uneven blocks.
    #[test]
    fn lean_eta_equals_the_exact_eta() {
        for (kind, n, d, beta, alpha, block) in [
            (0u8, 300usize, 40usize, 6.0f64, 0.0f64, Some(64usize)),
            (1, 200, 24, 20.0, 0.3, Some(48)),
            (2, 150, 7, 3.0, 0.0, None),
            (3, 40, 48, 5.0, 0.1, Some(16)),
            (0, 600, 3, 9.0, 0.0, None),
            (0, 1100, 30, 2.0, 0.0, None),
        ] {
            let x = tokens(kind, n, d, 5, 1e-3);
            let p = Params::new(beta, alpha);
            let o = Options { block };
            let want = eta_exact(x.view(), &p, &o).unwrap();
            let got = eta_exact_lean(x.view(), &p, &o).unwrap();
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "kind {kind}, n {n}, d {d}: {got:e} vs {want:e}"
            );
            let x32 = x.mapv(|v| v as f32);
            let want = eta_exact(x32.view(), &p, &o).unwrap();
            let got = eta_exact_lean(x32.view(), &p, &o).unwrap();
            assert!(
                (got - want).abs() <= 1e-5 * want,
                "f32 kind {kind}: {got:e} vs {want:e}"
            );
        }
    }

    #[test]
    fn lean_eta_refuses_and_handles_d1_like_the_exact_eta() {
        let x = tokens(3, 16, 16, 1, 0.0);
        let p = Params::new(1e10, 0.0);
        assert!(eta_exact(x.view(), &p, &Options::default()).is_err());
        assert!(eta_exact_lean(x.view(), &p, &Options::default()).is_err());
        let x1 = tokens(0, 5, 1, 2, 0.0);
        let p = Params::new(2.0, 0.5);
        assert_eq!(
            eta_exact_lean(x1.view(), &p, &Options::default()).unwrap(),
            0.25
        );
    }
}
