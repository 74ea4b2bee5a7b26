//! Projections: folds over the log from any position.

use std::collections::BTreeMap;

use minutebook_log::{Event, Seq};
use minutebook_projections::{catch_up, Projection};

use crate::support::{event, one, Scratch};

#[derive(Default)]
struct EventsPerStream(BTreeMap<String, u64>);

impl Projection for EventsPerStream {
    fn apply(&mut self, event: &Event) {
        *self.0.entry(event.envelope.stream().to_owned()).or_default() += 1;
    }
}

#[test]
fn catch_up_feeds_every_event_once_from_any_position() {
    let scratch = Scratch::new();
    let log = scratch.open();
    for n in 0..2_500u64 {
        log.append(one(event(&format!("meeting/M-{}", n % 3), b"x"))).unwrap();
    }
    let mut all = EventsPerStream::default();
    assert_eq!(catch_up(&log, Seq(0), &mut all).unwrap(), Seq(2_500));
    assert_eq!(all.0.values().copied().collect::<Vec<_>>(), [834, 833, 833]);
    let mut tail = EventsPerStream::default();
    assert_eq!(catch_up(&log, Seq(2_499), &mut tail).unwrap(), Seq(2_500));
    assert_eq!(tail.0.len(), 1);
}
