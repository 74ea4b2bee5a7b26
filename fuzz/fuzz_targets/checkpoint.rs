//! Signed notes and keys as read from a data directory (log.key, log.pub,
//! stored checkpoints) or a bundle (log.pub, checkpoint, an auditor's
//! older checkpoint).
//!
//! Input: a verifier key (length-prefixed), then a note. The note is also
//! read as a private key and, bypassing the signature, as a checkpoint
//! body, which must print back to the same text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minutebook_fuzz::Input;
use minutebook_log::{NoteSigner, NoteVerifier};

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let Some(vkey) = input.chunk() else { return };
    let note = String::from_utf8_lossy(input.rest());
    if let Ok(verifier) = NoteVerifier::from_vkey(&String::from_utf8_lossy(vkey)) {
        assert_eq!(NoteVerifier::from_vkey(&verifier.to_vkey()).expect("a printed key reads").key(), verifier.key());
        if let Ok(checkpoint) = verifier.open(&note) {
            assert_eq!(checkpoint.origin, verifier.name());
        }
    }
    if let Ok(signer) = NoteSigner::from_skey(&note) {
        let again = NoteSigner::from_skey(&signer.to_skey()).expect("a printed key reads");
        assert_eq!(again.verifier().to_vkey(), signer.verifier().to_vkey());
    }
    if let Ok(checkpoint) = minutebook_log::fuzzing::parse_checkpoint_body(&note) {
        assert_eq!(checkpoint.body(), note);
    }
});
