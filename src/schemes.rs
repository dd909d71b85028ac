//! `critscale schemes`: deployed scaling rules as logit multipliers m(n), β_n = β₀·m(n), against
//! the critical value γ_c(ρ) = 1/(1 − ρ) (THEORY §7, §11).

use critscale_schemes::hf::{Scheme, parse_rule, read_config};
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
    /// β₀, the plain logits' scale, multiplied by every rule's m(n) ([`beta0`]).
    pub beta0: Given<f64>,
    /// Training length L ([`train_len`]).
    pub train_len: Given<f64>,
    /// SSMax's s ([`ssmax_s`]).
    pub ssmax_s: Given<f64>,
    /// The SWAN-style slope τ ([`swan_tau`]).
    pub swan_tau: Given<f64>,
    /// `--hf-config` files (Hugging Face `config.json`), read in order.
    pub hf_configs: Vec<std::path::PathBuf>,
    /// `--rule` rules typed by hand ([`rule`]).
    pub rules: Vec<Given<Rule>>,
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
            hf_configs: Vec::new(),
            rules: Vec::new(),
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

/// `--rule`: a rule typed as `NAME:key=value,…` ([`critscale_schemes::hf::RULE_NAMES`]).
pub fn rule(text: &str) -> Result<Given<Rule>, String> {
    Ok(Given {
        value: parse_rule(text)?,
        text: text.to_owned(),
    })
}

/// Where a scheme came from, for a refusal's message: the option that sets the failing value.
#[derive(Debug, Clone)]
struct Origin {
    flag: &'static str,
    text: String,
}

/// The parsed request.
#[derive(Debug, Clone)]
pub struct Plan {
    rhos: Vec<f64>,
    ns: Vec<f64>,
    beta0: f64,
    schemes: Vec<(Scheme, Origin)>,
}

/// The schemes of the request: the `--hf-config` files and `--rule`s in order, or, when neither is
/// given, the default rules at `--train-len`, `--ssmax-s` and `--swan-tau`.
fn schemes(args: &SchemesArgs) -> Result<Vec<(Scheme, Origin)>, BadParameter> {
    let mut out = Vec::new();
    for path in &args.hf_configs {
        let shown = path.display().to_string();
        let origin = Origin {
            flag: "hf-config",
            text: shown.clone(),
        };
        let text = std::fs::read_to_string(path)
            .map_err(|e| BadParameter::new("hf-config", &shown, format!("cannot read it: {e}")))?;
        let read =
            read_config(&text, &shown).map_err(|e| BadParameter::new("hf-config", &shown, e))?;
        out.extend(read.into_iter().map(|s| (s, origin.clone())));
    }
    for rule in &args.rules {
        let scheme = Scheme {
            name: rule.value.name(),
            source: Some(rule.text.clone()),
            rule: rule.value,
        };
        let origin = Origin {
            flag: "rule",
            text: rule.text.clone(),
        };
        out.push((scheme, origin));
    }
    if !out.is_empty() {
        return Ok(out);
    }
    let rules = defaults::rules_with(
        args.beta0.value,
        args.train_len.value,
        args.ssmax_s.value,
        args.swan_tau.value,
    );
    Ok(rules
        .into_iter()
        .map(|rule| {
            let origin = match rule {
                Rule::SsMax { .. } => Origin {
                    flag: "ssmax-s",
                    text: args.ssmax_s.text.clone(),
                },
                Rule::SwanStyle { .. } => Origin {
                    flag: "swan-tau",
                    text: args.swan_tau.text.clone(),
                },
                _ => Origin {
                    flag: "train-len",
                    text: args.train_len.text.clone(),
                },
            };
            let scheme = Scheme {
                name: rule.name(),
                source: None,
                rule,
            };
            (scheme, origin)
        })
        .collect())
}

/// The request, refused before anything is printed when a config cannot be read or some printed
/// value would not be a finite `f64` (every reading at every requested n, and γ(n) over the
/// crossing search).
pub fn plan(args: &SchemesArgs) -> Result<Plan, BadParameter> {
    let plan = Plan {
        rhos: args.rho.value.clone(),
        ns: args.n.value.clone(),
        beta0: args.beta0.value,
        schemes: schemes(args)?,
    };
    check_printable(&plan, args)?;
    Ok(plan)
}

/// Refuses, before anything is printed, a request in which some printed value would not be a
/// finite `f64`: every reading at every requested n, and γ(n) over the crossing search up to
/// [`N_MAX`] (m(n) is non-decreasing in n for every rule with valid parameters, so the ends are
/// the extremes). The option named is the rule's own when m(n) itself leaves the range, β₀ when
/// the product β₀·m(n) does.
fn check_printable(plan: &Plan, args: &SchemesArgs) -> Result<(), BadParameter> {
    let n_top = plan.ns.iter().copied().fold(N_MAX, f64::max);
    let lengths: Vec<f64> = plan.ns.iter().copied().chain([2.0, n_top]).collect();
    for (scheme, origin) in &plan.schemes {
        let rule = &scheme.rule;
        let Some(n) = first_unprintable(rule, plan.beta0, &plan.rhos, &lengths) else {
            continue;
        };
        let m = rule.multiplier(n);
        let beta = plan.beta0 * m;
        // The rule's own option when m(n) itself fails, or when β₀·m(n) fails and the rule's
        // option was typed (not its default); β₀ otherwise.
        let own = !(m.is_finite() && m > 0.0);
        let typed = match origin.flag {
            "ssmax-s" => args.ssmax_s.text != Given::of(defaults::SSMAX_S).text,
            "swan-tau" => args.swan_tau.text != Given::of(defaults::SWAN_TAU).text,
            _ => false,
        };
        let (flag, value) = if own || typed {
            (origin.flag, origin.text.clone())
        } else {
            ("beta0", args.beta0.text.clone())
        };
        let (hint, too_large) = if !m.is_finite() || !beta.is_finite() {
            ("not a finite f64", true)
        } else if m <= 0.0 || beta <= 0.0 {
            ("not positive", false)
        } else {
            (
                "too small for f64 to resolve (beta_n (1 - rho) is lost against log n)",
                false,
            )
        };
        let range = valid_range(args, flag, too_large);
        return Err(BadParameter::new(
            flag,
            value,
            format!(
                "the {} rule's beta_n = beta0 x m(n) = {} x {m:e} = {beta:e} at n = {n:e} is {hint} (schemes evaluates in f64 and searches crossings up to n = {N_MAX:e}){range}",
                rule.name(),
                args.beta0.text
            ),
        ));
    }
    Ok(())
}

/// The first length at which some printed value of `rule` is not a finite `f64` (or β_n ≤ 0).
fn first_unprintable(rule: &Rule, beta0: f64, rhos: &[f64], lengths: &[f64]) -> Option<f64> {
    lengths.iter().copied().find(|&n| {
        !rhos.iter().all(|&rho| {
            read(rule, beta0, rho, n).is_ok_and(|r| {
                let logs = logarithms(&r, rho).map_or([f64::NAN; 2], |(a, b)| [a, b]);
                [
                    r.multiplier,
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

/// The valid side of a numeric option (`beta0`, `ssmax-s`, `swan-tau`), as a power of ten:
/// "; valid up to about 1e305" (`too_large`) or "; valid from about 1e-290", found by trying
/// 10^k for k across f64's range with every other option as given. Empty for other options.
fn valid_range(args: &SchemesArgs, flag: &str, too_large: bool) -> String {
    let works = |k: i32| {
        let mut trial = args.clone();
        let value = Given::of(10f64.powi(k));
        match flag {
            "beta0" => trial.beta0 = value,
            "ssmax-s" => trial.ssmax_s = value,
            "swan-tau" => trial.swan_tau = value,
            _ => return false,
        }
        let Ok(schemes) = schemes(&trial) else {
            return false;
        };
        let lengths: Vec<f64> = trial.n.value.iter().copied().chain([2.0, N_MAX]).collect();
        schemes.iter().all(|(s, _)| {
            first_unprintable(&s.rule, trial.beta0.value, &trial.rho.value, &lengths).is_none()
        })
    };
    if !matches!(flag, "beta0" | "ssmax-s" | "swan-tau") {
        return String::new();
    }
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

/// The crossings of γ_c searched between n = 2 and this length.
const N_MAX: f64 = 1e300;

/// A scheme's label in the table: the config's file name and the layers, or the rule's name.
fn label(scheme: &Scheme, origin: &Origin) -> String {
    match (origin.flag, &scheme.source) {
        ("hf-config", Some(path)) => {
            let file = std::path::Path::new(path)
                .file_name()
                .map_or(path.clone(), |f| f.to_string_lossy().into_owned());
            format!("{file}: {}", scheme.name)
        }
        _ => scheme.name.clone(),
    }
}

/// The crossings as the table prints them.
fn crossings_text(rule: &Rule, beta0: f64, rho: f64) -> String {
    match crossings(rule, beta0, rho, 2.0, N_MAX) {
        Ok(list) if list.is_empty() => "never (n <= 1e300)".to_owned(),
        Ok(list) => list
            .iter()
            .map(|c| {
                let way = match c.direction {
                    critscale_schemes::CrossingDirection::Up => "up",
                    critscale_schemes::CrossingDirection::Down => "down",
                };
                let jump = if c.at_jump { " at a jump" } else { "" };
                format!("{:.6e} {way}{jump}", c.n)
            })
            .collect::<Vec<_>>()
            .join(", "),
        Err(e) => e.to_string(),
    }
}

/// The table: per ρ, per scheme, γ(n) and the regime at each n, and where γ(n) crosses γ_c(ρ);
/// then, per scheme, the factor that multiplies β.
pub fn render(plan: &Plan) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "gamma(n) = beta0 m(n) / log n (beta0 = {}) against gamma_c = 1/(1-rho); the regime at each n is read from kappa log n = beta_n (1-rho) - log n: collapse (< -1), near-critical (|kappa log n| <= 1, the window at that n), identity (> 1); 'crosses gamma_c' lists where the rule is critical, gamma(n) = gamma_c exactly",
        plan.beta0
    );
    let labels: Vec<String> = plan.schemes.iter().map(|(s, o)| label(s, o)).collect();
    let width = labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    for &rho in &plan.rhos {
        let _ = writeln!(
            text,
            "\nrho = {rho}  (gamma_c = {:.4})",
            critscale_simplex::gamma_c(&rho)
        );
        let mut header = format!("  {:<width$}", "rule");
        for &n in &plan.ns {
            let _ = write!(header, "  {:>21}", format!("n = {n:e}"));
        }
        let _ = writeln!(text, "{header}  crosses gamma_c at n =");
        for ((scheme, _), label) in plan.schemes.iter().zip(&labels) {
            let rule = &scheme.rule;
            let mut line = format!("  {label:<width$}");
            for &n in &plan.ns {
                let cell = match read(rule, plan.beta0, rho, n) {
                    Ok(r) => format!("{} {}", gamma_text(r.gamma), r.regime.word()),
                    Err(e) => format!("error: {e}"),
                };
                let _ = write!(line, "  {cell:>21}");
            }
            let cross = crossings_text(rule, plan.beta0, rho);
            let _ = writeln!(text, "{}  {cross}", line.trim_end());
        }
    }
    text.push_str("\nwhich factor multiplies beta (beta_n = beta0 m(n)):\n");
    for ((scheme, origin), label) in plan.schemes.iter().zip(&labels) {
        let from = match (origin.flag, &scheme.source) {
            ("hf-config", Some(path)) => format!(" [{path}]"),
            _ => String::new(),
        };
        let _ = writeln!(text, "  {label}{from}: {}", scheme.rule.factor_text());
    }
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

/// The same as JSON: one object per (ρ, scheme) with its `name` (the layers it describes, or the
/// rule's name), `source` (the config file or `--rule` text; absent for the defaults), `rule` (the
/// multiplier's parameters), `multiplies_beta` (which factor multiplies β, in words), `beta0`,
/// the readings (each with its `multiplier` m(n) beside β, γ and the regime, and
/// `ln_self_weight`, `ln_lambda`, finite where the values underflow `f64`) and the `crossings`
/// of γ_c (`n`, `direction` up or down, `at_jump`), or `crossings_error` when there are too many.
pub fn to_json(plan: &Plan) -> Value {
    let mut items = Vec::new();
    for &rho in &plan.rhos {
        for (scheme, _) in &plan.schemes {
            let rule = &scheme.rule;
            let readings: Vec<Value> = plan
                .ns
                .iter()
                .map(|&n| match read(rule, plan.beta0, rho, n) {
                    Ok(r) => {
                        with_logarithms(serde_json::to_value(r).unwrap_or(Value::Null), &r, rho)
                    }
                    Err(e) => json!({ "n": n, "error": e.to_string() }),
                })
                .collect();
            let mut item = json!({
                "rho": rho,
                "gamma_c": critscale_simplex::gamma_c(&rho),
                "beta0": plan.beta0,
                "name": scheme.name,
                "rule": serde_json::to_value(rule).unwrap_or(Value::Null),
                "multiplies_beta": rule.factor_text(),
                "readings": readings,
            });
            if let Some(object) = item.as_object_mut() {
                // Only the schemes read from a config or typed by hand have a source.
                if let Some(source) = &scheme.source {
                    object.insert("source".to_owned(), json!(source));
                }
                match crossings(rule, plan.beta0, rho, 2.0, N_MAX) {
                    Ok(list) => {
                        object.insert("crossings".to_owned(), json!(list));
                    }
                    Err(e) => {
                        object.insert("crossings".to_owned(), json!([]));
                        object.insert("crossings_error".to_owned(), json!(e.to_string()));
                    }
                }
            }
            items.push(item);
        }
    }
    Value::Array(items)
}
