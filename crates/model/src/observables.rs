//! The observables of one layer (THEORY §3).
//!
//! With y_i the input directions, y'_i the output directions and A the attention matrix, over the
//! n(n−1)/2 pairs i < j:
//!
//! * cos_ij = ⟨y_i, y_j⟩ and cos'_ij = ⟨y'_i, y'_j⟩ (minimum, mean and maximum of each);
//! * **λ** (`lambda`, the primary reading of the paper's eq. 3.2) = mean of
//!   (1 − cos'_ij) / (1 − cos_ij);
//! * `lambda_angle` = mean of θ'_ij / θ_ij with θ_ij = arccos cos_ij (the other reading);
//! * `self_weight` = mean_i A_ii; `support` = mean_i 1 / Σ_j A_ij² (effective number of attended
//!   tokens); `entropy` = mean_i (−Σ_j A_ij ln A_ij) with 0 ln 0 = 0.
//!
//! **Accuracy.** For unit vectors u, v: 1 − ⟨u, v⟩ = |u − v|² / 2, and the angle between them is
//! 2 arcsin(|u − v| / 2). Both are computed from the difference u − v, which carries full relative
//! accuracy when u and v are close, instead of from 1 − ⟨u, v⟩, which cancels catastrophically as
//! cos → 1 (the collapsed phase, where λ is tiny). So λ is computed as the mean of
//! |y'_i − y'_j|² / |y_i − y_j|² (the factors ½ cancel). The cosines themselves are reported as
//! plain inner products.

use crate::error::ModelError;
use crate::layer::LayerOutput;
use crate::linalg::{distance, dot};
use critscale_real::Real;
use ndarray::Array2;

/// The Gram matrix G_ij = ⟨y_i, y_j⟩ of the rows of `y` (for unit rows: their cosines).
///
/// # Panics
///
/// If `y` has rows but no columns (no context to make a zero from).
pub fn cosines<T: Real>(y: &Array2<T>) -> Array2<T> {
    let n = y.nrows();
    if n == 0 {
        return Array2::from_shape_fn((0, 0), |_| unreachable!());
    }
    let ctx = y[[0, 0]].ctx();
    Array2::from_shape_fn((n, n), |(i, j)| dot(&ctx, y.row(i), y.row(j)))
}

/// The observables of one layer (see the module docs for the definitions).
#[derive(Debug, Clone, PartialEq)]
pub struct Observables<T> {
    /// λ = mean over i < j of (1 − cos'_ij) / (1 − cos_ij).
    pub lambda: T,
    /// Mean over i < j of θ'_ij / θ_ij, θ = arccos of the cosine.
    pub lambda_angle: T,
    /// min over i < j of ⟨y_i, y_j⟩.
    pub cos_in_min: T,
    /// mean over i < j of ⟨y_i, y_j⟩.
    pub cos_in_mean: T,
    /// max over i < j of ⟨y_i, y_j⟩.
    pub cos_in_max: T,
    /// min over i < j of ⟨y'_i, y'_j⟩.
    pub cos_out_min: T,
    /// mean over i < j of ⟨y'_i, y'_j⟩.
    pub cos_out_mean: T,
    /// max over i < j of ⟨y'_i, y'_j⟩.
    pub cos_out_max: T,
    /// mean_i A_ii.
    pub self_weight: T,
    /// mean_i 1 / Σ_j A_ij² (effective support).
    pub support: T,
    /// mean_i −Σ_j A_ij ln A_ij (row entropy, 0 ln 0 = 0).
    pub entropy: T,
}

/// Min, mean and max over the pairs i < j of a symmetric matrix.
fn pair_stats<T: Real>(ctx: &T::Ctx, g: &Array2<T>) -> (T, T, T) {
    let n = g.nrows();
    let mut min = g[[0, 1]].clone();
    let mut max = g[[0, 1]].clone();
    let mut sum = T::zero(ctx);
    for i in 0..n {
        for j in (i + 1)..n {
            min = min.min(&g[[i, j]]);
            max = max.max(&g[[i, j]]);
            sum += g[[i, j]].clone();
        }
    }
    let pairs = T::from_i64(
        ctx,
        i64::try_from(n * (n - 1) / 2).expect("pair count fits in i64"),
    );
    (min, sum / &pairs, max)
}

/// Computes the [`Observables`] of a forward pass.
///
/// # Errors
///
/// [`ModelError::BadShape`] if `out` has fewer than two tokens, no columns, or inconsistent
/// shapes; [`ModelError::DuplicateDirection`] naming the first pair (i, j), i < j, with
/// y_i = y_j exactly (λ is 0/0 there). Pairs that are distinct but very close give an
/// ill-conditioned ratio, as the definition of λ does.
pub fn observables<T: Real>(out: &LayerOutput<T>) -> Result<Observables<T>, ModelError> {
    let (n, d) = out.y.dim();
    if n < 2
        || d < 1
        || out.y_out.dim() != (n, d)
        || out.attention.dim() != (n, n)
        || out.norms.len() != n
    {
        return Err(ModelError::BadShape {
            what: "layer output y",
            n,
            d,
            expected: "need n >= 2, d >= 1, y_out n x d, attention n x n and n norms".to_owned(),
        });
    }
    let ctx = out.y[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    let one = T::one(&ctx);
    let two = T::from_f64(&ctx, 2.0);
    let n_t = T::from_i64(&ctx, i64::try_from(n).expect("n fits in i64"));
    let pairs = T::from_i64(&ctx, i64::try_from(n * (n - 1) / 2).expect("fits in i64"));

    let mut lambda_sum = zero.clone();
    let mut angle_sum = zero.clone();
    for i in 0..n {
        for j in (i + 1)..n {
            let dist_in = distance(&ctx, out.y.row(i), out.y.row(j));
            if dist_in == zero {
                return Err(ModelError::DuplicateDirection { i, j });
            }
            let dist_out = distance(&ctx, out.y_out.row(i), out.y_out.row(j));
            lambda_sum += (dist_out.clone() / &dist_in).square();
            // θ = 2 arcsin(|u − v| / 2); |u − v| ≤ 2 up to rounding, so clamp the argument to 1.
            let theta_in = (dist_in / &two).min(&one).asin();
            let theta_out = (dist_out / &two).min(&one).asin();
            angle_sum += theta_out / &theta_in;
        }
    }

    let (cos_in_min, cos_in_mean, cos_in_max) = pair_stats(&ctx, &cosines(&out.y));
    let (cos_out_min, cos_out_mean, cos_out_max) = pair_stats(&ctx, &cosines(&out.y_out));

    let mut self_sum = zero.clone();
    let mut support_sum = zero.clone();
    let mut entropy_sum = zero.clone();
    for i in 0..n {
        self_sum += out.attention[[i, i]].clone();
        let mut sq = zero.clone();
        let mut h = zero.clone();
        for a in out.attention.row(i) {
            sq += a.square();
            if *a > zero {
                h -= a.clone() * &a.ln();
            }
        }
        support_sum += sq.recip();
        entropy_sum += h;
    }

    Ok(Observables {
        lambda: lambda_sum / &pairs,
        lambda_angle: angle_sum / &pairs,
        cos_in_min,
        cos_in_mean,
        cos_in_max,
        cos_out_min,
        cos_out_mean,
        cos_out_max,
        self_weight: self_sum / &n_t,
        support: support_sum / &n_t,
        entropy: entropy_sum / &n_t,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layer::tests::random_tokens;
    use crate::layer::{LayerParams, forward};
    use crate::tokens::simplex;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;

    /// THEORY §5: in the simplex, x'_i = c y_i + r Σ_j y_j with p = A_ii, r = (1 − p)/(n − 1),
    /// c = p − r + α√q, s₁ = 1 + (n−1)ρ, |x'|² = c² + 2crs₁ + r²ns₁ and λ = c² / |x'|².
    fn simplex_closed_form(n: usize, rho: f64, q: f64, beta: f64, alpha: f64) -> (f64, f64, f64) {
        let nf = n as f64;
        let p = 1.0 / (1.0 + (nf - 1.0) * (-beta * (1.0 - rho)).exp());
        let r = (1.0 - p) / (nf - 1.0);
        let c = p - r + alpha * q.sqrt();
        let s1 = 1.0 + (nf - 1.0) * rho;
        let norm_sq = c * c + 2.0 * c * r * s1 + r * r * nf * s1;
        let lambda = c * c / norm_sq;
        let cos_out = 1.0 - c * c * (1.0 - rho) / norm_sq;
        (p, lambda, cos_out)
    }

    proptest! {
        #[test]
        fn simplex_observables_match_the_closed_form(
            n in 2usize..=32,
            rho in 0.01f64..0.95,
            q in 0.1f64..10.0,
            gamma in 0.1f64..4.0,
            alpha in 0.0f64..1.0,
        ) {
            let x = simplex::<f64>(&(), n, n, &rho, &q).unwrap();
            let params = LayerParams::from_gamma(&gamma, n, alpha);
            let out = forward(&x, &params).unwrap();
            let obs = observables(&out).unwrap();
            let (p, lambda, cos_out) = simplex_closed_form(n, rho, q, params.beta, alpha);
            prop_assert!(abs_diff_eq!(obs.self_weight, p, epsilon = 1e-12), "p {} vs {p}", obs.self_weight);
            prop_assert!(abs_diff_eq!(obs.lambda, lambda, epsilon = 1e-9 * lambda), "λ {} vs {lambda}", obs.lambda);
            prop_assert!(abs_diff_eq!(obs.cos_out_mean, cos_out, epsilon = 1e-12));
            prop_assert!(abs_diff_eq!(obs.cos_out_min, obs.cos_out_max, epsilon = 1e-12));
            prop_assert!(abs_diff_eq!(obs.cos_in_mean, rho, epsilon = 1e-13));
        }

        #[test]
        fn lambda_agrees_with_the_naive_formula_when_well_conditioned(
            n in 2usize..=8,
            d in 2usize..=6,
            beta in 0.0f64..5.0,
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            let out = forward(&x, &LayerParams::new(beta, alpha)).unwrap();
            let g = cosines(&out.y);
            let g_out = cosines(&out.y_out);
            let mut naive = 0.0;
            let mut naive_angle = 0.0;
            let mut min_gap = f64::INFINITY;
            for i in 0..n {
                for j in (i + 1)..n {
                    naive += (1.0 - g_out[[i, j]]) / (1.0 - g[[i, j]]);
                    naive_angle += g_out[[i, j]].clamp(-1.0, 1.0).acos() / g[[i, j]].clamp(-1.0, 1.0).acos();
                    min_gap = min_gap.min((1.0 - g[[i, j]]).min(1.0 - g_out[[i, j]]));
                }
            }
            let pairs = (n * (n - 1) / 2) as f64;
            if min_gap <= 1e-3 {
                // The naive reference itself is inaccurate here; nothing to compare.
                return Ok(());
            }
            let obs = observables(&out).unwrap();
            prop_assert!(abs_diff_eq!(obs.lambda, naive / pairs, epsilon = 1e-10 * obs.lambda.max(1.0)));
            prop_assert!(abs_diff_eq!(obs.lambda_angle, naive_angle / pairs, epsilon = 1e-10 * obs.lambda_angle.max(1.0)));
            // Row-level sanity of the attention statistics.
            prop_assert!(obs.support >= 1.0 - 1e-12 && obs.support <= n as f64 + 1e-9);
            prop_assert!(obs.entropy >= -1e-15 && obs.entropy <= (n as f64).ln() + 1e-12);
            prop_assert!(obs.self_weight > 0.0 && obs.self_weight <= 1.0);
        }
    }

    #[test]
    fn lambda_is_accurate_deep_in_the_collapsed_phase() {
        // n = 2, α = 0: x'_1 = x'_2 up to the tiny difference from the self weight, so
        // 1 − cos' is far below the rounding of cos'. The closed form p − r = tanh(β(1−ρ)/2) gives
        // c and λ = c²/|x'|² exactly; the naive 1 − cos' would return 0 or noise.
        let (rho, q) = (0.3f64, 1.0);
        let x = simplex::<f64>(&(), 2, 2, &rho, &q).unwrap();
        let beta = 1e-6;
        let out = forward(&x, &LayerParams::new(beta, 0.0)).unwrap();
        let obs = observables(&out).unwrap();
        let c = (beta * (1.0 - rho) / 2.0).tanh();
        let r = (1.0 - c) / 2.0;
        let s1 = 1.0 + rho;
        let norm_sq = c * c + 2.0 * c * r * s1 + r * r * 2.0 * s1;
        let want = c * c / norm_sq;
        assert!(want < 1e-12);
        assert!(
            abs_diff_eq!(obs.lambda, want, epsilon = 1e-6 * want),
            "{} vs {want}",
            obs.lambda
        );
    }

    #[test]
    fn duplicate_directions_are_an_error() {
        let x = ndarray::array![[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]];
        let out = forward(&x, &LayerParams::new(1.0, 0.0)).unwrap();
        let err = observables(&out).unwrap_err();
        assert_eq!(err, ModelError::DuplicateDirection { i: 0, j: 2 });
        assert!(err.to_string().contains("tokens 0 and 2"), "{err}");
    }

    #[test]
    fn entropy_treats_zero_weights_as_zero() {
        // β = 1e4 on orthogonal tokens: the off-diagonal weights underflow to exactly 0.
        let x = ndarray::array![[1.0, 0.0], [0.0, 1.0]];
        let out = forward(&x, &LayerParams::new(1e4, 0.0)).unwrap();
        assert_eq!(out.attention[[0, 1]], 0.0);
        let obs = observables(&out).unwrap();
        assert_eq!(obs.entropy, 0.0);
        assert_eq!(obs.support, 1.0);
        assert_eq!(obs.self_weight, 1.0);
        assert_abs_diff_eq!(obs.lambda, 1.0, epsilon = 1e-15);
        assert_abs_diff_eq!(obs.lambda_angle, 1.0, epsilon = 1e-15);
    }
}
