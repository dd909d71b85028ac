(** * The simplex layer of THEORY §5: definitions and exact algebra.

    Every quantity is a function of real n (the number of tokens), ρ (the pairwise cosine),
    β (the inverse temperature; β = γ·ln n in the theorems) and a = α√q (the residual).
    The definitions follow crates/simplex/src/lib.rs and eta.rs. *)

From Coq Require Import Reals Lra.
Open Scope R_scope.

Lemma inv_lt_1 n : 1 < n -> / n < 1.
Proof.
  intros H. pose proof (Rinv_1_lt_contravar 1 n (Rle_refl 1) H). rewrite Rinv_1 in H0. exact H0.
Qed.

(** e^{-t} with t = β(1 − ρ): the ratio of an off-diagonal to the diagonal softmax weight. *)
Definition E (rho beta : R) : R := exp (- (beta * (1 - rho))).

(** p = A_ii = 1/(1 + (n − 1)e^{−t}). *)
Definition p (n rho beta : R) : R := / (1 + (n - 1) * E rho beta).

(** r = A_ij (i ≠ j) = p e^{−t}. *)
Definition r (n rho beta : R) : R := p n rho beta * E rho beta.

(** c = p − r + a, the coefficient of y_i in x'_i = c y_i + r Σ_j y_j. *)
Definition c (n rho beta a : R) : R := p n rho beta - r n rho beta + a.

(** s₁ = ⟨y_i, Σ_j y_j⟩ = 1 + (n − 1)ρ. *)
Definition s1 (n rho : R) : R := 1 + (n - 1) * rho.

(** |x'_i|² and ⟨x'_i, x'_j⟩ (i ≠ j): the Gram expansion of c y_i + r S, S = Σ_j y_j, with
    ⟨y_i, y_i⟩ = 1, ⟨y_i, y_j⟩ = ρ, ⟨y_i, S⟩ = s₁ and ⟨S, S⟩ = n s₁ (Gram.v derives these sums
    and the expansion from the Gram matrix (1 − ρ)I + ρ11ᵀ for natural n). *)
Definition out_norm_sq (n rho beta a : R) : R :=
  let c := c n rho beta a in let r := r n rho beta in
  c ^ 2 + 2 * c * r * s1 n rho + r ^ 2 * n * s1 n rho.

Definition out_inner (n rho beta a : R) : R :=
  let c := c n rho beta a in let r := r n rho beta in
  rho * c ^ 2 + 2 * c * r * s1 n rho + r ^ 2 * n * s1 n rho.

(** cos_out = ⟨x'_i, x'_j⟩/|x'_i|² (all outputs have the same norm), λ = c²/|x'|². *)
Definition cos_out (n rho beta a : R) : R := out_inner n rho beta a / out_norm_sq n rho beta a.
Definition lambda (n rho beta a : R) : R := c n rho beta a ^ 2 / out_norm_sq n rho beta a.

(** The limits of T1 (THEORY §4), below, at and above γ_c. *)
Definition cos_lim_sub (rho a : R) : R := rho * (a + 1) ^ 2 / (a ^ 2 + 2 * a * rho + rho).
Definition cos_lim_crit (rho a : R) : R :=
  rho * (a + 1) ^ 2 / (a ^ 2 + a * (1 + rho) + (1 + 3 * rho) / 4).
Definition cos_lim_super (rho a : R) : R := rho.

(** The exact finite-n η of crates/simplex/src/eta.rs (THEORY §5), at dimension d, squared
    norm q and residual weight α: the definition T3 is about (its derivation from the Jacobian
    is tested in the Rust crate, not proved here). *)
Definition eta (n rho beta alpha q d : R) : R :=
  let p := p n rho beta in let r := r n rho beta in
  let h := (1 - r) ^ 2 + p ^ 2 + r * (1 - p - r) in
  let trCP := (1 - rho) * (rho * p * (1 - p) + (1 - p) * (1 - r)) in
  let CPsq := (1 - rho) ^ 2 * ((1 - p) * r * h + rho * p ^ 2 * ((1 - p) ^ 2 + (1 - p) * r)) in
  let Eoff := (d - 1) - 2 * beta * (1 - rho) * (rho * (1 - r) + p)
              + beta ^ 2 * (1 - rho) * (1 - rho ^ 2) * h in
  let Ediag := p ^ 2 * (d - 1) + 2 * p * beta * trCP + beta ^ 2 * CPsq in
  ((1 - p) * r * Eoff + Ediag) / (d * q)
  + 2 * alpha * (p * (d - 1) + beta * trCP) / (d * sqrt q) + alpha ^ 2.

(** The limits of T3 (α = 0), as (1 − 1/d)/q times 0, 1/4, 1. *)
Definition eta_lim (level q d : R) : R := (1 - / d) * level / q.

(** ** Softmax weights *)

Lemma E_pos rho beta : 0 < E rho beta.
Proof. apply exp_pos. Qed.

Lemma p_den_pos n rho beta : 1 <= n -> 0 < 1 + (n - 1) * E rho beta.
Proof.
  intros Hn. pose proof (E_pos rho beta).
  assert (0 <= (n - 1) * E rho beta) by (apply Rmult_le_pos; lra). lra.
Qed.

Lemma p_pos n rho beta : 1 <= n -> 0 < p n rho beta.
Proof. intros Hn. unfold p. apply Rinv_0_lt_compat, p_den_pos, Hn. Qed.

(** The softmax row of a simplex: scores β on the diagonal and βρ elsewhere. *)
Lemma p_softmax n rho beta : 1 <= n ->
  p n rho beta = exp beta / (exp beta + (n - 1) * exp (beta * rho)).
Proof.
  intros Hn. unfold p, E.
  assert (Hs : exp (- (beta * (1 - rho))) = exp (beta * rho) / exp beta).
  { replace (- (beta * (1 - rho))) with (beta * rho + - beta) by ring.
    rewrite exp_plus, exp_Ropp. reflexivity. }
  rewrite Hs. pose proof (exp_pos beta). pose proof (exp_pos (beta * rho)).
  assert (0 <= (n - 1) * exp (beta * rho)) by (apply Rmult_le_pos; lra).
  field. split; lra.
Qed.

Lemma r_softmax n rho beta : 1 <= n ->
  r n rho beta = exp (beta * rho) / (exp beta + (n - 1) * exp (beta * rho)).
Proof.
  intros Hn. unfold r. rewrite p_softmax by exact Hn. unfold E.
  replace (- (beta * (1 - rho))) with (beta * rho + - beta) by ring.
  rewrite exp_plus, exp_Ropp. pose proof (exp_pos beta). pose proof (exp_pos (beta * rho)).
  assert (0 <= (n - 1) * exp (beta * rho)) by (apply Rmult_le_pos; lra).
  field. split; lra.
Qed.

(** The row sums to one: p + (n − 1) r = 1. *)
Lemma row_sum n rho beta : 1 <= n -> (n - 1) * r n rho beta = 1 - p n rho beta.
Proof.
  intros Hn. unfold r, p. pose proof (p_den_pos n rho beta Hn). field. lra.
Qed.

(** ** The output norm and λ *)

(** ⟨x'_i, x'_j⟩ = |x'_i|² − (1 − ρ)c², hence cos_out = 1 − (1 − ρ)λ. *)
Lemma cos_out_lambda n rho beta a : out_norm_sq n rho beta a <> 0 ->
  cos_out n rho beta a = 1 - (1 - rho) * lambda n rho beta a.
Proof.
  intros H. unfold cos_out, lambda, out_inner. unfold out_norm_sq in *. field. exact H.
Qed.

(** |x'|² = c² + 2cw + (rn)w with w = r s₁ = r + (1 − p)ρ. *)
Lemma out_norm_sq_w n rho beta a : 1 <= n ->
  out_norm_sq n rho beta a =
  c n rho beta a ^ 2
  + (r n rho beta + (1 - p n rho beta) * rho)
    * (2 * c n rho beta a + r n rho beta * n).
Proof.
  intros Hn. unfold out_norm_sq, s1. rewrite <- row_sum by exact Hn. ring.
Qed.

(** c = p(1 − e^{−t}) + a. *)
Lemma c_E n rho beta a : c n rho beta a = p n rho beta * (1 - E rho beta) + a.
Proof. unfold c, r. ring. Qed.

(** ** Forms in u = 1/n (crates/certify/src/forms.rs) *)

(** λ from p, 1 − p and e^{−t}, in u = 1/n: no factor n left. *)
Definition lam_u (rho a u P OMP e : R) : R :=
  let c := P * (1 - e) + a in
  let rn := OMP / (1 - u) in
  let w := u * rn + OMP * rho in
  c ^ 2 / (c ^ 2 + w * (2 * c + rn)).

Lemma r_u n rho beta : 1 < n ->
  r n rho beta = / n * ((1 - p n rho beta) / (1 - / n)).
Proof.
  intros Hn. rewrite <- row_sum by lra. field. split; [lra|].
  intro H. assert (/ n < 1) by (apply inv_lt_1; lra). lra.
Qed.

Lemma lambda_u n rho beta a : 1 < n ->
  lambda n rho beta a =
  lam_u rho a (/ n) (p n rho beta) (1 - p n rho beta) (E rho beta).
Proof.
  intros Hn. unfold lambda, lam_u. rewrite out_norm_sq_w, c_E by lra.
  rewrite r_u by exact Hn.
  replace (/ n * ((1 - p n rho beta) / (1 - / n)) * n)
    with ((1 - p n rho beta) / (1 - / n)) by (field; split; [lra|];
      intro H; assert (/ n < 1) by (apply inv_lt_1; lra); lra).
  reflexivity.
Qed.

(** With β = γ ln n and κ = γ(1 − ρ) − 1: e^{−t} = u·n^{−κ} and p = X/(X + 1 − u), X = n^κ. *)
Definition kappa (gamma rho : R) : R := gamma * (1 - rho) - 1.

Lemma E_kappa n rho gamma : 0 < n ->
  E rho (gamma * ln n) = / n * exp (- (kappa gamma rho * ln n)).
Proof.
  intros Hn. unfold E, kappa.
  replace (- (gamma * ln n * (1 - rho))) with (- ln n + - ((gamma * (1 - rho) - 1) * ln n))
    by ring.
  rewrite exp_plus, exp_Ropp, exp_ln by exact Hn. reflexivity.
Qed.

Lemma p_kappa n rho gamma : 1 < n ->
  let X := exp (kappa gamma rho * ln n) in
  p n rho (gamma * ln n) = X / (X + 1 - / n).
Proof.
  intros Hn X. unfold p. rewrite E_kappa by lra.
  rewrite exp_Ropp. fold X. assert (0 < X) by apply exp_pos.
  assert (/ n < 1) by (apply inv_lt_1; lra).
  replace (1 + (n - 1) * (/ n * / X)) with ((X + 1 - / n) / X) by (field; lra).
  field. repeat split; nra.
Qed.

Lemma one_minus_p_kappa n rho gamma : 1 < n ->
  let X := exp (kappa gamma rho * ln n) in
  1 - p n rho (gamma * ln n) = (1 - / n) / (X + 1 - / n).
Proof.
  intros Hn X. rewrite p_kappa by exact Hn. fold X. assert (0 < X) by apply exp_pos.
  assert (/ n < 1) by (apply inv_lt_1; lra). field. repeat split; nra.
Qed.

(** ** Positivity *)

Lemma E_lt_1 rho beta : 0 < beta * (1 - rho) -> E rho beta < 1.
Proof.
  intros H. unfold E. assert (H0 : exp (- (beta * (1 - rho))) < exp 0) by (apply exp_increasing; lra). rewrite exp_0 in H0. exact H0.
Qed.

Lemma p_le_1 n rho beta : 1 <= n -> p n rho beta <= 1.
Proof.
  intros Hn. unfold p. pose proof (E_pos rho beta).
  assert (0 <= (n - 1) * E rho beta) by (apply Rmult_le_pos; lra).
  rewrite <- Rinv_1. apply Rinv_le_contravar; lra.
Qed.

Lemma out_norm_sq_pos n rho beta a :
  1 < n -> 0 < rho < 1 -> 0 < beta -> 0 <= a -> 0 < out_norm_sq n rho beta a.
Proof.
  intros Hn Hr Hb Ha. rewrite out_norm_sq_w by lra. rewrite c_E.
  pose proof (p_pos n rho beta ltac:(lra)). pose proof (p_le_1 n rho beta ltac:(lra)).
  pose proof (E_pos rho beta).
  assert (HE : E rho beta < 1) by (apply E_lt_1; apply Rmult_lt_0_compat; lra).
  assert (Hc : 0 < p n rho beta * (1 - E rho beta) + a)
    by (assert (0 < p n rho beta * (1 - E rho beta)) by (apply Rmult_lt_0_compat; lra); lra).
  assert (Hr0 : 0 < r n rho beta) by (unfold r; apply Rmult_lt_0_compat; lra).
  assert (Hw : 0 < r n rho beta + (1 - p n rho beta) * rho)
    by (assert (0 <= (1 - p n rho beta) * rho) by (apply Rmult_le_pos; lra); lra).
  assert (0 < r n rho beta * n) by (apply Rmult_lt_0_compat; lra).
  assert (0 < (r n rho beta + (1 - p n rho beta) * rho)
              * (2 * (p n rho beta * (1 - E rho beta) + a) + r n rho beta * n))
    by (apply Rmult_lt_0_compat; lra).
  nra.
Qed.

(** ** The layer in the variables u = 1/n and X = n^κ *)

Lemma cos_out_X n rho gamma a :
  1 < n -> 0 < rho < 1 -> 0 < gamma -> 0 <= a ->
  let X := exp (kappa gamma rho * ln n) in
  cos_out n rho (gamma * ln n) a =
  1 - (1 - rho) * lam_u rho a (/ n) (X / (X + 1 - / n)) ((1 - / n) / (X + 1 - / n))
                        (/ n * / X).
Proof.
  intros Hn Hr Hg Ha X.
  assert (0 < ln n) by (rewrite <- ln_1; apply ln_increasing; lra).
  rewrite cos_out_lambda.
  2: { apply Rgt_not_eq, out_norm_sq_pos; try lra. apply Rmult_lt_0_compat; lra. }
  rewrite lambda_u by exact Hn.
  rewrite (one_minus_p_kappa n rho gamma Hn), (p_kappa n rho gamma Hn), E_kappa by lra.
  rewrite exp_Ropp. reflexivity.
Qed.

Lemma lambda_X n rho gamma a : 1 < n ->
  let X := exp (kappa gamma rho * ln n) in
  lambda n rho (gamma * ln n) a =
  lam_u rho a (/ n) (X / (X + 1 - / n)) ((1 - / n) / (X + 1 - / n)) (/ n * / X).
Proof.
  intros Hn X. rewrite lambda_u by exact Hn.
  rewrite (one_minus_p_kappa n rho gamma Hn), (p_kappa n rho gamma Hn), E_kappa by lra.
  rewrite exp_Ropp. reflexivity.
Qed.

(** q·η for α = 0 and d = μn, in u = 1/n, with ℓ₁ = u ln n and ℓ₂ = u (ln n)²: β only
    appears through β/d = γℓ₁/μ and β²/d = γ²ℓ₂/μ. *)
Definition qeta_u (rho gamma mu u P OMP l1 l2 : R) : R :=
  let r := u * OMP / (1 - u) in
  let h := (1 - r) ^ 2 + P ^ 2 + r * (OMP - r) in
  let trCP := (1 - rho) * (rho * P * OMP + OMP * (1 - r)) in
  let CPsq := (1 - rho) ^ 2 * (OMP * r * h + rho * P ^ 2 * (OMP ^ 2 + OMP * r)) in
  (P ^ 2 + OMP * r) * (1 - u / mu)
  + OMP * r * (- (2 * gamma * (1 - rho) * (rho * (1 - r) + P)) * l1
               + gamma ^ 2 * (1 - rho) * (1 - rho ^ 2) * h * l2) / mu
  + (2 * P * gamma * trCP * l1 + gamma ^ 2 * CPsq * l2) / mu.

Lemma qeta_u_eq n rho gamma q mu : 1 < n -> 0 < q -> 0 < mu ->
  q * eta n rho (gamma * ln n) 0 q (mu * n) =
  qeta_u rho gamma mu (/ n) (p n rho (gamma * ln n)) (1 - p n rho (gamma * ln n))
         (/ n * ln n) (/ n * ln n ^ 2).
Proof.
  intros Hn Hq Hmu. unfold eta, qeta_u. cbv zeta. rewrite (r_u n rho (gamma * ln n) Hn).
  assert (0 < sqrt q) by (apply sqrt_lt_R0; lra).
  assert (/ n < 1) by (apply inv_lt_1; lra).
  field. repeat split; lra.
Qed.
