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
use axum::routing::post;
use axum::{Extension, Json, Router};
use minutebook_catalogue::*;
use minutebook_log::Seq;
use serde::Deserialize;
use serde_json::json;

use super::meeting_id;
use crate::domain::statement::decode_base64_array;
use crate::domain::{Actor, AttendAs, Command, CommandError, Conditions, DecisionInput, Rule};
use crate::http::idempotency::{Reply, IDEMPOTENCY_KEY_BYTES_MAX};
use crate::http::problem::{blocking, ApiError, ApiResult};
use crate::http::state::AppState;
use crate::policy::tokens::Caller;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/bodies", post(register_body))
        .route("/v1/bodies/{body}/members", post(appoint_member))
        .route("/v1/people", post(register_person))
        .route("/v1/people/{person}/officer", post(register_officer))
        .route("/v1/people/{person}/keys", post(register_key))
        .route("/v1/meetings", post(schedule_meeting))
        .route("/v1/meetings/{meeting}/agenda", post(publish_agenda))
        .route("/v1/meetings/{meeting}/papers", post(attach_paper))
        .route("/v1/meetings/{meeting}/open", post(open_meeting))
        .route("/v1/meetings/{meeting}/attendance", post(record_attendance))
        .route("/v1/meetings/{meeting}/apologies", post(record_apologies))
        .route("/v1/meetings/{meeting}/declarations", post(declare_interest))
        .route("/v1/meetings/{meeting}/items", post(take_item))
        .route("/v1/meetings/{meeting}/points", post(record_point))
        .route("/v1/meetings/{meeting}/decisions", post(record_decision))
        .route("/v1/meetings/{meeting}/actions", post(agree_action))
        .route("/v1/meetings/{meeting}/close", post(close_meeting))
        .route("/v1/meetings/{meeting}/draft", post(publish_draft))
        .route("/v1/meetings/{meeting}/revisions", post(revise_draft))
        .route("/v1/meetings/{meeting}/confirmation", post(confirm))
        .route("/v1/meetings/{meeting}/signatures", post(sign))
        .route("/v1/meetings/{meeting}/corrections", post(correct))
        .route("/v1/events/{seq}/redaction", post(redact))
        .route("/v1/bodies/{body}/members/{person}/role", post(change_member_role))
        .route("/v1/bodies/{body}/members/{person}/leaving", post(member_left))
        .route("/v1/people/{person}/keys/revocation", post(revoke_key))
        .route("/v1/meetings/{meeting}/reschedule", post(reschedule))
        .route("/v1/meetings/{meeting}/cancel", post(cancel))
        .route("/v1/meetings/{meeting}/departures", post(record_departure))
        .route("/v1/meetings/{meeting}/whips", post(declare_whip))
        .route("/v1/meetings/{meeting}/items/{item}/withdrawal", post(withdraw_item))
        .route("/v1/meetings/{meeting}/presenters", post(record_presenter))
        .route("/v1/meetings/{meeting}/exclusions", post(exclude_public))
        .route("/v1/meetings/{meeting}/exempt-summaries", post(exempt_summary))
        .route("/v1/meetings/{meeting}/exempt-releases", post(release_exempt))
        .route("/v1/actions/{seq}/progress", post(progress_action))
        .route("/v1/actions/{seq}/closure", post(close_action))
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
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
                ApiError::new(status, kind, refusal.message)
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
    let events: Vec<_> = recorded
        .outcome
        .events
        .iter()
        .zip(&recorded.decision.events)
        .map(|(at, (stream, event))| {
            json!({
                "seq": at.seq.0, "stream": stream, "stream_version": at.stream_version.0,
                "event_hash": at.event_hash.to_hex(), "event_type": event.event_type(),
            })
        })
        .collect();
    let body =
        json!({ "events": events, "replayed": recorded.outcome.replayed, "tree_size": recorded.outcome.tree_size })
            .to_string();
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

async fn register_body(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    h: HeaderMap,
    b: Body<BodyRegistered>,
) -> ApiResult<Response> {
    run(s, c, h, None, Command::RegisterBody(body(b)?)).await
}

async fn appoint_member(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<MemberAppointed>,
) -> ApiResult<Response> {
    let body_id = super::body_id(&id)?;
    run(s, c, h, None, Command::AppointMember { body: body_id, appointment: body(b)? }).await
}

async fn register_person(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    h: HeaderMap,
    b: Body<PersonRegistered>,
) -> ApiResult<Response> {
    run(s, c, h, None, Command::RegisterPerson(body(b)?)).await
}

#[derive(Deserialize)]
struct JobTitle {
    job_title: String,
}

async fn register_officer(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<JobTitle>,
) -> ApiResult<Response> {
    let command =
        Command::RegisterOfficer(OfficerRegistered { person: person_id(&id)?, job_title: body(b)?.job_title });
    run(s, c, h, None, command).await
}

#[derive(Deserialize)]
struct KeyRegistration {
    /// Standard base64 of the 32-byte Ed25519 public key.
    public_key: String,
    /// Standard base64 of the key's signature over the key registration statement.
    proof: String,
}

async fn register_key(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<KeyRegistration>,
) -> ApiResult<Response> {
    let b = body(b)?;
    let command = Command::RegisterSigningKey(SigningKeyRegistered {
        person: person_id(&id)?,
        public_key: decode_base64_array(&b.public_key, "the public key")
            .map_err(|error| ApiError::invalid(error.to_string()))?,
        proof: SignatureBytes(
            decode_base64_array(&b.proof, "the proof").map_err(|error| ApiError::invalid(error.to_string()))?,
        ),
    });
    run(s, c, h, None, command).await
}

async fn schedule_meeting(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    h: HeaderMap,
    b: Body<MeetingScheduled>,
) -> ApiResult<Response> {
    run(s, c, h, None, Command::ScheduleMeeting(body(b)?)).await
}

/// A command on a meeting: the meeting's stream is the one `If-Match` names.
macro_rules! meeting_command {
    ($name:ident, $wire:ty, |$meeting:ident, $input:ident| $command:expr) => {
        async fn $name(
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

#[derive(Deserialize)]
struct Agenda {
    items: Vec<AgendaItem>,
}

#[derive(Deserialize)]
struct At {
    at: TimeOfDay,
}

#[derive(Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
enum AttendAsWire {
    Member,
    Substitute { for_member: PersonId },
    Guest { description: String },
    Officer { job_title: Option<String> },
}

#[derive(Deserialize)]
struct Attendance {
    person: PersonId,
    #[serde(flatten)]
    attend_as: AttendAsWire,
    #[serde(default)]
    presiding: bool,
    arrived_at: Option<TimeOfDay>,
}

#[derive(Deserialize)]
struct TakeItem {
    item: u32,
    title: Option<String>,
    kind: Option<ItemKind>,
}

#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum VoteWire {
    None,
    Counts {
        #[serde(rename = "for")]
        for_: u32,
        against: u32,
        abstain: u32,
    },
    Recorded {
        #[serde(rename = "for")]
        for_: Vec<PersonId>,
        against: Vec<PersonId>,
        abstain: Vec<PersonId>,
    },
}

#[derive(Deserialize)]
struct Decision {
    item: u32,
    text: String,
    kind: DecisionKind,
    vote: VoteWire,
    casting_vote: Option<CastingVote>,
    mover: Option<PersonId>,
    seconder: Option<PersonId>,
}

#[derive(Deserialize)]
struct Empty {}

#[derive(Deserialize)]
struct Confirmation {
    by_meeting: MeetingId,
    by_item: u32,
}

#[derive(Deserialize)]
struct SignatureWire {
    signer: PersonId,
    public_key: String,
    statement: String,
    signature: String,
}

#[derive(Deserialize)]
struct CorrectionWire {
    target: u64,
    text: String,
    by_meeting: MeetingId,
    by_item: u32,
    reason: String,
}

meeting_command!(publish_agenda, Agenda, |meeting, input| Command::PublishAgenda { meeting, items: input.items });
meeting_command!(open_meeting, At, |meeting, input| Command::OpenMeeting { meeting, at: input.at });
meeting_command!(record_attendance, Attendance, |meeting, input| Command::RecordAttendance {
    meeting,
    person: input.person,
    attend_as: match input.attend_as {
        AttendAsWire::Member => AttendAs::Member,
        AttendAsWire::Substitute { for_member } => AttendAs::Substitute { for_member },
        AttendAsWire::Guest { description } => AttendAs::Guest { description },
        AttendAsWire::Officer { job_title } => AttendAs::Officer { job_title },
    },
    presiding: input.presiding,
    arrived_at: input.arrived_at,
});
meeting_command!(record_apologies, ApologiesRecorded, |meeting, input| Command::RecordApologies {
    meeting,
    apologies: input
});
meeting_command!(declare_interest, InterestDeclared, |meeting, input| Command::DeclareInterest {
    meeting,
    declaration: input
});
meeting_command!(take_item, TakeItem, |meeting, input| Command::TakeItem {
    meeting,
    item: input.item,
    title: input.title,
    kind: input.kind
});
meeting_command!(record_point, PointRecorded, |meeting, input| Command::RecordPoint { meeting, point: input });
meeting_command!(record_decision, Decision, |meeting, input| Command::RecordDecision {
    meeting,
    decision: DecisionInput {
        item: input.item,
        text: input.text,
        kind: input.kind,
        vote: match input.vote {
            VoteWire::None => Vote::None,
            VoteWire::Counts { for_, against, abstain } => Vote::Counts { for_, against, abstain },
            VoteWire::Recorded { for_, against, abstain } => Vote::Recorded { for_, against, abstain },
        },
        casting_vote: input.casting_vote,
        mover: input.mover,
        seconder: input.seconder,
    },
});
meeting_command!(agree_action, ActionAgreed, |meeting, input| Command::AgreeAction { meeting, action: input });
meeting_command!(close_meeting, At, |meeting, input| Command::CloseMeeting { meeting, at: input.at });
meeting_command!(publish_draft, Empty, |meeting, _input| Command::PublishDraft { meeting });
meeting_command!(revise_draft, DraftRevised, |meeting, input| Command::ReviseDraft { meeting, revision: input });
meeting_command!(confirm, Confirmation, |meeting, input| Command::ConfirmMinutes {
    meeting,
    by_meeting: input.by_meeting,
    by_item: input.by_item
});
meeting_command!(correct, CorrectionWire, |meeting, input| Command::CorrectMinutes {
    meeting,
    target: Seq(input.target),
    text: input.text,
    by_meeting: input.by_meeting,
    by_item: input.by_item,
    reason: input.reason,
});

#[derive(Deserialize)]
struct PaperWire {
    reference: String,
    title: String,
    /// BLAKE3 of the paper, hex, as `POST /v1/papers` returned it.
    content_hash: String,
    size_bytes: u64,
    media_type: String,
    item: Option<u32>,
}

/// Attaches an uploaded paper: the file must be stored (and so on stable
/// storage) before the event that names it is appended.
async fn attach_paper(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<PaperWire>,
) -> ApiResult<Response> {
    let meeting = meeting_id(&id)?;
    let wire = body(b)?;
    let content_hash = blake3::Hash::from_hex(&wire.content_hash)
        .map_err(|_| ApiError::invalid("content_hash must be 64 hexadecimal digits"))?;
    let paper = PaperAttached {
        reference: wire.reference,
        title: wire.title,
        content_hash: *content_hash.as_bytes(),
        size_bytes: wire.size_bytes,
        media_type: wire.media_type,
        item: wire.item,
    };
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

async fn sign(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    h: HeaderMap,
    b: Body<SignatureWire>,
) -> ApiResult<Response> {
    let meeting = meeting_id(&id)?;
    let input = body(b)?;
    let command = Command::SignMinutes {
        meeting: meeting.clone(),
        signer: input.signer,
        public_key: decode_base64_array(&input.public_key, "the public key")
            .map_err(|error| ApiError::invalid(error.to_string()))?,
        statement: input.statement,
        signature: SignatureBytes(
            decode_base64_array(&input.signature, "the signature")
                .map_err(|error| ApiError::invalid(error.to_string()))?,
        ),
    };
    run(s, c, h, Some(meeting.stream()), command).await
}

#[derive(Deserialize)]
struct RoleChange {
    role: MemberRole,
    from: Date,
}

#[derive(Deserialize)]
struct FromDate {
    from: Date,
}

async fn change_member_role(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath((body_text, person)): UrlPath<(String, String)>,
    h: HeaderMap,
    b: Body<RoleChange>,
) -> ApiResult<Response> {
    let input = body(b)?;
    let body_id = super::body_id(&body_text)?;
    let change = MemberRoleChanged { person: person_id(&person)?, role: input.role, from: input.from };
    run(s, c, h, None, Command::ChangeMemberRole { body: body_id, change }).await
}

async fn member_left(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath((body_text, person)): UrlPath<(String, String)>,
    h: HeaderMap,
    b: Body<FromDate>,
) -> ApiResult<Response> {
    let input = body(b)?;
    let body_id = super::body_id(&body_text)?;
    let left = MemberLeft { person: person_id(&person)?, from: input.from };
    run(s, c, h, None, Command::RecordMemberLeft { body: body_id, left }).await
}

#[derive(Deserialize)]
struct KeyRevocation {
    public_key: String,
    reason: String,
}

async fn revoke_key(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(person): UrlPath<String>,
    h: HeaderMap,
    b: Body<KeyRevocation>,
) -> ApiResult<Response> {
    let input = body(b)?;
    let command = Command::RevokeSigningKey(SigningKeyRevoked {
        person: person_id(&person)?,
        public_key: decode_base64_array(&input.public_key, "the public key")
            .map_err(|error| ApiError::invalid(error.to_string()))?,
        reason: input.reason,
    });
    run(s, c, h, None, command).await
}

#[derive(Deserialize)]
struct Reason {
    reason: String,
}

meeting_command!(reschedule, MeetingRescheduled, |meeting, input| Command::RescheduleMeeting {
    meeting,
    change: input
});
meeting_command!(cancel, Reason, |meeting, input| Command::CancelMeeting { meeting, reason: input.reason });
meeting_command!(record_departure, DepartureRecorded, |meeting, input| Command::RecordDeparture {
    meeting,
    departure: input
});
meeting_command!(declare_whip, WhipDeclared, |meeting, input| Command::DeclareWhip { meeting, whip: input });
meeting_command!(record_presenter, PresenterRecorded, |meeting, input| Command::RecordPresenter {
    meeting,
    presenter: input
});
meeting_command!(exclude_public, PublicExcluded, |meeting, input| Command::ExcludePublic { meeting, exclusion: input });
meeting_command!(exempt_summary, ExemptSummaryRecorded, |meeting, input| Command::RecordExemptSummary {
    meeting,
    summary: input
});
meeting_command!(release_exempt, ExemptReleased, |meeting, input| Command::ReleaseExempt { meeting, release: input });

async fn withdraw_item(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath((id, item)): UrlPath<(String, u32)>,
    h: HeaderMap,
    b: Body<Reason>,
) -> ApiResult<Response> {
    let meeting = meeting_id(&id)?;
    let withdrawal = ItemWithdrawn { item, reason: body(b)?.reason };
    let stream = meeting.stream();
    run(s, c, h, Some(stream), Command::WithdrawItem { meeting, withdrawal }).await
}

#[derive(Deserialize)]
struct ActionNote {
    note: String,
    meeting: Option<MeetingId>,
}

async fn progress_action(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(seq): UrlPath<u64>,
    h: HeaderMap,
    b: Body<ActionNote>,
) -> ApiResult<Response> {
    let input = body(b)?;
    let command =
        Command::ProgressAction(ActionProgressed { action: Seq(seq), note: input.note, meeting: input.meeting });
    run(s, c, h, None, command).await
}

async fn close_action(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(seq): UrlPath<u64>,
    h: HeaderMap,
    b: Body<ActionNote>,
) -> ApiResult<Response> {
    let input = body(b)?;
    let command = Command::CloseAction(ActionClosed { action: Seq(seq), note: input.note, meeting: input.meeting });
    run(s, c, h, None, command).await
}

#[derive(Deserialize)]
struct Redaction {
    legal_basis: String,
}

async fn redact(
    State(s): State<Arc<AppState>>,
    Extension(c): Extension<Caller>,
    UrlPath(seq): UrlPath<u64>,
    h: HeaderMap,
    b: Body<Redaction>,
) -> ApiResult<Response> {
    run(s, c, h, None, Command::Redact { target: Seq(seq), legal_basis: body(b)?.legal_basis }).await
}
