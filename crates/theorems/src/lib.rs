//! The claims of the paper as checks that return evidence.
//!
//! Every claim of THEORY §4–§5 has a stable ID (e.g. `T1.limit.sub`), a statement, a prediction
//! written once here, and a check: a function that runs at a [`Budget`] and returns [`Evidence`]
//! — prediction, measurement, confidence interval, tolerance and verdict. The verdict is
//! **pass** when the prediction lies in the measurement's interval widened by the tolerance:
//! `ci.0 − tolerance ≤ prediction ≤ ci.1 + tolerance`. Tolerances are documented where each check
//! is defined (finite-n corrections predicted by THEORY §5, rounding).
//!
//! A check must be able to fail: every check accepts a [`Perturbation`] of its prediction (γ_c
//! shifted, an exponent or a limit off), and the tests show that each fails under one.
//!
//! Modules: [`t1`] (forward pass on the simplex), [`t2`] (forward pass on an almost-simplex),
//! [`t3`] (gradient on the simplex), [`t4`] (gradient on an almost-simplex), [`t5`] (the
//! intermediate phase).

pub mod t1;
pub mod t2;
pub mod t3;
pub mod t4;
pub mod t5;

use serde::{Deserialize, Serialize};
use std::time::Instant;

/// How much work a check may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// Seconds in all: what `cargo test` runs.
    Quick,
    /// The report's budget: more sizes, larger n, more points in each fit.
    Full,
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

/// What a check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The claim ID.
    pub id: String,
    /// The claim in words.
    pub statement: String,
    /// The predicted value.
    pub prediction: f64,
    /// The measured value.
    pub measured: f64,
    /// Confidence interval (or enclosure) of the measurement.
    pub ci: [f64; 2],
    /// Allowance for finite-n corrections and rounding, added on both sides of the interval.
    pub tolerance: f64,
    /// The verdict.
    pub verdict: Verdict,
    /// Wall time of the check.
    pub seconds: f64,
    /// How the measurement was made (sizes, backend, fit).
    pub method: String,
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

/// A claim and its check.
#[derive(Clone, Copy)]
pub struct Claim {
    /// Stable ID, cited in proofs/.
    pub id: &'static str,
    /// The theorem it belongs to (`T1` … `T5`).
    pub theorem: &'static str,
    /// The claim in words.
    pub statement: &'static str,
    /// What kind of prediction it makes.
    pub prediction: Prediction,
    /// The check.
    pub check: fn(Budget, &Perturbation) -> Result<Measurement, String>,
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
    pub fn run(&self, budget: Budget, perturbation: &Perturbation) -> Result<Evidence, CheckError> {
        let start = Instant::now();
        let m = (self.check)(budget, perturbation).map_err(|reason| CheckError {
            id: self.id.to_owned(),
            reason,
        })?;
        let inside = m.ci[0] - m.tolerance <= m.prediction && m.prediction <= m.ci[1] + m.tolerance;
        let finite = m.measured.is_finite() && m.ci.iter().all(|x| x.is_finite());
        Ok(Evidence {
            id: self.id.to_owned(),
            statement: self.statement.to_owned(),
            prediction: m.prediction,
            measured: m.measured,
            ci: m.ci,
            tolerance: m.tolerance,
            verdict: if inside && finite {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            seconds: start.elapsed().as_secs_f64(),
            method: m.method,
        })
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
    claims
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

    const CLAIM: Claim = Claim {
        id: "T0.test",
        theorem: "T0",
        statement: "a test claim",
        prediction: Prediction::Limit,
        check: exact,
    };

    #[test]
    fn verdict_is_prediction_in_the_widened_interval() {
        let pass = CLAIM.run(Budget::Quick, &Perturbation::default()).unwrap();
        assert_eq!(pass.verdict, Verdict::Pass);
        let fail = CLAIM.run(Budget::Quick, &CLAIM.perturbation(0.01)).unwrap();
        assert_eq!(fail.verdict, Verdict::Fail);
        let edge = CLAIM
            .run(Budget::Quick, &CLAIM.perturbation(-0.9e-6))
            .unwrap();
        assert_eq!(edge.verdict, Verdict::Pass);
    }

    #[test]
    fn a_non_finite_measurement_fails() {
        let claim = Claim {
            check: broken,
            ..CLAIM
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
    fn cited_ids_finds_backticked_claim_ids_only() {
        let text = "see `T1.limit.sub` and `T3.rate.super`, not `cos_out`, `T1` or `Tx.y`; again `T1.limit.sub`";
        assert_eq!(cited_ids(text), vec!["T1.limit.sub", "T3.rate.super"]);
    }

    #[test]
    fn evidence_serialises_with_the_documented_fields() {
        let e = CLAIM.run(Budget::Quick, &Perturbation::default()).unwrap();
        let value = serde_json::to_value(&e).unwrap();
        for key in [
            "id",
            "statement",
            "prediction",
            "measured",
            "ci",
            "tolerance",
            "verdict",
            "seconds",
        ] {
            assert!(value.get(key).is_some(), "{key}");
        }
        assert_eq!(value["verdict"], "pass");
    }
}
