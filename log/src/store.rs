//! Storage behind the log: an ordered key-value store applying batches in order,
//! and the journal, a file the log appends each group commit's frame to.
//!
//! `Store` is small on purpose so that tests can wrap it with a
//! fault-injecting store and another engine can be added later without
//! touching the rest. `SledStore` implements it with sled 0.34 and one
//! journal file.
//!
//! Why payloads live in the journal and not in sled: sled is log-structured,
//! so an overwritten value stays in its segment files until garbage
//! collection, and a redacted payload would not be gone from disk. In our
//! own file, a redaction overwrites the bytes in place. The journal grows
//! by written zeros, not holes, so that the fdatasync of each commit has no
//! block allocation or file size to write to the filesystem's journal.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// An ordered set of puts and deletes applied all together or not at all.
#[derive(Default, Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct WriteBatch {
    operations: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

impl WriteBatch {
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.operations.push((key, Some(value)));
    }
    pub fn delete(&mut self, key: Vec<u8>) {
        self.operations.push((key, None));
    }
    pub fn operations(&self) -> &[(Vec<u8>, Option<Vec<u8>>)] {
        &self.operations
    }
    pub fn into_operations(self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.operations
    }
    pub fn len(&self) -> usize {
        self.operations.len()
    }
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty()
    }
}

pub type KeyValue = (Vec<u8>, Vec<u8>);
pub type ScanIter<'a> = Box<dyn Iterator<Item = io::Result<KeyValue>> + Send + 'a>;

/// What the log needs of storage.
pub trait Store: Send + Sync {
    /// The value stored under `key`.
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>>;
    /// Entries with `from <= key < to`, in key order.
    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_>;
    /// Calls `visit` with each entry with `from <= key < to`, in key order,
    /// until it returns false; for long passes that should not allocate
    /// for every entry.
    fn visit(&self, from: &[u8], to: &[u8], visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> io::Result<()> {
        for item in self.scan(from, to) {
            let (key, value) = item?;
            if !visit(&key, &value) {
                break;
            }
        }
        Ok(())
    }
    /// The entry with the greatest key in `from <= key < to`.
    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<KeyValue>>;
    /// Applies the operations of `batch` in order. It need not be atomic:
    /// after a crash or an error, any prefix of the operations may have
    /// taken effect, but never a later one without every earlier one. The
    /// log relies on nothing more, because it writes its head last and, on
    /// open, applies again every journal frame past the head the store
    /// kept. (sled's own atomic batches cost two writes of its log buffers
    /// each, and a global lock; individual inserts keep sled's order.)
    fn apply(&self, batch: &WriteBatch) -> io::Result<()>;
    /// Returns once every applied batch is on stable storage.
    fn make_durable(&self) -> io::Result<()>;

    /// Makes room in the journal for bytes up to `end` (a file grown by
    /// written zeros, synced), so that writing them cannot run out of
    /// space. An error here means nothing of the frame was written.
    fn reserve_journal(&self, _end: u64) -> io::Result<()> {
        Ok(())
    }
    /// Writes `bytes` into the journal at `offset`.
    fn write_journal(&self, offset: u64, bytes: &[u8]) -> io::Result<()>;
    /// Returns once every journal write is on stable storage.
    fn sync_journal(&self) -> io::Result<()>;
    /// Reads exactly `buffer.len()` bytes of the journal at `offset`.
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()>;
    /// The journal file's length (written zeros included).
    fn journal_len(&self) -> io::Result<u64>;
}

/// The sled database directory inside a data directory.
pub const SLED_DIR: &str = "sled";
/// The journal inside a data directory.
pub const JOURNAL_FILE: &str = "journal";
/// How many times opening waits 10 ms for sled's own file lock.
const SLED_LOCK_ATTEMPTS_MAX: u32 = 300;
/// The journal grows by this much at a time, with written zeros.
const JOURNAL_GROWTH_BYTES: u64 = 16 * 1024 * 1024;

/// Operations applied since opening past which closing the store opens
/// sled once more (see `Drop for SledStore`).
const SNAPSHOT_REFRESH_OPS: u64 = 100_000;

/// sled 0.34 and a journal file.
pub struct SledStore {
    /// Taken only when the store is dropped.
    db: Option<sled::Db>,
    sled_dir: std::path::PathBuf,
    moved_aside: Option<std::path::PathBuf>,
    /// Operations applied since opening.
    applied_ops: AtomicU64,
    /// sled's data file, fdatasynced after every flush: sled's own flush
    /// ends with sync_file_range, which flushes neither the drive's write
    /// cache nor the file's size.
    db_file: File,
    journal: File,
    journal_allocated_bytes: AtomicU64,
}

impl SledStore {
    /// Opens (creating if needed) the store in a data directory. The caller
    /// holds the directory's lock.
    pub fn open(directory: &Path) -> io::Result<SledStore> {
        let sled_dir = directory.join(SLED_DIR);
        remove_unfinished_snapshots(&sled_dir)?;
        let (db, moved_aside) = match open_sled(&sled_dir) {
            Ok(db) => (db, None),
            Err(error) if is_damage(&error) => {
                // The store is a cache of the journal: a damaged one is
                // moved aside, never deleted, and rebuilt from the journal.
                let aside = move_aside(directory, SLED_DIR, "damaged")?;
                (open_sled(&sled_dir)?, Some(aside))
            }
            Err(error) => return Err(error),
        };
        let db_file = File::open(sled_dir.join("db"))?;
        let journal = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(directory.join(JOURNAL_FILE))?;
        let allocated = journal.metadata()?.len();
        Ok(SledStore {
            db: Some(db),
            sled_dir,
            moved_aside,
            applied_ops: AtomicU64::new(0),
            db_file,
            journal,
            journal_allocated_bytes: AtomicU64::new(allocated),
        })
    }

    /// Where a damaged store found on opening was moved.
    pub fn moved_aside(&self) -> Option<&Path> {
        self.moved_aside.as_deref()
    }

    fn db(&self) -> &sled::Db {
        self.db.as_ref().expect("the store is open until dropped")
    }
}

/// Opens sled in `sled_dir`. sled's threads may hold its file lock for a
/// moment after the last handle of a closed store is dropped. The caller
/// holds the data directory's own lock, so a sled lock held now can only be
/// such a store closing in this process: wait for it.
fn open_sled(sled_dir: &Path) -> io::Result<sled::Db> {
    let config = sled::Config::new().path(sled_dir).mode(sled::Mode::HighThroughput).flush_every_ms(None);
    let mut attempts = 0;
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(error))
                if error.kind() == io::ErrorKind::WouldBlock
                    || error.to_string().contains("could not acquire lock") =>
            {
                attempts += 1;
                if attempts == SLED_LOCK_ATTEMPTS_MAX {
                    return Err(error);
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(error) => return Err(sled_error(error)),
        }
    }
}

/// sled 0.34 writes its snapshot only when it opens, after replaying its
/// whole log since the snapshot before: the first open after a day of
/// appends replays the day, and an auditor's `minutebook verify` would pay
/// for it. So a store closed after many appends opens sled once more as
/// it closes, leaving a fresh snapshot for the next open.
impl Drop for SledStore {
    fn drop(&mut self) {
        let Some(db) = self.db.take() else { return };
        let _ = db.flush();
        drop(db);
        if self.applied_ops.load(Ordering::Relaxed) >= SNAPSHOT_REFRESH_OPS {
            if let Ok(db) = open_sled(&self.sled_dir) {
                drop(db);
            }
        }
    }
}

fn sled_error(error: sled::Error) -> io::Error {
    match error {
        sled::Error::Io(error) => error,
        sled::Error::Corruption { .. } => io::Error::new(io::ErrorKind::InvalidData, error.to_string()),
        other => io::Error::other(other.to_string()),
    }
}

/// Whether an error opening sled says its files are damaged, rather than
/// that the system refused (a full disk, permissions), which moving the
/// store aside would not mend.
pub fn is_damage(error: &io::Error) -> bool {
    matches!(error.kind(), io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof)
}

/// sled 0.34 writes a snapshot to `snap.<lsn>.generating` and renames it
/// when complete; a crash or a full disk can leave an empty or partial one
/// behind, which a later open reads and refuses as corrupt. Such a file is
/// unfinished by its name, so it is removed.
pub fn remove_unfinished_snapshots(sled_dir: &Path) -> io::Result<()> {
    let entries = match std::fs::read_dir(sled_dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(error),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |since| since.as_secs())
}

/// Moves the store `name` of `directory` aside, to `<name>.<why>-<seconds>`
/// (kept, never deleted: a cache is rebuilt, its old files are the
/// operator's to remove), and syncs the directory. Returns where it went.
pub fn move_aside(directory: &Path, name: &str, why: &str) -> io::Result<std::path::PathBuf> {
    let aside = directory.join(format!("{name}.{why}-{}", unix_seconds()));
    std::fs::rename(directory.join(name), &aside)?;
    File::open(directory)?.sync_all()?;
    Ok(aside)
}

impl Store for SledStore {
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        Ok(self.db().get(key).map_err(sled_error)?.map(|value| value.to_vec()))
    }

    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_> {
        let iter = self.db().range(from.to_vec()..to.to_vec());
        Box::new(iter.map(|item| {
            let (key, value) = item.map_err(sled_error)?;
            Ok((key.to_vec(), value.to_vec()))
        }))
    }

    fn visit(&self, from: &[u8], to: &[u8], visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> io::Result<()> {
        for item in self.db().range(from..to) {
            let (key, value) = item.map_err(sled_error)?;
            if !visit(&key, &value) {
                break;
            }
        }
        Ok(())
    }

    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<KeyValue>> {
        match self.db().range(from.to_vec()..to.to_vec()).next_back() {
            None => Ok(None),
            Some(item) => {
                let (key, value) = item.map_err(sled_error)?;
                Ok(Some((key.to_vec(), value.to_vec())))
            }
        }
    }

    fn apply(&self, batch: &WriteBatch) -> io::Result<()> {
        for (key, value) in batch.operations() {
            self.applied_ops.fetch_add(1, Ordering::Relaxed);
            match value {
                Some(value) => self.db().insert(key.as_slice(), value.as_slice()).map_err(sled_error)?,
                None => self.db().remove(key.as_slice()).map_err(sled_error)?,
            };
        }
        Ok(())
    }

    fn make_durable(&self) -> io::Result<()> {
        self.db().flush().map_err(sled_error)?;
        self.db_file.sync_data()
    }

    fn reserve_journal(&self, end: u64) -> io::Result<()> {
        let allocated = self.journal_allocated_bytes.load(Ordering::Acquire);
        if end <= allocated {
            return Ok(());
        }
        let target = end.div_ceil(JOURNAL_GROWTH_BYTES) * JOURNAL_GROWTH_BYTES;
        let zeros = vec![0u8; 1024 * 1024];
        let mut offset = allocated;
        while offset < target {
            let n_bytes = zeros.len().min((target - offset) as usize);
            self.journal.write_all_at(&zeros[..n_bytes], offset)?;
            offset += n_bytes as u64;
        }
        self.journal.sync_all()?;
        self.journal_allocated_bytes.store(target, Ordering::Release);
        Ok(())
    }

    fn write_journal(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.reserve_journal(offset + bytes.len() as u64)?;
        self.journal.write_all_at(bytes, offset)
    }

    fn sync_journal(&self) -> io::Result<()> {
        self.journal.sync_data()
    }

    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.journal.read_exact_at(buffer, offset)
    }

    fn journal_len(&self) -> io::Result<u64> {
        Ok(self.journal_allocated_bytes.load(Ordering::Acquire))
    }
}

/// A store held in memory over a journal file opened read-only: what
/// `minutebook verify` rebuilds from the journal, so that it never opens
/// (and so never writes to) sled. Its journal cannot be written.
pub struct MemStore {
    entries: std::sync::RwLock<std::collections::BTreeMap<Vec<u8>, Vec<u8>>>,
    journal: File,
    journal_len: u64,
}

impl MemStore {
    /// An empty store over the journal at `path`, opened read-only.
    pub fn over_journal(path: &Path) -> io::Result<MemStore> {
        let journal = match File::open(path) {
            Ok(file) => file,
            // A directory where nothing was ever appended may have no
            // journal yet: read it as empty.
            Err(error) if error.kind() == io::ErrorKind::NotFound => File::open("/dev/null")?,
            Err(error) => return Err(error),
        };
        let journal_len = journal.metadata()?.len();
        Ok(MemStore { entries: Default::default(), journal, journal_len })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, std::collections::BTreeMap<Vec<u8>, Vec<u8>>> {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies the operations of `batch` whose keys `keep` keeps, taking
    /// their keys and values rather than copying them (replaying a journal
    /// applies every byte of it).
    pub fn apply_owned(&self, batch: WriteBatch, keep: impl Fn(&[u8]) -> bool) {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, value) in batch.into_operations().into_iter().filter(|(key, _)| keep(key)) {
            match value {
                Some(value) => entries.insert(key, value),
                None => entries.remove(&key),
            };
        }
    }

    /// Every entry, in key order.
    pub fn entries(&self) -> Vec<KeyValue> {
        self.read().iter().map(|(key, value)| (key.clone(), value.clone())).collect()
    }
}

impl Store for MemStore {
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        Ok(self.read().get(key).cloned())
    }

    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_> {
        if from >= to {
            return Box::new(std::iter::empty());
        }
        let entries: Vec<KeyValue> =
            self.read().range(from.to_vec()..to.to_vec()).map(|(key, value)| (key.clone(), value.clone())).collect();
        Box::new(entries.into_iter().map(Ok))
    }

    fn visit(&self, from: &[u8], to: &[u8], visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> io::Result<()> {
        if from >= to {
            return Ok(());
        }
        for (key, value) in self.read().range(from.to_vec()..to.to_vec()) {
            if !visit(key, value) {
                break;
            }
        }
        Ok(())
    }

    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<KeyValue>> {
        if from >= to {
            return Ok(None);
        }
        Ok(self.read().range(from.to_vec()..to.to_vec()).next_back().map(|(key, value)| (key.clone(), value.clone())))
    }

    fn apply(&self, batch: &WriteBatch) -> io::Result<()> {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (key, value) in batch.operations() {
            match value {
                Some(value) => entries.insert(key.clone(), value.clone()),
                None => entries.remove(key),
            };
        }
        Ok(())
    }

    fn make_durable(&self) -> io::Result<()> {
        Ok(())
    }

    fn write_journal(&self, _offset: u64, _bytes: &[u8]) -> io::Result<()> {
        Err(io::Error::new(io::ErrorKind::PermissionDenied, "the journal is open read-only"))
    }

    fn sync_journal(&self) -> io::Result<()> {
        Ok(())
    }

    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.journal.read_exact_at(buffer, offset)
    }

    fn journal_len(&self) -> io::Result<u64> {
        Ok(self.journal_len)
    }
}
