//! Catalogue payloads as every reader of the log decodes them, one by one
//! and folded together: decoding (with upcasting) and encoding back, the
//! residue a redaction leaves, and the record, minutes, registers and
//! chairs' signature checks (src/audit.rs) built from a sequence of them.
//!
//! Input, per event: u8 event type (an index into the catalogue), u16
//! schema version, length-prefixed stream, u16 minutes since the previous
//! event, u8 kind, then for kind 0 a length-prefixed payload and for any
//! other a length-prefixed redaction notice. Envelopes, hashes and chain
//! are made here; a `payload.redacted` event's target hash is set to its
//! target's, which the fuzzer cannot compute.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook::audit::{PinProblem, RecordCheck};
use minutebook_catalogue::{DomainEvent, CATALOGUE};
use minutebook_fuzz::Input;
use minutebook_log::envelope::{payload_hash, EnvelopeFields};
use minutebook_log::limits::STREAM_BYTES_MAX;
use minutebook_log::{Envelope, Event, EventHash, EventId, Payload, Salt, Seq, StreamVersion, TreeHash};
use minutebook_projections::minutes::canonical_text;
use minutebook_projections::record::{residue_among, Record};
use minutebook_projections::view::{self, Audience};
use minutebook_projections::{registers, render};

/// 2026-01-01T00:00:00Z.
const START_US: i64 = 1_767_225_600_000_000;

/// One event as the input gives it.
struct Given {
    event_type: &'static str,
    schema_version: u16,
    stream: String,
    after_minutes: u16,
    payload: Payload,
}

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let mut given = Vec::new();
    while let Some(event) = read_event(&mut input) {
        given.push(event);
    }
    for event in &given {
        if let Payload::Present { bytes, .. } = &event.payload {
            check_decoding(event.event_type, event.schema_version, bytes);
        }
    }
    let events = make_events(given);
    fold(&events);
});

fn read_event(input: &mut Input<'_>) -> Option<Given> {
    let (event_type, _) = CATALOGUE[usize::from(input.u8()?) % CATALOGUE.len()];
    let schema_version = input.u16()?;
    let stream = String::from_utf8_lossy(input.chunk()?).into_owned();
    let after_minutes = input.u16()?;
    let payload = match input.u8()? {
        0 => Payload::Present { salt: Salt([0; 16]), bytes: input.chunk()?.to_vec() },
        _ => Payload::Redacted { notice: String::from_utf8_lossy(input.chunk()?).into_owned() },
    };
    Some(Given { event_type, schema_version, stream, after_minutes, payload })
}

/// What decodes encodes back to the same event, and so does the residue
/// of redacting it.
fn check_decoding(event_type: &str, schema_version: u16, bytes: &[u8]) {
    let Ok(event) = DomainEvent::decode(event_type, schema_version, bytes) else { return };
    let again = DomainEvent::decode(event.event_type(), event.schema_version(), &event.encode());
    assert_eq!(again.as_ref(), Ok(&event), "an event encoded by this code decodes the same");
    if let Some(residue) = event.redacted("[redacted]") {
        let again = DomainEvent::decode(residue.event_type(), residue.schema_version(), &residue.encode());
        assert_eq!(again.as_ref(), Ok(&residue), "a residue encoded by this code decodes the same");
    }
    if let DomainEvent::PayloadRedacted(redaction) = &event {
        let _ = redaction.decode_residue();
    }
}

fn valid_stream(stream: &str) -> bool {
    !stream.is_empty() && stream.len() <= STREAM_BYTES_MAX && !stream.chars().any(char::is_control)
}

/// The events as a log would hold them, leaving out those whose stream no
/// log would take.
fn make_events(given: Vec<Given>) -> Vec<Event> {
    let mut events: Vec<Event> = Vec::new();
    let mut versions = std::collections::HashMap::new();
    let mut recorded_at_us = START_US;
    for given in given.into_iter().filter(|given| valid_stream(&given.stream)) {
        let seq = events.len() as u64;
        let version = versions.entry(given.stream.clone()).or_insert(0u64);
        *version += 1;
        recorded_at_us += i64::from(given.after_minutes) * 60_000_000;
        let payload = match given.payload {
            Payload::Present { salt, bytes } => {
                Payload::Present { salt, bytes: aim_redaction(given.event_type, given.schema_version, bytes, &events) }
            }
            redacted => redacted,
        };
        let payload_hash = match &payload {
            Payload::Present { salt, bytes } => payload_hash(salt, bytes),
            Payload::Redacted { .. } => payload_hash(&Salt([0; 16]), &[]),
        };
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&seq.to_le_bytes());
        let fields = EnvelopeFields {
            stream: &given.stream,
            event_id: EventId(id),
            event_type: given.event_type,
            schema_version: given.schema_version,
            actor: "fuzz",
            role: "clerk",
        };
        let prev_hash = events.last().map_or(EventHash::ZERO, |event| event.hash);
        let envelope =
            Envelope::new(&fields, Seq(seq), StreamVersion(*version), recorded_at_us, prev_hash, payload_hash);
        let envelope_bytes = envelope.to_bytes();
        let hash = Envelope::hash(&envelope_bytes);
        events.push(Event { envelope, envelope_bytes, hash, payload });
    }
    events
}

/// A `payload.redacted` payload whose target hash is set to its target's.
fn aim_redaction(event_type: &str, schema_version: u16, bytes: Vec<u8>, earlier: &[Event]) -> Vec<u8> {
    let Ok(DomainEvent::PayloadRedacted(mut redaction)) = DomainEvent::decode(event_type, schema_version, &bytes)
    else {
        return bytes;
    };
    let Some(target) = usize::try_from(redaction.target.0).ok().and_then(|seq| earlier.get(seq)) else {
        return bytes;
    };
    redaction.target_hash = target.hash;
    DomainEvent::PayloadRedacted(redaction).encode()
}

/// Folds the events as a bundle's verifier does, then reads every view.
fn fold(events: &[Event]) {
    let mut check = RecordCheck::default();
    let pinned = |_: Seq, _: u64, _: &TreeHash| -> Result<(), PinProblem> { Ok(()) };
    let mut record = Record::new();
    for (index, event) in events.iter().enumerate() {
        check.before(&record, event, &pinned);
        let residue = match &event.payload {
            Payload::Redacted { .. } => residue_among(&events[index + 1..], event),
            Payload::Present { .. } => None,
        };
        record.apply(event, residue.as_ref().map(|(residue, basis)| (residue, basis.as_str())));
    }
    // What the public may read of each event, as every channel asks it.
    for event in events {
        let _ = minutebook_projections::visibility::public_may_read_event(&record, event);
    }
    for id in record.meetings.keys() {
        let _ = canonical_text(&record, id);
        for audience in [Audience::Public, Audience::Entitled] {
            if let Some(minutes) = view::minutes(&record, id, audience) {
                let _ = render::markdown(&minutes);
                let _ = render::html(&minutes);
            }
        }
    }
    for body in record.bodies.keys() {
        let _ = registers::actions(&record, Some(body));
        for audience in [Audience::Public, Audience::Entitled] {
            let _ = registers::declarations(&record, body, audience);
        }
        let _ = registers::attendance(&record, body);
        let _ = registers::flagged_votes(&record, body);
        let _ = registers::body_meetings(&record, body);
        let _ = registers::inquorate_meetings(&record, body);
    }
    let _ = check.finish(&record);
}
