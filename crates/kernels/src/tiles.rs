//! Tile schedules and the fused score → exponential → statistics kernel.
//!
//! The score matrix is symmetric, so the forward pass visits only the tiles (I, J) with I ≤ J of
//! the block decomposition and uses each tile for both row blocks. To keep the summation order
//! fixed without locks that serialise, the tiles are grouped into **rounds** in which no two tiles
//! share a row block (the circle method of round-robin tournaments: with b blocks, b − 1 rounds of
//! b/2 disjoint pairs, plus one round of the b diagonal tiles). Tiles of one round run in
//! parallel; rounds run in order. Every row block therefore receives its contributions in round
//! order, whatever the number of threads.

use crate::element::Element;

/// Row ranges of the block decomposition: block b is rows `starts[b]..starts[b + 1]`.
pub(crate) fn block_starts(n: usize, bs: usize) -> Vec<usize> {
    let mut s: Vec<usize> = (0..n).step_by(bs.max(1)).collect();
    s.push(n);
    s
}

/// The rounds of the symmetric schedule: first the diagonal tiles (b, b), then the circle-method
/// rounds of off-diagonal pairs (I, J), I < J. Every unordered pair appears exactly once, and no
/// block appears twice in a round.
pub(crate) fn symmetric_rounds(nb: usize) -> Vec<Vec<(usize, usize)>> {
    let mut rounds = vec![(0..nb).map(|b| (b, b)).collect::<Vec<_>>()];
    if nb < 2 {
        return rounds;
    }
    let m = nb + nb % 2; // even, with a dummy block nb when nb is odd
    for r in 0..m - 1 {
        let mut round = Vec::with_capacity(m / 2);
        let mut push = |a: usize, b: usize| {
            if a < nb && b < nb {
                round.push((a.min(b), a.max(b)));
            }
        };
        push(m - 1, r);
        for k in 1..m / 2 {
            push((r + k) % (m - 1), (r + m - 1 - k) % (m - 1));
        }
        round.sort_unstable();
        rounds.push(round);
    }
    rounds
}

/// Runs `f` inside `pulp`'s runtime dispatch so that the loops it inlines are compiled for the
/// best instruction set of the CPU (AVX-512, AVX2+FMA or none).
#[inline(always)]
pub(crate) fn simd_run<R>(f: impl FnOnce() -> R) -> R {
    struct Run<F>(F);
    impl<R, F: FnOnce() -> R> pulp::WithSimd for Run<F> {
        type Output = R;
        #[inline(always)]
        fn with_simd<S: pulp::Simd>(self, _simd: S) -> R {
            (self.0)()
        }
    }
    pulp::Arch::new().dispatch(Run(f))
}

/// Per-row sums of one tile over j ≠ i: Σ_j E_ij, Σ_j E_ij², Σ_j E_ij δ_ij.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sums {
    pub(crate) s0: Vec<f64>,
    pub(crate) s1: Vec<f64>,
    pub(crate) s2: Vec<f64>,
}

impl Sums {
    pub(crate) fn zeros(len: usize) -> Self {
        Self {
            s0: vec![0.0; len],
            s1: vec![0.0; len],
            s2: vec![0.0; len],
        }
    }

    pub(crate) fn add(&mut self, other: &Sums) {
        for (a, b) in self.s0.iter_mut().zip(&other.s0) {
            *a += b;
        }
        for (a, b) in self.s1.iter_mut().zip(&other.s1) {
            *a += b;
        }
        for (a, b) in self.s2.iter_mut().zip(&other.s2) {
            *a += b;
        }
    }
}

/// Turns a Gram tile g_ij = ⟨z_i, z_j⟩ (ri × rj, row-major, overwritten) into the unnormalised
/// weights E_ij = exp(−β δ_ij), δ_ij = max(0, (|z_i|² + |z_j|²)/2 − g_ij) = |y_i − y_j|²/2
/// = 1 − ⟨y_i, y_j⟩, and fills `delta` with δ. On a diagonal tile (`diag`) δ_ii = 0 exactly.
///
/// The shift: the softmax of row i is invariant under subtracting any constant from its scores;
/// subtracting β (the self score, the maximum since ⟨y_i, y_j⟩ ≤ 1) gives exponents −βδ_ij ≤ 0
/// and E_ii = 1, so nothing overflows for any β and the row sum Z_i ≥ 1 never underflows. And
/// the shifted matrix E is symmetric, which is what lets one tile serve two row blocks.
///
/// Row sums go to `rows` (added), column sums to `cols` (added, unless `diag`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn score_tile<T: Element>(
    g: &mut [T],
    delta: &mut [T],
    ri: usize,
    rj: usize,
    zn_i: &[f64],
    zn_j: &[f64],
    beta: f64,
    diag: bool,
    rows: &mut Sums,
    cols: &mut Sums,
) {
    let g = &mut g[..ri * rj];
    let delta = &mut delta[..ri * rj];
    let hj: Vec<T> = zn_j.iter().map(|v| T::from_f64(0.5 * v)).collect();
    pulp::Arch::new().dispatch(Exponents {
        g: &mut *g,
        delta: &mut *delta,
        ri,
        rj,
        zn_i,
        hj: &hj,
        mbeta: T::from_f64(-beta),
        diag,
    });
    exponentiate_and_sum(g, delta, ri, rj, diag, rows, cols);
}

/// As [`score_tile`], from a tile's δ kept by an earlier pass on the same tokens (`delta`,
/// ri × rj, what [`score_tile`] wrote there): the exponents −β δ_ij are formed from it by the
/// same product, so E and the sums are bit for bit those of [`score_tile`] at this β.
#[allow(clippy::too_many_arguments)]
pub(crate) fn score_tile_from_delta<T: Element>(
    g: &mut [T],
    delta: &[T],
    ri: usize,
    rj: usize,
    beta: f64,
    diag: bool,
    rows: &mut Sums,
    cols: &mut Sums,
) {
    let g = &mut g[..ri * rj];
    let delta = &delta[..ri * rj];
    pulp::Arch::new().dispatch(ScaledDelta {
        g: &mut *g,
        delta,
        mbeta: T::from_f64(-beta),
    });
    if diag {
        for i in 0..ri {
            g[i * rj + i] = T::ZERO;
        }
    }
    exponentiate_and_sum(g, delta, ri, rj, diag, rows, cols);
}

/// g = −β δ entry by entry, as a `pulp` kernel (the product of [`Exponents`]).
struct ScaledDelta<'a, T> {
    g: &'a mut [T],
    delta: &'a [T],
    mbeta: T,
}

impl<T: Element> pulp::WithSimd for ScaledDelta<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let mbeta = self.mbeta;
        for (gv, &dv) in self.g.iter_mut().zip(self.delta) {
            *gv = mbeta * dv;
        }
    }
}

/// E = exp(g) in place and the tile's row (and column) sums; the self weights of a diagonal tile
/// are left out of the sums and set to 1 (second half of [`score_tile`]).
#[allow(clippy::too_many_arguments)]
fn exponentiate_and_sum<T: Element>(
    g: &mut [T],
    delta: &[T],
    ri: usize,
    rj: usize,
    diag: bool,
    rows: &mut Sums,
    cols: &mut Sums,
) {
    T::exp_in_place(g);
    // The self weights E_ii = 1 are left out of the sums (and restored below), so that the row
    // sums hold S_i = Σ_{j≠i} E_ij and Z_i = 1 + S_i keeps the digits of a small S_i.
    if diag {
        for i in 0..ri {
            g[i * rj + i] = T::ZERO;
        }
    }
    pulp::Arch::new().dispatch(RowSums {
        g: &*g,
        delta,
        ri,
        rj,
        diag,
        rows,
        cols,
    });
    if diag {
        for i in 0..ri {
            g[i * rj + i] = T::ONE;
        }
    }
}

/// The exponents −β δ_ij of a tile and δ itself (first half of [`score_tile`]), as a `pulp`
/// kernel so that the loop is compiled with the dispatched instruction set.
struct Exponents<'a, T> {
    g: &'a mut [T],
    delta: &'a mut [T],
    ri: usize,
    rj: usize,
    zn_i: &'a [f64],
    hj: &'a [T],
    mbeta: T,
    diag: bool,
}

impl<T: Element> pulp::WithSimd for Exponents<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let (rj, mbeta) = (self.rj, self.mbeta);
        for i in 0..self.ri {
            let hi = T::from_f64(0.5 * self.zn_i[i]);
            let grow = &mut self.g[i * rj..(i + 1) * rj];
            let drow = &mut self.delta[i * rj..(i + 1) * rj];
            for ((gv, dv), h) in grow.iter_mut().zip(drow.iter_mut()).zip(self.hj) {
                let t = (hi + *h) - *gv;
                let t = if t > T::ZERO { t } else { T::ZERO };
                *dv = t;
                *gv = mbeta * t;
            }
            if self.diag {
                drow[i] = T::ZERO;
                grow[i] = T::ZERO;
            }
        }
    }
}

/// The row (and, off the diagonal, column) sums of E, E² and E·δ of a tile (second half of
/// [`score_tile`]), as a `pulp` kernel.
struct RowSums<'a, T> {
    g: &'a [T],
    delta: &'a [T],
    ri: usize,
    rj: usize,
    diag: bool,
    rows: &'a mut Sums,
    cols: &'a mut Sums,
}

impl<T: Element> pulp::WithSimd for RowSums<'_, T> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        let RowSums {
            g,
            delta,
            ri,
            rj,
            diag,
            rows,
            cols,
        } = self;
        for i in 0..ri {
            let erow = &g[i * rj..(i + 1) * rj];
            let drow = &delta[i * rj..(i + 1) * rj];
            let mut a0 = [0.0f64; 8];
            let mut a1 = [0.0f64; 8];
            let mut a2 = [0.0f64; 8];
            let full = rj / 8 * 8;
            for (jc, (ec, dc)) in erow[..full]
                .chunks_exact(8)
                .zip(drow[..full].chunks_exact(8))
                .enumerate()
            {
                for l in 0..8 {
                    let e = ec[l].to_f64();
                    let ed = e * dc[l].to_f64();
                    a0[l] += e;
                    a1[l] += e * e;
                    a2[l] += ed;
                    if !diag {
                        let j = jc * 8 + l;
                        cols.s0[j] += e;
                        cols.s1[j] += e * e;
                        cols.s2[j] += ed;
                    }
                }
            }
            let (mut r0, mut r1, mut r2) = (0.0, 0.0, 0.0);
            for l in 0..8 {
                r0 += a0[l];
                r1 += a1[l];
                r2 += a2[l];
            }
            for j in full..rj {
                let e = erow[j].to_f64();
                let ed = e * drow[j].to_f64();
                r0 += e;
                r1 += e * e;
                r2 += ed;
                if !diag {
                    cols.s0[j] += e;
                    cols.s1[j] += e * e;
                    cols.s2[j] += ed;
                }
            }
            rows.s0[i] += r0;
            rows.s1[i] += r1;
            rows.s2[i] += r2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounds_cover_every_pair_once_and_are_disjoint() {
        for nb in 1..=13 {
            let rounds = symmetric_rounds(nb);
            let mut seen = vec![vec![0u32; nb]; nb];
            for round in &rounds {
                let mut used = vec![false; nb];
                for &(a, b) in round {
                    assert!(a <= b);
                    seen[a][b] += 1;
                    assert!(
                        !used[a] && (a == b || !used[b]),
                        "nb {nb}: block reused in a round"
                    );
                    used[a] = true;
                    used[b] = true;
                }
            }
            for (a, row) in seen.iter().enumerate() {
                for (b, &c) in row.iter().enumerate() {
                    assert_eq!(
                        c,
                        u32::from(a <= b),
                        "nb {nb}: pair ({a}, {b}) seen {c} times"
                    );
                }
            }
        }
    }

    #[test]
    fn block_starts_cover_the_rows() {
        assert_eq!(block_starts(10, 4), vec![0, 4, 8, 10]);
        assert_eq!(block_starts(8, 4), vec![0, 4, 8]);
    }
}
