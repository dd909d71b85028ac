//! Where the time of forward + λ and exact η goes (n = 4096, d = 512 by default): each phase
//! timed alone in the same process (best of `repeat`), the flops of its matrix products (counted
//! by the kernels, `element::gemm_flops`), and its rate as a fraction of the GEMM peak: by
//! default measured in the same run as the best rate of the kernels' own GEMM on the tile
//! shape of n = 4096, d = 512 (every 256 × 256 tile of A Aᵀ, A of 4096 × 512, on every thread;
//! at other n and d the phases' own shapes differ, so they can run above or below it), or
//! given as the last argument in GFLOP/s for the one element type asked for.
//!
//! ```sh
//! RAYON_NUM_THREADS=2 cargo run --release -p critscale-kernels --example phases -- 4096 512 3 [f64|f32|both] [peak]
//! ```
use critscale_kernels::element::{Mat, Op, gemm, gemm_flops};
use critscale_kernels::{Element, Options, Params, eta_exact, forward, observables, prepare};
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use std::time::Instant;

fn tokens(n: usize, d: usize) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(0);
    let s = 1.0 / (d as f64).sqrt();
    let z0: Vec<f64> = (0..d)
        .map(|_| {
            let g: f64 = StandardNormal.sample(&mut rng);
            g * s
        })
        .collect();
    let rho: f64 = 0.3;
    Array2::from_shape_fn((n, d), |(_, a)| {
        let g: f64 = StandardNormal.sample(&mut rng);
        rho.sqrt() * z0[a] + (1.0 - rho).sqrt() * g * s
    })
}

/// The best time of `repeat` calls, the GFLOP of one call's matrix products and the last result.
fn best<R>(repeat: usize, mut f: impl FnMut() -> R) -> (f64, f64, R) {
    let mut t = f64::INFINITY;
    let mut out = None;
    let before = gemm_flops();
    for _ in 0..repeat {
        let s = Instant::now();
        let r = f();
        t = t.min(s.elapsed().as_secs_f64());
        out = Some(r);
    }
    let flops = gemm_flops().since(before);
    let gflop = (flops.f64 + flops.f32) as f64 / repeat as f64 / 1e9;
    (t, gflop, out.expect("repeat >= 1"))
}

/// The kernels' GEMM rate in GFLOP/s on their tile shape: every 256 × 256 tile of A Aᵀ for A
/// of 4096 × 512 (k = 512), each into a per-thread buffer that stays in cache, on every thread;
/// best of `repeat` (at least 2).
fn gemm_peak<T: Element>(repeat: usize) -> f64 {
    let (m, k, bs) = (4096, 512, 256);
    let a: Vec<T> = (0..m * k)
        .map(|i| T::from_f64((i % 7) as f64 - 3.0))
        .collect();
    let nb = m / bs;
    let tiles: Vec<(usize, usize)> = (0..nb).flat_map(|i| (0..nb).map(move |j| (i, j))).collect();
    let (t, gflop, ()) = best(repeat.max(2), || {
        tiles.par_iter().for_each_init(
            || vec![T::ZERO; bs * bs],
            |c, &(bi, bj)| {
                gemm(
                    c,
                    bs,
                    false,
                    Mat::new(&a[bi * bs * k..(bi + 1) * bs * k], bs, k, k),
                    Op::N,
                    Mat::new(&a[bj * bs * k..(bj + 1) * bs * k], bs, k, k),
                    Op::T,
                );
            },
        );
    });
    gflop / t
}

/// The upper tiles of Z Zᵀ (b × b, b = 256), GEMM only: what one Gram pass of the forward pass
/// and of the observables costs without the per-entry work.
fn half_gram<T: Element>(z: &[T], n: usize, d: usize, bs: usize) {
    let starts: Vec<usize> = (0..n).step_by(bs).chain([n]).collect();
    let nb = starts.len() - 1;
    let tiles: Vec<(usize, usize)> = (0..nb).flat_map(|i| (i..nb).map(move |j| (i, j))).collect();
    tiles.par_iter().for_each_init(
        || vec![T::ZERO; bs * bs],
        |g, &(bi, bj)| {
            let (i0, i1, j0, j1) = (starts[bi], starts[bi + 1], starts[bj], starts[bj + 1]);
            gemm(
                g,
                j1 - j0,
                false,
                Mat::new(&z[i0 * d..i1 * d], i1 - i0, d, d),
                Op::N,
                Mat::new(&z[j0 * d..j1 * d], j1 - j0, d, d),
                Op::T,
            );
        },
    );
}

fn report(name: &str, t: f64, gflop: f64, peak: f64) {
    if gflop > 0.0 {
        println!(
            "{name:<36} {t:>8.3} s  {gflop:>6.2} GFLOP  {:>6.1} GFLOP/s  {:>5.1} % of peak",
            gflop / t,
            100.0 * gflop / t / peak
        );
    } else {
        println!("{name:<36} {t:>8.3} s");
    }
}

fn run<T: Element>(x: &Array2<f64>, repeat: usize, peak: Option<f64>) {
    let (n, d) = x.dim();
    let nf = n as f64;
    let xt = x.mapv(T::from_f64);
    let p = Params::new(nf.ln() / 0.7, 0.0);
    let o = Options::default();
    let bs = critscale_kernels::default_block(n);
    let prep = prepare(xt.view(), &p).unwrap();
    let (peak, how) = match peak {
        Some(p) => (p, "given"),
        None => (
            gemm_peak::<T>(repeat),
            "measured: 256 x 256 tiles of A A^T, A 4096 x 512",
        ),
    };
    println!(
        "{} n = {n}, d = {d}, block {bs}, GEMM peak {peak:.1} GFLOP/s ({how})",
        T::NAME
    );
    let (tg, half, ()) = best(repeat, || half_gram(&prep.z, n, d, bs));
    report("  Gram, upper tiles (GEMM only)", tg, half, peak);
    let (tf, ff, f) = best(repeat, || forward(xt.view(), &p, &o).unwrap());
    report("  forward (Gram + exp + E Z)", tf, ff, peak);
    // With the forward pass's δ tiles kept, the observables compute the output Gram only.
    let grams = if f.delta_tiles.is_some() { 1.0 } else { 2.0 };
    let (to, fo, obs) = best(repeat, || observables(&f).unwrap());
    report(
        if grams == 1.0 {
            "  observables (output Gram + pairs)"
        } else {
            "  observables (2 Grams + pairs)"
        },
        to,
        fo,
        peak,
    );
    report(
        "    of which per-pair work (est.)",
        (to - grams * tg).max(0.0),
        0.0,
        peak,
    );
    report("  forward + lambda", tf + to, ff + fo, peak);
    let (te, fe, eta) = best(repeat, || eta_exact(xt.view(), &p, &o).unwrap());
    report("  exact eta", te, fe, peak);
    println!(
        "  products at the GEMM peak alone: forward + lambda {:.3} s, exact eta {:.3} s",
        (ff + fo) / peak,
        fe / peak
    );
    println!(
        "  lambda {:.15e}, eta {eta:.15e}, recomputed pairs {}",
        obs.lambda, obs.recomputed_pairs
    );
}

/// Argument `i` parsed, or the default; one line and exit 2 when it does not parse or is out
/// of range.
fn arg<V: std::str::FromStr + std::fmt::Display>(
    a: &[String],
    i: usize,
    name: &str,
    default: V,
    valid: (&str, fn(&V) -> bool),
) -> V {
    let v = match a.get(i) {
        None => default,
        Some(s) => s.parse().unwrap_or_else(|_| {
            eprintln!("error: {name} {s:?}: must be {}", valid.0);
            std::process::exit(2)
        }),
    };
    if !(valid.1)(&v) {
        eprintln!("error: {name} {v}: must be {}", valid.0);
        std::process::exit(2);
    }
    v
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = arg(&a, 1, "n", 4096, ("an integer >= 2", |v| *v >= 2));
    let d: usize = arg(&a, 2, "d", 512, ("an integer >= 1", |v| *v >= 1));
    let repeat: usize = arg(&a, 3, "repeat", 3, ("an integer >= 1", |v| *v >= 1));
    let dtype: String = arg(
        &a,
        4,
        "dtype",
        "f64".to_owned(),
        ("f64, f32 or both", |v| {
            ["f64", "f32", "both"].contains(&v.as_str())
        }),
    );
    // A given peak is the rate of the one element type asked for (f32's is about twice f64's).
    let peak: Option<f64> = a.get(5).map(|_| {
        arg(
            &a,
            5,
            "peak",
            0.0,
            ("a number of GFLOP/s > 0", |v: &f64| {
                v.is_finite() && *v > 0.0
            }),
        )
    });
    if peak.is_some() && dtype == "both" {
        eprintln!("error: peak {}: give it with f64 or f32, not both", a[5]);
        std::process::exit(2);
    }
    let x = tokens(n, d);
    if dtype != "f32" {
        run::<f64>(&x, repeat, peak);
    }
    if dtype != "f64" {
        run::<f32>(&x, repeat, peak);
    }
}
