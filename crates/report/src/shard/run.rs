//! Computing a shard and its file: [`ShardRun`] as serde writes it into [`SHARD_FILE`].

use super::spec::{ShardSpec, Unit, unit_key, units};
use super::{FORMAT, SHARD_FILE};
use crate::{Artifact, Budget, BudgetGrids, Config, ReportError, claims, gaussian};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Instant;

/// The results of one shard: the layout of [`SHARD_FILE`] after its header (`format`,
/// `generator`, `version`), every `f64` exact (`critscale_sweeps::exact`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRun {
    /// Which shard (`shard` and `of` in the file).
    #[serde(flatten)]
    pub spec: ShardSpec,
    /// The budget.
    pub budget: Budget,
    /// The claim filter (empty: all claims).
    #[serde(rename = "claims")]
    pub claim_filter: Vec<String>,
    /// `git rev-parse HEAD` of the build that computed it.
    pub git_revision: String,
    /// Host name (for timings only).
    pub host: String,
    /// Wall time of the whole shard.
    #[serde(with = "critscale_sweeps::exact")]
    pub seconds: f64,
    /// Threads used.
    pub threads: usize,
    /// The results, in global unit order.
    #[serde(rename = "units")]
    pub results: Vec<UnitResult>,
}

/// One unit's raw result: a `critscale_sweeps::gaussian::RowResult` or a [`claims::Row`] as
/// serde writes them, read only after the checksum is verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitResult {
    /// The unit's key ([`unit_key`]).
    pub key: String,
    /// Its result.
    pub result: Value,
}

/// The file: a fixed header, then the run.
#[derive(Serialize)]
struct File<'a> {
    format: u64,
    generator: &'static str,
    version: &'static str,
    #[serde(flatten)]
    run: &'a ShardRun,
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
        // Side by side, as in an unsharded run.
        let (gaussian_rows, claim_rows) = rayon::join(
            || crate::compute_gaussian_rows(&grid, &rows, config.quiet),
            || crate::compute_claims(&chosen, budget, config.quiet),
        );
        let gaussian_rows = gaussian_rows?;
        let mut results = Vec::with_capacity(mine.len());
        let (mut g, mut c) = (gaussian_rows.iter(), claim_rows.iter());
        for unit in &mine {
            let result = match unit {
                Unit::Gaussian(_) => g.next().map(serde_json::to_value),
                Unit::Claim(_) => c.next().map(serde_json::to_value),
            }
            .ok_or_else(|| ReportError::Internal("a unit has no result".to_owned()))?
            .map_err(|e| ReportError::Internal(format!("a unit's result as JSON: {e}")))?;
            results.push(UnitResult {
                key: unit_key(unit, budget),
                result,
            });
        }
        Ok(ShardRun {
            spec,
            budget,
            claim_filter: config.claims.clone(),
            git_revision: git_revision.to_owned(),
            host: host_name(),
            seconds: start.elapsed().as_secs_f64(),
            threads: rayon::current_num_threads(),
            results,
        })
    })
}

impl ShardRun {
    /// The contents of [`SHARD_FILE`]: the header (`format` [`FORMAT`], `generator`, the crate
    /// version), then the run as serde writes it.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(File {
            format: FORMAT,
            generator: "critscale report --shard",
            version: crate::provenance::VERSION,
            run: self,
        })
        .unwrap_or(Value::Null)
    }

    /// Reads [`ShardRun::to_json`]'s output: the format first (so an old or newer file is
    /// named as such), then the run; a spec outside 1 ≤ i ≤ N is refused.
    pub fn from_json(value: &Value) -> Result<ShardRun, String> {
        let format = value.get("format").and_then(Value::as_u64);
        if format != Some(FORMAT) {
            return Err(format!(
                "shard format {format:?}, this build reads format {FORMAT}"
            ));
        }
        let run = ShardRun::deserialize(value).map_err(|e| format!("shard file: {e}"))?;
        let spec = run.spec;
        if spec.count == 0 || spec.index == 0 || spec.index > spec.count {
            return Err(format!("invalid shard {spec}"));
        }
        Ok(run)
    }

    /// The files of the shard directory (the marker is added by the writer).
    pub fn artifacts(&self) -> Vec<Artifact> {
        vec![Artifact::json(SHARD_FILE, &self.to_json())]
    }
}
