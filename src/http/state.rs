//! What every request handler shares: the recorder, the tokens, the data
//! directory, idempotent replies, the export permits and the transport's
//! limits.

use std::path::PathBuf;
use std::sync::Arc;

use minutebook_catalogue::MeetingId;

use super::idempotency::{self, Replies};
use super::transport;
use crate::domain::Recorder;
use crate::policy::tokens::TokenStore;

/// Most exports built at once, so that memory stays bounded (at most
/// about 450 MB each) whoever asks; others are told to come back.
pub const EXPORTS_CONCURRENT_MAX: usize = 2;

pub struct AppState {
    pub recorder: Recorder,
    pub tokens: TokenStore,
    pub data: PathBuf,
    /// First replies by idempotency key.
    pub replies: Replies,
    /// Set once the server is shutting down: live feeds end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Exports being built: each holds its bundle in memory.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// The transport's limits and the failed authentications by address.
    pub transport: transport::Transport,
    /// Rendered minutes by meeting, audience, format and log position.
    pub(crate) rendered: std::sync::Mutex<std::collections::HashMap<RenderedKey, (String, u64)>>,
}

type RenderedKey = (MeetingId, bool, &'static str, u64);

/// Most renderings of minutes kept; beyond it the cache starts again.
pub const RENDERED_MINUTES_MAX: usize = 4_096;

impl AppState {
    /// The state for serving `data`; fails only if the kept replies to
    /// commands cannot be read.
    pub fn new(recorder: Recorder, tokens: TokenStore, data: PathBuf) -> Result<AppState, idempotency::OpenError> {
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Ok(AppState {
            recorder,
            tokens,
            replies: Replies::open(&data)?,
            data,
            shutdown,
            exports: Arc::new(tokio::sync::Semaphore::new(EXPORTS_CONCURRENT_MAX)),
            transport: transport::Transport::default(),
            rendered: Default::default(),
        })
    }
}
