(** * The output norm and inner product from the Gram matrix (THEORY §2, §5).

    For natural n, tokens y_0, …, y_{n−1} with Gram matrix G = (1 − ρ)I + ρ11ᵀ (unit norms,
    pairwise cosine ρ), a vector Σ_j v_j y_j is represented by its coefficients v, and the inner
    product is the bilinear form ⟨Σ v_j y_j, Σ w_k y_k⟩ = Σ_j Σ_k v_j w_k G_jk (the definition of
    the Gram matrix). The layer's output is x'_i = Σ_j A_ij y_j + α x_i with A_ii = p,
    A_ij = r and x_i = √q y_i. We prove that |x'_i|² and ⟨x'_i, x'_l⟩ (i ≠ l) are the
    [out_norm_sq] and [out_inner] of Simplex.v, and that the attention row is the softmax of the
    scores β⟨y_i, y_j⟩. *)

From Coq Require Import Reals Lra Lia.
From Critscale Require Import Simplex.
Open Scope R_scope.

Fixpoint sumn (n : nat) (f : nat -> R) : R :=
  match n with O => 0 | S m => sumn m f + f m end.

Lemma sumn_ext n f g : (forall j, (j < n)%nat -> f j = g j) -> sumn n f = sumn n g.
Proof.
  induction n as [|n IH]; intros H; simpl; [reflexivity|].
  rewrite (H n) by lia. rewrite IH; [reflexivity|]. intros j Hj. apply H. lia.
Qed.

Lemma sumn_plus n f g : sumn n (fun j => f j + g j) = sumn n f + sumn n g.
Proof. induction n as [|n IH]; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sumn_scal n c f : sumn n (fun j => c * f j) = c * sumn n f.
Proof. induction n as [|n IH]; simpl; [ring|rewrite IH; ring]. Qed.

Lemma sumn_const n c : sumn n (fun _ => c) = INR n * c.
Proof. induction n as [|n IH]; simpl sumn; [simpl; ring|rewrite IH, S_INR; ring]. Qed.

Definition delta (i j : nat) : R := if Nat.eqb i j then 1 else 0.

Lemma delta_sym i j : delta i j = delta j i.
Proof. unfold delta. rewrite Nat.eqb_sym. reflexivity. Qed.

Lemma sumn_zero n f : (forall j, (j < n)%nat -> f j = 0) -> sumn n f = 0.
Proof. intros H. rewrite (sumn_ext n f (fun _ => 0) H), sumn_const. ring. Qed.

(** Σ_j δ_ij f(j) = f(i) for i < n. *)
Lemma sumn_delta n i f : (i < n)%nat -> sumn n (fun j => delta i j * f j) = f i.
Proof.
  induction n as [|n IH]; intros Hi; [lia|]. simpl.
  destruct (Nat.eq_dec i n) as [->|Hne].
  - rewrite sumn_zero.
    + unfold delta. rewrite Nat.eqb_refl. ring.
    + intros j Hj. unfold delta. destruct (Nat.eqb_spec n j); [lia|ring].
  - rewrite IH by lia. unfold delta. destruct (Nat.eqb_spec i n); [lia|ring].
Qed.

(** The Gram matrix of the simplex: G_jk = ρ + (1 − ρ)δ_jk. *)
Definition G (rho : R) (j k : nat) : R := rho + (1 - rho) * delta j k.

Lemma G_row rho n j : (j < n)%nat -> sumn n (fun k => G rho j k) = s1 (INR n) rho.
Proof.
  intros Hj. unfold G, s1. rewrite sumn_plus, sumn_const.
  rewrite (sumn_ext n (fun k => (1 - rho) * delta j k) (fun k => delta j k * (1 - rho)))
    by (intros; ring).
  rewrite sumn_delta by exact Hj. ring.
Qed.

(** ⟨Σ_j v_j y_j, Σ_k w_k y_k⟩ from the Gram matrix. *)
Definition ip (rho : R) (n : nat) (v w : nat -> R) : R :=
  sumn n (fun j => sumn n (fun k => v j * w k * G rho j k)).

(** Coefficients of x'_i = Σ_j A_ij y_j + a y_i (a = α√q): A_ii = p, A_ij = r. *)
Definition out_coef (pp rr a : R) (i j : nat) : R :=
  (if Nat.eqb i j then pp else rr) + a * delta i j.

Lemma out_coef_split pp rr a i j : out_coef pp rr a i j = rr + (pp - rr + a) * delta i j.
Proof. unfold out_coef, delta. destruct (Nat.eqb i j); ring. Qed.

(** The bilinear expansion: with v = r + c δ_i and w = r + c δ_l (i, l < n),
    ⟨v, w⟩ = c² G_il + 2cr s₁ + r² n s₁. *)
Lemma ip_expand rho n rr cc i l : (i < n)%nat -> (l < n)%nat ->
  ip rho n (fun j => rr + cc * delta i j) (fun k => rr + cc * delta l k) =
  cc ^ 2 * G rho i l + 2 * cc * rr * s1 (INR n) rho + rr ^ 2 * INR n * s1 (INR n) rho.
Proof.
  intros Hi Hl. unfold ip.
  (* inner sum over k *)
  rewrite (sumn_ext n _ (fun j => (rr + cc * delta i j) * (rr * s1 (INR n) rho + cc * G rho j l))).
  2: { intros j Hj.
       rewrite (sumn_ext n _ (fun k => ((rr + cc * delta i j) * rr) * G rho j k
                                     + ((rr + cc * delta i j) * cc) * (delta l k * G rho j k)))
         by (intros; ring).
       rewrite sumn_plus, !sumn_scal, G_row by exact Hj.
       rewrite (sumn_delta n l (fun k => G rho j k)) by exact Hl. ring. }
  (* outer sum over j *)
  rewrite (sumn_ext n _ (fun j => (rr * rr * s1 (INR n) rho) + (rr * cc) * G rho l j
                                  + (cc * (delta i j * (rr * s1 (INR n) rho + cc * G rho j l))))).
  2: { intros j Hj. unfold G. rewrite (delta_sym j l). ring. }
  rewrite !sumn_plus, sumn_const, sumn_scal, sumn_scal, G_row by exact Hl.
  rewrite (sumn_delta n i (fun j => rr * s1 (INR n) rho + cc * G rho j l)) by exact Hi. ring.
Qed.

(** |x'_i|² from the Gram matrix is [out_norm_sq]. *)
Theorem gram_out_norm_sq (n : nat) rho beta a i : (i < n)%nat ->
  ip rho n (out_coef (p (INR n) rho beta) (r (INR n) rho beta) a i)
           (out_coef (p (INR n) rho beta) (r (INR n) rho beta) a i)
  = out_norm_sq (INR n) rho beta a.
Proof.
  intros Hi. unfold ip. rewrite (sumn_ext n _ (fun j => sumn n (fun k =>
    (r (INR n) rho beta + c (INR n) rho beta a * delta i j)
    * (r (INR n) rho beta + c (INR n) rho beta a * delta i k) * G rho j k))).
  2: { intros j Hj. apply sumn_ext. intros k Hk. rewrite !out_coef_split. reflexivity. }
  fold (ip rho n (fun j => r (INR n) rho beta + c (INR n) rho beta a * delta i j)
                 (fun k => r (INR n) rho beta + c (INR n) rho beta a * delta i k)).
  rewrite ip_expand by exact Hi. unfold out_norm_sq, G, delta. rewrite Nat.eqb_refl. ring.
Qed.

(** ⟨x'_i, x'_l⟩ (i ≠ l) from the Gram matrix is [out_inner]; hence cos_out is the cosine of
    two outputs (which have equal norms). *)
Theorem gram_out_inner (n : nat) rho beta a i l : (i < n)%nat -> (l < n)%nat -> i <> l ->
  ip rho n (out_coef (p (INR n) rho beta) (r (INR n) rho beta) a i)
           (out_coef (p (INR n) rho beta) (r (INR n) rho beta) a l)
  = out_inner (INR n) rho beta a.
Proof.
  intros Hi Hl Hil. unfold ip. rewrite (sumn_ext n _ (fun j => sumn n (fun k =>
    (r (INR n) rho beta + c (INR n) rho beta a * delta i j)
    * (r (INR n) rho beta + c (INR n) rho beta a * delta l k) * G rho j k))).
  2: { intros j Hj. apply sumn_ext. intros k Hk. rewrite !out_coef_split. reflexivity. }
  fold (ip rho n (fun j => r (INR n) rho beta + c (INR n) rho beta a * delta i j)
                 (fun k => r (INR n) rho beta + c (INR n) rho beta a * delta l k)).
  rewrite ip_expand by assumption. unfold out_inner, G, delta.
  destruct (Nat.eqb_spec i l); [contradiction|]. ring.
Qed.

(** The attention row i is the softmax of the scores β G_ij: A_ii = p, A_ij = r (j ≠ i). *)
Theorem softmax_row (n : nat) rho beta i j : (1 <= n)%nat -> (i < n)%nat -> (j < n)%nat ->
  exp (beta * G rho i j) / sumn n (fun k => exp (beta * G rho i k)) =
  if Nat.eqb i j then p (INR n) rho beta else r (INR n) rho beta.
Proof.
  intros Hn Hi Hj.
  assert (Hsum : sumn n (fun k => exp (beta * G rho i k))
                 = exp beta + (INR n - 1) * exp (beta * rho)).
  { rewrite (sumn_ext n _ (fun k => exp (beta * rho)
                                     + delta i k * (exp beta - exp (beta * rho)))).
    - rewrite sumn_plus, sumn_const, sumn_delta by exact Hi. ring.
    - intros k Hk. unfold G, delta. destruct (Nat.eqb i k).
      + replace (beta * (rho + (1 - rho) * 1)) with beta by ring. ring.
      + replace (beta * (rho + (1 - rho) * 0)) with (beta * rho) by ring. ring. }
  assert (HnR : 1 <= INR n) by (replace 1 with (INR 1) by reflexivity; apply le_INR; lia).
  rewrite Hsum. unfold G, delta. destruct (Nat.eqb i j).
  - rewrite p_softmax by exact HnR.
    replace (beta * (rho + (1 - rho) * 1)) with beta by ring. reflexivity.
  - rewrite r_softmax by exact HnR.
    replace (beta * (rho + (1 - rho) * 0)) with (beta * rho) by ring. reflexivity.
Qed.
