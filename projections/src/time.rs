//! Point in time: the record as it stood at a log position, or at an
//! instant ("what did the published minutes say on 1 May?", a date read
//! in the body's timezone as the end of that day).
//!
//! Times recorded by the log never go backwards (verification checks it),
//! so the position at an instant is found by binary search.

use minutebook_log::catalogue::Date;
use minutebook_log::{LogReader, Seq};

use crate::record::{catch_up_to, Record};

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
