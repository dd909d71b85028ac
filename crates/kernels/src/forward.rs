//! The forward pass of the layer in row blocks, without any n × n matrix.
//!
//! With y_i = x_i/|x_i|, c = mean y, z_i = y_i − c (see [`mod@crate::prepare`]):
//!
//! * δ_ij = 1 − ⟨y_i, y_j⟩ = (|z_i|² + |z_j|²)/2 − ⟨z_i, z_j⟩ (clamped at 0, δ_ii = 0),
//! * E_ij = exp(−β δ_ij) (symmetric; E_ii = 1), Z_i = 1 + S_i with S_i = Σ_{j≠i} E_ij,
//!   A_ij = E_ij / Z_i,
//! * m_i = Σ_j A_ij y_j = c + (Σ_j E_ij z_j)/Z_i (the weights sum to 1, so the shift by c is
//!   exact), x'_i = m_i + α x_i, y'_i = x'_i/|x'_i|.
//!
//! The Gram tiles ⟨z_I, z_J⟩ come from one GEMM per tile pair I ≤ J (half of Z Zᵀ), the
//! exponentials from the vectorised exp, and U = E Z from two GEMMs per tile (E_IJ Z_J for rows I
//! and E_IJᵀ Z_I for rows J). The row statistics Z_i, Σ_j E_ij² and Σ_j E_ij δ_ij are accumulated
//! on the way, which is all the attention observables need:
//!
//! * self weight A_ii = 1/Z_i; support 1/Σ_j A_ij² = Z_i²/Σ_j E_ij²;
//! * entropy −Σ_j A_ij ln A_ij = ln(1 + S_i) + β Σ_j A_ij δ_ij (since ln A_ij = −βδ_ij − ln Z_i;
//!   both terms are ≥ 0, so nothing cancels; ln(1 + S_i) is taken with `ln_1p`, which keeps the
//!   digits when the attention is nearly the identity; weights that underflow contribute 0).
//!
//! Work: n²d (Gram, half) + 2n²d (E Z) flops and n²/2 exponentials; memory: the n × d matrices z,
//! U and x' plus two b × b tiles per thread (b the block size), and, when they take at most
//! [`DELTA_CACHE_MAX`] bytes, the δ tiles I ≤ J (about n²/2 entries), which the observables read
//! instead of recomputing the input Gram matrix (n²d flops saved, the same numbers: see
//! [`Forward::delta_tiles`]).

use crate::element::{Element, Mat, Op, gemm};
use crate::error::KernelError;
use crate::prepare::{Options, Params, Prepared, prepare};
use crate::tiles::{Sums, block_starts, score_tile, score_tile_from_delta, symmetric_rounds};
use ndarray::ArrayView2;
use rayon::prelude::*;
use std::sync::{Arc, Mutex};

/// Everything the forward pass computes, in O(n·d) memory.
#[derive(Debug, Clone)]
pub struct Forward<T> {
    /// The prepared (normalised, centred) inputs.
    pub prep: Prepared<T>,
    /// β and α.
    pub params: Params,
    /// Rows per block used.
    pub block: usize,
    /// x'_i, row-major n × d.
    pub x_out: Vec<T>,
    /// c' = mean of the y'_i.
    pub out_center: Vec<f64>,
    /// z'_i = y'_i − c', row-major n × d.
    pub z_out: Vec<T>,
    /// |z'_i|².
    pub zn_out: Vec<f64>,
    /// S_i = Σ_{j≠i} E_ij; Z_i = 1 + S_i (E_ii = 1, so A_ii = 1/(1 + S_i)).
    pub row_sum: Vec<f64>,
    /// Σ_{j≠i} E_ij² (Σ_j E_ij² = 1 + this).
    pub row_sq: Vec<f64>,
    /// Σ_j E_ij δ_ij (δ_ii = 0).
    pub row_delta: Vec<f64>,
    /// The tiles δ_IJ = max(0, (|z_i|² + |z_j|²)/2 − ⟨z_i, z_j⟩) in T for I ≤ J (tile I·nb + J,
    /// row-major ri × rj; empty below the diagonal), kept when they fit in [`DELTA_CACHE_MAX`]
    /// bytes, else `None`. 2δ_ij is exactly the GEMM form |z_i|² + |z_j|² − 2⟨z_i, z_j⟩ that
    /// the observables would recompute (halving and doubling are exact in binary; a negative value,
    /// clamped to 0 here, is recomputed from the explicit difference there in both cases), so
    /// reading them changes no result. [`Forward::release_delta_tiles`] frees them; shared with
    /// the [`Scores`] taken from this pass.
    pub delta_tiles: Option<Arc<Vec<Vec<T>>>>,
}

/// What a forward pass computes before β enters: the prepared tokens and the δ tiles I ≤ J
/// (see [`Forward::delta_tiles`]). [`forward_with_scores`] runs further passes on the same
/// tokens at other β and α from it without forming the input Gram matrix again (n²d flops
/// saved per pass), with the same numbers as [`forward`].
#[derive(Debug, Clone)]
pub struct Scores<T> {
    prep: Prepared<T>,
    block: usize,
    tiles: Arc<Vec<Vec<T>>>,
}

impl<T> Scores<T> {
    /// The prepared tokens (n × d).
    pub fn prepared(&self) -> &Prepared<T> {
        &self.prep
    }
}

/// The most bytes the forward pass keeps for its δ tiles (256 MiB: n ≤ 8192 in f64, about 11500
/// in f32); larger runs recompute the input Gram tiles in the observables instead.
pub const DELTA_CACHE_MAX: u64 = 256 << 20;

/// The bytes of the δ tiles I ≤ J of n tokens in blocks of `bs` rows, `elem` bytes each.
pub fn delta_cache_bytes(n: usize, bs: usize, elem: usize) -> u64 {
    let (n, b) = (n as u64, bs.clamp(1, n.max(1)) as u64);
    // The upper tiles: n²/2 entries plus half of the diagonal tiles.
    (n.saturating_mul(n) / 2)
        .saturating_add(n.saturating_mul(b) / 2)
        .saturating_mul(elem as u64)
}

impl<T: Element> Forward<T> {
    /// Frees the δ tiles (the observables then recompute the input Gram tiles).
    pub fn release_delta_tiles(&mut self) {
        self.delta_tiles = None;
    }

    /// The prepared tokens and δ tiles of this pass for [`forward_with_scores`]; `None` when the
    /// tiles were not kept (more than [`DELTA_CACHE_MAX`] bytes) or were released.
    pub fn scores(&self) -> Option<Scores<T>> {
        Some(Scores {
            prep: self.prep.clone(),
            block: self.block,
            tiles: Arc::clone(self.delta_tiles.as_ref()?),
        })
    }

    /// y'_{ia} in f64.
    pub fn y_out(&self, i: usize, a: usize) -> f64 {
        self.z_out[i * self.prep.d + a].to_f64() + self.out_center[a]
    }
}

struct BlockAcc<T> {
    u: Vec<T>,
    sums: Sums,
}

/// U = E Z and the row sums of E, accumulated over the symmetric tile schedule.
/// With `keep_delta`, also returns the δ tiles I ≤ J (slot I·nb + J). With `cached` (the δ
/// tiles of an earlier pass on the same tokens, same blocks), the Gram tiles are not formed and
/// the exponents are read from those tiles instead (the same numbers).
pub(crate) fn accumulate_eu<T: Element>(
    prep: &Prepared<T>,
    beta: f64,
    bs: usize,
    keep_delta: bool,
    cached: Option<&[Vec<T>]>,
) -> (Vec<T>, Sums, Option<Vec<Vec<T>>>) {
    let keep_delta = keep_delta && cached.is_none();
    let (n, d) = (prep.n, prep.d);
    let starts = block_starts(n, bs);
    let nb = starts.len() - 1;
    let accs: Vec<Mutex<BlockAcc<T>>> = (0..nb)
        .map(|b| {
            let rows = starts[b + 1] - starts[b];
            Mutex::new(BlockAcc {
                u: vec![T::ZERO; rows * d],
                sums: Sums::zeros(rows),
            })
        })
        .collect();
    let z = &prep.z;
    let slots: Vec<Mutex<Vec<T>>> = if keep_delta {
        (0..nb * nb).map(|_| Mutex::new(Vec::new())).collect()
    } else {
        Vec::new()
    };
    for round in symmetric_rounds(nb) {
        round.par_iter().for_each_init(
            || (vec![T::ZERO; bs * bs], vec![T::ZERO; bs * bs]),
            |(g, delta), &(bi, bj)| {
                let (i0, i1, j0, j1) = (starts[bi], starts[bi + 1], starts[bj], starts[bj + 1]);
                let (ri, rj) = (i1 - i0, j1 - j0);
                let zi = Mat::new(&z[i0 * d..i1 * d], ri, d, d);
                let zj = Mat::new(&z[j0 * d..j1 * d], rj, d, d);
                let diag = bi == bj;
                let mut rows = Sums::zeros(ri);
                let mut cols = Sums::zeros(if diag { 0 } else { rj });
                if let Some(tiles) = cached {
                    let tile = &tiles[bi * nb + bj];
                    score_tile_from_delta(g, tile, ri, rj, beta, diag, &mut rows, &mut cols);
                } else {
                    gemm(g, rj, false, zi, Op::N, zj, Op::T);
                    score_tile(
                        g,
                        delta,
                        ri,
                        rj,
                        &prep.zn[i0..i1],
                        &prep.zn[j0..j1],
                        beta,
                        diag,
                        &mut rows,
                        &mut cols,
                    );
                }
                if keep_delta {
                    *slots[bi * nb + bj]
                        .lock()
                        .expect("no panic while holding the lock") = delta[..ri * rj].to_vec();
                }
                let e = Mat::new(&g[..ri * rj], ri, rj, rj);
                {
                    let mut acc = accs[bi].lock().expect("no panic while holding the lock");
                    gemm(&mut acc.u, d, true, e, Op::N, zj, Op::N);
                    acc.sums.add(&rows);
                }
                if !diag {
                    let mut acc = accs[bj].lock().expect("no panic while holding the lock");
                    gemm(&mut acc.u, d, true, e, Op::T, zi, Op::N);
                    acc.sums.add(&cols);
                }
            },
        );
    }
    let mut u = Vec::with_capacity(n * d);
    let mut sums = Sums::default();
    for acc in accs {
        let acc = acc.into_inner().expect("no panic while holding the lock");
        u.extend_from_slice(&acc.u);
        sums.s0.extend_from_slice(&acc.sums.s0);
        sums.s1.extend_from_slice(&acc.sums.s1);
        sums.s2.extend_from_slice(&acc.sums.s2);
    }
    let tiles = keep_delta.then(|| {
        slots
            .into_iter()
            .map(|m| m.into_inner().expect("no panic while holding the lock"))
            .collect()
    });
    (u, sums, tiles)
}

/// The forward pass (see the module docs).
///
/// # Errors
///
/// What [`prepare`] reports; [`KernelError::ZeroOutput`] if some x'_i = 0;
/// [`KernelError::NonFiniteResult`] if x' overflows (α|x_i| near the largest finite value).
pub fn forward<T: Element>(
    x: ArrayView2<'_, T>,
    params: &Params,
    opts: &Options,
) -> Result<Forward<T>, KernelError> {
    let prep = prepare(x, params)?;
    let bs = opts.block(prep.n);
    let keep = delta_cache_bytes(prep.n, bs, std::mem::size_of::<T>()) <= DELTA_CACHE_MAX;
    let (u, sums, delta_tiles) = accumulate_eu(&prep, params.beta, bs, keep, None);
    outputs(x, prep, params, bs, u, sums, delta_tiles.map(Arc::new))
}

/// The forward pass on the tokens `scores` came from (`x`, n × d), at other β and α: the
/// prepared tokens and δ tiles of that pass are reused, so the input Gram matrix is not formed;
/// every number equals that of [`forward`] with the block size of that pass.
///
/// # Errors
///
/// [`KernelError::BadShape`] unless `x` has the shape of those tokens; a bad `params`; as
/// [`forward`] for the outputs.
pub fn forward_with_scores<T: Element>(
    x: ArrayView2<'_, T>,
    scores: &Scores<T>,
    params: &Params,
) -> Result<Forward<T>, KernelError> {
    let (n, d) = x.dim();
    if (n, d) != (scores.prep.n, scores.prep.d) {
        return Err(KernelError::BadShape { n, d });
    }
    params.validate()?;
    let prep = scores.prep.clone();
    let (u, sums, _) = accumulate_eu(&prep, params.beta, scores.block, false, Some(&scores.tiles));
    outputs(
        x,
        prep,
        params,
        scores.block,
        u,
        sums,
        Some(Arc::clone(&scores.tiles)),
    )
}

/// x'_i, y'_i and the output frame from U = E Z and the row sums (the end of [`forward`]).
fn outputs<T: Element>(
    x: ArrayView2<'_, T>,
    prep: Prepared<T>,
    params: &Params,
    bs: usize,
    u: Vec<T>,
    sums: Sums,
    delta_tiles: Option<Arc<Vec<Vec<T>>>>,
) -> Result<Forward<T>, KernelError> {
    let (n, d) = (prep.n, prep.d);

    // x'_i = c + U_i/Z_i + α x_i and y'_i = x'_i/|x'_i|, row by row (in parallel; each row is
    // computed independently, so the result does not depend on the thread count).
    let alpha = params.alpha;
    let mut x_out = crate::memory::try_zeros::<T>(n * d, "the outputs x' (n x d)")?;
    let mut y_out = crate::memory::try_zeros::<f64>(n * d, "the output directions y' (n x d)")?;
    let bad: Vec<Option<KernelError>> = x_out
        .par_chunks_mut(d)
        .zip(y_out.par_chunks_mut(d))
        .enumerate()
        .map(|(i, (xo, yo))| {
            let inv = 1.0 / (1.0 + sums.s0[i]);
            for a in 0..d {
                let v = prep.center[a] + u[i * d + a].to_f64() * inv + alpha * x[[i, a]].to_f64();
                yo[a] = v;
                xo[a] = T::from_f64(v);
            }
            if yo.iter().any(|v| !v.is_finite()) || xo.iter().any(|v| !v.to_f64().is_finite()) {
                return Some(KernelError::NonFiniteResult { what: "output x'" });
            }
            // The direction y'_i is exact even where |x'_i| itself overflows.
            if crate::prepare::normalise_in_place(yo) == 0.0 {
                return Some(KernelError::ZeroOutput { row: i });
            }
            None
        })
        .collect();
    if let Some(err) = bad.into_iter().flatten().next() {
        return Err(err);
    }
    let mut out_center = vec![0.0f64; d];
    for i in 0..n {
        for a in 0..d {
            out_center[a] += y_out[i * d + a];
        }
    }
    for c in &mut out_center {
        *c /= n as f64;
    }
    let (z_out, zn_out) = crate::prepare::centre_rows::<T>(&y_out, &out_center, d)?;
    Ok(Forward {
        prep,
        params: *params,
        block: bs,
        x_out,
        out_center,
        z_out,
        zn_out,
        row_sum: sums.s0,
        row_sq: sums.s1,
        row_delta: sums.s2,
        delta_tiles,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observables;
    use crate::testutil::tokens;

    fn same_bits(a: &[f64], b: &[f64]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    /// A pass from the scores of a pass at another β (and α) equals a fresh pass bit for bit:
    /// outputs, row sums and the observables, on random, near-collapsed and near-duplicate
    /// tokens, uneven blocks, f64 and f32.
    #[test]
    fn a_pass_from_scores_equals_a_fresh_pass() {
        for (kind, n, d, block) in [
            (0u8, 150usize, 20usize, Some(32usize)),
            (1, 97, 8, Some(40)),
            (2, 64, 5, None),
            (3, 30, 30, Some(7)),
        ] {
            let x = tokens(kind, n, d, 3, 1e-6);
            let o = Options { block };
            let first = forward(x.view(), &Params::new(2.0, 0.0), &o).unwrap();
            let scores = first.scores().expect("small passes keep their tiles");
            for (beta, alpha) in [(0.5, 0.0), (7.0, 0.3), (40.0, 0.0)] {
                let p = Params::new(beta, alpha);
                let fresh = forward(x.view(), &p, &o).unwrap();
                let again = forward_with_scores(x.view(), &scores, &p).unwrap();
                assert!(
                    same_bits(&again.x_out, &fresh.x_out),
                    "kind {kind}, beta {beta}"
                );
                assert!(same_bits(&again.row_sum, &fresh.row_sum));
                assert!(same_bits(&again.row_sq, &fresh.row_sq));
                assert!(same_bits(&again.row_delta, &fresh.row_delta));
                let (a, f) = (observables(&again).unwrap(), observables(&fresh).unwrap());
                assert_eq!(a.lambda.to_bits(), f.lambda.to_bits());
                assert_eq!(a.lambda_angle.to_bits(), f.lambda_angle.to_bits());
            }
            let x32 = x.mapv(|v| v as f32);
            let first = forward(x32.view(), &Params::new(2.0, 0.0), &o).unwrap();
            let p = Params::new(9.0, 0.1);
            let fresh = forward(x32.view(), &p, &o).unwrap();
            let again = forward_with_scores(x32.view(), &first.scores().unwrap(), &p).unwrap();
            assert!(
                again
                    .x_out
                    .iter()
                    .zip(&fresh.x_out)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
    }

    #[test]
    fn a_pass_from_scores_refuses_other_shapes_and_bad_parameters() {
        let x = tokens(0, 20, 4, 1, 0.0);
        let first = forward(x.view(), &Params::new(1.0, 0.0), &Options::default()).unwrap();
        let scores = first.scores().unwrap();
        let other = tokens(0, 21, 4, 1, 0.0);
        assert!(matches!(
            forward_with_scores(other.view(), &scores, &Params::new(1.0, 0.0)),
            Err(KernelError::BadShape { n: 21, d: 4 })
        ));
        assert!(forward_with_scores(x.view(), &scores, &Params::new(f64::NAN, 0.0)).is_err());
        let mut released = first.clone();
        released.release_delta_tiles();
        assert!(released.scores().is_none());
    }
}
