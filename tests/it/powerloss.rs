//! Power loss, not only process death: what a power cut can leave of a
//! data directory, and what opening makes of it. A SIGKILL (crash.rs)
//! leaves every write in the page cache, which the kernel still writes
//! out; a power cut keeps any of the sectors written since the last
//! fdatasync from reaching the disk (docs/LOG-FORMAT.md, "What we assume
//! of the disk": a 512-byte sector is written whole or not at all, and
//! bytes outside a write do not change).
//!
//! These checks take the journal's last frame, which was never
//! acknowledged as far as the disk can tell (the store, which applies only
//! synced frames, does not hold it), and blank some of its sectors: each
//! such state must open, the frame taken for a torn write, with no journal
//! byte changed. A frame with a changed byte instead must be refused. The
//! frame's checksum leaves its payloads out, so a payload that lost a
//! sector must be found by its salted hash. Last, a redaction's scrub
//! (zeros written over a payload, then synced) that the power cut short
//! must be finished on open, not refused.

use std::ops::Range;
use std::os::unix::fs::FileExt;

use minutebook_log::store::{JOURNAL_FILE, SLED_DIR};
use minutebook_log::{AppendBatch, EventId, ExpectedVersion, Log, Payload, Seq};

use crate::support::{copy_dir, event, Scratch};

/// The unit a disk writes whole, as the journal's torn-write rule assumes.
const SECTOR_BYTES: u64 = 512;
/// Salt bytes before each payload in the journal.
const SALT_BYTES: u64 = 16;
/// Appends that may be needed to start a frame at a chosen place in a
/// sector.
const APPENDS_TO_ALIGN_MAX: usize = 40;

/// A frame's place in the journal, read from its header
/// (docs/LOG-FORMAT.md, "The journal").
struct FrameSpan {
    start: u64,
    payloads_len: u64,
    end: u64,
}

/// Every frame of a journal, in order.
fn frames(journal: &[u8]) -> Vec<FrameSpan> {
    let mut frames = Vec::new();
    let mut start = 0usize;
    while journal.get(start..start + 8) == Some(b"mbframe1".as_slice()) {
        let u32_at = |at: usize| u64::from(u32::from_le_bytes(journal[start + at..start + at + 4].try_into().unwrap()));
        let (payloads_len, body_len) = (u32_at(20), u32_at(24));
        let end = start as u64 + 60 + payloads_len + body_len;
        frames.push(FrameSpan { start: start as u64, payloads_len, end });
        start = end as usize;
    }
    frames
}

fn journal_bytes(scratch: &Scratch) -> Vec<u8> {
    std::fs::read(scratch.path.join(JOURNAL_FILE)).expect("read the journal")
}

/// Appends one event with a payload of `n_bytes`; returns its id and payload.
fn append_one(log: &Log, n_bytes: usize) -> (EventId, Vec<u8>) {
    let mut new_event = event("meeting/M-1", b"");
    new_event.payload = format!("minute for event {}: ", new_event.event_id).into_bytes();
    new_event.payload.resize(n_bytes, b'p');
    let payload = new_event.payload.clone();
    let id = new_event.event_id;
    log.append(AppendBatch::new().expect("meeting/M-1", ExpectedVersion::Any).event(new_event)).expect("append");
    (id, payload)
}

/// A data directory holding a few events, then one more whose frame
/// starts at a place in its sector within `start_in_sector` (when given)
/// and carries a payload of `last_payload_bytes`. That frame was synced,
/// but the disk cannot tell it from the last frame being written when the
/// power went: blanking some of its sectors makes a journal that a power
/// cut could leave.
fn with_last_frame(start_in_sector: Option<Range<u64>>, last_payload_bytes: usize) -> (Scratch, FrameSpan) {
    let scratch = Scratch::in_memory();
    let log = scratch.open();
    append_one(&log, 300);
    if let Some(wanted) = &start_in_sector {
        // Frame sizes are deterministic, but a body's length varies with
        // the tree's frontier: aim for the middle until it lands.
        for _ in 0..APPENDS_TO_ALIGN_MAX {
            let last = frames(&journal_bytes(&scratch)).pop().unwrap();
            if wanted.contains(&(last.end % SECTOR_BYTES)) {
                break;
            }
            let overhead = last.end - last.start - last.payloads_len + SALT_BYTES;
            let aim = (wanted.start + wanted.end) / 2;
            let shift = (aim + 2 * SECTOR_BYTES - (last.end + overhead) % SECTOR_BYTES) % SECTOR_BYTES;
            append_one(&log, (SECTOR_BYTES + shift) as usize);
        }
    }
    // The store as it was before the last frame: it applies only frames
    // that were synced, so it cannot hold the one being written.
    drop(log);
    let store_before = scratch.path.join("sled-before-last-frame");
    copy_dir(&scratch.path.join(SLED_DIR), &store_before);
    let log = scratch.open();
    append_one(&log, last_payload_bytes);
    drop(log);
    std::fs::remove_dir_all(scratch.path.join(SLED_DIR)).unwrap();
    std::fs::rename(&store_before, scratch.path.join(SLED_DIR)).unwrap();
    let last = frames(&journal_bytes(&scratch)).pop().unwrap();
    if let Some(wanted) = start_in_sector {
        assert!(wanted.contains(&(last.start % SECTOR_BYTES)), "the last frame starts {} into a sector", last.start);
    }
    (scratch, last)
}

/// Zeroes the frame's bytes in the sector holding journal byte `offset`:
/// a sector the power cut kept from being written keeps its durable bytes,
/// which are those of the frame before or zeros.
fn blank_sector(scratch: &Scratch, frame: &FrameSpan, offset: u64) {
    let journal = std::fs::OpenOptions::new().write(true).open(scratch.path.join(JOURNAL_FILE)).unwrap();
    let sector_start = offset / SECTOR_BYTES * SECTOR_BYTES;
    let (from, to) = (sector_start.max(frame.start), (sector_start + SECTOR_BYTES).min(frame.end));
    journal.write_all_at(&vec![0u8; (to - from) as usize], from).unwrap();
}

/// Opening a journal whose last frame lost the sectors holding `blanked`
/// (offsets into the frame) takes the frame for a torn write: it opens
/// without it, changes no journal byte, verifies, and appends after it.
fn check_torn(
    start_in_sector: Option<Range<u64>>,
    last_payload_bytes: usize,
    blanked: impl Fn(&FrameSpan) -> Vec<u64>,
) {
    let (scratch, last) = with_last_frame(start_in_sector, last_payload_bytes);
    let n_before = frames(&journal_bytes(&scratch)).len() as u64 - 1;
    for offset in blanked(&last) {
        assert!(last.start <= offset && offset < last.end);
        blank_sector(&scratch, &last, offset);
    }
    let journal = journal_bytes(&scratch);
    let log = Log::open(&scratch.path).unwrap_or_else(|error| panic!("a torn last frame is refused: {error}"));
    assert_eq!(journal_bytes(&scratch), journal, "opening changed the journal");
    assert_eq!(log.opened().torn_write.map(|(start, _)| start), Some(last.start));
    assert_eq!(log.len(), n_before);
    crate::support::assert_verifies(&log);
    append_one(&log, 100);
    assert_eq!(log.len(), n_before + 1);
    crate::support::assert_verifies(&log);
}

#[test]
fn a_last_frame_whose_header_sector_was_not_written_is_torn() {
    check_torn(None, 3_000, |frame| vec![frame.start]);
}

#[test]
fn a_last_frame_missing_the_sector_where_its_body_starts_is_torn() {
    check_torn(None, 1_000, |frame| vec![frame.start + 60 + frame.payloads_len]);
}

#[test]
fn a_last_frame_whose_header_lost_its_checksum_is_torn() {
    // The header's first 28 to 59 bytes (all but its checksum's end) end
    // one sector; the rest of the checksum starts the next.
    check_torn(Some(SECTOR_BYTES - 59..SECTOR_BYTES - 28), 3_000, |frame| vec![frame.start + 59]);
}

#[test]
fn a_last_frame_whose_header_lost_its_lengths_is_torn() {
    // The header's first 9 to 27 bytes (its magic and first event) end one
    // sector; its lengths, lowered to what reached the disk, start the next.
    check_torn(Some(SECTOR_BYTES - 27..SECTOR_BYTES - 9), 3_000, |frame| vec![frame.start + 59]);
}

#[test]
fn a_last_frame_missing_a_sector_of_its_payloads_is_torn() {
    check_torn(None, 3_000, |frame| vec![frame.start + 60 + 1_024]);
}

/// The other side of the rule: a last frame with one byte changed shows no
/// unwritten sector, so opening refuses it as damage and changes nothing.
#[test]
fn a_last_frame_with_a_changed_byte_is_refused_not_torn() {
    let (scratch, last) = with_last_frame(None, 3_000);
    let intact = journal_bytes(&scratch);
    let body_start = last.start + 60 + last.payloads_len;
    for at in [last.start + 20, last.start + 40, body_start, last.end - 1] {
        let mut journal = intact.clone();
        journal[at as usize] ^= 0x40;
        std::fs::write(scratch.path.join(JOURNAL_FILE), &journal).unwrap();
        let Err(error) = Log::open(&scratch.path) else { panic!("a changed byte at {at} was taken for a torn write") };
        assert!(error.to_string().contains("is damaged"), "{error}");
        assert_eq!(journal_bytes(&scratch), journal, "opening changed the journal");
    }
}

/// Opening a data directory where a power cut interrupted the scrub of a
/// redacted payload (zeros written over it, not yet synced), so that the
/// sectors holding `kept` (offsets into the payload) still hold it and the
/// others are zeros: opening finishes the scrub.
fn check_interrupted_scrub(kept: impl Fn(u64) -> Vec<u64>) {
    let scratch = Scratch::in_memory();
    let log = scratch.open();
    append_one(&log, 100);
    let (id, payload) = append_one(&log, 3_000);
    drop(log);
    let journal_before = journal_bytes(&scratch);
    // The store as it was before the redaction: the scrub's pending entry
    // comes back from the redaction's frame.
    let store_before = scratch.path.join("sled-before-redaction");
    copy_dir(&scratch.path.join(SLED_DIR), &store_before);
    let log = scratch.open();
    let redaction = AppendBatch::new()
        .expect("meeting/M-1", ExpectedVersion::Any)
        .event(event("meeting/M-1", b"redaction recorded"))
        .redact(Seq(1), "personal data: UK GDPR Art. 17");
    log.append(redaction).expect("redact");
    drop(log);
    std::fs::remove_dir_all(scratch.path.join(SLED_DIR)).unwrap();
    std::fs::rename(&store_before, scratch.path.join(SLED_DIR)).unwrap();
    let at = journal_before.windows(payload.len()).position(|window| window == payload).unwrap() as u64 - SALT_BYTES;
    let region = at..at + SALT_BYTES + payload.len() as u64;
    let journal = std::fs::OpenOptions::new().write(true).open(scratch.path.join(JOURNAL_FILE)).unwrap();
    for offset in kept(region.end - region.start) {
        let sector_start = (region.start + offset) / SECTOR_BYTES * SECTOR_BYTES;
        let (from, to) = (sector_start.max(region.start), (sector_start + SECTOR_BYTES).min(region.end));
        journal.write_all_at(&journal_before[from as usize..to as usize], from).unwrap();
    }
    let log = Log::open(&scratch.path).unwrap_or_else(|error| panic!("an interrupted scrub is refused: {error}"));
    let redacted = log.event(Seq(1)).unwrap().unwrap();
    assert_eq!(redacted.envelope.event_id(), id);
    assert!(matches!(redacted.payload, Payload::Redacted { .. }));
    let journal = journal_bytes(&scratch);
    assert!(journal[region.start as usize..region.end as usize].iter().all(|byte| *byte == 0), "scrub finished");
    crate::support::assert_verifies(&log);
}

#[test]
fn a_scrub_a_power_cut_interrupted_is_finished_on_open() {
    check_interrupted_scrub(|_| vec![0]);
    check_interrupted_scrub(|len| vec![len / 2]);
    check_interrupted_scrub(|len| vec![0, len - 1]);
}
