//! Attribute projection: the `attributes` and `excludedAttributes` parameters
//! (RFC 7644 §3.4.2.5 and §3.9) applied to a resource's JSON.
//!
//! Rules, in order:
//!
//! 1. `schemas` and attributes with `returned: always` (e.g. `id`) are always kept;
//!    attributes (and sub-attributes) with `returned: never` are always removed.
//! 2. If `attributes` is non-empty, only the named attributes (plus rule 1) are kept. A
//!    sub-attribute path (`name.givenName`, `emails.value`) keeps the parent with only the
//!    named sub-attributes; a schema URN alone keeps that whole extension. Attributes with
//!    `returned: request` appear only when named here.
//! 3. Then the `excludedAttributes` are removed (they cannot remove rule-1 attributes).
//!    Giving both parameters is allowed: the result is "named, minus excluded".
//! 4. A complex value left without members is dropped, and an extension object left empty is
//!    dropped together with its URN in `schemas`.
//!
//! The output is a new `serde_json::Value`; its members come out in `serde_json::Map` order
//! (sorted by name unless serde_json's `preserve_order` feature is enabled). Member order
//! carries no meaning in JSON.
//!
//! Paths that do not resolve against the resource type are ignored (the RFC does not make
//! them an error, and clients send attribute lists written for other services); they are
//! reported by [`Projection::ignored`] for callers that want to be strict.

use serde_json::{Map, Value};

use crate::path::AttrPath;
use crate::schema::{AttributeDef, Resolved, ResourceSchema, Returned, SchemaDef};

/// A prepared projection for one resource type. Build it once per request and apply it to
/// every resource of the page.
#[derive(Debug, Clone)]
pub struct Projection {
    schema: &'static ResourceSchema,
    include: Option<Vec<Resolved>>,
    exclude: Vec<Resolved>,
    ignored: Vec<AttrPath>,
}

/// How a selection list touches one attribute.
enum Selection {
    Nothing,
    Whole,
    Subs(Vec<&'static AttributeDef>),
}

impl Projection {
    /// Resolves the `attributes` and `excludedAttributes` paths against `schema`.
    pub fn new(
        schema: &'static ResourceSchema,
        attributes: &[AttrPath],
        excluded_attributes: &[AttrPath],
    ) -> Self {
        let mut ignored = Vec::new();
        let mut resolve = |paths: &[AttrPath]| -> Vec<Resolved> {
            paths
                .iter()
                .filter_map(|path| match schema.resolve(path) {
                    Ok(resolved) => Some(resolved),
                    Err(_) => {
                        ignored.push(path.clone());
                        None
                    }
                })
                .collect()
        };
        let include = (!attributes.is_empty()).then(|| resolve(attributes));
        let exclude = resolve(excluded_attributes);
        Self {
            schema,
            include,
            exclude,
            ignored,
        }
    }

    /// The paths that did not resolve and were ignored.
    pub fn ignored(&self) -> &[AttrPath] {
        &self.ignored
    }

    /// Whether the projection changes nothing but `returned: never`/`request` attributes.
    pub fn is_default(&self) -> bool {
        self.include.is_none() && self.exclude.is_empty()
    }

    /// Applies the projection to a resource's JSON. Non-object values are returned as-is.
    pub fn apply(&self, resource: &Value) -> Value {
        let Value::Object(members) = resource else {
            return resource.clone();
        };
        let mut out = Map::new();
        let mut dropped_extensions: Vec<&str> = Vec::new();
        for (key, value) in members {
            if key.eq_ignore_ascii_case("schemas") {
                out.insert(key.clone(), value.clone());
            } else if let Some(attr) = self.schema.core.attribute(key) {
                if let Some(projected) = self.project_attribute(self.schema.core, attr, value) {
                    out.insert(key.clone(), projected);
                }
            } else if let Some(ext) = self.schema.schema(key) {
                match self.project_extension(ext, value) {
                    Some(projected) => {
                        out.insert(key.clone(), projected);
                    }
                    None => dropped_extensions.push(ext.id),
                }
            } else if self.include.is_none() {
                // Members the schema does not describe pass through unless the client asked
                // for specific attributes.
                out.insert(key.clone(), value.clone());
            }
        }
        if !dropped_extensions.is_empty() {
            for (key, value) in &mut out {
                if let (true, Value::Array(urns)) = (key.eq_ignore_ascii_case("schemas"), value) {
                    urns.retain(|urn| {
                        !urn.as_str().is_some_and(|urn| {
                            dropped_extensions
                                .iter()
                                .any(|dropped| dropped.eq_ignore_ascii_case(urn))
                        })
                    });
                }
            }
        }
        Value::Object(out)
    }

    fn project_extension(&self, schema: &'static SchemaDef, value: &Value) -> Option<Value> {
        let Value::Object(members) = value else {
            return self.include.is_none().then(|| value.clone());
        };
        let mut out = Map::new();
        for (key, value) in members {
            match schema.attribute(key) {
                Some(attr) => {
                    if let Some(projected) = self.project_attribute(schema, attr, value) {
                        out.insert(key.clone(), projected);
                    }
                }
                None if self.include.is_none() => {
                    out.insert(key.clone(), value.clone());
                }
                None => {}
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }

    fn project_attribute(
        &self,
        schema: &SchemaDef,
        attr: &'static AttributeDef,
        value: &Value,
    ) -> Option<Value> {
        match attr.returned {
            Returned::Never => return None,
            Returned::Always => return filter_subs(attr, value, |sub| default_keep(sub, true)),
            Returned::Default | Returned::Request => {}
        }
        let included = match &self.include {
            None if attr.returned == Returned::Request => return None,
            None => filter_subs(attr, value, |sub| default_keep(sub, true))?,
            Some(list) => match selection(list, schema, attr) {
                Selection::Nothing => return None,
                Selection::Whole => filter_subs(attr, value, |sub| default_keep(sub, false))?,
                Selection::Subs(subs) => filter_subs(attr, value, |sub| match sub {
                    Some(sub) if sub.returned == Returned::Never => false,
                    Some(sub) if sub.returned == Returned::Always => true,
                    Some(sub) => subs.iter().any(|s| s.name == sub.name),
                    None => false,
                })?,
            },
        };
        match selection(&self.exclude, schema, attr) {
            Selection::Nothing => Some(included),
            Selection::Whole => None,
            Selection::Subs(subs) => filter_subs(attr, &included, |sub| match sub {
                Some(sub) if sub.returned == Returned::Always => true,
                Some(sub) => !subs.iter().any(|s| s.name == sub.name),
                None => true,
            }),
        }
    }
}

/// Applies `attributes`/`excludedAttributes` to one resource: a shorthand for
/// [`Projection::new`] followed by [`Projection::apply`].
pub fn project(
    schema: &'static ResourceSchema,
    resource: &Value,
    attributes: &[AttrPath],
    excluded_attributes: &[AttrPath],
) -> Value {
    Projection::new(schema, attributes, excluded_attributes).apply(resource)
}

/// Whether a sub-attribute is kept when its parent is returned without naming
/// sub-attributes. Unknown members are kept when `keep_unknown`.
fn default_keep(sub: Option<&AttributeDef>, keep_unknown: bool) -> bool {
    match sub {
        Some(sub) => !matches!(sub.returned, Returned::Never | Returned::Request),
        None => keep_unknown,
    }
}

fn selection(list: &[Resolved], schema: &SchemaDef, attr: &AttributeDef) -> Selection {
    let mut subs = Vec::new();
    for resolved in list {
        match resolved {
            Resolved::Schema(selected) if selected.id == schema.id => return Selection::Whole,
            Resolved::Schema(_) => {}
            Resolved::Attribute(selected) => {
                if selected.schema.id == schema.id && selected.attribute.name == attr.name {
                    match selected.sub_attribute {
                        None => return Selection::Whole,
                        Some(sub) => subs.push(sub),
                    }
                }
            }
        }
    }
    if subs.is_empty() {
        Selection::Nothing
    } else {
        Selection::Subs(subs)
    }
}

/// Keeps the sub-attributes of a complex value (or of each element of a multi-valued one)
/// for which `keep` is true; `keep` gets `None` for members the schema does not describe.
/// Returns `None` when nothing is left.
fn filter_subs(
    attr: &AttributeDef,
    value: &Value,
    keep: impl Fn(Option<&AttributeDef>) -> bool,
) -> Option<Value> {
    if !attr.is_complex() {
        return Some(value.clone());
    }
    let filter_object = |members: &Map<String, Value>| -> Option<Value> {
        let kept: Map<String, Value> = members
            .iter()
            .filter(|(key, _)| keep(attr.sub_attribute(key)))
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        (!kept.is_empty()).then_some(Value::Object(kept))
    };
    match value {
        Value::Object(members) => filter_object(members),
        Value::Array(items) => {
            let kept: Vec<Value> = items
                .iter()
                .filter_map(|item| match item {
                    Value::Object(members) => filter_object(members),
                    other => Some(other.clone()),
                })
                .collect();
            (!kept.is_empty()).then_some(Value::Array(kept))
        }
        other => Some(other.clone()),
    }
}
