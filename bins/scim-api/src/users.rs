//! `/Users`: list (with filter, sort, index or cursor paging, projection), `.search`,
//! one user by id with its ETag; every write refused.

use actix_web::http::header::{ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, web};
use persistence::{PageStart, Resumed, SortDirection, SortKey, UserOrder};
use scim_model::{ListResponse, ScimType, USER_RESOURCE};

use crate::ScimState;
use crate::auth::{Lookup, authenticate, authenticate_lookup_then, authenticate_then};
use crate::cursor::{CursorError, Position, query_fingerprint};
use crate::error::{ApiError, SCIM_JSON};
use crate::query::{self, CheckedQuery, Paging};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Users")
            .route(web::get().to(list))
            .default_service(web::to(refuse_write)),
    )
    .service(
        web::resource("/Users/.search")
            .route(web::post().to(search))
            .default_service(web::to(method_not_allowed_post)),
    )
    .service(
        web::resource("/Users/{id}")
            .route(web::get().to(get_one))
            .default_service(web::to(refuse_write)),
    )
    .service(web::resource("/Bulk").default_service(web::to(refuse_write)));
}

/// Writes are refused after authentication, so an anonymous caller learns nothing.
pub async fn refuse_write(
    state: web::Data<ScimState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    authenticate(&state, &request).await?;
    Err(ApiError::read_only())
}

/// `/Users/.search` and `/Groups/.search` take POST only (RFC 7644 §3.4.3): 405, after
/// authentication like every refusal, naming the GET alternative of the resource.
pub async fn method_not_allowed_post(
    state: web::Data<ScimState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    authenticate(&state, &request).await?;
    let resource = request
        .path()
        .trim_end_matches("/.search")
        .rsplit('/')
        .next()
        .unwrap_or("Users")
        .to_owned();
    Err(ApiError::new(
        405,
        None,
        format!(
            "Use POST for /{resource}/.search (RFC 7644 §3.4.3), or GET /{resource} with query \
             parameters."
        ),
    ))
}

/// A JSON body as SCIM wants it.
pub fn scim_json(
    status: actix_web::http::StatusCode,
    body: &impl serde::Serialize,
) -> HttpResponse {
    scim_json_sized(status, body, 1024)
}

/// A JSON body as SCIM wants it, written into a buffer of about the size it will take
/// (a page of users is some 150 KB, and growing a buffer to that copies it many times).
fn scim_json_sized(
    status: actix_web::http::StatusCode,
    body: &impl serde::Serialize,
    expected_bytes: usize,
) -> HttpResponse {
    let mut json = Vec::with_capacity(expected_bytes);
    if serde_json::to_writer(&mut json, body).is_err() {
        json.clear();
    }
    HttpResponse::build(status)
        .content_type(SCIM_JSON)
        .body(json)
}

/// About the size of one serialised user.
const USER_JSON_BYTES: usize = 1_400;

async fn list(state: web::Data<ScimState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let checked = query::from_query_string(&request).and_then(|search| {
        query::check(&search, &USER_RESOURCE, page_size(&state), max_page(&state))
    });
    respond(state, &request, checked).await
}

async fn search(
    state: web::Data<ScimState>,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let checked = match query::read_body(body).await {
        Ok(body) => query::from_body(&body).and_then(|search| {
            query::check(&search, &USER_RESOURCE, page_size(&state), max_page(&state))
        }),
        Err(error) => Err(error),
    };
    respond(state, &request, checked).await
}

fn page_size(state: &ScimState) -> u64 {
    u64::from(state.service.default_page_size)
}

fn max_page(state: &ScimState) -> u64 {
    u64::from(state.service.max_page_size)
}

fn order_of(checked: &CheckedQuery) -> Result<UserOrder, ApiError> {
    let direction = if checked.descending {
        SortDirection::Descending
    } else {
        SortDirection::Ascending
    };
    match &checked.sort_by {
        // Without sortBy, sortOrder has nothing to order (RFC 7644 §3.4.2.3).
        None => Ok(UserOrder::Id),
        Some((attr, _)) => {
            let key = SortKey::of(attr)
                .map_err(|e| ApiError::bad_request(ScimType::InvalidPath, e.to_string()))?;
            Ok(UserOrder::By(key, direction))
        }
    }
}

/// A page that was read, and what the response needs to know about how.
struct Served {
    page: persistence::UserPage,
    start: PageStart,
    start_index: Option<u64>,
    fingerprint: String,
    now: i64,
    order: UserOrder,
}

/// Reads the page `checked` asks for, for `tenant`: on the blocking thread that
/// authenticated the request, so a request makes one trip there.
fn page_for(
    state: &ScimState,
    db: &persistence::Database,
    tenant: &persistence::Tenant,
    checked: &CheckedQuery,
    looked_up: Option<persistence::UserPage>,
) -> Result<Served, ApiError> {
    let order = order_of(checked)?;
    let filter_text = checked.filter.as_ref().map(ToString::to_string);
    let sort_text = checked.sort_by.as_ref().map(|(_, text)| text.clone());
    let fingerprint = query_fingerprint(
        filter_text.as_deref(),
        sort_text.as_deref(),
        checked.descending,
    );
    let tenant_id = tenant.id.to_string();
    let now = chrono::Utc::now().timestamp();

    // Where the page starts, in the database's terms: a `startIndex` page continues
    // where the walk's page before it ended, as this process or the database remembers.
    let (start, start_index) = match &checked.paging {
        Paging::Index(start_index) => {
            let remembered = state.positions.get(&tenant_id, &fingerprint, *start_index);
            (
                PageStart::Index {
                    start_index: *start_index,
                    walk: fingerprint.clone(),
                    known_after: remembered.after_id,
                    went_elsewhere: remembered.went_elsewhere,
                },
                Some(*start_index),
            )
        }
        Paging::Cursor(None) => (PageStart::Offset(0), None),
        Paging::Cursor(Some(cursor)) => {
            let position = state.cursors.decode(cursor, &tenant_id, &fingerprint, now).map_err(|e| match e {
                CursorError::Invalid => ApiError::bad_request(
                    ScimType::InvalidCursor,
                    "the cursor is not valid for this query: start again without a cursor (or \
                     with an empty one) and follow nextCursor",
                ),
                CursorError::Expired => ApiError::bad_request(
                    ScimType::ExpiredCursor,
                    "the cursor has expired: start again without a cursor and follow nextCursor",
                ),
            })?;
            let start = match position {
                Position::AfterId(id) => PageStart::AfterId(id),
                Position::Offset(offset) => PageStart::Offset(offset),
            };
            (start, None)
        }
    };

    let version = tenant.directory_version;
    let known_total = state.totals.get(&tenant_id, &fingerprint, version);
    let page = match looked_up {
        Some(page) => page,
        None => db.employees().scim_users(
            &tenant.id,
            checked.filter.as_ref().map(|f| f.expr()),
            order,
            &start,
            checked.count,
            known_total,
        )?,
    };
    if page.counted {
        state
            .totals
            .remember(&tenant_id, &fingerprint, version, page.total);
    }
    if let Some((next_index, after)) = page.next.clone() {
        let step = crate::positions::WalkStep {
            first: start_index == Some(1),
            from_database: page.resumed == Resumed::FromDatabase,
            followed_elsewhere: page.followed_elsewhere,
        };
        state
            .positions
            .remember(&tenant_id, &fingerprint, next_index, after, &step);
    }
    Ok(Served {
        page,
        start,
        start_index,
        fingerprint,
        now,
        order,
    })
}

/// Okta's look-up — a filter, the first page, in id order — which the caller's
/// credentials can come with in one statement (see [`authenticate_lookup_then`]).
fn lookup_of(checked: &CheckedQuery) -> Option<Lookup> {
    let first_page = matches!(checked.paging, Paging::Index(1) | Paging::Cursor(None));
    match &checked.filter {
        Some(filter) if first_page && checked.sort_by.is_none() && checked.count > 0 => {
            Some(Lookup {
                filter: filter.expr().clone(),
                limit: checked.count,
            })
        }
        _ => None,
    }
}

/// Authenticates, reads the page and answers; a query that is not valid is answered
/// only once the caller is known (an anonymous caller gets 401 whatever it sent).
async fn respond(
    state: web::Data<ScimState>,
    request: &HttpRequest,
    checked: Result<CheckedQuery, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            authenticate(&state, request).await?;
            return Err(error);
        }
    };
    let shared = state.clone();
    let lookup = lookup_of(&checked);
    let (caller, (served, checked)) =
        authenticate_lookup_then(&state, request, lookup, move |db, tenant, looked_up| {
            let served = page_for(&shared, db, tenant, &checked, looked_up)?;
            Ok((served, checked))
        })
        .await?;
    let tenant = caller.tenant;
    let Served {
        page,
        start,
        start_index,
        fingerprint,
        now,
        order,
    } = served;
    let tenant_id = tenant.id.to_string();
    let count = checked.count;

    let base = state.settings.scim_base_url(tenant.workspace.as_str());
    let served = page.users.len() as u64;
    state.counters.users_served.inc_by(served);
    if start_index.is_some_and(|index| index > 1) {
        let start = match page.resumed {
            Resumed::No => "offset",
            Resumed::FromCaller => "memory",
            Resumed::FromDatabase => "database",
        };
        state
            .counters
            .index_pages
            .get_or_create(&crate::StartLabels { start })
            .inc();
    }

    // Where the following page starts, for a cursor.
    let next_position = match (&start, order) {
        (_, UserOrder::Id) => page.users.last().map(|u| Position::AfterId(u.id.clone())),
        (PageStart::Offset(offset), _) => Some(Position::Offset(offset + served)),
        (PageStart::AfterId(_) | PageStart::Index { .. }, _) => None,
    };
    let next_cursor = match start_index {
        Some(_) => None,
        None => next_position
            .filter(|_| served == count && served > 0)
            .map(|position| {
                state
                    .cursors
                    .encode(&tenant_id, &fingerprint, position, now)
            }),
    };
    let users = page
        .users
        .into_iter()
        .map(|user| user.into_scim_user(&base));
    // Without `attributes`/`excludedAttributes` the users serialise as they are: the
    // projection would return them unchanged (a test holds it to that), only slower.
    if checked.projection.is_default() {
        let users: Vec<scim_model::User> = users.collect();
        Ok(list_response(users, page.total, start_index, next_cursor))
    } else {
        let projected = users
            .map(|user| checked.projection.apply(&user.to_value()))
            .collect();
        Ok(list_response::<serde_json::Value>(
            projected,
            page.total,
            start_index,
            next_cursor,
        ))
    }
}

/// A ListResponse: index-paginated when the request gave a `startIndex` (or none and
/// no cursor), cursor-paginated otherwise.
fn list_response<T: serde::Serialize>(
    resources: Vec<T>,
    total: u64,
    start_index: Option<u64>,
    next_cursor: Option<String>,
) -> HttpResponse {
    let expected_bytes = 512 + resources.len() * USER_JSON_BYTES;
    let body = match start_index {
        Some(start_index) => ListResponse::new(resources, total, start_index),
        None => ListResponse::with_cursors(resources, total, next_cursor, None),
    };
    scim_json_sized(actix_web::http::StatusCode::OK, &body, expected_bytes)
}

async fn get_one(
    state: web::Data<ScimState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let projection = query::from_query_string(&request).and_then(|search| {
        query::projection(
            &USER_RESOURCE,
            &search.attributes,
            &search.excluded_attributes,
        )
    });
    let projection = match projection {
        Ok(projection) => projection,
        Err(error) => {
            authenticate(&state, &request).await?;
            return Err(error);
        }
    };
    let id = id.into_inner();
    let wanted = id.clone();
    let (caller, user) = authenticate_then(&state, &request, move |db, tenant| {
        Ok(db.employees().scim_user(&tenant.id, &wanted)?)
    })
    .await?;
    let tenant = caller.tenant;
    let user = user.ok_or_else(|| {
        ApiError::not_found(format!(
            "No user with id `{id}` in this workspace. Ids come from Spark; list users \
             (GET /Users?filter=userName eq \"…\") to find one."
        ))
    })?;
    let etag = scim_model::employee::weak_etag(user.version);
    let unchanged = request
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((ETAG, etag))
            .finish());
    }
    state.counters.users_served.inc();
    let base = state.settings.scim_base_url(tenant.workspace.as_str());
    let body = projection.apply(&user.to_scim_user(&base).to_value());
    let mut response = scim_json(actix_web::http::StatusCode::OK, &body);
    if let Ok(value) = actix_web::http::header::HeaderValue::from_str(&etag) {
        response.headers_mut().insert(ETAG, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use scim_model::{EmployeeRecord, ManagerRef, Projection, USER_RESOURCE};

    /// Serialising users directly is only right while the default projection changes
    /// nothing.
    #[test]
    fn the_default_projection_leaves_a_user_unchanged() {
        let record = EmployeeRecord {
            id: "e1".into(),
            email: "ada@acme.com".into(),
            given_name: Some("Ada".into()),
            family_name: Some("Lovelace".into()),
            display_name: Some("Ada".into()),
            phone: Some("+1 555".into()),
            title: Some("CTO".into()),
            department: Some("Eng".into()),
            employee_number: Some("1".into()),
            manager: Some(ManagerRef {
                id: "e0".into(),
                display_name: Some("Boss".into()),
            }),
            active: false,
            created: Utc::now(),
            updated: Utc::now(),
            version: 3,
            external_id: Some("x".into()),
        };
        let user = record
            .to_scim_user("https://acme.spark.work/scim/v2")
            .to_value();
        let projection = Projection::new(&USER_RESOURCE, &[], &[]);
        assert!(projection.is_default());
        assert_eq!(projection.apply(&user), user);
    }
}
