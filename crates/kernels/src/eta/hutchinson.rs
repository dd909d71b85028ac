//! Hutchinson's estimate of η (parent module docs, "Hutchinson"): the mean of |J v|²/(nd) over
//! Gaussian probes v, with J v from the matrix-free product of THEORY §5b, four GEMMs of n·n·d per
//! probe in row blocks, and a per-probe estimate of the rounding of the β terms.

use super::gram::delta;
use super::rounding::{error_factor, eta_error_limit};
use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::forward::accumulate_eu;
use crate::prepare::{Options, Params, prepare};
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
    let (u_acc, sums, _) = accumulate_eu(&prep, beta, bs, false, None);
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
    use crate::eta::eta_exact;
    use crate::testutil::tokens;
    use approx::abs_diff_eq;
    use critscale_model::LayerParams;

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
