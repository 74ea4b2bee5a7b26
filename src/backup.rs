//! Copying a data directory while `minutebook serve` may be writing to it:
//! what `minutebook backup` and `minutebook restore` share
//! (docs/OPERATIONS.md).
//!
//! A data directory holds the record (the journal), what it cannot be
//! checked or continued without (the log's keys and FORMAT), what the
//! server keeps beside it (API tokens, papers, anything else an operator
//! put there), and caches derived from the journal (sled/ and
//! projections/). The copy takes the first three and leaves the caches,
//! which the copy rebuilds when it is opened. It takes no lock and writes
//! nothing in the directory it copies: the journal is copied by
//! `minutebook_log::backup::copy_journal`, which cuts it at a frame
//! boundary a signed checkpoint covers, and it is copied before papers/,
//! so that every paper its events name is already there. FORMAT is
//! written last: a directory with a FORMAT file is complete.
//!
//! `update_backup` brings an earlier backup up to date in place (`backup
//! --incremental`): the journal through `extend_journal`, which adds only
//! what was appended since, and every other file that is new or changed.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use minutebook_log::backup::{copy_journal, extend_journal, JournalCopy, JOURNAL_ADDED_FILE};
use minutebook_log::store::{JOURNAL_FILE, SLED_DIR};
use minutebook_log::{FORMAT_FILE, LOCK_FILE, SPACE_RESERVE_FILE};
use minutebook_projections::store::PROJECTIONS_DIRECTORY;

use crate::domain::papers::PAPERS_DIRECTORY;
use crate::http::idempotency::REPLIES_FILE;
use crate::policy::tokens::{TOKENS_FILE, TOKENS_LOCK_FILE};

/// Why a copy or an update of a backup stopped. Each says what it was
/// doing and with which path; the operating system's error is shown in the
/// message, not returned as a `source`, so that it is not printed twice.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Copying or extending the journal failed (the log's own error).
    #[error(transparent)]
    Journal(#[from] minutebook_log::Error),
    #[error("reading {}: {error}", path.display())]
    Read { path: PathBuf, error: std::io::Error },
    #[error("writing {}: {error}", path.display())]
    Write { path: PathBuf, error: std::io::Error },
    #[error("copying {} to {}: {error}", from.display(), to.display())]
    Copy { from: PathBuf, to: PathBuf, error: std::io::Error },
    #[error("renaming {} to {}: {error}", from.display(), to.display())]
    Rename { from: PathBuf, to: PathBuf, error: std::io::Error },
    #[error("creating {}: {error}", path.display())]
    CreateDirectory { path: PathBuf, error: std::io::Error },
    #[error("syncing {}: {error}", path.display())]
    Sync { path: PathBuf, error: std::io::Error },
    #[error(
        "paper {} does not hash to its name, so it is not the paper the record names; \
         no copy was made (run `minutebook verify` on the data directory)",
        path.display()
    )]
    PaperHash { path: PathBuf },
}

/// What went wrong reading `path`.
fn reading(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |error| Error::Read { path: path.to_owned(), error }
}

/// What a copy of a data directory holds, or what an update of a backup
/// added to it.
pub struct Copied {
    pub journal: JournalCopy,
    /// Papers copied, each checked against the hash it is named by.
    pub n_papers: u64,
    /// The other files copied (new or changed), by their path in the
    /// directory.
    pub files: Vec<PathBuf>,
    /// Entries left out because they are neither files nor directories.
    pub skipped: Vec<PathBuf>,
}

/// Copies the data directory `from` into `to`, a directory that does not
/// exist or is empty; see the module's comment.
pub fn copy_data_directory(from: &Path, to: &Path) -> Result<Copied, Error> {
    create_directory(to, mode_of(from)?)?;
    let journal = copy_journal(from, &to.join(JOURNAL_FILE))?;
    copy_beside_journal(from, to, journal)
}

/// Brings the backup `to` (a copy `copy_data_directory` made) up to date
/// with the data directory `from`: adds to its journal what was appended
/// since (`extend_journal`), and copies every other file that is new or
/// changed. Nothing is deleted from the backup.
pub fn update_backup(from: &Path, to: &Path) -> Result<Copied, Error> {
    let journal = extend_journal(from, to)?;
    copy_beside_journal(from, to, journal)
}

/// Copies what a data directory holds beside its journal, FORMAT last.
fn copy_beside_journal(from: &Path, to: &Path, journal: JournalCopy) -> Result<Copied, Error> {
    let mut copied = Copied { journal, n_papers: 0, files: Vec::new(), skipped: Vec::new() };
    for entry in read_directory(from)? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name == JOURNAL_FILE || name == FORMAT_FILE || is_derived_or_transient(&name) {
            continue;
        }
        if name == PAPERS_DIRECTORY && entry.path().is_dir() {
            copied.n_papers = copy_papers(&entry.path(), &to.join(PAPERS_DIRECTORY))?;
            continue;
        }
        copy_tree(&entry.path(), &to.join(&*name), Path::new(&*name), &mut copied)?;
    }
    copy_file(&from.join(FORMAT_FILE), &to.join(FORMAT_FILE))?;
    sync_directory(to)?;
    copied.files.sort();
    Ok(copied)
}

/// Whether an entry at the top of a data directory is left out of a copy:
/// the lock, a cache of the journal (sled/, projections/, and one moved
/// aside as `sled.damaged-…` or `sled.replaced-…`), the space reserve (zeros
/// a directory keeps for opening on a full disk; opening the copy makes its
/// own), the tokens' lock, or a file being written (tokens or kept
/// replies being replaced, frames an incremental backup is adding).
fn is_derived_or_transient(name: &str) -> bool {
    let cache = |prefix: &str| name == prefix || name.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('.'));
    let transient = name == format!("{TOKENS_FILE}.new")
        || name == TOKENS_LOCK_FILE
        || name == format!("{REPLIES_FILE}.new")
        || name == JOURNAL_ADDED_FILE;
    name == LOCK_FILE || name == SPACE_RESERVE_FILE || cache(SLED_DIR) || cache(PROJECTIONS_DIRECTORY) || transient
}

/// Copies papers/, checking each paper against the BLAKE3 hash it is
/// named by; files of other names (uploads in progress) are left out.
fn copy_papers(from: &Path, to: &Path) -> Result<u64, Error> {
    create_directory(to, mode_of(from)?)?;
    let mut n_papers = 0;
    for entry in read_directory(from)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(expected) = blake3::Hash::from_hex(&name) else { continue };
        if to.join(&name).exists() {
            // Content-addressed, and checked when it was copied.
            continue;
        }
        let mut hasher = blake3::Hasher::new();
        copy_file_through(&entry.path(), &to.join(&name), &mut hasher)?;
        if hasher.finalize() != expected {
            return Err(Error::PaperHash { path: entry.path() });
        }
        n_papers += 1;
    }
    sync_directory(to)?;
    Ok(n_papers)
}

/// Copies a file, or a directory and everything in it, one directory at a
/// time; `relative` names it in the report.
fn copy_tree(from: &Path, to: &Path, relative: &Path, copied: &mut Copied) -> Result<(), Error> {
    let mut pending = vec![(from.to_owned(), to.to_owned(), relative.to_owned())];
    let mut directories = Vec::new();
    while let Some((from, to, relative)) = pending.pop() {
        let metadata = std::fs::symlink_metadata(&from).map_err(reading(&from))?;
        if metadata.is_file() {
            if copy_file(&from, &to)? {
                copied.files.push(relative);
            }
        } else if metadata.is_dir() {
            create_directory(&to, mode_of(&from)?)?;
            for entry in read_directory(&from)? {
                pending.push((entry.path(), to.join(entry.file_name()), relative.join(entry.file_name())));
            }
            directories.push(to);
        } else {
            copied.skipped.push(relative);
        }
    }
    directories.iter().try_for_each(|directory| sync_directory(directory))
}

/// Copies a file to `to` unless `to` holds the same bytes; returns
/// whether it wrote. A changed file is written beside its place and
/// renamed into it.
fn copy_file(from: &Path, to: &Path) -> Result<bool, Error> {
    let Ok(old) = std::fs::read(to) else {
        copy_file_through(from, to, &mut std::io::sink())?;
        return Ok(true);
    };
    if std::fs::read(from).map_err(reading(from))? == old {
        return Ok(false);
    }
    let mut partial = to.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let _ = std::fs::remove_file(&partial);
    copy_file_through(from, &partial, &mut std::io::sink())?;
    std::fs::rename(&partial, to).map_err(|error| Error::Rename { from: partial.clone(), to: to.to_owned(), error })?;
    Ok(true)
}

/// Copies a file to a new file of the same mode, passing its bytes
/// through `tee` too, and fsyncs the copy.
fn copy_file_through(from: &Path, to: &Path, tee: &mut dyn Write) -> Result<(), Error> {
    let writing = |error: std::io::Error| Error::Write { path: to.to_owned(), error };
    let mut source = File::open(from).map_err(reading(from))?;
    let mode = source.metadata().map_err(reading(from))?.permissions().mode() & 0o777;
    let target = OpenOptions::new().write(true).create_new(true).mode(mode).open(to).map_err(writing)?;
    let mut both = Tee { file: &target, tee };
    std::io::copy(&mut source, &mut both).map_err(|error| Error::Copy {
        from: from.to_owned(),
        to: to.to_owned(),
        error,
    })?;
    target.sync_all().map_err(writing)
}

/// A writer that writes to a file and to another writer.
struct Tee<'a> {
    file: &'a File,
    tee: &'a mut dyn Write,
}

impl Write for Tee<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let n_bytes = self.file.write(bytes)?;
        self.tee.write_all(&bytes[..n_bytes])?;
        Ok(n_bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Creates a directory, or accepts one that exists (an empty one to
/// restore into, or one of a backup being updated).
fn create_directory(path: &Path, mode: u32) -> Result<(), Error> {
    match std::fs::DirBuilder::new().mode(mode).create(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && path.is_dir() => Ok(()),
        Err(error) => Err(Error::CreateDirectory { path: path.to_owned(), error }),
    }
}

/// The permission bits of a file or directory.
fn mode_of(path: &Path) -> Result<u32, Error> {
    let metadata = std::fs::metadata(path).map_err(reading(path))?;
    Ok(metadata.permissions().mode() & 0o777)
}

/// Removes everything in a directory, keeping the directory.
pub fn empty_directory(path: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(path)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Whether `path` is a directory with nothing in it.
pub fn is_empty_directory(path: &Path) -> bool {
    std::fs::read_dir(path).is_ok_and(|mut entries| entries.next().is_none())
}

fn read_directory(path: &Path) -> Result<Vec<std::fs::DirEntry>, Error> {
    let mut entries =
        std::fs::read_dir(path).map_err(reading(path))?.collect::<Result<Vec<_>, _>>().map_err(reading(path))?;
    entries.sort_by_key(std::fs::DirEntry::file_name);
    Ok(entries)
}

/// fsyncs a directory, so that the entries made in it are durable.
pub fn sync_directory(path: &Path) -> Result<(), Error> {
    File::open(path)
        .and_then(|directory| directory.sync_all())
        .map_err(|error| Error::Sync { path: path.to_owned(), error })
}
