//! The minutes of a meeting as one typed model, for an audience: the API
//! serves it as JSON and the web pages and `render` draw it, so every
//! reader sees the same minutes.
//!
//! The public sees a meeting's minutes once their draft is published, and
//! an exempt item only as its heading, paragraph and public summary until
//! it is released: no point, decision, action, presenter, declaration,
//! whip or paper of it. Each line is decided by `visibility`, from what
//! the catalogue says the event that recorded it is about, as every other
//! public channel decides. Those entitled (officers, members) see
//! everything, drafts in progress included. Redacted text reads
//! "[redacted: <legal basis>]" for everyone.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use minutebook_catalogue::*;
use serde::Serialize;

use crate::record::{EntryKind, Meeting, MeetingStatus, Record};
use crate::visibility;

/// What the public reads in place of an exempt item's content.
pub const WITHHELD: &str = "[exempt: not published]";

/// Who reads the minutes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    Public,
    /// Officers and members entitled to exempt content and drafts.
    Entitled,
}

/// Where the minutes are in their life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MinutesStatus {
    Scheduled,
    Cancelled,
    InSession,
    /// Closed, draft not yet published.
    Closed,
    Draft,
    Confirmed,
    Signed,
    Corrected,
}

impl MinutesStatus {
    /// The banner the minutes carry.
    pub fn banner(self) -> &'static str {
        match self {
            MinutesStatus::Scheduled => "Meeting scheduled",
            MinutesStatus::Cancelled => "Meeting cancelled",
            MinutesStatus::InSession => "Meeting in progress",
            MinutesStatus::Closed => "Minutes in preparation",
            MinutesStatus::Draft => "Draft — subject to confirmation",
            MinutesStatus::Confirmed => "Confirmed",
            MinutesStatus::Signed => "Signed",
            MinutesStatus::Corrected => "Signed, and corrected since",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Minutes {
    pub body: BodyId,
    pub body_name: String,
    /// The body's IANA timezone, in which dates, times and the times below
    /// are read.
    pub timezone: String,
    pub meeting: MeetingId,
    pub date: String,
    pub start: String,
    pub venue: String,
    pub status: MinutesStatus,
    pub banner: String,
    pub cancelled_reason: Option<String>,
    /// False when the audience may see only the heading (the public,
    /// before the draft is published).
    pub content_visible: bool,
    pub present: Vec<Attendee>,
    pub also_attended: Vec<Attendee>,
    pub apologies: Vec<ApologyLine>,
    pub papers: Vec<PaperLine>,
    pub declarations: Vec<DeclarationLine>,
    pub whips: Vec<WhipLine>,
    pub items: Vec<MinuteItem>,
    pub ended_at: Option<String>,
    pub quorum: Option<QuorumLine>,
    pub confirmation: Option<ConfirmationBlock>,
    pub signatures: Vec<SignatureBlock>,
    pub corrections: Vec<CorrectionLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Attendee {
    pub person: PersonId,
    pub name: String,
    /// The role (Chair, Member), job title or why a guest attended.
    pub description: String,
    pub presiding: bool,
    pub substitute_for: Option<String>,
    pub arrived_at: Option<String>,
    pub left_at: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApologyLine {
    pub person: PersonId,
    pub name: String,
    pub substitute: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaperLine {
    pub reference: String,
    pub title: String,
    pub media_type: String,
    pub size_bytes: u64,
    /// BLAKE3 of the paper, hex: its download address.
    pub content_hash: String,
    pub item: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeclarationLine {
    pub item: u32,
    pub minute: Option<u32>,
    pub person: PersonId,
    pub name: String,
    pub kind: String,
    pub nature: String,
    pub withdrew: bool,
    pub dispensation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WhipLine {
    pub item: u32,
    pub name: String,
    pub party: String,
    pub nature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MinuteItem {
    /// The agenda number.
    pub item: u32,
    /// The minute number, once the draft is published.
    pub minute: Option<u32>,
    pub title: String,
    pub kind: String,
    pub presenters: Vec<String>,
    pub exempt: Option<ExemptBlock>,
    /// True when the audience may not see this exempt item's content.
    pub withheld: bool,
    pub entries: Vec<MinuteEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ExemptBlock {
    pub paragraph: u8,
    pub ground: String,
    pub summary: Option<String>,
    pub released: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MinuteEntry {
    /// Position of the event that recorded it (what revisions name).
    pub seq: u64,
    pub redacted: Option<String>,
    #[serde(flatten)]
    pub kind: EntryView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryView {
    Point {
        text: String,
    },
    Decision {
        resolution: String,
        text: String,
        vote: Option<String>,
        casting_vote: Option<String>,
        mover: Option<String>,
        seconder: Option<String>,
        /// Members flagged for voting after declaring a pecuniary interest.
        flagged: Vec<String>,
    },
    Action {
        owner: String,
        text: String,
        due: Option<String>,
        closed: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct QuorumLine {
    pub voting_members_present: u32,
    pub quorum: u32,
    pub quorate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfirmationBlock {
    pub by_meeting: MeetingId,
    pub by_meeting_date: Option<String>,
    pub by_item: u32,
    pub by_minute: Option<u32>,
    pub recorded_at_us: i64,
    /// When, in the body's timezone.
    pub recorded_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SignatureBlock {
    pub signer: PersonId,
    pub name: String,
    pub signed_at_us: i64,
    /// When, in the body's timezone.
    pub signed_at: String,
    pub public_key: String,
    pub tree_size: Option<u64>,
    pub tree_root: Option<String>,
    pub statement: String,
    pub signature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CorrectionLine {
    /// True when the correction is of exempt content the audience may not
    /// read: then only when it was recorded is shown, not what it
    /// corrected, who authorised it or why (the reason may tell the
    /// content).
    pub withheld: bool,
    pub minute: Option<u32>,
    pub superseded: String,
    pub text: String,
    pub by_meeting: Option<MeetingId>,
    pub by_item: Option<u32>,
    pub by_minute: Option<u32>,
    pub reason: String,
    pub recorded_at_us: i64,
    pub recorded_at: String,
}

impl CorrectionLine {
    /// A correction of content the audience may not read.
    pub fn withheld(recorded_at_us: i64, timezone: &str) -> CorrectionLine {
        CorrectionLine {
            withheld: true,
            minute: None,
            superseded: WITHHELD.to_owned(),
            text: WITHHELD.to_owned(),
            by_meeting: None,
            by_item: None,
            by_minute: None,
            reason: WITHHELD.to_owned(),
            recorded_at_us,
            recorded_at: local_time(recorded_at_us, timezone),
        }
    }
}

impl Minutes {
    /// Adds a correction known only by when it was recorded (its payload
    /// withheld from a public export bundle), as the public minutes show
    /// such a correction.
    pub fn add_withheld_correction(&mut self, recorded_at_us: i64, timezone: &str) {
        self.corrections.push(CorrectionLine::withheld(recorded_at_us, timezone));
        self.corrections.sort_by_key(|line| line.recorded_at_us);
        if self.status == MinutesStatus::Signed {
            self.status = MinutesStatus::Corrected;
            self.banner = self.status.banner().to_owned();
        }
    }
}

/// An instant (microseconds since the Unix epoch) as `YYYY-MM-DD HH:MM`
/// in `timezone`, with the zone's abbreviation; UTC when the timezone is
/// unknown.
pub fn local_time(at_us: i64, timezone: &str) -> String {
    let Ok(instant) = jiff::Timestamp::from_microsecond(at_us) else {
        return format!("{at_us} µs");
    };
    let zone = jiff::tz::TimeZone::get(timezone).unwrap_or(jiff::tz::TimeZone::UTC);
    instant.to_zoned(zone).strftime("%Y-%m-%d %H:%M %Z").to_string()
}

/// A person's name as the minutes give it, or their id if unknown.
pub fn name_of(record: &Record, person: &PersonId) -> String {
    record.people.get(person).map_or_else(|| person.to_string(), |p| p.display_name())
}

/// Where a meeting's minutes are in their life.
pub fn status(meeting: &Meeting) -> MinutesStatus {
    match meeting.status {
        MeetingStatus::Scheduled => MinutesStatus::Scheduled,
        MeetingStatus::Cancelled => MinutesStatus::Cancelled,
        MeetingStatus::InSession => MinutesStatus::InSession,
        MeetingStatus::Closed if meeting.draft_published.is_none() => MinutesStatus::Closed,
        MeetingStatus::Closed if !meeting.corrections.is_empty() => MinutesStatus::Corrected,
        MeetingStatus::Closed if meeting.is_signed() => MinutesStatus::Signed,
        MeetingStatus::Closed if meeting.confirmation.is_some() => MinutesStatus::Confirmed,
        MeetingStatus::Closed => MinutesStatus::Draft,
    }
}

/// The minutes of a meeting for an audience, as the record stands.
pub fn minutes(record: &Record, meeting_id: &MeetingId, audience: Audience) -> Option<Minutes> {
    let meeting = record.meetings.get(meeting_id)?;
    let body = record.bodies.get(&meeting.body)?;
    let status = status(meeting);
    // Attendance, apologies and the rest of the meeting's own content.
    let content_visible = audience == Audience::Entitled || visibility::may_read(meeting, Part::Content, None);
    // Whether the audience may read what the event that recorded a line
    // said: the one rule every public channel follows.
    let shown =
        |event: DomainEvent| audience == Audience::Entitled || visibility::public_may_read_in(record, meeting, event);
    let name = |person: &PersonId| name_of(record, person);
    let minute_of = |item: u32| meeting.item(item).and_then(|i| i.minute);
    let mut minutes = Minutes {
        body: body.id.clone(),
        body_name: body.name.clone(),
        timezone: body.timezone.clone(),
        meeting: meeting.id.clone(),
        date: meeting.date.to_string(),
        start: meeting.start.to_string(),
        venue: meeting.venue.clone(),
        status,
        banner: status.banner().to_owned(),
        cancelled_reason: meeting.cancelled_reason.clone(),
        content_visible,
        present: Vec::new(),
        also_attended: Vec::new(),
        apologies: Vec::new(),
        papers: Vec::new(),
        declarations: Vec::new(),
        whips: Vec::new(),
        items: Vec::new(),
        ended_at: None,
        quorum: None,
        confirmation: None,
        signatures: Vec::new(),
        corrections: Vec::new(),
    };
    if !content_visible {
        return Some(minutes);
    }
    for attendance in &meeting.attendance {
        let mut attendee = Attendee {
            person: attendance.person.clone(),
            name: name(&attendance.person),
            description: String::new(),
            presiding: attendance.presiding,
            substitute_for: None,
            arrived_at: attendance.arrived_at.map(|t| t.to_string()),
            left_at: attendance.left_at.map(|t| t.to_string()),
        };
        match &attendance.capacity {
            Capacity::Member { role } => {
                attendee.description = role.title().to_owned();
                minutes.present.push(attendee);
            }
            Capacity::Substitute { for_member } => {
                attendee.description = "Substitute".to_owned();
                attendee.substitute_for = Some(name(for_member));
                minutes.present.push(attendee);
            }
            Capacity::Guest { description } => {
                attendee.description = description.clone();
                minutes.also_attended.push(attendee);
            }
            Capacity::Officer { job_title } => {
                attendee.description = job_title.clone();
                minutes.also_attended.push(attendee);
            }
        }
    }
    minutes.apologies = meeting
        .apologies
        .iter()
        .map(|a| ApologyLine {
            person: a.person.clone(),
            name: name(&a.person),
            substitute: a.substitute.as_ref().map(name),
        })
        .collect();
    minutes.papers = meeting
        .papers
        .iter()
        .filter(|p| shown(DomainEvent::PaperAttached(p.paper.clone())))
        .map(|p| PaperLine {
            reference: p.paper.reference.clone(),
            title: p.paper.title.clone(),
            media_type: p.paper.media_type.clone(),
            size_bytes: p.paper.size_bytes,
            content_hash: minutebook_log::hex(&p.paper.content_hash),
            item: p.paper.item,
        })
        .collect();
    minutes.declarations = meeting
        .declarations
        .iter()
        .filter(|d| shown(DomainEvent::InterestDeclared(d.declaration.clone())))
        .map(|d| {
            let d = &d.declaration;
            DeclarationLine {
                item: d.item,
                minute: minute_of(d.item),
                person: d.person.clone(),
                name: name(&d.person),
                kind: d.kind.title().to_owned(),
                nature: d.nature.clone(),
                withdrew: d.withdrew,
                dispensation: d.dispensation.clone(),
            }
        })
        .collect();
    minutes.whips = meeting
        .whips
        .iter()
        .filter(|(_, w)| shown(DomainEvent::WhipDeclared(w.clone())))
        .map(|(_, w)| WhipLine {
            item: w.item,
            name: name(&w.person),
            party: w.party.clone(),
            nature: w.nature.clone(),
        })
        .collect();
    // A withdrawal is content of its item: the public learns that an
    // exempt item was withdrawn only once it may read the item's content,
    // as a public export, which withholds the withdrawal, shows it.
    let withdrawn = |item: &crate::record::Item| {
        item.withdrawn.is_some()
            && (audience != Audience::Public || visibility::may_read(meeting, Part::Content, Some(item.number)))
    };
    for item in meeting.items.iter().filter(|item| !withdrawn(item)) {
        let exempt = item.exempt_paragraph.map(|paragraph| ExemptBlock {
            paragraph,
            ground: exempt_paragraph(paragraph).unwrap_or("(not in the table)").to_owned(),
            summary: item.exempt_summary.as_ref().map(|s| s.text.clone()),
            released: item.exempt_released.clone(),
        });
        // Every entry (point, decision, action) is content of its item.
        let withheld = audience == Audience::Public && !visibility::may_read(meeting, Part::Content, Some(item.number));
        let entries = if withheld {
            Vec::new()
        } else {
            item.entries
                .iter()
                .filter(|(_, entry)| !entry.struck)
                .map(|(seq, entry)| MinuteEntry {
                    seq: seq.0,
                    redacted: entry.redacted.clone(),
                    kind: entry_view(record, &entry.kind, &entry.text.text),
                })
                .collect()
        };
        minutes.items.push(MinuteItem {
            item: item.number,
            minute: item.minute,
            title: item.title.text.clone(),
            kind: item.kind.name().to_owned(),
            presenters: item
                .presenters
                .iter()
                .filter(|(_, p)| shown(DomainEvent::PresenterRecorded(p.clone())))
                .map(|(_, p)| format!("{}, {}", name(&p.person), p.description))
                .collect(),
            exempt,
            withheld,
            entries,
        });
    }
    if let Some(closed) = &meeting.closed {
        minutes.ended_at = Some(closed.at.to_string());
        minutes.quorum = Some(QuorumLine {
            voting_members_present: closed.voting_members_present,
            quorum: closed.quorum,
            quorate: closed.quorate,
        });
    }
    if let Some(confirmation) = &meeting.confirmation {
        let by = record.meetings.get(&confirmation.confirmed.by_meeting);
        minutes.confirmation = Some(ConfirmationBlock {
            by_meeting: confirmation.confirmed.by_meeting.clone(),
            by_meeting_date: by.map(|m| m.date.to_string()),
            by_item: confirmation.confirmed.by_item,
            by_minute: by.and_then(|m| m.item(confirmation.confirmed.by_item)).and_then(|i| i.minute),
            recorded_at_us: confirmation.recorded_at_us,
            recorded_at: local_time(confirmation.recorded_at_us, &body.timezone),
        });
    }
    for signature in &meeting.signatures {
        let signed = &signature.signed;
        let pinned =
            |field: &str| signed.statement.lines().find_map(|line| line.strip_prefix(field).map(str::to_owned));
        minutes.signatures.push(SignatureBlock {
            signer: signed.signer.clone(),
            name: name(&signed.signer),
            signed_at_us: signature.recorded_at_us,
            signed_at: local_time(signature.recorded_at_us, &body.timezone),
            public_key: BASE64.encode(signed.public_key),
            tree_size: pinned("tree size: ").and_then(|size| size.parse().ok()),
            tree_root: pinned("tree root: "),
            statement: signed.statement.clone(),
            signature: BASE64.encode(signed.signature.0),
        });
    }
    for correction in &meeting.corrections {
        let c = &correction.corrected;
        let minute = record
            .entry_location(c.target)
            .and_then(|(_, item)| minute_of(item))
            .or_else(|| meeting.items.iter().find(|i| i.seq == c.target).and_then(|i| i.minute));
        let by_minute = record.meetings.get(&c.by_meeting).and_then(|m| m.item(c.by_item)).and_then(|i| i.minute);
        // A correction of an exempt item's content is as exempt as the content.
        if !shown(DomainEvent::MinutesCorrected(c.clone())) {
            minutes.corrections.push(CorrectionLine::withheld(correction.recorded_at_us, &body.timezone));
            continue;
        }
        minutes.corrections.push(CorrectionLine {
            withheld: false,
            minute,
            superseded: c.superseded.clone(),
            text: c.text.clone(),
            by_meeting: Some(c.by_meeting.clone()),
            by_item: Some(c.by_item),
            by_minute,
            reason: c.reason.clone(),
            recorded_at_us: correction.recorded_at_us,
            recorded_at: local_time(correction.recorded_at_us, &body.timezone),
        });
    }
    Some(minutes)
}

fn entry_view(record: &Record, kind: &EntryKind, text: &str) -> EntryView {
    let name = |person: &PersonId| name_of(record, person);
    match kind {
        EntryKind::Point => EntryView::Point { text: text.to_owned() },
        EntryKind::Decision(d) => EntryView::Decision {
            resolution: d.kind.title().to_owned(),
            text: text.to_owned(),
            vote: match &d.vote {
                Vote::None => None,
                Vote::Counts { for_, against, abstain } => {
                    Some(format!("For {for_}, against {against}, abstentions {abstain}"))
                }
                Vote::Recorded { for_, against, abstain } => {
                    let list = |people: &[PersonId]| {
                        if people.is_empty() {
                            "none".to_owned()
                        } else {
                            people.iter().map(name).collect::<Vec<_>>().join(", ")
                        }
                    };
                    Some(format!(
                        "Recorded vote. For ({}): {}. Against ({}): {}. Abstaining ({}): {}.",
                        for_.len(),
                        list(for_),
                        against.len(),
                        list(against),
                        abstain.len(),
                        list(abstain)
                    ))
                }
            },
            casting_vote: d.casting_vote.as_ref().map(|c| {
                format!("{} gave a casting vote {}", name(&c.chair), if c.in_favour { "in favour" } else { "against" })
            }),
            mover: d.mover.as_ref().map(name),
            seconder: d.seconder.as_ref().map(name),
            flagged: d.conflicts.iter().map(name).collect(),
        },
        EntryKind::Action { action, updates } => EntryView::Action {
            owner: action.owner.clone(),
            text: text.to_owned(),
            due: action.due.map(|d| d.to_string()),
            closed: updates.values().any(|u| u.closed),
        },
    }
}
