(** * T1 and T3: the rates of THEORY §5 as limits of the scaled deviations: n^{−2κ}λ → 1/ρ
    below γ_c (α = 0), n^{κ}(1 − λ) → 2ρ/(1 + a) above, n(cos_out − lim) → C at γ_c;
    n^{−2κ}η → 1/q for −1/2 < κ < 0 and n^{κ}(1 − qη/(1 − 1/d)) → 2 above. *)

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

(** ** T3 rates (α = 0, d = μn, μ ≥ 1) *)

(** THEORY §5, κ > 0: 1 − qη/(1 − 1/d) ≈ 2n^{−κ}, i.e. n^{κ}(1 − qη/(1 − 1/d)) → 2. *)
Theorem T3_rate_super rho gamma q mu : 0 < rho < 1 -> 0 < q -> 1 <= mu -> gamma_c rho < gamma ->
  is_lim (fun n => Rpower n (kappa gamma rho)
                   * (1 - q * eta n rho (gamma * ln n) 0 q (mu * n) / (1 - / (mu * n))))
         p_infty 2.
Proof.
  intros Hr Hq Hmu Hg. destruct (kappa_sign gamma rho Hr) as [_ [_ Hk]]. specialize (Hk Hg).
  set (k := kappa gamma rho) in *.
  set (V := fun n => exp (- (k * ln n))).
  apply (is_lim_ext_loc (fun n =>
     qeta_ds rho gamma mu (/ n) (1 / (1 + (1 - / n) * V n))
             ((1 - / n) * V n / (1 + (1 - / n) * V n)) (/ n * ln n) (/ n * ln n ^ 2)
             ((1 - / n) / (1 + (1 - / n) * V n)))).
  - exists 1. intros n Hn.
    assert (HP : p n rho (gamma * ln n) = 1 / (1 + (1 - / n) * V n)) by (apply p_V; exact Hn).
    assert (0 < V n) by apply exp_pos. assert (/ n < 1) by (apply inv_lt_1; lra).
    assert (0 < (1 - / n) * V n) by (apply Rmult_lt_0_compat; lra).
    assert (HO : 1 - p n rho (gamma * ln n) = (1 - / n) * V n / (1 + (1 - / n) * V n)).
    { rewrite HP. field. repeat split; nra. }
    rewrite (qeta_u_eq n rho gamma q mu) by lra.
    assert (HR : Rpower n k = / V n).
    { unfold Rpower, V. rewrite exp_Ropp, Rinv_inv. reflexivity. }
    replace (/ (mu * n)) with (/ n / mu) by (field; lra).
    assert (/ n / mu < 1).
    { unfold Rdiv. apply Rle_lt_trans with (/ n * 1); [|lra].
      apply Rmult_le_compat_l; [left; apply Rinv_0_lt_compat; lra|].
      rewrite <- Rinv_1. apply Rinv_le_contravar; lra. }
    rewrite HR, rate_super_eta_alg; [|lra|apply Rgt_not_eq; exact (exp_pos _)|lra|lra|lra].
    rewrite HO, HP. f_equal. field. repeat split; nra.
  - pose proof lim_inv_n as Hu. pose proof lim_ln_over_n as Hl1.
    pose proof lim_ln2_over_n as Hl2.
    pose proof (lim_exp_neg_ln k Hk) as HV. fold V in HV.
    assert (HV' : is_lim V p_infty 0) by exact HV.
    unfold qeta_ds. eapply lim_eq; [lim_auto|]; try lra. field. lra.
Qed.

(** ln n · n^{−c} → 0 for c > 0. *)
Lemma lim_ln_exp c : 0 < c -> is_lim (fun n => ln n * exp (- (c * ln n))) p_infty 0.
Proof.
  intros Hc.
  apply (is_lim_comp (fun y => y * exp (- (c * y))) ln p_infty 0 p_infty).
  - apply (is_lim_ext (fun y => / c * ((c * y) / exp (c * y)))).
    + intros y. rewrite exp_Ropp. field. split; [apply Rgt_not_eq, exp_pos|lra].
    + replace 0 with (/ c * 0) by ring. apply lim_mult; [apply lim_const|].
      apply (is_lim_comp (fun z => z / exp z) (fun y => c * y) p_infty 0 p_infty).
      * apply lim_y_exp.
      * apply lim_scal_pinf; [exact Hc|apply is_lim_id].
      * exists 0. intros. discriminate.
  - apply is_lim_ln_p.
  - exists 0. intros. discriminate.
Qed.

(** THEORY §5, −1/2 < κ < 0: η ≈ n^{2κ}/q, i.e. n^{−2κ}η → 1/q (below κ = −1/2 the
    off-diagonal 1/(nq) dominates). *)
Theorem T3_rate_sub rho gamma q mu : 0 < rho < 1 -> 0 < q -> 1 <= mu -> 0 < gamma ->
  - / 2 < kappa gamma rho < 0 ->
  is_lim (fun n => Rpower n (- (2 * kappa gamma rho)) * eta n rho (gamma * ln n) 0 q (mu * n))
         p_infty (/ q).
Proof.
  intros Hr Hq Hmu Hg Hk.
  set (k := kappa gamma rho) in *.
  set (X := fun n => exp (- (- k * ln n))).
  apply (is_lim_ext_loc (fun n =>
     qeta_rs rho gamma mu (/ n) (X n / (X n + 1 - / n)) ((1 - / n) / (X n + 1 - / n))
             (/ n * ln n) (/ n * ln n ^ 2)
             (1 / (X n + 1 - / n)) (exp (- ((1 + 2 * k) * ln n)))
             (ln n * exp (- ((1 + k) * ln n))) / q)).
  - exists 1. intros n Hn.
    assert (HX : X n = exp (k * ln n)) by (unfold X; f_equal; ring).
    assert (0 < X n) by apply exp_pos. assert (/ n < 1) by (apply inv_lt_1; lra).
    pose proof (one_minus_p_kappa n rho gamma Hn) as H1. pose proof (p_kappa n rho gamma Hn) as H2.
    cbv zeta in H1, H2. fold k in H1, H2. rewrite <- HX in H1, H2.
    assert (Hn0 : / n = exp (- ln n)) by (rewrite exp_Ropp, exp_ln by lra; reflexivity).
    assert (HR : Rpower n (- (2 * k)) = / X n ^ 2).
    { unfold Rpower. rewrite HX, exp_pow, <- exp_Ropp. f_equal. simpl. ring. }
    rewrite HR.
    replace (eta n rho (gamma * ln n) 0 q (mu * n))
      with (q * eta n rho (gamma * ln n) 0 q (mu * n) / q) by (field; lra).
    rewrite (qeta_u_eq n rho gamma q mu) by lra. rewrite H1, H2.
    match goal with |- _ = / X n ^ 2 * (?A / q) =>
      replace (/ X n ^ 2 * (A / q)) with ((/ X n ^ 2 * A) / q) by (field; split; lra) end.
    rewrite rate_sub_eta_alg by lra.
    f_equal. f_equal.
    + field. repeat split; nra.
    + rewrite Hn0, HX, exp_pow. unfold Rdiv. rewrite <- exp_Ropp, <- exp_plus. f_equal. simpl. ring.
    + rewrite Hn0, HX. unfold Rdiv. rewrite <- exp_Ropp.
      rewrite (Rmult_comm (exp (- ln n)) (ln n)), Rmult_assoc, <- exp_plus. f_equal. f_equal. ring.
  - pose proof lim_inv_n as Hu. pose proof lim_ln_over_n as Hl1.
    pose proof lim_ln2_over_n as Hl2.
    pose proof (lim_exp_neg_ln (- k) ltac:(lra)) as HX. fold X in HX.
    assert (HX' : is_lim X p_infty 0) by exact HX.
    pose proof (lim_exp_neg_ln (1 + 2 * k) ltac:(lra)) as Hus2.
    pose proof (lim_ln_exp (1 + k) ltac:(lra)) as Hl1s.
    unfold qeta_rs. eapply lim_eq; [lim_auto|]; try lra. field. lra.
Qed.

(** ** T1 at γ_c: the 1/n rate *)

(** The constant C of n(cos_out − lim) → C at γ_c: the derivative at u = 0 of cos_out written
    in u = 1/n (p = 1/(2 − u), e^{−t} = u), with c₀ = 1/2 + a, |x'|²₀ = D₀ and its derivative D₁. *)
Definition crit_rate_const (rho a : R) : R :=
  let c0 := 1 / 2 + a in
  let D0 := c0 ^ 2 + rho / 2 * (2 * c0 + 1 / 2) in
  let D1 := 2 * c0 * (- / 4) + (1 / 2 - rho / 4) * (2 * c0 + 1 / 2) + rho / 2 * (2 * (- / 4) + / 4) in
  - (1 - rho) * (2 * c0 * (- / 4) * D0 - c0 ^ 2 * D1) / D0 ^ 2.

(** THEORY §5, κ = 0: cos_out − 4ρ/(1 + 3ρ) = O(1/n); precisely n(cos_out − lim) → C(ρ, a)
    (ρ = 0.3, a = 0: C ≈ 0.64 ≠ 0, so the rate is exactly 1/n). *)
Theorem T1_rate_crit rho a : 0 < rho < 1 -> 0 <= a ->
  is_lim (fun n => n * (cos_out n rho (gamma_c rho * ln n) a - cos_lim_crit rho a))
         p_infty (crit_rate_const rho a).
Proof.
  intros Hr Ha.
  set (F := fun u => 1 - (1 - rho) * lam_u rho a u (1 / (2 - u)) ((1 - u) / (2 - u)) u).
  assert (HD0 : 0 < (1 / 2 + a) ^ 2 + rho / 2 * (2 * (1 / 2 + a) + 1 / 2)).
  { assert (0 < (1 / 2 + a) ^ 2) by (apply pow_lt; lra).
    assert (0 <= rho / 2 * (2 * (1 / 2 + a) + 1 / 2)) by (apply Rmult_le_pos; lra). lra. }
  assert (Hder : is_derive F 0 (crit_rate_const rho a)).
  { unfold F, lam_u, crit_rate_const. auto_derive.
    - repeat split; try lra.
      intro Hz. assert (Hz2 : (1 / 2 + a) ^ 2 + rho / 2 * (2 * (1 / 2 + a) + 1 / 2) = 0)
        by (rewrite <- Hz; field). lra.
    - field. lra. }
  apply is_derive_Reals in Hder.
  assert (Hk : kappa (gamma_c rho) rho = 0) by (apply (kappa_sign (gamma_c rho) rho Hr); reflexivity).
  assert (Hgc : 0 < gamma_c rho) by (unfold gamma_c; apply Rinv_0_lt_compat; lra).
  apply (is_lim_ext_loc (fun n => (F (0 + / n) - F 0) / (/ n))).
  - exists 1. intros n Hn.
    pose proof (cos_out_X n rho (gamma_c rho) a Hn Hr Hgc Ha) as Hc. cbv zeta in Hc.
    rewrite Hc, Hk, Rmult_0_l, exp_0, Rinv_1, Rmult_1_r, Rplus_0_l.
    replace (1 + 1 - / n) with (2 - / n) by ring.
    assert (HF0 : F 0 = cos_lim_crit rho a).
    { unfold F, lam_u, cos_lim_crit. field. nra. }
    rewrite HF0. unfold F. field. lra.
  - apply is_lim_spec. intros eps.
    destruct (Hder eps (cond_pos eps)) as [delta Hdelta].
    exists (Rmax 1 (/ delta)). intros n Hn.
    assert (Hn1 : 1 < n) by (pose proof (Rmax_l 1 (/ delta)); lra).
    assert (Hd : / delta < n) by (pose proof (Rmax_r 1 (/ delta)); lra).
    assert (Hdp : 0 < delta) by apply cond_pos.
    apply Hdelta.
    + apply Rinv_neq_0_compat. lra.
    + rewrite Rabs_pos_eq by (left; apply Rinv_0_lt_compat; lra).
      replace (pos delta) with (/ / delta) by (field; lra).
      apply Rinv_lt_contravar; [apply Rmult_lt_0_compat; [apply Rinv_0_lt_compat|]; lra|exact Hd].
Qed.

(** Without residual the constant is (1 − ρ)(3 + ρ)/(1 + 3ρ)² (crates/certify/src/forms.rs). *)
Lemma crit_rate_const_no_residual rho : 0 < rho < 1 ->
  crit_rate_const rho 0 = (1 - rho) * (3 + rho) / (1 + 3 * rho) ^ 2.
Proof. intros Hr. unfold crit_rate_const. field. lra. Qed.
