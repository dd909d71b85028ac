//! The claims table: every claim of `critscale_theorems::registry()` run at the report's budget.
//!
//! Each row is the claim's evidence: prediction, measurement, confidence interval (or enclosure),
//! tolerance and verdict — pass when `ci.0 − tolerance ≤ prediction ≤ ci.1 + tolerance`. A claim
//! that could not produce evidence (a fit failed) is listed with its reason and counts as failed.
//! The wall time of each check goes to `timings.json`, not to the data files.

use crate::certificates::coq_cell;
use crate::format::md_num;
use crate::table::{Column, Table};
use crate::{Artifact, Budget, ReportError};
use critscale_certify::coq::claim_theorem;
use critscale_theorems::{Claim, ControlEvidence, Evidence, Perturbation, Verdict};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt::Write as _;
use std::time::Instant;

/// One claim's row; serde writes it into shard files (the evidence with every number exact, a
/// missing evidence as `{"error": reason}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// Claim ID.
    pub id: String,
    /// Theorem (T1 …).
    pub theorem: String,
    /// Statement.
    pub statement: String,
    /// The evidence, or why there is none.
    #[serde(with = "outcome")]
    pub outcome: Result<Evidence, String>,
    /// Wall time (timings only).
    #[serde(with = "critscale_sweeps::exact")]
    pub seconds: f64,
}

/// `Result<Evidence, String>` as the evidence itself or `{"error": reason}`.
mod outcome {
    use super::Evidence;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    #[serde(untagged)]
    enum Stored<E, R> {
        Evidence(E),
        Error { error: R },
    }

    pub fn serialize<S: Serializer>(x: &Result<Evidence, String>, s: S) -> Result<S::Ok, S::Error> {
        match x {
            Ok(e) => Stored::<&Evidence, &str>::Evidence(e),
            Err(error) => Stored::Error {
                error: error.as_str(),
            },
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Result<Evidence, String>, D::Error> {
        Ok(match Stored::<Evidence, String>::deserialize(d)? {
            Stored::Evidence(e) => Ok(e),
            Stored::Error { error } => Err(error),
        })
    }
}

/// The claims `--claim` selects: [`critscale_theorems::select`] (the one rule `critscale check`
/// also uses), its refusal as a [`ReportError`].
pub fn select(filter: &[String]) -> Result<Vec<Claim>, ReportError> {
    critscale_theorems::select(filter).map_err(|e| ReportError::UnknownClaim(e.wanted, e.known))
}

/// Runs the claims in parallel (results in the given order).
pub fn compute(claims: &[Claim], budget: Budget, tick: &(dyn Fn() + Sync)) -> Vec<Row> {
    compute_with(claims, budget, &[], tick)
}

/// As [`compute`], but a claim found in `fitted` (the rates section's series at the same
/// budget) is judged on the measurement made there, so that its series are computed once.
pub fn compute_with(
    claims: &[Claim],
    budget: Budget,
    fitted: &[crate::rates::Fitted],
    tick: &(dyn Fn() + Sync),
) -> Vec<Row> {
    claims
        .par_iter()
        .map(|claim| {
            let start = Instant::now();
            let known = fitted.iter().find(|f| f.id == claim.id);
            let outcome = match known {
                Some(f) => claim.evidence(f.measurement.clone(), budget, f.seconds),
                None => claim.run(budget, &Perturbation::default()),
            };
            let outcome = outcome.map_err(|e| e.reason);
            tick();
            Row {
                id: claim.id.to_owned(),
                theorem: claim.theorem.to_owned(),
                statement: claim.statement.to_owned(),
                outcome,
                seconds: known.map_or_else(|| start.elapsed().as_secs_f64(), |f| f.seconds),
            }
        })
        .collect()
}

/// (passed, total).
pub fn tally(rows: &[Row]) -> (usize, usize) {
    let passed = rows
        .iter()
        .filter(|r| matches!(&r.outcome, Ok(e) if e.verdict == Verdict::Pass))
        .count();
    (passed, rows.len())
}

fn verdict(row: &Row) -> &'static str {
    match &row.outcome {
        Ok(e) if e.verdict == Verdict::Pass => "pass",
        Ok(_) => "fail",
        Err(_) => "error",
    }
}

/// A line of the claims table: the row's evidence, or its verdict `error` and the reason.
#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    theorem: &'a str,
    statement: &'a str,
    #[serde(flatten)]
    found: Found<'a>,
    coq: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Found<'a> {
    Evidence {
        prediction: f64,
        measured: f64,
        ci: [f64; 2],
        tolerance: f64,
        verdict: &'static str,
        controls: String,
        method: &'a str,
    },
    Error {
        verdict: &'static str,
        error: &'a str,
    },
}

/// The data files: `claims.csv` and `claims.json` from one table (the CSV splits `ci` into
/// `ci_low`, `ci_high`, and gives an error's reason in the `method` column).
pub fn artifacts(rows: &[Row]) -> Result<Vec<Artifact>, ReportError> {
    let mut table = Table::new(vec![
        Column::new("id"),
        Column::new("theorem"),
        Column::new("statement"),
        Column::new("prediction"),
        Column::new("measured"),
        Column::at("ci_low", "/ci/0"),
        Column::at("ci_high", "/ci/1"),
        Column::new("tolerance"),
        Column::new("verdict"),
        Column::new("controls"),
        Column::new("method").or("/error"),
        Column::new("coq"),
    ]);
    for row in rows {
        let found = match &row.outcome {
            Ok(e) => Found::Evidence {
                prediction: e.prediction,
                measured: e.measured,
                ci: e.ci,
                tolerance: e.tolerance,
                verdict: verdict(row),
                controls: e.controls_text(),
                method: &e.method,
            },
            Err(reason) => Found::Error {
                verdict: verdict(row),
                error: reason,
            },
        };
        table.push(&Line {
            id: &row.id,
            theorem: &row.theorem,
            statement: &row.statement,
            found,
            coq: claim_theorem(&row.id),
        })?;
    }
    let mut controls = Table::new(vec![
        Column::new("id"),
        Column::new("setting"),
        Column::new("prediction"),
        Column::new("measured"),
        Column::at("ci_low", "/ci/0"),
        Column::at("ci_high", "/ci/1"),
        Column::new("tolerance"),
        Column::new("verdict"),
        Column::new("method"),
    ]);
    for row in rows {
        if let Ok(e) = &row.outcome {
            for c in &e.controls {
                controls.push(&ControlLine {
                    id: &row.id,
                    control: c,
                })?;
            }
        }
    }
    Ok(vec![
        Artifact::new("data/claims.csv", table.csv()?),
        Artifact::json("data/claims.json", &Value::Array(table.json_rows())),
        Artifact::new("data/controls.csv", controls.csv()?),
        Artifact::json("data/controls.json", &Value::Array(controls.json_rows())),
    ])
}

/// A line of the controls table: the claim's ID and one control's evidence.
#[derive(Serialize)]
struct ControlLine<'a> {
    id: &'a str,
    #[serde(flatten)]
    control: &'a ControlEvidence,
}

/// A control's verdict in the tables: `rejected` (as it must be) or `NOT rejected`.
fn control_word(c: &ControlEvidence) -> &'static str {
    if c.rejected() {
        "rejected"
    } else {
        "NOT rejected"
    }
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The Markdown table.
pub fn markdown(rows: &[Row], budget: Budget, filter: &[String]) -> String {
    let (passed, total) = tally(rows);
    let mut md = String::new();
    let _ = writeln!(md, "## Claims\n");
    let _ = writeln!(
        md,
        "{} of `critscale_theorems::registry()` (the same checks as `critscale check`), at the {} budget: \
         {passed} of {total} pass. A claim passes when its prediction lies in the measurement's confidence interval \
         (or enclosure) widened by the tolerance on both sides, and its check rejects every one of its negative \
         controls (the same check where the theorem's conclusion is false; table below); the tolerances and methods \
         are documented in `crates/theorems` and `proofs/`. \"Coq\" names the theorem of `proofs/coq` that proves the \
         n → ∞ statement the claim checks at finite n (– where none is machine-checked). Methods per claim: \
         [`data/claims.csv`](data/claims.csv).\n",
        if filter.is_empty() {
            "Every claim".to_owned()
        } else {
            format!("The claims {} (selected with --claim)", filter.join(", "))
        },
        budget.word()
    );
    let _ = writeln!(
        md,
        "| ID | statement | prediction | measured | CI | tolerance | controls | verdict | Coq |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        match &row.outcome {
            Ok(e) => {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | [{}, {}] | {} | {} | {} | {} |",
                    row.id,
                    md_cell(&row.statement),
                    md_num(e.prediction),
                    md_num(e.measured),
                    md_num(e.ci[0]),
                    md_num(e.ci[1]),
                    md_num(e.tolerance),
                    e.controls_text(),
                    verdict(row),
                    coq_cell(claim_theorem(&row.id))
                );
            }
            Err(reason) => {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | – | – | – | – | – | error: {} | {} |",
                    row.id,
                    md_cell(&row.statement),
                    md_cell(reason),
                    coq_cell(claim_theorem(&row.id))
                );
            }
        }
    }
    let _ = writeln!(
        md,
        "\n### Negative controls\n\nEach claim's check run where the theorem's conclusion is false; the check must \
         reject it (a control it does not reject fails the claim). The prediction and tolerance are the claim's (a \
         formula of the parameters, such as a rate 2κ, is evaluated at the control's). Methods: [`data/controls.csv`](data/controls.csv).\n"
    );
    let _ = writeln!(
        md,
        "| ID | setting | prediction | measured | CI | tolerance | control |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for row in rows {
        let Ok(e) = &row.outcome else { continue };
        for c in &e.controls {
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | [{}, {}] | {} | {} |",
                row.id,
                md_cell(&c.setting),
                md_num(c.prediction),
                md_num(c.measured),
                md_num(c.ci[0]),
                md_num(c.ci[1]),
                md_num(c.tolerance),
                control_word(c)
            );
        }
    }
    md.push('\n');
    md
}
