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
//! decimal form ([`exact`]): nothing is rounded before the merge. The marker holds the manifest
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
//! [`Sections`] an unsharded run builds and hands them to the same [`crate::artifacts`]: rounding
//! and layout happen only there, so the data files and figures are byte-identical to those of an
//! unsharded run (tested in `tests/report.rs` of the workspace suite). `timings.json` lists each
//! shard's wall time and host.

use crate::{Budget, BudgetGrids, Config, ReportError, Sections, claims, gaussian};
use serde_json::{Value, json};
use std::fmt;
use std::path::Path;
use std::time::Instant;

/// Marker file of a shard directory.
pub const SHARD_MARKER: &str = ".critscale-shard";
/// Contents of the marker file.
pub const SHARD_MARKER_TEXT: &str =
    "critscale report shard: merge it with `critscale report merge DIR... --out OUT`\n";
/// The results file of a shard directory.
pub const SHARD_FILE: &str = "shard.json";
/// Version of the shard file layout.
pub const FORMAT: u64 = 1;

/// `i/N`: shard i (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSpec {
    /// 1 ..= count.
    pub index: usize,
    /// Number of shards, ≥ 1.
    pub count: usize,
}

impl ShardSpec {
    /// Largest number of shards accepted.
    pub const MAX_COUNT: usize = 100_000;

    /// Reads `i/N` with 1 ≤ i ≤ N ≤ [`ShardSpec::MAX_COUNT`].
    pub fn parse(text: &str) -> Result<ShardSpec, String> {
        let usage = "expected i/N with 1 <= i <= N, e.g. 2/8";
        let (i, n) = text.trim().split_once('/').ok_or(usage)?;
        let index: usize = i.trim().parse().map_err(|_| usage)?;
        let count: usize = n.trim().parse().map_err(|_| usage)?;
        if count == 0 || count > Self::MAX_COUNT || index == 0 || index > count {
            return Err(format!("{usage}, N <= {}", Self::MAX_COUNT));
        }
        Ok(ShardSpec { index, count })
    }

    /// True when unit `k` (0-based, in [`units`] order) belongs to this shard.
    pub fn owns(&self, k: usize) -> bool {
        k % self.count == self.index - 1
    }
}

impl fmt::Display for ShardSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One unit of the expensive work.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Unit {
    /// A row of the Gaussian grid.
    Gaussian(gaussian::RowKey),
    /// A claim, by registry ID.
    Claim(&'static str),
}

/// Every unit of a run with this budget and claim filter, in the global order.
pub fn units(config: &Config) -> Result<Vec<Unit>, ReportError> {
    let grid = config.budget.gaussian();
    let mut all: Vec<Unit> = gaussian::row_keys(&grid)
        .into_iter()
        .map(Unit::Gaussian)
        .collect();
    all.extend(
        claims::select(&config.claims)?
            .into_iter()
            .map(|c| Unit::Claim(c.id)),
    );
    Ok(all)
}

/// The stable text key of a unit (`claim/T1.rate.sub`, `gaussian/…`).
pub fn unit_key(unit: &Unit, budget: Budget) -> String {
    match unit {
        Unit::Gaussian(key) => gaussian::row_key_name(*key, &budget.gaussian()),
        Unit::Claim(id) => format!("claim/{id}"),
    }
}

/// A finite `f64` as a JSON number in its shortest round-trip form; ±∞ and NaN as the strings
/// `inf`, `-inf`, `nan` (JSON has no such numbers): `critscale_sweeps::exact`, the encoding the
/// serde-derived rows use. [`read_exact`] inverts it exactly.
pub fn exact(x: f64) -> Value {
    critscale_sweeps::exact::to_value(x)
}

/// Reads a number written by [`exact`].
pub fn read_exact(value: &Value) -> Result<f64, String> {
    critscale_sweeps::exact::from_value(value)
}

/// A Gaussian row of a shard file (serde, the layout of `critscale_sweeps::gaussian::RowResult`).
fn read_gaussian_row(value: &Value) -> Result<gaussian::RowResult, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("gaussian row JSON: {e}"))
}

/// `value[name]` read by [`read_exact`].
pub fn field_f64(value: &Value, name: &str) -> Result<f64, String> {
    read_exact(value.get(name).ok_or_else(|| format!("missing '{name}'"))?)
        .map_err(|e| format!("'{name}': {e}"))
}

/// `value[name]` as a string.
pub fn field_str(value: &Value, name: &str) -> Result<String, String> {
    value
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| format!("missing text '{name}'"))
}

/// `value[name]` as a boolean.
pub fn field_bool(value: &Value, name: &str) -> Result<bool, String> {
    value
        .get(name)
        .and_then(Value::as_bool)
        .ok_or_else(|| format!("missing boolean '{name}'"))
}

/// `value[name]` as an unsigned integer.
pub fn field_usize(value: &Value, name: &str) -> Result<usize, String> {
    value
        .get(name)
        .and_then(Value::as_u64)
        .and_then(|n| usize::try_from(n).ok())
        .ok_or_else(|| format!("missing integer '{name}'"))
}

/// The results of one shard.
#[derive(Debug, Clone)]
pub struct ShardRun {
    /// Which shard.
    pub spec: ShardSpec,
    /// The budget.
    pub budget: Budget,
    /// The claim filter (empty: all claims).
    pub claim_filter: Vec<String>,
    /// `git rev-parse HEAD` of the build that computed it.
    pub git_revision: String,
    /// Host name (for timings only).
    pub host: String,
    /// (unit key, raw result) in global unit order.
    pub results: Vec<(String, Value)>,
    /// Wall time of the whole shard.
    pub seconds: f64,
    /// Threads used.
    pub threads: usize,
}

/// The host name, or `unknown`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Computes the units of shard `spec` (in the pool of `config.jobs` threads).
pub fn compute_shard(
    config: &Config,
    spec: ShardSpec,
    git_revision: &str,
) -> Result<ShardRun, ReportError> {
    crate::in_pool(config.jobs, || {
        let start = Instant::now();
        let budget = config.budget;
        let grid = budget.gaussian();
        let mine: Vec<Unit> = units(config)?
            .into_iter()
            .enumerate()
            .filter(|(k, _)| spec.owns(*k))
            .map(|(_, u)| u)
            .collect();
        let rows: Vec<gaussian::RowKey> = mine
            .iter()
            .filter_map(|u| match u {
                Unit::Gaussian(key) => Some(*key),
                Unit::Claim(_) => None,
            })
            .collect();
        let chosen: Vec<critscale_theorems::Claim> = claims::select(&config.claims)?
            .into_iter()
            .filter(|c| mine.contains(&Unit::Claim(c.id)))
            .collect();
        let gaussian_rows = crate::compute_gaussian_rows(&grid, &rows, config.quiet)?;
        let claim_rows = crate::compute_claims(&chosen, budget, config.quiet);
        let mut results = Vec::with_capacity(mine.len());
        let (mut g, mut c) = (gaussian_rows.iter(), claim_rows.iter());
        for unit in &mine {
            let value = match unit {
                Unit::Gaussian(_) => g
                    .next()
                    .map(serde_json::to_value)
                    .transpose()
                    .map_err(|e| ReportError::Internal(format!("a Gaussian row as JSON: {e}")))?,
                Unit::Claim(_) => c.next().map(claims::Row::to_json),
            }
            .ok_or_else(|| ReportError::Internal("a unit has no result".to_owned()))?;
            results.push((unit_key(unit, budget), value));
        }
        Ok(ShardRun {
            spec,
            budget,
            claim_filter: config.claims.clone(),
            git_revision: git_revision.to_owned(),
            host: host_name(),
            results,
            seconds: start.elapsed().as_secs_f64(),
            threads: rayon::current_num_threads(),
        })
    })
}

impl ShardRun {
    /// The contents of [`SHARD_FILE`].
    pub fn to_json(&self) -> Value {
        json!({
            "format": FORMAT,
            "generator": "critscale report --shard",
            "version": crate::provenance::VERSION,
            "shard": self.spec.index,
            "of": self.spec.count,
            "budget": self.budget.word(),
            "claims": self.claim_filter,
            "git_revision": self.git_revision,
            "host": self.host,
            "seconds": exact(self.seconds),
            "threads": self.threads,
            "units": self.results.iter().map(|(key, value)| json!({ "key": key, "result": value })).collect::<Vec<_>>(),
        })
    }

    /// Reads [`ShardRun::to_json`]'s output.
    pub fn from_json(value: &Value) -> Result<ShardRun, String> {
        let format = value.get("format").and_then(Value::as_u64);
        if format != Some(FORMAT) {
            return Err(format!(
                "shard format {format:?}, this build reads format {FORMAT}"
            ));
        }
        let spec = ShardSpec {
            index: field_usize(value, "shard")?,
            count: field_usize(value, "of")?,
        };
        if spec.count == 0 || spec.index == 0 || spec.index > spec.count {
            return Err(format!("invalid shard {spec}"));
        }
        let budget = field_str(value, "budget")?;
        let budget = budget
            .parse::<Budget>()
            .map_err(|_| format!("unknown budget '{budget}'"))?;
        let claim_filter = value
            .get("claims")
            .and_then(Value::as_array)
            .ok_or("missing list 'claims'")?
            .iter()
            .map(|c| {
                c.as_str()
                    .map(str::to_owned)
                    .ok_or("a claim filter entry is not text")
            })
            .collect::<Result<Vec<_>, _>>()?;
        let results = value
            .get("units")
            .and_then(Value::as_array)
            .ok_or("missing list 'units'")?
            .iter()
            .map(|u| {
                let key = field_str(u, "key")?;
                let result = u.get("result").cloned().ok_or("a unit without 'result'")?;
                Ok((key, result))
            })
            .collect::<Result<Vec<_>, String>>()?;
        Ok(ShardRun {
            spec,
            budget,
            claim_filter,
            git_revision: field_str(value, "git_revision")?,
            host: field_str(value, "host")?,
            results,
            seconds: field_f64(value, "seconds")?,
            threads: field_usize(value, "threads")?,
        })
    }

    /// The files of the shard directory (the marker is added by the writer).
    pub fn artifacts(&self) -> Vec<crate::Artifact> {
        vec![crate::Artifact::json(SHARD_FILE, &self.to_json())]
    }
}

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

/// Reads the shard directory `dir` ([`parse_shard`] of its marker and [`SHARD_FILE`]); the error
/// names the shard file.
pub fn read_shard(dir: &Path) -> Result<ShardRun, MergeError> {
    let file = dir.join(SHARD_FILE);
    let fail = |path: &Path, reason: String| MergeError::Read {
        path: path.display().to_string(),
        reason,
    };
    let marker = dir.join(SHARD_MARKER);
    if !std::fs::symlink_metadata(&marker).is_ok_and(|m| m.is_file()) {
        return Err(fail(
            dir,
            format!("no {SHARD_MARKER} file: not a directory written by `report --shard`"),
        ));
    }
    let marker = std::fs::read(&marker).map_err(|e| fail(&marker, e.to_string()))?;
    let bytes = std::fs::read(&file).map_err(|e| fail(&file, e.to_string()))?;
    parse_shard(&marker, &bytes).map_err(|reason| fail(&file, reason))
}

/// Reads a shard from the bytes of its marker (the manifest with the checksum of
/// [`SHARD_FILE`]) and of [`SHARD_FILE`]: verifies the checksum, reads the JSON and checks every
/// value ([`check_values`]). Any edit of either file is refused.
pub fn parse_shard(marker: &[u8], file: &[u8]) -> Result<ShardRun, String> {
    let manifest = crate::write::Manifest::parse(crate::write::SHARD, marker)?;
    let [entry] = manifest.entries.as_slice() else {
        return Err(format!(
            "{SHARD_MARKER} must list exactly one file, {SHARD_FILE}"
        ));
    };
    if entry.path != SHARD_FILE {
        return Err(format!("{SHARD_MARKER} does not list {SHARD_FILE}"));
    }
    if entry.size != file.len() as u64 || entry.sha256 != crate::write::sha256(file) {
        return Err(
            "checksum mismatch: the file was changed after `report --shard` wrote it".to_owned(),
        );
    }
    let value: Value = serde_json::from_slice(file).map_err(|e| e.to_string())?;
    let run = ShardRun::from_json(&value)?;
    check_values(&run)?;
    Ok(run)
}

/// Allowance for rounding in the range checks of [`check_values`].
const SLACK: f64 = 1e-6;

fn within(name: &str, x: f64, low: f64, high: f64) -> Result<(), String> {
    if x.is_finite() && x >= low - SLACK && x <= high + SLACK {
        Ok(())
    } else {
        Err(format!(
            "{name} = {x} is outside its valid range [{low}, {high}]"
        ))
    }
}

fn finite_non_negative(name: &str, x: f64) -> Result<(), String> {
    if x.is_finite() && x >= 0.0 {
        Ok(())
    } else {
        Err(format!("{name} = {x} must be finite and >= 0"))
    }
}

/// Checks that a Gaussian row belongs at its place in the grid
/// ([`gaussian::check_row_place`]), and every value against its meaning: λ, λ_angle, the self weight and λ at
/// a crossing in [0, 1]; cosines in [−1, 1]; the support in [1, n]; the entropy in [0, ln n]; η
/// finite and ≥ 0; γ* finite and inside the grid's γ range (all up to rounding).
pub fn check_gaussian_row(row: &gaussian::RowResult, grid: &gaussian::Grid) -> Result<(), String> {
    gaussian::check_row_place(row, grid)?;
    let n = row.n as f64;
    for (name, x) in [
        ("cos_in_min", row.cos_in_min),
        ("cos_in_mean", row.cos_in_mean),
        ("cos_in_max", row.cos_in_max),
    ] {
        within(name, x, -1.0, 1.0)?;
    }
    finite_non_negative("eta_identity", row.eta_identity)?;
    for p in &row.points {
        let at = |name: &str| format!("{name} at gamma {}", p.gamma);
        within(&at("lambda"), p.lambda, 0.0, 1.0)?;
        within(&at("lambda_angle"), p.lambda_angle, 0.0, 1.0)?;
        within(&at("cos_out_mean"), p.cos_out_mean, -1.0, 1.0)?;
        within(&at("self_weight"), p.self_weight, 0.0, 1.0)?;
        within(&at("support"), p.support, 1.0, n)?;
        within(&at("entropy"), p.entropy, 0.0, n.ln())?;
        if let Some(eta) = p.eta {
            finite_non_negative(&at("eta"), eta)?;
        }
    }
    let (low, high) = (
        grid.gammas.first().copied().unwrap_or(0.0),
        grid.gammas.last().copied().unwrap_or(0.0),
    );
    match row.crossing {
        gaussian::Crossing::At { gamma, .. } => within("crossing gamma", gamma, low, high)?,
        gaussian::Crossing::Above { lambda_max } => {
            within("crossing lambda_max", lambda_max, 0.0, 1.0)?
        }
        gaussian::Crossing::Below { lambda_min } => {
            within("crossing lambda_min", lambda_min, 0.0, 1.0)?
        }
    }
    if let Some(g) = row.simplex_crossing
        && !(g.is_finite() && g > 0.0)
    {
        return Err(format!("simplex_crossing = {g} must be finite and > 0"));
    }
    Ok(())
}

/// Checks a claim row: it is a claim of the registry (same theorem and statement), its
/// prediction and tolerance are finite (tolerance ≥ 0), its interval is ordered, and its stored
/// verdict is the one the theorems' rule ([`critscale_theorems::Verdict::judge`]) gives for its
/// evidence.
pub fn check_claim_row(row: &claims::Row) -> Result<(), String> {
    let claim = critscale_theorems::registry()
        .into_iter()
        .find(|c| c.id == row.id)
        .ok_or_else(|| format!("claim '{}' is not in the registry", row.id))?;
    if claim.theorem != row.theorem || claim.statement != row.statement {
        return Err(format!(
            "claim '{}' has another theorem or statement than the registry's",
            row.id
        ));
    }
    let Ok(e) = &row.outcome else {
        return Ok(());
    };
    let bad = |what: String| Err(format!("claim '{}': {what}", row.id));
    if !e.prediction.is_finite() {
        return bad(format!("prediction = {} is not finite", e.prediction));
    }
    if !(e.tolerance.is_finite() && e.tolerance >= 0.0) {
        return bad(format!(
            "tolerance = {} must be finite and >= 0",
            e.tolerance
        ));
    }
    if e.measured.is_nan() || e.ci.iter().any(|x| x.is_nan()) || e.ci[0] > e.ci[1] {
        return bad(format!(
            "measured = {}, interval [{}, {}]: not an ordered interval of numbers",
            e.measured, e.ci[0], e.ci[1]
        ));
    }
    // Every check reports its measurement inside its interval (an enclosure, a mean ± half
    // width, a fit's estimate ± its t-interval), so a measurement outside was edited.
    if !(e.ci[0] <= e.measured && e.measured <= e.ci[1]) {
        return bad(format!(
            "measured = {} lies outside its interval [{}, {}]",
            e.measured, e.ci[0], e.ci[1]
        ));
    }
    let pass = critscale_theorems::Verdict::judge(e.prediction, e.measured, e.ci, e.tolerance)
        == critscale_theorems::Verdict::Pass;
    if pass != e.pass {
        return bad(format!(
            "the stored verdict '{}' is not what its evidence gives ('{}')",
            if e.pass { "pass" } else { "fail" },
            if pass { "pass" } else { "fail" }
        ));
    }
    Ok(())
}

/// Checks every value of a shard ([`check_gaussian_row`], [`check_claim_row`]) and its times.
pub fn check_values(run: &ShardRun) -> Result<(), String> {
    finite_non_negative("seconds", run.seconds)?;
    if run.threads == 0 {
        return Err("threads = 0 must be >= 1".to_owned());
    }
    let grid = run.budget.gaussian();
    for (key, value) in &run.results {
        let in_unit = |e: String| format!("unit '{key}': {e}");
        if key.starts_with("gaussian/") {
            let row = read_gaussian_row(value).map_err(in_unit)?;
            check_gaussian_row(&row, &grid).map_err(in_unit)?;
        } else if key.starts_with("claim/") {
            let row = claims::Row::from_json(value).map_err(in_unit)?;
            check_claim_row(&row).map_err(in_unit)?;
            finite_non_negative("seconds", row.seconds).map_err(in_unit)?;
        } else {
            return Err(format!("unknown unit '{key}'"));
        }
    }
    Ok(())
}

/// Checks that `shards` are exactly the N shards of one run of this build, and returns the
/// run's configuration and every unit with its raw result, in global order.
pub fn check_shards(
    shards: &[ShardRun],
    git_revision: &str,
) -> Result<(Config, Vec<(Unit, Value)>), MergeError> {
    let mismatch = |m: String| MergeError::Mismatch(m);
    let first = shards
        .first()
        .ok_or_else(|| mismatch("no shard directories given".to_owned()))?;
    let count = first.spec.count;
    for s in shards {
        if s.spec.count != first.spec.count {
            return Err(mismatch(format!(
                "shard {} and shard {} come from splits into different numbers of shards",
                first.spec, s.spec
            )));
        }
        if s.budget != first.budget || s.claim_filter != first.claim_filter {
            return Err(mismatch(format!(
                "shards {} and {} were run with different --budget or --claim options",
                first.spec, s.spec
            )));
        }
        if s.git_revision != first.git_revision {
            return Err(mismatch(format!(
                "shards {} ({}) and {} ({}) were computed by different git revisions",
                first.spec, first.git_revision, s.spec, s.git_revision
            )));
        }
    }
    if first.git_revision != git_revision {
        return Err(mismatch(format!(
            "the shards were computed at git revision {} but this build is {git_revision}: merge with the \
             build that computed them",
            first.git_revision
        )));
    }
    let mut seen = vec![false; count];
    for s in shards {
        if std::mem::replace(&mut seen[s.spec.index - 1], true) {
            return Err(mismatch(format!("shard {} is given twice", s.spec)));
        }
    }
    if let Some(missing) = seen.iter().position(|&s| !s) {
        return Err(mismatch(format!(
            "shard {}/{count} is missing",
            missing + 1
        )));
    }
    let config = Config {
        budget: first.budget,
        jobs: None,
        quiet: true,
        claims: first.claim_filter.clone(),
    };
    let all = units(&config)?;
    let mut results = Vec::with_capacity(all.len());
    let mut cursors: Vec<std::slice::Iter<'_, (String, Value)>> =
        shards.iter().map(|s| s.results.iter()).collect();
    let mut order: Vec<usize> = vec![0; count];
    for (k, s) in shards.iter().enumerate() {
        order[s.spec.index - 1] = k;
    }
    for (k, unit) in all.iter().enumerate() {
        let expected = unit_key(unit, config.budget);
        let shard = order[k % count];
        match cursors[shard].next() {
            Some((key, value)) if *key == expected => results.push((*unit, value.clone())),
            Some((key, _)) => {
                return Err(mismatch(format!(
                    "shard {} holds unit '{key}' where '{expected}' was expected",
                    shards[shard].spec
                )));
            }
            None => {
                return Err(mismatch(format!(
                    "shard {} lacks unit '{expected}'",
                    shards[shard].spec
                )));
            }
        }
    }
    for (k, mut rest) in cursors.into_iter().enumerate() {
        if let Some((key, _)) = rest.next() {
            return Err(mismatch(format!(
                "shard {} holds the unexpected unit '{key}'",
                shards[k].spec
            )));
        }
    }
    Ok((config, results))
}

/// Merges shards into the sections of one unsharded run (the closed-form sections are
/// recomputed here, in a pool of `jobs` threads).
pub fn merge(
    shards: &[ShardRun],
    git_revision: &str,
    jobs: Option<usize>,
    quiet: bool,
) -> Result<Sections, MergeError> {
    let (mut config, results) = check_shards(shards, git_revision)?;
    config.jobs = jobs;
    config.quiet = quiet;
    let grid = config.budget.gaussian();
    let mut rows = Vec::new();
    let mut claim_rows = Vec::new();
    for (unit, value) in &results {
        let bad = |e: String| {
            MergeError::Mismatch(format!("unit '{}': {e}", unit_key(unit, config.budget)))
        };
        match unit {
            Unit::Gaussian(_) => {
                let row = read_gaussian_row(value).map_err(bad)?;
                check_gaussian_row(&row, &grid).map_err(bad)?;
                rows.push(row);
            }
            Unit::Claim(id) => {
                let row = claims::Row::from_json(value).map_err(bad)?;
                if row.id != *id {
                    return Err(bad(format!("holds claim {}", row.id)));
                }
                // The verdict is judged again from the evidence, never taken from the file.
                check_claim_row(&row).map_err(bad)?;
                claim_rows.push(row);
            }
        }
    }
    let mut by_index: Vec<&ShardRun> = shards.iter().collect();
    by_index.sort_by_key(|s| s.spec.index);
    let shard_times: Vec<Value> = by_index
        .iter()
        .map(|s| {
            json!({
                "shard": s.spec.to_string(),
                "host": s.host,
                "threads": s.threads,
                "seconds": crate::round_seconds(s.seconds),
            })
        })
        .collect();
    let sections = crate::in_pool(config.jobs, || {
        crate::assemble(&config, rows, claim_rows, shard_times)
    })?;
    Ok(sections)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A small valid shard, built by hand (no computing): one Gaussian row of the quick grid and
    /// one claim.
    fn sample() -> ShardRun {
        let grid = Budget::Quick.gaussian();
        let key = gaussian::RowKey {
            dim_index: 0,
            rho_index: 0,
        };
        let d = grid.dims[0];
        let points = grid
            .gammas
            .iter()
            .enumerate()
            .map(|(j, &gamma)| gaussian::Point {
                gamma,
                lambda: 0.1 * j as f64,
                lambda_angle: 0.2,
                cos_out_mean: 0.5,
                self_weight: 0.25,
                support: 3.0,
                entropy: 1.5,
                eta: Some(0.75 + j as f64),
            })
            .collect();
        let row = gaussian::RowResult {
            key,
            n: grid.n,
            d,
            rho: grid.rhos[0],
            seed: gaussian::row_sample_key(&grid, d, grid.rhos[0]).stream_seed(),
            cos_in_min: 0.1,
            cos_in_mean: 0.2,
            cos_in_max: 0.3,
            eta_identity: 1.0,
            points,
            crossing: gaussian::Crossing::At {
                gamma: 4.0,
                steps: 7,
            },
            simplex_crossing: Some(4.2),
        };
        let claim = critscale_theorems::registry()[0];
        let claim_row = claims::Row {
            id: claim.id.to_owned(),
            theorem: claim.theorem.to_owned(),
            statement: claim.statement.to_owned(),
            outcome: Ok(claims::Evidence {
                prediction: 1.0,
                measured: 1.0,
                ci: [1.0, 1.0],
                tolerance: 1e-12,
                pass: true,
                method: "by hand".to_owned(),
            }),
            seconds: 0.5,
        };
        ShardRun {
            spec: ShardSpec { index: 1, count: 1 },
            budget: Budget::Quick,
            claim_filter: vec![claim.id.to_owned()],
            git_revision: "0123abcd".to_owned(),
            host: "test".to_owned(),
            results: vec![
                (
                    row_key_name_of(key, &grid),
                    serde_json::to_value(&row).unwrap(),
                ),
                (format!("claim/{}", claim.id), claim_row.to_json()),
            ],
            seconds: 2.0,
            threads: 1,
        }
    }

    fn row_key_name_of(key: gaussian::RowKey, grid: &gaussian::Grid) -> String {
        gaussian::row_key_name(key, grid)
    }

    /// The bytes of the marker and of the shard file, as `report --shard` writes them.
    fn files_of(run: &ShardRun) -> (Vec<u8>, Vec<u8>) {
        let files = run.artifacts();
        let marker = crate::write::Manifest::of(crate::write::SHARD, &files).to_text();
        (marker.into_bytes(), files[0].bytes.clone())
    }

    /// `run` with the unit `k`'s JSON changed by `edit`, re-checksummed (as someone who
    /// rewrites the marker too would do): only the value checks can catch it.
    fn edited(k: usize, edit: impl FnOnce(&mut Value)) -> Result<ShardRun, String> {
        let mut run = sample();
        edit(&mut run.results[k].1);
        let (marker, file) = files_of(&run);
        parse_shard(&marker, &file)
    }

    #[test]
    fn a_valid_shard_is_read_back() {
        let run = sample();
        let (marker, file) = files_of(&run);
        let back = parse_shard(&marker, &file).unwrap();
        assert_eq!(back.results, run.results);
    }

    #[test]
    fn out_of_range_values_and_false_verdicts_are_refused_even_with_a_valid_checksum() {
        let point = |v: &mut Value, name: &str, x: Value| v["points"][1][name] = x;
        for (name, x) in [
            ("lambda", json!(-3.0)),
            ("lambda", json!(1.5)),
            ("lambda", json!("nan")),
            ("eta", json!("inf")),
            ("eta", json!(-1.0)),
            ("support", json!(0.5)),
            ("entropy", json!(100.0)),
            ("cos_out_mean", json!(-2.0)),
            ("self_weight", json!("-inf")),
        ] {
            let err = edited(0, |v| point(v, name, x.clone())).unwrap_err();
            assert!(err.contains(name), "{name} = {x}: {err}");
        }
        assert!(edited(0, |v| v["crossing"]["gamma"] = json!(1e9)).is_err());
        assert!(edited(0, |v| v["simplex_crossing"] = json!(-1.0)).is_err());
        // A claim whose verdict says pass while its evidence fails, and the other way round.
        let err = edited(1, |v| v["outcome"]["measured"] = json!("inf")).unwrap_err();
        assert!(err.contains("outside its interval"), "{err}");
        // A measurement moved alone, its interval and verdict kept: the pass would still hold
        // on the interval, but a measurement outside its own interval was edited.
        let err = edited(1, |v| v["outcome"]["measured"] = json!(1.7)).unwrap_err();
        assert!(err.contains("outside its interval"), "{err}");
        let err = edited(1, |v| v["outcome"]["prediction"] = json!(2.0)).unwrap_err();
        assert!(err.contains("verdict"), "{err}");
        let err = edited(1, |v| v["outcome"]["pass"] = json!(false)).unwrap_err();
        assert!(err.contains("verdict"), "{err}");
        assert!(edited(1, |v| v["outcome"]["tolerance"] = json!(-1.0)).is_err());
        assert!(edited(1, |v| v["statement"] = json!("anything")).is_err());
        assert!(edited(1, |v| v["outcome"]["ci"] = json!([2.0, 1.0])).is_err());
    }

    #[test]
    fn an_edit_without_a_new_checksum_is_refused() {
        let run = sample();
        let (marker, file) = files_of(&run);
        let text = String::from_utf8(file).unwrap();
        // The claim's measured value changed while its verdict stays "pass".
        let edited = text.replacen("\"measured\": 1.0", "\"measured\": 1.5", 1);
        assert_ne!(edited, text);
        let err = parse_shard(&marker, edited.as_bytes()).unwrap_err();
        assert!(err.contains("checksum"), "{err}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_bytes_never_panic(marker in proptest::collection::vec(any::<u8>(), 0..300),
                                    file in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_shard(&marker, &file);
            let valid = files_of(&sample()).0;
            let _ = parse_shard(&valid, &file);
        }

        #[test]
        fn every_single_byte_edit_is_refused(in_marker in any::<bool>(), at in any::<prop::sample::Index>(),
                                             byte in any::<u8>()) {
            let (mut marker, mut file) = files_of(&sample());
            let target = if in_marker { &mut marker } else { &mut file };
            let k = at.index(target.len());
            prop_assume!(target[k] != byte);
            target[k] = byte;
            prop_assert!(parse_shard(&marker, &file).is_err());
        }

        #[test]
        fn random_json_values_with_a_valid_checksum_never_panic(x in any::<f64>(), k in 0usize..2,
                                                                 field in 0usize..4) {
            let _ = edited(k, |v| {
                let names = ["lambda", "eta", "support", "gamma"];
                if k == 0 {
                    v["points"][0][names[field]] = exact(x);
                } else {
                    v["outcome"][["prediction", "measured", "tolerance", "prediction"][field]] = exact(x);
                }
            });
        }
    }

    #[test]
    fn shard_specs_parse_and_split_the_units() {
        assert_eq!(
            ShardSpec::parse(" 2/8 ").unwrap(),
            ShardSpec { index: 2, count: 8 }
        );
        for bad in ["0/3", "4/3", "1/0", "x/2", "2", "1/2/3", "-1/2"] {
            assert!(ShardSpec::parse(bad).is_err(), "{bad}");
        }
        let count = 3;
        for k in 0..20 {
            let owners = (1..=count)
                .filter(|&index| ShardSpec { index, count }.owns(k))
                .count();
            assert_eq!(owners, 1, "unit {k}");
        }
    }

    #[test]
    fn exact_numbers_round_trip_through_text() {
        // Without serde_json's `float_roundtrip` feature about one double in six would come
        // back one ulp off; sweep many bit patterns.
        let mut bits: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            bits = bits.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let x = f64::from_bits(bits >> 1);
            if !x.is_finite() {
                continue;
            }
            let text = serde_json::to_string(&exact(x)).unwrap();
            let back = read_exact(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
        }
    }

    #[test]
    fn exact_numbers_round_trip() {
        for x in [
            0.1,
            -1.0 / 3.0,
            1e-300,
            5e-324,
            f64::MAX,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            let text = serde_json::to_string(&exact(x)).unwrap();
            let back = read_exact(&serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back.to_bits(), x.to_bits(), "{x:e}");
        }
        assert!(read_exact(&exact(f64::NAN)).unwrap().is_nan());
        assert!(read_exact(&json!(true)).is_err());
    }

    #[test]
    fn claim_rows_round_trip_through_json() {
        let row = claims::Row {
            id: "T1.x".to_owned(),
            theorem: "T1".to_owned(),
            statement: "a | b".to_owned(),
            outcome: Ok(claims::Evidence {
                prediction: 1.0 / 0.7,
                measured: 1.428_571_428_571_6,
                ci: [f64::NEG_INFINITY, 2.0],
                tolerance: 1e-6,
                pass: true,
                method: "fit".to_owned(),
            }),
            seconds: 0.125,
        };
        let text = serde_json::to_string(&row.to_json()).unwrap();
        let back = claims::Row::from_json(&serde_json::from_str(&text).unwrap()).unwrap();
        assert_eq!(back, row);
        let failed = claims::Row {
            outcome: Err("no crossing".to_owned()),
            ..row
        };
        assert_eq!(claims::Row::from_json(&failed.to_json()).unwrap(), failed);
    }
}
