//! The n → ∞ limits of T1 and T3 on the simplex, and the exponents with which they are approached.
//!
//! Write a = α√q and κ = γ(1 − ρ) − 1.
//!
//! **T1 (cos_out).** Below γ_c: ρ(a+1)²/(a² + 2aρ + ρ) (= 1 without residual); at γ_c:
//! ρ(a+1)²/(a² + a(1+ρ) + (1+3ρ)/4) (= 4ρ/(1+3ρ)); above: ρ.
//!
//! **T3 (η, α = 0).** Below: 0; at γ_c: (1 − 1/d)/(4q); above: (1 − 1/d)/q.
//!
//! **Approach.** Every quantity is a smooth function of p = A_ii, of r·n → 1 − p and of 1/n, and
//! p → 0, 1/2, 1 with |p − p_∞| ≈ n^{κ}, 1/(4n), n^{−κ} respectively. Without residual the
//! subcritical cos_out and η depend on p only through p² (THEORY §5), so the approach is n^{2κ}
//! there; η also carries O(1/n) terms from the off-diagonal blocks and O(β²/d) from the attention
//! covariance.

use crate::Regime;
use critscale_real::Real;

/// The critical scale γ_c = 1/(1 − ρ) (THEORY §4, T1) for pairwise cosine ρ < 1: at β = γ log n
/// the layer collapses the simplex for γ < γ_c and leaves it (κ = γ/γ_c − 1 > 0) above. Generic
/// over the scalar: in `f64` it is exactly `1.0 / (1.0 - rho)`; for an interval it encloses γ_c.
/// ρ = 1 gives an infinite (or, for intervals, unbounded) result, not an error.
pub fn gamma_c<T: Real>(rho: &T) -> T {
    (T::one(&rho.ctx()) - rho).recip()
}

/// T1: lim cos_out in `regime`, for pairwise cosine ρ and a = α√q.
pub fn cos_out_limit<T: Real>(regime: Regime, rho: &T, a: &T) -> T {
    let ctx = rho.ctx();
    let one = T::one(&ctx);
    let a_plus_1_sq = (a.clone() + &one).square();
    match regime {
        Regime::Subcritical => {
            let two = T::from_f64(&ctx, 2.0);
            rho.clone() * &a_plus_1_sq / &(a.square() + &(two * a * rho) + rho)
        }
        Regime::Critical => {
            let three = T::from_f64(&ctx, 3.0);
            let four = T::from_f64(&ctx, 4.0);
            let denominator = a.square()
                + &(a.clone() * &(one.clone() + rho))
                + &((one + &(three * rho)) / &four);
            rho.clone() * &a_plus_1_sq / &denominator
        }
        Regime::Supercritical => rho.clone(),
    }
}

/// T1 at γ_c without residual: lim λ = 1/(1 + 3ρ).
pub fn critical_lambda_limit<T: Real>(rho: &T) -> T {
    let ctx = rho.ctx();
    (T::one(&ctx) + &(T::from_f64(&ctx, 3.0) * rho)).recip()
}

/// T3: lim η in `regime` for α = 0, squared norm q and dimension d (d may grow with n; the limit is
/// then taken at the current d).
pub fn eta_limit<T: Real>(regime: Regime, q: &T, d: &T) -> T {
    let ctx = q.ctx();
    let one = T::one(&ctx);
    let factor = (one.clone() - &d.recip()) / q;
    match regime {
        Regime::Subcritical => T::zero(&ctx),
        Regime::Critical => factor / &T::from_f64(&ctx, 4.0),
        Regime::Supercritical => factor,
    }
}
