//! What a reader may see of the registers, the actions tracker and the
//! audit trail: the projections' views filtered for the public. The API's
//! JSON and the web pages both read through here, so that they show the
//! same things to the same people.

use minutebook_log::catalogue::{BodyId, MeetingId, PersonId};
use minutebook_log::LogReader;
use minutebook_projections::record::{Item, Record};
use minutebook_projections::registers::{self, ActionRow, AttendanceMark, AttendanceRow, DeclarationRow};
use minutebook_projections::trail::{self, TrailEntry};

use super::visibility;

/// What the public reads in an exempt item's trail entries.
pub const EXEMPT_TRAIL: &str = "exempt: not published";

/// The actions tracker: actions of unpublished meetings or exempt items
/// are left out for everyone (they are tracked at the meeting itself).
pub fn actions(record: &Record, body: &BodyId) -> Vec<ActionRow> {
    registers::actions(record, Some(body))
        .into_iter()
        .filter(|a| visibility::published(record, &a.meeting) && !visibility::exempt(record, &a.meeting, a.item))
        .collect()
}

/// Attendance by member; the public's counts only published meetings.
pub fn attendance(record: &Record, body: &BodyId, public: bool) -> Vec<AttendanceRow> {
    let mut rows = registers::attendance(record, body);
    if public {
        for row in &mut rows {
            row.marks.retain(|(meeting, _)| visibility::published(record, meeting));
            row.expected = row.marks.len() as u32;
            row.present = row.marks.iter().filter(|(_, mark)| *mark == AttendanceMark::Present).count() as u32;
            row.rate_percent = (row.expected > 0).then(|| row.present * 100 / row.expected);
        }
    }
    rows
}

/// Declarations of interest by member; the public's only at published
/// meetings.
pub fn declarations(
    record: &Record,
    body: &BodyId,
    public: bool,
) -> std::collections::BTreeMap<PersonId, Vec<DeclarationRow>> {
    let mut register = registers::declarations(record, body);
    if public {
        for rows in register.values_mut() {
            rows.retain(|row| visibility::published(record, &row.meeting));
        }
        register.retain(|_, rows| !rows.is_empty());
    }
    register
}

/// Members who voted after declaring a pecuniary interest; the public's
/// only at published meetings, and never an exempt decision's text.
pub fn flagged_votes(record: &Record, body: &BodyId, public: bool) -> Vec<registers::FlaggedVote> {
    let mut rows = registers::flagged_votes(record, body);
    if public {
        rows.retain(|row| visibility::published(record, &row.meeting));
        for row in &mut rows {
            if visibility::exempt(record, &row.meeting, row.item) {
                row.decision = minutebook_projections::view::WITHHELD.to_owned();
            }
        }
    }
    rows
}

/// Meetings that closed without their quorum; the public's only published.
pub fn inquorate(record: &Record, body: &BodyId, public: bool) -> Vec<registers::MeetingRow> {
    let mut rows = registers::inquorate_meetings(record, body);
    rows.retain(|row| !public || visibility::published(record, &row.meeting));
    rows
}

/// Why a trail cannot be shown.
pub enum TrailRefused {
    NoSuchMeeting,
    NotPublished,
}

/// A meeting's audit trail, or one item's. The public reads it once the
/// draft is published, and sees that an exempt item's events exist, not
/// what they say.
pub fn meeting_trail(
    reader: &LogReader,
    record: &Record,
    id: &MeetingId,
    item: Option<u32>,
    public: bool,
) -> Result<Result<Vec<TrailEntry>, TrailRefused>, minutebook_log::Error> {
    let Some(meeting) = record.meetings.get(id) else {
        return Ok(Err(TrailRefused::NoSuchMeeting));
    };
    if public && meeting.draft_published.is_none() {
        return Ok(Err(TrailRefused::NotPublished));
    }
    let mut entries = trail::meeting_trail(reader, record, id, item)?;
    if public {
        for entry in &mut entries {
            if entry.item.and_then(|n| meeting.item(n)).is_some_and(Item::exempt_unreleased) {
                entry.summary = EXEMPT_TRAIL.to_owned();
                entry.change = None;
            }
        }
    }
    Ok(Ok(entries))
}
