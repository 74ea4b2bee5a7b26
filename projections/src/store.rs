//! The projections kept on disk: the record saved in its own sled database
//! (`projections/` in the data directory) with the log position it
//! reflects, so that a restart catches up from there instead of from 0.
//!
//! The store is a cache of the log, never a source of truth: anything
//! wrong with it (another format version, a value that does not decode, a
//! position beyond the log) is answered by rebuilding from position 0. Each
//! catch-up saves what changed and the new position in one sled batch,
//! which sled applies whole or not at all, so a crash leaves a record and
//! a position that agree.
//!
//! Keys: `format`; `position` (u64 big-endian); `b/<body>`, `p/<person>`,
//! `m/<meeting>` (postcard of the entity); `s/<stream>` (u64 big-endian);
//! `u/<seq>` (why an event did not decode). The index from an entry's
//! event to its meeting and item is not saved: loading rebuilds it from
//! the meetings.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use minutebook_catalogue::{BodyId, MeetingId, PersonId};
use minutebook_log::{LogReader, Seq};

use crate::record::{catch_up_to, Body, Meeting, Person, Record, RECORD_PAGE_EVENTS};

/// The directory inside a data directory that holds the projections.
pub const PROJECTIONS_DIRECTORY: &str = "projections";
/// What the store holds under `format`; another value means rebuild.
pub const PROJECTIONS_FORMAT: &str = "minutebook projections 1";

/// How many times opening waits 10 ms for sled's own file lock.
const SLED_LOCK_ATTEMPTS_MAX: u32 = 300;

fn is_lock_held(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock || error.to_string().contains("could not acquire lock")
}

/// Opens sled in `path`. sled's threads may hold its file lock for a
/// moment after a store of this directory is dropped (a restart, a
/// rebuild): wait for it.
fn open_sled(path: &Path) -> Result<sled::Db, sled::Error> {
    let config = sled::Config::new().path(path).flush_every_ms(Some(1_000));
    let mut attempts = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(error)) if attempts < SLED_LOCK_ATTEMPTS_MAX && is_lock_held(&error) => {
                attempts += 1;
                std::thread::sleep(Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

/// How often a store following the log saves what changed.
const SAVE_INTERVAL: Duration = Duration::from_secs(1);

/// Pages of events folded between saves during a long catch-up.
const SAVE_EVERY_PAGES: u64 = 250;

/// Why the projections could not be read or saved.
#[derive(Debug)]
pub enum ProjectionError {
    Log(minutebook_log::Error),
    Store(String),
}

impl std::fmt::Display for ProjectionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProjectionError::Log(error) => write!(f, "{error}"),
            ProjectionError::Store(message) => write!(f, "projections store: {message}"),
        }
    }
}

impl std::error::Error for ProjectionError {}

impl From<minutebook_log::Error> for ProjectionError {
    fn from(error: minutebook_log::Error) -> ProjectionError {
        ProjectionError::Log(error)
    }
}

fn store_error(context: &str) -> impl Fn(sled::Error) -> ProjectionError + '_ {
    move |error| ProjectionError::Store(format!("{context}: {error}"))
}

/// The saved record, loaded and kept up with the log.
pub struct Projections {
    db: sled::Db,
    path: PathBuf,
    record: Record,
    saved_at: std::time::Instant,
}

impl Drop for Projections {
    fn drop(&mut self) {
        // Best effort: what is not saved is caught up from the log.
        let _ = self.save();
        let _ = self.db.flush();
    }
}

impl Projections {
    /// Opens (or creates) the store in `data_directory` and loads the
    /// record; a store that cannot be read is emptied, to be rebuilt.
    pub fn open(data_directory: &Path) -> Result<Projections, ProjectionError> {
        let path = data_directory.join(PROJECTIONS_DIRECTORY);
        minutebook_log::store::remove_unfinished_snapshots(&path)
            .map_err(|error| ProjectionError::Store(format!("opening: {error}")))?;
        let db = match open_sled(&path) {
            Ok(db) => db,
            // The store is only a cache of the log: one whose files sled
            // cannot read is moved aside (never deleted) and rebuilt.
            Err(sled::Error::Corruption { .. }) | Err(sled::Error::Unsupported(_)) => {
                minutebook_log::store::move_aside(data_directory, PROJECTIONS_DIRECTORY, "damaged")
                    .map_err(|error| ProjectionError::Store(format!("moving a damaged store aside: {error}")))?;
                open_sled(&path).map_err(store_error("opening"))?
            }
            Err(error) => return Err(store_error("opening")(error)),
        };
        let record = match load(&db) {
            Ok(Some(record)) => record,
            Ok(None) | Err(_) => {
                clear(&db)?;
                Record::new()
            }
        };
        Ok(Projections { db, path, record, saved_at: std::time::Instant::now() })
    }

    pub fn record(&self) -> &Record {
        &self.record
    }

    /// Forgets the record in memory and loads the one last saved. After a
    /// fold that stopped half-way (a panic while the record was held),
    /// what is in memory cannot be trusted; what was saved can, for every
    /// save is one batch with its position. The next catch-up folds the
    /// rest again.
    pub fn reload(&mut self) -> Result<(), ProjectionError> {
        self.record = match load(&self.db) {
            Ok(Some(record)) => record,
            Ok(None) | Err(_) => {
                clear(&self.db)?;
                Record::new()
            }
        };
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Applies every durable event past the saved position and saves what
    /// changed. A store ahead of the log (restored from elsewhere) is
    /// rebuilt.
    ///
    /// While following the log one command at a time, what changed is
    /// saved at most once a second (and when the store is dropped or
    /// flushed): the store is a cache, and a restart catches up from the
    /// position last saved.
    pub fn catch_up(&mut self, reader: &LogReader) -> Result<Seq, ProjectionError> {
        let len = reader.len();
        let position = self.record.position();
        if position.0 == len {
            return Ok(position);
        }
        if position.0 > len {
            return self.rebuild(reader, &mut |_, _| {});
        }
        if len - position.0 > SAVE_EVERY_PAGES * RECORD_PAGE_EVENTS as u64 {
            return self.catch_up_with_progress(reader, &mut |_, _| {});
        }
        let position = catch_up_to(reader, &mut self.record, len)?;
        if self.saved_at.elapsed() >= SAVE_INTERVAL {
            self.save()?;
        }
        Ok(position)
    }

    fn catch_up_with_progress(
        &mut self,
        reader: &LogReader,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Seq, ProjectionError> {
        let total = reader.len();
        loop {
            let from = self.record.position().0;
            // Save every so many pages, so that a long catch-up shows
            // progress and a crash loses little, while an entity changed
            // throughout (a meeting's events are close together) is
            // written about once.
            let end = from.saturating_add(SAVE_EVERY_PAGES * RECORD_PAGE_EVENTS as u64).min(total);
            let position = catch_up_to(reader, &mut self.record, end)?;
            self.save()?;
            progress(position.0, total);
            if position.0 >= total || position.0 == from {
                return Ok(position);
            }
        }
    }

    /// Empties the store and folds the whole log again from position 0.
    pub fn rebuild(&mut self, reader: &LogReader, progress: &mut dyn FnMut(u64, u64)) -> Result<Seq, ProjectionError> {
        clear(&self.db)?;
        self.record = Record::new();
        self.catch_up_with_progress(reader, progress)
    }

    /// Waits up to `timeout` for new events, then catches up: call it in a
    /// loop to follow the log while running.
    pub fn follow(&mut self, reader: &LogReader, timeout: Duration) -> Result<Seq, ProjectionError> {
        reader.wait_for_more(self.record.position().0, timeout)?;
        self.catch_up(reader)
    }

    /// Writes what changed since the last save, with the position, in one
    /// batch.
    fn save(&mut self) -> Result<(), ProjectionError> {
        self.saved_at = std::time::Instant::now();
        let dirty = std::mem::take(&mut self.record.dirty.0);
        let mut batch = sled::Batch::default();
        for id in &dirty.bodies {
            put(&mut batch, format!("b/{id}").as_bytes(), self.record.bodies.get(id));
        }
        for id in &dirty.people {
            put(&mut batch, format!("p/{id}").as_bytes(), self.record.people.get(id));
        }
        for id in &dirty.meetings {
            put(&mut batch, format!("m/{id}").as_bytes(), self.record.meetings.get(id));
        }
        let streams = self.record.streams();
        for stream in &dirty.streams {
            let version = streams.get(stream).copied().unwrap_or(0);
            batch.insert(format!("s/{stream}").into_bytes(), version.to_be_bytes().to_vec());
        }
        if let Some(from) = dirty.undecodable_from {
            for (seq, why) in &self.record.undecodable[from..] {
                batch.insert(seq_key(b"u/", *seq), why.as_bytes());
            }
        }
        batch.insert(b"position".to_vec(), self.record.position().0.to_be_bytes().to_vec());
        self.db.apply_batch(batch).map_err(store_error("saving"))
    }

    /// Saves what changed and writes the store to disk.
    pub fn flush(&mut self) -> Result<(), ProjectionError> {
        self.save()?;
        self.db.flush().map(drop).map_err(store_error("flushing"))
    }
}

fn seq_key(prefix: &[u8], seq: Seq) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&seq.0.to_be_bytes());
    key
}

fn put<T: serde::Serialize>(batch: &mut sled::Batch, key: &[u8], value: Option<&T>) {
    match value {
        Some(value) => batch.insert(key, postcard::to_stdvec(value).expect("a projection always encodes")),
        None => batch.remove(key),
    }
}

fn clear(db: &sled::Db) -> Result<(), ProjectionError> {
    db.clear().map_err(store_error("clearing"))?;
    db.insert("format", PROJECTIONS_FORMAT).map_err(store_error("writing the format"))?;
    Ok(())
}

/// The saved record, None when the store is new or of another format, or
/// an error naming what did not decode.
fn load(db: &sled::Db) -> Result<Option<Record>, String> {
    let format = db.get("format").map_err(|e| e.to_string())?;
    if format.as_deref() != Some(PROJECTIONS_FORMAT.as_bytes()) {
        return Ok(None);
    }
    let Some(position) = db.get("position").map_err(|e| e.to_string())? else {
        return Ok(None);
    };
    let position = u64::from_be_bytes(position.as_ref().try_into().map_err(|_| "position is not 8 bytes")?);
    let bodies: BTreeMap<BodyId, Body> = load_map(db, b"b/")?;
    let people: BTreeMap<PersonId, Person> = load_map(db, b"p/")?;
    let meetings: BTreeMap<MeetingId, Meeting> = load_map(db, b"m/")?;
    let mut streams = HashMap::new();
    for item in db.scan_prefix(b"s/") {
        let (key, value) = item.map_err(|e| e.to_string())?;
        let stream = String::from_utf8(key[2..].to_vec()).map_err(|e| e.to_string())?;
        let version = u64::from_be_bytes(value.as_ref().try_into().map_err(|_| "a stream version is not 8 bytes")?);
        streams.insert(stream, version);
    }
    let mut undecodable = Vec::new();
    for item in db.scan_prefix(b"u/") {
        let (key, value) = item.map_err(|e| e.to_string())?;
        let seq = Seq(u64::from_be_bytes(key[2..].try_into().map_err(|_| "a key is not 8 bytes")?));
        undecodable.push((seq, String::from_utf8_lossy(&value).into_owned()));
    }
    Ok(Some(Record::from_parts(position, streams, bodies, people, meetings, undecodable)))
}

fn load_map<K: Ord, V: serde::de::DeserializeOwned + HasId<K>>(
    db: &sled::Db,
    prefix: &[u8],
) -> Result<BTreeMap<K, V>, String> {
    let mut map = BTreeMap::new();
    for item in db.scan_prefix(prefix) {
        let (_, value) = item.map_err(|e| e.to_string())?;
        let value: V = postcard::from_bytes(&value).map_err(|e| e.to_string())?;
        map.insert(value.id(), value);
    }
    Ok(map)
}

trait HasId<K> {
    fn id(&self) -> K;
}

impl HasId<BodyId> for Body {
    fn id(&self) -> BodyId {
        self.id.clone()
    }
}

impl HasId<PersonId> for Person {
    fn id(&self) -> PersonId {
        self.id.clone()
    }
}

impl HasId<MeetingId> for Meeting {
    fn id(&self) -> MeetingId {
        self.id.clone()
    }
}
