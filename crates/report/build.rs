//! Records, for the report's provenance, the compiler that built the report crate and the
//! versions of the main dependencies as locked in the workspace's Cargo.lock.

use std::path::Path;
use std::process::Command;

/// Dependencies whose versions the provenance lists: the numerics, kernels, fits and figures.
const KEY_DEPENDENCIES: [&str; 13] = [
    "astro-float",
    "rug",
    "pulp",
    "gemm",
    "ndarray",
    "nalgebra",
    "varpro",
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
    println!("cargo:rerun-if-env-changed=RUSTC");
    println!("cargo:rerun-if-changed=build.rs");
}
