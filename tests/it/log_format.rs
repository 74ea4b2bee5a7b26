//! Tests: log_format.
