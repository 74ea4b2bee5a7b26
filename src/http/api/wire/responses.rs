//! The JSON answers the API builds itself. Each serializes (through
//! `wire::json`, so with its fields sorted) to what the API has always
//! answered; the schemas are what `/openapi.json` promises.

use schemars::JsonSchema;
use serde::Serialize;

use super::views::{
    ActionRow, AttendanceRow, DeclarationLine, DeclarationRow, Event, FlaggedVote, MeetingRow, MinuteItem,
    MinutesStatus, TrailEntry,
};
use super::{DateText, HashHex, IdText, SignedNote, StreamName, TimeText};

/// Where one event of a command landed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Landed {
    pub seq: u64,
    #[schemars(with = "StreamName")]
    pub stream: String,
    pub stream_version: u64,
    #[schemars(with = "HashHex")]
    pub event_hash: String,
    /// The event type, as docs/EVENTS.md names it ("point.recorded").
    pub event_type: String,
}

/// A command's answer: where its events landed, whether this is the first
/// answer replayed for a retry with the same `Idempotency-Key`, and the
/// log's size after them.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Recorded {
    pub events: Vec<Landed>,
    pub replayed: bool,
    pub tree_size: u64,
}

/// `GET /v1/bodies`: one body.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BodySummary {
    #[schemars(with = "IdText")]
    pub id: String,
    pub name: String,
    pub kind: super::requests::BodyKind,
    /// IANA timezone name in which the body's dates and times are read.
    pub timezone: String,
    pub quorum: u32,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Bodies {
    pub bodies: Vec<BodySummary>,
}

/// A member's tenure on a body.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Member {
    #[schemars(with = "IdText")]
    pub person: String,
    pub name: String,
    /// The role's title ("Chair", "Co-opted Member, voting").
    pub role: String,
    #[schemars(with = "DateText")]
    pub from: String,
    /// No longer a member from this date.
    #[schemars(with = "Option<DateText>")]
    pub until: Option<String>,
}

/// `GET /v1/bodies/{body}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Body {
    #[schemars(with = "IdText")]
    pub id: String,
    pub name: String,
    pub kind: super::requests::BodyKind,
    pub timezone: String,
    pub quorum: u32,
    /// The number the body's next minute takes.
    pub next_minute: u32,
    pub members: Vec<Member>,
}

/// A signing key of a person.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Key {
    #[schemars(with = "HashHex")]
    pub public_key: String,
    /// The position of the event that registered it.
    pub registered_at: u64,
    /// The position of the event that revoked it, if one did.
    pub revoked_at: Option<u64>,
}

/// A person's tenure on a body.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Membership {
    #[schemars(with = "IdText")]
    pub body: String,
    pub role: String,
    #[schemars(with = "DateText")]
    pub from: String,
    #[schemars(with = "Option<DateText>")]
    pub until: Option<String>,
}

/// `GET /v1/people/{person}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Person {
    #[schemars(with = "IdText")]
    pub id: String,
    pub name: String,
    pub title: Option<String>,
    pub organisation: Option<String>,
    pub job_title: Option<String>,
    /// How the minutes name them: "Councillor Ada Okoro".
    pub display_name: String,
    /// The legal basis, when their registration was redacted.
    pub redacted: Option<String>,
    pub keys: Vec<Key>,
    pub memberships: Vec<Membership>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct People {
    pub people: Vec<Person>,
}

/// An item of a meeting's agenda.
#[derive(Debug, Serialize, JsonSchema)]
pub struct AgendaLine {
    pub number: u32,
    pub title: String,
    /// The kind's name ("apologies", "substantive").
    pub kind: String,
}

/// `GET /v1/meetings/{meeting}`; its `ETag` is `stream_version`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Meeting {
    #[schemars(with = "IdText")]
    pub id: String,
    #[schemars(with = "IdText")]
    pub body: String,
    #[schemars(with = "DateText")]
    pub date: String,
    #[schemars(with = "TimeText")]
    pub start: String,
    pub venue: String,
    #[schemars(with = "MinutesStatus")]
    pub status: minutebook_projections::view::MinutesStatus,
    pub banner: String,
    pub agenda: Vec<AgendaLine>,
    pub stream_version: u64,
}

/// `GET /v1/meetings/{meeting}/items/{item}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Item<'a> {
    #[schemars(with = "IdText")]
    pub meeting: String,
    #[schemars(with = "MinuteItem")]
    pub item: &'a minutebook_projections::view::MinuteItem,
    #[schemars(with = "Vec<DeclarationLine>")]
    pub declarations: Vec<&'a minutebook_projections::view::DeclarationLine>,
}

/// A page of events; `next` is the position (or stream version) to ask
/// for next, null when the page is empty.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Events {
    #[schemars(with = "Vec<Event>")]
    pub events: Vec<serde_json::Value>,
    pub next: Option<u64>,
}

/// `GET /v1/streams/{stream}/events`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StreamEvents {
    #[schemars(with = "StreamName")]
    pub stream: String,
    #[schemars(with = "Vec<Event>")]
    pub events: Vec<serde_json::Value>,
    pub next: Option<u64>,
}

/// A stored checkpoint.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Checkpoint {
    pub tree_size: u64,
    #[schemars(with = "SignedNote")]
    pub note: String,
}

/// `GET /v1/checkpoints`; `next` is the tree size to ask from next, null
/// when there are no more up to `to`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Checkpoints {
    pub checkpoints: Vec<Checkpoint>,
    pub next: Option<u64>,
}

/// `GET /v1/bodies/{body}/meetings`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BodyMeetings {
    #[schemars(with = "Vec<MeetingRow>")]
    pub meetings: Vec<minutebook_projections::registers::MeetingRow>,
}

/// `GET /v1/bodies/{body}/actions`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Actions {
    #[schemars(with = "Vec<ActionRow>")]
    pub actions: Vec<minutebook_projections::registers::ActionRow>,
}

/// `GET /v1/bodies/{body}/registers/{register}`: one of four registers,
/// each under its own name.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Register {
    Attendance {
        #[schemars(with = "Vec<AttendanceRow>")]
        attendance: Vec<minutebook_projections::registers::AttendanceRow>,
    },
    /// Declarations of interest by the person who made them.
    Declarations {
        #[schemars(with = "std::collections::BTreeMap<String, Vec<DeclarationRow>>")]
        declarations: std::collections::BTreeMap<
            minutebook_catalogue::PersonId,
            Vec<minutebook_projections::registers::DeclarationRow>,
        >,
    },
    FlaggedVotes {
        #[schemars(with = "Vec<FlaggedVote>")]
        flagged_votes: Vec<minutebook_projections::registers::FlaggedVote>,
    },
    Inquorate {
        #[schemars(with = "Vec<MeetingRow>")]
        inquorate: Vec<minutebook_projections::registers::MeetingRow>,
    },
}

/// `GET /v1/bodies/{body}/minutes/{number}`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct MinuteFound {
    #[schemars(with = "IdText")]
    pub body: String,
    pub minute: u32,
    #[schemars(with = "IdText")]
    pub meeting: String,
    /// The agenda item that holds it.
    pub item: u32,
}

/// `GET /v1/meetings/{meeting}/trail`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Trail {
    #[schemars(with = "IdText")]
    pub meeting: String,
    #[schemars(with = "Vec<TrailEntry>")]
    pub trail: Vec<minutebook_projections::trail::TrailEntry>,
}

/// `GET /v1/proofs/inclusion` (RFC 9162 §2.1.3).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Inclusion {
    pub leaf_index: u64,
    pub tree_size: u64,
    #[schemars(with = "HashHex")]
    pub event_hash: String,
    #[schemars(with = "HashHex")]
    pub leaf_hash: String,
    #[schemars(with = "HashHex")]
    pub root: String,
    /// The audit path, leaf to root.
    #[schemars(with = "Vec<HashHex>")]
    pub proof: Vec<String>,
    /// The stored checkpoint of this tree size, if there is one.
    #[schemars(with = "Option<SignedNote>")]
    pub checkpoint: Option<String>,
}

/// `GET /v1/proofs/consistency` (RFC 9162 §2.1.4).
#[derive(Debug, Serialize, JsonSchema)]
pub struct Consistency {
    pub old_size: u64,
    pub new_size: u64,
    #[schemars(with = "HashHex")]
    pub old_root: String,
    #[schemars(with = "HashHex")]
    pub new_root: String,
    #[schemars(with = "Vec<HashHex>")]
    pub proof: Vec<String>,
}

/// `POST /v1/tokens`: the token, shown in this answer only.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Token {
    pub token: String,
    /// What `DELETE /v1/tokens/{id}` revokes it by.
    pub id: String,
    #[schemars(with = "super::requests::TokenRole")]
    pub role: String,
    #[schemars(with = "Option<IdText>")]
    pub person: Option<String>,
}

/// `POST /v1/papers`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Uploaded {
    #[schemars(with = "HashHex")]
    pub content_hash: String,
    pub size_bytes: u64,
    pub media_type: String,
}
