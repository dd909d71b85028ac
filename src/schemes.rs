//! `critscale schemes`: practical scaling rules against the critical band γ_c(ρ) = 1/(1 − ρ).

use critscale_schemes::{Rule, YarnConvention, crossings, read};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The options of `schemes`, as typed.
#[derive(Debug, Clone)]
pub struct SchemesArgs {
    /// Pairwise cosines ρ (comma-separated).
    pub rho: String,
    /// Context lengths n (comma-separated).
    pub n: String,
    /// β at training time (Qwen, YaRN, SWAN-style).
    pub beta0: String,
    /// Training length L.
    pub train_len: String,
    /// SSMax's s.
    pub ssmax_s: String,
    /// The SWAN-style slope τ.
    pub swan_tau: String,
}

pub use crate::options::BadOption;

fn numbers(
    flag: &'static str,
    text: &str,
    ok: impl Fn(f64) -> bool,
    requirement: &'static str,
) -> Result<Vec<f64>, BadOption> {
    let values: Option<Vec<f64>> = text
        .split(',')
        .map(|t| {
            t.trim()
                .parse::<f64>()
                .ok()
                .filter(|&x| x.is_finite() && ok(x))
        })
        .collect();
    match values {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(BadOption::new(flag, text, requirement)),
    }
}

fn one(
    flag: &'static str,
    text: &str,
    ok: impl Fn(f64) -> bool,
    requirement: &'static str,
) -> Result<f64, BadOption> {
    let v = numbers(flag, text, ok, requirement)?;
    if v.len() == 1 {
        Ok(v[0])
    } else {
        Err(BadOption::new(flag, text, requirement))
    }
}

/// The parsed request.
#[derive(Debug, Clone)]
pub struct Plan {
    rhos: Vec<f64>,
    ns: Vec<f64>,
    rules: Vec<Rule>,
}

/// Reads the options.
pub fn plan(args: &SchemesArgs) -> Result<Plan, BadOption> {
    let rhos = numbers(
        "rho",
        &args.rho,
        |x| x > 0.0 && x < 1.0,
        "comma-separated numbers in (0, 1)",
    )?;
    let ns = numbers(
        "n",
        &args.n,
        |x| x >= 2.0,
        "comma-separated numbers >= 2 (e.g. 1e3,1e6)",
    )?;
    let beta0 = one("beta0", &args.beta0, |x| x > 0.0, "a positive number")?;
    let train_len = one("train-len", &args.train_len, |x| x >= 2.0, "a number >= 2")?;
    let s = one("ssmax-s", &args.ssmax_s, |x| x > 0.0, "a positive number")?;
    let tau = one("swan-tau", &args.swan_tau, |x| x > 0.0, "a positive number")?;
    let rules = vec![
        Rule::QwenLogN { beta0, train_len },
        Rule::SsMax { s },
        Rule::Yarn {
            beta0,
            train_len,
            convention: YarnConvention::Squared,
        },
        Rule::Yarn {
            beta0,
            train_len,
            convention: YarnConvention::Single,
        },
        Rule::SwanStyle {
            beta0,
            train_len,
            tau,
        },
    ];
    Ok(Plan { rhos, ns, rules })
}

/// The crossings of γ_c(ρ) searched between n = 2 and this length.
const N_MAX: f64 = 1e300;

/// The table: per ρ, per rule, γ(n) and the regime at each n, and where γ(n) crosses γ_c(ρ).
pub fn render(plan: &Plan) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "gamma(n) = beta_n / log n against gamma_c = 1/(1-rho); regime from kappa log n (critical: |kappa| log n <= 1)"
    );
    for &rho in &plan.rhos {
        let _ = writeln!(text, "\nrho = {rho}  (gamma_c = {:.4})", 1.0 / (1.0 - rho));
        let mut header = format!("  {:<12}", "rule");
        for &n in &plan.ns {
            let _ = write!(header, "  {:>21}", format!("n = {n:e}"));
        }
        let _ = writeln!(text, "{header}  crosses gamma_c at n =");
        for rule in &plan.rules {
            let mut line = format!("  {:<12}", rule.name());
            for &n in &plan.ns {
                let cell = match read(rule, rho, n) {
                    Ok(r) => format!("{:.3} {}", r.gamma, r.regime.word()),
                    Err(e) => format!("error: {e}"),
                };
                let _ = write!(line, "  {cell:>21}");
            }
            let cross: Vec<String> = crossings(rule, rho, 2.0, N_MAX)
                .iter()
                .map(|n| format!("{n:.3e}"))
                .collect();
            let cross = if cross.is_empty() {
                "never (n <= 1e300)".to_owned()
            } else {
                cross.join(", ")
            };
            let _ = writeln!(text, "{}  {cross}", line.trim_end());
        }
    }
    text.push_str(
        "\nyarn (m^2): q and k each scaled by m = 0.1 log(n/L) + 1, logits by m^2; yarn (m): logits by m once.\n\
         swan-style: beta0 + tau log(n/L) past L (our stand-in; SWAN-GPT's exact formula was not available).\n",
    );
    text
}

/// The same as JSON: one object per (ρ, rule) with the readings and crossings.
pub fn to_json(plan: &Plan) -> Value {
    let mut items = Vec::new();
    for &rho in &plan.rhos {
        for rule in &plan.rules {
            let readings: Vec<Value> = plan
                .ns
                .iter()
                .map(|&n| match read(rule, rho, n) {
                    Ok(r) => serde_json::to_value(r).unwrap_or(Value::Null),
                    Err(e) => json!({ "n": n, "error": e.to_string() }),
                })
                .collect();
            items.push(json!({
                "rho": rho,
                "gamma_c": 1.0 / (1.0 - rho),
                "name": rule.name(),
                "rule": serde_json::to_value(rule).unwrap_or(Value::Null),
                "readings": readings,
                "crossings": crossings(rule, rho, 2.0, N_MAX),
            }));
        }
    }
    Value::Array(items)
}
