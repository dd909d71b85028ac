//! Practical scaling rules against the critical band (THEORY §7, §11, `crates/schemes`).
//!
//! Each rule multiplies the plain logits by m(n), so β_n = β₀·m(n); its effective
//! γ(n) = β_n / log n is compared with γ_c(ρ) = 1/(1 − ρ) for ρ = 0.1, …, 0.9. The regime at (ρ, n) follows from κ·log n = β_n(1 − ρ) − log n (the simplex
//! self weight is p = σ(κ log n + log(n/(n−1)))): the `FiniteRegime` of `critscale_schemes::regime_at`,
//! collapse when κ log n < −1, near-critical when |κ log n| ≤ 1, identity when κ log n > 1. Two kinds of lengths are reported:
//!
//! * where γ(n) = γ_c(ρ) (`critscale_schemes::crossings`: exact, per monotone piece), and
//! * where the regime changes, i.e. where κ log n crosses −1 or +1
//!   (`critscale_schemes::regime_changes`: a scan of 4000 points in log n ∈ [log 2, log 10³⁰⁰],
//!   then bisection to 1e-12 relative, through `critscale_asymptotics::threshold`).
//!
//! The rule parameters are those of `critscale schemes`' defaults: β₀ = 10, a training length
//! L = 4096, SSMax's s = 0.43, static YaRN with factor 4, dynamic YaRN, Llama 4's temperature
//! tuning (8192, 0.1), the SWAN-style slope τ = 2. The section also reads the committed configs
//! of a few public models (`critscale_schemes::hf::fixtures`) and says, for each, which factor
//! multiplies β and its regime at β₀ = 10, ρ = [`CONFIG_RHO`].

use crate::format::{csv_num, md_num, num};
use crate::plot::{self, Band, Line, LineStyle};
use crate::table::{Table, columns, json_row, positional};
use crate::{Artifact, ReportError};
use critscale_schemes::hf::{fixtures, read_config};
use critscale_schemes::{RegimeChange, Rule, defaults, read};
use critscale_simplex::gamma_c;
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write as _;

pub use critscale_schemes::defaults::{BETA0, SSMAX_S, SWAN_TAU, TRAIN_LEN};
/// The ρ of the table.
pub const RHOS: [f64; 9] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
/// The context lengths of the table (as labels and values).
pub const LENGTHS: [(&str, f64); 6] = [
    ("1e3", 1e3),
    ("1e4", 1e4),
    ("1e5", 1e5),
    ("1e6", 1e6),
    ("1e7", 1e7),
    ("1e8", 1e8),
];
/// Crossings are searched up to this length.
pub const N_MAX: f64 = 1e300;
/// The ρ at which the public models' configs are read.
pub const CONFIG_RHO: f64 = 0.3;
/// The lengths at which the public models' configs are read (as labels and values).
pub const CONFIG_LENGTHS: [(&str, f64); 3] = [("1e4", 1e4), ("1e6", 1e6), ("1e8", 1e8)];
/// The ρ whose near-critical band is shaded in the figure.
pub const WINDOW_RHO: f64 = 0.3;
/// The figure's range of log10 n.
const PLOT_LOG10: (f64, f64) = (2.0, 12.0);
/// The figure's largest γ (γ_c(0.9) = 10 is off the chart; the table has it).
const Y_MAX: f64 = 5.5;
/// Points per curve in the figure.
const PLOT_POINTS: usize = 201;

/// The rules of the report: those of `critscale schemes` at its defaults.
pub fn rules() -> Vec<Rule> {
    defaults::rules()
}

/// Where the regime of `rule` at β₀ = [`BETA0`] changes for n ∈ [2, N_MAX] (see the module docs).
pub fn regime_changes(rule: &Rule, rho: f64) -> Vec<RegimeChange> {
    critscale_schemes::regime_changes(rule, BETA0, rho, 2.0, N_MAX)
}

/// Where γ(n) of `rule` at β₀ = [`BETA0`] crosses γ_c(ρ) for n ∈ [2, N_MAX].
fn crossings(rule: &Rule, rho: f64) -> Result<Vec<f64>, ReportError> {
    critscale_schemes::crossings(rule, BETA0, rho, 2.0, N_MAX)
        .map(|list| list.iter().map(|c| c.n).collect())
        .map_err(|e| ReportError::Internal(format!("{}: {e}", rule.name())))
}

/// One public model's config, read: one row per group of layers.
#[derive(Debug, Clone)]
pub struct ConfigRow {
    /// The model.
    pub model: &'static str,
    /// The fixture's file name.
    pub file: &'static str,
    /// The layers the rule describes.
    pub layers: String,
    /// The rule read.
    pub rule: Rule,
    /// The readings at [`CONFIG_LENGTHS`], β₀ = [`BETA0`], ρ = [`CONFIG_RHO`].
    pub readings: Vec<critscale_schemes::Reading>,
    /// Where γ(n) = γ_c([`CONFIG_RHO`]).
    pub crossings: Vec<f64>,
}

/// One (rule, ρ) row.
#[derive(Debug, Clone)]
pub struct Row {
    /// The rule.
    pub rule: Rule,
    /// ρ.
    pub rho: f64,
    /// The readings at [`LENGTHS`].
    pub readings: Vec<critscale_schemes::Reading>,
    /// Where γ(n) = γ_c(ρ).
    pub crossings: Vec<f64>,
    /// Where the regime changes.
    pub changes: Vec<RegimeChange>,
}

/// Everything the section computed.
#[derive(Debug, Clone)]
pub struct Rules {
    /// Rows, rule-major.
    pub rows: Vec<Row>,
    /// The public models' configs.
    pub configs: Vec<ConfigRow>,
}

/// Computes the section.
pub fn compute() -> Result<Rules, ReportError> {
    let mut rows = Vec::new();
    for rule in rules() {
        for &rho in &RHOS {
            let readings = LENGTHS
                .iter()
                .map(|&(_, n)| read(&rule, BETA0, rho, n))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ReportError::Internal(format!("{}: {e}", rule.name())))?;
            rows.push(Row {
                rule,
                rho,
                readings,
                crossings: crossings(&rule, rho)?,
                changes: regime_changes(&rule, rho),
            });
        }
    }
    let mut configs = Vec::new();
    for fixture in fixtures() {
        let schemes = read_config(fixture.text, fixture.file)
            .map_err(|e| ReportError::Internal(format!("{}: {e}", fixture.file)))?;
        for scheme in schemes {
            let readings = CONFIG_LENGTHS
                .iter()
                .map(|&(_, n)| read(&scheme.rule, BETA0, CONFIG_RHO, n))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| ReportError::Internal(format!("{}: {e}", fixture.file)))?;
            configs.push(ConfigRow {
                model: fixture.model,
                file: fixture.file,
                layers: scheme.name,
                rule: scheme.rule,
                readings,
                crossings: crossings(&scheme.rule, CONFIG_RHO)?,
            });
        }
    }
    Ok(Rules { rows, configs })
}

/// γ(n) as n → ∞ at β₀ = [`BETA0`], in words (the paper's critical order is γ = γ_c).
fn limit_text(rule: &Rule) -> String {
    let b = BETA0;
    match *rule {
        Rule::YarnDynamic { coefficient, .. } => {
            format!(
                "grows like β₀c²·log n = {} log n",
                md_num(b * coefficient * coefficient)
            )
        }
        Rule::Llama4Temperature { attn_scale, .. } => {
            format!("→ β₀·attn_scale = {}", md_num(b * attn_scale))
        }
        Rule::Llama4ScalingBeta { beta, yarn, .. } => {
            let c = yarn.map_or(1.0, |y| y.attention_factor().powi(2));
            format!("→ β₀·A²·β = {}", md_num(b * c * beta))
        }
        Rule::QwenLogN { train_len } => {
            format!("= β₀/log L = {} past L", md_num(b / train_len.ln()))
        }
        Rule::SsMax { s, .. } => format!("→ β₀s = {}", md_num(b * s)),
        Rule::SwanStyle { slope, .. } => format!("→ β₀k = {}", md_num(b * slope)),
        _ => format!("= β₀m/log n → 0 (m = {})", md_num(rule.multiplier(2.0))),
    }
}

/// One reading of a rule: a line of `rules_readings.csv` after its rule, ρ and γ_c, and an
/// entry of `readings` in `rules.json`.
#[derive(Serialize)]
struct ReadingCells {
    n: f64,
    multiplier: f64,
    beta: f64,
    gamma: f64,
    kappa_log_n: f64,
    regime: &'static str,
    self_weight: f64,
    lambda: f64,
}

impl ReadingCells {
    fn of(r: &critscale_schemes::Reading) -> Self {
        ReadingCells {
            n: r.n,
            multiplier: r.multiplier,
            beta: r.beta,
            gamma: r.gamma,
            kappa_log_n: r.kappa_log_n,
            regime: r.regime.word(),
            self_weight: r.self_weight,
            lambda: r.lambda,
        }
    }
}

/// A line of `rules_readings.csv`.
#[derive(Serialize)]
struct ReadingLine<'a> {
    rule: &'a str,
    rho: f64,
    gamma_c: f64,
    #[serde(flatten)]
    reading: ReadingCells,
}

/// A line of `rules_crossings.csv` (the lengths as text; `rules.json` lists them).
#[derive(Serialize)]
struct CrossingLine<'a> {
    rule: &'a str,
    rho: f64,
    gamma_c: f64,
    crosses_gamma_c_at: String,
    regime_changes: String,
}

fn lengths_text(ns: &[f64]) -> String {
    ns.iter()
        .map(|&n| crate::format::csv_num(n))
        .collect::<Vec<_>>()
        .join(" ")
}

fn changes_text(changes: &[RegimeChange]) -> String {
    changes
        .iter()
        .map(|c| format!("{}->{} at {}", c.from.word(), c.to.word(), csv_num(c.n)))
        .collect::<Vec<_>>()
        .join("; ")
}

fn md_length(n: f64) -> String {
    format!("{n:.3e}")
}

impl Rules {
    /// The data files and the figure.
    pub fn artifacts(&self) -> Result<Vec<Artifact>, ReportError> {
        let mut out = Vec::new();
        let mut readings = Table::new(columns(&[
            "rule",
            "rho",
            "gamma_c",
            "n",
            "multiplier",
            "beta",
            "gamma",
            "kappa_log_n",
            "regime",
            "self_weight",
            "lambda",
        ]));
        let mut crossings = Table::new(columns(&[
            "rule",
            "rho",
            "gamma_c",
            "crosses_gamma_c_at",
            "regime_changes",
        ]));
        let mut items = Vec::new();
        for row in &self.rows {
            let rule = row.rule.name();
            for r in &row.readings {
                readings.push(&ReadingLine {
                    rule: &rule,
                    rho: row.rho,
                    gamma_c: r.gamma_c,
                    reading: ReadingCells::of(r),
                })?;
            }
            crossings.push(&CrossingLine {
                rule: &rule,
                rho: row.rho,
                gamma_c: gamma_c(&row.rho),
                crosses_gamma_c_at: lengths_text(&row.crossings),
                regime_changes: changes_text(&row.changes),
            })?;
            items.push(json!({
                "rule": rule,
                "parameters": rule_parameters(&row.rule),
                "rho": num(row.rho),
                "gamma_c": num(gamma_c(&row.rho)),
                "readings": row.readings.iter().map(|r| json_row(&ReadingCells::of(r))).collect::<Result<Vec<_>, _>>()?,
                "crosses_gamma_c_at": row.crossings.iter().map(|&n| num(n)).collect::<Vec<_>>(),
                "regime_changes": row.changes.iter().map(|c| json!({
                    "n": num(c.n),
                    "from": c.from.word(),
                    "to": c.to.word(),
                })).collect::<Vec<_>>(),
            }));
        }
        let mut configs = Vec::new();
        for row in &self.configs {
            configs.push(json!({
                "model": row.model,
                "config": format!("crates/schemes/fixtures/{}", row.file),
                "layers": row.layers,
                "rule": rule_parameters(&row.rule),
                "multiplies_beta": row.rule.factor_text(),
                "beta0": num(BETA0),
                "rho": num(CONFIG_RHO),
                "gamma_c": num(gamma_c(&CONFIG_RHO)),
                "readings": row.readings.iter().map(|r| json_row(&ReadingCells::of(r))).collect::<Result<Vec<_>, _>>()?,
                "crosses_gamma_c_at": row.crossings.iter().map(|&n| num(n)).collect::<Vec<_>>(),
            }));
        }
        out.push(Artifact::json(
            "data/rules_configs.json",
            &Value::Array(configs),
        ));
        out.push(Artifact::new("data/rules_readings.csv", readings.csv()?));
        out.push(Artifact::new("data/rules_crossings.csv", crossings.csv()?));
        out.push(Artifact::json("data/rules.json", &Value::Array(items)));

        // Figure data: γ(n) per rule, the γ_c levels and the near-critical band at ρ = 0.3.
        let log10s: Vec<f64> = (0..PLOT_POINTS)
            .map(|k| {
                PLOT_LOG10.0 + (PLOT_LOG10.1 - PLOT_LOG10.0) * k as f64 / (PLOT_POINTS - 1) as f64
            })
            .collect();
        let rules = rules();
        let mut header = vec!["log10_n".to_owned()];
        header.extend(rules.iter().map(|r| format!("gamma {}", r.name())));
        header.push(format!("window_low rho={WINDOW_RHO}"));
        header.push(format!("window_high rho={WINDOW_RHO}"));
        let mut table = Table::new(positional(&header));
        let window_gamma_c = gamma_c(&WINDOW_RHO);
        let window = |x: f64| {
            let half = 1.0 / ((1.0 - WINDOW_RHO) * x * std::f64::consts::LN_10);
            (window_gamma_c - half, window_gamma_c + half)
        };
        for &x in &log10s {
            let n = 10f64.powf(x);
            let mut row = vec![x];
            row.extend(rules.iter().map(|r| r.gamma(BETA0, n)));
            let (lo, hi) = window(x);
            row.push(lo);
            row.push(hi);
            table.push(&row)?;
        }
        out.push(Artifact::new("data/rules_curves.csv", table.csv()?));
        out.push(Artifact::json(
            "data/rules_curves.json",
            &json!({
                "log10_n": log10s.iter().map(|&x| num(x)).collect::<Vec<_>>(),
                "gamma": rules.iter().map(|r| json!({
                    "rule": r.name(),
                    "values": log10s.iter().map(|&x| num(r.gamma(BETA0, 10f64.powf(x)))).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
                "gamma_c": RHOS.iter().map(|&rho| json!({ "rho": num(rho), "gamma_c": num(gamma_c(&rho)) })).collect::<Vec<_>>(),
                "near_critical_band": {
                    "rho": num(WINDOW_RHO),
                    "definition": "gamma_c +- 1/((1-rho) log n), i.e. |kappa log n| <= 1",
                    "low": log10s.iter().map(|&x| num(window(x).0)).collect::<Vec<_>>(),
                    "high": log10s.iter().map(|&x| num(window(x).1)).collect::<Vec<_>>(),
                },
            }),
        ));

        let mut lines: Vec<Line> = RHOS
            .iter()
            .enumerate()
            .map(|(k, &rho)| Line {
                label: if k == 0 {
                    "gamma_c(rho) = 1/(1-rho)".to_owned()
                } else {
                    String::new()
                },
                points: vec![(PLOT_LOG10.0, gamma_c(&rho)), (PLOT_LOG10.1, gamma_c(&rho))],
                style: LineStyle::ThinGrey,
            })
            .collect();
        lines.extend(rules.iter().enumerate().map(|(k, r)| {
            Line {
                label: r.name(),
                points: log10s
                    .iter()
                    .map(|&x| (x, r.gamma(BETA0, 10f64.powf(x)).min(Y_MAX)))
                    .collect(),
                style: LineStyle::Series(k),
            }
        }));
        let svg = plot::lines(&plot::LinePlot {
            title: format!(
                "effective gamma(n) = beta_n / log n (beta0 = {BETA0}, L = {TRAIN_LEN})"
            ),
            x_label: "context length n".to_owned(),
            y_label: "gamma(n)".to_owned(),
            x_range: PLOT_LOG10,
            y_range: (0.0, Y_MAX),
            x_log: true,
            lines,
            bands: vec![Band {
                label: format!("near-critical band, rho = {WINDOW_RHO}"),
                points: log10s
                    .iter()
                    .map(|&x| {
                        let (lo, hi) = window(x);
                        (x, lo.max(0.0), hi.min(Y_MAX))
                    })
                    .collect(),
            }],
            notes: RHOS
                .iter()
                // ρ = 0.2 (γ_c = 1.25) would overlap its neighbours' labels.
                .filter(|&&rho| gamma_c(&rho) < Y_MAX && rho != 0.2)
                .map(|&rho| {
                    (
                        PLOT_LOG10.1 - 0.9,
                        gamma_c(&rho) + 0.03 * Y_MAX,
                        format!("rho = {rho}"),
                    )
                })
                .collect(),
            legend_left: true,
        })?;
        out.push(Artifact::new("figures/rules_gamma.svg", svg.into_bytes()));
        Ok(out)
    }

    /// The Markdown of the section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## Practical scaling rules against the critical band\n");
        let _ = writeln!(
            md,
            "Every rule multiplies the model's plain logits by m(n), so β_n = β₀·m(n) and the effective \
             γ(n) = β_n/log n is compared with γ_c(ρ) = 1/(1 − ρ) (THEORY §7, §11); β₀, the plain logits' scale, is in \
             no config. Parameters (the defaults of `critscale schemes`, which prints this for any parameters, configs \
             or rules): β₀ = {BETA0}, training length L = {TRAIN_LEN}. `qwen-logn` multiplies the logits by log n/log L \
             past L; `ssmax` by s·log n with s = {SSMAX_S} (so γ = β₀s); `yarn` is YaRN as deployed, the config's \
             factor 4 fixing A = 0.1·log 4 + 1 on cos and sin, so the logits × A² at **every** n; `yarn-dynamic` is the \
             YaRN reference code's m = (0.1·log(n/L) + 1)² past L; `llama4-temperature` is Llama 4's NoPE layers, \
             1 + 0.1·log(1 + ⌊n/8192⌋) on q (a step function); `swan-style` is our stand-in for SWAN-GPT's dynamic \
             logarithmic scaling, β₀ + τ·log(n/L) past L with τ = {SWAN_TAU} (SWAN-GPT's exact formula was not \
             available). The regime at (ρ, n) is read from κ·log n = β_n(1 − ρ) − log n: **collapse** below −1, \
             **near-critical** within ±1 (the window at that n), **identity** above +1; the rule is **critical** \
             (γ(n) = γ_c) exactly at the crossings listed, found per monotone piece of γ (no grid).\n"
        );
        let _ = writeln!(
            md,
            "**Deployed configs.** The configs of a few public models (their logit-scaling keys, committed under \
             `crates/schemes/fixtures/`), read by `critscale schemes --hf-config`: which factor multiplies β, and the \
             regime at β₀ = {BETA0}, ρ = {CONFIG_RHO} (γ_c = {}), next to the paper's order γ = γ_c \
             (data: [`rules_configs.json`](data/rules_configs.json)).\n",
            md_num(gamma_c(&CONFIG_RHO))
        );
        let mut header = "| model | layers | factor multiplying β | γ(n) as n → ∞ |".to_owned();
        let mut rule_line = "|---|---|---|---|".to_owned();
        for (label, _) in CONFIG_LENGTHS {
            let _ = write!(header, " n = {label} |");
            rule_line.push_str("---|");
        }
        let _ = writeln!(md, "{header} γ(n) = γ_c at n = |\n{rule_line}---|");
        for row in &self.configs {
            let mut line = format!(
                "| {} | {} | {} | {} |",
                row.model,
                row.layers,
                row.rule.factor_text(),
                limit_text(&row.rule)
            );
            for r in &row.readings {
                let _ = write!(line, " γ = {} {} |", md_num(r.gamma), r.regime.word());
            }
            let cross = if row.crossings.is_empty() {
                "never".to_owned()
            } else {
                row.crossings
                    .iter()
                    .map(|&n| md_length(n))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let _ = writeln!(md, "{line} {cross} |");
        }
        md.push('\n');
        let _ = writeln!(
            md,
            "![gamma(n) of each rule against gamma_c](figures/rules_gamma.svg)\n"
        );
        let _ = writeln!(md, "Effective γ(n) of each rule:\n");
        let mut header = "| rule |".to_owned();
        let mut rule_line = "|---|".to_owned();
        for (label, _) in &LENGTHS {
            let _ = write!(header, " n = {label} |");
            rule_line.push_str("---|");
        }
        let _ = writeln!(md, "{header}\n{rule_line}");
        for rule in rules() {
            let mut line = format!("| {} |", rule.name());
            for &(_, n) in &LENGTHS {
                let _ = write!(line, " {} |", md_num(rule.gamma(BETA0, n)));
            }
            let _ = writeln!(md, "{line}");
        }
        md.push('\n');
        let _ = writeln!(
            md,
            "Regime per rule, ρ and n; the last columns give the lengths n ∈ [2, 10³⁰⁰] where γ(n) = γ_c(ρ) and \
             where the regime changes (data: [`rules_readings.csv`](data/rules_readings.csv), \
             [`rules_crossings.csv`](data/rules_crossings.csv), [`rules.json`](data/rules.json)).\n"
        );
        for rule in rules() {
            let _ = writeln!(md, "**{}**\n", rule.name());
            let mut header = "| ρ | γ_c |".to_owned();
            let mut rule_line = "|---|---|".to_owned();
            for (label, _) in &LENGTHS {
                let _ = write!(header, " {label} |");
                rule_line.push_str("---|");
            }
            let _ = writeln!(
                md,
                "{header} γ(n) = γ_c at n = | regime changes |\n{rule_line}---|---|"
            );
            for row in self.rows.iter().filter(|r| r.rule == rule) {
                let mut line = format!("| {} | {} |", row.rho, md_num(gamma_c(&row.rho)));
                for r in &row.readings {
                    let _ = write!(line, " {} |", r.regime.word());
                }
                let cross = if row.crossings.is_empty() {
                    "never".to_owned()
                } else {
                    row.crossings
                        .iter()
                        .map(|&n| md_length(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let changes = if row.changes.is_empty() {
                    "none".to_owned()
                } else {
                    row.changes
                        .iter()
                        .map(|c| {
                            format!("{} → {} at {}", c.from.word(), c.to.word(), md_length(c.n))
                        })
                        .collect::<Vec<_>>()
                        .join("; ")
                };
                let _ = writeln!(md, "{line} {cross} | {changes} |");
            }
            md.push('\n');
        }
        md
    }
}

fn rule_parameters(rule: &Rule) -> Value {
    let mut value = serde_json::to_value(rule).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        for (_, v) in map.iter_mut() {
            if let Some(x) = v.as_f64() {
                *v = num(x);
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;

    #[test]
    fn regime_changes_bracket_the_critical_crossing() {
        for rule in rules() {
            for &rho in &RHOS {
                let changes = regime_changes(&rule, rho);
                for c in &changes {
                    let k = rule.beta(BETA0, c.n) * (1.0 - rho) - c.n.ln();
                    // A step rule may jump past +-1: then the change is at the jump's n.
                    let at_jump = match rule {
                        Rule::Llama4Temperature { floor_scale, .. } => {
                            let j = (c.n / floor_scale).round();
                            j >= 1.0 && abs_diff_eq!(c.n, j * floor_scale, epsilon = 1e-9 * c.n)
                        }
                        _ => false,
                    };
                    assert!(
                        at_jump || abs_diff_eq!(k.abs(), 1.0, epsilon = 1e-6),
                        "{} {rho} {k}",
                        rule.name()
                    );
                    assert_ne!(c.from, c.to);
                }
                // Consecutive changes chain.
                for pair in changes.windows(2) {
                    assert_eq!(pair[0].to, pair[1].from);
                }
            }
        }
    }
}
