//! The log: a data directory, its appends with group commit, its reads and
//! subscriptions, its proofs, and redaction.
//!
//! One writer thread owns every write. Appenders hand it requests over a
//! bounded queue; it takes whatever is queued (up to `GROUP_EVENTS_MAX`
//! events), checks each request against the log as it stands plus the
//! requests before it in the group, and commits the group with one
//! fdatasync: its journal frame (payloads, then the store operations for
//! events, indexes, tree nodes and the group's signed checkpoint). The
//! operations are then applied to the store, head last, by the writer
//! itself or, when more requests are waiting, by the applier thread while
//! the writer commits the next group. Only then does any appender hear
//! back, and only then do readers see the new events: every read is
//! bounded by the durable length. The store is made durable lazily; the
//! journal is what makes an append durable.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::checkpoint::{check_origin, Checkpoint, NoteSigner, NoteVerifier};
use crate::codec::{decode, encode, store_io, Head, PayloadRef, Record, Scrub, SALT_BYTES};
use crate::envelope::{check_text, payload_hash, stored_payload_hash, Envelope, EnvelopeFields};
use crate::error::{Conflict, Error, ErrorCategory, Kind, Result};
use crate::hashing::{Fingerprint, IdHashing};
use crate::journal::{
    all_zero_in_a_sector, encode_frame, FrameAt, FrameBody, FRAME_HEADER_BYTES, FRAME_PAYLOADS_BYTES_MAX,
};
use crate::keys;
use crate::limits::*;
use crate::merkle::{self, Frontier, Subtrees};
use crate::store::{SledStore, Store, WriteBatch, JOURNAL_FILE};
use crate::types::*;

/// The data directory format this code writes and reads.
pub const DATA_FORMAT_VERSION: u32 = 1;
pub const FORMAT_FILE: &str = "FORMAT";
pub const LOCK_FILE: &str = "LOCK";
pub const LOG_KEY_FILE: &str = "log.key";
pub const LOG_PUBLIC_KEY_FILE: &str = "log.pub";
const FORMAT_PREFIX: &str = "minutebook data directory format ";

/// Tree nodes at this level and above are stored; those below are hashed
/// from at most 2^(level-1) leaves when a proof needs them. Level 4 keeps
/// stored nodes to one per 8 events.
pub const STORED_NODE_LEVEL_MIN: u8 = 4;

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub stream: String,
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub actor: String,
    pub role: String,
    pub payload: Vec<u8>,
}

/// A payload to remove, with the notice kept in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redaction {
    pub seq: Seq,
    pub notice: String,
}

/// Events appended all together or not at all, with the version each
/// stream they touch must be at.
#[derive(Clone, Debug, Default)]
pub struct AppendBatch {
    expectations: Vec<(String, ExpectedVersion)>,
    events: Vec<NewEvent>,
    redactions: Vec<Redaction>,
}

impl AppendBatch {
    pub fn new() -> AppendBatch {
        AppendBatch::default()
    }
    /// Every stream the batch writes to needs exactly one expectation.
    pub fn expect(mut self, stream: impl Into<String>, version: ExpectedVersion) -> AppendBatch {
        self.expectations.push((stream.into(), version));
        self
    }
    pub fn event(mut self, event: NewEvent) -> AppendBatch {
        self.events.push(event);
        self
    }
    /// Removes a stored payload once this batch commits. The batch should
    /// also append the event that records why.
    pub fn redact(mut self, seq: Seq, notice: impl Into<String>) -> AppendBatch {
        self.redactions.push(Redaction { seq, notice: notice.into() });
        self
    }
    pub fn events(&self) -> &[NewEvent] {
        &self.events
    }
}

/// Where one appended event landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: Seq,
    pub stream_version: StreamVersion,
    pub event_hash: EventHash,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    pub events: Vec<Appended>,
    /// True when every event id was already stored with the same content:
    /// nothing was written and `events` are the original positions.
    pub replayed: bool,
    /// A signed checkpoint of at least this size covers the events.
    pub tree_size: u64,
}

/// An event's payload as read back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Present { salt: Salt, bytes: Vec<u8> },
    Redacted { notice: String },
}

/// A stored event: its envelope, exact envelope bytes, hash and payload.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub envelope: Envelope,
    pub envelope_bytes: Vec<u8>,
    pub hash: EventHash,
    pub payload: Payload,
}

/// A checkpoint note with what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub note: String,
    pub checkpoint: Checkpoint,
}

struct Durable {
    /// Events applied to the store: what readers see.
    len: u64,
    /// The end of the last journal frame acknowledged to its appenders:
    /// durable in the journal, and applied to the store soon after.
    /// Readers wait for `applied_journal_end` to reach it, so that whoever
    /// was told an append or a redaction is done reads it. (A count of
    /// events would not do: a group that only redacts adds none.)
    acknowledged_journal_end: u64,
    /// The end of the last journal frame applied to the store.
    applied_journal_end: u64,
    failure: Option<String>,
}

/// What readers and the writer share.
pub(crate) struct Shared {
    store: Box<dyn Store>,
    verifier: NoteVerifier,
    directory: PathBuf,
    durable: Mutex<Durable>,
    durable_changed: Condvar,
}

impl Shared {
    pub(crate) fn new(store: Box<dyn Store>, verifier: NoteVerifier, directory: &Path, head: &Head) -> Shared {
        Shared {
            store,
            verifier,
            directory: directory.to_owned(),
            durable: Mutex::new(Durable {
                len: head.len,
                acknowledged_journal_end: head.journal_end,
                applied_journal_end: head.journal_end,
                failure: None,
            }),
            durable_changed: Condvar::new(),
        }
    }

    /// Why the log stopped accepting appends, once it has.
    fn failure(&self) -> Option<String> {
        self.durable.lock().unwrap().failure.clone()
    }
}

/// A readable handle on the log that can be sent to other threads.
#[derive(Clone)]
pub struct LogReader {
    pub(crate) shared: Arc<Shared>,
}

struct Request {
    batch: AppendBatch,
    reply: SyncSender<Result<AppendOutcome>>,
}

/// An open data directory. Appends go through its writer thread; reads go
/// straight to the store.
pub struct Log {
    reader: LogReader,
    sender: Option<SyncSender<Request>>,
    writer: Option<JoinHandle<()>>,
    opened: Opened,
    _lock: File,
}

/// What opening a data directory found and did, for the operator to hear.
#[derive(Clone, Debug, Default)]
pub struct Opened {
    /// Journal frames applied to the store that it did not yet hold.
    pub frames_applied: u64,
    /// The store had no head (sled/ was deleted, or new) and was rebuilt
    /// from the journal.
    pub store_rebuilt: bool,
    /// The store could not be opened; it was moved here and rebuilt.
    pub store_moved_aside: Option<PathBuf>,
    /// The store was moved here on request (`Log::open_rebuilding_store`)
    /// and rebuilt.
    pub store_replaced: Option<PathBuf>,
    /// A torn write after the journal's last frame (`start..end`), never
    /// acknowledged; it is copied to quarantine/ and cleared before the
    /// next frame is written.
    pub torn_write: Option<(u64, u64)>,
    /// The disk was full on opening (bytes free): the space reserve was
    /// released so that the stores could open.
    pub space_reserve_released: Option<u64>,
}

impl Opened {
    /// One line per thing worth telling an operator.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if let Some(path) = &self.store_moved_aside {
            notes.push(format!(
                "the store could not be opened: it was moved to {} and rebuilt from the journal",
                path.display()
            ));
        } else if let Some(path) = &self.store_replaced {
            notes.push(format!("the store was moved to {} and rebuilt from the journal", path.display()));
        } else if self.store_rebuilt {
            notes.push("the store was missing: it was rebuilt from the journal".to_owned());
        }
        if self.frames_applied > 0 && !self.store_rebuilt && self.store_moved_aside.is_none() {
            notes.push(format!("applied {} journal frames the store did not hold yet", self.frames_applied));
        }
        if let Some((start, end)) = self.torn_write {
            notes.push(format!(
                "the journal ends with a torn write of a frame that was never acknowledged (bytes {start}..{end}); \
                 it is kept in quarantine/ and cleared before the next append"
            ));
        }
        if let Some(free) = self.space_reserve_released {
            notes.push(format!(
                "the disk is full ({free} bytes free): the data directory's space reserve was released so that it \
                 could open; appends are refused as storage full until space is freed (docs/OPERATIONS.md, \
                 \"Disk full\")"
            ));
        }
        notes
    }
}

impl Log {
    /// Creates a data directory: its format file, the log's key (mode 0600)
    /// and public key, the store, and the signed checkpoint of the empty tree.
    pub fn init(directory: &Path, origin: &str) -> Result<()> {
        check_origin(origin)?;
        if directory.join(FORMAT_FILE).exists() {
            return Err(Error::data_directory(directory, "is already initialised"));
        }
        std::fs::create_dir_all(directory).map_err(store_io("creating the data directory"))?;
        let signer = NoteSigner::generate(origin)?;
        write_new_file(&directory.join(LOG_KEY_FILE), signer.to_skey().as_bytes(), 0o600)?;
        write_new_file(
            &directory.join(LOG_PUBLIC_KEY_FILE),
            format!("{}\n", signer.verifier().to_vkey()).as_bytes(),
            0o644,
        )?;
        let store = SledStore::open(directory).map_err(store_io("creating the store"))?;
        let (_, batch) = genesis(&signer);
        store.apply(&batch).map_err(store_io("writing the empty log"))?;
        store.make_durable().map_err(store_io("flushing the empty log"))?;
        drop(store);
        write_new_file(
            &directory.join(FORMAT_FILE),
            format!("{FORMAT_PREFIX}{DATA_FORMAT_VERSION}\n").as_bytes(),
            0o644,
        )?;
        sync_directory(directory)
    }

    /// Opens a data directory made by `init`.
    pub fn open(directory: &Path) -> Result<Log> {
        Log::open_with(directory, |store| Box::new(store))
    }

    /// Opens a data directory with its store wrapped by `wrap` (tests wrap
    /// it with a fault-injecting store).
    pub fn open_with(directory: &Path, wrap: impl FnOnce(SledStore) -> Box<dyn Store>) -> Result<Log> {
        Log::open_inner(directory, wrap, false)
    }

    /// Opens a data directory after moving its store (sled/) aside to
    /// `sled.replaced-<seconds>`, so that the store is rebuilt from the
    /// journal: the repair for a store `verify` finds damaged. The old
    /// store is kept for the operator to remove.
    pub fn open_rebuilding_store(directory: &Path) -> Result<Log> {
        Log::open_inner(directory, |store| Box::new(store), true)
    }

    fn open_inner(directory: &Path, wrap: impl FnOnce(SledStore) -> Box<dyn Store>, rebuild: bool) -> Result<Log> {
        check_format(directory)?;
        let lock = lock_directory(directory)?;
        let signer = read_signer(directory)?;
        let mut replaced = None;
        if rebuild && directory.join(crate::store::SLED_DIR).exists() {
            let aside = crate::store::move_aside(directory, crate::store::SLED_DIR, "replaced")
                .map_err(store_io("moving the store aside"))?;
            replaced = Some(aside);
        }
        let space_reserve_released = keep_space_reserve(directory);
        let sled = SledStore::open(directory).map_err(store_io("opening the store"))?;
        let moved_aside = sled.moved_aside().map(Path::to_owned);
        let store = wrap(sled);
        let frame_key = signer.derive_key(JOURNAL_KEY_CONTEXT);
        let journal_path = directory.join(JOURNAL_FILE);
        let mut recovered = recover(store.as_ref(), &signer, &frame_key, &journal_path, false)?;
        let mut shared = Shared::new(store, signer.verifier().clone(), directory, &recovered.head);
        // The store is a cache of the journal: if what a reader would see
        // of the newest events does not check, rebuild the store from the
        // journal and check again; only a journal that still fails is
        // refused.
        let checked = LogReader { shared: Arc::new(shared) }.check_tail(&recovered.head, &frame_key, &journal_path);
        shared = Arc::try_unwrap(checked.1.shared).ok().expect("no other handle on a log being opened");
        if let Err(error) = checked.0 {
            if error.category() != ErrorCategory::Corrupt {
                return Err(error);
            }
            recovered = recover(shared.store.as_ref(), &signer, &frame_key, &journal_path, true)?;
            shared = Shared::new(shared.store, signer.verifier().clone(), directory, &recovered.head);
            let checked = LogReader { shared: Arc::new(shared) }.check_tail(&recovered.head, &frame_key, &journal_path);
            shared = Arc::try_unwrap(checked.1.shared).ok().expect("no other handle on a log being opened");
            checked.0.map_err(|again| {
                Error::corrupt(format!("{again} (the store was rebuilt from the journal, so the journal is damaged)"))
            })?;
            recovered.rebuilt = true;
        }
        let head = recovered.head.clone();
        let frontier = Frontier::from_parts(head.len, head.frontier.clone())
            .ok_or_else(|| Error::corrupt("the head's tree frontier does not match its length"))?;
        finish_scrubs(shared.store.as_ref(), head.journal_end)?;
        let shared = Arc::new(shared);
        let reader = LogReader { shared: Arc::clone(&shared) };
        let opened = Opened {
            frames_applied: recovered.n_frames,
            store_rebuilt: recovered.rebuilt,
            store_moved_aside: moved_aside,
            store_replaced: replaced,
            torn_write: recovered.torn,
            space_reserve_released,
        };
        let (sender, receiver) = mpsc::sync_channel(QUEUE_REQUESTS_MAX);
        let writer = Writer {
            shared: Arc::clone(&shared),
            torn: recovered.torn,
            signer,
            frame_key,
            head,
            frontier,
            carried: None,
            ids: None,
            in_flight: None,
            tails: HashMap::new(),
        };
        let handle = std::thread::Builder::new()
            .name("minutebook-log-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(store_io("starting the writer thread"))?;
        Ok(Log { reader, sender: Some(sender), writer: Some(handle), opened, _lock: lock })
    }

    /// What opening found and did.
    pub fn opened(&self) -> &Opened {
        &self.opened
    }

    /// Appends a batch durably: returns once it is on stable storage and a
    /// signed checkpoint covers it, or with an error and nothing written.
    pub fn append(&self, batch: AppendBatch) -> Result<AppendOutcome> {
        let (reply, answer) = mpsc::sync_channel(1);
        let sender = self.sender.as_ref().expect("the sender lives as long as the log");
        sender
            .send(Request { batch, reply })
            .map_err(|_| Error::new(Kind::Failed("the writer thread has stopped".into())))?;
        answer.recv().map_err(|_| Error::new(Kind::Failed("the writer thread has stopped".into())))?
    }

    pub fn reader(&self) -> LogReader {
        self.reader.clone()
    }
}

impl std::ops::Deref for Log {
    type Target = LogReader;
    fn deref(&self) -> &LogReader {
        &self.reader
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        drop(self.sender.take());
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Most stream tails the writer keeps; past it the cache starts afresh.
const STREAM_TAILS_CACHED_MAX: usize = 4_096;
/// How many of the newest events opening checks as a reader will see them.
const TAIL_CHECK_EVENTS: u64 = 1_000;
/// Context of the key that authenticates journal frames.
pub(crate) const JOURNAL_KEY_CONTEXT: &str = "minutebook 2026-11-26 journal frame checksum";
/// The store is flushed once this many journal bytes were written since its
/// last flush, and whenever the writer is idle, so that a reopen has little
/// to apply again.
const FLUSH_JOURNAL_BYTES: u64 = 16 * 1024 * 1024;
/// How long the writer waits for work before flushing the store.
const IDLE_FLUSH_MS: u64 = 200;

mod applier;
mod directory;
mod group;
mod reader;
mod writer;

use applier::*;
pub use directory::*;
use group::*;
pub use reader::*;
use writer::*;
