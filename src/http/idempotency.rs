//! First replies to commands by idempotency key, kept on stable storage so
//! that a retry, even after a restart, gets the first answer and appends
//! nothing.

use std::collections::{HashMap, VecDeque};
use std::io::Write;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Longest idempotency key accepted.
pub const IDEMPOTENCY_KEY_BYTES_MAX: usize = 128;
/// Most idempotency keys remembered (the oldest are forgotten first).
pub const IDEMPOTENCY_KEYS_MAX: usize = 10_000;

/// The file in the data directory that keeps first replies, so that a
/// retry after a restart gets the first answer too.
pub const REPLIES_FILE: &str = "idempotency.jsonl";

/// The kept replies could not be read at start.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}: {error}", path.display())]
pub struct OpenError {
    pub path: std::path::PathBuf,
    pub error: std::io::Error,
}

/// A first reply: status, body and ETag, with a digest of the command it
/// answered (a key reused for another command is refused).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Reply {
    pub(crate) key: String,
    pub(crate) status: u16,
    pub(crate) body: String,
    pub(crate) etag: Option<String>,
    /// BLAKE3 of the command, hex.
    pub(crate) command: String,
}

/// First replies by idempotency key, for retries; the oldest keys are
/// forgotten first. Each is appended to `REPLIES_FILE` as a line of JSON
/// and fsynced before it is answered; at start the last
/// `IDEMPOTENCY_KEYS_MAX` are read back (a last line a crash cut short is
/// skipped: its request was never answered). The file is rewritten with
/// only those once it holds twice as many.
pub struct Replies {
    path: std::path::PathBuf,
    replies: Mutex<(HashMap<String, Reply>, VecDeque<String>)>,
    /// Lines in the file, to know when to rewrite it.
    lines: std::sync::atomic::AtomicUsize,
}

impl Replies {
    pub fn open(data: &std::path::Path) -> Result<Replies, OpenError> {
        let path = data.join(REPLIES_FILE);
        let text = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(error) => return Err(OpenError { path, error }),
        };
        let mut replies = (HashMap::new(), VecDeque::new());
        let mut lines = 0;
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            lines += 1;
            if let Ok(reply) = serde_json::from_slice::<Reply>(line) {
                remember(&mut replies, reply);
            }
        }
        Ok(Replies { path, replies: Mutex::new(replies), lines: lines.into() })
    }

    pub(crate) fn get(&self, key: &str) -> Option<Reply> {
        self.replies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).0.get(key).cloned()
    }

    /// Keeps a first reply, on stable storage before it returns.
    pub(crate) fn put(&self, reply: Reply) -> std::io::Result<()> {
        let mut guard = self.replies.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut line = serde_json::to_vec(&reply).expect("a reply always encodes");
        line.push(b'\n');
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&self.path)?;
        file.write_all(&line)?;
        file.sync_data()?;
        remember(&mut guard, reply);
        let lines = self.lines.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        if lines >= 2 * IDEMPOTENCY_KEYS_MAX {
            self.rewrite(&guard.0, &guard.1)?;
            self.lines.store(guard.1.len(), std::sync::atomic::Ordering::Relaxed);
        }
        Ok(())
    }

    /// Writes only the replies kept, in order, and renames it into place.
    fn rewrite(&self, map: &HashMap<String, Reply>, order: &VecDeque<String>) -> std::io::Result<()> {
        let temporary = self.path.with_extension("jsonl.new");
        let mut file = std::fs::File::create(&temporary)?;
        for key in order {
            let mut line = serde_json::to_vec(&map[key]).expect("a reply always encodes");
            line.push(b'\n');
            file.write_all(&line)?;
        }
        file.sync_all()?;
        std::fs::rename(&temporary, &self.path)?;
        if let Some(directory) = self.path.parent() {
            std::fs::File::open(directory)?.sync_all()?;
        }
        Ok(())
    }
}

fn remember((map, order): &mut (HashMap<String, Reply>, VecDeque<String>), reply: Reply) {
    let key = reply.key.clone();
    if map.insert(key.clone(), reply).is_none() {
        order.push_back(key);
    }
    while order.len() > IDEMPOTENCY_KEYS_MAX {
        if let Some(old) = order.pop_front() {
            map.remove(&old);
        }
    }
}
