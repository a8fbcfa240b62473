//! The User and Group resources as they travel on the wire (RFC 7643 §4).
//!
//! Optional values are `Option`s or empty `Vec`s and are omitted from the JSON when absent,
//! never serialized as `null`. Deserialization accepts what serialization produces (and
//! tolerates unknown members), so the types round-trip.
//!
//! To build these from Spark's data, see [`crate::employee`].

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Resource metadata (RFC 7643 §3.1 `meta`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// The resource type name, e.g. `User`.
    pub resource_type: String,
    /// When the resource was created.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timestamp::serialize"
    )]
    pub created: Option<DateTime<Utc>>,
    /// When the resource last changed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        serialize_with = "crate::timestamp::serialize"
    )]
    pub last_modified: Option<DateTime<Utc>>,
    /// The absolute URL of the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// The weak entity tag of the current version, e.g. `W/"3"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// A SCIM User with the enterprise extension (RFC 7643 §4.1 and §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// The schema URNs used: the core User schema, plus the enterprise extension when
    /// [`User::enterprise`] is present.
    pub schemas: Vec<String>,
    /// Spark's identifier for the employee.
    pub id: String,
    /// The identifier in the system the employee was imported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// The work email address.
    pub user_name: String,
    /// Name components.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Name>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Job title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Whether the employee is active.
    pub active: bool,
    /// Email addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
    /// The enterprise extension.
    #[serde(
        rename = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub enterprise: Option<EnterpriseUser>,
    /// Metadata.
    pub meta: Meta,
}

/// The `name` complex attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Name {
    /// The full name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formatted: Option<String>,
    /// Family name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// Given name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
}

/// One value of `emails`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The address.
    pub value: String,
    /// The kind of address (`work`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the primary address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// One value of `phoneNumbers`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneNumber {
    /// The number.
    pub value: String,
    /// The kind of number (`work`).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Whether this is the primary number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// The enterprise User extension (RFC 7643 §4.3), as far as Spark serves it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnterpriseUser {
    /// Employee number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employee_number: Option<String>,
    /// Department name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The employee's manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<Manager>,
}

impl EnterpriseUser {
    /// Whether no enterprise attribute is set (then the extension is left out entirely).
    pub fn is_empty(&self) -> bool {
        self.employee_number.is_none() && self.department.is_none() && self.manager.is_none()
    }
}

/// The enterprise `manager` complex attribute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manager {
    /// The manager's User `id`.
    pub value: String,
    /// The manager's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The URL of the manager's User resource.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// A SCIM Group (RFC 7643 §4.2): for Spark, a department.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    /// `["urn:ietf:params:scim:schemas:core:2.0:Group"]`.
    pub schemas: Vec<String>,
    /// Spark's identifier for the department.
    pub id: String,
    /// The department name.
    pub display_name: String,
    /// The employees in the department.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<GroupMember>,
    /// Metadata.
    pub meta: Meta,
}

/// One value of a Group's `members`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupMember {
    /// The member's User `id`.
    pub value: String,
    /// The member's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
    /// The URL of the member's User resource.
    #[serde(rename = "$ref", default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}
