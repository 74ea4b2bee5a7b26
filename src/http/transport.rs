//! What the server does before a request reaches a handler, to stay up
//! when clients are hostile: it accepts connections through hyper's
//! HTTP/1 builder with a header-read timeout, holds at most a fixed number
//! of connections, bounds how long a request body may stall and how long
//! a request may take, refuses overlong targets and header fields with
//! problem+json before hyper's own limits are reached, names the limit of
//! the route that refused an overlong body, and stops an address that
//! keeps presenting bad tokens. docs/OPERATIONS.md lists every limit.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body::Frame;
use tower::{Layer, Service, ServiceExt};

use super::problem::ApiError;

/// How long a client has to send a request's line and header fields,
/// counted from when the server starts waiting for them: on a new
/// connection, and again on a kept-alive one after each answer. Past it
/// hyper closes the connection without an answer, so an idle or
/// half-sent request holds a connection no longer than this.
pub const HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Longest wait for the next part of a request body once a handler reads
/// it; a body that stalls longer is refused with 408.
pub const BODY_READ_TIMEOUT_MS: u64 = 10_000;
/// Longest a request may take, body included, until its answer starts; a
/// request that takes longer is answered 503. The body of an answer is not
/// bounded by it, so the live feed of events goes on.
pub const REQUEST_TIME_MAX_MS: u64 = 30_000;
/// Longest a paper's upload or download may take until its answer starts:
/// 50 MiB at 1 Mbit/s.
pub const PAPER_REQUEST_TIME_MAX_MS: u64 = 600_000;
/// Most connections held at once; further clients wait in the kernel's
/// accept queue until one closes. Capped further by the open files limit
/// less `OPEN_FILES_RESERVED`.
pub const CONNECTIONS_MAX: usize = 8_192;
/// Open files kept for everything but connections: the log's files,
/// papers being written and read, the standard streams.
pub const OPEN_FILES_RESERVED: u64 = 1_024;
/// Longest request target (path and query) answered, in bytes; a longer
/// one is 414.
pub const URI_BYTES_MAX: usize = 8 * 1024;
/// Most header fields in a request; more is 431.
pub const HEADER_FIELDS_MAX: usize = 100;
/// Largest sum of a request's header fields (names, values and their
/// separators), in bytes; more is 431.
pub const HEADER_FIELDS_BYTES_MAX: usize = 16 * 1024;
/// hyper's limit on a request head (request line and header fields), in
/// bytes, which is also its read buffer's. A longer head gets hyper's own
/// 431, without a body: it is twice our limits, so that ours answer first,
/// with problem+json.
pub const HYPER_HEAD_BYTES_MAX: usize = 32 * 1024;
/// Most header fields hyper parses; beyond it hyper answers 431 itself.
pub const HYPER_HEADER_FIELDS_MAX: usize = 2 * HEADER_FIELDS_MAX;
/// Failed authentications (unknown or revoked tokens) an address may make
/// in `AUTH_FAILURE_WINDOW_S` before it is answered 429.
pub const AUTH_FAILURES_MAX: u32 = 10;
/// The window over which failed authentications are counted, in seconds.
pub const AUTH_FAILURE_WINDOW_S: u64 = 60;
/// Most client addresses whose failures are remembered at once.
pub const AUTH_ADDRESSES_MAX: usize = 65_536;

const _: () = assert!(URI_BYTES_MAX + HEADER_FIELDS_BYTES_MAX < HYPER_HEAD_BYTES_MAX);
// hyper refuses a buffer smaller than 8 KiB.
const _: () = assert!(HYPER_HEAD_BYTES_MAX >= 8 * 1024);
const _: () = assert!(HEADER_FIELDS_MAX < HYPER_HEADER_FIELDS_MAX);
const _: () = assert!(BODY_READ_TIMEOUT_MS < REQUEST_TIME_MAX_MS && REQUEST_TIME_MAX_MS < PAPER_REQUEST_TIME_MAX_MS);

/// The limits a server runs with; `Limits::default()` is the constants
/// above, and `minutebook serve` takes each as an option.
#[derive(Clone, Debug)]
pub struct Limits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub request_time_max: Duration,
    pub connections_max: usize,
    pub auth_failures_max: u32,
    pub auth_failure_window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            header_read_timeout: Duration::from_millis(HEADER_READ_TIMEOUT_MS),
            body_read_timeout: Duration::from_millis(BODY_READ_TIMEOUT_MS),
            request_time_max: Duration::from_millis(REQUEST_TIME_MAX_MS),
            connections_max: CONNECTIONS_MAX,
            auth_failures_max: AUTH_FAILURES_MAX,
            auth_failure_window: Duration::from_secs(AUTH_FAILURE_WINDOW_S),
        }
    }
}

/// The transport's state shared by every request: its limits and the
/// failed authentications by address.
pub struct Transport {
    pub limits: Limits,
    pub failed_authentications: FailedAuthentications,
}

impl Transport {
    pub fn new(limits: Limits) -> Transport {
        let failed_authentications = FailedAuthentications::new(limits.auth_failures_max, limits.auth_failure_window);
        Transport { limits, failed_authentications }
    }
}

impl Default for Transport {
    fn default() -> Transport {
        Transport::new(Limits::default())
    }
}

/// Failed authentications counted per client address in fixed windows:
/// the first failure opens a window, and an address that has failed
/// `failures_max` times in it is refused until the window ends. IPv6
/// addresses are counted by their /64, which one client usually holds
/// whole. A hand-kept table rather than a rate-limiting crate: the check
/// must come before the token is looked at, and only failures may count,
/// which a token bucket (governor's GCRA) cannot ask without spending.
pub struct FailedAuthentications {
    failures_max: u32,
    window: Duration,
    by_address: Mutex<HashMap<IpAddr, FailureWindow>>,
}

#[derive(Clone, Copy)]
struct FailureWindow {
    opened: Instant,
    failures: u32,
}

impl FailedAuthentications {
    pub fn new(failures_max: u32, window: Duration) -> FailedAuthentications {
        assert!(failures_max > 0, "an address may fail at least once");
        FailedAuthentications { failures_max, window, by_address: Mutex::new(HashMap::new()) }
    }

    /// How long `address` must wait before it may authenticate again, if
    /// it has used up its failures.
    pub fn refused_for(&self, address: IpAddr, now: Instant) -> Option<Duration> {
        let table = self.table();
        let window = table.get(&address_key(address))?;
        let ends = window.opened + self.window;
        (window.failures >= self.failures_max && now < ends).then(|| ends - now)
    }

    /// Counts a failure of `address`; returns whether it used up the last one.
    pub fn record_failure(&self, address: IpAddr, now: Instant) -> bool {
        let key = address_key(address);
        let mut table = self.table();
        if table.len() >= AUTH_ADDRESSES_MAX && !table.contains_key(&key) {
            table.retain(|_, window| now < window.opened + self.window);
            if table.len() >= AUTH_ADDRESSES_MAX {
                // Every remembered window is open: forget the oldest.
                if let Some(oldest) = table.iter().min_by_key(|(_, window)| window.opened).map(|(key, _)| *key) {
                    table.remove(&oldest);
                }
            }
        }
        let window = table.entry(key).or_insert(FailureWindow { opened: now, failures: 0 });
        if now >= window.opened + self.window {
            *window = FailureWindow { opened: now, failures: 0 };
        }
        window.failures = window.failures.saturating_add(1);
        assert!(table.len() <= AUTH_ADDRESSES_MAX);
        table[&key].failures == self.failures_max
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, FailureWindow>> {
        // Nothing under this lock panics; were it poisoned, the counts are
        // still whole numbers worth keeping.
        self.by_address.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The key an address's failures are counted under: IPv4 as is, IPv6 by
/// its /64 (an IPv4-mapped IPv6 address as the IPv4 address).
fn address_key(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(u128::from(v6) & !((1u128 << 64) - 1))),
        v4 => v4,
    }
}

/// The address of the client at the other end of the connection, as the
/// accept loop recorded it. Behind a reverse proxy this is the proxy's.
/// None for a request that did not come over a socket (tests calling the
/// router directly).
pub fn client_address(request: &Request) -> Option<IpAddr> {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| peer.ip())
}

/// The path of the web pages' sign-in form, which takes a token.
const SIGN_IN_PATH: &str = "/sign-in";

/// Whether a request presents a credential: a bearer token (or any
/// Authorization header), the pages' token cookie, or a token typed into
/// the sign-in form.
pub fn presents_credential(request: &Request) -> bool {
    request.headers().contains_key(header::AUTHORIZATION)
        || super::session::cookie_token(request.headers()).is_some()
        || (request.method() == Method::POST && request.uri().path() == SIGN_IN_PATH)
}

/// The answer to an address that has used up its failed authentications.
pub fn too_many_failures(wait: Duration) -> Response {
    // Rounded up, so that a client that waits as told is let in.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-failed-authentications",
        format!(
            "too many unknown or revoked tokens came from this address: no token is checked from it for {seconds} s"
        ),
    )
    .into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    response
}

/// Refuses a request whose target or header fields exceed our limits,
/// with 414 or 431 as problem+json, before any handler runs. hyper's own
/// limits are set above these, so these answer first.
pub async fn head_limits(request: Request, next: Next) -> Response {
    let uri = request.uri();
    let uri_bytes =
        uri.path_and_query().map_or(0, |p| p.as_str().len()) + uri.authority().map_or(0, |a| a.as_str().len());
    if uri_bytes > URI_BYTES_MAX {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            "uri-too-long",
            format!("the request target of {uri_bytes} bytes exceeds the limit of {URI_BYTES_MAX}"),
        )
        .into_response();
    }
    let headers = request.headers();
    // Each field as sent: name, ": ", value, CRLF.
    let header_bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len() + 4).sum();
    let too_large = if headers.len() > HEADER_FIELDS_MAX {
        Some(format!("{} header fields exceed the limit of {HEADER_FIELDS_MAX}", headers.len()))
    } else if header_bytes > HEADER_FIELDS_BYTES_MAX {
        Some(format!("header fields of {header_bytes} bytes exceed the limit of {HEADER_FIELDS_BYTES_MAX}"))
    } else {
        None
    };
    if let Some(detail) = too_large {
        return ApiError::new(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, "header-fields-too-large", detail)
            .into_response();
    }
    next.run(request).await
}

/// A request's body as it arrives: the limit of the route that takes it
/// (the innermost `BodyLimit` sets it), the bytes that arrived, whether it
/// stalled past the body-read timeout, and whether it ended.
#[derive(Default)]
struct BodyAccount {
    limit_bytes: AtomicUsize,
    arrived_bytes: AtomicU64,
    stalled: AtomicBool,
    ended: AtomicBool,
}

/// A route's body limit: axum's `DefaultBodyLimit` enforces it, and this
/// records it for `watch_body`, so that a 413 names the limit of the route
/// that refused. The innermost layer applies, as with `DefaultBodyLimit`.
#[derive(Clone, Copy)]
pub struct BodyLimit {
    bytes: usize,
}

pub fn body_limit(bytes: usize) -> BodyLimit {
    BodyLimit { bytes }
}

impl<S> Layer<S> for BodyLimit {
    type Service = BodyLimitService<<DefaultBodyLimit as Layer<S>>::Service>;
    fn layer(&self, inner: S) -> Self::Service {
        BodyLimitService { inner: DefaultBodyLimit::max(self.bytes).layer(inner), bytes: self.bytes }
    }
}

#[derive(Clone)]
pub struct BodyLimitService<S> {
    inner: S,
    bytes: usize,
}

impl<S, B> Service<axum::http::Request<B>> for BodyLimitService<S>
where
    S: Service<axum::http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: axum::http::Request<B>) -> Self::Future {
        if let Some(account) = request.extensions().get::<Arc<BodyAccount>>() {
            account.limit_bytes.store(self.bytes, Ordering::Relaxed);
        }
        self.inner.call(request)
    }
}

/// Watches every request body: a stall longer than `read_timeout` between
/// two parts of it ends the body (tower-http's `TimeoutBody`) and the
/// answer is 408, as it is for a body still incomplete when the request
/// time limit passes; a body over its route's limit is answered 413
/// naming that limit, whichever extractor noticed it.
pub async fn watch_body(State(read_timeout): State<Duration>, request: Request, next: Next) -> Response {
    let account = Arc::new(BodyAccount::default());
    let (mut parts, body) = request.into_parts();
    let expects_body = !http_body::Body::is_end_stream(&body);
    parts.extensions.insert(account.clone());
    let path = parts.uri.path().to_owned();
    let body = Body::new(WatchedBody {
        inner: Body::new(tower_http::timeout::TimeoutBody::new(read_timeout, body)),
        account: account.clone(),
    });
    let response = next.run(Request::from_parts(parts, body)).await;
    if response.status() == StatusCode::SERVICE_UNAVAILABLE && expects_body && !account.ended.load(Ordering::Relaxed) {
        // The time limit passed while the client was still sending.
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            "the request body was not complete within the time limit for a request",
        )
        .into_response();
    }
    if !response.status().is_client_error() {
        return response;
    }
    if account.stalled.load(Ordering::Relaxed) {
        return ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "request-timeout",
            format!("the request body stalled: no part of it arrived for {} ms", read_timeout.as_millis()),
        )
        .into_response();
    }
    let limit = account.limit_bytes.load(Ordering::Relaxed);
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && account.arrived_bytes.load(Ordering::Relaxed) > limit as u64
    {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too-large",
            format!("the request body exceeds the limit of {limit} bytes for {path}"),
        )
        .into_response();
    }
    response
}

/// A request body that reports to its `BodyAccount`.
struct WatchedBody {
    inner: Body,
    account: Arc<BodyAccount>,
}

impl http_body::Body for WatchedBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.account.arrived_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                }
            }
            Poll::Ready(None) => self.account.ended.store(true, Ordering::Relaxed),
            Poll::Ready(Some(Err(error))) => {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
                while let Some(cause) = source {
                    if cause.is::<tower_http::timeout::TimeoutError>() {
                        self.account.stalled.store(true, Ordering::Relaxed);
                    }
                    source = cause.source();
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// The request time limit, as a layer: 503 once `limit` passes before the
/// answer starts (problem+json is made of it by the router's last layer).
pub fn time_limit(limit: Duration) -> tower_http::timeout::TimeoutLayer {
    tower_http::timeout::TimeoutLayer::with_status_code(StatusCode::SERVICE_UNAVAILABLE, limit)
}

/// Raises the soft limit of open files to the hard limit, so that the
/// connection cap fits; returns the soft limit before and after.
pub fn raise_open_files_limit() -> (u64, u64) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    let before = limit.current.unwrap_or(u64::MAX);
    let Some(hard) = limit.maximum else {
        return (before, before);
    };
    if hard <= before || setrlimit(Resource::Nofile, Rlimit { current: Some(hard), maximum: Some(hard) }).is_err() {
        return (before, before);
    }
    (before, hard)
}

/// The connections a process with `open_files` may hold: `wanted`, or
/// fewer so that `OPEN_FILES_RESERVED` stay for everything else.
pub fn connections_cap(wanted: usize, open_files: u64) -> usize {
    let for_connections = open_files.saturating_sub(OPEN_FILES_RESERVED).max(open_files / 2).max(1);
    wanted.min(usize::try_from(for_connections).unwrap_or(usize::MAX))
}

/// How often, at most, the server says that every connection is in use.
const CONNECTIONS_FULL_WARNING_INTERVAL: Duration = Duration::from_secs(10);

/// Accepts connections until `shutdown` completes and serves each with
/// hyper's HTTP/1: at most `connections_max` at once (the rest wait in the
/// kernel's accept queue), each with the header-read timeout, and the
/// client's address recorded for the router. Then stops accepting, and
/// waits for the connections to finish what they are doing (hyper's
/// graceful shutdown: an idle connection closes at once, a request in
/// flight is answered first).
pub async fn serve_connections(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &Limits,
    connections_max: usize,
    shutdown: impl Future<Output = ()>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let permits = Arc::new(tokio::sync::Semaphore::new(connections_max));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(HYPER_HEAD_BYTES_MAX)
        .max_header_size(HYPER_HEAD_BYTES_MAX)
        .max_headers(HYPER_HEADER_FIELDS_MAX);
    let mut shutdown = std::pin::pin!(shutdown);
    let mut warned_full: Option<Instant> = None;
    loop {
        if permits.available_permits() == 0
            && warned_full.is_none_or(|at| at.elapsed() > CONNECTIONS_FULL_WARNING_INTERVAL)
        {
            tracing::warn!(connections_max, "every connection is in use: new connections wait to be accepted");
            warned_full = Some(Instant::now());
        }
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = app.clone().map_request(move |mut request: axum::http::Request<hyper::body::Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = http.serve_connection(
            TokioIo::new(ProblemAnswers::new(stream)),
            hyper_util::service::TowerToHyperService::new(service),
        );
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%peer, %error, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    graceful.shutdown().await;
}

/// An accept that failed: a connection the client gave up on is nothing;
/// running out of open files waits a second, so as not to spin, while
/// connections close.
async fn accept_failed(error: std::io::Error) {
    use std::io::ErrorKind;
    if matches!(error.kind(), ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset | ErrorKind::Interrupted) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; trying again in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A connection's stream that turns hyper's own error answers into
/// problem+json. hyper answers a request it cannot parse (400) or whose
/// head is over its limits (431) itself, with no body and no way to give
/// it one, then closes the connection. Its answer is recognised as it is
/// written (that status, `content-length: 0`, no `content-type`: every
/// answer of the server's own carries one) and replaced, byte for byte
/// here because it is written below hyper, by the same answer with a
/// problem+json body; the connection closes after it all the same.
pub struct ProblemAnswers<S> {
    inner: S,
    /// A replacement being written, how much of it is, and how many bytes
    /// of hyper's answer it stands for.
    replacing: Option<(Vec<u8>, usize, usize)>,
}

impl<S> ProblemAnswers<S> {
    pub fn new(inner: S) -> ProblemAnswers<S> {
        ProblemAnswers { inner, replacing: None }
    }
}

/// The problem+json answer that replaces hyper's bodiless one in `head`,
/// if `head` is one.
fn replacement(head: &[u8]) -> Option<Vec<u8>> {
    let (status, kind, detail) = if head.starts_with(b"HTTP/1.1 400 ") || head.starts_with(b"HTTP/1.0 400 ") {
        (StatusCode::BAD_REQUEST, "malformed", "the request is not HTTP/1.1 this server can read".to_owned())
    } else if head.starts_with(b"HTTP/1.1 431 ") || head.starts_with(b"HTTP/1.0 431 ") {
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header-fields-too-large",
            format!(
                "the request's head exceeds {HYPER_HEAD_BYTES_MAX} bytes or {HYPER_HEADER_FIELDS_MAX} header fields"
            ),
        )
    } else {
        return None;
    };
    let end = head.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let fields = head[..end].to_ascii_lowercase();
    let bodiless = fields.windows(21).any(|w| w == b"\r\ncontent-length: 0\r\n");
    if end != head.len() || !bodiless || fields.windows(13).any(|w| w == b"content-type:") {
        return None;
    }
    let body = serde_json::json!({
        "type": format!("/problems/{kind}"),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    })
    .to_string();
    let reason = status.canonical_reason().unwrap_or("Error");
    let mut answer = format!(
        "HTTP/1.1 {} {reason}\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\n\
         x-content-type-options: nosniff\r\ncontent-security-policy: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        body.len(),
        super::headers::INERT_CONTENT_SECURITY_POLICY,
    )
    .into_bytes();
    answer.extend_from_slice(body.as_bytes());
    Some(answer)
}

impl<S: tokio::io::AsyncWrite + Unpin> ProblemAnswers<S> {
    /// Writes what is left of a replacement; then reports hyper's bytes
    /// as written.
    fn poll_replacing(&mut self, cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
        while let Some((answer, written, stands_for)) = &mut self.replacing {
            if *written == answer.len() {
                let stands_for = *stands_for;
                self.replacing = None;
                return Poll::Ready(Ok(stands_for));
            }
            match Pin::new(&mut self.inner).poll_write(cx, &answer[*written..]) {
                Poll::Ready(Ok(0)) => return Poll::Ready(Err(std::io::ErrorKind::WriteZero.into())),
                Poll::Ready(Ok(n)) => *written += n,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(0))
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for ProblemAnswers<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for ProblemAnswers<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        // A write hyper retries after Pending goes on with the replacement.
        if self.replacing.is_none() {
            match replacement(buf) {
                Some(answer) => self.replacing = Some((answer, 0, buf.len())),
                None => return Pin::new(&mut self.inner).poll_write(cx, buf),
            }
        }
        self.poll_replacing(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        if self.replacing.is_none() {
            // hyper's error answers are a head alone, in the first slice.
            let first = bufs.iter().find(|b| !b.is_empty()).map_or(&[][..], |b| &b[..]);
            let alone = bufs.iter().filter(|b| !b.is_empty()).count() == 1;
            match replacement(first).filter(|_| alone) {
                Some(answer) => self.replacing = Some((answer, 0, first.len())),
                None => return Pin::new(&mut self.inner).poll_write_vectored(cx, bufs),
            }
        }
        self.poll_replacing(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.replacing.is_some() {
            match self.poll_replacing(cx) {
                Poll::Ready(Ok(_)) => {}
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::replacement;

    #[test]
    fn only_hypers_bodiless_errors_are_replaced() {
        let hypers = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\ndate: Wed, 02 Dec 2026 17:00:00 GMT\r\n\r\n";
        let answer = String::from_utf8(replacement(hypers).unwrap()).unwrap();
        assert!(answer.starts_with("HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\n"));
        let (head, body) = answer.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(problem["type"], "/problems/malformed");
        let too_large = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\n\r\n";
        assert!(String::from_utf8(replacement(too_large).unwrap()).unwrap().contains("header-fields-too-large"));
        // The server's own answers carry a content type, or a body.
        let own = b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: 0\r\n\r\n";
        assert_eq!(replacement(own), None);
        assert_eq!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 10\r\n\r\n"), None);
        assert_eq!(replacement(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}"), None);
        assert_eq!(replacement(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"), None);
    }
}
