//! The multiset-simplex closed forms (`critscale_simplex::multiset`, THEORY §10) against the
//! reference layer (`critscale_model`) on explicit token matrices with repeated rows: the self
//! mass Σ_{j copy of i} A_ij, the output cosines between types and λ over the pairs that are not
//! copies. The reference observables refuse copies (λ's ratio is 0/0 there), so λ over the other
//! pairs is formed here from the reference outputs.

use approx::abs_diff_eq;
use critscale_model::{LayerParams, ModelError, forward, observables, simplex};
use critscale_simplex::{MultisetLayer, MultisetParams, Scaling, SimplexLayer};
use ndarray::Array2;
use proptest::prelude::*;

/// The tokens: the simplex of m = counts.len() directions (|x|² = q, cosine ρ, d = m + 2), row k
/// repeated counts[k] times; and the type of every token.
fn repeated_simplex(counts: &[usize], rho: f64, q: f64) -> (Array2<f64>, Vec<usize>) {
    let m = counts.len();
    let base = simplex::<f64>(&(), m, m + 2, &rho, &q).unwrap();
    let types: Vec<usize> = counts
        .iter()
        .enumerate()
        .flat_map(|(k, &c)| std::iter::repeat_n(k, c))
        .collect();
    let x = Array2::from_shape_fn((types.len(), m + 2), |(i, a)| base[[types[i], a]]);
    (x, types)
}

/// Compares the closed forms with the reference layer at (counts, ρ, γ, α, q).
fn compare(counts: &[usize], rho: f64, gamma: f64, alpha: f64, q: f64) -> Result<(), String> {
    let (x, types) = repeated_simplex(counts, rho, q);
    let n = types.len();
    let out = forward(&x, &LayerParams::from_gamma(&gamma, n, alpha)).unwrap();
    let params = MultisetParams::new(
        counts.iter().map(|&c| c as f64).collect(),
        rho,
        Scaling::Gamma(gamma),
        alpha,
        q,
    )
    .unwrap();
    let layer = MultisetLayer::evaluate(&params);
    let mut lambda_sum = 0.0;
    let mut pairs = 0.0;
    for i in 0..n {
        let own: f64 = (0..n)
            .filter(|&j| types[j] == types[i])
            .map(|j| out.attention[[i, j]])
            .sum();
        let want = layer.types[types[i]].self_mass;
        if !abs_diff_eq!(own, want, epsilon = 1e-13) {
            return Err(format!(
                "self mass of row {i}: model {own}, closed form {want}"
            ));
        }
        for j in (i + 1)..n {
            let d_out: f64 = (0..x.ncols())
                .map(|a| (out.y_out[[i, a]] - out.y_out[[j, a]]).powi(2))
                .sum();
            let (k, l) = (types[i], types[j]);
            let closed = layer.one_minus_cos_out(k, l);
            // 1 − cos' = |y'_i − y'_j|²/2; copies have equal outputs.
            if !abs_diff_eq!(d_out / 2.0, closed, epsilon = 1e-13) {
                return Err(format!(
                    "1 - cos' of ({i}, {j}): model {}, closed form {closed}",
                    d_out / 2.0
                ));
            }
            if k != l {
                let d_in: f64 = (0..x.ncols())
                    .map(|a| (out.y[[i, a]] - out.y[[j, a]]).powi(2))
                    .sum();
                lambda_sum += d_out / d_in;
                pairs += 1.0;
            }
        }
    }
    let lambda = lambda_sum / pairs;
    if !abs_diff_eq!(lambda, layer.lambda, epsilon = 1e-12 * lambda.max(1e-3)) {
        return Err(format!(
            "lambda: model {lambda}, closed form {}",
            layer.lambda
        ));
    }
    Ok(())
}

#[test]
fn equal_multiplicities_match_the_reference_layer_and_the_m_type_simplex() {
    for (m, c, gamma) in [(3, 4, 0.8), (5, 3, 1.43), (4, 6, 2.5)] {
        let counts = vec![c; m];
        compare(&counts, 0.3, gamma, 0.0, 1.0).unwrap();
        compare(&counts, 0.3, gamma, 0.5, 2.0).unwrap();
        let params =
            MultisetParams::new(vec![c as f64; m], 0.3, Scaling::Gamma(gamma), 0.0, 1.0).unwrap();
        let reduced = SimplexLayer::evaluate(&params.equal_reduction().unwrap().unwrap());
        let layer = MultisetLayer::evaluate(&params);
        assert!(abs_diff_eq!(layer.lambda, reduced.lambda, epsilon = 1e-14));
        assert!(abs_diff_eq!(
            layer.types[0].self_mass,
            reduced.self_weight,
            epsilon = 1e-15
        ));
    }
}

#[test]
fn unequal_multiplicities_match_the_reference_layer() {
    compare(&[1, 2, 5], 0.3, 1.2, 0.0, 1.0).unwrap();
    compare(&[7, 1, 1, 1, 1, 1], 0.3, 1.43, 0.0, 1.0).unwrap();
    compare(&[3, 9, 2, 4], 0.6, 2.0, 0.25, 0.5).unwrap();
}

#[test]
fn the_reference_observables_refuse_copies() {
    let (x, _) = repeated_simplex(&[2, 1], 0.3, 1.0);
    let out = forward(&x, &LayerParams::new(1.0, 0.0)).unwrap();
    assert_eq!(
        observables(&out),
        Err(ModelError::DuplicateDirection { i: 0, j: 1 })
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_multisets_match_the_reference_layer(
        counts in prop::collection::vec(1usize..6, 2..6),
        rho in 0.0f64..0.9,
        gamma in 0.1f64..4.0,
        alpha in prop_oneof![Just(0.0), 0.0f64..1.0],
        q in 0.25f64..4.0,
    ) {
        prop_assert!(compare(&counts, rho, gamma, alpha, q).is_ok(), "{:?}", compare(&counts, rho, gamma, alpha, q));
    }
}
