//! `critscale simulate`: one configuration through the fast path (`critscale-kernels`).
//!
//! Tokens come from a file read by `critscale-tokens` (a `.npy` n × d float64/float32/float16
//! array, a 2-d F16/BF16/F32/F64 tensor of a `.safetensors` file chosen by `--tensor`, or the
//! rows of either selected by a `.npy` vector of token ids, `--ids`) or are generated: `simplex` (the
//! exact simplex of THEORY §2 with |x_i|² = 1, needs d ≥ n) or `gaussian` (the Gaussian
//! almost-simplex x_i = √ρ z₀ + √(1−ρ) z_i, seeded). β is γ·ln n (`--gamma`, or `crit` for
//! γ_c = 1/(1−ρ), with ρ from `--rho` or, for a token file without `--rho`, ρ̂ = the mean input
//! cosine over the pairs that are not copies) or given directly (`--beta`). The report lists the
//! observables of THEORY §3, η (exact, Hutchinson with its standard error, or none) and the wall
//! time of each phase.
//!
//! **Copies.** Real text repeats tokens. Two tokens are copies when 1 − ⟨y_i, y_j⟩ ≤
//! [`critscale_kernels::COPY_TOLERANCE`] (1e-12); λ, λ_angle and the cosines are means over the
//! pairs that are not copies, the number of copy pairs and the self mass (mean_i Σ_{j copy of i}
//! A_ij, own weight included) are printed beside the self weight, and η is unchanged (the
//! Jacobian is defined with copies). Only a file whose pairs are all copies is refused (exit 2).
//!
//! The cosines are named as everywhere in the workspace (THEORY §3): `cos_out_min`,
//! `cos_out_mean`, `cos_out_max` are those of the **outputs** ⟨y'_i, y'_j⟩ (the quantity of
//! T1/T2), `cos_in_min`, `cos_in_mean`, `cos_in_max` those of the inputs.

use critscale_kernels::memory::{EtaWork, Work, human, limits, worker_threads};
use critscale_kernels::{
    Element, KernelError, Observables, Options, Params, eta_exact, eta_hutchinson, forward,
    lambda_error_limit, mean_input_cosine, observables, prepare,
};
use critscale_tokens::TokenFileError;
use ndarray::Array2;
use serde_json::{Map, Value};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use crate::options::{BadParameter, Given};

/// The `--config` word of a configuration.
fn config_word(config: TokenConfig) -> &'static str {
    match config {
        TokenConfig::Simplex => "simplex",
        TokenConfig::Gaussian => "gaussian",
    }
}

/// Generated tokens (`--config`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenConfig {
    /// The exact simplex, |x_i|² = 1 (needs d ≥ n).
    Simplex,
    /// The seeded Gaussian almost-simplex.
    Gaussian,
}

/// The working precision of the kernels (`--dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dtype {
    /// IEEE double.
    #[default]
    F64,
    /// IEEE single.
    F32,
}

/// How η is computed (`--eta`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EtaMethod {
    /// Exactly, in O(n²d).
    #[default]
    Exact,
    /// Hutchinson's estimator with `--probes` probes.
    Hutchinson,
    /// Not at all.
    None,
}

/// `--gamma`: a number, or `crit` for γ_c = 1/(1 − ρ).
#[derive(Debug, Clone, PartialEq)]
pub enum GammaArg {
    /// γ_c = 1/(1 − ρ) with ρ from `--rho`, or ρ̂ of the token file when `--rho` is not given.
    Critical,
    /// A finite number (checked positive by [`simulate`]).
    Value(Given<f64>),
}

/// The parameters of `simulate`.
#[derive(Debug, Clone)]
pub struct SimulateArgs {
    /// A token file, `.npy` or `.safetensors` (exclusive with `config`).
    pub tokens: Option<PathBuf>,
    /// The tensor of a `.safetensors` token file (needed when it holds several).
    pub tensor: Option<String>,
    /// A `.npy` vector of token ids: the tokens are these rows of the `tokens` table.
    pub ids: Option<PathBuf>,
    /// Generated tokens.
    pub config: Option<TokenConfig>,
    /// Number of tokens (generated configurations; [`token_count`]).
    pub n: Option<usize>,
    /// Dimension (generated configurations; [`dimension`]).
    pub d: Option<usize>,
    /// Pairwise cosine ρ (generated configurations; also used by `--gamma crit`, which takes ρ̂
    /// of a token file when it is not given).
    pub rho: Option<Given<f64>>,
    /// Seed of the Gaussian configuration.
    pub seed: u64,
    /// γ in β = γ ln n, or `crit`.
    pub gamma: Option<GammaArg>,
    /// β given directly.
    pub beta: Option<Given<f64>>,
    /// Residual weight α.
    pub alpha: Given<f64>,
    /// The working precision.
    pub dtype: Dtype,
    /// How η is computed.
    pub eta: EtaMethod,
    /// Hutchinson probes.
    pub probes: usize,
    /// Seed of the Hutchinson probes.
    pub probe_seed: u64,
    /// Rows per block (default: chosen from n).
    pub block: Option<usize>,
}

impl Default for SimulateArgs {
    /// No tokens yet; α = 0, f64, exact η, 32 probes, seeds 0.
    fn default() -> Self {
        SimulateArgs {
            tokens: None,
            tensor: None,
            ids: None,
            config: None,
            n: None,
            d: None,
            rho: None,
            seed: 0,
            gamma: None,
            beta: None,
            alpha: Given::of(0.0),
            dtype: Dtype::F64,
            eta: EtaMethod::Exact,
            probes: 32,
            probe_seed: 0,
            block: None,
        }
    }
}

/// `--config`: `simplex` or `gaussian`.
pub fn token_config(text: &str) -> Result<TokenConfig, String> {
    match text {
        "simplex" => Ok(TokenConfig::Simplex),
        "gaussian" => Ok(TokenConfig::Gaussian),
        _ => Err("need simplex or gaussian".to_owned()),
    }
}

/// `--dtype`: `f64` or `f32`.
pub fn dtype(text: &str) -> Result<Dtype, String> {
    match text {
        "f64" => Ok(Dtype::F64),
        "f32" => Ok(Dtype::F32),
        _ => Err("need f64 or f32".to_owned()),
    }
}

/// `--eta`: `exact`, `hutchinson` or `none`.
pub fn eta_method(text: &str) -> Result<EtaMethod, String> {
    match text {
        "exact" => Ok(EtaMethod::Exact),
        "hutchinson" => Ok(EtaMethod::Hutchinson),
        "none" => Ok(EtaMethod::None),
        _ => Err("need exact, hutchinson or none".to_owned()),
    }
}

/// A finite number (`--rho`, `--beta`, `--alpha`); ranges are checked by [`simulate`].
pub fn finite(text: &str) -> Result<Given<f64>, String> {
    match text.trim().parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(Given {
            value,
            text: text.to_owned(),
        }),
        _ => Err("need a finite number".to_owned()),
    }
}

/// `--gamma`: `crit` or a finite number.
pub fn gamma(text: &str) -> Result<GammaArg, String> {
    if text.trim() == "crit" {
        return Ok(GammaArg::Critical);
    }
    finite(text).map(GammaArg::Value)
}

/// A whole number in [min, 1e9], also written as a decimal such as `1e3`.
fn count(text: &str, min: usize, what: &str) -> Result<usize, String> {
    let v = finite(text)?.value;
    if v.fract() != 0.0 || v < min as f64 || v > 1e9 {
        return Err(format!("need an integer in [{min}, 1e9] ({what})"));
    }
    Ok(v as usize)
}

/// `--n`: tokens, an integer in [2, 1e9].
pub fn token_count(text: &str) -> Result<usize, String> {
    count(text, 2, "number of tokens")
}

/// `--d`: dimension, an integer in [1, 1e9].
pub fn dimension(text: &str) -> Result<usize, String> {
    count(text, 1, "dimension")
}

/// Why `simulate` could not run; [`SimulateError::exit_code`] says which exit code it gets.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimulateError {
    /// The run would need more memory than the process may use (checked before any work).
    #[error(
        "{what} at n = {n}, d = {d} needs about {} but {limit_name} is {}; {hint}",
        human(*need),
        human(*limit)
    )]
    TooMuchMemory {
        /// What was asked for, e.g. `--eta exact`.
        what: String,
        /// Tokens.
        n: usize,
        /// Dimension.
        d: usize,
        /// Estimated bytes.
        need: u64,
        /// The limit in bytes.
        limit: u64,
        /// Which limit.
        limit_name: &'static str,
        /// What to do instead.
        hint: &'static str,
    },
    /// A token entry that `--dtype f32` cannot hold.
    #[error("token {row}, column {col}: the value {value:e} {reason}; use --dtype f64")]
    F32Range {
        /// Token index.
        row: usize,
        /// Coordinate index.
        col: usize,
        /// The entry.
        value: f64,
        /// What goes wrong in f32.
        reason: &'static str,
    },
    /// A flag with a bad value, or flags that do not go together.
    #[error(transparent)]
    Bad(#[from] BadParameter),
    /// A parameter that was not given although another option (or the command) needs it.
    #[error("missing {parameter}: {needed_by}")]
    Missing {
        /// The parameter, as its flag(s): `--rho`, `--tokens or --config`.
        parameter: &'static str,
        /// What requires it, e.g. `required with --config (pairwise cosine)`.
        needed_by: &'static str,
    },
    /// λ or λ_angle with a rounding error beyond what the working precision can vouch for.
    #[error(
        "{what} in {precision}: its rounding error could reach {bound:.1e} of its value (the limit \
         is {limit:.0e}), so it is not reported: {cause}"
    )]
    LambdaPrecision {
        /// `lambda` or `lambda_angle`.
        what: &'static str,
        /// `f64` or `f32`.
        precision: &'static str,
        /// Estimated relative error.
        bound: f64,
        /// The limit.
        limit: f64,
        /// Why, and what to try instead.
        cause: String,
    },
    /// The token file.
    #[error("{0}")]
    Tokens(#[from] TokenFileError),
    /// The kernels rejected the tokens or parameters.
    #[error("{0}")]
    Kernel(#[from] KernelError),
}

impl SimulateError {
    /// The process exit code: 3 when the working precision cannot vouch for η, λ or λ_angle
    /// (precision refused), 1 when a buffer could not be allocated after the up-front memory check passed
    /// (a failure, not the input's fault), 2 for everything else (the input).
    pub fn exit_code(&self) -> u8 {
        match self {
            SimulateError::Kernel(KernelError::PrecisionLoss { .. })
            | SimulateError::LambdaPrecision { .. } => 3,
            SimulateError::Kernel(KernelError::OutOfMemory { .. }) => 1,
            SimulateError::Tokens(e) if e.is_out_of_memory() => 1,
            _ => 2,
        }
    }
}

fn missing(parameter: &'static str, needed_by: &'static str) -> SimulateError {
    SimulateError::Missing {
        parameter,
        needed_by,
    }
}

fn bad(flag: &str, value: &str, requirement: &str) -> SimulateError {
    SimulateError::Bad(BadParameter::new(flag, value, requirement))
}

/// The most Hutchinson probes `simulate` accepts (its work is O(probes · n² d)).
pub const MAX_PROBES: usize = 1_000_000;

/// What `simulate` computed.
#[derive(Debug, Clone, PartialEq)]
pub struct SimulateReport {
    /// Where the tokens came from.
    pub source: String,
    /// Number of tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// `f64` or `f32`.
    pub dtype: &'static str,
    /// The instruction set of the exponential.
    pub isa: &'static str,
    /// β used.
    pub beta: f64,
    /// γ = β/ln n.
    pub gamma: f64,
    /// α used.
    pub alpha: f64,
    /// The observables.
    pub obs: Observables,
    /// ρ̂ (mean input cosine over the pairs that are not copies) when it set γ_c (`--gamma crit`
    /// on a token file without `--rho`).
    pub rho_hat: Option<f64>,
    /// η, when computed.
    pub eta: Option<f64>,
    /// Hutchinson's standard error, when that estimator was used.
    pub eta_stderr: Option<f64>,
    /// Hutchinson probes, when that estimator was used.
    pub probes: Option<usize>,
    /// Phase → wall seconds, in the order run.
    pub timings: Vec<(&'static str, f64)>,
    /// Phase → GFLOP of its matrix products (counted by the kernels, 2·m·n·k per product), for
    /// the phases that run on the kernels.
    pub gemm_gflop: Vec<(&'static str, f64)>,
}

impl SimulateReport {
    /// Every number, in output order.
    fn numbers(&self) -> Vec<(&'static str, f64)> {
        let o = &self.obs;
        let mut v = vec![
            ("beta", self.beta),
            ("gamma", self.gamma),
            ("alpha", self.alpha),
            ("lambda", o.lambda),
            ("lambda_angle", o.lambda_angle),
            ("cos_out_min", o.cos_out_min),
            ("cos_out_mean", o.cos_out_mean),
            ("cos_out_max", o.cos_out_max),
            ("cos_in_min", o.cos_in_min),
            ("cos_in_mean", o.cos_in_mean),
            ("cos_in_max", o.cos_in_max),
            ("self_weight", o.self_weight),
            ("self_mass", o.self_mass),
            ("support", o.support),
            ("entropy", o.entropy),
        ];
        if let Some(e) = self.eta {
            v.push(("eta", e));
        }
        if let Some(s) = self.eta_stderr {
            v.push(("eta_stderr", s));
        }
        v
    }

    /// One JSON object: the inputs, the numbers above, `timings` (phase → seconds) and
    /// `gemm_gflop` (phase → GFLOP of its matrix products).
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        m.insert("source".into(), Value::from(self.source.clone()));
        m.insert("n".into(), Value::from(self.n));
        m.insert("d".into(), Value::from(self.d));
        m.insert("dtype".into(), Value::from(self.dtype));
        m.insert("isa".into(), Value::from(self.isa));
        for (k, v) in self.numbers() {
            m.insert(k.into(), Value::from(v));
        }
        m.insert("copy_pairs".into(), Value::from(self.obs.copy_pairs));
        if let Some(r) = self.rho_hat {
            m.insert("rho_hat".into(), Value::from(r));
            m.insert(
                "gamma_from".into(),
                Value::from("rho_hat: gamma_c = 1/(1 - rho_hat), rho_hat = mean input cosine over pairs that are not copies"),
            );
        }
        if let Some(p) = self.probes {
            m.insert("probes".into(), Value::from(p));
        }
        let by_phase = |v: &[(&str, f64)]| -> Value {
            v.iter()
                .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
                .collect::<Map<String, Value>>()
                .into()
        };
        m.insert("timings".into(), by_phase(&self.timings));
        m.insert("gemm_gflop".into(), by_phase(&self.gemm_gflop));
        Value::Object(m).to_string()
    }

    /// A two-column table.
    pub fn to_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "{:<14} {}", "source", self.source);
        let _ = writeln!(
            s,
            "{:<14} {} x {} ({}, exp on {})",
            "tokens", self.n, self.d, self.dtype, self.isa
        );
        if let Some(r) = self.rho_hat {
            let _ = writeln!(
                s,
                "{:<14} {r:.12e} (mean input cosine over pairs that are not copies; gamma = \
                 gamma_c = 1/(1 - rho_hat))",
                "rho_hat"
            );
        }
        for (k, v) in self.numbers() {
            let _ = writeln!(s, "{k:<14} {v:.12e}");
            if k == "self_mass" {
                let _ = writeln!(
                    s,
                    "{:<14} {} (pairs with 1 - cos <= {:.0e}, left out of lambda and the cosines)",
                    "copy_pairs",
                    self.obs.copy_pairs,
                    critscale_kernels::COPY_TOLERANCE
                );
            }
        }
        if let Some(p) = self.probes {
            let _ = writeln!(s, "{:<14} {p}", "probes");
        }
        for (k, v) in &self.timings {
            let _ = writeln!(s, "{:<14} {v:.4} s", format!("time {k}"));
        }
        s
    }
}

/// The token source after the flags are checked, before anything is loaded or generated.
enum Source<'a> {
    File(&'a std::path::Path),
    Gaussian(f64),
    Simplex(f64, String),
}

/// Runs `simulate`.
///
/// Every flag and the header of a token file are checked first, then the memory the run needs
/// is compared with what the process may use ([`critscale_kernels::memory`]), and only then
/// are the tokens loaded or generated.
///
/// # Errors
///
/// [`SimulateError`]: a bad flag, an unusable `.npy` file, a run too large for the memory,
/// tokens f32 cannot hold, tokens the kernels reject (a zero token, a file whose pairs are all
/// copies so that λ is undefined, an output that vanishes), or η beyond what the working
/// precision can vouch for.
pub fn simulate(args: &SimulateArgs) -> Result<SimulateReport, SimulateError> {
    let t0 = Instant::now();
    let rho = args.rho.as_ref().map(|r| r.value);
    let (n, d, src) = match (&args.tokens, args.config) {
        (Some(_), Some(c)) => {
            return Err(bad(
                "config",
                config_word(c),
                "give either --tokens or --config, not both",
            ));
        }
        (None, None) => {
            return Err(missing(
                "--tokens or --config",
                "give --tokens FILE.npy or --config simplex|gaussian",
            ));
        }
        (Some(path), None) => {
            // The headers only: the data is read after the memory check.
            let info =
                critscale_tokens::inspect(path, args.tensor.as_deref(), args.ids.as_deref())?;
            (info.n, info.d, Source::File(path))
        }
        (None, Some(cfg)) => {
            if let Some(t) = &args.tensor {
                return Err(bad("tensor", t, "--tensor needs --tokens FILE.safetensors"));
            }
            if let Some(ids) = &args.ids {
                return Err(bad(
                    "ids",
                    &ids.display().to_string(),
                    "--ids needs --tokens TABLE (the rows the ids select)",
                ));
            }
            let n = args
                .n
                .ok_or_else(|| missing("--n", "required with --config (number of tokens)"))?;
            let d = args
                .d
                .ok_or_else(|| missing("--d", "required with --config (dimension)"))?;
            let rho_text = args
                .rho
                .as_ref()
                .map(|r| r.text.clone())
                .unwrap_or_default();
            let rho =
                rho.ok_or_else(|| missing("--rho", "required with --config (pairwise cosine)"))?;
            match cfg {
                TokenConfig::Gaussian => {
                    if !(0.0..1.0).contains(&rho) {
                        return Err(bad(
                            "rho",
                            &rho_text,
                            "need 0 <= rho < 1 for the Gaussian configuration",
                        ));
                    }
                    (n, d, Source::Gaussian(rho))
                }
                TokenConfig::Simplex => {
                    if d < n {
                        return Err(bad(
                            "d",
                            &d.to_string(),
                            &format!("a simplex needs d >= n = {n}"),
                        ));
                    }
                    (n, d, Source::Simplex(rho, rho_text))
                }
            }
        }
    };
    let ln_n = (n as f64).ln();
    // `None`: γ_c from ρ̂ of the token file, known once the tokens are loaded.
    let beta = match (&args.gamma, &args.beta) {
        (Some(_), Some(b)) => return Err(bad("beta", &b.text, "give either --gamma or --beta")),
        (None, None) => {
            return Err(missing(
                "--gamma or --beta",
                "give --gamma (a number or crit) or --beta",
            ));
        }
        (None, Some(b)) => {
            if b.value <= 0.0 {
                return Err(bad("beta", &b.text, "need a finite beta > 0"));
            }
            Some(b.value)
        }
        (Some(GammaArg::Critical), None) => match rho {
            Some(rho) if rho >= 1.0 => {
                return Err(bad("rho", &rho.to_string(), "gamma crit needs rho < 1"));
            }
            Some(rho) => Some(ln_n / (1.0 - rho)),
            None => None,
        },
        (Some(GammaArg::Value(g)), None) => {
            if g.value <= 0.0 {
                return Err(bad("gamma", &g.text, "need gamma > 0"));
            }
            Some(g.value * ln_n)
        }
    };
    let alpha = args.alpha.value;
    if alpha < 0.0 {
        return Err(bad("alpha", &args.alpha.text, "need alpha >= 0"));
    }
    let eta_work = match args.eta {
        EtaMethod::Exact => EtaWork::Exact,
        EtaMethod::Hutchinson => EtaWork::Hutchinson(args.probes),
        EtaMethod::None => EtaWork::None,
    };
    if args.eta == EtaMethod::Hutchinson && !(2..=MAX_PROBES).contains(&args.probes) {
        return Err(bad(
            "probes",
            &args.probes.to_string(),
            "need an integer in [2, 1e6] (the standard error falls like 1/sqrt(probes); \
             for more accuracy use --eta exact)",
        ));
    }
    if args.block == Some(0) {
        return Err(bad("block", "0", "need at least 1 row per block"));
    }
    let elem = match args.dtype {
        Dtype::F64 => 8,
        Dtype::F32 => 4,
    };
    check_memory(n, d, elem, args, eta_work)?;

    let (x, source, phase) = match src {
        Source::File(path) => {
            let tokens = critscale_tokens::load(path, args.tensor.as_deref(), args.ids.as_deref())?;
            (tokens.x, format!("file {}", tokens.source), "load")
        }
        Source::Gaussian(rho) => (
            critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, rho, args.seed),
            format!("gaussian n={n} d={d} rho={rho} seed={}", args.seed),
            "generate",
        ),
        Source::Simplex(rho, rho_text) => {
            let x = critscale_model::simplex::<f64>(&(), n, d, &rho, &1.0)
                .map_err(|e| bad("rho", &rho_text, &e.to_string()))?;
            (x, format!("simplex n={n} d={d} rho={rho}"), "generate")
        }
    };
    let load_time = t0.elapsed().as_secs_f64();
    let opts = Options { block: args.block };
    let mut log = Log {
        timings: vec![(phase, load_time)],
        gemm_gflop: Vec::new(),
    };
    let run = if elem == 8 {
        run::<f64>(&x, args, beta, alpha, &opts, &mut log)?
    } else {
        run::<f32>(&to_f32(&x)?, args, beta, alpha, &opts, &mut log)?
    };
    let beta = run.3;
    Ok(SimulateReport {
        source,
        n,
        d,
        dtype: if elem == 4 { "f32" } else { "f64" },
        isa: critscale_kernels::simd::dispatched_isa(),
        beta,
        gamma: beta / ln_n,
        alpha,
        obs: run.0,
        rho_hat: run.4,
        eta: run.1,
        eta_stderr: run.2,
        probes: (args.eta == EtaMethod::Hutchinson).then_some(args.probes),
        timings: log.timings,
        gemm_gflop: log.gemm_gflop,
    })
}

/// Where [`run`] records each phase: its wall time and its matrix products' GFLOP.
struct Log {
    timings: Vec<(&'static str, f64)>,
    gemm_gflop: Vec<(&'static str, f64)>,
}

impl Log {
    /// Runs `f` as the phase `name`, recording its time and flops.
    fn phase<R>(&mut self, name: &'static str, f: impl FnOnce() -> R) -> R {
        let flops = critscale_kernels::element::gemm_flops();
        let t = Instant::now();
        let r = f();
        self.timings.push((name, t.elapsed().as_secs_f64()));
        let done = critscale_kernels::element::gemm_flops().since(flops);
        self.gemm_gflop
            .push((name, (done.f64 + done.f32) as f64 / 1e9));
        r
    }
}

/// Refuses a run whose buffers (estimated by [`Work::bytes`]) exceed the available memory or
/// the address-space limit, before any token is loaded or generated.
fn check_memory(
    n: usize,
    d: usize,
    elem: usize,
    args: &SimulateArgs,
    eta: EtaWork,
) -> Result<(), SimulateError> {
    let work = Work {
        n,
        d,
        elem,
        block: args.block,
        eta,
        threads: worker_threads(),
    };
    match work.check(&limits()) {
        Ok(_) => Ok(()),
        Err(KernelError::TooMuchMemory { need, limit, what }) => {
            let (what_run, hint) = match eta {
                EtaWork::Exact => (
                    "--eta exact",
                    "exact eta keeps n x n matrices: use --eta hutchinson or --eta none \
                     (memory O(n d))",
                ),
                EtaWork::Hutchinson(_) => (
                    "--eta hutchinson",
                    "use fewer --probes, --eta none, or fewer tokens",
                ),
                EtaWork::None => ("the forward pass", "use fewer tokens or a smaller d"),
            };
            Err(SimulateError::TooMuchMemory {
                what: what_run.to_owned(),
                n,
                d,
                need,
                limit,
                limit_name: what,
                hint,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The tokens in f32, refusing entries f32 cannot hold: a value beyond f32's range (it would
/// become ∞), and a token whose largest entry is below f32's normal range when rounding would
/// change its entries by more than f32's unit roundoff relative to that largest entry (it
/// would lose digits, or become the zero vector). A token whose entries are all zero is left
/// to the kernels (a zero token).
fn to_f32(x: &Array2<f64>) -> Result<Array2<f32>, SimulateError> {
    let u = f64::from(f32::EPSILON) / 2.0;
    for (row, r) in x.rows().into_iter().enumerate() {
        let (col, m) =
            r.iter().enumerate().fold(
                (0, 0.0f64),
                |(c, m), (j, v)| if v.abs() > m { (j, v.abs()) } else { (c, m) },
            );
        if m == 0.0 {
            continue;
        }
        #[allow(clippy::cast_possible_truncation)]
        let to = |v: f64| f64::from(v as f32);
        if to(m).is_infinite() {
            return Err(SimulateError::F32Range {
                row,
                col,
                value: r[col],
                reason: "overflows f32 (largest finite 3.4e38)",
            });
        }
        if m < f64::from(f32::MIN_POSITIVE)
            && let Some((c, v)) = r
                .iter()
                .enumerate()
                .find(|(_, v)| (to(**v) - **v).abs() > u * m)
        {
            return Err(SimulateError::F32Range {
                row,
                col: c,
                value: *v,
                reason: "underflows f32 (this token's entries all lie below f32's normal \
                         range, 1.2e-38, and lose their digits)",
            });
        }
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(x.mapv(|v| v as f32))
}

/// Refuses λ and λ_angle whose estimated rounding error ([`critscale_kernels::ErrorModel`])
/// exceeds [`lambda_error_limit`] of their value.
fn check_lambda<T: Element>(obs: &Observables) -> Result<(), SimulateError> {
    let limit = lambda_error_limit::<T>();
    for (what, v, e) in [
        ("lambda", obs.lambda, obs.lambda_error),
        ("lambda_angle", obs.lambda_angle, obs.lambda_angle_error),
    ] {
        // Written so that NaN (0/0) refuses too.
        if e.is_nan() || v.is_nan() || e > limit * v.abs() {
            return Err(SimulateError::LambdaPrecision {
                what,
                precision: T::NAME,
                bound: if v == 0.0 { f64::INFINITY } else { e / v.abs() },
                limit,
                cause: lambda_cause::<T>(obs),
            });
        }
    }
    Ok(())
}

/// Why λ lost its digits: a near-copy pair (named) or outputs that nearly coincide.
fn lambda_cause<T: Element>(obs: &Observables) -> String {
    let (i, j) = obs.closest_pair;
    let dtype = if T::NAME == "f32" {
        ", or use --dtype f64"
    } else {
        ""
    };
    // The closest pair is named as the cause when it lies within a thousand copy tolerances of
    // a copy, or (f32) within a million of its rounding floor (256·u)²/2, where its term loses
    // about 1e-3 of its digits or more.
    let tol = critscale_kernels::copy_tolerance::<T>();
    let floor = 0.5 * (256.0 * T::UNIT_ROUNDOFF).powi(2);
    let near = obs.closest_one_minus_cos <= (1e3 * tol).max(1e6 * floor);
    if near {
        format!(
            "tokens {i} and {j} nearly share a direction (1 - cos = {:.1e}, just above the copy \
             tolerance {tol:.1e}), so their term is rounding noise; remove one of them{dtype}",
            obs.closest_one_minus_cos
        )
    } else {
        format!(
            "the outputs nearly coincide (smallest 1 - cos' = {:.1e}), so 1 - cos' is rounding \
             noise; raise beta or alpha{dtype}",
            obs.min_one_minus_cos_out
        )
    }
}

/// The observables, η, its standard error, β used and ρ̂ (when it set β).
type RunResult = (Observables, Option<f64>, Option<f64>, f64, Option<f64>);

/// `beta = None`: β = ln n/(1 − ρ̂) with ρ̂ from [`mean_input_cosine`] (one Gram pass).
fn run<T: Element>(
    x: &Array2<T>,
    args: &SimulateArgs,
    beta: Option<f64>,
    alpha: f64,
    opts: &Options,
    log: &mut Log,
) -> Result<RunResult, SimulateError> {
    let (beta, rho_hat) = match beta {
        Some(b) => (b, None),
        None => {
            let (rho, _) = log.phase("rho_hat", || -> Result<_, SimulateError> {
                let prep = prepare(x.view(), &Params::new(1.0, alpha))?;
                Ok(mean_input_cosine(&prep, opts)?)
            })?;
            // ρ̂ < 1 − COPY_TOLERANCE: copies are left out, so γ_c is finite.
            ((x.nrows() as f64).ln() / (1.0 - rho), Some(rho))
        }
    };
    let params = &Params::new(beta, alpha);
    let fwd = log.phase("forward", || forward(x.view(), params, opts))?;
    let obs = log.phase("observables", || observables(&fwd))?;
    check_lambda::<T>(&obs)?;
    drop(fwd);
    let (eta, se) = match args.eta {
        EtaMethod::Exact => (
            Some(log.phase("eta", || eta_exact(x.view(), params, opts))?),
            None,
        ),
        EtaMethod::Hutchinson => {
            let e = log.phase("eta", || {
                eta_hutchinson(x.view(), params, args.probes, args.probe_seed, opts)
            })?;
            (Some(e.mean), Some(e.stderr))
        }
        EtaMethod::None => (None, None),
    };
    Ok((obs, eta, se, beta, rho_hat))
}
