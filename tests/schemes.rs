//! `critscale schemes`: the rules' effective γ(n) against γ_c, as a table and as JSON.

use super::support::critscale;

#[test]
fn json_reports_every_rule_with_its_crossings() {
    let out = critscale(&[
        "schemes",
        "--json",
        "--rho",
        "0.3",
        "--n",
        "1e4,1e8",
        "--beta0",
        "10",
        "--train-len",
        "4096",
    ]);
    out.expect_success();
    let value: serde_json::Value = out.json();
    let items = value.as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["qwen-logn", "ssmax", "yarn (m^2)", "yarn (m)", "swan-style"]
    );
    for item in items {
        assert_eq!(item["readings"].as_array().unwrap().len(), 2);
        for n in item["crossings"].as_array().unwrap() {
            assert!(n.as_f64().unwrap() >= 2.0);
        }
    }
    // SSMax with s = 0.43 < gamma_c: collapse everywhere, never crosses.
    assert!(items[1]["crossings"].as_array().unwrap().is_empty());
    assert_eq!(items[1]["readings"][1]["regime"], "collapse");
    // Qwen freezes gamma = beta0 / log L = 1.202 < 1.4286 past L: collapse.
    assert_eq!(items[0]["readings"][1]["regime"], "collapse");
    // YaRN with m^2 grows like 0.01 beta0 log n: identity at 1e8.
    assert_eq!(items[2]["readings"][1]["regime"], "identity");
}

#[test]
fn bad_options_exit_2() {
    for args in [
        &["schemes", "--rho", "1.5"][..],
        &["schemes", "--n", "1"],
        &["schemes", "--beta0", "-3"],
        &["schemes", "--train-len", "x"],
    ] {
        let out = critscale(args);
        out.expect_exit(2);
        assert_eq!(out.stderr.lines().count(), 1);
    }
}

#[test]
fn the_valid_range_named_in_a_refusal_is_accepted() {
    for (flag, value) in [
        ("--beta0", "1e306"),
        ("--beta0", "1e305"),
        ("--ssmax-s", "1e306"),
    ] {
        let out = critscale(&["schemes", flag, value]);
        let stderr = &out.stderr;
        assert_eq!(out.code, Some(2), "{flag} {value}: {stderr}");
        let bound = stderr
            .split("valid up to about ")
            .nth(1)
            .map(|rest| rest.trim().to_owned())
            .unwrap_or_else(|| panic!("no valid range named: {stderr}"));
        let accepted = critscale(&["schemes", flag, &bound]);
        assert!(
            accepted.success(),
            "{flag} {bound}, named as valid, is refused: {}",
            accepted.stderr
        );
    }
}
