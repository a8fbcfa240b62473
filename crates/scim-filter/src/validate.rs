//! Validation of a parsed filter against a resource type's schema description, producing
//! the typed tree that evaluators and SQL translators consume.
//!
//! Validation resolves every attribute path to its definition (canonical names, schema,
//! type, `caseExact`, multi-valuedness), checks that the operator applies to the type, and
//! converts each literal to the attribute's type. It also normalizes, so that consumers
//! have fewer cases to handle:
//!
//! - `attr eq null` becomes `not (attr pr)` and `attr ne null` becomes `attr pr`
//!   (RFC 7643 §2.5: unassigned and null are the same state);
//! - a multi-valued complex attribute compared directly (`emails co "@example.com"`) is
//!   compared through its `value` sub-attribute (RFC 7643 §2.4), so the path resolves to
//!   `emails.value`;
//! - inside `attr[…]`, paths resolve to the full `attr.sub` (with
//!   [`ResolvedAttribute::sub_attribute`] set), evaluated per value of `attr`.

use std::fmt;

use scim_model::{
    AttrPath, AttributeDef, AttributeType, ResolveError, ResolvedAttribute, ResourceSchema,
};

use crate::ast::{CompValue, CompareOp, Filter, Path};
use crate::error::ValidationError;
use crate::limits::Limits;
use crate::value::{ScimString, TypedValue, parse_date_time};

/// A validated filter expression. Attribute references are resolved, values typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `attr op value`: true when some value of `attr` satisfies the comparison.
    Compare {
        /// The attribute (its [`ResolvedAttribute::target`] is never complex).
        attr: ResolvedAttribute,
        /// The operator; it applies to the attribute's type.
        op: CompareOp,
        /// The value, of the attribute's type.
        value: TypedValue,
    },
    /// `attr pr`: true when `attr` has a non-empty value.
    Present(ResolvedAttribute),
    /// `attr[filter]`: true when some value of the complex `attr` satisfies `filter`. The
    /// inner attributes have `attribute == attr.attribute` and a `sub_attribute`.
    ValuePath {
        /// The complex attribute (no sub-attribute).
        attr: ResolvedAttribute,
        /// The filter on each of its values.
        filter: Box<Expr>,
    },
    /// Negation.
    Not(Box<Expr>),
    /// Conjunction (true when empty).
    And(Vec<Expr>),
    /// Disjunction (false when empty).
    Or(Vec<Expr>),
}

/// A filter that has been checked against a resource type: the typed [`Expr`] plus the
/// [`Filter`] it came from. `Display` prints the original filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ValidatedFilter {
    expr: Expr,
    filter: Filter,
    resource: &'static ResourceSchema,
}

impl ValidatedFilter {
    /// Validates a parsed filter against `resource`.
    pub fn new(filter: Filter, resource: &'static ResourceSchema) -> Result<Self, ValidationError> {
        let depth = filter.depth();
        if depth > Limits::HARD_MAX_DEPTH {
            return Err(ValidationError::TooDeep {
                depth,
                max: Limits::HARD_MAX_DEPTH,
            });
        }
        let expr = validate(&filter, resource, None)?;
        Ok(Self {
            expr,
            filter,
            resource,
        })
    }

    /// The typed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// The filter as parsed.
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// The resource type it was validated against.
    pub fn resource(&self) -> &'static ResourceSchema {
        self.resource
    }

    /// The typed expression, by value.
    pub fn into_expr(self) -> Expr {
        self.expr
    }
}

impl fmt::Display for ValidatedFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.filter.fmt(f)
    }
}

impl Filter {
    /// Validates this filter against `resource` (see [`ValidatedFilter::new`]).
    pub fn validate(
        &self,
        resource: &'static ResourceSchema,
    ) -> Result<ValidatedFilter, ValidationError> {
        ValidatedFilter::new(self.clone(), resource)
    }
}

/// A validated [`Path`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValidatedPath {
    /// An attribute or sub-attribute.
    Attribute(ResolvedAttribute),
    /// Values of a complex attribute selected by a filter, optionally narrowed to a
    /// sub-attribute.
    ValuePath {
        /// The complex attribute.
        attr: ResolvedAttribute,
        /// The filter on each value (inner attributes as in [`Expr::ValuePath`]).
        filter: Expr,
        /// The sub-attribute selected from matching values.
        sub_attribute: Option<&'static AttributeDef>,
    },
}

impl Path {
    /// Validates this path against `resource`.
    pub fn validate(
        &self,
        resource: &'static ResourceSchema,
    ) -> Result<ValidatedPath, ValidationError> {
        match self {
            Self::Attribute(path) => {
                Ok(ValidatedPath::Attribute(resource.resolve_attribute(path)?))
            }
            Self::ValuePath {
                path,
                filter,
                sub_attr,
            } => {
                let depth = filter.depth() + 1;
                if depth > Limits::HARD_MAX_DEPTH {
                    return Err(ValidationError::TooDeep {
                        depth,
                        max: Limits::HARD_MAX_DEPTH,
                    });
                }
                let attr = complex_parent(resource.resolve_attribute(path)?)?;
                let filter = validate(filter, resource, Some(&attr))?;
                let sub_attribute = match sub_attr {
                    None => None,
                    Some(sub) => Some(
                        attr.attribute
                            .sub_attribute(sub)
                            .ok_or_else(|| unknown_sub_attribute(attr.attribute, sub))?,
                    ),
                };
                Ok(ValidatedPath::ValuePath {
                    attr,
                    filter,
                    sub_attribute,
                })
            }
        }
    }
}

/// Resolves a `sortBy` path. A multi-valued complex attribute sorts by its `value`
/// sub-attribute (RFC 7644 §3.4.2.3); other complex attributes cannot be sorted by.
pub fn resolve_sort_by(
    path: &AttrPath,
    resource: &'static ResourceSchema,
) -> Result<ResolvedAttribute, ValidationError> {
    let mut attr = resource.resolve_attribute(path)?;
    if attr.target().is_complex() {
        match attr.attribute.value_sub_attribute() {
            Some(value) if attr.attribute.multi_valued && attr.sub_attribute.is_none() => {
                attr.sub_attribute = Some(value);
            }
            _ => {
                return Err(ValidationError::NotSortable {
                    path: attr.to_string(),
                    reason: "it is a complex attribute; sort by one of its sub-attributes",
                });
            }
        }
    }
    Ok(attr)
}

fn complex_parent(attr: ResolvedAttribute) -> Result<ResolvedAttribute, ValidationError> {
    let target = attr.target();
    if attr.sub_attribute.is_some() || !target.is_complex() {
        return Err(ValidationError::ValuePathOnSimple {
            path: attr.to_string(),
            attr_type: target.attr_type,
        });
    }
    Ok(attr)
}

fn unknown_sub_attribute(attribute: &'static AttributeDef, sub: &str) -> ValidationError {
    ValidationError::Unresolved(ResolveError::unknown_sub_attribute(attribute, sub))
}

/// Recursion is bounded by the filter's depth, which callers check first. The recursive
/// functions are kept small; the work on leaves happens in [`validate_leaf`], whose larger
/// frame is never stacked (debug builds do not overlap stack slots, so this matters).
fn validate(
    filter: &Filter,
    resource: &'static ResourceSchema,
    parent: Option<&ResolvedAttribute>,
) -> Result<Expr, ValidationError> {
    match filter {
        Filter::Compare { .. } | Filter::Present(_) => validate_leaf(filter, resource, parent),
        Filter::ValuePath { path, filter } => validate_value_path(path, filter, resource, parent),
        Filter::Not(inner) => Ok(Expr::Not(Box::new(validate(inner, resource, parent)?))),
        Filter::And(items) => Ok(Expr::And(validate_all(items, resource, parent)?)),
        Filter::Or(items) => Ok(Expr::Or(validate_all(items, resource, parent)?)),
    }
}

fn validate_all(
    items: &[Filter],
    resource: &'static ResourceSchema,
    parent: Option<&ResolvedAttribute>,
) -> Result<Vec<Expr>, ValidationError> {
    if items.is_empty() {
        return Err(ValidationError::EmptyLogical);
    }
    let mut validated = Vec::with_capacity(items.len());
    for item in items {
        validated.push(validate(item, resource, parent)?);
    }
    Ok(validated)
}

fn validate_value_path(
    path: &AttrPath,
    filter: &Filter,
    resource: &'static ResourceSchema,
    parent: Option<&ResolvedAttribute>,
) -> Result<Expr, ValidationError> {
    if let Some(parent) = parent {
        return Err(ValidationError::NotASubAttribute {
            parent: parent.to_string(),
            path: format!("{path}[…]"),
            example: parent
                .attribute
                .sub_attributes
                .first()
                .map_or("value", |s| s.name),
        });
    }
    let attr = complex_parent(resource.resolve_attribute(path)?)?;
    let inner = validate(filter, resource, Some(&attr))?;
    Ok(Expr::ValuePath {
        attr,
        filter: Box::new(inner),
    })
}

#[inline(never)]
fn validate_leaf(
    filter: &Filter,
    resource: &'static ResourceSchema,
    parent: Option<&ResolvedAttribute>,
) -> Result<Expr, ValidationError> {
    match filter {
        Filter::Compare { path, op, value } => {
            compare(resolve(path, resource, parent)?, *op, value)
        }
        Filter::Present(path) => Ok(Expr::Present(resolve(path, resource, parent)?)),
        _ => Err(ValidationError::EmptyLogical),
    }
}

fn resolve(
    path: &AttrPath,
    resource: &'static ResourceSchema,
    parent: Option<&ResolvedAttribute>,
) -> Result<ResolvedAttribute, ValidationError> {
    let Some(parent) = parent else {
        return Ok(resource.resolve_attribute(path)?);
    };
    if path.urn.is_some() || path.sub_attr.is_some() {
        return Err(ValidationError::NotASubAttribute {
            parent: parent.to_string(),
            path: path.to_string(),
            example: parent
                .attribute
                .sub_attributes
                .first()
                .map_or("value", |s| s.name),
        });
    }
    let sub = parent
        .attribute
        .sub_attribute(&path.name)
        .ok_or_else(|| unknown_sub_attribute(parent.attribute, &path.name))?;
    Ok(ResolvedAttribute {
        sub_attribute: Some(sub),
        ..*parent
    })
}

fn compare(
    mut attr: ResolvedAttribute,
    op: CompareOp,
    value: &CompValue,
) -> Result<Expr, ValidationError> {
    if *value == CompValue::Null {
        return match op {
            CompareOp::Eq => Ok(Expr::Not(Box::new(Expr::Present(attr)))),
            CompareOp::Ne => Ok(Expr::Present(attr)),
            _ => Err(ValidationError::NullComparison {
                path: attr.to_string(),
                op,
            }),
        };
    }
    if attr.target().is_complex() {
        match attr.attribute.value_sub_attribute() {
            Some(value_sub) if attr.attribute.multi_valued && attr.sub_attribute.is_none() => {
                attr.sub_attribute = Some(value_sub);
            }
            _ => {
                let target = attr.target();
                return Err(ValidationError::ComplexComparison {
                    path: attr.to_string(),
                    op,
                    subs: target
                        .sub_attributes
                        .iter()
                        .map(|s| s.name)
                        .collect::<Vec<_>>()
                        .join(", "),
                    example: target.sub_attributes.first().map_or("value", |s| s.name),
                });
            }
        }
    }
    let target = attr.target();
    let attr_type = target.attr_type;
    let allowed = match attr_type {
        AttributeType::String | AttributeType::Reference => None,
        AttributeType::Boolean | AttributeType::Binary => {
            (!matches!(op, CompareOp::Eq | CompareOp::Ne)).then_some("use eq, ne or pr")
        }
        AttributeType::Integer | AttributeType::Decimal | AttributeType::DateTime => op
            .is_substring()
            .then_some("use eq, ne, gt, ge, lt, le or pr"),
        AttributeType::Complex => Some("compare one of its sub-attributes"),
    };
    if let Some(allowed) = allowed {
        return Err(ValidationError::OperatorNotSupported {
            path: attr.to_string(),
            op,
            attr_type,
            allowed,
        });
    }
    let wrong_type = |hint: &'static str| ValidationError::WrongValueType {
        path: attr.to_string(),
        expected: attr_type,
        value: value.to_string(),
        found: value.kind(),
        hint,
    };
    let typed = match (attr_type, value) {
        (
            AttributeType::String | AttributeType::Reference | AttributeType::Binary,
            CompValue::String(s),
        ) => TypedValue::String(ScimString::new(s.clone(), target.case_exact)),
        (AttributeType::String | AttributeType::Reference | AttributeType::Binary, _) => {
            return Err(wrong_type(
                "put text in double quotes, e.g. \"jane@example.com\"",
            ));
        }
        (AttributeType::Boolean, CompValue::Bool(b)) => TypedValue::Boolean(*b),
        (AttributeType::Boolean, _) => {
            return Err(wrong_type("write true or false, without quotes"));
        }
        (AttributeType::Integer, CompValue::Number(n)) => {
            TypedValue::Integer(integer(n).ok_or_else(|| ValidationError::InvalidInteger {
                path: attr.to_string(),
                value: n.to_string(),
            })?)
        }
        (AttributeType::Decimal, CompValue::Number(n)) => TypedValue::Decimal(
            n.as_f64()
                .filter(|f| f.is_finite())
                .ok_or_else(|| wrong_type("write a number without quotes, e.g. 1.5"))?,
        ),
        (AttributeType::Integer | AttributeType::Decimal, _) => {
            return Err(wrong_type("write a number without quotes, e.g. 42"));
        }
        (AttributeType::DateTime, CompValue::String(s)) => {
            TypedValue::DateTime(parse_date_time(s).ok_or_else(|| {
                ValidationError::InvalidDateTime {
                    path: attr.to_string(),
                    value: value.to_string(),
                }
            })?)
        }
        (AttributeType::DateTime, _) => {
            return Err(wrong_type(
                "write a date-time in double quotes, e.g. \"2011-05-13T04:42:34Z\"",
            ));
        }
        (AttributeType::Complex, _) => {
            return Err(wrong_type("compare one of its sub-attributes"));
        }
    };
    Ok(Expr::Compare {
        attr,
        op,
        value: typed,
    })
}

/// A JSON number as an `i64`, if it is a whole number in range (`42`, `42.0`, `4.2e1`).
fn integer(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return Some(i);
    }
    let f = n.as_f64()?;
    // 2^63 as f64; every f64 strictly below it in magnitude with no fraction fits in i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        #[allow(clippy::cast_possible_truncation)]
        Some(f as i64)
    } else {
        None
    }
}
