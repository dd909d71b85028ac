//! Attention-scaling rules used in practice, read in the paper's terms (THEORY §7, §11).
//!
//! Every rule is a **logit multiplier** m(n): at context length n (the keys seen by the last
//! query, at 0-based position n − 1) the model's plain logits q·k/√d_h are multiplied by m(n).
//! With β₀ the plain logits' typical |q||k| cosine scale (a property of the model, in no config),
//! the paper's scale is β_n = β₀·m(n) and the effective γ(n) = β_n/ln n, compared with the
//! critical value γ_c(ρ) = 1/(1 − ρ) of a simplex whose tokens have pairwise cosine ρ. One
//! convention for every rule; a factor applied to q (or k) alone multiplies the logits once, one
//! applied to cos and sin of the rotary embedding (so to q and k) multiplies them by its square.
//!
//! | rule | m(n) | source |
//! |---|---|---|
//! | [`Rule::Yarn`] (static, as deployed) | A², A = c·ln f + 1 (c = 0.1), or `attention_factor`, or g(f, mscale)/g(f, mscale_all_dim) | HF `rope_type: yarn` |
//! | [`Rule::YarnDynamic`] | (c·ln(n/L) + 1)² for n > L, 1 below | YaRN reference code |
//! | [`Rule::DeepseekMla`] | A² · (c·mscale_all_dim·ln f + 1)² (the second factor in the softmax scale) | DeepSeek V2/V3 |
//! | [`Rule::Llama4Temperature`] | 1 + a·ln(1 + ⌊n/F⌋) on q (NoPE layers) | Llama 4 `attn_temperature_tuning` |
//! | [`Rule::Llama4ScalingBeta`] | (1 + β·ln(1 + ⌊(n − 1)/L⌋)) · A² of the block's YaRN | Mistral `llama_4_scaling_beta` |
//! | [`Rule::LongRope`] | 1 + ln s/ln L (√ of it on cos and sin), or `attention_factor`² | Phi-3 `longrope` |
//! | [`Rule::QwenLogN`] | ln n/ln L for n > L, 1 below, on q | Qwen (v1) `use_logn_attn` |
//! | [`Rule::SsMax`] | s·ln n + b | Scalable-Softmax |
//! | [`Rule::FrequencyOnly`] | 1 (NTK, dynamic NTK, linear, `llama3`: frequencies only) | HF rope types |
//! | [`Rule::Constant`] | a given constant | by hand |
//! | [`Rule::SwanStyle`] | 1 + k·ln(n/L) for n > L | our stand-in for SWAN-GPT |
//!
//! Here g(f, μ) = c·μ·ln f + 1 for f > 1 and 1 otherwise (HF's `get_mscale`). SSMax's s
//! multiplies the logits like every other rule, so it scales with β₀: β_n = β₀(s ln n + b) and
//! γ(n) = β₀s + β₀b/ln n → β₀s (the SSMax paper's "γ = s" is the case β₀ = 1, s measured in units
//! of the plain logits' scale). SWAN-GPT's exact formula was not available; the SWAN-style rule
//! β_n = β₀ + τ·ln(n/L) is our stand-in, here with k = τ/β₀.
//!
//! **Regimes.** Two vocabularies, as everywhere in critscale: "critical" alone means γ = γ_c.
//! The *theorems' regime* ([`critscale_simplex::Regime`]: subcritical, critical, supercritical)
//! fixes γ and lets n → ∞; a rule's γ(n) moves with n, so [`crossings`] gives the lengths where
//! γ(n) = γ_c exactly (where the rule is critical). The *regime at a finite n*
//! ([`FiniteRegime`]: collapse, near-critical, identity) reads κ·log n = β_n(1 − ρ) − log n
//! ([`regime_at`], THEORY.md §5): the self weight of the simplex is p = σ(κ log n + log(n/(n−1))),
//! so |κ log n| ≤ 1 (p within σ(±1) ≈ 0.27…0.73 of its critical ½) is the **near-critical** window
//! at that n, below it the tokens collapse, above it the layer is close to the identity. A constant
//! γ = (1 − ε)γ_c is subcritical, yet near-critical for every n ≤ e^{1/ε}.

#![warn(missing_docs)]

mod crossing;
pub mod hf;

pub use crossing::{Crossing, CrossingDirection, MAX_CROSSINGS, TooManyCrossings, crossings};

use critscale_asymptotics::threshold;
pub use critscale_simplex::FiniteRegime;
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use serde::{Deserialize, Serialize};

/// YaRN's attention coefficient c in A = c·ln f + 1 (HF `get_mscale`, the YaRN paper's 0.1).
pub const YARN_COEFFICIENT: f64 = 0.1;

/// HF's `get_mscale(scale, mscale)` with coefficient `c`: c·mscale·ln(scale) + 1 for scale > 1,
/// else 1 (dimensionless).
pub fn get_mscale(scale: f64, mscale: f64, c: f64) -> f64 {
    if scale <= 1.0 {
        1.0
    } else {
        c * mscale * scale.ln() + 1.0
    }
}

/// The attention factor A of a YaRN rope block: applied to cos and sin, so the logits are
/// multiplied by A². Fields as in a config's `rope_scaling` / `rope_parameters`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct YarnAttention {
    /// `factor` f: the context extension ratio.
    pub factor: f64,
    /// The coefficient c of c·ln f + 1 (0.1 in every engine, [`YARN_COEFFICIENT`]).
    pub coefficient: f64,
    /// `attention_factor`: A itself, when the config sets it (overrides the rest).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention_factor: Option<f64>,
    /// `mscale`: with `mscale_all_dim`, A = g(f, mscale)/g(f, mscale_all_dim).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mscale: Option<f64>,
    /// `mscale_all_dim`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mscale_all_dim: Option<f64>,
}

impl YarnAttention {
    /// A block with factor f and the default coefficient, nothing else set.
    pub fn of_factor(factor: f64) -> Self {
        YarnAttention {
            factor,
            coefficient: YARN_COEFFICIENT,
            attention_factor: None,
            mscale: None,
            mscale_all_dim: None,
        }
    }

    /// A as HF computes it (`_compute_yarn_parameters`): `attention_factor` if set; else
    /// g(f, mscale)/g(f, mscale_all_dim) when both are set and non-zero; else g(f, 1).
    pub fn attention_factor(&self) -> f64 {
        if let Some(a) = self.attention_factor {
            return a;
        }
        let c = self.coefficient;
        match (self.mscale, self.mscale_all_dim) {
            (Some(ms), Some(md)) if ms != 0.0 && md != 0.0 => {
                get_mscale(self.factor, ms, c) / get_mscale(self.factor, md, c)
            }
            _ => get_mscale(self.factor, 1.0, c),
        }
    }

    /// How A was obtained, for the "which factor multiplies β" text.
    fn origin(&self) -> String {
        let (f, c) = (self.factor, self.coefficient);
        if let Some(a) = self.attention_factor {
            return format!("attention_factor = {a}");
        }
        match (self.mscale, self.mscale_all_dim) {
            (Some(ms), Some(md)) if ms != 0.0 && md != 0.0 => format!(
                "g(f, mscale)/g(f, mscale_all_dim) = ({c}·{ms}·ln {f} + 1)/({c}·{md}·ln {f} + 1)"
            ),
            _ if f <= 1.0 => format!("1 (factor {f} <= 1)"),
            _ => format!("{c}·ln {f} + 1"),
        }
    }
}

/// The rope types whose scaling changes only the rotary frequencies (m = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrequencyRope {
    /// No rope scaling at all (`default`, or no `rope_scaling`).
    Default,
    /// Position interpolation (`linear`).
    Linear,
    /// NTK-aware scaling (`ntk`).
    Ntk,
    /// Dynamic NTK (`dynamic`; Qwen v1's `use_dynamic_ntk`).
    Dynamic,
    /// Llama 3.1's `llama3`.
    Llama3,
}

impl FrequencyRope {
    /// The config's name of the type.
    pub fn word(self) -> &'static str {
        match self {
            FrequencyRope::Default => "default",
            FrequencyRope::Linear => "linear",
            FrequencyRope::Ntk => "ntk",
            FrequencyRope::Dynamic => "dynamic",
            FrequencyRope::Llama3 => "llama3",
        }
    }
}

/// A scaling rule: a multiplier m(n) of the plain logits (see the module docs for the formulas).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "rule")]
pub enum Rule {
    /// m = `factor` at every n.
    Constant {
        /// The multiplier.
        factor: f64,
    },
    /// A rope type that changes only frequencies: m = 1.
    FrequencyOnly {
        /// Which one.
        rope_type: FrequencyRope,
    },
    /// YaRN as deployed: m = A² at every n, including n below the training length.
    Yarn(YarnAttention),
    /// YaRN's dynamic reference code: m = (c·ln(n/L) + 1)² for n > L, 1 for n ≤ L.
    YarnDynamic {
        /// Training length L.
        train_len: f64,
        /// The coefficient c (0.1).
        coefficient: f64,
    },
    /// DeepSeek V2/V3 (MLA): the rope's A² times the softmax scale's g(f, mscale_all_dim)².
    DeepseekMla(YarnAttention),
    /// Llama 4's NoPE layers: q × (1 + a·ln(1 + ⌊n/F⌋)), a step function of n.
    Llama4Temperature {
        /// `floor_scale` F.
        floor_scale: f64,
        /// `attn_scale` a.
        attn_scale: f64,
    },
    /// Mistral / Ministral 3 `llama_4_scaling_beta`: q × (1 + β·ln(1 + ⌊(n − 1)/L⌋)), times A²
    /// of the same block's YaRN (when it has one).
    Llama4ScalingBeta {
        /// `llama_4_scaling_beta` β.
        beta: f64,
        /// `original_max_position_embeddings` L.
        train_len: f64,
        /// The block's YaRN, if any.
        #[serde(skip_serializing_if = "Option::is_none")]
        yarn: Option<YarnAttention>,
    },
    /// LongRoPE / Phi-3: A = √(1 + ln s/ln L) on cos and sin (s = max_position/L), or the
    /// config's `attention_factor`; m = A² at every n.
    LongRope {
        /// The extension ratio s.
        factor: f64,
        /// `original_max_position_embeddings` L.
        train_len: f64,
        /// `attention_factor`, when set.
        #[serde(skip_serializing_if = "Option::is_none")]
        attention_factor: Option<f64>,
    },
    /// Qwen (v1) `use_logn_attn`: q × ln n/ln L for n > L (`seq_length` L).
    QwenLogN {
        /// Training length L.
        train_len: f64,
    },
    /// Scalable-Softmax: logits × (s·ln n + b).
    SsMax {
        /// The learned s.
        s: f64,
        /// The bias b.
        b: f64,
    },
    /// Our SWAN-style stand-in: m = 1 + k·ln(n/L) for n > L (β_n = β₀ + β₀k·ln(n/L)).
    SwanStyle {
        /// Training length L.
        train_len: f64,
        /// Slope k per unit of ln n (τ/β₀).
        slope: f64,
    },
}

/// Llama 4's step ⌊x⌋ with the offset of the rule: the piece index j(n) of a step rule.
fn floor_index(n: f64, offset: f64, period: f64) -> f64 {
    ((n - offset) / period).floor().max(0.0)
}

impl Rule {
    /// A short name.
    pub fn name(&self) -> String {
        match self {
            Rule::Constant { .. } => "constant".to_owned(),
            Rule::FrequencyOnly { rope_type } => format!("rope {} (m = 1)", rope_type.word()),
            Rule::Yarn(_) => "yarn".to_owned(),
            Rule::YarnDynamic { .. } => "yarn-dynamic".to_owned(),
            Rule::DeepseekMla(_) => "deepseek-mla".to_owned(),
            Rule::Llama4Temperature { .. } => "llama4-temperature".to_owned(),
            Rule::Llama4ScalingBeta { .. } => "llama4-scaling-beta".to_owned(),
            Rule::LongRope { .. } => "longrope".to_owned(),
            Rule::QwenLogN { .. } => "qwen-logn".to_owned(),
            Rule::SsMax { .. } => "ssmax".to_owned(),
            Rule::SwanStyle { .. } => "swan-style".to_owned(),
        }
    }

    /// Which factor multiplies β, in words with the numbers of this rule (one line).
    pub fn factor_text(&self) -> String {
        match *self {
            Rule::Constant { factor } => format!("logits x {factor} at every n"),
            Rule::FrequencyOnly { rope_type } => format!(
                "no logit scaling: rope type {} changes only the rotary frequencies, m = 1",
                rope_type.word()
            ),
            Rule::Yarn(y) => {
                let a = y.attention_factor();
                format!(
                    "logits x A^2 = {:.6} at every n (static), A = {} = {a:.6} on cos and sin",
                    a * a,
                    y.origin()
                )
            }
            Rule::YarnDynamic {
                train_len,
                coefficient,
            } => format!(
                "logits x ({coefficient}·ln(n/{train_len}) + 1)^2 for n > {train_len} (q and k each), 1 below"
            ),
            Rule::DeepseekMla(y) => {
                let a = y.attention_factor();
                let md = y.mscale_all_dim.unwrap_or(0.0);
                let s = get_mscale(y.factor, md, y.coefficient);
                format!(
                    "logits x A^2 · mscale^2 = {a:.6}^2 · {s:.6}^2 = {:.6} at every n: A = {} on cos and sin, softmax scale x mscale^2, mscale = {}·{md}·ln {} + 1",
                    a * a * s * s,
                    y.origin(),
                    y.coefficient,
                    y.factor
                )
            }
            Rule::Llama4Temperature {
                floor_scale,
                attn_scale,
            } => format!(
                "logits x (1 + {attn_scale}·ln(1 + floor(n/{floor_scale}))) on q only (a step function of n)"
            ),
            Rule::Llama4ScalingBeta {
                beta,
                train_len,
                yarn,
            } => {
                let block = match yarn {
                    Some(y) => {
                        let a = y.attention_factor();
                        format!(
                            ", times the block's YaRN A^2 = {:.6} (A = {})",
                            a * a,
                            y.origin()
                        )
                    }
                    None => String::new(),
                };
                format!(
                    "logits x (1 + {beta}·ln(1 + floor((n - 1)/{train_len}))) on q only (a step function of n){block}"
                )
            }
            Rule::LongRope {
                factor,
                train_len,
                attention_factor,
            } => match attention_factor {
                Some(a) => format!(
                    "logits x A^2 = {:.6} at every n, A = attention_factor = {a} on cos and sin",
                    a * a
                ),
                None => format!(
                    "logits x (1 + ln {factor}/ln {train_len}) = {:.6} at every n (its square root on cos and sin)",
                    self.multiplier(2.0)
                ),
            },
            Rule::QwenLogN { train_len } => {
                format!("logits x ln n/ln {train_len} for n > {train_len} (on q only), 1 below")
            }
            Rule::SsMax { s, b } => format!("logits x ({s}·ln n + {b})"),
            Rule::SwanStyle { train_len, slope } => format!(
                "logits x (1 + {slope}·ln(n/{train_len})) for n > {train_len}, 1 below (our SWAN-style stand-in)"
            ),
        }
    }

    /// The multiplier m(n) of the plain logits at context length n ≥ 2 (dimensionless).
    pub fn multiplier(&self, n: f64) -> f64 {
        match *self {
            Rule::Constant { factor } => factor,
            Rule::FrequencyOnly { .. } => 1.0,
            Rule::Yarn(y) => y.attention_factor().powi(2),
            Rule::YarnDynamic {
                train_len,
                coefficient,
            } => {
                if n > train_len {
                    (coefficient * (n / train_len).ln() + 1.0).powi(2)
                } else {
                    1.0
                }
            }
            Rule::DeepseekMla(y) => {
                let md = y.mscale_all_dim.unwrap_or(0.0);
                let s = get_mscale(y.factor, md, y.coefficient);
                (y.attention_factor() * s).powi(2)
            }
            Rule::Llama4Temperature {
                floor_scale,
                attn_scale,
            } => 1.0 + attn_scale * floor_index(n, 0.0, floor_scale).ln_1p(),
            Rule::Llama4ScalingBeta {
                beta,
                train_len,
                yarn,
            } => {
                let block = yarn.map_or(1.0, |y| y.attention_factor().powi(2));
                (1.0 + beta * floor_index(n, 1.0, train_len).ln_1p()) * block
            }
            Rule::LongRope {
                factor,
                train_len,
                attention_factor,
            } => match attention_factor {
                Some(a) => a * a,
                None if factor <= 1.0 => 1.0,
                None => 1.0 + factor.ln() / train_len.ln(),
            },
            Rule::QwenLogN { train_len } => {
                if n > train_len {
                    n.ln() / train_len.ln()
                } else {
                    1.0
                }
            }
            Rule::SsMax { s, b } => s * n.ln() + b,
            Rule::SwanStyle { train_len, slope } => {
                if n > train_len {
                    1.0 + slope * (n / train_len).ln()
                } else {
                    1.0
                }
            }
        }
    }

    /// β_n = β₀·m(n).
    pub fn beta(&self, beta0: f64, n: f64) -> f64 {
        beta0 * self.multiplier(n)
    }

    /// The effective γ(n) = β₀·m(n)/ln n.
    pub fn gamma(&self, beta0: f64, n: f64) -> f64 {
        self.beta(beta0, n) / n.ln()
    }

    /// Whether m(n) is a constant (the same at every n).
    pub fn is_constant(&self) -> bool {
        matches!(
            self,
            Rule::Constant { .. }
                | Rule::FrequencyOnly { .. }
                | Rule::Yarn(_)
                | Rule::DeepseekMla(_)
                | Rule::LongRope { .. }
        )
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
    use super::{Rule, YARN_COEFFICIENT, YarnAttention};

    /// β₀, the plain logits' scale.
    pub const BETA0: f64 = 10.0;
    /// Training length L.
    pub const TRAIN_LEN: f64 = 4096.0;
    /// SSMax's s (0.43 in its paper's figure).
    pub const SSMAX_S: f64 = 0.43;
    /// The SWAN-style slope τ of β₀ + τ·ln(n/L).
    pub const SWAN_TAU: f64 = 2.0;
    /// The static YaRN factor of the default table (Qwen3's long-context setting).
    pub const YARN_FACTOR: f64 = 4.0;
    /// Llama 4's `floor_scale`.
    pub const LLAMA4_FLOOR_SCALE: f64 = 8192.0;
    /// Llama 4's `attn_scale`.
    pub const LLAMA4_ATTN_SCALE: f64 = 0.1;

    /// The rules compared by default (Qwen log-n, SSMax, static YaRN, dynamic YaRN, Llama 4's
    /// temperature tuning, SWAN-style) at L, s, τ/β₀; [`rules`] at the defaults above.
    pub fn rules_with(beta0: f64, train_len: f64, s: f64, tau: f64) -> Vec<Rule> {
        vec![
            Rule::QwenLogN { train_len },
            Rule::SsMax { s, b: 0.0 },
            Rule::Yarn(YarnAttention::of_factor(YARN_FACTOR)),
            Rule::YarnDynamic {
                train_len,
                coefficient: YARN_COEFFICIENT,
            },
            Rule::Llama4Temperature {
                floor_scale: LLAMA4_FLOOR_SCALE,
                attn_scale: LLAMA4_ATTN_SCALE,
            },
            Rule::SwanStyle {
                train_len,
                slope: tau / beta0,
            },
        ]
    }

    /// The rules at the default parameters.
    pub fn rules() -> Vec<Rule> {
        rules_with(BETA0, TRAIN_LEN, SSMAX_S, SWAN_TAU)
    }
}

/// A rule at one (β₀, ρ, n).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    /// Context length.
    pub n: f64,
    /// The logit multiplier m(n).
    pub multiplier: f64,
    /// β_n = β₀·m(n).
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

/// Reads `rule` at scale β₀ > 0, pairwise cosine ρ ∈ (0, 1) and context length n ≥ 2.
///
/// # Errors
///
/// [`BadParameter`] when ρ is not in (0, 1), n is not a finite number ≥ 2, the rule gives no
/// positive finite β_n at n, or the point is outside the simplex domain ([`SimplexParams::new`]).
pub fn read(rule: &Rule, beta0: f64, rho: f64, n: f64) -> Result<Reading, BadParameter> {
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
    let multiplier = rule.multiplier(n);
    let beta = beta0 * multiplier;
    if !(beta > 0.0 && beta.is_finite()) {
        return Err(BadParameter {
            name: "beta_n",
            value: beta,
            requirement: "beta0 x m(n) must be a positive finite f64 (check beta0 and the rule)",
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
        multiplier,
        beta,
        gamma,
        gamma_c,
        kappa_log_n,
        regime,
        self_weight: layer.self_weight,
        lambda: layer.lambda,
    })
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

/// Where the [`FiniteRegime`] of `rule` at (β₀, ρ) changes for n ∈ [max(2, n_min), n_max], in
/// increasing n: the crossings of κ·log n (see [`regime_at`]) with the levels −1 and +1, found on
/// a scan of 4000 equal steps in log n, then bisected to 1e-12 relative in log n (both through
/// `critscale_asymptotics::threshold`; at a jump of a step rule the bisection ends at the jump).
/// Unlike [`crossings`] this is a grid search: two changes closer than one step can be missed.
/// Empty when the range is empty.
pub fn regime_changes(
    rule: &Rule,
    beta0: f64,
    rho: f64,
    n_min: f64,
    n_max: f64,
) -> Vec<RegimeChange> {
    let excess = |log_n: f64| regime_at(rule.beta(beta0, log_n.exp()), rho, log_n).1;
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
    fn ssmax_scales_with_beta0() {
        let rule = Rule::SsMax { s: 0.43, b: 0.0 };
        for n in [10.0, 1e4, 1e9] {
            assert_abs_diff_eq!(rule.gamma(1.0, n), 0.43, epsilon = 1e-15);
            assert_abs_diff_eq!(rule.gamma(10.0, n), 4.3, epsilon = 1e-14);
        }
        // With beta0 = 1, gamma = s = 0.43 is below gamma_c(rho) for every rho: collapse.
        let r = read(&rule, 1.0, 0.3, 1e6).unwrap();
        assert_eq!(r.regime, FiniteRegime::Collapse);
        assert_abs_diff_eq!(r.multiplier, 0.43 * 1e6f64.ln(), epsilon = 1e-12);
        assert!(crossings(&rule, 1.0, 0.3, 2.0, 1e300).unwrap().is_empty());
        // The bias: gamma = beta0 (s + b/ln n).
        let biased = Rule::SsMax { s: 0.43, b: 2.0 };
        assert_abs_diff_eq!(
            biased.gamma(10.0, 1e4),
            10.0 * (0.43 + 2.0 / 1e4f64.ln()),
            epsilon = 1e-13
        );
    }

    #[test]
    fn qwen_freezes_gamma_past_the_training_length() {
        let rule = Rule::QwenLogN { train_len: 4096.0 };
        let g = 20.0 / 4096f64.ln();
        for n in [1e4, 1e6, 1e12] {
            assert_abs_diff_eq!(rule.gamma(20.0, n), g, epsilon = 1e-12);
        }
        assert_abs_diff_eq!(rule.gamma(20.0, 100.0), 20.0 / 100f64.ln(), epsilon = 1e-12);
        // gamma = 2.405 > gamma_c(0.3) = 1.43 past L: identity there.
        assert_eq!(
            read(&rule, 20.0, 0.3, 1e8).unwrap().regime,
            FiniteRegime::Identity
        );
    }

    #[test]
    fn static_yarn_is_constant_and_collapses_where_dynamic_does_not() {
        // The case: Qwen3 (factor 4) at n = 1e8, beta0 = 10, rho = 0.3.
        let yarn = Rule::Yarn(YarnAttention::of_factor(4.0));
        let a = 0.1 * 4f64.ln() + 1.0;
        assert_abs_diff_eq!(yarn.multiplier(10.0), a * a, epsilon = 1e-15);
        assert_abs_diff_eq!(yarn.multiplier(1e8), a * a, epsilon = 1e-15);
        assert_eq!(
            read(&yarn, 10.0, 0.3, 1e8).unwrap().regime,
            FiniteRegime::Collapse
        );
        let dynamic = Rule::YarnDynamic {
            train_len: 4096.0,
            coefficient: 0.1,
        };
        assert_eq!(
            read(&dynamic, 10.0, 0.3, 1e8).unwrap().regime,
            FiniteRegime::Identity
        );
    }

    #[test]
    fn deepseek_multipliers_match_theory() {
        // THEORY §11: V3 (f = 40, mscale = mscale_all_dim = 1) 1.873854; V2 (0.707) 1.589626.
        for (ms, expected) in [(1.0, 1.873854), (0.707, 1.589626)] {
            let rule = Rule::DeepseekMla(YarnAttention {
                factor: 40.0,
                coefficient: 0.1,
                attention_factor: None,
                mscale: Some(ms),
                mscale_all_dim: Some(ms),
            });
            assert_abs_diff_eq!(rule.multiplier(1e5), expected, epsilon = 5e-7);
        }
    }

    #[test]
    fn yarn_attention_factor_follows_hf() {
        let mut y = YarnAttention::of_factor(32.0);
        assert_abs_diff_eq!(
            y.attention_factor(),
            0.1 * 32f64.ln() + 1.0,
            epsilon = 1e-15
        );
        y.mscale = Some(1.0);
        y.mscale_all_dim = Some(0.5);
        let expected = (0.1 * 32f64.ln() + 1.0) / (0.05 * 32f64.ln() + 1.0);
        assert_abs_diff_eq!(y.attention_factor(), expected, epsilon = 1e-15);
        y.attention_factor = Some(1.25);
        assert_eq!(y.attention_factor(), 1.25);
        assert_eq!(YarnAttention::of_factor(0.5).attention_factor(), 1.0);
    }

    #[test]
    fn step_rules_step_where_the_engines_do() {
        let llama4 = Rule::Llama4Temperature {
            floor_scale: 8192.0,
            attn_scale: 0.1,
        };
        assert_eq!(llama4.multiplier(8191.0), 1.0);
        assert_abs_diff_eq!(
            llama4.multiplier(8192.0),
            1.0 + 0.1 * 2f64.ln(),
            epsilon = 1e-15
        );
        let mistral = Rule::Llama4ScalingBeta {
            beta: 0.1,
            train_len: 16384.0,
            yarn: None,
        };
        // Position n - 1 = 16384 is the first of the second block.
        assert_eq!(mistral.multiplier(16384.0), 1.0);
        assert_abs_diff_eq!(
            mistral.multiplier(16385.0),
            1.0 + 0.1 * 2f64.ln(),
            epsilon = 1e-15
        );
    }

    #[test]
    fn longrope_is_phi3s_factor() {
        let rule = Rule::LongRope {
            factor: 32.0,
            train_len: 4096.0,
            attention_factor: None,
        };
        assert_abs_diff_eq!(
            rule.multiplier(1e5),
            1.0 + 32f64.ln() / 4096f64.ln(),
            epsilon = 1e-15
        );
    }

    #[test]
    fn bad_parameters_are_named() {
        let rule = Rule::SsMax { s: 0.43, b: 0.0 };
        assert_eq!(read(&rule, 10.0, 1.0, 1e3).unwrap_err().name, "rho");
        assert_eq!(read(&rule, 10.0, 0.3, 1.0).unwrap_err().name, "n");
        assert_eq!(read(&rule, -1.0, 0.3, 1e3).unwrap_err().name, "beta_n");
        assert_eq!(read(&rule, 1e308, 0.3, 1e3).unwrap_err().name, "beta_n");
    }

    proptest! {
        #[test]
        fn regime_changes_are_where_the_excess_exponent_is_one(beta0 in 1.0f64..40.0, tau in 0.1f64..5.0, rho in 0.05f64..0.95) {
            let rule = Rule::SwanStyle { train_len: 2048.0, slope: tau / beta0 };
            let changes = regime_changes(&rule, beta0, rho, 2.0, 1e200);
            for (k, c) in changes.iter().enumerate() {
                let (_, excess) = regime_at(rule.beta(beta0, c.n), rho, c.n.ln());
                prop_assert!(abs_diff_eq!(excess.abs(), 1.0, epsilon = 1e-8), "{c:?}: {excess}");
                prop_assert!(c.from != c.to);
                if k > 0 {
                    prop_assert!(changes[k - 1].n < c.n);
                    prop_assert_eq!(changes[k - 1].to, c.from);
                }
            }
            // The regime at the ends agrees with the first and last change.
            let at = |n: f64| regime_at(rule.beta(beta0, n), rho, n.ln()).0;
            if let (Some(first), Some(last)) = (changes.first(), changes.last()) {
                prop_assert_eq!(at(2.0), first.from);
                prop_assert_eq!(at(1e200), last.to);
            }
        }

        #[test]
        fn regime_agrees_with_the_self_weight(s in 0.1f64..10.0, rho in 0.05f64..0.95, log10_n in 1.0f64..12.0) {
            let r = read(&Rule::SsMax { s, b: 0.0 }, 1.0, rho, 10f64.powf(log10_n)).unwrap();
            match r.regime {
                FiniteRegime::Collapse => prop_assert!(r.self_weight < 0.5),
                FiniteRegime::Identity => prop_assert!(r.self_weight > 0.5),
                FiniteRegime::NearCritical => prop_assert!(r.self_weight > 0.2 && r.self_weight < 0.8),
            }
        }
    }
}
