//! The Coq development (proofs/coq) and its index (proofs/coq/index.json, the names that
//! `certify --json`, `check --json` and the report print): every named theorem exists in the
//! module its qualified name says, nothing is assumed (`Admitted`, `admit`, `Axiom`, …), the
//! certificate IDs are exactly the default certificates and the claim IDs are registered claims.
//! This reads the sources; `make -C proofs check` (CI) is what compiles them and prints their
//! `Print Assumptions`.

use critscale_certify::coq::index;
use critscale_certify::defaults::default_statements;
use critscale_theorems::registry;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn coq_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("proofs/coq")
}

/// `text` with its comments `(* … *)` (which nest in Coq) and string literals replaced by spaces,
/// so that words inside them are not taken for commands.
fn strip_comments(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut depth = 0usize;
    let mut in_string = false;
    let mut i = 0;
    while i < chars.len() {
        let here = chars[i];
        let next = chars.get(i + 1).copied();
        if in_string {
            // Coq escapes a quote inside a string by doubling it.
            if here == '"' && next == Some('"') {
                i += 2;
                continue;
            }
            if here == '"' {
                in_string = false;
            }
            out.push(' ');
            i += 1;
        } else if here == '(' && next == Some('*') {
            depth += 1;
            out.push_str("  ");
            i += 2;
        } else if depth > 0 && here == '*' && next == Some(')') {
            depth -= 1;
            out.push_str("  ");
            i += 2;
        } else if depth > 0 {
            out.push(if here == '\n' { '\n' } else { ' ' });
            i += 1;
        } else {
            if here == '"' {
                in_string = true;
                out.push(' ');
            } else {
                out.push(here);
            }
            i += 1;
        }
    }
    out
}

/// The words of Coq source: maximal runs of identifier characters (letters, digits, `_`, `'`);
/// a `.` separates, so a qualified name gives its parts.
fn words(code: &str) -> Vec<&str> {
    code.split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '\''))
        .filter(|w| !w.is_empty())
        .collect()
}

/// The names declared by `Theorem`, `Lemma`, `Corollary`, `Proposition`, `Fact` or `Remark`.
fn declared_theorems(code: &str) -> BTreeSet<String> {
    let words = words(code);
    words
        .windows(2)
        .filter(|pair| {
            matches!(
                pair[0],
                "Theorem" | "Lemma" | "Corollary" | "Proposition" | "Fact" | "Remark"
            )
        })
        .map(|pair| pair[1].to_owned())
        .collect()
}

/// Commands that assume instead of prove (a top-level `Parameter` is an axiom too).
const ASSUMING: [&str; 7] = [
    "Admitted",
    "admit",
    "Axiom",
    "Axioms",
    "Conjecture",
    "Parameter",
    "Parameters",
];

/// The modules of proofs/_CoqProject (`coq/Name.v` → `Name`): what `make -C proofs` builds.
fn project_modules() -> BTreeSet<String> {
    let project = std::fs::read_to_string(coq_dir().join("../_CoqProject"))
        .expect("proofs/_CoqProject is readable");
    project
        .lines()
        .filter_map(|line| line.trim().strip_prefix("coq/")?.strip_suffix(".v"))
        .map(str::to_owned)
        .collect()
}

fn module_source(module: &str) -> String {
    let path = coq_dir().join(format!("{module}.v"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", path.display()));
    strip_comments(&text)
}

#[test]
fn the_comment_stripper_keeps_code_and_drops_nested_comments_and_strings() {
    let code = "Lemma a : True. (* Admitted (* nested *) admit *) Proof. exact I. Qed.\n\
                Definition s := \"Axiom \"\" x\". Theorem b : True.";
    let stripped = strip_comments(code);
    assert_eq!(
        declared_theorems(&stripped),
        BTreeSet::from(["a".to_owned(), "b".to_owned()])
    );
    assert!(
        words(&stripped)
            .iter()
            .all(|w| !ASSUMING.contains(w) && *w != "x"),
        "{stripped}"
    );
    assert!(words(&strip_comments("Proof. admit. Qed.")).contains(&"admit"));
    assert!(!words("admit_all").contains(&"admit"));
}

#[test]
fn every_theorem_of_the_index_is_declared_in_its_module() {
    let modules = project_modules();
    let mut missing = Vec::new();
    for name in index().theorems() {
        let parts: Vec<&str> = name.split('.').collect();
        let [root, module, theorem] = parts[..] else {
            missing.push(format!("{name}: not Critscale.Module.theorem"));
            continue;
        };
        assert_eq!(root, "Critscale", "the logical root of proofs/_CoqProject");
        if !modules.contains(module) {
            missing.push(format!("{name}: {module}.v is not in proofs/_CoqProject"));
            continue;
        }
        if !declared_theorems(&module_source(module)).contains(theorem) {
            missing.push(format!("{name}: no Theorem/Lemma {theorem} in {module}.v"));
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
}

#[test]
fn the_development_assumes_nothing() {
    let mut found = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir(coq_dir()).expect("proofs/coq is readable") {
        let path = entry.expect("a directory entry").path();
        if path.extension().is_some_and(|e| e == "v") {
            files += 1;
            let code = strip_comments(&std::fs::read_to_string(&path).expect("readable .v"));
            for (line, text) in code.lines().enumerate() {
                for word in words(text) {
                    if ASSUMING.contains(&word) {
                        found.push(format!("{}:{}: {word}", path.display(), line + 1));
                    }
                }
            }
        }
    }
    assert!(files > 0, "no .v file in {}", coq_dir().display());
    assert_eq!(
        files,
        project_modules().len(),
        "every .v file is built by proofs/_CoqProject"
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn every_default_certificate_and_only_those_names_a_coq_theorem() {
    let defaults: BTreeSet<String> = default_statements().into_iter().map(|s| s.id).collect();
    let indexed: BTreeSet<String> = index().certificates.keys().cloned().collect();
    assert_eq!(indexed, defaults);
    for statement in default_statements() {
        assert_eq!(
            critscale_certify::coq::certificate_theorem_for(&statement),
            index().certificates.get(&statement.id).map(String::as_str),
            "{}",
            statement.id
        );
    }
}

#[test]
fn the_indexed_claims_are_registered_and_every_limit_claim_of_t1_and_t3_is_among_them() {
    let registered: BTreeSet<&str> = registry().iter().map(|c| c.id).collect();
    let unknown: Vec<&String> = index()
        .claims
        .keys()
        .filter(|id| !registered.contains(id.as_str()))
        .collect();
    assert!(unknown.is_empty(), "not registered claims: {unknown:?}");
    let unproved: Vec<&str> = registered
        .iter()
        .copied()
        .filter(|id| id.starts_with("T1.limit.") || id.starts_with("T3.limit."))
        .filter(|id| !index().claims.contains_key(*id))
        .collect();
    assert!(
        unproved.is_empty(),
        "limit claims without a Coq theorem: {unproved:?}"
    );
}
