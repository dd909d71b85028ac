//! The one error type of the crate: every degenerate input gets a variant that names what was wrong.

/// Why a fit or a search refused to give an answer.
///
/// Nothing in this crate returns a NaN or a silently wrong number for bad input: it returns one of
/// these, naming the argument, the index and the offending value where there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Fewer data points than the model (plus one degree of freedom for the error variance) needs.
    #[error("{what}: needs at least {needed} points, got {got}")]
    TooFewPoints {
        /// The fit or procedure.
        what: &'static str,
        /// Minimum number of points.
        needed: usize,
        /// Number given.
        got: usize,
    },
    /// Two inputs that must have one entry per data point differ in length.
    #[error("{what} has length {got}, expected {expected} (one per data point)")]
    LengthMismatch {
        /// The argument with the wrong length.
        what: &'static str,
        /// Its expected length.
        expected: usize,
        /// Its length.
        got: usize,
    },
    /// An input value is NaN or infinite.
    #[error("{what}[{index}] = {value} is not finite")]
    NonFinite {
        /// The argument.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A value that a logarithm is taken of (or that must be positive for another reason) is ≤ 0.
    #[error("{what}[{index}] = {value} must be > 0")]
    NonPositive {
        /// The argument.
        what: &'static str,
        /// Position of the value.
        index: usize,
        /// The value.
        value: f64,
    },
    /// A weight is not a finite positive number.
    #[error("weights[{index}] = {value}: weights must be finite and > 0")]
    BadWeight {
        /// Position of the weight.
        index: usize,
        /// The weight.
        value: f64,
    },
    /// A confidence level outside the open interval (0, 1).
    #[error("confidence level {value} must lie in the open interval (0, 1)")]
    BadLevel {
        /// The level given.
        value: f64,
    },
    /// The design matrix of a least-squares problem has (numerically) dependent columns, so the
    /// coefficients are not identified (e.g. all n equal in a power-law fit).
    #[error("{what}: design matrix is singular (condition number {condition:e})")]
    Singular {
        /// The fit.
        what: &'static str,
        /// Ratio of the largest to the smallest singular value of the column-scaled design
        /// (infinite for an exactly rank-deficient design).
        condition: f64,
    },
    /// The observable does not cross the level anywhere on the scan grid or bracket.
    #[error(
        "no crossing of level {level} in [{lo}, {hi}]: f({lo}) = {f_lo}, f({hi}) = {f_hi}, \
         f ranges over [{f_min}, {f_max}] on the {points} scanned points"
    )]
    NoCrossing {
        /// The level.
        level: f64,
        /// Left end of the bracket or grid.
        lo: f64,
        /// Right end of the bracket or grid.
        hi: f64,
        /// f(lo).
        f_lo: f64,
        /// f(hi).
        f_hi: f64,
        /// Smallest f seen on the scan.
        f_min: f64,
        /// Largest f seen on the scan.
        f_max: f64,
        /// Number of points evaluated.
        points: usize,
    },
    /// More than one crossing on the scan grid where a unique one was required.
    #[error("{} crossings of level {level} on the scan grid, in the cells {brackets:?}", brackets.len())]
    MultipleCrossings {
        /// The level.
        level: f64,
        /// Every grid cell `(x_i, x_{i+1})` with a sign change, and `(x_i, x_i)` for an exact hit.
        brackets: Vec<(f64, f64)>,
    },
    /// The observable returned NaN or ±∞.
    #[error("observable is not finite at x = {x}: f(x) = {value}")]
    ObservableNotFinite {
        /// Where it was evaluated.
        x: f64,
        /// What it returned.
        value: f64,
    },
    /// A scan grid that is too short, not strictly increasing, or not finite.
    #[error("bad scan grid: {reason}")]
    BadGrid {
        /// What is wrong with it.
        reason: String,
    },
    /// A scalar parameter outside its valid range.
    #[error("{what} = {value} is invalid: must be {valid}")]
    BadParameter {
        /// The parameter.
        what: &'static str,
        /// Its value.
        value: f64,
        /// The valid range, in words.
        valid: &'static str,
    },
    /// A result that cannot be represented in f64 (e.g. C = e^{log C} overflowing).
    #[error("the fitted {what} = {value} is outside the f64 range ({hint})")]
    OutOfRange {
        /// The quantity.
        what: &'static str,
        /// Its (non-finite) value.
        value: f64,
        /// What to use instead.
        hint: &'static str,
    },
}

/// The crate's result type.
pub type Result<T> = std::result::Result<T, Error>;
