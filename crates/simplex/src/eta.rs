//! The exact finite-n gradient size η on a simplex, for any d ≥ n and any residual α ≥ 0.
//!
//! η = ‖∂X'/∂X‖²_F / (n d), with the Jacobian blocks of THEORY §5b,
//! J_ik = D_ik P_k + α δ_ik I, P_k = (I − y_k y_kᵀ)/√q.
//!
//! # Derivation
//!
//! Only inner products enter, so any realisation of the Gram matrix will do; take
//! y_j = √ρ e₀ + √(1−ρ) e_j with e₀, …, e_n orthonormal (the traces of I still count d). Write
//! a = (A_i1, …, A_in) for row i (a_i = p, the others r). Then m_i − y_j = √(1−ρ)(ā − e_j) with
//! ā = Σ_j a_j e_j, and the attention covariance is the softmax Jacobian in disguise:
//! C_i = (1−ρ) E (diag(a) − a aᵀ) Eᵀ, E = [e_1 … e_n].
//!
//! **Diagonal block.** y_iᵀ P_i = 0 kills the rank-one part of D_ii, so
//! √q·D_ii P_i = p P + β C P with P = I − y_i y_iᵀ, and
//! ‖p P + β C P‖² = p²(d − 1) + 2pβ·tr(CP) + β²‖CP‖², where
//! * tr(CP) = tr C − y_iᵀ C y_i = (1−ρ)[ρ p(1−p) + (1−p)(1−r)],
//! * ‖CP‖² = tr C² − |C y_i|² = (1−ρ)²[(1−p) r·h + ρ p²((1−p)² + (1−p) r)],
//!   h = (1−r)² + p² + r(1−p−r) = |e_k − ā|² (k ≠ i).
//!
//! The residual adds 2α·tr(D_ii P_i) + α² d = 2α[p(d−1) + β tr(CP)]/√q + α² d.
//!
//! **Off-diagonal blocks** (k ≠ i, n(n−1) of them). √q·D_ik P_k = r(P_k + u wᵀ) with
//! u = β(y_k − m_i), w = P_k y_i, |w|² = 1 − ρ², ⟨P_k u, y_i⟩ = −β(1−ρ)(ρ(1−r) + p) and
//! |u|² = β²(1−ρ)h, so
//! ‖P_k + u wᵀ‖² = (d − 1) − 2β(1−ρ)(ρ(1−r) + p) + β²(1−ρ)(1−ρ²) h.
//!
//! **Sum.** With (n−1)r = 1 − p (so no factor n appears and nothing overflows),
//! η = [(1−p) r·E_off + E_diag]/(d q) + 2α[p(d−1) + β tr(CP)]/(d√q) + α².
//!
//! Every term is non-negative except the linear term of E_off, and E_off ≥ d − 2 (a rank-one
//! change of a rank-(d−1) projector), so the evaluation does not cancel for d ≥ 3. Leading order:
//! η ≈ (1 − 1/d)p²/q (THEORY §5); the other terms are O(1/n) and O(β²/d).

use crate::{SimplexLayer, SimplexParams};
use critscale_real::Real;

/// η at dimension `d` (≥ n, checked by [`SimplexParams::new`]), from the layer's p, 1 − p and r.
pub fn eta<T: Real>(params: &SimplexParams<T>, layer: &SimplexLayer<T>, d: &T) -> T {
    let ctx = d.ctx();
    let one = T::one(&ctx);
    let two = T::from_f64(&ctx, 2.0);
    let rho = &params.rho;
    let q = &params.q;
    let beta = &layer.beta;
    let p = &layer.self_weight;
    let one_minus_p = &layer.one_minus_self_weight;
    let r = &layer.other_weight;
    let one_minus_rho = one.clone() - rho;
    let one_minus_r = one.clone() - r;
    let inv_d = d.recip();
    let d_minus_1_over_d = one.clone() - &inv_d;

    // h = |e_k − ā|² for k ≠ i.
    let h = one_minus_r.square() + &p.square() + &(r.clone() * &(one_minus_p.clone() - r));
    let tr_cp = one_minus_rho.clone()
        * &(rho.clone() * p * one_minus_p + &(one_minus_p.clone() * &one_minus_r));
    let cp_sq = one_minus_rho.square()
        * &(one_minus_p.clone() * r * &h
            + &(rho.clone() * &p.square() * &(one_minus_p.square() + &(one_minus_p.clone() * r))));

    // Each block norm divided by d, so that d may be as large as n.
    let off_linear = two.clone() * beta * &one_minus_rho * &(rho.clone() * &one_minus_r + p);
    let off_quadratic = beta.square() * &one_minus_rho * &(one.clone() - &rho.square()) * &h;
    let off_over_d = d_minus_1_over_d.clone() + &((off_quadratic - &off_linear) * &inv_d);
    let diag_over_d = p.square() * &d_minus_1_over_d
        + &((two.clone() * p * beta * &tr_cp + &(beta.square() * &cp_sq)) * &inv_d);
    let attention_part = (one_minus_p.clone() * r * &off_over_d + &diag_over_d) / q;

    if params.alpha == T::zero(&ctx) {
        return attention_part;
    }
    let alpha = &params.alpha;
    let trace_over_d = p.clone() * &d_minus_1_over_d + &(beta.clone() * &tr_cp * &inv_d);
    attention_part + &(two * alpha * &trace_over_d / &q.sqrt()) + &alpha.square()
}
