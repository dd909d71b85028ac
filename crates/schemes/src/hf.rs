//! Rules read from a Hugging Face `config.json`, or typed by hand as `NAME:key=value,…`
//! (THEORY §11 lists each rule with its config keys).
//!
//! A config is read at its top level, or in `text_config` when it has one (multimodal models such
//! as Llama 4). The rope block is `rope_parameters` (newer transformers; possibly one block per
//! layer type, e.g. `full_attention` and `sliding_attention`) or else `rope_scaling`, with its type
//! in `rope_type` or `type`. Besides the rope block: Qwen (v1)'s `use_logn_attn` with `seq_length`,
//! Llama 4's `attn_temperature_tuning` with `floor_scale` and `attn_scale` (NoPE layers only;
//! transformers' defaults 8192 and 0.1 when absent), DeepSeek V2/V3's MLA softmax scale (model type
//! `deepseek_v2`/`deepseek_v3`, or a `kv_lora_rank`), and Mistral's `llama_4_scaling_beta` in the
//! rope block. One [`Scheme`] per group of layers that share a rule.

use crate::{FrequencyRope, Rule, YARN_COEFFICIENT, YarnAttention};
use serde::Deserialize;
use std::collections::BTreeMap;

/// A rule with where it came from and which layers it describes.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheme {
    /// Which layers the rule describes ("all layers", "NoPE layers", …), or the rule's name for
    /// the built-in and hand-typed rules.
    pub name: String,
    /// The config file it was read from, or the `--rule` text.
    pub source: Option<String>,
    /// The rule.
    pub rule: Rule,
}

/// The rope block of a config (`rope_scaling` or `rope_parameters`); other keys are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
struct RopeBlock {
    rope_type: Option<String>,
    #[serde(rename = "type")]
    type_: Option<String>,
    factor: Option<f64>,
    attention_factor: Option<f64>,
    mscale: Option<f64>,
    mscale_all_dim: Option<f64>,
    original_max_position_embeddings: Option<f64>,
    llama_4_scaling_beta: Option<f64>,
}

/// The keys of a config that decide its logit multiplier; others are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
struct Config {
    text_config: Option<Box<Config>>,
    model_type: Option<String>,
    rope_scaling: Option<serde_json::Value>,
    rope_parameters: Option<serde_json::Value>,
    max_position_embeddings: Option<f64>,
    original_max_position_embeddings: Option<f64>,
    use_logn_attn: Option<bool>,
    seq_length: Option<f64>,
    attn_temperature_tuning: Option<serde_json::Value>,
    floor_scale: Option<f64>,
    attn_scale: Option<f64>,
    kv_lora_rank: Option<f64>,
}

fn block(value: &serde_json::Value) -> Result<RopeBlock, String> {
    RopeBlock::deserialize(value).map_err(|e| format!("cannot read the rope block: {e}"))
}

/// The rope blocks with the layers they describe.
fn rope_blocks(config: &Config) -> Result<Vec<(String, Option<RopeBlock>)>, String> {
    let all = "all layers".to_owned();
    let value = match (&config.rope_parameters, &config.rope_scaling) {
        (Some(v), _) if !v.is_null() => v,
        (_, Some(v)) if !v.is_null() => v,
        _ => return Ok(vec![(all, None)]),
    };
    let object = value
        .as_object()
        .ok_or("the rope block is not a JSON object")?;
    let typed = object.contains_key("rope_type") || object.contains_key("type");
    let nested = !typed && !object.is_empty() && object.values().all(|v| v.is_object());
    if nested {
        return object
            .iter()
            .map(|(layers, v)| Ok((format!("{layers} layers"), Some(block(v)?))))
            .collect();
    }
    Ok(vec![(all, Some(block(value)?))])
}

/// A key a rope type needs: present, finite and positive (factors and lengths are).
fn required(value: Option<f64>, what: &str) -> Result<f64, String> {
    let x = value.ok_or_else(|| format!("rope type {what} is missing"))?;
    if x.is_finite() && x > 0.0 {
        Ok(x)
    } else {
        Err(format!("rope type {what} = {x}: must be a positive number"))
    }
}

/// The rule of one rope block (and the model-wide keys it needs).
fn rope_rule(config: &Config, rope: Option<&RopeBlock>) -> Result<Rule, String> {
    let Some(rope) = rope else {
        return Ok(Rule::FrequencyOnly {
            rope_type: FrequencyRope::Default,
        });
    };
    let kind = rope
        .rope_type
        .as_deref()
        .or(rope.type_.as_deref())
        .unwrap_or("default");
    let train_len = rope
        .original_max_position_embeddings
        .or(config.original_max_position_embeddings);
    let yarn = || -> Result<YarnAttention, String> {
        Ok(YarnAttention {
            factor: required(rope.factor, &format!("{kind}: its 'factor'"))?,
            coefficient: YARN_COEFFICIENT,
            attention_factor: rope.attention_factor,
            mscale: rope.mscale,
            mscale_all_dim: rope.mscale_all_dim,
        })
    };
    let rule = match kind {
        "default" => Rule::FrequencyOnly {
            rope_type: FrequencyRope::Default,
        },
        "linear" => Rule::FrequencyOnly {
            rope_type: FrequencyRope::Linear,
        },
        "ntk" => Rule::FrequencyOnly {
            rope_type: FrequencyRope::Ntk,
        },
        "dynamic" => Rule::FrequencyOnly {
            rope_type: FrequencyRope::Dynamic,
        },
        "llama3" => Rule::FrequencyOnly {
            rope_type: FrequencyRope::Llama3,
        },
        "yarn" => {
            let deepseek = config.kv_lora_rank.is_some()
                || config
                    .model_type
                    .as_deref()
                    .is_some_and(|t| t.starts_with("deepseek_v"));
            if deepseek {
                Rule::DeepseekMla(yarn()?)
            } else {
                Rule::Yarn(yarn()?)
            }
        }
        "longrope" | "su" => {
            let train_len = required(train_len, "longrope: 'original_max_position_embeddings'")?;
            let factor = match config.max_position_embeddings {
                Some(max) => max / train_len,
                None => required(
                    rope.factor,
                    "longrope: 'factor' or 'max_position_embeddings'",
                )?,
            };
            Rule::LongRope {
                factor,
                train_len,
                attention_factor: rope.attention_factor,
            }
        }
        other => {
            return Err(format!(
                "unknown rope type '{other}' (known: default, linear, ntk, dynamic, llama3, yarn, longrope, su)"
            ));
        }
    };
    if let Some(beta) = rope.llama_4_scaling_beta {
        let train_len = required(
            train_len,
            "with llama_4_scaling_beta: 'original_max_position_embeddings'",
        )?;
        let yarn = match rule {
            Rule::Yarn(y) => Some(y),
            Rule::FrequencyOnly { .. } => None,
            _ => {
                return Err(format!(
                    "llama_4_scaling_beta with rope type '{kind}' is not supported"
                ));
            }
        };
        return Ok(Rule::Llama4ScalingBeta {
            beta,
            train_len,
            yarn,
        });
    }
    Ok(rule)
}

/// Whether a JSON flag is set (true, or a non-zero number).
fn truthy(value: &serde_json::Value) -> bool {
    value.as_bool().unwrap_or(false) || value.as_f64().is_some_and(|x| x != 0.0)
}

/// The rules of a `config.json` given as text, one [`Scheme`] per group of layers, each with
/// `source` set to `source`.
///
/// # Errors
///
/// A one-line message: the text is not JSON, a key has the wrong type, the rope type is unknown
/// (named), or a key the rule needs is missing (named).
pub fn read_config(text: &str, source: &str) -> Result<Vec<Scheme>, String> {
    let top: Config = serde_json::from_str(text).map_err(|e| format!("not a config.json: {e}"))?;
    let mut config = match top.text_config.clone() {
        Some(text_config) => *text_config,
        None => top.clone(),
    };
    if config.model_type.is_none() {
        config.model_type = top.model_type.clone();
    }
    let scheme = |name: String, rule: Rule| Scheme {
        name,
        source: Some(source.to_owned()),
        rule,
    };
    let mut out = Vec::new();
    for (layers, rope) in rope_blocks(&config)? {
        let rope_rule = rope_rule(&config, rope.as_ref())?;
        if config.use_logn_attn == Some(true) {
            let train_len = config
                .seq_length
                .ok_or("use_logn_attn needs 'seq_length' (the training length)")?;
            if rope_rule.multiplier(2.0) != 1.0 || !rope_rule.is_constant() {
                return Err(
                    "use_logn_attn with a rope type that scales logits is not supported".to_owned(),
                );
            }
            out.push(scheme(layers, Rule::QwenLogN { train_len }));
            continue;
        }
        let llama4 = config
            .model_type
            .as_deref()
            .is_some_and(|t| t.starts_with("llama4"));
        let tuning = match &config.attn_temperature_tuning {
            Some(v) => truthy(v),
            None => llama4,
        };
        if tuning {
            out.push(scheme(
                "NoPE layers (attn_temperature_tuning)".to_owned(),
                Rule::Llama4Temperature {
                    floor_scale: config.floor_scale.unwrap_or(8192.0),
                    attn_scale: config.attn_scale.unwrap_or(0.1),
                },
            ));
            out.push(scheme("RoPE layers".to_owned(), rope_rule));
            continue;
        }
        out.push(scheme(layers, rope_rule));
    }
    Ok(out)
}

/// The names `--rule` accepts, with their keys (required ones first; `key?` optional).
pub const RULE_NAMES: &str = "constant:factor | frequency-only:type (default, linear, ntk, dynamic, llama3) | \
     yarn:factor,coefficient?,attention_factor?,mscale?,mscale_all_dim? | yarn-dynamic:train_len,coefficient? | \
     deepseek-mla:factor,mscale_all_dim,mscale?,coefficient? | llama4-temperature:floor_scale?,attn_scale? | \
     llama4-scaling-beta:beta,train_len,yarn_factor? | longrope:factor,train_len,attention_factor? | \
     qwen-logn:train_len | ssmax:s,b? | swan-style:train_len,slope";

/// A rule typed as `NAME:key=value,…` (see [`RULE_NAMES`]).
///
/// # Errors
///
/// A one-line message naming the unknown rule, the unknown or missing key, or the bad value.
pub fn parse_rule(text: &str) -> Result<Rule, String> {
    let (name, rest) = text.split_once(':').unwrap_or((text, ""));
    let mut keys: BTreeMap<String, String> = BTreeMap::new();
    for pair in rest.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair
            .split_once('=')
            .ok_or_else(|| format!("'{pair}' is not key=value"))?;
        keys.insert(k.trim().to_owned(), v.trim().to_owned());
    }
    let mut used: Vec<&str> = Vec::new();
    let mut number =
        |key: &'static str, ok: fn(f64) -> bool, what: &str| -> Result<Option<f64>, String> {
            used.push(key);
            match keys.get(key) {
                None => Ok(None),
                Some(v) => v
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && ok(*x))
                    .map(Some)
                    .ok_or_else(|| format!("{key} = '{v}': must be {what}")),
            }
        };
    let positive = |x: f64| x > 0.0;
    let length = |x: f64| x >= 2.0;
    let non_negative = |x: f64| x >= 0.0;
    let given: Vec<&str> = keys.keys().map(String::as_str).collect();
    let need = |x: Option<f64>, key: &str| {
        x.ok_or_else(|| match given.as_slice() {
            [] => format!("rule {name} needs {key}=…"),
            _ => format!("rule {name} needs {key}=… (given: {})", given.join(", ")),
        })
    };
    let rule = match name.trim() {
        "constant" => Rule::Constant {
            factor: need(number("factor", positive, "a positive number")?, "factor")?,
        },
        "frequency-only" => {
            used.push("type");
            let rope_type = match keys.get("type").map(String::as_str) {
                Some("default") | None => FrequencyRope::Default,
                Some("linear") => FrequencyRope::Linear,
                Some("ntk") => FrequencyRope::Ntk,
                Some("dynamic") => FrequencyRope::Dynamic,
                Some("llama3") => FrequencyRope::Llama3,
                Some(other) => return Err(format!("unknown rope type '{other}'")),
            };
            Rule::FrequencyOnly { rope_type }
        }
        "yarn" | "deepseek-mla" => {
            let y = YarnAttention {
                factor: need(number("factor", positive, "a positive number")?, "factor")?,
                coefficient: number("coefficient", positive, "a positive number")?
                    .unwrap_or(YARN_COEFFICIENT),
                attention_factor: number("attention_factor", positive, "a positive number")?,
                mscale: number("mscale", non_negative, "a number >= 0")?,
                mscale_all_dim: number("mscale_all_dim", non_negative, "a number >= 0")?,
            };
            if name == "yarn" {
                Rule::Yarn(y)
            } else {
                need(y.mscale_all_dim, "mscale_all_dim")?;
                Rule::DeepseekMla(y)
            }
        }
        "yarn-dynamic" => Rule::YarnDynamic {
            train_len: need(number("train_len", length, "a number >= 2")?, "train_len")?,
            coefficient: number("coefficient", positive, "a positive number")?
                .unwrap_or(YARN_COEFFICIENT),
        },
        "llama4-temperature" => Rule::Llama4Temperature {
            floor_scale: number("floor_scale", positive, "a positive number")?.unwrap_or(8192.0),
            attn_scale: number("attn_scale", non_negative, "a number >= 0")?.unwrap_or(0.1),
        },
        "llama4-scaling-beta" => Rule::Llama4ScalingBeta {
            beta: need(number("beta", non_negative, "a number >= 0")?, "beta")?,
            train_len: need(number("train_len", length, "a number >= 2")?, "train_len")?,
            yarn: number("yarn_factor", positive, "a positive number")?
                .map(YarnAttention::of_factor),
        },
        "longrope" => Rule::LongRope {
            factor: need(number("factor", positive, "a positive number")?, "factor")?,
            train_len: need(number("train_len", length, "a number >= 2")?, "train_len")?,
            attention_factor: number("attention_factor", positive, "a positive number")?,
        },
        "qwen-logn" => Rule::QwenLogN {
            train_len: need(number("train_len", length, "a number >= 2")?, "train_len")?,
        },
        "ssmax" => Rule::SsMax {
            s: need(number("s", positive, "a positive number")?, "s")?,
            b: number("b", |_| true, "a number")?.unwrap_or(0.0),
        },
        "swan-style" => Rule::SwanStyle {
            train_len: need(number("train_len", length, "a number >= 2")?, "train_len")?,
            slope: need(number("slope", non_negative, "a number >= 0")?, "slope")?,
        },
        other => return Err(format!("unknown rule '{other}'; known: {RULE_NAMES}")),
    };
    if let Some(extra) = keys.keys().find(|k| !used.contains(&k.as_str())) {
        return Err(format!("rule {name} has no key '{extra}'"));
    }
    Ok(rule)
}

/// A public model's config, as committed under `crates/schemes/fixtures/`.
#[derive(Debug, Clone, Copy)]
pub struct Fixture {
    /// The model.
    pub model: &'static str,
    /// The file name under `fixtures/`.
    pub file: &'static str,
    /// The file's text.
    pub text: &'static str,
}

/// The committed configs of a few well-known models (only the keys that decide the logit
/// scaling, written from their public `config.json`; see `fixtures/README.md`).
pub fn fixtures() -> [Fixture; 7] {
    macro_rules! fixture {
        ($model:expr, $file:expr) => {
            Fixture {
                model: $model,
                file: $file,
                text: include_str!(concat!("../fixtures/", $file)),
            }
        };
    }
    [
        fixture!("Qwen3-8B, YaRN factor 4", "qwen3-8b-yarn4.json"),
        fixture!("gpt-oss-20b", "gpt-oss-20b.json"),
        fixture!("DeepSeek-V3", "deepseek-v3.json"),
        fixture!("Llama 4 Scout", "llama4-scout.json"),
        fixture!("Phi-3-mini-128k", "phi3-mini-128k.json"),
        fixture!("Qwen-7B (v1)", "qwen-7b-v1.json"),
        fixture!("Llama-3.1-8B", "llama3.1-8b.json"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_config_without_scaling_says_m_is_one() {
        let schemes =
            read_config(r#"{"model_type": "llama", "rope_scaling": null}"#, "c.json").unwrap();
        assert_eq!(schemes.len(), 1);
        assert_eq!(schemes[0].rule.multiplier(1e6), 1.0);
        assert!(schemes[0].rule.factor_text().contains("no logit scaling"));
    }

    #[test]
    fn rope_type_may_be_type_or_rope_type_and_nested_by_layer() {
        let a = read_config(r#"{"rope_scaling": {"type": "yarn", "factor": 4}}"#, "a").unwrap();
        let b = read_config(
            r#"{"rope_parameters": {"rope_type": "yarn", "factor": 4, "rope_theta": 1e6}}"#,
            "b",
        )
        .unwrap();
        assert_eq!(a[0].rule, b[0].rule);
        let nested = read_config(
            r#"{"rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 8}, "sliding_attention": {"rope_type": "default"}}}"#,
            "g",
        )
        .unwrap();
        let names: Vec<&str> = nested.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["full_attention layers", "sliding_attention layers"]);
    }

    #[test]
    fn unknown_rope_types_and_missing_keys_are_named() {
        let err = read_config(
            r#"{"rope_scaling": {"rope_type": "warp", "factor": 2}}"#,
            "x",
        )
        .unwrap_err();
        assert!(err.contains("'warp'"), "{err}");
        let err = read_config(r#"{"rope_scaling": {"rope_type": "yarn"}}"#, "x").unwrap_err();
        assert!(err.contains("factor"), "{err}");
        let err = read_config(r#"{"use_logn_attn": true}"#, "x").unwrap_err();
        assert!(err.contains("seq_length"), "{err}");
    }

    #[test]
    fn the_fixtures_read_as_theory_says() {
        let read = |file: &str| {
            let f = fixtures().into_iter().find(|f| f.file == file).unwrap();
            read_config(f.text, f.file).unwrap()
        };
        let a = 0.1 * 4f64.ln() + 1.0;
        assert_eq!(read("qwen3-8b-yarn4.json")[0].rule.multiplier(1e8), a * a);
        let ds = read("deepseek-v3.json");
        assert!(matches!(ds[0].rule, Rule::DeepseekMla(_)));
        assert!((ds[0].rule.multiplier(1e5) - 1.873854).abs() < 5e-7);
        let scout = read("llama4-scout.json");
        assert_eq!(scout.len(), 2);
        assert!(matches!(scout[0].rule, Rule::Llama4Temperature { .. }));
        assert_eq!(scout[1].rule.multiplier(1e6), 1.0);
        let phi = read("phi3-mini-128k.json");
        assert!((phi[0].rule.multiplier(10.0) - (1.0 + 32f64.ln() / 4096f64.ln())).abs() < 1e-15);
        assert_eq!(
            read("qwen-7b-v1.json")[0].rule,
            Rule::QwenLogN { train_len: 8192.0 }
        );
        assert_eq!(read("llama3.1-8b.json")[0].rule.multiplier(1e9), 1.0);
    }

    #[test]
    fn hand_typed_rules() {
        assert_eq!(
            parse_rule("ssmax:s=0.43,b=1").unwrap(),
            Rule::SsMax { s: 0.43, b: 1.0 }
        );
        assert_eq!(
            parse_rule("llama4-temperature").unwrap(),
            Rule::Llama4Temperature {
                floor_scale: 8192.0,
                attn_scale: 0.1
            }
        );
        assert!(
            parse_rule("yarn:factor=4,bogus=1")
                .unwrap_err()
                .contains("'bogus'")
        );
        let err = parse_rule("yarn:facter=4").unwrap_err();
        assert!(
            err.contains("factor") && err.contains("given: facter"),
            "{err}"
        );
        let err =
            read_config(r#"{"rope_scaling": {"type": "yarn", "factor": -4}}"#, "a").unwrap_err();
        assert!(err.contains("factor") && err.contains("positive"), "{err}");
        assert!(parse_rule("yarn").unwrap_err().contains("factor"));
        assert!(parse_rule("warp:x=1").unwrap_err().contains("'warp'"));
        assert!(
            parse_rule("constant:factor=-1")
                .unwrap_err()
                .contains("positive")
        );
    }
}
