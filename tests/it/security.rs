//! The server on the public internet: what hostile requests get, through
//! the router in-process. docs/SECURITY.md names each threat and the test
//! here that shows it is met.

use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt;
use minutebook::http::router;
use minutebook::policy::tokens::Role;
use proptest::prelude::*;
use tower::ServiceExt;

use crate::api::Api;
use crate::domain::*;

/// Status, headers and body of a request through the router; the body of
/// a live feed is not read (it does not end).
fn exchange(api: &Api, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let live = request.uri().path() == "/v1/events/live";
        let response = router(api.state.clone()).oneshot(request).await.unwrap();
        let (parts, body) = response.into_parts();
        let is_stream = parts.headers.get(header::CONTENT_TYPE).is_some_and(|v| v == "text/event-stream");
        let bytes = if live && is_stream { Vec::new() } else { body.collect().await.unwrap().to_bytes().to_vec() };
        (parts.status, parts.headers, bytes)
    })
}

fn get(api: &Api, path: &str, role: Role) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = Request::get(path);
    if let Some(token) = api.token(role) {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    exchange(api, request.body(Body::empty()).unwrap())
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).is_some_and(|v| v == "application/problem+json")
}

/// A normal read and a normal write both still work.
fn still_serves(api: &Api) {
    let (status, _, body) = get(api, &format!("/v1/meetings/{M1}/minutes"), Role::Public);
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let before = api.state.recorder.log().len();
    let (status, _, body) = api.post(
        &format!("/v1/meetings/{M1}/points"),
        Role::Clerk,
        &[("if-match", api.etag(M1))],
        serde_json::json!({"item": 5, "text": "Members noted the report."}),
    );
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(api.state.recorder.log().len() > before);
}

#[test]
fn a_stream_name_no_event_can_have_is_a_404_and_the_server_goes_on() {
    let api = Api::at(Stage::InSession);
    let before = api.snapshot();
    for name in ["a".repeat(256), "a".repeat(129), "%0a".to_owned(), "%00".to_owned()] {
        let (status, headers, body) = get(&api, &format!("/v1/streams/{name}/events"), Role::Public);
        assert_eq!(status, StatusCode::NOT_FOUND, "{name}: {}", String::from_utf8_lossy(&body));
        assert!(is_problem(&headers));
    }
    assert_eq!(api.snapshot(), before);
    still_serves(&api);
    let (status, _, _) = get(&api, "/healthz", Role::Public);
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn a_panic_while_the_record_is_held_does_not_stop_later_requests() {
    let api = Api::at(Stage::InSession);
    let state = api.state.clone();
    // A bug that panics holding the record poisons its lock.
    let panicked = std::thread::spawn(move || {
        let _record = state.recorder.record().unwrap();
        panic!("a bug while the record is held");
    })
    .join();
    assert!(panicked.is_err());
    // The next request reloads the record and answers; so does /healthz.
    let (status, _, _) = get(&api, "/healthz", Role::Public);
    assert_eq!(status, StatusCode::OK);
    still_serves(&api);
    let (status, _, body) = get(&api, &format!("/v1/meetings/{M1}"), Role::Clerk);
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
}

fn upload(api: &Api, media_type: &str, bytes: &[u8]) -> (StatusCode, String) {
    let request = Request::post("/v1/papers")
        .header(header::CONTENT_TYPE, media_type)
        .header(header::AUTHORIZATION, format!("Bearer {}", api.token(Role::Clerk).unwrap()))
        .body(Body::from(bytes.to_vec()))
        .unwrap();
    let (status, _, body) = exchange(api, request);
    (status, String::from_utf8_lossy(&body).into_owned())
}

#[test]
fn a_paper_is_never_served_as_active_content() {
    let api = Api::at(Stage::InSession);
    let page = b"<html><script>fetch('/v1/tokens',{method:'POST'})</script></html>\n";
    // HTML, SVG and XML are refused at upload, whatever the bytes.
    for media_type in ["text/html", "image/svg+xml", "application/xhtml+xml", "text/javascript"] {
        let (status, body) = upload(&api, media_type, page);
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{media_type}: {body}");
    }
    // Bytes that are not what they are sent as are refused too.
    let (status, body) = upload(&api, "application/pdf", page);
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // As text they are text.
    let (status, body) = upload(&api, "text/plain", page);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hash = crate::api::json(&body)["content_hash"].as_str().unwrap().to_owned();

    // Attached as HTML, or as a type its bytes are not: refused, nothing appended.
    let path = format!("/v1/meetings/{M1}/papers");
    let paper = |media_type: &str| serde_json::json!({"reference": "C", "title": "Handout", "content_hash": hash, "size_bytes": page.len(), "media_type": media_type, "item": 5});
    for media_type in ["text/html", "image/png", "application/pdf"] {
        let problem = api.refused(
            &path,
            Role::Clerk,
            &[("if-match", api.etag(M1))],
            paper(media_type),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
        assert!(problem["detail"].as_str().unwrap().contains(media_type), "{problem}");
    }
    let (status, _, body) = api.post(&path, Role::Clerk, &[("if-match", api.etag(M1))], paper("text/plain"));
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Served as a file to save, never sniffed, under a sandbox.
    let (status, headers, body) = get(&api, &format!("/v1/papers/{hash}"), Role::Clerk);
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, page);
    assert_eq!(headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
    let disposition = headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(disposition.starts_with("attachment; filename=\"paper-"), "{disposition}");
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("sandbox"));
}

#[test]
fn every_response_is_nosniff_unframeable_and_inert_unless_a_page() {
    let api = Api::at(Stage::InSession);
    for (path, page) in [
        ("/v1/bodies", false),
        ("/v1/no-such-path", false),
        ("/v1/checkpoint", false),
        ("/", true),
        ("/no-such-page", true),
    ] {
        let (_, headers, _) = get(&api, path, Role::Public);
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{path}");
        assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY", "{path}");
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("frame-ancestors 'none'"), "{path}: {policy}");
        assert_eq!(policy.contains("sandbox"), !page, "{path}: {policy}");
        assert!(!headers.contains_key(header::STRICT_TRANSPORT_SECURITY), "{path}: no HSTS over plain HTTP");
    }
    let request = Request::get("/v1/bodies").header("x-forwarded-proto", "https").body(Body::empty()).unwrap();
    let (_, headers, _) = exchange(&api, request);
    assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
}

#[test]
fn ids_that_cannot_stand_in_a_location_header_are_encoded_not_a_500() {
    let api = Api::at(Stage::InSession);
    for id in ["%0a", "%00", "%0d%0a", "%7f", "x%20y", "%ff"] {
        for page in ["console", "sign"] {
            let (status, headers, _) = get(&api, &format!("/meetings/{id}/{page}"), Role::Public);
            assert!(status.is_redirection() || status.is_client_error(), "{id}/{page}: {status}");
            if let Some(location) = headers.get(header::LOCATION) {
                assert!(location.to_str().unwrap().starts_with("/sign-in?next=%2Fmeetings%2F"), "{location:?}");
            }
        }
    }
    // Signing in with a `next` a header cannot carry goes home instead.
    let token = api.token(Role::Clerk).unwrap();
    for next in ["/%0a", "/\n", "/\u{7f}", "//elsewhere.example", "https://elsewhere.example/"] {
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", token)
            .append_pair("next", next)
            .finish();
        let request = Request::post("/sign-in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .body(Body::from(form))
            .unwrap();
        let (status, headers, _) = exchange(&api, request);
        assert_eq!(status, StatusCode::SEE_OTHER, "{next:?}");
        let location = headers[header::LOCATION].to_str().unwrap();
        assert!(location == "/" || location == "/%0a", "{next:?} went to {location}");
    }
}

#[test]
fn a_last_event_id_at_the_end_of_the_numbers_does_not_wrap_to_the_start() {
    let api = Api::at(Stage::InSession);
    let request =
        Request::get("/v1/events/live").header("last-event-id", u64::MAX.to_string()).body(Body::empty()).unwrap();
    let (status, headers, _) = exchange(&api, request);
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(is_problem(&headers));
}

#[test]
fn an_authorization_header_is_read_by_its_scheme_and_never_taken_for_the_public() {
    let api = Api::at(Stage::InSession);
    let token = api.token(Role::Clerk).unwrap().to_owned();
    let with = |value: &str| {
        let request = Request::get(format!("/v1/meetings/{M1}/minutes"))
            .header(header::AUTHORIZATION, value)
            .body(Body::empty())
            .unwrap();
        exchange(&api, request)
    };
    // The scheme is case-insensitive (RFC 9110 §11.1).
    for value in [format!("Bearer {token}"), format!("bearer {token}"), format!("BEARER {token}")] {
        assert_eq!(with(&value).0, StatusCode::OK, "{value}");
    }
    for value in ["Bearer", "Bearer ", "bearer", &format!("Basic {token}"), "Token abc", "Bearer not-a-token"] {
        let (status, headers, body) = with(value);
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{value:?}: {}", String::from_utf8_lossy(&body));
        assert!(is_problem(&headers));
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer realm=\"minutebook\"");
    }
}

/// Route templates of the API and the site, with their methods.
fn routes() -> Vec<(Method, String)> {
    let mut routes: Vec<(Method, String)> = minutebook::http::api::openapi::OPERATIONS
        .iter()
        .map(|op| (op.method.to_ascii_uppercase().parse().unwrap(), op.path.to_owned()))
        .collect();
    for page in [
        "/",
        "/bodies/{body}",
        "/bodies/{body}/actions",
        "/meetings/{meeting}",
        "/meetings/{meeting}/trail",
        "/meetings/{meeting}/console",
        "/meetings/{meeting}/sign",
        "/people/{person}",
        "/search",
        "/sign-in",
    ] {
        routes.push((Method::GET, page.to_owned()));
    }
    routes.push((Method::POST, "/sign-in".to_owned()));
    routes.push((Method::POST, "/sign-out".to_owned()));
    routes
}

/// Path segments a hostile client might send, percent-encoded as sent.
fn hostile_segment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => Just(M1.to_owned()),
        4 => Just("riverside-scrutiny".to_owned()),
        2 => Just("cllr-okoro".to_owned()),
        2 => Just("meeting:rcsp-2026-03-05".to_owned()),
        3 => Just("5".to_owned()),
        1 => Just("18446744073709551615".to_owned()),
        1 => Just("18446744073709551616".to_owned()),
        1 => Just("4294967296".to_owned()),
        1 => Just("-1".to_owned()),
        1 => Just("0".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just("%2e%2e%2f%2e%2e".to_owned()),
        1 => Just("a".repeat(300)),
        1 => Just("a".repeat(8_000)),
        1 => Just(blake3::hash(b"x").to_hex().to_string()),
        1 => prop::collection::vec(any::<u8>(), 0..40)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02x}")).collect::<String>()),
        1 => "[a-z0-9:-]{1,40}",
    ]
}

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("".to_owned()),
        Just("0".to_owned()),
        Just("1".to_owned()),
        Just("true".to_owned()),
        Just("18446744073709551615".to_owned()),
        Just("99999999999999999999999".to_owned()),
        Just("-5".to_owned()),
        Just("2026-03-05".to_owned()),
        Just("9999-99-99".to_owned()),
        Just("2026-03-05T19:00:00Z".to_owned()),
        Just(M1.to_owned()),
        Just("riverside-scrutiny".to_owned()),
        prop::collection::vec(any::<u8>(), 0..30)
            .prop_map(|bytes| bytes.iter().map(|b| format!("%{b:02x}")).collect::<String>()),
    ]
}

fn hostile_query() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "from", "to", "limit", "at", "item", "seq", "size", "meeting", "body", "all", "since", "q", "next", "token",
    ]);
    prop::collection::vec((key, hostile_value()), 0..4)
        .prop_map(|pairs| pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&"))
}

#[derive(Debug, Clone)]
enum Caller {
    Public,
    Clerk,
    Admin,
    Header(String),
}

fn hostile_caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        6 => Just(Caller::Public),
        6 => Just(Caller::Clerk),
        2 => Just(Caller::Admin),
        1 => Just(Caller::Header("Bearer".to_owned())),
        1 => Just(Caller::Header("Basic YWxhZGRpbjpvcGVuc2VzYW1l".to_owned())),
        1 => "[ -~]{0,80}".prop_map(Caller::Header),
    ]
}

fn hostile_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        Just(b"{}".to_vec()),
        Just(b"null".to_vec()),
        Just(b"{\"item\": 4294967296, \"text\": \"x\"}".to_vec()),
        Just(b"{\"item\": -1}".to_vec()),
        Just(b"{\"item\": 5, \"text\": \"\\u0000\\u001b[31m\"}".to_vec()),
        Just(format!("{{\"text\": \"{}\"}}", "x".repeat(70_000)).into_bytes()),
        Just(b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[".to_vec()),
        prop::collection::vec(any::<u8>(), 0..200),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, failure_persistence: None, ..ProptestConfig::default() })]

    /// Whatever is sent to whichever route, the answer is never a 5xx and
    /// an error is problem+json or a page. (Run by the test below.)
    fn no_request_gets_a_5xx(
        route in prop::sample::select(routes()),
        segments in prop::collection::vec(hostile_segment(), 4),
        query in hostile_query(),
        caller in hostile_caller(),
        accept in prop::sample::select(vec!["application/json", "text/html", "text/markdown", "*/*", ""]),
        extra in prop::sample::select(vec!["last-event-id", "if-match", "idempotency-key", "x-request-id", "content-type"]),
        extra_value in "[ -~]{0,40}",
        body in hostile_body(),
    ) {
        let api = api();
        let (method, template) = route;
        let mut path = String::new();
        let mut next = segments.iter();
        for part in template.split('/').skip(1) {
            path.push('/');
            if part.starts_with('{') {
                path.push_str(next.next().unwrap());
            } else {
                path.push_str(part);
            }
        }
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        let mut request = Request::builder().method(method.clone()).uri(&path);
        request = match &caller {
            Caller::Public => request,
            Caller::Clerk => request.header(header::AUTHORIZATION, format!("Bearer {}", api.token(Role::Clerk).unwrap())),
            Caller::Admin => request.header(header::AUTHORIZATION, format!("Bearer {}", api.token(Role::Admin).unwrap())),
            Caller::Header(value) => request.header(header::AUTHORIZATION, value.as_str()),
        };
        request = request.header(header::ACCEPT, accept).header(extra, extra_value.as_str());
        if extra != "content-type" && method == Method::POST {
            request = request.header(header::CONTENT_TYPE, "application/json");
        }
        let request = request.body(Body::from(body)).unwrap();
        let (status, headers, answer) = exchange(api, request);
        prop_assert!(!status.is_server_error(), "{method} {path} as {caller:?}: {status} {}", String::from_utf8_lossy(&answer));
        if status.is_client_error() {
            let content_type = headers.get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")).unwrap_or("");
            prop_assert!(
                content_type == "application/problem+json" || content_type.starts_with("text/html"),
                "{method} {path}: {status} as {content_type:?}"
            );
        }
    }
}

/// One record for every generated request, so that what one request
/// appends the next ones see; it is checked after the run.
fn api() -> &'static Api {
    static API: std::sync::OnceLock<Api> = std::sync::OnceLock::new();
    API.get_or_init(|| Api::at(Stage::InSession))
}

/// The fixed hostile segments, each in each placeholder of each route
/// (the others valid), as the public and as the clerk.
fn sweep(api: &Api) -> usize {
    let hash = blake3::hash(b"x").to_hex();
    let hostile = [
        "18446744073709551615",
        "18446744073709551616",
        "4294967296",
        "-1",
        "0",
        "..",
        "%2e%2e%2f%2e%2e",
        "%00",
        "%0a",
        "%0d%0a",
        "%7f",
        "%ff%fe",
        "%e2%80%ae",
        &"a".repeat(129),
        &"a".repeat(256),
        &"a".repeat(8_000),
        hash.as_str(),
    ];
    let valid = |name: &str| match name {
        "{meeting}" => M1,
        "{body}" => "riverside-scrutiny",
        "{person}" => "cllr-okoro",
        "{stream}" => "meeting:rcsp-2026-03-05",
        "{register}" => "declarations",
        _ => "5",
    };
    let mut sent = 0;
    for (method, template) in routes() {
        let parts: Vec<&str> = template.split('/').skip(1).collect();
        for (hole, _) in parts.iter().enumerate().filter(|(_, p)| p.starts_with('{')) {
            for bad in hostile {
                let path: String = parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| match (i == hole, p.starts_with('{')) {
                        (true, _) => format!("/{bad}"),
                        (false, true) => format!("/{}", valid(p)),
                        (false, false) => format!("/{p}"),
                    })
                    .collect();
                for role in [Role::Public, Role::Clerk] {
                    let mut request = Request::builder().method(method.clone()).uri(&path);
                    if let Some(token) = api.token(role) {
                        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
                    }
                    let request =
                        request.header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap();
                    let (status, _, answer) = exchange(api, request);
                    assert!(
                        !status.is_server_error(),
                        "{method} {path}: {status} {}",
                        String::from_utf8_lossy(&answer)
                    );
                    sent += 1;
                }
            }
        }
    }
    // Then every query parameter a GET route reads, with each hostile value.
    let values = ["", "0", "-1", "18446744073709551615", "18446744073709551616", "%00", "%ff", "9999-99-99", "true"];
    let keys = ["from", "to", "limit", "at", "item", "seq", "size", "meeting", "body", "all", "since", "q", "next"];
    for (method, template) in routes().into_iter().filter(|(m, _)| m == Method::GET) {
        let path: String = template
            .split('/')
            .skip(1)
            .map(|p| if p.starts_with('{') { format!("/{}", valid(p)) } else { format!("/{p}") })
            .collect();
        // Routes that need one parameter before they read the others.
        let bases: &[&str] = match path.as_str() {
            "/v1/export" => &["", "meeting=rcsp-2026-03-05&", "body=riverside-scrutiny&", "all=true&"],
            "/v1/proofs/inclusion" => &["", "seq=0&", "seq=3&size=4&"],
            "/v1/proofs/consistency" => &["", "from=1&", "from=2&size=3&"],
            "/v1/checkpoints" => &["", "from=1&", "to=1&"],
            _ => &[""],
        };
        let queries = bases.iter().flat_map(|base| keys.iter().map(move |key| format!("{base}{key}=")));
        for query in queries {
            for value in values {
                let uri = format!("{path}?{query}{value}");
                let (status, _, answer) = exchange(api, Request::get(&uri).body(Body::empty()).unwrap());
                assert!(!status.is_server_error(), "{method} {uri}: {status} {}", String::from_utf8_lossy(&answer));
                sent += 1;
            }
        }
    }
    sent
}

#[test]
fn after_hostile_requests_a_normal_read_and_write_still_succeed() {
    // The sweep and the generated requests first, then ordinary ones.
    let swept = sweep(api());
    assert!(swept > 1_000);
    eprintln!("{swept} hostile requests swept, then 1,000 generated; none answered 5xx");
    no_request_gets_a_5xx();
    still_serves(api());
}

#[test]
fn a_retry_after_a_restart_gets_the_first_answer() {
    let api = Api::at(Stage::InSession);
    let path = format!("/v1/meetings/{M1}/points");
    let point = serde_json::json!({"item": 5, "text": "Members asked for the figures by ward."});
    let headers = [("if-match", api.etag(M1)), ("idempotency-key", "ward-figures".to_owned())];
    let (status, _, first) = api.post(&path, Role::Clerk, &headers, point.clone());
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let api = api.restart();
    let before = api.snapshot();
    let (status, _, again) = api.post(&path, Role::Clerk, &headers, point.clone());
    assert_eq!((status, again.as_str()), (StatusCode::CREATED, first.as_str()));
    assert_eq!(api.snapshot(), before, "a retry appends nothing");
    // The same key for another command is still refused after the restart.
    let other = serde_json::json!({"item": 5, "text": "Something else."});
    let problem = api.refused(&path, Role::Clerk, &headers, other, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");
}

#[test]
fn a_token_revoked_from_the_command_line_is_refused_by_the_running_server() {
    let api = Api::at(Stage::InSession);
    let data = api.state.data.to_str().unwrap().to_owned();
    let auditor = |api: &Api, token: &str| {
        let request = Request::get("/v1/bodies")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        exchange(api, request).0
    };
    // Made by the server, revoked by the CLI while the server runs.
    let (token, record) = api.state.tokens.create(Role::Auditor, None).unwrap();
    assert_eq!(auditor(&api, &token), StatusCode::OK);
    let (code, out, err) = crate::support::run_cli(&["token", "revoke", "--data", &data, "--id", &record.id]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(auditor(&api, &token), StatusCode::UNAUTHORIZED, "the server honours the revocation at once");
    // The server's next change keeps the CLI's: the revocation is not undone.
    let (other, _) = api.state.tokens.create(Role::Auditor, None).unwrap();
    assert_eq!(auditor(&api, &token), StatusCode::UNAUTHORIZED);
    assert_eq!(auditor(&api, &other), StatusCode::OK);
    // A token the CLI makes works at once too.
    let (code, out, err) = crate::support::run_cli(&["token", "create", "--data", &data, "--role", "auditor"]);
    assert_eq!(code, 0, "{out}{err}");
    let made = out.trim().rsplit(' ').next().unwrap();
    assert_eq!(auditor(&api, made), StatusCode::OK, "{out}");
}

#[test]
fn exports_past_the_concurrent_limit_are_told_to_come_back() {
    let api = Api::at(Stage::InSession);
    let building = api.state.exports.clone().try_acquire_many_owned(minutebook::http::EXPORTS_CONCURRENT_MAX as u32);
    let (status, headers, _) = get(&api, "/v1/export?all=true", Role::Public);
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(is_problem(&headers));
    assert_eq!(headers[header::RETRY_AFTER], minutebook::http::api::RETRY_AFTER_BUSY_SECONDS.to_string().as_str());
    drop(building);
    let (status, _, _) = get(&api, "/v1/export?all=true", Role::Public);
    assert_eq!(status, StatusCode::OK);
}
