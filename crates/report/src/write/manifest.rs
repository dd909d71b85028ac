//! The marker file of a directory critscale wrote and the manifest in it (see the parent module
//! docs, "Manifest"): its format ([`Manifest::to_text`], [`Manifest::parse`]), the check that it
//! accounts for everything in a directory, and the removal of exactly the files it lists.

use super::Artifact;
use sha2::{Digest, Sha256};
use std::fs;
use std::io;
use std::path::Path;

/// Name of the marker file that identifies a complete critscale report directory.
pub const MARKER: &str = ".critscale-report";

/// First line of a report's marker file.
pub const MARKER_TEXT: &str =
    "critscale report: this directory is written and replaced whole by `critscale report`\n";

/// Second line of every marker file; the manifest lines follow.
pub const MANIFEST_HEADER: &str = "# every file critscale wrote here (SHA-256, bytes, path); replacing this directory removes exactly these\n";
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

/// Marker file of a shard directory (`report --shard`).
pub const SHARD_MARKER: &str = ".critscale-shard";
/// Contents of the marker file of a shard directory.
pub const SHARD_MARKER_TEXT: &str =
    "critscale report shard: merge it with `critscale report merge DIR... --out OUT`\n";

/// The marker of a shard directory (`report --shard`).
pub const SHARD: Marker = Marker {
    name: SHARD_MARKER,
    text: SHARD_MARKER_TEXT,
};

/// Marker file of a directory written by `critscale diagnose --out`.
pub const DIAGNOSE_MARKER: &str = ".critscale-diagnose";
/// First line of the marker file of a `diagnose --out` directory.
pub const DIAGNOSE_MARKER_TEXT: &str = "critscale diagnose: this directory is written and replaced whole by `critscale diagnose --out`\n";

/// The marker of a `diagnose --out` directory.
pub const DIAGNOSE: Marker = Marker {
    name: DIAGNOSE_MARKER,
    text: DIAGNOSE_MARKER_TEXT,
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
pub(super) fn valid_relative(path: &str) -> bool {
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
                || path == SHARD_MARKER
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
pub(super) fn read_manifest(dir: &Path) -> Option<Result<Manifest, String>> {
    let present: Vec<Marker> = [REPORT, SHARD, DIAGNOSE]
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
            "it holds more than one of {MARKER}, {SHARD_MARKER} and {DIAGNOSE_MARKER}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::test_support::files;

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
}
