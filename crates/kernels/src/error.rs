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
    /// Two tokens have exactly the same direction: λ's term (1 − cos')/(1 − cos) is 0/0.
    #[error("tokens {i} and {j} have the same direction, so lambda is undefined (0/0)")]
    DuplicateDirection {
        /// First token (the smaller index).
        i: usize,
        /// Second token.
        j: usize,
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
}
