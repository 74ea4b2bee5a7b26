//! Inputs that once made a decoder panic, allocate without bound or
//! overflow, each fed again through the same entry point: what the fuzz
//! targets in fuzz/ found (docs/TESTING.md), and what issue 14 named.
//! Each must now be answered with an error or a report.

use minutebook_log::catalogue::{DomainEvent, MinutesConfirmed, MinutesSigned};
use minutebook_log::{AppendBatch, EventId, ExpectedVersion, NewEvent};

use crate::domain::{key_of, m, p, signature, Stage, World, M1, M2};
use crate::support::run_cli;

/// A governance event appended around the rules, as whoever holds a data
/// directory's log.key can.
fn append_around_the_rules(world: &World, stream: &str, event: &DomainEvent) {
    let new = NewEvent {
        stream: stream.to_owned(),
        event_id: EventId::random(),
        event_type: event.event_type().to_owned(),
        schema_version: event.schema_version(),
        actor: "officer:off-rowe".to_owned(),
        role: "clerk".to_owned(),
        payload: event.encode(),
    };
    let batch = AppendBatch::new().expect(stream.to_owned(), ExpectedVersion::Any).event(new);
    world.recorder.log().append(batch).expect("the log appends what it is given");
}

/// `events_digest` asserted that a confirmation's count of events was at
/// most what the meeting's stream holds; the count is read from an event.
#[test]
fn a_signature_over_more_events_than_the_stream_holds_is_reported() {
    let world = World::at(Stage::Published);
    world.run(minutebook::domain::Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    let mut statement = world.recorder.statement(&m(M1)).expect("a statement of confirmed minutes");
    statement.events = 1_000_000;
    statement.events_digest = [1; 32];
    let confirmation = MinutesConfirmed {
        by_meeting: m(M2),
        by_item: 4,
        events: statement.events,
        events_digest: statement.events_digest,
        minutes_digest: statement.minutes_digest,
    };
    append_around_the_rules(&world, &m(M1).stream(), &DomainEvent::MinutesConfirmed(confirmation));
    let chair = key_of("cllr-patel");
    let signed = MinutesSigned {
        signer: p("cllr-patel"),
        public_key: chair.public_key(),
        statement: statement.to_text(),
        signature: signature(&chair, &statement.to_text()),
    };
    append_around_the_rules(&world, &m(M1).stream(), &DomainEvent::MinutesSigned(signed));
    let (_dir, data) = world.close();

    let (code, stdout, stderr) = run_cli(&["verify", data.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    let said = format!("{stdout}{stderr}");
    assert!(said.contains("the statement's events digest is not that of meeting"), "{said}");
}
