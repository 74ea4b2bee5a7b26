//! The data directory: its format file, keys and lock, opening and
//! recovering the store from the journal, torn writes and scrubs, and the
//! free space appends need.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::checkpoint::{Checkpoint, NoteSigner};
use crate::codec::{decode, encode, store_io, Head, PayloadRef, Scrub, SALT_BYTES};
use crate::envelope::{stored_payload_hash, Envelope};
use crate::error::{Error, Result};
use crate::journal::{all_zero_in_a_sector, FrameAt};
use crate::keys;
use crate::limits::EVENT_PAYLOAD_BYTES_MAX;
use crate::merkle;
use crate::store::{Store, WriteBatch};
use crate::types::{EventHash, Seq};

use super::stored::read_record;

/// The data directory format this code writes and reads.
pub const DATA_FORMAT_VERSION: u32 = 1;
pub const FORMAT_FILE: &str = "FORMAT";
pub const LOCK_FILE: &str = "LOCK";
pub const LOG_KEY_FILE: &str = "log.key";
pub const LOG_PUBLIC_KEY_FILE: &str = "log.pub";
pub(super) const FORMAT_PREFIX: &str = "minutebook data directory format ";

/// Context of the key that authenticates journal frames.
pub(crate) const JOURNAL_KEY_CONTEXT: &str = "minutebook 2026-11-26 journal frame checksum";

pub(super) fn write_new_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let context = format!("writing {}", path.display());
    let mut file =
        OpenOptions::new().write(true).create_new(true).mode(mode).open(path).map_err(|e| Error::io(&context, e))?;
    file.write_all(bytes).map_err(|e| Error::io(&context, e))?;
    file.sync_all().map_err(|e| Error::io(&context, e))
}

pub(super) fn sync_directory(directory: &Path) -> Result<()> {
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
pub(super) const LOCK_ATTEMPTS_MAX: u32 = 50;

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
pub(super) fn lock_directory(directory: &Path) -> Result<File> {
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
pub(super) fn recover(
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
pub(super) fn clear_store(store: &dyn Store) -> Result<()> {
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
pub(super) fn clear_torn(store: &dyn Store, directory: &Path, start: u64, end: u64) -> Result<()> {
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
pub(super) fn finish_scrubs(store: &dyn Store, journal_end: u64) -> Result<()> {
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
pub(super) fn is_payload_of(store: &dyn Store, seq: Seq, scrub: &Scrub, journal_end: u64) -> Result<bool> {
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
pub(super) fn scrub_payloads(store: &dyn Store, scrubs: &[(Seq, Scrub)]) -> Result<()> {
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

pub(super) fn now_us() -> i64 {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).expect("the clock is after 1970");
    i64::try_from(since_epoch.as_micros()).expect("the clock is before the year 294000")
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
pub(super) fn free_bytes(directory: &Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(directory)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// On opening: releases the space reserve when the disk is full (and says
/// how much was free), or makes it when there is room and it is missing.
/// Never fails: the reserve is a convenience, not a record.
pub(super) fn keep_space_reserve(directory: &Path) -> Option<u64> {
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
pub(super) fn check_free_space(directory: &Path) -> Result<()> {
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
