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
//! decimal form ([`exact`]): nothing is rounded before the merge.
//!
//! **Merge.** `merge` checks that the shards agree on N, budget, filter and git revision (and that
//! the revision is the merging build's own), that every index 1..=N is present once and that
//! together they hold every unit exactly once, with the expected keys. It then builds the same
//! [`Sections`] an unsharded run builds and hands them to the same [`crate::artifacts`]: rounding
//! and layout happen only there, so the data files and figures are byte-identical to those of an
//! unsharded run (tested in `tests/report.rs` of the workspace suite). `timings.json` lists each
//! shard's wall time and host.

use crate::{Budget, Config, ReportError, Sections, claims, gaussian};
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
/// `inf`, `-inf`, `nan` (JSON has no such numbers). [`read_exact`] inverts it exactly.
pub fn exact(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("nan")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

/// Reads a number written by [`exact`].
pub fn read_exact(value: &Value) -> Result<f64, String> {
    match value {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("number {n} is not an f64")),
        Value::String(s) if s == "inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Value::String(s) if s == "nan" => Ok(f64::NAN),
        other => Err(format!("expected a number, found {other}")),
    }
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
                Unit::Gaussian(_) => g.next().map(gaussian::RowResult::to_json),
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
        let budget = match field_str(value, "budget")?.as_str() {
            "quick" => Budget::Quick,
            "full" => Budget::Full,
            other => return Err(format!("unknown budget '{other}'")),
        };
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

/// Reads the shard directory `dir`.
pub fn read_shard(dir: &Path) -> Result<ShardRun, MergeError> {
    let fail = |reason: String| MergeError::Read {
        path: dir.display().to_string(),
        reason,
    };
    if !dir.join(SHARD_MARKER).is_file() {
        return Err(fail(format!(
            "no {SHARD_MARKER} file: not a directory written by `report --shard`"
        )));
    }
    let bytes =
        std::fs::read(dir.join(SHARD_FILE)).map_err(|e| fail(format!("{SHARD_FILE}: {e}")))?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| fail(format!("{SHARD_FILE}: {e}")))?;
    ShardRun::from_json(&value).map_err(|e| fail(format!("{SHARD_FILE}: {e}")))
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
    let mut rows = Vec::new();
    let mut claim_rows = Vec::new();
    for (unit, value) in &results {
        let bad = |e: String| {
            MergeError::Mismatch(format!("unit '{}': {e}", unit_key(unit, config.budget)))
        };
        match unit {
            Unit::Gaussian(_) => {
                rows.push(gaussian::RowResult::from_json(value).map_err(|e| bad(e.to_string()))?)
            }
            Unit::Claim(id) => {
                let row = claims::Row::from_json(value).map_err(bad)?;
                if row.id != *id {
                    return Err(bad(format!("holds claim {}", row.id)));
                }
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
