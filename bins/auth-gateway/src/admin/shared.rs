//! What every admin page shares: the pages' paths; the guards, as extractors that let
//! only a signed-in admin of the workspace in and, for a change, check CSRF — each
//! refusing in its route's format ([`PageAdmin`], [`AdminForm`] as pages; [`ApiReader`],
//! [`ApiAdmin`], [`AdminJson`] as JSON); and JSON out.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web as aw};
use persistence::{Actor, Employee, OktaIntegration, Role, Tenant};
use serde::de::value::MapDeserializer;

use crate::error::{ApiError, Format, PageError, codes};
use crate::web::{db, require_workspace};
use crate::{GatewayState, csrf, rules};

/// The Marketplace page.
pub const MARKETPLACE_PAGE: &str = "/marketplace/integrations";
/// The SSO settings page.
pub const SSO_PAGE: &str = "/admin/domain/integrations/authentication";
/// The SCIM token page.
pub const SCIM_PAGE: &str = "/my-settings/integrations/okta-scim";

/// A signed-in admin on their own workspace host, with what every page shows.
pub(crate) struct Admin {
    pub tenant: Tenant,
    pub employee: Employee,
    /// The session's CSRF token, for forms.
    pub csrf_token: String,
    pub integration: OktaIntegration,
    /// This workspace's browser origin.
    pub origin: String,
}

impl Admin {
    /// The audit actor of the admin's changes.
    pub fn actor(&self) -> Actor {
        Actor::employee(self.employee.id.as_str())
    }

    /// Refuses a state-changing request that fails the CSRF check.
    pub fn check_csrf(
        &self,
        request: &HttpRequest,
        form_token: Option<&str>,
    ) -> Result<(), PageError> {
        csrf::check(
            request,
            &self.origin,
            csrf::Policy::OriginAndToken,
            Some(&self.csrf_token),
            form_token,
        )
    }

    /// Okta must be connected for settings that switch something on (saving SSO
    /// settings, minting or rotating tokens; connecting itself needs only the Spark
    /// team's activation). Switching things off —
    /// removing the SSO settings, revoking a token — is always allowed, and so is "Test
    /// connection", which only asks the org for its discovery document and saves
    /// nothing.
    pub fn require_connected(&self) -> Result<(), PageError> {
        if !self.integration.is_activated() {
            return Err(PageError::new(
                codes::OKTA_NOT_ACTIVATED,
                actix_web::http::StatusCode::CONFLICT,
                "The Okta integration is not activated for this workspace yet. Ask the Spark \
                 team to enable it (the Marketplace has an email template), then connect it.",
            )
            .headed("Okta is not available yet"));
        }
        if !self.integration.is_live() {
            return Err(PageError::new(
                codes::OKTA_NOT_CONNECTED,
                actix_web::http::StatusCode::CONFLICT,
                "The Okta integration is not connected. Connect it in the Marketplace \
                 (/marketplace/integrations), then come back to this page.",
            )
            .headed("Okta is not connected"));
        }
        Ok(())
    }
}

/// The admin behind a request, or the refusal: not a workspace host (404), no session
/// (to `/login`, or 401 on the JSON API), not an admin (403). The extractors below render
/// a refusal in their route's format.
async fn admin(
    state: &GatewayState,
    request: &HttpRequest,
    format: Format,
) -> Result<Admin, PageError> {
    let workspace = require_workspace(state, request)?;
    let (tenant, session) = crate::session::current(state, request, workspace.clone()).await?;
    let tenant = tenant.ok_or_else(|| PageError::workspace_unknown(&workspace))?;
    let Some(signed_in) = session else {
        return Err(match format {
            Format::Html => PageError::sign_in_required(request.path()),
            Format::Json => PageError::not_signed_in(),
        });
    };
    if signed_in.employee.role != Role::Admin {
        return Err(PageError::admin_required());
    }
    let tenant_id = tenant.id.clone();
    let integration = db(state, move |db| {
        Ok(db.okta_integrations().get(&tenant_id)?)
    })
    .await?;
    Ok(Admin {
        origin: state.settings.workspace_origin(tenant.workspace.as_str()),
        tenant,
        employee: signed_in.employee,
        csrf_token: signed_in.session.csrf_token,
        integration,
    })
}

/// The service's state, which every app that mounts these routes carries.
fn state(request: &HttpRequest) -> Result<aw::Data<GatewayState>, PageError> {
    request
        .app_data::<aw::Data<GatewayState>>()
        .cloned()
        .ok_or_else(PageError::internal)
}

/// What an extractor of this module resolves to.
type Extracting<T, E> = Pin<Box<dyn Future<Output = Result<T, E>>>>;

/// The admin of an admin page; a refusal is an HTML page (or the way to `/login`).
pub(crate) struct PageAdmin(pub Admin);

impl FromRequest for PageAdmin {
    type Error = PageError;
    type Future = Extracting<Self, PageError>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = state(&request)?;
            admin(&state, &request, Format::Html).await.map(Self)
        })
    }
}

/// The admin behind a read of the JSON API; a refusal is JSON.
pub(crate) struct ApiReader(pub Admin);

impl FromRequest for ApiReader {
    type Error = ApiError;
    type Future = Extracting<Self, ApiError>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = state(&request)?;
            Ok(Self(admin(&state, &request, Format::Json).await?))
        })
    }
}

/// The admin behind a change through the JSON API, CSRF-checked (the `X-CSRF-Token`
/// header); a refusal is JSON.
pub(crate) struct ApiAdmin(pub Admin);

impl FromRequest for ApiAdmin {
    type Error = ApiError;
    type Future = Extracting<Self, ApiError>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = state(&request)?;
            let admin = admin(&state, &request, Format::Json).await?;
            admin.check_csrf(&request, None)?;
            Ok(Self(admin))
        })
    }
}

/// A change through the JSON API with its body: [`ApiAdmin`]'s checks, then the body as
/// `T` (an empty body is `{}`); a refusal is JSON. A body over the gateway's limit is
/// refused before anything else, as everywhere.
pub(crate) struct AdminJson<T> {
    pub admin: Admin,
    pub body: T,
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for AdminJson<T> {
    type Error = actix_web::Error;
    type Future = Extracting<Self, actix_web::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        admin_with_body(request, payload, Format::Json, |admin, request, bytes| {
            admin.check_csrf(request, None)?;
            let body = json_body(bytes)?;
            Ok(Self { admin, body })
        })
    }
}

/// A page's submitted form (`application/x-www-form-urlencoded`) with the admin who sent
/// it: a field repeated or over-long, or not UTF-8, is refused (400), then the form's
/// `csrf_token` is checked; the other fields are read as `T`. A refusal is an HTML page;
/// a body over the gateway's limit is refused before anything else, as everywhere.
pub(crate) struct AdminForm<T> {
    pub admin: Admin,
    pub form: T,
}

impl<T: serde::de::DeserializeOwned + 'static> FromRequest for AdminForm<T> {
    type Error = actix_web::Error;
    type Future = Extracting<Self, actix_web::Error>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        admin_with_body(request, payload, Format::Html, |admin, request, bytes| {
            let mut fields = form_fields(bytes)?;
            let token = fields.remove(csrf::FORM_FIELD);
            admin.check_csrf(request, token.as_deref())?;
            let form = T::deserialize(MapDeserializer::<_, serde::de::value::Error>::new(
                fields.into_iter(),
            ))
            .map_err(|_| unreadable_form())?;
            Ok(Self { admin, form })
        })
    }
}

/// A change with a body, in the order every such change is judged: the body is read (one
/// over the gateway's limit is refused before anything else, as everywhere), then the
/// admin is found, then `decode` reads the body for that admin (checking CSRF where the
/// body carries its token). A refusal is rendered in `format`.
fn admin_with_body<S: 'static>(
    request: &HttpRequest,
    payload: &mut Payload,
    format: Format,
    decode: impl FnOnce(Admin, &HttpRequest, &[u8]) -> Result<S, PageError> + 'static,
) -> Extracting<S, actix_web::Error> {
    let bytes = aw::Bytes::from_request(request, payload);
    let request = request.clone();
    Box::pin(async move {
        let bytes = bytes.await?;
        let checked = async {
            let state = state(&request)?;
            let admin = admin(&state, &request, format).await?;
            decode(admin, &request, &bytes)
        };
        checked.await.map_err(|error| match format {
            Format::Json => ApiError::from(error).into(),
            Format::Html => error.into(),
        })
    })
}

fn unreadable_form() -> PageError {
    PageError::bad_request(
        codes::REQUEST_INVALID,
        "The form could not be read (a field is repeated, too long or not UTF-8). \
         Reload the page and try again.",
    )
    .headed("This form could not be read")
}

/// A submitted form's fields (`application/x-www-form-urlencoded`).
fn form_fields(body: &[u8]) -> Result<HashMap<String, String>, PageError> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| rules::params(text).ok())
        .ok_or_else(unreadable_form)
}

/// A JSON request body; an empty body is `{}`.
fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| {
        PageError::bad_request(
            codes::REQUEST_INVALID,
            format!("The request body is not the JSON this API takes: {e}."),
        )
    })
}

/// A JSON response.
pub(crate) fn json(status: actix_web::http::StatusCode, value: &serde_json::Value) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, "application/json"))
        .body(value.to_string())
}

/// An instant as the pages and the API show it.
pub(crate) fn rfc3339(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
