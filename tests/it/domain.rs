//! The rules of a meeting's life, through the recorder: each refusal names
//! its rule and leaves the log exactly as it was.
//!
//! An invented panel (the Riverside Communities Scrutiny Panel) is built up
//! in stages; each stage is built once into a template data directory and
//! copied for every test that starts from it, so a table of cases costs a
//! copy each rather than a whole meeting.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine;
use ed25519_dalek::SigningKey;
use minutebook::domain::*;
use minutebook::keyfile::KeyFile;
use minutebook_catalogue::*;
use minutebook_log::{Log, Seq};
use minutebook_projections::minutes::canonical_text;

use crate::support::{copy_dir, run_cli, snapshot, ORIGIN};

pub fn p(id: &str) -> PersonId {
    PersonId::new(id).unwrap()
}
pub fn m(id: &str) -> MeetingId {
    MeetingId::new(id).unwrap()
}
pub fn body_id() -> BodyId {
    BodyId::new("riverside-scrutiny").unwrap()
}
pub fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}
pub fn time(text: &str) -> TimeOfDay {
    TimeOfDay::parse(text).unwrap()
}

pub const M1: &str = "rcsp-2026-03-05";
pub const M2: &str = "rcsp-2026-04-16";
pub const M3: &str = "rcsp-2026-05-28";

/// The chair's and vice-chair's keys: fixed seeds, so tests can sign.
pub fn key_of(person: &str) -> KeyFile {
    let seed = *blake3::hash(person.as_bytes()).as_bytes();
    KeyFile { person: p(person), key: SigningKey::from_bytes(&seed) }
}

pub fn signature(key: &KeyFile, text: &str) -> SignatureBytes {
    let bytes = base64::engine::general_purpose::STANDARD.decode(key.sign_base64(text.as_bytes())).unwrap();
    SignatureBytes(bytes.try_into().unwrap())
}

/// A data directory with a recorder over it.
pub struct World {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub recorder: Recorder,
}

impl World {
    pub fn empty() -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        Log::init(&path, ORIGIN).unwrap();
        let recorder = Recorder::new(Log::open(&path).unwrap()).unwrap();
        World { _dir: dir, path, recorder }
    }

    /// A copy of a stage's template.
    pub fn at(stage: Stage) -> World {
        let template = template(stage);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data");
        copy_dir(template, &path);
        let recorder = Recorder::new(Log::open(&path).unwrap()).unwrap();
        World { _dir: dir, path, recorder }
    }

    pub fn run(&self, command: Command) -> Recorded {
        match self.recorder.execute(&Actor::new("off-rowe", "clerk"), &command) {
            Ok(recorded) => recorded,
            Err(error) => panic!("{command:?} failed: {error}"),
        }
    }

    /// Runs a command that must be refused, and checks that the log did
    /// not change at all.
    pub fn refuse(&self, command: Command) -> Refusal {
        let before = snapshot(self.recorder.log());
        let result = self.recorder.execute(&Actor::new("off-rowe", "clerk"), &command);
        let after = snapshot(self.recorder.log());
        assert_eq!(before, after, "a refused command changed the log");
        match result {
            Err(CommandError::Refused(refusal)) => refusal,
            Err(error) => panic!("{command:?}: failed instead of the rules refusing: {error}"),
            Ok(_) => panic!("{command:?} was accepted"),
        }
    }

    /// The position of the last event of a type in a meeting's stream.
    pub fn last_seq(&self, stream: &str, event_type: &str) -> Seq {
        let log = self.recorder.log();
        let events = log.read_stream(stream, minutebook_log::StreamVersion(1), 10_000).unwrap();
        events.iter().rev().find(|e| e.envelope.event_type() == event_type).unwrap().envelope.seq()
    }

    pub fn minutes(&self, meeting: &str) -> String {
        canonical_text(&self.recorder.record().unwrap(), &m(meeting)).unwrap()
    }

    /// Confirms, fetches the statement, and signs it with `signer`'s key.
    pub fn sign(&self, meeting: &str, signer: &str) -> Result<Recorded, CommandError> {
        let statement = self.recorder.statement(&m(meeting))?.to_text();
        let key = key_of(signer);
        let command = Command::SignMinutes {
            meeting: m(meeting),
            signer: p(signer),
            public_key: key.public_key(),
            signature: signature(&key, &statement),
            statement,
        };
        self.recorder.execute(&Actor::new(signer, "chair"), &command)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The body, its people, members and the chairs' keys.
    Registered,
    /// Meeting 1 in session: attendance taken, items 1 to 5 taken.
    InSession,
    /// Meeting 1 closed and its draft published; meeting 2 in session with
    /// its confirmation item taken, presided by the vice-chair.
    Published,
    /// Meeting 1's minutes confirmed at meeting 2 and signed.
    Signed,
}

fn template(stage: Stage) -> &'static Path {
    static TEMPLATES: [OnceLock<(tempfile::TempDir, PathBuf)>; 4] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new(), OnceLock::new()];
    let (index, previous) = match stage {
        Stage::Registered => (0, None),
        Stage::InSession => (1, Some(Stage::Registered)),
        Stage::Published => (2, Some(Stage::InSession)),
        Stage::Signed => (3, Some(Stage::Published)),
    };
    let (_, path) = TEMPLATES[index].get_or_init(|| {
        let world = match previous {
            None => World::empty(),
            Some(previous) => World::at(previous),
        };
        match stage {
            Stage::Registered => register(&world),
            Stage::InSession => hold_meeting_one(&world),
            Stage::Published => {
                publish_meeting_one(&world);
                open_meeting_two(&world);
            }
            Stage::Signed => sign_meeting_one(&world),
        }
        let World { _dir, path, recorder } = world;
        drop(recorder);
        (_dir, path)
    });
    path
}

// ---- the stages ----

/// Members on 2026-03-05, with their roles.
pub const MEMBERS: [(&str, &str, MemberRole); 9] = [
    ("cllr-okoro", "Ada Okoro", MemberRole::Chair),
    ("cllr-patel", "Ravi Patel", MemberRole::ViceChair),
    ("cllr-brennan", "Siobhan Brennan", MemberRole::Member),
    ("cllr-lindqvist", "Erik Lindqvist", MemberRole::Member),
    ("cllr-mensah", "Kofi Mensah", MemberRole::Member),
    ("cllr-harcourt", "Jane Harcourt", MemberRole::Member),
    ("cllr-yusuf", "Amina Yusuf", MemberRole::Member),
    ("cllr-fairweather", "Tom Fairweather", MemberRole::Member),
    ("mrs-ashby", "Helen Ashby", MemberRole::CoOpted { voting: false }),
];

fn person(id: &str, name: &str, title: Option<&str>) -> Command {
    Command::RegisterPerson(PersonRegistered {
        person: p(id),
        name: name.into(),
        title: title.map(Into::into),
        organisation: None,
    })
}

pub fn register_key(world: &World, person: &str) {
    let key = key_of(person);
    let statement = key_registration_statement(ORIGIN, &p(person), &key.public_key());
    world.run(Command::RegisterSigningKey(SigningKeyRegistered {
        person: p(person),
        public_key: key.public_key(),
        proof: signature(&key, &statement),
    }));
}

fn register(world: &World) {
    world.run(Command::RegisterBody(BodyRegistered {
        body: body_id(),
        name: "Riverside Communities Scrutiny Panel".into(),
        kind: BodyKind::Panel,
        timezone: "Europe/London".into(),
        quorum: 3,
        minute_number_start: 389,
    }));
    for (id, name, role) in MEMBERS {
        let title = if id.starts_with("cllr-") { Some("Councillor") } else { Some("Mrs") };
        world.run(person(id, name, title));
        world.run(Command::AppointMember {
            body: body_id(),
            appointment: MemberAppointed { person: p(id), role, from: date("2025-05-20") },
        });
    }
    // A voting co-optee appointed after the first meeting.
    world.run(person("mr-dunmore", "Colin Dunmore", Some("Mr")));
    world.run(Command::AppointMember {
        body: body_id(),
        appointment: MemberAppointed {
            person: p("mr-dunmore"),
            role: MemberRole::CoOpted { voting: true },
            from: date("2026-04-01"),
        },
    });
    for (id, name, title) in [
        ("cllr-quinn", "Fergus Quinn", "Councillor"),
        ("cllr-varga", "Lena Varga", "Councillor"),
        ("cllr-outsider", "Pat Outsider", "Councillor"),
    ] {
        world.run(person(id, name, Some(title)));
    }
    for (id, name, job) in [
        ("off-rowe", "Maya Rowe", "Democratic Services Officer"),
        ("off-castellano", "Luis Castellano", "Director of Communities"),
    ] {
        world.run(person(id, name, None));
        world.run(Command::RegisterOfficer(OfficerRegistered { person: p(id), job_title: job.into() }));
    }
    register_key(world, "cllr-okoro");
    register_key(world, "cllr-patel");
}

pub fn agenda() -> Vec<AgendaItem> {
    let items = [
        ("Apologies and welcome", ItemKind::Apologies),
        ("Declarations of interest and party whip", ItemKind::Declarations),
        ("Public participation", ItemKind::PublicParticipation),
        ("Minutes of the previous meeting", ItemKind::ConfirmationOfMinutes),
        ("Housing repairs backlog", ItemKind::Substantive),
        ("Review of community centres", ItemKind::Substantive),
        ("Youth services update", ItemKind::Substantive),
        ("Grounds maintenance contract award", ItemKind::Substantive),
        ("Work programme", ItemKind::Substantive),
    ];
    items
        .iter()
        .enumerate()
        .map(|(idx, (title, kind))| AgendaItem { number: idx as u32 + 1, title: (*title).into(), kind: *kind })
        .collect()
}

pub fn schedule(world: &World, meeting: &str, on: &str) {
    world.run(Command::ScheduleMeeting(MeetingScheduled {
        meeting: m(meeting),
        body: body_id(),
        date: date(on),
        start: time("18:30"),
        venue: "Committee Room 2, Riverside House".into(),
    }));
    world.run(Command::PublishAgenda { meeting: m(meeting), items: agenda() });
}

pub fn attend(world: &World, meeting: &str, person: &str, attend_as: AttendAs, presiding: bool) {
    world.run(Command::RecordAttendance {
        meeting: m(meeting),
        person: p(person),
        attend_as,
        presiding,
        arrived_at: None,
    });
}

pub fn take(world: &World, meeting: &str, item: u32) {
    world.run(Command::TakeItem { meeting: m(meeting), item, title: None, kind: None });
}

fn hold_meeting_one(world: &World) {
    schedule(world, M1, "2026-03-05");
    world.run(Command::AttachPaper {
        meeting: m(M1),
        paper: PaperAttached {
            reference: "A".into(),
            title: "Agenda pack".into(),
            content_hash: *blake3::hash(b"invented agenda pack").as_bytes(),
            size_bytes: 20,
            media_type: "application/pdf".into(),
            item: None,
        },
    });
    world.run(Command::RecordApologies {
        meeting: m(M1),
        apologies: ApologiesRecorded { person: p("cllr-fairweather"), substitute: Some(p("cllr-quinn")) },
    });
    world.run(Command::OpenMeeting { meeting: m(M1), at: time("18:30") });
    for (id, _, _) in MEMBERS.iter().filter(|(id, _, _)| *id != "cllr-fairweather") {
        attend(world, M1, id, AttendAs::Member, *id == "cllr-okoro");
    }
    attend(world, M1, "cllr-quinn", AttendAs::Substitute { for_member: p("cllr-fairweather") }, false);
    attend(world, M1, "off-rowe", AttendAs::Officer { job_title: None }, false);
    attend(world, M1, "off-castellano", AttendAs::Officer { job_title: None }, false);
    attend(world, M1, "cllr-varga", AttendAs::Guest { description: "Cabinet Member for Housing".into() }, false);
    for item in 1..=5 {
        take(world, M1, item);
    }
    world.run(Command::DeclareInterest {
        meeting: m(M1),
        declaration: InterestDeclared {
            person: p("cllr-brennan"),
            item: 5,
            kind: InterestKind::DisclosablePecuniary,
            nature: "Owns a rented flat managed by the council's repairs contractor".into(),
            withdrew: false,
            dispensation: None,
        },
    });
    world.run(Command::DeclareInterest {
        meeting: m(M1),
        declaration: InterestDeclared {
            person: p("cllr-mensah"),
            item: 6,
            kind: InterestKind::OtherRegistrable,
            nature: "Trustee of the Eastbank Community Centre".into(),
            withdrew: true,
            dispensation: None,
        },
    });
}

pub fn point(world: &World, meeting: &str, item: u32, text: &str) -> Recorded {
    world.run(Command::RecordPoint { meeting: m(meeting), point: PointRecorded { item, text: text.into() } })
}

pub fn decision(item: u32, text: &str, vote: Vote) -> DecisionInput {
    DecisionInput {
        item,
        text: text.into(),
        kind: DecisionKind::Agreed,
        vote,
        casting_vote: None,
        mover: None,
        seconder: None,
    }
}

pub fn action(world: &World, meeting: &str, item: u32, owner: &str, text: &str, due: &str) -> Recorded {
    world.run(Command::AgreeAction {
        meeting: m(meeting),
        action: ActionAgreed { item, owner: owner.into(), owner_person: None, text: text.into(), due: Some(date(due)) },
    })
}

fn publish_meeting_one(world: &World) {
    point(world, M1, 5, "Members asked why damp and mould cases took longer than other repairs.");
    world.run(Command::RecordPresenter {
        meeting: m(M1),
        presenter: PresenterRecorded {
            item: 5,
            person: p("off-castellano"),
            description: "Director of Communities".into(),
        },
    });
    world.run(Command::RecordDecision {
        meeting: m(M1),
        decision: DecisionInput {
            mover: Some(p("cllr-patel")),
            seconder: Some(p("cllr-lindqvist")),
            ..decision(
                5,
                "That the backlog report be noted and a recovery plan be brought to the next meeting.",
                Vote::Counts { for_: 6, against: 1, abstain: 1 },
            )
        },
    });
    action(
        world,
        M1,
        5,
        "the Director of Communities",
        "Circulate the repairs recovery plan to Members.",
        "2026-04-10",
    );
    for item in 6..=9 {
        take(world, M1, item);
    }
    point(world, M1, 6, "The review found that two centres were used for fewer than ten hours a week.");
    world.run(Command::RecordDecision {
        meeting: m(M1),
        decision: decision(
            6,
            "That the review be referred to Cabinet with the Panel's comments.",
            Vote::Recorded {
                for_: vec![p("cllr-okoro"), p("cllr-patel"), p("cllr-lindqvist"), p("cllr-harcourt")],
                against: vec![p("cllr-yusuf"), p("cllr-brennan")],
                abstain: vec![p("cllr-quinn")],
            },
        ),
    });
    action(world, M1, 6, "the Democratic Services Officer", "Send the Panel's comments to Cabinet.", "2026-03-20");
    point(world, M1, 7, "Youth clubs reported a rise in attendance over the winter.");
    world.run(Command::ExcludePublic { meeting: m(M1), exclusion: PublicExcluded { item: 8, paragraph: 3 } });
    point(world, M1, 8, "The preferred bidder's price was 4% below the estimate.");
    world.run(Command::RecordDecision {
        meeting: m(M1),
        decision: decision(8, "That the contract be awarded to the preferred bidder.", Vote::None),
    });
    world.run(Command::RecordExemptSummary {
        meeting: m(M1),
        summary: ExemptSummaryRecorded {
            item: 8,
            summary: "The Panel considered the award of the grounds maintenance contract.".into(),
        },
    });
    action(
        world,
        M1,
        9,
        "the Democratic Services Officer",
        "Add a damp and mould item to the work programme.",
        "2026-04-16",
    );
    world.run(Command::CloseMeeting { meeting: m(M1), at: time("20:45") });
    world.run(Command::PublishDraft { meeting: m(M1) });
}

fn open_meeting_two(world: &World) {
    schedule(world, M2, "2026-04-16");
    world.run(Command::OpenMeeting { meeting: m(M2), at: time("18:30") });
    attend(world, M2, "cllr-patel", AttendAs::Member, true);
    for id in ["cllr-okoro", "cllr-brennan", "cllr-lindqvist", "mr-dunmore"] {
        attend(world, M2, id, AttendAs::Member, false);
    }
    for item in 1..=4 {
        take(world, M2, item);
    }
}

fn sign_meeting_one(world: &World) {
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    world.sign(M1, "cllr-patel").unwrap();
}

// ---- the whole life of a meeting ----

use minutebook_projections::minutes::{events_digest, minutes_digest};
use minutebook_projections::record::{catch_up_to, EntryKind, Record};

#[test]
fn a_whole_meeting_is_recorded_confirmed_signed_corrected_and_redacted() {
    let world = World::at(Stage::InSession);
    publish_meeting_one(&world);
    {
        let record = world.recorder.record().unwrap();
        let meeting = &record.meetings[&m(M1)];
        let members_present =
            meeting.attendance.iter().filter(|a| matches!(a.capacity, Capacity::Member { .. })).count();
        assert_eq!(members_present, 8);
        assert_eq!(meeting.presiding().unwrap().person, p("cllr-okoro"));
        assert_eq!(meeting.apologies[0].substitute, Some(p("cllr-quinn")));
        let minutes: Vec<u32> = meeting.items.iter().map(|item| item.minute.unwrap()).collect();
        assert_eq!(minutes, (389..=397).collect::<Vec<_>>(), "nine minutes numbered from the body's start");
        let actions = meeting
            .items
            .iter()
            .flat_map(|item| item.entries.values())
            .filter(|entry| matches!(entry.kind, EntryKind::Action { .. }))
            .count();
        assert_eq!(actions, 3);
        let closed = meeting.closed.as_ref().unwrap();
        assert_eq!((closed.voting_members_present, closed.quorum, closed.quorate), (8, 3, true));
        assert_eq!(meeting.item(8).unwrap().exempt_paragraph, Some(3));
    }

    // Confirmed at the next meeting, where the vice-chair presides, who signs.
    schedule(&world, M2, "2026-04-16");
    world.run(Command::OpenMeeting { meeting: m(M2), at: time("18:30") });
    attend(&world, M2, "cllr-patel", AttendAs::Member, true);
    for id in ["cllr-okoro", "cllr-brennan", "cllr-lindqvist", "mr-dunmore"] {
        attend(&world, M2, id, AttendAs::Member, false);
    }
    for item in 1..=4 {
        take(&world, M2, item);
    }
    let confirmed = world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    let statement = world.recorder.statement(&m(M1)).unwrap();
    assert!(statement.tree_size > confirmed.outcome.events[0].seq.0);
    world.sign(M1, "cllr-patel").unwrap();

    // What an auditor checks: the signature over the statement with the
    // registered key, the events digest over the stored hashes, and the
    // minutes digest over the canonical text as it stood at confirmation.
    let signed = world.recorder.record().unwrap().meetings[&m(M1)].signatures[0].signed.clone();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&signed.public_key).unwrap();
    key.verify_strict(signed.statement.as_bytes(), &ed25519_dalek::Signature::from_bytes(&signed.signature.0)).unwrap();
    let parsed = SigningStatement::parse(&signed.statement).unwrap();
    let log = world.recorder.log();
    let hashes: Vec<u8> = log
        .read_stream(&m(M1).stream(), minutebook_log::StreamVersion(1), parsed.events as usize)
        .unwrap()
        .iter()
        .flat_map(|event| event.hash.0)
        .collect();
    assert_eq!(*blake3::hash(&hashes).as_bytes(), parsed.events_digest);
    let mut as_confirmed = Record::new();
    catch_up_to(&log.reader(), &mut as_confirmed, confirmed.outcome.events[0].seq.0).unwrap();
    assert_eq!(minutes_digest(&canonical_text(&as_confirmed, &m(M1)).unwrap()), parsed.minutes_digest);
    assert_eq!(events_digest(&as_confirmed.meetings[&m(M1)], parsed.events), Some(parsed.events_digest));
    assert_eq!(log.root(parsed.tree_size).unwrap(), parsed.tree_root);

    // The next meeting's minutes run on from 398.
    world.run(Command::CloseMeeting { meeting: m(M2), at: time("19:40") });
    world.run(Command::PublishDraft { meeting: m(M2) });
    let numbers: Vec<u32> =
        world.recorder.record().unwrap().meetings[&m(M2)].items.iter().map(|i| i.minute.unwrap()).collect();
    assert_eq!(numbers, [398, 399, 400, 401]);

    // A correction agreed at a third meeting.
    schedule(&world, M3, "2026-05-28");
    world.run(Command::OpenMeeting { meeting: m(M3), at: time("18:30") });
    attend(&world, M3, "cllr-okoro", AttendAs::Member, true);
    take(&world, M3, 4);
    let wrong = world.last_seq(&m(M1).stream(), "point.recorded");
    world.run(Command::CorrectMinutes {
        meeting: m(M1),
        target: wrong,
        text: "The preferred bidder's price was 6% below the estimate.".into(),
        by_meeting: m(M3),
        by_item: 4,
        reason: "The figure was misreported in the minutes".into(),
    });
    let text = world.minutes(M1);
    assert!(text.contains("6% below the estimate"), "{text}");
    assert!(!text.contains("4% below"), "{text}");
    let record = world.recorder.record().unwrap();
    let correction = &record.meetings[&m(M1)].corrections[0].corrected;
    assert_eq!(correction.superseded, "The preferred bidder's price was 4% below the estimate.");
    drop(record);

    // A guest's description is personal detail: redact it.
    let guest = world
        .recorder
        .log()
        .read_stream(&m(M1).stream(), minutebook_log::StreamVersion(1), 1_000)
        .unwrap()
        .into_iter()
        .find(|e| e.envelope.event_type() == "attendance.recorded" && payload_mentions(e, "Cabinet Member"))
        .unwrap();
    world.run(Command::Redact { target: guest.envelope.seq(), legal_basis: "UK GDPR Article 17 request".into() });
    let live = world.minutes(M1);
    assert!(live.contains("as guest \"[redacted: UK GDPR Article 17 request]\""), "{live}");
    assert!(!live.contains("Cabinet Member for Housing"));
    // A record rebuilt from the log shows the same.
    let mut rebuilt = Record::new();
    minutebook_projections::record::catch_up(&world.recorder.log().reader(), &mut rebuilt).unwrap();
    assert_eq!(canonical_text(&rebuilt, &m(M1)).unwrap(), live);
    crate::support::assert_verifies(world.recorder.log());

    expect_test::expect_file!["minutes-rcsp-2026-03-05.txt"].assert_eq(&live);
}

fn payload_mentions(event: &minutebook_log::Event, text: &str) -> bool {
    match &event.payload {
        minutebook_log::Payload::Present { bytes, .. } => bytes.windows(text.len()).any(|w| w == text.as_bytes()),
        minutebook_log::Payload::Redacted { .. } => false,
    }
}

#[test]
fn a_member_who_declared_a_pecuniary_interest_and_votes_is_flagged_not_refused() {
    let world = World::at(Stage::InSession);
    let vote = Vote::Recorded {
        for_: vec![p("cllr-brennan"), p("cllr-okoro")],
        against: vec![p("cllr-yusuf")],
        abstain: vec![],
    };
    let recorded = world.run(Command::RecordDecision {
        meeting: m(M1),
        decision: decision(5, "That the report be noted.", vote.clone()),
    });
    let DomainEvent::DecisionRecorded(event) = &recorded.decision.events[0].1 else { panic!("a decision") };
    assert_eq!(event.conflicts, [p("cllr-brennan")]);
    assert!(world.minutes(M1).contains("flagged: cllr-brennan voted after declaring a disclosable pecuniary interest"));

    // With a dispensation, the same vote is not flagged.
    take(&world, M1, 6);
    world.run(Command::DeclareInterest {
        meeting: m(M1),
        declaration: InterestDeclared {
            person: p("cllr-yusuf"),
            item: 6,
            kind: InterestKind::DisclosablePecuniary,
            nature: "Employed by a bidder".into(),
            withdrew: false,
            dispensation: Some("Granted by the Standards Committee on 2026-02-01".into()),
        },
    });
    let recorded = world.run(Command::RecordDecision {
        meeting: m(M1),
        decision: decision(
            6,
            "That it be noted.",
            Vote::Recorded { for_: vec![p("cllr-yusuf")], against: vec![], abstain: vec![] },
        ),
    });
    let DomainEvent::DecisionRecorded(event) = &recorded.decision.events[0].1 else { panic!("a decision") };
    assert!(event.conflicts.is_empty());
}

#[test]
fn a_withdrawn_item_leaves_no_gap_in_the_minute_numbers() {
    let world = World::at(Stage::InSession);
    world.run(Command::WithdrawItem {
        meeting: m(M1),
        withdrawal: ItemWithdrawn { item: 3, reason: "No members of the public registered to speak".into() },
    });
    world.run(Command::CloseMeeting { meeting: m(M1), at: time("19:00") });
    world.run(Command::PublishDraft { meeting: m(M1) });
    let record = world.recorder.record().unwrap();
    let numbers: Vec<(u32, Option<u32>)> =
        record.meetings[&m(M1)].items.iter().map(|item| (item.number, item.minute)).collect();
    assert_eq!(numbers, [(1, Some(389)), (2, Some(390)), (3, None), (4, Some(391)), (5, Some(392))]);
    assert_eq!(record.bodies[&body_id()].next_minute, 393);
}

#[test]
fn a_meeting_without_its_quorum_is_flagged_on_its_record() {
    let world = World::at(Stage::Registered);
    schedule(&world, M1, "2026-03-05");
    world.run(Command::OpenMeeting { meeting: m(M1), at: time("18:30") });
    attend(&world, M1, "cllr-okoro", AttendAs::Member, true);
    attend(&world, M1, "mrs-ashby", AttendAs::Member, false);
    world.run(Command::CloseMeeting { meeting: m(M1), at: time("18:35") });
    assert!(world.minutes(M1).contains("quorum: 1 voting members present, quorum 3, inquorate"));
}

#[test]
fn a_stored_version_1_event_is_upcast_when_read() {
    let world = World::empty();
    let old = PersonRegisteredV1 { person: p("mr-elder"), name: "Arthur Elder".into(), title: Some("Mr".into()) };
    let bytes = postcard::to_stdvec(&old).unwrap();
    let decoded = DomainEvent::decode("person.registered", 1, &bytes).unwrap();
    assert_eq!(
        decoded,
        DomainEvent::PersonRegistered(PersonRegistered {
            person: p("mr-elder"),
            name: "Arthur Elder".into(),
            title: Some("Mr".into()),
            organisation: None,
        })
    );
    // Stored as version 1, the record reads it as the current shape.
    let mut event = crate::support::event(&p("mr-elder").stream(), &bytes);
    event.event_type = "person.registered".into();
    event.schema_version = 1;
    world.recorder.log().append(crate::support::one(event)).unwrap();
    let record = world.recorder.record().unwrap();
    assert_eq!(record.people[&p("mr-elder")].display_name(), "Mr Arthur Elder");
    assert!(record.undecodable.is_empty());
    let error = DomainEvent::decode("person.registered", 3, &bytes).unwrap_err();
    assert_eq!(error.0, "event type person.registered has no schema version 3 (this build knows up to 2)");
    let error = DomainEvent::decode("person.renamed", 1, &bytes).unwrap_err();
    assert_eq!(error.0, "\"person.renamed\" is not an event type of the catalogue");
}

#[test]
fn every_event_type_round_trips_and_rejects_trailing_bytes() {
    let event = DomainEvent::PointRecorded(PointRecorded { item: 5, text: "A point.".into() });
    let mut bytes = event.encode();
    assert_eq!(DomainEvent::decode(event.event_type(), event.schema_version(), &bytes).unwrap(), event);
    bytes.push(0);
    let error = DomainEvent::decode(event.event_type(), event.schema_version(), &bytes).unwrap_err();
    assert_eq!(error.0, "payload has 1 trailing bytes");
    // An invalid date inside a payload does not decode.
    let bad = postcard::to_stdvec(&(p("x"), MemberRole::Member, (2026u16, 2u8, 30u8))).unwrap();
    let error = DomainEvent::decode("member.appointed", 1, &bad).unwrap_err();
    assert!(error.0.starts_with("payload does not decode"), "{}", error.0);
    assert!(Date::new(2026, 2, 30).unwrap_err().contains("2026-02-30 is not a calendar date"));
}

#[test]
fn the_event_catalogue_in_docs_names_every_type_and_version() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EVENTS.md")).unwrap();
    for (name, version) in CATALOGUE {
        let heading = format!("### `{name}` (schema version {version})");
        assert!(docs.contains(&heading), "docs/EVENTS.md lacks the heading {heading}");
    }
    let headings = docs.lines().filter(|line| line.starts_with("### `")).count();
    assert_eq!(headings, CATALOGUE.len(), "docs/EVENTS.md documents an event the catalogue does not have");
}

#[test]
fn statements_round_trip_and_refuse_any_other_form() {
    let world = World::at(Stage::Published);
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    let statement = world.recorder.statement(&m(M1)).unwrap();
    let text = statement.to_text();
    assert_eq!(SigningStatement::parse(&text).unwrap(), statement);
    let body_line = "body name: \"Riverside Communities Scrutiny Panel\"\n";
    assert!(text.contains(body_line), "{text}");
    for (bad, says) in [
        (text.replace('\n', "\r\n"), "line 1 is"),
        (text.trim_end().to_owned(), "must end with a line feed"),
        (format!("{text}extra: 1\n"), "line 13 (\"extra: 1\") follows the last field"),
        (text.replace("minutebook signing statement v1", "minutebook signing statement v2"), "line 1 is"),
        (
            text.replace(
                &minutebook_log::hex(&statement.events_digest),
                &minutebook_log::hex(&statement.events_digest).to_uppercase(),
            ),
            "not in its canonical form",
        ),
    ] {
        let error = SigningStatement::parse(&bad).unwrap_err().to_string();
        assert!(error.contains(says), "{error} does not say {says}");
    }
    let odd = SigningStatement { body_name: "Quote \" and \\ and\nnewline".into(), ..statement };
    assert_eq!(SigningStatement::parse(&odd.to_text()).unwrap(), odd);
}

impl World {
    /// Closes the log, so that a child process can open the directory.
    pub fn close(self) -> (tempfile::TempDir, PathBuf) {
        let World { _dir, path, recorder } = self;
        drop(recorder);
        (_dir, path)
    }
}

#[test]
fn keys_are_generated_owner_only_and_statements_signed_offline() {
    let scratch = tempfile::tempdir().unwrap();
    let key_path = scratch.path().join("patel.jwk");
    let key_arg = key_path.to_str().unwrap();
    let (code, stdout, stderr) = run_cli(&["keys", "generate", "--person", "cllr-patel", "--out", key_arg]);
    assert_eq!(code, 0, "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let generated = KeyFile::read(&key_path).unwrap();
    assert!(stdout.contains(&format!("public key: {}", generated.public_key_base64())), "{stdout}");
    let (code, _, stderr) = run_cli(&["keys", "generate", "--person", "cllr-patel", "--out", key_arg]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot create"), "{stderr}");

    // The chair's statement from the data directory, signed offline with
    // the chair's key file, is accepted by the record.
    let world = World::at(Stage::Published);
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    let expected = world.recorder.statement(&m(M1)).unwrap().to_text();
    let (_dir, data) = world.close();
    let data_arg = data.to_str().unwrap();
    let (code, statement, stderr) = run_cli(&["statement", "meeting", "--data", data_arg, "--meeting", M1]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(statement, expected);
    let statement_path = scratch.path().join("statement.txt");
    std::fs::write(&statement_path, &statement).unwrap();
    let chair_key = scratch.path().join("chair.jwk");
    key_of("cllr-patel").write_new(&chair_key).unwrap();
    let (code, signature_b64, stderr) =
        run_cli(&["sign", "--key", chair_key.to_str().unwrap(), statement_path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let signature: [u8; 64] =
        base64::engine::general_purpose::STANDARD.decode(signature_b64.trim()).unwrap().try_into().unwrap();
    let recorder = Recorder::new(Log::open(&data).unwrap()).unwrap();
    recorder
        .execute(
            &Actor::new("cllr-patel", "chair"),
            &Command::SignMinutes {
                meeting: m(M1),
                signer: p("cllr-patel"),
                public_key: key_of("cllr-patel").public_key(),
                statement,
                signature: SignatureBytes(signature),
            },
        )
        .unwrap();
    drop(recorder);

    // The key registration statement comes from the data directory too.
    let public = generated.public_key_base64();
    let (code, registration, stderr) =
        run_cli(&["statement", "key", "--data", data_arg, "--person", "cllr-patel", "--public-key", &public]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(registration, key_registration_statement(ORIGIN, &p("cllr-patel"), &generated.public_key()));

    // Before confirmation there is no statement to sign, and the CLI says why.
    let world = World::at(Stage::Published);
    let (_dir, data) = world.close();
    let (code, _, stderr) = run_cli(&["statement", "meeting", "--data", data.to_str().unwrap(), "--meeting", M1]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("minutes of meeting rcsp-2026-03-05 cannot be signed: they have not been confirmed"),
        "{stderr}"
    );
}

#[test]
fn docs_give_the_signing_statement_line_by_line() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/SIGNING.md")).unwrap();
    let template = docs.split("```\n").nth(1).expect("the statement's template is the first code block");
    let world = World::at(Stage::Published);
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    let statement = world.recorder.statement(&m(M1)).unwrap().to_text();
    let names = |text: &str| -> Vec<String> {
        text.lines().map(|line| line.split_once(": ").map_or(line, |(name, _)| name).to_owned()).collect()
    };
    assert_eq!(names(template), names(&statement));
    let key = key_registration_statement(ORIGIN, &p("cllr-okoro"), &[0; 32]);
    let key_template = docs.split("```\n").nth(3).expect("the key statement's template is the second code block");
    assert_eq!(names(key_template), names(&key));
}

#[test]
fn a_redacted_name_reads_the_same_live_and_rebuilt() {
    let world = World::at(Stage::InSession);
    let registered = world.last_seq(&p("cllr-varga").stream(), "person.registered");
    world.run(Command::Redact { target: registered, legal_basis: "UK GDPR Article 17 request".into() });
    let live = world.minutes(M1);
    assert!(live.contains("cllr-varga \"[redacted: UK GDPR Article 17 request]\" as guest"), "{live}");
    assert!(!live.contains("Lena Varga"));
    let mut rebuilt = Record::new();
    minutebook_projections::record::catch_up(&world.recorder.log().reader(), &mut rebuilt).unwrap();
    assert_eq!(canonical_text(&rebuilt, &m(M1)).unwrap(), live);
    assert!(rebuilt.people[&p("cllr-varga")].redacted.is_some());
    crate::support::assert_verifies(world.recorder.log());
}

#[test]
fn meetings_are_rescheduled_cancelled_and_their_actions_followed_to_closure() {
    let world = World::at(Stage::Published);
    // Rescheduled, then cancelled: nothing can be recorded at it.
    schedule(&world, M3, "2026-05-28");
    world.run(Command::RescheduleMeeting {
        meeting: m(M3),
        change: MeetingRescheduled {
            date: date("2026-06-04"),
            start: time("14:00"),
            venue: "Council Chamber".into(),
            reason: "Clash with the elections count".into(),
        },
    });
    world.run(Command::CancelMeeting { meeting: m(M3), reason: "No business".into() });
    let refusal = world.refuse(Command::OpenMeeting { meeting: m(M3), at: time("14:00") });
    assert_eq!(refusal.message, "meeting rcsp-2026-05-28 cannot be opened: it is cancelled");
    let record = world.recorder.record().unwrap();
    assert_eq!(record.meetings[&m(M3)].date, date("2026-06-04"));
    drop(record);

    // An action agreed at the first meeting is progressed at the second and closed.
    let action = world.last_seq(&m(M1).stream(), "action.agreed");
    world.run(Command::ProgressAction(ActionProgressed {
        action,
        note: "Item added for June.".into(),
        meeting: Some(m(M2)),
    }));
    world.run(Command::CloseAction(ActionClosed { action, note: "Done.".into(), meeting: Some(m(M2)) }));
    let refusal = world.refuse(Command::CloseAction(ActionClosed { action, note: "Again.".into(), meeting: None }));
    assert_eq!(refusal.rule, Rule::AlreadyExists);
    let point = world.last_seq(&m(M1).stream(), "point.recorded");
    let refusal =
        world.refuse(Command::ProgressAction(ActionProgressed { action: point, note: "x".into(), meeting: None }));
    assert_eq!(refusal.message, format!("event {} did not agree an action", point.0));

    // Late arrival and early departure at the second meeting.
    world.run(Command::RecordAttendance {
        meeting: m(M2),
        person: p("cllr-yusuf"),
        attend_as: AttendAs::Member,
        presiding: false,
        arrived_at: Some(time("18:50")),
    });
    world.run(Command::RecordDeparture {
        meeting: m(M2),
        departure: DepartureRecorded { person: p("cllr-yusuf"), at: time("19:20") },
    });
    assert!(world
        .minutes(M2)
        .contains("present: cllr-yusuf \"Councillor Amina Yusuf\" as \"Member\", arrived 18:50, left 19:20"));

    // The exempt item is released once no longer exempt, even after signing.
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    world.sign(M1, "cllr-patel").unwrap();
    world.run(Command::ReleaseExempt {
        meeting: m(M1),
        release: ExemptReleased { item: 8, reason: "The contract was signed and published".into() },
    });
    assert!(world.minutes(M1).contains("released from exemption: \"The contract was signed and published\""));
}

#[test]
fn minutes_may_be_confirmed_by_the_same_meeting_at_its_end() {
    let world = World::at(Stage::Registered);
    schedule(&world, M1, "2026-03-05");
    world.run(Command::OpenMeeting { meeting: m(M1), at: time("10:00") });
    attend(&world, M1, "cllr-okoro", AttendAs::Member, true);
    for id in ["cllr-patel", "cllr-brennan"] {
        attend(&world, M1, id, AttendAs::Member, false);
    }
    take(&world, M1, 5);
    world.run(Command::TakeItem {
        meeting: m(M1),
        item: 10,
        title: Some("Confirmation of these minutes".into()),
        kind: Some(ItemKind::ConfirmationOfMinutes),
    });
    world.run(Command::CloseMeeting { meeting: m(M1), at: time("10:40") });
    world.run(Command::PublishDraft { meeting: m(M1) });
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M1), by_item: 10 });
    world.sign(M1, "cllr-okoro").unwrap();
    assert!(world.recorder.record().unwrap().meetings[&m(M1)].is_signed());
}

#[test]
fn the_payload_bytes_in_docs_are_what_the_code_writes() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EVENTS.md")).unwrap();
    let appointed = DomainEvent::MemberAppointed(MemberAppointed {
        person: p("cllr-okoro"),
        role: MemberRole::Chair,
        from: date("2026-03-05"),
    });
    let point = DomainEvent::PointRecorded(PointRecorded { item: 5, text: "A point.".into() });
    for (event, first_line) in [(appointed, "member.appointed  {"), (point, "point.recorded    {")] {
        let block = docs.split(first_line).nth(1).expect("the example is in docs/EVENTS.md");
        let documented: String = block
            .lines()
            .skip(1)
            .take_while(|line| !line.trim().is_empty() && !line.starts_with("```"))
            .flat_map(|line| line.split("  ").next().unwrap().split_whitespace())
            .collect();
        assert_eq!(documented, minutebook_log::hex(&event.encode()), "{first_line}");
    }
}

#[test]
fn concurrent_clerks_on_one_meeting_each_get_their_command_recorded_once() {
    let world = World::at(Stage::InSession);
    let recorder = std::sync::Arc::new(world.recorder);
    let before = recorder.record().unwrap().meetings[&m(M1)].item(5).unwrap().entries.len();
    let threads: Vec<_> = (0..8)
        .map(|clerk| {
            let recorder = recorder.clone();
            std::thread::spawn(move || {
                for n in 0..20 {
                    let point = PointRecorded { item: 5, text: format!("Point {n} from clerk {clerk}.") };
                    recorder
                        .execute(&Actor::new("off-rowe", "clerk"), &Command::RecordPoint { meeting: m(M1), point })
                        .unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let record = recorder.record().unwrap();
    assert_eq!(record.meetings[&m(M1)].item(5).unwrap().entries.len(), before + 160);
    let mut rebuilt = Record::new();
    minutebook_projections::record::catch_up(&recorder.log().reader(), &mut rebuilt).unwrap();
    assert_eq!(&rebuilt, &*record);
}

/// Appends a `minutes.signed` event straight to the log, past the rules,
/// as a forger with write access to the disk format might.
fn forge_signature(world: &World, signer: &str, key: &str, tamper: impl Fn(&mut String)) {
    let mut statement = world.recorder.statement(&m(M1)).unwrap().to_text();
    let key = key_of(key);
    let signature = signature(&key, &statement);
    tamper(&mut statement);
    let event = DomainEvent::MinutesSigned(MinutesSigned {
        signer: p(signer),
        public_key: key.public_key(),
        statement,
        signature,
    });
    let mut new = crate::support::event(&m(M1).stream(), &event.encode());
    new.event_type = event.event_type().into();
    world.recorder.log().append(crate::support::one(new)).unwrap();
}

#[test]
fn verify_checks_every_chairs_signature_against_the_record() {
    for (name, signer, key, tamper, says) in [
        ("a valid signature", "cllr-patel", "cllr-patel", false, None),
        (
            "by the chair who did not preside at confirmation",
            "cllr-okoro",
            "cllr-okoro",
            false,
            Some("cllr-okoro did not preside at the confirming meeting"),
        ),
        ("over another statement", "cllr-patel", "cllr-patel", true, Some("does not verify over the statement")),
        (
            "with a key registered to someone else",
            "cllr-patel",
            "cllr-okoro",
            false,
            Some("the key is not registered to cllr-patel"),
        ),
    ] {
        let world = World::at(Stage::Published);
        world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
        forge_signature(&world, signer, key, |statement| {
            if tamper {
                *statement = statement.replace("events: ", "events: 1");
            }
        });
        let (_dir, data) = world.close();
        let (code, stdout, stderr) = run_cli(&["verify", data.to_str().unwrap()]);
        match says {
            None => {
                assert_eq!(code, 0, "{name}: {stdout}{stderr}");
                assert!(stdout.contains("chairs' signatures: 1 checked"), "{name}: {stdout}");
                assert!(stdout.contains("meeting rcsp-2026-03-05: signed by cllr-patel"), "{name}: {stdout}");
            }
            Some(says) => {
                assert_eq!(code, 1, "{name}: {stdout}{stderr}");
                assert!(stderr.contains(says), "{name}: {stderr}");
                let (code, _, _) = run_cli(&["verify", "--log-only", data.to_str().unwrap()]);
                assert_eq!(code, 0, "{name}: the log itself is sound");
            }
        }
    }
}
