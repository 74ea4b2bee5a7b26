//! Newtypes for the values the log hands out, so that a position is never
//! confused with a stream version, nor an event hash with a tree hash.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Position of an event in the whole log; the first event is 0. It is also
/// the event's leaf index in the Merkle tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Seq(pub u64);

/// Number of events in a stream once an event is appended: the first event
/// of a stream has version 1, and an empty stream is at version 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct StreamVersion(pub u64);

/// What an append expects of a stream's version before it writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedVersion {
    /// Whatever the stream holds; for tools that do not read before writing.
    Any,
    /// Exactly this version; `StreamVersion(0)` means the stream must be new.
    Exactly(StreamVersion),
}

macro_rules! hash_newtype {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub [u8; $len]);

        impl $name {
            pub fn to_hex(&self) -> String {
                hex(&self.0)
            }

            pub fn from_hex(text: &str) -> Option<$name> {
                let mut bytes = [0u8; $len];
                unhex(text, &mut bytes)?;
                Some($name(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }
    };
}

hash_newtype!(
    /// BLAKE3 over an event's envelope bytes, exactly as stored.
    EventHash, 32
);
hash_newtype!(
    /// BLAKE3 over the salt followed by the payload bytes.
    PayloadHash, 32
);
hash_newtype!(
    /// A node or root of the RFC 9162 Merkle tree (SHA-256).
    TreeHash, 32
);
hash_newtype!(
    /// Caller-chosen id of an event, so that a retried append is recognised.
    EventId, 16
);
hash_newtype!(
    /// Random bytes hashed before a payload, so that a short redacted payload
    /// cannot be guessed from its hash.
    Salt, 16
);

impl EventHash {
    /// The previous-hash of event 0.
    pub const ZERO: EventHash = EventHash([0; 32]);
}

impl EventId {
    /// A fresh random id.
    pub fn random() -> EventId {
        let mut bytes = [0u8; 16];
        getrandom::getrandom(&mut bytes).expect("the operating system's random source failed");
        EventId(bytes)
    }
}

/// A number written in canonical decimal: digits only, no sign and no
/// leading zero (but "0"), as checkpoints and bundles write tree sizes.
pub fn parse_decimal(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// Lowercase hexadecimal of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(DIGITS[usize::from(byte >> 4)] as char);
        text.push(DIGITS[usize::from(byte & 0xf)] as char);
    }
    text
}

/// Parses hexadecimal (either case) into `out`; `None` unless `text` is
/// exactly twice as long as `out` and all hex digits.
pub fn unhex(text: &str, out: &mut [u8]) -> Option<()> {
    let text = text.as_bytes();
    if text.len() != out.len() * 2 {
        return None;
    }
    for (byte_idx, pair) in text.chunks_exact(2).enumerate() {
        let high = (pair[0] as char).to_digit(16)?;
        let low = (pair[1] as char).to_digit(16)?;
        out[byte_idx] = (high * 16 + low) as u8;
    }
    Some(())
}
