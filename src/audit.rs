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

use std::collections::{BTreeSet, HashMap};

use ed25519_dalek::{Signature, VerifyingKey};
use minutebook_catalogue::{DomainEvent, MeetingId, PersonId};
use minutebook_log::{Event, LogReader, Payload, Seq, TreeHash};
use minutebook_projections::minutes::{canonical_text, events_digest, minutes_digest};
use minutebook_projections::record::{apply_from_log, Record};
use minutebook_projections::view::local_time;

use crate::domain::{statement, SigningStatement};

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

impl RecordReport {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "signatures_checked": self.signatures_checked,
            "signatures": self.signatures,
            "unverifiable": self.unverifiable,
            "problem": self.problem,
        })
    }
}

/// Events folded per page.
const PAGE_EVENTS: u64 = 1_000;

/// Checks every chair's signature in a data directory's log.
pub fn verify_record(reader: &LogReader) -> minutebook_log::Result<RecordReport> {
    let mut check = RecordCheck::default();
    let mut record = Record::new();
    let pinned = |seq: Seq, size: u64, root: &TreeHash| -> Result<(), PinProblem> {
        if size > seq.0 || reader.root(size)? != *root {
            return Err(PinProblem::NotInLog { size });
        }
        Ok(())
    };
    let len = reader.len();
    let mut position = 0;
    while position < len {
        let events = reader.read(Seq(position), PAGE_EVENTS as usize)?;
        for event in &events {
            check.before(&record, event, &pinned);
            apply_from_log(reader, &mut record, event)?;
        }
        position += events.len() as u64;
        if events.is_empty() {
            break;
        }
    }
    Ok(check.finish(&record))
}

/// Whether the log had `root` at tree size `size` when the event at `seq`
/// was appended; the reason if not.
pub type Pinned<'a> = dyn Fn(Seq, u64, &TreeHash) -> Result<(), PinProblem> + 'a;

/// Why a chair's signature does not stand: the report's problem, after
/// the position of the event that holds it.
#[derive(Debug, thiserror::Error)]
pub enum SignatureProblem {
    #[error("a signature outside a meeting's stream")]
    OutsideMeeting,
    #[error("the signed statement is malformed: {0}")]
    Malformed(statement::Error),
    #[error("the public key is not an Ed25519 key")]
    NotEd25519,
    #[error("the signature of {0} does not verify over the statement")]
    DoesNotVerify(PersonId),
    #[error("the signer {0} is not registered")]
    SignerNotRegistered(PersonId),
    #[error("the key is not registered to {0}")]
    KeyNotRegistered(PersonId),
    #[error("the key of {0} was revoked before signing")]
    KeyRevoked(PersonId),
    #[error("meeting {0} does not exist")]
    NoMeeting(MeetingId),
    #[error("meeting {0} was not confirmed before signing")]
    NotConfirmed(MeetingId),
    #[error("the statement names other minutes or another confirming minute than meeting {0}'s confirmation")]
    OtherMinutes(MeetingId),
    #[error("the confirming meeting does not exist")]
    NoConfirmingMeeting,
    #[error("{signer} did not preside at the confirming meeting {meeting}")]
    DidNotPreside { signer: PersonId, meeting: MeetingId },
    #[error(transparent)]
    Pinned(#[from] PinProblem),
    #[error("the statement's events digest is not that of meeting {0}'s events as confirmed")]
    EventsDigest(MeetingId),
    #[error("the statement's minutes digest is not the one recorded at confirmation")]
    MinutesDigest,
}

/// Why the tree a statement pins is not one the log had before the
/// signature: checked against the log itself, or against a bundle's
/// consistency proofs.
#[derive(Debug, thiserror::Error)]
pub enum PinProblem {
    #[error("the statement pins a tree (size {size}) the log did not have before the signature")]
    NotInLog { size: u64 },
    /// The log's root at the pinned size could not be read.
    #[error(transparent)]
    Log(#[from] minutebook_log::Error),
    #[error("the statement pins a tree (size {size}) larger than the log before the signature")]
    LargerThanLog { size: u64 },
    #[error("the bundle holds no consistency proof from the pinned tree size {size}")]
    NoConsistencyProof { size: u64 },
    #[error("the statement pins root {root} at tree size {size}, but the log's root there is {log_root}")]
    OtherRoot { size: u64, root: TreeHash, log_root: TreeHash },
}

/// The record-level checks, fed each event with the record as it stood
/// just before it, in log order.
#[derive(Default)]
pub struct RecordCheck {
    report: RecordReport,
    /// Per meeting: the canonical text's digest just before its latest
    /// confirmation.
    confirmed_text: HashMap<MeetingId, [u8; 32]>,
    /// Signed minutes digests to compare with the text as confirmed, once
    /// every event is read (a later redaction changes what can be rebuilt).
    text_checks: Vec<(Seq, MeetingId, [u8; 32], [u8; 32])>,
    /// Meetings some of whose events' payloads are not at hand.
    withheld: BTreeSet<MeetingId>,
    /// Which meetings' signatures to check (all when `None`): a bundle
    /// holds the streams its own meetings need, not those of every meeting
    /// it names.
    only: Option<Box<InScope>>,
}

/// Whether a meeting's signatures are to be checked.
pub type InScope = dyn Fn(&Record, &MeetingId) -> bool;

impl RecordCheck {
    /// Notes that a payload of the meeting's stream is withheld (from a
    /// public bundle): its text cannot be rebuilt.
    pub fn withheld(&mut self, meeting: MeetingId) {
        self.withheld.insert(meeting);
    }

    /// Checks only the signatures of meetings `in_scope` says.
    pub fn only(in_scope: Box<InScope>) -> RecordCheck {
        RecordCheck { only: Some(in_scope), ..RecordCheck::default() }
    }

    /// Checks `event` against `record` as it stood just before it.
    pub fn before(&mut self, record: &Record, event: &Event, pinned: &Pinned<'_>) {
        let seq = event.envelope.seq();
        let Payload::Present { bytes, .. } = &event.payload else { return };
        let meeting = event.envelope.stream().strip_prefix("meeting:").and_then(|m| MeetingId::new(m).ok());
        match DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), bytes) {
            Ok(DomainEvent::MinutesConfirmed(_)) => {
                if let Some(meeting) = meeting {
                    if let Some(text) = canonical_text(record, &meeting) {
                        self.confirmed_text.insert(meeting, minutes_digest(&text));
                    }
                }
            }
            Ok(DomainEvent::MinutesSigned(_))
                if meeting.as_ref().zip(self.only.as_ref()).is_some_and(|(id, in_scope)| !in_scope(record, id)) => {}
            Ok(DomainEvent::MinutesSigned(signed)) => {
                self.report.signatures_checked += 1;
                let outcome = match &meeting {
                    Some(meeting) => {
                        let withheld = &self.withheld;
                        let mut not_checkable = |what: String| self.report.unverifiable.push(what);
                        check_signature(record, meeting, seq, &signed, pinned, withheld, &mut not_checkable).map(
                            |line| {
                                let at = local_time(event.envelope.recorded_at_us(), "UTC");
                                format!("{line}, recorded {at}")
                            },
                        )
                    }
                    None => Err(SignatureProblem::OutsideMeeting),
                };
                if let (Some(meeting), Ok(statement)) = (&meeting, SigningStatement::parse(&signed.statement)) {
                    if let Some(text) = self.confirmed_text.get(meeting) {
                        self.text_checks.push((seq, meeting.clone(), statement.minutes_digest, *text));
                    }
                }
                match outcome {
                    Ok(line) => self.report.signatures.push(line),
                    Err(why) => {
                        self.report.problem.get_or_insert(format!("event {}: {why}", seq.0));
                    }
                }
            }
            _ => {}
        }
    }

    /// The report, once every event went through `before` and into `record`.
    pub fn finish(mut self, record: &Record) -> RecordReport {
        // A redaction, in the meeting's stream or of a person it names,
        // removes what its text as confirmed was made from: that digest
        // cannot be rechecked from the log, only by whoever kept the text.
        // Nor can it from a bundle that withholds some of the meeting's
        // payloads.
        let redacted_people: Vec<String> =
            record.people.values().filter(|p| p.redacted.is_some()).map(|p| format!("{} ", p.id)).collect();
        for (seq, meeting_id, signed, rebuilt) in self.text_checks {
            let Some(meeting) = record.meetings.get(&meeting_id) else { continue };
            let text = canonical_text(record, &meeting_id).unwrap_or_default();
            let names_redacted = redacted_people.iter().any(|id| text.contains(id.as_str()));
            if self.withheld.contains(&meeting_id) {
                self.report.unverifiable.push(format!(
                    "the minutes text of meeting {meeting_id}: some of its events' payloads are withheld \
                     (exempt, or not yet published), so its digest cannot be rechecked from this bundle"
                ));
            } else if !meeting.redactions.is_empty() || names_redacted {
                self.report.unverifiable.push(format!(
                    "the minutes text of meeting {meeting_id}: part of it was redacted later, so only whoever kept the text can recheck its digest"
                ));
            } else if signed != rebuilt {
                self.report.problem.get_or_insert(format!(
                    "event {}: the minutes text of meeting {meeting_id} as confirmed does not have the signed digest",
                    seq.0
                ));
            }
        }
        self.report
    }
}

fn check_signature(
    record: &Record,
    meeting_id: &MeetingId,
    seq: Seq,
    signed: &minutebook_catalogue::MinutesSigned,
    pinned: &Pinned<'_>,
    withheld: &BTreeSet<MeetingId>,
    not_checkable: &mut dyn FnMut(String),
) -> Result<String, SignatureProblem> {
    let statement = SigningStatement::parse(&signed.statement).map_err(SignatureProblem::Malformed)?;
    let key = VerifyingKey::from_bytes(&signed.public_key).map_err(|_| SignatureProblem::NotEd25519)?;
    key.verify_strict(signed.statement.as_bytes(), &Signature::from_bytes(&signed.signature.0))
        .map_err(|_| SignatureProblem::DoesNotVerify(signed.signer.clone()))?;
    let person = record
        .people
        .get(&signed.signer)
        .ok_or_else(|| SignatureProblem::SignerNotRegistered(signed.signer.clone()))?;
    match person.key(&signed.public_key) {
        None => return Err(SignatureProblem::KeyNotRegistered(signed.signer.clone())),
        Some(key) if key.revoked_at.is_some() => return Err(SignatureProblem::KeyRevoked(signed.signer.clone())),
        Some(_) => {}
    }
    let meeting = record.meetings.get(meeting_id).ok_or_else(|| SignatureProblem::NoMeeting(meeting_id.clone()))?;
    let confirmation =
        meeting.confirmation.as_ref().ok_or_else(|| SignatureProblem::NotConfirmed(meeting_id.clone()))?;
    if statement.meeting != *meeting_id
        || statement.confirming_meeting != confirmation.confirmed.by_meeting
        || statement.confirming_item != confirmation.confirmed.by_item
    {
        return Err(SignatureProblem::OtherMinutes(meeting_id.clone()));
    }
    let by_meeting = &confirmation.confirmed.by_meeting;
    if withheld.contains(by_meeting) {
        not_checkable(format!(
            "who presided at meeting {by_meeting}, which confirmed meeting {meeting_id}'s minutes: its record is \
             withheld from this bundle (not yet published, or exempt)"
        ));
    } else {
        let by = record.meetings.get(by_meeting).ok_or(SignatureProblem::NoConfirmingMeeting)?;
        if by.presiding().map(|p| &p.person) != Some(&signed.signer) {
            return Err(SignatureProblem::DidNotPreside { signer: signed.signer.clone(), meeting: by.id.clone() });
        }
    }
    pinned(seq, statement.tree_size, &statement.tree_root)?;
    if statement.events != confirmation.confirmed.events
        || statement.events_digest != confirmation.confirmed.events_digest
        || events_digest(meeting, statement.events) != Some(statement.events_digest)
    {
        return Err(SignatureProblem::EventsDigest(meeting_id.clone()));
    }
    if statement.minutes_digest != confirmation.confirmed.minutes_digest {
        return Err(SignatureProblem::MinutesDigest);
    }
    Ok(format!(
        "meeting {meeting_id}: signed by {} (event {}), confirmed by meeting {} agenda item {}",
        signed.signer, seq.0, statement.confirming_meeting, statement.confirming_item
    ))
}
