//! Every request body the API takes, and how each becomes a domain
//! `Command`. These are the API's promises to clients: a field here is
//! renamed only with a new version of the API, whatever the catalogue's
//! stored structs do. A body that does not read as its type is a 422
//! problem (`commands::json_rejection`), as is a value the conversion
//! refuses (a key that is not base64 of 32 bytes).

use minutebook_catalogue as catalogue;
use minutebook_catalogue::{BodyId, Date, MeetingId, PersonId, SignatureBytes, TimeOfDay};
use minutebook_log::Seq;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DateText, HashHex, IdText, TimeText};
use crate::domain::statement::decode_base64_array;
use crate::domain::{AttendAs, Command, DecisionInput};
use crate::http::problem::{ApiError, ApiResult};

/// What kind of body it is.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, JsonSchema)]
pub enum BodyKind {
    Council,
    Cabinet,
    Committee,
    SubCommittee,
    Panel,
    Board,
}

impl From<catalogue::BodyKind> for BodyKind {
    fn from(kind: catalogue::BodyKind) -> BodyKind {
        match kind {
            catalogue::BodyKind::Council => BodyKind::Council,
            catalogue::BodyKind::Cabinet => BodyKind::Cabinet,
            catalogue::BodyKind::Committee => BodyKind::Committee,
            catalogue::BodyKind::SubCommittee => BodyKind::SubCommittee,
            catalogue::BodyKind::Panel => BodyKind::Panel,
            catalogue::BodyKind::Board => BodyKind::Board,
        }
    }
}

impl From<BodyKind> for catalogue::BodyKind {
    fn from(kind: BodyKind) -> catalogue::BodyKind {
        match kind {
            BodyKind::Council => catalogue::BodyKind::Council,
            BodyKind::Cabinet => catalogue::BodyKind::Cabinet,
            BodyKind::Committee => catalogue::BodyKind::Committee,
            BodyKind::SubCommittee => catalogue::BodyKind::SubCommittee,
            BodyKind::Panel => catalogue::BodyKind::Panel,
            BodyKind::Board => catalogue::BodyKind::Board,
        }
    }
}

/// A member's place on a body: `"Chair"`, `"ViceChair"`, `"Member"` or
/// `{"CoOpted": {"voting": true}}`.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum MemberRole {
    Chair,
    ViceChair,
    Member,
    /// A co-opted member, who votes only where the appointment says so.
    CoOpted {
        voting: bool,
    },
}

impl From<MemberRole> for catalogue::MemberRole {
    fn from(role: MemberRole) -> catalogue::MemberRole {
        match role {
            MemberRole::Chair => catalogue::MemberRole::Chair,
            MemberRole::ViceChair => catalogue::MemberRole::ViceChair,
            MemberRole::Member => catalogue::MemberRole::Member,
            MemberRole::CoOpted { voting } => catalogue::MemberRole::CoOpted { voting },
        }
    }
}

/// The kind of an agenda item.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum ItemKind {
    Apologies,
    Declarations,
    PublicParticipation,
    ConfirmationOfMinutes,
    Substantive,
}

impl From<ItemKind> for catalogue::ItemKind {
    fn from(kind: ItemKind) -> catalogue::ItemKind {
        match kind {
            ItemKind::Apologies => catalogue::ItemKind::Apologies,
            ItemKind::Declarations => catalogue::ItemKind::Declarations,
            ItemKind::PublicParticipation => catalogue::ItemKind::PublicParticipation,
            ItemKind::ConfirmationOfMinutes => catalogue::ItemKind::ConfirmationOfMinutes,
            ItemKind::Substantive => catalogue::ItemKind::Substantive,
        }
    }
}

/// The kind of an interest declared (Localism Act 2011 and members' codes).
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum InterestKind {
    DisclosablePecuniary,
    OtherRegistrable,
    NonRegistrable,
}

impl From<InterestKind> for catalogue::InterestKind {
    fn from(kind: InterestKind) -> catalogue::InterestKind {
        match kind {
            InterestKind::DisclosablePecuniary => catalogue::InterestKind::DisclosablePecuniary,
            InterestKind::OtherRegistrable => catalogue::InterestKind::OtherRegistrable,
            InterestKind::NonRegistrable => catalogue::InterestKind::NonRegistrable,
        }
    }
}

/// What a decision did.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
pub enum DecisionKind {
    Agreed,
    Noted,
    Recommended,
    Refused,
}

impl From<DecisionKind> for catalogue::DecisionKind {
    fn from(kind: DecisionKind) -> catalogue::DecisionKind {
        match kind {
            DecisionKind::Agreed => catalogue::DecisionKind::Agreed,
            DecisionKind::Noted => catalogue::DecisionKind::Noted,
            DecisionKind::Recommended => catalogue::DecisionKind::Recommended,
            DecisionKind::Refused => catalogue::DecisionKind::Refused,
        }
    }
}

/// `POST /v1/bodies`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "body": "planning-committee", "name": "Planning Committee", "kind": "Committee",
    "timezone": "Europe/London", "quorum": 3, "minute_number_start": 1
}]))]
pub struct NewBody {
    #[schemars(with = "IdText")]
    pub body: BodyId,
    #[schemars(schema_with = "super::short_text")]
    pub name: String,
    pub kind: BodyKind,
    /// IANA timezone name in which the body's dates and times are read.
    #[schemars(schema_with = "super::timezone")]
    pub timezone: String,
    /// Voting members who must be present for business to be done.
    #[schemars(range(min = 1))]
    pub quorum: u32,
    /// The number the body's first minute takes.
    #[schemars(range(min = 1, max = catalogue::MINUTE_NUMBER_MAX))]
    pub minute_number_start: u32,
}

impl NewBody {
    pub fn command(self) -> Command {
        Command::RegisterBody(catalogue::BodyRegistered {
            body: self.body,
            name: self.name,
            kind: self.kind.into(),
            timezone: self.timezone,
            quorum: self.quorum,
            minute_number_start: self.minute_number_start,
        })
    }
}

/// `POST /v1/bodies/{body}/members`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"person": "cllr-okoro", "role": "Member", "from": "2026-06-01"}]))]
pub struct Appointment {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    pub role: MemberRole,
    /// A member from this date on.
    #[schemars(with = "DateText")]
    pub from: Date,
}

impl Appointment {
    pub fn command(self, body: BodyId) -> Command {
        let appointment = catalogue::MemberAppointed { person: self.person, role: self.role.into(), from: self.from };
        Command::AppointMember { body, appointment }
    }
}

/// `POST /v1/bodies/{body}/members/{person}/role`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"role": "ViceChair", "from": "2026-06-01"}]))]
pub struct RoleChange {
    pub role: MemberRole,
    #[schemars(with = "DateText")]
    pub from: Date,
}

impl RoleChange {
    pub fn command(self, body: BodyId, person: PersonId) -> Command {
        let change = catalogue::MemberRoleChanged { person, role: self.role.into(), from: self.from };
        Command::ChangeMemberRole { body, change }
    }
}

/// `POST /v1/bodies/{body}/members/{person}/leaving`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"from": "2026-06-01"}]))]
pub struct Leaving {
    /// No longer a member on this date and after.
    #[schemars(with = "DateText")]
    pub from: Date,
}

impl Leaving {
    pub fn command(self, body: BodyId, person: PersonId) -> Command {
        Command::RecordMemberLeft { body, left: catalogue::MemberLeft { person, from: self.from } }
    }
}

/// `POST /v1/people`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "person": "cllr-newton", "name": "Iris Newton", "title": "Councillor", "organisation": null
}]))]
pub struct NewPerson {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[schemars(schema_with = "super::short_text")]
    pub name: String,
    /// Honorific or title as the minutes show it ("Councillor", "Dr").
    #[schemars(schema_with = "super::optional_short_text")]
    pub title: Option<String>,
    #[schemars(schema_with = "super::optional_short_text")]
    pub organisation: Option<String>,
}

impl NewPerson {
    pub fn command(self) -> Command {
        Command::RegisterPerson(catalogue::PersonRegistered {
            person: self.person,
            name: self.name,
            title: self.title,
            organisation: self.organisation,
        })
    }
}

/// `POST /v1/people/{person}/officer`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"job_title": "Democratic Services Officer"}]))]
pub struct Officer {
    #[schemars(schema_with = "super::short_text")]
    pub job_title: String,
}

impl Officer {
    pub fn command(self, person: PersonId) -> Command {
        Command::RegisterOfficer(catalogue::OfficerRegistered { person, job_title: self.job_title })
    }
}

/// Standard base64 (RFC 4648 §4) of a fixed number of bytes.
fn base64<const N: usize>(text: &str, what: &'static str) -> ApiResult<[u8; N]> {
    decode_base64_array(text, what).map_err(|error| ApiError::invalid(error.to_string()))
}

/// `POST /v1/people/{person}/keys`: a signing key with proof of
/// possession (docs/SIGNING.md).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyRegistration {
    /// Standard base64 of the 32-byte Ed25519 public key.
    #[schemars(schema_with = "super::public_key")]
    pub public_key: String,
    /// Standard base64 of the key's signature over the key registration statement.
    #[schemars(schema_with = "super::signature")]
    pub proof: String,
}

impl KeyRegistration {
    pub fn command(self, person: PersonId) -> ApiResult<Command> {
        Ok(Command::RegisterSigningKey(catalogue::SigningKeyRegistered {
            person,
            public_key: base64(&self.public_key, "the public key")?,
            proof: SignatureBytes(base64(&self.proof, "the proof")?),
        }))
    }
}

/// `POST /v1/people/{person}/keys/revocation`.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct KeyRevocation {
    /// Standard base64 of the 32-byte Ed25519 public key.
    #[schemars(schema_with = "super::public_key")]
    pub public_key: String,
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl KeyRevocation {
    pub fn command(self, person: PersonId) -> ApiResult<Command> {
        Ok(Command::RevokeSigningKey(catalogue::SigningKeyRevoked {
            person,
            public_key: base64(&self.public_key, "the public key")?,
            reason: self.reason,
        }))
    }
}

/// `POST /v1/meetings`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "meeting": "rcsp-2026-05-28", "body": "riverside-scrutiny", "date": "2026-05-28", "start": "18:30",
    "venue": "Committee Room 2, Eastbrook Civic Centre"
}]))]
pub struct NewMeeting {
    #[schemars(with = "IdText")]
    pub meeting: MeetingId,
    #[schemars(with = "IdText")]
    pub body: BodyId,
    #[schemars(with = "DateText")]
    pub date: Date,
    #[schemars(with = "TimeText")]
    pub start: TimeOfDay,
    #[schemars(schema_with = "super::short_text")]
    pub venue: String,
}

impl NewMeeting {
    pub fn command(self) -> Command {
        Command::ScheduleMeeting(catalogue::MeetingScheduled {
            meeting: self.meeting,
            body: self.body,
            date: self.date,
            start: self.start,
            venue: self.venue,
        })
    }
}

/// `POST /v1/meetings/{meeting}/reschedule`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "date": "2026-06-04", "start": "14:00", "venue": "Council Chamber", "reason": "A clash with Full Council"
}]))]
pub struct Reschedule {
    #[schemars(with = "DateText")]
    pub date: Date,
    #[schemars(with = "TimeText")]
    pub start: TimeOfDay,
    #[schemars(schema_with = "super::short_text")]
    pub venue: String,
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl Reschedule {
    pub fn command(self, meeting: MeetingId) -> Command {
        let change = catalogue::MeetingRescheduled {
            date: self.date,
            start: self.start,
            venue: self.venue,
            reason: self.reason,
        };
        Command::RescheduleMeeting { meeting, change }
    }
}

/// Why: a meeting's cancellation, an item's withdrawal.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"reason": "No business"}]))]
pub struct Reason {
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl Reason {
    pub fn cancel(self, meeting: MeetingId) -> Command {
        Command::CancelMeeting { meeting, reason: self.reason }
    }
    pub fn withdraw(self, meeting: MeetingId, item: u32) -> Command {
        Command::WithdrawItem { meeting, withdrawal: catalogue::ItemWithdrawn { item, reason: self.reason } }
    }
}

/// One item of an agenda.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct AgendaItem {
    /// Numbered 1..n in agenda order.
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub number: u32,
    #[schemars(schema_with = "super::short_text")]
    pub title: String,
    pub kind: ItemKind,
}

/// `POST /v1/meetings/{meeting}/agenda`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"items": [
    {"number": 1, "title": "Apologies for absence", "kind": "Apologies"},
    {"number": 2, "title": "Declarations of interest", "kind": "Declarations"},
    {"number": 3, "title": "Library opening hours", "kind": "Substantive"}
]}]))]
pub struct Agenda {
    #[schemars(length(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub items: Vec<AgendaItem>,
}

impl Agenda {
    pub fn command(self, meeting: MeetingId) -> Command {
        let items = self
            .items
            .into_iter()
            .map(|item| catalogue::AgendaItem { number: item.number, title: item.title, kind: item.kind.into() })
            .collect();
        Command::PublishAgenda { meeting, items }
    }
}

/// `POST /v1/meetings/{meeting}/papers`: a paper uploaded with
/// `POST /v1/papers`, attached to the meeting.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "reference": "A", "title": "Library opening hours: report", "content_hash":
    "0000000000000000000000000000000000000000000000000000000000000000", "size_bytes": 1024,
    "media_type": "application/pdf", "item": 3
}]))]
pub struct Paper {
    /// The paper's letter or number in the agenda pack ("A", "4").
    #[schemars(schema_with = "super::short_text")]
    pub reference: String,
    #[schemars(schema_with = "super::short_text")]
    pub title: String,
    /// BLAKE3 of the paper, hex, as `POST /v1/papers` returned it.
    #[schemars(with = "HashHex")]
    pub content_hash: String,
    pub size_bytes: u64,
    #[schemars(schema_with = "super::paper_media_type")]
    pub media_type: String,
    /// The agenda item it belongs to, if any.
    pub item: Option<u32>,
}

impl Paper {
    /// The event's payload; whether the paper is stored is the caller's
    /// to check.
    pub fn attached(self) -> ApiResult<catalogue::PaperAttached> {
        let content_hash = blake3::Hash::from_hex(&self.content_hash)
            .map_err(|_| ApiError::invalid("content_hash must be 64 hexadecimal digits"))?;
        Ok(catalogue::PaperAttached {
            reference: self.reference,
            title: self.title,
            content_hash: *content_hash.as_bytes(),
            size_bytes: self.size_bytes,
            media_type: self.media_type,
            item: self.item,
        })
    }
}

/// A time of day: the meeting's opening or close.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"at": "18:30"}]))]
pub struct At {
    #[schemars(with = "TimeText")]
    pub at: TimeOfDay,
}

impl At {
    pub fn open(self, meeting: MeetingId) -> Command {
        Command::OpenMeeting { meeting, at: self.at }
    }
    pub fn close(self, meeting: MeetingId) -> Command {
        Command::CloseMeeting { meeting, at: self.at }
    }
}

/// The capacity in which someone attended, by `as`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum AttendAsWire {
    Member,
    /// Sitting for a member who gave apologies.
    Substitute {
        #[schemars(with = "IdText")]
        for_member: PersonId,
    },
    Guest {
        #[schemars(schema_with = "super::short_text")]
        description: String,
    },
    Officer {
        #[schemars(schema_with = "super::optional_short_text")]
        job_title: Option<String>,
    },
}

/// `POST /v1/meetings/{meeting}/attendance`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"person": "cllr-okoro", "as": "member", "presiding": false, "arrived_at": null}]))]
pub struct Attendance {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[serde(flatten)]
    pub attend_as: AttendAsWire,
    #[serde(default)]
    pub presiding: bool,
    /// Set when they arrived after the start.
    #[schemars(with = "Option<TimeText>")]
    pub arrived_at: Option<TimeOfDay>,
}

impl Attendance {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::RecordAttendance {
            meeting,
            person: self.person,
            attend_as: match self.attend_as {
                AttendAsWire::Member => AttendAs::Member,
                AttendAsWire::Substitute { for_member } => AttendAs::Substitute { for_member },
                AttendAsWire::Guest { description } => AttendAs::Guest { description },
                AttendAsWire::Officer { job_title } => AttendAs::Officer { job_title },
            },
            presiding: self.presiding,
            arrived_at: self.arrived_at,
        }
    }
}

/// `POST /v1/meetings/{meeting}/departures`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"person": "cllr-okoro", "at": "19:50"}]))]
pub struct Departure {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[schemars(with = "TimeText")]
    pub at: TimeOfDay,
}

impl Departure {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::RecordDeparture {
            meeting,
            departure: catalogue::DepartureRecorded { person: self.person, at: self.at },
        }
    }
}

/// `POST /v1/meetings/{meeting}/apologies`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"person": "cllr-okoro", "substitute": null}]))]
pub struct Apologies {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[schemars(with = "Option<IdText>")]
    pub substitute: Option<PersonId>,
}

impl Apologies {
    pub fn command(self, meeting: MeetingId) -> Command {
        let apologies = catalogue::ApologiesRecorded { person: self.person, substitute: self.substitute };
        Command::RecordApologies { meeting, apologies }
    }
}

/// `POST /v1/meetings/{meeting}/declarations`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "person": "cllr-okoro", "item": 3, "kind": "OtherRegistrable", "nature": "A trustee of the library's friends",
    "withdrew": false, "dispensation": null
}]))]
pub struct Declaration {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    pub kind: InterestKind,
    #[schemars(schema_with = "super::long_text")]
    pub nature: String,
    /// Whether they left the room for the item.
    pub withdrew: bool,
    #[schemars(schema_with = "super::optional_short_text")]
    pub dispensation: Option<String>,
}

impl Declaration {
    pub fn command(self, meeting: MeetingId) -> Command {
        let declaration = catalogue::InterestDeclared {
            person: self.person,
            item: self.item,
            kind: self.kind.into(),
            nature: self.nature,
            withdrew: self.withdrew,
            dispensation: self.dispensation,
        };
        Command::DeclareInterest { meeting, declaration }
    }
}

/// `POST /v1/meetings/{meeting}/whips`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "person": "cllr-okoro", "item": 3, "party": "Independent Group", "nature": "No whip applied"
}]))]
pub struct Whip {
    #[schemars(with = "IdText")]
    pub person: PersonId,
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::short_text")]
    pub party: String,
    #[schemars(schema_with = "super::long_text")]
    pub nature: String,
}

impl Whip {
    pub fn command(self, meeting: MeetingId) -> Command {
        let whip =
            catalogue::WhipDeclared { person: self.person, item: self.item, party: self.party, nature: self.nature };
        Command::DeclareWhip { meeting, whip }
    }
}

/// `POST /v1/meetings/{meeting}/items`: title and kind default to the agenda's.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "title": null, "kind": null}]))]
pub struct TakeItem {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::optional_short_text")]
    pub title: Option<String>,
    pub kind: Option<ItemKind>,
}

impl TakeItem {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::TakeItem { meeting, item: self.item, title: self.title, kind: self.kind.map(Into::into) }
    }
}

/// `POST /v1/meetings/{meeting}/presenters`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "person": "off-castellano", "description": "Director of Communities"}]))]
pub struct Presenter {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(with = "IdText")]
    pub person: PersonId,
    /// How the minutes describe them ("Director of Communities").
    #[schemars(schema_with = "super::short_text")]
    pub description: String,
}

impl Presenter {
    pub fn command(self, meeting: MeetingId) -> Command {
        let presenter =
            catalogue::PresenterRecorded { item: self.item, person: self.person, description: self.description };
        Command::RecordPresenter { meeting, presenter }
    }
}

/// `POST /v1/meetings/{meeting}/points`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "text": "Members asked about weekend opening."}]))]
pub struct Point {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::long_text")]
    pub text: String,
}

impl Point {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::RecordPoint { meeting, point: catalogue::PointRecorded { item: self.item, text: self.text } }
    }
}

/// How a vote was taken, by `kind`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Vote {
    /// Agreed without a vote (by assent).
    None,
    Counts {
        #[serde(rename = "for")]
        for_: u32,
        against: u32,
        abstain: u32,
    },
    /// A recorded vote, naming how each member voted.
    Recorded {
        #[serde(rename = "for")]
        #[schemars(with = "Vec<IdText>")]
        for_: Vec<PersonId>,
        #[schemars(with = "Vec<IdText>")]
        against: Vec<PersonId>,
        #[schemars(with = "Vec<IdText>")]
        abstain: Vec<PersonId>,
    },
}

impl From<Vote> for catalogue::Vote {
    fn from(vote: Vote) -> catalogue::Vote {
        match vote {
            Vote::None => catalogue::Vote::None,
            Vote::Counts { for_, against, abstain } => catalogue::Vote::Counts { for_, against, abstain },
            Vote::Recorded { for_, against, abstain } => catalogue::Vote::Recorded { for_, against, abstain },
        }
    }
}

/// The chair's casting vote.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CastingVote {
    #[schemars(with = "IdText")]
    pub chair: PersonId,
    pub in_favour: bool,
}

/// `POST /v1/meetings/{meeting}/decisions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "item": 3, "text": "That the opening hours be extended.", "kind": "Agreed",
    "vote": {"kind": "counts", "for": 5, "against": 1, "abstain": 0},
    "casting_vote": null, "mover": null, "seconder": null
}]))]
pub struct Decision {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::long_text")]
    pub text: String,
    pub kind: DecisionKind,
    pub vote: Vote,
    pub casting_vote: Option<CastingVote>,
    #[schemars(with = "Option<IdText>")]
    pub mover: Option<PersonId>,
    #[schemars(with = "Option<IdText>")]
    pub seconder: Option<PersonId>,
}

impl Decision {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::RecordDecision {
            meeting,
            decision: DecisionInput {
                item: self.item,
                text: self.text,
                kind: self.kind.into(),
                vote: self.vote.into(),
                casting_vote: self
                    .casting_vote
                    .map(|c| catalogue::CastingVote { chair: c.chair, in_favour: c.in_favour }),
                mover: self.mover,
                seconder: self.seconder,
            },
        }
    }
}

/// `POST /v1/meetings/{meeting}/actions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{
    "item": 3, "owner": "the Director", "owner_person": null, "text": "Report back on costs.", "due": "2026-07-16"
}]))]
pub struct Action {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    /// Who agreed to act, as the minutes name them ("the Director").
    #[schemars(schema_with = "super::short_text")]
    pub owner: String,
    #[schemars(with = "Option<IdText>")]
    pub owner_person: Option<PersonId>,
    #[schemars(schema_with = "super::long_text")]
    pub text: String,
    #[schemars(with = "Option<DateText>")]
    pub due: Option<Date>,
}

impl Action {
    pub fn command(self, meeting: MeetingId) -> Command {
        let action = catalogue::ActionAgreed {
            item: self.item,
            owner: self.owner,
            owner_person: self.owner_person,
            text: self.text,
            due: self.due,
        };
        Command::AgreeAction { meeting, action }
    }
}

/// `POST /v1/meetings/{meeting}/exclusions`: the public excluded for an
/// item under a paragraph of Schedule 12A.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "paragraph": 1}]))]
pub struct Exclusion {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::exempt_paragraph")]
    pub paragraph: u8,
}

impl Exclusion {
    pub fn command(self, meeting: MeetingId) -> Command {
        let exclusion = catalogue::PublicExcluded { item: self.item, paragraph: self.paragraph };
        Command::ExcludePublic { meeting, exclusion }
    }
}

/// `POST /v1/meetings/{meeting}/exempt-summaries`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "summary": "A staffing matter."}]))]
pub struct ExemptSummary {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::long_text")]
    pub summary: String,
}

impl ExemptSummary {
    pub fn command(self, meeting: MeetingId) -> Command {
        let summary = catalogue::ExemptSummaryRecorded { item: self.item, summary: self.summary };
        Command::RecordExemptSummary { meeting, summary }
    }
}

/// `POST /v1/meetings/{meeting}/exempt-releases`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"item": 3, "reason": "No longer exempt"}]))]
pub struct ExemptRelease {
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub item: u32,
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl ExemptRelease {
    pub fn command(self, meeting: MeetingId) -> Command {
        let release = catalogue::ExemptReleased { item: self.item, reason: self.reason };
        Command::ReleaseExempt { meeting, release }
    }
}

/// `POST /v1/meetings/{meeting}/draft`: an empty object.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{}]))]
pub struct Empty {}

/// One change to a draft.
#[derive(Debug, Deserialize, JsonSchema)]
pub enum Revision {
    /// New text for the entry the event at `target` recorded (an item's
    /// title, a point, a decision's or an action's text).
    ReplaceText {
        target: u64,
        #[schemars(schema_with = "super::long_text")]
        text: String,
    },
    AddPoint {
        #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
        item: u32,
        #[schemars(schema_with = "super::long_text")]
        text: String,
    },
    /// Removes the entry the event at `target` recorded.
    Strike { target: u64 },
}

/// `POST /v1/meetings/{meeting}/revisions`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"change": {"AddPoint": {"item": 3, "text": "The Chair thanked officers."}}, "reason": "Omitted"}]))]
pub struct DraftRevision {
    pub change: Revision,
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl DraftRevision {
    pub fn command(self, meeting: MeetingId) -> Command {
        let change = match self.change {
            Revision::ReplaceText { target, text } => catalogue::Revision::ReplaceText { target: Seq(target), text },
            Revision::AddPoint { item, text } => catalogue::Revision::AddPoint { item, text },
            Revision::Strike { target } => catalogue::Revision::Strike { target: Seq(target) },
        };
        Command::ReviseDraft { meeting, revision: catalogue::DraftRevised { change, reason: self.reason } }
    }
}

/// `POST /v1/meetings/{meeting}/confirmation`: the minutes confirmed by
/// an item of a later meeting.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"by_meeting": "rcsp-2026-05-28", "by_item": 3}]))]
pub struct Confirmation {
    #[schemars(with = "IdText")]
    pub by_meeting: MeetingId,
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub by_item: u32,
}

impl Confirmation {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::ConfirmMinutes { meeting, by_meeting: self.by_meeting, by_item: self.by_item }
    }
}

/// `POST /v1/meetings/{meeting}/signatures`: the presiding member's
/// signature over the statement (docs/SIGNING.md).
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Signature {
    #[schemars(with = "IdText")]
    pub signer: PersonId,
    /// Standard base64 of the 32-byte Ed25519 public key.
    #[schemars(schema_with = "super::public_key")]
    pub public_key: String,
    /// The statement signed, exactly as `GET .../statement` gave it.
    pub statement: String,
    /// Standard base64 of the 64-byte Ed25519 signature.
    #[schemars(schema_with = "super::signature")]
    pub signature: String,
}

impl Signature {
    pub fn command(self, meeting: MeetingId) -> ApiResult<Command> {
        Ok(Command::SignMinutes {
            meeting,
            signer: self.signer,
            public_key: base64(&self.public_key, "the public key")?,
            statement: self.statement,
            signature: SignatureBytes(base64(&self.signature, "the signature")?),
        })
    }
}

/// `POST /v1/meetings/{meeting}/corrections`: signed minutes corrected,
/// on the authority of an item of a later meeting.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Correction {
    /// The position of the event whose entry is corrected.
    pub target: u64,
    #[schemars(schema_with = "super::long_text")]
    pub text: String,
    #[schemars(with = "IdText")]
    pub by_meeting: MeetingId,
    #[schemars(range(min = 1, max = catalogue::AGENDA_ITEMS_MAX))]
    pub by_item: u32,
    #[schemars(schema_with = "super::short_text")]
    pub reason: String,
}

impl Correction {
    pub fn command(self, meeting: MeetingId) -> Command {
        Command::CorrectMinutes {
            meeting,
            target: Seq(self.target),
            text: self.text,
            by_meeting: self.by_meeting,
            by_item: self.by_item,
            reason: self.reason,
        }
    }
}

/// `POST /v1/actions/{seq}/progress` and `/closure`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"note": "Under way.", "meeting": null}]))]
pub struct ActionNote {
    #[schemars(schema_with = "super::long_text")]
    pub note: String,
    /// The meeting at which it was reported, if any.
    #[schemars(with = "Option<IdText>")]
    pub meeting: Option<MeetingId>,
}

impl ActionNote {
    pub fn progress(self, action: u64) -> Command {
        Command::ProgressAction(catalogue::ActionProgressed {
            action: Seq(action),
            note: self.note,
            meeting: self.meeting,
        })
    }
    pub fn close(self, action: u64) -> Command {
        Command::CloseAction(catalogue::ActionClosed { action: Seq(action), note: self.note, meeting: self.meeting })
    }
}

/// `POST /v1/events/{seq}/redaction`.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"legal_basis": "UK GDPR Art. 17: the subject's request of 2026-05-01"}]))]
pub struct Redaction {
    #[schemars(schema_with = "super::legal_basis")]
    pub legal_basis: String,
}

impl Redaction {
    pub fn command(self, target: u64) -> Command {
        Command::Redact { target: Seq(target), legal_basis: self.legal_basis }
    }
}

/// A role a token may have.
#[derive(Clone, Copy, Debug, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TokenRole {
    Admin,
    Clerk,
    Member,
    Auditor,
}

/// `POST /v1/tokens`: a member's token names the member.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(extend("examples" = [{"role": "auditor", "person": null}]))]
pub struct NewToken {
    #[schemars(with = "TokenRole")]
    pub role: String,
    #[schemars(with = "Option<IdText>")]
    pub person: Option<String>,
}
