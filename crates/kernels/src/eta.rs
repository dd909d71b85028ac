//! The gradient size η = ‖∂X'/∂X‖²_F/(nd) (THEORY §3, §5b), exactly and by Hutchinson's estimator,
//! without the nd × nd Jacobian.
//!
//! # The exact form
//!
//! Notation: y_i unit, r_i = |x_i|, δ_ij = 1 − ⟨y_i, y_j⟩, A the attention, m_i = Σ_j A_ij y_j,
//! C_i = Σ_j A_ij (y_j − m_i)(y_j − m_i)ᵀ, Π_k = I − y_k y_kᵀ. THEORY §5b gives the blocks
//! J_ik = D_ik Π_k/r_k + αδ_ik I with D_ik = A_ik(I + β(y_k − m_i)y_iᵀ) + δ_ik βC_i, and
//! ‖MΠ_k‖² = ‖M‖² − |M y_k|² for any M.
//!
//! **Off-diagonal blocks** (k ≠ i), with w = y_k − m_i:
//! ‖I + βw y_iᵀ‖² = d + 2β⟨w, y_i⟩ + β²|w|² and |(I + βw y_iᵀ)y_k|² = 1 + 2β⟨y_i, y_k⟩⟨w, y_k⟩
//! + β²⟨y_i, y_k⟩²|w|², so
//!
//! ‖J_ik‖² = (A_ik²/r_k²)·[(d − 1) + 2β(⟨w, y_i⟩ − ⟨y_i, y_k⟩⟨w, y_k⟩) + β²|w|²(1 − ⟨y_i, y_k⟩²)]
//!
//! with ⟨w, y_i⟩ = δ̄_i − δ_ik (δ̄_i = Σ_j A_ij δ_ij = 1 − ⟨m_i, y_i⟩), ⟨w, y_k⟩ = P_ik and
//! 1 − ⟨y_i, y_k⟩² = δ_ik(2 − δ_ik).
//!
//! **Diagonal blocks**, F = D_ii = a(I + βv y_iᵀ) + βC (a = A_ii, v = y_i − m_i): expanding
//! ‖F‖² − |F y_i|², every term with v cancels and
//!
//! ‖F Π_i‖² = a²(d − 1) + 2aβ(tr C − y_iᵀC y_i) + β²(tr C² − |C y_i|²),
//! tr(F Π_i) = a(d − 1) + β(tr C − y_iᵀ C y_i),
//! ‖J_ii‖² = ‖FΠ_i‖²/r_i² + 2α tr(FΠ_i)/r_i + α² d.
//!
//! **GEMM-shaped ingredients**, in the centred frame z = y − c, μ_i = m_i − c (all invariant
//! under the shift, see [`mod@crate::prepare`]): G = Z Zᵀ (half, symmetric tiles), M = A Z,
//! B = M Zᵀ (B_ik = ⟨μ_i, z_k⟩), and
//!
//! * |w|² = |z_k|² − 2B_ik + |μ_i|²; P_ik = ⟨y_k − m_i, y_k⟩ = |z_k|² − B_ik + ⟨z_k, c⟩ − ⟨μ_i, c⟩;
//! * tr C_i = Σ_j A_ij |z_j − μ_i|²; y_iᵀC_i y_i = Σ_j A_ij (δ_ij − δ̄_i)² (the variance of δ_i·);
//! * C_i y_i = Σ_j A_ij(δ̄_i − δ_ij) z_j = (W Z)_i with W_ij = A_ij(δ̄_i − δ_ij) (its weights sum to
//!   0, so the shift drops out): one more GEMM;
//! * tr C_i² = ‖S_i − μ_iμ_iᵀ‖² with S_i = Σ_j A_ij z_j z_jᵀ, i.e. Q_i − 2Σ_j A_ij B_ij² + |μ_i|⁴ with
//!   Q_i = Σ_{jl} A_ij A_il ⟨z_j, z_l⟩² = a_iᵀ H a_i with H = G∘G, or, when d(d+1) < n,
//!   Q_i = |Σ_j A_ij vech(z_j z_jᵀ)|² with off-diagonal entries weighted by √2: an
//!   n × n × d(d+1)/2 GEMM (2n²·d(d+1)/2 flops).
//!
//! Work O(n²d + n³) (n³ + 6n²d flops: the triangular Q products, M = A Z, B = M Zᵀ, W Z, and
//! half of G) or O(n²d²); memory three n × n matrices (G, A and G∘G when that route is
//! taken). All sums over rows are taken in row order, so the result does not depend on the thread
//! count.
//!
//! **Cancellation.** Every quantity above is a difference of tokens or of tokens and means, so
//! the centring bounds the magnitudes by the spread of the tokens; tr C_i² = Q_i − 2s_i + |μ_i|⁴
//! still cancels when row i attends to one token (then tr C_i² → 0 while Q_i ≈ |z_i|⁴), with an
//! absolute error of a few ulps of |z_i|⁴ multiplied by β². At moderate β this is the order of
//! the rounding of the reference Jacobian itself; at very large β it swamps η (1e10 in f64, 1e3
//! in f32), so [`eta_exact`] carries an estimate of this error alongside the sum
//! ([`eta_exact_with_error`]) and refuses when it exceeds [`eta_error_limit`].
//!
//! # Hutchinson
//!
//! (J v)_i = Σ_k A_ik u_k + β Σ_k A_ik (g_ik + g_ki − ⟨m_i, u_i⟩) z_k − β(Σ_k A_ik g_ik) μ_i + α v_i,
//! with u_k = Π_k v_k/r_k and g_ik = ⟨y_i, u_k⟩ (from the matrix-free product of THEORY §5b;
//! the weights of C_i u_i sum to zero, so it is a GEMM with z). Per probe four GEMMs of n·n·d:
//! O(k n² d) for k probes, in row blocks (memory O(n·d) per probe in a batch plus O(b·n)).
//! When row i attends only to itself, g_ii = ⟨y_i, u_i⟩ = 0 and μ_i = z_i, so the β terms cancel
//! and their rounding (u·|u_i|, times β) remains: an estimate of it is kept per probe, and the
//! estimate is refused when it exceeds [`eta_error_limit`] of η and a quarter of the standard
//! error.
//!
//! # Layout
//!
//! The work is split by job into private submodules whose items are re-exported here:
//! `gram` builds the n × n ingredients of the exact form (G, A and the Q_i), `exact` sums the
//! blocks with their rounding-error estimate, `hutchinson` draws the probes, and `rounding` holds
//! the error model and the limit shared by both.

mod exact;
mod gram;
mod hutchinson;
mod rounding;

pub(crate) use exact::{RowPartial, RowPass, Scratch};
pub use exact::{eta_exact, eta_exact_with_error};
pub(crate) use gram::{attention_rows, q_vech};
pub(crate) use hutchinson::PROBE_BATCH;
pub use hutchinson::{Estimate, eta_hutchinson};
pub use rounding::eta_error_limit;
pub(crate) use rounding::exact_within_limit;
