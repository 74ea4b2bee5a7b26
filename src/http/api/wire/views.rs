//! Schemas of the views the API serves as their own crates serialize
//! them: the minutes (`minutebook_projections::view`), the registers and
//! the actions tracker (`registers`), the audit trail (`trail`), and an
//! event (`policy::views::event_view`, which export bundles share). These
//! types are never built: each mirrors its view field by field, and
//! tests/it/api.rs checks every answer of the demo against them.

#![allow(dead_code)] // Described, never built.

use schemars::JsonSchema;

use super::{DateText, HashHex, HexBytes, IdText, StreamName, TimeText};

/// Where the minutes are in their life.
#[derive(JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MinutesStatus {
    Scheduled,
    Cancelled,
    InSession,
    /// Closed, draft not yet published.
    Closed,
    Draft,
    Confirmed,
    Signed,
    Corrected,
}

/// A meeting's minutes as the caller may read them.
#[derive(JsonSchema)]
pub struct Minutes {
    #[schemars(with = "IdText")]
    body: String,
    body_name: String,
    /// The body's IANA timezone, in which dates, times and the times below are read.
    timezone: String,
    #[schemars(with = "IdText")]
    meeting: String,
    #[schemars(with = "DateText")]
    date: String,
    #[schemars(with = "TimeText")]
    start: String,
    venue: String,
    status: MinutesStatus,
    banner: String,
    cancelled_reason: Option<String>,
    /// False when the audience may see only the heading (the public,
    /// before the draft is published).
    content_visible: bool,
    present: Vec<Attendee>,
    also_attended: Vec<Attendee>,
    apologies: Vec<ApologyLine>,
    papers: Vec<PaperLine>,
    declarations: Vec<DeclarationLine>,
    whips: Vec<WhipLine>,
    items: Vec<MinuteItem>,
    #[schemars(with = "Option<TimeText>")]
    ended_at: Option<String>,
    quorum: Option<QuorumLine>,
    confirmation: Option<ConfirmationBlock>,
    signatures: Vec<SignatureBlock>,
    corrections: Vec<CorrectionLine>,
}

#[derive(JsonSchema)]
pub struct Attendee {
    #[schemars(with = "IdText")]
    person: String,
    name: String,
    /// The role (Chair, Member), job title or why a guest attended.
    description: String,
    presiding: bool,
    substitute_for: Option<String>,
    #[schemars(with = "Option<TimeText>")]
    arrived_at: Option<String>,
    #[schemars(with = "Option<TimeText>")]
    left_at: Option<String>,
}

#[derive(JsonSchema)]
pub struct ApologyLine {
    #[schemars(with = "IdText")]
    person: String,
    name: String,
    substitute: Option<String>,
}

#[derive(JsonSchema)]
pub struct PaperLine {
    reference: String,
    title: String,
    media_type: String,
    size_bytes: u64,
    /// BLAKE3 of the paper, hex: its download address.
    #[schemars(with = "HashHex")]
    content_hash: String,
    item: Option<u32>,
}

#[derive(JsonSchema)]
pub struct DeclarationLine {
    item: u32,
    minute: Option<u32>,
    #[schemars(with = "IdText")]
    person: String,
    name: String,
    kind: String,
    nature: String,
    withdrew: bool,
    dispensation: Option<String>,
}

#[derive(JsonSchema)]
pub struct WhipLine {
    item: u32,
    name: String,
    party: String,
    nature: String,
}

#[derive(JsonSchema)]
pub struct MinuteItem {
    /// The agenda number.
    item: u32,
    /// The minute number, once the draft is published.
    minute: Option<u32>,
    title: String,
    kind: String,
    presenters: Vec<String>,
    exempt: Option<ExemptBlock>,
    /// True when the audience may not see this exempt item's content.
    withheld: bool,
    entries: Vec<MinuteEntry>,
}

#[derive(JsonSchema)]
pub struct ExemptBlock {
    /// The paragraph of Schedule 12A.
    paragraph: u8,
    ground: String,
    summary: Option<String>,
    released: Option<String>,
}

/// A point, decision or action of an item, by `kind`.
#[derive(JsonSchema)]
pub struct MinuteEntry {
    /// Position of the event that recorded it (what revisions name).
    seq: u64,
    /// The legal basis, when the event's payload was redacted.
    redacted: Option<String>,
    #[serde(flatten)]
    kind: EntryView,
}

#[derive(JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EntryView {
    Point {
        text: String,
    },
    Decision {
        resolution: String,
        text: String,
        vote: Option<String>,
        casting_vote: Option<String>,
        mover: Option<String>,
        seconder: Option<String>,
        /// Members flagged for voting after declaring a pecuniary interest.
        flagged: Vec<String>,
    },
    Action {
        owner: String,
        text: String,
        #[schemars(with = "Option<DateText>")]
        due: Option<String>,
        closed: bool,
    },
}

#[derive(JsonSchema)]
pub struct QuorumLine {
    voting_members_present: u32,
    quorum: u32,
    quorate: bool,
}

#[derive(JsonSchema)]
pub struct ConfirmationBlock {
    #[schemars(with = "IdText")]
    by_meeting: String,
    #[schemars(with = "Option<DateText>")]
    by_meeting_date: Option<String>,
    by_item: u32,
    by_minute: Option<u32>,
    recorded_at_us: i64,
    /// When, in the body's timezone.
    recorded_at: String,
}

#[derive(JsonSchema)]
pub struct SignatureBlock {
    #[schemars(with = "IdText")]
    signer: String,
    name: String,
    signed_at_us: i64,
    /// When, in the body's timezone.
    signed_at: String,
    public_key: String,
    tree_size: Option<u64>,
    tree_root: Option<String>,
    statement: String,
    signature: String,
}

#[derive(JsonSchema)]
pub struct CorrectionLine {
    /// True when the correction is of exempt content the audience may not
    /// read: then only when it was recorded is shown.
    withheld: bool,
    minute: Option<u32>,
    superseded: String,
    text: String,
    #[schemars(with = "Option<IdText>")]
    by_meeting: Option<String>,
    by_item: Option<u32>,
    by_minute: Option<u32>,
    reason: String,
    recorded_at_us: i64,
    recorded_at: String,
}

/// An action of the actions tracker, with its history.
#[derive(JsonSchema)]
pub struct ActionRow {
    /// Position of the `action.agreed` event: the action's id.
    action: u64,
    #[schemars(with = "IdText")]
    body: String,
    #[schemars(with = "IdText")]
    meeting: String,
    #[schemars(with = "DateText")]
    meeting_date: String,
    item: u32,
    minute: Option<u32>,
    owner: String,
    text: String,
    #[schemars(with = "Option<DateText>")]
    due: Option<String>,
    closed: bool,
    history: Vec<ActionHistory>,
}

#[derive(JsonSchema)]
pub struct ActionHistory {
    seq: u64,
    note: String,
    #[schemars(with = "Option<IdText>")]
    meeting: Option<String>,
    closed: bool,
}

#[derive(JsonSchema)]
pub struct DeclarationRow {
    #[schemars(with = "IdText")]
    meeting: String,
    #[schemars(with = "DateText")]
    meeting_date: String,
    item: u32,
    minute: Option<u32>,
    kind: String,
    nature: String,
    withdrew: bool,
    dispensation: Option<String>,
}

#[derive(JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttendanceMark {
    Present,
    Apologies { substitute: Option<String> },
    Absent,
}

/// A member's attendance: `marks` pairs each meeting they were expected
/// at with what they did.
#[derive(JsonSchema)]
pub struct AttendanceRow {
    #[schemars(with = "IdText")]
    person: String,
    name: String,
    #[schemars(with = "Vec<(IdText, AttendanceMark)>")]
    marks: Vec<(String, AttendanceMark)>,
    expected: u32,
    present: u32,
    rate_percent: Option<u32>,
}

#[derive(JsonSchema)]
pub struct FlaggedVote {
    #[schemars(with = "IdText")]
    meeting: String,
    item: u32,
    minute: Option<u32>,
    #[schemars(with = "IdText")]
    member: String,
    name: String,
    decision: String,
}

#[derive(JsonSchema)]
pub struct MeetingRow {
    #[schemars(with = "IdText")]
    meeting: String,
    #[schemars(with = "DateText")]
    date: String,
    #[schemars(with = "TimeText")]
    start: String,
    venue: String,
    /// The minutes' banner ("Draft — subject to confirmation").
    status: String,
    first_minute: Option<u32>,
    last_minute: Option<u32>,
    quorate: Option<bool>,
}

/// One event of a meeting's audit trail.
#[derive(JsonSchema)]
pub struct TrailEntry {
    seq: u64,
    stream_version: u64,
    recorded_at_us: i64,
    /// When, in the body's timezone.
    recorded_at: String,
    actor: String,
    role: String,
    event_type: String,
    #[schemars(with = "HashHex")]
    event_hash: String,
    /// The agenda item it concerns, if any.
    item: Option<u32>,
    /// What the event did, in words.
    summary: String,
    change: Option<Change>,
    /// The legal basis, when this event's payload was redacted.
    redacted: Option<String>,
}

/// A revision or correction: the text before and after.
#[derive(JsonSchema)]
pub struct Change {
    target: u64,
    before: Option<String>,
    after: Option<String>,
    reason: String,
    /// The authorising minute, for a correction.
    authority: Option<String>,
}

/// An event: its envelope's fields, its hashes, and its payload.
#[derive(JsonSchema)]
pub struct Event {
    /// Its position in the log.
    seq: u64,
    #[schemars(with = "StreamName")]
    stream: String,
    stream_version: u64,
    /// 16 bytes, hex.
    #[schemars(with = "HexBytes")]
    event_id: String,
    /// The event type, as docs/EVENTS.md names it.
    event_type: String,
    schema_version: u16,
    actor: String,
    role: String,
    recorded_at_us: i64,
    #[schemars(with = "HashHex")]
    prev_hash: String,
    #[schemars(with = "HashHex")]
    payload_hash: String,
    #[schemars(with = "HashHex")]
    event_hash: String,
    #[schemars(with = "HexBytes")]
    envelope_hex: String,
    /// The payload's salt, 16 bytes hex; null when the payload is withheld or redacted.
    #[schemars(with = "Option<HexBytes>")]
    salt: Option<String>,
    payload: EventPayload,
    /// The redaction notice, when the payload was redacted (then `payload` is null).
    redacted: Option<String>,
}

/// An event's payload: `"withheld"` from this reader, null once redacted,
/// or its bytes and their decoding.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum EventPayload {
    Withheld(Withheld),
    Redacted(()),
    Present {
        #[schemars(with = "HexBytes")]
        hex: String,
        decoded: Decoded,
    },
}

#[derive(JsonSchema)]
pub enum Withheld {
    #[serde(rename = "withheld")]
    Withheld,
}

/// The payload decoded: an object with the fields docs/EVENTS.md lists
/// for its event type and schema version (postcard's fields, by name;
/// byte arrays as arrays of numbers, signatures as hex), or, for a payload
/// that does not decode, why.
#[derive(JsonSchema)]
#[serde(untagged)]
pub enum Decoded {
    Undecodable { undecodable: String },
    Payload(serde_json::Map<String, serde_json::Value>),
}
