//! What the benches share: running `minutebook` as a process of its own,
//! percentiles, and scratch directories.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use minutebook_log::EventId;

/// The first argument that makes this binary run `minutebook`'s command
/// line with the rest.
pub(crate) const AS_MINUTEBOOK: &str = "minutebook";

/// `minutebook ARGS…` as a process of its own: this binary, running
/// `minutebook`'s command line.
pub(crate) fn minutebook<I: Into<OsString>>(args: impl IntoIterator<Item = I>) -> Result<Command, String> {
    let executable = std::env::current_exe().map_err(|e| format!("finding this executable: {e}"))?;
    let mut command = Command::new(executable);
    command.arg(AS_MINUTEBOOK).args(args.into_iter().map(Into::into));
    Ok(command)
}

/// The value at `fraction` of a sorted list of latencies (zero if empty).
pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * fraction).round() as usize]
}

/// A scratch data directory under the system's temporary directory,
/// removed when dropped.
pub(crate) struct ScratchDir(pub(crate) PathBuf);

impl ScratchDir {
    pub(crate) fn new() -> ScratchDir {
        ScratchDir(std::env::temp_dir().join(format!("minutebook-bench-{}-{}", std::process::id(), EventId::random())))
    }

    /// `given`, or else a new scratch directory held in `scratch`.
    pub(crate) fn or_given(given: &Option<PathBuf>, scratch: &mut Option<ScratchDir>) -> PathBuf {
        match given {
            Some(dir) => dir.clone(),
            None => scratch.insert(ScratchDir::new()).0.clone(),
        }
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
