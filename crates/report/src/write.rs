//! Safe writes: a report directory appears complete or not at all, and no file that critscale did
//! not write is ever deleted or overwritten.
//!
//! **Manifest.** The marker file ([`MARKER`] for a report, [`DIAGNOSE_MARKER`] for the output of
//! `critscale diagnose --out`, [`SHARD_MARKER`] for a
//! shard directory) is the directory's manifest: its first line says what the directory is, then
//! one line `SHA-256 SIZE PATH` for every file critscale wrote there ([`Manifest`]). Replacing the
//! directory later removes exactly these files (when their bytes still match), the directories
//! that hold them and the marker — nothing else. A directory that holds anything else (an extra
//! file, a symbolic link, a listed file whose content changed, a marker without a manifest) is not
//! vouched for and is refused.
//!
//! **Writing.** [`write_dir`] writes into a fresh sibling `.NAME.partial-PID` (same parent, so the
//! same file system), the marker with its manifest first, and renames it to `NAME`. An existing
//! `NAME` is first renamed to `.NAME.old-PID` and emptied by its manifest after the new directory is
//! in place. So at every moment `NAME` is the old complete directory, briefly absent, or the new
//! complete one, never half written. (`renameat2(RENAME_EXCHANGE)` would close the short gap, but
//! it is Linux-only and not in `std`.)
//!
//! **What may be replaced** ([`check_target`]), in this order:
//! 1. never, even with `force`: a path without a final name (`.`, `..`, `/`), a symbolic link, a
//!    non-directory, a top-level directory such as `/tmp`, the home directory or a directory that
//!    contains it, the current directory or one of its ancestors, a directory holding `.git`;
//! 2. a path that does not exist, or an empty directory;
//! 3. a directory whose marker's manifest accounts for everything in it.
//!
//! Anything else is refused unless `force` is set; with `force` it is **moved aside** to
//! `NAME.moved-SECONDS-PID` (never deleted) and the caller is told where ([`Written::notes`]).
//!
//! **Up front.** [`check_target`] also probes the parent: it creates and removes the partial
//! sibling, so an `--out` whose parent cannot be created, is not writable or whose name is too
//! long is refused before any computing.
//!
//! **Leftovers of killed runs.** A run that is killed leaves `.NAME.partial-PID` or
//! `.NAME.old-PID`. The next write of `NAME` removes such a sibling when process PID no longer
//! exists (Linux: no `/proc/PID`) and the sibling is recognisably ours: empty, or a marker whose
//! manifest accounts for every file (in a partial directory a listed file may be shorter than
//! listed: its write was cut off). Anything else is left in place and named in a note.
//!
//! # Layout
//!
//! The writing itself is here; private submodules, whose public items are re-exported here, do
//! the rest: `manifest` (the marker file and its manifest), `target` (what may be replaced,
//! [`check_target`]) and `siblings` (the partial, old and moved-aside siblings and the removal of
//! leftovers).

mod manifest;
mod siblings;
mod target;

pub use manifest::{
    DIAGNOSE, DIAGNOSE_MARKER, DIAGNOSE_MARKER_TEXT, Entry, MANIFEST_HEADER, MARKER, MARKER_TEXT,
    Manifest, Marker, REPORT, SHARD, SHARD_MARKER, SHARD_MARKER_TEXT, sha256,
};
pub use target::{Target, check_target};

use manifest::valid_relative;
use siblings::{clean_stale, moved_name, sibling};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One file of a report: a path relative to the report directory (`/`-separated) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Relative path, e.g. `data/claims.csv`.
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// Why the directory was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The target exists, is not empty and has no marker (exit code 2).
    #[error(
        "refusing to replace --out {0}: it is a non-empty directory that critscale did not write (none of the marker files {MARKER}, {SHARD_MARKER}, {DIAGNOSE_MARKER}); pass --force to move it aside"
    )]
    NotAReport(String),
    /// The target has a marker, but its manifest does not account for everything in it (exit
    /// code 2).
    #[error("refusing to replace --out {path}: {reason}; pass --force to move it aside")]
    NotOurs {
        /// The path given.
        path: String,
        /// What was found.
        reason: String,
    },
    /// The target can never be replaced (exit code 2).
    #[error("refusing to write --out {path}: {reason}")]
    Protected {
        /// The path given.
        path: String,
        /// Why.
        reason: String,
    },
    /// The target cannot be written: its parent cannot be created or is not writable, or the
    /// name is too long (exit code 2; found before any computing).
    #[error("invalid value '{path}' for --out: {reason}")]
    Unusable {
        /// The path given.
        path: String,
        /// Why.
        reason: String,
    },
    /// A file-system operation failed while writing (exit code 1).
    #[error("cannot write the report at {path}: {source}")]
    Io {
        /// The path involved.
        path: String,
        /// The error.
        source: io::Error,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> WriteError + '_ {
    move |source| WriteError::Io {
        path: path.display().to_string(),
        source,
    }
}
/// Writes `manifest`'s marker and then `files` into the new directory `dir`.
fn fill(dir: &Path, files: &[Artifact], manifest: &Manifest) -> Result<(), WriteError> {
    fs::create_dir(dir).map_err(io_error(dir))?;
    // The marker first: a run killed while writing leaves a directory the next run can
    // recognise and remove.
    let path = dir.join(manifest.marker.name);
    fs::write(&path, manifest.to_text()).map_err(io_error(&path))?;
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::write(&path, &file.bytes).map_err(io_error(&path))?;
    }
    Ok(())
}

/// What a write did besides writing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Lines for standard error: where a directory was moved aside, leftovers kept in place.
    pub notes: Vec<String>,
    /// Where an existing directory was moved (with `force`).
    pub moved_to: Option<PathBuf>,
}

/// Writes `files` as the report directory `out`, replacing it whole (see the module docs).
pub fn write_report(out: &Path, files: &[Artifact], force: bool) -> Result<Written, WriteError> {
    write_dir(out, files, force, REPORT)
}
/// Writes `files` and the marker with their manifest as the directory `out`, replacing it
/// whole (see the module docs): a report, or a shard directory.
pub fn write_dir(
    out: &Path,
    files: &[Artifact],
    force: bool,
    marker: Marker,
) -> Result<Written, WriteError> {
    if let Some(bad) = files.iter().find(|f| {
        !valid_relative(&f.path)
            || f.path == MARKER
            || f.path == SHARD_MARKER
            || f.path == DIAGNOSE_MARKER
    }) {
        return Err(WriteError::Io {
            path: bad.path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path"),
        });
    }
    let target = match check_target(out, force)? {
        // critscale's own directory of another kind (a report where a diagnose output is
        // asked for, or the reverse) is not what the user named to replace: refused like a
        // foreign one, and moved aside with --force.
        Target::Ours(existing) if existing.marker != marker => {
            if !force {
                return Err(WriteError::NotOurs {
                    path: out.display().to_string(),
                    reason: format!(
                        "it is another kind of critscale output (marker {}, not {})",
                        existing.marker.name, marker.name
                    ),
                });
            }
            Target::MoveAside
        }
        target => target,
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let mut written = Written {
        notes: clean_stale(out),
        moved_to: None,
    };
    let manifest = Manifest::of(marker, files);
    let partial = sibling(out, "partial");
    let discard = |dir: &Path| {
        let _ = manifest.remove(dir, true);
    };
    if fs::symlink_metadata(&partial).is_ok() {
        return Err(io_error(&partial)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a directory of this process is in the way",
        )));
    }
    if let Err(err) = fill(&partial, files, &manifest) {
        discard(&partial);
        return Err(err);
    }
    let aside = match &target {
        Target::Absent => None,
        Target::MoveAside => Some(moved_name(out)),
        Target::Empty | Target::Ours(_) => Some(sibling(out, "old")),
    };
    if let Some(aside) = &aside
        && let Err(source) = fs::rename(out, aside)
    {
        discard(&partial);
        return Err(io_error(out)(source));
    }
    if let Err(source) = fs::rename(&partial, out) {
        if let Some(aside) = &aside {
            // Put the old directory back; the new one is discarded.
            let _ = fs::rename(aside, out);
        }
        discard(&partial);
        return Err(io_error(out)(source));
    }
    match (&target, aside) {
        (Target::MoveAside, Some(moved)) => {
            written.notes.push(format!(
                "moved the existing {} aside to {} (nothing was deleted)",
                out.display(),
                moved.display()
            ));
            written.moved_to = Some(moved);
        }
        (Target::Empty, Some(old)) if fs::remove_dir(&old).is_err() => {
            written.notes.push(format!(
                "kept {}: it was no longer empty when replaced",
                old.display()
            ));
        }
        (Target::Ours(previous), Some(old)) => {
            if let Err(why) = previous.remove(&old, false) {
                written.notes.push(format!(
                    "kept the previous directory at {}: {why}",
                    old.display()
                ));
            }
        }
        _ => {}
    }
    Ok(written)
}

#[cfg(test)]
mod test_support {
    use super::Artifact;
    use std::fs;
    use std::path::{Path, PathBuf};

    pub(super) fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "critscale-report-write-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    pub(super) fn files(text: &str) -> Vec<Artifact> {
        vec![
            Artifact {
                path: "report.md".to_owned(),
                bytes: text.as_bytes().to_vec(),
            },
            Artifact {
                path: "data/x.csv".to_owned(),
                bytes: b"x\n1\n".to_vec(),
            },
        ]
    }

    pub(super) fn siblings(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{files, scratch, siblings};
    use super::*;

    #[test]
    fn creates_then_replaces_a_report_whole() {
        let root = scratch("replace");
        let out = root.join("deep/latest");
        write_report(&out, &files("one"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "one");
        assert!(out.join(MARKER).is_file());
        write_report(&out, &files("two"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
        assert_eq!(siblings(&root.join("deep")), ["latest"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn another_kind_of_critscale_output_is_refused_and_moved_aside_with_force() {
        let root = scratch("kind");
        let out = root.join("out");
        write_report(&out, &files("report"), false).unwrap();
        let err = write_dir(&out, &files("diagnose"), false, DIAGNOSE).unwrap_err();
        assert!(matches!(err, WriteError::NotOurs { .. }), "{err}");
        assert!(err.to_string().contains(MARKER), "{err}");
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "report");
        let written = write_dir(&out, &files("diagnose"), true, DIAGNOSE).unwrap();
        let moved = written.moved_to.unwrap();
        assert_eq!(
            fs::read_to_string(moved.join("report.md")).unwrap(),
            "report"
        );
        assert!(out.join(DIAGNOSE_MARKER).is_file());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_report_with_a_file_critscale_did_not_write_is_refused() {
        let root = scratch("stray");
        let out = root.join("latest");
        write_report(&out, &files("one"), false).unwrap();
        fs::write(out.join("stray.txt"), "mine").unwrap();
        let err = write_report(&out, &files("two"), false).unwrap_err();
        assert!(matches!(err, WriteError::NotOurs { .. }), "{err}");
        assert!(err.to_string().contains("stray.txt"), "{err}");
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "one");
        // A listed file whose content changed is not ours either.
        fs::remove_file(out.join("stray.txt")).unwrap();
        fs::write(out.join("report.md"), "edited").unwrap();
        let err = write_report(&out, &files("two"), false).unwrap_err();
        assert!(err.to_string().contains("report.md"), "{err}");
        assert_eq!(siblings(&root), ["latest"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn force_moves_aside_and_never_deletes() {
        let root = scratch("refuse");
        let out = root.join("mine");
        fs::create_dir_all(out.join("sub")).unwrap();
        fs::write(out.join("sub/notes.txt"), "precious").unwrap();
        let err = write_report(&out, &files("x"), false).unwrap_err();
        assert!(matches!(err, WriteError::NotAReport(_)), "{err}");
        assert!(err.to_string().contains("--force"));
        assert_eq!(siblings(&root), ["mine"], "no partial directory left");
        let written = write_report(&out, &files("x"), true).unwrap();
        let moved = written.moved_to.unwrap();
        assert_eq!(
            fs::read_to_string(moved.join("sub/notes.txt")).unwrap(),
            "precious"
        );
        assert!(out.join(MARKER).is_file());
        assert_eq!(written.notes.len(), 1);
        fs::remove_dir_all(&root).unwrap();
    }
}
