//! In-memory evaluation of validated filters over resource JSON (`serde_json::Value`).
//!
//! Semantics (the SQL translation in `persistence` must reproduce them):
//!
//! - **Any value matches.** A path can yield several values (`emails.value`, `schemas`); a
//!   comparison is true when at least one value satisfies it (RFC 7644 §3.4.2.2).
//! - **Absent means no values.** A missing, `null` or empty attribute yields no values, so
//!   every comparison on it is false, *including `ne`*: `title ne "x"` does not match a user
//!   without a title (like SQL's `title <> 'x'`). `not (title eq "x")` does match it: `not`
//!   negates the two-valued result (unlike SQL's three-valued `NOT`, so a translation must
//!   use e.g. `NOT COALESCE(…, FALSE)`).
//! - **`pr`** is true when some value is non-empty: not `null`, not `""`, not `[]`, and for
//!   complex values, having at least one non-empty member.
//! - **Types.** A JSON value of the wrong type (a number where a string is expected, an
//!   unparsable date-time) never matches. Strings honour `caseExact` ([`crate::value`]).
//! - Member names in the JSON are matched exactly first, then ASCII case-insensitively.
//!   Extension attributes are looked up inside the object named by their schema URN.

use serde_json::{Map, Value};

use scim_model::ResolvedAttribute;

use crate::ast::CompareOp;
use crate::validate::{Expr, ValidatedFilter, ValidatedPath};
use crate::value::{TypedValue, ordering_holds, parse_date_time};

impl ValidatedFilter {
    /// Whether `resource` (a SCIM resource's JSON) matches the filter.
    pub fn matches(&self, resource: &Value) -> bool {
        self.expr().matches(resource)
    }
}

impl Expr {
    /// Whether `resource` (a SCIM resource's JSON) matches the expression.
    pub fn matches(&self, resource: &Value) -> bool {
        eval(self, resource, None)
    }
}

impl ValidatedPath {
    /// The values the path selects in `resource`: for an attribute path, every value it
    /// yields (flattening multi-valued attributes); for a value path, the matching values
    /// of the complex attribute, or their sub-attribute if the path names one.
    pub fn select<'v>(&self, resource: &'v Value) -> Vec<&'v Value> {
        let mut out = Vec::new();
        match self {
            Self::Attribute(attr) => {
                for_each_value(attr, resource, None, &mut |value| {
                    out.push(value);
                    false
                });
            }
            Self::ValuePath {
                attr,
                filter,
                sub_attribute,
            } => {
                for_each_value(attr, resource, None, &mut |element| {
                    if eval(filter, resource, Some(element)) {
                        match sub_attribute {
                            None => out.push(element),
                            Some(sub) => {
                                if let Some(value) =
                                    member(element, sub.name).filter(|value| !value.is_null())
                                {
                                    out.push(value);
                                }
                            }
                        }
                    }
                    false
                });
            }
        }
        out
    }
}

/// Evaluates `expr`; `element` is the current value of the enclosing `attr[…]`, if any.
/// Recursion is bounded by the validated filter's depth.
fn eval(expr: &Expr, resource: &Value, element: Option<&Value>) -> bool {
    match expr {
        Expr::Compare { attr, op, value } => {
            for_each_value(attr, resource, element, &mut |candidate| {
                compare(candidate, *op, value)
            })
        }
        Expr::Present(attr) => for_each_value(attr, resource, element, &mut is_present),
        Expr::ValuePath { attr, filter } => for_each_value(attr, resource, None, &mut |value| {
            eval(filter, resource, Some(value))
        }),
        Expr::Not(inner) => !eval(inner, resource, element),
        Expr::And(items) => {
            for item in items {
                if !eval(item, resource, element) {
                    return false;
                }
            }
            true
        }
        Expr::Or(items) => {
            for item in items {
                if eval(item, resource, element) {
                    return true;
                }
            }
            false
        }
    }
}

/// Calls `visit` on each non-null value `attr` yields until it returns true; returns
/// whether it did. With `element` (inside `attr[…]`), only the sub-attribute of that
/// element is visited.
fn for_each_value<'v>(
    attr: &ResolvedAttribute,
    resource: &'v Value,
    element: Option<&'v Value>,
    visit: &mut dyn FnMut(&'v Value) -> bool,
) -> bool {
    if let Some(element) = element {
        return match attr.sub_attribute {
            Some(sub) => member(element, sub.name).is_some_and(|value| visit_flat(value, visit)),
            None => visit_flat(element, visit),
        };
    }
    let container = if attr.in_core {
        Some(resource)
    } else {
        member(resource, attr.schema.id)
    };
    let Some(value) = container.and_then(|container| member(container, attr.attribute.name)) else {
        return false;
    };
    match attr.sub_attribute {
        None => visit_flat(value, visit),
        Some(sub) => match value {
            Value::Array(items) => items
                .iter()
                .any(|item| member(item, sub.name).is_some_and(|value| visit_flat(value, visit))),
            other => member(other, sub.name).is_some_and(|value| visit_flat(value, visit)),
        },
    }
}

/// Visits a value, or each element of an array value, skipping nulls.
fn visit_flat<'v>(value: &'v Value, visit: &mut dyn FnMut(&'v Value) -> bool) -> bool {
    match value {
        Value::Null => false,
        Value::Array(items) => items.iter().filter(|v| !v.is_null()).any(&mut *visit),
        other => visit(other),
    }
}

/// The member `name` of an object: exact match first, then ASCII case-insensitive.
fn member<'v>(object: &'v Value, name: &str) -> Option<&'v Value> {
    let Value::Object(members) = object else {
        return None;
    };
    members
        .get(name)
        .or_else(|| find_ignore_case(members, name))
}

fn find_ignore_case<'v>(members: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    members
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value)
}

fn is_present(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(is_present),
        Value::Object(members) => members.values().any(is_present),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

fn compare(candidate: &Value, op: CompareOp, value: &TypedValue) -> bool {
    match (value, candidate) {
        (TypedValue::String(expected), Value::String(actual)) => expected.matches(op, actual),
        (TypedValue::Boolean(expected), Value::Bool(actual)) => match op {
            CompareOp::Eq => actual == expected,
            CompareOp::Ne => actual != expected,
            _ => false,
        },
        (TypedValue::Integer(expected), Value::Number(actual)) => {
            let ordering = match actual.as_i64() {
                Some(actual) => Some(actual.cmp(expected)),
                // i64 -> f64 may round; close enough for out-of-range candidates.
                #[allow(clippy::cast_precision_loss)]
                None => actual
                    .as_f64()
                    .and_then(|actual| actual.partial_cmp(&(*expected as f64))),
            };
            ordering.is_some_and(|ordering| ordering_holds(op, ordering))
        }
        (TypedValue::Decimal(expected), Value::Number(actual)) => actual
            .as_f64()
            .and_then(|actual| actual.partial_cmp(expected))
            .is_some_and(|ordering| ordering_holds(op, ordering)),
        (TypedValue::DateTime(expected), Value::String(actual)) => {
            parse_date_time(actual).is_some_and(|actual| ordering_holds(op, actual.cmp(expected)))
        }
        _ => false,
    }
}
