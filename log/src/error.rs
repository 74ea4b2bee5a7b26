//! The log's one error type.
//!
//! `Error` wraps a private kind; callers ask it what they need
//! (`category`, `conflict`) and show it with `Display`. Messages are
//! lowercase, without a trailing period, and say what was given and what
//! was allowed.

use std::fmt;
use std::path::PathBuf;

use crate::types::{Seq, StreamVersion};

/// What went wrong, broadly: enough for a caller to choose a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCategory {
    /// A stream moved since the caller read it.
    Conflict,
    /// The request is malformed or breaks a limit; nothing was written.
    Invalid,
    /// An event id was reused with different content.
    IdempotencyMismatch,
    /// Stored bytes are not what the log wrote.
    Corrupt,
    /// A proof, checkpoint or signature does not verify.
    Verification,
    /// The data directory is missing, newer, or in use.
    DataDirectory,
    /// The disk (or the data directory's quota) is full: nothing was
    /// written, the log stays usable, and the same append succeeds once
    /// space is freed.
    StorageFull,
    /// The operating system refused a read or write.
    Io,
    /// A storage failure earlier left this handle unusable; reopen it.
    Failed,
}

/// A stream whose version was not the one the append expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    pub stream: String,
    pub expected: StreamVersion,
    pub actual: StreamVersion,
}

/// The log's error: see `category` for what kind it is.
#[derive(Debug)]
pub struct Error {
    kind: Kind,
}

#[derive(Debug)]
pub(crate) enum Kind {
    Conflict(Conflict),
    Invalid(String),
    IdempotencyMismatch { event_id: String, seq: Seq, what: &'static str },
    Corrupt(String),
    Verification(String),
    DataDirectory { path: PathBuf, message: String },
    Io { context: String, source: std::io::Error },
    Failed(String),
}

/// Whether an I/O error says the disk or a quota is full.
pub fn is_storage_full(error: &std::io::Error) -> bool {
    matches!(error.kind(), std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded)
}

impl Error {
    pub(crate) fn new(kind: Kind) -> Error {
        Error { kind }
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Error {
        Error::new(Kind::Invalid(message.into()))
    }

    pub(crate) fn corrupt(message: impl Into<String>) -> Error {
        Error::new(Kind::Corrupt(message.into()))
    }

    pub(crate) fn verification(message: impl Into<String>) -> Error {
        Error::new(Kind::Verification(message.into()))
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Error {
        Error::new(Kind::Io { context: context.into(), source })
    }

    pub(crate) fn data_directory(path: impl Into<PathBuf>, message: impl Into<String>) -> Error {
        Error::new(Kind::DataDirectory { path: path.into(), message: message.into() })
    }

    pub fn category(&self) -> ErrorCategory {
        match &self.kind {
            Kind::Conflict(_) => ErrorCategory::Conflict,
            Kind::Invalid(_) => ErrorCategory::Invalid,
            Kind::IdempotencyMismatch { .. } => ErrorCategory::IdempotencyMismatch,
            Kind::Corrupt(_) => ErrorCategory::Corrupt,
            Kind::Verification(_) => ErrorCategory::Verification,
            Kind::DataDirectory { .. } => ErrorCategory::DataDirectory,
            Kind::Io { source, .. } if is_storage_full(source) => ErrorCategory::StorageFull,
            Kind::Io { .. } => ErrorCategory::Io,
            Kind::Failed(_) => ErrorCategory::Failed,
        }
    }

    /// The stream and versions, when this is a conflict.
    pub fn conflict(&self) -> Option<&Conflict> {
        match &self.kind {
            Kind::Conflict(conflict) => Some(conflict),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Conflict(c) => write!(
                f,
                "stream {} is at version {}, but the append expected version {}",
                c.stream, c.actual.0, c.expected.0
            ),
            Kind::Invalid(message) | Kind::Corrupt(message) | Kind::Verification(message) => f.write_str(message),
            Kind::IdempotencyMismatch { event_id, seq, what } => {
                write!(f, "event id {event_id} is already stored as event {} with a different {what}", seq.0)
            }
            Kind::DataDirectory { path, message } => {
                write!(f, "data directory {} {message}", path.display())
            }
            Kind::Io { context, source } => write!(f, "{context}: {source}"),
            Kind::Failed(message) => {
                write!(f, "the log stopped accepting appends after a storage failure ({message}); reopen it")
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
