//! A 40-γ sweep from one stored Gram matrix against 40 separate runs of the kernels' forward +
//! observables (issue 13's performance target). Gaussian almost-simplex, ρ = 0.3, d = 256,
//! n = 1024 by default (`DIAGNOSE_BENCH_N` for another n; the n = 8192 measurement of the
//! crate README comes from `examples/timing.rs`, one run of each side).

use criterion::{Criterion, criterion_group, criterion_main};
use critscale_diagnose::{pass, prepare};
use critscale_kernels::memory::Limits;
use critscale_kernels::{Options, Params, forward, observables};
use std::hint::black_box;

fn sweep(c: &mut Criterion) {
    let n: usize = std::env::var("DIAGNOSE_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let d = 256;
    let x = critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, 0.3, 1);
    let gammas: Vec<f64> = (0..40).map(|k| 0.1 + 0.07 * k as f64).collect();
    let ln_n = (n as f64).ln();
    let mut group = c.benchmark_group(format!("sweep40_n{n}_d{d}"));
    group.sample_size(10);
    group.bench_function("diagnose_one_gram", |b| {
        b.iter(|| {
            let p = prepare(x.view(), &Limits::default()).unwrap();
            for &g in &gammas {
                black_box(pass::point(&p, g).unwrap());
            }
        })
    });
    group.bench_function("kernels_40_runs", |b| {
        b.iter(|| {
            for &g in &gammas {
                let f =
                    forward(x.view(), &Params::new(g * ln_n, 0.0), &Options::default()).unwrap();
                black_box(observables(&f).unwrap());
            }
        })
    });
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
