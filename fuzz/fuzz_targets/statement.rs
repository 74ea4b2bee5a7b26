//! A chair's signing statement, as carried in a `minutes.signed` event:
//! what parses prints back to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook::domain::SigningStatement;

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else { return };
    if let Ok(statement) = SigningStatement::parse(text) {
        assert_eq!(statement.to_text(), text);
    }
});
