//! The texts people sign: a chair's signing statement for a meeting's
//! minutes, and the key registration statement that proves possession of
//! a new signing key. docs/SIGNING.md gives both byte for byte.
//!
//! Both are UTF-8 lines, each ending in a line feed, in a fixed order.
//! Parsing is strict: a statement is accepted only if printing what was
//! parsed gives back exactly the same bytes.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use minutebook_catalogue::{BodyId, Date, MeetingId, PersonId};
use minutebook_log::TreeHash;
use minutebook_projections::minutes::quote;

/// First line of a chair's signing statement.
pub const SIGNING_STATEMENT_VERSION_LINE: &str = "minutebook signing statement v1";
/// First line of a key registration statement.
pub const KEY_REGISTRATION_VERSION_LINE: &str = "minutebook key registration v1";
/// Longest statement accepted, in bytes.
pub const STATEMENT_BYTES_MAX: usize = 4 * 1024;

/// Why a text is not a signing statement, or a value in it not what its
/// line allows; each says which line or value is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("statement of {bytes} bytes exceeds the limit of {STATEMENT_BYTES_MAX}")]
    TooLarge { bytes: usize },
    #[error("the statement's last line must end with a line feed")]
    NoFinalLineFeed,
    #[error("line 1 is {found:?}, expected {expected:?}")]
    VersionLine { found: String, expected: &'static str },
    #[error("the statement ends before line {line_number}")]
    EndsBefore { line_number: usize },
    #[error("line {line_number} is {line:?}, expected \"{name}: ...\"")]
    NotTheField { line_number: usize, line: String, name: &'static str },
    #[error("line {line_number} ({line:?}) follows the last field")]
    AfterLastField { line_number: usize, line: String },
    /// An id or a date the catalogue does not accept; its words.
    #[error("{0}")]
    Value(String),
    #[error("confirmed by {0:?} is not \"meeting ID agenda item N\"")]
    ConfirmedBy(String),
    #[error("{what} {text:?} is not a number")]
    NotANumber { what: &'static str, text: String },
    #[error("{what} {text:?} is not 64 lowercase hex digits")]
    NotHexDigest { what: &'static str, text: String },
    #[error("{what} is not base64")]
    NotBase64 { what: &'static str },
    #[error("{what} is {bytes} bytes, expected {bytes_expected}")]
    WrongLength { what: &'static str, bytes: usize, bytes_expected: usize },
    #[error("{0:?} is not a quoted text")]
    NotQuoted(String),
    #[error("bad escape in {0:?}")]
    BadEscape(String),
    #[error("the statement is not in its canonical form (docs/SIGNING.md)")]
    NotCanonical,
}

/// What a chair's signature pins.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigningStatement {
    pub body: BodyId,
    pub body_name: String,
    pub meeting: MeetingId,
    pub meeting_date: Date,
    pub confirming_meeting: MeetingId,
    pub confirming_item: u32,
    /// The log's origin line, as in its checkpoints.
    pub log: String,
    pub tree_size: u64,
    pub tree_root: TreeHash,
    /// The meeting stream's events 1..=events are the events confirmed.
    pub events: u64,
    pub events_digest: [u8; 32],
    pub minutes_digest: [u8; 32],
}

impl SigningStatement {
    pub fn to_text(&self) -> String {
        format!(
            "{SIGNING_STATEMENT_VERSION_LINE}\n\
             body: {}\n\
             body name: {}\n\
             meeting: {}\n\
             meeting date: {}\n\
             confirmed by: meeting {} agenda item {}\n\
             log: {}\n\
             tree size: {}\n\
             tree root: {}\n\
             events: {}\n\
             events digest: {}\n\
             minutes digest: {}\n",
            self.body,
            quote(&self.body_name),
            self.meeting,
            self.meeting_date,
            self.confirming_meeting,
            self.confirming_item,
            self.log,
            self.tree_size,
            BASE64.encode(self.tree_root.0),
            self.events,
            minutebook_log::hex(&self.events_digest),
            minutebook_log::hex(&self.minutes_digest),
        )
    }

    /// Parses a statement; the error says which line is wrong.
    pub fn parse(text: &str) -> Result<SigningStatement, Error> {
        if text.len() > STATEMENT_BYTES_MAX {
            return Err(Error::TooLarge { bytes: text.len() });
        }
        let mut lines = Lines::new(text, SIGNING_STATEMENT_VERSION_LINE)?;
        let body = BodyId::new(lines.field("body")?).map_err(Error::Value)?;
        let body_name = lines.field("body name")?.to_owned();
        let meeting = MeetingId::new(lines.field("meeting")?).map_err(Error::Value)?;
        let meeting_date = Date::parse(lines.field("meeting date")?).map_err(Error::Value)?;
        let confirmed_by = lines.field("confirmed by")?;
        let (confirming_meeting, confirming_item) = confirmed_by
            .strip_prefix("meeting ")
            .and_then(|rest| rest.split_once(" agenda item "))
            .ok_or_else(|| Error::ConfirmedBy(confirmed_by.to_owned()))?;
        let confirming_meeting = MeetingId::new(confirming_meeting).map_err(Error::Value)?;
        let confirming_item = number(confirming_item, "confirming agenda item")?;
        let log = lines.field("log")?.to_owned();
        let tree_size = number(lines.field("tree size")?, "tree size")?;
        let tree_root = TreeHash(decode_base64_array(lines.field("tree root")?, "tree root")?);
        let events = number(lines.field("events")?, "events")?;
        let events_digest = hex_digest(lines.field("events digest")?, "events digest")?;
        let minutes_digest = hex_digest(lines.field("minutes digest")?, "minutes digest")?;
        lines.end()?;
        // Names are quoted; take the quoted form apart by printing it again.
        let statement = SigningStatement {
            body,
            body_name: String::new(),
            meeting,
            meeting_date,
            confirming_meeting,
            confirming_item,
            log,
            tree_size,
            tree_root,
            events,
            events_digest,
            minutes_digest,
        };
        let statement = SigningStatement { body_name: unquote(&body_name)?, ..statement };
        if statement.to_text() != text {
            return Err(Error::NotCanonical);
        }
        Ok(statement)
    }
}

/// The statement a new signing key signs to prove its holder has it.
pub fn key_registration_statement(log: &str, person: &PersonId, public_key: &[u8; 32]) -> String {
    format!(
        "{KEY_REGISTRATION_VERSION_LINE}\nlog: {log}\nperson: {person}\npublic key: {}\n",
        BASE64.encode(public_key)
    )
}

struct Lines<'a> {
    lines: std::str::Split<'a, char>,
    line_idx: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str, version_line: &'static str) -> Result<Lines<'a>, Error> {
        if !text.ends_with('\n') {
            return Err(Error::NoFinalLineFeed);
        }
        let mut lines = Lines { lines: text[..text.len() - 1].split('\n'), line_idx: 0 };
        let first = lines.next()?;
        if first != version_line {
            return Err(Error::VersionLine { found: first.to_owned(), expected: version_line });
        }
        Ok(lines)
    }
    fn next(&mut self) -> Result<&'a str, Error> {
        self.line_idx += 1;
        self.lines.next().ok_or(Error::EndsBefore { line_number: self.line_idx })
    }
    fn field(&mut self, name: &'static str) -> Result<&'a str, Error> {
        let line = self.next()?;
        line.strip_prefix(name).and_then(|rest| rest.strip_prefix(": ")).ok_or_else(|| Error::NotTheField {
            line_number: self.line_idx,
            line: line.to_owned(),
            name,
        })
    }
    fn end(&mut self) -> Result<(), Error> {
        match self.lines.next() {
            None => Ok(()),
            Some(line) => Err(Error::AfterLastField { line_number: self.line_idx + 1, line: line.to_owned() }),
        }
    }
}

fn number<T: std::str::FromStr>(text: &str, what: &'static str) -> Result<T, Error> {
    text.parse().map_err(|_| Error::NotANumber { what, text: text.to_owned() })
}

fn hex_digest(text: &str, what: &'static str) -> Result<[u8; 32], Error> {
    let mut out = [0u8; 32];
    minutebook_log::unhex(text, &mut out).ok_or_else(|| Error::NotHexDigest { what, text: text.to_owned() })?;
    Ok(out)
}

/// Decodes standard base64 into exactly `N` bytes; `what` names the
/// value in the error.
pub fn decode_base64_array<const N: usize>(text: &str, what: &'static str) -> Result<[u8; N], Error> {
    let bytes = BASE64.decode(text).map_err(|_| Error::NotBase64 { what })?;
    let length = bytes.len();
    bytes.try_into().map_err(|_| Error::WrongLength { what, bytes: length, bytes_expected: N })
}

/// Undoes `quote`.
fn unquote(text: &str) -> Result<String, Error> {
    let inner = text
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
        .ok_or_else(|| Error::NotQuoted(text.to_owned()))?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('\\') => out.push('\\'),
            Some('"') => out.push('"'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let rest: String = chars.by_ref().take_while(|c| *c != '}').collect();
                let code = rest.strip_prefix('{').and_then(|hex| u32::from_str_radix(hex, 16).ok());
                out.push(code.and_then(char::from_u32).ok_or_else(|| Error::BadEscape(text.to_owned()))?);
            }
            _ => return Err(Error::BadEscape(text.to_owned())),
        }
    }
    Ok(out)
}
