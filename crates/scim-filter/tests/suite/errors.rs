//! Every class of malformed input yields a positioned, actionable error, and the limits
//! hold against hostile input. Update snapshots with `UPDATE_EXPECT=1`.

use crate::common::parse_err;
use expect_test::{Expect, expect};
use scim_filter::{Filter, Limits, ParseError, ValidatedFilter};
use scim_model::{ScimType, USER_RESOURCE};

fn check(input: &str, expected: Expect) {
    expected.assert_eq(&parse_err(input));
}

#[test]
fn empty_input() {
    check(
        "",
        expect![[
            r#"the filter is empty; expected an expression such as `userName eq "jane@example.com"`"#
        ]],
    );
    check(
        "  \t ",
        expect![[
            r#"the filter is empty; expected an expression such as `userName eq "jane@example.com"`"#
        ]],
    );
    check(
        "()",
        expect![
            "expected an attribute name (e.g. `userName`), `not (` or `(` at offset 1, found `)`"
        ],
    );
}

#[test]
fn unterminated_strings() {
    check(
        r#"userName eq "bjensen"#,
        expect![[r#"the string starting at offset 12 is never closed; end it with `"`"#]],
    );
    check(
        r#"userName eq "bjensen\"#,
        expect![[r#"the string starting at offset 20 is never closed; end it with `"`"#]],
    );
    check(
        r#"userName eq "a\""#,
        expect![[r#"the string starting at offset 12 is never closed; end it with `"`"#]],
    );
}

#[test]
fn bad_escapes_and_control_characters() {
    check(
        r#"userName eq "a\qb""#,
        expect![[
            r#"invalid escape `\q` in string at offset 14; valid escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#
        ]],
    );
    check(
        r#"userName eq "\u00g1""#,
        expect![[
            r#"invalid escape `\u00g1` in string at offset 13; valid escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#
        ]],
    );
    check(
        r#"userName eq "\ud800""#,
        expect![[
            r#"invalid escape `\ud800"` in string at offset 13; valid escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#
        ]],
    );
    check(
        "userName eq \"a\tb\"",
        expect![[
            r#"control character U+0009 in string at offset 14 must be escaped, e.g. as \u0009"#
        ]],
    );
}

#[test]
fn unknown_operators() {
    check(
        r#"userName equals "x""#,
        expect![
            "unknown operator `equals` at offset 9; use one of eq, ne, co, sw, ew, gt, ge, lt, le, pr"
        ],
    );
    check(
        r#"userName = "x""#,
        expect!["unexpected character '=' at offset 9"],
    );
    check(
        r#"userName "x""#,
        expect![[
            r#"expected an operator: eq, ne, co, sw, ew, gt, ge, lt, le or pr at offset 9, found `"x"`"#
        ]],
    );
    check(
        "userName",
        expect![
            "expected an operator: eq, ne, co, sw, ew, gt, ge, lt, le or pr at offset 8, found the end of the input"
        ],
    );
}

#[test]
fn missing_or_malformed_values() {
    check(
        "userName eq",
        expect![[
            r#"expected a value: a "double-quoted string", a number, true, false or null at offset 11, found the end of the input"#
        ]],
    );
    check(
        "userName eq bjensen",
        expect![[
            r#"expected a value: a "double-quoted string", a number, true, false or null at offset 12, found `bjensen`"#
        ]],
    );
    check(
        "loginCount gt 01",
        expect!["invalid number `01` at offset 14; use JSON number syntax, e.g. 42 or -1.5e3"],
    );
    check(
        "loginCount gt 1e999",
        expect!["invalid number `1e999` at offset 14; use JSON number syntax, e.g. 42 or -1.5e3"],
    );
    check(
        r#"title pr "x""#,
        expect![[r#"expected `and`, `or` or the end of the filter at offset 9, found `"x"`"#]],
    );
}

#[test]
fn dangling_logical_operators() {
    check(
        r#"userName eq "x" and"#,
        expect![
            "expected an attribute name (e.g. `userName`), `not (` or `(` at offset 19, found the end of the input"
        ],
    );
    check(
        r#"userName eq "x" or"#,
        expect![
            "expected an attribute name (e.g. `userName`), `not (` or `(` at offset 18, found the end of the input"
        ],
    );
    check(
        "and title pr",
        expect![
            "expected an attribute name (e.g. `userName`), `not (` or `(` at offset 0, found `and`"
        ],
    );
    check(
        "title pr and or userName pr",
        expect![
            "expected an attribute name (e.g. `userName`), `not (` or `(` at offset 13, found `or`"
        ],
    );
    check(
        "title pr userName pr",
        expect!["expected `and`, `or` or the end of the filter at offset 9, found `userName`"],
    );
    check(
        "not title pr",
        expect!["expected `(` after `not`, as in `not (title pr)` at offset 4, found `title`"],
    );
    check(
        "not",
        expect![
            "expected `(` after `not`, as in `not (title pr)` at offset 3, found the end of the input"
        ],
    );
}

#[test]
fn unbalanced_parentheses_and_brackets() {
    check(
        "(title pr",
        expect!["unbalanced parentheses: the `(` at offset 0 is never closed"],
    );
    check(
        "((title pr) and userName pr",
        expect!["unbalanced parentheses: the `(` at offset 0 is never closed"],
    );
    check(
        "title pr)",
        expect!["unbalanced parentheses: `)` at offset 8 has no matching opening `(`"],
    );
    check(
        "not (title pr",
        expect!["unbalanced parentheses: the `(` at offset 4 is never closed"],
    );
    check(
        r#"emails[type eq "work""#,
        expect!["unbalanced brackets: the `[` at offset 6 is never closed"],
    );
    check(
        "title pr]",
        expect!["unbalanced brackets: `]` at offset 8 has no matching opening `[`"],
    );
    check(
        r#"(emails[type eq "work")]"#,
        expect!["unbalanced parentheses: `)` at offset 22 has no matching opening `(`"],
    );
    check(
        r#"emails[(type eq "work"])"#,
        expect!["unbalanced brackets: `]` at offset 22 has no matching opening `[`"],
    );
    check(
        r#"emails[type[value pr]]"#,
        expect!["value filters cannot be nested: unexpected `[` at offset 11 inside `[…]`"],
    );
}

#[test]
fn malformed_paths() {
    check(
        "name.given.name pr",
        expect![
            "invalid attribute path `name.given.name`: attribute path has more than one `.` (at offset 10); SCIM paths have at most one sub-attribute, e.g. `name.givenName`"
        ],
    );
    check(
        "name. pr",
        expect![
            "invalid attribute path `name.`: expected an attribute name starting with a letter at offset 5"
        ],
    );
    check(
        "urn:x: pr",
        expect![
            "invalid attribute path `urn:x:`: expected an attribute name starting with a letter at offset 6"
        ],
    );
    check(
        ":x pr",
        expect!["invalid attribute path `:x`: empty schema URN before `:` at offset 0"],
    );
    check("é pr", expect!["unexpected character 'é' at offset 0"]);
}

#[test]
fn overlong_input() {
    let long = format!(r#"userName eq "{}""#, "a".repeat(5000));
    check(
        &long,
        expect!["the input is 5014 bytes long; the limit is 4096 bytes"],
    );
    let at_limit = format!(r#"userName eq "{}""#, "a".repeat(4096 - 14));
    assert_eq!(at_limit.len(), 4096);
    assert!(Filter::parse(&at_limit).is_ok());
    let relaxed = Limits {
        max_length: 10_000,
        ..Limits::DEFAULT
    };
    assert!(Filter::parse_with_limits(&long, &relaxed).is_ok());
}

fn deep(open: &str, close: &str, levels: usize) -> String {
    format!("{}title pr{}", open.repeat(levels), close.repeat(levels))
}

#[test]
fn ten_thousand_nested_parentheses() {
    let input = deep("(", ")", 10_000);
    let relaxed = Limits {
        max_length: usize::MAX,
        ..Limits::DEFAULT
    };
    assert_eq!(
        Filter::parse_with_limits(&input, &relaxed),
        Err(ParseError::TooDeep {
            offset: 32,
            max: 32
        })
    );
    check(
        &deep("(", ")", 33),
        expect![
            "parentheses, `not (` and `[` are nested more than 32 levels deep at offset 32; simplify the filter"
        ],
    );
    assert!(Filter::parse(&deep("(", ")", 32)).is_ok());
}

#[test]
fn ten_thousand_nots() {
    let input = deep("not (", ")", 10_000);
    let relaxed = Limits {
        max_length: usize::MAX,
        ..Limits::DEFAULT
    };
    assert_eq!(
        Filter::parse_with_limits(&input, &relaxed),
        Err(ParseError::TooDeep {
            offset: 160,
            max: 32
        })
    );
    let ok = Filter::parse(&deep("not (", ")", 32)).unwrap();
    assert_eq!(ok.depth(), 32);
    assert_eq!(ok.to_string().parse::<Filter>().unwrap(), ok);
}

#[test]
fn ten_thousand_unclosed_and_mixed_openers() {
    let relaxed = Limits {
        max_length: usize::MAX,
        ..Limits::DEFAULT
    };
    for input in [
        "(".repeat(10_000),
        "not (".repeat(10_000),
        "(not (".repeat(5_000) + "a pr",
        "a[".repeat(10_000),
        ")".repeat(10_000),
    ] {
        let error = Filter::parse_with_limits(&input, &relaxed).unwrap_err();
        assert!(
            matches!(
                error,
                ParseError::TooDeep { .. }
                    | ParseError::NestedValuePath { .. }
                    | ParseError::Unexpected { .. }
            ),
            "{error}"
        );
    }
}

/// Whatever the configured depth, it is capped so that recursion stays small: parse,
/// validate, evaluate, clone, print and drop the deepest accepted filter on a 256 KiB stack
/// (threads get 2 MiB by default).
#[test]
fn hard_depth_cap_is_stack_safe() {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let limits = Limits {
                max_length: usize::MAX,
                max_depth: usize::MAX,
                max_terms: usize::MAX,
            };
            let cap = Limits::HARD_MAX_DEPTH;
            let too_deep = deep("not (", ")", 10_000);
            assert!(matches!(
                Filter::parse_with_limits(&too_deep, &limits),
                Err(ParseError::TooDeep { max, .. }) if max == cap
            ));
            let deepest = deep("not (", ")", cap);
            let filter = Filter::parse_with_limits(&deepest, &limits).unwrap();
            let validated = ValidatedFilter::new(filter.clone(), &USER_RESOURCE).unwrap();
            let _ = validated.matches(&serde_json::json!({"title": "x"}));
            assert_eq!(filter.to_string(), deepest);
            assert_eq!(filter.clone(), filter);
            drop(validated);
        })
        .unwrap();
    handle.join().unwrap();
}

#[test]
fn hand_built_trees_deeper_than_the_cap_are_rejected_by_validation() {
    let mut filter = Filter::Present("title".parse().unwrap());
    for _ in 0..(Limits::HARD_MAX_DEPTH + 1) {
        filter = Filter::Not(Box::new(filter));
    }
    let error = ValidatedFilter::new(filter, &USER_RESOURCE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the filter nests 65 levels deep; at most 64 are supported"
    );
}

#[test]
fn too_many_terms() {
    let terms = |n: usize| vec!["title pr"; n].join(" or ");
    assert!(Filter::parse(&terms(100)).is_ok());
    check(
        &terms(101),
        expect!["the filter has more than 100 comparisons (the one at offset 1200 is too many)"],
    );
    let inner = format!("emails[{}]", vec!["type pr"; 101].join(" and "));
    assert!(matches!(
        Filter::parse(&inner),
        Err(ParseError::TooManyTerms { max: 100, .. })
    ));
}

#[test]
fn errors_map_to_invalid_filter() {
    let error = ValidatedFilter::parse(r#"userName eq "x" and"#, &USER_RESOURCE).unwrap_err();
    assert_eq!(error.scim_type(), ScimType::InvalidFilter);
    let body = serde_json::to_value(error.to_scim_error()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400",
            "scimType": "invalidFilter",
            "detail": "invalid filter: expected an attribute name (e.g. `userName`), `not (` or `(` at offset 19, found the end of the input"
        })
    );
}

#[test]
fn error_offsets_point_at_the_problem() {
    for (input, offset) in [
        (r#"userName eq "x" and"#, 19),
        (r#"userName xx "x""#, 9),
        ("(a pr", 0),
        (r#"a eq "\q""#, 6),
        ("a.b.c pr", 3),
        ("urn:a:b.c.d pr", 9),
    ] {
        assert_eq!(
            Filter::parse(input).unwrap_err().offset(),
            offset,
            "{input}"
        );
    }
}
