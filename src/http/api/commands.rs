//! Commands over HTTP: a POST on the resource a command changes. The body
//! is JSON in the shapes below (wire types, converted by hand into the
//! domain's commands); the rules decide; the response says where the
//! events landed.
//!
//! Contract: a command on a meeting needs `If-Match` with the meeting
//! stream's version from an `ETag` (428 without it, 412 when stale); an
//! `Idempotency-Key` makes a retry return the first result and append
//! nothing; a refusal by the rules is 409 (422 when the content itself is
//! wrong: an unknown person, a bad date); nothing is appended on any error.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use minutebook_catalogue::PersonId;

use super::meeting_id;
use super::wire::requests as wire;
use super::wire::responses::{Landed, Recorded};
use crate::domain::{Actor, Command, CommandError, Conditions, Rule};
use crate::http::idempotency::{Reply, IDEMPOTENCY_KEY_BYTES_MAX};
use crate::http::problem::{blocking, ApiError, ApiResult};
use crate::http::state::AppState;
use crate::policy::tokens::Caller;

pub(super) fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    let kind = match status {
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported-media-type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        StatusCode::PAYLOAD_TOO_LARGE => "too-large",
        _ => "malformed",
    };
    ApiError::new(status, kind, rejection.body_text())
}

/// Runs a command with the request's conditions and answers for it.
async fn run(
    state: Arc<AppState>,
    caller: Caller,
    headers: HeaderMap,
    meeting_stream: Option<String>,
    command: Command,
) -> ApiResult<Response> {
    crate::policy::visibility::may_command(&caller, &command)?;
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value.to_str().ok().filter(|k| !k.is_empty() && k.len() <= IDEMPOTENCY_KEY_BYTES_MAX);
            Some(key.ok_or_else(|| {
                ApiError::bad_request(format!(
                    "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_BYTES_MAX} visible characters"
                ))
            })?)
        }
    };
    // Keys are per caller, so one client's key never answers another's.
    let key = key.map(|k| format!("{}:{}:{k}", caller.role.name(), caller.person.as_deref().unwrap_or("")));
    let fingerprint = blake3::hash(format!("{command:?}").as_bytes()).to_hex().to_string();
    if let Some(key) = &key {
        if let Some(first) = state.replies.get(key) {
            if first.command != fingerprint {
                return Err(key_reused());
            }
            let status = StatusCode::from_u16(first.status).unwrap_or(StatusCode::CREATED);
            return Ok(reply(status, first.body, first.etag));
        }
    }
    let if_match = match &meeting_stream {
        None => None,
        Some(stream) => {
            let value = headers.get(header::IF_MATCH).ok_or_else(|| {
                ApiError::new(
                    StatusCode::PRECONDITION_REQUIRED,
                    "if-match-required",
                    "a command on a meeting needs If-Match with the meeting's ETag",
                )
            })?;
            let version = value
                .to_str()
                .ok()
                .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
                .and_then(|v| v.parse::<u64>().ok())
                .ok_or_else(|| ApiError::bad_request("If-Match must be an ETag from this API, such as \"42\""))?;
            Some((stream.clone(), version))
        }
    };
    let actor = Actor::new(
        &caller.person.clone().unwrap_or_else(|| format!("token:{}", caller.role.name())),
        caller.role.name(),
    );
    let conditions = Conditions { if_match, idempotency_key: key.clone() };
    let state2 = state.clone();
    let recorded = blocking(move || {
        state2.recorder.execute_with(&actor, &command, &conditions).map_err(|error| match error {
            CommandError::Refused(refusal) => {
                let status = match refusal.rule {
                    Rule::Invalid | Rule::NotFound => StatusCode::UNPROCESSABLE_ENTITY,
                    _ => StatusCode::CONFLICT,
                };
                let kind = if status == StatusCode::CONFLICT { "refused" } else { "invalid" };
                ApiError::new(status, kind, refusal.message).with_rule(refusal.rule.name())
            }
            CommandError::Stale { stream, expected, current } => ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "stale",
                format!(
                    "{stream} changed: it is at version {current}, the request was based on {expected}; read it again"
                ),
            ),
            CommandError::Log(error) if error.category() == minutebook_log::ErrorCategory::Conflict => {
                ApiError::new(StatusCode::PRECONDITION_FAILED, "stale", error.to_string())
            }
            // The key's event ids are in the log for another command (a
            // retry after a restart, with other content).
            CommandError::Log(error) if error.category() == minutebook_log::ErrorCategory::IdempotencyMismatch => {
                key_reused()
            }
            CommandError::Log(error) => ApiError::log(error),
            other => ApiError::internal(other),
        })
    })
    .await?;
    let events = recorded
        .outcome
        .events
        .iter()
        .zip(&recorded.decision.events)
        .map(|(at, (stream, event))| Landed {
            seq: at.seq.0,
            stream: stream.clone(),
            stream_version: at.stream_version.0,
            event_hash: at.event_hash.to_hex(),
            event_type: event.event_type().to_owned(),
        })
        .collect();
    let answer = Recorded { events, replayed: recorded.outcome.replayed, tree_size: recorded.outcome.tree_size };
    let body = super::wire::json(answer).0.to_string();
    let etag = recorded.outcome.events.first().map(|e| format!("\"{}\"", e.stream_version.0));
    if let Some(key) = key {
        let first = Reply {
            key,
            status: StatusCode::CREATED.as_u16(),
            body: body.clone(),
            etag: etag.clone(),
            command: fingerprint,
        };
        let state = state.clone();
        // The events are recorded whatever happens here, so the request
        // is answered; a reply that could not be kept is logged, and a
        // retry after a restart may then be refused as stale.
        if let Err(error) = blocking(move || state.replies.put(first).map_err(ApiError::internal)).await {
            tracing::error!(?error, "an idempotent reply was not kept");
        }
    }
    Ok(reply(StatusCode::CREATED, body, etag))
}

/// An idempotency key already answered a different request.
fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "this Idempotency-Key was used for a different request; use a new key for each new request",
    )
}

fn reply(status: StatusCode, body: String, etag: Option<String>) -> Response {
    let mut response = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Some(value) = etag.and_then(|e| HeaderValue::from_str(&e).ok()) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

type Body<T> = Result<Json<T>, JsonRejection>;

fn body<T>(body: Body<T>) -> ApiResult<T> {
    body.map(|Json(value)| value).map_err(json_rejection)
}

fn person_id(text: &str) -> ApiResult<PersonId> {
    PersonId::new(text).map_err(|e| ApiError::not_found(format!("no person {text:?}: {e}")))
}

/// A command named by its body alone.
macro_rules! plain_command {
    ($name:ident, $wire:ty, |$input:ident| $command:expr) => {
        pub(super) async fn $name(
            State(s): State<Arc<AppState>>,
            Extension(c): Extension<Caller>,
            h: HeaderMap,
            b: Body<$wire>,
        ) -> ApiResult<Response> {
            let $input = body(b)?;
            run(s, c, h, None, $command).await
        }
    };
}

/// A command on what its path names (a body, a person, an event); not on
/// a meeting, so without `If-Match`.
macro_rules! path_command {
    ($name:ident, $path:ty, $wire:ty, |$at:pat, $input:ident| $command:expr) => {
        pub(super) async fn $name(
            State(s): State<Arc<AppState>>,
            Extension(c): Extension<Caller>,
            UrlPath($at): UrlPath<$path>,
            h: HeaderMap,
            b: Body<$wire>,
        ) -> ApiResult<Response> {
            let $input = body(b)?;
            let command = $command;
            run(s, c, h, None, command).await
        }
    };
}

/// A command on a meeting: the meeting's stream is the one `If-Match` names.
macro_rules! meeting_command {
    ($name:ident, $wire:ty, |$meeting:ident, $input:ident| $command:expr) => {
        pub(super) async fn $name(
            State(s): State<Arc<AppState>>,
            Extension(c): Extension<Caller>,
            UrlPath(id): UrlPath<String>,
            h: HeaderMap,
            b: Body<$wire>,
        ) -> ApiResult<Response> {
            let $meeting = meeting_id(&id)?;
            let $input = body(b)?;
            let stream = $meeting.stream();
            let command = $command;
            run(s, c, h, Some(stream), command).await
        }
    };
}

plain_command!(register_body, wire::NewBody, |input| input.command());
plain_command!(register_person, wire::NewPerson, |input| input.command());
plain_command!(schedule_meeting, wire::NewMeeting, |input| input.command());

pub(super) async fn appoint_member(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<wire::Appointment>,
) -> ApiResult<Response> {
    let body_id = super::body_id(&id)?;
    run(s, c, h, None, body(b)?.command(body_id)).await
}

path_command!(change_member_role, (String, String), wire::RoleChange, |(body_id, person), input| input
    .command(super::body_id(&body_id)?, person_id(&person)?));
path_command!(member_left, (String, String), wire::Leaving, |(body_id, person), input| input
    .command(super::body_id(&body_id)?, person_id(&person)?));
path_command!(register_officer, String, wire::Officer, |id, input| input.command(person_id(&id)?));
path_command!(register_key, String, wire::KeyRegistration, |id, input| input.command(person_id(&id)?)?);
path_command!(revoke_key, String, wire::KeyRevocation, |id, input| input.command(person_id(&id)?)?);
path_command!(progress_action, u64, wire::ActionNote, |seq, input| input.progress(seq));
path_command!(close_action, u64, wire::ActionNote, |seq, input| input.close(seq));
path_command!(redact, u64, wire::Redaction, |seq, input| input.command(seq));

meeting_command!(reschedule, wire::Reschedule, |meeting, input| input.command(meeting));
meeting_command!(cancel, wire::Reason, |meeting, input| input.cancel(meeting));
meeting_command!(publish_agenda, wire::Agenda, |meeting, input| input.command(meeting));
meeting_command!(open_meeting, wire::At, |meeting, input| input.open(meeting));
meeting_command!(record_attendance, wire::Attendance, |meeting, input| input.command(meeting));
meeting_command!(record_departure, wire::Departure, |meeting, input| input.command(meeting));
meeting_command!(record_apologies, wire::Apologies, |meeting, input| input.command(meeting));
meeting_command!(declare_interest, wire::Declaration, |meeting, input| input.command(meeting));
meeting_command!(declare_whip, wire::Whip, |meeting, input| input.command(meeting));
meeting_command!(take_item, wire::TakeItem, |meeting, input| input.command(meeting));
meeting_command!(record_presenter, wire::Presenter, |meeting, input| input.command(meeting));
meeting_command!(record_point, wire::Point, |meeting, input| input.command(meeting));
meeting_command!(record_decision, wire::Decision, |meeting, input| input.command(meeting));
meeting_command!(agree_action, wire::Action, |meeting, input| input.command(meeting));
meeting_command!(exclude_public, wire::Exclusion, |meeting, input| input.command(meeting));
meeting_command!(exempt_summary, wire::ExemptSummary, |meeting, input| input.command(meeting));
meeting_command!(release_exempt, wire::ExemptRelease, |meeting, input| input.command(meeting));
meeting_command!(close_meeting, wire::At, |meeting, input| input.close(meeting));
meeting_command!(publish_draft, wire::Empty, |meeting, _input| Command::PublishDraft { meeting });
meeting_command!(revise_draft, wire::DraftRevision, |meeting, input| input.command(meeting));
meeting_command!(confirm, wire::Confirmation, |meeting, input| input.command(meeting));
meeting_command!(sign, wire::Signature, |meeting, input| input.command(meeting)?);
meeting_command!(correct, wire::Correction, |meeting, input| input.command(meeting));

pub(super) async fn withdraw_item(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath((id, item)): UrlPath<(String, u32)>,
    h: HeaderMap,
    b: Body<wire::Reason>,
) -> ApiResult<Response> {
    let meeting = meeting_id(&id)?;
    let input = body(b)?;
    let stream = meeting.stream();
    run(s, c, h, Some(stream), input.withdraw(meeting, item)).await
}

/// Attaches an uploaded paper: the file must be stored (and so on stable
/// storage) before the event that names it is appended.
pub(super) async fn attach_paper(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<wire::Paper>,
) -> ApiResult<Response> {
    let meeting = meeting_id(&id)?;
    let paper = body(b)?.attached()?;
    let stored = crate::domain::papers::paper_path(&s.data, &blake3::Hash::from_bytes(paper.content_hash));
    match std::fs::metadata(&stored) {
        Ok(metadata) if metadata.len() == paper.size_bytes => {}
        Ok(metadata) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                format!("the paper is {} bytes, not {}", metadata.len(), paper.size_bytes),
            ))
        }
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                "no paper with that content hash was uploaded; POST it to /v1/papers first",
            ))
        }
    }
    // The type named must be what the stored bytes are (the upload was
    // checked against the type it was sent as, which may differ).
    if crate::domain::papers::accepted_media_type(&paper.media_type) {
        let head = read_head(&stored).map_err(ApiError::internal)?;
        crate::domain::papers::content_agrees(&paper.media_type, &head)
            .map_err(|error| ApiError::invalid(error.to_string()))?;
    }
    let stream = meeting.stream();
    run(s, c, h, Some(stream), Command::AttachPaper { meeting, paper }).await
}

/// The first `PAPER_HEAD_BYTES` of a stored paper.
fn read_head(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(crate::domain::papers::PAPER_HEAD_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}
