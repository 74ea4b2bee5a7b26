//! Power loss, not only process death. A SIGKILL (crash.rs) leaves every
//! write in the page cache, which the kernel still writes out, so it cannot
//! show a missing or misplaced fdatasync; a power cut can. Here a store
//! wrapped around the real one keeps track of what a power cut would keep
//! and what it might lose, cuts the power after a random number of
//! operations, and then puts on disk a state that such a cut could have
//! left. The log is reopened and checked against a reference model: every
//! acknowledged append is there with its content, nothing is there that
//! was never appended, opening wrote nothing to the journal but zeros over
//! a redacted payload, and the log verifies. Opening must accept every
//! state a power cut can leave: one it refuses is a failure, reported with
//! the pattern of sectors that caused it. (redb's and TigerBeetle's
//! storage fault simulators work the same way.)
//!
//! The model of the disk, after docs/LOG-FORMAT.md ("What we assume of the
//! disk"):
//!
//! - **The journal.** A `write_journal` is volatile until a
//!   `sync_journal` returns. After a cut, each 512-byte sector that
//!   volatile writes touched holds, independently of every other sector,
//!   its bytes as of the last sync or its bytes after some prefix, in
//!   order, of the writes that touched it (the page cache writes a page
//!   out as it is at that moment). A sector is never half written (the
//!   journal's torn-write rule relies on that unit, `SECTOR_BYTES` in
//!   log/src/journal.rs), and bytes that no volatile write touched never
//!   change (powersafe overwrite). Each cut draws one of four patterns:
//!   nothing in flight reached the disk, all of it did, each sector did or
//!   not at random, or a prefix in write order did (the drive wrote
//!   sequentially until the power went).
//!   Unwritten bytes are zeros because the journal grows by written zeros
//!   and a torn write is zeroed (and synced) before a frame goes over it.
//! - **The journal's length** is durable once `write_journal` returns:
//!   the store grows the file with written zeros and fsyncs it before it
//!   writes a frame there. A cut in the middle of that growth is not
//!   modelled; it leaves a shorter file of zeros past the last frame,
//!   which the journal reads as its end.
//! - **The store.** Only the `Store` contract is relied on, not sled: after
//!   a cut the store holds what `make_durable` last made durable plus some
//!   prefix (from none to all) of the operations applied since. The test
//!   rebuilds sled/ in exactly such a state, or deletes it, since the store
//!   is derived from the journal and opening rebuilds it. What sled does
//!   on a power cut is sled's business.
//! - **Other files** (FORMAT, keys, quarantine/) are written whole and
//!   fsynced outside the `Store` trait, and are left as they are.
//!
//! The cut comes after a random number of mutating operations (journal
//! writes and syncs, store applies and flushes), those of opening
//! included. The operation that the cut interrupts may have done any part
//! of its work; every later one fails and does nothing, and the log is
//! dropped. An append that returned Ok is acknowledged and must survive
//! every later cut; so must an event or a redaction seen after a reopen,
//! which is on disk for good. A negative control, a store that answers a
//! journal sync without making anything durable, shows that the check
//! catches a lost acknowledged event.
//!
//! Each seed is a fresh data directory taken through `CUTS_PER_SEED` cuts:
//! 4 seeds (32 cuts) in the normal run, 64 (512 cuts) with
//! RUN_SLOW_TESTS. A failure names its seed and every cut since the last
//! checked reopen; MINUTEBOOK_TEST_SEED=<seed> runs that seed alone.
//!
//! The states the run found refused are kept as checks of their own at
//! the end: a last frame that lost one sector, sector by sector, and a
//! redaction's scrub cut short.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use minutebook_log::store::{KeyValue, ScanIter, SledStore, Store, WriteBatch, JOURNAL_FILE, SLED_DIR};
use minutebook_log::{AppendBatch, EventId, ExpectedVersion, Log, Payload, Seq};

use crate::support::{copy_dir, event, journal_frames, slow_tests, FrameSpan, Rng, Scratch};

/// The unit a disk writes whole, as the journal's torn-write rule assumes.
const SECTOR_BYTES: u64 = 512;
/// Salt bytes before each payload in the journal.
const SALT_BYTES: u64 = 16;
/// Power cuts per seed: each seed is a fresh data directory.
const CUTS_PER_SEED: usize = 8;
const SEEDS_NORMAL: usize = 4;
const SEEDS_SLOW: usize = 64;
/// Appends tried between two power cuts, at the most.
const APPENDS_PER_CUT_MAX: u64 = 12;
/// Mutating store operations before the cut, at the most: about three per
/// append (write, sync, apply), and a few while opening.
const OPS_BEFORE_CUT_MAX: u64 = 3 * APPENDS_PER_CUT_MAX + 6;
/// Appends that may be needed to start a frame at a chosen place in a
/// sector.
const APPENDS_TO_ALIGN_MAX: usize = 40;

// ---------------------------------------------------------------------------
// The disk: what a power cut keeps and what it may lose.

/// The data directory's journal and store as a power cut would find them.
struct Disk {
    powered: bool,
    /// Mutating operations left before the power is cut.
    ops_until_cut: u64,
    /// The journal's bytes as of its last sync (its whole length).
    journal_durable: Vec<u8>,
    /// Journal writes since the last sync, in order.
    journal_volatile: Vec<(u64, Vec<u8>)>,
    /// Every journal write since the wrapper was made, durable or not.
    journal_writes: Vec<(u64, Vec<u8>)>,
    /// The store as of its last `make_durable`.
    store_durable: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Store operations applied since, in order.
    store_volatile: Vec<(Vec<u8>, Option<Vec<u8>>)>,
}

/// Whether the power lasts for one more operation.
enum Power {
    On,
    /// It goes during this operation, which may have done any part of its
    /// work.
    CutNow,
    Off,
}

impl Disk {
    fn power_for_next_operation(&mut self) -> Power {
        if !self.powered {
            return Power::Off;
        }
        self.ops_until_cut -= 1;
        if self.ops_until_cut > 0 {
            return Power::On;
        }
        self.powered = false;
        Power::CutNow
    }

    fn sync_journal(&mut self) {
        for (offset, bytes) in self.journal_volatile.drain(..) {
            let start = offset as usize;
            self.journal_durable[start..start + bytes.len()].copy_from_slice(&bytes);
        }
    }

    fn make_store_durable(&mut self) {
        for (key, value) in self.store_volatile.drain(..) {
            match value {
                Some(value) => self.store_durable.insert(key, value),
                None => self.store_durable.remove(&key),
            };
        }
    }
}

/// What `sync_journal` does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Syncs {
    /// Makes every journal write before it durable, as it should.
    Honestly,
    /// Answers Ok and makes nothing durable: the negative control.
    Never,
}

/// The real store, whose mutating operations also tell the `Disk`.
struct PowerLossStore {
    inner: SledStore,
    disk: Arc<Mutex<Disk>>,
    syncs: Syncs,
}

fn power_cut() -> io::Error {
    io::Error::other("the power is cut")
}

impl PowerLossStore {
    /// Wraps a store that was just opened, whose files are all durable.
    fn new(inner: SledStore, disk: &Arc<Mutex<Disk>>, syncs: Syncs) -> PowerLossStore {
        let journal_len = inner.journal_len().expect("journal length");
        let mut journal = vec![0u8; journal_len as usize];
        inner.read_journal(0, &mut journal).expect("read the journal");
        let store: BTreeMap<_, _> = inner.scan(&[], &[0xff]).map(|item| item.expect("scan the store")).collect();
        {
            let mut disk = disk.lock().unwrap();
            disk.journal_durable = journal;
            disk.store_durable = store;
        }
        PowerLossStore { inner, disk: Arc::clone(disk), syncs }
    }

    fn disk(&self) -> MutexGuard<'_, Disk> {
        self.disk.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A write, which a cut may interrupt having done any part of it: it
    /// runs and is recorded as volatile, then fails if the power went.
    fn write(&self, write: impl FnOnce(&mut Disk) -> io::Result<()>) -> io::Result<()> {
        let mut disk = self.disk();
        let power = disk.power_for_next_operation();
        if let Power::Off = power {
            return Err(power_cut());
        }
        write(&mut disk)?;
        match power {
            Power::On => Ok(()),
            Power::CutNow | Power::Off => Err(power_cut()),
        }
    }

    /// A sync, which makes anything durable only if it returns before the
    /// power goes.
    fn sync(&self, sync: impl FnOnce(&mut Disk) -> io::Result<()>) -> io::Result<()> {
        let mut disk = self.disk();
        let Power::On = disk.power_for_next_operation() else { return Err(power_cut()) };
        sync(&mut disk)
    }
}

// Each mutating operation holds the disk's lock while it runs (see `write`
// and `sync`), so that the order the disk records is the order the store
// saw.
impl Store for PowerLossStore {
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.inner.get(key)
    }
    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_> {
        self.inner.scan(from, to)
    }
    fn visit(&self, from: &[u8], to: &[u8], visit: &mut dyn FnMut(&[u8], &[u8]) -> bool) -> io::Result<()> {
        self.inner.visit(from, to, visit)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<KeyValue>> {
        self.inner.last_in(from, to)
    }

    fn apply(&self, batch: &WriteBatch) -> io::Result<()> {
        self.write(|disk| {
            self.inner.apply(batch)?;
            disk.store_volatile.extend(batch.operations().iter().cloned());
            Ok(())
        })
    }

    fn make_durable(&self) -> io::Result<()> {
        self.sync(|disk| {
            self.inner.make_durable()?;
            disk.make_store_durable();
            Ok(())
        })
    }

    fn write_journal(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.write(|disk| {
            self.inner.write_journal(offset, bytes)?;
            // The store grew the file with zeros and fsynced it before
            // writing.
            let journal_len = self.inner.journal_len()? as usize;
            if disk.journal_durable.len() < journal_len {
                disk.journal_durable.resize(journal_len, 0);
            }
            disk.journal_volatile.push((offset, bytes.to_vec()));
            disk.journal_writes.push((offset, bytes.to_vec()));
            Ok(())
        })
    }

    fn sync_journal(&self) -> io::Result<()> {
        self.sync(|disk| {
            if self.syncs == Syncs::Honestly {
                self.inner.sync_journal()?;
                disk.sync_journal();
            }
            Ok(())
        })
    }

    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.inner.read_journal(offset, buffer)
    }
    fn journal_len(&self) -> io::Result<u64> {
        self.inner.journal_len()
    }
}

// ---------------------------------------------------------------------------
// The state a power cut leaves.

/// Which of the journal writes in flight a cut lets reach the disk.
#[derive(Clone, Copy, Debug)]
enum Reached {
    Nothing,
    Everything,
    /// Each sector, independently, with this chance in percent.
    EachSector(u64),
    /// Every sector in write order up to a point.
    WritePrefix,
}

/// What a cut leaves of the store.
#[derive(Clone, Copy, Debug)]
enum StoreLeft {
    /// sled/ is gone: opening rebuilds it from the journal.
    Nothing,
    /// What was durable, and this many of the operations applied since.
    DurableAnd(usize),
}

/// A state of the data directory that a power cut can leave.
struct CutState {
    /// Bytes of every journal sector a volatile write touched.
    journal_sectors: Vec<(u64, Vec<u8>)>,
    store: BTreeMap<Vec<u8>, Vec<u8>>,
    store_left: StoreLeft,
    /// What was in flight and what reached the disk, to name a failure.
    description: String,
}

/// The sectors the volatile writes touch, each with the writes that touch
/// it, in write order.
fn touched_sectors(volatile: &[(u64, Vec<u8>)]) -> BTreeMap<u64, Vec<usize>> {
    let mut sectors: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (write_idx, (offset, bytes)) in volatile.iter().enumerate() {
        if bytes.is_empty() {
            continue;
        }
        for sector in offset / SECTOR_BYTES..=(offset + bytes.len() as u64 - 1) / SECTOR_BYTES {
            sectors.entry(sector).or_default().push(write_idx);
        }
    }
    sectors
}

/// For each touched sector, how many of the writes that touch it (a prefix
/// of them) reached the disk.
fn writes_reached(
    reached: Reached,
    volatile: &[(u64, Vec<u8>)],
    sectors: &BTreeMap<u64, Vec<usize>>,
    rng: &mut Rng,
) -> BTreeMap<u64, usize> {
    // For `WritePrefix`: the write the power stopped, and how many of its
    // sectors it had written.
    let stopped_write = rng.below(volatile.len().max(1) as u64) as usize;
    let stopped_sectors = volatile.get(stopped_write).map_or(0, |(offset, bytes)| {
        let n_sectors = (offset + bytes.len() as u64).div_ceil(SECTOR_BYTES) - offset / SECTOR_BYTES;
        rng.below(n_sectors + 1)
    });
    let mut kept = BTreeMap::new();
    for (sector, writes) in sectors {
        let n_kept = match reached {
            Reached::Nothing => 0,
            Reached::Everything => writes.len(),
            Reached::EachSector(percent) if rng.below(100) < percent => {
                // Mostly the page as last written; sometimes as it was
                // between two writes.
                if writes.len() > 1 && rng.below(4) == 0 {
                    1 + rng.below(writes.len() as u64) as usize
                } else {
                    writes.len()
                }
            }
            Reached::EachSector(_) => 0,
            Reached::WritePrefix => {
                let written = |write_idx: usize| {
                    let first_sector = volatile[write_idx].0 / SECTOR_BYTES;
                    write_idx < stopped_write || (write_idx == stopped_write && sector - first_sector < stopped_sectors)
                };
                writes.iter().take_while(|write_idx| written(**write_idx)).count()
            }
        };
        kept.insert(*sector, n_kept);
    }
    kept
}

/// Copies the part of `write` that falls in the sector starting at `start`.
fn overlay(sector: &mut [u8], start: u64, write: &(u64, Vec<u8>)) {
    let (offset, bytes) = (write.0, &write.1);
    let from = start.max(offset);
    let to = (start + SECTOR_BYTES).min(offset + bytes.len() as u64);
    if from < to {
        sector[(from - start) as usize..(to - start) as usize]
            .copy_from_slice(&bytes[(from - offset) as usize..(to - offset) as usize]);
    }
}

/// Draws a state that a power cut of `disk` could leave.
fn cut_state(disk: &Disk, rng: &mut Rng) -> CutState {
    let reached = match rng.below(8) {
        0 => Reached::Nothing,
        1 => Reached::Everything,
        2..=4 => Reached::EachSector([10, 50, 90][rng.below(3) as usize]),
        _ => Reached::WritePrefix,
    };
    let volatile = &disk.journal_volatile;
    let sectors = touched_sectors(volatile);
    let kept = writes_reached(reached, volatile, &sectors, rng);
    let mut journal_sectors = Vec::with_capacity(sectors.len());
    for (sector, writes) in &sectors {
        let start = sector * SECTOR_BYTES;
        let mut bytes = disk.journal_durable[start as usize..(start + SECTOR_BYTES) as usize].to_vec();
        for write_idx in &writes[..kept[sector]] {
            overlay(&mut bytes, start, &volatile[*write_idx]);
        }
        journal_sectors.push((start, bytes));
    }
    let n_ops = disk.store_volatile.len() as u64;
    let store_left = match rng.below(6) {
        0 => StoreLeft::Nothing,
        1 => StoreLeft::DurableAnd(0),
        2 => StoreLeft::DurableAnd(n_ops as usize),
        _ => StoreLeft::DurableAnd(rng.below(n_ops + 1) as usize),
    };
    let mut store = disk.store_durable.clone();
    if let StoreLeft::DurableAnd(n_kept) = store_left {
        for (key, value) in &disk.store_volatile[..n_kept] {
            match value {
                Some(value) => store.insert(key.clone(), value.clone()),
                None => store.remove(key),
            };
        }
    }
    let description = describe_cut(reached, volatile, &sectors, &kept, store_left, n_ops);
    CutState { journal_sectors, store, store_left, description }
}

/// The writes in flight and, sector by sector, how many reached the disk.
fn describe_cut(
    reached: Reached,
    volatile: &[(u64, Vec<u8>)],
    sectors: &BTreeMap<u64, Vec<usize>>,
    kept: &BTreeMap<u64, usize>,
    store_left: StoreLeft,
    n_store_ops: u64,
) -> String {
    let writes: Vec<String> = volatile
        .iter()
        .map(|(offset, bytes)| {
            let kind = if bytes.starts_with(b"mbframe1") { "frame" } else { "other" };
            format!("{kind} {offset}..{}", offset + bytes.len() as u64)
        })
        .collect();
    let sector_list: Vec<String> = sectors
        .iter()
        .map(|(sector, writes)| {
            let start = sector * SECTOR_BYTES;
            format!("{start}..{}: {} of {}", start + SECTOR_BYTES, kept[sector], writes.len())
        })
        .collect();
    format!(
        "journal writes in flight: [{}]; reached the disk ({reached:?}), per sector, writes of those touching it: [{}]; \
         store left: {store_left:?} of {n_store_ops} operations applied since it was last durable",
        writes.join(", "),
        sector_list.join(", ")
    )
}

/// Puts the state on disk, in place of what the dropped log left.
fn put_on_disk(directory: &Path, state: &CutState) {
    let journal = std::fs::OpenOptions::new().write(true).open(directory.join(JOURNAL_FILE)).expect("open journal");
    for (offset, bytes) in &state.journal_sectors {
        journal.write_all_at(bytes, *offset).expect("write a journal sector");
    }
    journal.sync_all().expect("sync the journal");
    let sled_dir = directory.join(SLED_DIR);
    match std::fs::remove_dir_all(&sled_dir) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => panic!("removing {}: {error}", sled_dir.display()),
    }
    if let StoreLeft::Nothing = state.store_left {
        return;
    }
    let store = SledStore::open(directory).expect("make a store");
    let mut batch = WriteBatch::default();
    for (key, value) in &state.store {
        batch.put(key.clone(), value.clone());
    }
    store.apply(&batch).expect("fill the store");
    store.make_durable().expect("flush the store");
}

// ---------------------------------------------------------------------------
// The reference model and its check.

/// What the check found wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Broken {
    /// Opening refused a state that a power cut can leave.
    OpenRefused,
    /// An append failed while the disk worked.
    AppendRefused,
    /// An acknowledged (or already seen) event or redaction is gone.
    Lost,
    /// The log holds an event, content or redaction that nobody appended.
    Invented,
    /// Opening wrote to the journal other than zeros over a redacted payload.
    JournalChanged,
    /// The reopened log does not verify.
    Unverified,
}

struct Finding {
    broken: Broken,
    detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.broken, self.detail)
    }
}

fn finding(broken: Broken, detail: String) -> Finding {
    Finding { broken, detail }
}

#[derive(Default)]
struct Model {
    /// Every event ever appended, acknowledged or not, with its payload.
    appended: HashMap<EventId, Vec<u8>>,
    /// Events that must be present at these positions: acknowledged, or
    /// seen after a reopen.
    durable: HashMap<EventId, Seq>,
    /// Where each event's salt and payload were written in the journal.
    payload_offsets: HashMap<EventId, u64>,
    /// Redactions asked for, by target.
    redactions: HashMap<Seq, EventId>,
    /// Redactions acknowledged or seen after a reopen.
    durable_redactions: HashSet<Seq>,
}

impl Model {
    /// Checks a reopened log; what it shows is then on disk for good.
    fn check(&mut self, log: &Log) -> Result<(), Finding> {
        let mut present = HashMap::new();
        let mut redacted = Vec::new();
        loop {
            let page = log
                .read(Seq(present.len() as u64), 1_000)
                .map_err(|error| finding(Broken::Unverified, format!("reading the log: {error}")))?;
            if page.is_empty() {
                break;
            }
            for stored in page {
                let (id, seq) = (stored.envelope.event_id(), stored.envelope.seq());
                let Some(appended) = self.appended.get(&id) else {
                    return Err(finding(Broken::Invented, format!("event {} ({id}) was never appended", seq.0)));
                };
                match &stored.payload {
                    Payload::Present { bytes, .. } if bytes != appended => {
                        return Err(finding(Broken::Invented, format!("event {} has content never appended", seq.0)));
                    }
                    Payload::Present { .. } if self.durable_redactions.contains(&seq) => {
                        return Err(finding(
                            Broken::Lost,
                            format!("the acknowledged redaction of event {} is undone", seq.0),
                        ));
                    }
                    Payload::Redacted { .. } if self.redactions.get(&seq) != Some(&id) => {
                        return Err(finding(Broken::Invented, format!("event {} is redacted, never asked for", seq.0)));
                    }
                    Payload::Redacted { .. } => redacted.push(seq),
                    Payload::Present { .. } => {}
                }
                present.insert(id, seq);
            }
        }
        for (id, seq) in &self.durable {
            match present.get(id) {
                Some(found) if found == seq => {}
                Some(found) => {
                    return Err(finding(Broken::Lost, format!("acknowledged event {} is at {} now", seq.0, found.0)));
                }
                None => return Err(finding(Broken::Lost, format!("acknowledged event {} ({id}) is missing", seq.0))),
            }
        }
        let report = log.verify(&mut |_, _| {}).map_err(|error| finding(Broken::Unverified, error.to_string()))?;
        if let Some(problem) = report.problem {
            return Err(finding(Broken::Unverified, format!("{problem:?}")));
        }
        self.durable.extend(present);
        self.durable_redactions.extend(redacted);
        Ok(())
    }

    /// Checks that what opening wrote to the journal only zeroed the salt
    /// and payload of events whose redaction was asked for (it finishes a
    /// redaction that a cut interrupted).
    fn check_open_writes(&self, writes: &[(u64, Vec<u8>)]) -> Result<(), Finding> {
        for (offset, bytes) in writes {
            let end = offset + bytes.len() as u64;
            let zeros = bytes.iter().all(|byte| *byte == 0);
            let in_redacted = self.redactions.values().any(|id| {
                let Some(payload_offset) = self.payload_offsets.get(id) else { return false };
                payload_offset - SALT_BYTES <= *offset && end <= payload_offset + self.appended[id].len() as u64
            });
            if !zeros || !in_redacted {
                return Err(finding(Broken::JournalChanged, format!("opening wrote journal bytes {offset}..{end}")));
            }
        }
        Ok(())
    }

    /// Finds in `writes` where the payloads of events not yet located were
    /// written.
    fn locate_payloads(&mut self, writes: &[(u64, Vec<u8>)]) {
        for (id, payload) in &self.appended {
            if self.payload_offsets.contains_key(id) {
                continue;
            }
            let found = writes.iter().find_map(|(offset, bytes)| {
                bytes.windows(payload.len()).position(|window| window == payload).map(|at| offset + at as u64)
            });
            if let Some(found) = found {
                self.payload_offsets.insert(*id, found);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The run.

/// A payload that names its event, of a size drawn to make frames of one
/// sector up to many.
fn payload_for(id: &EventId, rng: &mut Rng) -> Vec<u8> {
    let n_bytes = match rng.below(4) {
        0 | 1 => 40 + rng.below(80),
        2 => 300 + rng.below(1_200),
        _ => 2_000 + rng.below(6_000),
    } as usize;
    let mut payload = format!("minute for event {id}: ").into_bytes();
    payload.extend((0..n_bytes).map(|idx| b'a' + (idx % 26) as u8));
    payload
}

/// What runs saw, to show that the test covers what it claims.
#[derive(Default, Debug)]
struct Seen {
    cuts: usize,
    cuts_while_opening: usize,
    acknowledged: usize,
    torn_tails: usize,
    stores_rebuilt: usize,
    frames_applied_again: u64,
}

impl Seen {
    fn record_open(&mut self, opened: &minutebook_log::Opened) {
        self.torn_tails += usize::from(opened.torn_write.is_some());
        self.stores_rebuilt += usize::from(opened.store_rebuilt);
        self.frames_applied_again += opened.frames_applied;
    }

    fn add(&mut self, other: Seen) {
        self.cuts += other.cuts;
        self.cuts_while_opening += other.cuts_while_opening;
        self.acknowledged += other.acknowledged;
        self.torn_tails += other.torn_tails;
        self.stores_rebuilt += other.stores_rebuilt;
        self.frames_applied_again += other.frames_applied_again;
    }
}

/// Appends until the power is cut or `n_appends` are done; records what
/// was appended and acknowledged.
fn append_until_cut(log: &Log, disk: &Mutex<Disk>, model: &mut Model, rng: &mut Rng) -> Result<usize, Finding> {
    let mut n_acknowledged = 0;
    for _ in 0..1 + rng.below(APPENDS_PER_CUT_MAX) {
        let stream = format!("meeting/M-{}", rng.below(3));
        let mut batch = AppendBatch::new().expect(stream.clone(), ExpectedVersion::Any);
        let mut ids = Vec::new();
        for _ in 0..1 + rng.below(3) {
            let mut new_event = event(&stream, b"");
            new_event.payload = payload_for(&new_event.event_id, rng);
            model.appended.insert(new_event.event_id, new_event.payload.clone());
            ids.push(new_event.event_id);
            batch = batch.event(new_event);
        }
        let mut redacting = None;
        if rng.below(5) == 0 {
            let candidates: Vec<(EventId, Seq)> = model
                .durable
                .iter()
                .filter(|(_, seq)| !model.redactions.contains_key(seq))
                .map(|(id, seq)| (*id, *seq))
                .collect();
            if let Some((id, seq)) = candidates.get(rng.below(candidates.len().max(1) as u64) as usize) {
                model.redactions.insert(*seq, *id);
                batch = batch.redact(*seq, "personal data: UK GDPR Art. 17");
                redacting = Some(*seq);
            }
        }
        match log.append(batch) {
            Ok(outcome) => {
                for (id, appended) in ids.iter().zip(&outcome.events) {
                    model.durable.insert(*id, appended.seq);
                }
                model.durable_redactions.extend(redacting);
                n_acknowledged += ids.len();
            }
            Err(error) if disk.lock().unwrap().powered => {
                return Err(finding(Broken::AppendRefused, format!("an append failed while the disk worked: {error}")));
            }
            Err(_) => break,
        }
    }
    Ok(n_acknowledged)
}

/// One seed: a fresh data directory, `n_cuts` power cuts each followed by
/// a reopen and a check, then a last reopen and check.
fn run_seed(seed: u64, n_cuts: usize, syncs: Syncs) -> Result<Seen, Finding> {
    let mut rng = Rng::new(seed);
    let scratch = Scratch::in_memory();
    let mut model = Model::default();
    let mut seen = Seen::default();
    // The cuts since the last reopen that was checked: a state that a cut
    // while opening left is checked at the next reopen.
    let mut unchecked_cuts: Vec<String> = Vec::new();
    for cut_idx in 0..=n_cuts {
        let ops_until_cut = if cut_idx == n_cuts { u64::MAX } else { 1 + rng.below(OPS_BEFORE_CUT_MAX) };
        let disk = Arc::new(Mutex::new(Disk {
            powered: true,
            ops_until_cut,
            journal_durable: Vec::new(),
            journal_volatile: Vec::new(),
            journal_writes: Vec::new(),
            store_durable: BTreeMap::new(),
            store_volatile: Vec::new(),
        }));
        let wrap_disk = Arc::clone(&disk);
        let opened =
            Log::open_with(&scratch.path, move |inner| Box::new(PowerLossStore::new(inner, &wrap_disk, syncs)));
        let history: String = unchecked_cuts.iter().map(|cut| format!("\n  after {cut}")).collect();
        let context = |finding: Finding| Finding {
            broken: finding.broken,
            detail: format!("{}{history} (seed {seed})", finding.detail),
        };
        let powered = disk.lock().unwrap().powered;
        match opened {
            Ok(log) if powered => {
                let open_writes = disk.lock().unwrap().journal_writes.clone();
                model.check_open_writes(&open_writes).map_err(context)?;
                model.check(&log).map_err(context)?;
                unchecked_cuts.clear();
                seen.record_open(log.opened());
                if cut_idx == n_cuts {
                    return Ok(seen);
                }
                seen.acknowledged += append_until_cut(&log, &disk, &mut model, &mut rng).map_err(context)?;
                disk.lock().unwrap().powered = false;
                drop(log);
            }
            Err(error) if powered => return Err(context(finding(Broken::OpenRefused, error.to_string()))),
            // The power went while opening.
            Ok(_) | Err(_) => seen.cuts_while_opening += 1,
        }
        let disk = disk.lock().unwrap();
        model.locate_payloads(&disk.journal_writes);
        let state = cut_state(&disk, &mut rng);
        put_on_disk(&scratch.path, &state);
        unchecked_cuts.push(format!("power cut {cut_idx}: {}", state.description));
        seen.cuts += 1;
    }
    unreachable!("the last reopen returns")
}

/// The seeds to run: `MINUTEBOOK_TEST_SEED` alone, or `n` drawn from the
/// clock.
fn seeds(n: usize) -> Vec<u64> {
    if let Some(seed) = std::env::var("MINUTEBOOK_TEST_SEED").ok().and_then(|seed| seed.parse().ok()) {
        return vec![seed];
    }
    let mut rng =
        Rng::new(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64);
    (0..n).map(|_| rng.next()).collect()
}

#[test]
fn acknowledged_appends_survive_power_cuts() {
    let n_seeds = if slow_tests() { SEEDS_SLOW } else { SEEDS_NORMAL };
    let mut total = Seen::default();
    for seed in seeds(n_seeds) {
        match run_seed(seed, CUTS_PER_SEED, Syncs::Honestly) {
            Ok(seen) => total.add(seen),
            Err(finding) => panic!("{finding}\n  replay with MINUTEBOOK_TEST_SEED={seed}"),
        }
    }
    eprintln!("powerloss: {total:?}");
    // About six per cut in most runs; a cut early in each seed makes fewer.
    assert!(total.acknowledged > 3 * total.cuts, "too few appends were acknowledged: {total:?}");
}

/// The negative control: a store that acknowledges a journal sync without
/// making anything durable must be caught losing an acknowledged event.
#[test]
fn the_power_cut_check_catches_a_sync_that_does_nothing() {
    let mut findings = Vec::new();
    for seed in 1..=20 {
        match run_seed(seed, 3, Syncs::Never) {
            Err(finding) if finding.broken == Broken::Lost => return,
            Err(finding) => findings.push(format!("seed {seed}: {finding}")),
            Ok(_) => findings.push(format!("seed {seed}: nothing found")),
        }
    }
    panic!("no seed showed a lost acknowledged event:\n{}", findings.join("\n"));
}

// ---------------------------------------------------------------------------
// Sector patterns, one at a time: each found by the run above, kept here
// as a check of its own.

fn journal_bytes(scratch: &Scratch) -> Vec<u8> {
    std::fs::read(scratch.path.join(JOURNAL_FILE)).expect("read the journal")
}

/// Appends one event with a payload of `n_bytes`; returns its id and payload.
fn append_one(log: &Log, n_bytes: usize) -> (EventId, Vec<u8>) {
    let mut new_event = event("meeting/M-1", b"");
    new_event.payload = format!("minute for event {}: ", new_event.event_id).into_bytes();
    new_event.payload.resize(n_bytes, b'p');
    let payload = new_event.payload.clone();
    let id = new_event.event_id;
    log.append(AppendBatch::new().expect("meeting/M-1", ExpectedVersion::Any).event(new_event)).expect("append");
    (id, payload)
}

/// A data directory holding a few events, then one more whose frame
/// starts at a place in its sector within `start_in_sector` (when given)
/// and carries a payload of `last_payload_bytes`. That frame was synced,
/// but the disk cannot tell it from the last frame being written when the
/// power went: blanking some of its sectors makes a journal that a power
/// cut could leave.
fn with_last_frame(start_in_sector: Option<Range<u64>>, last_payload_bytes: usize) -> (Scratch, FrameSpan) {
    let scratch = Scratch::in_memory();
    let log = scratch.open();
    append_one(&log, 300);
    if let Some(wanted) = &start_in_sector {
        // Frame sizes are deterministic, but a body's length varies with
        // the tree's frontier: aim for the middle until it lands.
        for _ in 0..APPENDS_TO_ALIGN_MAX {
            let last = journal_frames(&journal_bytes(&scratch)).pop().unwrap();
            if wanted.contains(&(last.end % SECTOR_BYTES)) {
                break;
            }
            let overhead = last.end - last.start - last.payloads_len + SALT_BYTES;
            let aim = (wanted.start + wanted.end) / 2;
            let shift = (aim + 2 * SECTOR_BYTES - (last.end + overhead) % SECTOR_BYTES) % SECTOR_BYTES;
            append_one(&log, (SECTOR_BYTES + shift) as usize);
        }
    }
    // The store as it was before the last frame: it applies only frames
    // that were synced, so it cannot hold the one being written.
    drop(log);
    let store_before = scratch.path.join("sled-before-last-frame");
    copy_dir(&scratch.path.join(SLED_DIR), &store_before);
    let log = scratch.open();
    append_one(&log, last_payload_bytes);
    drop(log);
    std::fs::remove_dir_all(scratch.path.join(SLED_DIR)).unwrap();
    std::fs::rename(&store_before, scratch.path.join(SLED_DIR)).unwrap();
    let last = journal_frames(&journal_bytes(&scratch)).pop().unwrap();
    if let Some(wanted) = start_in_sector {
        assert!(wanted.contains(&(last.start % SECTOR_BYTES)), "the last frame starts {} into a sector", last.start);
    }
    (scratch, last)
}

/// Zeroes the frame's bytes in the sector holding journal byte `offset`:
/// a sector the power cut kept from being written keeps its durable bytes,
/// which are those of the frame before or zeros.
fn blank_sector(scratch: &Scratch, frame: &FrameSpan, offset: u64) {
    let journal = std::fs::OpenOptions::new().write(true).open(scratch.path.join(JOURNAL_FILE)).unwrap();
    let sector_start = offset / SECTOR_BYTES * SECTOR_BYTES;
    let (from, to) = (sector_start.max(frame.start), (sector_start + SECTOR_BYTES).min(frame.end));
    journal.write_all_at(&vec![0u8; (to - from) as usize], from).unwrap();
}

/// Opening a journal whose last frame lost the sectors holding `blanked`
/// (offsets into the frame) takes the frame for a torn write: it opens
/// without it, changes no journal byte, verifies, and appends after it.
fn check_torn(
    start_in_sector: Option<Range<u64>>,
    last_payload_bytes: usize,
    blanked: impl Fn(&FrameSpan) -> Vec<u64>,
) {
    let (scratch, last) = with_last_frame(start_in_sector, last_payload_bytes);
    let n_before = journal_frames(&journal_bytes(&scratch)).len() as u64 - 1;
    for offset in blanked(&last) {
        assert!(last.start <= offset && offset < last.end);
        blank_sector(&scratch, &last, offset);
    }
    let journal = journal_bytes(&scratch);
    let log = Log::open(&scratch.path).unwrap_or_else(|error| panic!("a torn last frame is refused: {error}"));
    assert_eq!(journal_bytes(&scratch), journal, "opening changed the journal");
    assert_eq!(log.opened().torn_write.map(|(start, _)| start), Some(last.start));
    assert_eq!(log.len(), n_before);
    crate::support::assert_verifies(&log);
    append_one(&log, 100);
    assert_eq!(log.len(), n_before + 1);
    crate::support::assert_verifies(&log);
}

#[test]
fn a_last_frame_whose_header_sector_was_not_written_is_torn() {
    check_torn(None, 3_000, |frame| vec![frame.start]);
}

#[test]
fn a_last_frame_missing_the_sector_where_its_body_starts_is_torn() {
    check_torn(None, 1_000, |frame| vec![frame.start + 60 + frame.payloads_len]);
}

#[test]
fn a_last_frame_whose_header_lost_its_checksum_is_torn() {
    // The header's first 28 to 59 bytes (all but its checksum's end) end
    // one sector; the rest of the checksum starts the next.
    check_torn(Some(SECTOR_BYTES - 59..SECTOR_BYTES - 28), 3_000, |frame| vec![frame.start + 59]);
}

#[test]
fn a_last_frame_whose_header_lost_its_lengths_is_torn() {
    // The header's first 9 to 27 bytes (its magic and first event) end one
    // sector; its lengths, lowered to what reached the disk, start the next.
    check_torn(Some(SECTOR_BYTES - 27..SECTOR_BYTES - 9), 3_000, |frame| vec![frame.start + 59]);
}

#[test]
fn a_last_frame_missing_a_sector_of_its_payloads_is_torn() {
    check_torn(None, 3_000, |frame| vec![frame.start + 60 + 1_024]);
}

/// The other side of the rule: a last frame with one byte changed shows no
/// unwritten sector, so opening refuses it as damage and changes nothing.
#[test]
fn a_last_frame_with_a_changed_byte_is_refused_not_torn() {
    let (scratch, last) = with_last_frame(None, 3_000);
    let intact = journal_bytes(&scratch);
    let body_start = last.start + 60 + last.payloads_len;
    for at in [last.start + 20, last.start + 40, body_start, last.end - 1] {
        let mut journal = intact.clone();
        journal[at as usize] ^= 0x40;
        std::fs::write(scratch.path.join(JOURNAL_FILE), &journal).unwrap();
        let Err(error) = Log::open(&scratch.path) else { panic!("a changed byte at {at} was taken for a torn write") };
        assert!(error.to_string().contains("is damaged"), "{error}");
        assert_eq!(journal_bytes(&scratch), journal, "opening changed the journal");
    }
}

/// Opening a data directory where a power cut interrupted the scrub of a
/// redacted payload (zeros written over it, not yet synced), so that the
/// sectors holding `kept` (offsets into the payload) still hold it and the
/// others are zeros: opening finishes the scrub.
fn check_interrupted_scrub(kept: impl Fn(u64) -> Vec<u64>) {
    let scratch = Scratch::in_memory();
    let log = scratch.open();
    append_one(&log, 100);
    let (id, payload) = append_one(&log, 3_000);
    drop(log);
    let journal_before = journal_bytes(&scratch);
    // The store as it was before the redaction: the scrub's pending entry
    // comes back from the redaction's frame.
    let store_before = scratch.path.join("sled-before-redaction");
    copy_dir(&scratch.path.join(SLED_DIR), &store_before);
    let log = scratch.open();
    let redaction = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Any)
        .event(event("meeting/M-1", b"redaction recorded"))
        .redact(Seq(1), "personal data: UK GDPR Art. 17");
    log.append(redaction).expect("redact");
    drop(log);
    std::fs::remove_dir_all(scratch.path.join(SLED_DIR)).unwrap();
    std::fs::rename(&store_before, scratch.path.join(SLED_DIR)).unwrap();
    let at = journal_before.windows(payload.len()).position(|window| window == payload).unwrap() as u64 - SALT_BYTES;
    let region = at..at + SALT_BYTES + payload.len() as u64;
    let journal = std::fs::OpenOptions::new().write(true).open(scratch.path.join(JOURNAL_FILE)).unwrap();
    for offset in kept(region.end - region.start) {
        let sector_start = (region.start + offset) / SECTOR_BYTES * SECTOR_BYTES;
        let (from, to) = (sector_start.max(region.start), (sector_start + SECTOR_BYTES).min(region.end));
        journal.write_all_at(&journal_before[from as usize..to as usize], from).unwrap();
    }
    let log = Log::open(&scratch.path).unwrap_or_else(|error| panic!("an interrupted scrub is refused: {error}"));
    let redacted = log.event(Seq(1)).unwrap().unwrap();
    assert_eq!(redacted.envelope.event_id(), id);
    assert!(matches!(redacted.payload, Payload::Redacted { .. }));
    let journal = journal_bytes(&scratch);
    assert!(journal[region.start as usize..region.end as usize].iter().all(|byte| *byte == 0), "scrub finished");
    crate::support::assert_verifies(&log);
}

#[test]
fn a_scrub_a_power_cut_interrupted_is_finished_on_open() {
    check_interrupted_scrub(|_| vec![0]);
    check_interrupted_scrub(|len| vec![len / 2]);
    check_interrupted_scrub(|len| vec![0, len - 1]);
}
