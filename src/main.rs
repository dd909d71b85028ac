//! The `critscale` command line: parse, call the library, print.

use clap::{Args, Parser, Subcommand};
use critscale::eval::{EngineName, EvalArgs, EvalError, EvalOptions, OnDoubt};
use critscale::options::{self, Given};
use critscale::schemes;
use critscale::simulate::{self, Dtype, EtaMethod, GammaArg, TokenConfig};
use critscale_report::shard::ShardSpec;
use critscale_schemes::defaults;
use critscale_theorems::Budget;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "critscale",
    version,
    about = "Critical attention scaling: closed forms, reference model and checks for beta_n = gamma log n"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate the simplex closed forms (THEORY §5) at one point: self weight, cos_out, lambda,
    /// lambda_angle, eta (with --d), gamma_c and the theorems' regime (gamma against gamma_c).
    Eval(EvalCli),
    /// Run one token configuration through the fast kernels: observables, eta and phase timings.
    Simulate(SimulateCli),
    /// Prove bounds on the simplex closed forms behind T1 and T3 for all n >= N by interval
    /// branch-and-bound, and print each certificate; exits 1 if any is not proved.
    ///
    /// The bounds are on the closed forms of THEORY §5 (the exact simplex as a formula in n and
    /// gamma), not on the attention layer; the derivation that links them to the layer is
    /// tested, not proved here. A `limit` certificate (a fixed eps) proves a band: from N on, and
    /// at n = infinity, the quantity stays within eps of its limit; it says nothing of the speed.
    /// A `rate` certificate bounds the deviation scaled by the predicted power of n (n^(-2 kappa),
    /// n^kappa, n, n/(log n)^2): with a non-zero target (below and above gamma_c) it pins the
    /// order of the approach from N on; at gamma_c (target 0) it proves an upper rate only.
    Certify(CertifyCli),
    /// Run the theorem claims (T1, T3, …) at a budget and print prediction, measurement with its
    /// confidence interval, tolerance and verdict; exits 1 if any claim fails.
    Check(CheckCli),
    /// Deployed scaling rules as logit multipliers m(n), beta_n = beta0 m(n): read from Hugging Face
    /// configs (--hf-config), typed by hand (--rule) or the defaults; their gamma(n) = beta_n/log n
    /// against gamma_c(rho), the regime at each n (collapse, near-critical = the window
    /// |kappa log n| <= 1, identity) and the exact lengths where gamma(n) = gamma_c (critical).
    Schemes(SchemesCli),
    /// The regime of one attention layer on given tokens (real text with repeated tokens): copies,
    /// a gamma sweep of lambda, self mass, support and entropy without recomputing the Gram matrix,
    /// the crossings gamma*_lambda (lambda = 1/2) and gamma*_self (mean self mass = 1/2), and every
    /// prediction beside them (1/(1-rho_hat), the finite-n simplex, the repeated-token law, gap
    /// counting).
    Diagnose(DiagnoseCli),
    /// Write the reproducible report (report.md, SVG figures, CSV/JSON data, provenance) to a
    /// directory, replaced whole; exits 1 if a claim fails or a certificate is not proved.
    Report(ReportCli),
}

#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
struct ReportCli {
    #[command(subcommand)]
    action: Option<ReportAction>,
    /// Output directory (default: reports/latest, or reports/shard-i-of-N with --shard); an
    /// existing one must be empty or a report whose files are all critscale's.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// 'full' (the default: the reference report) or 'quick' (seconds, coarse grids).
    #[arg(long, value_parser = options::budget, default_value = "full")]
    budget: Budget,
    /// Threads (default: one per core); the results do not depend on it.
    #[arg(long, allow_hyphen_values = true, value_parser = options::jobs)]
    jobs: Option<usize>,
    /// Run only this claim or claim prefix, e.g. T1 (repeatable); default: all.
    #[arg(long = "claim")]
    claims: Vec<String>,
    /// Move an existing --out that critscale cannot vouch for aside (DIR.moved-…; never deleted).
    #[arg(long)]
    force: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Compute only shard i of N (1-based, e.g. 2/8) of the expensive work and write a shard
    /// directory (default out: reports/shard-i-of-N); merge the N shards with `report merge`.
    #[arg(long, value_parser = options::shard)]
    shard: Option<ShardSpec>,
}

#[derive(Subcommand)]
enum ReportAction {
    /// Merge the shard directories of `report --shard i/N` into one report, byte-identical in its
    /// data files to an unsharded run; refuses shards that do not fit together.
    Merge(MergeCli),
}

#[derive(Args)]
struct MergeCli {
    /// The shard directories (all N of them, any order).
    #[arg(required = true)]
    shards: Vec<std::path::PathBuf>,
    /// Output directory (default: reports/latest, or reports/shard-i-of-N with --shard); an
    /// existing one must be empty or a report whose files are all critscale's.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Threads for the closed-form sections recomputed here (default: one per core).
    #[arg(long, allow_hyphen_values = true, value_parser = options::jobs)]
    jobs: Option<usize>,
    /// Move an existing --out that critscale cannot vouch for aside (DIR.moved-…; never deleted).
    #[arg(long)]
    force: bool,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct DiagnoseCli {
    /// Tokens, one per row, any nonzero norms: an n x d .npy (float16, float32, float64) or
    /// .safetensors (F16, BF16, F32, F64), or with --ids the table the ids index.
    #[arg(long)]
    tokens: std::path::PathBuf,
    /// The tensor of a .safetensors file that holds several.
    #[arg(long)]
    tensor: Option<String>,
    /// A 1-d .npy of token ids (int32, int64, uint16, uint32) into the table --tokens: the
    /// context is the selected rows, repeats allowed.
    #[arg(long, value_name = "IDS.npy")]
    ids: Option<std::path::PathBuf>,
    /// The gamma grid (beta = gamma ln n): a:b:k (k points from a to b) or a comma list;
    /// default: 40 points from 0.05 to 2 times 1/(1 - rho_hat).
    #[arg(long, allow_hyphen_values = true, value_parser = critscale::diagnose::gamma_grid)]
    gamma: Option<critscale::diagnose::GammaGrid>,
    /// Exact eta (the kernels' O(n^2 d + n^3) form) at every gamma: 'exact', or 'none' (the
    /// default).
    #[arg(long, value_parser = critscale::diagnose::eta_kind, default_value = "none")]
    eta: critscale::diagnose::EtaChoice,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Also write diagnose.json, CSV tables and SVG figures to this directory (a directory
    /// critscale did not write is never replaced).
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Move an existing --out that critscale cannot vouch for aside (DIR.moved-…; never deleted).
    #[arg(long)]
    force: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct SchemesCli {
    /// Pairwise token cosines rho, comma-separated.
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::rhos, default_value = schemes::DEFAULT_RHO)]
    rho: Given<Vec<f64>>,
    /// Context lengths, comma-separated.
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::lengths, default_value = schemes::DEFAULT_LENGTHS)]
    n: Given<Vec<f64>>,
    /// beta0, the plain logits' scale (typical |q||k| cosine scale; in no config): every rule's
    /// beta_n = beta0 m(n).
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::beta0, default_value_t = Given::of(defaults::BETA0))]
    beta0: Given<f64>,
    /// Training context length L of the default rules.
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::train_len, default_value_t = Given::of(defaults::TRAIN_LEN))]
    train_len: Given<f64>,
    /// SSMax's s of the default rules (0.43 in its paper's figure): logits x s log n, so
    /// gamma -> beta0 s.
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::ssmax_s, default_value_t = Given::of(defaults::SSMAX_S))]
    ssmax_s: Given<f64>,
    /// Slope tau of the SWAN-style rule beta0 + tau log(n/L) (our stand-in) of the defaults.
    #[arg(long, allow_hyphen_values = true, value_parser = schemes::swan_tau, default_value_t = Given::of(defaults::SWAN_TAU))]
    swan_tau: Given<f64>,
    /// A Hugging Face config.json to read the rules from (repeatable; one entry per group of
    /// layers). With --hf-config or --rule, the default rules are not shown.
    #[arg(long = "hf-config", value_name = "FILE")]
    hf_config: Vec<std::path::PathBuf>,
    /// A rule typed by hand, NAME:key=value,... (repeatable), e.g. yarn:factor=4,
    /// yarn-dynamic:train_len=4096, llama4-temperature:floor_scale=8192,attn_scale=0.1,
    /// ssmax:s=0.43,b=0, constant:factor=1.5; names: constant, frequency-only, yarn,
    /// yarn-dynamic, deepseek-mla, llama4-temperature, llama4-scaling-beta, longrope, qwen-logn,
    /// ssmax, swan-style.
    #[arg(long = "rule", value_name = "NAME:KEY=VALUE,...", value_parser = schemes::rule)]
    rule: Vec<Given<critscale_schemes::Rule>>,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct CheckCli {
    /// Run only this claim or claim prefix, e.g. T1.rate (repeatable); default: all.
    #[arg(long = "claim")]
    claims: Vec<String>,
    /// 'quick' (the default: seconds, the test suite's budget) or 'full' (the report's).
    #[arg(long, value_parser = options::budget, default_value = "quick")]
    budget: Budget,
    /// Print a JSON array of evidence instead of the table ("coq": the Coq theorem behind the
    /// claim, or null).
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args)]
struct CertifyCli {
    /// Run only this certificate, by ID (e.g. cert.T1.rate.sub; repeatable); default: the whole default set.
    #[arg(long = "id")]
    ids: Vec<String>,
    /// Also certify the statements in this JSON file (one statement or an array, with the fields
    /// of `certify --json`'s "statement"; repeatable); alone, only these run.
    #[arg(long = "statement", value_name = "FILE")]
    statements: Vec<std::path::PathBuf>,
    /// Interval precision in bits (default 128).
    #[arg(long, value_parser = options::certify_bits)]
    precision: Option<u64>,
    /// Box budget per certificate (default 200000).
    #[arg(long, value_parser = options::max_boxes)]
    max_boxes: Option<usize>,
    /// Print the certificates as a JSON array ("coq": the Coq theorem proving the same statement,
    /// or null for a statement other than a default one).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("scale").args(["gamma", "beta"]).required(true))]
struct SimulateCli {
    /// Tokens from a file: an n x d .npy array (float64, float32 or float16) or a 2-d tensor of
    /// a .safetensors file (F16, BF16, F32 or F64); with --ids, the table whose rows the ids
    /// select. Exclusive with --config. Repeated tokens are allowed: pairs with 1 - cos <= 1e-12
    /// are copies, left out of lambda, lambda_angle and the cosines and counted in copy_pairs and
    /// self_mass (refused only when every pair is a copy).
    #[arg(long)]
    tokens: Option<std::path::PathBuf>,
    /// The tensor of a .safetensors --tokens file to use (needed when it holds several).
    #[arg(long)]
    tensor: Option<String>,
    /// A 1-d .npy of token ids (int32, int64, uint16 or uint32), each in [0, rows of the
    /// --tokens table): the tokens are those rows, in this order.
    #[arg(long)]
    ids: Option<std::path::PathBuf>,
    /// Generated tokens: simplex (d >= n, |x_i| = 1) or gaussian (almost-simplex, seeded).
    #[arg(long, value_parser = simulate::token_config)]
    config: Option<TokenConfig>,
    /// Number of tokens (with --config).
    #[arg(long, value_parser = simulate::token_count)]
    n: Option<usize>,
    /// Dimension (with --config).
    #[arg(long, value_parser = simulate::dimension)]
    d: Option<usize>,
    /// Pairwise cosine rho (with --config; also used by --gamma crit; with --tokens and without
    /// --rho, --gamma crit uses rho_hat, the mean input cosine over pairs that are not copies).
    #[arg(long, allow_hyphen_values = true, value_parser = simulate::finite)]
    rho: Option<Given<f64>>,
    /// Raw seed of the gaussian configuration's sampler (ChaCha8). A row's "seed" in a report's
    /// data/gaussian_grid.json is this seed: `simulate --config gaussian --n N --d D --rho RHO
    /// --seed SEED` with that row's values draws the same tokens and reproduces the row.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// gamma in beta = gamma ln n, or 'crit' for gamma_c = 1/(1-rho) (1/(1-rho_hat) for a token
    /// file without --rho; rho_hat is printed).
    #[arg(long, allow_hyphen_values = true, value_parser = simulate::gamma)]
    gamma: Option<GammaArg>,
    /// beta given directly (instead of --gamma).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "gamma", value_parser = simulate::finite)]
    beta: Option<Given<f64>>,
    /// Residual weight alpha >= 0.
    #[arg(long, allow_hyphen_values = true, default_value = "0", value_parser = simulate::finite)]
    alpha: Given<f64>,
    /// Working precision: f64 or f32.
    #[arg(long, default_value = "f64", value_parser = simulate::dtype)]
    dtype: Dtype,
    /// Gradient size: exact, hutchinson or none.
    #[arg(long, default_value = "exact", value_parser = simulate::eta_method)]
    eta: EtaMethod,
    /// Hutchinson probes (with --eta hutchinson).
    #[arg(long, default_value_t = 32)]
    probes: usize,
    /// Seed of the Hutchinson probes.
    #[arg(long, default_value_t = 0)]
    probe_seed: u64,
    /// Rows per block (default: chosen from n; results do not depend on the thread count).
    #[arg(long)]
    block: Option<usize>,
    /// Print one JSON object instead of a table: the numbers, `timings` (phase → seconds) and
    /// `gemm_gflop` (phase → GFLOP of the kernels' matrix products, 2·m·n·k each).
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
#[command(group = clap::ArgGroup::new("scale").args(["gamma", "beta"]).required(true))]
struct EvalCli {
    /// Number of tokens: an integer or a decimal with exponent (12345, 1e40).
    #[arg(long, allow_hyphen_values = true)]
    n: String,
    /// Pairwise cosine of the input tokens, in (-1/(n-1), 1); the theorems assume rho > 0.
    #[arg(long, allow_hyphen_values = true)]
    rho: String,
    /// Scaling constant in beta = gamma log n; 'crit' gives gamma_c = 1/(1-rho) exactly.
    #[arg(long, allow_hyphen_values = true)]
    gamma: Option<String>,
    /// Attention scale beta given directly (instead of --gamma).
    #[arg(long, allow_hyphen_values = true, conflicts_with = "gamma")]
    beta: Option<String>,
    /// Residual weight alpha >= 0.
    #[arg(long, allow_hyphen_values = true, default_value = "0")]
    alpha: String,
    /// Squared token norm q > 0.
    #[arg(long, allow_hyphen_values = true, default_value = "1")]
    q: String,
    /// Embedding dimension d >= n; when given, the exact eta is computed.
    #[arg(long, allow_hyphen_values = true)]
    d: Option<String>,
    /// Print one JSON object (numbers as decimal strings at full precision) instead of a table.
    #[arg(long)]
    json: bool,
    /// Working precision in bits (53 to 1000000) for the big-float engine; without it, f64.
    #[arg(long, allow_hyphen_values = true, value_parser = options::eval_bits)]
    precision: Option<u64>,
    /// Big-float engine: 'big' (astro-float, pure Rust, the default) or 'mpfr' (feature mpfr).
    #[arg(long, value_parser = options::engine)]
    engine: Option<EngineName>,
    /// Print a rigorous enclosure [lo, hi] of every value (outward-rounded intervals; 256 bits
    /// unless --precision says otherwise).
    #[arg(long)]
    enclose: bool,
    /// Relative accuracy f64 results must be vouched for (checked against a 128-bit enclosure;
    /// default 1e-12).
    #[arg(long, allow_hyphen_values = true, value_parser = options::rel_tol)]
    rel_tol: Option<f64>,
    /// When f64 cannot vouch for a result: 'escalate' to high precision (default), 'refuse'
    /// (exit 3), or 'off' (print f64 unchecked).
    #[arg(long, value_parser = options::on_doubt)]
    on_doubt: Option<OnDoubt>,
}

/// Exit code for bad user input, as for clap's own usage errors.
const EXIT_BAD_INPUT: u8 = 2;

/// Prints one `error:` line and returns the exit code.
fn fail(message: impl std::fmt::Display, code: u8) -> ExitCode {
    note(format_args!("error: {message}"));
    ExitCode::from(code)
}

/// Writes one line to stderr. A failed write there cannot be reported anywhere, so it is
/// ignored rather than turned into a panic (which `eprintln!` would do).
fn note(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Answers what clap could not parse. Help and version requests are printed whole (exit 0);
/// a usage error becomes one line (exit 2) that keeps clap's text naming the option and its
/// value, without the usage block and the pointer to `--help`.
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        if err.use_stderr() {
            let _ = err.print();
            return ExitCode::from(EXIT_BAD_INPUT);
        }
        // Help and version go to stdout like any output: a failed write is an error.
        return emit(&err.render().to_string(), 0);
    }
    if let Some(line) = refused_value(err) {
        return fail(line, EXIT_BAD_INPUT);
    }
    let text = err.render().to_string();
    let line = text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let line = line.strip_prefix("error: ").unwrap_or(&line);
    fail(line, EXIT_BAD_INPUT)
}

/// A value refused by one of the typed parsers (`critscale::options`), in the shape of every
/// other refusal: `invalid value 'VALUE' for --FLAG: REQUIREMENT` (clap would name the flag as
/// `'--flag <FLAG>'`).
fn refused_value(err: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if err.kind() != ErrorKind::ValueValidation {
        return None;
    }
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        err.get(ContextKind::InvalidArg),
        err.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let requirement = std::error::Error::source(err)?;
    let flag = arg.split_whitespace().next().unwrap_or(arg);
    Some(format!("invalid value '{value}' for {flag}: {requirement}"))
}

/// Exit code when writing the output fails.
const EXIT_IO: u8 = 1;

/// Writes a command's output to stdout and returns `status`, the code the command has earned.
///
/// `println!` panics when stdout cannot be written (exit 101). Here a reader that closed the
/// pipe early (`critscale … | head`) ends the command quietly with its own status, since it
/// chose to stop reading; any other write error (a full disk, `> /dev/full`) prints one line
/// and exits 1, or keeps `status` if that is already a failure.
fn emit(text: &str, status: u8) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::from(status),
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::from(status),
        Err(err) => {
            note(format_args!(
                "error: cannot write the output to stdout: {err}"
            ));
            ExitCode::from(if status == 0 { EXIT_IO } else { status })
        }
    }
}

/// Exit status 0 when `good`, else 1 (a claim failed, a certificate was not proved).
fn status(good: bool) -> u8 {
    u8::from(!good)
}

/// Exit code when f64 cannot vouch for a result and `--on-doubt refuse` was asked for.
const EXIT_REFUSED: u8 = 3;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    match cli.command {
        Command::Eval(eval) => run_eval(eval),
        Command::Simulate(sim) => run_simulate(sim),
        Command::Certify(cert) => run_certify(cert),
        Command::Check(check) => run_check(check),
        Command::Schemes(schemes) => run_schemes(schemes),
        Command::Report(report) => run_report(report),
        Command::Diagnose(diag) => run_diagnose(diag),
    }
}

fn run_diagnose(cli: DiagnoseCli) -> ExitCode {
    use critscale::diagnose::{DiagnoseArgs, run, to_json, to_table};
    let args = DiagnoseArgs {
        tokens: cli.tokens,
        tensor: cli.tensor,
        ids: cli.ids,
        gamma: cli.gamma.map(|g| g.0),
        eta_exact: cli.eta == critscale::diagnose::EtaChoice::Exact,
        out: cli.out,
        force: cli.force,
        quiet: cli.quiet,
    };
    match run(&args) {
        Ok(output) => {
            for line in &output.notes {
                note(format_args!("note: {line}"));
            }
            let text = if cli.json {
                format!("{}\n", to_json(&output))
            } else {
                to_table(&output)
            };
            emit(&text, 0)
        }
        Err(failure) => {
            let code = failure.exit_code();
            fail(failure, code)
        }
    }
}

fn run_report(cli: ReportCli) -> ExitCode {
    use critscale::report::{MergeArgs, ReportArgs, plan, run, run_merge};
    let outcome = match cli.action {
        Some(ReportAction::Merge(m)) => run_merge(&MergeArgs {
            shards: m.shards,
            out: m.out,
            jobs: m.jobs,
            force: m.force,
            quiet: m.quiet,
        }),
        None => plan(&ReportArgs {
            out: cli.out,
            budget: cli.budget,
            jobs: cli.jobs,
            claims: cli.claims,
            force: cli.force,
            quiet: cli.quiet,
            shard: cli.shard,
        })
        .and_then(|plan| run(&plan)),
    };
    let written = match outcome {
        Ok(written) => written,
        Err(failure) => {
            let code = failure.exit_code();
            return fail(failure, code);
        }
    };
    emit(&format!("{}\n", written.summary), status(written.all_good))
}

fn run_schemes(cli: SchemesCli) -> ExitCode {
    use critscale::schemes::{SchemesArgs, plan, render, to_json};
    let args = SchemesArgs {
        rho: cli.rho,
        n: cli.n,
        beta0: cli.beta0,
        train_len: cli.train_len,
        ssmax_s: cli.ssmax_s,
        swan_tau: cli.swan_tau,
        hf_configs: cli.hf_config,
        rules: cli.rule,
    };
    match plan(&args) {
        Ok(plan) => {
            let text = if cli.json {
                format!("{}\n", to_json(&plan))
            } else {
                render(&plan)
            };
            emit(&text, 0)
        }
        Err(bad) => fail(bad, EXIT_BAD_INPUT),
    }
}

fn run_check(cli: CheckCli) -> ExitCode {
    use critscale::check::{CheckArgs, all_passed, plan, render, run, to_json};
    let args = CheckArgs {
        claims: cli.claims,
        budget: cli.budget,
    };
    let claims = match plan(&args) {
        Ok(claims) => claims,
        Err(bad) => return fail(bad, EXIT_BAD_INPUT),
    };
    let budget = args.budget;
    let (outcomes, seconds) = run(&claims, budget, cli.quiet || cli.json);
    let text = if cli.json {
        format!("{}\n", to_json(&outcomes))
    } else {
        render(&outcomes, seconds, budget)
    };
    emit(&text, status(all_passed(&outcomes)))
}

fn run_certify(cli: CertifyCli) -> ExitCode {
    use critscale::certify::{CertifyArgs, all_proved, plan, render, run};
    let args = CertifyArgs {
        ids: cli.ids,
        statements: cli.statements,
        precision: cli.precision,
        max_boxes: cli.max_boxes,
    };
    let (statements, limits) = match plan(&args) {
        Ok(plan) => plan,
        Err(bad) => return fail(bad, EXIT_BAD_INPUT),
    };
    let outcomes = run(&statements, limits);
    let text = if cli.json {
        let values: Vec<serde_json::Value> = outcomes
            .iter()
            .map(|o| match o {
                Ok(outcome) => serde_json::to_value(outcome).unwrap_or(serde_json::Value::Null),
                Err(reason) => serde_json::json!({ "error": reason }),
            })
            .collect();
        format!("{}\n", serde_json::Value::Array(values))
    } else {
        render(&outcomes)
    };
    emit(&text, status(all_proved(&outcomes)))
}

fn run_eval(cli: EvalCli) -> ExitCode {
    let args = EvalArgs {
        n: cli.n,
        rho: cli.rho,
        gamma: cli.gamma,
        beta: cli.beta,
        alpha: cli.alpha,
        q: cli.q,
        d: cli.d,
    };
    let defaults = EvalOptions::default();
    let options = EvalOptions {
        precision: cli.precision,
        engine: cli.engine,
        enclose: cli.enclose,
        rel_tol: cli.rel_tol.unwrap_or(defaults.rel_tol),
        on_doubt: cli.on_doubt.unwrap_or(defaults.on_doubt),
    };
    let report = match critscale::eval::run(&args, &options) {
        Ok(report) => report,
        Err(EvalError::Bad(bad)) => return fail(bad, EXIT_BAD_INPUT),
        // Refused, unvouched or unprintable at this precision.
        Err(refused) => return fail(refused, EXIT_REFUSED),
    };
    if !report.all_finite() {
        return fail(
            "internal: a result is not a finite number; please report this point",
            1,
        );
    }
    for warning in &report.warnings {
        note(format_args!("warning: {warning}"));
    }
    let text = if cli.json {
        format!("{}\n", report.to_json())
    } else {
        critscale::eval::to_table(&report)
    };
    emit(&text, 0)
}

fn run_simulate(cli: SimulateCli) -> ExitCode {
    let args = critscale::simulate::SimulateArgs {
        tokens: cli.tokens,
        tensor: cli.tensor,
        ids: cli.ids,
        config: cli.config,
        n: cli.n,
        d: cli.d,
        rho: cli.rho,
        seed: cli.seed,
        gamma: cli.gamma,
        beta: cli.beta,
        alpha: cli.alpha,
        dtype: cli.dtype,
        eta: cli.eta,
        probes: cli.probes,
        probe_seed: cli.probe_seed,
        block: cli.block,
    };
    match critscale::simulate::simulate(&args) {
        Ok(report) if cli.json => emit(&format!("{}\n", report.to_json()), 0),
        Ok(report) => emit(&report.to_table(), 0),
        Err(e) => {
            let code = e.exit_code();
            fail(e, code)
        }
    }
}
