//! The catalogue of governance events: what src/ appends and projections/
//! fold. A crate of its own, so that the generic log, which never looks
//! inside a payload, cannot: the log stores these as opaque bytes with the
//! type name and schema version in the envelope.
//!
//! Architecture Invariant: minutebook-log does not depend on this crate;
//! this crate uses only the log's newtypes (`Seq`, `EventHash`).

mod events;
mod redaction;
mod subject;
mod values;

pub use events::*;
pub use subject::{Part, Subject};
pub use values::*;

/// The Schedule 12A paragraphs (England) under which the public may be
/// excluded, read from a data table compiled into the binary.
pub fn exempt_paragraphs() -> Vec<(u8, &'static str)> {
    include_str!("../data/exempt-paragraphs-england.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (number, description) = line.split_once('\t').expect("a paragraph row is number, tab, description");
            (number.parse().expect("a paragraph number is a small integer"), description)
        })
        .collect()
}

/// The description of a Schedule 12A paragraph, if it is one.
pub fn exempt_paragraph(paragraph: u8) -> Option<&'static str> {
    exempt_paragraphs().into_iter().find(|(number, _)| *number == paragraph).map(|(_, description)| description)
}

/// Longest free text in a payload (a point, a decision), in bytes.
pub const TEXT_BYTES_MAX: usize = 16 * 1024;
/// Longest name, title, venue or other short text, in bytes.
pub const SHORT_TEXT_BYTES_MAX: usize = 512;
/// Most items on one agenda.
pub const AGENDA_ITEMS_MAX: u32 = 200;
/// The body's minute numbers stop here, far beyond any body's life.
pub const MINUTE_NUMBER_MAX: u32 = 10_000_000;
