//! The sibling directories of a write (see the parent module docs, "Writing" and "Leftovers of
//! killed runs"): the names `.NAME.partial-PID`, `.NAME.old-PID` and `NAME.moved-SECONDS-PID`, and
//! the removal of partial and old siblings that killed runs left behind, when they are
//! recognisably ours.

use super::manifest::read_manifest;
use std::fs;
use std::path::{Path, PathBuf};

pub(super) fn sibling(out: &Path, kind: &str) -> PathBuf {
    sibling_of(out, kind, std::process::id())
}

pub(super) fn sibling_of(out: &Path, kind: &str, pid: u32) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.{kind}-{pid}"))
}

/// Whether process `pid` may still be running. Without `/proc` (not Linux) every process counts
/// as running, so nothing is cleaned up.
fn process_alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes the `.NAME.partial-PID` and `.NAME.old-PID` siblings of `out` left by runs that no
/// longer exist, when they are recognisably ours; returns a note for each one left in place.
pub(super) fn clean_stale(out: &Path) -> Vec<String> {
    let mut notes = Vec::new();
    let (Some(name), Some(parent)) = (out.file_name().and_then(|n| n.to_str()), out.parent())
    else {
        return notes;
    };
    let parent = if parent.as_os_str().is_empty() {
        Path::new(".")
    } else {
        parent
    };
    let Ok(listing) = fs::read_dir(parent) else {
        return notes;
    };
    for item in listing.flatten() {
        let file_name = item.file_name();
        let Some(file_name) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = file_name
            .strip_prefix('.')
            .and_then(|r| r.strip_prefix(name))
            .and_then(|r| r.strip_prefix('.'))
        else {
            continue;
        };
        let (cut_off, pid) = if let Some(pid) = rest.strip_prefix("partial-") {
            (true, pid)
        } else if let Some(pid) = rest.strip_prefix("old-") {
            (false, pid)
        } else {
            continue;
        };
        let Ok(pid) = pid.parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() || pid.to_string() != rest.rsplit('-').next().unwrap_or("") {
            continue;
        }
        if process_alive(pid) {
            continue;
        }
        let path = item.path();
        let is_dir =
            fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir() && !m.file_type().is_symlink());
        if !is_dir {
            continue;
        }
        // A run killed right after creating the directory leaves it empty.
        if fs::remove_dir(&path).is_ok() {
            continue;
        }
        let outcome = match read_manifest(&path) {
            None => Err("it has no marker".to_owned()),
            Some(manifest) => manifest.and_then(|m| m.remove(&path, cut_off)),
        };
        if let Err(why) = outcome {
            notes.push(format!(
                "left {} (from a run that no longer exists) in place: {why}",
                path.display()
            ));
        }
    }
    notes
}
/// A name for moving `out` aside that is not taken: `NAME.moved-SECONDS-PID` (then `-2`, …).
pub(super) fn moved_name(out: &Path) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let base = format!("{name}.moved-{seconds}-{}", std::process::id());
    let mut candidate = out.with_file_name(&base);
    let mut k = 2;
    while fs::symlink_metadata(&candidate).is_ok() {
        candidate = out.with_file_name(format!("{base}-{k}"));
        k += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::test_support::{files, scratch, siblings};
    use crate::write::{MARKER, Manifest, REPORT, write_report};

    #[test]
    fn stale_siblings_of_dead_runs_are_removed_only_when_ours() {
        let root = scratch("stale");
        let out = root.join("latest");
        // PIDs above the kernel's limit (4194304) never run.
        let dead = 4_194_305 + std::process::id() % 1000;
        let partial = sibling_of(&out, "partial", dead);
        let manifest = Manifest::of(REPORT, &files("one"));
        fs::create_dir_all(partial.join("data")).unwrap();
        fs::write(partial.join(MARKER), manifest.to_text()).unwrap();
        fs::write(partial.join("report.md"), "on").unwrap(); // cut off
        let old = sibling_of(&out, "old", dead + 1);
        fs::create_dir_all(&old).unwrap();
        fs::write(old.join(MARKER), manifest.to_text()).unwrap();
        fs::write(old.join("theirs.txt"), "not ours").unwrap();
        let empty = sibling_of(&out, "partial", dead + 2);
        fs::create_dir_all(&empty).unwrap();
        let alive = sibling_of(&out, "partial", 1);
        fs::create_dir_all(&alive).unwrap();
        let written = write_report(&out, &files("two"), false).unwrap();
        let left = siblings(&root);
        assert!(!left.contains(&partial.file_name().unwrap().to_string_lossy().into_owned()));
        assert!(!left.contains(&empty.file_name().unwrap().to_string_lossy().into_owned()));
        assert!(old.join("theirs.txt").is_file(), "a foreign file survives");
        assert!(alive.is_dir(), "a live process's directory survives");
        assert_eq!(written.notes.len(), 1, "{:?}", written.notes);
        fs::remove_dir_all(&root).unwrap();
    }
}
