//! The simplex closed forms in the variable u = 1/n, over interval boxes.
//!
//! With κ = γ(1 − ρ) − 1 and v = n^{−|κ|} = u^{|κ|}, every quantity of THEORY §5 is a continuous
//! function of (u, κ) on u ∈ [0, 1/N], including u = 0 (n = ∞), once the powers of n are written
//! as powers of u with positive exponents:
//!
//! * below γ_c (κ < 0, s = −κ): p = v/(v + 1 − u), 1 − p = (1 − u)/(v + 1 − u), p/v = 1/(v + 1 − u);
//! * at γ_c: p = 1/(2 − u), 1 − p = 1 − 1/(2 − u);
//! * above γ_c (κ > 0): p = 1/(1 + (1 − u)v), 1 − p = t/(1 + t) with t = (1 − u)v,
//!   (1 − p)/v = 1/(1/(1 − u) + v);
//! * everywhere: r = u(1 − p)/(1 − u), rn = (1 − p)/(1 − u), e^{−β(1−ρ)} = u^{1+κ},
//!   c = p(1 − u^{1+κ}) + a (a = α√q), w = r + (1 − p)ρ, Y = w(2c + rn),
//!   λ = c²/(c² + Y), 1 − λ = Y/(c² + Y), cos_out = 1 − (1 − ρ)λ.
//!
//! β = γ log n = γ·L with L = −log u is unbounded at u = 0, but in η it only appears as
//! u·L and u·L² (after dividing by d = μn), which are continuous with value 0 at u = 0
//! ([`u_pow_log`]). Functions that are monotone in an argument are evaluated at the corners of the
//! box (no dependency overestimate); everything else is plain interval arithmetic, which is valid
//! on any box and tight on small ones.

use critscale_real::{Interval, Precision, Real};
use critscale_simplex::Regime;

/// The fixed parameters of a statement, as enclosures.
#[derive(Debug, Clone)]
pub struct Setting {
    /// Pairwise cosine ρ.
    pub rho: Interval,
    /// a = α√q.
    pub a: Interval,
    /// Squared norm q.
    pub q: Interval,
    /// d/n (η quantities; d = μn ≥ n).
    pub mu: Interval,
    /// Working precision.
    pub precision: Precision,
}

/// A box of the variables: u = 1/n and κ = γ(1 − ρ) − 1.
#[derive(Debug, Clone)]
pub struct Cell {
    /// u ⊂ [0, 1/N].
    pub u: Interval,
    /// κ, of one sign (or exactly 0).
    pub kappa: Interval,
}

fn constant(p: &Precision, x: f64) -> Interval {
    Interval::from_f64(p, x)
}

/// u^s for u ⊂ [0, 1) and s ⊂ (0, ∞): decreasing in s, increasing in u; u = 0 gives 0.
pub fn pow_box(u: &Interval, s: &Interval) -> Interval {
    let p = u.ctx();
    let at = |x: Interval, e: Interval| -> Interval {
        if x.starts_at_zero() {
            Interval::zero(&p)
        } else {
            (e * &x.ln()).exp()
        }
    };
    let lower = at(u.lower_point(), s.upper_point());
    let upper = at(u.upper_point(), s.lower_point());
    Interval::span(&lower, &upper)
}

/// g(u) = u^s·(−log u)^k for u ⊂ [0, 1), s ⊂ (0, ∞), k ≥ 1, with g(0) = 0.
///
/// For each s, g is increasing on (0, e^{−k/s}] and decreasing in s (u < 1); on boxes below
/// e^{−k/s_lo} the corners give the image. Elsewhere: plain interval arithmetic when u > 0, and the
/// global bound 0 ≤ g ≤ (k/(s_lo·e))^k when the box touches 0.
pub fn u_pow_log(u: &Interval, s: &Interval, k: u32) -> Interval {
    let p = u.ctx();
    let kk = constant(&p, k as f64);
    let g = |x: Interval, e: Interval| -> Interval {
        if x.starts_at_zero() {
            return Interval::zero(&p);
        }
        let minus_ln = -x.ln();
        (e * &x.ln() + &(kk.clone() * &minus_ln.ln())).exp()
    };
    let threshold = (-(kk.clone() / &s.lower_point())).exp();
    if *u < threshold {
        return Interval::span(
            &g(u.lower_point(), s.upper_point()),
            &g(u.upper_point(), s.lower_point()),
        );
    }
    if !u.starts_at_zero() {
        let minus_ln = -u.ln();
        let power = pow_box(u, s);
        let mut log_power = Interval::one(&p);
        for _ in 0..k {
            log_power = log_power * &minus_ln;
        }
        return power * &log_power;
    }
    let e = Interval::one(&p).exp();
    let peak = (kk.clone() / &(s.lower_point() * &e)).powf(&kk);
    Interval::span(&Interval::zero(&p), &peak)
}

/// 1/L^k with L = −log u, for u ⊂ [0, 1) and k ≥ 1: increasing in u, with value 0 at u = 0.
///
/// The critical rate of η divides by L² = log² n (its leading term is ∝ log² n/n); monotone, so
/// the corners give the image.
pub fn inv_log_pow(u: &Interval, k: u32) -> Interval {
    let p = u.ctx();
    let at = |x: Interval| -> Interval {
        if x.starts_at_zero() {
            return Interval::zero(&p);
        }
        let inv = (-x.ln()).recip();
        let mut power = Interval::one(&p);
        for _ in 0..k {
            power = power * &inv;
        }
        power
    };
    Interval::span(&at(u.lower_point()), &at(u.upper_point()))
}

/// f(x, y) = x/(x + y) for x ≥ 0, y ≥ 0 (not both 0): increasing in x, decreasing in y.
fn share(x: &Interval, y: &Interval) -> Interval {
    let f = |a: Interval, b: Interval| a.clone() / &(a + &b);
    Interval::span(
        &f(x.lower_point(), y.upper_point()),
        &f(x.upper_point(), y.lower_point()),
    )
}

/// Attention weights and the layer's scalars on a box.
#[derive(Debug, Clone)]
pub struct Layer {
    /// p = A_ii.
    pub p: Interval,
    /// 1 − p.
    pub omp: Interval,
    /// v = n^{−|κ|} (1 at γ_c).
    pub v: Interval,
    /// p/v below γ_c, (1 − p)/v above (the bounded ratio), 1 at γ_c.
    pub ratio: Interval,
    /// r = A_ij.
    pub r: Interval,
    /// r·n.
    pub rn: Interval,
    /// c = p(1 − u^{1+κ}) + a.
    pub c: Interval,
    /// w = r + (1 − p)ρ.
    pub w: Interval,
    /// Y = w(2c + rn) = |x'|² − c².
    pub y: Interval,
    /// λ = c²/(c² + Y).
    pub lambda: Interval,
    /// 1 − λ.
    pub one_minus_lambda: Interval,
    /// cos_out = 1 − (1 − ρ)λ.
    pub cos_out: Interval,
}

impl Setting {
    /// The layer's scalars on `cell` (which lies on `side`).
    pub fn layer(&self, cell: &Cell, side: Regime) -> Layer {
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let u = &cell.u;
        let one_minus_u = one.clone() - u;
        let (p, omp, v, ratio) = match side {
            Regime::Subcritical => {
                let v = pow_box(u, &(-cell.kappa.clone()));
                let frac = |vv: Interval, uu: Interval| vv.clone() / &(vv + &one - &uu);
                // p = v/(v + 1 − u) increases in v and u; 1 − p = (1 − u)/(v + 1 − u) decreases.
                let p = Interval::span(
                    &frac(v.lower_point(), u.lower_point()),
                    &frac(v.upper_point(), u.upper_point()),
                );
                let rest = |vv: Interval, uu: Interval| (one.clone() - &uu) / &(vv + &one - &uu);
                let omp = Interval::span(
                    &rest(v.upper_point(), u.upper_point()),
                    &rest(v.lower_point(), u.lower_point()),
                );
                let ratio = (v.clone() + &one_minus_u).recip();
                (p, omp, v, ratio)
            }
            Regime::Critical => {
                let p = (two.clone() - u).recip();
                let omp = one.clone() - &(two.clone() - u).recip();
                (p, omp, one.clone(), one.clone())
            }
            Regime::Supercritical => {
                let v = pow_box(u, &cell.kappa);
                let t = one_minus_u.clone() * &v;
                let p = (one.clone() + &t).recip();
                let frac = |tt: Interval| tt.clone() / &(one.clone() + &tt);
                let omp = Interval::span(&frac(t.lower_point()), &frac(t.upper_point()));
                let ratio = (one_minus_u.recip() + &v).recip();
                (p, omp, v, ratio)
            }
        };
        let r = u.clone() * &omp / &one_minus_u;
        let rn = omp.clone() / &one_minus_u;
        let e1 = pow_box(u, &(one.clone() + &cell.kappa));
        let c = p.clone() * &(one.clone() - &e1) + &self.a;
        let w = r.clone() + &(omp.clone() * &self.rho);
        let y = w.clone() * &(two * &c + &rn);
        let c2 = c.square();
        let lambda = share(&c2, &y);
        let one_minus_lambda = share(&y, &c2);
        let cos_out = one - &((Interval::one(p_) - &self.rho) * &lambda);
        Layer {
            p,
            omp,
            v,
            ratio,
            r,
            rn,
            c,
            w,
            y,
            lambda,
            one_minus_lambda,
            cos_out,
        }
    }

    /// n^{−2κ}·λ below γ_c without residual: (c/v)²/(c² + Y), c/v = (p/v)(1 − u^{1+κ}).
    pub fn lambda_rate_sub(&self, cell: &Cell) -> Interval {
        let layer = self.layer(cell, Regime::Subcritical);
        let one = Interval::one(&self.precision);
        let e1 = pow_box(&cell.u, &(one.clone() + &cell.kappa));
        let c_over_v = layer.ratio.clone() * &(one - &e1);
        c_over_v.square() / &(layer.c.square() + &layer.y)
    }

    /// n^{κ}·(1 − λ) above γ_c: (Y/v)/(c² + Y), Y/v = (u/(1−u) + ρ)·((1−p)/v)·(2c + rn).
    pub fn one_minus_lambda_rate_super(&self, cell: &Cell) -> Interval {
        let layer = self.layer(cell, Regime::Supercritical);
        let one = Interval::one(&self.precision);
        let two = constant(&self.precision, 2.0);
        let u = &cell.u;
        let w_over_v = (u.clone() / &(one - u) + &self.rho) * &layer.ratio;
        let y_over_v = w_over_v * &(two * &layer.c + &layer.rn);
        y_over_v / &(layer.c.square() + &layer.y)
    }

    /// n·(cos_out − 4ρ/(1 + 3ρ)) at γ_c without residual, a rational function of u.
    ///
    /// At γ_c, p = 1/(2 − u) and u^{1+κ} = u, so c = (1 − u)/(2 − u), rn = 1/(2 − u),
    /// w = (u + (1 − u)ρ)/(2 − u) and Y = w(2c + rn) = B/(2 − u)² with A = (1 − u)² and
    /// B = (u + (1 − u)ρ)(3 − 2u): λ = A/(A + B). Then 3ρA − B = −u[(3 + ρ) − (2 + ρ)u], so
    ///
    ///   n·(cos_out − 4ρ/(1+3ρ)) = −(1 − ρ)(λ − 1/(1+3ρ))/u
    ///                           = (1 − ρ)[(3 + ρ) − (2 + ρ)u] / ((1 + 3ρ)(A + B)),
    ///
    /// with the factor u cancelled by hand (so the form is finite at u = 0, where it equals
    /// (1 − ρ)(3 + ρ)/(1 + 3ρ)²). Tested against the n-forms of `critscale-simplex`.
    pub fn cos_out_rate_crit(&self, cell: &Cell) -> Interval {
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let three = constant(p_, 3.0);
        let u = &cell.u;
        let rho = &self.rho;
        let one_minus_u = one.clone() - u;
        let a = one_minus_u.square();
        let b = (u.clone() + &(one_minus_u * rho)) * &(three.clone() - &(two.clone() * u));
        let numerator = (one.clone() - rho) * &((three.clone() + rho) - &((two + rho) * u));
        numerator / &((one + &(three * rho)) * &(a + &b))
    }

    /// n·(q·η − (1 − 1/d)/4)/log² n at γ_c without residual, d = μn.
    ///
    /// η at γ_c is not rational in u: β = γ_c log n enters through tr(CP) and ‖CP‖², and
    /// n·(qη − (1 − 1/d)/4) = ρL²/(16μ) + (2 + ρ)L/(4μ) + O(1) with L = log n, so it is n/L²
    /// times the deviation that stays bounded. Term by term (the pieces of [`Setting::q_eta`]):
    ///
    /// * p² + (1 − p)r − 1/4 = u(8 − 5u)/(4(2 − u)²) (p = 1/(2 − u), r = u/(2 − u)), so the
    ///   base term contributes (8 − 5u)(1 − u/μ)/(4(2 − u)²)·L^{−2};
    /// * the off-diagonal blocks contribute (1 − p)²/((1 − u)μ)·(lin·u/L + quad·u);
    /// * the diagonal blocks contribute (2pγ·tr(CP)/L + γ²‖CP‖²)/μ.
    pub fn q_eta_rate_crit(&self, cell: &Cell) -> Interval {
        let e = self.eta_parts(cell, Regime::Critical);
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let u = &cell.u;
        let (p, omp) = (&e.layer.p, &e.layer.omp);
        let inv_l = inv_log_pow(u, 1);
        let inv_l2 = inv_log_pow(u, 2);
        let u_over_mu = u.clone() / &self.mu;
        let two_minus_u = two.clone() - u;
        let base = (constant(p_, 8.0) - &(constant(p_, 5.0) * u)) * &(one.clone() - &u_over_mu)
            / &(constant(p_, 4.0) * &two_minus_u.square())
            * &inv_l2;
        let off = omp.square() / &(e.one_minus_u.clone() * &self.mu)
            * &(e.lin.clone() * u * &inv_l + &(e.quad.clone() * u));
        let trcp = e.one_minus_rho.clone() * omp * &e.trcp_core;
        let cpsq = e.one_minus_rho.square() * omp * &e.cpsq_core;
        let diag = (two * p * &e.gamma * &trcp * &inv_l + &(e.gamma.square() * &cpsq)) / &self.mu;
        base + &off + &diag
    }

    /// The pieces of q·η (α = 0) of `crate::forms` docs, scaled by `scale` = 1, v or v².
    fn eta_parts(&self, cell: &Cell, side: Regime) -> EtaParts {
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let layer = self.layer(cell, side);
        let u = &cell.u;
        let rho = &self.rho;
        let one_minus_rho = one.clone() - rho;
        let gamma = (one.clone() + &cell.kappa) / &one_minus_rho;
        let (p, omp, r) = (&layer.p, &layer.omp, &layer.r);
        let h = (one.clone() - r).square() + &p.square() + &(r.clone() * &(omp.clone() - r));
        let lin =
            -(two.clone() * &gamma * &one_minus_rho * &(rho.clone() * &(one.clone() - r) + p));
        let quad = gamma.square() * &one_minus_rho * &(one.clone() - &rho.square()) * &h;
        let trcp_core = rho.clone() * p + &one - r; // tr(CP) = (1−ρ)(1−p)·trcp_core
        let cpsq_core = r.clone() * &h + &(rho.clone() * &p.square() * &(omp.clone() + r));
        EtaParts {
            layer,
            one_minus_rho,
            gamma,
            lin,
            quad,
            h,
            trcp_core,
            cpsq_core,
            one_minus_u: one - u,
        }
    }

    /// q·η without residual, with d = μn.
    pub fn q_eta(&self, cell: &Cell, side: Regime) -> Interval {
        let e = self.eta_parts(cell, side);
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let u = &cell.u;
        let (p, omp, r) = (&e.layer.p, &e.layer.omp, &e.layer.r);
        let l1 = u_pow_log(u, &one, 1);
        let l2 = u_pow_log(u, &one, 2);
        let u_over_mu = u.clone() / &self.mu;
        let base = (p.square() + &(omp.clone() * r)) * &(one.clone() - &u_over_mu);
        let off = omp.square() / &e.one_minus_u
            * &u_over_mu
            * &(e.lin.clone() * &l1 + &(e.quad.clone() * &l2));
        let trcp = e.one_minus_rho.clone() * omp * &e.trcp_core;
        let cpsq = e.one_minus_rho.square() * omp * &e.cpsq_core;
        let diag =
            (two * p * &e.gamma * &trcp * &l1 + &(e.gamma.square() * &cpsq * &l2)) / &self.mu;
        base + &off + &diag
    }

    /// n^{−2κ}·q·η below γ_c (α = 0, requires −1/2 < κ < 0): every term divided by v².
    pub fn q_eta_rate_sub(&self, cell: &Cell) -> Interval {
        let e = self.eta_parts(cell, Regime::Subcritical);
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let u = &cell.u;
        let s = -cell.kappa.clone();
        let (omp, r, pv) = (&e.layer.omp, &e.layer.r, &e.layer.ratio);
        let u12 = pow_box(u, &(one.clone() - &(two.clone() * &s))); // u/v²
        let l1 = u_pow_log(u, &one, 1);
        let l2 = u_pow_log(u, &one, 2);
        let l1s = u_pow_log(u, &(one.clone() - &s), 1); // u·L/v
        let u_over_mu = u.clone() / &self.mu;
        let omp2_u = omp.square() / &e.one_minus_u;
        let base = (pv.square() + &(omp2_u.clone() * &u12)) * &(one.clone() - &u_over_mu);
        let off =
            omp2_u.clone() / &self.mu * &u12 * &(e.lin.clone() * &l1 + &(e.quad.clone() * &l2));
        let trcp = e.one_minus_rho.clone() * omp * &e.trcp_core;
        // cpsq/v² = (1−ρ)²(1−p)[(r/v²)h + ρ(p/v)²((1−p) + r)], r/v² = (1−p)·u12/(1−u).
        let cpsq_v2 = e.one_minus_rho.square()
            * omp
            * &(omp.clone() / &e.one_minus_u * &u12 * &e.h
                + &(self.rho.clone() * &pv.square() * &(omp.clone() + r)));
        let diag =
            (two * pv * &e.gamma * &trcp * &l1s + &(e.gamma.square() * &cpsq_v2 * &l2)) / &self.mu;
        base + &off + &diag
    }

    /// n^{κ}·(1 − qη/(1 − 1/d)) above γ_c (α = 0): ((1−p)/v)(1 + p − r) − (T/v)/(1 − u/μ), T the
    /// β-terms of q·η.
    pub fn eta_deficit_rate_super(&self, cell: &Cell) -> Interval {
        let e = self.eta_parts(cell, Regime::Supercritical);
        let p_ = &self.precision;
        let one = Interval::one(p_);
        let two = constant(p_, 2.0);
        let u = &cell.u;
        let (p, omp, r, ov) = (&e.layer.p, &e.layer.omp, &e.layer.r, &e.layer.ratio);
        let l1 = u_pow_log(u, &one, 1);
        let l2 = u_pow_log(u, &one, 2);
        let u_over_mu = u.clone() / &self.mu;
        let head = ov.clone() * &(one.clone() + p - r);
        let off_v = omp.clone() * ov / &e.one_minus_u
            * &u_over_mu
            * &(e.lin.clone() * &l1 + &(e.quad.clone() * &l2));
        let trcp_v = e.one_minus_rho.clone() * ov * &e.trcp_core;
        let cpsq_v = e.one_minus_rho.square() * ov * &e.cpsq_core;
        let diag_v =
            (two * p * &e.gamma * &trcp_v * &l1 + &(e.gamma.square() * &cpsq_v * &l2)) / &self.mu;
        head - &((off_v + &diag_v) / &(one - &u_over_mu))
    }
}

struct EtaParts {
    layer: Layer,
    one_minus_rho: Interval,
    gamma: Interval,
    lin: Interval,
    quad: Interval,
    h: Interval,
    trcp_core: Interval,
    cpsq_core: Interval,
    one_minus_u: Interval,
}

#[cfg(test)]
mod tests {
    use super::*;
    use critscale_real::BigReal;
    use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
    use proptest::prelude::*;

    fn p() -> Precision {
        Precision::new(128).unwrap()
    }

    fn iv(x: &str) -> Interval {
        Interval::parse_decimal(&p(), x).unwrap()
    }

    fn contains(enclosure: &Interval, value: &BigReal) -> bool {
        enclosure.contains(value.as_big())
    }

    /// The u-forms at a point u = 1/n enclose the n-forms of `critscale-simplex` at 1024 bits
    /// (enough that the reference's own cancellation in 1 − qη, down to n^{−κ} ≈ 1e-200, leaves
    /// it far inside the 128-bit enclosure).
    fn check_point(
        n: &str,
        rho: &str,
        ratio: f64,
        alpha: &str,
        q: &str,
        mu: &str,
    ) -> Result<(), TestCaseError> {
        let fine = Precision::new(1024).unwrap();
        let big = |x: &str| BigReal::parse_decimal(&fine, x).unwrap();
        let rho_b = big(rho);
        let rho_ref = rho_b.clone();
        let gamma = critscale_simplex::gamma_c(&rho_b) * &BigReal::from_f64(&fine, ratio);
        let n_b = big(n);
        let d_b = n_b.clone() * &big(mu);
        let scaling = if ratio == 1.0 {
            Scaling::Critical
        } else {
            Scaling::Gamma(gamma)
        };
        let params =
            SimplexParams::new(n_b, rho_b, scaling, big(alpha), big(q), Some(d_b)).unwrap();
        let layer = SimplexLayer::evaluate(&params);

        let a = iv(alpha) * &iv(q).sqrt();
        let setting = Setting {
            rho: iv(rho),
            a,
            q: iv(q),
            mu: iv(mu),
            precision: p(),
        };
        let side = if ratio < 1.0 {
            Regime::Subcritical
        } else if ratio == 1.0 {
            Regime::Critical
        } else {
            Regime::Supercritical
        };
        let cell = Cell {
            u: iv(n).recip(),
            kappa: Interval::from_f64(&p(), ratio) - &Interval::one(&p()),
        };
        let forms = setting.layer(&cell, side);
        prop_assert!(
            contains(&forms.p, &layer.self_weight),
            "p {:?} vs {}",
            forms.p,
            layer.self_weight
        );
        prop_assert!(
            contains(&forms.lambda, &layer.lambda),
            "lambda {:?} vs {}",
            forms.lambda,
            layer.lambda
        );
        prop_assert!(contains(&forms.one_minus_lambda, &layer.one_minus_lambda));
        prop_assert!(contains(&forms.cos_out, &layer.cos_out));
        if alpha == "0" {
            let q_eta = setting.q_eta(&cell, side);
            let expected = layer.eta.clone().unwrap() * &big(q);
            prop_assert!(
                contains(&q_eta, &expected),
                "q eta {:?} vs {}",
                q_eta,
                expected
            );
            // The rate forms are the same quantities divided by powers of v = n^{-|kappa|}.
            let kappa = BigReal::from_f64(&fine, ratio) - &BigReal::one(&fine);
            let v = (kappa.abs() * &(-big(n).ln())).exp();
            match side {
                Regime::Subcritical => {
                    prop_assert!(contains(
                        &setting.lambda_rate_sub(&cell),
                        &(layer.lambda.clone() / &v.square())
                    ));
                    if ratio > 0.5 {
                        prop_assert!(contains(
                            &setting.q_eta_rate_sub(&cell),
                            &(expected / &v.square())
                        ));
                    }
                }
                Regime::Supercritical => {
                    prop_assert!(contains(
                        &setting.one_minus_lambda_rate_super(&cell),
                        &(layer.one_minus_lambda.clone() / &v)
                    ));
                    let d = big(n) * &big(mu);
                    let deficit =
                        BigReal::one(&fine) - &(expected / &(BigReal::one(&fine) - &d.recip()));
                    prop_assert!(contains(
                        &setting.eta_deficit_rate_super(&cell),
                        &(deficit / &v)
                    ));
                }
                Regime::Critical => {
                    // The critical rates are the deviations times n (cos_out) and n/log² n (η).
                    let one = BigReal::one(&fine);
                    let four = BigReal::from_f64(&fine, 4.0);
                    let limit = four.clone() * &rho_ref
                        / &(one.clone() + &(BigReal::from_f64(&fine, 3.0) * &rho_ref));
                    let back = setting.cos_out_rate_crit(&cell) * &cell.u;
                    prop_assert!(
                        contains(&back, &(layer.cos_out.clone() - &limit)),
                        "n (cos_out - limit) {:?}",
                        back
                    );
                    let d = big(n) * &big(mu);
                    let eta_limit = (one - &d.recip()) / &four;
                    let back = setting.q_eta_rate_crit(&cell) * &cell.u * &cell.u.ln().square();
                    prop_assert!(
                        contains(&back, &(expected - &eta_limit)),
                        "n/log^2 n (q eta - limit) {:?}",
                        back
                    );
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn u_forms_enclose_the_closed_forms(
            log10_n in 0.5f64..60.0, rho in 0.05f64..0.95, ratio in prop_oneof![0.3f64..0.99, Just(1.0), 1.01f64..4.0],
            alpha in prop_oneof![Just("0"), Just("0.5")], mu in prop_oneof![Just("1"), Just("10")],
        ) {
            let n = format!("{:.4}e{}", 10f64.powf(log10_n.fract()), log10_n.trunc() as i64);
            check_point(&n, &format!("{rho}"), ratio, alpha, "1.5", mu)?;
        }
    }

    /// At γ_c, n·(qη − (1 − 1/d)/4) grows like (ρ/16)·log² n, so no bound C·(1/n) on the
    /// deviation of η exists and the critical rate of η is stated on the scale n/log² n.
    #[test]
    fn the_critical_eta_deviation_is_not_order_one_over_n() {
        let setting = Setting {
            rho: iv("0.3"),
            a: Interval::zero(&p()),
            q: iv("1"),
            mu: iv("1"),
            precision: p(),
        };
        let mut previous = Interval::zero(&p());
        for n in ["1e6", "1e60", "1e600", "1e6000"] {
            let u = iv(n).recip();
            let log_sq = u.ln().square();
            let scaled = setting.q_eta_rate_crit(&Cell {
                u: u.clone(),
                kappa: Interval::zero(&p()),
            }) * &log_sq;
            // n·(qη − limit) ≥ (ρ/16)·log² n, and increases with n.
            assert!(scaled > iv("0.01875") * &log_sq, "n = {n}: {scaled:?}");
            assert!(scaled > previous, "n = {n}");
            previous = scaled;
        }
    }

    #[test]
    fn u_pow_log_brackets_its_function() {
        for (lo, hi) in [
            ("0", "1e-9"),
            ("1e-9", "1e-3"),
            ("0.01", "0.4"),
            ("0", "0.4"),
            ("0.2", "0.5"),
        ] {
            let u = Interval::span(&iv(lo), &iv(hi));
            for k in [1u32, 2] {
                for s in ["1", "0.3"] {
                    let g = u_pow_log(&u, &iv(s), k);
                    assert!(g.is_finite());
                    for t in ["0.1", "0.5", "0.9", "1"] {
                        // The reference at 256 bits, so that it sits well inside g's rounding margin.
                        let fine = Precision::new(256).unwrap();
                        let at = |x: &str| Interval::parse_decimal(&fine, x).unwrap();
                        let x = at(lo) + &((at(hi) - &at(lo)) * &at(t));
                        let exact = (at(s) * &x.ln()).exp()
                            * &(-x.ln()).powf(&Interval::from_f64(&fine, k as f64));
                        assert!(
                            g.contains(exact.lo()) && g.contains(exact.hi()),
                            "u in [{lo}, {hi}], s = {s}, k = {k}: {g:?} misses {exact:?}"
                        );
                    }
                }
            }
        }
    }
}
