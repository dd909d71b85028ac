//! Every length where a rule's γ(n) = β₀m(n)/ln n crosses γ_c(ρ) (THEORY §7, §11).
//!
//! No grid: the search range is cut into pieces on which γ is monotone, and each piece holds at
//! most one crossing.
//!
//! * **Smooth rules** are cut at their training length L (where the formula changes; m is
//!   continuous there) and at the stationary points of γ in x = ln n, known in closed form: for
//!   dynamic YaRN, γ ∝ (cx + a)²/x with a = 1 − c·ln L has γ' ∝ (cx + a)(cx − a), zero at
//!   x = ±a/c; every other smooth rule's γ is monotone on each side of L (a constant m gives
//!   β₀m/x; SSMax β₀(s + b/x); Qwen log-n β₀/ln L past L; SWAN-style β₀k + β₀(1 − k ln L)/x). A
//!   piece whose ends lie on opposite sides of γ_c is bisected in x to f64 resolution
//!   (`critscale_asymptotics::threshold::bisect` with `xtol = 0`): the reported ln n is within one
//!   or two units in the last place of the f64 bisection bracket, so n is good to a relative
//!   ~1e-13 for n ≤ 1e300 — up to the rounding of γ itself, which only matters where γ is
//!   nearly tangent to γ_c. A piece on which γ equals γ_c identically (Qwen log-n with
//!   β₀/ln L = γ_c) has no crossing.
//! * **Step rules** (Llama 4's temperature tuning, Mistral's `llama_4_scaling_beta`) have
//!   m(n) = c(1 + a·ln(1 + j)) on piece j = ⌊(n − o)/P⌋, so on a piece γ = β₀c(1 + a ln(1 + j))/ln n
//!   is decreasing, and crosses γ_c at ln n = x*(j) = B(1 + a ln(1 + j)), B = β₀c/γ_c, in closed
//!   form, when that point is inside the piece; at a jump (a ≥ 0: upward) γ crosses γ_c upward
//!   exactly at the jump's n when it is below γ_c just before and above just after. With
//!   f₀(j) = x*(j) − ln(start of piece j) and f₁(j) = x*(j) − ln(end of piece j): a downward
//!   crossing inside piece j ⟺ f₀(j) > 0 > f₁(j); an upward one at the start of piece j ⟺
//!   f₁(j − 1) < 0 < f₀(j). Each f_k(t) = B + Ba ln(1 + t) − ln(Pt + δ) has one stationary point
//!   t* = (1 − Baδ/P)/(Ba − 1), so on each side of it the sign sets are integer ranges found by
//!   binary search — no piece is enumerated unless it holds a crossing, whatever n_max.
//!
//! Lengths where γ only touches γ_c without crossing are not crossings.

use crate::Rule;
use critscale_asymptotics::threshold;
use serde::{Deserialize, Serialize};

/// The largest number of crossings listed; more is [`TooManyCrossings`].
pub const MAX_CROSSINGS: usize = 10_000;

/// Which way γ(n) − γ_c changes sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CrossingDirection {
    /// From below γ_c to above.
    Up,
    /// From above γ_c to below.
    Down,
}

/// A length where γ(n) crosses γ_c.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// The length n.
    pub n: f64,
    /// The direction.
    pub direction: CrossingDirection,
    /// Whether the crossing is a jump of a step rule (then n is the jump's n).
    pub at_jump: bool,
}

/// More crossings than [`MAX_CROSSINGS`] (a step rule whose sawtooth straddles γ_c over many
/// steps), or steps too fine for `f64` to tell apart.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "gamma(n) crosses gamma_c about {count:e} times between n = {first:e} and {last:e} ({reason})"
)]
pub struct TooManyCrossings {
    /// How many (at least).
    pub count: f64,
    /// Where the first one is.
    pub first: f64,
    /// Where the last one is.
    pub last: f64,
    /// Why they are not listed.
    pub reason: &'static str,
}

/// Every length n ∈ [max(2, n_min), n_max] where γ(n) = β₀m(n)/ln n of `rule` crosses
/// γ_c(ρ) = 1/(1 − ρ), in increasing n (see the module docs for the method and its accuracy).
///
/// # Errors
///
/// [`TooManyCrossings`] when a step rule crosses more than [`MAX_CROSSINGS`] times.
pub fn crossings(
    rule: &Rule,
    beta0: f64,
    rho: f64,
    n_min: f64,
    n_max: f64,
) -> Result<Vec<Crossing>, TooManyCrossings> {
    let gamma_c = critscale_simplex::gamma_c(&rho);
    let n_lo = n_min.max(2.0);
    if !(n_lo < n_max && gamma_c.is_finite()) {
        return Ok(Vec::new());
    }
    match *rule {
        Rule::Llama4Temperature {
            floor_scale,
            attn_scale,
        } => Steps {
            offset: 0.0,
            period: floor_scale,
            c: 1.0,
            a: attn_scale,
        }
        .crossings(beta0 / gamma_c, n_lo, n_max),
        Rule::Llama4ScalingBeta {
            beta,
            train_len,
            yarn,
        } => Steps {
            offset: 1.0,
            period: train_len,
            c: yarn.map_or(1.0, |y| y.attention_factor().powi(2)),
            a: beta,
        }
        .crossings(beta0 / gamma_c, n_lo, n_max),
        _ => Ok(smooth_crossings(rule, beta0, gamma_c, n_lo, n_max)),
    }
}

/// The points in x = ln n where a smooth rule's formula changes or γ is stationary.
fn split_points(rule: &Rule) -> Vec<f64> {
    match *rule {
        Rule::YarnDynamic {
            train_len,
            coefficient,
        } => {
            let ell = train_len.ln();
            let a = 1.0 - coefficient * ell;
            vec![ell, a / coefficient, -a / coefficient]
        }
        Rule::QwenLogN { train_len } | Rule::SwanStyle { train_len, .. } => vec![train_len.ln()],
        _ => Vec::new(),
    }
}

fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

fn direction(before: i8) -> CrossingDirection {
    if before < 0 {
        CrossingDirection::Up
    } else {
        CrossingDirection::Down
    }
}

/// Crossings of a rule without jumps: bisection on each monotone piece in x = ln n.
fn smooth_crossings(rule: &Rule, beta0: f64, gamma_c: f64, n_lo: f64, n_hi: f64) -> Vec<Crossing> {
    let g = |x: f64| rule.gamma(beta0, x.exp()) - gamma_c;
    let (x_lo, x_hi) = (n_lo.ln(), n_hi.ln());
    let mut xs: Vec<f64> = split_points(rule)
        .into_iter()
        .filter(|&x| x > x_lo && x < x_hi)
        .collect();
    xs.push(x_lo);
    xs.push(x_hi);
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let values: Vec<f64> = xs.iter().map(|&x| g(x)).collect();
    if values.iter().any(|v| !v.is_finite()) {
        return Vec::new();
    }
    let signs: Vec<i8> = values.iter().map(|&v| sign(v)).collect();
    let mut out = Vec::new();
    for i in 0..xs.len() - 1 {
        // An exact zero at an inner split point is a crossing when the sides differ.
        if i > 0 && signs[i] == 0 && signs[i - 1] * signs[i + 1] < 0 {
            out.push(Crossing {
                n: xs[i].exp(),
                direction: direction(signs[i - 1]),
                at_jump: false,
            });
        }
        if signs[i] * signs[i + 1] < 0
            && let Ok(found) = threshold::bisect(g, 0.0, xs[i], xs[i + 1], 0.0)
        {
            out.push(Crossing {
                n: found.root.exp(),
                direction: direction(signs[i]),
                at_jump: false,
            });
        }
    }
    out
}

/// A step rule m(n) = c(1 + a·ln(1 + j(n))), j(n) = ⌊(n − offset)/period⌋.
struct Steps {
    offset: f64,
    period: f64,
    c: f64,
    a: f64,
}

/// Integers beyond this are not all representable in f64.
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// An inclusive range of whole numbers held in f64.
type Range = (f64, f64);

impl Steps {
    fn index(&self, n: f64) -> f64 {
        ((n - self.offset) / self.period).floor().max(0.0)
    }

    fn start(&self, j: f64) -> f64 {
        j * self.period + self.offset
    }

    /// ln n where γ = γ_c on piece j, with b = β₀/γ_c.
    fn x_star(&self, b: f64, j: f64) -> f64 {
        b * self.c * (1.0 + self.a * j.ln_1p())
    }

    /// f_k(j) = x*(j) − ln(start of piece j + k): k = 0 its start, k = 1 its end.
    fn f(&self, b: f64, k: f64, j: f64) -> f64 {
        self.x_star(b, j) - self.start(j + k).ln()
    }

    /// The stationary point t* of f_k over real t (module docs), if any.
    fn stationary(&self, b: f64, k: f64) -> Option<f64> {
        let ba = b * self.c * self.a;
        let delta = k * self.period + self.offset;
        (ba != 1.0).then(|| (1.0 - ba * delta / self.period) / (ba - 1.0))
    }

    /// The whole numbers j ∈ [u, v] with `pred(f_k(j))`, as at most two ranges: f_k is
    /// monotone on each side of its stationary point, so there the set is a prefix or a suffix.
    fn where_(&self, b: f64, k: f64, u: f64, v: f64, pred: impl Fn(f64) -> bool) -> Vec<Range> {
        let mut segments = vec![(u, v)];
        if let Some(t) = self.stationary(b, k).filter(|t| *t >= u && *t < v) {
            segments = vec![(u, t.floor()), (t.floor() + 1.0, v)];
        }
        let holds = |j: f64| pred(self.f(b, k, j));
        let mut out = Vec::new();
        for (lo, hi) in segments {
            if lo > hi {
                continue;
            }
            match (holds(lo), holds(hi)) {
                (true, true) => out.push((lo, hi)),
                (false, false) => {}
                (first, _) => {
                    // Binary search for the last j with holds(j) == first.
                    let (mut a, mut z) = (lo, hi);
                    while z - a > 1.0 {
                        let mid = (0.5 * (a + z)).floor();
                        if mid <= a || mid >= z {
                            break;
                        }
                        if holds(mid) == first {
                            a = mid;
                        } else {
                            z = mid;
                        }
                    }
                    out.push(if first { (lo, a) } else { (z, hi) });
                }
            }
        }
        out
    }

    fn crossings(&self, b: f64, n_lo: f64, n_hi: f64) -> Result<Vec<Crossing>, TooManyCrossings> {
        if !(self.c > 0.0 && self.a >= 0.0 && self.period > 0.0 && b > 0.0) {
            return Ok(Vec::new());
        }
        let (j0, jn) = (self.index(n_lo), self.index(n_hi));
        let mut out = Vec::new();
        // The first piece starts at n_lo, not at a jump.
        let x0 = self.x_star(b, j0);
        if x0 > n_lo.ln() && x0 < self.start(j0 + 1.0).ln() && x0 <= n_hi.ln() {
            out.push(Crossing {
                n: x0.exp(),
                direction: CrossingDirection::Down,
                at_jump: false,
            });
        }
        if jn <= j0 {
            return Ok(out);
        }
        let above_at_start = self.where_(b, 0.0, j0 + 1.0, jn, |v| v > 0.0);
        let below_at_end = self.where_(b, 1.0, j0, jn, |v| v < 0.0);
        let shifted: Vec<Range> = below_at_end
            .iter()
            .map(|&(p, q)| (p + 1.0, q + 1.0))
            .collect();
        let down = intersect(&above_at_start, &below_at_end);
        let up = intersect(&above_at_start, &shifted);
        let count: f64 = down.iter().chain(&up).map(|&(p, q)| q - p + 1.0).sum();
        let unresolved = down
            .iter()
            .chain(&up)
            .any(|&(p, q)| q > p && q >= EXACT_INTEGERS);
        if count > MAX_CROSSINGS as f64 || unresolved {
            let ends: Vec<f64> = down.iter().chain(&up).flat_map(|&(p, q)| [p, q]).collect();
            let first = ends.iter().copied().fold(f64::INFINITY, f64::min);
            let last = ends.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            return Err(TooManyCrossings {
                count,
                first: self.start(first),
                last: self.start(last + 1.0),
                reason: if unresolved {
                    "the steps there are finer than f64 resolves"
                } else {
                    "too many to list"
                },
            });
        }
        for &(p, q) in &down {
            let mut j = p;
            while j <= q {
                let x = self.x_star(b, j);
                if j < jn || x <= n_hi.ln() {
                    out.push(Crossing {
                        n: x.exp(),
                        direction: CrossingDirection::Down,
                        at_jump: false,
                    });
                }
                j += 1.0;
            }
        }
        for &(p, q) in &up {
            let mut j = p;
            while j <= q {
                out.push(Crossing {
                    n: self.start(j),
                    direction: CrossingDirection::Up,
                    at_jump: true,
                });
                j += 1.0;
            }
        }
        out.sort_by(|p, q| p.n.total_cmp(&q.n));
        Ok(out)
    }
}

/// The intersection of two unions of inclusive integer ranges.
fn intersect(a: &[Range], b: &[Range]) -> Vec<Range> {
    let mut out = Vec::new();
    for &(p, q) in a {
        for &(r, s) in b {
            let (lo, hi) = (p.max(r), q.min(s));
            if lo <= hi {
                out.push((lo, hi));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{YarnAttention, defaults};
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    /// γ − γ_c keeps one sign on a dense log grid between consecutive crossings, and changes it
    /// across each: nothing is missed on the grid, nothing is reported that is not there.
    fn check_against_grid(rule: &Rule, beta0: f64, rho: f64, n_max: f64) {
        let gamma_c = critscale_simplex::gamma_c(&rho);
        let found = crossings(rule, beta0, rho, 2.0, n_max).unwrap();
        let g = |n: f64| rule.gamma(beta0, n) - gamma_c;
        let points = 20_000;
        let mut bounds = vec![2.0];
        bounds.extend(found.iter().map(|c| c.n));
        bounds.push(n_max);
        for w in bounds.windows(2) {
            let (a, b) = (w[0].ln(), w[1].ln());
            let grid = (1..points).map(|k| (a + (b - a) * k as f64 / points as f64).exp());
            let signs: Vec<i8> = grid
                .filter(|&n| n > w[0] * (1.0 + 1e-9) && n < w[1] * (1.0 - 1e-9))
                .map(|n| sign(g(n)))
                .filter(|&s| s != 0)
                .collect();
            assert!(
                signs.windows(2).all(|p| p[0] == p[1]),
                "{} beta0 {beta0} rho {rho}: a sign change between {:e} and {:e} ({found:?})",
                rule.name(),
                w[0],
                w[1]
            );
        }
        for (i, c) in found.iter().enumerate() {
            // Look no further than half-way to the neighbouring crossings: a short step can put
            // a crossing within 1e-9 (relative) of the jump before it.
            let gap = [i.checked_sub(1), Some(i + 1)]
                .into_iter()
                .flatten()
                .filter_map(|k| found.get(k))
                .map(|o| (o.n - c.n).abs())
                .fold(f64::INFINITY, f64::min);
            let h = (c.n * 1e-9).min(0.5 * gap);
            let (before, after) = if c.at_jump {
                (g(c.n * (1.0 - 1e-12)), g(c.n))
            } else {
                (g(c.n - h), g(c.n + h))
            };
            let expected = match c.direction {
                CrossingDirection::Up => (-1, 1),
                CrossingDirection::Down => (1, -1),
            };
            assert_eq!((sign(before), sign(after)), expected, "{c:?}");
        }
    }

    #[test]
    fn the_close_pair_of_dynamic_yarn_is_found() {
        // The case: rho = 0.1687, beta0 = 10, L = 4096; a grid of 4000 steps missed it.
        let rule = Rule::YarnDynamic {
            train_len: 4096.0,
            coefficient: 0.1,
        };
        let found = crossings(&rule, 10.0, 0.1687, 2.0, 1e300).unwrap();
        let ns: Vec<f64> = found.iter().map(|c| c.n).collect();
        assert_eq!(ns.len(), 2, "{ns:?}");
        // Below L: 10/ln n = gamma_c.
        assert_relative_eq!(
            ns[0],
            (10.0 * (1.0 - 0.1687f64)).exp(),
            max_relative = 1e-12
        );
        assert!(
            (ns[0] - 4076.52).abs() < 0.01 && (ns[1] - 4125.54).abs() < 0.01,
            "{ns:?}"
        );
        assert_eq!(found[0].direction, CrossingDirection::Down);
        assert_eq!(found[1].direction, CrossingDirection::Up);
        check_against_grid(&rule, 10.0, 0.1687, 1e300);
    }

    #[test]
    fn a_step_rule_crosses_upward_at_its_jump() {
        // Llama 4 at beta0 = 10, rho = 0.155: down below 8192, up at the jump, down again.
        let rule = Rule::Llama4Temperature {
            floor_scale: 8192.0,
            attn_scale: 0.1,
        };
        let found = crossings(&rule, 10.0, 0.155, 2.0, 1e300).unwrap();
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[1].at_jump && found[1].n == 8192.0);
        let x1 = 10.0 * (1.0 + 0.1 * 2f64.ln()) * (1.0 - 0.155);
        assert_relative_eq!(found[2].n, x1.exp(), max_relative = 1e-13);
        check_against_grid(&rule, 10.0, 0.155, 1e12);
    }

    #[test]
    fn a_sawtooth_straddling_gamma_c_is_counted_without_enumerating() {
        // Offset 0, period P, B·a = 1: f1(j) = B − ln P and f0(j) = f1(j) + ln(1 + 1/j), so with
        // B = ln P − ε every step j < 1/(e^ε − 1) straddles gamma_c (down inside, up at the next jump).
        let p = 8.0f64;
        let teeth = |eps: f64| {
            let b = p.ln() - eps;
            let rule = Rule::Llama4Temperature {
                floor_scale: p,
                attn_scale: 1.0 / b,
            };
            // gamma_c(0.5) = 2, so beta0 = 2B.
            (rule, 2.0 * b)
        };
        let (rule, beta0) = teeth(1e-2);
        let found = crossings(&rule, beta0, 0.5, 2.0, 1e300).unwrap();
        // Steps j = 1 … 99 straddle: 99 downward crossings and 99 upward ones at the jumps, plus
        // the first piece's (gamma starts above gamma_c at n = 2).
        assert_eq!(found.len(), 199, "{}", found.len());
        check_against_grid(&rule, beta0, 0.5, 2000.0);
        let (rule, beta0) = teeth(1e-6);
        let err = crossings(&rule, beta0, 0.5, 2.0, 1e300).unwrap_err();
        assert!(err.count > 1.9e6 && err.count < 2.1e6, "{err}");
    }

    #[test]
    fn the_default_rules_agree_with_a_dense_grid() {
        for rule in defaults::rules() {
            for rho in [0.1, 0.1687, 0.3, 0.6, 0.9] {
                check_against_grid(&rule, 10.0, rho, 1e30);
            }
        }
    }

    proptest! {
        #[test]
        fn step_rules_agree_with_a_dense_grid(beta0 in 1.0f64..30.0, rho in 0.05f64..0.9, a in 0.0f64..0.5, log2_p in 3.0f64..14.0, offset in 0.0f64..2.0) {
            let period = 2f64.powf(log2_p).round();
            let rule = if offset < 1.0 {
                Rule::Llama4Temperature { floor_scale: period, attn_scale: a }
            } else {
                Rule::Llama4ScalingBeta { beta: a, train_len: period, yarn: Some(YarnAttention::of_factor(2.0)) }
            };
            if let Ok(list) = crossings(&rule, beta0, rho, 2.0, 1e9) {
                prop_assume!(list.len() < 200);
                check_against_grid(&rule, beta0, rho, 1e9);
            }
        }

        #[test]
        fn dynamic_yarn_agrees_with_a_dense_grid(beta0 in 1.0f64..30.0, rho in 0.05f64..0.9, log2_l in 1.0f64..20.0, c in 0.02f64..0.5) {
            let rule = Rule::YarnDynamic { train_len: 2f64.powf(log2_l), coefficient: c };
            check_against_grid(&rule, beta0, rho, 1e100);
        }

        #[test]
        fn crossings_are_roots(beta0 in 1.0f64..40.0, tau in 0.1f64..5.0, rho in 0.05f64..0.95) {
            let rule = Rule::SwanStyle { train_len: 2048.0, slope: tau / beta0 };
            for c in crossings(&rule, beta0, rho, 2.0, 1e200).unwrap() {
                prop_assert!(approx::abs_diff_eq!(rule.gamma(beta0, c.n) * (1.0 - rho), 1.0, epsilon = 1e-8));
            }
        }
    }
}
