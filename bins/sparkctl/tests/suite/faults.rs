//! `sparkctl employees import` killed mid-way (SIGKILL, no chance to clean up) applies
//! nothing: the import is one transaction, and an uncommitted transaction is gone on
//! both backends — SQLite ignores the WAL frames it never committed, PostgreSQL rolls
//! back when its client disappears. The real binary, on both backends.
//!
//! "Mid-way" is observed, not guessed, from what Linux reports about the process in
//! /proc: once it has read the whole file, and then either written megabytes to SQLite's
//! write-ahead log (uncommitted pages spill there) or waited on PostgreSQL dozens of
//! times (once per statement of a thousand rows) — deep into the one transaction and
//! long before its end.

#![cfg(target_os = "linux")]
use std::fmt::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use persistence::testing::TestDatabase;
use persistence::{Backend, backend_tests};

/// Employees in the generated file.
const ROWS: usize = 200_000;
/// SQLite: bytes written (to the write-ahead log) before the kill — well into the import
/// (the whole is tens of MiB), well before its end.
const KILL_AFTER_BYTES: u64 = 2 * 1024 * 1024;
/// PostgreSQL: waits for the server after the file was read before the kill — about as
/// many statements of a thousand rows (the import has over two hundred).
const KILL_AFTER_WAITS: u64 = 40;

const BEFORE: &str = "\
email,given_name,family_name,title,department,manager_email
ada@acme.com,Ada,Lovelace,CTO,Engineering,
grace@acme.com,Grace,Hopper,Engineer,Engineering,ada@acme.com
linus@acme.com,Linus,T,Engineer,Operations,grace@acme.com
";

fn sparkctl(db: &TestDatabase, dir: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkctl"));
    command
        .current_dir(dir)
        .env("DATABASE_URL", db.database_url())
        .env("USER", "ops-test");
    command
}

fn ok(db: &TestDatabase, dir: &std::path::Path, args: &[&str]) -> String {
    let out = sparkctl(db, dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "sparkctl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A CSV that changes every existing employee and adds `ROWS` new ones, with managers.
fn big_csv() -> String {
    let mut csv = String::with_capacity(ROWS * 120);
    csv.push_str("email,given_name,family_name,title,department,manager_email,active\n");
    csv.push_str("ada@acme.com,Ada,Lovelace,Chief Executive,Board,,true\n");
    csv.push_str("grace@acme.com,Grace,Hopper,Admiral,Navy,ada@acme.com,false\n");
    csv.push_str("linus@acme.com,Linus,T,Maintainer,Kernel,ada@acme.com,true\n");
    for n in 0..ROWS {
        let manager = if n % 50 == 0 {
            "ada@acme.com".to_owned()
        } else {
            format!("person{}@acme.com", n - n % 50)
        };
        writeln!(
            csv,
            "person{n}@acme.com,Given{n},Family{n},Engineer {},Department {},{manager},true",
            n % 97,
            n % 8
        )
        .unwrap();
    }
    csv
}

/// What the process has done so far, from /proc.
#[derive(Debug, Clone, Copy)]
struct Progress {
    /// Bytes read with read(2): the CSV file.
    read: u64,
    /// Bytes written with write(2): SQLite's files (not sockets).
    written: u64,
    /// Times its main thread blocked, e.g. waiting for PostgreSQL's answer.
    waits: u64,
}

fn progress(pid: u32) -> Option<Progress> {
    let field = |text: &str, name: &str| -> Option<u64> {
        text.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|n| n.trim().parse().ok())
    };
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(Progress {
        read: field(&io, "rchar:")?,
        written: field(&io, "wchar:")?,
        waits: field(&status, "voluntary_ctxt_switches:")?,
    })
}

backend_tests! {
    fn an_import_killed_mid_way_applies_nothing(db) {
        let dir = tempfile::tempdir().unwrap();
        ok(db, dir.path(), &["tenant", "create", "acme"]);
        let before_file = dir.path().join("before.csv");
        std::fs::write(&before_file, BEFORE).unwrap();
        ok(db, dir.path(), &["employees", "import", "acme", before_file.to_str().unwrap()]);
        let before = ok(db, dir.path(), &["employees", "list", "acme"]);
        let tenant = db.tenants().get("acme").unwrap();
        let audit_before = db.audit().recent(&tenant.id, 100).unwrap().len();

        let big = dir.path().join("big.csv");
        std::fs::write(&big, big_csv()).unwrap();
        let mut child = sparkctl(db, dir.path())
            .args(["employees", "import", "acme", big.to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let file_size = std::fs::metadata(&big).unwrap().len();
        let started = Instant::now();
        let mut waits_after_reading = None;
        let at_kill = loop {
            std::thread::sleep(Duration::from_millis(1));
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the import ended ({status}) before it could be interrupted");
            }
            assert!(started.elapsed() < Duration::from_secs(120), "the import never got going");
            let Some(now) = progress(child.id()) else { continue };
            if now.read < file_size {
                continue;
            }
            let waits_after_reading = *waits_after_reading.get_or_insert(now.waits);
            let deep_enough = match db.backend() {
                Backend::Sqlite => now.written >= KILL_AFTER_BYTES,
                Backend::Postgres => now.waits >= waits_after_reading + KILL_AFTER_WAITS,
            };
            if deep_enough {
                break now;
            }
        };
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "killed, not finished ({at_kill:?}): {status}");

        // Nothing of it is visible: the same employees, unchanged, and no audit event.
        assert_eq!(db.employees().count(&tenant.id).unwrap(), 3);
        assert_eq!(ok(db, dir.path(), &["employees", "list", "acme"]), before);
        assert_eq!(db.audit().recent(&tenant.id, 100).unwrap().len(), audit_before);

        // And the database is fine: the next import goes through (on PostgreSQL once the
        // server has noticed its client is gone and rolled back).
        let next = dir.path().join("next.csv");
        std::fs::write(&next, "email,title\nada@acme.com,Chief Executive\n").unwrap();
        let out = ok(db, dir.path(), &["employees", "import", "acme", next.to_str().unwrap()]);
        assert!(out.contains("0 created, 1 updated, 0 unchanged"), "{out}");
        assert_eq!(db.employees().count(&tenant.id).unwrap(), 3);
    }
}
