//! Criterion benches of the fast path (`critscale-kernels`): forward pass + observables (λ & co.)
//! in f64 and f32, and the exact η, sweeping n ∈ {512, …, 8192} and d ∈ {32, 512}.
//!
//! ```sh
//! cargo bench --bench kernels                    # everything (about 15 minutes on 2 cores)
//! cargo bench --bench kernels -- 'forward_lambda/f64/4096x512'
//! ```
//!
//! Tokens: the Gaussian almost-simplex (ρ = 0.3, seed 1) at γ = γ_c. Exact η runs only up to
//! n = 4096 (its n³ term makes n = 8192 take ~20 s per iteration). The numpy comparison is
//! `benches/peer/compare.py`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use critscale_kernels::{Options, Params, eta_exact, forward, observables};
use std::hint::black_box;
use std::time::Duration;

const NS: [usize; 5] = [512, 1024, 2048, 4096, 8192];
const DS: [usize; 2] = [32, 512];

fn tokens(n: usize, d: usize) -> ndarray::Array2<f64> {
    critscale_model::gaussian_almost_simplex(&(), n, d, 0.3, 1)
}

fn params(n: usize) -> Params {
    Params::from_gamma(1.0 / 0.7, n, 0.0)
}

fn forward_lambda(c: &mut Criterion) {
    let mut g = c.benchmark_group("forward_lambda");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for d in DS {
        for n in NS {
            let x = tokens(n, d);
            let x32 = x.mapv(|v| v as f32);
            // Gram (half) + E·Z + two Gram halves for λ: 4 n² d flops.
            g.throughput(Throughput::Elements((4 * n * n * d) as u64));
            g.bench_function(BenchmarkId::new("f64", format!("{n}x{d}")), |b| {
                b.iter(|| {
                    let f = forward(x.view(), &params(n), &Options::default()).unwrap();
                    black_box(observables(&f).unwrap())
                })
            });
            g.bench_function(BenchmarkId::new("f32", format!("{n}x{d}")), |b| {
                b.iter(|| {
                    let f = forward(x32.view(), &params(n), &Options::default()).unwrap();
                    black_box(observables(&f).unwrap())
                })
            });
        }
    }
    g.finish();
}

fn eta(c: &mut Criterion) {
    let mut g = c.benchmark_group("eta_exact");
    g.sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(4));
    for d in DS {
        for n in NS.into_iter().filter(|&n| n <= 4096) {
            let x = tokens(n, d);
            g.bench_function(BenchmarkId::new("f64", format!("{n}x{d}")), |b| {
                b.iter(|| black_box(eta_exact(x.view(), &params(n), &Options::default()).unwrap()))
            });
        }
    }
    g.finish();
}

fn exp(c: &mut Criterion) {
    let mut g = c.benchmark_group("exp");
    let xs: Vec<f64> = (0..65536).map(|i| -0.01 * i as f64).collect();
    g.throughput(Throughput::Elements(xs.len() as u64));
    g.bench_function("simd_f64", |b| {
        b.iter_batched_ref(
            || xs.clone(),
            |v| critscale_kernels::simd::exp_in_place_f64(v),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("scalar_fallback_f64", |b| {
        b.iter_batched_ref(
            || xs.clone(),
            |v| critscale_kernels::simd::exp_in_place_f64_scalar(v),
            criterion::BatchSize::SmallInput,
        )
    });
    g.bench_function("libm_f64", |b| {
        b.iter_batched_ref(
            || xs.clone(),
            |v| v.iter_mut().for_each(|x| *x = x.exp()),
            criterion::BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, exp, forward_lambda, eta);
criterion_main!(benches);
