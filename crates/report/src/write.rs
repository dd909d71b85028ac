//! Safe writes: a report directory appears complete or not at all.
//!
//! [`write_report`] writes every file into a fresh sibling directory `.NAME.partial-PID` (same
//! parent, so the same file system), puts the marker file [`MARKER`] in last, and then renames it
//! to `NAME`. When `NAME` already exists it is first renamed to `.NAME.old-PID`, and removed after
//! the new directory is in place. So at every moment `NAME` is either the old complete report,
//! briefly absent, or the new complete report — never half written; an interrupted run leaves at
//! most a hidden `.partial`/`.old` sibling (and, between the two renames, the old report under
//! `.NAME.old-PID`). (Linux's `renameat2(RENAME_EXCHANGE)` would close the short gap, but it is
//! not in `std` and not portable; the gap never exposes a partial report.)
//!
//! [`write_dir`] does the same for a shard directory of `report --shard`, whose marker is
//! [`crate::shard::SHARD_MARKER`] instead, so that a shard is never taken for a report.
//!
//! What may be replaced ([`check_target`]): a path that does not exist, an empty directory, or a
//! directory holding either marker. Anything else — a directory of other files, a file, a symbolic
//! link — is refused unless `force` is set; with `force` a directory of other files is replaced
//! (and removed). Never replaced, even with `force`: a path without a final name (`.`, `..`, `/`),
//! a symbolic link, a non-directory, a directory holding `.git`, a top-level directory such as
//! `/tmp` or `/home`, the home directory, and the current directory or any directory above it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Name of the marker file that identifies a complete critscale report directory.
pub const MARKER: &str = ".critscale-report";

/// Contents of the marker file.
pub const MARKER_TEXT: &str =
    "critscale report: this directory is written and replaced whole by `critscale report`\n";

/// One file of a report: a path relative to the report directory (`/`-separated) and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    /// Relative path, e.g. `data/claims.csv`.
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// Why the report was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The target exists and is not a report.
    #[error(
        "refusing to overwrite --out {0}: it is a non-empty directory that is not a critscale report (no {MARKER} file); pass --force to replace it"
    )]
    NotAReport(String),
    /// The target can never be replaced.
    #[error("refusing to write --out {path}: {reason}")]
    Protected {
        /// The path given.
        path: String,
        /// Why.
        reason: &'static str,
    },
    /// A file-system operation failed.
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

/// What is at the target path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Nothing: the report is created.
    Absent,
    /// An empty directory or a report: replaced.
    Replaceable,
    /// A directory of other files, accepted because of `force`: replaced.
    Forced,
}

/// Decides whether `out` may be written (see the module docs); call it before the long work so
/// that a refusal comes at once, and again (as [`write_report`] does) before writing.
pub fn check_target(out: &Path, force: bool) -> Result<Target, WriteError> {
    let shown = out.display().to_string();
    let protected = |reason| WriteError::Protected {
        path: shown.clone(),
        reason,
    };
    if out.file_name().is_none() {
        return Err(protected(
            "it has no final directory name (give a path such as reports/latest)",
        ));
    }
    let meta = match fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Target::Absent),
        Err(source) => return Err(io_error(out)(source)),
    };
    if meta.file_type().is_symlink() {
        return Err(protected(
            "it is a symbolic link (give the directory it points to)",
        ));
    }
    if !meta.is_dir() {
        return Err(protected("it exists and is not a directory"));
    }
    if out.join(MARKER).is_file() || out.join(crate::shard::SHARD_MARKER).is_file() {
        return Ok(Target::Replaceable);
    }
    if out.join(".git").exists() {
        return Err(protected(
            "it holds a .git repository, which is never replaced",
        ));
    }
    if let Ok(canonical) = out.canonicalize() {
        let depth = canonical
            .components()
            .filter(|c| matches!(c, std::path::Component::Normal(_)))
            .count();
        if depth < 2 {
            return Err(protected(
                "it is a top-level directory, which is never replaced",
            ));
        }
        let home = std::env::var_os("HOME").and_then(|h| PathBuf::from(h).canonicalize().ok());
        if home.as_deref() == Some(canonical.as_path()) {
            return Err(protected(
                "it is the home directory, which is never replaced",
            ));
        }
        if let Ok(cwd) = std::env::current_dir().and_then(|c| c.canonicalize())
            && cwd.starts_with(&canonical)
        {
            return Err(protected(
                "it is the current directory or contains it, which is never replaced",
            ));
        }
    }
    let empty = fs::read_dir(out).map_err(io_error(out))?.next().is_none();
    if empty {
        Ok(Target::Replaceable)
    } else if force {
        Ok(Target::Forced)
    } else {
        Err(WriteError::NotAReport(shown))
    }
}

fn sibling(out: &Path, kind: &str) -> PathBuf {
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!(".{name}.{kind}-{}", std::process::id()))
}

fn fill(dir: &Path, files: &[Artifact], marker: Marker) -> Result<(), WriteError> {
    fs::create_dir(dir).map_err(io_error(dir))?;
    for file in files {
        let path = dir.join(&file.path);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        fs::write(&path, &file.bytes).map_err(io_error(&path))?;
    }
    let path = dir.join(marker.name);
    fs::write(&path, marker.text).map_err(io_error(&path))
}

/// The marker file that says what a directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// File name.
    pub name: &'static str,
    /// Contents.
    pub text: &'static str,
}

/// The marker of a report.
pub const REPORT: Marker = Marker {
    name: MARKER,
    text: MARKER_TEXT,
};

/// The marker of a shard directory (`report --shard`).
pub const SHARD: Marker = Marker {
    name: crate::shard::SHARD_MARKER,
    text: crate::shard::SHARD_MARKER_TEXT,
};

/// Writes `files` as the report directory `out`, replacing it whole (see the module docs).
pub fn write_report(out: &Path, files: &[Artifact], force: bool) -> Result<(), WriteError> {
    write_dir(out, files, force, REPORT)
}

/// Writes `files` and the marker as the directory `out`, replacing it whole (see the module
/// docs): a report, or a shard directory.
pub fn write_dir(
    out: &Path,
    files: &[Artifact],
    force: bool,
    marker: Marker,
) -> Result<(), WriteError> {
    let target = check_target(out, force)?;
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent).map_err(io_error(parent))?;
    }
    let partial = sibling(out, "partial");
    if partial.exists() {
        fs::remove_dir_all(&partial).map_err(io_error(&partial))?;
    }
    if let Err(err) = fill(&partial, files, marker) {
        let _ = fs::remove_dir_all(&partial);
        return Err(err);
    }
    if target == Target::Absent {
        return fs::rename(&partial, out).map_err(|source| {
            let _ = fs::remove_dir_all(&partial);
            io_error(out)(source)
        });
    }
    let old = sibling(out, "old");
    if old.exists() {
        fs::remove_dir_all(&old).map_err(io_error(&old))?;
    }
    if let Err(source) = fs::rename(out, &old) {
        let _ = fs::remove_dir_all(&partial);
        return Err(io_error(out)(source));
    }
    if let Err(source) = fs::rename(&partial, out) {
        // Put the old report back; the new one is discarded.
        let _ = fs::rename(&old, out);
        let _ = fs::remove_dir_all(&partial);
        return Err(io_error(out)(source));
    }
    fs::remove_dir_all(&old).map_err(io_error(&old))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "critscale-report-write-{name}-{}",
            std::process::id()
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn files(text: &str) -> Vec<Artifact> {
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

    fn siblings(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn creates_then_replaces_a_report_whole() {
        let root = scratch("replace");
        let out = root.join("deep/latest");
        write_report(&out, &files("one"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "one");
        assert!(out.join(MARKER).is_file());
        // A stray file in the old report must not survive: the directory is replaced, not merged.
        fs::write(out.join("stray.txt"), "old").unwrap();
        write_report(&out, &files("two"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
        assert!(!out.join("stray.txt").exists());
        assert_eq!(siblings(&root.join("deep")), ["latest"]);
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn refuses_a_directory_that_is_not_a_report_unless_forced() {
        let root = scratch("refuse");
        let out = root.join("mine");
        fs::create_dir_all(&out).unwrap();
        fs::write(out.join("notes.txt"), "precious").unwrap();
        let err = write_report(&out, &files("x"), false).unwrap_err();
        assert!(matches!(err, WriteError::NotAReport(_)), "{err}");
        assert!(err.to_string().contains("--force"));
        assert_eq!(
            fs::read_to_string(out.join("notes.txt")).unwrap(),
            "precious"
        );
        assert_eq!(siblings(&root), ["mine"], "no partial directory left");
        write_report(&out, &files("x"), true).unwrap();
        assert!(!out.join("notes.txt").exists());
        assert!(out.join(MARKER).is_file());
        fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn empty_directories_are_used_and_protected_paths_refused() {
        let root = scratch("protect");
        let empty = root.join("empty");
        fs::create_dir_all(&empty).unwrap();
        assert_eq!(check_target(&empty, false).unwrap(), Target::Replaceable);
        let repo = root.join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        let err = check_target(&repo, true).unwrap_err();
        assert!(matches!(err, WriteError::Protected { .. }), "{err}");
        let file = root.join("file");
        fs::write(&file, "x").unwrap();
        assert!(check_target(&file, true).is_err());
        assert!(check_target(Path::new("."), true).is_err());
        assert!(check_target(Path::new("/"), true).is_err());
        assert!(check_target(&std::env::temp_dir(), true).is_err());
        let cwd = std::env::current_dir().unwrap();
        assert!(check_target(&cwd, true).is_err());
        assert!(check_target(cwd.parent().unwrap(), true).is_err());
        fs::remove_dir_all(&root).unwrap();
    }
}
