//! One group commit being staged on top of the committed log: checks of
//! each request against the log and the group so far, and the staged writes.

use std::collections::{HashMap, HashSet};

use crate::codec::{encode, store_io, Head, PayloadRef, Record, Scrub, SALT_BYTES};
use crate::envelope::{check_text, payload_hash, Envelope, EnvelopeFields};
use crate::error::{Conflict, Error, Kind, Result};
use crate::hashing::{Fingerprint, IdHashing};
use crate::journal::FRAME_HEADER_BYTES;
use crate::keys;
use crate::limits::{
    ACTOR_BYTES_MAX, BATCH_EVENTS_MAX, BATCH_PAYLOAD_BYTES_MAX, BATCH_REDACTIONS_MAX, EVENT_PAYLOAD_BYTES_MAX,
    EVENT_TYPE_BYTES_MAX, GROUP_EVENTS_MAX, REDACTION_NOTICE_BYTES_MAX, ROLE_BYTES_MAX, STREAM_BYTES_MAX,
    STREAM_CHUNK_EVENTS_MAX,
};
use crate::merkle::{self, Frontier};
use crate::store::{Store, WriteBatch};
use crate::types::{EventHash, EventId, ExpectedVersion, Salt, Seq, StreamVersion, TreeHash};

use super::append::{AppendBatch, AppendOutcome, Appended, NewEvent, Redaction};
use super::directory::now_us;
use super::stored::{load_tail, read_event, read_record, Payload, StreamTail, STORED_NODE_LEVEL_MIN};

/// An event staged in the current group, for idempotency within it.
pub(super) struct StagedEvent {
    pub(super) appended: Appended,
    pub(super) stream: String,
    pub(super) event_type: String,
    /// Where the payload (after its salt) lies in the group's payload area.
    pub(super) payload_at: std::ops::Range<usize>,
}

/// The writes of one group commit, staged on top of the committed log.
pub(super) struct Group<'a> {
    pub(super) store: &'a dyn Store,
    pub(super) ids: &'a IdFilter,
    pub(super) previous: Option<&'a InFlight>,
    pub(super) len: u64,
    pub(super) last_hash: EventHash,
    pub(super) payloads_start: u64,
    pub(super) payloads: Vec<u8>,
    pub(super) frontier: Frontier,
    pub(super) recorded_at_us: i64,
    pub(super) batch: WriteBatch,
    pub(super) streams: HashMap<String, StreamTail>,
    pub(super) staged_ids: HashMap<EventId, StagedEvent>,
    pub(super) redactions: HashSet<Seq>,
    pub(super) scrubs: Vec<(Seq, Scrub)>,
    /// Seq of the group's first event.
    pub(super) start: u64,
    /// Every tree node the group's leaves completed, leaves included.
    pub(super) new_nodes: HashMap<(u8, u64), TreeHash>,
    /// Events before this one are in the store; the previous group's may
    /// not be yet.
    pub(super) applied_len: u64,
    pub(super) salts: Salts,
}

/// What a group staged that the next group must see while the store may
/// not show it yet.
pub(super) struct InFlight {
    pub(super) start: u64,
    pub(super) staged_ids: HashMap<EventId, StagedEvent>,
    pub(super) payloads: Vec<u8>,
    pub(super) redactions: HashSet<Seq>,
}

/// Salts drawn from the operating system's random source a block at a
/// time rather than one system call per event.
pub(super) struct Salts {
    pub(super) block: [u8; 16 * 64],
    pub(super) used: usize,
}

impl Salts {
    pub(super) fn new() -> Salts {
        Salts { block: [0; 16 * 64], used: 64 }
    }

    pub(super) fn next(&mut self) -> Salt {
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
    pub(super) fn new(
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

    pub(super) fn into_in_flight(self) -> InFlight {
        InFlight {
            start: self.start,
            staged_ids: self.staged_ids,
            payloads: self.payloads,
            redactions: self.redactions,
        }
    }

    /// The stream tails as they stand after the group, for the next one.
    pub(super) fn take_tails(&mut self) -> HashMap<String, StreamTail> {
        let mut tails = std::mem::take(&mut self.streams);
        for tail in tails.values_mut() {
            tail.dirty = false;
        }
        tails
    }

    /// Checks a request against the log and the group so far, then stages
    /// it. A request that fails its checks stages nothing.
    pub(super) fn stage(&mut self, batch: AppendBatch) -> Result<AppendOutcome> {
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
    pub(super) fn replay(&self, batch: &AppendBatch) -> Result<Option<AppendOutcome>> {
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
    pub(super) fn find_id(&self, event: &NewEvent) -> Result<Option<Appended>> {
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

    pub(super) fn tail(&mut self, stream: &str) -> Result<&mut StreamTail> {
        if !self.streams.contains_key(stream) {
            let tail = load_tail(self.store, stream)?;
            self.streams.insert(stream.to_owned(), tail);
        }
        Ok(self.streams.get_mut(stream).expect("just inserted"))
    }

    pub(super) fn check_redaction(&self, redaction: &Redaction) -> Result<Record> {
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

    pub(super) fn stage_event(&mut self, event: NewEvent) -> Appended {
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

    pub(super) fn stage_redaction(&mut self, redaction: Redaction, record: Record) {
        let PayloadRef::Stored { offset, len } = record.payload else { unreachable!("checked not redacted") };
        let redacted = Record { envelope: record.envelope, payload: PayloadRef::Redacted { notice: redaction.notice } };
        self.batch.put(keys::event(redaction.seq).to_vec(), encode(&redacted));
        let scrub = Scrub { offset, len: SALT_BYTES + u64::from(len) };
        self.batch.put(keys::scrub(redaction.seq).to_vec(), encode(&scrub));
        self.scrubs.push((redaction.seq, scrub));
        self.redactions.insert(redaction.seq);
    }

    /// Writes the index chunks of every stream the group appended to.
    pub(super) fn finish_streams(&mut self) {
        for (stream, tail) in &self.streams {
            if tail.dirty {
                self.batch.put(keys::stream_chunk(stream, tail.chunk_idx), encode(&tail.seqs));
            }
        }
    }
}

/// Checks everything about a batch that needs no reads: limits, names, and
/// that each stream written has exactly one expectation.
pub(super) fn check_shape(batch: &AppendBatch) -> Result<()> {
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

/// Keyed 64-bit fingerprints of every stored event id, so that the common
/// case, a new id, costs no store read. A fingerprint that matches is
/// confirmed against the store's event id index.
pub(super) struct IdFilter {
    pub(super) hasher: IdHashing,
    pub(super) fingerprints: HashSet<u64, std::hash::BuildHasherDefault<Fingerprint>>,
}

impl IdFilter {
    pub(super) fn load(store: &dyn Store) -> Result<IdFilter> {
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

    pub(super) fn insert(&mut self, id: &EventId) {
        self.fingerprints.insert(std::hash::BuildHasher::hash_one(&self.hasher, id));
    }

    pub(super) fn may_contain(&self, id: &EventId) -> bool {
        self.fingerprints.contains(&std::hash::BuildHasher::hash_one(&self.hasher, id))
    }
}
