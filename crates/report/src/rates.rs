//! Rates and thresholds: the series behind the fitted claims, plotted with their fits.
//!
//! The rate and threshold claims of `crates/theorems` (`T1.rate.*`, `T1.threshold`, `T1.width`,
//! `T3.rate.*`, `T3.threshold`) are judged on least-squares fits to series of points,
//! one per size n = 10^k, computed from the exact simplex closed forms (ρ = 0.3, q = 1, d = n,
//! α = 0). This section takes those series from [`critscale_theorems::series_checks`] — the very
//! functions the registered checks call — fits them with [`Series::fit`] and judges them with
//! the claims' own judges, so the figures show exactly the points, fits and numbers of the claims
//! table. Nothing here recomputes a series.
//!
//! With κ = γ(1 − ρ) − 1 = γ/γ_c − 1 and p = A_ii the self weight, the predictions are
//! (THEORY §5):
//!
//! * below γ_c: p ≈ n^κ, so λ ≈ n^{2κ}/ρ and η ≈ (1 − 1/d) n^{2κ}/q (slope 2κ of log λ, log η
//!   against log n; κ = −0.3 for λ, κ = −0.2 for η);
//! * above γ_c: 1 − p ≈ n^{−κ}, so 1 − λ ≈ 2ρ n^{−κ} and 1 − qη/(1 − 1/d) ≈ 2 n^{−κ}
//!   (slope −κ = −0.3);
//! * at γ_c: |cos_out − 4ρ/(1 + 3ρ)| ≈ C/n (slope −1);
//! * the threshold: λ depends on (n, γ) only through κ·log n up to O(1/n), so the γ where λ
//!   crosses a level ℓ is γ*(n) = γ_c + b/log n + O(1/n) with b = γ_c·logit p_ℓ, p_ℓ the self
//!   weight at which λ = ℓ (p_{1/2}² = ρ/(1 + ρ)); for the gradient level qη/(1 − 1/d) = 1/8,
//!   p_ℓ = 1/√8 at leading order. Both extrapolate to γ_c at 1/log n = 0;
//! * the width between λ = 1/4 and λ = 3/4 is γ_c·w(ρ)/log n with
//!   w(ρ) = logit √(3ρ/(1+3ρ)) − logit √(ρ/(3+ρ)) (slope −1 of log width against log log n).
//!
//! Figures use base-10 logarithms on both axes of the log-log plots (log10 n on x, written 1e{k};
//! log10 of the quantity on y), which leaves slopes unchanged; the fits themselves are done in
//! natural logs, and the data files give both. The fitted line is drawn over the fitted range;
//! the predicted line has the predicted slope and passes through the centroid of the points (the
//! fitted line passes through it too). `plot.rs` has no point markers: each point is drawn as a
//! small "+" made of a polyline.

use crate::ReportError;
use crate::format::{csv_num, md_num, round};
use critscale_theorems::{
    Budget, Measurement, Model, Perturbation, Series, SeriesFit, number_text, series_checks, t1, t3,
};
use rayon::prelude::*;
use std::fmt::Write as _;

mod data;
mod figures;

/// One fitted claim: its series, their fits and the claim's measurement (unperturbed).
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    /// The claim ID.
    pub id: &'static str,
    /// The series, as the claim's check computes them.
    pub series: Vec<Series>,
    /// The fit of each series.
    pub fits: Vec<SeriesFit>,
    /// The claim's measurement: its judge applied to `series` with no perturbation.
    pub measurement: Measurement,
    /// Wall time of computing, fitting and judging the series (timings only).
    pub seconds: f64,
}

impl Fitted {
    /// Whether the claim passes, by the one verdict rule ([`critscale_theorems::Verdict::judge`]).
    pub fn passes(&self) -> bool {
        let m = &self.measurement;
        critscale_theorems::Verdict::judge(m.prediction, m.measured, m.ci, m.tolerance)
            == critscale_theorems::Verdict::Pass
    }
}

/// Everything the section computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// The theorems' budget the series were computed at.
    pub budget: Budget,
    /// The fitted claims, in registry order.
    pub claims: Vec<Fitted>,
}

/// Computes the series of every fitted claim (in parallel, collected in registry order), fits
/// them and judges them. Deterministic: a pure function of `budget`.
pub fn compute(budget: Budget) -> Result<Rates, ReportError> {
    let checks = series_checks();
    let claims = checks
        .par_iter()
        .map(|check| {
            let start = std::time::Instant::now();
            let error = |e: String| ReportError::Internal(format!("{}: {e}", check.id));
            let series = (check.series)(budget).map_err(error)?;
            let fits = series
                .iter()
                .map(Series::fit)
                .collect::<Result<Vec<_>, _>>()
                .map_err(error)?;
            let measurement = (check.judge)(&series, &Perturbation::default()).map_err(error)?;
            Ok(Fitted {
                id: check.id,
                series,
                fits,
                measurement,
                seconds: start.elapsed().as_secs_f64(),
            })
        })
        .collect::<Result<Vec<_>, ReportError>>()?;
    Ok(Rates { budget, claims })
}

/// ρ of every series.
const RHO: f64 = t1::RHO;

fn gamma_c() -> f64 {
    critscale_simplex::gamma_c(&RHO)
}

/// The n → ∞ limit of width·log n in γ units: γ_c·w(ρ).
fn width_limit() -> f64 {
    gamma_c() * crate::phase::asymptotic_shift_and_width(RHO).1
}

/// A number with 10 significant digits, shortest form (as in the data files).
fn short(x: f64) -> String {
    csv_num(x)
}

/// measured − predicted with two significant digits (computed before any rounding).
fn difference(measured: f64, predicted: f64) -> String {
    format!("{:.1e}", round(measured - predicted))
}

/// A CI half-width in the legends: two significant digits.
fn half_width(ci: [f64; 2]) -> String {
    format!("{:.1e}", round((ci[1] - ci[0]) / 2.0))
}

/// The file stem of a claim's figure: `T1.rate.sub` → `rate_t1_sub`, `T1.width` → `rate_t1_width`.
fn stem(id: &str) -> String {
    format!(
        "rate_{}",
        id.to_lowercase().replace(".rate", "").replace('.', "_")
    )
}

/// The sizes of a series in words: `n = 1e20 … 1e300 (41 sizes)`.
fn sizes(series: &Series) -> String {
    let ks = &series.log10_n;
    match (ks.first(), ks.last()) {
        (Some(a), Some(b)) => format!("n = 1e{a} … 1e{b} ({} sizes)", ks.len()),
        _ => "none".to_owned(),
    }
}

impl Rates {
    /// The fitted claims judged on one power-law series (the log-log figures), in order.
    fn rate_claims(&self) -> impl Iterator<Item = &Fitted> {
        self.claims.iter().filter(|c| {
            c.series.len() == 1 && matches!(c.series[0].model, Model::PowerLaw | Model::PowerOfLog)
        })
    }

    /// The threshold series (the λ series of `T1.threshold` and the η series of
    /// `T3.threshold`), with their fits.
    fn threshold_series(&self) -> Vec<(&Series, &SeriesFit)> {
        let mut out = Vec::new();
        for claim in &self.claims {
            for (s, f) in claim.series.iter().zip(&claim.fits) {
                let duplicate = out.iter().any(|(t, _): &(&Series, _)| t.y == s.y);
                if s.model == Model::InverseLog && !duplicate {
                    out.push((s, f));
                }
            }
        }
        out
    }

    /// The `T1.width` series as width·log n against 1/log n, with its limit γ_c·w(ρ).
    fn width_series(&self) -> Option<(&Series, Vec<(f64, f64)>)> {
        let claim = self.claims.iter().find(|c| c.id == t1::WIDTH.id)?;
        let s = claim.series.first()?;
        let points = s
            .log_n
            .iter()
            .zip(&s.y)
            .map(|(&l, &log_w)| (1.0 / l, log_w.exp() * l))
            .collect();
        Some((s, points))
    }

    /// γ/γ_c, κ and −κ of the series of claim `id` as text (`["0.7", "−0.3", "0.3"]`); `?` when
    /// the claim is not fitted at one γ.
    fn setting(&self, id: &str) -> [String; 3] {
        let ratio = self
            .claims
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.series.first())
            .and_then(|s| s.gamma_ratio);
        match ratio {
            Some(r) => [number_text(r), number_text(r - 1.0), number_text(1.0 - r)],
            None => ["?".to_owned(), "?".to_owned(), "?".to_owned()],
        }
    }

    /// The largest n of the series of claim `id`, as `1e{k}`.
    fn largest_n(&self, id: &str) -> String {
        self.claims
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.series.first())
            .and_then(|s| s.log10_n.last())
            .map_or_else(|| "?".to_owned(), |k| format!("1e{k}"))
    }

    /// The Markdown of the section.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(md, "## Rates and thresholds\n");
        let _ = writeln!(
            md,
            "The rate and threshold claims are judged on least-squares fits to series of points, one per size \
             n = 10^k, from the exact simplex closed forms at ρ = {RHO} (q = 1, d = n, α = 0). The figures below \
             plot those very series — computed by the functions the claims' checks call, at the {} budget — with \
             the fits the verdicts were reached on; the fitted numbers are the ones in the claims table. \
             κ = γ(1 − ρ) − 1 = γ/γ_c − 1 and p = A_ii is the self weight.\n",
            self.budget.word()
        );
        let _ = writeln!(
            md,
            "**Rates (log-log).** Axes are base-10 logarithms: x is log10 n (ticks written 1e{{k}}), y is log10 of \
             the quantity; slopes are the same in any base. The fit is ordinary least squares of log Y on log n \
             (natural logs); the red line is the fit, the dashed line has the predicted slope and passes through \
             the centroid of the points. The lines coincide to the eye: the local slope differs from the \
             asymptotic exponent only by the next correction, relatively ≤ n^{{−|κ|}}, and the note in each \
             figure gives fitted − predicted. The predictions (THEORY §5):\n"
        );
        let ([ratio_l, kappa_l, _], [ratio_e, kappa_e, _]) =
            (self.setting(t1::RATE_SUB.id), self.setting(t3::RATE_SUB.id));
        let [ratio_s, _, minus_kappa_s] = self.setting(t1::RATE_SUPER.id);
        let _ = writeln!(
            md,
            "- below γ_c, p ≈ n^κ, so **λ ≈ n^{{2κ}}/ρ** and **η ≈ (1 − 1/d) n^{{2κ}}/q** (slope 2κ; \
             κ = {kappa_l} for λ at γ = {ratio_l}·γ_c, κ = {kappa_e} for η at γ = {ratio_e}·γ_c, where n^{{2κ}} \
             dominates the 1/n terms);"
        );
        let _ = writeln!(
            md,
            "- above γ_c, 1 − p ≈ n^{{−κ}}, so **1 − λ ≈ 2ρ n^{{−κ}}** and **1 − qη/(1 − 1/d) ≈ 2 n^{{−κ}}** \
             (slope −κ = {minus_kappa_s} at γ = {ratio_s}·γ_c);"
        );
        let _ = writeln!(
            md,
            "- at γ_c, **|cos_out − 4ρ/(1 + 3ρ)| ≈ C/n** (slope −1). This deviation and the gradient deficit \
             cancel in f64, so those two series use 512-bit floats up to n = {}; the others use f64 (in the \
             log domain for λ) up to n = {}.\n",
            self.largest_n(t1::RATE_CRIT.id),
            self.largest_n(t1::RATE_SUB.id)
        );
        for claim in self.rate_claims() {
            let (title, formula) = (&claim.series[0].title, &claim.series[0].law);
            let _ = writeln!(
                md,
                "![{}: {title}](figures/{}.svg)\n",
                claim.id,
                stem(claim.id)
            );
            let fit = &claim.fits[0];
            let _ = writeln!(
                md,
                "`{}` — {formula}. Fitted {} ± {} (95%), fitted − predicted = {}, over {}.\n",
                claim.id,
                short(fit.estimate),
                half_width(fit.ci),
                difference(fit.estimate, claim.series[0].predicted),
                sizes(&claim.series[0])
            );
        }
        let _ = writeln!(
            md,
            "**Thresholds against 1/log n.** λ depends on (n, γ) only through κ·log n up to O(1/n) terms, so the γ \
             where it crosses a level ℓ is **γ*(n) = γ_c + b/log n + O(1/n)**, with b = γ_c·logit p_ℓ at leading \
             order and p_ℓ the self weight at which the level is reached (p² = ρ/(1 + ρ) for λ = 1/2; p² = 1/8 \
             for the gradient level qη/(1 − 1/d) = 1/8, since qη/(1 − 1/d) ≈ p²). Plotted against 1/log n the \
             points lie on a straight line whose intercept at 1/log n = 0 is the n → ∞ threshold; the claims fit \
             a + b/log n by least squares and compare a with γ_c = 1/(1 − ρ) = {} (`T1.threshold`, \
             `T3.threshold`) and b with γ_c·logit p_ℓ (`T1.threshold.slope`, `T3.threshold.slope`; exact up \
             to the O((log n)²/n) terms, which is why the fits start at n = 1e16). The thin grey lines are \
             the predictions γ_c + γ_c·logit(p_ℓ)/log n.\n",
            md_num(gamma_c())
        );
        let _ = writeln!(md, "![gamma*(n) against 1/log n](figures/gamma_star.svg)\n");
        for (s, f) in self.threshold_series() {
            let b0 = s.leading_slope.map_or_else(|| "–".to_owned(), md_num);
            let _ = writeln!(
                md,
                "- {}: a = {} ± {} (95%), a − γ_c = {}, b = {} (predicted {}), {}.",
                s.quantity,
                short(f.intercept),
                half_width(f.ci),
                difference(f.intercept, s.predicted),
                md_num(f.slope),
                b0,
                sizes(s)
            );
        }
        let _ = writeln!(md);
        if let Some((s, points)) = self.width_series() {
            let last = points.first().map_or(f64::NAN, |p| p.1);
            let _ = writeln!(
                md,
                "**Width.** Between λ = 1/4 and λ = 3/4 the transition has width γ_c·w(ρ)/log n + O(1/n) with \
                 w(ρ) = logit √(3ρ/(1+3ρ)) − logit √(ρ/(3+ρ)), so width·log n is flat at γ_c·w(ρ) = {} \
                 (at n = 1e{}: {}), and `T1.width` fits the exponent of log n in the width (log width against \
                 log log n, figure `{}.svg`).\n",
                md_num(width_limit()),
                s.log10_n.first().copied().unwrap_or(0),
                md_num(last),
                stem(t1::WIDTH.id)
            );
            let _ = writeln!(
                md,
                "![width times log n against 1/log n](figures/gamma_star_width.svg)\n"
            );
        }
        let _ = writeln!(
            md,
            "| claim | quantity | predicted | fitted | ± (95%) | fitted − predicted | tolerance | sizes | verdict |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
        for claim in &self.claims {
            let m = &claim.measurement;
            let s = &claim.series[0];
            let quantity = match s.model {
                Model::InverseLog => format!("n → ∞ limit a of {}", s.quantity),
                _ => format!("exponent of {}", s.quantity),
            };
            let _ = writeln!(
                md,
                "| `{}` | {} | {} | {} | {} | {} | {:.0e} | {} | {} |",
                claim.id,
                quantity.replace('|', "\\|"),
                short(m.prediction),
                short(m.measured),
                half_width(m.ci),
                difference(m.measured, m.prediction),
                m.tolerance,
                claim.series.first().map_or_else(|| "–".to_owned(), sizes),
                if claim.passes() { "pass" } else { "**fail**" }
            );
        }
        let _ = writeln!(
            md,
            "\nThe verdict is the claims' rule: pass when the prediction lies in the interval widened by the \
             tolerance. Data: every point in [`rates.csv`](data/rates.csv) ([JSON](data/rates.json)), every fit \
             in [`rates_fits.csv`](data/rates_fits.csv) ([JSON](data/rates_fits.json)).\n"
        );
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::{Line, LinePlot};
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use critscale_theorems::{Evidence, registry};

    fn quick() -> Rates {
        compute(Budget::Quick).unwrap()
    }

    #[test]
    fn two_computes_give_the_same_bytes() {
        let a = quick().artifacts().unwrap();
        let b = quick().artifacts().unwrap();
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.path, y.path);
            assert!(x.bytes == y.bytes, "{} differs", x.path);
        }
        assert_eq!(quick().markdown(), quick().markdown());
    }

    #[test]
    fn the_section_shows_the_claims_numbers() {
        let rates = quick();
        let registry = registry();
        assert_eq!(rates.claims.len(), series_checks().len());
        for fitted in &rates.claims {
            let claim = registry.iter().find(|c| c.id == fitted.id).unwrap();
            let evidence = claim.run(Budget::Quick, &Perturbation::default()).unwrap();
            assert_eq!(
                evidence.measured, fitted.measurement.measured,
                "{}",
                fitted.id
            );
            assert_eq!(evidence.ci, fitted.measurement.ci, "{}", fitted.id);
            assert_eq!(evidence.prediction, fitted.measurement.prediction);
            assert_eq!(
                evidence.verdict == critscale_theorems::Verdict::Pass,
                fitted.passes()
            );
            if fitted.series.len() == 1 {
                assert_eq!(fitted.fits[0].estimate, evidence.measured);
            }
        }
        // And the Markdown table carries them.
        let md = rates.markdown();
        for fitted in &rates.claims {
            let row = md
                .lines()
                .find(|l| l.starts_with(&format!("| `{}` |", fitted.id)))
                .unwrap_or_else(|| panic!("no row for {}", fitted.id));
            assert!(row.contains(&short(fitted.measurement.measured)), "{row}");
        }
    }

    /// The claims section judges the fitted claims on the series computed here: the same rows
    /// (times aside) as running their checks.
    #[test]
    fn claims_judged_on_these_series_match_their_checks() {
        let rates = quick();
        let fitted: Vec<_> = registry()
            .into_iter()
            .filter(|c| rates.claims.iter().any(|f| f.id == c.id))
            .collect();
        let budget = crate::Budget::Quick;
        let strip = |rows: Vec<crate::claims::Row>| {
            rows.into_iter()
                // The wall times differ between the two runs.
                .map(|r| (r.id, r.outcome.map(|e| Evidence { seconds: 0.0, ..e })))
                .collect::<Vec<_>>()
        };
        let reused = strip(crate::claims::compute_with(
            &fitted,
            budget,
            &rates.claims,
            &|| {},
        ));
        let run = strip(crate::claims::compute(&fitted, budget, &|| {}));
        assert_eq!(reused.len(), series_checks().len());
        assert_eq!(reused, run);
    }

    #[test]
    fn figures_are_small_svgs_with_their_data() {
        let files = quick().artifacts().unwrap();
        let paths: Vec<&str> = files.iter().map(|a| a.path.as_str()).collect();
        for path in [
            "data/rates.csv",
            "data/rates.json",
            "data/rates_fits.csv",
            "data/rates_fits.json",
            "figures/gamma_star.svg",
            "figures/gamma_star_width.svg",
            "figures/rate_t1_sub.svg",
            "figures/rate_t1_super.svg",
            "figures/rate_t1_crit.svg",
            "figures/rate_t1_width.svg",
            "figures/rate_t3_sub.svg",
            "figures/rate_t3_super.svg",
        ] {
            assert!(paths.contains(&path), "{path} missing");
        }
        for file in &files {
            if file.path.ends_with(".svg") {
                assert!(file.bytes.starts_with(b"<svg"), "{}", file.path);
                assert!(file.bytes.len() < 600_000, "{}", file.path);
            }
            if file.path.ends_with(".json") {
                serde_json::from_slice::<serde_json::Value>(&file.bytes).unwrap();
            }
        }
        // Every figure linked from the section exists.
        let md = quick().markdown();
        for piece in md.split("](").skip(1) {
            let target = &piece[..piece.find(')').unwrap()];
            assert!(paths.contains(&target), "broken link {target}");
        }
        // One CSV row per (claim, series, n).
        let rows = String::from_utf8(files[0].bytes.clone())
            .unwrap()
            .lines()
            .count()
            - 1;
        let points: usize = quick()
            .claims
            .iter()
            .flat_map(|c| c.series.iter().map(|s| s.y.len()))
            .sum();
        assert_eq!(rows, points);
    }

    /// The slope of the drawn lines (in plot coordinates) against the claim's prediction: the
    /// fitted line must agree with the prediction to the claim's CI and tolerance, the predicted
    /// line must have the predicted slope. A shifted prediction must fail the same test.
    #[test]
    fn plotted_slopes_agree_with_the_predictions() {
        let rates = quick();
        let slope_of = |plot: &LinePlot, prefix: &str| {
            let line = plot
                .lines
                .iter()
                .find(|l| l.label.starts_with(prefix))
                .unwrap();
            let (a, b) = (line.points[0], line.points[line.points.len() - 1]);
            (b.1 - a.1) / (b.0 - a.0)
        };
        let mut checked = 0;
        for claim in rates.rate_claims() {
            let plot = rates.rate_plot(claim);
            let s = &claim.series[0];
            let fit = &claim.fits[0];
            let fitted = slope_of(&plot, "fitted slope");
            let predicted = slope_of(&plot, "predicted slope");
            let allowed = (fit.ci[1] - fit.ci[0]) / 2.0 + s.tolerance;
            let agrees = |p: f64| abs_diff_eq!(fitted, p, epsilon = allowed + 1e-9);
            assert!(
                agrees(s.predicted),
                "{}: {fitted} vs {}",
                claim.id,
                s.predicted
            );
            assert!(!agrees(s.predicted + 0.01), "{}", claim.id);
            assert_abs_diff_eq!(predicted, s.predicted, epsilon = 1e-9);
            checked += 1;
        }
        assert_eq!(checked, 6);
        // The threshold fits reach γ_c at 1/log n = 0.
        let plot = rates.gamma_star_plot();
        let fits: Vec<&Line> = plot
            .lines
            .iter()
            .filter(|l| l.label.starts_with("fit a + b/log n"))
            .collect();
        assert_eq!(fits.len(), 2);
        for line in fits {
            assert_eq!(line.points[0].0, 0.0);
            assert_abs_diff_eq!(line.points[0].1, gamma_c(), epsilon = 1e-6);
        }
    }

    #[test]
    fn threshold_slopes_and_width_match_the_leading_order() {
        let rates = quick();
        for (s, f) in rates.threshold_series() {
            let b0 = s.leading_slope.unwrap();
            assert!(
                abs_diff_eq!(f.slope, b0, epsilon = 1e-3 * b0.abs()),
                "{}: {} vs {b0}",
                s.quantity,
                f.slope
            );
        }
        let (_, points) = rates.width_series().unwrap();
        for (_, w) in points {
            assert_abs_diff_eq!(w, width_limit(), epsilon = 1e-6);
        }
    }

    /// `cargo test --release -p critscale-report rates::tests::full_budget -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn full_budget() {
        let start = std::time::Instant::now();
        let rates = compute(Budget::Full).unwrap();
        let computed = start.elapsed().as_secs_f64();
        let files = rates.artifacts().unwrap();
        let _ = rates.markdown();
        eprintln!(
            "compute(Full): {computed:.2} s; with artifacts and markdown: {:.2} s; {} files, threads {}",
            start.elapsed().as_secs_f64(),
            files.len(),
            rayon::current_num_threads()
        );
        assert!(rates.claims.iter().all(Fitted::passes));
    }
}
