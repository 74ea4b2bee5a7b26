//! What the public may read of the record: the one rule, applied alike to
//! an event (the API's reads, the live feed, export bundles) and to what
//! the views draw from the record (minutes at any point in time, registers,
//! the audit trail).
//!
//! The catalogue declares what every event is about (`Subject`: its part
//! of the record, and the meeting, item, entry or action it belongs to);
//! this module turns that into a decision, from the state of the meeting
//! and item it belongs to:
//!
//! - a register (bodies, members, people, keys) and a meeting's notice
//!   (schedule, agenda, cancellation, opening, close) are public at once;
//! - the frame of the minutes (item headings, exclusions, public
//!   summaries, publication, confirmation, signatures) once the meeting's
//!   draft is published;
//! - content once the draft is published, and never an exempt item's
//!   until it is released.
//!
//! Those entitled (officers, members, auditors) read everything; the views
//! ask this module only for the public.
//!
//! Architecture Invariant: every public channel decides through
//! `public_may_read` or `may_read`, never with a rule of its own.

use minutebook_catalogue::{DomainEvent, Part, Subject};
use minutebook_log::{Event, Payload};

use crate::record::{Item, Meeting, Record};

/// Whether the public may read a `part` of `meeting`'s record that
/// belongs to agenda item `item`, if any.
pub fn may_read(meeting: &Meeting, part: Part, item: Option<u32>) -> bool {
    match part {
        Part::Register | Part::Notice => true,
        Part::Heading => meeting.draft_published.is_some(),
        Part::Content => {
            meeting.draft_published.is_some()
                && !item.and_then(|number| meeting.item(number)).is_some_and(Item::exempt_unreleased)
        }
    }
}

/// Whether the public may read what an event about `subject`, in
/// `stream`, says, as the record stands. An event belongs to its stream's
/// meeting, to the meeting its payload names, and to wherever the entry
/// or action it refers to lives; the public reads it only if every one of
/// those allows it. Content whose meeting cannot be found is withheld.
pub fn public_may_read(record: &Record, stream: &str, subject: &Subject) -> bool {
    if matches!(subject.part, Part::Register | Part::Notice) {
        return true;
    }
    let mut places: Vec<(&str, Option<u32>)> = Vec::with_capacity(3);
    if let Some(meeting) = stream.strip_prefix("meeting:") {
        places.push((meeting, subject.item));
    }
    if let Some(meeting) = &subject.meeting {
        places.push((meeting.as_str(), subject.item));
    }
    for referred in [subject.target, subject.action].into_iter().flatten() {
        match record.entry_location(referred) {
            Some((meeting, item)) => places.push((meeting.as_str(), Some(item))),
            // An action no one agreed belongs nowhere the public can see.
            None if subject.action == Some(referred) => return false,
            None => {}
        }
    }
    !places.is_empty()
        && places.iter().all(|(meeting, item)| {
            record.meetings.get(*meeting).is_some_and(|meeting| may_read(meeting, subject.part, *item))
        })
}

/// Whether the public may read a stored event's payload. A payload that
/// does not decode as a catalogue event says nothing the public may be
/// shown; a redacted one is gone for everyone, and its notice is not
/// decided here.
pub fn public_may_read_event(record: &Record, event: &Event) -> bool {
    let Payload::Present { bytes, .. } = &event.payload else {
        return true;
    };
    let envelope = &event.envelope;
    match DomainEvent::decode(envelope.event_type(), envelope.schema_version(), bytes) {
        Ok(decoded) => public_may_read(record, envelope.stream(), &decoded.subject()),
        Err(_) => false,
    }
}

/// Whether the public may read this payload, stored in `meeting`'s record.
pub fn public_may_read_in(record: &Record, meeting: &Meeting, event: DomainEvent) -> bool {
    public_may_read(record, &meeting.stream(), &event.subject())
}
