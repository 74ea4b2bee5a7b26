//! The rules of a meeting's life: `decide(record, log, actor, command)`
//! returns the events a command appends, or a refusal naming the rule.
//!
//! `decide` is pure: it reads the record (the fold of the log so far) and,
//! through `LogLookup`, a few facts only the log holds (its origin, signed
//! checkpoint roots, a stored event for redaction). It writes nothing; the
//! caller appends what it returns with the stream versions it read, so a
//! decision made on a stale record conflicts instead of overwriting.

use ed25519_dalek::{Signature, VerifyingKey};
use minutebook_catalogue::*;
use minutebook_log::limits::EVENT_PAYLOAD_BYTES_MAX;
use minutebook_log::{Event, Payload, Seq, TreeHash};
use minutebook_projections::minutes::{canonical_text, events_digest, minutes_digest};
use minutebook_projections::record::{Attendance, EntryKind, Meeting, MeetingStatus, Record};

use super::command::{AttendAs, Command, DecisionInput};
use super::refusal::{Refusal, Rule};
use super::statement::{key_registration_statement, SigningStatement};

/// Facts only the log holds.
pub trait LogLookup {
    /// The origin line of the log's checkpoints.
    fn origin(&self) -> String;
    /// The root of the signed checkpoint of exactly `tree_size`, if any.
    fn checkpoint_root(&self, tree_size: u64) -> Option<TreeHash>;
    /// A stored event.
    fn event(&self, seq: Seq) -> Option<Event>;
}

/// What a command appends.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    /// Events with the stream each goes to, in order.
    pub events: Vec<(String, DomainEvent)>,
    /// Streams whose state the decision relied on without writing to them.
    pub reads: Vec<String>,
    /// Payloads to remove, with the notice left in their place.
    pub redactions: Vec<(Seq, String)>,
}

impl Decision {
    fn one(stream: String, event: DomainEvent) -> Decision {
        Decision { events: vec![(stream, event)], ..Decision::default() }
    }
    fn reading(mut self, stream: String) -> Decision {
        if !self.reads.contains(&stream) {
            self.reads.push(stream);
        }
        self
    }
}

type Decided = Result<Decision, Refusal>;

pub fn decide(record: &Record, log: &dyn LogLookup, command: &Command) -> Decided {
    let decision = decide_rules(record, log, command)?;
    for (_, event) in &decision.events {
        let bytes = event.encode().len();
        if bytes > EVENT_PAYLOAD_BYTES_MAX {
            return Err(Refusal::new(
                Rule::Invalid,
                format!(
                    "the {} payload of {bytes} bytes exceeds the limit of {EVENT_PAYLOAD_BYTES_MAX}; shorten its texts",
                    event.event_type()
                ),
            ));
        }
    }
    Ok(decision)
}

fn decide_rules(record: &Record, log: &dyn LogLookup, command: &Command) -> Decided {
    match command {
        Command::RegisterBody(e) => register_body(record, e),
        Command::AppointMember { body, appointment } => appoint_member(record, body, appointment),
        Command::ChangeMemberRole { body, change } => change_member_role(record, body, change),
        Command::RecordMemberLeft { body, left } => member_left(record, body, left),
        Command::RegisterPerson(e) => register_person(record, e),
        Command::RegisterOfficer(e) => {
            person(record, &e.person)?;
            short_text("job title", &e.job_title)?;
            Ok(Decision::one(e.person.stream(), DomainEvent::OfficerRegistered(e.clone())))
        }
        Command::RegisterSigningKey(e) => register_key(record, log, e),
        Command::RevokeSigningKey(e) => revoke_key(record, e),
        Command::ScheduleMeeting(e) => schedule_meeting(record, e),
        Command::RescheduleMeeting { meeting, change } => {
            let m = scheduled(record, meeting, "rescheduled")?;
            short_text("venue", &change.venue)?;
            short_text("reason", &change.reason)?;
            Ok(Decision::one(m.stream(), DomainEvent::MeetingRescheduled(change.clone())))
        }
        Command::CancelMeeting { meeting, reason } => {
            let m = scheduled(record, meeting, "cancelled")?;
            short_text("reason", reason)?;
            Ok(Decision::one(m.stream(), DomainEvent::MeetingCancelled(MeetingCancelled { reason: reason.clone() })))
        }
        Command::PublishAgenda { meeting, items } => publish_agenda(record, meeting, items),
        Command::AttachPaper { meeting, paper } => attach_paper(record, meeting, paper),
        Command::OpenMeeting { meeting, at } => {
            let m = scheduled(record, meeting, "opened")?;
            Ok(Decision::one(m.stream(), DomainEvent::MeetingOpened(MeetingOpened { at: *at })))
        }
        Command::RecordAttendance { meeting, person, attend_as, presiding, arrived_at } => {
            record_attendance(record, meeting, person, attend_as, *presiding, *arrived_at)
        }
        Command::RecordDeparture { meeting, departure } => record_departure(record, meeting, departure),
        Command::RecordApologies { meeting, apologies } => record_apologies(record, meeting, apologies),
        Command::DeclareInterest { meeting, declaration } => declare_interest(record, meeting, declaration),
        Command::DeclareWhip { meeting, whip } => {
            let m = in_session(record, meeting)?;
            sitting_member(record, m, &whip.person, "declare a party whip")?;
            agenda_or_taken(m, whip.item)?;
            short_text("party", &whip.party)?;
            long_text("nature of the whip", &whip.nature)?;
            Ok(Decision::one(m.stream(), DomainEvent::WhipDeclared(whip.clone())).reading(body_stream(m)))
        }
        Command::TakeItem { meeting, item, title, kind } => take_item(record, meeting, *item, title, *kind),
        Command::WithdrawItem { meeting, withdrawal } => withdraw_item(record, meeting, withdrawal),
        Command::RecordPresenter { meeting, presenter } => {
            let m = in_session(record, meeting)?;
            open_item(m, presenter.item)?;
            self::person(record, &presenter.person)?;
            short_text("presenter's description", &presenter.description)?;
            Ok(Decision::one(m.stream(), DomainEvent::PresenterRecorded(presenter.clone())))
        }
        Command::RecordPoint { meeting, point } => {
            let m = in_session(record, meeting)?;
            open_item(m, point.item)?;
            long_text("point", &point.text)?;
            Ok(Decision::one(m.stream(), DomainEvent::PointRecorded(point.clone())))
        }
        Command::RecordDecision { meeting, decision } => record_decision(record, meeting, decision),
        Command::AgreeAction { meeting, action } => agree_action(record, meeting, action),
        Command::ProgressAction(e) => {
            let stream = action_stream(record, e.action, &e.meeting, &e.note)?;
            Ok(Decision::one(stream, DomainEvent::ActionProgressed(e.clone())))
        }
        Command::CloseAction(e) => {
            let stream = action_stream(record, e.action, &e.meeting, &e.note)?;
            Ok(Decision::one(stream, DomainEvent::ActionClosed(e.clone())))
        }
        Command::ExcludePublic { meeting, exclusion } => exclude_public(record, meeting, exclusion),
        Command::RecordExemptSummary { meeting, summary } => {
            let m = unsigned(record, meeting, "record an exempt item's public summary")?;
            exempt_item(m, summary.item)?;
            long_text("public summary", &summary.summary)?;
            Ok(Decision::one(m.stream(), DomainEvent::ExemptSummaryRecorded(summary.clone())))
        }
        Command::ReleaseExempt { meeting, release } => release_exempt(record, meeting, release),
        Command::CloseMeeting { meeting, at } => close_meeting(record, meeting, *at),
        Command::PublishDraft { meeting } => publish_draft(record, meeting),
        Command::ReviseDraft { meeting, revision } => revise_draft(record, meeting, revision),
        Command::ConfirmMinutes { meeting, by_meeting, by_item } => confirm(record, meeting, by_meeting, *by_item),
        Command::SignMinutes { meeting, signer, public_key, statement, signature } => {
            sign(record, log, meeting, signer, public_key, statement, signature)
        }
        Command::CorrectMinutes { meeting, target, text, by_meeting, by_item, reason } => {
            correct(record, meeting, *target, text, by_meeting, *by_item, reason)
        }
        Command::Redact { target, legal_basis } => redact(record, log, *target, legal_basis),
    }
}

// ---- bodies, people and keys ----

fn register_body(record: &Record, e: &BodyRegistered) -> Decided {
    if record.bodies.contains_key(&e.body) {
        return Err(Refusal::new(Rule::AlreadyExists, format!("a body {} is already registered", e.body)));
    }
    short_text("name", &e.name)?;
    check_timezone(&e.timezone)?;
    if e.quorum == 0 {
        return Err(Refusal::new(Rule::Invalid, "a body's quorum must be at least 1 voting member"));
    }
    if e.minute_number_start == 0 || e.minute_number_start > MINUTE_NUMBER_MAX {
        return Err(Refusal::new(
            Rule::Invalid,
            format!("the first minute number {} is outside 1 to {MINUTE_NUMBER_MAX}", e.minute_number_start),
        ));
    }
    Ok(Decision::one(e.body.stream(), DomainEvent::BodyRegistered(e.clone())))
}

/// Longest timezone name, in bytes.
pub const TIMEZONE_BYTES_MAX: usize = 64;

/// An IANA timezone name ("Europe/London", "UTC") that the bundled
/// database knows, so that the body's dates can always be read.
fn check_timezone(timezone: &str) -> Result<(), Refusal> {
    if timezone.len() > TIMEZONE_BYTES_MAX || !minutebook_projections::time::known_timezone(timezone) {
        return Err(Refusal::new(
            Rule::Invalid,
            format!("{timezone:?} is not an IANA timezone name such as Europe/London"),
        ));
    }
    Ok(())
}

fn appoint_member(record: &Record, body_id: &BodyId, e: &MemberAppointed) -> Decided {
    let body = body(record, body_id)?;
    let who = person(record, &e.person)?;
    if let Some(tenure) = body.open_tenure(&e.person) {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!(
                "{} is already a member of {} since {}; record a change of role instead",
                who.display_name(),
                body.name,
                tenure.from
            ),
        ));
    }
    if let Some(until) = body.tenures.iter().filter(|t| t.person == e.person).filter_map(|t| t.until).max() {
        if e.from < until {
            return Err(Refusal::new(
                Rule::OutOfOrder,
                format!(
                    "{} was a member of {} until {until}; a new appointment must start then or later",
                    who.display_name(),
                    body.name
                ),
            ));
        }
    }
    Ok(Decision::one(body_id.stream(), DomainEvent::MemberAppointed(e.clone())).reading(e.person.stream()))
}

fn change_member_role(record: &Record, body_id: &BodyId, e: &MemberRoleChanged) -> Decided {
    let body = body(record, body_id)?;
    let tenure = open_tenure(record, body, &e.person)?;
    if tenure.role == e.role {
        return Err(Refusal::new(Rule::Invalid, format!("{} already holds the role {}", e.person, e.role.title())));
    }
    if e.from <= tenure.from {
        return Err(Refusal::new(
            Rule::OutOfOrder,
            format!("the change of role on {} must come after the current role began on {}", e.from, tenure.from),
        ));
    }
    Ok(Decision::one(body_id.stream(), DomainEvent::MemberRoleChanged(e.clone())))
}

fn member_left(record: &Record, body_id: &BodyId, e: &MemberLeft) -> Decided {
    let body = body(record, body_id)?;
    let tenure = open_tenure(record, body, &e.person)?;
    if e.from <= tenure.from {
        return Err(Refusal::new(
            Rule::OutOfOrder,
            format!("leaving on {} must come after the membership began on {}", e.from, tenure.from),
        ));
    }
    Ok(Decision::one(body_id.stream(), DomainEvent::MemberLeft(e.clone())))
}

fn open_tenure<'r>(
    record: &Record,
    body: &'r minutebook_projections::record::Body,
    person_id: &PersonId,
) -> Result<&'r minutebook_projections::record::Tenure, Refusal> {
    let who = person(record, person_id)?;
    body.open_tenure(person_id).ok_or_else(|| {
        Refusal::new(Rule::NotAMember, format!("{} is not a current member of {}", who.display_name(), body.name))
    })
}

fn register_person(record: &Record, e: &PersonRegistered) -> Decided {
    if record.people.contains_key(&e.person) {
        return Err(Refusal::new(Rule::AlreadyExists, format!("a person {} is already registered", e.person)));
    }
    short_text("name", &e.name)?;
    for text in [&e.title, &e.organisation].into_iter().flatten() {
        short_text("title or organisation", text)?;
    }
    Ok(Decision::one(e.person.stream(), DomainEvent::PersonRegistered(e.clone())))
}

fn register_key(record: &Record, log: &dyn LogLookup, e: &SigningKeyRegistered) -> Decided {
    let who = person(record, &e.person)?;
    if let Some(holder) = record.people.values().find(|p| p.key(&e.public_key).is_some()) {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("this signing key is already registered to {}", holder.id),
        ));
    }
    let key = VerifyingKey::from_bytes(&e.public_key)
        .map_err(|_| Refusal::new(Rule::BadSignature, "the public key is not a valid Ed25519 key"))?;
    let statement = key_registration_statement(&log.origin(), &e.person, &e.public_key);
    key.verify_strict(statement.as_bytes(), &Signature::from_bytes(&e.proof.0)).map_err(|_| {
        Refusal::new(
            Rule::BadSignature,
            format!(
                "the proof of possession does not verify: it must be this key's signature over the key registration statement for {}",
                who.id
            ),
        )
    })?;
    Ok(Decision::one(e.person.stream(), DomainEvent::SigningKeyRegistered(e.clone())))
}

fn revoke_key(record: &Record, e: &SigningKeyRevoked) -> Decided {
    let who = person(record, &e.person)?;
    short_text("reason", &e.reason)?;
    match who.key(&e.public_key) {
        None => Err(Refusal::new(Rule::NotFound, format!("{} has no such signing key", who.id))),
        Some(key) if key.revoked_at.is_some() => {
            Err(Refusal::new(Rule::AlreadyExists, format!("this signing key of {} is already revoked", who.id)))
        }
        Some(_) => Ok(Decision::one(e.person.stream(), DomainEvent::SigningKeyRevoked(e.clone()))),
    }
}

// ---- meetings before and during ----

fn schedule_meeting(record: &Record, e: &MeetingScheduled) -> Decided {
    body(record, &e.body)?;
    if record.meetings.contains_key(&e.meeting) {
        return Err(Refusal::new(Rule::AlreadyExists, format!("a meeting {} is already scheduled", e.meeting)));
    }
    short_text("venue", &e.venue)?;
    Ok(Decision::one(e.meeting.stream(), DomainEvent::MeetingScheduled(e.clone())).reading(e.body.stream()))
}

fn publish_agenda(record: &Record, meeting_id: &MeetingId, items: &[AgendaItem]) -> Decided {
    let m = scheduled(record, meeting_id, "given a new agenda")?;
    if items.is_empty() || items.len() > AGENDA_ITEMS_MAX as usize {
        return Err(Refusal::new(
            Rule::Invalid,
            format!("an agenda of {} items is outside 1 to {AGENDA_ITEMS_MAX}", items.len()),
        ));
    }
    for (item_idx, item) in items.iter().enumerate() {
        if item.number as usize != item_idx + 1 {
            return Err(Refusal::new(
                Rule::Invalid,
                format!(
                    "agenda items are numbered 1 to {} in order, but item {} is numbered {}",
                    items.len(),
                    item_idx + 1,
                    item.number
                ),
            ));
        }
        short_text("agenda item title", &item.title)?;
    }
    Ok(Decision::one(m.stream(), DomainEvent::AgendaPublished(AgendaPublished { items: items.to_vec() })))
}

/// Papers form part of the record of the meeting: they may be attached
/// before and during it, not after its close.
fn attach_paper(record: &Record, meeting_id: &MeetingId, paper: &PaperAttached) -> Decided {
    let m = meeting(record, meeting_id)?;
    not_signed(m, "have papers attached")?;
    if !matches!(m.status, MeetingStatus::Scheduled | MeetingStatus::InSession) {
        return Err(Refusal::new(
            Rule::MeetingClosed,
            format!("papers cannot be attached to meeting {meeting_id}: it is {}", status_words(m)),
        ));
    }
    short_text("paper reference", &paper.reference)?;
    short_text("paper title", &paper.title)?;
    // Only inert types: a paper is served from the site's own origin.
    if !super::papers::accepted_media_type(&paper.media_type) {
        return Err(Refusal::new(
            Rule::Invalid,
            format!(
                "a paper of type {:?} is not accepted; accepted are {}",
                paper.media_type,
                super::papers::accepted_list()
            ),
        ));
    }
    if paper.size_bytes == 0 {
        return Err(Refusal::new(Rule::Invalid, "a paper of 0 bytes holds nothing"));
    }
    if let Some(item) = paper.item {
        agenda_or_taken(m, item)?;
    }
    if m.papers.iter().any(|p| p.paper.reference == paper.reference) {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("meeting {meeting_id} already has a paper {:?}", paper.reference),
        ));
    }
    Ok(Decision::one(m.stream(), DomainEvent::PaperAttached(paper.clone())))
}

fn record_attendance(
    record: &Record,
    meeting_id: &MeetingId,
    person_id: &PersonId,
    attend_as: &AttendAs,
    presiding: bool,
    arrived_at: Option<TimeOfDay>,
) -> Decided {
    let m = in_session(record, meeting_id)?;
    let who = person(record, person_id)?;
    let body = body(record, &m.body)?;
    if m.attendance_of(person_id).is_some() {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("{} is already recorded as attending", who.display_name()),
        ));
    }
    if m.apology_of(person_id).is_some() {
        return Err(Refusal::new(Rule::Invalid, format!("{} gave apologies for this meeting", who.display_name())));
    }
    let capacity = match attend_as {
        AttendAs::Member => match body.role_on(person_id, m.date) {
            Some(role) => Capacity::Member { role },
            None => {
                return Err(Refusal::new(
                    Rule::NotAMember,
                    format!(
                        "{} was not a member of {} on {}, so cannot be present as a member",
                        who.display_name(),
                        body.name,
                        m.date
                    ),
                ))
            }
        },
        AttendAs::Substitute { for_member } => {
            if body.role_on(person_id, m.date).is_some() {
                return Err(Refusal::new(
                    Rule::Invalid,
                    format!("{} is a member of {} and cannot also be a substitute", who.display_name(), body.name),
                ));
            }
            let named = m.apology_of(for_member).and_then(|a| a.substitute.as_ref());
            if named != Some(person_id) {
                return Err(Refusal::new(
                    Rule::NotAMember,
                    format!("{} can sit as a substitute only for a member whose apologies named them; record {for_member}'s apologies with this substitute first", who.display_name()),
                ));
            }
            Capacity::Substitute { for_member: for_member.clone() }
        }
        AttendAs::Guest { description } => {
            short_text("description", description)?;
            Capacity::Guest { description: description.clone() }
        }
        AttendAs::Officer { job_title } => match job_title.clone().or_else(|| who.job_title.clone()) {
            Some(job_title) => {
                short_text("job title", &job_title)?;
                Capacity::Officer { job_title }
            }
            None => {
                return Err(Refusal::new(
                    Rule::Invalid,
                    format!("{} has no registered job title; give one", who.display_name()),
                ))
            }
        },
    };
    if presiding {
        if !matches!(capacity, Capacity::Member { .. }) {
            return Err(Refusal::new(
                Rule::NotAMember,
                "the person presiding must be a member of the body present at the meeting",
            ));
        }
        if let Some(chair) = m.presiding() {
            return Err(Refusal::new(
                Rule::AlreadyExists,
                format!("{} is already recorded as presiding", chair.person),
            ));
        }
    }
    let event = AttendanceRecorded { person: person_id.clone(), capacity, presiding, arrived_at };
    Ok(Decision::one(m.stream(), DomainEvent::AttendanceRecorded(event)).reading(body_stream(m)))
}

fn record_departure(record: &Record, meeting_id: &MeetingId, e: &DepartureRecorded) -> Decided {
    let m = in_session(record, meeting_id)?;
    let attendance = m
        .attendance_of(&e.person)
        .ok_or_else(|| Refusal::new(Rule::NotFound, format!("{} is not recorded as attending", e.person)))?;
    if attendance.left_at.is_some() {
        return Err(Refusal::new(Rule::AlreadyExists, format!("{} is already recorded as having left", e.person)));
    }
    Ok(Decision::one(m.stream(), DomainEvent::DepartureRecorded(e.clone())))
}

/// Apologies may be sent before the meeting or given at its start.
fn record_apologies(record: &Record, meeting_id: &MeetingId, e: &ApologiesRecorded) -> Decided {
    let m = meeting(record, meeting_id)?;
    if !matches!(m.status, MeetingStatus::Scheduled | MeetingStatus::InSession) {
        return Err(Refusal::new(
            Rule::MeetingClosed,
            format!("apologies cannot be recorded: meeting {meeting_id} is {}", status_words(m)),
        ));
    }
    let who = person(record, &e.person)?;
    let body = body(record, &m.body)?;
    if body.role_on(&e.person, m.date).is_none() {
        return Err(Refusal::new(
            Rule::NotAMember,
            format!(
                "{} was not a member of {} on {}, so has no apologies to give",
                who.display_name(),
                body.name,
                m.date
            ),
        ));
    }
    if m.apology_of(&e.person).is_some() || m.attendance_of(&e.person).is_some() {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("{} is already recorded at this meeting", who.display_name()),
        ));
    }
    if let Some(substitute) = &e.substitute {
        let sub = person(record, substitute)?;
        if body.role_on(substitute, m.date).is_some() {
            return Err(Refusal::new(
                Rule::Invalid,
                format!("{} is a member of {} and cannot be a substitute", sub.display_name(), body.name),
            ));
        }
        if m.apologies.iter().any(|a| a.substitute.as_ref() == Some(substitute)) {
            return Err(Refusal::new(
                Rule::AlreadyExists,
                format!("{} is already substituting for another member", sub.display_name()),
            ));
        }
    }
    Ok(Decision::one(m.stream(), DomainEvent::ApologiesRecorded(e.clone())).reading(body_stream(m)))
}

fn declare_interest(record: &Record, meeting_id: &MeetingId, e: &InterestDeclared) -> Decided {
    let m = in_session(record, meeting_id)?;
    sitting_member(record, m, &e.person, "declare an interest")?;
    agenda_or_taken(m, e.item)?;
    long_text("nature of the interest", &e.nature)?;
    if let Some(dispensation) = &e.dispensation {
        short_text("dispensation", dispensation)?;
    }
    Ok(Decision::one(m.stream(), DomainEvent::InterestDeclared(e.clone())).reading(body_stream(m)))
}

fn take_item(
    record: &Record,
    meeting_id: &MeetingId,
    item: u32,
    title: &Option<String>,
    kind: Option<ItemKind>,
) -> Decided {
    let m = in_session(record, meeting_id)?;
    if m.item(item).is_some() {
        return Err(Refusal::new(Rule::AlreadyExists, format!("agenda item {item} has already been taken")));
    }
    let agenda = m.agenda_item(item);
    let (title, kind) = match (agenda, title, kind) {
        (_, Some(title), Some(kind)) => (title.clone(), kind),
        (Some(agenda), title, kind) => {
            (title.clone().unwrap_or_else(|| agenda.title.clone()), kind.unwrap_or(agenda.kind))
        }
        (None, _, _) => {
            return Err(Refusal::new(
                Rule::NotFound,
                format!("item {item} is not on the agenda; an item of urgent business needs its title and kind"),
            ))
        }
    };
    if item == 0 || item > AGENDA_ITEMS_MAX {
        return Err(Refusal::new(Rule::Invalid, format!("item number {item} is outside 1 to {AGENDA_ITEMS_MAX}")));
    }
    short_text("item title", &title)?;
    Ok(Decision::one(m.stream(), DomainEvent::ItemTaken(ItemTaken { item, title, kind })))
}

/// An item is withdrawn from the draft before its minute numbers are
/// given, so that it leaves no gap.
fn withdraw_item(record: &Record, meeting_id: &MeetingId, e: &ItemWithdrawn) -> Decided {
    let m = unsigned(record, meeting_id, "have an item withdrawn")?;
    if m.draft_published.is_some() {
        return Err(Refusal::new(
            Rule::DraftPublished,
            format!("agenda item {} cannot be withdrawn: the draft minutes of meeting {meeting_id} were published and its minute numbers given", e.item),
        ));
    }
    open_item(m, e.item)?;
    short_text("reason", &e.reason)?;
    Ok(Decision::one(m.stream(), DomainEvent::ItemWithdrawn(e.clone())))
}

fn record_decision(record: &Record, meeting_id: &MeetingId, input: &DecisionInput) -> Decided {
    let m = in_session(record, meeting_id)?;
    open_item(m, input.item)?;
    long_text("decision", &input.text)?;
    let voters = voting_members_present(record, m, input.item);
    for (what, member) in [("move", &input.mover), ("second", &input.seconder)] {
        if let Some(member) = member {
            if !voters.contains(member) {
                return Err(Refusal::new(
                    Rule::NotAMember,
                    format!("{member} cannot {what}: only a voting member present can move or second"),
                ));
            }
        }
    }
    if input.mover.is_some() && input.mover == input.seconder {
        return Err(Refusal::new(Rule::Invalid, "the mover cannot also second the motion"));
    }
    let present = voters.len() as u64;
    let (for_, against) = match &input.vote {
        Vote::None => (0, 0),
        Vote::Counts { for_, against, abstain } => {
            let total = u64::from(*for_) + u64::from(*against) + u64::from(*abstain);
            if total > present {
                return Err(Refusal::new(
                    Rule::VoteExceedsMembers,
                    format!("the vote ({for_} for, {against} against, {abstain} abstaining) counts {total} votes but only {present} voting members were present"),
                ));
            }
            (*for_, *against)
        }
        Vote::Recorded { for_, against, abstain } => {
            let mut seen = std::collections::HashSet::new();
            for member in for_.iter().chain(against).chain(abstain) {
                if !voters.contains(member) {
                    return Err(Refusal::new(
                        Rule::NotAMember,
                        format!("{member} is not a voting member present for this item, so cannot vote"),
                    ));
                }
                if !seen.insert(member) {
                    return Err(Refusal::new(Rule::Invalid, format!("{member} appears twice in the recorded vote")));
                }
            }
            (for_.len() as u32, against.len() as u32)
        }
    };
    if let Some(casting) = &input.casting_vote {
        if matches!(input.vote, Vote::None) || for_ != against {
            return Err(Refusal::new(Rule::CastingVote, "the chair has a casting vote only on a tied vote"));
        }
        if m.presiding().map(|p| &p.person) != Some(&casting.chair) {
            return Err(Refusal::new(
                Rule::CastingVote,
                format!("{} cannot give the casting vote: only the person presiding can", casting.chair),
            ));
        }
    }
    let mut conflicts = Vec::new();
    let mut voted: Vec<&PersonId> = match &input.vote {
        Vote::Recorded { for_, against, .. } => for_.iter().chain(against).collect(),
        _ => Vec::new(),
    };
    voted.extend(input.casting_vote.as_ref().map(|c| &c.chair));
    for member in voted {
        let pecuniary = m.declarations.iter().any(|d| {
            let d = &d.declaration;
            &d.person == member
                && d.item == input.item
                && d.kind == InterestKind::DisclosablePecuniary
                && d.dispensation.is_none()
        });
        if pecuniary && !conflicts.contains(member) {
            conflicts.push(member.clone());
        }
    }
    let event = DecisionRecorded {
        item: input.item,
        text: input.text.clone(),
        kind: input.kind,
        vote: input.vote.clone(),
        casting_vote: input.casting_vote.clone(),
        mover: input.mover.clone(),
        seconder: input.seconder.clone(),
        conflicts,
    };
    Ok(Decision::one(m.stream(), DomainEvent::DecisionRecorded(event)).reading(body_stream(m)))
}

/// Members present who may vote on `item`: members whose role votes and
/// substitutes for such members, less those who have left and those who
/// withdrew from the item after declaring an interest.
fn voting_members_present(record: &Record, m: &Meeting, item: u32) -> Vec<PersonId> {
    let Some(body) = record.bodies.get(&m.body) else {
        return Vec::new();
    };
    let withdrew = |person: &PersonId| {
        m.declarations
            .iter()
            .any(|d| &d.declaration.person == person && d.declaration.item == item && d.declaration.withdrew)
    };
    m.attendance
        .iter()
        .filter(|a| a.left_at.is_none() && !withdrew(&a.person) && has_vote(body, m, a))
        .map(|a| a.person.clone())
        .collect()
}

/// Whether someone attending sits with a vote: a member whose role votes,
/// or a substitute for such a member.
fn has_vote(body: &minutebook_projections::record::Body, m: &Meeting, attendance: &Attendance) -> bool {
    match &attendance.capacity {
        Capacity::Member { role } => role.votes(),
        Capacity::Substitute { for_member } => body.role_on(for_member, m.date).is_some_and(MemberRole::votes),
        Capacity::Guest { .. } | Capacity::Officer { .. } => false,
    }
}

fn agree_action(record: &Record, meeting_id: &MeetingId, e: &ActionAgreed) -> Decided {
    let m = in_session(record, meeting_id)?;
    open_item(m, e.item)?;
    short_text("owner", &e.owner)?;
    long_text("action", &e.text)?;
    if let Some(owner) = &e.owner_person {
        person(record, owner)?;
    }
    if let Some(due) = e.due {
        if due < m.date {
            return Err(Refusal::new(
                Rule::Invalid,
                format!("the action is due on {due}, before the meeting on {}", m.date),
            ));
        }
    }
    Ok(Decision::one(m.stream(), DomainEvent::ActionAgreed(e.clone())))
}

/// Progress on an action is recorded in its body's stream, so that it can
/// be followed after the meeting that agreed it is sealed.
fn action_stream(record: &Record, action: Seq, reported_at: &Option<MeetingId>, note: &str) -> Result<String, Refusal> {
    long_text("note", note)?;
    let not_an_action = || Refusal::new(Rule::NotFound, format!("event {} did not agree an action", action.0));
    let (source, item) = record.entry_location(action).ok_or_else(not_an_action)?;
    let m = meeting(record, source)?;
    let entry = m.item(item).and_then(|i| i.entries.get(&action)).ok_or_else(not_an_action)?;
    let EntryKind::Action { updates, .. } = &entry.kind else {
        return Err(not_an_action());
    };
    if updates.values().any(|u| u.closed) {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("the action agreed at event {} is already closed", action.0),
        ));
    }
    if let Some(reported_at) = reported_at {
        let at = meeting(record, reported_at)?;
        if at.body != m.body {
            return Err(Refusal::new(
                Rule::Invalid,
                format!("meeting {reported_at} is not a meeting of the body that agreed the action"),
            ));
        }
    }
    Ok(m.body.stream())
}

fn exclude_public(record: &Record, meeting_id: &MeetingId, e: &PublicExcluded) -> Decided {
    let m = in_session(record, meeting_id)?;
    let item = open_item(m, e.item)?;
    if exempt_paragraph(e.paragraph).is_none() {
        let known: Vec<String> = exempt_paragraphs().iter().map(|(n, _)| n.to_string()).collect();
        return Err(Refusal::new(
            Rule::Invalid,
            format!(
                "paragraph {} is not a paragraph of Schedule 12A; the public may be excluded under paragraphs {}",
                e.paragraph,
                known.join(", ")
            ),
        ));
    }
    if item.exempt_paragraph.is_some() {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("the public is already excluded for agenda item {}", e.item),
        ));
    }
    if !item.entries.is_empty() {
        return Err(Refusal::new(
            Rule::OutOfOrder,
            format!("the public must be excluded before agenda item {} is discussed; points were already recorded in public", e.item),
        ));
    }
    Ok(Decision::one(m.stream(), DomainEvent::PublicExcluded(e.clone())))
}

/// Releasing exempt content changes who may read it, not what it says, so
/// it is allowed after the minutes are signed.
fn release_exempt(record: &Record, meeting_id: &MeetingId, e: &ExemptReleased) -> Decided {
    let m = meeting(record, meeting_id)?;
    let item = exempt_item(m, e.item)?;
    if item.exempt_released.is_some() {
        return Err(Refusal::new(
            Rule::AlreadyExists,
            format!("agenda item {} was already released from exemption", e.item),
        ));
    }
    short_text("reason", &e.reason)?;
    Ok(Decision::one(m.stream(), DomainEvent::ExemptReleased(e.clone())))
}

fn close_meeting(record: &Record, meeting_id: &MeetingId, at: TimeOfDay) -> Decided {
    let m = in_session(record, meeting_id)?;
    let body = body(record, &m.body)?;
    // Those with a vote still present at the close: a meeting that lost its
    // quorum before the end is flagged.
    let present = m.attendance.iter().filter(|a| a.left_at.is_none() && has_vote(body, m, a)).count() as u32;
    let event =
        MeetingClosed { at, voting_members_present: present, quorum: body.quorum, quorate: present >= body.quorum };
    Ok(Decision::one(m.stream(), DomainEvent::MeetingClosed(event)).reading(body_stream(m)))
}

// ---- minutes after the meeting ----

fn publish_draft(record: &Record, meeting_id: &MeetingId) -> Decided {
    let m = meeting(record, meeting_id)?;
    if m.status != MeetingStatus::Closed {
        return Err(Refusal::new(
            Rule::NotClosed,
            format!(
                "the draft minutes of meeting {meeting_id} cannot be published before the meeting is closed: it is {}",
                status_words(m)
            ),
        ));
    }
    if m.draft_published.is_some() {
        return Err(Refusal::new(
            Rule::DraftPublished,
            format!("the draft minutes of meeting {meeting_id} are already published"),
        ));
    }
    let body = body(record, &m.body)?;
    // Counted in u64: the record's next number comes from the log, where
    // a crafted event can have put it anywhere up to u32::MAX.
    let mut minutes = Vec::new();
    let items = m.items.iter().filter(|item| item.withdrawn.is_none());
    for (next, item) in (u64::from(body.next_minute)..).zip(items) {
        let minute = u32::try_from(next)
            .ok()
            .filter(|minute| *minute <= MINUTE_NUMBER_MAX)
            .ok_or_else(|| Refusal::new(Rule::Invalid, format!("minute numbers would pass {MINUTE_NUMBER_MAX}")))?;
        minutes.push(MinuteAssignment { item: item.number, minute });
    }
    let mut decision =
        Decision::one(m.stream(), DomainEvent::DraftPublished(DraftPublished { minutes: minutes.clone() }));
    match (minutes.first(), minutes.last()) {
        (Some(first), Some(last)) => decision.events.push((
            body.id.stream(),
            DomainEvent::MinuteNumbersAssigned(MinuteNumbersAssigned {
                meeting: m.id.clone(),
                first: first.minute,
                last: last.minute,
            }),
        )),
        _ => decision = decision.reading(body.id.stream()),
    }
    Ok(decision)
}

fn revise_draft(record: &Record, meeting_id: &MeetingId, revision: &DraftRevised) -> Decided {
    let m = unsigned(record, meeting_id, "be revised")?;
    if m.status != MeetingStatus::Closed {
        return Err(Refusal::new(
            Rule::NotClosed,
            format!("the draft of meeting {meeting_id} is revised after the meeting closes; it is {}", status_words(m)),
        ));
    }
    short_text("reason", &revision.reason)?;
    match &revision.change {
        Revision::ReplaceText { target, text } => {
            long_text("text", text)?;
            if current_text(m, *target)? == text.as_str() {
                return Err(Refusal::new(Rule::Invalid, "the new text is the same as the current text"));
            }
        }
        Revision::AddPoint { item, text } => {
            open_item(m, *item)?;
            long_text("point", text)?;
        }
        Revision::Strike { target } => {
            let entry = m.items.iter().find_map(|item| item.entries.get(target));
            match entry {
                None => {
                    return Err(Refusal::new(
                        Rule::NotFound,
                        format!("event {} recorded no point, decision or action of meeting {meeting_id}", target.0),
                    ))
                }
                Some(entry) if entry.struck => {
                    return Err(Refusal::new(
                        Rule::AlreadyExists,
                        format!("the entry recorded by event {} is already struck out", target.0),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    Ok(Decision::one(m.stream(), DomainEvent::DraftRevised(revision.clone())))
}

/// The text of the item title or entry the event at `target` recorded.
fn current_text(m: &Meeting, target: Seq) -> Result<&str, Refusal> {
    if let Some(item) = m.items.iter().find(|item| item.seq == target) {
        return Ok(&item.title.text);
    }
    match m.items.iter().find_map(|item| item.entries.get(&target)) {
        Some(entry) if !entry.struck => Ok(&entry.text.text),
        Some(_) => {
            Err(Refusal::new(Rule::NotFound, format!("the entry recorded by event {} was struck out", target.0)))
        }
        None => Err(Refusal::new(
            Rule::NotFound,
            format!("event {} recorded no item, point, decision or action of meeting {}", target.0, m.id),
        )),
    }
}

fn confirm(record: &Record, meeting_id: &MeetingId, by_meeting: &MeetingId, by_item: u32) -> Decided {
    let m = meeting(record, meeting_id)?;
    let cannot = |why: String| {
        Refusal::new(Rule::Confirmation, format!("the minutes of meeting {meeting_id} cannot be confirmed: {why}"))
    };
    if m.draft_published.is_none() {
        return Err(cannot("their draft has not been published".to_owned()));
    }
    if m.is_signed() {
        return Err(cannot("they are already signed".to_owned()));
    }
    let by = meeting(record, by_meeting)?;
    if by.body != m.body {
        return Err(cannot(format!("meeting {by_meeting} is not a meeting of the same body")));
    }
    if by.id != m.id && by.date <= m.date {
        return Err(cannot(format!("meeting {by_meeting} on {} is not a later meeting", by.date)));
    }
    if !matches!(by.status, MeetingStatus::InSession | MeetingStatus::Closed) {
        return Err(cannot(format!("meeting {by_meeting} is {}", status_words(by))));
    }
    match by.item(by_item) {
        Some(item) if item.kind == ItemKind::ConfirmationOfMinutes && item.withdrawn.is_none() => {}
        Some(_) => {
            return Err(cannot(format!(
                "agenda item {by_item} of meeting {by_meeting} is not a confirmation of minutes"
            )))
        }
        None => return Err(cannot(format!("meeting {by_meeting} has not taken agenda item {by_item}"))),
    }
    let events = record.stream_version(&m.stream()).0;
    // Only a log whose meeting stream began before the meeting was
    // scheduled (one written around these rules) lacks some of its hashes.
    let digest = events_digest(m, events).ok_or_else(|| {
        cannot(format!("the record holds only {} of the {events} events of their stream", m.event_hashes.len()))
    })?;
    let text = canonical_text(record, meeting_id).expect("a meeting in the record has minutes");
    let event = MinutesConfirmed {
        by_meeting: by_meeting.clone(),
        by_item,
        events,
        events_digest: digest,
        minutes_digest: minutes_digest(&text),
    };
    if let Some(previous) = &m.confirmation {
        if previous.confirmed.minutes_digest == event.minutes_digest {
            return Err(cannot(format!(
                "they are already confirmed by meeting {} agenda item {}, and have not changed since",
                previous.confirmed.by_meeting, previous.confirmed.by_item
            )));
        }
    }
    let mut decision = Decision::one(m.stream(), DomainEvent::MinutesConfirmed(event));
    if by.id != m.id {
        decision = decision.reading(by.stream());
    }
    Ok(decision)
}

/// The statement a chair signs for a meeting, from its confirmation and a
/// signed checkpoint that covers it.
pub fn signing_statement(
    record: &Record,
    meeting_id: &MeetingId,
    origin: &str,
    tree_size: u64,
    tree_root: TreeHash,
) -> Result<SigningStatement, Refusal> {
    let m = meeting(record, meeting_id)?;
    let confirmation = m.confirmation.as_ref().ok_or_else(|| {
        Refusal::new(
            Rule::Signature,
            format!("minutes of meeting {meeting_id} cannot be signed: they have not been confirmed"),
        )
    })?;
    let body = body(record, &m.body)?;
    Ok(SigningStatement {
        body: body.id.clone(),
        body_name: body.name.clone(),
        meeting: m.id.clone(),
        meeting_date: m.date,
        confirming_meeting: confirmation.confirmed.by_meeting.clone(),
        confirming_item: confirmation.confirmed.by_item,
        log: origin.to_owned(),
        tree_size,
        tree_root,
        events: confirmation.confirmed.events,
        events_digest: confirmation.confirmed.events_digest,
        minutes_digest: confirmation.confirmed.minutes_digest,
    })
}

fn sign(
    record: &Record,
    log: &dyn LogLookup,
    meeting_id: &MeetingId,
    signer: &PersonId,
    public_key: &[u8; 32],
    statement_text: &str,
    signature: &SignatureBytes,
) -> Decided {
    let cannot =
        |why: String| Refusal::new(Rule::Signature, format!("minutes of meeting {meeting_id} cannot be signed: {why}"));
    let m = meeting(record, meeting_id)?;
    if m.is_signed() {
        return Err(cannot("they are already signed".to_owned()));
    }
    let Some(confirmation) = &m.confirmation else {
        return Err(cannot("they have not been confirmed".to_owned()));
    };
    let now = minutes_digest(&canonical_text(record, meeting_id).expect("a meeting in the record has minutes"));
    if now != confirmation.confirmed.minutes_digest {
        return Err(cannot("they changed after they were confirmed; confirm them again first".to_owned()));
    }
    let by = meeting(record, &confirmation.confirmed.by_meeting)?;
    let presiding = by.presiding().map(|p| &p.person);
    if presiding != Some(signer) {
        let who = presiding.map_or_else(|| "nobody was recorded as presiding".to_owned(), |p| format!("{p} presided"));
        return Err(cannot(format!(
            "only the person who presided at the confirming meeting {} may sign them, and {who}",
            by.id
        )));
    }
    let statement =
        SigningStatement::parse(statement_text).map_err(|why| cannot(format!("the statement is malformed: {why}")))?;
    let root = log.checkpoint_root(statement.tree_size).ok_or_else(|| {
        cannot(format!("the statement pins tree size {}, for which the log signed no checkpoint", statement.tree_size))
    })?;
    if statement.tree_size <= confirmation.seq.0 {
        return Err(cannot(format!(
            "the statement pins tree size {}, which does not include the confirmation",
            statement.tree_size
        )));
    }
    let expected = signing_statement(record, meeting_id, &log.origin(), statement.tree_size, root)?;
    if statement != expected {
        return Err(cannot(format!(
            "the statement does not match the confirmed minutes and the log; the statement to sign is:\n{}",
            expected.to_text()
        )));
    }
    let who = person(record, signer)?;
    match who.key(public_key) {
        None => return Err(cannot(format!("the key is not registered to {signer}"))),
        Some(key) if key.revoked_at.is_some() => return Err(cannot(format!("the key of {signer} was revoked"))),
        Some(_) => {}
    }
    let key = VerifyingKey::from_bytes(public_key)
        .map_err(|_| cannot("the public key is not a valid Ed25519 key".to_owned()))?;
    key.verify_strict(statement_text.as_bytes(), &Signature::from_bytes(&signature.0))
        .map_err(|_| cannot("the signature does not verify over the statement with the registered key".to_owned()))?;
    let event = MinutesSigned {
        signer: signer.clone(),
        public_key: *public_key,
        statement: statement_text.to_owned(),
        signature: *signature,
    };
    Ok(Decision::one(m.stream(), DomainEvent::MinutesSigned(event)).reading(by.stream()).reading(signer.stream()))
}

fn correct(
    record: &Record,
    meeting_id: &MeetingId,
    target: Seq,
    text: &str,
    by_meeting: &MeetingId,
    by_item: u32,
    reason: &str,
) -> Decided {
    let m = meeting(record, meeting_id)?;
    let cannot = |why: String| {
        Refusal::new(Rule::Correction, format!("the minutes of meeting {meeting_id} cannot be corrected: {why}"))
    };
    if !m.is_signed() {
        return Err(cannot("they are not signed yet; revise the draft instead".to_owned()));
    }
    let superseded = current_text(m, target)?;
    long_text("text", text)?;
    short_text("reason", reason)?;
    if superseded == text {
        return Err(cannot("the new text is the same as the current text".to_owned()));
    }
    let by = meeting(record, by_meeting)?;
    if by.body != m.body || by.date <= m.date {
        return Err(cannot(format!(
            "the authorising minute must be of a later meeting of the same body, and meeting {by_meeting} is not"
        )));
    }
    if by.item(by_item).is_none_or(|item| item.withdrawn.is_some()) {
        return Err(cannot(format!("meeting {by_meeting} has not taken agenda item {by_item}")));
    }
    let event = MinutesCorrected {
        target,
        superseded: superseded.to_owned(),
        text: text.to_owned(),
        by_meeting: by_meeting.clone(),
        by_item,
        reason: reason.to_owned(),
    };
    Ok(Decision::one(m.stream(), DomainEvent::MinutesCorrected(event)).reading(by.stream()))
}

fn redact(record: &Record, log: &dyn LogLookup, target: Seq, legal_basis: &str) -> Decided {
    let cannot = |why: String| Refusal::new(Rule::Redaction, format!("event {} cannot be redacted: {why}", target.0));
    if legal_basis.trim().is_empty() {
        return Err(cannot("a redaction needs its legal basis".to_owned()));
    }
    if let Some(c) = legal_basis.chars().find(|c| c.is_control()) {
        return Err(cannot(format!("a legal basis may not contain the control character {c:?}")));
    }
    if legal_basis.len() > REDACTION_BASIS_BYTES_MAX {
        return Err(cannot(format!(
            "a legal basis of {} bytes exceeds the limit of {REDACTION_BASIS_BYTES_MAX}",
            legal_basis.len()
        )));
    }
    if target >= record.position() {
        return Err(cannot("the log holds no such event".to_owned()));
    }
    let event = log.event(target).ok_or_else(|| cannot("the log holds no such event".to_owned()))?;
    let Payload::Present { bytes, .. } = &event.payload else {
        return Err(cannot("it is already redacted".to_owned()));
    };
    let original = DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes)
        .map_err(|error| cannot(format!("it is not a governance event ({error})")))?;
    let marker = format!("[redacted: {legal_basis}]");
    let residue = original.redacted(&marker).ok_or_else(|| {
        cannot(format!("events of type {} carry no personal detail that can be redacted", original.event_type()))
    })?;
    let stream = event.envelope.stream().to_owned();
    let redaction = PayloadRedacted {
        target,
        target_hash: event.hash,
        target_type: original.event_type().to_owned(),
        legal_basis: legal_basis.to_owned(),
        residue: residue.encode(),
        residue_schema_version: residue.schema_version(),
    };
    Ok(Decision {
        events: vec![(stream, DomainEvent::PayloadRedacted(redaction))],
        reads: Vec::new(),
        redactions: vec![(target, format!("redacted: {legal_basis}"))],
    })
}

/// Longest legal basis of a redaction; the log's notice holds it.
pub const REDACTION_BASIS_BYTES_MAX: usize = 512;
const _: () = assert!(REDACTION_BASIS_BYTES_MAX + 16 <= minutebook_log::limits::REDACTION_NOTICE_BYTES_MAX);

// ---- lookups that refuse ----

fn body<'r>(record: &'r Record, id: &BodyId) -> Result<&'r minutebook_projections::record::Body, Refusal> {
    record.bodies.get(id).ok_or_else(|| Refusal::new(Rule::NotFound, format!("no body {id} is registered")))
}

fn person<'r>(record: &'r Record, id: &PersonId) -> Result<&'r minutebook_projections::record::Person, Refusal> {
    record.people.get(id).ok_or_else(|| Refusal::new(Rule::NotFound, format!("no person {id} is registered")))
}

fn meeting<'r>(record: &'r Record, id: &MeetingId) -> Result<&'r Meeting, Refusal> {
    record.meetings.get(id).ok_or_else(|| Refusal::new(Rule::NotFound, format!("no meeting {id} is scheduled")))
}

fn body_stream(m: &Meeting) -> String {
    m.body.stream()
}

fn status_words(m: &Meeting) -> String {
    match m.status {
        MeetingStatus::Scheduled => "not yet opened".to_owned(),
        MeetingStatus::Cancelled => "cancelled".to_owned(),
        MeetingStatus::InSession => "in session".to_owned(),
        MeetingStatus::Closed => match &m.closed {
            Some(closed) => format!("closed (at {})", closed.at),
            None => "closed".to_owned(),
        },
    }
}

/// After signing, the minutes are sealed: only corrections change them.
fn not_signed(m: &Meeting, what: &str) -> Result<(), Refusal> {
    if m.is_signed() {
        return Err(Refusal::new(
            Rule::Sealed,
            format!("the minutes of meeting {} are signed and sealed, so they cannot {what}; record a correction authorised by a minute of a later meeting", m.id),
        ));
    }
    Ok(())
}

fn unsigned<'r>(record: &'r Record, id: &MeetingId, what: &str) -> Result<&'r Meeting, Refusal> {
    let m = meeting(record, id)?;
    not_signed(m, what)?;
    Ok(m)
}

fn scheduled<'r>(record: &'r Record, id: &MeetingId, what: &str) -> Result<&'r Meeting, Refusal> {
    let m = meeting(record, id)?;
    if m.status != MeetingStatus::Scheduled {
        return Err(Refusal::new(
            Rule::OutOfOrder,
            format!("meeting {id} cannot be {what}: it is {}", status_words(m)),
        ));
    }
    Ok(m)
}

/// Things happen in a meeting only while it is in session; after the close
/// the record changes only through revisions of the draft.
fn in_session<'r>(record: &'r Record, id: &MeetingId) -> Result<&'r Meeting, Refusal> {
    let m = meeting(record, id)?;
    not_signed(m, "have anything recorded")?;
    match m.status {
        MeetingStatus::InSession => Ok(m),
        MeetingStatus::Closed => Err(Refusal::new(
            Rule::MeetingClosed,
            format!(
                "meeting {id} is {}; after the close its record changes only through revisions of the draft",
                status_words(m)
            ),
        )),
        MeetingStatus::Cancelled => Err(Refusal::new(
            Rule::NotInSession,
            format!("meeting {id} was cancelled, so nothing can be recorded at it"),
        )),
        MeetingStatus::Scheduled => {
            Err(Refusal::new(Rule::NotInSession, format!("meeting {id} is {}; open it first", status_words(m))))
        }
    }
}

/// Someone present for the body: a member present or a substitute.
fn sitting_member(record: &Record, m: &Meeting, person_id: &PersonId, what: &str) -> Result<(), Refusal> {
    let who = person(record, person_id)?;
    let sits = m
        .attendance_of(person_id)
        .is_some_and(|a| matches!(a.capacity, Capacity::Member { .. } | Capacity::Substitute { .. }));
    if !sits {
        return Err(Refusal::new(
            Rule::NotAMember,
            format!(
                "{} cannot {what}: only members present (or their substitutes) can, and they are not recorded as one",
                who.display_name()
            ),
        ));
    }
    Ok(())
}

fn agenda_or_taken(m: &Meeting, item: u32) -> Result<(), Refusal> {
    if m.agenda_item(item).is_none() && m.item(item).is_none() {
        return Err(Refusal::new(Rule::NotFound, format!("meeting {} has no agenda item {item}", m.id)));
    }
    Ok(())
}

fn open_item(m: &Meeting, number: u32) -> Result<&minutebook_projections::record::Item, Refusal> {
    match m.item(number) {
        None => {
            Err(Refusal::new(Rule::NotFound, format!("agenda item {number} of meeting {} has not been taken", m.id)))
        }
        Some(item) if item.withdrawn.is_some() => {
            Err(Refusal::new(Rule::NotFound, format!("agenda item {number} was withdrawn")))
        }
        Some(item) => Ok(item),
    }
}

fn exempt_item(m: &Meeting, number: u32) -> Result<&minutebook_projections::record::Item, Refusal> {
    let item = open_item(m, number)?;
    if item.exempt_paragraph.is_none() {
        return Err(Refusal::new(
            Rule::NotFound,
            format!("agenda item {number} was not taken with the public excluded"),
        ));
    }
    Ok(item)
}

fn short_text(what: &str, text: &str) -> Result<(), Refusal> {
    limited_text(what, text, SHORT_TEXT_BYTES_MAX)
}

fn long_text(what: &str, text: &str) -> Result<(), Refusal> {
    limited_text(what, text, TEXT_BYTES_MAX)
}

fn limited_text(what: &str, text: &str, max: usize) -> Result<(), Refusal> {
    if text.trim().is_empty() {
        return Err(Refusal::new(Rule::Invalid, format!("the {what} is empty")));
    }
    if text.len() > max {
        return Err(Refusal::new(
            Rule::Invalid,
            format!("the {what} of {} bytes exceeds the limit of {max}", text.len()),
        ));
    }
    Ok(())
}
