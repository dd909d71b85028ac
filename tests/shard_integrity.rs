//! `report merge` refuses edited shards (issue 10, item 8): the marker's manifest carries the
//! checksum of `shard.json`, every value is range-checked, and each claim's verdict is judged
//! again from its evidence. Each refusal is exit code 2 and one line naming the shard file.

use super::report::{entries, scratch};
use super::support::{Run, critscale};
use critscale_report::write::{Manifest, SHARD};
use critscale_report::{Artifact, shard::SHARD_FILE};
use serde_json::{Value, json};
use std::fs;
use std::path::{Path, PathBuf};

/// Two shards of a quick run with the Gaussian grid and the T1 limit claims.
pub(crate) fn two_shards(root: &Path) -> Vec<PathBuf> {
    (1..=2)
        .map(|index| {
            let dir = root.join(format!("s{index}"));
            let spec = format!("{index}/2");
            let run = critscale(&[
                "report",
                "--budget",
                "quick",
                "--claim",
                "T1.limit",
                "--quiet",
                "--shard",
                &spec,
                "--out",
                dir.to_str().unwrap(),
            ]);
            run.expect_success();
            dir
        })
        .collect()
}

fn merge(root: &Path, shards: &[PathBuf]) -> Run {
    let out = root.join("merged");
    let mut args = vec![
        "report".to_owned(),
        "merge".to_owned(),
        "--quiet".to_owned(),
        "--out".to_owned(),
        out.to_str().unwrap().to_owned(),
    ];
    args.extend(shards.iter().map(|s| s.to_str().unwrap().to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    critscale(&args)
}

fn read(dir: &Path) -> Value {
    serde_json::from_slice(&fs::read(dir.join(SHARD_FILE)).unwrap()).unwrap()
}

/// Writes `value` as the shard file, and with `checksum` a marker that matches it (as someone
/// who edits both files would).
fn write(dir: &Path, value: &Value, checksum: bool) {
    let bytes = serde_json::to_vec_pretty(value).unwrap();
    fs::write(dir.join(SHARD_FILE), &bytes).unwrap();
    if checksum {
        let manifest = Manifest::of(SHARD, &[Artifact::new(SHARD_FILE, bytes)]);
        fs::write(dir.join(SHARD.name), manifest.to_text()).unwrap();
    }
}

/// The first unit whose key starts with `prefix`.
fn unit<'a>(value: &'a mut Value, prefix: &str) -> &'a mut Value {
    value["units"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|u| u["key"].as_str().unwrap().starts_with(prefix))
        .map(|u| &mut u["result"])
        .unwrap()
}

/// An edit of a shard file's JSON.
type Edit = Box<dyn Fn(&mut Value)>;

fn assert_refused(result: &Run, file: &Path, why: &str) {
    let stderr = &result.stderr;
    assert_eq!(result.code, Some(2), "{why}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains(file.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains(why), "expected '{why}': {stderr}");
}

#[test]
fn edited_shards_are_refused() {
    let root = scratch("shard-integrity");
    let shards = two_shards(&root);
    let pristine = read(&shards[0]);
    let file = shards[0].join(SHARD_FILE);
    let marker = fs::read(shards[0].join(SHARD.name)).unwrap();
    let original = fs::read(&file).unwrap();
    let restore = || {
        fs::write(&file, &original).unwrap();
        fs::write(shards[0].join(SHARD.name), &marker).unwrap();
    };
    let has_claim = pristine["units"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["key"].as_str().unwrap().starts_with("claim/"));
    assert!(has_claim, "shard 1 holds a claim");
    let cases: Vec<(&str, bool, Edit)> = vec![
        // Edited numbers with the old checksum.
        (
            "checksum",
            false,
            Box::new(|v| unit(v, "gaussian/")["points"][0]["lambda"] = json!(0.5)),
        ),
        (
            "checksum",
            false,
            Box::new(|v| unit(v, "claim/")["outcome"]["measured"] = json!(0.123)),
        ),
        // Edited numbers with a checksum made to match: the value checks catch them.
        (
            "lambda",
            true,
            Box::new(|v| unit(v, "gaussian/")["points"][0]["lambda"] = json!(-3.0)),
        ),
        (
            "eta",
            true,
            Box::new(|v| unit(v, "gaussian/")["points"][0]["eta"] = json!("inf")),
        ),
        (
            "verdict",
            true,
            Box::new(|v| unit(v, "claim/")["outcome"]["prediction"] = json!(1e6)),
        ),
        // A measurement moved off its own interval while the interval keeps the verdict.
        (
            "outside its interval",
            true,
            Box::new(|v| {
                let outcome = &mut unit(v, "claim/")["outcome"];
                let hi = outcome["ci"][1].as_f64().unwrap();
                outcome["measured"] = json!(hi + 0.1);
            }),
        ),
        // A row moved to another rho than its place in the grid.
        (
            "does not match the grid",
            true,
            Box::new(|v| {
                let row = unit(v, "gaussian/");
                let rho = row["rho"].as_f64().unwrap();
                row["rho"] = json!(rho + 0.01);
            }),
        ),
    ];
    for (why, checksum, edit) in &cases {
        let mut value = pristine.clone();
        edit(&mut value);
        write(&shards[0], &value, *checksum);
        assert_refused(&merge(&root, &shards), &file, why);
        restore();
    }
    assert_eq!(
        entries(&root),
        ["s1", "s2"],
        "a refused merge writes nothing"
    );
    let merged = merge(&root, &shards);
    merged.expect_success();
    fs::remove_dir_all(&root).unwrap();
}
