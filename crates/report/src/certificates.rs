//! The certificates table: `critscale_certify::defaults::default_statements()` proved by interval
//! branch-and-bound for all n ≥ N (the same set as `critscale certify`).
//!
//! The enclosures are decimal strings of outward-rounded interval bounds (128 bits); the data
//! files keep them exactly as the certifier printed them, the Markdown table rounds them for
//! display only. Box counts and precision are part of the data (they are deterministic); wall
//! times go to `timings.json`.

use crate::table::{Column, Table};
use crate::{Artifact, ReportError};
use critscale_certify::{Outcome, ProofStatus, SearchLimits, Statement, certify, coq, defaults};
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::time::Instant;

/// One certificate.
#[derive(Debug, Clone)]
pub struct Row {
    /// The statement.
    pub statement: Statement,
    /// The outcome, or why the statement was rejected.
    pub outcome: Result<Outcome, String>,
    /// Wall time (timings only).
    pub seconds: f64,
}

/// Number of default statements (for progress bars).
pub fn count() -> usize {
    defaults::default_statements().len()
}

/// Proves the default statements in parallel (results in order).
pub fn compute(tick: &(dyn Fn() + Sync)) -> Vec<Row> {
    defaults::default_statements()
        .into_par_iter()
        .map(|statement| {
            let start = Instant::now();
            let outcome = certify(&statement, SearchLimits::default()).map_err(|e| e.to_string());
            tick();
            Row {
                statement,
                outcome,
                seconds: start.elapsed().as_secs_f64(),
            }
        })
        .collect()
}

fn verdict_word(row: &Row) -> &'static str {
    match &row.outcome {
        Ok(o) => match o.verdict {
            ProofStatus::Proved => "proved",
            ProofStatus::Disproved => "disproved",
            ProofStatus::Undecided => "undecided",
        },
        Err(_) => "error",
    }
}

/// (proved, total).
pub fn tally(rows: &[Row]) -> (usize, usize) {
    let proved = rows
        .iter()
        .filter(|r| matches!(&r.outcome, Ok(o) if o.verdict == ProofStatus::Proved))
        .count();
    (proved, rows.len())
}

/// A line of `certificates.csv` (`certificates.json` holds the certifier's own outcome).
#[derive(Serialize)]
struct Line<'a> {
    id: &'a str,
    statement: &'a str,
    regime: Option<String>,
    n_min: &'a str,
    epsilon: &'a str,
    target: Option<[&'a str; 2]>,
    range: Option<[&'a str; 2]>,
    verdict: &'static str,
    boxes: Option<usize>,
    precision_bits: Option<usize>,
    coq: Option<&'a str>,
}

/// The data files.
pub fn artifacts(rows: &[Row]) -> Result<Vec<Artifact>, ReportError> {
    let mut table = Table::new(vec![
        Column::new("id"),
        Column::new("statement"),
        Column::new("regime"),
        Column::new("n_min"),
        Column::new("epsilon"),
        Column::at("target_low", "/target/0"),
        Column::at("target_high", "/target/1"),
        Column::at("range_low", "/range/0"),
        Column::at("range_high", "/range/1"),
        Column::new("verdict"),
        Column::new("boxes"),
        Column::new("precision_bits"),
        Column::new("coq"),
    ]);
    let mut items = Vec::new();
    for row in rows {
        let s = &row.statement;
        match &row.outcome {
            Ok(o) => {
                let (lo, hi) = match &o.enclosure {
                    Some([lo, hi]) => (lo.clone(), hi.clone()),
                    None => (String::new(), String::new()),
                };
                table.push(&Line {
                    id: &s.id,
                    statement: &o.text,
                    regime: Some(o.regime.to_string()),
                    n_min: &s.n_min,
                    epsilon: &s.epsilon,
                    target: Some([&o.target[0], &o.target[1]]),
                    range: Some([&lo, &hi]),
                    verdict: verdict_word(row),
                    boxes: Some(o.boxes),
                    precision_bits: Some(o.precision_bits),
                    coq: o.coq.as_deref(),
                })?;
                let mut outcome = serde_json::to_value(o)
                    .map_err(|e| ReportError::Internal(format!("certificate {}: {e}", s.id)))?;
                if let Some(map) = outcome.as_object_mut() {
                    map.remove("seconds");
                }
                items.push(outcome);
            }
            Err(reason) => {
                table.push(&Line {
                    id: &s.id,
                    statement: &s.text(),
                    regime: None,
                    n_min: &s.n_min,
                    epsilon: &s.epsilon,
                    target: None,
                    range: None,
                    verdict: verdict_word(row),
                    boxes: None,
                    precision_bits: None,
                    coq: coq::certificate_theorem_for(s),
                })?;
                items.push(json!({
                    "statement": s,
                    "error": reason,
                    "coq": coq::certificate_theorem_for(s),
                }));
            }
        }
    }
    Ok(vec![
        Artifact::new("data/certificates.csv", table.csv()?),
        Artifact::json("data/certificates.json", &Value::Array(items)),
    ])
}

/// A decimal enclosure bound shortened for display (7 significant digits).
fn short(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() => crate::format::md_num(x),
        _ => text.to_owned(),
    }
}

/// What a statement proves when it is proved: a band around the limit, or a rate.
fn proves(statement: &Statement) -> &'static str {
    if statement.quantity.is_rate() {
        "rate"
    } else {
        "band"
    }
}

/// The Markdown cell of a Coq theorem name: the name as code, or – when there is none.
pub(crate) fn coq_cell(name: Option<&str>) -> String {
    name.map_or_else(|| "–".to_owned(), |name| format!("`{name}`"))
}

/// The Markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let (proved, total) = tally(rows);
    let mut md = String::new();
    let _ = writeln!(md, "## Certificates (all n ≥ N)\n");
    let _ = writeln!(
        md,
        "Computer-assisted proofs (the default set of `critscale certify`): each statement bounds a quantity of the \
         simplex closed forms, written in u = 1/n, for **every real n ≥ N**, by interval branch-and-bound with \
         outward rounding at 128 bits (see `crates/certify`). {proved} of {total} are proved. They are theorems \
         about the closed forms of THEORY §5, not about the attention layer; the link is the derivation of those \
         forms, which the tests check. A **band** (a fixed ε on the quantity itself) proves that from N on, and at \
         n = ∞, it stays within ε of its limit, not how fast it gets there; a **rate** bounds the deviation times \
         the predicted power of n, which proves the speed of approach (one per regime for T1 and T3). \"range\" is \
         the hull of the quantity over all boxes, which must lie within target ± ε. Ranges are rounded here for \
         display; the exact decimal enclosures are in [`data/certificates.csv`](data/certificates.csv). \
         \"Coq\" names the theorem of `proofs/coq` (built by `make -C proofs`) that proves the same statement \
         again, for every real n ≥ N and n = ∞.\n"
    );
    let _ = writeln!(
        md,
        "| ID | statement | proves | range found | boxes | verdict | Coq |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|---|");
    for row in rows {
        match &row.outcome {
            Ok(o) => {
                let range = match &o.enclosure {
                    Some([lo, hi]) => format!("[{}, {}]", short(lo), short(hi)),
                    None => "–".to_owned(),
                };
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | {} | {} | {} | {} |",
                    row.statement.id,
                    o.text.replace('|', "\\|"),
                    proves(&row.statement),
                    range,
                    o.boxes,
                    verdict_word(row),
                    coq_cell(o.coq.as_deref())
                );
            }
            Err(reason) => {
                let _ = writeln!(
                    md,
                    "| `{}` | {} | {} | – | – | error: {} | {} |",
                    row.statement.id,
                    row.statement.text().replace('|', "\\|"),
                    proves(&row.statement),
                    reason.replace('|', "\\|"),
                    coq_cell(coq::certificate_theorem_for(&row.statement))
                );
            }
        }
    }
    md.push('\n');
    md
}
