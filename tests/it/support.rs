//! Helpers shared by the tests: scratch data directories, events, and a
//! snapshot of everything a log holds, to check that a refusal changed
//! nothing.

use std::path::{Path, PathBuf};

use minutebook_log::{AppendBatch, Event, EventId, ExpectedVersion, Log, NewEvent, Payload, Seq};

pub const ORIGIN: &str = "test.minutebook.local/log";

/// A fresh, initialised data directory that lives as long as the value.
pub struct Scratch {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Scratch {
    pub fn new() -> Scratch {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("data");
        Log::init(&path, ORIGIN).expect("init");
        Scratch { _dir: dir, path }
    }

    /// A scratch directory in memory (/dev/shm) where the machine has one,
    /// for tests that model durability themselves: their fdatasyncs need
    /// not wait for a disk.
    pub fn in_memory() -> Scratch {
        let memory = Path::new("/dev/shm");
        let dir = if memory.is_dir() { tempfile::tempdir_in(memory) } else { tempfile::tempdir() };
        let dir = dir.expect("a temporary directory");
        let path = dir.path().join("data");
        Log::init(&path, ORIGIN).expect("init");
        Scratch { _dir: dir, path }
    }

    pub fn open(&self) -> Log {
        Log::open(&self.path).expect("open")
    }
}

/// An event in `stream` with `payload`, under a fresh event id.
pub fn event(stream: &str, payload: &[u8]) -> NewEvent {
    NewEvent {
        stream: stream.to_owned(),
        event_id: EventId::random(),
        event_type: "test.point_recorded".into(),
        schema_version: 1,
        actor: "officer:test-clerk".into(),
        role: "clerk".into(),
        payload: payload.to_vec(),
    }
}

/// A batch of one event, expecting nothing of its stream.
pub fn one(event: NewEvent) -> AppendBatch {
    AppendBatch::new().expect(event.stream.clone(), ExpectedVersion::Any).event(event)
}

/// Everything readable from a log: length, latest checkpoint, every event.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub len: u64,
    pub checkpoint: String,
    pub events: Vec<Event>,
}

pub fn snapshot(log: &Log) -> Snapshot {
    let mut events = Vec::new();
    loop {
        let more = log.read(Seq(events.len() as u64), 1_000).expect("read");
        if more.is_empty() {
            break;
        }
        events.extend(more);
    }
    Snapshot { len: log.len(), checkpoint: log.latest_checkpoint().expect("checkpoint").note, events }
}

/// The payload of a present event.
pub fn payload(event: &Event) -> &[u8] {
    match &event.payload {
        Payload::Present { bytes, .. } => bytes,
        Payload::Redacted { notice } => panic!("payload redacted: {notice}"),
    }
}

/// Asserts that verification finds nothing wrong.
pub fn assert_verifies(log: &Log) {
    let report = log.verify(&mut |_, _| {}).expect("verify runs");
    assert_eq!(report.problem, None, "verification failed");
}

/// Every file under `dir` with its bytes, for comparing a directory
/// before and after.
pub fn directory_bytes(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push((path.clone(), std::fs::read(&path).expect("read")));
            }
        }
    }
    files.sort();
    files
}

/// Copies the directory `from`, with everything in it, to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// A small deterministic random generator (xorshift64*), seeded so that a
/// failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }

    /// A seed from the clock, printed so a failure can be replayed with
    /// MINUTEBOOK_TEST_SEED.
    pub fn from_env_or_clock(test: &str) -> Rng {
        let seed = std::env::var("MINUTEBOOK_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
        });
        eprintln!("{test}: MINUTEBOOK_TEST_SEED={seed}");
        Rng::new(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Whether slow tests (crash loops, long property runs) should run.
pub fn slow_tests() -> bool {
    std::env::var_os("RUN_SLOW_TESTS").is_some()
}

/// Runs the minutebook binary; returns its exit code, stdout and stderr.
pub fn run_cli(args: &[&str]) -> (i32, String, String) {
    let output =
        std::process::Command::new(env!("CARGO_BIN_EXE_minutebook")).args(args).output().expect("run minutebook");
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("UTF-8 output");
    (output.status.code().expect("an exit code"), text(output.stdout), text(output.stderr))
}

/// Every `<!-- checked: NAME -->` block of a document's `text`: the fenced
/// block that follows the marker, fences included. The documents' worked
/// examples are checked against the code block by block.
pub fn checked_blocks(text: &str) -> std::collections::BTreeMap<String, String> {
    let mut blocks = std::collections::BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(name) = line.trim().strip_prefix("<!-- checked: ").and_then(|rest| rest.strip_suffix(" -->")) else {
            continue;
        };
        let open = lines.next().unwrap_or_default();
        assert!(open.starts_with("```"), "checked block {name:?} is not followed by a fenced block");
        let mut block = format!("{open}\n");
        for line in lines.by_ref() {
            block += line;
            block += "\n";
            if line == "```" {
                break;
            }
        }
        assert!(blocks.insert(name.to_owned(), block).is_none(), "checked block {name:?} appears twice");
    }
    blocks
}

/// `text` as a fenced block of a document, as `checked_blocks` reads it.
pub fn fenced(text: &str) -> String {
    assert!(text.ends_with('\n'));
    format!("```text\n{text}```\n")
}

/// Hexadecimal (spaces ignored) as `N` bytes.
pub fn parse_hex<const N: usize>(text: &str) -> [u8; N] {
    let mut bytes = [0u8; N];
    minutebook_log::unhex(&text.replace(' ', ""), &mut bytes)
        .unwrap_or_else(|| panic!("{text:?} is not {N} bytes of hex"));
    bytes
}

/// One step of RFC 9162 §2.1.3.2's inclusion proof verification, as the
/// documents' worked examples spell it out.
pub struct InclusionStep {
    /// Which proof hash, and on which side it was hashed.
    pub step: String,
    pub r: minutebook_log::TreeHash,
    pub fn_: u64,
    pub sn: u64,
}

/// The steps that verify `proof` of leaf `leaf_index` (hash `leaf`) in the
/// tree of `tree_size` leaves.
pub fn inclusion_steps(
    leaf_index: u64,
    tree_size: u64,
    leaf: minutebook_log::TreeHash,
    proof: &[minutebook_log::TreeHash],
) -> Vec<InclusionStep> {
    use minutebook_log::merkle::node_hash;
    let (mut fn_, mut sn, mut r) = (leaf_index, tree_size - 1, leaf);
    let mut steps = Vec::new();
    for (idx, p) in proof.iter().enumerate() {
        assert!(sn > 0);
        let right = fn_ & 1 == 1 || fn_ == sn;
        let step = if right {
            r = node_hash(p, &r);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
            format!("r = SHA-256(01 || proof[{idx}] || r)")
        } else {
            r = node_hash(&r, p);
            format!("r = SHA-256(01 || r || proof[{idx}])")
        };
        fn_ >>= 1;
        sn >>= 1;
        steps.push(InclusionStep { step, r, fn_, sn });
    }
    steps
}

/// One step of RFC 9162 §2.1.4.2's consistency proof verification, after
/// the first: whether both `fr` and `sr` took the path hash on their left
/// (else only `sr`, on its right), and the values after it.
pub struct ConsistencyStep {
    pub both: bool,
    pub fr: minutebook_log::TreeHash,
    pub sr: minutebook_log::TreeHash,
    pub fn_: u64,
    pub sn: u64,
}

/// The steps over `path[1..]`, from `fn` and `sn` once shifted right while
/// `fn` was odd, and `fr = sr = path[0]`. Spelled out here again, apart
/// from log/'s verifier, so that the documents' traces do not merely echo
/// the code they check.
pub fn consistency_steps(mut fn_: u64, mut sn: u64, path: &[minutebook_log::TreeHash]) -> Vec<ConsistencyStep> {
    use minutebook_log::merkle::node_hash;
    let (mut fr, mut sr) = (path[0], path[0]);
    let mut steps = Vec::new();
    for c in &path[1..] {
        assert!(sn > 0);
        let both = fn_ & 1 == 1 || fn_ == sn;
        if both {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
        steps.push(ConsistencyStep { both, fr, sr, fn_, sn });
    }
    steps
}

/// An envelope's fields after its position, one `name: value` line each,
/// as the documents' worked examples write them; `time` is its recorded
/// time in RFC 3339.
pub fn envelope_lines(envelope: &minutebook_log::Envelope, time: &str) -> String {
    let mut text = format!("stream:         {}\n", envelope.stream());
    text += &format!("stream_version: {}\n", envelope.stream_version().0);
    text += &format!("event_id:       {}\n", envelope.event_id().to_hex());
    text += &format!("event_type:     {}\n", envelope.event_type());
    text += &format!("schema_version: {}\n", envelope.schema_version());
    text += &format!("actor:          {}\n", envelope.actor());
    text += &format!("role:           {}\n", envelope.role());
    text += &format!("recorded_at_us: {} ({time})\n", envelope.recorded_at_us());
    text
}

/// A journal frame's place, read from its header (docs/LOG-FORMAT.md, "The
/// journal": a 60-byte header starting "mbframe1", lengths at 20 and 24).
pub struct FrameSpan {
    pub start: u64,
    pub payloads_len: u64,
    pub body_len: u64,
    pub end: u64,
}

/// Every frame of a journal, in order, up to the first place no frame
/// header starts.
pub fn journal_frames(journal: &[u8]) -> Vec<FrameSpan> {
    let mut frames = Vec::new();
    let mut start = 0usize;
    while journal.len() >= start + 60 && journal[start..start + 8] == *b"mbframe1" {
        let u32_at = |at: usize| u64::from(u32::from_le_bytes(journal[start + at..start + at + 4].try_into().unwrap()));
        let (payloads_len, body_len) = (u32_at(20), u32_at(24));
        let end = start as u64 + 60 + payloads_len + body_len;
        frames.push(FrameSpan { start: start as u64, payloads_len, body_len, end });
        start = end as usize;
    }
    frames
}
