//! Who is asking: the workspace the `Host` names, and a live SCIM token of that
//! workspace's tenant. Every token failure is the same 401, so a token used on another
//! workspace's host learns nothing about that workspace's tokens; a workspace that does
//! not exist at all is a 404 that says so (see [`no_such_workspace`]). Too many failures from
//! one address or on one workspace are the same 429. A well-formed token is always
//! verified; only a request that cannot be valid is refused without the database
//! (`throttle.rs` says why).

use std::future::{Future, Ready, ready};
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use persistence::{Actor, Database, OktaIntegration, Tenant, UserPage};
use token_store::scim::{check, scim_bearer};
use token_store::{BearerForm, SecretKind, StoredToken, TokenHash, TokenRepository as _};

use crate::ScimState;
use crate::error::ApiError;

/// An authenticated request's tenant. As a handler's argument it authenticates the
/// request before the handler runs (see its `FromRequest`).
pub struct Caller {
    /// The tenant whose token was presented, on its own workspace host.
    pub tenant: Tenant,
}

/// The bearer token of a request and the form it came in, if it has one: `Bearer
/// <token>` (the scheme in any case, RFC 6750), and — serving Okta, whose provisioning
/// settings add the scheme for some app types and not for others — a bare SCIM token or
/// `Bearer Bearer <token>` (see [`scim_bearer`]).
fn bearer(request: &HttpRequest) -> Option<(String, BearerForm)> {
    let header = request.headers().get(AUTHORIZATION)?.to_str().ok()?;
    scim_bearer(header).map(|(token, form)| (token.to_owned(), form))
}

/// The address the request counts against: the TCP peer's, or the one trusted proxies
/// name in `X-Forwarded-For` when `security.trusted_proxy_hops` says there are some.
fn client_address(state: &ScimState, request: &HttpRequest) -> Option<IpAddr> {
    let forwarded_for = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok());
    crate::throttle::client_address(
        request.peer_addr().map(|peer| peer.ip()),
        forwarded_for,
        state.settings.security.trusted_proxy_hops,
    )
}

enum Outcome {
    Allowed(Tenant),
    Refused,
    IntegrationOff,
    /// No tenant has this workspace name.
    NoSuchWorkspace,
}

/// What a request presents, read and checked without the database: the workspace of its
/// host, and a well-formed token. A request that cannot be valid never gets this far. As
/// a handler's argument, the handler then authenticates with it and reads what it needs
/// in one trip to the database ([`Credentials::then`]).
pub struct Credentials {
    workspace: String,
    form: Option<BearerForm>,
    hash: TokenHash,
    address: Option<IpAddr>,
}

/// The request's credentials, or the refusal of a request that cannot be valid (no
/// workspace host, no token, or not a well-formed Spark token) — decided without the
/// database, and counted against the address and workspace.
fn credentials(state: &ScimState, request: &HttpRequest) -> Result<Credentials, ApiError> {
    // The Host header itself (or the request line's authority), never X-Forwarded-Host:
    // the load balancer passes Host through, and a forwarded header is the caller's word.
    let host = request
        .headers()
        .get(actix_web::http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| request.uri().authority().map(|a| a.as_str()))
        .unwrap_or_default();
    let workspace = state.settings.workspace_of_host(host).map(str::to_owned);
    let (token, form) = bearer(request).unzip();
    let address = client_address(state, request);
    let throttle = &state.throttle;
    // A missing or malformed token cannot be valid: it is refused without database work.
    let hash = token
        .as_deref()
        .and_then(|t| TokenHash::of_presented(SecretKind::ScimToken, t).ok());
    match (workspace, hash) {
        (Some(workspace), Some(hash)) => Ok(Credentials {
            workspace,
            form,
            hash,
            address,
        }),
        (workspace, _) => {
            if let Some(wait) = throttle.blocked(address, workspace.as_deref(), throttle.now()) {
                return Err(throttled(state, wait));
            }
            Err(failed(state, address, workspace.as_deref()))
        }
    }
}

impl Credentials {
    /// Verifies the token against the workspace's tenant: one query (and, now and then,
    /// the token's last-used time). Blocking.
    fn verify(&self, db: &Database) -> persistence::Result<Outcome> {
        // The tenant, its integration state and the token with this hash: one query.
        let Some((tenant, okta, found)) = db
            .tenants()
            .find_with_okta_and_token(&self.workspace, &self.hash)?
        else {
            return Ok(Outcome::NoSuchWorkspace);
        };
        self.judge(db, tenant, &okta, found)
    }

    /// Whether `found` — the workspace's token with the presented hash, however it was
    /// fetched — lets the request in (token-store's rule), and then whether the
    /// integration is on; writes the token's last use when it is due. Blocking.
    fn judge(
        &self,
        db: &Database,
        tenant: Tenant,
        okta: &OktaIntegration,
        found: Option<StoredToken>,
    ) -> persistence::Result<Outcome> {
        let form = self.form.unwrap_or_default();
        let now = chrono::Utc::now();
        let tokens_tenant = (&tenant.id).into();
        match check::<persistence::Error>(found, &tokens_tenant, &self.hash, form, now) {
            Ok(verdict) if verdict.touch => {
                db.scim_tokens(&Actor::system()).touch(
                    &tokens_tenant,
                    &verdict.record.id,
                    now,
                    form,
                )?;
            }
            Ok(_) => {}
            Err(_) => return Ok(Outcome::Refused),
        }
        if okta.is_live() {
            Ok(Outcome::Allowed(tenant))
        } else {
            Ok(Outcome::IntegrationOff)
        }
    }

    /// The caller, or the answer to a request its token does not let in (counted as a
    /// failed attempt where it is one).
    fn settle(self, state: &ScimState, outcome: Outcome) -> Result<Caller, ApiError> {
        if matches!(outcome, Outcome::Allowed(_) | Outcome::IntegrationOff) {
            state.counters.count_form(self.form.unwrap_or_default());
        }
        match outcome {
            Outcome::Allowed(tenant) => Ok(Caller { tenant }),
            Outcome::NoSuchWorkspace => {
                Err(no_such_workspace(state, self.address, &self.workspace))
            }
            Outcome::Refused => Err(failed(state, self.address, Some(&self.workspace))),
            Outcome::IntegrationOff => Err(ApiError::integration_off()),
        }
    }
}

impl FromRequest for Credentials {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    /// The request's [`credentials`]: a request that cannot be valid is refused here,
    /// before its handler runs and without the database.
    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(match request.app_data::<web::Data<ScimState>>() {
            Some(state) => credentials(state, request),
            None => Err(ApiError::internal()),
        })
    }
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    /// An authenticated caller, or the refusal: for a handler that needs nothing else
    /// from the database (a handler that reads takes [`Credentials`] and
    /// [`Credentials::then`], one trip for both).
    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let state = request.app_data::<web::Data<ScimState>>().cloned();
        let credentials = Credentials::from_request(request, payload).into_inner();
        Box::pin(async move {
            let state = state.ok_or_else(ApiError::internal)?;
            credentials?.authenticate(&state).await
        })
    }
}

/// Okta's look-up (`filter` on the first page of at most `limit` users, see
/// persistence's `scim_lookup`) as far as it can go in one statement with the caller's
/// credentials.
pub struct Lookup {
    /// The look-up's filter.
    pub filter: scim_filter::Expr,
    /// Its page size.
    pub limit: u64,
}

impl Credentials {
    /// The caller these credentials let in, or why not.
    pub async fn authenticate(self, state: &ScimState) -> Result<Caller, ApiError> {
        let (caller, ()) = self.then(state, |_, _| Ok(())).await?;
        Ok(caller)
    }

    /// Authenticates and, when the caller is let in, runs `work` with the database and
    /// the caller's tenant — both on one blocking thread, in one trip there and back (a
    /// trip costs two thread switches, about as much CPU as the queries of a look-up).
    /// `work` runs only for an authenticated caller.
    pub async fn then<T, F>(self, state: &ScimState, work: F) -> Result<(Caller, T), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &Tenant) -> Result<T, ApiError> + Send + 'static,
    {
        self.lookup_then(state, None, move |db, tenant, _| work(db, tenant))
            .await
    }

    /// [`then`](Self::then), with `lookup` read in the same statement as the caller's
    /// credentials, which are judged by the same rule; `work` gets the page. Without
    /// `lookup`, `work` gets `None` and reads what it needs itself.
    pub async fn lookup_then<T, F>(
        self,
        state: &ScimState,
        lookup: Option<Lookup>,
        work: F,
    ) -> Result<(Caller, T), ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Database, &Tenant, Option<UserPage>) -> Result<T, ApiError> + Send + 'static,
    {
        let credentials = self;
        let db = state.db.clone();
        let (credentials, outcome, done) = web_runtime::blocking(db.acquire_timeout(), move || {
            let (outcome, page) = match &lookup {
                Some(lookup) => {
                    let found = db.employees().scim_lookup(
                        &credentials.workspace,
                        &credentials.hash,
                        &lookup.filter,
                        lookup.limit,
                    )?;
                    match found {
                        Some(found) => {
                            let outcome =
                                credentials.judge(&db, found.tenant, &found.okta, found.token)?;
                            (outcome, Some(found.page))
                        }
                        None => (Outcome::NoSuchWorkspace, None),
                    }
                }
                None => (credentials.verify(&db)?, None),
            };
            let done = match &outcome {
                Outcome::Allowed(tenant) => Some(work(&db, tenant, page)),
                _ => None,
            };
            Ok::<_, persistence::Error>((credentials, outcome, done))
        })
        .await
        .map_err(ApiError::not_done)??;
        let caller = credentials.settle(state, outcome)?;
        match done {
            Some(result) => Ok((caller, result?)),
            None => Err(ApiError::internal()),
        }
    }
}

/// A failed attempt: counted against the address and the workspace; 401, or 429 when
/// either had already used up its failures.
fn failed(state: &ScimState, address: Option<IpAddr>, workspace: Option<&str>) -> ApiError {
    match state
        .throttle
        .record_failure(address, workspace, state.throttle.now())
    {
        Some(wait) => throttled(state, wait),
        None => {
            state.counters.auth_failures.inc();
            ApiError::unauthorized()
        }
    }
}

/// A well-formed token on the host of a workspace that does not exist: the base URL in
/// Okta is wrong, and no token would help, so the answer is a 404 that says so rather
/// than the 401 that sends admins to mint tokens. It tells the caller that no workspace
/// has this name — which is no secret: workspace names are public, in every URL of the
/// workspace. Tenant isolation is untouched: on an existing workspace, another
/// workspace's token gets the same 401 as any wrong token. It still counts as a failed
/// attempt, so guessing names is throttled like guessing tokens.
fn no_such_workspace(state: &ScimState, address: Option<IpAddr>, workspace: &str) -> ApiError {
    match state
        .throttle
        .record_failure(address, Some(workspace), state.throttle.now())
    {
        Some(wait) => throttled(state, wait),
        None => {
            state.counters.auth_failures.inc();
            ApiError::workspace_not_found(workspace)
        }
    }
}

fn throttled(state: &ScimState, wait: Duration) -> ApiError {
    state.counters.auth_throttled.inc();
    // Whole seconds, rounded up: retrying a moment early would only be refused again.
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    ApiError::too_many_failures(seconds.max(1))
}
