//! Merging shards: they must be the N shards of one run of this build, with every unit once.

use super::check::{check_claim_row, check_gaussian_row, read_claim_row, read_gaussian_row};
use super::error::MergeError;
use super::run::ShardRun;
use super::spec::{Unit, unit_key, units};
use crate::{BudgetGrids, Config, Sections};
use serde_json::{Value, json};

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
    let mut cursors: Vec<std::slice::Iter<'_, super::UnitResult>> =
        shards.iter().map(|s| s.results.iter()).collect();
    let mut order: Vec<usize> = vec![0; count];
    for (k, s) in shards.iter().enumerate() {
        order[s.spec.index - 1] = k;
    }
    for (k, unit) in all.iter().enumerate() {
        let expected = unit_key(unit, config.budget);
        let shard = order[k % count];
        match cursors[shard].next() {
            Some(u) if u.key == expected => results.push((*unit, u.result.clone())),
            Some(super::UnitResult { key, .. }) => {
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
        if let Some(super::UnitResult { key, .. }) = rest.next() {
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
                let row = read_claim_row(value).map_err(bad)?;
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
