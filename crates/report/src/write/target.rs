//! What may be replaced (see the parent module docs, "What may be replaced" and "Up front"): the
//! protections that hold even with `--force`, the marker's manifest that vouches for a directory,
//! and the probe of the parent directory before any computing.

use super::manifest::{Manifest, read_manifest};
use super::siblings::sibling;
use super::{WriteError, io_error};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// What is at the target path and what writing will do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Nothing: the directory is created.
    Absent,
    /// An empty directory: replaced.
    Empty,
    /// A directory critscale wrote, every file accounted for: replaced, removing only the listed
    /// files.
    Ours(Manifest),
    /// Anything else, accepted because of `force`: moved aside, never deleted.
    MoveAside,
}

/// The canonical home directory (`$HOME`), if it exists.
fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| PathBuf::from(h).canonicalize().ok())
}

/// The protections that hold even with `force`, checked before any marker is looked at.
fn protection(out: &Path, meta: &fs::Metadata) -> Result<Option<&'static str>, WriteError> {
    if meta.file_type().is_symlink() {
        return Ok(Some(
            "it is a symbolic link (give the directory it points to)",
        ));
    }
    if !meta.is_dir() {
        return Ok(Some("it exists and is not a directory"));
    }
    let canonical = out.canonicalize().map_err(io_error(out))?;
    let depth = canonical
        .components()
        .filter(|c| matches!(c, std::path::Component::Normal(_)))
        .count();
    if depth < 2 {
        return Ok(Some("it is a top-level directory, which is never replaced"));
    }
    if home().is_some_and(|h| h.starts_with(&canonical)) {
        return Ok(Some(
            "it is the home directory or contains it, which is never replaced",
        ));
    }
    if std::env::current_dir()
        .and_then(|c| c.canonicalize())
        .is_ok_and(|cwd| cwd.starts_with(&canonical))
    {
        return Ok(Some(
            "it is the current directory or contains it, which is never replaced",
        ));
    }
    if fs::symlink_metadata(out.join(".git")).is_ok() {
        return Ok(Some(
            "it holds .git (a git work tree), which is never replaced",
        ));
    }
    Ok(None)
}

/// Decides whether `out` may be written and how (see the module docs), and probes that its
/// parent can take the new directory. Call it before the long work so that a refusal comes at
/// once; [`write_dir`](super::write_dir) calls it again before writing.
pub fn check_target(out: &Path, force: bool) -> Result<Target, WriteError> {
    let shown = out.display().to_string();
    let protected = |reason: &str| WriteError::Protected {
        path: shown.clone(),
        reason: reason.to_owned(),
    };
    // `Path::file_name` skips a trailing `.` (`stray/.` names `stray`), but renaming onto such a
    // path fails: look at the last component as written.
    let last = out
        .as_os_str()
        .as_encoded_bytes()
        .rsplit(|&b| b == b'/')
        .next();
    if out.file_name().is_none() || matches!(last, Some(b".") | Some(b"..")) {
        return Err(protected(
            "it has no final directory name (give a path such as reports/latest)",
        ));
    }
    let target = match fs::symlink_metadata(out) {
        // A missing path, or one below a file: the probe says what is in the way.
        Err(err)
            if matches!(
                err.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Target::Absent
        }
        Err(err) => {
            return Err(WriteError::Unusable {
                path: shown,
                reason: err.to_string(),
            });
        }
        Ok(meta) => {
            if let Some(reason) = protection(out, &meta)? {
                return Err(protected(reason));
            }
            match read_manifest(out) {
                Some(Ok(manifest)) => match manifest.accounts_for(out, false) {
                    Ok(()) => Target::Ours(manifest),
                    Err(_) if force => Target::MoveAside,
                    Err(reason) => {
                        return Err(WriteError::NotOurs {
                            path: shown,
                            reason,
                        });
                    }
                },
                Some(Err(_)) if force => Target::MoveAside,
                Some(Err(reason)) => {
                    return Err(WriteError::NotOurs {
                        path: shown,
                        reason,
                    });
                }
                None => {
                    let empty = fs::read_dir(out).map_err(io_error(out))?.next().is_none();
                    if empty {
                        Target::Empty
                    } else if force {
                        Target::MoveAside
                    } else {
                        return Err(WriteError::NotAReport(shown));
                    }
                }
            }
        }
    };
    probe(out)?;
    Ok(target)
}

/// Creates and removes the partial sibling of `out` (and the missing ancestors, removed again):
/// the write will be able to create its directory there.
fn probe(out: &Path) -> Result<(), WriteError> {
    let unusable = |reason: String| WriteError::Unusable {
        path: out.display().to_string(),
        reason,
    };
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The ancestors that do not exist yet, nearest first.
    let mut missing = Vec::new();
    let mut walk = Some(parent);
    while let Some(p) = walk.filter(|p| !p.as_os_str().is_empty()) {
        match fs::symlink_metadata(p) {
            Ok(meta) if meta.is_dir() || p.is_dir() => break,
            Ok(_) => {
                return Err(unusable(format!(
                    "{} is in the way: it exists and is not a directory",
                    p.display()
                )));
            }
            Err(_) => missing.push(p.to_path_buf()),
        }
        walk = p.parent();
    }
    let result = fs::create_dir_all(parent)
        .map_err(|e| {
            unusable(format!(
                "cannot create its parent directory {}: {e}",
                parent.display()
            ))
        })
        .and_then(|()| {
            let partial = sibling(out, "partial");
            fs::create_dir(&partial)
                .and_then(|()| fs::remove_dir(&partial))
                .map_err(|e| unusable(format!("cannot create a directory there: {e}")))
        });
    for dir in &missing {
        let _ = fs::remove_dir(dir);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::test_support::{scratch, siblings};
    use crate::write::{MARKER, MARKER_TEXT};

    #[test]
    fn empty_directories_are_used_and_protected_paths_refused() {
        let root = scratch("protect");
        let empty = root.join("empty");
        fs::create_dir_all(&empty).unwrap();
        assert_eq!(check_target(&empty, false).unwrap(), Target::Empty);
        let repo = root.join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        let err = check_target(&repo, true).unwrap_err();
        assert!(matches!(err, WriteError::Protected { .. }), "{err}");
        // The marker does not lift a protection.
        fs::write(repo.join(MARKER), MARKER_TEXT).unwrap();
        assert!(matches!(
            check_target(&repo, true).unwrap_err(),
            WriteError::Protected { .. }
        ));
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
    #[test]
    fn an_unusable_target_is_refused_up_front() {
        let root = scratch("unusable");
        let file = root.join("file");
        fs::write(&file, "x").unwrap();
        let err = check_target(&file.join("out"), false).unwrap_err();
        assert!(matches!(err, WriteError::Unusable { .. }), "{err}");
        let long = root.join("x".repeat(250));
        let err = check_target(&long, false).unwrap_err();
        assert!(matches!(err, WriteError::Unusable { .. }), "{err}");
        let deep = root.join("a/b/c");
        assert_eq!(check_target(&deep, false).unwrap(), Target::Absent);
        assert!(!root.join("a").exists(), "the probe leaves nothing behind");
        assert_eq!(siblings(&root), ["file"]);
        // A path ending in `.` or `..` names no directory of its own, existing or not.
        fs::create_dir(root.join("stray")).unwrap();
        for out in ["stray/.", "new/.", "stray/..", "stray/./."] {
            let err = check_target(&root.join(out), false).unwrap_err();
            assert!(matches!(err, WriteError::Protected { .. }), "{out}: {err}");
        }
        fs::remove_dir_all(&root).unwrap();
    }
}
