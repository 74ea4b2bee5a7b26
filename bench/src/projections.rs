//! `minutebook-bench projections`: writes a log of governance events of a
//! realistic mix (bodies, people, and meetings with their attendance,
//! items, points, votes, actions, drafts, confirmations and signatures),
//! then measures a rebuild of every projection from position 0 and reading
//! one meeting's minutes from the projections. Never a timed test: the
//! figures go in docs/PERFORMANCE.md with the machine they came from.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use minutebook::domain::Recorder;
use minutebook::policy::tokens::{Role, TokenStore};

use minutebook_catalogue::*;
use minutebook_log::{AppendBatch, EventId, ExpectedVersion, Log, NewEvent, Seq, StreamVersion};
use minutebook_projections::store::Projections;
use minutebook_projections::{render, view};

use crate::api::{load, open_meeting, point_writer, spawn_server, stop_server};
use crate::client::Connection;
use crate::support::{percentile, ScratchDir};

#[derive(clap::Args)]
pub(crate) struct ProjectionsBenchArgs {
    /// Scratch data directory (default: a new temporary one, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Events to write before rebuilding.
    #[arg(long, default_value_t = 1_000_000)]
    events: u64,
    /// Minutes reads for the latency figures.
    #[arg(long, default_value_t = 10_000)]
    reads: usize,
    /// Point-in-time (`?at=`) minutes reads through the server, one after
    /// another, for their latency figures.
    #[arg(long, default_value_t = 1_000)]
    at_reads: usize,
    /// Clients reading `?at=` minutes while the writers write.
    #[arg(long, default_value_t = 16)]
    at_readers: usize,
    /// Clients recording points, each on its own meeting, with and without
    /// the `?at=` readers.
    #[arg(long, default_value_t = 4)]
    writers: usize,
    /// Seconds each writers' load runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
}

const BODIES: usize = 12;
const MEMBERS_PER_BODY: usize = 12;
const BATCH_EVENTS: usize = 1_000;

/// Builds the synthetic history and appends it in batches.
struct Writer<'a> {
    log: &'a Log,
    batch: Vec<NewEvent>,
    written: u64,
}

impl Writer<'_> {
    fn push(&mut self, stream: String, event: DomainEvent) -> Result<(), String> {
        self.batch.push(NewEvent {
            stream,
            event_id: EventId::random(),
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            actor: "off-bench".to_owned(),
            role: "clerk".to_owned(),
            payload: event.encode(),
        });
        if self.batch.len() == BATCH_EVENTS {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), String> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let mut streams: Vec<String> = self.batch.iter().map(|e| e.stream.clone()).collect();
        streams.sort();
        streams.dedup();
        let mut batch = AppendBatch::new();
        for stream in streams {
            batch = batch.expect(stream, ExpectedVersion::Any);
        }
        for event in self.batch.drain(..) {
            batch = batch.event(event);
        }
        let outcome = self.log.append(batch).map_err(|e| e.to_string())?;
        self.written += outcome.events.len() as u64;
        Ok(())
    }
}

fn id<T>(make: fn(&str) -> Result<T, String>, text: String) -> T {
    make(&text).expect("bench ids are valid")
}

fn text(words: usize, n: u64) -> String {
    const WORDS: [&str; 16] = [
        "members",
        "asked",
        "about",
        "the",
        "housing",
        "repairs",
        "budget",
        "officers",
        "explained",
        "that",
        "the",
        "review",
        "would",
        "report",
        "in",
        "spring",
    ];
    (0..words).map(|w| WORDS[(w + n as usize) % WORDS.len()]).collect::<Vec<_>>().join(" ")
}

/// Writes bodies, people and then meetings until `events` are written.
fn write_history(log: &Log, events: u64) -> Result<(u64, Vec<MeetingId>), String> {
    let mut writer = Writer { log, batch: Vec::with_capacity(BATCH_EVENTS), written: 0 };
    let person = |body: usize, member: usize| id(PersonId::new, format!("p-{body}-{member}"));
    for body_idx in 0..BODIES {
        let body = id(BodyId::new, format!("body-{body_idx}"));
        writer.push(
            body.stream(),
            DomainEvent::BodyRegistered(BodyRegistered {
                body: body.clone(),
                name: format!("Bench Scrutiny Panel {body_idx}"),
                kind: BodyKind::Panel,
                timezone: "Europe/London".into(),
                quorum: 3,
                minute_number_start: 1,
            }),
        )?;
        for member in 0..MEMBERS_PER_BODY {
            let who = person(body_idx, member);
            writer.push(
                who.stream(),
                DomainEvent::PersonRegistered(PersonRegistered {
                    person: who.clone(),
                    name: format!("Member {body_idx}-{member}"),
                    title: Some("Councillor".into()),
                    organisation: None,
                }),
            )?;
            let role = if member == 0 { MemberRole::Chair } else { MemberRole::Member };
            writer.push(
                body.stream(),
                DomainEvent::MemberAppointed(MemberAppointed { person: who, role, from: Date::new(2020, 1, 1)? }),
            )?;
        }
    }
    let mut meetings = Vec::new();
    let mut next_minute = [1u32; BODIES];
    let mut n = 0u64;
    while writer.written + writer.batch.len() as u64 + 80 <= events {
        let body_idx = (n as usize) % BODIES;
        let body = id(BodyId::new, format!("body-{body_idx}"));
        let meeting = id(MeetingId::new, format!("m-{n}"));
        let stream = meeting.stream();
        let date = Date::new(2020 + (n / 4000) as u16 % 50, 1 + (n % 12) as u8, 1 + (n % 28) as u8)?;
        let at = TimeOfDay::new(18, 30)?;
        let mut push = |event: DomainEvent| writer.push(stream.clone(), event);
        push(DomainEvent::MeetingScheduled(MeetingScheduled {
            meeting: meeting.clone(),
            body: body.clone(),
            date,
            start: at,
            venue: "Committee Room 2, Civic Centre".into(),
        }))?;
        let kinds = [ItemKind::Apologies, ItemKind::Declarations, ItemKind::ConfirmationOfMinutes];
        let items: Vec<AgendaItem> = (1..=9)
            .map(|number| AgendaItem {
                number,
                title: text(5, u64::from(number) + n),
                kind: kinds.get(number as usize - 1).copied().unwrap_or(ItemKind::Substantive),
            })
            .collect();
        push(DomainEvent::AgendaPublished(AgendaPublished { items }))?;
        push(DomainEvent::PaperAttached(PaperAttached {
            reference: "A".into(),
            title: "Agenda pack".into(),
            content_hash: *blake3::hash(&n.to_le_bytes()).as_bytes(),
            size_bytes: 1_200_000,
            media_type: "application/pdf".into(),
            item: None,
        }))?;
        push(DomainEvent::MeetingOpened(MeetingOpened { at }))?;
        for member in 0..MEMBERS_PER_BODY - 1 {
            push(DomainEvent::AttendanceRecorded(AttendanceRecorded {
                person: person(body_idx, member),
                capacity: Capacity::Member { role: if member == 0 { MemberRole::Chair } else { MemberRole::Member } },
                presiding: member == 0,
                arrived_at: None,
            }))?;
        }
        push(DomainEvent::ApologiesRecorded(ApologiesRecorded {
            person: person(body_idx, MEMBERS_PER_BODY - 1),
            substitute: None,
        }))?;
        push(DomainEvent::InterestDeclared(InterestDeclared {
            person: person(body_idx, 3),
            item: 5,
            kind: InterestKind::OtherRegistrable,
            nature: text(8, n),
            withdrew: false,
            dispensation: None,
        }))?;
        let first_item_seq = writer.written + writer.batch.len() as u64;
        let mut stream_seq = first_item_seq;
        let mut push = |event: DomainEvent| {
            stream_seq += 1;
            writer.push(stream.clone(), event)
        };
        for item in 1..=9u32 {
            push(DomainEvent::ItemTaken(ItemTaken {
                item,
                title: text(5, u64::from(item) + n),
                kind: ItemKind::Substantive,
            }))?;
            for point in 0..4 {
                push(DomainEvent::PointRecorded(PointRecorded { item, text: text(30, n + point) }))?;
            }
            let vote = if item % 3 == 0 {
                Vote::Recorded {
                    for_: (0..6).map(|m| person(body_idx, m)).collect(),
                    against: (6..9).map(|m| person(body_idx, m)).collect(),
                    abstain: vec![],
                }
            } else {
                Vote::Counts { for_: 8, against: 2, abstain: 1 }
            };
            push(DomainEvent::DecisionRecorded(DecisionRecorded {
                item,
                text: text(25, n + u64::from(item)),
                kind: DecisionKind::Agreed,
                vote,
                casting_vote: None,
                mover: Some(person(body_idx, 1)),
                seconder: Some(person(body_idx, 2)),
                conflicts: vec![],
            }))?;
            if item % 2 == 0 {
                push(DomainEvent::ActionAgreed(ActionAgreed {
                    item,
                    owner: "the Director".into(),
                    owner_person: None,
                    text: text(12, n),
                    due: Some(date),
                }))?;
            }
        }
        push(DomainEvent::MeetingClosed(MeetingClosed {
            at: TimeOfDay::new(20, 45)?,
            voting_members_present: 11,
            quorum: 3,
            quorate: true,
        }))?;
        let first = next_minute[body_idx];
        next_minute[body_idx] += 9;
        push(DomainEvent::DraftPublished(DraftPublished {
            minutes: (1..=9).map(|item| MinuteAssignment { item, minute: first + item - 1 }).collect(),
        }))?;
        push(DomainEvent::DraftRevised(DraftRevised {
            change: Revision::ReplaceText { target: Seq(first_item_seq + 1), text: text(30, n + 7) },
            reason: "Clarified at the chair's request".into(),
        }))?;
        push(DomainEvent::MinutesConfirmed(MinutesConfirmed {
            by_meeting: meeting.clone(),
            by_item: 3,
            events: 80,
            events_digest: [7; 32],
            minutes_digest: [9; 32],
        }))?;
        push(DomainEvent::MinutesSigned(MinutesSigned {
            signer: person(body_idx, 0),
            public_key: [3; 32],
            statement: text(60, n),
            signature: SignatureBytes([5; 64]),
        }))?;
        writer.push(
            body.stream(),
            DomainEvent::MinuteNumbersAssigned(MinuteNumbersAssigned {
                meeting: meeting.clone(),
                first,
                last: first + 8,
            }),
        )?;
        meetings.push(meeting);
        n += 1;
    }
    writer.flush()?;
    Ok((writer.written, meetings))
}

pub(crate) fn projections(args: &ProjectionsBenchArgs) -> Result<(), String> {
    let mut scratch = None;
    let directory = ScratchDir::or_given(&args.dir, &mut scratch);
    Log::init(&directory, "bench.minutebook.local/log").map_err(|e| e.to_string())?;
    let log = Log::open(&directory).map_err(|e| e.to_string())?;
    println!("minutebook-bench projections: data in {}", directory.display());
    let started = Instant::now();
    let (written, meetings) = write_history(&log, args.events)?;
    println!(
        "wrote {written} events ({} meetings of {BODIES} bodies) in {:.1} s",
        meetings.len(),
        started.elapsed().as_secs_f64()
    );

    // The parts of a rebuild: reading the log, and folding without saving.
    let started = Instant::now();
    let mut position = Seq(0);
    loop {
        let page = log.read(position, 1_000).map_err(|e| e.to_string())?;
        let Some(last) = page.last() else { break };
        position = Seq(last.envelope.seq().0 + 1);
    }
    let read_s = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut record = minutebook_projections::record::Record::new();
    minutebook_projections::record::catch_up(&log.reader(), &mut record).map_err(|e| e.to_string())?;
    let fold_s = started.elapsed().as_secs_f64();
    drop(record);
    println!(
        "reading the log alone: {:.0} events/s; folding into the record without saving: {:.0} events/s",
        written as f64 / read_s,
        written as f64 / fold_s
    );

    let mut projections = Projections::open(&directory).map_err(|e| e.to_string())?;
    let started = Instant::now();
    let position = projections.rebuild(&log.reader(), &mut |_, _| {}).map_err(|e| e.to_string())?;
    let elapsed = started.elapsed();
    assert_eq!(position.0, written);
    println!(
        "rebuild of every projection from 0: {written} events in {:.2} s = {:.0} events/s (floor 200000)",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64()
    );
    let record = projections.record();
    assert_eq!(record.meetings.len(), meetings.len(), "every meeting was projected");
    assert!(record.undecodable.is_empty(), "every event decodes");

    let mut latencies = Vec::with_capacity(args.reads);
    let mut bytes = 0usize;
    for read in 0..args.reads {
        let meeting = &meetings[(read * 7919) % meetings.len()];
        let t = Instant::now();
        let minutes = view::minutes(record, meeting, view::Audience::Public).ok_or("a meeting is missing")?;
        bytes += render::markdown(&minutes).len();
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "one meeting's minutes from the projections, as Markdown ({} bytes on average): p50 {:?}, p99 {:?}, max {:?} (floor p99 1 ms)",
        bytes / args.reads.max(1),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );
    drop(projections);
    point_in_time(&directory, log, &meetings, args)
}

/// `?at=` minutes through `minutebook serve` on this log: their latency
/// one after another, then the writers' throughput without and with
/// clients reading them.
fn point_in_time(
    directory: &Path,
    log: Log,
    meetings: &[MeetingId],
    args: &ProjectionsBenchArgs,
) -> Result<(), String> {
    // The writers' meetings, recorded through the rules like any other.
    let recorder = Recorder::new(log).map_err(|e| e.to_string())?;
    let body = id(BodyId::new, "body-0".to_owned());
    let members: Vec<PersonId> = (0..8).map(|member| id(PersonId::new, format!("p-0-{member}"))).collect();
    for writer in 0..args.writers {
        let meeting = id(MeetingId::new, format!("writer-{writer}"));
        open_meeting(&recorder, &body, &meeting, Date::new(2030, 1, 1)?, &members)?;
    }
    // Where a crawler following audit trails would ask for: a meeting, and
    // a position anywhere from its scheduling to the end of the log.
    let log = recorder.log();
    let len = log.len();
    let mut paths = Vec::with_capacity(AT_PATHS);
    for n in 0..AT_PATHS {
        let meeting = &meetings[(n * 7919) % meetings.len()];
        let first = log.read_stream(&meeting.stream(), StreamVersion(1), 1).map_err(|e| e.to_string())?;
        let scheduled = first.first().ok_or("a meeting has no events")?.envelope.seq().0;
        let at = scheduled + 1 + (n as u64 * 104_729) % (len - scheduled);
        paths.push(format!("/v1/meetings/{meeting}/minutes?at={at}"));
    }
    drop(recorder);
    let tokens = TokenStore::open(directory).map_err(|e| e.to_string())?;
    let (clerk, _) = tokens.create(Role::Clerk, Some("bench")).map_err(|e| e.to_string())?;
    let (server, addr) = spawn_server(directory)?;
    let paths = std::sync::Arc::new(paths);

    let mut connection = Connection::open(&addr).map_err(|e| e.to_string())?;
    let mut latencies = Vec::with_capacity(args.at_reads);
    for n in 0..args.at_reads {
        let started = Instant::now();
        if !get(&mut connection, &paths[n % AT_PATHS]).map_err(|e| e.to_string())? {
            return Err(format!("GET {} was not answered 200", paths[n % AT_PATHS]));
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "GET ?at= minutes as JSON of a meeting at a position after it was scheduled, one client, {len} events: p50 {:?}, p99 {:?}, max {:?} (target p99 50 ms)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or_default()
    );

    let writers = |client: usize| point_writer(&addr, &clerk, format!("writer-{client}"));
    let (alone, failed) = load(args.writers, args.seconds, writers);
    let report = |what: &str, latencies: &[Duration], failed: u64| {
        println!(
            "{what}: {:.0}/s, p50 {:?}, p99 {:?} ({failed} failed)",
            latencies.len() as f64 / args.seconds as f64,
            percentile(latencies, 0.50),
            percentile(latencies, 0.99),
        )
    };
    report(&format!("durable point POSTs, {} writers, alone", args.writers), &alone, failed);
    let ((written, write_failed), (read, read_failed)) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| {
            load(args.at_readers, args.seconds, |client| {
                let mut connection = Connection::open(&addr);
                let mut n = client * 61;
                let paths = paths.clone();
                Box::new(move || {
                    let connection = connection.as_mut().map_err(|e| std::io::Error::new(e.kind(), e.to_string()))?;
                    n += 1;
                    get(connection, &paths[n % AT_PATHS])
                })
            })
        });
        let written = load(args.writers, args.seconds, writers);
        (written, reading.join().expect("the readers"))
    });
    report(
        &format!("durable point POSTs, {} writers, while {} clients read ?at= minutes", args.writers, args.at_readers),
        &written,
        write_failed,
    );
    report(&format!("the {} clients' ?at= minutes meanwhile", args.at_readers), &read, read_failed);
    stop_server(server);
    Ok(())
}

/// GETs `path` as the public; whether it was answered 200.
fn get(connection: &mut Connection, path: &str) -> std::io::Result<bool> {
    Ok(connection.get(path, &[("accept", "application/json")])?.status == 200)
}

/// Distinct `?at=` requests the point-in-time figures cycle through.
const AT_PATHS: usize = 1_000;
