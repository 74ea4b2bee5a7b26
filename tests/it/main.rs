//! The one integration-test binary: a module per area.

mod support;
mod webdriver;

mod api;
mod backup;
mod bundle;
mod checkpoint;
mod cli;
mod contract;
mod crash;
mod disk_full;
mod domain;
mod domain_rules;
mod faults;
mod format_fixtures;
mod fuzz_regressions;
mod journal_damage;
mod leaks;
mod log;
mod log_format;
mod merkle;
mod point_in_time;
mod powerloss;
mod projections;
mod security;
mod transport;
mod verifying_doc;
mod views;
mod web;
mod web_console;
mod web_pages;
