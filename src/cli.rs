//! The command line: parses arguments, runs one command, and maps the
//! outcome to an exit code (0 success, 1 verification found a problem,
//! 2 usage or operating error).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use std::io::Read;

use minutebook_catalogue::{BodyId, MeetingId, PersonId};
use minutebook_log::{merkle, Log, LogReader, Seq};

use minutebook_projections::minutes::canonical_text;
use minutebook_projections::render;
use minutebook_projections::store::Projections;
use minutebook_projections::time::{minutes_record_at, At, MinutesSources};
use minutebook_projections::view::{self, Audience};

use crate::bundle::{ExportError, Meta, Scope};
use crate::domain::statement::{decode_base64_array, STATEMENT_BYTES_MAX};
use crate::domain::{key_registration_statement, Recorder};
use crate::http;
use crate::keyfile::{read_limited, KeyFile};
use crate::policy::tokens::{Role, TokenStore};

/// The default origin line of a new log's checkpoints.
pub const DEFAULT_ORIGIN: &str = "minutebook.local/minutes";

#[derive(Parser)]
#[command(name = "minutebook", version, about = "A tamper-evident minute book for committees, panels and boards")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DataArg {
    /// The data directory.
    #[arg(long = "data", env = "MINUTEBOOK_DATA", default_value = "minutebook-data")]
    data: PathBuf,
}

/// The transport's limits (docs/OPERATIONS.md, "Limits and timeouts").
#[derive(Args, Clone)]
struct LimitArgs {
    /// Seconds a client has to send a request's line and header fields.
    #[arg(long, value_name = "S", default_value_t = http::transport::HEADER_READ_TIMEOUT_MS / 1000, value_parser = clap::value_parser!(u64).range(1..))]
    header_read_timeout_s: u64,
    /// Seconds a request body may stall between two of its parts.
    #[arg(long, value_name = "S", default_value_t = http::transport::BODY_READ_TIMEOUT_MS / 1000, value_parser = clap::value_parser!(u64).range(1..))]
    body_read_timeout_s: u64,
    /// Seconds a request may take until its answer starts.
    #[arg(long, value_name = "S", default_value_t = http::transport::REQUEST_TIME_MAX_MS / 1000, value_parser = clap::value_parser!(u64).range(1..))]
    request_time_max_s: u64,
    /// Most connections held at once (fewer if the open files limit is lower).
    #[arg(long, value_name = "N", default_value_t = http::transport::CONNECTIONS_MAX, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    connections_max: usize,
    /// Unknown or revoked tokens one address may present in the window before it is answered 429.
    #[arg(long, value_name = "N", default_value_t = http::transport::AUTH_FAILURES_MAX, value_parser = clap::value_parser!(u32).range(1..))]
    auth_failures_max: u32,
    /// The window over which failed authentications are counted, in seconds.
    #[arg(long, value_name = "S", default_value_t = http::transport::AUTH_FAILURE_WINDOW_S, value_parser = clap::value_parser!(u64).range(1..))]
    auth_failure_window_s: u64,
}

impl LimitArgs {
    fn limits(&self) -> http::transport::Limits {
        use std::time::Duration;
        http::transport::Limits {
            header_read_timeout: Duration::from_secs(self.header_read_timeout_s),
            body_read_timeout: Duration::from_secs(self.body_read_timeout_s),
            request_time_max: Duration::from_secs(self.request_time_max_s),
            connections_max: self.connections_max,
            auth_failures_max: self.auth_failures_max,
            auth_failure_window: Duration::from_secs(self.auth_failure_window_s),
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create a data directory: its log, the log's signing key and the first checkpoint.
    Init {
        #[command(flatten)]
        data: DataArg,
        /// The log's name, the first line of every checkpoint (no spaces or plus signs).
        #[arg(long, default_value = DEFAULT_ORIGIN)]
        origin: String,
    },
    /// Verify a data directory or an export bundle: every hash, chain link, proof, checkpoint and chair's signature.
    Verify {
        /// A data directory, or an export bundle (a directory with a MANIFEST, or a .tar file);
        /// else --data, MINUTEBOOK_DATA or ./minutebook-data.
        path: Option<PathBuf>,
        /// A checkpoint you kept: prove the log has only grown since it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        #[command(flatten)]
        data: DataArg,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Only the log's own checks (hashes, chain, tree, checkpoints), not the chairs' signatures.
        #[arg(long)]
        log_only: bool,
    },
    /// Export events with their proofs, keys, signatures and rendered minutes, for checking offline.
    #[command(group(clap::ArgGroup::new("scope").required(true).args(["meeting", "body", "all"])))]
    Export {
        #[command(flatten)]
        data: DataArg,
        /// One meeting's events, and those its minutes are made from.
        #[arg(long)]
        meeting: Option<String>,
        /// Every meeting of a body.
        #[arg(long)]
        body: Option<String>,
        /// The whole log.
        #[arg(long)]
        all: bool,
        /// A directory to create, or a file ending in .tar.
        #[arg(long)]
        out: PathBuf,
        /// A public bundle: exempt content and unpublished drafts are withheld, their hashes kept.
        #[arg(long)]
        public: bool,
        /// Also prove the checkpoint consistent with this older tree size (repeatable).
        #[arg(long, value_name = "TREE-SIZE")]
        since: Vec<u64>,
    },
    /// Print the latest signed checkpoint.
    Checkpoint {
        #[command(flatten)]
        data: DataArg,
    },
    /// Print an RFC 9162 proof.
    Proof {
        #[command(subcommand)]
        proof: ProofCommand,
    },
    /// Make and use a person's signing key.
    Keys {
        #[command(subcommand)]
        keys: KeysCommand,
    },
    /// Sign a statement offline with a key file; prints the base64 signature.
    Sign {
        /// The key file (from `minutebook keys generate`).
        #[arg(long)]
        key: PathBuf,
        /// The statement file, exactly as produced (`-` reads standard input).
        statement: PathBuf,
    },
    /// Print a statement to sign, from the data directory.
    Statement {
        #[command(subcommand)]
        statement: StatementCommand,
    },
    /// Serve the HTTP API until SIGTERM or ctrl-c.
    Serve {
        #[command(flatten)]
        data: DataArg,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Create (or reuse) an invented council's minute book, then serve it.
    Demo {
        /// The demo's data directory.
        #[arg(long = "data", default_value = "minutebook-demo")]
        data: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        addr: std::net::SocketAddr,
        /// Create the data and print the tokens, without serving.
        #[arg(long)]
        no_serve: bool,
        #[command(flatten)]
        limits: LimitArgs,
    },
    /// Copy a data directory, even while `minutebook serve` runs: the journal up to a signed
    /// checkpoint, the keys, tokens and papers; then verify the copy.
    Backup {
        #[command(flatten)]
        data: DataArg,
        /// The backup to create: a new directory, itself a data directory that verifies and opens.
        #[arg(long)]
        out: PathBuf,
        /// If --out is a backup of this log, add to it only what was appended since (else make one).
        #[arg(long)]
        incremental: bool,
    },
    /// Restore a backup into the data directory (--data), which must not exist or be empty: copy, verify,
    /// and rebuild the store and projections.
    Restore {
        /// The backup (or any data directory, even one in use).
        #[arg(long)]
        from: PathBuf,
        #[command(flatten)]
        data: DataArg,
    },
    /// Create or revoke API tokens; works while the server runs, which
    /// honours the change from its next request.
    Token {
        #[command(subcommand)]
        token: TokenCommand,
    },
    /// Rebuild every projection from position 0 of the log; with --store,
    /// first the log's store from the journal.
    Rebuild {
        #[command(flatten)]
        data: DataArg,
        /// Also rebuild the log's store (sled/) from the journal, moving
        /// the old one aside: the repair when `verify` finds the store
        /// disagrees with the journal.
        #[arg(long)]
        store: bool,
    },
    /// Print a meeting's minutes from the projections.
    Minutes {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        meeting: String,
        /// markdown, html, json or canonical (the text a chair's statement pins).
        #[arg(long, default_value = "markdown")]
        format: String,
        /// As they stood at a log position, an RFC 3339 instant, or the end of a date (YYYY-MM-DD, body's timezone).
        #[arg(long)]
        at: Option<String>,
        /// As the public sees them (drafts in progress and exempt content withheld).
        #[arg(long)]
        public: bool,
    },
}

#[derive(Subcommand)]
enum ProofCommand {
    /// Prove that event N is in the tree of size S (default: the latest checkpoint).
    Inclusion {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        seq: u64,
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// Prove that the tree of size M is a prefix of the tree of size S.
    Consistency {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        from: u64,
        #[arg(long)]
        size: Option<u64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Make a new Ed25519 key pair for a person, written to a new file readable only by its owner.
    Generate {
        /// The person's id in the record.
        #[arg(long)]
        person: String,
        /// Where to write the key file (never overwritten).
        #[arg(long)]
        out: PathBuf,
    },
    /// Print the public key of a key file (standard base64).
    Public {
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Print a new token (shown once; only its hash is kept).
    Create {
        #[command(flatten)]
        data: DataArg,
        /// admin, clerk, member or auditor.
        #[arg(long)]
        role: String,
        /// The person the token speaks for (members must name one).
        #[arg(long)]
        person: Option<String>,
    },
    /// Revoke a token by its id.
    Revoke {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        id: String,
    },
}

#[derive(Subcommand)]
enum StatementCommand {
    /// The signing statement for a meeting's confirmed minutes, pinned to the latest checkpoint.
    Meeting {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        meeting: String,
    },
    /// The key registration statement a new key signs as proof of possession.
    Key {
        #[command(flatten)]
        data: DataArg,
        #[arg(long)]
        person: String,
        /// The public key, standard base64.
        #[arg(long)]
        public_key: String,
    },
}

/// The command line's one error: what `main_from` prints after
/// "minutebook: ", and the exit code it maps to.
///
/// Every error converts into `Operating` with its own message, so `?`
/// takes the library's typed errors and the catalogue's textual ones
/// alike. That blanket conversion is why this type has no `Display` (nor
/// `std::error::Error`): coherence forbids both on one type. Nothing wraps
/// it; it is the edge.
#[derive(Debug)]
pub enum CliError {
    /// Verification found a problem, in words: exit code 1.
    VerificationFailed(String),
    /// A usage or operating error: exit code 2.
    Operating(String),
}

impl CliError {
    /// The message shown to the user.
    pub fn message(&self) -> String {
        match self {
            CliError::VerificationFailed(problem) => format!("verification failed: {problem}"),
            CliError::Operating(message) => message.clone(),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::VerificationFailed(_) => 1,
            CliError::Operating(_) => 2,
        }
    }

    /// The same error, its message followed by `more`.
    fn followed_by(self, more: &str) -> CliError {
        match self {
            CliError::VerificationFailed(problem) => CliError::VerificationFailed(format!("{problem}{more}")),
            CliError::Operating(message) => CliError::Operating(format!("{message}{more}")),
        }
    }
}

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(error: E) -> CliError {
        CliError::Operating(error.to_string())
    }
}

/// Runs the command line on the process's arguments; returns the exit code.
pub fn main() -> i32 {
    main_from(std::env::args_os())
}

/// Runs the command line on `args` (the program's name first), as
/// `minutebook` would on its own; returns the exit code. The benchmarks'
/// binary starts its servers and verifiers through this.
pub fn main_from(args: impl IntoIterator<Item = std::ffi::OsString>) -> i32 {
    match try_main(args) {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("minutebook: {}", error.message());
            i32::from(error.exit_code())
        }
    }
}

fn try_main(args: impl IntoIterator<Item = std::ffi::OsString>) -> Result<(), CliError> {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() { Err(CliError::Operating("see --help".into())) } else { Ok(()) };
        }
    };
    match cli.command {
        Command::Init { data, origin } => {
            Log::init(&data.data, &origin)?;
            println!("initialised {} with origin {origin}", data.data.display());
            let (token, record) = TokenStore::open(&data.data)?.create(Role::Admin, None)?;
            println!("admin token (shown once; id {}): {token}", record.id);
            Ok(())
        }
        Command::Serve { data, addr, limits } => {
            init_tracing();
            http::serve(&data.data, addr, &limits.limits(), |bound| {
                println!("serving {} on http://{bound}/", data.data.display())
            })?;
            Ok(())
        }
        Command::Demo { data, addr, no_serve, limits } => demo(&data, addr, no_serve, &limits.limits()),
        Command::Token { token: TokenCommand::Create { data, role, person } } => {
            let role = Role::parse(&role)?;
            if role == Role::Member && person.is_none() {
                return Err("a member's token must name the member: --person ID".into());
            }
            if let Some(person) = &person {
                PersonId::new(person)?;
            }
            minute_book(&data.data)?;
            let (token, record) = TokenStore::open(&data.data)?.create(role, person.as_deref())?;
            println!("{} token (shown once; id {}): {token}", role.name(), record.id);
            Ok(())
        }
        Command::Token { token: TokenCommand::Revoke { data, id } } => {
            minute_book(&data.data)?;
            TokenStore::open(&data.data)?.revoke(&id)?;
            println!("revoked token {id}");
            Ok(())
        }
        Command::Verify { path, checkpoint, data, json, log_only } => {
            let older = match &checkpoint {
                Some(file) => Some(
                    std::fs::read_to_string(file)
                        .map_err(|e| format!("cannot read the checkpoint {}: {e}", file.display()))?,
                ),
                None => None,
            };
            let path = path.as_deref().unwrap_or(&data.data);
            if crate::bundle::Bundle::is_bundle(path) {
                if log_only {
                    return Err("--log-only is for a data directory; a bundle is always checked whole".into());
                }
                verify_bundle(path, older.as_deref(), json)
            } else {
                verify(path, older.as_deref(), json, log_only)
            }
        }
        Command::Export { data, meeting, body, all, out, public, since } => {
            let scope = match (meeting, body, all) {
                (Some(meeting), _, _) => Scope::Meeting(MeetingId::new(&meeting)?),
                (_, Some(body), _) => Scope::Body(BodyId::new(&body)?),
                _ => Scope::All,
            };
            export(&data.data, Meta { scope, public }, &since, &out)
        }
        Command::Checkpoint { data } => {
            let log = Log::open(&data.data)?;
            print!("{}", log.latest_checkpoint()?.note);
            Ok(())
        }
        Command::Proof { proof } => {
            match proof {
                ProofCommand::Inclusion { data, seq, size, json } => inclusion(&data.data, seq, size, json)?,
                ProofCommand::Consistency { data, from, size, json } => consistency(&data.data, from, size, json)?,
            }
            Ok(())
        }
        Command::Keys { keys: KeysCommand::Generate { person, out } } => {
            let key = KeyFile::generate(PersonId::new(&person)?)?;
            key.write_new(&out)?;
            println!("key file: {}\nperson: {person}\npublic key: {}", out.display(), key.public_key_base64());
            Ok(())
        }
        Command::Keys { keys: KeysCommand::Public { key } } => {
            println!("{}", KeyFile::read(&key)?.public_key_base64());
            Ok(())
        }
        Command::Sign { key, statement } => {
            let key = KeyFile::read(&key)?;
            let text = if statement.as_os_str() == "-" {
                let mut text = String::new();
                std::io::Read::take(std::io::stdin(), STATEMENT_BYTES_MAX as u64 + 1).read_to_string(&mut text)?;
                text
            } else {
                read_limited(&statement, STATEMENT_BYTES_MAX as u64)?
            };
            if text.len() > STATEMENT_BYTES_MAX {
                return Err(format!("the statement is larger than the limit of {STATEMENT_BYTES_MAX} bytes").into());
            }
            println!("{}", key.sign_base64(text.as_bytes()));
            Ok(())
        }
        Command::Statement { statement: StatementCommand::Meeting { data, meeting } } => {
            let recorder = Recorder::new(Log::open(&data.data)?)?;
            print!("{}", recorder.statement(&MeetingId::new(&meeting)?)?.to_text());
            Ok(())
        }
        Command::Statement { statement: StatementCommand::Key { data, person, public_key } } => {
            let log = Log::open(&data.data)?;
            let public_key = decode_base64_array::<32>(&public_key, "the public key")?;
            print!("{}", key_registration_statement(log.verifier().name(), &PersonId::new(&person)?, &public_key));
            Ok(())
        }
        Command::Backup { data, out, incremental } => {
            if incremental && std::fs::symlink_metadata(&out).is_ok() {
                update_backup(&data.data, &out)
            } else {
                backup(&data.data, &out)
            }
        }
        Command::Restore { from, data } => restore(&from, &data.data),
        Command::Rebuild { data, store } => rebuild(&data.data, store),
        Command::Minutes { data, meeting, format, at, public } => {
            print_minutes(&data.data, &MeetingId::new(&meeting)?, &format, at.as_deref(), public)
        }
    }
}

fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .try_init();
}

fn demo(
    data: &Path,
    addr: std::net::SocketAddr,
    no_serve: bool,
    limits: &http::transport::Limits,
) -> Result<(), CliError> {
    if crate::demo::create(data)? {
        println!("created the demo minute book of Eastbrook Borough Council in {}", data.display());
    } else {
        println!("reusing the demo minute book in {}", data.display());
    }
    let tokens = TokenStore::open(data)?;
    let mut lines = Vec::new();
    for (role, person) in [
        (Role::Admin, None),
        (Role::Clerk, Some("off-rowe")),
        (Role::Member, Some("cllr-okoro")),
        (Role::Auditor, None),
    ] {
        let (token, _) = tokens.create(role, person)?;
        lines.push(format!("  {:<8} {token}", role.name()));
    }
    drop(tokens);
    let print = |base: &str| {
        println!("tokens (new each run, shown once), as 'Authorization: Bearer TOKEN', or to sign in on the website:");
        for line in &lines {
            println!("{line}");
        }
        println!("read the minutes:");
        println!("  {base}/");
        println!("  {base}/meetings/rcsp-2026-03-05");
        println!("try the API:");
        println!("  {base}/v1/bodies");
        println!("  {base}/v1/meetings/rcsp-2026-03-05/minutes   (Accept: text/html or text/markdown)");
        println!("  {base}/v1/meetings/rcsp-2026-03-05/trail");
        println!("  {base}/v1/bodies/riverside-scrutiny/minutes/394");
        println!("  {base}/v1/checkpoint");
        println!("the chairs' demo keys are in {}", data.join(crate::demo::DEMO_KEYS_DIRECTORY).display());
    };
    if no_serve {
        print(&format!("http://{addr}"));
        return Ok(());
    }
    init_tracing();
    http::serve(data, addr, limits, |bound| {
        println!("serving on http://{bound}/ (ctrl-c to stop)");
        print(&format!("http://{bound}"));
    })?;
    Ok(())
}

fn rebuild(data: &Path, store: bool) -> Result<(), CliError> {
    let log = if store { Log::open_rebuilding_store(data)? } else { Log::open(data)? };
    for note in log.opened().notes() {
        eprintln!("note: {note}");
    }
    let mut projections = Projections::open(data)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(log.len());
        bar.set_style(
            indicatif::ProgressStyle::with_template("rebuilding {bar:40} {pos}/{len} events ({per_sec}, {eta} left)")
                .expect("a valid template"),
        );
        bar
    });
    let started = std::time::Instant::now();
    let position = projections.rebuild(&log.reader(), &mut |done, _| {
        if let Some(bar) = &bar {
            bar.set_position(done);
        }
    })?;
    projections.flush()?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let record = projections.record();
    println!(
        "rebuilt from {} events in {:.1} s: {} bodies, {} people, {} meetings",
        position.0,
        started.elapsed().as_secs_f64(),
        record.bodies.len(),
        record.people.len(),
        record.meetings.len()
    );
    if !record.undecodable.is_empty() {
        println!("{} events are not governance events this build can read", record.undecodable.len());
    }
    Ok(())
}

fn backup(data: &Path, out: &Path) -> Result<(), CliError> {
    if std::fs::symlink_metadata(out).is_ok() {
        return Err(format!(
            "{} exists: a backup is written to a new path, never over another; choose another --out",
            out.display()
        )
        .into());
    }
    let started = std::time::Instant::now();
    // Written beside its place and renamed into it once it verifies, so
    // that a path named as a backup always holds a whole one.
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if std::fs::symlink_metadata(&partial).is_ok() {
        std::fs::remove_dir_all(&partial)
            .map_err(|e| format!("removing {}, left by a backup that did not finish: {e}", partial.display()))?;
    }
    let copied = match crate::backup::copy_data_directory(data, &partial) {
        Ok(copied) => copied,
        Err(error) => {
            let _ = std::fs::remove_dir_all(&partial);
            return Err(error.into());
        }
    };
    print_copied(&copied);
    println!("verifying the copy, as `minutebook verify` does:");
    verify(&partial, None, false, false)
        .map_err(|error| error.followed_by(&format!("; the copy is left in {} to look into", partial.display())))?;
    std::fs::rename(&partial, out)?;
    let parent = out.parent().filter(|parent| !parent.as_os_str().is_empty()).unwrap_or(Path::new("."));
    crate::backup::sync_directory(parent)?;
    let checkpoint = &copied.journal.checkpoint.checkpoint;
    println!(
        "backed up {} to {} in {:.1} s: {} events, checkpoint of tree size {}, root {}",
        data.display(),
        out.display(),
        started.elapsed().as_secs_f64(),
        copied.journal.n_events,
        checkpoint.tree_size,
        checkpoint.root
    );
    Ok(())
}

fn update_backup(data: &Path, out: &Path) -> Result<(), CliError> {
    let started = std::time::Instant::now();
    let copied = crate::backup::update_backup(data, out)?;
    print_copied(&copied);
    println!("verifying the backup, as `minutebook verify` does:");
    verify(out, None, false, false).map_err(|error| error.followed_by("; make a full backup to a new path"))?;
    let journal = &copied.journal;
    println!(
        "added {} events to the backup {} of {} in {:.1} s: {} events, checkpoint of tree size {}, root {}",
        journal.n_events - journal.start_events,
        out.display(),
        data.display(),
        started.elapsed().as_secs_f64(),
        journal.n_events,
        journal.checkpoint.checkpoint.tree_size,
        journal.checkpoint.checkpoint.root
    );
    Ok(())
}

fn restore(from: &Path, data: &Path) -> Result<(), CliError> {
    if std::fs::symlink_metadata(data).is_ok() && !crate::backup::is_empty_directory(data) {
        return Err(format!(
            "{} is not empty: restore writes only into a new or empty directory, so that two logs never mix",
            data.display()
        )
        .into());
    }
    let existed = data.exists();
    let copied = match crate::backup::copy_data_directory(from, data) {
        Ok(copied) => copied,
        Err(error) => {
            // Take away what was written, leaving the directory as found.
            let _ = if existed { crate::backup::empty_directory(data) } else { std::fs::remove_dir_all(data) };
            return Err(error.into());
        }
    };
    print_copied(&copied);
    println!("verifying the restored data directory, as `minutebook verify` does:");
    verify(data, None, false, false).map_err(|error| {
        error.followed_by(&format!("; what was restored is left in {} to look into: do not serve it", data.display()))
    })?;
    let log = Log::open(data)?;
    let mut projections = Projections::open(data)?;
    projections.catch_up(&log.reader())?;
    projections.flush()?;
    let checkpoint = &copied.journal.checkpoint.checkpoint;
    println!(
        "restored {} events from {} into {}: checkpoint of tree size {}, root {}; \
         the store and the projections were rebuilt from the journal",
        copied.journal.n_events,
        from.display(),
        data.display(),
        checkpoint.tree_size,
        checkpoint.root
    );
    Ok(())
}

fn print_copied(copied: &crate::backup::Copied) {
    let journal = &copied.journal;
    if journal.start_bytes > 0 {
        println!(
            "journal: {} events added (bytes {} to {}) to the backup's {}",
            journal.n_events - journal.start_events,
            journal.start_bytes,
            journal.journal_bytes,
            journal.start_events
        );
    }
    println!(
        "journal: {} frames, {} events, {} bytes, cut after the frame of the checkpoint of tree size {}",
        journal.n_frames, journal.n_events, journal.journal_bytes, journal.checkpoint.checkpoint.tree_size
    );
    if journal.n_payloads_reread > 0 {
        println!(
            "note: {} payloads were being written as they were copied, and were read again",
            journal.n_payloads_reread
        );
    }
    if journal.n_payloads_zeroed > 0 {
        println!("note: {} payloads the log has redacted were cleared in the copy", journal.n_payloads_zeroed);
    }
    println!("papers: {} copied, each checked against the hash it is named by", copied.n_papers);
    let files: Vec<String> = copied.files.iter().map(|path| path.display().to_string()).collect();
    println!("files: {}", if files.is_empty() { "none new or changed".to_owned() } else { files.join(", ") });
    for path in &copied.skipped {
        println!("note: left out {}, which is neither a file nor a directory", path.display());
    }
}

fn print_minutes(
    data: &Path,
    meeting: &MeetingId,
    format: &str,
    at: Option<&str>,
    public: bool,
) -> Result<(), CliError> {
    let log = Log::open(data)?;
    let mut projections = Projections::open(data)?;
    projections.catch_up(&log.reader())?;
    let timezone = projections
        .record()
        .meetings
        .get(meeting)
        .and_then(|m| projections.record().bodies.get(&m.body))
        .map(|b| b.timezone.clone())
        .ok_or_else(|| format!("no meeting {meeting} is scheduled"))?;
    let as_of;
    let record = match at {
        None => projections.record(),
        Some(at) => {
            let sources = MinutesSources::of(projections.record(), meeting);
            let position = sources.position(&log.reader(), At::parse(at, &timezone)?)?;
            as_of = minutes_record_at(&log.reader(), meeting, &sources, position)?;
            &as_of
        }
    };
    let audience = if public { Audience::Public } else { Audience::Entitled };
    let not_yet = || format!("meeting {meeting} was not yet scheduled at that point");
    let text = match format {
        "canonical" => canonical_text(record, meeting).ok_or_else(not_yet)?,
        "markdown" | "html" | "json" => {
            let minutes = view::minutes(record, meeting, audience).ok_or_else(not_yet)?;
            match format {
                "markdown" => render::markdown(&minutes),
                "html" => render::html(&minutes),
                _ => format!("{}\n", serde_json::to_string_pretty(&minutes).expect("JSON always encodes")),
            }
        }
        other => return Err(format!("format {other:?} is not one of markdown, html, json, canonical").into()),
    };
    print!("{text}");
    Ok(())
}

fn export(data: &Path, meta: Meta, since: &[u64], out: &Path) -> Result<(), CliError> {
    if out.exists() {
        return Err(format!("{} exists: export writes a new directory or .tar file", out.display()).into());
    }
    let log = Log::open(data)?;
    let mut record = minutebook_projections::record::Record::new();
    minutebook_projections::record::catch_up(&log.reader(), &mut record)?;
    let bundle = crate::bundle::export(&log, &record, &meta, since).map_err(|error| match error {
        ExportError::Log(error) => CliError::from(error),
        other => CliError::from(other),
    })?;
    // Written beside its place and renamed into it, so that a failure
    // never leaves half a bundle under the name asked for.
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    if out.extension().is_some_and(|ext| ext == "tar") {
        let top = out.file_stem().and_then(|s| s.to_str()).filter(|s| crate::bundle::valid_path(s));
        let top = top.map_or_else(|| meta.scope.slug(), str::to_owned);
        let mut file = std::io::BufWriter::new(std::fs::File::create(&partial)?);
        bundle.write_tar(&top, &mut file)?;
        file.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    } else {
        let _ = std::fs::remove_dir_all(&partial);
        bundle.write_dir(&partial)?;
    }
    std::fs::rename(&partial, out)?;
    let events = bundle.files.keys().filter(|path| path.ends_with("/envelope")).count();
    println!("exported {events} events ({}) to {}", meta.scope.slug(), out.display());
    Ok(())
}

fn verify_bundle(path: &Path, older: Option<&str>, json: bool) -> Result<(), CliError> {
    let bundle = crate::bundle::Bundle::read(path)?;
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |done: u64, total: u64| {
        if terminal && total > 10_000 {
            eprint!("\rverifying: {done} of {total} events");
            if done == total {
                eprintln!();
            }
        }
    };
    let report = crate::bundle::verify_bundle(&bundle, older, &mut progress)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report.to_json(path)).expect("JSON always encodes"));
    } else {
        print!("{}", report.to_text(path));
    }
    if let Some(problem) = report.problem {
        return Err(CliError::VerificationFailed(problem));
    }
    if !json {
        println!("ok: everything verifies");
    }
    Ok(())
}

fn verify(path: &Path, older: Option<&str>, json: bool, log_only: bool) -> Result<(), CliError> {
    // Read-only: the journal is read from its first frame into a store in
    // memory, and the directory is left exactly as it was found.
    // --log-only keeps to the record: the journal and the log's checks of
    // it, without comparing the store (a cache), papers or signatures.
    let inspected = LogReader::inspect_with(path, !log_only)?;
    let log = &inspected.reader;
    let terminal = std::io::stderr().is_terminal();
    let mut progress = |done: u64, total: u64| {
        if terminal {
            eprint!("\rverifying: {done} of {total} events");
            if done == total {
                eprintln!();
            }
        }
    };
    let mut report = log.verify(&mut progress)?;
    if let Some(problem) = inspected.journal.problem.clone() {
        report.problem = Some(problem);
    }
    let store_problem = inspected.store.problem.clone();
    let papers = check_papers(path)?;
    // The record's own checks trust the bytes, so they run only on a log
    // whose own checks passed.
    let record = match (&report.problem, log_only) {
        (None, false) => Some(crate::audit::verify_record(log)?),
        _ => None,
    };
    let older = match (older, &report.problem) {
        (Some(note), None) => Some(check_older(log, note)?),
        _ => None,
    };
    let journal = &inspected.journal;
    if json {
        let value = serde_json::json!({
            "data": path.display().to_string(),
            "events": report.n_events,
            "redacted": report.n_redacted,
            "streams": report.n_streams,
            "checkpoints": report.n_checkpoints,
            "root": report.root.to_hex(),
            "ok": report.problem.is_none() && store_problem.is_none() && papers.problem.is_none(),
            "problem": report.problem.as_ref().map(problem_json),
            "journal": serde_json::json!({
                "frames": journal.n_frames,
                "end": journal.end,
                "torn_write": journal.torn.map(|(start, end)| serde_json::json!({ "start": start, "end": end })),
            }),
            "store": serde_json::json!({
                "events": inspected.store.n_events,
                "notes": inspected.store.notes,
                "problem": store_problem.as_ref().map(problem_json),
            }),
            "papers": serde_json::json!({ "checked": papers.n_checked, "problem": papers.problem }),
            "record": record.as_ref().map(crate::audit::RecordReport::to_json),
            "older_checkpoint": older.as_ref().map(|older| match older {
                Ok(size) => serde_json::json!({ "tree_size": size, "consistent": true }),
                Err(why) => serde_json::json!({ "consistent": false, "problem": why.to_string() }),
            }),
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON always encodes"));
    } else {
        println!("data directory: {}", path.display());
        println!("journal: {} frames, every checksum checked, ending at offset {}", journal.n_frames, journal.end);
        if let Some((start, end)) = journal.torn {
            println!(
                "note: the journal ends with a torn write (bytes {start}..{end}) of a frame that was never \
                 acknowledged; the next open keeps a copy in quarantine/ and clears it"
            );
        }
        println!("events: {} ({} redacted) in {} streams", report.n_events, report.n_redacted, report.n_streams);
        println!("checkpoints: {} signed by {} (log.pub)", report.n_checkpoints, log.verifier().to_vkey());
        println!("tree root: {}", report.root);
        println!(
            "checked: payload hashes (unless redacted), event hashes and chain, stream versions and index, \
             event ids used once, time order, tree nodes, every checkpoint's root and signature, \
             and a checkpoint of the whole log"
        );
        println!("store: {} events, compared entry by entry with the journal", inspected.store.n_events);
        for note in &inspected.store.notes {
            println!("note: {note}");
        }
        println!("papers: {} checked against the BLAKE3 hash they are named by", papers.n_checked);
        if let Some(record) = &record {
            println!(
                "chairs' signatures: {} checked (the signature over the statement, the signer's registered and \
                 unrevoked key, that they presided at the confirming meeting, the pinned tree, the events digest, \
                 and the minutes digest where the text can be rebuilt)",
                record.signatures_checked
            );
            for line in &record.signatures {
                println!("  {line}");
            }
            for line in &record.unverifiable {
                println!("not checkable: {line}");
            }
        }
        if let Some(Ok(size)) = &older {
            println!("your checkpoint: tree size {size}, proven consistent with today's: the log only grew since");
        }
    }
    if let Some(problem) = report.problem {
        return Err(CliError::VerificationFailed(problem.to_string()));
    }
    if let Some(problem) = store_problem {
        return Err(CliError::VerificationFailed(format!(
            "{problem}; the journal is intact: rebuild the store with `minutebook rebuild --store`"
        )));
    }
    if let Some(problem) = papers.problem {
        return Err(CliError::VerificationFailed(problem));
    }
    if let Some(Err(problem)) = older {
        return Err(CliError::VerificationFailed(format!("your checkpoint: {problem}")));
    }
    if let Some(problem) = record.and_then(|r| r.problem) {
        return Err(CliError::VerificationFailed(problem));
    }
    if !json {
        println!("ok: everything verifies");
    }
    Ok(())
}

fn problem_json(problem: &minutebook_log::Problem) -> serde_json::Value {
    serde_json::json!({
        "seq": problem.seq.map(|s| s.0), "what": problem.what, "expected": problem.expected, "found": problem.found,
    })
}

/// What checking papers/ found.
struct PapersReport {
    n_checked: u64,
    problem: Option<String>,
}

/// Hashes every file in papers/ and compares it with the BLAKE3 hash it is
/// named by (papers are content-addressed).
fn check_papers(data: &Path) -> Result<PapersReport, CliError> {
    let mut report = PapersReport { n_checked: 0, problem: None };
    let directory = data.join(crate::domain::papers::PAPERS_DIRECTORY);
    let entries = match std::fs::read_dir(&directory) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(error) => return Err(format!("reading {}: {error}", directory.display()).into()),
    };
    let mut names: Vec<_> = entries.collect::<Result<Vec<_>, _>>()?.into_iter().map(|entry| entry.path()).collect();
    names.sort();
    for path in names {
        let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        let Ok(expected) = blake3::Hash::from_hex(&name) else {
            // Uploads are written under a temporary name, then renamed.
            continue;
        };
        let mut hasher = blake3::Hasher::new();
        let mut file = std::fs::File::open(&path).map_err(|e| format!("reading {}: {e}", path.display()))?;
        std::io::copy(&mut file, &mut hasher).map_err(|e| format!("reading {}: {e}", path.display()))?;
        report.n_checked += 1;
        if hasher.finalize() != expected && report.problem.is_none() {
            report.problem = Some(format!(
                "paper {}: its bytes do not hash to its name, so it is not the paper the record names",
                path.display()
            ));
        }
    }
    Ok(report)
}

/// Why the log is not the one an older checkpoint saw, or not only grown
/// since.
#[derive(Debug, thiserror::Error)]
enum OlderCheckpointProblem {
    #[error("{0}: it is not a checkpoint of this log")]
    NotOfThisLog(minutebook_log::Error),
    #[error("the log holds {n_events} events, fewer than your checkpoint's {tree_size}: it was cut back, or it is another log")]
    CutBack { n_events: u64, tree_size: u64 },
    #[error("the log is not consistent with it, so what you saw then was rewritten: {0}")]
    Inconsistent(minutebook_log::Error),
}

/// Proves the log consistent with an older checkpoint of it: its tree
/// size, or why not. A note that is no checkpoint at all is unusable.
fn check_older(log: &LogReader, note: &str) -> Result<Result<u64, OlderCheckpointProblem>, CliError> {
    if !note.contains("\n\n") {
        return Err("the --checkpoint file is not a signed checkpoint note".into());
    }
    let old = match log.verifier().open(note) {
        Ok(old) => old,
        Err(error) => return Ok(Err(OlderCheckpointProblem::NotOfThisLog(error))),
    };
    let size = log.len();
    if old.tree_size > size {
        return Ok(Err(OlderCheckpointProblem::CutBack { n_events: size, tree_size: old.tree_size }));
    }
    let proof = log.consistency_proof(old.tree_size, size)?;
    Ok(merkle::verify_consistency(old.tree_size, size, &old.root, &log.root(size)?, &proof)
        .map(|()| old.tree_size)
        .map_err(OlderCheckpointProblem::Inconsistent))
}

fn inclusion(data: &Path, seq: u64, size: Option<u64>, json: bool) -> Result<(), CliError> {
    let log = Log::open(data)?;
    let tree_size = size.unwrap_or_else(|| log.len());
    let event = log.event(Seq(seq))?.ok_or_else(|| format!("event {seq} is not in the log of {} events", log.len()))?;
    let proof = log.inclusion_proof(Seq(seq), tree_size)?;
    let root = log.root(tree_size)?;
    let leaf = merkle::leaf_hash(&event.hash);
    merkle::verify_inclusion(seq, tree_size, &leaf, &proof, &root)?;
    let checkpoint = log.checkpoint(tree_size)?.map(|c| c.note);
    if json {
        let value = serde_json::json!({
            "kind": "inclusion", "leaf_index": seq, "tree_size": tree_size,
            "event_hash": event.hash.to_hex(), "leaf_hash": leaf.to_hex(), "root": root.to_hex(),
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(), "checkpoint": checkpoint,
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON always encodes"));
    } else {
        println!("minutebook inclusion proof");
        println!(
            "leaf index: {seq}\ntree size: {tree_size}\nevent hash: {}\nleaf hash: {leaf}\nroot: {root}",
            event.hash
        );
        print_hashes(&proof);
        print_checkpoint(checkpoint.as_deref());
    }
    Ok(())
}

fn consistency(data: &Path, from: u64, size: Option<u64>, json: bool) -> Result<(), CliError> {
    let log = Log::open(data)?;
    let tree_size = size.unwrap_or_else(|| log.len());
    let proof = log.consistency_proof(from, tree_size)?;
    let (old_root, new_root) = (log.root(from)?, log.root(tree_size)?);
    merkle::verify_consistency(from, tree_size, &old_root, &new_root, &proof)?;
    let checkpoint = log.checkpoint(tree_size)?.map(|c| c.note);
    if json {
        let value = serde_json::json!({
            "kind": "consistency", "old_size": from, "new_size": tree_size,
            "old_root": old_root.to_hex(), "new_root": new_root.to_hex(),
            "proof": proof.iter().map(|h| h.to_hex()).collect::<Vec<_>>(), "checkpoint": checkpoint,
        });
        println!("{}", serde_json::to_string_pretty(&value).expect("JSON always encodes"));
    } else {
        println!("minutebook consistency proof");
        println!("old size: {from}\nnew size: {tree_size}\nold root: {old_root}\nnew root: {new_root}");
        print_hashes(&proof);
        print_checkpoint(checkpoint.as_deref());
    }
    Ok(())
}

fn print_hashes(proof: &[minutebook_log::TreeHash]) {
    println!("proof: {} hashes", proof.len());
    for hash in proof {
        println!("{hash}");
    }
}

fn print_checkpoint(note: Option<&str>) {
    match note {
        Some(note) => print!("checkpoint:\n{note}"),
        None => println!("checkpoint: none signed at this size"),
    }
}

/// Whether `data` is a data directory `init` made, without opening its
/// log: tokens are changed while a server holds the log open.
fn minute_book(data: &std::path::Path) -> Result<(), CliError> {
    if data.join(minutebook_log::FORMAT_FILE).is_file() {
        Ok(())
    } else {
        Err(format!("{} is not a minute book's data directory: run `minutebook init` first", data.display()).into())
    }
}
