//! What an append takes and what it answers: new events and redactions
//! gathered in an `AppendBatch`, and the `AppendOutcome`.

use crate::types::{EventHash, EventId, ExpectedVersion, Seq, StreamVersion};

/// An event to append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub stream: String,
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    pub actor: String,
    pub role: String,
    pub payload: Vec<u8>,
}

/// A payload to remove, with the notice kept in its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redaction {
    pub seq: Seq,
    pub notice: String,
}

/// Events appended all together or not at all, with the version each
/// stream they touch must be at.
#[derive(Clone, Debug, Default)]
pub struct AppendBatch {
    pub(super) expectations: Vec<(String, ExpectedVersion)>,
    pub(super) events: Vec<NewEvent>,
    pub(super) redactions: Vec<Redaction>,
}

impl AppendBatch {
    pub fn new() -> AppendBatch {
        AppendBatch::default()
    }
    /// Every stream the batch writes to needs exactly one expectation.
    pub fn expect(mut self, stream: impl Into<String>, version: ExpectedVersion) -> AppendBatch {
        self.expectations.push((stream.into(), version));
        self
    }
    pub fn event(mut self, event: NewEvent) -> AppendBatch {
        self.events.push(event);
        self
    }
    /// Removes a stored payload once this batch commits. The batch should
    /// also append the event that records why.
    pub fn redact(mut self, seq: Seq, notice: impl Into<String>) -> AppendBatch {
        self.redactions.push(Redaction { seq, notice: notice.into() });
        self
    }
    pub fn events(&self) -> &[NewEvent] {
        &self.events
    }
}

/// Where one appended event landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: Seq,
    pub stream_version: StreamVersion,
    pub event_hash: EventHash,
}

/// What an append did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    pub events: Vec<Appended>,
    /// True when every event id was already stored with the same content:
    /// nothing was written and `events` are the original positions.
    pub replayed: bool,
    /// A signed checkpoint of at least this size covers the events.
    pub tree_size: u64,
}
