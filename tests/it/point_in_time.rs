//! Point-in-time reads (`?at=`) of a meeting's minutes: folded from the
//! streams those minutes are made of, never from position 0, and without
//! the lock the writers decide under.
//!
//! - They equal the full rebuild (`record_at`): every position of the
//!   demo, every meeting, every audience, as JSON, canonical text and the
//!   meeting stream's version (the ETag). tests/it/views.rs checks the
//!   same on generated logs.
//! - A writer's append completes while a point-in-time read is in
//!   progress: a store wrapped around the real one stops the read inside
//!   its fold (at its read of the meeting's first event) until the writer
//!   has returned. Were the record's lock held across the fold, the writer
//!   could never return and the test would fail, not hang.

use std::io;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use minutebook::domain::*;
use minutebook::http::{router, AppState};
use minutebook::policy::tokens::TokenStore;
use minutebook_catalogue::{MeetingId, PointRecorded};
use minutebook_log::store::{ScanIter, SledStore, Store, WriteBatch};
use minutebook_log::{Log, Seq, StreamVersion};
use minutebook_projections::minutes::canonical_text;
use minutebook_projections::record::{catch_up_to, Record};
use minutebook_projections::time::{minutes_record_at, record_at, MinutesSources};
use minutebook_projections::view::{minutes, Audience};
use tower::ServiceExt;

use crate::domain::*;

/// Every reading of one meeting's minutes from `record` that a reader can
/// be served: each audience's model as JSON, the canonical text, and the
/// meeting stream's version.
fn readings(record: &Record, meeting: &MeetingId) -> (Vec<Option<String>>, Option<String>, StreamVersion) {
    let json = [Audience::Public, Audience::Entitled]
        .into_iter()
        .map(|audience| minutes(record, meeting, audience).map(|m| serde_json::to_string(&m).unwrap()))
        .collect();
    (json, canonical_text(record, meeting), record.stream_version(&meeting.stream()))
}

#[test]
fn the_minutes_at_every_position_of_the_demo_equal_a_full_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    minutebook::demo::create(&data).unwrap();
    let log = Log::open(&data).unwrap();
    let reader = log.reader();
    let last = record_at(&reader, log.len()).unwrap();
    let mut meetings: Vec<MeetingId> = last.meetings.keys().cloned().collect();
    assert!(meetings.len() >= 4, "the demo holds meetings at every stage of their life");
    // And one the log never scheduled: absent at every position.
    meetings.push(MeetingId::new("never-scheduled").unwrap());
    // The full rebuild at each position, folded on from the one before
    // (`record_at` is this very fold from 0).
    let mut full = Record::new();
    let mut compared = 0;
    for position in 0..=log.len() {
        catch_up_to(&reader, &mut full, position).unwrap();
        for meeting in &meetings {
            // The sources as the server takes them (the record now), and
            // as the record stood at the position itself.
            for sources in [MinutesSources::of(&last, meeting), MinutesSources::of(&full, meeting)] {
                let bounded = minutes_record_at(&reader, meeting, &sources, position).unwrap();
                assert_eq!(readings(&bounded, meeting), readings(&full, meeting), "{meeting} at {position}");
                compared += 1;
            }
        }
    }
    assert_eq!(full, last);
    // A position past the end reads as the end; one past the sources'
    // record, as far as that record reaches.
    for meeting in &meetings {
        let sources = MinutesSources::of(&last, meeting);
        let bounded = minutes_record_at(&reader, meeting, &sources, u64::MAX).unwrap();
        assert_eq!(readings(&bounded, meeting), readings(&full, meeting), "{meeting} past the end");
    }
    let early = record_at(&reader, log.len() / 2).unwrap();
    let meeting = &meetings[0];
    let bounded = minutes_record_at(&reader, meeting, &MinutesSources::of(&early, meeting), log.len()).unwrap();
    assert_eq!(readings(&bounded, meeting), readings(&early, meeting));
    assert!(compared > 1_000, "{compared} readings compared");
}

/// A store that, once armed with a key, stops the next read of that key
/// until released, having said so.
struct PausingStore {
    inner: SledStore,
    gate: Arc<Gate>,
}

#[derive(Default)]
struct Gate {
    armed: Mutex<Option<Armed>>,
}

/// The key whose next read pauses; the channel that announces the pause;
/// the one whose sender's message (or drop) ends it.
type Armed = (Vec<u8>, mpsc::Sender<()>, mpsc::Receiver<()>);

impl Gate {
    /// Arms the gate; returns the receiver of the announcement and the
    /// sender that releases the paused read.
    fn arm(&self, key: Vec<u8>) -> (mpsc::Receiver<()>, mpsc::Sender<()>) {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel();
        *self.armed.lock().unwrap() = Some((key, entered_tx, release_rx));
        (entered_rx, release_tx)
    }

    fn pass(&self, key: &[u8]) {
        let mut armed = self.armed.lock().unwrap();
        if armed.as_ref().is_some_and(|(armed_key, _, _)| armed_key == key) {
            let (_, entered, release) = armed.take().unwrap();
            drop(armed);
            entered.send(()).unwrap();
            // Released by a message, or by the test ending either way.
            let _ = release.recv();
        }
    }
}

impl Store for PausingStore {
    fn get(&self, key: &[u8]) -> io::Result<Option<Vec<u8>>> {
        self.gate.pass(key);
        self.inner.get(key)
    }
    fn scan(&self, from: &[u8], to: &[u8]) -> ScanIter<'_> {
        self.inner.scan(from, to)
    }
    fn last_in(&self, from: &[u8], to: &[u8]) -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
        self.inner.last_in(from, to)
    }
    fn apply(&self, batch: &WriteBatch) -> io::Result<()> {
        self.inner.apply(batch)
    }
    fn make_durable(&self) -> io::Result<()> {
        self.inner.make_durable()
    }
    fn reserve_journal(&self, end: u64) -> io::Result<()> {
        self.inner.reserve_journal(end)
    }
    fn write_journal(&self, offset: u64, bytes: &[u8]) -> io::Result<()> {
        self.inner.write_journal(offset, bytes)
    }
    fn sync_journal(&self) -> io::Result<()> {
        self.inner.sync_journal()
    }
    fn read_journal(&self, offset: u64, buffer: &mut [u8]) -> io::Result<()> {
        self.inner.read_journal(offset, buffer)
    }
    fn journal_len(&self) -> io::Result<u64> {
        self.inner.journal_len()
    }
}

/// The store key of an event's record: `e` ‖ seq as u64 big-endian
/// (docs/LOG-FORMAT.md, "The store: keys and values").
fn event_key(seq: Seq) -> Vec<u8> {
    let mut key = vec![b'e'];
    key.extend_from_slice(&seq.0.to_be_bytes());
    key
}

/// How long the test waits for what must happen at once: not a timing
/// assumption but a deadlock detector, so that a lock held by mistake
/// fails the test instead of hanging it.
const DEADLOCK_WAIT: Duration = Duration::from_secs(60);

/// Text the writer records while the read is paused.
const WRITTEN_MEANWHILE: &str = "Recorded while a point-in-time read was in progress.";

fn get(state: &Arc<AppState>, path: &str, accept: &str) -> (StatusCode, String) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let request = Request::get(path).header(header::ACCEPT, accept).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    })
}

#[test]
fn a_writer_appends_while_a_point_in_time_read_is_in_progress() {
    for (path, accept) in
        [("/v1/meetings/{M1}/minutes?at={at}", "application/json"), ("/meetings/{M1}?at={at}", "text/html")]
    {
        let (_dir, data) = World::at(Stage::Signed).close();
        let gate = Arc::new(Gate::default());
        let wrap = gate.clone();
        let log = Log::open_with(&data, move |inner| Box::new(PausingStore { inner, gate: wrap })).unwrap();
        let recorder = Recorder::new(log).unwrap();
        let state = Arc::new(AppState::new(recorder, TokenStore::open(&data).unwrap(), data.clone()).unwrap());
        let log = state.recorder.log();
        let at = log.len();
        let expected = minutes(&record_at(&log.reader(), at).unwrap(), &m(M1), Audience::Public).unwrap();
        let scheduled = log.read_stream(&m(M1).stream(), StreamVersion(1), 1).unwrap()[0].envelope.seq();

        let (entered, release) = gate.arm(event_key(scheduled));
        let path = path.replace("{M1}", M1).replace("{at}", &at.to_string());
        let reading = {
            let state = state.clone();
            std::thread::spawn(move || get(&state, &path, accept))
        };
        entered.recv_timeout(DEADLOCK_WAIT).expect("the point-in-time read folds the meeting's stream");
        // The read is in progress, stopped inside its fold. A writer
        // decides under the record's lock and appends.
        let (written_tx, written) = mpsc::channel();
        {
            let state = state.clone();
            std::thread::spawn(move || {
                let command = Command::RecordPoint {
                    meeting: m(M2),
                    point: PointRecorded { item: 4, text: WRITTEN_MEANWHILE.into() },
                };
                let _ = written_tx.send(state.recorder.execute(&Actor::new("off-rowe", "clerk"), &command));
            });
        }
        let recorded = written
            .recv_timeout(DEADLOCK_WAIT)
            .unwrap_or_else(|_| panic!("{accept}: a writer waited for a point-in-time read"))
            .unwrap();
        assert_eq!(recorded.outcome.events[0].seq, Seq(at), "the writer appended the next event");
        assert_eq!(state.recorder.log().len(), at + 1);
        release.send(()).unwrap();

        let (status, body) = reading.join().unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(!body.contains(WRITTEN_MEANWHILE));
        if accept == "application/json" {
            assert_eq!(body, serde_json::to_string(&expected).unwrap());
        } else {
            assert!(body.contains(&format!("as they stood after the first {at} events")), "{body}");
            for item in &expected.items {
                assert!(body.contains(&maud::html! { (item.title) }.into_string()), "{}", item.title);
            }
        }
    }
}
