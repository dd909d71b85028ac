//! The regime of one attention layer (the paper's model, THEORY §1, α = 0) on given tokens — real
//! text with repeated tokens above all — over a γ grid, with every prediction beside the
//! measurement (issue 13; THEORY §3, §5, §8, §10).
//!
//! * [`mod@prepare`] — directions, bit-identical rows grouped into weighted units, δ = 1 − cos
//!   computed **once** (one GEMM, m_u² memory, checked first), copy classes (1 − cos ≤ 1e-12);
//! * [`mod@pass`] — the layer at one β from the stored δ: λ and λ_angle over non-copy pairs,
//!   self mass (own weight plus copies'), self weight, support, entropy; [`pass::self_mass`]
//!   from row sums alone;
//! * [`mod@gaps`] — gap counting per row with copies as self weight, per-row distributions;
//! * [`mod@predict`] — 1/(1 − ρ̂), the exact finite-n simplex crossing at ρ̂, the m-type simplex,
//!   the repeated-token law;
//! * [`diagnose`] — all of it, a sweep over the grid and the crossings γ*_λ (λ = ½) and γ*_self
//!   (mean self mass = ½): bracketed on the grid, bisected to [`XTOL`] in γ
//!   (`critscale_asymptotics::threshold`); "no crossing in range" is a note, never a value.
//!
//! **Cost.** One m_u × m_u Gram (m_u ≤ n the distinct directions), then per γ m_u² exponentials
//! and 3m_u²d flops, row blocks in parallel (rayon); results do not depend on the thread count.
//! Exact η (optional) is the kernels' `eta_exact` on the n tokens at each γ of the grid.

#![warn(missing_docs)]

pub mod error;
pub mod gaps;
pub mod pass;
pub mod predict;
pub mod prepare;

pub use error::DiagnoseError;
pub use gaps::RowRecord;
pub use pass::Point;
pub use predict::Predictions;
pub use prepare::{COPY_TOL, Prepared, prepare};

use critscale_asymptotics::threshold::{self, Policy, Scan};
use critscale_kernels::memory::{EtaWork, Limits, Work, worker_threads};
use critscale_kernels::{Options, Params};
use ndarray::ArrayView2;

/// The crossings are bisected until their bracket in γ is at most this wide.
pub const XTOL: f64 = 1e-4;

/// Points of the default grid.
pub const DEFAULT_POINTS: usize = 40;

/// The default grid, in units of γ̂_c = 1/(1 − ρ̂): [`DEFAULT_POINTS`] evenly spaced from this…
pub const DEFAULT_LO: f64 = 0.05;
/// …to this.
pub const DEFAULT_HI: f64 = 2.0;

/// What to compute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Config {
    /// The γ grid (finite, > 0, strictly increasing, at least 2 points); `None`: the default,
    /// [`DEFAULT_POINTS`] points from [`DEFAULT_LO`]·γ̂_c to [`DEFAULT_HI`]·γ̂_c.
    pub gammas: Option<Vec<f64>>,
    /// Exact η (the kernels' `eta_exact`) at every γ of the grid.
    pub eta: bool,
    /// The memory limits to respect (`critscale_kernels::memory::limits()` in the CLI).
    pub limits: Limits,
}

/// A measured crossing of a level.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Crossing {
    /// γ* (the midpoint of the final bracket), or `None` if the grid shows no crossing.
    pub gamma: Option<f64>,
    /// The final bracket [a, b] (b − a ≤ [`XTOL`]) that contains the crossing.
    pub bracket: Option<[f64; 2]>,
    /// Grid cells where the observable crosses the level (more than one: the first is reported).
    pub cells: usize,
    /// What was done, or why there is no value.
    pub note: String,
}

/// Everything `critscale diagnose` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Diagnosis {
    /// Tokens.
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// m, the number of distinct directions (copy classes).
    pub distinct_m: usize,
    /// Bit-distinct directions (units of the computation, ≥ m).
    pub units: usize,
    /// ρ̂ = mean cosine over non-copy pairs.
    pub rho_hat: f64,
    /// Copy pairs / all pairs.
    pub copy_pair_fraction: f64,
    /// Share of the rows that have at least one copy.
    pub rows_with_copy_share: f64,
    /// ln m/ln n.
    pub heaps_exponent: f64,
    /// γ*_λ, where λ = ½ (see `crossing_lambda`).
    pub gamma_star_lambda: Option<f64>,
    /// γ*_self, where the mean self mass = ½ (see `crossing_self`).
    pub gamma_star_self: Option<f64>,
    /// How γ*_λ was found.
    pub crossing_lambda: Crossing,
    /// How γ*_self was found.
    pub crossing_self: Crossing,
    /// The predictions.
    pub predictions: Predictions,
    /// What exact η means here (when asked for).
    pub eta_note: Option<String>,
    /// The sweep, in grid order.
    pub sweep: Vec<Point>,
    /// Per-row distributions, in row order.
    pub rows: Vec<RowRecord>,
}

/// Parses a γ grid: `a:b:k` (k ≥ 2 evenly spaced points from a to b) or a comma list; every γ
/// finite and > 0, strictly increasing, at most 100000 points.
///
/// # Errors
/// A one-line requirement, for the CLI's `invalid value … for --gamma` message.
pub fn parse_grid(text: &str) -> Result<Vec<f64>, String> {
    let num = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let grid: Vec<f64> = if text.contains(':') {
        let parts: Vec<&str> = text.split(':').collect();
        let need = "need a:b:k with 0 < a < b and an integer k in [2, 100000], or a comma list";
        let [a, b, k] = parts.as_slice() else {
            return Err(need.to_owned());
        };
        let (Some(a), Some(b), Some(k)) = (num(a), num(b), k.trim().parse::<usize>().ok()) else {
            return Err(need.to_owned());
        };
        if !(a > 0.0 && a < b && (2..=100_000).contains(&k)) {
            return Err(need.to_owned());
        }
        threshold::linspace(a, b, k).map_err(|e| e.to_string())?
    } else {
        text.split(',')
            .map(|s| num(s).ok_or_else(|| "need positive finite numbers".to_owned()))
            .collect::<Result<_, _>>()?
    };
    check_grid(&grid)?;
    Ok(grid)
}

/// A number for a message: six decimals in the usual range, scientific notation outside it.
pub fn short(x: f64) -> String {
    if x == 0.0 || (1e-4..1e6).contains(&x.abs()) {
        format!("{x:.6}")
    } else {
        format!("{x:.6e}")
    }
}

fn check_grid(grid: &[f64]) -> Result<(), String> {
    if grid.is_empty() || grid.len() > 100_000 {
        return Err("need 1 to 100000 values of gamma".to_owned());
    }
    if let Some(g) = grid.iter().find(|g| !(g.is_finite() && **g > 0.0)) {
        return Err(format!("every gamma must be finite and > 0 (got {g})"));
    }
    if grid.windows(2).any(|w| w[0] >= w[1]) {
        return Err("the values of gamma must be strictly increasing".to_owned());
    }
    Ok(())
}

/// Locates where `values` (on `grid`) cross ½ and bisects with `f` to [`XTOL`].
fn crossing(
    what: &str,
    grid: &[f64],
    values: &[f64],
    mut f: impl FnMut(f64) -> Result<f64, DiagnoseError>,
) -> Result<Crossing, DiagnoseError> {
    let scan = Scan {
        grid: grid.to_vec(),
        values: values.to_vec(),
    };
    let cells = scan.crossings(0.5).len();
    let (lo, hi) = (grid[0], grid[grid.len() - 1]);
    if cells == 0 {
        let (vmin, vmax) = values
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        return Ok(Crossing {
            gamma: None,
            bracket: None,
            cells,
            note: format!(
                "no crossing in range: {what} stays in [{vmin:.4}, {vmax:.4}] for gamma in \
                 [{}, {}]",
                short(lo),
                short(hi)
            ),
        });
    }
    let mut failure = None;
    let found = threshold::refine(
        |g| match f(g) {
            Ok(v) => v,
            Err(e) => {
                failure.get_or_insert(e);
                f64::NAN
            }
        },
        &scan,
        0.5,
        XTOL,
        Policy::First,
    );
    if let Some(e) = failure {
        return Err(e);
    }
    match found {
        Ok(c) => Ok(Crossing {
            gamma: Some(c.root),
            bracket: Some([c.bracket.0, c.bracket.1]),
            cells,
            note: if cells > 1 {
                format!(
                    "{what} crosses 1/2 in {cells} grid cells; the first, [{}, {}], is \
                     bisected to {XTOL:e}",
                    short(c.cell.0),
                    short(c.cell.1)
                )
            } else {
                format!(
                    "bisected to {XTOL:e} in the grid cell [{}, {}]",
                    short(c.cell.0),
                    short(c.cell.1)
                )
            },
        }),
        Err(e) => Ok(Crossing {
            gamma: None,
            bracket: None,
            cells,
            note: format!("{what}: {e}"),
        }),
    }
}

/// What [`diagnose`] reports to a progress display: `(done, total, stage)`.
pub type Progress<'a> = &'a mut dyn FnMut(usize, usize, &'static str);

/// Runs the whole diagnosis (see the crate docs).
///
/// # Errors
/// What [`prepare()`] reports; [`DiagnoseError::BadGrid`] for a bad `config.gammas`;
/// [`DiagnoseError::TooMuchMemory`] when exact η would not fit beside δ; the kernels' errors
/// from exact η (e.g. its precision refusal at very large β).
pub fn diagnose(
    x: ArrayView2<'_, f64>,
    config: &Config,
    progress: Progress<'_>,
) -> Result<Diagnosis, DiagnoseError> {
    if let Some(g) = &config.gammas {
        check_grid(g).map_err(|reason| DiagnoseError::BadGrid { reason })?;
    }
    let (n, d) = x.dim();
    // Exact η keeps its own n × n matrices while δ (n × n at most) stays in memory.
    let eta_bytes = (config.eta && n >= 2 && d >= 1).then(|| {
        Work {
            n,
            d,
            elem: 8,
            block: None,
            eta: EtaWork::Exact,
            threads: worker_threads(),
        }
        .bytes()
        .saturating_add(prepare::bytes(n, d, worker_threads()))
    });
    if let Some(need) = eta_bytes {
        prepare::check_memory(
            "exact eta beside the matrix of 1 - cos",
            n,
            need,
            &config.limits,
        )?;
    }
    progress(0, 1, "Gram matrix");
    let p = prepare(x, &config.limits)?;
    let rows = gaps::rows(&p);
    let pairs = pass::non_copy_pairs(&p);
    let nf = n as f64;
    let rho_hat = rows
        .iter()
        .map(|r| r.cos_mean * (nf - r.share * nf))
        .sum::<f64>()
        / (2.0 * pairs);
    // A mean of cosines lies in [−1, 1]; rounding can put the mean of antipodal pairs just
    // below −1, which no cosine is.
    let rho_hat = rho_hat.clamp(-1.0, 1.0);
    let all_pairs = nf * (nf - 1.0) / 2.0;
    let with_copy: usize = p.class_rows.iter().filter(|&&c| c > 1).sum();
    let predictions = predict::predictions(&p, rho_hat, &rows);
    let gammas = match &config.gammas {
        Some(g) => g.clone(),
        None => threshold::linspace(
            DEFAULT_LO * predictions.gamma_c_hat,
            DEFAULT_HI * predictions.gamma_c_hat,
            DEFAULT_POINTS,
        )
        .map_err(|e| DiagnoseError::BadGrid {
            reason: e.to_string(),
        })?,
    };
    let ln_n = nf.ln();
    if let Some(g) = gammas.iter().find(|g| !(**g * ln_n).is_finite()) {
        return Err(DiagnoseError::BadGrid {
            reason: format!(
                "--gamma {}: beta = gamma ln n = {} x {ln_n:.4} overflows f64; need gamma <= {}",
                short(*g),
                short(*g),
                short(f64::MAX / ln_n)
            ),
        });
    }
    let mut sweep = Vec::with_capacity(gammas.len());
    for (k, &g) in gammas.iter().enumerate() {
        progress(k, gammas.len(), "sweep");
        let mut point = pass::point(&p, g)?;
        if config.eta {
            point.eta = Some(critscale_kernels::eta_exact(
                x,
                &Params::new(g * ln_n, 0.0),
                &Options::default(),
            )?);
        }
        sweep.push(point);
    }
    progress(gammas.len(), gammas.len(), "crossings");
    let (crossing_lambda, crossing_self) = if gammas.len() < 2 {
        let note = "one gamma: no crossing is searched (give a grid)".to_owned();
        let none = Crossing {
            gamma: None,
            bracket: None,
            cells: 0,
            note,
        };
        (none.clone(), none)
    } else {
        let lambdas: Vec<f64> = sweep.iter().map(|s| s.lambda).collect();
        let selfs: Vec<f64> = sweep.iter().map(|s| s.self_mass).collect();
        (
            crossing("lambda", &gammas, &lambdas, |g| {
                Ok(pass::point(&p, g)?.lambda)
            })?,
            crossing("the mean self mass", &gammas, &selfs, |g| {
                Ok(pass::self_mass(&p, g * ln_n))
            })?,
        )
    };
    let eta_note = eta_bytes.map(|need| {
        let memory = critscale_kernels::memory::human(need);
        if p.classes() < n {
            format!(
                "exact eta of the kernels at every gamma on all n tokens, copies included (the \
                 Jacobian is defined with repeated tokens; only lambda's ratio is 0/0 on copies); \
                 memory estimate {memory} with the matrix of 1 - cos"
            )
        } else {
            format!(
                "exact eta of the kernels at every gamma on the n tokens; memory estimate \
                 {memory} with the matrix of 1 - cos"
            )
        }
    });
    Ok(Diagnosis {
        n,
        d,
        distinct_m: p.classes(),
        units: p.units,
        rho_hat,
        copy_pair_fraction: (all_pairs - pairs) / all_pairs,
        rows_with_copy_share: with_copy as f64 / nf,
        heaps_exponent: (p.classes() as f64).ln() / ln_n,
        gamma_star_lambda: crossing_lambda.gamma,
        gamma_star_self: crossing_self.gamma,
        crossing_lambda,
        crossing_self,
        predictions,
        eta_note,
        sweep,
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use critscale_kernels::{forward, observables};
    use ndarray::Array2;
    use proptest::prelude::*;

    fn quiet() -> impl FnMut(usize, usize, &'static str) {
        |_, _, _| {}
    }

    /// Gaussian almost-simplex tokens with norms spread over [0.5, 2].
    fn gaussian(n: usize, d: usize, rho: f64, seed: u64) -> Array2<f64> {
        let mut x = critscale_model::gaussian_almost_simplex::<f64>(&(), n, d, rho, seed);
        for (i, mut r) in x.rows_mut().into_iter().enumerate() {
            r *= 0.5 + 1.5 * ((i * 7 + 3) % 11) as f64 / 10.0;
        }
        x
    }

    /// A simplex of `shares.len()` types (cosine ρ) where type k occurs `shares[k]` times,
    /// rows interleaved.
    fn multiset(shares: &[usize], rho: f64) -> Array2<f64> {
        let m = shares.len();
        let base = critscale_model::simplex::<f64>(&(), m, m, &rho, &1.0).unwrap();
        let mut order = Vec::new();
        let mut left = shares.to_vec();
        while left.iter().any(|&c| c > 0) {
            for (k, c) in left.iter_mut().enumerate() {
                if *c > 0 {
                    *c -= 1;
                    order.push(k);
                }
            }
        }
        Array2::from_shape_fn((order.len(), m), |(i, a)| {
            base[[order[i], a]] * (1.0 + i as f64)
        })
    }

    fn compare_with_kernels(x: &Array2<f64>, gamma: f64) -> Result<(), TestCaseError> {
        let p = prepare(x.view(), &Limits::default()).unwrap();
        prop_assert_eq!(p.units, x.nrows());
        let got = pass::point(&p, gamma).unwrap();
        let beta = gamma * (x.nrows() as f64).ln();
        let fwd = forward(x.view(), &Params::new(beta, 0.0), &Options::default()).unwrap();
        let want = observables(&fwd).unwrap();
        // The condition number of A in the Gram entries is β (a rounding u of δ moves A by βu),
        // so two implementations that sum in different orders agree to about u·(1 + β).
        let tol = 1e-12 * (1.0 + beta);
        for (name, g, w) in [
            ("lambda", got.lambda, want.lambda),
            ("lambda_angle", got.lambda_angle, want.lambda_angle),
            ("self_weight", got.self_weight, want.self_weight),
            ("self_mass", got.self_mass, want.self_weight),
            ("support", got.support, want.support),
            ("entropy", got.entropy, want.entropy),
            ("cos_out_mean", got.cos_out_mean, want.cos_out_mean),
        ] {
            prop_assert!(
                (g - w).abs() <= tol * w.abs().max(1e-3),
                "{} at gamma {}: {:e} vs {:e}",
                name,
                gamma,
                g,
                w
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]
        #[test]
        fn copy_free_tokens_match_the_kernels(
            n in 2usize..60,
            d in 2usize..24,
            rho in 0.0f64..0.8,
            gamma in 0.1f64..4.0,
            seed in any::<u64>(),
        ) {
            compare_with_kernels(&gaussian(n, d, rho, seed), gamma)?;
        }

        #[test]
        fn multiset_simplex_self_mass_is_the_closed_form(
            shares in proptest::collection::vec(1usize..6, 2..9),
            rho in 0.05f64..0.9,
            gamma in 0.05f64..3.0,
        ) {
            let x = multiset(&shares, rho);
            let p = prepare(x.view(), &Limits::default()).unwrap();
            prop_assert_eq!(p.classes(), shares.len());
            let n = x.nrows() as f64;
            let beta = gamma * n.ln();
            // THEORY §10: Z = c e^β + (n − c)e^{βρ} exactly on a multiset simplex.
            let want: f64 = shares.iter().map(|&c| {
                let f = c as f64 / n;
                c as f64 / (1.0 + (1.0 - f) / f * (-beta * (1.0 - rho)).exp())
            }).sum::<f64>() / n;
            let got = pass::self_mass(&p, beta);
            prop_assert!((got - want).abs() <= 1e-13, "{} vs {}", got, want);
            prop_assert!((got - predict::predicted_self_mass(&p, rho, beta)).abs() <= 1e-13);
            prop_assert!((pass::point(&p, gamma).unwrap().self_mass - got).abs() <= 1e-13);
        }
    }

    #[test]
    fn equal_multiplicities_are_the_m_type_simplex() {
        let (m, c, rho) = (6usize, 4usize, 0.3f64);
        let x = multiset(&vec![c; m], rho);
        let n = (m * c) as f64;
        let p = prepare(x.view(), &Limits::default()).unwrap();
        for gamma in [0.3, 0.8, 1.4, 2.5] {
            let beta = gamma * n.ln();
            let got = pass::point(&p, gamma).unwrap();
            // The m-simplex at the same β: γ_m = β/ln m, in units of γ_c.
            let ratio = beta / (m as f64).ln() * (1.0 - rho);
            let (lam, ang) = critscale_sweeps::simplex::lambda(m as f64, rho, ratio).unwrap();
            assert_abs_diff_eq!(got.lambda, lam, epsilon = 1e-12);
            assert_abs_diff_eq!(got.lambda_angle, ang, epsilon = 1e-12);
        }
        let diag = diagnose(
            x.view(),
            &Config {
                gammas: Some(parse_grid("0.05:3:30").unwrap()),
                ..Config::default()
            },
            &mut quiet(),
        )
        .unwrap();
        assert_eq!(diag.distinct_m, m);
        assert_abs_diff_eq!(diag.rho_hat, rho, epsilon = 1e-12);
        assert_abs_diff_eq!(diag.rows_with_copy_share, 1.0);
        assert_abs_diff_eq!(
            diag.copy_pair_fraction,
            (m * c * (c - 1) / 2) as f64 / (n * (n - 1.0) / 2.0),
            epsilon = 1e-15
        );
        // γ*_self = ln((1 − f)/f)/((1 − ρ) ln n), f = 1/m (THEORY §10), to the bisection's 1e-4.
        let want = ((m - 1) as f64).ln() / ((1.0 - rho) * n.ln());
        let got = diag.gamma_star_self.unwrap();
        assert!((got - want).abs() <= XTOL, "{got} vs {want}");
        assert_abs_diff_eq!(
            diag.predictions.equal_multiplicity_self,
            want,
            epsilon = 1e-12
        );
        assert_abs_diff_eq!(
            diag.predictions.self_law_crossing.unwrap(),
            want,
            epsilon = 1e-9
        );
        // γ*_λ is the m-type simplex crossing.
        let want = diag.predictions.m_type_simplex_crossing.unwrap();
        let got = diag.gamma_star_lambda.unwrap();
        assert!((got - want).abs() <= XTOL, "{got} vs {want}");
    }

    #[test]
    fn unequal_multiplicities_follow_the_per_row_law() {
        let rho = 0.4;
        let x = multiset(&[9, 1, 1, 2, 5, 1, 3, 1, 1, 1], rho);
        let d = diagnose(
            x.view(),
            &Config {
                gammas: Some(parse_grid("0.02:2:25").unwrap()),
                ..Config::default()
            },
            &mut quiet(),
        )
        .unwrap();
        let want = d.predictions.self_law_crossing.unwrap();
        let got = d.gamma_star_self.unwrap();
        assert!((got - want).abs() <= XTOL, "{got} vs {want}");
    }

    #[test]
    fn crossings_are_bracketed_and_absent_crossings_are_said() {
        let x = gaussian(80, 64, 0.3, 7);
        let cfg = |g: &str| Config {
            gammas: Some(parse_grid(g).unwrap()),
            ..Config::default()
        };
        let d = diagnose(x.view(), &cfg("0.2:3:12"), &mut quiet()).unwrap();
        let p = prepare(x.view(), &Limits::default()).unwrap();
        let [a, b] = d.crossing_lambda.bracket.unwrap();
        assert!(b - a <= XTOL && a <= d.gamma_star_lambda.unwrap());
        let (la, lb) = (
            pass::point(&p, a).unwrap().lambda,
            pass::point(&p, b).unwrap().lambda,
        );
        assert!(la < 0.5 && lb > 0.5, "{la} {lb}");
        let [a, b] = d.crossing_self.bracket.unwrap();
        let ln_n = 80f64.ln();
        assert!(pass::self_mass(&p, a * ln_n) < 0.5 && pass::self_mass(&p, b * ln_n) > 0.5);
        // Copy-free: the self mass is the self weight, and the gap scales are finite.
        assert!(d.sweep.iter().all(|s| s.self_mass == s.self_weight));
        assert!(
            d.rows
                .iter()
                .all(|r| r.gap_scale.is_finite() && r.share == 1.0 / 80.0)
        );
        // A grid that stops short of the transition: no value, a note.
        let d = diagnose(x.view(), &cfg("0.05,0.1,0.15"), &mut quiet()).unwrap();
        assert_eq!(d.gamma_star_lambda, None);
        assert!(
            d.crossing_lambda.note.starts_with("no crossing in range"),
            "{}",
            d.crossing_lambda.note
        );
        assert_eq!(d.gamma_star_self, None);
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let x = gaussian(300, 8, 0.2, 3);
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| {
                    let p = prepare(x.view(), &Limits::default()).unwrap();
                    (pass::point(&p, 1.1).unwrap(), gaps::rows(&p))
                })
        };
        let one = run(1);
        for t in [2, 3] {
            assert_eq!(one, run(t), "{t} threads");
        }
    }

    #[test]
    fn grids_parse_or_say_what_is_valid() {
        assert_eq!(parse_grid("0.5:1.5:3").unwrap(), vec![0.5, 1.0, 1.5]);
        assert_eq!(parse_grid("0.3, 0.7,2").unwrap(), vec![0.3, 0.7, 2.0]);
        for bad in [
            "", "1:0:5", "0:1:5", "1:2:1", "1:2", "a,b", "1,1", "2,1", "-1", "nan", "1:2:x",
        ] {
            assert!(parse_grid(bad).is_err(), "{bad}");
        }
    }
}
