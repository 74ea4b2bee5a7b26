//! Each bench runs to its end on a small load, through the binary as the
//! README runs it: its figures are never checked here (they belong to the
//! machine), only that every request it counted succeeded and that the
//! `minutebook` processes it starts (`serve`, `verify`) did their work.

use std::process::Command;

fn bench(args: &[&str]) -> String {
    let output =
        Command::new(env!("CARGO_BIN_EXE_minutebook-bench")).args(args).output().expect("run minutebook-bench");
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
    assert!(output.status.success(), "minutebook-bench {args:?}: {stdout}{}", String::from_utf8_lossy(&output.stderr));
    stdout
}

#[test]
fn the_log_bench_runs_and_verifies_what_it_wrote() {
    let out = bench(&["log", "--single-appends", "20", "--batches", "2", "--concurrent-ms", "100"]);
    assert!(out.contains("verify from a cold open, this log:"), "{out}");
    assert!(out.contains("(2000 events, 3 checkpoints)"), "the batched log, verified by `minutebook verify`: {out}");
}

#[test]
fn the_projections_bench_runs_with_no_failed_request() {
    let args = ["--events", "5000", "--reads", "10", "--at-reads", "10", "--at-readers", "2", "--writers", "2"];
    let out = bench(&[&["projections"][..], &args, &["--seconds", "1"]].concat());
    assert!(out.contains("rebuild of every projection from 0:"), "{out}");
    assert_eq!(out.matches("(0 failed)").count(), 3, "{out}");
}

#[test]
fn the_api_bench_runs_with_no_failed_request() {
    let out = bench(&["api", "--seconds", "1", "--readers", "2", "--writers", "2"]);
    assert!(out.contains("from this process:") && out.contains("(0 failed)"), "{out}");
    assert!(out.contains("durable command POSTs, 2 clients on 2 meetings") && out.contains("(0 not 2xx)"), "{out}");
}

#[test]
fn a_failing_bench_exits_2_with_its_reason() {
    // A data directory under a file can never be made.
    let file = std::env::temp_dir().join(format!("minutebook-bench-smoke-{}", std::process::id()));
    std::fs::write(&file, b"a file, not a directory").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_minutebook-bench"))
        .args(["log", "--dir"])
        .arg(file.join("data"))
        .output()
        .expect("run minutebook-bench");
    let _ = std::fs::remove_file(&file);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("minutebook-bench: "), "{stderr}");
    assert!(output.stdout.is_empty(), "no figure was printed");
}
