//! A list or search request, checked: the filter validated against the resource type,
//! `sortBy` resolved, `attributes`/`excludedAttributes` resolved, paging normalised per
//! RFC 7644 §3.4.2.4 (startIndex < 1 means 1, negative count means 0, counts above the
//! maximum are capped), and the RFC 9865 cursor, if any.

use actix_web::HttpRequest;
use scim_filter::ValidatedFilter;
use scim_model::{AttrPath, Projection, ResourceSchema, ScimType, SearchRequest, SortOrder};

use crate::error::ApiError;

/// How the client pages.
pub enum Paging {
    /// `startIndex` (1-based).
    Index(u64),
    /// `cursor`: `None` asks for the first page.
    Cursor(Option<String>),
}

/// A checked request.
pub struct CheckedQuery {
    /// The filter, if any.
    pub filter: Option<ValidatedFilter>,
    /// The resolved `sortBy`, if any, and its text.
    pub sort_by: Option<(scim_model::ResolvedAttribute, String)>,
    /// Whether `sortOrder` is descending.
    pub descending: bool,
    /// The attribute projection.
    pub projection: Projection,
    /// Page size, capped.
    pub count: u64,
    /// Where the page starts.
    pub paging: Paging,
}

/// The query parameters of a GET, percent-decoded (`+` is a space, as Okta sometimes
/// sends), as a search request.
pub fn from_query_string(request: &HttpRequest) -> Result<SearchRequest, ApiError> {
    from_query(request.query_string())
}

/// [`from_query_string`] on the query string itself (without `?`).
pub fn from_query(query_string: &str) -> Result<SearchRequest, ApiError> {
    let pairs = actix_web::web::Query::<Vec<(String, String)>>::from_query(query_string)
        .map_err(|e| {
            ApiError::bad_request(
                ScimType::InvalidValue,
                format!("the query string cannot be read: {e}"),
            )
        })?
        .into_inner();
    Ok(SearchRequest::from_query_pairs(
        pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
    )?)
}

/// Reads a request body of at most [`crate::MAX_BODY_BYTES`]; a larger one is a SCIM
/// Error (413), not the framework's plain-text refusal.
pub async fn read_body(
    payload: actix_web::web::Payload,
) -> Result<actix_web::web::Bytes, ApiError> {
    match payload.to_bytes_limited(crate::MAX_BODY_BYTES).await {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(ApiError::bad_request(
            ScimType::InvalidSyntax,
            format!("the request body could not be read: {e}"),
        )),
        Err(_) => Err(ApiError::new(
            413,
            None,
            "The request body is larger than 64 KiB; a search request is a few hundred bytes.",
        )),
    }
}

/// The body of a `POST …/.search`, whatever its Content-Type (Okta is lenient).
pub fn from_body(body: &[u8]) -> Result<SearchRequest, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(
            ScimType::InvalidSyntax,
            format!("the search request is not valid JSON: {e}"),
        )
    })?;
    Ok(SearchRequest::try_from(value)?)
}

fn paths(lists: &[String], parameter: &str) -> Result<Vec<AttrPath>, ApiError> {
    let mut out = Vec::new();
    for list in lists {
        out.extend(scim_filter::parse_attribute_list(list).map_err(|e| {
            ApiError::bad_request(ScimType::InvalidPath, format!("`{parameter}`: {e}"))
        })?);
    }
    Ok(out)
}

/// The projection of `attributes` / `excludedAttributes`; an unknown attribute is a 400
/// that names it.
pub fn projection(
    resource: &'static ResourceSchema,
    attributes: &[String],
    excluded: &[String],
) -> Result<Projection, ApiError> {
    let projection = Projection::new(
        resource,
        &paths(attributes, "attributes")?,
        &paths(excluded, "excludedAttributes")?,
    );
    match projection.ignored().first() {
        Some(unknown) => Err(ApiError::bad_request(
            ScimType::InvalidPath,
            format!(
                "`{unknown}` is not an attribute of {}; see /Schemas for the attributes served",
                resource.name
            ),
        )),
        None => Ok(projection),
    }
}

/// Checks a request against a resource type.
pub fn check(
    request: &SearchRequest,
    resource: &'static ResourceSchema,
    default_count: u64,
    max_count: u64,
) -> Result<CheckedQuery, ApiError> {
    let filter = match request.filter.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(ValidatedFilter::parse(text, resource)?),
    };
    let sort_by = match request.sort_by.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some((scim_filter::parse_sort_by(text, resource)?, text.to_owned())),
    };
    let paging = match (&request.cursor, request.start_index) {
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                ScimType::InvalidValue,
                "use either `cursor` or `startIndex`, not both",
            ));
        }
        (Some(cursor), None) => Paging::Cursor((!cursor.is_empty()).then(|| cursor.clone())),
        (None, start) => Paging::Index(start.unwrap_or(1).max(1)),
    };
    Ok(CheckedQuery {
        filter,
        sort_by,
        descending: request.sort_order == Some(SortOrder::Descending),
        projection: projection(resource, &request.attributes, &request.excluded_attributes)?,
        count: request.count.unwrap_or(default_count).min(max_count),
        paging,
    })
}
