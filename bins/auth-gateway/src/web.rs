//! Request plumbing: which host a request is for (from the `Host` header only — never
//! `X-Forwarded-Host`, which the client controls), cookies in and out, and running
//! database work off the async workers.

use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::HOST;
use bounded_map::BoundedMap;
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

/// The first value of the cookie `name`, if the request has one (as actix reads the
/// `Cookie` headers).
pub fn cookie(request: &HttpRequest, name: &str) -> Option<String> {
    request.cookie(name).map(|c| c.value().to_owned())
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
/// delete. Only found tenants are kept (random host names cannot fill it), by workspace
/// and by id, each index at most [`TenantCache::MAX`] tenants and
/// [`TenantCache::MAX_BYTES`] (past either it starts over). Only the id, workspace and
/// name are to be relied on (`directory_version` moves on without the cache).
#[derive(Clone)]
pub struct TenantCache(Arc<Remembered>);

struct Remembered {
    by_workspace: BoundedMap<String, Tenant>,
    by_id: BoundedMap<String, Tenant>,
}

impl Default for TenantCache {
    fn default() -> Self {
        Self::bounded(Self::MAX, Self::MAX_BYTES)
    }
}

impl TenantCache {
    /// The most tenants kept in each index; beyond it the index starts over.
    pub const MAX: usize = 10_000;

    /// The most bytes kept in each index, counted as each tenant's text and key plus
    /// their fixed size; beyond it the index starts over.
    pub const MAX_BYTES: usize = 8 << 20;

    fn bounded(max_entries: usize, max_bytes: usize) -> Self {
        Self(Arc::new(Remembered {
            by_workspace: BoundedMap::new(max_entries, max_bytes),
            by_id: BoundedMap::new(max_entries, max_bytes),
        }))
    }

    /// The tenant of `workspace` (a validated slug), from memory or the database.
    pub fn find(&self, db: &Database, workspace: &str) -> persistence::Result<Option<Tenant>> {
        if let Some(tenant) = self.0.by_workspace.get(workspace) {
            return Ok(Some(tenant));
        }
        let found = db.tenants().find(workspace)?;
        if let Some(tenant) = &found {
            self.remember(tenant);
        }
        Ok(found)
    }

    /// The tenant with this id, from memory or the database.
    pub fn find_by_id(&self, db: &Database, id: &TenantId) -> persistence::Result<Option<Tenant>> {
        if let Some(tenant) = self.0.by_id.get(id.as_str()) {
            return Ok(Some(tenant));
        }
        let found = db.tenants().find_by_id(id)?;
        if let Some(tenant) = &found {
            self.remember(tenant);
        }
        Ok(found)
    }

    fn remember(&self, tenant: &Tenant) {
        let (id, workspace) = (tenant.id.as_str(), tenant.workspace.as_str());
        let bytes = std::mem::size_of::<(String, Tenant)>()
            + id.len()
            + workspace.len()
            + tenant.name.len();
        self.0.by_workspace.insert(
            workspace.to_owned(),
            tenant.clone(),
            bytes + workspace.len(),
        );
        self.0
            .by_id
            .insert(id.to_owned(), tenant.clone(), bytes + id.len());
    }
}

#[cfg(test)]
mod tenant_cache_tests {
    use persistence::testing::TestDatabase;
    use persistence::{Actor, Backend, Workspace};

    use super::*;

    fn create(db: &Database, workspace: &str, name: &str) -> Tenant {
        db.tenants()
            .create(
                &Workspace::parse(workspace).unwrap(),
                name,
                &Actor::system(),
            )
            .unwrap()
    }

    #[test]
    fn a_found_tenant_is_answered_from_memory_by_workspace_and_by_id() {
        let test_db = TestDatabase::new(Backend::Sqlite);
        let acme = create(test_db.db(), "acme", "Acme Inc");
        // A database without the tenant: what it answers must come from memory.
        let empty = TestDatabase::new(Backend::Sqlite);
        let cache = TenantCache::default();
        assert_eq!(cache.find(empty.db(), "acme").unwrap(), None);
        assert_eq!(
            cache.find(test_db.db(), "acme").unwrap(),
            Some(acme.clone())
        );
        assert_eq!(cache.find(empty.db(), "acme").unwrap(), Some(acme.clone()));
        assert_eq!(cache.find_by_id(empty.db(), &acme.id).unwrap(), Some(acme));
        assert_eq!(cache.find(empty.db(), "globex").unwrap(), None);
        assert_eq!(cache.0.by_workspace.len(), 1, "only found tenants are kept");
    }

    #[test]
    fn the_cache_holds_its_entries_and_bytes() {
        let test_db = TestDatabase::new(Backend::Sqlite);
        let db = test_db.db();
        let workspaces = ["a1", "a2", "a3"];
        for workspace in workspaces {
            create(db, workspace, "A");
        }
        let measure = TenantCache::default();
        measure.find(db, "a1").unwrap();
        let (by_workspace, by_id) = (measure.0.by_workspace.bytes(), measure.0.by_id.bytes());
        let two_tenants = 2 * by_workspace.max(by_id);
        assert!(3 * by_workspace.min(by_id) > two_tenants);
        // Two tenants at most in each index: by entries, then by bytes.
        for cache in [
            TenantCache::bounded(2, 1 << 20),
            TenantCache::bounded(100, two_tenants),
        ] {
            for workspace in workspaces {
                assert!(cache.find(db, workspace).unwrap().is_some());
                for index in [&cache.0.by_workspace, &cache.0.by_id] {
                    assert!(index.len() <= 2 && index.bytes() <= two_tenants);
                }
            }
            for index in [&cache.0.by_workspace, &cache.0.by_id] {
                assert_eq!(index.len(), 1, "the third tenant started it over");
            }
            assert!(cache.0.by_workspace.get("a3").is_some());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::COOKIE;

    #[test]
    fn cookies_are_read_by_exact_name() {
        let request = actix_web::test::TestRequest::default()
            .insert_header((
                COOKIE,
                "a=1; junk; =x; spark_session_x=2; spark_session=xyz",
            ))
            .append_header((COOKIE, "spark_session=second"))
            .to_http_request();
        assert_eq!(cookie(&request, "spark_session").as_deref(), Some("xyz"));
        assert_eq!(cookie(&request, "spark_session_x").as_deref(), Some("2"));
        assert_eq!(cookie(&request, "spark"), None);
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
