//! What a reader may see of the registers, the actions tracker and the
//! audit trail: the projections' views as the reader's audience may read
//! them, decided by the one visibility rule. The API's JSON and the web
//! pages both read through here, so that they show the same things to the
//! same people.

use minutebook_catalogue::{BodyId, MeetingId, Part, PersonId};
use minutebook_log::LogReader;
use minutebook_projections::record::Record;
use minutebook_projections::registers::{self, ActionRow, AttendanceMark, AttendanceRow, DeclarationRow};
use minutebook_projections::trail::{self, TrailEntry};
use minutebook_projections::view::Audience;

use super::visibility::public_may_read_part;

/// The actions tracker: actions the public may not read (of unpublished
/// meetings or exempt items) are left out for everyone (they are tracked
/// at the meeting itself).
pub fn actions(record: &Record, body: &BodyId) -> Vec<ActionRow> {
    registers::actions(record, Some(body))
        .into_iter()
        .filter(|a| public_may_read_part(record, &a.meeting, Part::Content, Some(a.item)))
        .collect()
}

/// Attendance by member; the public's counts only meetings whose
/// attendance it may read (published ones).
pub fn attendance(record: &Record, body: &BodyId, public: bool) -> Vec<AttendanceRow> {
    let mut rows = registers::attendance(record, body);
    if public {
        for row in &mut rows {
            row.marks.retain(|(meeting, _)| public_may_read_part(record, meeting, Part::Content, None));
            row.expected = row.marks.len() as u32;
            row.present = row.marks.iter().filter(|(_, mark)| *mark == AttendanceMark::Present).count() as u32;
            row.rate_percent = (row.expected > 0).then(|| row.present * 100 / row.expected);
        }
    }
    rows
}

/// Declarations of interest by member; the public's only those it may
/// read (of published minutes, not of an exempt item).
pub fn declarations(
    record: &Record,
    body: &BodyId,
    public: bool,
) -> std::collections::BTreeMap<PersonId, Vec<DeclarationRow>> {
    let audience = if public { Audience::Public } else { Audience::Entitled };
    let mut register = registers::declarations(record, body, audience);
    register.retain(|_, rows| !rows.is_empty());
    register
}

/// Members who voted after declaring a pecuniary interest; the public's
/// only at published meetings, and never an exempt decision's text (the
/// flag itself, which member and which item, is shown).
pub fn flagged_votes(record: &Record, body: &BodyId, public: bool) -> Vec<registers::FlaggedVote> {
    let mut rows = registers::flagged_votes(record, body);
    // A flag is made of a declaration and a decision, both the item's
    // content: on an exempt item the public learns of neither (not even
    // that a member declared an interest) until it is released.
    if public {
        rows.retain(|row| public_may_read_part(record, &row.meeting, Part::Content, Some(row.item)));
    }
    rows
}

/// Meetings that closed without their quorum; the public's only published.
pub fn inquorate(record: &Record, body: &BodyId, public: bool) -> Vec<registers::MeetingRow> {
    let mut rows = registers::inquorate_meetings(record, body);
    rows.retain(|row| !public || public_may_read_part(record, &row.meeting, Part::Heading, None));
    rows
}

/// Why a trail cannot be shown.
pub enum TrailRefused {
    NoSuchMeeting,
    NotPublished,
}

/// A meeting's audit trail, or one item's. The public reads it once the
/// draft is published, and sees that the events it may not read exist
/// (their envelopes), not what they say.
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
    let audience = if public { Audience::Public } else { Audience::Entitled };
    Ok(Ok(trail::meeting_trail(reader, record, id, item, audience)?))
}
