//! Validation against schema descriptions, and in-memory evaluation.

use crate::common::RFC_USER;
use chrono::{TimeZone, Utc};
use expect_test::{Expect, expect};
use scim_filter::{Expr, Filter, FilterError, TypedValue, ValidatedFilter};
use scim_model::{EmployeeRecord, ManagerRef, ResourceSchema, ScimType, USER_RESOURCE};
use serde_json::{Value, json};

fn validate(
    input: &str,
    resource: &'static ResourceSchema,
) -> Result<ValidatedFilter, FilterError> {
    ValidatedFilter::parse(input, resource)
}

fn check_err(input: &str, scim_type: ScimType, expected: Expect) {
    let error = validate(input, &USER_RESOURCE)
        .map(|f| f.to_string())
        .unwrap_err();
    expected.assert_eq(&error.to_string());
    assert_eq!(error.scim_type(), scim_type, "{input}");
}

/// A compact dump of a validated tree: canonical paths, flags, typed values.
fn dump(expr: &Expr) -> String {
    let attr = |a: &scim_model::ResolvedAttribute| {
        let target = a.target();
        format!(
            "{a}:{}{}{}",
            target.attr_type,
            if target.case_exact { ":exact" } else { "" },
            if a.is_multi_valued() { ":multi" } else { "" }
        )
    };
    match expr {
        Expr::Compare { attr: a, op, value } => {
            let value = match value {
                TypedValue::String(s) => format!("{:?}~{:?}", s.as_str(), s.key()),
                TypedValue::DateTime(t) => format!("@{}", t.to_rfc3339()),
                other => other.to_string(),
            };
            format!("({op} {} {value})", attr(a))
        }
        Expr::Present(a) => format!("(pr {})", attr(a)),
        Expr::ValuePath { attr: a, filter } => format!("({}[] {})", attr(a), dump(filter)),
        Expr::Not(inner) => format!("(not {})", dump(inner)),
        Expr::And(items) => format!(
            "(and {})",
            items.iter().map(dump).collect::<Vec<_>>().join(" ")
        ),
        Expr::Or(items) => format!(
            "(or {})",
            items.iter().map(dump).collect::<Vec<_>>().join(" ")
        ),
    }
}

fn check_tree(input: &str, expected: Expect) {
    let filter = validate(input, &USER_RESOURCE).unwrap_or_else(|e| panic!("{input}: {e}"));
    expected.assert_eq(&dump(filter.expr()));
}

#[test]
fn validated_trees() {
    check_tree(
        r#"USERNAME eq "BJensen@Example.com""#,
        expect![[r#"(eq userName:string "BJensen@Example.com"~"bjensen@example.com")"#]],
    );
    check_tree(
        r#"id eq "AbC""#,
        expect![[r#"(eq id:string:exact "AbC"~"AbC")"#]],
    );
    check_tree(
        r#"emails co "@Example.com" and emails[type eq "work"]"#,
        expect![[
            r#"(and (co emails.value:string:multi "@Example.com"~"@example.com") (emails:complex:multi[] (eq emails.type:string:multi "work"~"work")))"#
        ]],
    );
    check_tree(
        r#"meta.lastModified gt "2011-05-13T06:42:34+02:00" and active eq true"#,
        expect![
            "(and (gt meta.lastModified:dateTime @2011-05-13T04:42:34+00:00) (eq active:boolean true))"
        ],
    );
    check_tree(
        r#"title eq null or displayName ne null"#,
        expect!["(or (not (pr title:string)) (pr displayName:string))"],
    );
    check_tree(
        r#"department eq "Tours" and urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:MANAGER.value eq "m1""#,
        expect![[
            r#"(and (eq urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department:string "Tours"~"tours") (eq urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value:string:exact "m1"~"m1"))"#
        ]],
    );
    check_tree(
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        expect![[
            r#"(eq schemas:reference:multi "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"~"urn:ietf:params:scim:schemas:extension:enterprise:2.0:user")"#
        ]],
    );
}

#[test]
fn unknown_attributes() {
    check_err(
        r#"usrName eq "x""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: unknown attribute `usrName` for User resources; did you mean `userName`?"
        ],
    );
    check_err(
        r#"userType eq "Employee""#,
        ScimType::InvalidFilter,
        expect!["invalid filter: unknown attribute `userType` for User resources"],
    );
    check_err(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter eq "x""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: unknown attribute `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter` for User resources"
        ],
    );
    check_err(
        r#"urn:example:custom:1.0:User:x eq "x""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: unknown schema `urn:example:custom:1.0:User`; User resources use urn:ietf:params:scim:schemas:core:2.0:User, urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
    );
    check_err(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User pr"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: unknown attribute `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` for User resources; `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` is a whole schema, name one of its attributes instead, e.g. `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber`"
        ],
    );
    check_err(
        r#"name.middleName pr"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `name` has no sub-attribute `middleName`; it has formatted, familyName, givenName"
        ],
    );
}

#[test]
fn operators_that_do_not_apply() {
    check_err(
        r#"active gt "x""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `gt` cannot be used on `active`, which is a boolean attribute; use eq, ne or pr"
        ],
    );
    check_err(
        r#"active co true"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `co` cannot be used on `active`, which is a boolean attribute; use eq, ne or pr"
        ],
    );
    check_err(
        r#"meta.created sw "2011""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `sw` cannot be used on `meta.created`, which is a dateTime attribute; use eq, ne, gt, ge, lt, le or pr"
        ],
    );
    check_err(
        r#"title gt null"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `title gt null` is not meaningful; use `title pr` to test for a value, or `not (title pr)` for its absence"
        ],
    );
    // `pr` (or anything) on a sub-attribute the attribute cannot have.
    check_err(
        r#"userName.value pr"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `userName` is a string attribute and has no sub-attributes (`value`)"
        ],
    );
    check_err(
        r#"active.value pr"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `active` is a boolean attribute and has no sub-attributes (`value`)"
        ],
    );
    check_err(
        r#"name eq "Barbara""#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `name` is a complex attribute and cannot be compared directly; compare one of its sub-attributes (formatted, familyName, givenName), e.g. `name.formatted eq …`"
        ],
    );
    check_err(
        r#"title[value eq "x"]"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `title[…]` is not possible: `title` is a string attribute, and only complex attributes (such as `emails`) have values to filter"
        ],
    );
    check_err(
        r#"emails[name.givenName eq "x"]"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: inside `emails[…]`, name a sub-attribute of `emails` alone (such as `value`), not `name.givenName`"
        ],
    );
    check_err(
        r#"emails[display eq "x"]"#,
        ScimType::InvalidFilter,
        expect![
            "invalid filter: `emails` has no sub-attribute `display`; it has value, type, primary"
        ],
    );
}

#[test]
fn values_of_the_wrong_type() {
    check_err(
        r#"active eq "x""#,
        ScimType::InvalidValue,
        expect![[
            r#"invalid filter: `active` is a boolean attribute, but "x" is a string; write true or false, without quotes"#
        ]],
    );
    check_err(
        r#"userName eq 5"#,
        ScimType::InvalidValue,
        expect![[
            r#"invalid filter: `userName` is a string attribute, but 5 is a number; put text in double quotes, e.g. "jane@example.com""#
        ]],
    );
    check_err(
        r#"meta.lastModified gt "yesterday""#,
        ScimType::InvalidValue,
        expect![[
            r#"invalid filter: "yesterday" is not a valid date-time for `meta.lastModified`; write it like "2011-05-13T04:42:34Z""#
        ]],
    );
    check_err(
        r#"meta.lastModified gt 20110513"#,
        ScimType::InvalidValue,
        expect![[
            r#"invalid filter: `meta.lastModified` is a dateTime attribute, but 20110513 is a number; write a date-time in double quotes, e.g. "2011-05-13T04:42:34Z""#
        ]],
    );
    check_err(
        r#"emails[primary eq "yes"]"#,
        ScimType::InvalidValue,
        expect![[
            r#"invalid filter: `emails.primary` is a boolean attribute, but "yes" is a string; write true or false, without quotes"#
        ]],
    );
    let error = ValidatedFilter::parse("loginCount eq 1.5", &RFC_USER).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid filter: 1.5 is not a whole number in range for the integer attribute `loginCount`"
    );
    assert_eq!(error.scim_type(), ScimType::InvalidValue);
    assert!(ValidatedFilter::parse("loginCount eq 2.0", &RFC_USER).is_ok());
    assert!(ValidatedFilter::parse("loginCount eq 1e300", &RFC_USER).is_err());
}

/// Three users in the shape of RFC 7643 §8; the RFC 7644 examples are evaluated against them.
fn rfc_users() -> [Value; 3] {
    [
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223", "userName": "bjensen", "title": "Tour Guide",
            "userType": "Employee",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"lastModified": "2011-05-13T04:42:34Z"}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "c3a26dd3", "userName": "jsmith", "userType": "Intern",
            "name": {"familyName": "Smith"},
            "emails": [{"value": "jsmith@example.org", "type": "home"}],
            "ims": [{"value": "jsmith@foo.com", "type": "xmpp"}],
            "meta": {"lastModified": "2012-01-01T00:00:00+01:00"}
        }),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "0190b2f4", "userName": "Jdoe", "userType": "Contractor",
            "title": "",
            "emails": [],
            "meta": {"lastModified": "2010-12-31T23:59:59Z"}
        }),
    ]
}

#[test]
fn rfc_examples_evaluate() {
    let users = rfc_users();
    let cases: &[(&str, [bool; 3])] = &[
        (r#"userName eq "bjensen""#, [true, false, false]),
        (r#"userName Eq "BJENSEN""#, [true, false, false]),
        (r#"Username eq "jdoe""#, [false, false, true]),
        (r#"name.familyName co "O'Malley""#, [true, false, false]),
        (r#"userName sw "J""#, [false, true, true]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            [false, true, true],
        ),
        ("title pr", [true, false, false]),
        (
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            [false, true, false],
        ),
        (
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            [true, true, false],
        ),
        (
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            [false, false, true],
        ),
        (
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            [true, false, true],
        ),
        (
            r#"title pr and userType eq "Employee""#,
            [true, false, false],
        ),
        (r#"title pr or userType eq "Intern""#, [true, true, false]),
        (
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            [false, true, false],
        ),
        (
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            [true, false, false],
        ),
        (
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            [false, false, true],
        ),
        (
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            [true, false, false],
        ),
        (
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            [true, false, false],
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
            [true, true, false],
        ),
    ];
    for (input, expected) in cases {
        let filter =
            ValidatedFilter::parse(input, &RFC_USER).unwrap_or_else(|e| panic!("{input}: {e}"));
        let actual = users.each_ref().map(|user| filter.matches(user));
        assert_eq!(&actual, expected, "{input}");
        // The Spark schema does not serve userType or ims, and says so.
        if input.contains("userType") || input.contains("ims[") {
            assert!(validate(input, &USER_RESOURCE).is_err(), "{input}");
        } else {
            assert!(validate(input, &USER_RESOURCE).is_ok(), "{input}");
        }
    }
}

#[test]
fn value_paths_match_within_one_value() {
    let user = json!({"emails": [
        {"value": "x@other.com", "type": "work"},
        {"value": "y@example.com", "type": "home"}
    ]});
    let matches = |input: &str| {
        ValidatedFilter::parse(input, &RFC_USER)
            .unwrap()
            .matches(&user)
    };
    assert!(!matches(
        r#"emails[type eq "work" and value co "@example.com"]"#
    ));
    assert!(matches(
        r#"emails.type eq "work" and emails.value co "@example.com""#
    ));
    assert!(matches(
        r#"emails[type eq "home" and value co "@example.com"]"#
    ));
    assert!(matches(r#"emails[not (type eq "work")]"#));
    assert!(!matches(r#"emails[primary eq true]"#));
}

#[test]
fn absent_values_and_presence() {
    let user = json!({
        "userName": "a", "title": "", "nickNames": [], "name": {"givenName": null},
        "emails": [{"type": "work"}]
    });
    let matches = |input: &str| {
        ValidatedFilter::parse(input, &RFC_USER)
            .unwrap()
            .matches(&user)
    };
    for absent in [
        "title",
        "userType",
        "nickNames",
        "name",
        "name.givenName",
        "emails.value",
        "ims",
    ] {
        assert!(!matches(&format!("{absent} pr")), "{absent} pr");
        assert!(matches(&format!("{absent} eq null")), "{absent} eq null");
        assert!(!matches(&format!("{absent} ne null")), "{absent} ne null");
    }
    assert!(matches("emails pr"));
    assert!(matches("emails.type pr"));
    // A comparison on an absent attribute is false, `ne` included; `not` negates.
    assert!(!matches(r#"userType ne "Employee""#));
    assert!(matches(r#"not (userType eq "Employee")"#));
    // Wrong JSON types never match.
    let odd = json!({"userName": 5, "active": "true", "loginCount": "3"});
    let odd_matches = |input: &str| {
        ValidatedFilter::parse(input, &RFC_USER)
            .unwrap()
            .matches(&odd)
    };
    assert!(!odd_matches(r#"userName eq "5""#));
    assert!(!odd_matches("active eq true"));
    assert!(!odd_matches("loginCount eq 3"));
    assert!(odd_matches("userName pr"));
}

#[test]
fn numbers_booleans_and_case_exactness() {
    let user =
        json!({"id": "AbC", "userName": "MiXeD", "active": false, "loginCount": 7, "score": 0.5});
    let matches = |input: &str| {
        ValidatedFilter::parse(input, &RFC_USER)
            .unwrap()
            .matches(&user)
    };
    assert!(matches(
        "loginCount gt 5 and loginCount le 7.0 and loginCount ne 8"
    ));
    assert!(!matches("loginCount lt 7"));
    assert!(matches("score ge 0.5 and score lt 1"));
    assert!(matches("active eq false and active ne true"));
    assert!(matches(r#"id eq "AbC""#));
    assert!(!matches(r#"id eq "abc""#), "id is caseExact");
    assert!(matches(
        r#"userName eq "mixed" and userName sw "MIX" and userName gt "ab""#
    ));
}

fn spark_user() -> Value {
    EmployeeRecord {
        id: "u1".into(),
        email: "BJensen@Acme.example".into(),
        given_name: Some("Barbara".into()),
        family_name: Some("Jensen".into()),
        display_name: None,
        phone: None,
        title: None,
        department: Some("Tours".into()),
        employee_number: None,
        manager: Some(ManagerRef {
            id: "m1".into(),
            display_name: None,
        }),
        active: true,
        created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2024, 6, 1, 12, 0, 0).unwrap(),
        version: 1,
        external_id: None,
    }
    .to_scim_user("https://acme.spark.work/scim/v2")
    .to_value()
}

#[test]
fn spark_users_evaluate() {
    let user = spark_user();
    let matches = |input: &str| validate(input, &USER_RESOURCE).unwrap().matches(&user);
    // What Okta sends.
    assert!(matches(r#"userName eq "bjensen@acme.example""#));
    assert!(matches(r#"userName EQ "BJENSEN@ACME.EXAMPLE""#));
    assert!(!matches(r#"userName eq "someone@acme.example""#));
    assert!(matches(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tours""#
    ));
    assert!(matches(
        r#"department eq "TOURS" and manager.value eq "m1""#
    ));
    assert!(
        !matches(r#"manager.value eq "M1""#),
        "manager.value is caseExact"
    );
    assert!(matches(r#"meta.lastModified gt "2024-06-01T11:59:59Z""#));
    assert!(matches(r#"meta.version eq "W/\"1\"""#));
    assert!(matches(r#"emails[type eq "work" and primary eq true]"#));
    assert!(matches(
        "name.formatted pr and not (title pr) and active eq true"
    ));
    assert!(matches(r#"meta.location ew "/Users/u1""#));
}

#[test]
fn path_selection_and_sorting() {
    let user = spark_user();
    let path = scim_filter::parse_path(r#"emails[type eq "work"].value"#, &USER_RESOURCE).unwrap();
    assert_eq!(path.select(&user), [&json!("BJensen@Acme.example")]);
    let path = scim_filter::parse_path(r#"emails[type eq "home"]"#, &USER_RESOURCE).unwrap();
    assert!(path.select(&user).is_empty());
    let path = scim_filter::parse_path("name.givenName", &USER_RESOURCE).unwrap();
    assert_eq!(path.select(&user), [&json!("Barbara")]);

    let error = scim_filter::parse_path(r#"emails[typo eq "work"]"#, &USER_RESOURCE).unwrap_err();
    assert_eq!(error.scim_type(), ScimType::InvalidPath);
    let error = scim_filter::parse_path("emails[", &USER_RESOURCE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid attribute path: expected an attribute name (e.g. `userName`), `not (` or `(` at offset 7, found the end of the input"
    );

    let sort = scim_filter::parse_sort_by("emails", &USER_RESOURCE).unwrap();
    assert_eq!(sort.to_string(), "emails.value");
    let sort = scim_filter::parse_sort_by("META.lastModified", &USER_RESOURCE).unwrap();
    assert_eq!(sort.to_string(), "meta.lastModified");
    let error = scim_filter::parse_sort_by("name", &USER_RESOURCE).unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid attribute path: cannot sort by `name`: it is a complex attribute; sort by one of its sub-attributes"
    );
    assert_eq!(error.scim_type(), ScimType::InvalidPath);
    let error = scim_filter::parse_sort_by("bad path", &USER_RESOURCE).unwrap_err();
    assert_eq!(error.to_scim_error().scim_type, Some(ScimType::InvalidPath));
}

#[test]
fn validated_filter_keeps_its_source() {
    let filter = validate(r#"userName   Eq "x""#, &USER_RESOURCE).unwrap();
    assert_eq!(filter.to_string(), r#"userName eq "x""#);
    assert_eq!(
        filter.filter(),
        &Filter::parse(r#"userName eq "x""#).unwrap()
    );
    assert!(std::ptr::eq(filter.resource(), &USER_RESOURCE));
    let hand_built = Filter::And(vec![]);
    assert!(hand_built.validate(&USER_RESOURCE).is_err());
}
