//! The effective support of one layer predicted from the cumulants of each row's cosines (THEORY
//! §9), and a two-cluster configuration whose support has no simplex limit (a control of T5).
//!
//! **Per-row cumulants.** For token i let c_ij = ⟨y_i, y_j⟩, j ≠ i, and let μ_i, v_i, k_i, κ_i be
//! the mean, variance, third and fourth cumulants of these n − 1 numbers (population moments of
//! the row's own empirical distribution, divided by n − 1: no bias correction, because the
//! identity below is exact for the empirical distribution). [`row_cumulants`] computes them for
//! every row, O(n²d), in row blocks (never an n × n matrix).
//!
//! **The support as a Laplace transform.** With K_i(t) = ln mean_{j≠i} e^{t c_ij} (the row's
//! cumulant generating function) and β = γ ln n, the row's partition sum and squared weights are,
//! exactly,
//!
//! Z_i = e^β + (n − 1) e^{K_i(β)},  Σ_{j≠i} e^{2βc_ij} = (n − 1) e^{K_i(2β)},
//!
//! so the self weight is p_i = 1/(1 + (n − 1) e^{L_i}) with L_i = K_i(β) − β, and
//! Σ_{j≠i} A_ij² = (1 − p_i)²/N_i with N_i = (n − 1) e^{2K_i(β) − K_i(2β)}. The effective support
//! of the row is 1/Σ_j A_ij² = 1/(p_i² + (1 − p_i)²/N_i). Truncating K_i(t) = μt + vt²/2 + kt³/6
//! + κt⁴/24 + … after the third cumulant gives THEORY §9's prediction:
//!
//! L_i ≈ β(μ_i − 1) + β²v_i/2 + β³k_i/6,  ln N_i ≈ ln(n − 1) − β²v_i − β³k_i,
//!
//! and the predicted support is mean_i 1/(p_i² + (1 − p_i)²/N_i) ([`predict`], [`Order::Third`]).
//! [`Order::Mean`] keeps only the mean (v = k = 0): the support of a simplex at each row's mean
//! cosine, which has no middle phase.
//!
//! **What the truncation leaves out.** The first neglected term moves L_i by δL = β⁴κ_i/24 and
//! ln(1/N_i) by δM = (2⁴ − 2)β⁴κ_i/24 = 7β⁴κ_i/12. To first order the row's ln support moves by
//! a_i δL + b_i δM, with
//!
//! a_i = ∂ ln S_i/∂L = 2p_i(1 − p_i)(p_i − (1 − p_i)/N_i)/D_i,  b_i = ∂ ln S_i/∂ ln(1/N_i) =
//! −((1 − p_i)²/N_i)/D_i,  D_i = p_i² + (1 − p_i)²/N_i,
//!
//! and the mean support by the support-weighted mean of these shifts; [`predict`] returns the
//! weighted mean of their absolute values as the allowance of the prediction (in ln).
//!
//! **Two clusters.** [`two_clusters`] stacks two independent Gaussian almost-simplices of n/2
//! tokens each (each with its own common vector z₀): cosines ≈ ρ inside a cluster, ≈ 0 between.
//! As d → ∞ it concentrates on a two-block configuration, not a simplex, so its support at
//! γ = 1/(1 − ρ̂) does not tend to the simplex value (ρ̂ its mean input cosine).

use crate::memo::Memo;
use crate::sample::{Configuration, Gamma, sample};
use crate::seed::SampleKey;
use crate::{Error, Result};
use critscale_kernels::{Options, Params, forward, observables};
use ndarray::{Array2, ArrayView2, s};
use rayon::prelude::*;

/// Rows per block of the Gram matrix in [`row_cumulants`] (a block is this many rows × n).
const BLOCK: usize = 256;

/// The first four cumulants of one row's cosines c_ij, j ≠ i (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowCumulants {
    /// μ_i, the mean cosine of row i.
    pub mean: f64,
    /// v_i, the variance.
    pub var: f64,
    /// k_i, the third cumulant (third central moment).
    pub k3: f64,
    /// κ_i, the fourth cumulant (fourth central moment − 3 v_i²).
    pub k4: f64,
}

/// The cumulants of every row's cosines ⟨y_i, y_j⟩, j ≠ i, y_i = x_i/|x_i|; `x` is n × d
/// (n ≥ 2). O(n²d) time, O(BLOCK·n) memory; each row is computed on its own, so the result does
/// not depend on the thread count.
///
/// # Errors
/// [`Error::BadInput`] when n < 2 or a token is zero or not finite.
pub fn row_cumulants(x: ArrayView2<'_, f64>) -> Result<Vec<RowCumulants>> {
    let n = x.nrows();
    let bad = |reason: &str| Error::BadInput {
        what: "row cumulants".to_owned(),
        reason: reason.to_owned(),
    };
    if n < 2 {
        return Err(bad("need at least 2 tokens"));
    }
    let mut y = x.to_owned();
    for mut row in y.rows_mut() {
        let norm = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm.is_finite() && norm > 0.0) {
            return Err(bad("every token must be finite and non-zero"));
        }
        row.mapv_inplace(|v| v / norm);
    }
    let starts: Vec<usize> = (0..n).step_by(BLOCK).collect();
    let blocks: Vec<Vec<RowCumulants>> = starts
        .par_iter()
        .map(|&start| {
            let end = (start + BLOCK).min(n);
            let gram = y.slice(s![start..end, ..]).dot(&y.t());
            (start..end)
                .map(|i| {
                    let row = gram.row(i - start);
                    let others = || row.iter().enumerate().filter(|&(j, _)| j != i);
                    let m = (n - 1) as f64;
                    let mean = others().map(|(_, c)| c).sum::<f64>() / m;
                    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
                    for (_, c) in others() {
                        let e = c - mean;
                        let e2 = e * e;
                        m2 += e2;
                        m3 += e2 * e;
                        m4 += e2 * e2;
                    }
                    let (m2, m3, m4) = (m2 / m, m3 / m, m4 / m);
                    RowCumulants {
                        mean,
                        var: m2,
                        k3: m3,
                        k4: m4 - 3.0 * m2 * m2,
                    }
                })
                .collect()
        })
        .collect();
    Ok(blocks.into_iter().flatten().collect())
}

/// How much of each row's cumulant series the prediction keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// The mean only (v = k = 0): a simplex at each row's mean cosine.
    Mean,
    /// Mean, variance and third cumulant (THEORY §9).
    Third,
}

/// The support predicted from the row cumulants (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupportPrediction {
    /// mean_i 1/(p_i² + (1 − p_i)²/N_i).
    pub support: f64,
    /// mean_i p_i, the predicted self weight.
    pub self_weight: f64,
    /// The first-order effect of the neglected fourth cumulant on ln support: the
    /// support-weighted mean over rows of |a_i β⁴κ_i/24 + b_i 7β⁴κ_i/12|.
    pub k4_shift: f64,
}

/// The support of a layer at β = `beta` on tokens with these row cumulants, truncated at
/// `order` (n = `rows.len()`, β > 0).
pub fn predict(rows: &[RowCumulants], beta: f64, order: Order) -> SupportPrediction {
    let n = rows.len() as f64;
    let ln_others = (n - 1.0).ln();
    let (mut support, mut self_weight, mut weighted_shift) = (0.0, 0.0, 0.0);
    for r in rows {
        let (v, k) = match order {
            Order::Mean => (0.0, 0.0),
            Order::Third => (r.var, r.k3),
        };
        let b2 = beta * beta;
        let l = beta * (r.mean - 1.0) + b2 * v / 2.0 + b2 * beta * k / 6.0;
        // p = 1/(1 + e^{ln(n−1) + L}) and 1 − p, without cancellation for either extreme.
        let t = ln_others + l;
        let (p, q) = if t > 0.0 {
            let e = (-t).exp();
            (e / (1.0 + e), 1.0 / (1.0 + e))
        } else {
            let e = t.exp();
            (1.0 / (1.0 + e), e / (1.0 + e))
        };
        let inv_n = (b2 * v + b2 * beta * k - ln_others).exp();
        let rest = q * q * inv_n;
        let dsq = p * p + rest;
        let s = 1.0 / dsq;
        let a = 2.0 * p * q * (p - q * inv_n) / dsq;
        let b = -rest / dsq;
        let k4 = b2 * b2 * r.k4 / 24.0;
        let shift = a * k4 + b * 14.0 * k4;
        support += s;
        self_weight += p;
        weighted_shift += s * shift.abs();
    }
    SupportPrediction {
        support: support / n,
        self_weight: self_weight / n,
        k4_shift: weighted_shift / support,
    }
}

/// One sample's support, measured by the fast kernels and predicted from its row cumulants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SupportCheck {
    /// The sample's key.
    pub key: SampleKey,
    /// γ of the layer.
    pub gamma: f64,
    /// β = γ ln n.
    pub beta: f64,
    /// The measured mean support mean_i 1/Σ_j A_ij² (`crate::sample::Sample::support`).
    pub measured: f64,
    /// The prediction from the mean, variance and third cumulant of each row.
    pub third: SupportPrediction,
    /// The prediction from each row's mean alone (a simplex per row).
    pub mean_only: SupportPrediction,
    /// mean_i v_i, the rows' mean cosine variance.
    pub mean_var: f64,
    /// mean_i κ_i, the rows' mean fourth cumulant.
    pub mean_k4: f64,
}

/// The cache of [`support_check`], by (key, γ rule).
static CHECKS: Memo<(SampleKey, Gamma), SupportCheck> = Memo::new();

/// The support of the Gaussian almost-simplex of `key` at the γ of `rule`, measured (through the
/// memoised [`sample`]) and predicted from its row cumulants at both orders; memoised by
/// (key, rule).
///
/// # Errors
/// As [`Configuration::draw`] and [`sample`].
pub fn support_check(key: &SampleKey, rule: Gamma) -> Result<SupportCheck> {
    if let Some(c) = CHECKS.get(&(*key, rule)) {
        return Ok(c);
    }
    let config = Configuration::draw(key)?;
    let gamma = config.gamma(rule);
    let beta = gamma * (key.n as f64).ln();
    let rows = row_cumulants(config.tokens())?;
    let measured = sample(key, rule, false)?.support;
    let nf = rows.len() as f64;
    let c = SupportCheck {
        key: *key,
        gamma,
        beta,
        measured,
        third: predict(&rows, beta, Order::Third),
        mean_only: predict(&rows, beta, Order::Mean),
        mean_var: rows.iter().map(|r| r.var).sum::<f64>() / nf,
        mean_k4: rows.iter().map(|r| r.k4).sum::<f64>() / nf,
    };
    CHECKS.insert((*key, rule), c);
    Ok(c)
}

/// Two independent Gaussian almost-simplices of n/2 tokens (n even), stacked: the keys
/// (`tag`, n/2, d, ρ, 2·`seed`) and (`tag`, n/2, d, ρ, 2·`seed` + 1) of the seed policy, so each
/// half has its own common vector. n × d.
///
/// # Errors
/// [`Error::BadInput`] for an odd n or a bad key ([`SampleKey::draw`]).
pub fn two_clusters(
    tag: &'static str,
    n: usize,
    d: usize,
    rho: f64,
    seed: u64,
) -> Result<Array2<f64>> {
    if !n.is_multiple_of(2) {
        return Err(Error::BadInput {
            what: format!("two clusters of n = {n}"),
            reason: "n must be even".to_owned(),
        });
    }
    let a = SampleKey::new(tag, n / 2, d, rho, 2 * seed).draw()?;
    let b = SampleKey::new(tag, n / 2, d, rho, 2 * seed + 1).draw()?;
    ndarray::concatenate(ndarray::Axis(0), &[a.view(), b.view()]).map_err(|e| Error::BadInput {
        what: format!("two clusters of n = {n}"),
        reason: e.to_string(),
    })
}

/// What one layer on a [`two_clusters`] configuration gives.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClusterSupport {
    /// ρ̂, the mean input cosine over all pairs.
    pub rho_hat: f64,
    /// γ = `factor`/(1 − ρ̂).
    pub gamma: f64,
    /// The mean support mean_i 1/Σ_j A_ij² (fast kernels).
    pub support: f64,
}

/// The support of one layer on the [`two_clusters`] configuration of (`tag`, n, d, ρ, `seed`)
/// at γ = `factor`/(1 − ρ̂), ρ̂ its mean input cosine (the rule [`Gamma::Critical`] of a
/// Gaussian sample).
///
/// # Errors
/// As [`two_clusters`]; [`Error::Kernel`] if the kernels fail.
pub fn two_cluster_support(
    tag: &'static str,
    n: usize,
    d: usize,
    rho: f64,
    seed: u64,
    factor: f64,
) -> Result<ClusterSupport> {
    let x = two_clusters(tag, n, d, rho, seed)?;
    let nf = n as f64;
    let mut ybar = vec![0.0f64; d];
    for row in x.rows() {
        let r = row.iter().map(|v| v * v).sum::<f64>().sqrt();
        for (a, v) in row.iter().enumerate() {
            ybar[a] += v / r / nf;
        }
    }
    // ρ̂ = mean_{i≠j} ⟨y_i, y_j⟩ = (n|ȳ|² − 1)/(n − 1), as for a Gaussian sample.
    let rho_hat = (nf * ybar.iter().map(|v| v * v).sum::<f64>() - 1.0) / (nf - 1.0);
    let gamma = factor * critscale_simplex::gamma_c(&rho_hat);
    let at = |e: critscale_kernels::KernelError| Error::Kernel {
        what: format!("two clusters {tag}/n{n}/d{d}/rho{rho}/seed{seed} at gamma = {gamma}"),
        message: e.to_string(),
    };
    // The support depends on the tokens only through their inner products: for d > n the pass
    // runs on n coordinates of their span (as `Configuration` does).
    let span = if d > n {
        crate::sample::span_coordinates(x.view())
    } else {
        None
    };
    let fwd = forward(
        span.as_ref().map_or(x.view(), |c| c.view()),
        &Params::from_gamma(gamma, n, 0.0),
        &Options::default(),
    )
    .map_err(at)?;
    let support = observables(&fwd).map_err(at)?.support;
    Ok(ClusterSupport {
        rho_hat,
        gamma,
        support,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The row cumulants against a direct two-pass computation on a small configuration.
    #[test]
    fn row_cumulants_match_a_direct_computation() {
        let x = SampleKey::new("test", 300, 8, 0.3, 4).draw().unwrap();
        let rows = row_cumulants(x.view()).unwrap();
        let y: Vec<Vec<f64>> = x
            .rows()
            .into_iter()
            .map(|r| {
                let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
                r.iter().map(|v| v / norm).collect()
            })
            .collect();
        for i in [0, 17, 255, 256, 299] {
            let c: Vec<f64> = (0..300)
                .filter(|&j| j != i)
                .map(|j| y[i].iter().zip(&y[j]).map(|(a, b)| a * b).sum())
                .collect();
            let m = c.len() as f64;
            let mean = c.iter().sum::<f64>() / m;
            let moment = |k: i32| c.iter().map(|v| (v - mean).powi(k)).sum::<f64>() / m;
            let r = rows[i];
            assert_relative_eq!(r.mean, mean, max_relative = 1e-12);
            assert_relative_eq!(r.var, moment(2), max_relative = 1e-10);
            assert_relative_eq!(r.k3, moment(3), max_relative = 1e-8);
            assert_relative_eq!(
                r.k4,
                moment(4) - 3.0 * moment(2).powi(2),
                max_relative = 1e-8
            );
        }
        assert!(row_cumulants(x.slice(s![..1, ..])).is_err());
    }

    /// On an exact simplex (every cosine ρ) both orders give the closed form
    /// 1/(p² + (n − 1)r²) and no fourth-cumulant allowance.
    #[test]
    fn a_simplex_gives_the_closed_form() {
        let (n, rho, beta) = (50usize, 0.3, 9.0);
        let rows = vec![
            RowCumulants {
                mean: rho,
                var: 0.0,
                k3: 0.0,
                k4: 0.0,
            };
            n
        ];
        let nf = n as f64;
        let p = 1.0 / (1.0 + (nf - 1.0) * (beta * (rho - 1.0)).exp());
        let r = (1.0 - p) / (nf - 1.0);
        let exact = 1.0 / (p * p + (nf - 1.0) * r * r);
        for order in [Order::Mean, Order::Third] {
            let pred = predict(&rows, beta, order);
            assert_relative_eq!(pred.support, exact, max_relative = 1e-13);
            assert_relative_eq!(pred.self_weight, p, max_relative = 1e-13);
            assert_eq!(pred.k4_shift, 0.0);
        }
    }

    /// The identity behind the prediction: with the row's full cumulant generating function
    /// K_i(t) = ln mean_{j≠i} e^{t c_ij} in place of its truncation, p_i and N_i give the exact
    /// support, which the fast kernels measure.
    #[test]
    fn the_untruncated_formula_is_the_measured_support() {
        let key = SampleKey::new("test", 200, 16, 0.3, 3);
        let x = key.draw().unwrap();
        let config = Configuration::draw(&key).unwrap();
        let gamma = config.gamma(Gamma::Critical(1.0));
        let beta = gamma * 200f64.ln();
        let y: Vec<Vec<f64>> = x
            .rows()
            .into_iter()
            .map(|r| {
                let norm = r.iter().map(|v| v * v).sum::<f64>().sqrt();
                r.iter().map(|v| v / norm).collect()
            })
            .collect();
        let m = 199.0f64;
        let mut support = 0.0;
        for i in 0..200 {
            let c: Vec<f64> = (0..200)
                .filter(|&j| j != i)
                .map(|j| y[i].iter().zip(&y[j]).map(|(a, b)| a * b).sum())
                .collect();
            let k = |t: f64| (c.iter().map(|v| (t * v).exp()).sum::<f64>() / m).ln();
            let p = 1.0 / (1.0 + m * (k(beta) - beta).exp());
            let n_eff = m * (2.0 * k(beta) - k(2.0 * beta)).exp();
            support += 1.0 / (p * p + (1.0 - p).powi(2) / n_eff) / 200.0;
        }
        let measured = sample(&key, Gamma::Critical(1.0), false).unwrap().support;
        assert_relative_eq!(support, measured, max_relative = 1e-10);
    }

    /// The third-order truncation is close where the cosines are near Gaussian (d = 64), and
    /// within its fourth-cumulant allowance; the mean-only one is far off.
    #[test]
    fn the_truncation_is_close_where_the_cosines_are_near_gaussian() {
        let key = SampleKey::new("test", 512, 64, 0.3, 0);
        let c = support_check(&key, Gamma::Critical(1.0)).unwrap();
        assert!(c.beta > 0.0 && c.mean_var > 0.0);
        let third = (c.measured / c.third.support).ln();
        let mean_only = (c.measured / c.mean_only.support).ln();
        assert!(
            third.abs() <= c.third.k4_shift && c.third.k4_shift < 0.02,
            "{c:?}"
        );
        assert!(mean_only > 10.0 * c.mean_only.k4_shift, "{c:?}");
        // Memoised: the same value again.
        assert_eq!(support_check(&key, Gamma::Critical(1.0)).unwrap(), c);
    }

    #[test]
    fn two_clusters_stack_two_samples() {
        let x = two_clusters("test", 64, 16, 0.6, 1).unwrap();
        assert_eq!(x.dim(), (64, 16));
        let a = SampleKey::new("test", 32, 16, 0.6, 2).draw().unwrap();
        assert_eq!(x.slice(s![..32, ..]), a);
        assert!(two_clusters("test", 63, 16, 0.6, 1).is_err());
        let s = two_cluster_support("test", 64, 16, 0.6, 1, 1.0).unwrap();
        assert!(s.rho_hat > 0.1 && s.rho_hat < 0.5, "{s:?}");
        assert!(s.support > 1.0 && s.support < 64.0, "{s:?}");
    }
}
