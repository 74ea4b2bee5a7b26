//! A full disk is an ordinary condition for `minutebook serve`, on a real
//! small file system (a tmpfs the test mounts; mounting needs root, which
//! CI has — elsewhere the test says so and stops). The fault-injection
//! test (faults.rs) covers ENOSPC where the journal grows at random points.
//!
//! Writes answer 507 with nothing recorded, reads keep working, writes
//! resume once space is freed without a restart, SIGTERM exits promptly
//! while full, a restart while full serves reads, and every write answered
//! 201 is read back.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use minutebook::domain::Recorder;
use minutebook_log::Log;

use crate::api::{demo_clerk, post_json, Server};

type Response = ureq::http::Response<String>;

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn mount(megabytes: u64) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).unwrap();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&path)
            .stderr(std::process::Stdio::null())
            .status()
            .ok()?;
        status.success().then_some(SmallDisk { _dir: dir, path })
    }

    /// Fills the disk: writes until the file system refuses.
    fn fill(&self) {
        use std::io::Write;
        let mut file = std::fs::File::create(self.path.join("filler")).unwrap();
        let chunk = vec![0x55u8; 64 * 1024];
        loop {
            if let Err(error) = file.write_all(&chunk).and_then(|()| file.sync_data()) {
                assert_eq!(error.raw_os_error(), Some(28), "{error}");
                break;
            }
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.path.join("filler")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

fn add_person(addr: &str, clerk: &str, id: &str) -> Response {
    let body = format!(r#"{{"person":"{id}","name":"Guest {id}","title":null,"organisation":null}}"#);
    post_json(addr, "/v1/people", clerk, &body).unwrap()
}

fn get(addr: &str, path: &str) -> Response {
    crate::api::get(addr, path, &[]).unwrap()
}

fn status(response: &Response) -> u16 {
    response.status().as_u16()
}

/// Sends SIGTERM and waits at most `limit` for the server to exit.
fn terminate_within(mut server: Server, limit: Duration) -> std::process::ExitStatus {
    std::process::Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    let started = Instant::now();
    loop {
        if let Some(exit) = server.child.try_wait().unwrap() {
            return exit;
        }
        if started.elapsed() > limit {
            let _ = server.child.kill();
            panic!("serve did not exit within {limit:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn has_person(data: &Path, id: &str) -> bool {
    let recorder = Recorder::new(Log::open(data).unwrap()).unwrap();
    let person = minutebook_catalogue::PersonId::new(id).unwrap();
    let present = recorder.record().unwrap().people.contains_key(&person);
    present
}

#[test]
fn a_full_disk_refuses_writes_with_507_and_loses_nothing() {
    let Some(disk) = SmallDisk::mount(96) else {
        eprintln!("disk_full: cannot mount a tmpfs here (not root); the fault-injection test covers ENOSPC");
        return;
    };
    let data = disk.path.join("demo");
    let data_arg = data.to_str().unwrap();
    let clerk = demo_clerk(data_arg);
    let server = Server::start(data_arg);
    let addr = server.addr.clone();
    assert_eq!(status(&add_person(&addr, &clerk, "before-full")), 201);

    disk.fill();
    for n in 0..3 {
        let response = add_person(&addr, &clerk, &format!("while-full-{n}"));
        assert_eq!(status(&response), 507, "{response:?}");
        assert!(response.body().contains("/problems/storage-full"), "{response:?}");
        assert_eq!(response.headers()["content-type"], "application/problem+json", "{response:?}");
    }
    // Reads go on.
    assert_eq!(status(&get(&addr, "/v1/people/before-full")), 200);
    assert_eq!(status(&get(&addr, "/v1/people/while-full-0")), 404);
    assert_eq!(status(&get(&addr, "/healthz")), 200);

    // Space freed: writes resume without a restart, and what was answered
    // 201 is read back at once.
    disk.free();
    let response = add_person(&addr, &clerk, "after-freeing");
    assert_eq!(status(&response), 201, "{response:?}");
    assert_eq!(status(&get(&addr, "/v1/people/after-freeing")), 200);

    // Full again: SIGTERM still ends the server promptly.
    disk.fill();
    assert_eq!(status(&add_person(&addr, &clerk, "full-again")), 507);
    let exit = terminate_within(server, Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");

    // A restart while full opens and serves reads; writes are refused.
    let server = Server::start(data_arg);
    let addr = server.addr.clone();
    assert_eq!(status(&get(&addr, "/v1/people/after-freeing")), 200);
    assert_eq!(status(&add_person(&addr, &clerk, "full-restart")), 507);
    let exit = terminate_within(server, Duration::from_secs(10));
    assert!(exit.success(), "{exit:?}");

    disk.free();
    let (code, stdout, stderr) = crate::support::run_cli(&["verify", "--data", data_arg]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for id in ["before-full", "after-freeing"] {
        assert!(has_person(&data, id), "{id} was answered 201 but is not in the log");
    }
    for id in ["while-full-0", "while-full-1", "while-full-2", "full-again", "full-restart"] {
        assert!(!has_person(&data, id), "{id} was refused as storage full but is in the log");
    }
}

/// What a write cut short by a full disk leaves in a store (sled's 0-byte
/// `snap.*.generating`), or a store sled cannot read at all, never keeps a
/// data directory from opening: both stores are caches of the journal.
#[test]
fn an_unfinished_snapshot_or_a_damaged_store_never_keeps_a_directory_from_opening() {
    let scratch = crate::support::Scratch::new();
    {
        let log = scratch.open();
        log.append(crate::support::one(crate::support::event("meeting/M-1", b"a point"))).unwrap();
    }
    drop(minutebook_projections::store::Projections::open(&scratch.path).unwrap());
    for store in ["sled", "projections"] {
        std::fs::write(scratch.path.join(store).join("snap.00000000000FFFFF.generating"), b"").unwrap();
    }
    let log = scratch.open();
    assert_eq!(log.len(), 1);
    drop(minutebook_projections::store::Projections::open(&scratch.path).unwrap());
    for store in ["sled", "projections"] {
        assert!(!scratch.path.join(store).join("snap.00000000000FFFFF.generating").exists());
    }
    drop(log);

    // A projections store whose files are garbage is moved aside and
    // rebuilt, never fatal.
    let projections = scratch.path.join("projections");
    for entry in std::fs::read_dir(&projections).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::write(&path, vec![0xa5u8; 4096]).unwrap();
        }
    }
    drop(minutebook_projections::store::Projections::open(&scratch.path).unwrap());
    let aside = std::fs::read_dir(&scratch.path)
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().starts_with("projections.damaged-"))
        .count();
    assert_eq!(aside, 1, "the damaged store was kept, moved aside");
}
