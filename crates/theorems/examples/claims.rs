//! Runs the registered claims whose ID starts with a prefix, at a budget, and prints the evidence:
//! `cargo run --release -p critscale-theorems --example claims -- T2 full`.
use critscale_theorems::{Budget, Perturbation, registry};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let prefix = args.get(1).map_or("T", String::as_str);
    let budget = match args.get(2).map(String::as_str) {
        Some("full") => Budget::Full,
        _ => Budget::Quick,
    };
    for claim in registry().iter().filter(|c| c.id.starts_with(prefix)) {
        match claim.run(budget, &Perturbation::default()) {
            Ok(e) => println!(
                "{:?} {} predicted {:.6} measured {:.6} ci [{:.6}, {:.6}] tol {:.1e} ({:.2} s)\n    {}",
                e.verdict,
                e.id,
                e.prediction,
                e.measured,
                e.ci[0],
                e.ci[1],
                e.tolerance,
                e.seconds,
                e.method
            ),
            Err(err) => println!("error {err}"),
        }
    }
}
