//! `minutebook demo`: an invented council (Eastbrook Borough Council)
//! with two bodies and six meetings covering the whole life of minutes:
//! attendance with a substitute, declarations, votes by count and by name,
//! actions followed to closure, papers, an exempt item, drafts and a
//! revision, confirmation at the next meeting, the presiding member's
//! signature, a correction at a later meeting and a redaction. Every
//! command goes through the same rules as any other; nothing is written
//! around them. All names and discussions are invented.

use std::path::{Path, PathBuf};

use minutebook_catalogue::*;
use minutebook_log::Log;

use crate::domain::{key_registration_statement, Actor, AttendAs, Command, DecisionInput, Recorder};
use crate::keyfile::KeyFile;

/// The origin line of the demo log's checkpoints.
pub const DEMO_ORIGIN: &str = "eastbrook.example/minutes";
/// The directory inside the data directory holding the demo chairs' keys.
pub const DEMO_KEYS_DIRECTORY: &str = "demo-keys";

const SCRUTINY: &str = "riverside-scrutiny";
const LICENSING: &str = "licensing-committee";

/// Why the demo could not be made. A command the rules or the log
/// refused is a bug in the demo, said as "demo: ..." so that it is not
/// taken for the user's mistake.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{} exists and is not a minute book; choose another --data", path.display())]
    NotEmpty { path: PathBuf },
    #[error("cannot create {}: {error}", path.display())]
    CreateKeysDirectory { path: PathBuf, error: std::io::Error },
    #[error("cannot move the demo into {}: {error}", path.display())]
    MoveIntoPlace { path: PathBuf, error: std::io::Error },
    #[error(transparent)]
    Log(#[from] minutebook_log::Error),
    /// The record could not be opened, or a statement made from it.
    #[error(transparent)]
    Record(crate::domain::CommandError),
    /// A demo command was not recorded.
    #[error("demo: {0}")]
    Command(crate::domain::CommandError),
    #[error("demo: no {event_type} in meeting {meeting}")]
    NoSuchEvent { event_type: String, meeting: String },
    #[error(transparent)]
    Key(#[from] crate::keyfile::Error),
}

struct Demo<'a> {
    recorder: &'a Recorder,
    keys: PathBuf,
}

fn person_id(id: &str) -> PersonId {
    PersonId::new(id).expect("demo ids are valid")
}
fn meeting_id(id: &str) -> MeetingId {
    MeetingId::new(id).expect("demo ids are valid")
}
fn body_id(id: &str) -> BodyId {
    BodyId::new(id).expect("demo ids are valid")
}
fn date(text: &str) -> Date {
    Date::parse(text).expect("demo dates are valid")
}
fn time(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).expect("demo times are valid")
}

impl Demo<'_> {
    fn run(&self, command: Command) -> Result<minutebook_log::Seq, Error> {
        let actor = Actor::new("off-rowe", "clerk");
        let recorded = self.recorder.execute(&actor, &command).map_err(Error::Command)?;
        Ok(recorded.outcome.events[0].seq)
    }

    fn person(&self, id: &str, name: &str, title: Option<&str>) -> Result<(), Error> {
        self.run(Command::RegisterPerson(PersonRegistered {
            person: person_id(id),
            name: name.into(),
            title: title.map(Into::into),
            organisation: None,
        }))
        .map(drop)
    }

    fn member(&self, body: &str, id: &str, name: &str, role: MemberRole) -> Result<(), Error> {
        let title = if id.starts_with("cllr-") { Some("Councillor") } else { None };
        self.person(id, name, title)?;
        let appointment = MemberAppointed { person: person_id(id), role, from: date("2025-05-20") };
        self.run(Command::AppointMember { body: body_id(body), appointment }).map(drop)
    }

    /// A key for a chair, written to the demo keys directory and registered
    /// with its proof of possession.
    fn chair_key(&self, id: &str) -> Result<(), Error> {
        let key = KeyFile::generate(person_id(id))?;
        key.write_new(&self.keys.join(format!("{id}.jwk")))?;
        let statement = key_registration_statement(DEMO_ORIGIN, &person_id(id), &key.public_key());
        let proof = signature(&key, &statement);
        self.run(Command::RegisterSigningKey(SigningKeyRegistered {
            person: person_id(id),
            public_key: key.public_key(),
            proof,
        }))
        .map(drop)
    }

    fn schedule(&self, body: &str, meeting: &str, on: &str, agenda: &[(&str, ItemKind)]) -> Result<(), Error> {
        self.run(Command::ScheduleMeeting(MeetingScheduled {
            meeting: meeting_id(meeting),
            body: body_id(body),
            date: date(on),
            start: time("18:30"),
            venue: "Committee Room 2, Eastbrook Civic Centre".into(),
        }))?;
        let items = agenda
            .iter()
            .enumerate()
            .map(|(idx, (title, kind))| AgendaItem { number: idx as u32 + 1, title: (*title).into(), kind: *kind })
            .collect();
        self.run(Command::PublishAgenda { meeting: meeting_id(meeting), items }).map(drop)
    }

    fn open(&self, meeting: &str, presiding: &str, members: &[&str]) -> Result<(), Error> {
        self.run(Command::OpenMeeting { meeting: meeting_id(meeting), at: time("18:30") })?;
        for member in std::iter::once(&presiding).chain(members) {
            self.attend(meeting, member, AttendAs::Member, *member == presiding)?;
        }
        self.attend(meeting, "off-rowe", AttendAs::Officer { job_title: None }, false)
    }

    fn attend(&self, meeting: &str, person: &str, attend_as: AttendAs, presiding: bool) -> Result<(), Error> {
        self.run(Command::RecordAttendance {
            meeting: meeting_id(meeting),
            person: person_id(person),
            attend_as,
            presiding,
            arrived_at: None,
        })
        .map(drop)
    }

    fn take(&self, meeting: &str, items: std::ops::RangeInclusive<u32>) -> Result<(), Error> {
        for item in items {
            self.run(Command::TakeItem { meeting: meeting_id(meeting), item, title: None, kind: None })?;
        }
        Ok(())
    }

    fn point(&self, meeting: &str, item: u32, text: &str) -> Result<minutebook_log::Seq, Error> {
        self.run(Command::RecordPoint {
            meeting: meeting_id(meeting),
            point: PointRecorded { item, text: text.into() },
        })
    }

    fn decide(&self, meeting: &str, item: u32, text: &str, vote: Vote) -> Result<(), Error> {
        let decision = DecisionInput {
            item,
            text: text.into(),
            kind: DecisionKind::Agreed,
            vote,
            casting_vote: None,
            mover: None,
            seconder: None,
        };
        self.run(Command::RecordDecision { meeting: meeting_id(meeting), decision }).map(drop)
    }

    fn action(
        &self,
        meeting: &str,
        item: u32,
        owner: &str,
        text: &str,
        due: &str,
    ) -> Result<minutebook_log::Seq, Error> {
        self.run(Command::AgreeAction {
            meeting: meeting_id(meeting),
            action: ActionAgreed {
                item,
                owner: owner.into(),
                owner_person: None,
                text: text.into(),
                due: Some(date(due)),
            },
        })
    }

    /// The position of the last event of `event_type` in a meeting's stream
    /// whose payload passes `matches`.
    fn last_in_stream(
        &self,
        meeting: &str,
        event_type: &str,
        matches: impl Fn(&[u8]) -> bool,
    ) -> Result<minutebook_log::Seq, Error> {
        let events =
            self.recorder.log().read_stream(&meeting_id(meeting).stream(), minutebook_log::StreamVersion(1), 1_000)?;
        events
            .iter()
            .rev()
            .find(|e| {
                e.envelope.event_type() == event_type
                    && matches!(&e.payload, minutebook_log::Payload::Present { bytes, .. } if matches(bytes))
            })
            .map(|e| e.envelope.seq())
            .ok_or_else(|| Error::NoSuchEvent { event_type: event_type.to_owned(), meeting: meeting.to_owned() })
    }

    fn close_and_publish(&self, meeting: &str, at: &str) -> Result<(), Error> {
        self.run(Command::CloseMeeting { meeting: meeting_id(meeting), at: time(at) })?;
        self.run(Command::PublishDraft { meeting: meeting_id(meeting) }).map(drop)
    }

    /// Confirmed by agenda item 4 of `by`, then signed by whoever presided there.
    fn confirm_and_sign(&self, meeting: &str, by: &str, signer: &str) -> Result<(), Error> {
        self.run(Command::ConfirmMinutes { meeting: meeting_id(meeting), by_meeting: meeting_id(by), by_item: 4 })?;
        self.sign(meeting, signer)
    }

    /// Signs confirmed minutes with the signer's demo key, as a chair would.
    fn sign(&self, meeting: &str, signer: &str) -> Result<(), Error> {
        let statement = self.recorder.statement(&meeting_id(meeting)).map_err(Error::Record)?.to_text();
        let key = KeyFile::read(&self.keys.join(format!("{signer}.jwk")))?;
        let command = Command::SignMinutes {
            meeting: meeting_id(meeting),
            signer: person_id(signer),
            public_key: key.public_key(),
            signature: signature(&key, &statement),
            statement,
        };
        self.recorder.execute(&Actor::new(signer, "member"), &command).map_err(Error::Command)?;
        Ok(())
    }
}

fn signature(key: &KeyFile, text: &str) -> SignatureBytes {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD.decode(key.sign_base64(text.as_bytes())).expect("base64");
    SignatureBytes(bytes.try_into().expect("64 bytes"))
}

fn agenda(substantive: &[&'static str]) -> Vec<(&'static str, ItemKind)> {
    let mut items = vec![
        ("Apologies and welcome", ItemKind::Apologies),
        ("Declarations of interest and party whip", ItemKind::Declarations),
        ("Public participation", ItemKind::PublicParticipation),
        ("Minutes of the previous meeting", ItemKind::ConfirmationOfMinutes),
    ];
    items.extend(substantive.iter().map(|title| (*title, ItemKind::Substantive)));
    items
}

/// Creates the demo data directory, or reuses it if it already holds a
/// minute book. Returns whether it was created. The demo is built beside
/// it and renamed into place, so a failure never leaves half a demo.
pub fn create(data: &Path) -> Result<bool, Error> {
    if data.join(minutebook_log::FORMAT_FILE).exists() {
        return Ok(false);
    }
    if data.exists() && std::fs::read_dir(data).map_or(true, |mut entries| entries.next().is_some()) {
        return Err(Error::NotEmpty { path: data.to_owned() });
    }
    let building = data.with_extension("building");
    let _ = std::fs::remove_dir_all(&building);
    Log::init(&building, DEMO_ORIGIN)?;
    let keys = building.join(DEMO_KEYS_DIRECTORY);
    std::fs::create_dir_all(&keys).map_err(|error| Error::CreateKeysDirectory { path: keys.clone(), error })?;
    let recorder = Recorder::new(Log::open(&building)?).map_err(Error::Record)?;
    record(&Demo { recorder: &recorder, keys })?;
    drop(recorder);
    let _ = std::fs::remove_dir(data);
    std::fs::rename(&building, data).map_err(|error| Error::MoveIntoPlace { path: data.to_owned(), error })?;
    Ok(true)
}

fn record(d: &Demo<'_>) -> Result<(), Error> {
    d.person("off-rowe", "Maya Rowe", None)?;
    d.run(Command::RegisterOfficer(OfficerRegistered {
        person: person_id("off-rowe"),
        job_title: "Democratic Services Officer".into(),
    }))?;
    d.person("off-castellano", "Luis Castellano", None)?;
    d.run(Command::RegisterOfficer(OfficerRegistered {
        person: person_id("off-castellano"),
        job_title: "Director of Communities".into(),
    }))?;
    d.person("cllr-quinn", "Fergus Quinn", Some("Councillor"))?;
    d.person("cllr-varga", "Lena Varga", Some("Councillor"))?;
    d.person("mr-hollins", "Dev Hollins", Some("Mr"))?;

    // The scrutiny panel.
    d.run(Command::RegisterBody(BodyRegistered {
        body: body_id(SCRUTINY),
        name: "Riverside Communities Scrutiny Panel".into(),
        kind: BodyKind::Panel,
        timezone: "Europe/London".into(),
        quorum: 3,
        minute_number_start: 389,
    }))?;
    let scrutiny_members = [
        ("cllr-okoro", "Ada Okoro", MemberRole::Chair),
        ("cllr-patel", "Ravi Patel", MemberRole::ViceChair),
        ("cllr-brennan", "Siobhan Brennan", MemberRole::Member),
        ("cllr-lindqvist", "Erik Lindqvist", MemberRole::Member),
        ("cllr-mensah", "Kofi Mensah", MemberRole::Member),
        ("cllr-fairweather", "Tom Fairweather", MemberRole::Member),
    ];
    for (id, name, role) in scrutiny_members {
        d.member(SCRUTINY, id, name, role)?;
    }
    d.chair_key("cllr-okoro")?;
    d.chair_key("cllr-patel")?;

    // The licensing committee.
    d.run(Command::RegisterBody(BodyRegistered {
        body: body_id(LICENSING),
        name: "Licensing and Regulatory Committee".into(),
        kind: BodyKind::Committee,
        timezone: "Europe/London".into(),
        quorum: 3,
        minute_number_start: 112,
    }))?;
    for (id, name, role) in [
        ("cllr-achebe", "Grace Achebe", MemberRole::Chair),
        ("cllr-moreau", "Luc Moreau", MemberRole::ViceChair),
        ("cllr-singh", "Harpreet Singh", MemberRole::Member),
        ("cllr-doyle", "Niamh Doyle", MemberRole::Member),
    ] {
        d.member(LICENSING, id, name, role)?;
    }
    d.chair_key("cllr-achebe")?;

    scrutiny(d)?;
    licensing(d)
}

fn scrutiny(d: &Demo<'_>) -> Result<(), Error> {
    let (m1, m2, m3) = ("rcsp-2026-01-22", "rcsp-2026-03-05", "rcsp-2026-04-16");
    let members = ["cllr-patel", "cllr-brennan", "cllr-lindqvist", "cllr-mensah", "cllr-fairweather"];

    // January: a short meeting, published, later confirmed and signed.
    d.schedule(SCRUTINY, m1, "2026-01-22", &agenda(&["Winter pressures on housing repairs"]))?;
    d.open(m1, "cllr-okoro", &members)?;
    d.take(m1, 1..=5)?;
    d.point(m1, 5, "Members heard that heating repairs had doubled since November.")?;
    d.decide(m1, 5, "That the update be noted.", Vote::None)?;
    let plan = d.action(
        m1,
        5,
        "the Director of Communities",
        "Bring a recovery plan for repairs to the March meeting.",
        "2026-03-05",
    )?;
    d.close_and_publish(m1, "19:35")?;

    // March: the full meeting.
    d.schedule(
        SCRUTINY,
        m2,
        "2026-03-05",
        &agenda(&[
            "Housing repairs recovery plan",
            "Review of community centres",
            "Grounds maintenance contract award",
        ]),
    )?;
    d.run(Command::AttachPaper {
        meeting: meeting_id(m2),
        paper: PaperAttached {
            reference: "A".into(),
            title: "Housing repairs recovery plan".into(),
            content_hash: *blake3::hash(b"Eastbrook housing repairs recovery plan, March 2026 (invented)").as_bytes(),
            size_bytes: 61,
            media_type: "application/pdf".into(),
            item: Some(5),
        },
    })?;
    d.run(Command::RecordApologies {
        meeting: meeting_id(m2),
        apologies: ApologiesRecorded {
            person: person_id("cllr-fairweather"),
            substitute: Some(person_id("cllr-quinn")),
        },
    })?;
    d.open(m2, "cllr-okoro", &members[..4])?;
    d.attend(m2, "cllr-quinn", AttendAs::Substitute { for_member: person_id("cllr-fairweather") }, false)?;
    d.attend(m2, "off-castellano", AttendAs::Officer { job_title: None }, false)?;
    d.attend(m2, "cllr-varga", AttendAs::Guest { description: "Cabinet Member for Housing".into() }, false)?;
    d.take(m2, 1..=4)?;
    d.run(Command::ConfirmMinutes { meeting: meeting_id(m1), by_meeting: meeting_id(m2), by_item: 4 })?;
    d.take(m2, 5..=5)?;
    d.run(Command::DeclareInterest {
        meeting: meeting_id(m2),
        declaration: InterestDeclared {
            person: person_id("cllr-brennan"),
            item: 5,
            kind: InterestKind::DisclosablePecuniary,
            nature: "Owns a rented flat managed by the council's repairs contractor".into(),
            withdrew: true,
            dispensation: None,
        },
    })?;
    d.run(Command::RecordPresenter {
        meeting: meeting_id(m2),
        presenter: PresenterRecorded {
            item: 5,
            person: person_id("off-castellano"),
            description: "Director of Communities".into(),
        },
    })?;
    d.point(m2, 5, "The plan would clear the backlog of damp and mould cases by July.")?;
    d.point(m2, 5, "Members asked how tenants would be kept informed of repair dates.")?;
    d.decide(m2, 5, "That the recovery plan be endorsed.", Vote::Counts { for_: 4, against: 1, abstain: 0 })?;
    d.action(m2, 5, "the Director of Communities", "Report progress on the plan to the June meeting.", "2026-06-18")?;
    d.run(Command::CloseAction(ActionClosed {
        action: plan,
        note: "The plan was presented at this meeting.".into(),
        meeting: Some(meeting_id(m2)),
    }))?;
    d.take(m2, 6..=6)?;
    let centres = d.point(m2, 6, "The review found two centres used for fewer than ten hours a week.")?;
    d.decide(
        m2,
        6,
        "That the review be referred to Cabinet with the Panel's comments.",
        Vote::Recorded {
            for_: ["cllr-okoro", "cllr-patel", "cllr-lindqvist"].map(person_id).to_vec(),
            against: ["cllr-mensah"].map(person_id).to_vec(),
            abstain: ["cllr-quinn"].map(person_id).to_vec(),
        },
    )?;
    d.action(m2, 6, "the Democratic Services Officer", "Send the Panel's comments to Cabinet.", "2026-03-20")?;
    d.take(m2, 7..=7)?;
    d.run(Command::ExcludePublic { meeting: meeting_id(m2), exclusion: PublicExcluded { item: 7, paragraph: 3 } })?;
    d.point(m2, 7, "The preferred bidder's price was 4% below the council's estimate.")?;
    d.decide(m2, 7, "That the contract be awarded to the preferred bidder.", Vote::None)?;
    d.run(Command::RecordExemptSummary {
        meeting: meeting_id(m2),
        summary: ExemptSummaryRecorded {
            item: 7,
            summary: "The Panel considered the award of the grounds maintenance contract.".into(),
        },
    })?;
    d.run(Command::CloseMeeting { meeting: meeting_id(m2), at: time("20:45") })?;
    d.run(Command::ReviseDraft {
        meeting: meeting_id(m2),
        revision: DraftRevised {
            change: Revision::ReplaceText {
                target: centres,
                text: "The review found two centres used for fewer than ten hours a week in 2025.".into(),
            },
            reason: "The year was omitted from the clerk's notes".into(),
        },
    })?;
    d.run(Command::PublishDraft { meeting: meeting_id(m2) })?;
    // The January minutes, confirmed at this meeting, are signed by the person who presided.
    d.sign(m1, "cllr-okoro")?;

    // April: the vice-chair presides, confirms and signs March's minutes,
    // and a correction to March's minutes is agreed.
    d.schedule(SCRUTINY, m3, "2026-04-16", &agenda(&["Youth services update"]))?;
    d.open(m3, "cllr-patel", &["cllr-okoro", "cllr-lindqvist", "cllr-mensah"])?;
    d.take(m3, 1..=4)?;
    d.confirm_and_sign(m2, m3, "cllr-patel")?;
    let exempt_point = d.last_in_stream(m2, "point.recorded", |_| true)?;
    d.run(Command::CorrectMinutes {
        meeting: meeting_id(m2),
        target: exempt_point,
        text: "The preferred bidder's price was 6% below the council's estimate.".into(),
        by_meeting: meeting_id(m3),
        by_item: 4,
        reason: "The figure was misreported in the minutes".into(),
    })?;
    d.take(m3, 5..=5)?;
    d.point(m3, 5, "Youth clubs reported a rise in attendance over the winter.")?;
    d.close_and_publish(m3, "19:50")
}

fn licensing(d: &Demo<'_>) -> Result<(), Error> {
    let (l1, l2, l3) = ("lrc-2026-02-10", "lrc-2026-03-24", "lrc-2026-05-12");
    let members = ["cllr-moreau", "cllr-singh", "cllr-doyle"];
    d.schedule(LICENSING, l1, "2026-02-10", &agenda(&["Premises licence review: The Old Mill, Quay Street"]))?;
    d.open(l1, "cllr-achebe", &members)?;
    d.attend(l1, "mr-hollins", AttendAs::Guest { description: "Applicant, local resident".into() }, false)?;
    d.take(l1, 1..=5)?;
    d.point(l1, 5, "Residents described noise from the terrace after 11 pm on weekends.")?;
    d.decide(
        l1,
        5,
        "That the licence be varied to close the terrace at 10.30 pm.",
        Vote::Counts { for_: 3, against: 1, abstain: 0 },
    )?;
    d.close_and_publish(l1, "20:10")?;
    // The applicant's attendance names a private individual: redacted.
    let hollins = d.last_in_stream(l1, "attendance.recorded", |bytes| bytes.windows(9).any(|w| w == b"Applicant"))?;
    d.run(Command::Redact { target: hollins, legal_basis: "UK GDPR Article 17 request from the data subject".into() })?;

    d.schedule(LICENSING, l2, "2026-03-24", &agenda(&["Taxi licensing policy consultation"]))?;
    d.open(l2, "cllr-achebe", &members)?;
    d.take(l2, 1..=4)?;
    d.confirm_and_sign(l1, l2, "cllr-achebe")?;
    d.take(l2, 5..=5)?;
    d.point(l2, 5, "The consultation drew 214 responses, most about wheelchair-accessible vehicles.")?;
    d.decide(
        l2,
        5,
        "That the revised policy be recommended to Council.",
        Vote::Counts { for_: 4, against: 0, abstain: 0 },
    )?;
    d.action(l2, 5, "the Licensing Manager", "Publish the consultation report.", "2026-04-30")?;
    d.close_and_publish(l2, "19:15")?;

    d.schedule(LICENSING, l3, "2026-05-12", &agenda(&["Street trading consents"]))?;
    d.run(Command::CancelMeeting { meeting: meeting_id(l3), reason: "No business to transact".into() }).map(drop)
}
