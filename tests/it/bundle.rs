//! Export bundles: every demo scope exports and verifies with the minutes
//! the server shows; one changed byte in any kind of file, or a dropped,
//! duplicated or reordered event, is found and named; a rewritten history
//! fails against a checkpoint kept from the first; random logs export and
//! verify; random mutations never verify and never panic the verifier.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use minutebook::bundle::{export, verify_bundle, Bundle, BundleReport, Meta, Scope, Unreadable, MANIFEST};
use minutebook_catalogue::MeetingId;
use minutebook_log::{AppendBatch, ExpectedVersion, Log, Seq};
use minutebook_projections::record::{catch_up, Record};
use minutebook_projections::render;
use minutebook_projections::view::{self, Audience};
use proptest::prelude::*;

use crate::support::{copy_dir, event, one, run_cli, Scratch};

/// The demo's data directory, its record, and a bundle of every meeting,
/// every body and the whole log, full and public: built once.
struct Demo {
    _dir: tempfile::TempDir,
    data: PathBuf,
    record: Record,
    bundles: BTreeMap<(String, bool), Bundle>,
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("demo");
        minutebook::demo::create(&data).unwrap();
        let log = Log::open(&data).unwrap();
        let mut record = Record::new();
        catch_up(&log.reader(), &mut record).unwrap();
        let mut scopes: Vec<(String, Scope)> =
            record.meetings.keys().map(|id| (format!("meeting {id}"), Scope::Meeting(id.clone()))).collect();
        scopes.extend(record.bodies.keys().map(|id| (format!("body {id}"), Scope::Body(id.clone()))));
        scopes.push(("all".to_owned(), Scope::All));
        let mut bundles = BTreeMap::new();
        for (name, scope) in scopes {
            for public in [false, true] {
                let bundle = export(&log, &record, &Meta { scope: scope.clone(), public }, &[]).unwrap();
                bundles.insert((name.clone(), public), bundle);
            }
        }
        drop(log);
        Demo { _dir: dir, data, record, bundles }
    })
}

/// The signed, corrected meeting with an exempt item.
const SIGNED: &str = "rcsp-2026-03-05";

fn bundle_of(meeting: &str, public: bool) -> Bundle {
    demo().bundles[&(format!("meeting {meeting}"), public)].clone()
}

fn verify(bundle: &Bundle) -> Result<BundleReport, Unreadable> {
    verify_bundle(bundle, None, &mut |_, _| {})
}

fn problem_of(bundle: &Bundle) -> String {
    match verify(bundle) {
        Ok(report) => report.problem.unwrap_or_default(),
        Err(unreadable) => format!("unreadable: {unreadable}"),
    }
}

fn text(bundle: &Bundle, path: &str) -> String {
    String::from_utf8(bundle.files.get(path).unwrap_or_else(|| panic!("no {path}")).clone()).unwrap()
}

#[test]
fn every_demo_bundle_verifies_and_holds_the_minutes_the_server_shows() {
    let demo = demo();
    for ((scope, public), bundle) in &demo.bundles {
        let report = verify(bundle).unwrap();
        assert_eq!(report.problem, None, "{scope} (public: {public})");
        assert_eq!(report.public, *public);
        assert_eq!(report.events, bundle.files.keys().filter(|p| p.ends_with("/envelope")).count() as u64);
        let audience = if *public { Audience::Public } else { Audience::Entitled };
        for id in &report.meetings {
            let minutes = view::minutes(&demo.record, id, audience).unwrap();
            assert_eq!(text(bundle, &format!("minutes/{id}.md")), render::markdown(&minutes), "{scope} {id}");
            assert_eq!(text(bundle, &format!("minutes/{id}.html")), render::html(&minutes), "{scope} {id}");
        }
        if let Some(meeting) = scope.strip_prefix("meeting ") {
            assert_eq!(report.meetings, vec![MeetingId::new(meeting).unwrap()]);
        }
    }
    let all = verify(&demo.bundles[&("all".to_owned(), false)]).unwrap();
    let log_len = Log::open(&demo.data).map(|log| log.len()).unwrap();
    assert_eq!((all.events, all.tree_size, all.chain_links), (log_len, log_len, log_len));
    assert!(all.redacted > 0, "the demo redacts a detail");
    let signed = verify(&bundle_of(SIGNED, false)).unwrap();
    assert_eq!(signed.record.as_ref().unwrap().signatures_checked, 1);
    assert!(signed.record.as_ref().unwrap().unverifiable.is_empty(), "{:?}", signed.record);
    let public = verify(&bundle_of(SIGNED, true)).unwrap();
    assert!(public.withheld > 0, "the exempt item's content is withheld from the public");
    assert_eq!(
        public.record.as_ref().unwrap().unverifiable.len(),
        1,
        "its text cannot be rebuilt from a public bundle"
    );
}

#[test]
fn a_bundle_reads_back_the_same_from_a_tar_and_from_a_directory() {
    let bundle = bundle_of(SIGNED, true);
    let mut tar = Vec::new();
    bundle.write_tar("minutebook-export", &mut tar).unwrap();
    let mut again = Vec::new();
    bundle.write_tar("minutebook-export", &mut again).unwrap();
    assert_eq!(tar, again, "the same bundle makes the same tar");
    assert_eq!(Bundle::read_tar(tar.as_slice()).unwrap(), bundle);
    let dir = tempfile::tempdir().unwrap();
    bundle.write_dir(&dir.path().join("b")).unwrap();
    assert_eq!(Bundle::read(&dir.path().join("b")).unwrap(), bundle);
}

/// A changed byte in the middle of the file.
fn flip(bundle: &mut Bundle, path: &str) {
    let bytes = bundle.files.get_mut(path).unwrap_or_else(|| panic!("no {path}"));
    let at = bytes.len() / 2;
    bytes[at] ^= 0x04;
}

fn first(bundle: &Bundle, pred: impl Fn(&str) -> bool) -> String {
    bundle.files.keys().find(|path| pred(path)).unwrap_or_else(|| panic!("no such file")).clone()
}

#[test]
fn one_changed_byte_in_any_kind_of_file_is_found_and_named() {
    let full = bundle_of(SIGNED, false);
    let public = bundle_of(SIGNED, true);
    let meeting_event = |bundle: &Bundle, name: &str| {
        let dir = bundle
            .files
            .iter()
            .find(|(path, bytes)| path.ends_with("/event.json") && String::from_utf8_lossy(bytes).contains(SIGNED))
            .map(|(path, _)| path.trim_end_matches("/event.json").to_owned())
            .unwrap();
        format!("{dir}/{name}")
    };
    let mut cases: Vec<(Bundle, String, Vec<String>)> = Vec::new();
    for name in ["envelope", "payload", "salt", "inclusion"] {
        let path = meeting_event(&full, name);
        let dir = path.rsplit_once('/').unwrap().0.to_owned();
        cases.push((full.clone(), path, vec![dir]));
    }
    let path = meeting_event(&full, "event.json");
    cases.push((full.clone(), path.clone(), vec![path]));
    let withheld = first(&public, |p| p.ends_with("/withheld"));
    cases.push((public.clone(), withheld.clone(), vec![withheld]));
    let redacted_bundle = demo().bundles[&("all".to_owned(), false)].clone();
    let redacted = first(&redacted_bundle, |p| p.ends_with("/redacted"));
    cases.push((redacted_bundle, redacted.clone(), vec![redacted]));
    for path in [
        first(&full, |p| p.ends_with(".statement")),
        first(&full, |p| p.ends_with(".signature")),
        first(&full, |p| p.starts_with("keys/")),
        first(&full, |p| p.ends_with(".md")),
        first(&full, |p| p.ends_with(".html")),
        first(&full, |p| p.starts_with("proofs/consistency/")),
        "checkpoint".to_owned(),
        "bundle.json".to_owned(),
        "README.txt".to_owned(),
    ] {
        cases.push((full.clone(), path.clone(), vec![path]));
    }
    cases.push((full.clone(), "log.pub".to_owned(), vec!["log.pub".to_owned(), "checkpoint".to_owned()]));
    for (original, path, named) in cases {
        // As changed: the manifest no longer matches, and says where.
        let mut bundle = original.clone();
        flip(&mut bundle, &path);
        let problem = problem_of(&bundle);
        assert!(problem.contains(&path), "{path}: {problem}");
        // Changed with the manifest made again to match: the change itself
        // is found.
        bundle.seal();
        let problem = problem_of(&bundle);
        assert!(named.iter().any(|name| problem.contains(name.as_str())), "{path} (resealed): {problem}");
    }
    let mut bundle = full.clone();
    flip(&mut bundle, MANIFEST);
    assert!(!problem_of(&bundle).is_empty(), "a changed manifest is found");
}

/// Every file of the event at `dir`.
fn event_files(bundle: &Bundle, dir: &str) -> Vec<(String, Vec<u8>)> {
    bundle
        .files
        .iter()
        .filter(|(path, _)| path.starts_with(&format!("{dir}/")))
        .map(|(path, bytes)| (path[dir.len() + 1..].to_owned(), bytes.clone()))
        .collect()
}

fn meeting_dirs(bundle: &Bundle) -> Vec<String> {
    bundle
        .files
        .iter()
        .filter(|(path, bytes)| {
            path.ends_with("/event.json")
                && String::from_utf8_lossy(bytes).contains(&format!("\"stream\": \"meeting:{SIGNED}\""))
        })
        .map(|(path, _)| path.trim_end_matches("/event.json").to_owned())
        .collect()
}

#[test]
fn a_dropped_duplicated_or_reordered_event_is_found_and_named() {
    let full = bundle_of(SIGNED, false);
    let dirs = meeting_dirs(&full);
    let (a, b) = (&dirs[3], &dirs[4]);

    let mut dropped = full.clone();
    dropped.files.retain(|path, _| !path.starts_with(&format!("{a}/")));
    dropped.seal();
    let problem = problem_of(&dropped);
    assert!(problem.contains(b) && problem.contains("version in stream"), "{problem}");

    let mut duplicated = full.clone();
    let unused =
        (0..).map(|seq| format!("events/{seq:020}")).find(|dir| !full.files.contains_key(&format!("{dir}/envelope")));
    let unused = unused.unwrap();
    for (name, bytes) in event_files(&full, a) {
        duplicated.files.insert(format!("{unused}/{name}"), bytes);
    }
    duplicated.seal();
    let problem = problem_of(&duplicated);
    assert!(problem.contains(&unused) && problem.contains("position"), "{problem}");

    let mut reordered = full.clone();
    for (from, to) in [(a, b), (b, a)] {
        for (name, bytes) in event_files(&full, from) {
            reordered.files.insert(format!("{to}/{name}"), bytes);
        }
    }
    reordered.seal();
    let problem = problem_of(&reordered);
    assert!(problem.contains(a) && problem.contains("position"), "{problem}");
}

fn append_n(log: &Log, stream: &str, n: usize) {
    for index in 0..n {
        log.append(one(event(stream, format!("{stream} {index}").as_bytes()))).unwrap();
    }
}

fn export_all(log: &Log, since: &[u64]) -> Bundle {
    let mut record = Record::new();
    catch_up(&log.reader(), &mut record).unwrap();
    export(log, &record, &Meta { scope: Scope::All, public: false }, since).unwrap()
}

#[test]
fn a_rewritten_history_fails_against_a_checkpoint_kept_from_the_first() {
    let first = Scratch::new();
    let kept_early;
    {
        let log = first.open();
        append_n(&log, "test:shared", 4);
        kept_early = log.latest_checkpoint().unwrap().note;
    }
    let dir = tempfile::tempdir().unwrap();
    let second = dir.path().join("second");
    copy_dir(&first.path, &second);
    let kept_late = {
        let log = first.open();
        append_n(&log, "test:first", 3);
        log.latest_checkpoint().unwrap().note
    };
    let late_file = dir.path().join("kept-late");
    std::fs::write(&late_file, &kept_late).unwrap();
    let early_file = dir.path().join("kept-early");
    std::fs::write(&early_file, &kept_early).unwrap();

    let log = Log::open(&second).unwrap();
    append_n(&log, "test:second", 5);
    let rewritten = export_all(&log, &[4, 7]);
    drop(log);
    // Against what the first log showed at size 7: rewritten.
    let report = verify_bundle(&rewritten, Some(&kept_late), &mut |_, _| {}).unwrap();
    let problem = report.problem.unwrap();
    assert!(problem.contains("rewritten") && problem.contains("proofs/consistency/7"), "{problem}");
    let (code, _, stderr) = run_cli(&["verify", second.to_str().unwrap(), "--checkpoint", late_file.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("rewritten"), "{stderr}");
    // Against the shared prefix: consistent, both ways of checking.
    let report = verify_bundle(&rewritten, Some(&kept_early), &mut |_, _| {}).unwrap();
    assert_eq!((report.problem, report.older_checkpoint), (None, Some(4)));
    let (code, stdout, stderr) =
        run_cli(&["verify", second.to_str().unwrap(), "--checkpoint", early_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("proven consistent"), "{stdout}");
    // A bundle without the proof, or older than the checkpoint: unusable.
    let log = Log::open(&second).unwrap();
    let without = export_all(&log, &[]);
    drop(log);
    assert!(verify_bundle(&without, Some(&kept_early), &mut |_, _| {}).unwrap_err().0.contains("--since 4"));
    let log = first.open();
    let first_bundle = export_all(&log, &[]);
    drop(log);
    let short = {
        let mut bundle = first_bundle.clone();
        bundle.files.insert("checkpoint".into(), kept_early.clone().into_bytes());
        bundle
    };
    assert!(!problem_of(&short).is_empty(), "a checkpoint the events do not fit");
    // The first log's own data directory against its own late checkpoint.
    let (code, _, stderr) =
        run_cli(&["verify", first.path.to_str().unwrap(), "--checkpoint", late_file.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    // A checkpoint of the same size needs no proof: the roots are equal.
    let report = verify_bundle(&first_bundle, Some(&kept_late), &mut |_, _| {}).unwrap();
    assert_eq!((report.problem, report.older_checkpoint), (None, Some(7)));
}

#[test]
fn the_cli_exports_a_meeting_as_a_tar_and_a_directory_and_verifies_both() {
    let demo = demo();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    copy_dir(&demo.data, &data);
    let data = data.to_str().unwrap();
    let tar = dir.path().join("signed.tar");
    let tar = tar.to_str().unwrap();
    let (code, stdout, stderr) =
        run_cli(&["export", "--data", data, "--meeting", SIGNED, "--public", "--since", "3", "--out", tar]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("exported"), "{stdout}");
    let (code, stdout, stderr) = run_cli(&["verify", tar]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for line in ["public bundle of meeting", "withheld", "signed by", "not checkable", "ok: everything verifies"] {
        assert!(stdout.contains(line), "{line}: {stdout}");
    }
    let (code, stdout, _) = run_cli(&["verify", tar, "--json"]);
    assert_eq!(code, 0);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!((report["ok"].as_bool(), report["consistency_from"][0].as_u64()), (Some(true), Some(3)));
    let out = dir.path().join("body");
    let (code, _, stderr) =
        run_cli(&["export", "--data", data, "--body", "riverside-scrutiny", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(run_cli(&["verify", out.to_str().unwrap()]).0, 0);
    // Tampered on disk: exit 1, naming the file.
    let minutes = out.join(format!("minutes/{SIGNED}.md"));
    let changed = std::fs::read_to_string(&minutes).unwrap().replacen("Minutes", "Minuted", 1);
    std::fs::write(&minutes, changed).unwrap();
    let (code, _, stderr) = run_cli(&["verify", out.to_str().unwrap()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(&format!("minutes/{SIGNED}.md")), "{stderr}");
    // Unusable input: exit 2.
    for args in [
        vec!["export", "--data", data, "--meeting", "no-such-meeting", "--out", "unused.tar"],
        vec!["export", "--data", data, "--out", "unused.tar"],
        vec!["export", "--data", data, "--all", "--out", tar],
    ] {
        let (code, _, stderr) = run_cli(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
    }
    let junk = dir.path().join("junk.tar");
    std::fs::write(&junk, b"not a tar at all, just text").unwrap();
    assert_eq!(run_cli(&["verify", junk.to_str().unwrap()]).0, 2);
    // A kept checkpoint that is no checkpoint: unusable, for a bundle and
    // for a data directory alike.
    let junk = junk.to_str().unwrap();
    for path in [tar, data] {
        let (code, _, stderr) = run_cli(&["verify", path, "--checkpoint", junk]);
        assert_eq!(code, 2, "{path}: {stderr}");
        assert!(stderr.contains("not a signed checkpoint note"), "{stderr}");
    }
    assert!(!dir.path().join("signed.tar.partial").exists(), "the partial file was renamed into place");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_logs_export_and_verify(
        batches in prop::collection::vec(
            prop::collection::vec((0..4usize, prop::collection::vec(any::<u8>(), 0..600)), 1..4),
            1..8,
        ),
        redact in prop::collection::vec(any::<prop::sample::Index>(), 0..3),
    ) {
        let scratch = Scratch::new();
        let log = scratch.open();
        for batch in &batches {
            let mut append = AppendBatch::new();
            for stream in batch.iter().map(|(stream, _)| *stream).collect::<std::collections::BTreeSet<_>>() {
                append = append.expect(format!("test:s{stream}"), ExpectedVersion::Any);
            }
            for (stream, payload) in batch {
                append = append.event(event(&format!("test:s{stream}"), payload));
            }
            log.append(append).unwrap();
        }
        for index in &redact {
            let seq = index.index(log.len() as usize) as u64;
            let _ = log.append(one(event("test:redactions", b"redaction")).redact(Seq(seq), "redacted: a test"));
        }
        let bundle = export_all(&log, &[1]);
        let report = verify(&bundle).unwrap();
        prop_assert_eq!(report.problem, None);
        prop_assert_eq!(report.events, log.len());
    }

    #[test]
    fn random_mutations_of_a_bundle_never_verify_nor_panic(
        public in any::<bool>(),
        file in any::<prop::sample::Index>(),
        kind in 0..6u8,
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        reseal in any::<bool>(),
    ) {
        let mut bundle = bundle_of(SIGNED, public);
        let paths: Vec<String> = bundle.files.keys().cloned().collect();
        let path = file.get(&paths).clone();
        let bytes = bundle.files.get_mut(&path).unwrap();
        match kind {
            0 if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] ^= byte.max(1);
            }
            1 if !bytes.is_empty() => bytes.truncate(at.index(bytes.len())),
            2 => bytes.push(byte),
            3 => drop(bundle.files.remove(&path)),
            4 => {
                let bytes = bundle.files.remove(&path).unwrap();
                bundle.files.insert(format!("{path}x"), bytes);
            }
            _ => {
                let bytes = bytes.clone();
                let other = paths[(file.index(paths.len()) + 1) % paths.len()].clone();
                if bundle.files[&other] == bytes {
                    bundle.files.insert(other, b"different".to_vec());
                } else {
                    bundle.files.insert(other, bytes);
                }
            }
        }
        // Sealing again after changing the manifest would undo the change.
        if reseal && path != MANIFEST {
            bundle.seal();
        }
        prop_assert!(!problem_of(&bundle).is_empty(), "{} (kind {}, resealed {}) verified", path, kind, reseal);
    }

    #[test]
    fn a_mangled_tar_never_panics_and_verifies_only_if_its_files_are_intact(
        at in any::<prop::sample::Index>(),
        byte in 1..=255u8,
    ) {
        let bundle = bundle_of(SIGNED, true);
        let mut tar = Vec::new();
        bundle.write_tar("b", &mut tar).unwrap();
        let at = at.index(tar.len());
        tar[at] ^= byte;
        if let Ok(read) = Bundle::read_tar(tar.as_slice()) {
            let report = verify(&read);
            if matches!(&report, Ok(report) if report.problem.is_none()) {
                prop_assert_eq!(read.files, bundle.files, "a changed bundle verified");
            }
        }
    }
}
