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
//! * [`mod@simd`] — the exponential (Cody–Waite + polynomial), dispatched at run time through
//!   `pulp` to AVX-512, AVX2+FMA or scalar code;
//! * [`mod@element`] — the `f64`/`f32` element trait and the matrix products (`gemm` crate).
//!
//! **Determinism.** Block sizes depend on n only; tiles are scheduled in fixed rounds and partial
//! sums are reduced in a fixed order, so every result is bit-identical for any number of rayon
//! threads (on the same CPU: AVX-512 and AVX2 code may round differently).
//!
//! Everything is checked against the reference model `critscale-model` (tests beside the code and
//! in the workspace suite).

pub mod element;
pub mod error;
pub mod eta;
pub mod forward;
pub mod observables;
pub mod prepare;
pub mod simd;
mod tiles;

pub use element::Element;
pub use error::KernelError;
pub use eta::{Estimate, eta_exact, eta_hutchinson};
pub use forward::{Forward, forward};
pub use observables::{Observables, observables};
pub use prepare::{Options, Params, Prepared, default_block, prepare};

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

    /// |a − b| ≤ tol·max(|b|, floor).
    pub(crate) fn close(a: f64, b: f64, tol: f64, floor: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(floor)
    }
}
