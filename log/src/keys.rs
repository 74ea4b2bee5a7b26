//! The keys of the log's entries in the store. Every key starts with one
//! byte naming its kind; integers are big-endian so that key order is
//! numeric order.
//!
//! | key                                        | value                         |
//! |--------------------------------------------|-------------------------------|
//! | `h`                                        | the head (`Head`)             |
//! | `e` seq:u64                                | the event record (`Record`)   |
//! | `i` event id:16                            | seq:u64                       |
//! | `s` len:u8 stream chunk:u32                | seqs of 128 stream events     |
//! | `n` level:u8 index:u64                     | tree node, 32 bytes           |
//! | `c` tree size:u64                          | signed checkpoint note        |
//! | `x` seq:u64                                | payload region still to scrub |

use crate::types::{EventId, Seq};

pub const HEAD: &[u8] = b"h";

pub fn event(seq: Seq) -> [u8; 9] {
    with_u64(b'e', seq.0)
}

pub fn event_id(id: &EventId) -> [u8; 17] {
    let mut key = [0u8; 17];
    key[0] = b'i';
    key[1..].copy_from_slice(&id.0);
    key
}

/// The prefix of a stream's index chunks.
pub fn stream_prefix(stream: &str) -> Vec<u8> {
    let len = u8::try_from(stream.len()).expect("stream names are shorter than 256 bytes");
    let mut key = Vec::with_capacity(stream.len() + 6);
    key.push(b's');
    key.push(len);
    key.extend_from_slice(stream.as_bytes());
    key
}

pub fn stream_chunk(stream: &str, chunk_idx: u32) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&chunk_idx.to_be_bytes());
    key
}

/// The end (exclusive) of a stream's chunk keys.
pub fn stream_end(stream: &str) -> Vec<u8> {
    let mut key = stream_prefix(stream);
    key.extend_from_slice(&[0xff; 5]);
    key
}

pub fn node(level: u8, index: u64) -> [u8; 10] {
    let mut key = [0u8; 10];
    key[0] = b'n';
    key[1] = level;
    key[2..].copy_from_slice(&index.to_be_bytes());
    key
}

pub fn checkpoint(tree_size: u64) -> [u8; 9] {
    with_u64(b'c', tree_size)
}

pub fn scrub(seq: Seq) -> [u8; 9] {
    with_u64(b'x', seq.0)
}

fn with_u64(tag: u8, value: u64) -> [u8; 9] {
    let mut key = [0u8; 9];
    key[0] = tag;
    key[1..].copy_from_slice(&value.to_be_bytes());
    key
}

/// The u64 after a one-byte tag.
pub fn parse_u64(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.get(1..9)?.try_into().ok()?))
}
