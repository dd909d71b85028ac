//! `critscale certify`: the default certificates are proved, a failed certificate makes the
//! command fail, the JSON is the serialised certificates, and an ill-posed statement given in a
//! `--statement` file is refused with one line naming the field.

use super::support::critscale;
use std::path::PathBuf;

/// Writes `json` to a file of this test process and returns its path.
fn statement_file(name: &str, json: &serde_json::Value) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "critscale-certify-{}-{name}.json",
        std::process::id()
    ));
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

/// The default statement `cert.T1.limit.super.range` as JSON (γ ∈ [1.25, 4] γ_c).
fn super_range() -> serde_json::Value {
    serde_json::json!({
        "id": "test.T1.limit.super.range", "quantity": "cos_out", "rho": "0.3", "alpha": "0",
        "q": "1", "gamma_ratio": ["1.25", "4"], "d_ratio": "1", "n_min": "1e6", "epsilon": "0.015"
    })
}

#[test]
fn default_set_is_proved_and_reported() {
    let out = critscale(&["certify"]);
    out.expect_success();
    let text = &out.stdout;
    for id in [
        "cert.T1.limit.sub",
        "cert.T1.limit.crit",
        "cert.T1.limit.super",
        "cert.T1.rate.sub",
        "cert.T1.rate.crit",
        "cert.T3.limit.crit",
        "cert.T3.rate.crit",
        "cert.T3.rate.super",
    ] {
        assert!(
            text.contains(&format!("proved  {id}\n")),
            "{id} missing:\n{text}"
        );
    }
    assert!(text.contains("boxes"));
    assert!(text.trim_end().ends_with("certificates proved"));
}

#[test]
fn json_lists_serialised_certificates() {
    let out = critscale(&[
        "certify",
        "--json",
        "--id",
        "cert.T1.limit.crit",
        "--id",
        "cert.T3.rate.sub",
    ]);
    out.expect_success();
    let value: serde_json::Value = out.json();
    let items = value.as_array().unwrap();
    assert_eq!(items.len(), 2);
    for item in items {
        assert_eq!(item["verdict"], "proved");
        assert!(item["statement"]["n_min"].is_string());
        assert!(item["enclosure"].as_array().unwrap().len() == 2);
        assert!(item["boxes"].as_u64().unwrap() >= 1);
        let id = item["statement"]["id"].as_str().unwrap();
        let name = critscale_certify::coq::certificate_theorem(id).expect("a default certificate");
        assert_eq!(item["coq"], name, "{id}");
    }
}

#[test]
fn an_unproved_certificate_fails_the_command() {
    let out = critscale(&["certify", "--id", "cert.T1.rate.sub", "--max-boxes", "2"]);
    out.expect_exit(1);
    assert!(out.stdout.contains("UNDECIDED"));
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["certify", "--id", "T9.nothing"][..],
        &["certify", "--precision", "20"],
        &["certify", "--max-boxes", "0"],
    ] {
        let out = critscale(args);
        out.expect_exit(2);
        assert_eq!(out.stderr.lines().count(), 1);
    }
}

#[test]
fn the_critical_rates_are_proved_with_their_scales() {
    let out = critscale(&[
        "certify",
        "--json",
        "--id",
        "cert.T1.rate.crit",
        "--id",
        "cert.T3.rate.crit",
    ]);
    out.expect_success();
    let value: serde_json::Value = out.json();
    let items = value.as_array().unwrap();
    let texts: Vec<&str> = items.iter().map(|i| i["text"].as_str().unwrap()).collect();
    assert!(
        texts[0].contains("|n (cos_out - 4rho/(1+3rho)) - 0| <= 0.64"),
        "{texts:?}"
    );
    assert!(
        texts[1].contains("|n/(log n)^2 (eta - (1-1/d)/(4q)) - 0| <= 0.063"),
        "{texts:?}"
    );
    for item in items {
        assert_eq!(item["verdict"], "proved");
        assert_eq!(item["regime"], "critical");
    }
}

#[test]
fn a_statement_file_is_certified() {
    let path = statement_file("good", &serde_json::Value::Array(vec![super_range()]));
    let out = critscale(&["certify", "--json", "--statement", path.to_str().unwrap()]);
    out.expect_success();
    let value: serde_json::Value = out.json();
    assert_eq!(value.as_array().unwrap().len(), 1);
    assert_eq!(value[0]["statement"]["id"], "test.T1.limit.super.range");
    assert_eq!(value[0]["verdict"], "proved");
    // Not a default statement: no Coq theorem is about it.
    assert!(value[0]["coq"].is_null());
    std::fs::remove_file(path).unwrap();
}

#[test]
fn ill_posed_statements_exit_2_naming_the_field() {
    // A reversed γ range (with an ε that is false on it) used to be "proved"; a d_ratio below 1
    // is not a simplex.
    let mut reversed = super_range();
    reversed["gamma_ratio"] = serde_json::json!(["4", "1.25"]);
    reversed["epsilon"] = serde_json::json!("1e-9");
    let mut thin = super_range();
    thin["d_ratio"] = serde_json::json!("0.5");
    for (name, statement, field) in [
        (
            "reversed",
            reversed,
            "gamma_ratio = [4, 1.25]: must be a range [lo, hi] with lo <= hi",
        ),
        ("thin", thin, "d_ratio = 0.5: must be at least 1"),
    ] {
        let path = statement_file(name, &statement);
        let out = critscale(&["certify", "--statement", path.to_str().unwrap()]);
        out.expect_exit(2);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains("for --statement"), "{}", out.stderr);
        assert!(out.stderr.contains(field), "{}", out.stderr);
        assert!(out.stdout.is_empty());
        std::fs::remove_file(path).unwrap();
    }
}
