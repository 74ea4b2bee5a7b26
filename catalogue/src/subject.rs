//! What each event is about: which part of the record it is, and which
//! meeting, agenda item, earlier entry or action it belongs to. Who may
//! read an event is decided from this declaration alone (the projections'
//! `visibility`), so every event type declares it here, in one exhaustive
//! `match`: a new event type does not compile until it says what it is.

use super::events::{DomainEvent, Revision};
use super::values::MeetingId;
use minutebook_log::Seq;

/// Which part of the record an event is. The part, with the state of the
/// meeting and item the event belongs to, decides who may read it
/// (docs/API.md): the catalogue says what an event is, the views decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Part {
    /// Outside any meeting's minutes: a body and its members, a person,
    /// their signing keys. A public register.
    Register,
    /// A meeting's notice: when and where it is, its agenda, that it was
    /// cancelled, when it opened and closed. Public as soon as recorded.
    Notice,
    /// The frame of the minutes: an item's heading, the exclusion of the
    /// public and its paragraph, an exempt item's public summary and its
    /// release, publication, minute numbers, confirmation and signature.
    /// Public once the draft is published, exempt items included.
    Heading,
    /// What was said, done, declared and attached, and every change to it.
    /// Public once the draft is published, unless it belongs to an exempt
    /// item not yet released.
    Content,
}

impl Part {
    /// Every part, in order.
    pub const ALL: [Part; 4] = [Part::Register, Part::Notice, Part::Heading, Part::Content];

    /// The part's name as docs/EVENTS.md gives it.
    pub fn name(self) -> &'static str {
        match self {
            Part::Register => "register",
            Part::Notice => "notice",
            Part::Heading => "heading",
            Part::Content => "content",
        }
    }
}

/// What an event is about, as its payload says. An event in a meeting's
/// stream belongs to that meeting; `meeting` is set only when the payload
/// itself names the meeting it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub part: Part,
    /// The meeting the payload names as the one it belongs to.
    pub meeting: Option<MeetingId>,
    /// The agenda item it belongs to.
    pub item: Option<u32>,
    /// The earlier event whose entry (an item's heading, a point, a
    /// decision, an action) it changes: it belongs where that entry does.
    pub target: Option<Seq>,
    /// The `action.agreed` event of the action it reports on: it belongs
    /// where that action does.
    pub action: Option<Seq>,
}

impl Subject {
    fn of(part: Part) -> Subject {
        Subject { part, meeting: None, item: None, target: None, action: None }
    }
    fn item(part: Part, item: u32) -> Subject {
        Subject { item: Some(item), ..Subject::of(part) }
    }
}

impl DomainEvent {
    /// What this event is about. A redaction is about what the event it
    /// redacts was about: its residue carries that event's text.
    pub fn subject(&self) -> Subject {
        match self {
            DomainEvent::PayloadRedacted(redaction) => match redaction.decode_residue() {
                // A residue that is itself a redaction is not one the rules
                // write; it is kept to its target, not followed further.
                Ok(residue) if !matches!(residue, DomainEvent::PayloadRedacted(_)) => residue.own_subject(),
                _ => Subject { target: Some(redaction.target), ..Subject::of(Part::Content) },
            },
            other => other.own_subject(),
        }
    }

    /// The subject this event's own payload declares.
    fn own_subject(&self) -> Subject {
        use Part::*;
        match self {
            DomainEvent::BodyRegistered(_) => Subject::of(Register),
            DomainEvent::MemberAppointed(_) => Subject::of(Register),
            DomainEvent::MemberRoleChanged(_) => Subject::of(Register),
            DomainEvent::MemberLeft(_) => Subject::of(Register),
            DomainEvent::MinuteNumbersAssigned(e) => {
                Subject { meeting: Some(e.meeting.clone()), ..Subject::of(Heading) }
            }
            DomainEvent::ActionProgressed(e) => Subject { action: Some(e.action), ..Subject::of(Content) },
            DomainEvent::ActionClosed(e) => Subject { action: Some(e.action), ..Subject::of(Content) },
            DomainEvent::PersonRegistered(_) => Subject::of(Register),
            DomainEvent::OfficerRegistered(_) => Subject::of(Register),
            DomainEvent::SigningKeyRegistered(_) => Subject::of(Register),
            DomainEvent::SigningKeyRevoked(_) => Subject::of(Register),
            DomainEvent::MeetingScheduled(e) => Subject { meeting: Some(e.meeting.clone()), ..Subject::of(Notice) },
            DomainEvent::MeetingRescheduled(_) => Subject::of(Notice),
            DomainEvent::MeetingCancelled(_) => Subject::of(Notice),
            DomainEvent::AgendaPublished(_) => Subject::of(Notice),
            DomainEvent::PaperAttached(e) => Subject { item: e.item, ..Subject::of(Content) },
            DomainEvent::MeetingOpened(_) => Subject::of(Notice),
            DomainEvent::AttendanceRecorded(_) => Subject::of(Content),
            DomainEvent::DepartureRecorded(_) => Subject::of(Content),
            DomainEvent::ApologiesRecorded(_) => Subject::of(Content),
            DomainEvent::InterestDeclared(e) => Subject::item(Content, e.item),
            DomainEvent::WhipDeclared(e) => Subject::item(Content, e.item),
            DomainEvent::ItemTaken(e) => Subject::item(Heading, e.item),
            // Why an item was withdrawn may tell what it was about.
            DomainEvent::ItemWithdrawn(e) => Subject::item(Content, e.item),
            DomainEvent::PresenterRecorded(e) => Subject::item(Content, e.item),
            DomainEvent::PointRecorded(e) => Subject::item(Content, e.item),
            DomainEvent::DecisionRecorded(e) => Subject::item(Content, e.item),
            DomainEvent::ActionAgreed(e) => Subject::item(Content, e.item),
            DomainEvent::PublicExcluded(e) => Subject::item(Heading, e.item),
            DomainEvent::ExemptSummaryRecorded(e) => Subject::item(Heading, e.item),
            DomainEvent::ExemptReleased(e) => Subject::item(Heading, e.item),
            DomainEvent::MeetingClosed(_) => Subject::of(Notice),
            DomainEvent::DraftPublished(_) => Subject::of(Heading),
            DomainEvent::DraftRevised(e) => match &e.change {
                Revision::ReplaceText { target, .. } | Revision::Strike { target } => {
                    Subject { target: Some(*target), ..Subject::of(Content) }
                }
                Revision::AddPoint { item, .. } => Subject::item(Content, *item),
            },
            DomainEvent::MinutesConfirmed(_) => Subject::of(Heading),
            DomainEvent::MinutesSigned(_) => Subject::of(Heading),
            DomainEvent::MinutesCorrected(e) => Subject { target: Some(e.target), ..Subject::of(Content) },
            DomainEvent::PayloadRedacted(e) => Subject { target: Some(e.target), ..Subject::of(Content) },
        }
    }
}
