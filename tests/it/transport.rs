//! The server against hostile clients at the transport level, over real
//! sockets to `minutebook serve`: idle half-sent requests neither exhaust
//! it nor stay past the header-read timeout, bad tokens from one address
//! are answered 429 before any token is checked, overlong targets and
//! header fields are problem+json, an overlong body's 413 names its
//! route's limit, a stalled body is 408, and the live feed outlasts the
//! request time limit. What hyper still answers itself is checked to be
//! exactly what docs/OPERATIONS.md says.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use minutebook::http::api::papers::PAPER_BYTES_MAX;
use minutebook::http::transport::{self, HEADER_FIELDS_BYTES_MAX, URI_BYTES_MAX};
use minutebook::http::REQUEST_BODY_BYTES_MAX;
use minutebook_log::Log;
use ureq::http::Response;

use crate::api::{demo_clerk, post_json, Server};

/// A demo data directory and its clerk's token.
fn demo() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo").to_str().unwrap().to_owned();
    let clerk = demo_clerk(&data);
    (dir, data, clerk)
}

fn log_len(data: &str) -> u64 {
    Log::open(std::path::Path::new(data)).unwrap().len()
}

/// A well-formed GET, through the tests' HTTP client.
fn get(addr: &str, path: &str) -> Response<String> {
    crate::api::get(addr, path, &[]).unwrap()
}

/// Asserts a problem+json answer of `status` and `kind`; returns its detail.
fn problem(response: &Response<String>, status: u16, kind: &str) -> String {
    assert_eq!(response.status(), status, "{response:?}");
    assert_eq!(response.headers()["content-type"], "application/problem+json", "{response:?}");
    let problem: serde_json::Value =
        serde_json::from_str(response.body()).unwrap_or_else(|e| panic!("{e}: {response:?}"));
    assert_eq!(problem["type"], format!("/problems/{kind}"), "{response:?}");
    problem["detail"].as_str().unwrap().to_owned()
}

/// Sends `request` as it is on a new connection, bytes no HTTP client
/// would send among them, and reads until the server closes: the raw
/// answer, or nothing if there was none.
fn raw(addr: &str, request: &[u8]) -> String {
    let Ok(stream) = TcpStream::connect(addr) else {
        return String::new();
    };
    exchange(stream, request)
}

fn exchange(mut stream: TcpStream, request: &[u8]) -> String {
    // The server may answer and close before all is sent.
    let _ = stream.write_all(request);
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response
}

/// A raw answer, parsed by httparse (hyper's parser).
fn parsed(raw: &str) -> Response<String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Response::new(&mut headers);
    let Ok(httparse::Status::Complete(length)) = head.parse(raw.as_bytes()) else {
        panic!("not a complete HTTP answer: {raw:?}");
    };
    let mut response = Response::builder().status(head.code.expect("a status code"));
    for header in head.headers.iter() {
        response = response.header(header.name, header.value);
    }
    response.body(raw[length..].to_owned()).expect("a valid answer")
}

/// A GET with `extra` header lines, sent raw: for targets and header
/// fields over the server's limits.
fn hostile_get(addr: &str, path: &str, extra: &str) -> Response<String> {
    parsed(&raw(addr, format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n").as_bytes()))
}

/// A connection from another loopback address than 127.0.0.1.
fn connect_from(source: &str, addr: &str) -> TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build().unwrap();
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(format!("{source}:0").parse().unwrap()).unwrap();
        socket.connect(addr.parse().unwrap()).await.unwrap()
    });
    let stream = stream.into_std().unwrap();
    stream.set_nonblocking(false).unwrap();
    stream
}

/// The slow-client attack: this many idle connections, each with half a
/// request sent.
const SLOW_CLIENTS: usize = 2_000;

#[test]
fn idle_half_sent_requests_neither_stop_healthz_nor_outlive_the_header_timeout() {
    // The test holds a socket per slow client; the server raises its own limit.
    let (_, open_files) = transport::raise_open_files_limit();
    if open_files < SLOW_CLIENTS as u64 + 256 {
        eprintln!("transport: the open files limit ({open_files}) is too low for {SLOW_CLIENTS} connections here");
        return;
    }
    let (_dir, data, _) = demo();
    let header_timeout = Duration::from_secs(3);
    let server = Server::start_with(&data, &["--header-read-timeout-s", "3"]);
    let addr = server.addr.clone();

    let opened = Instant::now();
    let mut slow: Vec<TcpStream> = (0..SLOW_CLIENTS)
        .map(|n| {
            let mut stream = TcpStream::connect(&addr).unwrap();
            let half = format!("GET /v1/bodies HTTP/1.1\r\nHost: {addr}\r\nX-Slow-Client: {n}");
            stream.write_all(half.as_bytes()).unwrap();
            stream
        })
        .collect();

    // /healthz answers at once beside them.
    let asked = Instant::now();
    assert_eq!(get(&addr, "/healthz").status(), 200);
    assert!(asked.elapsed() < Duration::from_secs(1), "/healthz took {:?}", asked.elapsed());

    // Each is closed by the server, without an answer, once the header
    // timeout has passed, and not long after: generous for a busy machine,
    // yet well before hyper's default of 30 s.
    let deadline = opened + header_timeout + Duration::from_secs(15);
    let mut first_closed = None;
    for stream in &mut slow {
        let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
        stream.set_read_timeout(Some(left)).unwrap();
        let mut byte = [0u8; 1];
        match stream.read(&mut byte) {
            Ok(0) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("a half-sent request was not closed by the header timeout: {other:?}"),
        }
        first_closed.get_or_insert_with(|| opened.elapsed());
    }
    let first_closed = first_closed.unwrap();
    assert!(first_closed >= header_timeout - Duration::from_millis(500), "closed after {first_closed:?}, too soon");
    drop(slow);
    assert_eq!(get(&addr, "/healthz").status(), 200);
    assert!(server.terminate().success());
}

#[test]
fn connections_beyond_the_cap_wait_to_be_accepted() {
    let (_dir, data, _) = demo();
    let cap = 10;
    let server = Server::start_with(&data, &["--connections-max", "10", "--header-read-timeout-s", "2"]);
    let addr = server.addr.clone();
    let idle: Vec<TcpStream> = (0..cap)
        .map(|_| {
            let mut stream = TcpStream::connect(&addr).unwrap();
            stream.write_all(b"GET /healthz HTTP/1.1\r\n").unwrap();
            stream
        })
        .collect();
    // The kernel queues the next connection; the server accepts it only
    // once the header timeout has closed one of the ten.
    std::thread::sleep(Duration::from_millis(200));
    let asked = Instant::now();
    assert_eq!(get(&addr, "/healthz").status(), 200);
    let waited = asked.elapsed();
    assert!(waited >= Duration::from_secs(1), "answered after {waited:?}, beside {cap} open connections");
    assert!(waited < Duration::from_secs(20), "answered after {waited:?}");
    drop(idle);
    assert!(server.terminate().success());
}

#[test]
fn bad_tokens_from_one_address_are_answered_429_before_any_token_is_checked() {
    let (_dir, data, clerk) = demo();
    let before = log_len(&data);
    let server = Server::start_with(&data, &["--auth-failures-max", "5", "--auth-failure-window-s", "120"]);
    let addr = server.addr.clone();
    let person = r#"{"person":"guest-1","name":"Guest One","title":null,"organisation":null}"#;
    let post = |token: &str| post_json(&addr, "/v1/people", token, person).unwrap();

    // Four unknown bearer tokens and one typed into the sign-in form: 401 each.
    for n in 0..4 {
        problem(&post(&format!("mbt_guessed{n}")), 401, "unauthorized");
    }
    let form = [("content-type", "application/x-www-form-urlencoded".to_owned())];
    let signed_in = crate::api::post(&addr, "/sign-in", &form, "token=mbt_guessed4&next=%2F").unwrap();
    assert_eq!(signed_in.status(), 401, "{signed_in:?}");

    // The sixth is 429 before its token is looked at: the clerk's real one too.
    for token in ["mbt_guessed5", clerk.as_str()] {
        let response = post(token);
        let detail = problem(&response, 429, "too-many-failed-authentications");
        let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
        assert!((1..=120).contains(&retry_after), "{response:?}");
        assert!(detail.contains(&format!("{retry_after} s")), "{detail}");
    }
    // The public's reads from the same address are not limited ...
    assert_eq!(get(&addr, "/v1/bodies").status(), 200);
    // ... nor is another address with a good token.
    let other = exchange(
        connect_from("127.0.0.2", &addr),
        format!(
            "GET /v1/bodies HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {clerk}\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(parsed(&other).status(), 200, "{other}");

    assert!(server.terminate().success());
    assert_eq!(log_len(&data), before, "nothing was recorded");
}

#[test]
fn overlong_targets_and_header_fields_and_what_hyper_refuses_itself_are_problems() {
    let (_dir, data, _) = demo();
    let server = Server::start(&data);
    let addr = server.addr.clone();

    let long_query = "a".repeat(URI_BYTES_MAX + 100);
    let detail = problem(&hostile_get(&addr, &format!("/v1/bodies?{long_query}"), ""), 414, "uri-too-long");
    assert!(detail.contains(&format!("limit of {URI_BYTES_MAX}")), "{detail}");

    let big = format!("X-Big: {}\r\n", "b".repeat(HEADER_FIELDS_BYTES_MAX + 100));
    let detail = problem(&hostile_get(&addr, "/healthz", &big), 431, "header-fields-too-large");
    assert!(detail.contains(&format!("limit of {HEADER_FIELDS_BYTES_MAX}")), "{detail}");

    let many: String = (0..transport::HEADER_FIELDS_MAX + 20).map(|n| format!("X-Field-{n}: {n}\r\n")).collect();
    let detail = problem(&hostile_get(&addr, "/healthz", &many), 431, "header-fields-too-large");
    assert!(detail.contains(&format!("limit of {}", transport::HEADER_FIELDS_MAX)), "{detail}");

    // What hyper answers itself, before any of our code runs
    // (docs/OPERATIONS.md): a malformed request line or header field is
    // 400, and a head over its own limit is 431; each is given its
    // problem+json body on the way out and closes the connection, and the
    // server goes on.
    for (request, expected) in [
        ("GARBAGE\r\n\r\n".to_owned(), 400),
        ("GET /healthz HTTP/9.9\r\n\r\n".to_owned(), 400),
        ("GET /he alth z HTTP/1.1\r\nHost: x\r\n\r\n".to_owned(), 400),
        ("GET /healthz HTTP/1.1\r\nBad Header Line\r\n\r\n".to_owned(), 400),
        (
            format!(
                "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: {}\r\n\r\n",
                "h".repeat(transport::HYPER_HEAD_BYTES_MAX)
            ),
            431,
        ),
        (
            format!(
                "GET /healthz HTTP/1.1\r\n{}\r\n",
                (0..transport::HYPER_HEADER_FIELDS_MAX + 1).map(|n| format!("X-F{n}: {n}\r\n")).collect::<String>()
            ),
            431,
        ),
    ] {
        let response = parsed(&raw(&addr, request.as_bytes()));
        let kind = if expected == 400 { "malformed" } else { "header-fields-too-large" };
        problem(&response, expected, kind);
        assert_eq!(response.headers()["connection"], "close", "{response:?}");
    }
    // The HTTP/2 preface: closed without an answer.
    assert_eq!(raw(&addr, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), "");
    assert_eq!(get(&addr, "/healthz").status(), 200);
    assert!(server.terminate().success());
}

#[test]
fn an_overlong_body_is_413_naming_the_limit_of_its_route() {
    let (_dir, data, clerk) = demo();
    let before = log_len(&data);
    let server = Server::start(&data);
    let addr = server.addr.clone();
    let post = |path: &str, media_type: &str, extra: &str, body: &[u8]| {
        let mut request = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {clerk}\r\nContent-Type: {media_type}\r\n{extra}Connection: close\r\n\r\n"
        )
        .into_bytes();
        request.extend_from_slice(body);
        parsed(&raw(&addr, &request))
    };

    let json = vec![b' '; REQUEST_BODY_BYTES_MAX + 1];
    let length = format!("Content-Length: {}\r\n", json.len());
    let detail = problem(&post("/v1/people", "application/json", &length, &json), 413, "too-large");
    assert_eq!(detail, format!("the request body exceeds the limit of {REQUEST_BODY_BYTES_MAX} bytes for /v1/people"));
    // Chunked, without a length announced: the same.
    let mut chunked = format!("{:x}\r\n", json.len()).into_bytes();
    chunked.extend_from_slice(&json);
    chunked.extend_from_slice(b"\r\n0\r\n\r\n");
    let response = post("/v1/people", "application/json", "Transfer-Encoding: chunked\r\n", &chunked);
    assert_eq!(problem(&response, 413, "too-large"), detail);

    let paper = vec![b'p'; PAPER_BYTES_MAX + 1];
    let length = format!("Content-Length: {}\r\n", paper.len());
    let detail = problem(&post("/v1/papers", "text/plain", &length, &paper), 413, "too-large");
    assert_eq!(detail, format!("the request body exceeds the limit of {PAPER_BYTES_MAX} bytes for /v1/papers"));

    assert!(server.terminate().success());
    assert_eq!(log_len(&data), before, "nothing was recorded");
    let papers = std::path::Path::new(&data).join(minutebook::domain::papers::PAPERS_DIRECTORY);
    assert_eq!(std::fs::read_dir(&papers).map_or(0, |d| d.count()), 0, "no paper was stored");
}

#[test]
fn a_stalled_body_is_408_and_the_live_feed_outlasts_the_request_time_limit() {
    let (_dir, data, clerk) = demo();
    let before = log_len(&data);
    let server = Server::start_with(&data, &["--body-read-timeout-s", "1", "--request-time-max-s", "3"]);
    let addr = server.addr.clone();
    let head = |length: usize| {
        format!(
            "POST /v1/people HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {clerk}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\nConnection: close\r\n\r\n"
        )
    };

    // Part of a body, then nothing: 408 once the body-read timeout passes.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(format!("{}{{\"person\":", head(80)).as_bytes()).unwrap();
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    let detail = problem(&parsed(&response), 408, "request-timeout");
    assert!(detail.contains("no part of it arrived for 1000 ms"), "{detail}");

    // A byte every half second never stalls, but the request time limit ends it.
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream.write_all(head(80).as_bytes()).unwrap();
    stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
    let started = Instant::now();
    let mut response = Vec::new();
    while started.elapsed() < Duration::from_secs(30) {
        if stream.write_all(b" ").is_err() {
            break;
        }
        let mut buffer = [0u8; 4096];
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => response.extend_from_slice(&buffer[..n]),
            Err(_) => {}
        }
    }
    let response = String::from_utf8(response).unwrap();
    let detail = problem(&parsed(&response), 408, "request-timeout");
    assert!(detail.contains("time limit for a request"), "{detail}");

    // The live feed is open past the request time limit: an event recorded
    // after it still arrives.
    let live = crate::api::agent()
        .get(format!("http://{addr}/v1/events/live"))
        .config()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .call()
        .unwrap();
    assert_eq!(live.status(), 200);
    let mut live = live.into_body().into_reader();
    std::thread::sleep(Duration::from_secs(4));
    let person = r#"{"person":"late-guest","name":"Late Guest","title":null,"organisation":null}"#;
    let recorded = post_json(&addr, "/v1/people", &clerk, person).unwrap();
    assert_eq!(recorded.status(), 201, "{recorded:?}");
    let mut feed = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&feed).contains("late-guest") {
        let n = live.read(&mut buffer).expect("the live feed is still open");
        assert!(n > 0, "the live feed ended: {}", String::from_utf8_lossy(&feed));
        feed.extend_from_slice(&buffer[..n]);
    }
    drop(live);

    assert!(server.terminate().success());
    assert_eq!(log_len(&data), before + 1, "only the late guest was recorded");
}
