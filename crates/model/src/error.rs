//! The errors of the reference model.
//!
//! Every message names the offending parameter or token, the value it had and the range that is
//! valid, so that a caller can print it as is. Values are stored as strings (in the backend's
//! scientific notation) so that the error type does not depend on the scalar type.

/// Why an input to the reference model was rejected, or why a result does not exist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The token matrix (or another array) has a shape the computation cannot use.
    #[error("bad shape: {what} is {n} x {d}; {expected}")]
    BadShape {
        /// Which array.
        what: &'static str,
        /// Its number of rows (tokens).
        n: usize,
        /// Its number of columns (dimension).
        d: usize,
        /// The shape that is needed.
        expected: String,
    },

    /// A token is the zero vector, so the pre-layer norm y_i = x_i / |x_i| is undefined.
    #[error("token x_{row} is the zero vector; the pre-layer norm x_i / |x_i| needs |x_i| > 0")]
    ZeroToken {
        /// The index of the token.
        row: usize,
    },

    /// A token entry is NaN or infinite.
    #[error(
        "token entry x[{row}][{col}] = {value} is not finite; every entry must be a finite real"
    )]
    NonFinite {
        /// The token.
        row: usize,
        /// The coordinate.
        col: usize,
        /// The value found.
        value: String,
    },

    /// A scalar parameter is NaN or infinite.
    #[error("parameter {name} = {value} is not finite; it must be a finite real")]
    NonFiniteParam {
        /// The parameter (`"beta"`, `"alpha"`, `"rho"`, `"q"`, ...).
        name: &'static str,
        /// The value found.
        value: String,
    },

    /// The simplex of n tokens needs n linearly independent directions.
    #[error(
        "a simplex of n = {n} tokens needs dimension d >= n (its Gram matrix has rank n), got d = {d}"
    )]
    SimplexNeedsDim {
        /// Number of tokens.
        n: usize,
        /// Dimension given.
        d: usize,
    },

    /// The pairwise cosine of a simplex is outside the range where its Gram matrix is positive
    /// definite.
    #[error(
        "rho = {rho} is outside the open interval (-1/(n-1), 1) = ({lower}, 1) where a simplex of \
         n = {n} tokens exists"
    )]
    RhoOutOfRange {
        /// The value given.
        rho: String,
        /// −1/(n−1), the lower end of the valid range.
        lower: String,
        /// Number of tokens.
        n: usize,
    },

    /// A squared norm that must be positive is not.
    #[error("q = {q} (the squared token norm) must be > 0")]
    QOutOfRange {
        /// The value given.
        q: String,
    },

    /// An output x'_i of the layer is the zero vector, so y'_i = x'_i / |x'_i| is undefined.
    #[error(
        "output x'_{row} = sum_j A_ij y_j + alpha x_{row} is the zero vector; the output direction \
         y'_{row} = x'_{row} / |x'_{row}| is undefined"
    )]
    ZeroOutput {
        /// The index of the token.
        row: usize,
    },

    /// A computed quantity overflowed or became NaN (only possible for parameters near the
    /// overflow threshold of the backend).
    #[error(
        "{what} of row {row} is not finite (overflow); reduce |beta|, |alpha| or the token norms"
    )]
    NonFiniteResult {
        /// Which quantity.
        what: &'static str,
        /// The token (row) it belongs to.
        row: usize,
    },

    /// Two tokens have the same direction, so the ratio (1 − cos'_ij) / (1 − cos_ij) in λ is 0/0.
    #[error(
        "tokens {i} and {j} have the same direction (|y_{i} - y_{j}| = 0), so lambda = mean of \
         (1 - cos'_ij) / (1 - cos_ij) is undefined; lambda needs pairwise distinct directions"
    )]
    DuplicateDirection {
        /// The first token of the pair.
        i: usize,
        /// The second token of the pair.
        j: usize,
    },

    /// A Monte-Carlo estimate needs at least two samples for its standard error.
    #[error("probes = {probes}: the Hutchinson estimator needs probes >= 2 for a standard error")]
    TooFewProbes {
        /// The number of probes asked for.
        probes: usize,
    },
}
