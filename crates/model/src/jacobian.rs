//! The Jacobian of the layer and the gradient size η (THEORY §3 and §5b).
//!
//! J = ∂X'/∂X is the (nd) × (nd) Jacobian of the **un-normalised** outputs x'_i with respect to the
//! inputs x_k (taken before the pre-layer norm). Row index i·d + a (output token i, coordinate a),
//! column index k·d + b (input token k, coordinate b). With
//!
//! * m_i = Σ_j A_ij y_j (the attention-weighted mean),
//! * C_i = Σ_j A_ij y_j y_jᵀ − m_i m_iᵀ = Σ_j A_ij (y_j − m_i)(y_j − m_i)ᵀ (the
//!   attention-weighted covariance; computed in the centred form, which does not cancel when the
//!   attention concentrates on one token),
//!
//! the blocks are
//!
//! * ∂x'_i/∂y_k = D_ik = A_ik (I + β (y_k − m_i) y_iᵀ) + δ_ik β C_i,
//! * ∂y_k/∂x_k = P_k = (I − y_k y_kᵀ) / |x_k|,
//! * J_ik = D_ik P_k + α δ_ik I.
//!
//! Derivation: x'_i = Σ_j A_ij y_j + α x_i, and ∂A_ij/∂s_il = A_ij (δ_jl − A_il) for the scores
//! s_il = β ⟨y_i, y_l⟩. The value y_k gives A_ik I; y_k as a key (in s_ik) gives
//! Σ_j y_j A_ij (δ_jk − A_ik) β y_iᵀ = A_ik β (y_k − m_i) y_iᵀ; y_i as the query (in every s_ij)
//! gives Σ_{j,l} y_j A_ij (δ_jl − A_il) β y_lᵀ = β C_i.
//!
//! The gradient size is **η = ‖J‖_F² / (n d)**, the mean squared singular value; the paper estimates
//! it with Hutchinson's estimator η = E_v |J v|² / (n d), v ~ N(0, I_{nd}).
//!
//! [`jacobian`] builds J in O(n² d²) (the size of J) using D_ik P_k = (D_ik − (D_ik y_k) y_kᵀ) / |x_k|.
//! [`jacobian_vector_product`] computes J v without forming J, in O(n² d):
//! (J v)_i = Σ_k A_ik u_k + β Σ_k A_ik ⟨y_i, u_k⟩ (y_k − m_i) + β C_i u_i + α v_i with
//! u_k = P_k v_k and C_i u_i = Σ_j A_ij ⟨y_j − m_i, u_i⟩ (y_j − m_i).

use crate::error::ModelError;
use crate::layer::{Core, LayerParams, core};
use crate::linalg::dot;
use critscale_real::Real;
use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The quantities every block of J needs: the core of the forward pass, m_i and C_i.
struct Parts<T> {
    core: Core<T>,
    /// m_i = Σ_j A_ij y_j (row i).
    m: Array2<T>,
    /// C_i = Σ_j A_ij y_j y_jᵀ − m_i m_iᵀ.
    c: Vec<Array2<T>>,
}

fn parts<T: Real>(x: &Array2<T>, params: &LayerParams<T>) -> Result<Parts<T>, ModelError> {
    let core = core(x, params)?;
    let (n, d) = x.dim();
    let ctx = x[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    let (y, att) = (&core.y, &core.attention);
    let mut m = Array2::from_elem((n, d), zero.clone());
    let mut c = Vec::with_capacity(n);
    for i in 0..n {
        for a in 0..d {
            for j in 0..n {
                m[[i, a]] += att[[i, j]].clone() * &y[[j, a]];
            }
        }
        // Centred form Σ_j A_ij (y_j − m_i)(y_j − m_i)ᵀ: equal to Σ_j A_ij y_j y_jᵀ − m_i m_iᵀ
        // because Σ_j A_ij = 1, and free of cancellation when the attention is concentrated.
        let mut ci = Array2::from_elem((d, d), zero.clone());
        for j in 0..n {
            let dev: Vec<T> = (0..d).map(|a| y[[j, a]].clone() - &m[[i, a]]).collect();
            for a in 0..d {
                let wa = att[[i, j]].clone() * &dev[a];
                for b in 0..d {
                    ci[[a, b]] += wa.clone() * &dev[b];
                }
            }
        }
        c.push(ci);
    }
    Ok(Parts { core, m, c })
}

/// The full (n d) × (n d) Jacobian ∂X'/∂X of the un-normalised outputs (see the module docs).
///
/// Entry (i·d + a, k·d + b) is ∂x'_ia / ∂x_kb.
///
/// # Errors
///
/// Whatever the forward pass reports about the tokens and parameters (not
/// [`ModelError::ZeroOutput`]: J is defined even where some x'_i = 0).
pub fn jacobian<T: Real>(x: &Array2<T>, params: &LayerParams<T>) -> Result<Array2<T>, ModelError> {
    let Parts { core, m, c } = parts(x, params)?;
    let (n, d) = x.dim();
    let ctx = x[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    let beta = &params.beta;
    let (y, att, norms) = (&core.y, &core.attention, &core.norms);

    let mut jac = Array2::from_elem((n * d, n * d), zero.clone());
    let mut blk = Array2::from_elem((d, d), zero.clone());
    for i in 0..n {
        for k in 0..n {
            // D_ik = A_ik (I + β (y_k − m_i) y_iᵀ) + δ_ik β C_i.
            for a in 0..d {
                let coef = att[[i, k]].clone() * beta * &(y[[k, a]].clone() - &m[[i, a]]);
                for b in 0..d {
                    let mut v = coef.clone() * &y[[i, b]];
                    if a == b {
                        v += att[[i, k]].clone();
                    }
                    if i == k {
                        v += beta.clone() * &c[i][[a, b]];
                    }
                    blk[[a, b]] = v;
                }
            }
            // J_ik = (D_ik − (D_ik y_k) y_kᵀ) / |x_k| + α δ_ik I.
            for a in 0..d {
                let w = dot(&ctx, blk.row(a), y.row(k));
                for b in 0..d {
                    let mut v = (blk[[a, b]].clone() - &(w.clone() * &y[[k, b]])) / &norms[k];
                    if i == k && a == b {
                        v += params.alpha.clone();
                    }
                    jac[[i * d + a, k * d + b]] = v;
                }
            }
        }
    }
    Ok(jac)
}

/// J v for a direction `v` shaped like the tokens (n × d; v_k is row k), without forming J.
///
/// Row i of the result is (J v)_i = Σ_k J_ik v_k (see the module docs for the formula); O(n² d).
///
/// # Errors
///
/// As [`jacobian`], and [`ModelError::BadShape`] if `v` is not n × d.
pub fn jacobian_vector_product<T: Real>(
    x: &Array2<T>,
    params: &LayerParams<T>,
    v: &Array2<T>,
) -> Result<Array2<T>, ModelError> {
    let parts = parts(x, params)?;
    jvp_with(&parts, params, v)
}

fn jvp_with<T: Real>(
    parts: &Parts<T>,
    params: &LayerParams<T>,
    v: &Array2<T>,
) -> Result<Array2<T>, ModelError> {
    let (y, att, norms, m) = (
        &parts.core.y,
        &parts.core.attention,
        &parts.core.norms,
        &parts.m,
    );
    let (n, d) = y.dim();
    if v.dim() != (n, d) {
        return Err(ModelError::BadShape {
            what: "direction v",
            n: v.nrows(),
            d: v.ncols(),
            expected: format!("v must have the shape of the tokens, {n} x {d}"),
        });
    }
    let ctx = y[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    let beta = &params.beta;

    // u_k = P_k v_k = (v_k − ⟨y_k, v_k⟩ y_k) / |x_k|.
    let mut u = Array2::from_elem((n, d), zero.clone());
    for k in 0..n {
        let p = dot(&ctx, y.row(k), v.row(k));
        for b in 0..d {
            u[[k, b]] = (v[[k, b]].clone() - &(p.clone() * &y[[k, b]])) / &norms[k];
        }
    }

    let mut out = Array2::from_elem((n, d), zero.clone());
    for i in 0..n {
        let mut acc: Array1<T> = v
            .row(i)
            .iter()
            .map(|vb| params.alpha.clone() * vb)
            .collect();
        // Σ_k A_ik u_k + β Σ_k A_ik ⟨y_i, u_k⟩ (y_k − m_i).
        for k in 0..n {
            let g = beta.clone() * &att[[i, k]] * &dot(&ctx, y.row(i), u.row(k));
            for a in 0..d {
                acc[a] += att[[i, k]].clone() * &u[[k, a]]
                    + &(g.clone() * &(y[[k, a]].clone() - &m[[i, a]]));
            }
        }
        // β C_i u_i = β Σ_j A_ij ⟨y_j − m_i, u_i⟩ (y_j − m_i) (centred, as in `parts`).
        for j in 0..n {
            let dev: Array1<T> = (0..d).map(|a| y[[j, a]].clone() - &m[[i, a]]).collect();
            let g = beta.clone() * &att[[i, j]] * &dot(&ctx, dev.view(), u.row(i));
            for a in 0..d {
                acc[a] += g.clone() * &dev[a];
            }
        }
        out.row_mut(i).assign(&acc);
    }
    Ok(out)
}

/// η = ‖J‖_F² / (n d), from the full analytic Jacobian.
///
/// # Errors
///
/// As [`jacobian`].
pub fn eta_from_jacobian<T: Real>(x: &Array2<T>, params: &LayerParams<T>) -> Result<T, ModelError> {
    let jac = jacobian(x, params)?;
    let ctx = x[[0, 0]].ctx();
    let mut s = T::zero(&ctx);
    for v in jac.iter() {
        s += v.square();
    }
    let nd = T::from_i64(&ctx, i64::try_from(jac.nrows()).expect("n d fits in i64"));
    Ok(s / &nd)
}

/// A Monte-Carlo estimate: the sample mean, its standard error and the sample size.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate<T> {
    /// Sample mean.
    pub mean: T,
    /// Sample standard deviation (denominator probes − 1) divided by √probes.
    pub stderr: T,
    /// Number of samples.
    pub probes: usize,
}

/// Hutchinson's estimate of η: the mean over `probes` Gaussian directions v ~ N(0, I_{nd}) of
/// |J v|² / (n d), with its standard error.
///
/// Reproducible draws: a `rand_chacha::ChaCha8Rng` seeded with `seed_from_u64(seed)` draws
/// `rand_distr::StandardNormal` `f64`s, probe after probe, each probe's n d entries in the order
/// of J's columns (token k, then coordinate b: index k·d + b). J v is computed by
/// [`jacobian_vector_product`]'s formula (no nd × nd matrix).
///
/// # Errors
///
/// [`ModelError::TooFewProbes`] if probes < 2; otherwise as [`jacobian`].
pub fn eta_hutchinson<T: Real>(
    x: &Array2<T>,
    params: &LayerParams<T>,
    probes: usize,
    seed: u64,
) -> Result<Estimate<T>, ModelError> {
    if probes < 2 {
        return Err(ModelError::TooFewProbes { probes });
    }
    let parts = parts(x, params)?;
    let (n, d) = x.dim();
    let ctx = x[[0, 0]].ctx();
    let nd = T::from_i64(&ctx, i64::try_from(n * d).expect("n d fits in i64"));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut samples = Vec::with_capacity(probes);
    for _ in 0..probes {
        let v = Array2::from_shape_fn((n, d), |_| {
            T::from_f64(&ctx, rng.sample::<f64, _>(StandardNormal))
        });
        let jv = jvp_with(&parts, params, &v)?;
        let mut s = T::zero(&ctx);
        for e in jv.iter() {
            s += e.square();
        }
        samples.push(s / &nd);
    }
    let count = T::from_i64(&ctx, i64::try_from(probes).expect("probes fits in i64"));
    let mut mean = T::zero(&ctx);
    for s in &samples {
        mean += s.clone();
    }
    mean /= count.clone();
    let mut ss = T::zero(&ctx);
    for s in &samples {
        ss += (s.clone() - &mean).square();
    }
    let var = ss / &(count.clone() - &T::one(&ctx));
    let stderr = (var / &count).sqrt();
    Ok(Estimate {
        mean,
        stderr,
        probes,
    })
}

/// The Jacobian ∂X'/∂X by central differences of the un-normalised outputs of
/// [`forward`](crate::layer::forward): column k·d + b is (x'(X + h e_kb) − x'(X − h e_kb)) / (2h),
/// flattened in the same row order as [`jacobian`]. For tests (error O(h²) + O(2^{−52}/h)).
///
/// # Panics
///
/// If the forward pass rejects `x`, `params` or a perturbed input (e.g. h larger than a token).
pub fn jacobian_finite_difference(
    x: &Array2<f64>,
    params: &LayerParams<f64>,
    h: f64,
) -> Array2<f64> {
    let (n, d) = x.dim();
    let nd = n * d;
    let mut jac = Array2::zeros((nd, nd));
    let eval = |xp: &Array2<f64>| {
        core(xp, params)
            .unwrap_or_else(|err| panic!("jacobian_finite_difference: forward pass failed: {err}"))
            .x_out
    };
    for k in 0..n {
        for b in 0..d {
            let mut plus = x.clone();
            plus[[k, b]] += h;
            let mut minus = x.clone();
            minus[[k, b]] -= h;
            let (fp, fm) = (eval(&plus), eval(&minus));
            for i in 0..n {
                for a in 0..d {
                    jac[[i * d + a, k * d + b]] = (fp[[i, a]] - fm[[i, a]]) / (2.0 * h);
                }
            }
        }
    }
    jac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tests::random_tokens;
    use crate::tokens::simplex;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use critscale_real::prec::{JACOBIAN_FD_REL, JACOBIAN_FD_STEP, MONTE_CARLO_SIGMAS};
    use proptest::prelude::*;

    fn max_abs(a: &Array2<f64>) -> f64 {
        a.iter().fold(0.0, |m, v| m.max(v.abs()))
    }

    proptest! {
        #[test]
        fn analytic_jacobian_matches_finite_differences(
            n in 2usize..=5,
            d in 2usize..=5,
            beta in 0.0f64..10.0,
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            let params = LayerParams::new(beta, alpha);
            let jac = jacobian(&x, &params).unwrap();
            let fd = jacobian_finite_difference(&x, &params, JACOBIAN_FD_STEP);
            let scale = max_abs(&jac);
            prop_assert!(
                abs_diff_eq!(jac, fd, epsilon = JACOBIAN_FD_REL * scale),
                "max error {:e}, scale {scale:e}",
                max_abs(&(&jac - &fd))
            );
        }

        #[test]
        fn matrix_free_product_matches_the_matrix(
            n in 2usize..=6,
            d in 1usize..=5,
            beta in 0.0f64..20.0,
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            let v = random_tokens(n, d, seed ^ 0x9e37_79b9_7f4a_7c15);
            let params = LayerParams::new(beta, alpha);
            let jac = jacobian(&x, &params).unwrap();
            let flat = Array1::from_iter(v.iter().copied());
            let want = jac.dot(&flat);
            let got = jacobian_vector_product(&x, &params, &v).unwrap();
            let got_flat = Array1::from_iter(got.iter().copied());
            let scale = want.iter().fold(1.0f64, |m, e| m.max(e.abs()));
            prop_assert!(
                abs_diff_eq!(got_flat, want, epsilon = 1e-12 * scale),
                "error {:e}",
                (&want - &got_flat).iter().fold(0.0f64, |m, e| m.max(e.abs()))
            );
        }
    }

    #[test]
    fn hutchinson_lands_within_its_error_bars() {
        let cases: [(usize, usize, f64, f64, u64); 4] = [
            (4, 3, 2.0, 0.0, 1),
            (6, 5, 8.0, 0.0, 2),
            (5, 8, 0.5, 0.5, 3),
            (8, 4, 5.0, 1.0, 4),
        ];
        for (n, d, beta, alpha, seed) in cases {
            let x = random_tokens(n, d, seed);
            let params = LayerParams::new(beta, alpha);
            let eta = eta_from_jacobian(&x, &params).unwrap();
            let est = eta_hutchinson(&x, &params, 2000, seed + 100).unwrap();
            assert_eq!(est.probes, 2000);
            assert!(est.stderr > 0.0);
            assert!(
                abs_diff_eq!(est.mean, eta, epsilon = MONTE_CARLO_SIGMAS * est.stderr),
                "case {n} {d} {beta} {alpha}: {} ± {} vs {eta}",
                est.mean,
                est.stderr
            );
        }
    }

    #[test]
    fn hutchinson_is_reproducible_and_checks_probes() {
        let x = random_tokens(3, 2, 5);
        let params = LayerParams::new(1.0, 0.0);
        let a = eta_hutchinson(&x, &params, 10, 9).unwrap();
        let b = eta_hutchinson(&x, &params, 10, 9).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            eta_hutchinson(&x, &params, 1, 9),
            Err(ModelError::TooFewProbes { probes: 1 })
        );
    }

    #[test]
    fn eta_limits_in_closed_form() {
        // β = 0, α = 0: A = 1/n everywhere, J_ik = P_k / n, so η = (1 − 1/d) mean_k(1/|x_k|²) / n.
        let (n, d) = (5, 4);
        let x = random_tokens(n, d, 21);
        let mean_inv_sq = x.rows().into_iter().map(|r| 1.0 / r.dot(&r)).sum::<f64>() / n as f64;
        let eta0 = eta_from_jacobian(&x, &LayerParams::new(0.0, 0.0)).unwrap();
        let want0 = (1.0 - 1.0 / d as f64) * mean_inv_sq / n as f64;
        assert!(
            abs_diff_eq!(eta0, want0, epsilon = 1e-14),
            "{eta0} vs {want0}"
        );

        // Supercritical simplex (T3): A = I to machine precision, J_ik = δ_ik P_i, η = (1 − 1/d)/q.
        let (rho, q) = (0.3, 2.5);
        let xs = simplex::<f64>(&(), 6, 9, &rho, &q).unwrap();
        let eta_hi = eta_from_jacobian(&xs, &LayerParams::new(2000.0, 0.0)).unwrap();
        let want_hi = (1.0 - 1.0 / 9.0) / q;
        assert!(
            abs_diff_eq!(eta_hi, want_hi, epsilon = 1e-14),
            "{eta_hi} vs {want_hi}"
        );
    }

    #[test]
    fn jacobian_exists_where_the_output_vanishes() {
        // Antipodal tokens, β = α = 0: x' = 0, so forward() errors, but J is defined.
        let x = ndarray::array![[1.0, 0.0], [-1.0, 0.0]];
        let params = LayerParams::new(0.0, 0.0);
        let jac = jacobian(&x, &params).unwrap();
        let fd = jacobian_finite_difference(&x, &params, JACOBIAN_FD_STEP);
        assert_abs_diff_eq!(jac, fd, epsilon = JACOBIAN_FD_REL * max_abs(&jac));
    }

    #[test]
    fn jacobian_rejects_bad_tokens() {
        let x = ndarray::array![[1.0, 0.0], [0.0, 0.0]];
        assert_eq!(
            jacobian(&x, &LayerParams::new(1.0, 0.0)),
            Err(ModelError::ZeroToken { row: 1 })
        );
        let y = ndarray::array![[1.0, 0.0], [0.0, 1.0]];
        let v = ndarray::array![[1.0, 0.0, 0.0]];
        assert!(matches!(
            jacobian_vector_product(&y, &LayerParams::new(1.0, 0.0), &v),
            Err(ModelError::BadShape { .. })
        ));
    }
}
