//! `critscale eval`: every simplex closed form at one parameter point.
//!
//! Parameters arrive as the text the user typed, are read by the backend (so `1e300` or a
//! 40-digit ρ keep what the backend can hold), validated by [`SimplexParams::new`], evaluated by
//! [`SimplexLayer::evaluate`] and returned as an [`EvalReport`]: named decimal strings that the
//! binary prints as a table or as JSON.

use critscale_real::{Real, decimal_from_ln};
use critscale_simplex::{InvalidParameter, Scaling, SimplexLayer, SimplexParams};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The parameters of `eval`, as typed.
#[derive(Debug, Clone, Default)]
pub struct EvalArgs {
    /// Number of tokens, e.g. `12345` or `1e40`.
    pub n: String,
    /// Pairwise cosine ρ.
    pub rho: String,
    /// γ in β = γ log n, or `crit` for γ_c; exclusive with `beta`.
    pub gamma: Option<String>,
    /// β given directly.
    pub beta: Option<String>,
    /// Residual weight α.
    pub alpha: String,
    /// Squared token norm q.
    pub q: String,
    /// Embedding dimension, needed for η.
    pub d: Option<String>,
}

/// Why `eval` could not run: a bad parameter (the user's fault, exit code 2).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid value '{value}' for --{flag}: {requirement}")]
pub struct BadParameter {
    /// The flag, without dashes.
    pub flag: String,
    /// The text the user gave.
    pub value: String,
    /// What a valid value looks like.
    pub requirement: String,
}

/// One named result.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field name (also the JSON key).
    pub name: &'static str,
    /// The value: a full-precision decimal string, or a word (for `regime`).
    pub value: String,
    /// A short gloss for the table.
    pub note: &'static str,
}

/// What `eval` computed, independent of how it is printed.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The backend and its precision, e.g. `f64`.
    pub backend: String,
    /// The inputs as the backend read them.
    pub inputs: Vec<Entry>,
    /// The closed-form results.
    pub outputs: Vec<Entry>,
    /// Cautions about the point (printed to stderr).
    pub warnings: Vec<String>,
}

fn parse<T: Real>(ctx: &T::Ctx, flag: &str, text: &str) -> Result<T, BadParameter> {
    T::parse_decimal(ctx, text).map_err(|err| BadParameter {
        flag: flag.to_owned(),
        value: text.to_owned(),
        requirement: err.reason,
    })
}

fn entry(name: &'static str, value: String, note: &'static str) -> Entry {
    Entry { name, value, note }
}

/// Runs `eval` on the backend `T`.
pub fn evaluate<T: Real>(ctx: &T::Ctx, args: &EvalArgs) -> Result<EvalReport, BadParameter> {
    let n: T = parse(ctx, "n", &args.n)?;
    let rho: T = parse(ctx, "rho", &args.rho)?;
    let scaling = match (&args.gamma, &args.beta) {
        (Some(_), Some(_)) => {
            return Err(BadParameter {
                flag: "beta".to_owned(),
                value: args.beta.clone().unwrap_or_default(),
                requirement: "give either --gamma or --beta, not both".to_owned(),
            });
        }
        (Some(gamma), None) if is_critical_keyword(gamma) => Scaling::Critical,
        (Some(gamma), None) => Scaling::Gamma(parse(ctx, "gamma", gamma)?),
        (None, Some(beta)) => Scaling::Beta(parse(ctx, "beta", beta)?),
        (None, None) => {
            return Err(BadParameter {
                flag: "gamma".to_owned(),
                value: String::new(),
                requirement: "give --gamma (a positive number, or 'crit' for 1/(1-rho)) or --beta"
                    .to_owned(),
            });
        }
    };
    let alpha: T = parse(ctx, "alpha", &args.alpha)?;
    let q: T = parse(ctx, "q", &args.q)?;
    let d: Option<T> = args.d.as_deref().map(|d| parse(ctx, "d", d)).transpose()?;

    let params = SimplexParams::new(n, rho, scaling, alpha, q, d)
        .map_err(|invalid| bad_parameter(args, invalid))?;
    let layer = SimplexLayer::evaluate(&params);
    let report = EvalReport {
        backend: T::backend_name(ctx),
        inputs: inputs(&params),
        outputs: outputs(&params, &layer),
        warnings: params.warnings(),
    };
    Ok(report)
}

/// Accepted spellings of γ = γ_c.
fn is_critical_keyword(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "crit" | "critical" | "gc" | "gamma_c"
    )
}

fn bad_parameter(args: &EvalArgs, invalid: InvalidParameter) -> BadParameter {
    let given = match invalid.name {
        "n" => Some(args.n.clone()),
        "rho" => Some(args.rho.clone()),
        "gamma" => args.gamma.clone(),
        "beta" => args.beta.clone(),
        "alpha" => Some(args.alpha.clone()),
        "q" => Some(args.q.clone()),
        "d" => args.d.clone(),
        _ => None,
    };
    BadParameter {
        flag: invalid.name.to_owned(),
        value: given.unwrap_or(invalid.value),
        requirement: invalid.requirement,
    }
}

fn inputs<T: Real>(params: &SimplexParams<T>) -> Vec<Entry> {
    let mut out = vec![
        entry("n", params.n.to_sci_string(), "tokens"),
        entry(
            "rho",
            params.rho.to_sci_string(),
            "pairwise cosine of the inputs",
        ),
        entry(
            "gamma",
            params.gamma().to_sci_string(),
            "beta = gamma log n",
        ),
        entry("beta", params.beta().to_sci_string(), "attention scale"),
        entry("alpha", params.alpha.to_sci_string(), "residual weight"),
        entry("q", params.q.to_sci_string(), "squared token norm"),
    ];
    if let Some(d) = &params.d {
        out.push(entry("d", d.to_sci_string(), "embedding dimension"));
    }
    out
}

/// A value that may under- or overflow the backend, printed from its logarithm when it does.
fn from_value_or_ln<T: Real>(value: &T, ln_value: &T) -> String {
    if value.is_normal() {
        value.to_sci_string()
    } else {
        decimal_from_ln(ln_value)
    }
}

fn outputs<T: Real>(params: &SimplexParams<T>, layer: &SimplexLayer<T>) -> Vec<Entry> {
    let mut out = vec![
        entry("gamma_c", params.gamma_c().to_sci_string(), "1/(1-rho)"),
        entry(
            "kappa",
            layer.kappa.to_sci_string(),
            "gamma(1-rho) - 1, sign gives the regime",
        ),
        entry("regime", params.regime().to_string(), "side of gamma_c"),
        entry(
            "self_weight",
            from_value_or_ln(&layer.self_weight, &layer.ln_self_weight),
            "A_ii",
        ),
        entry("cos_out", layer.cos_out.to_sci_string(), "<y_i', y_j'>"),
        entry(
            "one_minus_cos_out",
            from_value_or_ln(&layer.one_minus_cos_out, &layer.ln_one_minus_cos_out),
            "1 - cos_out, without cancellation",
        ),
        entry(
            "lambda",
            from_value_or_ln(&layer.lambda, &layer.ln_lambda),
            "(1-cos_out)/(1-rho): 0 collapse, 1 identity",
        ),
        entry(
            "one_minus_lambda",
            from_value_or_ln(&layer.one_minus_lambda, &layer.ln_one_minus_lambda),
            "1 - lambda, without cancellation",
        ),
        entry(
            "lambda_angle",
            layer.lambda_angle.to_sci_string(),
            "arccos(cos_out)/arccos(rho)",
        ),
    ];
    if let Some(eta) = &layer.eta {
        out.push(entry(
            "eta",
            eta.to_sci_string(),
            "|dX'/dX|_F^2/(nd), exact",
        ));
    }
    out
}

impl EvalReport {
    /// One JSON object: `backend`, the inputs, then the results, every number a decimal string.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("backend".to_owned(), Value::String(self.backend.clone()));
        for item in self.inputs.iter().chain(&self.outputs) {
            map.insert(item.name.to_owned(), Value::String(item.value.clone()));
        }
        Value::Object(map)
    }

    /// An aligned table for people: name, value, meaning.
    pub fn to_table(&self) -> String {
        let rows: Vec<(&str, String, &str)> = self
            .inputs
            .iter()
            .chain(&self.outputs)
            .map(|item| {
                (
                    item.name,
                    crate::text::human_decimal(&item.value),
                    item.note,
                )
            })
            .collect();
        let name_width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
        let value_width = rows.iter().map(|row| row.1.len()).max().unwrap_or(0);
        let mut table = format!("simplex closed forms (backend {})\n", self.backend);
        for (index, (name, value, note)) in rows.iter().enumerate() {
            if index == self.inputs.len() {
                table.push('\n');
            }
            let _ = writeln!(
                table,
                "  {name:<name_width$}  {value:<value_width$}  {note}"
            );
        }
        table
    }

    /// True when every numeric output is a finite decimal (the guarantee `eval` makes).
    pub fn all_finite(&self) -> bool {
        self.outputs
            .iter()
            .filter(|item| item.name != "regime")
            .all(|item| !item.value.contains("NaN") && !item.value.contains("inf"))
    }
}
