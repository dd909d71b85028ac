//! Computer-assisted proofs of bounds on the simplex closed forms behind T1 and T3 (limits and
//! rates), for **all real n ≥ N**.
//!
//! A [`Statement`] says: for every n ≥ N (and every γ in a range), |F(n, γ) − target| ≤ ε, where F
//! is one of the [`Quantity`]s — cos_out, λ or η, possibly multiplied by the predicted power of
//! n — and the target is the prediction of THEORY §4–5 (or a value given to test the certifier).
//! Substituting u = 1/n ∈ [0, 1/N] turns F into a function that is continuous up to u = 0
//! ([`forms`]); [`certify`] covers [0, 1/N] × [κ range] by boxes, evaluates F on each box in
//! outward-rounded interval arithmetic ([`critscale_real::Interval`]) and splits a box until its
//! enclosure fits in [target − ε, target + ε]. It stops with:
//!
//! * **proved** when every box fits (the union of the boxes is the whole domain, so the bound
//!   holds for every n ≥ N, including n → ∞);
//! * **disproved** when F at a single point (n, γ) is certainly outside the band — a witness;
//! * **undecided** when the box limit ([`SearchLimits::max_boxes`]) is reached.
//!
//! **What a proof covers.** F is a closed form of THEORY §5 (the exact simplex: p, λ, cos_out and
//! η as functions of real n and γ), not the attention layer itself; that the closed forms are
//! the layer's values on the simplex is the derivation of THEORY §5, which the workspace tests
//! check against the model and the Jacobian. A statement on a quantity itself with a fixed ε
//! (cos_out, η − limit) proves a **band**: from N on, and in the limit, F stays within ε of the
//! target; it proves nothing about how fast the band narrows. Rates are proved by the scaled
//! quantities (n^{−2κ}λ, n^{κ}(1 − λ), n·(cos_out − 4ρ/(1+3ρ)), (n/log² n)·(η − limit), …): a
//! bound on those bounds the deviation by an explicit constant times the predicted power of n.
//!
//! Certificates are plain data ([`Outcome`], serde-serialisable) so that the report can include
//! them.

#![warn(missing_docs)]

pub mod coq;
pub mod defaults;
pub mod forms;

use critscale_real::{Interval, Precision, Real};
use critscale_simplex::Regime;
use critscale_simplex::limits::cos_out_limit;
use forms::{Cell, Setting};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// What a statement bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quantity {
    /// cos_out; target: the T1 limit of the regime (with residual a = α√q).
    CosOut,
    /// n^{−2κ}·λ below γ_c, α = 0; target 1/ρ.
    LambdaRateSub,
    /// n^{κ}·(1 − λ) above γ_c; target 2ρ/(1 + a).
    OneMinusLambdaRateSuper,
    /// η − (1 − 1/d)·{0, 1/4, 1}/q below/at/above γ_c, α = 0, d = μn; target 0.
    EtaMinusLimit,
    /// n^{−2κ}·η below γ_c for −1/2 < κ < 0, α = 0, d = μn; target 1/q.
    EtaRateSub,
    /// n^{κ}·(1 − qη/(1 − 1/d)) above γ_c, α = 0, d = μn; target 2.
    EtaDeficitRateSuper,
    /// n·(cos_out − 4ρ/(1 + 3ρ)) at γ_c, α = 0; target 0 (so ε bounds the 1/n rate).
    CosOutRateCrit,
    /// (n/log² n)·(η − (1 − 1/d)/(4q)) at γ_c, α = 0, d = μn; target 0. The deviation of η is
    /// of order log² n/n, not 1/n: β = γ_c log n enters the attention covariance terms.
    EtaRateCrit,
}

impl Quantity {
    /// The name as serialised (`cos_out`, `eta_rate_crit`, …).
    pub fn name(self) -> &'static str {
        match self {
            Quantity::CosOut => "cos_out",
            Quantity::LambdaRateSub => "lambda_rate_sub",
            Quantity::OneMinusLambdaRateSuper => "one_minus_lambda_rate_super",
            Quantity::EtaMinusLimit => "eta_minus_limit",
            Quantity::EtaRateSub => "eta_rate_sub",
            Quantity::EtaDeficitRateSuper => "eta_deficit_rate_super",
            Quantity::CosOutRateCrit => "cos_out_rate_crit",
            Quantity::EtaRateCrit => "eta_rate_crit",
        }
    }

    /// True for the scaled quantities, whose bound proves a rate (a constant times the predicted
    /// power of n); false for cos_out and η − limit, whose bound with a fixed ε proves a band.
    pub fn is_rate(self) -> bool {
        !matches!(self, Quantity::CosOut | Quantity::EtaMinusLimit)
    }

    /// The bounded quantity and its predicted value, in words, on `side` (a = α√q, d = μn).
    pub fn describe(self, side: Regime) -> (&'static str, &'static str) {
        match (self, side) {
            (Quantity::CosOut, Regime::Subcritical) => ("cos_out", "rho(1+a)^2/(a^2+2a rho+rho)"),
            (Quantity::CosOut, Regime::Critical) => {
                ("cos_out", "rho(1+a)^2/(a^2+a(1+rho)+(1+3rho)/4)")
            }
            (Quantity::CosOut, Regime::Supercritical) => ("cos_out", "rho"),
            (Quantity::LambdaRateSub, _) => ("n^(-2 kappa) lambda", "1/rho"),
            (Quantity::OneMinusLambdaRateSuper, _) => ("n^kappa (1 - lambda)", "2 rho/(1+a)"),
            (Quantity::EtaMinusLimit, Regime::Subcritical) => ("eta", "0"),
            (Quantity::EtaMinusLimit, Regime::Critical) => ("eta - (1-1/d)/(4q)", "0"),
            (Quantity::EtaMinusLimit, Regime::Supercritical) => ("eta - (1-1/d)/q", "0"),
            (Quantity::EtaRateSub, _) => ("n^(-2 kappa) eta", "1/q"),
            (Quantity::EtaDeficitRateSuper, _) => ("n^kappa (1 - q eta/(1-1/d))", "2"),
            (Quantity::CosOutRateCrit, _) => ("n (cos_out - 4rho/(1+3rho))", "0"),
            (Quantity::EtaRateCrit, _) => ("n/(log n)^2 (eta - (1-1/d)/(4q))", "0"),
        }
    }
}

/// A claim about all n ≥ N: |F − target| ≤ ε. Numbers are decimal strings (read exactly as
/// enclosures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// Certificate ID, e.g. `cert.T1.limit.sub`. Certificate IDs start with `cert.` so that they
    /// never coincide with a claim ID of `critscale-theorems`: a certificate states a bound for
    /// all n ≥ N at its own γ, which is a different statement from the finite-n claim of the same
    /// theorem and quantity.
    pub id: String,
    /// What is bounded.
    pub quantity: Quantity,
    /// Pairwise cosine ρ ∈ (0, 1).
    pub rho: String,
    /// Residual weight α ≥ 0.
    pub alpha: String,
    /// Squared norm q > 0.
    pub q: String,
    /// γ/γ_c as a range [lo, hi] (lo = hi for one γ; "1" is γ_c exactly).
    pub gamma_ratio: [String; 2],
    /// d/n ≥ 1 for η quantities.
    pub d_ratio: String,
    /// N: the claim covers every real n ≥ N.
    pub n_min: String,
    /// ε > 0.
    pub epsilon: String,
    /// A target to use instead of the prediction (to show that false claims fail); may be
    /// left out of the JSON.
    #[serde(default)]
    pub target: Option<String>,
}

/// Why a statement cannot be checked as posed: one field of the statement (or the search
/// limits), the value given and what a valid value is, so that the CLI can print it as one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("statement {id}: {parameter} = {value}: {requirement}")]
pub struct BadStatement {
    /// The certificate ID.
    pub id: String,
    /// The field at fault, named as in [`Statement`] (`gamma_ratio`, `d_ratio`, …), or
    /// `precision_bits` for the search limits.
    pub parameter: String,
    /// The value given, as written.
    pub value: String,
    /// The valid values or the condition violated.
    pub requirement: String,
}

/// What the branch and bound established about a statement. Certificates are proofs over all
/// n ≥ N, so their outcome is three-valued; a claim of `critscale-theorems` is a finite-n check
/// judged pass or fail (its `Verdict`), a different thing with a different name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProofStatus {
    /// The bound holds for every n ≥ N (and every γ in the range).
    Proved,
    /// A point violates the bound.
    Disproved,
    /// The box limit ([`SearchLimits::max_boxes`]) was reached.
    Undecided,
}

/// A point where the claim fails.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Witness {
    /// n (`"inf"` for the limit itself).
    pub n: String,
    /// γ/γ_c.
    pub gamma_ratio: String,
    /// Enclosure of F there.
    pub value: [String; 2],
}

/// A certificate: the statement, the verdict and the evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The claim.
    pub statement: Statement,
    /// The statement in words.
    pub text: String,
    /// The theorem's regime of the statement's γ range (γ against γ_c).
    pub regime: Regime,
    /// Enclosure of the target used.
    pub target: [String; 2],
    /// What was proved (serialised as `verdict`: `proved`, `disproved`, `undecided`).
    pub verdict: ProofStatus,
    /// Hull of F over the boxes that fit (the range of F found), when any did.
    pub enclosure: Option<[String; 2]>,
    /// Boxes evaluated.
    pub boxes: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Where the claim fails, when disproved.
    pub witness: Option<Witness>,
    /// Working precision in bits.
    pub precision_bits: usize,
    /// The fully qualified Coq theorem that proves the same statement for all real n ≥ N
    /// ([`coq::certificate_theorem_for`]: only a default statement has one); `null` in JSON
    /// otherwise.
    #[serde(default)]
    pub coq: Option<String>,
}

/// Limits of one certificate's box search: the interval precision and how many boxes may be
/// evaluated before the claim is left undecided. (Not the sampling budget of the checks,
/// `critscale_theorems::Budget`.)
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// Interval precision in bits.
    pub precision_bits: u64,
    /// Box evaluations before giving up.
    pub max_boxes: usize,
}

impl Default for SearchLimits {
    /// 128 bits and 200 000 boxes.
    fn default() -> Self {
        SearchLimits {
            precision_bits: 128,
            max_boxes: 200_000,
        }
    }
}

struct Prepared {
    setting: Setting,
    side: Regime,
    kappa: Interval,
    u_max: Interval,
    target: Interval,
    epsilon: Interval,
}

/// x > y for every pair of enclosed values.
fn certainly_above(x: &Interval, y: &Interval) -> bool {
    x.partial_cmp(y) == Some(std::cmp::Ordering::Greater)
}

/// x ≥ y for every pair of enclosed values.
fn certainly_at_least(x: &Interval, y: &Interval) -> bool {
    x.lo() >= y.hi()
}

fn read(p: &Precision, id: &str, name: &str, text: &str) -> Result<Interval, BadStatement> {
    let refuse = |requirement: &str| BadStatement {
        id: id.to_owned(),
        parameter: name.to_owned(),
        value: text.to_owned(),
        requirement: requirement.to_owned(),
    };
    let value = Interval::parse_decimal(p, text).map_err(|_| refuse("must be a decimal number"))?;
    if value.is_finite() {
        Ok(value)
    } else {
        Err(refuse("must be finite"))
    }
}

impl Statement {
    /// The side of γ_c the γ range names (by its decimal strings; validated in `certify`).
    fn side_guess(&self) -> Regime {
        let lo: f64 = self.gamma_ratio[0].parse().unwrap_or(f64::NAN);
        let hi: f64 = self.gamma_ratio[1].parse().unwrap_or(f64::NAN);
        if lo == 1.0 && hi == 1.0 {
            Regime::Critical
        } else if hi < 1.0 {
            Regime::Subcritical
        } else {
            Regime::Supercritical
        }
    }

    /// The claim in one sentence.
    pub fn text(&self) -> String {
        let gamma = if self.gamma_ratio[0] == self.gamma_ratio[1] {
            format!("gamma = {} gamma_c", self.gamma_ratio[0])
        } else {
            format!(
                "gamma in [{}, {}] gamma_c",
                self.gamma_ratio[0], self.gamma_ratio[1]
            )
        };
        let (quantity, prediction) = self.quantity.describe(self.side_guess());
        let target = self.target.as_deref().unwrap_or(prediction);
        let d = if matches!(
            self.quantity,
            Quantity::EtaMinusLimit
                | Quantity::EtaRateSub
                | Quantity::EtaDeficitRateSuper
                | Quantity::EtaRateCrit
        ) {
            format!(", d = {} n", self.d_ratio)
        } else {
            String::new()
        };
        format!(
            "for all n >= {}, {gamma}: |{quantity} - {target}| <= {} (rho = {}, alpha = {}, q = {}{d})",
            self.n_min, self.epsilon, self.rho, self.alpha, self.q
        )
    }

    fn bad(
        &self,
        parameter: &str,
        value: impl Into<String>,
        requirement: impl Into<String>,
    ) -> BadStatement {
        BadStatement {
            id: self.id.clone(),
            parameter: parameter.to_owned(),
            value: value.into(),
            requirement: requirement.into(),
        }
    }

    fn gamma_text(&self) -> String {
        format!("[{}, {}]", self.gamma_ratio[0], self.gamma_ratio[1])
    }

    /// Checks that the statement is well posed at `limits.precision_bits`, without searching.
    ///
    /// # Errors
    ///
    /// The [`BadStatement`] that [`certify`] would return.
    pub fn validate(&self, limits: SearchLimits) -> Result<(), BadStatement> {
        let p = Precision::new(limits.precision_bits).map_err(|e| {
            self.bad(
                "precision_bits",
                limits.precision_bits.to_string(),
                e.to_string(),
            )
        })?;
        self.prepare(&p).map(|_| ())
    }

    fn prepare(&self, p: &Precision) -> Result<Prepared, BadStatement> {
        let id = &self.id;
        let rho = read(p, id, "rho", &self.rho)?;
        let alpha = read(p, id, "alpha", &self.alpha)?;
        let q = read(p, id, "q", &self.q)?;
        let ratio_lo = read(p, id, "gamma_ratio", &self.gamma_ratio[0])?;
        let ratio_hi = read(p, id, "gamma_ratio", &self.gamma_ratio[1])?;
        let mu = read(p, id, "d_ratio", &self.d_ratio)?;
        let n_min = read(p, id, "n_min", &self.n_min)?;
        let epsilon = read(p, id, "epsilon", &self.epsilon)?;
        let zero = Interval::zero(p);
        let one = Interval::one(p);
        if !(rho > zero && rho < one) {
            return Err(self.bad("rho", &self.rho, "must lie in (0, 1)"));
        }
        if alpha < zero {
            return Err(self.bad("alpha", &self.alpha, "must be >= 0"));
        }
        if !certainly_above(&q, &zero) {
            return Err(self.bad("q", &self.q, "must be > 0"));
        }
        if !certainly_above(&epsilon, &zero) {
            return Err(self.bad("epsilon", &self.epsilon, "must be > 0"));
        }
        if !certainly_at_least(&n_min, &Interval::from_f64(p, 2.0)) {
            return Err(self.bad("n_min", &self.n_min, "must be at least 2"));
        }
        // Certainly ≥ 1, not merely "not certainly below": a value within rounding of 1 from below
        // would otherwise let the boxes range over d < n, where the closed forms do not apply.
        if !certainly_at_least(&mu, &one) {
            return Err(self.bad(
                "d_ratio",
                &self.d_ratio,
                "must be at least 1 (d = d_ratio·n, and a simplex of n tokens needs d >= n)",
            ));
        }
        // A reversed range would be read as some other set of γ; refuse it rather than guess.
        // Ends within rounding of each other are accepted: κ is their hull either way.
        if certainly_above(&ratio_lo, &ratio_hi) {
            return Err(self.bad(
                "gamma_ratio",
                self.gamma_text(),
                "must be a range [lo, hi] with lo <= hi",
            ));
        }
        let kappa = Interval::span(&ratio_lo, &ratio_hi) - &one;
        let side = if ratio_lo == one && ratio_hi == one {
            Regime::Critical
        } else if ratio_hi < one && ratio_lo > zero {
            Regime::Subcritical
        } else if ratio_lo > one {
            Regime::Supercritical
        } else {
            return Err(self.bad(
                "gamma_ratio",
                self.gamma_text(),
                "must lie strictly on one side of 1 (gamma_c), with lo > 0, or be exactly [1, 1]",
            ));
        };
        let alpha_zero = alpha == zero;
        let a = alpha * &q.sqrt();
        // A quantity asked outside the setting its prediction is stated for.
        let quantity = self.quantity.name();
        let needs = |ok: bool, why: &str| {
            if ok {
                Ok(())
            } else {
                Err(self.bad("quantity", quantity, why))
            }
        };
        let predicted = match self.quantity {
            Quantity::CosOut => cos_out_limit(side, &rho, &a),
            Quantity::LambdaRateSub => {
                needs(
                    side == Regime::Subcritical && alpha_zero,
                    "the lambda rate below gamma_c is stated for alpha = 0",
                )?;
                rho.recip()
            }
            Quantity::OneMinusLambdaRateSuper => {
                needs(
                    side == Regime::Supercritical,
                    "this rate is stated above gamma_c",
                )?;
                Interval::from_f64(p, 2.0) * &rho / &(one.clone() + &a)
            }
            Quantity::EtaMinusLimit => {
                needs(alpha_zero, "the eta limits are stated for alpha = 0")?;
                zero.clone()
            }
            Quantity::EtaRateSub => {
                let half = Interval::from_f64(p, -0.5);
                needs(
                    side == Regime::Subcritical && alpha_zero && kappa > half,
                    "n^(-2 kappa) eta -> 1/q needs alpha = 0 and -1/2 < kappa < 0 (below, 1/n terms dominate)",
                )?;
                q.recip()
            }
            Quantity::EtaDeficitRateSuper => {
                needs(
                    side == Regime::Supercritical && alpha_zero,
                    "this rate is stated above gamma_c for alpha = 0",
                )?;
                Interval::from_f64(p, 2.0)
            }
            Quantity::CosOutRateCrit | Quantity::EtaRateCrit => {
                needs(
                    side == Regime::Critical && alpha_zero,
                    "the critical rates are stated at gamma = gamma_c (range [1, 1]) for alpha = 0",
                )?;
                zero.clone()
            }
        };
        let target = match &self.target {
            Some(text) => read(p, id, "target", text)?,
            None => predicted,
        };
        let u_max = n_min.recip();
        Ok(Prepared {
            setting: Setting {
                rho,
                a,
                q,
                mu,
                precision: *p,
            },
            side,
            kappa,
            u_max,
            target,
            epsilon,
        })
    }
}

impl Prepared {
    fn evaluate(&self, quantity: Quantity, cell: &Cell) -> Interval {
        let s = &self.setting;
        match quantity {
            Quantity::CosOut => s.layer(cell, self.side).cos_out,
            Quantity::LambdaRateSub => s.lambda_rate_sub(cell),
            Quantity::OneMinusLambdaRateSuper => s.one_minus_lambda_rate_super(cell),
            Quantity::EtaMinusLimit => {
                let p = &s.precision;
                let one = Interval::one(p);
                let factor = match self.side {
                    Regime::Subcritical => Interval::zero(p),
                    Regime::Critical => Interval::from_f64(p, 0.25),
                    Regime::Supercritical => one.clone(),
                };
                let limit = (one - &(cell.u.clone() / &s.mu)) * &factor;
                (s.q_eta(cell, self.side) - &limit) / &s.q
            }
            Quantity::EtaRateSub => s.q_eta_rate_sub(cell) / &s.q,
            Quantity::EtaDeficitRateSuper => s.eta_deficit_rate_super(cell),
            Quantity::CosOutRateCrit => s.cos_out_rate_crit(cell),
            Quantity::EtaRateCrit => s.q_eta_rate_crit(cell) / &s.q,
        }
    }
}

/// Splits u = [a, b]: geometrically near 0 (the functions vary like powers of u there).
fn split_u(u: &Interval) -> (Interval, Interval) {
    let p = u.ctx();
    let (a, b) = (u.lower_point(), u.upper_point());
    let cut = if u.starts_at_zero() {
        b.clone() / &Interval::from_f64(&p, 64.0)
    } else if b.clone() / &a > Interval::from_f64(&p, 4.0) {
        (a.clone() * &b).sqrt()
    } else {
        (a.clone() + &b) / &Interval::from_f64(&p, 2.0)
    }
    .lower_point();
    (Interval::span(&a, &cut), Interval::span(&cut, &b))
}

fn split_mid(x: &Interval) -> (Interval, Interval) {
    let p = x.ctx();
    let (a, b) = (x.lower_point(), x.upper_point());
    let cut = ((a.clone() + &b) / &Interval::from_f64(&p, 2.0)).lower_point();
    (Interval::span(&a, &cut), Interval::span(&cut, &b))
}

fn ends(x: &Interval) -> [String; 2] {
    [x.lo_string(), x.hi_string()]
}

/// Checks a statement by interval branch-and-bound over u = 1/n ∈ [0, 1/N] (and the κ range).
///
/// # Errors
///
/// [`BadStatement`] (naming the statement) when `limits.precision_bits` is not a supported
/// precision, or the statement is malformed: a field that is not a finite decimal, or values outside
/// their domain (ρ ∉ (0, 1), α < 0, q ≤ 0, ε ≤ 0, N < 2, d/n not certainly ≥ 1, a γ/γ_c range
/// given in reverse order or that does not fit its side, a quantity asked outside the setting
/// its limit is stated for). The error names the field, its value and the valid values. A claim
/// that is false or undecided is an `Ok` outcome, not an error.
pub fn certify(statement: &Statement, limits: SearchLimits) -> Result<Outcome, BadStatement> {
    let start = Instant::now();
    let p = Precision::new(limits.precision_bits).map_err(|e| {
        statement.bad(
            "precision_bits",
            limits.precision_bits.to_string(),
            e.to_string(),
        )
    })?;
    let prep = statement.prepare(&p)?;
    let low = prep.target.clone() - &prep.epsilon;
    let high = prep.target.clone() + &prep.epsilon;
    let root = Cell {
        u: Interval::span(&Interval::zero(&p), &prep.u_max),
        kappa: prep.kappa.clone(),
    };
    let mut stack = vec![(root, 0usize)];
    let mut boxes = 0usize;
    let mut hull: Option<Interval> = None;
    let mut verdict = ProofStatus::Proved;
    let mut witness = None;
    while let Some((cell, depth)) = stack.pop() {
        boxes += 1;
        if boxes > limits.max_boxes {
            verdict = ProofStatus::Undecided;
            break;
        }
        let value = prep.evaluate(statement.quantity, &cell);
        if value.is_finite() && value.is_within(&low, &high) {
            hull = Some(match hull {
                Some(h) => h.hull(&value),
                None => value,
            });
            continue;
        }
        // Look for a counterexample at the box's corners: its smallest n (at the top of the
        // domain, the largest u certainly ≤ 1/N) and its largest n, at both ends of κ.
        let u_top = if cell.u.hi() >= prep.u_max.hi() {
            prep.u_max.lower_point()
        } else {
            cell.u.upper_point()
        };
        let corners = [
            (u_top.clone(), cell.kappa.lower_point()),
            (cell.u.lower_point(), cell.kappa.lower_point()),
            (u_top, cell.kappa.upper_point()),
            (cell.u.lower_point(), cell.kappa.upper_point()),
        ];
        for (u, kappa) in corners {
            let point = Cell { u, kappa };
            let at_point = prep.evaluate(statement.quantity, &point);
            if at_point.is_finite() && at_point.is_outside(&low, &high) {
                let n = if point.u.starts_at_zero() {
                    "inf".to_owned()
                } else {
                    format!("{:e}", point.u.recip().to_f64())
                };
                let ratio = point.kappa.clone() + &Interval::one(&p);
                witness = Some(Witness {
                    n,
                    gamma_ratio: format!("{:e}", ratio.to_f64()),
                    value: ends(&at_point),
                });
                break;
            }
        }
        if witness.is_some() {
            verdict = ProofStatus::Disproved;
            break;
        }
        if cell.u.is_point() && cell.kappa.is_point() {
            verdict = ProofStatus::Undecided;
            break;
        }
        let split_kappa = !cell.kappa.is_point() && (depth % 2 == 1 || cell.u.is_point());
        let progress = |a: &Interval, b: &Interval| a != &cell.u || b != &cell.kappa;
        if split_kappa {
            let (k1, k2) = split_mid(&cell.kappa);
            if !(progress(&cell.u, &k1) && progress(&cell.u, &k2)) {
                verdict = ProofStatus::Undecided;
                break;
            }
            stack.push((
                Cell {
                    u: cell.u.clone(),
                    kappa: k1,
                },
                depth + 1,
            ));
            stack.push((
                Cell {
                    u: cell.u,
                    kappa: k2,
                },
                depth + 1,
            ));
        } else {
            let (u1, u2) = split_u(&cell.u);
            if !(progress(&u1, &cell.kappa) && progress(&u2, &cell.kappa)) {
                // The box is as narrow as the precision allows.
                verdict = ProofStatus::Undecided;
                break;
            }
            stack.push((
                Cell {
                    u: u1,
                    kappa: cell.kappa.clone(),
                },
                depth + 1,
            ));
            stack.push((
                Cell {
                    u: u2,
                    kappa: cell.kappa,
                },
                depth + 1,
            ));
        }
    }
    Ok(Outcome {
        text: statement.text(),
        statement: statement.clone(),
        regime: prep.side,
        target: ends(&prep.target),
        verdict,
        enclosure: hull.as_ref().map(ends),
        boxes,
        seconds: start.elapsed().as_secs_f64(),
        witness,
        precision_bits: p.bits(),
        coq: coq::certificate_theorem_for(statement).map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::defaults::default_statements;

    fn default(id: &str) -> Statement {
        default_statements()
            .into_iter()
            .find(|s| s.id == id)
            .unwrap()
    }

    fn verdict(statement: &Statement) -> Outcome {
        certify(statement, SearchLimits::default()).unwrap()
    }

    #[test]
    fn a_wrong_limit_is_disproved_with_a_witness() {
        for id in [
            "cert.T1.limit.sub",
            "cert.T1.limit.crit",
            "cert.T1.limit.super",
            "cert.T3.limit.crit",
        ] {
            let mut s = default(id);
            let outcome = verdict(&s);
            let target: f64 = outcome.target[0].parse().unwrap();
            s.target = Some(format!("{}", target + 0.01));
            s.epsilon = "0.005".to_owned();
            let wrong = verdict(&s);
            assert_eq!(wrong.verdict, ProofStatus::Disproved, "{id}: {wrong:#?}");
            assert!(wrong.witness.is_some());
        }
    }

    #[test]
    fn an_epsilon_too_small_for_n_is_disproved_at_small_n() {
        let mut s = default("cert.T1.limit.sub");
        s.epsilon = "0.005".to_owned(); // the deviation at n = 1e6 is 0.0092
        let outcome = verdict(&s);
        assert_eq!(outcome.verdict, ProofStatus::Disproved);
        let n: f64 = outcome.witness.unwrap().n.parse().unwrap();
        assert!(n.is_finite() && n >= 1e6);
        // The same ε is fine from a larger N on: (1e6)^0.4·(0.0092/0.005)^(1/0.4) ≈ 4.6e6.
        s.n_min = "1e7".to_owned();
        assert_eq!(verdict(&s).verdict, ProofStatus::Proved);
    }

    #[test]
    fn a_wrong_rate_constant_is_disproved() {
        let mut s = default("cert.T1.rate.super");
        s.target = Some("0.66".to_owned()); // 2ρ = 0.6
        assert_eq!(verdict(&s).verdict, ProofStatus::Disproved);
        let mut s = default("cert.T3.rate.super");
        s.target = Some("2.2".to_owned()); // the deficit rate is 2
        assert_eq!(verdict(&s).verdict, ProofStatus::Disproved);
        let mut s = default("cert.T1.rate.sub");
        s.target = Some("3.0".to_owned()); // 1/ρ = 3.33
        s.epsilon = "0.2".to_owned();
        assert_eq!(verdict(&s).verdict, ProofStatus::Disproved);
    }

    #[test]
    fn a_box_budget_too_small_leaves_the_claim_undecided() {
        let s = default("cert.T1.rate.sub");
        let outcome = certify(
            &s,
            SearchLimits {
                max_boxes: 3,
                ..SearchLimits::default()
            },
        )
        .unwrap();
        assert_eq!(outcome.verdict, ProofStatus::Undecided);
    }

    #[test]
    fn ill_posed_statements_are_rejected() {
        let mut s = default("cert.T1.limit.sub");
        s.gamma_ratio = ["0.8".to_owned(), "1.2".to_owned()];
        assert!(certify(&s, SearchLimits::default()).is_err());
        let mut s = default("cert.T3.limit.sub");
        s.alpha = "0.5".to_owned();
        assert!(certify(&s, SearchLimits::default()).is_err());
        let mut s = default("cert.T3.rate.sub");
        s.gamma_ratio = ["0.3".to_owned(), "0.3".to_owned()]; // κ = −0.7 < −1/2
        assert!(certify(&s, SearchLimits::default()).is_err());
        let mut s = default("cert.T1.limit.sub");
        s.rho = "1.5".to_owned();
        assert!(certify(&s, SearchLimits::default()).is_err());
    }

    #[test]
    fn a_reversed_gamma_range_is_refused() {
        // [4, 1.25] once became the inverted κ interval [3, 0.25], on which a false ε was
        // "proved"; now it is refused, naming the field.
        let mut s = default("cert.T1.limit.super.range");
        s.gamma_ratio = ["4".to_owned(), "1.25".to_owned()];
        s.epsilon = "1e-9".to_owned(); // false: the deviation at n = 1e6, γ = 1.25 γ_c is 0.0136
        let err = certify(&s, SearchLimits::default()).unwrap_err();
        assert_eq!(err.parameter, "gamma_ratio");
        assert_eq!(err.value, "[4, 1.25]");
        assert!(err.requirement.contains("lo <= hi"), "{err}");
        // The same range in order is checked, and the false ε is disproved.
        s.gamma_ratio = ["1.25".to_owned(), "4".to_owned()];
        assert_eq!(verdict(&s).verdict, ProofStatus::Disproved);
    }

    #[test]
    fn a_d_ratio_below_one_is_refused() {
        for mu in [
            "0.5",
            "0",
            "-1",
            "0.99999999999999999999999999999999999999999999999",
        ] {
            let mut s = default("cert.T3.limit.crit");
            s.d_ratio = mu.to_owned();
            let err = certify(&s, SearchLimits::default()).unwrap_err();
            assert_eq!(
                (err.parameter.as_str(), err.value.as_str()),
                ("d_ratio", mu)
            );
            assert!(s.validate(SearchLimits::default()).is_err());
        }
        let mut s = default("cert.T3.limit.crit");
        s.d_ratio = "1".to_owned();
        assert!(s.validate(SearchLimits::default()).is_ok());
    }

    #[test]
    fn refusals_name_the_field_and_value() {
        let mut s = default("cert.T1.limit.sub");
        s.rho = "1.5".to_owned();
        let err = s.validate(SearchLimits::default()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "statement cert.T1.limit.sub: rho = 1.5: must lie in (0, 1)"
        );
        let limits = SearchLimits {
            precision_bits: 8,
            ..SearchLimits::default()
        };
        let err = default("cert.T1.limit.sub").validate(limits).unwrap_err();
        assert_eq!(
            (err.parameter.as_str(), err.value.as_str()),
            ("precision_bits", "8")
        );
    }

    #[test]
    fn quantity_names_are_the_serialised_names() {
        use Quantity::*;
        for q in [
            CosOut,
            LambdaRateSub,
            OneMinusLambdaRateSuper,
            EtaMinusLimit,
            EtaRateSub,
            EtaDeficitRateSuper,
            CosOutRateCrit,
            EtaRateCrit,
        ] {
            assert_eq!(serde_json::to_value(q).unwrap(), q.name());
        }
    }

    #[test]
    fn the_critical_rate_constants_are_tight() {
        // n·(cos_out − limit) increases from 0.6398889191 at n = 1e6 to (1 − ρ)(3 + ρ)/(1 + 3ρ)²
        // = 0.6398891967 at n = ∞: an ε between the two holds at N and is refuted further out.
        let mut s = default("cert.T1.rate.crit");
        s.epsilon = "0.639889".to_owned();
        let outcome = verdict(&s);
        assert_eq!(outcome.verdict, ProofStatus::Disproved);
        let n = outcome.witness.unwrap().n;
        assert!(n == "inf" || n.parse::<f64>().unwrap() > 1e6, "{n}");
        // (n/log² n)·(η − limit) decreases from 0.062990 at n = 1e6: refuted at N.
        let mut s = default("cert.T3.rate.crit");
        s.epsilon = "0.0629".to_owned();
        let outcome = verdict(&s);
        assert_eq!(outcome.verdict, ProofStatus::Disproved);
        let n: f64 = outcome.witness.unwrap().n.parse().unwrap();
        assert!((n / 1e6 - 1.0).abs() < 1e-9, "{n}");
        // Only at γ_c and without residual.
        let mut s = default("cert.T1.rate.crit");
        s.gamma_ratio = ["1.25".to_owned(), "1.25".to_owned()];
        assert_eq!(
            s.validate(SearchLimits::default()).unwrap_err().parameter,
            "quantity"
        );
        let mut s = default("cert.T3.rate.crit");
        s.alpha = "0.5".to_owned();
        assert_eq!(
            s.validate(SearchLimits::default()).unwrap_err().parameter,
            "quantity"
        );
    }

    #[test]
    fn outcomes_round_trip_through_json() {
        let outcome = verdict(&default("cert.T1.limit.crit"));
        let text = serde_json::to_string(&outcome).unwrap();
        let back: Outcome = serde_json::from_str(&text).unwrap();
        assert_eq!(back.statement, outcome.statement);
        assert_eq!(back.verdict, ProofStatus::Proved);
    }
}
