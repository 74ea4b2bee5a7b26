//! The journal as opening reads it: frame after frame, telling a valid
//! frame from the clean end, a torn write and corruption, and decoding a
//! frame's body whatever its checksum.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    minutebook_log::fuzzing::check_frame_bytes(bytes);
});
