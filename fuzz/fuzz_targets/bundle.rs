//! An export bundle as `minutebook verify` reads a .tar file: the tar
//! reader, then every check of the bundle. The bundle is checked as read,
//! then again with its manifest sealed anew, so that the fuzzer's changes
//! to any file get past the manifest to the checks behind it; the bundle's
//! own checkpoint is given as the auditor's older one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook::bundle::{verify_bundle, Bundle, CHECKPOINT};

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let Ok(mut bundle) = Bundle::read_tar(bytes) else { return };
    let _ = verify_bundle(&bundle, None, &mut |_, _| {});
    bundle.seal();
    let older = bundle.files.get(CHECKPOINT).map(|note| String::from_utf8_lossy(note).into_owned());
    let _ = verify_bundle(&bundle, older.as_deref(), &mut |_, _| {});
});
