//! T4 (paper Thm 2.5): the gradient size η on an almost-simplex, α = 0, checked with the exact
//! η of the fast kernels on the Gaussian almost-simplices of T2 (ρ = 0.3, d = 512, the same
//! sample keys; ρ₁, ρ₂, q₁ measured on each sample, and the hypothesis γ < 1/(1 − ρ₁) or γ > 1/(1 − ρ₂) checked on each).
//!
//! * Below 1/(1 − ρ₁): η ≤ 4γ²(ln n)²/(q₁ d) + o(1). The o(1) is the off-diagonal part, of the
//!   order of mean_i Σ_k A_ik² → 0; the bound itself is checked without it, as the one-sided claim
//!   `T4.bound.sub` (its violation max(0, η − bound), predicted 0).
//! * Above 1/(1 − ρ₂): the Jacobian reduces to the blocks (1/|x_i|)(I − y_i y_iᵀ), so
//!   η → (1 − 1/d)·mean_i 1/|x_i|² (`T4.limit.super`, the ratio predicted 1). As in the simplex
//!   (THEORY §5, deficit ≈ 2n^{−κ}), the finite-n deficit is about twice the weight off the
//!   diagonal, 2·mean_i(1 − A_ii): that is the tolerance.

use crate::t2::{
    D_LARGE, GAMMA_SUB, GAMMA_SUPER, TAG, hypothesis, one_sided, samples, sub_sizes, super_sizes,
};
use crate::{Budget, CONFIDENCE_LEVEL, Claim, Measurement, Perturbation};
use critscale_asymptotics::stats::t_critical;
use critscale_sweeps::{Gamma, Memo};

/// η ≤ 4γ²(ln n)²/(q₁ d) on every sample below 1/(1 − ρ₁).
fn bound_sub(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    let mut m = CACHE.get_or_insert_with(budget, || {
        let (ns, seeds) = sub_sizes(budget);
        let s = samples(TAG, &ns, D_LARGE, seeds, Gamma::Fixed(GAMMA_SUB), true)?;
        hypothesis(&s, true)?;
        let mut slack = f64::INFINITY;
        let mut v = Vec::new();
        for x in &s {
            let ln = (x.key.n as f64).ln();
            let bound = 4.0 * x.gamma * x.gamma * ln * ln / (x.q1 * x.key.d as f64);
            let eta = x.eta.ok_or("no eta")?;
            slack = slack.min(bound / eta);
            v.push((eta - bound).max(0.0));
        }
        Ok(one_sided(
            &v,
            0.0,
            format!(
                "violation of eta <= 4 gamma^2 (ln n)^2/(q1 d), exact eta (kernels), Gaussian almost-simplex d = {D_LARGE}, gamma = {GAMMA_SUB}, n = {ns:?}, {seeds} seeds; bound/eta >= {slack:.1}"
            ),
        ))
    })?;
    m.prediction += p.limit;
    Ok(m)
}

/// η/((1 − 1/d) mean_i 1/|x_i|²) → 1 above 1/(1 − ρ₂): mean over seeds at the largest n, with
/// its Student-t interval; tolerance 2·mean_i(1 − A_ii) (the predicted deficit) + rounding.
fn limit_super(budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
    static CACHE: Memo<Budget, Result<Measurement, String>> = Memo::new();
    let mut m = CACHE.get_or_insert_with(budget, || {
        let (ns, seeds) = super_sizes(budget);
        let n = *ns.last().ok_or("no sizes")?;
        let s = samples(TAG, &[n], D_LARGE, seeds, Gamma::Fixed(GAMMA_SUPER), true)?;
        hypothesis(&s, false)?;
        let mut r = Vec::new();
        let mut off: f64 = 0.0;
        for x in &s {
            let eta = x.eta.ok_or("no eta")?;
            r.push(eta / ((1.0 - 1.0 / x.key.d as f64) * x.mean_inv_q));
            off = off.max(x.mean_off);
        }
        let k = r.len() as f64;
        let mean = r.iter().sum::<f64>() / k;
        let sd = (r.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (k - 1.0)).sqrt();
        let t = t_critical(CONFIDENCE_LEVEL, r.len() - 1).map_err(|e| e.to_string())?;
        let half = t * sd / k.sqrt();
        Ok(Measurement {
            prediction: 1.0,
            measured: mean,
            ci: [mean - half, mean + half],
            tolerance: 2.0 * off + 1e-9,
            method: format!(
                "eta/((1-1/d) mean_i 1/|x_i|^2), exact eta (kernels), d = {D_LARGE}, gamma = {GAMMA_SUPER}, n = {n}, {seeds} seeds; ratios {r:?}; max mean_i(1 - A_ii) = {off:.2e}"
            ),
        })
    })?;
    m.prediction += p.limit;
    Ok(m)
}

/// The T4 claims.
pub fn claims() -> Vec<Claim> {
    vec![
        claim!(
            "T4.bound.sub",
            "below 1/(1-rho1) eta <= 4 gamma^2 (log n)^2/(q1 d) (violation = 0)",
            Limit,
            bound_sub
        ),
        claim!(
            "T4.limit.super",
            "above 1/(1-rho2) eta -> (1 - 1/d) mean_i 1/|x_i|^2",
            Limit,
            limit_super
        ),
    ]
}
