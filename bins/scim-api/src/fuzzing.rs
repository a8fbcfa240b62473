//! The request checks of the list, search and get routes, callable without HTTP or a
//! database: for fuzzing and property tests. Each function runs the same code the
//! handlers run on a request before they query the directory — query string or
//! `.search` body read, filter validated, `sortBy` resolved (to a database sort key for
//! Users), `attributes`/`excludedAttributes` resolved, paging normalised, and an RFC 9865
//! cursor checked against its signature — and returns the same [`ApiError`] a client
//! would get as a SCIM Error.
//!
//! Not covered here: authentication (it needs the database), the body size limit
//! (applied while the body is read, before any of this), and what the Groups handler
//! does after these checks (it refuses cursor paging).

use scim_model::{ResourceSchema, ScimType, SearchRequest, ServiceSettings};

use crate::cursor::{CursorCodec, query_fingerprint};
use crate::error::ApiError;
use crate::query;

/// The resource type a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// `/Users`.
    Users,
    /// `/Groups` (departments).
    Groups,
}

impl Resource {
    fn schema(self) -> &'static ResourceSchema {
        match self {
            Resource::Users => &scim_model::USER_RESOURCE,
            Resource::Groups => &scim_model::GROUP_RESOURCE,
        }
    }
}

/// A list or search request the service accepted, in the service's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedRequest {
    /// The validated filter, printed in its normal form (what cursors are bound to).
    pub filter: Option<String>,
    /// The `sortBy` text, when it names a sortable attribute.
    pub sort_by: Option<String>,
    /// Whether the order is descending.
    pub descending: bool,
    /// The page size, capped at the service's maximum.
    pub count: u64,
    /// Where the page starts.
    pub paging: Paging,
}

/// How a checked request pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paging {
    /// `startIndex` (1-based, at least 1).
    Index(u64),
    /// Cursor paging, first page (`cursor` empty).
    FirstCursorPage,
    /// Cursor paging from a cursor, and whether it verified: signed with the service's
    /// key (a fixed one here), for this query, not expired. Only a cursor the service
    /// signed can verify.
    Cursor {
        /// The cursor verified.
        verified: bool,
    },
}

/// The page size the service uses when a request gives none.
pub fn default_page_size() -> u64 {
    u64::from(ServiceSettings::default().default_page_size)
}

/// The largest page the service serves.
pub fn max_page_size() -> u64 {
    u64::from(ServiceSettings::default().max_page_size)
}

/// `GET /Users?…` or `GET /Groups?…`: the query string (without `?`, still
/// percent-encoded) as the list handler checks it.
pub fn check_list(resource: Resource, query_string: &str) -> Result<CheckedRequest, ApiError> {
    checked(resource, &query::from_query(query_string)?)
}

/// `POST /Users/.search` or `POST /Groups/.search`: the body as the search handler checks
/// it.
pub fn check_search(resource: Resource, body: &[u8]) -> Result<CheckedRequest, ApiError> {
    checked(resource, &query::from_body(body)?)
}

/// `GET /Users/{id}?…` or `GET /Groups/{id}?…`: the query string as the handler checks it
/// (only `attributes` and `excludedAttributes` matter there).
pub fn check_get(resource: Resource, query_string: &str) -> Result<(), ApiError> {
    let search = query::from_query(query_string)?;
    query::projection(
        resource.schema(),
        &search.attributes,
        &search.excluded_attributes,
    )?;
    Ok(())
}

fn checked(resource: Resource, search: &SearchRequest) -> Result<CheckedRequest, ApiError> {
    let checked = query::check(
        search,
        resource.schema(),
        default_page_size(),
        max_page_size(),
    )?;
    if let (Resource::Users, Some((attr, _))) = (resource, &checked.sort_by) {
        // What the Users handler does with a sortBy before it queries.
        persistence::SortKey::of(attr)
            .map_err(|e| ApiError::bad_request(ScimType::InvalidPath, e.to_string()))?;
    }
    let filter = checked.filter.as_ref().map(ToString::to_string);
    let sort_by = checked.sort_by.as_ref().map(|(_, text)| text.clone());
    let paging = match &checked.paging {
        query::Paging::Index(start) => Paging::Index(*start),
        query::Paging::Cursor(None) => Paging::FirstCursorPage,
        query::Paging::Cursor(Some(cursor)) => {
            let fingerprint =
                query_fingerprint(filter.as_deref(), sort_by.as_deref(), checked.descending);
            let codec =
                CursorCodec::new(b"fuzzing", ServiceSettings::default().cursor_timeout_secs);
            let now = chrono::Utc::now().timestamp();
            let verified = codec.decode(cursor, "tenant", &fingerprint, now).is_ok();
            Paging::Cursor { verified }
        }
    };
    Ok(CheckedRequest {
        filter,
        sort_by,
        descending: checked.descending,
        count: checked.count,
        paging,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_requests_are_normalised() {
        let checked = check_list(
            Resource::Users,
            "filter=userName+eq+%22ada%40acme.com%22&count=5000&startIndex=-3&sortBy=name.familyName&sortOrder=DESCENDING",
        )
        .unwrap();
        assert_eq!(
            checked.filter.as_deref(),
            Some("userName eq \"ada@acme.com\"")
        );
        assert_eq!(checked.count, max_page_size());
        assert_eq!(checked.paging, Paging::Index(1));
        assert_eq!(checked.sort_by.as_deref(), Some("name.familyName"));
        assert!(checked.descending);

        let first = check_search(Resource::Groups, br#"{"cursor": ""}"#).unwrap();
        assert_eq!(first.paging, Paging::FirstCursorPage);
        assert_eq!(first.count, default_page_size());
        let forged = check_list(Resource::Users, "cursor=eyJ0IjoidGVuYW50In0.AAAA").unwrap();
        assert_eq!(forged.paging, Paging::Cursor { verified: false });

        // A cursor signed with the same key for the same query verifies.
        let codec = CursorCodec::new(b"fuzzing", 60);
        let now = chrono::Utc::now().timestamp();
        let signed = codec.encode(
            "tenant",
            &query_fingerprint(None, None, false),
            crate::cursor::Position::Offset(10),
            now,
        );
        let genuine = check_list(Resource::Users, &format!("cursor={signed}")).unwrap();
        assert_eq!(genuine.paging, Paging::Cursor { verified: true });
        let other_query = check_list(
            Resource::Users,
            &format!("cursor={signed}&filter=active+eq+true"),
        )
        .unwrap();
        assert_eq!(other_query.paging, Paging::Cursor { verified: false });
    }

    #[test]
    fn refusals_are_the_handlers_scim_errors() {
        let status = |e: ApiError| e.body().status_code();
        for query in [
            "filter=nope+eq",
            "filter=%FF",
            "sortBy=emails.type",
            "attributes=shoeSize",
            "cursor=x&startIndex=2",
            "sortOrder=sideways",
            "count=many",
        ] {
            let error = check_list(Resource::Users, query).unwrap_err();
            assert_eq!(status(error), Some(400), "{query}");
        }
        assert_eq!(
            status(check_search(Resource::Users, b"[1]").unwrap_err()),
            Some(400)
        );
        assert_eq!(
            status(check_get(Resource::Groups, "excludedAttributes=userName").unwrap_err()),
            Some(400)
        );
        check_get(Resource::Users, "attributes=userName,name.givenName").unwrap();
    }
}
