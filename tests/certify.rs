//! `critscale certify`: the default certificates are proved, a failed certificate makes the
//! command fail, and the JSON is the serialised certificates.

use super::support::critscale;

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
        "cert.T3.limit.crit",
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
