//! Discovery documents: `/ServiceProviderConfig`, `/Schemas` and `/ResourceTypes`
//! (RFC 7643 §5–§7, RFC 9865 §4 pagination).
//!
//! Schema and resource-type documents are rendered from the typed description in
//! [`crate::schema`] / [`crate::spark`], so what `/Schemas` publishes is exactly what filters
//! are validated against.

use serde::{Deserialize, Serialize};

use crate::resource::Meta;
use crate::schema::{
    AttributeDef, AttributeType, Mutability, ResourceSchema, Returned, SchemaDef, Uniqueness,
};
use crate::{spark, urn};

/// `{"supported": bool}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Supported {
    /// Whether the feature is supported.
    pub supported: bool,
}

/// The `bulk` member of the service provider configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkSupport {
    /// Whether bulk operations are supported.
    pub supported: bool,
    /// Maximum number of operations per request.
    pub max_operations: u32,
    /// Maximum payload size in bytes.
    pub max_payload_size: u64,
}

/// The `filter` member of the service provider configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterSupport {
    /// Whether filtering is supported.
    pub supported: bool,
    /// Maximum number of resources returned in one response.
    pub max_results: u32,
}

/// One authentication scheme (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthenticationScheme {
    /// The scheme type, e.g. `oauthbearertoken`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Common name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The specification of the scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_uri: Option<String>,
    /// Where to read about using it with this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// Whether it is the preferred scheme.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<bool>,
}

/// How results are paginated by default (RFC 9865).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum PaginationMethod {
    /// `startIndex`/`count` pagination (RFC 7644).
    Index,
    /// `cursor`/`count` pagination (RFC 9865).
    Cursor,
}

/// The `pagination` member of the service provider configuration (RFC 9865 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pagination {
    /// Whether cursor pagination is supported.
    pub cursor: bool,
    /// Whether index pagination is supported.
    pub index: bool,
    /// The method used when a request names neither.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_pagination_method: Option<PaginationMethod>,
    /// The page size used when a request has no `count`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_page_size: Option<u32>,
    /// The largest page size served.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_page_size: Option<u32>,
    /// Seconds a cursor stays valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_timeout: Option<u32>,
}

/// The service provider configuration (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceProviderConfig {
    /// `["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"]`.
    pub schemas: Vec<String>,
    /// Human-readable help.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documentation_uri: Option<String>,
    /// PATCH support.
    pub patch: Supported,
    /// Bulk support.
    pub bulk: BulkSupport,
    /// Filter support.
    pub filter: FilterSupport,
    /// Password-change support.
    pub change_password: Supported,
    /// Sorting support.
    pub sort: Supported,
    /// ETag support.
    pub etag: Supported,
    /// Accepted authentication schemes.
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// Pagination capabilities (RFC 9865).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pagination: Option<Pagination>,
    /// Metadata.
    pub meta: Meta,
}

/// The tunable numbers of Spark's service provider configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSettings {
    /// `filter.maxResults`: the most resources one response holds.
    pub max_results: u32,
    /// `pagination.defaultPageSize`.
    pub default_page_size: u32,
    /// `pagination.maxPageSize`.
    pub max_page_size: u32,
    /// `pagination.cursorTimeout`, in seconds.
    pub cursor_timeout_secs: u32,
    /// `documentationUri`.
    pub documentation_uri: Option<String>,
}

impl Default for ServiceSettings {
    /// 100 results per page by default, at most 1000, cursors valid for an hour.
    fn default() -> Self {
        Self {
            max_results: 1000,
            default_page_size: 100,
            max_page_size: 1000,
            cursor_timeout_secs: 3600,
            documentation_uri: None,
        }
    }
}

impl ServiceProviderConfig {
    /// Spark's configuration: a read-only service (no PATCH, bulk or password change) with
    /// filtering, sorting, ETags, bearer-token authentication, and both index and cursor
    /// pagination (index by default, as Okta expects).
    pub fn read_only(base_url: &str, settings: &ServiceSettings) -> Self {
        Self {
            schemas: vec![urn::SERVICE_PROVIDER_CONFIG.to_owned()],
            documentation_uri: settings.documentation_uri.clone(),
            patch: Supported { supported: false },
            bulk: BulkSupport {
                supported: false,
                max_operations: 0,
                max_payload_size: 0,
            },
            filter: FilterSupport {
                supported: true,
                max_results: settings.max_results,
            },
            change_password: Supported { supported: false },
            sort: Supported { supported: true },
            etag: Supported { supported: true },
            authentication_schemes: vec![AuthenticationScheme {
                kind: "oauthbearertoken".to_owned(),
                name: "OAuth Bearer Token".to_owned(),
                description: "Authentication with a SCIM token minted in Spark, sent as \
                              `Authorization: Bearer <token>`."
                    .to_owned(),
                spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".to_owned()),
                documentation_uri: None,
                primary: Some(true),
            }],
            pagination: Some(Pagination {
                cursor: true,
                index: true,
                default_pagination_method: Some(PaginationMethod::Index),
                default_page_size: Some(settings.default_page_size),
                max_page_size: Some(settings.max_page_size),
                cursor_timeout: Some(settings.cursor_timeout_secs),
            }),
            meta: discovery_meta(
                "ServiceProviderConfig",
                format!("{}/ServiceProviderConfig", trim(base_url)),
            ),
        }
    }
}

/// An attribute in a schema document (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaAttribute {
    /// Attribute name.
    pub name: String,
    /// Data type.
    #[serde(rename = "type")]
    pub attr_type: AttributeType,
    /// Whether it holds an array.
    pub multi_valued: bool,
    /// Description.
    pub description: String,
    /// Whether it is required.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Who may change it.
    pub mutability: Mutability,
    /// When it is returned.
    pub returned: Returned,
    /// How unique it is.
    pub uniqueness: Uniqueness,
    /// Suggested values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    /// What a reference may point to (reference attributes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    /// Sub-attributes (complex attributes only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<SchemaAttribute>,
}

impl From<&AttributeDef> for SchemaAttribute {
    fn from(def: &AttributeDef) -> Self {
        Self {
            name: def.name.to_owned(),
            attr_type: def.attr_type,
            multi_valued: def.multi_valued,
            description: def.description.to_owned(),
            required: def.required,
            case_exact: def.case_exact,
            mutability: def.mutability,
            returned: def.returned,
            uniqueness: def.uniqueness,
            canonical_values: def
                .canonical_values
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            reference_types: def
                .reference_types
                .iter()
                .map(|v| (*v).to_owned())
                .collect(),
            sub_attributes: def.sub_attributes.iter().map(Self::from).collect(),
        }
    }
}

/// A schema document, as served by `/Schemas` (RFC 7643 §7).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaResource {
    /// `["urn:ietf:params:scim:schemas:core:2.0:Schema"]`.
    pub schemas: Vec<String>,
    /// The schema URN.
    pub id: String,
    /// Human-readable name.
    pub name: String,
    /// Description.
    pub description: String,
    /// The attributes.
    pub attributes: Vec<SchemaAttribute>,
    /// Metadata (`resourceType: Schema`, `location`).
    pub meta: Meta,
}

impl SchemaResource {
    /// Renders a schema definition, with `meta.location` under `base_url`.
    pub fn from_def(def: &SchemaDef, base_url: &str) -> Self {
        Self {
            schemas: vec![urn::SCHEMA.to_owned()],
            id: def.id.to_owned(),
            name: def.name.to_owned(),
            description: def.description.to_owned(),
            attributes: def.attributes.iter().map(SchemaAttribute::from).collect(),
            meta: discovery_meta("Schema", format!("{}/Schemas/{}", trim(base_url), def.id)),
        }
    }
}

/// A schema extension entry of a resource type document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaExtensionRef {
    /// The extension's URN.
    pub schema: String,
    /// Whether resources must carry it.
    pub required: bool,
}

/// A resource type document, as served by `/ResourceTypes` (RFC 7643 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceType {
    /// `["urn:ietf:params:scim:schemas:core:2.0:ResourceType"]`.
    pub schemas: Vec<String>,
    /// The resource type's id (its name, e.g. `User`).
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: String,
    /// Description.
    pub description: String,
    /// The core schema URN.
    pub schema: String,
    /// Extensions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema_extensions: Vec<SchemaExtensionRef>,
    /// Metadata (`resourceType: ResourceType`, `location`).
    pub meta: Meta,
}

impl ResourceType {
    /// Renders a resource type definition, with `meta.location` under `base_url`.
    pub fn from_def(def: &ResourceSchema, base_url: &str) -> Self {
        Self {
            schemas: vec![urn::RESOURCE_TYPE.to_owned()],
            id: def.name.to_owned(),
            name: def.name.to_owned(),
            endpoint: def.endpoint.to_owned(),
            description: def.description.to_owned(),
            schema: def.core.id.to_owned(),
            schema_extensions: def
                .extensions
                .iter()
                .map(|ext| SchemaExtensionRef {
                    schema: ext.schema.id.to_owned(),
                    required: ext.required,
                })
                .collect(),
            meta: discovery_meta(
                "ResourceType",
                format!("{}/ResourceTypes/{}", trim(base_url), def.name),
            ),
        }
    }
}

/// Every schema document Spark serves (User, EnterpriseUser, Group).
pub fn schema_documents(base_url: &str) -> Vec<SchemaResource> {
    spark::SCHEMAS
        .iter()
        .map(|def| SchemaResource::from_def(def, base_url))
        .collect()
}

/// The schema document with this URN (ASCII case-insensitive), for `/Schemas/{urn}`.
pub fn schema_document(base_url: &str, id: &str) -> Option<SchemaResource> {
    spark::SCHEMAS
        .iter()
        .find(|def| def.id.eq_ignore_ascii_case(id))
        .map(|def| SchemaResource::from_def(def, base_url))
}

/// Every resource type document Spark serves (User, Group).
pub fn resource_type_documents(base_url: &str) -> Vec<ResourceType> {
    spark::RESOURCE_TYPES
        .iter()
        .map(|def| ResourceType::from_def(def, base_url))
        .collect()
}

/// The resource type document with this name (ASCII case-insensitive), for
/// `/ResourceTypes/{name}`.
pub fn resource_type_document(base_url: &str, name: &str) -> Option<ResourceType> {
    spark::RESOURCE_TYPES
        .iter()
        .find(|def| def.name.eq_ignore_ascii_case(name))
        .map(|def| ResourceType::from_def(def, base_url))
}

fn trim(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

fn discovery_meta(resource_type: &str, location: String) -> Meta {
    Meta {
        resource_type: resource_type.to_owned(),
        created: None,
        last_modified: None,
        location: Some(location),
        version: None,
    }
}
