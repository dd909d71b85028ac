//! The default certificate set run by `critscale certify`.
//!
//! All at ρ = 0.3, q = 1 and N = 10⁶; "sub" is γ = 0.8 γ_c (κ = −0.2), "crit" γ = γ_c, "super"
//! γ = 1.25 γ_c (κ = 0.25), residual statements use α = 0.5, η statements d = n (and d = 10n
//! once). Each ε is the largest deviation over n ≥ N (as the rates of THEORY §5 predict it at
//! n = N, or measured, see the comments), rounded up a little (the crate README lists them), so ε
//! cannot be made much smaller without the claim becoming false.
//!
//! A `limit` certificate (a fixed ε on cos_out or η − limit) proves a band: from N on, and at
//! n = ∞, the closed form stays within ε of the limit. It does not prove a rate. The `rate`
//! certificates bound the deviation scaled by the predicted power of n (n^{−2κ}, n^{κ}, n or
//! n/log² n), which is what proves a speed of approach; there is one per side of γ_c for T1 and T3.
//!
//! IDs are `cert.` followed by the theorem, quantity and side (`cert.T1.rate.sub`). They are not
//! claim IDs: the claims of `critscale-theorems` with the same stem are finite-n checks at other
//! γ (e.g. the claim `T1.rate.sub` fits λ at 0.7 γ_c; the certificate `cert.T1.rate.sub` bounds
//! n^{−2κ}λ at 0.8 γ_c for all n ≥ 10⁶).

use crate::{Quantity, Statement};

fn statement(
    id: &str,
    quantity: Quantity,
    alpha: &str,
    gamma_ratio: (&str, &str),
    d_ratio: &str,
    epsilon: &str,
) -> Statement {
    Statement {
        id: id.to_owned(),
        quantity,
        rho: "0.3".to_owned(),
        alpha: alpha.to_owned(),
        q: "1".to_owned(),
        gamma_ratio: [gamma_ratio.0.to_owned(), gamma_ratio.1.to_owned()],
        d_ratio: d_ratio.to_owned(),
        n_min: "1e6".to_owned(),
        epsilon: epsilon.to_owned(),
        target: None,
    }
}

const SUB: (&str, &str) = ("0.8", "0.8");
const CRIT: (&str, &str) = ("1", "1");
const SUPER: (&str, &str) = ("1.25", "1.25");

/// The statements `critscale certify` proves by default.
pub fn default_statements() -> Vec<Statement> {
    use Quantity::*;
    vec![
        statement("cert.T1.limit.sub", CosOut, "0", SUB, "1", "0.01"),
        statement("cert.T1.limit.crit", CosOut, "0", CRIT, "1", "1e-6"),
        statement("cert.T1.limit.super", CosOut, "0", SUPER, "1", "0.015"),
        statement(
            "cert.T1.limit.super.range",
            CosOut,
            "0",
            ("1.25", "4"),
            "1",
            "0.015",
        ),
        statement(
            "cert.T1.limit.sub.residual",
            CosOut,
            "0.5",
            SUB,
            "1",
            "0.05",
        ),
        statement(
            "cert.T1.limit.crit.residual",
            CosOut,
            "0.5",
            CRIT,
            "1",
            "1e-6",
        ),
        statement(
            "cert.T1.limit.super.residual",
            CosOut,
            "0.5",
            SUPER,
            "1",
            "0.01",
        ),
        statement("cert.T1.rate.sub", LambdaRateSub, "0", SUB, "1", "0.5"),
        // n·(cos_out − 4ρ/(1+3ρ)) increases in n towards (1 − ρ)(3 + ρ)/(1 + 3ρ)² = 0.63988920
        // (mpmath at 2·log10 n + 60 digits, n = 1e6 … 1e300 in steps of 10^0.02: 0.63988892 at
        // n = 1e6, 0.63988920 from n ≈ 1e12 on), so the supremum over n ≥ 1e6 is the n = ∞ value
        // and C = 0.64 sits 1.1e-5 above it. ε = 0.6398 is disproved at n = ∞ (a test).
        statement("cert.T1.rate.crit", CosOutRateCrit, "0", CRIT, "1", "0.64"),
        statement(
            "cert.T1.rate.super",
            OneMinusLambdaRateSuper,
            "0",
            SUPER,
            "1",
            "0.05",
        ),
        statement("cert.T3.limit.sub", EtaMinusLimit, "0", SUB, "1", "0.004"),
        statement("cert.T3.limit.crit", EtaMinusLimit, "0", CRIT, "1", "2e-5"),
        statement(
            "cert.T3.limit.crit.d10n",
            EtaMinusLimit,
            "0",
            CRIT,
            "10",
            "2e-6",
        ),
        statement(
            "cert.T3.limit.super",
            EtaMinusLimit,
            "0",
            SUPER,
            "1",
            "0.07",
        ),
        statement("cert.T3.rate.sub", EtaRateSub, "0", SUB, "1", "0.15"),
        // (n/log² n)·(η − (1 − 1/d)/(4q)), d = n: decreasing in n from 0.06299019 at n = 1e6
        // (same mpmath scan) to ρ/16 = 0.01875 at n = ∞, so the supremum is the n = N value and
        // C = 0.063 sits 1.0e-5 above it. ε = 0.0629 is disproved at n = 1e6 (a test). The scale
        // is n/log² n and not n: n·(η − limit) ≈ ρ log² n/16 + (2 + ρ) log n/4 has no bound.
        statement("cert.T3.rate.crit", EtaRateCrit, "0", CRIT, "1", "0.063"),
        statement(
            "cert.T3.rate.super",
            EtaDeficitRateSuper,
            "0",
            SUPER,
            "1",
            "0.1",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProofStatus, SearchLimits, certify};

    #[test]
    fn default_statements_are_proved() {
        for statement in default_statements() {
            let outcome = certify(&statement, SearchLimits::default()).unwrap();
            assert_eq!(outcome.verdict, ProofStatus::Proved, "{outcome:#?}");
            assert!(outcome.enclosure.is_some());
        }
    }

    #[test]
    fn ids_are_certificate_ids() {
        for statement in default_statements() {
            assert!(statement.id.starts_with("cert.T"), "{}", statement.id);
        }
    }

    #[test]
    fn ids_are_unique() {
        let mut ids: Vec<String> = default_statements().into_iter().map(|s| s.id).collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count);
    }
}
