//! A bundle's files: their names, limits, and reading and writing them as
//! a directory or a deterministic .tar. What the other parts of `bundle`
//! share; it uses none of them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;

/// The manifest: every other file with its BLAKE3 hash.
pub const MANIFEST: &str = "MANIFEST";
/// The bundle's description, derived from its evidence.
pub const DESCRIPTION: &str = "bundle.json";
pub const README: &str = "README.txt";
pub const LOG_KEY: &str = "log.pub";
pub const CHECKPOINT: &str = "checkpoint";
/// Consistency proofs from older tree sizes to the checkpoint's.
pub const CONSISTENCY_DIR: &str = "proofs/consistency";

/// Largest file a bundle may hold: the manifest of a whole log of a few
/// million events.
pub const FILE_BYTES_MAX: u64 = 512 << 20;
/// Largest bundle read into memory. A whole log's bundle is large (tar
/// spends 512 bytes on each file's header): for a whole log of millions of
/// events, verify a copy of the data directory instead.
pub const BUNDLE_BYTES_MAX: u64 = 16 << 30;
/// Most files a bundle may hold.
pub const BUNDLE_FILES_MAX: usize = 8_000_000;
/// Most bytes made room for before a file is read: a tar header's size is
/// what the file says, not what it holds, so a larger file's buffer grows
/// as it is read.
const FILE_PREALLOCATED_BYTES_MAX: u64 = 1 << 20;

/// A bundle's files by path ("events/00000000000000000012/envelope").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bundle {
    pub files: BTreeMap<String, Vec<u8>>,
}

/// Why a bundle could not be read: unusable input, not a failed check.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreadable(pub String);

/// Whether `path` is a bundle's file path: relative, `/`-separated, each
/// part made of letters, digits, `.`, `_` and `-`, none `.` or `..`.
pub fn valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 200
        && path.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        })
}

impl Bundle {
    /// Whether `path` holds a bundle (a .tar file, or a directory with a
    /// manifest) rather than a data directory.
    pub fn is_bundle(path: &Path) -> bool {
        path.is_file() || path.join(MANIFEST).is_file()
    }

    /// Writes the manifest: every other file's BLAKE3 hash and path, one
    /// per line in path order.
    pub fn seal(&mut self) {
        self.files.remove(MANIFEST);
        let manifest = manifest_of(&self.files);
        self.files.insert(MANIFEST.to_owned(), manifest.into_bytes());
    }

    /// Reads a bundle from a directory or a .tar file.
    pub fn read(path: &Path) -> Result<Bundle, Unreadable> {
        if path.is_dir() {
            let mut bundle = Bundle::default();
            let mut total = 0;
            read_dir(path, "", &mut bundle, &mut total)?;
            Ok(bundle)
        } else {
            let file =
                std::fs::File::open(path).map_err(|e| Unreadable(format!("cannot open {}: {e}", path.display())))?;
            Bundle::read_tar(std::io::BufReader::new(file))
        }
    }

    /// Reads a bundle from a tar stream whose files all sit under one top
    /// directory.
    pub fn read_tar(reader: impl Read) -> Result<Bundle, Unreadable> {
        let mut archive = tar::Archive::new(reader);
        let mut bundle = Bundle::default();
        let mut top: Option<String> = None;
        let mut total = 0u64;
        let entries = archive.entries().map_err(|e| Unreadable(format!("not a tar file: {e}")))?;
        for entry in entries {
            let mut entry = entry.map_err(|e| Unreadable(format!("not a readable tar file: {e}")))?;
            let raw = entry.path_bytes().into_owned();
            let name = String::from_utf8(raw).map_err(|_| Unreadable("a tar entry's name is not UTF-8".into()))?;
            let name = name.strip_suffix('/').unwrap_or(&name).to_owned();
            let (first, rest) = match name.split_once('/') {
                Some((first, rest)) => (first.to_owned(), Some(rest.to_owned())),
                None => (name.clone(), None),
            };
            if !valid_path(&first) {
                return Err(Unreadable(format!("the tar entry {name:?} is not a bundle path")));
            }
            match &top {
                None => top = Some(first.clone()),
                Some(top) if *top != first => {
                    return Err(Unreadable(format!(
                        "the tar holds {first:?} beside {top:?}: a bundle sits under one top directory"
                    )))
                }
                Some(_) => {}
            }
            let kind = entry.header().entry_type();
            match (kind, rest) {
                (tar::EntryType::Directory, _) => continue,
                (tar::EntryType::Regular, Some(path)) => {
                    let size = entry.header().size().map_err(|e| Unreadable(format!("tar entry {name:?}: {e}")))?;
                    let bytes = take_file(&mut entry, &path, size, &mut total)?;
                    bundle.insert_read(path, bytes)?;
                }
                _ => {
                    return Err(Unreadable(format!(
                        "the tar entry {name:?} is not a file under the top directory: a bundle holds only files"
                    )))
                }
            }
        }
        if top.is_none() {
            return Err(Unreadable("the tar file is empty".into()));
        }
        Ok(bundle)
    }

    fn insert_read(&mut self, path: String, bytes: Vec<u8>) -> Result<(), Unreadable> {
        if !valid_path(&path) {
            return Err(Unreadable(format!("{path:?} is not a bundle path")));
        }
        if self.files.len() >= BUNDLE_FILES_MAX {
            return Err(Unreadable(format!("the bundle holds more than {BUNDLE_FILES_MAX} files")));
        }
        if self.files.insert(path.clone(), bytes).is_some() {
            return Err(Unreadable(format!("the bundle holds {path} twice")));
        }
        Ok(())
    }

    /// Writes the bundle as a new directory.
    pub fn write_dir(&self, path: &Path) -> std::io::Result<()> {
        std::fs::create_dir(path)?;
        for (name, bytes) in &self.files {
            let file = path.join(name);
            if let Some(parent) = file.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(file, bytes)?;
        }
        Ok(())
    }

    /// Writes the bundle as a tar stream, its files under `top`, with fixed
    /// owners, modes and times so that the same bundle makes the same tar.
    pub fn write_tar(&self, top: &str, writer: impl Write) -> std::io::Result<()> {
        let mut builder = tar::Builder::new(writer);
        let mut directories = std::collections::BTreeSet::new();
        let mut add_dir = |builder: &mut tar::Builder<_>, dir: String| -> std::io::Result<()> {
            if directories.insert(dir.clone()) {
                let mut header = tar::Header::new_ustar();
                header.set_entry_type(tar::EntryType::Directory);
                header.set_mode(0o755);
                header.set_size(0);
                header.set_mtime(0);
                builder.append_data(&mut header, format!("{dir}/"), std::io::empty())?;
            }
            Ok(())
        };
        add_dir(&mut builder, top.to_owned())?;
        for (name, bytes) in &self.files {
            let mut parents = Vec::new();
            let mut at = name.as_str();
            while let Some((parent, _)) = at.rsplit_once('/') {
                parents.push(parent.to_owned());
                at = parent;
            }
            for parent in parents.into_iter().rev() {
                add_dir(&mut builder, format!("{top}/{parent}"))?;
            }
            let mut header = tar::Header::new_ustar();
            header.set_entry_type(tar::EntryType::Regular);
            header.set_mode(0o644);
            header.set_size(bytes.len() as u64);
            header.set_mtime(0);
            builder.append_data(&mut header, format!("{top}/{name}"), bytes.as_slice())?;
        }
        builder.into_inner()?.flush()
    }
}

/// The manifest of `files` (any manifest among them left out).
pub fn manifest_of(files: &BTreeMap<String, Vec<u8>>) -> String {
    let mut manifest = String::new();
    for (path, bytes) in files.iter().filter(|(path, _)| *path != MANIFEST) {
        manifest.push_str(&format!("{}  {path}\n", blake3::hash(bytes).to_hex()));
    }
    manifest
}

fn take_file(reader: &mut impl Read, path: &str, size: u64, total: &mut u64) -> Result<Vec<u8>, Unreadable> {
    if size > FILE_BYTES_MAX {
        return Err(Unreadable(format!("{path} is {size} bytes, more than a bundle's files hold ({FILE_BYTES_MAX})")));
    }
    *total += size;
    if *total > BUNDLE_BYTES_MAX {
        return Err(Unreadable(format!("the bundle is larger than {BUNDLE_BYTES_MAX} bytes")));
    }
    let mut bytes = Vec::with_capacity(size.min(FILE_PREALLOCATED_BYTES_MAX) as usize);
    reader.take(size).read_to_end(&mut bytes).map_err(|e| Unreadable(format!("cannot read {path}: {e}")))?;
    if bytes.len() as u64 != size {
        return Err(Unreadable(format!("{path} is cut short")));
    }
    Ok(bytes)
}

fn read_dir(root: &Path, prefix: &str, bundle: &mut Bundle, total: &mut u64) -> Result<(), Unreadable> {
    let entries = std::fs::read_dir(root.join(prefix))
        .map_err(|e| Unreadable(format!("cannot read {}: {e}", root.join(prefix).display())))?;
    for entry in entries {
        let entry = entry.map_err(|e| Unreadable(format!("cannot read {}: {e}", root.display())))?;
        let name = entry.file_name().into_string().map_err(|_| Unreadable("a file name is not UTF-8".into()))?;
        let path = if prefix.is_empty() { name } else { format!("{prefix}/{name}") };
        let kind = entry.file_type().map_err(|e| Unreadable(format!("cannot read {path}: {e}")))?;
        if kind.is_dir() {
            read_dir(root, &path, bundle, total)?;
        } else if kind.is_file() {
            let size = entry.metadata().map_err(|e| Unreadable(format!("cannot read {path}: {e}")))?.len();
            let mut file =
                std::fs::File::open(entry.path()).map_err(|e| Unreadable(format!("cannot read {path}: {e}")))?;
            let bytes = take_file(&mut file, &path, size, total)?;
            bundle.insert_read(path, bytes)?;
        } else {
            return Err(Unreadable(format!("{path} is not a file: a bundle holds only files and directories")));
        }
    }
    Ok(())
}
