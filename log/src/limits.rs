//! Every limit the log enforces, as named constants with their unit last.
//!
//! Limits are checked at the boundary (`Log::append`) with a clear error and
//! asserted inside, so that nothing the log stores can grow without bound.

/// Largest payload of one event. Papers are files referenced by hash.
pub const EVENT_PAYLOAD_BYTES_MAX: usize = 64 * 1024;
/// Most events one append request may carry.
pub const BATCH_EVENTS_MAX: usize = 1_000;
/// Most redactions one append request may carry.
pub const BATCH_REDACTIONS_MAX: usize = 100;
/// Most payload bytes one append request may carry in all.
pub const BATCH_PAYLOAD_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most events and redactions the writer commits together in one group
/// (one flush). Each adds at most about 1.7 KiB to the group's frame body
/// (a record, an index entry, a notice), so a group's body stays within
/// the frame's limit.
pub const GROUP_EVENTS_MAX: usize = 8 * BATCH_EVENTS_MAX;
/// Most append requests waiting for the writer; appenders block beyond it.
pub const QUEUE_REQUESTS_MAX: usize = 1_024;
/// Longest stream name, in bytes of UTF-8.
pub const STREAM_BYTES_MAX: usize = 128;
/// Longest event type name.
pub const EVENT_TYPE_BYTES_MAX: usize = 64;
/// Longest actor name.
pub const ACTOR_BYTES_MAX: usize = 128;
/// Longest role name.
pub const ROLE_BYTES_MAX: usize = 32;
/// Longest log origin (the first line of every checkpoint).
pub const ORIGIN_BYTES_MAX: usize = 128;
/// Longest redaction notice (its legal basis and reference).
pub const REDACTION_NOTICE_BYTES_MAX: usize = 1_024;
/// Largest value the log stores in sled. sled 0.34 writes a tree node whose
/// serialised size passes a quarter of its 512 KiB segment to a blob file it
/// never fsyncs; a leaf holds up to 17 entries, so values stay far below
/// 128 KiB / 17 and no node ever becomes a blob.
pub const STORED_VALUE_BYTES_MAX: usize = 4 * 1024;
/// Most events in one stream-index chunk (see `keys::stream_chunk`).
pub const STREAM_CHUNK_EVENTS_MAX: u64 = 128;
/// Most events one read returns.
pub const READ_EVENTS_MAX: usize = 10_000;

const _: () = assert!(GROUP_EVENTS_MAX >= BATCH_EVENTS_MAX + BATCH_REDACTIONS_MAX);
/// Largest payload area of one journal frame.
pub const FRAME_PAYLOADS_BYTES_MAX: usize = 32 * 1024 * 1024;
/// Largest body of one journal frame (its store operations).
pub const FRAME_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
const _: () = assert!(GROUP_EVENTS_MAX * 2 * 1024 <= FRAME_BODY_BYTES_MAX);
const _: () = assert!(BATCH_PAYLOAD_BYTES_MAX >= EVENT_PAYLOAD_BYTES_MAX);
const _: () = assert!(17 * STORED_VALUE_BYTES_MAX < 128 * 1024);
// A stream chunk of postcard varints (at most 10 bytes each) fits a value.
const _: () = assert!((STREAM_CHUNK_EVENTS_MAX as usize) * 10 + 8 <= STORED_VALUE_BYTES_MAX);
