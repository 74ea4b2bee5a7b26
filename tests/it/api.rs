//! The HTTP API through the router in-process (tower `oneshot`), and the
//! server and demo end to end.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use minutebook::domain::Recorder;
use minutebook::http::{router, AppState};
use minutebook::policy::tokens::{Role, TokenStore};
use minutebook_log::Log;
use tower::ServiceExt;

use crate::domain::*;
use crate::support::run_cli;
use crate::support::snapshot;

pub(crate) struct Api {
    pub(crate) state: Arc<AppState>,
    tokens: Vec<(Role, String)>,
    _dir: tempfile::TempDir,
}

impl Api {
    pub(crate) fn at(stage: Stage) -> Api {
        let (dir, data) = World::at(stage).close();
        let tokens = TokenStore::open(&data).unwrap();
        let mut made = Vec::new();
        for (role, person) in [
            (Role::Admin, None),
            (Role::Clerk, Some("off-rowe")),
            (Role::Member, Some("cllr-okoro")),
            (Role::Auditor, None),
        ] {
            made.push((role, tokens.create(role, person).unwrap().0));
        }
        let recorder = Recorder::new(Log::open(&data).unwrap()).unwrap();
        let state = Arc::new(AppState::new(recorder, tokens, data).unwrap());
        Api { state, tokens: made, _dir: dir }
    }

    /// The same data directory served anew, as after a restart.
    pub(crate) fn restart(self) -> Api {
        let Api { state, tokens, _dir } = self;
        let data = state.data.clone();
        drop(Arc::into_inner(state).expect("nothing else holds the state"));
        let recorder = Recorder::new(Log::open(&data).unwrap()).unwrap();
        let state = Arc::new(AppState::new(recorder, TokenStore::open(&data).unwrap(), data).unwrap());
        Api { state, tokens, _dir }
    }

    pub(crate) fn token(&self, role: Role) -> Option<&str> {
        self.tokens.iter().find(|(r, _)| *r == role).map(|(_, t)| t.as_str())
    }

    /// GETs `path` as `role` with an Accept header; returns status, content type and body.
    pub(crate) fn get(&self, path: &str, role: Role, accept: &str) -> (StatusCode, String, String) {
        let mut request = Request::get(path).header(header::ACCEPT, accept);
        if let Some(token) = self.token(role) {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(request.body(Body::empty()).unwrap())
    }

    pub(crate) fn send(&self, request: Request<Body>) -> (StatusCode, String, String) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let response = router(self.state.clone()).oneshot(request).await.unwrap();
            let status = response.status();
            let content_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            // Lossy: an export bundle is a tar, and the no-leak checks look
            // for text in it.
            (status, content_type, String::from_utf8_lossy(&body).into_owned())
        })
    }

    pub(crate) fn get_bytes(&self, path: &str, role: Role) -> (StatusCode, Vec<u8>) {
        let mut request = Request::get(path);
        if let Some(token) = self.token(role) {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let response = router(self.state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
            let status = response.status();
            (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
        })
    }
}

#[test]
fn export_gives_the_public_a_public_bundle_and_the_signed_in_a_full_one() {
    use minutebook::bundle::{verify_bundle, Bundle};
    let api = Api::at(Stage::Signed);
    let before = snapshot(api.state.recorder.log());
    for (role, public) in [(Role::Public, true), (Role::Auditor, false), (Role::Clerk, false)] {
        let (status, tar) = api.get_bytes(&format!("/v1/export?meeting={M1}&since=1"), role);
        assert_eq!(status, StatusCode::OK, "{role:?}: {}", String::from_utf8_lossy(&tar));
        let bundle = Bundle::read_tar(tar.as_slice()).expect("a readable bundle");
        let report = verify_bundle(&bundle, None, &mut |_, _| {}).expect("a usable bundle");
        assert_eq!(report.problem, None, "{role:?}");
        assert_eq!(report.public, public, "{role:?}");
        assert!(report.consistency_from.contains(&1), "{role:?}: {:?}", report.consistency_from);
        assert_eq!(report.withheld > 0, public, "{role:?}: the exempt item's points are withheld only from the public");
        assert_eq!(report.record.expect("record checks").signatures_checked, 1);
    }
    for (query, status) in [
        ("", StatusCode::BAD_REQUEST),
        (&format!("meeting={M1}&all=true") as &str, StatusCode::BAD_REQUEST),
        ("meeting=no-such-meeting", StatusCode::NOT_FOUND),
        ("body=no-such-body", StatusCode::NOT_FOUND),
        (&format!("meeting={M1}&since=999999") as &str, StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (found, body) = api.get_bytes(&format!("/v1/export?{query}"), Role::Clerk);
        assert_eq!(found, status, "?{query}: {}", String::from_utf8_lossy(&body));
    }
    let after = snapshot(api.state.recorder.log());
    assert_eq!((after.len, after.checkpoint), (before.len, before.checkpoint), "exporting changed the log");
}

pub(crate) fn json(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

#[test]
fn minutes_come_as_json_markdown_or_html_and_the_public_never_sees_exempt_content() {
    let api = Api::at(Stage::Published);
    let path = format!("/v1/meetings/{M1}/minutes");
    let (status, content_type, body) = api.get(&path, Role::Public, "application/json");
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/json");
    let minutes = json(&body);
    assert_eq!(minutes["status"], "draft");
    assert_eq!(minutes["items"][7]["withheld"], true);
    assert!(!body.contains("4% below"));
    let (_, content_type, markdown) = api.get(&path, Role::Public, "text/markdown");
    assert_eq!(content_type, "text/markdown; charset=utf-8");
    assert!(markdown.contains("**Draft — subject to confirmation**"), "{markdown}");
    let (_, content_type, html) = api.get(&path, Role::Public, "text/html");
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(html.starts_with("<article"));
    for role in [Role::Member, Role::Auditor, Role::Clerk, Role::Admin] {
        let (status, _, body) = api.get(&path, role, "application/json");
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("4% below"), "{role:?} is entitled to exempt content");
    }
    // A meeting in session is the public's only as its heading.
    let (_, _, body) = api.get(&format!("/v1/meetings/{M2}/minutes"), Role::Public, "application/json");
    assert_eq!(json(&body)["content_visible"], false);
}

#[test]
fn errors_are_problem_details_and_unknown_tokens_are_refused() {
    let api = Api::at(Stage::Published);
    let (status, content_type, body) =
        api.get("/v1/meetings/no-such-meeting/minutes", Role::Public, "application/json");
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(content_type, "application/problem+json");
    let problem = json(&body);
    assert_eq!(problem["type"], "/problems/not-found");
    assert_eq!(problem["detail"], "no meeting no-such-meeting is scheduled");
    let request =
        Request::get("/v1/bodies").header(header::AUTHORIZATION, "Bearer mbt_not-a-token").body(Body::empty()).unwrap();
    let (status, _, body) = api.send(request);
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(json(&body)["detail"], "the token is unknown or revoked");
    let (status, _, body) = api.get("/v1/events?limit=5000", Role::Public, "application/json");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json(&body)["detail"], "limit 5000 is outside 1 to 1000");
    let (status, _, body) = api.get(&format!("/v1/meetings/{M1}/statement"), Role::Public, "text/plain");
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(json(&body)["detail"].as_str().unwrap().contains("they have not been confirmed"));
    let (status, _, body) =
        api.get(&format!("/v1/meetings/{M1}/minutes?at=yesterday"), Role::Public, "application/json");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[test]
fn events_show_payloads_to_those_entitled_and_hashes_to_everyone() {
    let api = Api::at(Stage::Published);
    let (status, _, body) = api.get("/v1/events?from=0&limit=1000", Role::Public, "application/json");
    assert_eq!(status, StatusCode::OK);
    let page = json(&body);
    let events = page["events"].as_array().unwrap();
    let exempt = events
        .iter()
        .find(|e| {
            e["event_type"] == "point.recorded" && e["stream"] == format!("meeting:{M1}") && e["payload"] == "withheld"
        })
        .expect("the exempt point's payload is withheld from the public");
    let seq = exempt["seq"].as_u64().unwrap();
    assert_eq!(exempt["event_hash"].as_str().unwrap().len(), 64);
    let (_, _, body) = api.get(&format!("/v1/events/{seq}"), Role::Auditor, "application/json");
    let event = json(&body);
    assert_eq!(event["payload"]["decoded"]["text"], "The preferred bidder's price was 4% below the estimate.");
    assert_eq!(event["payload"]["decoded"]["item"], 8);
    // The meeting in session: only when and where it is, its agenda and its
    // opening are the public's yet.
    let in_session: Vec<_> = events.iter().filter(|e| e["stream"] == format!("meeting:{M2}")).collect();
    let public = ["meeting.scheduled", "agenda.published", "meeting.opened"];
    assert!(in_session.iter().any(|e| e["payload"] == "withheld"));
    for event in in_session {
        let shown = event["payload"] != "withheld";
        assert_eq!(shown, public.contains(&event["event_type"].as_str().unwrap()), "{event}");
    }
    let (status, _, _) = api.get(&format!("/v1/meetings/{M2}/trail"), Role::Public, "application/json");
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = api.get(&format!("/v1/meetings/{M2}/trail"), Role::Clerk, "application/json");
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn registers_proofs_and_the_checkpoint_are_served() {
    let api = Api::at(Stage::Signed);
    let (status, content_type, note) = api.get("/v1/checkpoint", Role::Public, "text/plain");
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "text/plain; charset=utf-8"));
    assert!(note.starts_with(crate::support::ORIGIN), "{note}");
    let (_, _, body) = api.get("/v1/bodies/riverside-scrutiny/minutes/394", Role::Public, "application/json");
    assert_eq!(json(&body), serde_json::json!({"body": "riverside-scrutiny", "minute": 394, "meeting": M1, "item": 6}));
    let (_, _, body) = api.get("/v1/bodies/riverside-scrutiny/registers/attendance", Role::Public, "application/json");
    assert!(json(&body)["attendance"].as_array().unwrap().len() >= 9);
    let (status, _, _) = api.get("/v1/bodies/riverside-scrutiny/registers/gifts", Role::Public, "application/json");
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, body) = api.get("/v1/proofs/inclusion?seq=3", Role::Public, "application/json");
    let proof = json(&body);
    let hashes: Vec<minutebook_log::TreeHash> = proof["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| minutebook_log::TreeHash::from_hex(h.as_str().unwrap()).unwrap())
        .collect();
    let leaf = minutebook_log::TreeHash::from_hex(proof["leaf_hash"].as_str().unwrap()).unwrap();
    let root = minutebook_log::TreeHash::from_hex(proof["root"].as_str().unwrap()).unwrap();
    minutebook_log::merkle::verify_inclusion(3, proof["tree_size"].as_u64().unwrap(), &leaf, &hashes, &root).unwrap();
    let (_, _, statement) = api.get(&format!("/v1/meetings/{M1}/statement"), Role::Public, "text/plain");
    assert!(statement.starts_with("minutebook signing statement v1\n"), "{statement}");

    let (_, _, body) = api.get("/v1/people/cllr-okoro", Role::Public, "application/json");
    let person = json(&body);
    assert_eq!(person["display_name"], "Councillor Ada Okoro");
    assert_eq!(person["memberships"][0]["body"], "riverside-scrutiny");
    let (_, _, body) = api.get(&format!("/v1/meetings/{M1}"), Role::Public, "application/json");
    assert_eq!(json(&body)["status"], "signed");
    let (_, _, body) = api.get(&format!("/v1/meetings/{M1}/items/6"), Role::Public, "application/json");
    let item = json(&body);
    assert_eq!(item["item"]["minute"], 394);
    assert_eq!(item["declarations"][0]["name"], "Councillor Kofi Mensah");
    let (_, _, body) =
        api.get(&format!("/v1/streams/meeting:{M1}/events?from=2&limit=3"), Role::Public, "application/json");
    let page = json(&body);
    let versions: Vec<u64> =
        page["events"].as_array().unwrap().iter().map(|e| e["stream_version"].as_u64().unwrap()).collect();
    assert_eq!((versions, page["next"].as_u64()), (vec![2, 3, 4], Some(5)));
    let (_, _, body) = api.get("/v1/checkpoints?from=0&limit=5", Role::Public, "application/json");
    let page = json(&body);
    let checkpoints = page["checkpoints"].as_array().unwrap();
    assert_eq!(checkpoints.len(), 5);
    assert_eq!(checkpoints[0]["tree_size"], 0);
    assert!(checkpoints[4]["note"].as_str().unwrap().starts_with(crate::support::ORIGIN));
}

#[test]
fn the_demo_builds_a_verifiable_council_and_the_server_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let data_arg = data.to_str().unwrap();
    let (code, first_run, stderr) = run_cli(&["demo", "--data", data_arg, "--no-serve"]);
    assert_eq!(code, 0, "{stderr}");
    let stdout = first_run.clone();
    assert!(stdout.contains("created the demo minute book of Eastbrook Borough Council"), "{stdout}");
    for role in ["admin", "clerk", "member", "auditor"] {
        assert!(stdout.lines().any(|l| l.trim_start().starts_with(role) && l.contains("mbt_")), "{role}: {stdout}");
    }
    let (code, stdout, _) = run_cli(&["verify", data_arg]);
    assert_eq!(code, 0, "{stdout}");
    assert!(stdout.contains("chairs' signatures: 3 checked"), "{stdout}");
    assert!(stdout.contains("not checkable: the minutes text of meeting lrc-2026-02-10"), "{stdout}");
    let (code, stdout, _) = run_cli(&["demo", "--data", data_arg, "--no-serve"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("reusing the demo minute book"), "{stdout}");
    let recorder = Recorder::new(Log::open(&data).unwrap()).unwrap();
    {
        let record = recorder.record().unwrap();
        assert_eq!(record.bodies.len(), 2);
        assert_eq!(record.meetings.len(), 6);
        let signed = record.meetings.values().filter(|m| m.is_signed()).count();
        assert_eq!(signed, 3);
        assert!(record.meetings.values().any(|m| !m.corrections.is_empty()));
        assert!(record.meetings.values().any(|m| !m.redactions.is_empty()));
    }
    drop(recorder);

    // Serve on a free port, read over a real socket, then SIGTERM.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_minutebook"))
        .args(["serve", "--data", data_arg, "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().trim_end_matches('/').to_owned();
    let response = get(&addr, "/healthz", &[]).unwrap();
    assert_eq!((response.status(), response.body().as_str()), (StatusCode::OK, "ok\n"));
    let response = get(&addr, "/v1/bodies/riverside-scrutiny/minutes/394", &[]).unwrap();
    assert!(response.body().contains("\"meeting\":\"rcsp-2026-03-05\""), "{response:?}");
    // A paper over the socket: uploaded by the clerk, downloaded as stored.
    let bearer = |role: &str| format!("Bearer {}", stdout_of_demo_token(&first_run, role));
    let paper = "Invented handout: youth club attendance by month.";
    let clerk = [("authorization", bearer("clerk")), ("content-type", "text/plain".to_owned())];
    let upload = post(&addr, "/v1/papers", &clerk, paper).unwrap();
    assert_eq!(upload.status(), StatusCode::CREATED, "{upload:?}");
    let hash = blake3::hash(paper.as_bytes()).to_hex();
    let download = get(&addr, &format!("/v1/papers/{hash}"), &[("authorization", bearer("auditor"))]).unwrap();
    assert_eq!((download.status(), download.body().as_str()), (StatusCode::OK, paper));
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "the server exits cleanly on SIGTERM: {exit:?}");
    let (code, _, _) = run_cli(&["verify", data_arg]);
    assert_eq!(code, 0);
}

/// The token the demo printed for a role.
fn stdout_of_demo_token(stdout: &str, role: &str) -> String {
    let line =
        stdout.lines().find(|l| l.split_whitespace().next() == Some(role)).expect("the demo prints a token per role");
    line.split_whitespace().last().expect("a token").to_owned()
}

#[test]
fn every_error_is_a_problem_even_those_the_router_makes() {
    let api = Api::at(Stage::Registered);
    for (path, status, kind) in [
        ("/v1/no-such-path", StatusCode::NOT_FOUND, "/problems/not-found"),
        ("/v1/events/not-a-number", StatusCode::BAD_REQUEST, "/problems/malformed"),
        ("/v1/events?limit=many", StatusCode::BAD_REQUEST, "/problems/malformed"),
    ] {
        let (got, content_type, body) = api.get(path, Role::Public, "application/json");
        assert_eq!(got, status, "{path}: {body}");
        assert_eq!(content_type, "application/problem+json", "{path}");
        assert_eq!(json(&body)["type"], kind, "{path}");
    }
    let admin = format!("Bearer {}", api.token(Role::Admin).unwrap());
    let request = Request::delete("/v1/bodies").header(header::AUTHORIZATION, admin).body(Body::empty()).unwrap();
    let (status, content_type, _) = api.send(request);
    assert_eq!((status, content_type.as_str()), (StatusCode::METHOD_NOT_ALLOWED, "application/problem+json"));
}

impl Api {
    pub(crate) fn post(
        &self,
        path: &str,
        role: Role,
        headers: &[(&str, String)],
        body: serde_json::Value,
    ) -> (StatusCode, String, String) {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(token) = self.token(role) {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        self.send(request.body(Body::from(body.to_string())).unwrap())
    }

    pub(crate) fn etag(&self, meeting: &str) -> String {
        let request = Request::get(format!("/v1/meetings/{meeting}/minutes")).body(Body::empty()).unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let response = router(self.state.clone()).oneshot(request).await.unwrap();
            response.headers()[header::ETAG].to_str().unwrap().to_owned()
        })
    }

    pub(crate) fn snapshot(&self) -> crate::support::Snapshot {
        crate::support::snapshot(self.state.recorder.log())
    }

    /// Posts a command that must be refused with `status`, and checks the
    /// log did not change.
    pub(crate) fn refused(
        &self,
        path: &str,
        role: Role,
        headers: &[(&str, String)],
        body: serde_json::Value,
        status: StatusCode,
    ) -> serde_json::Value {
        let before = self.snapshot();
        let (got, content_type, text) = self.post(path, role, headers, body);
        assert_eq!(got, status, "{text}");
        assert_eq!(content_type, "application/problem+json");
        assert_eq!(self.snapshot(), before, "a refused request changed the log");
        json(&text)
    }
}

#[test]
fn clerks_record_with_if_match_and_a_retry_with_the_same_key_appends_nothing() {
    let api = Api::at(Stage::InSession);
    let path = format!("/v1/meetings/{M1}/points");
    let point = serde_json::json!({"item": 5, "text": "Members asked for a timetable."});
    let etag = api.etag(M1);
    let before = api.state.recorder.log().len();
    let headers = [("if-match", etag.clone()), ("idempotency-key", "point-1".to_owned())];
    let (status, _, first) = api.post(&path, Role::Clerk, &headers, point.clone());
    assert_eq!(status, StatusCode::CREATED, "{first}");
    let created = json(&first);
    assert_eq!(created["events"][0]["event_type"], "point.recorded");
    assert_eq!(api.state.recorder.log().len(), before + 1);
    let (status, _, again) = api.post(&path, Role::Clerk, &headers, point.clone());
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(again, first, "a retry returns the first result");
    assert_eq!(api.state.recorder.log().len(), before + 1, "and appends nothing");
    assert_ne!(api.etag(M1), etag);
    // The same key for another request is refused, and appends nothing.
    let other = serde_json::json!({"item": 5, "text": "Something else."});
    let reused = [("if-match", api.etag(M1)), ("idempotency-key", "point-1".to_owned())];
    let problem = api.refused(&path, Role::Clerk, &reused, other, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["type"], "/problems/idempotency-key-reused");

    // Stale or missing If-Match, wrong roles, refusals and bad content: nothing appended.
    let problem =
        api.refused(&path, Role::Clerk, &[("if-match", etag.clone())], point.clone(), StatusCode::PRECONDITION_FAILED);
    assert!(problem["detail"].as_str().unwrap().contains("meeting:rcsp-2026-03-05 changed"), "{problem}");
    let problem = api.refused(&path, Role::Clerk, &[], point.clone(), StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(problem["type"], "/problems/if-match-required");
    let current = [("if-match", api.etag(M1))];
    api.refused(&path, Role::Public, &current, point.clone(), StatusCode::UNAUTHORIZED);
    api.refused(&path, Role::Auditor, &current, point.clone(), StatusCode::FORBIDDEN);
    let problem = api.refused(&path, Role::Member, &current, point.clone(), StatusCode::FORBIDDEN);
    assert_eq!(problem["detail"], "only clerks record meetings; a member submits only their own signature and key");
    assert!(problem.get("rule").is_none(), "a role's refusal is not a rule's: {problem}");
    let problem = api.refused(
        &path,
        Role::Clerk,
        &current,
        serde_json::json!({"item": 7, "text": "x"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert_eq!(problem["detail"], "agenda item 7 of meeting rcsp-2026-03-05 has not been taken");
    assert_eq!(problem["rule"], "not-found", "a refusal by the rules names its rule");
    let vote = serde_json::json!({"item": 5, "text": "Agreed.", "kind": "Agreed", "vote": {"kind": "counts", "for": 9, "against": 0, "abstain": 0}});
    let problem =
        api.refused(&format!("/v1/meetings/{M1}/decisions"), Role::Clerk, &current, vote, StatusCode::CONFLICT);
    assert!(problem["detail"].as_str().unwrap().contains("only 8 voting members were present"), "{problem}");
    assert_eq!(problem["type"], "/problems/refused");
    assert_eq!(problem["rule"], "vote-exceeds-members");
    let late = serde_json::json!({"person": "cllr-varga", "as": "member", "arrived_at": "25:00"});
    let problem = api.refused(
        &format!("/v1/meetings/{M1}/attendance"),
        Role::Clerk,
        &current,
        late,
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(problem["detail"].as_str().unwrap().contains("25:00"), "{problem}");
    assert!(problem.get("rule").is_none(), "content that does not parse never reaches the rules: {problem}");
    let problem = api.refused(
        &path,
        Role::Clerk,
        &current,
        serde_json::json!({"item": "five"}),
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(problem.get("rule").is_none(), "{problem}");
}

#[test]
fn a_member_signs_only_their_own_signature() {
    let api = Api::at(Stage::Published);
    let confirm = serde_json::json!({"by_meeting": M2, "by_item": 4});
    let (status, _, body) =
        api.post(&format!("/v1/meetings/{M1}/confirmation"), Role::Clerk, &[("if-match", api.etag(M1))], confirm);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, _, statement) = api.get(&format!("/v1/meetings/{M1}/statement"), Role::Public, "text/plain");
    let key = key_of("cllr-patel");
    let signed = serde_json::json!({
        "signer": "cllr-patel",
        "public_key": key.public_key_base64(),
        "statement": statement,
        "signature": key.sign_base64(statement.as_bytes()),
    });
    let path = format!("/v1/meetings/{M1}/signatures");
    // The token in this test speaks for cllr-okoro, who may not sign for cllr-patel; nor may a clerk.
    let problem =
        api.refused(&path, Role::Member, &[("if-match", api.etag(M1))], signed.clone(), StatusCode::FORBIDDEN);
    assert_eq!(problem["detail"], "a member submits only their own signature");
    api.refused(&path, Role::Clerk, &[("if-match", api.etag(M1))], signed.clone(), StatusCode::FORBIDDEN);
    let (patel, _) = api.state.tokens.create(Role::Member, Some("cllr-patel")).unwrap();
    let request = Request::post(&path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {patel}"))
        .header("if-match", api.etag(M1))
        .body(Body::from(signed.to_string()))
        .unwrap();
    let (status, _, body) = api.send(request);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(api.state.recorder.record().unwrap().meetings[&m(M1)].is_signed());
}

/// A running `minutebook serve`, on a free port.
pub(crate) struct Server {
    pub(crate) child: std::process::Child,
    pub(crate) addr: String,
}

impl Server {
    pub(crate) fn start(data: &str) -> Server {
        Server::start_with(data, &[])
    }

    /// A server with more options of `minutebook serve`.
    pub(crate) fn start_with(data: &str, options: &[&str]) -> Server {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_minutebook"))
            .args(["serve", "--data", data, "--addr", "127.0.0.1:0"])
            .args(options)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        let addr = line.trim().rsplit("http://").next().unwrap().trim_end_matches('/').to_owned();
        Server { child, addr }
    }

    pub(crate) fn terminate(mut self) -> std::process::ExitStatus {
        std::process::Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        self.child.wait().unwrap()
    }
}

/// A test that fails before `terminate` leaves no server running.
impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A client for tests against a real `minutebook serve` (ureq): a new
/// connection per request, every status an answer to look at rather than
/// an error, and the body read whole as text. `Err` is the transport's
/// (for one, once the server no longer listens).
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections(0)
        .timeout_global(Some(std::time::Duration::from_secs(60)))
        .build()
        .into()
}

/// The answer with its body read whole as text.
fn text(response: ureq::http::Response<ureq::Body>) -> Result<ureq::http::Response<String>, ureq::Error> {
    let (parts, mut body) = response.into_parts();
    let text = body.read_to_string()?;
    Ok(ureq::http::Response::from_parts(parts, text))
}

/// GETs `http://ADDR/PATH` with `headers`.
pub(crate) fn get(
    addr: &str,
    path: &str,
    headers: &[(&str, String)],
) -> Result<ureq::http::Response<String>, ureq::Error> {
    let mut request = agent().get(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    text(request.call()?)
}

/// POSTs `body` to `http://ADDR/PATH` with `headers`.
pub(crate) fn post(
    addr: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &str,
) -> Result<ureq::http::Response<String>, ureq::Error> {
    let mut request = agent().post(format!("http://{addr}{path}"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    text(request.send(body)?)
}

/// POSTs a JSON `body` to `http://ADDR/PATH` with a bearer `token`.
pub(crate) fn post_json(
    addr: &str,
    path: &str,
    token: &str,
    body: &str,
) -> Result<ureq::http::Response<String>, ureq::Error> {
    let headers = [("authorization", format!("Bearer {token}")), ("content-type", "application/json".to_owned())];
    post(addr, path, &headers, body)
}

/// Makes the demo's data directory at `data` without serving it; returns
/// the clerk's token.
pub(crate) fn demo_clerk(data: &str) -> String {
    let (code, stdout, stderr) = run_cli(&["demo", "--data", data, "--no-serve"]);
    assert_eq!(code, 0, "{stderr}");
    let line = stdout.lines().find(|l| l.trim_start().starts_with("clerk")).unwrap();
    line.split_whitespace().last().unwrap().to_owned()
}

/// Reads Server-Sent Events until `n` have arrived; returns their ids.
fn live_ids(addr: &str, headers: &[(&str, String)], n: usize) -> Vec<u64> {
    use std::io::BufRead;
    let mut request = agent().get(format!("http://{addr}/v1/events/live?from=0"));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let feed = request.config().timeout_global(Some(std::time::Duration::from_secs(10))).build().call().unwrap();
    let mut ids = Vec::new();
    for line in std::io::BufReader::new(feed.into_body().into_reader()).lines() {
        let line = line.unwrap();
        if let Some(id) = line.strip_prefix("id: ") {
            ids.push(id.parse().unwrap());
            if ids.len() == n {
                break;
            }
        }
    }
    ids
}

#[test]
fn the_live_feed_resumes_without_gaps_and_sigterm_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let data_arg = data.to_str().unwrap();
    let clerk = demo_clerk(data_arg);
    let server = Server::start(data_arg);

    // The first ten events, then a reconnection after the seventh resumes at the eighth.
    let first = live_ids(&server.addr, &[], 10);
    assert_eq!(first, (0..10).collect::<Vec<_>>());
    let resumed = live_ids(&server.addr, &[("last-event-id", "6".to_owned())], 3);
    assert_eq!(resumed, [7, 8, 9]);

    // A feed open when the server is told to stop is ended, not left hanging.
    let feed_addr = server.addr.clone();
    let feed_timeout = std::time::Duration::from_secs(20);
    let feed = std::thread::spawn(move || {
        use std::io::Read;
        let started = std::time::Instant::now();
        let feed = agent()
            .get(format!("http://{feed_addr}/v1/events/live"))
            .config()
            .timeout_global(Some(feed_timeout))
            .build()
            .call()
            .unwrap();
        assert_eq!(feed.status(), StatusCode::OK);
        let _ = feed.into_body().into_reader().read_to_end(&mut Vec::new());
        started.elapsed()
    });

    // Appends acknowledged while the server is told to stop are all in the log.
    let addr = server.addr.clone();
    let appender = std::thread::spawn(move || {
        let mut acknowledged = Vec::new();
        for n in 0..400 {
            let body = format!(r#"{{"person":"guest-{n}","name":"Guest {n}","title":null,"organisation":null}}"#);
            match post_json(&addr, "/v1/people", &clerk, &body) {
                Ok(response) if response.status() == StatusCode::CREATED => acknowledged.push(n),
                Ok(response) if response.status().is_server_error() => break,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        acknowledged
    });
    std::thread::sleep(std::time::Duration::from_millis(300));
    let exit = server.terminate();
    let acknowledged = appender.join().unwrap();
    assert!(exit.success(), "{exit:?}");
    let open_for = feed.join().unwrap();
    assert!(open_for < feed_timeout, "the open feed was ended by the server, not by the client's timeout");
    assert!(!acknowledged.is_empty(), "some appends were acknowledged before the signal");
    let recorder = Recorder::new(Log::open(&data).unwrap()).unwrap();
    let record = recorder.record().unwrap();
    for n in &acknowledged {
        let person = minutebook_catalogue::PersonId::new(&format!("guest-{n}")).unwrap();
        assert!(record.people.contains_key(&person), "guest-{n} was acknowledged but is not in the log");
    }
}

#[test]
fn papers_are_stored_by_hash_attached_once_uploaded_and_checked_on_the_way_out() {
    let api = Api::at(Stage::InSession);
    let pdf = b"%PDF-1.4 invented handout for the panel".to_vec();
    let upload = |role: Role, media_type: &str, bytes: Vec<u8>| {
        let mut request = Request::post("/v1/papers").header(header::CONTENT_TYPE, media_type);
        if let Some(token) = api.token(role) {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        api.send(request.body(Body::from(bytes)).unwrap())
    };
    let (status, _, body) = upload(Role::Clerk, "application/pdf", pdf.clone());
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let hash = json(&body)["content_hash"].as_str().unwrap().to_owned();
    assert_eq!(hash, blake3::hash(&pdf).to_hex().as_str());
    let stored = api.state.data.join("papers").join(&hash);
    assert_eq!(std::fs::read(&stored).unwrap(), pdf);
    let (status, _, _) = upload(Role::Clerk, "application/pdf", pdf.clone());
    assert_eq!(status, StatusCode::OK, "the same bytes again are the same paper");
    let (status, content_type, body) = upload(Role::Clerk, "application/x-msdownload", b"MZ".to_vec());
    assert_eq!(
        (status, content_type.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "application/problem+json"),
        "{body}"
    );
    let (status, _, _) = upload(Role::Public, "application/pdf", pdf.clone());
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = upload(Role::Auditor, "application/pdf", pdf.clone());
    assert_eq!(status, StatusCode::FORBIDDEN);

    // Attach it; a paper that was never uploaded cannot be attached.
    let path = format!("/v1/meetings/{M1}/papers");
    let paper = |hash: &str| serde_json::json!({"reference": "B", "title": "Handout", "content_hash": hash, "size_bytes": pdf.len(), "media_type": "application/pdf", "item": 5});
    let missing = blake3::hash(b"never uploaded").to_hex().to_string();
    let problem = api.refused(
        &path,
        Role::Clerk,
        &[("if-match", api.etag(M1))],
        paper(&missing),
        StatusCode::UNPROCESSABLE_ENTITY,
    );
    assert!(problem["detail"].as_str().unwrap().contains("POST it to /v1/papers first"));
    let (status, _, body) = api.post(&path, Role::Clerk, &[("if-match", api.etag(M1))], paper(&hash));
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // The public reads a paper when it may read the event that attached it:
    // once the meeting's draft is published (the item is not exempt).
    let (status, _, _) = api.get(&format!("/v1/papers/{hash}"), Role::Public, "*/*");
    assert_eq!(status, StatusCode::NOT_FOUND, "a paper of minutes not yet published");
    let (status, _, _) = api.get(&format!("/v1/papers/{hash}"), Role::Auditor, "*/*");
    assert_eq!(status, StatusCode::OK);
    for (path, body) in [("close", serde_json::json!({"at": "20:00"})), ("draft", serde_json::json!({}))] {
        let (status, _, text) =
            api.post(&format!("/v1/meetings/{M1}/{path}"), Role::Clerk, &[("if-match", api.etag(M1))], body);
        assert_eq!(status, StatusCode::CREATED, "{path}: {text}");
    }

    // Download: the bytes and their media type; a damaged file is never served.
    let (status, content_type, body) = api.get(&format!("/v1/papers/{hash}"), Role::Public, "*/*");
    assert_eq!((status, content_type.as_str()), (StatusCode::OK, "application/pdf"));
    assert_eq!(body.as_bytes(), pdf.as_slice());
    std::fs::write(&stored, b"%PDF-1.4 tampered").unwrap();
    let (status, content_type, body) = api.get(&format!("/v1/papers/{hash}"), Role::Auditor, "*/*");
    assert_eq!((status, content_type.as_str()), (StatusCode::INTERNAL_SERVER_ERROR, "application/problem+json"));
    assert!(!body.contains("tampered") && !body.contains("does not match"), "no internal detail leaks: {body}");
    let (status, _, _) = api.get(&format!("/v1/papers/{missing}"), Role::Auditor, "*/*");
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[test]
fn an_admin_makes_and_revokes_tokens_and_no_one_else_can() {
    let api = Api::at(Stage::Registered);
    let (status, _, body) = api.post("/v1/tokens", Role::Admin, &[], serde_json::json!({"role": "auditor"}));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let made = json(&body);
    let token = made["token"].as_str().unwrap().to_owned();
    let request = |token: &str| {
        Request::get("/v1/bodies").header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
    };
    assert_eq!(api.send(request(&token)).0, StatusCode::OK);
    for role in [Role::Clerk, Role::Member, Role::Auditor] {
        let (status, _, _) = api.post("/v1/tokens", role, &[], serde_json::json!({"role": "admin"}));
        assert_eq!(status, StatusCode::FORBIDDEN, "{role:?}");
    }
    let (status, _, _) = api.post("/v1/tokens", Role::Admin, &[], serde_json::json!({"role": "member"}));
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a member's token names the member");
    let id = made["id"].as_str().unwrap();
    let mut revoke = Request::delete(format!("/v1/tokens/{id}"));
    revoke = revoke.header(header::AUTHORIZATION, format!("Bearer {}", api.token(Role::Admin).unwrap()));
    assert_eq!(api.send(revoke.body(Body::empty()).unwrap()).0, StatusCode::NO_CONTENT);
    assert_eq!(api.send(request(&token)).0, StatusCode::UNAUTHORIZED, "a revoked token is refused");
    // Only hashes are kept.
    let stored = std::fs::read_to_string(api.state.data.join("tokens.json")).unwrap();
    assert!(!stored.contains(&token));
}

#[test]
fn every_kind_of_command_can_be_posted() {
    let api = Api::at(Stage::InSession);
    let ok = |path: &str, body: serde_json::Value, meeting: Option<&str>| {
        let headers: Vec<(&str, String)> = meeting.map(|m| vec![("if-match", api.etag(m))]).unwrap_or_default();
        let (status, _, text) = api.post(path, Role::Clerk, &headers, body);
        assert_eq!(status, StatusCode::CREATED, "{path}: {text}");
        json(&text)
    };
    let m1 = Some(M1);
    ok(&format!("/v1/meetings/{M1}/departures"), serde_json::json!({"person": "cllr-yusuf", "at": "19:50"}), m1);
    ok(
        &format!("/v1/meetings/{M1}/whips"),
        serde_json::json!({"person": "cllr-patel", "item": 5, "party": "Independent Group", "nature": "No whip applied"}),
        m1,
    );
    ok(
        &format!("/v1/meetings/{M1}/presenters"),
        serde_json::json!({"item": 5, "person": "off-castellano", "description": "Director of Communities"}),
        m1,
    );
    ok(&format!("/v1/meetings/{M1}/exclusions"), serde_json::json!({"item": 5, "paragraph": 1}), m1);
    ok(
        &format!("/v1/meetings/{M1}/exempt-summaries"),
        serde_json::json!({"item": 5, "summary": "A staffing matter."}),
        m1,
    );
    ok(&format!("/v1/meetings/{M1}/exempt-releases"), serde_json::json!({"item": 5, "reason": "No longer exempt"}), m1);
    ok(&format!("/v1/meetings/{M1}/items/4/withdrawal"), serde_json::json!({"reason": "Deferred"}), m1);
    let action = ok(
        &format!("/v1/meetings/{M1}/actions"),
        serde_json::json!({"item": 5, "owner": "the Director", "owner_person": null, "text": "Report back.", "due": "2026-04-16"}),
        m1,
    );
    let seq = action["events"][0]["seq"].as_u64().unwrap();
    ok(&format!("/v1/actions/{seq}/progress"), serde_json::json!({"note": "Under way.", "meeting": null}), None);
    ok(&format!("/v1/actions/{seq}/closure"), serde_json::json!({"note": "Done.", "meeting": M1}), None);
    ok(
        "/v1/meetings",
        serde_json::json!({"meeting": M3, "body": "riverside-scrutiny", "date": "2026-05-28", "start": "18:30", "venue": "Council Chamber"}),
        None,
    );
    ok(
        &format!("/v1/meetings/{M3}/reschedule"),
        serde_json::json!({"date": "2026-06-04", "start": "14:00", "venue": "Council Chamber", "reason": "Clash"}),
        Some(M3),
    );
    ok(&format!("/v1/meetings/{M3}/cancel"), serde_json::json!({"reason": "No business"}), Some(M3));
    ok(
        "/v1/bodies/riverside-scrutiny/members/cllr-harcourt/role",
        serde_json::json!({"role": "ViceChair", "from": "2026-06-01"}),
        None,
    );
    ok("/v1/bodies/riverside-scrutiny/members/cllr-yusuf/leaving", serde_json::json!({"from": "2026-06-01"}), None);
    let key = key_of("cllr-okoro").public_key_base64();
    ok("/v1/people/cllr-okoro/keys/revocation", serde_json::json!({"public_key": key, "reason": "Replaced"}), None);
    let record = api.state.recorder.record().unwrap();
    let meeting = &record.meetings[&m(M1)];
    assert!(meeting.item(4).unwrap().withdrawn.is_some());
    assert_eq!(meeting.attendance_of(&p("cllr-yusuf")).unwrap().left_at, Some(time("19:50")));
    assert_eq!(record.meetings[&m(M3)].date, date("2026-06-04"));
    assert!(record.people[&p("cllr-okoro")].keys[0].revoked_at.is_some());
}

#[test]
fn the_openapi_document_names_only_paths_the_router_serves() {
    let api = Api::at(Stage::Registered);
    let (status, _, body) = api.get("/openapi.json", Role::Public, "application/json");
    assert_eq!(status, StatusCode::OK);
    let document = json(&body);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    assert_eq!(
        paths.values().map(|p| p.as_object().unwrap().len()).sum::<usize>(),
        minutebook::http::api::openapi::OPERATIONS.len()
    );
    for operation in minutebook::http::api::openapi::OPERATIONS {
        // Fill path parameters with something, and send no body: the
        // router must route it (the handler may then refuse it).
        let path = operation.path.replace("{seq}", "1").replace("{number}", "1").replace("{item}", "1");
        let path =
            path.split('/').map(|part| if part.starts_with('{') { "x" } else { part }).collect::<Vec<_>>().join("/");
        let method = operation.method.to_uppercase();
        let request = Request::builder()
            .method(method.as_str())
            .uri(if operation.path == "/v1/events/live" { "/healthz".to_owned() } else { path.clone() })
            .body(Body::empty())
            .unwrap();
        let (status, _, body) = api.send(request);
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert!(!(status == StatusCode::NOT_FOUND && body.contains("no such path")), "{method} {path} is not routed");
    }
}

#[test]
fn every_role_may_write_only_what_the_matrix_allows() {
    let api = Api::at(Stage::Registered);
    for operation in minutebook::http::api::openapi::OPERATIONS.iter().filter(|o| o.method != "get") {
        let path = operation.path.replace("{seq}", "1").replace("{number}", "1").replace("{item}", "1");
        let path =
            path.split('/').map(|part| if part.starts_with('{') { "x" } else { part }).collect::<Vec<_>>().join("/");
        let members_own = path.ends_with("/signatures") || path.ends_with("/keys");
        for role in [Role::Public, Role::Auditor, Role::Member, Role::Clerk, Role::Admin] {
            let before = api.snapshot();
            let mut request = Request::builder().method(operation.method.to_uppercase().as_str()).uri(&path);
            if let Some(token) = api.token(role) {
                request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
            }
            let (status, _, body) =
                api.send(request.header(header::CONTENT_TYPE, "application/json").body(Body::from("{}")).unwrap());
            let expected = match role {
                Role::Public => Some(StatusCode::UNAUTHORIZED),
                Role::Auditor => Some(StatusCode::FORBIDDEN),
                Role::Member if !members_own => Some(StatusCode::FORBIDDEN),
                _ => None,
            };
            match expected {
                Some(expected) => assert_eq!(status, expected, "{role:?} {} {path}: {body}", operation.method),
                None => assert!(
                    ![StatusCode::UNAUTHORIZED, StatusCode::INTERNAL_SERVER_ERROR].contains(&status),
                    "{role:?} {} {path}: {status} {body}",
                    operation.method
                ),
            }
            assert_eq!(
                api.snapshot(),
                before,
                "{role:?} {} {path} with an empty body changed the log",
                operation.method
            );
        }
    }
}

#[test]
fn no_read_shows_the_public_exempt_content_and_every_read_answers_every_role() {
    let api = Api::at(Stage::Signed);
    let exempt_point = {
        let events =
            api.state.recorder.log().read_stream(&m(M1).stream(), minutebook_log::StreamVersion(1), 1_000).unwrap();
        events.iter().rev().find(|e| e.envelope.event_type() == "point.recorded").unwrap().envelope.seq().0
    };
    // A correction and a revision-free correction of the exempt point: their
    // payloads carry its text too.
    let by_m2 = serde_json::json!({
        "target": exempt_point, "text": "The price was 6% below the estimate.", "by_meeting": M2, "by_item": 4,
        "reason": "Misreported",
    });
    let (status, _, body) =
        api.post(&format!("/v1/meetings/{M1}/corrections"), Role::Clerk, &[("if-match", api.etag(M1))], by_m2);
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let secrets = ["4% below", "6% below"];
    let mut entitled_saw_it = 0;
    for operation in minutebook::http::api::openapi::OPERATIONS.iter().filter(|o| o.method == "get") {
        if matches!(operation.path, "/v1/events/live" | "/v1/papers/{hash}") {
            continue; // a stream, and a paper: tested end to end
        }
        let path = operation
            .path
            .replace("{body}", "riverside-scrutiny")
            .replace("{meeting}", M1)
            .replace("{item}", "8")
            .replace("{seq}", &exempt_point.to_string())
            .replace("{number}", "396")
            .replace("{register}", "declarations")
            .replace("{person}", "cllr-okoro")
            .replace("{stream}", &format!("meeting:{M1}"));
        let path = match path.as_str() {
            "/v1/events" => "/v1/events?limit=1000".to_owned(),
            "/v1/proofs/inclusion" => "/v1/proofs/inclusion?seq=1".to_owned(),
            "/v1/proofs/consistency" => "/v1/proofs/consistency?from=1".to_owned(),
            "/v1/export" => format!("/v1/export?meeting={M1}"),
            other => other.to_owned(),
        };
        for role in [Role::Public, Role::Member, Role::Auditor, Role::Clerk, Role::Admin] {
            for accept in ["application/json", "text/markdown", "text/html"] {
                let (status, _, body) = api.get(&path, role, accept);
                assert!(
                    status == StatusCode::OK || status == StatusCode::NOT_FOUND,
                    "{role:?} GET {path}: {status} {body}"
                );
                let shows = secrets.iter().any(|secret| body.contains(secret));
                if role == Role::Public {
                    assert!(!shows, "the public read exempt content at GET {path} ({accept}): {body}");
                } else if shows {
                    entitled_saw_it += 1;
                }
            }
        }
    }
    assert!(entitled_saw_it > 0, "those entitled do read the exempt content somewhere");
}

#[test]
fn the_public_registers_hold_only_published_meetings_and_no_exempt_text() {
    let api = Api::at(Stage::InSession);
    let post = |path: &str, body: serde_json::Value| {
        let (status, _, text) =
            api.post(&format!("/v1/meetings/{M1}/{path}"), Role::Clerk, &[("if-match", api.etag(M1))], body);
        assert_eq!(status, StatusCode::CREATED, "{path}: {text}");
    };
    post("exclusions", serde_json::json!({"item": 5, "paragraph": 3}));
    let vote = serde_json::json!({"item": 5, "text": "That the secret tender be accepted.", "kind": "Agreed",
        "vote": {"kind": "recorded", "for": ["cllr-brennan", "cllr-okoro"], "against": [], "abstain": []}});
    post("decisions", vote);
    let register = |role: Role, name: &str| {
        let (status, _, body) =
            api.get(&format!("/v1/bodies/riverside-scrutiny/registers/{name}"), role, "application/json");
        assert_eq!(status, StatusCode::OK);
        json(&body)
    };
    // In session: the public's registers know nothing of the meeting yet.
    assert_eq!(register(Role::Public, "flagged-votes")["flagged_votes"], serde_json::json!([]));
    assert_eq!(register(Role::Public, "declarations")["declarations"], serde_json::json!({}));
    assert_eq!(register(Role::Auditor, "flagged-votes")["flagged_votes"][0]["member"], "cllr-brennan");
    let action = serde_json::json!({"item": 5, "owner": "the Director", "owner_person": null, "text": "Negotiate.", "due": null});
    let (_, _, body) =
        api.post(&format!("/v1/meetings/{M1}/actions"), Role::Clerk, &[("if-match", api.etag(M1))], action);
    let seq = json(&body)["events"][0]["seq"].as_u64().unwrap();
    let (status, _, _) = api.post(
        &format!("/v1/actions/{seq}/progress"),
        Role::Clerk,
        &[],
        serde_json::json!({"note": "Secret terms agreed.", "meeting": null}),
    );
    assert_eq!(status, StatusCode::CREATED);
    post("close", serde_json::json!({"at": "20:00"}));
    post("draft", serde_json::json!({}));
    let body_events =
        |role: Role| api.get("/v1/streams/body:riverside-scrutiny/events?limit=1000", role, "application/json").2;
    assert!(!body_events(Role::Public).contains("Secret terms"), "an exempt action's note is withheld from the public");
    assert!(body_events(Role::Auditor).contains("Secret terms"));
    let public = register(Role::Public, "flagged-votes");
    assert_eq!(
        public["flagged_votes"].as_array().unwrap().len(),
        0,
        "a flag on an exempt item tells of a declaration on it: withheld from the public"
    );
    let auditor = register(Role::Auditor, "flagged-votes");
    assert_eq!(auditor["flagged_votes"][0]["decision"], "That the secret tender be accepted.");
    assert_eq!(register(Role::Public, "attendance")["attendance"][0]["expected"], 1);
}

#[test]
fn the_pages_cookie_writes_only_beside_its_csrf_token() {
    let api = Api::at(Stage::InSession);
    let clerk = api.token(Role::Clerk).unwrap().to_owned();
    let point = || serde_json::json!({ "item": 1, "text": "A point the page sends." }).to_string();
    let (_, _, meeting) = api.get(&format!("/v1/meetings/{M1}"), Role::Clerk, "application/json");
    let etag = format!("\"{}\"", json(&meeting)["stream_version"]);
    let post = |csrf: Option<String>| {
        let mut request = Request::post(format!("/v1/meetings/{M1}/points"))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, format!("minutebook_token={clerk}"))
            .header(header::IF_MATCH, etag.clone());
        if let Some(csrf) = csrf {
            request = request.header("x-csrf-token", csrf);
        }
        api.send(request.body(Body::from(point())).unwrap())
    };
    let before = snapshot(api.state.recorder.log());
    // A form another site makes the browser send: the cookie alone is no one.
    let (status, _, body) = post(None);
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let (status, _, body) = post(Some("0123456789abcdef0123456789abcdef".to_owned()));
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("CSRF"), "{body}");
    assert_eq!(snapshot(api.state.recorder.log()), before, "a refused write changed the log");
    // The page's own script, with the token the page was given.
    let (status, _, body) = post(Some(minutebook::http::session::csrf_token(&clerk)));
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // Reads take the cookie as it is.
    let request = Request::get("/v1/meetings/{M1}/trail".replace("{M1}", M1))
        .header(header::COOKIE, format!("minutebook_token={clerk}"))
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = api.send(request);
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[test]
fn a_payload_that_fails_its_hash_is_never_served() {
    let api = Api::at(Stage::Published);
    let (status, _, _) = api.get("/v1/events?from=0", Role::Public, "application/json");
    assert_eq!(status, StatusCode::OK);
    // A byte of the first event's payload changes on disk under the
    // running server (its salt is the 16 bytes after the 60-byte header).
    let journal = api.state.data.join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    bytes[60 + 16 + 2] ^= 0x20;
    std::fs::write(&journal, &bytes).unwrap();
    let (status, headers, body) = api.get("/v1/events?from=0", Role::Public, "application/json");
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{body}");
    assert_eq!(headers, "application/problem+json");
    let problem = json(&body);
    assert_eq!(problem["type"], "/problems/corrupt-record", "{body}");
    // Other reads, which do not touch that payload, go on.
    let (status, _, _) = api.get("/healthz", Role::Public, "text/plain");
    assert_eq!(status, StatusCode::OK);
}

#[test]
fn every_rule_a_refusal_can_name_is_in_the_events_catalogue_and_the_document() {
    // The names are a contract (docs/EVENTS.md, "Every refusal names one
    // of these rules"): the table lists exactly the rules, and the API's
    // problem schema enumerates the same names.
    let events = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EVENTS.md")).unwrap();
    let table: Vec<&str> = events
        .lines()
        .skip_while(|line| !line.starts_with("Every refusal names one of these rules"))
        .filter_map(|line| line.strip_prefix("| `")?.split_once('`').map(|(name, _)| name))
        .collect();
    let names: Vec<&str> = minutebook::domain::Rule::ALL.iter().map(|rule| rule.name()).collect();
    assert_eq!(table, names, "docs/EVENTS.md's table of rules");
    let document = minutebook::http::api::openapi::document();
    let documented = &document["components"]["schemas"]["Problem"]["properties"]["rule"]["enum"];
    assert_eq!(documented, &serde_json::json!(names));
}
