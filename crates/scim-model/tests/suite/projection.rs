//! Attribute projection cases (RFC 7644 §3.4.2.5, §3.9).

// Test code: helpers outside `#[test]` functions may unwrap and index too.
use chrono::{TimeZone, Utc};
use scim_model::schema::{
    AttributeDef, AttributeType, ResourceSchema, Returned, SchemaDef, SchemaExtension,
};
use scim_model::{AttrPath, EmployeeRecord, ManagerRef, Projection, USER_RESOURCE, project};
use serde_json::{Value, json};

fn user() -> Value {
    EmployeeRecord {
        id: "u1".into(),
        email: "bjensen@acme.example".into(),
        given_name: Some("Barbara".into()),
        family_name: Some("Jensen".into()),
        display_name: Some("Babs".into()),
        phone: Some("+1 555".into()),
        title: Some("Guide".into()),
        department: Some("Tours".into()),
        employee_number: Some("42".into()),
        manager: Some(ManagerRef {
            id: "m1".into(),
            display_name: Some("John".into()),
        }),
        active: true,
        created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2024, 1, 2, 0, 0, 0).unwrap(),
        version: 2,
        external_id: None,
    }
    .to_scim_user("https://acme.spark.work/scim/v2")
    .to_value()
}

fn paths(list: &str) -> Vec<AttrPath> {
    AttrPath::parse_list(list).unwrap()
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[test]
fn no_parameters_returns_everything() {
    assert_eq!(project(&USER_RESOURCE, &user(), &[], &[]), user());
    assert!(Projection::new(&USER_RESOURCE, &[], &[]).is_default());
}

#[test]
fn attributes_keep_named_plus_always_returned() {
    let projected = project(&USER_RESOURCE, &user(), &paths("userName"), &[]);
    assert_eq!(
        projected,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "u1",
            "userName": "bjensen@acme.example"
        })
    );
    // `id` cannot be dropped by naming other attributes; names are case-insensitive.
    let projected = project(&USER_RESOURCE, &user(), &paths("DISPLAYNAME,Meta"), &[]);
    let mut projected_keys = keys(&projected);
    projected_keys.sort_unstable();
    assert_eq!(projected_keys, ["displayName", "id", "meta", "schemas"]);
}

#[test]
fn sub_attribute_selection() {
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &paths("name.givenName,emails.value,meta.lastModified"),
        &[],
    );
    assert_eq!(projected["name"], json!({"givenName": "Barbara"}));
    assert_eq!(
        projected["emails"],
        json!([{"value": "bjensen@acme.example"}])
    );
    assert_eq!(
        projected["meta"],
        json!({"lastModified": "2024-01-02T00:00:00Z"})
    );
}

#[test]
fn extension_attribute_selection() {
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &paths(&format!(
            "{ENTERPRISE}:department,{ENTERPRISE}:manager.displayName"
        )),
        &[],
    );
    assert_eq!(
        projected,
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
            "id": "u1",
            ENTERPRISE: {"department": "Tours", "manager": {"displayName": "John"}}
        })
    );
    // Unqualified extension attribute names resolve too.
    let short = project(&USER_RESOURCE, &user(), &paths("department"), &[]);
    assert_eq!(short[ENTERPRISE], json!({"department": "Tours"}));
    // The URN alone selects the whole extension.
    let whole = project(&USER_RESOURCE, &user(), &paths(ENTERPRISE), &[]);
    assert_eq!(whole[ENTERPRISE], user()[ENTERPRISE]);
}

#[test]
fn excluded_attributes() {
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &[],
        &paths("emails,name.familyName,meta,id,schemas"),
    );
    assert!(projected.get("emails").is_none());
    assert!(projected.get("meta").is_none());
    assert_eq!(projected["id"], "u1", "id is returned always");
    assert!(projected.get("schemas").is_some());
    assert_eq!(
        projected["name"],
        json!({"formatted": "Barbara Jensen", "givenName": "Barbara"})
    );
    // Excluding a whole extension also drops its URN from `schemas`.
    let projected = project(&USER_RESOURCE, &user(), &[], &paths(ENTERPRISE));
    assert!(projected.get(ENTERPRISE).is_none());
    assert_eq!(
        projected["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    // Excluding every enterprise attribute one by one does the same.
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &[],
        &paths("department,employeeNumber,manager"),
    );
    assert!(projected.get(ENTERPRISE).is_none());
    // Excluding the only remaining sub-attribute drops the complex attribute.
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &[],
        &paths("phoneNumbers.value,phoneNumbers.type,phoneNumbers.primary"),
    );
    assert!(projected.get("phoneNumbers").is_none());
}

#[test]
fn attributes_and_excluded_attributes_combine() {
    let projected = project(
        &USER_RESOURCE,
        &user(),
        &paths("name,userName"),
        &paths("name.formatted"),
    );
    assert_eq!(
        projected["name"],
        json!({"familyName": "Jensen", "givenName": "Barbara"})
    );
}

#[test]
fn unknown_paths_are_ignored_and_reported() {
    let projection = Projection::new(&USER_RESOURCE, &paths("userName,nickName,name.middle"), &[]);
    assert_eq!(
        projection.ignored(),
        paths("nickName,name.middle").as_slice()
    );
    let projected = projection.apply(&user());
    let mut projected_keys = keys(&projected);
    projected_keys.sort_unstable();
    assert_eq!(projected_keys, ["id", "schemas", "userName"]);
}

static SECRET_SCHEMA: SchemaDef = SchemaDef {
    id: "urn:example:Secret",
    name: "Secret",
    description: "A test schema with every `returned` value.",
    attributes: &[
        AttributeDef::new("id", AttributeType::String, "id").returned(Returned::Always),
        AttributeDef::new("password", AttributeType::String, "never").returned(Returned::Never),
        AttributeDef::new("audit", AttributeType::String, "request").returned(Returned::Request),
        AttributeDef::new("plain", AttributeType::String, "default"),
        AttributeDef::complex(
            "box",
            "complex",
            &[
                AttributeDef::new("key", AttributeType::String, "never").returned(Returned::Never),
                AttributeDef::new("label", AttributeType::String, "default"),
                AttributeDef::new("tag", AttributeType::String, "always")
                    .returned(Returned::Always),
            ],
        ),
    ],
};

static SECRET_RESOURCE: ResourceSchema = ResourceSchema {
    name: "Secret",
    endpoint: "/Secrets",
    description: "test",
    core: &SECRET_SCHEMA,
    extensions: &[] as &[SchemaExtension],
};

#[test]
fn returned_characteristics() {
    let resource = json!({
        "schemas": ["urn:example:Secret"],
        "id": "s1", "password": "hunter2", "audit": "log", "plain": "p",
        "box": {"key": "k", "label": "l", "tag": "t"},
        "extra": 1
    });
    let by_default = project(&SECRET_RESOURCE, &resource, &[], &[]);
    assert_eq!(
        by_default,
        json!({
            "schemas": ["urn:example:Secret"],
            "id": "s1", "plain": "p", "box": {"label": "l", "tag": "t"}, "extra": 1
        })
    );
    let requested = project(
        &SECRET_RESOURCE,
        &resource,
        &paths("audit,password,box.label"),
        &[],
    );
    assert_eq!(
        requested,
        json!({
            "schemas": ["urn:example:Secret"],
            "id": "s1", "audit": "log", "box": {"label": "l", "tag": "t"}
        })
    );
    let excluded = project(
        &SECRET_RESOURCE,
        &resource,
        &[],
        &paths("box.tag,box.label,id"),
    );
    assert_eq!(excluded["box"], json!({"tag": "t"}));
    assert_eq!(excluded["id"], "s1");
}

#[test]
fn non_objects_pass_through() {
    assert_eq!(
        project(&USER_RESOURCE, &json!([1]), &paths("id"), &[]),
        json!([1])
    );
}
