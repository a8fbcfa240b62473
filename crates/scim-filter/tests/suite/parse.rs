//! Parsing: every RFC 7644 §3.4.2.2 example, precedence and grouping, literals, paths.
//! Snapshots are compact tree dumps; update them with
//! `UPDATE_EXPECT=1 cargo test -p scim-filter`.

use crate::common::{parse, sx, sx_path};
use expect_test::{Expect, expect};
use scim_filter::{AttrPath, CompValue, CompareOp, Filter, Path};

fn check(input: &str, expected: Expect) {
    check_ref(input, &expected);
}

fn check_ref(input: &str, expected: &Expect) {
    let filter = parse(input);
    expected.assert_eq(&sx(&filter));
    // Display round-trips.
    let printed = filter.to_string();
    assert_eq!(parse(&printed), filter, "{input:?} printed as {printed:?}");
}

/// RFC 7644 §3.4.2.2, Figure 2 and the surrounding text: every example filter.
#[test]
fn rfc_7644_examples() {
    let cases: &[(&str, Expect)] = &[
        (
            r#"userName eq "bjensen""#,
            expect![[r#"(eq userName "bjensen")"#]],
        ),
        (
            r#"userName Eq "john""#,
            expect![[r#"(eq userName "john")"#]],
        ),
        (
            r#"Username eq "john""#,
            expect![[r#"(eq Username "john")"#]],
        ),
        (
            r#"name.familyName co "O'Malley""#,
            expect![[r#"(co name.familyName "O'Malley")"#]],
        ),
        (r#"userName sw "J""#, expect![[r#"(sw userName "J")"#]]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            expect![[r#"(sw urn:ietf:params:scim:schemas:core:2.0:User:userName "J")"#]],
        ),
        ("title pr", expect!["(pr title)"]),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            expect![[r#"(gt meta.lastModified "2011-05-13T04:42:34Z")"#]],
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            expect![[r#"(ge meta.lastModified "2011-05-13T04:42:34Z")"#]],
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            expect![[r#"(lt meta.lastModified "2011-05-13T04:42:34Z")"#]],
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            expect![[r#"(le meta.lastModified "2011-05-13T04:42:34Z")"#]],
        ),
        (
            r#"title pr and userType eq "Employee""#,
            expect![[r#"(and (pr title) (eq userType "Employee"))"#]],
        ),
        (
            r#"title pr or userType eq "Intern""#,
            expect![[r#"(or (pr title) (eq userType "Intern"))"#]],
        ),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            expect![[
                r#"(eq schemas "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")"#
            ]],
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            expect![[
                r#"(and (eq userType "Employee") (or (co emails "example.com") (co emails.value "example.org")))"#
            ]],
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            expect![[
                r#"(and (ne userType "Employee") (not (or (co emails "example.com") (co emails.value "example.org"))))"#
            ]],
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            expect![[r#"(and (eq userType "Employee") (eq emails.type "work"))"#]],
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            expect![[
                r#"(and (eq userType "Employee") (emails[] (and (eq type "work") (co value "@example.com"))))"#
            ]],
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            expect![[
                r#"(or (emails[] (and (eq type "work") (co value "@example.com"))) (ims[] (and (eq type "xmpp") (co value "@foo.com"))))"#
            ]],
        ),
        // RFC 7644 §3.4.3 (POST /.search body).
        (
            r#"displayName sw "smith""#,
            expect![[r#"(sw displayName "smith")"#]],
        ),
    ];
    for (input, expected) in cases {
        check_ref(input, expected);
    }
}

#[test]
fn precedence_not_over_and_over_or() {
    check(
        "a pr or b pr and c pr",
        expect!["(or (pr a) (and (pr b) (pr c)))"],
    );
    check(
        "a pr and b pr or c pr",
        expect!["(or (and (pr a) (pr b)) (pr c))"],
    );
    check(
        "a pr and b pr or c pr and d pr or e pr",
        expect!["(or (and (pr a) (pr b)) (and (pr c) (pr d)) (pr e))"],
    );
    check("not (a pr) and b pr", expect!["(and (not (pr a)) (pr b))"]);
    check(
        "not (a pr or b pr) or c pr",
        expect!["(or (not (or (pr a) (pr b))) (pr c))"],
    );
}

#[test]
fn grouping_shapes_the_tree() {
    check(
        "(a pr or b pr) and c pr",
        expect!["(and (or (pr a) (pr b)) (pr c))"],
    );
    check(
        "a pr and (b pr or c pr)",
        expect!["(and (pr a) (or (pr b) (pr c)))"],
    );
    // Redundant parentheses around a chain keep it as a nested node, so Display can
    // reproduce the exact tree.
    check(
        "a pr and (b pr and c pr)",
        expect!["(and (pr a) (and (pr b) (pr c)))"],
    );
    check(
        "(a pr and b pr) and c pr",
        expect!["(and (and (pr a) (pr b)) (pr c))"],
    );
    check(
        "a pr or (b pr or c pr)",
        expect!["(or (pr a) (or (pr b) (pr c)))"],
    );
    // Parentheses around a single term vanish.
    check("((((a pr))))", expect!["(pr a)"]);
    check(
        "a pr or (b pr and c pr)",
        expect!["(or (pr a) (and (pr b) (pr c)))"],
    );
    // Errata: grouping and `not` inside a value filter; `not(` without a space.
    check(
        r#"emails[type eq "work" or (type eq "home" and not(value ew "@example.com"))]"#,
        expect![[
            r#"(emails[] (or (eq type "work") (and (eq type "home") (not (ew value "@example.com")))))"#
        ]],
    );
}

#[test]
fn display_is_canonical() {
    let cases = [
        (r#"userName  EQ   "a@b.com""#, r#"userName eq "a@b.com""#),
        ("A pr AND b pr Or NOT(c pr)", "A pr and b pr or not (c pr)"),
        ("(a pr or b pr) and c pr", "(a pr or b pr) and c pr"),
        ("a pr or (b pr and c pr)", "a pr or b pr and c pr"),
        ("a pr and (b pr and c pr)", "a pr and (b pr and c pr)"),
        (
            "x eq TRUE and y eq False or z eq NULL",
            "x eq true and y eq false or z eq null",
        ),
        (r#"x eq "\u00e9\/\t""#, "x eq \"é/\\t\""),
        (
            "n ge 1.50 and m lt -2E3 and k eq 10",
            "n ge 1.5 and m lt -2000.0 and k eq 10",
        ),
        (
            "\temails[ type eq \"work\" ]\n",
            r#"emails[type eq "work"]"#,
        ),
    ];
    for (input, printed) in cases {
        assert_eq!(parse(input).to_string(), printed, "{input:?}");
    }
}

#[test]
fn operators_and_keywords_in_any_case() {
    for op in CompareOp::ALL {
        for spelling in [
            op.as_str().to_owned(),
            op.as_str().to_uppercase(),
            format!("{}{}", &op.as_str()[..1].to_uppercase(), &op.as_str()[1..]),
        ] {
            let filter = parse(&format!(r#"userName {spelling} "x""#));
            assert_eq!(
                filter,
                Filter::Compare {
                    path: AttrPath::new("userName"),
                    op,
                    value: CompValue::String("x".into())
                }
            );
        }
    }
    assert_eq!(parse("title PR"), parse("title pr"));
    assert_eq!(
        parse("a pr AnD b pr oR NoT (c pr)"),
        parse("a pr and b pr or not (c pr)")
    );
}

#[test]
fn literals() {
    let value = |input: &str| match parse(&format!("x eq {input}")) {
        Filter::Compare { value, .. } => value,
        other => panic!("{other:?}"),
    };
    assert_eq!(value("true"), CompValue::Bool(true));
    assert_eq!(value("FALSE"), CompValue::Bool(false));
    assert_eq!(value("null"), CompValue::Null);
    assert_eq!(value("42"), CompValue::Number(42.into()));
    assert_eq!(value("-7"), CompValue::Number((-7).into()));
    assert_eq!(
        value("1.5e-3"),
        CompValue::Number(serde_json::Number::from_f64(0.0015).unwrap())
    );
    assert_eq!(
        value("18446744073709551615"),
        CompValue::Number(u64::MAX.into())
    );
    assert_eq!(
        value(r#""\"\\\/\b\f\n\r\t\u0041\u00e9\ud83d\ude00""#),
        CompValue::String("\"\\/\u{8}\u{c}\n\r\tAé😀".into())
    );
    assert_eq!(value(r#""""#), CompValue::String(String::new()));
    // Floats are read correctly rounded, so printing and re-reading is exact.
    for text in [
        "3.093494493245543e-299",
        "-6.8754244130937e-92",
        "0.1",
        "1e300",
    ] {
        let parsed = value(text);
        assert_eq!(value(&parsed.to_string()), parsed, "{text}");
        assert_eq!(
            parsed,
            CompValue::Number(serde_json::Number::from_f64(text.parse().unwrap()).unwrap())
        );
    }
    assert_eq!(value("\"日本語\""), CompValue::String("日本語".into()));
}

#[test]
fn attribute_paths() {
    check(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Tours\"",
        expect![[
            r#"(eq urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department "Tours")"#
        ]],
    );
    check(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref pr",
        expect!["(pr urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref)"],
    );
    let Filter::Present(path) =
        parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName pr")
    else {
        panic!()
    };
    assert_eq!(
        path,
        AttrPath::new("name")
            .with_sub_attr("givenName")
            .with_urn("urn:ietf:params:scim:schemas:core:2.0:User")
    );
}

#[test]
fn value_path_selection() {
    let cases: &[(&str, Expect)] = &[
        ("members", expect!["(path members)"]),
        ("name.familyName", expect!["(path name.familyName)"]),
        (
            r#"emails[type eq "work"]"#,
            expect![[r#"(path emails[(eq type "work")])"#]],
        ),
        (
            r#"emails[type eq "work"].value"#,
            expect![[r#"(path emails[(eq type "work")].value)"#]],
        ),
        (
            r#"members[value eq "2819c223-7f76-453a-919d-413861904646"].display"#,
            expect![[
                r#"(path members[(eq value "2819c223-7f76-453a-919d-413861904646")].display)"#
            ]],
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work" or primary eq true].value"#,
            expect![[
                r#"(path urn:ietf:params:scim:schemas:core:2.0:User:emails[(or (eq type "work") (eq primary true))].value)"#
            ]],
        ),
    ];
    for (input, expected) in cases {
        let path: Path = input.parse().unwrap();
        expected.assert_eq(&sx_path(&path));
        assert_eq!(path.to_string().parse::<Path>().unwrap(), path);
        assert_eq!(&path.to_string(), input);
    }
    // In a filter, `].value` is not allowed (that is PATH grammar only).
    assert_eq!(
        crate::common::parse_err(r#"emails[type eq "work"].value eq "x""#),
        "expected `and`, `or` or the end of the filter at offset 22, found `.value`"
    );
}

#[test]
fn attribute_lists() {
    let list = scim_filter::parse_attribute_list(
        "userName, name.givenName ,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,",
    )
    .unwrap();
    assert_eq!(
        list.iter().map(ToString::to_string).collect::<Vec<_>>(),
        [
            "userName",
            "name.givenName",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
        ]
    );
    assert_eq!(
        scim_filter::parse_attr_path("  meta.lastModified ").unwrap(),
        AttrPath::new("meta").with_sub_attr("lastModified")
    );
}
