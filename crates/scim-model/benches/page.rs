//! Writing a page of 100 users as JSON: `cargo bench -p scim-model --bench page`.
//!
//! Compares the two ways scim-api can answer `GET /Users?startIndex=…&count=100`: the
//! resources built and serialised with serde, and the page written straight from the
//! records (`json_writer`). Both produce the same bytes (the crate's tests hold that).

// Benchmark code may unwrap: a failure here is a bug in the fixture.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use scim_model::json_writer::{Paging, user_list};
use scim_model::{EmployeeRecord, ListResponse, ManagerRef, User};

const BASE: &str = "https://acme.spark.work/scim/v2";

/// A hundred employees as `cargo xtask bench` generates them: every attribute set.
fn page() -> Vec<EmployeeRecord> {
    let when = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
    (0..100)
        .map(|n| EmployeeRecord {
            id: format!("0190b2f4-7c1e-7a51-9d3b-{n:012}"),
            email: format!("employee{n}@bench.example"),
            given_name: Some(format!("Given{n}")),
            family_name: Some(format!("Family{n}")),
            display_name: Some(format!("Given{n} Family{n}")),
            phone: Some(format!("+1 555 {n:07}")),
            title: Some("Software Engineer".to_owned()),
            department: Some("Engineering".to_owned()),
            employee_number: Some(format!("E{n:06}")),
            manager: Some(ManagerRef {
                id: "0190b2f4-7c1e-7a51-9d3b-000000000000".to_owned(),
                display_name: Some("Given0 Family0".to_owned()),
            }),
            active: n % 50 != 0,
            created: when,
            updated: when + chrono::Duration::microseconds(n * 1_001),
            version: n,
            external_id: Some(format!("hr-{n}")),
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let records = page();
    let serialised = |records: &[EmployeeRecord]| {
        let users: Vec<User> = records.iter().map(|r| r.to_scim_user(BASE)).collect();
        serde_json::to_vec(&ListResponse::new(users, 10_000, 101)).unwrap()
    };
    let written = |records: &[EmployeeRecord]| {
        user_list(records, BASE, 10_000, Paging::Index { start_index: 101 })
    };
    assert_eq!(serialised(&records), written(&records));
    c.bench_function("page of 100 users/serde", |b| {
        b.iter(|| serialised(black_box(&records)))
    });
    c.bench_function("page of 100 users/json_writer", |b| {
        b.iter(|| written(black_box(&records)))
    });
}

criterion_group!(page_benches, benches);
criterion_main!(page_benches);
