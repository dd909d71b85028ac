//! `report --out`: no command deletes or overwrites a file critscale did not write (issue 10,
//! items 1 and 2). Each protection holds before any marker is looked at, a report directory is
//! replaced only when its manifest accounts for everything in it, `--force` moves aside instead
//! of deleting, leftovers of killed runs are cleaned up only when ours, a merge never replaces
//! its own input, and an unusable `--out` is refused before any computing.
//!
//! Every directory here is a fresh one under the system's temporary directory; the child's
//! `HOME` is set to one of them, so the real home directory is never touched.

use super::report::{entries, quick_report, scratch};
use super::shard_integrity::two_shards;
use super::support::{Run, command, critscale};
use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

/// `critscale report … --out OUT` at the quick budget with `HOME` and the current directory set.
fn report_in(out: &str, extra: &[&str], home: &Path, cwd: &Path) -> Run {
    let mut args = vec![
        "report", "--budget", "quick", "--claim", "T1", "--claim", "T3", "--quiet", "--out", out,
    ];
    args.extend_from_slice(extra);
    command(&args).env("HOME", home).cwd(cwd).run()
}

/// Exit code 2, one line that says why, and the directory's files unchanged.
fn assert_refused(out: &Run, why: &str) {
    let text = &out.stderr;
    out.expect_exit(2);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains(why), "expected '{why}': {text}");
    assert!(out.stdout.is_empty());
}

/// A directory holding a stray report marker (as older critscale versions wrote it, or as
/// anyone can create) and one file of the user's.
fn stray_marker_dir(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join(".critscale-report"),
        critscale_report::write::MARKER_TEXT,
    )
    .unwrap();
    fs::write(dir.join("thesis.tex"), "years of work").unwrap();
}

#[test]
fn the_home_directory_with_a_stray_marker_is_never_replaced() {
    let root = scratch("home");
    let home = root.join("home");
    stray_marker_dir(&home);
    for extra in [&[][..], &["--force"][..]] {
        let out = report_in(home.to_str().unwrap(), extra, &home, &root);
        assert_refused(&out, "home directory");
        assert_eq!(
            fs::read_to_string(home.join("thesis.tex")).unwrap(),
            "years of work"
        );
    }
    // A directory that contains the home directory is protected too.
    let out = report_in(root.to_str().unwrap(), &["--force"], &home, &home);
    assert_refused(&out, "home directory");
    assert_eq!(entries(&root), ["home"]);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn the_current_directory_and_its_parents_are_never_replaced() {
    let root = scratch("cwd");
    let cwd = root.join("work/here");
    stray_marker_dir(&cwd);
    for out in [".", "..", cwd.to_str().unwrap(), root.to_str().unwrap()] {
        let result = report_in(out, &["--force"], &root, &cwd);
        assert_eq!(result.code, Some(2), "{out}: {}", result.stderr);
        assert_eq!(
            fs::read_to_string(cwd.join("thesis.tex")).unwrap(),
            "years of work"
        );
    }
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_git_work_tree_is_never_replaced_even_with_a_marker() {
    let root = scratch("git");
    let repo = root.join("repo");
    stray_marker_dir(&repo);
    fs::create_dir_all(repo.join(".git")).unwrap();
    fs::write(repo.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let out = report_in(repo.to_str().unwrap(), &["--force"], &root, &root);
    assert_refused(&out, ".git");
    assert!(repo.join(".git/HEAD").is_file());
    assert_eq!(entries(&root), ["repo"]);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_symbolic_link_is_never_replaced() {
    let root = scratch("symlink");
    let real = root.join("real");
    stray_marker_dir(&real);
    let link = root.join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = report_in(link.to_str().unwrap(), &["--force"], &root, &root);
    assert_refused(&out, "symbolic link");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(real.join("thesis.tex").is_file());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_stray_marker_does_not_make_a_directory_replaceable() {
    let root = scratch("marker");
    let dir = root.join("notes");
    stray_marker_dir(&dir);
    let out = report_in(dir.to_str().unwrap(), &[], &root, &root);
    assert_refused(&out, "manifest");
    assert_eq!(
        fs::read_to_string(dir.join("thesis.tex")).unwrap(),
        "years of work"
    );
    // The same with a shard's marker.
    let shard = root.join("shardlike");
    fs::create_dir_all(&shard).unwrap();
    fs::write(shard.join(".critscale-shard"), "anything").unwrap();
    fs::write(shard.join("data.bin"), "mine").unwrap();
    let out = report_in(shard.to_str().unwrap(), &[], &root, &root);
    assert_refused(&out, "--force");
    assert!(shard.join("data.bin").is_file());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn a_stray_or_changed_file_in_an_old_report_makes_replacement_refuse() {
    let root = scratch("stray");
    let out = root.join("latest");
    quick_report(&out, &[]).expect_success();
    fs::write(out.join("data/my-notes.txt"), "mine").unwrap();
    assert_refused(&quick_report(&out, &[]), "my-notes.txt");
    assert_eq!(
        fs::read_to_string(out.join("data/my-notes.txt")).unwrap(),
        "mine"
    );
    fs::remove_file(out.join("data/my-notes.txt")).unwrap();
    // A file critscale wrote but someone edited since.
    fs::write(out.join("report.md"), "my edits").unwrap();
    assert_refused(&quick_report(&out, &[]), "report.md");
    assert_eq!(
        fs::read_to_string(out.join("report.md")).unwrap(),
        "my edits"
    );
    assert_eq!(entries(&root), ["latest"]);
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn force_moves_a_tree_with_a_git_subfolder_aside_intact() {
    let root = scratch("force");
    let out = root.join("projects");
    fs::create_dir_all(out.join("app/.git")).unwrap();
    fs::write(out.join("app/.git/HEAD"), "ref: refs/heads/main\n").unwrap();
    fs::write(out.join("app/main.rs"), "fn main() {}").unwrap();
    let result = quick_report(&out, &["--force"]);
    result.expect_success();
    let moved: Vec<String> = entries(&root)
        .into_iter()
        .filter(|e| e.starts_with("projects.moved-"))
        .collect();
    assert_eq!(moved.len(), 1, "{:?}", entries(&root));
    let moved = root.join(&moved[0]);
    assert!(result.stderr.contains(moved.to_str().unwrap()));
    assert_eq!(
        fs::read_to_string(moved.join("app/main.rs")).unwrap(),
        "fn main() {}"
    );
    assert!(moved.join("app/.git/HEAD").is_file());
    assert!(out.join(".critscale-report").is_file());
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn leftovers_of_dead_runs_are_removed_only_when_ours() {
    let root = scratch("stale");
    let out = root.join("latest");
    // A complete report renamed as a killed run's partial and old directories. PIDs above the
    // kernel's largest (2^22) never run.
    let dead = 4_194_400 + std::process::id() % 1000;
    let partial = root.join(format!(".latest.partial-{dead}"));
    let old = root.join(format!(".latest.old-{}", dead + 1));
    quick_report(&partial, &[]).expect_success();
    quick_report(&old, &[]).expect_success();
    fs::write(old.join("theirs.txt"), "not ours").unwrap();
    let result = quick_report(&out, &[]);
    result.expect_success();
    assert!(
        !partial.exists(),
        "a partial directory of a dead run is ours"
    );
    assert!(old.join("theirs.txt").is_file(), "a foreign file stays");
    assert!(
        result
            .stderr
            .contains(old.file_name().unwrap().to_str().unwrap())
    );
    let live = root.join(format!(".latest.partial-{}", std::process::id()));
    fs::create_dir_all(&live).unwrap();
    quick_report(&out, &[]).expect_success();
    assert!(live.is_dir(), "a running process's directory stays");
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn merge_refuses_to_replace_its_own_input() {
    let root = scratch("own-input");
    let shards: Vec<String> = two_shards(&root)
        .iter()
        .map(|dir| dir.to_str().unwrap().to_owned())
        .collect();
    let inside = root.join("s1/merged");
    let dotted = format!("{}/../s2", shards[0]);
    for out in [
        shards[0].as_str(),
        &dotted,
        inside.to_str().unwrap(),
        root.to_str().unwrap(),
    ] {
        let mut args = vec!["report", "merge", "--quiet", "--force", "--out", out];
        args.extend(shards.iter().map(String::as_str));
        let result = critscale(&args);
        assert_refused(&result, "--out");
        assert!(result.stderr.contains("shard directory"));
    }
    assert_eq!(entries(&root), ["s1", "s2"]);
    assert_eq!(
        entries(&root.join("s1")),
        [".critscale-shard", "shard.json"]
    );
    fs::remove_dir_all(&root).unwrap();
}

#[test]
fn an_unusable_out_is_refused_before_any_computing() {
    let root = scratch("unusable");
    let file = root.join("a-file");
    fs::write(&file, "x").unwrap();
    let too_long = root.join("n".repeat(250));
    let below_file = file.join("report");
    let mut cases = vec![
        (below_file.to_str().unwrap().to_owned(), "not a directory"),
        (too_long.to_str().unwrap().to_owned(), "--out"),
    ];
    // Without root's privileges a read-only parent is refused as well.
    let locked = root.join("locked");
    fs::create_dir_all(&locked).unwrap();
    let mut permissions = fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o555);
    fs::set_permissions(&locked, permissions).unwrap();
    if fs::create_dir(locked.join("probe")).is_err() {
        cases.push((locked.join("report").to_str().unwrap().to_owned(), "--out"));
    }
    for (out, why) in &cases {
        // The default (full) budget takes minutes: a refusal within seconds came first.
        let start = Instant::now();
        let result = critscale(&["report", "--out", out]);
        assert!(start.elapsed() < Duration::from_secs(20), "{out}");
        assert_refused(&result, why);
        let elsewhere = std::env::temp_dir().join("critscale-suite-no-such-shard");
        let merge = critscale(&["report", "merge", "--out", out, elsewhere.to_str().unwrap()]);
        assert_refused(&merge, "--out");
    }
    let mut permissions = fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    fs::set_permissions(&locked, permissions).unwrap();
    let mut left = entries(&root);
    left.retain(|e| e != "locked");
    assert_eq!(left, ["a-file"], "nothing was created");
    fs::remove_dir_all(&root).unwrap();
}
