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

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{FileExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::checkpoint::NoteSigner;
use crate::envelope::{payload_hash, Envelope};
use crate::error::{Error, Result};
use crate::journal::{corruption, examine, FrameAt, ReadFrame};
use crate::keys;
use crate::limits::EVENT_PAYLOAD_BYTES_MAX;
use crate::log::{
    check_format, decode, genesis, read_signer, store_io, PayloadRef, Record, Scrub, SignedCheckpoint,
    JOURNAL_KEY_CONTEXT, SALT_BYTES,
};
use crate::store::JOURNAL_FILE;
use crate::types::{PayloadHash, Salt};

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
    walk.run()?;
    walk.finish()
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
        checkpoint: SignedCheckpoint { note, checkpoint },
        n_payloads_reread: 0,
        n_payloads_zeroed: 0,
    }
}

/// Copies the first `len` bytes of `from` into `to`, at the same offsets.
fn copy_bytes(from: &File, to: &File, len: u64) -> std::io::Result<()> {
    let mut buffer = vec![0u8; COPY_CHUNK_BYTES];
    let mut at = 0u64;
    while at < len {
        let n_bytes = COPY_CHUNK_BYTES.min((len - at) as usize);
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
        }
    }

    /// Reads frames until the copy holds no more.
    fn run(&mut self) -> Result<()> {
        loop {
            match examine(&self.frame_key, self.copy, self.offset, self.seq)? {
                FrameAt::Frame(frame) => self.take(frame)?,
                FrameAt::End | FrameAt::Torn { .. } => return Ok(()),
                FrameAt::Corrupt(why) => return self.wait_in_flight(why),
            }
        }
    }

    /// Takes a valid frame: checks its payloads and notes its scrubs and
    /// checkpoint.
    fn take(&mut self, frame: ReadFrame) -> Result<()> {
        for (key, value) in frame.body.batch.operations() {
            let Some(value) = value else { continue };
            match key.first() {
                Some(b'e') => {
                    let record: Record = decode("a journal frame's event record", value)?;
                    if let PayloadRef::Stored { offset, len } = record.payload {
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
    /// payloads redactions removed, and syncs it.
    fn finish(self) -> Result<JournalCopy> {
        let Some(Covered { end, n_frames, n_events, note }) = self.covered else {
            // No frame is covered: the copy is the empty log.
            self.copy.set_len(0).map_err(store_io("cutting the journal's copy"))?;
            self.copy.sync_all().map_err(store_io("syncing the journal's copy"))?;
            return Ok(empty_copy(self.signer));
        };
        // Only the redactions of frames in the copy count.
        let scrubs: Vec<&Scrub> =
            self.scrubs.iter().filter(|(frame_idx, _)| *frame_idx < n_frames).map(|(_, scrub)| scrub).collect();
        for unmatched in &self.unmatched {
            let redacted = scrubs.iter().any(|scrub| {
                scrub.offset <= unmatched.offset && unmatched.offset + unmatched.len <= scrub.offset + scrub.len
            });
            if unmatched.offset < end && !redacted {
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
        let mut n_payloads_zeroed = 0;
        for scrub in scrubs {
            let mut bytes = vec![0u8; scrub.len as usize];
            self.copy.read_exact_at(&mut bytes, scrub.offset).map_err(store_io("reading the journal's copy"))?;
            if bytes.iter().any(|byte| *byte != 0) {
                bytes.fill(0);
                self.copy.write_all_at(&bytes, scrub.offset).map_err(store_io("zeroing a redacted payload"))?;
                n_payloads_zeroed += 1;
            }
        }
        self.copy.sync_all().map_err(store_io("syncing the journal's copy"))?;
        let checkpoint = self.signer.verifier().open(&note)?;
        assert_eq!(checkpoint.tree_size, n_events, "the covering checkpoint's size is the copy's length");
        Ok(JournalCopy {
            n_frames,
            n_events,
            journal_bytes: end,
            checkpoint: SignedCheckpoint { note, checkpoint },
            n_payloads_reread: self.n_payloads_reread,
            n_payloads_zeroed,
        })
    }
}

fn matches_hash(salt_and_payload: &[u8], expected: &PayloadHash) -> bool {
    let (salt, payload) = salt_and_payload.split_at(SALT_BYTES as usize);
    let salt = Salt(salt.try_into().expect("16 bytes of salt"));
    payload_hash(&salt, payload) == *expected
}
