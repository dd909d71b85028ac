(** * Elementary bounds used by the certificates: monotonicity of exp and ln, powers of exp,
    and the decay of (ln n)^k / n^a. *)

From Coq Require Import Reals Lra Lia.
Open Scope R_scope.

Lemma exp_le_mono x y : x <= y -> exp x <= exp y.
Proof.
  intros H. destruct (Rle_lt_or_eq_dec _ _ H) as [H'|H'].
  - left. apply exp_increasing, H'.
  - subst. lra.
Qed.

Lemma ln_le_mono x y : 0 < x -> x <= y -> ln x <= ln y.
Proof.
  intros Hx H. destruct (Rle_lt_or_eq_dec _ _ H) as [H'|H'].
  - left. apply ln_increasing; lra.
  - subst. lra.
Qed.

Lemma exp_pow x k : exp x ^ k = exp (INR k * x).
Proof.
  induction k as [|k IH].
  - simpl. rewrite Rmult_0_l, exp_0. reflexivity.
  - simpl pow. rewrite IH, <- exp_plus, S_INR.
    f_equal. ring.
Qed.

(** L^k e^{−aL} decreases in L once L ≥ k/a. *)
Lemma log_decay (k : nat) a L0 L :
  (0 < k)%nat -> 0 < a -> INR k / a <= L0 -> L0 <= L ->
  L ^ k * exp (- (a * L)) <= L0 ^ k * exp (- (a * L0)).
Proof.
  intros Hk Ha HL0 HL.
  assert (HkR : 0 < INR k) by (apply lt_0_INR; exact Hk).
  assert (HL0p : 0 < L0).
  { apply Rlt_le_trans with (2 := HL0). apply Rdiv_lt_0_compat; assumption. }
  set (B := L - L0).
  assert (HB : 0 <= B) by (unfold B; lra).
  (* 1 + B/L0 ≤ e^{B/L0} ≤ e^{aB/k} *)
  assert (H1 : 1 + B / L0 <= exp (a * B / INR k)).
  { apply Rle_trans with (exp (B / L0)); [apply exp_ineq1_le|].
    apply exp_le_mono.
    assert (Hq : / L0 <= a / INR k).
    { apply Rmult_le_reg_r with L0; [lra|]. rewrite Rinv_l by lra.
      apply Rmult_le_reg_l with (INR k); [lra|].
      replace (INR k * (a / INR k * L0)) with (a * L0) by (field; lra).
      rewrite Rmult_1_r.
      apply Rmult_le_reg_l with (/ a); [apply Rinv_0_lt_compat; lra|].
      replace (/ a * (a * L0)) with L0 by (field; lra).
      replace (/ a * INR k) with (INR k / a) by (unfold Rdiv; ring). lra. }
    unfold Rdiv. replace (a * B * / INR k) with (B * (a / INR k)) by (unfold Rdiv; ring).
    apply Rmult_le_compat_l; assumption. }
  assert (HL' : L = L0 * (1 + B / L0)) by (unfold B; field; lra).
  rewrite HL', Rpow_mult_distr.
  replace (- (a * (L0 * (1 + B / L0)))) with (- (a * L0) + - (a * B)) by (field; lra).
  rewrite exp_plus.
  assert (Hp : (1 + B / L0) ^ k <= exp (a * B)).
  { apply Rle_trans with (exp (a * B / INR k) ^ k).
    - apply pow_incr. split; [|exact H1].
      assert (0 <= B / L0) by (unfold Rdiv; apply Rmult_le_pos; [lra|left; apply Rinv_0_lt_compat; lra]). lra.
    - rewrite exp_pow. right. f_equal. field. lra. }
  assert (0 < L0 ^ k) by (apply pow_lt; lra).
  pose proof (exp_pos (- (a * L0))).
  replace (L0 ^ k * (1 + B / L0) ^ k * (exp (- (a * L0)) * exp (- (a * B))))
    with ((L0 ^ k * exp (- (a * L0))) * ((1 + B / L0) ^ k * exp (- (a * B)))) by ring.
  rewrite <- (Rmult_1_r (L0 ^ k * exp (- (a * L0)))) at 2.
  apply Rmult_le_compat_l; [apply Rmult_le_pos; lra|].
  rewrite exp_Ropp. apply Rmult_le_reg_r with (exp (a * B)); [apply exp_pos|].
  rewrite Rmult_assoc, Rinv_l by (apply Rgt_not_eq, exp_pos). lra.
Qed.

(** For n ≥ N > 0 and k ≥ 1: n^{−1/k} = e^{−ln n/k} ≤ e^{−ln N/k}, and (n^{−1/k})^k = 1/n. *)
Lemma root_le n N k : 0 < N -> N <= n ->
  exp (- (ln n / INR k)) <= exp (- (ln N / INR k)).
Proof.
  intros HN Hn. destruct k as [|k].
  - simpl. unfold Rdiv. rewrite Rinv_0, !Rmult_0_r. lra.
  - apply exp_le_mono. apply Ropp_le_contravar. unfold Rdiv.
    apply Rmult_le_compat_r.
    + left. apply Rinv_0_lt_compat, lt_0_INR. lia.
    + apply ln_le_mono; assumption.
Qed.

Lemma root_pow n k : 0 < n -> (0 < k)%nat -> exp (- (ln n / INR k)) ^ k = / n.
Proof.
  intros Hn Hk. rewrite exp_pow.
  replace (INR k * - (ln n / INR k)) with (- ln n)
    by (field; apply not_0_INR; lia).
  rewrite exp_Ropp, exp_ln by exact Hn. reflexivity.
Qed.
