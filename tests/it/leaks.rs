//! Exempt and unpublished content never reaches the public, on any channel.
//!
//! One record holds a unique marker in every free-text field of every
//! event type that can belong to an exempt item, on an exempt item of a
//! published (confirmed, signed, corrected) meeting, and in every text
//! field of a meeting whose draft is not published. Then everything the
//! public can ask for is asked for, without a token: every GET route of
//! the API with every value of its parameters (minutes in each format, now
//! and at several points in time, trails of every item, exports of every
//! scope), the live feed until it has sent every event, and every web page
//! reachable from the home page. No marker may appear, as text or as hex.
//! A clerk, asking the same, sees every marker: the test can fail.
//!
//! Beside it, `every_event_type_declares_what_it_is_about` holds the
//! visibility rule of every event type of the catalogue against
//! docs/EVENTS.md, so a new event type fails until its rule is written.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use minutebook::domain::*;
use minutebook::http::{router, AppState};
use minutebook::policy::tokens::{Role, TokenStore};
use minutebook_catalogue::*;
use minutebook_log::{Payload, Seq};
use tower::ServiceExt;

use crate::domain::*;
use crate::support::snapshot;

/// Most pages the crawl of the web site follows.
const CRAWL_PAGES_MAX: usize = 5_000;
/// How long the live feed may take to send every event.
const LIVE_FEED_TIMEOUT_MS: u64 = 20_000;

/// The markers planted: those the public must never read, and those it
/// must (a released exempt item, a public summary), so that the scan is
/// seen to reach the places the secrets would be.
#[derive(Default)]
struct Markers {
    secret: Vec<String>,
    public: Vec<String>,
    /// Secrets since redacted: gone for everyone.
    redacted: Vec<String>,
}

impl Markers {
    /// A marker the public must not read: `LEAK-<event type>-<field>-<where>`.
    fn secret(&mut self, event_type: &str, field: &str, place: &str) -> String {
        let marker = format!("LEAK-{event_type}-{field}-{place}");
        assert!(!self.secret.contains(&marker), "{marker} planted twice");
        self.secret.push(marker.clone());
        marker
    }
    /// The secret `marker` is redacted: no one reads it any more.
    fn redact(&mut self, marker: &str) {
        self.secret.retain(|secret| secret != marker);
        self.redacted.push(marker.to_owned());
    }
    fn public(&mut self, event_type: &str, field: &str) -> String {
        let marker = format!("PUBLIC-{event_type}-{field}");
        self.public.push(marker.clone());
        marker
    }
}

/// The record: the panel's first meeting published, with item 8 exempt,
/// item 7 exempt and later released, item 9 exempt and withdrawn; its
/// second meeting closed with its draft unpublished; a third rescheduled
/// and cancelled.
struct Fixture {
    world: World,
    markers: Markers,
    /// The paper files stored, by hex hash, with whether the public may
    /// download them.
    papers: Vec<(String, bool)>,
}

fn fixture() -> Fixture {
    let world = World::at(Stage::InSession);
    let mut markers = Markers::default();
    let mut papers = Vec::new();
    let run = |command: Command| world.run(command);
    let seq = |recorded: Recorded| recorded.outcome.events[0].seq;
    let (exempt, draft) = ("exempt", "draft");
    let paper = |markers: &mut Markers, papers: &mut Vec<(String, bool)>, place: &str, item: Option<u32>| {
        let bytes = format!("%PDF-1.4 {}", markers.secret("paper", "bytes", place)).into_bytes();
        let hash = blake3::hash(&bytes);
        let directory = world.path.join("papers");
        std::fs::create_dir_all(&directory).unwrap();
        std::fs::write(directory.join(hash.to_hex().as_str()), &bytes).unwrap();
        papers.push((hash.to_hex().to_string(), false));
        PaperAttached {
            reference: markers.secret("paper.attached", "reference", place),
            title: markers.secret("paper.attached", "title", place),
            content_hash: *hash.as_bytes(),
            size_bytes: bytes.len() as u64,
            media_type: "application/pdf".into(),
            item,
        }
    };

    // ---- meeting 1: published; item 8 exempt, everything on it marked ----
    for item in 6..=9 {
        take(&world, M1, item);
    }
    for (item, paragraph) in [(7, 1), (8, 3), (9, 3)] {
        run(Command::ExcludePublic { meeting: m(M1), exclusion: PublicExcluded { item, paragraph } });
    }
    let exempt_item = mark_item(&world, &mut markers, M1, 8, exempt, ("cllr-harcourt", "cllr-lindqvist"));
    let attached = paper(&mut markers, &mut papers, exempt, Some(8));
    run(Command::AttachPaper { meeting: m(M1), paper: attached });
    let struck_point = seq(point(&world, M1, 8, &markers.secret("point.recorded", "text-struck", exempt)));
    run(Command::RecordExemptSummary {
        meeting: m(M1),
        summary: ExemptSummaryRecorded { item: 8, summary: markers.public("exempt.summary_recorded", "summary") },
    });
    // Item 7 is released after publication: its content becomes the public's.
    point(&world, M1, 7, &markers.public("point.recorded", "text-released"));
    run(Command::WithdrawItem {
        meeting: m(M1),
        withdrawal: ItemWithdrawn { item: 9, reason: markers.secret("item.withdrawn", "reason", exempt) },
    });
    // A paper of a public item, which the public downloads once published.
    let public_paper = b"%PDF-1.4 the public's paper".to_vec();
    let public_hash = blake3::hash(&public_paper);
    std::fs::write(world.path.join("papers").join(public_hash.to_hex().as_str()), &public_paper).unwrap();
    papers.push((public_hash.to_hex().to_string(), true));
    run(Command::AttachPaper {
        meeting: m(M1),
        paper: PaperAttached {
            reference: "P".into(),
            title: markers.public("paper.attached", "title"),
            content_hash: *public_hash.as_bytes(),
            size_bytes: public_paper.len() as u64,
            media_type: "application/pdf".into(),
            item: Some(6),
        },
    });
    run(Command::CloseMeeting { meeting: m(M1), at: time("21:00") });
    run(Command::PublishDraft { meeting: m(M1) });
    let revise = |markers: &mut Markers, meeting: &str, change: Revision, field: &str, place: &str| {
        let reason = markers.secret("draft.revised", &format!("reason-{field}"), place);
        run(Command::ReviseDraft { meeting: m(meeting), revision: DraftRevised { change, reason } });
    };
    let text = markers.secret("draft.revised", "text-replace", exempt);
    revise(&mut markers, M1, Revision::ReplaceText { target: exempt_item.point, text }, "replace", exempt);
    let text = markers.secret("draft.revised", "text-add", exempt);
    revise(&mut markers, M1, Revision::AddPoint { item: 8, text }, "add", exempt);
    revise(&mut markers, M1, Revision::Strike { target: struck_point }, "strike", exempt);
    run(Command::ReleaseExempt {
        meeting: m(M1),
        release: ExemptReleased { item: 7, reason: markers.public("exempt.released", "reason") },
    });

    // ---- meeting 2: confirms meeting 1, then closes unpublished, marked throughout ----
    schedule(&world, M2, "2026-04-16");
    let attached = paper(&mut markers, &mut papers, draft, None);
    let draft_paper = seq(run(Command::AttachPaper { meeting: m(M2), paper: attached }));
    run(Command::RecordApologies {
        meeting: m(M2),
        apologies: ApologiesRecorded { person: p("cllr-yusuf"), substitute: None },
    });
    run(Command::OpenMeeting { meeting: m(M2), at: time("18:30") });
    attend(&world, M2, "cllr-patel", AttendAs::Member, true);
    for id in ["cllr-okoro", "cllr-brennan", "cllr-lindqvist", "mr-dunmore"] {
        attend(&world, M2, id, AttendAs::Member, false);
    }
    let guest = markers.secret("attendance.recorded", "description", draft);
    attend(&world, M2, "cllr-varga", AttendAs::Guest { description: guest }, false);
    let job_title = Some(markers.secret("attendance.recorded", "job_title", draft));
    attend(&world, M2, "off-rowe", AttendAs::Officer { job_title }, false);
    for item in 1..=4 {
        take(&world, M2, item);
    }
    run(Command::ConfirmMinutes { meeting: m(M1), by_meeting: m(M2), by_item: 4 });
    world.sign(M1, "cllr-patel").unwrap();
    run(Command::CorrectMinutes {
        meeting: m(M1),
        target: exempt_item.decision,
        text: markers.secret("minutes.corrected", "text", exempt),
        by_meeting: m(M2),
        by_item: 4,
        reason: markers.secret("minutes.corrected", "reason", exempt),
    });
    run(Command::ProgressAction(ActionProgressed {
        action: exempt_item.action,
        note: markers.secret("action.progressed", "note", exempt),
        meeting: Some(m(M2)),
    }));
    run(Command::CloseAction(ActionClosed {
        action: exempt_item.action,
        note: markers.secret("action.closed", "note", exempt),
        meeting: Some(m(M2)),
    }));
    let title = Some(markers.secret("item.taken", "title", draft));
    run(Command::TakeItem { meeting: m(M2), item: 5, title, kind: None });
    let draft_item = mark_item(&world, &mut markers, M2, 5, draft, ("cllr-brennan", "cllr-okoro"));
    let draft_action = draft_item.action;
    run(Command::ProgressAction(ActionProgressed {
        action: draft_action,
        note: markers.secret("action.progressed", "note", draft),
        meeting: None,
    }));
    run(Command::CloseAction(ActionClosed {
        action: draft_action,
        note: markers.secret("action.closed", "note", draft),
        meeting: None,
    }));
    take(&world, M2, 6);
    run(Command::WithdrawItem {
        meeting: m(M2),
        withdrawal: ItemWithdrawn { item: 6, reason: markers.secret("item.withdrawn", "reason", draft) },
    });
    take(&world, M2, 7);
    run(Command::ExcludePublic { meeting: m(M2), exclusion: PublicExcluded { item: 7, paragraph: 1 } });
    run(Command::RecordExemptSummary {
        meeting: m(M2),
        summary: ExemptSummaryRecorded {
            item: 7,
            summary: markers.secret("exempt.summary_recorded", "summary", draft),
        },
    });
    run(Command::ReleaseExempt {
        meeting: m(M2),
        release: ExemptReleased { item: 7, reason: markers.secret("exempt.released", "reason", draft) },
    });
    run(Command::RecordDeparture {
        meeting: m(M2),
        departure: DepartureRecorded { person: p("mr-dunmore"), at: time("19:30") },
    });
    run(Command::CloseMeeting { meeting: m(M2), at: time("19:45") });
    let text = markers.secret("draft.revised", "text-replace", draft);
    revise(&mut markers, M2, Revision::ReplaceText { target: draft_item.point, text }, "replace", draft);
    let text = markers.secret("draft.revised", "text-add", draft);
    revise(&mut markers, M2, Revision::AddPoint { item: 5, text }, "add", draft);
    revise(&mut markers, M2, Revision::Strike { target: draft_item.decision }, "strike", draft);

    // Redactions keep what they do not redact in their residue: a whip's
    // party, a paper's reference. They are as secret as what they redact.
    for target in [exempt_item.whip, draft_paper] {
        run(Command::Redact { target, legal_basis: "UK GDPR Art. 17".into() });
    }
    markers.redact("LEAK-whip.declared-nature-exempt");
    markers.redact("LEAK-paper.attached-title-draft");

    // ---- the registers, and a third meeting moved and cancelled ----
    run(Command::ChangeMemberRole {
        body: body_id(),
        change: MemberRoleChanged { person: p("cllr-harcourt"), role: MemberRole::ViceChair, from: date("2026-06-01") },
    });
    run(Command::RecordMemberLeft {
        body: body_id(),
        left: MemberLeft { person: p("cllr-yusuf"), from: date("2026-06-01") },
    });
    let okoro = key_of("cllr-okoro");
    run(Command::RevokeSigningKey(SigningKeyRevoked {
        person: p("cllr-okoro"),
        public_key: okoro.public_key(),
        reason: "Replaced".into(),
    }));
    schedule(&world, M3, "2026-05-28");
    run(Command::RescheduleMeeting {
        meeting: m(M3),
        change: MeetingRescheduled {
            date: date("2026-06-04"),
            start: time("18:30"),
            venue: "Council Chamber".into(),
            reason: markers.public("meeting.rescheduled", "reason"),
        },
    });
    run(Command::CancelMeeting { meeting: m(M3), reason: markers.public("meeting.cancelled", "reason") });
    Fixture { world, markers, papers }
}

/// The events a marked item's content was recorded by.
struct MarkedItem {
    whip: Seq,
    point: Seq,
    decision: Seq,
    action: Seq,
}

/// Records on `item` of `meeting` a declaration of interest (by the first
/// member) and of a whip (by the second), a presenter, a point, a decision
/// and an action, every text of them a secret marker.
fn mark_item(
    world: &World,
    markers: &mut Markers,
    meeting: &str,
    item: u32,
    place: &str,
    (declarer, whipped): (&str, &str),
) -> MarkedItem {
    let seq = |recorded: Recorded| recorded.outcome.events[0].seq;
    world.run(Command::DeclareInterest {
        meeting: m(meeting),
        declaration: InterestDeclared {
            person: p(declarer),
            item,
            kind: InterestKind::OtherRegistrable,
            nature: markers.secret("interest.declared", "nature", place),
            withdrew: false,
            dispensation: Some(markers.secret("interest.declared", "dispensation", place)),
        },
    });
    let whip = seq(world.run(Command::DeclareWhip {
        meeting: m(meeting),
        whip: WhipDeclared {
            person: p(whipped),
            item,
            party: markers.secret("whip.declared", "party", place),
            nature: markers.secret("whip.declared", "nature", place),
        },
    }));
    world.run(Command::RecordPresenter {
        meeting: m(meeting),
        presenter: PresenterRecorded {
            item,
            person: p("off-castellano"),
            description: markers.secret("presenter.recorded", "description", place),
        },
    });
    let point = seq(point(world, meeting, item, &markers.secret("point.recorded", "text", place)));
    let decision = seq(world.run(Command::RecordDecision {
        meeting: m(meeting),
        decision: decision(item, &markers.secret("decision.recorded", "text", place), Vote::None),
    }));
    let action = seq(world.run(Command::AgreeAction {
        meeting: m(meeting),
        action: ActionAgreed {
            item,
            owner: markers.secret("action.agreed", "owner", place),
            owner_person: None,
            text: markers.secret("action.agreed", "text", place),
            due: Some(date("2026-05-01")),
        },
    }));
    MarkedItem { whip, point, decision, action }
}

// ---- asking as the public and as a clerk ----

/// Everything one audience was answered, by what it asked.
#[derive(Default)]
struct Scan {
    answers: BTreeMap<String, Vec<u8>>,
    routes: BTreeSet<&'static str>,
    /// Requests made, web pages among them.
    requests: usize,
    pages: usize,
    bytes: u64,
}

impl Scan {
    fn keep(&mut self, what: String, body: Vec<u8>) {
        self.requests += 1;
        self.bytes += body.len() as u64;
        self.answers.insert(what, body);
    }
    /// The markers found, each with where.
    fn found<'m>(&self, markers: &'m [String]) -> BTreeMap<&'m str, Vec<String>> {
        let mut found: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (what, body) in &self.answers {
            let text = String::from_utf8_lossy(body);
            for marker in markers {
                if text.contains(marker.as_str()) || text.contains(&minutebook_log::hex(marker.as_bytes())) {
                    found.entry(marker).or_default().push(what.clone());
                }
            }
        }
        found
    }
}

struct Client {
    state: Arc<AppState>,
    token: Option<String>,
}

impl Client {
    async fn get(&self, path: &str, accept: &str) -> (StatusCode, String, Vec<u8>) {
        let mut request = Request::get(path).header(header::ACCEPT, accept);
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = router(self.state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        let content_type =
            response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        (status, content_type, response.into_body().collect().await.unwrap().to_bytes().to_vec())
    }

    /// GETs `path`, which must answer without a server error, and keeps it.
    async fn scan(&self, scan: &mut Scan, path: &str, accept: &str) -> (String, Vec<u8>) {
        let (status, content_type, body) = self.get(path, accept).await;
        assert!(!status.is_server_error(), "GET {path} ({accept}): {status} {}", String::from_utf8_lossy(&body));
        scan.keep(format!("GET {path} ({accept}) {status}"), body.clone());
        (content_type, body)
    }

    /// The live feed from position 0, read until it has sent event `last`.
    async fn live(&self, scan: &mut Scan, last: u64) {
        let mut request = Request::get("/v1/events/live?from=0");
        if let Some(token) = &self.token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let response = router(self.state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let mut body = response.into_body();
        let mut sent = Vec::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_millis(LIVE_FEED_TIMEOUT_MS);
        let done = |sent: &[u8]| String::from_utf8_lossy(sent).contains(&format!("\nid: {last}\n"));
        while !done(&sent) {
            let frame = tokio::time::timeout_at(deadline, body.frame()).await;
            let frame = frame.expect("the live feed sends every event in time").expect("the feed goes on").unwrap();
            if let Ok(data) = frame.into_data() {
                sent.extend_from_slice(&data);
            }
        }
        scan.keep("GET /v1/events/live?from=0".to_owned(), sent);
    }
}

/// The values each path parameter of the API takes in the scan: every
/// one the record holds, and one it does not.
fn parameter_values(state: &AppState) -> BTreeMap<&'static str, Vec<String>> {
    let record = state.recorder.record().unwrap();
    let log = state.recorder.log();
    let len = log.len();
    let streams: BTreeSet<String> =
        log.read(Seq(0), len as usize).unwrap().iter().map(|e| e.envelope.stream().to_owned()).collect();
    let numbers: Vec<String> = record
        .meetings
        .values()
        .flat_map(|m| m.items.iter().filter_map(|i| i.minute))
        .map(|n| n.to_string())
        .chain(["1".to_owned()])
        .collect();
    let papers: Vec<String> = record
        .meetings
        .values()
        .flat_map(|m| m.papers.iter().map(|p| minutebook_log::hex(&p.paper.content_hash)))
        .collect();
    let mut values = BTreeMap::new();
    values.insert("body", record.bodies.keys().map(|b| b.to_string()).chain(["no-such-body".into()]).collect());
    values.insert("person", record.people.keys().map(|p| p.to_string()).collect());
    values.insert("meeting", record.meetings.keys().map(|m| m.to_string()).collect());
    values.insert("item", (1..=10).map(|n| n.to_string()).collect());
    values.insert("stream", streams.into_iter().collect());
    values.insert("seq", (0..len).map(|n| n.to_string()).collect());
    values.insert("register", ["attendance", "declarations", "flagged-votes", "inquorate"].map(String::from).to_vec());
    values.insert("number", numbers);
    values.insert("hash", papers);
    values
}

/// Every path of a route template, with every value of its parameters.
fn expand(template: &str, values: &BTreeMap<&'static str, Vec<String>>) -> Vec<String> {
    let mut paths = vec![String::new()];
    for part in template.split('/').skip(1) {
        let choices: Vec<String> = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => values
                .get(name)
                .unwrap_or_else(|| panic!("the leak scan has no values for {{{name}}} of {template}: add them"))
                .clone(),
            None => vec![part.to_owned()],
        };
        paths = paths.iter().flat_map(|path| choices.iter().map(move |choice| format!("{path}/{choice}"))).collect();
    }
    paths
}

/// The queries each route is asked with, beside none.
fn queries(template: &str, values: &BTreeMap<&'static str, Vec<String>>, len: u64) -> Vec<String> {
    let positions = [1, len / 4, len / 2, 3 * len / 4, len - 3, len - 1, len];
    match template {
        "/v1/events" => {
            (0..len).step_by(40).map(|from| format!("?from={from}&limit=40")).chain(["?limit=1000".into()]).collect()
        }
        "/v1/streams/{stream}/events" => vec!["?limit=1000".into(), "?from=2&limit=3".into()],
        "/v1/meetings/{meeting}/minutes" => positions
            .iter()
            .map(|at| format!("?at={at}"))
            .chain(["?at=2026-04-16".into(), "?at=2026-03-05T20:00:00Z".into()])
            .collect(),
        "/v1/meetings/{meeting}/trail" => values["item"].iter().map(|item| format!("?item={item}")).collect(),
        "/v1/export" => {
            let mut scopes: Vec<String> = values["meeting"].iter().map(|m| format!("?meeting={m}")).collect();
            scopes.extend(values["body"].iter().map(|b| format!("?body={b}")));
            scopes.push("?all=true".into());
            scopes.push("?all=true&since=1".into());
            scopes
        }
        "/v1/proofs/inclusion" => vec![format!("?seq={}", len / 2)],
        "/v1/proofs/consistency" => vec!["?from=1".into()],
        "/v1/checkpoints" => vec!["?from=0&limit=1000".into()],
        _ => Vec::new(),
    }
}

/// Asks every GET route of the API, every value of its parameters, with
/// and without its queries; the live feed until it has sent everything.
async fn scan_api(client: &Client, scan: &mut Scan) {
    let values = parameter_values(&client.state);
    let len = client.state.recorder.log().len();
    for operation in minutebook::http::api::openapi::OPERATIONS.iter().filter(|o| o.method == "get") {
        scan.routes.insert(operation.path);
        if operation.path == "/v1/events/live" {
            client.live(scan, len - 1).await;
            continue;
        }
        let accepts: &[&str] = if operation.path == "/v1/meetings/{meeting}/minutes" {
            &["application/json", "text/markdown", "text/html"]
        } else {
            &["application/json"]
        };
        let queries = queries(operation.path, &values, len);
        for path in expand(operation.path, &values) {
            // The export needs its scope; the proofs their sizes.
            let bare = !matches!(operation.path, "/v1/export" | "/v1/proofs/inclusion" | "/v1/proofs/consistency");
            let asked = bare.then(|| path.clone()).into_iter().chain(queries.iter().map(|q| format!("{path}{q}")));
            for asked in asked.collect::<Vec<_>>() {
                for accept in accepts {
                    client.scan(scan, &asked, accept).await;
                }
            }
        }
    }
}

/// Follows every same-origin link, from the home page on.
async fn crawl(client: &Client, scan: &mut Scan) {
    let mut seen = BTreeSet::from(["/".to_owned()]);
    let mut queue = VecDeque::from(["/".to_owned()]);
    while let Some(path) = queue.pop_front() {
        scan.pages += 1;
        assert!(scan.pages <= CRAWL_PAGES_MAX, "the site has more than {CRAWL_PAGES_MAX} pages");
        let (content_type, body) = client.scan(scan, &path, "text/html").await;
        if !content_type.starts_with("text/html") {
            continue;
        }
        for link in links(&String::from_utf8_lossy(&body)) {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
}

/// The same-origin targets of a page's links, scripts and GET forms.
fn links(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\"", "action=\""] {
        for (at, _) in html.match_indices(attribute) {
            let rest = &html[at + attribute.len()..];
            let Some(end) = rest.find('"') else { continue };
            let link = rest[..end].replace("&amp;", "&");
            let link = link.split('#').next().unwrap_or_default();
            if link.starts_with('/') && !link.starts_with("//") && !link.is_empty() {
                found.push(link.to_owned());
            }
        }
    }
    found
}

fn scan_everything(client: &Client) -> Scan {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    runtime.block_on(async {
        let mut scan = Scan::default();
        scan_api(client, &mut scan).await;
        crawl(client, &mut scan).await;
        scan
    })
}

#[test]
fn no_public_channel_shows_exempt_or_unpublished_content() {
    let Fixture { world, markers, papers } = fixture();
    let data = world.path.clone();
    let tokens = TokenStore::open(&data).unwrap();
    let clerk = tokens.create(Role::Clerk, Some("off-rowe")).unwrap().0;
    let state = Arc::new(AppState::new(world.recorder, tokens, data).unwrap());
    let before = snapshot(state.recorder.log());

    // Every event type of the catalogue is in the record scanned.
    let events = state.recorder.log().read(Seq(0), 10_000).unwrap();
    let types: BTreeSet<&str> = events.iter().map(|e| e.envelope.event_type()).collect();
    for (event_type, _) in CATALOGUE {
        assert!(types.contains(event_type), "the leak test records no {event_type}: add one, with its text marked");
    }

    let public = Client { state: state.clone(), token: None };
    let scan = scan_everything(&public);
    let all: Vec<String> = markers.secret.iter().chain(&markers.redacted).cloned().collect();
    let leaks = scan.found(&all);
    assert!(leaks.is_empty(), "the public read what it may not: {leaks:#?}");
    let reached = scan.found(&markers.public);
    for marker in &markers.public {
        assert!(reached.contains_key(marker.as_str()), "the public does not read {marker}, which is its");
    }
    let get = |client: &Client, path: &str| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(client.get(path, "*/*")).0
    };
    for (hash, public_may) in &papers {
        let status = get(&public, &format!("/v1/papers/{hash}"));
        assert_eq!(status == StatusCode::OK, *public_may, "the public downloading paper {hash}: {status}");
    }

    // Those entitled read every marker, on the same channels: so the
    // markers are where the public would have read them.
    let entitled = Client { state: state.clone(), token: Some(clerk) };
    let entitled_scan = scan_everything(&entitled);
    let seen = entitled_scan.found(&markers.secret);
    let unseen: Vec<_> = markers.secret.iter().filter(|m| !seen.contains_key(m.as_str())).collect();
    assert!(unseen.is_empty(), "a clerk does not read {unseen:?}: the test planted them nowhere it scans");
    let redacted = entitled_scan.found(&markers.redacted);
    assert!(redacted.is_empty(), "a redacted text is read: {redacted:#?}");
    for channel in [
        "GET /v1/events?",
        "GET /v1/streams/meeting:",
        "GET /v1/events/live",
        "GET /v1/export?meeting=",
        "GET /v1/meetings/rcsp-2026-03-05/minutes (application/json",
        "GET /v1/meetings/rcsp-2026-03-05/minutes (text/markdown",
        "GET /v1/meetings/rcsp-2026-03-05/minutes?at=",
        "GET /v1/meetings/rcsp-2026-03-05/trail",
        "GET /v1/bodies/riverside-scrutiny/registers/declarations",
        "GET /meetings/rcsp-2026-03-05 ",
        "GET /meetings/rcsp-2026-03-05?at=",
        "GET /meetings/rcsp-2026-03-05/trail",
        "GET /people/cllr-harcourt",
    ] {
        let shows = |scan: &Scan| {
            scan.answers.iter().any(|(what, body)| {
                what.starts_with(channel) && {
                    let text = String::from_utf8_lossy(body);
                    markers.secret.iter().any(|m| text.contains(m.as_str()))
                }
            })
        };
        assert!(shows(&entitled_scan), "a clerk reads no marker on {channel}: the scan does not test it");
    }
    for (hash, _) in &papers {
        assert_eq!(get(&entitled, &format!("/v1/papers/{hash}")), StatusCode::OK);
    }
    assert_eq!(snapshot(state.recorder.log()), before, "reading changed the log");
    let routes = minutebook::http::api::openapi::OPERATIONS.iter().filter(|o| o.method == "get").count();
    assert_eq!(scan.routes.len(), routes, "every GET route is scanned");
    eprintln!(
        "leak scan: {} secret markers ({} redacted since) and {} public ones over {} event types; the public: {} GET routes in {} requests, the live feed, {} web pages, {} bytes in all; the clerk: {} requests, {} bytes",
        markers.secret.len() + markers.redacted.len(),
        markers.redacted.len(),
        markers.public.len(),
        types.len(),
        scan.routes.len(),
        scan.requests - scan.pages - 1,
        scan.pages,
        scan.bytes,
        entitled_scan.requests,
        entitled_scan.bytes,
    );
}

/// Every event type's part of the record, as its subject declares it for
/// the events of the leak test's record, against the rule docs/EVENTS.md
/// states under the type's heading ("- **The public reads it:** ...").
#[test]
fn every_event_type_declares_what_it_is_about() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/EVENTS.md")).unwrap();
    let documented: BTreeMap<&str, &str> = CATALOGUE
        .iter()
        .map(|(event_type, version)| {
            let heading = format!("### `{event_type}` (schema version {version})");
            let section = docs.split(&heading).nth(1).unwrap_or_else(|| panic!("docs/EVENTS.md lacks {heading}"));
            let section = section.split("\n### ").next().unwrap();
            let rule = section
                .lines()
                .find_map(|line| line.strip_prefix("- **The public reads it:** "))
                .unwrap_or_else(|| panic!("docs/EVENTS.md does not say when the public reads {event_type}"));
            (*event_type, rule)
        })
        .collect();
    let rule_words = |part: Part| match part {
        Part::Register => "at once (a register).",
        Part::Notice => "at once (the meeting's notice).",
        Part::Heading => "once the meeting's draft is published, exempt items included (the minutes' frame).",
        Part::Content => {
            "once the meeting's draft is published, unless it belongs to an exempt item not yet released (content)."
        }
    };
    let mut parts: BTreeMap<&str, Part> = BTreeMap::new();
    let fixture = fixture();
    let log = fixture.world.recorder.log();
    for event in log.read(Seq(0), 10_000).unwrap() {
        if let Payload::Present { bytes, .. } = &event.payload {
            let envelope = &event.envelope;
            let decoded = DomainEvent::decode(envelope.event_type(), envelope.schema_version(), bytes).unwrap();
            let part = decoded.subject().part;
            let event_type = decoded.event_type();
            // A redaction is about what it redacts.
            if event_type != "payload.redacted" {
                assert_eq!(*parts.entry(event_type).or_insert(part), part, "{event_type} is of one part");
            }
        }
    }
    for (event_type, rule) in &documented {
        let expected = match *event_type {
            "payload.redacted" => "as the event it redacts: its residue carries that event's text.",
            _ => rule_words(*parts.get(event_type).unwrap_or_else(|| panic!("no {event_type} was recorded"))),
        };
        assert_eq!(*rule, expected, "docs/EVENTS.md, {event_type}");
    }
    // A redaction of exempt content is as secret as what it redacts.
    let redaction = fixture.world.last_seq(&m(M1).stream(), "payload.redacted");
    let redaction = log.event(redaction).unwrap().unwrap();
    let Payload::Present { bytes, .. } = &redaction.payload else { panic!("the redaction is present") };
    let subject = DomainEvent::decode("payload.redacted", 1, bytes).unwrap().subject();
    assert_eq!((subject.part, subject.item), (Part::Content, Some(8)), "the redaction of the exempt whip");
}
