//! Views across meetings, read from the record: the actions tracker, the
//! registers of interests and attendance, flagged votes, inquorate
//! meetings, a body's meetings and the minute-number index.

use std::collections::BTreeMap;

use minutebook_catalogue::*;
use serde::Serialize;

use crate::record::{EntryKind, Meeting, MeetingStatus, Record};
use crate::view::{name_of, Audience};
use crate::visibility;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionRow {
    /// Position of the `action.agreed` event: the action's id.
    pub action: u64,
    pub body: BodyId,
    pub meeting: MeetingId,
    pub meeting_date: String,
    pub item: u32,
    pub minute: Option<u32>,
    pub owner: String,
    pub text: String,
    pub due: Option<String>,
    pub closed: bool,
    pub history: Vec<ActionHistory>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ActionHistory {
    pub seq: u64,
    pub note: String,
    pub meeting: Option<MeetingId>,
    pub closed: bool,
}

/// Every action agreed, across the body's meetings (all bodies if None),
/// oldest first. Struck-out actions are left out.
pub fn actions(record: &Record, body: Option<&BodyId>) -> Vec<ActionRow> {
    let mut rows = Vec::new();
    for meeting in meetings_of(record, body) {
        for item in meeting.items.iter().filter(|item| item.withdrawn.is_none()) {
            for (seq, entry) in item.entries.iter().filter(|(_, e)| !e.struck) {
                let EntryKind::Action { action, updates } = &entry.kind else {
                    continue;
                };
                rows.push(ActionRow {
                    action: seq.0,
                    body: meeting.body.clone(),
                    meeting: meeting.id.clone(),
                    meeting_date: meeting.date.to_string(),
                    item: item.number,
                    minute: item.minute,
                    owner: action.owner.clone(),
                    text: entry.text.text.clone(),
                    due: action.due.map(|d| d.to_string()),
                    closed: updates.values().any(|u| u.closed),
                    history: updates
                        .iter()
                        .map(|(seq, u)| ActionHistory {
                            seq: seq.0,
                            note: u.note.clone(),
                            meeting: u.meeting.clone(),
                            closed: u.closed,
                        })
                        .collect(),
                });
            }
        }
    }
    rows.sort_by_key(|row| row.action);
    rows
}

fn meetings_of<'r>(record: &'r Record, body: Option<&BodyId>) -> Vec<&'r Meeting> {
    record.meetings.values().filter(|m| body.is_none_or(|b| &m.body == b)).collect()
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclarationRow {
    pub meeting: MeetingId,
    pub meeting_date: String,
    pub item: u32,
    pub minute: Option<u32>,
    pub kind: String,
    pub nature: String,
    pub withdrew: bool,
    pub dispensation: Option<String>,
}

/// Declarations of interest by member, in meeting order, as `audience`
/// may read them (the public: those of published minutes, and none of an
/// exempt item).
pub fn declarations(record: &Record, body: &BodyId, audience: Audience) -> BTreeMap<PersonId, Vec<DeclarationRow>> {
    let mut register: BTreeMap<PersonId, Vec<DeclarationRow>> = BTreeMap::new();
    for meeting in meetings_in_date_order(record, body) {
        for d in &meeting.declarations {
            let d = &d.declaration;
            if audience == Audience::Public
                && !visibility::public_may_read_in(record, meeting, DomainEvent::InterestDeclared(d.clone()))
            {
                continue;
            }
            register.entry(d.person.clone()).or_default().push(DeclarationRow {
                meeting: meeting.id.clone(),
                meeting_date: meeting.date.to_string(),
                item: d.item,
                minute: meeting.item(d.item).and_then(|i| i.minute),
                kind: d.kind.title().to_owned(),
                nature: d.nature.clone(),
                withdrew: d.withdrew,
                dispensation: d.dispensation.clone(),
            });
        }
    }
    register
}

fn meetings_in_date_order<'r>(record: &'r Record, body: &BodyId) -> Vec<&'r Meeting> {
    let mut meetings = meetings_of(record, Some(body));
    meetings.sort_by(|a, b| (a.date, a.start, &a.id).cmp(&(b.date, b.start, &b.id)));
    meetings
}

/// How a member stood at one meeting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttendanceMark {
    Present,
    /// Apologies, with the substitute who sat for them, if any.
    Apologies {
        substitute: Option<String>,
    },
    Absent,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AttendanceRow {
    pub person: PersonId,
    pub name: String,
    pub marks: Vec<(MeetingId, AttendanceMark)>,
    /// Meetings at which they were a member and which were held.
    pub expected: u32,
    pub present: u32,
    /// Present ÷ expected, in per cent; None when nothing was expected.
    pub rate_percent: Option<u32>,
}

/// Attendance by member at the body's meetings that were held (opened):
/// cancelled meetings, and meetings not yet held, do not count. A member
/// counts for a meeting only if they were a member on its date.
pub fn attendance(record: &Record, body_id: &BodyId) -> Vec<AttendanceRow> {
    let Some(body) = record.bodies.get(body_id) else {
        return Vec::new();
    };
    let held: Vec<&Meeting> = meetings_in_date_order(record, body_id)
        .into_iter()
        .filter(|m| matches!(m.status, MeetingStatus::InSession | MeetingStatus::Closed))
        .collect();
    let mut people: Vec<&PersonId> = body.tenures.iter().map(|t| &t.person).collect();
    people.sort();
    people.dedup();
    people
        .into_iter()
        .map(|person| {
            let mut row = AttendanceRow {
                person: person.clone(),
                name: name_of(record, person),
                marks: Vec::new(),
                expected: 0,
                present: 0,
                rate_percent: None,
            };
            for meeting in held.iter().filter(|m| body.role_on(person, m.date).is_some()) {
                row.expected += 1;
                let mark = attendance_mark(record, meeting, person);
                if mark == AttendanceMark::Present {
                    row.present += 1;
                }
                row.marks.push((meeting.id.clone(), mark));
            }
            row.rate_percent = (row.expected > 0).then(|| row.present * 100 / row.expected);
            row
        })
        .collect()
}

fn attendance_mark(record: &Record, meeting: &Meeting, person: &PersonId) -> AttendanceMark {
    if meeting.attendance_of(person).is_some() {
        return AttendanceMark::Present;
    }
    match meeting.apology_of(person) {
        Some(apology) => AttendanceMark::Apologies {
            substitute: apology
                .substitute
                .as_ref()
                .filter(|s| meeting.attendance_of(s).is_some())
                .map(|s| name_of(record, s)),
        },
        None => AttendanceMark::Absent,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FlaggedVote {
    pub meeting: MeetingId,
    pub item: u32,
    pub minute: Option<u32>,
    pub member: PersonId,
    pub name: String,
    pub decision: String,
}

/// Members who voted after declaring a pecuniary interest in the item.
pub fn flagged_votes(record: &Record, body: &BodyId) -> Vec<FlaggedVote> {
    let mut flagged = Vec::new();
    for meeting in meetings_in_date_order(record, body) {
        for item in &meeting.items {
            for entry in item.entries.values().filter(|e| !e.struck) {
                let EntryKind::Decision(decision) = &entry.kind else {
                    continue;
                };
                for member in &decision.conflicts {
                    flagged.push(FlaggedVote {
                        meeting: meeting.id.clone(),
                        item: item.number,
                        minute: item.minute,
                        member: member.clone(),
                        name: name_of(record, member),
                        decision: entry.text.text.clone(),
                    });
                }
            }
        }
    }
    flagged
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MeetingRow {
    pub meeting: MeetingId,
    pub date: String,
    pub start: String,
    pub venue: String,
    pub status: String,
    pub first_minute: Option<u32>,
    pub last_minute: Option<u32>,
    pub quorate: Option<bool>,
}

/// A body's meetings in date order.
pub fn body_meetings(record: &Record, body: &BodyId) -> Vec<MeetingRow> {
    meetings_in_date_order(record, body)
        .into_iter()
        .map(|m| {
            let minutes: Vec<u32> = m.items.iter().filter_map(|i| i.minute).collect();
            MeetingRow {
                meeting: m.id.clone(),
                date: m.date.to_string(),
                start: m.start.to_string(),
                venue: m.venue.clone(),
                status: crate::view::status(m).banner().to_owned(),
                first_minute: minutes.iter().min().copied(),
                last_minute: minutes.iter().max().copied(),
                quorate: m.closed.as_ref().map(|c| c.quorate),
            }
        })
        .collect()
}

/// Meetings that closed without their quorum.
pub fn inquorate_meetings(record: &Record, body: &BodyId) -> Vec<MeetingRow> {
    body_meetings(record, body).into_iter().filter(|m| m.quorate == Some(false)).collect()
}

/// Which meeting and agenda item hold minute `number` of a body.
pub fn find_minute(record: &Record, body: &BodyId, number: u32) -> Option<(MeetingId, u32)> {
    meetings_of(record, Some(body))
        .into_iter()
        .find_map(|m| m.item_by_minute(number).map(|item| (m.id.clone(), item.number)))
}
