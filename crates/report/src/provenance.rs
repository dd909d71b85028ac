//! Provenance: what produced the report.
//!
//! * `git_revision` — `git rev-parse HEAD` in the current directory, `unknown` when git or the
//!   repository is not there. Uncommitted changes are not detected (the report does not claim a
//!   clean tree).
//! * `rustc` — the compiler that built this crate (recorded by `build.rs`).
//! * crate versions — `CARGO_PKG_VERSION` of this crate (all workspace crates share it), and the
//!   locked versions of the main dependencies (numerics, kernels, fits, figures; `build.rs`).
//! * `kernels_dispatch` — the instruction set the SIMD kernels dispatch to on this CPU
//!   (`critscale_kernels::simd::dispatched_isa`), and the target triple parts.
//! * the budget, grids and seeds.
//!
//! These are the same for two runs of one build on one machine and checkout, so `provenance.json`
//! and `report.md` are byte-identical between such runs; across machines they differ (and the
//! data files under `data/` do not). The thread count and wall times go to `timings.json`.

use crate::Budget;
use serde_json::{Value, json};
use std::process::Command;

/// The machine-dependent facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Machine {
    /// `git rev-parse HEAD`, or `unknown`.
    pub git_revision: String,
    /// `rustc --version` of the build.
    pub rustc: String,
    /// The kernels' instruction set.
    pub kernels_dispatch: String,
    /// `arch-os`.
    pub target: String,
    /// The font family of the PNG copies ([`crate::png::font_family`]).
    pub png_font: String,
}

/// Collects the machine facts.
pub fn machine() -> Machine {
    let git_revision = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .filter(|rev| !rev.is_empty())
        .unwrap_or_else(|| "unknown".to_owned());
    Machine {
        git_revision,
        rustc: env!("CRITSCALE_RUSTC_VERSION").to_owned(),
        kernels_dispatch: critscale_kernels::simd::dispatched_isa().to_owned(),
        target: format!("{}-{}", std::env::consts::ARCH, std::env::consts::OS),
        png_font: crate::png::font_family(),
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

/// What the data files are made from, as JSON.
pub fn to_json(
    machine: &Machine,
    budget: Budget,
    grid: &crate::phase::Grid,
    gaussian: &crate::gaussian::Grid,
    claim_filter: &[String],
) -> Value {
    json!({
        "generator": "critscale report",
        "version": VERSION,
        "crates": {
            "critscale-report": VERSION,
            "workspace": VERSION,
        },
        "dependencies": dependencies(),
        "git_revision": machine.git_revision,
        "rustc": machine.rustc,
        "target": machine.target,
        "kernels_dispatch": machine.kernels_dispatch,
        "budget": budget.word(),
        "theorems_budget": budget.word(),
        "claims": if claim_filter.is_empty() { json!("all") } else { json!(claim_filter) },
        "certify_budget": { "precision_bits": critscale_certify::Budget::default().precision_bits, "max_boxes": critscale_certify::Budget::default().max_boxes },
        "phase_grid": {
            "sizes": crate::phase::SIZES.iter().map(|(label, _)| *label).collect::<Vec<_>>(),
            "rho_cells": grid.rho_cells,
            "ratio_cells": grid.ratio_cells,
            "cut_points": grid.cut_points,
        },
        "gaussian_grid": {
            "n": gaussian.n,
            "dims": gaussian.dims,
            "rhos": gaussian.rhos.iter().map(|&r| crate::format::num(r)).collect::<Vec<_>>(),
            "gammas": gaussian.gammas.iter().map(|&g| crate::format::num(g)).collect::<Vec<_>>(),
            "eta_every": gaussian.eta_every,
            "crossing_tol": crate::format::num(gaussian.crossing_tol),
        },
        "seeds": {
            "gaussian_grid": gaussian.seed,
            "gaussian_rows": "ChaCha8 seed of row (d, rho index) = critscale_report::gaussian::row_seed(gaussian_grid, d, rho index)",
            "claims": "claims that sample (Gaussian almost-simplices, bootstrap) use the fixed seeds written in crates/theorems",
            "closed_forms": "the phase diagram, rate plots, certificates and scaling rules draw no random numbers",
        },
        "png_font": machine.png_font,
        "float_format": format!("data files: {} significant digits", crate::format::DIGITS),
    })
}
