//! `critscale report`: safe writes (refusal, replacement whole) and byte-identical reruns.
//!
//! Every run here uses the quick budget and the closed-form claims only (`--claim T1 --claim T3`),
//! so that a run takes about a second in the test profile.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn critscale(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_critscale"))
        .args(args)
        .output()
        .expect("the critscale binary runs")
}

fn quick_report(out: &Path, extra: &[&str]) -> Output {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "report", "--budget", "quick", "--claim", "T1", "--claim", "T3", "--quiet", "--out", out,
    ];
    args.extend_from_slice(extra);
    critscale(&args)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "critscale-suite-report-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, by relative path.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, fs::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn two_runs_give_byte_identical_files_whatever_the_thread_count() {
    let root = scratch("twice");
    let (a, b) = (root.join("a"), root.join("b"));
    let first = quick_report(&a, &["--jobs", "1"]);
    assert!(first.status.success(), "{first:?}");
    let second = quick_report(&b, &["--jobs", "2"]);
    assert!(second.status.success(), "{second:?}");
    let summary = String::from_utf8(first.stdout).unwrap();
    assert!(summary.contains("claims pass"), "{summary}");
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        if path == "timings.json" {
            continue;
        }
        assert!(bytes == &fb[path], "{path} differs between the two runs");
    }
    for expected in [
        ".critscale-report",
        "report.md",
        "provenance.json",
        "timings.json",
        "data/claims.csv",
        "data/certificates.json",
        "data/phase_grid.csv",
        "figures/phase_lambda_n1e100.svg",
        "figures/rules_gamma.svg",
    ] {
        assert!(fa.contains_key(expected), "{expected} missing");
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_directory_that_is_not_a_report_is_refused_unless_forced() {
    let root = scratch("refuse");
    let out = root.join("notes");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("mine.txt"), "keep me").unwrap();
    let refused = quick_report(&out, &[]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8(refused.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(fs::read_to_string(out.join("mine.txt")).unwrap(), "keep me");
    assert_eq!(entries(&root), ["notes"], "nothing else was written");

    let forced = quick_report(&out, &["--force"]);
    assert!(forced.status.success(), "{forced:?}");
    assert!(!out.join("mine.txt").exists());
    assert!(out.join(".critscale-report").is_file());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_existing_report_is_replaced_whole() {
    let root = scratch("replace");
    let out = root.join("latest");
    assert!(quick_report(&out, &[]).status.success());
    fs::write(out.join("stale.txt"), "from an older run").unwrap();
    let before = fs::read(out.join("report.md")).unwrap();
    let again = quick_report(&out, &[]);
    assert!(again.status.success(), "{again:?}");
    assert!(
        !out.join("stale.txt").exists(),
        "the old directory was merged, not replaced"
    );
    assert_eq!(fs::read(out.join("report.md")).unwrap(), before);
    // No temporary or old sibling is left behind.
    assert_eq!(entries(&root), ["latest"]);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn bad_options_get_one_line_and_exit_code_2() {
    let root = scratch("bad");
    let out = root.join("r");
    let out = out.to_str().unwrap();
    for args in [
        vec!["report", "--budget", "slow", "--out", out],
        vec!["report", "--jobs", "0", "--out", out],
        vec!["report", "--jobs", "two", "--out", out],
        vec!["report", "--claim", "T9", "--out", out],
        vec!["report", "--out", "/", "--force"],
    ] {
        let result = critscale(&args);
        assert_eq!(result.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(result.stderr).unwrap();
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    assert_eq!(entries(&root), Vec::<String>::new());
    fs::remove_dir_all(&root).unwrap();
}
