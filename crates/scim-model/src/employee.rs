//! Mapping Spark's own records to SCIM resources.
//!
//! [`EmployeeRecord`] and [`DepartmentRecord`] are plain input structs: whatever stores
//! employees (the `persistence` crate) fills them in, and [`EmployeeRecord::to_scim_user`] /
//! [`DepartmentRecord::to_scim_group`] produce the wire resources, given the SCIM base URL of
//! the workspace (e.g. `https://acme.spark.work/scim/v2`).
//!
//! Rules: blank optional strings count as absent and are omitted; `userName` and the single
//! `work` email are the employee's email; the single `work` phone number is the primary one; `name.formatted` is "given family"; the enterprise
//! extension (and its schema URN) appears only if one of its attributes is set;
//! `meta.version` is the weak ETag `W/"<version>"`; `meta.location` and `$ref`s are absolute
//! URLs under the base URL.

use chrono::{DateTime, Utc};

use crate::resource::{
    Email, EnterpriseUser, Group, GroupMember, Manager, Meta, Name, PhoneNumber, User,
};
use crate::urn;

/// An employee as Spark stores it: the input of the User mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmployeeRecord {
    /// Spark's stable identifier (becomes `id`).
    pub id: String,
    /// Work email (becomes `userName` and the primary work email).
    pub email: String,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Display name.
    pub display_name: Option<String>,
    /// Work phone number.
    pub phone: Option<String>,
    /// Job title.
    pub title: Option<String>,
    /// Department name (enterprise extension).
    pub department: Option<String>,
    /// Employee number (enterprise extension).
    pub employee_number: Option<String>,
    /// The employee's manager (enterprise extension).
    pub manager: Option<ManagerRef>,
    /// Whether the employee is active.
    pub active: bool,
    /// When the employee was added.
    pub created: DateTime<Utc>,
    /// When the employee last changed.
    pub updated: DateTime<Utc>,
    /// A counter bumped on every change (becomes the weak ETag).
    pub version: i64,
    /// The identifier in the system the employee was imported from.
    pub external_id: Option<String>,
}

/// A reference to another employee (the manager).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerRef {
    /// The manager's Spark id.
    pub id: String,
    /// The manager's display name.
    pub display_name: Option<String>,
}

/// A department as Spark stores it: the input of the Group mapping.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRecord {
    /// Spark's stable identifier (becomes `id`).
    pub id: String,
    /// The department name (becomes `displayName`).
    pub name: String,
    /// The employees in the department.
    pub members: Vec<MemberRef>,
    /// When the department was added.
    pub created: DateTime<Utc>,
    /// When the department last changed.
    pub updated: DateTime<Utc>,
    /// A counter bumped on every change (becomes the weak ETag).
    pub version: i64,
}

/// A reference to an employee in a department.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    /// The employee's Spark id.
    pub id: String,
    /// The employee's display name.
    pub display_name: Option<String>,
}

impl MemberRef {
    /// The group member for this employee, with the URL of their User under `base_url`.
    pub fn to_scim_member(&self, base_url: &str) -> GroupMember {
        GroupMember {
            value: self.id.clone(),
            display: present(&self.display_name),
            reference: Some(resource_location(base_url, "/Users", &self.id)),
        }
    }
}

/// The weak entity tag for a version counter: `W/"3"`.
pub fn weak_etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// The absolute URL of a resource: `{base_url}{endpoint}/{id}`, with a trailing `/` on
/// the base URL ignored and the id percent-encoded as a path segment.
pub fn resource_location(base_url: &str, endpoint: &str, id: &str) -> String {
    let base = base_url.trim_end_matches('/');
    let mut url = String::with_capacity(base.len() + endpoint.len() + id.len() + 1);
    url.push_str(base);
    url.push_str(endpoint);
    url.push('/');
    let unreserved =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    if id.bytes().all(unreserved) {
        url.push_str(id);
        return url;
    }
    for byte in id.bytes() {
        if unreserved(byte) {
            url.push(char::from(byte));
        } else {
            url.push_str(&format!("%{byte:02X}"));
        }
    }
    url
}

fn present(value: &Option<String>) -> Option<String> {
    value.as_ref().filter(|v| !v.trim().is_empty()).cloned()
}

/// The value unless it is blank.
fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl EmployeeRecord {
    /// The SCIM User for this employee, with URLs under `base_url`.
    pub fn to_scim_user(&self, base_url: &str) -> User {
        self.clone().into_scim_user(base_url)
    }

    /// The SCIM User for this employee, with URLs under `base_url`, reusing the record's
    /// strings.
    pub fn into_scim_user(self, base_url: &str) -> User {
        let given_name = non_blank(self.given_name);
        let family_name = non_blank(self.family_name);
        let formatted = match (&given_name, &family_name) {
            (Some(given), Some(family)) => Some(format!("{given} {family}")),
            (Some(one), None) | (None, Some(one)) => Some(one.clone()),
            (None, None) => None,
        };
        let name = formatted.is_some().then_some(Name {
            formatted,
            family_name,
            given_name,
        });
        let manager = self
            .manager
            .filter(|m| !m.id.trim().is_empty())
            .map(|m| Manager {
                reference: Some(resource_location(base_url, "/Users", &m.id)),
                value: m.id,
                display_name: non_blank(m.display_name),
            });
        let enterprise = EnterpriseUser {
            employee_number: non_blank(self.employee_number),
            department: non_blank(self.department),
            manager,
        };
        let enterprise = (!enterprise.is_empty()).then_some(enterprise);
        let mut schemas = vec![urn::USER.to_owned()];
        if enterprise.is_some() {
            schemas.push(urn::ENTERPRISE_USER.to_owned());
        }
        User {
            schemas,
            meta: Meta {
                resource_type: "User".to_owned(),
                created: Some(self.created),
                last_modified: Some(self.updated),
                location: Some(resource_location(base_url, "/Users", &self.id)),
                version: Some(weak_etag(self.version)),
            },
            id: self.id,
            external_id: non_blank(self.external_id),
            emails: vec![Email {
                value: self.email.clone(),
                kind: Some("work".to_owned()),
                primary: Some(true),
            }],
            user_name: self.email,
            name,
            display_name: non_blank(self.display_name),
            title: non_blank(self.title),
            active: self.active,
            phone_numbers: non_blank(self.phone)
                .map(|value| PhoneNumber {
                    value,
                    kind: Some("work".to_owned()),
                    // Okta's app attribute for the primary phone reads only the number
                    // marked primary (`phoneNumbers.^[primary==true].value`: Okta's
                    // "Connect your SCIM API service to Okta", cited in
                    // docs/okta-setup.md); the work number is the only one Spark has, so
                    // it is the primary one.
                    primary: Some(true),
                })
                .into_iter()
                .collect(),
            enterprise,
        }
    }
}

impl DepartmentRecord {
    /// The SCIM Group for this department, with URLs under `base_url`.
    pub fn to_scim_group(&self, base_url: &str) -> Group {
        Group {
            schemas: vec![urn::GROUP.to_owned()],
            id: self.id.clone(),
            display_name: self.name.clone(),
            members: self
                .members
                .iter()
                .map(|member| member.to_scim_member(base_url))
                .collect(),
            meta: Meta {
                resource_type: "Group".to_owned(),
                created: Some(self.created),
                last_modified: Some(self.updated),
                location: Some(resource_location(base_url, "/Groups", &self.id)),
                version: Some(weak_etag(self.version)),
            },
        }
    }
}

impl User {
    /// The resource as a JSON value (for [`crate::projection`] or a filter evaluator).
    pub fn to_value(&self) -> serde_json::Value {
        // Serializing these plain structs cannot fail: every map key is a string.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl Group {
    /// The resource as a JSON value (for [`crate::projection`] or a filter evaluator).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_absolute_and_encoded() {
        assert_eq!(
            resource_location("https://acme.spark.work/scim/v2/", "/Users", "a b/c"),
            "https://acme.spark.work/scim/v2/Users/a%20b%2Fc"
        );
        assert_eq!(weak_etag(3), "W/\"3\"");
    }
}
