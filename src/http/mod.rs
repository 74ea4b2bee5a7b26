//! The HTTP server (axum on tokio, hyper underneath): the JSON API
//! (`api`) and the website (`web`) side by side, behind one stack of
//! middleware that authenticates every request, bounds it (`transport`),
//! answers every error as problem details (`problem`) or a page, and sets
//! the security headers.
//!
//! Architecture Invariant: `api` and `web` import neither each other nor
//! this module's root; what they share lives in `state`, `session`,
//! `problem`, `transport` and `point_in_time`, and what a caller may see
//! in `crate::policy`. `.ci/modules` checks that no module cycle exists.

pub mod api;
pub mod headers;
pub mod idempotency;
pub(crate) mod point_in_time;
pub mod problem;
pub mod session;
pub mod state;
pub mod transport;
pub mod web;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use minutebook_log::Log;

pub use problem::ApiError;
pub use state::{AppState, EXPORTS_CONCURRENT_MAX};

use crate::domain::Recorder;
use crate::policy::tokens::{Caller, TokenStore};
use crate::policy::visibility;

/// Largest request body accepted, in bytes.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(web::routes())
        // Every route above starts its answer within the request time
        // limit (a live feed's events come after its start, so it goes
        // on); papers, merged below it, have a longer one of their own.
        .route_layer(transport::time_limit(state.transport.limits.request_time_max))
        .merge(
            api::papers::routes().route_layer(transport::time_limit(std::time::Duration::from_millis(
                transport::PAPER_REQUEST_TIME_MAX_MS,
            ))),
        )
        .fallback(fallback)
        // From the innermost: who the caller is, the body limit (a route's
        // own is inside it), the body's watch, the head's limits, and the
        // request's id with problem+json for every error.
        .layer(axum::middleware::from_fn_with_state(state.clone(), authenticate))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .layer(transport::body_limit(REQUEST_BODY_BYTES_MAX))
        .layer(axum::middleware::from_fn_with_state(state.transport.limits.body_read_timeout, transport::watch_body))
        .layer(axum::middleware::from_fn(transport::head_limits))
        .layer(axum::middleware::from_fn(request_id))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .with_state(state)
}

/// The last net under every request: a panic (a bug, never a client's
/// doing) answers 500 problem+json and is logged, and the connection and
/// the server go on. Shared state does not stay poisoned: the record is
/// reloaded by the next request that takes it (`Recorder::record`).
fn panicked(detail: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let detail = detail
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| detail.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    ApiError::internal(format!("a request panicked: {detail}")).into_response()
}

/// A path nothing serves: a problem for the API, a page for the site.
async fn fallback(Extension(caller): Extension<Caller>, request: Request) -> Response {
    if web::is_page(&request) {
        return web::not_found(Extension(caller)).await;
    }
    ApiError::not_found("no such path").into_response()
}

/// Resolves who every request speaks for, before any handler runs, so
/// that an unknown token is refused on every path alike. An address that
/// has presented too many unknown tokens is answered 429 before its token
/// is looked at; every 401 to a request that presented a credential
/// counts against its address.
async fn authenticate(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let address = transport::client_address(&request).filter(|_| transport::presents_credential(&request));
    let failures = &state.transport.failed_authentications;
    if let Some(wait) = address.and_then(|address| failures.refused_for(address, std::time::Instant::now())) {
        return transport::too_many_failures(wait);
    }
    let response = authenticated(&state, request, next).await;
    if let Some(address) = address.filter(|_| response.status() == StatusCode::UNAUTHORIZED) {
        if failures.record_failure(address, std::time::Instant::now()) {
            tracing::warn!(%address, "too many failed authentications: no token is checked from this address for a while");
        }
    }
    response
}

async fn authenticated(state: &AppState, mut request: Request, next: Next) -> Response {
    let caller = match session::caller(state, request.method(), request.headers()) {
        Ok(caller) => caller,
        Err(error) => return error.into_response(),
    };
    // Reads are for everyone; the pages' own forms check where they come
    // from themselves; an API write is the policy's to allow.
    let (method, path) = (request.method(), request.uri().path());
    if !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) && path.starts_with("/v1/") {
        let members_own = path.ends_with("/signatures") || path.ends_with("/keys");
        if let Err(denied) = visibility::may_change(&caller, members_own) {
            return ApiError::from(denied).into_response();
        }
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Gives every request an id (kept from `X-Request-Id` when the client
/// sent one), logs it with the outcome, and returns it.
async fn request_id(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let mut bytes = [0u8; 8];
            let _ = getrandom::getrandom(&mut bytes);
            minutebook_log::hex(&bytes)
        });
    let (method, path) = (request.method().clone(), request.uri().path().to_owned());
    let started = std::time::Instant::now();
    let mut response = problem_for_rejections(next.run(request).await).await;
    tracing::info!(request_id = %id, %method, %path, status = response.status().as_u16(), elapsed_us = started.elapsed().as_micros() as u64, "request");
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

/// Errors axum makes itself (an unknown path, a wrong method, a path or
/// query that does not parse) become problem details like every other.
async fn problem_for_rejections(response: Response) -> Response {
    let status = response.status();
    let is_problem = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json");
    // The web pages answer errors with pages of their own.
    let is_page = response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem || is_page {
        return response;
    }
    let body = axum::body::to_bytes(response.into_body(), REQUEST_BODY_BYTES_MAX).await.unwrap_or_default();
    let detail = String::from_utf8_lossy(&body).trim().to_owned();
    let (kind, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", if detail.is_empty() { "no such path".to_owned() } else { detail }),
        StatusCode::METHOD_NOT_ALLOWED => ("method-not-allowed", "this path does not take that method".to_owned()),
        // The body's watch names the route's limit; this is only a net.
        StatusCode::PAYLOAD_TOO_LARGE => ("too-large", "the request body is larger than this path accepts".to_owned()),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ("unsupported-media-type", detail),
        // The request time limit's own answer (transport::time_limit).
        StatusCode::SERVICE_UNAVAILABLE => (
            "timeout",
            "the server did not answer within its time limit for a request; a command may still have been \
             recorded: read the record, or send it again with the same Idempotency-Key"
                .to_owned(),
        ),
        _ if status.is_server_error() => return ApiError::internal(detail).into_response(),
        _ => ("malformed", detail),
    };
    ApiError::new(status, kind, detail).into_response()
}

/// Why the server could not start. Its messages are the errors' own,
/// as `minutebook serve` prints them.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Log(#[from] minutebook_log::Error),
    /// The record's projections could not be opened or caught up.
    #[error(transparent)]
    Record(#[from] crate::domain::CommandError),
    #[error(transparent)]
    Tokens(#[from] crate::policy::tokens::Error),
    #[error(transparent)]
    Replies(#[from] idempotency::OpenError),
    /// The async runtime could not start, or the bound address be read.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("cannot listen on {addr}: {error}")]
    Listen { addr: SocketAddr, error: std::io::Error },
}

/// Opens the data directory and serves it until SIGTERM or ctrl-c, within
/// `limits` (see `transport`); then stops accepting, ends live feeds, lets
/// requests in flight finish, and closes the log.
pub fn serve(
    data: &Path,
    addr: SocketAddr,
    limits: &transport::Limits,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    let (open_files_before, open_files) = transport::raise_open_files_limit();
    let connections_max = transport::connections_cap(limits.connections_max, open_files);
    let log = Log::open(data)?;
    for note in log.opened().notes() {
        tracing::warn!("{note}");
    }
    let recorder = Recorder::new(log)?;
    let tokens = TokenStore::open(data)?;
    let mut state = AppState::new(recorder, tokens, data.to_owned())?;
    state.transport = transport::Transport::new(limits.clone());
    let state = Arc::new(state);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|error| ServeError::Listen { addr, error })?;
        let bound = listener.local_addr()?;
        on_ready(bound);
        if connections_max < limits.connections_max {
            tracing::warn!(
                open_files,
                "the open files limit holds only {connections_max} connections of the {} asked for",
                limits.connections_max
            );
        }
        tracing::info!(
            connections_max,
            open_files_before,
            open_files,
            header_read_timeout_ms = limits.header_read_timeout.as_millis() as u64,
            body_read_timeout_ms = limits.body_read_timeout.as_millis() as u64,
            request_time_max_ms = limits.request_time_max.as_millis() as u64,
            auth_failures_max = limits.auth_failures_max,
            auth_failure_window_s = limits.auth_failure_window.as_secs(),
            "serving on {bound} with at most {connections_max} connections (open files limit {open_files}, raised from {open_files_before} where the hard limit allowed)"
        );
        let stop = state.shutdown.clone();
        let signal = async move {
            shutdown_signal().await;
            let _ = stop.send(true);
        };
        transport::serve_connections(listener, router(state), limits, connections_max, signal).await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
