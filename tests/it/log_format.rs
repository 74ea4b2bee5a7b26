//! docs/LOG-FORMAT.md checked against the code, so that the document an
//! auditor writes a verifier from cannot drift from what the log writes.
//!
//! Every block of the document marked `<!-- checked: NAME -->` is rendered
//! here from the code (the worked example's envelopes, hashes, tree,
//! proofs, checkpoint and keys; the proofs as the CLI prints them) and must
//! equal the document byte for byte. The rendering leans on small
//! re-implementations of the document's rules (postcard as the document
//! describes it, RFC 9162 §2.1 by its recursive definitions), which are
//! themselves checked against the code. Two tests then tie the document to
//! a real data directory: its envelopes re-encode to their stored bytes,
//! and its files, keys, records and journal frames are laid out as the
//! document says.
//!
//! To update the document after a deliberate format change, run
//! `cargo test --test it log_format` and paste each block the failure
//! prints.

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use minutebook_log::envelope::{payload_hash, EnvelopeFields, ENVELOPE_FORMAT_VERSION};
use minutebook_log::limits::{ACTOR_BYTES_MAX, EVENT_TYPE_BYTES_MAX, ROLE_BYTES_MAX, STREAM_BYTES_MAX};
use minutebook_log::merkle::{self, Frontier, Subtrees};
use minutebook_log::store::{KeyValue, SledStore, Store};
use minutebook_log::{
    hex, AppendBatch, Checkpoint, Envelope, ErrorCategory, EventHash, EventId, ExpectedVersion, Log, NewEvent,
    NoteSigner, NoteVerifier, Payload, PayloadHash, Salt, Seq, StreamVersion, TreeHash, DATA_FORMAT_VERSION,
    STORED_NODE_LEVEL_MIN,
};

use crate::support::{self, checked_blocks, fenced, parse_hex, Scratch};

const DOC: &str = include_str!("../../docs/LOG-FORMAT.md");

// ---------------------------------------------------------------------------
// The worked example's inputs. Everything else in it is computed.

/// The example log's origin, which is also its key name.
const EXAMPLE_ORIGIN: &str = "riverside.example/minutebook";

/// The example log's Ed25519 seed: the bytes 00 01 02 … 1f.
fn example_seed() -> [u8; 32] {
    std::array::from_fn(|byte_idx| byte_idx as u8)
}

struct ExampleEvent {
    stream: &'static str,
    event_id: &'static str,
    event_type: &'static str,
    schema_version: u16,
    actor: &'static str,
    role: &'static str,
    recorded_at_us: i64,
    salt: &'static str,
    payload: &'static str,
}

const BODY: &str = "body/riverside-communities-scrutiny-panel";
const MEETING: &str = "meeting/rcsp-2026-03-04";
const CLERK: &str = "officer:mara-ellwood";

/// 2026-02-11T09:15:00Z, 2026-03-04T18:31:07.25Z and 2026-03-04T20:05:41.125Z:
/// the example's three group commits (events 1 and 2 were appended
/// together, and so were 3 and 4, so they share a time).
const GROUP_TIMES_US: [i64; 3] = [1_770_801_300_000_000, 1_772_649_067_250_000, 1_772_654_741_125_000];
/// The tree size after each group commit: a checkpoint is signed at each.
const GROUP_ENDS: [u64; 3] = [1, 3, 5];

const EXAMPLE_EVENTS: [ExampleEvent; 5] = [
    ExampleEvent {
        stream: BODY,
        event_id: "0194f3a2c5107e01a1b2c3d4e5f60001",
        event_type: "body.established",
        schema_version: 1,
        actor: CLERK,
        role: "clerk",
        recorded_at_us: GROUP_TIMES_US[0],
        salt: "8f3c1e5a7b9d0f2143658799abcdef01",
        payload: r#"{"name":"Riverside Communities Scrutiny Panel","seats":7}"#,
    },
    ExampleEvent {
        stream: MEETING,
        event_id: "0195613b2e2a7e02a1b2c3d4e5f60002",
        event_type: "meeting.convened",
        schema_version: 1,
        actor: CLERK,
        role: "clerk",
        recorded_at_us: GROUP_TIMES_US[1],
        salt: "1d2e3f405162738495a6b7c8d9eafb02",
        payload: r#"{"body":"body/riverside-communities-scrutiny-panel","venue":"Committee Room 2, Ashgrove House"}"#,
    },
    ExampleEvent {
        stream: MEETING,
        event_id: "0195613b2e2a7e03a1b2c3d4e5f60003",
        event_type: "attendance.recorded",
        schema_version: 2,
        actor: CLERK,
        role: "clerk",
        recorded_at_us: GROUP_TIMES_US[1],
        salt: "c0ffee00c0ffee01c0ffee02c0ffee03",
        payload: r#"{"present":["Cllr Wren Halloway","Cllr Idris Penhallow","Cllr Juno Maddox-Frey"],"apologies":["Cllr Esme Marchetti"]}"#,
    },
    ExampleEvent {
        stream: MEETING,
        event_id: "01956190a4c77e04a1b2c3d4e5f60004",
        event_type: "minute.drafted",
        schema_version: 1,
        actor: CLERK,
        role: "clerk",
        recorded_at_us: GROUP_TIMES_US[2],
        salt: "5a5a5a5a00112233445566778899aabb",
        payload: r#"{"minute":"RCSP/26/07","text":"The panel reviewed the towpath lighting report and asked officers for costed options in June."}"#,
    },
    ExampleEvent {
        stream: MEETING,
        event_id: "01956190a4c77e05a1b2c3d4e5f60005",
        event_type: "meeting.closed",
        schema_version: 1,
        actor: "member:wren-halloway",
        role: "chair",
        recorded_at_us: GROUP_TIMES_US[2],
        salt: "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        payload: r#"{"closed_at":"2026-03-04T20:05:00Z"}"#,
    },
];

/// An example event with everything computed from it.
struct Computed {
    input: &'static ExampleEvent,
    seq: u64,
    envelope: Envelope,
    envelope_bytes: Vec<u8>,
    salt: Salt,
    payload_hash: PayloadHash,
    event_hash: EventHash,
}

struct Example {
    events: Vec<Computed>,
    leaves: Vec<TreeHash>,
    signer: NoteSigner,
}

fn example() -> Example {
    let mut events: Vec<Computed> = Vec::new();
    let mut stream_versions: BTreeMap<&str, u64> = BTreeMap::new();
    for (seq, input) in EXAMPLE_EVENTS.iter().enumerate() {
        let version = stream_versions.entry(input.stream).or_insert(0);
        *version += 1;
        let salt = Salt(parse_hex(input.salt));
        let payload_hash = payload_hash(&salt, input.payload.as_bytes());
        let prev_hash = events.last().map_or(EventHash::ZERO, |event| event.event_hash);
        let fields = EnvelopeFields {
            stream: input.stream,
            event_id: EventId(parse_hex(input.event_id)),
            event_type: input.event_type,
            schema_version: input.schema_version,
            actor: input.actor,
            role: input.role,
        };
        let envelope = Envelope::new(
            &fields,
            Seq(seq as u64),
            StreamVersion(*version),
            input.recorded_at_us,
            prev_hash,
            payload_hash,
        );
        let envelope_bytes = envelope.to_bytes();
        let event_hash = Envelope::hash(&envelope_bytes);
        events.push(Computed { input, seq: seq as u64, envelope, envelope_bytes, salt, payload_hash, event_hash });
    }
    let leaves = events.iter().map(|event| merkle::leaf_hash(&event.event_hash)).collect();
    let signer = NoteSigner::from_seed(EXAMPLE_ORIGIN, example_seed()).expect("the example's key");
    Example { events, leaves, signer }
}

impl Example {
    fn tree(&self, size: u64) -> Leaves {
        Leaves(self.leaves[..size as usize].to_vec())
    }

    fn root(&self, size: u64) -> TreeHash {
        mth(&self.leaves[..size as usize])
    }

    fn note(&self, size: u64) -> String {
        self.signer.sign(&Checkpoint { origin: EXAMPLE_ORIGIN.to_owned(), tree_size: size, root: self.root(size) })
    }
}

// ---------------------------------------------------------------------------
// The document's rules, re-implemented from the document.

/// LEB128: seven bits at a time, least significant first, the high bit set
/// on every byte but the last.
fn varint(mut value: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    loop {
        let low = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            bytes.push(low);
            return bytes;
        }
        bytes.push(low | 0x80);
    }
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn string(text: &str) -> Vec<u8> {
    let mut bytes = varint(text.len() as u64);
    bytes.extend_from_slice(text.as_bytes());
    bytes
}

/// One field of an encoded envelope.
struct Field {
    name: &'static str,
    bytes: Vec<u8>,
    /// Bytes of the length prefix, for a string.
    n_prefix: usize,
    value: String,
}

/// The envelope's fields in order, each encoded by the document's rules.
fn envelope_fields(envelope: &Envelope) -> Vec<Field> {
    let field = |name, bytes, value| Field { name, bytes, n_prefix: 0, value };
    let text = |name, text: &str| Field {
        name,
        bytes: string(text),
        n_prefix: varint(text.len() as u64).len(),
        value: format!("{text:?}"),
    };
    vec![
        field("format_version", vec![envelope.format_version()], envelope.format_version().to_string()),
        field("seq", varint(envelope.seq().0), envelope.seq().0.to_string()),
        text("stream", envelope.stream()),
        field("stream_version", varint(envelope.stream_version().0), envelope.stream_version().0.to_string()),
        field("event_id", envelope.event_id().0.to_vec(), envelope.event_id().to_hex()),
        text("event_type", envelope.event_type()),
        field("schema_version", varint(u64::from(envelope.schema_version())), envelope.schema_version().to_string()),
        text("actor", envelope.actor()),
        text("role", envelope.role()),
        field("recorded_at_us", varint(zigzag(envelope.recorded_at_us())), envelope.recorded_at_us().to_string()),
        field("prev_hash", envelope.prev_hash().0.to_vec(), "".into()),
        field("payload_hash", envelope.payload_hash().0.to_vec(), "".into()),
    ]
}

fn encode_by_hand(envelope: &Envelope) -> Vec<u8> {
    envelope_fields(envelope).into_iter().flat_map(|field| field.bytes).collect()
}

/// A reader of postcard bytes by the document's rules.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }
    fn take(&mut self, n_bytes: usize) -> &'a [u8] {
        let taken = &self.bytes[self.at..self.at + n_bytes];
        self.at += n_bytes;
        taken
    }
    fn byte(&mut self) -> u8 {
        self.take(1)[0]
    }
    fn varint(&mut self) -> u64 {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte();
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return value;
            }
        }
        panic!("varint longer than 10 bytes")
    }
    fn zigzag(&mut self) -> i64 {
        let raw = self.varint();
        ((raw >> 1) as i64) ^ -((raw & 1) as i64)
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n_bytes = self.varint() as usize;
        self.take(n_bytes)
    }
    fn string(&mut self) -> &'a str {
        std::str::from_utf8(self.bytes()).expect("UTF-8")
    }
    fn hash(&mut self) -> [u8; 32] {
        self.take(32).try_into().expect("32 bytes")
    }
    fn finish(self) {
        assert_eq!(self.at, self.bytes.len(), "trailing bytes");
    }
}

/// Base64 (RFC 4648 standard alphabet, padded), as notes and keys use it.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    assert!(text.len().is_multiple_of(4), "base64 {text:?} is not padded");
    let mut bits = 0u32;
    let mut n_bits = 0;
    let mut bytes = Vec::new();
    for c in text.bytes().filter(|c| *c != b'=') {
        let value = ALPHABET.iter().position(|a| *a == c).unwrap_or_else(|| panic!("{text:?} is not base64"));
        bits = (bits << 6) | value as u32;
        n_bits += 6;
        if n_bits >= 8 {
            n_bits -= 8;
            bytes.push((bits >> n_bits) as u8);
        }
    }
    bytes
}

/// RFC 9162 §2.1.1 MTH, by its recursive definition.
fn mth(leaves: &[TreeHash]) -> TreeHash {
    match leaves.len() {
        0 => merkle::empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            merkle::node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// The largest power of two smaller than `n`.
fn split(n: usize) -> usize {
    assert!(n > 1);
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// RFC 9162 §2.1.3.1 PATH(m, D[start:end]), as leaf ranges.
fn path(m: usize, start: usize, end: usize) -> Vec<(usize, usize)> {
    if end - start == 1 {
        return Vec::new();
    }
    let k = split(end - start);
    if m < k {
        let mut proof = path(m, start, start + k);
        proof.push((start + k, end));
        proof
    } else {
        let mut proof = path(m - k, start + k, end);
        proof.push((start, start + k));
        proof
    }
}

/// RFC 9162 §2.1.4.1 SUBPROOF(m, D[start:end], b), as leaf ranges.
fn subproof(m: usize, start: usize, end: usize, whole: bool) -> Vec<(usize, usize)> {
    let n = end - start;
    if m == n {
        return if whole { Vec::new() } else { vec![(start, end)] };
    }
    let k = split(n);
    if m <= k {
        let mut proof = subproof(m, start, start + k, whole);
        proof.push((start + k, end));
        proof
    } else {
        let mut proof = subproof(m - k, start + k, end, false);
        proof.push((start, start + k));
        proof
    }
}

/// A tree over leaf hashes, for the code's proof functions.
struct Leaves(Vec<TreeHash>);

impl Subtrees for Leaves {
    fn subtree(&self, level: u8, index: u64) -> minutebook_log::Result<TreeHash> {
        let start = (index << level) as usize;
        Ok(mth(&self.0[start..start + (1usize << level)]))
    }
}

fn range_name((start, end): (usize, usize)) -> String {
    format!("MTH(D[{start}:{end}])")
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// Microseconds since the epoch as RFC 3339 UTC.
fn rfc3339(us: i64) -> String {
    let (seconds, micros) = (us.div_euclid(1_000_000), us.rem_euclid(1_000_000));
    let (days, second_of_day) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    let (hour, minute, second) = (second_of_day / 3_600, second_of_day / 60 % 60, second_of_day % 60);
    format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}.{micros:06}Z")
}

/// Hex in lines of `per_line` bytes, each indented by `indent`.
fn hex_lines(bytes: &[u8], per_line: usize, indent: &str) -> String {
    bytes.chunks(per_line).map(|line| format!("{indent}{}\n", hex(line))).collect()
}

// ---------------------------------------------------------------------------
// Rendering the checked blocks.

/// Every checked block of the document, by name, rendered from the code.
fn rendered_blocks(example: &Example) -> BTreeMap<String, String> {
    let mut blocks = BTreeMap::new();
    blocks.insert("primitives".to_owned(), fenced(&render_primitives()));
    blocks.insert("varints".to_owned(), fenced(&render_varints()));
    blocks.insert("limits".to_owned(), fenced(&render_limits()));
    blocks.insert("key".to_owned(), fenced(&render_key(example)));
    for event in &example.events {
        blocks.insert(format!("event {}", event.seq), fenced(&render_event(event)));
    }
    blocks.insert("envelope 1 fields".to_owned(), fenced(&render_fields(&example.events[1])));
    blocks.insert("stored values".to_owned(), fenced(&render_stored(example)));
    blocks.insert("tree".to_owned(), fenced(&render_tree(example)));
    blocks.insert("inclusion".to_owned(), fenced(&render_inclusion(example, 2, 5)));
    blocks.insert("consistency".to_owned(), fenced(&render_consistency(example, 3, 5)));
    blocks.insert("checkpoint 5".to_owned(), fenced(&example.note(5)));
    blocks.insert("checkpoint 5 parts".to_owned(), fenced(&render_note_parts(example, 5)));
    blocks
}

fn render_primitives() -> String {
    format!("BLAKE3(\"\")  = {}\nSHA-256(\"\") = {}\n", Envelope::hash(b"").to_hex(), merkle::empty_root().to_hex())
}

/// The examples of the encoding rules. Each is checked against postcard by
/// encoding an envelope that holds it.
fn render_varints() -> String {
    let mut text = format!("{:<34}{}\n", "value", "bytes");
    for value in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::MAX] {
        text += &format!("{:<34}{}\n", format!("u64 {value}"), spaced_hex(&varint(value)));
    }
    text += &format!("{:<34}{}\n", "u16 65535", spaced_hex(&varint(65_535)));
    for value in [0i64, -1, 1, -2, 2, 63, -64, 64, GROUP_TIMES_US[0], i64::MIN] {
        text += &format!("{:<34}{}\n", format!("i64 {value}"), spaced_hex(&varint(zigzag(value))));
    }
    text += &format!("{:<34}{}\n", "string \"clerk\"", spaced_hex(&string("clerk")));
    text
}

fn render_limits() -> String {
    use minutebook_log::checkpoint::NOTE_BYTES_MAX;
    use minutebook_log::limits::*;
    let limits = [
        ("EVENT_PAYLOAD_BYTES_MAX", EVENT_PAYLOAD_BYTES_MAX, "bytes of one payload"),
        ("STREAM_BYTES_MAX", STREAM_BYTES_MAX, "bytes of a stream name"),
        ("EVENT_TYPE_BYTES_MAX", EVENT_TYPE_BYTES_MAX, "bytes of an event type"),
        ("ACTOR_BYTES_MAX", ACTOR_BYTES_MAX, "bytes of an actor"),
        ("ROLE_BYTES_MAX", ROLE_BYTES_MAX, "bytes of a role"),
        ("ORIGIN_BYTES_MAX", ORIGIN_BYTES_MAX, "bytes of the origin (the key name)"),
        ("REDACTION_NOTICE_BYTES_MAX", REDACTION_NOTICE_BYTES_MAX, "bytes of a redaction notice"),
        ("BATCH_EVENTS_MAX", BATCH_EVENTS_MAX, "events in one append request"),
        ("BATCH_PAYLOAD_BYTES_MAX", BATCH_PAYLOAD_BYTES_MAX, "payload bytes in one append request"),
        ("GROUP_EVENTS_MAX", GROUP_EVENTS_MAX, "events in one group commit (one frame)"),
        ("STORED_VALUE_BYTES_MAX", STORED_VALUE_BYTES_MAX, "bytes of any value in sled"),
        ("STREAM_CHUNK_EVENTS_MAX", STREAM_CHUNK_EVENTS_MAX as usize, "seqs in one stream index chunk"),
        ("STORED_NODE_LEVEL_MIN", usize::from(STORED_NODE_LEVEL_MIN), "lowest level of a stored tree node"),
        ("NOTE_BYTES_MAX", NOTE_BYTES_MAX, "bytes of a checkpoint note a reader accepts"),
        ("PROOF_HASHES_MAX", merkle::PROOF_HASHES_MAX, "hashes in any proof"),
    ];
    limits.iter().map(|(name, value, what)| format!("{name:<28}{value:>10}  {what}\n")).collect()
}

fn spaced_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect::<Vec<_>>().join(" ")
}

fn render_key(example: &Example) -> String {
    let verifier = example.signer.verifier();
    let key_id = verifier.to_vkey().split('+').nth(1).expect("a key id").to_owned();
    format!(
        "key name:   {EXAMPLE_ORIGIN}\nseed:       {}\npublic key: {}\nkey id:     {key_id}\nlog.key:    {}\nlog.pub:    {}\n",
        hex(&example_seed()),
        hex(verifier.key().as_bytes()),
        example.signer.to_skey(),
        verifier.to_vkey(),
    )
}

fn render_event(event: &Computed) -> String {
    let envelope = &event.envelope;
    let input = event.input;
    let mut text = format!("seq:            {}\n", event.seq);
    text += &support::envelope_lines(envelope, &rfc3339(envelope.recorded_at_us()));
    text += &format!("prev_hash:      {}\n", envelope.prev_hash().to_hex());
    text += &format!("salt:           {}\n", event.salt.to_hex());
    text += &format!("payload ({} bytes of UTF-8, no final newline):\n  {}\n", input.payload.len(), input.payload);
    text += &format!("payload_hash:   {}\n", event.payload_hash.to_hex());
    text += &format!("envelope ({} bytes):\n", event.envelope_bytes.len());
    text += &hex_lines(&event.envelope_bytes, 32, "  ");
    text += &format!("event_hash:     {}\n", event.event_hash.to_hex());
    text
}

fn render_fields(event: &Computed) -> String {
    let mut text = format!("{:>6}  {:<64}  {}\n", "offset", "bytes", "field");
    let mut offset = 0;
    for field in envelope_fields(&event.envelope) {
        let (length, content) = field.bytes.split_at(field.n_prefix);
        if !length.is_empty() {
            text += &format!("{offset:>6}  {:<64}  {} length = {}\n", hex(length), field.name, content.len());
            offset += length.len();
        }
        for (chunk_idx, chunk) in content.chunks(32).enumerate() {
            let label = match (chunk_idx, field.value.is_empty()) {
                (0, true) => field.name.to_owned(),
                (0, false) => format!("{} = {}", field.name, field.value),
                _ => "  (continued)".to_owned(),
            };
            text += &format!("{offset:>6}  {:<64}  {label}\n", hex(chunk));
            offset += chunk.len();
        }
    }
    assert_eq!(offset, event.envelope_bytes.len());
    text
}

/// What the store holds for the example, had its events been the first
/// ones written to the journal.
fn render_stored(example: &Example) -> String {
    let event = &example.events[0];
    let mut record = string_bytes(&event.envelope_bytes);
    record.push(0x00);
    record.extend(varint(60));
    record.extend(varint(event.input.payload.len() as u64));
    let mut text = format!("key `e` 0 (event 0's record):\n  {}\n", hex(&key_u64(b'e', 0)));
    text += &format!("value, PayloadRef::Stored {{ offset: 60, len: {} }}:\n", event.input.payload.len());
    text += &hex_lines(&record, 32, "  ");

    let notice = "exempt information (legal advice): decision RCSP-R-0031 of 2026-03-20";
    let redacted = &example.events[3];
    let mut record = string_bytes(&redacted.envelope_bytes);
    record.push(0x01);
    record.extend(string(notice));
    text += &format!("key `e` 3, after a redaction of its payload:\n  {}\n", hex(&key_u64(b'e', 3)));
    text += &format!("value, PayloadRef::Redacted {{ notice: {notice:?} }}:\n");
    text += &hex_lines(&record, 32, "  ");

    text += &format!(
        "key `i` of event 3's id:\n  {}\nvalue:\n  {}\n",
        hex(&[&[b'i'][..], &example.events[3].envelope.event_id().0].concat()),
        hex(&3u64.to_be_bytes())
    );
    let mut chunk_key = vec![b's', MEETING.len() as u8];
    chunk_key.extend_from_slice(MEETING.as_bytes());
    chunk_key.extend_from_slice(&0u32.to_be_bytes());
    let seqs: Vec<u64> = example.events.iter().filter(|e| e.input.stream == MEETING).map(|e| e.seq).collect();
    let mut chunk = varint(seqs.len() as u64);
    for seq in &seqs {
        chunk.extend(varint(*seq));
    }
    text +=
        &format!("key `s` of {MEETING}, chunk 0:\n  {}\nvalue, seqs {seqs:?}:\n  {}\n", hex(&chunk_key), hex(&chunk));
    text += &format!("key `c` 5 (checkpoint of tree size 5):\n  {}\n", hex(&key_u64(b'c', 5)));
    text += &format!("key `n` at level 4, index 0 (leaves 0..16, once there are 16):\n  {}\n", hex(&node_key(4, 0)));
    text
}

fn string_bytes(bytes: &[u8]) -> Vec<u8> {
    let mut encoded = varint(bytes.len() as u64);
    encoded.extend_from_slice(bytes);
    encoded
}

fn key_u64(tag: u8, value: u64) -> Vec<u8> {
    let mut key = vec![tag];
    key.extend_from_slice(&value.to_be_bytes());
    key
}

fn node_key(level: u8, index: u64) -> Vec<u8> {
    let mut key = vec![b'n', level];
    key.extend_from_slice(&index.to_be_bytes());
    key
}

/// Every subtree of the size-5 tree, leaves first, each with its formula.
fn render_tree(example: &Example) -> String {
    let n = example.leaves.len();
    let mut text = String::new();
    for (seq, event) in example.events.iter().enumerate() {
        let formula = format!("SHA-256(00 || event_hash {seq})");
        text += &format!(
            "{:<12} = {formula:<41} = {}\n",
            range_name((seq, seq + 1)),
            merkle::leaf_hash(&event.event_hash).to_hex()
        );
    }
    let mut ranges = BTreeSet::new();
    let mut pending = vec![(0, n)];
    for size in 2..=n {
        pending.push((0, size));
    }
    while let Some((start, end)) = pending.pop() {
        if end - start > 1 && ranges.insert((end - start, start, end)) {
            let k = split(end - start);
            pending.push((start, start + k));
            pending.push((start + k, end));
        }
    }
    for (_, start, end) in ranges {
        let k = split(end - start);
        let formula = format!("SHA-256(01 || {} || {})", range_name((start, start + k)), range_name((start + k, end)));
        text += &format!(
            "{:<12} = {formula:<41} = {}\n",
            range_name((start, end)),
            mth(&example.leaves[start..end]).to_hex()
        );
    }
    text += "\n";
    for size in 0..=n as u64 {
        let formula = if size == 0 { "SHA-256()".to_owned() } else { range_name((0, size as usize)) };
        text += &format!("root of size {size} = {formula:<12} = {}\n", example.root(size).to_hex());
    }
    let mut frontier = Frontier::empty();
    for leaf in &example.leaves {
        frontier.push(*leaf, |_| {});
    }
    assert_eq!(frontier.root(), example.root(n as u64));
    text += "\ncheckpoints signed: size 0 (at init)";
    for size in GROUP_ENDS {
        text += &format!(", size {size}");
    }
    text += "\nroots in base64, as checkpoints carry them:\n";
    for size in std::iter::once(0).chain(GROUP_ENDS) {
        let checkpoint = Checkpoint { origin: EXAMPLE_ORIGIN.to_owned(), tree_size: size, root: example.root(size) };
        text += &format!("  size {size}: {}\n", checkpoint.body().lines().nth(2).expect("a root line"));
    }
    text += &format!(
        "\nfrontier of size {n} (Head.frontier): [{}]\n",
        frontier.hashes().iter().map(|hash| hash_name(example, hash)).collect::<Vec<_>>().join(", ")
    );
    text
}

/// The range whose MTH is `hash`.
fn hash_name(example: &Example, hash: &TreeHash) -> String {
    let n = example.leaves.len();
    for width in 1..=n {
        for start in 0..=n - width {
            if mth(&example.leaves[start..start + width]) == *hash {
                return range_name((start, start + width));
            }
        }
    }
    panic!("{hash} is no subtree of the example")
}

fn render_inclusion(example: &Example, seq: u64, size: u64) -> String {
    let proof = merkle::inclusion_proof(&example.tree(size), seq, size).expect("inclusion proof");
    let ranges = path(seq as usize, 0, size as usize);
    assert_eq!(proof, ranges.iter().map(|(s, e)| mth(&example.leaves[*s..*e])).collect::<Vec<_>>());
    let leaf = example.leaves[seq as usize];
    let root = example.root(size);
    merkle::verify_inclusion(seq, size, &leaf, &proof, &root).expect("the proof verifies");

    let mut text = format!("PATH({seq}, D[0:{size}]), leaf side first:\n");
    for (idx, range) in ranges.iter().enumerate() {
        text += &format!("  proof[{idx}] = {:<12} = {}\n", range_name(*range), proof[idx].to_hex());
    }
    // RFC 9162 §2.1.3.2, step by step.
    text += &format!(
        "\nverifying: fn = {seq}, sn = {}, r = leaf hash = {}\n",
        size - 1,
        range_name((seq as usize, seq as usize + 1))
    );
    let (mut sn, mut r) = (size - 1, leaf);
    for support::InclusionStep { step, r: after, fn_, sn: sn_after } in
        support::inclusion_steps(seq, size, leaf, &proof)
    {
        (r, sn) = (after, sn_after);
        text += &format!("  {step:<34} = {}; fn = {fn_}, sn = {sn}\n", hash_name(example, &r));
    }
    assert_eq!(sn, 0);
    assert_eq!(r, root);
    text += &format!("sn = 0 and r = root of size {size}: event {seq} is in the tree\n");
    text
}

fn render_consistency(example: &Example, old_size: u64, new_size: u64) -> String {
    let proof = merkle::consistency_proof(&example.tree(new_size), old_size, new_size).expect("consistency proof");
    let ranges = subproof(old_size as usize, 0, new_size as usize, true);
    assert_eq!(proof, ranges.iter().map(|(s, e)| mth(&example.leaves[*s..*e])).collect::<Vec<_>>());
    let (old_root, new_root) = (example.root(old_size), example.root(new_size));
    merkle::verify_consistency(old_size, new_size, &old_root, &new_root, &proof).expect("the proof verifies");

    let mut text = format!("PROOF({old_size}, D[0:{new_size}]) = SUBPROOF({old_size}, D[0:{new_size}], true):\n");
    for (idx, range) in ranges.iter().enumerate() {
        text += &format!("  proof[{idx}] = {:<12} = {}\n", range_name(*range), proof[idx].to_hex());
    }
    // RFC 9162 §2.1.4.2, step by step.
    assert!(!old_size.is_power_of_two(), "the trace below assumes no old root is prepended");
    let (mut fn_, mut sn) = (old_size - 1, new_size - 1);
    text += &format!("\nverifying: {old_size} is not a power of 2, so the path is the proof; fn = {fn_}, sn = {sn}\n");
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    text += &format!("  shifted while fn is odd: fn = {fn_}, sn = {sn}; fr = sr = proof[0]\n");
    let (mut fr, mut sr) = (proof[0], proof[0]);
    for (idx, step) in support::consistency_steps(fn_, sn, &proof).into_iter().enumerate().map(|(i, s)| (i + 1, s)) {
        (fr, sr, fn_, sn) = (step.fr, step.sr, step.fn_, step.sn);
        let step = if step.both {
            format!(
                "fr = SHA-256(01 || proof[{idx}] || fr) = {}, sr = SHA-256(01 || proof[{idx}] || sr) = {}",
                hash_name(example, &fr),
                hash_name(example, &sr)
            )
        } else {
            format!("sr = SHA-256(01 || sr || proof[{idx}]) = {}", hash_name(example, &sr))
        };
        text += &format!("  {step}; fn = {fn_}, sn = {sn}\n");
    }
    assert_eq!((sn, fr, sr), (0, old_root, new_root));
    text += &format!("sn = 0, fr = root of size {old_size} and sr = root of size {new_size}: consistent\n");
    text
}

fn render_note_parts(example: &Example, size: u64) -> String {
    let note = example.note(size);
    let (body, signature_line) = note.split_once("\n\n").expect("a blank line");
    let body = format!("{body}\n");
    let line = signature_line.strip_suffix('\n').expect("a final newline");
    let rest = line.strip_prefix("\u{2014} ").expect("an em dash and a space");
    let (name, b64) = rest.split_once(' ').expect("a name and a signature");
    let signed = base64_decode(b64);
    assert_eq!(signed.len(), 68);
    let verifier = NoteVerifier::from_vkey(&example.signer.verifier().to_vkey()).expect("the example's key");
    assert_eq!(verifier.open(&note).expect("the note verifies").root, example.root(size));
    format!(
        "body, the bytes the signature covers ({} bytes):\n{}signature line:\n  e2 80 94 20 (U+2014 EM DASH, space), key name {name:?}, 20, base64 of 68 bytes, 0a\nkey id:    {}\nsignature: {}\n           {}\n",
        body.len(),
        hex_lines(body.as_bytes(), 32, "  "),
        hex(&signed[..4]),
        hex(&signed[4..36]),
        hex(&signed[36..]),
    )
}

// ---------------------------------------------------------------------------
// Reading the document.

/// A message saying how `name` should read, unless the document's block is
/// exactly `rendered`.
fn block_mismatch(name: &str, document: Option<&String>, rendered: &str) -> Option<String> {
    match document {
        Some(document) if document == rendered => None,
        Some(document) => Some(format!("block {name:?} should be:\n{rendered}but is:\n{document}")),
        None => Some(format!("<!-- checked: {name} --> is missing; it should mark:\n{rendered}")),
    }
}

fn assert_no_mismatches(mismatches: Vec<String>) {
    assert!(
        mismatches.is_empty(),
        "docs/LOG-FORMAT.md differs from the code in {} blocks:\n\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}

// ---------------------------------------------------------------------------
// The worked example.

#[test]
fn worked_example_matches_the_code() {
    let example = example();
    let mut document = checked_blocks(DOC);
    let mut mismatches = Vec::new();
    for (name, rendered) in rendered_blocks(&example) {
        mismatches.extend(block_mismatch(&name, document.get(&name), &rendered));
        document.remove(&name);
    }
    assert_no_mismatches(mismatches);
    document.retain(|name, _| !name.starts_with("cli ") && !name.starts_with("refusal "));
    assert!(document.is_empty(), "checked blocks nothing renders: {:?}", document.keys().collect::<Vec<_>>());
}

#[test]
fn worked_example_follows_the_documented_rules() {
    let example = example();
    // The published test vectors of both hash functions.
    assert_eq!(Envelope::hash(b"").to_hex(), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assert_eq!(merkle::empty_root().to_hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    for event in &example.events {
        // The document's encoding rules give postcard's bytes, which decode
        // strictly and re-encode to themselves.
        assert_eq!(encode_by_hand(&event.envelope), event.envelope_bytes, "event {}", event.seq);
        let decoded = Envelope::from_bytes(&event.envelope_bytes).expect("the envelope decodes");
        assert_eq!(decoded, event.envelope);
        assert_eq!(decoded.to_bytes(), event.envelope_bytes);
        // The event hash is plain BLAKE3 of the bytes: the same as hashing
        // them as a 16-byte "salt" and the rest through the other path.
        let (first, rest) = event.envelope_bytes.split_at(16);
        assert_eq!(payload_hash(&Salt(first.try_into().unwrap()), rest).0, event.event_hash.0);
    }
    // Each group's events share its time, and each group ends where a
    // checkpoint is said to be signed.
    for event in &example.events {
        let group = GROUP_ENDS.iter().position(|end| event.seq < *end).expect("every event is in a group");
        assert_eq!(event.envelope.recorded_at_us(), GROUP_TIMES_US[group], "event {}", event.seq);
    }
    assert!(GROUP_TIMES_US.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(example.events[0].envelope.prev_hash(), EventHash::ZERO);
    for pair in example.events.windows(2) {
        assert_eq!(pair[1].envelope.prev_hash(), pair[0].event_hash);
    }
    // Every value of the encoding examples is what postcard writes.
    let base = &example.events[0];
    let with = |seq: u64, schema_version: u16, recorded_at_us: i64| {
        let fields = EnvelopeFields {
            stream: "clerk",
            event_id: base.envelope.event_id(),
            event_type: base.envelope.event_type(),
            schema_version,
            actor: base.envelope.actor(),
            role: "clerk",
        };
        Envelope::new(&fields, Seq(seq), StreamVersion(1), recorded_at_us, EventHash::ZERO, base.payload_hash)
    };
    for value in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::MAX] {
        let envelope = with(value, 1, 0);
        assert_eq!(encode_by_hand(&envelope), envelope.to_bytes(), "u64 {value}");
    }
    let envelope = with(0, u16::MAX, 0);
    assert_eq!(encode_by_hand(&envelope), envelope.to_bytes(), "u16 65535");
    for value in [0i64, -1, 1, -2, 2, 63, -64, 64, GROUP_TIMES_US[0], i64::MIN, i64::MAX] {
        let envelope = with(0, 1, value);
        assert_eq!(encode_by_hand(&envelope), envelope.to_bytes(), "i64 {value}");
        assert_eq!(Envelope::from_bytes(&envelope.to_bytes()).unwrap().recorded_at_us(), value);
    }
    // Times render as they should.
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(rfc3339(951_782_400_000_001), "2000-02-29T00:00:00.000001Z");
    assert_eq!(rfc3339(GROUP_TIMES_US[0]), "2026-02-11T09:15:00.000000Z");
    assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999999Z");
    // The tree's code agrees with RFC 9162's definitions at every size,
    // and the checkpoints signed at each group commit verify.
    let verifier = NoteVerifier::from_vkey(&example.signer.verifier().to_vkey()).expect("the example's key");
    for size in 0..=example.leaves.len() as u64 {
        let tree = example.tree(size);
        if size > 0 {
            assert_eq!(merkle::range_hash(&tree, 0, size).unwrap(), example.root(size));
        }
        for seq in 0..size {
            let proof = merkle::inclusion_proof(&tree, seq, size).unwrap();
            let ranges = path(seq as usize, 0, size as usize);
            assert_eq!(proof, ranges.iter().map(|(s, e)| mth(&example.leaves[*s..*e])).collect::<Vec<_>>());
            merkle::verify_inclusion(seq, size, &example.leaves[seq as usize], &proof, &example.root(size)).unwrap();
        }
        for old_size in 1..size {
            let proof = merkle::consistency_proof(&tree, old_size, size).unwrap();
            let ranges = subproof(old_size as usize, 0, size as usize, true);
            assert_eq!(proof, ranges.iter().map(|(s, e)| mth(&example.leaves[*s..*e])).collect::<Vec<_>>());
            merkle::verify_consistency(old_size, size, &example.root(old_size), &example.root(size), &proof).unwrap();
        }
        let note = example.note(size);
        let opened = verifier.open(&note).expect("the note verifies");
        assert_eq!((opened.tree_size, opened.root), (size, example.root(size)));
        // The note is its body, a blank line and one signature line.
        let body = format!("{EXAMPLE_ORIGIN}\n{size}\n{}\n", note.lines().nth(2).unwrap());
        assert!(note.starts_with(&format!("{body}\n\u{2014} {EXAMPLE_ORIGIN} ")));
        assert_eq!(base64_decode(note.lines().nth(2).unwrap()), example.root(size).0);
        let signed = base64_decode(note.lines().nth(4).unwrap().rsplit(' ').next().unwrap());
        let key_id = example.signer.verifier().to_vkey().split('+').nth(1).unwrap().to_owned();
        assert_eq!(hex(&signed[..4]), key_id);
        // Ed25519 signatures are deterministic: signing again gives the same note.
        assert_eq!(example.note(size), note);
    }
    // The key texts: PRIVATE+KEY+name+id+base64(01 || seed), name+id+base64(01 || key).
    let skey = example.signer.to_skey();
    let parts: Vec<&str> = skey.splitn(5, '+').collect();
    assert_eq!(parts[..3], ["PRIVATE", "KEY", EXAMPLE_ORIGIN]);
    assert_eq!(base64_decode(parts[4]), [&[1u8][..], &example_seed()[..]].concat());
    let vkey = example.signer.verifier().to_vkey();
    let parts: Vec<&str> = vkey.splitn(3, '+').collect();
    assert_eq!(base64_decode(parts[2]), [&[1u8][..], &example.signer.verifier().key().as_bytes()[..]].concat());
}

/// Decoding refuses what the document says it refuses.
#[test]
fn envelope_decoding_is_strict() {
    let example = example();
    let bytes = &example.events[1].envelope_bytes;
    let refuses = |bytes: &[u8], why: &str| {
        Envelope::from_bytes(bytes).expect_err(why);
    };
    let corrupt = |bytes: &[u8], why: &str| {
        let error = Envelope::from_bytes(bytes).expect_err(why);
        assert_eq!(error.category(), ErrorCategory::Corrupt, "{why}: {error}");
    };
    corrupt(&[bytes.as_slice(), &[0]].concat(), "a trailing byte");
    corrupt(&bytes[..bytes.len() - 1], "a missing byte");
    let mut version_2 = bytes.clone();
    version_2[0] = ENVELOPE_FORMAT_VERSION + 1;
    corrupt(&version_2, "format version 2");
    let mut version_0 = bytes.clone();
    version_0[0] = 0;
    corrupt(&version_0, "format version 0");
    // A string field one byte over its limit, empty, not UTF-8, or with a
    // control character.
    let envelope = &example.events[1].envelope;
    let fields = envelope_fields(envelope);
    let with_field = |name: &str, replacement: Vec<u8>| -> Vec<u8> {
        fields
            .iter()
            .flat_map(|field| if field.name == name { replacement.clone() } else { field.bytes.clone() })
            .collect()
    };
    for (name, max) in [
        ("stream", STREAM_BYTES_MAX),
        ("event_type", EVENT_TYPE_BYTES_MAX),
        ("actor", ACTOR_BYTES_MAX),
        ("role", ROLE_BYTES_MAX),
    ] {
        let at_max = with_field(name, string(&"a".repeat(max)));
        Envelope::from_bytes(&at_max).unwrap_or_else(|error| panic!("{name} of {max} bytes: {error}"));
        refuses(&with_field(name, string(&"a".repeat(max + 1))), &format!("{name} over its limit"));
        refuses(&with_field(name, string("")), &format!("{name} empty"));
        refuses(&with_field(name, string("tab\there")), &format!("{name} with a control character"));
        corrupt(&with_field(name, [&varint(2)[..], &[0xc3, 0x28]].concat()), &format!("{name} not UTF-8"));
    }
}

// ---------------------------------------------------------------------------
// The CLI's proofs.

/// Each `cli …` block shows a command and what it prints for the worked
/// example. The test runs the command on a real log of five events and
/// swaps each of its hashes and its checkpoint for the example's: the
/// result must be the block.
#[test]
fn proofs_print_as_the_document_shows() {
    let example = example();
    let scratch = Scratch::new();
    let (events, notes) = {
        let log = scratch.open();
        for n in 0..5 {
            log.append(support::one(support::event(MEETING, format!("point {n}").as_bytes()))).expect("append");
        }
        let events = log.read(Seq(0), 5).expect("read");
        let notes: Vec<String> =
            (0..=5).map(|size| log.checkpoint(size).expect("checkpoint").map(|c| c.note).unwrap_or_default()).collect();
        (events, notes)
    };
    // What the real log printed, and what the example's log prints instead.
    let mut swaps: Vec<(String, String)> = Vec::new();
    let real_leaves: Vec<TreeHash> = events.iter().map(|event| merkle::leaf_hash(&event.hash)).collect();
    for (event, computed) in events.iter().zip(&example.events) {
        swaps.push((event.hash.to_hex(), computed.event_hash.to_hex()));
    }
    let n = real_leaves.len();
    for width in 1..=n {
        for start in 0..=n - width {
            let real = mth(&real_leaves[start..start + width]);
            swaps.push((real.to_hex(), mth(&example.leaves[start..start + width]).to_hex()));
        }
    }
    for size in [3, 5] {
        let real = notes[size as usize].clone();
        let note = example.note(size);
        swaps.push((serde_json::to_string(&real).unwrap(), serde_json::to_string(&note).unwrap()));
        swaps.push((real, note));
    }

    let document = checked_blocks(DOC);
    let cli_blocks: Vec<(&String, &String)> = document.iter().filter(|(name, _)| name.starts_with("cli ")).collect();
    assert_eq!(cli_blocks.len(), 4, "the document shows both proofs, as text and as JSON");
    let mut mismatches = Vec::new();
    for (name, block) in cli_blocks {
        let mut lines = block.lines().skip(1);
        let command = lines.next().and_then(|line| line.strip_prefix("$ minutebook ")).expect("a command line");
        let output = Command::new(env!("CARGO_BIN_EXE_minutebook"))
            .args(command.split(' '))
            .env("MINUTEBOOK_DATA", &scratch.path)
            .output()
            .expect("the CLI runs");
        assert!(output.status.success(), "{command}: {}", String::from_utf8_lossy(&output.stderr));
        let mut printed = String::from_utf8(output.stdout).expect("UTF-8");
        for (real, example) in &swaps {
            printed = printed.replace(real.as_str(), example);
        }
        let rendered = format!("```console\n$ minutebook {command}\n{printed}```\n");
        mismatches.extend(block_mismatch(name, Some(block), &rendered));
    }
    assert_no_mismatches(mismatches);
}

/// A data directory of a newer format is refused, with the message the
/// document shows.
#[test]
fn a_newer_data_directory_is_refused_as_documented() {
    let scratch = Scratch::new();
    let format = scratch.path.join("FORMAT");
    let current = std::fs::read_to_string(&format).expect("FORMAT");
    std::fs::write(&format, current.replace(" 1\n", " 2\n")).expect("rewrite FORMAT");
    let before = support::directory_bytes(&scratch.path);
    let parent = scratch.path.parent().expect("a parent");
    let output = Command::new(env!("CARGO_BIN_EXE_minutebook"))
        .args(["verify", "data"])
        .current_dir(parent)
        .output()
        .expect("the CLI runs");
    assert_eq!(output.status.code(), Some(2));
    let printed = String::from_utf8(output.stderr)
        .expect("UTF-8")
        .replace("data directory data ", "data directory minutebook-data ");
    let rendered = format!("```console\n$ minutebook verify minutebook-data\n{printed}```\n");
    let document = checked_blocks(DOC);
    assert_no_mismatches(
        block_mismatch("refusal newer format", document.get("refusal newer format"), &rendered).into_iter().collect(),
    );
    assert_eq!(support::directory_bytes(&scratch.path), before, "a refused directory is left as it was");
}

// ---------------------------------------------------------------------------
// A real data directory.

fn new_event(stream: &str, payload: Vec<u8>) -> NewEvent {
    NewEvent {
        stream: stream.to_owned(),
        event_id: EventId::random(),
        event_type: "minute.drafted".into(),
        schema_version: 3,
        actor: "officer:mara-ellwood".into(),
        role: "clerk".into(),
        payload,
    }
}

/// Appends events of every shape to a real log: the encoding the worked
/// example shows is what the log writes, and its hashes are what the
/// document says they cover.
#[test]
fn stored_envelopes_reencode_to_their_exact_bytes() {
    let scratch = Scratch::new();
    let log = scratch.open();
    let payloads: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"x".to_vec(),
        "Minute 7: the panel noted the report \u{2014} unanimously.".as_bytes().to_vec(),
        vec![0xa5; 200],
        vec![0x00; minutebook_log::limits::EVENT_PAYLOAD_BYTES_MAX],
    ];
    let mut appended = Vec::new();
    for (payload_idx, payload) in payloads.iter().enumerate() {
        let stream = if payload_idx % 2 == 0 { BODY } else { MEETING };
        let batch = AppendBatch::new()
            .expect(BODY, ExpectedVersion::Any)
            .expect(MEETING, ExpectedVersion::Any)
            .event(new_event(stream, payload.clone()))
            .event(new_event(MEETING, payload.iter().rev().copied().collect()));
        appended.extend(log.append(batch).expect("append").events);
    }
    let events = log.read(Seq(0), 100).expect("read");
    assert_eq!(events.len(), appended.len());
    let mut prev_hash = EventHash::ZERO;
    let mut stream_versions: BTreeMap<String, u64> = BTreeMap::new();
    for (seq, (event, appended)) in events.iter().zip(&appended).enumerate() {
        let bytes = &event.envelope_bytes;
        let envelope = Envelope::from_bytes(bytes).expect("a stored envelope decodes");
        assert_eq!(&envelope.to_bytes(), bytes, "event {seq} re-encodes to its stored bytes");
        assert_eq!(&encode_by_hand(&envelope), bytes, "event {seq} is encoded as the document says");
        assert_eq!(envelope.format_version(), 1);
        assert_eq!(envelope.seq(), Seq(seq as u64));
        let version = stream_versions.entry(envelope.stream().to_owned()).or_default();
        *version += 1;
        assert_eq!(envelope.stream_version(), StreamVersion(*version));
        assert_eq!(envelope.prev_hash(), prev_hash, "event {seq} chains to the one before");
        // The event hash is BLAKE3 over the stored bytes, whichever way it
        // is computed.
        let hash = Envelope::hash(bytes);
        let (first, rest) = bytes.split_at(16);
        assert_eq!(payload_hash(&Salt(first.try_into().unwrap()), rest).0, hash.0);
        assert_eq!(event.hash, hash);
        assert_eq!(appended.event_hash, hash);
        assert_eq!(appended.seq, Seq(seq as u64));
        let Payload::Present { salt, bytes: payload } = &event.payload else { panic!("event {seq} redacted") };
        assert_eq!(payload_hash(salt, payload), envelope.payload_hash(), "BLAKE3(salt || payload)");
        assert_ne!(salt.0, [0; 16], "a salt is random");
        prev_hash = hash;
    }
    support::assert_verifies(&log);
}

/// The data directory's files, the store's keys and values and the
/// journal's frames, read by the document's rules alone.
#[test]
fn data_directory_is_laid_out_as_the_document_says() {
    let scratch = Scratch::new();
    let origin = support::ORIGIN;
    let n_events = 21u64;
    let redacted_seq = 5u64;
    let notice = "redacted under FOI Act s.40(2): ref RCSP-R-0031";
    let (events, group_ends) = {
        let log = scratch.open();
        let mut group_ends = vec![0u64];
        let mut n = 0u64;
        while n < n_events - 1 {
            let size = (n % 4 + 1).min(n_events - 1 - n);
            let mut batch = AppendBatch::new().expect(BODY, ExpectedVersion::Any).expect(MEETING, ExpectedVersion::Any);
            for _ in 0..size {
                let stream = if n.is_multiple_of(3) { BODY } else { MEETING };
                batch = batch.event(new_event(stream, format!("point {n} of the panel's discussion").into_bytes()));
                n += 1;
            }
            let outcome = log.append(batch).expect("append");
            group_ends.push(outcome.tree_size);
        }
        let redaction = AppendBatch::new()
            .expect(MEETING, ExpectedVersion::Any)
            .event(new_event(MEETING, b"{\"redacted\":5}".to_vec()))
            .redact(Seq(redacted_seq), notice);
        group_ends.push(log.append(redaction).expect("redact").tree_size);
        support::assert_verifies(&log);
        (log.read(Seq(0), 100).expect("read"), group_ends)
    };
    assert_eq!(events.len() as u64, n_events);
    let dir = &scratch.path;

    // The files.
    let format = std::fs::read_to_string(dir.join("FORMAT")).expect("FORMAT");
    assert_eq!(format, format!("minutebook data directory format {DATA_FORMAT_VERSION}\n"));
    assert_eq!(DATA_FORMAT_VERSION, 1);
    let key_path = dir.join("log.key");
    assert_eq!(std::fs::metadata(&key_path).unwrap().permissions().mode() & 0o777, 0o600);
    let key_text = std::fs::read_to_string(&key_path).expect("log.key");
    let parts: Vec<&str> = key_text.splitn(5, '+').collect();
    assert_eq!(parts[..3], ["PRIVATE", "KEY", origin], "no newline, no other text: {key_text:?}");
    let typed_seed = base64_decode(parts[4]);
    assert_eq!((typed_seed.len(), typed_seed[0]), (33, 0x01));
    let signer = NoteSigner::from_seed(origin, typed_seed[1..].try_into().unwrap()).unwrap();
    assert_eq!(signer.to_skey(), key_text);
    let pub_text = std::fs::read_to_string(dir.join("log.pub")).expect("log.pub");
    assert_eq!(pub_text, format!("{}\n", signer.verifier().to_vkey()));
    assert_eq!(pub_text.split('+').nth(1), Some(parts[3]), "both name the same key id");
    let verifier = NoteVerifier::from_vkey(&pub_text).expect("log.pub");
    let lock = std::fs::read_to_string(dir.join("LOCK")).expect("LOCK");
    assert_eq!(lock, format!("{}\n", std::process::id()), "the last opener's pid");
    assert!(dir.join("sled").join("db").is_file());
    let journal = std::fs::read(dir.join("journal")).expect("journal");
    assert_eq!(journal.len() % (16 << 20), 0, "the journal grows 16 MiB at a time");

    // The store, read raw.
    let store = SledStore::open(dir).expect("the store");
    let all: Vec<KeyValue> = store.scan(&[], &[0xff]).collect::<std::io::Result<_>>().expect("scan the store");
    let mut by_kind: BTreeMap<u8, Vec<KeyValue>> = BTreeMap::new();
    for (key, value) in all {
        assert!(value.len() <= 4096, "stored values stay within 4 KiB");
        by_kind.entry(key[0]).or_default().push((key, value));
    }
    assert_eq!(by_kind.keys().copied().collect::<Vec<_>>(), b"cehins".to_vec(), "no `x` left once scrubbed");

    let leaves: Vec<TreeHash> = events.iter().map(|event| merkle::leaf_hash(&event.hash)).collect();
    let mut frontier = Frontier::empty();
    for leaf in &leaves {
        frontier.push(*leaf, |_| {});
    }
    // `h`: the head.
    let [(key, head)] = &by_kind[&b'h'][..] else { panic!("one head") };
    assert_eq!(key, b"h");
    let mut reader = Reader::new(head);
    assert_eq!(reader.varint(), n_events, "Head.len");
    assert_eq!(reader.hash(), events.last().unwrap().hash.0, "Head.last_hash");
    let journal_end = reader.varint();
    assert_eq!(reader.zigzag(), events.last().unwrap().envelope.recorded_at_us(), "Head.last_recorded_at_us");
    let n_frontier = reader.varint();
    let head_frontier: Vec<[u8; 32]> = (0..n_frontier).map(|_| reader.hash()).collect();
    reader.finish();
    assert_eq!(head_frontier, frontier.hashes().iter().map(|hash| hash.0).collect::<Vec<_>>());

    // `e`: the records, and the payloads they point into the journal.
    let records = &by_kind[&b'e'];
    assert_eq!(records.len() as u64, n_events);
    let mut stored_payloads: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for (seq, ((key, value), event)) in records.iter().zip(&events).enumerate() {
        assert_eq!(key, &key_u64(b'e', seq as u64));
        let mut reader = Reader::new(value);
        assert_eq!(reader.bytes(), event.envelope_bytes.as_slice());
        match (reader.varint(), &event.payload) {
            (0, Payload::Present { salt, bytes }) => {
                let (offset, len) = (reader.varint(), reader.varint());
                assert_eq!(len, bytes.len() as u64);
                let stored = &journal[offset as usize..(offset + 16 + len) as usize];
                assert_eq!(&stored[..16], &salt.0, "the salt, then the payload");
                assert_eq!(&stored[16..], bytes.as_slice());
                stored_payloads.insert(seq as u64, (offset, len));
            }
            (1, Payload::Redacted { notice: stored }) => {
                assert_eq!(seq as u64, redacted_seq);
                assert_eq!(reader.string(), stored);
                assert_eq!(stored, notice);
            }
            (variant, payload) => panic!("event {seq}: variant {variant} for {payload:?}"),
        }
        reader.finish();
    }
    // `i`: event id to seq.
    let ids = &by_kind[&b'i'];
    let expected_ids: BTreeMap<Vec<u8>, Vec<u8>> = events
        .iter()
        .map(|event| {
            ([&[b'i'][..], &event.envelope.event_id().0].concat(), event.envelope.seq().0.to_be_bytes().to_vec())
        })
        .collect();
    assert_eq!(ids.iter().cloned().collect::<BTreeMap<_, _>>(), expected_ids);
    // `s`: each stream's seqs, in chunks.
    let mut expected_streams: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for stream in [BODY, MEETING] {
        let seqs: Vec<u64> = events
            .iter()
            .filter(|event| event.envelope.stream() == stream)
            .map(|event| event.envelope.seq().0)
            .collect();
        let mut key = vec![b's', stream.len() as u8];
        key.extend_from_slice(stream.as_bytes());
        key.extend_from_slice(&0u32.to_be_bytes());
        let value: Vec<u8> =
            varint(seqs.len() as u64).into_iter().chain(seqs.iter().flat_map(|seq| varint(*seq))).collect();
        expected_streams.insert(key, value);
    }
    assert_eq!(by_kind[&b's'].iter().cloned().collect::<BTreeMap<_, _>>(), expected_streams);
    // `n`: complete subtrees at level 4 and above.
    assert_eq!(STORED_NODE_LEVEL_MIN, 4);
    let nodes = &by_kind[&b'n'];
    assert_eq!(nodes, &vec![(node_key(4, 0), mth(&leaves[..16]).0.to_vec())]);
    // `c`: one checkpoint per group commit that appended events, and the empty tree's.
    let checkpoints = &by_kind[&b'c'];
    let sizes: Vec<u64> =
        checkpoints.iter().map(|(key, _)| u64::from_be_bytes(key[1..9].try_into().unwrap())).collect();
    assert_eq!(sizes, group_ends);
    for ((key, note), size) in checkpoints.iter().zip(&sizes) {
        assert_eq!(key, &key_u64(b'c', *size));
        let note = std::str::from_utf8(note).expect("a note is UTF-8");
        let checkpoint = verifier.open(note).expect("every checkpoint verifies");
        assert_eq!(checkpoint.root, mth(&leaves[..*size as usize]));
        assert_eq!(note, signer.sign(&checkpoint), "Ed25519 signatures are deterministic");
    }

    // The journal: frames back to back from offset 0, then zeros.
    let mut offset = 0usize;
    let mut first_seq = 0u64;
    let mut n_frames = 0;
    while journal[offset..offset + 8] == *b"mbframe1" {
        let u32_at = |at: usize| u32::from_le_bytes(journal[offset + at..offset + at + 4].try_into().unwrap());
        assert_eq!(u64::from_le_bytes(journal[offset + 8..offset + 16].try_into().unwrap()), first_seq);
        let (n_events, payloads_len, body_len) = (u64::from(u32_at(16)), u32_at(20) as usize, u32_at(24) as usize);
        let payloads = offset + 60..offset + 60 + payloads_len;
        let body = &journal[payloads.end..payloads.end + body_len];
        let mut reader = Reader::new(body);
        assert_eq!(reader.varint(), first_seq + n_events, "the frame's Head.len");
        let _last_hash = reader.hash();
        assert_eq!(reader.varint(), 0, "a frame's Head.journal_end is 0");
        let _recorded_at_us = reader.zigzag();
        let n_frontier = reader.varint();
        reader.take(32 * n_frontier as usize);
        let n_operations = reader.varint();
        let mut payload_at = payloads.start;
        let mut kinds = BTreeSet::new();
        for _ in 0..n_operations {
            let key = reader.bytes().to_vec();
            kinds.insert(key[0]);
            let value = match reader.byte() {
                0 => None,
                1 => Some(reader.bytes().to_vec()),
                other => panic!("Option tag {other}"),
            };
            let value = value.expect("a frame only puts");
            if key[0] == b'e' {
                let mut record = Reader::new(&value);
                let envelope = Envelope::from_bytes(record.bytes()).unwrap();
                if record.varint() == 0 && envelope.seq().0 >= first_seq {
                    // A new event's payload: next in the payload area.
                    let (at, len) = (record.varint(), record.varint());
                    assert_eq!(at as usize, payload_at);
                    let region = &journal[payload_at..payload_at + 16 + len as usize];
                    if envelope.seq().0 == redacted_seq {
                        assert!(region.iter().all(|byte| *byte == 0), "a redacted payload and salt are zeros");
                    } else {
                        assert_eq!(stored_payloads[&envelope.seq().0], (at, len));
                        let salt = Salt(region[..16].try_into().unwrap());
                        assert_eq!(payload_hash(&salt, &region[16..]), envelope.payload_hash());
                    }
                    payload_at += 16 + len as usize;
                }
            }
        }
        reader.finish();
        assert_eq!(payload_at, payloads.end, "the payload area holds exactly the group's payloads");
        assert!(kinds.is_subset(&b"ceinsx".iter().copied().collect()), "frame keys: {kinds:?}");
        assert_eq!(kinds.contains(&b'c'), n_events > 0, "a group that appends signs a checkpoint");
        first_seq += n_events;
        offset = payloads.end + body_len;
        n_frames += 1;
    }
    assert_eq!(n_frames, group_ends.len() - 1, "one frame per group commit");
    assert_eq!(offset as u64, journal_end, "Head.journal_end is the end of the last frame");
    assert!(journal[offset..].iter().all(|byte| *byte == 0), "zeros after the last frame");
    drop(store);

    // Read raw, nothing changed: the log opens and verifies again.
    let log = Log::open(dir).expect("reopen");
    support::assert_verifies(&log);
}
