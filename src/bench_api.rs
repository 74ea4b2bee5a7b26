//! `minutebook bench api`: a loopback load run against `minutebook serve`
//! on this machine: reads of one meeting's minutes as JSON, and durable
//! command POSTs from 16 clients on 16 meetings (each keeping its
//! meeting's ETag for If-Match), counting only 2xx answers. The load comes
//! from threads of this process over keep-alive HTTP/1.1 connections, so
//! client and server share the machine's cores, as wrk would.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::bench::percentile;

use minutebook_catalogue::*;
use minutebook_log::Log;

use crate::api::tokens::{Role, TokenStore};
use crate::domain::{Actor, AttendAs, Command, Recorder};

#[derive(clap::Args)]
pub struct ApiBenchArgs {
    /// Scratch data directory (default: a new temporary one, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Seconds each load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Connections reading minutes.
    #[arg(long, default_value_t = 16)]
    readers: usize,
    /// Clients posting commands, each on its own meeting.
    #[arg(long, default_value_t = 16)]
    writers: usize,
}

/// A keep-alive HTTP/1.1 connection.
pub(crate) struct Connection {
    reader: BufReader<TcpStream>,
    writer: TcpStream,
}

pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) etag: Option<String>,
}

impl Connection {
    pub(crate) fn open(addr: &str) -> std::io::Result<Connection> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Connection { reader: BufReader::new(stream.try_clone()?), writer: stream })
    }

    pub(crate) fn request(&mut self, head: &str, body: &str) -> std::io::Result<Answer> {
        write!(self.writer, "{head}Content-Length: {}\r\n\r\n{body}", body.len())?;
        let mut line = String::new();
        self.reader.read_line(&mut line)?;
        let status = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let (mut length, mut etag) = (0usize, None);
        loop {
            line.clear();
            self.reader.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((header, ""));
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "etag" => etag = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let mut body = vec![0u8; length];
        self.reader.read_exact(&mut body)?;
        Ok(Answer { status, etag })
    }
}

/// The minutes read load by wrk (Debian's package; `bench/api` installs
/// it), when it is on the PATH: requests/s and p99 from its report.
fn wrk_minutes(addr: &str, token: &str, connections: usize, seconds: u64) -> Option<String> {
    let output = std::process::Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-H",
            &format!("Authorization: Bearer {token}"),
            "-H",
            "Accept: application/json",
            &format!("http://{addr}/v1/meetings/bench-0/minutes"),
        ])
        .output()
        .ok()?;
    let report = String::from_utf8_lossy(&output.stdout);
    let field = |prefix: &str| {
        report.lines().find_map(|line| line.trim().strip_prefix(prefix).map(|rest| rest.trim().to_owned()))
    };
    let non_2xx = field("Non-2xx or 3xx responses:").unwrap_or_else(|| "0".to_owned());
    Some(format!(
        "wrk: GET one meeting's minutes as JSON, {connections} connections: {} requests/s, p99 {} ({non_2xx} not 2xx) (floor 20000/s, p99 5 ms)",
        field("Requests/sec:")?,
        field("99%")?,
    ))
}

/// A body with members, and one open meeting per writer with an item taken.
fn prepare(data: &std::path::Path, writers: usize) -> Result<(String, String), String> {
    Log::init(data, "bench.minutebook.local/api").map_err(|e| e.to_string())?;
    let recorder = Recorder::new(Log::open(data).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let run = |command: Command| {
        recorder.execute(&Actor::new("bench", "clerk"), &command).map(drop).map_err(|e| e.to_string())
    };
    let id = |text: &str| PersonId::new(text).expect("valid");
    let body = BodyId::new("bench-panel").expect("valid");
    run(Command::RegisterBody(BodyRegistered {
        body: body.clone(),
        name: "Bench Panel".into(),
        kind: BodyKind::Panel,
        timezone: "Europe/London".into(),
        quorum: 3,
        minute_number_start: 1,
    }))?;
    for member in 0..8 {
        let person = id(&format!("member-{member}"));
        run(Command::RegisterPerson(PersonRegistered {
            person: person.clone(),
            name: format!("Member {member}"),
            title: Some("Councillor".into()),
            organisation: None,
        }))?;
        let role = if member == 0 { MemberRole::Chair } else { MemberRole::Member };
        run(Command::AppointMember {
            body: body.clone(),
            appointment: MemberAppointed { person, role, from: Date::new(2025, 1, 1)? },
        })?;
    }
    let members: Vec<PersonId> = (0..8).map(|member| id(&format!("member-{member}"))).collect();
    for meeting in 0..writers {
        let meeting = MeetingId::new(&format!("bench-{meeting}")).expect("valid");
        open_meeting(&recorder, &body, &meeting, Date::new(2026, 3, 5)?, &members)?;
    }
    drop(recorder);
    let tokens = TokenStore::open(data)?;
    let (clerk, _) = tokens.create(Role::Clerk, Some("bench"))?;
    let (auditor, _) = tokens.create(Role::Auditor, None)?;
    Ok((clerk, auditor))
}

/// Schedules `meeting` of `body`, opens it with `members` present (the
/// first presiding), takes its one item and records 20 points on it: a
/// meeting for a writer to record points on.
pub(crate) fn open_meeting(
    recorder: &Recorder,
    body: &BodyId,
    meeting: &MeetingId,
    date: Date,
    members: &[PersonId],
) -> Result<(), String> {
    let run = |command: Command| {
        recorder.execute(&Actor::new("bench", "clerk"), &command).map(drop).map_err(|e| e.to_string())
    };
    run(Command::ScheduleMeeting(MeetingScheduled {
        meeting: meeting.clone(),
        body: body.clone(),
        date,
        start: TimeOfDay::new(18, 30)?,
        venue: "Committee Room 1".into(),
    }))?;
    run(Command::PublishAgenda {
        meeting: meeting.clone(),
        items: vec![AgendaItem { number: 1, title: "Budget".into(), kind: ItemKind::Substantive }],
    })?;
    run(Command::OpenMeeting { meeting: meeting.clone(), at: TimeOfDay::new(18, 30)? })?;
    for (n, member) in members.iter().enumerate() {
        run(Command::RecordAttendance {
            meeting: meeting.clone(),
            person: member.clone(),
            attend_as: AttendAs::Member,
            presiding: n == 0,
            arrived_at: None,
        })?;
    }
    run(Command::TakeItem { meeting: meeting.clone(), item: 1, title: None, kind: None })?;
    for n in 0..20 {
        run(Command::RecordPoint {
            meeting: meeting.clone(),
            point: PointRecorded { item: 1, text: format!("Members discussed the budget line {n} at some length.") },
        })?;
    }
    Ok(())
}

/// Runs `clients` threads of `work` for `seconds`; returns their latencies
/// of successful requests and the count of failures.
pub(crate) fn load(
    clients: usize,
    seconds: u64,
    work: impl Fn(usize) -> Box<dyn FnMut() -> std::io::Result<bool> + Send> + Sync,
) -> (Vec<Duration>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let results: Vec<(Vec<Duration>, u64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let stop = stop.clone();
                let mut request = work(client);
                scope.spawn(move || {
                    let (mut latencies, mut failures) = (Vec::new(), 0u64);
                    while !stop.load(Ordering::Relaxed) {
                        let started = Instant::now();
                        match request() {
                            Ok(true) => latencies.push(started.elapsed()),
                            Ok(false) => failures += 1,
                            Err(_) => {
                                failures += 1;
                                break;
                            }
                        }
                    }
                    (latencies, failures)
                })
            })
            .collect();
        std::thread::sleep(Duration::from_secs(seconds));
        stop.store(true, Ordering::Relaxed);
        handles.into_iter().map(|h| h.join().expect("a client thread")).collect()
    });
    let failures = results.iter().map(|(_, f)| f).sum();
    let mut latencies: Vec<Duration> = results.into_iter().flat_map(|(l, _)| l).collect();
    latencies.sort();
    (latencies, failures)
}

/// A client that records a point on `meeting` (opened by `open_meeting`)
/// per request, keeping the meeting's ETag for If-Match; a request
/// succeeds when the POST is answered 2xx.
pub(crate) fn point_writer(
    addr: &str,
    clerk: &str,
    meeting: String,
) -> Box<dyn FnMut() -> std::io::Result<bool> + Send> {
    let (addr, clerk) = (addr.to_owned(), clerk.to_owned());
    let mut connection = Connection::open(&addr);
    let mut etag: Option<String> = None;
    let mut n = 0u64;
    Box::new(move || {
        let connection = connection.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
        if etag.is_none() {
            let head = format!(
                "GET /v1/meetings/{meeting}/minutes HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {clerk}\r\n"
            );
            etag = connection.request(&head, "")?.etag;
        }
        n += 1;
        let body = format!(r#"{{"item":1,"text":"Point {n} recorded under load."}}"#);
        let head = format!(
            "POST /v1/meetings/{meeting}/points HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {clerk}\r\nContent-Type: application/json\r\nIf-Match: {}\r\n",
            etag.as_deref().unwrap_or("\"0\"")
        );
        let answer = connection.request(&head, &body)?;
        let created = (200..300).contains(&answer.status);
        etag = if created { answer.etag } else { None };
        Ok(created)
    })
}

/// Starts `minutebook serve` on `directory` at a loopback port; returns
/// the child and its address.
pub(crate) fn spawn_server(directory: &std::path::Path) -> Result<(std::process::Child, String), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut server = std::process::Command::new(exe)
        .args(["serve", "--data", &directory.to_string_lossy(), "--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    BufReader::new(server.stdout.take().ok_or("no server output")?).read_line(&mut line).map_err(|e| e.to_string())?;
    let addr = line.trim().rsplit("http://").next().unwrap_or("").trim_end_matches('/').to_owned();
    Ok((server, addr))
}

/// Stops a server `spawn_server` started, as SIGTERM does.
pub(crate) fn stop_server(mut server: std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}

pub fn api(args: &ApiBenchArgs) -> Result<(), String> {
    let scratch;
    let directory = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            scratch = crate::bench::ScratchDir::new()?;
            scratch.0.clone()
        }
    };
    let (clerk, auditor) = prepare(&directory, args.writers)?;
    let (server, addr) = spawn_server(&directory)?;
    println!("minutebook bench api: server on {addr}, data in {}", directory.display());

    let seconds = args.seconds;
    if let Some(report) = wrk_minutes(&addr, &auditor, args.readers, seconds) {
        println!("{report}");
    }
    let (latencies, failures) = load(args.readers, seconds, |_| {
        let addr = addr.clone();
        let auditor = auditor.clone();
        let mut connection = Connection::open(&addr);
        Box::new(move || {
            let connection = connection.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
            let head = format!("GET /v1/meetings/bench-0/minutes HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\nAuthorization: Bearer {auditor}\r\n");
            Ok(connection.request(&head, "")?.status == 200)
        })
    });
    println!(
        "GET one meeting's minutes as JSON, {} connections, from this process: {:.0} requests/s, p50 {:?}, p99 {:?} ({failures} failed) (floor 20000/s, p99 5 ms)",
        args.readers,
        latencies.len() as f64 / seconds as f64,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );

    let (latencies, failures) =
        load(args.writers, seconds, |client| point_writer(&addr, &clerk, format!("bench-{client}")));
    println!(
        "durable command POSTs, {} clients on {} meetings: {:.0} 2xx/s, p50 {:?}, p99 {:?} ({failures} not 2xx) (floor 5000/s)",
        args.writers,
        args.writers,
        latencies.len() as f64 / seconds as f64,
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    stop_server(server);
    Ok(())
}
