//! Contexts with repeated tokens (THEORY §10): Gaussian almost-simplex directions of which some
//! occur many times, exactly (copies) or blurred (near-copies), and the exact **self mass** of
//! chosen rows as a function of β, with its crossing of ½. The `T6` claims of
//! `critscale-theorems` run on them.
//!
//! **Tokens.** With z₀, the class vectors z_(1), …, z_(K) and the own vectors z_i i.i.d.
//! N(0, I_d/d), drawn as the rows of a Gaussian almost-simplex with ρ = 0 from the stream of the
//! context's [`SampleKey`] (the crate's seed policy; the key's n is the context's n):
//!
//! * a token of class k is an exact copy of x_(k) = √ρ z₀ + √(1 − ρ) z_(k);
//! * with near-copies at cosine ρ_w ([`Repeats::within`]) it is
//!   x_i = √ρ z₀ + √(ρ_w − ρ) z_(k) + √(1 − ρ_w) z_i (E⟨x_i, x_j⟩ = ρ_w inside a class, ρ across);
//! * a token in no class (a singleton) is x_i = √ρ z₀ + √(1 − ρ) z_i.
//!
//! [`Layout`] says which classes there are: m classes of n/m copies each (equal multiplicities),
//! K frequent classes of c copies among n − Kc singletons, or every token distinct.
//!
//! **Self mass.** Row i of the layer (THEORY §1, α = 0) puts A_ij = e^{β⟨y_i,y_j⟩}/Σ_l e^{β⟨y_i,y_l⟩}
//! on token j; its self mass is Σ_{j in the class of i} A_ij (itself, its copies or its
//! near-copies; for a singleton A_ii). Copies have equal cosines to everything, so the row needs
//! only its cosines to the *distinct* directions, each weighted by its multiplicity: O(D) per row
//! and β, D the number of distinct directions, and O(D·d) once for the cosines — no n × n
//! matrix. The measured rows ([`Context::rows`]) are the classes' rows (one per distinct
//! direction, weighted by its multiplicity) or, for distinct tokens, the first few rows (each
//! row's self mass depends on its own cosines only, so their mean estimates the mean over all
//! rows). The tests check it against `Σ_j A_ij` of the reference layer (`critscale-model`) on the
//! full n × d matrix.
//!
//! **Row statistics** (for the predictions of THEORY §10): the share f_i = (size of the class of
//! i)/n and, over the other tokens (multiplicities counted), the mean μ_i, variance v_i and third
//! central moment k_i of the cosines ⟨y_i, y_j⟩.

use crate::seed::SampleKey;
use crate::{Error, Result};
use critscale_asymptotics::threshold;
use ndarray::Array2;

/// Which tokens of a context are repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `types` classes of n/`types` tokens each: every token has share 1/`types`.
    Equal {
        /// Number of classes m ≥ 2 (it must divide n).
        types: usize,
    },
    /// `types` classes of `count` tokens each; the other n − types·count tokens are singletons.
    /// The measured rows are the classes'.
    Frequent {
        /// Number of classes K ≥ 1.
        types: usize,
        /// Tokens per class c ≥ 1 (K·c ≤ n).
        count: usize,
    },
    /// Every token is a singleton (share 1/n); the first `tracked` rows are measured.
    Distinct {
        /// Rows measured, 1 ≤ tracked ≤ n.
        tracked: usize,
    },
}

/// A recipe for a context: the layout and whether a class holds exact copies or near-copies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Repeats {
    /// The classes.
    pub layout: Layout,
    /// `None`: a class holds exact copies; `Some(ρ_w)`: near-copies with cosine ρ_w (ρ ≤ ρ_w < 1)
    /// inside the class.
    pub within: Option<f64>,
}

/// One measured row: its cosines to the distinct directions, which of them are its class, and
/// how many rows of the context it stands for.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// ⟨y_i, u_j⟩ for every distinct direction u_j (length D).
    pub cos: Vec<f64>,
    /// Whether direction j is in the class of the row (the row's own direction included).
    pub own: Vec<bool>,
    /// How many rows of the context are copies of this one (its multiplicity).
    pub weight: f64,
    /// f_i: the number of tokens in the row's class over n.
    pub share: f64,
    /// μ_i: the mean cosine to the tokens outside its class (multiplicities counted).
    pub mean: f64,
    /// v_i: their variance.
    pub var: f64,
    /// k_i: their third central moment.
    pub k3: f64,
}

impl Row {
    /// The self mass of this row at β: Σ_{j in class} c_j e^{βg_j} / Σ_j c_j e^{βg_j} (c_j the
    /// multiplicities, g_j the cosines), with the largest cosine factored out.
    pub fn self_mass(&self, beta: f64, counts: &[f64]) -> f64 {
        let top = self.cos.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let (mut own, mut all) = (0.0, 0.0);
        for ((g, c), mine) in self.cos.iter().zip(counts).zip(&self.own) {
            let w = c * (beta * (g - top)).exp();
            all += w;
            if *mine {
                own += w;
            }
        }
        own / all
    }
}

/// One drawn context: its distinct directions, their multiplicities and classes, and the measured
/// rows with their statistics.
#[derive(Debug, Clone)]
pub struct Context {
    key: SampleKey,
    repeats: Repeats,
    /// The distinct unit directions, D × d.
    y: Array2<f64>,
    /// Multiplicity of each distinct direction (as f64: it is a weight).
    counts: Vec<f64>,
    /// The class of each distinct direction (`None` for a singleton).
    class: Vec<Option<usize>>,
    rows: Vec<Row>,
}

impl Repeats {
    fn check(&self, key: &SampleKey) -> Result<()> {
        let n = key.n;
        let bad = |reason: String| {
            Err(Error::BadInput {
                what: format!("repeated-token context {self:?} for sample {key}"),
                reason,
            })
        };
        if key.n < 2 || key.d < 1 || !(0.0..1.0).contains(&key.rho) {
            return bad("need n >= 2, d >= 1 and rho in [0, 1)".to_owned());
        }
        match self.layout {
            Layout::Equal { types } if types < 2 || !n.is_multiple_of(types) => {
                return bad(format!("need m >= 2 classes dividing n = {n}"));
            }
            Layout::Frequent { types, count }
                if types < 1 || count < 1 || types.saturating_mul(count) > n =>
            {
                return bad(format!(
                    "need K >= 1 classes of c >= 1 tokens, K c <= n = {n}"
                ));
            }
            Layout::Distinct { tracked } if tracked < 1 || tracked > n => {
                return bad(format!("need 1 <= tracked rows <= n = {n}"));
            }
            _ => {}
        }
        if let Some(w) = self.within
            && !(w >= key.rho && w < 1.0)
        {
            return bad(format!("need rho <= within < 1, got within = {w}"));
        }
        Ok(())
    }

    /// The classes as (number of classes, tokens per class).
    fn classes(&self, n: usize) -> (usize, usize) {
        match self.layout {
            Layout::Equal { types } => (types, n / types),
            Layout::Frequent { types, count } => (types, count),
            Layout::Distinct { .. } => (0, 0),
        }
    }

    /// Draws the context of `key` (see the module docs).
    ///
    /// # Errors
    /// [`Error::BadInput`] for a bad key (n < 2, d < 1, ρ outside [0, 1)), a layout that does not
    /// fit n, or a near-copy cosine outside [ρ, 1).
    pub fn draw(&self, key: &SampleKey) -> Result<Context> {
        self.check(key)?;
        let (n, d, rho) = (key.n, key.d, key.rho);
        let (classes, per_class) = self.classes(n);
        let in_classes = classes * per_class;
        let singletons = n - in_classes;
        // Distinct directions: one per exact class or one per near-copy token, then singletons.
        let (class_dirs, own_rows) = match self.within {
            None => (classes, singletons),
            Some(_) => (in_classes, n),
        };
        let z = critscale_model::gaussian_almost_simplex::<f64>(
            &(),
            1 + classes + own_rows,
            d,
            0.0,
            key.stream_seed(),
        );
        let dirs = class_dirs + singletons;
        let mut x = Array2::<f64>::zeros((dirs, d));
        let mut counts = Vec::with_capacity(dirs);
        let mut class = Vec::with_capacity(dirs);
        let shared = rho.sqrt();
        for j in 0..dirs {
            // (class, weight of the class vector, row of the own vector or None, multiplicity).
            let (k, own_row, count) = if j < class_dirs {
                match self.within {
                    None => (Some(j), None, per_class),
                    Some(_) => (Some(j / per_class), Some(1 + classes + j), 1),
                }
            } else {
                let own = match self.within {
                    None => 1 + classes + (j - class_dirs),
                    Some(_) => 1 + classes + in_classes + (j - class_dirs),
                };
                (None, Some(own), 1)
            };
            let (class_w, own_w) = match (k, self.within) {
                (Some(_), None) => ((1.0 - rho).sqrt(), 0.0),
                (Some(_), Some(w)) => ((w - rho).sqrt(), (1.0 - w).sqrt()),
                (None, _) => (0.0, (1.0 - rho).sqrt()),
            };
            for a in 0..d {
                let mut v = shared * z[[0, a]];
                if let Some(k) = k {
                    v += class_w * z[[1 + k, a]];
                }
                if let Some(r) = own_row {
                    v += own_w * z[[r, a]];
                }
                x[[j, a]] = v;
            }
            counts.push(count as f64);
            class.push(k);
        }
        for mut row in x.rows_mut() {
            let r = row.dot(&row).sqrt();
            row.mapv_inplace(|v| v / r);
        }
        let tracked: Vec<usize> = match self.layout {
            Layout::Distinct { tracked } => (0..tracked).collect(),
            _ => (0..class_dirs).collect(),
        };
        let nf = n as f64;
        let rows = tracked
            .into_iter()
            .map(|i| {
                let cos: Vec<f64> = x.rows().into_iter().map(|u| u.dot(&x.row(i))).collect();
                let own: Vec<bool> = (0..dirs)
                    .map(|j| j == i || (class[i].is_some() && class[j] == class[i]))
                    .collect();
                let share = own
                    .iter()
                    .zip(&counts)
                    .filter(|(o, _)| **o)
                    .map(|(_, c)| c)
                    .sum::<f64>()
                    / nf;
                let others: Vec<(f64, f64)> = cos
                    .iter()
                    .zip(&counts)
                    .zip(&own)
                    .filter(|(_, o)| !**o)
                    .map(|((g, c), _)| (*g, *c))
                    .collect();
                let w: f64 = others.iter().map(|(_, c)| c).sum();
                let mean = others.iter().map(|(g, c)| g * c).sum::<f64>() / w;
                let var = others
                    .iter()
                    .map(|(g, c)| c * (g - mean).powi(2))
                    .sum::<f64>()
                    / w;
                let k3 = others
                    .iter()
                    .map(|(g, c)| c * (g - mean).powi(3))
                    .sum::<f64>()
                    / w;
                Row {
                    cos,
                    own,
                    weight: counts[i],
                    share,
                    mean,
                    var,
                    k3,
                }
            })
            .collect();
        Ok(Context {
            key: *key,
            repeats: *self,
            y: x,
            counts,
            class,
            rows,
        })
    }
}

impl Context {
    /// The key the context was drawn for.
    pub fn key(&self) -> &SampleKey {
        &self.key
    }

    /// The recipe it was drawn with.
    pub fn repeats(&self) -> &Repeats {
        &self.repeats
    }

    /// The measured rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The multiplicity of each distinct direction.
    pub fn counts(&self) -> &[f64] {
        &self.counts
    }

    /// The number of distinct directions D.
    pub fn distinct(&self) -> usize {
        self.counts.len()
    }

    /// The whole n × d token matrix (unit rows; each distinct direction repeated as many times as
    /// its multiplicity, in order), and the class of each token (`None` for a singleton). For
    /// checks on small n.
    pub fn tokens(&self) -> (Array2<f64>, Vec<Option<usize>>) {
        let (n, d) = (self.key.n, self.key.d);
        let mut x = Array2::<f64>::zeros((n, d));
        let mut class = Vec::with_capacity(n);
        let mut i = 0;
        for (j, &c) in self.counts.iter().enumerate() {
            for _ in 0..c as usize {
                x.row_mut(i).assign(&self.y.row(j));
                class.push(self.class[j]);
                i += 1;
            }
        }
        (x, class)
    }

    /// The total weight of the measured rows.
    fn weight(&self) -> f64 {
        self.rows.iter().map(|r| r.weight).sum()
    }

    /// A mean over the measured rows, each weighted by its multiplicity.
    pub fn row_mean(&self, f: impl Fn(&Row) -> f64) -> f64 {
        self.rows.iter().map(|r| r.weight * f(r)).sum::<f64>() / self.weight()
    }

    /// The mean self mass of the measured rows at β.
    pub fn mean_self_mass(&self, beta: f64) -> f64 {
        self.row_mean(|r| r.self_mass(beta, &self.counts))
    }

    /// ρ̂: the mean over the measured rows of their mean cosine to the tokens outside their class.
    pub fn rho_hat(&self) -> f64 {
        self.row_mean(|r| r.mean)
    }

    /// The mean share f of the measured rows.
    pub fn share(&self) -> f64 {
        self.row_mean(|r| r.share)
    }

    /// The mean over the measured rows of the variance v_i of their cosines (outside the class).
    pub fn var(&self) -> f64 {
        self.row_mean(|r| r.var)
    }

    /// The mean over the measured rows of the third central moment k_i of their cosines.
    pub fn k3(&self) -> f64 {
        self.row_mean(|r| r.k3)
    }

    /// The β where the mean self mass of the measured rows crosses ½, bisected to a bracket of
    /// width ≤ `xtol` (the mean self mass rises with β when every row's class holds its largest
    /// cosines). The bracket starts at [0, 8] and its upper end doubles until the mass exceeds ½.
    ///
    /// # Errors
    /// [`Error::Crossing`] when the mean self mass exceeds ½ already at β = 0 (a class holding
    /// more than half the tokens), or stays below ½ up to β = 2^20.
    pub fn self_mass_crossing(&self, xtol: f64) -> Result<threshold::Crossing> {
        let what = || format!("self mass = 1/2 on {}", self.key);
        let mut hi = 8.0;
        while self.mean_self_mass(hi) < 0.5 && hi < 1048576.0 {
            hi *= 2.0;
        }
        threshold::bisect(|b| self.mean_self_mass(b), 0.5, 0.0, hi, xtol).map_err(|source| {
            Error::Crossing {
                what: what(),
                source,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::abs_diff_eq;
    use critscale_model::{LayerParams, forward};

    fn exact_rows_match_the_reference_layer(repeats: Repeats, key: SampleKey) {
        let ctx = repeats.draw(&key).unwrap();
        let (x, class) = ctx.tokens();
        assert_eq!(x.nrows(), key.n);
        for beta in [0.5, 3.0, 9.0] {
            let out = forward(&x, &LayerParams::new(beta, 0.0)).unwrap();
            // The token index of each measured row: the first token of its distinct direction.
            let mut first = Vec::new();
            let mut i = 0;
            for &c in ctx.counts() {
                first.push(i);
                i += c as usize;
            }
            let tracked: Vec<usize> = match repeats.layout {
                Layout::Distinct { tracked } => (0..tracked).collect(),
                _ => (0..ctx.rows().len()).collect(),
            };
            for (r, &j) in ctx.rows().iter().zip(&tracked) {
                let i = first[j];
                let want: f64 = (0..key.n)
                    .filter(|&t| t == i || (class[i].is_some() && class[t] == class[i]))
                    .map(|t| out.attention[[i, t]])
                    .sum();
                let got = r.self_mass(beta, ctx.counts());
                assert!(
                    abs_diff_eq!(got, want, epsilon = 1e-13),
                    "{key} beta {beta}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn the_self_mass_is_the_reference_layers_row_sum_over_the_class() {
        let key = |n| SampleKey::new("test-repeats", n, 24, 0.3, 3);
        let exact = |layout| Repeats {
            layout,
            within: None,
        };
        exact_rows_match_the_reference_layer(exact(Layout::Equal { types: 4 }), key(24));
        exact_rows_match_the_reference_layer(
            exact(Layout::Frequent { types: 2, count: 5 }),
            key(30),
        );
        exact_rows_match_the_reference_layer(exact(Layout::Distinct { tracked: 6 }), key(20));
        let near = Repeats {
            layout: Layout::Frequent { types: 2, count: 4 },
            within: Some(0.9),
        };
        exact_rows_match_the_reference_layer(near, key(20));
    }

    #[test]
    fn layouts_give_the_documented_shares_and_cosines() {
        let key = SampleKey::new("test-repeats", 512, 512, 0.3, 1);
        let c = Repeats {
            layout: Layout::Frequent {
                types: 2,
                count: 64,
            },
            within: None,
        }
        .draw(&key)
        .unwrap();
        assert_eq!(c.distinct(), 2 + 512 - 128);
        assert_eq!(c.rows().len(), 2);
        assert!(abs_diff_eq!(c.share(), 0.125, epsilon = 1e-15));
        assert!(abs_diff_eq!(c.rho_hat(), 0.3, epsilon = 0.1) && c.var() > 0.0);
        let near = Repeats {
            layout: Layout::Frequent {
                types: 1,
                count: 16,
            },
            within: Some(0.9),
        }
        .draw(&key)
        .unwrap();
        assert_eq!(near.distinct(), 512);
        assert_eq!(near.rows().len(), 16);
        let r = &near.rows()[0];
        let inside: Vec<f64> = (1..16).map(|j| r.cos[j]).collect();
        let mean_inside = inside.iter().sum::<f64>() / 15.0;
        assert!(
            abs_diff_eq!(mean_inside, 0.9, epsilon = 0.03),
            "{mean_inside}"
        );
        // The same key gives the same context; the exact-copy crossing follows the law loosely.
        let again = Repeats {
            layout: Layout::Frequent {
                types: 2,
                count: 64,
            },
            within: None,
        }
        .draw(&key)
        .unwrap();
        assert_eq!(again.rows(), c.rows());
        let beta = c.self_mass_crossing(1e-9).unwrap().root;
        let law = critscale_simplex::self_mass_crossing(&c.share(), &c.rho_hat());
        assert!(
            abs_diff_eq!(beta / law, 1.0, epsilon = 0.03),
            "{beta} vs {law}"
        );
    }

    #[test]
    fn bad_recipes_are_refused() {
        let key = SampleKey::new("test-repeats", 12, 8, 0.3, 0);
        for layout in [
            Layout::Equal { types: 5 },
            Layout::Equal { types: 1 },
            Layout::Frequent { types: 3, count: 5 },
            Layout::Frequent { types: 0, count: 2 },
            Layout::Distinct { tracked: 0 },
            Layout::Distinct { tracked: 13 },
        ] {
            let r = Repeats {
                layout,
                within: None,
            };
            assert!(r.draw(&key).is_err(), "{layout:?}");
        }
        let r = Repeats {
            layout: Layout::Equal { types: 3 },
            within: Some(0.2),
        };
        assert!(r.draw(&key).is_err());
        // A class of 8 of the 12 tokens holds 2/3 of the mass already at β = 0: no crossing.
        let majority = Repeats {
            layout: Layout::Frequent { types: 1, count: 8 },
            within: None,
        }
        .draw(&key)
        .unwrap();
        assert!(majority.self_mass_crossing(1e-9).is_err());
    }
}
