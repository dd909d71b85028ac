//! Real tokens: the crossings of one attention layer on a real text against the predictions of
//! THEORY §10 (issue 13).
//!
//! The fixture is the committed `tests/data/real/` (`tests/reference/real_tokens.py`): the first
//! 4096 Llama-2 tokens of the GPL-3 text, embedding rows of the `wordllama` package (d = 256,
//! float16), stored as `table.npy` (one row per distinct token) and `ids.npy`; and `distinct.npy`,
//! a control of 1024 distinct tokens of the same text. Both are compiled into the binary, so the
//! section does not depend on the working directory.
//!
//! For every prefix n ∈ [`PREFIXES`] of the context (and [`CONTROL_PREFIXES`] of the control;
//! at the quick budget only n ≤ 1024 of the context and n = 256 of the control, a tenth of the
//! work)
//! `critscale_diagnose::diagnose` runs on its default γ grid and bisects the crossings γ*_self
//! (mean self mass = ½, copies counted with the self weight) and γ*_λ (λ = ½ over non-copy
//! pairs). Beside them: 1/(1 − ρ̂), the repeated-token law mean_i ln((1 − f_i)/f_i)/ln n (the
//! number THEORY §10 quotes) and its solved form (mean predicted self mass = ½), the exact
//! n-simplex and m-type simplex λ crossings at ρ̂. The numbers are checked independently against
//! numpy in the workspace tests (`tests/data/real_reference.json`).

use crate::format::{md_num, num};
use crate::plot::{self, Line, LineStyle};
use crate::table::{Table, columns};
use crate::{Artifact, Budget, ReportError};
use critscale_diagnose::{Config, Diagnosis, diagnose};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The context's rows, one per distinct token (float16 `.npy`).
const TABLE: &[u8] = include_bytes!("../../../tests/data/real/table.npy");
/// The context as rows of [`TABLE`] (int32 `.npy`).
const IDS: &[u8] = include_bytes!("../../../tests/data/real/ids.npy");
/// The control: distinct tokens only (float16 `.npy`).
const DISTINCT: &[u8] = include_bytes!("../../../tests/data/real/distinct.npy");

/// The prefixes of the context.
pub const PREFIXES: [usize; 5] = [256, 512, 1024, 2048, 4096];
/// The prefixes of the control.
pub const CONTROL_PREFIXES: [usize; 3] = [256, 512, 1024];

/// The prefixes (context, control) at a budget: all of them at `full`, the small ones at `quick`.
pub fn prefixes(budget: Budget) -> (&'static [usize], &'static [usize]) {
    match budget {
        Budget::Full => (&PREFIXES, &CONTROL_PREFIXES),
        Budget::Quick => (&PREFIXES[..3], &CONTROL_PREFIXES[..1]),
    }
}

/// One prefix, diagnosed.
#[derive(Debug, Clone)]
pub struct Row {
    /// "context" or "control".
    pub kind: &'static str,
    /// The diagnosis (per-row records dropped).
    pub diagnosis: Diagnosis,
}

/// Everything the section computed.
#[derive(Debug, Clone)]
pub struct RealTokens {
    /// Context rows (in [`PREFIXES`] order), then control rows.
    pub rows: Vec<Row>,
}

fn internal(what: &str, e: impl std::fmt::Display) -> ReportError {
    ReportError::Internal(format!("real tokens, {what}: {e}"))
}

/// The context (table rows by ids) and the control, as f64 matrices (f16 widens exactly).
fn fixture() -> Result<(ndarray::Array2<f64>, ndarray::Array2<f64>), ReportError> {
    let (table, _) = critscale_tokens::npy::parse_tokens(TABLE, "table.npy")
        .map_err(|e| internal("table.npy", e))?;
    let (ids, _) =
        critscale_tokens::npy::parse_ids(IDS, "ids.npy").map_err(|e| internal("ids.npy", e))?;
    let rows = ids
        .iter()
        .map(|&i| {
            usize::try_from(i)
                .ok()
                .filter(|&i| i < table.nrows())
                .ok_or_else(|| internal("ids.npy", format!("id {i} outside the table")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let context = table.select(ndarray::Axis(0), &rows);
    let (control, _) = critscale_tokens::npy::parse_tokens(DISTINCT, "distinct.npy")
        .map_err(|e| internal("distinct.npy", e))?;
    Ok((context, control))
}

/// Computes the section at `budget` (see [`prefixes`]).
///
/// # Errors
/// [`ReportError::Internal`] if the compiled-in fixture cannot be read or diagnosed.
pub fn compute(budget: Budget) -> Result<RealTokens, ReportError> {
    let (context, control) = fixture()?;
    let config = Config::default();
    let (context_prefixes, control_prefixes) = prefixes(budget);
    let mut rows = Vec::new();
    for (kind, x, prefixes) in [
        ("context", &context, context_prefixes),
        ("control", &control, control_prefixes),
    ] {
        for &n in prefixes {
            let view = x.slice(ndarray::s![..n, ..]);
            let mut diagnosis = diagnose(view, &config, &mut |_, _, _| {})
                .map_err(|e| internal(&format!("{kind} n = {n}"), e))?;
            diagnosis.rows.clear();
            rows.push(Row { kind, diagnosis });
        }
    }
    Ok(RealTokens { rows })
}

/// A line of `real_tokens.csv`.
#[derive(Serialize)]
struct CsvLine {
    kind: &'static str,
    n: usize,
    distinct_m: usize,
    heaps_exponent: f64,
    rows_with_copy_share: f64,
    rho_hat: f64,
    gamma_star_self: Option<f64>,
    gamma_star_lambda: Option<f64>,
    gamma_c_hat: f64,
    self_law_mean_logodds: f64,
    self_law_crossing: Option<f64>,
    simplex_crossing: Option<f64>,
    m_type_simplex_crossing: Option<f64>,
}

impl CsvLine {
    fn of(row: &Row) -> Self {
        let d = &row.diagnosis;
        let p = &d.predictions;
        CsvLine {
            kind: row.kind,
            n: d.n,
            distinct_m: d.distinct_m,
            heaps_exponent: d.heaps_exponent,
            rows_with_copy_share: d.rows_with_copy_share,
            rho_hat: d.rho_hat,
            gamma_star_self: d.gamma_star_self,
            gamma_star_lambda: d.gamma_star_lambda,
            gamma_c_hat: p.gamma_c_hat,
            self_law_mean_logodds: p.self_law_mean_logodds,
            self_law_crossing: p.self_law_crossing,
            simplex_crossing: p.simplex_crossing,
            m_type_simplex_crossing: p.m_type_simplex_crossing,
        }
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, num)
}

fn md_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "none".to_owned(), md_num)
}

impl RealTokens {
    fn context(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.kind == "context")
    }

    /// The data files and the figure.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let mut table = Table::new(columns(&[
            "kind",
            "n",
            "distinct_m",
            "heaps_exponent",
            "rows_with_copy_share",
            "rho_hat",
            "gamma_star_self",
            "gamma_star_lambda",
            "gamma_c_hat",
            "self_law_mean_logodds",
            "self_law_crossing",
            "simplex_crossing",
            "m_type_simplex_crossing",
        ]));
        let mut items = Vec::new();
        for row in &self.rows {
            table.push(&CsvLine::of(row))?;
            let d = &row.diagnosis;
            let p = &d.predictions;
            items.push(json!({
                "kind": row.kind,
                "n": d.n,
                "d": d.d,
                "distinct_m": d.distinct_m,
                "heaps_exponent": num(d.heaps_exponent),
                "rows_with_copy_share": num(d.rows_with_copy_share),
                "copy_pair_fraction": num(d.copy_pair_fraction),
                "rho_hat": num(d.rho_hat),
                "gamma_star_self": opt(d.gamma_star_self),
                "gamma_star_lambda": opt(d.gamma_star_lambda),
                "crossing_self": d.crossing_self.note,
                "crossing_lambda": d.crossing_lambda.note,
                "predictions": {
                    "gamma_c_hat": num(p.gamma_c_hat),
                    "self_law_mean_logodds": num(p.self_law_mean_logodds),
                    "self_law_mean_gamma": num(p.self_law_mean_gamma),
                    "self_law_crossing": opt(p.self_law_crossing),
                    "equal_multiplicity_self": num(p.equal_multiplicity_self),
                    "m_type_gamma_c": num(p.m_type_gamma_c),
                    "simplex_crossing": opt(p.simplex_crossing),
                    "m_type_simplex_crossing": opt(p.m_type_simplex_crossing),
                    "gap_scale_median": num(p.gap_scale_median),
                },
            }));
        }
        let mut out = vec![
            Artifact::new("data/real_tokens.csv", table.csv()?),
            Artifact::json("data/real_tokens.json", &Value::Array(items)),
        ];

        let log10 = |n: usize| (n as f64).log10();
        let series = |f: &dyn Fn(&Diagnosis) -> Option<f64>| -> Vec<(f64, f64)> {
            self.context()
                .filter_map(|r| f(&r.diagnosis).map(|v| (log10(r.diagnosis.n), v)))
                .collect()
        };
        let lines = vec![
            Line {
                label: "measured gamma*_self (self mass = 1/2)".to_owned(),
                points: series(&|d| d.gamma_star_self),
                style: LineStyle::Series(0),
            },
            Line {
                label: "mean ln((1-f)/f)/ln n (THEORY 10)".to_owned(),
                points: series(&|d| Some(d.predictions.self_law_mean_logodds)),
                style: LineStyle::Series(1),
            },
            Line {
                label: "measured gamma*_lambda (lambda = 1/2)".to_owned(),
                points: series(&|d| d.gamma_star_lambda),
                style: LineStyle::Series(2),
            },
            Line {
                label: "n-simplex lambda crossing at rho_hat".to_owned(),
                points: series(&|d| d.predictions.simplex_crossing),
                style: LineStyle::Series(3),
            },
            Line {
                label: "m-type simplex lambda crossing".to_owned(),
                points: series(&|d| d.predictions.m_type_simplex_crossing),
                style: LineStyle::Series(4),
            },
            Line {
                label: "1/(1 - rho_hat)".to_owned(),
                points: series(&|d| Some(d.predictions.gamma_c_hat)),
                style: LineStyle::ThinGrey,
            },
        ];
        let svg = plot::lines(&plot::LinePlot {
            title: "real tokens (GPL-3, Llama-2 vocabulary, d = 256): gamma*(n)".to_owned(),
            x_label: "context length n".to_owned(),
            y_label: "gamma".to_owned(),
            x_range: (log10(PREFIXES[0]) - 0.05, log10(PREFIXES[4]) + 0.05),
            y_range: (0.0, 1.4),
            x_log: true,
            lines,
            bands: Vec::new(),
            notes: Vec::new(),
            legend_left: false,
        })?;
        out.push(Artifact::new("figures/real_tokens.svg", svg.into_bytes()));
        Ok(out)
    }

    /// The Markdown of the section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## Real tokens: repeated tokens move the crossing\n");
        let _ = writeln!(
            md,
            "The layer on a real context (THEORY §10, `critscale diagnose`): the first 4096 Llama-2 tokens of \
             the GPL-3 text with the embedding rows of the `wordllama` package (d = 256, float16; \
             `tests/data/real/`, built by `tests/reference/real_tokens.py`), cut to its prefixes (n ≤ 1024 and one control size at the quick budget), and a control \
             of 1024 distinct tokens of the same text. Real text repeats tokens, so a token also attends to its \
             copies: the mass on its own copies crosses ½ at β = ln((1 − f)/f)/(1 − ρ) for a share f, whatever \
             n is, and γ*_self drifts down with n instead of approaching 1/(1 − ρ̂). γ*_self: mean self mass \
             (own weight plus copies') = ½; γ*_λ: λ = ½ over pairs that are not copies; both bisected to 1e-4 \
             on the default grid. The same numbers are checked against an independent numpy computation \
             (`tests/data/real_reference.json`). Data: [`real_tokens.csv`](data/real_tokens.csv), \
             [`real_tokens.json`](data/real_tokens.json).\n"
        );
        let _ = writeln!(md, "![gamma*(n) on real tokens](figures/real_tokens.svg)\n");
        let _ = writeln!(
            md,
            "| context | n | m distinct | ln m/ln n | rows with a copy | ρ̂ | γ*_self | mean ln((1−f)/f)/ln n | \
             law solved | γ*_λ | n-simplex λ | m-type λ | 1/(1 − ρ̂) |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|"
        );
        for row in &self.rows {
            let d = &row.diagnosis;
            let p = &d.predictions;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                row.kind,
                d.n,
                d.distinct_m,
                md_num(d.heaps_exponent),
                md_num(d.rows_with_copy_share),
                md_num(d.rho_hat),
                md_opt(d.gamma_star_self),
                md_num(p.self_law_mean_logodds),
                md_opt(p.self_law_crossing),
                md_opt(d.gamma_star_lambda),
                md_opt(p.simplex_crossing),
                md_opt(p.m_type_simplex_crossing),
                md_num(p.gamma_c_hat),
            );
        }
        md.push('\n');
        md
    }
}
