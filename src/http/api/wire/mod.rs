//! The API's wire types: every request body and every JSON answer, as
//! serde types with JSON schemas (`schemars`), from which `openapi` makes
//! the document. Request types are the API's own, converted by hand into
//! the domain's commands (`requests`), so that renaming a stored field of
//! the catalogue never changes what clients send; answers the API builds
//! itself are types here too (`responses`), and the views the projections
//! serialize themselves (minutes, registers, the trail, events) are
//! described field by field (`views`), checked against what they serialize
//! by tests/it/api.rs.
//!
//! Architecture Invariant: a request type holds no catalogue struct, only
//! the catalogue's checked values (identifiers, dates, times), whose JSON
//! form is a string checked when it is read.

pub mod requests;
pub mod responses;
pub mod views;

use std::borrow::Cow;

use axum::Json;
use minutebook_catalogue as catalogue;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;
use serde_json::json;

/// An answer as JSON, with its fields in the order `serde_json::Value`
/// keeps them (sorted), as every answer of this API has always had them.
pub(crate) fn json<T: Serialize>(answer: T) -> Json<serde_json::Value> {
    Json(serde_json::to_value(answer).expect("a wire type always encodes"))
}

/// A schema for a type, for the table of operations.
pub fn schema<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    generator.subschema_for::<T>()
}

/// Declares a string value type's schema, for fields whose Rust type is
/// one of the catalogue's checked values.
macro_rules! string_schema {
    ($(#[$doc:meta])* $name:ident as $title:literal, $schema:tt) => {
        $(#[$doc])*
        pub struct $name;
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $title.into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

/// A body's, meeting's or person's identifier, as `check_id` in the
/// catalogue takes it: 1 to `ID_BYTES_MAX` bytes of lowercase ASCII
/// letters, digits and hyphens, not starting with a hyphen. The text is
/// ASCII, so its length in characters is its length in bytes.
pub struct IdText;
impl JsonSchema for IdText {
    fn schema_name() -> Cow<'static, str> {
        "Id".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let max = catalogue::ID_BYTES_MAX;
        json_schema!({
            "type": "string",
            "description": format!("1 to {max} lowercase ASCII letters, digits and hyphens, not starting with a hyphen"),
            "pattern": format!("^[a-z0-9][a-z0-9-]{{0,{}}}$", max - 1),
            "minLength": 1,
            "maxLength": max,
            "examples": ["riverside-scrutiny"]
        })
    }
}
string_schema!(
    /// A civil date, `YYYY-MM-DD`, from 1900 to 9999.
    DateText as "Date",
    {
        "type": "string",
        "description": "a calendar date YYYY-MM-DD from 1900-01-01 to 9999-12-31",
        // The pattern cannot refuse 31 February or 29 February of a
        // common year; `format` says the text is a real date.
        "format": "date",
        "pattern": "^(19|[2-9][0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
        "examples": ["2026-06-01"]
    }
);
string_schema!(
    /// A time of day to the minute, `HH:MM`.
    TimeText as "TimeOfDay",
    {
        "type": "string",
        "description": "a time of day HH:MM on the 24-hour clock",
        "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$",
        "examples": ["18:30"]
    }
);
string_schema!(
    /// 32 bytes as 64 lowercase hexadecimal digits (a BLAKE3 hash).
    HashHex as "Hash",
    {
        "type": "string",
        "description": "32 bytes as 64 lowercase hexadecimal digits",
        "pattern": "^[0-9a-f]{64}$"
    }
);
string_schema!(
    /// Bytes as lowercase hexadecimal digits.
    HexBytes as "Hex",
    {
        "type": "string",
        "description": "bytes as lowercase hexadecimal digits",
        "pattern": "^([0-9a-f]{2})*$"
    }
);
string_schema!(
    /// A stream's name: `meeting:<id>`, `body:<id>`, `person:<id>`.
    StreamName as "StreamName",
    {
        "type": "string",
        "description": "a log stream: meeting:<id>, body:<id> or person:<id>",
        "examples": ["meeting:rcsp-2026-03-05"]
    }
);
string_schema!(
    /// A C2SP signed note (a checkpoint).
    SignedNote as "SignedNote",
    {
        "type": "string",
        "description": "a C2SP signed note: the origin, tree size and root hash, a blank line, and signature lines"
    }
);

// ---- the limits the domain checks, as schemas for `schema_with` ----
//
// JSON Schema counts a string's length in characters, the server in UTF-8
// bytes. A text of n characters has at least n bytes, so a `maxLength` of
// the byte limit is the tightest bound that refuses nothing the server
// takes; text of multi-byte characters may still be refused below it.

/// The inside of a regex character class holding every character `test`
/// accepts (`char::is_whitespace`, the characters `str::trim` removes;
/// `char::is_control`): found by asking the test itself rather than
/// listed, so the schema follows the check.
fn class_of(test: impl Fn(char) -> bool) -> String {
    let mut class = String::new();
    let mut chars = (0..=char::MAX as u32).filter_map(char::from_u32).filter(|&c| test(c)).peekable();
    while let Some(first) = chars.next() {
        let mut last = first;
        while let Some(&next) = chars.peek() {
            if next as u32 != last as u32 + 1 {
                break;
            }
            last = next;
            chars.next();
        }
        // `\uXXXX` reads alike in ECMA-262 and in the regexes of the
        // tools that generate from these patterns; every such character
        // is in the Basic Multilingual Plane.
        assert!(last as u32 <= 0xFFFF, "a character class beyond U+FFFF");
        class.push_str(&format!("\\u{:04X}", first as u32));
        if last != first {
            class.push_str(&format!("-\\u{:04X}", last as u32));
        }
    }
    class
}

/// A text the domain refuses when blank (`trim` leaves nothing) or
/// longer than `bytes_max` bytes (`limited_text` in domain::decide).
fn text(bytes_max: usize, null: bool) -> Schema {
    let kind = if null { json!(["string", "null"]) } else { json!("string") };
    json_schema!({
        "type": kind,
        "minLength": 1,
        "maxLength": bytes_max,
        "pattern": format!("[^{}]", class_of(char::is_whitespace)),
    })
}

/// Text of up to `SHORT_TEXT_BYTES_MAX` bytes, not blank: a name, title,
/// venue, reason.
pub fn short_text(_: &mut SchemaGenerator) -> Schema {
    text(catalogue::SHORT_TEXT_BYTES_MAX, false)
}

/// `short_text` or null.
pub fn optional_short_text(_: &mut SchemaGenerator) -> Schema {
    text(catalogue::SHORT_TEXT_BYTES_MAX, true)
}

/// Text of up to `TEXT_BYTES_MAX` bytes, not blank: a point, a decision.
pub fn long_text(_: &mut SchemaGenerator) -> Schema {
    text(catalogue::TEXT_BYTES_MAX, false)
}

/// A redaction's legal basis: not blank, no control character
/// (`char::is_control`), at most `REDACTION_BASIS_BYTES_MAX` bytes.
pub fn legal_basis(_: &mut SchemaGenerator) -> Schema {
    let control = class_of(char::is_control);
    let space = class_of(char::is_whitespace);
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::domain::decide::REDACTION_BASIS_BYTES_MAX,
        "pattern": format!("^[^{control}]*[^{control}{space}][^{control}]*$"),
    })
}

/// An IANA timezone name: at most `TIMEZONE_BYTES_MAX` bytes; which
/// names the bundled database knows is not a pattern.
pub fn timezone(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::domain::decide::TIMEZONE_BYTES_MAX,
        "examples": ["Europe/London"],
    })
}

/// Standard base64 with padding (RFC 4648 §4) of exactly `N` bytes, as
/// `decode_base64_array` takes it: the unused low bits of the last
/// character must be zero, so that character is one of a few.
fn base64<const N: usize>(description: &str) -> Schema {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let full = N / 3 * 4;
    let pattern = match N % 3 {
        0 => format!("^[A-Za-z0-9+/]{{{full}}}$"),
        rest => {
            // The last group's `rest` bytes take rest + 1 characters, the
            // last of which carries only 2 * rest of its 6 bits.
            let used = 2 * rest;
            let last: String = ALPHABET
                .iter()
                .enumerate()
                .filter(|(i, _)| i % (1 << (6 - used)) == 0)
                .map(|(_, &c)| c as char)
                .collect();
            format!("^[A-Za-z0-9+/]{{{}}}[{last}]{}$", full + rest, "=".repeat(3 - rest))
        }
    };
    json_schema!({"type": "string", "description": description, "pattern": pattern})
}

/// A 32-byte Ed25519 public key.
pub fn public_key(_: &mut SchemaGenerator) -> Schema {
    base64::<32>("standard base64 of the 32-byte Ed25519 public key")
}

/// A 64-byte Ed25519 signature.
pub fn signature(_: &mut SchemaGenerator) -> Schema {
    base64::<64>("standard base64 of the 64-byte Ed25519 signature")
}

/// A paper's media type: one of those `papers::accepted_media_type` takes.
pub fn paper_media_type(_: &mut SchemaGenerator) -> Schema {
    let types: Vec<&str> = crate::domain::papers::paper_media_types().collect();
    json_schema!({"type": "string", "enum": types})
}

/// A paragraph of Schedule 12A, as `catalogue::exempt_paragraph` knows them.
pub fn exempt_paragraph(_: &mut SchemaGenerator) -> Schema {
    let numbers: Vec<u8> = catalogue::exempt_paragraphs().into_iter().map(|(number, _)| number).collect();
    json_schema!({"type": "integer", "enum": numbers})
}

#[cfg(test)]
mod tests {
    use crate::domain::statement::decode_base64_array;

    /// The last character a base64 pattern allows is exactly one that
    /// the server's decoding takes there.
    #[test]
    fn base64_last_characters_are_those_decoding_takes() {
        fn last_class<const N: usize>() -> String {
            let schema = super::base64::<N>("");
            let pattern = schema.get("pattern").and_then(|p| p.as_str()).expect("a pattern").to_owned();
            let open = pattern.rfind('[').expect("a last class");
            pattern[open + 1..pattern.rfind(']').expect("a last class")].to_owned()
        }
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".chars() {
            let key = format!("{}{c}=", "A".repeat(42));
            assert_eq!(last_class::<32>().contains(c), decode_base64_array::<32>(&key, "key").is_ok(), "{key}");
            let signature = format!("{}{c}==", "A".repeat(85));
            assert_eq!(
                last_class::<64>().contains(c),
                decode_base64_array::<64>(&signature, "sig").is_ok(),
                "{signature}"
            );
        }
    }
}
