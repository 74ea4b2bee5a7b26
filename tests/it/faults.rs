//! A fault-injecting store wrapped around the real one fails a write, a
//! flush or an fdatasync at a random countdown, and a reference model
//! checks the log: an append that returned Ok is present after reopening,
//! with its content; nothing is present that was never appended; and the
//! log always verifies. A full disk (ENOSPC where the journal grows) is
//! refused with nothing written, and the log goes on. Kills leave writes in the page cache; this finds
//! what kills cannot.

use std::collections::HashMap;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use minutebook_log::store::{ScanIter, SledStore, Store, WriteBatch};
use minutebook_log::{EventId, Log, Seq};

use crate::support::{assert_verifies, event, payload, Rng, Scratch};

/// Whether a failing operation happened before it reported failure.
#[derive(Clone, Copy, Debug)]
enum FailMode {
    /// Nothing was done.
    Before,
    /// The operation was carried out, then reported failure (as fsync
    /// may, having written some of the data).
    After,
    /// Part of it was carried out: for a store batch, the first half of
    /// its operations (the store promises only that a prefix took effect).
    Partial,
}

struct FaultStore {
    inner: SledStore,
    countdown: Arc<AtomicI64>,
    mode: FailMode,
    /// While set, the disk is full.
    full: Arc<AtomicBool>,
}

impl FaultStore {
    /// Runs `operation` unless the countdown reaches zero with it.
    fn fallible(&self, what: &str, operation: impl FnOnce() -> io::Result<()>) -> io::Result<()> {
        if self.countdown.fetch_sub(1, Ordering::SeqCst) != 1 {
            return operation();
        }
        if let FailMode::After = self.mode {
            operation()?;
        }
        Err(io::Error::other(format!("injected failure of {what}")))
    }

    fn fallible_apply(&self, batch: &WriteBatch) -> io::Result<()> {
        if self.countdown.load(Ordering::SeqCst) == 1 && matches!(self.mode, FailMode::Partial) {
            let mut prefix = WriteBatch::default();
            for (key, value) in &batch.operations()[..batch.len() / 2] {
                match value {
                    Some(value) => prefix.put(key.clone(), value.clone()),
                    None => prefix.delete(key.clone()),
                }
            }
            self.inner.apply(&prefix)?;
        }
        self.fallible("apply", || self.inner.apply(batch))
    }
}

impl Store for FaultStore {
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_> {
        self.inner.scan(from, to)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.inner.last_in(from, to)
    }
    fn apply(&self, batch: &WriteBatch) -> io::Result<()> {
        self.fallible_apply(batch)
    }
    fn make_durable(&self) -> io::Result<()> {
        self.fallible("make_durable", || self.inner.make_durable())
    }
    fn reserve_journal(&self, end: u64) -> io::Result<()> {
        // Growing the journal is where a full disk shows: it fails with
        // ENOSPC, having written nothing of the frame.
        if self.full.load(Ordering::SeqCst) {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "injected: no space left on device"));
        }
        self.inner.reserve_journal(end)
    }
    fn write_journal(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.fallible("write_journal", || self.inner.write_journal(offset, bytes))
    }
    fn sync_journal(&self) -> io::Result<()> {
        self.fallible("sync_journal", || self.inner.sync_journal())
    }
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.inner.read_journal(offset, buffer)
    }
    fn journal_len(&self) -> io::Result<u64> {
        self.inner.journal_len()
    }
}

/// The reference model: every event ever attempted, and which were
/// acknowledged.
#[derive(Default)]
struct Model {
    attempted: HashMap<EventId, Vec<u8>>,
    acknowledged: Vec<(EventId, Seq)>,
    /// Refused as storage full: nothing of them was written.
    refused_full: Vec<EventId>,
    storage_full_refusals: u64,
}

impl Model {
    fn check(&self, log: &Log) {
        let mut present = HashMap::new();
        for stored in log.read(Seq(0), 10_000).unwrap() {
            let id = stored.envelope.event_id();
            let expected = self.attempted.get(&id).unwrap_or_else(|| panic!("event {id} was never appended"));
            assert_eq!(payload(&stored), expected.as_slice(), "event {id} has other content");
            present.insert(id, stored.envelope.seq());
        }
        for id in &self.refused_full {
            assert!(!present.contains_key(id), "event {id} was refused as storage full, yet recorded");
        }
        for (id, seq) in &self.acknowledged {
            assert_eq!(present.get(id), Some(seq), "acknowledged event {id} at {} is missing", seq.0);
        }
        assert_verifies(log);
    }
}

fn run_round(scratch: &Scratch, rng: &mut Rng, model: &mut Model) {
    let countdown = Arc::new(AtomicI64::new(1 + rng.below(40) as i64));
    let mode = [FailMode::Before, FailMode::After, FailMode::Partial][rng.below(3) as usize];
    let wrap_countdown = countdown.clone();
    let full = Arc::new(AtomicBool::new(false));
    let wrap_full = full.clone();
    let log = Log::open_with(&scratch.path, move |inner| {
        Box::new(FaultStore { inner, countdown: wrap_countdown, mode, full: wrap_full })
    });
    // The disk is full for two attempts from a random one on.
    let full_from = rng.below(6);
    // Opening may itself fail (recovery writes too): then it wrote nothing
    // that matters, and the next round reopens.
    let Ok(log) = log else { return };
    for attempt in 0..60u64 {
        full.store((full_from..full_from + 2).contains(&attempt), Ordering::SeqCst);
        let n_events = 1 + rng.below(4);
        let mut batch = minutebook_log::AppendBatch::new();
        let mut ids = Vec::new();
        for n in 0..n_events {
            let stream = format!("meeting/M-{}", rng.below(3));
            let bytes = format!("attempt {attempt} event {n} {}", rng.next()).into_bytes();
            let e = event(&stream, &bytes);
            model.attempted.insert(e.event_id, bytes);
            ids.push(e.event_id);
            batch = batch.expect(stream, minutebook_log::ExpectedVersion::Any).event(e);
            if rng.below(4) == 0 {
                break;
            }
        }
        match log.append(batch) {
            Ok(outcome) => {
                for (id, appended) in ids.iter().zip(&outcome.events) {
                    model.acknowledged.push((*id, appended.seq));
                }
            }
            // A full disk is an ordinary condition: the log goes on, and
            // the next append (the countdown has passed) succeeds.
            Err(error) if error.category() == minutebook_log::ErrorCategory::StorageFull => {
                model.refused_full.extend(ids);
                model.storage_full_refusals += 1;
            }
            Err(_) => break,
        }
    }
    drop(log);
    countdown.store(i64::MAX, Ordering::SeqCst);
}

#[test]
fn acknowledged_appends_survive_injected_storage_failures() {
    let mut rng = Rng::from_env_or_clock("faults");
    let scratch = Scratch::new();
    let mut model = Model::default();
    let rounds = if crate::support::slow_tests() { 120 } else { 25 };
    for _ in 0..rounds {
        run_round(&scratch, &mut rng, &mut model);
        let log = scratch.open();
        model.check(&log);
    }
    assert!(model.acknowledged.len() > 20, "too few appends were acknowledged to mean anything");
    assert!(model.storage_full_refusals > 0, "no append met a full disk");
}
