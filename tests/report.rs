//! `critscale report`: safe writes (refusal, replacement whole) and byte-identical reruns.
//!
//! Every run here uses the quick budget and the closed-form claims only (`--claim T1 --claim T3`),
//! so that a run takes about a second in the test profile.

use super::support::{Run, command, critscale};
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

pub(crate) fn quick_report(out: &Path, extra: &[&str]) -> Run {
    let out = out.to_str().unwrap();
    let mut args = vec![
        "report", "--budget", "quick", "--claim", "T1", "--claim", "T3", "--quiet", "--out", out,
    ];
    args.extend_from_slice(extra);
    critscale(&args)
}

pub(crate) fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "critscale-suite-report-{name}-{}",
        std::process::id()
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, by relative path.
pub(crate) fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
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

pub(crate) fn entries(dir: &Path) -> Vec<String> {
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
    first.expect_success();
    let second = quick_report(&b, &["--jobs", "2"]);
    second.expect_success();
    let summary = &first.stdout;
    assert!(summary.contains("claims pass"), "{summary}");
    let (fa, fb) = (files(&a), files(&b));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (path, bytes) in &fa {
        // The marker's manifest holds the checksum of timings.json.
        if path == "timings.json" || path == ".critscale-report" {
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
fn a_directory_that_is_not_a_report_is_refused_and_forced_aside() {
    let root = scratch("refuse");
    let out = root.join("notes");
    fs::create_dir_all(&out).unwrap();
    fs::write(out.join("mine.txt"), "keep me").unwrap();
    let refused = quick_report(&out, &[]);
    refused.expect_exit(2);
    let stderr = &refused.stderr;
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(fs::read_to_string(out.join("mine.txt")).unwrap(), "keep me");
    assert_eq!(entries(&root), ["notes"], "nothing else was written");

    let forced = quick_report(&out, &["--force"]);
    forced.expect_success();
    assert!(!out.join("mine.txt").exists());
    assert!(out.join(".critscale-report").is_file());
    // The old directory was moved aside, not deleted, and stderr says where.
    let stderr = &forced.stderr;
    let moved: Vec<String> = entries(&root)
        .into_iter()
        .filter(|e| e.starts_with("notes.moved-"))
        .collect();
    assert_eq!(moved.len(), 1, "{:?}", entries(&root));
    assert!(stderr.contains(&moved[0]), "{stderr}");
    assert_eq!(
        fs::read_to_string(root.join(&moved[0]).join("mine.txt")).unwrap(),
        "keep me"
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_existing_report_is_replaced_whole() {
    let root = scratch("replace");
    let out = root.join("latest");
    quick_report(&out, &[]).expect_success();
    let before = fs::read(out.join("report.md")).unwrap();
    let again = quick_report(&out, &[]);
    again.expect_success();
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
        vec!["report", "--shard", "0/3", "--out", out],
        vec!["report", "--shard", "4/3", "--out", out],
        vec!["report", "--shard", "two", "--out", out],
    ] {
        let result = critscale(&args);
        result.expect_exit(2);
        let stderr = &result.stderr;
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{stderr}");
    }
    assert_eq!(entries(&root), Vec::<String>::new());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn shards_merge_into_the_same_files_as_one_run() {
    let root = scratch("shards");
    let whole = root.join("whole");
    let single = quick_report(&whole, &[]);
    single.expect_success();
    let count = 3;
    let mut dirs = Vec::new();
    for index in 1..=count {
        let dir = root.join(format!("shard{index}"));
        let spec = format!("{index}/{count}");
        let run = quick_report(&dir, &["--shard", &spec, "--jobs", "1"]);
        run.expect_success();
        assert!(dir.join(".critscale-shard").is_file());
        assert!(
            !dir.join(".critscale-report").exists(),
            "a shard is not a report"
        );
        dirs.push(dir.to_str().unwrap().to_owned());
    }
    let merged = root.join("merged");
    // Any order of the shard directories.
    let mut args = vec![
        "report",
        "merge",
        "--quiet",
        "--out",
        merged.to_str().unwrap(),
    ];
    args.extend(dirs.iter().rev().map(String::as_str));
    let merge = critscale(&args);
    merge.expect_success();
    let (fw, fm) = (files(&whole), files(&merged));
    assert_eq!(fw.keys().collect::<Vec<_>>(), fm.keys().collect::<Vec<_>>());
    for (path, bytes) in &fw {
        if path == "timings.json" || path == ".critscale-report" {
            continue;
        }
        assert!(
            bytes == &fm[path],
            "{path} differs between the merged and the single run"
        );
    }
    let timings = String::from_utf8(fm["timings.json"].clone()).unwrap();
    assert!(timings.contains("\"3/3\""), "{timings}");

    // Shards that do not fit together are refused with one line and exit code 2.
    let bad = root.join("bad");
    let bad = bad.to_str().unwrap();
    let other_budget = root.join("other");
    let run = critscale(&[
        "report",
        "--budget",
        "quick",
        "--claim",
        "T1",
        "--quiet",
        "--shard",
        "2/3",
        "--out",
        other_budget.to_str().unwrap(),
    ]);
    run.expect_success();
    for (args, why) in [
        (vec![dirs[0].as_str(), dirs[1].as_str()], "missing"),
        (
            vec![dirs[0].as_str(), dirs[1].as_str(), dirs[1].as_str()],
            "twice",
        ),
        (
            vec![
                dirs[0].as_str(),
                other_budget.to_str().unwrap(),
                dirs[2].as_str(),
            ],
            "different",
        ),
        (
            vec![dirs[0].as_str(), whole.to_str().unwrap(), dirs[2].as_str()],
            "not a directory written",
        ),
    ] {
        let mut full = vec!["report", "merge", "--quiet", "--out", bad];
        full.extend(args);
        let result = critscale(&full);
        result.expect_exit(2);
        let stderr = &result.stderr;
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(why), "{why}: {stderr}");
    }
    assert!(!Path::new(bad).exists(), "a refused merge writes nothing");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn provenance_names_the_build_revision_wherever_it_runs() {
    // Run outside the checkout: the revision comes from the build, not the current directory.
    let root = scratch("provenance");
    let run = command(&[
        "report", "--budget", "quick", "--claim", "T1.limit", "--quiet", "--out", "r",
    ])
    .cwd(&root)
    .run();
    run.expect_success();
    let provenance: serde_json::Value =
        serde_json::from_slice(&fs::read(root.join("r/provenance.json")).unwrap()).unwrap();
    let checkout = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8(out.stdout).unwrap().trim().to_owned());
    if let Some(head) = checkout {
        assert_eq!(provenance["git_revision"], head.as_str());
        assert!(provenance["git_dirty"].is_boolean(), "{provenance}");
    }
    fs::remove_dir_all(&root).unwrap();
}
