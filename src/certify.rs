//! `critscale certify`: run certificates (computer-assisted proofs over all n ≥ N) and print them.

use critscale_certify::defaults::default_statements;
use critscale_certify::{Outcome, ProofStatus, SearchLimits, Statement, certify};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The options of `certify`.
#[derive(Debug, Clone, Default)]
pub struct CertifyArgs {
    /// Run only these certificate IDs (all defaults when empty and no statement file is given).
    pub ids: Vec<String>,
    /// JSON files of statements to certify (one [`Statement`] object or an array of them), run
    /// after the chosen defaults.
    pub statements: Vec<PathBuf>,
    /// Interval precision in bits (absent: the certificates' default, 128).
    pub precision: Option<u64>,
    /// Box budget per certificate (absent: the default, 200000).
    pub max_boxes: Option<usize>,
}

use crate::options::BadParameter;

/// The statements of one `--statement` file, each checked to be well posed: a refusal names
/// the file and, in its requirement, the statement's field, its value and the valid values.
fn read_statements(path: &PathBuf, limits: SearchLimits) -> Result<Vec<Statement>, BadParameter> {
    let shown = path.display().to_string();
    let refuse = |requirement: String| BadParameter::new("statement", shown.clone(), requirement);
    let text = std::fs::read_to_string(path)
        .map_err(|err| refuse(format!("cannot read the file: {err}")))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|err| refuse(format!("not JSON: {err}")))?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        one => vec![one],
    };
    let mut statements = Vec::new();
    for item in items {
        let statement: Statement = serde_json::from_value(item).map_err(|err| {
            refuse(format!(
                "not a certificate statement ({err}; fields: id, quantity, rho, alpha, q, \
                 gamma_ratio, d_ratio, n_min, epsilon, optional target)"
            ))
        })?;
        statement
            .validate(limits)
            .map_err(|bad| refuse(bad.to_string()))?;
        statements.push(statement);
    }
    Ok(statements)
}

/// Reads the options into the statements to run and the search limits.
///
/// # Errors
///
/// [`BadParameter`] for an unknown `--id`, and for a `--statement` file that cannot be read, is
/// not a statement or an array of statements in JSON, or holds an ill-posed statement (a reversed
/// γ range, d_ratio < 1, a value outside its domain: the refusal names the field).
pub fn plan(args: &CertifyArgs) -> Result<(Vec<Statement>, SearchLimits), BadParameter> {
    let mut limits = SearchLimits::default();
    if let Some(bits) = args.precision {
        limits.precision_bits = bits;
    }
    if let Some(boxes) = args.max_boxes {
        limits.max_boxes = boxes;
    }
    let all = default_statements();
    let mut from_files = Vec::new();
    for path in &args.statements {
        from_files.extend(read_statements(path, limits)?);
    }
    if args.ids.is_empty() {
        if from_files.is_empty() {
            return Ok((all, limits));
        }
        return Ok((from_files, limits));
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
    chosen.extend(from_files);
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
                if let Some(name) = &o.coq {
                    let _ = writeln!(text, "  coq        {name}");
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
