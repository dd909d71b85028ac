(** * The two rate certificates at γ_c (cert.T1.rate.crit, cert.T3.rate.crit), as defined in
    crates/certify/src/defaults.rs: at ρ = 3/10, q = 1, α = 0, d = n, for every real n ≥ N = 10⁶,
    |n(cos_out − 4ρ/(1 + 3ρ))| ≤ 0.64 and |(n/ln² n)(η − (1 − 1/d)/(4q))| ≤ 0.063.
    The factor n (resp. n/ln² n) is cancelled by hand in an exact identity (checked by [field]),
    then coq-interval bounds the result over u = 1/n ∈ [0, 10⁻⁶] (and y = 1/ln n ∈ [0, 1/ln N]). *)

From Coq Require Import Reals Lra Lia.
From Interval Require Import Tactic.
From Critscale Require Import Simplex Bounds Certificates.
Open Scope R_scope.

Theorem cert_T1_rate_crit : forall n, N <= n ->
  Rabs (n * (cos_out n (3/10) (10/7 * ln n) 0 - cos_lim_crit (3/10) 0) - 0) <= 64/100.
Proof.
  intros n Hn.
  rewrite (cos_crit n (3/10) (10/7) 0) by (unfold kappa; lra).
  pose proof (u_bound n Hn) as Hu. unfold N in Hu, Hn.
  assert (Hun : 0 < / n) by (apply Rinv_0_lt_compat; lra).
  replace n with (/ / n) at 1 by (field; lra).
  set (u := / n) in *. clearbody u.
  replace (/ u * (1 - (1 - 3/10) * lam_u (3/10) 0 u (1 / (2 - u)) ((1 - u) / (2 - u)) u
                   - cos_lim_crit (3/10) 0))
    with ((1 - 3/10) * ((3 + 3/10) - (2 + 3/10) * u)
          / ((1 + 3 * (3/10)) * ((1 - u) ^ 2 + (u + (1 - u) * (3/10)) * (3 - 2 * u)))).
  2: { unfold lam_u, cos_lim_crit. field. repeat split; try lra; interval with (i_prec 60). }
  interval with (i_prec 60, i_bisect u).
Qed.

(** (n/L²)(qη − (1 − 1/d)/4) at γ_c, d = μn, in u = 1/n and y = 1/L (L = ln n):
    p² + (1 − p)r − 1/4 = u(8 − 5u)/(4(2 − u)²) and ℓ₁ = uL, ℓ₂ = uL². *)
Definition qeta_crit_scaled (rho gamma mu u y : R) : R :=
  let P := 1 / (2 - u) in let OMP := (1 - u) / (2 - u) in let r := u * OMP / (1 - u) in
  let h := (1 - r) ^ 2 + P ^ 2 + r * (OMP - r) in
  let trCP := (1 - rho) * (rho * P * OMP + OMP * (1 - r)) in
  let CPsq := (1 - rho) ^ 2 * (OMP * r * h + rho * P ^ 2 * (OMP ^ 2 + OMP * r)) in
  (8 - 5 * u) * (1 - u / mu) / (4 * (2 - u) ^ 2) * y ^ 2
  + OMP ^ 2 / ((1 - u) * mu)
    * (- (2 * gamma * (1 - rho) * (rho * (1 - r) + P)) * u * y
       + gamma ^ 2 * (1 - rho) * (1 - rho ^ 2) * h * u)
  + (2 * P * gamma * trCP * y + gamma ^ 2 * CPsq) / mu.

Lemma qeta_crit_scaled_eq rho gamma mu u L : 0 < u < 1 -> 0 < L -> 0 < mu ->
  / u / L ^ 2 * (qeta_u rho gamma mu u (1 / (2 - u)) ((1 - u) / (2 - u)) (u * L) (u * L ^ 2)
                 - (1 - u / mu) * (1 / 4))
  = qeta_crit_scaled rho gamma mu u (/ L).
Proof.
  intros Hu HL Hm. unfold qeta_u, qeta_crit_scaled. field. repeat split; lra.
Qed.

Theorem cert_T3_rate_crit : forall n, N <= n ->
  Rabs (n / ln n ^ 2 * (eta n (3/10) (10/7 * ln n) 0 1 n - eta_lim (1/4) 1 n) - 0) <= 63/1000.
Proof.
  intros n Hn. assert (Hn1 : 1 < n) by (unfold N in Hn; lra).
  rewrite (eta_q1 n (3/10) (10/7) 1 n Hn1 ltac:(lra) ltac:(ring)).
  rewrite (eta_lim_u (1/4) 1 n n ltac:(lra) ltac:(lra) ltac:(ring)).
  destruct (p_crit n (3/10) (10/7)) as [HP HO]; [exact Hn|unfold kappa; lra|].
  rewrite HO, HP.
  assert (HL : ln N <= ln n) by (apply ln_le_mono; unfold N in *; lra).
  assert (HL0 : 0 < ln n) by (apply Rlt_le_trans with (2 := HL); unfold N; interval with (i_prec 60)).
  assert (Hy : 0 <= / ln n <= 72383/1000000).
  { split; [left; apply Rinv_0_lt_compat; lra|].
    apply Rle_trans with (/ ln N).
    - apply Rinv_le_contravar; [unfold N; interval with (i_prec 60)|exact HL].
    - unfold N. interval with (i_prec 60). }
  pose proof (u_bound n Hn) as Hu. unfold N in Hu.
  assert (Hun : 0 < / n) by (apply Rinv_0_lt_compat; lra).
  assert (Hun1 : / n < 1) by (apply inv_lt_1; lra).
  replace (n / ln n ^ 2) with (/ / n / ln n ^ 2) by (field; lra).
  rewrite (qeta_crit_scaled_eq (3/10) (10/7) 1 (/ n) (ln n)) by lra.
  set (u := / n) in *. set (y := / ln n) in *. clearbody u y.
  unfold qeta_crit_scaled. interval with (i_prec 60, i_bisect u).
Qed.
