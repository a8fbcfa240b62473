//! Helpers shared by the integration tests.

#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use scim_filter::{Filter, Path};
use scim_model::schema::{AttributeDef, AttributeType, ResourceSchema, SchemaDef};

/// A compact, stable dump of a filter tree for snapshots:
/// `(and (eq userName "x") (pr title))`.
pub fn sx(filter: &Filter) -> String {
    match filter {
        Filter::Compare { path, op, value } => format!("({op} {path} {value})"),
        Filter::Present(path) => format!("(pr {path})"),
        Filter::ValuePath { path, filter } => format!("({path}[] {})", sx(filter)),
        Filter::Not(inner) => format!("(not {})", sx(inner)),
        Filter::And(items) => format!(
            "(and {})",
            items.iter().map(sx).collect::<Vec<_>>().join(" ")
        ),
        Filter::Or(items) => format!(
            "(or {})",
            items.iter().map(sx).collect::<Vec<_>>().join(" ")
        ),
    }
}

/// `sx` of a path.
pub fn sx_path(path: &Path) -> String {
    match path {
        Path::Attribute(path) => format!("(path {path})"),
        Path::ValuePath {
            path,
            filter,
            sub_attr,
        } => format!(
            "(path {path}[{}]{})",
            sx(filter),
            sub_attr
                .as_ref()
                .map(|s| format!(".{s}"))
                .unwrap_or_default()
        ),
    }
}

/// Parses or panics with the error message.
pub fn parse(input: &str) -> Filter {
    Filter::parse(input).unwrap_or_else(|e| panic!("{input:?} rejected: {e}"))
}

/// The parse error message (panics if the input parses).
pub fn parse_err(input: &str) -> String {
    match Filter::parse(input) {
        Ok(filter) => panic!("{input:?} parsed as {}", sx(&filter)),
        Err(e) => e.to_string(),
    }
}

const fn string(name: &'static str) -> AttributeDef {
    AttributeDef::new(name, AttributeType::String, "test")
}

/// A slice of the RFC 7643 User schema with the attributes the RFC 7644 filter examples use
/// (`userType`, `ims`, …), which Spark does not serve.
pub static RFC_USER_SCHEMA: SchemaDef = SchemaDef {
    id: "urn:ietf:params:scim:schemas:core:2.0:User",
    name: "User",
    description: "RFC 7643 User (test subset)",
    attributes: &[
        string("id").case_exact(),
        string("userName"),
        AttributeDef::complex("name", "test", &[string("familyName"), string("givenName")]),
        string("title"),
        string("userType"),
        AttributeDef::new("active", AttributeType::Boolean, "test"),
        AttributeDef::new("loginCount", AttributeType::Integer, "test"),
        AttributeDef::new("score", AttributeType::Decimal, "test"),
        AttributeDef::complex(
            "emails",
            "test",
            &[
                string("value"),
                string("type"),
                AttributeDef::new("primary", AttributeType::Boolean, "test"),
            ],
        )
        .multi_valued(),
        AttributeDef::complex("ims", "test", &[string("value"), string("type")]).multi_valued(),
        string("nickNames").multi_valued(),
        AttributeDef::complex(
            "meta",
            "test",
            &[
                AttributeDef::new("created", AttributeType::DateTime, "test"),
                AttributeDef::new("lastModified", AttributeType::DateTime, "test"),
            ],
        ),
    ],
};

/// The RFC test resource type.
pub static RFC_USER: ResourceSchema = ResourceSchema {
    name: "User",
    endpoint: "/Users",
    description: "test",
    core: &RFC_USER_SCHEMA,
    extensions: &[],
};
