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
//!
//! This module holds `Log` and what opening found, and re-exports what the
//! rest of the crate uses; its parts hold everything else. No part imports
//! this module, and none imports a part that imports it back: what several
//! parts share lives in the leaves `shared` (the store and the durable
//! length), `append` (batches and outcomes) and `stored` (the store's
//! records decoded), so that the modules' uses form no cycle (.ci/modules
//! checks it).

mod append;
mod applier;
mod directory;
mod group;
mod reader;
mod shared;
mod stored;
mod writer;

pub use self::append::{AppendBatch, AppendOutcome, Appended, NewEvent, Redaction};
pub(crate) use self::directory::{check_format, frame_batch, genesis, read_signer, take_lock, JOURNAL_KEY_CONTEXT};
pub use self::directory::{
    DATA_FORMAT_VERSION, DISK_FREE_BYTES_MIN, FORMAT_FILE, LOCK_FILE, LOG_KEY_FILE, LOG_PUBLIC_KEY_FILE,
    QUARANTINE_DIR, SPACE_RESERVE_BYTES, SPACE_RESERVE_FILE,
};
pub use self::reader::{LogReader, SignedCheckpoint, Subscription};
pub(crate) use self::shared::Shared;
pub(crate) use self::stored::payload_span;
pub use self::stored::{Event, Payload, STORED_NODE_LEVEL_MIN};

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::checkpoint::{check_origin, NoteSigner};
use crate::codec::store_io;
use crate::error::{Error, ErrorCategory, Kind, Result};
use crate::limits::QUEUE_REQUESTS_MAX;
use crate::merkle::Frontier;
use crate::store::{SledStore, Store, JOURNAL_FILE};

use self::directory::{
    finish_scrubs, keep_space_reserve, lock_directory, recover, sync_directory, write_new_file, FORMAT_PREFIX,
};
use self::writer::{Request, Writer};

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
