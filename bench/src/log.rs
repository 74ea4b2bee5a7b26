//! `minutebook-bench log`: the log's figures on this machine, on a scratch
//! data directory. Never a timed test: these numbers go in
//! docs/PERFORMANCE.md with the machine they came from.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use minutebook_log::{merkle, AppendBatch, EventId, ExpectedVersion, Log, NewEvent, Seq};

use crate::support::{minutebook, percentile, ScratchDir};

#[derive(clap::Args)]
pub(crate) struct LogBenchArgs {
    /// Scratch data directory (default: a new temporary one, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Payload size in bytes.
    #[arg(long, default_value_t = 300)]
    payload_bytes: usize,
    /// Single appends for the latency figures.
    #[arg(long, default_value_t = 2_000)]
    single_appends: usize,
    /// Batches of 1,000 for the batch figures.
    #[arg(long, default_value_t = 300)]
    batches: usize,
    /// How long each concurrent-appenders run lasts, in milliseconds.
    #[arg(long, default_value_t = 3_000)]
    concurrent_ms: u64,
}

const STREAMS: u64 = 64;
const BATCH_EVENTS: usize = 1_000;
/// Events built ahead for each concurrent run, per second of it: more than
/// the log can take, so that no appender runs out.
const CONCURRENT_EVENTS_PER_S_MAX: u64 = 60_000;

fn event(payload: &[u8], n: u64) -> NewEvent {
    NewEvent {
        stream: format!("bench/meeting-{}", n % STREAMS),
        event_id: EventId::random(),
        event_type: "bench.point_recorded".into(),
        schema_version: 1,
        actor: "officer:bench".into(),
        role: "clerk".into(),
        payload: payload.to_vec(),
    }
}

fn one(payload: &[u8], n: u64) -> AppendBatch {
    let event = event(payload, n);
    AppendBatch::new().expect(event.stream.clone(), ExpectedVersion::Any).event(event)
}

fn rate(n: u64, elapsed: Duration) -> String {
    format!("{:.0}", n as f64 / elapsed.as_secs_f64())
}

pub(crate) fn log(args: &LogBenchArgs) -> Result<(), String> {
    let mut scratch = None;
    let directory = ScratchDir::or_given(&args.dir, &mut scratch);
    Log::init(&directory, "bench.minutebook.local/log").map_err(|e| e.to_string())?;
    let log = Arc::new(Log::open(&directory).map_err(|e| e.to_string())?);
    let payload: Vec<u8> = (0..args.payload_bytes).map(|i| b'a' + (i % 26) as u8).collect();
    println!("minutebook-bench log: {}-byte payloads, data in {}", args.payload_bytes, directory.display());

    // Durable single appends, one at a time.
    let mut latencies = Vec::with_capacity(args.single_appends);
    let started = Instant::now();
    for n in 0..args.single_appends as u64 {
        let t = Instant::now();
        log.append(one(&payload, n)).map_err(|e| e.to_string())?;
        latencies.push(t.elapsed());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    println!(
        "single append (durable): p50 {:.0} us, p99 {:.0} us, {} events/s",
        percentile(&latencies, 0.5).as_secs_f64() * 1e6,
        percentile(&latencies, 0.99).as_secs_f64() * 1e6,
        rate(args.single_appends as u64, elapsed)
    );

    // Concurrent appenders, each appending one event at a time. Each
    // thread builds its events before the clock starts.
    for n_appenders in [1u64, 4, 16] {
        let events_per_appender = (CONCURRENT_EVENTS_PER_S_MAX * args.concurrent_ms / 1_000 / n_appenders) as usize;
        let prepared: Vec<Vec<AppendBatch>> = (0..n_appenders)
            .map(|appender| {
                (0..events_per_appender as u64).map(|n| one(&payload, appender + n * n_appenders)).collect()
            })
            .collect();
        let barrier = Arc::new(std::sync::Barrier::new(n_appenders as usize + 1));
        let concurrent_ms = args.concurrent_ms;
        let threads: Vec<_> = prepared
            .into_iter()
            .map(|batches| {
                let (log, barrier) = (Arc::clone(&log), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let deadline = Instant::now() + Duration::from_millis(concurrent_ms);
                    let mut n = 0u64;
                    for batch in batches {
                        if Instant::now() >= deadline {
                            break;
                        }
                        log.append(batch).expect("bench append");
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        barrier.wait();
        let started = Instant::now();
        let total: u64 = threads.into_iter().map(|t| t.join().expect("bench thread")).sum();
        println!("{n_appenders:>2} concurrent appenders: {} events/s", rate(total, started.elapsed()));
    }

    // Batches of 1,000, built before the clock starts: this measures the
    // log, not the making of events.
    let batches: Vec<AppendBatch> = (0..args.batches as u64)
        .map(|batch_idx| {
            let mut batch = AppendBatch::new();
            for stream in 0..STREAMS {
                batch = batch.expect(format!("bench/meeting-{stream}"), ExpectedVersion::Any);
            }
            for n in 0..BATCH_EVENTS as u64 {
                batch = batch.event(event(&payload, batch_idx * 1_000 + n));
            }
            batch
        })
        .collect();
    let started = Instant::now();
    for batch in batches {
        log.append(batch).map_err(|e| e.to_string())?;
    }
    println!("batches of {BATCH_EVENTS}: {} events/s", rate((args.batches * BATCH_EVENTS) as u64, started.elapsed()));

    // Proofs against the latest tree.
    let size = log.len();
    let root = log.root(size).map_err(|e| e.to_string())?;
    let n_proofs = 20_000u64;
    let mut proofs = Vec::with_capacity(n_proofs as usize);
    let started = Instant::now();
    for n in 0..n_proofs {
        let seq = (n * 7919) % size;
        proofs.push((seq, log.inclusion_proof(Seq(seq), size).map_err(|e| e.to_string())?));
    }
    println!("inclusion proofs generated: {} per s (tree of {size})", rate(n_proofs, started.elapsed()));
    let leaves: Vec<_> =
        proofs.iter().map(|(seq, _)| merkle::leaf_hash(&log.event(Seq(*seq)).unwrap().unwrap().hash)).collect();
    let started = Instant::now();
    for ((seq, proof), leaf) in proofs.iter().zip(&leaves) {
        merkle::verify_inclusion(*seq, size, leaf, proof, &root).map_err(|e| e.to_string())?;
    }
    println!("inclusion proofs verified: {} per s", rate(n_proofs, started.elapsed()));

    // Verify and replay from a cold open.
    let log = Arc::try_unwrap(log).map_err(|_| "the bench still holds the log")?;
    drop(log);
    verify_cold(&directory, "this log")?;
    let log = Log::open(&directory).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut position = Seq(0);
    let mut envelope_bytes = 0usize;
    loop {
        let events = log.read(position, 10_000).map_err(|e| e.to_string())?;
        let Some(last) = events.last() else { break };
        position = Seq(last.envelope.seq().0 + 1);
        envelope_bytes += events.iter().map(|e| e.envelope_bytes.len()).sum::<usize>();
    }
    assert!(envelope_bytes > 0);
    println!("replay from 0 with decoding: {} events/s", rate(position.0, started.elapsed()));

    // Verify checks every checkpoint's signature: a log written one event
    // per commit verifies at about this rate.
    let notes = log.checkpoints(0, u64::MAX, 10_000).map_err(|e| e.to_string())?;
    let started = Instant::now();
    for note in &notes {
        log.verifier().open(&note.note).map_err(|e| e.to_string())?;
    }
    println!("checkpoint signatures verified: {} per s", rate(notes.len() as u64, started.elapsed()));
    drop(log);

    // A log appended only in batches of 1,000: one checkpoint per batch.
    let batch_scratch = ScratchDir::new();
    Log::init(&batch_scratch.0, "bench.minutebook.local/log").map_err(|e| e.to_string())?;
    {
        let log = Log::open(&batch_scratch.0).map_err(|e| e.to_string())?;
        for batch_idx in 0..args.batches as u64 {
            let mut batch = AppendBatch::new();
            for stream in 0..STREAMS {
                batch = batch.expect(format!("bench/meeting-{stream}"), ExpectedVersion::Any);
            }
            for n in 0..BATCH_EVENTS as u64 {
                batch = batch.event(event(&payload, batch_idx * 1_000 + n));
            }
            log.append(batch).map_err(|e| e.to_string())?;
        }
    }
    verify_cold(&batch_scratch.0, "a log appended in batches of 1000")
}

/// Verifies a data directory from a cold open, as an auditor would: a new
/// `minutebook verify` process, timed from its start to its exit. (The
/// files may still be in the page cache; the figure is the CPU's, not the
/// disk's.)
fn verify_cold(directory: &std::path::Path, what: &str) -> Result<(), String> {
    // The log was just written: let the kernel finish writing it back
    // first, or verification competes with writeback for the disk and CPU.
    let _ = std::process::Command::new("sync").status();
    // The first run reads files just written; the second, the same files
    // again, as an auditor who runs it twice would.
    let mut rates = Vec::new();
    let mut report = serde_json::Value::Null;
    for _ in 0..2 {
        let started = Instant::now();
        let output =
            minutebook([OsStr::new("verify"), OsStr::new("--json"), OsStr::new("--log-only"), directory.as_os_str()])?
                .output()
                .map_err(|e| format!("running minutebook verify: {e}"))?;
        let elapsed = started.elapsed();
        if !output.status.success() {
            return Err(format!("verification failed: {}", String::from_utf8_lossy(&output.stderr)));
        }
        report = serde_json::from_slice(&output.stdout).map_err(|e| e.to_string())?;
        rates.push(rate(report["events"].as_u64().unwrap_or(0), elapsed));
    }
    println!(
        "verify from a cold open, {what}: {} events/s, again {} events/s ({} events, {} checkpoints)",
        rates[0], rates[1], report["events"], report["checkpoints"]
    );
    Ok(())
}
