//! Concurrent writers on one database: while another connection holds the write lock,
//! imports from several threads and several pools (as from several processes) wait
//! their turn — SQLite's busy timeout with `BEGIN IMMEDIATE`, PostgreSQL's locks — and
//! every write lands: no "database is locked" error, no lost update.

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use persistence::testing::TestDatabase;
use persistence::{
    Actor, Backend, Change, Database, EmployeeInput, PoolOptions, Workspace, backend_tests,
};

const THREADS: usize = 6;
const ROUNDS: usize = 5;
const PER_ROUND: usize = 20;
/// How long the other connection keeps the write lock.
const HOLD: Duration = Duration::from_millis(1500);

fn person(email: &str, title: &str) -> EmployeeInput {
    EmployeeInput {
        email: email.into(),
        given_name: Change::Set(Some("Test".into())),
        family_name: Change::Set(Some("Writer".into())),
        title: Change::Set(Some(title.into())),
        ..EmployeeInput::default()
    }
}

/// Takes the database's write lock on a connection of its own, says so, keeps it for
/// [`HOLD`], and returns the moment just before it let go.
fn hold_write_lock(db: &TestDatabase, locked: &mpsc::Sender<()>) -> Instant {
    let url = db.database_url();
    match db.backend() {
        Backend::Sqlite => {
            let path = url.strip_prefix("sqlite://").unwrap();
            let mut conn = SqliteConnection::establish(path).unwrap();
            conn.batch_execute("BEGIN IMMEDIATE").unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(HOLD);
            let released = Instant::now();
            conn.batch_execute("COMMIT").unwrap();
            released
        }
        Backend::Postgres => {
            let mut conn = PgConnection::establish(url).unwrap();
            // EXCLUSIVE blocks every writer of the table, not its readers.
            conn.batch_execute("BEGIN; LOCK TABLE employees IN EXCLUSIVE MODE")
                .unwrap();
            locked.send(()).unwrap();
            std::thread::sleep(HOLD);
            let released = Instant::now();
            conn.batch_execute("COMMIT").unwrap();
            released
        }
    }
}

backend_tests! {
    fn writers_wait_for_a_held_write_lock_and_every_write_lands(db) {
        let actor = Actor::operator("test");
        let acme = db.tenants().create(&Workspace::parse("acme").unwrap(), "Acme", &actor).unwrap();
        db.employees().upsert_many(&acme.id, &[person("shared@acme.com", "start")], &actor).unwrap();
        // Half the writers share the test's pool; the others have a pool each, like other
        // processes on the same database.
        let url = db.database_url().parse().unwrap();
        let pools: Vec<Database> = (0..THREADS)
            .map(|i| {
                if i % 2 == 0 {
                    db.db().clone()
                } else {
                    Database::open_with(&url, &PoolOptions { max_connections: 2, ..PoolOptions::default() }).unwrap()
                }
            })
            .collect();

        let (locked, is_locked) = mpsc::channel();
        let (released, first_writes) = std::thread::scope(|s| {
            let holder = s.spawn(move || hold_write_lock(db, &locked));
            is_locked.recv().unwrap();
            let writers: Vec<_> = pools
                .iter()
                .enumerate()
                .map(|(thread, pool)| {
                    let (acme, actor) = (&acme, &actor);
                    s.spawn(move || {
                        let mut first_write = None;
                        for round in 0..ROUNDS {
                            let mut batch: Vec<EmployeeInput> = (0..PER_ROUND)
                                .map(|n| person(&format!("t{thread}-r{round}-n{n}@acme.com"), "Engineer"))
                                .collect();
                            // Every import also changes the one employee they all share.
                            batch.push(person("shared@acme.com", &format!("t{thread}-r{round}")));
                            let summary = pool.employees().upsert_many(&acme.id, &batch, actor).unwrap();
                            assert_eq!((summary.created, summary.updated), (PER_ROUND, 1));
                            first_write.get_or_insert_with(Instant::now);
                        }
                        first_write.unwrap()
                    })
                })
                .collect();
            let first_writes: Vec<Instant> = writers.into_iter().map(|w| w.join().unwrap()).collect();
            (holder.join().unwrap(), first_writes)
        });

        // The lock was real: no writer got through while it was held.
        for first in &first_writes {
            assert!(*first >= released, "a write landed while the lock was held");
        }
        // Every write landed.
        let emails: BTreeSet<String> = db.employees().list(&acme.id).unwrap().into_iter().map(|e| e.email).collect();
        assert_eq!(emails.len(), THREADS * ROUNDS * PER_ROUND + 1);
        for thread in 0..THREADS {
            for round in 0..ROUNDS {
                for n in 0..PER_ROUND {
                    assert!(emails.contains(&format!("t{thread}-r{round}-n{n}@acme.com")));
                }
            }
        }
        // No lost update: the shared employee changed once per import.
        let shared = db.employees().find_by_email(&acme.id, "shared@acme.com").unwrap().unwrap();
        assert_eq!(shared.version, i64::try_from(THREADS * ROUNDS + 1).unwrap());
        let imports = db.audit().recent(&acme.id, 1000).unwrap().into_iter().filter(|e| e.action == "employees.imported").count();
        assert_eq!(imports, THREADS * ROUNDS + 1);
    }
}
