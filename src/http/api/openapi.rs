//! The one table of the API's operations, from which both the router
//! (`routes`) and the OpenAPI 3.1 document served at `/openapi.json`
//! (`document`) are made: each entry names its method, path, handler,
//! query, request body and answers by their wire types (`wire`), so the
//! document describes exactly what the router serves and the handlers
//! read and write. schemathesis checks the server against it in CI
//! (.ci/schemathesis).

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::routing::{delete, get, post, MethodRouter};
use axum::Json;
use schemars::generate::SchemaSettings;
use schemars::{Schema, SchemaGenerator};
use serde_json::{json, Map, Value};

use super::wire::{requests as rq, responses as rs, schema, views};
use super::{commands as c, papers};
use crate::http::idempotency::IDEMPOTENCY_KEY_BYTES_MAX;
use crate::http::state::AppState;

/// A type's schema, made by a generator that collects the types it names.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Schema;
/// The route an operation's handler is served by.
pub type Handler = fn() -> MethodRouter<Arc<AppState>>;

/// What a request carries.
#[derive(Clone, Copy)]
pub enum RequestBody {
    /// A JSON object of this type.
    Json(SchemaFn),
    /// A paper's bytes, with its media type as `Content-Type`.
    Paper,
}

/// What a successful answer carries.
#[derive(Clone, Copy)]
pub enum Answer {
    /// `application/json` of this type.
    Json(SchemaFn),
    /// `text/plain`.
    Text,
    /// The minutes: JSON of this type, or Markdown or HTML, by `Accept`.
    Minutes(SchemaFn),
    /// `text/event-stream`.
    EventStream,
    /// An export bundle, `application/x-tar`.
    Tar,
    /// A paper's bytes, in the media type it was attached with.
    Paper,
    /// This document.
    Document,
    /// No content (204).
    Nothing,
}

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub handler: Handler,
    /// The query's type, whose fields are the query parameters.
    pub query: Option<SchemaFn>,
    pub request: Option<RequestBody>,
    /// Whether it changes a meeting (and so needs `If-Match`).
    pub if_match: bool,
    /// The statuses of success, each with `answer`.
    pub ok: &'static [u16],
    pub answer: Answer,
    /// What success means.
    pub answered: &'static str,
    /// The problems it may answer beyond those every operation may
    /// (`COMMON_PROBLEMS`).
    pub problems: &'static [u16],
    /// Served with the papers' own time and body limits (`papers::routes`).
    pub papers: bool,
}

/// Statuses every operation may answer with a problem: a request the
/// router or transport refuses, an unknown token, an address refused for
/// too many unknown tokens, a body too slow or too large, a server
/// failure or time limit.
pub const COMMON_PROBLEMS: &[u16] = &[400, 401, 408, 413, 414, 429, 431, 500, 503];
/// What a command may answer beyond the common problems.
const COMMAND_PROBLEMS: &[u16] = &[403, 404, 409, 415, 422, 507];
/// What a command on a meeting may answer beyond the common problems.
const MEETING_COMMAND_PROBLEMS: &[u16] = &[403, 404, 409, 412, 415, 422, 428, 507];

const fn read(path: &'static str, summary: &'static str, handler: Handler, answer: Answer) -> Operation {
    Operation {
        method: "get",
        path,
        summary,
        handler,
        query: None,
        request: None,
        if_match: false,
        ok: &[200],
        answer,
        answered: "the resource",
        problems: &[],
        papers: false,
    }
}

/// A read of something named in its path, which may not exist.
const fn read_one(path: &'static str, summary: &'static str, handler: Handler, answer: Answer) -> Operation {
    Operation { problems: &[404], ..read(path, summary, handler, answer) }
}

const fn command(path: &'static str, summary: &'static str, handler: Handler, body: SchemaFn) -> Operation {
    Operation {
        method: "post",
        path,
        summary,
        handler,
        query: None,
        request: Some(RequestBody::Json(body)),
        if_match: false,
        ok: &[201],
        answer: Answer::Json(schema::<rs::Recorded>),
        answered: "recorded: where the events landed; ETag is the first event's stream version",
        problems: COMMAND_PROBLEMS,
        papers: false,
    }
}

const fn meeting_command(path: &'static str, summary: &'static str, handler: Handler, body: SchemaFn) -> Operation {
    Operation { if_match: true, problems: MEETING_COMMAND_PROBLEMS, ..command(path, summary, handler, body) }
}

/// Every operation, in the order docs/API.md gives them.
pub const OPERATIONS: &[Operation] = &[
    read("/healthz", "Liveness", || get(super::healthz), Answer::Text),
    read("/openapi.json", "This document", || get(openapi_json), Answer::Document),
    read("/v1/checkpoint", "The latest checkpoint, a C2SP signed note", || get(super::checkpoint), Answer::Text),
    read("/v1/log/key", "The log's public key, as a note verifier key", || get(super::log_key), Answer::Text),
    read("/v1/bodies", "Every body", || get(super::bodies), Answer::Json(schema::<rs::Bodies>)),
    read_one("/v1/bodies/{body}", "A body and its members", || get(super::body), Answer::Json(schema::<rs::Body>)),
    read_one(
        "/v1/bodies/{body}/meetings",
        "A body's meetings in date order",
        || get(super::body_meetings),
        Answer::Json(schema::<rs::BodyMeetings>),
    ),
    read(
        "/v1/people",
        "Every person, with their memberships and keys",
        || get(super::people),
        Answer::Json(schema::<rs::People>),
    ),
    read_one(
        "/v1/people/{person}",
        "A person, with their memberships and keys",
        || get(super::person),
        Answer::Json(schema::<rs::Person>),
    ),
    read_one(
        "/v1/meetings/{meeting}",
        "A meeting: date, venue, status, agenda; its ETag for If-Match",
        || get(super::meeting),
        Answer::Json(schema::<rs::Meeting>),
    ),
    read_one(
        "/v1/meetings/{meeting}/items/{item}",
        "One item of the minutes with its declarations",
        || get(super::meeting_item),
        Answer::Json(schema::<rs::Item>),
    ),
    Operation {
        query: Some(schema::<super::PageQuery>),
        ..read_one(
            "/v1/streams/{stream}/events",
            "One stream's events by stream version",
            || get(super::stream_events),
            Answer::Json(schema::<rs::StreamEvents>),
        )
    },
    Operation {
        query: Some(schema::<super::CheckpointQuery>),
        ..read(
            "/v1/checkpoints",
            "Every stored checkpoint with a tree size in from..=to",
            || get(super::checkpoints),
            Answer::Json(schema::<rs::Checkpoints>),
        )
    },
    read_one(
        "/v1/bodies/{body}/actions",
        "The actions tracker",
        || get(super::body_actions),
        Answer::Json(schema::<rs::Actions>),
    ),
    read_one(
        "/v1/bodies/{body}/registers/{register}",
        "A register: attendance, declarations, flagged-votes, inquorate",
        || get(super::body_register),
        Answer::Json(schema::<rs::Register>),
    ),
    read_one(
        "/v1/bodies/{body}/minutes/{number}",
        "Which meeting and item hold a minute number",
        || get(super::find_minute),
        Answer::Json(schema::<rs::MinuteFound>),
    ),
    Operation {
        query: Some(schema::<super::AtQuery>),
        ..read_one(
            "/v1/meetings/{meeting}/minutes",
            "A meeting's minutes (JSON, Markdown or HTML by Accept; ?at= for a point in time)",
            || get(super::minutes),
            Answer::Minutes(schema::<views::Minutes>),
        )
    },
    Operation {
        query: Some(schema::<super::TrailQuery>),
        ..read_one(
            "/v1/meetings/{meeting}/trail",
            "A meeting's audit trail (?item= for one agenda item)",
            || get(super::meeting_trail),
            Answer::Json(schema::<rs::Trail>),
        )
    },
    Operation {
        problems: &[404, 409],
        ..read(
            "/v1/meetings/{meeting}/statement",
            "The statement the chair signs",
            || get(super::statement),
            Answer::Text,
        )
    },
    Operation {
        query: Some(schema::<super::PageQuery>),
        ..read(
            "/v1/events",
            "Events by position, at most 1000 a page",
            || get(super::events),
            Answer::Json(schema::<rs::Events>),
        )
    },
    Operation {
        query: Some(schema::<super::LiveQuery>),
        ..read(
            "/v1/events/live",
            "The live feed, as Server-Sent Events (Last-Event-ID resumes)",
            || get(super::live),
            Answer::EventStream,
        )
    },
    read_one(
        "/v1/events/{seq}",
        "One event with its envelope, hashes and payload",
        || get(super::event),
        Answer::Json(schema::<views::Event>),
    ),
    Operation {
        query: Some(schema::<super::InclusionQuery>),
        ..read_one(
            "/v1/proofs/inclusion",
            "An RFC 9162 inclusion proof",
            || get(super::inclusion),
            Answer::Json(schema::<rs::Inclusion>),
        )
    },
    Operation {
        query: Some(schema::<super::ConsistencyQuery>),
        ..read(
            "/v1/proofs/consistency",
            "An RFC 9162 consistency proof",
            || get(super::consistency),
            Answer::Json(schema::<rs::Consistency>),
        )
    },
    Operation {
        query: Some(schema::<super::ExportQuery>),
        problems: &[404, 422],
        ..read(
            "/v1/export",
            "An export bundle as a .tar; public bundles withhold exempt content",
            || get(super::export),
            Answer::Tar,
        )
    },
    Operation {
        papers: true,
        ..read_one(
            "/v1/papers/{hash}",
            "A paper's bytes, checked against their hash",
            || get(papers::download),
            Answer::Paper,
        )
    },
    Operation {
        method: "post",
        request: Some(RequestBody::Paper),
        ok: &[201, 200],
        answered: "stored (201), or stored already (200): its content hash",
        problems: &[403, 415, 422, 507],
        papers: true,
        ..read(
            "/v1/papers",
            "Upload a paper (its bytes, up to 50 MiB)",
            || post(papers::upload).layer(crate::http::transport::body_limit(papers::PAPER_BYTES_MAX)),
            Answer::Json(schema::<rs::Uploaded>),
        )
    },
    Operation {
        method: "post",
        request: Some(RequestBody::Json(schema::<rq::NewToken>)),
        ok: &[201],
        answered: "the token, shown once",
        problems: &[403, 415, 422],
        ..read("/v1/tokens", "Make a token (admin)", || post(super::create_token), Answer::Json(schema::<rs::Token>))
    },
    Operation {
        method: "delete",
        ok: &[204],
        answered: "revoked",
        problems: &[403, 404],
        ..read("/v1/tokens/{id}", "Revoke a token (admin)", || delete(super::revoke_token), Answer::Nothing)
    },
    command("/v1/bodies", "Register a body", || post(c::register_body), schema::<rq::NewBody>),
    command("/v1/bodies/{body}/members", "Appoint a member", || post(c::appoint_member), schema::<rq::Appointment>),
    command(
        "/v1/bodies/{body}/members/{person}/role",
        "Change a member's role",
        || post(c::change_member_role),
        schema::<rq::RoleChange>,
    ),
    command(
        "/v1/bodies/{body}/members/{person}/leaving",
        "Record a member leaving",
        || post(c::member_left),
        schema::<rq::Leaving>,
    ),
    command("/v1/people", "Register a person", || post(c::register_person), schema::<rq::NewPerson>),
    command("/v1/people/{person}/officer", "Register an officer", || post(c::register_officer), schema::<rq::Officer>),
    command(
        "/v1/people/{person}/keys",
        "Register a signing key with proof of possession",
        || post(c::register_key),
        schema::<rq::KeyRegistration>,
    ),
    command(
        "/v1/people/{person}/keys/revocation",
        "Revoke a signing key",
        || post(c::revoke_key),
        schema::<rq::KeyRevocation>,
    ),
    command("/v1/meetings", "Schedule a meeting", || post(c::schedule_meeting), schema::<rq::NewMeeting>),
    meeting_command(
        "/v1/meetings/{meeting}/reschedule",
        "Reschedule",
        || post(c::reschedule),
        schema::<rq::Reschedule>,
    ),
    meeting_command("/v1/meetings/{meeting}/cancel", "Cancel", || post(c::cancel), schema::<rq::Reason>),
    meeting_command(
        "/v1/meetings/{meeting}/agenda",
        "Publish the agenda",
        || post(c::publish_agenda),
        schema::<rq::Agenda>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/papers",
        "Attach an uploaded paper",
        || post(c::attach_paper),
        schema::<rq::Paper>,
    ),
    meeting_command("/v1/meetings/{meeting}/open", "Open the meeting", || post(c::open_meeting), schema::<rq::At>),
    meeting_command(
        "/v1/meetings/{meeting}/attendance",
        "Record attendance",
        || post(c::record_attendance),
        schema::<rq::Attendance>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/departures",
        "Record someone leaving early",
        || post(c::record_departure),
        schema::<rq::Departure>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/apologies",
        "Record apologies",
        || post(c::record_apologies),
        schema::<rq::Apologies>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/declarations",
        "Record a declaration of interest",
        || post(c::declare_interest),
        schema::<rq::Declaration>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/whips",
        "Record a party whip",
        || post(c::declare_whip),
        schema::<rq::Whip>,
    ),
    meeting_command("/v1/meetings/{meeting}/items", "Take an item", || post(c::take_item), schema::<rq::TakeItem>),
    meeting_command(
        "/v1/meetings/{meeting}/items/{item}/withdrawal",
        "Withdraw an item",
        || post(c::withdraw_item),
        schema::<rq::Reason>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/presenters",
        "Record who presented an item",
        || post(c::record_presenter),
        schema::<rq::Presenter>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/points",
        "Record a point made",
        || post(c::record_point),
        schema::<rq::Point>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/decisions",
        "Record a decision",
        || post(c::record_decision),
        schema::<rq::Decision>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/actions",
        "Record an action agreed",
        || post(c::agree_action),
        schema::<rq::Action>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/exclusions",
        "Exclude the public for an item",
        || post(c::exclude_public),
        schema::<rq::Exclusion>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/exempt-summaries",
        "Record an exempt item's public summary",
        || post(c::exempt_summary),
        schema::<rq::ExemptSummary>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/exempt-releases",
        "Release an exempt item",
        || post(c::release_exempt),
        schema::<rq::ExemptRelease>,
    ),
    meeting_command("/v1/meetings/{meeting}/close", "Close the meeting", || post(c::close_meeting), schema::<rq::At>),
    meeting_command(
        "/v1/meetings/{meeting}/draft",
        "Publish the draft minutes",
        || post(c::publish_draft),
        schema::<rq::Empty>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/revisions",
        "Revise the draft",
        || post(c::revise_draft),
        schema::<rq::DraftRevision>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/confirmation",
        "Confirm the minutes",
        || post(c::confirm),
        schema::<rq::Confirmation>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/signatures",
        "Submit the presiding member's signature",
        || post(c::sign),
        schema::<rq::Signature>,
    ),
    meeting_command(
        "/v1/meetings/{meeting}/corrections",
        "Correct signed minutes",
        || post(c::correct),
        schema::<rq::Correction>,
    ),
    command(
        "/v1/actions/{seq}/progress",
        "Record progress on an action",
        || post(c::progress_action),
        schema::<rq::ActionNote>,
    ),
    command("/v1/actions/{seq}/closure", "Close an action", || post(c::close_action), schema::<rq::ActionNote>),
    command("/v1/events/{seq}/redaction", "Redact an event's payload", || post(c::redact), schema::<rq::Redaction>),
];

/// The routes of the operations served with the papers' limits, or of all
/// the others.
pub fn routes(papers: bool) -> axum::Router<Arc<AppState>> {
    let mut by_path: BTreeMap<&str, MethodRouter<Arc<AppState>>> = BTreeMap::new();
    for operation in OPERATIONS.iter().filter(|o| o.papers == papers) {
        let route = (operation.handler)();
        let merged = match by_path.remove(operation.path) {
            Some(existing) => existing.merge(route),
            None => route,
        };
        by_path.insert(operation.path, merged);
    }
    by_path.into_iter().fold(axum::Router::new(), |router, (path, route)| router.route(path, route))
}

async fn openapi_json() -> Json<Value> {
    Json(document().clone())
}

/// Every problem type the server answers, with its status and meaning.
pub const PROBLEMS: &[(&str, u16, &str)] = &[
    ("malformed", 400, "the request does not parse: a path, query or header that is not what the API takes"),
    ("unauthorized", 401, "no token, or an unknown or revoked one, where one is needed"),
    ("forbidden", 403, "the role may not"),
    ("not-found", 404, "nothing is at this path, or what it names does not exist"),
    ("method-not-allowed", 405, "this path does not take that method"),
    ("request-timeout", 408, "the body paused too long, or was still arriving at the request time limit"),
    ("refused", 409, "the rules refuse it in the current state; detail is the refusal"),
    ("stale", 412, "the meeting changed since the ETag given"),
    ("too-large", 413, "the body exceeds the path's limit, or the export is too large"),
    ("uri-too-long", 414, "the path and query exceed 8 KiB"),
    ("unsupported-media-type", 415, "the body's Content-Type is not one this path takes"),
    ("invalid", 422, "the content is wrong: a bad date, an unknown person or item"),
    ("unprocessable", 422, "the export cannot be made as asked (since is beyond the checkpoint)"),
    ("idempotency-key-reused", 422, "this Idempotency-Key answered a different request"),
    ("if-match-required", 428, "a command on a meeting needs If-Match"),
    ("too-many-failed-authentications", 429, "this address presented too many unknown tokens; Retry-After says when"),
    ("header-fields-too-large", 431, "more than 100 header fields, or more than 16 KiB of them"),
    ("internal", 500, "the server failed; details are in its log only"),
    ("corrupt-record", 500, "a stored record failed its integrity check and is not served"),
    ("busy", 503, "the server is at capacity for this kind of request; Retry-After says when"),
    ("timeout", 503, "no answer within the request time limit; a command may have been recorded"),
    ("storage-full", 507, "the server's storage is full: nothing was recorded"),
];

/// The examples path parameters take: what the demo (`minutebook demo`)
/// holds, so that a client trying the document reaches real resources.
fn path_parameter(name: &str) -> Value {
    let id = json!({"$ref": "#/components/schemas/Id"});
    let (schema, example) = match name {
        "body" => (id, json!("riverside-scrutiny")),
        "meeting" => (id, json!("rcsp-2026-04-16")),
        "person" => (id, json!("cllr-okoro")),
        "item" => (json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}), json!(3)),
        "number" => (json!({"type": "integer", "minimum": 0, "maximum": u32::MAX}), json!(394)),
        "seq" => (json!({"type": "integer", "minimum": 0}), json!(1)),
        "register" => (
            json!({"type": "string", "enum": ["attendance", "declarations", "flagged-votes", "inquorate"]}),
            json!("attendance"),
        ),
        "stream" => (json!({"$ref": "#/components/schemas/StreamName"}), json!("meeting:rcsp-2026-03-05")),
        "hash" => (json!({"$ref": "#/components/schemas/Hash"}), json!("0".repeat(64))),
        "id" => (json!({"type": "string"}), json!("0")),
        other => unreachable!("no path parameter is named {other}"),
    };
    json!({"name": name, "in": "path", "required": true, "schema": schema, "example": example})
}

/// The query's fields as parameters; an optional field is one the query
/// may leave out, never `null`.
fn query_parameters(query: SchemaFn, generator: &mut SchemaGenerator) -> Vec<Value> {
    let schema = query(generator);
    let resolved = resolve(generator, &schema);
    let required: Vec<&str> =
        resolved["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let properties = resolved["properties"].as_object().cloned().unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, mut schema)| {
            if let Some(types) = schema.get_mut("type").and_then(Value::as_array_mut) {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    schema["type"] = types[0].clone();
                }
            }
            let description = schema.as_object_mut().and_then(|s| s.remove("description"));
            let mut parameter =
                json!({"name": name, "in": "query", "required": required.contains(&name.as_str()), "schema": schema});
            if let Some(description) = description {
                parameter["description"] = description;
            }
            parameter
        })
        .collect()
}

/// A schema with its `$ref` followed, if it has one.
fn resolve(generator: &SchemaGenerator, schema: &Schema) -> Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next()) {
        Some(name) => generator.definitions().get(name).cloned().unwrap_or(Value::Null),
        None => schema.as_value().clone(),
    }
}

fn parameters(operation: &Operation, requests: &mut SchemaGenerator) -> Vec<Value> {
    let mut parameters: Vec<Value> = operation
        .path
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(path_parameter)
        .collect();
    if let Some(query) = operation.query {
        parameters.extend(query_parameters(query, requests));
    }
    if operation.if_match {
        parameters.push(json!({
            "name": "If-Match", "in": "header", "required": true,
            "description": "the meeting's ETag, from GET /v1/meetings/{meeting} or the last command's answer",
            "schema": {"type": "string", "pattern": "^\\s*(W/)?\"?[0-9]{1,20}\"?\\s*$"}, "example": "\"1\"",
        }));
    }
    if operation.method == "post" && operation.path != "/v1/papers" && operation.path != "/v1/tokens" {
        parameters.push(json!({
            "name": "Idempotency-Key", "in": "header", "required": false,
            "description": "makes a retry return the first answer and record nothing again",
            "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_BYTES_MAX, "pattern": "^[\\x21-\\x7e]+$"},
        }));
    }
    parameters
}

/// A JSON media type object for a schema, with the schema's first example
/// as the media type's example.
fn json_content(schema: Schema, generator: &SchemaGenerator) -> Value {
    let mut media = json!({"schema": schema.as_value()});
    if let Some(example) = resolve(generator, &schema).get("examples").and_then(|e| e.get(0)) {
        media["example"] = example.clone();
    }
    media
}

fn paper_types() -> impl Iterator<Item = &'static str> {
    crate::domain::papers::paper_media_types()
}

fn request_body(body: RequestBody, requests: &mut SchemaGenerator) -> Value {
    match body {
        RequestBody::Json(schema) => {
            let schema = schema(requests);
            json!({"required": true, "content": {"application/json": json_content(schema, requests)}})
        }
        RequestBody::Paper => {
            let content: Map<String, Value> = paper_types()
                .map(|t| (t.to_owned(), json!({"schema": {"type": "string", "contentMediaType": t}})))
                .collect();
            json!({"required": true, "description": "the paper's bytes, in one of the accepted types", "content": content})
        }
    }
}

fn answer_content(answer: Answer, responses: &mut SchemaGenerator) -> Option<Value> {
    let text = json!({"schema": {"type": "string"}});
    Some(match answer {
        Answer::Json(schema) => {
            let schema = schema(responses);
            json!({"application/json": json_content(schema, responses)})
        }
        Answer::Text => json!({"text/plain": text}),
        Answer::Minutes(schema) => json!({
            "application/json": {"schema": schema(responses).as_value()},
            "text/markdown": text,
            "text/html": text,
        }),
        Answer::EventStream => json!({"text/event-stream": {"schema": {
            "type": "object",
            "description": "one event of the feed (keep-alive comments carry none)",
            "required": ["id", "event", "data"],
            "properties": {
                "id": {"type": "string", "pattern": "^[0-9]+$", "description": "the event's position"},
                "event": {"type": "string", "description": "the event's type"},
                "data": {
                    "type": "string",
                    "description": "the event as GET /v1/events/{seq} gives it",
                    "contentMediaType": "application/json",
                    "contentSchema": responses.subschema_for::<views::Event>().as_value(),
                },
            },
        }}}),
        Answer::Tar => {
            json!({"application/x-tar": {"schema": {"type": "string", "contentMediaType": "application/x-tar"}}})
        }
        Answer::Paper => {
            let content: Map<String, Value> = paper_types()
                .chain(["application/octet-stream"])
                .map(|t| (t.to_owned(), json!({"schema": {"type": "string", "contentMediaType": t}})))
                .collect();
            Value::Object(content)
        }
        Answer::Document => json!({"application/json": {"schema": {
            "type": "object",
            "description": "an OpenAPI 3.1 document",
            "required": ["openapi", "info", "paths", "components"],
            "properties": {"openapi": {"const": "3.1.0"}, "info": {"type": "object"}, "paths": {"type": "object"}, "components": {"type": "object"}},
        }}}),
        Answer::Nothing => return None,
    })
}

fn responses(operation: &Operation, generator: &mut SchemaGenerator) -> Map<String, Value> {
    let mut responses = Map::new();
    for status in operation.ok {
        let mut response = json!({"description": operation.answered});
        if let Some(content) = answer_content(operation.answer, generator) {
            response["content"] = content;
        }
        if operation.if_match
            || operation.path == "/v1/meetings/{meeting}"
            || matches!(operation.answer, Answer::Minutes(_))
        {
            response["headers"] =
                json!({"ETag": {"description": "the meeting stream's version", "schema": {"type": "string"}}});
        }
        responses.insert(status.to_string(), response);
    }
    let mut problems: Vec<u16> = COMMON_PROBLEMS.iter().chain(operation.problems).copied().collect();
    problems.sort_unstable();
    problems.dedup();
    for status in problems {
        responses.insert(status.to_string(), json!({"$ref": format!("#/components/responses/Problem{status}")}));
    }
    responses
}

/// The problem components: the RFC 9457 object, each problem type, and a
/// response per status naming the types it may carry.
fn problem_components() -> (Map<String, Value>, Map<String, Value>) {
    let mut schemas = Map::new();
    schemas.insert(
        "Problem".to_owned(),
        json!({
            "type": "object",
            "description": "RFC 9457 problem details",
            "required": ["type", "title", "status", "detail"],
            "properties": {
                "type": {"type": "string", "description": "a URI reference naming the kind: /problems/<kind>"},
                "title": {"type": "string", "description": "the status's reason phrase"},
                "status": {"type": "integer", "minimum": 400, "maximum": 599},
                "detail": {"type": "string", "description": "what went wrong, in words"},
                "rule": {
                    "type": "string",
                    "enum": crate::domain::Rule::ALL.iter().map(|rule| rule.name()).collect::<Vec<_>>(),
                    "description": "on a command the rules refused (409 /problems/refused, or 422 /problems/invalid): the rule's stable name, as docs/EVENTS.md lists them",
                },
            },
        }),
    );
    let mut responses = Map::new();
    let mut statuses: Vec<u16> = PROBLEMS.iter().map(|(_, status, _)| *status).collect();
    statuses.dedup();
    for status in statuses {
        let kinds: Vec<Value> = PROBLEMS
            .iter()
            .filter(|(_, s, _)| *s == status)
            .map(|(kind, _, description)| {
                let name = format!("Problem-{kind}");
                schemas.insert(
                    name.clone(),
                    json!({
                        "description": description,
                        "allOf": [{"$ref": "#/components/schemas/Problem"}],
                        "properties": {"type": {"const": format!("/problems/{kind}")}, "status": {"const": status}},
                    }),
                );
                json!({"$ref": format!("#/components/schemas/{name}")})
            })
            .collect();
        let schema = if kinds.len() == 1 { kinds[0].clone() } else { json!({"oneOf": kinds}) };
        let reason =
            axum::http::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        responses.insert(
            format!("Problem{status}"),
            json!({"description": reason, "content": {"application/problem+json": {"schema": schema}}}),
        );
    }
    (schemas, responses)
}

fn generator(settings: SchemaSettings) -> SchemaGenerator {
    settings.with(|s| s.definitions_path = "/components/schemas".into()).into_generator()
}

/// The document, made once.
pub fn document() -> &'static Value {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    DOCUMENT.get_or_init(make_document)
}

fn make_document() -> Value {
    // Requests are read (an optional field may be left out); answers are
    // written (an optional field is there, as null).
    let mut requests = generator(SchemaSettings::draft2020_12().for_deserialize());
    let mut answers = generator(SchemaSettings::draft2020_12().for_serialize());
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut value = json!({
            "summary": operation.summary,
            "operationId": format!("{} {}", operation.method, operation.path),
            "parameters": parameters(operation, &mut requests),
            "responses": responses(operation, &mut answers),
            "security": [{}, {"token": []}],
        });
        if let Some(body) = operation.request {
            value["requestBody"] = request_body(body, &mut requests);
        }
        let entry = paths.entry(operation.path.to_owned()).or_insert_with(|| json!({}));
        entry[operation.method] = value;
    }
    let (mut schemas, problem_responses) = problem_components();
    for generator in [&mut requests, &mut answers] {
        for (name, schema) in generator.take_definitions(true) {
            if let Some(other) = schemas.get(&name) {
                assert_eq!(other, &schema, "two types are named {name} in the document");
            }
            schemas.insert(name, schema);
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "minutebook",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "A tamper-evident minute book. docs/API.md describes every operation, the roles and the contract.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
            "responses": problem_responses,
            "schemas": schemas,
        },
    })
}
