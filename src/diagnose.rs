//! `critscale diagnose`: the regime of one attention layer on given tokens (real text with
//! repeated tokens), over a γ grid, with every prediction beside the measurement (issue 13; the
//! work is in `critscale-diagnose`).
//!
//! The options are checked first (the grid by its parser, `--out` by
//! `critscale_report::check_target`: a directory critscale did not write is never replaced, and
//! with `--force` only moved aside), then the file's header and the memory, and only then are
//! the tokens read. Output: a table (quantity | value | description) and the sweep, or one JSON
//! object (`--json`); `--out DIR` writes the JSON, CSV tables and SVG figures into a directory
//! marked as critscale's (`critscale_report::write::DIAGNOSE`).
//!
//! Exit codes: 2 for bad input (a flag, a file, tokens the diagnosis refuses, too little
//! memory, an `--out` that may not be written), 3 when exact η is refused for its precision, 1
//! when a buffer cannot be allocated after the memory check or writing fails.

use critscale_diagnose::{Config, DiagnoseError, Diagnosis, Point, diagnose};
use critscale_kernels::KernelError;
use critscale_kernels::memory::limits;
use critscale_report::plot::{Band, Line, LinePlot, LineStyle, lines};
use critscale_report::write::DIAGNOSE;
use critscale_report::{Artifact, WriteError, check_target, write_dir};
use critscale_tokens::TokenFileError;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::PathBuf;

/// The options of `diagnose`.
#[derive(Debug, Clone, Default)]
pub struct DiagnoseArgs {
    /// The token file: an n × d `.npy` (float16/32/64) or `.safetensors` (F16, BF16, F32, F64),
    /// or with `ids` the table the ids index (`critscale_tokens`).
    pub tokens: PathBuf,
    /// The tensor of a `.safetensors` file that holds several.
    pub tensor: Option<String>,
    /// A 1-d `.npy` of token ids into the table `tokens` (the context is the selected rows).
    pub ids: Option<PathBuf>,
    /// The γ grid (parsed by [`critscale_diagnose::parse_grid`]); `None`: the default grid.
    pub gamma: Option<Vec<f64>>,
    /// Exact η at every γ.
    pub eta_exact: bool,
    /// Output directory for JSON, CSV and SVG files.
    pub out: Option<PathBuf>,
    /// Move an `--out` that critscale cannot vouch for aside (never deleted).
    pub force: bool,
    /// No progress bar.
    pub quiet: bool,
}

/// A parsed `--gamma` grid.
#[derive(Debug, Clone, PartialEq)]
pub struct GammaGrid(pub Vec<f64>);

/// `--gamma`: `a:b:k` or a comma list (see [`critscale_diagnose::parse_grid`]).
pub fn gamma_grid(text: &str) -> Result<GammaGrid, String> {
    critscale_diagnose::parse_grid(text).map(GammaGrid)
}

/// `--eta` of `diagnose`: exact η at every γ, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EtaChoice {
    /// No η (the default).
    #[default]
    None,
    /// The kernels' exact η at every γ of the grid.
    Exact,
}

/// `--eta`: `exact` or `none`.
pub fn eta_kind(text: &str) -> Result<EtaChoice, String> {
    match text.trim() {
        "exact" => Ok(EtaChoice::Exact),
        "none" => Ok(EtaChoice::None),
        _ => Err("need exact or none".to_owned()),
    }
}

/// Why `diagnose` stopped; [`DiagnoseFailure::exit_code`] gives the exit code.
#[derive(Debug, thiserror::Error)]
pub enum DiagnoseFailure {
    /// The token file.
    #[error("{0}")]
    Tokens(#[from] TokenFileError),
    /// The diagnosis refused the tokens, the grid or the memory.
    #[error("{0}")]
    Diagnose(#[from] DiagnoseError),
    /// The output directory.
    #[error(transparent)]
    Write(#[from] WriteError),
    /// A figure or a table could not be made.
    #[error("cannot make {what}: {message}")]
    Output {
        /// Which file.
        what: String,
        /// Why.
        message: String,
    },
}

impl DiagnoseFailure {
    /// 3: exact η refused for its precision; 1: allocation failed after the memory check, or
    /// writing failed; 2: everything else (the input).
    pub fn exit_code(&self) -> u8 {
        match self {
            DiagnoseFailure::Diagnose(DiagnoseError::Kernel(KernelError::PrecisionLoss {
                ..
            })) => 3,
            DiagnoseFailure::Diagnose(DiagnoseError::Kernel(KernelError::OutOfMemory {
                ..
            }))
            | DiagnoseFailure::Write(WriteError::Io { .. })
            | DiagnoseFailure::Output { .. } => 1,
            DiagnoseFailure::Tokens(e) if e.is_out_of_memory() => 1,
            _ => 2,
        }
    }
}

/// What `diagnose` produced.
#[derive(Debug, Clone)]
pub struct DiagnoseOutput {
    /// Where the tokens came from.
    pub source: String,
    /// The diagnosis.
    pub diagnosis: Diagnosis,
    /// Notes of the write (`--out`), for standard error.
    pub notes: Vec<String>,
}

/// Runs `diagnose` (see the module docs).
///
/// # Errors
/// [`DiagnoseFailure`]: a bad file, tokens the diagnosis refuses, too little memory, an `--out`
/// that may not be written, a failed write.
pub fn run(args: &DiagnoseArgs) -> Result<DiagnoseOutput, DiagnoseFailure> {
    if let Some(out) = &args.out {
        check_target(out, args.force)?;
    }
    let (tensor, ids) = (args.tensor.as_deref(), args.ids.as_deref());
    let info = critscale_tokens::inspect(&args.tokens, tensor, ids)?;
    let limits = limits();
    // What the reader holds, the tokens in f64 and their directions, before anything is read.
    let token_bytes = 16u64
        .saturating_mul(info.n as u64)
        .saturating_mul(info.d as u64)
        .saturating_add(info.read_bytes);
    critscale_diagnose::prepare::check_memory("reading the tokens", info.n, token_bytes, &limits)?;
    let tokens = critscale_tokens::load(&args.tokens, tensor, ids)?;
    let x = tokens.x;
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(1)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg:>13} {bar:30} {pos}/{len}  {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let config = Config {
        gammas: args.gamma.clone(),
        eta: args.eta_exact,
        limits,
    };
    let diagnosis = diagnose(
        x.view(),
        &config,
        &mut |done: usize, total: usize, stage: &'static str| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
            bar.set_message(stage);
        },
    )?;
    bar.finish_and_clear();
    let source = format!("{} ({})", tokens.source, tokens.dtype.name());
    let mut notes = Vec::new();
    if let Some(out) = &args.out {
        let files = artifacts(&source, &diagnosis)?;
        notes = write_dir(out, &files, args.force, DIAGNOSE)?.notes;
    }
    Ok(DiagnoseOutput {
        source,
        diagnosis,
        notes,
    })
}

/// A number for the table: 6 significant digits, or `none`.
fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.6}"),
        _ => "none".to_owned(),
    }
}

/// The summary rows: (quantity, value, description).
fn summary(d: &Diagnosis) -> Vec<(&'static str, String, String)> {
    let p = &d.predictions;
    let mut rows = vec![
        (
            "tokens",
            format!("{} x {}", d.n, d.d),
            "n tokens of dimension d".to_owned(),
        ),
        (
            "distinct_m",
            d.distinct_m.to_string(),
            "distinct directions m (copies: 1 - cos <= 1e-12)".to_owned(),
        ),
        (
            "heaps_exponent",
            num(Some(d.heaps_exponent)),
            "ln m / ln n".to_owned(),
        ),
        (
            "copy_pair_fraction",
            num(Some(d.copy_pair_fraction)),
            "pairs of copies / all pairs".to_owned(),
        ),
        (
            "rows_with_copy_share",
            num(Some(d.rows_with_copy_share)),
            "share of rows with at least one copy".to_owned(),
        ),
        (
            "rho_hat",
            num(Some(d.rho_hat)),
            "mean cosine over non-copy pairs".to_owned(),
        ),
        (
            "gamma_star_lambda",
            num(d.gamma_star_lambda),
            format!("measured: lambda = 1/2 ({})", d.crossing_lambda.note),
        ),
        (
            "gamma_star_self",
            num(d.gamma_star_self),
            format!("measured: mean self mass = 1/2 ({})", d.crossing_self.note),
        ),
        (
            "gamma_c_hat",
            num(Some(p.gamma_c_hat)),
            "prediction 1/(1 - rho_hat) (the paper's gamma_c)".to_owned(),
        ),
        (
            "simplex_crossing",
            num(p.simplex_crossing),
            "prediction for gamma*_lambda: exact n-token simplex at rho_hat, lambda = 1/2"
                .to_owned(),
        ),
        (
            "m_type_simplex_crossing",
            num(p.m_type_simplex_crossing),
            "prediction for gamma*_lambda: exact m-type simplex at rho_hat (equal multiplicities)"
                .to_owned(),
        ),
        (
            "m_type_gamma_c",
            num(Some(p.m_type_gamma_c)),
            "ln m / ((1 - rho_hat) ln n) = heaps exponent / (1 - rho_hat)".to_owned(),
        ),
        (
            "self_law_crossing",
            num(p.self_law_crossing),
            "prediction for gamma*_self: mean_i 1/(1 + ((1-f_i)/f_i) e^(-beta(1-rho_hat))) = 1/2"
                .to_owned(),
        ),
        (
            "self_law_mean_gamma",
            num(Some(p.self_law_mean_gamma)),
            "mean_i ln((1-f_i)/f_i) / ((1 - rho_hat) ln n)".to_owned(),
        ),
        (
            "self_law_mean_logodds",
            num(Some(p.self_law_mean_logodds)),
            "mean_i ln((1-f_i)/f_i) / ln n (the reference of THEORY 10)".to_owned(),
        ),
        (
            "equal_multiplicity_self",
            num(Some(p.equal_multiplicity_self)),
            "ln(m - 1) / ((1 - rho_hat) ln n): the law with every share 1/m".to_owned(),
        ),
        (
            "gap_scale_median",
            num(Some(p.gap_scale_median)),
            format!(
                "gap counting Lambda_i / ln n, median over rows (quartiles {} .. {})",
                num(Some(p.gap_scale_q1)),
                num(Some(p.gap_scale_q3))
            ),
        ),
    ];
    for note in &p.notes {
        rows.push(("note", String::new(), note.clone()));
    }
    if let Some(note) = &d.eta_note {
        rows.push(("eta", String::new(), note.clone()));
    }
    rows
}

/// γ or β for the sweep table: four decimals in the usual range, else scientific.
fn col(x: f64) -> String {
    if (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.3e}")
    }
}

/// The table: the summary (quantity | value | description), then the sweep.
pub fn to_table(out: &DiagnoseOutput) -> String {
    let d = &out.diagnosis;
    let mut s = String::new();
    let _ = writeln!(s, "{:<24} {:<12} description", "quantity", "value");
    let _ = writeln!(s, "{:<24} {:<12} {}", "source", "", out.source);
    for (q, v, desc) in summary(d) {
        let _ = writeln!(s, "{q:<24} {v:<12} {desc}");
    }
    let _ = writeln!(s);
    let eta = d.sweep.iter().any(|p| p.eta.is_some());
    let _ = write!(
        s,
        "{:>10} {:>10} {:>12} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "gamma", "beta", "lambda", "lambda_angle", "self_mass", "self_wt", "support", "entropy"
    );
    let _ = writeln!(
        s,
        "{}",
        if eta {
            format!(" {:>12}", "eta")
        } else {
            String::new()
        }
    );
    for p in &d.sweep {
        let _ = write!(
            s,
            "{:>10} {:>10} {:>12.6e} {:>12.6e} {:>10.6} {:>10.6} {:>10.3} {:>10.4}",
            col(p.gamma),
            col(p.beta),
            p.lambda,
            p.lambda_angle,
            p.self_mass,
            p.self_weight,
            p.support,
            p.entropy
        );
        let _ = writeln!(
            s,
            "{}",
            p.eta.map(|e| format!(" {e:>12.6e}")).unwrap_or_default()
        );
    }
    s
}

/// One JSON object: `source`, then every field of [`Diagnosis`].
pub fn to_json(out: &DiagnoseOutput) -> Value {
    let mut m = Map::new();
    m.insert("source".into(), Value::from(out.source.clone()));
    if let Ok(Value::Object(fields)) = serde_json::to_value(&out.diagnosis) {
        m.extend(fields);
    }
    Value::Object(m)
}

fn output_error(what: &str) -> impl FnOnce(String) -> DiagnoseFailure + '_ {
    move |message| DiagnoseFailure::Output {
        what: what.to_owned(),
        message,
    }
}

/// Rows of serialisable records as CSV.
fn csv_of<T: serde::Serialize>(what: &str, records: &[T]) -> Result<Vec<u8>, DiagnoseFailure> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in records {
        w.serialize(r)
            .map_err(|e| output_error(what)(e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| output_error(what)(e.to_string()))
}

/// A vertical marker line from `lo` to `hi` at `x`, if `x` is known and inside `range`.
fn vertical(
    label: String,
    x: Option<f64>,
    range: (f64, f64),
    y: (f64, f64),
    style: LineStyle,
) -> Option<Line> {
    let x = x.filter(|x| x.is_finite() && *x >= range.0 && *x <= range.1)?;
    Some(Line {
        label,
        points: vec![(x, y.0), (x, y.1)],
        style,
    })
}

/// The files of `--out`: diagnose.json, summary.csv, sweep.csv, rows.csv and three figures.
fn artifacts(source: &str, d: &Diagnosis) -> Result<Vec<Artifact>, DiagnoseFailure> {
    let out = DiagnoseOutput {
        source: source.to_owned(),
        diagnosis: d.clone(),
        notes: Vec::new(),
    };
    let json = format!("{:#}\n", to_json(&out));
    #[derive(serde::Serialize)]
    struct SummaryRow<'a> {
        quantity: &'a str,
        value: String,
        description: String,
    }
    let summary: Vec<SummaryRow<'_>> = summary(d)
        .into_iter()
        .map(|(quantity, value, description)| SummaryRow {
            quantity,
            value,
            description,
        })
        .collect();
    let p = &d.predictions;
    let g0 = d.sweep.first().map_or(0.0, |s| s.gamma);
    let g1 = d.sweep.last().map_or(1.0, |s| s.gamma).max(g0 + 1e-9);
    let range = (g0, g1);
    let half = |label: &str| Line {
        label: label.to_owned(),
        points: vec![(g0, 0.5), (g1, 0.5)],
        style: LineStyle::ThinGrey,
    };
    let curve = |label: &str, f: fn(&Point) -> f64, style| Line {
        label: label.to_owned(),
        points: d.sweep.iter().map(|s| (s.gamma, f(s))).collect(),
        style,
    };
    let mut lam_lines = vec![
        half("1/2"),
        curve("lambda", |s| s.lambda, LineStyle::Series(0)),
        curve("lambda_angle", |s| s.lambda_angle, LineStyle::Series(1)),
    ];
    lam_lines.extend(
        [
            vertical(
                "measured gamma*".to_owned(),
                d.gamma_star_lambda,
                range,
                (0.0, 1.05),
                LineStyle::SolidRed,
            ),
            vertical(
                "n-simplex at rho_hat".to_owned(),
                p.simplex_crossing,
                range,
                (0.0, 1.05),
                LineStyle::DashedBlack,
            ),
            vertical(
                "m-type simplex".to_owned(),
                p.m_type_simplex_crossing,
                range,
                (0.0, 1.05),
                LineStyle::Series(2),
            ),
            vertical(
                "1/(1 - rho_hat)".to_owned(),
                Some(p.gamma_c_hat),
                range,
                (0.0, 1.05),
                LineStyle::Series(4),
            ),
        ]
        .into_iter()
        .flatten(),
    );
    let plot = |title: &str,
                y_label: &str,
                y_range,
                lines_: Vec<Line>,
                bands: Vec<Band>,
                x_label: &str,
                x_range| {
        lines(&LinePlot {
            title: title.to_owned(),
            x_label: x_label.to_owned(),
            y_label: y_label.to_owned(),
            x_range,
            y_range,
            x_log: false,
            lines: lines_,
            bands,
            notes: Vec::new(),
            legend_left: true,
        })
        .map_err(|e| output_error(title)(e.to_string()))
    };
    let lambda_svg = plot(
        "lambda over gamma, with the predicted crossings",
        "lambda",
        (0.0, 1.05),
        lam_lines,
        Vec::new(),
        "gamma (beta = gamma ln n)",
        range,
    )?;
    let mut self_lines = vec![
        half("1/2"),
        curve(
            "self mass (own + copies)",
            |s| s.self_mass,
            LineStyle::Series(0),
        ),
        curve("self weight A_ii", |s| s.self_weight, LineStyle::Series(1)),
    ];
    self_lines.extend(
        [
            vertical(
                "measured gamma*_self".to_owned(),
                d.gamma_star_self,
                range,
                (0.0, 1.05),
                LineStyle::SolidRed,
            ),
            vertical(
                "repeated-token law".to_owned(),
                p.self_law_crossing,
                range,
                (0.0, 1.05),
                LineStyle::DashedBlack,
            ),
            vertical(
                "equal multiplicity, f = 1/m".to_owned(),
                Some(p.equal_multiplicity_self),
                range,
                (0.0, 1.05),
                LineStyle::Series(2),
            ),
        ]
        .into_iter()
        .flatten(),
    );
    let self_svg = plot(
        "mean self mass over gamma, with the predicted crossings",
        "self mass",
        (0.0, 1.05),
        self_lines,
        Vec::new(),
        "gamma (beta = gamma ln n)",
        range,
    )?;
    // Histogram of Λ_i/ln n: 30 bins over the observed range, drawn as a band from 0.
    let gaps: Vec<f64> = d.rows.iter().map(|r| r.gap_scale).collect();
    let (lo, hi) = gaps
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    };
    let bins = 30usize;
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &gaps {
        counts[(((v - lo) / width) as usize).min(bins - 1)] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(1) as f64 * 1.1;
    let band: Vec<(f64, f64, f64)> = counts
        .iter()
        .enumerate()
        .flat_map(|(k, &c)| {
            let a = lo + width * k as f64;
            [(a, 0.0, c as f64), (a + width, 0.0, c as f64)]
        })
        .collect();
    let gap_lines: Vec<Line> = [
        vertical(
            "median".to_owned(),
            Some(p.gap_scale_median),
            (lo, hi),
            (0.0, top),
            LineStyle::SolidRed,
        ),
        vertical(
            "1/(1 - rho_hat)".to_owned(),
            Some(p.gamma_c_hat),
            (lo, hi),
            (0.0, top),
            LineStyle::DashedBlack,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    let gap_svg = plot(
        "gap counting per row: Lambda_i / ln n (copies as self weight)",
        "rows",
        (0.0, top),
        gap_lines,
        vec![Band {
            label: "rows".to_owned(),
            points: band,
        }],
        "Lambda_i / ln n",
        (lo, hi),
    )?;
    let file = |path: &str, bytes: Vec<u8>| Artifact {
        path: path.to_owned(),
        bytes,
    };
    Ok(vec![
        file("diagnose.json", json.into_bytes()),
        file("summary.csv", csv_of("summary.csv", &summary)?),
        file("sweep.csv", csv_of("sweep.csv", &d.sweep)?),
        file("rows.csv", csv_of("rows.csv", &d.rows)?),
        file("lambda.svg", lambda_svg.into_bytes()),
        file("self_mass.svg", self_svg.into_bytes()),
        file("gap_scale.svg", gap_svg.into_bytes()),
    ])
}
