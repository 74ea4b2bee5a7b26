//! The recorder: loads the record from the log, decides a command, and
//! appends its events with the stream versions the decision read, all
//! under one lock so that commands apply one at a time and in order.

use std::sync::{Mutex, MutexGuard};

use minutebook_log::{AppendBatch, AppendOutcome, Event, EventId, ExpectedVersion, Log, NewEvent, Seq, TreeHash};
use minutebook_projections::record::{catch_up, Record};

use super::command::{Actor, Command};
use super::decide::{decide, signing_statement, Decision, LogLookup};
use super::refusal::Refusal;
use super::statement::SigningStatement;
use minutebook_log::catalogue::MeetingId;

/// Why a command was not recorded.
#[derive(Debug)]
pub enum CommandError {
    /// The rules refused it; nothing was appended.
    Refused(Refusal),
    /// The log refused or failed; see the log's error.
    Log(minutebook_log::Error),
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommandError::Refused(refusal) => write!(f, "refused ({}): {}", refusal.rule.name(), refusal.message),
            CommandError::Log(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for CommandError {}

impl From<minutebook_log::Error> for CommandError {
    fn from(error: minutebook_log::Error) -> CommandError {
        CommandError::Log(error)
    }
}

pub struct Recorder {
    log: Log,
    record: Mutex<Record>,
}

/// What a recorded command appended.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub decision: Decision,
    pub outcome: AppendOutcome,
}

impl Recorder {
    pub fn new(log: Log) -> Result<Recorder, minutebook_log::Error> {
        let mut record = Record::new();
        catch_up(&log.reader(), &mut record)?;
        Ok(Recorder { log, record: Mutex::new(record) })
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    /// The record, caught up with the log.
    pub fn record(&self) -> Result<MutexGuard<'_, Record>, minutebook_log::Error> {
        let mut record = self.record.lock().unwrap();
        catch_up(&self.log.reader(), &mut record)?;
        Ok(record)
    }

    /// Decides and appends one command.
    pub fn execute(&self, actor: &Actor, command: &Command) -> Result<Recorded, CommandError> {
        let mut record = self.record()?;
        let decision = decide(&record, &Lookup(&self.log), command).map_err(CommandError::Refused)?;
        let mut batch = AppendBatch::new();
        let mut streams: Vec<&String> = Vec::new();
        for stream in decision.events.iter().map(|(stream, _)| stream).chain(&decision.reads) {
            if !streams.contains(&stream) {
                streams.push(stream);
            }
        }
        for stream in streams {
            batch = batch.expect(stream.clone(), ExpectedVersion::Exactly(record.stream_version(stream)));
        }
        for (stream, event) in &decision.events {
            batch = batch.event(NewEvent {
                stream: stream.clone(),
                event_id: EventId::random(),
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
        let outcome = self.log.append(batch)?;
        catch_up(&self.log.reader(), &mut record)?;
        Ok(Recorded { decision, outcome })
    }

    /// The statement the chair signs for a meeting, pinned to the latest
    /// checkpoint.
    pub fn statement(&self, meeting: &MeetingId) -> Result<SigningStatement, CommandError> {
        let record = self.record()?;
        let checkpoint = self.log.latest_checkpoint()?.checkpoint;
        signing_statement(&record, meeting, &checkpoint.origin, checkpoint.tree_size, checkpoint.root)
            .map_err(CommandError::Refused)
    }
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
