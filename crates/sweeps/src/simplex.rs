//! λ of the exact simplex (closed forms of `critscale-simplex`, α = 0, q = 1) and where it
//! crosses a level, in the variable γ/γ_c (THEORY §5).

use crate::{Error, Result};
use critscale_asymptotics::threshold;
use critscale_simplex::{Scaling, SimplexLayer, SimplexParams};

/// The bracket of γ/γ_c searched for a level crossing: λ is below any level in (0, 1) at the left
/// end and above it at the right end for every n and ρ of the report.
pub const RATIO_BRACKET: (f64, f64) = (1e-6, 64.0);

/// The bisection stops when the bracket in γ/γ_c is this narrow (crossings lie near 1, so this
/// is ~1e-13 relative: far below the 10 digits of the data files).
pub const RATIO_TOL: f64 = 1e-13;

/// λ and λ_angle of the simplex of n tokens with cosine ρ at γ/γ_c = `ratio` (α = 0, q = 1).
///
/// # Errors
/// [`Error::Simplex`] if the closed forms refuse the point (n < 2, ρ outside [0, 1), …).
pub fn lambda(n: f64, rho: f64, ratio: f64) -> Result<(f64, f64)> {
    // γ = ratio·γ_c written as ratio/(1 − ρ): the phase grid's data were computed this way.
    let params = SimplexParams::new(n, rho, Scaling::Gamma(ratio / (1.0 - rho)), 0.0, 1.0, None)
        .map_err(|e| Error::Simplex {
            what: format!("simplex point n = {n}, rho = {rho}, gamma/gamma_c = {ratio}"),
            message: e.to_string(),
        })?;
    let layer = SimplexLayer::evaluate(&params);
    Ok((layer.lambda, layer.lambda_angle))
}

/// The γ/γ_c where the simplex λ = `level`, by bisection of the exact closed form (λ increases
/// with γ) over [`RATIO_BRACKET`] to [`RATIO_TOL`]; the midpoint of the last bracket.
///
/// # Errors
/// [`Error::Simplex`] for a bad point, [`Error::Crossing`] if λ does not cross `level` in the
/// bracket.
pub fn level_ratio(n: f64, rho: f64, level: f64) -> Result<f64> {
    // The closure cannot return an error: a refused point is NaN, which the search reports,
    // and the first refusal is kept to say why.
    let mut refused = None;
    let found = threshold::bisect(
        |ratio| match lambda(n, rho, ratio) {
            Ok((l, _)) => l,
            Err(e) => {
                refused.get_or_insert(e);
                f64::NAN
            }
        },
        level,
        RATIO_BRACKET.0,
        RATIO_BRACKET.1,
        RATIO_TOL,
    );
    if let Some(e) = refused {
        return Err(e);
    }
    found.map(|c| c.root).map_err(|source| Error::Crossing {
        what: format!("simplex lambda = {level} at n = {n}, rho = {rho}"),
        source,
    })
}

/// The γ where the simplex λ = ½ at n and ρ: [`level_ratio`] times γ_c = 1/(1 − ρ).
///
/// # Errors
/// As [`level_ratio`].
pub fn half_crossing(n: f64, rho: f64) -> Result<f64> {
    Ok(level_ratio(n, rho, crate::LAMBDA_HALF)? * critscale_simplex::gamma_c(&rho))
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;

    #[test]
    fn crossings_are_ordered_and_approach_gamma_c() {
        let rho = 0.3;
        let mut previous_gap = f64::INFINITY;
        for n in [1e2, 1e4, 1e16] {
            let q = level_ratio(n, rho, 0.25).unwrap();
            let h = level_ratio(n, rho, 0.5).unwrap();
            let t = level_ratio(n, rho, 0.75).unwrap();
            assert!(q < h && h < t, "{q} {h} {t}");
            // λ at the crossing is the level, to the accuracy of the bracket.
            assert_abs_diff_eq!(lambda(n, rho, h).unwrap().0, 0.5, epsilon = 1e-9);
            let gap = (h - 1.0).abs();
            assert!(gap < previous_gap, "n = {n}: {gap}");
            previous_gap = gap;
        }
        let g = half_crossing(1e4, rho).unwrap();
        assert_abs_diff_eq!(
            g * (1.0 - rho),
            level_ratio(1e4, rho, 0.5).unwrap(),
            epsilon = 1e-14
        );
    }

    #[test]
    fn refusals_are_errors() {
        assert!(matches!(
            level_ratio(1.0, 0.3, 0.5),
            Err(Error::Simplex { .. })
        ));
        assert!(matches!(
            level_ratio(1e4, 0.3, 2.0),
            Err(Error::Crossing { .. })
        ));
    }
}
