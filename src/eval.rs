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
//!
//! The check is made on what is *printed*: every numeric field, inputs such as γ = β / log n
//! included, is read back from its decimal string and must lie within the tolerance of every
//! point of its enclosure (values outside `f64`'s range are printed from their logarithm and
//! compared in the log domain, where an absolute error is a relative one). The escalated values
//! pass the same check against an enclosure at their own precision; when even 8192 bits cannot
//! vouch for them, `eval` refuses (exit code 3) instead of printing them.
//!
//! With `--precision` (the big engines) every number is cut to the significant digits that an
//! enclosure at the same precision vouches for, so that the rounding of the decimal inputs (ρ =
//! 0.999999 at β = 1e50 moves 1 − λ by 3e-28 relative at 256 bits) never shows as wrong digits.
//!
//! # Values outside the backend's range
//!
//! Quantities that can underflow (the self weight, λ, 1 − λ, 1 − cos_out, λ_angle) are carried
//! with their logarithm and printed from it with an exact decimal exponent
//! ([`decimal_from_ln`]); with `--enclose` their enclosure is printed from an enclosure of the
//! logarithm, so its lower end stays positive. When the precision does not determine the
//! exponent and a digit of such a value, `eval` refuses with exit code 3 and names the precision
//! that would.

use critscale_real::decimal::{Direction, round_sci};
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
    /// The escalation reached its largest precision without vouching (exit 3).
    #[error(
        "even {bits} bits cannot vouch for {fields} to relative {tolerance} at this point (too ill-conditioned); loosen --rel-tol or use --precision/--enclose"
    )]
    Unvouched {
        /// The results in doubt.
        fields: String,
        /// The tolerance asked for.
        tolerance: String,
        /// The largest precision tried.
        bits: u64,
    },
    /// A result cannot be printed at this precision (exit 3): its decimal exponent and a digit are
    /// not determined, or it underflows the backend's range.
    #[error("{backend} cannot print {fields} at this point: {remedy}")]
    Unprintable {
        /// The backend.
        backend: String,
        /// The results concerned.
        fields: String,
        /// What would help.
        remedy: String,
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

/// Why a point could not be read: text that is not a number, or a number outside the domain.
enum ReadError {
    Text(BadParameter),
    Domain(critscale_simplex::InvalidParameter),
}

/// Parses and validates the point on backend `T`, without explaining rounding.
fn read_point<T: Real>(ctx: &T::Ctx, args: &EvalArgs) -> Result<SimplexParams<T>, ReadError> {
    let n: T = parse(ctx, "n", &args.n).map_err(ReadError::Text)?;
    let rho: T = parse(ctx, "rho", &args.rho).map_err(ReadError::Text)?;
    let scaling = match (&args.gamma, &args.beta) {
        (Some(_), Some(beta)) => {
            return Err(ReadError::Text(bad(
                "beta",
                beta,
                "give either --gamma or --beta, not both",
            )));
        }
        (Some(gamma), None) if is_critical_keyword(gamma) => Scaling::Critical,
        (Some(gamma), None) => Scaling::Gamma(parse(ctx, "gamma", gamma).map_err(ReadError::Text)?),
        (None, Some(beta)) => Scaling::Beta(parse(ctx, "beta", beta).map_err(ReadError::Text)?),
        (None, None) => {
            return Err(ReadError::Text(bad(
                "gamma",
                "",
                "give --gamma (a positive number, or 'crit' for 1/(1-rho)) or --beta",
            )));
        }
    };
    let alpha: T = parse(ctx, "alpha", &args.alpha).map_err(ReadError::Text)?;
    let q: T = parse(ctx, "q", &args.q).map_err(ReadError::Text)?;
    let d: Option<T> = args
        .d
        .as_deref()
        .map(|d| parse(ctx, "d", d))
        .transpose()
        .map_err(ReadError::Text)?;
    SimplexParams::new(n, rho, scaling, alpha, q, d).map_err(ReadError::Domain)
}

/// Precisions tried when a value is invalid on the chosen backend, to tell rounding (the value
/// is valid, the backend cannot hold it) from a value that is invalid in itself.
const EXPLAIN_PRECISIONS: [u64; 4] = [128, 1024, 8192, 65536];

/// Reads and validates the point on backend `T`.
///
/// A value that is invalid only because the backend rounds it (ρ = 1 − 1e-30 is 1 in `f64`,
/// n = 1e400 is ∞) is reported as such, with the `--precision` that holds it.
pub fn read_params<T: Real>(
    ctx: &T::Ctx,
    args: &EvalArgs,
) -> Result<SimplexParams<T>, BadParameter> {
    let invalid = match read_point::<T>(ctx, args) {
        Ok(params) => return Ok(params),
        Err(ReadError::Text(bad)) => return Err(bad),
        Err(ReadError::Domain(invalid)) => invalid,
    };
    let own_bits = (T::significant_digits(ctx) as f64 / std::f64::consts::LOG10_2) as u64;
    let holds = EXPLAIN_PRECISIONS
        .into_iter()
        .filter(|&bits| bits > own_bits + 8)
        .find(|&bits| {
            let p = Precision::new(bits).expect("explanation precisions are in range");
            read_point::<BigReal>(&p, args).is_ok()
        });
    let mut bad = bad_parameter(args, invalid.clone());
    if let Some(bits) = holds {
        bad.requirement = format!(
            "{} cannot represent it distinctly (it rounds to {}, and {} {}); the value itself is valid: rerun with --precision {bits} or more",
            T::backend_name(ctx),
            invalid.value,
            invalid.name,
            invalid.requirement
        );
    }
    Err(bad)
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

/// A printed number: its value and, where it may leave the backend's range, its logarithm.
struct Numeric<T> {
    name: &'static str,
    value: T,
    ln_value: Option<T>,
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

fn numeric_outputs<T: Real>(params: &SimplexParams<T>, layer: &SimplexLayer<T>) -> Vec<Numeric<T>> {
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

fn input_numerics<T: Real>(params: &SimplexParams<T>) -> Vec<Numeric<T>> {
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
type Unprintable = Vec<(&'static str, Option<f64>)>;

/// The exit-3 error for numbers a backend cannot print, with the precision that would.
fn unprintable_error<T: Real>(ctx: &T::Ctx, unprintable: &Unprintable) -> EvalError {
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
fn build_report<T: Real>(
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
        Engine::Big(p) => run_big::<BigReal>(args, p),
        Engine::Enclose(p) => evaluate::<Interval>(&p, args),
        Engine::Mpfr(p) => run_mpfr(args, p),
    }
}

/// A big engine at precision `p`, its numbers cut to the digits an enclosure at `p` vouches for.
fn run_big<T: Real<Ctx = Precision>>(
    args: &EvalArgs,
    p: Precision,
) -> Result<EvalReport, EvalError> {
    let mut report = evaluate::<T>(&p, args)?;
    let enclosures = enclose(args, p.bits() as u64)?;
    let hopeless = trim_to_enclosure(&mut report, &enclosures);
    if !hopeless.is_empty() {
        return Err(EvalError::Unprintable {
            backend: T::backend_name(&p),
            fields: hopeless.join(", "),
            remedy: format!(
                "not one digit is determined at this point (ill-conditioned); rerun with --precision {} or more",
                2 * p.bits()
            ),
        });
    }
    Ok(report)
}

#[cfg(feature = "mpfr")]
fn run_mpfr(args: &EvalArgs, p: Precision) -> Result<EvalReport, EvalError> {
    run_big::<critscale_real::MpfrReal>(args, p)
}

#[cfg(not(feature = "mpfr"))]
fn run_mpfr(_: &EvalArgs, _: Precision) -> Result<EvalReport, EvalError> {
    unreachable!("choose_engine refuses mpfr in builds without the feature")
}

/// The largest precision the `f64` policy escalates to before refusing.
pub const MAX_ESCALATION_BITS: u64 = 8192;

/// The precision of the enclosure `f64` results are checked against.
const CHECK_BITS: u64 = 128;

/// The `f64` path with the precision policy of the module docs.
fn run_f64(args: &EvalArgs, tol: f64, on_doubt: OnDoubt) -> Result<EvalReport, EvalError> {
    let params = read_params::<f64>(&(), args)?;
    let layer = SimplexLayer::evaluate(&params);
    let report = build_report(&(), &params, &layer);
    if on_doubt == OnDoubt::Off {
        return report.map_err(|unprintable| unprintable_error::<f64>(&(), &unprintable));
    }
    let check = enclose(args, CHECK_BITS)?;
    let in_doubt = match &report {
        Ok(report) => doubtful_fields(report, &check, tol),
        Err(unprintable) => unprintable.iter().map(|(name, _)| *name).collect(),
    };
    if let (Ok(report), true) = (report, in_doubt.is_empty()) {
        return Ok(report);
    }
    let fields = in_doubt.join(", ");
    let tolerance = format!("{tol:e}");
    if on_doubt == OnDoubt::Refuse {
        return Err(EvalError::Refused { fields, tolerance });
    }
    let mut bits = CHECK_BITS;
    while bits <= MAX_ESCALATION_BITS {
        let p = Precision::new(bits).expect("escalation stays within the precision range");
        let enclosure = enclose(args, bits)?;
        // A precision that cannot print a value (its exponent not yet fixed) is skipped.
        if let Ok(mut escalated) = evaluate::<BigReal>(&p, args)
            && doubtful_fields(&escalated, &enclosure, tol).is_empty()
        {
            // Vouched to `tol`; print no digit beyond what the enclosure vouches for.
            trim_to_enclosure(&mut escalated, &enclosure);
            escalated.backend = format!("{} (escalated from f64)", escalated.backend);
            escalated.warnings.push(format!(
                "f64 cannot vouch for {fields} to relative {tolerance} at this point; re-evaluated at {bits} bits"
            ));
            return Ok(escalated);
        }
        bits *= 2;
    }
    Err(EvalError::Unvouched {
        fields,
        tolerance,
        bits: MAX_ESCALATION_BITS,
    })
}

/// The numbers of a point as enclosures at `bits`, computed from the decimal inputs.
fn enclose(args: &EvalArgs, bits: u64) -> Result<Vec<Numeric<Interval>>, BadParameter> {
    let p = Precision::new(bits).expect("check precisions are in range");
    let params = read_params::<Interval>(&p, args)?;
    let layer = SimplexLayer::evaluate(&params);
    let mut all = input_numerics(&params);
    all.extend(numeric_outputs(&params, &layer));
    Ok(all)
}

/// The printed numbers of `report` that are not within relative `tol` of every point of their
/// enclosure (each is read back from its decimal text, so the check covers the printing too).
fn doubtful_fields(
    report: &EvalReport,
    enclosures: &[Numeric<Interval>],
    tol: f64,
) -> Vec<&'static str> {
    let mut doubtful = Vec::new();
    for entry in report.inputs.iter().chain(&report.outputs) {
        let Value_::Number(text) = &entry.value else {
            continue;
        };
        let vouched = enclosures
            .iter()
            .find(|e| e.name == entry.name)
            .is_some_and(|e| vouches(text, e, tol, absolute_scale(entry.name, enclosures)));
        if !vouched {
            doubtful.push(entry.name);
        }
    }
    doubtful
}

/// For differences whose value may be 0 exactly, the scale their error is measured against:
/// κ = γ(1 − ρ) − 1 against its larger term max(1, γ(1 − ρ)), cos_out against 1. `None`:
/// relative to the value itself.
fn absolute_scale(name: &str, enclosures: &[Numeric<Interval>]) -> Option<f64> {
    match name {
        "kappa" => {
            let kappa = enclosures.iter().find(|e| e.name == "kappa")?;
            Some((kappa.value.hi_f64().abs() + 1.0).max(1.0))
        }
        "cos_out" => Some(1.0),
        _ => None,
    }
}

/// True when the decimal `text` is within relative `tol` of every value the enclosure allows
/// (within `tol·scale` when an absolute scale is given).
fn vouches(text: &str, enclosure: &Numeric<Interval>, tol: f64, scale: Option<f64>) -> bool {
    let value = &enclosure.value;
    let Some((mantissa, exponent)) = text.split_once(['e', 'E']) else {
        return false;
    };
    let digits = |s: &str| s.trim_start_matches(['-', '+']).len() as u64;
    // Enough bits to read the mantissa and the exponent exactly, and 64 beyond the tolerance.
    let bits = (64 + 4 * (digits(mantissa) + digits(exponent)) + 128)
        .min(critscale_real::big::MAX_PRECISION_BITS as u64);
    let Ok(p) = Precision::new(bits) else {
        return false;
    };
    let Ok(m) = BigReal::parse_decimal(&p, mantissa) else {
        return false;
    };
    if let Some(scale) = scale {
        return BigReal::parse_decimal(&p, text)
            .is_ok_and(|x| value.within_absolute(&x, tol * scale));
    }
    if m == BigReal::zero(&p) {
        // Only an exact zero is printed as zero (κ at γ = γ_c).
        return value.lo().is_zero() && value.hi().is_zero();
    }
    if value.is_normal() {
        return BigReal::parse_decimal(&p, text).is_ok_and(|x| value.vouches_for(&x, tol));
    }
    // Outside the range: compare logarithms; |Δ ln x| ≤ ln(1 + tol) bounds the relative error.
    let (Some(ln), Ok(k)) = (&enclosure.ln_value, BigReal::parse_decimal(&p, exponent)) else {
        return false;
    };
    if m < BigReal::zero(&p) {
        return false;
    }
    let ln_printed = m.ln() + &(k * &BigReal::from_f64(&p, 10.0).ln());
    ln.within_absolute(&ln_printed, tol.ln_1p())
}

/// An upper bound on the relative error of the printed `text` over every value its enclosure
/// allows (through the logarithm outside the range); `None` when the enclosure cannot bound it
/// relatively (it contains 0) or the text is not a number.
fn relative_error_bound(text: &str, enclosure: &Numeric<Interval>) -> Option<f64> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let digits = |s: &str| s.trim_start_matches(['-', '+']).len() as u64;
    let bits = (64 + 4 * (digits(mantissa) + digits(exponent)) + 128)
        .min(critscale_real::big::MAX_PRECISION_BITS as u64);
    let p = Precision::new(bits).ok()?;
    if enclosure.value.is_normal() {
        return enclosure
            .value
            .relative_distance(&BigReal::parse_decimal(&p, text).ok()?);
    }
    let ln = enclosure.ln_value.as_ref()?;
    let m = BigReal::parse_decimal(&p, mantissa).ok()?;
    let k = BigReal::parse_decimal(&p, exponent).ok()?;
    if m <= BigReal::zero(&p) {
        return None;
    }
    let ln_printed = m.ln() + &(k * &BigReal::from_f64(&p, 10.0).ln());
    // |Δ ln x| = δ gives a relative error e^δ − 1.
    ln.absolute_distance(&ln_printed).map(f64::exp_m1)
}

/// `text` (`m e k`, k an integer of any length) rounded to nearest at `digits` significant
/// digits: the mantissa is rounded alone and a carry (9.99 → 1e1) is added to k exactly.
fn round_to_digits(text: &str, digits: usize) -> Option<String> {
    let (mantissa, exponent) = text.split_once(['e', 'E'])?;
    let rounded = round_sci(mantissa, digits, Direction::Nearest)?;
    let (rounded, carry) = rounded.split_once('e')?;
    let carry: i64 = carry.parse().ok()?;
    if carry == 0 {
        return Some(format!("{rounded}e{exponent}"));
    }
    let p = Precision::new(128 + 4 * exponent.len() as u64).ok()?;
    let k = BigReal::parse_decimal(&p, exponent).ok()? + &BigReal::from_i64(&p, carry);
    Some(format!("{rounded}e{}", critscale_real::integer_decimal(&k)))
}

/// Cuts every printed number of a big-engine report to the significant digits its enclosure at
/// the same precision vouches for (error below one unit of the last digit kept, after one guard
/// digit), so that no digit is printed that the rounding of the inputs or of the arithmetic may
/// have changed. Numbers whose enclosure contains 0 (κ at γ_c from a decimal γ) keep their text.
/// Returns the names of numbers of which not even one digit is vouched.
fn trim_to_enclosure(
    report: &mut EvalReport,
    enclosures: &[Numeric<Interval>],
) -> Vec<&'static str> {
    let mut hopeless = Vec::new();
    for entry in report.inputs.iter_mut().chain(report.outputs.iter_mut()) {
        let Value_::Number(text) = &entry.value else {
            continue;
        };
        let Some(enclosure) = enclosures.iter().find(|e| e.name == entry.name) else {
            continue;
        };
        let Some(bound) = relative_error_bound(text, enclosure) else {
            continue;
        };
        if bound == 0.0 {
            continue;
        }
        let vouched = (-bound.log10()).floor() as i64 - 1;
        if vouched < 1 {
            hopeless.push(entry.name);
            continue;
        }
        let shown = text.split_once(['e', 'E']).map_or(text.len(), |(m, _)| {
            m.chars().filter(char::is_ascii_digit).count()
        });
        if (vouched as usize) < shown
            && let Some(cut) = round_to_digits(text, vouched as usize)
        {
            entry.value = Value_::Number(cut);
        }
    }
    hopeless
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_carries_into_exponents_of_any_length() {
        assert_eq!(
            round_to_digits("9.996e-123456789012345678901", 3).unwrap(),
            "1e-123456789012345678900"
        );
        assert_eq!(round_to_digits("1.23456e7", 3).unwrap(), "1.23e7");
        assert_eq!(round_to_digits("-9.96e0", 2).unwrap(), "-1e1");
    }

    #[test]
    fn values_the_backend_rounds_out_of_range_are_named_as_rounding() {
        let args = EvalArgs {
            n: "10".to_owned(),
            rho: "0.999999999999999999999999999999".to_owned(),
            gamma: Some("1".to_owned()),
            alpha: "0".to_owned(),
            q: "1".to_owned(),
            ..EvalArgs::default()
        };
        let bad = read_params::<f64>(&(), &args).unwrap_err();
        assert_eq!(bad.flag, "rho");
        assert!(bad.requirement.contains("--precision 128"), "{bad}");
        // Valid at 128 bits, and invalid in itself at 1 exactly.
        assert!(read_params::<BigReal>(&Precision::new(128).unwrap(), &args).is_ok());
        let one = EvalArgs {
            rho: "1".to_owned(),
            ..args
        };
        let bad = read_params::<f64>(&(), &one).unwrap_err();
        assert!(!bad.requirement.contains("--precision"), "{bad}");
    }
}
