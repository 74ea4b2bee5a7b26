//! Inputs that once made a decoder panic, allocate without bound or
//! overflow, each fed again through the same entry point: what the fuzz
//! targets in fuzz/ found (docs/TESTING.md), and what issue 14 named.
//! Each must now be answered with an error or a report.

use minutebook::bundle::FILE_BYTES_MAX;
use minutebook::domain::Command;
use minutebook_catalogue::{DomainEvent, MinuteNumbersAssigned, MinutesConfirmed, MinutesSigned};
use minutebook_log::{
    fuzzing, AppendBatch, EventId, ExpectedVersion, NewEvent, NoteSigner, FORMAT_FILE, LOG_KEY_FILE,
    LOG_PUBLIC_KEY_FILE,
};

use crate::domain::{body_id, key_of, m, p, signature, time, Stage, World, M1, M2, M3};
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
    world.run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
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

/// Writes a data directory from an input of the `verify_journal` fuzz
/// target: the log's private key text (length-prefixed), then the journal,
/// whose frames' checksums are sealed with the key as the target does.
fn crafted_directory(input: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
    let key_len = usize::from(u16::from_le_bytes([input[0], input[1]]));
    let (key_text, journal) = input[2..].split_at(key_len);
    let signer = NoteSigner::from_skey(std::str::from_utf8(key_text).unwrap()).expect("the input's key");
    let mut journal = journal.to_vec();
    fuzzing::seal_frames(&fuzzing::journal_key(&signer), &mut journal);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::fs::write(data.join(FORMAT_FILE), "minutebook data directory format 1\n").unwrap();
    std::fs::write(data.join(LOG_KEY_FILE), key_text).unwrap();
    std::fs::write(data.join(LOG_PUBLIC_KEY_FILE), format!("{}\n", signer.verifier().to_vkey())).unwrap();
    std::fs::write(data.join("journal"), journal).unwrap();
    (dir, data)
}

/// `minutebook verify` on a crafted directory reports what is wrong (exit
/// 1), saying `expected`.
fn check_verify_reports(input: &[u8], expected: &str) {
    let (_dir, data) = crafted_directory(input);
    let (code, stdout, stderr) = run_cli(&["verify", data.to_str().unwrap()]);
    let said = format!("{stdout}{stderr}");
    assert_eq!(code, 1, "{said}");
    assert!(said.contains(expected), "{said}");
}

/// A frame's head with 200 tree frontier hashes: applying it asserted
/// that the head fits a stored value.
#[test]
fn a_head_with_too_many_frontier_hashes_is_reported() {
    check_verify_reports(
        include_bytes!("fuzz_inputs/verify_journal-head-frontier-of-200"),
        "its body's head has 200 tree frontier hashes where a tree of 1 events has 1",
    );
}

/// A frame saying it holds 2^31 events: verify sized its set of event ids
/// by the count before reading them (73 GB).
#[test]
fn a_head_counting_two_billion_events_is_reported_without_allocating_for_them() {
    check_verify_reports(
        include_bytes!("fuzz_inputs/verify_journal-head-of-2147483648-events"),
        "event 1: event record: expected a stored record, found none",
    );
}

/// A 1.5 KiB tar whose second header says its file holds 512 MiB: reading
/// the bundle made room for all of it before reading a byte. Verified in
/// a child whose address space is limited to 256 MiB, where that failed.
#[test]
fn a_tar_header_claiming_a_large_file_is_refused_without_making_room_for_it() {
    let mut tar = Vec::new();
    for (path, kind, size) in
        [("b/", tar::EntryType::Directory, 0), ("b/MANIFEST", tar::EntryType::Regular, FILE_BYTES_MAX)]
    {
        let mut header = tar::Header::new_ustar();
        header.set_path(path).unwrap();
        header.set_entry_type(kind);
        header.set_mode(0o644);
        header.set_size(size);
        header.set_cksum();
        tar.extend_from_slice(header.as_bytes());
    }
    tar.extend_from_slice(&[b'x'; 512]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.tar");
    std::fs::write(&path, &tar).unwrap();
    let output = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 262144 && exec \"$0\" verify \"$1\"", env!("CARGO_BIN_EXE_minutebook")])
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{said}");
    assert!(said.contains("MANIFEST is cut short"), "{said}");
}

/// Minute numbers assigned up to u32::MAX: folding them into the record
/// overflowed the body's next minute number, and so would numbering the
/// next draft's minutes from it.
#[test]
fn minute_numbers_up_to_the_largest_u32_fold_and_no_more_are_given() {
    let world = World::at(Stage::InSession);
    let assigned = MinuteNumbersAssigned { meeting: m(M3), first: 1, last: u32::MAX };
    append_around_the_rules(&world, &body_id().stream(), &DomainEvent::MinuteNumbersAssigned(assigned));
    assert_eq!(world.recorder.record().unwrap().bodies[&body_id()].next_minute, u32::MAX);
    world.run(Command::CloseMeeting { meeting: m(M1), at: time("19:00") });
    let refusal = world.refuse(Command::PublishDraft { meeting: m(M1) });
    assert!(refusal.to_string().contains("minute numbers would pass 10000000"), "{refusal}");
    let (_dir, data) = world.close();
    let (code, stdout, stderr) = run_cli(&["verify", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
}
