//! A command refused by the rules, with the rule and an officer's words.

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
    /// Every rule, in the order docs/EVENTS.md lists them.
    pub const ALL: [Rule; 17] = [
        Rule::Invalid,
        Rule::NotFound,
        Rule::AlreadyExists,
        Rule::OutOfOrder,
        Rule::NotAMember,
        Rule::NotInSession,
        Rule::MeetingClosed,
        Rule::NotClosed,
        Rule::DraftPublished,
        Rule::VoteExceedsMembers,
        Rule::CastingVote,
        Rule::Confirmation,
        Rule::Signature,
        Rule::BadSignature,
        Rule::Sealed,
        Rule::Correction,
        Rule::Redaction,
    ];

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

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refusal {
    pub rule: Rule,
    pub message: String,
}

impl Refusal {
    pub fn new(rule: Rule, message: impl Into<String>) -> Refusal {
        Refusal { rule, message: message.into() }
    }
}
