//! The journal: one frame per group commit, each holding the group's
//! payloads and the store batch that references them.
//!
//! A commit writes its frame and fdatasyncs the journal; that one sync is
//! what makes the group durable, and only then is it applied to the store
//! and acknowledged. The store is flushed (sled's flush, then an fdatasync
//! of its data file) now and then rather than on every commit, and on open
//! every complete frame past the head the store last kept is applied
//! again. The journal is never truncated: payloads stay in it, where a
//! redaction can overwrite them in place.
//!
//! Frame layout (integers little-endian):
//!
//! ```text
//! offset  size  field
//!      0     8  magic "mbframe1"
//!      8     8  first_seq: seq of the group's first event
//!     16     4  n_events
//!     20     4  payloads_len: bytes of the payload area
//!     24     4  body_len: bytes of the body
//!     28    32  checksum: keyed BLAKE3 over bytes 0..28 then the body
//!     60     …  payload area: per event, salt (16) then payload
//!      …     …  body: postcard of (Head, WriteBatch)
//! ```
//!
//! The checksum is keyed with a key derived from the log's signing key, so
//! that bytes a client chose (a payload) can never pass for a frame. It
//! leaves out the payload area so that a redaction can zero a
//! payload without breaking its frame; payloads are checked by their salted
//! hashes instead.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::log::{decode, store_io, Head};
use crate::store::{Store, WriteBatch};

pub const FRAME_MAGIC: [u8; 8] = *b"mbframe1";
pub const FRAME_HEADER_BYTES: u64 = 60;
/// Largest payload area of one frame.
pub const FRAME_PAYLOADS_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Largest body of one frame.
pub const FRAME_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

#[derive(Serialize, Deserialize)]
pub(crate) struct FrameBody {
    /// The head after the group; its `journal_end` is set on apply to the
    /// frame's end.
    pub(crate) head: Head,
    pub(crate) batch: WriteBatch,
}

/// The bytes of a frame.
pub(crate) fn encode_frame(
    key: &[u8; 32],
    first_seq: u64,
    n_events: u32,
    payloads: &[u8],
    body: &FrameBody,
) -> Vec<u8> {
    let body = postcard::to_stdvec(body).expect("frame bodies always encode");
    assert!(payloads.len() <= FRAME_PAYLOADS_BYTES_MAX);
    assert!(body.len() <= FRAME_BODY_BYTES_MAX, "frame body of {} bytes", body.len());
    let mut frame = Vec::with_capacity(FRAME_HEADER_BYTES as usize + payloads.len() + body.len());
    frame.extend_from_slice(&FRAME_MAGIC);
    frame.extend_from_slice(&first_seq.to_le_bytes());
    frame.extend_from_slice(&n_events.to_le_bytes());
    frame.extend_from_slice(&(payloads.len() as u32).to_le_bytes());
    frame.extend_from_slice(&(body.len() as u32).to_le_bytes());
    let checksum = checksum(key, &frame[..28], &body);
    frame.extend_from_slice(&checksum);
    frame.extend_from_slice(payloads);
    frame.extend_from_slice(&body);
    frame
}

fn checksum(key: &[u8; 32], header: &[u8], body: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher.update(header);
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// A frame read back, and where the next one starts.
pub(crate) struct ReadFrame {
    pub(crate) body: FrameBody,
    pub(crate) end: u64,
}

/// The complete frame at `offset`, if there is one there whose first event
/// is `expected_seq`. A torn or stale frame, or zeros, is `None`.
pub(crate) fn read_frame(
    key: &[u8; 32],
    store: &dyn Store,
    offset: u64,
    expected_seq: u64,
) -> Result<Option<ReadFrame>> {
    let journal_len = store.journal_len().map_err(store_io("reading the journal's length"))?;
    if offset + FRAME_HEADER_BYTES > journal_len {
        return Ok(None);
    }
    let mut header = [0u8; FRAME_HEADER_BYTES as usize];
    store.read_journal(offset, &mut header).map_err(store_io("reading a journal frame"))?;
    let u32_at = |at: usize| u32::from_le_bytes(header[at..at + 4].try_into().expect("4 bytes"));
    let first_seq = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
    let (n_events, payloads_len, body_len) = (u32_at(16), u32_at(20) as u64, u32_at(24) as u64);
    if header[..8] != FRAME_MAGIC
        || first_seq != expected_seq
        || payloads_len > FRAME_PAYLOADS_BYTES_MAX as u64
        || body_len > FRAME_BODY_BYTES_MAX as u64
    {
        return Ok(None);
    }
    let end = offset + FRAME_HEADER_BYTES + payloads_len + body_len;
    if end > journal_len {
        return Ok(None);
    }
    let mut body = vec![0u8; body_len as usize];
    store
        .read_journal(offset + FRAME_HEADER_BYTES + payloads_len, &mut body)
        .map_err(store_io("reading a journal frame"))?;
    if checksum(key, &header[..28], &body) != header[28..60] {
        return Ok(None);
    }
    // A frame whose checksum holds was written by this code: a body that
    // then fails to decode is corruption, not a torn write.
    let body: FrameBody = decode("journal frame body", &body)?;
    assert_eq!(body.head.len, first_seq + u64::from(n_events));
    Ok(Some(ReadFrame { body, end }))
}

/// Zeroes what a torn frame may have left at `offset`, so that no stale
/// bytes ever follow a later frame.
pub(crate) fn clear_tail(store: &dyn Store, offset: u64) -> Result<()> {
    let journal_len = store.journal_len().map_err(store_io("reading the journal's length"))?;
    let end = journal_len.min(offset + FRAME_HEADER_BYTES + (FRAME_PAYLOADS_BYTES_MAX + FRAME_BODY_BYTES_MAX) as u64);
    if offset >= end {
        return Ok(());
    }
    let mut first = vec![0u8; FRAME_HEADER_BYTES.min(end - offset) as usize];
    store.read_journal(offset, &mut first).map_err(store_io("reading the journal's tail"))?;
    if first.iter().all(|byte| *byte == 0) {
        return Ok(());
    }
    let zeros = vec![0u8; 1024 * 1024];
    let mut position = offset;
    while position < end {
        let n_bytes = zeros.len().min((end - position) as usize);
        store.write_journal(position, &zeros[..n_bytes]).map_err(store_io("clearing the journal's tail"))?;
        position += n_bytes as u64;
    }
    store.sync_journal().map_err(store_io("clearing the journal's tail"))
}
