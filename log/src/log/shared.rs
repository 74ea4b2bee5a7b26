//! What readers and the writer share: the store and the durable length
//! that bounds every read, and the log's failure once it has failed.

use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex};

use crate::checkpoint::NoteVerifier;
use crate::codec::Head;
use crate::store::Store;

pub(super) struct Durable {
    /// Events applied to the store: what readers see.
    pub(super) len: u64,
    /// The end of the last journal frame acknowledged to its appenders:
    /// durable in the journal, and applied to the store soon after.
    /// Readers wait for `applied_journal_end` to reach it, so that whoever
    /// was told an append or a redaction is done reads it. (A count of
    /// events would not do: a group that only redacts adds none.)
    pub(super) acknowledged_journal_end: u64,
    /// The end of the last journal frame applied to the store.
    pub(super) applied_journal_end: u64,
    pub(super) failure: Option<String>,
}

/// What readers and the writer share.
pub(crate) struct Shared {
    pub(super) store: Box<dyn Store>,
    pub(super) verifier: NoteVerifier,
    pub(super) directory: PathBuf,
    pub(super) durable: Mutex<Durable>,
    pub(super) durable_changed: Condvar,
}

impl Shared {
    pub(crate) fn new(store: Box<dyn Store>, verifier: NoteVerifier, directory: &Path, head: &Head) -> Shared {
        Shared {
            store,
            verifier,
            directory: directory.to_owned(),
            durable: Mutex::new(Durable {
                len: head.len,
                acknowledged_journal_end: head.journal_end,
                applied_journal_end: head.journal_end,
                failure: None,
            }),
            durable_changed: Condvar::new(),
        }
    }

    /// Why the log stopped accepting appends, once it has.
    pub(super) fn failure(&self) -> Option<String> {
        self.durable.lock().unwrap().failure.clone()
    }
}

pub(super) fn fail(shared: &Shared, message: String) {
    let mut durable = shared.durable.lock().unwrap();
    durable.failure.get_or_insert(message);
    shared.durable_changed.notify_all();
}
