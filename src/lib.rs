//! minutebook: a tamper-evident minute book. This crate holds the command
//! line; the record itself is in minutebook-log and the views over it in
//! minutebook-projections.

pub mod audit;
pub mod backup;
pub mod bundle;
pub mod cli;
pub mod demo;
pub mod domain;
pub mod http;
pub mod keyfile;
pub mod policy;
