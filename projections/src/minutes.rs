//! The minutes of a meeting as canonical text: one line per fact, in a
//! fixed order, every free text quoted. Its BLAKE3 digest is what a chair's
//! signing statement pins (docs/SIGNING.md gives the format line by line),
//! so this rendering is a format: changing it needs a new version line.
//!
//! The canonical text holds the full record, exempt content included; it
//! leaves out what comes after confirmation (the confirmation, signatures,
//! corrections) and the status, so that the text the chair signs is the
//! text that was confirmed.

use std::fmt::Write;

use minutebook_catalogue::{Capacity, MeetingId, PersonId, Vote};

use crate::record::{EntryKind, Meeting, Record};

/// The first line of the canonical text; names its version.
pub const CANONICAL_MINUTES_VERSION_LINE: &str = "minutebook canonical minutes v1";

/// BLAKE3 over the canonical text's UTF-8 bytes.
pub fn minutes_digest(text: &str) -> [u8; 32] {
    *blake3::hash(text.as_bytes()).as_bytes()
}

/// BLAKE3 over the 32-byte hashes of the meeting stream's first `events`
/// events, concatenated in stream order; `None` when the record holds
/// fewer of the meeting's events than that. The count comes from an event
/// (a confirmation, a signed statement), and a crafted log can give any.
pub fn events_digest(meeting: &Meeting, events: u64) -> Option<[u8; 32]> {
    let hashes = meeting.event_hashes.get(..usize::try_from(events).ok()?)?;
    let mut hasher = blake3::Hasher::new();
    for hash in hashes {
        hasher.update(&hash.0);
    }
    Some(*hasher.finalize().as_bytes())
}

/// The canonical text of a meeting's minutes as the record stands.
pub fn canonical_text(record: &Record, meeting_id: &MeetingId) -> Option<String> {
    let meeting = record.meetings.get(meeting_id)?;
    let body = record.bodies.get(&meeting.body)?;
    let name = |person: &PersonId| -> String {
        let display = record.people.get(person).map_or_else(|| "(unregistered)".to_owned(), |p| p.display_name());
        format!("{person} {}", quote(&display))
    };
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(CANONICAL_MINUTES_VERSION_LINE.to_owned());
    line(format!("body: {} {}", body.id, quote(&body.name)));
    line(format!("meeting: {}", meeting.id));
    line(format!("date: {}", meeting.date));
    line(format!("start: {}", meeting.start));
    line(format!("venue: {}", quote(&meeting.venue)));
    if let Some(reason) = &meeting.cancelled_reason {
        line(format!("cancelled: {}", quote(reason)));
    }
    for attendance in &meeting.attendance {
        let mut text = match &attendance.capacity {
            Capacity::Member { role } => format!("present: {} as {}", name(&attendance.person), quote(role.title())),
            Capacity::Substitute { for_member } => {
                format!("present: {} as substitute for {}", name(&attendance.person), for_member)
            }
            Capacity::Guest { description } => {
                format!("also attended: {} as guest {}", name(&attendance.person), quote(description))
            }
            Capacity::Officer { job_title } => {
                format!("also attended: {} as officer {}", name(&attendance.person), quote(job_title))
            }
        };
        if attendance.presiding {
            text.push_str(", presiding");
        }
        if let Some(at) = attendance.arrived_at {
            let _ = write!(text, ", arrived {at}");
        }
        if let Some(at) = attendance.left_at {
            let _ = write!(text, ", left {at}");
        }
        line(text);
    }
    for apology in &meeting.apologies {
        match &apology.substitute {
            Some(substitute) => line(format!("apologies: {}, substitute {substitute}", name(&apology.person))),
            None => line(format!("apologies: {}", name(&apology.person))),
        }
    }
    for paper in &meeting.papers {
        let paper = &paper.paper;
        line(format!(
            "paper: {} {} {} bytes {} blake3 {}{}",
            quote(&paper.reference),
            quote(&paper.title),
            paper.size_bytes,
            quote(&paper.media_type),
            minutebook_log::hex(&paper.content_hash),
            paper.item.map(|item| format!(" item {item}")).unwrap_or_default()
        ));
    }
    for declaration in &meeting.declarations {
        let d = &declaration.declaration;
        let mut text =
            format!("declaration: item {} {} {} {}", d.item, name(&d.person), quote(d.kind.title()), quote(&d.nature));
        if d.withdrew {
            text.push_str(", withdrew");
        }
        if let Some(dispensation) = &d.dispensation {
            let _ = write!(text, ", dispensation {}", quote(dispensation));
        }
        line(text);
    }
    for (_, whip) in &meeting.whips {
        line(format!(
            "whip: item {} {} party {} {}",
            whip.item,
            name(&whip.person),
            quote(&whip.party),
            quote(&whip.nature)
        ));
    }
    for item in meeting.items.iter().filter(|item| item.withdrawn.is_none()) {
        let number = match item.minute {
            Some(minute) => format!("minute {minute} (agenda item {})", item.number),
            None => format!("agenda item {}", item.number),
        };
        line(format!("{number}: {} {}", item.kind.name(), quote(&item.title.text)));
        for (_, presenter) in &item.presenters {
            line(format!("  presented by: {} {}", name(&presenter.person), quote(&presenter.description)));
        }
        if let Some(paragraph) = item.exempt_paragraph {
            line(format!("  public excluded: schedule 12A paragraph {paragraph}"));
        }
        if let Some(summary) = &item.exempt_summary {
            line(format!("  public summary: {}", quote(&summary.text)));
        }
        if let Some(reason) = &item.exempt_released {
            line(format!("  released from exemption: {}", quote(reason)));
        }
        for entry in item.entries.values().filter(|entry| !entry.struck) {
            match &entry.kind {
                EntryKind::Point => line(format!("  point: {}", quote(&entry.text.text))),
                EntryKind::Decision(decision) => {
                    line(format!("  decision: {} {}", decision.kind.title(), quote(&entry.text.text)));
                    match &decision.vote {
                        Vote::None => {}
                        Vote::Counts { for_, against, abstain } => {
                            line(format!("    vote: for {for_}, against {against}, abstain {abstain}"))
                        }
                        Vote::Recorded { for_, against, abstain } => {
                            line(format!("    recorded vote for: {}", ids(for_)));
                            line(format!("    recorded vote against: {}", ids(against)));
                            line(format!("    recorded vote abstain: {}", ids(abstain)));
                        }
                    }
                    if let Some(casting) = &decision.casting_vote {
                        let way = if casting.in_favour { "for" } else { "against" };
                        line(format!("    casting vote: {} {way}", casting.chair));
                    }
                    if let Some(mover) = &decision.mover {
                        line(format!("    moved: {mover}"));
                    }
                    if let Some(seconder) = &decision.seconder {
                        line(format!("    seconded: {seconder}"));
                    }
                    for member in &decision.conflicts {
                        line(format!("    flagged: {member} voted after declaring a disclosable pecuniary interest"));
                    }
                }
                EntryKind::Action { action, .. } => {
                    let due = action.due.map(|due| format!(" by {due}")).unwrap_or_default();
                    line(format!("  action: {} {}{due}", quote(&action.owner), quote(&entry.text.text)));
                }
            }
        }
    }
    if let Some(closed) = &meeting.closed {
        line(format!("closed: {}", closed.at));
        line(format!(
            "quorum: {} voting members present, quorum {}, {}",
            closed.voting_members_present,
            closed.quorum,
            if closed.quorate { "quorate" } else { "inquorate" }
        ));
    }
    Some(out)
}

fn ids(people: &[PersonId]) -> String {
    people.iter().map(PersonId::as_str).collect::<Vec<_>>().join(" ")
}

/// Free text in double quotes, with backslash, double quote and control
/// characters escaped as `\\`, `\"`, `\n`, `\r`, `\t` and `\u{XX}`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
