//! Why shards could not be read or merged.

use crate::ReportError;

/// Why shards could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A shard directory could not be read.
    #[error("cannot read shard {path}: {reason}")]
    Read {
        /// The directory.
        path: String,
        /// Why.
        reason: String,
    },
    /// The shards do not fit together.
    #[error("cannot merge: {0}")]
    Mismatch(String),
    /// A section failed.
    #[error(transparent)]
    Report(#[from] ReportError),
}
