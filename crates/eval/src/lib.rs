//! The core of `critscale eval`: every simplex closed form at one parameter point, with the
//! precision policy that decides which digits may be printed.
//!
//! Parameters arrive as the text the user typed and are read by the chosen backend (so `1e100000`
//! or a 40-digit ρ keep what the backend can hold), validated by `SimplexParams::new`, evaluated
//! by `SimplexLayer::evaluate` and returned as an [`EvalReport`]: named decimal strings (or
//! enclosures) that the binary prints as a table or as JSON ([`EvalReport::to_json`]).
//!
//! # Precision policy
//!
//! In `f64` (the default) every result is checked against a rigorous enclosure computed from the
//! *decimal* inputs at 128 bits ([`critscale_real::Interval`]). When an `f64` value is not within the requested
//! relative tolerance (`--rel-tol`, default 1e-12) of the enclosure — cancellation, an
//! ill-conditioned point, or the rounding of the inputs to binary — `eval` says so on stderr and,
//! by default, **re-evaluates** the point with the big-float engine at the first precision of
//! 128, 256, 512, … bits whose enclosures are that tight (the 128-bit enclosures of the check
//! serve as the first step's, so they are computed once), and prints those values (the `backend`
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
//! ([`critscale_real::decimal_from_ln`]); with `--enclose` their enclosure is printed from an enclosure of the
//! logarithm, so its lower end stays positive. When the precision does not determine the
//! exponent and a digit of such a value, `eval` refuses with exit code 3 and names the precision
//! that would.
//!
//! # Layout
//!
//! [`read`] turns the typed text into validated parameters, [`report`] evaluates and renders the
//! numbers, [`vouch`] compares printed numbers with enclosures, and [`policy`] chooses the engine
//! and escalates.

#![warn(missing_docs)]

pub mod policy;
pub mod read;
pub mod report;
pub mod vouch;

pub use policy::{Engine, MAX_ESCALATION_BITS, OnDoubt, choose_engine, run};
pub use read::read_params;
pub use report::{Entry, EvalReport, Value_, evaluate};

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

/// The big-float engine asked for with `--engine`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineName {
    /// astro-float, pure Rust (the default).
    Big,
    /// MPFR through `rug` (builds with the feature `mpfr` only).
    Mpfr,
}

/// How `eval` computes: backend, precision, enclosures, and the `f64` precision policy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EvalOptions {
    /// `--precision BITS` (absent: `f64`); validated again by [`choose_engine`].
    pub precision: Option<u64>,
    /// `--engine big|mpfr` (absent: `big` when a precision is given).
    pub engine: Option<EngineName>,
    /// `--enclose`: rigorous [lo, hi] for every value.
    pub enclose: bool,
    /// `--rel-tol`: the relative accuracy `f64` must vouch for, in [[`MIN_REL_TOL`],
    /// [`MAX_REL_TOL`]].
    pub rel_tol: f64,
    /// `--on-doubt`: what to do when `f64` cannot vouch for a result.
    pub on_doubt: OnDoubt,
}

impl Default for EvalOptions {
    /// `f64` checked to [`critscale_real::prec::F64_CLOSED_FORM_REL`], escalating when in doubt.
    fn default() -> Self {
        EvalOptions {
            precision: None,
            engine: None,
            enclose: false,
            rel_tol: critscale_real::prec::F64_CLOSED_FORM_REL,
            on_doubt: OnDoubt::Escalate,
        }
    }
}

/// The smallest `--rel-tol`: a few units of `f64`'s roundoff.
pub const MIN_REL_TOL: f64 = 1e-15;
/// The largest `--rel-tol`.
pub const MAX_REL_TOL: f64 = 0.1;

/// A command-line parameter with a value outside its domain, or values that do not go together
/// (the user's fault, exit code 2). `eval` returns it, and the CLI uses it for every subcommand's
/// refusals, so that each is one line of the same shape.
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

impl BadParameter {
    /// A bad value for `--flag`.
    pub fn new(
        flag: impl Into<String>,
        value: impl Into<String>,
        requirement: impl Into<String>,
    ) -> Self {
        BadParameter {
            flag: flag.into(),
            value: value.into(),
            requirement: requirement.into(),
        }
    }
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
