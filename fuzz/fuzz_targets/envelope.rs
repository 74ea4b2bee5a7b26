//! An envelope's bytes, as stored in a record or carried in a bundle:
//! strict decoding, and what decodes encodes back to an envelope that
//! decodes the same.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook_log::Envelope;

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let Ok(envelope) = Envelope::from_bytes(bytes) else { return };
    let again = Envelope::from_bytes(&envelope.to_bytes()).expect("an envelope encoded by this code decodes");
    assert_eq!(again, envelope);
});
