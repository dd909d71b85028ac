//! The claims of the paper as checks that return evidence.
//!
//! Every claim of THEORY §4–§5 has a stable ID (e.g. `T1.limit.sub`), a statement, a prediction
//! written once here, and a check: a function that runs at a [`Budget`] and returns [`Evidence`]
//! — prediction, measurement, confidence interval, tolerance and verdict. The verdict is
//! **pass** when the prediction lies in the measurement's interval widened by the tolerance:
//! `ci.0 − tolerance ≤ prediction ≤ ci.1 + tolerance`. Tolerances are documented where each check
//! is defined (finite-n corrections predicted by THEORY §5, rounding).
//!
//! A check must be able to fail, and fail where the theorem is false. Every claim carries
//! **negative controls** ([`Control`]): the same check run in a setting where the theorem's
//! conclusion is false (the other side of γ_c, a scaling without log n, a dimension or a
//! configuration with no simplex limit, a prediction without the term the theorem is about).
//! The check must reject each of them: a claim passes only when its own check passes *and*
//! every control fails ([`Evidence::verdict_from_numbers`]). Every check also accepts a
//! [`Perturbation`] of its prediction (γ_c shifted, an exponent or a limit off), which shows
//! that it is wired to its prediction, and the tests show that each fails under one.
//!
//! Modules: [`t1`] (forward pass on the simplex), [`t2`] (forward pass on an almost-simplex),
//! [`t3`] (gradient on the simplex), [`t4`] (gradient on an almost-simplex), [`t5`] (the
//! intermediate phase), [`t6`] (repeated tokens, beyond the paper: THEORY §10).
//!
//! **Fitted claims.** The rate and threshold claims of T1 and T3 are judged on a fit to a series
//! of points, one per size n = 10^k. Their checks are split in two halves, a [`SeriesCheck`]:
//! `series` computes the points ([`Series`]: log n and the fit's ordinate, e.g. log λ or γ*(n),
//! with the unperturbed prediction), and `judge` fits them and builds the [`Measurement`],
//! applying the [`Perturbation`] to the prediction only. The registered check is exactly
//! `judge(series(budget), perturbation)`, so a report that plots [`series`] and its
//! [`Series::fit`] shows the data and the fit the verdict was reached on. The three fit models
//! ([`Model`]) are, with x and y the coordinates of the fit:
//!
//! * power law in n: y = log Y against x = log n, y = c + e·x; the measurement is the slope e;
//! * power law in log n: y = log Y against x = log log n; the measurement is the slope e;
//! * inverse log: y = γ*(n) against x = 1/log n, y = a + b·x; the measurement is the
//!   intercept a, the n → ∞ limit.

#![warn(missing_docs)]

/// A [`Claim`] from its ID, statement, [`Prediction`] kind, check and an array of its
/// [`Control`]s; the theorem is the ID's
/// first component (`T1.rate.sub` → `T1`). Defined before the theorem modules so that each of
/// them can use it.
macro_rules! claim {
    ($id:expr, $statement:expr, $kind:ident, $check:expr, $controls:expr) => {
        $crate::Claim {
            id: $id,
            theorem: $crate::theorem_of($id),
            statement: $statement,
            prediction: $crate::Prediction::$kind,
            check: $check,
            controls: $controls.to_vec(),
        }
    };
}

/// The negative controls of a limit claim of T1 or T3 made at γ/γ_c = `$claim`: its check,
/// `$body` with the claim's prediction and tolerance (`$w` a `t1::Where`), evaluated at each
/// γ/γ_c `$at` on another side of γ_c — 5% off γ_c where that side is a strict inequality
/// (n^{±0.05} at n = 1e300 is already 1e-15).
macro_rules! limit_controls {
    ($claim:expr, |$w:ident| $body:expr, $($at:literal => $words:literal),+) => {
        [$(
            $crate::control($words, |_| {
                let $w = $crate::t1::Where::control($claim, $at);
                $body
            })
        ),+]
    };
}

pub mod t1;
pub mod t2;
pub mod t3;
pub mod t4;
pub mod t5;
pub mod t6;

use critscale_asymptotics::fit_inverse_log;
use critscale_asymptotics::powerlaw::fit_log_ols_logs;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Confidence level of every fitted interval in the claims (t-intervals of least-squares fits).
pub const CONFIDENCE_LEVEL: f64 = 0.95;

/// Allowance of a one-sided claim (T2, T4: its violation is exactly 0 when it holds):
/// rounding only.
pub const ONE_SIDED_TOL: f64 = 1e-9;

/// A parameter for display: at most 10 significant digits in shortest form, with a Unicode minus
/// (`0.7 − 1` → `−0.3`, not `-0.30000000000000004`).
pub fn number_text(x: f64) -> String {
    let rounded: f64 = format!("{x:.9e}").parse().unwrap_or(x);
    format!("{}", rounded + 0.0).replace('-', "−")
}

/// A level in (0, 1) as a fraction with the smallest denominator up to 64 (`0.125` → `1/8`),
/// or as [`number_text`] when there is none.
pub fn fraction_text(x: f64) -> String {
    (1..=64u32)
        .find_map(|k| {
            let top = x * f64::from(k);
            (top == top.round()).then(|| match k {
                1 => format!("{}", top as i64),
                _ => format!("{}/{k}", top as i64),
            })
        })
        .unwrap_or_else(|| number_text(x))
}

/// The theorem a claim ID belongs to: its first dot-separated component (`T1.rate.sub` → `T1`).
pub fn theorem_of(id: &'static str) -> &'static str {
    id.split('.').next().unwrap_or(id)
}

/// How much work a check (and the report built on the checks) may do: the one budget of the
/// workspace. `critscale check` runs at `quick` unless told otherwise (seconds, the test
/// suite's budget), `critscale report` at `full` (the committed reference report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Seconds in all: what `cargo test` runs.
    Quick,
    /// The report's budget: more sizes, larger n, more points in each fit.
    Full,
}

impl Budget {
    /// Both budgets, in the order the command line lists them.
    pub const ALL: [Budget; 2] = [Budget::Quick, Budget::Full];

    /// `quick` or `full`: the word the command line, the data files and the shards use.
    pub fn word(self) -> &'static str {
        match self {
            Budget::Quick => "quick",
            Budget::Full => "full",
        }
    }
}

/// A budget name that is neither `quick` nor `full`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected 'quick' or 'full'")]
pub struct UnknownBudget;

impl std::str::FromStr for Budget {
    type Err = UnknownBudget;

    /// Reads [`Budget::word`] back, exactly.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Budget::ALL
            .into_iter()
            .find(|b| b.word() == text)
            .ok_or(UnknownBudget)
    }
}

/// A deliberate error in a check's prediction, to show that the check can fail.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Perturbation {
    /// Added to γ_c wherever the check predicts a threshold.
    pub gamma_c: f64,
    /// Added to every predicted exponent.
    pub exponent: f64,
    /// Added to every predicted limit or constant.
    pub limit: f64,
}

/// Which kind of prediction a claim makes (and so which [`Perturbation`] field moves it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prediction {
    /// A limit or a constant.
    Limit,
    /// An exponent of n or of log n.
    Exponent,
    /// A threshold (γ_c).
    Threshold,
}

/// Pass or fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The prediction lies in the widened interval.
    Pass,
    /// It does not.
    Fail,
}

impl Verdict {
    /// The verdict rule: pass when the measurement and its interval are finite and the
    /// prediction lies in the interval widened by the tolerance on both sides,
    /// `ci[0] − tolerance ≤ prediction ≤ ci[1] + tolerance`. Used by [`Claim::run`], and by the
    /// report's merge to judge stored evidence again instead of trusting a stored verdict.
    pub fn judge(prediction: f64, measured: f64, ci: [f64; 2], tolerance: f64) -> Verdict {
        let inside = ci[0] - tolerance <= prediction && prediction <= ci[1] + tolerance;
        let finite = measured.is_finite() && ci.iter().all(|x| x.is_finite());
        if inside && finite {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }
}

/// A negative control of a claim: its check run in a setting where the theorem's conclusion is
/// false. The measurement keeps the claim's own prediction and tolerance (a prediction that is a
/// formula of the parameters, such as a rate 2κ, is evaluated at the control's κ; an allowance
/// derived for the claim's regime stays the claim's), so a control that *passes* shows the check
/// cannot see the phenomenon.
#[derive(Debug, Clone, Copy)]
pub struct Control {
    /// The setting in words, e.g. `gamma = 1.3 gamma_c (above the threshold)`.
    pub setting: &'static str,
    /// The check in that setting (no perturbation: the prediction is the claim's own).
    pub check: fn(Budget) -> Result<Measurement, String>,
}

/// A [`Control`] from its setting and check (for the claim tables of the theorem modules).
pub const fn control(
    setting: &'static str,
    check: fn(Budget) -> Result<Measurement, String>,
) -> Control {
    Control { setting, check }
}

/// What a negative control found: its measurement judged by [`Verdict::judge`]. The control is
/// *rejected* (as it must be) when its verdict is [`Verdict::Fail`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlEvidence {
    /// The setting in words.
    pub setting: String,
    /// The claim's prediction, at the control's parameters.
    #[serde(with = "critscale_sweeps::exact")]
    pub prediction: f64,
    /// The value measured in the control's setting.
    #[serde(with = "critscale_sweeps::exact")]
    pub measured: f64,
    /// Its confidence interval (or enclosure).
    #[serde(with = "critscale_sweeps::exact::pair")]
    pub ci: [f64; 2],
    /// The claim's allowance, at the control's parameters.
    #[serde(with = "critscale_sweeps::exact")]
    pub tolerance: f64,
    /// [`Verdict::Fail`] when the check rejected the control (the expected outcome).
    pub verdict: Verdict,
    /// How it was measured.
    pub method: String,
}

impl ControlEvidence {
    /// The control's setting and measurement, judged.
    pub fn judged(setting: &str, m: Measurement) -> ControlEvidence {
        ControlEvidence {
            setting: setting.to_owned(),
            prediction: m.prediction,
            measured: m.measured,
            ci: m.ci,
            tolerance: m.tolerance,
            verdict: Verdict::judge(m.prediction, m.measured, m.ci, m.tolerance),
            method: m.method,
        }
    }

    /// True when the check rejected the control: [`Verdict::judge`] on its numbers fails.
    pub fn rejected(&self) -> bool {
        Verdict::judge(self.prediction, self.measured, self.ci, self.tolerance) == Verdict::Fail
    }
}

/// What a check found. Serialised with every number exact (`critscale_sweeps::exact`: a shard
/// file stores it, and ±∞ survives as a word where plain JSON would write `null`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The claim ID.
    pub id: String,
    /// The claim in words.
    pub statement: String,
    /// The predicted value.
    #[serde(with = "critscale_sweeps::exact")]
    pub prediction: f64,
    /// The measured value.
    #[serde(with = "critscale_sweeps::exact")]
    pub measured: f64,
    /// Confidence interval (or enclosure) of the measurement.
    #[serde(with = "critscale_sweeps::exact::pair")]
    pub ci: [f64; 2],
    /// Allowance for finite-n corrections and rounding, added on both sides of the interval.
    #[serde(with = "critscale_sweeps::exact")]
    pub tolerance: f64,
    /// The claim's verdict: pass when its own measurement passes and every control is
    /// rejected ([`Evidence::verdict_from_numbers`]).
    pub verdict: Verdict,
    /// The negative controls, each judged (see [`Control`]); each must have verdict fail.
    pub controls: Vec<ControlEvidence>,
    /// Wall time of the check and its controls.
    #[serde(with = "critscale_sweeps::exact")]
    pub seconds: f64,
    /// How the measurement was made (sizes, backend, fit).
    pub method: String,
}

impl Evidence {
    /// The verdict the numbers give, whatever [`Evidence::verdict`] says: [`Verdict::judge`] on
    /// the claim's own measurement passes, there is at least one control, and every control is
    /// [`ControlEvidence::rejected`]. The report's merge judges stored evidence by this rule
    /// instead of trusting a stored verdict.
    pub fn verdict_from_numbers(&self) -> Verdict {
        let own = Verdict::judge(self.prediction, self.measured, self.ci, self.tolerance);
        let controls =
            !self.controls.is_empty() && self.controls.iter().all(ControlEvidence::rejected);
        if own == Verdict::Pass && controls {
            Verdict::Pass
        } else {
            Verdict::Fail
        }
    }

    /// The number of controls that were not rejected (each makes the claim fail).
    pub fn controls_passed(&self) -> usize {
        self.controls.iter().filter(|c| !c.rejected()).count()
    }

    /// `k/m rejected`: how many of the claim's m controls its check rejected (the tables of
    /// `check` and the report).
    pub fn controls_text(&self) -> String {
        let m = self.controls.len();
        format!("{}/{m} rejected", m - self.controls_passed())
    }
}

/// Why a check could not produce evidence (a fit failed, a crossing was not found).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{id}: {reason}")]
pub struct CheckError {
    /// The claim ID.
    pub id: String,
    /// What went wrong.
    pub reason: String,
}

/// A claim, its check and its negative controls.
#[derive(Debug, Clone)]
pub struct Claim {
    /// Stable ID, cited in proofs/.
    pub id: &'static str,
    /// The theorem it belongs to (`T1` … `T6`).
    pub theorem: &'static str,
    /// The claim in words.
    pub statement: &'static str,
    /// What kind of prediction it makes.
    pub prediction: Prediction,
    /// The check.
    pub check: fn(Budget, &Perturbation) -> Result<Measurement, String>,
    /// Its negative controls (at least one per claim).
    pub controls: Vec<Control>,
}

/// A measurement, before it is judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The prediction (already perturbed).
    pub prediction: f64,
    /// The measured value.
    pub measured: f64,
    /// Its confidence interval.
    pub ci: [f64; 2],
    /// The allowance.
    pub tolerance: f64,
    /// How it was measured.
    pub method: String,
}

impl Claim {
    /// Runs the check and judges it.
    ///
    /// # Errors
    ///
    /// [`CheckError`] (with this claim's ID) when the check cannot produce a measurement: a series
    /// could not be computed or fitted.
    pub fn run(&self, budget: Budget, perturbation: &Perturbation) -> Result<Evidence, CheckError> {
        let start = Instant::now();
        let m = (self.check)(budget, perturbation).map_err(|reason| CheckError {
            id: self.id.to_owned(),
            reason,
        })?;
        self.evidence(m, budget, start.elapsed().as_secs_f64())
    }

    /// Runs the negative controls at `budget`, each judged.
    ///
    /// # Errors
    ///
    /// [`CheckError`] (with this claim's ID and the control's setting) when a control's check
    /// cannot produce a measurement.
    pub fn run_controls(&self, budget: Budget) -> Result<Vec<ControlEvidence>, CheckError> {
        self.controls
            .iter()
            .map(|c| {
                (c.check)(budget)
                    .map(|m| ControlEvidence::judged(c.setting, m))
                    .map_err(|reason| CheckError {
                        id: self.id.to_owned(),
                        reason: format!("control ({}): {reason}", c.setting),
                    })
            })
            .collect()
    }

    /// Judges a measurement of this claim and runs its controls: the measurement its check
    /// returns, or for a fitted claim its [`SeriesCheck::judge`] applied to series already
    /// computed (so that a caller that also plots the series computes them once). `seconds` is
    /// the wall time the measurement took; the evidence's seconds add the controls' time.
    ///
    /// # Errors
    ///
    /// As [`Claim::run_controls`].
    pub fn evidence(
        &self,
        m: Measurement,
        budget: Budget,
        seconds: f64,
    ) -> Result<Evidence, CheckError> {
        let start = Instant::now();
        let controls = self.run_controls(budget)?;
        let mut e = Evidence {
            id: self.id.to_owned(),
            statement: self.statement.to_owned(),
            prediction: m.prediction,
            measured: m.measured,
            ci: m.ci,
            tolerance: m.tolerance,
            verdict: Verdict::Fail,
            controls,
            seconds: 0.0,
            method: m.method,
        };
        e.verdict = e.verdict_from_numbers();
        e.seconds = seconds + start.elapsed().as_secs_f64();
        Ok(e)
    }

    /// A perturbation that moves this claim's prediction by `size` in its own kind.
    pub fn perturbation(&self, size: f64) -> Perturbation {
        match self.prediction {
            Prediction::Limit => Perturbation {
                limit: size,
                ..Perturbation::default()
            },
            Prediction::Exponent => Perturbation {
                exponent: size,
                ..Perturbation::default()
            },
            Prediction::Threshold => Perturbation {
                gamma_c: size,
                ..Perturbation::default()
            },
        }
    }
}

/// Every claim with a check, in a stable order.
pub fn registry() -> Vec<Claim> {
    let mut claims = t1::claims();
    claims.extend(t2::claims());
    claims.extend(t3::claims());
    claims.extend(t4::claims());
    claims.extend(t5::claims());
    claims.extend(t6::claims());
    claims
}

/// A `--claim` filter that matches no claim of the registry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no claim is {wanted} or starts with {wanted}.; known claims: {known}")]
pub struct UnknownClaim {
    /// The filter as given.
    pub wanted: String,
    /// The registry's IDs, comma-separated.
    pub known: String,
}

/// The claims of [`registry`] whose ID equals one of `filter` or starts with it followed by a
/// dot (`T1` selects `T1.limit.sub`, `T1.rate` selects `T1.rate.sub`, but `T1.r` selects
/// nothing), in registry order, each once; the whole registry when `filter` is empty. This is
/// the one selection `critscale check --claim` and `critscale report --claim` share.
///
/// # Errors
///
/// [`UnknownClaim`] for the first filter that matches no claim.
pub fn select(filter: &[String]) -> Result<Vec<Claim>, UnknownClaim> {
    let all = registry();
    let matches = |id: &str, wanted: &str| {
        id == wanted
            || id
                .strip_prefix(wanted)
                .is_some_and(|rest| rest.starts_with('.'))
    };
    if let Some(wanted) = filter
        .iter()
        .find(|wanted| !all.iter().any(|c| matches(c.id, wanted)))
    {
        let known: Vec<&str> = all.iter().map(|c| c.id).collect();
        return Err(UnknownClaim {
            wanted: wanted.clone(),
            known: known.join(", "),
        });
    }
    if filter.is_empty() {
        return Ok(all);
    }
    Ok(all
        .into_iter()
        .filter(|c| filter.iter().any(|w| matches(c.id, w)))
        .collect())
}

/// How a [`Series`] is fitted (see the crate docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Model {
    /// Y ≈ C·n^e: least squares of y = log Y on x = log n; measures the slope e.
    PowerLaw,
    /// Y ≈ k·(log n)^e: least squares of y = log Y on x = log log n; measures the slope e.
    PowerOfLog,
    /// Y ≈ a + b/log n: least squares of y = Y on x = 1/log n; measures the intercept a.
    InverseLog,
}

impl Model {
    /// The kind of prediction the model's measurement makes.
    pub fn prediction(self) -> Prediction {
        match self {
            Model::PowerLaw | Model::PowerOfLog => Prediction::Exponent,
            Model::InverseLog => Prediction::Threshold,
        }
    }

    /// The abscissa of the fit at `log n`: log n, log log n or 1/log n.
    pub fn abscissa(self, log_n: f64) -> f64 {
        match self {
            Model::PowerLaw => log_n,
            Model::PowerOfLog => log_n.ln(),
            Model::InverseLog => 1.0 / log_n,
        }
    }
}

/// The points a fitted claim is judged on: one per size n = 10^k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// The claim ID.
    pub id: &'static str,
    /// The quantity Y in words (`lambda`, `1 - lambda`, `gamma* (lambda = 1/2)`, …).
    pub quantity: String,
    /// The fit model.
    pub model: Model,
    /// The fit's abscissa in words (`log n`, `log log n`, `1/log n`; natural logs).
    pub x_label: String,
    /// The fit's ordinate in words (`log lambda`, `gamma*`, …; natural logs).
    pub y_label: String,
    /// A title for a figure of the series (Unicode): the quantity, where it is taken and at
    /// what parameters, e.g. `λ below γ_c (γ = 0.7 γ_c, κ = −0.3)`. Written from the values the
    /// series is computed at, so it cannot disagree with them.
    pub title: String,
    /// The prediction in words with its number (Unicode, THEORY §5), e.g.
    /// `λ ≈ n^{2κ}/ρ: slope 2κ = −0.6`.
    pub law: String,
    /// γ/γ_c of every point; `None` when γ is what the series measures (thresholds, widths).
    pub gamma_ratio: Option<f64>,
    /// For a threshold series ([`Model::InverseLog`]): the leading-order slope b₀ = γ_c·logit p_ℓ
    /// of γ*(n) = γ_c + b/log n, p_ℓ the self weight at which the level is reached (THEORY §5);
    /// `None` for the other models.
    pub leading_slope: Option<f64>,
    /// k with n = 10^k, per point.
    pub log10_n: Vec<u32>,
    /// log n (natural), per point.
    pub log_n: Vec<f64>,
    /// The fit's ordinate per point: log Y for the power laws, Y itself for [`Model::InverseLog`].
    pub y: Vec<f64>,
    /// The predicted exponent (power laws) or limit (inverse log), unperturbed.
    pub predicted: f64,
    /// The claim's allowance (see [`Evidence::tolerance`]).
    pub tolerance: f64,
    /// How the points were computed and fitted.
    pub method: String,
}

/// A least-squares line y = intercept + slope·x through a [`Series`] (x, y the fit coordinates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeriesFit {
    /// The measurement: the slope (power laws) or the intercept (inverse log).
    pub estimate: f64,
    /// Its confidence interval at [`CONFIDENCE_LEVEL`].
    pub ci: [f64; 2],
    /// Slope of the fitted line.
    pub slope: f64,
    /// Intercept of the fitted line (its value at x = 0).
    pub intercept: f64,
    /// The mean (x̄, ȳ) of the points; the fitted line passes through it.
    pub centroid: [f64; 2],
    /// Standard deviation of the residuals, in units of y.
    pub residual_sd: f64,
}

impl SeriesFit {
    /// The fitted line at `x`.
    pub fn at(&self, x: f64) -> f64 {
        self.intercept + self.slope * x
    }
}

impl Series {
    /// The fit's abscissa per point (see [`Model::abscissa`]).
    pub fn x(&self) -> Vec<f64> {
        self.log_n.iter().map(|&l| self.model.abscissa(l)).collect()
    }

    /// The prediction moved by the perturbation of its kind.
    pub fn prediction(&self, p: &Perturbation) -> f64 {
        match self.model.prediction() {
            Prediction::Exponent => self.predicted + p.exponent,
            Prediction::Threshold => self.predicted + p.gamma_c,
            Prediction::Limit => self.predicted + p.limit,
        }
    }

    /// Fits the model (the fit the claim's verdict uses).
    ///
    /// # Errors
    ///
    /// When the least-squares fit fails: fewer than 3 points, non-finite values, or all abscissae
    /// equal.
    pub fn fit(&self) -> Result<SeriesFit, String> {
        let x = self.x();
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let centroid = [mean(&x), mean(&self.y)];
        match self.model {
            Model::PowerLaw | Model::PowerOfLog => {
                let fit = fit_log_ols_logs(&x, &self.y, None, CONFIDENCE_LEVEL)
                    .map_err(|e| e.to_string())?;
                Ok(SeriesFit {
                    estimate: fit.alpha,
                    ci: [fit.alpha_ci.0, fit.alpha_ci.1],
                    slope: fit.alpha,
                    intercept: fit.log_c,
                    centroid,
                    residual_sd: fit.residual_sd,
                })
            }
            Model::InverseLog => {
                let fit = fit_inverse_log(&self.log_n, &self.y, None, CONFIDENCE_LEVEL)
                    .map_err(|e| e.to_string())?;
                Ok(SeriesFit {
                    estimate: fit.a,
                    ci: [fit.a_ci.0, fit.a_ci.1],
                    slope: fit.b,
                    intercept: fit.a,
                    centroid,
                    residual_sd: fit.residual_sd,
                })
            }
        }
    }

    /// Fits the series and returns the measurement of a claim judged on it alone.
    ///
    /// # Errors
    ///
    /// When the fit fails ([`Series::fit`]).
    pub fn measurement(&self, p: &Perturbation) -> Result<Measurement, String> {
        let fit = self.fit()?;
        let method = match self.model {
            Model::InverseLog => format!("{}; b = {:.6}", self.method, fit.slope),
            _ => self.method.clone(),
        };
        Ok(Measurement {
            prediction: self.prediction(p),
            measured: fit.estimate,
            ci: fit.ci,
            tolerance: self.tolerance,
            method,
        })
    }
}

/// A claim checked by fitting series: `judge(series(budget), perturbation)` is its check.
#[derive(Clone, Copy)]
pub struct SeriesCheck {
    /// The claim ID (as in [`registry`]).
    pub id: &'static str,
    /// Computes the points (no perturbation: the data do not depend on the prediction).
    pub series: fn(Budget) -> Result<Vec<Series>, String>,
    /// Fits them and judges the (perturbed) prediction.
    pub judge: fn(&[Series], &Perturbation) -> Result<Measurement, String>,
}

impl SeriesCheck {
    /// The claim's check: the series at `budget`, judged.
    ///
    /// # Errors
    ///
    /// When the series cannot be computed or the judge's fit fails.
    pub fn measure(&self, budget: Budget, p: &Perturbation) -> Result<Measurement, String> {
        (self.judge)(&(self.series)(budget)?, p)
    }
}

/// The judge of a claim made on one series: [`Series::measurement`].
///
/// # Errors
///
/// When `series` does not hold exactly one series, or its fit fails ([`Series::fit`]).
pub fn judge_single(series: &[Series], p: &Perturbation) -> Result<Measurement, String> {
    match series {
        [one] => one.measurement(p),
        _ => Err(format!("expected one series, got {}", series.len())),
    }
}

/// Every claim checked by fitting series, in registry order.
pub fn series_checks() -> Vec<SeriesCheck> {
    let mut checks = t1::series_checks();
    checks.extend(t3::series_checks());
    checks
}

/// The series behind claim `id` at `budget`; `None` when the claim is not a fitted one.
///
/// # Errors
///
/// Inside the `Some`: when the series cannot be computed (see the claim's series function).
pub fn series(id: &str, budget: Budget) -> Option<Result<Vec<Series>, String>> {
    series_checks()
        .into_iter()
        .find(|c| c.id == id)
        .map(|c| (c.series)(budget))
}

/// Extracts the claim IDs cited in a Markdown text: backticked words of the form `T<digit>.…`.
pub fn cited_ids(markdown: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for piece in markdown.split('`').skip(1).step_by(2) {
        let looks_like_id = piece.len() > 3
            && piece.starts_with('T')
            && piece[1..2].chars().all(|c| c.is_ascii_digit())
            && piece[2..3] == *"."
            && piece
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_');
        if looks_like_id && !ids.iter().any(|id| id == piece) {
            ids.push(piece.to_owned());
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;

    #[test]
    fn budgets_read_back_their_words() {
        for budget in Budget::ALL {
            assert_eq!(budget.word().parse::<Budget>(), Ok(budget));
            assert_eq!(
                serde_json::to_value(budget).unwrap(),
                serde_json::json!(budget.word())
            );
        }
        assert_eq!(" full".parse::<Budget>(), Err(UnknownBudget));
        assert_eq!("Full".parse::<Budget>(), Err(UnknownBudget));
    }

    #[test]
    fn selection_is_by_whole_id_parts_in_registry_order() {
        let ids = |filter: &[&str]| -> Vec<&'static str> {
            let filter: Vec<String> = filter.iter().map(|s| (*s).to_owned()).collect();
            select(&filter).unwrap().iter().map(|c| c.id).collect()
        };
        let all: Vec<&str> = registry().iter().map(|c| c.id).collect();
        assert_eq!(ids(&[]), all);
        let t1: Vec<&str> = all
            .iter()
            .copied()
            .filter(|id| id.starts_with("T1."))
            .collect();
        assert!(!t1.is_empty());
        assert_eq!(ids(&["T1"]), t1);
        // The order of the filters does not matter, nor does a repeat.
        let t3_then_t1 = ids(&["T3", "T1", "T1"]);
        let t1_then_t3 = ids(&["T1", "T3"]);
        assert_eq!(t3_then_t1, t1_then_t3);
        assert_eq!(t1_then_t3[..t1.len()], t1[..]);
        // A prefix must end at a dot.
        let Err(err) = select(&["T1.r".to_owned()]) else {
            panic!("T1.r is no whole part of an ID");
        };
        assert_eq!(err.wanted, "T1.r");
        assert!(err.known.contains(all[0]));
    }

    fn exact(_: Budget, p: &Perturbation) -> Result<Measurement, String> {
        Ok(Measurement {
            prediction: 1.0 + p.limit,
            measured: 1.0 + 1e-9,
            ci: [1.0, 1.0 + 2e-9],
            tolerance: 1e-6,
            method: "test".to_owned(),
        })
    }

    fn broken(_: Budget, _: &Perturbation) -> Result<Measurement, String> {
        Ok(Measurement {
            prediction: 1.0,
            measured: f64::NAN,
            ci: [f64::NAN, f64::NAN],
            tolerance: 1.0,
            method: "test".to_owned(),
        })
    }

    /// A control the test claim's check rejects: the measurement is off by 1.
    fn rejected(_: Budget) -> Result<Measurement, String> {
        exact(Budget::Quick, &Perturbation::default()).map(|m| Measurement {
            measured: 2.0,
            ci: [2.0, 2.0],
            ..m
        })
    }

    /// A control the test claim's check cannot tell from the claim: it passes.
    fn accepted(_: Budget) -> Result<Measurement, String> {
        exact(Budget::Quick, &Perturbation::default())
    }

    fn test_claim() -> Claim {
        Claim {
            id: "T0.test",
            theorem: "T0",
            statement: "a test claim",
            prediction: Prediction::Limit,
            check: exact,
            controls: vec![control("off by one", rejected)],
        }
    }

    #[test]
    fn verdict_is_prediction_in_the_widened_interval() {
        let claim = test_claim();
        let pass = claim.run(Budget::Quick, &Perturbation::default()).unwrap();
        assert_eq!(pass.verdict, Verdict::Pass);
        let fail = claim.run(Budget::Quick, &claim.perturbation(0.01)).unwrap();
        assert_eq!(fail.verdict, Verdict::Fail);
        let edge = claim
            .run(Budget::Quick, &claim.perturbation(-0.9e-6))
            .unwrap();
        assert_eq!(edge.verdict, Verdict::Pass);
    }

    #[test]
    fn a_control_that_passes_fails_the_claim() {
        let claim = test_claim();
        let e = claim.run(Budget::Quick, &Perturbation::default()).unwrap();
        assert_eq!(e.verdict, Verdict::Pass);
        assert_eq!(e.controls.len(), 1);
        assert_eq!(e.controls[0].verdict, Verdict::Fail);
        assert!(e.controls[0].rejected());
        assert_eq!(e.controls_passed(), 0);
        // The same claim with a control its check accepts fails, with a passing own check.
        let blind = Claim {
            controls: vec![control("off by one", rejected), control("blind", accepted)],
            ..test_claim()
        };
        let e = blind.run(Budget::Quick, &Perturbation::default()).unwrap();
        assert_eq!(
            Verdict::judge(e.prediction, e.measured, e.ci, e.tolerance),
            Verdict::Pass
        );
        assert_eq!(e.controls_passed(), 1);
        assert_eq!(e.verdict, Verdict::Fail);
        assert_eq!(e.verdict_from_numbers(), Verdict::Fail);
        // A claim without controls cannot pass.
        let bare = Claim {
            controls: Vec::new(),
            ..test_claim()
        };
        let e = bare.run(Budget::Quick, &Perturbation::default()).unwrap();
        assert_eq!(e.verdict, Verdict::Fail);
    }

    #[test]
    fn a_non_finite_measurement_fails() {
        let claim = Claim {
            check: broken,
            ..test_claim()
        };
        assert_eq!(
            claim
                .run(Budget::Quick, &Perturbation::default())
                .unwrap()
                .verdict,
            Verdict::Fail
        );
    }

    #[test]
    fn fitted_claims_are_registered_and_judged_on_their_series() {
        let registry = registry();
        for check in series_checks() {
            let claim = registry
                .iter()
                .find(|c| c.id == check.id)
                .unwrap_or_else(|| panic!("{} is not registered", check.id));
            for p in [Perturbation::default(), claim.perturbation(0.1)] {
                let direct = (claim.check)(Budget::Quick, &p).unwrap();
                let via_series = series(check.id, Budget::Quick)
                    .unwrap()
                    .and_then(|s| (check.judge)(&s, &p))
                    .unwrap();
                assert_eq!(direct, via_series, "{}", check.id);
            }
            for s in series(check.id, Budget::Quick).unwrap().unwrap() {
                assert_eq!(s.id, check.id);
                assert_eq!(s.log_n.len(), s.y.len());
                assert_eq!(s.log10_n.len(), s.y.len());
                assert_eq!(s.model.prediction(), claim.prediction);
                // The words are written from the parameters the points are computed at.
                if let Some(r) = s.gamma_ratio.filter(|&r| r != 1.0) {
                    assert!(s.title.contains(&number_text(r)), "{}", s.title);
                    assert!(s.title.contains(&number_text(r - 1.0)), "{}", s.title);
                }
                assert!(s.law.contains(&number_text(s.predicted)) || s.law.contains("γ_c"));
                assert_eq!(s.leading_slope.is_some(), s.model == Model::InverseLog);
                // The fitted line passes through the centroid of the points.
                let fit = s.fit().unwrap();
                let [x, y] = fit.centroid;
                assert!(
                    abs_diff_eq!(fit.at(x), y, epsilon = 1e-9 * y.abs().max(1.0)),
                    "{}",
                    s.id
                );
            }
        }
        assert!(series("T1.limit.sub", Budget::Quick).is_none());
    }

    #[test]
    fn every_claim_has_controls_with_distinct_settings() {
        for claim in registry() {
            assert!(!claim.controls.is_empty(), "{}", claim.id);
            let mut settings: Vec<&str> = claim.controls.iter().map(|c| c.setting).collect();
            settings.sort_unstable();
            settings.dedup();
            assert_eq!(settings.len(), claim.controls.len(), "{}", claim.id);
        }
    }

    #[test]
    fn every_claim_belongs_to_the_theorem_its_id_names() {
        for claim in registry() {
            assert!(
                ["T1", "T2", "T3", "T4", "T5", "T6"].contains(&claim.theorem),
                "{}",
                claim.id
            );
            assert!(
                claim.id.starts_with(&format!("{}.", claim.theorem)),
                "{}",
                claim.id
            );
        }
        assert_eq!(theorem_of("T3.threshold.slope"), "T3");
    }

    #[test]
    fn display_numbers_are_rounded_and_signed() {
        assert_eq!(number_text(0.7 - 1.0), "−0.3");
        assert_eq!(number_text(2.0 * (0.8 - 1.0)), "−0.4");
        assert_eq!(number_text(1.3), "1.3");
        assert_eq!(number_text(-1.0), "−1");
        assert_eq!(number_text(0.0), "0");
        assert_eq!(fraction_text(0.5), "1/2");
        assert_eq!(fraction_text(0.125), "1/8");
        assert_eq!(fraction_text(0.75), "3/4");
        assert_eq!(fraction_text(0.3), "3/10");
        assert_eq!(
            fraction_text(std::f64::consts::FRAC_1_SQRT_2),
            "0.7071067812"
        );
    }

    #[test]
    fn cited_ids_finds_backticked_claim_ids_only() {
        let text = "see `T1.limit.sub` and `T3.rate.super`, not `cos_out`, `T1` or `Tx.y`; again `T1.limit.sub`";
        assert_eq!(cited_ids(text), vec!["T1.limit.sub", "T3.rate.super"]);
    }

    #[test]
    fn evidence_serialises_with_the_documented_fields() {
        let e = test_claim()
            .run(Budget::Quick, &Perturbation::default())
            .unwrap();
        let value = serde_json::to_value(&e).unwrap();
        for key in [
            "id",
            "statement",
            "prediction",
            "measured",
            "ci",
            "tolerance",
            "verdict",
            "controls",
            "seconds",
        ] {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["verdict"], "pass");
        assert_eq!(value["controls"][0]["verdict"], "fail");
        assert_eq!(value["controls"][0]["setting"], "off by one");
    }
}
