//! `critscale schemes`: deployed rules as logit multipliers, read from configs or typed by hand,
//! against γ_c, as a table and as JSON; checked against the mpmath reference
//! (`tests/reference/schemes_reference.py` → `tests/data/schemes_reference.json`).

use super::report::scratch;
use super::support::critscale;
use serde_json::Value;

fn number(v: &Value) -> f64 {
    v.as_str()
        .map(|s| s.parse::<f64>().unwrap())
        .or_else(|| v.as_f64())
        .unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(f64::MIN_POSITIVE)
}

#[test]
fn every_family_agrees_with_the_mpmath_reference() {
    let text = std::fs::read_to_string("tests/data/schemes_reference.json").unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    for case in reference["cases"].as_array().unwrap() {
        let label = case["label"].as_str().unwrap();
        let lengths: Vec<&str> = case["lengths"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let joined = lengths.join(",");
        let mut args = vec![
            "schemes",
            "--json",
            "--beta0",
            case["beta0"].as_str().unwrap(),
            "--rho",
            case["rho"].as_str().unwrap(),
            "--n",
            &joined,
        ];
        if let Some(path) = case["hf-config"].as_str() {
            args.extend(["--hf-config", path]);
        } else {
            args.extend(["--rule", case["rule"].as_str().unwrap()]);
        }
        let out = critscale(&args);
        out.expect_success();
        let items = out.json();
        let items = items.as_array().unwrap();
        let entries = case["entries"].as_array().unwrap();
        assert_eq!(items.len(), entries.len(), "{label}");
        let n_max = number(&case["n_max"]);
        for (item, entry) in items.iter().zip(entries) {
            let name = item["name"].as_str().unwrap();
            assert!(
                name.starts_with(entry["layers"].as_str().unwrap()),
                "{label}: {name}"
            );
            for (k, n) in lengths.iter().enumerate() {
                let reading = &item["readings"][k];
                for (field, key) in [("multiplier", "multipliers"), ("gamma", "gammas")] {
                    let (got, want) = (number(&reading[field]), number(&entry[key][n]));
                    assert!(
                        close(got, want, 1e-14),
                        "{label} {name} {field} at n = {n}: {got} vs {want}"
                    );
                }
            }
            let got: Vec<&Value> = item["crossings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|c| number(&c["n"]) <= n_max)
                .collect();
            let want = entry["crossings"].as_array().unwrap();
            assert_eq!(got.len(), want.len(), "{label} {name}: {got:?} vs {want:?}");
            for (g, w) in got.iter().zip(want) {
                let (gn, wn) = (number(&g["n"]), number(&w["n"]));
                // ln n to f64 resolution (lib docs): n to 1e-12 relative; jumps are exact.
                assert!(
                    close(gn, wn, 1e-12),
                    "{label} {name}: crossing {gn} vs {wn}"
                );
                assert_eq!(g["direction"], w["direction"], "{label} {name} at {wn}");
                assert_eq!(g["at_jump"], w["at_jump"], "{label} {name} at {wn}");
            }
        }
    }
}

#[test]
fn json_reports_every_default_rule_with_its_multiplier_and_crossings() {
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
    let value: Value = out.json();
    let items = value.as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|i| i["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "qwen-logn",
            "ssmax",
            "yarn",
            "yarn-dynamic",
            "llama4-temperature",
            "swan-style"
        ]
    );
    for item in items {
        assert_eq!(item["readings"].as_array().unwrap().len(), 2);
        assert!(
            item["multiplies_beta"]
                .as_str()
                .unwrap()
                .contains("logits x")
        );
        for reading in item["readings"].as_array().unwrap() {
            let (m, beta) = (
                reading["multiplier"].as_f64().unwrap(),
                reading["beta"].as_f64().unwrap(),
            );
            assert!(close(beta, 10.0 * m, 1e-15), "{item}");
        }
    }
    // Qwen freezes gamma = beta0 / log L = 1.202 < 1.4286 past L: collapse.
    assert_eq!(items[0]["readings"][1]["regime"], "collapse");
    // SSMax scales with beta0: gamma = 10 x 0.43 = 4.3 > gamma_c, identity.
    assert_eq!(items[1]["readings"][1]["regime"], "identity");
    // The issue's case: static YaRN (Qwen3's factor 4) at n = 1e8 collapses; dynamic does not.
    assert_eq!(items[2]["readings"][1]["regime"], "collapse");
    assert_eq!(items[3]["readings"][1]["regime"], "identity");
}

#[test]
fn the_close_pair_is_in_the_table() {
    let out = critscale(&[
        "schemes",
        "--rho",
        "0.1687",
        "--beta0",
        "10",
        "--train-len",
        "4096",
        "--n",
        "4096",
    ]);
    out.expect_success();
    let line = out
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("yarn-dynamic"))
        .unwrap();
    assert!(line.contains("4.076524e3 down, 4.125543e3 up"), "{line}");
}

#[test]
fn a_config_is_read_end_to_end() {
    let out = critscale(&[
        "schemes",
        "--hf-config",
        "crates/schemes/fixtures/llama4-scout.json",
        "--rho",
        "0.3",
        "--n",
        "1e6",
    ]);
    out.expect_success();
    assert!(
        out.stdout.contains("llama4-scout.json: NoPE layers"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("floor(n/8192)"), "{}", out.stdout);
    assert!(out.stdout.contains("no logit scaling"), "{}", out.stdout);
}

#[test]
fn bad_configs_and_rules_exit_2_with_one_line() {
    let dir = scratch("schemes-configs");
    let unknown = dir.join("unknown.json");
    std::fs::write(
        &unknown,
        r#"{"rope_scaling": {"rope_type": "warp", "factor": 2}}"#,
    )
    .unwrap();
    let garbled = dir.join("garbled.json");
    std::fs::write(&garbled, "{ not json").unwrap();
    let missing = dir.join("missing.json");
    for (args, needle) in [
        (vec!["--hf-config", unknown.to_str().unwrap()], "'warp'"),
        (
            vec!["--hf-config", garbled.to_str().unwrap()],
            "not a config.json",
        ),
        (
            vec!["--hf-config", missing.to_str().unwrap()],
            "cannot read",
        ),
        (vec!["--rule", "warp:x=1"], "'warp'"),
        (vec!["--rule", "yarn:factor=4,bogus=1"], "'bogus'"),
    ] {
        let mut all = vec!["schemes"];
        all.extend(args);
        let out = critscale(&all);
        out.expect_exit(2);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(needle), "{}", out.stderr);
    }
}

#[test]
fn bad_options_exit_2() {
    for (args, needle) in [
        (&["schemes", "--rho", "1.5"][..], "rho"),
        (&["schemes", "--n", "1"], "--n"),
        (&["schemes", "--n", "1e400"], "beyond the range of f64"),
        (&["schemes", "--beta0", "-3"], "beta0"),
        (&["schemes", "--beta0", "1e308"], "beta0 x m(n) = 1e308 x"),
        (&["schemes", "--train-len", "x"], "train-len"),
    ] {
        let out = critscale(args);
        out.expect_exit(2);
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(needle), "{args:?}: {}", out.stderr);
        assert!(out.stdout.is_empty());
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
