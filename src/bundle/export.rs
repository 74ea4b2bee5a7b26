//! Exporting a bundle from a data directory.
//!
//! The bundle holds whole streams, so that an auditor can fold them into
//! the same minutes the server shows: the streams of the meetings in
//! scope, of their bodies, of the meetings their events name (the
//! meeting that confirmed them, the one whose minute authorised a
//! correction), and of every person any of those events name.

use std::collections::{BTreeMap, BTreeSet};

use minutebook_catalogue::DomainEvent;
use minutebook_log::portable::{check_carried, Carried, Content};
use minutebook_log::{Event, Log, Payload, Seq};
use minutebook_projections::record::Record;

use super::derive::{derived_files, event_dir, fold, Evidence, Meta, Scope, WITHHELD_TEXT};
use super::files::{Bundle, CHECKPOINT, CONSISTENCY_DIR, DESCRIPTION, LOG_KEY};
use crate::policy::visibility::public_may_read;

/// Why nothing was exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The scope names nothing the log holds.
    #[error("{0}")]
    NotFound(String),
    /// The request cannot be met as asked.
    #[error("{0}")]
    Invalid(String),
    /// The scope holds more events than this export may carry.
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Log(#[from] minutebook_log::Error),
}

/// Events read per page.
const PAGE_EVENTS: usize = 1_000;

/// Exports `scope` as of the log's latest checkpoint. `record` is the
/// record at least that far: it says which streams the scope needs and,
/// for a `public` bundle, which payloads the public may not read. `since`
/// lists older tree sizes to prove the checkpoint consistent with (an
/// auditor's kept checkpoints); the tree sizes the chairs' statements pin
/// are always proven.
pub fn export(log: &Log, record: &Record, meta: &Meta, since: &[u64]) -> Result<Bundle, ExportError> {
    export_at_most(log, record, meta, since, u64::MAX)
}

/// As `export`, refusing a scope of more than `max_events` events before
/// reading them: a bundle is built in memory.
pub fn export_at_most(
    log: &Log,
    record: &Record,
    meta: &Meta,
    since: &[u64],
    max_events: u64,
) -> Result<Bundle, ExportError> {
    let signed = log.latest_checkpoint()?;
    let size = signed.checkpoint.tree_size;
    let too_large = |n: u64| {
        ExportError::TooLarge(format!(
            "{} holds {n} events, more than the {max_events} exported here; use minutebook export on the server",
            meta.scope.slug()
        ))
    };
    let events = match &meta.scope {
        Scope::All if size > max_events => return Err(too_large(size)),
        Scope::All => read_all(log, size)?,
        scope => {
            let streams = streams_of(log, record, scope, meta.public)?;
            let mut n = 0;
            for stream in &streams {
                n += log.stream_version(stream)?.0;
            }
            if n > max_events {
                return Err(too_large(n));
            }
            let mut events = Vec::new();
            for stream in streams {
                events.extend(read_stream(log, &stream, size)?);
            }
            events.sort_by_key(|event| event.envelope.seq());
            events
        }
    };
    let mut carried = Vec::with_capacity(events.len());
    let mut pinned = BTreeSet::new();
    for event in &events {
        let content = match &event.payload {
            Payload::Redacted { notice } => Content::Redacted { notice: notice.clone() },
            Payload::Present { .. } if meta.public && !public_may_read(record, event) => Content::Withheld,
            Payload::Present { salt, bytes } => {
                if let Ok(DomainEvent::MinutesSigned(signed)) =
                    DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes)
                {
                    if let Ok(statement) = crate::domain::SigningStatement::parse(&signed.statement) {
                        pinned.insert(statement.tree_size);
                    }
                }
                Content::Present { salt: *salt, bytes: bytes.clone() }
            }
        };
        let inclusion = log.inclusion_proof(event.envelope.seq(), size)?;
        let item = Carried { envelope_bytes: event.envelope_bytes.clone(), content, inclusion };
        // What is exported is checked as the verifier will check it.
        let checked = check_carried(event.envelope.seq(), &item, &signed.checkpoint).map_err(|problem| {
            ExportError::Invalid(format!("the log's own {problem}: run minutebook verify on the data directory"))
        })?;
        carried.push((item, checked));
    }
    let mut consistency = BTreeMap::new();
    for &old in since.iter().chain(&pinned) {
        if old > size {
            return Err(ExportError::Invalid(format!(
                "tree size {old} is larger than the log's latest checkpoint ({size})"
            )));
        }
        consistency.insert(old, (log.root(old)?, log.consistency_proof(old, size)?));
    }
    let evidence = Evidence {
        log_key: log.verifier().to_vkey(),
        checkpoint_note: signed.note,
        checkpoint: signed.checkpoint,
        events: carried,
        consistency,
    };
    Ok(assemble(meta, &evidence))
}

/// A sealed bundle of `evidence`: its evidence files, its derived files
/// and its manifest.
pub fn assemble(meta: &Meta, evidence: &Evidence) -> Bundle {
    let mut bundle = Bundle::default();
    let files = &mut bundle.files;
    files.insert(LOG_KEY.to_owned(), format!("{}\n", evidence.log_key).into_bytes());
    files.insert(CHECKPOINT.to_owned(), evidence.checkpoint_note.clone().into_bytes());
    for (carried, checked) in &evidence.events {
        let dir = event_dir(checked.envelope.seq().0);
        files.insert(format!("{dir}/envelope"), carried.envelope_bytes.clone());
        match &carried.content {
            Content::Present { salt, bytes } => {
                files.insert(format!("{dir}/salt"), salt.0.to_vec());
                files.insert(format!("{dir}/payload"), bytes.clone());
            }
            Content::Redacted { notice } => {
                files.insert(format!("{dir}/redacted"), notice.clone().into_bytes());
            }
            Content::Withheld => {
                files.insert(format!("{dir}/withheld"), WITHHELD_TEXT.as_bytes().to_vec());
            }
        }
        files.insert(format!("{dir}/inclusion"), hash_lines(&carried.inclusion).into_bytes());
    }
    for (old, (root, proof)) in &evidence.consistency {
        let text = format!("{root}\n{}", hash_lines(proof));
        files.insert(format!("{CONSISTENCY_DIR}/{old}"), text.into_bytes());
    }
    let events = evidence.log_events();
    let record = fold(&events, |_, _| {});
    files.extend(derived_files(meta, evidence, &events, &record));
    debug_assert!(files.contains_key(DESCRIPTION));
    bundle.seal();
    bundle
}

/// Hashes as a proof file holds them: lowercase hex, one per line.
pub fn hash_lines(hashes: &[minutebook_log::TreeHash]) -> String {
    hashes.iter().map(|hash| format!("{hash}\n")).collect()
}

fn read_all(log: &Log, size: u64) -> Result<Vec<Event>, ExportError> {
    let mut events = Vec::new();
    while (events.len() as u64) < size {
        let page = log.read(Seq(events.len() as u64), PAGE_EVENTS.min((size - events.len() as u64) as usize))?;
        if page.is_empty() {
            break;
        }
        events.extend(page);
    }
    Ok(events)
}

fn read_stream(log: &Log, stream: &str, size: u64) -> Result<Vec<Event>, ExportError> {
    Ok(minutebook_projections::time::stream_before(log, stream, size)?)
}

/// The streams a meeting's or a body's bundle holds whole.
fn streams_of(log: &Log, record: &Record, scope: &Scope, public: bool) -> Result<BTreeSet<String>, ExportError> {
    let meetings: Vec<_> = match scope {
        Scope::Meeting(id) => {
            let meeting = record.meetings.get(id).ok_or_else(|| ExportError::NotFound(format!("no meeting {id}")))?;
            vec![meeting]
        }
        Scope::Body(id) => {
            if !record.bodies.contains_key(id) {
                return Err(ExportError::NotFound(format!("no body {id}")));
            }
            record.meetings.values().filter(|meeting| meeting.body == *id).collect()
        }
        Scope::All => unreachable!("the whole log is every stream"),
    };
    let mut streams = BTreeSet::new();
    let mut named = Named::default();
    for meeting in &meetings {
        streams.insert(meeting.stream());
        streams.insert(format!("body:{}", meeting.body));
        named.visit_stream(log, record, &meeting.stream(), public)?;
    }
    // The meetings the scope's events name, with their bodies: one step,
    // not their own references in turn.
    for id in std::mem::take(&mut named.meetings) {
        if let Some(meeting) = record.meetings.get(id.as_str()) {
            streams.insert(meeting.stream());
            streams.insert(format!("body:{}", meeting.body));
        }
    }
    // Everyone any of those events name.
    for stream in streams.clone() {
        named.visit_stream(log, record, &stream, public)?;
    }
    streams.extend(named.people.iter().map(|person| format!("person:{person}")));
    Ok(streams)
}

/// The meetings and people events name: every string in a payload that is
/// a meeting's or a person's id.
#[derive(Default)]
struct Named {
    meetings: BTreeSet<String>,
    people: BTreeSet<String>,
}

impl Named {
    fn visit_stream(&mut self, log: &Log, record: &Record, stream: &str, public: bool) -> Result<(), ExportError> {
        for event in read_stream(log, stream, u64::MAX)? {
            let Payload::Present { bytes, .. } = &event.payload else { continue };
            if public && !public_may_read(record, &event) {
                continue;
            }
            let Ok(decoded) = DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes)
            else {
                continue;
            };
            // A redaction's residue names whoever the redacted event named.
            if let DomainEvent::PayloadRedacted(redaction) = &decoded {
                if let Ok(residue) = redaction.decode_residue() {
                    self.visit(record, &serde_json::to_value(&residue).expect("a payload always encodes"));
                }
            }
            let value = serde_json::to_value(&decoded).expect("a payload always encodes");
            self.visit(record, &value);
        }
        Ok(())
    }

    fn visit(&mut self, record: &Record, value: &serde_json::Value) {
        match value {
            serde_json::Value::String(text) => {
                if record.meetings.contains_key(text.as_str()) {
                    self.meetings.insert(text.clone());
                }
                if record.people.contains_key(text.as_str()) {
                    self.people.insert(text.clone());
                }
            }
            serde_json::Value::Array(values) => values.iter().for_each(|v| self.visit(record, v)),
            serde_json::Value::Object(map) => map.values().for_each(|v| self.visit(record, v)),
            _ => {}
        }
    }
}
