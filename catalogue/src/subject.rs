//! What an event is about: which part of the record it is, and which
//! meeting, agenda item, earlier entry or action it belongs to. Who may
//! read an event is decided from this declaration alone (the projections'
//! `visibility`). Every event type declares its subject beside its payload,
//! in `DomainEvent::subject` (events.rs), one exhaustive `match`: a new
//! event type does not compile until it says what it is.

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
    pub(crate) fn of(part: Part) -> Subject {
        Subject { part, meeting: None, item: None, target: None, action: None }
    }
    pub(crate) fn item(part: Part, item: u32) -> Subject {
        Subject { item: Some(item), ..Subject::of(part) }
    }
}
