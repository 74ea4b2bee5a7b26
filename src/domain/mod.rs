//! Commands → events: the rules of a meeting's life.
//!
//! `decide` is the pure core; `Recorder` is the thin shell that loads the
//! record, decides, and appends. `statement` holds the texts people sign.
//!
//! Architecture Invariant: nothing here writes to the log except
//! `Recorder::execute`, and it appends only what `decide` returned.

pub mod command;
pub mod decide;
pub mod papers;
pub mod recorder;
pub mod refusal;
pub mod statement;

pub use command::{Actor, AttendAs, Command, DecisionInput};
pub use decide::{decide, signing_statement, Decision, LogLookup};
pub use recorder::{CommandError, Conditions, RecordGuard, Recorded, Recorder};
pub use refusal::{Refusal, Rule};
pub use statement::{key_registration_statement, SigningStatement};
