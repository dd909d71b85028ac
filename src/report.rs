//! `critscale report`: compute every section of the report and write the directory safely.
//!
//! The work is in `critscale-report`; this module reads the options, refuses a bad target before
//! any work is done, and turns the outcome into a summary line and an exit code: 0 when every
//! claim passes and every certificate is proved, 1 otherwise (the report is written either way),
//! 2 for a bad option or a target directory that may not be replaced.

use crate::options::BadOption;
use critscale_report::{
    Budget, Config, ReportError, WriteError, artifacts, check_target, claims, compute, provenance,
    write_report,
};
use std::path::PathBuf;
use std::time::Instant;

/// The default output directory.
pub const DEFAULT_OUT: &str = "reports/latest";

/// The options of `report`, as typed.
#[derive(Debug, Clone, Default)]
pub struct ReportArgs {
    /// Output directory (default `reports/latest`).
    pub out: Option<PathBuf>,
    /// `quick` or `full` (absent: full).
    pub budget: Option<String>,
    /// Rayon threads (absent: one per core).
    pub jobs: Option<String>,
    /// Claim IDs or prefixes (empty: all).
    pub claims: Vec<String>,
    /// Replace a directory that is not a report.
    pub force: bool,
    /// No progress bars.
    pub quiet: bool,
}

/// What `report` will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where.
    pub out: PathBuf,
    /// Replace a non-report directory.
    pub force: bool,
    /// What to compute.
    pub config: Config,
}

/// Why `report` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReportFailure {
    /// A bad option (exit 2).
    #[error(transparent)]
    Bad(#[from] BadOption),
    /// The target may not be written (exit 2), or writing failed (exit 1).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A section failed (exit 1).
    #[error(transparent)]
    Report(#[from] ReportError),
}

impl ReportFailure {
    /// The exit code: 2 for bad input or a refused target, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportFailure::Bad(_) => 2,
            ReportFailure::Write(WriteError::Io { .. }) => 1,
            ReportFailure::Write(_) => 2,
            ReportFailure::Report(_) => 1,
        }
    }
}

/// Reads the options and checks the target (nothing is computed or written yet).
pub fn plan(args: &ReportArgs) -> Result<Plan, ReportFailure> {
    let budget = match args.budget.as_deref().map(str::trim) {
        None | Some("full") => Budget::Full,
        Some("quick") => Budget::Quick,
        Some(other) => {
            return Err(BadOption::new("budget", other, "expected 'quick' or 'full'").into());
        }
    };
    let jobs = match args.jobs.as_deref().map(str::trim) {
        None => None,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=1024).contains(&n) => Some(n),
            _ => {
                return Err(BadOption::new("jobs", text, "an integer from 1 to 1024").into());
            }
        },
    };
    if let Err(ReportError::UnknownClaim(wanted, known)) = claims::select(&args.claims) {
        return Err(BadOption::new("claim", wanted, format!("known claims: {known}")).into());
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    check_target(&out, args.force)?;
    Ok(Plan {
        out,
        force: args.force,
        config: Config {
            budget,
            jobs,
            quiet: args.quiet,
            claims: args.claims.clone(),
        },
    })
}

/// What was written.
#[derive(Debug, Clone)]
pub struct Written {
    /// The directory.
    pub out: PathBuf,
    /// Files written (with the marker).
    pub files: usize,
    /// True when every claim passed and every certificate was proved.
    pub all_good: bool,
    /// One line for the terminal.
    pub summary: String,
}

/// Computes the report and writes it.
pub fn run(plan: &Plan) -> Result<Written, ReportFailure> {
    let start = Instant::now();
    let sections = compute(&plan.config)?;
    let files = artifacts(&sections, &provenance::machine())?;
    write_report(&plan.out, &files, plan.force)?;
    let (cp, ct, pp, pt) = sections.tally();
    Ok(Written {
        out: plan.out.clone(),
        files: files.len() + 1,
        all_good: sections.all_good(),
        summary: format!(
            "wrote {} ({} files): {cp} of {ct} claims pass, {pp} of {pt} certificates proved ({} budget, {:.1} s)",
            plan.out.display(),
            files.len() + 1,
            plan.config.budget.word(),
            start.elapsed().as_secs_f64()
        ),
    })
}
