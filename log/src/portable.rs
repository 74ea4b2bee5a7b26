//! Events carried away from their data directory, as in an export bundle,
//! and the log-level checks anyone can make on them with nothing but the
//! log's public key and a signed checkpoint: each envelope decodes strictly
//! and is the event it claims to be, its payload matches its salted hash,
//! its event hash is a leaf of the checkpoint's tree, and together the
//! events form whole streams whose chain links hold wherever two
//! consecutive events are present.
//!
//! What events mean (signatures by chairs, minutes) is checked in src/.

use std::collections::{HashMap, HashSet};

use crate::checkpoint::Checkpoint;
use crate::envelope::{payload_hash, Envelope};
use crate::log::{Event, Payload};
use crate::merkle;
use crate::report::Problem;
use crate::types::*;

/// What a carried event holds in its payload's place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Content {
    /// The payload and its salt: its hash can be recomputed.
    Present { salt: Salt, bytes: Vec<u8> },
    /// Redacted in the log: only the notice left in its place.
    Redacted { notice: String },
    /// Left out by whoever exported it (exempt content, an unpublished
    /// draft): the envelope still commits to it through its payload hash.
    Withheld,
}

/// One event as carried: its exact envelope bytes, what stands for its
/// payload, and its RFC 9162 inclusion proof in the checkpoint's tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Carried {
    pub envelope_bytes: Vec<u8>,
    pub content: Content,
    pub inclusion: Vec<TreeHash>,
}

/// A carried event that passed `check_carried`.
#[derive(Clone, Debug)]
pub struct CheckedEvent {
    pub envelope: Envelope,
    pub hash: EventHash,
}

fn problem(seq: u64, what: &str, expected: impl ToString, found: impl ToString) -> Problem {
    Problem { seq: Some(Seq(seq)), what: what.to_owned(), expected: expected.to_string(), found: found.to_string() }
}

/// Checks one carried event on its own, said to be event `seq`: its
/// envelope decodes strictly and is at `seq`, within the checkpoint's tree;
/// a present payload matches the envelope's salted payload hash; and the
/// inclusion proof leads from its leaf to the checkpoint's root.
pub fn check_carried(seq: Seq, carried: &Carried, checkpoint: &Checkpoint) -> Result<CheckedEvent, Problem> {
    let envelope = Envelope::from_bytes(&carried.envelope_bytes)
        .map_err(|error| problem(seq.0, "envelope", "an envelope that decodes strictly", error))?;
    if envelope.seq() != seq {
        return Err(problem(seq.0, "envelope's position", seq.0, envelope.seq().0));
    }
    if seq.0 >= checkpoint.tree_size {
        return Err(problem(
            seq.0,
            "position",
            format!("below the checkpoint's tree size {}", checkpoint.tree_size),
            seq.0,
        ));
    }
    if let Content::Present { salt, bytes } = &carried.content {
        let found = payload_hash(salt, bytes);
        if found != envelope.payload_hash() {
            return Err(problem(seq.0, "salted payload hash", envelope.payload_hash(), found));
        }
    }
    let hash = Envelope::hash(&carried.envelope_bytes);
    merkle::verify_inclusion(
        seq.0,
        checkpoint.tree_size,
        &merkle::leaf_hash(&hash),
        &carried.inclusion,
        &checkpoint.root,
    )
    .map_err(|error| {
        problem(seq.0, "inclusion proof", format!("a path to the checkpoint's root {}", checkpoint.root), error)
    })?;
    Ok(CheckedEvent { envelope, hash })
}

/// Checks what holds between carried events, given in increasing order of
/// position: each stream is whole from version 1 with no version missing or
/// repeated; an event id is used once; recorded times never go backwards;
/// and where two consecutive positions are both present, the later one's
/// previous hash is the earlier one's event hash (the first event's is 32
/// zero bytes).
pub fn check_sequence<'a>(events: impl IntoIterator<Item = &'a CheckedEvent>) -> Result<(), Problem> {
    let mut versions: HashMap<&str, u64> = HashMap::new();
    let mut ids = HashSet::new();
    let mut last: Option<&CheckedEvent> = None;
    for event in events {
        let envelope = &event.envelope;
        let seq = envelope.seq().0;
        if let Some(last) = last {
            let last_seq = last.envelope.seq().0;
            if seq <= last_seq {
                return Err(problem(seq, "order", format!("a position after {last_seq}"), seq));
            }
            if seq == last_seq + 1 && envelope.prev_hash() != last.hash {
                return Err(problem(seq, "previous event's hash", last.hash, envelope.prev_hash()));
            }
            if envelope.recorded_at_us() < last.envelope.recorded_at_us() {
                return Err(problem(
                    seq,
                    "time recorded",
                    format!("no earlier than event {last_seq}'s {}", last.envelope.recorded_at_us()),
                    envelope.recorded_at_us(),
                ));
            }
        } else if seq == 0 && envelope.prev_hash() != EventHash::ZERO {
            return Err(problem(seq, "previous event's hash", EventHash::ZERO, envelope.prev_hash()));
        }
        let version = versions.entry(envelope.stream()).or_insert(0);
        *version += 1;
        if envelope.stream_version().0 != *version {
            return Err(problem(
                seq,
                &format!("version in stream {}", envelope.stream()),
                *version,
                envelope.stream_version().0,
            ));
        }
        if !ids.insert(envelope.event_id()) {
            return Err(problem(seq, "event id", "an id used once", envelope.event_id()));
        }
        last = Some(event);
    }
    Ok(())
}

impl Carried {
    /// The event as the log would read it back, for folding into a record.
    /// A withheld payload reads as redacted with `withheld_notice`: its
    /// content is not there, and the event only counts towards its stream.
    pub fn to_event(&self, checked: &CheckedEvent, withheld_notice: &str) -> Event {
        let payload = match &self.content {
            Content::Present { salt, bytes } => Payload::Present { salt: *salt, bytes: bytes.clone() },
            Content::Redacted { notice } => Payload::Redacted { notice: notice.clone() },
            Content::Withheld => Payload::Redacted { notice: withheld_notice.to_owned() },
        };
        Event {
            envelope: checked.envelope.clone(),
            envelope_bytes: self.envelope_bytes.clone(),
            hash: checked.hash,
            payload,
        }
    }
}
