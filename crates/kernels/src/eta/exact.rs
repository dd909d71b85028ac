//! The exact η = ‖∂X'/∂X‖²_F/(nd) from the closed forms of the parent module docs ("The exact
//! form", THEORY §5b): the off-diagonal and diagonal blocks summed row by row from GEMM-shaped
//! ingredients, with an estimate of the rounding error of the sums that cancel at large β.

use super::gram::{attention_from_gram, delta, q_diag, symmetric_gram};
use super::rounding::{error_factor, eta_error_limit};
use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::memory::try_zeros;
use crate::prepare::{Options, Params, Prepared, prepare};
use crate::tiles::block_starts;
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::borrow::Cow;

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
    let q = q_diag(&prep, &a, &g, bs)?;
    row_pass(&prep, params, &a, &q, bs, &|i0, i1| {
        Cow::Borrowed(&g[i0 * n..i1 * n])
    })
}

/// The rest of exact η once the attention A (n × n, row-major) and Q_i (n) are known: M = A Z,
/// then per row block the sums of the module docs, with G's rows `i0..i1` ((i1 − i0) × n,
/// row-major) from `gram_rows` (borrowed from the stored G here, recomputed per block by
/// [`crate::eta_exact_lean`]). Returns η and the estimate of its absolute rounding error.
pub(crate) fn row_pass<'g, T: Element>(
    prep: &Prepared<T>,
    params: &Params,
    a: &[T],
    q: &[f64],
    bs: usize,
    gram_rows: &(dyn Fn(usize, usize) -> Cow<'g, [T]> + Sync),
) -> Result<(f64, f64), KernelError> {
    let (n, d) = (prep.n, prep.d);
    let (beta, alpha) = (params.beta, params.alpha);
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
            let g = gram_rows(i0, i1);
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
                let (ar, gr) = (&a[i * n..(i + 1) * n], &g[ii * n..(ii + 1) * n]);
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
                        &g[ii * n..(ii + 1) * n],
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
}
