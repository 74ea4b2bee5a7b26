//! The minutes model drawn as Markdown and as HTML, in the conventional
//! layout of English council minutes: heading, Present, Also attended,
//! Apologies, Available papers, then the numbered minutes with their
//! declarations, main points, resolutions (with votes) and actions, the
//! time the meeting ended, and the confirmation and signature block.

use std::fmt::Write;

use crate::view::{EntryView, MinuteItem, Minutes};

/// "Thursday 5 March 2026" from `YYYY-MM-DD`.
pub fn long_date(date: &str) -> String {
    match date.parse::<jiff::civil::Date>() {
        Ok(d) => format!("{:?} {} {} {}", d.weekday(), d.day(), month_name(d.month()), d.year()),
        Err(_) => date.to_owned(),
    }
}

fn month_name(month: i8) -> &'static str {
    const MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    MONTHS[(month as usize).clamp(1, 12) - 1]
}

/// "6.30 pm" from `HH:MM`, as UK minutes give times.
pub fn clock_time(time: &str) -> String {
    let Some((hour, minute)) = time.split_once(':').and_then(|(h, m)| Some((h.parse::<u8>().ok()?, m))) else {
        return time.to_owned();
    };
    let (hour12, half) = match hour {
        0 => (12, "am"),
        1..=11 => (hour, "am"),
        12 => (12, "pm"),
        _ => (hour - 12, "pm"),
    };
    format!("{hour12}.{minute} {half}")
}

fn heading_number(item: &MinuteItem) -> String {
    match item.minute {
        Some(minute) => format!("{minute}."),
        None => format!("Item {}.", item.item),
    }
}

fn attendee_text(a: &crate::view::Attendee, is_member: bool) -> String {
    let mut text = md(&a.name);
    match (&a.substitute_for, is_member) {
        (Some(for_member), _) => {
            let _ = write!(text, " (substitute for {})", md(for_member));
        }
        (None, true) if matches!(a.description.as_str(), "Member") => {}
        (None, _) => {
            let _ = write!(text, " ({})", md(&a.description));
        }
    }
    if a.presiding {
        text.push_str(", presiding");
    }
    if let Some(at) = &a.arrived_at {
        let _ = write!(text, ", arrived at {}", clock_time(at));
    }
    if let Some(at) = &a.left_at {
        let _ = write!(text, ", left at {}", clock_time(at));
    }
    text
}

fn apology_text(apology: &crate::view::ApologyLine) -> String {
    match &apology.substitute {
        Some(substitute) => format!("{} (substitute: {})", md(&apology.name), md(substitute)),
        None => md(&apology.name),
    }
}

fn join_or_none(lines: Vec<String>) -> String {
    if lines.is_empty() {
        "None".to_owned()
    } else {
        lines.join("; ")
    }
}

/// The minutes as Markdown.
pub fn markdown(minutes: &Minutes) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}\n", md(&minutes.body_name));
    let _ = writeln!(
        out,
        "Minutes of the meeting held on {} at {}, {}.\n",
        long_date(&minutes.date),
        clock_time(&minutes.start),
        md(&minutes.venue)
    );
    let _ = writeln!(out, "**{}**\n", minutes.banner);
    if let Some(reason) = &minutes.cancelled_reason {
        let _ = writeln!(out, "The meeting was cancelled: {}\n", md(reason));
    }
    if !minutes.content_visible {
        out.push_str("The minutes of this meeting have not been published yet.\n");
        return out;
    }
    let present = minutes.present.iter().map(|a| attendee_text(a, true)).collect();
    let _ = writeln!(out, "**Present:** {}\n", join_or_none(present));
    let also = minutes.also_attended.iter().map(|a| attendee_text(a, false)).collect::<Vec<_>>();
    if !also.is_empty() {
        let _ = writeln!(out, "**Also attended:** {}\n", also.join("; "));
    }
    let apologies = minutes.apologies.iter().map(apology_text).collect();
    let _ = writeln!(out, "**Apologies:** {}\n", join_or_none(apologies));
    if !minutes.papers.is_empty() {
        out.push_str("**Available papers:**\n\n");
        for paper in &minutes.papers {
            let _ = writeln!(
                out,
                "- {}. {} ({}, {} bytes, BLAKE3 `{}`)",
                md(&paper.reference),
                md(&paper.title),
                md(&paper.media_type),
                paper.size_bytes,
                paper.content_hash
            );
        }
        out.push('\n');
    }
    for item in &minutes.items {
        let _ = writeln!(out, "## {} {}\n", heading_number(item), md(&item.title));
        markdown_item(&mut out, minutes, item);
    }
    if let Some(ended) = &minutes.ended_at {
        let _ = writeln!(out, "The meeting ended at {}.\n", clock_time(ended));
    }
    if let Some(quorum) = &minutes.quorum {
        if !quorum.quorate {
            let _ = writeln!(
                out,
                "**Inquorate:** {} voting members were present at the close; the quorum is {}.\n",
                quorum.voting_members_present, quorum.quorum
            );
        }
    }
    markdown_seal(&mut out, minutes);
    out
}

fn markdown_item(out: &mut String, minutes: &Minutes, item: &MinuteItem) {
    if let Some(exempt) = &item.exempt {
        let _ = writeln!(
            out,
            "*Exempt item: the public were excluded under paragraph {} of Schedule 12A to the Local Government Act 1972 ({}).*\n",
            exempt.paragraph,
            md(&exempt.ground)
        );
        if let Some(summary) = &exempt.summary {
            let _ = writeln!(out, "Summary: {}\n", md(summary));
        }
        if let Some(released) = &exempt.released {
            let _ = writeln!(out, "Released from exemption: {}\n", md(released));
        }
    }
    for d in minutes.declarations.iter().filter(|d| d.item == item.item) {
        let _ = writeln!(
            out,
            "{} declared an interest ({}): {}.{}{}\n",
            md(&d.name),
            d.kind,
            md(&d.nature),
            if d.withdrew { " They left the room for this item." } else { "" },
            d.dispensation.as_ref().map(|text| format!(" Dispensation: {}.", md(text))).unwrap_or_default()
        );
    }
    for presenter in &item.presenters {
        let _ = writeln!(out, "Presented by {}.\n", md(presenter));
    }
    if item.withheld {
        out.push_str("The content of this item is exempt and is not published.\n\n");
        return;
    }
    let points: Vec<&str> = item
        .entries
        .iter()
        .filter_map(|e| match &e.kind {
            EntryView::Point { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    if !points.is_empty() {
        out.push_str("The main points made were:\n\n");
        for point in points {
            let _ = writeln!(out, "- {}", md(point));
        }
        out.push('\n');
    }
    for entry in &item.entries {
        match &entry.kind {
            EntryView::Point { .. } => {}
            EntryView::Decision { resolution, text, vote, casting_vote, mover, seconder, flagged } => {
                let _ = writeln!(out, "**{resolution}:** {}\n", md(text));
                if let (Some(mover), Some(seconder)) = (mover, seconder) {
                    let _ = writeln!(out, "Moved by {}, seconded by {}.\n", md(mover), md(seconder));
                } else if let Some(mover) = mover {
                    let _ = writeln!(out, "Moved by {}.\n", md(mover));
                }
                if let Some(vote) = vote {
                    let _ = writeln!(out, "{}\n", md(vote));
                }
                if let Some(casting) = casting_vote {
                    let _ = writeln!(out, "{}.\n", md(casting));
                }
                for member in flagged {
                    let _ = writeln!(
                        out,
                        "**Flagged:** {} voted after declaring a disclosable pecuniary interest in this item.\n",
                        md(member)
                    );
                }
            }
            EntryView::Action { owner, text, due, closed } => {
                let due = due.as_ref().map(|d| format!(" (by {})", long_date(d))).unwrap_or_default();
                let closed = if *closed { " — closed" } else { "" };
                let _ = writeln!(out, "**Action:** {}: {}{due}{closed}\n", md(owner), md(text));
            }
        }
    }
}

fn markdown_seal(out: &mut String, minutes: &Minutes) {
    if let Some(c) = &minutes.confirmation {
        let minute = c.by_minute.map(|m| format!("minute {m}")).unwrap_or_else(|| format!("agenda item {}", c.by_item));
        let date = c.by_meeting_date.as_deref().map(long_date).unwrap_or_default();
        let _ = writeln!(out, "Confirmed as a correct record by {minute} of the meeting held on {date}.\n");
    }
    for s in &minutes.signatures {
        let _ = writeln!(out, "Signed by {} (presiding) on {}.", md(&s.name), s.signed_at);
        if let (Some(size), Some(root)) = (s.tree_size, &s.tree_root) {
            let _ = writeln!(out, "Pinned to the log at tree size {size}, root `{root}`.");
        }
        out.push('\n');
    }
    for c in &minutes.corrections {
        let (Some(by_meeting), Some(by_item), false) = (&c.by_meeting, c.by_item, c.withheld) else {
            let _ = writeln!(
                out,
                "**Correction** ({}): a correction of exempt content, which is not published.\n",
                c.recorded_at
            );
            continue;
        };
        let minute = c.minute.map(|m| format!("Minute {m}")).unwrap_or_else(|| "The minutes".to_owned());
        let authority = c.by_minute.map(|m| format!("minute {m}")).unwrap_or_else(|| format!("agenda item {by_item}"));
        let _ = writeln!(
            out,
            "**Correction** ({}): {minute} read \"{}\"; it now reads \"{}\". Authorised by {authority} of meeting {}. Reason: {}.\n",
            c.recorded_at,
            md(&c.superseded),
            md(&c.text),
            by_meeting,
            md(&c.reason)
        );
    }
}

/// Escapes text for Markdown, so that what people wrote is never read as
/// formatting.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '\\' | '*' | '_' | '`' | '[' | ']' | '<' | '>' | '#' | '|') {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The minutes as an HTML fragment (an `<article>`), every text escaped.
pub fn html(minutes: &Minutes) -> String {
    let e = escape;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<article class=\"minutes\" data-status=\"{}\">",
        e(&format!("{:?}", minutes.status)).to_lowercase()
    );
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", e(&minutes.body_name));
    let _ = writeln!(
        out,
        "<p>Minutes of the meeting held on <time datetime=\"{}\">{}</time> at {}, {}.</p>",
        e(&minutes.date),
        e(&long_date(&minutes.date)),
        e(&clock_time(&minutes.start)),
        e(&minutes.venue)
    );
    let _ = writeln!(out, "<p class=\"status\" role=\"status\">{}</p>\n</header>", e(&minutes.banner));
    if let Some(reason) = &minutes.cancelled_reason {
        let _ = writeln!(out, "<p>The meeting was cancelled: {}</p>", e(reason));
    }
    if !minutes.content_visible {
        out.push_str("<p>The minutes of this meeting have not been published yet.</p>\n</article>\n");
        return out;
    }
    let list = |out: &mut String, id: &str, title: &str, lines: Vec<String>| {
        let _ = writeln!(out, "<section aria-labelledby=\"{id}\">\n<h2 id=\"{id}\">{title}</h2>");
        if lines.is_empty() {
            out.push_str("<p>None</p>\n");
        } else {
            out.push_str("<ul>\n");
            for line in lines {
                let _ = writeln!(out, "<li>{}</li>", inline(&line));
            }
            out.push_str("</ul>\n");
        }
        out.push_str("</section>\n");
    };
    list(&mut out, "present", "Present", minutes.present.iter().map(|a| attendee_text(a, true)).collect());
    if !minutes.also_attended.is_empty() {
        list(
            &mut out,
            "also-attended",
            "Also attended",
            minutes.also_attended.iter().map(|a| attendee_text(a, false)).collect(),
        );
    }
    let apologies = minutes.apologies.iter().map(apology_text).collect();
    list(&mut out, "apologies", "Apologies", apologies);
    if !minutes.papers.is_empty() {
        out.push_str("<section aria-labelledby=\"papers\">\n<h2 id=\"papers\">Available papers</h2>\n<ul>\n");
        for paper in &minutes.papers {
            let _ = writeln!(
                out,
                "<li>{}. <a href=\"/v1/papers/{}\" type=\"{}\">{}</a> ({} bytes, BLAKE3 <code>{}</code>)</li>",
                e(&paper.reference),
                e(&paper.content_hash),
                e(&paper.media_type),
                e(&paper.title),
                paper.size_bytes,
                e(&paper.content_hash)
            );
        }
        out.push_str("</ul>\n</section>\n");
    }
    for item in &minutes.items {
        let id = match item.minute {
            Some(minute) => format!("minute-{minute}"),
            None => format!("item-{}", item.item),
        };
        let _ = writeln!(out, "<section class=\"minute\" id=\"{id}\" aria-labelledby=\"{id}-title\">");
        let _ = writeln!(out, "<h2 id=\"{id}-title\">{} {}</h2>", e(&heading_number(item)), e(&item.title));
        // The item's Markdown body, drawn as HTML paragraphs and lists.
        let mut body = String::new();
        markdown_item(&mut body, minutes, item);
        out.push_str(&markdown_blocks_to_html(&body));
        out.push_str("</section>\n");
    }
    let mut tail = String::new();
    if let Some(ended) = &minutes.ended_at {
        let _ = writeln!(tail, "The meeting ended at {}.\n", clock_time(ended));
    }
    if let Some(quorum) = minutes.quorum.as_ref().filter(|q| !q.quorate) {
        let _ = writeln!(
            tail,
            "**Inquorate:** {} voting members were present at the close; the quorum is {}.\n",
            quorum.voting_members_present, quorum.quorum
        );
    }
    out.push_str(&markdown_blocks_to_html(&tail));
    let mut seal = String::new();
    markdown_seal(&mut seal, minutes);
    if !seal.is_empty() {
        out.push_str("<footer class=\"seal\">\n");
        out.push_str(&markdown_blocks_to_html(&seal));
        out.push_str("</footer>\n");
    }
    out.push_str("</article>\n");
    out
}

/// The small Markdown this module writes (paragraphs, `- ` lists, `**`,
/// `*` and backticks) as HTML, escaping everything else.
fn markdown_blocks_to_html(markdown: &str) -> String {
    let mut out = String::new();
    for block in markdown.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        if block.lines().all(|line| line.starts_with("- ")) {
            out.push_str("<ul>\n");
            for line in block.lines() {
                let _ = writeln!(out, "<li>{}</li>", inline(&line[2..]));
            }
            out.push_str("</ul>\n");
        } else {
            let _ = writeln!(out, "<p>{}</p>", inline(&block.replace('\n', " ")));
        }
    }
    out
}

fn inline(text: &str) -> String {
    let escaped = escape(text);
    let mut out = String::new();
    let mut rest = escaped.as_str();
    let mut open = Vec::new();
    while let Some(at) = rest.find(['*', '`', '\\']) {
        out.push_str(&rest[..at]);
        if rest[at..].starts_with('\\') {
            // A backslash escape: the next character stands for itself.
            let mut chars = rest[at + 1..].chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        }
        let (marker, tag) = if rest[at..].starts_with("**") {
            ("**", "strong")
        } else if rest[at..].starts_with('*') {
            ("*", "em")
        } else {
            ("`", "code")
        };
        if open.last() == Some(&tag) {
            let _ = write!(out, "</{tag}>");
            open.pop();
        } else {
            let _ = write!(out, "<{tag}>");
            open.push(tag);
        }
        rest = &rest[at + marker.len()..];
    }
    out.push_str(rest);
    while let Some(tag) = open.pop() {
        let _ = write!(out, "</{tag}>");
    }
    out
}
