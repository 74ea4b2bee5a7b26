//! Every governance event, its payload, its type name and schema version.
//!
//! A payload is encoded with postcard, like the envelope. Decoding takes
//! the event type and schema version from the envelope; an older schema
//! version is decoded into its old shape and upcast to the current one,
//! so stored events are never rewritten. docs/EVENTS.md is the catalogue
//! for people; a test checks that it names every type and version here.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::subject::{Part, Subject};
use super::values::{
    BodyId, BodyKind, Capacity, Date, DecisionKind, InterestKind, ItemKind, MeetingId, MemberRole, PersonId, TimeOfDay,
    Vote,
};
use minutebook_log::{EventHash, Seq};

/// An Ed25519 signature's 64 bytes (encoded as a postcard byte string).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignatureBytes(pub [u8; 64]);

impl Serialize for SignatureBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(&minutebook_log::hex(&self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for SignatureBytes {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SignatureBytes, D::Error> {
        let bytes: Vec<u8> = serde_bytes_vec(deserializer)?;
        let array: [u8; 64] = bytes.try_into().map_err(|_| serde::de::Error::custom("a signature must be 64 bytes"))?;
        Ok(SignatureBytes(array))
    }
}

fn serde_bytes_vec<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    struct Visitor;
    impl<'de> serde::de::Visitor<'de> for Visitor {
        type Value = Vec<u8>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a byte string")
        }
        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }
        fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }
    }
    deserializer.deserialize_bytes(Visitor)
}

// ---- a body's stream: `body:<id>` ----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BodyRegistered {
    pub body: BodyId,
    pub name: String,
    pub kind: BodyKind,
    /// IANA timezone name in which the body's dates and times are read.
    pub timezone: String,
    /// Voting members who must be present for business to be done.
    pub quorum: u32,
    /// The number the body's first minute takes.
    pub minute_number_start: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberAppointed {
    pub person: PersonId,
    pub role: MemberRole,
    /// A member from this date on.
    pub from: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRoleChanged {
    pub person: PersonId,
    pub role: MemberRole,
    pub from: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLeft {
    pub person: PersonId,
    /// No longer a member on this date and after.
    pub from: Date,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteNumbersAssigned {
    pub meeting: MeetingId,
    pub first: u32,
    pub last: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionProgressed {
    /// Position of the `action.agreed` event.
    pub action: Seq,
    pub note: String,
    /// The meeting at which progress was reported, if any.
    pub meeting: Option<MeetingId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionClosed {
    pub action: Seq,
    pub note: String,
    pub meeting: Option<MeetingId>,
}

// ---- a person's stream: `person:<id>` ----

/// Schema version 2 added `organisation`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRegistered {
    pub person: PersonId,
    pub name: String,
    /// Honorific or title as the minutes show it ("Councillor", "Dr").
    pub title: Option<String>,
    pub organisation: Option<String>,
}

/// `person.registered` as schema version 1 stored it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRegisteredV1 {
    pub person: PersonId,
    pub name: String,
    pub title: Option<String>,
}

impl From<PersonRegisteredV1> for PersonRegistered {
    fn from(old: PersonRegisteredV1) -> PersonRegistered {
        PersonRegistered { person: old.person, name: old.name, title: old.title, organisation: None }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerRegistered {
    pub person: PersonId,
    pub job_title: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRegistered {
    pub person: PersonId,
    pub public_key: [u8; 32],
    /// Proof of possession: the key's signature over the registration
    /// statement (docs/SIGNING.md) naming the person and the key.
    pub proof: SignatureBytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeyRevoked {
    pub person: PersonId,
    pub public_key: [u8; 32],
    pub reason: String,
}

// ---- a meeting's stream: `meeting:<id>` ----

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingScheduled {
    pub meeting: MeetingId,
    pub body: BodyId,
    pub date: Date,
    pub start: TimeOfDay,
    pub venue: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingRescheduled {
    pub date: Date,
    pub start: TimeOfDay,
    pub venue: String,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingCancelled {
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaItem {
    /// Numbered 1..n in agenda order.
    pub number: u32,
    pub title: String,
    pub kind: ItemKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaPublished {
    pub items: Vec<AgendaItem>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaperAttached {
    /// The paper's letter or number in the agenda pack ("A", "4").
    pub reference: String,
    pub title: String,
    /// BLAKE3 of the paper's bytes: its file name in the papers directory.
    pub content_hash: [u8; 32],
    pub size_bytes: u64,
    pub media_type: String,
    /// The agenda item it belongs to, if any.
    pub item: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingOpened {
    pub at: TimeOfDay,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceRecorded {
    pub person: PersonId,
    pub capacity: Capacity,
    /// Whether this person presided (took the chair).
    pub presiding: bool,
    /// Set when they arrived after the start.
    pub arrived_at: Option<TimeOfDay>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DepartureRecorded {
    pub person: PersonId,
    pub at: TimeOfDay,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApologiesRecorded {
    pub person: PersonId,
    pub substitute: Option<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InterestDeclared {
    pub person: PersonId,
    pub item: u32,
    pub kind: InterestKind,
    pub nature: String,
    /// Whether they left the room for the item.
    pub withdrew: bool,
    pub dispensation: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhipDeclared {
    pub person: PersonId,
    pub item: u32,
    pub party: String,
    pub nature: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTaken {
    /// The agenda number; minute numbers come when the draft is published.
    pub item: u32,
    pub title: String,
    pub kind: ItemKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemWithdrawn {
    pub item: u32,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresenterRecorded {
    pub item: u32,
    pub person: PersonId,
    /// How the minutes describe them ("Director of Communities").
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PointRecorded {
    pub item: u32,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CastingVote {
    pub chair: PersonId,
    pub in_favour: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecorded {
    pub item: u32,
    pub text: String,
    pub kind: DecisionKind,
    pub vote: Vote,
    pub casting_vote: Option<CastingVote>,
    pub mover: Option<PersonId>,
    pub seconder: Option<PersonId>,
    /// Members who voted on the item after declaring a disclosable
    /// pecuniary interest in it without a dispensation: recorded, not
    /// refused, because the clerk records what happened.
    pub conflicts: Vec<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionAgreed {
    pub item: u32,
    /// Who agreed to act, as the minutes name them ("the Director").
    pub owner: String,
    pub owner_person: Option<PersonId>,
    pub text: String,
    pub due: Option<Date>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicExcluded {
    pub item: u32,
    /// The paragraph of Schedule 12A (see `exempt_paragraphs`).
    pub paragraph: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptSummaryRecorded {
    pub item: u32,
    pub summary: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExemptReleased {
    pub item: u32,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeetingClosed {
    pub at: TimeOfDay,
    pub voting_members_present: u32,
    pub quorum: u32,
    pub quorate: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinuteAssignment {
    pub item: u32,
    pub minute: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftPublished {
    /// Minute numbers for the items taken and not withdrawn, in the order
    /// they were taken, running on from the body's last number.
    pub minutes: Vec<MinuteAssignment>,
}

/// One change to a draft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Revision {
    /// New text for the entry the event at `target` recorded (an item's
    /// title, a point, a decision's or an action's text).
    ReplaceText {
        target: Seq,
        text: String,
    },
    AddPoint {
        item: u32,
        text: String,
    },
    /// Removes the entry the event at `target` recorded.
    Strike {
        target: Seq,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftRevised {
    pub change: Revision,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesConfirmed {
    pub by_meeting: MeetingId,
    pub by_item: u32,
    /// The meeting's stream versions 1..=events are the events confirmed.
    pub events: u64,
    pub events_digest: [u8; 32],
    pub minutes_digest: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesSigned {
    pub signer: PersonId,
    pub public_key: [u8; 32],
    /// The statement signed, exactly (docs/SIGNING.md).
    pub statement: String,
    pub signature: SignatureBytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MinutesCorrected {
    /// The event whose entry is corrected.
    pub target: Seq,
    pub superseded: String,
    pub text: String,
    pub by_meeting: MeetingId,
    pub by_item: u32,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PayloadRedacted {
    pub target: Seq,
    pub target_hash: EventHash,
    /// The redacted event's type.
    pub target_type: String,
    pub legal_basis: String,
    /// The redacted event's payload with its personal details replaced by
    /// a marker, encoded as `residue_schema_version` of `target_type`: what
    /// projections show in its place.
    pub residue: Vec<u8>,
    pub residue_schema_version: u16,
}

/// Why a payload does not decode as a catalogue event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogueError(pub String);

impl std::fmt::Display for CatalogueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CatalogueError {}

macro_rules! catalogue {
    ($($variant:ident = $name:literal v $version:literal,)*) => {
        /// Any governance event.
        #[derive(Clone, Debug, PartialEq, Eq)]
        pub enum DomainEvent {
            $($variant($variant),)*
        }

        /// A payload serialises as itself, without the variant: the event
        /// type travels beside it (in the envelope, or a JSON field).
        impl Serialize for DomainEvent {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                match self {
                    $(DomainEvent::$variant(payload) => payload.serialize(serializer),)*
                }
            }
        }

        /// Every event type with its current schema version.
        pub const CATALOGUE: &[(&str, u16)] = &[$(($name, $version),)*];

        impl DomainEvent {
            /// The envelope's event type.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(DomainEvent::$variant(_) => $name,)*
                }
            }
            /// The schema version this code writes.
            pub fn schema_version(&self) -> u16 {
                match self {
                    $(DomainEvent::$variant(_) => $version,)*
                }
            }
            /// The payload bytes.
            pub fn encode(&self) -> Vec<u8> {
                let bytes = match self {
                    $(DomainEvent::$variant(payload) => postcard::to_stdvec(payload),)*
                };
                bytes.expect("a catalogue payload always encodes")
            }
            /// Decodes a payload of the given type and schema version,
            /// upcasting older versions; rejects trailing bytes.
            pub fn decode(event_type: &str, schema_version: u16, bytes: &[u8]) -> Result<DomainEvent, CatalogueError> {
                match (event_type, schema_version) {
                    $(($name, $version) => strict(bytes).map(DomainEvent::$variant),)*
                    _ => upcast(event_type, schema_version, bytes),
                }
            }
        }
    };
}

catalogue! {
    BodyRegistered = "body.registered" v 1,
    MemberAppointed = "member.appointed" v 1,
    MemberRoleChanged = "member.role_changed" v 1,
    MemberLeft = "member.left" v 1,
    MinuteNumbersAssigned = "minute_numbers.assigned" v 1,
    ActionProgressed = "action.progressed" v 1,
    ActionClosed = "action.closed" v 1,
    PersonRegistered = "person.registered" v 2,
    OfficerRegistered = "officer.registered" v 1,
    SigningKeyRegistered = "signing_key.registered" v 1,
    SigningKeyRevoked = "signing_key.revoked" v 1,
    MeetingScheduled = "meeting.scheduled" v 1,
    MeetingRescheduled = "meeting.rescheduled" v 1,
    MeetingCancelled = "meeting.cancelled" v 1,
    AgendaPublished = "agenda.published" v 1,
    PaperAttached = "paper.attached" v 1,
    MeetingOpened = "meeting.opened" v 1,
    AttendanceRecorded = "attendance.recorded" v 1,
    DepartureRecorded = "departure.recorded" v 1,
    ApologiesRecorded = "apologies.recorded" v 1,
    InterestDeclared = "interest.declared" v 1,
    WhipDeclared = "whip.declared" v 1,
    ItemTaken = "item.taken" v 1,
    ItemWithdrawn = "item.withdrawn" v 1,
    PresenterRecorded = "presenter.recorded" v 1,
    PointRecorded = "point.recorded" v 1,
    DecisionRecorded = "decision.recorded" v 1,
    ActionAgreed = "action.agreed" v 1,
    PublicExcluded = "public.excluded" v 1,
    ExemptSummaryRecorded = "exempt.summary_recorded" v 1,
    ExemptReleased = "exempt.released" v 1,
    MeetingClosed = "meeting.closed" v 1,
    DraftPublished = "draft.published" v 1,
    DraftRevised = "draft.revised" v 1,
    MinutesConfirmed = "minutes.confirmed" v 1,
    MinutesSigned = "minutes.signed" v 1,
    MinutesCorrected = "minutes.corrected" v 1,
    PayloadRedacted = "payload.redacted" v 1,
}

/// Older schema versions still in stored logs, decoded in their old shape
/// and brought up to the current one. Add an arm here when a payload
/// changes shape, and keep the old struct for ever.
fn upcast(event_type: &str, schema_version: u16, bytes: &[u8]) -> Result<DomainEvent, CatalogueError> {
    match (event_type, schema_version) {
        ("person.registered", 1) => {
            strict::<PersonRegisteredV1>(bytes).map(|old| DomainEvent::PersonRegistered(old.into()))
        }
        _ => match CATALOGUE.iter().find(|(name, _)| *name == event_type) {
            Some((_, current)) => Err(CatalogueError(format!(
                "event type {event_type} has no schema version {schema_version} (this build knows up to {current})"
            ))),
            None => Err(CatalogueError(format!("{event_type:?} is not an event type of the catalogue"))),
        },
    }
}

fn strict<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, CatalogueError> {
    let (value, rest) = postcard::take_from_bytes::<T>(bytes)
        .map_err(|error| CatalogueError(format!("payload does not decode: {error}")))?;
    if !rest.is_empty() {
        return Err(CatalogueError(format!("payload has {} trailing bytes", rest.len())));
    }
    Ok(value)
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
