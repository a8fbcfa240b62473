//! Snapshot and round-trip tests of the wire types. Update snapshots with
//! `UPDATE_EXPECT=1 cargo test -p scim-model`.

// Test code: helpers outside `#[test]` functions may unwrap and index too.
use chrono::{TimeZone, Utc};
use expect_test::{expect, expect_file};
use scim_model::discovery::{resource_type_document, schema_document};
use scim_model::{
    DepartmentRecord, EmployeeRecord, Group, ListResponse, ManagerRef, MemberRef, ResourceType,
    ScimError, ScimType, SearchRequest, ServiceProviderConfig, ServiceSettings, User,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

const BASE: &str = "https://acme.spark.work/scim/v2";

fn pretty<T: Serialize>(value: &T) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    text
}

fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(value: &T) {
    let json = serde_json::to_string(value).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, value, "round trip through {json}");
}

fn full_employee() -> EmployeeRecord {
    EmployeeRecord {
        id: "0190b2f4-7c1e-7a51-9d3b-3c2a5f6e8d10".into(),
        email: "bjensen@acme.example".into(),
        given_name: Some("Barbara".into()),
        family_name: Some("Jensen".into()),
        display_name: Some("Babs Jensen".into()),
        phone: Some("+1 555 555 8377".into()),
        title: Some("Tour Guide".into()),
        department: Some("Tours".into()),
        employee_number: Some("701984".into()),
        manager: Some(ManagerRef {
            id: "0190b2f4-7c1e-7a51-9d3b-000000000001".into(),
            display_name: Some("John Smith".into()),
        }),
        active: true,
        created: Utc.with_ymd_and_hms(2024, 1, 23, 4, 56, 22).unwrap(),
        updated: Utc.with_ymd_and_hms(2024, 5, 13, 4, 42, 34).unwrap(),
        version: 3,
        external_id: Some("hr-701984".into()),
    }
}

fn minimal_employee() -> EmployeeRecord {
    EmployeeRecord {
        id: "e2".into(),
        email: "jdoe@acme.example".into(),
        given_name: None,
        family_name: Some("  ".into()),
        display_name: None,
        phone: Some(String::new()),
        title: None,
        department: None,
        employee_number: None,
        manager: None,
        active: false,
        created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        version: 1,
        external_id: None,
    }
}

#[test]
fn full_user_snapshot() {
    let user = full_employee().to_scim_user(BASE);
    expect_file!["snapshots/user_full.json"].assert_eq(&pretty(&user));
    round_trip(&user);
}

#[test]
fn minimal_user_omits_absent_values() {
    let user = minimal_employee().to_scim_user(&format!("{BASE}/"));
    expect![[r#"
        {
          "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User"
          ],
          "id": "e2",
          "userName": "jdoe@acme.example",
          "active": false,
          "emails": [
            {
              "value": "jdoe@acme.example",
              "type": "work",
              "primary": true
            }
          ],
          "meta": {
            "resourceType": "User",
            "created": "2024-01-01T00:00:00Z",
            "lastModified": "2024-01-01T00:00:00Z",
            "location": "https://acme.spark.work/scim/v2/Users/e2",
            "version": "W/\"1\""
          }
        }
    "#]]
    .assert_eq(&pretty(&user));
    assert!(!pretty(&user).contains("null"));
    round_trip(&user);
}

#[test]
fn group_snapshot() {
    let group = DepartmentRecord {
        id: "d1".into(),
        name: "Tours".into(),
        members: vec![
            MemberRef {
                id: "e1".into(),
                display_name: Some("Babs Jensen".into()),
            },
            MemberRef {
                id: "e2".into(),
                display_name: None,
            },
        ],
        created: Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap(),
        updated: Utc.with_ymd_and_hms(2024, 2, 1, 0, 0, 0).unwrap(),
        version: 7,
    }
    .to_scim_group(BASE);
    expect![[r#"
        {
          "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:Group"
          ],
          "id": "d1",
          "displayName": "Tours",
          "members": [
            {
              "value": "e1",
              "display": "Babs Jensen",
              "$ref": "https://acme.spark.work/scim/v2/Users/e1"
            },
            {
              "value": "e2",
              "$ref": "https://acme.spark.work/scim/v2/Users/e2"
            }
          ],
          "meta": {
            "resourceType": "Group",
            "created": "2024-01-01T00:00:00Z",
            "lastModified": "2024-02-01T00:00:00Z",
            "location": "https://acme.spark.work/scim/v2/Groups/d1",
            "version": "W/\"7\""
          }
        }
    "#]]
    .assert_eq(&pretty(&group));
    round_trip(&group);
}

#[test]
fn list_response_snapshot() {
    let users = vec![minimal_employee().to_scim_user(BASE)];
    let page = ListResponse::new(users, 3, 1);
    round_trip(&page);
    let page = ListResponse::<User>::with_cursors(vec![], 0, Some("c2".into()), None);
    expect![[r#"
        {
          "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:ListResponse"
          ],
          "totalResults": 0,
          "itemsPerPage": 0,
          "Resources": [],
          "nextCursor": "c2"
        }
    "#]]
    .assert_eq(&pretty(&page));
    round_trip(&page);
}

#[test]
fn error_snapshot() {
    let error = ScimError::of_type(ScimType::ExpiredCursor, "the cursor has expired");
    expect![[r#"
        {
          "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:Error"
          ],
          "status": "400",
          "scimType": "expiredCursor",
          "detail": "the cursor has expired"
        }
    "#]]
    .assert_eq(&pretty(&error));
    round_trip(&error);
    for scim_type in [
        ScimType::InvalidFilter,
        ScimType::TooMany,
        ScimType::Uniqueness,
        ScimType::Mutability,
        ScimType::InvalidSyntax,
        ScimType::InvalidPath,
        ScimType::NoTarget,
        ScimType::InvalidValue,
        ScimType::InvalidVers,
        ScimType::Sensitive,
        ScimType::InvalidCursor,
        ScimType::ExpiredCursor,
    ] {
        round_trip(&ScimError::of_type(scim_type, "x"));
    }
}

#[test]
fn search_request_round_trips() {
    let request: SearchRequest = serde_json::from_str(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "attributes":["displayName","userName"],
            "excludedAttributes":["emails"],
            "filter":"displayName sw \"smith\"",
            "sortBy":"userName","sortOrder":"descending",
            "startIndex":1,"count":10,"cursor":"abc"}"#,
    )
    .unwrap();
    round_trip(&request);
    expect![[r#"
        {
          "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
          ],
          "attributes": [
            "displayName",
            "userName"
          ],
          "excludedAttributes": [
            "emails"
          ],
          "filter": "displayName sw \"smith\"",
          "sortBy": "userName",
          "sortOrder": "descending",
          "startIndex": 1,
          "count": 10,
          "cursor": "abc"
        }
    "#]]
    .assert_eq(&pretty(&request));
    round_trip(&SearchRequest::default());
}

#[test]
fn service_provider_config_snapshot() {
    let config = ServiceProviderConfig::read_only(BASE, &ServiceSettings::default());
    expect_file!["snapshots/service_provider_config.json"].assert_eq(&pretty(&config));
    round_trip(&config);
}

#[test]
fn schema_snapshots() {
    let documents = scim_model::discovery::schema_documents(BASE);
    assert_eq!(documents.len(), 3);
    for document in &documents {
        round_trip(document);
    }
    expect_file!["snapshots/schemas.json"].assert_eq(&pretty(&documents));
    let user = schema_document(BASE, "URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER").unwrap();
    assert_eq!(user.id, "urn:ietf:params:scim:schemas:core:2.0:User");
    assert!(schema_document(BASE, "urn:nope").is_none());
}

#[test]
fn resource_type_snapshots() {
    let documents = scim_model::discovery::resource_type_documents(BASE);
    for document in &documents {
        round_trip(document);
    }
    expect_file!["snapshots/resource_types.json"].assert_eq(&pretty(&documents));
    assert!(resource_type_document(BASE, "group").is_some());
}

#[test]
fn every_schema_attribute_is_read_only_and_described() {
    fn check(attrs: &[scim_model::SchemaAttribute]) {
        for attr in attrs {
            assert_eq!(
                attr.mutability,
                scim_model::Mutability::ReadOnly,
                "{}",
                attr.name
            );
            assert!(!attr.description.is_empty(), "{}", attr.name);
            assert_eq!(
                attr.sub_attributes.is_empty(),
                attr.attr_type != scim_model::AttributeType::Complex,
                "{}",
                attr.name
            );
            assert_eq!(
                attr.reference_types.is_empty(),
                attr.attr_type != scim_model::AttributeType::Reference,
                "{}",
                attr.name
            );
            check(&attr.sub_attributes);
        }
    }
    for schema in scim_model::discovery::schema_documents(BASE) {
        check(&schema.attributes);
    }
}

/// Every attribute the mapping can emit is described by the schema (and so can be
/// filtered and projected): walk the JSON of a fully populated User and Group.
#[test]
fn served_json_matches_the_schema_description() {
    use scim_model::{GROUP_RESOURCE, USER_RESOURCE};
    use serde_json::Value;
    fn walk(schema: &scim_model::ResourceSchema, value: &Value) {
        let Value::Object(members) = value else {
            panic!("not an object")
        };
        for (key, value) in members {
            if key == "schemas" {
                continue;
            }
            if let Some(ext) = schema.schema(key) {
                for (attr, value) in value.as_object().unwrap() {
                    let path = format!("{}:{attr}", ext.id).parse().unwrap();
                    check(schema, &path, value);
                }
            } else {
                check(schema, &key.parse().unwrap(), value);
            }
        }
    }
    fn check(schema: &scim_model::ResourceSchema, path: &scim_model::AttrPath, value: &Value) {
        let attr = schema.resolve_attribute(path).unwrap();
        assert_eq!(attr.attribute.multi_valued, value.is_array(), "{path}");
        let elements = match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for element in elements {
            if attr.attribute.is_complex() {
                for sub in element.as_object().unwrap().keys() {
                    let sub_path = path.clone().with_sub_attr(sub.clone());
                    schema.resolve_attribute(&sub_path).unwrap();
                }
            }
        }
    }
    walk(
        &USER_RESOURCE,
        &full_employee().to_scim_user(BASE).to_value(),
    );
    let group: Group = serde_json::from_value(serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "d1", "displayName": "Tours",
        "members": [{"value": "e1", "display": "B", "$ref": "https://x/Users/e1"}],
        "meta": {"resourceType": "Group", "location": "https://x/Groups/d1"}
    }))
    .unwrap();
    walk(&GROUP_RESOURCE, &group.to_value());
}

#[test]
fn resource_type_deserializes_from_rfc_example() {
    let parsed: ResourceType = serde_json::from_str(
        r#"{
          "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
          "id": "User", "name": "User", "endpoint": "/Users",
          "description": "User Account",
          "schema": "urn:ietf:params:scim:schemas:core:2.0:User",
          "schemaExtensions": [{"schema": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "required": true}],
          "meta": {"location": "https://example.com/v2/ResourceTypes/User", "resourceType": "ResourceType"}
        }"#,
    )
    .unwrap();
    assert!(parsed.schema_extensions.first().unwrap().required);
}
