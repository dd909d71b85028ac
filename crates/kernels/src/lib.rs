//! The fast path of critscale: one attention layer (THEORY §1) on thousands of tokens, in `f64` or
//! `f32`, with GEMM-shaped kernels, a vectorised exponential and rayon over fixed blocks.
//!
//! * [`mod@prepare`] — validation, pre-layer norm y_i = x_i/|x_i| and centring z_i = y_i − mean y;
//! * [`mod@forward`] — the layer in row blocks: the Gram tiles ⟨z_I, z_J⟩ for I ≤ J only (the
//!   shifted weights E_ij = exp(−β(1 − ⟨y_i, y_j⟩)) are symmetric), U = E Z, x' and y', in
//!   O(n·d + b²) memory;
//! * [`mod@observables`] — λ, λ_angle, cosines, self weight, support, entropy, over all pairs in
//!   tiles;
//! * [`mod@eta`] — the exact η = ‖∂X'/∂X‖²_F/(nd) in O(n²d + n³) (or O(n²d²) when that is
//!   smaller) without the nd × nd Jacobian, and Hutchinson's estimate in O(k n² d);
//! * [`mod@lean`] — the same exact η holding one n × n matrix instead of three (for large n);
//! * [`mod@simd`] — the exponential (Cody–Waite + polynomial), dispatched at run time through
//!   `pulp` to AVX-512, AVX2+FMA or scalar code;
//! * [`mod@element`] — the `f64`/`f32` element trait and the matrix products (`gemm` crate);
//! * [`mod@memory`] — the memory a run needs against what the process may use, and fallible
//!   allocation of the big buffers.
//!
//! Token files are read by `critscale-tokens`; this crate works on matrices in memory only.
//!
//! **Limits.** Exact and Hutchinson η are refused ([`KernelError::PrecisionLoss`]) when their
//! estimated rounding error exceeds [`eta_error_limit`] (very large β); tokens with
//! 1 − ⟨y_i, y_j⟩ ≤ [`COPY_TOLERANCE`] are copies, left out of the pair means and counted in the
//! self mass (only a context whose pairs are all copies is refused); directions are exact for
//! rows whose norm overflows or is subnormal.
//!
//! **Determinism.** Block sizes depend on n only; tiles are scheduled in fixed rounds and partial
//! sums are reduced in a fixed order, so every result is bit-identical for any number of rayon
//! threads (on the same CPU: AVX-512 and AVX2 code may round differently).
//!
//! Everything is checked against the reference model `critscale-model` (tests beside the code and
//! in the workspace suite).

#![warn(missing_docs)]

pub mod element;
pub mod error;
pub mod eta;
pub mod forward;
pub mod lean;
pub mod memory;
pub mod observables;
pub mod prepare;
pub mod simd;
mod tiles;

pub use element::Element;
pub use error::KernelError;
pub use eta::{Estimate, eta_error_limit, eta_exact, eta_exact_with_error, eta_hutchinson};
pub use forward::{Forward, Scores, forward, forward_with_scores};
pub use lean::eta_exact_lean;
pub use observables::{
    COPY_TOLERANCE, ErrorModel, Observables, copy_tolerance, lambda_error_limit, mean_input_cosine,
    observables,
};
pub use prepare::{Options, Params, Prepared, default_block, prepare};

#[cfg(test)]
mod determinism_tests {
    use super::*;
    use crate::testutil::tokens;
    use approx::abs_diff_eq;

    fn run_all<T: Element>(
        x: ndarray::ArrayView2<'_, T>,
        threads: usize,
    ) -> (Vec<u64>, Observables, f64, Estimate) {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let p = Params::new(6.0, 0.2);
            let o = Options { block: Some(24) };
            let f = forward(x, &p, &o).unwrap();
            let obs = observables(&f).unwrap();
            let eta = eta_exact(x, &p, &o).unwrap();
            let h = eta_hutchinson(x, &p, 3, 9, &o).unwrap();
            (
                f.x_out.iter().map(|v| v.to_f64().to_bits()).collect(),
                obs,
                eta,
                h,
            )
        })
    }

    #[test]
    fn results_are_bit_identical_for_any_thread_count() {
        let x = tokens(0, 150, 7, 3, 0.0);
        let one = run_all(x.view(), 1);
        for threads in [2, 3, 5] {
            let other = run_all(x.view(), threads);
            assert_eq!(one.0, other.0, "x' differs with {threads} threads");
            assert_eq!(one.1, other.1, "observables differ with {threads} threads");
            assert_eq!(
                one.2.to_bits(),
                other.2.to_bits(),
                "exact eta differs with {threads} threads"
            );
            assert_eq!(one.3, other.3, "Hutchinson differs with {threads} threads");
        }
        let x32 = x.mapv(|v| v as f32);
        let a = run_all(x32.view(), 1);
        let b = run_all(x32.view(), 3);
        assert_eq!(a.0, b.0);
        assert_eq!(a.1, b.1);
        assert_eq!(a.2.to_bits(), b.2.to_bits());
    }

    #[test]
    fn f32_agrees_with_the_f64_reference_to_1e5() {
        for (kind, n, d, beta) in [
            (0u8, 40usize, 6usize, 5.0f64),
            (1, 30, 8, 20.0),
            (3, 20, 20, 3.0),
            (0, 2, 3, 1.0),
        ] {
            let x = tokens(kind, n, d, 11, 0.0);
            let p = critscale_model::LayerParams::new(beta, 0.1);
            let want =
                critscale_model::observables(&critscale_model::forward(&x, &p).unwrap()).unwrap();
            let want_eta = critscale_model::eta_from_jacobian(&x, &p).unwrap();
            let x32 = x.mapv(|v| v as f32);
            let params = Params::new(beta, 0.1);
            let f = forward(x32.view(), &params, &Options::default()).unwrap();
            let got = observables(&f).unwrap();
            let eta = eta_exact(x32.view(), &params, &Options::default()).unwrap();
            // f32 rounding of the inputs alone moves the Gram entries by ~6e-8, amplified by β.
            let tol = 1e-5 * (1.0 + beta / 10.0);
            for (name, g, w) in [
                ("lambda", got.lambda, want.lambda),
                ("lambda_angle", got.lambda_angle, want.lambda_angle),
                ("self_weight", got.self_weight, want.self_weight),
                ("support", got.support, want.support),
                ("entropy", got.entropy, want.entropy.max(1e-3)),
                ("cos_out_mean", got.cos_out_mean, want.cos_out_mean),
            ] {
                assert!(
                    abs_diff_eq!(g, w, epsilon = tol * w.abs().max(1e-3)),
                    "kind {kind}: {name} {g:e} vs {w:e}"
                );
            }
            assert!(
                abs_diff_eq!(
                    eta,
                    want_eta,
                    epsilon = tol * (1.0 + beta / 10.0) * want_eta
                ),
                "kind {kind}: eta {eta:e} vs {want_eta:e}"
            );
        }
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Token generators and comparison helpers shared by the unit tests.
    use ndarray::Array2;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Gaussian directions with norms uniform in [0.5, 2].
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

    /// Adversarial token sets: kind 0 = random, 1 = Gaussian almost-simplex with ρ near 1,
    /// 2 = near-duplicate pairs (relative perturbation `eps`), 3 = an explicit simplex (d ≥ n).
    pub(crate) fn tokens(kind: u8, n: usize, d: usize, seed: u64, eps: f64) -> Array2<f64> {
        match kind {
            1 => critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, 0.999, seed),
            2 => {
                let mut x = random_tokens(n, d, seed);
                let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xabcdef);
                for i in (1..n).step_by(2) {
                    for a in 0..d {
                        let p: f64 = rng.sample(StandardNormal);
                        x[[i, a]] = x[[i - 1, a]] * (1.0 + eps * p) + eps * p * 0.1;
                    }
                }
                x
            }
            3 => critscale_model::simplex::<f64>(&(), n, d.max(n), &0.3, &1.7).unwrap(),
            _ => random_tokens(n, d, seed),
        }
    }
}
