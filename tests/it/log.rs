//! The log's behaviour through its public API: appends, conflicts,
//! idempotency, limits, reads, subscriptions, redaction and the data
//! directory. Every refusal also checks that the log did not change.

use std::time::Duration;

use minutebook_log::limits::{BATCH_EVENTS_MAX, EVENT_PAYLOAD_BYTES_MAX, STREAM_BYTES_MAX};
use minutebook_log::{
    AppendBatch, Envelope, ErrorCategory, EventHash, EventId, ExpectedVersion, Log, Payload, Seq, StreamVersion,
};

use crate::support::{assert_verifies, directory_bytes, event, one, payload, snapshot, Scratch};

/// Runs `batch` against a log that holds `setup`, expects a refusal of
/// `category` whose message contains `message`, and checks that nothing
/// changed.
fn check_refused(log: &Log, batch: AppendBatch, category: ErrorCategory, message: &str) {
    let before = snapshot(log);
    let error = log.append(batch).expect_err("the append should be refused");
    assert_eq!(error.category(), category, "{error}");
    assert!(error.to_string().contains(message), "{error:?} does not say {message:?}");
    assert_eq!(snapshot(log), before, "a refused append changed the log");
}

#[test]
fn appends_chain_hashes_and_number_streams() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let first = log.append(one(event("meeting/M-1", b"apologies"))).unwrap();
    let second = log
        .append(
            AppendBatch::new()
                .expect("meeting/M-1", ExpectedVersion::Exactly(StreamVersion(1)))
                .expect("body/B-1", ExpectedVersion::Exactly(StreamVersion(0)))
                .event(event("meeting/M-1", b"item taken"))
                .event(event("body/B-1", b"member appointed")),
        )
        .unwrap();
    assert_eq!(first.events[0].seq, Seq(0));
    assert_eq!(second.events.iter().map(|a| (a.seq.0, a.stream_version.0)).collect::<Vec<_>>(), [(1, 2), (2, 1)]);
    assert_eq!(second.tree_size, 3);
    let events = log.read(Seq(0), 10).unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(events[0].envelope.prev_hash(), EventHash::ZERO);
    for pair in events.windows(2) {
        assert_eq!(pair[1].envelope.prev_hash(), pair[0].hash);
    }
    for event in &events {
        assert_eq!(event.hash, Envelope::hash(&event.envelope_bytes));
    }
    assert_eq!(payload(&events[2]), b"member appointed");
    assert_eq!(log.stream_version("meeting/M-1").unwrap(), StreamVersion(2));
    assert_eq!(log.stream_version("meeting/none").unwrap(), StreamVersion(0));
    let stream = log.read_stream("meeting/M-1", StreamVersion(1), 10).unwrap();
    assert_eq!(stream.iter().map(|e| e.envelope.seq().0).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(log.latest_checkpoint().unwrap().checkpoint.tree_size, 3);
    assert_verifies(&log);
}

#[test]
fn a_moved_stream_is_a_conflict_naming_it_and_both_versions() {
    let scratch = Scratch::new();
    let log = scratch.open();
    log.append(one(event("meeting/M-1", b"opened"))).unwrap();
    log.append(one(event("meeting/M-2", b"opened"))).unwrap();
    // The second stream has moved: the whole batch is refused, the first
    // stream's event included.
    let batch = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Exactly(StreamVersion(1)))
        .expect("meeting/M-2", ExpectedVersion::Exactly(StreamVersion(0)))
        .event(event("meeting/M-1", b"confirmation"))
        .event(event("meeting/M-2", b"confirmed"));
    let before = snapshot(&log);
    let error = log.append(batch).unwrap_err();
    let conflict = error.conflict().expect("a conflict");
    assert_eq!((conflict.stream.as_str(), conflict.expected.0, conflict.actual.0), ("meeting/M-2", 0, 1));
    assert_eq!(error.to_string(), "stream meeting/M-2 is at version 1, but the append expected version 0");
    assert_eq!(snapshot(&log), before);
}

#[test]
fn malformed_and_oversized_appends_are_refused() {
    let scratch = Scratch::new();
    let log = scratch.open();
    log.append(one(event("meeting/M-1", b"opened"))).unwrap();
    let cases: Vec<(AppendBatch, &str)> = vec![
        (
            one(event("meeting/M-1", &vec![7; EVENT_PAYLOAD_BYTES_MAX + 1])),
            "payload of 65537 bytes exceeds the limit of 65536",
        ),
        (one(event(&"s".repeat(STREAM_BYTES_MAX + 1), b"x")), "stream of 129 bytes exceeds the limit of 128"),
        (one(event("", b"x")), "stream is empty"),
        (one(event("meeting/\nM-1", b"x")), "contains the control character"),
        (AppendBatch::new().event(event("meeting/M-1", b"x")), "without an expected version"),
        (AppendBatch::new(), "the batch has no events"),
        (
            (0..=BATCH_EVENTS_MAX)
                .fold(AppendBatch::new().expect("m", ExpectedVersion::Any), |b, _| b.event(event("m", b"x"))),
            "batch of 1001 events exceeds the limit of 1000",
        ),
        (
            AppendBatch::new()
                .expect("m", ExpectedVersion::Any)
                .expect("m", ExpectedVersion::Any)
                .event(event("m", b"x")),
            "expected version for stream m twice",
        ),
    ];
    for (batch, message) in cases {
        check_refused(&log, batch, ErrorCategory::Invalid, message);
    }
    let mut twice = event("m", b"x");
    twice.event_id = EventId([1; 16]);
    let batch = AppendBatch::new().expect("m", ExpectedVersion::Any).event(twice.clone()).event(twice);
    check_refused(&log, batch, ErrorCategory::Invalid, "appears twice in the batch");
    assert_verifies(&log);
}

#[test]
fn a_retried_append_returns_its_original_position_and_writes_nothing() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let original = event("meeting/M-1", b"declaration of interest");
    let first = log.append(one(original.clone())).unwrap();
    // Retried at once, while the writer still holds the original's group
    // as the one the store may not show yet.
    let at_once = log.append(one(original.clone())).unwrap();
    assert!(at_once.replayed);
    assert_eq!(at_once.events, first.events);
    log.append(one(event("meeting/M-1", b"another"))).unwrap();
    let before = snapshot(&log);
    // The stream has moved since, but a retry is recognised by its id.
    let retry = log
        .append(
            AppendBatch::new()
                .expect("meeting/M-1", ExpectedVersion::Exactly(StreamVersion(0)))
                .event(original.clone()),
        )
        .unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.events, first.events);
    assert_eq!(snapshot(&log), before);

    let mut changed = original.clone();
    changed.payload = b"a different declaration".to_vec();
    check_refused(&log, one(changed), ErrorCategory::IdempotencyMismatch, "with a different payload");
    let mut moved = original.clone();
    moved.stream = "meeting/M-2".into();
    check_refused(&log, one(moved), ErrorCategory::IdempotencyMismatch, "with a different stream");
    let mut retyped = original.clone();
    retyped.event_type = "test.other".into();
    check_refused(&log, one(retyped), ErrorCategory::IdempotencyMismatch, "with a different event type");
    let mixed = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Any)
        .event(original)
        .event(event("meeting/M-1", b"new"));
    check_refused(&log, mixed, ErrorCategory::Invalid, "a retried batch must be identical");
}

#[test]
fn idempotency_survives_a_reopen() {
    let scratch = Scratch::new();
    let original = event("meeting/M-1", b"minute 394");
    let first = scratch.open().append(one(original.clone())).unwrap();
    let log = scratch.open();
    let retry = log.append(one(original)).unwrap();
    assert!(retry.replayed);
    assert_eq!(retry.events, first.events);
    assert_eq!(log.len(), 1);
}

#[test]
fn concurrent_appenders_share_group_commits() {
    let scratch = Scratch::new();
    let log = std::sync::Arc::new(scratch.open());
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let log = log.clone();
            std::thread::spawn(move || {
                for n in 0..50 {
                    log.append(one(event(&format!("meeting/M-{thread}"), format!("point {n}").as_bytes()))).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(log.len(), 400);
    for thread in 0..8 {
        assert_eq!(log.stream_version(&format!("meeting/M-{thread}")).unwrap(), StreamVersion(50));
    }
    let n_checkpoints = log.checkpoints(0, u64::MAX, 10_000).unwrap().len();
    assert!(n_checkpoints <= 401, "one checkpoint per group commit at most");
    assert_verifies(&log);
}

#[test]
fn a_subscription_yields_each_durable_event_once_in_order() {
    let scratch = Scratch::new();
    let log = scratch.open();
    log.append(one(event("m", b"before"))).unwrap();
    let mut subscription = log.subscribe(Seq(0));
    let first = subscription.next_timeout(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(payload(&first), b"before");
    assert_eq!(subscription.next_timeout(Duration::from_millis(20)).unwrap(), None);
    let reader = log.reader();
    let waiter = std::thread::spawn(move || {
        let mut subscription = reader.subscribe(Seq(1));
        let event = subscription.next_timeout(Duration::from_secs(10)).unwrap().unwrap();
        payload(&event).to_vec()
    });
    std::thread::sleep(Duration::from_millis(50));
    log.append(one(event("m", b"after"))).unwrap();
    assert_eq!(waiter.join().unwrap(), b"after");
    let second = subscription.next_timeout(Duration::from_secs(5)).unwrap().unwrap();
    assert_eq!(second.envelope.seq(), Seq(1));
    assert_eq!(subscription.position(), Seq(2));
}

#[test]
fn redaction_removes_the_payload_from_disk_and_everything_still_verifies() {
    let scratch = Scratch::new();
    let secret = b"home address: 17 Invented Lane, Riverside";
    {
        let log = scratch.open();
        log.append(one(event("meeting/M-1", b"opened"))).unwrap();
        log.append(one(event("meeting/M-1", secret))).unwrap();
        log.append(one(event("meeting/M-1", b"closed"))).unwrap();
        let hash_before = log.event(Seq(1)).unwrap().unwrap().hash;
        let root_before = log.root(3).unwrap();
        log.append(
            AppendBatch::new()
                .expect("meeting/M-1", ExpectedVersion::Any)
                .event(event("meeting/M-1", b"redacted event 1 under GDPR Art. 17"))
                .redact(Seq(1), "personal data: UK GDPR Art. 17, authorised by minute 412"),
        )
        .unwrap();
        let redacted = log.event(Seq(1)).unwrap().unwrap();
        assert_eq!(
            redacted.payload,
            Payload::Redacted { notice: "personal data: UK GDPR Art. 17, authorised by minute 412".into() }
        );
        assert_eq!(redacted.hash, hash_before);
        assert_eq!(log.root(3).unwrap(), root_before);
        assert_verifies(&log);
        let before = snapshot(&log);
        check_refused(
            &log,
            AppendBatch::new().expect("m", ExpectedVersion::Any).event(event("m", b"x")).redact(Seq(1), "again"),
            ErrorCategory::Invalid,
            "already redacted",
        );
        check_refused(&log, AppendBatch::new().redact(Seq(99), "x"), ErrorCategory::Invalid, "cannot redact event 99");
        assert_eq!(snapshot(&log), before);
    }
    for (path, bytes) in directory_bytes(&scratch.path) {
        assert!(
            !bytes.windows(secret.len()).any(|window| window == secret),
            "{} still holds the payload",
            path.display()
        );
    }
    let log = scratch.open();
    assert!(matches!(log.event(Seq(1)).unwrap().unwrap().payload, Payload::Redacted { .. }));
    assert_verifies(&log);
}

#[test]
fn maximum_size_events_never_make_sled_write_blobs() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let longest = |what: &str, n: usize| format!("{what}{}", "x".repeat(n - what.len()));
    for round in 0..6 {
        let mut batch = AppendBatch::new();
        for n in 0..40 {
            let mut e = event(
                &longest(&format!("meeting/{round}-{n}-"), STREAM_BYTES_MAX),
                &vec![round as u8; EVENT_PAYLOAD_BYTES_MAX],
            );
            e.event_type = longest("t", minutebook_log::limits::EVENT_TYPE_BYTES_MAX);
            e.actor = longest("a", minutebook_log::limits::ACTOR_BYTES_MAX);
            e.role = longest("r", minutebook_log::limits::ROLE_BYTES_MAX);
            batch = batch.expect(e.stream.clone(), ExpectedVersion::Any).event(e);
        }
        log.append(batch).unwrap();
    }
    drop(log);
    let blobs = scratch.path.join("sled").join("blobs");
    let n_blobs = std::fs::read_dir(&blobs).map(|dir| dir.count()).unwrap_or(0);
    assert_eq!(n_blobs, 0, "sled wrote blob files under {}", blobs.display());
    assert_verifies(&scratch.open());
}

#[test]
fn a_newer_data_directory_is_refused_and_left_alone() {
    let scratch = Scratch::new();
    scratch.open().append(one(event("m", b"x"))).unwrap();
    std::fs::write(scratch.path.join("FORMAT"), "minutebook data directory format 2\n").unwrap();
    let before = directory_bytes(&scratch.path);
    let error = Log::open(&scratch.path).err().expect("a newer format is refused");
    assert_eq!(error.category(), ErrorCategory::DataDirectory);
    assert!(error.to_string().contains("has format version 2, newer than version 1"), "{error}");
    assert_eq!(directory_bytes(&scratch.path), before);
}

#[test]
fn a_directory_without_a_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = Log::open(dir.path()).err().unwrap();
    assert!(error.to_string().contains("is not a minutebook data directory"), "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "opening wrote into the directory");
    let scratch = Scratch::new();
    let error = Log::init(&scratch.path, "other").unwrap_err();
    assert!(error.to_string().contains("is already initialised"), "{error}");
}

#[test]
fn a_second_opener_is_told_the_directory_is_in_use() {
    let scratch = Scratch::new();
    let _log = scratch.open();
    let error = Log::open(&scratch.path).err().expect("the directory is locked");
    assert_eq!(error.category(), ErrorCategory::DataDirectory);
    assert!(error.to_string().contains("is in use by another minutebook process"), "{error}");
    assert!(error.to_string().contains(&std::process::id().to_string()), "{error}");
}

#[test]
fn envelopes_with_trailing_bytes_or_unknown_versions_are_rejected() {
    let scratch = Scratch::new();
    let log = scratch.open();
    log.append(one(event("m", b"x"))).unwrap();
    let bytes = log.event(Seq(0)).unwrap().unwrap().envelope_bytes;
    assert!(Envelope::from_bytes(&bytes).is_ok());
    let mut trailing = bytes.clone();
    trailing.push(0);
    let error = Envelope::from_bytes(&trailing).unwrap_err();
    assert_eq!(
        error.to_string(),
        format!("envelope of {} bytes has 1 trailing bytes after its last field", trailing.len())
    );
    let mut newer = bytes.clone();
    newer[0] = 2;
    assert!(Envelope::from_bytes(&newer).unwrap_err().to_string().contains("envelope format version 2"));
    assert!(Envelope::from_bytes(&bytes[..bytes.len() - 1]).is_err());
}

mod tampering {
    //! `minutebook verify` names the first inconsistency: where, what was
    //! expected and what was found, and changes nothing. Damage to the
    //! store (a cache) is told apart from damage to the journal (the
    //! record), and opening rebuilds a damaged store from the journal.

    use minutebook_log::store::{SledStore, Store, WriteBatch};
    use minutebook_log::{ErrorCategory, Log, LogReader, Problem};

    use crate::support::{assert_verifies, directory_bytes, event, one, Scratch};

    fn event_key(seq: u64) -> Vec<u8> {
        let mut key = vec![b'e'];
        key.extend_from_slice(&seq.to_be_bytes());
        key
    }

    /// What verify found: in the log as the journal holds it, and in the
    /// store compared with the journal.
    struct Found {
        log: Option<Problem>,
        store: Option<Problem>,
        scratch: Scratch,
    }

    /// A log of five events, tampered with by `tamper` while closed, then
    /// inspected read-only and verified; the directory must be unchanged.
    fn check(tamper: impl FnOnce(&std::path::Path, &SledStore)) -> Found {
        let scratch = Scratch::new();
        {
            let log = scratch.open();
            for n in 0..5 {
                log.append(one(event("meeting/M-1", format!("point number {n}").as_bytes()))).unwrap();
            }
        }
        {
            let store = SledStore::open(&scratch.path).unwrap();
            tamper(&scratch.path, &store);
            store.make_durable().unwrap();
        }
        let before = directory_bytes(&scratch.path);
        let inspected = LogReader::inspect(&scratch.path).unwrap();
        let log = inspected.journal.problem.clone().or(inspected.reader.verify(&mut |_, _| {}).unwrap().problem);
        let store = inspected.store.problem.clone();
        drop(inspected);
        assert!(directory_bytes(&scratch.path) == before, "verify changed the data directory");
        Found { log, store, scratch }
    }

    /// Opening rebuilds the damaged store from the journal, and then the
    /// log verifies.
    fn assert_heals(found: Found) {
        let log = Log::open(&found.scratch.path).unwrap();
        assert!(log.opened().store_rebuilt, "the store was rebuilt");
        assert_verifies(&log);
        drop(log);
        let inspected = LogReader::inspect(&found.scratch.path).unwrap();
        assert_eq!(inspected.store.problem, None);
    }

    fn put(store: &SledStore, key: Vec<u8>, value: Vec<u8>) {
        let mut batch = WriteBatch::default();
        batch.put(key, value);
        store.apply(&batch).unwrap();
    }

    /// Changes one letter of the actor in event `seq`'s stored envelope.
    fn change_actor(store: &SledStore, seq: u64) {
        let mut record = store.get(&event_key(seq)).unwrap().unwrap();
        let at = record.windows(18).position(|w| w == b"officer:test-clerk").unwrap();
        record[at] = b'O';
        put(store, event_key(seq), record);
    }

    /// Splits a record into its envelope and the bytes after it.
    fn split_record(record: &[u8]) -> (usize, usize) {
        let (mut len, mut shift, mut at) = (0usize, 0, 0);
        loop {
            let byte = record[at];
            len |= usize::from(byte & 0x7f) << shift;
            at += 1;
            shift += 7;
            if byte & 0x80 == 0 {
                return (at, len);
            }
        }
    }

    #[test]
    fn a_changed_payload_fails_its_salted_hash_and_is_never_served() {
        let found = check(|path, _| {
            let journal = path.join("journal");
            let mut bytes = std::fs::read(&journal).unwrap();
            let at = bytes.windows(14).position(|w| w == b"point number 2").unwrap();
            bytes[at + 13] = b'7';
            std::fs::write(&journal, bytes).unwrap();
        });
        let problem = found.log.unwrap();
        assert_eq!(problem.seq.map(|s| s.0), Some(2));
        assert_eq!(problem.what, "salted payload hash");
        // Opening checks the newest events as a reader would see them: the
        // altered payload is refused, naming the event, and the journal is
        // left as it was.
        let journal = std::fs::read(found.scratch.path.join("journal")).unwrap();
        let error = Log::open(&found.scratch.path).err().expect("a damaged payload is refused");
        assert_eq!(error.category(), ErrorCategory::Corrupt);
        assert!(error.to_string().contains("event 2: its payload"), "{error}");
        assert!(std::fs::read(found.scratch.path.join("journal")).unwrap() == journal);
    }

    #[test]
    fn a_changed_envelope_in_the_store_is_named_and_rebuilt() {
        let found = check(|_, store| change_actor(store, 1));
        assert_eq!(found.log, None, "the journal is intact");
        assert_eq!(found.store.as_ref().unwrap().what, "the store's record of event 1");
        assert_heals(found);
    }

    #[test]
    fn a_changed_last_envelope_in_the_store_is_named_and_rebuilt() {
        let found = check(|_, store| change_actor(store, 4));
        assert_eq!(found.store.as_ref().unwrap().what, "the store's record of event 4");
        assert_heals(found);
    }

    #[test]
    fn trailing_bytes_after_an_envelope_in_the_store_are_named() {
        let found = check(|_, store| {
            let record = store.get(&event_key(3)).unwrap().unwrap();
            let (start, len) = split_record(&record);
            assert!(len < 0x3fff && start == 2, "the test assumes a two-byte length");
            let longer = len + 1;
            let mut tampered = vec![(longer as u8 & 0x7f) | 0x80, (longer >> 7) as u8];
            tampered.extend_from_slice(&record[start..start + len]);
            tampered.push(0);
            tampered.extend_from_slice(&record[start + len..]);
            put(store, event_key(3), tampered);
        });
        assert_eq!(found.store.as_ref().unwrap().what, "the store's record of event 3");
        assert_heals(found);
    }

    #[test]
    fn a_missing_event_in_the_store_is_named() {
        let found = check(|_, store| {
            let mut batch = WriteBatch::default();
            batch.delete(event_key(2));
            store.apply(&batch).unwrap();
        });
        let problem = found.store.as_ref().unwrap();
        assert_eq!((problem.what.as_str(), problem.found.as_str()), ("the store's records", "4"));
        assert_heals(found);
    }

    #[test]
    fn a_forged_checkpoint_signature_in_the_store_is_named() {
        let found = check(|_, store| {
            let mut key = vec![b'c'];
            key.extend_from_slice(&3u64.to_be_bytes());
            let note = String::from_utf8(store.get(&key).unwrap().unwrap()).unwrap();
            // A character in the middle of the base64 signature.
            let mut chars: Vec<char> = note.chars().collect();
            let middle = chars.len() - 30;
            chars[middle] = if chars[middle] == 'A' { 'B' } else { 'A' };
            put(store, key, chars.into_iter().collect::<String>().into_bytes());
        });
        assert_eq!(found.store.as_ref().unwrap().what, "the store's checkpoint of tree size 3");
    }

    #[test]
    fn a_deleted_store_is_rebuilt_from_the_journal() {
        let found = check(|path, _| {
            // The store is open here: take it away under sled's feet, as an
            // operator deleting sled/ while nothing runs would.
            std::fs::remove_dir_all(path.join("sled")).unwrap();
        });
        assert_eq!((found.log.clone(), found.store.clone()), (None, None));
        assert_heals(found);
    }

    #[test]
    fn an_untouched_log_verifies() {
        let found = check(|_, _| {});
        assert_eq!((found.log, found.store), (None, None));
    }

    #[test]
    fn the_pass_over_a_live_store_names_a_changed_old_record() {
        // Opening checks only the newest events; an older record changed
        // in the store of a running log is for verify's pass to find.
        let scratch = Scratch::new();
        {
            let log = scratch.open();
            for _ in 0..2 {
                let mut batch =
                    minutebook_log::AppendBatch::new().expect("meeting/M-1", minutebook_log::ExpectedVersion::Any);
                for n in 0..600 {
                    batch = batch.event(event("meeting/M-1", format!("point number {n}").as_bytes()));
                }
                log.append(batch).unwrap();
            }
        }
        {
            let store = SledStore::open(&scratch.path).unwrap();
            change_actor(&store, 1);
            store.make_durable().unwrap();
        }
        let log = Log::open(&scratch.path).unwrap();
        assert!(!log.opened().store_rebuilt);
        let problem = log.verify(&mut |_, _| {}).unwrap().problem.unwrap();
        // The next event's link names the change first.
        assert_eq!((problem.seq.map(|s| s.0), problem.what.as_str()), (Some(2), "previous event hash"));
        drop(log);

        // verify tells the store from the journal, and names the repair.
        let data = scratch.path.to_str().unwrap();
        let (code, stdout, stderr) = crate::support::run_cli(&["verify", "--data", data]);
        assert_eq!(code, 1, "{stdout}");
        assert!(stderr.contains("the journal is intact") && stderr.contains("minutebook rebuild --store"), "{stderr}");
        // The repair moves the store aside (kept) and rebuilds it.
        let (code, _, stderr) = crate::support::run_cli(&["rebuild", "--store", "--data", data]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stderr.contains("rebuilt from the journal"), "{stderr}");
        let kept = std::fs::read_dir(&scratch.path)
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().starts_with("sled.replaced-"))
            .count();
        assert_eq!(kept, 1);
        let (code, stdout, stderr) = crate::support::run_cli(&["verify", "--data", data]);
        assert_eq!(code, 0, "{stdout}{stderr}");
    }
}

#[test]
fn the_latest_event_can_be_redacted_once_its_append_returns() {
    let scratch = Scratch::new();
    let log = scratch.open();
    log.append(one(event("meeting/M-1", b"opened"))).unwrap();
    log.append(one(event("meeting/M-1", b"a name said in private"))).unwrap();
    let redaction = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Any)
        .event(event("meeting/M-1", b"redaction recorded"))
        .redact(Seq(1), "exempt: Sch 12A para 1");
    log.append(redaction).unwrap();
    assert!(matches!(log.event(Seq(1)).unwrap().unwrap().payload, Payload::Redacted { .. }));
    assert_verifies(&log);
}

#[test]
fn too_many_redactions_in_one_batch_are_refused() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let mut batch = AppendBatch::new().expect("m", ExpectedVersion::Any);
    for n in 0..101 {
        batch = batch.event(event("m", b"x")).redact(Seq(n), "basis");
    }
    check_refused(&log, batch, ErrorCategory::Invalid, "batch of 101 redactions exceeds the limit of 100");
}

#[test]
fn concurrent_redactions_of_one_event_are_refused_but_one() {
    let scratch = Scratch::new();
    let log = std::sync::Arc::new(scratch.open());
    for n in 0..20 {
        log.append(one(event("meeting/M-1", format!("a private detail {n}").as_bytes()))).unwrap();
    }
    // Many requests redacting the same events at once, so that groups
    // which only redact follow one another while the store lags.
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let log = log.clone();
            std::thread::spawn(move || {
                (0..20u64)
                    .filter(|seq| {
                        let notice = format!("basis from thread {thread}");
                        log.append(AppendBatch::new().redact(Seq(*seq), notice)).is_ok()
                    })
                    .count()
            })
        })
        .collect();
    let redacted: usize = threads.into_iter().map(|thread| thread.join().unwrap()).sum();
    assert_eq!(redacted, 20, "each event is redacted exactly once");
    for seq in 0..20 {
        assert!(matches!(log.event(Seq(seq)).unwrap().unwrap().payload, Payload::Redacted { .. }));
    }
    assert_verifies(&log);
}

/// The real store, slow to sync the journal and to apply each batch, so
/// that appends queue behind a group and the writer stages the next group
/// while the applier still applies the one before. It can also say the
/// disk is full when the journal is next grown but one.
struct SlowApplyStore(minutebook_log::store::SledStore, std::sync::Arc<std::sync::atomic::AtomicUsize>);

/// A countdown of journal reservations: 0 never fails, n > 0 fails the
/// nth reservation from now.
fn reservations() -> std::sync::Arc<std::sync::atomic::AtomicUsize> {
    std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0))
}

impl minutebook_log::store::Store for SlowApplyStore {
    fn get(&self, key: &[u8]) -> std::io::Result<Option<Vec<u8>>> {
        self.0.get(key)
    }
    fn scan(&self, from: &[u8], to: &[u8]) -> minutebook_log::store::ScanIter<'_> {
        self.0.scan(from, to)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> std::io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.0.last_in(from, to)
    }
    fn apply(&self, batch: &minutebook_log::store::WriteBatch) -> std::io::Result<()> {
        std::thread::sleep(Duration::from_millis(100));
        self.0.apply(batch)
    }
    fn make_durable(&self) -> std::io::Result<()> {
        self.0.make_durable()
    }
    fn reserve_journal(&self, end: u64) -> std::io::Result<()> {
        use std::sync::atomic::Ordering::SeqCst;
        let countdown = self.1.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).unwrap_or(0);
        if countdown == 1 {
            return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device"));
        }
        self.0.reserve_journal(end)
    }
    fn write_journal(&self, offset: u64, bytes: &[u8]) -> std::io::Result<()> {
        self.0.write_journal(offset, bytes)
    }
    fn sync_journal(&self) -> std::io::Result<()> {
        std::thread::sleep(Duration::from_millis(300));
        self.0.sync_journal()
    }
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        self.0.read_journal(offset, buffer)
    }
    fn journal_len(&self) -> std::io::Result<u64> {
        self.0.journal_len()
    }
}

#[test]
fn a_stream_appended_to_just_before_the_writer_forgets_its_tails_keeps_its_version() {
    // The writer keeps the tails of at most so many streams, then loads
    // them again from the store; the group before may not be in the store
    // yet (its apply is slow here), and a tail loaded from it then would
    // miss that group's events: a false conflict, a version given twice.
    let scratch = Scratch::new();
    let log = Log::open_with(&scratch.path, |store| Box::new(SlowApplyStore(store, reservations()))).unwrap();
    let new_streams = |from: usize, n: usize| {
        (from..from + n).fold(AppendBatch::new(), |batch, i| {
            let stream = format!("s{i}");
            batch.expect(stream.clone(), ExpectedVersion::Exactly(StreamVersion(0))).event(event(&stream, b"x"))
        })
    };
    let mut made = 0;
    while made < 4_000 {
        log.append(new_streams(made, BATCH_EVENTS_MAX)).unwrap();
        made += BATCH_EVENTS_MAX;
    }
    let batch = new_streams(made, 100).expect("x", ExpectedVersion::Exactly(StreamVersion(0)));
    // The next append waits while that group syncs, so the writer hands
    // the group to the applier and stages the next at once; with more
    // than 4,096 tails by then, it starts with none.
    let outcome = std::thread::scope(|scope| {
        let next = scope.spawn(|| {
            // After the group before is applied (100 ms), while this one syncs (300 ms).
            std::thread::sleep(Duration::from_millis(250));
            let next =
                AppendBatch::new().expect("x", ExpectedVersion::Exactly(StreamVersion(1))).event(event("x", b"second"));
            log.append(next)
        });
        log.append(batch.event(event("x", b"first"))).unwrap();
        next.join().unwrap().unwrap()
    });
    assert_eq!(outcome.events[0].stream_version, StreamVersion(2));
    let x = log.read_stream("x", StreamVersion(1), 10).unwrap();
    assert_eq!(x.iter().map(|e| e.envelope.stream_version().0).collect::<Vec<_>>(), vec![1, 2]);
    assert_verifies(&log);
}

#[test]
fn a_redaction_is_read_as_soon_as_it_returns_though_the_store_lags() {
    // A group that only redacts adds no event, so waiting for the count of
    // events to catch up would not wait for it: the reader must wait for
    // the redaction's frame to be applied.
    let scratch = Scratch::new();
    let log = Log::open_with(&scratch.path, |store| Box::new(SlowApplyStore(store, reservations()))).unwrap();
    log.append(one(event("meeting/M-1", b"a private detail"))).unwrap();
    std::thread::scope(|scope| {
        // Arrives while the redaction syncs (300 ms), so the writer hands
        // the redaction's group to the applier (100 ms) and goes on.
        let next = scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(100));
            log.append(one(event("meeting/M-1", b"the next event"))).unwrap();
        });
        log.append(AppendBatch::new().redact(Seq(0), "basis")).unwrap();
        assert!(matches!(log.event(Seq(0)).unwrap().unwrap().payload, Payload::Redacted { .. }));
        let events = log.read(Seq(0), 1).unwrap();
        assert!(matches!(events[0].payload, Payload::Redacted { .. }));
        next.join().unwrap();
    });
    assert_verifies(&log);
}

#[test]
fn a_group_refused_for_a_full_disk_gives_no_stream_version_twice() {
    // The refused group took the writer's stream tails; the next group
    // loads them from the store, which must first show the group before
    // (its apply is slow here) or its events' versions are given again.
    let scratch = Scratch::new();
    let countdown = reservations();
    let log = {
        let countdown = countdown.clone();
        Log::open_with(&scratch.path, move |store| Box::new(SlowApplyStore(store, countdown))).unwrap()
    };
    // This group's reservation succeeds, the next one's fails.
    countdown.store(2, std::sync::atomic::Ordering::SeqCst);
    std::thread::scope(|scope| {
        let second = scope.spawn(|| {
            // Arrives while the first group syncs.
            std::thread::sleep(Duration::from_millis(100));
            let refused = log.append(one(event("x", b"second"))).unwrap_err();
            assert_eq!(refused.category(), ErrorCategory::StorageFull);
            // At once, while the first group is still being applied.
            log.append(one(event("x", b"second, again"))).unwrap()
        });
        log.append(one(event("x", b"first"))).unwrap();
        assert_eq!(second.join().unwrap().events[0].stream_version, StreamVersion(2));
    });
    let x = log.read_stream("x", StreamVersion(0), 10).unwrap();
    assert_eq!(x.iter().map(|e| e.envelope.stream_version().0).collect::<Vec<_>>(), vec![1, 2]);
    assert_verifies(&log);
}
