//! minutebook's record itself: the envelope and the hashed, append-only log
//! on sled, its RFC 9162 Merkle tree, signed checkpoints and log-level
//! verification.
//!
//! This crate knows nothing of meetings or of HTTP. It stores events as
//! opaque payloads in envelopes whose bytes docs/LOG-FORMAT.md specifies.

pub mod backup;
pub mod catalogue;
pub mod checkpoint;
pub mod envelope;
mod error;
mod hashing;
mod inspect;
mod journal;
mod keys;
pub mod limits;
mod log;
pub mod merkle;
pub mod portable;
pub mod store;
pub mod types;
mod verify;

/// Entry points for the fuzz targets in fuzz/: decoders of bytes read from
/// disk, with a fixed key. Not for use elsewhere.
#[doc(hidden)]
pub mod fuzzing {
    /// Reads `bytes` as a journal, frame after frame, as opening would.
    pub fn check_frame_bytes(bytes: &[u8]) {
        crate::journal::check_journal_bytes(&[7u8; 32], bytes);
    }
}

pub use crate::checkpoint::{Checkpoint, NoteSigner, NoteVerifier};
pub use crate::envelope::Envelope;
pub use crate::error::{Conflict, Error, ErrorCategory, Result};
pub use crate::inspect::{Inspected, JournalReport, StoreReport};
pub use crate::log::{
    AppendBatch, AppendOutcome, Appended, Event, Log, LogReader, NewEvent, Opened, Payload, Redaction,
    SignedCheckpoint, Subscription, DATA_FORMAT_VERSION, DISK_FREE_BYTES_MIN, FORMAT_FILE, LOCK_FILE, LOG_KEY_FILE,
    LOG_PUBLIC_KEY_FILE, QUARANTINE_DIR, SPACE_RESERVE_BYTES, SPACE_RESERVE_FILE, STORED_NODE_LEVEL_MIN,
};
pub use crate::types::*;
pub use crate::verify::{Problem, VerifyReport};
