//! A page written straight from the records is byte for byte the page serialised from
//! the resources, for any records: blank, missing, escaped and non-ASCII values, any
//! instant and version, any base URL and paging.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use scim_model::json_writer::{Paging, page_bytes, user, user_list, user_list_into};
use scim_model::{EmployeeRecord, ListResponse, ManagerRef, User};

/// Texts as employees' fields hold them: ordinary, blank, empty, with quotes,
/// backslashes and control characters, non-ASCII, and long enough to cross the
/// escaping check's 16-byte steps.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .@+-]{0,40}",
        Just(String::new()),
        Just("   ".to_owned()),
        Just("\u{b}\t".to_owned()),
        "[ \t\n\r\u{b}\u{c}\u{a0}\u{2003}]{1,4}",
        "[a-z \"\\\\\u{0}-\u{1f}\u{7f}é日/<>&']{0,40}",
        any::<String>(),
    ]
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (-62_000_000_000i64..260_000_000_000, 0u32..1_000_000_000).prop_map(|(seconds, nanos)| {
        Utc.timestamp_opt(seconds, nanos)
            .single()
            .unwrap_or_default()
    })
}

fn employee() -> impl Strategy<Value = EmployeeRecord> {
    let names = (
        text(),
        text(),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
    );
    let more = (
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of(text()),
        prop::option::of((text(), prop::option::of(text()))),
        any::<bool>(),
    );
    let times = (instant(), instant(), any::<i64>());
    (names, more, times).prop_map(
        |(
            (id, email, given_name, family_name, display_name, phone),
            (title, department, employee_number, external_id, manager, active),
            (created, updated, version),
        )| EmployeeRecord {
            id,
            email,
            given_name,
            family_name,
            display_name,
            phone,
            title,
            department,
            employee_number,
            manager: manager.map(|(id, display_name)| ManagerRef { id, display_name }),
            active,
            created,
            updated,
            version,
            external_id,
        },
    )
}

fn base_url() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("https://acme.spark.work/scim/v2".to_owned()),
        Just("https://acme.spark.work/scim/v2/".to_owned()),
        Just("http://acme.localhost:8081/scim/v2".to_owned()),
        "https://[a-z\"\\\\]{1,8}\\.spark\\.work/scim/v2",
    ]
}

fn paging() -> impl Strategy<Value = (Option<u64>, Option<String>)> {
    prop_oneof![
        any::<u64>().prop_map(|start| (Some(start), None)),
        prop::option::of(text()).prop_map(|cursor| (None, cursor)),
    ]
}

/// What serialising the resources writes.
fn serialised(records: &[EmployeeRecord], base: &str, total: u64, paging: Paging<'_>) -> Vec<u8> {
    let users: Vec<User> = records.iter().map(|r| r.to_scim_user(base)).collect();
    let list = match paging {
        Paging::Index { start_index } => ListResponse::new(users, total, start_index),
        Paging::Cursor { next_cursor } => {
            ListResponse::with_cursors(users, total, next_cursor.map(str::to_owned), None)
        }
    };
    serde_json::to_vec(&list).unwrap()
}

/// The paging of `startIndex`, or else of the next cursor.
fn paging_of(start_index: Option<u64>, next_cursor: Option<&str>) -> Paging<'_> {
    match start_index {
        Some(start_index) => Paging::Index { start_index },
        None => Paging::Cursor { next_cursor },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn a_written_page_is_the_serialised_page(
        records in prop::collection::vec(employee(), 0..4),
        base in base_url(),
        total in any::<u64>(),
        (start_index, next_cursor) in paging(),
    ) {
        let paging = paging_of(start_index, next_cursor.as_deref());
        let expected = serialised(&records, &base, total, paging);
        let actual = user_list(&records, &base, total, paging);
        prop_assert_eq!(
            String::from_utf8_lossy(&actual),
            String::from_utf8_lossy(&expected)
        );
    }

    #[test]
    fn a_written_user_is_the_serialised_user(record in employee(), base in base_url()) {
        let expected = serde_json::to_vec(&record.to_scim_user(&base)).unwrap();
        let actual = user(&record, &base);
        prop_assert_eq!(
            String::from_utf8_lossy(&actual),
            String::from_utf8_lossy(&expected)
        );
    }
}

#[test]
fn a_full_page_of_realistic_employees_is_the_serialised_page() {
    let when = Utc.with_ymd_and_hms(2026, 3, 1, 9, 30, 0).unwrap();
    let records: Vec<EmployeeRecord> = (0..100)
        .map(|n| EmployeeRecord {
            id: format!("0190b2f4-7c1e-7a51-9d3b-{n:012}"),
            email: format!("employee{n}@acme.example"),
            given_name: Some(format!("Given{n}")),
            family_name: (n % 3 != 0).then(|| format!("Family {n}")),
            display_name: (n % 5 == 0).then(|| format!("Display \"{n}\"")),
            phone: (n % 2 == 0).then(|| "+1 555 0100".to_owned()),
            title: Some("Engineer".to_owned()),
            department: (n % 7 != 0).then(|| "Engineering".to_owned()),
            employee_number: Some(n.to_string()),
            manager: (n > 0).then(|| ManagerRef {
                id: "0190b2f4-7c1e-7a51-9d3b-000000000000".to_owned(),
                display_name: Some("Boss".to_owned()),
            }),
            active: n % 50 != 0,
            created: when,
            updated: when + chrono::Duration::microseconds(n * 1_001),
            version: n,
            external_id: None,
        })
        .collect();
    let base = "https://acme.spark.work/scim/v2";
    for (start_index, cursor) in [(Some(101), None), (None, Some("c1")), (None, None)] {
        let paging = paging_of(start_index, cursor);
        let expected = String::from_utf8(serialised(&records, base, 12_345, paging)).unwrap();
        assert_eq!(
            String::from_utf8(user_list(&records, base, 12_345, paging)).unwrap(),
            expected
        );
        // Written into a buffer the caller sized for the page, it stays in that buffer.
        let mut buffer = Vec::with_capacity(page_bytes(records.len()));
        let allocated = buffer.as_ptr();
        user_list_into(&mut buffer, &records, base, 12_345, paging);
        assert_eq!(buffer.as_ptr(), allocated, "the page outgrew its buffer");
        assert_eq!(String::from_utf8(buffer).unwrap(), expected);
    }
}
