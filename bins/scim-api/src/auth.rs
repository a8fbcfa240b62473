//! Who is asking: the workspace the `Host` names, and a live SCIM token of that
//! workspace's tenant. Every failure is the same 401, so a token used on another
//! workspace's host never learns whether that workspace exists.

use actix_web::HttpRequest;
use actix_web::http::header::AUTHORIZATION;
use persistence::{Actor, Tenant};
use token_store::scim::{ScimTokens, VerifyError};

use crate::ScimState;
use crate::error::ApiError;

/// An authenticated request's tenant.
pub struct Caller {
    /// The tenant whose token was presented, on its own workspace host.
    pub tenant: Tenant,
}

/// The bearer token of a request, if it has one (`Bearer` in any case, RFC 6750).
fn bearer(request: &HttpRequest) -> Option<String> {
    let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = header.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

enum Outcome {
    Allowed(Tenant),
    Refused,
    IntegrationOff,
}

/// Authenticates a request, or says why not.
pub async fn authenticate(state: &ScimState, request: &HttpRequest) -> Result<Caller, ApiError> {
    // The Host header itself (or the request line's authority), never X-Forwarded-Host:
    // the load balancer passes Host through, and a forwarded header is the caller's word.
    let host = request
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default()
        .to_owned();
    let workspace = state.settings.workspace_of_host(&host).map(str::to_owned);
    let (Some(workspace), Some(token)) = (workspace, bearer(request)) else {
        state.counters.auth_failures.inc();
        return Err(ApiError::unauthorized());
    };
    let db = state.db.clone();
    let outcome = web_runtime::blocking(move || -> persistence::Result<Outcome> {
        let Some((tenant, okta)) = db.tenants().find_with_okta(&workspace)? else {
            return Ok(Outcome::Refused);
        };
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::system()));
        match tokens.verify(&(&tenant.id).into(), &token, chrono::Utc::now()) {
            Ok(_) => {}
            Err(VerifyError::Storage(error)) => return Err(error),
            Err(_) => return Ok(Outcome::Refused),
        }
        if okta.is_live() {
            Ok(Outcome::Allowed(tenant))
        } else {
            Ok(Outcome::IntegrationOff)
        }
    })
    .await
    .ok_or_else(ApiError::internal)??;
    match outcome {
        Outcome::Allowed(tenant) => Ok(Caller { tenant }),
        Outcome::Refused => {
            state.counters.auth_failures.inc();
            Err(ApiError::unauthorized())
        }
        Outcome::IntegrationOff => Err(ApiError::integration_off()),
    }
}
