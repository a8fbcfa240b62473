//! `/Groups`: Spark's departments, read-only, with their members. A tenant has a handful
//! of departments, so filtering uses scim-filter's in-memory evaluator on the group
//! documents (the same semantics the user SQL translation is tested against).

use actix_web::{HttpRequest, HttpResponse, web};
use scim_model::{GROUP_RESOURCE, ListResponse};

use crate::ScimState;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::query::{self, Paging};
use crate::users::{method_not_allowed_post, refuse_write, scim_json};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/Groups")
            .route(web::get().to(list))
            .default_service(web::to(refuse_write)),
    )
    .service(
        web::resource("/Groups/.search")
            .route(web::post().to(search))
            .default_service(web::to(method_not_allowed_post)),
    )
    .service(
        web::resource("/Groups/{id}")
            .route(web::get().to(get_one))
            .default_service(web::to(refuse_write)),
    );
}

async fn departments(
    state: &ScimState,
    tenant: &persistence::Tenant,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let db = state.db.clone();
    let tenant_id = tenant.id.clone();
    let records = web_runtime::blocking(move || db.employees().departments(&tenant_id))
        .await
        .ok_or_else(ApiError::internal)??;
    let base = state.settings.scim_base_url(tenant.workspace.as_str());
    Ok(records
        .iter()
        .map(|d| d.to_scim_group(&base).to_value())
        .collect())
}

async fn list(state: web::Data<ScimState>, request: HttpRequest) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &request).await?;
    let search = query::from_query_string(&request)?;
    respond(&state, &caller.tenant, &search).await
}

async fn search(
    state: web::Data<ScimState>,
    request: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &request).await?;
    let search = query::from_body(&query::read_body(body).await?)?;
    respond(&state, &caller.tenant, &search).await
}

async fn respond(
    state: &ScimState,
    tenant: &persistence::Tenant,
    search: &scim_model::SearchRequest,
) -> Result<HttpResponse, ApiError> {
    let max = u64::from(state.service.max_page_size);
    let checked = query::check(
        search,
        &GROUP_RESOURCE,
        u64::from(state.service.default_page_size),
        max,
    )?;
    let mut groups = departments(state, tenant).await?;
    if let Some(filter) = &checked.filter {
        groups.retain(|group| filter.matches(group));
    }
    if checked.sort_by.is_some() && checked.descending {
        groups.reverse(); // departments come sorted by name; displayName is the only sort
    }
    let total = groups.len() as u64;
    let start_index = match checked.paging {
        Paging::Index(start_index) => start_index,
        Paging::Cursor(_) => {
            return Err(ApiError::bad_request(
                scim_model::ScimType::InvalidValue,
                "Groups are paged by startIndex; a tenant has few departments",
            ));
        }
    };
    let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
    let take = usize::try_from(checked.count).unwrap_or(usize::MAX);
    let page: Vec<serde_json::Value> = groups
        .iter()
        .skip(skip)
        .take(take)
        .map(|group| checked.projection.apply(group))
        .collect();
    Ok(scim_json(
        actix_web::http::StatusCode::OK,
        &ListResponse::new(page, total, start_index),
    ))
}

async fn get_one(
    state: web::Data<ScimState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let caller = authenticate(&state, &request).await?;
    let search = query::from_query_string(&request)?;
    let projection = query::projection(
        &GROUP_RESOURCE,
        &search.attributes,
        &search.excluded_attributes,
    )?;
    let groups = departments(&state, &caller.tenant).await?;
    let group = groups
        .iter()
        .find(|g| g.get("id").and_then(serde_json::Value::as_str) == Some(id.as_str()))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "No group (department) with id `{id}` in this workspace."
            ))
        })?;
    Ok(scim_json(
        actix_web::http::StatusCode::OK,
        &projection.apply(group),
    ))
}
