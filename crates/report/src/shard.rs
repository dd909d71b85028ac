//! Sharded runs: `report --shard i/N` computes a fixed share of the expensive work, and
//! `report merge` turns the shards into the same report as one unsharded run.
//!
//! **Units.** The expensive work is a list of units in one global order that depends only on the
//! budget and the claim filter ([`units`]): the rows of the Gaussian grid (one (d, ρ) row each, all
//! γ), then the claims in registry order. Unit k (counting from 0) belongs to shard
//! `k mod N + 1`, so the split never depends on the machine or the thread count. The closed-form
//! sections (simplex phase diagram, certificates, scaling rules, rate plots) take seconds; `merge`
//! recomputes them instead of shipping them.
//!
//! **Shard directory.** `report --shard i/N --out DIR` writes, through the same safe write as a
//! report, a directory with the marker [`SHARD_MARKER`] (so it is never mistaken for a report)
//! and [`SHARD_FILE`]: the shard index and count, budget, claim filter, git revision, host, and
//! for each of its units the key and the raw result with every `f64` in its shortest round-trip
//! decimal form (`critscale_sweeps::exact`): nothing is rounded before the merge. The marker holds the manifest
//! of the directory ([`crate::write::Manifest`]), i.e. the size and SHA-256 of [`SHARD_FILE`]:
//! the shard's checksum.
//!
//! **Reading** ([`read_shard`], [`parse_shard`]) verifies the checksum, then checks every value
//! against its meaning ([`check_values`]: λ in [0, 1], η finite and ≥ 0, …) and judges each
//! claim's evidence again with the theorems' verdict rule; a shard whose stored verdict differs
//! is refused. Every refusal is one line naming the shard file (exit code 2 in the CLI).
//!
//! **Merge.** `merge` checks that the shards agree on N, budget, filter and git revision (and that
//! the revision is the merging build's own), that every index 1..=N is present once and that
//! together they hold every unit exactly once, with the expected keys. It then builds the same
//! [`crate::Sections`] an unsharded run builds and hands them to the same [`crate::artifacts`]: rounding
//! and layout happen only there, so the data files and figures are byte-identical to those of an
//! unsharded run (tested in `tests/report.rs` of the workspace suite). `timings.json` lists each
//! shard's wall time and host.

mod check;
mod error;
mod merge;
mod run;
mod spec;

pub use check::{check_claim_row, check_gaussian_row, check_values, parse_shard, read_shard};
pub use error::MergeError;
pub use merge::{check_shards, merge};
pub use run::{ShardRun, UnitResult, compute_shard, host_name};
pub use spec::{ShardSpec, Unit, unit_key, units};

/// The marker of a shard directory and its text (defined with the report's marker in
/// [`crate::write`], which writes and replaces both kinds of directories).
pub use crate::write::{SHARD_MARKER, SHARD_MARKER_TEXT};
/// The results file of a shard directory.
pub const SHARD_FILE: &str = "shard.json";
/// Version of the shard file layout (2: a claim's outcome is `critscale_theorems::Evidence` as
/// serde writes it; 3: the evidence carries its negative controls).
pub const FORMAT: u64 = 3;

#[cfg(test)]
mod tests;
