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
mod support;

use clap::{Parser, Subcommand};

use support::AS_MINUTEBOOK;

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
