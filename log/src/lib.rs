//! minutebook's record itself: the envelope and the hashed, append-only log
//! on sled, its RFC 9162 Merkle tree, signed checkpoints and log-level
//! verification.
//!
//! This crate knows nothing of meetings or of HTTP. It stores events as
//! opaque payloads in envelopes whose bytes docs/LOG-FORMAT.md specifies.

pub mod backup;
pub mod checkpoint;
mod codec;
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
mod report;
pub mod store;
pub mod types;
mod verify;

/// Entry points for the fuzz targets in fuzz/: decoders of bytes read from
/// disk that are private to this crate. Not for use elsewhere.
#[doc(hidden)]
pub mod fuzzing {
    use crate::journal::{FRAME_HEADER_BYTES, FRAME_MAGIC};

    /// The key `check_frame_bytes` checks frames with.
    pub const FRAME_KEY: [u8; 32] = [7; 32];

    /// Reads `bytes` as a journal, frame after frame, as opening would,
    /// with `FRAME_KEY`.
    pub fn check_frame_bytes(bytes: &[u8]) {
        crate::journal::check_journal_bytes(&FRAME_KEY, bytes);
    }

    /// The key a log's journal frames are checksummed with.
    pub fn journal_key(signer: &crate::NoteSigner) -> [u8; 32] {
        signer.derive_key(crate::log::JOURNAL_KEY_CONTEXT)
    }

    /// Parses a checkpoint body (origin, tree size, root), the part of a
    /// note that only a valid signature lets through `NoteVerifier::open`.
    pub fn parse_checkpoint_body(body: &str) -> crate::Result<crate::Checkpoint> {
        crate::checkpoint::Checkpoint::parse_body(body)
    }

    /// Rewrites the checksum of each frame of `journal` (from offset 0, as
    /// long as frames follow one another) with `key`, so that a fuzzer's
    /// changes to a frame's body reach the decoders behind the checksum,
    /// as the bytes of a directory crafted by whoever holds its log.key
    /// would. The checksum is keyed BLAKE3 over the header's first 28 bytes
    /// and the body (journal.rs gives the layout).
    pub fn seal_frames(key: &[u8; 32], journal: &mut [u8]) {
        let header_bytes = FRAME_HEADER_BYTES as usize;
        let mut offset = 0usize;
        while let Some(header) = journal.get(offset..offset + header_bytes) {
            let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes")) as usize;
            let (payloads_len, body_len) = (u32_at(20), u32_at(24));
            let end = offset + header_bytes + payloads_len + body_len;
            if header[..8] != FRAME_MAGIC || end > journal.len() {
                return;
            }
            let mut hasher = blake3::Hasher::new_keyed(key);
            hasher.update(&journal[offset..offset + 28]);
            hasher.update(&journal[offset + header_bytes + payloads_len..end]);
            journal[offset + 28..offset + header_bytes].copy_from_slice(hasher.finalize().as_bytes());
            offset = end;
        }
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
pub use crate::report::{Problem, VerifyReport};
pub use crate::types::*;
