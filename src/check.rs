//! `critscale check`: run the registered claims and print the evidence.

use critscale_certify::coq::claim_theorem;
use critscale_theorems::{Budget, CheckError, Claim, Evidence, Perturbation, Verdict, select};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Instant;

/// The options of `check`.
#[derive(Debug, Clone)]
pub struct CheckArgs {
    /// Run only these claim IDs (or ID prefixes such as `T1.rate`); all when empty.
    pub claims: Vec<String>,
    /// The budget (`check`'s default is quick).
    pub budget: Budget,
}

impl Default for CheckArgs {
    /// All claims at the quick budget.
    fn default() -> Self {
        CheckArgs {
            claims: Vec::new(),
            budget: Budget::Quick,
        }
    }
}

use crate::options::BadParameter;

/// The claims to run ([`critscale_theorems::select`]: registry order).
pub fn plan(args: &CheckArgs) -> Result<Vec<Claim>, BadParameter> {
    select(&args.claims).map_err(|unknown| {
        BadParameter::new(
            "claim",
            unknown.wanted,
            format!("known claims: {}", unknown.known),
        )
    })
}

/// The outcome of one claim: its evidence, or why no evidence could be produced (the error
/// keeps the claim ID).
pub type Outcome = Result<Evidence, CheckError>;

/// Runs the claims, with a progress bar on stderr unless `quiet`.
pub fn run(claims: &[Claim], budget: Budget, quiet: bool) -> (Vec<Outcome>, f64) {
    let start = Instant::now();
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(claims.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len} claims  {elapsed}  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut outcomes = Vec::new();
    for claim in claims {
        bar.set_message(claim.id);
        outcomes.push(claim.run(budget, &Perturbation::default()));
        bar.inc(1);
    }
    bar.finish_and_clear();
    (outcomes, start.elapsed().as_secs_f64())
}

/// True when every claim passed.
pub fn all_passed(outcomes: &[Outcome]) -> bool {
    outcomes
        .iter()
        .all(|o| matches!(o, Ok(e) if e.verdict == Verdict::Pass))
}

/// The table: claim, prediction, measured ± CI, tolerance, verdict.
pub fn render(outcomes: &[Outcome], seconds: f64, budget: Budget) -> String {
    let mut rows = vec![[
        "claim".to_owned(),
        "prediction".to_owned(),
        "measured [CI]".to_owned(),
        "tolerance".to_owned(),
        "controls".to_owned(),
        "verdict".to_owned(),
        "seconds".to_owned(),
    ]];
    let mut notes = String::new();
    for outcome in outcomes {
        match outcome {
            Ok(e) => {
                rows.push([
                    e.id.clone(),
                    format!("{:.10}", e.prediction),
                    format!("{:.10} [{:.10}, {:.10}]", e.measured, e.ci[0], e.ci[1]),
                    format!("{:.1e}", e.tolerance),
                    e.controls_text(),
                    match e.verdict {
                        Verdict::Pass => "pass".to_owned(),
                        Verdict::Fail => "FAIL".to_owned(),
                    },
                    format!("{:.2}", e.seconds),
                ]);
                let _ = writeln!(notes, "  {}: {}; {}", e.id, e.statement, e.method);
                if let Some(name) = claim_theorem(&e.id) {
                    let _ = writeln!(notes, "    Coq: {name}");
                }
                for c in &e.controls {
                    let _ = writeln!(
                        notes,
                        "    control, {}: {} (measured {:.10} [{:.10}, {:.10}], prediction {:.10}, tolerance {:.1e}); {}",
                        c.setting,
                        if c.rejected() {
                            "rejected"
                        } else {
                            "NOT REJECTED"
                        },
                        c.measured,
                        c.ci[0],
                        c.ci[1],
                        c.prediction,
                        c.tolerance,
                        c.method
                    );
                }
            }
            Err(err) => {
                rows.push([
                    err.id.clone(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "ERROR".to_owned(),
                    "-".to_owned(),
                ]);
                let _ = writeln!(notes, "  {err}");
            }
        }
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for row in &rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(text, "{}", line.join("  ").trim_end());
    }
    let passed = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(e) if e.verdict == Verdict::Pass))
        .count();
    let _ = writeln!(
        text,
        "\n{passed} of {} claims pass ({} budget, {seconds:.1} s)\n\nhow each was measured:\n{notes}",
        outcomes.len(),
        budget.word()
    );
    text
}

/// The JSON array: each claim's [`Evidence`] as serde writes it (id, statement, prediction,
/// measured, ci, tolerance, verdict, controls, seconds, method; each control with its setting,
/// prediction, measured, ci, tolerance, verdict — `fail` when the check rejected it — and method), or `{"id": …, "error": …, "verdict": "fail"}`
/// with the claim ID and the reason no evidence was produced. Both end with `coq`: the fully
/// qualified Coq theorem of the n → ∞ statement the claim checks
/// ([`critscale_certify::coq::claim_theorem`], proofs/coq/index.json), or `null` when the claim
/// has none.
pub fn to_json(outcomes: &[Outcome]) -> Value {
    Value::Array(
        outcomes
            .iter()
            .map(|o| match o {
                Ok(e) => {
                    let mut value = serde_json::to_value(e).unwrap_or(Value::Null);
                    if let Some(map) = value.as_object_mut() {
                        map.insert("coq".to_owned(), json!(claim_theorem(&e.id)));
                    }
                    value
                }
                Err(err) => json!({
                    "id": err.id,
                    "error": err.reason,
                    "verdict": "fail",
                    "coq": claim_theorem(&err.id),
                }),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_keeps_its_claim_id_in_the_table_and_the_json() {
        // A reason containing ':' must not leak into the ID column.
        let outcomes: Vec<Outcome> = vec![Err(CheckError {
            id: "T9.x".to_owned(),
            reason: "fit failed: too few points".to_owned(),
        })];
        let text = render(&outcomes, 0.0, Budget::Quick);
        let row = text.lines().nth(1).expect("one row after the header");
        assert!(row.starts_with("T9.x "), "row: {row}");
        assert!(row.contains("ERROR"));
        assert!(text.contains("  T9.x: fit failed: too few points"));
        assert!(text.contains("0 of 1 claims pass"));
        assert!(!all_passed(&outcomes));
        assert_eq!(
            to_json(&outcomes),
            json!([{
                "id": "T9.x",
                "error": "fit failed: too few points",
                "verdict": "fail",
                "coq": null
            }])
        );
    }

    #[test]
    fn a_claim_with_a_coq_theorem_names_it_in_the_json() {
        let outcomes: Vec<Outcome> = vec![Err(CheckError {
            id: "T1.limit.crit".to_owned(),
            reason: "not run".to_owned(),
        })];
        let name = claim_theorem("T1.limit.crit").expect("T1.limit.crit is machine-checked");
        assert_eq!(to_json(&outcomes)[0]["coq"], json!(name));
    }
}
