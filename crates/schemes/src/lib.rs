//! Attention-scaling rules used in practice, read in the paper's terms (THEORY §7).
//!
//! A rule fixes the score scale β_n as a function of the context length n; its effective
//! γ(n) = β_n / log n is compared with the critical value γ_c(ρ) = 1/(1 − ρ) of a simplex whose
//! tokens have pairwise cosine ρ. With L the training length and β₀ the scale at training time:
//!
//! | rule | β_n | γ(n) for n > L |
//! |---|---|---|
//! | Qwen log-n | β₀·log n / log L (n > L), β₀ otherwise | β₀ / log L (constant) |
//! | SSMax | s·log n | s |
//! | YaRN, `Squared` | β₀·m², m = 0.1·log(n/L) + 1 (q and k each scaled by m) | β₀m²/log n → grows like 0.01β₀ log n |
//! | YaRN, `Single` | β₀·m (engines that apply the factor to the logits once) | β₀m/log n → 0.1β₀ |
//! | SWAN-style | β₀ + τ·log(n/L) (n > L) | → τ |
//!
//! SWAN-GPT's exact formula was not available to us; the SWAN-style rule is our stand-in for a
//! dynamic logarithmic scaling of the logits: the score grows additively in log(n/L) with slope τ.
//!
//! At a length n the regime is the [`FiniteRegime`] of κ·log n = β_n(1 − ρ) − log n
//! ([`regime_at`], THEORY.md §5): the self weight of the simplex is p = σ(κ log n + log(n/(n−1))),
//! so |κ log n| ≤ 1 (p within σ(±1) ≈ 0.27…0.73 of its critical ½) is the **near-critical** band
//! at that n, below it the tokens collapse, above it the layer is close to the identity. This is
//! not the theorems' regime (`critscale_simplex::Regime`, γ against γ_c as n → ∞): a constant
//! γ = (1 − ε)γ_c is subcritical, yet near-critical for every n ≤ e^{1/ε}.

#![warn(missing_docs)]

use critscale_asymptotics::threshold;
pub use critscale_simplex::FiniteRegime;
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use serde::{Deserialize, Serialize};

/// How YaRN's factor m enters the logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum YarnConvention {
    /// q and k are each scaled by m, so the logits by m² (the YaRN paper's reading).
    Squared,
    /// The logits are scaled by m once (what some engines do).
    Single,
}

/// A scaling rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Rule {
    /// Qwen's log-n attention: queries past L multiplied by log n / log L.
    QwenLogN {
        /// β at training time.
        beta0: f64,
        /// Training length L.
        train_len: f64,
    },
    /// Scalable-Softmax: logits multiplied by s·log n.
    SsMax {
        /// The learned s.
        s: f64,
    },
    /// YaRN's attention temperature m = 0.1·log(n/L) + 1 past L.
    Yarn {
        /// β at training time.
        beta0: f64,
        /// Training length L.
        train_len: f64,
        /// Which power of m multiplies β.
        convention: YarnConvention,
    },
    /// Our SWAN-style stand-in: β₀ + τ·log(n/L) past L.
    SwanStyle {
        /// β at training time.
        beta0: f64,
        /// Training length L.
        train_len: f64,
        /// Slope in log n.
        tau: f64,
    },
}

impl Rule {
    /// A short name.
    pub fn name(&self) -> String {
        match self {
            Rule::QwenLogN { .. } => "qwen-logn".to_owned(),
            Rule::SsMax { .. } => "ssmax".to_owned(),
            Rule::Yarn {
                convention: YarnConvention::Squared,
                ..
            } => "yarn (m^2)".to_owned(),
            Rule::Yarn {
                convention: YarnConvention::Single,
                ..
            } => "yarn (m)".to_owned(),
            Rule::SwanStyle { .. } => "swan-style".to_owned(),
        }
    }

    /// β_n at context length n ≥ 2.
    pub fn beta(&self, n: f64) -> f64 {
        match *self {
            Rule::QwenLogN { beta0, train_len } => {
                if n > train_len {
                    beta0 * n.ln() / train_len.ln()
                } else {
                    beta0
                }
            }
            Rule::SsMax { s } => s * n.ln(),
            Rule::Yarn {
                beta0,
                train_len,
                convention,
            } => {
                let m = if n > train_len {
                    0.1 * (n / train_len).ln() + 1.0
                } else {
                    1.0
                };
                match convention {
                    YarnConvention::Squared => beta0 * m * m,
                    YarnConvention::Single => beta0 * m,
                }
            }
            Rule::SwanStyle {
                beta0,
                train_len,
                tau,
            } => {
                if n > train_len {
                    beta0 + tau * (n / train_len).ln()
                } else {
                    beta0
                }
            }
        }
    }

    /// The effective γ(n) = β_n / log n.
    pub fn gamma(&self, n: f64) -> f64 {
        self.beta(n) / n.ln()
    }
}

/// The excess exponent κ·log n = β_n(1 − ρ) − log n of a scale β_n at a length with logarithm
/// `ln_n`, and the [`FiniteRegime`] it puts the simplex in (THEORY.md §5, §7). The one place the
/// κ·log n rule is applied to a scaling rule: [`read`] and the report's regime changes use it.
pub fn regime_at(beta: f64, rho: f64, ln_n: f64) -> (FiniteRegime, f64) {
    let kappa_log_n = beta * (1.0 - rho) - ln_n;
    (FiniteRegime::of_excess_exponent(kappa_log_n), kappa_log_n)
}

/// The scaling rules' default parameters: `critscale schemes`' defaults and the report's table.
pub mod defaults {
    use super::{Rule, YarnConvention};

    /// β at training time β₀.
    pub const BETA0: f64 = 10.0;
    /// Training length L.
    pub const TRAIN_LEN: f64 = 4096.0;
    /// SSMax's s (0.43 in its paper's figure).
    pub const SSMAX_S: f64 = 0.43;
    /// The SWAN-style slope τ.
    pub const SWAN_TAU: f64 = 2.0;

    /// The five rules compared (Qwen log-n, SSMax, YaRN in both conventions, SWAN-style) at β₀,
    /// L, s and τ; [`rules`] at the defaults above.
    pub fn rules_with(beta0: f64, train_len: f64, s: f64, tau: f64) -> Vec<Rule> {
        vec![
            Rule::QwenLogN { beta0, train_len },
            Rule::SsMax { s },
            Rule::Yarn {
                beta0,
                train_len,
                convention: YarnConvention::Squared,
            },
            Rule::Yarn {
                beta0,
                train_len,
                convention: YarnConvention::Single,
            },
            Rule::SwanStyle {
                beta0,
                train_len,
                tau,
            },
        ]
    }

    /// The five rules at the default parameters.
    pub fn rules() -> Vec<Rule> {
        rules_with(BETA0, TRAIN_LEN, SSMAX_S, SWAN_TAU)
    }
}

/// A rule at one (ρ, n).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Context length.
    pub n: f64,
    /// β_n.
    pub beta: f64,
    /// γ(n) = β_n / log n.
    pub gamma: f64,
    /// γ_c(ρ).
    pub gamma_c: f64,
    /// κ·log n.
    pub kappa_log_n: f64,
    /// The regime at this n.
    pub regime: FiniteRegime,
    /// Self weight A_ii of the simplex at (n, ρ, β_n).
    pub self_weight: f64,
    /// λ of the simplex at (n, ρ, β_n): 0 collapse, 1 identity.
    pub lambda: f64,
}

/// A parameter outside its domain.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{name} = {value} is invalid: {requirement}")]
pub struct BadParameter {
    /// The parameter.
    pub name: &'static str,
    /// Its value.
    pub value: f64,
    /// The valid range.
    pub requirement: &'static str,
}

/// Reads `rule` at pairwise cosine ρ ∈ (0, 1) and context length n ≥ 2.
///
/// # Errors
///
/// [`BadParameter`] when ρ is not in (0, 1), n is not a finite number ≥ 2, the rule gives no
/// positive finite β_n at n, or the point is outside the simplex domain ([`SimplexParams::new`]).
pub fn read(rule: &Rule, rho: f64, n: f64) -> Result<Reading, BadParameter> {
    if !(rho > 0.0 && rho < 1.0) {
        return Err(BadParameter {
            name: "rho",
            value: rho,
            requirement: "must lie in (0, 1)",
        });
    }
    if !(n >= 2.0 && n.is_finite()) {
        return Err(BadParameter {
            name: "n",
            value: n,
            requirement: "must be a finite number >= 2",
        });
    }
    let beta = rule.beta(n);
    if !(beta > 0.0 && beta.is_finite()) {
        return Err(BadParameter {
            name: "beta_n",
            value: beta,
            requirement: "the rule must give a positive finite scale (check beta0, s, tau, L)",
        });
    }
    let gamma = beta / n.ln();
    let gamma_c = critscale_simplex::gamma_c(&rho);
    let (regime, kappa_log_n) = regime_at(beta, rho, n.ln());
    let params = SimplexParams::new(n, rho, Scaling::Beta(beta), 0.0, 1.0, None).map_err(|e| {
        BadParameter {
            name: e.name,
            value: f64::NAN,
            requirement: "outside the simplex domain",
        }
    })?;
    let layer = SimplexLayer::evaluate(&params);
    Ok(Reading {
        n,
        beta,
        gamma,
        gamma_c,
        kappa_log_n,
        regime,
        self_weight: layer.self_weight,
        lambda: layer.lambda,
    })
}

/// Steps of the log n grid on which [`crossings`] scans the whole range before bisecting.
pub const CROSSING_STEPS: usize = 4000;

/// Context lengths in [n_min, n_max] where γ(n) crosses γ_c(ρ), found on a uniform grid of
/// [`CROSSING_STEPS`] steps in log n over [log max(n_min, 2), log n_max] (the whole range, not a
/// density per decade) and refined by bisection in log n (`critscale_asymptotics::threshold`) to
/// a bracket of 1e-12·max(|log n|, 1). Crossings closer together than one grid step can be
/// missed. Empty when it never crosses, or when γ(n) is not finite on the grid.
pub fn crossings(rule: &Rule, rho: f64, n_min: f64, n_max: f64) -> Vec<f64> {
    let gamma_c = critscale_simplex::gamma_c(&rho);
    let f = |log_n: f64| rule.gamma(log_n.exp()) - gamma_c;
    let (a, b) = (n_min.max(2.0).ln(), n_max.ln());
    let steps = CROSSING_STEPS;
    let grid: Vec<f64> = (0..=steps)
        .map(|k| a + (b - a) * k as f64 / steps as f64)
        .collect();
    let Ok(scan) = threshold::scan(f, &grid) else {
        return Vec::new();
    };
    scan.crossings(0.0)
        .into_iter()
        .filter_map(|cell| {
            if cell.lo == cell.hi {
                // An exact hit on the grid is the crossing (the far end only bounds the search).
                return (cell.lo < grid[steps]).then(|| cell.lo.exp());
            }
            let xtol = 1e-12 * cell.hi.abs().max(1.0);
            let found = threshold::bisect(f, 0.0, cell.lo, cell.hi, xtol).ok()?;
            Some(found.root.exp())
        })
        .collect()
}

/// A change of [`FiniteRegime`] along n: where κ·log n crosses −1 or +1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegimeChange {
    /// The length n at which the regime changes.
    pub n: f64,
    /// The regime just below n.
    pub from: FiniteRegime,
    /// The regime just above n.
    pub to: FiniteRegime,
}

/// Where the [`FiniteRegime`] of `rule` at `rho` changes for n ∈ [max(2, n_min), n_max], in
/// increasing n: the crossings of κ·log n (see [`regime_at`]) with the levels −1 and +1, located
/// like [`crossings`] (a scan of 4000 equal steps in log n, then bisection to 1e-12 relative in
/// log n, both through `critscale_asymptotics::threshold`). Empty when the range is empty.
pub fn regime_changes(rule: &Rule, rho: f64, n_min: f64, n_max: f64) -> Vec<RegimeChange> {
    let excess = |log_n: f64| regime_at(rule.beta(log_n.exp()), rho, log_n).1;
    let (a, b) = (n_min.max(2.0).ln(), n_max.ln());
    let steps = 4000;
    let grid: Vec<f64> = (0..=steps)
        .map(|k| a + (b - a) * k as f64 / steps as f64)
        .collect();
    let Ok(scan) = threshold::scan(excess, &grid) else {
        return Vec::new();
    };
    let mut out: Vec<RegimeChange> = [-1.0, 1.0]
        .into_iter()
        .flat_map(|level| {
            scan.crossings(level)
                .into_iter()
                .filter_map(move |cell| {
                    let x = if cell.lo == cell.hi {
                        cell.lo
                    } else {
                        let xtol = 1e-12 * cell.hi.abs().max(1.0);
                        threshold::bisect(excess, level, cell.lo, cell.hi, xtol)
                            .ok()?
                            .root
                    };
                    let from = FiniteRegime::of_excess_exponent(excess(cell.lo));
                    let to = FiniteRegime::of_excess_exponent(excess(cell.hi));
                    (from != to).then(|| RegimeChange {
                        n: x.exp(),
                        from,
                        to,
                    })
                })
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort_by(|p, q| p.n.total_cmp(&q.n));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;

    #[test]
    fn ssmax_is_a_constant_gamma() {
        let rule = Rule::SsMax { s: 0.43 };
        for n in [10.0, 1e4, 1e9] {
            assert_abs_diff_eq!(rule.gamma(n), 0.43, epsilon = 1e-15);
        }
        // s = 0.43 is below gamma_c(rho) for every rho > 0: collapse at long contexts.
        let r = read(&rule, 0.3, 1e6).unwrap();
        assert_eq!(r.regime, FiniteRegime::Collapse);
        assert!(crossings(&rule, 0.3, 2.0, 1e300).is_empty());
    }

    #[test]
    fn qwen_freezes_gamma_past_the_training_length() {
        let rule = Rule::QwenLogN {
            beta0: 20.0,
            train_len: 4096.0,
        };
        let g = 20.0 / 4096f64.ln();
        for n in [1e4, 1e6, 1e12] {
            assert_abs_diff_eq!(rule.gamma(n), g, epsilon = 1e-12);
        }
        assert_abs_diff_eq!(rule.gamma(100.0), 20.0 / 100f64.ln(), epsilon = 1e-12);
        // gamma = 2.405 > gamma_c(0.3) = 1.43 past L: identity there.
        assert_eq!(
            read(&rule, 0.3, 1e8).unwrap().regime,
            FiniteRegime::Identity
        );
    }

    #[test]
    fn yarn_squared_eventually_exceeds_any_gamma_c() {
        let rule = Rule::Yarn {
            beta0: 8.0,
            train_len: 4096.0,
            convention: YarnConvention::Squared,
        };
        // gamma(n) ~ 0.08 log n for large n: above gamma_c(0.9) = 10 by n = e^125.
        let cross = crossings(&rule, 0.9, 2.0, 1e300);
        assert!(!cross.is_empty());
        let last = *cross.last().unwrap();
        assert!(
            abs_diff_eq!(rule.gamma(last), 10.0, epsilon = 1e-8),
            "{last:e}"
        );
        let single = Rule::Yarn {
            beta0: 8.0,
            train_len: 4096.0,
            convention: YarnConvention::Single,
        };
        assert!(single.gamma(1e300) < rule.gamma(1e300));
    }

    #[test]
    fn bad_parameters_are_named() {
        let rule = Rule::SsMax { s: 0.43 };
        assert_eq!(read(&rule, 1.0, 1e3).unwrap_err().name, "rho");
        assert_eq!(read(&rule, 0.3, 1.0).unwrap_err().name, "n");
        assert_eq!(
            read(&Rule::SsMax { s: -1.0 }, 0.3, 1e3).unwrap_err().name,
            "beta_n"
        );
    }

    proptest! {
        #[test]
        fn crossings_are_roots(beta0 in 1.0f64..40.0, tau in 0.1f64..5.0, rho in 0.05f64..0.95) {
            let rule = Rule::SwanStyle { beta0, train_len: 2048.0, tau };
            for n in crossings(&rule, rho, 2.0, 1e200) {
                prop_assert!(abs_diff_eq!(rule.gamma(n) * (1.0 - rho), 1.0, epsilon = 1e-8));
            }
        }

        #[test]
        fn regime_changes_are_where_the_excess_exponent_is_one(beta0 in 1.0f64..40.0, tau in 0.1f64..5.0, rho in 0.05f64..0.95) {
            let rule = Rule::SwanStyle { beta0, train_len: 2048.0, tau };
            let changes = regime_changes(&rule, rho, 2.0, 1e200);
            for (k, c) in changes.iter().enumerate() {
                let (_, excess) = regime_at(rule.beta(c.n), rho, c.n.ln());
                prop_assert!(abs_diff_eq!(excess.abs(), 1.0, epsilon = 1e-8), "{c:?}: {excess}");
                prop_assert!(c.from != c.to);
                if k > 0 {
                    prop_assert!(changes[k - 1].n < c.n);
                    prop_assert_eq!(changes[k - 1].to, c.from);
                }
            }
            // The regime at the ends agrees with the first and last change.
            let at = |n: f64| regime_at(rule.beta(n), rho, n.ln()).0;
            if let (Some(first), Some(last)) = (changes.first(), changes.last()) {
                prop_assert_eq!(at(2.0), first.from);
                prop_assert_eq!(at(1e200), last.to);
            }
        }

        #[test]
        fn regime_agrees_with_the_self_weight(s in 0.1f64..10.0, rho in 0.05f64..0.95, log10_n in 1.0f64..12.0) {
            let r = read(&Rule::SsMax { s }, rho, 10f64.powf(log10_n)).unwrap();
            match r.regime {
                FiniteRegime::Collapse => prop_assert!(r.self_weight < 0.5),
                FiniteRegime::Identity => prop_assert!(r.self_weight > 0.5),
                FiniteRegime::NearCritical => prop_assert!(r.self_weight > 0.2 && r.self_weight < 0.8),
            }
        }
    }
}
