//! The error type of the fast path.

/// Why a kernel could not run. Every variant names the offending token, entry or parameter.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum KernelError {
    /// Fewer than two tokens or no coordinates.
    #[error("need at least 2 tokens of dimension at least 1, got an {n} x {d} token matrix")]
    BadShape {
        /// Rows given.
        n: usize,
        /// Columns given.
        d: usize,
    },
    /// A token entry is NaN or infinite.
    #[error("token {row} has a non-finite entry {value} in column {col}")]
    NonFinite {
        /// Token index.
        row: usize,
        /// Coordinate index.
        col: usize,
        /// The entry.
        value: f64,
    },
    /// A token is the zero vector, so y_i = x_i/|x_i| is undefined.
    #[error("token {row} is the zero vector and cannot be normalised")]
    ZeroToken {
        /// Token index.
        row: usize,
    },
    /// β or α is NaN or infinite.
    #[error("parameter {name} = {value} must be finite")]
    NonFiniteParam {
        /// `beta` or `alpha`.
        name: &'static str,
        /// The value given.
        value: f64,
    },
    /// Some x'_i = 0, so y'_i is undefined.
    #[error("output token {row} is the zero vector; its direction is undefined")]
    ZeroOutput {
        /// Token index.
        row: usize,
    },
    /// Every pair of tokens is a copy (1 − cos ≤ the copy tolerance,
    /// [`crate::observables::copy_tolerance`]): λ and λ_angle, means over the pairs that are not
    /// copies, are undefined.
    #[error(
        "all {n} tokens share one direction (every pair has 1 - cos <= {tolerance:.1e}, i.e. is a \
         copy), so lambda, a mean over pairs that are not copies, is undefined; give at least two \
         distinct directions"
    )]
    AllCopies {
        /// Number of tokens.
        n: usize,
        /// The copy tolerance on 1 − cos used.
        tolerance: f64,
    },
    /// Hutchinson's standard error needs at least two probes.
    #[error("need at least 2 Hutchinson probes, got {probes}")]
    TooFewProbes {
        /// Probes asked for.
        probes: usize,
    },
    /// A result overflowed (only for inputs near the largest finite value).
    #[error("the {what} is not finite (overflow)")]
    NonFiniteResult {
        /// Which quantity.
        what: &'static str,
    },
    /// The estimated memory of the work exceeds what the process may use (checked before any
    /// work, see [`crate::memory`]).
    #[error(
        "the computation needs about {} but {what} is {}",
        crate::memory::human(*need),
        crate::memory::human(*limit)
    )]
    TooMuchMemory {
        /// Bytes needed (estimate).
        need: u64,
        /// Bytes allowed.
        limit: u64,
        /// Which limit.
        what: &'static str,
    },
    /// A large buffer could not be allocated.
    #[error("cannot allocate {} for {what}", crate::memory::human(*bytes))]
    OutOfMemory {
        /// The buffer.
        what: &'static str,
        /// Its size.
        bytes: u64,
    },
    /// The rounding error of a result could exceed the accuracy it would be printed with.
    #[error(
        "{what} in {precision}: its rounding error could reach {bound:.1e} of its value at \
         beta = {beta:.4e} (the limit is {limit:.0e}), so it is not reported; lower beta{}",
        precision_hint(what, precision)
    )]
    PrecisionLoss {
        /// Which quantity.
        what: &'static str,
        /// `f64` or `f32`.
        precision: &'static str,
        /// The estimated relative error.
        bound: f64,
        /// The largest relative error accepted.
        limit: f64,
        /// β of the run.
        beta: f64,
    },
}

/// What to try instead when a result is refused for its precision.
fn precision_hint(what: &str, precision: &str) -> &'static str {
    match (precision, what) {
        ("f32", _) => " or use --dtype f64",
        (_, "exact eta") => " or use --eta hutchinson (its rounding grows like beta, not beta^2)",
        _ => "",
    }
}
