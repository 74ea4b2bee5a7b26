//! Record-level verification: what the log's own checks cannot know.
//! For every chair's signature in the log, as the record stood just
//! before it: the Ed25519 signature verifies strictly over the statement;
//! the key was registered to the signer and not revoked; the signer
//! presided at the confirming meeting; the statement pins a tree the log
//! signed, no larger than the log was then; its events digest is the
//! digest of the meeting's events as confirmed; and its minutes digest is
//! the digest of the canonical minutes text as it stood at confirmation,
//! wherever that text can still be rebuilt (a later redaction removes
//! what it was made from).
//!
//! The log-level checks (hashes, chain, tree, checkpoints) are the log's;
//! this runs after them, so it trusts the bytes it reads.

use std::collections::HashMap;

use ed25519_dalek::{Signature, VerifyingKey};
use minutebook_log::catalogue::{DomainEvent, MeetingId};
use minutebook_log::{Log, Payload, Seq};
use minutebook_projections::minutes::{canonical_text, events_digest, minutes_digest};
use minutebook_projections::record::{apply_from_log, Record};

use crate::domain::SigningStatement;

/// What record-level verification found.
#[derive(Debug, Default)]
pub struct RecordReport {
    pub signatures_checked: u64,
    /// One line per signature: who signed which minutes, at which event.
    pub signatures: Vec<String>,
    /// Minutes whose full-text digest could not be rechecked, and why.
    pub unverifiable: Vec<String>,
    /// The first problem found, if any.
    pub problem: Option<String>,
}

/// Events folded per page.
const PAGE_EVENTS: u64 = 1_000;

pub fn verify_record(log: &Log) -> minutebook_log::Result<RecordReport> {
    let reader = log.reader();
    let mut report = RecordReport::default();
    let mut record = Record::new();
    // Per meeting: the canonical text's digest just before its latest
    // confirmation.
    let mut confirmed_text: HashMap<MeetingId, [u8; 32]> = HashMap::new();
    // Signed minutes digests to compare with the text as confirmed, once
    // the whole log is read (a later redaction changes what can be rebuilt).
    let mut text_checks: Vec<(Seq, MeetingId, [u8; 32], [u8; 32])> = Vec::new();
    let len = reader.len();
    let mut position = 0;
    while position < len {
        let events = reader.read(Seq(position), PAGE_EVENTS as usize)?;
        for event in &events {
            let seq = event.envelope.seq();
            if let Payload::Present { bytes, .. } = &event.payload {
                match DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes) {
                    Ok(DomainEvent::MinutesConfirmed(_)) => {
                        if let Some(meeting) =
                            event.envelope.stream().strip_prefix("meeting:").and_then(|m| MeetingId::new(m).ok())
                        {
                            if let Some(text) = canonical_text(&record, &meeting) {
                                confirmed_text.insert(meeting, minutes_digest(&text));
                            }
                        }
                    }
                    Ok(DomainEvent::MinutesSigned(signed)) => {
                        report.signatures_checked += 1;
                        let meeting =
                            event.envelope.stream().strip_prefix("meeting:").and_then(|m| MeetingId::new(m).ok());
                        let outcome = match &meeting {
                            Some(meeting) => check_signature(log, &record, meeting, seq, &signed),
                            None => Err("a signature outside a meeting's stream".to_owned()),
                        };
                        if let (Some(meeting), Ok(statement)) = (&meeting, SigningStatement::parse(&signed.statement)) {
                            if let Some(text) = confirmed_text.get(meeting) {
                                text_checks.push((seq, meeting.clone(), statement.minutes_digest, *text));
                            }
                        }
                        match outcome {
                            Ok(line) => report.signatures.push(line),
                            Err(why) => {
                                report.problem.get_or_insert(format!("event {}: {why}", seq.0));
                            }
                        }
                    }
                    _ => {}
                }
            }
            apply_from_log(&reader, &mut record, event)?;
        }
        position += events.len() as u64;
        if events.is_empty() {
            break;
        }
    }
    // A redaction, in the meeting's stream or of a person it names, removes
    // what its text as confirmed was made from: that digest cannot be
    // rechecked from the log, only by whoever kept the text.
    let redacted_people: Vec<String> =
        record.people.values().filter(|p| p.redacted.is_some()).map(|p| format!("{} ", p.id)).collect();
    for (seq, meeting_id, signed, rebuilt) in text_checks {
        let Some(meeting) = record.meetings.get(&meeting_id) else { continue };
        let text = canonical_text(&record, &meeting_id).unwrap_or_default();
        let names_redacted = redacted_people.iter().any(|id| text.contains(id.as_str()));
        if !meeting.redactions.is_empty() || names_redacted {
            report.unverifiable.push(format!(
                "the minutes text of meeting {meeting_id}: part of it was redacted later, so only whoever kept the text can recheck its digest"
            ));
        } else if signed != rebuilt {
            report.problem.get_or_insert(format!(
                "event {}: the minutes text of meeting {meeting_id} as confirmed does not have the signed digest",
                seq.0
            ));
        }
    }
    Ok(report)
}

fn check_signature(
    log: &Log,
    record: &Record,
    meeting_id: &MeetingId,
    seq: Seq,
    signed: &minutebook_log::catalogue::MinutesSigned,
) -> Result<String, String> {
    let statement = SigningStatement::parse(&signed.statement)
        .map_err(|why| format!("the signed statement is malformed: {why}"))?;
    let key =
        VerifyingKey::from_bytes(&signed.public_key).map_err(|_| "the public key is not an Ed25519 key".to_owned())?;
    key.verify_strict(signed.statement.as_bytes(), &Signature::from_bytes(&signed.signature.0))
        .map_err(|_| format!("the signature of {} does not verify over the statement", signed.signer))?;
    let person =
        record.people.get(&signed.signer).ok_or_else(|| format!("the signer {} is not registered", signed.signer))?;
    match person.key(&signed.public_key) {
        None => return Err(format!("the key is not registered to {}", signed.signer)),
        Some(key) if key.revoked_at.is_some() => {
            return Err(format!("the key of {} was revoked before signing", signed.signer))
        }
        Some(_) => {}
    }
    let meeting = record.meetings.get(meeting_id).ok_or_else(|| format!("meeting {meeting_id} does not exist"))?;
    let confirmation = meeting
        .confirmation
        .as_ref()
        .ok_or_else(|| format!("meeting {meeting_id} was not confirmed before signing"))?;
    if statement.meeting != *meeting_id
        || statement.confirming_meeting != confirmation.confirmed.by_meeting
        || statement.confirming_item != confirmation.confirmed.by_item
    {
        return Err(format!(
            "the statement names other minutes or another confirming minute than meeting {meeting_id}'s confirmation"
        ));
    }
    let by = record.meetings.get(&confirmation.confirmed.by_meeting).ok_or("the confirming meeting does not exist")?;
    if by.presiding().map(|p| &p.person) != Some(&signed.signer) {
        return Err(format!("{} did not preside at the confirming meeting {}", signed.signer, by.id));
    }
    if statement.tree_size > seq.0 || log.root(statement.tree_size).map_err(|e| e.to_string())? != statement.tree_root {
        return Err(format!(
            "the statement pins a tree (size {}) the log did not have before the signature",
            statement.tree_size
        ));
    }
    if statement.events != confirmation.confirmed.events
        || statement.events_digest != confirmation.confirmed.events_digest
        || events_digest(meeting, statement.events) != statement.events_digest
    {
        return Err(format!("the statement's events digest is not that of meeting {meeting_id}'s events as confirmed"));
    }
    if statement.minutes_digest != confirmation.confirmed.minutes_digest {
        return Err("the statement's minutes digest is not the one recorded at confirmation".to_owned());
    }
    Ok(format!(
        "meeting {meeting_id}: signed by {} (event {}), confirmed by meeting {} agenda item {}",
        signed.signer, seq.0, statement.confirming_meeting, statement.confirming_item
    ))
}
