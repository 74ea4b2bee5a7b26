//! Copying a log's journal while another process may be appending to it,
//! for `minutebook backup` and `minutebook restore`.
//!
//! The journal is append-only: frames are written one after another, each
//! fdatasynced before the next is written, and bytes once written change
//! only when a redaction zeroes a payload. So a copy needs no lock and
//! writes nothing where it reads. It copies the bytes first, then reads
//! the copy frame by frame as opening would, and cuts it at the end of the
//! last valid frame whose events a signed checkpoint covers. A frame that
//! was being written while it was copied reads as torn or damaged in the
//! copy: it is left out, and the live journal is read again at its place
//! to tell a frame in flight from real damage, which refuses the copy.
//!
//! Two things the frame checksum does not cover are settled against the
//! live journal. A payload (not checksummed, so that a redaction can zero
//! it) may have been copied while its frame was still being written even
//! though the frame's header and body were copied whole: each payload is
//! checked against the salted hash in its envelope, and one that fails is
//! read again from the live journal. And a payload a redaction has
//! removed, or is removing, is zeroed in the copy, so that a backup never
//! keeps what the log redacted before the copy's end.
//!
//! Last, the live journal is fdatasynced through a read-only handle, so
//! that the copy never holds a frame the live log could still lose in a
//! power failure: the two never disagree about a signed tree size.
//!
//! An incremental backup (`extend_journal`) reads the backup's own frames
//! to find where it ends, compares its bytes with the live journal's (they
//! may differ only where the live log has since zeroed a redacted payload,
//! and a redaction in what is added must say so), then copies the rest as
//! above, at the same offsets.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::checkpoint::NoteSigner;
use crate::codec::{decode, store_io, PayloadRef, Record, Scrub, SALT_BYTES};
use crate::envelope::{stored_payload_hash, Envelope};
use crate::error::{Error, Result};
use crate::journal::{corruption, examine, FrameAt, ReadFrame};
use crate::keys;
use crate::limits::EVENT_PAYLOAD_BYTES_MAX;
use crate::log::{check_format, genesis, read_signer, SignedCheckpoint, JOURNAL_KEY_CONTEXT};
use crate::store::JOURNAL_FILE;
use crate::types::PayloadHash;

/// How long a frame that fails in the copy is read again in the live
/// journal, to see it finish, before it is judged damaged.
const IN_FLIGHT_WAIT_MS: u64 = 2_000;
/// The pause between two such reads.
const IN_FLIGHT_RETRY_MS: u64 = 10;
/// How much of the journal one read copies.
const COPY_CHUNK_BYTES: usize = 1024 * 1024;

const _: () = assert!(IN_FLIGHT_RETRY_MS < IN_FLIGHT_WAIT_MS);

/// What a copy of a journal holds.
#[derive(Clone, Debug)]
pub struct JournalCopy {
    /// Frames in the copy.
    pub n_frames: u64,
    /// Events in the copy: the tree size of `checkpoint`.
    pub n_events: u64,
    /// The copy's length: the end of its last frame.
    pub journal_bytes: u64,
    /// Where this copy began: 0, or the length of the backup's journal
    /// that `extend_journal` added to.
    pub start_bytes: u64,
    /// The events the backup held before `extend_journal` added to it.
    pub start_events: u64,
    /// The latest checkpoint in the copy, which covers every event in it.
    pub checkpoint: SignedCheckpoint,
    /// Payloads copied while their frame was being written, read again
    /// from the live journal.
    pub n_payloads_reread: u64,
    /// Payloads of redacted events the live journal had not yet zeroed
    /// when they were copied, zeroed in the copy.
    pub n_payloads_zeroed: u64,
}

/// Copies the journal of the data directory `data` to the new file `to`,
/// cut at a frame boundary that a signed checkpoint covers; see the
/// module's comment. Takes no lock and writes nothing in `data`.
pub fn copy_journal(data: &Path, to: &Path) -> Result<JournalCopy> {
    copy_journal_with(data, to, &copy_bytes)
}

/// `copy_journal`, with the first `len` bytes of the live journal copied
/// into the copy by `copy`: tests use it to copy what a reader racing the
/// writer may see.
#[doc(hidden)]
pub fn copy_journal_with(
    data: &Path,
    to: &Path,
    copy_bytes: &dyn Fn(&File, &File, u64) -> std::io::Result<()>,
) -> Result<JournalCopy> {
    check_format(data)?;
    let signer = read_signer(data)?;
    let live_path = data.join(JOURNAL_FILE);
    let live = match File::open(&live_path) {
        Ok(file) => Some(file),
        // Nothing was ever appended: the copy is empty too.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => return Err(Error::io(format!("opening {}", live_path.display()), error)),
    };
    let mode = match &live {
        Some(file) => file.metadata().map_err(store_io("reading the journal's mode"))?.permissions().mode(),
        None => 0o600,
    };
    let copy = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .mode(mode & 0o777)
        .open(to)
        .map_err(|error| Error::io(format!("creating {}", to.display()), error))?;
    let Some(live) = live else {
        copy.sync_all().map_err(store_io("syncing the journal's copy"))?;
        return Ok(empty_copy(&signer));
    };
    let live_len = live.metadata().map_err(store_io("reading the journal's length"))?.len();
    copy_bytes(&live, &copy, live_len).map_err(store_io("copying the journal"))?;
    // Every frame copied is now durable where it was read (see the
    // module's comment); fdatasync writes no byte that was not written.
    live.sync_data().map_err(store_io("syncing the live journal"))?;
    let mut walk = Walk::new(&signer, &live, live_path, &copy);
    if let Stop::Corrupt(why) = walk.run()? {
        walk.wait_in_flight(why)?;
    }
    Ok(walk.finish()?.0)
}

/// Adds to the journal of the backup `backup` (a data directory that
/// `copy_journal` or this function wrote) what the live journal of `data`
/// holds past it, cut as `copy_journal` cuts. The backup's journal must
/// be a prefix of the live one, but for payloads the live log has zeroed
/// since, which a redaction in what is added must account for. What is
/// added is copied and checked in a file beside the backup's journal
/// first, so that the journal itself only ever gets whole frames at its
/// end, over zeros; if anything is refused, it is left as it was.
pub fn extend_journal(data: &Path, backup: &Path) -> Result<JournalCopy> {
    check_format(data)?;
    check_format(backup)?;
    let signer = read_signer(data)?;
    if read_signer(backup)?.to_skey() != signer.to_skey() {
        return Err(Error::data_directory(backup, "holds another log's key: it is no backup of this log"));
    }
    let live_path = data.join(JOURNAL_FILE);
    let live = match File::open(&live_path) {
        Ok(file) => file,
        // Nothing was ever appended: there is nothing to add.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            File::open("/dev/null").map_err(|error| Error::io(format!("opening {}", live_path.display()), error))?
        }
        Err(error) => return Err(Error::io(format!("opening {}", live_path.display()), error)),
    };
    let journal_path = backup.join(JOURNAL_FILE);
    let journal = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&journal_path)
        .map_err(|error| Error::io(format!("opening {}", journal_path.display()), error))?;
    let added = Added::create(backup.join(JOURNAL_ADDED_FILE))?;
    let mut walk = Walk::new(&signer, &live, live_path, &journal);
    walk.check_payloads = false;
    // The backup's own frames end in the clean end, or in part of a frame
    // an extension that did not finish left, never in damage.
    if let Stop::Corrupt(why) = walk.run()? {
        return Err(corruption(&journal_path, walk.offset, walk.seq, &why));
    }
    let start = walk.offset;
    if walk.covered.as_ref().map_or(0, |covered| covered.end) != start {
        return Err(Error::data_directory(backup, "has a journal whose last frame no checkpoint covers"));
    }
    walk.zeroed_since = zeroed_since(&journal, &live, start, &walk.live_path)?;
    let start_events = walk.seq;
    let live_len = live.metadata().map_err(store_io("reading the journal's length"))?.len();
    if live_len < start {
        return Err(Error::corrupt(format!(
            "the live journal {} is {live_len} bytes long, shorter than the backup's {start}",
            walk.live_path.display()
        )));
    }
    copy_range(&live, &added.file, start, live_len).map_err(store_io("copying the journal"))?;
    if live_len > start {
        live.sync_data().map_err(store_io("syncing the live journal"))?;
    }
    walk.check_payloads = true;
    walk.copy = &added.file;
    walk.copy_start = start;
    if let Stop::Corrupt(why) = walk.run()? {
        walk.wait_in_flight(why)?;
    }
    let (mut copied, earlier_scrubs) = walk.finish()?;
    copied.start_bytes = start;
    copied.start_events = start_events;
    // The frames added go after the backup's last, over zeros: a crash
    // part way leaves a torn last frame, which the next extension cuts.
    let end = copied.journal_bytes;
    let to_journal = |error| Error::io(format!("writing {}", journal_path.display()), error);
    journal.set_len(start).and_then(|()| journal.set_len(end)).map_err(to_journal)?;
    copy_range(&added.file, &journal, start, end).map_err(to_journal)?;
    journal.sync_all().map_err(to_journal)?;
    copied.n_payloads_zeroed += zero_regions(&journal, &earlier_scrubs)?;
    journal.sync_all().map_err(to_journal)?;
    Ok(copied)
}

/// The file beside a backup's journal where `extend_journal` copies what
/// it adds, at the same offsets (the bytes before them are a hole).
pub const JOURNAL_ADDED_FILE: &str = "journal.adding";

/// The file `extend_journal` copies into, removed when it is done.
struct Added {
    file: File,
    path: PathBuf,
}

impl Added {
    fn create(path: PathBuf) -> Result<Added> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(|error| Error::io(format!("creating {}", path.display()), error))?;
        Ok(Added { file, path })
    }
}

impl Drop for Added {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The ranges of `0..end` where the backup's journal holds bytes the live
/// one has since zeroed (a redaction); any other difference refuses.
fn zeroed_since(copy: &File, live: &File, end: u64, live_path: &Path) -> Result<Vec<(u64, u64)>> {
    let mut copy_buffer = vec![0u8; COPY_CHUNK_BYTES];
    let mut live_buffer = vec![0u8; COPY_CHUNK_BYTES];
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut at = 0u64;
    while at < end {
        let n_bytes = COPY_CHUNK_BYTES.min((end - at) as usize);
        copy.read_exact_at(&mut copy_buffer[..n_bytes], at).map_err(store_io("reading the backup's journal"))?;
        live.read_exact_at(&mut live_buffer[..n_bytes], at).map_err(store_io("reading the live journal"))?;
        if copy_buffer[..n_bytes] == live_buffer[..n_bytes] {
            at += n_bytes as u64;
            continue;
        }
        for idx in 0..n_bytes {
            if copy_buffer[idx] == live_buffer[idx] {
                continue;
            }
            let offset = at + idx as u64;
            if live_buffer[idx] != 0 {
                return Err(Error::corrupt(format!(
                    "the backup's journal is not a prefix of {}: they differ at offset {offset}; \
                     make a full backup to a new path",
                    live_path.display()
                )));
            }
            match ranges.last_mut() {
                Some((_, range_end)) if *range_end == offset => *range_end = offset + 1,
                _ => ranges.push((offset, offset + 1)),
            }
        }
        at += n_bytes as u64;
    }
    Ok(ranges)
}

/// What a copy of a journal with no frame holds: the empty tree's
/// checkpoint, which `init` signed.
fn empty_copy(signer: &NoteSigner) -> JournalCopy {
    let (_, batch) = genesis(signer);
    let note = batch
        .operations()
        .iter()
        .find(|(key, _)| key.as_slice() == keys::checkpoint(0))
        .and_then(|(_, value)| value.clone())
        .expect("the genesis batch holds the empty tree's checkpoint");
    let note = String::from_utf8(note).expect("a note is text");
    let checkpoint = signer.verifier().open(&note).expect("a note just signed opens");
    JournalCopy {
        n_frames: 0,
        n_events: 0,
        journal_bytes: 0,
        start_bytes: 0,
        start_events: 0,
        checkpoint: SignedCheckpoint { note, checkpoint },
        n_payloads_reread: 0,
        n_payloads_zeroed: 0,
    }
}

/// Copies the first `len` bytes of `from` into `to`, at the same offsets.
fn copy_bytes(from: &File, to: &File, len: u64) -> std::io::Result<()> {
    copy_range(from, to, 0, len)
}

/// Copies the bytes `start..end` of `from` into `to`, at the same offsets.
fn copy_range(from: &File, to: &File, start: u64, end: u64) -> std::io::Result<()> {
    let mut buffer = vec![0u8; COPY_CHUNK_BYTES];
    let mut at = start;
    while at < end {
        let n_bytes = COPY_CHUNK_BYTES.min((end - at) as usize);
        from.read_exact_at(&mut buffer[..n_bytes], at)?;
        to.write_all_at(&buffer[..n_bytes], at)?;
        at += n_bytes as u64;
    }
    Ok(())
}

/// A payload that matched its hash neither in the copy nor in the live
/// journal: a redaction must account for it.
struct Unmatched {
    seq: u64,
    offset: u64,
    len: u64,
}

/// The end of the copy: the last frame whose events a checkpoint covers.
struct Covered {
    end: u64,
    n_frames: u64,
    n_events: u64,
    note: String,
}

/// Reading the copy frame by frame, and what it found.
struct Walk<'a> {
    signer: &'a NoteSigner,
    frame_key: [u8; 32],
    live: &'a File,
    live_path: PathBuf,
    copy: &'a File,
    /// Where the next frame starts, and its first event.
    offset: u64,
    seq: u64,
    n_frames: u64,
    /// The latest checkpoint read, by tree size.
    latest_checkpoint: Option<(u64, String)>,
    /// The last frame a checkpoint covers.
    covered: Option<Covered>,
    /// Payload regions redactions removed, with the number of the frame
    /// that says so.
    scrubs: Vec<(u64, Scrub)>,
    unmatched: Vec<Unmatched>,
    n_payloads_reread: u64,
    /// Whether a torn last frame was read again from the live journal.
    torn_reread: bool,
    /// Whether payloads are checked (not in a backup's own frames, which
    /// were checked when they were copied).
    check_payloads: bool,
    /// Ranges a redaction in the frames read must account for.
    zeroed_since: Vec<(u64, u64)>,
    /// Where `copy` starts holding the journal's bytes (what lies before
    /// is in the backup's journal).
    copy_start: u64,
}

/// Why a walk stopped.
enum Stop {
    /// The clean end, or a torn write after the last frame.
    End,
    /// Neither a frame nor the end: a frame being written, or damage.
    Corrupt(String),
}

impl<'a> Walk<'a> {
    fn new(signer: &'a NoteSigner, live: &'a File, live_path: PathBuf, copy: &'a File) -> Walk<'a> {
        Walk {
            signer,
            frame_key: signer.derive_key(JOURNAL_KEY_CONTEXT),
            live,
            live_path,
            copy,
            offset: 0,
            seq: 0,
            n_frames: 0,
            latest_checkpoint: None,
            covered: None,
            scrubs: Vec::new(),
            unmatched: Vec::new(),
            n_payloads_reread: 0,
            torn_reread: false,
            check_payloads: true,
            zeroed_since: Vec::new(),
            copy_start: 0,
        }
    }

    /// Reads frames until the copy holds no more.
    fn run(&mut self) -> Result<Stop> {
        loop {
            match examine(&self.frame_key, self.copy, self.offset, self.seq)? {
                FrameAt::Frame(frame) => self.take(frame)?,
                // The last frame copied looks torn: the writer was writing
                // it, and has finished by now (a sector of payloads copied
                // before it reached them, say). Read its bytes again, once.
                FrameAt::Torn { end } if !self.torn_reread && self.check_payloads => {
                    self.torn_reread = true;
                    self.reread_from_live(self.offset, end)?;
                }
                FrameAt::End | FrameAt::Torn { .. } => return Ok(Stop::End),
                FrameAt::Corrupt(why) => return Ok(Stop::Corrupt(why)),
            }
        }
    }

    /// Copies `from..to` of the live journal over the copy.
    fn reread_from_live(&mut self, from: u64, to: u64) -> Result<()> {
        let mut bytes = vec![0u8; (to - from) as usize];
        self.live.read_exact_at(&mut bytes, from).map_err(store_io("reading the live journal"))?;
        self.copy.write_all_at(&bytes, from).map_err(store_io("writing the journal's copy"))
    }

    /// Takes a valid frame: checks its payloads and notes its scrubs and
    /// checkpoint.
    fn take(&mut self, frame: ReadFrame) -> Result<()> {
        for (key, value) in frame.body.batch.operations() {
            let Some(value) = value else { continue };
            match key.first() {
                Some(b'e') => {
                    let record: Record = decode("a journal frame's event record", value)?;
                    if let (PayloadRef::Stored { offset, len }, true) = (record.payload, self.check_payloads) {
                        let seq = keys::parse_u64(key).ok_or_else(|| Error::corrupt("malformed event key"))?;
                        let expected = Envelope::from_bytes(&record.envelope)?.payload_hash();
                        self.check_payload(seq, offset, u64::from(len), frame.end, &expected)?;
                    }
                }
                Some(b'x') => {
                    let scrub: Scrub = decode("a journal frame's scrub", value)?;
                    if scrub.len > SALT_BYTES + EVENT_PAYLOAD_BYTES_MAX as u64 || scrub.offset >= frame.end {
                        return Err(Error::corrupt(format!(
                            "a redaction asks for {} bytes at journal offset {} to be cleared, which is no payload",
                            scrub.len, scrub.offset
                        )));
                    }
                    self.scrubs.push((self.n_frames, scrub));
                }
                Some(b'c') => {
                    let size = keys::parse_u64(key).ok_or_else(|| Error::corrupt("malformed checkpoint key"))?;
                    let note = String::from_utf8(value.clone())
                        .map_err(|_| Error::corrupt(format!("the checkpoint of tree size {size} is not text")))?;
                    self.latest_checkpoint = Some((size, note));
                }
                _ => {}
            }
        }
        self.n_frames += 1;
        self.offset = frame.end;
        self.seq = frame.body.head.len;
        if let Some((size, note)) = &self.latest_checkpoint {
            if *size == self.seq {
                let note = note.clone();
                self.covered = Some(Covered { end: self.offset, n_frames: self.n_frames, n_events: self.seq, note });
            }
        }
        Ok(())
    }

    /// Checks the payload of event `seq` (salt then `len` bytes at
    /// `offset`) in the copy; one that fails is read again from the live
    /// journal, where the writer has finished it by now.
    fn check_payload(&mut self, seq: u64, offset: u64, len: u64, frame_end: u64, expected: &PayloadHash) -> Result<()> {
        if len > EVENT_PAYLOAD_BYTES_MAX as u64 || offset.saturating_add(SALT_BYTES + len) > frame_end {
            return Err(Error::corrupt(format!(
                "event {seq}'s payload of {len} bytes at journal offset {offset} lies outside its frame"
            )));
        }
        let total = SALT_BYTES + len;
        let mut bytes = vec![0u8; total as usize];
        self.copy.read_exact_at(&mut bytes, offset).map_err(store_io("reading the journal's copy"))?;
        if matches_hash(&bytes, expected) {
            return Ok(());
        }
        self.live.read_exact_at(&mut bytes, offset).map_err(store_io("reading the live journal"))?;
        if matches_hash(&bytes, expected) {
            self.copy.write_all_at(&bytes, offset).map_err(store_io("writing the journal's copy"))?;
            self.n_payloads_reread += 1;
        } else {
            self.unmatched.push(Unmatched { seq, offset, len: total });
        }
        Ok(())
    }

    /// The copy fails at `self.offset`: a frame still being written when it
    /// was copied, or damage. Reads the live journal there until it holds
    /// a valid frame, a torn one or the end; damage that lasts is refused.
    fn wait_in_flight(&self, why: String) -> Result<()> {
        let deadline = Instant::now() + Duration::from_millis(IN_FLIGHT_WAIT_MS);
        let mut why = why;
        while Instant::now() < deadline {
            match examine(&self.frame_key, self.live, self.offset, self.seq)? {
                FrameAt::Frame(_) | FrameAt::Torn { .. } | FrameAt::End => return Ok(()),
                FrameAt::Corrupt(again) => why = again,
            }
            std::thread::sleep(Duration::from_millis(IN_FLIGHT_RETRY_MS));
        }
        Err(corruption(&self.live_path, self.offset, self.seq, &why))
    }

    /// Cuts the copy after the last frame a checkpoint covers, zeroes the
    /// payloads redactions removed, and syncs it. Returns what it copied,
    /// and the payload regions to zero that lie before the copy's start.
    fn finish(self) -> Result<(JournalCopy, Regions)> {
        let Some(Covered { end, n_frames, n_events, note }) = self.covered else {
            // No frame is covered: the copy is the empty log.
            self.copy.set_len(0).map_err(store_io("cutting the journal's copy"))?;
            self.copy.sync_all().map_err(store_io("syncing the journal's copy"))?;
            return Ok((empty_copy(self.signer), Vec::new()));
        };
        // Only the redactions of frames in the copy count.
        let scrubs: Vec<&Scrub> =
            self.scrubs.iter().filter(|(frame_idx, _)| *frame_idx < n_frames).map(|(_, scrub)| scrub).collect();
        let redacted = |offset: u64, len: u64| {
            scrubs.iter().any(|scrub| scrub.offset <= offset && offset + len <= scrub.offset + scrub.len)
        };
        if let Some((start, _)) = self.zeroed_since.iter().find(|(start, end)| !redacted(*start, end - start)) {
            return Err(Error::corrupt(format!(
                "the backup's journal holds bytes at offset {start} that {} has since zeroed, \
                 and no redaction says why; make a full backup to a new path",
                self.live_path.display()
            )));
        }
        for unmatched in &self.unmatched {
            if unmatched.offset < end && !redacted(unmatched.offset, unmatched.len) {
                return Err(Error::corrupt(format!(
                    "event {}'s payload at offset {} of journal {} does not match its salted hash; \
                     no copy was made (run `minutebook verify` on the data directory)",
                    unmatched.seq,
                    unmatched.offset,
                    self.live_path.display()
                )));
            }
        }
        self.copy.set_len(end).map_err(store_io("cutting the journal's copy"))?;
        let regions = scrubs.iter().map(|scrub| (scrub.offset, scrub.len));
        let (earlier, here): (Regions, Regions) = regions.partition(|(offset, _)| *offset < self.copy_start);
        let n_payloads_zeroed = zero_regions(self.copy, &here)?;
        self.copy.sync_all().map_err(store_io("syncing the journal's copy"))?;
        let checkpoint = self.signer.verifier().open(&note)?;
        if checkpoint.tree_size != n_events {
            return Err(Error::corrupt(format!(
                "the checkpoint stored as that of tree size {n_events} is of tree size {}",
                checkpoint.tree_size
            )));
        }
        let copied = JournalCopy {
            n_frames,
            n_events,
            journal_bytes: end,
            start_bytes: 0,
            start_events: 0,
            checkpoint: SignedCheckpoint { note, checkpoint },
            n_payloads_reread: self.n_payloads_reread,
            n_payloads_zeroed,
        };
        Ok((copied, earlier))
    }
}

/// Byte regions of a journal: (offset, length).
type Regions = Vec<(u64, u64)>;

/// Zeroes the regions (offset, length) of `file` that are not zero yet;
/// returns how many it zeroed.
fn zero_regions(file: &File, regions: &[(u64, u64)]) -> Result<u64> {
    let mut n_zeroed = 0;
    for (offset, len) in regions {
        let mut bytes = vec![0u8; *len as usize];
        file.read_exact_at(&mut bytes, *offset).map_err(store_io("reading a redacted payload"))?;
        if bytes.iter().any(|byte| *byte != 0) {
            bytes.fill(0);
            file.write_all_at(&bytes, *offset).map_err(store_io("zeroing a redacted payload"))?;
            n_zeroed += 1;
        }
    }
    Ok(n_zeroed)
}

fn matches_hash(salt_and_payload: &[u8], expected: &PayloadHash) -> bool {
    stored_payload_hash(salt_and_payload) == *expected
}
