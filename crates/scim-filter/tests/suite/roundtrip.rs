//! Property tests: random syntax trees print and parse back to themselves, and arbitrary
//! input never panics the parser.

use proptest::prelude::*;
use proptest::sample::select;
use scim_filter::{AttrPath, CompValue, CompareOp, Filter, Limits, Path, ValidatedFilter};
use scim_model::USER_RESOURCE;

const FIRST: &[char] = &[
    'a', 'b', 'e', 'm', 'n', 'o', 't', 'u', 'v', 'x', 'A', 'E', 'N', 'O', 'T', 'U',
];
const REST: &[char] = &[
    'a', 'd', 'e', 'm', 'n', 'o', 'r', 's', 't', 'A', 'N', 'R', '0', '1', '9', '-', '_',
];

/// A generous limit set: these tests are about the grammar, not the limits.
const RELAXED: Limits = Limits {
    max_length: usize::MAX,
    max_depth: Limits::HARD_MAX_DEPTH,
    max_terms: usize::MAX,
};

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        9 => (select(FIRST), proptest::collection::vec(select(REST), 0..6)).prop_map(
            |(first, rest)| std::iter::once(first).chain(rest).collect::<String>()
        ),
        1 => Just("$ref".to_owned()),
    ]
    .prop_filter("keywords are not attribute names", |name| {
        !["and", "or", "not"]
            .iter()
            .any(|keyword| name.eq_ignore_ascii_case(keyword))
    })
}

fn urn() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("urn:ietf:params:scim:schemas:core:2.0:User".to_owned()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
        attr_name().prop_map(|name| format!("urn:example:{name}:1.0")),
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (
        proptest::option::weighted(0.2, urn()),
        attr_name(),
        proptest::option::weighted(0.3, attr_name()),
    )
        .prop_map(|(urn, name, sub_attr)| AttrPath {
            urn,
            name,
            sub_attr,
        })
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|i| CompValue::Number(i.into())),
        any::<u64>().prop_map(|u| CompValue::Number(u.into())),
        any::<f64>().prop_filter_map("finite", |f| {
            serde_json::Number::from_f64(f).map(CompValue::Number)
        }),
        any::<String>().prop_map(CompValue::String),
        select(
            &[
                "",
                "O'Malley",
                "a\"b\\c",
                "\u{0}\u{1f}\t\n",
                "é😀",
                "\\u0041"
            ][..]
        )
        .prop_map(|s| CompValue::String(s.to_owned())),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        3 => (attr_path(), select(&CompareOp::ALL[..]), comp_value())
            .prop_map(|(path, op, value)| Filter::Compare { path, op, value }),
        1 => attr_path().prop_map(Filter::Present),
    ]
}

fn combine(inner: impl Strategy<Value = Filter> + Clone) -> impl Strategy<Value = Filter> {
    prop_oneof![
        inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
        proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
        proptest::collection::vec(inner, 2..4).prop_map(Filter::Or),
    ]
}

/// Filters without value paths (what may appear inside `[…]`).
fn value_filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 16, 3, combine)
}

/// Any filter: value paths may appear anywhere outside another value path.
fn filter() -> impl Strategy<Value = Filter> {
    prop_oneof![
        3 => leaf(),
        1 => (attr_path(), value_filter()).prop_map(|(path, filter)| Filter::ValuePath {
            path,
            filter: Box::new(filter),
        }),
    ]
    .prop_recursive(3, 24, 3, combine)
}

fn path() -> impl Strategy<Value = Path> {
    prop_oneof![
        attr_path().prop_map(Path::Attribute),
        (
            attr_path(),
            value_filter(),
            proptest::option::of(attr_name())
        )
            .prop_map(|(path, filter, sub_attr)| Path::ValuePath {
                path,
                filter,
                sub_attr,
            }),
    ]
}

/// Character soup biased towards filter syntax, to reach deep into the parser.
fn filterish() -> impl Strategy<Value = String> {
    let pieces = select(
        &[
            "userName",
            "emails",
            "name.givenName",
            " ",
            " eq ",
            " pr",
            " and ",
            " or ",
            "not",
            "(",
            ")",
            "[",
            "]",
            "\"x\"",
            "\"\\u00e9\"",
            "\"\\",
            "1",
            "-2.5e3",
            "true",
            "null",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            ".",
            "type",
            "value",
            "\"",
        ][..],
    );
    proptest::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

proptest! {
    // 2000 cases by default; `PROPTEST_CASES=100000` for a longer run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn filters_round_trip_through_display(filter in filter()) {
        let text = filter.to_string();
        let parsed = Filter::parse_with_limits(&text, &RELAXED);
        prop_assert_eq!(parsed.as_ref(), Ok(&filter), "printed as {}", text);
        prop_assert_eq!(filter.depth(), parsed.map(|f| f.depth()).unwrap_or(usize::MAX));
    }

    #[test]
    fn paths_round_trip_through_display(path in path()) {
        let text = path.to_string();
        prop_assert_eq!(Path::parse_with_limits(&text, &RELAXED), Ok(path), "printed as {}", text);
    }

    #[test]
    fn arbitrary_input_never_panics(input in prop_oneof![any::<String>(), filterish()]) {
        if let Ok(filter) = Filter::parse(&input) {
            // Whatever parses prints canonically and re-parses to the same tree.
            let text = filter.to_string();
            prop_assert_eq!(Filter::parse_with_limits(&text, &RELAXED), Ok(filter.clone()));
            if let Ok(validated) = ValidatedFilter::new(filter, &USER_RESOURCE) {
                let _ = validated.matches(&serde_json::json!({"userName": "x", "emails": [{"value": "y"}]}));
            }
        }
        let _ = Path::parse(&input);
        let _ = scim_filter::parse_attribute_list(&input);
    }
}
