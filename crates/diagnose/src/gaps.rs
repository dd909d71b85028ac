//! Gap counting per row (THEORY §8, repaired for copies as in §10), and the per-row
//! distributions.
//!
//! For row i with score row cos_ij, the gaps to the top score are δ_ij = 1 − cos_ij. Copies of i
//! have a zero gap, which would make the literal Λ_n infinite; they are counted with the self
//! weight instead (issue 13):
//!
//!   N_i(t) = 1 + #{j not a copy of i : δ_ij ≤ t},   Λ_i = sup_{t>0} ln N_i(t)/t.
//!
//! N_i is a right-continuous step function and ln N_i(t)/t decreases between its steps, so the
//! supremum is attained at a step: Λ_i = max_k ln(1 + K_k)/t_k over the distinct sorted gaps
//! t_k of the non-copy tokens, K_k the number of them ≤ t_k. One sort per unit: O(n log n) per
//! row. Non-copy gaps exceed [`crate::prepare::COPY_TOL`], so Λ_i is finite. On a simplex
//! (δ = 1 − ρ for every pair) Λ_i = ln n/(1 − ρ) = γ_c ln n; the data report Λ_i/ln n, on the
//! scale of γ.

use crate::prepare::Prepared;
use rayon::prelude::*;

/// Per-row quantities: the class share, the mean cosine to the non-copies, Λ_i/ln n.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct RowRecord {
    /// Row index.
    pub row: usize,
    /// Copy class (numbered by first occurrence).
    pub class: usize,
    /// f_i = c_i/n, the share of the rows in the class of i.
    pub share: f64,
    /// Mean of cos_ij over the tokens j that are not copies of i.
    pub cos_mean: f64,
    /// Λ_i/ln n (gap counting, copies as self weight).
    pub gap_scale: f64,
}

/// Per unit: (mean cosine to the non-copies, Λ_u/ln n).
fn unit_stats(p: &Prepared, u: usize) -> (f64, f64) {
    let cu = p.class_of_unit[u];
    let delta = p.delta_row(u);
    let mut gaps: Vec<(f64, f64)> = delta
        .iter()
        .zip(&p.weight)
        .enumerate()
        .filter(|(v, _)| p.class_of_unit[*v] != cu)
        .map(|(_, (&dv, &w))| (dv, w))
        .collect();
    let others = (p.n - p.class_rows[cu]) as f64;
    let cos_mean = gaps.iter().map(|(dv, w)| w * (1.0 - dv)).sum::<f64>() / others;
    gaps.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut best = 0.0f64;
    let mut count = 0.0;
    for (k, &(t, w)) in gaps.iter().enumerate() {
        count += w;
        let last_of_tie = gaps.get(k + 1).is_none_or(|next| next.0 > t);
        if last_of_tie {
            best = best.max((1.0 + count).ln() / t);
        }
    }
    (cos_mean, best / (p.n as f64).ln())
}

/// Every row's record, in row order (units computed once, in parallel).
pub fn rows(p: &Prepared) -> Vec<RowRecord> {
    let per_unit: Vec<(f64, f64)> = (0..p.units)
        .into_par_iter()
        .map(|u| unit_stats(p, u))
        .collect();
    let n = p.n as f64;
    p.unit_of_row
        .iter()
        .enumerate()
        .map(|(row, &u)| {
            let class = p.class_of_unit[u];
            RowRecord {
                row,
                class,
                share: p.class_rows[class] as f64 / n,
                cos_mean: per_unit[u].0,
                gap_scale: per_unit[u].1,
            }
        })
        .collect()
}

/// The quartiles (q1, median, q3) of `values` (linear interpolation between order statistics,
/// the "type 7" rule of R and numpy). `values` must be non-empty and free of NaN.
pub fn quartiles(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_unstable_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (v.len() - 1) as f64;
        let (lo, frac) = (h.floor() as usize, h - h.floor());
        let hi = (lo + 1).min(v.len() - 1);
        v[lo] + frac * (v[hi] - v[lo])
    };
    (q(0.25), q(0.5), q(0.75))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn quartiles_interpolate() {
        assert_eq!(quartiles(&[3.0, 1.0, 2.0, 4.0, 5.0]), (2.0, 3.0, 4.0));
        assert_eq!(quartiles(&[1.0, 2.0]), (1.25, 1.5, 1.75));
    }

    #[test]
    fn gap_scale_of_a_simplex_is_gamma_c() {
        for (n, rho) in [(16usize, 0.3f64), (50, 0.7), (7, 0.05)] {
            let x = critscale_model::simplex::<f64>(&(), n, n, &rho, &1.0).unwrap();
            let p = crate::prepare::prepare(x.view(), &Default::default()).unwrap();
            for r in rows(&p) {
                assert_abs_diff_eq!(r.gap_scale, 1.0 / (1.0 - rho), epsilon = 1e-10);
                assert_abs_diff_eq!(r.cos_mean, rho, epsilon = 1e-12);
                assert_abs_diff_eq!(r.share, 1.0 / n as f64, epsilon = 0.0);
            }
        }
    }

    #[test]
    fn copies_count_as_self_weight() {
        // A simplex of m = 8 types, each repeated 3 times: the non-copy gaps are all 1 − ρ, so
        // N = 1 + (n − 3) and Λ = ln(n − 2)/(1 − ρ).
        let (m, c, rho) = (8usize, 3usize, 0.4f64);
        let base = critscale_model::simplex::<f64>(&(), m, m, &rho, &1.0).unwrap();
        let x = ndarray::Array2::from_shape_fn((m * c, m), |(i, a)| base[[i % m, a]]);
        let p = crate::prepare::prepare(x.view(), &Default::default()).unwrap();
        let n = (m * c) as f64;
        for r in rows(&p) {
            assert_abs_diff_eq!(
                r.gap_scale * n.ln(),
                (n - 2.0).ln() / (1.0 - rho),
                epsilon = 1e-10
            );
            assert_abs_diff_eq!(r.share, 3.0 / n, epsilon = 0.0);
        }
    }
}
