//! The applier: applies durable groups to the store in order, makes them
//! visible to readers, scrubs redacted payloads, flushes the store.

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, Mutex};

use crate::codec::Scrub;
use crate::error::Result;
use crate::store::WriteBatch;
use crate::types::Seq;

use super::append::AppendOutcome;
use super::directory::scrub_payloads;
use super::shared::{fail, Shared};

/// The store is flushed once this many journal bytes were written since its
/// last flush, and whenever the writer is idle, so that a reopen has little
/// to apply again.
const FLUSH_JOURNAL_BYTES: u64 = 16 * 1024 * 1024;

/// What the writer hands the applier.
pub(super) enum ToApplier {
    Group(DurableGroup),
    /// The writer is idle: make the store durable.
    Flush,
}

/// A group whose frame is on stable storage: its appenders are answered,
/// then it is applied to the store.
pub(super) struct DurableGroup {
    pub(super) batch: WriteBatch,
    pub(super) len: u64,
    /// The end of the group's frame in the journal.
    pub(super) journal_end: u64,
    pub(super) frame_bytes: u64,
    pub(super) replies: Vec<(SyncSender<Result<AppendOutcome>>, AppendOutcome)>,
    pub(super) scrubs: Vec<(Seq, Scrub)>,
}

/// Applies durable groups to the store in order, makes them visible to
/// readers, scrubs redacted payloads, and flushes the store now and then.
pub(super) struct Applier {
    pub(super) shared: Arc<Shared>,
    /// Journal bytes written since the store was last made durable.
    pub(super) unflushed_bytes: u64,
}

/// The applier and the one group it may have queued, under one lock that
/// is held while anything is applied, so groups are applied in order
/// whichever thread applies them.
pub(super) struct ApplierHandle {
    pub(super) state: Mutex<ApplierState>,
    pub(super) queued_changed: Condvar,
}

pub(super) struct ApplierState {
    pub(super) applier: Applier,
    pub(super) queued: Option<DurableGroup>,
    pub(super) closed: bool,
}

impl ApplierHandle {
    /// The applier thread: applies each group handed over, until closed.
    pub(super) fn run(&self) {
        let mut state = self.state.lock().unwrap();
        loop {
            if let Some(group) = state.queued.take() {
                state.applier.handle(ToApplier::Group(group));
                self.queued_changed.notify_all();
                continue;
            }
            if state.closed {
                state.applier.flush_store();
                return;
            }
            state = self.queued_changed.wait(state).unwrap();
        }
    }

    /// Queues a group for the applier thread, once the one before is
    /// applied.
    pub(super) fn hand_over(&self, group: DurableGroup) {
        let mut state = self.state.lock().unwrap();
        if let Some(before) = state.queued.take() {
            state.applier.handle(ToApplier::Group(before));
        }
        state.queued = Some(group);
        self.queued_changed.notify_all();
    }

    /// Applies on the calling thread, after anything queued.
    pub(super) fn apply_here(&self, message: ToApplier) {
        let mut state = self.state.lock().unwrap();
        if let Some(before) = state.queued.take() {
            state.applier.handle(ToApplier::Group(before));
        }
        state.applier.handle(message);
    }

    pub(super) fn close(&self) {
        self.state.lock().unwrap().closed = true;
        self.queued_changed.notify_all();
    }
}

impl Applier {
    pub(super) fn handle(&mut self, message: ToApplier) {
        match message {
            ToApplier::Flush => self.flush_store(),
            ToApplier::Group(group) => {
                self.apply(group);
                if self.unflushed_bytes >= FLUSH_JOURNAL_BYTES {
                    self.flush_store();
                }
            }
        }
    }

    /// Applies a group whose appenders were answered once its frame was
    /// durable. A failure here stops the log; what was acknowledged is in
    /// the journal, and a reopen applies it.
    pub(super) fn apply(&mut self, group: DurableGroup) {
        debug_assert!(group.replies.is_empty(), "a group's appenders are answered before it is applied");
        let store = self.shared.store.as_ref();
        if self.shared.failure().is_some() {
            return;
        }
        if !group.batch.is_empty() {
            if let Err(error) = store.apply(&group.batch) {
                fail(&self.shared, format!("applying the batch: {error}"));
                return;
            }
            self.unflushed_bytes += group.frame_bytes;
            let mut durable = self.shared.durable.lock().unwrap();
            assert!(durable.len <= group.len);
            durable.len = group.len;
            durable.applied_journal_end = group.journal_end;
            self.shared.durable_changed.notify_all();
        }
        if let Err(error) = scrub_payloads(self.shared.store.as_ref(), &group.scrubs) {
            fail(&self.shared, format!("scrubbing redacted payloads: {error}"));
        }
    }

    /// Makes the store durable, so that a reopen applies no frame again.
    /// Appends are already durable in the journal: a failure here stops
    /// further appends but loses nothing.
    pub(super) fn flush_store(&mut self) {
        if self.unflushed_bytes == 0 || self.shared.failure().is_some() {
            return;
        }
        match self.shared.store.make_durable() {
            Ok(()) => self.unflushed_bytes = 0,
            Err(error) => fail(&self.shared, format!("flushing the store: {error}")),
        }
    }
}
