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

use serde::{Deserialize, Serialize};

use crate::checkpoint::{check_origin, Checkpoint, NoteSigner, NoteVerifier};
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
/// Length of the salt before each payload in the journal.
pub(crate) const SALT_BYTES: u64 = 16;

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

/// The value stored under an event's key.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) envelope: Vec<u8>,
    pub(crate) payload: PayloadRef,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum PayloadRef {
    /// Salt then payload, at `offset` in the journal.
    Stored {
        offset: u64,
        len: u32,
    },
    Redacted {
        notice: String,
    },
}

/// A payload region whose bytes a committed redaction still has to zero.
#[derive(Serialize, Deserialize)]
pub(crate) struct Scrub {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// The log's head, rewritten by every group commit.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Head {
    pub(crate) len: u64,
    pub(crate) last_hash: EventHash,
    pub(crate) journal_end: u64,
    pub(crate) last_recorded_at_us: i64,
    pub(crate) frontier: Vec<TreeHash>,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let bytes = postcard::to_stdvec(value).expect("stored values always encode");
    assert!(bytes.len() <= STORED_VALUE_BYTES_MAX, "stored value of {} bytes", bytes.len());
    bytes
}

pub(crate) fn decode<'a, T: Deserialize<'a>>(what: &str, bytes: &'a [u8]) -> Result<T> {
    let (value, rest) =
        postcard::take_from_bytes(bytes).map_err(|error| Error::corrupt(format!("{what} does not decode: {error}")))?;
    if !rest.is_empty() {
        return Err(Error::corrupt(format!("{what} has {} trailing bytes", rest.len())));
    }
    Ok(value)
}

pub(crate) fn store_io(context: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::io(context, error)
}

struct Durable {
    /// Events applied to the store: what readers see.
    len: u64,
    /// Events acknowledged to their appenders: durable in the journal, and
    /// applied to the store soon after. Readers wait for `len` to reach it,
    /// so that whoever was told an append is done reads it.
    acknowledged: u64,
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
                acknowledged: head.len,
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

fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let context = format!("writing {}", path.display());
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| Error::io(&context, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&context, e))?;
    file.sync_all().map_err(|e| Error::io(&context, e))
}

fn sync_directory(directory: &Path) -> Result<()> {
    File::open(directory).and_then(|d| d.sync_all()).map_err(store_io("syncing the data directory"))
}

pub(crate) fn check_format(directory: &Path) -> Result<()> {
    let path = directory.join(FORMAT_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::data_directory(
                directory,
                "is not a minutebook data directory (it has no FORMAT file); create one with `minutebook init`",
            ));
        }
        Err(error) => return Err(Error::io(format!("reading {}", path.display()), error)),
    };
    let version: u32 =
        text.strip_prefix(FORMAT_PREFIX).and_then(|rest| rest.trim_end().parse().ok()).ok_or_else(|| {
            Error::data_directory(directory, format!("has an unreadable FORMAT file {:?}", text.trim_end()))
        })?;
    if version > DATA_FORMAT_VERSION {
        return Err(Error::data_directory(directory, format!(
            "has format version {version}, newer than version {DATA_FORMAT_VERSION}, the newest this minutebook reads; use a newer minutebook"
        )));
    }
    if version < 1 {
        return Err(Error::data_directory(directory, format!("has an unknown format version {version}")));
    }
    Ok(())
}

/// The log's signing key from log.key.
pub(crate) fn read_signer(directory: &Path) -> Result<NoteSigner> {
    let key_text = std::fs::read_to_string(directory.join(LOG_KEY_FILE)).map_err(store_io("reading the log key"))?;
    NoteSigner::from_skey(&key_text)
}

/// How many times opening tries a held data directory lock, 10 ms apart.
const LOCK_ATTEMPTS_MAX: u32 = 50;

/// Applies one journal frame to a store, with the head it leads to; returns
/// that head.
pub(crate) fn apply_frame(store: &dyn Store, frame: crate::journal::ReadFrame) -> Result<Head> {
    let (next, batch) = frame_batch(frame);
    store.apply(&batch).map_err(store_io("applying a journal frame"))?;
    Ok(next)
}

/// A frame's head, with its end set, and the batch that applies it (its
/// operations, then the head).
pub(crate) fn frame_batch(frame: crate::journal::ReadFrame) -> (Head, WriteBatch) {
    let mut next = frame.body.head;
    next.journal_end = frame.end;
    let mut batch = frame.body.batch;
    batch.put(keys::HEAD.to_vec(), encode(&next));
    (next, batch)
}

/// Takes LOCK (exclusive for a writer, shared for a reader), or says which
/// process holds it. A lock can outlive its holder's close by a moment: a
/// process that forks (to run a program) shares its open files with the
/// child until the child's exec closes them. So a held lock is tried again
/// for a little while before it is reported.
pub(crate) fn take_lock(file: &File, directory: &Path, exclusive: bool, advice: &str) -> Result<()> {
    let mut attempts = 0;
    loop {
        let locked = if exclusive { file.try_lock() } else { file.try_lock_shared() };
        match locked {
            Ok(()) => return Ok(()),
            Err(std::fs::TryLockError::WouldBlock) if attempts < LOCK_ATTEMPTS_MAX => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let pid = std::fs::read_to_string(directory.join(LOCK_FILE)).unwrap_or_default();
                return Err(Error::data_directory(
                    directory,
                    format!("is in use by another minutebook process (pid {}), {advice}", pid.trim()),
                ));
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(Error::io("locking the data directory", error)),
        }
    }
}

/// Takes the data directory's lock (an flock on LOCK, released when the
/// process ends however it ends) and writes our pid into it.
fn lock_directory(directory: &Path) -> Result<File> {
    let path = directory.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(store_io("opening the lock file"))?;
    take_lock(&file, directory, true, "such as `minutebook serve`; stop it first, or use its HTTP API")?;
    // The pid is for an operator's eyes only: a full disk must not keep a
    // directory from opening over it, so it is written over the old one in
    // place (no new block) and a failure is ignored.
    let pid = format!("{}\n", std::process::id());
    let _ = std::os::unix::fs::FileExt::write_all_at(&file, pid.as_bytes(), 0)
        .and_then(|()| file.set_len(pid.len() as u64));
    Ok(file)
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

/// What opening found in the journal.
pub(crate) struct Recovered {
    pub(crate) head: Head,
    /// Frames applied to the store past the head it kept.
    pub(crate) n_frames: u64,
    /// A torn write after the last frame, `start..end`: never acknowledged,
    /// and cleared (after a copy is kept) before the next frame is written.
    pub(crate) torn: Option<(u64, u64)>,
    /// The store had no head: it was rebuilt from the journal.
    pub(crate) rebuilt: bool,
}

/// The head of an empty log, and the batch that `init` writes outside the
/// journal: that head and the empty tree's checkpoint. Ed25519 signatures
/// are deterministic, so a store rebuilt from the journal gets the same
/// checkpoint bytes `init` wrote.
pub(crate) fn genesis(signer: &NoteSigner) -> (Head, WriteBatch) {
    let head =
        Head { len: 0, last_hash: EventHash::ZERO, journal_end: 0, last_recorded_at_us: 0, frontier: Vec::new() };
    let empty = Checkpoint { origin: signer.verifier().name().to_owned(), tree_size: 0, root: merkle::empty_root() };
    let mut batch = WriteBatch::default();
    batch.put(keys::HEAD.to_vec(), encode(&head));
    batch.put(keys::checkpoint(0).to_vec(), signer.sign(&empty).into_bytes());
    (head, batch)
}

/// Brings the store up to date with the journal: applies every frame past
/// the head the store kept (every frame, when the store is new or
/// `from_genesis` asks for a rebuild), and
/// finds what follows the last one. Writes nothing to the journal: a torn
/// write is only noted, and corruption is refused with its place.
fn recover(
    store: &dyn Store,
    signer: &NoteSigner,
    frame_key: &[u8; 32],
    journal_path: &Path,
    from_genesis: bool,
) -> Result<Recovered> {
    let head_bytes = store.get(keys::HEAD).map_err(store_io("reading the head"))?;
    // A head that does not decode is a damaged cache: start again.
    let head_bytes = head_bytes.filter(|bytes| !from_genesis && decode::<Head>("head", bytes).is_ok());
    let rebuilt = head_bytes.is_none();
    if from_genesis {
        clear_store(store)?;
    }
    let mut head: Head = match head_bytes {
        Some(bytes) => decode("head", &bytes)?,
        None => {
            let (head, batch) = genesis(signer);
            store.apply(&batch).map_err(store_io("rebuilding the store"))?;
            head
        }
    };
    let mut n_frames = 0u64;
    let torn = loop {
        match crate::journal::examine(frame_key, &store, head.journal_end, head.len)? {
            FrameAt::Frame(frame) => {
                head = apply_frame(store, frame)?;
                n_frames += 1;
            }
            FrameAt::End => break None,
            FrameAt::Torn { end } => break Some((head.journal_end, end)),
            FrameAt::Corrupt(why) => {
                return Err(crate::journal::corruption(journal_path, head.journal_end, head.len, &why));
            }
        }
    };
    if n_frames > 0 || rebuilt {
        store.make_durable().map_err(store_io("flushing the store after applying the journal"))?;
    }
    Ok(Recovered { head, n_frames, torn, rebuilt })
}

/// Deletes every entry of the store, before it is rebuilt from the journal,
/// so that no damaged entry outlives the rebuild.
fn clear_store(store: &dyn Store) -> Result<()> {
    loop {
        let mut batch = WriteBatch::default();
        for item in store.scan(&[0x00], &[0xff]).take(10_000) {
            let (key, _) = item.map_err(store_io("clearing the store"))?;
            batch.delete(key);
        }
        if batch.is_empty() {
            return Ok(());
        }
        store.apply(&batch).map_err(store_io("clearing the store"))?;
    }
}

/// The directory where bytes the log had to clear are kept.
pub const QUARANTINE_DIR: &str = "quarantine";

/// Clears a torn write at `start..end` of the journal before a frame is
/// written over it. The bytes were never acknowledged (see `examine`), but
/// a copy goes to the quarantine directory first, so that even a misjudged
/// tear destroys nothing.
fn clear_torn(store: &dyn Store, directory: &Path, start: u64, end: u64) -> Result<()> {
    let mut bytes = vec![0u8; (end - start) as usize];
    store.read_journal(start, &mut bytes).map_err(store_io("reading a torn write"))?;
    let Some(last) = bytes.iter().rposition(|byte| *byte != 0) else { return Ok(()) };
    bytes.truncate(last + 1);
    let quarantine = directory.join(QUARANTINE_DIR);
    std::fs::create_dir_all(&quarantine).map_err(store_io("creating the quarantine directory"))?;
    let name = format!("journal-torn-at-{start}-{}.bin", now_us());
    write_new_file(&quarantine.join(name), &bytes, 0o600)?;
    sync_directory(&quarantine)?;
    sync_directory(directory)?;
    store.write_journal(start, &vec![0u8; bytes.len()]).map_err(store_io("clearing a torn write"))?;
    store.sync_journal().map_err(store_io("clearing a torn write"))
}

/// Zeroes payload regions that committed redactions left to scrub (the
/// process stopped between the commit and the scrub); the journal's frames
/// end at `journal_end`.
fn finish_scrubs(store: &dyn Store, journal_end: u64) -> Result<()> {
    let pending: Vec<_> =
        store.scan(b"x", b"y").collect::<std::io::Result<_>>().map_err(store_io("reading pending scrubs"))?;
    if pending.is_empty() {
        return Ok(());
    }
    let mut scrubs = Vec::with_capacity(pending.len());
    for (key, value) in pending {
        let seq = keys::parse_u64(&key).ok_or_else(|| Error::corrupt("malformed pending scrub key"))?;
        let scrub: Scrub = decode("pending scrub", &value)?;
        if is_payload_of(store, Seq(seq), &scrub, journal_end)? {
            scrubs.push((Seq(seq), scrub));
        }
    }
    scrub_payloads(store, &scrubs)
}

/// Whether the journal bytes a pending scrub names are still exactly the
/// payload (salt first) of the event it names, checked against the salted
/// hash in that event's envelope. The entry comes from the store, a cache:
/// a damaged one must never make the log zero bytes that hold something
/// else. Bytes already zero have been scrubbed; bytes inside the frames
/// that are zeros in some of their 512-byte sectors are a scrub that a
/// power cut interrupted (it reached those sectors and not the others);
/// anything else is refused.
fn is_payload_of(store: &dyn Store, seq: Seq, scrub: &Scrub, journal_end: u64) -> Result<bool> {
    let refuse = |why: &str| {
        Error::corrupt(format!(
            "the store asks for the payload of event {} to be cleared at journal offset {} ({} bytes), but {why}; \
             nothing was cleared",
            seq.0, scrub.offset, scrub.len
        ))
    };
    let journal_len = store.journal_len().map_err(store_io("reading the journal's length"))?;
    if scrub.len < SALT_BYTES
        || scrub.len > SALT_BYTES + EVENT_PAYLOAD_BYTES_MAX as u64
        || scrub.offset.checked_add(scrub.len).is_none_or(|end| end > journal_len)
    {
        return Err(refuse("that is not a payload's place in the journal"));
    }
    let record = read_record(store, seq)?;
    if !matches!(record.payload, PayloadRef::Redacted { .. }) {
        return Err(refuse("the event is not redacted"));
    }
    let envelope = Envelope::from_bytes(&record.envelope).map_err(|error| refuse(&error.to_string()))?;
    let mut bytes = vec![0u8; scrub.len as usize];
    store.read_journal(scrub.offset, &mut bytes).map_err(store_io("reading a payload to clear"))?;
    if bytes.iter().all(|byte| *byte == 0) {
        return Ok(true);
    }
    let interrupted = scrub.offset + scrub.len <= journal_end && all_zero_in_a_sector(scrub.offset, &bytes);
    if stored_payload_hash(&bytes) != envelope.payload_hash() && !interrupted {
        return Err(refuse("those bytes are not its payload"));
    }
    Ok(true)
}

/// Zeroes redacted payloads in the journal, syncs them, then deletes the
/// entries that said they were still to be scrubbed.
fn scrub_payloads(store: &dyn Store, scrubs: &[(Seq, Scrub)]) -> Result<()> {
    if scrubs.is_empty() {
        return Ok(());
    }
    let mut done = WriteBatch::default();
    for (seq, scrub) in scrubs {
        let zeros = vec![0u8; scrub.len as usize];
        store.write_journal(scrub.offset, &zeros).map_err(store_io("scrubbing a redacted payload"))?;
        done.delete(keys::scrub(*seq).to_vec());
    }
    store.sync_journal().map_err(store_io("syncing scrubbed payloads"))?;
    store.apply(&done).map_err(store_io("clearing pending scrubs"))?;
    store.make_durable().map_err(store_io("clearing pending scrubs"))
}

fn now_us() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970");
    i64::try_from(since_epoch.as_micros()).expect("the clock is before the year 294000")
}

// ---------------------------------------------------------------------------
// The writer.

struct Writer {
    shared: Arc<Shared>,
    /// A torn write found on open, cleared before the first frame.
    torn: Option<(u64, u64)>,
    signer: NoteSigner,
    frame_key: [u8; 32],
    head: Head,
    frontier: Frontier,
    /// A request taken from the queue that did not fit the last group.
    carried: Option<Request>,
    /// Loaded on the first append, so that commands that only read never
    /// pay for it.
    ids: Option<IdFilter>,
    /// The group the applier may still be applying: what the next group
    /// must see of it, since the store may not show it yet.
    in_flight: Option<InFlight>,
    /// The last index chunk of recently written streams, as committed:
    /// the writer is the only one to change them, and reading them from
    /// the store costs a reverse scan each.
    tails: HashMap<String, StreamTail>,
}

/// Keyed 64-bit fingerprints of every stored event id, so that the common
/// case, a new id, costs no store read. A fingerprint that matches is
/// confirmed against the store's event id index.
struct IdFilter {
    hasher: IdHashing,
    fingerprints: HashSet<u64, std::hash::BuildHasherDefault<Fingerprint>>,
}

impl IdFilter {
    fn load(store: &dyn Store) -> Result<IdFilter> {
        let mut filter = IdFilter { hasher: IdHashing::new(), fingerprints: HashSet::default() };
        for item in store.scan(b"i", b"j") {
            let (key, _) = item.map_err(store_io("reading the event id index"))?;
            let id: [u8; 16] = key
                .get(1..17)
                .and_then(|id| id.try_into().ok())
                .ok_or_else(|| Error::corrupt("malformed event id key"))?;
            filter.insert(&EventId(id));
        }
        Ok(filter)
    }

    fn insert(&mut self, id: &EventId) {
        self.fingerprints.insert(std::hash::BuildHasher::hash_one(&self.hasher, id));
    }

    fn may_contain(&self, id: &EventId) -> bool {
        self.fingerprints.contains(&std::hash::BuildHasher::hash_one(&self.hasher, id))
    }
}

/// Events and redactions of a request: what a group counts.
fn request_items(request: &Request) -> usize {
    request.batch.events.len() + request.batch.redactions.len()
}

fn request_bytes(request: &Request) -> usize {
    request.batch.events.iter().map(|event| event.payload.len() + SALT_BYTES as usize).sum()
}

/// What the writer hands the applier.
enum ToApplier {
    Group(DurableGroup),
    /// The writer is idle: make the store durable.
    Flush,
}

/// A group whose frame is on stable storage: its appenders are answered,
/// then it is applied to the store.
struct DurableGroup {
    batch: WriteBatch,
    len: u64,
    /// The end of the group's frame in the journal.
    journal_end: u64,
    frame_bytes: u64,
    replies: Vec<(SyncSender<Result<AppendOutcome>>, AppendOutcome)>,
    scrubs: Vec<(Seq, Scrub)>,
}

impl Writer {
    /// Takes requests in groups, stages each group and makes its frame
    /// durable, then hands it to the applier thread. The hand-over waits
    /// until the applier has finished the group before, so the writer
    /// stages and syncs group n+1 while group n is applied.
    fn run(mut self, receiver: Receiver<Request>) {
        let applier = Arc::new(ApplierHandle {
            state: Mutex::new(ApplierState {
                applier: Applier { shared: Arc::clone(&self.shared), unflushed_bytes: 0 },
                queued: None,
                closed: false,
            }),
            queued_changed: Condvar::new(),
        });
        let applier_thread = {
            let applier = Arc::clone(&applier);
            std::thread::Builder::new()
                .name("minutebook-log-applier".into())
                .spawn(move || applier.run())
                .expect("the applier thread starts")
        };
        loop {
            let first = match self.carried.take() {
                Some(request) => request,
                None => match receiver.recv_timeout(Duration::from_millis(IDLE_FLUSH_MS)) {
                    Ok(request) => request,
                    Err(RecvTimeoutError::Timeout) => {
                        applier.apply_here(ToApplier::Flush);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            let mut n_items = request_items(&first);
            let mut n_bytes = request_bytes(&first);
            let mut requests = vec![first];
            while n_items < GROUP_EVENTS_MAX {
                let Ok(request) = receiver.try_recv() else { break };
                let (more_items, more_bytes) = (request_items(&request), request_bytes(&request));
                if n_items + more_items > GROUP_EVENTS_MAX || n_bytes + more_bytes > FRAME_PAYLOADS_BYTES_MAX {
                    self.carried = Some(request);
                    break;
                }
                n_items += more_items;
                n_bytes += more_bytes;
                requests.push(request);
            }
            let Some(mut group) = self.commit_group(requests) else { continue };
            // The group's frame is on stable storage: its appenders hear so
            // now, and can send their next events while it is applied, so
            // that groups grow with the number of appenders. Readers wait
            // for the store to show what was acknowledged.
            {
                let mut durable = self.shared.durable.lock().unwrap();
                durable.acknowledged = durable.acknowledged.max(group.len);
            }
            for (reply, mut outcome) in std::mem::take(&mut group.replies) {
                outcome.tree_size = group.len;
                let _ = reply.send(Ok(outcome));
            }
            // With more requests waiting, the applier applies this group
            // while the writer stages and syncs the next. Otherwise the
            // writer applies it itself, which spares a thread hand-over
            // (tens of microseconds on a virtual machine) on every append.
            if self.carried.is_none() {
                self.carried = receiver.try_recv().ok();
            }
            if self.carried.is_some() {
                applier.hand_over(group);
            } else {
                applier.apply_here(ToApplier::Group(group));
            }
        }
        applier.close();
        let _ = applier_thread.join();
    }

    fn fail_all(requests: Vec<Request>, error: impl Fn() -> Error) {
        for request in requests {
            let _ = request.reply.send(Err(error()));
        }
    }

    /// Stages a group and makes its frame durable; `None` when every
    /// request was refused or the log has failed.
    fn commit_group(&mut self, requests: Vec<Request>) -> Option<DurableGroup> {
        if let Some(failure) = self.shared.failure() {
            Writer::fail_all(requests, || Error::new(Kind::Failed(failure.clone())));
            return None;
        }
        let shared = Arc::clone(&self.shared);
        if self.ids.is_none() {
            match IdFilter::load(shared.store.as_ref()) {
                Ok(ids) => self.ids = Some(ids),
                Err(error) => {
                    let message = error.to_string();
                    Writer::fail_all(requests, || {
                        Error::io("loading the event id index", std::io::Error::other(message.clone()))
                    });
                    return None;
                }
            }
        }
        let mut ids = self.ids.take().expect("loaded above");
        // A redaction reads its target's record from the store, and an
        // appender may redact an event as soon as its append returns, which
        // is before its group is applied: let the applier catch up first.
        // Redactions are rare; this costs them a group's apply at most.
        // Tails forgotten are loaded again from the store, which must then
        // show the group in flight too: a tail loaded without its events
        // would give their stream versions again and drop them from the
        // stream's index. Forgetting is rare (once per 4,096 new streams).
        let forget_tails = self.tails.len() > STREAM_TAILS_CACHED_MAX;
        if forget_tails || requests.iter().any(|request| !request.batch.redactions.is_empty()) {
            let mut durable = self.shared.durable.lock().unwrap();
            while durable.applied_journal_end != self.head.journal_end && durable.failure.is_none() {
                durable = self.shared.durable_changed.wait(durable).unwrap();
            }
        }
        // Once the applier has caught up, the store shows the group before
        // (even one that only redacted) and it need not be looked at apart.
        if self.shared.durable.lock().unwrap().applied_journal_end == self.head.journal_end {
            self.in_flight = None;
        }
        let mut previous = self.in_flight.take();
        let mut tails = std::mem::take(&mut self.tails);
        // (Unless the applier failed while it was waited for: then nothing
        // more is written, and the tails are kept.)
        if forget_tails && previous.is_none() {
            tails.clear();
        }
        let mut group = Group::new(shared.store.as_ref(), &ids, previous.as_ref(), &self.head, &self.frontier, tails);
        let mut replies = Vec::with_capacity(requests.len());
        for request in requests {
            match group.stage(request.batch) {
                Ok(outcome) => replies.push((request.reply, outcome)),
                Err(error) => {
                    let _ = request.reply.send(Err(error));
                }
            }
        }
        let new_ids: Vec<EventId> = group.staged_ids.keys().copied().collect();
        let nothing_to_write = group.len == self.head.len && group.redactions.is_empty();
        let written = if replies.is_empty() || nothing_to_write {
            self.tails = group.take_tails();
            drop(group);
            self.in_flight = previous.take();
            if replies.is_empty() {
                self.ids = Some(ids);
                return None;
            }
            // Only retries of stored events: nothing to write, but the
            // replies go through the applier so they follow the group before.
            Ok(DurableGroup {
                batch: WriteBatch::default(),
                len: self.head.len,
                journal_end: self.head.journal_end,
                frame_bytes: 0,
                replies: Vec::new(),
                scrubs: Vec::new(),
            })
        } else {
            self.write_group(group)
        };
        if written.is_ok() {
            for id in &new_ids {
                ids.insert(id);
            }
        }
        self.ids = Some(ids);
        match written {
            Ok(mut durable) => {
                durable.replies = replies;
                Some(durable)
            }
            Err(error) if error.category() == ErrorCategory::StorageFull => {
                // Nothing was written (write_group checks for space before
                // it writes a byte): the writer's state is as before the
                // group, and the log goes on.
                self.in_flight = previous.take();
                for (reply, _) in replies {
                    let _ = reply.send(Err(Error::io(
                        "appending",
                        std::io::Error::new(std::io::ErrorKind::StorageFull, error.to_string()),
                    )));
                }
                None
            }
            Err(error) => {
                let message = error.to_string();
                fail(&self.shared, message.clone());
                reply_failed(replies, &message);
                None
            }
        }
    }

    /// Makes a group durable: its frame (payloads and store batch, signed
    /// checkpoint included) written to the journal and fdatasynced.
    fn write_group(&mut self, mut group: Group<'_>) -> Result<DurableGroup> {
        let store = self.shared.store.as_ref();
        let new_len = group.len;
        assert!(new_len >= self.head.len);
        group.finish_streams();
        if new_len > self.head.len {
            // The root comes from the previous frontier extended leaf by
            // leaf, so it extends the checkpoint before; prove it anyway.
            assert_eq!(group.frontier.size(), new_len);
            let root = group.frontier.root();
            assert_consistent(&self.frontier, &group.frontier, &group.new_nodes);
            let checkpoint = Checkpoint { origin: self.signer.verifier().name().to_owned(), tree_size: new_len, root };
            group.batch.put(keys::checkpoint(new_len).to_vec(), self.signer.sign(&checkpoint).into_bytes());
        }
        let mut head = Head {
            len: new_len,
            last_hash: group.last_hash,
            journal_end: 0,
            last_recorded_at_us: group.recorded_at_us,
            frontier: group.frontier.hashes().to_vec(),
        };
        let n_events = u32::try_from(new_len - self.head.len).expect("groups are small");
        let body = FrameBody { head: head.clone(), batch: std::mem::take(&mut group.batch) };
        let frame = encode_frame(&self.frame_key, self.head.len, n_events, &group.payloads, &body);
        // Space first, while nothing is written: a full disk refuses the
        // group and leaves the log as it was (docs/OPERATIONS.md, "Disk
        // full"). The store's own writes need room too, so a margin is kept.
        check_free_space(&self.shared.directory)?;
        store.reserve_journal(self.head.journal_end + frame.len() as u64).map_err(store_io("growing the journal"))?;
        if let Some((start, end)) = self.torn {
            assert_eq!(start, self.head.journal_end, "a torn write lies where the next frame goes");
            clear_torn(store, &self.shared.directory, start, end)?;
            self.torn = None;
        }
        store.write_journal(self.head.journal_end, &frame).map_err(store_io("writing the journal"))?;
        store.sync_journal().map_err(store_io("syncing the journal"))?;
        head.journal_end = self.head.journal_end + frame.len() as u64;
        let mut batch = body.batch;
        batch.put(keys::HEAD.to_vec(), encode(&head));
        self.frontier = std::mem::replace(&mut group.frontier, Frontier::empty());
        self.head = head;
        let scrubs = std::mem::take(&mut group.scrubs);
        self.tails = group.take_tails();
        self.in_flight = Some(group.into_in_flight());
        let journal_end = self.head.journal_end;
        Ok(DurableGroup {
            batch,
            len: new_len,
            journal_end,
            frame_bytes: frame.len() as u64,
            replies: Vec::new(),
            scrubs,
        })
    }
}

/// Asserts that the tree of `new` (the tree of `old` extended by a group's
/// leaves) is consistent with the tree of `old`, by an RFC 9162 proof built
/// from the old frontier and the group's new nodes alone: the log never
/// signs two inconsistent checkpoints.
fn assert_consistent(old: &Frontier, new: &Frontier, new_nodes: &HashMap<(u8, u64), TreeHash>) {
    struct Known<'a> {
        nodes: HashMap<(u8, u64), TreeHash>,
        new_nodes: &'a HashMap<(u8, u64), TreeHash>,
    }
    impl Subtrees for Known<'_> {
        fn subtree(&self, level: u8, index: u64) -> Result<TreeHash> {
            let key = (level, index);
            let hash = self.nodes.get(&key).or_else(|| self.new_nodes.get(&key));
            Ok(*hash.expect("a consistency proof needs only old frontier subtrees and new nodes"))
        }
    }
    let mut nodes = HashMap::new();
    let mut start = 0u64;
    for (hash, level) in old.hashes().iter().zip((0..64u8).rev().filter(|level| old.size() >> level & 1 == 1)) {
        nodes.insert((level, start >> level), *hash);
        start += 1 << level;
    }
    let known = Known { nodes, new_nodes };
    let proof = merkle::consistency_proof(&known, old.size(), new.size()).expect("a consistency proof");
    merkle::verify_consistency(old.size(), new.size(), &old.root(), &new.root(), &proof)
        .expect("the log never signs two inconsistent checkpoints");
}

/// Free space the data directory's file system must keep after a group's
/// frame is reserved: room for the store to apply it and flush, for
/// projections and papers. Below it, appends are refused as storage full
/// before anything is written.
pub const DISK_FREE_BYTES_MIN: u64 = 16 * 1024 * 1024;

/// A file of zeros a data directory keeps (`space-reserve`), so that a
/// directory on a full disk can still be opened: sled writes a snapshot
/// when it opens, and nothing opens without room for it. Ours, holding
/// nothing, so releasing it destroys nothing.
pub const SPACE_RESERVE_FILE: &str = "space-reserve";
/// The space reserve's size.
pub const SPACE_RESERVE_BYTES: u64 = 8 * 1024 * 1024;

/// Bytes available to this process on the file system holding `directory`.
fn free_bytes(directory: &Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(directory)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// On opening: releases the space reserve when the disk is full (and says
/// how much was free), or makes it when there is room and it is missing.
/// Never fails: the reserve is a convenience, not a record.
fn keep_space_reserve(directory: &Path) -> Option<u64> {
    let path = directory.join(SPACE_RESERVE_FILE);
    let free = free_bytes(directory).ok()?;
    if free < DISK_FREE_BYTES_MIN {
        std::fs::remove_file(&path).ok()?;
        let _ = sync_directory(directory);
        return Some(free);
    }
    if free >= DISK_FREE_BYTES_MIN + SPACE_RESERVE_BYTES && !path.exists() {
        let made = OpenOptions::new().write(true).create_new(true).open(&path).and_then(|mut file| {
            let zeros = vec![0u8; 1024 * 1024];
            for _ in 0..SPACE_RESERVE_BYTES / zeros.len() as u64 {
                file.write_all(&zeros)?;
            }
            file.sync_all()
        });
        if made.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        let _ = sync_directory(directory);
    }
    None
}

/// Refuses (as storage full) when the data directory's file system has
/// less than `DISK_FREE_BYTES_MIN` available to this process.
fn check_free_space(directory: &Path) -> Result<()> {
    let available = free_bytes(directory).map_err(store_io("reading free space"))?;
    if available < DISK_FREE_BYTES_MIN {
        return Err(Error::io(
            "appending",
            std::io::Error::new(
                std::io::ErrorKind::StorageFull,
                format!(
                    "the disk holding {} has {available} bytes free, less than the {DISK_FREE_BYTES_MIN} kept free",
                    directory.display()
                ),
            ),
        ));
    }
    Ok(())
}

/// Tells every appender of a group that the log failed before its append
/// was acknowledged.
fn reply_failed(replies: Vec<(SyncSender<Result<AppendOutcome>>, AppendOutcome)>, message: &str) {
    for (reply, _) in replies {
        let _ = reply.send(Err(Error::new(Kind::Failed(message.to_owned()))));
    }
}

fn fail(shared: &Shared, message: String) {
    let mut durable = shared.durable.lock().unwrap();
    durable.failure.get_or_insert(message);
    shared.durable_changed.notify_all();
}

/// Applies durable groups to the store in order, makes them visible to
/// readers, scrubs redacted payloads, and flushes the store now and then.
struct Applier {
    shared: Arc<Shared>,
    /// Journal bytes written since the store was last made durable.
    unflushed_bytes: u64,
}

/// The applier and the one group it may have queued, under one lock that
/// is held while anything is applied, so groups are applied in order
/// whichever thread applies them.
struct ApplierHandle {
    state: Mutex<ApplierState>,
    queued_changed: Condvar,
}

struct ApplierState {
    applier: Applier,
    queued: Option<DurableGroup>,
    closed: bool,
}

impl ApplierHandle {
    /// The applier thread: applies each group handed over, until closed.
    fn run(&self) {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(group) = state.queued.take() {
                state.applier.handle(ToApplier::Group(group));
                self.queued_changed.notify_all();
                continue;
            }
            if state.closed {
                state.applier.flush_store();
                return;
            }
            state = self.queued_changed.wait(state).unwrap();
        }
    }

    /// Queues a group for the applier thread, once the one before is
    /// applied.
    fn hand_over(&self, group: DurableGroup) {
        let mut state = self.state.lock().unwrap();
        if let Some(before) = state.queued.take() {
            state.applier.handle(ToApplier::Group(before));
        }
        state.queued = Some(group);
        self.queued_changed.notify_all();
    }

    /// Applies on the calling thread, after anything queued.
    fn apply_here(&self, message: ToApplier) {
        let mut state = self.state.lock().unwrap();
        if let Some(before) = state.queued.take() {
            state.applier.handle(ToApplier::Group(before));
        }
        state.applier.handle(message);
    }

    fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.queued_changed.notify_all();
    }
}

impl Applier {
    fn handle(&mut self, message: ToApplier) {
        match message {
            ToApplier::Flush => self.flush_store(),
            ToApplier::Group(group) => {
                self.apply(group);
                if self.unflushed_bytes >= FLUSH_JOURNAL_BYTES {
                    self.flush_store();
                }
            }
        }
    }

    /// Applies a group whose appenders were answered once its frame was
    /// durable. A failure here stops the log; what was acknowledged is in
    /// the journal, and a reopen applies it.
    fn apply(&mut self, group: DurableGroup) {
        debug_assert!(group.replies.is_empty(), "a group's appenders are answered before it is applied");
        let store = self.shared.store.as_ref();
        if self.shared.failure().is_some() {
            return;
        }
        if !group.batch.is_empty() {
            if let Err(error) = store.apply(&group.batch) {
                fail(&self.shared, format!("applying the batch: {error}"));
                return;
            }
            self.unflushed_bytes += group.frame_bytes;
            let mut durable = self.shared.durable.lock().unwrap();
            assert!(durable.len <= group.len);
            durable.len = group.len;
            durable.applied_journal_end = group.journal_end;
            self.shared.durable_changed.notify_all();
        }
        if let Err(error) = scrub_payloads(self.shared.store.as_ref(), &group.scrubs) {
            fail(&self.shared, format!("scrubbing redacted payloads: {error}"));
        }
    }

    /// Makes the store durable, so that a reopen applies no frame again.
    /// Appends are already durable in the journal: a failure here stops
    /// further appends but loses nothing.
    fn flush_store(&mut self) {
        if self.unflushed_bytes == 0 || self.shared.failure().is_some() {
            return;
        }
        match self.shared.store.make_durable() {
            Ok(()) => self.unflushed_bytes = 0,
            Err(error) => fail(&self.shared, format!("flushing the store: {error}")),
        }
    }
}

/// A stream's last index chunk, as staged.
struct StreamTail {
    chunk_idx: u32,
    seqs: Vec<u64>,
    /// The last chunk has changes not yet put in the batch.
    dirty: bool,
}

impl StreamTail {
    fn version(&self) -> StreamVersion {
        StreamVersion(u64::from(self.chunk_idx) * STREAM_CHUNK_EVENTS_MAX + self.seqs.len() as u64)
    }
}

/// An event staged in the current group, for idempotency within it.
struct StagedEvent {
    appended: Appended,
    stream: String,
    event_type: String,
    /// Where the payload (after its salt) lies in the group's payload area.
    payload_at: std::ops::Range<usize>,
}

/// The writes of one group commit, staged on top of the committed log.
struct Group<'a> {
    store: &'a dyn Store,
    ids: &'a IdFilter,
    previous: Option<&'a InFlight>,
    len: u64,
    last_hash: EventHash,
    payloads_start: u64,
    payloads: Vec<u8>,
    frontier: Frontier,
    recorded_at_us: i64,
    batch: WriteBatch,
    streams: HashMap<String, StreamTail>,
    staged_ids: HashMap<EventId, StagedEvent>,
    redactions: HashSet<Seq>,
    scrubs: Vec<(Seq, Scrub)>,
    /// Seq of the group's first event.
    start: u64,
    /// Every tree node the group's leaves completed, leaves included.
    new_nodes: HashMap<(u8, u64), TreeHash>,
    /// Events before this one are in the store; the previous group's may
    /// not be yet.
    applied_len: u64,
    salts: Salts,
}

/// What a group staged that the next group must see while the store may
/// not show it yet.
struct InFlight {
    start: u64,
    staged_ids: HashMap<EventId, StagedEvent>,
    payloads: Vec<u8>,
    redactions: HashSet<Seq>,
}

/// Salts drawn from the operating system's random source a block at a
/// time rather than one system call per event.
struct Salts {
    block: [u8; 16 * 64],
    used: usize,
}

impl Salts {
    fn new() -> Salts {
        Salts { block: [0; 16 * 64], used: 64 }
    }

    fn next(&mut self) -> Salt {
        if self.used == 64 {
            getrandom::getrandom(&mut self.block).expect("the operating system's random source failed");
            self.used = 0;
        }
        let salt = Salt(self.block[self.used * 16..(self.used + 1) * 16].try_into().expect("16 bytes"));
        self.used += 1;
        salt
    }
}

impl<'a> Group<'a> {
    fn new(
        store: &'a dyn Store,
        ids: &'a IdFilter,
        previous: Option<&'a InFlight>,
        head: &Head,
        frontier: &Frontier,
        streams: HashMap<String, StreamTail>,
    ) -> Group<'a> {
        Group {
            store,
            ids,
            previous,
            len: head.len,
            last_hash: head.last_hash,
            payloads_start: head.journal_end + FRAME_HEADER_BYTES,
            payloads: Vec::new(),
            frontier: frontier.clone(),
            recorded_at_us: now_us().max(head.last_recorded_at_us),
            batch: WriteBatch::default(),
            streams,
            staged_ids: HashMap::new(),
            redactions: HashSet::new(),
            scrubs: Vec::new(),
            start: head.len,
            new_nodes: HashMap::new(),
            applied_len: previous.map_or(head.len, |previous| previous.start),
            salts: Salts::new(),
        }
    }

    fn into_in_flight(self) -> InFlight {
        InFlight {
            start: self.start,
            staged_ids: self.staged_ids,
            payloads: self.payloads,
            redactions: self.redactions,
        }
    }

    /// The stream tails as they stand after the group, for the next one.
    fn take_tails(&mut self) -> HashMap<String, StreamTail> {
        let mut tails = std::mem::take(&mut self.streams);
        for tail in tails.values_mut() {
            tail.dirty = false;
        }
        tails
    }

    /// Checks a request against the log and the group so far, then stages
    /// it. A request that fails its checks stages nothing.
    fn stage(&mut self, batch: AppendBatch) -> Result<AppendOutcome> {
        check_shape(&batch)?;
        if let Some(outcome) = self.replay(&batch)? {
            return Ok(outcome);
        }
        for (stream, expected) in &batch.expectations {
            let actual = self.tail(stream)?.version();
            if let ExpectedVersion::Exactly(expected) = *expected {
                if expected != actual {
                    return Err(Error::new(Kind::Conflict(Conflict { stream: stream.clone(), expected, actual })));
                }
            }
        }
        let mut redacted_records = Vec::with_capacity(batch.redactions.len());
        for redaction in &batch.redactions {
            redacted_records.push(self.check_redaction(redaction)?);
        }
        if self.len + batch.events.len() as u64 > self.start + GROUP_EVENTS_MAX as u64 {
            return Err(Error::invalid("the writer's group is full"));
        }
        // Every check passed: from here on nothing fails.
        let mut appended = Vec::with_capacity(batch.events.len());
        for event in batch.events {
            appended.push(self.stage_event(event));
        }
        for (redaction, record) in batch.redactions.into_iter().zip(redacted_records) {
            self.stage_redaction(redaction, record);
        }
        Ok(AppendOutcome { events: appended, replayed: false, tree_size: 0 })
    }

    /// When every event id of the batch is stored (or staged) with the same
    /// content, the original positions; when none is, `None`.
    fn replay(&self, batch: &AppendBatch) -> Result<Option<AppendOutcome>> {
        let mut originals = Vec::new();
        for event in &batch.events {
            if let Some(original) = self.find_id(event)? {
                originals.push(original);
            }
        }
        if originals.is_empty() {
            return Ok(None);
        }
        if originals.len() != batch.events.len() {
            return Err(Error::invalid(format!(
                "{} of the batch's {} event ids are already stored: a retried batch must be identical to the original",
                originals.len(),
                batch.events.len()
            )));
        }
        Ok(Some(AppendOutcome { events: originals, replayed: true, tree_size: 0 }))
    }

    /// The stored or staged event with this event's id, after checking that
    /// it has the same type, stream and (unsalted) payload.
    fn find_id(&self, event: &NewEvent) -> Result<Option<Appended>> {
        let mismatch =
            |seq: Seq, what| Error::new(Kind::IdempotencyMismatch { event_id: event.event_id.to_hex(), seq, what });
        let same = |stream: &str, event_type: &str, payload: Option<&[u8]>, seq: Seq| -> Result<()> {
            if stream != event.stream {
                return Err(mismatch(seq, "stream"));
            }
            if event_type != event.event_type {
                return Err(mismatch(seq, "event type"));
            }
            match payload {
                Some(payload) if payload == event.payload.as_slice() => Ok(()),
                Some(_) => Err(mismatch(seq, "payload")),
                None => Err(Error::invalid(format!(
                    "event id {} is stored as event {}, whose payload has since been redacted, so a retry cannot be compared with it",
                    event.event_id, seq.0
                ))),
            }
        };
        let staged = [Some((&self.staged_ids, &self.payloads)), self.previous.map(|p| (&p.staged_ids, &p.payloads))];
        for (staged_ids, payloads) in staged.into_iter().flatten() {
            if let Some(staged) = staged_ids.get(&event.event_id) {
                let payload = &payloads[staged.payload_at.clone()];
                same(&staged.stream, &staged.event_type, Some(payload), staged.appended.seq)?;
                return Ok(Some(staged.appended));
            }
        }
        if !self.ids.may_contain(&event.event_id) {
            return Ok(None);
        }
        let Some(seq_bytes) =
            self.store.get(&keys::event_id(&event.event_id)).map_err(store_io("reading the event id index"))?
        else {
            return Ok(None);
        };
        let seq = Seq(u64::from_be_bytes(
            seq_bytes.as_slice().try_into().map_err(|_| Error::corrupt("event id index entry is not 8 bytes"))?,
        ));
        let stored = read_event(self.store, seq)?;
        let payload = match &stored.payload {
            Payload::Present { bytes, .. } => Some(bytes.as_slice()),
            Payload::Redacted { .. } => None,
        };
        same(stored.envelope.stream(), stored.envelope.event_type(), payload, seq)?;
        Ok(Some(Appended { seq, stream_version: stored.envelope.stream_version(), event_hash: stored.hash }))
    }

    fn tail(&mut self, stream: &str) -> Result<&mut StreamTail> {
        if !self.streams.contains_key(stream) {
            let tail = load_tail(self.store, stream)?;
            self.streams.insert(stream.to_owned(), tail);
        }
        Ok(self.streams.get_mut(stream).expect("just inserted"))
    }

    fn check_redaction(&self, redaction: &Redaction) -> Result<Record> {
        let seq = redaction.seq;
        if seq.0 >= self.applied_len {
            return Err(Error::invalid(format!(
                "cannot redact event {}: the log holds {} events that can be redacted",
                seq.0, self.applied_len
            )));
        }
        if self.redactions.contains(&seq) {
            return Err(Error::invalid(format!("event {} is already being redacted", seq.0)));
        }
        if self.previous.is_some_and(|previous| previous.redactions.contains(&seq)) {
            return Err(Error::invalid(format!("the payload of event {} is already redacted", seq.0)));
        }
        let record = read_record(self.store, seq)?;
        if let PayloadRef::Redacted { .. } = record.payload {
            return Err(Error::invalid(format!("the payload of event {} is already redacted", seq.0)));
        }
        Ok(record)
    }

    fn stage_event(&mut self, event: NewEvent) -> Appended {
        let seq = Seq(self.len);
        let tail = self.tail(&event.stream).expect("the stream's tail was loaded by its expectation");
        let stream_version = StreamVersion(tail.version().0 + 1);
        let salt = self.salts.next();
        let fields = EnvelopeFields {
            stream: &event.stream,
            event_id: event.event_id,
            event_type: &event.event_type,
            schema_version: event.schema_version,
            actor: &event.actor,
            role: &event.role,
        };
        let envelope = Envelope::new(
            &fields,
            seq,
            stream_version,
            self.recorded_at_us,
            self.last_hash,
            payload_hash(&salt, &event.payload),
        );
        let envelope_bytes = envelope.to_bytes();
        let event_hash = Envelope::hash(&envelope_bytes);

        let offset = self.payloads_start + self.payloads.len() as u64;
        self.payloads.extend_from_slice(&salt.0);
        let payload_at = self.payloads.len()..self.payloads.len() + event.payload.len();
        self.payloads.extend_from_slice(&event.payload);
        let len = u32::try_from(event.payload.len()).expect("payloads are within their limit");
        let record = Record { envelope: envelope_bytes, payload: PayloadRef::Stored { offset, len } };
        self.batch.put(keys::event(seq).to_vec(), encode(&record));
        self.batch.put(keys::event_id(&event.event_id).to_vec(), seq.0.to_be_bytes().to_vec());

        let tail = self.tail(&event.stream).expect("loaded above");
        if tail.seqs.len() as u64 == STREAM_CHUNK_EVENTS_MAX {
            tail.chunk_idx += 1;
            tail.seqs.clear();
        }
        tail.seqs.push(seq.0);
        tail.dirty = true;
        if tail.seqs.len() as u64 == STREAM_CHUNK_EVENTS_MAX {
            let key = keys::stream_chunk(&event.stream, tail.chunk_idx);
            let value = encode(&tail.seqs);
            tail.dirty = false;
            self.batch.put(key, value);
        }

        let (batch, new_nodes) = (&mut self.batch, &mut self.new_nodes);
        let leaf = merkle::leaf_hash(&event_hash);
        new_nodes.insert((0, seq.0), leaf);
        self.frontier.push(leaf, |node| {
            if node.level >= STORED_NODE_LEVEL_MIN {
                batch.put(keys::node(node.level, node.index).to_vec(), node.hash.0.to_vec());
            }
            new_nodes.insert((node.level, node.index), node.hash);
        });
        self.len += 1;
        self.last_hash = event_hash;
        let appended = Appended { seq, stream_version, event_hash };
        self.staged_ids.insert(
            event.event_id,
            StagedEvent { appended, stream: event.stream, event_type: event.event_type, payload_at },
        );
        appended
    }

    fn stage_redaction(&mut self, redaction: Redaction, record: Record) {
        let PayloadRef::Stored { offset, len } = record.payload else { unreachable!("checked not redacted") };
        let redacted = Record { envelope: record.envelope, payload: PayloadRef::Redacted { notice: redaction.notice } };
        self.batch.put(keys::event(redaction.seq).to_vec(), encode(&redacted));
        let scrub = Scrub { offset, len: SALT_BYTES + u64::from(len) };
        self.batch.put(keys::scrub(redaction.seq).to_vec(), encode(&scrub));
        self.scrubs.push((redaction.seq, scrub));
        self.redactions.insert(redaction.seq);
    }

    /// Writes the index chunks of every stream the group appended to.
    fn finish_streams(&mut self) {
        for (stream, tail) in &self.streams {
            if tail.dirty {
                self.batch.put(keys::stream_chunk(stream, tail.chunk_idx), encode(&tail.seqs));
            }
        }
    }
}

fn load_tail(store: &dyn Store, stream: &str) -> Result<StreamTail> {
    let last = store
        .last_in(&keys::stream_prefix(stream), &keys::stream_end(stream))
        .map_err(store_io("reading a stream index"))?;
    let Some((key, value)) = last else {
        return Ok(StreamTail { chunk_idx: 0, seqs: Vec::new(), dirty: false });
    };
    let idx_bytes: [u8; 4] = key[key.len() - 4..].try_into().expect("chunk keys end in 4 bytes");
    let seqs: Vec<u64> = decode("stream index chunk", &value)?;
    Ok(StreamTail { chunk_idx: u32::from_be_bytes(idx_bytes), seqs, dirty: false })
}

/// Checks everything about a batch that needs no reads: limits, names, and
/// that each stream written has exactly one expectation.
fn check_shape(batch: &AppendBatch) -> Result<()> {
    if batch.events.is_empty() && batch.redactions.is_empty() {
        return Err(Error::invalid("the batch has no events"));
    }
    if batch.events.len() > BATCH_EVENTS_MAX {
        return Err(Error::invalid(format!(
            "batch of {} events exceeds the limit of {BATCH_EVENTS_MAX}",
            batch.events.len()
        )));
    }
    let mut payload_bytes = 0usize;
    let mut ids = HashSet::with_capacity(batch.events.len());
    let expected_streams: HashSet<&str> = batch.expectations.iter().map(|(stream, _)| stream.as_str()).collect();
    for (event_idx, event) in batch.events.iter().enumerate() {
        let at = |error: Error| Error::invalid(format!("event {event_idx} of the batch: {error}"));
        check_text("stream", &event.stream, STREAM_BYTES_MAX).map_err(at)?;
        check_text("event type", &event.event_type, EVENT_TYPE_BYTES_MAX).map_err(at)?;
        check_text("actor", &event.actor, ACTOR_BYTES_MAX).map_err(at)?;
        check_text("role", &event.role, ROLE_BYTES_MAX).map_err(at)?;
        if event.payload.len() > EVENT_PAYLOAD_BYTES_MAX {
            return Err(at(Error::invalid(format!(
                "payload of {} bytes exceeds the limit of {EVENT_PAYLOAD_BYTES_MAX}",
                event.payload.len()
            ))));
        }
        payload_bytes += event.payload.len();
        if !ids.insert(event.event_id) {
            return Err(at(Error::invalid(format!("event id {} appears twice in the batch", event.event_id))));
        }
        if !expected_streams.contains(event.stream.as_str()) {
            return Err(at(Error::invalid(format!(
                "the batch writes to stream {} without an expected version for it",
                event.stream
            ))));
        }
    }
    if payload_bytes > BATCH_PAYLOAD_BYTES_MAX {
        return Err(Error::invalid(format!(
            "batch payloads of {payload_bytes} bytes exceed the limit of {BATCH_PAYLOAD_BYTES_MAX}"
        )));
    }
    let mut streams = HashSet::new();
    for (stream, _) in &batch.expectations {
        check_text("stream", stream, STREAM_BYTES_MAX)?;
        if !streams.insert(stream) {
            return Err(Error::invalid(format!("the batch states an expected version for stream {stream} twice")));
        }
    }
    if batch.redactions.len() > BATCH_REDACTIONS_MAX {
        return Err(Error::invalid(format!(
            "batch of {} redactions exceeds the limit of {BATCH_REDACTIONS_MAX}",
            batch.redactions.len()
        )));
    }
    for redaction in &batch.redactions {
        check_text("redaction notice", &redaction.notice, REDACTION_NOTICE_BYTES_MAX)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reads.

fn read_record(store: &dyn Store, seq: Seq) -> Result<Record> {
    let bytes = store
        .get(&keys::event(seq))
        .map_err(store_io("reading an event"))?
        .ok_or_else(|| Error::corrupt(format!("event {} is missing from the store", seq.0)))?;
    decode(&format!("record of event {}", seq.0), &bytes)
}

fn read_event(store: &dyn Store, seq: Seq) -> Result<Event> {
    let record = read_record(store, seq)?;
    event_from_record(store, seq, record, None)
}

/// Decodes a record and reads its payload; `window` is payload bytes
/// already read from the segment, with their offset.
fn event_from_record(store: &dyn Store, seq: Seq, record: Record, window: Option<(u64, &[u8])>) -> Result<Event> {
    let envelope =
        Envelope::from_bytes(&record.envelope).map_err(|error| Error::corrupt(format!("event {}: {error}", seq.0)))?;
    if envelope.seq() != seq {
        return Err(Error::corrupt(format!("event stored at {} says it is event {}", seq.0, envelope.seq().0)));
    }
    let hash = Envelope::hash(&record.envelope);
    let payload = match record.payload {
        PayloadRef::Redacted { notice } => Payload::Redacted { notice },
        PayloadRef::Stored { offset, len } => {
            if len as usize > EVENT_PAYLOAD_BYTES_MAX {
                return Err(Error::corrupt(format!(
                    "event {}: its record says its payload is {len} bytes, over the limit of {EVENT_PAYLOAD_BYTES_MAX}",
                    seq.0
                )));
            }
            let total = SALT_BYTES as usize + len as usize;
            let mut bytes = vec![0u8; total];
            match window {
                Some((start, window)) if offset >= start && offset - start + total as u64 <= window.len() as u64 => {
                    let from = (offset - start) as usize;
                    bytes.copy_from_slice(&window[from..from + total]);
                }
                _ => store.read_journal(offset, &mut bytes).map_err(store_io("reading a payload"))?,
            }
            let salt = Salt(bytes[..16].try_into().expect("16 bytes"));
            bytes.drain(..16);
            // Never hand out bytes that are not what was recorded.
            if payload_hash(&salt, &bytes) != envelope.payload_hash() {
                return Err(Error::corrupt(format!(
                    "event {}: its payload (journal offset {offset}, {len} bytes) does not match the salted hash \
                     its envelope records; the journal is damaged there",
                    seq.0
                )));
            }
            Payload::Present { salt, bytes }
        }
    };
    Ok(Event { envelope, envelope_bytes: record.envelope, hash, payload })
}

/// The span of the journal that holds every stored payload (salts
/// included) of `payloads`; `None` when all of them are redacted.
pub(crate) fn payload_span<'a>(payloads: impl Iterator<Item = &'a PayloadRef>) -> Option<(u64, u64)> {
    let (start, end) = payloads.fold((u64::MAX, 0), |(start, end), payload| match payload {
        PayloadRef::Stored { offset, len } => {
            (start.min(*offset), end.max(offset.saturating_add(SALT_BYTES + u64::from(*len))))
        }
        PayloadRef::Redacted { .. } => (start, end),
    });
    (start < end).then_some((start, end))
}

/// Largest span of the journal one read fetches in one go.
const READ_WINDOW_BYTES_MAX: u64 = 8 * 1024 * 1024;

impl LogReader {
    /// Number of durable events; also the size of the latest checkpoint.
    /// Waits while an acknowledged group is still being applied to the
    /// store (a group's time, about a millisecond), so that every read
    /// bounded by it shows what appenders were told is done.
    pub fn len(&self) -> u64 {
        let mut durable = self.shared.durable.lock().unwrap();
        while durable.len < durable.acknowledged && durable.failure.is_none() {
            durable = self.shared.durable_changed.wait(durable).unwrap();
        }
        durable.len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks the newest `n_events` events as a reader will see them (each
    /// payload against its salted hash, the chain between them, the head's
    /// last hash) and the latest checkpoint (its signature, and its root
    /// against the head's frontier): what opening checks before it serves.
    /// Checks the newest `TAIL_CHECK_EVENTS` events as a reader would see
    /// them (payload hashes, chain, head, latest checkpoint), and the
    /// journal frames that hold them, which once applied are otherwise read
    /// again only by `verify`.
    fn check_tail(self, head: &Head, frame_key: &[u8; 32], journal_path: &Path) -> (Result<()>, LogReader) {
        let checked = self
            .check_tail_of(head, TAIL_CHECK_EVENTS)
            .and_then(|()| self.check_tail_frames(head, TAIL_CHECK_EVENTS, frame_key, journal_path));
        (checked, self)
    }

    /// Finds the first frame that starts within the newest `n_events`
    /// events (a frame's first stored payload is right after its header),
    /// then checks every frame from there to the head's end of the journal.
    fn check_tail_frames(&self, head: &Head, n_events: u64, frame_key: &[u8; 32], journal_path: &Path) -> Result<()> {
        let store = self.store();
        let from = head.len.saturating_sub(n_events);
        // The first frame starts at offset 0 with event 0.
        let mut start = (from == 0).then_some((0, 0));
        for seq in from..head.len {
            if start.is_some() {
                break;
            }
            let value = store.get(&keys::event(Seq(seq))).map_err(store_io("reading events"))?;
            let Some(value) = value else { continue };
            let record: Record = decode(&format!("record of event {seq}"), &value)?;
            let PayloadRef::Stored { offset, .. } = record.payload else { continue };
            let Some(candidate) = offset.checked_sub(crate::journal::FRAME_HEADER_BYTES) else { continue };
            if crate::journal::starts_frame(&store, candidate, seq).map_err(store_io("reading the journal"))? {
                start = Some((candidate, seq));
                break;
            }
        }
        let Some((mut offset, mut seq)) = start else { return Ok(()) };
        while offset < head.journal_end {
            match crate::journal::examine(frame_key, &store, offset, seq)? {
                FrameAt::Frame(frame) if frame.end <= head.journal_end => {
                    offset = frame.end;
                    seq = frame.body.head.len;
                }
                FrameAt::Frame(_) => {
                    return Err(crate::journal::corruption(
                        journal_path,
                        offset,
                        seq,
                        "a frame runs past the head's end",
                    ));
                }
                FrameAt::End | FrameAt::Torn { .. } => {
                    let why = "the store holds events from here on, but the journal holds no complete frame";
                    return Err(crate::journal::corruption(journal_path, offset, seq, why));
                }
                FrameAt::Corrupt(why) => return Err(crate::journal::corruption(journal_path, offset, seq, &why)),
            }
        }
        Ok(())
    }

    fn check_tail_of(&self, head: &Head, n_events: u64) -> Result<()> {
        let from = head.len.saturating_sub(n_events);
        let events = self.read(Seq(from), n_events as usize)?;
        for pair in events.windows(2) {
            if pair[1].envelope.prev_hash() != pair[0].hash {
                return Err(Error::corrupt(format!(
                    "event {}: its previous event hash is not the hash of event {}",
                    pair[1].envelope.seq().0,
                    pair[0].envelope.seq().0
                )));
            }
        }
        if let Some(last) = events.last() {
            if last.hash != head.last_hash {
                return Err(Error::corrupt(format!(
                    "event {}: its hash {} is not the head's last event hash {}",
                    last.envelope.seq().0,
                    last.hash,
                    head.last_hash
                )));
            }
        }
        let latest = self.latest_checkpoint()?;
        let root = Frontier::from_parts(head.len, head.frontier.clone()).map(|frontier| frontier.root());
        if latest.checkpoint.tree_size != head.len || Some(latest.checkpoint.root) != root {
            return Err(Error::corrupt(format!(
                "the latest checkpoint (tree size {}) does not match the head (tree size {})",
                latest.checkpoint.tree_size, head.len
            )));
        }
        Ok(())
    }

    pub fn directory(&self) -> &Path {
        &self.shared.directory
    }

    pub fn verifier(&self) -> &NoteVerifier {
        &self.shared.verifier
    }

    pub(crate) fn store(&self) -> &dyn Store {
        self.shared.store.as_ref()
    }

    /// The event at `seq`, if durable.
    pub fn event(&self, seq: Seq) -> Result<Option<Event>> {
        if seq.0 >= self.len() {
            return Ok(None);
        }
        read_event(self.store(), seq).map(Some)
    }

    /// Up to `limit` (at most `READ_EVENTS_MAX`) durable events from `from` on.
    pub fn read(&self, from: Seq, limit: usize) -> Result<Vec<Event>> {
        let end = self.len().min(from.0.saturating_add(limit.min(READ_EVENTS_MAX) as u64));
        if from.0 >= end {
            return Ok(Vec::new());
        }
        let mut records = Vec::with_capacity((end - from.0) as usize);
        for (expected, item) in (from.0..end).zip(self.store().scan(&keys::event(from), &keys::event(Seq(end)))) {
            let (key, value) = item.map_err(store_io("reading events"))?;
            let seq = keys::parse_u64(&key).ok_or_else(|| Error::corrupt("malformed event key"))?;
            if seq != expected {
                return Err(Error::corrupt(format!("event {expected} is missing from the store")));
            }
            records.push(decode::<Record>(&format!("record of event {seq}"), &value)?);
        }
        if records.len() as u64 != end - from.0 {
            return Err(Error::corrupt(format!("event {} is missing from the store", from.0 + records.len() as u64)));
        }
        let window = self.payload_window(&records)?;
        let mut events = Vec::with_capacity(records.len());
        for (offset, record) in records.into_iter().enumerate() {
            let window = window.as_ref().map(|(start, bytes)| (*start, bytes.as_slice()));
            events.push(event_from_record(self.store(), Seq(from.0 + offset as u64), record, window)?);
        }
        Ok(events)
    }

    /// The payload bytes the records reference, read in one go when they
    /// lie close together (they do: payloads are appended in order).
    fn payload_window(&self, records: &[Record]) -> Result<Option<(u64, Vec<u8>)>> {
        let Some((start, end)) = payload_span(records.iter().map(|record| &record.payload)) else {
            return Ok(None);
        };
        if end - start > READ_WINDOW_BYTES_MAX {
            return Ok(None);
        }
        let mut bytes = vec![0u8; (end - start) as usize];
        self.store().read_journal(start, &mut bytes).map_err(store_io("reading payloads"))?;
        Ok(Some((start, bytes)))
    }

    /// The stream's current version (its number of durable events).
    pub fn stream_version(&self, stream: &str) -> Result<StreamVersion> {
        // The length first: it waits for what was acknowledged to be
        // applied, so the index read next holds at least that.
        check_text("stream", stream, STREAM_BYTES_MAX)?;
        let len = self.len();
        let tail = load_tail(self.store(), stream)?;
        // Seqs grow along a stream, so events not yet durable can only be
        // at the end of its last chunk.
        let undurable = tail.seqs.iter().filter(|seq| **seq >= len).count() as u64;
        Ok(StreamVersion(tail.version().0 - undurable))
    }

    /// Seqs of a stream's durable events from version `from` on.
    fn stream_seqs(&self, stream: &str, from: StreamVersion, limit: usize) -> Result<Vec<u64>> {
        // A name no event can have (too long for an index key, empty, or
        // with control characters) is refused here, not by a key's assert.
        check_text("stream", stream, STREAM_BYTES_MAX)?;
        let from_idx = from.0.max(1) - 1;
        let first_chunk = u32::try_from(from_idx / STREAM_CHUNK_EVENTS_MAX).unwrap_or(u32::MAX);
        let len = self.len();
        let mut seqs = Vec::new();
        let scan = self.store().scan(&keys::stream_chunk(stream, first_chunk), &keys::stream_end(stream));
        for (chunk_offset, item) in scan.enumerate() {
            let (_, value) = item.map_err(store_io("reading a stream index"))?;
            let chunk: Vec<u64> = decode("stream index chunk", &value)?;
            let skip = if chunk_offset == 0 { (from_idx % STREAM_CHUNK_EVENTS_MAX) as usize } else { 0 };
            for seq in chunk.into_iter().skip(skip) {
                if seq >= len || seqs.len() >= limit {
                    return Ok(seqs);
                }
                seqs.push(seq);
            }
        }
        Ok(seqs)
    }

    /// Up to `limit` (at most `READ_EVENTS_MAX`) of a stream's durable
    /// events, from stream version `from` (1 is the first event) on.
    pub fn read_stream(&self, stream: &str, from: StreamVersion, limit: usize) -> Result<Vec<Event>> {
        let seqs = self.stream_seqs(stream, from, limit.min(READ_EVENTS_MAX))?;
        seqs.into_iter().map(|seq| read_event(self.store(), Seq(seq))).collect()
    }

    /// Waits until the log holds more than `len` durable events, or until
    /// `timeout`; returns the durable length. Errors once the log has failed.
    pub fn wait_for_more(&self, len: u64, timeout: Duration) -> Result<u64> {
        let deadline = Instant::now() + timeout;
        let mut durable = self.shared.durable.lock().unwrap();
        loop {
            if durable.len > len {
                return Ok(durable.len);
            }
            if let Some(failure) = &durable.failure {
                return Err(Error::new(Kind::Failed(failure.clone())));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(durable.len);
            }
            durable = self.shared.durable_changed.wait_timeout(durable, deadline - now).unwrap().0;
        }
    }

    /// Every durable event from `from` on, then each new one once durable.
    pub fn subscribe(&self, from: Seq) -> Subscription {
        Subscription { reader: self.clone(), next: from, buffered: std::collections::VecDeque::new() }
    }

    // -- checkpoints and proofs --

    /// The latest signed checkpoint.
    pub fn latest_checkpoint(&self) -> Result<SignedCheckpoint> {
        let len = self.len();
        let (_, note) = self
            .store()
            .last_in(&keys::checkpoint(0), &keys::checkpoint(len + 1))
            .map_err(store_io("reading checkpoints"))?
            .ok_or_else(|| Error::corrupt("the log has no checkpoint"))?;
        self.open_note(note)
    }

    /// The signed checkpoint of exactly `tree_size`, if one was signed.
    pub fn checkpoint(&self, tree_size: u64) -> Result<Option<SignedCheckpoint>> {
        if tree_size > self.len() {
            return Ok(None);
        }
        match self.store().get(&keys::checkpoint(tree_size)).map_err(store_io("reading a checkpoint"))? {
            None => Ok(None),
            Some(note) => self.open_note(note).map(Some),
        }
    }

    /// Every signed checkpoint with a tree size in `from..=to`, oldest first.
    pub fn checkpoints(&self, from: u64, to: u64, limit: usize) -> Result<Vec<SignedCheckpoint>> {
        let to = to.min(self.len());
        if from > to {
            return Ok(Vec::new());
        }
        let scan = self.store().scan(&keys::checkpoint(from), &keys::checkpoint(to.saturating_add(1)));
        scan.take(limit.min(READ_EVENTS_MAX))
            .map(|item| self.open_note(item.map_err(store_io("reading checkpoints"))?.1))
            .collect()
    }

    fn open_note(&self, note: Vec<u8>) -> Result<SignedCheckpoint> {
        let note = String::from_utf8(note).map_err(|_| Error::corrupt("stored checkpoint is not UTF-8"))?;
        let checkpoint = self.shared.verifier.open(&note)?;
        Ok(SignedCheckpoint { note, checkpoint })
    }

    /// The root of the tree of the first `tree_size` events.
    pub fn root(&self, tree_size: u64) -> Result<TreeHash> {
        self.check_size(tree_size)?;
        if tree_size == 0 {
            return Ok(merkle::empty_root());
        }
        merkle::range_hash(self, 0, tree_size)
    }

    /// RFC 9162 inclusion proof of event `seq` in the tree of `tree_size`.
    pub fn inclusion_proof(&self, seq: Seq, tree_size: u64) -> Result<Vec<TreeHash>> {
        self.check_size(tree_size)?;
        merkle::inclusion_proof(self, seq.0, tree_size)
    }

    /// RFC 9162 consistency proof from tree size `old_size` to `new_size`.
    pub fn consistency_proof(&self, old_size: u64, new_size: u64) -> Result<Vec<TreeHash>> {
        self.check_size(new_size)?;
        merkle::consistency_proof(self, old_size, new_size)
    }

    fn check_size(&self, tree_size: u64) -> Result<()> {
        let len = self.len();
        if tree_size > len {
            return Err(Error::invalid(format!("tree size {tree_size} exceeds the log's {len} events")));
        }
        Ok(())
    }

    /// The envelope hash of every event in `start..end`, read in one scan.
    pub(crate) fn event_hashes(&self, start: u64, end: u64) -> Result<Vec<EventHash>> {
        let mut hashes = Vec::with_capacity((end - start) as usize);
        for item in self.store().scan(&keys::event(Seq(start)), &keys::event(Seq(end))) {
            let (key, value) = item.map_err(store_io("reading events"))?;
            let seq = keys::parse_u64(&key).ok_or_else(|| Error::corrupt("malformed event key"))?;
            let record: Record = decode(&format!("record of event {seq}"), &value)?;
            hashes.push(Envelope::hash(&record.envelope));
        }
        if hashes.len() as u64 != end - start {
            return Err(Error::corrupt(format!("events {start}..{end} are not all in the store")));
        }
        Ok(hashes)
    }
}

impl Subtrees for LogReader {
    fn subtree(&self, level: u8, index: u64) -> Result<TreeHash> {
        if level >= STORED_NODE_LEVEL_MIN {
            let bytes = self
                .store()
                .get(&keys::node(level, index))
                .map_err(store_io("reading a tree node"))?
                .ok_or_else(|| Error::corrupt(format!("tree node at level {level}, index {index} is missing")))?;
            let hash: [u8; 32] =
                bytes.as_slice().try_into().map_err(|_| Error::corrupt("tree node is not 32 bytes"))?;
            return Ok(TreeHash(hash));
        }
        let start = index << level;
        let hashes = self.event_hashes(start, start + (1u64 << level))?;
        let mut nodes: Vec<TreeHash> = hashes.iter().map(merkle::leaf_hash).collect();
        while nodes.len() > 1 {
            nodes = nodes.chunks_exact(2).map(|pair| merkle::node_hash(&pair[0], &pair[1])).collect();
        }
        Ok(nodes[0])
    }
}

/// Events in order from a position, waiting for new ones once caught up.
pub struct Subscription {
    reader: LogReader,
    next: Seq,
    buffered: std::collections::VecDeque<Event>,
}

impl Subscription {
    /// The next event, waiting at most `timeout` for one to become durable.
    pub fn next_timeout(&mut self, timeout: Duration) -> Result<Option<Event>> {
        if self.buffered.is_empty() {
            let len = self.reader.wait_for_more(self.next.0, timeout)?;
            if len > self.next.0 {
                self.buffered.extend(self.reader.read(self.next, 1_000)?);
            }
        }
        let event = self.buffered.pop_front();
        if let Some(event) = &event {
            assert_eq!(event.envelope.seq(), self.next);
            self.next = Seq(self.next.0 + 1);
        }
        Ok(event)
    }

    /// The position of the next event this subscription yields.
    pub fn position(&self) -> Seq {
        self.next
    }
}
