//! A command refused by the rules, with the rule and an officer's words.

use std::fmt;

/// The rule that refused a command; stable names for clients and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Malformed or out-of-limit input.
    Invalid,
    NotFound,
    AlreadyExists,
    OutOfOrder,
    /// Only members (as at the meeting date) or their substitutes may.
    NotAMember,
    NotInSession,
    MeetingClosed,
    NotClosed,
    DraftPublished,
    VoteExceedsMembers,
    CastingVote,
    Confirmation,
    Signature,
    BadSignature,
    /// Signed minutes change only by correction.
    Sealed,
    Correction,
    Redaction,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Invalid => "invalid",
            Rule::NotFound => "not-found",
            Rule::AlreadyExists => "already-exists",
            Rule::OutOfOrder => "out-of-order",
            Rule::NotAMember => "not-a-member",
            Rule::NotInSession => "not-in-session",
            Rule::MeetingClosed => "meeting-closed",
            Rule::NotClosed => "not-closed",
            Rule::DraftPublished => "draft-published",
            Rule::VoteExceedsMembers => "vote-exceeds-members",
            Rule::CastingVote => "casting-vote",
            Rule::Confirmation => "confirmation",
            Rule::Signature => "signature",
            Rule::BadSignature => "bad-signature",
            Rule::Sealed => "sealed",
            Rule::Correction => "correction",
            Rule::Redaction => "redaction",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub message: String,
}

impl Refusal {
    pub fn new(rule: Rule, message: impl Into<String>) -> Refusal {
        Refusal { rule, message: message.into() }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Refusal {}
