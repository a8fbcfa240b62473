//! The typed schema description: what attributes a resource has and how they behave.
//!
//! This is the single source of truth for attribute characteristics (RFC 7643 §2.2 and §7).
//! The `/Schemas` discovery documents ([`crate::discovery::SchemaResource`]) are rendered from
//! it, attribute projection ([`crate::projection`]) consults it for `returned`, and the
//! `scim-filter` crate validates filters against it (types, `caseExact`, multi-valuedness).
//!
//! Definitions are `static` data built with `const fn` builders, so a resolved attribute is a
//! plain `&'static AttributeDef` that can be stored anywhere without lifetimes. Spark's own
//! definitions live in [`crate::spark`].
//!
//! Name lookups are ASCII case-insensitive, as RFC 7643 §2.1 requires for attribute names
//! and RFC 7644 §3.10 for schema URIs in attribute paths.

use serde::{Deserialize, Serialize};

use crate::path::AttrPath;

/// The data type of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum AttributeType {
    /// A Unicode string; comparisons honour `caseExact`.
    String,
    /// `true` or `false`.
    Boolean,
    /// A real number.
    Decimal,
    /// A whole number (Spark uses 64 bits).
    Integer,
    /// An `xsd:dateTime`, e.g. `2011-05-13T04:42:34Z`; compared as instants.
    DateTime,
    /// Base64-encoded bytes.
    Binary,
    /// A URI referring to a resource; compared as a string.
    Reference,
    /// A composition of sub-attributes.
    Complex,
}

impl AttributeType {
    /// The name used in schema documents (`"string"`, `"dateTime"`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Boolean => "boolean",
            Self::Decimal => "decimal",
            Self::Integer => "integer",
            Self::DateTime => "dateTime",
            Self::Binary => "binary",
            Self::Reference => "reference",
            Self::Complex => "complex",
        }
    }
}

impl std::fmt::Display for AttributeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether and how a client may change an attribute (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    /// The service provider owns the value; clients cannot change it.
    ReadOnly,
    /// Clients may change the value.
    ReadWrite,
    /// Clients may set the value once, at creation.
    Immutable,
    /// Clients may set the value but it is never returned.
    WriteOnly,
}

/// When an attribute appears in a response (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    /// Always returned, whatever `attributes`/`excludedAttributes` say.
    Always,
    /// Never returned.
    Never,
    /// Returned unless excluded, or unless `attributes` names other attributes only.
    Default,
    /// Returned only when named in `attributes`.
    Request,
}

/// How unique a value is (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    /// No uniqueness is enforced.
    None,
    /// Unique within the service provider (for Spark: within a workspace).
    Server,
    /// Globally unique.
    Global,
}

/// The definition of one attribute or sub-attribute.
///
/// Build one with [`AttributeDef::new`] and the `const` builder methods; every
/// characteristic defaults to what Spark serves most: single-valued, optional,
/// case-insensitive, `readOnly` (provisioning is import-only, so Spark owns every value),
/// `returned: default`, `uniqueness: none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttributeDef {
    /// The attribute name as served, e.g. `userName`.
    pub name: &'static str,
    /// The data type.
    pub attr_type: AttributeType,
    /// Whether the value is a JSON array of values.
    pub multi_valued: bool,
    /// Human-readable description, published in `/Schemas`.
    pub description: &'static str,
    /// Whether the attribute is required.
    pub required: bool,
    /// Whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Who may change the value.
    pub mutability: Mutability,
    /// When the value is returned.
    pub returned: Returned,
    /// How unique the value is.
    pub uniqueness: Uniqueness,
    /// Suggested values (e.g. `work`, `home` for `emails.type`); empty when open-ended.
    pub canonical_values: &'static [&'static str],
    /// For `reference` attributes: the resource types or `external`/`uri` it may point to.
    pub reference_types: &'static [&'static str],
    /// For `complex` attributes: the sub-attributes.
    pub sub_attributes: &'static [AttributeDef],
}

impl AttributeDef {
    /// A single-valued, optional, case-insensitive, read-only attribute returned by default.
    pub const fn new(
        name: &'static str,
        attr_type: AttributeType,
        description: &'static str,
    ) -> Self {
        Self {
            name,
            attr_type,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadOnly,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }

    /// A complex attribute with the given sub-attributes.
    pub const fn complex(
        name: &'static str,
        description: &'static str,
        sub_attributes: &'static [AttributeDef],
    ) -> Self {
        let mut def = Self::new(name, AttributeType::Complex, description);
        def.sub_attributes = sub_attributes;
        def
    }

    /// Marks the attribute multi-valued.
    pub const fn multi_valued(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Marks the attribute required.
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks string comparisons case-sensitive.
    pub const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }

    /// Sets the mutability.
    pub const fn mutability(mut self, mutability: Mutability) -> Self {
        self.mutability = mutability;
        self
    }

    /// Sets when the attribute is returned.
    pub const fn returned(mut self, returned: Returned) -> Self {
        self.returned = returned;
        self
    }

    /// Sets the uniqueness.
    pub const fn uniqueness(mut self, uniqueness: Uniqueness) -> Self {
        self.uniqueness = uniqueness;
        self
    }

    /// Sets the canonical values.
    pub const fn canonical_values(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// Sets the reference types (for `reference` attributes).
    pub const fn reference_types(mut self, types: &'static [&'static str]) -> Self {
        self.reference_types = types;
        self
    }

    /// Whether this is a complex attribute.
    pub fn is_complex(&self) -> bool {
        self.attr_type == AttributeType::Complex
    }

    /// The sub-attribute called `name`, compared ASCII case-insensitively.
    pub fn sub_attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|sub| sub.name.eq_ignore_ascii_case(name))
    }

    /// The sub-attribute a multi-valued complex attribute is compared by when a filter names
    /// the attribute alone (`emails co "@example.com"`): its `value` sub-attribute
    /// (RFC 7643 §2.4).
    pub fn value_sub_attribute(&self) -> Option<&'static AttributeDef> {
        if self.is_complex() {
            self.sub_attribute("value")
        } else {
            None
        }
    }
}

/// A schema: a URN and its attributes (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaDef {
    /// The schema URN, e.g. `urn:ietf:params:scim:schemas:core:2.0:User`.
    pub id: &'static str,
    /// Human-readable name, e.g. `User`.
    pub name: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// The attributes, in the order they are published.
    pub attributes: &'static [AttributeDef],
}

impl SchemaDef {
    /// The attribute called `name`, compared ASCII case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&'static AttributeDef> {
        self.attributes
            .iter()
            .find(|attr| attr.name.eq_ignore_ascii_case(name))
    }
}

/// A schema extension of a resource type, e.g. the enterprise User extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaExtension {
    /// The extension schema.
    pub schema: &'static SchemaDef,
    /// Whether every resource of the type must carry the extension.
    pub required: bool,
}

/// A resource type: its core schema and its extensions (RFC 7643 §6).
///
/// Resolution of attribute paths happens here, because an unqualified name may live in the
/// core schema or (leniently) in an extension, and a URN may name an extension as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceSchema {
    /// The resource type name and id, e.g. `User`.
    pub name: &'static str,
    /// The endpoint relative to the base URL, e.g. `/Users`.
    pub endpoint: &'static str,
    /// Human-readable description.
    pub description: &'static str,
    /// The core schema. For Spark it also lists the common attributes `id`, `externalId`
    /// and `meta` (RFC 7643 §3.1 allows this; their characteristics are the RFC's).
    pub core: &'static SchemaDef,
    /// The schema extensions.
    pub extensions: &'static [SchemaExtension],
}

/// The `schemas` attribute every resource carries (RFC 7643 §3). It is not published in
/// any schema document but can be filtered on (`schemas eq "urn:…"`) and is always returned.
pub static SCHEMAS_ATTRIBUTE: AttributeDef = AttributeDef::new(
    "schemas",
    AttributeType::Reference,
    "The URIs of the schemas the resource's attributes come from.",
)
.multi_valued()
.required()
.returned(Returned::Always)
.reference_types(&["uri"]);

/// What an attribute path names within a resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolved {
    /// A whole schema, named by its URN alone (e.g.
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User` in `excludedAttributes`).
    Schema(&'static SchemaDef),
    /// An attribute or sub-attribute.
    Attribute(ResolvedAttribute),
}

/// An attribute path resolved against a [`ResourceSchema`], with canonical names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedAttribute {
    /// The schema the attribute belongs to (the core schema for `schemas` and the common
    /// attributes).
    pub schema: &'static SchemaDef,
    /// Whether `schema` is the resource type's core schema (so the attribute sits at the top
    /// level of the JSON, not inside an extension object).
    pub in_core: bool,
    /// The (top-level) attribute.
    pub attribute: &'static AttributeDef,
    /// The sub-attribute, if the path names one.
    pub sub_attribute: Option<&'static AttributeDef>,
}

impl ResolvedAttribute {
    /// The definition that describes the value the path points at: the sub-attribute if
    /// there is one, else the attribute.
    pub fn target(&self) -> &'static AttributeDef {
        self.sub_attribute.unwrap_or(self.attribute)
    }

    /// Whether the path can yield several values: the attribute or the sub-attribute is
    /// multi-valued (`emails.value` is, because `emails` is).
    pub fn is_multi_valued(&self) -> bool {
        self.attribute.multi_valued || self.sub_attribute.is_some_and(|sub| sub.multi_valued)
    }

    /// The canonical path: names as defined, URN-qualified only for extension attributes.
    pub fn path(&self) -> AttrPath {
        AttrPath {
            urn: (!self.in_core).then(|| self.schema.id.to_owned()),
            name: self.attribute.name.to_owned(),
            sub_attr: self.sub_attribute.map(|sub| sub.name.to_owned()),
        }
    }
}

impl std::fmt::Display for ResolvedAttribute {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.in_core {
            write!(f, "{}:", self.schema.id)?;
        }
        f.write_str(self.attribute.name)?;
        if let Some(sub) = self.sub_attribute {
            write!(f, ".{}", sub.name)?;
        }
        Ok(())
    }
}

/// Why an attribute path does not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    /// The URN prefix names no schema of the resource type.
    #[error("unknown schema `{urn}`; {resource} resources use {known}")]
    UnknownSchema {
        /// The URN as written.
        urn: String,
        /// The resource type name.
        resource: &'static str,
        /// The schema URNs the resource type does have, comma-separated.
        known: String,
    },
    /// No attribute of that name.
    #[error("unknown attribute `{name}` for {resource} resources{suggestion}")]
    UnknownAttribute {
        /// The attribute name as written (with its URN if it had one).
        name: String,
        /// The resource type name.
        resource: &'static str,
        /// A "; did you mean …?" hint, possibly empty.
        suggestion: String,
    },
    /// The attribute has no sub-attribute of that name.
    #[error("`{attribute}` has no sub-attribute `{sub}`; it has {known}")]
    UnknownSubAttribute {
        /// The canonical attribute name.
        attribute: &'static str,
        /// The sub-attribute as written.
        sub: String,
        /// The sub-attributes it does have, comma-separated.
        known: String,
    },
    /// A sub-attribute was named on an attribute that is not complex.
    #[error("`{attribute}` is a {attr_type} attribute and has no sub-attributes (`{sub}`)")]
    NotComplex {
        /// The canonical attribute name.
        attribute: &'static str,
        /// Its type.
        attr_type: AttributeType,
        /// The sub-attribute as written.
        sub: String,
    },
}

impl ResolveError {
    /// `attribute` has no sub-attribute `sub`; the error lists the ones it has.
    pub fn unknown_sub_attribute(attribute: &AttributeDef, sub: &str) -> Self {
        Self::UnknownSubAttribute {
            attribute: attribute.name,
            sub: sub.to_owned(),
            known: attribute
                .sub_attributes
                .iter()
                .map(|s| s.name)
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

impl ResourceSchema {
    /// The core schema followed by the extension schemas.
    pub fn schemas(&self) -> impl Iterator<Item = &'static SchemaDef> + '_ {
        std::iter::once(self.core).chain(self.extensions.iter().map(|ext| ext.schema))
    }

    /// The schema (core or extension) with this URN, compared ASCII case-insensitively.
    pub fn schema(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.schemas()
            .find(|schema| schema.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `schema` is this resource type's core schema.
    pub fn is_core(&self, schema: &SchemaDef) -> bool {
        std::ptr::eq(schema, self.core) || schema.id.eq_ignore_ascii_case(self.core.id)
    }

    /// Resolves an attribute path (`userName`, `name.givenName`,
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, or a
    /// schema URN alone).
    ///
    /// An unqualified name is looked up in the core schema first, then in the extensions
    /// (RFC 7644 §3.10 says clients SHOULD qualify extension attributes; Spark accepts the
    /// unambiguous short form too). `schemas` resolves to [`SCHEMAS_ATTRIBUTE`].
    pub fn resolve(&self, path: &AttrPath) -> Result<Resolved, ResolveError> {
        self.resolve_parts(path.urn.as_deref(), &path.name, path.sub_attr.as_deref())
    }

    /// [`ResourceSchema::resolve`] on the parts of a path.
    pub fn resolve_parts(
        &self,
        urn: Option<&str>,
        name: &str,
        sub: Option<&str>,
    ) -> Result<Resolved, ResolveError> {
        let (schema, attribute) = match urn {
            Some(urn) => {
                if sub.is_none()
                    && let Some(schema) = self.schemas().find(|s| matches_urn(s.id, urn, name))
                {
                    return Ok(Resolved::Schema(schema));
                }
                let schema = self
                    .schema(urn)
                    .ok_or_else(|| ResolveError::UnknownSchema {
                        urn: urn.to_owned(),
                        resource: self.name,
                        known: self.schemas().map(|s| s.id).collect::<Vec<_>>().join(", "),
                    })?;
                let attribute = if self.is_core(schema) && name.eq_ignore_ascii_case("schemas") {
                    Some(&SCHEMAS_ATTRIBUTE)
                } else {
                    schema.attribute(name)
                };
                let attribute = attribute.ok_or_else(|| self.unknown_attribute(urn, name))?;
                (schema, attribute)
            }
            None => {
                if name.eq_ignore_ascii_case("schemas") {
                    (self.core, &SCHEMAS_ATTRIBUTE)
                } else {
                    self.schemas()
                        .find_map(|schema| schema.attribute(name).map(|attr| (schema, attr)))
                        .ok_or_else(|| self.unknown_attribute("", name))?
                }
            }
        };
        let sub_attribute = match sub {
            None => None,
            Some(sub) if attribute.is_complex() => Some(
                attribute
                    .sub_attribute(sub)
                    .ok_or_else(|| ResolveError::unknown_sub_attribute(attribute, sub))?,
            ),
            Some(sub) => {
                return Err(ResolveError::NotComplex {
                    attribute: attribute.name,
                    attr_type: attribute.attr_type,
                    sub: sub.to_owned(),
                });
            }
        };
        Ok(Resolved::Attribute(ResolvedAttribute {
            schema,
            in_core: self.is_core(schema),
            attribute,
            sub_attribute,
        }))
    }

    /// Resolves a path that must name an attribute (not a whole schema).
    pub fn resolve_attribute(&self, path: &AttrPath) -> Result<ResolvedAttribute, ResolveError> {
        match self.resolve(path)? {
            Resolved::Attribute(attr) => Ok(attr),
            Resolved::Schema(schema) => Err(ResolveError::UnknownAttribute {
                name: path.to_string(),
                resource: self.name,
                suggestion: format!(
                    "; `{}` is a whole schema, name one of its attributes instead, e.g. `{}:{}`",
                    schema.id,
                    schema.id,
                    schema.attributes.first().map_or("…", |a| a.name)
                ),
            }),
        }
    }

    fn unknown_attribute(&self, urn: &str, name: &str) -> ResolveError {
        let candidates = self
            .schemas()
            .flat_map(|s| s.attributes.iter().map(|a| a.name));
        let suggestion = closest(name, candidates)
            .map(|best| format!("; did you mean `{best}`?"))
            .unwrap_or_default();
        ResolveError::UnknownAttribute {
            name: if urn.is_empty() {
                name.to_owned()
            } else {
                format!("{urn}:{name}")
            },
            resource: self.name,
            suggestion,
        }
    }
}

/// Whether `full` equals `urn + ":" + name`, ASCII case-insensitively, without allocating.
fn matches_urn(full: &str, urn: &str, name: &str) -> bool {
    full.len() == urn.len() + 1 + name.len()
        && full
            .get(..urn.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(urn))
        && full.get(urn.len()..=urn.len()) == Some(":")
        && full
            .get(urn.len() + 1..)
            .is_some_and(|tail| tail.eq_ignore_ascii_case(name))
}

/// The candidate closest to `name` by case-insensitive edit distance, if it is close enough
/// to be a plausible typo (at most 2 edits, or 3 for long names).
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let name: Vec<char> = name.to_lowercase().chars().collect();
    let limit = if name.len() > 8 { 3 } else { 2 };
    candidates
        .map(|candidate| {
            let chars: Vec<char> = candidate.to_lowercase().chars().collect();
            (edit_distance(&name, &chars), candidate)
        })
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        let mut row = current.iter_mut();
        if let Some(first) = row.next() {
            *first = i + 1;
        }
        let mut left = i + 1;
        for ((j, cb), cell) in b.iter().enumerate().zip(row) {
            let diagonal = previous.get(j).copied().unwrap_or(usize::MAX);
            let up = previous.get(j + 1).copied().unwrap_or(usize::MAX);
            let cost = usize::from(ca != cb);
            let value = (diagonal.saturating_add(cost))
                .min(up.saturating_add(1))
                .min(left.saturating_add(1));
            *cell = value;
            left = value;
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous.last().copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spark::{ENTERPRISE_USER_SCHEMA, USER_RESOURCE};

    fn path(s: &str) -> AttrPath {
        s.parse().unwrap()
    }

    #[test]
    fn resolves_core_attributes_case_insensitively() {
        let Resolved::Attribute(attr) = USER_RESOURCE.resolve(&path("USERNAME")).unwrap() else {
            panic!("expected an attribute")
        };
        assert_eq!(attr.attribute.name, "userName");
        assert!(attr.in_core);
        assert_eq!(attr.to_string(), "userName");
    }

    #[test]
    fn resolves_sub_attributes_and_meta() {
        let attr = USER_RESOURCE
            .resolve_attribute(&path("meta.LASTMODIFIED"))
            .unwrap();
        assert_eq!(attr.target().attr_type, AttributeType::DateTime);
        assert_eq!(attr.to_string(), "meta.lastModified");
        let attr = USER_RESOURCE
            .resolve_attribute(&path("emails.value"))
            .unwrap();
        assert!(attr.is_multi_valued());
    }

    #[test]
    fn resolves_extension_attributes_qualified_or_not() {
        let qualified = USER_RESOURCE
            .resolve_attribute(&path(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ))
            .unwrap();
        let short = USER_RESOURCE
            .resolve_attribute(&path("department"))
            .unwrap();
        assert_eq!(qualified, short);
        assert!(!short.in_core);
        assert_eq!(
            short.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
        );
        let manager = USER_RESOURCE
            .resolve_attribute(&path(
                "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER:manager.$REF",
            ))
            .unwrap();
        assert_eq!(manager.target().name, "$ref");
    }

    #[test]
    fn resolves_core_urn_prefix_and_whole_schemas() {
        let attr = USER_RESOURCE
            .resolve_attribute(&path("urn:ietf:params:scim:schemas:core:2.0:User:userName"))
            .unwrap();
        assert_eq!(attr.attribute.name, "userName");
        assert_eq!(
            USER_RESOURCE
                .resolve(&path(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
                ))
                .unwrap(),
            Resolved::Schema(&ENTERPRISE_USER_SCHEMA)
        );
    }

    #[test]
    fn explains_failures() {
        let err = USER_RESOURCE
            .resolve_attribute(&path("usrName"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown attribute `usrName` for User resources; did you mean `userName`?"
        );
        let err = USER_RESOURCE
            .resolve_attribute(&path("userName.value"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`userName` is a string attribute and has no sub-attributes (`value`)"
        );
        let err = USER_RESOURCE
            .resolve_attribute(&path("name.middleName"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "`name` has no sub-attribute `middleName`; it has formatted, familyName, givenName"
        );
        let err = USER_RESOURCE
            .resolve_attribute(&path("urn:example:custom:1.0:User:thing"))
            .unwrap_err();
        assert!(matches!(err, ResolveError::UnknownSchema { .. }), "{err}");
    }

    #[test]
    fn edit_distance_works() {
        let d = |a: &str, b: &str| {
            edit_distance(
                &a.chars().collect::<Vec<_>>(),
                &b.chars().collect::<Vec<_>>(),
            )
        };
        assert_eq!(d("kitten", "sitting"), 3);
        assert_eq!(d("", "abc"), 3);
        assert_eq!(d("abc", "abc"), 0);
    }
}
