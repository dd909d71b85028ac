//! `critscale schemes`: practical scaling rules against the critical band γ_c(ρ) = 1/(1 − ρ).

use critscale_schemes::{Rule, crossings, defaults, read};
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The options of `schemes`, each with the text it was read from (for messages).
#[derive(Debug, Clone)]
pub struct SchemesArgs {
    /// Pairwise cosines ρ ([`rhos`]).
    pub rho: Given<Vec<f64>>,
    /// Context lengths n ([`lengths`]).
    pub n: Given<Vec<f64>>,
    /// β at training time (Qwen, YaRN, SWAN-style; [`beta0`]).
    pub beta0: Given<f64>,
    /// Training length L ([`train_len`]).
    pub train_len: Given<f64>,
    /// SSMax's s ([`ssmax_s`]).
    pub ssmax_s: Given<f64>,
    /// The SWAN-style slope τ ([`swan_tau`]).
    pub swan_tau: Given<f64>,
}

impl Default for SchemesArgs {
    /// The command line's defaults: ρ = 0.3, n = 1e3 … 1e8 and the rules' defaults
    /// ([`critscale_schemes::defaults`]).
    fn default() -> Self {
        let given = |text: &str, values: Vec<f64>| Given {
            value: values,
            text: text.to_owned(),
        };
        SchemesArgs {
            rho: given(DEFAULT_RHO, vec![0.3]),
            n: given(DEFAULT_LENGTHS, vec![1e3, 1e4, 1e5, 1e6, 1e8]),
            beta0: Given::of(defaults::BETA0),
            train_len: Given::of(defaults::TRAIN_LEN),
            ssmax_s: Given::of(defaults::SSMAX_S),
            swan_tau: Given::of(defaults::SWAN_TAU),
        }
    }
}

/// The default `--rho`.
pub const DEFAULT_RHO: &str = "0.3";
/// The default `--n`.
pub const DEFAULT_LENGTHS: &str = "1e3,1e4,1e5,1e6,1e8";

use crate::options::{BadParameter, Given};

/// The largest finite `f64`, as users read it.
const F64_MAX_TEXT: &str = "1.8e308";

/// True when the decimal `text` is exactly the double `x` (compared digit by digit: a double's
/// decimal expansion has at most 767 significant digits).
fn exactly(text: &str, x: f64) -> bool {
    use critscale_real::decimal::{Direction, round_sci};
    let typed = round_sci(text, 2000, Direction::Nearest);
    typed.is_some() && typed == round_sci(&format!("{x:.1100e}"), 2000, Direction::Nearest)
}

/// One number of an option, or the one-line reason it is refused: not a number, beyond `f64`
/// (schemes evaluates in `f64`), rounded by `f64` onto or past a bound of the valid range, or
/// outside that range.
fn number(token: &str, ok: &impl Fn(f64) -> bool, requirement: &str) -> Result<f64, String> {
    let token = token.trim();
    let literal = critscale_real::decimal::is_decimal_literal(token);
    let Some(x) = token.parse::<f64>().ok().filter(|_| literal) else {
        return Err(format!("'{token}' is not a number; {requirement}"));
    };
    let word = token
        .trim_start_matches(['+', '-'])
        .starts_with(|c: char| c.is_ascii_alphabetic());
    if !x.is_finite() {
        return Err(if word {
            format!("'{token}' is not finite; {requirement}")
        } else {
            format!(
                "'{token}' is beyond the range of f64, in which schemes evaluates (magnitudes up to {F64_MAX_TEXT}); {requirement}"
            )
        });
    }
    if ok(x) {
        return Ok(x);
    }
    if !exactly(token, x) && (ok(x.next_up()) || ok(x.next_down())) {
        return Err(format!(
            "f64, in which schemes evaluates, rounds '{token}' to {x:e}, which is outside the range; {requirement} (at f64 resolution)"
        ));
    }
    Err(format!("'{token}' is outside the range; {requirement}"))
}

/// A comma-separated list of numbers, each accepted by `ok`.
fn numbers(
    text: &str,
    ok: impl Fn(f64) -> bool,
    requirement: &str,
) -> Result<Given<Vec<f64>>, String> {
    let value = text
        .split(',')
        .map(|token| number(token, &ok, requirement))
        .collect::<Result<_, _>>()?;
    Ok(Given {
        value,
        text: text.to_owned(),
    })
}

/// One number accepted by `ok`.
fn one(text: &str, ok: impl Fn(f64) -> bool, requirement: &str) -> Result<Given<f64>, String> {
    if text.contains(',') {
        return Err(format!("give one number: {requirement}"));
    }
    Ok(Given {
        value: number(text, &ok, requirement)?,
        text: text.to_owned(),
    })
}

/// `--rho`: comma-separated cosines in (0, 1).
pub fn rhos(text: &str) -> Result<Given<Vec<f64>>, String> {
    numbers(
        text,
        |x| x > 0.0 && x < 1.0,
        "comma-separated numbers in (0, 1)",
    )
}

/// `--n`: comma-separated lengths in [2, 1.8e308].
pub fn lengths(text: &str) -> Result<Given<Vec<f64>>, String> {
    numbers(
        text,
        |x| x >= 2.0,
        "comma-separated numbers in [2, 1.8e308] (e.g. 1e3,1e6)",
    )
}

/// `--beta0`: a positive number.
pub fn beta0(text: &str) -> Result<Given<f64>, String> {
    one(text, |x| x > 0.0, "a positive number (up to 1.8e308)")
}

/// `--train-len`: a length in [2, 1.8e308].
pub fn train_len(text: &str) -> Result<Given<f64>, String> {
    one(text, |x| x >= 2.0, "a number in [2, 1.8e308]")
}

/// `--ssmax-s`: a positive number.
pub fn ssmax_s(text: &str) -> Result<Given<f64>, String> {
    one(text, |x| x > 0.0, "a positive number (up to 1.8e308)")
}

/// `--swan-tau`: a positive number.
pub fn swan_tau(text: &str) -> Result<Given<f64>, String> {
    one(text, |x| x > 0.0, "a positive number (up to 1.8e308)")
}

/// The parsed request.
#[derive(Debug, Clone)]
pub struct Plan {
    rhos: Vec<f64>,
    ns: Vec<f64>,
    rules: Vec<Rule>,
}

/// The request, refused before anything is printed when some printed value would not be a
/// finite `f64` (every reading at every requested n, and γ(n) over the crossing search).
pub fn plan(args: &SchemesArgs) -> Result<Plan, BadParameter> {
    let rules = defaults::rules_with(
        args.beta0.value,
        args.train_len.value,
        args.ssmax_s.value,
        args.swan_tau.value,
    );
    let plan = Plan {
        rhos: args.rho.value.clone(),
        ns: args.n.value.clone(),
        rules,
    };
    check_printable(&plan, args)?;
    Ok(plan)
}

/// The rule's option that scales β_n, and its text, for an error message: β₀ for the rules built
/// on it, s for SSMax, τ for the SWAN-style rule when τ·log(n/L) alone leaves the range.
fn culprit(rule: &Rule, n: f64, args: &SchemesArgs) -> (&'static str, String) {
    match *rule {
        Rule::SsMax { .. } => ("ssmax-s", args.ssmax_s.text.clone()),
        Rule::SwanStyle { train_len, tau, .. } if !(tau * (n / train_len).ln()).is_finite() => {
            ("swan-tau", args.swan_tau.text.clone())
        }
        _ => ("beta0", args.beta0.text.clone()),
    }
}

/// Refuses, before anything is printed, a request in which some printed value would not be a
/// finite `f64`: every reading at every requested n, and γ(n) over the crossing search up to
/// [`N_MAX`] (β_n grows with n in every rule, so its ends are the extremes).
fn check_printable(plan: &Plan, args: &SchemesArgs) -> Result<(), BadParameter> {
    let n_top = plan.ns.iter().copied().fold(N_MAX, f64::max);
    let lengths: Vec<f64> = plan.ns.iter().copied().chain([2.0, n_top]).collect();
    for rule in &plan.rules {
        let Some(n) = first_unprintable(rule, &plan.rhos, &lengths) else {
            continue;
        };
        let (flag, value) = culprit(rule, n, args);
        let beta = rule.beta(n);
        let (hint, range) = if beta.is_finite() {
            (
                "too small for f64 to resolve (beta_n (1 - rho) is lost against log n)",
                valid_range(&plan.rules, flag, &plan.rhos, &lengths, false),
            )
        } else {
            (
                "not a finite f64",
                valid_range(&plan.rules, flag, &plan.rhos, &lengths, true),
            )
        };
        return Err(BadParameter::new(
            flag,
            value,
            format!(
                "the {} rule's scale beta_n = {beta:e} at n = {n:e} is {hint} (schemes evaluates in f64 and searches crossings up to n = {N_MAX:e}){range}",
                rule.name()
            ),
        ));
    }
    Ok(())
}

/// The first length at which some printed value of `rule` is not a finite `f64` (or β_n ≤ 0).
fn first_unprintable(rule: &Rule, rhos: &[f64], lengths: &[f64]) -> Option<f64> {
    lengths.iter().copied().find(|&n| {
        !rhos.iter().all(|&rho| {
            read(rule, rho, n).is_ok_and(|r| {
                let logs = logarithms(&r, rho).map_or([f64::NAN; 2], |(a, b)| [a, b]);
                [
                    r.beta,
                    r.gamma,
                    r.gamma_c,
                    r.kappa_log_n,
                    r.self_weight,
                    r.lambda,
                ]
                .iter()
                .chain(&logs)
                .all(|v| v.is_finite())
                    && r.beta > 0.0
            })
        })
    })
}

/// `rule` with the option `flag` set to `value`.
fn with_option(rule: &Rule, flag: &str, value: f64) -> Rule {
    let mut rule = *rule;
    match (&mut rule, flag) {
        (Rule::SsMax { s }, "ssmax-s") => *s = value,
        (Rule::SwanStyle { tau, .. }, "swan-tau") => *tau = value,
        (
            Rule::QwenLogN { beta0, .. } | Rule::Yarn { beta0, .. } | Rule::SwanStyle { beta0, .. },
            "beta0",
        ) => *beta0 = value,
        _ => {}
    }
    rule
}

/// The valid side of the option, as a power of ten: "; valid up to about 1e305" (`too_large`)
/// or "; valid from about 1e-290", found by trying 10^k for k across f64's range. Every rule
/// that reads the option must work at 10^k, not only the one that failed first.
fn valid_range(
    rules: &[Rule],
    flag: &str,
    rhos: &[f64],
    lengths: &[f64],
    too_large: bool,
) -> String {
    let works = |k: i32| {
        rules.iter().all(|rule| {
            let rule = with_option(rule, flag, 10f64.powi(k));
            first_unprintable(&rule, rhos, lengths).is_none()
        })
    };
    let bound = if too_large {
        (-300..=308).rev().find(|&k| works(k))
    } else {
        (-323..=300).find(|&k| works(k))
    };
    match (bound, too_large) {
        (Some(k), true) => format!("; valid up to about 1e{k}"),
        (Some(k), false) => format!("; valid from about 1e{k}"),
        (None, _) => String::new(),
    }
}

/// γ for the table: three decimals, or three significant digits with an exponent once it is
/// large (a 300-digit integer part would claim digits an f64 does not hold).
fn gamma_text(gamma: f64) -> String {
    if gamma.abs() < 1e6 {
        format!("{gamma:.3}")
    } else {
        format!("{gamma:.3e}")
    }
}

/// The crossings of γ_c(ρ) searched between n = 2 and this length.
const N_MAX: f64 = 1e300;

/// The table: per ρ, per rule, γ(n) and the regime at each n, and where γ(n) crosses γ_c(ρ).
pub fn render(plan: &Plan) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "gamma(n) = beta_n / log n against gamma_c = 1/(1-rho); regime at each n from kappa log n (near-critical: |kappa log n| <= 1)"
    );
    for &rho in &plan.rhos {
        let _ = writeln!(
            text,
            "\nrho = {rho}  (gamma_c = {:.4})",
            critscale_simplex::gamma_c(&rho)
        );
        let mut header = format!("  {:<12}", "rule");
        for &n in &plan.ns {
            let _ = write!(header, "  {:>21}", format!("n = {n:e}"));
        }
        let _ = writeln!(text, "{header}  crosses gamma_c at n =");
        for rule in &plan.rules {
            let mut line = format!("  {:<12}", rule.name());
            for &n in &plan.ns {
                let cell = match read(rule, rho, n) {
                    Ok(r) => format!("{} {}", gamma_text(r.gamma), r.regime.word()),
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

/// ln A_ii and ln λ of a reading's simplex point: finite where the `f64` values underflow
/// (λ ≈ n^{2κ}/ρ is 1e-420 for SSMax at n = 1e300).
fn logarithms(reading: &critscale_schemes::Reading, rho: f64) -> Option<(f64, f64)> {
    let params =
        SimplexParams::new(reading.n, rho, Scaling::Beta(reading.beta), 0.0, 1.0, None).ok()?;
    let layer = SimplexLayer::evaluate(&params);
    Some((layer.ln_self_weight, layer.ln_lambda))
}

/// A reading's JSON with `ln_self_weight` and `ln_lambda` added (see [`logarithms`]).
fn with_logarithms(mut value: Value, reading: &critscale_schemes::Reading, rho: f64) -> Value {
    if let (Some((ln_p, ln_lambda)), Some(object)) =
        (logarithms(reading, rho), value.as_object_mut())
    {
        object.insert("ln_self_weight".to_owned(), json!(ln_p));
        object.insert("ln_lambda".to_owned(), json!(ln_lambda));
    }
    value
}

/// The same as JSON: one object per (ρ, rule) with the readings and crossings; each reading also
/// carries `ln_self_weight` and `ln_lambda`, finite where the values underflow `f64`.
pub fn to_json(plan: &Plan) -> Value {
    let mut items = Vec::new();
    for &rho in &plan.rhos {
        for rule in &plan.rules {
            let readings: Vec<Value> = plan
                .ns
                .iter()
                .map(|&n| match read(rule, rho, n) {
                    Ok(r) => {
                        with_logarithms(serde_json::to_value(r).unwrap_or(Value::Null), &r, rho)
                    }
                    Err(e) => json!({ "n": n, "error": e.to_string() }),
                })
                .collect();
            items.push(json!({
                "rho": rho,
                "gamma_c": critscale_simplex::gamma_c(&rho),
                "name": rule.name(),
                "rule": serde_json::to_value(rule).unwrap_or(Value::Null),
                "readings": readings,
                "crossings": crossings(rule, rho, 2.0, N_MAX),
            }));
        }
    }
    Value::Array(items)
}
