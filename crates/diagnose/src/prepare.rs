//! Directions, copies and the matrix of 1 − cos, computed once. O(n·d + m_u²·d) work, m_u² memory.
//!
//! * **Directions.** y_i = x_i/|x_i| with the norm scaled by the largest entry (as the kernels
//!   do: the same bits in the usual range, and an exact direction for rows whose norm overflows
//!   or whose entries are subnormal).
//! * **Units.** Rows with bit-identical directions (a token id repeated in real text) are stored
//!   once, as a *unit* u with a weight w_u (its number of rows). Every sum over rows or pairs below
//!   is a sum over units weighted by w_u or w_u·w_v, which is the same sum grouped differently:
//!   nothing is approximated. Copy-free inputs have one unit per row, in row order.
//! * **δ = 1 − cos.** With c the mean direction and z_u = y_u − c (the kernels' centring, THEORY §1
//!   and `critscale-kernels` `prepare`), |y_u − y_v|² = |z_u|² + |z_v|² − 2⟨z_u, z_v⟩ from one GEMM
//!   (row blocks in parallel), recomputed from the explicit difference when it is below
//!   [`RECOMPUTE_BELOW`] of |z_u|² + |z_v|² or below 2·[`COPY_TOL`] (the kernels' rule), and
//!   δ_uv = |y_u − y_v|²/2 ≥ 0. Stored as a dense m_u × m_u matrix.
//! * **Copies** (issue 13): rows i, j are copies when δ_ij ≤ [`COPY_TOL`] = 1e-12. Copy classes
//!   are the connected components of that relation (union–find over the pairs found), so a chain
//!   of near-copies is one class. The class of row i has c_i rows and share f_i = c_i/n.

use crate::error::DiagnoseError;
use critscale_kernels::element::{Mat, Op, gemm};
use critscale_kernels::memory::{BASELINE, Limits, PER_THREAD, try_zeros, worker_threads};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::collections::HashMap;

/// Two directions are copies when 1 − ⟨y_i, y_j⟩ ≤ this (issue 13).
pub const COPY_TOL: f64 = 1e-12;

/// A GEMM distance² below this fraction of |z_u|² + |z_v|² is recomputed from the explicit
/// difference (the kernels' rule, `critscale_kernels::observables::RECOMPUTE_BELOW`).
pub const RECOMPUTE_BELOW: f64 = critscale_kernels::observables::RECOMPUTE_BELOW;

/// Rows per block of every pass: the kernels' default for the number of units.
pub fn block(units: usize) -> usize {
    critscale_kernels::default_block(units)
}

/// Row ranges of the block decomposition: block b is `starts[b]..starts[b + 1]`.
pub(crate) fn block_starts(m: usize, bs: usize) -> Vec<usize> {
    let mut s: Vec<usize> = (0..m).step_by(bs.max(1)).collect();
    s.push(m);
    s
}

/// The tokens, reduced to their distinct directions, with δ = 1 − cos and the copy classes.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Number of tokens (rows).
    pub n: usize,
    /// Dimension.
    pub d: usize,
    /// Number of units (bit-distinct directions), m_u ≥ the number of classes.
    pub units: usize,
    /// Rows per unit, w_u (as f64, the weight of every sum).
    pub weight: Vec<f64>,
    /// The unit of each row.
    pub unit_of_row: Vec<usize>,
    /// The copy class of each unit (classes numbered by first occurrence).
    pub class_of_unit: Vec<usize>,
    /// Rows per class, c_k.
    pub class_rows: Vec<usize>,
    /// c = mean of the n row directions (length d).
    pub center: Vec<f64>,
    /// z_u = y_u − c, row-major m_u × d.
    pub z: Vec<f64>,
    /// |z_u|².
    pub zn: Vec<f64>,
    /// δ_uv = 1 − ⟨y_u, y_v⟩, row-major m_u × m_u, δ_uu = 0.
    pub delta: Vec<f64>,
    /// Rows per block of the passes.
    pub block: usize,
}

impl Prepared {
    /// Row `u` of δ.
    pub fn delta_row(&self, u: usize) -> &[f64] {
        &self.delta[u * self.units..(u + 1) * self.units]
    }

    /// Number of copy classes m (distinct directions up to [`COPY_TOL`]).
    pub fn classes(&self) -> usize {
        self.class_rows.len()
    }

    /// Rows in the class of unit `u`.
    pub fn class_size_of_unit(&self, u: usize) -> usize {
        self.class_rows[self.class_of_unit[u]]
    }
}

/// |v| scaled by the largest magnitude (no overflow or underflow on the way); +∞ when the norm
/// itself exceeds f64's range. The kernels' `scaled_norm`, copied (it is private there).
fn scaled_norm(v: &[f64]) -> f64 {
    let m = v.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    if m == 0.0 {
        return 0.0;
    }
    let s: f64 = v.iter().map(|e| (e / m) * (e / m)).sum();
    m * s.sqrt()
}

/// Replaces `v` by its direction; false for the zero vector. In the usual range this is the
/// kernels' v/|v| bit for bit; otherwise v is first divided by its largest magnitude.
fn normalise(v: &mut [f64]) -> bool {
    let r = scaled_norm(v);
    if r == 0.0 {
        return false;
    }
    let m = v.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    if m.is_normal() && r.is_finite() {
        v.iter_mut().for_each(|e| *e /= r);
    } else {
        v.iter_mut().for_each(|e| *e /= m);
        let r = scaled_norm(v);
        v.iter_mut().for_each(|e| *e /= r);
    }
    true
}

/// The bytes of the n × n work: δ (m_u²), the per-thread blocks of two passes (attention weights
/// and output Gram, b × m_u each), the unit and output matrices (m_u × d, four of them).
pub fn bytes(units: usize, d: usize, threads: usize) -> u64 {
    let (m, d, t) = (units as u64, d as u64, threads.max(1) as u64);
    let b = block(units) as u64;
    let mm = m.saturating_mul(m).saturating_mul(8);
    let blocks = t
        .saturating_mul(2)
        .saturating_mul(b)
        .saturating_mul(m)
        .saturating_mul(8);
    let rows = m.saturating_mul(d).saturating_mul(8 * 4);
    mm.saturating_add(blocks).saturating_add(rows)
}

/// Refuses `need` bytes that exceed `MemAvailable` or the address-space limit (with the
/// kernels' fixed allowance for the binary and the threads), before anything is allocated.
///
/// # Errors
/// [`DiagnoseError::TooMuchMemory`] naming the smaller limit exceeded.
pub fn check_memory(
    what: &'static str,
    units: usize,
    need: u64,
    limits: &Limits,
) -> Result<(), DiagnoseError> {
    let overhead =
        BASELINE.saturating_add(PER_THREAD.saturating_mul(worker_threads().min(16) as u64));
    let mut exceeded: Vec<(u64, u64, &'static str)> = Vec::new();
    if let Some(lim) = limits.address_space
        && need.saturating_add(overhead) > lim
    {
        exceeded.push((
            lim,
            need.saturating_add(overhead),
            "the address-space limit (ulimit -v)",
        ));
    }
    if let Some(avail) = limits.available
        && need > avail
    {
        exceeded.push((avail, need, "the memory available (MemAvailable)"));
    }
    match exceeded.iter().min_by_key(|e| e.0) {
        Some(&(limit, need, limit_name)) => Err(DiagnoseError::TooMuchMemory {
            what,
            units,
            need,
            limit,
            limit_name,
        }),
        None => Ok(()),
    }
}

/// Union–find with path halving; the representative is the smallest index.
struct Classes(Vec<usize>);

impl Classes {
    fn find(&mut self, mut a: usize) -> usize {
        while self.0[a] != a {
            self.0[a] = self.0[self.0[a]];
            a = self.0[a];
        }
        a
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        let (lo, hi) = (ra.min(rb), ra.max(rb));
        self.0[hi] = lo;
    }
}

/// Checks and normalises the tokens, groups equal directions into units, computes δ once and
/// the copy classes (see the module docs). The memory of the m_u × m_u matrices is checked
/// against `limits` before they are allocated.
///
/// # Errors
/// [`DiagnoseError::BadShape`] (n < 2 or d < 1), [`DiagnoseError::NonFinite`] (the first
/// offending entry in row-major order), [`DiagnoseError::ZeroToken`],
/// [`DiagnoseError::OneDirection`] (a single copy class), [`DiagnoseError::TooMuchMemory`],
/// [`DiagnoseError::Kernel`] if a buffer cannot be allocated.
pub fn prepare(x: ArrayView2<'_, f64>, limits: &Limits) -> Result<Prepared, DiagnoseError> {
    let (n, d) = x.dim();
    if n < 2 || d < 1 {
        return Err(DiagnoseError::BadShape { n, d });
    }
    for (row, r) in x.rows().into_iter().enumerate() {
        if let Some((col, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(DiagnoseError::NonFinite { row, col, value });
        }
    }
    let mut y = try_zeros::<f64>(n * d, "the directions y (n x d)")?;
    let nonzero: Vec<bool> = y
        .par_chunks_mut(d)
        .enumerate()
        .map(|(i, yr)| {
            yr.iter_mut().zip(x.row(i)).for_each(|(a, b)| *a = *b);
            normalise(yr)
        })
        .collect();
    if let Some(row) = nonzero.iter().position(|ok| !ok) {
        return Err(DiagnoseError::ZeroToken { row });
    }
    // The kernels' centre: the mean of the n directions, summed in row order.
    let mut center = vec![0.0f64; d];
    for i in 0..n {
        for (c, v) in center.iter_mut().zip(&y[i * d..(i + 1) * d]) {
            *c += v;
        }
    }
    center.iter_mut().for_each(|c| *c /= n as f64);
    // Units: bit-identical directions, numbered by first occurrence.
    let mut seen: HashMap<Vec<u64>, usize> = HashMap::new();
    let mut unit_of_row = Vec::with_capacity(n);
    let mut first_row = Vec::new();
    let mut weight: Vec<f64> = Vec::new();
    for i in 0..n {
        let key: Vec<u64> = y[i * d..(i + 1) * d].iter().map(|v| v.to_bits()).collect();
        let next = first_row.len();
        let u = *seen.entry(key).or_insert(next);
        if u == next {
            first_row.push(i);
            weight.push(0.0);
        }
        weight[u] += 1.0;
        unit_of_row.push(u);
    }
    drop(seen);
    let units = first_row.len();
    check_memory(
        "the matrix of 1 - cos and the pass buffers",
        units,
        bytes(units, d, worker_threads()),
        limits,
    )?;
    let mut z = try_zeros::<f64>(units * d, "the centred directions z (units x d)")?;
    let zn: Vec<f64> = z
        .par_chunks_mut(d)
        .enumerate()
        .map(|(u, zr)| {
            let yr = &y[first_row[u] * d..(first_row[u] + 1) * d];
            let mut s = 0.0;
            for ((zv, yv), c) in zr.iter_mut().zip(yr).zip(&center) {
                *zv = yv - c;
                s += *zv * *zv;
            }
            s
        })
        .collect();
    drop(y);
    let mut delta = try_zeros::<f64>(units * units, "the matrix of 1 - cos (units x units)")?;
    let bs = block(units);
    let starts = block_starts(units, bs);
    let copies: Vec<Vec<(usize, usize)>> = delta
        .par_chunks_mut(bs * units)
        .enumerate()
        .map(|(b, rows)| {
            let (u0, u1) = (starts[b], starts[b + 1]);
            let ru = u1 - u0;
            gemm(
                rows,
                units,
                false,
                Mat::new(&z[u0 * d..u1 * d], ru, d, d),
                Op::N,
                Mat::new(&z, units, d, d),
                Op::T,
            );
            let mut found = Vec::new();
            for uu in 0..ru {
                let u = u0 + uu;
                let row = &mut rows[uu * units..(uu + 1) * units];
                for (v, g) in row.iter_mut().enumerate() {
                    let sum = zn[u] + zn[v];
                    let mut dist = sum - 2.0 * *g;
                    if dist < RECOMPUTE_BELOW * sum || dist <= 2.0 * COPY_TOL {
                        dist = explicit_dist2(&z, d, u, v);
                    }
                    *g = 0.5 * dist.max(0.0);
                    if v > u && *g <= COPY_TOL {
                        found.push((u, v));
                    }
                }
                row[u] = 0.0;
            }
            found
        })
        .collect();
    let mut classes = Classes((0..units).collect());
    for &(u, v) in copies.iter().flatten() {
        classes.union(u, v);
    }
    let mut class_id: HashMap<usize, usize> = HashMap::new();
    let mut class_of_unit = Vec::with_capacity(units);
    let mut class_rows: Vec<usize> = Vec::new();
    for (u, w) in weight.iter().enumerate() {
        let root = classes.find(u);
        let next = class_rows.len();
        let k = *class_id.entry(root).or_insert(next);
        if k == next {
            class_rows.push(0);
        }
        class_rows[k] += *w as usize;
        class_of_unit.push(k);
    }
    if class_rows.len() < 2 {
        return Err(DiagnoseError::OneDirection { n });
    }
    Ok(Prepared {
        n,
        d,
        units,
        weight,
        unit_of_row,
        class_of_unit,
        class_rows,
        center,
        z,
        zn,
        delta,
        block: bs,
    })
}

/// |z_u − z_v|² from the explicit difference.
pub(crate) fn explicit_dist2(z: &[f64], d: usize, u: usize, v: usize) -> f64 {
    z[u * d..(u + 1) * d]
        .iter()
        .zip(&z[v * d..(v + 1) * d])
        .map(|(a, b)| (a - b) * (a - b))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn units_and_classes_group_copies_and_rescaled_copies() {
        // Rows 0, 2 identical; row 3 = 2.5 × row 1 (a rescaled copy); row 4 distinct.
        let x = array![
            [1.0, 2.0, 3.0],
            [0.5, -1.0, 2.0],
            [1.0, 2.0, 3.0],
            [1.25, -2.5, 5.0],
            [3.0, 0.0, -1.0]
        ];
        let p = prepare(x.view(), &Limits::default()).unwrap();
        assert_eq!(p.unit_of_row[0], p.unit_of_row[2]);
        assert_eq!(p.weight[p.unit_of_row[0]], 2.0);
        let c = |i: usize| p.class_of_unit[p.unit_of_row[i]];
        assert_eq!(c(1), c(3));
        assert_ne!(c(0), c(1));
        assert_ne!(c(4), c(0));
        assert_eq!(p.classes(), 3);
        assert_eq!(p.class_rows, vec![2, 2, 1]);
        // δ is symmetric, zero on copies, 1 − cos elsewhere.
        let cos = |a: [f64; 3], b: [f64; 3]| {
            let n = |v: [f64; 3]| v.iter().map(|e| e * e).sum::<f64>().sqrt();
            a.iter().zip(&b).map(|(p, q)| p * q).sum::<f64>() / (n(a) * n(b))
        };
        let (u0, u4) = (p.unit_of_row[0], p.unit_of_row[4]);
        let want = 1.0 - cos([1.0, 2.0, 3.0], [3.0, 0.0, -1.0]);
        approx::assert_abs_diff_eq!(p.delta_row(u0)[u4], want, epsilon = 1e-15);
        approx::assert_abs_diff_eq!(p.delta_row(u4)[u0], want, epsilon = 1e-15);
    }

    #[test]
    fn bad_tokens_are_typed_errors() {
        let l = Limits::default();
        assert_eq!(
            prepare(array![[1.0, 0.0]].view(), &l).unwrap_err(),
            DiagnoseError::BadShape { n: 1, d: 2 }
        );
        assert_eq!(
            prepare(array![[1.0, 0.0], [0.0, 0.0]].view(), &l).unwrap_err(),
            DiagnoseError::ZeroToken { row: 1 }
        );
        assert!(matches!(
            prepare(array![[1.0, f64::NAN], [0.0, 1.0]].view(), &l).unwrap_err(),
            DiagnoseError::NonFinite { row: 0, col: 1, .. }
        ));
        assert_eq!(
            prepare(array![[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]].view(), &l).unwrap_err(),
            DiagnoseError::OneDirection { n: 3 }
        );
        let tiny = Limits {
            available: Some(1000),
            address_space: None,
        };
        assert!(matches!(
            prepare(array![[1.0, 0.0], [0.0, 1.0]].view(), &tiny).unwrap_err(),
            DiagnoseError::TooMuchMemory { units: 2, .. }
        ));
    }
}
