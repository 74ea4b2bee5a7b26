//! What the log's checks report: the first `Problem` a check meets, and the
//! `VerifyReport` of a verification pass. `verify`, `inspect` and
//! `portable` fill them in, and `LogReader::verify` returns one. They live
//! apart from the pass, which reads through `LogReader`, so that the reader
//! can name them without depending on the pass.

use crate::types::{Seq, TreeHash};

/// The first inconsistency found: where, what, what was expected and found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub seq: Option<Seq>,
    pub what: String,
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(seq) = self.seq {
            write!(f, "event {}: ", seq.0)?;
        }
        write!(f, "{}: expected {}, found {}", self.what, self.expected, self.found)
    }
}

/// What a verification pass covered, and the first problem if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub n_events: u64,
    pub n_redacted: u64,
    pub n_streams: u64,
    pub n_checkpoints: u64,
    pub root: TreeHash,
    pub problem: Option<Problem>,
}
