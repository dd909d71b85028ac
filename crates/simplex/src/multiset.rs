//! Closed forms of one attention layer on a **multiset simplex**: a context with repeated tokens
//! (THEORY §10).
//!
//! The context holds n tokens on m ≥ 2 distinct directions u_1, …, u_m that form a simplex
//! (|u_k| = 1, ⟨u_k, u_l⟩ = ρ for k ≠ l); direction k occurs c_k times (its multiplicity, share
//! f_k = c_k/n, n = Σ_k c_k), every token has |x|² = q, and β = γ log n with the **whole** n
//! (THEORY §1). Tokens of one type are copies: they have the same scores, the same attention row
//! and the same output, so the layer is described per type.
//!
//! **Self mass.** For a token of type k the partition sum is Z_k = c_k e^β + (n − c_k)e^{βρ}, so
//! the mass it puts on its own copies (itself included) is
//!
//!   s_k = c_k e^β/Z_k = σ(β(1 − ρ) − log((1 − f_k)/f_k)),
//!
//! σ the logistic function: it is ½ at **β = log((1 − f_k)/f_k)/(1 − ρ)**
//! ([`self_mass_crossing`]), which depends on n only through the share f_k. Each token of another
//! type gets e_k = e^{βρ}/Z_k = (1 − s_k)/(n − c_k).
//!
//! **Outputs.** With S = Σ_l c_l u_l (the sum of all n directions) and t = β(1 − ρ),
//!
//!   x'_k = Σ_l w_kl u_l + α√q u_k = a_k u_k + e_k S,  a_k = s_k(1 − e^{−t}) + α√q,
//!
//! since the weight on type l ≠ k is w_kl = c_l e_k and c_k e_k = s_k e^{−t}. Write
//! σ_k = ⟨u_k, S⟩ = (1 − ρ)c_k + ρn and |S|² = (1 − ρ)Σ_l c_l² + ρn². Split u_k into its part
//! along S and the rest, u_k = u_k^⊥ + (σ_k/|S|²)S, with
//!
//!   |u_k^⊥|² = 1 − σ_k²/|S|² = (1 − ρ)[Σ_{l≠k} c_l² + ρ(n − c_k)²]/|S|²  (a sum of positive terms),
//!   ⟨u_k^⊥, u_l^⊥⟩ = ρ − σ_kσ_l/|S|²  (k ≠ l).
//!
//! Then x'_k = a_k u_k^⊥ + b_k S with b_k = a_kσ_k/|S|² + e_k, |x'_k|² = a_k²|u_k^⊥|² + b_k²|S|²,
//! and the output makes the angle θ_k with S given by sin θ_k = a_k|u_k^⊥|/|x'_k|,
//! cos θ_k = b_k|S|/|x'_k|. For two types k ≠ l, with c^⊥_kl the cosine between u_k^⊥ and u_l^⊥,
//!
//!   1 − cos'_kl = (1 − cos(θ_k − θ_l)) + sin θ_k sin θ_l (1 − c^⊥_kl),
//!   1 − cos(θ_k − θ_l) = ½(sin θ_k − sin θ_l)²[1 + ((sin θ_k + sin θ_l)/(cos θ_k + cos θ_l))²],
//!   1 − c^⊥_kl = [2(1 − ρ) − δ_kl² − (|u_k^⊥| − |u_l^⊥|)²]/(2|u_k^⊥||u_l^⊥|),
//!
//! where δ_kl² = (1 − ρ)²(c_k − c_l)²/|S|² (from |u_k^⊥ − u_l^⊥|² = 2(1 − ρ) − δ_kl²) and
//! |u_k^⊥| − |u_l^⊥| = (1 − ρ)(c_l − c_k)(σ_k + σ_l)/(|S|²(|u_k^⊥| + |u_l^⊥|)). Every term is
//! nonnegative or formed from a difference of the inputs (c_k − c_l), so 1 − cos'_kl keeps its
//! relative accuracy where the tokens collapse (cos' → 1). Copies keep cos' = 1.
//!
//! **λ** (THEORY §3 and §10) is averaged over the pairs of tokens of *distinct* types (a copy pair
//! makes the ratio 0/0): λ = Σ_{k<l} c_k c_l (1 − cos'_kl)/(1 − ρ) / Σ_{k<l} c_k c_l, and
//! λ_angle likewise with θ'_kl/arccos ρ.
//!
//! **Equal multiplicities** (c_k = c, n = mc). Then s_k = e^β/(e^β + (m − 1)e^{βρ}) and every
//! output is that of the m-token simplex at the **same β**: THEORY §5 with m in place of n inside
//! p, r and s₁ ([`MultisetParams::equal_reduction`]). The two paths agree to rounding (tests).
//!
//! Everything here is evaluated directly from the logistic self mass (no overflow at any β), but
//! not in logarithms beyond it: where a weight leaves the backend's range (|t − log((n − c)/c)|
//! beyond ≈ 700 in `f64`) use a wider backend, or the log-domain simplex forms for equal
//! multiplicities.

use crate::params::{InvalidParameter, Scaling, SimplexParams};
use critscale_real::Real;

/// The β at which a token of share f = c/n puts half its mass on its own copies, on a multiset
/// simplex of pairwise cosine ρ: β = log((1 − f)/f)/(1 − ρ) (THEORY §10; module docs). It is
/// negative for f > ½ (the copies hold the majority at every β ≥ 0) and does not depend on n.
/// The γ of the crossing is β/log n. For f = 1/n (distinct tokens) it is the simplex's
/// log(n − 1)/(1 − ρ).
pub fn self_mass_crossing<T: Real>(share: &T, rho: &T) -> T {
    let one = T::one(&share.ctx());
    ((one.clone() - share) / share).ln() / &(one - rho)
}

/// The self mass s = σ(β(1 − ρ) − log((1 − f)/f)) of a token of share f at β on a multiset
/// simplex of cosine ρ (module docs), with its logarithm: `(s, log s)`.
pub fn self_mass<T: Real>(share: &T, rho: &T, beta: &T) -> (T, T) {
    let one = T::one(&share.ctx());
    let odds = ((one.clone() - share) / share).ln();
    let z = beta.clone() * &(one - rho) - &odds;
    let ln_s = -(-z).softplus();
    (ln_s.exp(), ln_s)
}

/// A validated point of the multiset simplex: multiplicities c_1, …, c_m of m distinct simplex
/// directions of cosine ρ, the scale, the residual weight α and the squared norm q.
#[derive(Debug, Clone)]
pub struct MultisetParams<T> {
    /// The multiplicities c_k ≥ 1 (real numbers: the forms are analytic in them), m ≥ 2 of them.
    pub counts: Vec<T>,
    /// n = Σ_k c_k.
    pub n: T,
    /// log n.
    pub ln_n: T,
    /// Pairwise cosine ρ ∈ (−1/(m − 1), 1) of the distinct directions.
    pub rho: T,
    /// The attention scale: β = γ log n with the whole n; [`Scaling::Critical`] is
    /// γ = 1/(1 − ρ), the paper's γ_c (not the multiset's crossing).
    pub scaling: Scaling<T>,
    /// Residual weight α ≥ 0.
    pub alpha: T,
    /// Squared token norm q > 0.
    pub q: T,
}

fn invalid<T: Real>(name: &'static str, value: &T, requirement: String) -> InvalidParameter {
    InvalidParameter {
        name,
        value: value.to_string(),
        requirement,
    }
}

impl<T: Real> MultisetParams<T> {
    /// Checks every parameter and returns the first violation, naming it, its value and range.
    ///
    /// # Errors
    ///
    /// [`InvalidParameter`] for: fewer than 2 multiplicities (`counts`, the value is m); a
    /// multiplicity that is not finite or below 1 (`counts`); ρ not finite or outside
    /// (−1/(m − 1), 1); γ or β not finite or ≤ 0; α not finite or < 0; q not finite or ≤ 0.
    pub fn new(
        counts: Vec<T>,
        rho: T,
        scaling: Scaling<T>,
        alpha: T,
        q: T,
    ) -> Result<Self, InvalidParameter> {
        let ctx = rho.ctx();
        let zero = T::zero(&ctx);
        let one = T::one(&ctx);
        let m = T::from_i64(&ctx, i64::try_from(counts.len()).unwrap_or(i64::MAX));
        if counts.len() < 2 {
            return Err(invalid(
                "counts",
                &m,
                "need at least 2 distinct directions (m >= 2)".to_owned(),
            ));
        }
        for c in &counts {
            if !(c.is_finite() && *c >= one) {
                return Err(invalid(
                    "counts",
                    c,
                    "every multiplicity must be finite and >= 1".to_owned(),
                ));
            }
        }
        let rho_min = -(one.clone() / &(m - &one));
        if !(rho.is_finite() && rho > rho_min && rho < one) {
            return Err(invalid(
                "rho",
                &rho,
                format!(
                    "must lie in (-1/(m-1), 1) = ({}, 1)",
                    rho_min.to_sci_string()
                ),
            ));
        }
        match &scaling {
            Scaling::Gamma(g) if !(g.is_finite() && *g > zero) => {
                return Err(invalid(
                    "gamma",
                    g,
                    "must be positive and finite".to_owned(),
                ));
            }
            Scaling::Beta(b) if !(b.is_finite() && *b > zero) => {
                return Err(invalid("beta", b, "must be positive and finite".to_owned()));
            }
            _ => {}
        }
        if !(alpha.is_finite() && alpha >= zero) {
            return Err(invalid(
                "alpha",
                &alpha,
                "must be finite and >= 0".to_owned(),
            ));
        }
        if !(q.is_finite() && q > zero) {
            return Err(invalid("q", &q, "must be positive and finite".to_owned()));
        }
        let mut n = zero;
        for c in &counts {
            n += c.clone();
        }
        let ln_n = n.ln();
        Ok(MultisetParams {
            counts,
            n,
            ln_n,
            rho,
            scaling,
            alpha,
            q,
        })
    }

    /// β = γ log n (n the whole context), however the scale was given.
    pub fn beta(&self) -> T {
        match &self.scaling {
            Scaling::Beta(b) => b.clone(),
            Scaling::Gamma(g) => g.clone() * &self.ln_n,
            Scaling::Critical => self.ln_n.clone() / &(T::one(&self.rho.ctx()) - &self.rho),
        }
    }

    /// The share f_k = c_k/n of type k.
    ///
    /// # Panics
    ///
    /// If `k` ≥ m.
    pub fn share(&self, k: usize) -> T {
        self.counts[k].clone() / &self.n
    }

    /// When every multiplicity is the same, the m-token simplex at the same β (and ρ, α, q) whose
    /// closed forms (THEORY §5, [`crate::SimplexLayer`]) are the layer's: `None` otherwise.
    ///
    /// # Errors
    ///
    /// Inside the `Some`: [`InvalidParameter`] from [`SimplexParams::new`] (it cannot occur for a
    /// validated point).
    pub fn equal_reduction(&self) -> Option<Result<SimplexParams<T>, InvalidParameter>> {
        let first = &self.counts[0];
        if self.counts.iter().any(|c| c != first) {
            return None;
        }
        let ctx = self.rho.ctx();
        let m = T::from_i64(&ctx, i64::try_from(self.counts.len()).unwrap_or(i64::MAX));
        Some(SimplexParams::new(
            m,
            self.rho.clone(),
            Scaling::Beta(self.beta()),
            self.alpha.clone(),
            self.q.clone(),
            None,
        ))
    }
}

/// The layer seen from one type k of a multiset simplex (module docs).
#[derive(Debug, Clone)]
pub struct TypeLayer<T> {
    /// f_k = c_k/n.
    pub share: T,
    /// s_k: the attention mass on its own copies (itself included).
    pub self_mass: T,
    /// log s_k.
    pub ln_self_mass: T,
    /// e_k: the weight on each token of another type, (1 − s_k)/(n − c_k).
    pub other_weight: T,
    /// a_k = s_k(1 − e^{−β(1−ρ)}) + α√q, the coefficient of u_k in x'_k = a_k u_k + e_k S.
    pub direction_coefficient: T,
    /// |x'_k|².
    pub out_norm_sq: T,
    /// β at which s_k = ½: log((1 − f_k)/f_k)/(1 − ρ) ([`self_mass_crossing`]).
    pub crossing_beta: T,
}

/// Every closed-form quantity of the multiset simplex at one point (see the module docs).
#[derive(Debug, Clone)]
pub struct MultisetLayer<T> {
    /// β = γ log n.
    pub beta: T,
    /// One entry per type, in the order of the multiplicities.
    pub types: Vec<TypeLayer<T>>,
    /// 1 − cos'_kl, row-major m × m (0 on the diagonal: copies keep their direction).
    one_minus_cos: Vec<T>,
    /// λ over the pairs of tokens of distinct types.
    pub lambda: T,
    /// λ_angle over the same pairs: the mean of θ'_kl/arccos ρ.
    pub lambda_angle: T,
    /// The share of token pairs that are copies, Σ_k c_k(c_k − 1)/(n(n − 1)).
    pub copy_pair_fraction: T,
}

impl<T: Real> MultisetLayer<T> {
    /// Evaluates the closed forms of the module docs at a validated point: O(m²) operations.
    pub fn evaluate(params: &MultisetParams<T>) -> Self {
        let ctx = params.rho.ctx();
        let zero = T::zero(&ctx);
        let one = T::one(&ctx);
        let two = T::from_f64(&ctx, 2.0);
        let rho = &params.rho;
        let one_minus_rho = one.clone() - rho;
        let n = &params.n;
        let c = &params.counts;
        let m = c.len();
        let beta = params.beta();
        let t = beta.clone() * &one_minus_rho;
        // 1 − e^{−t}, with its digits for small t.
        let one_minus_e_mt = -(-t.clone()).exp_m1();
        let residual = params.alpha.clone() * &params.q.sqrt();

        let mut sum_sq = zero.clone();
        for ck in c {
            sum_sq += ck.square();
        }
        // |S|² = (1 − ρ)Σc² + ρn².
        let s2 = one_minus_rho.clone() * &sum_sq + &(rho.clone() * &n.square());
        let s_norm = s2.sqrt();

        let mut types = Vec::with_capacity(m);
        let mut sin_theta = Vec::with_capacity(m);
        let mut cos_theta = Vec::with_capacity(m);
        let mut perp = Vec::with_capacity(m);
        let mut sigma = Vec::with_capacity(m);
        for ck in c {
            let share = ck.clone() / n;
            let rest = n.clone() - ck;
            let odds = (rest.clone() / ck).ln();
            let z = t.clone() - &odds;
            let ln_s = -(-z.clone()).softplus();
            let s = ln_s.exp();
            let one_minus_s = (-z.softplus()).exp();
            let e = one_minus_s / &rest;
            let a = s.clone() * &one_minus_e_mt + &residual;
            let sig = one_minus_rho.clone() * ck + &(rho.clone() * n);
            // |u_k^⊥|² = (1 − ρ)[Σ_{l≠k} c_l² + ρ(n − c_k)²]/|S|².
            let others_sq = sum_sq.clone() - &ck.square();
            let perp_sq =
                one_minus_rho.clone() * &(others_sq + &(rho.clone() * &rest.square())) / &s2;
            let u_perp = perp_sq.sqrt();
            let b = a.clone() * &sig / &s2 + &e;
            let along = b * &s_norm;
            let across = a.clone() * &u_perp;
            let norm_sq = across.square() + &along.square();
            let norm = norm_sq.sqrt();
            sin_theta.push(across / &norm);
            cos_theta.push(along / &norm);
            perp.push(u_perp);
            sigma.push(sig);
            types.push(TypeLayer {
                share: share.clone(),
                self_mass: s,
                ln_self_mass: ln_s,
                other_weight: e,
                direction_coefficient: a,
                out_norm_sq: norm_sq,
                crossing_beta: self_mass_crossing(&share, rho),
            });
        }

        let mut one_minus_cos = vec![zero.clone(); m * m];
        let mut lambda_sum = zero.clone();
        let mut angle_sum = zero.clone();
        let mut pair_weight = zero.clone();
        let theta_in = rho.acos();
        for k in 0..m {
            for l in (k + 1)..m {
                let dc = c[k].clone() - &c[l];
                let delta_sq = one_minus_rho.square() * &dc.square() / &s2;
                let perp_diff = -(one_minus_rho.clone() * &dc * &(sigma[k].clone() + &sigma[l]))
                    / &(s2.clone() * &(perp[k].clone() + &perp[l]));
                let one_minus_cperp =
                    (two.clone() * &one_minus_rho - &delta_sq - &perp_diff.square())
                        / &(two.clone() * &perp[k] * &perp[l]);
                let ds = sin_theta[k].clone() - &sin_theta[l];
                let ratio = (sin_theta[k].clone() + &sin_theta[l])
                    / &(cos_theta[k].clone() + &cos_theta[l]);
                let rotation = ds.square() * &(one.clone() + &ratio.square()) / &two;
                let value = rotation + &(sin_theta[k].clone() * &sin_theta[l] * &one_minus_cperp);
                let w = c[k].clone() * &c[l];
                lambda_sum += w.clone() * &value;
                // θ' = 2 asin(√((1 − cos')/2)).
                let theta_out = two.clone() * &(value.clone() / &two).sqrt().min(&one).asin();
                angle_sum += w.clone() * &(theta_out / &theta_in);
                pair_weight += w;
                one_minus_cos[k * m + l] = value.clone();
                one_minus_cos[l * m + k] = value;
            }
        }
        let mut copy_pairs = zero.clone();
        for ck in c {
            copy_pairs += ck.clone() * &(ck.clone() - &one);
        }
        let copy_pair_fraction = copy_pairs / &(n.clone() * &(n.clone() - &one));
        MultisetLayer {
            beta,
            types,
            one_minus_cos,
            lambda: lambda_sum / &(pair_weight.clone() * &one_minus_rho),
            lambda_angle: angle_sum / &pair_weight,
            copy_pair_fraction,
        }
    }

    /// The number of types m.
    pub fn types(&self) -> usize {
        self.types.len()
    }

    /// 1 − ⟨y'_i, y'_j⟩ for a token i of type k and a token j of type l (0 when k = l).
    ///
    /// # Panics
    ///
    /// If `k` or `l` ≥ m.
    pub fn one_minus_cos_out(&self, k: usize, l: usize) -> T {
        let m = self.types.len();
        assert!(k < m && l < m, "type ({k}, {l}) out of range: m = {m}");
        self.one_minus_cos[k * m + l].clone()
    }

    /// ⟨y'_i, y'_j⟩ for a token i of type k and a token j of type l.
    ///
    /// # Panics
    ///
    /// If `k` or `l` ≥ m.
    pub fn cos_out(&self, k: usize, l: usize) -> T {
        let value = self.one_minus_cos_out(k, l);
        T::one(&value.ctx()) - &value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimplexLayer;
    use approx::abs_diff_eq;
    use proptest::prelude::*;

    fn layer(counts: &[f64], rho: f64, beta: f64, alpha: f64, q: f64) -> MultisetLayer<f64> {
        let params =
            MultisetParams::new(counts.to_vec(), rho, Scaling::Beta(beta), alpha, q).unwrap();
        MultisetLayer::evaluate(&params)
    }

    /// Unit vectors u_1 … u_m in ℝ^m with pairwise cosine ρ: u_k = b e_k + c·1, b = √(1 − ρ),
    /// c = ρ/(b + √(1 − ρ + mρ)).
    fn simplex_directions(m: usize, rho: f64) -> Vec<Vec<f64>> {
        let b = (1.0 - rho).sqrt();
        let c = rho / (b + (1.0 - rho + m as f64 * rho).sqrt());
        (0..m)
            .map(|k| (0..m).map(|a| if a == k { b + c } else { c }).collect())
            .collect()
    }

    /// The layer by brute force on the types: Z_k = Σ_l c_l e^{β⟨u_k,u_l⟩}, x'_k = Σ_l (c_l
    /// e^{β⟨u_k,u_l⟩}/Z_k) u_l + α√q u_k. Returns (s_k, 1 − cos'_kl as m × m).
    fn brute_force(
        counts: &[f64],
        rho: f64,
        beta: f64,
        alpha: f64,
        q: f64,
    ) -> (Vec<f64>, Vec<Vec<f64>>) {
        let m = counts.len();
        let u = simplex_directions(m, rho);
        let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
        let mut outputs = Vec::new();
        let mut self_mass = Vec::new();
        for k in 0..m {
            let w: Vec<f64> = (0..m)
                .map(|l| counts[l] * (beta * (dot(&u[k], &u[l]) - 1.0)).exp())
                .collect();
            let z: f64 = w.iter().sum();
            self_mass.push(w[k] / z);
            let mut x = vec![0.0; m];
            for l in 0..m {
                for a in 0..m {
                    x[a] += w[l] / z * u[l][a];
                }
            }
            for a in 0..m {
                x[a] += alpha * q.sqrt() * u[k][a];
            }
            let r = dot(&x, &x).sqrt();
            outputs.push(x.iter().map(|v| v / r).collect::<Vec<f64>>());
        }
        let omc = (0..m)
            .map(|k| {
                (0..m)
                    .map(|l| {
                        let d: f64 = (0..m)
                            .map(|a| (outputs[k][a] - outputs[l][a]).powi(2))
                            .sum();
                        d / 2.0
                    })
                    .collect()
            })
            .collect();
        (self_mass, omc)
    }

    #[test]
    fn the_crossing_is_where_the_self_mass_is_one_half() {
        for (f, rho) in [(0.1, 0.3), (1.0 / 7.0, 0.5), (0.01, 0.0), (0.4, 0.9)] {
            let beta = self_mass_crossing(&f, &rho);
            let (s, ln_s) = self_mass(&f, &rho, &beta);
            assert!(abs_diff_eq!(s, 0.5, epsilon = 1e-14), "{f} {rho}: {s}");
            assert!(abs_diff_eq!(ln_s, 0.5f64.ln(), epsilon = 1e-14));
        }
        // Distinct tokens: the simplex's log(n − 1)/(1 − ρ).
        let n = 1000.0;
        assert!(abs_diff_eq!(
            self_mass_crossing(&(1.0 / n), &0.3),
            (n - 1.0f64).ln() / 0.7,
            epsilon = 1e-12
        ));
        // A majority type holds half its mass already at a negative β.
        assert!(self_mass_crossing(&0.6, &0.3) < 0.0);
    }

    #[test]
    fn the_self_mass_depends_on_n_only_through_the_share() {
        // One type of share 1/8 among distinct tokens, at n = 64 and n = 512, same β.
        let mut small = vec![8.0];
        small.extend(std::iter::repeat_n(1.0, 56));
        let mut large = vec![64.0];
        large.extend(std::iter::repeat_n(1.0, 448));
        let a = layer(&small, 0.3, 2.5, 0.0, 1.0);
        let b = layer(&large, 0.3, 2.5, 0.0, 1.0);
        assert!(abs_diff_eq!(
            a.types[0].self_mass,
            b.types[0].self_mass,
            epsilon = 1e-15
        ));
        let (s, _) = self_mass(&0.125, &0.3, &2.5);
        assert!(abs_diff_eq!(s, a.types[0].self_mass, epsilon = 1e-15));
        // The singletons see the simplex weight of their own share 1/n.
        let (s1, _) = self_mass(&(1.0 / 512.0), &0.3, &2.5);
        assert!(abs_diff_eq!(b.types[1].self_mass, s1, epsilon = 1e-15));
    }

    #[test]
    fn a_checked_unequal_point() {
        // counts (1, 2, 5), ρ = 0.25, β = 1.7, α = 0.3, q = 2: against the brute force.
        let counts = [1.0, 2.0, 5.0];
        let got = layer(&counts, 0.25, 1.7, 0.3, 2.0);
        let (s, omc) = brute_force(&counts, 0.25, 1.7, 0.3, 2.0);
        for k in 0..3 {
            assert!(abs_diff_eq!(got.types[k].self_mass, s[k], epsilon = 1e-14));
            for (l, want) in omc[k].iter().enumerate() {
                let v = got.one_minus_cos_out(k, l);
                assert!(
                    abs_diff_eq!(v, *want, epsilon = 1e-14),
                    "{k} {l}: {v} {want}"
                );
            }
        }
        let pairs = 1.0 * 2.0 + 1.0 * 5.0 + 2.0 * 5.0;
        let lambda = (2.0 * omc[0][1] + 5.0 * omc[0][2] + 10.0 * omc[1][2]) / pairs / 0.75;
        assert!(abs_diff_eq!(got.lambda, lambda, epsilon = 1e-14));
        assert!(abs_diff_eq!(
            got.copy_pair_fraction,
            (2.0 + 20.0) / 56.0,
            epsilon = 1e-15
        ));
    }

    #[test]
    fn invalid_points_name_their_parameter() {
        let err = |counts: Vec<f64>, rho: f64, scaling: Scaling<f64>, alpha: f64, q: f64| {
            MultisetParams::new(counts, rho, scaling, alpha, q).unwrap_err()
        };
        let e = err(vec![3.0], 0.3, Scaling::Gamma(1.0), 0.0, 1.0);
        assert_eq!((e.name, e.value.as_str()), ("counts", "1"));
        assert_eq!(
            err(vec![3.0, 0.5], 0.3, Scaling::Gamma(1.0), 0.0, 1.0).name,
            "counts"
        );
        assert_eq!(
            err(vec![3.0, f64::NAN], 0.3, Scaling::Gamma(1.0), 0.0, 1.0).name,
            "counts"
        );
        assert_eq!(
            err(vec![3.0, 2.0], 1.0, Scaling::Gamma(1.0), 0.0, 1.0).name,
            "rho"
        );
        assert_eq!(
            err(vec![3.0, 2.0, 1.0], -0.5, Scaling::Gamma(1.0), 0.0, 1.0).name,
            "rho"
        );
        assert_eq!(
            err(vec![3.0, 2.0], 0.3, Scaling::Gamma(0.0), 0.0, 1.0).name,
            "gamma"
        );
        assert_eq!(
            err(vec![3.0, 2.0], 0.3, Scaling::Beta(f64::INFINITY), 0.0, 1.0).name,
            "beta"
        );
        assert_eq!(
            err(vec![3.0, 2.0], 0.3, Scaling::Gamma(1.0), -1.0, 1.0).name,
            "alpha"
        );
        assert_eq!(
            err(vec![3.0, 2.0], 0.3, Scaling::Gamma(1.0), 0.0, 0.0).name,
            "q"
        );
        let e = err(vec![3.0, 2.0], 0.3, Scaling::Gamma(1.0), 0.0, 0.0);
        assert!(e.to_string().contains("q = 0"), "{e}");
    }

    #[test]
    fn gamma_and_critical_scalings_use_the_whole_n() {
        let counts = vec![4.0, 4.0, 8.0];
        let p = MultisetParams::new(counts.clone(), 0.3, Scaling::Gamma(1.5), 0.0, 1.0).unwrap();
        assert!(abs_diff_eq!(p.beta(), 1.5 * 16f64.ln(), epsilon = 1e-15));
        let p = MultisetParams::new(counts, 0.3, Scaling::Critical, 0.0, 1.0).unwrap();
        assert!(abs_diff_eq!(p.beta(), 16f64.ln() / 0.7, epsilon = 1e-14));
        assert!(p.equal_reduction().is_none());
        assert!(abs_diff_eq!(p.share(2), 0.5, epsilon = 0.0));
    }

    #[test]
    fn big_floats_agree_with_f64() {
        use critscale_real::{BigReal, Precision};
        let prec = Precision::new(128).unwrap();
        let big = |x: f64| BigReal::from_f64(&prec, x);
        let counts = [3.0, 1.0, 7.0, 2.0];
        let params = MultisetParams::new(
            counts.iter().map(|&c| big(c)).collect(),
            big(0.3),
            Scaling::Gamma(big(1.2)),
            big(0.0),
            big(1.0),
        )
        .unwrap();
        let b = MultisetLayer::evaluate(&params);
        let f = layer(&counts, 0.3, 1.2 * 13f64.ln(), 0.0, 1.0);
        assert!(abs_diff_eq!(b.lambda.to_f64(), f.lambda, epsilon = 1e-13));
        assert!(abs_diff_eq!(
            b.lambda_angle.to_f64(),
            f.lambda_angle,
            epsilon = 1e-13
        ));
        for k in 0..4 {
            assert!(abs_diff_eq!(
                b.types[k].self_mass.to_f64(),
                f.types[k].self_mass,
                epsilon = 1e-15
            ));
        }
    }

    #[test]
    fn collapse_keeps_relative_accuracy() {
        // Small β on many copies: 1 − cos' is tiny; the direct form and 128 bits agree relatively.
        use critscale_real::{BigReal, Precision};
        let prec = Precision::new(128).unwrap();
        let counts = [1000.0, 3.0, 250.0];
        let f = layer(&counts, 0.3, 0.05, 0.0, 1.0);
        let params = MultisetParams::new(
            counts
                .iter()
                .map(|&c| BigReal::from_f64(&prec, c))
                .collect(),
            BigReal::from_f64(&prec, 0.3),
            Scaling::Beta(BigReal::from_f64(&prec, 0.05)),
            BigReal::from_f64(&prec, 0.0),
            BigReal::from_f64(&prec, 1.0),
        )
        .unwrap();
        let b = MultisetLayer::evaluate(&params);
        for (k, l) in [(0, 1), (0, 2), (1, 2)] {
            let exact = b.one_minus_cos_out(k, l).to_f64();
            let got = f.one_minus_cos_out(k, l);
            assert!(exact < 1e-3, "{exact}");
            assert!(
                abs_diff_eq!(got / exact, 1.0, epsilon = 1e-11),
                "{k} {l}: {got} vs {exact}"
            );
        }
    }

    proptest! {
        #[test]
        fn equal_multiplicities_are_the_m_type_simplex_at_the_same_beta(
            m in 2usize..40, c in 1u32..50, rho in 0.0f64..0.95, gamma in 0.05f64..5.0,
            alpha in 0.0f64..1.0, q in 0.1f64..4.0,
        ) {
            let counts = vec![f64::from(c); m];
            let params = MultisetParams::new(counts, rho, Scaling::Gamma(gamma), alpha, q).unwrap();
            let got = MultisetLayer::evaluate(&params);
            let simplex = SimplexLayer::evaluate(&params.equal_reduction().unwrap().unwrap());
            let n = (m as f64) * f64::from(c);
            prop_assert!(abs_diff_eq!(got.beta, gamma * n.ln(), epsilon = 1e-12 * got.beta));
            for k in 0..m {
                prop_assert!(abs_diff_eq!(got.types[k].self_mass, simplex.self_weight, epsilon = 1e-14));
            }
            let tol = 1e-12 * simplex.lambda.max(1e-300);
            prop_assert!(abs_diff_eq!(got.lambda, simplex.lambda, epsilon = tol),
                "{} vs {}", got.lambda, simplex.lambda);
            prop_assert!(abs_diff_eq!(got.lambda_angle, simplex.lambda_angle, epsilon = 1e-11));
            let omc = got.one_minus_cos_out(0, m - 1);
            prop_assert!(abs_diff_eq!(omc, simplex.one_minus_cos_out, epsilon = 1e-12 * omc.max(1e-300)));
        }

        #[test]
        fn unequal_multiplicities_match_the_brute_force(
            counts in prop::collection::vec(1u32..30, 2..7), rho in 0.0f64..0.9,
            beta in 0.0f64..12.0, alpha in 0.0f64..1.0, q in 0.1f64..4.0,
        ) {
            let counts: Vec<f64> = counts.into_iter().map(f64::from).collect();
            let got = layer(&counts, rho, beta.max(1e-3), alpha, q);
            let (s, omc) = brute_force(&counts, rho, beta.max(1e-3), alpha, q);
            let m = counts.len();
            for k in 0..m {
                prop_assert!(abs_diff_eq!(got.types[k].self_mass, s[k], epsilon = 1e-13));
                let (law, _) = self_mass(&got.types[k].share, &rho, &got.beta);
                prop_assert!(abs_diff_eq!(got.types[k].self_mass, law, epsilon = 1e-14));
                for (l, want) in omc[k].iter().enumerate() {
                    let v = got.one_minus_cos_out(k, l);
                    // The brute force forms 1 − cos' from unit vectors: absolute accuracy ~1e-15.
                    prop_assert!(abs_diff_eq!(v, *want, epsilon = 1e-13), "{} vs {}", v, want);
                }
            }
            prop_assert!(got.lambda >= 0.0 && got.lambda_angle >= 0.0);
        }
    }
}
