//! Which shard owns which unit of the expensive work.

use crate::{Budget, BudgetGrids, Config, ReportError, claims, gaussian};
use serde::{Deserialize, Serialize};
use std::fmt;

/// `i/N`: shard i (1-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardSpec {
    /// 1 ..= count.
    #[serde(rename = "shard")]
    pub index: usize,
    /// Number of shards, ≥ 1.
    #[serde(rename = "of")]
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
