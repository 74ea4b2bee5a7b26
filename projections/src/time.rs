//! Point in time: the record as it stood at a log position, or at an
//! instant ("what did the published minutes say on 1 May?", a date read
//! in the body's timezone as the end of that day).
//!
//! Times recorded by the log never go backwards (verification checks it),
//! so the position at an instant is found by binary search.
//!
//! Reading one meeting's minutes at a position (`minutes_record_at`) does
//! not rebuild the record from position 0: it folds only the streams those
//! minutes are made of, read through the log's per-stream index up to the
//! position. Why this design and not snapshots:
//!
//! - Every event the rules append goes to the stream of the entity it
//!   changes (`decide` returns each event with its stream), and what one
//!   meeting's minutes show is read from few entities: the meeting itself,
//!   its body (name, timezone, and the progress of its actions, which is
//!   recorded in the body's stream), the meetings its events name (the one
//!   whose minute confirmed it or authorised a correction: their dates and
//!   minute numbers) and the people its events name (their names). Export
//!   bundles already rest on this: an auditor folds exactly these streams
//!   into the same minutes the server shows.
//! - So the cost of a point-in-time read is the number of those streams'
//!   events before the position: a few hundred for a meeting, its body's
//!   history, a handful for each person. It does not grow with the log,
//!   needs no memory kept between requests, and cannot go stale or be
//!   wrong after a redaction (snapshots of the record every N events
//!   would hold the text a later redaction removed, cost memory or disk
//!   in proportion to the log, and still fold up to N events a request).
//! - It reads only the log, never the record the writers decide on, so it
//!   takes none of their locks.
//!
//! The record it returns is not the whole record at that position, only
//! what these minutes need; `view::minutes` and
//! `minutes::canonical_text` of that meeting read from it exactly what
//! they read from `record_at` (tests/it/views.rs checks this at every
//! position of the demo and of generated logs, for every audience).

use std::collections::BTreeSet;

use minutebook_log::catalogue::{Capacity, Date, MeetingId, PersonId, Vote};
use minutebook_log::{Event, LogReader, Seq, StreamVersion};

use crate::record::{apply_from_log, catch_up_to, EntryKind, Meeting, Record};

/// Where in the log a point-in-time view stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum At {
    /// After the first `n` events.
    Position(u64),
    /// After every event recorded at or before this instant (µs, UTC).
    Instant(i64),
}

impl At {
    /// Reads `?at=`: a log position (digits), an RFC 3339 instant, or a
    /// date `YYYY-MM-DD` meaning the end of that day in `timezone`.
    pub fn parse(text: &str, timezone: &str) -> Result<At, String> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return text.parse().map(At::Position).map_err(|_| format!("position {text} is too large"));
        }
        if let Ok(date) = Date::parse(text) {
            return end_of_day_us(date, timezone).map(|end| At::Instant(end - 1));
        }
        let instant: jiff::Timestamp = text
            .parse()
            .map_err(|_| format!("{text:?} is not a log position, an RFC 3339 instant or a date YYYY-MM-DD"))?;
        Ok(At::Instant(instant.as_microsecond()))
    }

    /// How many events of the log the view covers.
    pub fn position(self, reader: &LogReader) -> minutebook_log::Result<u64> {
        match self {
            At::Position(n) => Ok(n.min(reader.len())),
            At::Instant(at_us) => position_at(reader, at_us),
        }
    }
}

/// Whether `timezone` names a zone of the IANA database this build carries.
pub fn known_timezone(timezone: &str) -> bool {
    jiff::tz::TimeZone::get(timezone).is_ok()
}

/// The first instant (µs, UTC) after `date` ends in `timezone`.
pub fn end_of_day_us(date: Date, timezone: &str) -> Result<i64, String> {
    let zone = jiff::tz::TimeZone::get(timezone).map_err(|_| format!("{timezone:?} is not a known timezone"))?;
    let day = jiff::civil::Date::new(date.year() as i16, date.month() as i8, date.day() as i8)
        .map_err(|error| error.to_string())?;
    let next = day.tomorrow().map_err(|error| error.to_string())?;
    let start = next.to_zoned(zone).map_err(|error| error.to_string())?;
    Ok(start.timestamp().as_microsecond())
}

/// The number of events recorded at or before `at_us`.
pub fn position_at(reader: &LogReader, at_us: i64) -> minutebook_log::Result<u64> {
    let (mut low, mut high) = (0u64, reader.len());
    // Invariant: events before `low` are at or before the instant, events
    // from `high` on are after it.
    while low < high {
        let middle = low + (high - low) / 2;
        let event = reader.event(Seq(middle))?.expect("every position below the length holds an event");
        if event.envelope.recorded_at_us() <= at_us {
            low = middle + 1;
        } else {
            high = middle;
        }
    }
    Ok(low)
}

/// The record as it stood after the first `position` events.
pub fn record_at(reader: &LogReader, position: u64) -> minutebook_log::Result<Record> {
    let mut record = Record::new();
    catch_up_to(reader, &mut record, position)?;
    Ok(record)
}

/// Events read per page of a stream.
pub const STREAM_PAGE_EVENTS: usize = 256;

/// The record one meeting's minutes are drawn from, as it stood after the
/// first `position` events: the meeting, its body, the meetings and the
/// people its events name, each folded from its own stream up to the
/// position (see the module's documentation). Without the meeting when it
/// was not yet scheduled then.
pub fn minutes_record_at(reader: &LogReader, meeting: &MeetingId, position: u64) -> minutebook_log::Result<Record> {
    let position = position.min(reader.len());
    // The meeting's own stream says which body it belongs to and whom and
    // which other meetings it names. Nothing in another stream changes
    // that (the body's stream only adds progress to its actions).
    let own = stream_before(reader, &meeting.stream(), position)?;
    let alone = fold(reader, &own)?;
    let Some(folded) = alone.meetings.get(meeting) else {
        return Ok(alone);
    };
    let (people, meetings) = named(folded);
    let mut streams = BTreeSet::new();
    streams.insert(folded.body.stream());
    streams.extend(meetings.iter().filter(|named| *named != meeting).map(MeetingId::stream));
    streams.extend(people.iter().map(PersonId::stream));
    let mut events = own;
    for stream in &streams {
        events.extend(stream_before(reader, stream, position)?);
    }
    events.sort_by_key(|event| event.envelope.seq());
    fold(reader, &events)
}

/// The events of `stream` before `position`, in order, read through the
/// log's index of the stream: the cost is the stream's, not the log's.
pub fn stream_before(reader: &LogReader, stream: &str, position: u64) -> minutebook_log::Result<Vec<Event>> {
    let mut events = Vec::new();
    loop {
        let from = StreamVersion(events.len() as u64 + 1);
        let page = reader.read_stream(stream, from, STREAM_PAGE_EVENTS)?;
        let full = page.len() == STREAM_PAGE_EVENTS;
        for event in page {
            if event.envelope.seq().0 >= position {
                return Ok(events);
            }
            events.push(event);
        }
        if !full {
            return Ok(events);
        }
    }
}

/// Folds `events` (some streams of the log, in log order) into a record,
/// each redacted payload standing as the residue its stream leaves.
fn fold(reader: &LogReader, events: &[Event]) -> minutebook_log::Result<Record> {
    let mut record = Record::new();
    for event in events {
        record.skip_to(event.envelope.seq());
        apply_from_log(reader, &mut record, event)?;
    }
    Ok(record)
}

/// The people and the meetings a meeting's record names: everyone its
/// minutes give a name to, and the meetings whose dates and minute
/// numbers they show.
fn named(meeting: &Meeting) -> (BTreeSet<PersonId>, BTreeSet<MeetingId>) {
    let mut people = BTreeSet::new();
    let mut meetings = BTreeSet::new();
    for attendance in &meeting.attendance {
        people.insert(attendance.person.clone());
        if let Capacity::Substitute { for_member } = &attendance.capacity {
            people.insert(for_member.clone());
        }
    }
    for apology in &meeting.apologies {
        people.insert(apology.person.clone());
        people.extend(apology.substitute.clone());
    }
    people.extend(meeting.declarations.iter().map(|d| d.declaration.person.clone()));
    people.extend(meeting.whips.iter().map(|(_, whip)| whip.person.clone()));
    for item in &meeting.items {
        people.extend(item.presenters.iter().map(|(_, presenter)| presenter.person.clone()));
        for entry in item.entries.values() {
            match &entry.kind {
                EntryKind::Point => {}
                EntryKind::Decision(decision) => {
                    people.extend(decision.mover.iter().chain(&decision.seconder).chain(&decision.conflicts).cloned());
                    people.extend(decision.casting_vote.iter().map(|casting| casting.chair.clone()));
                    if let Vote::Recorded { for_, against, abstain } = &decision.vote {
                        people.extend(for_.iter().chain(against).chain(abstain).cloned());
                    }
                }
                EntryKind::Action { action, .. } => people.extend(action.owner_person.clone()),
            }
        }
    }
    people.extend(meeting.signatures.iter().map(|signature| signature.signed.signer.clone()));
    meetings.extend(meeting.confirmation.iter().map(|c| c.confirmed.by_meeting.clone()));
    meetings.extend(meeting.corrections.iter().map(|c| c.corrected.by_meeting.clone()));
    (people, meetings)
}
