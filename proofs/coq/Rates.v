(** * T1: the rates of THEORY §5 where they are clean, as limits of the scaled deviations:
    n^{−2κ} λ → 1/ρ below γ_c (α = 0) and n^{κ}(1 − λ) → 2ρ/(1 + a) above. *)

From Coq Require Import Reals Lra.
From Coquelicot Require Import Coquelicot.
From Critscale Require Import Simplex Bounds Certificates Limits.
Open Scope R_scope.

Lemma scale_sq s c D : / s ^ 2 * (c ^ 2 / D) = (c / s) ^ 2 / D.
Proof. unfold Rdiv. rewrite Rpow_mult_distr, pow_inv. ring. Qed.

Lemma D_u_pos rho a u P OMP e :
  0 <= rho -> 0 <= a -> 0 <= u < 1 -> 0 < P -> 0 <= OMP -> e < 1 ->
  0 < D_u rho a u P OMP e.
Proof.
  intros Hr Ha Hu HP HO He. unfold D_u, c_u, w_u, rn_u.
  assert (Hc : 0 < P * (1 - e) + a) by (assert (0 < P * (1 - e)) by (apply Rmult_lt_0_compat; lra); lra).
  assert (0 <= OMP / (1 - u)) by (unfold Rdiv; apply Rmult_le_pos; [lra|left; apply Rinv_0_lt_compat; lra]).
  assert (0 <= u * (OMP / (1 - u)) + OMP * rho)
    by (assert (0 <= u * (OMP / (1 - u))) by (apply Rmult_le_pos; lra);
        assert (0 <= OMP * rho) by (apply Rmult_le_pos; lra); lra).
  assert (0 <= (u * (OMP / (1 - u)) + OMP * rho) * (2 * (P * (1 - e) + a) + OMP / (1 - u)))
    by (apply Rmult_le_pos; lra).
  assert (0 < (P * (1 - e) + a) ^ 2) by (apply pow_lt; lra). lra.
Qed.

(** THEORY §5, κ < 0, α = 0: λ ≈ n^{2κ}/ρ, i.e. n^{−2κ} λ → 1/ρ. *)
Theorem T1_rate_sub rho gamma : 0 < rho < 1 -> 0 < gamma < gamma_c rho ->
  is_lim (fun n => Rpower n (- (2 * kappa gamma rho)) * lambda n rho (gamma * ln n) 0)
         p_infty (/ rho).
Proof.
  intros Hr Hg. destruct (kappa_sign gamma rho Hr) as [Hk _]. specialize (Hk ltac:(lra)).
  set (k := kappa gamma rho) in *.
  apply (is_lim_ext_loc (fun n =>
     ((1 - E rho (gamma * ln n)) / (exp (- (- k * ln n)) + 1 - / n)) ^ 2
     / D_u rho 0 (/ n) (exp (- (- k * ln n)) / (exp (- (- k * ln n)) + 1 - / n))
           ((1 - / n) / (exp (- (- k * ln n)) + 1 - / n)) (E rho (gamma * ln n)))).
  - exists 1. intros n Hn.
    replace (- (- k * ln n)) with (k * ln n) by ring.
    rewrite lambda_u by exact Hn.
    pose proof (one_minus_p_kappa n rho gamma Hn) as H1. pose proof (p_kappa n rho gamma Hn) as H2.
    cbv zeta in H1, H2. fold k in H1, H2. rewrite H1, H2.
    set (X := exp (k * ln n)). assert (0 < X) by apply exp_pos.
    assert (/ n < 1) by (apply inv_lt_1; lra).
    assert (HR : Rpower n (- (2 * k)) = / X ^ 2).
    { unfold Rpower, X. rewrite exp_pow, <- exp_Ropp. f_equal. simpl. ring. }
    rewrite HR, lam_u_D, scale_sq. f_equal. f_equal. unfold c_u. field. repeat split; nra.
  - pose proof lim_inv_n as Hu.
    pose proof (E_lim rho gamma ltac:(apply Rmult_lt_0_compat; unfold gamma_c in Hg;
                                        destruct Hg as [Hg _]; lra)) as HE.
    pose proof (lim_exp_neg_ln (- k) ltac:(lra)) as HX.
    unfold D_u, c_u, w_u, rn_u. eapply lim_eq; [lim_auto|]; try lra.
    + intro Hz. assert (Hz2 : rho = 0) by (rewrite <- Hz; field). lra.
    + field. lra.
Qed.

(** THEORY §5, κ > 0: 1 − λ ≈ 2ρ n^{−κ}/(1 + a), i.e. n^{κ}(1 − λ) → 2ρ/(1 + a). *)
Theorem T1_rate_super rho gamma a : 0 < rho < 1 -> 0 <= a -> gamma_c rho < gamma ->
  is_lim (fun n => Rpower n (kappa gamma rho) * (1 - lambda n rho (gamma * ln n) a))
         p_infty (2 * rho / (1 + a)).
Proof.
  intros Hr Ha Hg. destruct (kappa_sign gamma rho Hr) as [_ [_ Hk]]. specialize (Hk Hg).
  assert (Hgc : 0 < gamma_c rho) by (unfold gamma_c; apply Rinv_0_lt_compat; lra).
  set (k := kappa gamma rho) in *.
  set (V := fun n => exp (- (k * ln n))).
  apply (is_lim_ext_loc (fun n =>
     (/ n / (1 - / n) + rho) * ((1 - / n) / (1 + (1 - / n) * V n))
     * (2 * c_u a (1 / (1 + (1 - / n) * V n)) (E rho (gamma * ln n))
        + rn_u (/ n) ((1 - / n) * V n / (1 + (1 - / n) * V n)))
     / D_u rho a (/ n) (1 / (1 + (1 - / n) * V n)) ((1 - / n) * V n / (1 + (1 - / n) * V n))
           (E rho (gamma * ln n)))).
  - exists 1. intros n Hn.
    assert (0 < ln n) by (rewrite <- ln_1; apply ln_increasing; lra).
    assert (Hb : 0 < gamma * ln n) by (apply Rmult_lt_0_compat; lra).
    assert (HP : p n rho (gamma * ln n) = 1 / (1 + (1 - / n) * V n)) by (apply p_V; exact Hn).
    assert (HO : 1 - p n rho (gamma * ln n) = (1 - / n) * V n / (1 + (1 - / n) * V n)).
    { rewrite HP. assert (0 < V n) by apply exp_pos. assert (/ n < 1) by (apply inv_lt_1; lra).
      assert (0 < (1 - / n) * V n) by (apply Rmult_lt_0_compat; lra). field. repeat split; nra. }
    assert (HD : 0 < D_u rho a (/ n) (p n rho (gamma * ln n)) (1 - p n rho (gamma * ln n))
                        (E rho (gamma * ln n))).
    { apply D_u_pos; try lra.
      - split; [left; apply Rinv_0_lt_compat; lra|apply inv_lt_1; lra].
      - apply p_pos; lra.
      - pose proof (p_le_1 n rho (gamma * ln n) ltac:(lra)). lra.
      - apply E_lt_1. apply Rmult_lt_0_compat; lra. }
    rewrite lambda_u by exact Hn.
    assert (HR : Rpower n k = / V n).
    { unfold Rpower, V. rewrite exp_Ropp, Rinv_inv. reflexivity. }
    rewrite HR. assert (0 < V n) by apply exp_pos. assert (/ n < 1) by (apply inv_lt_1; lra).
    rewrite rate_super_alg; [|apply Rgt_not_eq; exact (exp_pos _)|lra|lra].
    rewrite HO, HP. f_equal. f_equal. f_equal.
    assert (0 < (1 - / n) * V n) by (apply Rmult_lt_0_compat; lra). field. repeat split; nra.
  - pose proof lim_inv_n as Hu.
    pose proof (E_lim rho gamma ltac:(apply Rmult_lt_0_compat; lra)) as HE.
    pose proof (lim_exp_neg_ln k Hk) as HV. fold V in HV.
    assert (HV' : is_lim V p_infty 0) by exact HV.
    unfold D_u, c_u, w_u, rn_u. eapply lim_eq; [lim_auto|]; try lra.
    + intro Hz. assert (Hz2 : (1 + a) ^ 2 = 0) by (rewrite <- Hz; field). nra.
    + field. lra.
Qed.
