//! The reference attention model of critscale: one attention layer with pre-layer norm, its
//! observables and its full Jacobian, written as plain loops and generic over the scalar
//! ([`critscale_real::Real`]), so that the same code runs in `f64` and, later, in higher precision
//! or interval arithmetic.
//!
//! * [`mod@tokens`] — the simplex and the Gaussian almost-simplex, and input validation;
//! * [`mod@layer`] — the forward pass y_i = x_i/|x_i|, A = softmax_row(β ⟨y_i, y_j⟩),
//!   x'_i = Σ_j A_ij y_j + α x_i, y'_i = x'_i/|x'_i|;
//! * [`mod@observables`] — λ (both readings), cosines, self weight, effective support, entropy;
//! * [`mod@jacobian`] — J = ∂X'/∂X analytically, J v without forming J, η = ‖J‖_F²/(nd) exactly
//!   and by Hutchinson's estimator, and central finite differences for checking;
//! * [`mod@error`] — the error type [`ModelError`].
//!
//! This is the *obviously correct* model: every other computation in the project (closed forms,
//! fast paths, certificates) is checked against it on small n.

#![warn(missing_docs)]

pub mod error;
pub mod jacobian;
pub mod layer;
mod linalg;
pub mod observables;
pub mod tokens;

pub use error::ModelError;
pub use jacobian::{
    Estimate, eta_from_jacobian, eta_hutchinson, jacobian, jacobian_finite_difference,
    jacobian_vector_product,
};
pub use layer::{LayerOutput, LayerParams, forward, softmax_row};
pub use observables::{Observables, cosines, observables};
pub use tokens::{gaussian_almost_simplex, simplex, validate_tokens};
