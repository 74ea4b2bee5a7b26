//! The values events carry: identifiers, civil dates and times of day, and
//! the closed sets of kinds (roles, interests, decisions) the rules name.
//!
//! Every value checks itself when it is made from text or decoded, so an
//! event payload that decodes holds only valid values.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Longest identifier (body, meeting, person), in bytes.
pub const ID_BYTES_MAX: usize = 64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $stream_prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// Accepts 1 to 64 bytes of lowercase ASCII letters, digits and
            /// hyphens, starting with a letter or digit.
            pub fn new(text: &str) -> Result<$name, String> {
                check_id(text).map(|()| $name(text.to_owned()))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
            /// The log stream that holds this entity's events.
            pub fn stream(&self) -> String {
                format!(concat!($stream_prefix, ":{}"), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        // Ordered and hashed as its text, so maps keyed by it can be
        // searched with a `&str`.
        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<$name, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::new(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

id_type!(
    /// A body (council, committee, panel, board): stream `body:<id>`.
    BodyId,
    "body"
);
id_type!(
    /// A meeting of a body: stream `meeting:<id>`.
    MeetingId,
    "meeting"
);
id_type!(
    /// A person (member, officer, guest): stream `person:<id>`.
    PersonId,
    "person"
);

fn check_id(text: &str) -> Result<(), String> {
    if text.is_empty() || text.len() > ID_BYTES_MAX {
        return Err(format!("identifier of {} bytes is outside 1 to {ID_BYTES_MAX}", text.len()));
    }
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
    if !text.chars().all(allowed) || text.starts_with('-') {
        return Err(format!(
            "identifier {text:?} may hold only lowercase letters, digits and hyphens, and not start with a hyphen"
        ));
    }
    Ok(())
}

/// A civil (calendar) date, read in the body's timezone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Accepts dates from 1900-01-01 to 9999-12-31.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, String> {
        let valid =
            (1900..=9999).contains(&year) && (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month);
        if !valid {
            return Err(format!("{year:04}-{month:02}-{day:02} is not a calendar date"));
        }
        Ok(Date { year, month, day })
    }
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let bad = || format!("date {text:?} is not of the form YYYY-MM-DD");
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return Err(bad());
        }
        let year = text[0..4].parse().map_err(|_| bad())?;
        let month = text[5..7].parse().map_err(|_| bad())?;
        let day = text[8..10].parse().map_err(|_| bad())?;
        Date::new(year, month, day)
    }
    pub fn year(self) -> u16 {
        self.year
    }
    pub fn month(self) -> u8 {
        self.month
    }
    pub fn day(self) -> u8 {
        self.day
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A time of day to the minute, in the body's timezone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay {
    hour: u8,
    minute: u8,
}

impl TimeOfDay {
    pub fn new(hour: u8, minute: u8) -> Result<TimeOfDay, String> {
        if hour > 23 || minute > 59 {
            return Err(format!("{hour:02}:{minute:02} is not a time of day"));
        }
        Ok(TimeOfDay { hour, minute })
    }
    /// Parses `HH:MM` (24-hour clock).
    pub fn parse(text: &str) -> Result<TimeOfDay, String> {
        let bad = || format!("time {text:?} is not of the form HH:MM");
        let bytes = text.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' {
            return Err(bad());
        }
        TimeOfDay::new(text[0..2].parse().map_err(|_| bad())?, text[3..5].parse().map_err(|_| bad())?)
    }
    pub fn hour(self) -> u8 {
        self.hour
    }
    pub fn minute(self) -> u8 {
        self.minute
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

// Dates and times are encoded as their components in postcard (the year
// as a varint, the rest as one byte each) and as text ("2026-03-05",
// "18:30") in human-readable formats such as JSON; both are checked again
// when decoded.
impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            (self.year, self.month, self.day).serialize(serializer)
        }
    }
}
impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Date, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            return Date::parse(&text).map_err(serde::de::Error::custom);
        }
        let (year, month, day) = <(u16, u8, u8)>::deserialize(deserializer)?;
        Date::new(year, month, day).map_err(serde::de::Error::custom)
    }
}
impl Serialize for TimeOfDay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.collect_str(self)
        } else {
            (self.hour, self.minute).serialize(serializer)
        }
    }
}
impl<'de> Deserialize<'de> for TimeOfDay {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TimeOfDay, D::Error> {
        if deserializer.is_human_readable() {
            let text = String::deserialize(deserializer)?;
            return TimeOfDay::parse(&text).map_err(serde::de::Error::custom);
        }
        let (hour, minute) = <(u8, u8)>::deserialize(deserializer)?;
        TimeOfDay::new(hour, minute).map_err(serde::de::Error::custom)
    }
}

/// What kind of body it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BodyKind {
    Council,
    Cabinet,
    Committee,
    SubCommittee,
    Panel,
    Board,
}

/// A member's place on a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MemberRole {
    Chair,
    ViceChair,
    Member,
    /// A co-opted member, who votes only where the appointment says so.
    CoOpted {
        voting: bool,
    },
}

impl MemberRole {
    pub fn votes(self) -> bool {
        !matches!(self, MemberRole::CoOpted { voting: false })
    }
    pub fn title(self) -> &'static str {
        match self {
            MemberRole::Chair => "Chair",
            MemberRole::ViceChair => "Vice-Chair",
            MemberRole::Member => "Member",
            MemberRole::CoOpted { voting: true } => "Co-opted Member, voting",
            MemberRole::CoOpted { voting: false } => "Co-opted Member, non-voting",
        }
    }
}

/// The kind of an interest declared (Localism Act 2011 and members' codes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum InterestKind {
    DisclosablePecuniary,
    OtherRegistrable,
    NonRegistrable,
}

impl InterestKind {
    pub fn title(self) -> &'static str {
        match self {
            InterestKind::DisclosablePecuniary => "disclosable pecuniary interest",
            InterestKind::OtherRegistrable => "other registrable interest",
            InterestKind::NonRegistrable => "non-registrable interest",
        }
    }
}

/// The standard items of an agenda, then the substantive ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ItemKind {
    Apologies,
    Declarations,
    PublicParticipation,
    ConfirmationOfMinutes,
    Substantive,
}

impl ItemKind {
    /// The kind's name in canonical texts and documents.
    pub fn name(self) -> &'static str {
        match self {
            ItemKind::Apologies => "apologies",
            ItemKind::Declarations => "declarations",
            ItemKind::PublicParticipation => "public participation",
            ItemKind::ConfirmationOfMinutes => "confirmation of minutes",
            ItemKind::Substantive => "substantive",
        }
    }
}

/// What a decision did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DecisionKind {
    Agreed,
    Noted,
    Recommended,
    Refused,
}

impl DecisionKind {
    pub fn title(self) -> &'static str {
        match self {
            DecisionKind::Agreed => "RESOLVED",
            DecisionKind::Noted => "NOTED",
            DecisionKind::Recommended => "RECOMMENDED",
            DecisionKind::Refused => "REFUSED",
        }
    }
}

/// How a vote was taken, if one was.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Vote {
    /// Agreed without a vote (by assent).
    None,
    Counts {
        for_: u32,
        against: u32,
        abstain: u32,
    },
    /// A recorded vote, naming how each member voted.
    Recorded {
        for_: Vec<PersonId>,
        against: Vec<PersonId>,
        abstain: Vec<PersonId>,
    },
}

/// The capacity in which someone attended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Capacity {
    /// A member of the body, with their role as at the meeting date.
    Member { role: MemberRole },
    /// A substitute sitting and voting for a named member who gave apologies.
    Substitute { for_member: PersonId },
    /// Also attended: a guest (cabinet member, partner, observer) and why.
    Guest { description: String },
    /// Also attended: an officer with their job title.
    Officer { job_title: String },
}
