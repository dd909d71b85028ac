//! `critscale eval`: every simplex closed form at one parameter point.
//!
//! Parameters arrive as the text the user typed and are read by the chosen backend (so `1e100000`
//! or a 40-digit ρ keep what the backend can hold), validated by [`SimplexParams::new`], evaluated
//! by [`SimplexLayer::evaluate`] and returned as an [`EvalReport`]: named decimal strings (or
//! enclosures) that the binary prints as a table or as JSON.
//!
//! # Precision policy
//!
//! In `f64` (the default) every result is checked against a rigorous enclosure computed from the
//! *decimal* inputs at 128 bits ([`Interval`]). When an `f64` value is not within the requested
//! relative tolerance (`--rel-tol`, default 1e-12) of the enclosure — cancellation, an
//! ill-conditioned point, or the rounding of the inputs to binary — `eval` says so on stderr and,
//! by default, **re-evaluates** the point with the big-float engine at the first precision of
//! 128, 256, 512, … bits whose enclosures are that tight, and prints those values (the `backend`
//! field names the engine, precision and the escalation). `--on-doubt refuse` exits with code 3
//! instead; `--on-doubt off` prints the `f64` values unchecked.

use critscale_real::{BigReal, Interval, Precision, Real, decimal_from_ln};
use critscale_simplex::{InvalidParameter, Scaling, SimplexLayer, SimplexParams};
use serde_json::{Map, Value};
use std::fmt::Write as _;

/// The parameters of `eval`, as typed.
#[derive(Debug, Clone, Default)]
pub struct EvalArgs {
    /// Number of tokens, e.g. `12345`, `1e40` or `1e100000`.
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

/// How `eval` computes: backend, precision, enclosures, and the `f64` precision policy.
#[derive(Debug, Clone, Default)]
pub struct EvalOptions {
    /// `--precision BITS` (absent: `f64`).
    pub precision: Option<String>,
    /// `--engine big|mpfr` (absent: `big` when a precision is given).
    pub engine: Option<String>,
    /// `--enclose`: rigorous [lo, hi] for every value.
    pub enclose: bool,
    /// `--rel-tol`: the relative accuracy `f64` must vouch for (absent: 1e-12).
    pub rel_tol: Option<String>,
    /// `--on-doubt escalate|refuse|off` (absent: escalate).
    pub on_doubt: Option<String>,
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

/// Why `eval` stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A bad parameter (exit code 2).
    #[error(transparent)]
    Bad(#[from] BadParameter),
    /// `f64` cannot vouch for the requested tolerance and `--on-doubt refuse` was given (exit 3).
    #[error(
        "f64 cannot vouch for {fields} to relative {tolerance} at this point; rerun with --precision 128 or higher"
    )]
    Refused {
        /// The results in doubt.
        fields: String,
        /// The tolerance asked for.
        tolerance: String,
    },
}

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

fn bad(flag: &str, value: &str, requirement: impl Into<String>) -> BadParameter {
    BadParameter {
        flag: flag.to_owned(),
        value: value.to_owned(),
        requirement: requirement.into(),
    }
}

fn parse<T: Real>(ctx: &T::Ctx, flag: &str, text: &str) -> Result<T, BadParameter> {
    T::parse_decimal(ctx, text).map_err(|err| bad(flag, text, err.reason))
}

/// Accepted spellings of γ = γ_c.
fn is_critical_keyword(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "crit" | "critical" | "gc" | "gamma_c"
    )
}

/// Reads and validates the point on backend `T`.
pub fn read_params<T: Real>(
    ctx: &T::Ctx,
    args: &EvalArgs,
) -> Result<SimplexParams<T>, BadParameter> {
    let n: T = parse(ctx, "n", &args.n)?;
    let rho: T = parse(ctx, "rho", &args.rho)?;
    let scaling = match (&args.gamma, &args.beta) {
        (Some(_), Some(beta)) => {
            return Err(bad("beta", beta, "give either --gamma or --beta, not both"));
        }
        (Some(gamma), None) if is_critical_keyword(gamma) => Scaling::Critical,
        (Some(gamma), None) => Scaling::Gamma(parse(ctx, "gamma", gamma)?),
        (None, Some(beta)) => Scaling::Beta(parse(ctx, "beta", beta)?),
        (None, None) => {
            return Err(bad(
                "gamma",
                "",
                "give --gamma (a positive number, or 'crit' for 1/(1-rho)) or --beta",
            ));
        }
    };
    let alpha: T = parse(ctx, "alpha", &args.alpha)?;
    let q: T = parse(ctx, "q", &args.q)?;
    let d: Option<T> = args.d.as_deref().map(|d| parse(ctx, "d", d)).transpose()?;
    SimplexParams::new(n, rho, scaling, alpha, q, d).map_err(|invalid| bad_parameter(args, invalid))
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

/// A numeric output: its value and, where it may leave the backend's range, its logarithm.
struct Numeric<T> {
    name: &'static str,
    value: T,
    ln_value: Option<T>,
    note: &'static str,
}

fn numeric_outputs<T: Real>(params: &SimplexParams<T>, layer: &SimplexLayer<T>) -> Vec<Numeric<T>> {
    let num = |name, value: &T, ln_value: Option<&T>, note| Numeric {
        name,
        value: value.clone(),
        ln_value: ln_value.cloned(),
        note,
    };
    let mut out = vec![
        num("gamma_c", &params.gamma_c(), None, "1/(1-rho)"),
        num(
            "kappa",
            &layer.kappa,
            None,
            "gamma(1-rho) - 1, sign gives the regime",
        ),
        num(
            "self_weight",
            &layer.self_weight,
            Some(&layer.ln_self_weight),
            "A_ii",
        ),
        num("cos_out", &layer.cos_out, None, "<y_i', y_j'>"),
        num(
            "one_minus_cos_out",
            &layer.one_minus_cos_out,
            Some(&layer.ln_one_minus_cos_out),
            "1 - cos_out, without cancellation",
        ),
        num(
            "lambda",
            &layer.lambda,
            Some(&layer.ln_lambda),
            "(1-cos_out)/(1-rho): 0 collapse, 1 identity",
        ),
        num(
            "one_minus_lambda",
            &layer.one_minus_lambda,
            Some(&layer.ln_one_minus_lambda),
            "1 - lambda, without cancellation",
        ),
        num(
            "lambda_angle",
            &layer.lambda_angle,
            None,
            "arccos(cos_out)/arccos(rho)",
        ),
    ];
    if let Some(eta) = &layer.eta {
        out.push(num("eta", eta, None, "|dX'/dX|_F^2/(nd), exact"));
    }
    out
}

/// The printed form of a numeric output on backend `T`.
fn render<T: Real>(value: &T, ln_value: Option<&T>) -> Value_ {
    if let Some((lo, hi)) = value.bounds_strings() {
        return Value_::Range(lo, hi);
    }
    match ln_value {
        Some(ln_value) if !value.is_normal() => Value_::Number(decimal_from_ln(ln_value)),
        _ => Value_::Number(value.to_sci_string()),
    }
}

fn input_entries<T: Real>(params: &SimplexParams<T>) -> Vec<Entry> {
    let entry = |name, value: T, note| Entry {
        name,
        value: render(&value, None),
        note,
    };
    let mut out = vec![
        entry("n", params.n.clone(), "tokens"),
        entry("rho", params.rho.clone(), "pairwise cosine of the inputs"),
        entry("gamma", params.gamma(), "beta = gamma log n"),
        entry("beta", params.beta(), "attention scale"),
        entry("alpha", params.alpha.clone(), "residual weight"),
        entry("q", params.q.clone(), "squared token norm"),
    ];
    if let Some(d) = &params.d {
        out.push(entry("d", d.clone(), "embedding dimension"));
    }
    out
}

/// Evaluates on backend `T` and builds the report.
pub fn evaluate<T: Real>(ctx: &T::Ctx, args: &EvalArgs) -> Result<EvalReport, BadParameter> {
    let params = read_params::<T>(ctx, args)?;
    let layer = SimplexLayer::evaluate(&params);
    Ok(build_report(ctx, &params, &layer))
}

/// The report of an evaluated point.
fn build_report<T: Real>(
    ctx: &T::Ctx,
    params: &SimplexParams<T>,
    layer: &SimplexLayer<T>,
) -> EvalReport {
    let mut outputs: Vec<Entry> = numeric_outputs(params, layer)
        .into_iter()
        .map(|item| Entry {
            name: item.name,
            value: render(&item.value, item.ln_value.as_ref()),
            note: item.note,
        })
        .collect();
    outputs.insert(
        2,
        Entry {
            name: "regime",
            value: Value_::Word(params.regime().to_string()),
            note: "side of gamma_c",
        },
    );
    EvalReport {
        backend: T::backend_name(ctx),
        inputs: input_entries(params),
        outputs,
        warnings: params.warnings(),
    }
}

/// The engines `eval` can run on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// IEEE double (with the precision policy).
    F64,
    /// astro-float at a precision.
    Big(Precision),
    /// MPFR at a precision (feature `mpfr`).
    Mpfr(Precision),
    /// Outward-rounded intervals on astro-float.
    Enclose(Precision),
}

/// What to do when `f64` cannot vouch for a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDoubt {
    /// Re-evaluate at high precision (default).
    Escalate,
    /// Exit with an error.
    Refuse,
    /// Print the `f64` values without the check.
    Off,
}

/// Default precision when an engine or `--enclose` is asked for without `--precision`.
pub const DEFAULT_HIGH_PRECISION: u64 = 256;

/// Reads `--precision`, `--engine`, `--enclose`.
pub fn choose_engine(options: &EvalOptions) -> Result<Engine, BadParameter> {
    let precision = match &options.precision {
        None => None,
        Some(text) => {
            let requirement = format!(
                "must be a whole number of bits in [{}, {}]",
                critscale_real::big::MIN_PRECISION_BITS,
                critscale_real::big::MAX_PRECISION_BITS
            );
            let bits: u64 = text
                .trim()
                .parse()
                .map_err(|_| bad("precision", text, requirement.clone()))?;
            Some(Precision::new(bits).map_err(|_| bad("precision", text, requirement))?)
        }
    };
    let high = || precision.unwrap_or_else(|| Precision::new(DEFAULT_HIGH_PRECISION).unwrap());
    let engine = options
        .engine
        .as_deref()
        .map(|e| e.trim().to_ascii_lowercase());
    match (engine.as_deref(), options.enclose) {
        (Some("mpfr"), true) => Err(bad(
            "engine",
            "mpfr",
            "enclosures (--enclose) are computed on the big engine; drop --engine mpfr",
        )),
        (Some("mpfr"), false) => {
            if cfg!(feature = "mpfr") {
                Ok(Engine::Mpfr(high()))
            } else {
                Err(bad(
                    "engine",
                    "mpfr",
                    "this build has no MPFR engine (rebuild with --features mpfr)",
                ))
            }
        }
        (Some("big") | None, true) => Ok(Engine::Enclose(high())),
        (Some("big"), false) => Ok(Engine::Big(high())),
        (None, false) => Ok(precision.map_or(Engine::F64, Engine::Big)),
        (Some(other), _) => Err(bad("engine", other, "expected 'big' or 'mpfr'")),
    }
}

fn read_policy(options: &EvalOptions) -> Result<(f64, OnDoubt), BadParameter> {
    let tol = match &options.rel_tol {
        None => critscale_real::prec::F64_CLOSED_FORM_REL,
        Some(text) => {
            let requirement = "must be a number in [1e-15, 0.1]";
            let tol: f64 = text
                .trim()
                .parse()
                .map_err(|_| bad("rel-tol", text, requirement))?;
            if !(1e-15..=0.1).contains(&tol) {
                return Err(bad("rel-tol", text, requirement));
            }
            tol
        }
    };
    let on_doubt = match options.on_doubt.as_deref().map(str::trim) {
        None | Some("escalate") => OnDoubt::Escalate,
        Some("refuse") => OnDoubt::Refuse,
        Some("off") => OnDoubt::Off,
        Some(other) => {
            return Err(bad(
                "on-doubt",
                other,
                "expected 'escalate', 'refuse' or 'off'",
            ));
        }
    };
    Ok((tol, on_doubt))
}

/// Runs `eval` as the command line asks.
pub fn run(args: &EvalArgs, options: &EvalOptions) -> Result<EvalReport, EvalError> {
    let engine = choose_engine(options)?;
    let (tol, on_doubt) = read_policy(options)?;
    match engine {
        Engine::F64 => run_f64(args, tol, on_doubt),
        Engine::Big(p) => Ok(evaluate::<BigReal>(&p, args)?),
        Engine::Enclose(p) => Ok(evaluate::<Interval>(&p, args)?),
        Engine::Mpfr(p) => run_mpfr(args, p),
    }
}

#[cfg(feature = "mpfr")]
fn run_mpfr(args: &EvalArgs, p: Precision) -> Result<EvalReport, EvalError> {
    Ok(evaluate::<critscale_real::MpfrReal>(&p, args)?)
}

#[cfg(not(feature = "mpfr"))]
fn run_mpfr(_: &EvalArgs, _: Precision) -> Result<EvalReport, EvalError> {
    unreachable!("choose_engine refuses mpfr in builds without the feature")
}

/// The `f64` path with the precision policy of the module docs.
fn run_f64(args: &EvalArgs, tol: f64, on_doubt: OnDoubt) -> Result<EvalReport, EvalError> {
    let params = read_params::<f64>(&(), args)?;
    let layer = SimplexLayer::evaluate(&params);
    let report = build_report(&(), &params, &layer);
    if on_doubt == OnDoubt::Off {
        return Ok(report);
    }
    let in_doubt = doubtful_f64_fields(args, &params, &layer, tol)?;
    if in_doubt.is_empty() {
        return Ok(report);
    }
    let fields = in_doubt.join(", ");
    if on_doubt == OnDoubt::Refuse {
        return Err(EvalError::Refused {
            fields,
            tolerance: format!("{tol:e}"),
        });
    }
    let mut bits = 128;
    loop {
        let p = Precision::new(bits).expect("escalation stays within the precision range");
        let enclosure = evaluate_enclosure(args, p)?;
        if all_tight(&enclosure, tol) || bits >= 4096 {
            let mut escalated = evaluate::<BigReal>(&p, args)?;
            escalated.backend = format!("{} (escalated from f64)", escalated.backend);
            escalated.warnings.push(format!(
                "f64 cannot vouch for {fields} to relative {tol:e} at this point; re-evaluated at {bits} bits"
            ));
            return Ok(escalated);
        }
        bits *= 2;
    }
}

fn evaluate_enclosure(
    args: &EvalArgs,
    p: Precision,
) -> Result<(SimplexParams<Interval>, SimplexLayer<Interval>), BadParameter> {
    let params = read_params::<Interval>(&p, args)?;
    let layer = SimplexLayer::evaluate(&params);
    Ok((params, layer))
}

/// Relative distance of `value` from the enclosure, and the enclosure's relative width, both
/// measured against the enclosure's magnitude (in `f64`: enough for a tolerance test).
fn relative_gap(value: f64, enclosure: &Interval) -> (f64, f64) {
    let (lo, hi) = (enclosure.lo_f64(), enclosure.hi_f64());
    let scale = lo.abs().max(hi.abs());
    if scale == 0.0 {
        return (value.abs(), 0.0);
    }
    let outside = (lo - value).max(value - hi).max(0.0);
    (outside / scale, (hi - lo) / scale)
}

fn all_tight(enclosure: &(SimplexParams<Interval>, SimplexLayer<Interval>), tol: f64) -> bool {
    numeric_outputs(&enclosure.0, &enclosure.1)
        .iter()
        .all(|item| {
            let target = match &item.ln_value {
                Some(ln) if !in_f64_range(&item.value) => ln,
                _ => &item.value,
            };
            let (lo, hi) = (target.lo_f64(), target.hi_f64());
            let scale = lo.abs().max(hi.abs());
            scale == 0.0 || (hi - lo) <= tol * scale
        })
}

/// True when a value's enclosure lies where `f64` carries full relative precision.
fn in_f64_range(value: &Interval) -> bool {
    let (lo, hi) = (value.lo_f64().abs(), value.hi_f64().abs());
    lo.min(hi) >= f64::MIN_POSITIVE && lo.max(hi) < f64::MAX
}

/// The outputs whose `f64` value is not within `tol` of a 128-bit enclosure from the decimal inputs.
fn doubtful_f64_fields(
    args: &EvalArgs,
    params: &SimplexParams<f64>,
    layer: &SimplexLayer<f64>,
    tol: f64,
) -> Result<Vec<&'static str>, BadParameter> {
    let approx = numeric_outputs(params, layer);
    let exact = evaluate_enclosure(args, Precision::new(128).expect("128 bits is valid"))?;
    let enclosures = numeric_outputs(&exact.0, &exact.1);
    let mut doubtful = Vec::new();
    for (f, e) in approx.iter().zip(&enclosures) {
        let fine = if e.value.is_normal() && in_f64_range(&e.value) && f.value.is_normal() {
            relative_gap(f.value, &e.value).0 <= tol
        } else {
            match (&f.ln_value, &e.ln_value) {
                // Out of f64's range: compare logarithms; |Δ ln x| is the relative error of x.
                (Some(f_ln), Some(e_ln)) => {
                    let (lo, hi) = (e_ln.lo_f64(), e_ln.hi_f64());
                    (lo - f_ln).max(f_ln - hi).max(0.0) <= tol
                }
                // A value exactly zero on both sides (κ at γ_c).
                _ => f.value == 0.0 && e.value.lo_f64() == 0.0 && e.value.hi_f64() == 0.0,
            }
        };
        if !fine {
            doubtful.push(f.name);
        }
    }
    Ok(doubtful)
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

    /// An aligned table for people: name, value, meaning.
    pub fn to_table(&self) -> String {
        let rows: Vec<(&str, String, &str)> = self
            .inputs
            .iter()
            .chain(&self.outputs)
            .map(|item| {
                let shown = match &item.value {
                    Value_::Number(text) => crate::text::human_decimal(text),
                    Value_::Word(text) => text.clone(),
                    Value_::Range(lo, hi) => format!("[{lo}, {hi}]"),
                };
                (item.name, shown, item.note)
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
