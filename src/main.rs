//! The `critscale` command line: parse, call the library, print.

use clap::{Args, Parser, Subcommand};
use critscale::eval::{EvalArgs, evaluate};
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
    /// lambda_angle, eta (with --d), gamma_c and the regime.
    Eval(EvalCli),
}

#[derive(Args)]
struct EvalCli {
    /// Number of tokens: an integer or a decimal with exponent (12345, 1e40).
    #[arg(long, allow_hyphen_values = true)]
    n: String,
    /// Pairwise cosine of the input tokens, in (-1/(n-1), 1); the theorems assume rho > 0.
    #[arg(long, allow_hyphen_values = true)]
    rho: String,
    /// Scaling constant in beta = gamma log n; 'crit' gives gamma_c = 1/(1-rho) exactly.
    #[arg(long, allow_hyphen_values = true, required_unless_present = "beta")]
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
}

/// Exit code for bad user input, as for clap's own usage errors.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Eval(eval) => run_eval(eval),
    }
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
    let report = match evaluate::<f64>(&(), &args) {
        Ok(report) => report,
        Err(bad) => {
            eprintln!("error: {bad}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    if !report.all_finite() {
        eprintln!("error: internal: a result is not a finite number; please report this point");
        return ExitCode::FAILURE;
    }
    for warning in &report.warnings {
        eprintln!("warning: {warning}");
    }
    if cli.json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_table());
    }
    ExitCode::SUCCESS
}
