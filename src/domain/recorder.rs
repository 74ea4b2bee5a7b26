//! The recorder: loads the record from the log, decides a command, and
//! appends its events with the stream versions the decision read, all
//! under one lock so that commands apply one at a time and in order.

use std::ops::Deref;
use std::sync::{Mutex, MutexGuard};

use minutebook_log::{AppendBatch, AppendOutcome, Event, EventId, ExpectedVersion, Log, NewEvent, Seq, TreeHash};
use minutebook_projections::record::Record;
use minutebook_projections::store::{ProjectionError, Projections};

use super::command::{Actor, Command};
use super::decide::{decide, signing_statement, Decision, LogLookup};
use super::refusal::Refusal;
use super::statement::SigningStatement;
use minutebook_catalogue::MeetingId;

/// Why a command was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The rules refused it; nothing was appended.
    #[error("refused ({}): {}", .0.rule.name(), .0.message)]
    Refused(Refusal),
    /// The log refused or failed; see the log's error.
    #[error(transparent)]
    Log(#[from] minutebook_log::Error),
    /// The saved projections could not be read or written.
    #[error("{0}")]
    Projections(String),
    /// The stream moved on since the caller read it.
    #[error("{stream} is at version {current}, not the {expected} the request was based on")]
    Stale { stream: String, expected: u64, current: u64 },
}

impl From<ProjectionError> for CommandError {
    fn from(error: ProjectionError) -> CommandError {
        match error {
            ProjectionError::Log(error) => CommandError::Log(error),
            ProjectionError::Store(message) => CommandError::Projections(message),
        }
    }
}

pub struct Recorder {
    log: Log,
    projections: Mutex<Projections>,
}

/// The record, held while it is read.
pub struct RecordGuard<'a>(MutexGuard<'a, Projections>);

impl Deref for RecordGuard<'_> {
    type Target = Record;
    fn deref(&self) -> &Record {
        self.0.record()
    }
}

/// What a recorded command appended.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub decision: Decision,
    pub outcome: AppendOutcome,
}

impl Recorder {
    /// Opens the saved projections of the log's data directory and
    /// catches them up with the log.
    pub fn new(log: Log) -> Result<Recorder, CommandError> {
        let mut projections = Projections::open(log.directory())?;
        projections.catch_up(&log.reader())?;
        Ok(Recorder { log, projections: Mutex::new(projections) })
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The record, caught up with the log.
    pub fn record(&self) -> Result<RecordGuard<'_>, CommandError> {
        let mut projections = match self.projections.lock() {
            Ok(projections) => projections,
            // A request panicked holding the record (a bug; the server's
            // last net caught it). Recover rather than answer 500 to every
            // request from then on: reload the record last saved, which a
            // half-done fold cannot have touched, and catch it up below.
            Err(poisoned) => {
                tracing::error!("a request panicked while it held the record: reloading the saved record");
                let mut projections = poisoned.into_inner();
                projections.reload()?;
                self.projections.clear_poison();
                projections
            }
        };
        projections.catch_up(&self.log.reader())?;
        Ok(RecordGuard(projections))
    }

    /// Decides and appends one command.
    pub fn execute(&self, actor: &Actor, command: &Command) -> Result<Recorded, CommandError> {
        self.execute_with(actor, command, &Conditions::default())
    }

    /// Decides and appends one command if `conditions` hold: the stream the
    /// caller read is still at the version they saw, and event ids derived
    /// from their idempotency key (so that a retry appends nothing).
    pub fn execute_with(
        &self,
        actor: &Actor,
        command: &Command,
        conditions: &Conditions,
    ) -> Result<Recorded, CommandError> {
        // Decide under the record's lock, append outside it: commands on
        // different meetings then share the log's group commits. The batch
        // expects every stream the decision wrote or read at the version it
        // saw, so a decision made on a record that moved meanwhile conflicts
        // in the log, appends nothing, and is decided again.
        let (decision, batch) = self.decide_batch(&*self.record()?, actor, command, conditions)?;
        let error = match self.log.append(batch) {
            Ok(outcome) => return Ok(Recorded { decision, outcome }),
            Err(error) => error,
        };
        if error.conflict().is_none() {
            return Err(error.into());
        }
        // It lost to a command decided on the same record. Decided again
        // and appended holding the record's lock, no other command is
        // decided meanwhile: only those already decided can still win, one
        // at most a thread, so it does not lose for ever to commands whose
        // appenders keep coming back first.
        let mut record = self.record()?;
        let mut attempts = 1;
        loop {
            let (decision, batch) = self.decide_batch(&record, actor, command, conditions)?;
            let error = match self.log.append(batch) {
                Ok(outcome) => return Ok(Recorded { decision, outcome }),
                Err(error) => error,
            };
            let Some(conflict) = error.conflict().cloned() else {
                return Err(error.into());
            };
            if attempts == DECIDE_ATTEMPTS_MAX {
                return Err(error.into());
            }
            attempts += 1;
            // The record reads what the log acknowledged, the event it
            // conflicted with among it; wait for it should it not be yet.
            let deadline = std::time::Instant::now() + CONFLICT_WAIT;
            loop {
                record.0.catch_up(&self.log.reader())?;
                if record.stream_version(&conflict.stream) >= conflict.actual || std::time::Instant::now() >= deadline {
                    break;
                }
                let len = self.log.len();
                self.log.wait_for_more(len, std::time::Duration::from_millis(10))?;
            }
        }
    }

    fn decide_batch(
        &self,
        record: &Record,
        actor: &Actor,
        command: &Command,
        conditions: &Conditions,
    ) -> Result<(Decision, AppendBatch), CommandError> {
        if let Some((stream, expected)) = &conditions.if_match {
            let current = record.stream_version(stream).0;
            if current != *expected {
                return Err(CommandError::Stale { stream: stream.clone(), expected: *expected, current });
            }
        }
        let decision = decide(record, &Lookup(&self.log), command).map_err(CommandError::Refused)?;
        let mut batch = AppendBatch::new();
        let mut streams: Vec<&String> = Vec::new();
        for stream in decision.events.iter().map(|(stream, _)| stream).chain(&decision.reads) {
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        // The stream the caller named is expected too, so that a change to
        // it after the check above still conflicts.
        if let Some((stream, _)) = &conditions.if_match {
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        for stream in streams {
            batch = batch.expect(stream.clone(), ExpectedVersion::Exactly(record.stream_version(stream)));
        }
        for (event_idx, (stream, event)) in decision.events.iter().enumerate() {
            let event_id = match &conditions.idempotency_key {
                Some(key) => idempotent_event_id(key, event_idx),
                None => EventId::random(),
            };
            batch = batch.event(NewEvent {
                stream: stream.clone(),
                event_id,
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                actor: actor.name.clone(),
                role: actor.role.clone(),
                payload: event.encode(),
            });
        }
        for (seq, notice) in &decision.redactions {
            batch = batch.redact(*seq, notice.clone());
        }
        Ok((decision, batch))
    }

    /// The statement the chair signs for a meeting, pinned to the latest
    /// checkpoint.
    pub fn statement(&self, meeting: &MeetingId) -> Result<SigningStatement, CommandError> {
        let record = self.record()?;
        self.statement_from(&record, meeting)
    }

    /// The statement from a record the caller already holds (the record's
    /// lock, say), pinned to the latest checkpoint.
    pub fn statement_from(&self, record: &Record, meeting: &MeetingId) -> Result<SigningStatement, CommandError> {
        let checkpoint = self.log.latest_checkpoint()?.checkpoint;
        signing_statement(record, meeting, &checkpoint.origin, checkpoint.tree_size, checkpoint.root)
            .map_err(CommandError::Refused)
    }
}

/// How many times a command is decided again after its streams moved
/// between deciding and appending.
pub const DECIDE_ATTEMPTS_MAX: u32 = 64;
/// How long a conflicted command waits for the log to make more events
/// durable before deciding again.
const CONFLICT_WAIT: std::time::Duration = std::time::Duration::from_secs(2);

/// What must hold for a command to be recorded.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    /// The stream and the version the caller last read (HTTP `If-Match`).
    pub if_match: Option<(String, u64)>,
    /// The caller's key for this request (HTTP `Idempotency-Key`).
    pub idempotency_key: Option<String>,
}

/// Event ids from an idempotency key: the same key gives the same ids, so
/// the log answers a retry with the first append's positions.
fn idempotent_event_id(key: &str, event_idx: usize) -> EventId {
    let mut hasher = blake3::Hasher::new_derive_key("minutebook idempotency key to event id v1");
    hasher.update(key.as_bytes());
    hasher.update(&(event_idx as u64).to_le_bytes());
    let mut id = [0u8; 16];
    id.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    EventId(id)
}

/// The log as `decide` sees it.
pub struct Lookup<'a>(pub &'a Log);

impl LogLookup for Lookup<'_> {
    fn origin(&self) -> String {
        self.0.verifier().name().to_owned()
    }
    fn checkpoint_root(&self, tree_size: u64) -> Option<TreeHash> {
        self.0.checkpoint(tree_size).ok().flatten().map(|signed| signed.checkpoint.root)
    }
    fn event(&self, seq: Seq) -> Option<Event> {
        self.0.event(seq).ok().flatten()
    }
}
