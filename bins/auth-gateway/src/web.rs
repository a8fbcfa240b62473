//! Request plumbing: which host a request is for (from the `Host` header only — never
//! `X-Forwarded-Host`, which the client controls), cookies in and out, and running
//! database work off the async workers.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use actix_web::HttpRequest;
use actix_web::http::header::{COOKIE, HOST};
use persistence::{Database, Tenant, TenantId};
use token_store::{SecretKind, SecretToken, TokenHash};

use crate::GatewayState;
use crate::error::PageError;

/// Name of the browser-binding cookie on the auth host when cookies are `Secure`: it
/// ties a callback to the browser that started the sign-in.
pub const BINDING_COOKIE_SECURE: &str = "__Host-spark_signin";
/// Name of the browser-binding cookie on the auth host in local development.
pub const BINDING_COOKIE_DEV: &str = "spark_signin";
/// Name of the browser-binding cookie on a workspace host when cookies are `Secure`: it
/// ties a session hand-off to the browser that started the sign-in.
pub const HANDOFF_COOKIE_SECURE: &str = "__Host-spark_handoff";
/// Name of the hand-off binding cookie in local development.
pub const HANDOFF_COOKIE_DEV: &str = "spark_handoff";
/// How long a binding cookie lives: as long as a login transaction.
pub const BINDING_MAX_AGE_SECS: i64 = 600;
/// Name of the session cookie on a workspace host when cookies are `Secure` (the
/// `__Host-` prefix makes browsers enforce host-only, `Path=/`, `Secure`).
pub const SESSION_COOKIE_SECURE: &str = "__Host-spark_session";
/// Name of the session cookie in local development (plain http).
pub const SESSION_COOKIE_DEV: &str = "spark_session";

/// The host name a request is for, lower-cased, without the port.
fn host_name(request: &HttpRequest) -> Option<String> {
    let host = request
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.as_str().to_owned()))?;
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.chars().all(|c| c.is_ascii_digit()) => name,
        _ => host.as_str(),
    };
    Some(name.trim_end_matches('.').to_ascii_lowercase())
}

/// Succeeds on the auth host `auth.{base_domain}`; elsewhere the route does not exist.
pub fn require_auth_host(state: &GatewayState, request: &HttpRequest) -> Result<(), PageError> {
    match host_name(request) {
        Some(name) if name == state.auth_host => Ok(()),
        _ => Err(PageError::not_found()),
    }
}

/// The workspace a request's host names (`acme` for `acme.{base_domain}`); the auth
/// host and foreign hosts have none, and the route does not exist there.
pub fn require_workspace(state: &GatewayState, request: &HttpRequest) -> Result<String, PageError> {
    let name = host_name(request).ok_or_else(PageError::not_found)?;
    if name == state.auth_host {
        return Err(PageError::not_found());
    }
    state
        .settings
        .workspace_of_host(&name)
        .filter(|label| persistence::Workspace::parse(label).is_ok())
        .map(str::to_owned)
        .ok_or_else(PageError::not_found)
}

/// The first value of the cookie `name`, if the request has one.
pub fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request
        .headers()
        .get_all(COOKIE)
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value: host-only (no `Domain`), HttpOnly, SameSite=Lax, `Secure`
/// unless insecure http is allowed.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path={path}; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")
}

/// The browser-binding token a request carries in cookie `name`, or a fresh one; and
/// whether it is fresh (then the response sets it). One binding per browser: a second
/// tab's sign-in reuses it, so both finish.
pub fn binding(request: &HttpRequest, name: &str) -> Result<(SecretToken, bool), PageError> {
    match cookie(request, name)
        .and_then(|value| SecretToken::parse(SecretKind::OidcState, &value).ok())
    {
        Some(token) => Ok((token, false)),
        None => SecretToken::mint(SecretKind::OidcState)
            .map(|(token, _)| (token, true))
            .map_err(|_| PageError::internal()),
    }
}

/// The hash of the browser-binding token a request carries in cookie `name`, if any.
pub fn binding_hash(request: &HttpRequest, name: &str) -> Option<TokenHash> {
    cookie(request, name)
        .and_then(|value| TokenHash::of_presented(SecretKind::OidcState, &value).ok())
}

/// A `Set-Cookie` value that removes the cookie.
pub fn clear_cookie(name: &str, path: &str, secure: bool) -> String {
    set_cookie(name, "", path, 0, secure)
}

/// Runs database work on the blocking pool; work shed under overload is a 503, a
/// panicked or cancelled task a 500.
pub async fn db<T, F>(state: &GatewayState, work: F) -> Result<T, PageError>
where
    F: FnOnce(&Database) -> Result<T, PageError> + Send + 'static,
    T: Send + 'static,
{
    let db = state.db.clone();
    web_runtime::blocking(db.acquire_timeout(), move || work(&db))
        .await
        .map_err(|why| match why {
            web_runtime::NotDone::Shed => PageError::unavailable(),
            web_runtime::NotDone::Failed => PageError::internal(),
        })?
}

/// The tenants of workspace hosts, remembered: every request on a workspace host needs
/// its tenant, and a workspace's tenant (id, slug) never changes — there is no rename or
/// delete. Only found tenants are kept (random host names cannot fill it), at most
/// [`TenantCache::MAX`] of them, by workspace and by id. Only the id, workspace and name
/// are to be relied on (`directory_version` moves on without the cache).
#[derive(Clone, Default)]
pub struct TenantCache(Arc<RwLock<Remembered>>);

#[derive(Default)]
struct Remembered {
    by_workspace: HashMap<String, Tenant>,
    by_id: HashMap<String, Tenant>,
}

impl TenantCache {
    /// The most tenants kept; beyond it the cache starts over.
    pub const MAX: usize = 10_000;

    /// The tenant of `workspace` (a validated slug), from memory or the database.
    pub fn find(&self, db: &Database, workspace: &str) -> persistence::Result<Option<Tenant>> {
        let cached = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_workspace
            .get(workspace)
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let found = db.tenants().find(workspace)?;
        if let Some(tenant) = &found {
            self.remember(tenant);
        }
        Ok(found)
    }

    /// The tenant with this id, from memory or the database.
    pub fn find_by_id(&self, db: &Database, id: &TenantId) -> persistence::Result<Option<Tenant>> {
        let cached = self
            .0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .by_id
            .get(id.as_str())
            .cloned();
        if cached.is_some() {
            return Ok(cached);
        }
        let found = db.tenants().find_by_id(id)?;
        if let Some(tenant) = &found {
            self.remember(tenant);
        }
        Ok(found)
    }

    fn remember(&self, tenant: &Tenant) {
        let mut maps = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if maps.by_id.len() >= Self::MAX {
            maps.by_workspace.clear();
            maps.by_id.clear();
        }
        maps.by_workspace
            .insert(tenant.workspace.as_str().to_owned(), tenant.clone());
        maps.by_id
            .insert(tenant.id.as_str().to_owned(), tenant.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let request = actix_web::test::TestRequest::default()
            .insert_header((COOKIE, "a=1; spark_session=xyz; spark_session_x=2"))
            .to_http_request();
        assert_eq!(cookie(&request, "spark_session").as_deref(), Some("xyz"));
        assert_eq!(cookie(&request, "b"), None);
    }

    #[test]
    fn set_cookie_has_the_attributes() {
        let c = set_cookie("n", "v", "/", 60, true);
        assert_eq!(c, "n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure");
        assert!(!set_cookie("n", "v", "/", 60, false).contains("Secure"));
        assert!(!c.contains("Domain"));
    }
}
