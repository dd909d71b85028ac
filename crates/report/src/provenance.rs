//! Provenance: what produced the report.
//!
//! * `git_revision`, `git_dirty` — the commit of the checkout the binary was built from and
//!   whether it had uncommitted changes (`git rev-parse HEAD`, `git status --porcelain`, run by
//!   `build.rs` at build time, so they hold wherever the binary runs); `unknown` when the build
//!   had no git or no repository.
//! * `rustc` — the compiler that built this crate (recorded by `build.rs`).
//! * crate versions — `CARGO_PKG_VERSION` of this crate (all workspace crates share it), and the
//!   locked versions of the main dependencies (numerics, kernels, fits, figures; `build.rs`).
//! * `kernels_dispatch` — the instruction set the SIMD kernels dispatch to on this CPU
//!   (`critscale_sweeps::kernels_isa`), and the target triple parts.
//! * the budget, grids and seeds.
//!
//! These are the same for two runs of one build on one machine and checkout, so `provenance.json`
//! and `report.md` are byte-identical between such runs; across machines they differ (and the
//! data files under `data/` do not). The thread count and wall times go to `timings.json`.

use crate::Budget;
use serde_json::{Value, json};

/// The machine-dependent facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `git rev-parse HEAD` of the build's checkout, or `unknown`.
    pub git_revision: String,
    /// Whether the build's checkout had uncommitted changes (None: unknown).
    pub git_dirty: Option<bool>,
    /// `rustc --version` of the build.
    pub rustc: String,
    /// The kernels' instruction set.
    pub kernels_dispatch: String,
    /// `arch-os`.
    pub target: String,
    /// The font family of the PNG copies ([`crate::png::font_family`]).
    pub png_font: String,
}

/// The git commit of the checkout this binary was built from (recorded by `build.rs`), or
/// `unknown`.
pub const BUILD_GIT_REVISION: &str = env!("CRITSCALE_GIT_REVISION");

/// Whether the build's checkout had uncommitted changes: `true`, `false` or `unknown`.
pub const BUILD_GIT_DIRTY: &str = env!("CRITSCALE_GIT_DIRTY");

/// Collects the machine facts.
pub fn machine() -> Machine {
    Machine {
        git_revision: BUILD_GIT_REVISION.to_owned(),
        git_dirty: match BUILD_GIT_DIRTY {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        rustc: env!("CRITSCALE_RUSTC_VERSION").to_owned(),
        kernels_dispatch: critscale_sweeps::kernels_isa().to_owned(),
        target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        png_font: crate::png::font_family(),
    }
}

impl Machine {
    /// The revision as shards record it: the commit, with `+dirty` when the checkout had
    /// uncommitted changes (two such builds may differ, and merge says so).
    pub fn revision_label(&self) -> String {
        match self.git_dirty {
            Some(true) => format!("{}+dirty", self.git_revision),
            _ => self.git_revision.clone(),
        }
    }

    /// The revision for the report: the commit and what is known of uncommitted changes.
    pub fn revision_text(&self) -> String {
        match self.git_dirty {
            Some(true) => format!("`{}` with uncommitted changes", self.git_revision),
            Some(false) => format!("`{}`", self.git_revision),
            None => format!("`{}` (uncommitted changes unknown)", self.git_revision),
        }
    }
}

/// The locked versions of the main dependencies (recorded by `build.rs` from Cargo.lock), as a
/// JSON object `{name: version}`; empty when the build had no lock file. The lock file also
/// records optional dependencies that are not built, so a name can show two versions (statrs
/// locks a nalgebra it does not use with our features).
pub fn dependencies() -> Value {
    let mut map = serde_json::Map::new();
    for pair in env!("CRITSCALE_DEPENDENCIES").split(',') {
        if let Some((name, version)) = pair.split_once('=') {
            // A name locked at two versions keeps both.
            let joined = match map.get(name).and_then(Value::as_str) {
                Some(earlier) => format!("{earlier}, {version}"),
                None => version.to_owned(),
            };
            map.insert(name.to_owned(), json!(joined));
        }
    }
    Value::Object(map)
}

/// The crate version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the data files are made from, as JSON. The sections describe their own grids
/// (`grids`: name → description, e.g. `phase_grid` from [`crate::phase::grid_description`]), so
/// that this module depends on no section; `gaussian_seed` is the Gaussian grid's seed.
pub fn to_json(
    machine: &Machine,
    budget: Budget,
    claim_filter: &[String],
    grids: serde_json::Map<String, Value>,
    gaussian_seed: u64,
) -> Value {
    let mut value = json!({
        "generator": "critscale report",
        "version": VERSION,
        "crates": {
            "critscale-report": VERSION,
            "workspace": VERSION,
        },
        "dependencies": dependencies(),
        "git_revision": machine.git_revision,
        "git_dirty": machine.git_dirty.map_or(json!("unknown"), |d| json!(d)),
        "rustc": machine.rustc,
        "target": machine.target,
        "kernels_dispatch": machine.kernels_dispatch,
        "budget": budget.word(),
        "theorems_budget": budget.word(),
        "claims": if claim_filter.is_empty() { json!("all") } else { json!(claim_filter) },
        "certify_budget": { "precision_bits": critscale_certify::SearchLimits::default().precision_bits, "max_boxes": critscale_certify::SearchLimits::default().max_boxes },
    });
    if let Some(map) = value.as_object_mut() {
        map.extend(grids);
        map.extend(rest(machine, gaussian_seed));
    }
    value
}

/// The seeds, the font and the number format (after the grids).
fn rest(machine: &Machine, gaussian_seed: u64) -> serde_json::Map<String, Value> {
    let value = json!({
        "seeds": {
            "gaussian_grid": gaussian_seed,
            "gaussian_rows": "row (d, rho) draws from the ChaCha8 stream of the sample key (\"gaussian-grid\", n, d, rho, gaussian_grid) = critscale_sweeps::seed::stream_seed",
            "claims": "claims that sample (Gaussian almost-simplices) draw replicates 0, 1, ... of sample keys (claim family, n, d, rho, replicate), each from its own stream (critscale_sweeps::seed), so samples of different n are independent; no claim resamples: their intervals are Student-t intervals (of least-squares fits, or of a mean over seeds)",
            "closed_forms": "the phase diagram, rate plots, certificates and scaling rules draw no random numbers",
        },
        "png_font": machine.png_font,
        "float_format": format!("data files: {} significant digits", crate::format::DIGITS),
    });
    match value {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}
