//! Fuzz target for scim-api's request checks: whatever the bytes, read as the query
//! string of `GET /Users`, `GET /Groups` and `GET /Users/{id}`, and as the body of
//! `POST /Users/.search` and `POST /Groups/.search`, the checks the handlers run must not
//! panic; every refusal must be a well-formed SCIM Error with a 4xx status; what is
//! accepted must be normalised (a page size within the maximum, a start index of at
//! least 1), and no cursor made up by the input may verify.
//!
//! Run: `cargo xtask fuzz scim_query [SECONDS]`

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_api::ApiError;
use scim_api::fuzzing::{self, CheckedRequest, Paging, Resource};

/// The `scimType`s RFC 7644 §3.12 and RFC 9865 define.
const SCIM_TYPES: &[&str] = &[
    "invalidFilter",
    "tooMany",
    "uniqueness",
    "mutability",
    "invalidSyntax",
    "invalidPath",
    "noTarget",
    "invalidValue",
    "invalidVers",
    "sensitive",
    "invalidCursor",
    "expiredCursor",
];

fn assert_scim_error(error: &ApiError, input: &[u8]) {
    let body = error.body();
    let status = body.status_code();
    assert!(
        status.is_some_and(|s| (400..500).contains(&s)),
        "{input:?}: refused with status {:?}",
        body.status
    );
    let json = serde_json::to_value(body).expect("a SCIM Error serialises");
    assert_eq!(
        json["schemas"],
        serde_json::json!(["urn:ietf:params:scim:api:messages:2.0:Error"]),
        "{input:?}: {json}"
    );
    assert_eq!(
        json["status"].as_str().and_then(|s| s.parse::<u16>().ok()),
        status,
        "{input:?}: the status is a string: {json}"
    );
    assert!(
        json["detail"]
            .as_str()
            .is_some_and(|d| !d.trim().is_empty()),
        "{input:?}: a refusal says why: {json}"
    );
    if let Some(scim_type) = json.get("scimType") {
        assert!(
            scim_type.as_str().is_some_and(|t| SCIM_TYPES.contains(&t)),
            "{input:?}: unknown scimType: {json}"
        );
    }
}

fn assert_normalised(checked: &CheckedRequest, input: &[u8]) {
    assert!(
        checked.count <= fuzzing::max_page_size(),
        "{input:?}: {checked:?}"
    );
    match checked.paging {
        Paging::Index(start) => assert!(start >= 1, "{input:?}: {checked:?}"),
        Paging::FirstCursorPage => {}
        Paging::Cursor { verified } => {
            assert!(
                !verified,
                "{input:?}: a made-up cursor verified: {checked:?}"
            );
        }
    }
    if let Some(filter) = &checked.filter {
        assert!(!filter.trim().is_empty(), "{input:?}: {checked:?}");
    }
}

fn check(outcome: Result<CheckedRequest, ApiError>, input: &[u8]) {
    match outcome {
        Ok(checked) => assert_normalised(&checked, input),
        Err(error) => assert_scim_error(&error, input),
    }
}

fuzz_target!(|data: &[u8]| {
    // A query string reaches the handlers as text (the HTTP layer refuses a request line
    // that is not); percent-encoded bytes inside it may decode to anything.
    let query_string = String::from_utf8_lossy(data);
    for resource in [Resource::Users, Resource::Groups] {
        check(fuzzing::check_list(resource, &query_string), data);
        check(fuzzing::check_search(resource, data), data);
        if let Err(error) = fuzzing::check_get(resource, &query_string) {
            assert_scim_error(&error, data);
        }
    }
});
