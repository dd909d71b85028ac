//! Validated parameters of a simplex point, and the regime they fall in.

use critscale_real::Real;
use std::fmt;

/// How the attention scale β is given.
#[derive(Debug, Clone, PartialEq)]
pub enum Scaling<T> {
    /// β = γ log n.
    Gamma(T),
    /// β given directly; γ = β / log n.
    Beta(T),
    /// γ = γ_c = 1/(1 − ρ) exactly (to the backend's precision).
    Critical,
}

/// The regime of the theorems (T1, T3): which side of the critical scaling γ_c = 1/(1 − ρ) the
/// constant γ of β = γ log n lies on, i.e. the sign of κ = γ(1 − ρ) − 1. It says what happens as
/// n → ∞ at fixed γ; at one finite n the layer may still look otherwise (a γ just below γ_c is
/// far from collapse at n = 10⁶): that is [`FiniteRegime`]. THEORY.md §5 defines both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Regime {
    /// γ < γ_c (κ < 0): tokens collapse, gradients vanish.
    Subcritical,
    /// γ = γ_c (κ = 0).
    Critical,
    /// γ > γ_c (κ > 0): the layer tends to the identity.
    Supercritical,
}

impl fmt::Display for Regime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Regime::Subcritical => "subcritical",
            Regime::Critical => "critical",
            Regime::Supercritical => "supercritical",
        })
    }
}

/// Where the layer is at one finite n, read from the excess exponent κ·log n = β(1 − ρ) − log n
/// ([`SimplexParams::excess_exponent`]): the self weight is p = σ(κ log n + log(n/(n − 1)))
/// (THEORY.md §5), so |κ log n| ≤ 1 keeps p within σ(±1) ≈ 0.27…0.73 of its critical value ½.
/// This is how a scaling rule whose γ(n) = β_n/log n varies with n is read at each length
/// (`critscale schemes`); it is not the theorems' [`Regime`], which fixes γ and lets n → ∞.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FiniteRegime {
    /// κ log n < −1: the tokens collapse at this n.
    Collapse,
    /// |κ log n| ≤ 1: the near-critical band at this n.
    NearCritical,
    /// κ log n > 1: the layer is close to the identity at this n.
    Identity,
}

impl FiniteRegime {
    /// The regime of an excess exponent κ·log n (the band's ends ±1 belong to the band; NaN is
    /// read as near-critical, since no side can be named).
    pub fn of_excess_exponent(kappa_log_n: f64) -> Self {
        if kappa_log_n < -1.0 {
            FiniteRegime::Collapse
        } else if kappa_log_n > 1.0 {
            FiniteRegime::Identity
        } else {
            FiniteRegime::NearCritical
        }
    }

    /// The regime's name as printed and written to data files: `collapse`, `near-critical` or
    /// `identity` (the same words as its serde form).
    pub fn word(self) -> &'static str {
        match self {
            FiniteRegime::Collapse => "collapse",
            FiniteRegime::NearCritical => "near-critical",
            FiniteRegime::Identity => "identity",
        }
    }
}

impl fmt::Display for FiniteRegime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// A parameter outside the domain where the closed forms are defined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name} = {value} is invalid: {requirement}")]
pub struct InvalidParameter {
    /// The parameter's name as the user knows it (`n`, `rho`, `gamma`, ...).
    pub name: &'static str,
    /// The value given, as text.
    pub value: String,
    /// The valid range, in words and numbers.
    pub requirement: String,
}

/// A validated point of the simplex: n tokens with |x_i|² = q and pairwise cosine ρ.
#[derive(Debug, Clone)]
pub struct SimplexParams<T> {
    /// Number of tokens n ≥ 2 (any real n: the closed forms are analytic in n).
    pub n: T,
    /// log n.
    pub ln_n: T,
    /// Pairwise cosine ρ ∈ (−1/(n−1), 1).
    pub rho: T,
    /// The attention scale.
    pub scaling: Scaling<T>,
    /// Residual weight α ≥ 0.
    pub alpha: T,
    /// Squared token norm q > 0.
    pub q: T,
    /// Embedding dimension d ≥ n, needed only for η.
    pub d: Option<T>,
}

fn invalid<T: Real>(name: &'static str, value: &T, requirement: String) -> InvalidParameter {
    InvalidParameter {
        name,
        value: value.to_string(),
        requirement,
    }
}

fn require_finite<T: Real>(name: &'static str, value: &T) -> Result<(), InvalidParameter> {
    if value.is_finite() {
        Ok(())
    } else {
        Err(invalid(
            name,
            value,
            "must be a finite number within the backend's range".to_owned(),
        ))
    }
}

impl<T: Real> SimplexParams<T> {
    /// Checks every parameter and returns the first violation, naming it, its value and its range.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] (name, value, valid range) for the first violation: a non-finite value;
    /// n < 2; ρ outside (−1/(n−1), 1); γ or β ≤ 0; α < 0; q ≤ 0; or d < n.
    pub fn new(
        n: T,
        rho: T,
        scaling: Scaling<T>,
        alpha: T,
        q: T,
        d: Option<T>,
    ) -> Result<Self, InvalidParameter> {
        let ctx = n.ctx();
        let zero = T::zero(&ctx);
        let one = T::one(&ctx);
        let two = T::from_f64(&ctx, 2.0);

        require_finite("n", &n)?;
        if n < two {
            return Err(invalid("n", &n, "must be at least 2".to_owned()));
        }
        require_finite("rho", &rho)?;
        let rho_min = -(one.clone() / &(n.clone() - &one));
        if !(rho > rho_min && rho < one) {
            return Err(invalid(
                "rho",
                &rho,
                format!(
                    "must lie in (-1/(n-1), 1) = ({}, 1)",
                    rho_min.to_sci_string()
                ),
            ));
        }
        match &scaling {
            Scaling::Gamma(gamma) => {
                require_finite("gamma", gamma)?;
                if *gamma <= zero {
                    return Err(invalid("gamma", gamma, "must be positive".to_owned()));
                }
            }
            Scaling::Beta(beta) => {
                require_finite("beta", beta)?;
                if *beta <= zero {
                    return Err(invalid("beta", beta, "must be positive".to_owned()));
                }
            }
            Scaling::Critical => {}
        }
        require_finite("alpha", &alpha)?;
        if alpha < zero {
            return Err(invalid("alpha", &alpha, "must be >= 0".to_owned()));
        }
        require_finite("q", &q)?;
        if q <= zero {
            return Err(invalid("q", &q, "must be positive".to_owned()));
        }
        if let Some(d) = &d {
            require_finite("d", d)?;
            if *d < n {
                return Err(invalid(
                    "d",
                    d,
                    format!(
                        "a simplex of n = {} tokens needs dimension d >= n",
                        n.to_sci_string()
                    ),
                ));
            }
        }
        let ln_n = n.ln();
        Ok(SimplexParams {
            n,
            ln_n,
            rho,
            scaling,
            alpha,
            q,
            d,
        })
    }

    /// Cautions for points that are valid for the formulas but outside the theorems' hypotheses.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.rho <= T::zero(&self.rho.ctx()) {
            out.push(format!(
                "rho = {} <= 0: the closed forms hold, but the theorems assume 0 < rho < 1",
                self.rho
            ));
        }
        out
    }

    /// γ_c = 1/(1 − ρ) ([`crate::gamma_c`]).
    pub fn gamma_c(&self) -> T {
        crate::gamma_c(&self.rho)
    }

    /// γ, however the scale was given.
    pub fn gamma(&self) -> T {
        match &self.scaling {
            Scaling::Gamma(gamma) => gamma.clone(),
            Scaling::Beta(beta) => beta.clone() / &self.ln_n,
            Scaling::Critical => self.gamma_c(),
        }
    }

    /// β = γ log n, however the scale was given.
    pub fn beta(&self) -> T {
        match &self.scaling {
            Scaling::Beta(beta) => beta.clone(),
            _ => self.gamma() * &self.ln_n,
        }
    }

    /// log(n/(n − 1)) = −log(1 − 1/n), accurate for every n ≥ 2.
    pub fn ln_n_over_n_minus_1(&self) -> T {
        -(-self.n.recip()).ln_1p()
    }

    /// κ = γ(1 − ρ) − 1; exactly 0 at [`Scaling::Critical`].
    pub fn kappa(&self) -> T {
        let ctx = self.n.ctx();
        match &self.scaling {
            Scaling::Critical => T::zero(&ctx),
            _ => self.gamma() * &(T::one(&ctx) - &self.rho) - &T::one(&ctx),
        }
    }

    /// κ log n = β(1 − ρ) − log n, the exponent by which the self term e^β beats n·e^{βρ}.
    pub fn excess_exponent(&self) -> T {
        let ctx = self.n.ctx();
        match &self.scaling {
            Scaling::Critical => T::zero(&ctx),
            Scaling::Gamma(_) => self.kappa() * &self.ln_n,
            Scaling::Beta(beta) => beta.clone() * &(T::one(&ctx) - &self.rho) - &self.ln_n,
        }
    }

    /// The regime of the point. Exact at [`Scaling::Critical`]; for a given γ or β the point counts
    /// as critical when |κ| = |γ(1 − ρ) − 1| is within 8 unit roundoffs of zero, the rounding
    /// error of forming κ from a γ typed to full precision.
    pub fn regime(&self) -> Regime {
        if self.scaling == Scaling::Critical {
            return Regime::Critical;
        }
        let ctx = self.n.ctx();
        let kappa = self.kappa();
        let tolerance = T::from_f64(&ctx, 8.0) * &T::unit_roundoff(&ctx);
        if kappa.abs() <= tolerance {
            Regime::Critical
        } else if kappa < T::zero(&ctx) {
            Regime::Subcritical
        } else {
            Regime::Supercritical
        }
    }

    /// The regime at this finite n, from κ·log n ([`FiniteRegime`]).
    pub fn finite_regime(&self) -> FiniteRegime {
        FiniteRegime::of_excess_exponent(self.excess_exponent().to_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finite_regime_words_are_their_serde_form() {
        for regime in [
            FiniteRegime::Collapse,
            FiniteRegime::NearCritical,
            FiniteRegime::Identity,
        ] {
            let json = serde_json::to_string(&regime).unwrap();
            assert_eq!(json, format!("\"{}\"", regime.word()));
        }
    }

    #[test]
    fn the_theorems_regime_and_the_finite_regime_can_differ() {
        // γ = 0.9 γ_c at ρ = 0.3 is subcritical, yet κ log n = −0.1 · log 10⁴ ≈ −0.92 puts
        // n = 10⁴ in the near-critical band; by n = 10⁵ (κ log n ≈ −1.15) it collapses.
        let at =
            |n: f64| SimplexParams::new(n, 0.3, Scaling::Gamma(0.9 / 0.7), 0.0, 1.0, None).unwrap();
        assert_eq!(at(1e4).regime(), Regime::Subcritical);
        assert_eq!(at(1e4).finite_regime(), FiniteRegime::NearCritical);
        assert_eq!(at(1e5).finite_regime(), FiniteRegime::Collapse);
        assert_eq!(
            FiniteRegime::of_excess_exponent(1.0),
            FiniteRegime::NearCritical
        );
        assert_eq!(
            FiniteRegime::of_excess_exponent(1.5),
            FiniteRegime::Identity
        );
    }
}
