//! The Coq theorems behind the certificates and the claims: `proofs/coq/index.json`, embedded at
//! build time, is the one place that names them.
//!
//! The development under `proofs/coq` (logical root `Critscale`, built by `make -C proofs`)
//! re-proves every default certificate of [`crate::defaults`] for all real n ≥ N, n = ∞ included,
//! and proves the n → ∞ statements (limits, rates) that the finite-n claims of
//! `critscale-theorems` test. The index maps a certificate ID (`cert.T1.limit.sub`) or a claim ID
//! (`T1.limit.sub`) to a fully qualified theorem name (`Critscale.Certificates.cert_T1_limit_sub`);
//! its `layer` section names the theorems on the simplex layer itself (the closed forms from the
//! Gram matrix), which no certificate or claim ID stands for. The workspace suite
//! (tests/coq_index.rs) checks that every name exists in the development and that every default
//! certificate has one.

use crate::Statement;
use crate::defaults::default_statements;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The index as written in `proofs/coq/index.json` (path relative to the workspace root).
pub const INDEX_JSON: &str = include_str!("../../../proofs/coq/index.json");

/// The parsed index: ID → fully qualified Coq theorem name, per section.
#[derive(Debug, Clone, Deserialize)]
pub struct CoqIndex {
    /// Certificate ID → theorem proving the default statement of that ID.
    pub certificates: BTreeMap<String, String>,
    /// Claim ID → theorem stating the n → ∞ result the claim checks at finite n.
    pub claims: BTreeMap<String, String>,
    /// What the theorem says, in words → theorem (layer identities with no ID).
    pub layer: BTreeMap<String, String>,
}

impl CoqIndex {
    /// Every theorem named in the index, each once, sorted.
    pub fn theorems(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self
            .certificates
            .values()
            .chain(self.claims.values())
            .chain(self.layer.values())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The embedded index, parsed once.
///
/// # Panics
///
/// If `proofs/coq/index.json` is not an object with the sections `certificates`, `claims` and
/// `layer` of strings; the file is fixed at build time and the crate's tests parse it.
pub fn index() -> &'static CoqIndex {
    static INDEX: OnceLock<CoqIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        serde_json::from_str(INDEX_JSON)
            .expect("proofs/coq/index.json has the sections certificates, claims and layer")
    })
}

/// The theorem proving the default certificate `id`, if any (the ID alone: see
/// [`certificate_theorem_for`] for a statement that may differ from the default).
pub fn certificate_theorem(id: &str) -> Option<&'static str> {
    index().certificates.get(id).map(String::as_str)
}

/// The theorem proving `statement`: only when it is the default statement of its ID in every
/// field (ρ, α, q, γ range, d/n, N, ε, no replaced target), since the Coq theorem is about those
/// exact values. A statement read from a file under a default ID but with other numbers has none.
pub fn certificate_theorem_for(statement: &Statement) -> Option<&'static str> {
    let name = certificate_theorem(&statement.id)?;
    default_statements()
        .iter()
        .any(|default| default == statement)
        .then_some(name)
}

/// The theorem behind claim `id` of `critscale-theorems` (the n → ∞ statement its finite-n
/// check tests), if one is machine-checked.
pub fn claim_theorem(id: &str) -> Option<&'static str> {
    index().claims.get(id).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_parses_and_names_qualified_theorems() {
        let index = index();
        assert!(!index.certificates.is_empty() && !index.claims.is_empty());
        for name in index.theorems() {
            let mut parts = name.split('.');
            assert_eq!(parts.next(), Some("Critscale"), "{name}");
            assert_eq!(
                name.split('.').count(),
                3,
                "Critscale.Module.theorem: {name}"
            );
        }
    }

    #[test]
    fn a_changed_default_statement_names_no_theorem() {
        let mut statement = default_statements()
            .into_iter()
            .find(|s| s.id == "cert.T1.limit.sub")
            .expect("a default certificate");
        assert_eq!(
            certificate_theorem_for(&statement),
            certificate_theorem("cert.T1.limit.sub")
        );
        assert!(certificate_theorem_for(&statement).is_some());
        statement.epsilon = "0.5".to_owned();
        assert_eq!(certificate_theorem_for(&statement), None);
        assert_eq!(claim_theorem("cert.T1.limit.sub"), None);
    }
}
