//! What the store holds, decoded: event records and their payloads, stream
//! index tails, and which tree nodes are stored. Functions of a store alone,
//! used by reads, by the writer's groups and by recovery; bounding them by
//! the durable length is the reader's business.

use crate::codec::{decode, store_io, PayloadRef, Record, SALT_BYTES};
use crate::envelope::{payload_hash, Envelope};
use crate::error::{Error, Result};
use crate::keys;
use crate::limits::{EVENT_PAYLOAD_BYTES_MAX, STREAM_CHUNK_EVENTS_MAX};
use crate::store::Store;
use crate::types::{EventHash, Salt, Seq, StreamVersion};

/// Tree nodes at this level and above are stored; those below are hashed
/// from at most 2^(level-1) leaves when a proof needs them. Level 4 keeps
/// stored nodes to one per 8 events.
pub const STORED_NODE_LEVEL_MIN: u8 = 4;

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

pub(super) fn read_record(store: &dyn Store, seq: Seq) -> Result<Record> {
    let bytes = store
        .get(&keys::event(seq))
        .map_err(store_io("reading an event"))?
        .ok_or_else(|| Error::corrupt(format!("event {} is missing from the store", seq.0)))?;
    decode(&format!("record of event {}", seq.0), &bytes)
}

pub(super) fn read_event(store: &dyn Store, seq: Seq) -> Result<Event> {
    let record = read_record(store, seq)?;
    event_from_record(store, seq, record, None)
}

/// Decodes a record and reads its payload; `window` is payload bytes
/// already read from the segment, with their offset.
pub(super) fn event_from_record(
    store: &dyn Store,
    seq: Seq,
    record: Record,
    window: Option<(u64, &[u8])>,
) -> Result<Event> {
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

/// A stream's last index chunk, as staged.
pub(super) struct StreamTail {
    pub(super) chunk_idx: u32,
    pub(super) seqs: Vec<u64>,
    /// The last chunk has changes not yet put in the batch.
    pub(super) dirty: bool,
}

impl StreamTail {
    pub(super) fn version(&self) -> StreamVersion {
        StreamVersion(u64::from(self.chunk_idx) * STREAM_CHUNK_EVENTS_MAX + self.seqs.len() as u64)
    }
}

pub(super) fn load_tail(store: &dyn Store, stream: &str) -> Result<StreamTail> {
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
