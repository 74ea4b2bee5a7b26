//! Reading a data directory without changing one byte of it, for
//! `minutebook verify`.
//!
//! Opening a log for use writes: it takes the directory's lock and writes
//! its pid, sled writes its snapshot, recovery applies frames. An auditor's
//! check must do none of that, and must not trust the store it checks. So
//! `LogReader::inspect` takes a shared lock without writing, reads the
//! journal file (opened read-only) frame by frame from offset 0, checking
//! every frame's checksum, and rebuilds the store in memory from it. The
//! log-level pass (`LogReader::verify`) then runs over that rebuilt store.
//! The sled store itself is compared with it from a copy made in a
//! temporary directory, because sled 0.34 cannot open a database without
//! writing to it.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::checkpoint::NoteVerifier;
use crate::codec::{decode, store_io, Head, Record};
use crate::error::{Error, Result};
use crate::journal::{examine, FrameAt};
use crate::keys;
use crate::log::{
    check_format, frame_batch, genesis, read_signer, take_lock, LogReader, Shared, JOURNAL_KEY_CONTEXT, LOCK_FILE,
    LOG_PUBLIC_KEY_FILE,
};
use crate::report::Problem;
use crate::store::{KeyValue, MemStore, Store, JOURNAL_FILE, SLED_DIR};

/// A data directory opened for reading only, and what reading its journal
/// and comparing its store found.
pub struct Inspected {
    pub reader: LogReader,
    pub journal: JournalReport,
    pub store: StoreReport,
    _lock: Option<File>,
}

/// What reading the journal from its first frame found.
#[derive(Clone, Debug, Default)]
pub struct JournalReport {
    /// Frames whose checksum and body checked.
    pub n_frames: u64,
    /// Where the last valid frame ends.
    pub end: u64,
    /// A torn write after the last frame, never acknowledged.
    pub torn: Option<(u64, u64)>,
    /// The first damage found: a frame that is neither valid nor torn, or
    /// a log.pub that is not the log's key.
    pub problem: Option<Problem>,
}

/// What comparing the store (sled/) with the journal found.
#[derive(Clone, Debug, Default)]
pub struct StoreReport {
    /// Events the store holds.
    pub n_events: u64,
    /// Things an operator should hear that lose nothing: the store lags
    /// the journal, or is missing or unreadable and will be rebuilt.
    pub notes: Vec<String>,
    /// An entry that disagrees with the journal: readers would be shown it.
    pub problem: Option<Problem>,
}

impl LogReader {
    /// Opens a data directory for reading only; see the module's comment.
    pub fn inspect(directory: &Path) -> Result<Inspected> {
        LogReader::inspect_with(directory, true)
    }

    /// `inspect`, comparing the store with the journal only if
    /// `compare_store`: the comparison copies sled/ (sled cannot open a
    /// store without writing to it), which costs more than the log's own
    /// checks.
    pub fn inspect_with(directory: &Path, compare_store_too: bool) -> Result<Inspected> {
        check_format(directory)?;
        let lock = lock_shared(directory)?;
        let signer = read_signer(directory)?;
        let mut journal = JournalReport::default();
        if let Some(problem) = check_public_key(directory, signer.verifier()) {
            journal.problem = Some(problem);
        }
        let journal_path = directory.join(JOURNAL_FILE);
        let memory = MemStore::over_journal(&journal_path).map_err(store_io("opening the journal"))?;
        let (mut head, batch) = genesis(&signer);
        memory.apply(&batch).map_err(store_io("rebuilding the store in memory"))?;
        let frame_key = signer.derive_key(JOURNAL_KEY_CONTEXT);
        let source: &dyn Store = &memory;
        loop {
            match examine(&frame_key, &source, head.journal_end, head.len)? {
                FrameAt::Frame(frame) => {
                    let (next, batch) = frame_batch(frame);
                    // The event-id index (`i`, a random key per event) is
                    // what the log's checks never read: left out unless the
                    // store is to be compared entry by entry.
                    memory.apply_owned(batch, |key| compare_store_too || key.first() != Some(&b'i'));
                    head = next;
                    journal.n_frames += 1;
                }
                FrameAt::End => break,
                FrameAt::Torn { end } => {
                    journal.torn = Some((head.journal_end, end));
                    break;
                }
                FrameAt::Corrupt(why) => {
                    journal.problem.get_or_insert(Problem {
                        seq: Some(crate::types::Seq(head.len)),
                        what: format!("journal frame at offset {}", head.journal_end),
                        expected: "a valid frame, a torn last frame, or zeros".to_owned(),
                        found: why,
                    });
                    break;
                }
            }
        }
        journal.end = head.journal_end;
        let store = if compare_store_too {
            compare_store(directory, &memory, &head)?
        } else {
            StoreReport {
                notes: vec!["the store (sled/) was not compared with the journal".to_owned()],
                ..Default::default()
            }
        };
        let shared = Shared::new(Box::new(memory), signer.verifier().clone(), directory, &head);
        Ok(Inspected { reader: LogReader { shared: Arc::new(shared) }, journal, store, _lock: lock })
    }
}

/// Takes a shared lock on LOCK, without creating or writing it, so that no
/// minutebook process writes while the directory is read.
fn lock_shared(directory: &Path) -> Result<Option<File>> {
    let path = directory.join(LOCK_FILE);
    let file = match OpenOptions::new().read(true).open(&path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(Error::io("opening the lock file", error)),
    };
    take_lock(
        &file,
        directory,
        false,
        "such as `minutebook serve`; verify a backup of it (`minutebook backup`), or stop it first",
    )?;
    Ok(Some(file))
}

/// log.pub must be the public half of log.key: it is what the directory
/// tells the world to check checkpoints with.
fn check_public_key(directory: &Path, verifier: &NoteVerifier) -> Option<Problem> {
    let expected = verifier.to_vkey();
    let problem = |found: String| Problem {
        seq: None,
        what: LOG_PUBLIC_KEY_FILE.to_owned(),
        expected: format!("the log's verifier key {expected}"),
        found,
    };
    match std::fs::read_to_string(directory.join(LOG_PUBLIC_KEY_FILE)) {
        Err(error) => Some(problem(format!("an unreadable file ({error})"))),
        Ok(text) if text.trim_end() != expected => Some(problem(format!("{:?}", text.trim_end()))),
        Ok(_) => None,
    }
}

/// Compares the sled store with the store rebuilt from the journal, from
/// a copy of sled/ in a temporary directory.
fn compare_store(directory: &Path, memory: &MemStore, head: &Head) -> Result<StoreReport> {
    let mut report = StoreReport::default();
    let sled_dir = directory.join(SLED_DIR);
    if !sled_dir.exists() {
        report.notes.push("the store (sled/) is missing: the next open rebuilds it from the journal".to_owned());
        return Ok(report);
    }
    let copy = TempDir::new()?;
    copy_dir(&sled_dir, &copy.0).map_err(store_io("copying the store to compare it"))?;
    let db = match sled::Config::new().path(&copy.0).open() {
        Ok(db) => db,
        Err(error) => {
            report.notes.push(format!(
                "the store (sled/) cannot be opened ({error}): the next open moves it aside and rebuilds it from the journal"
            ));
            return Ok(report);
        }
    };
    let entries: Vec<KeyValue> = db
        .iter()
        .map(|item| item.map(|(key, value)| (key.to_vec(), value.to_vec())))
        .collect::<std::result::Result<_, _>>()
        .map_err(|error| Error::io("reading the store's copy", std::io::Error::other(error.to_string())))?;
    drop(db);
    let problem = |what: String, expected: &str, found: &str| Problem {
        seq: None,
        what,
        expected: expected.to_owned(),
        found: found.to_owned(),
    };
    let mut store_head = None;
    for (key, value) in &entries {
        match key.first() {
            Some(b'h') => {
                store_head = Some(decode::<Head>("the store's head", value));
                continue;
            }
            Some(b'x') => continue,
            Some(b'e') => report.n_events += 1,
            _ => {}
        }
        let journal_value = memory.get(key).map_err(store_io("reading the rebuilt store"))?;
        if journal_value.as_deref() == Some(value.as_slice()) || lags(key, value, journal_value.as_deref()) {
            continue;
        }
        let what = match (key.first(), keys::parse_u64(key)) {
            (Some(b'e'), Some(seq)) => format!("the store's record of event {seq}"),
            (Some(b'c'), Some(size)) => format!("the store's checkpoint of tree size {size}"),
            _ => format!("the store's entry under key {}", crate::types::hex(key)),
        };
        let found = if journal_value.is_none() { "an entry the journal never wrote" } else { "other bytes" };
        report.problem = Some(problem(what, "the bytes the journal wrote", found));
        return Ok(report);
    }
    match store_head {
        None => report.notes.push("the store has no head: the next open rebuilds it from the journal".to_owned()),
        Some(Err(error)) => {
            report.notes.push(format!("the store's head is unreadable ({error}): the next open rebuilds the store"))
        }
        Some(Ok(store_head)) if store_head.len > head.len => {
            report.problem = Some(problem(
                "the store's head".to_owned(),
                &format!("at most the journal's {} events", head.len),
                &format!("{} events", store_head.len),
            ));
        }
        Some(Ok(store_head)) => {
            if report.n_events < store_head.len {
                report.problem = Some(problem(
                    "the store's records".to_owned(),
                    &format!("{} events, as its head says", store_head.len),
                    &format!("{}", report.n_events),
                ));
            } else if store_head.len < head.len {
                report.notes.push(format!(
                    "the store lags the journal by {} events: the next open applies them",
                    head.len - store_head.len
                ));
            }
        }
    }
    Ok(report)
}

/// Whether a store value differing from the journal's is only behind it:
/// a record not yet redacted, or a stream index chunk not yet filled.
fn lags(key: &[u8], stored: &[u8], journal: Option<&[u8]>) -> bool {
    let Some(journal) = journal else { return false };
    match key.first() {
        Some(b'e') => {
            let (Ok(stored), Ok(journal)) = (decode::<Record>("record", stored), decode::<Record>("record", journal))
            else {
                return false;
            };
            stored.envelope == journal.envelope
                && matches!(stored.payload, crate::codec::PayloadRef::Stored { .. })
                && matches!(journal.payload, crate::codec::PayloadRef::Redacted { .. })
        }
        Some(b's') => {
            let (Ok(stored), Ok(journal)) = (decode::<Vec<u64>>("chunk", stored), decode::<Vec<u64>>("chunk", journal))
            else {
                return false;
            };
            journal.starts_with(&stored)
        }
        _ => false,
    }
}

/// A temporary directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("minutebook-verify-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&path).map_err(store_io("creating a temporary directory"))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Copies a directory tree, one directory at a time (no recursion in log/).
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    let mut pending = vec![(from.to_owned(), to.to_owned())];
    while let Some((from, to)) = pending.pop() {
        std::fs::create_dir_all(&to)?;
        for entry in std::fs::read_dir(&from)? {
            let entry = entry?;
            let target = to.join(entry.file_name());
            if entry.file_type()?.is_dir() {
                pending.push((entry.path(), target));
            } else {
                std::fs::copy(entry.path(), &target)?;
            }
        }
    }
    Ok(())
}
