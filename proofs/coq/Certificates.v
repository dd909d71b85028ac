(** * The default certificates of `critscale certify` (crates/certify/src/defaults.rs),
    re-proved for every real n ≥ N = 10⁶ with coq-interval with (i_prec 60).

    Every statement is at ρ = 3/10 and q = 1; "sub" is γ = 0.8 γ_c = 8/7 (κ = −1/5), "crit"
    γ = γ_c = 10/7 (κ = 0), "super" γ = 1.25 γ_c = 25/14 (κ = 1/4), residual statements use
    α = 1/2 (a = α√q), η statements d = n (and d = 10n once). Each is proved by writing the
    quantity as a rational function of t = n^{−1/k} (k = 5, 1, 4; then 1/n = t^k and n^κ is a
    power of t) and, for η, of ℓ₁ = ln n/n and ℓ₂ = (ln n)²/n, which are bounded by their values
    at N; the interval tactic then bounds the function over the whole box, t = 0 (n = ∞)
    included. *)

From Coq Require Import Reals Lra Lia.
From Interval Require Import Tactic.
From Critscale Require Import Simplex Bounds.
Open Scope R_scope.

Definition N : R := 1000000.

(** ** The substitution t = n^{−1/k} *)

Lemma t_bound n (k T : R) : N <= n -> 0 < k -> exp (- (ln N / k)) <= T ->
  0 <= exp (- (ln n / k)) <= T.
Proof.
  intros Hn Hk HT. unfold N in *. split; [left; apply exp_pos|].
  apply Rle_trans with (2 := HT). apply exp_le_mono, Ropp_le_contravar.
  unfold Rdiv. apply Rmult_le_compat_r; [left; apply Rinv_0_lt_compat; lra|].
  apply ln_le_mono; lra.
Qed.

Lemma t_pos n k : 0 < exp (- (ln n / k)).
Proof. apply exp_pos. Qed.

Lemma inv_n_t n (k : R) (kk : nat) : 0 < n -> INR kk = k -> (0 < kk)%nat ->
  / n = exp (- (ln n / k)) ^ kk.
Proof. intros Hn Hk Hkk. subst k. symmetry. apply root_pow; assumption. Qed.

(** n^κ = t^{−1} below γ_c (κ = −1/k) and n^κ = 1/t above (κ = 1/k). *)
Lemma X_sub n gamma rho k : kappa gamma rho = - / k -> k <> 0 ->
  exp (kappa gamma rho * ln n) = exp (- (ln n / k)).
Proof. intros H Hk. rewrite H. f_equal. field. exact Hk. Qed.

Lemma X_super n gamma rho k : kappa gamma rho = / k -> k <> 0 ->
  exp (kappa gamma rho * ln n) = / exp (- (ln n / k)).
Proof. intros H Hk. rewrite H, <- exp_Ropp. f_equal. field. exact Hk. Qed.

Lemma X_crit n gamma rho : kappa gamma rho = 0 -> exp (kappa gamma rho * ln n) = 1.
Proof. intros H. rewrite H, Rmult_0_l. apply exp_0. Qed.

(** The layer's forms with t substituted, for each side. *)
Lemma cos_sub n rho gamma a k (kk : nat) :
  N <= n -> 0 < rho < 1 -> 0 < gamma -> 0 <= a -> kappa gamma rho = - / k ->
  INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  cos_out n rho (gamma * ln n) a =
  1 - (1 - rho) * lam_u rho a (t ^ kk) (t / (t + 1 - t ^ kk)) ((1 - t ^ kk) / (t + 1 - t ^ kk))
                        (t ^ kk * / t).
Proof.
  intros Hn Hr Hg Ha Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (cos_out_X n rho gamma a ltac:(lra) Hr Hg Ha) as Hc. cbv zeta in Hc.
  rewrite Hc, (X_sub n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk). reflexivity.
Qed.

Lemma cos_super n rho gamma a k (kk : nat) :
  N <= n -> 0 < rho < 1 -> 0 < gamma -> 0 <= a -> kappa gamma rho = / k ->
  INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  cos_out n rho (gamma * ln n) a =
  1 - (1 - rho) * lam_u rho a (t ^ kk) (1 / (1 + (1 - t ^ kk) * t))
                        ((1 - t ^ kk) * t / (1 + (1 - t ^ kk) * t)) (t ^ kk * t).
Proof.
  intros Hn Hr Hg Ha Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (cos_out_X n rho gamma a ltac:(lra) Hr Hg Ha) as Hc. cbv zeta in Hc.
  rewrite Hc, (X_super n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk).
  fold t. assert (0 < t) by apply exp_pos.
  assert (t ^ kk < 1).
  { unfold t. rewrite <- (inv_n_t n k kk ltac:(lra) Hk Hkk). apply inv_lt_1. lra. }
  assert (0 < (1 - t ^ kk) * t) by (apply Rmult_lt_0_compat; lra).
  f_equal. f_equal. f_equal.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
  - rewrite Rinv_inv. reflexivity.
Qed.

Lemma cos_crit n rho gamma a :
  N <= n -> 0 < rho < 1 -> 0 < gamma -> 0 <= a -> kappa gamma rho = 0 ->
  let u := / n in
  cos_out n rho (gamma * ln n) a =
  1 - (1 - rho) * lam_u rho a u (1 / (2 - u)) ((1 - u) / (2 - u)) u.
Proof.
  intros Hn Hr Hg Ha Hkap u. unfold N in Hn.
  pose proof (cos_out_X n rho gamma a ltac:(lra) Hr Hg Ha) as Hc. cbv zeta in Hc.
  rewrite Hc, (X_crit n gamma rho Hkap). fold u.
  replace (1 + 1 - u) with (2 - u) by ring. rewrite Rinv_1, Rmult_1_r. reflexivity.
Qed.

Lemma u_bound n : N <= n -> 0 <= / n <= / N.
Proof.
  intros Hn. unfold N in *. split.
  - left. apply Rinv_0_lt_compat. lra.
  - apply Rinv_le_contravar; lra.
Qed.

(** ** T1: cos_out *)

Theorem cert_T1_limit_sub : forall n, N <= n ->
  Rabs (cos_out n (3/10) (8/7 * ln n) 0 - cos_lim_sub (3/10) 0) <= 1/100.
Proof.
  intros n Hn.
  rewrite (cos_sub n (3/10) (8/7) 0 5 5) by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 5 (631/10000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  pose proof (t_pos n 5) as Hp.
  set (t := exp (- (ln n / 5))) in *. clearbody t.
  replace (t ^ 5 * / t) with (t ^ 4) by (field; lra).
  unfold lam_u, cos_lim_sub. interval with (i_prec 60, i_bisect t).
Qed.

Theorem cert_T1_limit_crit : forall n, N <= n ->
  Rabs (cos_out n (3/10) (10/7 * ln n) 0 - cos_lim_crit (3/10) 0) <= 1/1000000.
Proof.
  intros n Hn.
  rewrite (cos_crit n (3/10) (10/7) 0) by (unfold kappa; lra).
  pose proof (u_bound n Hn) as Hu. unfold N in Hu.
  set (u := / n) in *. clearbody u.
  unfold lam_u, cos_lim_crit. interval with (i_prec 80, i_taylor u, i_degree 3).
Qed.

Theorem cert_T1_limit_super : forall n, N <= n ->
  Rabs (cos_out n (3/10) (25/14 * ln n) 0 - cos_lim_super (3/10) 0) <= 15/1000.
Proof.
  intros n Hn.
  rewrite (cos_super n (3/10) (25/14) 0 4 4) by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 4))) in *. clearbody t.
  unfold lam_u, cos_lim_super. interval with (i_prec 60, i_bisect t).
Qed.

Theorem cert_T1_limit_sub_residual : forall n, N <= n ->
  Rabs (cos_out n (3/10) (8/7 * ln n) (1/2 * sqrt 1) - cos_lim_sub (3/10) (1/2 * sqrt 1))
  <= 5/100.
Proof.
  intros n Hn. rewrite sqrt_1, Rmult_1_r.
  rewrite (cos_sub n (3/10) (8/7) (1/2) 5 5) by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 5 (631/10000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  pose proof (t_pos n 5) as Hp.
  set (t := exp (- (ln n / 5))) in *. clearbody t.
  replace (t ^ 5 * / t) with (t ^ 4) by (field; lra).
  unfold lam_u, cos_lim_sub. interval with (i_prec 60, i_bisect t).
Qed.

Theorem cert_T1_limit_crit_residual : forall n, N <= n ->
  Rabs (cos_out n (3/10) (10/7 * ln n) (1/2 * sqrt 1) - cos_lim_crit (3/10) (1/2 * sqrt 1))
  <= 1/1000000.
Proof.
  intros n Hn. rewrite sqrt_1, Rmult_1_r.
  rewrite (cos_crit n (3/10) (10/7) (1/2)) by (unfold kappa; lra).
  pose proof (u_bound n Hn) as Hu. unfold N in Hu.
  set (u := / n) in *. clearbody u.
  unfold lam_u, cos_lim_crit. interval with (i_prec 80, i_taylor u, i_degree 3).
Qed.

Theorem cert_T1_limit_super_residual : forall n, N <= n ->
  Rabs (cos_out n (3/10) (25/14 * ln n) (1/2 * sqrt 1) - cos_lim_super (3/10) (1/2 * sqrt 1))
  <= 1/100.
Proof.
  intros n Hn. rewrite sqrt_1, Rmult_1_r.
  rewrite (cos_super n (3/10) (25/14) (1/2) 4 4)
    by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 4))) in *. clearbody t.
  unfold lam_u, cos_lim_super. interval with (i_prec 60, i_bisect t).
Qed.

(** Above γ_c for a range of γ: v = n^{−κ} is a second variable, bounded by n^{−1/4}. *)
Lemma cos_super_v n rho gamma a :
  1 < n -> 0 < rho < 1 -> 0 < gamma -> 0 <= a ->
  let u := / n in let v := exp (- (kappa gamma rho * ln n)) in
  cos_out n rho (gamma * ln n) a =
  1 - (1 - rho) * lam_u rho a u (1 / (1 + (1 - u) * v)) ((1 - u) * v / (1 + (1 - u) * v))
                        (u * v).
Proof.
  intros Hn Hr Hg Ha u v.
  pose proof (cos_out_X n rho gamma a Hn Hr Hg Ha) as Hc. cbv zeta in Hc.
  rewrite Hc. fold u. assert (Hv : exp (kappa gamma rho * ln n) = / v)
    by (unfold v; rewrite exp_Ropp, Rinv_inv; reflexivity).
  rewrite Hv. assert (0 < v) by apply exp_pos. assert (u < 1) by (apply inv_lt_1; lra).
  assert (0 < (1 - u) * v) by (apply Rmult_lt_0_compat; lra).
  rewrite Rinv_inv. f_equal. f_equal. f_equal.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - u) * v = v * (/ v + 1 - u))
      by (field; lra). nra.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - u) * v = v * (/ v + 1 - u))
      by (field; lra). nra.
Qed.

Theorem cert_T1_limit_super_range : forall gamma n, 25/14 <= gamma <= 40/7 -> N <= n ->
  Rabs (cos_out n (3/10) (gamma * ln n) 0 - cos_lim_super (3/10) 0) <= 15/1000.
Proof.
  intros gamma n Hg Hn.
  rewrite (cos_super_v n (3/10) gamma 0) by (unfold N in Hn; lra).
  pose proof (u_bound n Hn) as Hu. unfold N in Hu.
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  assert (Hv : 0 <= exp (- (kappa gamma (3/10) * ln n)) <= 316228/10000000).
  { split; [left; apply exp_pos|]. apply Rle_trans with (2 := proj2 Ht).
    apply exp_le_mono. apply Ropp_le_contravar.
    assert (0 <= ln n) by (rewrite <- ln_1; apply ln_le_mono; unfold N in Hn; lra).
    unfold kappa. nra. }
  set (u := / n) in *. set (v := exp (- (kappa gamma (3/10) * ln n))) in *.
  clearbody u v.
  unfold lam_u, cos_lim_super. interval with (i_prec 60, i_bisect v).
Qed.

(** ** T1: rates *)

Definition c_u a P e := P * (1 - e) + a.
Definition rn_u u OMP := OMP / (1 - u).
Definition w_u rho u OMP := u * rn_u u OMP + OMP * rho.
Definition D_u rho a u P OMP e :=
  c_u a P e ^ 2 + w_u rho u OMP * (2 * c_u a P e + rn_u u OMP).

Lemma lam_u_D rho a u P OMP e : lam_u rho a u P OMP e = c_u a P e ^ 2 / D_u rho a u P OMP e.
Proof. reflexivity. Qed.

(** n^{−2κ} λ = (c/v)²/|x'|² with v = n^κ. *)
Lemma rate_sub_alg rho a u P OMP e s : s <> 0 -> D_u rho a u P OMP e <> 0 ->
  / s ^ 2 * lam_u rho a u P OMP e = (c_u a P e / s) ^ 2 / D_u rho a u P OMP e.
Proof. intros Hs HD. rewrite lam_u_D. field. split; assumption. Qed.

(** n^κ (1 − λ) = (u/(1 − u) + ρ)((1 − p)/v)(2c + rn)/|x'|² with v = n^{−κ}. *)
Lemma rate_super_alg rho a u P OMP e s : s <> 0 -> D_u rho a u P OMP e <> 0 -> 1 - u <> 0 ->
  / s * (1 - lam_u rho a u P OMP e) =
  (u / (1 - u) + rho) * (OMP / s) * (2 * c_u a P e + rn_u u OMP) / D_u rho a u P OMP e.
Proof.
  intros Hs HD Hu. rewrite lam_u_D. unfold D_u, w_u, rn_u in *. field.
  split; [exact Hu|split; [exact Hs|]]. intro Hz. apply HD.
  apply Rmult_eq_reg_r with ((1 - u) * (1 - u)).
  - rewrite Rmult_0_l, <- Hz. field. exact Hu.
  - intro H0. apply Hu. nra.
Qed.

Lemma Rpower_t n (j : nat) k : k <> 0 ->
  Rpower n (INR j / k) = / exp (- (ln n / k)) ^ j.
Proof.
  intros Hk. unfold Rpower. rewrite exp_pow, <- exp_Ropp. f_equal. field. exact Hk.
Qed.

Lemma lambda_sub n rho gamma a k (kk : nat) :
  N <= n -> kappa gamma rho = - / k -> INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  lambda n rho (gamma * ln n) a =
  lam_u rho a (t ^ kk) (t / (t + 1 - t ^ kk)) ((1 - t ^ kk) / (t + 1 - t ^ kk)) (t ^ kk * / t).
Proof.
  intros Hn Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (lambda_X n rho gamma a ltac:(lra)) as Hc. cbv zeta in Hc.
  rewrite Hc, (X_sub n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk). reflexivity.
Qed.

Lemma lambda_super n rho gamma a k (kk : nat) :
  N <= n -> kappa gamma rho = / k -> INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  lambda n rho (gamma * ln n) a =
  lam_u rho a (t ^ kk) (1 / (1 + (1 - t ^ kk) * t))
        ((1 - t ^ kk) * t / (1 + (1 - t ^ kk) * t)) (t ^ kk * t).
Proof.
  intros Hn Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (lambda_X n rho gamma a ltac:(lra)) as Hc. cbv zeta in Hc.
  rewrite Hc, (X_super n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk).
  fold t. assert (0 < t) by apply exp_pos.
  assert (t ^ kk < 1).
  { unfold t. rewrite <- (inv_n_t n k kk ltac:(lra) Hk Hkk). apply inv_lt_1. lra. }
  assert (0 < (1 - t ^ kk) * t) by (apply Rmult_lt_0_compat; lra).
  f_equal.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
  - rewrite Rinv_inv. reflexivity.
Qed.

Theorem cert_T1_rate_sub : forall n, N <= n ->
  Rabs (Rpower n (2/5) * lambda n (3/10) (8/7 * ln n) 0 - / (3/10)) <= 1/2.
Proof.
  intros n Hn.
  replace (2/5) with (INR 2 / 5) by (simpl; lra). rewrite (Rpower_t n 2 5) by lra.
  rewrite (lambda_sub n (3/10) (8/7) 0 5 5) by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 5 (631/10000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  pose proof (t_pos n 5) as Hp.
  set (t := exp (- (ln n / 5))) in *. clearbody t.
  replace (t ^ 5 * / t) with (t ^ 4) by (field; lra).
  rewrite rate_sub_alg.
  2: lra.
  2: { apply Rgt_not_eq. unfold D_u, c_u, w_u, rn_u. interval with (i_prec 60). }
  replace (c_u 0 (t / (t + 1 - t ^ 5)) (t ^ 4) / t) with ((1 - t ^ 4) / (t + 1 - t ^ 5)).
  2: { unfold c_u. field. split; [|lra]. interval with (i_prec 60). }
  unfold D_u, c_u, w_u, rn_u. interval with (i_prec 60, i_bisect t).
Qed.

Theorem cert_T1_rate_super : forall n, N <= n ->
  Rabs (Rpower n (1/4) * (1 - lambda n (3/10) (25/14 * ln n) 0) - 2 * (3/10) / (1 + 0))
  <= 5/100.
Proof.
  intros n Hn.
  replace (1/4) with (INR 1 / 4) by (simpl; lra). rewrite (Rpower_t n 1 4) by lra.
  rewrite (lambda_super n (3/10) (25/14) 0 4 4)
    by (unfold kappa; simpl; lra || (simpl; lra) || lia).
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  pose proof (t_pos n 4) as Hp.
  set (t := exp (- (ln n / 4))) in *. clearbody t.
  rewrite pow_1.
  rewrite rate_super_alg.
  2: lra.
  2: { apply Rgt_not_eq. unfold D_u, c_u, w_u, rn_u. interval with (i_prec 60). }
  2: { interval with (i_prec 60). }
  replace ((1 - t ^ 4) * t / (1 + (1 - t ^ 4) * t) / t)
    with ((1 - t ^ 4) / (1 + (1 - t ^ 4) * t)).
  2: { field. split; [|lra]. interval with (i_prec 60). }
  unfold D_u, c_u, w_u, rn_u. interval with (i_prec 60, i_bisect t).
Qed.

(** ** T3: η *)

Lemma p_sub n rho gamma k (kk : nat) :
  N <= n -> kappa gamma rho = - / k -> INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  p n rho (gamma * ln n) = t / (t + 1 - t ^ kk) /\
  1 - p n rho (gamma * ln n) = (1 - t ^ kk) / (t + 1 - t ^ kk).
Proof.
  intros Hn Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (p_kappa n rho gamma ltac:(lra)) as H1. pose proof (one_minus_p_kappa n rho gamma ltac:(lra)) as H2.
  cbv zeta in H1, H2.
  rewrite H2, H1, (X_sub n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk). split; reflexivity.
Qed.

Lemma p_super n rho gamma k (kk : nat) :
  N <= n -> kappa gamma rho = / k -> INR kk = k -> (0 < kk)%nat ->
  let t := exp (- (ln n / k)) in
  p n rho (gamma * ln n) = 1 / (1 + (1 - t ^ kk) * t) /\
  1 - p n rho (gamma * ln n) = (1 - t ^ kk) * t / (1 + (1 - t ^ kk) * t).
Proof.
  intros Hn Hkap Hk Hkk t. unfold N in Hn.
  assert (k <> 0) by (subst k; apply not_0_INR; lia).
  pose proof (p_kappa n rho gamma ltac:(lra)) as H1. pose proof (one_minus_p_kappa n rho gamma ltac:(lra)) as H2.
  cbv zeta in H1, H2.
  rewrite H2, H1, (X_super n gamma rho k Hkap H), (inv_n_t n k kk ltac:(lra) Hk Hkk).
  fold t. assert (0 < t) by apply exp_pos.
  assert (t ^ kk < 1).
  { unfold t. rewrite <- (inv_n_t n k kk ltac:(lra) Hk Hkk). apply inv_lt_1. lra. }
  assert (0 < (1 - t ^ kk) * t) by (apply Rmult_lt_0_compat; lra).
  split.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
  - field. split; [lra|]. intro Hz. assert (1 + (1 - t ^ kk) * t = t * (/ t + 1 - t ^ kk))
      by (field; lra). nra.
Qed.

Lemma p_crit n rho gamma : N <= n -> kappa gamma rho = 0 ->
  p n rho (gamma * ln n) = 1 / (2 - / n) /\
  1 - p n rho (gamma * ln n) = (1 - / n) / (2 - / n).
Proof.
  intros Hn Hkap. unfold N in Hn.
  pose proof (p_kappa n rho gamma ltac:(lra)) as H1. pose proof (one_minus_p_kappa n rho gamma ltac:(lra)) as H2.
  cbv zeta in H1, H2. rewrite H2, H1, (X_crit n gamma rho Hkap).
  replace (1 + 1 - / n) with (2 - / n) by ring. split; reflexivity.
Qed.

Lemma eta_q1 n rho gamma mu d : 1 < n -> 0 < mu -> d = mu * n ->
  eta n rho (gamma * ln n) 0 1 d =
  qeta_u rho gamma mu (/ n) (p n rho (gamma * ln n)) (1 - p n rho (gamma * ln n))
         (/ n * ln n) (/ n * ln n ^ 2).
Proof.
  intros Hn Hmu Hd. subst d. rewrite <- (Rmult_1_l (eta _ _ _ _ _ _)).
  apply qeta_u_eq; lra.
Qed.

Lemma eta_lim_u level mu d n : 0 < n -> 0 < mu -> d = mu * n ->
  eta_lim level 1 d = (1 - / n / mu) * level.
Proof. intros Hn Hmu Hd. subst d. unfold eta_lim. field. lra. Qed.

(** ℓ₁ = ln n/n and ℓ₂ = (ln n)²/n (and L/n^a) decrease from N on. *)
Lemma l_bound n (k : nat) a B : N <= n -> (0 < k)%nat -> 0 < a -> INR k / a <= ln N ->
  ln N ^ k * exp (- (a * ln N)) <= B -> 0 <= ln n ^ k * exp (- (a * ln n)) <= B.
Proof.
  intros Hn Hk Ha HN HB. unfold N in *.
  assert (0 <= ln n) by (rewrite <- ln_1; apply ln_le_mono; lra).
  split.
  - apply Rmult_le_pos; [apply pow_le; lra|left; apply exp_pos].
  - apply Rle_trans with (2 := HB). apply log_decay; try assumption.
    apply ln_le_mono; lra.
Qed.

Lemma l1_eq n : 0 < n -> / n * ln n = ln n ^ 1 * exp (- (1 * ln n)).
Proof. intros Hn. rewrite Rmult_1_l, exp_Ropp, exp_ln by exact Hn. ring. Qed.

Lemma l2_eq n : 0 < n -> / n * ln n ^ 2 = ln n ^ 2 * exp (- (1 * ln n)).
Proof. intros Hn. rewrite Rmult_1_l, exp_Ropp, exp_ln by exact Hn. ring. Qed.

Ltac log_bounds n Hn :=
  let H1 := fresh "Hl1" in let H2 := fresh "Hl2" in
  pose proof (l_bound n 1 1 (13816/1000000000) Hn ltac:(lia) ltac:(lra)
                ltac:(unfold N; simpl; interval with (i_prec 60)) ltac:(unfold N; interval with (i_prec 60))) as H1;
  pose proof (l_bound n 2 1 (19088/100000000) Hn ltac:(lia) ltac:(lra)
                ltac:(unfold N; simpl; interval with (i_prec 60)) ltac:(unfold N; interval with (i_prec 60))) as H2;
  rewrite <- l1_eq in H1 by (unfold N in Hn; lra);
  rewrite <- l2_eq in H2 by (unfold N in Hn; lra).

Theorem cert_T3_limit_sub : forall n, N <= n ->
  Rabs (eta n (3/10) (8/7 * ln n) 0 1 n - eta_lim 0 1 n) <= 4/1000.
Proof.
  intros n Hn. assert (Hn1 : 1 < n) by (unfold N in Hn; lra).
  rewrite (eta_q1 n (3/10) (8/7) 1 n Hn1 ltac:(lra) ltac:(ring)).
  rewrite (eta_lim_u 0 1 n n ltac:(lra) ltac:(lra) ltac:(ring)).
  destruct (p_sub n (3/10) (8/7) 5 5) as [HP HO];
    try (unfold kappa; simpl; lra || (simpl; lra) || lia).
  rewrite HO, HP. log_bounds n Hn.
  set (l1 := / n * ln n) in *. set (l2 := / n * ln n ^ 2) in *. clearbody l1 l2.
  rewrite (inv_n_t n 5 5) by (unfold N in Hn; simpl; lra || lia).
  pose proof (t_bound n 5 (631/10000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 5))) in *. clearbody t.
  unfold qeta_u. interval with (i_prec 60, i_bisect t).
Qed.

Ltac eta_crit n Hn mu d :=
  assert (Hn1 : 1 < n) by (unfold N in Hn; lra);
  rewrite (eta_q1 n (3/10) (10/7) mu d Hn1 ltac:(lra) ltac:(ring));
  rewrite (eta_lim_u (1/4) mu d n ltac:(lra) ltac:(lra) ltac:(ring));
  destruct (p_crit n (3/10) (10/7)) as [HP HO]; [exact Hn|unfold kappa; lra|];
  rewrite HO, HP; log_bounds n Hn;
  set (l1 := / n * ln n) in *; set (l2 := / n * ln n ^ 2) in *; clearbody l1 l2;
  pose proof (u_bound n Hn) as Hu; unfold N in Hu;
  set (u := / n) in *; clearbody u;
  unfold qeta_u.

Theorem cert_T3_limit_crit : forall n, N <= n ->
  Rabs (eta n (3/10) (10/7 * ln n) 0 1 n - eta_lim (1/4) 1 n) <= 2/100000.
Proof. intros n Hn. eta_crit n Hn 1 n. interval with (i_prec 60, i_bisect u, i_depth 20). Qed.

Theorem cert_T3_limit_crit_d10n : forall n, N <= n ->
  Rabs (eta n (3/10) (10/7 * ln n) 0 1 (10 * n) - eta_lim (1/4) 1 (10 * n)) <= 2/1000000.
Proof. intros n Hn. eta_crit n Hn 10 (10 * n). interval with (i_prec 60, i_bisect u, i_depth 20). Qed.

Theorem cert_T3_limit_super : forall n, N <= n ->
  Rabs (eta n (3/10) (25/14 * ln n) 0 1 n - eta_lim 1 1 n) <= 7/100.
Proof.
  intros n Hn. assert (Hn1 : 1 < n) by (unfold N in Hn; lra).
  rewrite (eta_q1 n (3/10) (25/14) 1 n Hn1 ltac:(lra) ltac:(ring)).
  rewrite (eta_lim_u 1 1 n n ltac:(lra) ltac:(lra) ltac:(ring)).
  destruct (p_super n (3/10) (25/14) 4 4) as [HP HO];
    try (unfold kappa; simpl; lra || (simpl; lra) || lia).
  rewrite HO, HP. log_bounds n Hn.
  set (l1 := / n * ln n) in *. set (l2 := / n * ln n ^ 2) in *. clearbody l1 l2.
  rewrite (inv_n_t n 4 4) by (unfold N in Hn; simpl; lra || lia).
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 4))) in *. clearbody t.
  unfold qeta_u. interval with (i_prec 60, i_bisect t).
Qed.

(** ** T3: rates *)

(** n^{−2κ} q η below γ_c, with Ps = p/v, us2 = u/v², l1s = ℓ₁/v (v = n^κ). *)
Definition qeta_rs (rho gamma mu u P OMP l1 l2 Ps us2 l1s : R) : R :=
  let r := u * OMP / (1 - u) in
  let rs2 := us2 * OMP / (1 - u) in
  let h := (1 - r) ^ 2 + P ^ 2 + r * (OMP - r) in
  let trCP := (1 - rho) * (rho * P * OMP + OMP * (1 - r)) in
  let CPsq_s2 := (1 - rho) ^ 2 * (OMP * rs2 * h + rho * Ps ^ 2 * (OMP ^ 2 + OMP * r)) in
  (Ps ^ 2 + OMP * rs2) * (1 - u / mu)
  + OMP * rs2 * (- (2 * gamma * (1 - rho) * (rho * (1 - r) + P)) * l1
                 + gamma ^ 2 * (1 - rho) * (1 - rho ^ 2) * h * l2) / mu
  + (2 * Ps * gamma * trCP * l1s + gamma ^ 2 * CPsq_s2 * l2) / mu.

Lemma rate_sub_eta_alg rho gamma mu u P OMP l1 l2 s :
  s <> 0 -> 1 - u <> 0 -> mu <> 0 ->
  / s ^ 2 * qeta_u rho gamma mu u P OMP l1 l2 =
  qeta_rs rho gamma mu u P OMP l1 l2 (P / s) (u / s ^ 2) (l1 / s).
Proof. intros Hs Hu Hm. unfold qeta_u, qeta_rs. field. repeat split; assumption. Qed.

(** n^{κ}(1 − qη/(1 − 1/d)) above γ_c, with Os = (1 − p)/v (v = n^{−κ}). *)
Definition qeta_ds (rho gamma mu u P OMP l1 l2 Os : R) : R :=
  let r := u * OMP / (1 - u) in
  let h := (1 - r) ^ 2 + P ^ 2 + r * (OMP - r) in
  let trCPs := (1 - rho) * Os * (rho * P + 1 - r) in
  let CPsqs := (1 - rho) ^ 2 * Os * (r * h + rho * P ^ 2 * (OMP + r)) in
  Os * (1 + P - r)
  - (Os * r * (- (2 * gamma * (1 - rho) * (rho * (1 - r) + P)) * l1
               + gamma ^ 2 * (1 - rho) * (1 - rho ^ 2) * h * l2) / mu
     + (2 * P * gamma * trCPs * l1 + gamma ^ 2 * CPsqs * l2) / mu) / (1 - u / mu).

Lemma rate_super_eta_alg rho gamma mu u P OMP l1 l2 s :
  P + OMP = 1 -> s <> 0 -> 1 - u <> 0 -> mu <> 0 -> 1 - u / mu <> 0 ->
  / s * (1 - qeta_u rho gamma mu u P OMP l1 l2 / (1 - u / mu)) =
  qeta_ds rho gamma mu u P OMP l1 l2 (OMP / s).
Proof.
  intros HP Hs Hu Hm Hum. replace P with (1 - OMP) by lra.
  unfold qeta_u, qeta_ds. field. repeat split; try assumption. intro Hz. apply Hum. replace u with mu by lra. field. exact Hm.
Qed.

Theorem cert_T3_rate_sub : forall n, N <= n ->
  Rabs (Rpower n (2/5) * eta n (3/10) (8/7 * ln n) 0 1 n - / 1) <= 15/100.
Proof.
  intros n Hn. assert (Hn1 : 1 < n) by (unfold N in Hn; lra).
  rewrite (eta_q1 n (3/10) (8/7) 1 n Hn1 ltac:(lra) ltac:(ring)).
  replace (2/5) with (INR 2 / 5) by (simpl; lra). rewrite (Rpower_t n 2 5) by lra.
  pose proof (t_pos n 5) as Htp.
  assert (Hun : / n < 1) by (apply inv_lt_1; lra).
  rewrite rate_sub_eta_alg by lra.
  destruct (p_sub n (3/10) (8/7) 5 5) as [HP HO];
    try (unfold kappa; simpl; lra || (simpl; lra) || lia).
  rewrite HO, HP.
  (* ℓ₁/v = ln n · n^{−4/5} *)
  assert (Hl1s : 0 <= / n * ln n / exp (- (ln n / 5)) <= 21897/100000000).
  { replace (/ n * ln n / exp (- (ln n / 5))) with (ln n ^ 1 * exp (- (4/5 * ln n))).
    - apply (l_bound n 1 (4/5)); [exact Hn|lia|lra|unfold N; simpl; interval with (i_prec 60)|unfold N; interval with (i_prec 60)].
    - replace (- (4/5 * ln n)) with (- ln n + - - (ln n / 5)) by field.
      rewrite exp_plus, (exp_Ropp (ln n)), exp_ln, (exp_Ropp (- (ln n / 5))) by lra.
      unfold Rdiv. ring. }
  log_bounds n Hn.
  set (l1s := / n * ln n / exp (- (ln n / 5))) in *. clearbody l1s.
  set (l1 := / n * ln n) in *. set (l2 := / n * ln n ^ 2) in *. clearbody l1 l2.
  rewrite (inv_n_t n 5 5) by (simpl; lra || lia).
  pose proof (t_bound n 5 (631/10000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 5))) in *. clearbody t.
  replace (t / (t + 1 - t ^ 5) / t) with (1 / (t + 1 - t ^ 5))
    by (field; split; [interval with (i_prec 60)|lra]).
  replace (t ^ 5 / t ^ 2) with (t ^ 3) by (field; lra).
  unfold qeta_rs. interval with (i_prec 60, i_bisect t).
Qed.

Theorem cert_T3_rate_super : forall n, N <= n ->
  Rabs (Rpower n (1/4) * (1 - eta n (3/10) (25/14 * ln n) 0 1 n / (1 - / n)) - 2) <= 1/10.
Proof.
  intros n Hn. assert (Hn1 : 1 < n) by (unfold N in Hn; lra).
  rewrite (eta_q1 n (3/10) (25/14) 1 n Hn1 ltac:(lra) ltac:(ring)).
  replace (1/4) with (INR 1 / 4) by (simpl; lra). rewrite (Rpower_t n 1 4) by lra.
  rewrite pow_1.
  pose proof (t_pos n 4) as Htp.
  assert (Hun : / n < 1) by (apply inv_lt_1; lra).
  replace (1 - / n) with (1 - / n / 1) by (field; lra).
  rewrite rate_super_eta_alg by (try lra; ring).
  destruct (p_super n (3/10) (25/14) 4 4) as [HP HO];
    try (unfold kappa; simpl; lra || (simpl; lra) || lia).
  rewrite HO, HP. log_bounds n Hn.
  set (l1 := / n * ln n) in *. set (l2 := / n * ln n ^ 2) in *. clearbody l1 l2.
  rewrite (inv_n_t n 4 4) by (simpl; lra || lia).
  pose proof (t_bound n 4 (316228/10000000) Hn ltac:(lra) ltac:(unfold N; interval with (i_prec 60))) as Ht.
  set (t := exp (- (ln n / 4))) in *. clearbody t.
  replace ((1 - t ^ 4) * t / (1 + (1 - t ^ 4) * t) / t) with ((1 - t ^ 4) / (1 + (1 - t ^ 4) * t))
    by (field; split; [interval with (i_prec 60)|lra]).
  unfold qeta_ds. interval with (i_prec 60, i_bisect t).
Qed.
