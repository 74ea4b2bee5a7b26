//! What each role may read and write: the one place the role matrix is
//! enforced (docs/API.md).
//!
//! What the public may read of the record is decided by one rule, the
//! projections' `visibility`, from what the catalogue declares each event
//! is about: the API's events, stream reads and live feed ask
//! `public_may_read` here, export bundles too, and the minutes, registers,
//! trail and web pages are drawn by views that ask the same rule.

use minutebook_catalogue::{MeetingId, Part};
use minutebook_log::Event;
use minutebook_projections::record::Record;
use minutebook_projections::view::Audience;

use super::tokens::{Caller, Role};

/// Why a caller may not change the record: the public must sign in first
/// (the HTTP layer answers 401), a role that may not is refused (403).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Denied {
    SignInFirst(&'static str),
    Forbidden(&'static str),
}

/// Who may change anything, decided before a request's body is read:
/// the public must sign in, auditors only read, and a member only
/// submits their own signature or key (`members_own`: the change is one
/// of those; checked in full with the command). Which clerk or admin
/// command is allowed is the rules'.
pub fn may_change(caller: &Caller, members_own: bool) -> Result<(), Denied> {
    match caller.role {
        Role::Public => Err(Denied::SignInFirst("changing the record needs a token")),
        Role::Auditor => Err(Denied::Forbidden("auditors read; they do not record")),
        Role::Member if !members_own => {
            Err(Denied::Forbidden("only clerks record meetings; a member submits only their own signature and key"))
        }
        Role::Member | Role::Clerk | Role::Admin => Ok(()),
    }
}

/// The full check of a command against the caller: clerks and admins
/// record; a member submits only their own signature and their own key;
/// no one submits a signature for someone else.
pub fn may_command(caller: &Caller, command: &crate::domain::Command) -> Result<(), Denied> {
    use crate::domain::Command;
    let own = |person: &minutebook_catalogue::PersonId| caller.person.as_deref() == Some(person.as_str());
    let allowed = match (caller.role, command) {
        (Role::Public, _) => {
            return Err(Denied::SignInFirst("recording needs a token"));
        }
        (Role::Member, Command::SignMinutes { signer, .. }) => own(signer),
        (Role::Member, Command::RegisterSigningKey(e)) => own(&e.person),
        (Role::Clerk | Role::Admin, Command::SignMinutes { .. }) => false,
        (Role::Clerk | Role::Admin, _) => true,
        (Role::Member | Role::Auditor, _) => false,
    };
    if !allowed {
        let why = match command {
            Command::SignMinutes { .. } => "a member submits only their own signature",
            Command::RegisterSigningKey(_) if caller.role == Role::Member => "a member registers only their own key",
            _ if caller.role == Role::Member => {
                "only clerks record meetings; a member submits only their own signature and key"
            }
            _ => "only clerks record meetings",
        };
        return Err(Denied::Forbidden(why));
    }
    Ok(())
}

/// Whether the public may read a `part` of a meeting's record belonging
/// to agenda item `item` (for the registers, whose rows come from the
/// record rather than from one event).
pub fn public_may_read_part(record: &Record, meeting: &MeetingId, part: Part, item: Option<u32>) -> bool {
    record
        .meetings
        .get(meeting)
        .is_some_and(|meeting| minutebook_projections::visibility::may_read(meeting, part, item))
}

pub fn audience(caller: &Caller) -> Audience {
    match caller.role {
        Role::Public => Audience::Public,
        Role::Member | Role::Auditor | Role::Clerk | Role::Admin => Audience::Entitled,
    }
}

/// Whether the caller may read this event's payload. Redacted payloads
/// are gone for everyone; the public reads what `public_may_read` allows.
pub fn payload(record: &Record, caller: &Caller, event: &Event) -> bool {
    caller.role != Role::Public || public_may_read(record, event)
}

/// Whether the public may read this event's payload: a register's and a
/// meeting's notice (schedule, agenda, opening, close) at once; the frame
/// of its minutes (an item's heading, its exclusion and public summary,
/// publication, confirmation, signatures) once its draft is published; its
/// content then too, except an exempt item's until it is released. What
/// an event is about is the catalogue's `DomainEvent::subject`.
pub fn public_may_read(record: &Record, event: &Event) -> bool {
    minutebook_projections::visibility::public_may_read_event(record, event)
}
