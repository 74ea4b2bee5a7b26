//! The clerk's meeting console: every form is a command of the API, sent
//! by console.js with the meeting's ETag as If-Match, the page's CSRF
//! token and an idempotency key, so that a conflict with another clerk is
//! shown rather than overwritten, and a retry after a lost connection
//! records nothing twice. The minutes render beside the forms.
//!
//! Parts marked `data-refresh` are drawn again from the server after each
//! command; the forms themselves are left alone, so nothing typed is lost.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use maud::{html, Markup};
use minutebook_catalogue::{exempt_paragraphs, PersonId};
use minutebook_projections::record::{EntryKind, Meeting, MeetingStatus, Record};
use minutebook_projections::render;
use minutebook_projections::view::{self, Audience};

use super::{page, trusted, Page, PageError};
use crate::http::session::{cookie_token, csrf_token};
use crate::http::state::AppState;
use crate::policy::tokens::{Caller, Role};

fn may_record(caller: &Caller) -> bool {
    matches!(caller.role, Role::Clerk | Role::Admin)
}

pub async fn console(
    State(state): State<Arc<AppState>>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    if let Some(redirect) = super::sign_in_first(&caller, &format!("/meetings/{id}/console")) {
        return redirect;
    }
    let csrf = cookie_token(&headers).map(csrf_token);
    page(state, caller, move |record, _, caller| {
        if !may_record(caller) {
            return Err(PageError::Forbidden("Only clerks record meetings.".to_owned()));
        }
        let meeting = super::pages::meeting_of(record, &id)?;
        let body = super::pages::body_of(record, meeting.body.as_str())?;
        let date = render::long_date(&meeting.date.to_string());
        Ok(Page {
            title: format!("Recording {}, {date}", body.name),
            crumbs: vec![
                (body.name.clone(), format!("/bodies/{}", body.id)),
                (date.clone(), format!("/meetings/{}", meeting.id)),
                ("Console".to_owned(), format!("/meetings/{}/console", meeting.id)),
            ],
            csrf,
            content: console_content(record, meeting, &body.name, &date),
        })
    })
    .await
}

/// People to choose from: the body's members on the meeting's date first,
/// then everyone else.
fn people_options(record: &Record, meeting: &Meeting, selected: Option<&PersonId>) -> Markup {
    let members = members_on_date(record, meeting);
    html! {
        option value="" { "—" }
        optgroup label="Members" {
            @for person in &members {
                option value=(person) selected[selected == Some(person)] { (view::name_of(record, person)) }
            }
        }
        optgroup label="Others" {
            @for person in record.people.keys().filter(|p| !members.contains(p)) {
                option value=(person) selected[selected == Some(person)] { (view::name_of(record, person)) }
            }
        }
    }
}

fn members_on_date(record: &Record, meeting: &Meeting) -> Vec<PersonId> {
    let Some(body) = record.bodies.get(&meeting.body) else { return Vec::new() };
    let mut members: Vec<PersonId> = Vec::new();
    for tenure in &body.tenures {
        if !members.contains(&tenure.person) && body.role_on(&tenure.person, meeting.date).is_some() {
            members.push(tenure.person.clone());
        }
    }
    members
}

/// The items taken so far, the last one current.
fn current_item(meeting: &Meeting) -> Option<u32> {
    meeting.items.iter().filter(|item| item.withdrawn.is_none()).map(|item| item.number).next_back()
}

fn next_item(meeting: &Meeting) -> Option<u32> {
    meeting.agenda.iter().map(|a| a.number).find(|n| meeting.item(*n).is_none())
}

fn item_options(meeting: &Meeting) -> Markup {
    let current = current_item(meeting);
    html! {
        @for item in meeting.items.iter().filter(|item| item.withdrawn.is_none()) {
            option value=(item.number) selected[Some(item.number) == current] {
                (item.number) ". " (item.title.text)
            }
        }
    }
}

/// The entries a revision, correction or redaction can name.
fn entry_options(record: &Record, meeting: &Meeting) -> Markup {
    html! {
        @for item in &meeting.items {
            optgroup label={ "Item " (item.number) ": " (item.title.text) } {
                option value=(item.seq.0) { "The item's title: " (item.title.text) }
                @for (seq, entry) in item.entries.iter().filter(|(_, e)| !e.struck) {
                    option value=(seq.0) {
                        @match &entry.kind {
                            EntryKind::Point => "Point: ",
                            EntryKind::Decision(_) => "Decision: ",
                            EntryKind::Action { .. } => "Action: ",
                        }
                        (short(&entry.text.text))
                    }
                }
            }
        }
        @for (seq, attendance) in meeting.attendance.iter().map(|a| (a.seq, &a.person)) {
            option value=(seq.0) { "Attendance: " (view::name_of(record, attendance)) }
        }
    }
}

fn short(text: &str) -> String {
    let mut short: String = text.chars().take(70).collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

fn console_content(record: &Record, meeting: &Meeting, body_name: &str, date: &str) -> Markup {
    let id = &meeting.id;
    let members = members_on_date(record, meeting);
    let earlier: Vec<&Meeting> = record
        .meetings
        .values()
        .filter(|m| m.body == meeting.body && m.date < meeting.date && m.draft_published.is_some())
        .collect();
    let preview = view::minutes(record, id, Audience::Entitled).map(|m| render::html(&m)).unwrap_or_default();
    let version = record.stream_version(&meeting.stream()).0;
    html! {
        h1 { "Recording: " (body_name) ", " (date) }
        div #console data-meeting=(id) {
            div #console-state data-refresh hidden data-version=(version)
                data-next-item=[next_item(meeting)] data-status=(format!("{:?}", meeting.status)) {}
            p.small {
                "Each form records at once. If another clerk changed the meeting meanwhile, you are told what changed "
                "and can apply yours again; nothing is overwritten. What you type is kept in this page until it is saved. "
                "Keys: " kbd { "Alt" } "+" kbd { "N" } " takes the next item, " kbd { "Alt" } "+" kbd { "P" }
                " starts a new point, " kbd { "Ctrl" } "+" kbd { "Enter" } " saves the form you are in."
            }
            div #console-status .notice role="status" aria-live="polite" hidden {}
            div #conflict .notice.error role="alert" hidden {
                p #conflict-text {}
                ul #conflict-changes {}
                button #conflict-reapply type="button" { "Apply my change again" }
                " "
                button #conflict-discard .secondary type="button" { "Discard my change" }
            }
            div.console-layout {
                div.console-forms {
                    (meeting_section(meeting))
                    (attendance_section(record, meeting, &members))
                    (declarations_section(record, meeting))
                    (items_section(record, meeting))
                    (after_section(record, meeting, &earlier))
                }
                section.console-preview aria-labelledby="preview-title" tabindex="0" {
                    h2 #preview-title { "The minutes as they stand" }
                    div #preview data-refresh { (trusted(preview)) }
                }
            }
        }
        script src="/static/console.js" defer {}
    }
}

/// A form that sends one command: `path` under the API, its fields, and
/// where its errors are said.
fn command_form(form_id: &str, path: &str, legend: &str, fields: Markup, submit: &str) -> Markup {
    html! {
        form.command id=(form_id) data-path=(path) {
            fieldset {
                legend { (legend) }
                (fields)
                p.form-error role="alert" hidden {}
                button type="submit" { (submit) }
            }
        }
    }
}

fn meeting_section(meeting: &Meeting) -> Markup {
    let id = &meeting.id;
    html! {
        section aria-labelledby="s-meeting" {
            h2 #s-meeting { "The meeting" }
            div data-refresh #meeting-state {
                p { "Status: " strong { (view::status(meeting).banner()) } }
            }
            @if meeting.status == MeetingStatus::Scheduled {
                (command_form("open", &format!("/v1/meetings/{id}/open"), "Open the meeting", html! {
                    label for="open-at" { "Opened at" }
                    input #open-at type="time" name="at" required value=(meeting.start.to_string());
                }, "Open"))
            }
        }
    }
}

fn attendance_section(record: &Record, meeting: &Meeting, members: &[PersonId]) -> Markup {
    let id = &meeting.id;
    html! {
        section aria-labelledby="s-attendance" {
            h2 #s-attendance { "Attendance" }
            table.attendance-table {
                caption.visually-hidden { "The members, and how each attends" }
                thead { tr { th scope="col" { "Member" } th scope="col" { "Recorded" } th scope="col" { "Record" } } }
                tbody data-refresh #attendance-rows {
                    @for person in members {
                        @let name = view::name_of(record, person);
                        @let key = person.as_str();
                        tr {
                            th scope="row" { (name) }
                            td {
                                @if let Some(a) = meeting.attendance_of(person) {
                                    "Present"
                                    @if meeting.presiding().is_some_and(|p| p.person == *person) { ", presiding" }
                                    @if let Some(at) = &a.arrived_at { ", arrived " (at.to_string()) }
                                    @if let Some(at) = &a.left_at { ", left " (at.to_string()) }
                                } @else if let Some(apology) = meeting.apology_of(person) {
                                    "Apologies"
                                    @if let Some(sub) = &apology.substitute { " (substitute: " (view::name_of(record, sub)) ")" }
                                } @else { "—" }
                            }
                            td.row-actions {
                                form.command.inline id={ "present-" (key) } data-path={ "/v1/meetings/" (id) "/attendance" } {
                                    input type="hidden" name="person" value=(person);
                                    input type="hidden" name="as" value="member";
                                    label { input type="checkbox" name="presiding" data-type="bool"; " presiding" }
                                    label.visually-hidden for={ "late-" (key) } { "Arrived late at (" (name) ")" }
                                    input id={ "late-" (key) } type="time" name="arrived_at" data-optional title="Arrived late at";
                                    button type="submit" aria-label={ "Present: " (name) } { "Present" }
                                    span.form-error role="alert" hidden {}
                                }
                                form.command.inline id={ "apologies-" (key) } data-path={ "/v1/meetings/" (id) "/apologies" } {
                                    input type="hidden" name="person" value=(person);
                                    label.visually-hidden for={ "sub-" (key) } { "Substitute for " (name) }
                                    select id={ "sub-" (key) } name="substitute" data-optional {
                                        option value="" { "no substitute" }
                                        @for other in record.people.keys().filter(|p| !members.contains(p)) {
                                            option value=(other) { (view::name_of(record, other)) }
                                        }
                                    }
                                    button type="submit" .secondary aria-label={ "Apologies: " (name) } { "Apologies" }
                                    span.form-error role="alert" hidden {}
                                }
                                form.command.inline id={ "left-" (key) } data-path={ "/v1/meetings/" (id) "/departures" } {
                                    input type="hidden" name="person" value=(person);
                                    label.visually-hidden for={ "left-at-" (key) } { "Left early at (" (name) ")" }
                                    input id={ "left-at-" (key) } type="time" name="at" required title="Left at";
                                    button type="submit" .secondary aria-label={ "Left early: " (name) } { "Left" }
                                    span.form-error role="alert" hidden {}
                                }
                            }
                        }
                    }
                }
            }
            (command_form("substitute", &format!("/v1/meetings/{id}/attendance"), "A substitute attends", html! {
                input type="hidden" name="as" value="substitute";
                label for="substitute-person" { "Substitute" }
                select #substitute-person name="person" required { (people_options(record, meeting, None)) }
                label for="substitute-for" { "In place of" }
                select #substitute-for name="for_member" required { (people_options(record, meeting, None)) }
            }, "Record the substitute"))
            (command_form("also-attended", &format!("/v1/meetings/{id}/attendance"), "Also attended", html! {
                label for="also-person" { "Who" }
                select #also-person name="person" required { (people_options(record, meeting, None)) }
                label for="also-as" { "As" }
                select #also-as name="as" {
                    option value="officer" { "an officer" }
                    option value="guest" { "a guest" }
                }
                label for="also-title" { "Job title or description" }
                input #also-title type="text" name="job_title" data-alias-guest="description" data-optional
                    placeholder="Director of Communities";
            }, "Record"))
        }
    }
}

fn declarations_section(record: &Record, meeting: &Meeting) -> Markup {
    let id = &meeting.id;
    html! {
        section aria-labelledby="s-declarations" {
            h2 #s-declarations { "Declarations of interest" }
            (command_form("declaration", &format!("/v1/meetings/{id}/declarations"), "A declaration", html! {
                label for="decl-person" { "Member" }
                select #decl-person name="person" required { (people_options(record, meeting, None)) }
                label for="decl-item" { "Agenda item" }
                input #decl-item type="number" name="item" data-type="number" min="1" required;
                label for="decl-kind" { "Kind" }
                select #decl-kind name="kind" {
                    option value="DisclosablePecuniary" { "Disclosable pecuniary interest" }
                    option value="OtherRegistrable" { "Other registrable interest" }
                    option value="NonRegistrable" { "Non-registrable interest" }
                }
                label for="decl-nature" { "Nature of the interest" }
                input #decl-nature type="text" name="nature" required;
                label.check { input type="checkbox" name="withdrew" data-type="bool"; " Left the room for the item" }
                label for="decl-dispensation" { "Dispensation (if any)" }
                input #decl-dispensation type="text" name="dispensation" data-optional;
            }, "Record the declaration"))
        }
    }
}

fn items_section(record: &Record, meeting: &Meeting) -> Markup {
    let id = &meeting.id;
    html! {
        section aria-labelledby="s-items" {
            h2 #s-items { "Items" }
            ol.agenda data-refresh #agenda-state {
                @for a in &meeting.agenda {
                    li {
                        (a.number) ". " (a.title)
                        @if meeting.item(a.number).is_some() { " " span.tag.tag-signed { "taken" } }
                    }
                }
            }
            (command_form("take-item", &format!("/v1/meetings/{id}/items"), "Take an item", html! {
                label for="take-item-number" { "Agenda item" }
                input #take-item-number type="number" name="item" data-type="number" min="1" required
                    value=[next_item(meeting)] data-next-item;
            }, "Take the item (Alt+N takes the next)"))
            div data-refresh #current-item-state {
                p { "Current item: " strong #current-item-label {
                    @match current_item(meeting).and_then(|n| meeting.item(n)) {
                        Some(item) => { (item.number) ". " (item.title.text) },
                        None => { "none yet" },
                    }
                } }
            }
            (command_form("point", &format!("/v1/meetings/{id}/points"), "A point made", html! {
                label for="point-item" { "Item" }
                select #point-item name="item" data-type="number" data-refresh-options { (item_options(meeting)) }
                label for="point-text" { "The point (Alt+P)" }
                textarea #point-text name="text" rows="3" required {}
            }, "Record the point"))
            (command_form("decision", &format!("/v1/meetings/{id}/decisions"), "A decision", html! {
                label for="decision-item" { "Item" }
                select #decision-item name="item" data-type="number" data-refresh-options { (item_options(meeting)) }
                label for="decision-kind" { "Kind" }
                select #decision-kind name="kind" {
                    option value="Agreed" { "RESOLVED" }
                    option value="Noted" { "NOTED" }
                    option value="Recommended" { "RECOMMENDED" }
                    option value="Refused" { "REFUSED" }
                }
                label for="decision-text" { "The decision" }
                textarea #decision-text name="text" rows="2" required {}
                label for="decision-vote" { "Vote" }
                select #decision-vote name="vote.kind" data-switch="vote" {
                    option value="counts" { "Counted" }
                    option value="recorded" { "Recorded, by name" }
                    option value="none" { "Without a vote" }
                }
                fieldset.vote data-when="vote=counts" {
                    legend { "Counts" }
                    label for="vote-for" { "For" } input #vote-for type="number" name="vote.for" data-type="number" min="0" value="0";
                    label for="vote-against" { "Against" } input #vote-against type="number" name="vote.against" data-type="number" min="0" value="0";
                    label for="vote-abstain" { "Abstaining" } input #vote-abstain type="number" name="vote.abstain" data-type="number" min="0" value="0";
                }
                fieldset.vote data-when="vote=recorded" disabled {
                    legend { "By name" }
                    label for="rv-for" { "For" } select #rv-for name="vote.for" multiple data-type="list" { (people_options(record, meeting, None)) }
                    label for="rv-against" { "Against" } select #rv-against name="vote.against" multiple data-type="list" { (people_options(record, meeting, None)) }
                    label for="rv-abstain" { "Abstaining" } select #rv-abstain name="vote.abstain" multiple data-type="list" { (people_options(record, meeting, None)) }
                }
                label for="decision-mover" { "Moved by" }
                select #decision-mover name="mover" data-optional { (people_options(record, meeting, None)) }
                label for="decision-seconder" { "Seconded by" }
                select #decision-seconder name="seconder" data-optional { (people_options(record, meeting, None)) }
                label for="decision-casting" { "Casting vote of the chair (on a tie)" }
                select #decision-casting name="casting_vote.in_favour" data-type="bool-choice" data-optional {
                    option value="" { "none" }
                    option value="true" { "in favour" }
                    option value="false" { "against" }
                }
                input type="hidden" name="casting_vote.chair" data-optional data-from-presiding
                    value=[meeting.presiding().map(|p| p.person.clone())];
            }, "Record the decision"))
            (command_form("action", &format!("/v1/meetings/{id}/actions"), "An action agreed", html! {
                label for="action-item" { "Item" }
                select #action-item name="item" data-type="number" data-refresh-options { (item_options(meeting)) }
                label for="action-owner" { "Who will act" }
                input #action-owner type="text" name="owner" required placeholder="the Director of Communities";
                label for="action-text" { "The action" }
                textarea #action-text name="text" rows="2" required {}
                label for="action-due" { "Due" }
                input #action-due type="date" name="due" data-optional;
            }, "Record the action"))
            (command_form("exclude", &format!("/v1/meetings/{id}/exclusions"), "Exclude the press and public for an item", html! {
                label for="exclude-item" { "Item" }
                select #exclude-item name="item" data-type="number" data-refresh-options { (item_options(meeting)) }
                label for="exclude-paragraph" { "Paragraph of Schedule 12A" }
                select #exclude-paragraph name="paragraph" data-type="number" {
                    @for (number, ground) in exempt_paragraphs() {
                        option value=(number) { (number) ": " (short(ground)) }
                    }
                }
            }, "Exclude the public"))
            (command_form("close", &format!("/v1/meetings/{id}/close"), "Close the meeting", html! {
                label for="close-at" { "Ended at" }
                input #close-at type="time" name="at" required;
            }, "Close the meeting"))
        }
    }
}

fn after_section(record: &Record, meeting: &Meeting, earlier: &[&Meeting]) -> Markup {
    let id = &meeting.id;
    html! {
        section aria-labelledby="s-after" {
            h2 #s-after { "After the meeting" }
            (command_form("revise", &format!("/v1/meetings/{id}/revisions"), "Revise the draft", html! {
                label for="revise-target" { "What to change" }
                select #revise-target name="change.ReplaceText.target" data-type="number" data-refresh-options {
                    (entry_options(record, meeting))
                }
                label for="revise-text" { "New text" }
                textarea #revise-text name="change.ReplaceText.text" rows="2" required {}
                label for="revise-reason" { "Reason" }
                input #revise-reason type="text" name="reason" required;
            }, "Revise"))
            (command_form("publish", &format!("/v1/meetings/{id}/draft"), "Publish the draft", html! {
                p.small { "Gives the items their minute numbers and shows the draft to the public." }
            }, "Publish the draft"))
            (command_form("confirm", "/v1/meetings/{meeting}/confirmation", "Confirm earlier minutes at this meeting", html! {
                label for="confirm-meeting" { "Minutes of" }
                select #confirm-meeting name="meeting" data-path-only data-if-match-of="meeting" {
                    @for m in earlier {
                        option value=(m.id) { (render::long_date(&m.date.to_string())) }
                    }
                }
                input type="hidden" name="by_meeting" value=(id);
                label for="confirm-item" { "By this meeting's item" }
                select #confirm-item name="by_item" data-type="number" data-refresh-options { (item_options(meeting)) }
            }, "Record the confirmation"))
            (command_form("correct", &format!("/v1/meetings/{id}/corrections"), "Correct these signed minutes", html! {
                label for="correct-target" { "What to correct" }
                select #correct-target name="target" data-type="number" data-refresh-options { (entry_options(record, meeting)) }
                label for="correct-text" { "Corrected text" }
                textarea #correct-text name="text" rows="2" required {}
                label for="correct-by-meeting" { "Authorised at the meeting" }
                select #correct-by-meeting name="by_meeting" {
                    @for m in record.meetings.values().filter(|m| m.body == meeting.body && m.date > meeting.date) {
                        option value=(m.id) { (render::long_date(&m.date.to_string())) }
                    }
                }
                label for="correct-by-item" { "By its item number" }
                input #correct-by-item type="number" name="by_item" data-type="number" min="1" required;
                label for="correct-reason" { "Reason" }
                input #correct-reason type="text" name="reason" required;
            }, "Record the correction"))
            (command_form("redact", "/v1/events/{seq}/redaction", "Redact a detail", html! {
                label for="redact-seq" { "Which record" }
                select #redact-seq name="seq" data-path-only data-no-if-match data-refresh-options { (entry_options(record, meeting)) }
                label for="redact-basis" { "Legal basis" }
                input #redact-basis type="text" name="legal_basis" required placeholder="UK GDPR Article 17 request";
            }, "Redact"))
        }
    }
}
