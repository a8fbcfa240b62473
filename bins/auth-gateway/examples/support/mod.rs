//! What the benchmark examples share: reading their arguments, a directory of
//! employees, printing a sample's percentiles.

// Each example uses what it needs of these.
#![allow(dead_code)]

use std::time::Duration;

use persistence::{Actor, Backend, Change, Database, EmployeeInput, TenantId};

/// Prints `what`'s count, median, p90, p99 and maximum.
pub fn report(what: &str, times: &mut [Duration]) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{what}: n={} p50={:?} p90={:?} p99={:?} max={:?}",
        times.len(),
        at(0.5),
        at(0.9),
        at(0.99),
        times[times.len() - 1]
    );
}

/// The argument at `index` read as a number, or `default`.
pub fn number<T: std::str::FromStr>(args: &[String], index: usize, default: T) -> T {
    args.get(index)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// The backend the argument at `index` names: `postgres`, else SQLite.
pub fn backend(args: &[String], index: usize) -> Backend {
    match args.get(index).map(String::as_str) {
        Some("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

/// `count` employees `person{i}@acme.com` in `tenant`.
pub fn people(db: &Database, tenant: &TenantId, count: usize) {
    let people: Vec<EmployeeInput> = (0..count)
        .map(|i| EmployeeInput {
            email: format!("person{i}@acme.com"),
            given_name: Change::Set(Some(format!("Person {i}"))),
            ..EmployeeInput::default()
        })
        .collect();
    db.employees()
        .upsert_many(tenant, &people, &Actor::system())
        .unwrap();
}
