//! `minutebook verify` on a crafted data directory: whoever holds a
//! directory's log.key can write any journal, so every byte of it must
//! give a report, never a panic, an unbounded allocation or an overflow.
//!
//! Input: the log's private key text (length-prefixed), then the journal.
//! The directory is written for each input with log.pub made from the key
//! and every frame's checksum sealed anew with it, so that the fuzzer's
//! changes get past the checksum to what the frames hold; then it is
//! inspected and verified as `minutebook verify` does, the record-level
//! checks included when the log-level ones pass.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use minutebook_fuzz::Input;
use minutebook_log::{LogReader, NoteSigner, FORMAT_FILE, LOG_KEY_FILE, LOG_PUBLIC_KEY_FILE};

const JOURNAL_FILE: &str = "journal";

/// The directory the inputs are written to, one after another.
fn directory() -> &'static PathBuf {
    static DIRECTORY: OnceLock<PathBuf> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let path = std::env::temp_dir().join(format!("minutebook-fuzz-verify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("a scratch directory");
        std::fs::write(path.join(FORMAT_FILE), "minutebook data directory format 1\n").expect("writing FORMAT");
        path
    })
}

#[global_allocator]
static ALLOCATOR: minutebook_fuzz::LimitedAllocator = minutebook_fuzz::LimitedAllocator;

fuzz_target!(|bytes: &[u8]| {
    let mut input = Input::new(bytes);
    let Some(key_text) = input.chunk() else { return };
    let Ok(signer) = NoteSigner::from_skey(&String::from_utf8_lossy(key_text)) else { return };
    let mut journal = input.rest().to_vec();
    minutebook_log::fuzzing::seal_frames(&minutebook_log::fuzzing::journal_key(&signer), &mut journal);
    let directory = directory();
    std::fs::write(directory.join(LOG_KEY_FILE), key_text).expect("writing log.key");
    std::fs::write(directory.join(LOG_PUBLIC_KEY_FILE), format!("{}\n", signer.verifier().to_vkey()))
        .expect("writing log.pub");
    std::fs::write(directory.join(JOURNAL_FILE), &journal).expect("writing the journal");
    let Ok(inspected) = LogReader::inspect(directory) else { return };
    let Ok(report) = inspected.reader.verify(&mut |_, _| {}) else { return };
    if report.problem.is_none() && inspected.journal.problem.is_none() {
        let _ = minutebook::audit::verify_record(&inspected.reader);
    }
});
