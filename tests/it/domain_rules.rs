//! Refusals, table-driven through one `check` helper: each case is a
//! starting stage, an optional setup, a command, the rule that must refuse
//! it and words the refusal must say. `World::refuse` checks that the log
//! did not change.

use minutebook::domain::*;
use minutebook_catalogue::*;
use minutebook_log::Seq;

use crate::domain::*;
use crate::support::ORIGIN;

struct Case {
    name: &'static str,
    stage: Stage,
    setup: fn(&World),
    command: fn(&World) -> Command,
    rule: Rule,
    says: &'static str,
}

fn nothing(_: &World) {}

fn check(cases: &[Case]) {
    for case in cases {
        let world = World::at(case.stage);
        (case.setup)(&world);
        let command = (case.command)(&world);
        let refusal = world.refuse(command);
        assert_eq!(refusal.rule, case.rule, "{}: refused for the wrong rule: {}", case.name, refusal.message);
        assert!(
            refusal.message.contains(case.says),
            "{}: the refusal\n  {}\ndoes not say\n  {}",
            case.name,
            refusal.message,
            case.says
        );
    }
}

fn attendance(person: &str, attend_as: AttendAs, presiding: bool) -> Command {
    Command::RecordAttendance { meeting: m(M1), person: p(person), attend_as, presiding, arrived_at: None }
}

fn vote(item: u32, vote: Vote) -> Command {
    Command::RecordDecision { meeting: m(M1), decision: decision(item, "That the report be noted.", vote) }
}

fn recorded(for_: &[&str], against: &[&str]) -> Vote {
    Vote::Recorded {
        for_: for_.iter().map(|id| p(id)).collect(),
        against: against.iter().map(|id| p(id)).collect(),
        abstain: Vec::new(),
    }
}

#[test]
fn only_members_on_the_meeting_date_or_their_substitutes_sit_declare_move_and_vote() {
    check(&[
        Case {
            name: "a non-member present as a member",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| attendance("cllr-outsider", AttendAs::Member, false),
            rule: Rule::NotAMember,
            says: "Councillor Pat Outsider was not a member of Riverside Communities Scrutiny Panel on 2026-03-05",
        },
        Case {
            name: "a member appointed after the meeting date",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| attendance("mr-dunmore", AttendAs::Member, false),
            rule: Rule::NotAMember,
            says: "was not a member of Riverside Communities Scrutiny Panel on 2026-03-05",
        },
        Case {
            name: "a substitute no apologies named",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| attendance("cllr-outsider", AttendAs::Substitute { for_member: p("cllr-harcourt") }, false),
            rule: Rule::NotAMember,
            says: "only for a member whose apologies named them",
        },
        Case {
            name: "a guest presiding",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| attendance("cllr-outsider", AttendAs::Guest { description: "Observer".into() }, true),
            rule: Rule::NotAMember,
            says: "the person presiding must be a member of the body present",
        },
        Case {
            name: "a guest declaring an interest",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::DeclareInterest {
                meeting: m(M1),
                declaration: InterestDeclared {
                    person: p("cllr-varga"),
                    item: 5,
                    kind: InterestKind::NonRegistrable,
                    nature: "Lives in the ward".into(),
                    withdrew: false,
                    dispensation: None,
                },
            },
            rule: Rule::NotAMember,
            says: "Councillor Lena Varga cannot declare an interest: only members present",
        },
        Case {
            name: "an officer moving a motion",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::RecordDecision {
                meeting: m(M1),
                decision: DecisionInput {
                    mover: Some(p("off-castellano")),
                    ..decision(5, "That it be noted.", Vote::None)
                },
            },
            rule: Rule::NotAMember,
            says: "off-castellano cannot move: only a voting member present can move or second",
        },
        Case {
            name: "a non-voting co-optee in a recorded vote",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| vote(5, recorded(&["cllr-okoro", "mrs-ashby"], &[])),
            rule: Rule::NotAMember,
            says: "mrs-ashby is not a voting member present for this item, so cannot vote",
        },
        Case {
            name: "a member who withdrew voting on that item",
            stage: Stage::InSession,
            setup: |world| take(world, M1, 6),
            command: |_| vote(6, recorded(&["cllr-mensah"], &[])),
            rule: Rule::NotAMember,
            says: "cllr-mensah is not a voting member present",
        },
        Case {
            name: "apologies from a non-member",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::RecordApologies {
                meeting: m(M1),
                apologies: ApologiesRecorded { person: p("cllr-outsider"), substitute: None },
            },
            rule: Rule::NotAMember,
            says: "has no apologies to give",
        },
    ]);
}

#[test]
fn votes_cannot_exceed_the_voting_members_present_and_the_casting_vote_is_the_chairs_on_a_tie() {
    check(&[
        Case {
            name: "counts above the members present",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| vote(5, Vote::Counts { for_: 5, against: 3, abstain: 1 }),
            rule: Rule::VoteExceedsMembers,
            says: "the vote (5 for, 3 against, 1 abstaining) counts 9 votes but only 8 voting members were present",
        },
        Case {
            name: "counts above the members present less those who withdrew",
            stage: Stage::InSession,
            setup: |world| take(world, M1, 6),
            command: |_| vote(6, Vote::Counts { for_: 4, against: 3, abstain: 1 }),
            rule: Rule::VoteExceedsMembers,
            says: "only 7 voting members were present",
        },
        Case {
            name: "a casting vote without a tie",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::RecordDecision {
                meeting: m(M1),
                decision: DecisionInput {
                    casting_vote: Some(CastingVote { chair: p("cllr-okoro"), in_favour: true }),
                    ..decision(5, "That it be noted.", Vote::Counts { for_: 4, against: 3, abstain: 0 })
                },
            },
            rule: Rule::CastingVote,
            says: "only on a tied vote",
        },
        Case {
            name: "a casting vote by someone not presiding",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::RecordDecision {
                meeting: m(M1),
                decision: DecisionInput {
                    casting_vote: Some(CastingVote { chair: p("cllr-patel"), in_favour: true }),
                    ..decision(5, "That it be noted.", Vote::Counts { for_: 4, against: 4, abstain: 0 })
                },
            },
            rule: Rule::CastingVote,
            says: "cllr-patel cannot give the casting vote: only the person presiding can",
        },
        Case {
            name: "someone voting twice",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| vote(5, recorded(&["cllr-okoro"], &["cllr-okoro"])),
            rule: Rule::Invalid,
            says: "cllr-okoro appears twice in the recorded vote",
        },
    ]);
}

#[test]
fn nothing_is_recorded_outside_the_session_and_the_draft_follows_the_close() {
    check(&[
        Case {
            name: "a point after the close",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::RecordPoint { meeting: m(M1), point: PointRecorded { item: 5, text: "Late.".into() } },
            rule: Rule::MeetingClosed,
            says: "meeting rcsp-2026-03-05 is closed (at 20:45); after the close its record changes only through revisions of the draft",
        },
        Case {
            name: "a point before the opening",
            stage: Stage::Published,
            setup: |world| schedule(world, M3, "2026-05-28"),
            command: |_| Command::RecordPoint { meeting: m(M3), point: PointRecorded { item: 5, text: "Early.".into() } },
            rule: Rule::NotInSession,
            says: "meeting rcsp-2026-05-28 is not yet opened; open it first",
        },
        Case {
            name: "the draft before the close",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::PublishDraft { meeting: m(M1) },
            rule: Rule::NotClosed,
            says: "cannot be published before the meeting is closed: it is in session",
        },
        Case {
            name: "the draft twice",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::PublishDraft { meeting: m(M1) },
            rule: Rule::DraftPublished,
            says: "are already published",
        },
        Case {
            name: "withdrawing an item once minute numbers are given",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::WithdrawItem {
                meeting: m(M1),
                withdrawal: ItemWithdrawn { item: 7, reason: "Deferred".into() },
            },
            rule: Rule::DraftPublished,
            says: "its minute numbers given",
        },
        Case {
            name: "an agenda whose payload passes the log's limit",
            stage: Stage::Published,
            setup: |world| schedule(world, M3, "2026-05-28"),
            command: |_| Command::PublishAgenda {
                meeting: m(M3),
                items: (1..=200)
                    .map(|number| AgendaItem { number, title: "x".repeat(500), kind: ItemKind::Substantive })
                    .collect(),
            },
            rule: Rule::Invalid,
            says: "the agenda.published payload of 100875 bytes exceeds the limit of 65536; shorten its texts",
        },
        Case {
            name: "an item taken twice",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::TakeItem { meeting: m(M1), item: 5, title: None, kind: None },
            rule: Rule::AlreadyExists,
            says: "agenda item 5 has already been taken",
        },
        Case {
            name: "the public excluded under a paragraph that is not in the table",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::ExcludePublic { meeting: m(M1), exclusion: PublicExcluded { item: 5, paragraph: 8 } },
            rule: Rule::Invalid,
            says: "paragraph 8 is not a paragraph of Schedule 12A; the public may be excluded under paragraphs 1, 2, 3, 4, 5, 6, 7",
        },
        Case {
            name: "a paper with no media type",
            stage: Stage::InSession,
            setup: nothing,
            command: |_| Command::AttachPaper {
                meeting: m(M1),
                paper: PaperAttached {
                    reference: "B".into(),
                    title: "Handout".into(),
                    content_hash: [1; 32],
                    size_bytes: 10,
                    media_type: "pdf".into(),
                    item: Some(5),
                },
            },
            rule: Rule::Invalid,
            says: "a paper of type \"pdf\" is not accepted",
        },
    ]);
}

fn confirm_at_m2(world: &World) {
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
}

fn sign_with(world: &World, signer: &str, key: &str, statement: Option<String>) -> Command {
    let statement = statement.unwrap_or_else(|| world.recorder.statement(&m(M1)).unwrap().to_text());
    let key = key_of(key);
    Command::SignMinutes {
        meeting: m(M1),
        signer: p(signer),
        public_key: key.public_key(),
        signature: signature(&key, &statement),
        statement,
    }
}

#[test]
fn minutes_are_confirmed_only_once_published_by_a_confirming_minute_of_the_same_or_a_later_meeting() {
    check(&[
        Case {
            name: "confirming an unpublished draft",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::ConfirmMinutes { meeting: m(M2), by_meeting: m(M2), by_item: 4 },
            rule: Rule::Confirmation,
            says: "the minutes of meeting rcsp-2026-04-16 cannot be confirmed: their draft has not been published",
        },
        Case {
            name: "by an item the confirming meeting has not taken",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 6 },
            rule: Rule::Confirmation,
            says: "meeting rcsp-2026-04-16 has not taken agenda item 6",
        },
        Case {
            name: "by an item that is not a confirmation of minutes",
            stage: Stage::Published,
            setup: nothing,
            command: |_| Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 3 },
            rule: Rule::Confirmation,
            says: "agenda item 3 of meeting rcsp-2026-04-16 is not a confirmation of minutes",
        },
        Case {
            name: "by an earlier meeting",
            stage: Stage::Published,
            setup: |world| {
                schedule(world, "rcsp-2026-01-22", "2026-01-22");
                world.run(Command::OpenMeeting { meeting: m("rcsp-2026-01-22"), at: time("18:30") });
                take(world, "rcsp-2026-01-22", 4);
            },
            command: |_| Command::ConfirmMinutes { meeting: m(M1), by_meeting: m("rcsp-2026-01-22"), by_item: 4 },
            rule: Rule::Confirmation,
            says: "meeting rcsp-2026-01-22 on 2026-01-22 is not a later meeting",
        },
        Case {
            name: "twice without a change",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |_| Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 },
            rule: Rule::Confirmation,
            says: "already confirmed by meeting rcsp-2026-04-16 agenda item 4, and have not changed since",
        },
    ]);
}

#[test]
fn only_the_person_presiding_at_the_confirming_meeting_signs_with_their_own_live_key() {
    check(&[
        Case {
            name: "before confirmation",
            stage: Stage::Published,
            setup: nothing,
            command: |world| {
                let statement = world.recorder.statement(&m(M1)).unwrap_err().to_string();
                assert!(statement.contains("have not been confirmed"), "{statement}");
                sign_with(world, "cllr-patel", "cllr-patel", Some("minutebook signing statement v1\n".into()))
            },
            rule: Rule::Signature,
            says: "minutes of meeting rcsp-2026-03-05 cannot be signed: they have not been confirmed",
        },
        Case {
            name: "by the chair of the meeting recorded, who did not preside at the confirming one",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| sign_with(world, "cllr-okoro", "cllr-okoro", None),
            rule: Rule::Signature,
            says: "only the person who presided at the confirming meeting rcsp-2026-04-16 may sign them, and cllr-patel presided",
        },
        Case {
            name: "with someone else's key",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| sign_with(world, "cllr-patel", "cllr-okoro", None),
            rule: Rule::Signature,
            says: "the key is not registered to cllr-patel",
        },
        Case {
            name: "with an unregistered key",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| sign_with(world, "cllr-patel", "a-key-nobody-registered", None),
            rule: Rule::Signature,
            says: "the key is not registered to cllr-patel",
        },
        Case {
            name: "with a revoked key",
            stage: Stage::Published,
            setup: |world| {
                confirm_at_m2(world);
                world.run(Command::RevokeSigningKey(SigningKeyRevoked {
                    person: p("cllr-patel"),
                    public_key: key_of("cllr-patel").public_key(),
                    reason: "Laptop lost".into(),
                }));
            },
            command: |world| sign_with(world, "cllr-patel", "cllr-patel", None),
            rule: Rule::Signature,
            says: "the key of cllr-patel was revoked",
        },
        Case {
            name: "a signature over other bytes",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| {
                let key = key_of("cllr-patel");
                let statement = world.recorder.statement(&m(M1)).unwrap().to_text();
                Command::SignMinutes {
                    meeting: m(M1),
                    signer: p("cllr-patel"),
                    public_key: key.public_key(),
                    signature: signature(&key, &format!("{statement} ")),
                    statement,
                }
            },
            rule: Rule::Signature,
            says: "the signature does not verify over the statement with the registered key",
        },
        Case {
            name: "a statement with another minutes digest",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| {
                let mut statement = world.recorder.statement(&m(M1)).unwrap();
                statement.minutes_digest[0] ^= 1;
                sign_with(world, "cllr-patel", "cllr-patel", Some(statement.to_text()))
            },
            rule: Rule::Signature,
            says: "the statement does not match the confirmed minutes and the log",
        },
        Case {
            name: "a statement pinning a checkpoint from before the confirmation",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| {
                let mut statement = world.recorder.statement(&m(M1)).unwrap();
                statement.tree_size = 1;
                statement.tree_root = world.recorder.log().root(1).unwrap();
                sign_with(world, "cllr-patel", "cllr-patel", Some(statement.to_text()))
            },
            rule: Rule::Signature,
            says: "the statement pins tree size 1, which does not include the confirmation",
        },
        Case {
            name: "a statement pinning a root the log never signed",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| {
                let mut statement = world.recorder.statement(&m(M1)).unwrap();
                statement.tree_root.0[0] ^= 1;
                sign_with(world, "cllr-patel", "cllr-patel", Some(statement.to_text()))
            },
            rule: Rule::Signature,
            says: "the statement does not match",
        },
        Case {
            name: "a malformed statement",
            stage: Stage::Published,
            setup: confirm_at_m2,
            command: |world| {
                let statement = world.recorder.statement(&m(M1)).unwrap().to_text().replace("events:", "events :");
                sign_with(world, "cllr-patel", "cllr-patel", Some(statement))
            },
            rule: Rule::Signature,
            says: "the statement is malformed: line 10 is \"events : ",
        },
        Case {
            name: "minutes revised after confirmation",
            stage: Stage::Published,
            setup: |world| {
                confirm_at_m2(world);
                world.run(Command::ReviseDraft {
                    meeting: m(M1),
                    revision: DraftRevised {
                        change: Revision::AddPoint { item: 7, text: "A late point.".into() },
                        reason: "Omitted in error".into(),
                    },
                });
            },
            command: |world| sign_with(world, "cllr-patel", "cllr-patel", Some(String::new())),
            rule: Rule::Signature,
            says: "they changed after they were confirmed; confirm them again first",
        },
        Case {
            name: "twice",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| sign_with(world, "cllr-patel", "cllr-patel", None),
            rule: Rule::Signature,
            says: "they are already signed",
        },
    ]);
}

#[test]
fn signed_minutes_are_sealed_and_change_only_by_a_correction_with_a_later_authority() {
    fn point_seq(world: &World) -> Seq {
        world.last_seq(&m(M1).stream(), "point.recorded")
    }
    check(&[
        Case {
            name: "a revision",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::ReviseDraft {
                meeting: m(M1),
                revision: DraftRevised {
                    change: Revision::ReplaceText { target: point_seq(world), text: "New".into() },
                    reason: "Typo".into(),
                },
            },
            rule: Rule::Sealed,
            says: "the minutes of meeting rcsp-2026-03-05 are signed and sealed, so they cannot be revised; record a correction authorised by a minute of a later meeting",
        },
        Case {
            name: "a new exempt summary",
            stage: Stage::Signed,
            setup: nothing,
            command: |_| Command::RecordExemptSummary {
                meeting: m(M1),
                summary: ExemptSummaryRecorded { item: 8, summary: "Changed".into() },
            },
            rule: Rule::Sealed,
            says: "are signed and sealed",
        },
        Case {
            name: "a correction authorised by the meeting itself",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::CorrectMinutes {
                meeting: m(M1),
                target: point_seq(world),
                text: "Corrected".into(),
                by_meeting: m(M1),
                by_item: 4,
                reason: "Wrong figure".into(),
            },
            rule: Rule::Correction,
            says: "the authorising minute must be of a later meeting of the same body",
        },
        Case {
            name: "a correction by an item the later meeting has not taken",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::CorrectMinutes {
                meeting: m(M1),
                target: point_seq(world),
                text: "Corrected".into(),
                by_meeting: m(M2),
                by_item: 7,
                reason: "Wrong figure".into(),
            },
            rule: Rule::Correction,
            says: "meeting rcsp-2026-04-16 has not taken agenda item 7",
        },
        Case {
            name: "a correction before signing",
            stage: Stage::Published,
            setup: nothing,
            command: |world| Command::CorrectMinutes {
                meeting: m(M1),
                target: point_seq(world),
                text: "Corrected".into(),
                by_meeting: m(M2),
                by_item: 4,
                reason: "Wrong figure".into(),
            },
            rule: Rule::Correction,
            says: "they are not signed yet; revise the draft instead",
        },
    ]);
}

#[test]
fn redaction_needs_a_legal_basis_and_a_redactable_event() {
    check(&[
        Case {
            name: "no legal basis",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::Redact {
                target: world.last_seq(&m(M1).stream(), "point.recorded"),
                legal_basis: " ".into(),
            },
            rule: Rule::Redaction,
            says: "a redaction needs its legal basis",
        },
        Case {
            // The log's notice holds the basis, and takes no control
            // characters: refused here, never a failure of the append.
            name: "a control character in the legal basis",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::Redact {
                target: world.last_seq(&m(M1).stream(), "point.recorded"),
                legal_basis: "UK GDPR\u{6} Article 17".into(),
            },
            rule: Rule::Redaction,
            says: "a legal basis may not contain the control character '\\u{6}'",
        },
        Case {
            name: "the signature itself",
            stage: Stage::Signed,
            setup: nothing,
            command: |world| Command::Redact {
                target: world.last_seq(&m(M1).stream(), "minutes.signed"),
                legal_basis: "UK GDPR Article 17".into(),
            },
            rule: Rule::Redaction,
            says: "events of type minutes.signed carry no personal detail that can be redacted",
        },
        Case {
            name: "an event the log does not hold",
            stage: Stage::Signed,
            setup: nothing,
            command: |_| Command::Redact { target: Seq(1_000_000), legal_basis: "UK GDPR Article 17".into() },
            rule: Rule::Redaction,
            says: "event 1000000 cannot be redacted: the log holds no such event",
        },
        Case {
            name: "twice",
            stage: Stage::Signed,
            setup: |world| {
                let target = world.last_seq(&m(M1).stream(), "point.recorded");
                world.run(Command::Redact { target, legal_basis: "UK GDPR Article 17".into() });
            },
            command: |world| Command::Redact {
                target: world.last_seq(&m(M1).stream(), "point.recorded"),
                legal_basis: "UK GDPR Article 17".into(),
            },
            rule: Rule::Redaction,
            says: "it is already redacted",
        },
    ]);
}

#[test]
fn bodies_people_and_keys_are_registered_once_and_keys_prove_possession() {
    check(&[
        Case {
            name: "a body twice",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| {
                Command::RegisterBody(BodyRegistered {
                    body: body_id(),
                    name: "Again".into(),
                    kind: BodyKind::Panel,
                    timezone: "Europe/London".into(),
                    quorum: 3,
                    minute_number_start: 1,
                })
            },
            rule: Rule::AlreadyExists,
            says: "a body riverside-scrutiny is already registered",
        },
        Case {
            name: "a timezone that is not a name",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| {
                Command::RegisterBody(BodyRegistered {
                    body: BodyId::new("other").unwrap(),
                    name: "Other".into(),
                    kind: BodyKind::Board,
                    timezone: "london time".into(),
                    quorum: 3,
                    minute_number_start: 1,
                })
            },
            rule: Rule::Invalid,
            says: "\"london time\" is not an IANA timezone name",
        },
        Case {
            name: "a timezone name that is not in the database",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| {
                Command::RegisterBody(BodyRegistered {
                    body: BodyId::new("other").unwrap(),
                    name: "Other".into(),
                    kind: BodyKind::Board,
                    timezone: "Europe/Londn".into(),
                    quorum: 3,
                    minute_number_start: 1,
                })
            },
            rule: Rule::Invalid,
            says: "\"Europe/Londn\" is not an IANA timezone name such as Europe/London",
        },
        Case {
            name: "a member appointed twice",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| Command::AppointMember {
                body: body_id(),
                appointment: MemberAppointed {
                    person: p("cllr-okoro"),
                    role: MemberRole::Member,
                    from: date("2026-01-01"),
                },
            },
            rule: Rule::AlreadyExists,
            says: "Councillor Ada Okoro is already a member of Riverside Communities Scrutiny Panel since 2025-05-20",
        },
        Case {
            name: "a key whose proof is over another person's statement",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| {
                let key = key_of("cllr-yusuf");
                let statement = key_registration_statement(ORIGIN, &p("cllr-brennan"), &key.public_key());
                Command::RegisterSigningKey(SigningKeyRegistered {
                    person: p("cllr-yusuf"),
                    public_key: key.public_key(),
                    proof: signature(&key, &statement),
                })
            },
            rule: Rule::BadSignature,
            says: "the proof of possession does not verify",
        },
        Case {
            name: "a key registered to someone else already",
            stage: Stage::Registered,
            setup: nothing,
            command: |_| {
                let key = key_of("cllr-okoro");
                let statement = key_registration_statement(ORIGIN, &p("cllr-yusuf"), &key.public_key());
                Command::RegisterSigningKey(SigningKeyRegistered {
                    person: p("cllr-yusuf"),
                    public_key: key.public_key(),
                    proof: signature(&key, &statement),
                })
            },
            rule: Rule::AlreadyExists,
            says: "this signing key is already registered to cllr-okoro",
        },
    ]);
}
