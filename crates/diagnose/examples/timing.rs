//! One timed run of each side of the bench `diagnose` at a size given on the command line
//! (`cargo run --release -p critscale-diagnose --example timing -- 8192 256 40`): the diagnosis
//! sweep from one stored Gram matrix, and as many separate kernels forward + observables runs.

use critscale_diagnose::{pass, prepare};
use critscale_kernels::memory::Limits;
use critscale_kernels::{Options, Params, forward, observables};
use std::time::Instant;

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let (n, d, k) = (
        args.first().copied().unwrap_or(2048),
        args.get(1).copied().unwrap_or(256),
        args.get(2).copied().unwrap_or(40),
    );
    let x = critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, 0.3, 1);
    let gammas: Vec<f64> = (0..k).map(|j| 0.1 + 2.8 * j as f64 / k as f64).collect();
    let ln_n = (n as f64).ln();
    let t = Instant::now();
    let p = prepare(x.view(), &Limits::default()).expect("prepare");
    let gram = t.elapsed().as_secs_f64();
    let mut lam = 0.0;
    for &g in &gammas {
        lam += pass::point(&p, g).expect("point").lambda;
    }
    let ours = t.elapsed().as_secs_f64();
    drop(p);
    let t = Instant::now();
    let mut lam_k = 0.0;
    for &g in &gammas {
        let f =
            forward(x.view(), &Params::new(g * ln_n, 0.0), &Options::default()).expect("forward");
        lam_k += observables(&f).expect("observables").lambda;
    }
    let theirs = t.elapsed().as_secs_f64();
    println!(
        "n = {n}, d = {d}, {k} gammas, {} threads: diagnose {ours:.2} s (Gram {gram:.2} s), \
         kernels {theirs:.2} s, ratio {:.3}; sum of lambda {lam:.12} vs {lam_k:.12}",
        rayon::current_num_threads(),
        ours / theirs
    );
}
