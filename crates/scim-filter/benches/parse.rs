//! Parser and evaluator benchmarks: `cargo bench -p scim-filter`.
//!
//! Targets (issue #3): parsing `userName eq "bjensen@example.com"` under 1 µs and a
//! 20-term filter under 10 µs.

// Benchmark code may unwrap: a failure here is a bug in the fixture.
#![allow(clippy::unwrap_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scim_filter::{Filter, ValidatedFilter};
use scim_model::USER_RESOURCE;
use serde_json::json;

const SIMPLE: &str = r#"userName eq "bjensen@example.com""#;

/// Twenty comparisons mixing every operator, grouping, `not`, a value path, an extension
/// attribute and date-times.
const TWENTY_TERMS: &str = concat!(
    r#"userName eq "bjensen@example.com" and active eq true and "#,
    r#"(title sw "Tour" or title ew "Guide" or title co "Lead") and "#,
    r#"name.familyName ne "O'Malley" and name.familyName sw "J" and name.givenName pr and "#,
    r#"meta.lastModified gt "2011-05-13T04:42:34Z" and meta.created le "2030-01-01T00:00:00Z" and "#,
    r#"emails[type eq "work" and value co "@example.com" and primary eq true] and "#,
    r#"not (displayName eq "Nobody" or externalId pr) and "#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Tours" and "#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr and "#,
    r#"phoneNumbers.value sw "+1" and id ne "x" and "#,
    r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#
);

fn benches(c: &mut Criterion) {
    assert_eq!(Filter::parse(TWENTY_TERMS).unwrap().terms(), 20);
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "title": "Tour Guide",
        "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+1 555", "type": "work"}],
        "meta": {"created": "2011-01-01T00:00:00Z", "lastModified": "2024-01-01T00:00:00Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "department": "Tours", "manager": {"value": "m1"}
        }
    });

    c.bench_function("parse simple", |b| {
        b.iter(|| Filter::parse(black_box(SIMPLE)).unwrap());
    });
    c.bench_function("parse 20 terms", |b| {
        b.iter(|| Filter::parse(black_box(TWENTY_TERMS)).unwrap());
    });
    c.bench_function("parse+validate simple", |b| {
        b.iter(|| ValidatedFilter::parse(black_box(SIMPLE), &USER_RESOURCE).unwrap());
    });
    c.bench_function("parse+validate 20 terms", |b| {
        b.iter(|| ValidatedFilter::parse(black_box(TWENTY_TERMS), &USER_RESOURCE).unwrap());
    });
    let simple = ValidatedFilter::parse(SIMPLE, &USER_RESOURCE).unwrap();
    let twenty = ValidatedFilter::parse(TWENTY_TERMS, &USER_RESOURCE).unwrap();
    assert!(twenty.matches(&user));
    c.bench_function("evaluate simple", |b| {
        b.iter(|| simple.matches(black_box(&user)));
    });
    c.bench_function("evaluate 20 terms", |b| {
        b.iter(|| twenty.matches(black_box(&user)));
    });
    let filter = Filter::parse(TWENTY_TERMS).unwrap();
    c.bench_function("display 20 terms", |b| {
        b.iter(|| black_box(&filter).to_string());
    });
}

criterion_group!(parse, benches);
criterion_main!(parse);
