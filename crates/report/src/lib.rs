//! The reproducible report of critscale: `critscale report` in library form.
//!
//! [`compute`] computes every section, [`artifacts`] turns them into a list of files in memory
//! ([`Artifact`]s), and [`write::write_report`] puts them on disk safely (temporary sibling directory,
//! marker file with the manifest of the files written, rename; nothing critscale did not write is
//! ever deleted). The sections:
//!
//! 1. [`gaussian`] — the paper's Figures 1 and 2: λ, λ_angle and η over (ρ, γ) on Gaussian
//!    almost-simplices at d = 512, 32, 2 through the fast kernels, with γ = γ_c, the measured
//!    crossings and their fit;
//! 2. [`phase`] — the simplex phase diagram from the closed forms: λ over (ρ, γ/γ_c) at
//!    n = 10², 10⁴, 10¹⁶, 10¹⁰⁰, with γ = γ_c and the exact λ = 1/2 curve overlaid, the cut at
//!    ρ = 0.3, and the transition's location and width against 1/log n;
//! 3. [`rates`] — log-log rate plots and γ*(n) against 1/log n, from the claims' own series;
//! 4. [`claims`] — every claim of the theorem registry at the budget;
//! 5. [`certificates`] — the default certificates (all n ≥ N);
//! 6. [`rules`] — deployed scaling rules as logit multipliers (Qwen log-n, SSMax, static and
//!    dynamic YaRN, Llama 4, a SWAN-style rule, and public models' configs) against the critical
//!    band: γ(n), regimes, crossing lengths;
//! 7. [`real_tokens`] — the crossings γ*_self and γ*_λ on a real text (the committed fixture)
//!    for n = 256 … 4096 against the predictions of THEORY §10, with a control of distinct tokens;
//! 8. [`provenance`] — git revision, compiler, versions, the kernels' instruction set, budget.
//!
//! The expensive units (Gaussian rows, claims) can be computed in shards on several machines and
//! merged exactly ([`shard`]). PNG copies of Figures 1 and 2 come from [`png`].
//!
//! **Determinism.** Every section is a pure function of the budget: parallel loops collect in
//! index order, numbers in data files are rounded to 10 significant digits ([`mod@format`]), JSON
//! keys keep insertion order, figures are written with integer pixel coordinates. So two runs
//! give byte-identical files whatever `--jobs` is, except `timings.json` (wall times and the
//! thread count) and the marker, whose manifest holds the checksum of `timings.json`. `report.md` and `provenance.json` carry the machine facts of [`provenance`]
//! and are identical for runs of one build on one machine and checkout; everything under
//! `data/` and the SVG figures are meant to be identical across machines (the PNG copies depend
//! on the installed fonts).

#![warn(missing_docs)]

pub mod certificates;
pub mod claims;
pub mod format;
pub mod gaussian;
pub mod phase;
pub mod plot;
pub mod png;
pub mod provenance;
pub mod rates;
pub mod real_tokens;
pub mod rules;
pub mod shard;
pub mod table;
pub mod write;

pub use write::{Artifact, MARKER, WriteError, Written, check_target, write_dir, write_report};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Instant;

/// How much work the report does: the workspace's one budget (`quick` runs the claims at the
/// theorems' quick budget on coarse grids, `full` is the reference report).
pub use critscale_theorems::Budget;

/// The report's grids at a [`Budget`].
pub trait BudgetGrids {
    /// The Gaussian grid of Figures 1 and 2.
    fn gaussian(self) -> gaussian::Grid;
    /// The phase diagram's grid.
    fn grid(self) -> phase::Grid;
}

impl BudgetGrids for Budget {
    fn gaussian(self) -> gaussian::Grid {
        match self {
            Budget::Quick => gaussian::Grid::quick(),
            Budget::Full => gaussian::Grid::full(),
        }
    }

    fn grid(self) -> phase::Grid {
        match self {
            Budget::Quick => phase::Grid {
                rho_cells: 20,
                ratio_cells: 20,
                cut_points: 81,
            },
            Budget::Full => phase::Grid {
                rho_cells: 50,
                ratio_cells: 100,
                cut_points: 401,
            },
        }
    }
}

/// What `build` needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The budget.
    pub budget: Budget,
    /// Threads of the rayon pool (None: rayon's default, one per core). Results do not depend
    /// on it.
    pub jobs: Option<usize>,
    /// No progress bars.
    pub quiet: bool,
    /// Run only the claims with these IDs or ID prefixes (`T1`, `T1.rate`); all when empty.
    pub claims: Vec<String>,
}

/// Why the report could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// A figure could not be drawn.
    #[error("drawing a figure failed: {0}")]
    Plot(String),
    /// A claim filter that matches no claim.
    #[error("invalid value '{0}' for --claim: known claims: {1}")]
    UnknownClaim(String, String),
    /// Something that should not happen.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<critscale_sweeps::Error> for ReportError {
    fn from(e: critscale_sweeps::Error) -> Self {
        ReportError::Internal(e.to_string())
    }
}

impl Artifact {
    /// A file from bytes.
    pub fn new(path: &str, bytes: Vec<u8>) -> Self {
        Artifact {
            path: path.to_owned(),
            bytes,
        }
    }

    /// A JSON file (see [`format::json_bytes`]).
    pub fn json(path: &str, value: &Value) -> Self {
        Artifact::new(path, format::json_bytes(value))
    }
}

/// The computed sections, before they are turned into files. The report numbers them as
/// [`markdown`] orders them: 1 Gaussian almost-simplices, 2 phase diagram, 3 rates, 4 claims,
/// 5 certificates, 6 scaling rules, 7 real tokens, 8 provenance (built from the fields below).
#[derive(Debug, Clone)]
pub struct Sections {
    /// The budget used.
    pub budget: Budget,
    /// The claim filter (empty: all claims).
    pub claim_filter: Vec<String>,
    /// Section 2: the simplex phase diagram.
    pub phase: phase::Phase,
    /// Section 4: the claims.
    pub claims: Vec<claims::Row>,
    /// Section 5: the certificates.
    pub certificates: Vec<certificates::Row>,
    /// Section 6: the practical scaling rules.
    pub rules: rules::Rules,
    /// Section 7: real tokens.
    pub real_tokens: real_tokens::RealTokens,
    /// Section 1: Figures 1 and 2 of the paper.
    pub gaussian: gaussian::Gaussian,
    /// Section 3: rate plots and γ*(n) against 1/log n.
    pub rates: rates::Rates,
    /// Wall time per section, in order (the Gaussian grid's and the claims' overlap: they run
    /// side by side).
    pub seconds: Vec<(&'static str, f64)>,
    /// Wall time of the whole computation, when it ran in this process (`None` for a merge of
    /// shards, whose total is then the sum of the sections).
    pub wall_seconds: Option<f64>,
    /// The matrix products' flops of the whole computation, when it ran in this process (`None`
    /// for a merge of shards): with the machine's GEMM peak, the time they alone need.
    pub gemm_flops: Option<critscale_kernels::element::GemmFlops>,
    /// Threads used.
    pub threads: usize,
    /// For a merged run: each shard's wall time and host (empty for an unsharded run).
    pub shard_times: Vec<Value>,
}

impl Sections {
    /// (claims passed, claims, certificates proved, certificates).
    pub fn tally(&self) -> (usize, usize, usize, usize) {
        let (cp, ct) = claims::tally(&self.claims);
        let (pp, pt) = certificates::tally(&self.certificates);
        (cp, ct, pp, pt)
    }

    /// True when every claim passes and every certificate is proved.
    pub fn all_good(&self) -> bool {
        let (cp, ct, pp, pt) = self.tally();
        cp == ct && pp == pt
    }
}

/// The report's progress bars, one line each: the Gaussian grid and the claims run at the same
/// time and each keeps its own line.
fn progress_lines() -> &'static MultiProgress {
    static LINES: std::sync::OnceLock<MultiProgress> = std::sync::OnceLock::new();
    LINES.get_or_init(MultiProgress::new)
}

fn bar(quiet: bool, len: usize, name: &'static str) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        progress_lines().add(ProgressBar::new(len as u64))
    };
    bar.set_style(
        ProgressStyle::with_template("{prefix:>13} {bar:30} {pos}/{len}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_prefix(name);
    bar
}

/// Runs `work` in a rayon pool of `jobs` threads (None: one per core).
pub(crate) fn in_pool<T: Send, E: Send + From<ReportError>>(
    jobs: Option<usize>,
    work: impl FnOnce() -> Result<T, E> + Send,
) -> Result<T, E> {
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = jobs {
        builder = builder.num_threads(jobs);
    }
    let pool = builder
        .build()
        .map_err(|e| ReportError::Internal(format!("thread pool: {e}")))?;
    pool.install(work)
}

/// Computes every section in a rayon pool of `config.jobs` threads.
pub fn compute(config: &Config) -> Result<Sections, ReportError> {
    in_pool(config.jobs, || {
        let wall = Instant::now();
        let flops_before = critscale_kernels::element::gemm_flops();
        let chosen = claims::select(&config.claims)?;
        let grid = config.budget.gaussian();
        // The Gaussian grid and the claims side by side in one pool, so that neither leaves a
        // core idle while the other finishes its largest units; their wall times overlap.
        let (rows, claims_part) = rayon::join(
            || {
                let start = Instant::now();
                let rows = compute_gaussian_rows(&grid, &gaussian::row_keys(&grid), config.quiet);
                (rows, start.elapsed().as_secs_f64())
            },
            || -> Result<_, ReportError> {
                // The rates section's series first: the fitted claims are judged on them, not
                // recomputed.
                let start = Instant::now();
                let rates = rates::compute(config.budget)?;
                let rates_seconds = start.elapsed().as_secs_f64();
                let start = Instant::now();
                let claim_rows =
                    compute_claims_with(&chosen, config.budget, config.quiet, &rates.claims);
                Ok((
                    rates,
                    rates_seconds,
                    claim_rows,
                    start.elapsed().as_secs_f64(),
                ))
            },
        );
        let (rows, gaussian_seconds) = (rows.0?, rows.1);
        let (rates, rates_seconds, claim_rows, claims_seconds) = claims_part?;
        let mut sections = assemble_with(
            config,
            rows,
            claim_rows,
            Vec::new(),
            Some((rates, rates_seconds)),
        )?;
        sections.seconds.insert(0, ("gaussian", gaussian_seconds));
        sections.seconds.insert(1, ("claims", claims_seconds));
        sections.wall_seconds = Some(wall.elapsed().as_secs_f64());
        sections.gemm_flops = Some(critscale_kernels::element::gemm_flops().since(flops_before));
        Ok(sections)
    })
}

/// The given rows of the Gaussian grid, in the given order, with a progress bar.
pub(crate) fn compute_gaussian_rows(
    grid: &gaussian::Grid,
    keys: &[gaussian::RowKey],
    quiet: bool,
) -> Result<Vec<gaussian::RowResult>, ReportError> {
    use rayon::prelude::*;
    let progress = bar(quiet, keys.len(), "Gaussian grid");
    let rows = keys
        .par_iter()
        .map(|&key| {
            let row = gaussian::compute_row(grid, key).map_err(ReportError::from);
            progress.inc(1);
            row
        })
        .collect::<Result<Vec<_>, _>>();
    progress.finish_and_clear();
    rows
}

/// The given claims, in the given order, with a progress bar.
pub(crate) fn compute_claims(
    chosen: &[critscale_theorems::Claim],
    budget: Budget,
    quiet: bool,
) -> Vec<claims::Row> {
    compute_claims_with(chosen, budget, quiet, &[])
}

/// As [`compute_claims`], judging the claims found in `fitted` on their series there.
fn compute_claims_with(
    chosen: &[critscale_theorems::Claim],
    budget: Budget,
    quiet: bool,
    fitted: &[rates::Fitted],
) -> Vec<claims::Row> {
    let progress = bar(quiet, chosen.len(), "claims");
    let rows = claims::compute_with(chosen, budget, fitted, &|| progress.inc(1));
    progress.finish_and_clear();
    rows
}

/// The sections from the expensive results (Gaussian rows and claim rows, computed here or
/// read from shards) and the closed-form sections, computed here.
pub(crate) fn assemble(
    config: &Config,
    rows: Vec<gaussian::RowResult>,
    claims: Vec<claims::Row>,
    shard_times: Vec<Value>,
) -> Result<Sections, ReportError> {
    assemble_with(config, rows, claims, shard_times, None)
}

/// As [`assemble`], with the rates section already computed (and its wall time), or `None` to
/// compute it here.
fn assemble_with(
    config: &Config,
    rows: Vec<gaussian::RowResult>,
    claims: Vec<claims::Row>,
    shard_times: Vec<Value>,
    rates: Option<(rates::Rates, f64)>,
) -> Result<Sections, ReportError> {
    let budget = config.budget;
    let mut seconds = Vec::new();

    let gaussian = gaussian::assemble(&budget.gaussian(), rows)?;

    let start = Instant::now();
    let progress = bar(config.quiet, phase::SIZES.len(), "phase diagram");
    let phase = phase::compute(budget.grid())?;
    progress.finish_and_clear();
    seconds.push(("phase", start.elapsed().as_secs_f64()));

    let start = Instant::now();
    let progress = bar(config.quiet, certificates::count(), "certificates");
    let certificates = certificates::compute(&|| progress.inc(1));
    progress.finish_and_clear();
    seconds.push(("certificates", start.elapsed().as_secs_f64()));

    let (rates, rates_seconds) = match rates {
        Some(done) => done,
        None => {
            let start = Instant::now();
            (rates::compute(budget)?, start.elapsed().as_secs_f64())
        }
    };
    seconds.push(("rates", rates_seconds));

    let start = Instant::now();
    let rules = rules::compute()?;
    seconds.push(("rules", start.elapsed().as_secs_f64()));

    let start = Instant::now();
    let real_tokens = real_tokens::compute(budget)?;
    seconds.push(("real_tokens", start.elapsed().as_secs_f64()));

    Ok(Sections {
        budget,
        claim_filter: config.claims.clone(),
        phase,
        claims,
        certificates,
        rules,
        real_tokens,
        gaussian,
        rates,
        seconds,
        wall_seconds: None,
        gemm_flops: None,
        threads: rayon::current_num_threads(),
        shard_times,
    })
}

/// Seconds rounded to milliseconds, as JSON (timings only).
pub(crate) fn round_seconds(x: f64) -> Value {
    format::num((x * 1000.0).round() / 1000.0)
}

/// Numbers the `## ` headings of `sections` in order (each section starts with one) and joins
/// them, with the table of contents.
fn numbered(sections: &[String]) -> (String, String) {
    let mut body = String::new();
    let mut contents = Vec::new();
    for (k, text) in sections.iter().enumerate() {
        let title = text
            .strip_prefix("## ")
            .and_then(|rest| rest.lines().next())
            .unwrap_or("");
        contents.push(format!("{}. {}", k + 1, title));
        body.push_str(&format!(
            "## {}. {}",
            k + 1,
            text.strip_prefix("## ").unwrap_or(text)
        ));
    }
    (contents.join(" · "), body)
}

/// The Markdown of the whole report.
pub fn markdown(sections: &Sections, machine: &provenance::Machine) -> String {
    let (cp, ct, pp, pt) = sections.tally();
    let budget = sections.budget.word();
    // The command that regenerates exactly this directory, claim filters included.
    let command: String = std::iter::once(format!("report --budget {budget}"))
        .chain(sections.claim_filter.iter().map(|c| format!("--claim {c}")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut md = String::new();
    let _ = writeln!(md, "# critscale report\n");
    let _ = writeln!(
        md,
        "Numerical and rigorous checks of Chen, Lin, Polyanskiy and Rigollet, *Critical attention scaling in \
         long-context transformers* (ICLR 2026): one attention layer with scores β_n = γ·log n has a phase \
         transition at γ_c = 1/(1 − ρ), ρ the typical cosine between tokens — collapse below, identity above. \
         Regenerate this directory with `cargo run --release -- {command}`; every figure and table \
         has its data beside it as CSV and JSON under [`data/`](data/).\n"
    );
    let _ = writeln!(
        md,
        "**Summary** ({budget} budget): {cp} of {ct} claims pass, {pp} of {pt} certificates are proved.\n"
    );
    let pngs: Vec<String> = sections
        .gaussian
        .grid()
        .dims
        .iter()
        .flat_map(|d| {
            [
                format!("[λ, d = {d}](figures/gaussian_lambda_d{d}.png)"),
                format!("[η, d = {d}](figures/gaussian_eta_d{d}.png)"),
            ]
        })
        .collect();
    let _ = writeln!(
        md,
        "Figures are SVG; PNG copies of the paper's Figures 1 and 2 for viewers without SVG: {}.\n",
        pngs.join(", ")
    );
    let parts = vec![
        gaussian::markdown(&sections.gaussian),
        phase::markdown(&sections.phase),
        sections.rates.markdown(),
        claims::markdown(&sections.claims, sections.budget, &sections.claim_filter),
        certificates::markdown(&sections.certificates),
        sections.rules.markdown(),
        sections.real_tokens.markdown(),
        provenance_markdown(sections, machine),
    ];
    let (contents, body) = numbered(&parts);
    let _ = writeln!(md, "Contents: {contents}\n");
    md.push_str(&body);
    md
}

fn provenance_markdown(sections: &Sections, machine: &provenance::Machine) -> String {
    let budget = sections.budget.word();
    let mut md = String::new();
    let grid = sections.phase.grid;
    let _ = writeln!(md, "## Provenance\n");
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(
        md,
        "| generator | critscale report {} |",
        provenance::VERSION
    );
    let _ = writeln!(md, "| git revision | {} |", machine.revision_text());
    let _ = writeln!(md, "| compiler | {} |", machine.rustc);
    let _ = writeln!(md, "| target | {} |", machine.target);
    let _ = writeln!(md, "| kernels dispatch to | {} |", machine.kernels_dispatch);
    let _ = writeln!(md, "| PNG copies set in | {} |", machine.png_font);
    let _ = writeln!(
        md,
        "| dependencies | locked versions of the main ones in [`provenance.json`](provenance.json) |"
    );
    let _ = writeln!(
        md,
        "| budget | {budget} (claims at the theorems' {budget} budget; certificates at 128 bits, ≤ 200000 boxes) |"
    );
    let _ = writeln!(
        md,
        "| phase grid | {} ρ cells × {} γ/γ_c cells per n; cut of {} points |",
        grid.rho_cells, grid.ratio_cells, grid.cut_points
    );
    let g = sections.gaussian.grid();
    let _ = writeln!(
        md,
        "| Gaussian grid | n = {}, d ∈ {:?}, {} ρ × {} γ values, exact η at every {} |",
        g.n,
        g.dims,
        g.rhos.len(),
        g.gammas.len(),
        if g.eta_every <= 1 {
            "γ".to_owned()
        } else {
            format!("{}th γ", g.eta_every)
        }
    );
    let _ = writeln!(
        md,
        "| seeds | every sample is drawn from its own ChaCha stream, keyed by (tag, n, d, ρ, replicate) (`critscale_sweeps::seed`); Gaussian grid: key (`gaussian-grid`, n, d, ρ, {}) per row; sampling claims: replicates 0, 1, … under their own tags (`T2`, `T5`, `T6`) |",
        g.seed
    );
    let _ = writeln!(
        md,
        "| numbers | data files: 10 significant digits; tables here: 7 |"
    );
    let _ = writeln!(
        md,
        "\nWall times per section and per check are in [`timings.json`](timings.json) (they differ from run to \
         run, so they are kept out of this file); the same facts as JSON are in [`provenance.json`](provenance.json).\n"
    );
    md
}

/// Figures that also get a PNG copy ([`png`]): the paper's Figures 1 and 2 (λ and η on the
/// Gaussian grid).
pub fn has_png_copy(path: &str) -> bool {
    path.ends_with(".svg")
        && (path.starts_with("figures/gaussian_lambda_d")
            || path.starts_with("figures/gaussian_eta_d"))
}

/// The report as files (`report.md`, `data/*`, `figures/*`, `provenance.json`, `timings.json`),
/// in a fixed order. The marker file is added by [`write_report`].
pub fn artifacts(
    sections: &Sections,
    machine: &provenance::Machine,
) -> Result<Vec<Artifact>, ReportError> {
    let mut files = vec![Artifact::new(
        "report.md",
        markdown(sections, machine).into_bytes(),
    )];
    let gaussian = gaussian::artifacts(&sections.gaussian)?;
    let pngs = gaussian
        .iter()
        .filter(|a| has_png_copy(&a.path))
        .map(|a| {
            Ok(Artifact::new(
                &a.path.replace(".svg", ".png"),
                png::png_from_svg(&a.bytes)?,
            ))
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    files.extend(gaussian);
    files.extend(pngs);
    files.extend(phase::artifacts(&sections.phase)?);
    files.extend(sections.rates.artifacts()?);
    files.extend(claims::artifacts(&sections.claims)?);
    files.extend(certificates::artifacts(&sections.certificates)?);
    files.extend(sections.rules.artifacts()?);
    files.extend(sections.real_tokens.artifacts()?);
    files.push(Artifact::json(
        "provenance.json",
        &provenance::to_json(
            machine,
            sections.budget,
            &sections.claim_filter,
            serde_json::Map::from_iter([
                (
                    "phase_grid".to_owned(),
                    phase::grid_description(&sections.phase.grid),
                ),
                (
                    "gaussian_grid".to_owned(),
                    gaussian::grid_description(sections.gaussian.grid()),
                ),
            ]),
            sections.gaussian.grid().seed,
        ),
    ));
    files.push(Artifact::json("timings.json", &timings(sections)));
    Ok(files)
}

/// The file of wall times (not deterministic, kept apart from the data).
pub fn timings(sections: &Sections) -> Value {
    let round3 = round_seconds;
    let mut section = serde_json::Map::new();
    for (name, s) in &sections.seconds {
        section.insert((*name).to_owned(), round3(*s));
    }
    let mut claim = serde_json::Map::new();
    for row in &sections.claims {
        claim.insert(row.id.clone(), round3(row.seconds));
    }
    let mut cert = serde_json::Map::new();
    for row in &sections.certificates {
        cert.insert(row.statement.id.clone(), round3(row.seconds));
    }
    json!({
        "threads": sections.threads,
        "shards": sections.shard_times,
        "total_seconds": round3(
            sections
                .wall_seconds
                .unwrap_or_else(|| sections.seconds.iter().map(|(_, s)| s).sum())
        ),
        "gemm_gflop": sections.gemm_flops.map(|f| {
            let g = |x: u64| format::num((x as f64 / 1e6).round() / 1e3);
            json!({"f64": g(f.f64), "f32": g(f.f32)})
        }),
        "sections": section,
        "claims": claim,
        "certificates": cert,
    })
}

/// Files that are expected to differ between two runs of one build on one machine.
pub const NONDETERMINISTIC: [&str; 1] = ["timings.json"];

#[cfg(test)]
mod tests {
    use super::*;

    fn fixed_machine() -> provenance::Machine {
        provenance::Machine {
            git_revision: "0000000000000000000000000000000000000000".to_owned(),
            git_dirty: Some(false),
            rustc: "rustc (test)".to_owned(),
            kernels_dispatch: "test".to_owned(),
            target: "test".to_owned(),
            png_font: "test".to_owned(),
        }
    }

    fn quick(jobs: usize) -> Vec<Artifact> {
        let sections = compute(&Config {
            budget: Budget::Quick,
            jobs: Some(jobs),
            quiet: true,
            // The closed-form claims only: seconds in the dev profile, and a snapshot that does
            // not change when claims of other theorems are added.
            claims: vec!["T1".to_owned(), "T3".to_owned()],
        })
        .unwrap();
        artifacts(&sections, &fixed_machine()).unwrap()
    }

    #[test]
    fn two_runs_with_different_thread_counts_give_the_same_bytes() {
        let one = quick(1);
        let two = quick(2);
        assert_eq!(one.len(), two.len());
        for (a, b) in one.iter().zip(&two) {
            assert_eq!(a.path, b.path);
            if NONDETERMINISTIC.contains(&a.path.as_str()) {
                continue;
            }
            assert!(a.bytes == b.bytes, "{} differs between runs", a.path);
        }
        let report = one.iter().find(|a| a.path == "report.md").unwrap();
        let text = String::from_utf8(report.bytes.clone()).unwrap();
        insta::assert_snapshot!("report_quick", text);
    }

    #[test]
    fn every_figure_and_table_has_csv_and_json() {
        let files = quick(2);
        let paths: Vec<&str> = files.iter().map(|a| a.path.as_str()).collect();
        for stem in [
            "phase_grid",
            "phase_cut",
            "phase_transition",
            "claims",
            "certificates",
            "rules_curves",
            "real_tokens",
            "rates",
            "rates_fits",
            "gaussian_grid",
            "gaussian_transition",
        ] {
            assert!(
                paths.contains(&format!("data/{stem}.csv").as_str()),
                "{stem}.csv"
            );
            assert!(
                paths.contains(&format!("data/{stem}.json").as_str()),
                "{stem}.json"
            );
        }
        for file in &files {
            if file.path.ends_with(".json") {
                serde_json::from_slice::<Value>(&file.bytes)
                    .unwrap_or_else(|e| panic!("{}: {e}", file.path));
            }
            if file.path.ends_with(".svg") {
                assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
                assert!(
                    file.bytes.len() < 600_000,
                    "{} is {} bytes",
                    file.path,
                    file.bytes.len()
                );
            }
        }
        // The run's matrix products are counted: the Gaussian grid's forward passes and exact η
        // are not memoised, so every run does some in f64.
        let timings = files.iter().find(|a| a.path == "timings.json").unwrap();
        let timings: Value = serde_json::from_slice(&timings.bytes).unwrap();
        assert!(
            timings["gemm_gflop"]["f64"].as_f64().unwrap() > 0.0,
            "{timings}"
        );
        // Every link in report.md points at a file of the report.
        let md = String::from_utf8(files[0].bytes.clone()).unwrap();
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            if target == "data/" {
                continue;
            }
            assert!(paths.contains(&target), "broken link {target}");
        }
    }
}
