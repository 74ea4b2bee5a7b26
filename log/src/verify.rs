//! Log-level verification: one pass over everything stored, recomputing
//! every payload hash (unless redacted), event hash, chain link, stream
//! version, tree node and checkpoint root, and checking every checkpoint's
//! signature. It names the first inconsistency it meets.
//!
//! What it does not check is the meaning of events: signatures by chairs
//! and the rules of meetings are checked in src/, which knows them.

use std::collections::{HashMap, HashSet};

use crate::codec::{decode, store_io, Head, PayloadRef, SALT_BYTES};
use crate::envelope::{stored_payload_hash, Envelope, EnvelopeView};
use crate::error::Result;
use crate::hashing::IdHashing;
use crate::keys;
use crate::limits::EVENT_PAYLOAD_BYTES_MAX;
use crate::log::{payload_span, LogReader, STORED_NODE_LEVEL_MIN};
use crate::merkle::{self, Frontier};
use crate::report::{Problem, VerifyReport};
use crate::types::*;

/// Events verified between two progress reports.
const PROGRESS_EVENTS: u64 = 65_536;
/// Events read per scan window.
const WINDOW_EVENTS: u64 = 4_096;
/// Windows read ahead of the sequential checks.
const WINDOWS_AHEAD: usize = 4;
/// Most event ids the pass makes room for before reading any: a few MiB.
/// The set grows past it as events are read.
const EVENT_IDS_PREALLOCATED_MAX: usize = 1 << 18;

type Checked = std::result::Result<(), Problem>;

fn problem(seq: Option<u64>, what: impl Into<String>, expected: impl ToString, found: impl ToString) -> Problem {
    Problem { seq: seq.map(Seq), what: what.into(), expected: expected.to_string(), found: found.to_string() }
}

/// A stored record read without copying its envelope.
#[derive(serde::Deserialize)]
struct RecordView<'a> {
    envelope: &'a [u8],
    payload: PayloadRef,
}

/// An event whose record decoded, envelope decoded and payload matched its
/// salted hash: what the sequential checks need of it.
struct Checked1 {
    hash: EventHash,
    /// Its leaf hash, computed here rather than on the ordered thread.
    leaf: TreeHash,
    prev_hash: EventHash,
    stream_version: u64,
    event_id: EventId,
    recorded_at_us: i64,
    /// Index of its stream in its window's `streams`.
    stream_idx: u32,
    redacted: bool,
}

/// One window of events checked on their own: the events up to the first
/// problem in it, and that problem.
struct Window {
    checked: Vec<Checked1>,
    /// The distinct streams of the window's events.
    streams: Vec<String>,
    problem: Option<Problem>,
}

/// Threads that read and check windows on their own, each taking every
/// `WINDOW_READERS`th window.
const WINDOW_READERS: u64 = 2;

impl LogReader {
    /// Verifies everything stored. `progress` hears (events done, total).
    /// Operating errors (a failed read) are errors; inconsistencies are
    /// reported in `VerifyReport::problem`.
    ///
    /// Three threads share the work: one reads windows of events and checks
    /// each on its own (envelope, payload hash, event hash); one checks
    /// checkpoint signatures; this one checks what needs order (the chain,
    /// stream versions, event ids, the tree and each checkpoint's root).
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport> {
        // What was acknowledged is applied before the pass reads the store.
        self.len();
        let store = self.store();
        let head_bytes = store.get(keys::HEAD).map_err(store_io("reading the head"))?.unwrap_or_default();
        let head: Head = match decode("head", &head_bytes) {
            Ok(head) => head,
            Err(error) => return Ok(self.report_failed(problem(None, "head record", "a decodable head", error))),
        };
        let checkpoints: Vec<(u64, Vec<u8>)> = store
            .scan(b"c", b"d")
            .map(|item| item.map(|(key, value)| (keys::parse_u64(&key).unwrap_or(u64::MAX), value)))
            .collect::<std::io::Result<_>>()
            .map_err(store_io("reading checkpoints"))?;
        let mut pass = Pass {
            reader: self,
            n_events: 0,
            n_redacted: 0,
            last_hash: EventHash::ZERO,
            last_recorded_at_us: i64::MIN,
            frontier: Frontier::empty(),
            streams: HashMap::new(),
            // The head's count is not trusted before the events are read.
            event_ids: HashSet::with_capacity_and_hasher(
                usize::try_from(head.len).unwrap_or(usize::MAX).min(EVENT_IDS_PREALLOCATED_MAX),
                IdHashing::new(),
            ),
            n_checkpoints: 0,
            node_scans: (0..64).map(|_| None).collect(),
        };
        let outcome = std::thread::scope(|scope| {
            let total = head.len;
            let mut windows = Vec::new();
            for reader_idx in 0..WINDOW_READERS {
                let (window_sender, receiver) = std::sync::mpsc::sync_channel::<Result<Window>>(WINDOWS_AHEAD);
                windows.push(receiver);
                scope.spawn(move || {
                    let mut payloads = Vec::new();
                    let mut start = reader_idx * WINDOW_EVENTS;
                    while start < total {
                        let end = (start + WINDOW_EVENTS).min(total);
                        if window_sender.send(check_window(self, start, end, &mut payloads)).is_err() {
                            return;
                        }
                        start += WINDOW_READERS * WINDOW_EVENTS;
                    }
                });
            }
            let (signature_sender, signatures) = std::sync::mpsc::sync_channel(1024);
            let verifier = self.verifier().clone();
            let notes: Vec<(u64, Vec<u8>)> = checkpoints.clone();
            scope.spawn(move || {
                for (size, note) in notes {
                    let opened = verifier.open(&String::from_utf8_lossy(&note));
                    if signature_sender.send((size, opened)).is_err() {
                        return;
                    }
                }
            });
            let mut checkpoints =
                Checkpoints { sizes: checkpoints.iter().map(|(size, _)| *size).collect(), next: 0, opened: signatures };
            pass.run(&head, windows, &mut checkpoints, progress)
        });
        Ok(VerifyReport {
            n_events: pass.n_events,
            n_redacted: pass.n_redacted,
            n_streams: pass.streams.len() as u64,
            n_checkpoints: pass.n_checkpoints,
            root: pass.frontier.root(),
            problem: outcome?.err(),
        })
    }

    fn report_failed(&self, problem: Problem) -> VerifyReport {
        VerifyReport {
            n_events: 0,
            n_redacted: 0,
            n_streams: 0,
            n_checkpoints: 0,
            root: merkle::empty_root(),
            problem: Some(problem),
        }
    }
}

/// Reads events `start..end` and checks each on its own.
fn check_window(reader: &LogReader, start: u64, end: u64, payloads: &mut Vec<u8>) -> Result<Window> {
    let store = reader.store();
    // Every record of the window in one buffer: no allocation per event.
    let mut record_bytes = Vec::with_capacity((end - start) as usize * 256);
    let mut record_ends = Vec::with_capacity((end - start) as usize);
    let mut problem_found = None;
    let mut expected = start;
    store
        .visit(&keys::event(Seq(start)), &keys::event(Seq(end)), &mut |key, value| {
            if keys::parse_u64(key) != Some(expected) {
                problem_found = Some(problem(Some(expected), "event record", "a stored record", "none"));
                return false;
            }
            record_bytes.extend_from_slice(value);
            record_ends.push(record_bytes.len());
            expected += 1;
            true
        })
        .map_err(store_io("reading events"))?;
    let records: Vec<&[u8]> =
        record_ends.iter().scan(0, |from, &to| Some(&record_bytes[std::mem::replace(from, to)..to])).collect();
    if problem_found.is_none() && records.len() as u64 != end - start {
        problem_found = Some(problem(Some(start + records.len() as u64), "event record", "a stored record", "none"));
    }
    let mut views = Vec::with_capacity(records.len());
    for (offset, record) in records.iter().enumerate() {
        match decode::<RecordView<'_>>("record", record) {
            Ok(view) => views.push(view),
            Err(error) => {
                problem_found = Some(problem(Some(start + offset as u64), "event record", "a decodable record", error));
                break;
            }
        }
    }
    let window = read_payloads(reader, &views, payloads)?;
    let mut checked = Vec::with_capacity(views.len());
    let mut stream_idxs: HashMap<&str, u32> = HashMap::new();
    let mut streams = Vec::new();
    for (offset, view) in views.iter().enumerate() {
        match check_alone(reader, start + offset as u64, view, window.map(|start| (start, payloads.as_slice()))) {
            Ok((envelope, hash, redacted)) => {
                let stream_idx = *stream_idxs.entry(envelope.stream).or_insert_with(|| {
                    streams.push(envelope.stream.to_owned());
                    streams.len() as u32 - 1
                });
                checked.push(Checked1 {
                    hash,
                    leaf: merkle::leaf_hash(&hash),
                    prev_hash: envelope.prev_hash,
                    stream_version: envelope.stream_version.0,
                    event_id: envelope.event_id,
                    recorded_at_us: envelope.recorded_at_us,
                    stream_idx,
                    redacted,
                });
            }
            Err(problem) => {
                problem_found = Some(problem);
                break;
            }
        }
    }
    Ok(Window { checked, streams, problem: problem_found })
}

/// Checks what an event holds on its own: its envelope and its payload's
/// salted hash. Returns its event hash and whether it is redacted.
/// `window` holds the journal bytes from an offset on, read for the whole
/// window of events; a payload outside it is read on its own.
fn check_alone<'a>(
    reader: &LogReader,
    seq: u64,
    view: &RecordView<'a>,
    window: Option<(u64, &[u8])>,
) -> std::result::Result<(EnvelopeView<'a>, EventHash, bool), Problem> {
    let at = Some(seq);
    let envelope =
        EnvelopeView::from_bytes(view.envelope).map_err(|error| problem(at, "envelope", "a valid envelope", error))?;
    if envelope.seq.0 != seq {
        return Err(problem(at, "envelope sequence number", seq, envelope.seq.0));
    }
    let redacted = match &view.payload {
        PayloadRef::Redacted { .. } => true,
        PayloadRef::Stored { offset, len } => {
            if *len as usize > EVENT_PAYLOAD_BYTES_MAX {
                return Err(problem(at, "payload length", format!("at most {EVENT_PAYLOAD_BYTES_MAX}"), len));
            }
            let total = SALT_BYTES + u64::from(*len);
            let in_window = window.and_then(|(start, bytes)| {
                let from = offset.checked_sub(start)?;
                bytes.get(usize::try_from(from).ok()?..usize::try_from(from + total).ok()?)
            });
            let mut own = Vec::new();
            let bytes = match in_window {
                Some(bytes) => bytes,
                None => {
                    let journal_len = reader.store().journal_len().unwrap_or(0);
                    if offset.checked_add(total).is_none_or(|end| end > journal_len) {
                        return Err(problem(
                            at,
                            "payload location",
                            format!("inside the journal's {journal_len} bytes"),
                            format!("{total} bytes at offset {offset}"),
                        ));
                    }
                    own.resize(total as usize, 0);
                    reader
                        .store()
                        .read_journal(*offset, &mut own)
                        .map_err(|error| problem(at, "payload", "a readable payload", error))?;
                    &own
                }
            };
            let found = stored_payload_hash(bytes);
            if found != envelope.payload_hash {
                return Err(problem(at, "salted payload hash", envelope.payload_hash, found));
            }
            false
        }
    };
    Ok((envelope, Envelope::hash(view.envelope), redacted))
}

/// Most journal bytes one window's payloads may span to be read in one go:
/// a window of the largest payloads.
const WINDOW_PAYLOAD_BYTES_MAX: u64 = WINDOW_EVENTS * (EVENT_PAYLOAD_BYTES_MAX as u64 + SALT_BYTES);

/// The journal bytes under a window's payloads, read in one go, and the
/// offset they start at; `None` when the records point outside the journal
/// or too far apart (damage, which `check_alone` then names).
/// `buffer` is reused from window to window: a fresh megabyte for each
/// would cost page faults.
fn read_payloads(reader: &LogReader, views: &[RecordView<'_>], buffer: &mut Vec<u8>) -> Result<Option<u64>> {
    buffer.clear();
    let Some((start, end)) = payload_span(views.iter().map(|view| &view.payload)) else {
        return Ok(None);
    };
    let journal_len = reader.store().journal_len().map_err(store_io("reading the journal's length"))?;
    if end > journal_len || end - start > WINDOW_PAYLOAD_BYTES_MAX {
        return Ok(None);
    }
    buffer.resize((end - start) as usize, 0);
    reader.store().read_journal(start, buffer).map_err(store_io("reading payloads"))?;
    Ok(Some(start))
}

/// Stored checkpoints in tree order, their signatures checked by another
/// thread as the pass goes.
struct Checkpoints {
    sizes: Vec<u64>,
    next: usize,
    opened: std::sync::mpsc::Receiver<(u64, Result<crate::checkpoint::Checkpoint>)>,
}

struct Pass<'a> {
    reader: &'a LogReader,
    n_events: u64,
    n_redacted: u64,
    last_hash: EventHash,
    last_recorded_at_us: i64,
    frontier: Frontier,
    streams: HashMap<String, Vec<u64>>,
    event_ids: HashSet<EventId, IdHashing>,
    n_checkpoints: u64,
    node_scans: Vec<Option<crate::store::ScanIter<'a>>>,
}

impl Pass<'_> {
    fn run(
        &mut self,
        head: &Head,
        windows: Vec<std::sync::mpsc::Receiver<Result<Window>>>,
        checkpoints: &mut Checkpoints,
        progress: &mut dyn FnMut(u64, u64),
    ) -> Result<Checked> {
        if let Err(problem) = self.check_checkpoints_at(0, checkpoints) {
            return Ok(Err(problem));
        }
        let total = head.len;
        let mut start = 0u64;
        let mut stream_keys: Vec<String> = Vec::new();
        for window_idx in 0.. {
            let Ok(window) = windows[window_idx % windows.len()].recv() else { break };
            let Window { checked, streams, problem } = window?;
            stream_keys.clear();
            for stream in streams {
                if !self.streams.contains_key(&stream) {
                    self.streams.insert(stream.clone(), Vec::new());
                }
                stream_keys.push(stream);
            }
            for (offset, item) in checked.iter().enumerate() {
                let stream = &stream_keys[item.stream_idx as usize];
                if let Err(problem) = self.event(start + offset as u64, item, stream, checkpoints) {
                    return Ok(Err(problem));
                }
            }
            if let Some(problem) = problem {
                return Ok(Err(problem));
            }
            let end = start + checked.len() as u64;
            if end / PROGRESS_EVENTS != start / PROGRESS_EVENTS || end == total {
                progress(end, total);
            }
            start = end;
        }
        assert_eq!(start, total);
        Ok(self.finish(head, checkpoints))
    }

    fn event(&mut self, seq: u64, item: &Checked1, stream: &str, checkpoints: &mut Checkpoints) -> Checked {
        let at = Some(seq);
        if item.prev_hash != self.last_hash {
            return Err(problem(at, "previous event hash", self.last_hash, item.prev_hash));
        }
        if item.recorded_at_us < self.last_recorded_at_us {
            return Err(problem(
                at,
                "time recorded",
                format!("at least {} us", self.last_recorded_at_us),
                item.recorded_at_us,
            ));
        }
        self.last_recorded_at_us = item.recorded_at_us;
        if item.redacted {
            self.n_redacted += 1;
        }
        let stream_seqs = self.streams.get_mut(stream).expect("every window's streams are registered");
        let expected_version = stream_seqs.len() as u64 + 1;
        if item.stream_version != expected_version {
            return Err(problem(at, format!("version in stream {stream}"), expected_version, item.stream_version));
        }
        stream_seqs.push(seq);
        if !self.event_ids.insert(item.event_id) {
            return Err(problem(at, "event id", "an id used once", format!("{} used again", item.event_id)));
        }
        self.last_hash = item.hash;
        self.n_events += 1;
        self.push_leaf(seq, item.leaf)?;
        self.check_checkpoints_at(seq + 1, checkpoints)
    }

    fn push_leaf(&mut self, seq: u64, leaf: TreeHash) -> Checked {
        let mut nodes = Vec::new();
        self.frontier.push(leaf, |node| {
            if node.level >= STORED_NODE_LEVEL_MIN {
                nodes.push(node);
            }
        });
        for node in nodes {
            // Nodes of one level are completed in index order, so each
            // level's stored nodes are read by one scan rather than a
            // lookup each.
            let reader = self.reader;
            let level = usize::from(node.level);
            let scan = self.node_scans[level].get_or_insert_with(|| {
                reader.store().scan(&keys::node(node.level, 0), &keys::node(node.level, u64::MAX))
            });
            let expected_key = keys::node(node.level, node.index);
            let stored = match scan.next() {
                Some(Ok((key, value))) if key == expected_key => Some(value),
                _ => reader.store().get(&expected_key).ok().flatten(),
            };
            if stored.as_deref() != Some(&node.hash.0[..]) {
                let found = stored.map_or("none".to_owned(), |bytes| hex(&bytes));
                return Err(problem(
                    Some(seq),
                    format!("tree node at level {}, index {}", node.level, node.index),
                    node.hash,
                    found,
                ));
            }
        }
        Ok(())
    }

    /// Checks every checkpoint of `tree_size` (the frontier's size).
    fn check_checkpoints_at(&mut self, tree_size: u64, checkpoints: &mut Checkpoints) -> Checked {
        while let Some(&size) = checkpoints.sizes.get(checkpoints.next) {
            if size > tree_size {
                break;
            }
            checkpoints.next += 1;
            let what = || format!("checkpoint of tree size {size}");
            if size < tree_size {
                return Err(problem(None, what(), "a checkpoint in tree order", "one out of order"));
            }
            let (opened_size, opened) = checkpoints.opened.recv().expect("the signature thread sends every checkpoint");
            assert_eq!(opened_size, size);
            let checkpoint = opened.map_err(|error| problem(None, what(), "a validly signed note", error))?;
            if checkpoint.tree_size != size {
                return Err(problem(
                    None,
                    format!("checkpoint stored under tree size {size}"),
                    size,
                    checkpoint.tree_size,
                ));
            }
            let root = self.frontier.root();
            if checkpoint.root != root {
                return Err(problem(None, format!("root of checkpoint of tree size {size}"), root, checkpoint.root));
            }
            self.n_checkpoints += 1;
        }
        Ok(())
    }

    fn finish(&mut self, head: &Head, checkpoints: &Checkpoints) -> Checked {
        if let Some(size) = checkpoints.sizes.get(checkpoints.next) {
            return Err(problem(
                None,
                format!("checkpoint of tree size {size}"),
                format!("a tree size of at most {}", head.len),
                size,
            ));
        }
        let latest = checkpoints.sizes.last().copied();
        if latest != Some(head.len) {
            let found = latest.map_or("no checkpoint".to_owned(), |size| format!("the latest of tree size {size}"));
            return Err(problem(None, "checkpoint of the whole log", format!("one of tree size {}", head.len), found));
        }
        if head.last_hash != self.last_hash {
            return Err(problem(None, "head's last event hash", self.last_hash, head.last_hash));
        }
        if head.frontier != self.frontier.hashes() {
            return Err(problem(None, "head's tree frontier", "the frontier of the events", "a different one"));
        }
        let store = self.reader.store();
        let mut chunks: HashMap<String, Vec<u64>> = HashMap::new();
        for item in store.scan(b"s", b"t") {
            let (key, value) = item.map_err(|error| problem(None, "stream index", "a readable index", error))?;
            let name_len = usize::from(*key.get(1).unwrap_or(&0));
            let name = String::from_utf8_lossy(key.get(2..2 + name_len).unwrap_or_default()).into_owned();
            let seqs: Vec<u64> = decode("stream index chunk", &value)
                .map_err(|error| problem(None, format!("index of stream {name}"), "a decodable chunk", error))?;
            chunks.entry(name).or_default().extend(seqs);
        }
        for (stream, seqs) in &self.streams {
            let indexed = chunks.remove(stream).unwrap_or_default();
            if &indexed != seqs {
                return Err(problem(
                    None,
                    format!("index of stream {stream}"),
                    format!("{} events", seqs.len()),
                    format!("{} events listed differently", indexed.len()),
                ));
            }
        }
        if let Some(stream) = chunks.keys().next() {
            return Err(problem(
                None,
                format!("index of stream {stream}"),
                "no index for a stream without events",
                "an index",
            ));
        }
        Ok(())
    }
}
