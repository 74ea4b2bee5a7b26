//! The OpenAPI 3.1 document served at `/openapi.json`, generated from the
//! table of operations below. A test sends a request to every operation
//! in the table and checks that the router answers it, so the document
//! cannot name a path the server does not have.

use serde_json::{json, Map, Value};

/// One operation of the API.
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    /// The request body's description, for commands.
    pub body: Option<&'static str>,
    /// Whether it changes a meeting (and so needs `If-Match`).
    pub if_match: bool,
    /// The success status and what the answer holds.
    pub ok: (u16, &'static str),
}

const fn read(path: &'static str, summary: &'static str, answer: &'static str) -> Operation {
    Operation { method: "get", path, summary, body: None, if_match: false, ok: (200, answer) }
}

const fn command(path: &'static str, summary: &'static str, body: &'static str, if_match: bool) -> Operation {
    Operation { method: "post", path, summary, body: Some(body), if_match, ok: (201, "where the events landed") }
}

/// Every operation, in the order docs/API.md gives them.
pub const OPERATIONS: &[Operation] = &[
    read("/healthz", "Liveness", "ok"),
    read("/openapi.json", "This document", "OpenAPI 3.1"),
    read("/v1/checkpoint", "The latest checkpoint, a C2SP signed note", "text/plain"),
    read("/v1/log/key", "The log's public key", "text/plain"),
    read("/v1/bodies", "Every body", "bodies"),
    read("/v1/bodies/{body}", "A body and its members", "a body"),
    read("/v1/bodies/{body}/meetings", "A body's meetings", "meetings"),
    read("/v1/people", "Every person, with their memberships and keys", "people"),
    read("/v1/people/{person}", "A person, with their memberships and keys", "a person"),
    read("/v1/meetings/{meeting}", "A meeting: date, venue, status, agenda; its ETag for If-Match", "a meeting"),
    read("/v1/meetings/{meeting}/items/{item}", "One item of the minutes with its declarations", "an item"),
    read("/v1/streams/{stream}/events", "One stream's events by version (?from=, ?limit=)", "a page of events"),
    read("/v1/checkpoints", "Every stored checkpoint (?from=, ?to=, ?limit=)", "signed notes"),
    read("/v1/bodies/{body}/actions", "The actions tracker", "actions"),
    read(
        "/v1/bodies/{body}/registers/{register}",
        "A register: attendance, declarations, flagged-votes, inquorate",
        "a register",
    ),
    read("/v1/bodies/{body}/minutes/{number}", "Which meeting holds a minute number", "meeting and item"),
    read(
        "/v1/meetings/{meeting}/minutes",
        "A meeting's minutes (JSON, Markdown or HTML by Accept; ?at= for a point in time)",
        "minutes",
    ),
    read("/v1/meetings/{meeting}/trail", "A meeting's audit trail (?item= for one minute)", "the trail"),
    read("/v1/meetings/{meeting}/statement", "The statement the chair signs", "text/plain"),
    read("/v1/events", "Events by position (?from=, ?limit= up to 1000)", "a page of events"),
    read("/v1/events/live", "The live feed, as Server-Sent Events (Last-Event-ID resumes)", "text/event-stream"),
    read("/v1/events/{seq}", "One event with its envelope, hashes and payload", "an event"),
    read("/v1/proofs/inclusion", "An RFC 9162 inclusion proof (?seq=, ?size=)", "a proof"),
    read("/v1/proofs/consistency", "An RFC 9162 consistency proof (?from=, ?size=)", "a proof"),
    read(
        "/v1/export",
        "An export bundle as a .tar (?meeting=, ?body= or ?all=true; ?since= an older tree size); public bundles withhold exempt content",
        "application/x-tar",
    ),
    read("/v1/papers/{hash}", "A paper's bytes, checked against their hash", "the paper"),
    Operation {
        method: "post",
        path: "/v1/papers",
        summary: "Upload a paper (its bytes, up to 50 MiB)",
        body: Some("the paper's bytes, with its media type"),
        if_match: false,
        ok: (201, "its content hash"),
    },
    Operation {
        method: "post",
        path: "/v1/tokens",
        summary: "Make a token (admin)",
        body: Some("{role, person}"),
        if_match: false,
        ok: (201, "the token, shown once"),
    },
    Operation {
        method: "delete",
        path: "/v1/tokens/{id}",
        summary: "Revoke a token (admin)",
        body: None,
        if_match: false,
        ok: (204, "revoked"),
    },
    command("/v1/bodies", "Register a body", "{body, name, kind, timezone, quorum, minute_number_start}", false),
    command("/v1/bodies/{body}/members", "Appoint a member", "{person, role, from}", false),
    command("/v1/bodies/{body}/members/{person}/role", "Change a member's role", "{role, from}", false),
    command("/v1/bodies/{body}/members/{person}/leaving", "Record a member leaving", "{from}", false),
    command("/v1/people", "Register a person", "{person, name, title, organisation}", false),
    command("/v1/people/{person}/officer", "Register an officer", "{job_title}", false),
    command(
        "/v1/people/{person}/keys",
        "Register a signing key with proof of possession",
        "{public_key, proof}",
        false,
    ),
    command("/v1/people/{person}/keys/revocation", "Revoke a signing key", "{public_key, reason}", false),
    command("/v1/meetings", "Schedule a meeting", "{meeting, body, date, start, venue}", false),
    command("/v1/meetings/{meeting}/reschedule", "Reschedule", "{date, start, venue, reason}", true),
    command("/v1/meetings/{meeting}/cancel", "Cancel", "{reason}", true),
    command("/v1/meetings/{meeting}/agenda", "Publish the agenda", "{items}", true),
    command(
        "/v1/meetings/{meeting}/papers",
        "Attach an uploaded paper",
        "{reference, title, content_hash, size_bytes, media_type, item}",
        true,
    ),
    command("/v1/meetings/{meeting}/open", "Open the meeting", "{at}", true),
    command("/v1/meetings/{meeting}/attendance", "Record attendance", "{person, as, presiding, arrived_at}", true),
    command("/v1/meetings/{meeting}/departures", "Record someone leaving early", "{person, at}", true),
    command("/v1/meetings/{meeting}/apologies", "Record apologies", "{person, substitute}", true),
    command(
        "/v1/meetings/{meeting}/declarations",
        "Record a declaration of interest",
        "{person, item, kind, nature, withdrew, dispensation}",
        true,
    ),
    command("/v1/meetings/{meeting}/whips", "Record a party whip", "{person, item, party, nature}", true),
    command("/v1/meetings/{meeting}/items", "Take an item", "{item, title, kind}", true),
    command("/v1/meetings/{meeting}/items/{item}/withdrawal", "Withdraw an item", "{reason}", true),
    command("/v1/meetings/{meeting}/presenters", "Record who presented an item", "{item, person, description}", true),
    command("/v1/meetings/{meeting}/points", "Record a point made", "{item, text}", true),
    command(
        "/v1/meetings/{meeting}/decisions",
        "Record a decision",
        "{item, text, kind, vote, casting_vote, mover, seconder}",
        true,
    ),
    command(
        "/v1/meetings/{meeting}/actions",
        "Record an action agreed",
        "{item, owner, owner_person, text, due}",
        true,
    ),
    command("/v1/meetings/{meeting}/exclusions", "Exclude the public for an item", "{item, paragraph}", true),
    command(
        "/v1/meetings/{meeting}/exempt-summaries",
        "Record an exempt item's public summary",
        "{item, summary}",
        true,
    ),
    command("/v1/meetings/{meeting}/exempt-releases", "Release an exempt item", "{item, reason}", true),
    command("/v1/meetings/{meeting}/close", "Close the meeting", "{at}", true),
    command("/v1/meetings/{meeting}/draft", "Publish the draft minutes", "{}", true),
    command("/v1/meetings/{meeting}/revisions", "Revise the draft", "{change, reason}", true),
    command("/v1/meetings/{meeting}/confirmation", "Confirm the minutes", "{by_meeting, by_item}", true),
    command(
        "/v1/meetings/{meeting}/signatures",
        "Submit the presiding member's signature",
        "{signer, public_key, statement, signature}",
        true,
    ),
    command(
        "/v1/meetings/{meeting}/corrections",
        "Correct signed minutes",
        "{target, text, by_meeting, by_item, reason}",
        true,
    ),
    command("/v1/actions/{seq}/progress", "Record progress on an action", "{note, meeting}", false),
    command("/v1/actions/{seq}/closure", "Close an action", "{note, meeting}", false),
    command("/v1/events/{seq}/redaction", "Redact an event's payload", "{legal_basis}", false),
];

fn parameters(path: &str, if_match: bool) -> Vec<Value> {
    let mut parameters: Vec<Value> = path
        .split('/')
        .filter_map(|part| part.strip_prefix('{').and_then(|p| p.strip_suffix('}')))
        .map(|name| {
            let schema = if matches!(name, "seq" | "number" | "item") {
                json!({"type": "integer", "minimum": 0})
            } else {
                json!({"type": "string"})
            };
            json!({"name": name, "in": "path", "required": true, "schema": schema})
        })
        .collect();
    if if_match {
        parameters.push(json!({"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}, "description": "the meeting's ETag"}));
    }
    parameters
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut responses = Map::new();
        responses.insert(operation.ok.0.to_string(), json!({"description": operation.ok.1}));
        for status in
            ["400", "401", "403", "404", "408", "409", "412", "413", "414", "415", "422", "428", "429", "431", "503"]
        {
            responses.insert(status.to_owned(), json!({"$ref": "#/components/responses/Problem"}));
        }
        let mut value = json!({
            "summary": operation.summary,
            "operationId": format!("{} {}", operation.method, operation.path),
            "parameters": parameters(operation.path, operation.if_match),
            "responses": responses,
            "security": [{}, {"token": []}],
        });
        if let Some(body) = operation.body {
            value["requestBody"] = json!({
                "description": body,
                "required": true,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
        let entry = paths.entry(operation.path.to_owned()).or_insert_with(|| json!({}));
        entry[operation.method] = value;
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
            "responses": {"Problem": {
                "description": "RFC 9457 problem details",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }},
            "schemas": {"Problem": {
                "type": "object",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"},
                    "status": {"type": "integer"}, "detail": {"type": "string"},
                },
            }},
        },
    })
}
