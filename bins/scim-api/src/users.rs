//! `/Users`: list (with filter, sort, index or cursor paging, projection), `.search`,
//! one user by id with its ETag; every write refused.

use actix_web::http::header::{ETAG, IF_NONE_MATCH};
use actix_web::{HttpRequest, HttpResponse, web};
use scim_model::json_writer;
use scim_model::{ListResponse, USER_RESOURCE};

use crate::ScimState;
use crate::auth::{Caller, Credentials, Lookup};
use crate::error::{ApiError, SCIM_JSON};
use crate::pager::Pager;
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
pub async fn refuse_write(_: Caller) -> Result<HttpResponse, ApiError> {
    Err(ApiError::read_only())
}

/// `/Users/.search` and `/Groups/.search` take POST only (RFC 7644 §3.4.3): 405, after
/// authentication like every refusal, naming the GET alternative of the resource.
pub async fn method_not_allowed_post(
    _: Caller,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
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
    scim_json_written(status, write_json(Vec::with_capacity(1024), body))
}

/// `out` with `body` as JSON (nothing, should serialising fail).
fn write_json(mut out: Vec<u8>, body: &impl serde::Serialize) -> Vec<u8> {
    if serde_json::to_writer(&mut out, body).is_err() {
        out.clear();
    }
    out
}

/// A JSON body already written, as SCIM wants it.
fn scim_json_written(status: actix_web::http::StatusCode, json: Vec<u8>) -> HttpResponse {
    HttpResponse::build(status)
        .content_type(SCIM_JSON)
        .body(json)
}

async fn list(
    credentials: Credentials,
    state: web::Data<ScimState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let checked = query::from_query_string(&request).and_then(|search| {
        query::check(&search, &USER_RESOURCE, page_size(&state), max_page(&state))
    });
    respond(state, credentials, checked).await
}

async fn search(
    credentials: Credentials,
    state: web::Data<ScimState>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let checked = match query::read_body(body).await {
        Ok(body) => query::from_body(&body).and_then(|search| {
            query::check(&search, &USER_RESOURCE, page_size(&state), max_page(&state))
        }),
        Err(error) => Err(error),
    };
    respond(state, credentials, checked).await
}

fn page_size(state: &ScimState) -> u64 {
    u64::from(state.service.default_page_size)
}

fn max_page(state: &ScimState) -> u64 {
    u64::from(state.service.max_page_size)
}

/// Okta's look-up — a filter, the first page, in id order — which the caller's
/// credentials can come with in one statement (see [`Credentials::lookup_then`]).
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
    credentials: Credentials,
    checked: Result<CheckedQuery, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            credentials.authenticate(&state).await?;
            return Err(error);
        }
    };
    let shared = state.clone();
    let lookup = lookup_of(&checked);
    // The answer's buffer is allocated here, on the async worker that frees it once the
    // answer is sent. Allocated on the blocking thread instead, it would be freed across
    // threads, and every blocking thread would keep a page's worth of memory.
    let users_expected = if lookup.is_some() { 1 } else { checked.count };
    let body = Vec::with_capacity(json_writer::page_bytes(
        usize::try_from(users_expected).unwrap_or(0),
    ));
    // Paging, the page, what it teaches and the answer, on the blocking thread that
    // authenticates the request: a request makes one trip there, and the page's records
    // are written while still in its cache, then freed by the thread that allocated them.
    let (_, body) = credentials
        .lookup_then(&state, lookup, move |db, tenant, looked_up| {
            let pager = Pager::new(&shared, tenant, &checked)?;
            let page = pager.read(&shared, db, tenant, &checked, looked_up)?;
            Ok(write_page(body, &shared, tenant, &pager, &page, &checked))
        })
        .await?;
    Ok(scim_json_written(actix_web::http::StatusCode::OK, body))
}

/// `out` with the JSON of a page of users as the request asked for it (counted in the
/// service's counters).
fn write_page(
    mut out: Vec<u8>,
    state: &ScimState,
    tenant: &persistence::Tenant,
    pager: &Pager,
    page: &persistence::UserPage,
    checked: &CheckedQuery,
) -> Vec<u8> {
    let base = state.settings.scim_base_url(tenant.workspace.as_str());
    state.counters.users_served.inc_by(page.users.len() as u64);
    if let Some(start) = pager.resumed_label(page) {
        state
            .counters
            .index_pages
            .get_or_create(&crate::StartLabels { start })
            .inc();
    }
    let next_cursor = pager.next_cursor(state, page);
    // How the answer is paginated: as the request was, with the next page's cursor.
    let paging = match pager.start_index() {
        Some(start_index) => json_writer::Paging::Index { start_index },
        None => json_writer::Paging::Cursor {
            next_cursor: next_cursor.as_deref(),
        },
    };
    // Without `attributes`/`excludedAttributes` the page is written straight from the
    // records: the projection would return the users unchanged (a test holds it to
    // that), only slower.
    if checked.projection.is_default() {
        json_writer::user_list_into(&mut out, &page.users, &base, page.total, paging);
        return out;
    }
    let projected: Vec<serde_json::Value> = page
        .users
        .iter()
        .map(|user| {
            checked
                .projection
                .apply(&user.to_scim_user(&base).to_value())
        })
        .collect();
    write_list_response(out, projected, page.total, paging)
}

/// `out` with the JSON of a ListResponse of projected users, paginated as `paging` says.
fn write_list_response(
    out: Vec<u8>,
    resources: Vec<serde_json::Value>,
    total: u64,
    paging: json_writer::Paging<'_>,
) -> Vec<u8> {
    let body = match paging {
        json_writer::Paging::Index { start_index } => {
            ListResponse::new(resources, total, start_index)
        }
        json_writer::Paging::Cursor { next_cursor } => {
            ListResponse::with_cursors(resources, total, next_cursor.map(str::to_owned), None)
        }
    };
    write_json(out, &body)
}

async fn get_one(
    credentials: Credentials,
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
            credentials.authenticate(&state).await?;
            return Err(error);
        }
    };
    let id = id.into_inner();
    let wanted = id.clone();
    let (caller, user) = credentials
        .then(&state, move |db, tenant| {
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
    let mut response = if projection.is_default() {
        let body = json_writer::user(&user, &base);
        scim_json_written(actix_web::http::StatusCode::OK, body)
    } else {
        let body = projection.apply(&user.to_scim_user(&base).to_value());
        scim_json(actix_web::http::StatusCode::OK, &body)
    };
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
