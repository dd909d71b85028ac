//! The error type of the diagnosis.

use critscale_kernels::KernelError;
use critscale_kernels::memory::human;

/// Why a diagnosis could not run. Every variant names the offending token, value or limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiagnoseError {
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
    /// A token is the zero vector: it has no direction.
    #[error("token {row} is the zero vector and has no direction")]
    ZeroToken {
        /// Token index.
        row: usize,
    },
    /// Every token is a copy of every other: there is no pair to average λ or ρ̂ over.
    #[error(
        "all {n} tokens share one direction (1 - cos <= 1e-12 for every pair): lambda and rho_hat \
         need at least two distinct directions"
    )]
    OneDirection {
        /// Tokens given.
        n: usize,
    },
    /// A γ of the grid is not a finite positive number, or the grid is not strictly increasing.
    #[error("gamma grid: {reason}")]
    BadGrid {
        /// What is wrong.
        reason: String,
    },
    /// The n × n matrices would not fit in the memory the process may use (checked before they
    /// are allocated).
    #[error(
        "{what} for {units} distinct directions needs about {} but {limit_name} is {}",
        human(*need),
        human(*limit)
    )]
    TooMuchMemory {
        /// What needs the memory.
        what: &'static str,
        /// Distinct directions (the side of the matrices).
        units: usize,
        /// Bytes needed (estimate).
        need: u64,
        /// Bytes allowed.
        limit: u64,
        /// Which limit.
        limit_name: &'static str,
    },
    /// The kernels refused (allocation, or exact η's precision).
    #[error("{0}")]
    Kernel(#[from] KernelError),
}
