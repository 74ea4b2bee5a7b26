//! The command line: exit codes (0 all holds, 1 verification found a
//! problem, 2 unusable input) and what each command prints.

use std::path::Path;
use std::process::Command;

use minutebook_log::{merkle, Log, Seq, TreeHash};

use crate::support::{event, one, Scratch};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn minutebook(args: &[&str], data: &Path) -> Run {
    let output = Command::new(env!("CARGO_BIN_EXE_minutebook"))
        .args(args)
        .env("MINUTEBOOK_DATA", data)
        .output()
        .expect("run minutebook");
    Run {
        code: output.status.code().expect("an exit code"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn scratch_with_events(n: usize) -> Scratch {
    let scratch = Scratch::new();
    let log = scratch.open();
    for n in 0..n {
        log.append(one(event("meeting/M-1", format!("point {n}").as_bytes()))).unwrap();
    }
    scratch
}

#[test]
fn init_then_verify_an_empty_log() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = minutebook(&["init", "--origin", "riverside.example/minutes"], &data);
    assert_eq!(init.code, 0, "{}", init.stderr);
    let verify = minutebook(&["verify"], &data);
    assert_eq!(verify.code, 0, "{}", verify.stderr);
    assert!(verify.stdout.contains("events: 0 (0 redacted)"), "{}", verify.stdout);
    assert!(verify.stdout.contains("ok: everything verifies"), "{}", verify.stdout);
    let again = minutebook(&["init"], &data);
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("is already initialised"), "{}", again.stderr);
    let key_mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(data.join("log.key")).unwrap().permissions());
    assert_eq!(key_mode & 0o777, 0o600);
}

#[test]
fn verify_exits_1_naming_the_first_problem() {
    let scratch = scratch_with_events(4);
    let journal = scratch.path.join("journal");
    let mut bytes = std::fs::read(&journal).unwrap();
    let at = bytes.windows(7).position(|w| w == b"point 1").unwrap();
    bytes[at + 6] = b'9';
    std::fs::write(&journal, bytes).unwrap();
    let verify = minutebook(&["verify", "--json"], &scratch.path);
    assert_eq!(verify.code, 1, "{}", verify.stderr);
    assert!(verify.stderr.contains("verification failed: event 1: salted payload hash"), "{}", verify.stderr);
    let report: serde_json::Value = serde_json::from_str(&verify.stdout).unwrap();
    assert_eq!(report["ok"], false);
    assert_eq!(report["problem"]["seq"], 1);
}

#[test]
fn unusable_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = minutebook(&["verify"], &dir.path().join("nothing-here"));
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("is not a minutebook data directory"), "{}", missing.stderr);
    let usage = minutebook(&["proof", "inclusion"], dir.path());
    assert_eq!(usage.code, 2);
    let scratch = scratch_with_events(1);
    let _held = scratch.open();
    let locked = minutebook(&["checkpoint"], &scratch.path);
    assert_eq!(locked.code, 2);
    assert!(locked.stderr.contains("is in use by another minutebook process"), "{}", locked.stderr);
}

/// The benchmarks live in their own binary (`cargo run -p minutebook-bench`),
/// not in the one that is deployed.
#[test]
fn the_production_binary_has_no_bench_command() {
    let dir = tempfile::tempdir().unwrap();
    let bench = minutebook(&["bench", "log"], dir.path());
    assert_eq!(bench.code, 2);
    assert!(bench.stderr.contains("unrecognized subcommand 'bench'"), "{}", bench.stderr);
    assert!(!minutebook(&["--help"], dir.path()).stdout.contains("bench"));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing was written");
}

#[test]
fn checkpoint_prints_the_latest_signed_note() {
    let scratch = scratch_with_events(3);
    let run = minutebook(&["checkpoint"], &scratch.path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let log = Log::open(&scratch.path).unwrap();
    let opened = log.verifier().open(&run.stdout).unwrap();
    assert_eq!(opened.tree_size, 3);
    assert_eq!(opened.root, log.root(3).unwrap());
}

fn hashes(value: &serde_json::Value) -> Vec<TreeHash> {
    value.as_array().unwrap().iter().map(|h| TreeHash::from_hex(h.as_str().unwrap()).unwrap()).collect()
}

#[test]
fn proofs_print_as_text_and_json_that_verify() {
    let scratch = scratch_with_events(7);
    let run = minutebook(&["proof", "inclusion", "--seq", "2", "--size", "6", "--json"], &scratch.path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let proof: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let leaf = TreeHash::from_hex(proof["leaf_hash"].as_str().unwrap()).unwrap();
    let root = TreeHash::from_hex(proof["root"].as_str().unwrap()).unwrap();
    merkle::verify_inclusion(2, 6, &leaf, &hashes(&proof["proof"]), &root).unwrap();
    let run = minutebook(&["proof", "consistency", "--from", "3", "--json"], &scratch.path);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let proof: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(proof["new_size"], 7);
    let (old, new) = (proof["old_root"].as_str().unwrap(), proof["new_root"].as_str().unwrap());
    let (old, new) = (TreeHash::from_hex(old).unwrap(), TreeHash::from_hex(new).unwrap());
    merkle::verify_consistency(3, 7, &old, &new, &hashes(&proof["proof"])).unwrap();
    assert!(proof["checkpoint"].as_str().unwrap().contains("\n7\n"));
    let text = minutebook(&["proof", "inclusion", "--seq", "0"], &scratch.path);
    assert!(text.stdout.starts_with("minutebook inclusion proof\nleaf index: 0\ntree size: 7\n"), "{}", text.stdout);
    let log = Log::open(&scratch.path).unwrap();
    let event_hash = log.event(Seq(0)).unwrap().unwrap().hash;
    assert!(text.stdout.contains(&format!("event hash: {event_hash}\n")), "{}", text.stdout);
    let beyond = minutebook(&["proof", "inclusion", "--seq", "9"], &scratch.path);
    assert_eq!(beyond.code, 2, "{}", beyond.stdout);
}
