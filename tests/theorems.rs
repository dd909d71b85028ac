//! The claim registry: every claim passes at the quick budget and its check rejects each of its
//! negative controls (settings where the theorem's conclusion is false), fails when its
//! prediction is wrong, and proofs/ cites exactly the registered claims.

use critscale_theorems::{Budget, Perturbation, Verdict, cited_ids, registry};
use std::collections::BTreeSet;

#[test]
fn every_claim_passes_at_the_quick_budget() {
    let mut failures = Vec::new();
    for claim in registry() {
        match claim.run(Budget::Quick, &Perturbation::default()) {
            Ok(evidence) if evidence.verdict == Verdict::Pass => {
                // The verdict rule requires it; say so on the evidence itself.
                assert!(
                    !evidence.controls.is_empty(),
                    "{} has no control",
                    evidence.id
                );
                for c in &evidence.controls {
                    assert_eq!(c.verdict, Verdict::Fail, "{}: {c:?}", evidence.id);
                    eprintln!(
                        "     control rejected: {} (measured {:.6e}, predicted {:.6e}, tol {:.1e})",
                        c.setting, c.measured, c.prediction, c.tolerance
                    );
                }
                eprintln!(
                    "pass {:28} predicted {:.12e} measured {:.12e} ci [{:.6e}, {:.6e}] tol {:.1e} ({:.2} s)",
                    evidence.id,
                    evidence.prediction,
                    evidence.measured,
                    evidence.ci[0],
                    evidence.ci[1],
                    evidence.tolerance,
                    evidence.seconds
                );
            }
            Ok(evidence) => failures.push(format!("{evidence:?}")),
            Err(err) => failures.push(err.to_string()),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// γ_c shifted by 0.2, an exponent off by 0.1, a limit off by 0.01 — or, for a claim whose
/// tolerance and interval reach further (`T4.simplex.sub`: first order in β²v ≈ 0.04), by twice
/// that reach: every check must fail.
#[test]
fn every_claim_fails_with_a_wrong_prediction() {
    for claim in registry() {
        let base: f64 = match claim.prediction {
            critscale_theorems::Prediction::Threshold => 0.2,
            critscale_theorems::Prediction::Exponent => 0.1,
            critscale_theorems::Prediction::Limit => 0.01,
        };
        let e = claim
            .run(Budget::Quick, &Perturbation::default())
            .unwrap_or_else(|e| panic!("{e}"));
        let reach = e.tolerance + (e.ci[1] - e.ci[0]) / 2.0 + (e.measured - e.prediction).abs();
        let size = base.max(2.0 * reach);
        for sign in [1.0, -1.0] {
            let evidence = claim
                .run(Budget::Quick, &claim.perturbation(sign * size))
                .unwrap_or_else(|e| panic!("{e}"));
            // The claim's own check must fail, whatever its controls did.
            let own = Verdict::judge(
                evidence.prediction,
                evidence.measured,
                evidence.ci,
                evidence.tolerance,
            );
            assert_eq!(
                own,
                Verdict::Fail,
                "{} passed with a wrong prediction: {evidence:?}",
                claim.id
            );
            assert_eq!(evidence.verdict, Verdict::Fail, "{}", claim.id);
        }
    }
}

#[test]
fn proofs_and_registry_agree() {
    let registered: BTreeSet<String> = registry().iter().map(|c| c.id.to_owned()).collect();
    let mut cited = BTreeSet::new();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/proofs");
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            cited.extend(cited_ids(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    let uncited: Vec<_> = registered.difference(&cited).collect();
    let unchecked: Vec<_> = cited.difference(&registered).collect();
    assert!(
        uncited.is_empty(),
        "claims without an entry in proofs/: {uncited:?}"
    );
    assert!(
        unchecked.is_empty(),
        "claim IDs in proofs/ without a check: {unchecked:?}"
    );
}

#[test]
fn claim_ids_are_unique_and_well_formed() {
    let claims = registry();
    let ids: BTreeSet<&str> = claims.iter().map(|c| c.id).collect();
    assert_eq!(ids.len(), claims.len());
    for claim in &claims {
        assert!(claim.id.starts_with(claim.theorem), "{}", claim.id);
        assert_eq!(
            cited_ids(&format!("`{}`", claim.id)),
            vec![claim.id.to_owned()]
        );
    }
}
