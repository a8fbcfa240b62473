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

use std::fmt::Write as _;

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
    let mut url = String::with_capacity(base_url.len() + endpoint.len() + id.len() + 1);
    push_location(&mut url, base_url, endpoint, id);
    url
}

/// Appends [`resource_location`]'s URL to `url`.
pub(crate) fn push_location(url: &mut String, base_url: &str, endpoint: &str, id: &str) {
    url.push_str(base_url.trim_end_matches('/'));
    url.push_str(endpoint);
    url.push('/');
    let unreserved =
        |byte: u8| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~');
    if id.bytes().all(unreserved) {
        url.push_str(id);
        return;
    }
    for byte in id.bytes() {
        if unreserved(byte) {
            url.push(char::from(byte));
        } else {
            // Writing into a String cannot fail.
            let _ = write!(url, "%{byte:02X}");
        }
    }
}

fn present(value: &Option<String>) -> Option<String> {
    non_blank(value.as_deref()).map(str::to_owned)
}

/// The value unless it is blank. A value whose first character is not whitespace is
/// not blank, whatever follows: most are, and need no trimming.
pub(crate) fn non_blank(value: Option<&str>) -> Option<&str> {
    value.filter(|v| match v.chars().next() {
        Some(first) if !first.is_whitespace() => true,
        _ => !v.trim().is_empty(),
    })
}

/// What an employee's SCIM User shows, with every rule of the mapping (the module's
/// rules) applied once: [`EmployeeRecord::to_scim_user`] builds the wire struct from it,
/// and [`crate::json_writer`] writes its JSON straight into a response.
pub(crate) struct UserView<'a> {
    pub id: &'a str,
    pub external_id: Option<&'a str>,
    /// The email: `userName` and the one `work` email.
    pub email: &'a str,
    pub given_name: Option<&'a str>,
    pub family_name: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub title: Option<&'a str>,
    pub active: bool,
    /// The one `work` phone number, the primary one.
    pub phone: Option<&'a str>,
    pub employee_number: Option<&'a str>,
    pub department: Option<&'a str>,
    /// The manager's id and display name.
    pub manager: Option<(&'a str, Option<&'a str>)>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub version: i64,
}

impl UserView<'_> {
    /// `name.formatted` as the parts it joins with a space: "given family", or
    /// whichever of the two there is. None without either (then there is no `name`).
    pub fn formatted_name(&self) -> Option<(&str, Option<&str>)> {
        match (self.given_name, self.family_name) {
            (Some(given), family) => Some((given, family)),
            (None, family) => family.map(|family| (family, None)),
        }
    }

    /// Whether the enterprise extension (and its schema URN) appears.
    pub fn has_enterprise(&self) -> bool {
        self.employee_number.is_some() || self.department.is_some() || self.manager.is_some()
    }
}

impl EmployeeRecord {
    /// The employee as its SCIM User shows it.
    pub(crate) fn user_view(&self) -> UserView<'_> {
        UserView {
            id: &self.id,
            external_id: non_blank(self.external_id.as_deref()),
            email: &self.email,
            given_name: non_blank(self.given_name.as_deref()),
            family_name: non_blank(self.family_name.as_deref()),
            display_name: non_blank(self.display_name.as_deref()),
            title: non_blank(self.title.as_deref()),
            active: self.active,
            phone: non_blank(self.phone.as_deref()),
            employee_number: non_blank(self.employee_number.as_deref()),
            department: non_blank(self.department.as_deref()),
            manager: self
                .manager
                .as_ref()
                .filter(|m| non_blank(Some(&m.id)).is_some())
                .map(|m| (m.id.as_str(), non_blank(m.display_name.as_deref()))),
            created: self.created,
            updated: self.updated,
            version: self.version,
        }
    }

    /// The SCIM User for this employee, with URLs under `base_url`.
    pub fn to_scim_user(&self, base_url: &str) -> User {
        let view = self.user_view();
        let owned = |value: Option<&str>| value.map(str::to_owned);
        let name = view.formatted_name().map(|(first, second)| Name {
            formatted: Some(match second {
                Some(second) => format!("{first} {second}"),
                None => first.to_owned(),
            }),
            family_name: owned(view.family_name),
            given_name: owned(view.given_name),
        });
        let enterprise = view.has_enterprise().then(|| EnterpriseUser {
            employee_number: owned(view.employee_number),
            department: owned(view.department),
            manager: view.manager.map(|(id, display_name)| Manager {
                value: id.to_owned(),
                display_name: owned(display_name),
                reference: Some(resource_location(base_url, "/Users", id)),
            }),
        });
        let mut schemas = vec![urn::USER.to_owned()];
        if enterprise.is_some() {
            schemas.push(urn::ENTERPRISE_USER.to_owned());
        }
        User {
            schemas,
            meta: Meta {
                resource_type: "User".to_owned(),
                created: Some(view.created),
                last_modified: Some(view.updated),
                location: Some(resource_location(base_url, "/Users", view.id)),
                version: Some(weak_etag(view.version)),
            },
            id: view.id.to_owned(),
            external_id: owned(view.external_id),
            emails: vec![Email {
                value: view.email.to_owned(),
                kind: Some("work".to_owned()),
                primary: Some(true),
            }],
            user_name: view.email.to_owned(),
            name,
            display_name: owned(view.display_name),
            title: owned(view.title),
            active: view.active,
            phone_numbers: view
                .phone
                .map(|value| PhoneNumber {
                    value: value.to_owned(),
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
