//! `minutebook-bench`: the figures in docs/PERFORMANCE.md, measured on this
//! machine, one command each:
//!
//! ```text
//! cargo run --release -p minutebook-bench -- log
//! cargo run --release -p minutebook-bench -- projections
//! cargo run --release -p minutebook-bench -- api
//! ```
//!
//! Never timed tests, and never part of the `minutebook` binary. Where a
//! bench times a `minutebook` process (a server, or a verifier from a cold
//! open) it starts this binary as `minutebook-bench minutebook ARGS…`,
//! which runs `minutebook`'s own command line (`minutebook::cli`), so that
//! the one build measures the code as released.

mod api;
mod client;
mod log;
mod projections;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use clap::{Parser, Subcommand};

use minutebook_log::EventId;

/// The first argument that makes this binary run `minutebook`'s command
/// line with the rest.
const AS_MINUTEBOOK: &str = "minutebook";

#[derive(Parser)]
#[command(name = "minutebook-bench", about = "minutebook's figures on this machine (docs/PERFORMANCE.md)")]
struct Cli {
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Appends, group commit, verification, replay and proofs, on a scratch data directory.
    Log(log::LogBenchArgs),
    /// Rebuild every projection from a log of 1,000,000 events of a realistic mix, and read minutes.
    Projections(projections::ProjectionsBenchArgs),
    /// A loopback load run against `minutebook serve`: minutes reads and durable command POSTs.
    Api(api::ApiBenchArgs),
}

fn main() {
    let mut args = std::env::args_os();
    let program = args.next();
    let mut rest = args.peekable();
    if rest.peek().is_some_and(|first| first == AS_MINUTEBOOK) {
        std::process::exit(minutebook::cli::main_from(rest));
    }
    let cli = Cli::parse_from(program.into_iter().chain(rest));
    let outcome = match &cli.bench {
        Bench::Log(args) => log::log(args),
        Bench::Projections(args) => projections::projections(args),
        Bench::Api(args) => api::api(args),
    };
    if let Err(message) = outcome {
        eprintln!("minutebook-bench: {message}");
        std::process::exit(2);
    }
}

/// `minutebook ARGS…` as a process of its own: this binary, running
/// `minutebook`'s command line.
fn minutebook<I: Into<OsString>>(args: impl IntoIterator<Item = I>) -> Result<Command, String> {
    let executable = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    let mut command = Command::new(executable);
    command.arg(AS_MINUTEBOOK).args(args.into_iter().map(Into::into));
    Ok(command)
}

/// The value at `fraction` of a sorted list of latencies (zero if empty).
fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * fraction).round() as usize]
}

/// A scratch data directory under the system's temporary directory,
/// removed when dropped.
struct ScratchDir(PathBuf);

impl ScratchDir {
    fn new() -> ScratchDir {
        ScratchDir(std::env::temp_dir().join(format!("minutebook-bench-{}-{}", std::process::id(), EventId::random())))
    }

    /// `given`, or else a new scratch directory held in `scratch`.
    fn or_given(given: &Option<PathBuf>, scratch: &mut Option<ScratchDir>) -> PathBuf {
        match given {
            Some(dir) => dir.clone(),
            None => scratch.insert(ScratchDir::new()).0.clone(),
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
