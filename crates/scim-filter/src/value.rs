//! Typed comparison values, and the comparison rules shared by the evaluator and (by
//! documentation) the SQL translation.
//!
//! - Strings keep their original text. When the attribute is not `caseExact`, they compare
//!   after [`fold`]ing both sides (Unicode lower-casing, `str::to_lowercase`); ordering
//!   compares the (folded) strings by Unicode code point.
//! - Date-times are parsed into instants ([`parse_date_time`]) and compared as such, so
//!   `2024-01-01T01:00:00+01:00` equals `2024-01-01T00:00:00Z`.
//! - Integers compare as `i64`, decimals as `f64`; an integer attribute compares against
//!   JSON numbers numerically whatever their notation.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::ast::{CompareOp, write_json_string};

/// Case-folds `s` unless `case_exact`: the comparison key of a string under the
/// attribute's `caseExact` rule. Borrows when nothing changes.
pub fn fold(s: &str, case_exact: bool) -> Cow<'_, str> {
    if case_exact || !s.chars().any(|c| c.is_uppercase() || !c.is_ascii()) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.to_lowercase())
    }
}

/// Parses an `xsd:dateTime` (RFC 7643 §2.3.5) into an instant: RFC 3339
/// (`2011-05-13T04:42:34Z`, `2011-05-13T04:42:34.5+02:00`), or without a zone
/// (`2011-05-13T04:42:34`), which is taken as UTC. A lower-case `t`/`z` is accepted.
pub fn parse_date_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// A string comparison value: the original text plus its comparison key under the
/// attribute's `caseExact` rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimString {
    original: String,
    folded: Option<String>,
}

impl ScimString {
    /// A value for an attribute with the given `caseExact`.
    pub fn new(original: String, case_exact: bool) -> Self {
        let folded = match fold(&original, case_exact) {
            Cow::Borrowed(_) if case_exact => None,
            Cow::Borrowed(same) => Some(same.to_owned()),
            Cow::Owned(folded) => Some(folded),
        };
        Self { original, folded }
    }

    /// The text as written in the filter.
    pub fn as_str(&self) -> &str {
        &self.original
    }

    /// Whether comparisons are case-sensitive.
    pub fn case_exact(&self) -> bool {
        self.folded.is_none()
    }

    /// The comparison key: the original if `caseExact`, else its [`fold`]. Compare it with
    /// `fold(candidate, self.case_exact())`.
    pub fn key(&self) -> &str {
        self.folded.as_deref().unwrap_or(&self.original)
    }

    /// Whether `candidate op self` holds under the `caseExact` rule (e.g. for `co`: the
    /// candidate contains this value).
    pub fn matches(&self, op: CompareOp, candidate: &str) -> bool {
        let candidate = fold(candidate, self.case_exact());
        let candidate = candidate.as_ref();
        let key = self.key();
        match op {
            CompareOp::Eq => candidate == key,
            CompareOp::Ne => candidate != key,
            CompareOp::Co => candidate.contains(key),
            CompareOp::Sw => candidate.starts_with(key),
            CompareOp::Ew => candidate.ends_with(key),
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
                ordering_holds(op, candidate.cmp(key))
            }
        }
    }
}

/// Whether `candidate.cmp(value) == ordering` satisfies `op`.
pub(crate) fn ordering_holds(op: CompareOp, ordering: Ordering) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// A comparison value converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub enum TypedValue {
    /// For `string`, `reference` and `binary` attributes.
    String(ScimString),
    /// For `boolean` attributes.
    Boolean(bool),
    /// For `integer` attributes.
    Integer(i64),
    /// For `decimal` attributes (always finite).
    Decimal(f64),
    /// For `dateTime` attributes: the instant.
    DateTime(DateTime<Utc>),
}

impl fmt::Display for TypedValue {
    /// As a filter literal (date-times in RFC 3339 UTC form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::String(s) => write_json_string(f, s.as_str()),
            Self::Boolean(b) => write!(f, "{b}"),
            Self::Integer(i) => write!(f, "{i}"),
            Self::Decimal(d) => write!(f, "{d:?}"),
            Self::DateTime(t) => write!(
                f,
                "\"{}\"",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_honours_case_exact() {
        assert_eq!(fold("BJensen", false), "bjensen");
        assert_eq!(fold("BJensen", true), "BJensen");
        assert!(matches!(fold("plain", false), Cow::Borrowed(_)));
        assert_eq!(fold("ÉCOLE", false), "école");
    }

    #[test]
    fn string_matching() {
        let insensitive = ScimString::new("Example.COM".into(), false);
        assert!(insensitive.matches(CompareOp::Ew, "bjensen@example.com"));
        assert!(insensitive.matches(CompareOp::Eq, "EXAMPLE.com"));
        assert!(insensitive.matches(CompareOp::Gt, "f"));
        assert_eq!(insensitive.as_str(), "Example.COM");
        let exact = ScimString::new("Example.COM".into(), true);
        assert!(!exact.matches(CompareOp::Ew, "bjensen@example.com"));
        assert!(exact.matches(CompareOp::Co, "x@Example.COM"));
        assert!(exact.case_exact());
    }

    #[test]
    fn date_times_parse_as_instants() {
        let utc = parse_date_time("2011-05-13T04:42:34Z").unwrap();
        assert_eq!(parse_date_time("2011-05-13T06:42:34+02:00"), Some(utc));
        assert_eq!(parse_date_time("2011-05-13T04:42:34"), Some(utc));
        assert!(parse_date_time("2011-05-13T04:42:34.123Z").unwrap() > utc);
        assert_eq!(parse_date_time("yesterday"), None);
        assert_eq!(parse_date_time("2011-05-13"), None);
    }
}
