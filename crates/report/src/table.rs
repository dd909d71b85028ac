//! One table, written as CSV and as JSON rows from one schema.
//!
//! A row is any `Serialize` struct of raw values (f64, integers, text, options, small arrays);
//! it is turned into a `serde_json::Value` once, and each format reads its cells from there by
//! kind ([`mod@crate::format`]): a float is [`csv_num`] in CSV and [`num`] in JSON (10 significant
//! digits), an integer or a word is written as it is, `null` (a `None`, or a non-finite float)
//! is an empty CSV cell. The CSV columns are the schema ([`Column`]): a name and where its cell
//! sits in the row's JSON (a JSON pointer, by default `/name`), so a JSON pair such as `ci` can be
//! two CSV columns. Columns with a Markdown header also make the report's Markdown table
//! ([`Table::markdown`], floats to 7 digits). Quoting is the `csv` crate's (RFC 4180: a cell is quoted when it holds a
//! comma, a quote or a line break; lines end in `\n`).

use crate::ReportError;
use crate::format::{csv_num, md_num, num};
use serde::Serialize;
use serde_json::Value;

/// A CSV column: its header and where its cell is found in a row's JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    /// The header.
    pub name: String,
    /// JSON pointers to the cell, the first present one is used (`["/name"]` by default).
    pub at: Vec<String>,
    /// Its header in the Markdown table (`None`: not shown there).
    pub md: Option<String>,
}

impl Column {
    /// The column `name`, read from the row's key of the same name.
    pub fn new(name: impl Into<String>) -> Self {
        let name = name.into();
        let at = vec![format!("/{name}")];
        Column { name, at, md: None }
    }

    /// The column `name`, read at the JSON pointer `at` (e.g. `/ci/0`).
    pub fn at(name: impl Into<String>, at: &str) -> Self {
        Column {
            name: name.into(),
            at: vec![at.to_owned()],
            md: None,
        }
    }

    /// Also shown in the Markdown table, under `header`.
    pub fn md(mut self, header: &str) -> Self {
        self.md = Some(header.to_owned());
        self
    }

    /// Also read at `at` when the earlier pointers find nothing (a row kind with another key).
    pub fn or(mut self, at: &str) -> Self {
        self.at.push(at.to_owned());
        self
    }
}

/// Columns named as given for a row that is an array of cells (a wide table whose columns are
/// made at run time, e.g. one per n): column k reads element k.
pub fn positional(names: &[String]) -> Vec<Column> {
    names
        .iter()
        .enumerate()
        .map(|(k, n)| Column::at(n.as_str(), &format!("/{k}")))
        .collect()
}

/// Columns named as given, each read from the row's key of the same name.
pub fn columns(names: &[&str]) -> Vec<Column> {
    names.iter().map(|&n| Column::new(n)).collect()
}

/// A table: the schema and the rows, each as its raw JSON.
#[derive(Debug, Clone, Default)]
pub struct Table {
    columns: Vec<Column>,
    rows: Vec<Value>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(columns: Vec<Column>) -> Self {
        Table {
            columns,
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    ///
    /// # Errors
    /// [`ReportError::Internal`] if the row cannot be serialised (a map with non-text keys).
    pub fn push<T: Serialize>(&mut self, row: &T) -> Result<(), ReportError> {
        let value = serde_json::to_value(row)
            .map_err(|e| ReportError::Internal(format!("a table row as JSON: {e}")))?;
        self.rows.push(value);
        Ok(())
    }

    /// The rows as JSON, every float rounded ([`num`]).
    pub fn json_rows(&self) -> Vec<Value> {
        self.rows.iter().map(rounded).collect()
    }

    /// The Markdown table of the columns that have a Markdown header: the header line, the rule
    /// line, then one line per row, each ending in `\n`. Cells: a float by [`md_num`] (7
    /// digits), an integer or a word as it is (`|` escaped), `null` as `–`.
    pub fn markdown(&self) -> String {
        let shown: Vec<&Column> = self.columns.iter().filter(|c| c.md.is_some()).collect();
        let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
        let mut md = line(
            shown
                .iter()
                .map(|c| c.md.clone().unwrap_or_default())
                .collect(),
        );
        md.push_str(&format!("|{}\n", "---|".repeat(shown.len())));
        for row in &self.rows {
            let cells = shown.iter().map(|c| {
                let value = c.at.iter().find_map(|at| row.pointer(at));
                md_cell(value)
            });
            md.push_str(&line(cells.collect()));
        }
        md
    }

    /// The CSV file: the header, then one line per row.
    ///
    /// # Errors
    /// [`ReportError::Internal`] if the CSV writer fails (it writes to memory).
    pub fn csv(&self) -> Result<Vec<u8>, ReportError> {
        let fail = |e: csv::Error| ReportError::Internal(format!("CSV: {e}"));
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer
            .write_record(self.columns.iter().map(|c| c.name.as_str()))
            .map_err(fail)?;
        for row in &self.rows {
            let cells = self.columns.iter().map(|c| {
                let value = c.at.iter().find_map(|at| row.pointer(at));
                csv_cell(value)
            });
            writer.write_record(cells).map_err(fail)?;
        }
        writer
            .into_inner()
            .map_err(|e| ReportError::Internal(format!("CSV: {e}")))
    }
}

/// `row` as JSON with every float rounded ([`num`]): a nested part of a JSON file that is not a
/// table of its own.
///
/// # Errors
/// [`ReportError::Internal`] if the row cannot be serialised.
pub fn json_row<T: Serialize>(row: &T) -> Result<Value, ReportError> {
    serde_json::to_value(row)
        .map(|v| rounded(&v))
        .map_err(|e| ReportError::Internal(format!("a row as JSON: {e}")))
}

/// A CSV cell by kind (see the module docs).
fn csv_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Number(n)) if n.is_f64() => csv_num(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(other) => other.to_string(),
    }
}

/// A Markdown cell by kind (see [`Table::markdown`]).
fn md_cell(value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => "–".to_owned(),
        Some(Value::Number(n)) if n.is_f64() => md_num(n.as_f64().unwrap_or(f64::NAN)),
        Some(Value::String(s)) => s.replace('|', "\\|"),
        Some(other) => other.to_string(),
    }
}

/// `value` with every float rounded to the data files' digits ([`num`]).
fn rounded(value: &Value) -> Value {
    match value {
        Value::Number(n) if n.is_f64() => num(n.as_f64().unwrap_or(f64::NAN)),
        Value::Array(items) => Value::Array(items.iter().map(rounded).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), rounded(v))).collect())
        }
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Line<'a> {
        name: &'a str,
        x: f64,
        ci: [f64; 2],
        steps: Option<u32>,
    }

    #[test]
    fn one_schema_gives_csv_and_json() {
        let mut table = Table::new(vec![
            Column::new("name"),
            Column::new("x"),
            Column::at("ci_low", "/ci/0"),
            Column::at("ci_high", "/ci/1"),
            Column::new("steps"),
        ]);
        for (name, x, steps) in [("a, b", 1.0 / 3.0, Some(7)), ("say \"x\"", f64::NAN, None)] {
            table
                .push(&Line {
                    name,
                    x,
                    ci: [0.1 + 0.2, 1e100],
                    steps,
                })
                .unwrap();
        }
        let csv = String::from_utf8(table.csv().unwrap()).unwrap();
        // A comma or a quote makes a quoted cell, with quotes doubled (RFC 4180).
        assert_eq!(
            csv,
            "name,x,ci_low,ci_high,steps\n\"a, b\",0.3333333333,0.3,1e100,7\n\"say \"\"x\"\"\",,0.3,1e100,\n"
        );
        let json = serde_json::to_string(&table.json_rows()).unwrap();
        let md = Table {
            columns: vec![Column::new("name").md("who"), Column::new("x").md("x")],
            ..table.clone()
        }
        .markdown();
        assert_eq!(
            md,
            "| who | x |\n|---|---|\n| a, b | 0.3333333 |\n| say \"x\" | – |\n"
        );
        assert_eq!(
            json,
            r#"[{"name":"a, b","x":0.3333333333,"ci":[0.3,1e+100],"steps":7},{"name":"say \"x\"","x":null,"ci":[0.3,1e+100],"steps":null}]"#
        );
    }
}
