//! Token configurations (THEORY §2) and input validation.
//!
//! Tokens are the rows of an n × d matrix X: row i is x_i ∈ ℝ^d.
//!
//! * [`simplex`]: the exact simplex, |x_i|² = q and ⟨y_i, y_j⟩ = ρ for i ≠ j (y_i = x_i / |x_i|).
//!   Built explicitly on the first n coordinates as y_j = b e_j + c (1, …, 1, 0, …, 0) with
//!   b = √(1−ρ) and c the positive root of n c² + 2 b c − ρ = 0, written without cancellation as
//!   c = ρ / (b + √(1 − ρ + nρ)). Then |y_j|² = b² + 2bc + nc² = 1 and
//!   ⟨y_i, y_j⟩ = 2bc + nc² = ρ, and x_j = √q y_j. It needs d ≥ n and −1/(n−1) < ρ < 1 (the Gram
//!   matrix (1−ρ) I + ρ 1 1ᵀ is then positive definite).
//! * [`gaussian_almost_simplex`]: the paper's random tokens x_i = √ρ z₀ + √(1−ρ) z_i with
//!   z₀, z_i i.i.d. N(0, I_d / d), so E|x_i|² = 1 and E⟨x_i, x_j⟩ = ρ.
//! * [`validate_tokens`]: the checks every entry point of the crate runs first.

use crate::error::ModelError;
use crate::linalg::norm;
use critscale_real::Real;
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

/// The exact simplex of `n` tokens in dimension `d`: |x_i|² = `q`, ⟨y_i, y_j⟩ = `rho` for i ≠ j.
///
/// Row j is √q (b e_j + c 1_n) zero-padded to `d` columns, with b = √(1−ρ) and
/// c = ρ / (b + √(1 − ρ + nρ)) (see the module docs). All arithmetic is in `T`.
///
/// # Errors
///
/// [`ModelError::BadShape`] if n < 2; [`ModelError::SimplexNeedsDim`] if d < n;
/// [`ModelError::NonFiniteParam`] if ρ or q is not finite; [`ModelError::RhoOutOfRange`] unless
/// −1/(n−1) < ρ < 1 (tested exactly as 1 + (n−1)ρ > 0 and ρ < 1); [`ModelError::QOutOfRange`]
/// unless q > 0.
pub fn simplex<T: Real>(
    ctx: &T::Ctx,
    n: usize,
    d: usize,
    rho: &T,
    q: &T,
) -> Result<Array2<T>, ModelError> {
    if n < 2 {
        return Err(ModelError::BadShape {
            what: "simplex",
            n,
            d,
            expected: "a simplex needs n >= 2 tokens".to_owned(),
        });
    }
    if d < n {
        return Err(ModelError::SimplexNeedsDim { n, d });
    }
    for (name, value) in [("rho", rho), ("q", q)] {
        if !value.is_finite() {
            return Err(ModelError::NonFiniteParam {
                name,
                value: value.to_sci_string(),
            });
        }
    }
    let zero = T::zero(ctx);
    let one = T::one(ctx);
    let n_t = T::from_i64(ctx, i64::try_from(n).expect("n fits in i64"));
    // 1 + (n−1)ρ = 1 − ρ + nρ, the eigenvalue of the Gram matrix along 1.
    let s1 = one.clone() - rho + &(n_t.clone() * rho);
    if !(s1 > zero && *rho < one) {
        let lower = -1.0 / (n as f64 - 1.0);
        return Err(ModelError::RhoOutOfRange {
            rho: rho.to_sci_string(),
            lower: format!("{lower:e}"),
            n,
        });
    }
    if *q <= zero {
        return Err(ModelError::QOutOfRange {
            q: q.to_sci_string(),
        });
    }
    let b = (one - rho).sqrt();
    let c = rho.clone() / &(b.clone() + &s1.sqrt());
    let sq = q.sqrt();
    let diag = (b + &c) * &sq;
    let off = c * &sq;
    Ok(Array2::from_shape_fn((n, d), |(i, a)| {
        if a == i {
            diag.clone()
        } else if a < n {
            off.clone()
        } else {
            zero.clone()
        }
    }))
}

/// The Gaussian almost-simplex of the paper's experiments: x_i = √ρ z₀ + √(1−ρ) z_i with
/// z₀, z_1, …, z_n i.i.d. N(0, I_d / d).
///
/// Reproducible draw order: a `rand_chacha::ChaCha8Rng` seeded with `seed_from_u64(seed)` draws
/// standard normals (`rand_distr::StandardNormal`, as `f64`) in this order: the d coordinates of
/// z₀ (√d z₀, coordinate 0 first), then for each token i = 0, …, n−1 the d coordinates of √d z_i.
/// Each draw g is turned into `T` exactly (`T::from_f64`), and x_ia = (√ρ g₀_a + √(1−ρ) g_ia) / √d
/// is evaluated in `T`.
///
/// # Panics
///
/// If ρ is not in [0, 1] or d = 0 (the construction needs real square roots and a nonempty
/// coordinate set).
pub fn gaussian_almost_simplex<T: Real>(
    ctx: &T::Ctx,
    n: usize,
    d: usize,
    rho: f64,
    seed: u64,
) -> Array2<T> {
    assert!(
        (0.0..=1.0).contains(&rho),
        "gaussian_almost_simplex: rho = {rho:e} must lie in [0, 1]"
    );
    assert!(d >= 1, "gaussian_almost_simplex: d = 0, need d >= 1");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = || T::from_f64(ctx, rng.sample::<f64, _>(StandardNormal));
    let z0: Vec<T> = (0..d).map(|_| draw()).collect();
    let rho_t = T::from_f64(ctx, rho);
    let a0 = rho_t.sqrt();
    let a1 = (T::one(ctx) - &rho_t).sqrt();
    let sqrt_d = T::from_i64(ctx, i64::try_from(d).expect("d fits in i64")).sqrt();
    let mut x = Array2::from_elem((n, d), T::zero(ctx));
    for i in 0..n {
        for (a, z0a) in z0.iter().enumerate() {
            let g = draw();
            x[[i, a]] = (a0.clone() * z0a + &(a1.clone() * &g)) / &sqrt_d;
        }
    }
    x
}

/// Checks that `x` is a usable token matrix: n ≥ 2 rows, d ≥ 1 columns, every entry finite and no
/// row equal to the zero vector.
///
/// # Errors
///
/// [`ModelError::BadShape`], [`ModelError::NonFinite`] (the first offending entry in row-major
/// order) or [`ModelError::ZeroToken`] (the first zero row).
pub fn validate_tokens<T: Real>(x: &Array2<T>) -> Result<(), ModelError> {
    let (n, d) = x.dim();
    if n < 2 || d < 1 {
        return Err(ModelError::BadShape {
            what: "token matrix X",
            n,
            d,
            expected: "need n >= 2 tokens (rows) and dimension d >= 1 (columns)".to_owned(),
        });
    }
    for ((row, col), value) in x.indexed_iter() {
        if !value.is_finite() {
            return Err(ModelError::NonFinite {
                row,
                col,
                value: value.to_sci_string(),
            });
        }
    }
    let ctx = x[[0, 0]].ctx();
    let zero = T::zero(&ctx);
    for (row, xi) in x.rows().into_iter().enumerate() {
        if norm(&ctx, xi) == zero {
            return Err(ModelError::ZeroToken { row });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn simplex_has_the_right_gram_and_norms(
            n in 2usize..=16,
            extra in 0usize..4,
            t in 0.001f64..0.999,
            q in 0.01f64..100.0,
        ) {
            let d = n + extra;
            let lower = -1.0 / (n as f64 - 1.0);
            let rho = lower + t * (1.0 - lower);
            let x = simplex::<f64>(&(), n, d, &rho, &q).unwrap();
            prop_assert_eq!(x.dim(), (n, d));
            for i in 0..n {
                for j in 0..n {
                    let g: f64 = (0..d).map(|a| x[[i, a]] * x[[j, a]]).sum();
                    let want = if i == j { q } else { q * rho };
                    prop_assert!(abs_diff_eq!(g, want, epsilon = 1e-13 * q), "G[{i}][{j}] = {g}, want {want}");
                }
                for a in n..d {
                    prop_assert_eq!(x[[i, a]], 0.0);
                }
            }
        }
    }

    #[test]
    fn simplex_rejects_bad_parameters() {
        assert_eq!(
            simplex::<f64>(&(), 4, 3, &0.3, &1.0),
            Err(ModelError::SimplexNeedsDim { n: 4, d: 3 })
        );
        assert!(matches!(
            simplex::<f64>(&(), 1, 3, &0.3, &1.0),
            Err(ModelError::BadShape { .. })
        ));
        for rho in [1.0, 1.5, -1.0 / 3.0, -0.5] {
            let err = simplex::<f64>(&(), 4, 4, &rho, &1.0).unwrap_err();
            assert!(
                matches!(err, ModelError::RhoOutOfRange { n: 4, .. }),
                "{rho}: {err}"
            );
            assert!(err.to_string().contains("rho ="), "{err}");
        }
        assert!(matches!(
            simplex::<f64>(&(), 4, 4, &0.3, &0.0),
            Err(ModelError::QOutOfRange { .. })
        ));
        assert!(matches!(
            simplex::<f64>(&(), 4, 4, &f64::NAN, &1.0),
            Err(ModelError::NonFiniteParam { name: "rho", .. })
        ));
        // Just inside the lower end is fine.
        assert!(simplex::<f64>(&(), 4, 4, &(-1.0 / 3.0 + 1e-9), &1.0).is_ok());
    }

    #[test]
    fn gaussian_almost_simplex_is_reproducible_and_normalised() {
        let a = gaussian_almost_simplex::<f64>(&(), 64, 512, 0.3, 7);
        let b = gaussian_almost_simplex::<f64>(&(), 64, 512, 0.3, 7);
        let c = gaussian_almost_simplex::<f64>(&(), 64, 512, 0.3, 8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let n = 64.0;
        let mean_sq: f64 = a.rows().into_iter().map(|r| r.dot(&r)).sum::<f64>() / n;
        // |x_i|² has mean 1 and standard deviation about √(2/d) per token; z₀ is shared, so the
        // average over tokens still fluctuates by about ρ√(2/d) ≈ 0.02.
        assert!(
            abs_diff_eq!(mean_sq, 1.0, epsilon = 0.1),
            "mean |x|^2 = {mean_sq}"
        );
        let mut cos_sum = 0.0;
        for i in 0..64 {
            for j in 0..i {
                cos_sum += a.row(i).dot(&a.row(j));
            }
        }
        let mean_ip = cos_sum / (64.0 * 63.0 / 2.0);
        assert!(
            abs_diff_eq!(mean_ip, 0.3, epsilon = 0.1),
            "mean <x_i, x_j> = {mean_ip}"
        );
    }

    #[test]
    fn gaussian_draw_order_is_as_documented() {
        let (n, d, rho, seed) = (3, 4, 0.25, 11);
        let x = gaussian_almost_simplex::<f64>(&(), n, d, rho, seed);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let g: Vec<f64> = (0..(n + 1) * d)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        for i in 0..n {
            for a in 0..d {
                let want = (rho.sqrt() * g[a] + (1.0 - rho).sqrt() * g[(i + 1) * d + a])
                    / (d as f64).sqrt();
                assert_eq!(x[[i, a]], want);
            }
        }
    }

    #[test]
    fn validation_names_the_problem() {
        let mut x = Array2::from_elem((3, 2), 1.0f64);
        assert_eq!(validate_tokens(&x), Ok(()));
        x[[1, 0]] = 0.0;
        x[[1, 1]] = 0.0;
        assert_eq!(validate_tokens(&x), Err(ModelError::ZeroToken { row: 1 }));
        x[[2, 1]] = f64::NAN;
        let err = validate_tokens(&x).unwrap_err();
        assert!(
            matches!(err, ModelError::NonFinite { row: 2, col: 1, .. }),
            "{err}"
        );
        assert!(matches!(
            validate_tokens(&Array2::from_elem((1, 3), 1.0f64)),
            Err(ModelError::BadShape { n: 1, d: 3, .. })
        ));
        assert!(matches!(
            validate_tokens(&Array2::<f64>::from_elem((3, 0), 1.0)),
            Err(ModelError::BadShape { .. })
        ));
        // Tiny but nonzero rows are fine (the norm is computed with scaling).
        let tiny = Array2::from_elem((2, 2), 1e-300f64);
        assert_eq!(validate_tokens(&tiny), Ok(()));
    }
}
