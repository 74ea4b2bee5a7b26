//! Live backup and restore: `minutebook backup` copies a data directory
//! while its log is open and written to, without its lock and without
//! writing to it; `minutebook restore` brings a backup back, verified, and
//! the restored log serves the same minutes and takes appends.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use minutebook_log::backup::{copy_journal_with, JournalCopy};
use minutebook_log::{AppendBatch, EventId, ExpectedVersion, Log, LogReader, Seq};

use crate::support::{directory_bytes, event, journal_frames, one, run_cli, Rng, Scratch};

/// Writers appending while the backups are taken.
const WRITERS: usize = 8;
/// Backups taken while they append.
const BACKUPS: usize = 20;
/// Each writer's pause between appends, and most appends it makes: the
/// log grows by a few thousand events while the backups are taken, not by
/// millions (each backup verifies its copy, which takes longer as the log
/// grows).
const WRITER_PAUSE_MS: u64 = 40;
const WRITER_APPENDS_MAX: usize = 1_000;

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Runs `minutebook backup`; returns its exit code, stdout and stderr.
fn backup(data: &Path, out: &Path) -> (i32, String, String) {
    run_cli(&["backup", "--data", path_arg(data), "--out", path_arg(out)])
}

/// A data directory holding the demo council, in `dir`.
fn demo(dir: &Path) -> PathBuf {
    let data = dir.join("demo");
    let (code, _, stderr) = run_cli(&["demo", "--data", path_arg(&data), "--no-serve"]);
    assert_eq!(code, 0, "{stderr}");
    data
}

/// Every event id acknowledged before a backup began must be in it, at
/// its position, and the backup must verify.
fn check_backup_holds(out: &Path, acknowledged: &[(Seq, EventId)]) {
    let inspected = LogReader::inspect(out).expect("the backup opens for reading");
    assert_eq!(inspected.journal.problem, None, "{}", out.display());
    assert_eq!(inspected.journal.torn, None, "a backup ends at a frame boundary: {}", out.display());
    let report = inspected.reader.verify(&mut |_, _| {}).expect("verify runs");
    assert_eq!(report.problem, None, "{}", out.display());
    for (seq, event_id) in acknowledged {
        let event = inspected.reader.event(*seq).unwrap();
        let event = event.unwrap_or_else(|| panic!("{}: acknowledged event {} is missing", out.display(), seq.0));
        assert_eq!(event.envelope.event_id(), *event_id, "{}: event {}", out.display(), seq.0);
    }
}

#[test]
fn backups_taken_or_updated_while_eight_writers_append_verify_and_hold_every_acknowledged_write() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let backups = tempfile::tempdir().unwrap();
    let acknowledged: Mutex<Vec<(Seq, EventId)>> = Mutex::new(Vec::new());
    let stop = AtomicBool::new(false);
    let mut taken = Vec::new();
    std::thread::scope(|scope| {
        for writer in 0..WRITERS {
            let (log, acknowledged, stop) = (&log, &acknowledged, &stop);
            scope.spawn(move || {
                let mut rng = Rng::new(writer as u64 + 1);
                let mut own: Vec<Seq> = Vec::new();
                while !stop.load(Ordering::Relaxed) && own.len() < WRITER_APPENDS_MAX {
                    let size = 1 + rng.below(2_000) as usize;
                    let stream = format!("meeting/M-{writer}");
                    let new = event(&stream, &vec![b'a' + writer as u8; size]);
                    let event_id = new.event_id;
                    let mut batch = AppendBatch::new().expect(stream, ExpectedVersion::Any).event(new);
                    // Writer 0 also redacts, so that payloads are zeroed
                    // while backups copy them.
                    if writer == 0 && own.len() % 8 == 7 {
                        batch = batch.redact(own[own.len() - 4], "personal data: UK GDPR Art. 17, minute 412");
                    }
                    let Ok(outcome) = log.append(batch) else {
                        // A redaction of an event whose group is still
                        // being applied is refused; nothing was appended.
                        continue;
                    };
                    acknowledged.lock().unwrap().push((outcome.events[0].seq, event_id));
                    own.push(outcome.events[0].seq);
                    std::thread::sleep(std::time::Duration::from_millis(WRITER_PAUSE_MS));
                }
            });
        }
        // Every other backup is a new one, and the others update one
        // backup with what was appended since (checked at once, since the
        // next update changes it).
        let rolling = backups.path().join("rolling");
        for backup_idx in 0..BACKUPS {
            let before = acknowledged.lock().unwrap().clone();
            if backup_idx % 2 == 1 {
                let (code, stdout, stderr) = backup_incremental(&scratch.path, &rolling);
                assert_eq!(code, 0, "backup {backup_idx}: {stdout}{stderr}");
                check_backup_holds(&rolling, &before);
                continue;
            }
            let out = backups.path().join(format!("backup-{backup_idx}"));
            let (code, stdout, stderr) = backup(&scratch.path, &out);
            assert_eq!(code, 0, "backup {backup_idx}: {stdout}{stderr}");
            assert!(stdout.contains("ok: everything verifies"), "{stdout}");
            taken.push((out, before));
        }
        stop.store(true, Ordering::Relaxed);
    });
    for (out, before) in &taken {
        check_backup_holds(out, before);
    }
    let first = taken.first().unwrap().1.len();
    let last = taken.last().unwrap().1.len();
    assert!(last > first + WRITERS, "the writers appended while the backups were taken ({first} then {last})");
    assert!(log.len() as usize >= last);
}

#[test]
fn a_backup_changes_no_byte_of_its_data_directory_and_refuses_an_existing_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path());
    let (paper, _) =
        minutebook::domain::papers::store(&data, b"Agenda pack: Riverside Communities Scrutiny Panel").unwrap();
    std::fs::write(data.join("papers").join(".upload-0011223344556677"), b"an upload in progress").unwrap();
    std::fs::write(data.join("operator-notes.txt"), b"moved from the old server on 2026-03-01\n").unwrap();
    assert!(data.join("space-reserve").exists(), "opening made the space reserve");
    let source = directory_bytes(&data);

    let out = dir.path().join("backup");
    let (code, stdout, stderr) = backup(&data, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("papers: 1 copied"), "{stdout}");
    assert_eq!(directory_bytes(&data), source, "the backup changed its data directory");
    let copied = directory_bytes(&out);
    let names: Vec<String> =
        copied.iter().map(|(path, _)| path.strip_prefix(&out).unwrap().display().to_string()).collect();
    for name in ["FORMAT", "journal", "log.key", "log.pub", "tokens.json", "operator-notes.txt"] {
        assert!(names.contains(&name.to_owned()), "{name} is not in the backup: {names:?}");
    }
    assert!(names.contains(&format!("papers/{}", paper.to_hex())), "{names:?}");
    for derived in ["LOCK", "sled/", "projections/", "papers/.upload-", "space-reserve"] {
        assert!(!names.iter().any(|name| name.starts_with(derived)), "{derived} is in the backup: {names:?}");
    }
    let key_mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(out.join("log.key")).unwrap().permissions());
    assert_eq!(key_mode & 0o777, 0o600);
    assert!(!dir.path().join("backup.partial").exists());

    // Refused: an existing output, whatever it is.
    let (code, _, stderr) = backup(&data, &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("exists: a backup is written to a new path, never over another"), "{stderr}");
    assert_eq!(directory_bytes(&out), copied, "the refused backup changed the earlier one");
    assert_eq!(directory_bytes(&data), source, "the refused backup changed its data directory");

    // Refused: a paper that is not what its name says.
    std::fs::write(minutebook::domain::papers::paper_path(&data, &paper), b"Agenda pack: altered").unwrap();
    let damaged = directory_bytes(&data);
    let refused = dir.path().join("refused");
    let (code, _, stderr) = backup(&data, &refused);
    assert_eq!(code, 2);
    assert!(stderr.contains("does not hash to its name"), "{stderr}");
    assert!(!refused.exists());
    assert_eq!(directory_bytes(&data), damaged, "the refused backup changed its data directory");
}

/// A meeting's minutes as the `minutes` command prints them.
fn minutes(data: &Path, meeting: &str, public: bool) -> String {
    let mut args = vec!["minutes", "--data", path_arg(data), "--meeting", meeting];
    if public {
        args.push("--public");
    }
    let (code, stdout, stderr) = run_cli(&args);
    assert_eq!(code, 0, "{stderr}");
    stdout
}

#[test]
fn a_restored_backup_verifies_serves_the_same_minutes_and_takes_appends() {
    let dir = tempfile::tempdir().unwrap();
    let data = demo(dir.path());
    let out = dir.path().join("backup");
    let (code, stdout, stderr) = backup(&data, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let backup_bytes = directory_bytes(&out);

    let restored = dir.path().join("restored");
    let (code, stdout, stderr) = run_cli(&["restore", "--from", path_arg(&out), "--data", path_arg(&restored)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("ok: everything verifies"), "{stdout}");
    assert!(stdout.contains("restored 158 events from"), "{stdout}");
    assert_eq!(directory_bytes(&out), backup_bytes, "restoring changed the backup");
    let (code, stdout, stderr) = run_cli(&["verify", path_arg(&restored)]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    let (_, checkpoint, _) = run_cli(&["checkpoint", "--data", path_arg(&data)]);
    let (_, restored_checkpoint, _) = run_cli(&["checkpoint", "--data", path_arg(&restored)]);
    assert_eq!(restored_checkpoint, checkpoint, "the same signed checkpoint");
    for meeting in ["rcsp-2026-01-22", "rcsp-2026-03-05", "lrc-2026-02-10"] {
        for public in [false, true] {
            assert_eq!(minutes(&restored, meeting, public), minutes(&data, meeting, public), "{meeting}");
        }
    }

    // Refused: a directory that is not empty, the restored one included.
    let restored_bytes = directory_bytes(&restored);
    let (code, _, stderr) = run_cli(&["restore", "--from", path_arg(&out), "--data", path_arg(&restored)]);
    assert_eq!(code, 2);
    assert!(stderr.contains("is not empty: restore writes only into a new or empty directory"), "{stderr}");
    assert_eq!(directory_bytes(&restored), restored_bytes, "the refused restore changed the directory");
    assert_eq!(directory_bytes(&out), backup_bytes, "the refused restore changed the backup");

    // The restored log goes on where the original stopped.
    let log = Log::open(&restored).unwrap();
    let length = log.len();
    let outcome = log.append(one(event("meeting/after-restore", b"the first event after a restore"))).unwrap();
    assert_eq!(outcome.events[0].seq, Seq(length));
    drop(log);
    let (code, stdout, stderr) = run_cli(&["verify", "--log-only", path_arg(&restored)]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // An empty directory is a place to restore to.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, stdout, stderr) = run_cli(&["restore", "--from", path_arg(&out), "--data", path_arg(&empty)]);
    assert_eq!(code, 0, "{stdout}{stderr}");

    // Refused: a damaged backup; the directory is left as it was found.
    let mut journal = std::fs::read(out.join("journal")).unwrap();
    let at = find(&journal, b"Riverside");
    journal[at] = b'r';
    std::fs::write(out.join("journal"), &journal).unwrap();
    let damaged = directory_bytes(&out);
    let (fresh, emptied) = (dir.path().join("fresh"), dir.path().join("emptied"));
    std::fs::create_dir(&emptied).unwrap();
    for target in [&fresh, &emptied] {
        let (code, _, stderr) = run_cli(&["restore", "--from", path_arg(&out), "--data", path_arg(target)]);
        assert_eq!(code, 2);
        assert!(stderr.contains("does not match its salted hash"), "{stderr}");
    }
    assert!(!fresh.exists());
    assert!(std::fs::read_dir(&emptied).unwrap().next().is_none(), "the refused restore left files behind");
    assert_eq!(directory_bytes(&out), damaged, "the refused restore changed the backup");
}

/// The extents of the frames of a journal, as offsets.
fn frame_extents(journal: &[u8]) -> Vec<(usize, usize)> {
    journal_frames(journal).iter().map(|frame| (frame.start as usize, frame.end as usize)).collect()
}

/// Copies the journal of `data` as a reader racing the writer could have
/// seen it: the live bytes as `seen` changes them. Returns what the copy
/// found and the copy's bytes.
fn copy_as_seen(data: &Path, seen: impl Fn(&mut Vec<u8>)) -> (minutebook_log::Result<JournalCopy>, Vec<u8>) {
    use std::os::unix::fs::FileExt;
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("journal");
    let copied = copy_journal_with(data, &to, &|live, copy, len| {
        let mut bytes = vec![0u8; len as usize];
        live.read_exact_at(&mut bytes, 0)?;
        seen(&mut bytes);
        copy.write_all_at(&bytes, 0)
    });
    (copied, std::fs::read(&to).unwrap_or_default())
}

/// Where `needle` first stands in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack.windows(needle.len()).position(|window| window == needle).expect("found")
}

/// A closed log of five events, one frame each: its directory, its
/// journal's bytes and their frames.
fn five_frames() -> (Scratch, Vec<u8>, Vec<(usize, usize)>) {
    let scratch = Scratch::new();
    let log = scratch.open();
    for n in 0..5 {
        log.append(one(event("meeting/M-1", format!("point {n} of the debate").as_bytes()))).unwrap();
    }
    drop(log);
    let live = std::fs::read(scratch.path.join("journal")).unwrap();
    let frames = frame_extents(&live);
    assert_eq!(frames.len(), 5);
    (scratch, live, frames)
}

#[test]
fn a_frame_or_payload_copied_while_being_written_is_left_out_or_read_again() {
    let (scratch, live, frames) = five_frames();
    let end = frames[4].1;

    let (copied, bytes) = copy_as_seen(&scratch.path, |_| {});
    let copied = copied.unwrap();
    assert_eq!((copied.n_frames, copied.n_events, copied.journal_bytes), (5, 5, end as u64));
    assert_eq!(copied.checkpoint.checkpoint.tree_size, 5);
    assert_eq!(bytes, live[..end]);

    // The writer overtook the reader: the last frame's header and body
    // were copied whole, its payload before it was written (zeros, which
    // make the frame look torn) or while it was (other bytes).
    let (copied, bytes) = copy_as_seen(&scratch.path, |bytes| {
        let at = find(bytes, b"point 4 of the debate");
        bytes[at - 16..at + 21].fill(0);
    });
    assert_eq!(copied.unwrap().n_events, 5);
    assert_eq!(bytes, live[..end], "the torn frame was read again from the live journal");
    let (copied, bytes) = copy_as_seen(&scratch.path, |bytes| {
        let at = find(bytes, b"point 4 of the debate");
        bytes[at + 3] ^= 0x20;
    });
    assert_eq!(copied.unwrap().n_payloads_reread, 1);
    assert_eq!(bytes, live[..end], "the payload was read again from the live journal");

    // The last frame was being written: only its first 30 bytes were seen.
    // It is read again from the live journal, where it is whole by now.
    let (copied, bytes) = copy_as_seen(&scratch.path, |bytes| bytes[frames[4].0 + 30..].fill(0));
    assert_eq!(copied.unwrap().n_events, 5);
    assert_eq!(bytes, live[..end]);

    // A frame was seen half written, and the frames after it whole.
    let (copied, bytes) =
        copy_as_seen(&scratch.path, |bytes| bytes[(frames[2].0 + frames[2].1) / 2..frames[2].1].fill(0));
    let copied = copied.unwrap();
    assert_eq!((copied.n_frames, copied.n_events), (2, 2));
    assert_eq!(bytes, live[..frames[2].0]);
}

#[test]
fn a_copy_of_a_damaged_journal_is_refused_and_the_journal_left_as_found() {
    let (scratch, live, frames) = five_frames();
    let journal = scratch.path.join("journal");

    // A changed payload matches its hash neither in the copy nor in the
    // live journal, and no redaction explains it.
    let mut damaged = live.clone();
    damaged[find(&live, b"point 1 of the debate")] = b'P';
    std::fs::write(&journal, &damaged).unwrap();
    let source = directory_bytes(&scratch.path);
    let (copied, _) = copy_as_seen(&scratch.path, |_| {});
    let error = copied.unwrap_err().to_string();
    assert!(error.contains("event 1's payload at offset"), "{error}");
    assert!(error.contains("does not match its salted hash"), "{error}");
    assert_eq!(directory_bytes(&scratch.path), source, "the refused copy changed the data directory");

    // A frame that fails its checksum in the live journal too, for longer
    // than a frame takes to write, is damage, not a frame in flight.
    let mut damaged = live.clone();
    damaged[frames[2].1 - 3] ^= 0x01;
    std::fs::write(&journal, &damaged).unwrap();
    let source = directory_bytes(&scratch.path);
    let (copied, _) = copy_as_seen(&scratch.path, |_| {});
    let error = copied.unwrap_err().to_string();
    assert!(
        error.contains(&format!("is damaged at offset {}, where the frame of event 2 starts", frames[2].0)),
        "{error}"
    );
    assert_eq!(directory_bytes(&scratch.path), source, "the refused copy changed the data directory");
    let (code, _, stderr) = backup(&scratch.path, &scratch.path.with_file_name("refused"));
    assert_eq!(code, 2);
    assert!(stderr.contains("is damaged at offset"), "{stderr}");
    assert!(!scratch.path.with_file_name("refused").exists());
    assert!(!scratch.path.with_file_name("refused.partial").exists());
    assert_eq!(directory_bytes(&scratch.path), source, "the refused backup changed the data directory");
}

/// Appends a redaction of event 1's payload, with the event recording it.
fn redact_event_1(log: &Log) {
    let redaction = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Any)
        .event(event("meeting/M-1", b"payload.redacted"))
        .redact(Seq(1), "personal data: UK GDPR Art. 17, minute 412");
    log.append(redaction).unwrap();
}

#[test]
fn a_payload_redacted_before_the_copy_ends_is_not_in_the_copy() {
    let scratch = Scratch::new();
    let log = scratch.open();
    for n in 0..3 {
        log.append(one(event("meeting/M-1", format!("point {n}: Cllr Smith's address").as_bytes()))).unwrap();
    }
    let before = std::fs::read(scratch.path.join("journal")).unwrap();
    redact_event_1(&log);
    drop(log);
    let live = std::fs::read(scratch.path.join("journal")).unwrap();
    let at = find(&before, b"point 1: Cllr Smith's address");
    assert!(live[at - 16..at + 29].iter().all(|byte| *byte == 0), "the log zeroed the payload");
    let end = frame_extents(&live).last().unwrap().1;

    // The copy read the payload before the log zeroed it.
    let (copied, bytes) =
        copy_as_seen(&scratch.path, |bytes| bytes[at - 16..at + 29].copy_from_slice(&before[at - 16..at + 29]));
    let copied = copied.unwrap();
    assert_eq!((copied.n_events, copied.n_payloads_zeroed), (4, 1));
    assert_eq!(bytes, live[..end], "the redacted payload is zeroed in the copy");
}

/// Runs `minutebook backup --incremental`.
fn backup_incremental(data: &Path, out: &Path) -> (i32, String, String) {
    run_cli(&["backup", "--incremental", "--data", path_arg(data), "--out", path_arg(out)])
}

#[test]
fn an_incremental_backup_adds_what_was_appended_since_and_refuses_another_log() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let mut acknowledged = Vec::new();
    let append = |log: &Log, acknowledged: &mut Vec<(Seq, EventId)>, text: &str| {
        let new = event("meeting/M-1", text.as_bytes());
        let event_id = new.event_id;
        acknowledged.push((log.append(one(new)).unwrap().events[0].seq, event_id));
    };
    for n in 0..3 {
        append(&log, &mut acknowledged, &format!("point {n}: Cllr Smith's address"));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup");
    // The first --incremental makes a whole backup.
    let (code, stdout, stderr) = backup_incremental(&scratch.path, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let first = std::fs::read(out.join("journal")).unwrap();

    for n in 3..6 {
        append(&log, &mut acknowledged, &format!("point {n} of the debate"));
    }
    redact_event_1(&log);
    drop(log);
    let (code, stdout, stderr) = backup_incremental(&scratch.path, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("added 4 events to the backup"), "{stdout}");
    check_backup_holds(&out, &acknowledged);
    let live = std::fs::read(scratch.path.join("journal")).unwrap();
    let extended = std::fs::read(out.join("journal")).unwrap();
    assert_eq!(extended, live[..frame_extents(&live).last().unwrap().1], "the backup's journal is the live one's");
    let at = find(&first, b"point 1: Cllr Smith's address");
    assert!(extended[at - 16..at + 29].iter().all(|byte| *byte == 0), "the redacted payload is zeroed in the backup");
    assert_eq!(extended[..at - 16], first[..at - 16], "the backup's bytes before it were kept");

    let (code, stdout, stderr) = backup_incremental(&scratch.path, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("added 0 events to the backup"), "{stdout}");
    assert_eq!(std::fs::read(out.join("journal")).unwrap(), extended);
    assert!(!out.join(minutebook_log::backup::JOURNAL_ADDED_FILE).exists());

    // An update that stopped half way, writing the frames it added after
    // the backup's last, left only part of the last one: the backup still
    // verifies, and the next update cuts that part and carries on.
    let log = scratch.open();
    for n in 6..8 {
        append(&log, &mut acknowledged, &format!("point {n} of the debate"));
    }
    drop(log);
    let live = std::fs::read(scratch.path.join("journal")).unwrap();
    let (last_start, last_end) = *frame_extents(&live).last().unwrap();
    let mut interrupted = live[..(last_start + last_end) / 2].to_vec();
    interrupted.resize(last_end, 0);
    std::fs::write(out.join("journal"), &interrupted).unwrap();
    let (code, stdout, stderr) = run_cli(&["verify", "--log-only", path_arg(&out)]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("torn write"), "{stdout}");
    let (code, stdout, stderr) = backup_incremental(&scratch.path, &out);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("added 1 events to the backup"), "{stdout}");
    check_backup_holds(&out, &acknowledged);
    let extended = std::fs::read(out.join("journal")).unwrap();
    assert_eq!(extended, live[..last_end]);

    // Refused: a backup of another log.
    let other = Scratch::new();
    other.open().append(one(event("meeting/M-9", b"another council's point"))).unwrap();
    let source = directory_bytes(&scratch.path);
    let backup_bytes = directory_bytes(&out);
    let (code, _, stderr) = backup_incremental(&other.path, &out);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds another log's key: it is no backup of this log"), "{stderr}");
    assert_eq!(directory_bytes(&out), backup_bytes, "the refused update changed the backup");

    // Refused: a backup whose journal is not the live one's beginning, or
    // is damaged.
    for (offset, message) in [
        (find(&extended, b"point 0"), "the backup's journal is not a prefix of"),
        (at + 40, "is damaged at offset 608, where the frame of event 1 starts"),
    ] {
        let mut tampered = extended.clone();
        tampered[offset] ^= 0x01;
        std::fs::write(out.join("journal"), &tampered).unwrap();
        let backup_bytes = directory_bytes(&out);
        let (code, _, stderr) = backup_incremental(&scratch.path, &out);
        assert_eq!(code, 2);
        assert!(stderr.contains(message), "{stderr}");
        assert_eq!(directory_bytes(&out), backup_bytes, "the refused update changed the backup");
    }
    assert_eq!(directory_bytes(&scratch.path), source, "the refused updates changed the data directory");
}
