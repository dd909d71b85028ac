//! `critscale report`: compute every section of the report and write the directory safely.
//!
//! The work is in `critscale-report`; this module reads the options, refuses a bad target before
//! any work is done (protected, not written by critscale, or unusable: see
//! `critscale_report::write`), and turns the outcome into a summary line and an exit code: 0 when
//! every claim passes and every certificate is proved, 1 otherwise (the report is written either
//! way) or when writing fails, 2 for a bad option, a target directory that may not be replaced or
//! cannot be written, and shards that cannot be merged. Notes of the write (a directory moved
//! aside by `--force`, leftovers kept) go to standard error as `note:` lines.

use crate::options::BadParameter;
use critscale_report::shard::{MergeError, ShardSpec, compute_shard, merge, read_shard};
use critscale_report::{
    Budget, Config, ReportError, Sections, WriteError, artifacts, check_target, claims, compute,
    provenance, write::SHARD, write_dir, write_report,
};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// The default output directory.
pub const DEFAULT_OUT: &str = "reports/latest";

/// The options of `report`.
#[derive(Debug, Clone)]
pub struct ReportArgs {
    /// Output directory (default `reports/latest`).
    pub out: Option<PathBuf>,
    /// The budget (`report`'s default is full: the reference report).
    pub budget: Budget,
    /// Rayon threads (absent: one per core).
    pub jobs: Option<usize>,
    /// Claim IDs or prefixes (empty: all).
    pub claims: Vec<String>,
    /// Move aside a directory that critscale cannot vouch for.
    pub force: bool,
    /// No progress bars.
    pub quiet: bool,
    /// Compute only shard i of N and write a shard directory.
    pub shard: Option<ShardSpec>,
}

impl Default for ReportArgs {
    /// The reference report, at the full budget, to the default directory.
    fn default() -> Self {
        ReportArgs {
            out: None,
            budget: Budget::Full,
            jobs: None,
            claims: Vec::new(),
            force: false,
            quiet: false,
            shard: None,
        }
    }
}

/// What `report` will do.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where.
    pub out: PathBuf,
    /// Move aside a directory that critscale cannot vouch for.
    pub force: bool,
    /// What to compute.
    pub config: Config,
    /// Only this shard (a shard directory is written instead of a report).
    pub shard: Option<ShardSpec>,
}

/// Why `report` stopped.
#[derive(Debug, thiserror::Error)]
pub enum ReportFailure {
    /// A bad option (exit 2).
    #[error(transparent)]
    Bad(#[from] BadParameter),
    /// The target may not be written (exit 2), or writing failed (exit 1).
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A section failed (exit 1).
    #[error(transparent)]
    Report(#[from] ReportError),
    /// Shards that cannot be read or do not fit together (exit 2).
    #[error(transparent)]
    Merge(MergeError),
}

impl From<MergeError> for ReportFailure {
    fn from(err: MergeError) -> Self {
        match err {
            MergeError::Report(err) => ReportFailure::Report(err),
            other => ReportFailure::Merge(other),
        }
    }
}

impl ReportFailure {
    /// The exit code: 2 for bad input, a refused or unusable target and unmergeable shards, 1
    /// for a failed write or section.
    pub fn exit_code(&self) -> u8 {
        match self {
            ReportFailure::Bad(_) => 2,
            ReportFailure::Write(WriteError::Io { .. }) => 1,
            ReportFailure::Write(_) => 2,
            ReportFailure::Report(_) => 1,
            ReportFailure::Merge(_) => 2,
        }
    }
}

/// Reads the options and checks the target (nothing is computed or written yet).
pub fn plan(args: &ReportArgs) -> Result<Plan, ReportFailure> {
    let shard = args.shard;
    if let Err(ReportError::UnknownClaim(wanted, known)) = claims::select(&args.claims) {
        return Err(BadParameter::new("claim", wanted, format!("known claims: {known}")).into());
    }
    let out = args.out.clone().unwrap_or_else(|| match shard {
        None => PathBuf::from(DEFAULT_OUT),
        Some(s) => PathBuf::from(format!("reports/shard-{}-of-{}", s.index, s.count)),
    });
    check_target(&out, args.force)?;
    Ok(Plan {
        out,
        force: args.force,
        config: Config {
            budget: args.budget,
            jobs: args.jobs,
            quiet: args.quiet,
            claims: args.claims.clone(),
        },
        shard,
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

/// Computes the report (or one shard of it) and writes it.
pub fn run(plan: &Plan) -> Result<Written, ReportFailure> {
    let start = Instant::now();
    let machine = provenance::machine();
    if let Some(spec) = plan.shard {
        let shard = compute_shard(&plan.config, spec, &machine.revision_label())?;
        let files = shard.artifacts();
        print_notes(&write_dir(&plan.out, &files, plan.force, SHARD)?);
        return Ok(Written {
            out: plan.out.clone(),
            files: files.len() + 1,
            all_good: true,
            summary: format!(
                "wrote shard {spec} to {} ({} units, {} budget, {:.1} s); merge all {} shards with `critscale report merge DIR... --out OUT`",
                plan.out.display(),
                shard.results.len(),
                plan.config.budget.word(),
                start.elapsed().as_secs_f64(),
                spec.count
            ),
        });
    }
    let sections = compute(&plan.config)?;
    write_sections(&sections, &machine, &plan.out, plan.force, "wrote", start)
}

/// Says on standard error what the write did besides writing (a directory moved aside, a
/// leftover kept).
fn print_notes(written: &critscale_report::Written) {
    for note in &written.notes {
        eprintln!("note: {note}");
    }
}

/// Writes the report of `sections` to `out`; the summary line starts with `verb` (e.g.
/// `merged 4 shards into`).
fn write_sections(
    sections: &Sections,
    machine: &provenance::Machine,
    out: &Path,
    force: bool,
    verb: &str,
    start: Instant,
) -> Result<Written, ReportFailure> {
    let files = artifacts(sections, machine)?;
    print_notes(&write_report(out, &files, force)?);
    let (cp, ct, pp, pt) = sections.tally();
    Ok(Written {
        out: out.to_path_buf(),
        files: files.len() + 1,
        all_good: sections.all_good(),
        summary: format!(
            "{verb} {} ({} files): {cp} of {ct} claims pass, {pp} of {pt} certificates proved ({} budget, {:.1} s)",
            out.display(),
            files.len() + 1,
            sections.budget.word(),
            start.elapsed().as_secs_f64()
        ),
    })
}

/// The options of `report merge`.
#[derive(Debug, Clone, Default)]
pub struct MergeArgs {
    /// The shard directories.
    pub shards: Vec<PathBuf>,
    /// Output directory (default `reports/latest`).
    pub out: Option<PathBuf>,
    /// Rayon threads for the recomputed closed-form sections.
    pub jobs: Option<usize>,
    /// Move aside a directory that critscale cannot vouch for.
    pub force: bool,
    /// No progress bars.
    pub quiet: bool,
}

/// `path` made absolute with every existing part resolved (symbolic links, `..`), also when its
/// last parts do not exist yet.
fn resolved(path: &Path) -> PathBuf {
    use std::path::Component;
    let absolute = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut head = absolute.clone();
    let mut tail: Vec<std::ffi::OsString> = Vec::new();
    loop {
        if let Ok(mut resolved) = head.canonicalize() {
            // The missing parts are no symbolic links, so `..` among them is lexical.
            for part in tail.iter().rev() {
                if part == ".." {
                    resolved.pop();
                } else {
                    resolved.push(part);
                }
            }
            return resolved;
        }
        match head.components().next_back() {
            Some(Component::Normal(name)) => tail.push(name.to_owned()),
            Some(Component::ParentDir) => tail.push("..".into()),
            Some(Component::CurDir) => {}
            _ => return absolute,
        }
        if !head.pop() {
            return absolute;
        }
    }
}

/// Refuses an `--out` that is one of the shard directories, lies inside one or contains one:
/// replacing it would destroy the merge's own input.
fn check_not_an_input(out: &Path, shards: &[PathBuf]) -> Result<(), BadParameter> {
    let target = resolved(out);
    for shard in shards {
        let input = resolved(shard);
        if target.starts_with(&input) || input.starts_with(&target) {
            return Err(BadParameter::new(
                "out",
                out.display().to_string(),
                format!(
                    "it is, lies inside or contains the shard directory {}, an input of this merge",
                    shard.display()
                ),
            ));
        }
    }
    Ok(())
}

/// Merges shard directories into a report (the same files as one unsharded run).
pub fn run_merge(args: &MergeArgs) -> Result<Written, ReportFailure> {
    let start = Instant::now();
    let jobs = args.jobs;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_OUT));
    check_not_an_input(&out, &args.shards)?;
    check_target(&out, args.force)?;
    let shards = args
        .shards
        .iter()
        .map(|dir| read_shard(dir))
        .collect::<Result<Vec<_>, _>>()?;
    let machine = provenance::machine();
    let sections = merge(&shards, &machine.revision_label(), jobs, args.quiet)?;
    let verb = format!("merged {} shards into", shards.len());
    write_sections(&sections, &machine, &out, args.force, &verb, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolved_paths_compare_whatever_the_spelling() {
        let cwd = std::env::current_dir().unwrap().canonicalize().unwrap();
        let missing = "critscale-no-such-dir";
        assert_eq!(
            resolved(Path::new(&format!("{missing}/../x"))),
            cwd.join("x")
        );
        assert_eq!(resolved(Path::new("./src/../src/x/y")), cwd.join("src/x/y"));
        let shards = [PathBuf::from("src")];
        assert!(check_not_an_input(Path::new("src"), &shards).is_err());
        assert!(check_not_an_input(Path::new("./src/sub/../other"), &shards).is_err());
        assert!(check_not_an_input(&cwd, &shards).is_err());
        assert!(check_not_an_input(Path::new("srcx"), &shards).is_ok());
    }
}
