//! Evaluating a point and rendering its numbers as decimal strings or enclosures: the
//! [`EvalReport`] that the command line prints.

use crate::read::read_params;
use crate::{EvalArgs, EvalError};
use critscale_real::{Real, decimal_from_ln};
use critscale_simplex::{SimplexLayer, SimplexParams};
use serde_json::{Map, Value};

/// A result: a decimal string, an enclosure, or a word.
#[derive(Debug, Clone, PartialEq)]
pub enum Value_ {
    /// A number as a full-precision decimal string.
    Number(String),
    /// A rigorous enclosure [lo, hi], as decimal strings rounded outward.
    Range(String, String),
    /// A word (the regime).
    Word(String),
}

/// One named result.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// Field name (also the JSON key).
    pub name: &'static str,
    /// The value.
    pub value: Value_,
    /// A short gloss for the table.
    pub note: &'static str,
}

/// What `eval` computed, independent of how it is printed.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// The backend and its precision, e.g. `f64` or `astro-float 256 bits`.
    pub backend: String,
    /// The inputs as the backend read them.
    pub inputs: Vec<Entry>,
    /// The closed-form results.
    pub outputs: Vec<Entry>,
    /// Cautions about the point and the computation (printed to stderr).
    pub warnings: Vec<String>,
}

/// A printed number: its value and, where it may leave the backend's range, its logarithm.
pub(crate) struct Numeric<T> {
    pub(crate) name: &'static str,
    pub(crate) value: T,
    pub(crate) ln_value: Option<T>,
    /// True for quantities that are positive at every valid point (never printed as 0).
    positive: bool,
    note: &'static str,
}

fn numeric<T: Real>(
    name: &'static str,
    value: &T,
    ln_value: Option<&T>,
    positive: bool,
    note: &'static str,
) -> Numeric<T> {
    Numeric {
        name,
        value: value.clone(),
        ln_value: ln_value.cloned(),
        positive,
        note,
    }
}

pub(crate) fn numeric_outputs<T: Real>(
    params: &SimplexParams<T>,
    layer: &SimplexLayer<T>,
) -> Vec<Numeric<T>> {
    let mut out = vec![
        numeric("gamma_c", &params.gamma_c(), None, true, "1/(1-rho)"),
        numeric(
            "kappa",
            &layer.kappa,
            None,
            false,
            "gamma(1-rho) - 1, sign gives the regime",
        ),
        numeric(
            "self_weight",
            &layer.self_weight,
            Some(&layer.ln_self_weight),
            true,
            "A_ii",
        ),
        numeric("cos_out", &layer.cos_out, None, false, "<y_i', y_j'>"),
        numeric(
            "one_minus_cos_out",
            &layer.one_minus_cos_out,
            Some(&layer.ln_one_minus_cos_out),
            true,
            "1 - cos_out, without cancellation",
        ),
        numeric(
            "lambda",
            &layer.lambda,
            Some(&layer.ln_lambda),
            true,
            "(1-cos_out)/(1-rho): 0 collapse, 1 identity",
        ),
        numeric(
            "one_minus_lambda",
            &layer.one_minus_lambda,
            Some(&layer.ln_one_minus_lambda),
            true,
            "1 - lambda, without cancellation",
        ),
        numeric(
            "lambda_angle",
            &layer.lambda_angle,
            Some(&layer.ln_lambda_angle),
            true,
            "arccos(cos_out)/arccos(rho)",
        ),
    ];
    if let Some(eta) = &layer.eta {
        out.push(numeric("eta", eta, None, true, "|dX'/dX|_F^2/(nd), exact"));
    }
    out
}

pub(crate) fn input_numerics<T: Real>(params: &SimplexParams<T>) -> Vec<Numeric<T>> {
    let mut out = vec![
        numeric("n", &params.n, None, true, "tokens"),
        numeric(
            "rho",
            &params.rho,
            None,
            false,
            "pairwise cosine of the inputs",
        ),
        numeric("gamma", &params.gamma(), None, true, "beta = gamma log n"),
        numeric("beta", &params.beta(), None, true, "attention scale"),
        numeric("alpha", &params.alpha, None, false, "residual weight"),
        numeric("q", &params.q, None, true, "squared token norm"),
    ];
    if let Some(d) = &params.d {
        out.push(numeric("d", d, None, true, "embedding dimension"));
    }
    out
}

/// The printed form of a number on backend `T`; `None` when it cannot be printed at this
/// precision (a positive value that underflows without a logarithm, or whose logarithm does not
/// fix its exponent and a digit).
fn render<T: Real>(item: &Numeric<T>) -> Option<Value_> {
    let value = &item.value;
    if let Some((lo, hi)) = value.bounds_strings() {
        return match &item.ln_value {
            // Out of range: bound e^ℓ from the enclosure of ℓ, so the lower end stays positive.
            Some(ln) if !value.is_normal() => ln
                .exp_bounds_strings()
                .map(|(lo, hi)| Value_::Range(lo, hi)),
            _ => Some(Value_::Range(lo, hi)),
        };
    }
    match &item.ln_value {
        Some(ln) if !value.is_normal() => decimal_from_ln(ln).map(Value_::Number),
        None if item.positive && !value.is_normal() => None,
        _ => Some(Value_::Number(value.to_sci_string())),
    }
}

/// Evaluates on backend `T` and builds the report.
pub fn evaluate<T: Real>(ctx: &T::Ctx, args: &EvalArgs) -> Result<EvalReport, EvalError> {
    let params = read_params::<T>(ctx, args)?;
    let layer = SimplexLayer::evaluate(&params);
    build_report(ctx, &params, &layer)
        .map_err(|unprintable| unprintable_error::<T>(ctx, &unprintable))
}

/// Numbers that could not be printed: their names and, where known, their logarithms as `f64`.
pub(crate) type Unprintable = Vec<(&'static str, Option<f64>)>;

/// The exit-3 error for numbers a backend cannot print, with the precision that would.
pub(crate) fn unprintable_error<T: Real>(ctx: &T::Ctx, unprintable: &Unprintable) -> EvalError {
    let fields: Vec<&str> = unprintable.iter().map(|(name, _)| *name).collect();
    // Digits needed: the integer digits of log10 of the value, one guard digit and 15 to show.
    let needed_bits = unprintable
        .iter()
        .map(|(_, ln)| {
            let decimal_exponent =
                ln.map_or(f64::INFINITY, |l| (l / std::f64::consts::LN_10).abs());
            let integer_digits = decimal_exponent.max(1.0).log10().floor() + 1.0;
            ((integer_digits + 16.0) / std::f64::consts::LOG10_2).ceil()
        })
        .fold(0.0f64, f64::max);
    // Never suggest less than twice the precision that failed.
    let current_bits = T::significant_digits(ctx) as f64 / std::f64::consts::LOG10_2;
    let needed_bits = needed_bits.max(2.0 * current_bits);
    let max = critscale_real::big::MAX_PRECISION_BITS as f64;
    let remedy = if unprintable.iter().any(|(_, ln)| ln.is_none()) {
        "they fall outside the backend's exponent range".to_owned()
    } else if needed_bits.is_finite() && needed_bits <= max {
        let bits = (needed_bits as u64).next_power_of_two().min(max as u64);
        format!(
            "their decimal exponent and digits are not determined at this precision; rerun with --precision {bits} or more"
        )
    } else {
        format!("they lie beyond what any supported precision (up to {max} bits) determines")
    };
    EvalError::Unprintable {
        backend: T::backend_name(ctx),
        fields: fields.join(", "),
        remedy,
    }
}

/// The report of an evaluated point, or the numbers that cannot be printed on this backend.
pub(crate) fn build_report<T: Real>(
    ctx: &T::Ctx,
    params: &SimplexParams<T>,
    layer: &SimplexLayer<T>,
) -> Result<EvalReport, Unprintable> {
    let mut unprintable = Unprintable::new();
    let mut entries = |items: Vec<Numeric<T>>| -> Vec<Entry> {
        items
            .into_iter()
            .filter_map(|item| match render(&item) {
                Some(value) => Some(Entry {
                    name: item.name,
                    value,
                    note: item.note,
                }),
                None => {
                    unprintable.push((item.name, item.ln_value.as_ref().map(|ln| ln.to_f64())));
                    None
                }
            })
            .collect()
    };
    let inputs = entries(input_numerics(params));
    let mut outputs = entries(numeric_outputs(params, layer));
    if !unprintable.is_empty() {
        return Err(unprintable);
    }
    outputs.insert(
        2,
        Entry {
            name: "regime",
            value: Value_::Word(params.regime().to_string()),
            note: "side of gamma_c",
        },
    );
    Ok(EvalReport {
        backend: T::backend_name(ctx),
        inputs,
        outputs,
        warnings: params.warnings(),
    })
}

impl EvalReport {
    /// One JSON object: `backend`, the inputs, then the results; numbers are decimal strings,
    /// enclosures `{"lo": "...", "hi": "..."}`.
    pub fn to_json(&self) -> Value {
        let mut map = Map::new();
        map.insert("backend".to_owned(), Value::String(self.backend.clone()));
        for item in self.inputs.iter().chain(&self.outputs) {
            let value = match &item.value {
                Value_::Number(text) | Value_::Word(text) => Value::String(text.clone()),
                Value_::Range(lo, hi) => {
                    let mut range = Map::new();
                    range.insert("lo".to_owned(), Value::String(lo.clone()));
                    range.insert("hi".to_owned(), Value::String(hi.clone()));
                    Value::Object(range)
                }
            };
            map.insert(item.name.to_owned(), value);
        }
        Value::Object(map)
    }

    /// True when every numeric output is finite (the guarantee `eval` makes).
    pub fn all_finite(&self) -> bool {
        let finite = |text: &str| !text.contains("NaN") && !text.contains("inf");
        self.outputs.iter().all(|item| match &item.value {
            Value_::Number(text) => finite(text),
            Value_::Range(lo, hi) => finite(lo) && finite(hi),
            Value_::Word(_) => true,
        })
    }
}
