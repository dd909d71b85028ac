//! The predictions set beside the measured crossings (THEORY §5, §8, §10).
//!
//! With ρ̂ the mean cosine over non-copy pairs, f_i the share of row i's copy class, m the number
//! of classes and β = γ ln n:
//!
//! * `gamma_c_hat` = 1/(1 − ρ̂): the paper's critical constant at ρ̂ (THEORY §1);
//! * `simplex_crossing`: the γ where the exact n-token simplex at ρ̂ has λ = ½ (THEORY §5,
//!   `critscale_sweeps::simplex::half_crossing`), the finite-n prediction for copy-free tokens;
//! * `m_type_simplex_crossing`: the same for the m-type simplex (THEORY §10: with equal
//!   multiplicities the layer is the m-token simplex at the same β), so γ = γ*_m(ρ̂)·ln m/ln n;
//!   `m_type_gamma_c` = ln m/((1 − ρ̂) ln n) is its limit form a/(1 − ρ̂), a the Heaps exponent;
//! * the repeated-token law (THEORY §10): a row of share f puts on its copies the mass
//!   s(β) = 1/(1 + ((1 − f)/f)e^{−β(1−ρ)}), ½ at β = ln((1 − f)/f)/(1 − ρ) whatever n is.
//!   `self_law_crossing` is the γ where mean_i s_i(β) = ½ (the prediction of γ*_self);
//!   `self_law_mean_gamma` = mean_i ln((1 − f_i)/f_i)/((1 − ρ̂) ln n), the mean per-row crossing;
//!   `self_law_mean_logodds` = mean_i ln((1 − f_i)/f_i)/ln n, the number THEORY §10 quotes (no
//!   1/(1 − ρ̂)); `equal_multiplicity_self` = ln(m − 1)/((1 − ρ̂) ln n), the law at f = 1/m;
//! * `gap_scale_*`: quartiles of Λ_i/ln n (gap counting, [`crate::gaps`]).
//!
//! A prediction that has no value (a closed form that refuses ρ̂, a mean share ≥ ½) is `None`
//! with a line in `notes` saying why; nothing is invented.

use crate::gaps::{RowRecord, quartiles};
use crate::prepare::Prepared;
use critscale_asymptotics::threshold;

/// Every prediction of the module docs.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Predictions {
    /// 1/(1 − ρ̂).
    pub gamma_c_hat: f64,
    /// λ = ½ crossing of the exact n-simplex at ρ̂, in γ.
    pub simplex_crossing: Option<f64>,
    /// λ = ½ crossing of the exact m-type simplex at ρ̂, in γ = β/ln n.
    pub m_type_simplex_crossing: Option<f64>,
    /// ln m/((1 − ρ̂) ln n).
    pub m_type_gamma_c: f64,
    /// γ where mean_i 1/(1 + ((1 − f_i)/f_i)e^{−β(1−ρ̂)}) = ½.
    pub self_law_crossing: Option<f64>,
    /// mean_i ln((1 − f_i)/f_i)/((1 − ρ̂) ln n).
    pub self_law_mean_gamma: f64,
    /// mean_i ln((1 − f_i)/f_i)/ln n.
    pub self_law_mean_logodds: f64,
    /// ln(m − 1)/((1 − ρ̂) ln n): the law with all shares 1/m.
    pub equal_multiplicity_self: f64,
    /// First quartile of Λ_i/ln n over rows.
    pub gap_scale_q1: f64,
    /// Median of Λ_i/ln n over rows.
    pub gap_scale_median: f64,
    /// Third quartile of Λ_i/ln n over rows.
    pub gap_scale_q3: f64,
    /// Why a prediction is missing.
    pub notes: Vec<String>,
}

/// The repeated-token law's mean self mass at β for rows of shares f_i (THEORY §10).
pub fn predicted_self_mass(p: &Prepared, rho: f64, beta: f64) -> f64 {
    let n = p.n as f64;
    let decay = (-beta * (1.0 - rho)).exp();
    p.class_rows
        .iter()
        .map(|&c| {
            let f = c as f64 / n;
            (c as f64) / (1.0 + (1.0 - f) / f * decay)
        })
        .sum::<f64>()
        / n
}

/// The predictions for prepared tokens with mean non-copy cosine `rho` and per-row records.
pub fn predictions(p: &Prepared, rho: f64, rows: &[RowRecord]) -> Predictions {
    let n = p.n as f64;
    let ln_n = n.ln();
    let m = p.classes() as f64;
    let mut notes = Vec::new();
    let simplex_crossing = critscale_sweeps::simplex::half_crossing(n, rho)
        .map_err(|e| notes.push(format!("simplex_crossing: {e}")))
        .ok();
    let m_type_simplex_crossing = critscale_sweeps::simplex::half_crossing(m, rho)
        .map(|g| g * m.ln() / ln_n)
        .map_err(|e| notes.push(format!("m_type_simplex_crossing: {e}")))
        .ok();
    let logodds: f64 = p
        .class_rows
        .iter()
        .map(|&c| {
            let f = c as f64 / n;
            c as f64 * ((1.0 - f) / f).ln()
        })
        .sum::<f64>()
        / n;
    let mean_share: f64 = p
        .class_rows
        .iter()
        .map(|&c| (c as f64) * (c as f64))
        .sum::<f64>()
        / (n * n);
    let self_law_crossing = if mean_share >= 0.5 {
        notes.push(format!(
            "self_law_crossing: the mean share is {mean_share:.4} >= 1/2, so the predicted self \
             mass is above 1/2 at every gamma > 0"
        ));
        None
    } else {
        // At γ = 0 the mean is the mean share (< ½); at `hi` every row's exponent exceeds its
        // log-odds by 40, so every s_i > 1 − e^{−40}.
        let hi = (ln_n + 40.0) / ((1.0 - rho) * ln_n);
        threshold::bisect(
            |g| predicted_self_mass(p, rho, g * ln_n),
            0.5,
            0.0,
            hi,
            1e-12,
        )
        .map(|c| c.root)
        .map_err(|e| notes.push(format!("self_law_crossing: {e}")))
        .ok()
    };
    let gaps: Vec<f64> = rows.iter().map(|r| r.gap_scale).collect();
    let (q1, median, q3) = quartiles(&gaps);
    Predictions {
        gamma_c_hat: 1.0 / (1.0 - rho),
        simplex_crossing,
        m_type_simplex_crossing,
        m_type_gamma_c: m.ln() / ((1.0 - rho) * ln_n),
        self_law_crossing,
        self_law_mean_gamma: logodds / ((1.0 - rho) * ln_n),
        self_law_mean_logodds: logodds / ln_n,
        equal_multiplicity_self: (m - 1.0).ln() / ((1.0 - rho) * ln_n),
        gap_scale_q1: q1,
        gap_scale_median: median,
        gap_scale_q3: q3,
        notes,
    }
}
