//! The JSON API under `/v1/`: reads of the record and its projections,
//! the log's checkpoints and proofs, and the commands (`commands`), with
//! the caller's role deciding what each read shows. docs/API.md lists every
//! path and the role matrix.
//!
//! Architecture Invariant: this module and `web` are siblings that share
//! only what `http` holds (state, session, problems, transport) and the
//! access policy; neither imports the other (checked by `.ci/modules`).

pub mod commands;
pub mod openapi;
pub mod papers;
pub mod wire;

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json, Router};
use minutebook_catalogue::{BodyId, MeetingId};
use minutebook_log::{merkle, Event, Payload, Seq};
use minutebook_projections::record::Record;
use minutebook_projections::time::{minutes_record_at, At, MinutesSources};
use minutebook_projections::view::{self, Audience};
use minutebook_projections::{registers, render};
use schemars::JsonSchema;
use serde::Deserialize;
use wire::responses as answer;

use self::wire::json;

use super::point_in_time;
use super::problem::{blocking, ApiError, ApiResult};
use super::state::{AppState, RENDERED_MINUTES_MAX};
use crate::policy::tokens::{Caller, Role};
use crate::policy::views::event_view;
use crate::policy::{reads, visibility};

/// Every route of the API, without the layers `http::router` puts around
/// them (papers have their own time limit: see `papers::routes`), from
/// the one table of operations (`openapi::OPERATIONS`).
pub fn routes() -> Router<Arc<AppState>> {
    openapi::routes(false)
}

/// Most events one page of `/v1/events` returns.
pub const PAGE_EVENTS_MAX: usize = 1_000;

/// How long a live feed waits for new events before checking whether the
/// server is shutting down (and sending a keep-alive).
pub const LIVE_WAIT_MS: u64 = 1_000;
/// Most events one step of a live feed sends.
pub const LIVE_BATCH_EVENTS: usize = 100;

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
        let bodies = record
            .bodies
            .values()
            .map(|b| answer::BodySummary {
                id: b.id.to_string(),
                name: b.name.clone(),
                kind: b.kind.into(),
                timezone: b.timezone.clone(),
                quorum: b.quorum,
            })
            .collect();
        Ok(json(answer::Bodies { bodies }))
    })
    .await
}

async fn body(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> ApiResult<Json<serde_json::Value>> {
    let id = body_id(&id)?;
    with_record(&state, move |record| {
        let body = record.bodies.get(&id).ok_or_else(|| ApiError::not_found(format!("no body {id} is registered")))?;
        let members = body
            .tenures
            .iter()
            .map(|t| answer::Member {
                person: t.person.to_string(),
                name: view::name_of(record, &t.person),
                role: t.role.title().to_owned(),
                from: t.from.to_string(),
                until: t.until.map(|d| d.to_string()),
            })
            .collect();
        Ok(json(answer::Body {
            id: body.id.to_string(),
            name: body.name.clone(),
            kind: body.kind.into(),
            timezone: body.timezone.clone(),
            quorum: body.quorum,
            next_minute: body.next_minute,
            members,
        }))
    })
    .await
}

fn known_body<'r>(record: &'r Record, id: &BodyId) -> ApiResult<&'r minutebook_projections::record::Body> {
    record.bodies.get(id).ok_or_else(|| ApiError::not_found(format!("no body {id} is registered")))
}

fn person_answer(record: &Record, p: &minutebook_projections::record::Person) -> answer::Person {
    let keys = p
        .keys
        .iter()
        .map(|k| answer::Key {
            public_key: minutebook_log::hex(&k.public_key),
            registered_at: k.registered_at.0,
            revoked_at: k.revoked_at.map(|s| s.0),
        })
        .collect();
    let memberships = record
        .bodies
        .values()
        .flat_map(|b| {
            b.tenures.iter().filter(|t| t.person == p.id).map(move |t| answer::Membership {
                body: b.id.to_string(),
                role: t.role.title().to_owned(),
                from: t.from.to_string(),
                until: t.until.map(|d| d.to_string()),
            })
        })
        .collect();
    answer::Person {
        id: p.id.to_string(),
        name: p.name.clone(),
        title: p.title.clone(),
        organisation: p.organisation.clone(),
        job_title: p.job_title.clone(),
        display_name: p.display_name(),
        redacted: p.redacted.clone(),
        keys,
        memberships,
    }
}

async fn people(State(state): State<Arc<AppState>>) -> ApiResult<Json<serde_json::Value>> {
    with_record(&state, |record| {
        Ok(json(answer::People { people: record.people.values().map(|p| person_answer(record, p)).collect() }))
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
        Ok(json(person_answer(record, person)))
    })
    .await
}

async fn meeting(State(state): State<Arc<AppState>>, UrlPath(id): UrlPath<String>) -> ApiResult<Response> {
    let id = meeting_id(&id)?;
    with_record(&state, move |record| {
        let meeting = known_meeting(record, &id)?;
        let body = answer::Meeting {
            id: meeting.id.to_string(),
            body: meeting.body.to_string(),
            date: meeting.date.to_string(),
            start: meeting.start.to_string(),
            venue: meeting.venue.clone(),
            status: view::status(meeting),
            banner: view::status(meeting).banner().to_owned(),
            agenda: meeting
                .agenda
                .iter()
                .map(|a| answer::AgendaLine {
                    number: a.number,
                    title: a.title.clone(),
                    kind: a.kind.name().to_owned(),
                })
                .collect(),
            stream_version: record.stream_version(&id.stream()).0,
        };
        let mut response = json(body).into_response();
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
        let declarations = minutes.declarations.iter().filter(|d| d.item == item).collect();
        Ok(json(answer::Item { meeting: id.to_string(), item: found, declarations }))
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
        Ok(json(answer::StreamEvents { stream, events, next }))
    })
    .await
}

#[derive(Deserialize, JsonSchema)]
struct CheckpointQuery {
    /// The least tree size.
    from: Option<u64>,
    /// The greatest tree size: the log's size unless given.
    to: Option<u64>,
    #[schemars(range(min = 1, max = PAGE_EVENTS_MAX))]
    limit: Option<usize>,
}

/// Most events an export over HTTP carries: a bundle is built in memory
/// (about 9 KB an event as a tar), and anyone may ask for one.
const HTTP_EXPORT_EVENTS_MAX: u64 = 50_000;
/// When a client refused for want of capacity is told to try again, in seconds.
pub const RETRY_AFTER_BUSY_SECONDS: u64 = 5;

#[derive(Deserialize, JsonSchema)]
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
        let checkpoints = notes
            .iter()
            .map(|c| answer::Checkpoint { tree_size: c.checkpoint.tree_size, note: c.note.clone() })
            .collect();
        Ok(json(answer::Checkpoints { checkpoints, next }))
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
        Ok(json(answer::BodyMeetings { meetings: registers::body_meetings(record, &id) }))
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
        Ok(json(answer::Actions { actions: reads::actions(record, &id) }))
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
            "attendance" => answer::Register::Attendance { attendance: reads::attendance(record, &id, public) },
            "declarations" => answer::Register::Declarations { declarations: reads::declarations(record, &id, public) },
            "flagged-votes" => {
                answer::Register::FlaggedVotes { flagged_votes: reads::flagged_votes(record, &id, public) }
            }
            "inquorate" => answer::Register::Inquorate { inquorate: reads::inquorate(record, &id, public) },
            other => {
                return Err(ApiError::not_found(format!(
                    "no register {other:?}: there are attendance, declarations, flagged-votes and inquorate"
                )))
            }
        };
        Ok(json(value))
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
        Ok(json(answer::MinuteFound { body: id.to_string(), minute: number, meeting: meeting.to_string(), item }))
    })
    .await
}

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
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
        Ok(json(answer::Trail { meeting: id.to_string(), trail: entries }))
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

#[derive(Deserialize, JsonSchema)]
struct PageQuery {
    /// The position (for a stream, the stream version) to read from.
    from: Option<u64>,
    /// How many events at most: 100 unless given.
    #[schemars(range(min = 1, max = PAGE_EVENTS_MAX))]
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
        Ok(json(answer::Events { events, next }))
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
    body: Result<Json<wire::requests::NewToken>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    admin_only(&caller)?;
    let Json(new) = body.map_err(commands::json_rejection)?;
    let role = Role::parse(&new.role).map_err(|error| ApiError::invalid(error.to_string()))?;
    if let Some(person) = &new.person {
        minutebook_catalogue::PersonId::new(person).map_err(ApiError::invalid)?;
    }
    if role == Role::Member && new.person.is_none() {
        return Err(ApiError::invalid("a member's token must name the member"));
    }
    let (token, record) =
        blocking(move || state.tokens.create(role, new.person.as_deref()).map_err(ApiError::internal)).await?;
    let body = answer::Token { token, id: record.id, role: role.name().to_owned(), person: record.person };
    Ok((StatusCode::CREATED, json(body)).into_response())
}

async fn revoke_token(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> ApiResult<StatusCode> {
    admin_only(&caller)?;
    blocking(move || state.tokens.revoke(&id).map_err(|error| ApiError::not_found(error.to_string()))).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, JsonSchema)]
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

#[derive(Deserialize, JsonSchema)]
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
        Ok(json(answer::Inclusion {
            leaf_index: q.seq,
            tree_size: size,
            event_hash: event.hash.to_hex(),
            leaf_hash: merkle::leaf_hash(&event.hash).to_hex(),
            root: root.to_hex(),
            proof: proof.iter().map(|h| h.to_hex()).collect(),
            checkpoint,
        }))
    })
    .await
}

#[derive(Deserialize, JsonSchema)]
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
        Ok(json(answer::Consistency {
            old_size: q.from,
            new_size: size,
            old_root: old_root.to_hex(),
            new_root: new_root.to_hex(),
            proof: proof.iter().map(|h| h.to_hex()).collect(),
        }))
    })
    .await
}
