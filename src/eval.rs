//! `critscale eval`: the options as the command line gives them, and the table. The evaluation
//! and its precision policy are `critscale_eval`'s.

pub use critscale_eval::{
    BadParameter, Engine, EngineName, EvalArgs, EvalError, EvalOptions, EvalReport, OnDoubt,
    Value_, run,
};
use std::fmt::Write as _;

/// An aligned table for people: name, value, meaning.
pub fn to_table(report: &EvalReport) -> String {
    let rows: Vec<(&str, String, &str)> = report
        .inputs
        .iter()
        .chain(&report.outputs)
        .map(|item| {
            let shown = match &item.value {
                Value_::Number(text) => crate::text::human_decimal(text),
                Value_::Word(text) => text.clone(),
                Value_::Range(lo, hi) => format!("[{lo}, {hi}]"),
            };
            (item.name, shown, item.note)
        })
        .collect();
    let name_width = rows.iter().map(|row| row.0.len()).max().unwrap_or(0);
    let value_width = rows.iter().map(|row| row.1.len()).max().unwrap_or(0);
    let mut table = format!("simplex closed forms (backend {})\n", report.backend);
    for (index, (name, value, note)) in rows.iter().enumerate() {
        if index == report.inputs.len() {
            table.push('\n');
        }
        let _ = writeln!(
            table,
            "  {name:<name_width$}  {value:<value_width$}  {note}"
        );
    }
    table
}
