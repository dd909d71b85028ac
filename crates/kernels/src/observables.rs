//! The observables of THEORY §3 from a [`Forward`] pass, over all n(n−1)/2 pairs in tiles.
//!
//! For each tile (I, J), I ≤ J, two GEMMs give ⟨z_i, z_j⟩ and ⟨z'_i, z'_j⟩, hence
//! |y_i − y_j|² = |z_i|² + |z_j|² − 2⟨z_i, z_j⟩ and the same for the outputs. Then, per pair,
//!
//! * λ term (1 − cos'_ij)/(1 − cos_ij) = |y'_i − y'_j|² / |y_i − y_j|²;
//! * angle term θ'_ij/θ_ij with θ = 2 arcsin(|u − v|/2);
//! * cos_ij = 1 − |y_i − y_j|²/2 (min, mean, max; inputs and outputs).
//!
//! **Accuracy.** The GEMM form of |z_i − z_j|² has an absolute error of a few ulps of
//! |z_i|² + |z_j|²; when a pair is much closer than that (a near-duplicate pair, or a tight
//! cluster), the ratio |z_i − z_j|²/(|z_i|² + |z_j|²) drops below [`RECOMPUTE_BELOW`] and the
//! distance is recomputed from the explicit difference, in f64, as the reference model does. So
//! every λ term keeps full relative accuracy, and exact duplicates are detected exactly.
//!
//! **f32.** In `f32` the per-pair work (distances, ratios, arcsines) is done in `f32` SIMD lanes
//! (arcsine: Cephes' `asinf`, relative error below 3·2⁻²³), with the pair terms summed in `f64` lanes; the
//! recomputation rule and the duplicate test stay in `f64`. The f32 Gram entries already carry a
//! relative error of ~d·2⁻²⁴, so this costs no accuracy that f32 inputs had, while the
//! observables phase runs about twice as fast as with f64 pair work.
//!
//! Tiles run in parallel and return their partial sums; the sums are reduced in tile order, so
//! the result does not depend on the thread count.

use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::forward::Forward;
use crate::prepare::{Options, Prepared};
use crate::tiles::block_starts;
use rayon::prelude::*;

/// A pair whose GEMM distance² is below this fraction of |z_i|² + |z_j|² is recomputed from the
/// explicit difference: the GEMM form's relative error is then at most about d·u/τ.
pub const RECOMPUTE_BELOW: f64 = 1.0 / 16.0;

/// Two tokens are **copies** when 1 − ⟨y_i, y_j⟩ ≤ `COPY_TOLERANCE` (dimensionless; the
/// definition shared by `simulate` and `diagnose`, issue 13). Real text repeats tokens, so copies
/// are not an error: λ, λ_angle and the input and output cosines are taken over the pairs that are
/// not copies, and the mass a token puts on its copies (its own weight included) is reported as
/// [`Observables::self_mass`]. At 1e-12 the two directions differ by at most about 1.4e-6 in angle,
/// far below any structure of the layer and far above f64's rounding of a direction (a token and a
/// rescaled copy x_j = 2.5·x_i differ by about 2√d·u ≈ 1e-14 for d = 512).
pub const COPY_TOLERANCE: f64 = 1e-12;

/// The squared distance |y_i − y_j|² at or below which two directions are copies in the working
/// precision T: 2·max([`COPY_TOLERANCE`], (256·u)²/2) with u the unit roundoff, i.e. 2e-12 in
/// `f64` and 2.3e-10 in `f32` (where (256·u)²/2 = 1.2e-10: f32 cannot tell directions closer than
/// its rounding apart, and a λ term of such a pair would be a ratio of rounding errors). Pairs just
/// above it keep their rounding estimate ([`ErrorModel`]) and may be refused by `simulate`.
pub fn copy_distance2<T: Element>() -> f64 {
    let e = 256.0 * T::UNIT_ROUNDOFF;
    2.0 * COPY_TOLERANCE.max(0.5 * e * e)
}

/// The copy tolerance on 1 − cos in the working precision T: [`copy_distance2`]`/2`.
pub fn copy_tolerance<T: Element>() -> f64 {
    0.5 * copy_distance2::<T>()
}

/// The observables of one layer (THEORY §3). Means over the pairs i < j that are not copies
/// ([`COPY_TOLERANCE`]) or over the n rows; without copies the pair means are over all n(n−1)/2
/// pairs, as in the reference model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observables {
    /// λ = mean of (1 − cos'_ij)/(1 − cos_ij).
    pub lambda: f64,
    /// Mean of θ'_ij/θ_ij.
    pub lambda_angle: f64,
    /// min_{i<j} ⟨y_i, y_j⟩.
    pub cos_in_min: f64,
    /// mean_{i<j} ⟨y_i, y_j⟩.
    pub cos_in_mean: f64,
    /// max_{i<j} ⟨y_i, y_j⟩.
    pub cos_in_max: f64,
    /// min_{i<j} ⟨y'_i, y'_j⟩.
    pub cos_out_min: f64,
    /// mean_{i<j} ⟨y'_i, y'_j⟩.
    pub cos_out_mean: f64,
    /// max_{i<j} ⟨y'_i, y'_j⟩.
    pub cos_out_max: f64,
    /// mean_i A_ii.
    pub self_weight: f64,
    /// mean_i Σ_{j copy of i} A_ij, the weight a token puts on itself and its copies (THEORY §10,
    /// issue 13); equal to `self_weight` when there are no copies.
    pub self_mass: f64,
    /// Number of pairs i < j that are copies (left out of the pair means).
    pub copy_pairs: u64,
    /// mean_i 1/Σ_j A_ij².
    pub support: f64,
    /// mean_i −Σ_j A_ij ln A_ij.
    pub entropy: f64,
    /// Pairs whose distance was recomputed from the explicit difference (diagnostic).
    pub recomputed_pairs: u64,
    /// An estimate (an upper bound in practice, see [`ErrorModel`]) of the absolute rounding
    /// error of `lambda`, computed beside it without changing it.
    pub lambda_error: f64,
    /// The same for `lambda_angle`.
    pub lambda_angle_error: f64,
    /// The pair (i, j), i < j, of closest input directions (the smallest 1 − ⟨y_i, y_j⟩).
    pub closest_pair: (usize, usize),
    /// 1 − ⟨y_i, y_j⟩ of that pair (from the distance, without cancellation).
    pub closest_one_minus_cos: f64,
    /// The smallest 1 − ⟨y'_i, y'_j⟩ over the pairs (from the distance, without cancellation).
    pub min_one_minus_cos_out: f64,
}

/// The largest relative rounding error of λ and λ_angle that `simulate` reports: 1e-6 in
/// `f64`, 1e-3 in `f32` (whose inputs alone move λ by about 1e-5).
pub fn lambda_error_limit<T: Element>() -> f64 {
    if T::UNIT_ROUNDOFF < 1e-10 { 1e-6 } else { 1e-3 }
}

/// The rounding model behind [`Observables::lambda_error`].
///
/// Each term of λ is |Δy'|²/|Δy|² with Δy = y_i − y_j. The computed difference vectors carry
/// an absolute error of at most about e_in = C·√d·u for the inputs (y_i and z_i = y_i − c are
/// rounded entrywise, |z_i| ≤ 2) and e_out = C·√d·u·(1 + β·w) for the outputs, where w =
/// max_i (1 − A_ii): a rounding ε of a Gram entry moves the weights A_ij (j ≠ i) by β·ε
/// relative, and so y'_i by at most β·ε·(1 − A_ii)·max|y_j − y'_i|. A term then moves by
///
///   (2 e_out |Δy'| + e_out²)/|Δy|² + term·(2 e_in/|Δy| + e_in²/|Δy|²),
///
/// and the angle term θ'/θ (θ = 2 arcsin(|Δy|/2)) by (k' e_out + (θ'/θ) k e_in)/(θ/2) with
/// k = 1/(2 cos(θ/2)) ≤ 1 up to 1 − cos = 1.5. The GEMM form of |Δy|² adds a relative error
/// of about 32·√d·u (pairs below [`RECOMPUTE_BELOW`] are recomputed from the difference).
/// These terms are summed over the pairs beside λ (not into it), so λ itself is unchanged.
///
/// The error is large where 1 − cos' is rounding noise: at small β (the outputs nearly
/// coincide: 1 − cos' = O(β²)) and for near-copies just outside [`copy_distance2`].
/// C = [`ErrorModel::C`] is calibrated against the exact simplex (`critscale-simplex`) and the
/// reference model at 256 bits (tests in the workspace suite): the estimate exceeds the
/// measured error by a factor of 10 or more there.
#[derive(Debug, Clone, Copy)]
pub struct ErrorModel {
    /// e_in.
    pub e_in: f64,
    /// e_out.
    pub e_out: f64,
    /// The GEMM form's relative error.
    pub gemm_rel: f64,
}

impl ErrorModel {
    /// The constant C.
    pub const C: f64 = 4.0;

    /// The model for a forward pass.
    pub fn of<T: Element>(fwd: &Forward<T>) -> Self {
        let u = T::UNIT_ROUNDOFF;
        let sd = (fwd.prep.d as f64).sqrt();
        let w = fwd.row_sum.iter().fold(0.0f64, |m, s| m.max(s / (1.0 + s)));
        let e_in = Self::C * sd * u;
        ErrorModel {
            e_in,
            e_out: e_in * (1.0 + fwd.params.beta * w),
            gemm_rel: 32.0 * sd * u,
        }
    }

    /// The error bound of one λ term and one angle term, from the squared distances of the pair
    /// and the half-angles asin(|Δy|/2) and asin(|Δy'|/2).
    ///
    /// With `FAR = false` the caller promises din ≤ 3 and dout ≤ 3, where k is 1, and the far
    /// branch of k (a square root and a division per side) is not computed; the values are the
    /// same.
    #[inline(always)]
    fn pair<const FAR: bool>(&self, din: f64, dout: f64, tin: f64, tout: f64) -> (f64, f64) {
        let (e_in, e_out) = (self.e_in, self.e_out);
        let r = 1.0 / din;
        let term = dout * r;
        let s_in = din.sqrt();
        let lam = (2.0 * e_out * dout.sqrt() + e_out * e_out) * r
            + term * (2.0 * e_in / s_in + e_in * e_in * r);
        // Both sides computed, then selected: the same values as a branch, but it vectorises.
        let k = |d2: f64| {
            if !FAR {
                return 1.0;
            }
            let far = 0.5 / (1.0 - 0.25 * d2).max(1e-8).sqrt();
            if d2 <= 3.0 { 1.0 } else { far }
        };
        let ia = 1.0 / tin;
        let ang = (k(dout) * e_out + tout * ia * k(din) * e_in) * ia;
        (lam, ang)
    }
}

/// The attention statistics (self weight, support, entropy) from the row sums of a forward pass.
pub fn attention_stats<T: Element>(fwd: &Forward<T>) -> (f64, f64, f64) {
    let n = fwd.prep.n as f64;
    let beta = fwd.params.beta;
    let (mut sw, mut sup, mut ent) = (0.0, 0.0, 0.0);
    for i in 0..fwd.prep.n {
        let s = fwd.row_sum[i];
        let z = 1.0 + s;
        sw += 1.0 / z;
        sup += z * z / (1.0 + fwd.row_sq[i]);
        ent += s.ln_1p() + beta * fwd.row_delta[i] / z;
    }
    (sw / n, sup / n, ent / n)
}

#[derive(Debug, Clone, PartialEq)]
struct Partial {
    lam: f64,
    ang: f64,
    cin: (f64, f64, f64),
    cout: (f64, f64, f64),
    recomputed: u64,
    /// Copy pairs (i, j, E_ij), in the tile's row-major order.
    copies: Vec<(usize, usize, f64)>,
    lam_err: f64,
    ang_err: f64,
    /// (1 − cos, i, j) of the closest input pair.
    closest: (f64, usize, usize),
    min_out: f64,
}

fn explicit_dist2<T: Element>(z: &[T], d: usize, i: usize, j: usize) -> f64 {
    let (a, b) = (&z[i * d..(i + 1) * d], &z[j * d..(j + 1) * d]);
    a.iter()
        .zip(b)
        .map(|(u, v)| {
            let t = u.to_f64() - v.to_f64();
            t * t
        })
        .sum()
}

/// What the f32 pair kernel reads besides the tiles.
struct PairCtx<'a, T> {
    d: usize,
    beta: f64,
    model: ErrorModel,
    z: &'a [T],
    zo: &'a [T],
    zn: &'a [f64],
    zno: &'a [f64],
    zn32: Vec<f32>,
    zno32: Vec<f32>,
}

/// Per-row scratch of the f64 pair kernel: the distances, the per-pair terms and the pairs to
/// recompute.
struct RowBuf {
    din: Vec<f64>,
    dout: Vec<f64>,
    lam: Vec<f64>,
    ang: Vec<f64>,
    lerr: Vec<f64>,
    aerr: Vec<f64>,
    idx_in: Vec<usize>,
    idx_out: Vec<usize>,
}

impl RowBuf {
    fn new(len: usize) -> Self {
        let v = || vec![0.0f64; len];
        RowBuf {
            din: v(),
            dout: v(),
            lam: v(),
            ang: v(),
            lerr: v(),
            aerr: v(),
            idx_in: vec![0; len],
            idx_out: vec![0; len],
        }
    }
}

/// The pairs of one tile in f64 (rows i0.., columns j0..; only j > i on a diagonal tile), row by
/// row in passes: the distances from the Gram tiles ([`DistF64`], vectorised), the recomputation
/// rule and the copy test (scalar, only where needed), the extremes of the row ([`RowScan`],
/// vectorised), the λ, angle and error terms of every pair ([`TermsF64`], vectorised, with
/// [`asin_f64`]), and finally the sums of the terms in the pairs' row-major order, which is the
/// order of the plain loop, so the sums are those of one pair at a time.
///
/// The sums ([`Partial::add_row`]) are a chain of dependent additions that cannot be reordered
/// without changing the result, so they get a loop of their own with the running sums in
/// registers; the minima, maxima and the closest pair, whose result does not depend on the
/// order, come from the row's extremes instead of a comparison per pair. A row with a copy pair
/// (or a NaN) takes the plain loop ([`Partial::add_row_plain`]), which leaves the copies out.
#[allow(clippy::too_many_arguments)]
fn pairs_f64<T: Element>(
    ctx: &PairCtx<'_, T>,
    gin: &[T],
    gout: &[T],
    (i0, ri): (usize, usize),
    (j0, rj): (usize, usize),
    (diag, from_delta): (bool, bool),
    p: &mut Partial,
    buf: &mut RowBuf,
) {
    let (d, model, beta) = (ctx.d, ctx.model, ctx.beta);
    let (zn, zno) = (ctx.zn, ctx.zno);
    let copy = copy_distance2::<T>();
    let arch = pulp::Arch::new();
    for ii in 0..ri {
        let i = i0 + ii;
        let js = if diag { ii + 1 } else { 0 };
        let len = rj - js;
        if len == 0 {
            continue;
        }
        let (znj, znoj) = (&zn[j0 + js..j0 + rj], &zno[j0 + js..j0 + rj]);
        let (zi, zoi) = (zn[i], zno[i]);
        let RowBuf {
            din,
            dout,
            lam,
            ang,
            lerr,
            aerr,
            idx_in,
            idx_out,
        } = buf;
        let (di, doo) = (&mut din[..len], &mut dout[..len]);
        let fix = arch.dispatch(DistF64 {
            gin: &gin[ii * rj + js..(ii + 1) * rj],
            gout: &gout[ii * rj + js..(ii + 1) * rj],
            znj,
            znoj,
            zi,
            zoi,
            from_delta,
            copy,
            din: &mut *di,
            dout: &mut *doo,
        });
        // The pairs to recompute, listed without a branch per pair (which ones they are is
        // unpredictable, e.g. a quarter of all pairs at d = 2), then recomputed.
        let mut copies = false;
        if fix {
            let (mut ni, mut no) = (0, 0);
            for k in 0..len {
                idx_in[ni] = k;
                ni += usize::from((di[k] < RECOMPUTE_BELOW * (zi + znj[k])) | (di[k] <= copy));
                idx_out[no] = k;
                no += usize::from(doo[k] < RECOMPUTE_BELOW * (zoi + znoj[k]));
            }
            for &k in &idx_in[..ni] {
                di[k] = explicit_dist2(ctx.z, d, i, j0 + js + k);
                copies |= di[k] <= copy;
            }
            for &k in &idx_out[..no] {
                doo[k] = explicit_dist2(ctx.zo, d, i, j0 + js + k);
            }
            p.recomputed += (ni + no) as u64;
        }
        let (di, doo) = (&din[..len], &dout[..len]);
        let scan = arch.dispatch(RowScan { din: di, dout: doo });
        let (tl, ta, te, tae) = (
            &mut lam[..len],
            &mut ang[..len],
            &mut lerr[..len],
            &mut aerr[..len],
        );
        let terms = Terms {
            din: di,
            dout: doo,
            lam: tl,
            ang: ta,
            lerr: te,
            aerr: tae,
            model,
        };
        // The branches of the arcsine and of the error model's k(δ) that no pair of the row
        // takes are left out (the values are the same; see `TermsF64`). A NaN (where the
        // extremes mean nothing) or a copy (whose terms are not used) selects the full kernel.
        let full = scan.nan || copies;
        let big_in = full || scan.a.1 >= SURELY_SMALL;
        let big_out = full || scan.b.1 >= SURELY_SMALL;
        let far = full || scan.a.1 > 3.0 || scan.b.1 > 3.0;
        macro_rules! terms {
            ($($bi:literal $bo:literal $f:literal),*) => {
                match (big_in, big_out, far) {
                    $(($bi, $bo, $f) => arch.dispatch(TermsF64::<$bi, $bo, $f>(terms)),)*
                }
            };
        }
        terms!(
            false false false,
            false false true,
            false true false,
            false true true,
            true false false,
            true false true,
            true true false,
            true true true
        );
        let row = RowTerms {
            din: di,
            dout: doo,
            lam: &lam[..len],
            ang: &ang[..len],
            lerr: &lerr[..len],
            aerr: &aerr[..len],
            i,
            j: j0 + js,
        };
        if copies || scan.nan {
            p.add_row_plain(&row, copy, beta);
        } else {
            p.add_row(&row, &scan);
        }
    }
}

/// One row of pairs (i, j..j + len) with their squared distances and terms, to be summed.
struct RowTerms<'a> {
    din: &'a [f64],
    dout: &'a [f64],
    lam: &'a [f64],
    ang: &'a [f64],
    lerr: &'a [f64],
    aerr: &'a [f64],
    i: usize,
    j: usize,
}

impl Partial {
    /// Adds a row one pair at a time, leaving out the copies (squared distance ≤ `copy`), whose
    /// weight exp(−β·δ/2) is listed instead.
    fn add_row_plain(&mut self, r: &RowTerms<'_>, copy: f64, beta: f64) {
        for k in 0..r.din.len() {
            let (a, b) = (r.din[k], r.dout[k]);
            if a <= copy {
                self.copies.push((r.i, r.j + k, (-beta * 0.5 * a).exp()));
                continue;
            }
            self.lam += r.lam[k];
            self.ang += r.ang[k];
            self.lam_err += r.lerr[k];
            self.ang_err += r.aerr[k];
            if 0.5 * a < self.closest.0 {
                self.closest = (0.5 * a, r.i, r.j + k);
            }
            self.min_out = self.min_out.min(0.5 * b);
            let ci = 1.0 - 0.5 * a;
            let co = 1.0 - 0.5 * b;
            self.cin = (self.cin.0.min(ci), self.cin.1 + ci, self.cin.2.max(ci));
            self.cout = (self.cout.0.min(co), self.cout.1 + co, self.cout.2.max(co));
        }
    }

    /// [`Partial::add_row_plain`] for a row without copies or NaN, with its extremes `scan`: the
    /// same bits. The sums are a chain of dependent additions in the pairs' order, here with the
    /// running sums in registers; the minima, maxima and the closest pair do not depend on the
    /// order and come from the extremes.
    fn add_row(&mut self, r: &RowTerms<'_>, scan: &ScanOut) {
        let (mut sl, mut sa, mut sle, mut sae) = (self.lam, self.ang, self.lam_err, self.ang_err);
        let (mut sci, mut sco) = (self.cin.1, self.cout.1);
        for (((((&a, &b), &l), &g), &le), &ge) in r
            .din
            .iter()
            .zip(r.dout)
            .zip(r.lam)
            .zip(r.ang)
            .zip(r.lerr)
            .zip(r.aerr)
        {
            sl += l;
            sa += g;
            sle += le;
            sae += ge;
            sci += 1.0 - 0.5 * a;
            sco += 1.0 - 0.5 * b;
        }
        (self.lam, self.ang, self.lam_err, self.ang_err) = (sl, sa, sle, sae);
        (self.cin.1, self.cout.1) = (sci, sco);
        // The first pair of the row at the smallest distance, as the plain loop's strict `<`
        // keeps it; halving is exact, and x ↦ 1 − x/2 is monotone in floating point, so the
        // extreme cosines are those of the extreme distances.
        let (amin, amax) = scan.a;
        let (bmin, bmax) = scan.b;
        if 0.5 * amin < self.closest.0 {
            let k = r.din.iter().position(|&a| a == amin).unwrap_or(0);
            self.closest = (0.5 * amin, r.i, r.j + k);
        }
        self.min_out = self.min_out.min(0.5 * bmin);
        self.cin = (
            self.cin.0.min(1.0 - 0.5 * amax),
            self.cin.1,
            self.cin.2.max(1.0 - 0.5 * amin),
        );
        self.cout = (
            self.cout.0.min(1.0 - 0.5 * bmax),
            self.cout.1,
            self.cout.2.max(1.0 - 0.5 * bmin),
        );
    }
}

/// Below this squared distance |Δy|² the arcsine's argument |Δy|/2 is below 1/2 for certain
/// (√0.99/2 < 0.4975), so only the arcsine's small-argument branch is needed.
const SURELY_SMALL: f64 = 0.99;

/// The squared distances of one row of pairs from the Gram row, as a `pulp` kernel (compiled for
/// the dispatched instruction set; a closure would be compiled for the baseline one and not
/// vectorised). Returns whether some pair needs the recomputation rule or is a copy candidate.
struct DistF64<'a, T> {
    gin: &'a [T],
    gout: &'a [T],
    znj: &'a [f64],
    znoj: &'a [f64],
    zi: f64,
    zoi: f64,
    from_delta: bool,
    copy: f64,
    din: &'a mut [f64],
    dout: &'a mut [f64],
}

impl<T: Element> pulp::WithSimd for DistF64<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> bool {
        let (zi, zoi, copy, from_delta) = (self.zi, self.zoi, self.copy, self.from_delta);
        let mut fix = false;
        for (((((&g, &go), &zj), &zoj), a_out), b_out) in self
            .gin
            .iter()
            .zip(self.gout)
            .zip(self.znj)
            .zip(self.znoj)
            .zip(self.din.iter_mut())
            .zip(self.dout.iter_mut())
        {
            let si = zi + zj;
            let a = if from_delta {
                2.0 * g.to_f64()
            } else {
                si - 2.0 * g.to_f64()
            };
            let so = zoi + zoj;
            let b = so - 2.0 * go.to_f64();
            *a_out = a;
            *b_out = b;
            fix |= (a < RECOMPUTE_BELOW * si) | (a <= copy) | (b < RECOMPUTE_BELOW * so);
        }
        fix
    }
}

/// The smallest and largest squared distance of a row of pairs, inputs (`a`) and outputs (`b`),
/// and whether one is NaN (then the extremes are meaningless).
struct ScanOut {
    a: (f64, f64),
    b: (f64, f64),
    nan: bool,
}

/// [`ScanOut`] of one row, as a `pulp` kernel with [`LANES64`] independent lanes per extreme.
/// Plain compare-and-select (not `f64::min`, whose NaN rule keeps it scalar) so that it
/// vectorises; NaN is reported instead.
struct RowScan<'a> {
    din: &'a [f64],
    dout: &'a [f64],
}

/// f64 lanes of one AVX-512 register.
const LANES64: usize = 8;

impl pulp::WithSimd for RowScan<'_> {
    type Output = ScanOut;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> ScanOut {
        let mut lo_a = [f64::INFINITY; LANES64];
        let mut hi_a = [f64::NEG_INFINITY; LANES64];
        let mut lo_b = [f64::INFINITY; LANES64];
        let mut hi_b = [f64::NEG_INFINITY; LANES64];
        let mut nan = [false; LANES64];
        let full = self.din.len() / LANES64 * LANES64;
        let (da, db) = (self.din.split_at(full), self.dout.split_at(full));
        for (ca, cb) in da.0.chunks_exact(LANES64).zip(db.0.chunks_exact(LANES64)) {
            for l in 0..LANES64 {
                let (a, b) = (ca[l], cb[l]);
                lo_a[l] = if a < lo_a[l] { a } else { lo_a[l] };
                hi_a[l] = if a > hi_a[l] { a } else { hi_a[l] };
                lo_b[l] = if b < lo_b[l] { b } else { lo_b[l] };
                hi_b[l] = if b > hi_b[l] { b } else { hi_b[l] };
                nan[l] |= a.is_nan() | b.is_nan();
            }
        }
        for (&a, &b) in da.1.iter().zip(db.1) {
            lo_a[0] = if a < lo_a[0] { a } else { lo_a[0] };
            hi_a[0] = if a > hi_a[0] { a } else { hi_a[0] };
            lo_b[0] = if b < lo_b[0] { b } else { lo_b[0] };
            hi_b[0] = if b > hi_b[0] { b } else { hi_b[0] };
            nan[0] |= a.is_nan() | b.is_nan();
        }
        let lo = |v: [f64; LANES64]| v.iter().fold(f64::INFINITY, |m, &x| m.min(x));
        let hi = |v: [f64; LANES64]| v.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
        ScanOut {
            a: (lo(lo_a), hi(hi_a)),
            b: (lo(lo_b), hi(hi_b)),
            nan: nan.iter().any(|&v| v),
        }
    }
}

/// The inputs and outputs of [`TermsF64`]: one row of pairs.
struct Terms<'a> {
    din: &'a [f64],
    dout: &'a [f64],
    lam: &'a mut [f64],
    ang: &'a mut [f64],
    lerr: &'a mut [f64],
    aerr: &'a mut [f64],
    model: ErrorModel,
}

/// The λ, angle and error terms of one row of pairs, as a `pulp` kernel: the loop is compiled
/// inside the dispatched function, with its instruction set (a closure called from there would
/// be compiled for the baseline one and not vectorised).
///
/// The kernel is bound by divisions and square roots, and a branch-free lane computes both
/// sides of every branch. `BIG_IN = false` (`BIG_OUT`) promises that every input (output)
/// squared distance is below [`SURELY_SMALL`], so the arcsine's large-argument branch, with a
/// square root and a division, is skipped; `FAR = false` promises that every squared distance
/// is at most 3, where the error model's k(δ) is 1, and skips its two square roots and
/// divisions. Under these promises every term has the bits of the full kernel.
struct TermsF64<'a, const BIG_IN: bool, const BIG_OUT: bool, const FAR: bool>(Terms<'a>);

impl<const BIG_IN: bool, const BIG_OUT: bool, const FAR: bool> pulp::WithSimd
    for TermsF64<'_, BIG_IN, BIG_OUT, FAR>
{
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let t = self.0;
        let model = t.model;
        for (((((&a, &b), tl), ta), te), tae) in t
            .din
            .iter()
            .zip(t.dout)
            .zip(t.lam.iter_mut())
            .zip(t.ang.iter_mut())
            .zip(t.lerr.iter_mut())
            .zip(t.aerr.iter_mut())
        {
            *tl = b / a;
            let tin = asin_f64::<BIG_IN>((0.5 * a.sqrt()).min(1.0));
            let tout = asin_f64::<BIG_OUT>((0.5 * b.sqrt()).min(1.0));
            *ta = tout / tin;
            let (el, ea) = model.pair::<FAR>(a, b, tin, tout);
            *te = el;
            *tae = ea;
        }
    }
}

/// arcsin x for x in [0, 1] in f64, branch-free so that it vectorises (FDLIBM's scheme: a
/// rational approximation R(t) = t·P(t)/Q(t) of degree 6/4, arcsin x = x + x·R(x²) below 1/2,
/// and π/2 − 2 arcsin √((1 − x)/2) above, with the square root split in a high and a low part
/// between 1/2 and 0.975 so that the result keeps full precision). Within |asin x|·2⁻⁵² (at most
/// 2 ulp) of libm's `asin` (test); it is the f64 path's arcsine since the pair terms are
/// vectorised, and may differ from libm's in the last bit of some terms.
///
/// With `BIG = false` the caller promises x < 1/2, and the branches above 1/2 (a square root and
/// a division) are not computed; the result is the same.
#[inline(always)]
// The coefficients are printed with 19 digits, as published; they round to the same f64.
#[allow(clippy::excessive_precision)]
fn asin_f64<const BIG: bool>(x: f64) -> f64 {
    // π/2 = PIO2_HI + PIO2_LO (PIO2_HI the f64 nearest π/2), and the f64 nearest π/4.
    const PIO2_HI: f64 = std::f64::consts::FRAC_PI_2;
    const PIO2_LO: f64 = 6.123_233_995_736_766e-17;
    const PIO4_HI: f64 = std::f64::consts::FRAC_PI_4;
    let big = x >= 0.5;
    let t = if big { 0.5 * (1.0 - x) } else { x * x };
    let num = t
        * (1.666_666_666_666_666_574e-1
            + t * (-3.255_658_186_224_009_154e-1
                + t * (2.012_125_321_348_629_259e-1
                    + t * (-4.005_553_450_067_941_140e-2
                        + t * (7.915_349_942_898_145_322e-4 + t * 3.479_331_075_960_211_676e-5)))));
    let den = 1.0
        + t * (-2.403_394_911_734_414_219e0
            + t * (2.020_945_760_233_505_695e0
                + t * (-6.882_839_716_054_532_930e-1 + t * 7.703_815_055_590_193_528e-2)));
    let r = num / den;
    let small = x + x * r;
    if !BIG {
        return small;
    }
    let s = t.sqrt();
    // Above 0.975: π/2 − 2(s + s·r), with π/2's low part.
    let far = PIO2_HI - (2.0 * (s + s * r) - PIO2_LO);
    // Between 1/2 and 0.975: s = w + c with w = s rounded to its high 32 bits.
    let w = f64::from_bits(s.to_bits() & 0xffff_ffff_0000_0000);
    let c = (t - w * w) / (s + w);
    let pp = 2.0 * s * r - (PIO2_LO - 2.0 * c);
    let qq = PIO4_HI - 2.0 * w;
    let mid = PIO4_HI - (pp - qq);
    if !big {
        small
    } else if x > 0.975 {
        far
    } else {
        mid
    }
}

/// arcsin x for x in [0, 1], in f32 (Cephes `asinf`: a degree-4 polynomial in x² below 1/2,
/// arcsin x = π/2 − 2 arcsin √((1 − x)/2) above; relative error below 3·2⁻²³, measured 2.3·2⁻²³
/// just above 1/2). Branch-free, so it vectorises.
#[inline(always)]
fn asin_f32(x: f32) -> f32 {
    let big = x > 0.5;
    let z = if big { 0.5 * (1.0 - x) } else { x * x };
    let s = if big { z.sqrt() } else { x };
    let p = ((((4.216_32e-2 * z + 2.418_131e-2) * z + 4.547_002_6e-2) * z + 7.495_300_3e-2) * z
        + 1.666_675_2e-1)
        * z
        * s
        + s;
    if big {
        std::f32::consts::FRAC_PI_2 - 2.0 * p
    } else {
        p
    }
}

/// Lanes of the f32 pair kernel (one AVX-512 register of f32).
const LANES: usize = 16;

/// The pairs of one tile (rows i0.., columns j0..; only j > i on a diagonal tile) in f32 lanes:
/// distances from the Gram tiles ([`DistF32`]), the recomputation rule and the duplicate test in
/// f64, then the λ, angle and cosine terms in f32 with f64 sums ([`TermsF32`]); both passes are
/// `pulp` kernels, so that they are vectorised.
fn pairs_f32<T: Element>(
    ctx: &PairCtx<'_, T>,
    gin: &[T],
    gout: &[T],
    (i0, ri): (usize, usize),
    (j0, rj): (usize, usize),
    (diag, from_delta): (bool, bool),
    p: &mut Partial,
) {
    let d = ctx.d;
    let arch = pulp::Arch::new();
    let mut din = vec![0.0f32; rj];
    let mut dout = vec![0.0f32; rj];
    let mut acc = LaneSums {
        lam: [0.0; LANES],
        ang: [0.0; LANES],
        sin_: [0.0; LANES],
        sout: [0.0; LANES],
        lerr: [0.0; LANES],
        aerr: [0.0; LANES],
    };
    let model = ctx.model;
    let (mut in_lo, mut in_hi) = (f32::INFINITY, f32::NEG_INFINITY);
    let (mut out_lo, mut out_hi) = (f32::INFINITY, f32::NEG_INFINITY);
    let mut count = 0u64;
    for ii in 0..ri {
        let i = i0 + ii;
        let js = if diag { ii + 1 } else { 0 };
        let len = rj - js;
        if len == 0 {
            continue;
        }
        let (znj, znoj) = (&ctx.zn32[j0 + js..j0 + rj], &ctx.zno32[j0 + js..j0 + rj]);
        let (zi, zoi) = (ctx.zn32[i], ctx.zno32[i]);
        let (di, doo) = (&mut din[..len], &mut dout[..len]);
        let copy = copy_distance2::<f32>() as f32;
        let fix = arch.dispatch(DistF32 {
            gin: &gin[ii * rj + js..(ii + 1) * rj],
            gout: &gout[ii * rj + js..(ii + 1) * rj],
            znj,
            znoj,
            zi,
            zoi,
            from_delta,
            copy,
            din: &mut *di,
            dout: &mut *doo,
        });
        let mut dups = 0u64;
        if fix {
            let thr = RECOMPUTE_BELOW as f32;
            for k in 0..len {
                let j = j0 + js + k;
                let mut exact = f64::from(di[k]);
                if !(di[k] >= thr * (zi + znj[k]) && di[k] > copy) {
                    exact = explicit_dist2(ctx.z, d, i, j);
                    di[k] = exact as f32;
                    p.recomputed += 1;
                }
                if !(doo[k] >= thr * (zoi + znoj[k]) && doo[k] > 0.0) {
                    doo[k] = explicit_dist2(ctx.zo, d, i, j) as f32;
                    p.recomputed += 1;
                }
                if exact <= copy_distance2::<f32>() {
                    // A copy: left out of the pair sums; its weight E_ij goes to the self mass.
                    di[k] = 0.0;
                    dups += 1;
                    p.copies.push((i, j, (-ctx.beta * 0.5 * exact).exp()));
                }
            }
        }
        count += len as u64 - dups;
        let (di, doo) = (&din[..len], &dout[..len]);
        let (lo_i, hi_i, lo_o, hi_o) = arch.dispatch(TermsF32 {
            din: di,
            dout: doo,
            model,
            acc: &mut acc,
        });
        // The first valid pair of the row at the smallest distance (`lo_i` is the smallest
        // valid one), as a loop with a strict `<` keeps it.
        let half = 0.5 * f64::from(lo_i);
        if half < p.closest.0 {
            let k = di.iter().position(|&a| a > 0.0 && a == lo_i).unwrap_or(0);
            p.closest = (half, i, j0 + js + k);
        }
        p.min_out = p.min_out.min(0.5 * f64::from(lo_o));
        in_lo = in_lo.min(lo_i);
        in_hi = in_hi.max(hi_i);
        out_lo = out_lo.min(lo_o);
        out_hi = out_hi.max(hi_o);
    }
    let sum = |v: [f64; LANES]| v.iter().sum::<f64>();
    p.lam += sum(acc.lam);
    p.ang += sum(acc.ang);
    p.lam_err += sum(acc.lerr);
    p.ang_err += sum(acc.aerr);
    if count > 0 {
        // cos = 1 − δ/2: the extreme cosines from the extreme distances, the sums from Σδ.
        let c = count as f64;
        p.cin = (
            p.cin.0.min(1.0 - 0.5 * f64::from(in_hi)),
            p.cin.1 + (c - 0.5 * sum(acc.sin_)),
            p.cin.2.max(1.0 - 0.5 * f64::from(in_lo)),
        );
        p.cout = (
            p.cout.0.min(1.0 - 0.5 * f64::from(out_hi)),
            p.cout.1 + (c - 0.5 * sum(acc.sout)),
            p.cout.2.max(1.0 - 0.5 * f64::from(out_lo)),
        );
    }
}

/// The squared distances of one row of pairs in f32 from the Gram row, as a `pulp` kernel (see
/// [`DistF64`]). Returns whether some pair needs the recomputation rule or the duplicate test.
struct DistF32<'a, T> {
    gin: &'a [T],
    gout: &'a [T],
    znj: &'a [f32],
    znoj: &'a [f32],
    zi: f32,
    zoi: f32,
    from_delta: bool,
    copy: f32,
    din: &'a mut [f32],
    dout: &'a mut [f32],
}

impl<T: Element> pulp::WithSimd for DistF32<'_, T> {
    type Output = bool;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> bool {
        let (zi, zoi, copy, from_delta) = (self.zi, self.zoi, self.copy, self.from_delta);
        let thr = RECOMPUTE_BELOW as f32;
        let mut fix = false;
        for (((((&g, &go), &zj), &zoj), a_out), b_out) in self
            .gin
            .iter()
            .zip(self.gout)
            .zip(self.znj)
            .zip(self.znoj)
            .zip(self.din.iter_mut())
            .zip(self.dout.iter_mut())
        {
            let si = zi + zj;
            let a = if from_delta {
                2.0 * (g.to_f64() as f32)
            } else {
                si - 2.0 * (g.to_f64() as f32)
            };
            let so = zoi + zoj;
            let b = so - 2.0 * (go.to_f64() as f32);
            *a_out = a;
            *b_out = b;
            // Written so that NaN asks for the test too.
            fix |= !((a >= thr * si) & (a > copy));
            fix |= !((b >= thr * so) & (b > 0.0));
        }
        fix
    }
}

/// The per-lane f64 sums of the f32 pair kernel (λ, angle and error terms, and the distances).
struct LaneSums {
    lam: [f64; LANES],
    ang: [f64; LANES],
    sin_: [f64; LANES],
    sout: [f64; LANES],
    lerr: [f64; LANES],
    aerr: [f64; LANES],
}

/// The terms of one row of pairs in f32 lanes, added to [`LaneSums`] (pair k of the row into
/// lane k mod [`LANES`]), as a `pulp` kernel. Returns the smallest and largest valid input and
/// output distances. A pair with distance 0 is a copy (set so by the caller) and not valid.
///
/// When no distance of the row exceeds 3 the error model's k(δ) is 1 for every pair, and the
/// kernel without its far branch ([`ErrorModel::pair`]) gives the same values faster.
struct TermsF32<'a> {
    din: &'a [f32],
    dout: &'a [f32],
    model: ErrorModel,
    acc: &'a mut LaneSums,
}

/// The extremes of [`TermsF32`]: smallest and largest valid input, then output, distance.
type Extremes32 = (f32, f32, f32, f32);

impl pulp::WithSimd for TermsF32<'_> {
    type Output = Extremes32;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> Extremes32 {
        let mut far = false;
        for (&a, &b) in self.din.iter().zip(self.dout) {
            far |= !((a <= 3.0) & (b <= 3.0));
        }
        if far {
            terms_f32::<true>(self)
        } else {
            terms_f32::<false>(self)
        }
    }
}

/// The loop of [`TermsF32`], inlined into its dispatched function.
#[inline(always)]
fn terms_f32<const FAR: bool>(t: TermsF32<'_>) -> Extremes32 {
    let mut lo_i = [f32::INFINITY; LANES];
    let mut hi_i = [f32::NEG_INFINITY; LANES];
    let mut lo_o = [f32::INFINITY; LANES];
    let mut hi_o = [f32::NEG_INFINITY; LANES];
    let (model, acc) = (t.model, t.acc);
    let (di, doo) = (t.din, t.dout);
    let len = di.len();
    let full = len / LANES * LANES;
    let mut ext = (&mut lo_i, &mut hi_i, &mut lo_o, &mut hi_o);
    for (ca, cb) in di[..full]
        .chunks_exact(LANES)
        .zip(doo[..full].chunks_exact(LANES))
    {
        for l in 0..LANES {
            term_f32::<FAR>(&model, acc, &mut ext, l, ca[l], cb[l]);
        }
    }
    for k in full..len {
        term_f32::<FAR>(&model, acc, &mut ext, k - full, di[k], doo[k]);
    }
    let fold =
        |v: [f32; LANES], f: fn(f32, f32) -> f32, init: f32| v.iter().fold(init, |m, &x| f(m, x));
    (
        fold(lo_i, f32::min, f32::INFINITY),
        fold(hi_i, f32::max, f32::NEG_INFINITY),
        fold(lo_o, f32::min, f32::INFINITY),
        fold(hi_o, f32::max, f32::NEG_INFINITY),
    )
}

/// The running extremes of [`terms_f32`], per lane.
type LaneExtremes<'a> = (
    &'a mut [f32; LANES],
    &'a mut [f32; LANES],
    &'a mut [f32; LANES],
    &'a mut [f32; LANES],
);

/// One pair of [`terms_f32`] into lane `l` (a function, not a closure, so that it is inlined
/// into the dispatched function and compiled with its instruction set).
#[inline(always)]
fn term_f32<const FAR: bool>(
    model: &ErrorModel,
    acc: &mut LaneSums,
    (lo_i, hi_i, lo_o, hi_o): &mut LaneExtremes<'_>,
    l: usize,
    a: f32,
    b: f32,
) {
    let valid = a > 0.0;
    let tin = asin_f32((0.5 * a.sqrt()).min(1.0));
    let tout = asin_f32((0.5 * b.sqrt()).min(1.0));
    let r = if valid { b / a } else { 0.0 };
    let t = if valid { tout / tin } else { 0.0 };
    acc.lam[l] += f64::from(r);
    acc.ang[l] += f64::from(t);
    let (el, ea) = model.pair::<FAR>(
        f64::from(if valid { a } else { 1.0 }),
        f64::from(b),
        f64::from(if valid { tin } else { 1.0 }),
        f64::from(tout),
    );
    acc.lerr[l] += if valid { el } else { 0.0 };
    acc.aerr[l] += if valid { ea } else { 0.0 };
    acc.sin_[l] += f64::from(if valid { a } else { 0.0 });
    acc.sout[l] += f64::from(if valid { b } else { 0.0 });
    lo_i[l] = if valid { lo_i[l].min(a) } else { lo_i[l] };
    hi_i[l] = if valid { hi_i[l].max(a) } else { hi_i[l] };
    lo_o[l] = if valid { lo_o[l].min(b) } else { lo_o[l] };
    hi_o[l] = if valid { hi_o[l].max(b) } else { hi_o[l] };
}

/// Computes the [`Observables`] of a forward pass (see the module docs).
///
/// # Errors
///
/// [`KernelError::AllCopies`] when every pair is a copy ([`copy_tolerance`]): λ, a mean over the
/// pairs that are not copies, is then undefined. Copies among other pairs are no error: they are
/// counted ([`Observables::copy_pairs`]) and left out of the pair means.
pub fn observables<T: Element>(fwd: &Forward<T>) -> Result<Observables, KernelError> {
    let (n, d) = (fwd.prep.n, fwd.prep.d);
    let bs = fwd.block;
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let tiles: Vec<(usize, usize)> = (0..nb).flat_map(|i| (i..nb).map(move |j| (i, j))).collect();
    let (z, zn, zo, zno) = (&fwd.prep.z, &fwd.prep.zn, &fwd.z_out, &fwd.zn_out);
    let model = ErrorModel::of(fwd);
    let beta = fwd.params.beta;
    let ctx = PairCtx {
        d,
        beta,
        model,
        z,
        zo,
        zn,
        zno,
        zn32: if T::NAME == "f32" {
            zn.iter().map(|&v| v as f32).collect()
        } else {
            Vec::new()
        },
        zno32: if T::NAME == "f32" {
            zno.iter().map(|&v| v as f32).collect()
        } else {
            Vec::new()
        },
    };
    let partials: Vec<Partial> = tiles
        .par_iter()
        .map_init(
            || {
                (
                    vec![T::ZERO; bs * bs],
                    vec![T::ZERO; bs * bs],
                    RowBuf::new(bs),
                )
            },
            |(gin, gout, buf), &(bi, bj)| {
                let (i0, i1, j0, j1) = (starts[bi], starts[bi + 1], starts[bj], starts[bj + 1]);
                let (ri, rj) = (i1 - i0, j1 - j0);
                // The forward pass's δ tile when kept (2δ is the GEMM form exactly), else the
                // input Gram tile.
                let cached = fwd.delta_tiles.as_ref().map(|t| &t[bi * nb + bj][..]);
                if cached.is_none() {
                    gemm(
                        gin,
                        rj,
                        false,
                        Mat::new(&z[i0 * d..i1 * d], ri, d, d),
                        Op::N,
                        Mat::new(&z[j0 * d..j1 * d], rj, d, d),
                        Op::T,
                    );
                }
                let (gin, from_delta): (&[T], bool) = match cached {
                    Some(t) => (t, true),
                    None => (&gin[..ri * rj], false),
                };
                gemm(
                    gout,
                    rj,
                    false,
                    Mat::new(&zo[i0 * d..i1 * d], ri, d, d),
                    Op::N,
                    Mat::new(&zo[j0 * d..j1 * d], rj, d, d),
                    Op::T,
                );
                let mut p = Partial {
                    lam: 0.0,
                    ang: 0.0,
                    cin: (f64::INFINITY, 0.0, f64::NEG_INFINITY),
                    cout: (f64::INFINITY, 0.0, f64::NEG_INFINITY),
                    recomputed: 0,
                    copies: Vec::new(),
                    lam_err: 0.0,
                    ang_err: 0.0,
                    closest: (f64::INFINITY, 0, 0),
                    min_out: f64::INFINITY,
                };
                if T::NAME == "f32" {
                    pairs_f32(
                        &ctx,
                        &gin[..ri * rj],
                        &gout[..ri * rj],
                        (i0, ri),
                        (j0, rj),
                        (bi == bj, from_delta),
                        &mut p,
                    );
                    return p;
                }
                pairs_f64(
                    &ctx,
                    &gin[..ri * rj],
                    &gout[..ri * rj],
                    (i0, ri),
                    (j0, rj),
                    (bi == bj, from_delta),
                    &mut p,
                    buf,
                );
                p
            },
        )
        .collect();
    let copy_pairs: u64 = partials.iter().map(|p| p.copies.len() as u64).sum();
    let all = (n * (n - 1) / 2) as u64;
    if copy_pairs == all {
        return Err(KernelError::AllCopies {
            n,
            tolerance: copy_tolerance::<T>(),
        });
    }
    let pairs = (all - copy_pairs) as f64;
    let mut lam = 0.0;
    let mut ang = 0.0;
    let mut cin = (f64::INFINITY, 0.0, f64::NEG_INFINITY);
    let mut cout = (f64::INFINITY, 0.0, f64::NEG_INFINITY);
    let mut recomputed = 0;
    let (mut lam_err, mut ang_err) = (0.0, 0.0);
    let mut closest = (f64::INFINITY, 0, 0);
    let mut min_out = f64::INFINITY;
    for p in &partials {
        lam_err += p.lam_err;
        ang_err += p.ang_err;
        if p.closest.0 < closest.0 || (p.closest.0 == closest.0 && p.closest.1 < closest.1) {
            closest = p.closest;
        }
        min_out = min_out.min(p.min_out);
        lam += p.lam;
        ang += p.ang;
        cin = (cin.0.min(p.cin.0), cin.1 + p.cin.1, cin.2.max(p.cin.2));
        cout = (
            cout.0.min(p.cout.0),
            cout.1 + p.cout.1,
            cout.2.max(p.cout.2),
        );
        recomputed += p.recomputed;
    }
    let (self_weight, support, entropy) = attention_stats(fwd);
    // Σ_{j copy of i} E_ij, own weight E_ii = 1 included, summed in tile order.
    let mut mass = vec![1.0f64; n];
    for &(i, j, e) in partials.iter().flat_map(|p| &p.copies) {
        mass[i] += e;
        mass[j] += e;
    }
    let self_mass = if copy_pairs == 0 {
        self_weight
    } else {
        mass.iter()
            .zip(&fwd.row_sum)
            .map(|(m, s)| m / (1.0 + s))
            .sum::<f64>()
            / n as f64
    };
    Ok(Observables {
        lambda: lam / pairs,
        lambda_angle: ang / pairs,
        cos_in_min: cin.0,
        cos_in_mean: cin.1 / pairs,
        cos_in_max: cin.2,
        cos_out_min: cout.0,
        cos_out_mean: cout.1 / pairs,
        cos_out_max: cout.2,
        self_weight,
        self_mass,
        copy_pairs,
        support,
        entropy,
        recomputed_pairs: recomputed,
        lambda_error: lam_err / pairs + model.gemm_rel * lam.abs() / pairs,
        lambda_angle_error: ang_err / pairs + model.gemm_rel * ang.abs() / pairs,
        closest_pair: (closest.1, closest.2),
        closest_one_minus_cos: closest.0,
        min_one_minus_cos_out: min_out,
    })
}

/// ρ̂ = the mean input cosine ⟨y_i, y_j⟩ over the pairs i < j that are not copies
/// ([`copy_tolerance`]), and the number of copy pairs, from the prepared tokens alone (one pass
/// over the upper Gram tiles, n²d flops). Used for γ_c = 1/(1 − ρ̂) when the tokens come from a
/// file (`simulate --gamma crit --tokens`). In f64 the sum runs in the same order as
/// [`Observables::cos_in_mean`], so the two agree bit for bit.
///
/// # Errors
///
/// [`KernelError::AllCopies`] when every pair is a copy.
pub fn mean_input_cosine<T: Element>(
    prep: &Prepared<T>,
    opts: &Options,
) -> Result<(f64, u64), KernelError> {
    let (n, d) = (prep.n, prep.d);
    let bs = opts.block(n);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let tiles: Vec<(usize, usize)> = (0..nb).flat_map(|i| (i..nb).map(move |j| (i, j))).collect();
    let (z, zn) = (&prep.z, &prep.zn);
    let copy = copy_distance2::<T>();
    let parts: Vec<(f64, u64)> = tiles
        .par_iter()
        .map_init(
            || vec![T::ZERO; bs * bs],
            |gin, &(bi, bj)| {
                let (i0, i1, j0, j1) = (starts[bi], starts[bi + 1], starts[bj], starts[bj + 1]);
                let (ri, rj) = (i1 - i0, j1 - j0);
                gemm(
                    gin,
                    rj,
                    false,
                    Mat::new(&z[i0 * d..i1 * d], ri, d, d),
                    Op::N,
                    Mat::new(&z[j0 * d..j1 * d], rj, d, d),
                    Op::T,
                );
                let (mut sum, mut copies) = (0.0, 0u64);
                for ii in 0..ri {
                    let i = i0 + ii;
                    let jstart = if bi == bj { ii + 1 } else { 0 };
                    for jj in jstart..rj {
                        let j = j0 + jj;
                        let s = zn[i] + zn[j];
                        let mut din = s - 2.0 * gin[ii * rj + jj].to_f64();
                        if din < RECOMPUTE_BELOW * s || din <= copy {
                            din = explicit_dist2(z, d, i, j);
                        }
                        if din <= copy {
                            copies += 1;
                        } else {
                            sum += 1.0 - 0.5 * din;
                        }
                    }
                }
                (sum, copies)
            },
        )
        .collect();
    let copies: u64 = parts.iter().map(|p| p.1).sum();
    let all = (n * (n - 1) / 2) as u64;
    if copies == all {
        return Err(KernelError::AllCopies {
            n,
            tolerance: copy_tolerance::<T>(),
        });
    }
    let sum: f64 = parts.iter().map(|p| p.0).sum();
    Ok((sum / (all - copies) as f64, copies))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::forward;
    use crate::prepare::{Options, Params};
    use crate::testutil::tokens;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use critscale_model::{LayerParams, forward as ref_forward, observables as ref_observables};
    use proptest::prelude::*;

    /// Compares every observable and x' with the reference model.
    ///
    /// Tolerance: 1e-12 relative times κ = 1 + β, because the condition number of A in the Gram
    /// entries is β (a rounding u of ⟨y_i, y_j⟩ moves A_ij by βu relative), so no implementation
    /// that sums in another order can agree better. λ and λ_angle get in addition the
    /// conditioning of each pair's ratio: the outputs y' carry an absolute error e' ≈ 16·u·κ·√d
    /// in both implementations and the inputs e ≈ 16·u·√d, so the term |Δy'|²/|Δy|² may move by
    /// 2|Δy'|e'/|Δy|² + term·2e/|Δy| (this is what matters for near-duplicate pairs and for the
    /// collapsed phase, where |Δy'| is tiny and each implementation's own rounding dominates).
    fn compare(
        x: &ndarray::Array2<f64>,
        beta: f64,
        alpha: f64,
        block: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let (n, d) = x.dim();
        let want_out = ref_forward(x, &LayerParams::new(beta, alpha)).unwrap();
        let want = ref_observables(&want_out);
        let fwd = forward(x.view(), &Params::new(beta, alpha), &Options { block }).unwrap();
        let got = observables(&fwd);
        let kappa = 1.0 + beta;
        let tol = 1e-12 * kappa;
        let scale = want_out.x_out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        for i in 0..n {
            for a in 0..d {
                let g = fwd.x_out[i * d + a];
                let w = want_out.x_out[[i, a]];
                prop_assert!(
                    abs_diff_eq!(g, w, epsilon = tol * scale),
                    "x'[{i},{a}] {g:e} vs {w:e}"
                );
            }
        }
        let (want, got) = match (want, got) {
            (
                Err(critscale_model::ModelError::DuplicateDirection { .. }),
                Err(KernelError::AllCopies { .. }),
            ) => return Ok(()),
            // Every pair within the copy tolerance but not an exact copy: the reference computes
            // its (ill-conditioned) λ, the kernels refuse; the reference must agree that every
            // pair is a copy.
            (Ok(_), Err(KernelError::AllCopies { .. })) => {
                let copies = reference_without_copies(x, beta, alpha).4;
                prop_assert_eq!(
                    copies as usize,
                    n * (n - 1) / 2,
                    "AllCopies with non-copy pairs"
                );
                return Ok(());
            }
            // Copies (exact ones, which the reference refuses, or within the tolerance): the
            // pair means against the reference's outputs with the copies left out.
            (_, Ok(g)) if g.copy_pairs > 0 => {
                let (lam, ang, cos, mass, copies) = reference_without_copies(x, beta, alpha);
                prop_assert_eq!(g.copy_pairs, copies);
                // Conditioning of near-copy pairs outside the tolerance (1 − cos ≥ 1e-12).
                let slack = 1e-6;
                for (name, gv, w) in [
                    ("lambda", g.lambda, lam),
                    ("lambda_angle", g.lambda_angle, ang),
                    ("cos_in_mean", g.cos_in_mean, cos),
                    ("self_mass", g.self_mass, mass),
                ] {
                    prop_assert!(
                        abs_diff_eq!(gv, w, epsilon = (tol + slack) * w.abs().max(1e-3)),
                        "with copies: {name} {gv:e} vs {w:e}"
                    );
                }
                return Ok(());
            }
            (Ok(w), Ok(g)) => (w, g),
            (w, g) => return Err(TestCaseError::fail(format!("{w:?} vs {g:?}"))),
        };
        let pairs = [
            ("lambda", got.lambda, want.lambda, 0.0f64),
            ("lambda_angle", got.lambda_angle, want.lambda_angle, 0.0),
            ("cos_in_min", got.cos_in_min, want.cos_in_min, 1.0),
            ("cos_in_mean", got.cos_in_mean, want.cos_in_mean, 1.0),
            ("cos_in_max", got.cos_in_max, want.cos_in_max, 1.0),
            ("cos_out_min", got.cos_out_min, want.cos_out_min, 1.0),
            ("cos_out_mean", got.cos_out_mean, want.cos_out_mean, 1.0),
            ("cos_out_max", got.cos_out_max, want.cos_out_max, 1.0),
            ("self_weight", got.self_weight, want.self_weight, 0.0),
            ("support", got.support, want.support, 0.0),
            // The reference sums −A_ij ln A_ij, which for A_ii = 1 − O(ε) rounded loses an
            // absolute ulp per row (ln of a number next to 1); this path uses ln_1p, so the two
            // agree to a few ulps in absolute terms, not relative ones, where the entropy is tiny.
            ("entropy", got.entropy, want.entropy, 1e-3),
        ];
        let u = f64::EPSILON / 2.0;
        let (e_in, e_out) = (
            16.0 * u * (d as f64).sqrt(),
            16.0 * u * kappa * (d as f64).sqrt(),
        );
        let (mut slack_lam, mut slack_ang) = (0.0, 0.0);
        for i in 0..n {
            for j in i + 1..n {
                let din = (&want_out.y.row(i) - &want_out.y.row(j))
                    .mapv(|v| v * v)
                    .sum()
                    .sqrt();
                let dout = (&want_out.y_out.row(i) - &want_out.y_out.row(j))
                    .mapv(|v| v * v)
                    .sum()
                    .sqrt();
                let term = dout * dout / (din * din);
                slack_lam += 2.0 * dout * e_out / (din * din) + term * 2.0 * e_in / din;
                slack_ang += e_out / din + (dout / din) * e_in / din;
            }
        }
        let npairs = (n * (n - 1) / 2) as f64;
        for (name, g, w, floor) in pairs {
            let slack = match name {
                "lambda" => slack_lam / npairs,
                "lambda_angle" => slack_ang / npairs,
                _ => 0.0,
            };
            let slack = if name == "entropy" {
                slack + 8.0 * u
            } else {
                slack
            };
            prop_assert!(
                abs_diff_eq!(g, w, epsilon = tol * w.abs().max(floor) + slack),
                "{name}: {g:e} vs {w:e} (tol {tol:e}, slack {slack:e})"
            );
        }
        Ok(())
    }

    #[test]
    fn entropy_of_two_orthogonal_tokens_matches_the_closed_form() {
        // y_1 ⊥ y_2: δ = 1, ε = e^{−β}, A_ii = 1/(1+ε), and the row entropy is
        // ln(1 + ε) + β ε/(1 + ε) exactly. The naive −Σ A ln A loses the ln(1 + ε) term for ε < u.
        for beta in [1.0, 10.0, 40.0, 300.0] {
            let x = ndarray::array![[2.0, 0.0], [0.0, 0.5]];
            let fwd = forward(x.view(), &Params::new(beta, 0.0), &Options::default()).unwrap();
            let got = observables(&fwd).unwrap();
            let eps = (-beta).exp();
            let want = eps.ln_1p() + beta * eps / (1.0 + eps);
            assert!(
                abs_diff_eq!(got.entropy, want, epsilon = 4.0 * f64::EPSILON * want),
                "beta {beta}: {} vs {want}",
                got.entropy
            );
            assert_abs_diff_eq!(
                got.self_weight,
                1.0 / (1.0 + eps),
                epsilon = 2.0 * f64::EPSILON
            );
        }
    }

    /// The δ tiles kept by the forward pass give the same observables, bit for bit, as the
    /// recomputed input Gram tiles (2δ is the GEMM form exactly; clamped entries are recomputed
    /// from the difference either way), in f64 and f32, with near-copies and copies.
    #[test]
    fn kept_delta_tiles_change_no_result() {
        fn both<T: Element>(x: ndarray::ArrayView2<'_, T>, block: Option<usize>) {
            let mut f = forward(x, &Params::new(7.0, 0.1), &Options { block }).unwrap();
            assert!(f.delta_tiles.is_some());
            let kept = observables(&f);
            f.release_delta_tiles();
            assert_eq!(kept, observables(&f));
        }
        for (kind, n, d) in [(0u8, 45usize, 7usize), (1, 33, 12), (2, 40, 6), (3, 20, 20)] {
            let mut x = tokens(kind, n, d, 3, 1e-7);
            let r = x.row(4).to_owned();
            x.row_mut(9).assign(&r);
            for block in [None, Some(6)] {
                both(x.view(), block);
                both(x.mapv(|v| v as f32).view(), block);
            }
        }
    }

    #[test]
    fn asin_f64_is_within_2_ulp_of_libm() {
        let mut worst = 0.0f64;
        let check = |x: f64, worst: &mut f64| {
            let (got, want) = (asin_f64::<true>(x), x.asin());
            let ulp = (want.abs() * f64::EPSILON).max(f64::MIN_POSITIVE);
            let e = (got - want).abs() / ulp;
            *worst = worst.max(e);
            assert!(e <= 1.0, "asin({x:e}) = {got:e} vs {want:e} ({e} ulp)");
        };
        for k in 0..=200_000 {
            check(k as f64 / 200_000.0, &mut worst);
        }
        for x in [
            1e-300,
            1e-20,
            1e-8,
            0.5 - 1e-16,
            0.5,
            0.975,
            0.975 + 1e-16,
            1.0 - 1e-16,
            1.0,
        ] {
            check(x, &mut worst);
        }
        let mut rng = 0x1234_5678_9abc_def0u64;
        for _ in 0..200_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            check((rng >> 11) as f64 / (1u64 << 53) as f64, &mut worst);
        }
        assert!(worst > 0.0);
    }

    /// The kernels that leave out branches no pair takes give the bits of the full kernel: the
    /// arcsine below 1/2, k(δ) = 1 up to δ = 3, on rows that keep each promise (and the ragged
    /// tail of a row).
    #[test]
    fn terms_without_unused_branches_have_the_same_bits() {
        fn run<const BI: bool, const BO: bool, const F: bool>(
            din: &[f64],
            dout: &[f64],
        ) -> Vec<u64> {
            let n = din.len();
            let (mut lam, mut ang, mut lerr, mut aerr) =
                (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
            let model = ErrorModel {
                e_in: 3e-15,
                e_out: 7e-14,
                gemm_rel: 1e-13,
            };
            pulp::Arch::new().dispatch(TermsF64::<BI, BO, F>(Terms {
                din,
                dout,
                lam: &mut lam,
                ang: &mut ang,
                lerr: &mut lerr,
                aerr: &mut aerr,
                model,
            }));
            [lam, ang, lerr, aerr]
                .iter()
                .flatten()
                .map(|v| v.to_bits())
                .collect()
        }
        let mut rng = 0x0bad_cafe_f00d_1234u64;
        let mut next = |hi: f64| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            hi * ((rng >> 11) as f64 + 1.0) / (1u64 << 53) as f64
        };
        for len in [1usize, 7, 8, 9, 61, 256] {
            let small: Vec<f64> = (0..len).map(|_| next(SURELY_SMALL)).collect();
            let small2: Vec<f64> = (0..len).map(|_| next(SURELY_SMALL)).collect();
            let near: Vec<f64> = (0..len).map(|_| next(3.0)).collect();
            let near2: Vec<f64> = (0..len).map(|_| next(3.0)).collect();
            let any: Vec<f64> = (0..len).map(|_| next(4.0)).collect();
            let full = run::<true, true, true>;
            assert_eq!(
                run::<false, false, false>(&small, &small2),
                full(&small, &small2)
            );
            assert_eq!(
                run::<false, true, false>(&small, &near),
                full(&small, &near)
            );
            assert_eq!(
                run::<true, false, false>(&near, &small),
                full(&near, &small)
            );
            assert_eq!(run::<true, true, false>(&near, &near2), full(&near, &near2));
            assert_eq!(run::<false, true, true>(&small, &any), full(&small, &any));
            assert_eq!(run::<true, false, true>(&any, &small), full(&any, &small));
            // The test can fail: k(δ) ≠ 1 above δ = 3, which a long row reaches.
            assert!(
                len < 61 || run::<true, true, false>(&any, &any) != full(&any, &any),
                "no far pair drawn"
            );
        }
    }

    proptest! {
        /// The row sum with the running sums in registers and the extremes from [`RowScan`]
        /// gives the bits of the plain loop: sums in order, the first pair at the smallest
        /// distance (ties included, and a closer pair from an earlier row kept).
        #[test]
        fn a_row_adds_as_the_plain_loop(
            din in prop::collection::vec(1e-6f64..4.0, 1..70),
            dout in prop::collection::vec(1e-9f64..4.0, 70),
            terms in prop::collection::vec(-1e3f64..1e3, 4 * 70),
            tie in 0usize..70,
            prior in prop_oneof![Just(f64::INFINITY), 1e-6f64..2.0],
        ) {
            let len = din.len();
            let mut din = din;
            // A tie for the smallest distance, after its first occurrence or before it.
            let m = din.iter().fold(f64::INFINITY, |m, &a| m.min(a));
            din[tie % len] = m;
            let dout = &dout[..len];
            let row = RowTerms {
                din: &din,
                dout,
                lam: &terms[..len],
                ang: &terms[70..70 + len],
                lerr: &terms[140..140 + len],
                aerr: &terms[210..210 + len],
                i: 3,
                j: 11,
            };
            let start = Partial {
                lam: 0.25,
                ang: -1.5,
                cin: (0.1, 7.0, 0.2),
                cout: (-0.3, 2.0, 0.9),
                recomputed: 0,
                copies: Vec::new(),
                lam_err: 1e-9,
                ang_err: 2e-9,
                closest: (prior, 0, 1),
                min_out: 0.5 * prior,
            };
            let (mut plain, mut fast) = (start.clone(), start);
            plain.add_row_plain(&row, 0.0, 1.0);
            let scan = pulp::Arch::new().dispatch(RowScan { din: &din, dout });
            prop_assert!(!scan.nan);
            fast.add_row(&row, &scan);
            prop_assert_eq!(plain, fast);
        }
    }

    #[test]
    fn asin_f32_is_within_3_epsilons() {
        for k in 1..=100_000 {
            let x = k as f32 / 100_000.0;
            let want = f64::from(x).asin();
            let got = f64::from(asin_f32(x));
            assert!(
                abs_diff_eq!(got, want, epsilon = 3.0 * f64::from(f32::EPSILON) * want),
                "asin({x}) = {got} vs {want}"
            );
        }
    }

    #[test]
    fn f32_pairs_agree_with_f64_and_find_duplicates() {
        // Near-duplicate pairs (recomputed from the difference), block sizes with ragged lanes.
        for (kind, n, d, beta, eps) in [
            (2u8, 37usize, 9usize, 4.0f64, 1e-3f64),
            (0, 70, 5, 8.0, 0.0),
            (1, 33, 12, 2.0, 0.0),
        ] {
            let x = tokens(kind, n, d, 5, eps);
            let x32 = x.mapv(|v| v as f32);
            let x64 = x32.mapv(f64::from);
            for block in [None, Some(3), Some(17)] {
                let o = Options { block };
                let p = Params::new(beta, 0.1);
                let want = observables(&forward(x64.view(), &p, &o).unwrap()).unwrap();
                let got = observables(&forward(x32.view(), &p, &o).unwrap()).unwrap();
                let tol = 1e-5 * (1.0 + beta / 10.0);
                for (name, g, w) in [
                    ("lambda", got.lambda, want.lambda),
                    ("lambda_angle", got.lambda_angle, want.lambda_angle),
                    ("cos_in_min", got.cos_in_min, want.cos_in_min),
                    ("cos_in_mean", got.cos_in_mean, want.cos_in_mean),
                    ("cos_in_max", got.cos_in_max, want.cos_in_max),
                    ("cos_out_min", got.cos_out_min, want.cos_out_min),
                    ("cos_out_mean", got.cos_out_mean, want.cos_out_mean),
                    ("cos_out_max", got.cos_out_max, want.cos_out_max),
                ] {
                    assert!(
                        abs_diff_eq!(g, w, epsilon = tol * w.abs().max(1e-2)),
                        "kind {kind} block {block:?}: {name} {g:e} vs {w:e}"
                    );
                }
                if kind == 2 {
                    assert!(got.recomputed_pairs > 0);
                }
            }
        }
        // A rescaled copy and an exact copy are found in f32 as in f64 and left out alike.
        let mut x = tokens(0, 20, 4, 1, 0.0).mapv(|v| v as f32);
        for a in 0..4 {
            x[[13, a]] = 2.0 * x[[6, a]];
            x[[17, a]] = x[[9, a]];
        }
        let o = Options { block: Some(5) };
        let p = Params::new(2.0, 0.0);
        let got = observables(&forward(x.view(), &p, &o).unwrap()).unwrap();
        let want = observables(&forward(x.mapv(f64::from).view(), &p, &o).unwrap()).unwrap();
        assert_eq!((got.copy_pairs, want.copy_pairs), (2, 2));
        for (name, g, w) in [
            ("lambda", got.lambda, want.lambda),
            ("lambda_angle", got.lambda_angle, want.lambda_angle),
            ("cos_in_mean", got.cos_in_mean, want.cos_in_mean),
            ("self_mass", got.self_mass, want.self_mass),
        ] {
            assert!(
                abs_diff_eq!(g, w, epsilon = 1e-5 * w.abs()),
                "{name} {g} vs {w}"
            );
        }
    }

    /// The reference model's λ, λ_angle, mean input cosine and self mass with copies left out:
    /// pairs with 1 − ⟨y_i, y_j⟩ ≤ [`COPY_TOLERANCE`] are skipped, the self mass sums A_ij over
    /// the copies of i (i included).
    fn reference_without_copies(
        x: &ndarray::Array2<f64>,
        beta: f64,
        alpha: f64,
    ) -> (f64, f64, f64, f64, u64) {
        let out = ref_forward(x, &LayerParams::new(beta, alpha)).unwrap();
        let n = x.nrows();
        let (mut lam, mut ang, mut cos, mut pairs, mut copies) = (0.0, 0.0, 0.0, 0u64, 0u64);
        let mut mass = 0.0;
        for i in 0..n {
            for j in 0..n {
                let c = out.y.row(i).dot(&out.y.row(j));
                if 1.0 - c <= COPY_TOLERANCE {
                    mass += out.attention[[i, j]];
                    if j > i {
                        copies += 1;
                    }
                    continue;
                }
                if j <= i {
                    continue;
                }
                let din = (&out.y.row(i) - &out.y.row(j)).mapv(|v| v * v).sum();
                let dout = (&out.y_out.row(i) - &out.y_out.row(j))
                    .mapv(|v| v * v)
                    .sum();
                lam += dout / din;
                ang += (0.5 * dout.sqrt()).asin() / (0.5 * din.sqrt()).asin();
                cos += c;
                pairs += 1;
            }
        }
        let p = pairs as f64;
        (lam / p, ang / p, cos / p, mass / n as f64, copies)
    }

    #[test]
    fn copies_are_left_out_of_the_pair_means() {
        // Tokens 0, 5, 9 share a direction (9 rescaled), 2 and 7 too: 3 + 1 copy pairs.
        let mut x = tokens(0, 12, 6, 4, 0.0);
        let (r0, r2) = (x.row(0).to_owned(), x.row(2).to_owned());
        x.row_mut(5).assign(&r0);
        x.row_mut(9).assign(&r0.mapv(|v| 2.5 * v));
        x.row_mut(7).assign(&r2);
        for beta in [0.5, 3.0, 20.0] {
            let (lam, ang, cos, mass, copies) = reference_without_copies(&x, beta, 0.0);
            for block in [None, Some(4)] {
                let o = Options { block };
                let f = forward(x.view(), &Params::new(beta, 0.0), &o).unwrap();
                let got = observables(&f).unwrap();
                assert_eq!(got.copy_pairs, copies);
                assert_eq!(copies, 4);
                let tol = 1e-12 * (1.0 + beta);
                for (name, g, w) in [
                    ("lambda", got.lambda, lam),
                    ("lambda_angle", got.lambda_angle, ang),
                    ("cos_in_mean", got.cos_in_mean, cos),
                    ("self_mass", got.self_mass, mass),
                ] {
                    assert!(
                        abs_diff_eq!(g, w, epsilon = tol * w.abs()),
                        "beta {beta} block {block:?}: {name} {g:e} vs {w:e}"
                    );
                }
                assert!(got.self_mass > got.self_weight);
                let (rho, c) = mean_input_cosine(&f.prep, &o).unwrap();
                assert_eq!((rho.to_bits(), c), (got.cos_in_mean.to_bits(), copies));
            }
        }
        // Every pair a copy: λ is undefined, a typed error.
        let same = ndarray::array![[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]];
        let f = forward(same.view(), &Params::new(1.0, 0.0), &Options::default()).unwrap();
        assert!(matches!(
            observables(&f),
            Err(KernelError::AllCopies { n: 3, .. })
        ));
        assert!(matches!(
            mean_input_cosine(&f.prep, &Options::default()),
            Err(KernelError::AllCopies { n: 3, .. })
        ));
    }

    proptest! {
        #[test]
        fn agrees_with_the_reference_model(
            n in 2usize..=40,
            d in 1usize..=12,
            beta in 0.0f64..12.0,
            alpha in 0.0f64..1.0,
            kind in 0u8..4,
            seed in any::<u64>(),
            block in prop_oneof![Just(None), (1usize..8).prop_map(Some)],
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            compare(&x, beta, alpha, block)?;
        }

        #[test]
        fn agrees_with_the_reference_model_at_huge_beta(
            n in 2usize..=24,
            d in 2usize..=8,
            beta in prop_oneof![Just(300.0f64), Just(3e3), Just(1e5)],
            kind in 0u8..4,
            seed in any::<u64>(),
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            compare(&x, beta, 0.0, Some(5))?;
        }
    }
}
