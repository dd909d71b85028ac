(** * T1 and T3 on the simplex: the limits as n → ∞ at β = γ ln n (THEORY §4, Theorems 2.1
    and 2.4 of the paper), below, at and above γ_c = 1/(1 − ρ), with Coquelicot's [is_lim]
    over the real variable n (filter p_infty). *)

From Coq Require Import Reals Lra.
From Coquelicot Require Import Coquelicot.
From Critscale Require Import Simplex Bounds.
Open Scope R_scope.

(** ** Finite-limit arithmetic at p_infty *)

Lemma lim_eq (f : R -> R) (x : Rbar) (l l' : R) : is_lim f x l -> l = l' -> is_lim f x l'.
Proof. intros H E. subst. exact H. Qed.

Lemma lim_const (x : Rbar) (a : R) : is_lim (fun _ => a) x a.
Proof. apply is_lim_const. Qed.

Lemma lim_plus (f g : R -> R) (x : Rbar) (lf lg : R) :
  is_lim f x lf -> is_lim g x lg -> is_lim (fun y => f y + g y) x (lf + lg).
Proof. apply is_lim_plus'. Qed.

Lemma lim_minus (f g : R -> R) (x : Rbar) (lf lg : R) :
  is_lim f x lf -> is_lim g x lg -> is_lim (fun y => f y - g y) x (lf - lg).
Proof. apply is_lim_minus'. Qed.

Lemma lim_mult (f g : R -> R) (x : Rbar) (lf lg : R) :
  is_lim f x lf -> is_lim g x lg -> is_lim (fun y => f y * g y) x (lf * lg).
Proof. intros Hf Hg. apply (is_lim_mult f g x lf lg Hf Hg). exact I. Qed.

Lemma lim_opp (f : R -> R) (x : Rbar) (l : R) :
  is_lim f x l -> is_lim (fun y => - f y) x (- l).
Proof. intros H. apply (is_lim_opp f x l H). Qed.

Lemma lim_inv (f : R -> R) (x : Rbar) (l : R) :
  is_lim f x l -> l <> 0 -> is_lim (fun y => / f y) x (/ l).
Proof.
  intros H Hl. apply (is_lim_inv f x l H). intro E. apply Hl. injection E. auto.
Qed.

Lemma lim_div (f g : R -> R) (x : Rbar) (lf lg : R) :
  is_lim f x lf -> is_lim g x lg -> lg <> 0 -> is_lim (fun y => f y / g y) x (lf / lg).
Proof.
  intros Hf Hg Hl. unfold Rdiv. apply lim_mult; [exact Hf|]. apply lim_inv; assumption.
Qed.

Lemma lim_pow (f : R -> R) (x : Rbar) (l : R) (k : nat) :
  is_lim f x l -> is_lim (fun y => f y ^ k) x (l ^ k).
Proof.
  intros H. induction k as [|k IH].
  - apply lim_const.
  - simpl. apply lim_mult; assumption.
Qed.

(** Builds the limit of an expression from the limits of its leaves (hypotheses); the
    non-zero side conditions of divisions are left as goals. *)
Ltac lim_auto :=
  repeat first
    [ apply lim_const
    | eassumption
    | eapply lim_plus
    | eapply lim_minus
    | eapply lim_mult
    | eapply lim_opp
    | eapply lim_pow
    | eapply lim_div
    | eapply lim_inv ].

(** ** The leaves: 1/n, e^{−t}, n^{±κ}, ln n/n, (ln n)²/n *)

Lemma lim_inv_n : is_lim (fun n => / n) p_infty 0.
Proof.
  apply (is_lim_inv (fun n => n) p_infty p_infty); [apply is_lim_id|discriminate].
Qed.

Lemma lim_scal_pinf c (f : R -> R) (x : Rbar) :
  0 < c -> is_lim f x p_infty -> is_lim (fun y => c * f y) x p_infty.
Proof.
  intros Hc H.
  assert (E : Rbar_mult c p_infty = p_infty).
  { apply is_Rbar_mult_unique. apply is_Rbar_mult_sym. apply is_Rbar_mult_p_infty_pos.
    exact Hc. }
  rewrite <- E. apply is_lim_scal_l. exact H.
Qed.

(** e^{−c ln n} → 0 for c > 0. *)
Lemma lim_exp_neg_ln c : 0 < c -> is_lim (fun n => exp (- (c * ln n))) p_infty 0.
Proof.
  intros Hc.
  apply (is_lim_comp (fun y => exp y) (fun n => - (c * ln n)) p_infty 0 m_infty).
  - apply is_lim_exp_m.
  - apply (is_lim_opp (fun n => c * ln n) p_infty p_infty).
    apply lim_scal_pinf; [exact Hc|apply is_lim_ln_p].
  - exists 0. intros. discriminate.
Qed.

(** e^{c ln n} → ∞ for c > 0. *)
Lemma lim_exp_pos_ln c : 0 < c -> is_lim (fun n => exp (c * ln n)) p_infty p_infty.
Proof.
  intros Hc.
  apply (is_lim_comp (fun y => exp y) (fun n => c * ln n) p_infty p_infty p_infty).
  - apply is_lim_exp_p.
  - apply lim_scal_pinf; [exact Hc|apply is_lim_ln_p].
  - exists 0. intros. discriminate.
Qed.

Lemma lim_ln_over_n : is_lim (fun n => / n * ln n) p_infty 0.
Proof.
  apply (is_lim_ext (fun n => ln n / n)); [intros; unfold Rdiv; ring|].
  apply is_lim_div_ln_p.
Qed.

(** y e^{−y} → 0 and y² e^{−y} → 0 as y → ∞. *)
Lemma lim_y_exp : is_lim (fun y => y / exp y) p_infty 0.
Proof.
  apply (is_lim_ext_loc (fun y => / (exp y / y))).
  - exists 0. intros y Hy. assert (0 < exp y) by apply exp_pos. field. split; lra.
  - replace (Finite 0) with (Rbar_inv p_infty) by reflexivity.
    apply is_lim_inv; [apply is_lim_div_exp_p|discriminate].
Qed.

Lemma lim_y2_exp : is_lim (fun y => y ^ 2 / exp y) p_infty 0.
Proof.
  apply (is_lim_ext (fun y => 4 * ((y / 2) / exp (y / 2)) ^ 2)).
  - intros y. replace (exp y) with (exp (y / 2) ^ 2).
    + field. apply Rgt_not_eq, exp_pos.
    + rewrite exp_pow. f_equal. simpl. field.
  - replace 0 with (4 * 0 ^ 2) by ring. apply lim_mult; [apply lim_const|].
    apply lim_pow.
    apply (is_lim_comp (fun z => z / exp z) (fun y => y / 2) p_infty 0 p_infty).
    + apply lim_y_exp.
    + apply (is_lim_ext (fun y => / 2 * y)); [intros; unfold Rdiv; ring|].
      apply lim_scal_pinf; [lra|apply is_lim_id].
    + exists 0. intros. discriminate.
Qed.

Lemma lim_ln2_over_n : is_lim (fun n => / n * ln n ^ 2) p_infty 0.
Proof.
  apply (is_lim_ext_loc (fun n => ln n ^ 2 / exp (ln n))).
  - exists 0. intros n Hn. rewrite exp_ln by exact Hn. unfold Rdiv. ring.
  - apply (is_lim_comp (fun y => y ^ 2 / exp y) ln p_infty 0 p_infty).
    + apply lim_y2_exp.
    + apply is_lim_ln_p.
    + exists 0. intros. discriminate.
Qed.

(** ** The self weight p *)

Lemma p_V n rho gamma : 1 < n ->
  p n rho (gamma * ln n) = 1 / (1 + (1 - / n) * exp (- (kappa gamma rho * ln n))).
Proof.
  intros Hn. pose proof (p_kappa n rho gamma Hn) as H. cbv zeta in H. rewrite H.
  rewrite exp_Ropp. set (X := exp (kappa gamma rho * ln n)).
  assert (0 < X) by apply exp_pos.
  assert (/ n < 1) by (apply inv_lt_1; lra).
  field. repeat split; nra.
Qed.

Lemma locally_gt1 : Rbar_locally' p_infty (fun n => 1 < n).
Proof. exists 1. intros. lra. Qed.

Lemma p_lim_sub rho gamma : kappa gamma rho < 0 ->
  is_lim (fun n => p n rho (gamma * ln n)) p_infty 0.
Proof.
  intros Hk.
  apply (is_lim_ext_loc (fun n => exp (- (- kappa gamma rho * ln n))
                          / (exp (- (- kappa gamma rho * ln n)) + 1 - / n))).
  - exists 1. intros n Hn. pose proof (p_kappa n rho gamma Hn) as H. cbv zeta in H.
    rewrite H. replace (- (- kappa gamma rho * ln n)) with (kappa gamma rho * ln n) by ring.
    reflexivity.
  - pose proof (lim_exp_neg_ln (- kappa gamma rho) ltac:(lra)) as HX.
    pose proof lim_inv_n as Hu.
    eapply lim_eq; [lim_auto|]; [lra|field].
Qed.

Lemma p_lim_crit rho gamma : kappa gamma rho = 0 ->
  is_lim (fun n => p n rho (gamma * ln n)) p_infty (1 / 2).
Proof.
  intros Hk.
  apply (is_lim_ext_loc (fun n => 1 / (1 + 1 - / n))).
  - exists 1. intros n Hn. pose proof (p_kappa n rho gamma Hn) as H. cbv zeta in H.
    rewrite H, Hk, Rmult_0_l, exp_0. reflexivity.
  - pose proof lim_inv_n as Hu. eapply lim_eq; [lim_auto|]; [lra|field].
Qed.

Lemma p_lim_super rho gamma : 0 < kappa gamma rho ->
  is_lim (fun n => p n rho (gamma * ln n)) p_infty 1.
Proof.
  intros Hk.
  apply (is_lim_ext_loc (fun n => 1 / (1 + (1 - / n) * exp (- (kappa gamma rho * ln n))))).
  - exists 1. intros n Hn. rewrite p_V by exact Hn. reflexivity.
  - pose proof (lim_exp_neg_ln (kappa gamma rho) Hk) as HV.
    pose proof lim_inv_n as Hu. eapply lim_eq; [lim_auto|]; [lra|field].
Qed.

Lemma E_lim rho gamma : 0 < gamma * (1 - rho) ->
  is_lim (fun n => E rho (gamma * ln n)) p_infty 0.
Proof.
  intros H. apply (is_lim_ext (fun n => exp (- ((gamma * (1 - rho)) * ln n)))).
  - intros n. unfold E. f_equal. ring.
  - apply lim_exp_neg_ln, H.
Qed.

(** ** T1: cos_out *)

(** cos_out → 1 − (1 − ρ)λ_∞ whenever p → p_∞ ∈ [0, 1], with
    λ_∞ = (p_∞ + a)²/((p_∞ + a)² + (1 − p_∞)ρ(2(p_∞ + a) + 1 − p_∞)). *)
Definition lam_inf (rho a pinf : R) : R :=
  (pinf + a) ^ 2 / ((pinf + a) ^ 2 + (1 - pinf) * rho * (2 * (pinf + a) + (1 - pinf))).

Lemma D_inf_pos rho a pinf : 0 < rho < 1 -> 0 <= a -> 0 <= pinf <= 1 ->
  0 < (pinf + a) ^ 2 + (1 - pinf) * rho * (2 * (pinf + a) + (1 - pinf)).
Proof.
  intros Hr Ha Hp.
  destruct (Rle_lt_or_eq_dec 0 (pinf + a) ltac:(lra)) as [H|H].
  - assert (0 <= (1 - pinf) * rho * (2 * (pinf + a) + (1 - pinf))).
    { apply Rmult_le_pos; [apply Rmult_le_pos|]; lra. }
    assert (0 < (pinf + a) ^ 2) by (apply pow_lt; exact H). lra.
  - assert (pinf = 0) by lra. assert (a = 0) by lra. subst. lra.
Qed.

Lemma cos_out_lim rho gamma a pinf :
  0 < rho < 1 -> 0 < gamma -> 0 <= a -> 0 <= pinf <= 1 ->
  is_lim (fun n => p n rho (gamma * ln n)) p_infty pinf ->
  is_lim (fun n => cos_out n rho (gamma * ln n) a) p_infty (1 - (1 - rho) * lam_inf rho a pinf).
Proof.
  intros Hr Hg Ha Hp Hlim.
  apply (is_lim_ext_loc (fun n => 1 - (1 - rho) *
           lam_u rho a (/ n) (p n rho (gamma * ln n)) (1 - p n rho (gamma * ln n))
                 (E rho (gamma * ln n)))).
  - exists 1. intros n Hn.
    assert (0 < ln n) by (rewrite <- ln_1; apply ln_increasing; lra).
    rewrite cos_out_lambda.
    2: { apply Rgt_not_eq, out_norm_sq_pos; try lra. apply Rmult_lt_0_compat; lra. }
    rewrite lambda_u by exact Hn. reflexivity.
  - pose proof lim_inv_n as Hu.
    pose proof (E_lim rho gamma ltac:(apply Rmult_lt_0_compat; lra)) as HE.
    pose proof (D_inf_pos rho a pinf Hr Ha Hp) as HD.
    unfold lam_u. eapply lim_eq; [lim_auto|]; try lra.
    + intro Hz.
      assert (Hz2 : (pinf + a) ^ 2 + (1 - pinf) * rho * (2 * (pinf + a) + (1 - pinf)) = 0)
        by (rewrite <- Hz; field).
      lra.
    + unfold lam_inf. field. lra.
Qed.

Definition gamma_c (rho : R) : R := / (1 - rho).

Lemma kappa_sign gamma rho : 0 < rho < 1 ->
  (gamma < gamma_c rho -> kappa gamma rho < 0) /\
  (gamma = gamma_c rho -> kappa gamma rho = 0) /\
  (gamma_c rho < gamma -> 0 < kappa gamma rho).
Proof.
  intros Hr. unfold kappa, gamma_c.
  assert (Hq : 0 < 1 - rho) by lra.
  split; [|split]; intros Hg.
  - apply Rmult_lt_compat_r with (r := 1 - rho) in Hg; [|lra].
    rewrite Rinv_l in Hg by lra. lra.
  - subst. field. lra.
  - apply Rmult_lt_compat_r with (r := 1 - rho) in Hg; [|lra].
    rewrite Rinv_l in Hg by lra. lra.
Qed.

(** Theorem 2.1, γ < γ_c: cos_out → ρ(a + 1)²/(a² + 2aρ + ρ) (= 1 without residual). *)
Theorem T1_limit_sub rho a gamma : 0 < rho < 1 -> 0 <= a -> 0 < gamma < gamma_c rho ->
  is_lim (fun n => cos_out n rho (gamma * ln n) a) p_infty (cos_lim_sub rho a).
Proof.
  intros Hr Ha Hg. destruct (kappa_sign gamma rho Hr) as [Hk _].
  eapply lim_eq.
  - apply (cos_out_lim rho gamma a 0); try lra. apply p_lim_sub, Hk; lra.
  - pose proof (D_inf_pos rho a 0 Hr Ha ltac:(lra)).
    unfold lam_inf, cos_lim_sub in *. field. repeat split; nra.
Qed.

(** Theorem 2.1, γ = γ_c: cos_out → ρ(a + 1)²/(a² + a(1 + ρ) + (1 + 3ρ)/4) (= 4ρ/(1 + 3ρ)). *)
Theorem T1_limit_crit rho a : 0 < rho < 1 -> 0 <= a ->
  is_lim (fun n => cos_out n rho (gamma_c rho * ln n) a) p_infty (cos_lim_crit rho a).
Proof.
  intros Hr Ha. destruct (kappa_sign (gamma_c rho) rho Hr) as [_ [Hk _]].
  assert (0 < gamma_c rho) by (unfold gamma_c; apply Rinv_0_lt_compat; lra).
  eapply lim_eq.
  - apply (cos_out_lim rho (gamma_c rho) a (1 / 2)); try lra. apply p_lim_crit, Hk; lra.
  - pose proof (D_inf_pos rho a (1 / 2) Hr Ha ltac:(lra)).
    unfold lam_inf, cos_lim_crit in *. field. repeat split; nra.
Qed.

(** Theorem 2.1, γ > γ_c: cos_out → ρ (the identity), with or without residual. *)
Theorem T1_limit_super rho a gamma : 0 < rho < 1 -> 0 <= a -> gamma_c rho < gamma ->
  is_lim (fun n => cos_out n rho (gamma * ln n) a) p_infty (cos_lim_super rho a).
Proof.
  intros Hr Ha Hg. destruct (kappa_sign gamma rho Hr) as [_ [_ Hk]].
  assert (0 < gamma_c rho) by (unfold gamma_c; apply Rinv_0_lt_compat; lra).
  eapply lim_eq.
  - apply (cos_out_lim rho gamma a 1); try lra. apply p_lim_super, Hk; lra.
  - unfold lam_inf, cos_lim_super. field. nra.
Qed.

(** ** T3: η (α = 0, d = μn with a fixed μ ≥ 1) *)

Lemma eta_lim_gen rho gamma q mu (pinf : R) :
  0 < q -> 1 <= mu ->
  is_lim (fun n => p n rho (gamma * ln n)) p_infty pinf ->
  is_lim (fun n => eta n rho (gamma * ln n) 0 q (mu * n)) p_infty (pinf ^ 2 / q).
Proof.
  intros Hq Hmu Hlim.
  apply (is_lim_ext_loc (fun n =>
           qeta_u rho gamma mu (/ n) (p n rho (gamma * ln n)) (1 - p n rho (gamma * ln n))
                  (/ n * ln n) (/ n * ln n ^ 2) / q)).
  - exists 1. intros n Hn. rewrite <- (qeta_u_eq n rho gamma q mu) by lra. field. lra.
  - pose proof lim_inv_n as Hu. pose proof lim_ln_over_n as Hl1.
    pose proof lim_ln2_over_n as Hl2.
    unfold qeta_u. eapply lim_eq; [lim_auto|]; try lra.
Qed.

(** Theorem 2.4, γ < γ_c: η → 0 (gradients vanish with the collapse). *)
Theorem T3_limit_sub rho gamma q mu : 0 < rho < 1 -> 0 < q -> 1 <= mu -> 0 < gamma < gamma_c rho ->
  is_lim (fun n => eta n rho (gamma * ln n) 0 q (mu * n)) p_infty 0.
Proof.
  intros Hr Hq Hmu Hg. destruct (kappa_sign gamma rho Hr) as [Hk _].
  eapply lim_eq; [apply (eta_lim_gen rho gamma q mu 0); try lra; apply p_lim_sub, Hk; lra|].
  field. lra.
Qed.

(** Theorem 2.4, γ = γ_c: η → 1/(4q) (the limit of (1 − 1/d)/(4q)). *)
Theorem T3_limit_crit rho q mu : 0 < rho < 1 -> 0 < q -> 1 <= mu ->
  is_lim (fun n => eta n rho (gamma_c rho * ln n) 0 q (mu * n)) p_infty (/ (4 * q)).
Proof.
  intros Hr Hq Hmu. destruct (kappa_sign (gamma_c rho) rho Hr) as [_ [Hk _]].
  eapply lim_eq;
    [apply (eta_lim_gen rho (gamma_c rho) q mu (1 / 2)); try lra; apply p_lim_crit, Hk; lra|].
  field. lra.
Qed.

(** Theorem 2.4, γ > γ_c: η → 1/q (the limit of (1 − 1/d)/q). *)
Theorem T3_limit_super rho gamma q mu : 0 < rho < 1 -> 0 < q -> 1 <= mu -> gamma_c rho < gamma ->
  is_lim (fun n => eta n rho (gamma * ln n) 0 q (mu * n)) p_infty (/ q).
Proof.
  intros Hr Hq Hmu Hg. destruct (kappa_sign gamma rho Hr) as [_ [_ Hk]].
  eapply lim_eq; [apply (eta_lim_gen rho gamma q mu 1); try lra; apply p_lim_super, Hk; lra|].
  field. lra.
Qed.
