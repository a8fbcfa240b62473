//! Fuzz target for the SCIM filter language: whatever the bytes, parsing, validation,
//! evaluation and printing must not panic, and whatever parses must print to text that
//! parses back to the same tree.
//!
//! Run: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run filter -- -max_total_time=600`

#![no_main]

use libfuzzer_sys::fuzz_target;
use scim_filter::{Filter, Limits, Path, ValidatedFilter};
use scim_model::{GROUP_RESOURCE, USER_RESOURCE};

/// Room for the printed form of any accepted filter (printing adds spaces and may
/// lengthen numbers), while the depth limit stays the one accepted filters met.
const RELAXED: Limits = Limits {
    max_length: usize::MAX,
    max_depth: Limits::DEFAULT_MAX_DEPTH,
    max_terms: usize::MAX,
};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let user = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223", "userName": "bjensen@example.com", "active": true,
        "name": {"givenName": "Barbara", "familyName": "Jensen", "formatted": "Barbara Jensen"},
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, null, 5],
        "phoneNumbers": [{"value": "+1 555", "type": "work"}],
        "meta": {"created": "2011-05-13T04:42:34Z", "lastModified": "not a date",
                 "version": "W/\"1\"", "location": "https://x/Users/2819c223"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
            {"department": "Tours", "manager": {"value": "m1"}}
    });

    if let Ok(filter) = Filter::parse(input) {
        let printed = filter.to_string();
        match Filter::parse_with_limits(&printed, &RELAXED) {
            Ok(reparsed) => assert_eq!(reparsed, filter, "{input:?} printed as {printed:?}"),
            Err(e) => panic!("{input:?} printed as {printed:?}, which fails to parse: {e}"),
        }
        for resource in [&USER_RESOURCE, &GROUP_RESOURCE] {
            match ValidatedFilter::new(filter.clone(), resource) {
                Ok(validated) => {
                    let _ = validated.matches(&user);
                    let _ = validated.to_string();
                }
                Err(error) => {
                    let _ = scim_filter::FilterError::from(error).to_scim_error();
                }
            }
        }
    } else if let Err(error) = Filter::parse(input) {
        let _ = error.to_string();
        assert!(error.offset() <= input.len(), "{input:?}: {error:?}");
    }

    if let Ok(path) = Path::parse(input) {
        let printed = path.to_string();
        assert_eq!(
            Path::parse_with_limits(&printed, &RELAXED).ok(),
            Some(path.clone()),
            "{input:?} printed as {printed:?}"
        );
        if let Ok(validated) = path.validate(&USER_RESOURCE) {
            let _ = validated.select(&user);
        }
    }
    let _ = scim_filter::parse_sort_by(input, &USER_RESOURCE);
    if let Ok(paths) = scim_filter::parse_attribute_list(input) {
        let _ = scim_model::project(&USER_RESOURCE, &user, &paths, &paths);
    }
});
