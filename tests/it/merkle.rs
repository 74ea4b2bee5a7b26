//! Tests: merkle.
