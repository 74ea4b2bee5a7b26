//! Verifying a bundle offline. In order, naming the first failure by its
//! file: the manifest; the log's key and the checkpoint's signature; each
//! event's envelope, salted payload hash and inclusion proof (log/'s
//! checks); the events together (whole streams, chain links, ids, times);
//! an auditor's older checkpoint, by a consistency proof; every derived
//! file, derived again from the events; and the chairs' signatures
//! (src/audit.rs), each against the record folded from the events.

use std::collections::BTreeMap;
use std::ops::Bound;

use minutebook_catalogue::MeetingId;
use minutebook_log::portable::{check_carried, check_sequence, Carried, CheckedEvent, Content};
use minutebook_log::{merkle, parse_decimal, NoteVerifier, Payload, Salt, Seq, TreeHash};
use minutebook_projections::record::residue_among;

use super::derive::WITHHELD_TEXT;
use super::derive::{derived_files, event_dir, fold, meetings_of, Evidence, Meta, Scope, FORMAT, FORMAT_VERSION};
use super::files::{valid_path, Bundle, Unreadable, CHECKPOINT, CONSISTENCY_DIR, DESCRIPTION, LOG_KEY, MANIFEST};
use crate::audit::{PinProblem, RecordCheck, RecordReport};

/// What verifying a bundle covered, and the first failure if any.
#[derive(Debug, Default)]
pub struct BundleReport {
    pub files: usize,
    pub scope: Option<Scope>,
    pub public: bool,
    pub log_key: String,
    pub origin: String,
    pub tree_size: u64,
    pub root: Option<TreeHash>,
    pub events: u64,
    pub redacted: u64,
    pub withheld: u64,
    pub streams: u64,
    /// Pairs of consecutive positions whose chain link was checked.
    pub chain_links: u64,
    /// Redaction notices with no `payload.redacted` event in the bundle to
    /// check them against.
    pub notices_unchecked: u64,
    /// Tree sizes the bundle proves the checkpoint consistent with.
    pub consistency_from: Vec<u64>,
    /// The auditor's older checkpoint, once proven consistent.
    pub older_checkpoint: Option<u64>,
    pub meetings: Vec<MeetingId>,
    pub record: Option<RecordReport>,
    pub problem: Option<String>,
}

/// Checks `bundle`, and given `older` (a checkpoint note the auditor kept)
/// that the bundle's checkpoint is consistent with it. `progress` hears
/// (events done, total). Unusable input (a bundle of a newer format, an
/// older checkpoint the bundle cannot be compared with) is an error;
/// everything else found wrong is the report's `problem`.
pub fn verify_bundle(
    bundle: &Bundle,
    older: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<BundleReport, Unreadable> {
    let mut report = BundleReport { files: bundle.files.len(), ..BundleReport::default() };
    match run(bundle, older, progress, &mut report) {
        Ok(()) => {}
        Err(Found::Problem(problem)) => report.problem = Some(problem),
        Err(Found::Unreadable(why)) => return Err(why),
    }
    Ok(report)
}

/// Why checking stopped: a problem the report names (a sentence that
/// starts with the file it is in, kept as text because the report and
/// its JSON carry it as text, and nothing matches on it), or input that
/// cannot be checked at all.
enum Found {
    Problem(String),
    Unreadable(Unreadable),
}

impl From<String> for Found {
    fn from(problem: String) -> Found {
        Found::Problem(problem)
    }
}

fn unreadable(why: String) -> Found {
    Found::Unreadable(Unreadable(why))
}

fn text<'a>(bundle: &'a Bundle, path: &str) -> Result<&'a str, Found> {
    let bytes = bundle.files.get(path).ok_or_else(|| format!("{path}: missing"))?;
    std::str::from_utf8(bytes).map_err(|_| Found::from(format!("{path}: not UTF-8 text")))
}

/// Parses lines of lowercase hexadecimal hashes, each ending in a newline.
fn hash_lines(path: &str, bytes: &[u8]) -> Result<Vec<TreeHash>, Found> {
    let text = std::str::from_utf8(bytes).map_err(|_| format!("{path}: not UTF-8 text"))?;
    let mut hashes = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) =
            rest.split_once('\n').ok_or_else(|| format!("{path}: the last line does not end in a newline"))?;
        let hash = TreeHash::from_hex(line)
            .filter(|hash| hash.to_hex() == line)
            .ok_or_else(|| format!("{path}: line {} is not a hash in lowercase hex", hashes.len() + 1))?;
        hashes.push(hash);
        rest = after;
    }
    Ok(hashes)
}

/// The paths under `dir/`: '0' follows '/' in ASCII.
fn under<'a>(dir: &'a str, after: &'a str) -> (Bound<&'a str>, Bound<&'a str>) {
    (Bound::Included(dir), Bound::Excluded(after))
}

fn check_manifest(bundle: &Bundle) -> Result<(), Found> {
    let manifest = text(bundle, MANIFEST)?;
    let mut listed = BTreeMap::new();
    let mut last: Option<&str> = None;
    for (index, line) in manifest.split_inclusive('\n').enumerate() {
        let at = || format!("{MANIFEST} line {}", index + 1);
        let line = line.strip_suffix('\n').ok_or_else(|| format!("{}: does not end in a newline", at()))?;
        let (hash, path) =
            line.split_once("  ").ok_or_else(|| format!("{}: not a hash, two spaces and a path", at()))?;
        let valid_hash = hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid_hash || !valid_path(path) || path == MANIFEST {
            return Err(format!("{}: not a lowercase BLAKE3 hash, two spaces and a bundle path", at()).into());
        }
        if last.is_some_and(|last| last >= path) {
            return Err(format!("{}: {path} is out of order or listed twice", at()).into());
        }
        last = Some(path);
        listed.insert(path, hash);
    }
    for (path, hash) in &listed {
        let bytes = bundle.files.get(*path).ok_or_else(|| format!("{path}: listed in the manifest but missing"))?;
        let found = blake3::hash(bytes).to_hex();
        if found.as_str() != *hash {
            return Err(format!("{path}: its BLAKE3 hash is {found}, not the manifest's {hash}").into());
        }
    }
    if let Some(path) = bundle.files.keys().find(|path| *path != MANIFEST && !listed.contains_key(path.as_str())) {
        return Err(format!("{path}: not listed in the manifest").into());
    }
    Ok(())
}

fn read_meta(bundle: &Bundle) -> Result<Meta, Found> {
    let description: serde_json::Value = serde_json::from_str(text(bundle, DESCRIPTION)?)
        .map_err(|error| format!("{DESCRIPTION}: not JSON: {error}"))?;
    if description["format"] != FORMAT {
        return Err(format!("{DESCRIPTION}: not a {FORMAT}").into());
    }
    match description["version"].as_u64() {
        Some(FORMAT_VERSION) => {}
        Some(version) if version > FORMAT_VERSION => {
            return Err(unreadable(format!(
                "the bundle is of format version {version}; this minutebook reads version {FORMAT_VERSION}: use a newer one"
            )))
        }
        _ => return Err(format!("{DESCRIPTION}: no format version this minutebook knows").into()),
    }
    let scope =
        Scope::from_json(&description["scope"]).ok_or_else(|| format!("{DESCRIPTION}: the scope is not valid"))?;
    let public = match description["audience"].as_str() {
        Some("public") => true,
        Some("entitled") => false,
        _ => return Err(format!("{DESCRIPTION}: the audience is neither public nor entitled").into()),
    };
    Ok(Meta { scope, public })
}

/// Each event's files, read as evidence.
fn read_events(bundle: &Bundle) -> Result<Vec<(u64, Carried)>, Found> {
    let mut by_dir: BTreeMap<&str, BTreeMap<&str, &Vec<u8>>> = BTreeMap::new();
    for (path, bytes) in bundle.files.range::<str, _>(under("events/", "events0")) {
        let rest = &path["events/".len()..];
        let Some((dir, name)) = rest.split_once('/') else {
            return Err(format!("{path}: not an event's file (events/POSITION/NAME)").into());
        };
        by_dir.entry(dir).or_default().insert(name, bytes);
    }
    let mut events = Vec::with_capacity(by_dir.len());
    for (dir, files) in by_dir {
        let at = format!("events/{dir}");
        let seq = (dir.len() == 20 && dir.bytes().all(|b| b.is_ascii_digit()))
            .then(|| dir.parse::<u64>().ok())
            .flatten()
            .ok_or_else(|| format!("{at}: not a position written as 20 digits"))?;
        for name in files.keys() {
            if !matches!(*name, "envelope" | "salt" | "payload" | "redacted" | "withheld" | "inclusion" | "event.json")
            {
                return Err(format!("{at}/{name}: not an event's file").into());
            }
        }
        let envelope = files.get("envelope").ok_or_else(|| format!("{at}/envelope: missing"))?;
        let inclusion = files.get("inclusion").ok_or_else(|| format!("{at}/inclusion: missing"))?;
        let inclusion = hash_lines(&format!("{at}/inclusion"), inclusion)?;
        let content = match (files.get("salt"), files.get("payload"), files.get("redacted"), files.get("withheld")) {
            (Some(salt), Some(payload), None, None) => {
                let salt: [u8; 16] =
                    salt.as_slice().try_into().map_err(|_| format!("{at}/salt: {} bytes, not 16", salt.len()))?;
                Content::Present { salt: Salt(salt), bytes: payload.to_vec() }
            }
            (None, None, Some(notice), None) => Content::Redacted {
                notice: String::from_utf8(notice.to_vec()).map_err(|_| format!("{at}/redacted: not UTF-8 text"))?,
            },
            (None, None, None, Some(withheld)) if withheld.as_slice() == WITHHELD_TEXT.as_bytes() => Content::Withheld,
            (None, None, None, Some(_)) => {
                return Err(format!("{at}/withheld: not the text a withheld payload leaves").into())
            }
            _ => {
                return Err(format!(
                    "{at}: holds neither a salt and a payload, nor a redaction notice, nor a withheld notice alone"
                )
                .into())
            }
        };
        events.push((seq, Carried { envelope_bytes: envelope.to_vec(), content, inclusion }));
    }
    Ok(events)
}

fn run(
    bundle: &Bundle,
    older: Option<&str>,
    progress: &mut dyn FnMut(u64, u64),
    report: &mut BundleReport,
) -> Result<(), Found> {
    check_manifest(bundle)?;
    let meta = read_meta(bundle)?;
    report.scope = Some(meta.scope.clone());
    report.public = meta.public;

    let key_text = text(bundle, LOG_KEY)?;
    let key_line = key_text.strip_suffix('\n').filter(|line| !line.contains('\n'));
    let verifier = key_line
        .and_then(|line| NoteVerifier::from_vkey(line).ok())
        .ok_or_else(|| format!("{LOG_KEY}: not one note verifier key line"))?;
    report.log_key = verifier.to_vkey();
    let note = text(bundle, CHECKPOINT)?;
    let checkpoint = verifier.open(note).map_err(|error| format!("{CHECKPOINT}: {error}"))?;
    report.origin = checkpoint.origin.clone();
    report.tree_size = checkpoint.tree_size;
    report.root = Some(checkpoint.root);

    let carried = read_events(bundle)?;
    let total = carried.len() as u64;
    let mut events = Vec::with_capacity(carried.len());
    for (done, (seq, carried)) in carried.into_iter().enumerate() {
        let checked = check_carried(Seq(seq), &carried, &checkpoint)
            .map_err(|problem| format!("{}: {problem}", event_dir(seq)))?;
        report.redacted += u64::from(matches!(carried.content, Content::Redacted { .. }));
        report.withheld += u64::from(carried.content == Content::Withheld);
        events.push((carried, checked));
        if done as u64 % 4096 == 4095 {
            progress(done as u64 + 1, total);
        }
    }
    progress(total, total);
    report.events = total;
    let checked: Vec<&CheckedEvent> = events.iter().map(|(_, checked)| checked).collect();
    check_sequence(checked.iter().copied()).map_err(|problem| {
        let at = problem.seq.map_or(String::new(), |seq| format!("{}: ", event_dir(seq.0)));
        format!("{at}{problem}")
    })?;
    report.chain_links =
        checked.windows(2).filter(|pair| pair[1].envelope.seq().0 == pair[0].envelope.seq().0 + 1).count() as u64
            + u64::from(checked.first().is_some_and(|first| first.envelope.seq().0 == 0));
    report.streams =
        checked.iter().map(|event| event.envelope.stream()).collect::<std::collections::BTreeSet<_>>().len() as u64;

    let mut consistency = BTreeMap::new();
    for (path, bytes) in bundle.files.range::<str, _>(under("proofs/", "proofs0")) {
        let size = path
            .strip_prefix(&format!("{CONSISTENCY_DIR}/"))
            .and_then(parse_decimal)
            .ok_or_else(|| format!("{path}: not a consistency proof ({CONSISTENCY_DIR}/OLD-TREE-SIZE)"))?;
        if size > checkpoint.tree_size {
            return Err(format!("{path}: a proof from a tree larger than the checkpoint's").into());
        }
        let mut hashes = hash_lines(path, bytes)?;
        if hashes.is_empty() {
            return Err(format!("{path}: no root at the older tree size").into());
        }
        let old_root = hashes.remove(0);
        // RFC 9162 proves nothing about the empty tree's root: check it here.
        if size == 0 && old_root != merkle::empty_root() {
            return Err(format!("{path}: the first line is not the empty tree's root").into());
        }
        merkle::verify_consistency(size, checkpoint.tree_size, &old_root, &checkpoint.root, &hashes)
            .map_err(|error| format!("{path}: {error}"))?;
        consistency.insert(size, (old_root, hashes));
    }
    report.consistency_from = consistency.keys().copied().collect();

    if let Some(older) = older {
        if !older.contains("\n\n") {
            return Err(unreadable("the --checkpoint file is not a signed checkpoint note".to_owned()));
        }
        let old = verifier.open(older).map_err(|error| {
            format!("your checkpoint: {error}: it is not a checkpoint of this bundle's log (another log, or its key was replaced)")
        })?;
        if old.tree_size > checkpoint.tree_size {
            return Err(unreadable(format!(
                "your checkpoint (tree size {}) is newer than this bundle's ({}): export a newer bundle",
                old.tree_size, checkpoint.tree_size
            )));
        }
        let same = (old.tree_size == checkpoint.tree_size).then_some((checkpoint.root, Vec::new()));
        let (old_root, _) = consistency.get(&old.tree_size).or(same.as_ref()).ok_or_else(|| {
            unreadable(format!(
                "the bundle holds no consistency proof from tree size {}: export it again with --since {} \
                 (or GET /v1/export with since={})",
                old.tree_size, old.tree_size, old.tree_size
            ))
        })?;
        // The proof from that size was checked above: the checkpoint's tree
        // extends the one whose root the proof file gives.
        if *old_root != old.root {
            return Err(format!(
                "{CONSISTENCY_DIR}/{size}: the log is not consistent with your checkpoint, so what you saw then was \
                 rewritten: your checkpoint's root at tree size {size} is {}, the log's is {old_root}",
                old.root,
                size = old.tree_size
            )
            .into());
        }
        report.older_checkpoint = Some(old.tree_size);
    }

    let evidence = Evidence {
        log_key: key_line.unwrap_or_default().to_owned(),
        checkpoint_note: note.to_owned(),
        checkpoint: checkpoint.clone(),
        events,
        consistency,
    };
    let log_events = evidence.log_events();
    for (index, event) in log_events.iter().enumerate() {
        if let (Payload::Redacted { notice }, Content::Redacted { .. }) =
            (&event.payload, &evidence.events[index].0.content)
        {
            match residue_among(&log_events[index + 1..], event) {
                Some((_, basis)) if *notice != format!("redacted: {basis}") => {
                    return Err(format!(
                        "{}/redacted: the notice is not the one the payload.redacted event's legal basis gives",
                        event_dir(event.envelope.seq().0)
                    )
                    .into());
                }
                Some(_) => {}
                None => report.notices_unchecked += 1,
            }
        }
    }

    let scope = meta.scope.clone();
    let mut check = RecordCheck::only(Box::new(move |record, meeting| scope.holds(record, meeting)));
    let pinned = |seq: Seq, size: u64, root: &TreeHash| -> Result<(), PinProblem> {
        if size > seq.0 {
            return Err(PinProblem::LargerThanLog { size });
        }
        let (old_root, _) = evidence.consistency.get(&size).ok_or(PinProblem::NoConsistencyProof { size })?;
        if old_root != root {
            return Err(PinProblem::OtherRoot { size, root: *root, log_root: *old_root });
        }
        Ok(())
    };
    for ((carried, _), event) in evidence.events.iter().zip(&log_events) {
        if carried.content == Content::Withheld {
            if let Some(meeting) = event.envelope.stream().strip_prefix("meeting:").and_then(|m| MeetingId::new(m).ok())
            {
                check.withheld(meeting);
            }
        }
    }
    let record = fold(&log_events, |record, event| check.before(record, event, &pinned));
    report.meetings = meetings_of(&record, &meta.scope);

    let derived = derived_files(&meta, &evidence, &log_events, &record);
    for (path, bytes) in &derived {
        let found = bundle.files.get(path).ok_or_else(|| format!("{path}: missing (the events give it)"))?;
        if found != bytes {
            let at = found.iter().zip(bytes).position(|(a, b)| a != b).unwrap_or(found.len().min(bytes.len()));
            return Err(format!("{path}: differs from what the events give, from byte {at} on").into());
        }
    }
    let evidence_file = |path: &str| {
        path == MANIFEST
            || path == LOG_KEY
            || path == CHECKPOINT
            || path.starts_with(&format!("{CONSISTENCY_DIR}/"))
            || (path.starts_with("events/") && !path.ends_with("/event.json"))
    };
    if let Some(path) = bundle.files.keys().find(|path| !evidence_file(path) && !derived.contains_key(*path)) {
        return Err(format!("{path}: not something this bundle's events give").into());
    }

    let record_report = check.finish(&record);
    let problem = record_report.problem.clone();
    report.record = Some(record_report);
    if let Some(problem) = problem {
        return Err(problem.into());
    }
    Ok(())
}

impl BundleReport {
    /// The report an auditor reads: what was checked, and what could not be.
    pub fn to_text(&self, path: &std::path::Path) -> String {
        let mut out = String::new();
        let mut line = |text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        let scope = match &self.scope {
            Some(Scope::Meeting(id)) => format!("meeting {id}"),
            Some(Scope::Body(id)) => format!("body {id}"),
            Some(Scope::All) => "the whole log".to_owned(),
            None => "unknown".to_owned(),
        };
        let audience = if self.public { "public" } else { "full" };
        line(format!("bundle: {} ({audience} bundle of {scope}, {} files)", path.display(), self.files));
        line("manifest: every file's BLAKE3 hash checked".to_owned());
        if self.root.is_none() {
            return out;
        }
        line(format!("log key: {} (compare it with one you got elsewhere)", self.log_key));
        line(format!(
            "checkpoint: tree size {} of {}, root {}, signature checked",
            self.tree_size,
            self.origin,
            self.root.map(|root| root.to_hex()).unwrap_or_default()
        ));
        line(format!(
            "events: {} in {} whole streams; each envelope, salted payload hash and inclusion proof checked; \
             {} chain links; {} redacted, {} withheld (their hashes checked, their content not in the bundle)",
            self.events, self.streams, self.chain_links, self.redacted, self.withheld
        ));
        if self.notices_unchecked > 0 {
            line(format!(
                "not checkable: {} redaction notices whose payload.redacted event is not in the bundle",
                self.notices_unchecked
            ));
        }
        if let Some(size) = self.older_checkpoint {
            line(format!("your checkpoint: tree size {size}, proven consistent: the log only grew since"));
        }
        if !self.meetings.is_empty() {
            let meetings: Vec<_> = self.meetings.iter().map(ToString::to_string).collect();
            line(format!(
                "meetings: {}; event views, keys, statements, signatures and rendered minutes re-derived \
                 from the events",
                meetings.join(", ")
            ));
        }
        if let Some(record) = &self.record {
            line(format!(
                "chairs' signatures: {} checked (the signature over the statement, the signer's registered and \
                 unrevoked key, that they presided at the confirming meeting, the pinned tree by a consistency \
                 proof, the events digest, and the minutes digest where the text can be rebuilt)",
                record.signatures_checked
            ));
            for signature in &record.signatures {
                line(format!("  {signature}"));
            }
            for what in &record.unverifiable {
                line(format!("not checkable: {what}"));
            }
        }
        out
    }

    pub fn to_json(&self, path: &std::path::Path) -> serde_json::Value {
        serde_json::json!({
            "bundle": path.display().to_string(),
            "scope": self.scope.as_ref().map(Scope::to_json),
            "audience": if self.public { "public" } else { "entitled" },
            "files": self.files,
            "log_key": self.log_key,
            "origin": self.origin,
            "tree_size": self.tree_size,
            "root": self.root.map(|root| root.to_hex()),
            "events": self.events,
            "streams": self.streams,
            "chain_links": self.chain_links,
            "redacted": self.redacted,
            "withheld": self.withheld,
            "notices_unchecked": self.notices_unchecked,
            "consistency_from": self.consistency_from,
            "older_checkpoint": self.older_checkpoint,
            "meetings": self.meetings,
            "record": self.record.as_ref().map(RecordReport::to_json),
            "ok": self.problem.is_none(),
            "problem": self.problem,
        })
    }
}
