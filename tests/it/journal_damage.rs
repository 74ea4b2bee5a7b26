//! A journal damaged on disk is told apart from one torn by a crash.
//!
//! One byte is changed in each field of a frame (magic, first sequence
//! number, event count, lengths, checksum, payload area, body), in the
//! first, a middle, the last-but-one and the last frame, with the store
//! behind the journal (every frame still to be applied, as after a crash
//! before the store was flushed, or after sled/ was lost) and with the
//! store up to date. Opening must refuse with a `Corrupt` error and
//! `verify`'s read-only inspection must report a problem; neither may
//! change a byte of the journal. A last frame the crash kept from being
//! written whole, by contrast, is a torn write: opening succeeds, keeps
//! every earlier event, and the torn bytes are copied to quarantine/
//! before the next append overwrites them.

use std::path::{Path, PathBuf};

use minutebook_log::{ErrorCategory, Log, LogReader, QUARANTINE_DIR};

use crate::support::{assert_verifies, directory_bytes, event, journal_frames, one, payload, FrameSpan, Scratch};

/// The frame header's size in docs/LOG-FORMAT.md.
const FRAME_HEADER_BYTES: u64 = 60;

/// Frames in the template log: each append is one group commit.
const N_FRAMES: usize = 8;

/// Where in a frame a byte is changed.
#[derive(Clone, Copy, Debug)]
enum Field {
    Magic,
    FirstSeq,
    EventCount,
    PayloadsLen,
    BodyLen,
    Checksum,
    PayloadArea,
    Body,
}

const FIELDS: [Field; 8] = [
    Field::Magic,
    Field::FirstSeq,
    Field::EventCount,
    Field::PayloadsLen,
    Field::BodyLen,
    Field::Checksum,
    Field::PayloadArea,
    Field::Body,
];

impl Field {
    fn offset(self, frame: &FrameSpan) -> usize {
        let header = FRAME_HEADER_BYTES as usize;
        frame.start as usize
            + match self {
                Field::Magic => 3,
                Field::FirstSeq => 8,
                Field::EventCount => 16,
                Field::PayloadsLen => 20,
                Field::BodyLen => 24,
                Field::Checksum => 40,
                // Past the 16-byte salt, inside the payload's text.
                Field::PayloadArea => header + 16 + 3,
                Field::Body => header + (frame.payloads_len + frame.body_len / 2) as usize,
            }
    }
}

/// A byte other than `byte` and other than zero: damage, not an unwritten
/// byte.
fn flipped(byte: u8) -> u8 {
    if byte == 0xa5 {
        0x5a
    } else {
        0xa5
    }
}

/// Writes the files of `files` (as `directory_bytes` read them from
/// `from`) under `to`.
fn write_tree(files: &[(PathBuf, Vec<u8>)], from: &Path, to: &Path) {
    for (path, bytes) in files {
        let target = to.join(path.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, bytes).unwrap();
    }
}

/// A log of `N_FRAMES` frames, and its store as it was before any frame
/// was applied.
struct Template {
    scratch: Scratch,
    files: Vec<(PathBuf, Vec<u8>)>,
    empty_store: Vec<(PathBuf, Vec<u8>)>,
}

fn template() -> Template {
    let scratch = Scratch::new();
    let empty_store = directory_bytes(&scratch.path.join("sled"));
    {
        let log = scratch.open();
        for n in 0..N_FRAMES {
            log.append(one(event("meeting/M-1", format!("point number {n} of the minutes").as_bytes()))).unwrap();
        }
    }
    let files = directory_bytes(&scratch.path);
    Template { scratch, files, empty_store }
}

/// A copy of the template in a fresh directory, its store behind or up to
/// date.
fn copy(template: &Template, store_behind: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(&template.files, &template.scratch.path, dir.path());
    if store_behind {
        std::fs::remove_dir_all(dir.path().join("sled")).unwrap();
        write_tree(&template.empty_store, &template.scratch.path.join("sled"), &dir.path().join("sled"));
    }
    dir
}

#[test]
fn a_changed_byte_in_any_frame_is_refused_and_reported_never_erased() {
    let template = template();
    let journal = std::fs::read(template.scratch.path.join("journal")).unwrap();
    let spans = journal_frames(&journal);
    assert_eq!(spans.len(), N_FRAMES, "one frame per append");
    let positions = [("first", 0), ("middle", N_FRAMES / 2), ("last-but-one", N_FRAMES - 2), ("last", N_FRAMES - 1)];
    for store_behind in [true, false] {
        for (position, index) in positions {
            for field in FIELDS {
                let case = format!("{field:?} of the {position} frame, store behind: {store_behind}");
                let dir = copy(&template, store_behind);
                let path = dir.path();
                let mut damaged = journal.clone();
                let at = field.offset(&spans[index]);
                damaged[at] = flipped(damaged[at]);
                std::fs::write(path.join("journal"), &damaged).unwrap();

                // verify, read-only: reports, and changes no byte.
                let before = directory_bytes(path);
                let inspected = LogReader::inspect(path).unwrap_or_else(|error| panic!("{case}: {error}"));
                let problem = inspected
                    .journal
                    .problem
                    .clone()
                    .or_else(|| inspected.reader.verify(&mut |_, _| {}).unwrap().problem);
                assert!(problem.is_some(), "{case}: verify reported nothing");
                drop(inspected);
                assert!(directory_bytes(path) == before, "{case}: verify changed the data directory");

                // open: refuses, naming the damage, and leaves the journal.
                let error = Log::open(path).err().unwrap_or_else(|| panic!("{case}: opened a damaged journal"));
                assert_eq!(error.category(), ErrorCategory::Corrupt, "{case}: {error}");
                let message = error.to_string();
                assert!(
                    message.contains("is damaged at offset") || message.contains("its payload"),
                    "{case}: {message}"
                );
                assert!(std::fs::read(path.join("journal")).unwrap() == damaged, "{case}: open changed the journal");
                // Refusing again is the same refusal: nothing was lost
                // between the two attempts.
                let again = Log::open(path).err().expect("still refused");
                assert_eq!(again.to_string(), message, "{case}");
                assert!(std::fs::read(path.join("journal")).unwrap() == damaged, "{case}");
            }
        }
    }
}

#[test]
fn damage_names_the_file_offset_and_first_event_of_the_frame() {
    let template = template();
    let journal = std::fs::read(template.scratch.path.join("journal")).unwrap();
    let spans = journal_frames(&journal);
    let dir = copy(&template, true);
    let mut damaged = journal.clone();
    let middle = &spans[N_FRAMES / 2];
    damaged[Field::Body.offset(middle)] ^= 0xff;
    std::fs::write(dir.path().join("journal"), &damaged).unwrap();
    let message = Log::open(dir.path()).err().expect("refused").to_string();
    let expected = format!(
        "journal {} is damaged at offset {}, where the frame of event {} starts",
        dir.path().join("journal").display(),
        middle.start,
        N_FRAMES / 2
    );
    assert!(message.contains(&expected), "{message}");
    assert!(message.contains("docs/OPERATIONS.md"), "{message}");
}

/// The last frame cut short at a sector boundary, the rest of its extent
/// zero as a grown file reads: a torn write.
#[test]
fn a_torn_last_frame_opens_keeps_every_earlier_event_and_is_quarantined() {
    let template = template();
    let journal = std::fs::read(template.scratch.path.join("journal")).unwrap();
    let spans = journal_frames(&journal);
    let last = &spans[N_FRAMES - 1];
    let frame_len = (last.end - last.start) as usize;
    for kept in [1usize, 17, FRAME_HEADER_BYTES as usize, frame_len - 1] {
        let case = format!("{kept} bytes of the last frame written");
        let dir = copy(&template, true);
        let path = dir.path();
        let mut torn = journal.clone();
        // A file grows by zeros: the journal keeps its length.
        torn[last.start as usize + kept..].fill(0);
        std::fs::write(path.join("journal"), &torn).unwrap();

        let log = Log::open(path).unwrap_or_else(|error| panic!("{case}: {error}"));
        assert_eq!(log.len(), N_FRAMES as u64 - 1, "{case}: every earlier event is kept");
        assert_eq!(log.opened().torn_write.map(|(start, _)| start), Some(last.start), "{case}");
        assert!(std::fs::read(path.join("journal")).unwrap() == torn, "{case}: opening wrote nothing");
        assert_verifies(&log);

        // The next append takes the torn frame's place, after copying it
        // aside.
        log.append(one(event("meeting/M-1", b"after the crash"))).unwrap();
        let events = log.reader().read(minutebook_log::Seq(0), 100).unwrap();
        assert_eq!(payload(events.last().unwrap()), b"after the crash");
        assert_verifies(&log);
        drop(log);
        let quarantined: Vec<_> = std::fs::read_dir(path.join(QUARANTINE_DIR)).unwrap().collect();
        assert_eq!(quarantined.len(), 1, "{case}: the torn bytes were kept");
        let log = Log::open(path).unwrap();
        assert_eq!(log.len(), N_FRAMES as u64, "{case}");
        assert_verifies(&log);
    }
}

/// A frame that is all zeros, with valid frames after it, was written and
/// acknowledged (the writer syncs each frame before the next) and then
/// lost: refused, not taken for the journal's end.
#[test]
fn a_zeroed_frame_followed_by_valid_frames_is_refused() {
    let template = template();
    let mut journal = std::fs::read(template.scratch.path.join("journal")).unwrap();
    let spans = journal_frames(&journal);
    let lost = &spans[N_FRAMES / 2];
    journal[lost.start as usize..lost.end as usize].fill(0);
    for store_behind in [true, false] {
        let dir = copy(&template, store_behind);
        std::fs::write(dir.path().join("journal"), &journal).unwrap();
        let error = Log::open(dir.path()).err().expect("refused");
        assert_eq!(error.category(), ErrorCategory::Corrupt, "{error}");
        assert!(error.to_string().contains("a valid frame of event"), "{error}");
        assert!(std::fs::read(dir.path().join("journal")).unwrap() == journal);
    }
}
