//! The record: one fold over the governance events of the whole log into
//! bodies, people and meetings, as they stand at a position.
//!
//! The minutes (and their canonical text), the command rules in src/ and
//! later views all read this one model, so that what a clerk is refused
//! and what the public reads come from the same fold.
//!
//! Redaction: the log replaces a redacted payload by a notice. The domain's
//! `payload.redacted` event, later in the same stream, carries a residue:
//! the same payload with its personal details replaced by a marker. When
//! the fold meets a redacted payload it is handed that residue (see
//! `catch_up`) and applies it in the event's place; when it meets the
//! `payload.redacted` event itself it applies the residue over what the
//! original put in place. Text set by an event is kept with that event's
//! position, and only an event at the same or a later position replaces
//! it, so both orders end in the same record.

use std::collections::{BTreeMap, HashMap};

use minutebook_catalogue::*;
use minutebook_log::{Event, EventHash, LogReader, Payload, Seq, StreamVersion};
use serde::{Deserialize, Serialize};

/// Events read per page while catching up.
pub const RECORD_PAGE_EVENTS: usize = 1_000;

/// The record as it stands after the events applied so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Position of the next event to apply.
    position: u64,
    streams: HashMap<String, u64>,
    pub bodies: BTreeMap<BodyId, Body>,
    pub people: BTreeMap<PersonId, Person>,
    pub meetings: BTreeMap<MeetingId, Meeting>,
    /// Where each item, point, decision and action an event recorded now
    /// lives, by that event's position.
    entries: EntryIndex,
    /// Events that did not decode as catalogue events, with why.
    pub undecodable: Vec<(Seq, String)>,
    /// When the log recorded the event being applied.
    #[serde(skip)]
    at_us: Transient<i64>,
    /// What changed since the store last saved the record.
    #[serde(skip)]
    pub(crate) dirty: Transient<Dirty>,
}

/// Where each entry lives: the event's position → its meeting and item.
pub(crate) type EntryIndex = HashMap<Seq, (MeetingId, u32)>;

/// Working state that is not part of what the record says: never saved,
/// and equal whatever it holds, so that two records compare by content.
#[derive(Clone, Debug, Default)]
pub(crate) struct Transient<T>(pub(crate) T);

impl<T> PartialEq for Transient<T> {
    fn eq(&self, _: &Transient<T>) -> bool {
        true
    }
}

/// The parts of a record changed since it was last saved.
#[derive(Clone, Debug, Default)]
pub(crate) struct Dirty {
    pub(crate) bodies: std::collections::BTreeSet<BodyId>,
    pub(crate) people: std::collections::BTreeSet<PersonId>,
    pub(crate) meetings: std::collections::BTreeSet<MeetingId>,
    pub(crate) streams: std::collections::BTreeSet<String>,
    /// Undecodable events from this index of `undecodable` on.
    pub(crate) undecodable_from: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Body {
    pub id: BodyId,
    pub name: String,
    pub kind: BodyKind,
    pub timezone: String,
    pub quorum: u32,
    pub minute_number_start: u32,
    /// The number the next minute takes.
    pub next_minute: u32,
    pub tenures: Vec<Tenure>,
    /// Meetings in the order they were scheduled.
    pub meetings: Vec<MeetingId>,
}

/// One span of a person's membership in one role.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenure {
    pub person: PersonId,
    pub role: MemberRole,
    pub from: Date,
    /// First date on which this tenure no longer holds.
    pub until: Option<Date>,
}

impl Body {
    /// The person's role on `date`, if they were a member then.
    pub fn role_on(&self, person: &PersonId, date: Date) -> Option<MemberRole> {
        self.tenures
            .iter()
            .find(|tenure| {
                &tenure.person == person && tenure.from <= date && tenure.until.is_none_or(|until| date < until)
            })
            .map(|tenure| tenure.role)
    }
    /// The person's open tenure, if they are a member with no end date.
    pub fn open_tenure(&self, person: &PersonId) -> Option<&Tenure> {
        self.tenures.iter().find(|tenure| &tenure.person == person && tenure.until.is_none())
    }
    fn open_tenure_mut(&mut self, person: &PersonId) -> Option<&mut Tenure> {
        self.tenures.iter_mut().find(|tenure| &tenure.person == person && tenure.until.is_none())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    pub name: String,
    pub title: Option<String>,
    pub organisation: Option<String>,
    pub job_title: Option<String>,
    pub keys: Vec<SigningKey>,
    pub redacted: Option<String>,
}

impl Person {
    /// How the minutes name them: "Councillor Ada Okoro".
    pub fn display_name(&self) -> String {
        match &self.title {
            Some(title) => format!("{title} {}", self.name),
            None => self.name.clone(),
        }
    }
    /// The registered key with these bytes, if any.
    pub fn key(&self, public_key: &[u8; 32]) -> Option<&SigningKey> {
        self.keys.iter().find(|key| &key.public_key == public_key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKey {
    pub public_key: [u8; 32],
    pub registered_at: Seq,
    pub revoked_at: Option<Seq>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MeetingStatus {
    Scheduled,
    Cancelled,
    InSession,
    Closed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub id: MeetingId,
    pub body: BodyId,
    pub date: Date,
    pub start: TimeOfDay,
    pub venue: String,
    pub status: MeetingStatus,
    pub cancelled_reason: Option<String>,
    pub agenda: Vec<AgendaItem>,
    pub papers: Vec<Paper>,
    pub opened_at: Option<TimeOfDay>,
    pub closed: Option<MeetingClosed>,
    pub attendance: Vec<Attendance>,
    pub apologies: Vec<Apology>,
    pub declarations: Vec<Declaration>,
    pub whips: Vec<(Seq, WhipDeclared)>,
    /// Items in the order they were taken.
    pub items: Vec<Item>,
    /// Position of `draft.published`, once it is, and when.
    pub draft_published: Option<Seq>,
    pub draft_published_at_us: Option<i64>,
    pub revisions: Vec<(Seq, DraftRevised)>,
    pub confirmation: Option<Confirmation>,
    pub signatures: Vec<Signature>,
    pub corrections: Vec<Correction>,
    /// Redacted events of this meeting, with their legal basis.
    pub redactions: Vec<(Seq, String)>,
    /// Hashes of the meeting stream's events, by stream version - 1.
    pub event_hashes: Vec<EventHash>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub seq: Seq,
    pub paper: PaperAttached,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendance {
    pub seq: Seq,
    pub person: PersonId,
    pub capacity: Capacity,
    pub presiding: bool,
    pub arrived_at: Option<TimeOfDay>,
    pub left_at: Option<TimeOfDay>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Apology {
    pub seq: Seq,
    pub person: PersonId,
    pub substitute: Option<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Declaration {
    pub seq: Seq,
    pub declaration: InterestDeclared,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub seq: Seq,
    pub number: u32,
    pub title: Text,
    pub kind: ItemKind,
    pub withdrawn: Option<String>,
    pub minute: Option<u32>,
    pub presenters: Vec<(Seq, PresenterRecorded)>,
    /// Points, decisions and actions in the order recorded.
    pub entries: BTreeMap<Seq, Entry>,
    /// The Schedule 12A paragraph, when the public was excluded.
    pub exempt_paragraph: Option<u8>,
    pub exempt_summary: Option<Text>,
    pub exempt_released: Option<String>,
}

impl Item {
    /// Taken with the public excluded and not yet released: its content is
    /// not the public's.
    pub fn exempt_unreleased(&self) -> bool {
        self.exempt_paragraph.is_some() && self.exempt_released.is_none()
    }
}

/// Text with the position of the event that set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Text {
    pub text: String,
    pub set_at: Seq,
}

impl Text {
    fn set(&mut self, text: &str, at: Seq) {
        if at >= self.set_at {
            self.text = text.to_owned();
            self.set_at = at;
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub text: Text,
    pub kind: EntryKind,
    pub struck: bool,
    /// The legal basis, when the event that recorded it was redacted.
    pub redacted: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EntryKind {
    Point,
    Decision(DecisionRecorded),
    Action { action: ActionAgreed, updates: BTreeMap<Seq, ActionUpdate> },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionUpdate {
    pub note: String,
    pub meeting: Option<MeetingId>,
    pub closed: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub seq: Seq,
    /// When the log recorded it (microseconds since the Unix epoch, UTC).
    pub recorded_at_us: i64,
    pub confirmed: MinutesConfirmed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    pub seq: Seq,
    pub recorded_at_us: i64,
    pub corrected: MinutesCorrected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    pub seq: Seq,
    pub recorded_at_us: i64,
    pub signed: MinutesSigned,
}

impl Meeting {
    pub fn stream(&self) -> String {
        self.id.stream()
    }
    pub fn item(&self, number: u32) -> Option<&Item> {
        self.items.iter().find(|item| item.number == number)
    }
    pub fn agenda_item(&self, number: u32) -> Option<&AgendaItem> {
        self.agenda.iter().find(|item| item.number == number)
    }
    pub fn attendance_of(&self, person: &PersonId) -> Option<&Attendance> {
        self.attendance.iter().find(|entry| &entry.person == person)
    }
    pub fn apology_of(&self, person: &PersonId) -> Option<&Apology> {
        self.apologies.iter().find(|entry| &entry.person == person)
    }
    pub fn presiding(&self) -> Option<&Attendance> {
        self.attendance.iter().find(|entry| entry.presiding)
    }
    pub fn is_signed(&self) -> bool {
        !self.signatures.is_empty()
    }
    /// The minute a minute number belongs to, if it is one of this meeting's.
    pub fn item_by_minute(&self, minute: u32) -> Option<&Item> {
        self.items.iter().find(|item| item.minute == Some(minute))
    }
}

impl Record {
    pub fn new() -> Record {
        Record::default()
    }

    /// Position of the next event to apply: the log length folded so far.
    pub fn position(&self) -> Seq {
        Seq(self.position)
    }

    /// How many events of `stream` the record has seen.
    pub fn stream_version(&self, stream: &str) -> StreamVersion {
        StreamVersion(self.streams.get(stream).copied().unwrap_or(0))
    }

    pub(crate) fn streams(&self) -> &HashMap<String, u64> {
        &self.streams
    }

    /// A record put back together from saved parts.
    pub(crate) fn from_parts(
        position: u64,
        streams: HashMap<String, u64>,
        bodies: BTreeMap<BodyId, Body>,
        people: BTreeMap<PersonId, Person>,
        meetings: BTreeMap<MeetingId, Meeting>,
        undecodable: Vec<(Seq, String)>,
    ) -> Record {
        // The entry index follows from the meetings: every item, and every
        // entry of an item, by the position of the event that recorded it.
        let mut entries = EntryIndex::new();
        for meeting in meetings.values() {
            for item in &meeting.items {
                entries.insert(item.seq, (meeting.id.clone(), item.number));
                for seq in item.entries.keys() {
                    entries.insert(*seq, (meeting.id.clone(), item.number));
                }
            }
        }
        Record { position, streams, bodies, people, meetings, entries, undecodable, ..Record::default() }
    }

    /// Moves on to position `seq` without applying the events before it:
    /// for folding part of the log, as an export bundle holds it, where the
    /// events left out belong to streams the fold does not need.
    pub fn skip_to(&mut self, seq: Seq) {
        assert!(seq.0 >= self.position, "a fold never goes back");
        self.position = seq.0;
    }

    /// Where the entry the event at `seq` recorded lives.
    pub fn entry_location(&self, seq: Seq) -> Option<(&MeetingId, u32)> {
        self.entries.get(&seq).map(|(meeting, item)| (meeting, *item))
    }

    /// Applies the next event. A redacted payload needs its residue and
    /// legal basis (found by `catch_up`); without one the event only counts
    /// towards its stream.
    pub fn apply(&mut self, event: &Event, residue: Option<(&DomainEvent, &str)>) {
        let seq = event.envelope.seq();
        assert_eq!(seq.0, self.position, "events are applied in order, each once");
        self.position += 1;
        self.at_us.0 = event.envelope.recorded_at_us();
        let stream = event.envelope.stream();
        match self.streams.get_mut(stream) {
            Some(version) => *version += 1,
            None => drop(self.streams.insert(stream.to_owned(), 1)),
        }
        self.mark_stream(stream);
        if let Some(meeting) = stream.strip_prefix("meeting:").and_then(|id| self.meetings.get_mut(id)) {
            meeting.event_hashes.push(event.hash);
        }
        match &event.payload {
            Payload::Present { bytes, .. } => {
                match DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes) {
                    Ok(domain_event) => self.apply_domain(seq, event.hash, event.envelope.stream(), domain_event),
                    Err(error) => {
                        self.dirty.0.undecodable_from.get_or_insert(self.undecodable.len());
                        self.undecodable.push((seq, error.0));
                    }
                }
            }
            Payload::Redacted { .. } => {
                if let Some((residue, basis)) = residue {
                    self.apply_domain(seq, event.hash, event.envelope.stream(), residue.clone());
                    self.mark_redacted(seq, event.envelope.stream(), basis);
                }
            }
        }
    }

    fn apply_domain(&mut self, seq: Seq, hash: EventHash, stream: &str, event: DomainEvent) {
        match event {
            DomainEvent::BodyRegistered(e) => {
                self.bodies.insert(
                    e.body.clone(),
                    Body {
                        id: e.body.clone(),
                        name: e.name.clone(),
                        kind: e.kind,
                        timezone: e.timezone.clone(),
                        quorum: e.quorum,
                        minute_number_start: e.minute_number_start,
                        next_minute: e.minute_number_start,
                        tenures: Vec::new(),
                        meetings: Vec::new(),
                    },
                );
            }
            DomainEvent::MemberAppointed(e) => {
                if let Some(body) = self.body_of_stream(stream) {
                    body.tenures.push(Tenure { person: e.person.clone(), role: e.role, from: e.from, until: None });
                }
            }
            DomainEvent::MemberRoleChanged(e) => {
                if let Some(body) = self.body_of_stream(stream) {
                    if let Some(tenure) = body.open_tenure_mut(&e.person) {
                        tenure.until = Some(e.from);
                    }
                    body.tenures.push(Tenure { person: e.person.clone(), role: e.role, from: e.from, until: None });
                }
            }
            DomainEvent::MemberLeft(e) => {
                if let Some(tenure) = self.body_of_stream(stream).and_then(|body| body.open_tenure_mut(&e.person)) {
                    tenure.until = Some(e.from);
                }
            }
            DomainEvent::MinuteNumbersAssigned(e) => {
                if let Some(body) = self.body_of_stream(stream) {
                    // `last` is read from the event; the rules keep it far
                    // below u32::MAX (MINUTE_NUMBER_MAX), a crafted log need not.
                    body.next_minute = body.next_minute.max(e.last.saturating_add(1));
                }
            }
            DomainEvent::ActionProgressed(e) => self.update_action(e.action, seq, &e.note, &e.meeting, false),
            DomainEvent::ActionClosed(e) => self.update_action(e.action, seq, &e.note, &e.meeting, true),
            DomainEvent::PersonRegistered(e) => {
                let person = self.people.entry(e.person.clone()).or_insert_with(|| Person {
                    id: e.person.clone(),
                    name: String::new(),
                    title: None,
                    organisation: None,
                    job_title: None,
                    keys: Vec::new(),
                    redacted: None,
                });
                person.name = e.name.clone();
                person.title = e.title.clone();
                person.organisation = e.organisation.clone();
            }
            DomainEvent::OfficerRegistered(e) => {
                if let Some(person) = self.people.get_mut(&e.person) {
                    person.job_title = Some(e.job_title.clone());
                }
            }
            DomainEvent::SigningKeyRegistered(e) => {
                if let Some(person) = self.people.get_mut(&e.person) {
                    person.keys.push(SigningKey { public_key: e.public_key, registered_at: seq, revoked_at: None });
                }
            }
            DomainEvent::SigningKeyRevoked(e) => {
                let key = self.people.get_mut(&e.person).and_then(|person| {
                    person.keys.iter_mut().find(|key| key.public_key == e.public_key && key.revoked_at.is_none())
                });
                if let Some(key) = key {
                    key.revoked_at = Some(seq);
                }
            }
            DomainEvent::MeetingScheduled(e) => {
                if let Some(body) = self.bodies.get_mut(&e.body) {
                    body.meetings.push(e.meeting.clone());
                    self.dirty.0.bodies.insert(e.body.clone());
                }
                self.dirty.0.meetings.insert(e.meeting.clone());
                self.meetings.insert(
                    e.meeting.clone(),
                    Meeting {
                        id: e.meeting.clone(),
                        body: e.body.clone(),
                        date: e.date,
                        start: e.start,
                        venue: e.venue.clone(),
                        status: MeetingStatus::Scheduled,
                        cancelled_reason: None,
                        agenda: Vec::new(),
                        papers: Vec::new(),
                        opened_at: None,
                        closed: None,
                        attendance: Vec::new(),
                        apologies: Vec::new(),
                        declarations: Vec::new(),
                        whips: Vec::new(),
                        items: Vec::new(),
                        draft_published: None,
                        draft_published_at_us: None,
                        revisions: Vec::new(),
                        confirmation: None,
                        signatures: Vec::new(),
                        corrections: Vec::new(),
                        redactions: Vec::new(),
                        event_hashes: vec![hash],
                    },
                );
            }
            DomainEvent::PayloadRedacted(e) => {
                let meeting = stream.strip_prefix("meeting:").and_then(|id| MeetingId::new(id).ok());
                if let Some(meeting) = meeting.and_then(|id| self.meetings.get_mut(&id)) {
                    meeting.redactions.push((e.target, e.legal_basis.clone()));
                }
                self.redact_in_place(&e, stream);
            }
            _ => self.apply_meeting(seq, stream, event),
        }
    }

    fn apply_meeting(&mut self, seq: Seq, stream: &str, event: DomainEvent) {
        let Some(meeting) = stream.strip_prefix("meeting:").and_then(|id| self.meetings.get_mut(id)) else {
            return;
        };
        let mut located: Option<u32> = None;
        match event {
            DomainEvent::MeetingRescheduled(e) => {
                meeting.date = e.date;
                meeting.start = e.start;
                meeting.venue = e.venue.clone();
            }
            DomainEvent::MeetingCancelled(e) => {
                meeting.status = MeetingStatus::Cancelled;
                meeting.cancelled_reason = Some(e.reason.clone());
            }
            DomainEvent::AgendaPublished(e) => meeting.agenda = e.items,
            DomainEvent::PaperAttached(e) => upsert(&mut meeting.papers, |p| p.seq, Paper { seq, paper: e }),
            DomainEvent::MeetingOpened(e) => {
                meeting.status = MeetingStatus::InSession;
                meeting.opened_at = Some(e.at);
            }
            DomainEvent::AttendanceRecorded(e) => {
                let left_at = meeting.attendance.iter().find(|a| a.seq == seq).and_then(|a| a.left_at);
                let entry = Attendance {
                    seq,
                    person: e.person,
                    capacity: e.capacity,
                    presiding: e.presiding,
                    arrived_at: e.arrived_at,
                    left_at,
                };
                upsert(&mut meeting.attendance, |a| a.seq, entry);
            }
            DomainEvent::DepartureRecorded(e) => {
                if let Some(entry) = meeting.attendance.iter_mut().find(|a| a.person == e.person) {
                    entry.left_at = Some(e.at);
                }
            }
            DomainEvent::ApologiesRecorded(e) => {
                let entry = Apology { seq, person: e.person, substitute: e.substitute };
                upsert(&mut meeting.apologies, |a| a.seq, entry);
            }
            DomainEvent::InterestDeclared(e) => {
                upsert(&mut meeting.declarations, |d| d.seq, Declaration { seq, declaration: e })
            }
            DomainEvent::WhipDeclared(e) => upsert(&mut meeting.whips, |w| w.0, (seq, e)),
            DomainEvent::ItemTaken(e) => {
                meeting.items.push(Item {
                    seq,
                    number: e.item,
                    title: Text { text: e.title, set_at: seq },
                    kind: e.kind,
                    withdrawn: None,
                    minute: None,
                    presenters: Vec::new(),
                    entries: BTreeMap::new(),
                    exempt_paragraph: None,
                    exempt_summary: None,
                    exempt_released: None,
                });
                located = Some(e.item);
            }
            DomainEvent::ItemWithdrawn(e) => {
                if let Some(item) = item_mut(meeting, e.item) {
                    item.withdrawn = Some(e.reason.clone());
                }
            }
            DomainEvent::PresenterRecorded(e) => {
                if let Some(item) = item_mut(meeting, e.item) {
                    upsert(&mut item.presenters, |p| p.0, (seq, e));
                }
            }
            DomainEvent::PointRecorded(e) => {
                insert_entry(meeting, e.item, seq, e.text, EntryKind::Point);
                located = Some(e.item);
            }
            // The text lives in the entry (revisions and corrections change
            // it), not in the stored decision or action.
            DomainEvent::DecisionRecorded(mut e) => {
                let (item, text) = (e.item, std::mem::take(&mut e.text));
                insert_entry(meeting, item, seq, text, EntryKind::Decision(e));
                located = Some(item);
            }
            DomainEvent::ActionAgreed(mut e) => {
                let updates = item_mut(meeting, e.item)
                    .and_then(|item| item.entries.get(&seq))
                    .and_then(|entry| match &entry.kind {
                        EntryKind::Action { updates, .. } => Some(updates.clone()),
                        _ => None,
                    })
                    .unwrap_or_default();
                let (item, text) = (e.item, std::mem::take(&mut e.text));
                insert_entry(meeting, item, seq, text, EntryKind::Action { action: e, updates });
                located = Some(item);
            }
            DomainEvent::PublicExcluded(e) => {
                if let Some(item) = item_mut(meeting, e.item) {
                    item.exempt_paragraph = Some(e.paragraph);
                }
            }
            DomainEvent::ExemptSummaryRecorded(e) => {
                if let Some(item) = item_mut(meeting, e.item) {
                    match &mut item.exempt_summary {
                        Some(summary) => summary.set(&e.summary, seq),
                        None => item.exempt_summary = Some(Text { text: e.summary.clone(), set_at: seq }),
                    }
                }
            }
            DomainEvent::ExemptReleased(e) => {
                if let Some(item) = item_mut(meeting, e.item) {
                    item.exempt_released = Some(e.reason.clone());
                }
            }
            DomainEvent::MeetingClosed(e) => {
                meeting.status = MeetingStatus::Closed;
                meeting.closed = Some(e);
            }
            DomainEvent::DraftPublished(e) => {
                meeting.draft_published = Some(seq);
                meeting.draft_published_at_us = Some(self.at_us.0);
                for assignment in &e.minutes {
                    if let Some(item) = item_mut(meeting, assignment.item) {
                        item.minute = Some(assignment.minute);
                    }
                }
            }
            DomainEvent::DraftRevised(e) => {
                upsert(&mut meeting.revisions, |r| r.0, (seq, e.clone()));
                match &e.change {
                    Revision::ReplaceText { target, text } => set_entry_text(meeting, *target, text, seq),
                    Revision::AddPoint { item, text } => {
                        insert_entry(meeting, *item, seq, text.clone(), EntryKind::Point);
                        located = Some(*item);
                    }
                    Revision::Strike { target } => {
                        if let Some(entry) = find_entry_mut(meeting, *target) {
                            entry.struck = true;
                        }
                    }
                }
            }
            DomainEvent::MinutesConfirmed(e) => {
                meeting.confirmation = Some(Confirmation { seq, recorded_at_us: self.at_us.0, confirmed: e })
            }
            DomainEvent::MinutesSigned(e) => {
                meeting.signatures.push(Signature { seq, recorded_at_us: self.at_us.0, signed: e })
            }
            DomainEvent::MinutesCorrected(e) => {
                // A redaction's residue keeps the time of the correction.
                let recorded_at_us =
                    meeting.corrections.iter().find(|c| c.seq == seq).map_or(self.at_us.0, |c| c.recorded_at_us);
                set_entry_text(meeting, e.target, &e.text, seq);
                upsert(&mut meeting.corrections, |c| c.seq, Correction { seq, recorded_at_us, corrected: e });
            }
            _ => {}
        }
        if let Some(item) = located {
            let meeting_id = meeting.id.clone();
            self.entries.insert(seq, (meeting_id, item));
        }
    }

    /// Applies a `payload.redacted` event's residue over what the original
    /// event put in place.
    fn redact_in_place(&mut self, redaction: &PayloadRedacted, stream: &str) {
        if let Ok(residue) = redaction.decode_residue() {
            self.apply_domain(redaction.target, redaction.target_hash, stream, residue);
            self.mark_redacted(redaction.target, stream, &redaction.legal_basis);
        }
    }

    fn mark_redacted(&mut self, seq: Seq, stream: &str, basis: &str) {
        if let Some(person) = stream.strip_prefix("person:").and_then(|id| PersonId::new(id).ok()) {
            if let Some(person) = self.people.get_mut(&person) {
                person.redacted = Some(basis.to_owned());
            }
            return;
        }
        let Some((meeting, item)) = self.entries.get(&seq).cloned() else {
            return;
        };
        if let Some(entry) =
            self.meetings.get_mut(&meeting).and_then(|m| item_mut(m, item)).and_then(|i| i.entries.get_mut(&seq))
        {
            entry.redacted = Some(basis.to_owned());
        }
    }

    /// Marks the stream and the entity it belongs to as changed.
    fn mark_stream(&mut self, stream: &str) {
        let dirty = &mut self.dirty.0;
        if dirty.streams.contains(stream) {
            // Its entity was marked with it.
            return;
        }
        dirty.streams.insert(stream.to_owned());
        if let Some((kind, id)) = stream.split_once(':') {
            match kind {
                "body" => dirty.bodies.extend(BodyId::new(id).ok()),
                "person" => dirty.people.extend(PersonId::new(id).ok()),
                "meeting" => dirty.meetings.extend(MeetingId::new(id).ok()),
                _ => {}
            }
        }
    }

    fn body_of_stream(&mut self, stream: &str) -> Option<&mut Body> {
        let id = BodyId::new(stream.strip_prefix("body:")?).ok()?;
        self.bodies.get_mut(&id)
    }

    fn update_action(&mut self, action: Seq, seq: Seq, note: &str, meeting: &Option<MeetingId>, closed: bool) {
        let Some((source, item)) = self.entries.get(&action).cloned() else {
            return;
        };
        self.dirty.0.meetings.insert(source.clone());
        let entry =
            self.meetings.get_mut(&source).and_then(|m| item_mut(m, item)).and_then(|i| i.entries.get_mut(&action));
        if let Some(Entry { kind: EntryKind::Action { updates, .. }, .. }) = entry {
            updates.insert(seq, ActionUpdate { note: note.to_owned(), meeting: meeting.clone(), closed });
        }
    }
}

fn upsert<T>(list: &mut Vec<T>, seq_of: impl Fn(&T) -> Seq, value: T) {
    let seq = seq_of(&value);
    match list.binary_search_by_key(&seq, &seq_of) {
        Ok(at) => list[at] = value,
        Err(at) => list.insert(at, value),
    }
}

fn item_mut(meeting: &mut Meeting, number: u32) -> Option<&mut Item> {
    meeting.items.iter_mut().find(|item| item.number == number)
}

fn insert_entry(meeting: &mut Meeting, item: u32, seq: Seq, text: String, kind: EntryKind) {
    let Some(item) = item_mut(meeting, item) else {
        return;
    };
    let (struck, redacted, text) = match item.entries.get(&seq) {
        Some(old) => (old.struck, old.redacted.clone(), {
            let mut kept = old.text.clone();
            kept.set(&text, seq);
            kept
        }),
        None => (false, None, Text { text, set_at: seq }),
    };
    item.entries.insert(seq, Entry { text, kind, struck, redacted });
}

fn find_entry_mut(meeting: &mut Meeting, target: Seq) -> Option<&mut Entry> {
    meeting.items.iter_mut().find_map(|item| item.entries.get_mut(&target))
}

fn set_entry_text(meeting: &mut Meeting, target: Seq, text: &str, at: Seq) {
    if let Some(item) = meeting.items.iter_mut().find(|item| item.seq == target) {
        item.title.set(text, at);
        return;
    }
    if let Some(entry) = find_entry_mut(meeting, target) {
        entry.text.set(text, at);
    }
}

/// Folds every durable event from the record's position on, handing each
/// redacted payload its residue from the `payload.redacted` event later in
/// the same stream.
pub fn catch_up(reader: &LogReader, record: &mut Record) -> minutebook_log::Result<Seq> {
    catch_up_to(reader, record, u64::MAX)
}

/// As `catch_up`, but stops before position `end`: the record as it stood
/// when the log held `end` events.
pub fn catch_up_to(reader: &LogReader, record: &mut Record, end: u64) -> minutebook_log::Result<Seq> {
    loop {
        let want = (end.saturating_sub(record.position) as usize).min(RECORD_PAGE_EVENTS);
        if want == 0 {
            return Ok(record.position());
        }
        let events = reader.read(record.position(), want)?;
        if events.is_empty() {
            return Ok(record.position());
        }
        for event in &events {
            apply_from_log(reader, record, event)?;
        }
    }
}

/// Applies the next event as read from the log, finding a redacted
/// payload's residue in its stream.
pub fn apply_from_log(reader: &LogReader, record: &mut Record, event: &Event) -> minutebook_log::Result<()> {
    match &event.payload {
        Payload::Present { .. } => record.apply(event, None),
        Payload::Redacted { .. } => {
            let residue = find_residue(reader, event)?;
            record.apply(event, residue.as_ref().map(|(residue, basis)| (residue, basis.as_str())));
        }
    }
    Ok(())
}

fn find_residue(reader: &LogReader, event: &Event) -> minutebook_log::Result<Option<(DomainEvent, String)>> {
    let stream = event.envelope.stream();
    let mut from = StreamVersion(event.envelope.stream_version().0 + 1);
    loop {
        let later = reader.read_stream(stream, from, RECORD_PAGE_EVENTS)?;
        let Some(last) = later.last() else {
            return Ok(None);
        };
        from = StreamVersion(last.envelope.stream_version().0 + 1);
        if let Some(found) = residue_among(&later, event) {
            return Ok(Some(found));
        }
    }
}

/// The residue and legal basis that stand in for a redacted `event`, from
/// the `payload.redacted` event among `later` (events after it) that names
/// it by position and hash.
pub fn residue_among<'a>(later: impl IntoIterator<Item = &'a Event>, event: &Event) -> Option<(DomainEvent, String)> {
    for candidate in later {
        if candidate.envelope.stream() != event.envelope.stream()
            || candidate.envelope.event_type() != "payload.redacted"
        {
            continue;
        }
        let Payload::Present { bytes, .. } = &candidate.payload else {
            continue;
        };
        let Ok(DomainEvent::PayloadRedacted(redaction)) =
            DomainEvent::decode("payload.redacted", candidate.envelope.schema_version(), bytes)
        else {
            continue;
        };
        // A residue stands in only for the event whose hash it names.
        if redaction.target != event.envelope.seq() || redaction.target_hash != event.hash {
            continue;
        }
        return redaction.decode_residue().ok().map(|residue| (residue, redaction.legal_basis));
    }
    None
}
