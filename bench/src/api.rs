//! `minutebook-bench api`: a loopback load run against `minutebook serve`
//! on this machine: reads of one meeting's minutes as JSON, and durable
//! command POSTs from 16 clients on 16 meetings (each keeping its
//! meeting's ETag for If-Match), counting only 2xx answers. The load comes
//! from threads of this process over keep-alive HTTP/1.1 connections
//! (`client`), so client and server share the machine's cores, as wrk
//! would; wrk itself loads the minutes reads too when it is on the PATH
//! (Debian's package: `apt-get install wrk`).

use std::ffi::OsStr;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use minutebook::domain::{Actor, AttendAs, Command, Recorder};
use minutebook::policy::tokens::{Role, TokenStore};
use minutebook_catalogue::*;
use minutebook_log::Log;

use crate::client::Connection;
use crate::support::{minutebook, percentile, ScratchDir};
use hyper::Method;

#[derive(clap::Args)]
pub(crate) struct ApiBenchArgs {
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

/// The minutes read load by wrk, when it is on the PATH: requests/s and
/// p99 from its report.
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
    let tokens = TokenStore::open(data).map_err(|e| e.to_string())?;
    let (clerk, _) = tokens.create(Role::Clerk, Some("bench")).map_err(|e| e.to_string())?;
    let (auditor, _) = tokens.create(Role::Auditor, None).map_err(|e| e.to_string())?;
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
    let clerk = format!("Bearer {clerk}");
    let mut connection = Connection::open(addr);
    let mut etag: Option<String> = None;
    let mut n = 0u64;
    Box::new(move || {
        let connection = connection.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
        if etag.is_none() {
            etag = connection.get(&format!("/v1/meetings/{meeting}/minutes"), &[("authorization", &clerk)])?.etag;
        }
        n += 1;
        let body = format!(r#"{{"item":1,"text":"Point {n} recorded under load."}}"#);
        let headers = [
            ("authorization", clerk.as_str()),
            ("content-type", "application/json"),
            ("if-match", etag.as_deref().unwrap_or("\"0\"")),
        ];
        let answer = connection.request(Method::POST, &format!("/v1/meetings/{meeting}/points"), &headers, &body)?;
        let created = (200..300).contains(&answer.status);
        etag = if created { answer.etag } else { None };
        Ok(created)
    })
}

/// Starts `minutebook serve` on `directory` at a loopback port; returns
/// the child and its address.
pub(crate) fn spawn_server(directory: &std::path::Path) -> Result<(std::process::Child, String), String> {
    let mut server = minutebook([OsStr::new("serve"), OsStr::new("--data"), directory.as_os_str()])?
        .args(["--addr", "127.0.0.1:0"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::BufReader::new(server.stdout.take().ok_or("no server output")?)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line.trim().rsplit("http://").next().unwrap_or("").trim_end_matches('/').to_owned();
    Ok((server, addr))
}

/// Stops a server `spawn_server` started, as SIGTERM does.
pub(crate) fn stop_server(mut server: std::process::Child) {
    let _ = std::process::Command::new("kill").args(["-TERM", &server.id().to_string()]).status();
    let _ = server.wait();
}

pub(crate) fn api(args: &ApiBenchArgs) -> Result<(), String> {
    let mut scratch = None;
    let directory = ScratchDir::or_given(&args.dir, &mut scratch);
    let (clerk, auditor) = prepare(&directory, args.writers)?;
    let (server, addr) = spawn_server(&directory)?;
    println!("minutebook-bench api: server on {addr}, data in {}", directory.display());

    let seconds = args.seconds;
    match wrk_minutes(&addr, &auditor, args.readers, seconds) {
        Some(report) => println!("{report}"),
        None => println!("wrk: not on the PATH, or its report was not understood (apt-get install wrk)"),
    }
    let auditor = format!("Bearer {auditor}");
    let (latencies, failures) = load(args.readers, seconds, |_| {
        let auditor = auditor.clone();
        let mut connection = Connection::open(&addr);
        Box::new(move || {
            let connection = connection.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
            let headers = [("accept", "application/json"), ("authorization", auditor.as_str())];
            Ok(connection.get("/v1/meetings/bench-0/minutes", &headers)?.status == 200)
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
