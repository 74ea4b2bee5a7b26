//! The pages themselves: committees, a committee's meetings, a meeting's
//! minutes with their verification panel, audit trails, the actions
//! tracker, a member's attendance and declarations, and minute search.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, Query, State};
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use minutebook_catalogue::{BodyId, BodyKind, MeetingId, PersonId};
use minutebook_projections::record::{MeetingStatus, Record};
use minutebook_projections::registers::{self, AttendanceMark};
use minutebook_projections::time::{minutes_record_at, At, MinutesSources};
use minutebook_projections::view::{self, Minutes, MinutesStatus};
use minutebook_projections::{render, trail::TrailEntry};
use serde::Deserialize;
use similar::ChangeTag;

use super::{page, trusted, Page, PageError};
use crate::http::state::AppState;
use crate::policy::reads;
use crate::policy::tokens::{Caller, Role};

use crate::policy::visibility::audience;

fn kind_name(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::Council => "Council",
        BodyKind::Cabinet => "Cabinet",
        BodyKind::Committee => "Committee",
        BodyKind::SubCommittee => "Sub-committee",
        BodyKind::Panel => "Panel",
        BodyKind::Board => "Board",
    }
}

pub(super) fn body_of<'r>(record: &'r Record, id: &str) -> Result<&'r minutebook_projections::record::Body, PageError> {
    record.bodies.get(id).ok_or_else(|| PageError::NotFound(format!("There is no committee called {id:?}.")))
}

pub(super) fn meeting_of<'r>(
    record: &'r Record,
    id: &str,
) -> Result<&'r minutebook_projections::record::Meeting, PageError> {
    record.meetings.get(id).ok_or_else(|| PageError::NotFound(format!("There is no meeting {id:?}.")))
}

/// Every event type, for the live feed's listeners.
fn event_types() -> String {
    minutebook_catalogue::CATALOGUE.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(" ")
}

fn status_class(status: MinutesStatus) -> &'static str {
    match status {
        MinutesStatus::Scheduled => "scheduled",
        MinutesStatus::Cancelled => "cancelled",
        MinutesStatus::InSession => "in-session",
        MinutesStatus::Closed => "closed",
        MinutesStatus::Draft => "draft",
        MinutesStatus::Confirmed => "confirmed",
        MinutesStatus::Signed => "signed",
        MinutesStatus::Corrected => "corrected",
    }
}

fn status_tag(status: MinutesStatus) -> Markup {
    html! { span class={ "tag tag-" (status_class(status)) } { (status.banner()) } }
}

pub async fn home(State(state): State<Arc<AppState>>, Extension(caller): Extension<Caller>) -> Response {
    page(state, caller, |record, _, _| {
        Ok(Page {
            title: "Committees".to_owned(),
            crumbs: Vec::new(),
            csrf: None,
            content: html! {
                h1 { "Committees, panels and boards" }
                p.lede { "The minutes of every meeting, as recorded, confirmed and signed." }
                ul.cards {
                    @for body in record.bodies.values() {
                        @let meetings = registers::body_meetings(record, &body.id);
                        @let members = body.tenures.iter().filter(|t| t.until.is_none()).count();
                        li.card {
                            h2 { a href={ "/bodies/" (body.id) } { (body.name) } }
                            p.meta { (kind_name(body.kind)) " · " (members) " members · " (meetings.len()) " meetings" }
                            @if let Some(latest) = meetings.iter().rev().find(|m| record.meetings[&m.meeting].draft_published.is_some()) {
                                p {
                                    "Latest minutes: "
                                    a href={ "/meetings/" (latest.meeting) } { (render::long_date(&latest.date)) }
                                }
                            }
                        }
                    }
                }
            },
        })
    })
    .await
}

pub async fn body(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    page(state, caller, move |record, _, _| {
        let body = body_of(record, &id)?;
        let rows = registers::body_meetings(record, &body.id);
        let (upcoming, past): (Vec<_>, Vec<_>) = rows.iter().partition(|row| {
            matches!(record.meetings[&row.meeting].status, MeetingStatus::Scheduled | MeetingStatus::InSession)
        });
        let members: Vec<_> = body.tenures.iter().filter(|t| t.until.is_none()).collect();
        Ok(Page {
            title: body.name.clone(),
            crumbs: vec![(body.name.clone(), format!("/bodies/{}", body.id))],
            csrf: None,
            content: html! {
                h1 { (body.name) }
                p.lede { (kind_name(body.kind)) ". Quorum " (body.quorum) ". Minutes are numbered from " (body.minute_number_start) "." }
                p { a href={ "/bodies/" (body.id) "/actions" } { "Actions tracker" } }
                section aria-labelledby="upcoming" {
                    h2 #upcoming { "Upcoming meetings" }
                    @if upcoming.is_empty() {
                        p { "None scheduled." }
                    } @else {
                        (meetings_table("Upcoming meetings", record, &upcoming))
                    }
                }
                section aria-labelledby="past" {
                    h2 #past { "Past meetings" }
                    @if past.is_empty() {
                        p { "None yet." }
                    } @else {
                        (meetings_table("Past meetings", record, &past.into_iter().rev().collect::<Vec<_>>()))
                    }
                }
                section aria-labelledby="members" {
                    h2 #members { "Members" }
                    ul.columns {
                        @for tenure in &members {
                            li {
                                a href={ "/people/" (tenure.person) } { (view::name_of(record, &tenure.person)) }
                                " — " (tenure.role.title())
                            }
                        }
                    }
                }
            },
        })
    })
    .await
}

fn meetings_table(caption: &str, record: &Record, rows: &[&registers::MeetingRow]) -> Markup {
    html! {
        table {
            caption.visually-hidden { (caption) }
            thead { tr { th scope="col" { "Date" } th scope="col" { "Time and place" } th scope="col" { "Minutes" } th scope="col" { "Numbers" } } }
            tbody {
                @for row in rows {
                    @let meeting = &record.meetings[&row.meeting];
                    tr {
                        th scope="row" { a href={ "/meetings/" (row.meeting) } { (render::long_date(&row.date)) } }
                        td { (render::clock_time(&row.start)) ", " (row.venue) }
                        td { (status_tag(view::status(meeting))) }
                        td {
                            @if let (Some(first), Some(last)) = (row.first_minute, row.last_minute) {
                                (first) "–" (last)
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct AtQuery {
    at: Option<String>,
}

pub async fn meeting(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<AtQuery>,
) -> Response {
    let then = match query.at {
        None => None,
        Some(text) => match minutes_then(state.clone(), caller.clone(), id.clone(), text).await {
            Ok(then) => Some(then),
            Err(error) => return super::error_page(&caller, error),
        },
    };
    page(state, caller, move |record, log, caller| {
        let meeting = meeting_of(record, &id)?;
        let body = body_of(record, meeting.body.as_str())?;
        let (minutes, at) = match then {
            None => (view::minutes(record, &meeting.id, audience(caller)), None),
            Some((minutes, position)) => (minutes, Some(position)),
        };
        let minutes =
            minutes.ok_or_else(|| PageError::NotFound(format!("Meeting {id} was not yet scheduled at that point.")))?;
        let checkpoint = log.latest_checkpoint()?.checkpoint;
        let title = format!("{}, {}", body.name, render::long_date(&minutes.date));
        Ok(Page {
            title: title.clone(),
            crumbs: vec![
                (body.name.clone(), format!("/bodies/{}", body.id)),
                (render::long_date(&minutes.date), format!("/meetings/{}", meeting.id)),
            ],
            csrf: None,
            content: html! {
                @if let Some(position) = at {
                    div.notice role="note" {
                        p {
                            "These are the minutes as they stood after the first " (position) " events of the log. "
                            a href={ "/meetings/" (meeting.id) } { "See them as they stand now" } "."
                        }
                    }
                }
                div.live-notice #live hidden[true] aria-live="polite"
                    data-stream=(meeting.stream()) data-from=(log.len()) data-types=(event_types()) {}
                div.minutes-layout {
                    div.minutes-main { (trusted(render::html(&minutes))) }
                    (verification_panel(record, &minutes, &meeting.id, &checkpoint, caller))
                }
                script src="/static/live.js" defer {}
            },
        })
    })
    .await
}

/// The minutes of meeting `id` as they stood at `?at=` `text`, for the
/// caller, with the position they stand at. Only the body's timezone (in
/// which a date is read) and the minutes' sources are taken under the
/// record's lock; the minutes are
/// folded after it is let go, from the streams they are made of
/// (`minutes_record_at`), in their turn (`http::point_in_time`), so that a
/// crawler following every trail link never holds up a writer.
async fn minutes_then(
    state: Arc<AppState>,
    caller: Caller,
    id: String,
    text: String,
) -> Result<(Option<Minutes>, u64), PageError> {
    let turn = crate::http::point_in_time::turn().await;
    tokio::task::spawn_blocking(move || {
        let _turn = turn;
        let (meeting, timezone, sources) = {
            let record = state.recorder.record().map_err(|e| PageError::Internal(e.to_string()))?;
            let meeting = meeting_of(&record, &id)?;
            let timezone = body_of(&record, meeting.body.as_str())?.timezone.clone();
            (meeting.id.clone(), timezone, MinutesSources::of(&record, &meeting.id))
        };
        let at = At::parse(&text, &timezone).map_err(PageError::BadRequest)?;
        let reader = state.recorder.log().reader();
        let position = sources.position(&reader, at)?;
        let then = minutes_record_at(&reader, &meeting, &sources, position)?;
        Ok((view::minutes(&then, &meeting, audience(&caller)), position))
    })
    .await
    .unwrap_or_else(|e| Err(PageError::Internal(e.to_string())))
}

/// Who confirmed and signed the minutes, the tree they are pinned to, and
/// how to check it all without trusting this site.
fn verification_panel(
    record: &Record,
    minutes: &Minutes,
    id: &MeetingId,
    checkpoint: &minutebook_log::Checkpoint,
    caller: &Caller,
) -> Markup {
    html! {
        aside.verification aria-labelledby="verification" {
            h2 #verification { "Verification" }
            dl {
                dt { "Status" }
                dd { (status_tag(minutes.status)) }
                @if let Some(c) = &minutes.confirmation {
                    dt { "Confirmed" }
                    dd {
                        "As a correct record by "
                        a href={ "/meetings/" (c.by_meeting) @if let Some(m) = c.by_minute { "#minute-" (m) } } {
                            @match c.by_minute { Some(m) => { "minute " (m) }, None => { "agenda item " (c.by_item) } }
                        }
                        @if let Some(date) = &c.by_meeting_date { " of the meeting on " (render::long_date(date)) }
                        ", recorded " (c.recorded_at) "."
                    }
                }
                @for s in &minutes.signatures {
                    dt { "Signed" }
                    dd {
                        "By " a href={ "/people/" (s.signer) } { (s.name) } ", presiding, on " (s.signed_at) "."
                        @if let Some(size) = s.tree_size {
                            " Pinned to the log at tree size " (size) "."
                        }
                        details {
                            summary { "The statement and signature" }
                            pre.statement { (s.statement) }
                            p { "Ed25519 public key " code.hash { (s.public_key) } }
                            p { "Signature " code.hash { (s.signature) } }
                        }
                    }
                }
                @for c in &minutes.corrections {
                    dt { "Corrected" }
                    dd { (c.recorded_at) @if let Some(m) = c.minute { ": minute " (m) } "." }
                }
                dt { "The log now" }
                dd {
                    "Tree size " (checkpoint.tree_size) ", root " code.hash { (checkpoint.root) } " "
                    a href="/v1/checkpoint" { "(signed checkpoint)" }
                }
            }
            h3 { "Check it yourself" }
            p {
                a.button href={ "/v1/export?meeting=" (id) } download {
                    "Download the evidence (.tar)"
                }
            }
            p { "Then, with " code { "minutebook" } ":" }
            pre { code { "minutebook verify minutebook-meeting-" (id) ".tar" } }
            p.small {
                "It checks every event's hashes and proof against the signed checkpoint, the chair's signature, "
                "and that these minutes are what the events say."
                @if caller.role == Role::Public { " Exempt content is withheld from the public's bundle; its hashes are kept." }
            }
            p { a href={ "/meetings/" (id) "/trail" } { "Audit trail of this meeting" } }
            @if matches!(caller.role, Role::Clerk | Role::Admin) {
                p { a href={ "/meetings/" (id) "/console" } { "Record this meeting (the clerk's console)" } }
            }
            @if caller.role == Role::Member && minutes.confirmation.is_some() {
                p { a href={ "/meetings/" (id) "/sign" } { "Sign these minutes" } }
            }
            @if record.meetings.get(id).is_some_and(|m| m.confirmation.is_some()) {
                p { a href={ "/v1/meetings/" (id) "/statement" } { "The statement the chair signs" } }
            }
        }
    }
}

#[derive(Deserialize)]
pub struct TrailQuery {
    item: Option<u32>,
}

pub async fn trail(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
    Query(query): Query<TrailQuery>,
) -> Response {
    page(state, caller, move |record, log, caller| {
        let meeting = meeting_of(record, &id)?;
        let body = body_of(record, meeting.body.as_str())?;
        let public = caller.role == Role::Public;
        let entries = match reads::meeting_trail(&log.reader(), record, &meeting.id, query.item, public)? {
            Ok(entries) => entries,
            Err(_) => {
                return Err(PageError::NotFound(format!(
                    "The record of the meeting on {} is not published yet.",
                    render::long_date(&meeting.date.to_string())
                )))
            }
        };
        let date = render::long_date(&meeting.date.to_string());
        let item = query.item.and_then(|n| meeting.item(n));
        let heading = match item {
            Some(item) => match item.minute {
                Some(minute) => format!("Audit trail of minute {minute}: {}", item.title.text),
                None => format!("Audit trail of item {}: {}", item.number, item.title.text),
            },
            None => "Audit trail".to_owned(),
        };
        let mut crumbs = vec![
            (body.name.clone(), format!("/bodies/{}", body.id)),
            (date.clone(), format!("/meetings/{}", meeting.id)),
            ("Audit trail".to_owned(), format!("/meetings/{}/trail", meeting.id)),
        ];
        if let Some(item) = item {
            crumbs.push((heading.clone(), format!("/meetings/{}/trail?item={}", meeting.id, item.number)));
        }
        Ok(Page {
            title: format!("{heading} — {}, {date}", body.name),
            crumbs,
            csrf: None,
            content: html! {
                h1 { (heading) }
                p.lede { (body.name) ", meeting on " (date) ". Every change to the record, oldest first, with who made it and why." }
                nav aria-label="Minutes of this meeting" {
                    p { "One minute's trail: " }
                    ul.inline {
                        @for it in &meeting.items {
                            li {
                                a href={ "/meetings/" (meeting.id) "/trail?item=" (it.number) }
                                    aria-current=[(Some(it.number) == query.item).then_some("page")] {
                                    @match it.minute { Some(m) => { (m) }, None => { "item " (it.number) } }
                                }
                            }
                        }
                    }
                }
                @if entries.is_empty() {
                    p { "Nothing was recorded." }
                } @else {
                    ol.trail {
                        @for entry in &entries { (trail_entry(&meeting.id, entry)) }
                    }
                }
            },
        })
    })
    .await
}

fn trail_entry(meeting: &MeetingId, entry: &TrailEntry) -> Markup {
    html! {
        li.trail-entry id={ "event-" (entry.seq) } {
            p.when {
                time { (entry.recorded_at) } " · " (entry.actor) " (" (entry.role) ") · "
                code { (entry.event_type) }
            }
            p.what { (capitalised(&entry.summary)) }
            @if let Some(change) = &entry.change {
                div.change {
                    @match (&change.before, &change.after) {
                        (Some(before), Some(after)) => {
                            p.diff { span.visually-hidden { "Changes: " } (word_diff(before, after)) }
                            details {
                                summary { "Before and after in full" }
                                p { strong { "Before: " } (before) }
                                p { strong { "After: " } (after) }
                            }
                        },
                        (Some(before), None) => { p { "Struck out: " del { (before) } } },
                        (None, Some(after)) => { p { "Added: " ins { (after) } } },
                        (None, None) => {},
                    }
                    p.reason { strong { "Reason: " } (change.reason) }
                    @if let Some(authority) = &change.authority {
                        p.reason { strong { "Authority: " } (authority) }
                    }
                }
            }
            @if let Some(basis) = &entry.redacted {
                p.redacted { "Redacted: " (basis) }
            }
            p.small {
                a href={ "/meetings/" (meeting) "?at=" (entry.seq + 1) } { "The minutes as they stood then" }
                " · event " (entry.seq) " · hash " code.hash { (entry.event_hash) }
            }
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// The most pairs of words (words before × words after) a change is diffed
/// word by word; past it the trail shows the two texts whole, as the diff's
/// table grows with the product.
pub const WORD_DIFF_WORD_PAIRS_MAX: usize = 250_000;

/// The words of `after` against `before`: removed words struck through,
/// added words marked, by the longest common subsequence of words.
pub fn word_diff(before: &str, after: &str) -> Markup {
    let old: Vec<&str> = before.split_whitespace().collect();
    let new: Vec<&str> = after.split_whitespace().collect();
    if old.len() * new.len() > WORD_DIFF_WORD_PAIRS_MAX {
        return html! { del { (before) } " " ins { (after) } };
    }
    // similar's table of the longest common subsequence, walked from the
    // start: what went comes before what replaced it. Words the two share
    // at their start and end are kept first, so that where repeated words
    // allow two equally short diffs, those at the ends are the ones kept.
    let mut changes = similar::algorithms::Capture::new();
    similar::algorithms::lcs::diff(&mut changes, &old, 0..old.len(), &new, 0..new.len())
        .unwrap_or_else(|never: std::convert::Infallible| match never {});
    let words = changes.into_ops().into_iter().flat_map(|op| op.iter_changes(&old, &new));
    html! {
        @for (index, word) in words.enumerate() {
            @if index > 0 { " " }
            @match word.tag() {
                ChangeTag::Equal => { (word.value()) },
                ChangeTag::Delete => { del { (word.value()) } },
                ChangeTag::Insert => { ins { (word.value()) } },
            }
        }
    }
}

pub async fn actions(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    page(state, caller, move |record, _, _| {
        let body = body_of(record, &id)?;
        let rows = reads::actions(record, &body.id);
        let open = rows.iter().filter(|a| !a.closed).count();
        Ok(Page {
            title: format!("Actions — {}", body.name),
            crumbs: vec![
                (body.name.clone(), format!("/bodies/{}", body.id)),
                ("Actions".to_owned(), format!("/bodies/{}/actions", body.id)),
            ],
            csrf: None,
            content: html! {
                h1 { "Actions tracker" }
                p.lede { (body.name) ": " (rows.len()) " actions agreed, " (open) " open." }
                @if rows.is_empty() {
                    p { "No actions have been agreed in published minutes." }
                } @else {
                    table {
                        caption.visually-hidden { "Actions agreed, oldest first" }
                        thead { tr {
                            th scope="col" { "Minute" } th scope="col" { "Action" } th scope="col" { "Owner" }
                            th scope="col" { "Due" } th scope="col" { "Status" } th scope="col" { "Progress" }
                        } }
                        tbody {
                            @for action in &rows {
                                tr {
                                    th scope="row" {
                                        a href={ "/meetings/" (action.meeting) @if let Some(m) = action.minute { "#minute-" (m) } } {
                                            @match action.minute { Some(m) => { (m) }, None => { "item " (action.item) } }
                                        }
                                        br; span.small { (render::long_date(&action.meeting_date)) }
                                    }
                                    td { (action.text) }
                                    td { (action.owner) }
                                    td { @if let Some(due) = &action.due { (render::long_date(due)) } @else { "—" } }
                                    td { @if action.closed { span.tag.tag-signed { "Closed" } } @else { span.tag.tag-draft { "Open" } } }
                                    td {
                                        @if action.history.is_empty() { "—" }
                                        ul.plain { @for h in &action.history { li { (h.note) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            },
        })
    })
    .await
}

pub async fn person(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    UrlPath(id): UrlPath<String>,
) -> Response {
    page(state, caller, move |record, _, caller| {
        let person = record
            .people
            .get(id.as_str())
            .ok_or_else(|| PageError::NotFound(format!("There is no one called {id:?}.")))?;
        let public = caller.role == Role::Public;
        let bodies: Vec<_> =
            record.bodies.values().filter(|body| body.tenures.iter().any(|t| t.person == person.id)).collect();
        Ok(Page {
            title: person.display_name(),
            crumbs: vec![(person.display_name(), format!("/people/{}", person.id))],
            csrf: None,
            content: html! {
                h1 { (person.display_name()) }
                @if let Some(organisation) = &person.organisation { p.lede { (organisation) } }
                @if let Some(job) = &person.job_title { p.lede { (job) } }
                @if bodies.is_empty() { p { "Not a member of any committee." } }
                @for body in &bodies {
                    (membership(record, body, &person.id, public))
                }
            },
        })
    })
    .await
}

fn membership(record: &Record, body: &minutebook_projections::record::Body, person: &PersonId, public: bool) -> Markup {
    let tenures: Vec<_> = body.tenures.iter().filter(|t| t.person == *person).collect();
    let attendance = reads::attendance(record, &body.id, public).into_iter().find(|row| row.person == *person);
    let declarations = reads::declarations(record, &body.id, public).remove(person).unwrap_or_default();
    let section_id = format!("body-{}", body.id);
    html! {
        section aria-labelledby=(section_id) {
            h2 id=(section_id) { a href={ "/bodies/" (body.id) } { (body.name) } }
            ul.plain {
                @for tenure in &tenures {
                    li {
                        (tenure.role.title()) " from " (render::long_date(&tenure.from.to_string()))
                        @if let Some(until) = &tenure.until { " until " (render::long_date(&until.to_string())) }
                    }
                }
            }
            h3 { "Attendance" }
            @match &attendance {
                Some(row) if !row.marks.is_empty() => { (attendance_chart(record, row)) },
                _ => { p { "No meetings held while a member." } },
            }
            h3 { "Declarations of interest" }
            @if declarations.is_empty() {
                p { "None declared." }
            } @else {
                table {
                    caption.visually-hidden { "Declarations of interest at " (body.name) }
                    thead { tr { th scope="col" { "Meeting" } th scope="col" { "Minute" } th scope="col" { "Interest" } th scope="col" { "Withdrew" } } }
                    tbody {
                        @for d in &declarations {
                            tr {
                                th scope="row" { a href={ "/meetings/" (d.meeting) } { (render::long_date(&d.meeting_date)) } }
                                td { @match d.minute { Some(m) => { a href={ "/meetings/" (d.meeting) "#minute-" (m) } { (m) } }, None => { "item " (d.item) } } }
                                td { (d.kind) ": " (d.nature) @if let Some(disp) = &d.dispensation { " (dispensation: " (disp) ")" } }
                                td { @if d.withdrew { "Yes" } @else { "No" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Attendance at each meeting as a chart: a column per meeting, its bar
/// coloured and labelled by how the member stood, the date beneath; an
/// inline SVG with a text equivalent, and the same as a table.
fn attendance_chart(record: &Record, row: &registers::AttendanceRow) -> Markup {
    const COLUMN: usize = 64;
    const BAR: usize = 40;
    let width = row.marks.len() * COLUMN + 8;
    let summary = format!(
        "Present at {} of {} meetings{}",
        row.present,
        row.expected,
        row.rate_percent.map(|p| format!(" ({p}%)")).unwrap_or_default()
    );
    let label = |mark: &AttendanceMark| match mark {
        AttendanceMark::Present => "Present".to_owned(),
        AttendanceMark::Apologies { substitute: Some(s) } => format!("Apologies (substitute: {s})"),
        AttendanceMark::Apologies { substitute: None } => "Apologies".to_owned(),
        AttendanceMark::Absent => "Absent".to_owned(),
    };
    let date = |meeting: &MeetingId| record.meetings.get(meeting).map(|m| m.date.to_string()).unwrap_or_default();
    let title_id = format!("chart-{}-{}", row.person, row.marks.first().map(|(m, _)| m.as_str()).unwrap_or(""));
    html! {
        p { strong { (summary) } }
        svg.attendance xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby=(title_id)
            width=(width) height="96" viewBox={ "0 0 " (width) " 96" } {
            title id=(title_id) { (summary) ", by meeting: "
                @for (index, (meeting, mark)) in row.marks.iter().enumerate() {
                    @if index > 0 { "; " } (render::long_date(&date(meeting))) " " (label(mark))
                }
            }
            @for (index, (meeting, mark)) in row.marks.iter().enumerate() {
                @let x = index * COLUMN + 8;
                @let (class, short) = mark_style(mark);
                g {
                    rect class=(class) x=(x) y="4" width=(COLUMN - 12) height=(BAR) rx="4" {}
                    text.mark-label x=(x + (COLUMN - 12) / 2) y="31" text-anchor="middle" { (short) }
                    text.date-label x=(x + (COLUMN - 12) / 2) y="62" text-anchor="middle" { (short_date(&date(meeting)).0) }
                    text.date-label x=(x + (COLUMN - 12) / 2) y="80" text-anchor="middle" { (short_date(&date(meeting)).1) }
                }
            }
        }
        p.legend aria-hidden="true" {
            span.key.mark-present {} " Present (✓) " span.key.mark-apologies {} " Apologies (A) " span.key.mark-absent {} " Absent (✗)"
        }
        details {
            summary { "Attendance by meeting" }
            table {
                thead { tr { th scope="col" { "Meeting" } th scope="col" { "Attendance" } } }
                tbody {
                    @for (meeting, mark) in &row.marks {
                        tr { th scope="row" { a href={ "/meetings/" (meeting) } { (render::long_date(&date(meeting))) } } td { (label(mark)) } }
                    }
                }
            }
        }
    }
}

/// A mark's class and the symbol drawn on it, so that colour is not the
/// only sign.
fn mark_style(mark: &AttendanceMark) -> (&'static str, &'static str) {
    match mark {
        AttendanceMark::Present => ("mark-present", "✓"),
        AttendanceMark::Apologies { .. } => ("mark-apologies", "A"),
        AttendanceMark::Absent => ("mark-absent", "✗"),
    }
}

/// "22 Jan" and "2026" from "2026-01-22".
fn short_date(date: &str) -> (String, String) {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let month = month.parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1))).copied().unwrap_or("");
    (format!("{} {month}", day.trim_start_matches('0')), year.to_owned())
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
    body: Option<String>,
}

pub async fn search(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let q = query.q.clone().unwrap_or_default();
    let number: Option<u32> =
        q.split(|c: char| !c.is_ascii_digit()).find(|w| !w.is_empty()).and_then(|w| w.parse().ok());
    let body_filter = query.body.clone();
    let state2 = state.clone();
    let found = tokio::task::spawn_blocking(move || {
        let record = state2.recorder.record().ok()?;
        let number = number?;
        let hits: Vec<(BodyId, String, MeetingId, u32)> = record
            .bodies
            .values()
            .filter(|body| body_filter.as_deref().is_none_or(|b| b == body.id.as_str()))
            .filter_map(|body| {
                registers::find_minute(&record, &body.id, number)
                    .map(|(m, item)| (body.id.clone(), body.name.clone(), m, item))
            })
            .collect();
        Some(hits)
    })
    .await
    .ok()
    .flatten();
    if let (Some(number), Some(hits)) = (number, &found) {
        if let [(_, _, meeting, _)] = hits.as_slice() {
            return super::redirect_to(&format!("/meetings/{meeting}#minute-{number}"));
        }
    }
    page(state, caller, move |_, _, _| {
        Ok(Page {
            title: "Find a minute".to_owned(),
            crumbs: Vec::new(),
            csrf: None,
            content: html! {
                h1 { "Find a minute" }
                form.stacked role="search" action="/search" method="get" {
                    label for="search-q" { "Minute number" }
                    input #search-q type="search" name="q" value=(q) placeholder="minute 394";
                    button type="submit" { "Find" }
                }
                @match (number, found) {
                    (None, _) if !q.is_empty() => { p role="status" { "Give a minute number, such as “minute 394”." } },
                    (None, _) => {},
                    (Some(number), Some(hits)) if !hits.is_empty() => {
                        p role="status" { "Minute " (number) " in " (hits.len()) " committees:" }
                        ul {
                            @for (_, name, meeting, _) in &hits {
                                li { a href={ "/meetings/" (meeting) "#minute-" (number) } { (name) ", minute " (number) } }
                            }
                        }
                    },
                    (Some(number), _) => { p role="status" { "No committee has a minute " (number) " yet." } },
                }
            },
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::{word_diff, WORD_DIFF_WORD_PAIRS_MAX};

    /// What went is struck through before what replaced it, by the longest
    /// common run of words; past the size limit, the two texts whole.
    #[test]
    fn a_change_is_shown_word_by_word() {
        let cases = [
            ("The preferred bidder's price was 4% below the estimate.", "The price was below the estimate."),
            ("Members noted the report.", "Members noted the report and asked for a timetable."),
            ("x a y", "y a x"),
            ("a b a b a", "b a b a b"),
            ("the the cat", "the cat the"),
            ("", "Added from nothing."),
            ("Struck   to nothing.", ""),
            ("<b>Tags</b> & ampersands", "<i>Tags</i> & ampersands"),
        ];
        let rendered: Vec<String> = cases
            .iter()
            .map(|(before, after)| format!("{before:?} -> {after:?}\n  {}", word_diff(before, after).into_string()))
            .collect();
        expect_test::expect![[r#"
            "The preferred bidder's price was 4% below the estimate." -> "The price was below the estimate."
              The <del>preferred</del> <del>bidder's</del> price was <del>4%</del> below the estimate.
            "Members noted the report." -> "Members noted the report and asked for a timetable."
              Members noted the <del>report.</del> <ins>report</ins> <ins>and</ins> <ins>asked</ins> <ins>for</ins> <ins>a</ins> <ins>timetable.</ins>
            "x a y" -> "y a x"
              <del>x</del> <del>a</del> y <ins>a</ins> <ins>x</ins>
            "a b a b a" -> "b a b a b"
              <del>a</del> b a b a <ins>b</ins>
            "the the cat" -> "the cat the"
              the <del>the</del> cat <ins>the</ins>
            "" -> "Added from nothing."
              <ins>Added</ins> <ins>from</ins> <ins>nothing.</ins>
            "Struck   to nothing." -> ""
              <del>Struck</del> <del>to</del> <del>nothing.</del>
            "<b>Tags</b> & ampersands" -> "<i>Tags</i> & ampersands"
              <del>&lt;b&gt;Tags&lt;/b&gt;</del> <ins>&lt;i&gt;Tags&lt;/i&gt;</ins> &amp; ampersands"#]].assert_eq(&rendered.join("\n"));

        // Past the limit, the two texts whole: no diff of that size is made.
        let side = (WORD_DIFF_WORD_PAIRS_MAX as f64).sqrt() as usize + 1;
        let (before, after) = ("old ".repeat(side), "new ".repeat(side));
        assert_eq!(word_diff(&before, &after).into_string(), format!("<del>{before}</del> <ins>{after}</ins>"));
        let same = "same ".repeat(side - 2);
        assert_eq!(word_diff(&same, &same).into_string(), same.trim_end(), "within the limit, word by word");
    }
}
