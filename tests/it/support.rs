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
