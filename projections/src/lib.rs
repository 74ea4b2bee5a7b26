//! Folds over the log: the views people read (minutes, audit trails,
//! registers) are rebuilt from events in order, from any position.
//!
//! `record` is the fold of the governance catalogue into bodies, people and
//! meetings; `minutes` renders a meeting's minutes from it (the canonical
//! text a chair's signature pins). `Projection` and `catch_up` feed any
//! other fold every durable event from a position on.
//!
//! Architecture Invariant: projections never write to the log.

use minutebook_log::{Event, LogReader, Seq};

pub mod minutes;
pub mod record;
pub mod registers;
pub mod render;
pub mod store;
pub mod time;
pub mod trail;
pub mod view;
pub mod visibility;

/// Events read per page while catching up.
pub const CATCH_UP_PAGE_EVENTS: usize = 1_000;

/// A fold over events in log order.
pub trait Projection {
    /// Takes the next event; events arrive in sequence order, each once.
    fn apply(&mut self, event: &Event);
}

/// Feeds `projection` every durable event from `from` on; returns the
/// position after the last one fed.
pub fn catch_up(reader: &LogReader, from: Seq, projection: &mut dyn Projection) -> minutebook_log::Result<Seq> {
    let mut position = from;
    loop {
        let events = reader.read(position, CATCH_UP_PAGE_EVENTS)?;
        let Some(last) = events.last() else {
            return Ok(position);
        };
        let next = Seq(last.envelope.seq().0 + 1);
        for event in &events {
            assert_eq!(event.envelope.seq(), position, "events arrive in order, each once");
            projection.apply(event);
            position = Seq(position.0 + 1);
        }
        assert_eq!(position, next);
    }
}
