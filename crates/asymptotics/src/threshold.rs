//! Threshold search: where does an observable f(γ) cross a level ℓ? (γ*(n) in THEORY §5.)
//!
//! The search is a scan followed by bisection, built so that it cannot silently miss:
//!
//! 1. **Scan.** f is evaluated on a strictly increasing grid `x_0 < … < x_K` ([`scan`]). With
//!    `s_i = sign(f(x_i) − ℓ)`, a *crossing cell* is a pair of neighbours with `s_i·s_{i+1} < 0`,
//!    and an *exact hit* is a grid point with `s_i = 0` (reported as the degenerate cell
//!    `(x_i, x_i)`). All of them are listed ([`Scan::crossings`]); nothing is assumed about
//!    monotonicity.
//! 2. **Decide.** No crossing is an error ([`Error::NoCrossing`]) naming the grid ends, f there and
//!    the range of f seen. Several crossings are either an error listing every cell
//!    ([`Policy::Unique`], the default) or resolved by taking the first or last ([`Policy::First`],
//!    [`Policy::Last`]); [`find_all_crossings`] refines them all.
//! 3. **Bisect.** Within a cell `[a, b]` with `s(a)·s(b) < 0`: evaluate at a point m inside,
//!    keep the part whose ends still differ in sign, until `b − a ≤ xtol` or f64 cannot split the
//!    interval further. m is the ITP point (interpolate, truncate, project: Oliveira & Takahashi
//!    2021): the regula falsi point pulled towards the midpoint and kept close enough to it that
//!    the search never needs more than one evaluation beyond plain bisection's ⌈log2(w/xtol)⌉,
//!    while a smooth f is bracketed in far fewer (superlinear convergence). With `xtol = 0` (to
//!    f64 resolution), or an xtol within a few ulps of the bracket's magnitude, m is the midpoint
//!    `a/2 + b/2`. The sign change is an invariant, so a
//!    continuous f has a root in every returned bracket, and the bracket width is a rigorous bound
//!    on the distance from `root` (the midpoint) to that root: `|root − γ*| ≤ width/2`.
//!
//! What no finite grid can see: an even number of crossings between two neighbouring grid points
//! (f dips below ℓ and back). The grid is the resolution of the search; refine it where the
//! observable may oscillate. A discontinuous f that jumps across ℓ is "found" at the jump: the
//! returned `f_bracket` values show it. NaN or ±∞ from f is an error ([`Error::ObservableNotFinite`]),
//! never a sign.

use crate::error::{Error, Result};

/// Which way f − ℓ changes sign as x increases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From below ℓ to above.
    Upward,
    /// From above ℓ to below.
    Downward,
    /// f = ℓ exactly at a grid point without a sign change around it (a tangency, or the grid end).
    Touch,
}

/// What to do when the scan finds more than one crossing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// An error, [`Error::MultipleCrossings`], listing every cell.
    #[default]
    Unique,
    /// The crossing with the smallest x.
    First,
    /// The crossing with the largest x.
    Last,
}

/// A grid cell where f − ℓ changes sign (or a grid point where f = ℓ exactly, with `lo == hi`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridCrossing {
    /// Left end of the cell.
    pub lo: f64,
    /// Right end of the cell.
    pub hi: f64,
    /// f(lo).
    pub f_lo: f64,
    /// f(hi).
    pub f_hi: f64,
    /// Direction of the crossing.
    pub direction: Direction,
}

/// A located crossing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// The estimate: the midpoint of the final bracket (or the exact hit).
    pub root: f64,
    /// The final bracket `(a, b)`; f − ℓ has opposite signs (or is 0) at its ends.
    pub bracket: (f64, f64),
    /// `b − a`: the true crossing lies within `width/2` of `root`.
    pub width: f64,
    /// `(f(a), f(b))` at the final bracket.
    pub f_bracket: (f64, f64),
    /// The grid cell (or given bracket) where the sign change was first seen.
    pub cell: (f64, f64),
    /// Direction of the crossing.
    pub direction: Direction,
    /// Whether f(root) = ℓ exactly.
    pub exact: bool,
    /// Evaluations of f made by the bisection (not counting the scan).
    pub evaluations: usize,
}

/// f evaluated on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    /// The grid, strictly increasing.
    pub grid: Vec<f64>,
    /// f at each grid point (all finite).
    pub values: Vec<f64>,
}

fn sign(v: f64, level: f64) -> i8 {
    if v > level {
        1
    } else if v < level {
        -1
    } else {
        0
    }
}

impl Scan {
    /// Every crossing cell and exact hit of `level`, in increasing x (see the module docs).
    pub fn crossings(&self, level: f64) -> Vec<GridCrossing> {
        let s: Vec<i8> = self.values.iter().map(|&v| sign(v, level)).collect();
        let k = s.len();
        let mut out = Vec::new();
        for i in 0..k {
            if s[i] == 0 {
                let left = s[..i].iter().rev().find(|&&v| v != 0).copied();
                let right = s[i + 1..].iter().find(|&&v| v != 0).copied();
                let direction = match (left, right) {
                    (Some(-1), Some(1)) => Direction::Upward,
                    (Some(1), Some(-1)) => Direction::Downward,
                    _ => Direction::Touch,
                };
                out.push(GridCrossing {
                    lo: self.grid[i],
                    hi: self.grid[i],
                    f_lo: self.values[i],
                    f_hi: self.values[i],
                    direction,
                });
            } else if i + 1 < k && s[i] * s[i + 1] < 0 {
                out.push(GridCrossing {
                    lo: self.grid[i],
                    hi: self.grid[i + 1],
                    f_lo: self.values[i],
                    f_hi: self.values[i + 1],
                    direction: if s[i] < 0 {
                        Direction::Upward
                    } else {
                        Direction::Downward
                    },
                });
            }
        }
        out
    }

    fn no_crossing(&self, level: f64) -> Error {
        let k = self.grid.len();
        Error::NoCrossing {
            level,
            lo: self.grid[0],
            hi: self.grid[k - 1],
            f_lo: self.values[0],
            f_hi: self.values[k - 1],
            f_min: self.values.iter().copied().fold(f64::INFINITY, f64::min),
            f_max: self
                .values
                .iter()
                .copied()
                .fold(f64::NEG_INFINITY, f64::max),
            points: k,
        }
    }
}

/// `points` equally spaced values from `lo` to `hi` inclusive.
///
/// # Errors
/// [`Error::BadGrid`] unless `lo < hi` are finite and `points ≥ 2`.
pub fn linspace(lo: f64, hi: f64, points: usize) -> Result<Vec<f64>> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi && points >= 2) {
        return Err(Error::BadGrid {
            reason: format!("linspace({lo}, {hi}, {points}) needs finite lo < hi and >= 2 points"),
        });
    }
    let step = (hi - lo) / (points - 1) as f64;
    Ok((0..points)
        .map(|i| {
            if i + 1 == points {
                hi
            } else {
                lo + step * i as f64
            }
        })
        .collect())
}

fn eval(f: &mut impl FnMut(f64) -> f64, x: f64) -> Result<f64> {
    let v = f(x);
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::ObservableNotFinite { x, value: v })
    }
}

fn check_level(level: f64) -> Result<()> {
    if level.is_finite() {
        Ok(())
    } else {
        Err(Error::BadParameter {
            what: "level",
            value: level,
            valid: "finite",
        })
    }
}

fn check_xtol(xtol: f64) -> Result<()> {
    if xtol >= 0.0 && xtol.is_finite() {
        Ok(())
    } else {
        Err(Error::BadParameter {
            what: "xtol",
            value: xtol,
            valid: "finite and >= 0 (0: bisect to f64 resolution)",
        })
    }
}

/// Evaluate f on a strictly increasing finite grid of at least 2 points.
///
/// # Errors
/// [`Error::BadGrid`] for a bad grid; [`Error::ObservableNotFinite`] if f returns NaN or ±∞.
pub fn scan(mut f: impl FnMut(f64) -> f64, grid: &[f64]) -> Result<Scan> {
    if grid.len() < 2 {
        return Err(Error::BadGrid {
            reason: format!("needs at least 2 points, got {}", grid.len()),
        });
    }
    if let Some(i) = grid.iter().position(|x| !x.is_finite()) {
        return Err(Error::BadGrid {
            reason: format!("grid[{i}] = {} is not finite", grid[i]),
        });
    }
    if let Some(i) = grid.windows(2).position(|w| w[0] >= w[1]) {
        return Err(Error::BadGrid {
            reason: format!(
                "not strictly increasing: grid[{i}] = {} >= grid[{}] = {}",
                grid[i],
                i + 1,
                grid[i + 1]
            ),
        });
    }
    let values = grid
        .iter()
        .map(|&x| eval(&mut f, x))
        .collect::<Result<Vec<_>>>()?;
    Ok(Scan {
        grid: grid.to_vec(),
        values,
    })
}

/// Bisect within a cell known to have a sign change (or an exact hit at an end).
fn bisect_cell(
    f: &mut impl FnMut(f64) -> f64,
    level: f64,
    cell: GridCrossing,
    xtol: f64,
) -> Result<Crossing> {
    let (mut a, mut b, mut fa, mut fb) = (cell.lo, cell.hi, cell.f_lo, cell.f_hi);
    let done = |a: f64, b: f64, fa: f64, fb: f64, exact: bool, evaluations: usize| Crossing {
        root: if a == b { a } else { 0.5 * a + 0.5 * b },
        bracket: (a, b),
        width: b - a,
        f_bracket: (fa, fb),
        cell: (cell.lo, cell.hi),
        direction: cell.direction,
        exact,
        evaluations,
    };
    if fa == level {
        return Ok(done(a, a, fa, fa, true, 0));
    }
    if fb == level {
        return Ok(done(b, b, fb, fb, true, 0));
    }
    let a_above = fa > level;
    debug_assert_ne!(a_above, fb > level, "bisect_cell without a sign change");
    let mut evaluations = 0;
    // ITP's budget: ⌈log2(width/xtol)⌉ halvings plus ITP_SLACK steps.
    let halvings = if xtol > 0.0 {
        ((b - a) / xtol).log2().ceil().max(0.0)
    } else {
        0.0
    };
    let kappa1 = ITP_KAPPA1 / (b - a);
    // The budget's final width, less the rounding of a midpoint at the bracket's magnitude
    // (a few ulps), so that rounding cannot cost a step beyond the budget at the end.
    let tight = xtol - 4.0 * f64::EPSILON * a.abs().max(b.abs());
    let mut step = 0.0;
    while b - a > xtol {
        let mid = 0.5 * a + 0.5 * b;
        if !(mid > a && mid < b) {
            break; // f64 cannot split [a, b] further
        }
        let m = if tight > 0.0 {
            // The projection keeps the next bracket within tight·2^(budget − steps taken).
            let reach = 0.5 * tight * (halvings + ITP_SLACK - step).exp2();
            let radius = reach - 0.5 * (b - a);
            itp_point(a, b, fa - level, fb - level, kappa1, radius)
        } else {
            mid
        };
        let m = if m > a && m < b { m } else { mid };
        step += 1.0;
        let fm = eval(f, m)?;
        evaluations += 1;
        if fm == level {
            return Ok(done(m, m, fm, fm, true, evaluations));
        }
        if (fm > level) == a_above {
            a = m;
            fa = fm;
        } else {
            b = m;
            fb = fm;
        }
    }
    Ok(done(a, b, fa, fb, false, evaluations))
}

/// κ₁ of the ITP step, relative to the starting width: the truncation δ = κ₁(b − a)² moves
/// the regula falsi point towards the midpoint (the value its authors suggest, 0.2/(b₀ − a₀)).
const ITP_KAPPA1: f64 = 0.2;

/// The ITP steps allowed beyond the bisection count (n₀ = 1): the worst case costs one
/// evaluation more than bisection, the usual case (a smooth f) far fewer.
const ITP_SLACK: f64 = 1.0;

/// The next point of the ITP method (Oliveira & Takahashi, ACM TOMS 47 (2021), "An enhancement
/// of the bisection method average performance preserving minmax optimality") in [a, b] with
/// g(a) = `ga` and g(b) = `gb` of opposite signs: the regula falsi point, truncated towards the
/// midpoint by κ₁(b − a)² (κ₂ = 2), then projected into the interval of half-width `radius`
/// about the midpoint, which keeps every step within the bisection budget.
fn itp_point(a: f64, b: f64, ga: f64, gb: f64, kappa1: f64, radius: f64) -> f64 {
    let mid = 0.5 * a + 0.5 * b;
    let falsi = (gb * a - ga * b) / (gb - ga);
    if !falsi.is_finite() {
        return mid;
    }
    let sigma = if mid >= falsi { 1.0 } else { -1.0 };
    let delta = kappa1 * (b - a) * (b - a);
    let truncated = if delta <= (mid - falsi).abs() {
        falsi + sigma * delta
    } else {
        mid
    };
    if (truncated - mid).abs() <= radius.max(0.0) {
        truncated
    } else {
        mid - sigma * radius.max(0.0)
    }
}

/// Bisect for f(x) = `level` in the bracket `[lo, hi]`, to a bracket width ≤ `xtol` (absolute;
/// 0 means to f64 resolution).
///
/// Only the two ends are inspected before bisecting: use [`find_crossing`] with a grid when the
/// observable may cross more than once.
///
/// # Errors
/// [`Error::NoCrossing`] (naming the bracket and f at its ends) if f − ℓ has the same strict sign
/// at both ends; [`Error::BadGrid`] unless `lo < hi` are finite; [`Error::ObservableNotFinite`];
/// [`Error::BadParameter`] for a bad `level` or `xtol`.
pub fn bisect(
    mut f: impl FnMut(f64) -> f64,
    level: f64,
    lo: f64,
    hi: f64,
    xtol: f64,
) -> Result<Crossing> {
    check_level(level)?;
    check_xtol(xtol)?;
    let s = scan(&mut f, &[lo, hi])?;
    let cells = s.crossings(level);
    match cells.first() {
        None => Err(s.no_crossing(level)),
        Some(&cell) => {
            // An exact hit at an end is the root; otherwise the one cell [lo, hi].
            let mut c = bisect_cell(&mut f, level, cell, xtol)?;
            c.cell = (lo, hi);
            Ok(c)
        }
    }
}

/// Refine one crossing of `level` found on an existing scan, choosing among several by `policy`.
///
/// # Errors
/// [`Error::NoCrossing`], [`Error::MultipleCrossings`] (with [`Policy::Unique`]), and the errors of
/// f and of the parameters as in [`bisect`].
pub fn refine(
    mut f: impl FnMut(f64) -> f64,
    scan: &Scan,
    level: f64,
    xtol: f64,
    policy: Policy,
) -> Result<Crossing> {
    check_level(level)?;
    check_xtol(xtol)?;
    let cells = scan.crossings(level);
    let cell = match (cells.len(), policy) {
        (0, _) => return Err(scan.no_crossing(level)),
        (1, _) | (_, Policy::First) => cells[0],
        (_, Policy::Last) => cells[cells.len() - 1],
        (_, Policy::Unique) => {
            return Err(Error::MultipleCrossings {
                level,
                brackets: cells.iter().map(|c| (c.lo, c.hi)).collect(),
            });
        }
    };
    bisect_cell(&mut f, level, cell, xtol)
}

/// Scan f on `grid`, then bisect the crossing of `level` chosen by `policy` to width ≤ `xtol`.
///
/// # Errors
/// As [`scan`] and [`refine`].
pub fn find_crossing(
    mut f: impl FnMut(f64) -> f64,
    level: f64,
    grid: &[f64],
    xtol: f64,
    policy: Policy,
) -> Result<Crossing> {
    check_level(level)?;
    let s = scan(&mut f, grid)?;
    refine(f, &s, level, xtol, policy)
}

/// Scan f on `grid` and bisect every crossing of `level`, in increasing x.
///
/// # Errors
/// [`Error::NoCrossing`] if there is none; otherwise as [`scan`] and [`bisect`].
pub fn find_all_crossings(
    mut f: impl FnMut(f64) -> f64,
    level: f64,
    grid: &[f64],
    xtol: f64,
) -> Result<Vec<Crossing>> {
    check_level(level)?;
    check_xtol(xtol)?;
    let s = scan(&mut f, grid)?;
    let cells = s.crossings(level);
    if cells.is_empty() {
        return Err(s.no_crossing(level));
    }
    cells
        .into_iter()
        .map(|c| bisect_cell(&mut f, level, c, xtol))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::{abs_diff_eq, assert_abs_diff_eq};
    use proptest::prelude::*;
    use std::f64::consts::PI;

    #[test]
    fn bisection_finds_known_roots() {
        let c = bisect(|x| x * x, 2.0, 0.0, 2.0, 1e-13).unwrap();
        assert!(
            abs_diff_eq!(
                c.root,
                2f64.sqrt(),
                epsilon = c.width / 2.0 + 4.0 * f64::EPSILON
            ),
            "{c:?}"
        );
        assert!(c.width <= 1e-13 && c.direction == Direction::Upward && !c.exact);
        assert!(c.f_bracket.0 < 2.0 && c.f_bracket.1 > 2.0);
        // Bisection would take ⌈log2(2 / 1e-13)⌉ = 45 halvings; the ITP steps converge
        // superlinearly on this smooth f.
        assert!(c.evaluations <= 12, "{c:?}");

        let c = bisect(f64::cos, 0.0, 1.0, 2.0, 0.0).unwrap();
        assert_eq!(c.direction, Direction::Downward);
        assert_abs_diff_eq!(c.root, PI / 2.0, epsilon = 1e-15);
        // xtol = 0: the bracket is two neighbouring doubles.
        assert_eq!(c.bracket.1, c.bracket.0.next_up());
    }

    #[test]
    fn missing_sign_change_is_an_error_naming_the_bracket() {
        let e = bisect(|x| x * x, -1.0, -1.0, 1.0, 1e-10).unwrap_err();
        assert_eq!(
            e,
            Error::NoCrossing {
                level: -1.0,
                lo: -1.0,
                hi: 1.0,
                f_lo: 1.0,
                f_hi: 1.0,
                f_min: 1.0,
                f_max: 1.0,
                points: 2
            }
        );
        // On a grid: x² − 0.5 crosses 0 twice, but a level of −1 is never reached.
        let grid = linspace(-1.0, 1.0, 21).unwrap();
        let e = find_crossing(|x| x * x - 0.5, -1.0, &grid, 1e-10, Policy::First).unwrap_err();
        match e {
            Error::NoCrossing {
                f_min,
                f_max,
                points,
                ..
            } => {
                assert_eq!(points, 21);
                assert!(abs_diff_eq!(f_min, -0.5, epsilon = 1e-15) && f_max == 0.5);
            }
            e => panic!("{e}"),
        }
        assert!(e.to_string().contains("no crossing of level -1"));
    }

    #[test]
    fn multiple_crossings_are_reported_not_guessed() {
        let grid = linspace(0.5, 10.0, 96).unwrap();
        let e = find_crossing(f64::sin, 0.0, &grid, 1e-12, Policy::Unique).unwrap_err();
        match &e {
            Error::MultipleCrossings { brackets, .. } => {
                assert_eq!(brackets.len(), 3);
                for (k, (lo, hi)) in brackets.iter().enumerate() {
                    let r = (k + 1) as f64 * PI;
                    assert!(*lo < r && r < *hi);
                }
            }
            e => panic!("{e}"),
        }
        let first = find_crossing(f64::sin, 0.0, &grid, 1e-12, Policy::First).unwrap();
        let last = find_crossing(f64::sin, 0.0, &grid, 1e-12, Policy::Last).unwrap();
        assert!(
            abs_diff_eq!(first.root, PI, epsilon = 1e-12) && first.direction == Direction::Downward
        );
        assert!(
            abs_diff_eq!(last.root, 3.0 * PI, epsilon = 1e-12)
                && last.direction == Direction::Downward
        );
        let all = find_all_crossings(f64::sin, 0.0, &grid, 1e-12).unwrap();
        let roots: Vec<f64> = all.iter().map(|c| c.root).collect();
        assert_eq!(roots.len(), 3);
        assert!(
            abs_diff_eq!(roots[1], 2.0 * PI, epsilon = 1e-12)
                && all[1].direction == Direction::Upward
        );
    }

    #[test]
    fn exact_hits_on_the_grid() {
        let grid = [0.0, 1.0, 2.0, 3.0];
        let c = find_crossing(|x| x - 2.0, 0.0, &grid, 1e-12, Policy::Unique).unwrap();
        assert!(c.exact && c.root == 2.0 && c.width == 0.0 && c.direction == Direction::Upward);
        // A tangency at a grid point is a root with no sign change.
        let s = scan(|x| (x - 1.0).powi(2), &grid).unwrap();
        let cells = s.crossings(0.0);
        assert_eq!(cells.len(), 1);
        assert_eq!(cells[0].direction, Direction::Touch);
        // An exact hit at a bracket end.
        let c = bisect(|x| x, 0.0, 0.0, 1.0, 1e-9).unwrap();
        assert!(c.exact && c.root == 0.0);
    }

    #[test]
    fn bad_input_is_an_error() {
        assert!(matches!(
            find_crossing(|x| x, 0.0, &[1.0], 1e-9, Policy::Unique),
            Err(Error::BadGrid { .. })
        ));
        assert!(matches!(
            find_crossing(|x| x, 0.0, &[0.0, 2.0, 1.0], 1e-9, Policy::Unique),
            Err(Error::BadGrid { .. })
        ));
        assert!(matches!(
            find_crossing(|x| x, 0.0, &[0.0, f64::NAN], 1e-9, Policy::Unique),
            Err(Error::BadGrid { .. })
        ));
        assert!(matches!(
            bisect(|x| x, 0.0, 1.0, -1.0, 1e-9),
            Err(Error::BadGrid { .. })
        ));
        assert!(matches!(
            bisect(|x| x, 0.0, -1.0, 1.0, -1.0),
            Err(Error::BadParameter { what: "xtol", .. })
        ));
        assert!(matches!(
            bisect(|x| x, f64::NAN, -1.0, 1.0, 1e-9),
            Err(Error::BadParameter { what: "level", .. })
        ));
        // NaN from the observable, during the scan and during the bisection.
        let e = find_crossing(
            |x| if x > 0.5 { f64::NAN } else { x },
            0.0,
            &[0.0, 1.0],
            1e-9,
            Policy::Unique,
        );
        assert!(matches!(e, Err(Error::ObservableNotFinite { x: 1.0, value }) if value.is_nan()));
        assert!(matches!(
            bisect(
                |x| if x == 0.25 { f64::INFINITY } else { x },
                0.1,
                -0.5,
                1.0,
                1e-9
            ),
            Err(Error::ObservableNotFinite { x: 0.25, .. })
        ));
        assert!(linspace(1.0, 1.0, 5).is_err() && linspace(0.0, 1.0, 1).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// A monotone sigmoid with a known crossing anywhere in the grid is found within xtol.
        #[test]
        fn finds_the_root_of_any_sigmoid(
            r in -0.99f64..0.99,
            s in 0.5f64..200.0,
            up in any::<bool>(),
            level in -0.9f64..0.9,
            points in 2usize..40,
        ) {
            let sign = if up { 1.0 } else { -1.0 };
            // f(x) = tanh(s(x − r)) crosses `level` at x* = r + atanh(level)/s.
            let f = |x: f64| sign * (s * (x - r)).tanh();
            let target = sign * level;
            let root = r + level.atanh() / s;
            prop_assume!((-1.0..=1.0).contains(&root));
            let grid = linspace(-1.0, 1.0, points).unwrap();
            let c = find_crossing(f, target, &grid, 1e-12, Policy::Unique).unwrap();
            prop_assert!(abs_diff_eq!(c.root, root, epsilon = 1e-12), "{:?} vs {}", c, root);
            prop_assert!(c.bracket.0 <= root + 1e-15 && root <= c.bracket.1 + 1e-15);
            prop_assert_eq!(c.direction, if up { Direction::Upward } else { Direction::Downward });
        }

        /// The ITP steps never cost more than one evaluation beyond bisection, on smooth,
        /// kinked and discontinuous f alike, and keep a sign change in a bracket ≤ xtol.
        #[test]
        fn itp_stays_within_the_bisection_budget(
            root in -0.9f64..0.9,
            kind in 0u8..4,
            s in 0.1f64..1e4,
            xtol_exp in -14i32..-1,
        ) {
            let xtol = 10f64.powi(xtol_exp);
            let f = |x: f64| {
                let t = x - root;
                match kind {
                    0 => (s * t).tanh(),
                    1 => t * t * t + 1e-3 * t,
                    2 => if t < 0.0 { -1.0 } else { 1.0 + s * t },
                    _ => if t < 0.0 { s * t } else { t / s },
                }
            };
            let c = bisect(f, 0.0, -1.0, 1.0, xtol).unwrap();
            let budget = (2.0 / xtol).log2().ceil() as usize + 1;
            prop_assert!(c.evaluations <= budget, "{:?}, budget {}", c, budget);
            prop_assert!(c.width <= xtol || c.exact);
            prop_assert!(c.exact || f(c.bracket.0) * f(c.bracket.1) < 0.0, "{:?}", c);
            prop_assert!(c.bracket.0 <= root + 1e-12 && root <= c.bracket.1 + 1e-12);
        }

        /// Whatever the grid, a function that never reaches the level gives an error.
        #[test]
        fn never_invents_a_crossing(
            a in -10.0f64..10.0,
            gap in 1e-12f64..5.0,
            points in 2usize..50,
        ) {
            let grid = linspace(-3.0, 3.0, points).unwrap();
            let f = |x: f64| a + gap + x * x;
            let is_no_crossing = matches!(
                find_crossing(f, a, &grid, 1e-10, Policy::First),
                Err(Error::NoCrossing { .. })
            );
            prop_assert!(is_no_crossing);
        }

        /// Every root bracket returned has a sign change (or an exact hit) at its ends.
        #[test]
        fn brackets_keep_the_sign_change(freq in 1.0f64..20.0, phase in 0.0f64..6.0) {
            let grid = linspace(0.0, 3.0, 400).unwrap();
            let f = |x: f64| (freq * x + phase).sin();
            if let Ok(all) = find_all_crossings(f, 0.0, &grid, 1e-11) {
                for c in all {
                    let (fa, fb) = (f(c.bracket.0), f(c.bracket.1));
                    prop_assert!(c.exact || fa * fb < 0.0, "{:?}", c);
                    prop_assert!(c.width <= 1e-11);
                }
            }
        }
    }
}
