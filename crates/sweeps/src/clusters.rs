//! Clustered Gaussian configurations: tokens in groups of m whose cosines concentrate on two
//! levels (inside a group, across groups), so that as d → ∞ they tend to a two-level
//! configuration, not to a simplex. The negative control of the claim that the transition of a
//! Gaussian almost-simplex tends to the simplex's (`T2.threshold.large_d`) runs its check on them.
//!
//! **Tokens.** With z₀, the group vectors z_{(1)}, …, z_{(K)} and z_1, …, z_n i.i.d. N(0, I_d/d),
//! K = n/m groups and g(i) = ⌊i/m⌋ the group of token i,
//!
//! x_i = √ρ_a z₀ + √(ρ_w − ρ_a) z_{(g(i))} + √(1 − ρ_w) z_i,
//!
//! so E|x_i|² = 1, E⟨x_i, x_j⟩ = ρ_w inside a group and ρ_a across. m = 2 pairs every token with a
//! near-copy (THEORY §10 with copies blurred to cosine ρ_w); m = n/2 gives two clusters. The draw
//! uses the stream of the sample's [`SampleKey`] (the crate's seed policy; give the family its own
//! tag): the 1 + K + n vectors z are the rows of a Gaussian almost-simplex with ρ = 0
//! (`critscale_model::gaussian_almost_simplex`), whose rows are i.i.d. N(0, I_d/d).
//!
//! **The d → ∞ limit** is the exact two-level configuration: unit y_i with ⟨y_i, y_j⟩ = ρ_w in a
//! group, ρ_a across. Its layer (α = 0, β = γ ln n; our derivation, tested below against the
//! kernels on an exact realisation) has three weights per row, p = e^β/Z, r_w = e^{βρ_w}/Z,
//! r_a = e^{βρ_a}/Z with Z = e^β + (m − 1)e^{βρ_w} + (n − m)e^{βρ_a}. With c = p − r_w,
//! e = r_w − r_a, S_g the sum of group g and S of all tokens,
//! x'_i = c y_i + e S_{g(i)} + r_a S. Writing s_w = 1 + (m − 1)ρ_w and σ = s_w + (n − m)ρ_a
//! (= ⟨y_i, S⟩):
//!
//! * |x'_i|² = N = c² + 2c(e s_w + r_a σ) + e² m s_w + 2e r_a m σ + r_a² n σ,
//! * in a group ⟨x'_i, x'_j⟩ = N − c²(1 − ρ_w),
//! * across ⟨x'_i, x'_k⟩ = X = c²ρ_a + 2c(e m ρ_a + r_a σ) + e² m² ρ_a + 2e r_a m σ + r_a² n σ,
//!
//! and λ (THEORY §3, the mean over pairs of (1 − cos_out)/(1 − cos_in)), with f = (m − 1)/(n − 1)
//! the share of pairs inside a group, is λ = f·c²/N + (1 − f)·(1 − X/N)/(1 − ρ_a)
//! ([`Clusters::lambda`]). At m = 2 the near-copy adds the weight e^{−β(1 − ρ_w)} (relative to
//! the self term) on a direction close to y_i, so the token keeps its direction at a smaller γ:
//! the crossing of λ = ½ moves below the simplex's at the mean cosine, by O(1/((1 − ρ) ln n))
//! (at n = 256, ρ_w = 0.9, ρ_a = 0.3: 1.3305 against 1.4112). Two clusters (m = n/2) barely move
//! it at that n: with the mean cosine held at 0.3, the shift is at most 0.022 over the levels.

use crate::seed::SampleKey;
use crate::{Error, LAMBDA_HALF, Result};
use critscale_asymptotics::threshold;
use ndarray::Array2;

/// A clustered configuration: groups of `group` tokens, cosine `within` inside a group and
/// `across` between groups.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Clusters {
    /// Tokens per group, m ≥ 1 (it must divide n).
    pub group: usize,
    /// ρ_w, the cosine inside a group: ρ_a ≤ ρ_w < 1.
    pub within: f64,
    /// ρ_a, the cosine across groups: ρ_a ≥ 0.
    pub across: f64,
}

impl Clusters {
    fn check(&self, n: usize) -> Result<()> {
        let levels = 0.0 <= self.across && self.across <= self.within && self.within < 1.0;
        let sizes = n >= 2 && self.group >= 1 && n.is_multiple_of(self.group);
        if levels && sizes {
            Ok(())
        } else {
            Err(Error::BadInput {
                what: format!("clusters {self:?} of n = {n} tokens"),
                reason: "need 0 <= across <= within < 1, n >= 2 and a group size dividing n"
                    .to_owned(),
            })
        }
    }

    /// The share of the pairs of n tokens that lie inside a group: (m − 1)/(n − 1).
    pub fn within_share(&self, n: usize) -> f64 {
        (self.group as f64 - 1.0) / (n as f64 - 1.0)
    }

    /// The mean cosine over the pairs of n tokens: ρ_a + (ρ_w − ρ_a)(m − 1)/(n − 1).
    pub fn mean_cosine(&self, n: usize) -> f64 {
        self.across + (self.within - self.across) * self.within_share(n)
    }

    /// The n × d tokens of `key` (see the module docs). `key.rho` is not used by the draw (the
    /// levels are); it names the mean cosine the family stands in for.
    ///
    /// # Errors
    /// [`Error::BadInput`] for bad levels or sizes (see [`Clusters`]), or d < 1.
    pub fn draw(&self, key: &SampleKey) -> Result<Array2<f64>> {
        self.check(key.n)?;
        if key.d < 1 {
            return Err(Error::BadInput {
                what: format!("sample {key}"),
                reason: "need d >= 1".to_owned(),
            });
        }
        let (n, d, m) = (key.n, key.d, self.group);
        let groups = n / m;
        // Rows: z₀, then the K group vectors, then z_1 … z_n; i.i.d. N(0, I_d/d) (ρ = 0).
        let z = critscale_model::gaussian_almost_simplex::<f64>(
            &(),
            1 + groups + n,
            d,
            0.0,
            key.stream_seed(),
        );
        let shared = self.across.sqrt();
        let group = (self.within - self.across).sqrt();
        let own = (1.0 - self.within).sqrt();
        Ok(Array2::from_shape_fn((n, d), |(i, a)| {
            shared * z[[0, a]] + group * z[[1 + i / m, a]] + own * z[[1 + groups + i, a]]
        }))
    }

    /// λ of the exact two-level configuration of n tokens at γ (α = 0, β = γ ln n), from the
    /// closed form of the module docs.
    ///
    /// # Errors
    /// [`Error::BadInput`] for bad levels or sizes, or γ not positive and finite.
    pub fn lambda(&self, n: usize, gamma: f64) -> Result<f64> {
        self.check(n)?;
        if !(gamma.is_finite() && gamma > 0.0) {
            return Err(Error::BadInput {
                what: format!("two-level point n = {n}, gamma = {gamma}"),
                reason: "need a finite gamma > 0".to_owned(),
            });
        }
        let (rho_w, rho_a) = (self.within, self.across);
        let (nf, m) = (n as f64, self.group as f64);
        let beta = gamma * nf.ln();
        // Weights relative to the self term e^β (exponents ≤ 0: no overflow).
        let w = (-beta * (1.0 - rho_w)).exp();
        let a = (-beta * (1.0 - rho_a)).exp();
        let z = 1.0 + (m - 1.0) * w + (nf - m) * a;
        let (p, r_w, r_a) = (1.0 / z, w / z, a / z);
        let c = p - r_w;
        let e = r_w - r_a;
        let s_w = 1.0 + (m - 1.0) * rho_w;
        let sigma = s_w + (nf - m) * rho_a;
        let common = 2.0 * e * r_a * m * sigma + r_a * r_a * nf * sigma;
        let norm = c * c + 2.0 * c * (e * s_w + r_a * sigma) + e * e * m * s_w + common;
        let across = c * c * rho_a
            + 2.0 * c * (e * m * rho_a + r_a * sigma)
            + e * e * m * m * rho_a
            + common;
        let f = self.within_share(n);
        Ok(f * c * c / norm + (1.0 - f) * (1.0 - across / norm) / (1.0 - rho_a))
    }

    /// The γ in [lo, hi] where the exact two-level λ = ½ at n, bisected to a bracket ≤ `xtol`.
    ///
    /// # Errors
    /// As [`Clusters::lambda`]; [`Error::Crossing`] if λ − ½ has one sign at both ends.
    pub fn half_crossing(&self, n: usize, lo: f64, hi: f64, xtol: f64) -> Result<f64> {
        let mut refused = None;
        let found = threshold::bisect(
            |gamma| match self.lambda(n, gamma) {
                Ok(l) => l,
                Err(e) => {
                    refused.get_or_insert(e);
                    f64::NAN
                }
            },
            LAMBDA_HALF,
            lo,
            hi,
            xtol,
        );
        if let Some(e) = refused {
            return Err(e);
        }
        found.map(|c| c.root).map_err(|source| Error::Crossing {
            what: format!("two-level lambda = 1/2 at n = {n}, {self:?}"),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::Configuration;
    use approx::assert_abs_diff_eq;

    const TWINS: Clusters = Clusters {
        group: 2,
        within: 0.9,
        across: 0.3,
    };

    #[test]
    fn equal_levels_are_the_simplex() {
        // With ρ_a = ρ_w the closed form is the simplex's λ (crate::simplex), for any m.
        for (n, m, ratio) in [(64usize, 2, 0.8), (256, 128, 1.0), (1024, 4, 1.3)] {
            let flat = Clusters {
                group: m,
                within: 0.3,
                across: 0.3,
            };
            let two = flat.lambda(n, ratio / (1.0 - 0.3)).unwrap();
            let (simplex, _) = crate::simplex::lambda(n as f64, 0.3, ratio).unwrap();
            assert_abs_diff_eq!(two, simplex, epsilon = 1e-12);
        }
    }

    #[test]
    fn the_closed_form_is_the_layer_on_an_exact_two_level_configuration() {
        // Exact realisation in d = 1 + K + n: y_i = √ρ_a e₀ + √(ρ_w − ρ_a) e_{g(i)} + √(1 − ρ_w) e_i.
        let n = 24;
        for c in [
            TWINS,
            Clusters {
                group: 12,
                within: 0.5,
                across: 0.1,
            },
            Clusters {
                group: 3,
                within: 0.6,
                across: 0.0,
            },
        ] {
            let groups = n / c.group;
            let d = 1 + groups + n;
            let x = Array2::from_shape_fn((n, d), |(i, a)| {
                if a == 0 {
                    c.across.sqrt()
                } else if a == 1 + i / c.group {
                    (c.within - c.across).sqrt()
                } else if a == 1 + groups + i {
                    (1.0 - c.within).sqrt()
                } else {
                    0.0
                }
            });
            let key = SampleKey::new("test-two-level", n, d, 0.3, 0);
            let config = Configuration::from_tokens(&key, x).unwrap();
            assert_abs_diff_eq!(config.rho_hat(), c.mean_cosine(n), epsilon = 1e-12);
            for gamma in [0.5, 1.4, 2.5] {
                let layer = config.layer(gamma, false).unwrap();
                let closed = c.lambda(n, gamma).unwrap();
                assert_abs_diff_eq!(layer.lambda, closed, epsilon = 1e-9);
            }
        }
    }

    #[test]
    fn the_draw_has_the_two_levels() {
        let key = SampleKey::new("test-clusters", 64, 8192, 0.3, 0);
        let x = TWINS.draw(&key).unwrap();
        let cos = |i: usize, j: usize| {
            let (a, b) = (x.row(i), x.row(j));
            a.dot(&b) / (a.dot(&a) * b.dot(&b)).sqrt()
        };
        assert_abs_diff_eq!(cos(0, 1), 0.9, epsilon = 0.03);
        assert_abs_diff_eq!(cos(40, 41), 0.9, epsilon = 0.03);
        assert_abs_diff_eq!(cos(1, 2), 0.3, epsilon = 0.05);
        assert_abs_diff_eq!(cos(0, 40), 0.3, epsilon = 0.05);
        // The key's own stream: the same key draws the same tokens, another seed others.
        assert_eq!(x, TWINS.draw(&key).unwrap());
        assert_ne!(x, TWINS.draw(&SampleKey { seed: 1, ..key }).unwrap());
        assert!(TWINS.draw(&SampleKey { n: 63, ..key }).is_err());
        assert!(TWINS.draw(&SampleKey { d: 0, ..key }).is_err());
        let bad = Clusters {
            across: 0.95,
            ..TWINS
        };
        assert!(bad.draw(&key).is_err());
        assert!(bad.lambda(64, 1.0).is_err());
        assert!(TWINS.lambda(64, f64::NAN).is_err());
    }

    #[test]
    fn near_copies_move_the_crossing_away_from_the_simplex() {
        let n = 256;
        let gamma_c = 1.0 / 0.7;
        let two = TWINS
            .half_crossing(n, 0.5 * gamma_c, 2.0 * gamma_c, 1e-10)
            .unwrap();
        assert_abs_diff_eq!(TWINS.lambda(n, two).unwrap(), 0.5, epsilon = 1e-8);
        let simplex = crate::simplex::half_crossing(n as f64, TWINS.mean_cosine(n)).unwrap();
        // The near-copy adds to the self weight (its output stays near y_i), so λ = ½ is
        // reached at a smaller γ than on the simplex with the same mean cosine.
        assert!(simplex - two > 0.05, "{two} {simplex}");
        assert!(TWINS.half_crossing(n, 0.1, 0.2, 1e-6).is_err());
    }
}
