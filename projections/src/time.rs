//! Point in time: the record as it stood at a log position, or at an
//! instant ("what did the published minutes say on 1 May?", a date read
//! in the body's timezone as the end of that day).
//!
//! Times recorded by the log never go backwards (verification checks it),
//! so the position at an instant is found by binary search.
//!
//! Reading one meeting's minutes at a position (`minutes_record_at`) does
//! not rebuild the record from position 0: it folds only the events those
//! minutes are made of, read through the log's per-stream index up to the
//! position. Why this design and not snapshots:
//!
//! - Every event the rules append goes to the stream of the entity it
//!   changes (`decide` returns each event with its stream), and one
//!   meeting's minutes read few entities: the meeting itself; of its body,
//!   the registration (name, timezone) and the events that progressed or
//!   closed the meeting's actions (in the body's stream); the meetings its
//!   events name (the one whose minute confirmed it or authorised a
//!   correction: their dates and minute numbers); and the people its
//!   events name (their names). Export bundles rest on the same streams:
//!   an auditor folds them into the same minutes the server shows.
//! - The body's stream grows with every meeting of the body (minute
//!   numbers, memberships, all its actions' progress), so it is not read
//!   whole: the current record says where the meeting's action updates are
//!   (`MinutesSources`, taken under the record's lock and let go at once).
//! - So the cost of a point-in-time read is the size of the meeting, of the
//!   meetings it names and of the people it names, before the position: a
//!   hundred or so events for a typical meeting. It does not grow with the
//!   log or with the body's history, needs no memory kept between
//!   requests, and cannot go stale or be wrong after a redaction
//!   (snapshots of the record every N events would hold the text a later
//!   redaction removed, cost memory or disk in proportion to the log, and
//!   still fold up to N events a request).
//! - It reads only the log, never the record the writers decide on, so it
//!   holds none of their locks while it folds.
//!
//! The record it returns is not the whole record at that position, only
//! what these minutes need; `view::minutes` and
//! `minutes::canonical_text` of that meeting read from it exactly what
//! they read from `record_at` (tests/it/point_in_time.rs checks this at
//! every position of the demo, tests/it/views.rs on generated logs, for
//! every audience).

use std::collections::BTreeSet;

use minutebook_catalogue::{Capacity, Date, MeetingId, PersonId, Vote};
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

/// What a point-in-time read of a meeting's minutes takes from the current
/// record, under its lock, before it lets the lock go: how far the record
/// reaches, and where the events that progressed or closed the meeting's
/// actions are. Those are in the body's stream, among all the body's other
/// events, and the log has no index from an action to them; the record has.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MinutesSources {
    /// The record's position: a read stands here at the latest.
    position: u64,
    /// Positions of the events that progressed or closed the meeting's
    /// actions, up to the record's position.
    action_updates: Vec<Seq>,
}

impl MinutesSources {
    /// The sources of `meeting`'s minutes as `record` knows them; for a
    /// meeting it does not hold, none beyond the meeting's own stream.
    pub fn of(record: &Record, meeting: &MeetingId) -> MinutesSources {
        let mut action_updates = Vec::new();
        for item in record.meetings.get(meeting).map_or(&[][..], |m| &m.items[..]) {
            for entry in item.entries.values() {
                if let EntryKind::Action { updates, .. } = &entry.kind {
                    action_updates.extend(updates.keys().copied());
                }
            }
        }
        action_updates.sort();
        MinutesSources { position: record.position().0, action_updates }
    }

    /// How many events of the log a read `at` covers: at most as many as
    /// the record these sources came from.
    pub fn position(&self, reader: &LogReader, at: At) -> minutebook_log::Result<u64> {
        Ok(at.position(reader)?.min(self.position))
    }
}

/// The record one meeting's minutes are drawn from, as it stood after the
/// first `position` events (at most the sources' position): the meeting,
/// its body's registration and the progress of its actions, the meetings
/// and the people its events name, each read from the log up to the
/// position (see the module's documentation). Without the meeting when it
/// was not yet scheduled then.
pub fn minutes_record_at(
    reader: &LogReader,
    meeting: &MeetingId,
    sources: &MinutesSources,
    position: u64,
) -> minutebook_log::Result<Record> {
    let position = position.min(sources.position).min(reader.len());
    // The meeting's own stream says which body it belongs to and whom and
    // which other meetings it names. Nothing in another stream changes
    // that (the body's stream only adds progress to its actions).
    let own = stream_before(reader, &meeting.stream(), position)?;
    let alone = fold(reader, &own)?;
    let Some(folded) = alone.meetings.get(meeting) else {
        return Ok(alone);
    };
    let (people, meetings) = named(folded);
    let mut events = own;
    // Of the body's events, the minutes read its registration (name and
    // timezone; nothing changes them) and the progress of the actions.
    let body = folded.body.stream();
    events
        .extend(reader.read_stream(&body, StreamVersion(1), 1)?.into_iter().filter(|e| e.envelope.seq().0 < position));
    for seq in sources.action_updates.iter().filter(|seq| seq.0 < position) {
        events.extend(reader.event(*seq)?);
    }
    let mut streams = BTreeSet::new();
    streams.extend(meetings.iter().filter(|named| *named != meeting).map(MeetingId::stream));
    streams.extend(people.iter().map(PersonId::stream));
    for stream in &streams {
        events.extend(stream_before(reader, stream, position)?);
    }
    events.sort_by_key(|event| event.envelope.seq());
    events.dedup_by_key(|event| event.envelope.seq());
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
