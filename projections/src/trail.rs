//! The audit trail of a meeting, or of one of its minutes: every event in
//! stream order with its position, time, actor, role and hash, what it
//! did in words, and for revisions and corrections the text before and
//! after, with the reason and the authority. Redacted events show their
//! legal basis in place of what they said.
//!
//! The trail is read from the meeting's stream in the log (which indexes
//! it), with the record only for names and minute numbers, so it shows
//! exactly what was appended. The public reads every entry's envelope (its
//! position, time, actor, type and hash) and, of what it said, only what
//! `visibility` lets the public read of that event.

use std::collections::HashMap;

use minutebook_catalogue::*;
use minutebook_log::{LogReader, Payload, Seq, StreamVersion};
use serde::Serialize;

use crate::record::Record;
use crate::view::{local_time, name_of, Audience};
use crate::visibility;

/// Events read per page.
const TRAIL_PAGE_EVENTS: usize = 1_000;

/// What the public reads in place of what an event withheld from it said.
pub const WITHHELD_TRAIL: &str = "exempt: not published";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TrailEntry {
    pub seq: u64,
    pub stream_version: u64,
    pub recorded_at_us: i64,
    /// When, in the body's timezone.
    pub recorded_at: String,
    pub actor: String,
    pub role: String,
    pub event_type: String,
    pub event_hash: String,
    /// The agenda item it concerns, if any.
    pub item: Option<u32>,
    /// What the event did, in words.
    pub summary: String,
    pub change: Option<Change>,
    /// The legal basis, when this event's payload was redacted.
    pub redacted: Option<String>,
}

/// A revision or correction: the text before and after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    pub target: u64,
    pub before: Option<String>,
    pub after: Option<String>,
    pub reason: String,
    /// The authorising minute, for a correction.
    pub authority: Option<String>,
}

/// The trail of a meeting, for an audience; of one agenda item when
/// `item` is given.
pub fn meeting_trail(
    reader: &LogReader,
    record: &Record,
    meeting_id: &MeetingId,
    item: Option<u32>,
    audience: Audience,
) -> minutebook_log::Result<Vec<TrailEntry>> {
    let timezone = record
        .meetings
        .get(meeting_id)
        .and_then(|m| record.bodies.get(&m.body))
        .map_or("UTC", |b| b.timezone.as_str())
        .to_owned();
    let stream = meeting_id.stream();
    let mut texts: HashMap<Seq, String> = HashMap::new();
    let mut items_of: HashMap<Seq, u32> = HashMap::new();
    let mut trail = Vec::new();
    let mut from = StreamVersion(1);
    loop {
        let events = reader.read_stream(&stream, from, TRAIL_PAGE_EVENTS)?;
        let Some(last) = events.last() else {
            break;
        };
        from = StreamVersion(last.envelope.stream_version().0 + 1);
        for event in &events {
            let envelope = &event.envelope;
            let seq = envelope.seq();
            let mut entry = TrailEntry {
                seq: seq.0,
                stream_version: envelope.stream_version().0,
                recorded_at_us: envelope.recorded_at_us(),
                recorded_at: local_time(envelope.recorded_at_us(), &timezone),
                actor: envelope.actor().to_owned(),
                role: envelope.role().to_owned(),
                event_type: envelope.event_type().to_owned(),
                event_hash: event.hash.to_hex(),
                item: record.entry_location(seq).map(|(_, item)| item),
                summary: String::new(),
                change: None,
                redacted: None,
            };
            match &event.payload {
                Payload::Redacted { notice } => {
                    entry.summary = format!("[{notice}]");
                    entry.redacted = Some(notice.strip_prefix("redacted: ").unwrap_or(notice).to_owned());
                }
                Payload::Present { bytes, .. } => {
                    match DomainEvent::decode(envelope.event_type(), envelope.schema_version(), bytes) {
                        Ok(domain_event) => {
                            describe(record, seq, &domain_event, &mut entry, &mut texts, &mut items_of);
                            let shown = audience == Audience::Entitled
                                || visibility::public_may_read(record, &stream, &domain_event.subject());
                            if !shown {
                                entry.summary = WITHHELD_TRAIL.to_owned();
                                entry.change = None;
                            }
                        }
                        Err(error) if audience == Audience::Entitled => {
                            entry.summary = format!("an event minutebook cannot read: {error}")
                        }
                        Err(_) => entry.summary = WITHHELD_TRAIL.to_owned(),
                    }
                }
            }
            if entry.item.is_none() {
                entry.item = entry.change.as_ref().and_then(|c| items_of.get(&Seq(c.target)).copied());
            }
            if let Some(item) = entry.item {
                items_of.insert(seq, item);
            }
            if item.is_none() || entry.item == item {
                trail.push(entry);
            }
        }
    }
    Ok(trail)
}

fn describe(
    record: &Record,
    seq: Seq,
    event: &DomainEvent,
    entry: &mut TrailEntry,
    texts: &mut HashMap<Seq, String>,
    items_of: &mut HashMap<Seq, u32>,
) {
    let name = |person: &PersonId| name_of(record, person);
    let minute = |meeting: &MeetingId, item: u32| -> String {
        let number = record.meetings.get(meeting).and_then(|m| m.item(item)).and_then(|i| i.minute);
        match number {
            Some(number) => format!("minute {number} of meeting {meeting}"),
            None => format!("agenda item {item} of meeting {meeting}"),
        }
    };
    let mut text_of = |target: Seq, text: &str| texts.insert(target, text.to_owned());
    entry.summary = match event {
        DomainEvent::MeetingScheduled(e) => format!("meeting scheduled for {} at {}, {}", e.date, e.start, e.venue),
        DomainEvent::MeetingRescheduled(e) => {
            format!("meeting moved to {} at {}, {} ({})", e.date, e.start, e.venue, e.reason)
        }
        DomainEvent::MeetingCancelled(e) => format!("meeting cancelled: {}", e.reason),
        DomainEvent::AgendaPublished(e) => format!("agenda of {} items published", e.items.len()),
        DomainEvent::PaperAttached(e) => format!("paper {} attached: {}", e.reference, e.title),
        DomainEvent::MeetingOpened(e) => format!("meeting opened at {}", e.at),
        DomainEvent::AttendanceRecorded(e) => format!("{} recorded as attending", name(&e.person)),
        DomainEvent::DepartureRecorded(e) => format!("{} left at {}", name(&e.person), e.at),
        DomainEvent::ApologiesRecorded(e) => format!("apologies from {}", name(&e.person)),
        DomainEvent::InterestDeclared(e) => {
            entry.item = Some(e.item);
            format!("{} declared a {}: {}", name(&e.person), e.kind.title(), e.nature)
        }
        DomainEvent::WhipDeclared(e) => {
            entry.item = Some(e.item);
            format!("{} declared a party whip ({})", name(&e.person), e.party)
        }
        DomainEvent::ItemTaken(e) => {
            entry.item = Some(e.item);
            text_of(seq, &e.title);
            format!("agenda item {} taken: {}", e.item, e.title)
        }
        DomainEvent::ItemWithdrawn(e) => {
            entry.item = Some(e.item);
            format!("agenda item {} withdrawn: {}", e.item, e.reason)
        }
        DomainEvent::PresenterRecorded(e) => {
            entry.item = Some(e.item);
            format!("presented by {}", name(&e.person))
        }
        DomainEvent::PointRecorded(e) => {
            entry.item = Some(e.item);
            text_of(seq, &e.text);
            format!("point recorded: {}", e.text)
        }
        DomainEvent::DecisionRecorded(e) => {
            entry.item = Some(e.item);
            text_of(seq, &e.text);
            format!("decision recorded ({}): {}", e.kind.title(), e.text)
        }
        DomainEvent::ActionAgreed(e) => {
            entry.item = Some(e.item);
            text_of(seq, &e.text);
            format!("action agreed for {}: {}", e.owner, e.text)
        }
        DomainEvent::PublicExcluded(e) => {
            entry.item = Some(e.item);
            format!("public excluded under paragraph {} of Schedule 12A", e.paragraph)
        }
        DomainEvent::ExemptSummaryRecorded(e) => {
            entry.item = Some(e.item);
            "public summary of the exempt item recorded".to_owned()
        }
        DomainEvent::ExemptReleased(e) => {
            entry.item = Some(e.item);
            format!("exempt item released: {}", e.reason)
        }
        DomainEvent::MeetingClosed(e) => {
            format!("meeting closed at {}{}", e.at, if e.quorate { "" } else { " (inquorate)" })
        }
        DomainEvent::DraftPublished(e) => format!("draft minutes published with {} minutes", e.minutes.len()),
        DomainEvent::DraftRevised(e) => match &e.change {
            Revision::ReplaceText { target, text } => {
                let before = texts.insert(*target, text.clone());
                entry.change = Some(Change {
                    target: target.0,
                    before,
                    after: Some(text.clone()),
                    reason: e.reason.clone(),
                    authority: None,
                });
                format!("draft revised: text of event {} replaced", target.0)
            }
            Revision::AddPoint { item, text } => {
                entry.item = Some(*item);
                texts.insert(seq, text.clone());
                entry.change = Some(Change {
                    target: seq.0,
                    before: None,
                    after: Some(text.clone()),
                    reason: e.reason.clone(),
                    authority: None,
                });
                "draft revised: point added".to_owned()
            }
            Revision::Strike { target } => {
                let before = texts.get(target).cloned();
                entry.change =
                    Some(Change { target: target.0, before, after: None, reason: e.reason.clone(), authority: None });
                format!("draft revised: entry of event {} struck out", target.0)
            }
        },
        DomainEvent::MinutesConfirmed(e) => {
            format!("minutes confirmed as a correct record by {}", minute(&e.by_meeting, e.by_item))
        }
        DomainEvent::MinutesSigned(e) => format!("minutes signed by {}", name(&e.signer)),
        DomainEvent::MinutesCorrected(e) => {
            texts.insert(e.target, e.text.clone());
            entry.change = Some(Change {
                target: e.target.0,
                before: Some(e.superseded.clone()),
                after: Some(e.text.clone()),
                reason: e.reason.clone(),
                authority: Some(minute(&e.by_meeting, e.by_item)),
            });
            format!("minutes corrected under {}", minute(&e.by_meeting, e.by_item))
        }
        DomainEvent::PayloadRedacted(e) => {
            entry.item = items_of.get(&e.target).copied();
            format!("payload of event {} ({}) redacted: {}", e.target.0, e.target_type, e.legal_basis)
        }
        other => format!("{} recorded", other.event_type()),
    };
}
