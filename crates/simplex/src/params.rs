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

/// Which side of the critical scaling γ_c = 1/(1 − ρ) a point lies on (T1, T3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Regime {
    /// γ < γ_c: tokens collapse, gradients vanish.
    Subcritical,
    /// γ = γ_c.
    Critical,
    /// γ > γ_c: the layer tends to the identity.
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
}
