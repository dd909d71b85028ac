//! Where one row of the full Gaussian grid spends its time (n = 1024; best of `repeat` per
//! phase): the forward pass with its observables, exact η, and the whole row.
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo run --release -p critscale-sweeps --example row -- 512 8 [repeat]
//! ```
//! The arguments are d and the ρ index of the full grid (ρ = 0.05·(index + 1)).
use critscale_sweeps::gaussian::{Grid, RowKey, compute_row, row_sample_key};
use critscale_sweeps::sample::Configuration;
use std::time::Instant;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let d: usize = a.get(1).map_or(512, |s| s.parse().expect("d"));
    let r: usize = a.get(2).map_or(8, |s| s.parse().expect("rho index"));
    let repeat: usize = a.get(3).map_or(1, |s| s.parse().expect("repeat"));
    let grid = Grid::full();
    let dim_index = grid
        .dims
        .iter()
        .position(|&x| x == d)
        .expect("d of the grid");
    let rho = grid.rhos[r];
    let config = Configuration::draw(&row_sample_key(&grid, d, rho)).expect("draw");
    let gamma = grid.gammas[grid.gammas.len() / 2];
    let time = |f: &dyn Fn()| {
        (0..repeat)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .fold(f64::INFINITY, f64::min)
    };
    let t_layer = time(&|| {
        config.layer(gamma, false).expect("layer");
    });
    let t_eta = time(&|| {
        config.eta(gamma).expect("eta");
    });
    let t_row = (0..repeat.min(2))
        .map(|_| {
            let t = Instant::now();
            compute_row(
                &grid,
                RowKey {
                    dim_index,
                    rho_index: r,
                },
            )
            .expect("row");
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "n = {}, d = {d}, rho = {rho}: layer {t_layer:.4} s, eta {t_eta:.4} s, row {t_row:.3} s ({} gammas, eta at {})",
        grid.n,
        grid.gammas.len(),
        (0..grid.gammas.len()).filter(|&j| grid.has_eta(j)).count()
    );
}
