//! One attention layer (THEORY §1), written as naive loops.
//!
//! For tokens x_1, …, x_n ∈ ℝ^d (the rows of X), inverse temperature β and residual weight α:
//!
//! * pre-layer norm: y_i = x_i / |x_i|;
//! * scores: s_ij = β ⟨y_i, y_j⟩ (query = key = value = identity, one head, no mask; a token
//!   attends to itself, s_ii = β);
//! * weights: A_ij = exp(s_ij − max_k s_ik) / Σ_l exp(s_il − max_k s_ik) (row softmax; subtracting
//!   the row maximum changes nothing mathematically and keeps every exponent ≤ 0, so no overflow
//!   for any β);
//! * output: x'_i = Σ_j A_ij y_j + α x_i and y'_i = x'_i / |x'_i|.
//!
//! The paper's scaling is β = γ ln n ([`LayerParams::from_gamma`]). Any finite β and α are
//! accepted (the theory uses γ > 0, α ≥ 0).

use crate::error::ModelError;
use crate::linalg::{direction, dot, norm};
use crate::tokens::validate_tokens;
use critscale_real::Real;
use ndarray::{Array1, Array2};

/// The parameters of the layer: scores are β ⟨y_i, y_j⟩, the residual weight is α.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerParams<T> {
    /// Inverse temperature β.
    pub beta: T,
    /// Residual weight α (x'_i = Σ_j A_ij y_j + α x_i).
    pub alpha: T,
}

impl<T: Real> LayerParams<T> {
    /// β and α given directly.
    pub fn new(beta: T, alpha: T) -> Self {
        Self { beta, alpha }
    }

    /// The paper's critical scaling β = γ ln n.
    ///
    /// # Panics
    ///
    /// If n does not fit in an `i64`.
    pub fn from_gamma(gamma: &T, n: usize, alpha: T) -> Self {
        let ctx = gamma.ctx();
        let ln_n = T::from_i64(&ctx, i64::try_from(n).expect("n fits in i64")).ln();
        Self {
            beta: gamma.clone() * &ln_n,
            alpha,
        }
    }

    /// Checks that β and α are finite.
    ///
    /// # Errors
    ///
    /// [`ModelError::NonFiniteParam`] naming the parameter.
    pub fn validate(&self) -> Result<(), ModelError> {
        for (name, value) in [("beta", &self.beta), ("alpha", &self.alpha)] {
            if !value.is_finite() {
                return Err(ModelError::NonFiniteParam {
                    name,
                    value: value.to_sci_string(),
                });
            }
        }
        Ok(())
    }
}

/// Everything the forward pass computes.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerOutput<T> {
    /// |x_i|, the input norms (length n).
    pub norms: Array1<T>,
    /// y_i = x_i / |x_i| (n × d).
    pub y: Array2<T>,
    /// A, the row-stochastic attention matrix (n × n).
    pub attention: Array2<T>,
    /// x'_i = Σ_j A_ij y_j + α x_i, the un-normalised outputs (n × d).
    pub x_out: Array2<T>,
    /// y'_i = x'_i / |x'_i| (n × d).
    pub y_out: Array2<T>,
}

/// The softmax of one row of scores, with the row maximum subtracted before exponentiating.
///
/// Returns an empty vector for an empty row. For finite scores the result is finite, nonnegative,
/// sums to 1 up to rounding and has at least one entry equal to 1 / Σ (the maximum).
pub fn softmax_row<T: Real>(scores: &[T]) -> Vec<T> {
    let Some(first) = scores.first() else {
        return Vec::new();
    };
    let ctx = first.ctx();
    let mut max = first.clone();
    for s in &scores[1..] {
        max = max.max(s);
    }
    let exps: Vec<T> = scores.iter().map(|s| (s.clone() - &max).exp()).collect();
    let mut sum = T::zero(&ctx);
    for e in &exps {
        sum += e.clone();
    }
    exps.into_iter().map(|e| e / &sum).collect()
}

/// The pre-norm, the attention matrix and the un-normalised outputs; shared by [`forward`] and the
/// Jacobian code (which does not need x'_i ≠ 0).
pub(crate) struct Core<T> {
    pub(crate) norms: Array1<T>,
    pub(crate) y: Array2<T>,
    pub(crate) attention: Array2<T>,
    pub(crate) x_out: Array2<T>,
}

pub(crate) fn core<T: Real>(x: &Array2<T>, params: &LayerParams<T>) -> Result<Core<T>, ModelError> {
    validate_tokens(x)?;
    params.validate()?;
    let (n, d) = x.dim();
    let ctx = x[[0, 0]].ctx();

    let norms: Array1<T> = x.rows().into_iter().map(|xi| norm(&ctx, xi)).collect();
    let mut y = x.clone();
    for i in 0..n {
        if norms[i].is_finite() && norms[i].is_normal() {
            for a in 0..d {
                y[[i, a]] /= norms[i].clone();
            }
        } else {
            // |x_i| overflows or is subnormal: the direction from the scaled row instead.
            y.row_mut(i).assign(&direction(&ctx, x.row(i)));
        }
    }

    let mut attention = Array2::from_elem((n, n), T::zero(&ctx));
    for i in 0..n {
        let scores: Vec<T> = (0..n)
            .map(|j| params.beta.clone() * &dot(&ctx, y.row(i), y.row(j)))
            .collect();
        for (j, a) in softmax_row(&scores).into_iter().enumerate() {
            if !a.is_finite() {
                return Err(ModelError::NonFiniteResult {
                    what: "attention weight",
                    row: i,
                });
            }
            attention[[i, j]] = a;
        }
    }

    let mut x_out = Array2::from_elem((n, d), T::zero(&ctx));
    for i in 0..n {
        for a in 0..d {
            let mut s = params.alpha.clone() * &x[[i, a]];
            for j in 0..n {
                s += attention[[i, j]].clone() * &y[[j, a]];
            }
            if !s.is_finite() {
                return Err(ModelError::NonFiniteResult {
                    what: "output x'",
                    row: i,
                });
            }
            x_out[[i, a]] = s;
        }
    }
    Ok(Core {
        norms,
        y,
        attention,
        x_out,
    })
}

/// The forward pass of the layer (see the module docs for the formulas).
///
/// # Errors
///
/// Whatever [`validate_tokens`] and [`LayerParams::validate`] report;
/// [`ModelError::NonFiniteResult`] on overflow (β or α near the largest finite value);
/// [`ModelError::ZeroOutput`] if some x'_i = 0 (then y'_i is undefined), e.g. two antipodal
/// tokens with β = 0 and α = 0.
pub fn forward<T: Real>(
    x: &Array2<T>,
    params: &LayerParams<T>,
) -> Result<LayerOutput<T>, ModelError> {
    let Core {
        norms,
        y,
        attention,
        x_out,
    } = core(x, params)?;
    let (n, d) = x.dim();
    let ctx = x[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    let mut y_out = x_out.clone();
    for i in 0..n {
        let r = norm(&ctx, x_out.row(i));
        if r == zero {
            return Err(ModelError::ZeroOutput { row: i });
        }
        if r.is_finite() && r.is_normal() {
            for a in 0..d {
                y_out[[i, a]] /= r.clone();
            }
        } else {
            y_out.row_mut(i).assign(&direction(&ctx, x_out.row(i)));
        }
    }
    Ok(LayerOutput {
        norms,
        y,
        attention,
        x_out,
        y_out,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::observables::observables;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Random tokens for tests: Gaussian directions with norms uniform in [0.5, 2].
    pub(crate) fn random_tokens(n: usize, d: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Array2::from_shape_fn((n, d), |_| rng.sample::<f64, _>(StandardNormal));
        for mut row in x.rows_mut() {
            let r = row.dot(&row).sqrt();
            let target: f64 = rng.random_range(0.5..2.0);
            row.mapv_inplace(|v| v * target / r);
        }
        x
    }

    /// A random orthogonal d × d matrix: Gram–Schmidt (applied twice) of a seeded Gaussian matrix.
    pub(crate) fn random_orthogonal(d: usize, seed: u64) -> Array2<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut q = Array2::from_shape_fn((d, d), |_| rng.sample::<f64, _>(StandardNormal));
        for k in 0..d {
            for _ in 0..2 {
                for l in 0..k {
                    let p = q.row(k).dot(&q.row(l));
                    let ql = q.row(l).to_owned();
                    q.row_mut(k).scaled_add(-p, &ql);
                }
            }
            let r = q.row(k).dot(&q.row(k)).sqrt();
            q.row_mut(k).mapv_inplace(|v| v / r);
        }
        q
    }

    fn params(beta: f64, alpha: f64) -> LayerParams<f64> {
        LayerParams::new(beta, alpha)
    }

    proptest! {
        #[test]
        fn softmax_rows_sum_to_one(scores in prop::collection::vec(-1e4f64..1e4, 1..40)) {
            let p = softmax_row(&scores);
            prop_assert_eq!(p.len(), scores.len());
            prop_assert!(p.iter().all(|v| v.is_finite() && *v >= 0.0));
            let s: f64 = p.iter().sum();
            prop_assert!(abs_diff_eq!(s, 1.0, epsilon = 1e-14 * scores.len() as f64), "sum = {s}");
        }

        #[test]
        fn forward_attention_rows_sum_to_one_even_for_huge_beta(
            n in 2usize..=12,
            d in 1usize..=6,
            beta in prop_oneof![0.0f64..20.0, Just(1e4), Just(-1e4), Just(1e300)],
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            let out = forward(&x, &params(beta, alpha)).unwrap();
            for i in 0..n {
                let row = out.attention.row(i);
                prop_assert!(row.iter().all(|v| v.is_finite() && *v >= 0.0));
                prop_assert!(abs_diff_eq!(row.sum(), 1.0, epsilon = 1e-14 * n as f64));
            }
            prop_assert!(out.y_out.iter().all(|v| v.is_finite()));
        }

        #[test]
        fn forward_is_permutation_equivariant(
            n in 2usize..=10,
            d in 1usize..=6,
            beta in 0.0f64..20.0,
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
            perm_seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            // A random permutation π (Fisher–Yates); row i of the permuted input is x_{π(i)}.
            let mut rng = ChaCha8Rng::seed_from_u64(perm_seed);
            let mut perm: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                let j = rng.random_range(0..=i);
                perm.swap(i, j);
            }
            let xp = Array2::from_shape_fn((n, d), |(i, a)| x[[perm[i], a]]);
            let p = params(beta, alpha);
            let out = forward(&x, &p).unwrap();
            let outp = forward(&xp, &p).unwrap();
            let want_x = Array2::from_shape_fn((n, d), |(i, a)| out.x_out[[perm[i], a]]);
            let want_a = Array2::from_shape_fn((n, n), |(i, j)| out.attention[[perm[i], perm[j]]]);
            prop_assert!(abs_diff_eq!(outp.x_out, want_x, epsilon = 1e-13));
            prop_assert!(abs_diff_eq!(outp.attention, want_a, epsilon = 1e-13));
        }

        #[test]
        fn forward_is_rotation_invariant(
            n in 2usize..=10,
            d in 1usize..=6,
            beta in 0.0f64..20.0,
            alpha in 0.0f64..1.0,
            seed in any::<u64>(),
            rot_seed in any::<u64>(),
        ) {
            let x = random_tokens(n, d, seed);
            let q = random_orthogonal(d, rot_seed);
            // Rows rotate: x_i ↦ Q x_i, i.e. X ↦ X Qᵀ.
            let xr = x.dot(&q.t());
            let p = params(beta, alpha);
            let out = forward(&x, &p).unwrap();
            let outr = forward(&xr, &p).unwrap();
            prop_assert!(abs_diff_eq!(outr.x_out, out.x_out.dot(&q.t()), epsilon = 1e-12));
            prop_assert!(abs_diff_eq!(outr.attention, out.attention, epsilon = 1e-12));
            let (o, or) = (observables(&out), observables(&outr));
            if let (Ok(o), Ok(or)) = (o, or) {
                let pairs = [
                    (o.lambda, or.lambda),
                    (o.lambda_angle, or.lambda_angle),
                    (o.cos_in_min, or.cos_in_min),
                    (o.cos_in_mean, or.cos_in_mean),
                    (o.cos_in_max, or.cos_in_max),
                    (o.cos_out_min, or.cos_out_min),
                    (o.cos_out_mean, or.cos_out_mean),
                    (o.cos_out_max, or.cos_out_max),
                    (o.self_weight, or.self_weight),
                    (o.support, or.support),
                    (o.entropy, or.entropy),
                ];
                for (k, (u, v)) in pairs.into_iter().enumerate() {
                    prop_assert!(
                        abs_diff_eq!(u, v, epsilon = 1e-9 * u.abs().max(1.0)),
                        "observable #{k}: {u} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn directions_survive_norms_that_overflow_or_are_subnormal() {
        // |x_0| = 1.5e308·√2 overflows f64 and |x_2| is subnormal: the directions are exact.
        let x = ndarray::array![[1.5e308, 1.5e308], [1.0, 0.0], [3e-320, -3e-320]];
        let out = forward(&x, &params(1.0, 0.0)).unwrap();
        let s = std::f64::consts::FRAC_1_SQRT_2;
        let want = ndarray::array![[s, s], [1.0, 0.0], [s, -s]];
        assert!(abs_diff_eq!(out.y, want, epsilon = 1e-15), "{:?}", out.y);
        assert_eq!(out.norms[0], f64::INFINITY);
        // An output whose norm overflows keeps its direction too (α x_0 is finite).
        let out = forward(&x, &params(1.0, 1.0)).unwrap();
        let len: f64 = out.y_out.row(0).iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(
            abs_diff_eq!(len, 1.0, epsilon = 1e-15)
                && abs_diff_eq!(out.y_out[[0, 0]], s, epsilon = 1e-15)
        );
    }

    #[test]
    fn forward_matches_hand_computation_for_two_tokens() {
        // x_1 = (2, 0), x_2 = (0, 1): y = I, scores β on the diagonal and 0 off it.
        let x = ndarray::array![[2.0, 0.0], [0.0, 1.0]];
        let (beta, alpha) = (1.5f64, 0.25);
        let out = forward(&x, &params(beta, alpha)).unwrap();
        let p = 1.0 / (1.0 + (-beta).exp());
        assert_eq!(out.norms, ndarray::array![2.0, 1.0]);
        assert_abs_diff_eq!(out.attention[[0, 0]], p, epsilon = 1e-15);
        assert_abs_diff_eq!(out.attention[[1, 0]], 1.0 - p, epsilon = 1e-15);
        let want = ndarray::array![[p + 0.5, 1.0 - p], [1.0 - p, p + 0.25]];
        assert_abs_diff_eq!(out.x_out, want, epsilon = 1e-15);
    }

    #[test]
    fn from_gamma_is_gamma_log_n() {
        let p = LayerParams::from_gamma(&2.0f64, 100, 0.5);
        assert_abs_diff_eq!(p.beta, 2.0 * 100f64.ln(), epsilon = 1e-15);
        assert_eq!(p.alpha, 0.5);
    }

    #[test]
    fn forward_errors() {
        let x = ndarray::array![[1.0, 0.0], [-1.0, 0.0]];
        // Antipodal tokens with β = 0, α = 0 average to zero.
        assert_eq!(
            forward(&x, &params(0.0, 0.0)),
            Err(ModelError::ZeroOutput { row: 0 })
        );
        let zero_row = ndarray::array![[1.0, 0.0], [0.0, 0.0]];
        assert_eq!(
            forward(&zero_row, &params(1.0, 0.0)),
            Err(ModelError::ZeroToken { row: 1 })
        );
        let nan = ndarray::array![[1.0, f64::NAN], [0.0, 1.0]];
        assert!(matches!(
            forward(&nan, &params(1.0, 0.0)),
            Err(ModelError::NonFinite { row: 0, col: 1, .. })
        ));
        let ok = ndarray::array![[1.0, 0.0], [0.0, 1.0]];
        assert!(matches!(
            forward(&ok, &params(f64::INFINITY, 0.0)),
            Err(ModelError::NonFiniteParam { name: "beta", .. })
        ));
        assert!(matches!(
            forward(&ok, &params(1.0, f64::NAN)),
            Err(ModelError::NonFiniteParam { name: "alpha", .. })
        ));
    }
}
