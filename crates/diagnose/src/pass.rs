//! The layer at one β from the stored δ, without a new input Gram matrix (THEORY §1, §3).
//!
//! With the units of [`mod@crate::prepare`] (weights w_v) and E_uv = exp(−βδ_uv) (E_uu = 1, the
//! kernels' shift by the self score β, so nothing overflows):
//!
//! * Z_u = Σ_v w_v E_uv, S_u = Z_u − 1 (summed as (w_u − 1) + Σ_{v≠u} w_v E_uv), A_ij = E_ij/Z_i;
//! * **self mass** of row i: Σ_{j copy of i} A_ij = (Σ_{v in the class of u} w_v E_uv)/Z_u (own
//!   weight included; issue 13); self weight A_ii = 1/Z_u;
//! * support 1/Σ_j A_ij² = Z_u²/Σ_v w_v E_uv²; entropy −Σ_j A_ij ln A_ij = ln(1 + S_u) +
//!   βΣ_v w_v E_uv δ_uv/Z_u (the kernels' form: both terms ≥ 0, nothing cancels);
//! * outputs (α = 0): m_u = c + (Σ_v w_v E_uv z_v)/Z_u, one GEMM per row block of the weighted E
//!   against the m_u × d unit matrix, and y'_u = m_u/|m_u|;
//! * λ = mean over **non-copy** pairs i < j of (1 − cos'_ij)/(1 − cos_ij) = |y'_i − y'_j|²/(2δ_ij),
//!   λ_angle the mean of θ'_ij/θ_ij with θ = 2 arcsin(|Δy|/2): the output Gram in row blocks
//!   (GEMM of the centred outputs z' = y' − mean y'), distances recomputed from the explicit
//!   difference below [`crate::prepare::RECOMPUTE_BELOW`] (the kernels' rule). Pairs inside one
//!   unit are copies and never summed; a unit pair (u, v) stands for w_u·w_v row pairs.
//!
//! On copy-free tokens every number is the kernels' `forward` + `observables` up to summation
//! order (tested to 1e-12·(1 + β)). Row blocks run in parallel and their partial sums are
//! reduced in block order, so results do not depend on the thread count.
//!
//! Work per β: m_u² exponentials, 2m_u²d (E·Z) + m_u²d (half the output Gram) flops, and one
//! arcsine per pair; [`self_mass`] needs only the exponentials and row sums.

use crate::error::DiagnoseError;
use crate::prepare::{Prepared, RECOMPUTE_BELOW, block_starts, explicit_dist2};
use critscale_kernels::element::{Mat, Op, gemm};
use critscale_kernels::{Element, KernelError};
use rayon::prelude::*;

/// The observables at one γ (β = γ ln n). Means over the n rows, or over the non-copy pairs.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    /// γ.
    pub gamma: f64,
    /// β = γ ln n.
    pub beta: f64,
    /// λ = mean over non-copy pairs of (1 − cos')/(1 − cos).
    pub lambda: f64,
    /// Mean over non-copy pairs of θ'/θ.
    pub lambda_angle: f64,
    /// mean_i Σ_{j copy of i} A_ij.
    pub self_mass: f64,
    /// mean_i A_ii (own weight only).
    pub self_weight: f64,
    /// mean_i 1/Σ_j A_ij².
    pub support: f64,
    /// mean_i −Σ_j A_ij ln A_ij.
    pub entropy: f64,
    /// Mean over non-copy pairs of ⟨y'_i, y'_j⟩.
    pub cos_out_mean: f64,
    /// Exact η = ‖∂X'/∂X‖²_F/(nd) from the kernels, when asked for.
    pub eta: Option<f64>,
}

/// Row statistics of the attention at β: per unit Z_u − 1, Σ_v w_v E_uv², Σ_v w_v E_uv δ_uv and
/// the class mass Σ_{v in class} w_v E_uv.
#[derive(Debug, Clone, Copy, Default)]
struct Row {
    s: f64,
    sq: f64,
    dl: f64,
    own: f64,
}

/// exp(−βδ_uv) for one row into `e`, and its statistics.
fn row_stats(p: &Prepared, u: usize, beta: f64, e: &mut [f64]) -> Row {
    let delta = p.delta_row(u);
    for (ev, dv) in e.iter_mut().zip(delta) {
        *ev = -beta * dv;
    }
    f64::exp_in_place(e);
    e[u] = 1.0;
    let cu = p.class_of_unit[u];
    let mut r = Row {
        s: p.weight[u] - 1.0,
        ..Row::default()
    };
    for (v, (&ev, &dv)) in e.iter().zip(delta).enumerate() {
        let w = p.weight[v];
        if v != u {
            r.s += w * ev;
        }
        r.sq += w * ev * ev;
        r.dl += w * ev * dv;
        if p.class_of_unit[v] == cu {
            r.own += w * ev;
        }
    }
    r
}

/// Means over rows of (self weight, self mass, support, entropy) from the row statistics.
fn attention_means(p: &Prepared, rows: &[Row], beta: f64) -> (f64, f64, f64, f64) {
    let (mut sw, mut sm, mut sup, mut ent) = (0.0, 0.0, 0.0, 0.0);
    for (u, r) in rows.iter().enumerate() {
        let w = p.weight[u];
        let z = 1.0 + r.s;
        sw += w / z;
        sm += w * r.own / z;
        sup += w * z * z / r.sq;
        ent += w * (r.s.ln_1p() + beta * r.dl / z);
    }
    let n = p.n as f64;
    (sw / n, sm / n, sup / n, ent / n)
}

/// The mean self mass mean_i Σ_{j copy of i} A_ij at β, from row sums only (no outputs): m_u²
/// exponentials.
pub fn self_mass(p: &Prepared, beta: f64) -> f64 {
    let m = p.units;
    let rows: Vec<Row> = (0..m)
        .into_par_iter()
        .map_init(|| vec![0.0f64; m], |e, u| row_stats(p, u, beta, e))
        .collect();
    attention_means(p, &rows, beta).1
}

/// Sums of one row block's pairs.
#[derive(Debug, Clone, Copy, Default)]
struct Pairs {
    lam: f64,
    ang: f64,
    cos: f64,
}

/// Every observable at γ (see the module docs). η is left `None`.
///
/// # Errors
/// [`DiagnoseError::Kernel`] with [`KernelError::ZeroOutput`] (the first row, in row order, of
/// a unit whose output Σ_j A_ij y_j is the zero vector, so y'_i is undefined).
pub fn point(p: &Prepared, gamma: f64) -> Result<Point, DiagnoseError> {
    let (m, d) = (p.units, p.d);
    let beta = gamma * (p.n as f64).ln();
    let bs = p.block;
    let starts = block_starts(m, bs);
    // Outputs: per row block, the weighted E (b × m_u) times z (m_u × d).
    let mut y_out = vec![0.0f64; m * d];
    let rows: Vec<Row> = y_out
        .par_chunks_mut(bs * d)
        .enumerate()
        .flat_map_iter(|(b, yb)| {
            let (u0, u1) = (starts[b], starts[b + 1]);
            let ru = u1 - u0;
            let mut we = vec![0.0f64; ru * m];
            let mut stats = Vec::with_capacity(ru);
            for uu in 0..ru {
                let e = &mut we[uu * m..(uu + 1) * m];
                stats.push(row_stats(p, u0 + uu, beta, e));
                e.iter_mut().zip(&p.weight).for_each(|(ev, w)| *ev *= w);
            }
            gemm(
                yb,
                d,
                false,
                Mat::new(&we, ru, m, m),
                Op::N,
                Mat::new(&p.z, m, d, d),
                Op::N,
            );
            for (uu, r) in stats.iter().enumerate() {
                let inv = 1.0 / (1.0 + r.s);
                let yr = &mut yb[uu * d..(uu + 1) * d];
                for (v, c) in yr.iter_mut().zip(&p.center) {
                    *v = c + *v * inv;
                }
                normalise_output(yr);
            }
            stats
        })
        .collect();
    if let Some(u) = (0..m).find(|&u| y_out[u * d..(u + 1) * d].iter().all(|v| *v == 0.0)) {
        let row = p.unit_of_row.iter().position(|&v| v == u).unwrap_or(0);
        return Err(KernelError::ZeroOutput { row }.into());
    }
    let (self_weight, self_mass, support, entropy) = attention_means(p, &rows, beta);
    // Centred outputs, as the kernels' observables.
    let n = p.n as f64;
    let mut out_center = vec![0.0f64; d];
    for u in 0..m {
        for (c, v) in out_center.iter_mut().zip(&y_out[u * d..(u + 1) * d]) {
            *c += p.weight[u] * v;
        }
    }
    out_center.iter_mut().for_each(|c| *c /= n);
    let mut zo = y_out;
    let zno: Vec<f64> = zo
        .par_chunks_mut(d)
        .map(|zr| {
            let mut s = 0.0;
            for (v, c) in zr.iter_mut().zip(&out_center) {
                *v -= c;
                s += *v * *v;
            }
            s
        })
        .collect();
    let partials: Vec<Pairs> = (0..starts.len() - 1)
        .into_par_iter()
        .map(|b| {
            let (u0, u1) = (starts[b], starts[b + 1]);
            let (ru, rest) = (u1 - u0, m - u0);
            let mut g = vec![0.0f64; ru * rest];
            gemm(
                &mut g,
                rest,
                false,
                Mat::new(&zo[u0 * d..u1 * d], ru, d, d),
                Op::N,
                Mat::new(&zo[u0 * d..], rest, d, d),
                Op::T,
            );
            let mut acc = Pairs::default();
            for uu in 0..ru {
                let u = u0 + uu;
                let (cu, wu) = (p.class_of_unit[u], p.weight[u]);
                let delta = p.delta_row(u);
                for v in u + 1..m {
                    if p.class_of_unit[v] == cu {
                        continue;
                    }
                    let w = wu * p.weight[v];
                    let din = 2.0 * delta[v];
                    let sum = zno[u] + zno[v];
                    let mut dout = sum - 2.0 * g[uu * rest + (v - u0)];
                    if dout < RECOMPUTE_BELOW * sum {
                        dout = explicit_dist2(&zo, d, u, v);
                    }
                    acc.lam += w * (dout / din);
                    let tin = (0.5 * din.sqrt()).min(1.0).asin();
                    let tout = (0.5 * dout.sqrt()).min(1.0).asin();
                    acc.ang += w * (tout / tin);
                    acc.cos += w * (1.0 - 0.5 * dout);
                }
            }
            acc
        })
        .collect();
    let mut sums = Pairs::default();
    for q in &partials {
        sums.lam += q.lam;
        sums.ang += q.ang;
        sums.cos += q.cos;
    }
    let pairs = non_copy_pairs(p);
    Ok(Point {
        gamma,
        beta,
        lambda: sums.lam / pairs,
        lambda_angle: sums.ang / pairs,
        self_mass,
        self_weight,
        support,
        entropy,
        cos_out_mean: sums.cos / pairs,
        eta: None,
    })
}

/// The number of row pairs i < j that are not copies: n(n − 1)/2 − Σ_k c_k(c_k − 1)/2.
pub fn non_copy_pairs(p: &Prepared) -> f64 {
    let n = p.n as f64;
    let copies: f64 = p
        .class_rows
        .iter()
        .map(|&c| (c as f64) * (c as f64 - 1.0) / 2.0)
        .sum();
    n * (n - 1.0) / 2.0 - copies
}

/// y'_u = m_u/|m_u| with the norm scaled by the largest entry (m_u is a convex combination of
/// unit vectors, so it cannot overflow; it is never 0 for α = 0 unless the weighted mean of the
/// directions vanishes, where the direction is left as is).
fn normalise_output(v: &mut [f64]) {
    let m = v.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    if m == 0.0 {
        return;
    }
    let s: f64 = v.iter().map(|e| (e / m) * (e / m)).sum();
    let r = m * s.sqrt();
    v.iter_mut().for_each(|e| *e /= r);
}
