//! Closed forms of one attention layer on a token simplex (THEORY §5), exact at every n.
//!
//! In a simplex every token has |x_i|² = q and every pair ⟨y_i, y_j⟩ = ρ, so the layer of THEORY §1
//! is described by two attention weights and a handful of scalars. With β = γ log n,
//! t = β(1 − ρ) and L = log(n − 1):
//!
//! * p = A_ii = 1 / (1 + (n−1)e^{−t}) = σ(t − L) (σ the logistic function),
//! * r = A_ij = (1 − p)/(n − 1) = p·e^{−t},
//! * c = p − r + α√q = p(1 − e^{−t}) + α√q,  x_i' = c·y_i + r·Σ_j y_j,
//! * |x_i'|² = c² + 2c·w + (r n)·w with w = r·(1 + (n−1)ρ) = r + (1 − p)ρ,
//! * λ = (1 − cos_out)/(1 − ρ) = c²/|x_i'|², and 1 − λ = (2c·w + (r n)·w)/|x_i'|²,
//! * cos_out = 1 − (1 − ρ)λ, λ_angle = arccos(cos_out)/arccos(ρ),
//! * η, the mean squared singular value of the layer's Jacobian: see [`mod@eta`].
//!
//! Contexts with repeated tokens (m distinct simplex directions with multiplicities, THEORY §10):
//! see [`mod@multiset`].
//!
//! Everything is evaluated from logarithms (log p = −softplus(L − t), log r = log p − t), and every
//! sum that is formed has terms of one sign, so nothing overflows, nothing cancels, and n can be
//! anything the backend represents (10^{300} in `f64`). Quantities that fall below the backend's
//! range (λ ≈ n^{2κ}/ρ reaches 10^{−600} at n = 10^{300}) are also returned as logarithms.

#![warn(missing_docs)]

pub mod eta;
pub mod limits;
pub mod multiset;
pub mod params;

use critscale_real::Real;

pub use eta::eta;
pub use limits::gamma_c;
pub use multiset::{MultisetLayer, MultisetParams, TypeLayer, self_mass, self_mass_crossing};
pub use params::{FiniteRegime, InvalidParameter, Regime, Scaling, SimplexParams};

/// Every closed-form quantity of the simplex layer at one parameter point.
#[derive(Debug, Clone)]
pub struct SimplexLayer<T> {
    /// β = γ log n.
    pub beta: T,
    /// κ = γ(1 − ρ) − 1: negative below γ_c, zero at γ_c, positive above.
    pub kappa: T,
    /// p = A_ii, the self weight.
    pub self_weight: T,
    /// log p.
    pub ln_self_weight: T,
    /// 1 − p, computed without cancellation.
    pub one_minus_self_weight: T,
    /// r = A_ij, the weight on each other token.
    pub other_weight: T,
    /// log r.
    pub ln_other_weight: T,
    /// c = p − r + α√q, the coefficient of y_i in x_i'.
    pub c: T,
    /// |x_i'|².
    pub out_norm_sq: T,
    /// cos_out = ⟨y_i', y_j'⟩.
    pub cos_out: T,
    /// 1 − cos_out = (1 − ρ)λ.
    pub one_minus_cos_out: T,
    /// log(1 − cos_out).
    pub ln_one_minus_cos_out: T,
    /// λ = (1 − cos_out)/(1 − ρ) = c²/|x'|² (0 when it underflows; see `ln_lambda`).
    pub lambda: T,
    /// log λ, finite even when λ underflows.
    pub ln_lambda: T,
    /// 1 − λ, computed without cancellation.
    pub one_minus_lambda: T,
    /// log(1 − λ), finite even when 1 − λ underflows (far above γ_c).
    pub ln_one_minus_lambda: T,
    /// λ_angle = arccos(cos_out)/arccos(ρ).
    pub lambda_angle: T,
    /// log λ_angle, finite even when λ_angle underflows.
    pub ln_lambda_angle: T,
    /// η when a dimension d was given and the point allows it.
    pub eta: Option<T>,
}

impl<T: Real> SimplexLayer<T> {
    /// Evaluates every closed form at a validated parameter point.
    pub fn evaluate(params: &SimplexParams<T>) -> Self {
        let ctx = params.n.ctx();
        let one = T::one(&ctx);
        let two = T::from_f64(&ctx, 2.0);
        let rho = &params.rho;
        let one_minus_rho = one.clone() - rho;

        let beta = params.beta();
        let kappa = params.kappa();
        // t − log n = κ log n, formed without subtracting two large numbers (exactly 0 at γ_c).
        let excess = params.excess_exponent();
        let t = excess.clone() + &params.ln_n;

        // p = σ(z) and 1 − p = σ(−z) with z = t − log(n − 1) = κ log n + log(n/(n − 1)), each
        // from its own logarithm.
        let z = excess.clone() + &params.ln_n_over_n_minus_1();
        let ln_p = -(-z.clone()).softplus();
        let ln_one_minus_p = -z.softplus();
        let p = ln_p.exp();
        let one_minus_p = ln_one_minus_p.exp();
        // r·n = p·e^{−t}·n = p·e^{−κ log n}.
        let ln_rn = ln_p.clone() - &excess;
        let rn = ln_rn.exp();
        let ln_r = ln_rn - &params.ln_n;
        let r = ln_r.exp();

        // c = p(1 − e^{−t}) + α√q; 1 − e^{−t} = −expm1(−t) keeps its digits for small t.
        let one_minus_e_mt = -(-t.clone()).exp_m1();
        let ln_c_attention = ln_p.clone() + &one_minus_e_mt.ln();
        let residual = params.alpha.clone() * &params.q.sqrt();
        let alpha_is_zero = params.alpha == T::zero(&ctx);
        let (c, ln_c) = if alpha_is_zero {
            (ln_c_attention.exp(), ln_c_attention)
        } else {
            let ln_c = ln_c_attention.ln_add_exp(&residual.ln());
            (ln_c.exp(), ln_c)
        };

        // |x'|² = c² + 2cw + (rn)w, w = r + (1 − p)ρ (= r·s₁ > 0).
        let w = r.clone() + &(one_minus_p.clone() * rho);
        let cross = two.clone() * &c * &w + &(rn.clone() * &w);
        let out_norm_sq = c.square() + &cross;
        let ln_lambda = two.clone() * &ln_c - &out_norm_sq.ln();
        let direct = (c.clone() / &out_norm_sq.sqrt()).square();
        let lambda = if direct.is_normal() {
            direct
        } else {
            ln_lambda.exp()
        };
        let one_minus_lambda = cross / &out_norm_sq;
        // log(1 − λ) = log w + log(2c + rn) − log|x'|², with log w formed from logs when ρ > 0.
        let ln_w = if *rho > T::zero(&ctx) {
            ln_r.ln_add_exp(&(ln_one_minus_p.clone() + &rho.ln()))
        } else {
            w.ln()
        };
        let ln_one_minus_lambda = ln_w + &(two.clone() * &c + &rn).ln() - &out_norm_sq.ln();

        let one_minus_cos_out = one_minus_rho.clone() * &lambda;
        let ln_one_minus_cos_out = one_minus_rho.ln() + &ln_lambda;
        let cos_out = one.clone() - &one_minus_cos_out;
        // arccos(cos_out) = 2 asin(√((1 − cos_out)/2)), the square root taken in logs so that it
        // does not underflow with 1 − cos_out.
        let ln_half_chord = (ln_one_minus_cos_out.clone() - &two.ln()) / &two;
        let half_chord = ln_half_chord.exp();
        let angle_out = two.clone() * &half_chord.asin();
        let lambda_angle = angle_out.clone() / &rho.acos();
        // Where the half chord h leaves the backend's range, asin h = h(1 + h²/6 + …) and
        // log asin h = log h up to h²/6, far below any precision: log λ_angle stays finite.
        let ln_angle_out = if half_chord.is_normal() {
            angle_out.ln()
        } else {
            two.ln() + &ln_half_chord
        };
        let ln_lambda_angle = ln_angle_out - &rho.acos().ln();

        let mut layer = SimplexLayer {
            beta,
            kappa,
            self_weight: p,
            ln_self_weight: ln_p,
            one_minus_self_weight: one_minus_p,
            other_weight: r,
            ln_other_weight: ln_r,
            c,
            out_norm_sq,
            cos_out,
            one_minus_cos_out,
            ln_one_minus_cos_out,
            lambda,
            ln_lambda,
            one_minus_lambda,
            ln_one_minus_lambda,
            lambda_angle,
            ln_lambda_angle,
            eta: None,
        };
        layer.eta = params.d.as_ref().map(|d| eta(params, &layer, d));
        layer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;

    fn point(
        n: f64,
        rho: f64,
        gamma: f64,
        alpha: f64,
        q: f64,
        d: Option<f64>,
    ) -> SimplexLayer<f64> {
        let params = SimplexParams::new(n, rho, Scaling::Gamma(gamma), alpha, q, d).unwrap();
        SimplexLayer::evaluate(&params)
    }

    #[test]
    fn checked_values_of_the_theory_brief() {
        // THEORY §5: at n = 10⁶, γ = γ_c, ρ = 0.3, d = n, q = 1: η = 0.2500 to four digits.
        let params = SimplexParams::new(1e6, 0.3, Scaling::Critical, 0.0, 1.0, Some(1e6)).unwrap();
        let layer = SimplexLayer::evaluate(&params);
        assert!(
            abs_diff_eq!(layer.eta.unwrap(), 0.25, epsilon = 5e-5),
            "{:?}",
            layer.eta
        );
        assert_eq!(params.regime(), Regime::Critical);
    }

    #[test]
    fn n_equal_two_is_exact() {
        // n = 2: p = 1/(1 + e^{−t}), r = 1 − p.
        let layer = point(2.0, 0.4, 1.3, 0.0, 1.0, None);
        let t = 1.3 * 2f64.ln() * 0.6;
        let p = 1.0 / (1.0 + (-t).exp());
        assert_abs_diff_eq!(layer.self_weight, p, epsilon = 1e-15);
        assert_abs_diff_eq!(layer.other_weight, 1.0 - p, epsilon = 1e-15);
    }

    #[test]
    fn tiny_lambda_is_kept_in_logs() {
        // γ = 0.1 γ_c at n = 1e300: κ = −0.9 and λ ≈ n^{2κ}/ρ ≈ 1e-540 underflows.
        let layer = point(1e300, 0.3, 0.1 / 0.7, 0.0, 1.0, None);
        assert!(layer.ln_lambda.is_finite());
        assert_eq!(layer.lambda, 0.0);
        assert!(layer.ln_lambda < -1000.0);
        let expected = 2.0 * (-0.9) * 1e300f64.ln() - 0.3f64.ln();
        assert!(
            abs_diff_eq!(layer.ln_lambda, expected, epsilon = 1e-6),
            "{}",
            layer.ln_lambda
        );
        assert!(layer.lambda_angle > 0.0 && layer.lambda_angle.is_finite());
    }

    /// n = 1e308, ρ = 0.999999, γ = 1000 (κ = −0.999): the half chord √((1 − cos_out)/2) ≈
    /// 7e-312 is subnormal in f64, but log λ_angle stays accurate (against 256 bits from the same
    /// doubles).
    #[test]
    fn lambda_angle_keeps_its_logarithm_when_the_half_chord_underflows() {
        use critscale_real::{BigReal, Precision};
        let (n, rho, gamma) = (1e308, 0.999999, 1000.0);
        let layer = point(n, rho, gamma, 0.0, 1.0, None);
        let half_chord = ((layer.ln_one_minus_cos_out - 2f64.ln()) / 2.0).exp();
        assert!(half_chord < f64::MIN_POSITIVE, "{half_chord}");
        let p = Precision::new(256).unwrap();
        let big = |x: f64| BigReal::from_f64(&p, x);
        let params = SimplexParams::new(
            big(n),
            big(rho),
            Scaling::Gamma(big(gamma)),
            big(0.0),
            big(1.0),
            None,
        )
        .unwrap();
        let exact = SimplexLayer::evaluate(&params).ln_lambda_angle.to_f64();
        assert!(layer.ln_lambda_angle.is_finite());
        assert!(
            abs_diff_eq!(layer.ln_lambda_angle, exact, epsilon = 1e-12 * exact.abs()),
            "{} vs {exact}",
            layer.ln_lambda_angle
        );
    }

    #[test]
    fn invalid_points_name_their_parameter() {
        let err = |n, rho, gamma, alpha, q, d| {
            SimplexParams::new(n, rho, Scaling::Gamma(gamma), alpha, q, d)
                .unwrap_err()
                .name
        };
        assert_eq!(err(1.5, 0.3, 1.0, 0.0, 1.0, None), "n");
        assert_eq!(err(f64::NAN, 0.3, 1.0, 0.0, 1.0, None), "n");
        assert_eq!(err(10.0, 1.0, 1.0, 0.0, 1.0, None), "rho");
        assert_eq!(err(10.0, -0.2, 1.0, 0.0, 1.0, None), "rho");
        assert_eq!(err(10.0, 0.3, 0.0, 0.0, 1.0, None), "gamma");
        assert_eq!(err(10.0, 0.3, f64::INFINITY, 0.0, 1.0, None), "gamma");
        assert_eq!(err(10.0, 0.3, 1.0, -0.1, 1.0, None), "alpha");
        assert_eq!(err(10.0, 0.3, 1.0, 0.0, 0.0, None), "q");
        assert_eq!(err(10.0, 0.3, 1.0, 0.0, 1.0, Some(9.0)), "d");
        let beta = SimplexParams::new(10.0, 0.3, Scaling::Beta(-1.0), 0.0, 1.0, None);
        assert_eq!(beta.unwrap_err().name, "beta");
    }

    #[test]
    fn negative_rho_is_valid_but_warned() {
        let params = SimplexParams::new(10.0, -0.1, Scaling::Gamma(1.0), 0.0, 1.0, None).unwrap();
        assert_eq!(params.warnings().len(), 1);
        let layer = SimplexLayer::evaluate(&params);
        assert!(layer.lambda.is_finite() && layer.cos_out.is_finite());
    }

    proptest! {
        #[test]
        fn lambda_lies_in_the_unit_interval_without_residual(
            log10_n in 0.31f64..300.0, rho in 0.001f64..0.999, gamma in 0.01f64..50.0,
        ) {
            let layer = point(10f64.powf(log10_n), rho, gamma, 0.0, 1.0, None);
            prop_assert!(layer.lambda >= 0.0 && layer.lambda <= 1.0);
            prop_assert!(layer.one_minus_lambda >= 0.0 && layer.one_minus_lambda <= 1.0);
            prop_assert!(abs_diff_eq!(layer.lambda + layer.one_minus_lambda, 1.0, epsilon = 4e-16));
            prop_assert!(layer.lambda_angle >= 0.0 && layer.lambda_angle <= 1.0 + 1e-15);
        }

        #[test]
        fn cos_out_does_not_increase_with_gamma(
            log10_n in 0.31f64..300.0, rho in 0.001f64..0.999,
            gamma in 0.01f64..20.0, step in 0.0f64..5.0,
        ) {
            let n = 10f64.powf(log10_n);
            let lower = point(n, rho, gamma, 0.0, 1.0, None);
            let higher = point(n, rho, gamma + step, 0.0, 1.0, None);
            // Both are rounded once near 1: allow one ulp of slack.
            prop_assert!(higher.cos_out <= lower.cos_out + f64::EPSILON);
            prop_assert!(higher.one_minus_cos_out >= lower.one_minus_cos_out * (1.0 - 1e-14));
        }

        #[test]
        fn everything_is_finite_across_the_range(
            log10_n in 0.31f64..300.0, rho in 0.001f64..0.999, gamma in 1e-3f64..1e3,
            alpha in 0.0f64..3.0, q in 0.01f64..100.0, extra_d in 0.0f64..10.0,
        ) {
            let n = 10f64.powf(log10_n);
            let layer = point(n, rho, gamma, alpha, q, Some(n * (1.0 + extra_d)));
            for value in [layer.self_weight, layer.cos_out, layer.lambda, layer.ln_lambda,
                          layer.lambda_angle, layer.one_minus_lambda, layer.eta.unwrap()] {
                prop_assert!(value.is_finite(), "{:?}", layer);
            }
            prop_assert!(layer.eta.unwrap() >= 0.0);
        }

        #[test]
        fn lambda_and_its_logarithm_agree(
            log10_n in 0.31f64..300.0, rho in 0.001f64..0.999, gamma in 0.01f64..20.0,
            alpha in 0.0f64..2.0,
        ) {
            let layer = point(10f64.powf(log10_n), rho, gamma, alpha, 1.0, None);
            if layer.lambda.is_normal() {
                let ratio = layer.ln_lambda.exp() / layer.lambda;
                prop_assert!(abs_diff_eq!(ratio, 1.0, epsilon = 1e-12 * layer.ln_lambda.abs().max(1.0)));
            }
            if layer.one_minus_lambda.is_normal() {
                let ratio = layer.ln_one_minus_lambda.exp() / layer.one_minus_lambda;
                let tol = 1e-12 * layer.ln_one_minus_lambda.abs().max(1.0);
                prop_assert!(abs_diff_eq!(ratio, 1.0, epsilon = tol));
            }
        }
    }
}
