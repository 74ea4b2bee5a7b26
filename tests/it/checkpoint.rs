//! Tests: checkpoint.
