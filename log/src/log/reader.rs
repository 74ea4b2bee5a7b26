//! Reads: events, streams, checkpoints, proofs and subscriptions, each
//! bounded by the durable length.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::checkpoint::{Checkpoint, NoteVerifier};
use crate::codec::{decode, store_io, Head, PayloadRef, Record};
use crate::envelope::{check_text, Envelope};
use crate::error::{Error, Kind, Result};
use crate::journal::FrameAt;
use crate::keys;
use crate::limits::{READ_EVENTS_MAX, STREAM_BYTES_MAX, STREAM_CHUNK_EVENTS_MAX};
use crate::merkle::{self, Frontier, Subtrees};
use crate::store::Store;
use crate::types::{EventHash, Seq, StreamVersion, TreeHash};

use super::shared::Shared;
use super::stored::{event_from_record, load_tail, payload_span, read_event, Event, STORED_NODE_LEVEL_MIN};

/// How many of the newest events opening checks as a reader will see them.
const TAIL_CHECK_EVENTS: u64 = 1_000;

/// A checkpoint note with what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    pub note: String,
    pub checkpoint: Checkpoint,
}

/// A readable handle on the log that can be sent to other threads.
#[derive(Clone)]
pub struct LogReader {
    pub(crate) shared: Arc<Shared>,
}

/// Largest span of the journal one read fetches in one go.
pub(super) const READ_WINDOW_BYTES_MAX: u64 = 8 * 1024 * 1024;

impl LogReader {
    /// Number of durable events; also the size of the latest checkpoint.
    /// Waits while an acknowledged group is still being applied to the
    /// store (a group's time, about a millisecond), so that every read
    /// bounded by it shows what appenders were told is done: new events,
    /// and redactions too (a group that only redacts adds no event).
    pub fn len(&self) -> u64 {
        let mut durable = self.shared.durable.lock().unwrap();
        while durable.applied_journal_end < durable.acknowledged_journal_end && durable.failure.is_none() {
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
    pub(super) fn check_tail(self, head: &Head, frame_key: &[u8; 32], journal_path: &Path) -> (Result<()>, LogReader) {
        let checked = self
            .check_tail_of(head, TAIL_CHECK_EVENTS)
            .and_then(|()| self.check_tail_frames(head, TAIL_CHECK_EVENTS, frame_key, journal_path));
        (checked, self)
    }

    /// Finds the first frame that starts within the newest `n_events`
    /// events (a frame's first stored payload is right after its header),
    /// then checks every frame from there to the head's end of the journal.
    pub(super) fn check_tail_frames(
        &self,
        head: &Head,
        n_events: u64,
        frame_key: &[u8; 32],
        journal_path: &Path,
    ) -> Result<()> {
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

    pub(super) fn check_tail_of(&self, head: &Head, n_events: u64) -> Result<()> {
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
    pub(super) fn payload_window(&self, records: &[Record]) -> Result<Option<(u64, Vec<u8>)>> {
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
    pub(super) fn stream_seqs(&self, stream: &str, from: StreamVersion, limit: usize) -> Result<Vec<u64>> {
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

    pub(super) fn open_note(&self, note: Vec<u8>) -> Result<SignedCheckpoint> {
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

    pub(super) fn check_size(&self, tree_size: u64) -> Result<()> {
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
    pub(super) reader: LogReader,
    pub(super) next: Seq,
    pub(super) buffered: std::collections::VecDeque<Event>,
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
