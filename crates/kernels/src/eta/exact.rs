//! The exact η = ‖∂X'/∂X‖²_F/(nd) from the closed forms of the parent module docs ("The exact
//! form", THEORY §5b): the off-diagonal and diagonal blocks summed row by row from GEMM-shaped
//! ingredients, with an estimate of the rounding error of the sums that cancel at large β.

use super::gram::{attention_from_gram, q_diag, symmetric_gram};
use super::rounding::{error_factor, exact_within_limit};
use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::prepare::{Options, Params, Prepared, prepare};
use crate::tiles::block_starts;
use ndarray::ArrayView2;
use rayon::prelude::*;

/// The exact η = ‖∂X'/∂X‖²_F/(nd) (see the module docs for the formula), refused when its
/// estimated rounding error exceeds [`eta_error_limit`](super::eta_error_limit) (see [`eta_exact_with_error`]).
///
/// # Errors
///
/// What [`prepare`] reports; [`KernelError::NonFiniteResult`] if the sum overflows;
/// [`KernelError::PrecisionLoss`] when the rounding error could exceed the limit (very large
/// β, above all in `f32`); [`KernelError::OutOfMemory`] if an n × n matrix cannot be
/// allocated.
pub fn eta_exact<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<f64, KernelError> {
    let (eta, err) = eta_exact_with_error(x, params, opts)?;
    exact_within_limit::<T>(eta, err, params.beta)
}

/// [`eta_exact`] without the refusal: η and an estimate of its absolute rounding error.
///
/// **Why an estimate is needed.** When row i attends almost only to itself (large β),
/// tr C_i² = Q_i − 2Σ_j A_ij B_ij² + |μ_i|⁴ is a small difference of terms of size |z_i|⁴, and
/// it is multiplied by β²: its rounding error, a few u·|z_i|⁴·β², grows like β² while the exact
/// value tends to (d − 1)/r_i² (at β = 1e10 in f64 the computed η of a simplex was 20 times too
/// large). The estimate adds, for every cancelling sum, u_T·c(n, d) times the sum of the
/// magnitudes of its terms (u_T the unit roundoff of the working precision, c = 2 + (√n + √d)/4),
/// with the powers of β and the weights with which the sum enters η. It does not change η.
///
/// # Errors
///
/// As [`eta_exact`], except [`KernelError::PrecisionLoss`].
pub fn eta_exact_with_error<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<(f64, f64), KernelError> {
    let prep = prepare(x, params)?;
    let (n, d) = (prep.n, prep.d);
    let (beta, alpha) = (params.beta, params.alpha);
    if d == 1 {
        // In one dimension y_k = ±1 does not move (Π_k = 0), so J = αI exactly.
        return Ok((alpha * alpha, 0.0));
    }
    let bs = opts.block(n);
    let g = symmetric_gram(&prep, bs)?;
    let a = attention_from_gram(&g, &prep.zn, n, beta)?;
    let q = q_diag(&prep, &a, &g, bs)?;
    let pass = RowPass::new(&prep, params, bs);
    let mut partials = vec![RowPartial::default(); n];
    partials
        .par_chunks_mut(bs)
        .enumerate()
        .for_each_init(Scratch::<T>::default, |sc, (b, out)| {
            let (i0, i1) = pass.rows(b);
            pass.block(b, &a[i0 * n..i1 * n], &g[i0 * n..i1 * n], sc, out);
        });
    pass.finish(&q, &partials)
}

/// The rest of exact η once the attention A is known: the per-row sums of the module docs,
/// row block by row block ([`RowPass::block`], which needs only the block's rows of A and G),
/// then, with the Q_i, each row's value and error estimate ([`RowPass::finish`]). The blocks
/// are those of `bs` ([`block_starts`]); the lean η ([`crate::eta_exact_lean`]) runs each block
/// as soon as its rows of A are formed, while its rows of G are at hand.
///
/// The O(n²) per-entry work (δ_ij once per entry, then the sums of [`RowTerms`]) runs in `pulp`
/// kernels on [`LANES`] rows at a time, one row per vector lane, from transposed copies of
/// their rows of A, G and B: every sum is still taken entry by entry in column order, so η has
/// the bits of a plain loop over each row.
pub(crate) struct RowPass<'p, T> {
    prep: &'p Prepared<T>,
    beta: f64,
    alpha: f64,
    starts: Vec<usize>,
    /// ⟨z_k, c⟩.
    zc: Vec<f64>,
    /// 1/r_k².
    inv_r2: Vec<f64>,
    zn_max: f64,
    zc_max: f64,
    /// u_T·c(n, d), the factor of the rounding-error estimate.
    ku: f64,
}

/// ⟨v, c⟩ for a row v of length d and the centre c of the prepared tokens, summed in f64 in
/// coordinate order.
fn dot_center<T: Element>(prep: &Prepared<T>, row: &[T]) -> f64 {
    row.iter()
        .zip(&prep.center)
        .map(|(v, c)| v.to_f64() * c)
        .sum()
}

/// What the row pass keeps of row i until Q_i is known.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowPartial {
    terms: RowTerms,
    /// |C_i y_i|².
    cy2: f64,
    /// |μ_i|².
    mu2: f64,
    /// ⟨μ_i, c⟩.
    mc: f64,
    /// A_ii.
    av: f64,
}

impl<'p, T: Element> RowPass<'p, T> {
    /// The scalars and per-token quantities every block uses.
    pub(crate) fn new(prep: &'p Prepared<T>, params: &Params, bs: usize) -> Self {
        let (n, d) = (prep.n, prep.d);
        let zc: Vec<f64> = prep.z.chunks(d).map(|r| dot_center(prep, r)).collect();
        Self {
            prep,
            beta: params.beta,
            alpha: params.alpha,
            starts: block_starts(n, bs),
            zn_max: prep.zn.iter().fold(0.0f64, |m, v| m.max(*v)),
            zc_max: zc.iter().fold(0.0f64, |m, v| m.max(v.abs())),
            zc,
            inv_r2: prep.norms.iter().map(|r| 1.0 / (r * r)).collect(),
            ku: error_factor(n, d) * T::UNIT_ROUNDOFF,
        }
    }

    /// The rows `starts[b]..starts[b + 1]` of row block `b`.
    pub(crate) fn rows(&self, b: usize) -> (usize, usize) {
        (self.starts[b], self.starts[b + 1])
    }

    /// Row block `b`: from its rows of A and of G (each (i1 − i0) × n, row-major), M_I = A_I Z,
    /// B_I = M_I Zᵀ, the per-entry sums and C_I y, into `out` (one entry per row).
    pub(crate) fn block(
        &self,
        b: usize,
        a_rows: &[T],
        g_rows: &[T],
        sc: &mut Scratch<T>,
        out: &mut [RowPartial],
    ) {
        let prep = self.prep;
        let (n, d) = (prep.n, prep.d);
        let (i0, i1) = self.rows(b);
        let ri = i1 - i0;
        let z = &prep.z;
        sc.resize(ri, n, d);
        // M_I = A_I Z (the centred attention means μ_i), |μ_i|² and ⟨μ_i, c⟩.
        gemm(
            &mut sc.m[..ri * d],
            d,
            false,
            Mat::new(a_rows, ri, n, n),
            Op::N,
            Mat::new(z, n, d, d),
            Op::N,
        );
        let m2: Vec<f64> = sc.m[..ri * d]
            .chunks(d)
            .map(|r| r.iter().map(|v| v.to_f64() * v.to_f64()).sum())
            .collect();
        let mc: Vec<f64> = sc.m[..ri * d]
            .chunks(d)
            .map(|r| dot_center(prep, r))
            .collect();
        let lanes = LaneConsts {
            zn: &prep.zn,
            zc: &self.zc,
            inv_r2: &self.inv_r2,
            beta: self.beta,
            df: d as f64,
        };
        // B_I = M_I Zᵀ.
        gemm(
            &mut sc.bz[..ri * n],
            n,
            false,
            Mat::new(&sc.m[..ri * d], ri, d, d),
            Op::N,
            Mat::new(z, n, d, d),
            Op::T,
        );
        // Per group of LANES rows: δ_ij once, δ̄_i, W_I = A_ij(δ̄_i − δ_ij) and the row sums.
        for gi in (0..ri).step_by(LANES) {
            let nl = LANES.min(ri - gi);
            let ig = i0 + gi;
            let rows = |src, first| group_rows(src, first, nl, n);
            let (arows, grows) = (rows(a_rows, gi), rows(g_rows, gi));
            transpose(&mut sc.at[..n * LANES], arows);
            transpose(&mut sc.gt[..n * LANES], grows);
            transpose(&mut sc.bt[..n * LANES], rows(&sc.bz, gi));
            // Padding lanes (a last group of fewer than LANES rows) repeat the group's last
            // row; their results are not used.
            let lane = |v: &[f64], first: usize| -> [f64; LANES] {
                std::array::from_fn(|l| v[first + l.min(nl - 1)])
            };
            let dbar = pulp::Arch::new().dispatch(DeltaPass {
                arows,
                grows,
                at: &sc.at,
                gt: &sc.gt,
                dt: &mut sc.dt,
                w: &mut sc.w[gi * n..(gi + nl) * n],
                zn: &prep.zn,
                zi: lane(&prep.zn, ig),
                ig,
                nl,
            });
            let terms = pulp::Arch::new().dispatch(TermsPass {
                at: &sc.at,
                bt: &sc.bt,
                dt: &sc.dt,
                c: &lanes,
                mu2: lane(&m2, gi),
                db: dbar,
                mci: lane(&mc, gi),
                ig,
                nl,
            });
            for (l, o) in out[gi..gi + nl].iter_mut().enumerate() {
                o.terms = RowTerms {
                    dbar: dbar[l],
                    trc: terms.trc[l],
                    ycy: terms.ycy[l],
                    s1: terms.s1[l],
                    p_i: terms.p_i[l],
                    s1_abs: terms.s1_abs[l],
                    off: terms.off[l],
                    s2: terms.s2[l],
                };
            }
        }
        gemm(
            &mut sc.cy[..ri * d],
            d,
            false,
            Mat::new(&sc.w[..ri * n], ri, n, n),
            Op::N,
            Mat::new(z, n, d, d),
            Op::N,
        );
        for (ii, o) in out.iter_mut().enumerate() {
            o.cy2 = sc.cy[ii * d..(ii + 1) * d]
                .iter()
                .map(|v| v.to_f64() * v.to_f64())
                .sum();
            o.mu2 = m2[ii];
            o.mc = mc[ii];
            o.av = a_rows[ii * n + i0 + ii].to_f64();
        }
    }

    /// η and the estimate of its absolute rounding error from every row's [`RowPartial`] (n,
    /// from [`RowPass::block`]) and the Q_i (n), summed in row order.
    pub(crate) fn finish(
        &self,
        q: &[f64],
        partials: &[RowPartial],
    ) -> Result<(f64, f64), KernelError> {
        let prep = self.prep;
        let (n, d) = (prep.n, prep.d);
        let (beta, alpha, df) = (self.beta, self.alpha, d as f64);
        let (zn_max, zc_max) = (self.zn_max, self.zc_max);
        let per_row: Vec<(f64, f64)> = partials
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let RowPartial {
                    terms:
                        RowTerms {
                            dbar: db,
                            trc,
                            ycy,
                            s1,
                            p_i,
                            s1_abs,
                            off,
                            s2,
                        },
                    cy2,
                    mu2,
                    mc,
                    av,
                } = *p;
                // The off-diagonal brackets: δ carries an error of u·(|z_i|² + |z_k|²), w2
                // one of u·(|z_k|² + 2|B_ik| + |μ_i|²), p one of u·(its terms); bounded
                // here by the row's largest values (|B_ik| ≤ |μ_i||z_k|, δ ≤ 2).
                let w2_max = zn_max + 2.0 * (zn_max * mu2).sqrt() + mu2;
                let dl_max = prep.zn[i] + zn_max;
                let p_max = zn_max + (zn_max * mu2).sqrt() + zc_max + mc.abs();
                let off_err = s2
                    * (2.0 * beta * beta * w2_max * (2.0 + dl_max)
                        + 2.0 * beta * (dl_max * (2.0 + p_max) + p_max));
                let trc_mag = p_i + 2.0 * s1_abs + mu2;
                let trc2 = (q[i] - 2.0 * s1 + mu2 * mu2).max(0.0);
                let t1 = (trc - ycy).max(0.0);
                let t2 = (trc2 - cy2).max(0.0);
                let fp = av * av * (df - 1.0) + 2.0 * av * beta * t1 + beta * beta * t2;
                let trfp = av * (df - 1.0) + beta * t1;
                let r = prep.norms[i];
                let value = off + fp / (r * r) + 2.0 * alpha * trfp / r + alpha * alpha * df;
                // tr C² − |C y|² cancels its terms Q, 2Σ A B², |μ|⁴, |Cy|² (each ≤ P_i²,
                // P_i = Σ_j A_ij |z_j|², up to the factor 2); tr C − yᵀCy its terms.
                let t2_mag = q[i] + 2.0 * s1 + mu2 * mu2 + cy2 + 2.0 * s1_abs * p_i.sqrt();
                let t1_mag = trc_mag + ycy + db * db;
                let diag_err = (beta * beta * t2_mag + 2.0 * av * beta * t1_mag) / (r * r)
                    + 2.0 * alpha * beta * t1_mag / r;
                (value, self.ku * (diag_err + off_err))
            })
            .collect();
        let eta = per_row.iter().map(|r| r.0).sum::<f64>() / (n as f64 * df);
        if !eta.is_finite() {
            return Err(KernelError::NonFiniteResult { what: "exact eta" });
        }
        let err = per_row.iter().map(|r| r.1).sum::<f64>() / (n as f64 * df);
        Ok((eta, err))
    }
}

/// Rows whose entries the row-pass kernels compute side by side, one row per SIMD lane (8 f64
/// lanes of AVX-512, two AVX2 vectors). A lane adds its row's terms in the order k = 0, 1, …,
/// n − 1, as a loop over the entries of one row does, so every sum keeps its bits while the
/// sequential additions of 8 rows run in parallel (one row's sum is a chain of dependent
/// additions that no instruction set can shorten without changing its rounding).
const LANES: usize = 8;

/// Per-row-block buffers, reused by the blocks one rayon job runs: M_I = A_I Z (b × d),
/// B_I = M_I Zᵀ and W_I
/// (b × n), C_I y (b × d), the transposed copies (n × LANES, entry k of lane l at k·LANES + l)
/// of the group's rows of A, G, B and δ, and the sums of each row.
pub(crate) struct Scratch<T> {
    m: Vec<T>,
    bz: Vec<T>,
    w: Vec<T>,
    cy: Vec<T>,
    at: Vec<f64>,
    gt: Vec<f64>,
    bt: Vec<f64>,
    dt: Vec<f64>,
}

impl<T: Element> Default for Scratch<T> {
    fn default() -> Self {
        Self {
            m: Vec::new(),
            bz: Vec::new(),
            w: Vec::new(),
            cy: Vec::new(),
            at: Vec::new(),
            gt: Vec::new(),
            bt: Vec::new(),
            dt: Vec::new(),
        }
    }
}

impl<T: Element> Scratch<T> {
    /// Makes the buffers large enough for a block of `ri` rows; only their first entries are
    /// used and they are overwritten before use. A buffer that is too short is replaced by a
    /// fresh zeroed one (`vec!` of zeros takes zeroed pages from the allocator, with no pass
    /// over the memory as growing it in place would make).
    fn resize(&mut self, ri: usize, n: usize, d: usize) {
        fn fit<V: Clone>(v: &mut Vec<V>, len: usize, zero: V) {
            if v.len() < len {
                *v = vec![zero; len];
            }
        }
        fit(&mut self.m, ri * d, T::ZERO);
        fit(&mut self.bz, ri * n, T::ZERO);
        fit(&mut self.w, ri * n, T::ZERO);
        fit(&mut self.cy, ri * d, T::ZERO);
        for v in [&mut self.at, &mut self.gt, &mut self.bt, &mut self.dt] {
            fit(v, n * LANES, 0.0);
        }
    }
}

/// Rows `first..first + nl` of the row-major `src` (rows of length n), the last one repeated to
/// fill LANES.
fn group_rows<T>(src: &[T], first: usize, nl: usize, n: usize) -> [&[T]; LANES] {
    std::array::from_fn(|l| {
        let r = first + l.min(nl - 1);
        &src[r * n..(r + 1) * n]
    })
}

/// Copies `rows` (LANES rows of length n) into `dst` (n·LANES) transposed and converted to
/// f64: entry k of row l at k·LANES + l.
fn transpose<T: Element>(dst: &mut [f64], rows: [&[T]; LANES]) {
    pulp::Arch::new().dispatch(Transpose { dst, rows });
}

/// [`transpose`] as a `pulp` kernel, by LANES × LANES tiles (whose fixed size lets the compiler
/// drop the bounds checks and use shuffles).
struct Transpose<'a, T> {
    dst: &'a mut [f64],
    rows: [&'a [T]; LANES],
}

impl<T: Element> pulp::WithSimd for Transpose<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let Transpose { dst, rows } = self;
        let n = dst.len() / LANES;
        let full = n / LANES * LANES;
        for (kb, tile) in dst[..full * LANES]
            .chunks_exact_mut(LANES * LANES)
            .enumerate()
        {
            let k0 = kb * LANES;
            let src: [&[T]; LANES] = std::array::from_fn(|l| &rows[l][k0..k0 + LANES]);
            for kk in 0..LANES {
                for l in 0..LANES {
                    tile[kk * LANES + l] = src[l][kk].to_f64();
                }
            }
        }
        for k in full..n {
            for l in 0..LANES {
                dst[k * LANES + l] = rows[l][k].to_f64();
            }
        }
    }
}

/// The sums over k of one row of the row pass (see [`row_pass`]).
#[derive(Debug, Clone, Copy, Default)]
struct RowTerms {
    /// δ̄_i = Σ_k A_ik δ_ik.
    dbar: f64,
    /// tr C_i = Σ_k A_ik max(0, |z_k|² − 2B_ik + |μ_i|²).
    trc: f64,
    /// y_iᵀ C_i y_i = Σ_k A_ik (δ_ik − δ̄_i)².
    ycy: f64,
    /// Σ_k A_ik B_ik².
    s1: f64,
    /// P_i = Σ_k A_ik |z_k|² (error estimate).
    p_i: f64,
    /// Σ_k A_ik |B_ik| (error estimate).
    s1_abs: f64,
    /// The off-diagonal blocks Σ_{k≠i} A_ik²/r_k² · bracket_ik.
    off: f64,
    /// Σ_{k≠i} A_ik²/r_k² (error estimate).
    s2: f64,
}

/// What the sums of every row need per column k, and the scalars.
struct LaneConsts<'a> {
    zn: &'a [f64],
    zc: &'a [f64],
    inv_r2: &'a [f64],
    beta: f64,
    df: f64,
}

/// δ_ik of a group of LANES rows i = ig + l (into `dt`, transposed), δ̄_i = Σ_k A_ik δ_ik and
/// W_ik = A_ik(δ̄_i − δ_ik) (into `w`, the group's `nl` rows, row-major), as a `pulp` kernel so
/// that the loops are compiled with the dispatched instruction set.
struct DeltaPass<'a, T> {
    arows: [&'a [T]; LANES],
    grows: [&'a [T]; LANES],
    at: &'a [f64],
    gt: &'a [f64],
    dt: &'a mut [f64],
    w: &'a mut [T],
    zn: &'a [f64],
    zi: [f64; LANES],
    ig: usize,
    nl: usize,
}

/// δ and its weighted sum over the columns `k0..k1`; `check` when the range holds the group's
/// diagonal entries (k = ig + l for lane l), where δ is 0 (the same expression as
/// `gram::delta`, lane by lane).
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn delta_span(
    k0: usize,
    k1: usize,
    check: bool,
    ig: usize,
    zi: &[f64; LANES],
    zn: &[f64],
    at: &[f64],
    gt: &[f64],
    dt: &mut [f64],
    s: &mut [f64; LANES],
) {
    let cols = at[k0 * LANES..k1 * LANES]
        .chunks_exact(LANES)
        .zip(gt[k0 * LANES..k1 * LANES].chunks_exact(LANES))
        .zip(dt[k0 * LANES..k1 * LANES].chunks_exact_mut(LANES))
        .zip(&zn[k0..k1]);
    for (k, (((a, g), dk), &znk)) in (k0..).zip(cols) {
        for l in 0..LANES {
            let dl = if check && k == ig + l {
                0.0
            } else {
                (0.5 * (zi[l] + znk) - g[l]).max(0.0)
            };
            dk[l] = dl;
            s[l] += a[l] * dl;
        }
    }
}

impl<T: Element> pulp::WithSimd for DeltaPass<'_, T> {
    type Output = [f64; LANES];
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> [f64; LANES] {
        let DeltaPass {
            arows,
            grows,
            at,
            gt,
            dt,
            w,
            zn,
            zi,
            ig,
            nl,
        } = self;
        let n = zn.len();
        // The sums start at −0.0, as `Iterator::sum` of f64 does.
        let mut s = [-0.0f64; LANES];
        let d0 = ig.min(n);
        let d1 = (ig + nl).min(n);
        delta_span(0, d0, false, ig, &zi, zn, at, gt, dt, &mut s);
        delta_span(d0, d1, true, ig, &zi, zn, at, gt, dt, &mut s);
        delta_span(d1, n, false, ig, &zi, zn, at, gt, dt, &mut s);
        // W row by row from the row-major A and G (δ recomputed by the same expression, which
        // is cheaper than reading the transposed copies with a stride).
        for (l, wr) in w.chunks_exact_mut(n).enumerate() {
            let (sl, zl) = (s[l], zi[l]);
            for (((wv, av), gv), znk) in wr.iter_mut().zip(arows[l]).zip(grows[l]).zip(zn) {
                let dl = (0.5 * (zl + znk) - gv.to_f64()).max(0.0);
                *wv = T::from_f64(av.to_f64() * (sl - dl));
            }
            // δ_ii = 0.
            let i = ig + l;
            wr[i] = T::from_f64(arows[l][i].to_f64() * (sl - 0.0));
        }
        s
    }
}

/// The remaining sums of a group of LANES rows (see [`RowTerms`]) from the transposed A, B and
/// δ, as a `pulp` kernel.
struct TermsPass<'a> {
    at: &'a [f64],
    bt: &'a [f64],
    dt: &'a [f64],
    c: &'a LaneConsts<'a>,
    mu2: [f64; LANES],
    db: [f64; LANES],
    mci: [f64; LANES],
    ig: usize,
    nl: usize,
}

/// The sums of [`RowTerms`] (except δ̄) of the lanes, each in its own lane.
#[derive(Default)]
struct LaneSums {
    trc: [f64; LANES],
    ycy: [f64; LANES],
    s1: [f64; LANES],
    p_i: [f64; LANES],
    s1_abs: [f64; LANES],
    off: [f64; LANES],
    s2: [f64; LANES],
}

/// The sums over the columns `k0..k1`; `check` when the range holds the group's diagonal
/// entries, which the off-diagonal sums skip.
#[inline(always)]
fn terms_span(k0: usize, k1: usize, check: bool, p: &TermsPass<'_>, acc: &mut LaneSums) {
    let c = p.c;
    let (beta, df) = (c.beta, c.df);
    let r = k0 * LANES..k1 * LANES;
    let cols = p.at[r.clone()]
        .chunks_exact(LANES)
        .zip(p.bt[r.clone()].chunks_exact(LANES))
        .zip(p.dt[r].chunks_exact(LANES))
        .zip(&c.zn[k0..k1])
        .zip(&c.zc[k0..k1])
        .zip(&c.inv_r2[k0..k1]);
    for (k, (((((a, b), dk), &znk), &zck), &ir2)) in (k0..).zip(cols) {
        for l in 0..LANES {
            let (akv, bik, dl) = (a[l], b[l], dk[l]);
            let (mu2, db) = (p.mu2[l], p.db[l]);
            let w2 = (znk - 2.0 * bik + mu2).max(0.0);
            acc.trc[l] += akv * w2;
            acc.ycy[l] += akv * (dl - db) * (dl - db);
            acc.s1[l] += akv * bik * bik;
            acc.p_i[l] += akv * znk;
            acc.s1_abs[l] += akv * bik.abs();
            if !(check && k == p.ig + l) {
                let pk = (znk - bik) + (zck - p.mci[l]);
                let bracket = (df - 1.0)
                    + 2.0 * beta * ((db - dl) - (1.0 - dl) * pk)
                    + beta * beta * w2 * dl * (2.0 - dl);
                let wk = akv * akv * ir2;
                acc.off[l] += wk * bracket;
                acc.s2[l] += wk;
            }
        }
    }
}

impl pulp::WithSimd for TermsPass<'_> {
    type Output = LaneSums;
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) -> LaneSums {
        let n = self.c.zn.len();
        let mut acc = LaneSums::default();
        let d0 = self.ig.min(n);
        let d1 = (self.ig + self.nl).min(n);
        terms_span(0, d0, false, &self, &mut acc);
        terms_span(d0, d1, true, &self, &mut acc);
        terms_span(d1, n, false, &self, &mut acc);
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::tokens;
    use approx::abs_diff_eq;
    use critscale_model::{LayerParams, eta_from_jacobian};
    use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};
    use proptest::prelude::*;

    /// Exact η against the full reference Jacobian. Tolerance 1e-12 relative times (1 + β)²: the
    /// β² terms of J carry the rounding of the Gram entries amplified by β twice (see the module
    /// docs on cancellation), in the reference as much as here.
    fn check_exact(
        x: &ndarray::Array2<f64>,
        beta: f64,
        alpha: f64,
        block: Option<usize>,
    ) -> Result<(), TestCaseError> {
        let want = eta_from_jacobian(x, &LayerParams::new(beta, alpha)).unwrap();
        let got = eta_exact(x.view(), &Params::new(beta, alpha), &Options { block }).unwrap();
        let tol = 1e-12 * (1.0 + beta).powi(2);
        // Absolute floor: a few ulps of the β² terms (η itself is 0 for d = 1).
        let (n, _) = x.dim();
        let inv_r2 = x.rows().into_iter().map(|r| 1.0 / r.dot(&r)).sum::<f64>() / n as f64;
        let floor = 1e-13 * (1.0 + beta).powi(2) * inv_r2;
        prop_assert!(
            abs_diff_eq!(got, want, epsilon = tol * want.abs() + floor),
            "eta {got:e} vs {want:e} (rel {:e})",
            (got - want).abs() / want
        );
        Ok(())
    }

    proptest! {
        #[test]
        fn exact_eta_matches_the_reference_jacobian(
            n in 2usize..=10,
            d in 1usize..=6,
            beta in 0.0f64..12.0,
            alpha in 0.0f64..1.0,
            kind in 0u8..4,
            seed in any::<u64>(),
            block in prop_oneof![Just(None), (1usize..5).prop_map(Some)],
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            check_exact(&x, beta, alpha, block)?;
        }

        #[test]
        fn exact_eta_matches_the_reference_at_huge_beta(
            n in 2usize..=8,
            d in 2usize..=5,
            beta in prop_oneof![Just(300.0f64), Just(3e3)],
            kind in 0u8..4,
            seed in any::<u64>(),
        ) {
            let x = tokens(kind, n, d, seed, 1e-4);
            check_exact(&x, beta, 0.0, Some(3))?;
        }

        #[test]
        fn exact_eta_matches_the_simplex_closed_form(
            n in 2usize..=40,
            extra in 0usize..4,
            rho in 0.05f64..0.95,
            q in 0.2f64..5.0,
            gamma in 0.2f64..4.0,
            alpha in 0.0f64..1.0,
        ) {
            let d = n + extra;
            let x = critscale_model::simplex::<f64>(&(), n, d, &rho, &q).unwrap();
            let sp = SimplexParams::new(n as f64, rho, Scaling::Gamma(gamma), alpha, q, Some(d as f64)).unwrap();
            let want = SimplexLayer::evaluate(&sp).eta.expect("d given");
            let beta = gamma * (n as f64).ln();
            let got = eta_exact(x.view(), &Params::new(beta, alpha), &Options::default()).unwrap();
            let tol = 1e-11 * (1.0 + beta).powi(2);
            prop_assert!(abs_diff_eq!(got, want, epsilon = tol * want), "eta {got:e} vs closed form {want:e}");
        }
    }
}
