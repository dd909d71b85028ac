//! Reading a shard back: the checksum, then every value against its meaning.

use super::error::MergeError;
use super::run::ShardRun;
use super::{SHARD_FILE, SHARD_MARKER};
use crate::BudgetGrids;
use crate::{claims, gaussian};
use critscale_theorems::Verdict;
use serde_json::Value;
use std::path::Path;

/// A Gaussian row of a shard file (serde, the layout of `critscale_sweeps::gaussian::RowResult`).
pub(super) fn read_gaussian_row(value: &Value) -> Result<gaussian::RowResult, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("gaussian row JSON: {e}"))
}

/// A claim row of a shard file (serde, the layout of [`claims::Row`]).
pub(super) fn read_claim_row(value: &Value) -> Result<claims::Row, String> {
    serde_json::from_value(value.clone()).map_err(|e| format!("claim row JSON: {e}"))
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
/// verdict is the one the theorems' rule ([`critscale_theorems::Evidence::verdict_from_numbers`]:
/// its own measurement passes and every control is rejected) gives for its evidence; its
/// controls are the registry's, each with the verdict its numbers give.
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
    if e.id != row.id || e.statement != row.statement {
        return bad("its evidence names another claim".to_owned());
    }
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
    let settings: Vec<&str> = e.controls.iter().map(|c| c.setting.as_str()).collect();
    let registered: Vec<&str> = claim.controls.iter().map(|c| c.setting).collect();
    if settings != registered {
        return bad("its controls are not the registry's".to_owned());
    }
    for c in &e.controls {
        let judged = Verdict::judge(c.prediction, c.measured, c.ci, c.tolerance);
        if judged != c.verdict {
            return bad(format!(
                "the stored verdict of control '{}' is not what its evidence gives",
                c.setting
            ));
        }
    }
    let verdict = e.verdict_from_numbers();
    if verdict != e.verdict {
        let word = |v: Verdict| if v == Verdict::Pass { "pass" } else { "fail" };
        return bad(format!(
            "the stored verdict '{}' is not what its evidence gives ('{}')",
            word(e.verdict),
            word(verdict)
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
    for super::UnitResult { key, result: value } in &run.results {
        let in_unit = |e: String| format!("unit '{key}': {e}");
        if key.starts_with("gaussian/") {
            let row = read_gaussian_row(value).map_err(in_unit)?;
            check_gaussian_row(&row, &grid).map_err(in_unit)?;
        } else if key.starts_with("claim/") {
            let row = read_claim_row(value).map_err(in_unit)?;
            check_claim_row(&row).map_err(in_unit)?;
            finite_non_negative("seconds", row.seconds).map_err(in_unit)?;
        } else {
            return Err(format!("unknown unit '{key}'"));
        }
    }
    Ok(())
}
