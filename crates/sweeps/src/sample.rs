//! The Gaussian almost-simplex pipeline: draw the tokens of a [`SampleKey`], run one attention
//! layer through the fast kernels (`critscale-kernels`, f64) and measure it.
//!
//! **Tokens** (THEORY §2): x_i = √ρ z₀ + √(1 − ρ) z_i, z₀, z_1, …, z_n i.i.d. N(0, I_d/d), drawn
//! by [`SampleKey::draw`] (the seed policy of the crate docs). A [`Configuration`] holds one draw
//! and what does not depend on γ: the mean input cosine ρ̂, the variance and third cumulant of
//! the cosines, q₁ = min |x_i|² and mean_i 1/|x_i|².
//!
//! **Layer** (THEORY §1): y_i = x_i/|x_i|, scores β⟨y_i, y_j⟩ with **β = γ ln n**, row softmax A,
//! x'_i = Σ_j A_ij y_j (α = 0, one layer), y'_i = x'_i/|x'_i|. [`Configuration::layer`] gives a
//! [`Sample`]: the kernels' observables (THEORY §3: λ, λ_angle, cosines, self weight, support,
//! entropy), the row statistics the theorem checks read (max_i Σ_k A_ik², mean_i (1 − A_ii),
//! |y'_i − y_i|), and, when asked, the exact η = ‖∂X'/∂X‖²_F/(nd) (`eta_exact`, no estimator).
//!
//! **Memo.** [`sample`] caches samples by (key, γ rule) in process-wide [`Memo`]s owned by this
//! module (the forward pass and η apart): the theorem checks T2, T4 and T5 ask for the same samples, and the
//! test suite reruns every check perturbed. A sample depends only on its key and γ, so the cache
//! changes run times, never results.

use crate::memo::Memo;
use crate::seed::SampleKey;
use crate::{Error, Result};
use critscale_asymptotics::threshold;
use critscale_kernels::{
    Forward, KernelError, Options, Params, Scores, eta_exact, eta_exact_lean, forward,
    forward_with_scores, observables,
};
use ndarray::{Array2, ArrayView2};
use std::sync::OnceLock;

/// The input cosines' variance and third cumulant are taken over the pairs among this many
/// tokens (the first ones): enough for a 1e-3 relative estimate at the report's d, and O(1) in n.
pub const MOMENT_TOKENS: usize = 256;

/// From this n on, η is computed holding one n × n matrix instead of three
/// (`critscale_kernels::eta_exact_lean`): 3 × 8n² bytes would be 384 MiB at n = 4096 and 1.5 GiB
/// at n = 8192 (T4's largest samples); the lean form costs ~5–9% more time at these sizes (its
/// 2n²d more flops) at d = 512. Below, it is used where d is small against n ([`lean_eta`]).
pub const LEAN_ETA_N: usize = 4096;

/// Whether [`Configuration::eta`] takes the lean form (the same numbers bit for bit, one n × n
/// matrix instead of three): from n = [`LEAN_ETA_N`] on for memory, and where 4d < n because it
/// is then also faster: its extra 2n²d flops are small against the n³ term, and it allocates and
/// fills one n × n matrix instead of three (measured, one thread, f64: n = 1024, d = 2 / 32 / 128:
/// 14 / 33 / 47 ms against 22 / 43 / 56 ms; n = 2048, d = 32: 136 against 154 ms; at
/// d ≥ n/4, e.g. n = 2048, d = 512: 520 against 483 ms, the full form is faster).
pub fn lean_eta(n: usize, d: usize) -> bool {
    n >= LEAN_ETA_N || 4 * d < n
}

/// How γ is chosen for a sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Gamma {
    /// A fixed γ.
    Fixed(f64),
    /// γ = factor/(1 − ρ̂), ρ̂ the sample's mean input cosine (its own critical scaling).
    Critical(f64),
}

/// One attention layer at one γ on one drawn configuration: everything the callers measure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// The sample's key (its n, d, nominal ρ and replicate).
    pub key: SampleKey,
    /// The seed of its ChaCha stream ([`SampleKey::stream_seed`]).
    pub seed: u64,
    /// γ of the layer (β = γ ln n).
    pub gamma: f64,
    /// min_{i≠j} ⟨y_i, y_j⟩, the ρ₁ of Assumption 2 (THEORY §2).
    pub cos_in_min: f64,
    /// Mean input cosine over the pairs, as the kernels compute it.
    pub cos_in_mean: f64,
    /// max_{i≠j} ⟨y_i, y_j⟩, the ρ₂ of Assumption 2.
    pub cos_in_max: f64,
    /// ρ̂ = mean_{i≠j} ⟨y_i, y_j⟩ = (n|ȳ|² − 1)/(n − 1), from the normalised mean (available
    /// before the layer runs, for [`Gamma::Critical`]).
    pub rho_hat: f64,
    /// Variance of ⟨y_i, y_j⟩ over the pairs among the first [`MOMENT_TOKENS`] tokens.
    pub var_cos: f64,
    /// Their third central moment (the third cumulant).
    pub k3_cos: f64,
    /// q₁ = min_i |x_i|².
    pub q1: f64,
    /// mean_i 1/|x_i|².
    pub mean_inv_q: f64,
    /// The identity-phase limit of η for these tokens (T4): (1 − 1/d)·mean_i 1/|x_i|².
    pub eta_identity: f64,
    /// λ = mean (1 − ⟨y'_i, y'_j⟩)/(1 − ⟨y_i, y_j⟩).
    pub lambda: f64,
    /// λ_angle = mean θ'_ij/θ_ij.
    pub lambda_angle: f64,
    /// min_{i≠j} ⟨y'_i, y'_j⟩.
    pub cos_out_min: f64,
    /// Mean output cosine.
    pub cos_out_mean: f64,
    /// Mean self weight A_ii.
    pub self_weight: f64,
    /// Mean effective support 1/Σ_j A_ij².
    pub support: f64,
    /// Mean row entropy.
    pub entropy: f64,
    /// max_i Σ_k A_ik².
    pub max_sq: f64,
    /// mean_i (1 − A_ii).
    pub mean_off: f64,
    /// max_i |y'_i − y_i|.
    pub max_dev: f64,
    /// mean_i |y'_i − y_i|.
    pub mean_dev: f64,
    /// Exact η, when asked for.
    pub eta: Option<f64>,
}

/// What a draw gives before any layer runs (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Inputs {
    rho_hat: f64,
    var_cos: f64,
    k3_cos: f64,
    q1: f64,
    mean_inv_q: f64,
}

/// One drawn Gaussian almost-simplex (n × d tokens) and its γ-free statistics; every layer and
/// crossing of one key runs on the same tokens.
#[derive(Debug, Clone)]
pub struct Configuration {
    key: SampleKey,
    x: Array2<f64>,
    inputs: Inputs,
    /// [`span_coordinates`] of the tokens when d > n, formed at the first layer that needs them.
    span: OnceLock<Option<Array2<f64>>>,
    /// The γ-free part of the first forward pass (prepared tokens, δ tiles), kept when it takes
    /// at most [`KEEP_SCORES_MAX`] bytes: the later passes of a γ sweep or a bisection start
    /// from it instead of forming the Gram matrix again (the same numbers).
    scores: OnceLock<Scores<f64>>,
}

/// The most bytes of δ tiles a [`Configuration`] keeps between passes (32 MiB: n ≤ 2048 in
/// f64), so that holding many configurations at large n costs no more memory than before.
pub const KEEP_SCORES_MAX: u64 = 32 << 20;

impl Configuration {
    /// Draws the tokens of `key` and measures the γ-free statistics.
    ///
    /// # Errors
    /// [`Error::BadInput`] for a bad key (n < 2, d < 1, ρ outside [0, 1)).
    pub fn draw(key: &SampleKey) -> Result<Configuration> {
        let x = key.draw()?;
        let inputs = measure_inputs(x.view());
        Ok(Configuration {
            key: *key,
            x,
            inputs,
            span: OnceLock::new(),
            scores: OnceLock::new(),
        })
    }

    /// A configuration of tokens drawn elsewhere (e.g. [`crate::clusters`]) under `key`, with
    /// the same γ-free statistics as [`Configuration::draw`].
    ///
    /// # Errors
    /// [`Error::BadInput`] unless `x` has n = `key.n` rows and d = `key.d` columns.
    pub fn from_tokens(key: &SampleKey, x: Array2<f64>) -> Result<Configuration> {
        if x.dim() != (key.n, key.d) {
            return Err(Error::BadInput {
                what: format!("tokens of sample {key}"),
                reason: format!("shape {:?}, expected ({}, {})", x.dim(), key.n, key.d),
            });
        }
        let inputs = measure_inputs(x.view());
        Ok(Configuration {
            key: *key,
            x,
            inputs,
            span: OnceLock::new(),
            scores: OnceLock::new(),
        })
    }

    /// The key the tokens were drawn for.
    pub fn key(&self) -> &SampleKey {
        &self.key
    }

    /// The tokens, n × d.
    pub fn tokens(&self) -> ArrayView2<'_, f64> {
        self.x.view()
    }

    /// ρ̂, the mean input cosine.
    pub fn rho_hat(&self) -> f64 {
        self.inputs.rho_hat
    }

    /// The γ of `rule` for these tokens.
    pub fn gamma(&self, rule: Gamma) -> f64 {
        match rule {
            Gamma::Fixed(g) => g,
            Gamma::Critical(f) => f * critscale_simplex::gamma_c(&self.inputs.rho_hat),
        }
    }

    /// One layer at γ: the kernels' observables, the row statistics and (if `with_eta`) the
    /// exact η.
    ///
    /// # Errors
    /// [`Error::Kernel`], naming the sample and γ, if the kernels fail (e.g. γ not finite).
    pub fn layer(&self, gamma: f64, with_eta: bool) -> Result<Sample> {
        let (n, d) = (self.key.n, self.key.d);
        let at = |e: critscale_kernels::KernelError| Error::Kernel {
            what: format!("sample {} at gamma = {gamma}", self.key),
            message: e.to_string(),
        };
        let params = Params::from_gamma(gamma, n, 0.0);
        let fwd = self.forward(&params).map_err(at)?;
        let obs = observables(&fwd).map_err(at)?;
        let nf = n as f64;
        let (mut max_sq, mut mean_off, mut max_dev, mut mean_dev) = (0.0f64, 0.0, 0.0f64, 0.0);
        for i in 0..n {
            // row_sum and row_sq exclude the diagonal weight, which is 1 before normalising.
            let z = 1.0 + fwd.row_sum[i];
            max_sq = max_sq.max((1.0 + fwd.row_sq[i]) / (z * z));
            mean_off += fwd.row_sum[i] / z / nf;
            let dev = (0..fwd.prep.d)
                .map(|a| (fwd.y_out(i, a) - fwd.prep.y(i, a)).powi(2))
                .sum::<f64>()
                .sqrt();
            max_dev = max_dev.max(dev);
            mean_dev += dev / nf;
        }
        drop(fwd);
        let eta = if with_eta {
            Some(self.eta(gamma)?)
        } else {
            None
        };
        let inputs = self.inputs;
        Ok(Sample {
            key: self.key,
            seed: self.key.stream_seed(),
            gamma,
            cos_in_min: obs.cos_in_min,
            cos_in_mean: obs.cos_in_mean,
            cos_in_max: obs.cos_in_max,
            rho_hat: inputs.rho_hat,
            var_cos: inputs.var_cos,
            k3_cos: inputs.k3_cos,
            q1: inputs.q1,
            mean_inv_q: inputs.mean_inv_q,
            eta_identity: (1.0 - 1.0 / d as f64) * inputs.mean_inv_q,
            lambda: obs.lambda,
            lambda_angle: obs.lambda_angle,
            cos_out_min: obs.cos_out_min,
            cos_out_mean: obs.cos_out_mean,
            self_weight: obs.self_weight,
            support: obs.support,
            entropy: obs.entropy,
            max_sq,
            mean_off,
            max_dev,
            mean_dev,
            eta,
        })
    }

    /// The exact η = ‖∂X'/∂X‖²_F/(nd) of one layer at γ on these tokens (what
    /// [`Configuration::layer`] reports with `with_eta`): by `critscale_kernels::eta_exact_lean`
    /// (the same sums, one n × n matrix in memory instead of three) where [`lean_eta`] says so,
    /// else by `critscale_kernels::eta_exact`.
    ///
    /// # Errors
    /// [`Error::Kernel`], naming the sample and γ, if the kernels fail or refuse.
    pub fn eta(&self, gamma: f64) -> Result<f64> {
        let params = Params::from_gamma(gamma, self.key.n, 0.0);
        let opts = Options::default();
        let eta = if lean_eta(self.key.n, self.key.d) {
            eta_exact_lean(self.x.view(), &params, &opts)
        } else {
            eta_exact(self.x.view(), &params, &opts)
        };
        eta.map_err(|e| Error::Kernel {
            what: format!("sample {} at gamma = {gamma}", self.key),
            message: e.to_string(),
        })
    }

    /// The forward pass on [`Configuration::layer_tokens`] at `params`: from the kept
    /// [`Scores`] of an earlier pass when there are some, else a full pass (whose scores are
    /// kept when small enough). The numbers are those of a full pass either way.
    fn forward(&self, params: &Params) -> std::result::Result<Forward<f64>, KernelError> {
        let x = self.layer_tokens();
        if let Some(scores) = self.scores.get() {
            return forward_with_scores(x, scores, params);
        }
        let fwd = forward(x, params, &Options::default())?;
        let (n, bs) = (fwd.prep.n, fwd.block);
        if critscale_kernels::forward::delta_cache_bytes(n, bs, std::mem::size_of::<f64>())
            <= KEEP_SCORES_MAX
            && let Some(scores) = fwd.scores()
        {
            // Another thread may have kept its own (the same numbers): either is fine.
            let _ = self.scores.set(scores);
        }
        Ok(fwd)
    }

    /// The tokens the forward pass runs on: when d > n, their [`span_coordinates`] (n × n,
    /// formed once per configuration), else (or if those cannot be formed) the tokens. Every
    /// observable of the forward pass (λ, λ_angle, the cosines, the weights, |y'_i − y_i|)
    /// depends on the tokens only through their inner products, so it is the same up to
    /// rounding, and a pass costs what it costs at d = n (T2's threshold at n = 1024,
    /// d = 8192: 8 times less). η is always computed from the tokens themselves.
    fn layer_tokens(&self) -> ArrayView2<'_, f64> {
        let (n, d) = (self.key.n, self.key.d);
        if d <= n {
            return self.x.view();
        }
        match self.span.get_or_init(|| span_coordinates(self.x.view())) {
            Some(c) => c.view(),
            None => self.x.view(),
        }
    }

    /// Runs a threshold search (`critscale_asymptotics::threshold`) on λ(γ) of these tokens
    /// (the tokens of every forward pass: n span coordinates when d > n); `what` names the
    /// search in errors.
    ///
    /// # Errors
    /// The first kernel error of a λ evaluation, else [`Error::Crossing`] from the search.
    pub fn search_lambda<R>(
        &self,
        what: &str,
        search: impl FnOnce(&mut dyn FnMut(f64) -> f64) -> critscale_asymptotics::Result<R>,
    ) -> Result<R> {
        let n = self.key.n;
        // A failed pass is NaN to the search (which stops on it); its error is kept to report.
        let mut failed = None;
        let found = search(&mut |gamma| {
            let at = |e: critscale_kernels::KernelError| Error::Kernel {
                what: format!("sample {} at gamma = {gamma}", self.key),
                message: e.to_string(),
            };
            let params = Params::from_gamma(gamma, n, 0.0);
            let lambda = self
                .forward(&params)
                .and_then(|fwd| observables(&fwd))
                .map(|obs| obs.lambda)
                .map_err(at);
            match lambda {
                Ok(l) => l,
                Err(e) => {
                    failed.get_or_insert(e);
                    f64::NAN
                }
            }
        });
        if let Some(e) = failed {
            return Err(e);
        }
        found.map_err(|source| Error::Crossing {
            what: format!("{what} on sample {}", self.key),
            source,
        })
    }

    /// The γ in [lo, hi] where λ = `level` on these tokens, bisected (one bracket, λ increasing)
    /// to a bracket of width ≤ `xtol`.
    ///
    /// # Errors
    /// As [`Configuration::search_lambda`]; [`Error::Crossing`] if λ − `level` has the same
    /// sign at both ends.
    pub fn lambda_crossing(
        &self,
        level: f64,
        lo: f64,
        hi: f64,
        xtol: f64,
    ) -> Result<threshold::Crossing> {
        self.search_lambda(&format!("lambda = {level}"), |f| {
            threshold::bisect(f, level, lo, hi, xtol)
        })
    }
}

/// Coordinates of the n tokens in an n-dimensional basis of their span: the rows of the
/// Cholesky factor L of their Gram matrix X Xᵀ = L Lᵀ (n × n), which have the same inner
/// products (hence norms and cosines) as the rows of X up to rounding (backward stable for a
/// positive definite Gram matrix: |L Lᵀ − X Xᵀ| ≤ O(n·u)·|x_i||x_j|). Everything the layer
/// computes *except η* depends on the tokens only through their inner products (η counts the d
/// directions of the Jacobian, so it is never computed from these). `None` if the Gram matrix
/// is not numerically positive definite (d < n, or degenerate tokens).
pub fn span_coordinates(x: ArrayView2<'_, f64>) -> Option<Array2<f64>> {
    use critscale_asymptotics::nalgebra::DMatrix;
    use critscale_kernels::element::{Mat, Op, gemm};
    use rayon::prelude::*;
    let (n, d) = x.dim();
    let x = x.as_standard_layout();
    let data = x.as_slice()?;
    // G = X Xᵀ by row blocks (in parallel; each entry is one fixed GEMM, so the result does not
    // depend on the thread count).
    const ROWS: usize = 64;
    let mut g = vec![0.0f64; n * n];
    g.par_chunks_mut(ROWS * n).enumerate().for_each(|(b, gb)| {
        let i0 = b * ROWS;
        let rows = gb.len() / n;
        gemm(
            gb,
            n,
            false,
            Mat::new(&data[i0 * d..(i0 + rows) * d], rows, d, d),
            Op::N,
            Mat::new(data, n, d, d),
            Op::T,
        );
    });
    let l = DMatrix::from_row_slice(n, n, &g).cholesky()?.l();
    let out = Array2::from_shape_fn((n, n), |(i, j)| l[(i, j)]);
    out.iter().all(|v| v.is_finite()).then_some(out)
}

fn measure_inputs(x: ArrayView2<'_, f64>) -> Inputs {
    let (n, d) = x.dim();
    let nf = n as f64;
    let mut ybar = vec![0.0f64; d];
    let mut inv_q = Vec::with_capacity(n);
    let mut y = Array2::<f64>::zeros((n.min(MOMENT_TOKENS), d));
    for (i, row) in x.rows().into_iter().enumerate() {
        let r2: f64 = row.iter().map(|v| v * v).sum();
        inv_q.push(1.0 / r2);
        let r = r2.sqrt();
        for (a, v) in row.iter().enumerate() {
            ybar[a] += v / r / nf;
            if i < MOMENT_TOKENS {
                y[[i, a]] = v / r;
            }
        }
    }
    // ρ̂ = mean_{i≠j} ⟨y_i, y_j⟩ = (n|ȳ|² − 1)/(n − 1).
    let rho_hat = (nf * ybar.iter().map(|v| v * v).sum::<f64>() - 1.0) / (nf - 1.0);
    let m = y.nrows();
    let gram = y.dot(&y.t());
    let cos: Vec<f64> = (0..m)
        .flat_map(|i| ((i + 1)..m).map(move |j| (i, j)))
        .map(|(i, j)| gram[[i, j]])
        .collect();
    let k = cos.len() as f64;
    let cm = cos.iter().sum::<f64>() / k;
    let var_cos = cos.iter().map(|c| (c - cm).powi(2)).sum::<f64>() / (k - 1.0);
    let k3_cos = cos.iter().map(|c| (c - cm).powi(3)).sum::<f64>() / k;
    Inputs {
        rho_hat,
        var_cos,
        k3_cos,
        q1: inv_q.iter().fold(0.0f64, |m, v| m.max(*v)).recip(),
        mean_inv_q: inv_q.iter().sum::<f64>() / nf,
    }
}

/// The caches of [`sample`]: the layer without η, and η, each by (key, γ rule). η is kept apart
/// so that a check that needs it reuses the forward pass of one that did not (and vice versa).
static LAYERS: Memo<(SampleKey, Gamma), Result<Sample>> = Memo::new();
static ETAS: Memo<(SampleKey, Gamma), Result<f64>> = Memo::new();

/// One layer on the configuration of `key` at the γ of `rule`, memoised (see the module docs):
/// the forward pass and the exact η are each computed once per (key, rule), whichever callers
/// ask first and however many threads ask at once ([`Memo`]).
///
/// # Errors
/// As [`Configuration::draw`] and [`Configuration::layer`] (an error is remembered like a
/// value: it depends only on the key).
pub fn sample(key: &SampleKey, rule: Gamma, with_eta: bool) -> Result<Sample> {
    let mut s = LAYERS.get_or_insert_with((*key, rule), || {
        let config = Configuration::draw(key)?;
        config.layer(config.gamma(rule), false)
    })?;
    if with_eta {
        let eta =
            ETAS.get_or_insert_with((*key, rule), || Configuration::draw(key)?.eta(s.gamma))?;
        s.eta = Some(eta);
    }
    Ok(s)
}

/// [`sample`] for every n of `ns` and every replicate 0..`seeds` of family `tag` at (d, ρ), in
/// that order (n outer). Each (n, replicate) is its own key, so the samples are independent.
///
/// # Errors
/// The first error of [`sample`].
pub fn samples(
    tag: &'static str,
    ns: &[usize],
    d: usize,
    rho: f64,
    seeds: u64,
    rule: Gamma,
    with_eta: bool,
) -> Result<Vec<Sample>> {
    let mut out = Vec::with_capacity(ns.len() * seeds as usize);
    for &n in ns {
        for seed in 0..seeds {
            out.push(sample(
                &SampleKey::new(tag, n, d, rho, seed),
                rule,
                with_eta,
            )?);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};

    /// A configuration's later passes start from the kept scores of its first one: the samples
    /// equal those of a fresh configuration at each γ (d < n and span coordinates d > n).
    #[test]
    fn later_passes_from_kept_scores_equal_fresh_ones() {
        for (n, d) in [(96, 16), (40, 64)] {
            let key = SampleKey::new("test", n, d, 0.3, 2);
            let sweep = Configuration::draw(&key).unwrap();
            sweep.layer(0.7, false).unwrap();
            assert!(sweep.scores.get().is_some());
            for gamma in [0.3, 1.5, 4.0] {
                let fresh = Configuration::draw(&key)
                    .unwrap()
                    .layer(gamma, false)
                    .unwrap();
                assert_eq!(
                    sweep.layer(gamma, false).unwrap(),
                    fresh,
                    "n {n}, gamma {gamma}"
                );
            }
        }
    }

    #[test]
    fn one_layer_measures_what_the_theory_says() {
        let key = SampleKey::new("test", 64, 256, 0.3, 1);
        let c = Configuration::draw(&key).unwrap();
        // ρ̂ from the mean vector equals the kernels' mean over pairs.
        let s = c.layer(1.0, true).unwrap();
        assert!(
            abs_diff_eq!(s.rho_hat, s.cos_in_mean, epsilon = 1e-12),
            "{s:?}"
        );
        assert!(s.cos_in_min <= s.rho_hat && s.rho_hat <= s.cos_in_max);
        assert!(abs_diff_eq!(s.rho_hat, 0.3, epsilon = 0.1) && s.var_cos > 0.0);
        assert!(s.q1 > 0.0 && s.q1 <= 1.0 / s.mean_inv_q);
        // Collapse at small γ, identity at large γ; η below its identity limit.
        let low = c.layer(0.2, false).unwrap();
        let high = c.layer(20.0, true).unwrap();
        assert!(low.lambda < 0.1 && high.lambda > 0.95, "{low:?} {high:?}");
        assert!(high.mean_dev < low.mean_dev && high.max_dev >= high.mean_dev);
        assert_abs_diff_eq!(high.eta.unwrap() / high.eta_identity, 1.0, epsilon = 0.05);
        assert!(low.eta.is_none() && s.eta.unwrap() >= 0.0);
        // The critical rule uses the sample's own ρ̂.
        assert_eq!(c.gamma(Gamma::Critical(2.0)), 2.0 / (1.0 - c.rho_hat()));
        assert!(c.layer(f64::NAN, false).is_err());
    }

    #[test]
    fn crossing_and_memo() {
        let key = SampleKey::new("test", 48, 512, 0.3, 2);
        let c = Configuration::draw(&key).unwrap();
        let x = c.lambda_crossing(0.5, 0.5, 4.0, 1e-6).unwrap();
        assert!(
            x.width <= 1e-6 && x.f_bracket.0 < 0.5 && x.f_bracket.1 > 0.5,
            "{x:?}"
        );
        assert!(c.lambda_crossing(0.5, 0.1, 0.2, 1e-6).is_err());
        let s = sample(&key, Gamma::Fixed(x.root), true).unwrap();
        assert_eq!(s, c.layer(x.root, true).unwrap());
        // Served from the cache, with or without η (the forward pass is shared).
        assert_eq!(
            sample(&key, Gamma::Fixed(x.root), false).unwrap(),
            Sample { eta: None, ..s }
        );
        assert_eq!(sample(&key, Gamma::Fixed(x.root), true).unwrap(), s);
        let all = samples("test", &[16, 32], 8, 0.3, 2, Gamma::Fixed(1.0), false).unwrap();
        assert_eq!(all.len(), 4);
        assert!(all[0].seed != all[2].seed && all[0].key.n == 16 && all[3].key.seed == 1);
    }
}
