//! Criterion benches of the arbitrary-precision path: every simplex closed form at 256 bits on
//! the default engine (astro-float) and, with `--features mpfr`, on MPFR; and one T1 certificate
//! over all n ≥ 10⁶.
//!
//! ```sh
//! cargo bench --bench precision                    # astro-float and the certificates
//! cargo bench --bench precision --features mpfr    # adds the MPFR figures
//! ```
//!
//! Points: a fixed cycle of 64 (n, ρ, γ) triples spanning n = 10² … 10¹⁰⁰⁰, ρ ∈ (0.05, 0.95) and
//! γ/γ_c ∈ [0.3, 3], with d = 2n (so η is included). Throughput is reported in points per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use critscale_certify::defaults::default_statements;
use critscale_certify::{SearchLimits, certify};
use critscale_real::{BigReal, Precision, Real};
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams, gamma_c};
use std::hint::black_box;

/// The decimal inputs of the benchmark points: (n, ρ, γ, d).
fn points() -> Vec<[String; 4]> {
    (0..64)
        .map(|i| {
            let exponent = 2 + (i * 157) % 999;
            let rho = 0.05 + 0.9 * ((i * 37) % 64) as f64 / 63.0;
            let ratio = 0.3 + 2.7 * ((i * 11) % 64) as f64 / 63.0;
            [
                format!("1e{exponent}"),
                format!("{rho}"),
                format!("{}", ratio * gamma_c(&rho)),
                format!("2e{exponent}"),
            ]
        })
        .collect()
}

/// Parses the points once; the timed part is the evaluation of every closed form.
fn parsed<T: Real<Ctx = Precision>>(p: &Precision) -> Vec<SimplexParams<T>> {
    points()
        .iter()
        .map(|[n, rho, gamma, d]| {
            let read = |s: &str| T::parse_decimal(p, s).unwrap();
            SimplexParams::new(
                read(n),
                read(rho),
                Scaling::Gamma(read(gamma)),
                T::zero(p),
                T::one(p),
                Some(read(d)),
            )
            .unwrap()
        })
        .collect()
}

fn closed_forms(c: &mut Criterion) {
    let p = Precision::new(256).unwrap();
    let mut group = c.benchmark_group("closed_forms_256");
    let big = parsed::<BigReal>(&p);
    group.throughput(Throughput::Elements(big.len() as u64));
    group.bench_function("astro-float", |b| {
        b.iter(|| {
            for params in &big {
                black_box(SimplexLayer::evaluate(black_box(params)));
            }
        })
    });
    #[cfg(feature = "mpfr")]
    {
        let mpfr = parsed::<critscale_real::MpfrReal>(&p);
        group.bench_function("mpfr", |b| {
            b.iter(|| {
                for params in &mpfr {
                    black_box(SimplexLayer::evaluate(black_box(params)));
                }
            })
        });
    }
    let f64_points: Vec<SimplexParams<f64>> = points()
        .iter()
        .filter_map(|[n, rho, gamma, d]| {
            let read = |s: &str| s.parse::<f64>().ok().filter(|x| x.is_finite());
            SimplexParams::new(
                read(n)?,
                read(rho)?,
                Scaling::Gamma(read(gamma)?),
                0.0,
                1.0,
                Some(read(d)?),
            )
            .ok()
        })
        .collect();
    group.throughput(Throughput::Elements(f64_points.len() as u64));
    group.bench_function("f64 (points with n <= 1e300)", |b| {
        b.iter(|| {
            for params in &f64_points {
                black_box(SimplexLayer::evaluate(black_box(params)));
            }
        })
    });
    group.finish();
}

fn certificates(c: &mut Criterion) {
    let mut group = c.benchmark_group("certificate");
    group.sample_size(20);
    for id in [
        "cert.T1.limit.sub",
        "cert.T1.rate.sub",
        "cert.T1.limit.super.range",
        "cert.T3.rate.super",
    ] {
        let statement = default_statements()
            .into_iter()
            .find(|s| s.id == id)
            .unwrap();
        group.bench_function(id, |b| {
            b.iter(|| black_box(certify(black_box(&statement), SearchLimits::default()).unwrap()))
        });
    }
    group.finish();
}

criterion_group!(benches, closed_forms, certificates);
criterion_main!(benches);
