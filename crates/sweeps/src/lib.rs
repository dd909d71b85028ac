//! Generate a configuration and measure it: the one place where critscale draws tokens, runs the
//! fast kernels over a sweep of γ, and locates crossings. The theorem checks (`critscale-theorems`,
//! T2, T4, T5) and the report's Figures 1–2 and phase diagram (`critscale-report`) call this crate;
//! they do not draw or bisect themselves.
//!
//! * [`seed`] — **the seed policy** (below): every sample is named by a [`SampleKey`]
//!   (tag, n, d, ρ, seed) and drawn from its own ChaCha stream.
//! * [`sample`] — the Gaussian almost-simplex pipeline: tokens → one attention layer (fast
//!   kernels) → observables, as one [`Sample`] type; a documented memo of samples shared by the
//!   theorem checks; λ = ½ crossings on one configuration.
//! * [`gaussian`] — the (d, ρ, γ) grid of the paper's Figures 1 and 2: rows, crossings and fits.
//! * [`phase`] — the simplex phase grid from the closed forms (λ over (ρ, γ/γ_c) at several n).
//! * [`simplex`] — λ of the exact simplex and its level crossings.
//! * [`clusters`] — clustered Gaussian configurations (groups of m tokens, e.g. near-copy pairs; no
//!   simplex limit) and the λ of their two-level limit: the control of `T2.threshold.large_d`.
//! * [`repeats`] — contexts with repeated tokens (copies or near-copies of Gaussian directions)
//!   and the exact self mass of their rows, with its crossing of ½: the `T6` claims.
//! * [`support`] — the effective support predicted from per-row cosine cumulants (T5), and a
//!   two-cluster configuration without a simplex limit.
//! * [`exact`] — the exact, non-finite-safe JSON encoding of `f64` (a `serde(with = …)` module).
//! * [`memo`] — a small keyed once-cache for values shared between callers.
//!
//! Every crossing goes through one bisection, `critscale_asymptotics::threshold` (scan, then
//! bisect a sign-change cell).
//!
//! # Seed policy
//!
//! A sample is named by its key (tag, n, d, ρ, seed): `tag` names the experiment family (e.g.
//! `"T2"`, `"gaussian-grid"`), n and d its shape, ρ its nominal mean cosine and `seed` the
//! replicate. The key is hashed with SHA-256 (a domain prefix, then the tag's length and bytes, n,
//! d, the bits of ρ and the seed, all as little-endian `u64`; [`seed::stream_seed`]); the first 8
//! bytes of the digest seed the ChaCha8 stream of
//! `critscale_model::gaussian_almost_simplex` (`seed_from_u64`). Consequences:
//!
//! * two different keys never share a stream (up to a 2⁻⁶⁴ collision of the hash), so the
//!   n = 512 sample does **not** contain the n = 256 sample of the same seed, and fits over n use
//!   independent points;
//! * a sample depends on nothing but its key: not on the order of computation, the thread count
//!   or which other samples were drawn;
//! * the same configuration is reused only on purpose, by asking for the same key (e.g. every γ of
//!   one Gaussian grid row, or the bisection of λ = ½ on one sample).
//!
//! # Errors
//!
//! Every function returns the typed [`Error`]; none panics on a bad grid or parameter.

#![warn(missing_docs)]

pub mod clusters;
pub mod exact;
pub mod gaussian;
pub mod memo;
pub mod phase;
pub mod repeats;
pub mod sample;
pub mod seed;
pub mod simplex;
pub mod support;

pub use memo::Memo;
pub use sample::{Configuration, Gamma, Sample};
pub use seed::SampleKey;

/// The level of λ that defines the transition γ*: λ = ½ (THEORY §5).
pub const LAMBDA_HALF: f64 = 0.5;

/// The instruction set the fast kernels dispatch to on this CPU (for provenance).
pub fn kernels_isa() -> &'static str {
    critscale_kernels::simd::dispatched_isa()
}

/// What can go wrong in a sweep.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A grid or parameter the sweep cannot use; `what` names it.
    #[error("{what}: {reason}")]
    BadInput {
        /// Which input.
        what: String,
        /// Why it is refused.
        reason: String,
    },
    /// The fast kernels refused or failed; `what` names the sample and γ.
    #[error("{what}: {message}")]
    Kernel {
        /// Where.
        what: String,
        /// The kernels' error.
        message: String,
    },
    /// The simplex closed forms refused a point.
    #[error("{what}: {message}")]
    Simplex {
        /// Where.
        what: String,
        /// The closed forms' error.
        message: String,
    },
    /// A crossing search failed (no sign change in the bracket, a non-finite observable, …).
    #[error("{what}: {source}")]
    Crossing {
        /// Which crossing.
        what: String,
        /// The threshold search's error.
        source: critscale_asymptotics::Error,
    },
    /// Rows that do not fit together (missing, out of order, computed for another grid).
    #[error("gaussian: {0}")]
    Rows(String),
}

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
