//! What officers and chairs ask the record to do. A command names what
//! should happen; `decide` turns it into events or a refusal.

use minutebook_catalogue::*;
use minutebook_log::Seq;

/// Who asks: recorded in every envelope the command appends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    /// The person or system account acting (an officer's person id).
    pub name: String,
    /// The role they act in: `clerk`, `chair`, `admin`.
    pub role: String,
}

impl Actor {
    pub fn new(name: &str, role: &str) -> Actor {
        Actor { name: name.to_owned(), role: role.to_owned() }
    }
}

/// In what capacity someone is recorded as attending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttendAs {
    /// As a member of the body; the role comes from their membership on the
    /// meeting date.
    Member,
    /// As the substitute a member named when giving apologies.
    Substitute {
        for_member: PersonId,
    },
    Guest {
        description: String,
    },
    /// As an officer; the job title defaults to the one registered.
    Officer {
        job_title: Option<String>,
    },
}

/// A decision as the clerk records it; conflicts are worked out by the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionInput {
    pub item: u32,
    pub text: String,
    pub kind: DecisionKind,
    pub vote: Vote,
    pub casting_vote: Option<CastingVote>,
    pub mover: Option<PersonId>,
    pub seconder: Option<PersonId>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    RegisterBody(BodyRegistered),
    AppointMember {
        body: BodyId,
        appointment: MemberAppointed,
    },
    ChangeMemberRole {
        body: BodyId,
        change: MemberRoleChanged,
    },
    RecordMemberLeft {
        body: BodyId,
        left: MemberLeft,
    },
    RegisterPerson(PersonRegistered),
    RegisterOfficer(OfficerRegistered),
    RegisterSigningKey(SigningKeyRegistered),
    RevokeSigningKey(SigningKeyRevoked),
    ScheduleMeeting(MeetingScheduled),
    RescheduleMeeting {
        meeting: MeetingId,
        change: MeetingRescheduled,
    },
    CancelMeeting {
        meeting: MeetingId,
        reason: String,
    },
    PublishAgenda {
        meeting: MeetingId,
        items: Vec<AgendaItem>,
    },
    AttachPaper {
        meeting: MeetingId,
        paper: PaperAttached,
    },
    OpenMeeting {
        meeting: MeetingId,
        at: TimeOfDay,
    },
    RecordAttendance {
        meeting: MeetingId,
        person: PersonId,
        attend_as: AttendAs,
        presiding: bool,
        arrived_at: Option<TimeOfDay>,
    },
    RecordDeparture {
        meeting: MeetingId,
        departure: DepartureRecorded,
    },
    RecordApologies {
        meeting: MeetingId,
        apologies: ApologiesRecorded,
    },
    DeclareInterest {
        meeting: MeetingId,
        declaration: InterestDeclared,
    },
    DeclareWhip {
        meeting: MeetingId,
        whip: WhipDeclared,
    },
    /// Takes an agenda item; an item not on the agenda (urgent business)
    /// needs its title and kind.
    TakeItem {
        meeting: MeetingId,
        item: u32,
        title: Option<String>,
        kind: Option<ItemKind>,
    },
    WithdrawItem {
        meeting: MeetingId,
        withdrawal: ItemWithdrawn,
    },
    RecordPresenter {
        meeting: MeetingId,
        presenter: PresenterRecorded,
    },
    RecordPoint {
        meeting: MeetingId,
        point: PointRecorded,
    },
    RecordDecision {
        meeting: MeetingId,
        decision: DecisionInput,
    },
    AgreeAction {
        meeting: MeetingId,
        action: ActionAgreed,
    },
    ProgressAction(ActionProgressed),
    CloseAction(ActionClosed),
    ExcludePublic {
        meeting: MeetingId,
        exclusion: PublicExcluded,
    },
    RecordExemptSummary {
        meeting: MeetingId,
        summary: ExemptSummaryRecorded,
    },
    ReleaseExempt {
        meeting: MeetingId,
        release: ExemptReleased,
    },
    CloseMeeting {
        meeting: MeetingId,
        at: TimeOfDay,
    },
    PublishDraft {
        meeting: MeetingId,
    },
    ReviseDraft {
        meeting: MeetingId,
        revision: DraftRevised,
    },
    ConfirmMinutes {
        meeting: MeetingId,
        by_meeting: MeetingId,
        by_item: u32,
    },
    SignMinutes {
        meeting: MeetingId,
        signer: PersonId,
        public_key: [u8; 32],
        statement: String,
        signature: SignatureBytes,
    },
    CorrectMinutes {
        meeting: MeetingId,
        target: Seq,
        text: String,
        by_meeting: MeetingId,
        by_item: u32,
        reason: String,
    },
    Redact {
        target: Seq,
        legal_basis: String,
    },
}
