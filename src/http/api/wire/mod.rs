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
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::Serialize;

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

string_schema!(
    /// A body's, meeting's or person's identifier (`minutebook_catalogue::ID_BYTES_MAX`).
    IdText as "Id",
    {
        "type": "string",
        "description": "1 to 64 lowercase ASCII letters, digits and hyphens, not starting with a hyphen",
        "pattern": "^[a-z0-9][a-z0-9-]{0,63}$",
        "minLength": 1,
        "maxLength": 64,
        "examples": ["riverside-scrutiny"]
    }
);
string_schema!(
    /// A civil date, `YYYY-MM-DD`, from 1900 to 9999.
    DateText as "Date",
    {
        "type": "string",
        "description": "a calendar date YYYY-MM-DD from 1900-01-01 to 9999-12-31",
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
