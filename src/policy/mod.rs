//! The access policy: who a request speaks for (tokens, roles, callers),
//! what each role may change, and what each audience may read of the
//! record, with the JSON view of an event. The HTTP API, the web pages and
//! export bundles all use it.
//!
//! Architecture Invariant: nothing here imports `api`, `web` or `bundle`;
//! a refusal is a `visibility::Denied`, which the HTTP layer answers.

pub mod reads;
pub mod tokens;
pub mod views;
pub mod visibility;
