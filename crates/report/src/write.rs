//! Safe writes: a report directory appears complete or not at all, and no file that critscale did
//! not write is ever deleted or overwritten.
//!
//! **Manifest.** The marker file ([`MARKER`] for a report, [`crate::shard::SHARD_MARKER`] for a
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

use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Name of the marker file that identifies a complete critscale report directory.
pub const MARKER: &str = ".critscale-report";

/// First line of a report's marker file.
pub const MARKER_TEXT: &str =
    "critscale report: this directory is written and replaced whole by `critscale report`\n";

/// Second line of every marker file; the manifest lines follow.
pub const MANIFEST_HEADER: &str = "# every file critscale wrote here (SHA-256, bytes, path); replacing this directory removes exactly these\n";

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
        "refusing to replace --out {0}: it is a non-empty directory that critscale did not write (no {MARKER} file); pass --force to move it aside"
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

/// The marker file that says what a directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    /// File name.
    pub name: &'static str,
    /// First line (ends with a newline).
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

/// One line of a manifest: a file critscale wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative `/`-separated path.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents.
    pub sha256: [u8; 32],
}

/// The files critscale wrote into a directory, as listed in its marker file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// Which marker holds it.
    pub marker: Marker,
    /// The files, in the order written.
    pub entries: Vec<Entry>,
}

/// SHA-256 of `bytes`.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn hex(bytes: &[u8; 32]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<[u8; 32]> {
    // Lower-case only, so that every digest has exactly one spelling.
    if text.len() != 64 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    for (k, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * k..2 * k + 2], 16).ok()?;
    }
    Some(out)
}

/// A relative path that stays inside the directory: `/`-separated normal components, no `.`,
/// `..`, empty component, leading `/`, backslash or control character.
fn valid_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.chars().any(|c| c.is_control() || c == '\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

impl Manifest {
    /// The manifest of `files` under `marker`.
    pub fn of(marker: Marker, files: &[Artifact]) -> Manifest {
        Manifest {
            marker,
            entries: files
                .iter()
                .map(|f| Entry {
                    path: f.path.clone(),
                    size: f.bytes.len() as u64,
                    sha256: sha256(&f.bytes),
                })
                .collect(),
        }
    }

    /// The marker file's contents: the marker's line, [`MANIFEST_HEADER`], one line per file.
    pub fn to_text(&self) -> String {
        let mut text = String::from(self.marker.text);
        text.push_str(MANIFEST_HEADER);
        for e in &self.entries {
            text.push_str(&format!("{} {} {}\n", hex(&e.sha256), e.size, e.path));
        }
        text
    }

    /// Reads a marker file written by [`Manifest::to_text`]. Strict: every manifest has one
    /// spelling, so any edit of the text is refused.
    pub fn parse(marker: Marker, bytes: &[u8]) -> Result<Manifest, String> {
        let text = std::str::from_utf8(bytes).map_err(|_| "the marker is not UTF-8".to_owned())?;
        let rest = text
            .strip_prefix(marker.text)
            .ok_or_else(|| format!("{} does not start with its marker line", marker.name))?;
        let rest = rest.strip_prefix(MANIFEST_HEADER).ok_or_else(|| {
            format!(
                "{} has no manifest of the files critscale wrote (an older or foreign marker)",
                marker.name
            )
        })?;
        if !rest.is_empty() && !rest.ends_with('\n') {
            return Err(format!("{} does not end with a newline", marker.name));
        }
        let mut entries: Vec<Entry> = Vec::new();
        for line in rest.split_terminator('\n') {
            let bad = || format!("{}: malformed manifest line '{line}'", marker.name);
            let mut parts = line.splitn(3, ' ');
            let (Some(digest), Some(size), Some(path)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(bad());
            };
            let sha256 = unhex(digest).ok_or_else(bad)?;
            let canonical_size = !size.is_empty()
                && size.bytes().all(|b| b.is_ascii_digit())
                && (size == "0" || !size.starts_with('0'));
            let size: u64 = size
                .parse()
                .ok()
                .filter(|_| canonical_size)
                .ok_or_else(bad)?;
            if !valid_relative(path)
                || path == MARKER
                || path == crate::shard::SHARD_MARKER
                || entries.iter().any(|e| e.path == path)
            {
                return Err(bad());
            }
            entries.push(Entry {
                path: path.to_owned(),
                size,
                sha256,
            });
        }
        Ok(Manifest { marker, entries })
    }

    /// The directories the listed files sit in (relative, every ancestor), deepest first.
    fn directories(&self) -> Vec<String> {
        let mut dirs: Vec<String> = Vec::new();
        for e in &self.entries {
            let mut path = e.path.as_str();
            while let Some((parent, _)) = path.rsplit_once('/') {
                if !dirs.iter().any(|d| d == parent) {
                    dirs.push(parent.to_owned());
                }
                path = parent;
            }
        }
        dirs.sort_by_key(|d| std::cmp::Reverse(d.matches('/').count()));
        dirs
    }

    /// Checks that everything under `dir` is the marker, a listed file with its listed content,
    /// or a directory holding listed files. Listed files may be missing. With `cut_off`, a listed
    /// file may also be shorter than listed (a write that was interrupted). The error names the
    /// first thing that is not accounted for.
    pub fn accounts_for(&self, dir: &Path, cut_off: bool) -> Result<(), String> {
        let dirs = self.directories();
        let mut stack = vec![(dir.to_path_buf(), String::new())];
        while let Some((abs, rel)) = stack.pop() {
            let listing = fs::read_dir(&abs).map_err(|e| format!("cannot list {rel:?}: {e}"))?;
            for item in listing {
                let item = item.map_err(|e| format!("cannot list {rel:?}: {e}"))?;
                let name = item.file_name();
                let Some(name) = name.to_str() else {
                    return Err(format!(
                        "it holds '{}', which critscale did not write",
                        item.path().display()
                    ));
                };
                let rel_path = if rel.is_empty() {
                    name.to_owned()
                } else {
                    format!("{rel}/{name}")
                };
                let foreign = || format!("it holds '{rel_path}', which critscale did not write");
                let meta = fs::symlink_metadata(item.path()).map_err(|e| e.to_string())?;
                if meta.is_dir() && !meta.file_type().is_symlink() {
                    if !dirs.contains(&rel_path) {
                        return Err(foreign());
                    }
                    stack.push((item.path(), rel_path));
                } else if meta.is_file() {
                    if rel_path == self.marker.name {
                        continue;
                    }
                    let entry = self
                        .entries
                        .iter()
                        .find(|e| e.path == rel_path)
                        .ok_or_else(foreign)?;
                    let changed = || {
                        format!(
                            "'{rel_path}' was changed after critscale wrote it (its checksum does not match)"
                        )
                    };
                    if cut_off && meta.len() < entry.size {
                        continue;
                    }
                    if meta.len() != entry.size {
                        return Err(changed());
                    }
                    let bytes = fs::read(item.path()).map_err(|e| e.to_string())?;
                    if sha256(&bytes) != entry.sha256 {
                        return Err(changed());
                    }
                } else {
                    return Err(foreign());
                }
            }
        }
        Ok(())
    }

    /// Removes `dir` if everything in it is accounted for ([`Manifest::accounts_for`]): the listed
    /// files, then their directories, the marker and `dir` itself. Nothing is removed when
    /// something is not accounted for.
    pub fn remove(&self, dir: &Path, cut_off: bool) -> Result<(), String> {
        self.accounts_for(dir, cut_off)?;
        let gone = |r: io::Result<()>| match r {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.to_string()),
            _ => Ok(()),
        };
        for e in &self.entries {
            gone(fs::remove_file(dir.join(&e.path)))?;
        }
        for d in self.directories() {
            gone(fs::remove_dir(dir.join(d)))?;
        }
        gone(fs::remove_file(dir.join(self.marker.name)))?;
        fs::remove_dir(dir).map_err(|e| e.to_string())
    }
}

/// Reads the manifest of `dir` from whichever marker it holds (`None` when it holds none).
fn read_manifest(dir: &Path) -> Option<Result<Manifest, String>> {
    let present: Vec<Marker> = [REPORT, SHARD]
        .into_iter()
        .filter(|m| {
            fs::symlink_metadata(dir.join(m.name)).is_ok_and(|meta| meta.file_type().is_file())
        })
        .collect();
    match present.as_slice() {
        [] => None,
        [marker] => Some(
            fs::read(dir.join(marker.name))
                .map_err(|e| format!("cannot read {}: {e}", marker.name))
                .and_then(|bytes| Manifest::parse(*marker, &bytes)),
        ),
        _ => Some(Err(format!(
            "it holds both {MARKER} and {}",
            crate::shard::SHARD_MARKER
        ))),
    }
}

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
/// once; [`write_dir`] calls it again before writing.
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

fn sibling(out: &Path, kind: &str) -> PathBuf {
    sibling_of(out, kind, std::process::id())
}

fn sibling_of(out: &Path, kind: &str, pid: u32) -> PathBuf {
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
fn clean_stale(out: &Path) -> Vec<String> {
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

/// A name for moving `out` aside that is not taken: `NAME.moved-SECONDS-PID` (then `-2`, …).
fn moved_name(out: &Path) -> PathBuf {
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

/// Writes `files` and the marker with their manifest as the directory `out`, replacing it
/// whole (see the module docs): a report, or a shard directory.
pub fn write_dir(
    out: &Path,
    files: &[Artifact],
    force: bool,
    marker: Marker,
) -> Result<Written, WriteError> {
    if let Some(bad) = files.iter().find(|f| {
        !valid_relative(&f.path) || f.path == MARKER || f.path == crate::shard::SHARD_MARKER
    }) {
        return Err(WriteError::Io {
            path: bad.path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidInput, "not a plain relative path"),
        });
    }
    let target = check_target(out, force)?;
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
        write_report(&out, &files("two"), false).unwrap();
        assert_eq!(fs::read_to_string(out.join("report.md")).unwrap(), "two");
        assert_eq!(siblings(&root.join("deep")), ["latest"]);
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

    #[test]
    fn manifests_round_trip_and_refuse_any_edit() {
        let manifest = Manifest::of(REPORT, &files("one"));
        let text = manifest.to_text();
        assert_eq!(Manifest::parse(REPORT, text.as_bytes()).unwrap(), manifest);
        assert!(Manifest::parse(SHARD, text.as_bytes()).is_err());
        let bytes = text.as_bytes();
        for k in 0..bytes.len() {
            for replacement in [b'0', b'a', b'A', b' ', b'\n', b'/', b'.'] {
                if bytes[k] == replacement {
                    continue;
                }
                let mut edited = bytes.to_vec();
                edited[k] = replacement;
                if let Ok(m) = Manifest::parse(REPORT, &edited) {
                    assert_ne!(m, manifest, "edit at {k} to {replacement} not seen");
                }
            }
        }
        for path in ["../x", "/x", "a//b", "a/./b", ".critscale-report"] {
            let line = format!("{} 1 {path}\n", "0".repeat(64));
            let text = format!("{MARKER_TEXT}{MANIFEST_HEADER}{line}");
            assert!(Manifest::parse(REPORT, text.as_bytes()).is_err(), "{path}");
        }
    }

    proptest::proptest! {
        #[test]
        fn random_markers_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let _ = Manifest::parse(REPORT, &bytes);
            let mut prefixed = format!("{MARKER_TEXT}{MANIFEST_HEADER}").into_bytes();
            prefixed.extend_from_slice(&bytes);
            let _ = Manifest::parse(REPORT, &prefixed);
        }
    }

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
