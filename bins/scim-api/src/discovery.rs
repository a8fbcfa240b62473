//! `/ServiceProviderConfig`, `/Schemas`, `/ResourceTypes`: what this service is, generated
//! from scim-model's one schema description. Read-only: other methods get 405 with
//! `Allow: GET`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use scim_model::{ListResponse, ServiceProviderConfig, discovery};

use crate::ScimState;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::users::scim_json;

pub fn routes(cfg: &mut web::ServiceConfig) {
    for (path, handler) in [
        ("/ServiceProviderConfig", Handler::Config),
        ("/Schemas", Handler::Schemas),
        ("/Schemas/{id}", Handler::Schema),
        ("/ResourceTypes", Handler::ResourceTypes),
        ("/ResourceTypes/{id}", Handler::ResourceType),
    ] {
        cfg.service(
            web::resource(path)
                .route(web::get().to(
                    move |caller: Caller, state: web::Data<ScimState>, request: HttpRequest| {
                        serve(caller, state, request, handler)
                    },
                ))
                .default_service(web::to(method_not_allowed)),
        );
    }
}

#[derive(Clone, Copy)]
enum Handler {
    Config,
    Schemas,
    Schema,
    ResourceTypes,
    ResourceType,
}

async fn method_not_allowed() -> Result<HttpResponse, ApiError> {
    Err(ApiError::method_not_allowed())
}

async fn serve(
    caller: Caller,
    state: web::Data<ScimState>,
    request: HttpRequest,
    handler: Handler,
) -> Result<HttpResponse, ApiError> {
    let base = state
        .settings
        .scim_base_url(caller.tenant.workspace.as_str());
    let id = request
        .match_info()
        .get("id")
        .unwrap_or_default()
        .to_owned();
    match handler {
        Handler::Config => ok(&ServiceProviderConfig::read_only(&base, &state.service)),
        Handler::Schemas => {
            let all = discovery::schema_documents(&base);
            let total = all.len() as u64;
            ok(&ListResponse::new(all, total, 1))
        }
        Handler::Schema => match discovery::schema_document(&base, &id) {
            Some(schema) => ok(&schema),
            None => Err(ApiError::not_found(format!(
                "No schema `{id}`; GET /Schemas lists them."
            ))),
        },
        Handler::ResourceTypes => {
            let all = discovery::resource_type_documents(&base);
            let total = all.len() as u64;
            ok(&ListResponse::new(all, total, 1))
        }
        Handler::ResourceType => match discovery::resource_type_document(&base, &id) {
            Some(resource_type) => ok(&resource_type),
            None => Err(ApiError::not_found(format!(
                "No resource type `{id}`; GET /ResourceTypes lists them."
            ))),
        },
    }
}

fn ok(body: &impl serde::Serialize) -> Result<HttpResponse, ApiError> {
    Ok(scim_json(StatusCode::OK, body))
}
