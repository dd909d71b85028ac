//! The rounding-error model of exact and Hutchinson η: the limit above which a result is refused,
//! and the per-unit-roundoff factor by which the estimates scale the magnitudes of cancelling
//! sums (see the parent module docs, "Cancellation").

use crate::element::Element;
use crate::error::KernelError;

/// The largest estimated relative rounding error with which [`eta_exact`](super::eta_exact)
/// (and [`eta_hutchinson`](super::eta_hutchinson)) report η: 1e-6 in `f64`, 1e-2 in `f32`. The
/// estimate is an over-estimate (3 to 100 times the actual error in the tests), so f32 results
/// that pass it are typically good to 1e-4 or better; in f32 the limit is set so that moderate
/// β (up to about 300 on a simplex, with close pairs of tokens in d = 2) is not refused for the
/// estimate's pessimism.
pub fn eta_error_limit<T: Element>() -> f64 {
    if T::UNIT_ROUNDOFF < 1e-10 { 1e-6 } else { 1e-2 }
}

/// Relative size of the rounding error of the terms, per unit roundoff: sums of n products in
/// the GEMMs and d in the Gram entries, whose errors grow like √n and √d (random-walk model).
/// Calibrated by measurement: on simplices (n = d = 64) and random tokens (n ≤ 9), f64 and f32,
/// β from 1 to 1e10, the estimate is 1.5 to 100 times the actual error of η (checked against
/// the closed form and the reference Jacobian in `tests/simulate_safety.rs`).
pub(super) fn error_factor(n: usize, d: usize) -> f64 {
    2.0 + 0.25 * ((n as f64).sqrt() + (d as f64).sqrt())
}

/// The exact η when its estimated absolute rounding error `err` is within [`eta_error_limit`]
/// of it, else [`KernelError::PrecisionLoss`] (β for the message): the refusal shared by
/// [`eta_exact`](super::eta_exact) and [`eta_exact_lean`](crate::eta_exact_lean).
pub(crate) fn exact_within_limit<T: Element>(
    eta: f64,
    err: f64,
    beta: f64,
) -> Result<f64, KernelError> {
    let limit = eta_error_limit::<T>();
    if err > limit * eta {
        return Err(KernelError::PrecisionLoss {
            what: "exact eta",
            precision: T::NAME,
            bound: err / eta,
            limit,
            beta,
        });
    }
    Ok(eta)
}
