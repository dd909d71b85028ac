//! Wall-clock timings of the large-n phases (best of `--repeat`), on Gaussian almost-simplex
//! tokens (ρ = 0.3, β = ln n/(1 − ρ), as `benches/peer/compare.py`):
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo run --release -p critscale-kernels --example timing -- 4096 512 3 [fwd|eta|lean|all] [f64|f32|both] [block]
//! ```
use critscale_kernels::{
    Element, Options, Params, eta_exact, eta_exact_lean, forward, observables,
};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use std::time::Instant;

fn tokens(n: usize, d: usize) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let s = 1.0 / (d as f64).sqrt();
    let z0: Vec<f64> = (0..d)
        .map(|_| {
            let g: f64 = StandardNormal.sample(&mut rng);
            g * s
        })
        .collect::<Vec<f64>>();
    let rho: f64 = 0.3;
    Array2::from_shape_fn((n, d), |(_, a)| {
        let g: f64 = StandardNormal.sample(&mut rng);
        rho.sqrt() * z0[a] + (1.0 - rho).sqrt() * g * s
    })
}

fn best<R>(repeat: usize, mut f: impl FnMut() -> R) -> (f64, R) {
    let mut t = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeat {
        let s = Instant::now();
        let r = f();
        t = t.min(s.elapsed().as_secs_f64());
        out = Some(r);
    }
    (t, out.expect("repeat >= 1"))
}

fn run<T: Element>(x: &Array2<f64>, repeat: usize, what: &str, block: Option<usize>) {
    let n = x.nrows();
    let xt = x.mapv(T::from_f64);
    let p = Params::new((n as f64).ln() / 0.7, 0.0);
    let o = Options { block };
    if what == "fwd" || what == "all" {
        let (tf, f) = best(repeat, || forward(xt.view(), &p, &o).unwrap());
        let (to, obs) = best(repeat, || observables(&f).unwrap());
        let (t, _) = best(repeat, || {
            let f = forward(xt.view(), &p, &o).unwrap();
            observables(&f).unwrap().lambda
        });
        println!(
            "{} forward {tf:.3} s, observables {to:.3} s, forward+observables {t:.3} s (lambda {:.15e})",
            T::NAME,
            obs.lambda
        );
    }
    if what == "eta" || what == "all" {
        let (t, eta) = best(repeat, || eta_exact(xt.view(), &p, &o).unwrap());
        println!("{} eta_exact {t:.3} s (eta {eta:.15e})", T::NAME);
    }
    if what == "lean" || what == "all" {
        let (t, eta) = best(repeat, || eta_exact_lean(xt.view(), &p, &o).unwrap());
        println!("{} eta_exact_lean {t:.3} s (eta {eta:.15e})", T::NAME);
    }
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n = a.get(1).map_or(4096, |s| s.parse().unwrap());
    let d = a.get(2).map_or(512, |s| s.parse().unwrap());
    let repeat = a.get(3).map_or(3, |s| s.parse().unwrap());
    let what = a.get(4).map_or("all", String::as_str);
    let dtype = a.get(5).map_or("both", String::as_str);
    let block = a.get(6).map(|s| s.parse().unwrap());
    let x = tokens(n, d);
    if dtype != "f32" {
        run::<f64>(&x, repeat, what, block);
    }
    if dtype != "f64" {
        run::<f32>(&x, repeat, what, block);
    }
}
