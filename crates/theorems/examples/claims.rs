//! Runs the registered claims selected by an ID or prefix (as `critscale check --claim`), at a
//! budget (`quick` unless given), and prints the evidence:
//! `cargo run --release -p critscale-theorems --example claims -- T2 full`.
use critscale_theorems::{Budget, Perturbation, select};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().collect();
    let filter: Vec<String> = args.get(1).cloned().into_iter().collect();
    let budget: Budget = match args.get(2) {
        Some(word) => word.parse().map_err(|e| format!("{e}"))?,
        None => Budget::Quick,
    };
    for claim in select(&filter).map_err(|e| e.to_string())? {
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
    Ok(())
}
