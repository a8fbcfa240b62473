//! Protocol messages: list responses, errors and search requests (RFC 7644 §3.4, §3.12;
//! RFC 9865 cursors).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::urn;

/// A page of query results (RFC 7644 §3.4.2), with RFC 9865 cursors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<T> {
    /// `["urn:ietf:params:scim:api:messages:2.0:ListResponse"]`.
    pub schemas: Vec<String>,
    /// How many resources match the query in total (across all pages).
    pub total_results: u64,
    /// The 1-based index of the first resource of this page (index pagination).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    /// How many resources this page holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items_per_page: Option<u64>,
    /// The resources of this page (always present, possibly empty).
    #[serde(rename = "Resources", alias = "resources", default = "Vec::new")]
    pub resources: Vec<T>,
    /// The cursor of the next page, if there is one (RFC 9865).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// The cursor of the previous page, if the service offers one (RFC 9865).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_cursor: Option<String>,
}

impl<T> ListResponse<T> {
    /// An index-paginated page: `startIndex` as given, `itemsPerPage` the page's length.
    pub fn new(resources: Vec<T>, total_results: u64, start_index: u64) -> Self {
        Self {
            schemas: vec![urn::LIST_RESPONSE.to_owned()],
            total_results,
            start_index: Some(start_index),
            items_per_page: Some(resources.len() as u64),
            resources,
            next_cursor: None,
            previous_cursor: None,
        }
    }

    /// A cursor-paginated page (RFC 9865): no `startIndex`, with the cursors given.
    pub fn with_cursors(
        resources: Vec<T>,
        total_results: u64,
        next_cursor: Option<String>,
        previous_cursor: Option<String>,
    ) -> Self {
        Self {
            schemas: vec![urn::LIST_RESPONSE.to_owned()],
            total_results,
            start_index: None,
            items_per_page: Some(resources.len() as u64),
            resources,
            next_cursor,
            previous_cursor,
        }
    }
}

/// The `scimType` of an error (RFC 7644 §3.12, plus RFC 9865's cursor errors).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// The filter syntax is invalid, or the attribute and operator combination is not
    /// supported.
    InvalidFilter,
    /// The query would return more results than the service allows.
    TooMany,
    /// A uniqueness constraint was violated.
    Uniqueness,
    /// An attempt to change an immutable or read-only attribute.
    Mutability,
    /// The request body is not a valid SCIM message.
    InvalidSyntax,
    /// An attribute path is invalid or malformed.
    InvalidPath,
    /// A path selected no target.
    NoTarget,
    /// A value is missing or incompatible with the attribute's type.
    InvalidValue,
    /// The SCIM protocol version is not supported.
    InvalidVers,
    /// The request cannot be completed because of sensitive information in the URL.
    Sensitive,
    /// The cursor is not valid (RFC 9865).
    InvalidCursor,
    /// The cursor has expired (RFC 9865).
    ExpiredCursor,
    /// A `scimType` this crate does not know (kept for round-tripping).
    Other(String),
}

impl ScimType {
    /// The wire name, e.g. `invalidFilter`.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::TooMany => "tooMany",
            Self::Uniqueness => "uniqueness",
            Self::Mutability => "mutability",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::NoTarget => "noTarget",
            Self::InvalidValue => "invalidValue",
            Self::InvalidVers => "invalidVers",
            Self::Sensitive => "sensitive",
            Self::InvalidCursor => "invalidCursor",
            Self::ExpiredCursor => "expiredCursor",
            Self::Other(other) => other,
        }
    }

    /// Parses a wire name (exact spelling; unknown names become [`ScimType::Other`]).
    pub fn from_name(name: &str) -> Self {
        match name {
            "invalidFilter" => Self::InvalidFilter,
            "tooMany" => Self::TooMany,
            "uniqueness" => Self::Uniqueness,
            "mutability" => Self::Mutability,
            "invalidSyntax" => Self::InvalidSyntax,
            "invalidPath" => Self::InvalidPath,
            "noTarget" => Self::NoTarget,
            "invalidValue" => Self::InvalidValue,
            "invalidVers" => Self::InvalidVers,
            "sensitive" => Self::Sensitive,
            "invalidCursor" => Self::InvalidCursor,
            "expiredCursor" => Self::ExpiredCursor,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The HTTP status RFC 7644 §3.12 pairs with this type: 409 for `uniqueness`, 403 for
    /// `sensitive`, 400 otherwise.
    pub fn status(&self) -> u16 {
        match self {
            Self::Uniqueness => 409,
            Self::Sensitive => 403,
            _ => 400,
        }
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ScimType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ScimType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Ok(Self::from_name(&name))
    }
}

/// A SCIM error response body (RFC 7644 §3.12).
///
/// `status` is the HTTP status code *as a string*, as the RFC specifies; deserialization
/// also accepts a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScimError {
    /// `["urn:ietf:params:scim:api:messages:2.0:Error"]`.
    pub schemas: Vec<String>,
    /// The HTTP status code, e.g. `"400"`.
    #[serde(deserialize_with = "string_or_number")]
    pub status: String,
    /// The error type, for 400-class errors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_type: Option<ScimType>,
    /// A human-readable explanation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl ScimError {
    /// An error with the given status, type and detail.
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        Self {
            schemas: vec![urn::ERROR.to_owned()],
            status: status.to_string(),
            scim_type,
            detail: Some(detail.into()),
        }
    }

    /// An error of the given type, with the status RFC 7644 pairs with it (see
    /// [`ScimType::status`]).
    pub fn of_type(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(scim_type.status(), Some(scim_type), detail)
    }

    /// A 404 Not Found error.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// The status as a number, if it is one.
    pub fn status_code(&self) -> Option<u16> {
        self.status.parse().ok()
    }
}

impl fmt::Display for ScimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SCIM error {}", self.status)?;
        if let Some(scim_type) = &self.scim_type {
            write!(f, " ({scim_type})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ScimError {}

fn string_or_number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    match Value::deserialize(deserializer)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::custom(format!(
            "status must be a string such as \"400\", found {other}"
        ))),
    }
}

/// The sort direction (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum SortOrder {
    /// Ascending (the default).
    #[default]
    Ascending,
    /// Descending.
    Descending,
}

/// Why a search request (body or query parameters) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchRequestError {
    /// The body is not a JSON object.
    #[error("the search request must be a JSON object")]
    NotAnObject,
    /// A parameter has the wrong shape.
    #[error("invalid `{parameter}`: {reason}")]
    InvalidParameter {
        /// The parameter, as named by the RFC.
        parameter: &'static str,
        /// What was wrong.
        reason: String,
    },
}

impl SearchRequestError {
    /// The `scimType` for this error: `invalidSyntax` for a malformed body,
    /// `invalidValue` for a bad parameter value.
    pub fn scim_type(&self) -> ScimType {
        match self {
            Self::NotAnObject => ScimType::InvalidSyntax,
            Self::InvalidParameter { .. } => ScimType::InvalidValue,
        }
    }
}

/// The query parameters of `GET /Users` and the body of `POST /Users/.search`
/// (RFC 7644 §3.4.2, §3.4.3, RFC 9865).
///
/// Lenient in what it accepts: member names in any case; `attributes` as an array or a
/// comma-separated string; `startIndex`/`count` as JSON integers, integral decimals
/// (`10.0`) or numeric strings; `sortOrder` in any case; unknown members ignored; the
/// `schemas` member optional. Normalized per RFC 7644 §3.4.2.4: a `startIndex` below 1
/// becomes 1 and a negative `count` becomes 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "Value")]
pub struct SearchRequest {
    /// `["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]`.
    pub schemas: Vec<String>,
    /// Attribute paths to return (beyond those always returned).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Attribute paths to leave out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded_attributes: Vec<String>,
    /// The filter expression, unparsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// The attribute path to sort by, unparsed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_by: Option<String>,
    /// The sort direction.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort_order: Option<SortOrder>,
    /// The 1-based index of the first result (index pagination).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_index: Option<u64>,
    /// The maximum number of results per page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The page cursor (RFC 9865); an empty string asks for the first page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
}

impl Default for SearchRequest {
    /// An empty request (every parameter absent) with the SearchRequest schema URN.
    fn default() -> Self {
        Self {
            schemas: vec![urn::SEARCH_REQUEST.to_owned()],
            attributes: Vec::new(),
            excluded_attributes: Vec::new(),
            filter: None,
            sort_by: None,
            sort_order: None,
            start_index: None,
            count: None,
            cursor: None,
        }
    }
}

impl SearchRequest {
    /// Builds a request from URL query parameters (already percent-decoded), with the same
    /// leniency as the JSON form. Repeated parameters: the last one wins.
    pub fn from_query_pairs<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Self, SearchRequestError> {
        let mut request = Self::default();
        for (key, value) in pairs {
            request.set(key, Value::String(value.to_owned()))?;
        }
        Ok(request)
    }

    fn set(&mut self, key: &str, value: Value) -> Result<(), SearchRequestError> {
        let key = key.to_ascii_lowercase();
        match key.as_str() {
            "schemas" => self.schemas = string_list("schemas", value)?,
            "attributes" => self.attributes = string_list("attributes", value)?,
            "excludedattributes" => {
                self.excluded_attributes = string_list("excludedAttributes", value)?;
            }
            "filter" => self.filter = optional_string("filter", value)?,
            "sortby" => self.sort_by = optional_string("sortBy", value)?,
            "sortorder" => {
                self.sort_order = match optional_string("sortOrder", value)? {
                    None => None,
                    Some(order) if order.eq_ignore_ascii_case("ascending") => {
                        Some(SortOrder::Ascending)
                    }
                    Some(order) if order.eq_ignore_ascii_case("descending") => {
                        Some(SortOrder::Descending)
                    }
                    Some(order) => {
                        return Err(SearchRequestError::InvalidParameter {
                            parameter: "sortOrder",
                            reason: format!(
                                "expected \"ascending\" or \"descending\", found {order:?}"
                            ),
                        });
                    }
                }
            }
            "startindex" => {
                self.start_index = integer("startIndex", value)?.map(|i| i.max(1).unsigned_abs());
            }
            "count" => self.count = integer("count", value)?.map(|i| i.max(0).unsigned_abs()),
            "cursor" => self.cursor = optional_string("cursor", value)?,
            _ => {}
        }
        Ok(())
    }
}

impl TryFrom<Value> for SearchRequest {
    type Error = SearchRequestError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        let Value::Object(members) = value else {
            return Err(SearchRequestError::NotAnObject);
        };
        let mut request = Self::default();
        for (key, value) in members {
            request.set(&key, value)?;
        }
        Ok(request)
    }
}

fn optional_string(
    parameter: &'static str,
    value: Value,
) -> Result<Option<String>, SearchRequestError> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        other => Err(SearchRequestError::InvalidParameter {
            parameter,
            reason: format!("expected a string, found {other}"),
        }),
    }
}

fn string_list(parameter: &'static str, value: Value) -> Result<Vec<String>, SearchRequestError> {
    let items = match value {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                other => Err(SearchRequestError::InvalidParameter {
                    parameter,
                    reason: format!("expected strings, found {other}"),
                }),
            })
            .collect::<Result<_, _>>()?,
        other => Err(SearchRequestError::InvalidParameter {
            parameter,
            reason: format!("expected an array of strings, found {other}"),
        })?,
    };
    Ok(items
        .iter()
        .flat_map(|item| item.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect())
}

fn integer(parameter: &'static str, value: Value) -> Result<Option<i64>, SearchRequestError> {
    let invalid = |found: &dyn fmt::Display| SearchRequestError::InvalidParameter {
        parameter,
        reason: format!("expected an integer, found {found}"),
    };
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Ok(Some(i))
            } else if n.as_u64().is_some() {
                Ok(Some(i64::MAX))
            } else {
                match n.as_f64() {
                    Some(f) if f.fract() == 0.0 && f.is_finite() => {
                        // Saturating float-to-int conversion is what we want here.
                        #[allow(clippy::cast_possible_truncation)]
                        Ok(Some(f as i64))
                    }
                    _ => Err(invalid(&n)),
                }
            }
        }
        Value::String(s) => {
            let trimmed = s.trim();
            if trimmed.is_empty() {
                return Ok(None);
            }
            match trimmed.parse::<i64>() {
                Ok(i) => Ok(Some(i)),
                Err(_) if trimmed.bytes().all(|b| b.is_ascii_digit()) => Ok(Some(i64::MAX)),
                Err(_) => Err(invalid(&format!("{s:?}"))),
            }
        }
        other => Err(invalid(&other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn search_request_is_lenient() {
        let request: SearchRequest = serde_json::from_value(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "Attributes": "userName, name.givenName",
            "excludedAttributes": ["emails", "meta,title"],
            "filter": "userName eq \"a@b.com\"",
            "SORTBY": "userName",
            "sortOrder": "DESCENDING",
            "startIndex": 0,
            "count": "10",
            "unknown": {"ignored": true}
        }))
        .unwrap();
        assert_eq!(request.attributes, ["userName", "name.givenName"]);
        assert_eq!(request.excluded_attributes, ["emails", "meta", "title"]);
        assert_eq!(request.sort_order, Some(SortOrder::Descending));
        assert_eq!(request.start_index, Some(1));
        assert_eq!(request.count, Some(10));
        let request: SearchRequest =
            serde_json::from_value(json!({"count": -5, "startIndex": 3.0})).unwrap();
        assert_eq!((request.count, request.start_index), (Some(0), Some(3)));
    }

    #[test]
    fn search_request_rejects_nonsense() {
        let err = serde_json::from_value::<SearchRequest>(json!({"count": 1.5})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `count`: expected an integer, found 1.5"
        );
        let err = serde_json::from_value::<SearchRequest>(json!({"sortOrder": "up"})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid `sortOrder`: expected \"ascending\" or \"descending\", found \"up\""
        );
        assert!(serde_json::from_value::<SearchRequest>(json!([1])).is_err());
    }

    #[test]
    fn search_request_from_query() {
        let request = SearchRequest::from_query_pairs([
            ("filter", "userName eq \"x\""),
            ("startIndex", "1"),
            ("count", "100"),
            ("cursor", ""),
        ])
        .unwrap();
        assert_eq!(request.filter.as_deref(), Some("userName eq \"x\""));
        assert_eq!(request.count, Some(100));
        assert_eq!(request.cursor.as_deref(), Some(""));
        let err = SearchRequest::from_query_pairs([("count", "ten")]).unwrap_err();
        assert_eq!(err.scim_type(), ScimType::InvalidValue);
    }

    #[test]
    fn scim_error_status_is_a_string() {
        let error = ScimError::of_type(ScimType::InvalidFilter, "bad filter");
        assert_eq!(
            serde_json::to_value(&error).unwrap(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400",
                "scimType": "invalidFilter",
                "detail": "bad filter"
            })
        );
        let parsed: ScimError = serde_json::from_value(json!({
            "schemas": [urn::ERROR], "status": 409, "scimType": "somethingNew"
        }))
        .unwrap();
        assert_eq!(parsed.status_code(), Some(409));
        assert_eq!(
            parsed.scim_type,
            Some(ScimType::Other("somethingNew".into()))
        );
        assert_eq!(
            error.to_string(),
            "SCIM error 400 (invalidFilter): bad filter"
        );
    }
}
