//! What every admin page shares: the pages' paths, the guard that lets only a signed-in
//! admin of the workspace in (and, for a change, checks CSRF), and request bodies in and
//! JSON out.

use std::collections::HashMap;

use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, HttpResponse};
use persistence::{Actor, Employee, OktaIntegration, Role, Tenant};

use crate::error::{Format, PageError, codes};
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
/// (to `/login`, or 401 as JSON), not an admin (403).
pub(crate) async fn admin(
    state: &GatewayState,
    request: &HttpRequest,
    format: Format,
) -> Result<Admin, PageError> {
    let workspace = require_workspace(state, request).map_err(|e| e.rendered(format))?;
    let (tenant, session) = crate::session::current(state, request, workspace.clone())
        .await
        .map_err(|e| e.rendered(format))?;
    let tenant = tenant.ok_or_else(|| PageError::workspace_unknown(&workspace).rendered(format))?;
    let Some(signed_in) = session else {
        return Err(match format {
            Format::Html => PageError::sign_in_required(request.path()),
            Format::Json => PageError::not_signed_in(),
        });
    };
    if signed_in.employee.role != Role::Admin {
        return Err(PageError::admin_required().rendered(format));
    }
    let tenant_id = tenant.id.clone();
    let integration = db(state, move |db| {
        Ok(db.okta_integrations().get(&tenant_id)?)
    })
    .await
    .map_err(|e| e.rendered(format))?;
    Ok(Admin {
        origin: state.settings.workspace_origin(tenant.workspace.as_str()),
        tenant,
        employee: signed_in.employee,
        csrf_token: signed_in.session.csrf_token,
        integration,
    })
}

/// The admin behind a change through the JSON API, CSRF-checked (the `X-CSRF-Token`
/// header).
pub(crate) async fn api_change(
    state: &GatewayState,
    request: &HttpRequest,
) -> Result<Admin, PageError> {
    let admin = admin(state, request, Format::Json).await?;
    admin.check_csrf(request, None).map_err(PageError::json)?;
    Ok(admin)
}

/// The admin behind a submitted form, CSRF-checked (the form's `csrf_token`), with the
/// form's fields.
pub(crate) async fn form_change(
    state: &GatewayState,
    request: &HttpRequest,
    body: &[u8],
) -> Result<(Admin, HashMap<String, String>), PageError> {
    let admin = admin(state, request, Format::Html).await?;
    let fields = form_fields(body)?;
    admin.check_csrf(request, fields.get(csrf::FORM_FIELD).map(String::as_str))?;
    Ok((admin, fields))
}

/// A submitted form's fields (`application/x-www-form-urlencoded`).
pub(crate) fn form_fields(body: &[u8]) -> Result<HashMap<String, String>, PageError> {
    std::str::from_utf8(body)
        .ok()
        .and_then(|text| rules::params(text).ok())
        .ok_or_else(|| {
            PageError::bad_request(
                codes::REQUEST_INVALID,
                "The form could not be read (a field is repeated, too long or not UTF-8). \
                 Reload the page and try again.",
            )
            .headed("This form could not be read")
        })
}

/// A JSON request body; an empty body is `{}`.
pub(crate) fn json_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PageError> {
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
        .json()
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
