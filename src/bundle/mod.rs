//! Export bundles: a meeting's, a body's or the whole log's events carried
//! away with everything needed to check them offline, trusting neither
//! the server nor its operators. docs/VERIFYING.md gives the layout.
//!
//! A bundle is a set of files, written as a directory or as one .tar file
//! holding the same files under one top directory. Some files are the
//! evidence (envelopes, payloads, salts, proofs, the checkpoint and the
//! log's key); every other file is derived from the evidence by `derive`,
//! which both the exporter and the verifier run, so that the verifier
//! checks a derived file by deriving it again.

mod check;
mod derive;
mod export;
mod files;

pub use check::{verify_bundle, BundleReport};
pub use derive::{Meta, Scope};
pub use export::{export, export_at_most, ExportError};
pub use files::*;
