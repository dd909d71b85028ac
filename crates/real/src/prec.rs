//! The tolerance policy of the project, in one place.
//!
//! Every comparison between two computations of the same quantity uses one of these constants, and
//! each says why it has the value it has. Tests import them instead of writing literals.

/// Relative agreement demanded of `f64` closed forms against 40-digit reference values.
///
/// The closed forms take O(10) operations per quantity, each rounded to 2^{−53} ≈ 1.1e-16, and the
/// log-domain path (`exp` of a logarithm ℓ) adds |ℓ|·2^{−53}; with |ℓ| ≤ 1400 at n = 10^{300} that
/// is ≤ 1.6e-13. 1e-12 leaves a factor of six.
pub const F64_CLOSED_FORM_REL: f64 = 1e-12;

/// Relative agreement between the reference layer (naive loops, n ≤ 64) and the closed forms.
///
/// The reference model sums n terms in each softmax denominator, inner product and observable, so
/// its rounding error grows like n·2^{−53} ≈ 7e-15 at n = 64; the 1 − cos ratio λ divides by
/// 1 − ρ, and 1 − cos' loses digits when cos' is close to 1, so we budget 1e-9 relative there
/// (see [`F64_ONE_MINUS_COS_ABS`]).
pub const F64_MODEL_VS_CLOSED_REL: f64 = 1e-10;

/// Absolute error of 1 − cos' computed from two rounded unit vectors: about 2^{−52} per
/// coordinate sum, times a small factor for the normalisations.
pub const F64_ONE_MINUS_COS_ABS: f64 = 1e-14;

/// Analytic Jacobian against central finite differences with step h: the truncation error is
/// O(h²·‖third derivative‖) and the rounding error O(2^{−52}/h); h = 1e-5 balances them at ≈ 1e-10
/// for entries of size O(β²), so we accept 1e-6 absolute on the scale of the largest entry.
pub const JACOBIAN_FD_REL: f64 = 1e-6;

/// Finite-difference step used against [`JACOBIAN_FD_REL`].
pub const JACOBIAN_FD_STEP: f64 = 1e-5;

/// Number of standard errors a Monte-Carlo estimate may sit from its target before a test fails.
///
/// With a fixed seed the test is deterministic; 4 standard errors is a two-sided 6e-5 event for a
/// normal estimate, so a failure means a bias, not bad luck.
pub const MONTE_CARLO_SIGMAS: f64 = 4.0;

/// Constant in front of the predicted finite-n deviation |value(n) − limit| ≤ K·n^{−e} (+ rounding)
/// used by the T1/T3 limit tests at n = 1e12 … 1e300.
///
/// The leading constants of THEORY §5 on the test grid (ρ ≥ 0.1, a = α√q ≤ 1.5) are at most
/// (1 − ρ)/ρ = 9 (subcritical cos_out), 2ρ(1 − ρ) (supercritical cos_out), 2/q (supercritical η)
/// and ≈ 1 at γ_c; the residual's first-order constant 2(1−ρ)aρ(1+a)²/(a²+2aρ+ρ)² is below 1 on
/// the grid. K = 10 covers them all without hiding a wrong exponent: a test with the exponent off
/// by 0.1 fails by a factor n^{0.1} ≥ 16 at n = 1e12.
pub const LIMIT_RATE_CONSTANT: f64 = 10.0;

/// Rounding allowance of an `f64` closed form near its limit: a few unit roundoffs of an O(1)
/// value.
pub const F64_LIMIT_ROUNDING_ABS: f64 = 16.0 * f64::EPSILON;
