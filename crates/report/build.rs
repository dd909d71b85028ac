//! Records, for the report's provenance, the compiler that built the report crate, the
//! versions of the main dependencies as locked in the workspace's Cargo.lock, and the git
//! revision of the checkout with a flag for uncommitted changes.

use std::path::Path;
use std::process::Command;

/// Dependencies whose versions the provenance lists: the numerics, kernels, fits and figures.
const KEY_DEPENDENCIES: [&str; 12] = [
    "astro-float",
    "rug",
    "pulp",
    "gemm",
    "ndarray",
    "nalgebra",
    "statrs",
    "rand_chacha",
    "rayon",
    "plotters",
    "resvg",
    "serde_json",
];

/// `name=version` for each key dependency found in the lock file (comma-separated).
fn locked_versions(lock: &str) -> String {
    let mut found = Vec::new();
    for block in lock.split("[[package]]") {
        let field = |key: &str| {
            block.lines().find_map(|line| {
                line.strip_prefix(key)
                    .and_then(|rest| rest.trim().strip_prefix('='))
                    .map(|v| v.trim().trim_matches('"').to_owned())
            })
        };
        if let (Some(name), Some(version)) = (field("name "), field("version "))
            && KEY_DEPENDENCIES.contains(&name.as_str())
        {
            found.push(format!("{name}={version}"));
        }
    }
    found.sort();
    found.dedup();
    found.join(",")
}

/// Runs `git ARGS` in `dir`; its trimmed output when it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
}

/// The revision of the checkout this build comes from and whether it had uncommitted changes,
/// recorded at build time so that the binary knows them wherever it runs; `unknown` without git
/// or a repository. Cargo reruns this when HEAD, the branch, the packed refs, the index or a
/// source file of the workspace changes, so the flag follows edits as well as commits.
fn git_facts(workspace: &Path) {
    let revision = git(workspace, &["rev-parse", "--verify", "HEAD"])
        .filter(|rev| !rev.is_empty() && rev.bytes().all(|b| b.is_ascii_hexdigit()));
    let dirty = match &revision {
        Some(_) => git(workspace, &["--no-optional-locks", "status", "--porcelain"])
            .map(|s| if s.is_empty() { "false" } else { "true" }),
        None => None,
    };
    println!(
        "cargo:rustc-env=CRITSCALE_GIT_REVISION={}",
        revision.as_deref().unwrap_or("unknown")
    );
    println!(
        "cargo:rustc-env=CRITSCALE_GIT_DIRTY={}",
        dirty.unwrap_or("unknown")
    );
    // The git files that change with a commit, a checkout or `git add` (a work tree made with
    // `git worktree` keeps them outside `.git`, so ask git where they are).
    let mut watched = vec![
        "HEAD".to_owned(),
        "index".to_owned(),
        "packed-refs".to_owned(),
    ];
    if let Some(branch) = git(workspace, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(workspace, &["rev-parse", "--git-path", &name]) {
            let path = workspace.join(path);
            if path.exists() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    for source in ["src", "crates", "Cargo.toml"] {
        let path = workspace.join(source);
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
}

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=CRITSCALE_RUSTC_VERSION={version}");

    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    let lock_path = Path::new(&manifest).join("../../Cargo.lock");
    let dependencies = std::fs::read_to_string(&lock_path)
        .map(|lock| locked_versions(&lock))
        .unwrap_or_default();
    println!("cargo:rustc-env=CRITSCALE_DEPENDENCIES={dependencies}");
    println!("cargo:rerun-if-changed={}", lock_path.display());
    git_facts(&Path::new(&manifest).join("../.."));
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}
