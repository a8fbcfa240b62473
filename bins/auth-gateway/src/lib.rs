//! `auth-gateway`: the browser-facing half of Spark's Okta integration — sign-in with
//! Okta (OIDC, SP- and IdP-initiated), sessions on workspace hosts, one-time sign-in
//! links.
//!
//! # Hosts and routes
//!
//! On the auth host `auth.{base_domain}` (the one redirect URI every Okta app names):
//! `GET /api/OktaAuth/login?workspace=…` starts a sign-in, `GET|POST
//! /api/OktaAuth/initiate?iss=…` is the Okta dashboard tile's entry (OIDC Core §4),
//! `GET /api/OktaAuth/callback` finishes it, and `POST /api/OktaAuth/universal-logout` is
//! where an Okta org signs one of its users out of Spark (Universal Logout). The callback
//! hands the sign-in to the workspace host with a 30-second one-time code, so the session
//! cookie is host-only on
//! `{workspace}.{base_domain}`: `GET /api/OktaAuth/session?handoff=…` sets it. A
//! workspace host also serves `/login`, `/auth/login-link?token=…`, `/api/me`, `POST
//! /logout` and `/`, and the tenant admin's pages with their JSON APIs: the Marketplace
//! (`/marketplace/integrations`), the Okta SSO settings
//! (`/admin/domain/integrations/authentication`) and the SCIM tokens
//! (`/my-settings/integrations/okta-scim`). Every host serves `/healthz`, `/readyz` and
//! `/metrics`.
//!
//! # Invariants
//!
//! - The redirect URI is built from configuration, never from request headers; the
//!   host a request is for comes from `Host` alone.
//! - Every secret (state, binding cookie, hand-off code, session, sign-in link) is a
//!   `token-store` token stored only as its hash; none is logged.
//! - Every failure ends on a page with a stable code ([`ERROR_CODES`], plus
//!   `oidc_client::ERROR_CODES` passed through) and a sentence saying what to fix.
//!
//! [`configure`] builds the routes so tests run the real service in-process; `main.rs`
//! only wires configuration.

mod admin;
mod csrf;
mod error;
mod html;
mod revocation_worker;
mod rules;
mod session;
mod sign_in;
mod universal_logout;
mod web;
mod workspace;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use actix_web::web as aw;
use oidc_client::{ClientOptions, OidcClient, UrlPolicy};
use persistence::{Database, SessionPolicy};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use settings::Settings;
use token_store::sealed::{EncryptionKey, KeyRing};
use web_runtime::Metrics;

pub use error::{ApiError, ERROR_CODES, Format, PageError, codes};
pub use html::content_security_policy;
pub use rules::{
    MAX_LOGIN_HINT, MAX_PARAM, MAX_RETURN_TO, ParamError, login_hint, params, return_to,
    target_return_to,
};

/// The largest request body accepted (an initiate form is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// Why the gateway cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration cannot be used; the text says what to set.
    #[error("configuration: {0}")]
    Config(String),
    /// Listening failed.
    #[error("cannot serve: {0}")]
    Io(#[from] std::io::Error),
}

/// Labels of the sign-in outcome counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// `okta` or `login_link`.
    pub method: String,
    /// `SUCCESS` or the error code the sign-in ended on.
    pub code: String,
}

/// Labels of a counter by outcome code.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    /// The outcome's code (`SIGNED_OUT` or an error code).
    pub code: String,
}

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct GatewayState {
    db: Database,
    settings: Arc<Settings>,
    oidc: OidcClient,
    keys: Arc<KeyRing>,
    url_policy: UrlPolicy,
    session_policy: SessionPolicy,
    /// `auth.{base_domain}`, lower-case.
    auth_host: String,
    /// `{auth_origin}/api/OktaAuth/callback`.
    redirect_uri: String,
    auth_origin: String,
    sign_ins: Family<OutcomeLabels, Counter>,
    /// `{auth_origin}/api/OktaAuth/universal-logout`: the `aud` of Okta's logout tokens.
    universal_logout_uri: String,
    /// Universal Logout outcomes by code.
    universal_logouts: Family<CodeLabel, Counter>,
    logout_throttle: Arc<universal_logout::LogoutThrottle>,
    /// Service-app tokens for sending Okta revocations, by workspace.
    service_tokens: revocation_worker::TokenCache,
    /// Okta revocation attempts by outcome.
    revocations: Family<CodeLabel, Counter>,
    /// Revocations that keep failing, all workspaces together.
    revocations_failing: Gauge,
    /// Seconds spent awaiting the OIDC client's calls that talk to Okta (discovery, the
    /// code exchange with ID-token verification and JWKS, userinfo).
    okta_wait: Counter<f64, AtomicU64>,
    tenants: web::TenantCache,
}

impl std::fmt::Debug for GatewayState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayState")
            .field("auth_origin", &self.auth_origin)
            .finish_non_exhaustive()
    }
}

/// The key ring from `secrets.encryption_key`; without one, the public development key
/// when insecure http is allowed (with a warning), else an error that says what to set.
pub fn key_ring(settings: &Settings) -> Result<KeyRing, StartupError> {
    match &settings.secrets.encryption_key {
        Some(key) => EncryptionKey::from_base64(key)
            .map(KeyRing::new)
            .map_err(|e| StartupError::Config(format!("secrets.encryption_key: {e}"))),
        None if settings.security.allow_insecure_http => {
            tracing::warn!(
                "secrets.encryption_key is not set; using the PUBLIC development key (allowed \
                 only because security.allow_insecure_http is on). Never do this in production."
            );
            Ok(KeyRing::new(EncryptionKey::insecure_development_key()))
        }
        None => Err(StartupError::Config(
            "secrets.encryption_key is not set, so stored Okta client secrets cannot be \
             decrypted; set it (or SPARK__SECRETS__ENCRYPTION_KEY) to the key sparkctl uses"
                .into(),
        )),
    }
}

impl GatewayState {
    /// Builds the state; registers the sign-in metrics in `metrics`.
    ///
    /// # Errors
    /// [`StartupError::Config`] without a usable encryption key or HTTP client.
    pub fn new(db: Database, settings: Settings, metrics: &Metrics) -> Result<Self, StartupError> {
        let keys = key_ring(&settings)?;
        let url_policy = UrlPolicy {
            allow_insecure_http: settings.security.allow_insecure_http,
        };
        let oidc = OidcClient::new(ClientOptions {
            url_policy,
            ..ClientOptions::default()
        })
        .map_err(|e| StartupError::Config(e.to_string()))?;
        let sign_ins = Family::<OutcomeLabels, Counter>::default();
        metrics.register(
            "sign_ins",
            "Sign-in attempts by method and outcome code (SUCCESS or the error code)",
            sign_ins.clone(),
        );
        let universal_logouts = Family::<CodeLabel, Counter>::default();
        metrics.register(
            "universal_logouts",
            "Okta Universal Logout requests by outcome code (SIGNED_OUT or the error code)",
            universal_logouts.clone(),
        );
        let revocations = Family::<CodeLabel, Counter>::default();
        metrics.register(
            "okta_revocations",
            "Attempts to revoke a deactivated employee's Okta user, by outcome (sent, \
             user_gone, failed)",
            revocations.clone(),
        );
        let revocations_failing = Gauge::default();
        metrics.register(
            "okta_revocations_failing",
            "Okta revocations still queued after a failed attempt (all workspaces)",
            revocations_failing.clone(),
        );
        let okta_wait = Counter::<f64, AtomicU64>::default();
        metrics.register(
            "okta_wait_seconds",
            "Time spent awaiting Okta in sign-ins: discovery, the code exchange with ID-token \
             verification (JWKS included), userinfo",
            okta_wait.clone(),
        );
        let auth_origin = settings.auth_origin();
        Ok(Self {
            db,
            oidc,
            keys: Arc::new(keys),
            url_policy,
            session_policy: SessionPolicy::default(),
            auth_host: format!("auth.{}", settings.public.base_domain.to_ascii_lowercase()),
            redirect_uri: format!("{auth_origin}/api/OktaAuth/callback"),
            universal_logout_uri: format!("{auth_origin}{}", universal_logout::PATH),
            universal_logouts,
            logout_throttle: Arc::new(universal_logout::LogoutThrottle::new(
                settings.security.universal_logouts_per_second,
            )),
            service_tokens: revocation_worker::TokenCache::default(),
            revocations,
            revocations_failing,
            auth_origin,
            settings: Arc::new(settings),
            sign_ins,
            okta_wait,
            tenants: web::TenantCache::default(),
        })
    }

    /// Counts one sign-in outcome.
    fn count(&self, method: &str, code: &str) {
        self.sign_ins
            .get_or_create(&OutcomeLabels {
                method: method.to_owned(),
                code: code.to_owned(),
            })
            .inc();
    }

    /// Counts one Universal Logout outcome.
    fn count_universal_logout(&self, code: &str) {
        self.universal_logouts
            .get_or_create(&CodeLabel {
                code: code.to_owned(),
            })
            .inc();
    }

    /// Counts one Okta revocation attempt's outcome.
    fn count_revocation(&self, outcome: &str) {
        self.revocations
            .get_or_create(&CodeLabel {
                code: outcome.to_owned(),
            })
            .inc();
    }

    /// Awaits a call of the OIDC client that may talk to Okta, adding the time to the
    /// `okta_wait_seconds` counter (so the gateway's own work per sign-in can be told
    /// apart from Okta's round trips).
    async fn awaiting_okta<T>(&self, call: impl std::future::Future<Output = T>) -> T {
        let started = std::time::Instant::now();
        let result = call.await;
        self.okta_wait.inc_by(started.elapsed().as_secs_f64());
        result
    }

    /// The session cookie's name: `__Host-` prefixed whenever cookies are `Secure`.
    fn session_cookie(&self) -> &'static str {
        self.cookie_name(web::SESSION_COOKIE_SECURE, web::SESSION_COOKIE_DEV)
    }

    /// The auth host's browser-binding cookie's name.
    fn binding_cookie(&self) -> &'static str {
        self.cookie_name(web::BINDING_COOKIE_SECURE, web::BINDING_COOKIE_DEV)
    }

    /// A workspace host's hand-off binding cookie's name.
    fn handoff_cookie(&self) -> &'static str {
        self.cookie_name(web::HANDOFF_COOKIE_SECURE, web::HANDOFF_COOKIE_DEV)
    }

    /// `secure` (`__Host-` prefixed: browsers then insist on host-only, `Path=/` and
    /// `Secure`) whenever cookies are `Secure`, else `dev`.
    fn cookie_name(&self, secure: &'static str, dev: &'static str) -> &'static str {
        if self.settings.secure_cookies() {
            secure
        } else {
            dev
        }
    }
}

/// The whole service: the sign-in routes, the admin pages, health, readiness and metrics. Wrap the app in
/// [`html::security_headers`] (as [`serve`] does) so every response carries them.
pub fn configure(state: GatewayState, metrics: Metrics) -> impl FnOnce(&mut aw::ServiceConfig) {
    move |cfg: &mut aw::ServiceConfig| {
        let metrics_route = web_runtime::metrics_route(&state.settings.public.base_domain);
        cfg.app_data(aw::Data::new(state.db.clone()))
            .app_data(aw::Data::new(metrics))
            .app_data(aw::Data::new(state))
            .app_data(aw::PayloadConfig::new(MAX_BODY_BYTES))
            .route("/healthz", aw::get().to(web_runtime::healthz))
            .route("/readyz", aw::get().to(web_runtime::readyz))
            .route("/metrics", metrics_route)
            .configure(sign_in::routes)
            .configure(universal_logout::routes)
            .configure(workspace::routes)
            .configure(admin::routes)
            .default_service(aw::to(not_found));
    }
}

/// The security headers of every response, for `App::wrap`.
pub fn security_headers(settings: &Settings) -> actix_web::middleware::DefaultHeaders {
    html::security_headers(&settings.auth_origin())
}

/// Serves the gateway on `listener` until SIGTERM or SIGINT, then drains: not ready for
/// `server.drain_secs` while still serving, then no new connections and the requests in
/// flight finished (30 s at most). Call inside an actix system.
///
/// # Errors
/// [`StartupError`] for unusable configuration or a listener that cannot serve.
pub fn serve(
    listener: std::net::TcpListener,
    db: Database,
    settings: Settings,
) -> Result<actix_web::dev::Server, StartupError> {
    serve_with(listener, db, settings, web_runtime::Lifecycle::default())
}

/// [`serve`] with `lifecycle`, whose shutdown SIGTERM or SIGINT begin — and tests, or a
/// service embedding the gateway, may begin themselves.
pub fn serve_with(
    listener: std::net::TcpListener,
    db: Database,
    settings: Settings,
    lifecycle: web_runtime::Lifecycle,
) -> Result<actix_web::dev::Server, StartupError> {
    let drain = std::time::Duration::from_secs(settings.server.drain_secs);
    let workers = web_runtime::workers();
    let blocking_threads = web_runtime::blocking_threads_per_worker(db.max_connections());
    let metrics = Metrics::new("auth_gateway");
    let auth_origin = settings.auth_origin();
    let state = GatewayState::new(db, settings, &metrics)?;
    let purger = state.clone();
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(PURGE_INTERVAL);
        loop {
            tick.tick().await;
            purge_expired(&purger).await;
        }
    });
    actix_web::rt::spawn(revocation_worker::run(state.clone()));
    let ready = lifecycle.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(oversize_bodies())
            .wrap(html::security_headers(&auth_origin))
            .wrap(actix_web::middleware::from_fn(web_runtime::observe))
            .app_data(aw::Data::new(ready.clone()))
            .configure(configure(state.clone(), metrics.clone()))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .disable_signals()
    .shutdown_timeout(30)
    .listen(listener)?
    .run();
    lifecycle.on_signal(server.handle(), drain);
    Ok(server)
}

/// A body over [`MAX_BODY_BYTES`] is refused by actix before any handler runs; this
/// turns that bare 413 into the gateway's own error (a page, or JSON on the JSON API).
pub fn oversize_bodies<B: 'static>() -> actix_web::middleware::ErrorHandlers<B> {
    use actix_web::middleware::{ErrorHandlerResponse, ErrorHandlers};
    ErrorHandlers::new().handler(
        actix_web::http::StatusCode::PAYLOAD_TOO_LARGE,
        |response: actix_web::dev::ServiceResponse<B>| {
            // The JSON API (admin, `/api/me`) and Okta's Universal Logout answer JSON; the
            // browser's sign-in routes under `/api/OktaAuth/` answer pages.
            let path = response.request().path();
            let json_api = path.starts_with("/api/") && !path.starts_with("/api/OktaAuth/");
            let format = if json_api || path == universal_logout::PATH {
                Format::Json
            } else {
                Format::Html
            };
            let page = actix_web::ResponseError::error_response(
                &PageError::too_large(MAX_BODY_BYTES).rendered(format),
            );
            let (request, _) = response.into_parts();
            Ok(ErrorHandlerResponse::Response(
                actix_web::dev::ServiceResponse::new(request, page).map_into_right_body(),
            ))
        },
    )
}

/// How long a revocation sent to Okta stays listed (the audit log keeps it for good).
const REVOCATIONS_KEPT_DAYS: i64 = 30;

/// How often expired login transactions, one-time codes, sessions and Universal Logout
/// token ids are deleted, and revocations sent long ago.
pub const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// Deletes what has expired (every replica may do it; the deletes are idempotent).
async fn purge_expired(state: &GatewayState) {
    let policy = state.session_policy;
    let result = web::db(state, move |db| {
        let now = chrono::Utc::now();
        let transactions = db.login_transactions().purge_expired(now)?;
        let codes = db.one_time_codes().purge_expired(now)?;
        let sessions = db.sessions().purge_expired(now, &policy)?;
        let logout_tokens = db.universal_logouts().purge_expired(now)?;
        let revocations = db
            .okta_revocations()
            .purge_done(now - chrono::TimeDelta::days(REVOCATIONS_KEPT_DAYS))?;
        Ok((transactions, codes, sessions, logout_tokens, revocations))
    })
    .await;
    match result {
        Ok((transactions, codes, sessions, logout_tokens, revocations)) => {
            tracing::info!(
                transactions,
                codes,
                sessions,
                logout_tokens,
                revocations,
                "expired sign-in records purged"
            );
        }
        Err(error) => tracing::warn!(
            code = error.code(),
            "purging expired sign-in records failed"
        ),
    }
}

async fn not_found() -> Result<actix_web::HttpResponse, PageError> {
    Err(PageError::not_found())
}
