//! How the log's own values are stored: the records under event keys,
//! the head, pending scrubs, and the postcard encoding with its limit.
//! docs/LOG-FORMAT.md gives the bytes. The journal and the log both use
//! it; it uses neither.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::limits::STORED_VALUE_BYTES_MAX;
use crate::types::{EventHash, TreeHash};

/// Length of the salt before each payload in the journal.
pub(crate) const SALT_BYTES: u64 = 16;

/// The value stored under an event's key.
#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct Record {
    pub(crate) envelope: Vec<u8>,
    pub(crate) payload: PayloadRef,
}

#[derive(Serialize, Deserialize, PartialEq, Eq)]
pub(crate) enum PayloadRef {
    /// Salt then payload, at `offset` in the journal.
    Stored {
        offset: u64,
        len: u32,
    },
    Redacted {
        notice: String,
    },
}

/// A payload region whose bytes a committed redaction still has to zero.
#[derive(Serialize, Deserialize)]
pub(crate) struct Scrub {
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// The log's head, rewritten by every group commit.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Head {
    pub(crate) len: u64,
    pub(crate) last_hash: EventHash,
    pub(crate) journal_end: u64,
    pub(crate) last_recorded_at_us: i64,
    pub(crate) frontier: Vec<TreeHash>,
}

pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    let bytes = postcard::to_stdvec(value).expect("stored values always encode");
    assert!(bytes.len() <= STORED_VALUE_BYTES_MAX, "stored value of {} bytes", bytes.len());
    bytes
}

pub(crate) fn decode<'a, T: Deserialize<'a>>(what: &str, bytes: &'a [u8]) -> Result<T> {
    let (value, rest) =
        postcard::take_from_bytes(bytes).map_err(|error| Error::corrupt(format!("{what} does not decode: {error}")))?;
    if !rest.is_empty() {
        return Err(Error::corrupt(format!("{what} has {} trailing bytes", rest.len())));
    }
    Ok(value)
}

pub(crate) fn store_io(context: &str) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |error| Error::io(context, error)
}
