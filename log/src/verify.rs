//! Log-level verification: one pass over everything stored, recomputing
//! every payload hash (unless redacted), event hash, chain link, stream
//! version, tree node and checkpoint root, and checking every checkpoint's
//! signature. It names the first inconsistency it meets.
//!
//! What it does not check is the meaning of events: signatures by chairs
//! and the rules of meetings are checked in src/, which knows them.

use std::collections::{HashMap, HashSet};

use crate::envelope::{payload_hash, Envelope};
use crate::error::Result;
use crate::keys;
use crate::log::{decode, store_io, Head, LogReader, PayloadRef, Record, SALT_BYTES, STORED_NODE_LEVEL_MIN};
use crate::merkle::{self, Frontier};
use crate::types::*;

/// The first inconsistency found: where, what, what was expected and found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub seq: Option<Seq>,
    pub what: String,
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(seq) = self.seq {
            write!(f, "event {}: ", seq.0)?;
        }
        write!(f, "{}: expected {}, found {}", self.what, self.expected, self.found)
    }
}

/// What a verification pass covered, and the first problem if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub n_events: u64,
    pub n_redacted: u64,
    pub n_streams: u64,
    pub n_checkpoints: u64,
    pub root: TreeHash,
    pub problem: Option<Problem>,
}

/// Events verified between two progress reports.
const PROGRESS_EVENTS: u64 = 65_536;
/// Events read per scan window.
const WINDOW_EVENTS: u64 = 8_192;

struct Pass<'a> {
    reader: &'a LogReader,
    n_events: u64,
    n_redacted: u64,
    last_hash: EventHash,
    frontier: Frontier,
    streams: HashMap<String, Vec<u64>>,
    event_ids: HashSet<EventId>,
    checkpoints: std::iter::Peekable<std::vec::IntoIter<(u64, Vec<u8>)>>,
    n_checkpoints: u64,
}

type Checked = std::result::Result<(), Problem>;

fn problem(seq: Option<u64>, what: impl Into<String>, expected: impl ToString, found: impl ToString) -> Problem {
    Problem { seq: seq.map(Seq), what: what.into(), expected: expected.to_string(), found: found.to_string() }
}

impl LogReader {
    /// Verifies everything stored. `progress` hears (events done, total).
    /// Operating errors (a failed read) are errors; inconsistencies are
    /// reported in `VerifyReport::problem`.
    pub fn verify(&self, progress: &mut dyn FnMut(u64, u64)) -> Result<VerifyReport> {
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
            frontier: Frontier::empty(),
            streams: HashMap::new(),
            event_ids: HashSet::new(),
            checkpoints: checkpoints.into_iter().peekable(),
            n_checkpoints: 0,
        };
        let outcome = pass.run(&head, progress);
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

impl Pass<'_> {
    fn run(&mut self, head: &Head, progress: &mut dyn FnMut(u64, u64)) -> Result<Checked> {
        if let Err(problem) = self.check_checkpoints_at(0) {
            return Ok(Err(problem));
        }
        let total = head.len;
        let mut start = 0u64;
        while start < total {
            let end = (start + WINDOW_EVENTS).min(total);
            if let Err(problem) = self.window(start, end)? {
                return Ok(Err(problem));
            }
            if end / PROGRESS_EVENTS != start / PROGRESS_EVENTS || end == total {
                progress(end, total);
            }
            start = end;
        }
        Ok(self.finish(head))
    }

    /// Verifies events `start..end`.
    fn window(&mut self, start: u64, end: u64) -> Result<Checked> {
        let store = self.reader.store();
        let mut records = Vec::with_capacity((end - start) as usize);
        for (expected, item) in (start..end).zip(store.scan(&keys::event(Seq(start)), &keys::event(Seq(end)))) {
            let (key, value) = item.map_err(store_io("reading events"))?;
            let seq = keys::parse_u64(&key).unwrap_or(u64::MAX);
            if seq != expected {
                return Ok(Err(problem(Some(expected), "event record", "a stored record", "none")));
            }
            match decode::<Record>("record", &value) {
                Ok(record) => records.push(record),
                Err(error) => return Ok(Err(problem(Some(seq), "event record", "a decodable record", error))),
            }
        }
        if records.len() as u64 != end - start {
            return Ok(Err(problem(Some(start + records.len() as u64), "event record", "a stored record", "none")));
        }
        let payloads = self.read_journal(&records)?;
        for (offset, record) in records.iter().enumerate() {
            let seq = start + offset as u64;
            if let Err(problem) = self.event(seq, record, &payloads) {
                return Ok(Err(problem));
            }
        }
        Ok(Ok(()))
    }

    /// The payload segment bytes under the window's records.
    fn read_journal(&self, records: &[Record]) -> Result<(u64, Vec<u8>)> {
        let (start, end) = records.iter().fold((u64::MAX, 0u64), |(start, end), record| match record.payload {
            PayloadRef::Stored { offset, len } => (start.min(offset), end.max(offset + SALT_BYTES + u64::from(len))),
            PayloadRef::Redacted { .. } => (start, end),
        });
        if start >= end {
            return Ok((0, Vec::new()));
        }
        let mut bytes = vec![0u8; (end - start) as usize];
        self.reader.store().read_journal(start, &mut bytes).map_err(store_io("reading payloads"))?;
        Ok((start, bytes))
    }

    fn event(&mut self, seq: u64, record: &Record, payloads: &(u64, Vec<u8>)) -> Checked {
        let at = Some(seq);
        let envelope = Envelope::from_bytes(&record.envelope)
            .map_err(|error| problem(at, "envelope", "a valid envelope", error))?;
        if envelope.seq().0 != seq {
            return Err(problem(at, "envelope sequence number", seq, envelope.seq().0));
        }
        if envelope.prev_hash() != self.last_hash {
            return Err(problem(at, "previous event hash", self.last_hash, envelope.prev_hash()));
        }
        match &record.payload {
            PayloadRef::Redacted { .. } => self.n_redacted += 1,
            PayloadRef::Stored { offset, len } => {
                let (window_start, window) = payloads;
                let from = (offset - window_start) as usize;
                let bytes = &window[from..from + SALT_BYTES as usize + *len as usize];
                let salt = Salt(bytes[..16].try_into().expect("16 bytes"));
                let found = payload_hash(&salt, &bytes[16..]);
                if found != envelope.payload_hash() {
                    return Err(problem(at, "salted payload hash", envelope.payload_hash(), found));
                }
            }
        }
        let stream_seqs = self.streams.entry(envelope.stream().to_owned()).or_default();
        let expected_version = stream_seqs.len() as u64 + 1;
        if envelope.stream_version().0 != expected_version {
            return Err(problem(
                at,
                format!("version in stream {}", envelope.stream()),
                expected_version,
                envelope.stream_version().0,
            ));
        }
        stream_seqs.push(seq);
        if !self.event_ids.insert(envelope.event_id()) {
            return Err(problem(at, "event id", "an id used once", format!("{} used again", envelope.event_id())));
        }
        let hash = Envelope::hash(&record.envelope);
        self.last_hash = hash;
        self.n_events += 1;
        self.push_leaf(seq, hash)?;
        self.check_checkpoints_at(seq + 1)
    }

    fn push_leaf(&mut self, seq: u64, hash: EventHash) -> Checked {
        let mut nodes = Vec::new();
        self.frontier.push(merkle::leaf_hash(&hash), |node| {
            if node.level >= STORED_NODE_LEVEL_MIN {
                nodes.push(node);
            }
        });
        for node in nodes {
            let stored = self.reader.store().get(&keys::node(node.level, node.index)).ok().flatten();
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
    fn check_checkpoints_at(&mut self, tree_size: u64) -> Checked {
        while let Some((size, note)) = self.checkpoints.next_if(|(size, _)| *size <= tree_size) {
            if size < tree_size {
                return Err(problem(
                    None,
                    format!("checkpoint of tree size {size}"),
                    "a checkpoint in tree order",
                    "one out of order",
                ));
            }
            let note = String::from_utf8_lossy(&note);
            let checkpoint = self.reader.verifier().open(&note).map_err(|error| {
                problem(None, format!("checkpoint of tree size {size}"), "a validly signed note", error)
            })?;
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

    fn finish(&mut self, head: &Head) -> Checked {
        if let Some((size, _)) = self.checkpoints.peek() {
            return Err(problem(
                None,
                format!("checkpoint of tree size {size}"),
                format!("a tree size of at most {}", head.len),
                size,
            ));
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
