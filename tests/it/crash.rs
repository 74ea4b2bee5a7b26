//! Crash safety: a child process appends in a loop from several threads
//! and is killed with SIGKILL at random moments; after each kill, every
//! append the child reported as acknowledged is present with its content,
//! and the log verifies. The child is this same test binary, re-run with
//! an environment variable naming the data directory.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use minutebook_log::{AppendBatch, EventId, ExpectedVersion, Log, Seq};

use crate::support::{assert_verifies, event, payload, Rng, Scratch};

const CHILD_ENV: &str = "MINUTEBOOK_CRASH_CHILD_DATA";
const TEST_NAME: &str = "crash::acknowledged_appends_survive_sigkill";
const APPENDER_THREADS: u64 = 4;

fn payload_of(id: &EventId) -> Vec<u8> {
    format!("minute text for event {id}, recorded before a crash").into_bytes()
}

/// The child: appends until killed, printing `ack <seq> <event id>` for
/// each acknowledged event.
fn child(data: &Path) -> ! {
    let log = std::sync::Arc::new(Log::open(data).expect("the child opens the log"));
    let stdout = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    for thread in 0..APPENDER_THREADS {
        let (log, stdout) = (log.clone(), stdout.clone());
        std::thread::spawn(move || loop {
            let n_events = 1 + thread % 3;
            let mut batch = AppendBatch::new().expect(format!("meeting/M-{thread}"), ExpectedVersion::Any);
            for _ in 0..n_events {
                let mut e = event(&format!("meeting/M-{thread}"), b"");
                e.payload = payload_of(&e.event_id);
                batch = batch.event(e);
            }
            let ids: Vec<EventId> = batch.events().iter().map(|e| e.event_id).collect();
            let outcome = log.append(batch).expect("the child's append");
            let mut out = stdout.lock().unwrap();
            for (id, appended) in ids.iter().zip(&outcome.events) {
                writeln!(out, "ack {} {id}", appended.seq.0).unwrap();
            }
            out.flush().unwrap();
        });
    }
    loop {
        std::thread::sleep(Duration::from_secs(60));
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    if let Some(data) = std::env::var_os(CHILD_ENV) {
        child(Path::new(&data));
    }
    let mut rng = Rng::from_env_or_clock("crash");
    let scratch = Scratch::new();
    let kills = if crate::support::slow_tests() { 50 } else { 20 };
    let mut acknowledged: Vec<(u64, EventId)> = Vec::new();
    for _ in 0..kills {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
            .env(CHILD_ENV, &scratch.path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child");
        std::thread::sleep(Duration::from_millis(30 + rng.below(300)));
        child.kill().expect("SIGKILL the child");
        let stdout = child.stdout.take().unwrap();
        child.wait().unwrap();
        for line in BufReader::new(stdout).split(b'\n') {
            let line = String::from_utf8(line.unwrap()).unwrap();
            // The last line may be cut short by the kill; acks are whole lines.
            let Some(rest) = line.strip_prefix("ack ") else { continue };
            let Some((seq, id)) = rest.split_once(' ') else { continue };
            let (Ok(seq), Some(id)) = (seq.parse(), EventId::from_hex(id)) else { continue };
            acknowledged.push((seq, id));
        }
        let log = scratch.open();
        for (seq, id) in &acknowledged {
            let stored = log.event(Seq(*seq)).unwrap().unwrap_or_else(|| panic!("acknowledged event {seq} is missing"));
            assert_eq!(stored.envelope.event_id(), *id, "event {seq} is another event");
            assert_eq!(payload(&stored), payload_of(id).as_slice());
        }
        assert_verifies(&log);
    }
    assert!(acknowledged.len() > 100, "only {} appends were acknowledged in all", acknowledged.len());
}
