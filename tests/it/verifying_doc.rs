//! docs/VERIFYING.md's worked example checked against the code, so that the
//! values an auditor checks their own verifier with cannot drift from what
//! minutebook writes.
//!
//! Only the document's `## Worked example` section is read. Each of its
//! blocks marked `<!-- checked: NAME -->` is rendered here from the code
//! (envelopes, hashes, the tree, the bundle's proof files, the checkpoint,
//! a chair's statement and signature, manifest lines) and must equal the
//! document byte for byte. A second test runs the real verifiers on the
//! values as the document writes them, and a third exports a real bundle
//! and checks that its files are written the way this file renders the
//! example's.
//!
//! To update the document after a deliberate change, run
//! `cargo test --test it verifying_doc` and paste each block the failure
//! prints.

use std::collections::BTreeMap;

use crate::support::{self, checked_blocks, fenced, parse_hex};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use minutebook::bundle::{self, Meta, Scope, CONSISTENCY_DIR, MANIFEST};
use minutebook::domain::SigningStatement;
use minutebook_catalogue::{
    BodyId, BodyKind, BodyRegistered, Date, DomainEvent, MeetingId, MeetingScheduled, PersonId, PersonRegistered,
    TimeOfDay,
};
use minutebook_log::checkpoint::key_id;
use minutebook_log::envelope::{payload_hash, EnvelopeFields};
use minutebook_log::merkle::{self, Frontier, Subtrees};
use minutebook_log::portable::{check_carried, check_sequence, Carried, Content};
use minutebook_log::{
    hex, unhex, Checkpoint, Envelope, Event, EventHash, EventId, Log, NoteSigner, NoteVerifier, Payload, PayloadHash,
    Salt, Seq, StreamVersion, TreeHash,
};
use minutebook_projections::minutes::{canonical_text, events_digest, minutes_digest};
use minutebook_projections::record::{catch_up, Record};

const DOC: &str = include_str!("../../docs/VERIFYING.md");
const SECTION: &str = "## Worked example";

// ---------------------------------------------------------------------------
// The worked example's inputs. Everything else in it is computed.

/// The example log's origin, which is also its key's name.
const ORIGIN: &str = "northmoor.example/minutes";
/// The log's Ed25519 seed: the bytes a0 a1 … bf. A published test seed.
const LOG_SEED: [u8; 32] = seed_from(0xa0);
/// The chair's Ed25519 seed: the bytes c0 c1 … df.
const CHAIR_SEED: [u8; 32] = seed_from(0xc0);
/// The tree size of the bundle's checkpoint, and the older size it proves
/// the checkpoint consistent with.
const TREE_SIZE: u64 = 3;
const OLD_TREE_SIZE: u64 = 2;
/// The event whose inclusion proof the example shows.
const PROVEN_SEQ: u64 = 1;

const BODY: &str = "northmoor-parish-council";
const CHAIR: &str = "cllr-greaves";
const MEETING: &str = "npc-2026-04-14";
/// The meeting and agenda item the statement says confirmed the minutes:
/// a later meeting, not in the three-event log.
const CONFIRMING_MEETING: &str = "npc-2026-05-12";
const CONFIRMING_ITEM: u32 = 3;
const CLERK: &str = "off-quarrie";

const fn seed_from(first: u8) -> [u8; 32] {
    let mut seed = [0u8; 32];
    let mut byte_idx = 0;
    while byte_idx < 32 {
        seed[byte_idx] = first + byte_idx as u8;
        byte_idx += 1;
    }
    seed
}

struct Input {
    event_id: &'static str,
    recorded_at_us: i64,
    salt: &'static str,
    payload: DomainEvent,
}

fn body_id() -> BodyId {
    BodyId::new(BODY).expect("a body id")
}

fn meeting_id() -> MeetingId {
    MeetingId::new(MEETING).expect("a meeting id")
}

fn inputs() -> [Input; 3] {
    [
        Input {
            event_id: "019cadc69a807a01b1c2d3e4f5a60001",
            // 2026-03-02T09:00:00Z
            recorded_at_us: 1_772_442_000_000_000,
            salt: "3a7c19e05b2d48f1a6c3e8d27f904b15",
            payload: DomainEvent::BodyRegistered(BodyRegistered {
                body: body_id(),
                name: "Northmoor Parish Council".into(),
                kind: BodyKind::Council,
                timezone: "Europe/London".into(),
                quorum: 3,
                minute_number_start: 1,
            }),
        },
        Input {
            event_id: "019cadca74d47a02b1c2d3e4f5a60002",
            // 2026-03-02T09:04:12.5Z
            recorded_at_us: 1_772_442_252_500_000,
            salt: "d41f8a2c6e0b93577c15a9e3b8f2d064",
            payload: DomainEvent::PersonRegistered(PersonRegistered {
                person: PersonId::new(CHAIR).expect("a person id"),
                name: "Tamsin Greaves".into(),
                title: Some("Councillor".into()),
                organisation: None,
            }),
        },
        Input {
            event_id: "019cd37cd6e07a03b1c2d3e4f5a60003",
            // 2026-03-09T16:45:00Z
            recorded_at_us: 1_773_074_700_000_000,
            salt: "9b2e5f7a1c3d8e40f6a7b9c2d5e1f308",
            payload: DomainEvent::MeetingScheduled(MeetingScheduled {
                meeting: meeting_id(),
                body: body_id(),
                date: Date::parse("2026-04-14").expect("a date"),
                start: TimeOfDay::parse("19:30").expect("a time"),
                venue: "Northmoor Village Hall".into(),
            }),
        },
    ]
}

/// An example event with everything computed from it.
struct Computed {
    seq: u64,
    payload: DomainEvent,
    payload_bytes: Vec<u8>,
    salt: Salt,
    payload_hash: PayloadHash,
    envelope: Envelope,
    envelope_bytes: Vec<u8>,
    event_hash: EventHash,
}

struct Example {
    events: Vec<Computed>,
    leaves: Vec<TreeHash>,
    signer: NoteSigner,
    note: String,
    canonical_text: String,
    statement: SigningStatement,
    chair: SigningKey,
    signature: Signature,
}

fn example() -> Example {
    let mut events: Vec<Computed> = Vec::new();
    let mut record = Record::new();
    for (seq, input) in inputs().into_iter().enumerate() {
        let seq = seq as u64;
        let salt = Salt(parse_hex(input.salt));
        let payload_bytes = input.payload.encode();
        let payload_hash = payload_hash(&salt, &payload_bytes);
        let prev_hash = events.last().map_or(EventHash::ZERO, |event| event.event_hash);
        let stream = stream_of(&input.payload);
        let fields = EnvelopeFields {
            stream: &stream,
            event_id: EventId(parse_hex(input.event_id)),
            event_type: input.payload.event_type(),
            schema_version: input.payload.schema_version(),
            actor: CLERK,
            role: "clerk",
        };
        // Each event is the first of its stream.
        let envelope =
            Envelope::new(&fields, Seq(seq), StreamVersion(1), input.recorded_at_us, prev_hash, payload_hash);
        let envelope_bytes = envelope.to_bytes();
        let event_hash = Envelope::hash(&envelope_bytes);
        record.apply(
            &Event {
                envelope: envelope.clone(),
                envelope_bytes: envelope_bytes.clone(),
                hash: event_hash,
                payload: Payload::Present { salt, bytes: payload_bytes.clone() },
            },
            None,
        );
        events.push(Computed {
            seq,
            payload: input.payload,
            payload_bytes,
            salt,
            payload_hash,
            envelope,
            envelope_bytes,
            event_hash,
        });
    }
    let leaves: Vec<TreeHash> = events.iter().map(|event| merkle::leaf_hash(&event.event_hash)).collect();
    let signer = NoteSigner::from_seed(ORIGIN, LOG_SEED).expect("the example's log key");
    let note = signer.sign(&Checkpoint { origin: ORIGIN.to_owned(), tree_size: TREE_SIZE, root: root(&leaves, 3) });

    let meeting = &record.meetings[MEETING];
    let canonical_text = canonical_text(&record, &meeting_id()).expect("the meeting's canonical text");
    let statement = SigningStatement {
        body: body_id(),
        body_name: record.bodies[BODY].name.clone(),
        meeting: meeting_id(),
        meeting_date: meeting.date,
        confirming_meeting: MeetingId::new(CONFIRMING_MEETING).expect("a meeting id"),
        confirming_item: CONFIRMING_ITEM,
        log: ORIGIN.to_owned(),
        tree_size: TREE_SIZE,
        tree_root: root(&leaves, TREE_SIZE),
        events: meeting.event_hashes.len() as u64,
        events_digest: events_digest(meeting, meeting.event_hashes.len() as u64).expect("every event's hash"),
        minutes_digest: minutes_digest(&canonical_text),
    };
    let chair = SigningKey::from_bytes(&CHAIR_SEED);
    let signature = chair.sign(statement.to_text().as_bytes());
    Example { events, leaves, signer, note, canonical_text, statement, chair, signature }
}

fn stream_of(payload: &DomainEvent) -> String {
    match payload {
        DomainEvent::BodyRegistered(e) => e.body.stream(),
        DomainEvent::PersonRegistered(e) => e.person.stream(),
        DomainEvent::MeetingScheduled(e) => e.meeting.stream(),
        other => panic!("the example holds no {}", other.event_type()),
    }
}

/// The root of the first `size` leaves, by the code's frontier.
fn root(leaves: &[TreeHash], size: u64) -> TreeHash {
    let mut frontier = Frontier::empty();
    for leaf in &leaves[..size as usize] {
        frontier.push(*leaf, |_| {});
    }
    frontier.root()
}

/// A tree over leaf hashes, for the code's proof functions.
struct Leaves<'a>(&'a [TreeHash]);

impl Subtrees for Leaves<'_> {
    fn subtree(&self, level: u8, index: u64) -> minutebook_log::Result<TreeHash> {
        let start = (index << level) as usize;
        Ok(root(&self.0[start..start + (1usize << level)], 1 << level))
    }
}

impl Example {
    fn root(&self, size: u64) -> TreeHash {
        root(&self.leaves, size)
    }

    fn inclusion(&self, seq: u64) -> Vec<TreeHash> {
        merkle::inclusion_proof(&Leaves(&self.leaves), seq, TREE_SIZE).expect("an inclusion proof")
    }

    fn consistency(&self) -> Vec<TreeHash> {
        merkle::consistency_proof(&Leaves(&self.leaves), OLD_TREE_SIZE, TREE_SIZE).expect("a consistency proof")
    }

    /// What the example's hashes are called in the document.
    fn name_of(&self, hash: &TreeHash) -> String {
        if let Some(leaf_idx) = self.leaves.iter().position(|leaf| leaf == hash) {
            return format!("leaf {leaf_idx}");
        }
        (2..=TREE_SIZE)
            .find(|size| self.root(*size) == *hash)
            .map(|size| format!("root of size {size}"))
            .unwrap_or_else(|| panic!("{hash} has no name in the example"))
    }

    /// The bundle's files of the example that the document shows, by path.
    fn files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        files.insert(bundle::LOG_KEY.to_owned(), log_pub_file(self.signer.verifier()).into_bytes());
        files.insert(bundle::CHECKPOINT.to_owned(), self.note.clone().into_bytes());
        let event = &self.events[PROVEN_SEQ as usize];
        let dir = event_dir(PROVEN_SEQ);
        files.insert(format!("{dir}/envelope"), event.envelope_bytes.clone());
        files.insert(format!("{dir}/salt"), event.salt.0.to_vec());
        files.insert(format!("{dir}/payload"), event.payload_bytes.clone());
        files.insert(format!("{dir}/inclusion"), proof_file(&self.inclusion(PROVEN_SEQ)).into_bytes());
        files.insert(
            format!("{CONSISTENCY_DIR}/{OLD_TREE_SIZE}"),
            consistency_file(&self.root(OLD_TREE_SIZE), &self.consistency()).into_bytes(),
        );
        files
    }
}

// ---------------------------------------------------------------------------
// The bundle's file formats, as the document describes them.

fn event_dir(seq: u64) -> String {
    format!("events/{seq:020}")
}

/// log.pub: the note verifier key, then a newline.
fn log_pub_file(verifier: &NoteVerifier) -> String {
    format!("{}\n", verifier.to_vkey())
}

/// An `inclusion` file: each hash in lowercase hex on a line of its own.
fn proof_file(proof: &[TreeHash]) -> String {
    proof.iter().map(|hash| format!("{}\n", hash.to_hex())).collect()
}

/// A `proofs/consistency/<old size>` file: the old root, then the proof.
fn consistency_file(old_root: &TreeHash, proof: &[TreeHash]) -> String {
    format!("{}\n{}", old_root.to_hex(), proof_file(proof))
}

/// A `.signature` file: the 64 signature bytes in base64, then a newline.
fn signature_file(signature: &[u8; 64]) -> String {
    format!("{}\n", BASE64.encode(signature))
}

/// MANIFEST lines: BLAKE3 in hex, two spaces and the path, in path order.
fn manifest_lines(files: &BTreeMap<String, Vec<u8>>) -> String {
    files.iter().map(|(path, bytes)| format!("{}  {path}\n", blake3::hash(bytes).to_hex())).collect()
}

// ---------------------------------------------------------------------------
// Rendering the checked blocks.

fn rendered_blocks(example: &Example) -> BTreeMap<String, String> {
    let files = example.files();
    let file = |path: &str| String::from_utf8(files[path].clone()).expect("a text file");
    let mut blocks = BTreeMap::new();
    blocks.insert("log key".to_owned(), render_key(example));
    blocks.insert("file log.pub".to_owned(), file(bundle::LOG_KEY));
    for event in &example.events {
        blocks.insert(format!("event {}", event.seq), render_event(event));
    }
    blocks.insert("tree".to_owned(), render_tree(example));
    blocks.insert("file inclusion".to_owned(), file(&format!("{}/inclusion", event_dir(PROVEN_SEQ))));
    blocks.insert("inclusion steps".to_owned(), render_inclusion_steps(example));
    blocks.insert("file consistency".to_owned(), file(&format!("{CONSISTENCY_DIR}/{OLD_TREE_SIZE}")));
    blocks.insert("consistency steps".to_owned(), render_consistency_steps(example));
    blocks.insert("file checkpoint".to_owned(), file(bundle::CHECKPOINT));
    blocks.insert("checkpoint parts".to_owned(), render_note_parts(example));
    blocks.insert("canonical minutes".to_owned(), example.canonical_text.clone());
    blocks.insert("file statement".to_owned(), example.statement.to_text());
    blocks.insert("statement values".to_owned(), render_statement_values(example));
    blocks.insert("chair key".to_owned(), render_chair(example));
    blocks.insert("file signature".to_owned(), signature_file(&example.signature.to_bytes()));
    blocks.insert("manifest".to_owned(), manifest_lines(&files));
    blocks.into_iter().map(|(name, text)| (name, fenced(&text))).collect()
}

/// Hex in lines of 32 bytes, each indented by two spaces.
fn hex_lines(bytes: &[u8]) -> String {
    bytes.chunks(32).map(|line| format!("  {}\n", hex(line))).collect()
}

fn rfc3339(us: i64) -> String {
    jiff::Timestamp::from_microsecond(us).expect("a time in range").to_string()
}

fn render_key(example: &Example) -> String {
    let verifier = example.signer.verifier();
    let key = verifier.key().as_bytes();
    let key_id_input = [ORIGIN.as_bytes(), b"\n", &[0x01], key].concat();
    let key_id = key_id(ORIGIN, verifier.key());
    assert_eq!(verifier.to_vkey().split('+').nth(1), Some(hex(&key_id).as_str()));
    format!(
        "origin:     {ORIGIN}\nseed:       {}\npublic key: {}\n\
         hashed for the key id, {} bytes (origin, 0a, 01, public key):\n{}key id:     {}\n",
        hex(&LOG_SEED),
        hex(key),
        key_id_input.len(),
        hex_lines(&key_id_input),
        hex(&key_id),
    )
}

fn render_event(event: &Computed) -> String {
    let envelope = &event.envelope;
    let decoded = DomainEvent::decode(envelope.event_type(), envelope.schema_version(), &event.payload_bytes)
        .expect("the payload decodes");
    assert_eq!(decoded, event.payload);
    let prev = match event.seq {
        0 => "32 zero bytes: event 0 follows nothing".to_owned(),
        seq => format!("the event hash of event {}", seq - 1),
    };
    let mut text = format!("position:       {}\n", event.seq);
    text += &support::envelope_lines(envelope, &rfc3339(envelope.recorded_at_us()));
    text += &format!("payload ({} bytes):\n", event.payload_bytes.len());
    text += &hex_lines(&event.payload_bytes);
    text += &format!("  which reads {}\n", serde_json::to_string(&decoded).expect("JSON"));
    text += &format!("salt:           {}\n", event.salt.to_hex());
    text += &format!("payload_hash:   {}\n", event.payload_hash.to_hex());
    text += &format!("prev_hash:      {}\n", envelope.prev_hash().to_hex());
    text += &format!("  ({prev})\n");
    text += &format!("envelope ({} bytes):\n", event.envelope_bytes.len());
    text += &hex_lines(&event.envelope_bytes);
    text += &format!("event_hash:     {}\n", event.event_hash.to_hex());
    text
}

fn render_tree(example: &Example) -> String {
    let mut text = String::new();
    for (seq, leaf) in example.leaves.iter().enumerate() {
        let formula = format!("SHA-256(00 || event_hash {seq})");
        text += &format!("{:<14} = {formula:<41} = {}\n", format!("leaf {seq}"), leaf.to_hex());
    }
    // RFC 9162 §2.1.1: the tree of 2 leaves splits at 1, the tree of 3 at 2.
    let root_2 = merkle::node_hash(&example.leaves[0], &example.leaves[1]);
    let root_3 = merkle::node_hash(&root_2, &example.leaves[2]);
    assert_eq!((root_2, root_3), (example.root(2), example.root(3)));
    text += &format!("root of size 2 = {:<41} = {}\n", "SHA-256(01 || leaf 0 || leaf 1)", root_2.to_hex());
    text += &format!("root of size 3 = {:<41} = {}\n", "SHA-256(01 || root of size 2 || leaf 2)", root_3.to_hex());
    text
}

/// RFC 9162 §2.1.3.2 on the example's proof, step by step.
fn render_inclusion_steps(example: &Example) -> String {
    let proof = example.inclusion(PROVEN_SEQ);
    let (mut fn_, mut sn) = (PROVEN_SEQ, TREE_SIZE - 1);
    let mut r = example.leaves[PROVEN_SEQ as usize];
    let mut text =
        format!("leaf index {PROVEN_SEQ}, tree size {TREE_SIZE}: fn = {fn_}, sn = {sn}, r = leaf {PROVEN_SEQ}\n");
    let steps = support::inclusion_steps(PROVEN_SEQ, TREE_SIZE, r, &proof);
    for (idx, (p, step)) in proof.iter().zip(steps).enumerate() {
        let why = condition(fn_, sn);
        (r, fn_, sn) = (step.r, step.fn_, step.sn);
        text += &format!("proof[{idx}] = {}: {why}, so {}\n", example.name_of(p), step.step);
        text += &format!("  r = {} ({}); fn = {fn_}, sn = {sn}\n", r.to_hex(), example.name_of(&r));
    }
    assert_eq!((sn, r), (0, example.root(TREE_SIZE)));
    merkle::verify_inclusion(PROVEN_SEQ, TREE_SIZE, &example.leaves[PROVEN_SEQ as usize], &proof, &r)
        .expect("the proof verifies");
    text += &format!("sn = 0 and r is the checkpoint's root: event {PROVEN_SEQ} is in the tree of size {TREE_SIZE}\n");
    text
}

fn condition(fn_: u64, sn: u64) -> String {
    if fn_ & 1 == 1 {
        format!("fn = {fn_} is odd")
    } else if fn_ == sn {
        format!("fn = sn = {fn_}")
    } else {
        format!("fn = {fn_} is even and not sn = {sn}")
    }
}

/// RFC 9162 §2.1.4.2 on the example's proof, step by step.
fn render_consistency_steps(example: &Example) -> String {
    let proof = example.consistency();
    let (old_root, new_root) = (example.root(OLD_TREE_SIZE), example.root(TREE_SIZE));
    assert!(OLD_TREE_SIZE.is_power_of_two(), "the trace below puts the old root in front");
    let mut path = vec![old_root];
    path.extend_from_slice(&proof);
    let mut text = format!(
        "old size {OLD_TREE_SIZE}, new size {TREE_SIZE}: the first line is the old root, then {} proof hash\n",
        proof.len()
    );
    text += &format!("{OLD_TREE_SIZE} is a power of 2, so the old root stays in front: path = [old root, proof[0]]\n");
    let (mut fn_, mut sn) = (OLD_TREE_SIZE - 1, TREE_SIZE - 1);
    text += &format!("fn = {fn_}, sn = {sn}; ");
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    text += &format!("shifted right while fn is odd: fn = {fn_}, sn = {sn}; fr = sr = path[0]\n");
    let (mut fr, mut sr) = (path[0], path[0]);
    let steps = support::consistency_steps(fn_, sn, &path);
    for (idx, (c, step)) in path[1..].iter().zip(steps).enumerate().map(|(i, (c, s))| (i + 1, (c, s))) {
        let why = condition(fn_, sn);
        (fr, sr, fn_, sn) = (step.fr, step.sr, step.fn_, step.sn);
        let step = if step.both {
            format!("fr = SHA-256(01 || path[{idx}] || fr) and sr = SHA-256(01 || path[{idx}] || sr)")
        } else {
            format!("sr = SHA-256(01 || sr || path[{idx}])")
        };
        text += &format!("path[{idx}] = {}: {why}, so {step}\n", example.name_of(c));
        text += &format!("  sr = {} ({}); fn = {fn_}, sn = {sn}\n", sr.to_hex(), example.name_of(&sr));
    }
    assert_eq!((sn, fr, sr), (0, old_root, new_root));
    merkle::verify_consistency(OLD_TREE_SIZE, TREE_SIZE, &old_root, &new_root, &proof).expect("the proof verifies");
    text += "sn = 0, fr is the old root (the file's first line) and sr is the checkpoint's root: consistent\n";
    text
}

fn render_note_parts(example: &Example) -> String {
    let note = &example.note;
    let (body, signature_line) = note.split_once("\n\n").expect("a blank line");
    let body = format!("{body}\n");
    let line = signature_line.strip_suffix('\n').expect("a final newline");
    let rest = line.strip_prefix("\u{2014} ").expect("an em dash and a space");
    let (name, b64) = rest.split_once(' ').expect("a key name and a signature");
    assert_eq!(name, ORIGIN);
    let signed = BASE64.decode(b64).expect("base64");
    assert_eq!(signed.len(), 68);
    let root_line = body.lines().nth(2).expect("a root line");
    let root = BASE64.decode(root_line).expect("base64");
    assert_eq!(root, example.root(TREE_SIZE).0);
    format!(
        "body, the {} bytes the signature covers:\n{}\
         root line {root_line} is the root of size {TREE_SIZE}:\n  {}\n\
         signature line: e2 80 94 20 (an em dash, a space), the key name, 20, base64 of 68 bytes, 0a\n\
         key id:    {}\n\
         signature: {}\n           {}\n",
        body.len(),
        hex_lines(body.as_bytes()),
        hex(&root),
        hex(&signed[..4]),
        hex(&signed[4..36]),
        hex(&signed[36..]),
    )
}

fn render_statement_values(example: &Example) -> String {
    let statement = &example.statement;
    let meeting_events: Vec<&Computed> =
        example.events.iter().filter(|event| event.envelope.stream() == meeting_id().stream()).collect();
    assert_eq!(meeting_events.len() as u64, statement.events);
    let names: Vec<String> = meeting_events.iter().map(|event| format!("event_hash {}", event.seq)).collect();
    let mut hasher = blake3::Hasher::new();
    for event in &meeting_events {
        hasher.update(&event.event_hash.0);
    }
    assert_eq!(*hasher.finalize().as_bytes(), statement.events_digest);
    assert_eq!(*blake3::hash(example.canonical_text.as_bytes()).as_bytes(), statement.minutes_digest);
    format!(
        "tree size, tree root: the checkpoint's, {} and {}\n\
         events: the {} event of stream {} before the statement, at position {}\n\
         events digest  = BLAKE3({})\n               = {}\n\
         minutes digest = BLAKE3(the {} bytes of the canonical minutes text)\n               = {}\n",
        statement.tree_size,
        BASE64.encode(statement.tree_root.0),
        statement.events,
        meeting_id().stream(),
        meeting_events.iter().map(|event| event.seq.to_string()).collect::<Vec<_>>().join(", "),
        names.join(" || "),
        hex(&statement.events_digest),
        example.canonical_text.len(),
        hex(&statement.minutes_digest),
    )
}

fn render_chair(example: &Example) -> String {
    let public_key = example.chair.verifying_key();
    let signature = example.signature.to_bytes();
    format!(
        "seed:               {}\npublic key:         {}\npublic key, base64: {}\n\
         signature over the {} bytes of the statement:\n{}",
        hex(&CHAIR_SEED),
        hex(public_key.as_bytes()),
        BASE64.encode(public_key.as_bytes()),
        example.statement.to_text().len(),
        hex_lines(&signature),
    )
}

// ---------------------------------------------------------------------------
// Reading the document.

/// The worked example's section: from its heading to the next `## `
/// heading or the end.
fn section() -> &'static str {
    let start =
        DOC.find(&format!("\n{SECTION}\n")).unwrap_or_else(|| panic!("docs/VERIFYING.md has no {SECTION:?} section"));
    let rest = &DOC[start + 1..];
    let end = rest[SECTION.len()..].find("\n## ").map_or(rest.len(), |end| SECTION.len() + end + 1);
    &rest[..end]
}

/// The text of a checked block of the document, without its fences.
fn block(blocks: &BTreeMap<String, String>, name: &str) -> String {
    let fenced = blocks.get(name).unwrap_or_else(|| panic!("no checked block {name:?}"));
    let inner = fenced.split_once('\n').expect("an opening fence").1;
    inner.strip_suffix("```\n").expect("a closing fence").to_owned()
}

/// The value of the line `name: value` of a block.
fn field<'a>(text: &'a str, name: &str) -> &'a str {
    text.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(':')))
        .unwrap_or_else(|| panic!("no line {name:?} in {text}"))
        .trim()
}

/// The bytes of the indented hex lines after the line starting `header`.
fn hex_after(text: &str, header: &str) -> Vec<u8> {
    let mut lines = text.lines().skip_while(|line| !line.starts_with(header));
    assert!(lines.next().is_some(), "no line {header:?} in {text}");
    let digits: String = lines
        .map_while(|line| line.strip_prefix("  "))
        .take_while(|line| line.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    let mut bytes = vec![0u8; digits.len() / 2];
    unhex(&digits, &mut bytes).unwrap_or_else(|| panic!("the hex after {header:?} is not whole bytes"));
    bytes
}

/// Hashes one per line, as the bundle's proof files hold them.
fn hash_lines(text: &str) -> Vec<TreeHash> {
    assert!(text.ends_with('\n'));
    text.lines().map(|line| TreeHash(parse_hex(line))).collect()
}

// ---------------------------------------------------------------------------
// The tests.

/// Every checked block of the worked example is what the code computes.
#[test]
fn worked_example_matches_the_code() {
    let example = example();
    let mut document = checked_blocks(section());
    let mut mismatches = Vec::new();
    for (name, rendered) in rendered_blocks(&example) {
        match document.remove(&name) {
            Some(written) if written == rendered => {}
            Some(written) => mismatches.push(format!("block {name:?} should be:\n{rendered}but is:\n{written}")),
            None => mismatches.push(format!("<!-- checked: {name} --> is missing; it should mark:\n{rendered}")),
        }
    }
    assert!(
        mismatches.is_empty(),
        "docs/VERIFYING.md's worked example differs from the code in {} blocks:\n\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    assert!(document.is_empty(), "checked blocks nothing renders: {:?}", document.keys().collect::<Vec<_>>());
}

/// The example's values, read from the document as written, pass the
/// verifiers an auditor's bundle goes through.
#[test]
fn worked_example_verifies_as_written() {
    let blocks = checked_blocks(section());

    // The log's key and its checkpoint.
    let log_pub = block(&blocks, "file log.pub");
    let key_line = log_pub.strip_suffix('\n').expect("log.pub ends in a newline");
    assert!(!key_line.contains('\n'), "log.pub is one line");
    let verifier = NoteVerifier::from_vkey(key_line).expect("log.pub is a verifier key whose id matches its key");
    let key_block = block(&blocks, "log key");
    assert_eq!(verifier.name(), field(&key_block, "origin"));
    assert_eq!(hex(verifier.key().as_bytes()), field(&key_block, "public key"));
    assert_eq!(hex(&key_id(verifier.name(), verifier.key())), field(&key_block, "key id"));
    let seed: [u8; 32] = parse_hex(field(&key_block, "seed"));
    assert_eq!(NoteSigner::from_seed(ORIGIN, seed).unwrap().verifier().to_vkey(), key_line, "the seed gives the key");
    let note = block(&blocks, "file checkpoint");
    let checkpoint = verifier.open(&note).expect("the checkpoint's signature verifies strictly");
    assert_eq!(checkpoint.tree_size, TREE_SIZE);

    // Each event as a bundle carries it, through log/'s portable checks.
    let events: Vec<(Vec<u8>, Salt, Vec<u8>)> = (0..TREE_SIZE)
        .map(|seq| {
            let text = block(&blocks, &format!("event {seq}"));
            let salt = Salt(parse_hex(field(&text, "salt")));
            (hex_after(&text, "envelope ("), salt, hex_after(&text, "payload ("))
        })
        .collect();
    let leaves: Vec<TreeHash> =
        events.iter().map(|(envelope, _, _)| merkle::leaf_hash(&Envelope::hash(envelope))).collect();
    let inclusion = hash_lines(&block(&blocks, "file inclusion"));
    let mut checked = Vec::new();
    for (seq, (envelope_bytes, salt, payload)) in events.iter().enumerate() {
        let seq = seq as u64;
        let proof = if seq == PROVEN_SEQ {
            inclusion.clone()
        } else {
            merkle::inclusion_proof(&Leaves(&leaves), seq, TREE_SIZE).unwrap()
        };
        let carried = Carried {
            envelope_bytes: envelope_bytes.clone(),
            content: Content::Present { salt: *salt, bytes: payload.clone() },
            inclusion: proof,
        };
        let event = check_carried(Seq(seq), &carried, &checkpoint).unwrap_or_else(|problem| panic!("{problem}"));
        let text = block(&blocks, &format!("event {seq}"));
        assert_eq!(event.hash.to_hex(), field(&text, "event_hash"));
        assert_eq!(event.envelope.payload_hash().to_hex(), field(&text, "payload_hash"));
        assert_eq!(event.envelope.prev_hash().to_hex(), field(&text, "prev_hash"));
        // As the prose says: an envelope ends with the previous hash, then
        // the payload hash.
        let tail = &envelope_bytes[envelope_bytes.len() - 64..];
        assert_eq!(
            (&tail[..32], &tail[32..]),
            (&event.envelope.prev_hash().0[..], &event.envelope.payload_hash().0[..])
        );
        DomainEvent::decode(event.envelope.event_type(), event.envelope.schema_version(), payload)
            .expect("the payload is the catalogue's");
        checked.push(event);
    }
    check_sequence(&checked).unwrap_or_else(|problem| panic!("{problem}"));

    // The proof files.
    merkle::verify_inclusion(PROVEN_SEQ, TREE_SIZE, &leaves[PROVEN_SEQ as usize], &inclusion, &checkpoint.root)
        .expect("the inclusion file leads to the checkpoint's root");
    let consistency = hash_lines(&block(&blocks, "file consistency"));
    let (old_root, proof) = consistency.split_first().expect("the root at the old size");
    merkle::verify_consistency(OLD_TREE_SIZE, TREE_SIZE, old_root, &checkpoint.root, proof)
        .expect("the consistency file proves the checkpoint's tree extends the old one");
    assert_eq!(*old_root, root(&leaves, OLD_TREE_SIZE));

    // The chair's statement and signature.
    let statement_text = block(&blocks, "file statement");
    let statement = SigningStatement::parse(&statement_text).expect("the statement is in its canonical form");
    assert_eq!(
        (statement.log.as_str(), statement.tree_size, statement.tree_root),
        (ORIGIN, TREE_SIZE, checkpoint.root)
    );
    let meeting_stream = meeting_id().stream();
    let meeting_hashes: Vec<&EventHash> =
        checked.iter().filter(|event| event.envelope.stream() == meeting_stream).map(|event| &event.hash).collect();
    assert_eq!(meeting_hashes.len() as u64, statement.events);
    let mut hasher = blake3::Hasher::new();
    for hash in meeting_hashes {
        hasher.update(&hash.0);
    }
    assert_eq!(*hasher.finalize().as_bytes(), statement.events_digest);
    let canonical = block(&blocks, "canonical minutes");
    assert_eq!(*blake3::hash(canonical.as_bytes()).as_bytes(), statement.minutes_digest);
    let chair = block(&blocks, "chair key");
    let public_key = VerifyingKey::from_bytes(&parse_hex(field(&chair, "public key"))).expect("an Ed25519 key");
    assert_eq!(BASE64.encode(public_key.as_bytes()), field(&chair, "public key, base64"));
    assert_eq!(SigningKey::from_bytes(&parse_hex(field(&chair, "seed"))).verifying_key(), public_key);
    let signature_file = block(&blocks, "file signature");
    let signature_bytes = BASE64.decode(signature_file.strip_suffix('\n').expect("a final newline")).expect("base64");
    let signature = Signature::from_slice(&signature_bytes).expect("64 bytes");
    assert_eq!(signature_bytes, hex_after(&chair, "signature over"));
    public_key.verify_strict(statement_text.as_bytes(), &signature).expect("the chair's signature verifies strictly");

    // The manifest lines, against the files as the document gives them.
    let event = &events[PROVEN_SEQ as usize];
    let dir = event_dir(PROVEN_SEQ);
    let files: BTreeMap<String, Vec<u8>> = [
        (bundle::LOG_KEY.to_owned(), log_pub.into_bytes()),
        (bundle::CHECKPOINT.to_owned(), note.into_bytes()),
        (format!("{dir}/envelope"), event.0.clone()),
        (format!("{dir}/salt"), event.1 .0.to_vec()),
        (format!("{dir}/payload"), event.2.clone()),
        (format!("{dir}/inclusion"), block(&blocks, "file inclusion").into_bytes()),
        (format!("{CONSISTENCY_DIR}/{OLD_TREE_SIZE}"), block(&blocks, "file consistency").into_bytes()),
    ]
    .into_iter()
    .collect();
    let manifest = block(&blocks, "manifest");
    assert_eq!(manifest.lines().count(), files.len());
    for line in manifest.lines() {
        let (hash, path) = line.split_once("  ").expect("a hash, two spaces and a path");
        assert_eq!(blake3::hash(&files[path]).to_hex().as_str(), hash, "{path}");
    }
    assert_eq!(manifest, bundle::manifest_of(&files), "the code's manifest of the same files");
    // BLAKE3 of an envelope file is the event hash, as the prose says.
    assert!(manifest.contains(&format!("{}  {dir}/envelope\n", checked[PROVEN_SEQ as usize].hash)));
}

/// A bundle exported from a real log (the demo's, with its chairs'
/// signatures and a redaction) holds its files in the formats the example
/// shows, and verifies.
#[test]
fn exported_bundles_are_written_as_the_example_shows() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("demo");
    assert!(minutebook::demo::create(&data).expect("the demo"));
    let log = Log::open(&data).expect("open the demo");
    let mut record = Record::new();
    catch_up(&log.reader(), &mut record).expect("fold the demo");
    let meta = Meta { scope: Scope::All, public: false };
    let bundle = bundle::export(&log, &record, &meta, &[OLD_TREE_SIZE]).expect("export");
    let files = &bundle.files;
    let size = log.len();
    let file = |path: &str| files.get(path).unwrap_or_else(|| panic!("the bundle has no {path}"));

    assert_eq!(file(bundle::LOG_KEY), log_pub_file(log.verifier()).as_bytes());
    assert_eq!(file(bundle::CHECKPOINT), log.latest_checkpoint().unwrap().note.as_bytes());
    let mut events = Vec::new();
    while (events.len() as u64) < size {
        let page = log.read(Seq(events.len() as u64), 1_000).expect("read");
        assert!(!page.is_empty());
        events.extend(page);
    }
    for event in &events {
        let seq = event.envelope.seq().0;
        let at = event_dir(seq);
        assert_eq!(file(&format!("{at}/envelope")), &event.envelope_bytes);
        match &event.payload {
            Payload::Present { salt, bytes } => {
                assert_eq!(file(&format!("{at}/salt")), &salt.0);
                assert_eq!(file(&format!("{at}/payload")), bytes);
            }
            Payload::Redacted { notice } => assert_eq!(file(&format!("{at}/redacted")), notice.as_bytes()),
        }
        let proof = log.inclusion_proof(Seq(seq), size).unwrap();
        assert_eq!(file(&format!("{at}/inclusion")), proof_file(&proof).as_bytes(), "{at}/inclusion");
    }
    let consistency: Vec<(&String, &Vec<u8>)> =
        files.iter().filter(|(path, _)| path.starts_with(&format!("{CONSISTENCY_DIR}/"))).collect();
    assert!(consistency.iter().any(|(path, _)| **path == format!("{CONSISTENCY_DIR}/{OLD_TREE_SIZE}")));
    for (path, bytes) in consistency {
        let old_size: u64 = path.rsplit('/').next().unwrap().parse().expect("a tree size");
        let expected = consistency_file(&log.root(old_size).unwrap(), &log.consistency_proof(old_size, size).unwrap());
        assert_eq!(*bytes, expected.into_bytes(), "{path}");
    }

    // Every chair's signature: its statement, and its signature by a key
    // of the keys/ files.
    let keys: Vec<VerifyingKey> = files
        .iter()
        .filter(|(path, _)| path.starts_with("keys/"))
        .flat_map(|(_, bytes)| {
            let keys: serde_json::Value = serde_json::from_slice(bytes).expect("a key file is JSON");
            keys["keys"].as_array().expect("keys").clone()
        })
        .map(|key| {
            let bytes = BASE64.decode(key["public_key"].as_str().expect("a public key")).expect("base64");
            VerifyingKey::from_bytes(&bytes.try_into().expect("32 bytes")).expect("a key")
        })
        .collect();
    let statements: Vec<&String> = files.keys().filter(|path| path.ends_with(".statement")).collect();
    assert!(!statements.is_empty(), "the demo's chairs signed");
    for path in statements {
        let text = std::str::from_utf8(&files[path]).expect("UTF-8");
        assert_eq!(SigningStatement::parse(text).expect("a statement").to_text(), text);
        let signature_path = format!("{}.signature", path.strip_suffix(".statement").unwrap());
        let signature_text = std::str::from_utf8(file(&signature_path)).expect("UTF-8");
        let bytes: [u8; 64] = BASE64.decode(signature_text.trim_end()).expect("base64").try_into().expect("64 bytes");
        assert_eq!(signature_text, signature_file(&bytes), "{signature_path}");
        let signature = Signature::from_bytes(&bytes);
        assert!(
            keys.iter().any(|key| key.verify_strict(text.as_bytes(), &signature).is_ok()),
            "{signature_path} verifies under a key of keys/"
        );
    }

    // The manifest lists every other file as the example's lines do.
    let mut listed = files.clone();
    let manifest = listed.remove(MANIFEST).expect("a manifest");
    assert_eq!(manifest, manifest_lines(&listed).into_bytes());

    let report = bundle::verify_bundle(&bundle, None, &mut |_, _| {}).expect("the bundle reads");
    assert_eq!(report.problem, None);
    assert!(report.consistency_from.contains(&OLD_TREE_SIZE));
}
