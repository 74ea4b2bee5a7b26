//! The HTTP API (axum on tokio): reads of the record and its projections,
//! the log's checkpoints and proofs, with the caller's role deciding what
//! each read shows. docs/API.md lists every path and the role matrix.
//!
//! Architecture Invariant: only this module knows HTTP and JSON wire
//! shapes; what a role may see is decided in `visibility` alone.

pub mod commands;
pub mod openapi;
pub mod papers;
pub(crate) mod point_in_time;
pub mod transport;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use minutebook_catalogue::{BodyId, MeetingId};
use minutebook_log::{merkle, Event, Log, Payload, Seq};
use minutebook_projections::record::Record;
use minutebook_projections::time::{minutes_record_at, At, MinutesSources};
use minutebook_projections::view::{self, Audience};
use minutebook_projections::{registers, render};
use serde::Deserialize;
use serde_json::json;

use crate::domain::Recorder;
use crate::policy::tokens::{Caller, Role, TokenStore};
use crate::policy::views::event_view;
use crate::policy::visibility::Denied;
use crate::policy::{reads, visibility};

/// Most events one page of `/v1/events` returns.
pub const PAGE_EVENTS_MAX: usize = 1_000;
/// Largest request body accepted, in bytes.
pub const REQUEST_BODY_BYTES_MAX: usize = 64 * 1024;
/// The cookie the web pages keep a token in.
pub const TOKEN_COOKIE: &str = "minutebook_token";

pub struct AppState {
    pub recorder: Recorder,
    pub tokens: TokenStore,
    pub data: PathBuf,
    /// First replies by idempotency key.
    pub replies: commands::Replies,
    /// Set once the server is shutting down: live feeds end.
    pub shutdown: tokio::sync::watch::Sender<bool>,
    /// Exports being built: each holds its bundle in memory.
    pub exports: Arc<tokio::sync::Semaphore>,
    /// The transport's limits and the failed authentications by address.
    pub transport: transport::Transport,
    /// Rendered minutes by meeting, audience, format and log position.
    rendered: std::sync::Mutex<std::collections::HashMap<RenderedKey, (String, u64)>>,
}

type RenderedKey = (MeetingId, bool, &'static str, u64);

/// Most renderings of minutes kept; beyond it the cache starts again.
pub const RENDERED_MINUTES_MAX: usize = 4_096;

impl AppState {
    pub fn new(recorder: Recorder, tokens: TokenStore, data: PathBuf) -> Result<AppState, String> {
        let (shutdown, _) = tokio::sync::watch::channel(false);
        Ok(AppState {
            recorder,
            tokens,
            replies: commands::Replies::open(&data)?,
            data,
            shutdown,
            exports: Arc::new(tokio::sync::Semaphore::new(EXPORTS_CONCURRENT_MAX)),
            transport: transport::Transport::default(),
            rendered: Default::default(),
        })
    }
}

/// How long a live feed waits for new events before checking whether the
/// server is shutting down (and sending a keep-alive).
pub const LIVE_WAIT_MS: u64 = 1_000;
/// Most events one step of a live feed sends.
pub const LIVE_BATCH_EVENTS: usize = 100;

/// An error as RFC 9457 problem+json, with a stable `type` per kind.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    kind: &'static str,
    detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: &'static str, detail: impl Into<String>) -> ApiError {
        ApiError { status, kind, detail: detail.into() }
    }
    /// The content itself is wrong (422): a bad date, an unknown person.
    pub(crate) fn invalid(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", detail)
    }
    pub(crate) fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not-found", detail)
    }
    pub(crate) fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed", detail)
    }
    /// A log error the client did not cause: a full disk is 507, so a
    /// client knows to try again later; a record that fails its integrity
    /// check is a 500 of its own type, logged with the event it names;
    /// anything else is internal.
    pub(crate) fn log(error: minutebook_log::Error) -> ApiError {
        match error.category() {
            minutebook_log::ErrorCategory::StorageFull => {
                tracing::error!(error = %error, "storage full: an append was refused");
                ApiError::new(
                    StatusCode::INSUFFICIENT_STORAGE,
                    "storage-full",
                    "the server's storage is full: nothing was recorded; try again once the operator has freed space",
                )
            }
            minutebook_log::ErrorCategory::Corrupt => ApiError::corrupt_record(error),
            _ => ApiError::internal(error),
        }
    }
    /// A log error met serving a read: a request the log refuses (a
    /// stream name no event can have, a position past the end) is the
    /// client's (400); anything else is as `log` says.
    pub(crate) fn log_read(error: minutebook_log::Error) -> ApiError {
        match error.category() {
            minutebook_log::ErrorCategory::Invalid => ApiError::bad_request(error.to_string()),
            _ => ApiError::log(error),
        }
    }
    /// Stored bytes that fail their hash are never served: the client
    /// learns that much, the operator's log learns which record.
    pub(crate) fn corrupt_record(detail: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %detail, "a stored record failed its integrity check");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "corrupt-record",
            "a stored record failed its integrity check and is not served; the operator has been told",
        )
    }
    /// A recorder error met while reading.
    pub(crate) fn command(error: crate::domain::recorder::CommandError) -> ApiError {
        match error {
            crate::domain::recorder::CommandError::Log(error) => ApiError::log(error),
            other => ApiError::internal(other),
        }
    }
    pub(crate) fn internal(detail: impl std::fmt::Display) -> ApiError {
        // The detail goes to the log, not to the client.
        tracing::error!(error = %detail, "internal error");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the server could not complete the request")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let body = json!({
            "type": format!("/problems/{}", self.kind),
            "title": title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 9110 §15.5.2: a 401 names the scheme that would do.
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"minutebook\""));
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

impl From<Denied> for ApiError {
    fn from(denied: Denied) -> ApiError {
        match denied {
            Denied::SignInFirst(why) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", why),
            Denied::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", why),
        }
    }
}

/// Who the request speaks for: a bearer token, or the web pages' cookie;
/// none is the public. An unknown or revoked token is refused, not
/// treated as the public, so a client notices.
fn caller(state: &AppState, method: &axum::http::Method, headers: &HeaderMap) -> ApiResult<Caller> {
    if let Some(token) = bearer_token(headers)? {
        return state
            .tokens
            .caller(token)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the token is unknown or revoked"));
    }
    let cookie = cookie_token(headers);
    // The pages' cookie reads; it writes only with the page's CSRF token
    // beside it, which only this site's pages hold, so a form another site
    // makes a browser send records nothing. A cookie whose token was
    // revoked reads as the public, so the pages go on working.
    if !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD) {
        let presented = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
        return match (cookie, presented) {
            (Some(token), Some(presented)) if csrf_matches(token, presented) => {
                state.tokens.caller(token).ok_or_else(|| {
                    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "the token is unknown or revoked")
                })
            }
            (Some(_), Some(_)) => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the page's CSRF token does not match its sign-in: reload the page",
            )),
            _ => Ok(Caller::public()),
        };
    }
    Ok(cookie.and_then(|token| state.tokens.caller(token)).unwrap_or_else(Caller::public))
}

/// The token of an `Authorization: Bearer <token>` header, if one was
/// sent. The scheme is matched without regard to case (RFC 9110 §11.1);
/// a header that is present but unusable (another scheme, no token, not
/// text) is refused, never taken for the public, so a misconfigured
/// client learns at once that it is not signed in.
fn bearer_token(headers: &HeaderMap) -> ApiResult<Option<&str>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unusable =
        |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", format!("the Authorization header {why}"));
    let value = value.to_str().map_err(|_| unusable("is not text"))?;
    let (scheme, token) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(unusable("must use the Bearer scheme: Authorization: Bearer <token>"));
    }
    let token = token.trim_start_matches(' ');
    if token.is_empty() {
        return Err(unusable("names the Bearer scheme but no token"));
    }
    Ok(Some(token))
}

/// The header a page's script sends its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The pages' sign-in token, from their cookie.
pub fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).find_map(|cookies| {
        cookies.split(';').map(str::trim).find_map(|c| c.strip_prefix(TOKEN_COOKIE).and_then(|c| c.strip_prefix('=')))
    })
}

/// The CSRF token of a signed-in page: derived from the sign-in token,
/// which no script can read (its cookie is HttpOnly), so only pages this
/// site rendered for that sign-in hold it.
pub fn csrf_token(token: &str) -> String {
    minutebook_log::hex(&blake3::derive_key("minutebook 2026-11-26 web page CSRF token", token.as_bytes())[..16])
}

fn csrf_matches(token: &str, presented: &str) -> bool {
    // Compared as BLAKE3 hashes, whose equality takes constant time.
    blake3::hash(csrf_token(token).as_bytes()) == blake3::hash(presented.as_bytes())
}

pub(crate) async fn blocking<T: Send + 'static>(work: impl FnOnce() -> ApiResult<T> + Send + 'static) -> ApiResult<T> {
    tokio::task::spawn_blocking(work).await.map_err(ApiError::internal)?
}

pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/log/key", get(log_key))
        .route("/v1/bodies", get(bodies))
        .route("/v1/bodies/{body}", get(body))
        .route("/v1/people", get(people))
        .route("/v1/people/{person}", get(person))
        .route("/v1/meetings/{meeting}", get(meeting))
        .route("/v1/meetings/{meeting}/items/{item}", get(meeting_item))
        .route("/v1/streams/{stream}/events", get(stream_events))
        .route("/v1/checkpoints", get(checkpoints))
        .route("/v1/bodies/{body}/meetings", get(body_meetings))
        .route("/v1/bodies/{body}/actions", get(body_actions))
        .route("/v1/bodies/{body}/registers/{register}", get(body_register))
        .route("/v1/bodies/{body}/minutes/{number}", get(find_minute))
        .route("/v1/meetings/{meeting}/minutes", get(minutes))
        .route("/v1/meetings/{meeting}/trail", get(meeting_trail))
        .route("/v1/meetings/{meeting}/statement", get(statement))
        .route("/v1/events", get(events))
        .route("/v1/events/live", get(live))
        .route("/v1/events/{seq}", get(event))
        .route("/v1/proofs/inclusion", get(inclusion))
        .route("/v1/proofs/consistency", get(consistency))
        .route("/v1/export", get(export))
        .merge(commands::routes())
        .route("/v1/tokens", axum::routing::post(create_token))
        .route("/v1/tokens/{id}", axum::routing::delete(revoke_token))
        .merge(crate::web::routes())
        // Every route above starts its answer within the request time
        // limit (a live feed's events come after its start, so it goes
        // on); papers, merged below it, have a longer one of their own.
        .route_layer(transport::time_limit(state.transport.limits.request_time_max))
        .merge(
            papers::routes().route_layer(transport::time_limit(std::time::Duration::from_millis(
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
        .layer(axum::middleware::from_fn(security_headers))
        .with_state(state)
}

/// Healthy means able to serve what requests need: the record's lock is
/// taken and released (so a record that cannot be caught up with the log
/// is seen) and the log's head checkpoint is read from its store.
async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    blocking(move || {
        drop(state.recorder.record().map_err(ApiError::command)?);
        state.recorder.log().latest_checkpoint().map_err(ApiError::log)?;
        Ok(text("ok\n".to_owned()))
    })
    .await
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

/// The policy of every response that is not one of the site's pages
/// (JSON, problems, text, papers, the API's minutes as HTML): it loads
/// nothing, runs nothing, may not be framed, and is a sandboxed origin of
/// its own, so even bytes a browser would take for a document are inert.
pub const INERT_CONTENT_SECURITY_POLICY: &str = "default-src 'none'; frame-ancestors 'none'; sandbox";

/// Headers every response carries. `nosniff` everywhere, so a browser
/// never reads JSON or a paper as a script or a page; frames refused
/// everywhere; responses without a policy of their own (everything but
/// the site's pages) get `INERT_CONTENT_SECURITY_POLICY`; and HSTS when
/// the request came over TLS (a proxy in front says so). A browser ignores
/// HSTS sent over plain HTTP (RFC 6797 §8.1), so a spoofed
/// `X-Forwarded-Proto` cannot pin anyone to HTTPS who is not already on it.
async fn security_headers(request: Request, next: Next) -> Response {
    let over_tls = crate::web::over_tls(request.headers());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(INERT_CONTENT_SECURITY_POLICY));
    }
    if over_tls {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    }
    response
}

/// A path nothing serves: a problem for the API, a page for the site.
async fn fallback(Extension(caller): Extension<Caller>, request: Request) -> Response {
    if crate::web::is_page(&request) {
        return crate::web::not_found(Extension(caller)).await;
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
    let caller = match caller(state, request.method(), request.headers()) {
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

fn text(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

async fn checkpoint(State(state): State<Arc<AppState>>) -> ApiResult<Response> {
    let note = state.recorder.log().latest_checkpoint().map_err(ApiError::log)?.note;
    Ok(text(note))
}

async fn log_key(State(state): State<Arc<AppState>>) -> Response {
    text(format!("{}\n", state.recorder.log().verifier().to_vkey()))
}

pub(crate) fn body_id(text: &str) -> ApiResult<BodyId> {
    BodyId::new(text).map_err(|e| ApiError::not_found(format!("no body {text:?}: {e}")))
}

pub(crate) fn meeting_id(text: &str) -> ApiResult<MeetingId> {
    MeetingId::new(text).map_err(|e| ApiError::not_found(format!("no meeting {text:?}: {e}")))
}

/// Runs `read` over the record caught up with the log.
async fn with_record<T: Send + 'static>(
    state: &Arc<AppState>,
    read: impl FnOnce(&Record) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let state = state.clone();
    blocking(move || {
        let record = state.recorder.record().map_err(ApiError::command)?;
        read(&record)
    })
    .await
}

async fn bodies(State(state): State<Arc<AppState>>) -> ApiResult<Json<serde_json::Value>> {
    with_record(&state, |record| {
        let bodies: Vec<_> = record
            .bodies
            .values()
            .map(|b| json!({"id": b.id, "name": b.name, "kind": format!("{:?}", b.kind), "timezone": b.timezone, "quorum": b.quorum}))
            .collect();
        Ok(Json(json!({ "bodies": bodies })))
    })
    .await
}

async fn body(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        let body = record.bodies.get(&id).ok_or_else(|| ApiError::not_found(format!("no body {id} is registered")))?;
        let members: Vec<_> = body
            .tenures
            .iter()
            .map(|t| {
                json!({
                    "person": t.person, "name": view::name_of(record, &t.person), "role": t.role.title(),
                    "from": t.from.to_string(), "until": t.until.map(|d| d.to_string()),
                })
            })
            .collect();
        Ok(Json(json!({
            "id": body.id, "name": body.name, "kind": format!("{:?}", body.kind), "timezone": body.timezone,
            "quorum": body.quorum, "next_minute": body.next_minute, "members": members,
        })))
    })
    .await
}

fn known_body<'r>(record: &'r Record, id: &BodyId) -> ApiResult<&'r minutebook_projections::record::Body> {
    record.bodies.get(id).ok_or_else(|| ApiError::not_found(format!("no body {id} is registered")))
}

fn person_json(record: &Record, p: &minutebook_projections::record::Person) -> serde_json::Value {
    json!({
        "id": p.id, "name": p.name, "title": p.title, "organisation": p.organisation, "job_title": p.job_title,
        "display_name": p.display_name(), "redacted": p.redacted,
        "keys": p.keys.iter().map(|k| json!({
            "public_key": minutebook_log::hex(&k.public_key), "registered_at": k.registered_at.0,
            "revoked_at": k.revoked_at.map(|s| s.0),
        })).collect::<Vec<_>>(),
        "memberships": record.bodies.values().flat_map(|b| b.tenures.iter().filter(|t| t.person == p.id).map(move |t| json!({
            "body": b.id, "role": t.role.title(), "from": t.from.to_string(), "until": t.until.map(|d| d.to_string()),
        }))).collect::<Vec<_>>(),
    })
}

async fn people(State(state): State<Arc<AppState>>) -> ApiResult<Json<serde_json::Value>> {
    with_record(&state, |record| {
        Ok(Json(json!({ "people": record.people.values().map(|p| person_json(record, p)).collect::<Vec<_>>() })))
    })
    .await
}

async fn person(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    with_record(&state, move |record| {
        let person = record
            .people
            .get(id.as_str())
            .ok_or_else(|| ApiError::not_found(format!("no person {id:?} is registered")))?;
        Ok(Json(person_json(record, person)))
    })
    .await
}

async fn meeting(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> ApiResult<Response> {
    let id = meeting_id(&id)?;
    with_record(&state, move |record| {
        let meeting = known_meeting(record, &id)?;
        let body = json!({
            "id": meeting.id, "body": meeting.body, "date": meeting.date.to_string(), "start": meeting.start.to_string(),
            "venue": meeting.venue, "status": view::status(meeting), "banner": view::status(meeting).banner(),
            "agenda": meeting.agenda.iter().map(|a| json!({"number": a.number, "title": a.title, "kind": a.kind.name()})).collect::<Vec<_>>(),
            "stream_version": record.stream_version(&id.stream()).0,
        });
        let mut response = Json(body).into_response();
        let etag = format!("\"{}\"", record.stream_version(&id.stream()).0);
        response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&etag).expect("a number"));
        Ok(response)
    })
    .await
}

/// One item of the minutes as the caller may read it: its points,
/// decisions, actions and declarations.
async fn meeting_item(
    State(state): State<Arc<AppState>>,
    UrlPath((id, item)): UrlPath<(String, u32)>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = meeting_id(&id)?;
    with_record(&state, move |record| {
        known_meeting(record, &id)?;
        let minutes = view::minutes(record, &id, visibility::audience(&caller)).expect("a known meeting has minutes");
        let found = minutes.items.iter().find(|i| i.item == item);
        let found = found.ok_or_else(|| {
            ApiError::not_found(format!(
                "meeting {id} has not taken agenda item {item}, or its minutes are not published"
            ))
        })?;
        let declarations: Vec<_> = minutes.declarations.iter().filter(|d| d.item == item).collect();
        Ok(Json(json!({ "meeting": id, "item": found, "declarations": declarations })))
    })
    .await
}

async fn stream_events(
    State(state): State<Arc<AppState>>,
    UrlPath(stream): UrlPath<String>,
    Query(query): Query<PageQuery>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = page_limit(query.limit)?;
    // Checked here, before the record's lock is taken; the log refuses
    // such a name too, but no request should get that far with one.
    if stream.is_empty() || stream.len() > minutebook_log::limits::STREAM_BYTES_MAX || stream.contains(char::is_control)
    {
        return Err(ApiError::not_found(format!(
            "no stream is named {stream:?}: a name has 1 to {} bytes and no control characters",
            minutebook_log::limits::STREAM_BYTES_MAX
        )));
    }
    // For a stream, `from` is a stream version (the first event is 1).
    let from = minutebook_log::StreamVersion(query.from.unwrap_or(1).max(1));
    with_record(&state.clone(), move |record| {
        let events = state.recorder.log().read_stream(&stream, from, limit).map_err(ApiError::log_read)?;
        let next = events.last().map(|e| e.envelope.stream_version().0 + 1);
        let events: Vec<_> = events.iter().map(|e| event_json(record, &caller, e)).collect();
        Ok(Json(json!({ "stream": stream, "events": events, "next": next })))
    })
    .await
}

#[derive(Deserialize)]
struct CheckpointQuery {
    from: Option<u64>,
    to: Option<u64>,
    limit: Option<usize>,
}

/// Most events an export over HTTP carries: a bundle is built in memory
/// (about 9 KB an event as a tar), and anyone may ask for one.
const HTTP_EXPORT_EVENTS_MAX: u64 = 50_000;
/// Most exports built at once, so that memory stays bounded (at most
/// about 450 MB each) whoever asks; others are told to come back.
pub const EXPORTS_CONCURRENT_MAX: usize = 2;
/// When a client refused for want of capacity is told to try again, in seconds.
pub const RETRY_AFTER_BUSY_SECONDS: u64 = 5;

#[derive(Deserialize)]
struct ExportQuery {
    meeting: Option<String>,
    body: Option<String>,
    all: Option<bool>,
    /// An older tree size to prove the checkpoint consistent with.
    since: Option<u64>,
}

/// An export bundle as one .tar file: a public bundle for the public, a
/// full one for everyone signed in.
async fn export(
    State(state): State<Arc<AppState>>,
    Query(query): Query<ExportQuery>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Response> {
    use crate::bundle::{ExportError, Meta, Scope};
    let scope = match (query.meeting, query.body, query.all.unwrap_or(false)) {
        (Some(meeting), None, false) => Scope::Meeting(meeting_id(&meeting)?),
        (None, Some(body), false) => Scope::Body(body_id(&body)?),
        (None, None, true) => Scope::All,
        _ => return Err(ApiError::bad_request("name exactly one of ?meeting=ID, ?body=ID or ?all=true")),
    };
    let meta = Meta { scope, public: caller.role == Role::Public };
    let Ok(permit) = state.exports.clone().try_acquire_owned() else {
        return Ok(busy("exports are being built for other requests"));
    };
    let (tar, name) = blocking(move || {
        let _permit = permit;
        let record = state.recorder.record().map_err(ApiError::command)?.clone();
        let since: Vec<u64> = query.since.into_iter().collect();
        let log = state.recorder.log();
        let exported = crate::bundle::export_at_most(log, &record, &meta, &since, HTTP_EXPORT_EVENTS_MAX);
        let bundle = exported.map_err(|error| match error {
            ExportError::NotFound(why) => ApiError::not_found(why),
            ExportError::Invalid(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", why),
            ExportError::TooLarge(why) => ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too-large", why),
            ExportError::Log(error) => ApiError::log(error),
        })?;
        let name = format!("minutebook-{}", meta.scope.slug());
        let mut tar = Vec::new();
        bundle.write_tar(&name, &mut tar).map_err(ApiError::internal)?;
        Ok((tar, name))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-tar".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}.tar\"")),
        ],
        tar,
    )
        .into_response())
}

/// 503 with `Retry-After`: the server is at capacity for this kind of
/// request, and nothing was done.
fn busy(what: &str) -> Response {
    let mut response = ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        format!("{what}; try again in {RETRY_AFTER_BUSY_SECONDS} seconds"),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_BUSY_SECONDS));
    response
}

/// Every stored checkpoint with a tree size in `from..=to`, as signed notes.
async fn checkpoints(
    State(state): State<Arc<AppState>>,
    Query(query): Query<CheckpointQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = page_limit(query.limit)?;
    blocking(move || {
        let log = state.recorder.log();
        let (from, to) = (query.from.unwrap_or(0), query.to.unwrap_or_else(|| log.len()));
        let notes = log.checkpoints(from, to, limit).map_err(ApiError::log_read)?;
        let next = notes.last().map(|c| c.checkpoint.tree_size + 1).filter(|next| *next <= to);
        let notes: Vec<_> =
            notes.iter().map(|c| json!({"tree_size": c.checkpoint.tree_size, "note": c.note})).collect();
        Ok(Json(json!({ "checkpoints": notes, "next": next })))
    })
    .await
}

/// A page's size: 100 unless asked, at most `PAGE_EVENTS_MAX`.
fn page_limit(limit: Option<usize>) -> ApiResult<usize> {
    let limit = limit.unwrap_or(100);
    if limit == 0 || limit > PAGE_EVENTS_MAX {
        return Err(ApiError::bad_request(format!("limit {limit} is outside 1 to {PAGE_EVENTS_MAX}")));
    }
    Ok(limit)
}

fn known_meeting<'r>(record: &'r Record, id: &MeetingId) -> ApiResult<&'r minutebook_projections::record::Meeting> {
    record.meetings.get(id).ok_or_else(|| ApiError::not_found(format!("no meeting {id} is scheduled")))
}

async fn body_meetings(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        known_body(record, &id)?;
        Ok(Json(json!({ "meetings": registers::body_meetings(record, &id) })))
    })
    .await
}

async fn body_actions(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        known_body(record, &id)?;
        Ok(Json(json!({ "actions": reads::actions(record, &id) })))
    })
    .await
}

async fn body_register(
    State(state): State<Arc<AppState>>,
    UrlPath((id, register)): UrlPath<(String, String)>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        known_body(record, &id)?;
        let public = caller.role == Role::Public;
        let value = match register.as_str() {
            "attendance" => json!({ "attendance": reads::attendance(record, &id, public) }),
            "declarations" => json!({ "declarations": reads::declarations(record, &id, public) }),
            "flagged-votes" => json!({ "flagged_votes": reads::flagged_votes(record, &id, public) }),
            "inquorate" => json!({ "inquorate": reads::inquorate(record, &id, public) }),
            other => {
                return Err(ApiError::not_found(format!(
                    "no register {other:?}: there are attendance, declarations, flagged-votes and inquorate"
                )))
            }
        };
        Ok(Json(value))
    })
    .await
}

async fn find_minute(
    State(state): State<Arc<AppState>>,
    UrlPath((id, number)): UrlPath<(String, u32)>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        known_body(record, &id)?;
        let (meeting, item) = registers::find_minute(record, &id, number)
            .ok_or_else(|| ApiError::not_found(format!("{id} has no minute {number}")))?;
        Ok(Json(json!({ "body": id, "minute": number, "meeting": meeting, "item": item })))
    })
    .await
}

#[derive(Deserialize)]
struct AtQuery {
    at: Option<String>,
}

async fn minutes(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<AtQuery>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let id = meeting_id(&id)?;
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let format = if accept.contains("text/html") {
        "text/html; charset=utf-8"
    } else if accept.contains("text/markdown") {
        "text/markdown; charset=utf-8"
    } else {
        "application/json"
    };
    let state2 = state.clone();
    // A point-in-time read waits its turn before it takes a thread.
    let turn = match &query.at {
        Some(_) => Some(point_in_time::turn().await),
        None => None,
    };
    let (body, version) = blocking(move || {
        let _turn = turn;
        let current = state2.recorder.record().map_err(ApiError::command)?;
        let meeting = known_meeting(&current, &id)?;
        let timezone = current.bodies.get(&meeting.body).map_or("UTC".to_owned(), |b| b.timezone.clone());
        let audience = visibility::audience(&caller);
        let render = |model: Option<view::Minutes>| -> ApiResult<String> {
            let model = model
                .ok_or_else(|| ApiError::not_found(format!("meeting {id} was not yet scheduled at that point")))?;
            Ok(match format {
                "application/json" => serde_json::to_string(&model).expect("JSON always encodes"),
                "text/markdown; charset=utf-8" => render::markdown(&model),
                _ => render::html(&model),
            })
        };
        match query.at {
            None => {
                // The same minutes are read again and again: keep each
                // rendering until the log moves on.
                let key = (id.clone(), audience == Audience::Public, format, current.position().0);
                if let Some(cached) =
                    state2.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key)
                {
                    return Ok(cached.clone());
                }
                let version = current.stream_version(&id.stream()).0;
                let body = render(view::minutes(&current, &id, audience))?;
                let mut rendered = state2.rendered.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                if rendered.len() >= RENDERED_MINUTES_MAX {
                    rendered.clear();
                }
                rendered.insert(key, (body.clone(), version));
                Ok((body, version))
            }
            Some(at) => {
                // The record's lock is let go first: the minutes then are
                // folded from the streams they are made of, read from the
                // log alone (`minutes_record_at`), so a crawler following
                // every trail link never waits on, or makes wait, a writer.
                let sources = MinutesSources::of(&current, &id);
                drop(current);
                let at = At::parse(&at, &timezone).map_err(ApiError::bad_request)?;
                let reader = state2.recorder.log().reader();
                let position = sources.position(&reader, at).map_err(ApiError::log)?;
                let then = minutes_record_at(&reader, &id, &sources, position).map_err(ApiError::log)?;
                let version = then.stream_version(&id.stream()).0;
                Ok((render(view::minutes(&then, &id, audience))?, version))
            }
        }
    })
    .await?;
    let mut response = ([(header::CONTENT_TYPE, format)], body).into_response();
    response.headers_mut().insert(header::ETAG, HeaderValue::from_str(&format!("\"{version}\"")).expect("a number"));
    response.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept, Authorization, Cookie"));
    Ok(response)
}

#[derive(Deserialize)]
struct TrailQuery {
    item: Option<u32>,
}

async fn meeting_trail(
    State(state): State<Arc<AppState>>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<TrailQuery>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let id = meeting_id(&id)?;
    let state2 = state.clone();
    blocking(move || {
        let record = state2.recorder.record().map_err(ApiError::command)?;
        let reader = state2.recorder.log().reader();
        let entries = match reads::meeting_trail(&reader, &record, &id, query.item, caller.role == Role::Public)
            .map_err(ApiError::log)?
        {
            Ok(entries) => entries,
            Err(reads::TrailRefused::NoSuchMeeting) => {
                return Err(ApiError::not_found(format!("no meeting {id} is scheduled")))
            }
            Err(reads::TrailRefused::NotPublished) => {
                return Err(ApiError::not_found(format!("the record of meeting {id} is not published yet")))
            }
        };
        Ok(Json(json!({ "meeting": id, "trail": entries })))
    })
    .await
}

async fn statement(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> ApiResult<Response> {
    let id = meeting_id(&id)?;
    let state2 = state.clone();
    blocking(move || match state2.recorder.statement(&id) {
        Ok(statement) => Ok(text(statement.to_text())),
        Err(crate::domain::CommandError::Refused(refusal)) => {
            Err(ApiError::new(StatusCode::CONFLICT, "refused", refusal.message))
        }
        Err(error) => Err(ApiError::command(error)),
    })
    .await
}

#[derive(Deserialize)]
struct PageQuery {
    from: Option<u64>,
    limit: Option<usize>,
}

fn event_json(record: &Record, caller: &Caller, event: &Event) -> serde_json::Value {
    // A redaction notice is for everyone; a payload only for its readers.
    let withheld = matches!(event.payload, Payload::Present { .. }) && !visibility::payload(record, caller, event);
    event_view(event, withheld)
}

async fn events(
    State(state): State<Arc<AppState>>,
    Query(query): Query<PageQuery>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    let limit = page_limit(query.limit)?;
    let from = Seq(query.from.unwrap_or(0));
    with_record(&state.clone(), move |record| {
        let events = state.recorder.log().read(from, limit).map_err(ApiError::log)?;
        let next = events.last().map(|e| e.envelope.seq().0 + 1);
        let events: Vec<_> = events.iter().map(|e| event_json(record, &caller, e)).collect();
        Ok(Json(json!({ "events": events, "next": next })))
    })
    .await
}

async fn event(
    State(state): State<Arc<AppState>>,
    UrlPath(seq): UrlPath<u64>,
    Extension(caller): Extension<Caller>,
) -> ApiResult<Json<serde_json::Value>> {
    with_record(&state.clone(), move |record| {
        let event = state
            .recorder
            .log()
            .event(Seq(seq))
            .map_err(ApiError::log)?
            .ok_or_else(|| ApiError::not_found(format!("the log holds no event {seq}")))?;
        Ok(Json(event_json(record, &caller, &event)))
    })
    .await
}

#[derive(Deserialize)]
struct NewToken {
    role: String,
    person: Option<String>,
}

fn admin_only(caller: &Caller) -> ApiResult<()> {
    match caller.role {
        Role::Admin => Ok(()),
        Role::Public => {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "managing tokens needs an admin token"))
        }
        _ => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", "only an admin manages tokens")),
    }
}

/// An admin makes a token; it is in this answer only.
async fn create_token(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    body: Result<Json<NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    admin_only(&caller)?;
    let Json(new) = body.map_err(|r| ApiError::new(r.status(), "invalid", r.body_text()))?;
    let role = Role::parse(&new.role).map_err(ApiError::invalid)?;
    if let Some(person) = &new.person {
        minutebook_catalogue::PersonId::new(person).map_err(ApiError::invalid)?;
    }
    if role == Role::Member && new.person.is_none() {
        return Err(ApiError::invalid("a member's token must name the member"));
    }
    let (token, record) =
        blocking(move || state.tokens.create(role, new.person.as_deref()).map_err(ApiError::internal)).await?;
    let body = json!({ "token": token, "id": record.id, "role": role.name(), "person": record.person });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<StatusCode> {
    admin_only(&caller)?;
    blocking(move || state.tokens.revoke(&id).map_err(ApiError::not_found)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
struct LiveQuery {
    from: Option<u64>,
}

/// The live feed: every durable event from a position on, as Server-Sent
/// Events whose id is the event's position, filtered by the caller's role
/// like every read. A client that reconnects with `Last-Event-ID` resumes
/// after that event, without gaps or duplicates. It ends when the server
/// shuts down.
async fn live(
    State(state): State<Arc<AppState>>,
    Query(query): Query<LiveQuery>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let resume = headers.get("last-event-id").map(|v| {
        v.to_str()
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            // No event is at u64::MAX: a resume past it would wrap to 0.
            .and_then(|last| last.checked_add(1))
            .ok_or_else(|| ApiError::bad_request("Last-Event-ID must be the position of an event this feed sent"))
    });
    let from = match resume {
        Some(from) => from?,
        None => query.from.unwrap_or_else(|| state.recorder.log().len()),
    };
    let shutdown = state.shutdown.subscribe();
    let stream =
        futures_util::stream::unfold((state, caller, from, shutdown), |(state, caller, from, shutdown)| async move {
            if *shutdown.borrow() {
                return None;
            }
            let step_state = state.clone();
            let step_caller = caller.clone();
            let events = tokio::task::spawn_blocking(move || -> Result<Vec<axum::response::sse::Event>, String> {
                let log = step_state.recorder.log();
                log.wait_for_more(from, std::time::Duration::from_millis(LIVE_WAIT_MS)).map_err(|e| e.to_string())?;
                let events = log.read(Seq(from), LIVE_BATCH_EVENTS).map_err(|e| e.to_string())?;
                if events.is_empty() {
                    return Ok(Vec::new());
                }
                let record = step_state.recorder.record().map_err(|e| e.to_string())?;
                Ok(events
                    .iter()
                    .map(|event| {
                        axum::response::sse::Event::default()
                            .id(event.envelope.seq().0.to_string())
                            .event(event.envelope.event_type())
                            .data(event_json(&record, &step_caller, event).to_string())
                    })
                    .collect())
            })
            .await;
            match events {
                Ok(Ok(events)) => {
                    let next = from + events.len() as u64;
                    let batch = futures_util::stream::iter(events.into_iter().map(Ok::<_, std::convert::Infallible>));
                    Some((batch, (state, caller, next, shutdown)))
                }
                // The log failed or the task panicked: end the feed; the client reconnects.
                Ok(Err(error)) => {
                    tracing::error!(%error, "live feed ended");
                    None
                }
                Err(error) => {
                    tracing::error!(%error, "live feed ended");
                    None
                }
            }
        });
    let stream = futures_util::StreamExt::flatten(stream);
    Ok(axum::response::sse::Sse::new(stream).keep_alive(axum::response::sse::KeepAlive::default()).into_response())
}

#[derive(Deserialize)]
struct InclusionQuery {
    seq: u64,
    size: Option<u64>,
}

async fn inclusion(
    State(state): State<Arc<AppState>>,
    Query(q): Query<InclusionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(move || {
        let log = state.recorder.log();
        let size = q.size.unwrap_or_else(|| log.len());
        let event = log
            .event(Seq(q.seq))
            .map_err(ApiError::log)?
            .ok_or_else(|| ApiError::not_found(format!("the log holds no event {}", q.seq)))?;
        let proof = log.inclusion_proof(Seq(q.seq), size).map_err(ApiError::log_read)?;
        let root = log.root(size).map_err(ApiError::log_read)?;
        let checkpoint = log.checkpoint(size).map_err(ApiError::log)?.map(|c| c.note);
        Ok(Json(json!({
            "leaf_index": q.seq, "tree_size": size, "event_hash": event.hash.to_hex(),
            "leaf_hash": merkle::leaf_hash(&event.hash).to_hex(), "root": root.to_hex(),
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(), "checkpoint": checkpoint,
        })))
    })
    .await
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    size: Option<u64>,
}

async fn consistency(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ConsistencyQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    blocking(move || {
        let log = state.recorder.log();
        let size = q.size.unwrap_or_else(|| log.len());
        let proof = log.consistency_proof(q.from, size).map_err(ApiError::log_read)?;
        let old_root = log.root(q.from).map_err(ApiError::log_read)?;
        let new_root = log.root(size).map_err(ApiError::log_read)?;
        Ok(Json(json!({
            "old_size": q.from, "new_size": size, "old_root": old_root.to_hex(), "new_root": new_root.to_hex(),
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(),
        })))
    })
    .await
}

/// Opens the data directory and serves it until SIGTERM or ctrl-c, within
/// `limits` (see `transport`); then stops accepting, ends live feeds, lets
/// requests in flight finish, and closes the log.
pub fn serve(
    data: &Path,
    addr: SocketAddr,
    limits: &transport::Limits,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), String> {
    let (open_files_before, open_files) = transport::raise_open_files_limit();
    let connections_max = transport::connections_cap(limits.connections_max, open_files);
    let log = Log::open(data).map_err(|e| e.to_string())?;
    for note in log.opened().notes() {
        tracing::warn!("{note}");
    }
    let recorder = Recorder::new(log).map_err(|e| e.to_string())?;
    let tokens = TokenStore::open(data)?;
    let mut state = AppState::new(recorder, tokens, data.to_owned())?;
    state.transport = transport::Transport::new(limits.clone());
    let state = Arc::new(state);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
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
