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
//!
//! Reading the journal back is where a record is most easily destroyed, so
//! `examine` decides, for the bytes where the next frame should start,
//! between four cases and nothing else: a valid frame, the clean end (zeros
//! to the end of the file), a torn write (what a crash in the middle of
//! writing the last frame leaves), and corruption. Only a torn write may be
//! overwritten, and the rule that recognises one is in docs/LOG-FORMAT.md
//! ("Torn writes and corruption"): it relies on the journal growing by
//! written zeros, so that a byte a crash kept from being written is still
//! zero, whereas a damaged byte is usually not.

use serde::{Deserialize, Serialize};

use crate::codec::{decode, store_io, Head, PayloadRef, Record, SALT_BYTES};
use crate::envelope::{stored_payload_hash, Envelope};
use crate::error::{Error, Result};
use crate::limits::EVENT_PAYLOAD_BYTES_MAX;
use crate::store::{Store, WriteBatch};

pub const FRAME_MAGIC: [u8; 8] = *b"mbframe1";
pub const FRAME_HEADER_BYTES: u64 = 60;
pub use crate::limits::{FRAME_BODY_BYTES_MAX, FRAME_PAYLOADS_BYTES_MAX};
/// Largest frame, header included.
pub const FRAME_BYTES_MAX: u64 = FRAME_HEADER_BYTES + (FRAME_PAYLOADS_BYTES_MAX + FRAME_BODY_BYTES_MAX) as u64;
/// The unit a disk writes whole: a crash may keep any of a write's sectors
/// from reaching the disk, but never half of one (docs/LOG-FORMAT.md, "What
/// we assume of the disk").
pub const SECTOR_BYTES: u64 = 512;
/// How much of the journal one read takes while scanning past a failed
/// frame.
const SCAN_CHUNK_BYTES: usize = 1024 * 1024;

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
    // A frame's last byte is never zero (a body ends with a checkpoint note's
    // newline, or, in a group that only redacts, a scrub's non-zero length):
    // a torn write that never reached it is recognised by that.
    assert_ne!(frame.last(), Some(&0), "a frame ends with a non-zero byte");
    frame
}

fn checksum(key: &[u8; 32], header: &[u8], body: &[u8]) -> [u8; 32] {
    let mut hasher = blake3::Hasher::new_keyed(key);
    hasher.update(header);
    hasher.update(body);
    *hasher.finalize().as_bytes()
}

/// Where journal bytes are read from: the store's journal, or the file
/// itself opened read-only (by `minutebook verify`).
pub(crate) trait JournalSource {
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()>;
    fn journal_len(&self) -> std::io::Result<u64>;
}

impl JournalSource for &dyn Store {
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        Store::read_journal(*self, offset, buffer)
    }
    fn journal_len(&self) -> std::io::Result<u64> {
        Store::journal_len(*self)
    }
}

impl JournalSource for std::fs::File {
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        std::os::unix::fs::FileExt::read_exact_at(self, buffer, offset)
    }
    fn journal_len(&self) -> std::io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

/// A journal held in memory: for the fuzzer and for tests.
pub(crate) struct JournalBytes<'a>(pub(crate) &'a [u8]);

impl JournalSource for JournalBytes<'_> {
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> std::io::Result<()> {
        let start = usize::try_from(offset).map_err(std::io::Error::other)?;
        let bytes = start
            .checked_add(buffer.len())
            .and_then(|end| self.0.get(start..end))
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))?;
        buffer.copy_from_slice(bytes);
        Ok(())
    }
    fn journal_len(&self) -> std::io::Result<u64> {
        Ok(self.0.len() as u64)
    }
}

/// A frame read back, and where the next one starts.
pub(crate) struct ReadFrame {
    pub(crate) body: FrameBody,
    pub(crate) end: u64,
}

/// What the journal holds where the next frame should start.
pub(crate) enum FrameAt {
    Frame(ReadFrame),
    /// Zeros to the end of the file: the journal ends here.
    End,
    /// What a crash while writing the last frame leaves: the frame was
    /// never acknowledged. Its bytes lie in `offset..end`; zeros follow.
    Torn {
        end: u64,
    },
    /// Anything else: bytes that may hold acknowledged events and must be
    /// left as they are.
    Corrupt(String),
}

/// A frame header's fields.
struct Header {
    magic: [u8; 8],
    first_seq: u64,
    n_events: u32,
    payloads_len: u64,
    body_len: u64,
    checksum: [u8; 32],
}

impl Header {
    fn parse(bytes: &[u8; FRAME_HEADER_BYTES as usize]) -> Header {
        let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        Header {
            magic: bytes[..8].try_into().expect("8 bytes"),
            first_seq: u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes")),
            n_events: u32_at(16),
            payloads_len: u64::from(u32_at(20)),
            body_len: u64::from(u32_at(24)),
            checksum: bytes[28..60].try_into().expect("32 bytes"),
        }
    }

    fn lengths_within_limits(&self) -> bool {
        self.payloads_len <= FRAME_PAYLOADS_BYTES_MAX as u64 && self.body_len <= FRAME_BODY_BYTES_MAX as u64
    }

    fn frame_len(&self) -> u64 {
        FRAME_HEADER_BYTES + self.payloads_len + self.body_len
    }
}

/// Checks a frame whose header and body are in hand: its checksum, then its
/// body. `Ok(None)` when the checksum does not match.
fn check_frame(
    key: &[u8; 32],
    header_bytes: &[u8; FRAME_HEADER_BYTES as usize],
    header: &Header,
    body: &[u8],
    end: u64,
) -> std::result::Result<Option<ReadFrame>, String> {
    if checksum(key, &header_bytes[..28], body) != header.checksum {
        return Ok(None);
    }
    // A frame whose checksum holds was written by this code: a body that
    // then fails to decode, or disagrees with its header, is corruption.
    let body: FrameBody = decode("journal frame body", body).map_err(|error| error.to_string())?;
    if body.head.len != header.first_seq.saturating_add(u64::from(header.n_events)) {
        return Err(format!(
            "its body's head says the log holds {} events, but its header says {} + {}",
            body.head.len, header.first_seq, header.n_events
        ));
    }
    // One hash per complete subtree, as `merkle::Frontier` keeps: a head
    // with more would not fit the store's value limit when applied.
    if body.head.frontier.len() != body.head.len.count_ones() as usize {
        return Err(format!(
            "its body's head has {} tree frontier hashes where a tree of {} events has {}",
            body.head.frontier.len(),
            body.head.len,
            body.head.len.count_ones()
        ));
    }
    Ok(Some(ReadFrame { body, end }))
}

/// Reads a journal held in `bytes` as opening would, frame after frame
/// from offset 0, and decodes the body of a frame whatever its checksum
/// (which keeps a fuzzer's bytes from reaching the decoder otherwise).
/// Never panics, and allocates no more than the bytes given: for the
/// fuzzer (`minutebook_log::fuzzing`).
pub(crate) fn check_journal_bytes(key: &[u8; 32], bytes: &[u8]) -> usize {
    let source = JournalBytes(bytes);
    let (mut offset, mut seq, mut n_frames) = (0u64, 0u64, 0usize);
    while let Ok(FrameAt::Frame(frame)) = examine(key, &source, offset, seq) {
        offset = frame.end;
        seq = frame.body.head.len;
        n_frames += 1;
    }
    if let Some(header_bytes) = bytes.get(..FRAME_HEADER_BYTES as usize) {
        let header = Header::parse(header_bytes.try_into().expect("60 bytes"));
        let body_start = (FRAME_HEADER_BYTES + header.payloads_len) as usize;
        if let Some(body) = body_start.checked_add(header.body_len as usize).and_then(|end| bytes.get(body_start..end))
        {
            let _ = decode::<FrameBody>("journal frame body", body);
        }
    }
    n_frames
}

/// Whether a frame header for `first_seq` starts at `offset`: its magic and
/// first sequence number (a cheap probe; `examine` checks the frame).
pub(crate) fn starts_frame(source: &dyn JournalSource, offset: u64, first_seq: u64) -> std::io::Result<bool> {
    if offset.saturating_add(FRAME_HEADER_BYTES) > source.journal_len()? {
        return Ok(false);
    }
    let mut header = [0u8; 16];
    source.read_journal(offset, &mut header)?;
    Ok(header[..8] == FRAME_MAGIC && header[8..16] == first_seq.to_le_bytes())
}

/// Decides what the journal holds at `offset`, where the frame of event
/// `expected_seq` should start. Reads only; changes nothing.
pub(crate) fn examine(key: &[u8; 32], source: &dyn JournalSource, offset: u64, expected_seq: u64) -> Result<FrameAt> {
    let journal_len = source.journal_len().map_err(store_io("reading the journal's length"))?;
    if offset > journal_len {
        return Ok(FrameAt::Corrupt(format!(
            "the store says the journal's frames end at offset {offset}, but the journal is only {journal_len} bytes long"
        )));
    }
    if offset + FRAME_HEADER_BYTES > journal_len {
        return Ok(match last_nonzero(source, offset, journal_len)? {
            None => FrameAt::End,
            Some(at) => FrameAt::Corrupt(format!(
                "non-zero bytes at offset {at}, in the last {} bytes of the journal, where no frame fits",
                journal_len - offset
            )),
        });
    }
    let mut header_bytes = [0u8; FRAME_HEADER_BYTES as usize];
    source.read_journal(offset, &mut header_bytes).map_err(store_io("reading a journal frame"))?;
    let header = Header::parse(&header_bytes);
    let whole_header = header.magic == FRAME_MAGIC && header.first_seq == expected_seq;
    let fits = header.lengths_within_limits() && offset + header.frame_len() <= journal_len;
    if whole_header && fits {
        let end = offset + header.frame_len();
        let mut body = vec![0u8; header.body_len as usize];
        source
            .read_journal(offset + FRAME_HEADER_BYTES + header.payloads_len, &mut body)
            .map_err(store_io("reading a journal frame"))?;
        match check_frame(key, &header_bytes, &header, &body, end) {
            // The checksum leaves the payload area out, so a crash can keep
            // a sector of payloads from being written while the header and
            // body reach the disk. Only the last frame can show that: the
            // writer syncs each frame before it writes the next.
            Ok(Some(frame)) if followed_by_zeros(source, end, journal_len)? && payload_unwritten(source, &frame)? => {
                let what = "has a payload that was not written whole";
                return after_failed_frame(key, source, offset, end, expected_seq, true, what);
            }
            Ok(Some(frame)) => return Ok(FrameAt::Frame(frame)),
            Err(why) => return Ok(FrameAt::Corrupt(format!("the frame's checksum holds, but {why}"))),
            Ok(None) => {}
        }
        // The checksum fails: torn only if the frame shows a part never
        // written and nothing follows it. A header that straddles two
        // sectors and lost the second shows its lengths lowered to what
        // reached the disk (and its checksum zeros): the frame then
        // reaches as far as the largest.
        let header_unwritten = all_zero_in_a_sector(offset, &header_bytes) || header.checksum == [0; 32];
        let incomplete = header_unwritten
            || body.last() == Some(&0)
            || all_zero_in_a_sector(offset + FRAME_HEADER_BYTES + header.payloads_len, &body);
        if incomplete {
            if let Some(why) = whole_under_other_lengths(key, source, offset, end, &header_bytes, &header)? {
                return Ok(FrameAt::Corrupt(why));
            }
        }
        let end = if header_unwritten { (offset + FRAME_BYTES_MAX).min(journal_len) } else { end };
        return after_failed_frame(key, source, offset, end, expected_seq, incomplete, "fails its checksum");
    }
    if header_bytes.iter().all(|byte| *byte == 0) {
        if last_nonzero(source, offset, journal_len)?.is_none() {
            return Ok(FrameAt::End);
        }
        // The sector holding the header was not written, but later sectors
        // of the frame were: the frame reaches as far as the largest.
        let end = (offset + FRAME_BYTES_MAX).min(journal_len);
        return after_failed_frame(key, source, offset, end, expected_seq, true, "is missing (its header is zeros)");
    }
    // The header itself is not whole. A crash may have kept some of its
    // bytes zero, but never written a byte other than the one intended.
    let expected_seq_bytes = expected_seq.to_le_bytes();
    let zero_or = |found: &[u8], intended: &[u8]| found.iter().zip(intended).all(|(f, i)| *f == *i || *f == 0);
    if !zero_or(&header.magic, &FRAME_MAGIC) {
        return Ok(FrameAt::Corrupt(format!("the frame's magic reads {:?}, not \"mbframe1\"", ascii(&header.magic))));
    }
    if !zero_or(&header_bytes[8..16], &expected_seq_bytes) {
        return Ok(FrameAt::Corrupt(format!(
            "the frame's first event is {}, where event {expected_seq} was expected",
            header.first_seq
        )));
    }
    if whole_header {
        // Zeroing bytes only lowers a length, so a length over its limit
        // or past the file (which grows before a frame is written) was
        // never written by this code.
        return Ok(FrameAt::Corrupt(format!(
            "the frame's lengths (payloads {} bytes, body {} bytes) exceed the limits or the journal's end",
            header.payloads_len, header.body_len
        )));
    }
    // An incomplete header: the frame's extent is unknown, up to the
    // largest frame.
    let end = (offset + FRAME_BYTES_MAX).min(journal_len);
    after_failed_frame(key, source, offset, end, expected_seq, true, "has an incomplete header")
}

/// A whole frame whose length field was damaged to a larger value looks,
/// by its declared extent, like a torn one: its declared end lies in the
/// zeros after its real end. But a frame's last byte is never zero, so its
/// real end is right after the last non-zero byte; if the checksum holds
/// with either length field set to what that end implies, the frame was
/// written whole and only its header was damaged. Returns why, if so.
fn whole_under_other_lengths(
    key: &[u8; 32],
    source: &dyn JournalSource,
    offset: u64,
    end: u64,
    header_bytes: &[u8; FRAME_HEADER_BYTES as usize],
    header: &Header,
) -> Result<Option<String>> {
    let Some(last) = last_nonzero(source, offset + FRAME_HEADER_BYTES, end)? else { return Ok(None) };
    let total = last + 1 - offset - FRAME_HEADER_BYTES;
    let hypotheses = [
        total.checked_sub(header.payloads_len).map(|body_len| (header.payloads_len, body_len)),
        total.checked_sub(header.body_len).map(|payloads_len| (payloads_len, header.body_len)),
    ];
    for (payloads_len, body_len) in hypotheses.into_iter().flatten() {
        if body_len == 0 || body_len > FRAME_BODY_BYTES_MAX as u64 || payloads_len > FRAME_PAYLOADS_BYTES_MAX as u64 {
            continue;
        }
        let mut repaired = *header_bytes;
        repaired[20..24].copy_from_slice(&(payloads_len as u32).to_le_bytes());
        repaired[24..28].copy_from_slice(&(body_len as u32).to_le_bytes());
        let mut body = vec![0u8; body_len as usize];
        source
            .read_journal(offset + FRAME_HEADER_BYTES + payloads_len, &mut body)
            .map_err(store_io("reading a journal frame"))?;
        if checksum(key, &repaired[..28], &body) == header.checksum {
            return Ok(Some(format!(
                "the frame was written whole (it ends at offset {}, and its checksum holds for payloads of {payloads_len} \
                 bytes and a body of {body_len} bytes), but its header's lengths read {} and {}: the header was damaged",
                last + 1,
                header.payloads_len,
                header.body_len
            )));
        }
    }
    Ok(None)
}

/// A frame at `offset..end` failed: it is a torn write only if it is
/// incomplete, no valid frame follows it, and only zeros follow its end.
fn after_failed_frame(
    key: &[u8; 32],
    source: &dyn JournalSource,
    offset: u64,
    end: u64,
    expected_seq: u64,
    incomplete: bool,
    what: &str,
) -> Result<FrameAt> {
    let journal_len = source.journal_len().map_err(store_io("reading the journal's length"))?;
    if let Some((found, seq)) = find_valid_frame(key, source, offset, expected_seq)? {
        return Ok(FrameAt::Corrupt(format!(
            "the frame of event {expected_seq} {what}, but a valid frame of event {seq} follows at offset {found}"
        )));
    }
    if let Some(at) = last_nonzero(source, end, journal_len)? {
        return Ok(FrameAt::Corrupt(format!(
            "the frame of event {expected_seq} {what}, and non-zero bytes follow it at offset {at}"
        )));
    }
    if !incomplete {
        return Ok(FrameAt::Corrupt(format!(
            "the frame of event {expected_seq} {what}, though every part of it was written: it was damaged after it was written"
        )));
    }
    Ok(FrameAt::Torn { end })
}

/// Whether `bytes` (which start at journal offset `start`) are all zeros
/// in one of the 512-byte sectors they lie in: a part of the frame never
/// written. Their parts in the first and last sector count too, since a
/// sector the frame shares with its neighbours is written whole or not at
/// all like any other.
pub(crate) fn all_zero_in_a_sector(start: u64, bytes: &[u8]) -> bool {
    let mut from = 0usize;
    while from < bytes.len() {
        let sector_end = (start + from as u64) / SECTOR_BYTES * SECTOR_BYTES + SECTOR_BYTES;
        let to = ((sector_end - start) as usize).min(bytes.len());
        if bytes[from..to].iter().all(|byte| *byte == 0) {
            return true;
        }
        from = to;
    }
    false
}

/// Whether the header's worth of bytes at `offset` (or all that is left of
/// the journal) is zeros: no frame starts there.
fn followed_by_zeros(source: &dyn JournalSource, offset: u64, journal_len: u64) -> Result<bool> {
    let mut bytes = [0u8; FRAME_HEADER_BYTES as usize];
    let n_bytes = FRAME_HEADER_BYTES.min(journal_len - offset) as usize;
    source.read_journal(offset, &mut bytes[..n_bytes]).map_err(store_io("reading the journal"))?;
    Ok(bytes.iter().all(|byte| *byte == 0))
}

/// Whether a payload of `frame` fails its salted hash and is all zeros in
/// one of its sectors: a part never written.
fn payload_unwritten(source: &dyn JournalSource, frame: &ReadFrame) -> Result<bool> {
    for (key, value) in frame.body.batch.operations() {
        let (Some(b'e'), Some(value)) = (key.first(), value) else { continue };
        let Ok(record) = decode::<Record>("event record", value) else { continue };
        let PayloadRef::Stored { offset, len } = record.payload else { continue };
        let Ok(envelope) = Envelope::from_bytes(&record.envelope) else { continue };
        if len as usize > EVENT_PAYLOAD_BYTES_MAX {
            continue;
        }
        let mut bytes = vec![0u8; SALT_BYTES as usize + len as usize];
        source.read_journal(offset, &mut bytes).map_err(store_io("reading a payload"))?;
        if stored_payload_hash(&bytes) != envelope.payload_hash() && all_zero_in_a_sector(offset, &bytes) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The offset of the last non-zero byte in `from..to`, if any.
fn last_nonzero(source: &dyn JournalSource, from: u64, to: u64) -> Result<Option<u64>> {
    let mut buffer = vec![0u8; SCAN_CHUNK_BYTES];
    let mut last = None;
    let mut at = from;
    while at < to {
        let n_bytes = SCAN_CHUNK_BYTES.min((to - at) as usize);
        source.read_journal(at, &mut buffer[..n_bytes]).map_err(store_io("reading the journal's tail"))?;
        if let Some(idx) = buffer[..n_bytes].iter().rposition(|byte| *byte != 0) {
            last = Some(at + idx as u64);
        }
        at += n_bytes as u64;
    }
    Ok(last)
}

/// The first valid frame of a later event starting anywhere after
/// `offset`, with its first event: proof that the frame at `offset` was
/// acknowledged (the writer syncs each frame before it writes the next).
fn find_valid_frame(
    key: &[u8; 32],
    source: &dyn JournalSource,
    offset: u64,
    expected_seq: u64,
) -> Result<Option<(u64, u64)>> {
    let journal_len = source.journal_len().map_err(store_io("reading the journal's length"))?;
    let overlap = FRAME_MAGIC.len() - 1;
    let mut buffer = vec![0u8; SCAN_CHUNK_BYTES + overlap];
    let mut at = offset + 1;
    while at < journal_len {
        let n_bytes = (SCAN_CHUNK_BYTES + overlap).min((journal_len - at) as usize);
        source.read_journal(at, &mut buffer[..n_bytes]).map_err(store_io("reading the journal"))?;
        for idx in 0..n_bytes.saturating_sub(overlap) {
            if buffer[idx..idx + FRAME_MAGIC.len()] != FRAME_MAGIC {
                continue;
            }
            let candidate = at + idx as u64;
            if let Some(seq) = valid_frame_at(key, source, candidate, journal_len)? {
                if seq >= expected_seq {
                    return Ok(Some((candidate, seq)));
                }
            }
        }
        at += SCAN_CHUNK_BYTES as u64;
    }
    Ok(None)
}

/// The first event of a valid frame at `offset`, if one is there.
fn valid_frame_at(key: &[u8; 32], source: &dyn JournalSource, offset: u64, journal_len: u64) -> Result<Option<u64>> {
    if offset + FRAME_HEADER_BYTES > journal_len {
        return Ok(None);
    }
    let mut header_bytes = [0u8; FRAME_HEADER_BYTES as usize];
    source.read_journal(offset, &mut header_bytes).map_err(store_io("reading a journal frame"))?;
    let header = Header::parse(&header_bytes);
    if !header.lengths_within_limits() || offset + header.frame_len() > journal_len {
        return Ok(None);
    }
    let mut body = vec![0u8; header.body_len as usize];
    source
        .read_journal(offset + FRAME_HEADER_BYTES + header.payloads_len, &mut body)
        .map_err(store_io("reading a journal frame"))?;
    let end = offset + header.frame_len();
    Ok(match check_frame(key, &header_bytes, &header, &body, end) {
        Ok(Some(_)) | Err(_) => Some(header.first_seq),
        Ok(None) => None,
    })
}

fn ascii(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| if byte.is_ascii_graphic() { char::from(*byte) } else { '.' }).collect()
}

/// The error that refuses to open a journal with corruption at `offset`.
pub(crate) fn corruption(path: &std::path::Path, offset: u64, expected_seq: u64, why: &str) -> Error {
    Error::corrupt(format!(
        "journal {} is damaged at offset {offset}, where the frame of event {expected_seq} starts: {why}; \
         nothing was changed (see \"The journal is damaged\" in docs/OPERATIONS.md)",
        path.display()
    ))
}
