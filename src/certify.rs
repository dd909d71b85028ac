//! `critscale certify`: run certificates (computer-assisted proofs over all n ≥ N) and print them.

use critscale_certify::defaults::default_statements;
use critscale_certify::{Outcome, ProofStatus, SearchLimits, Statement, certify};
use std::fmt::Write as _;

/// The options of `certify`.
#[derive(Debug, Clone, Default)]
pub struct CertifyArgs {
    /// Run only these certificate IDs (all defaults when empty).
    pub ids: Vec<String>,
    /// Interval precision in bits (absent: the certificates' default, 128).
    pub precision: Option<u64>,
    /// Box budget per certificate (absent: the default, 200000).
    pub max_boxes: Option<usize>,
}

use crate::options::BadParameter;

/// Reads the options into the statements to run and the search limits.
pub fn plan(args: &CertifyArgs) -> Result<(Vec<Statement>, SearchLimits), BadParameter> {
    let mut limits = SearchLimits::default();
    if let Some(bits) = args.precision {
        limits.precision_bits = bits;
    }
    if let Some(boxes) = args.max_boxes {
        limits.max_boxes = boxes;
    }
    let all = default_statements();
    if args.ids.is_empty() {
        return Ok((all, limits));
    }
    let mut chosen = Vec::new();
    for id in &args.ids {
        match all.iter().find(|s| &s.id == id) {
            Some(statement) => chosen.push(statement.clone()),
            None => {
                let known: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
                return Err(BadParameter::new(
                    "id",
                    id.clone(),
                    format!("known certificates: {}", known.join(", ")),
                ));
            }
        }
    }
    Ok((chosen, limits))
}

/// Runs the statements; an ill-posed statement is reported as undecided with its reason.
pub fn run(statements: &[Statement], limits: SearchLimits) -> Vec<Result<Outcome, String>> {
    statements
        .iter()
        .map(|statement| certify(statement, limits).map_err(|err| err.to_string()))
        .collect()
}

fn verdict_word(verdict: ProofStatus) -> &'static str {
    match verdict {
        ProofStatus::Proved => "proved",
        ProofStatus::Disproved => "DISPROVED",
        ProofStatus::Undecided => "UNDECIDED",
    }
}

/// A human-readable account of each certificate.
pub fn render(outcomes: &[Result<Outcome, String>]) -> String {
    let mut text = String::new();
    for outcome in outcomes {
        match outcome {
            Err(reason) => {
                let _ = writeln!(text, "ERROR  {reason}\n");
            }
            Ok(o) => {
                let s = &o.statement;
                let _ = writeln!(text, "{}  {}", verdict_word(o.verdict), s.id);
                let _ = writeln!(text, "  statement  {}", o.text);
                let _ = writeln!(text, "  target     [{}, {}]", o.target[0], o.target[1]);
                let _ = writeln!(text, "  N, eps     {}, {}", s.n_min, s.epsilon);
                if let Some([lo, hi]) = &o.enclosure {
                    let _ = writeln!(text, "  range      [{lo}, {hi}]  (F over the boxes proved)");
                }
                if let Some(w) = &o.witness {
                    let _ = writeln!(
                        text,
                        "  witness    n = {}, gamma/gamma_c = {}: F in [{}, {}]",
                        w.n, w.gamma_ratio, w.value[0], w.value[1]
                    );
                }
                let _ = writeln!(
                    text,
                    "  boxes      {}  ({} bits, {:.3} s)\n",
                    o.boxes, o.precision_bits, o.seconds
                );
            }
        }
    }
    let proved = outcomes
        .iter()
        .filter(|o| matches!(o, Ok(o) if o.verdict == ProofStatus::Proved))
        .count();
    let _ = writeln!(text, "{proved} of {} certificates proved", outcomes.len());
    text
}

/// True when every certificate was proved.
pub fn all_proved(outcomes: &[Result<Outcome, String>]) -> bool {
    outcomes
        .iter()
        .all(|o| matches!(o, Ok(o) if o.verdict == ProofStatus::Proved))
}
