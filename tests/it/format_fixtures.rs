//! The formats frozen: a data directory, a chair's signed statement and a
//! meeting's export bundles, made once by the code of one commit and
//! checked in under tests/it/fixtures/ (its README.md says which commit,
//! and how). They are never regenerated: the code must go on opening,
//! verifying and reading them, and exporting the same meeting from the
//! data directory must give the checked-in bundles byte for byte. A format
//! change adds a new fixture beside them instead.
//!
//! Each test works on a copy of the data directory, because opening one
//! writes its caches (sled/, projections/, LOCK, space-reserve) beside
//! the journal; the checked-in files are compared with the copy's after.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, VerifyingKey};
use minutebook::domain::{signing_statement, SigningStatement};
use minutebook_catalogue::{DomainEvent, MeetingId};
use minutebook_log::{hex, Event, Log, Payload};
use minutebook_projections::minutes::{canonical_text, events_digest, minutes_digest};
use minutebook_projections::record::{catch_up, catch_up_to, Record};
use minutebook_projections::render;
use minutebook_projections::view::{self, Audience};

use crate::support::{copy_dir, run_cli, snapshot};

/// The fixtures of data directory format 1, envelope format 1 and journal
/// frame format 1.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/fixtures/format-1");
/// The files of the checked-in data directory: what a data directory needs
/// to open. The rest is rebuilt from the journal on opening.
const DATA_FILES: [&str; 4] = ["FORMAT", "journal", "log.key", "log.pub"];
/// The meeting the bundles and the statement are of: signed, then
/// corrected at a later meeting, with an exempt item.
const MEETING: &str = "rcsp-2026-03-05";
/// The bundles' file names, full and public; the name is also the tar's
/// top directory, so exporting again under the same name gives the same
/// bytes.
const BUNDLES: [(&str, bool); 2] =
    [("meeting-rcsp-2026-03-05.tar", false), ("meeting-rcsp-2026-03-05-public.tar", true)];

fn fixture(path: &str) -> PathBuf {
    Path::new(FIXTURES).join(path)
}

fn read_fixture(path: &str) -> Vec<u8> {
    std::fs::read(fixture(path)).unwrap_or_else(|error| panic!("{}: {error}", fixture(path).display()))
}

fn read_fixture_text(path: &str) -> String {
    String::from_utf8(read_fixture(path)).expect("fixture text is UTF-8")
}

/// A copy of the checked-in data directory in a temporary directory.
struct Copy {
    _dir: tempfile::TempDir,
    data: PathBuf,
}

fn copy_of_data() -> Copy {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    copy_dir(&fixture("data"), &data);
    Copy { _dir: dir, data }
}

/// Fails naming the first line that differs, so that a changed rendering
/// says where, not just that.
fn assert_same_text(fixture_path: &str, actual: &str) {
    let expected = read_fixture_text(fixture_path);
    if expected == actual {
        return;
    }
    let mut expected_lines = expected.split_inclusive('\n');
    let mut actual_lines = actual.split_inclusive('\n');
    for line_idx in 1.. {
        let (want, got) = (expected_lines.next(), actual_lines.next());
        if want != got {
            panic!("{fixture_path} differs first at line {line_idx}:\n  checked in: {want:?}\n  now:        {got:?}");
        }
    }
}

fn assert_same_bytes(fixture_path: &str, actual: &[u8]) {
    let expected = read_fixture(fixture_path);
    if expected == actual {
        return;
    }
    let offset =
        expected.iter().zip(actual).position(|(want, got)| want != got).unwrap_or(expected.len().min(actual.len()));
    panic!("{fixture_path} differs first at byte {offset} ({} bytes checked in, {} now)", expected.len(), actual.len());
}

/// One line per event: the envelope's fields as the log reads them back,
/// its hash, and whether its payload is present (and then decodes as its
/// type and schema version) or redacted.
fn event_lines(events: &[Event]) -> String {
    let mut lines = String::new();
    for event in events {
        let envelope = &event.envelope;
        let payload = match &event.payload {
            Payload::Present { bytes, .. } => {
                if let Err(error) = DomainEvent::decode(envelope.event_type(), envelope.schema_version(), bytes) {
                    panic!("event {}: its payload no longer decodes: {error}", envelope.seq().0);
                }
                format!("payload of {} bytes", bytes.len())
            }
            Payload::Redacted { notice } => format!("redacted {notice:?}"),
        };
        lines.push_str(&format!(
            "{} {} v{} {}@{} id {} by {} as {} at {} hash {} {payload}\n",
            envelope.seq().0,
            envelope.event_type(),
            envelope.schema_version(),
            envelope.stream(),
            envelope.stream_version().0,
            envelope.event_id(),
            envelope.actor(),
            envelope.role(),
            envelope.recorded_at_us(),
            event.hash,
        ));
    }
    lines
}

fn verify_passes(path: &Path) {
    let (code, stdout, stderr) = run_cli(&["verify", path.to_str().unwrap()]);
    assert_eq!(code, 0, "minutebook verify {} failed:\n{stdout}\n{stderr}", path.display());
    assert!(stdout.ends_with("ok: everything verifies\n"), "{stdout}");
}

#[test]
fn the_data_directory_opens_verifies_and_reads_back_unchanged() {
    let copy = copy_of_data();
    // Verified as checked in, with no store beside the journal...
    verify_passes(&copy.data);

    let log = Log::open(&copy.data).expect("the checked-in data directory opens");
    let events = snapshot(&log).events;
    assert_eq!(log.len(), events.len() as u64);
    assert_same_text("expected/events.txt", &event_lines(&events));
    assert_same_text("expected/checkpoint.txt", &log.latest_checkpoint().expect("checkpoint").note);
    drop(log);

    // ...and again with the store opening rebuilt, compared entry by entry.
    assert!(copy.data.join("sled").is_dir(), "opening rebuilt the store");
    verify_passes(&copy.data);
    for name in DATA_FILES {
        let now = std::fs::read(copy.data.join(name)).expect("read the copy");
        assert_same_bytes(&format!("data/{name}"), &now);
    }
}

#[test]
fn the_minutes_read_back_as_they_were_rendered() {
    let copy = copy_of_data();
    let log = Log::open(&copy.data).expect("open");
    let mut record = Record::new();
    catch_up(&log.reader(), &mut record).expect("catch up");
    let meetings: BTreeSet<String> = record.meetings.keys().map(ToString::to_string).collect();
    let expected: BTreeSet<String> = std::fs::read_dir(fixture("expected/minutes"))
        .expect("expected/minutes")
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".canonical.txt").map(str::to_owned))
        .collect();
    assert_eq!(meetings, expected, "every meeting has its expected minutes");
    for id in &meetings {
        let meeting = MeetingId::new(id).unwrap();
        let canonical = canonical_text(&record, &meeting).expect("scheduled");
        assert_same_text(&format!("expected/minutes/{id}.canonical.txt"), &canonical);
        for (audience, suffix) in [(Audience::Entitled, "md"), (Audience::Public, "public.md")] {
            let minutes = view::minutes(&record, &meeting, audience).expect("scheduled");
            assert_same_text(&format!("expected/minutes/{id}.{suffix}"), &render::markdown(&minutes));
        }
    }
}

#[test]
fn exporting_the_meeting_again_gives_the_checked_in_bundles_byte_for_byte() {
    let copy = copy_of_data();
    let out = tempfile::tempdir().expect("a temporary directory");
    for (name, public) in BUNDLES {
        let path = out.path().join(name);
        let mut args = vec!["export", "--data", copy.data.to_str().unwrap(), "--meeting", MEETING];
        if public {
            args.push("--public");
        }
        args.extend(["--out", path.to_str().unwrap()]);
        let (code, stdout, stderr) = run_cli(&args);
        assert_eq!(code, 0, "{stdout}{stderr}");
        assert_same_bytes(&format!("bundles/{name}"), &std::fs::read(&path).unwrap());
    }
    for name in DATA_FILES {
        assert_same_bytes(&format!("data/{name}"), &std::fs::read(copy.data.join(name)).unwrap());
    }
}

#[test]
fn the_checked_in_bundles_verify_and_read_back_to_the_same_tar() {
    for (name, public) in BUNDLES {
        let path = fixture(&format!("bundles/{name}"));
        verify_passes(&path);
        let bundle = minutebook::bundle::Bundle::read(&path).expect("the bundle reads");
        let description: serde_json::Value =
            serde_json::from_slice(&bundle.files["bundle.json"]).expect("bundle.json is JSON");
        assert_eq!(description["audience"], if public { "public" } else { "entitled" });
        let mut tar = Vec::new();
        bundle.write_tar(name.strip_suffix(".tar").unwrap(), &mut tar).unwrap();
        assert_same_bytes(&format!("bundles/{name}"), &tar);
    }
}

#[test]
fn the_signed_statement_verifies_and_renders_again_from_the_data_directory() {
    let statement = read_fixture_text("signed-statement/statement.txt");
    let parsed = SigningStatement::parse(&statement).expect("the statement parses");
    assert_eq!(parsed.to_text(), statement);
    let base64_line = |path: &str| {
        let text = read_fixture_text(path);
        BASE64.decode(text.strip_suffix('\n').expect("one line")).expect("base64")
    };
    let public_key: [u8; 32] = base64_line("signed-statement/public-key.b64").try_into().expect("32 bytes");
    let signature: [u8; 64] = base64_line("signed-statement/signature.b64").try_into().expect("64 bytes");

    // The signature verifies strictly, as audit's check does, and not over
    // a statement one byte different.
    let key = VerifyingKey::from_bytes(&public_key).expect("an Ed25519 key");
    let signature = Signature::from_bytes(&signature);
    key.verify_strict(statement.as_bytes(), &signature).expect("the signature verifies");
    let mut altered = statement.clone().into_bytes();
    altered[statement.find("tree size: ").unwrap() + "tree size: ".len()] ^= 0x01;
    assert!(key.verify_strict(&altered, &signature).is_err());

    // The CLI reads the chair's key file and signs again to the same bytes:
    // Ed25519 signatures are deterministic (RFC 8032 §5.1.6).
    let key_file = fixture("signed-statement/cllr-patel.jwk");
    let (code, stdout, stderr) = run_cli(&["keys", "public", "--key", key_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_same_text("signed-statement/public-key.b64", &stdout);
    let statement_file = fixture("signed-statement/statement.txt");
    let (code, stdout, stderr) =
        run_cli(&["sign", "--key", key_file.to_str().unwrap(), statement_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_same_text("signed-statement/signature.b64", &stdout);

    // The data directory holds this very signature, and the record as it
    // stood just before it builds this very statement.
    let copy = copy_of_data();
    let log = Log::open(&copy.data).expect("open");
    let stream = format!("meeting:{MEETING}");
    let (seq, signed) = snapshot(&log)
        .events
        .into_iter()
        .filter(|event| event.envelope.stream() == stream)
        .find_map(|event| {
            let Payload::Present { bytes, .. } = &event.payload else { return None };
            match DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes) {
                Ok(DomainEvent::MinutesSigned(signed)) => Some((event.envelope.seq(), signed)),
                _ => None,
            }
        })
        .expect("the meeting's minutes were signed");
    assert_eq!(signed.statement, statement);
    assert_eq!(signed.public_key, public_key);
    assert_eq!(signed.signature.0, signature.to_bytes());

    let reader = log.reader();
    let mut record = Record::new();
    catch_up_to(&reader, &mut record, seq.0).expect("fold to the signature");
    let meeting = MeetingId::new(MEETING).unwrap();
    // The chair signed the checkpoint the log had just before the signature.
    let tree_size = seq.0;
    let origin = log.latest_checkpoint().expect("checkpoint").checkpoint.origin;
    let rendered = signing_statement(&record, &meeting, &origin, tree_size, reader.root(tree_size).expect("root"))
        .expect("the minutes were confirmed");
    assert_eq!(rendered.to_text(), statement, "the statement renders again from the data directory");
    // Its digests are those of the minutes and events as they stood.
    let minutes = canonical_text(&record, &meeting).expect("scheduled");
    assert_eq!(hex(&minutes_digest(&minutes)), hex(&parsed.minutes_digest));
    let events = events_digest(&record.meetings[&meeting], parsed.events).expect("that many events");
    assert_eq!(hex(&events), hex(&parsed.events_digest));
}
