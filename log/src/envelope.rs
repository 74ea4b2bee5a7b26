//! The envelope: what the log hashes for each event, and its exact bytes.
//!
//! An envelope is encoded with postcard 1.0 (docs/LOG-FORMAT.md gives every
//! field's bytes). Its BLAKE3 hash is the event hash. The payload is not in
//! the envelope: only its salted hash is, so that a payload can be redacted
//! while every hash still verifies. Bytes are hashed exactly as stored and
//! never re-encoded before verifying.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::{ACTOR_BYTES_MAX, EVENT_TYPE_BYTES_MAX, ROLE_BYTES_MAX, STREAM_BYTES_MAX};
use crate::types::{EventHash, EventId, PayloadHash, Salt, Seq, StreamVersion};

/// The envelope format this code writes and reads.
pub const ENVELOPE_FORMAT_VERSION: u8 = 1;

/// An event's envelope. Fields are in their encoded order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    format_version: u8,
    seq: Seq,
    stream: String,
    stream_version: StreamVersion,
    event_id: EventId,
    event_type: String,
    schema_version: u16,
    actor: String,
    role: String,
    recorded_at_us: i64,
    prev_hash: EventHash,
    payload_hash: PayloadHash,
}

/// The fields of a new envelope that the caller chooses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeFields<'a> {
    pub stream: &'a str,
    pub event_id: EventId,
    pub event_type: &'a str,
    pub schema_version: u16,
    pub actor: &'a str,
    pub role: &'a str,
}

impl Envelope {
    /// Builds an envelope. The log builds them as it appends; auditors'
    /// tools and the worked example in docs/ build them to check bytes.
    /// Panics unless the fields are within their limits.
    pub fn new(
        fields: &EnvelopeFields<'_>,
        seq: Seq,
        stream_version: StreamVersion,
        recorded_at_us: i64,
        prev_hash: EventHash,
        payload_hash: PayloadHash,
    ) -> Envelope {
        let envelope = Envelope {
            format_version: ENVELOPE_FORMAT_VERSION,
            seq,
            stream: fields.stream.to_owned(),
            stream_version,
            event_id: fields.event_id,
            event_type: fields.event_type.to_owned(),
            schema_version: fields.schema_version,
            actor: fields.actor.to_owned(),
            role: fields.role.to_owned(),
            recorded_at_us,
            prev_hash,
            payload_hash,
        };
        assert!(envelope.check_limits().is_ok(), "envelope fields were not checked");
        assert!(stream_version.0 >= 1);
        envelope
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("an envelope always encodes")
    }

    /// Decodes envelope bytes strictly: the format version must be known,
    /// every field within its limit, and no byte may follow the last field.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope> {
        let view = EnvelopeView::from_bytes(bytes)?;
        Ok(Envelope {
            format_version: view.format_version,
            seq: view.seq,
            stream: view.stream.to_owned(),
            stream_version: view.stream_version,
            event_id: view.event_id,
            event_type: view.event_type.to_owned(),
            schema_version: view.schema_version,
            actor: view.actor.to_owned(),
            role: view.role.to_owned(),
            recorded_at_us: view.recorded_at_us,
            prev_hash: view.prev_hash,
            payload_hash: view.payload_hash,
        })
    }

    fn check_limits(&self) -> Result<()> {
        check_text("stream", &self.stream, STREAM_BYTES_MAX)?;
        check_text("event type", &self.event_type, EVENT_TYPE_BYTES_MAX)?;
        check_text("actor", &self.actor, ACTOR_BYTES_MAX)?;
        check_text("role", &self.role, ROLE_BYTES_MAX)
    }

    /// BLAKE3 over the encoded envelope.
    pub fn hash(bytes: &[u8]) -> EventHash {
        EventHash(*blake3::hash(bytes).as_bytes())
    }

    pub fn format_version(&self) -> u8 {
        self.format_version
    }
    pub fn seq(&self) -> Seq {
        self.seq
    }
    pub fn stream(&self) -> &str {
        &self.stream
    }
    pub fn stream_version(&self) -> StreamVersion {
        self.stream_version
    }
    pub fn event_id(&self) -> EventId {
        self.event_id
    }
    pub fn event_type(&self) -> &str {
        &self.event_type
    }
    pub fn schema_version(&self) -> u16 {
        self.schema_version
    }
    pub fn actor(&self) -> &str {
        &self.actor
    }
    pub fn role(&self) -> &str {
        &self.role
    }
    /// Time the log recorded the event: microseconds since 1970-01-01T00:00:00Z.
    pub fn recorded_at_us(&self) -> i64 {
        self.recorded_at_us
    }
    pub fn prev_hash(&self) -> EventHash {
        self.prev_hash
    }
    pub fn payload_hash(&self) -> PayloadHash {
        self.payload_hash
    }
}

/// An envelope decoded without copying its strings, for passes over many
/// events. Same fields, same order, same bytes as `Envelope`.
#[derive(Deserialize)]
pub(crate) struct EnvelopeView<'a> {
    pub(crate) format_version: u8,
    pub(crate) seq: Seq,
    pub(crate) stream: &'a str,
    pub(crate) stream_version: StreamVersion,
    pub(crate) event_id: EventId,
    pub(crate) event_type: &'a str,
    pub(crate) schema_version: u16,
    pub(crate) actor: &'a str,
    pub(crate) role: &'a str,
    pub(crate) recorded_at_us: i64,
    pub(crate) prev_hash: EventHash,
    pub(crate) payload_hash: PayloadHash,
}

impl<'a> EnvelopeView<'a> {
    /// Decodes strictly, as `Envelope::from_bytes` does.
    pub(crate) fn from_bytes(bytes: &'a [u8]) -> Result<EnvelopeView<'a>> {
        // The version comes first, so that a newer envelope is named as
        // such rather than as undecodable.
        if let Some(&version) = bytes.first().filter(|version| **version != ENVELOPE_FORMAT_VERSION) {
            return Err(Error::corrupt(format!(
                "envelope format version {version} is not {ENVELOPE_FORMAT_VERSION}, the one this minutebook reads"
            )));
        }
        let (view, rest): (EnvelopeView<'a>, &[u8]) = postcard::take_from_bytes(bytes)
            .map_err(|error| Error::corrupt(format!("envelope does not decode: {error}")))?;
        if !rest.is_empty() {
            return Err(Error::corrupt(format!(
                "envelope of {} bytes has {} trailing bytes after its last field",
                bytes.len(),
                rest.len()
            )));
        }
        assert_eq!(view.format_version, ENVELOPE_FORMAT_VERSION, "checked before decoding");
        let stored = |error: Error| Error::corrupt(format!("envelope: {error}"));
        check_text("stream", view.stream, STREAM_BYTES_MAX).map_err(stored)?;
        check_text("event type", view.event_type, EVENT_TYPE_BYTES_MAX).map_err(stored)?;
        check_text("actor", view.actor, ACTOR_BYTES_MAX).map_err(stored)?;
        check_text("role", view.role, ROLE_BYTES_MAX).map_err(stored)?;
        Ok(view)
    }
}

/// BLAKE3 over the salt followed by the payload.
pub fn payload_hash(salt: &Salt, payload: &[u8]) -> PayloadHash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(&salt.0);
    hasher.update(payload);
    PayloadHash(*hasher.finalize().as_bytes())
}

/// The salted payload hash of a payload as the journal stores it: its
/// 16-byte salt, then the payload. The caller has read at least the salt.
pub(crate) fn stored_payload_hash(salt_and_payload: &[u8]) -> PayloadHash {
    let (salt, payload) = salt_and_payload.split_first_chunk::<16>().expect("a stored payload starts with its salt");
    payload_hash(&Salt(*salt), payload)
}

/// A name field: non-empty, within its limit, no control characters.
pub(crate) fn check_text(what: &str, text: &str, bytes_max: usize) -> Result<()> {
    if text.is_empty() {
        return Err(Error::invalid(format!("{what} is empty")));
    }
    if text.len() > bytes_max {
        return Err(Error::invalid(format!("{what} of {} bytes exceeds the limit of {bytes_max}", text.len())));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(Error::invalid(format!("{what} {text:?} contains the control character {c:?}")));
    }
    Ok(())
}
