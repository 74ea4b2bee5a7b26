//! minutebook's record itself: the envelope and the hashed, append-only log
//! on sled, its RFC 9162 Merkle tree, signed checkpoints and log-level
//! verification.
//!
//! This crate knows nothing of meetings or of HTTP. It stores events as
//! opaque payloads in envelopes whose bytes docs/LOG-FORMAT.md specifies.

pub mod catalogue;
pub mod checkpoint;
pub mod envelope;
mod error;
mod hashing;
mod journal;
mod keys;
pub mod limits;
mod log;
pub mod merkle;
pub mod portable;
pub mod store;
pub mod types;
mod verify;

pub use crate::checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
pub use crate::envelope::Envelope;
pub use crate::error::{Conflict, Error, ErrorCategory, Result};
pub use crate::log::{
    AppendBatch, AppendOutcome, Appended, Event, Log, LogReader, NewEvent, Payload, Redaction, SignedCheckpoint,
    Subscription, DATA_FORMAT_VERSION, FORMAT_FILE, LOCK_FILE, LOG_KEY_FILE, LOG_PUBLIC_KEY_FILE,
    STORED_NODE_LEVEL_MIN,
};
pub use crate::types::*;
pub use crate::verify::{Problem, VerifyReport};
