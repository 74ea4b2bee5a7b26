//! The writer thread: takes queued requests, stages them as one group,
//! writes the group's frame and syncs it, answers the appenders.

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::checkpoint::{Checkpoint, NoteSigner};
use crate::codec::{encode, store_io, Head, SALT_BYTES};
use crate::error::{Error, ErrorCategory, Kind, Result};
use crate::journal::{encode_frame, FrameBody, FRAME_PAYLOADS_BYTES_MAX};
use crate::keys;
use crate::limits::GROUP_EVENTS_MAX;
use crate::merkle::{self, Frontier, Subtrees};
use crate::store::WriteBatch;
use crate::types::{EventId, TreeHash};

use super::append::{AppendBatch, AppendOutcome};
use super::applier::{Applier, ApplierHandle, ApplierState, DurableGroup, ToApplier};
use super::directory::{check_free_space, clear_torn};
use super::group::{Group, IdFilter, InFlight};
use super::shared::{fail, Shared};
use super::stored::StreamTail;

/// Most stream tails the writer keeps; past it the cache starts afresh.
const STREAM_TAILS_CACHED_MAX: usize = 4_096;
/// How long the writer waits for work before flushing the store.
const IDLE_FLUSH_MS: u64 = 200;

/// An append handed to the writer thread, and where to send its answer.
pub(super) struct Request {
    pub(super) batch: AppendBatch,
    pub(super) reply: SyncSender<Result<AppendOutcome>>,
}

pub(super) struct Writer {
    pub(super) shared: Arc<Shared>,
    /// A torn write found on open, cleared before the first frame.
    pub(super) torn: Option<(u64, u64)>,
    pub(super) signer: NoteSigner,
    pub(super) frame_key: [u8; 32],
    pub(super) head: Head,
    pub(super) frontier: Frontier,
    /// A request taken from the queue that did not fit the last group.
    pub(super) carried: Option<Request>,
    /// Loaded on the first append, so that commands that only read never
    /// pay for it.
    pub(super) ids: Option<IdFilter>,
    /// The group the applier may still be applying: what the next group
    /// must see of it, since the store may not show it yet.
    pub(super) in_flight: Option<InFlight>,
    /// The last index chunk of recently written streams, as committed:
    /// the writer is the only one to change them, and reading them from
    /// the store costs a reverse scan each.
    pub(super) tails: HashMap<String, StreamTail>,
}

/// Events and redactions of a request: what a group counts.
pub(super) fn request_items(request: &Request) -> usize {
    request.batch.events.len() + request.batch.redactions.len()
}

pub(super) fn request_bytes(request: &Request) -> usize {
    request.batch.events.iter().map(|event| event.payload.len() + SALT_BYTES as usize).sum()
}

impl Writer {
    /// Takes requests in groups, stages each group and makes its frame
    /// durable, then hands it to the applier thread. The hand-over waits
    /// until the applier has finished the group before, so the writer
    /// stages and syncs group n+1 while group n is applied.
    pub(super) fn run(mut self, receiver: Receiver<Request>) {
        let applier = Arc::new(ApplierHandle {
            state: Mutex::new(ApplierState {
                applier: Applier { shared: Arc::clone(&self.shared), unflushed_bytes: 0 },
                queued: None,
                closed: false,
            }),
            queued_changed: Condvar::new(),
        });
        let applier_thread = {
            let applier = Arc::clone(&applier);
            std::thread::Builder::new()
                .name("minutebook-log-applier".into())
                .spawn(move || applier.run())
                .expect("the applier thread starts")
        };
        loop {
            let first = match self.carried.take() {
                Some(request) => request,
                None => match receiver.recv_timeout(Duration::from_millis(IDLE_FLUSH_MS)) {
                    Ok(request) => request,
                    Err(RecvTimeoutError::Timeout) => {
                        applier.apply_here(ToApplier::Flush);
                        continue;
                    }
                    Err(RecvTimeoutError::Disconnected) => break,
                },
            };
            let mut n_items = request_items(&first);
            let mut n_bytes = request_bytes(&first);
            let mut requests = vec![first];
            while n_items < GROUP_EVENTS_MAX {
                let Ok(request) = receiver.try_recv() else { break };
                let (more_items, more_bytes) = (request_items(&request), request_bytes(&request));
                if n_items + more_items > GROUP_EVENTS_MAX || n_bytes + more_bytes > FRAME_PAYLOADS_BYTES_MAX {
                    self.carried = Some(request);
                    break;
                }
                n_items += more_items;
                n_bytes += more_bytes;
                requests.push(request);
            }
            let Some(mut group) = self.commit_group(requests) else { continue };
            // The group's frame is on stable storage: its appenders hear so
            // now, and can send their next events while it is applied, so
            // that groups grow with the number of appenders. Readers wait
            // for the store to show what was acknowledged.
            {
                let mut durable = self.shared.durable.lock().unwrap();
                durable.acknowledged_journal_end = durable.acknowledged_journal_end.max(group.journal_end);
            }
            for (reply, mut outcome) in std::mem::take(&mut group.replies) {
                outcome.tree_size = group.len;
                let _ = reply.send(Ok(outcome));
            }
            // With more requests waiting, the applier applies this group
            // while the writer stages and syncs the next. Otherwise the
            // writer applies it itself, which spares a thread hand-over
            // (tens of microseconds on a virtual machine) on every append.
            if self.carried.is_none() {
                self.carried = receiver.try_recv().ok();
            }
            if self.carried.is_some() {
                applier.hand_over(group);
            } else {
                applier.apply_here(ToApplier::Group(group));
            }
        }
        applier.close();
        let _ = applier_thread.join();
    }

    pub(super) fn fail_all(requests: Vec<Request>, error: impl Fn() -> Error) {
        for request in requests {
            let _ = request.reply.send(Err(error()));
        }
    }

    /// Waits until the applier has applied every durable group, so that
    /// the store shows the whole log (or until the log has failed).
    fn wait_for_applier(&self) {
        let mut durable = self.shared.durable.lock().unwrap();
        while durable.applied_journal_end != self.head.journal_end && durable.failure.is_none() {
            durable = self.shared.durable_changed.wait(durable).unwrap();
        }
    }

    /// Stages a group and makes its frame durable; `None` when every
    /// request was refused or the log has failed.
    pub(super) fn commit_group(&mut self, requests: Vec<Request>) -> Option<DurableGroup> {
        if let Some(failure) = self.shared.failure() {
            Writer::fail_all(requests, || Error::new(Kind::Failed(failure.clone())));
            return None;
        }
        let shared = Arc::clone(&self.shared);
        if self.ids.is_none() {
            match IdFilter::load(shared.store.as_ref()) {
                Ok(ids) => self.ids = Some(ids),
                Err(error) => {
                    let message = error.to_string();
                    Writer::fail_all(requests, || {
                        Error::io("loading the event id index", std::io::Error::other(message.clone()))
                    });
                    return None;
                }
            }
        }
        let mut ids = self.ids.take().expect("loaded above");
        // A redaction reads its target's record from the store, and an
        // appender may redact an event as soon as its append returns, which
        // is before its group is applied: let the applier catch up first.
        // Redactions are rare; this costs them a group's apply at most.
        // Tails forgotten are loaded again from the store, which must then
        // show the group in flight too: a tail loaded without its events
        // would give their stream versions again and drop them from the
        // stream's index. Forgetting is rare (once per 4,096 new streams).
        let forget_tails = self.tails.len() > STREAM_TAILS_CACHED_MAX;
        if forget_tails || requests.iter().any(|request| !request.batch.redactions.is_empty()) {
            self.wait_for_applier();
        }
        // Once the applier has caught up, the store shows the group before
        // (even one that only redacted) and it need not be looked at apart.
        if self.shared.durable.lock().unwrap().applied_journal_end == self.head.journal_end {
            self.in_flight = None;
        }
        let mut previous = self.in_flight.take();
        let mut tails = std::mem::take(&mut self.tails);
        // (Unless the applier failed while it was waited for: then nothing
        // more is written, and the tails are kept.)
        if forget_tails && previous.is_none() {
            tails.clear();
        }
        let mut group = Group::new(shared.store.as_ref(), &ids, previous.as_ref(), &self.head, &self.frontier, tails);
        let mut replies = Vec::with_capacity(requests.len());
        for request in requests {
            match group.stage(request.batch) {
                Ok(outcome) => replies.push((request.reply, outcome)),
                Err(error) => {
                    let _ = request.reply.send(Err(error));
                }
            }
        }
        let new_ids: Vec<EventId> = group.staged_ids.keys().copied().collect();
        let nothing_to_write = group.len == self.head.len && group.redactions.is_empty();
        let written = if replies.is_empty() || nothing_to_write {
            self.tails = group.take_tails();
            drop(group);
            self.in_flight = previous.take();
            if replies.is_empty() {
                self.ids = Some(ids);
                return None;
            }
            // Only retries of stored events: nothing to write, but the
            // replies go through the applier so they follow the group before.
            Ok(DurableGroup {
                batch: WriteBatch::default(),
                len: self.head.len,
                journal_end: self.head.journal_end,
                frame_bytes: 0,
                replies: Vec::new(),
                scrubs: Vec::new(),
            })
        } else {
            self.write_group(group)
        };
        if written.is_ok() {
            for id in &new_ids {
                ids.insert(id);
            }
        }
        self.ids = Some(ids);
        match written {
            Ok(mut durable) => {
                durable.replies = replies;
                Some(durable)
            }
            Err(error) if error.category() == ErrorCategory::StorageFull => {
                // Nothing was written (write_group checks for space before
                // it writes a byte), and the log goes on. The stream tails
                // went into the refused group and came back changed by it:
                // they are loaded again, from a store that must first show
                // the group in flight, or its events' stream versions would
                // be handed out a second time.
                self.wait_for_applier();
                self.tails.clear();
                self.in_flight = None;
                for (reply, _) in replies {
                    let _ = reply.send(Err(Error::io(
                        "appending",
                        std::io::Error::new(std::io::ErrorKind::StorageFull, error.to_string()),
                    )));
                }
                None
            }
            Err(error) => {
                let message = error.to_string();
                fail(&self.shared, message.clone());
                reply_failed(replies, &message);
                None
            }
        }
    }

    /// Makes a group durable: its frame (payloads and store batch, signed
    /// checkpoint included) written to the journal and fdatasynced.
    pub(super) fn write_group(&mut self, mut group: Group<'_>) -> Result<DurableGroup> {
        let store = self.shared.store.as_ref();
        let new_len = group.len;
        assert!(new_len >= self.head.len);
        group.finish_streams();
        if new_len > self.head.len {
            // The root comes from the previous frontier extended leaf by
            // leaf, so it extends the checkpoint before; prove it anyway.
            assert_eq!(group.frontier.size(), new_len);
            let root = group.frontier.root();
            assert_consistent(&self.frontier, &group.frontier, &group.new_nodes);
            let checkpoint = Checkpoint { origin: self.signer.verifier().name().to_owned(), tree_size: new_len, root };
            group.batch.put(keys::checkpoint(new_len).to_vec(), self.signer.sign(&checkpoint).into_bytes());
        }
        let mut head = Head {
            len: new_len,
            last_hash: group.last_hash,
            journal_end: 0,
            last_recorded_at_us: group.recorded_at_us,
            frontier: group.frontier.hashes().to_vec(),
        };
        let n_events = u32::try_from(new_len - self.head.len).expect("groups are small");
        let body = FrameBody { head: head.clone(), batch: std::mem::take(&mut group.batch) };
        let frame = encode_frame(&self.frame_key, self.head.len, n_events, &group.payloads, &body);
        // Space first, while nothing is written: a full disk refuses the
        // group and leaves the log as it was (docs/OPERATIONS.md, "Disk
        // full"). The store's own writes need room too, so a margin is kept.
        check_free_space(&self.shared.directory)?;
        store.reserve_journal(self.head.journal_end + frame.len() as u64).map_err(store_io("growing the journal"))?;
        if let Some((start, end)) = self.torn {
            assert_eq!(start, self.head.journal_end, "a torn write lies where the next frame goes");
            clear_torn(store, &self.shared.directory, start, end)?;
            self.torn = None;
        }
        store.write_journal(self.head.journal_end, &frame).map_err(store_io("writing the journal"))?;
        store.sync_journal().map_err(store_io("syncing the journal"))?;
        head.journal_end = self.head.journal_end + frame.len() as u64;
        let mut batch = body.batch;
        batch.put(keys::HEAD.to_vec(), encode(&head));
        self.frontier = std::mem::replace(&mut group.frontier, Frontier::empty());
        self.head = head;
        let scrubs = std::mem::take(&mut group.scrubs);
        self.tails = group.take_tails();
        self.in_flight = Some(group.into_in_flight());
        let journal_end = self.head.journal_end;
        Ok(DurableGroup {
            batch,
            len: new_len,
            journal_end,
            frame_bytes: frame.len() as u64,
            replies: Vec::new(),
            scrubs,
        })
    }
}

/// Asserts that the tree of `new` (the tree of `old` extended by a group's
/// leaves) is consistent with the tree of `old`, by an RFC 9162 proof built
/// from the old frontier and the group's new nodes alone: the log never
/// signs two inconsistent checkpoints.
pub(super) fn assert_consistent(old: &Frontier, new: &Frontier, new_nodes: &HashMap<(u8, u64), TreeHash>) {
    struct Known<'a> {
        nodes: HashMap<(u8, u64), TreeHash>,
        new_nodes: &'a HashMap<(u8, u64), TreeHash>,
    }
    impl Subtrees for Known<'_> {
        fn subtree(&self, level: u8, index: u64) -> Result<TreeHash> {
            let key = (level, index);
            let hash = self.nodes.get(&key).or_else(|| self.new_nodes.get(&key));
            Ok(*hash.expect("a consistency proof needs only old frontier subtrees and new nodes"))
        }
    }
    let mut nodes = HashMap::new();
    let mut start = 0u64;
    for (hash, level) in old.hashes().iter().zip((0..64u8).rev().filter(|level| old.size() >> level & 1 == 1)) {
        nodes.insert((level, start >> level), *hash);
        start += 1 << level;
    }
    let known = Known { nodes, new_nodes };
    let proof = merkle::consistency_proof(&known, old.size(), new.size()).expect("a consistency proof");
    merkle::verify_consistency(old.size(), new.size(), &old.root(), &new.root(), &proof)
        .expect("the log never signs two inconsistent checkpoints");
}

/// Tells every appender of a group that the log failed before its append
/// was acknowledged.
pub(super) fn reply_failed(replies: Vec<(SyncSender<Result<AppendOutcome>>, AppendOutcome)>, message: &str) {
    for (reply, _) in replies {
        let _ = reply.send(Err(Error::new(Kind::Failed(message.to_owned()))));
    }
}
