//! `critscale check`: run the registered claims and print the evidence.

use critscale_theorems::{Budget, Claim, Evidence, Perturbation, Verdict, registry};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Instant;

/// The options of `check`, as typed.
#[derive(Debug, Clone, Default)]
pub struct CheckArgs {
    /// Run only these claim IDs (or ID prefixes such as `T1.rate`); all when empty.
    pub claims: Vec<String>,
    /// `quick` or `full` (absent: quick).
    pub budget: Option<String>,
}

pub use crate::options::BadOption;

/// The claims to run and the budget.
pub fn plan(args: &CheckArgs) -> Result<(Vec<Claim>, Budget), BadOption> {
    let budget = match args.budget.as_deref().map(str::trim) {
        None | Some("quick") => Budget::Quick,
        Some("full") => Budget::Full,
        Some(other) => {
            return Err(BadOption {
                flag: "budget",
                value: other.to_owned(),
                requirement: "expected 'quick' or 'full'".to_owned(),
            });
        }
    };
    let all = registry();
    if args.claims.is_empty() {
        return Ok((all, budget));
    }
    let mut chosen: Vec<Claim> = Vec::new();
    for wanted in &args.claims {
        let matching: Vec<Claim> = all
            .iter()
            .filter(|c| c.id == wanted || c.id.starts_with(&format!("{wanted}.")))
            .copied()
            .collect();
        if matching.is_empty() {
            let known: Vec<&str> = all.iter().map(|c| c.id).collect();
            return Err(BadOption {
                flag: "claim",
                value: wanted.clone(),
                requirement: format!("known claims: {}", known.join(", ")),
            });
        }
        for claim in matching {
            if !chosen.iter().any(|c| c.id == claim.id) {
                chosen.push(claim);
            }
        }
    }
    Ok((chosen, budget))
}

/// The outcome of one claim: its evidence, or why no evidence could be produced.
pub type Outcome = Result<Evidence, String>;

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
        outcomes.push(
            claim
                .run(budget, &Perturbation::default())
                .map_err(|err| err.to_string()),
        );
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
                    match e.verdict {
                        Verdict::Pass => "pass".to_owned(),
                        Verdict::Fail => "FAIL".to_owned(),
                    },
                    format!("{:.2}", e.seconds),
                ]);
                let _ = writeln!(notes, "  {}: {}; {}", e.id, e.statement, e.method);
            }
            Err(reason) => {
                rows.push([
                    reason.split(':').next().unwrap_or("?").to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "-".to_owned(),
                    "ERROR".to_owned(),
                    "-".to_owned(),
                ]);
                let _ = writeln!(notes, "  {reason}");
            }
        }
    }
    let widths: Vec<usize> = (0..6)
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
        match budget {
            Budget::Quick => "quick",
            Budget::Full => "full",
        }
    );
    text
}

/// The JSON array of the issue: id, statement, prediction, measured, ci, tolerance, verdict,
/// seconds (and method).
pub fn to_json(outcomes: &[Outcome]) -> Value {
    Value::Array(
        outcomes
            .iter()
            .map(|o| match o {
                Ok(e) => json!({
                    "id": e.id,
                    "statement": e.statement,
                    "prediction": e.prediction,
                    "measured": e.measured,
                    "ci": [e.ci[0], e.ci[1]],
                    "tolerance": e.tolerance,
                    "verdict": match e.verdict { Verdict::Pass => "pass", Verdict::Fail => "fail" },
                    "seconds": e.seconds,
                    "method": e.method,
                }),
                Err(reason) => json!({ "error": reason, "verdict": "fail" }),
            })
            .collect(),
    )
}
