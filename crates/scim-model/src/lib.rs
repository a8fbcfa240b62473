//! SCIM 2.0 wire types for Spark's read-only SCIM service (RFC 7643, RFC 7644, RFC 9865).
//!
//! Spark serves its employees to Okta over SCIM; Okta only imports. This crate is the data
//! layer of that conversation:
//!
//! - [`resource`]: the `User` (core + enterprise extension) and `Group` resources;
//! - [`employee`]: the mapping from Spark's [`EmployeeRecord`] / [`DepartmentRecord`] to
//!   those resources, given the workspace's SCIM base URL;
//! - [`json_writer`]: a page of users written as JSON straight from the records, byte for
//!   byte what serialising the resources writes;
//! - [`message`]: `ListResponse` (with RFC 9865 cursors), the SCIM `Error` body with its
//!   `scimType`s, and the lenient `SearchRequest`;
//! - [`schema`] and [`spark`]: the typed schema description, the one source of truth for
//!   attribute characteristics, with case-insensitive path resolution;
//! - [`discovery`]: `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes` documents,
//!   rendered from that description;
//! - [`path`] and [`projection`]: attribute paths and the `attributes` /
//!   `excludedAttributes` projection.
//!
//! # What this crate does not know
//!
//! **Architecture invariant:** no IO. It does not know HTTP (status codes are data, not
//! responses), databases or SQL, tenants, tokens or configuration files. It does not parse
//! filters either: that is the `scim-filter` crate, which validates against the schema
//! description defined here. Nothing here panics on input; fallible operations return
//! `thiserror` errors.
//!
//! # Example
//!
//! Build the SCIM User for an employee and project it as for
//! `GET /Users/{id}?attributes=userName,name.givenName`:
//!
//! ```
//! use chrono::{TimeZone, Utc};
//! use scim_model::{AttrPath, EmployeeRecord, ManagerRef, USER_RESOURCE, project};
//! use serde_json::json;
//!
//! let when = Utc.with_ymd_and_hms(2024, 5, 13, 4, 42, 34).unwrap();
//! let record = EmployeeRecord {
//!     id: "2819c223".into(),
//!     email: "bjensen@example.com".into(),
//!     given_name: Some("Barbara".into()),
//!     family_name: Some("Jensen".into()),
//!     display_name: Some("Babs Jensen".into()),
//!     phone: None,
//!     title: Some("Tour Guide".into()),
//!     department: Some("Tours".into()),
//!     employee_number: None,
//!     manager: Some(ManagerRef { id: "26118915".into(), display_name: None }),
//!     active: true,
//!     created: when,
//!     updated: when,
//!     version: 3,
//!     external_id: None,
//! };
//! let user = record.to_scim_user("https://acme.spark.work/scim/v2");
//! assert_eq!(user.user_name, "bjensen@example.com");
//! assert_eq!(user.meta.version.as_deref(), Some("W/\"3\""));
//! assert_eq!(
//!     user.meta.location.as_deref(),
//!     Some("https://acme.spark.work/scim/v2/Users/2819c223")
//! );
//!
//! let attributes = AttrPath::parse_list("userName,name.givenName").unwrap();
//! let projected = project(&USER_RESOURCE, &user.to_value(), &attributes, &[]);
//! assert_eq!(
//!     projected,
//!     json!({
//!         "schemas": [
//!             "urn:ietf:params:scim:schemas:core:2.0:User",
//!             // The enterprise extension is gone, so is its URN.
//!         ],
//!         "id": "2819c223",
//!         "userName": "bjensen@example.com",
//!         "name": {"givenName": "Barbara"}
//!     })
//! );
//! ```

pub mod discovery;
pub mod employee;
pub mod json_writer;
pub mod message;
pub mod path;
pub mod projection;
pub mod resource;
pub mod schema;
pub mod spark;
mod timestamp;
pub mod urn;

pub use discovery::{
    ResourceType, SchemaAttribute, SchemaResource, ServiceProviderConfig, ServiceSettings,
};
pub use employee::{DepartmentRecord, EmployeeRecord, ManagerRef, MemberRef};
pub use message::{ListResponse, ScimError, ScimType, SearchRequest, SortOrder};
pub use path::{AttrPath, AttrPathError};
pub use projection::{Projection, project};
pub use resource::{
    Email, EnterpriseUser, Group, GroupMember, Manager, Meta, Name, PhoneNumber, User,
};
pub use schema::{
    AttributeDef, AttributeType, Mutability, ResolveError, Resolved, ResolvedAttribute,
    ResourceSchema, Returned, SchemaDef, Uniqueness,
};
pub use spark::{GROUP_RESOURCE, USER_RESOURCE};
