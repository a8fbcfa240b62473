//! `scim-api`: the read-only SCIM 2.0 service Okta imports Spark's employees from.
//!
//! The tenant is the workspace named by the `Host` header; every request carries a SCIM
//! bearer token of that tenant, minted in Spark. Reads are answered per RFC 7643/7644
//! (with RFC 9865 cursors); every write is refused with a SCIM Error saying that Spark is
//! the source of truth. [`configure`] builds the routes so tests run the real service
//! in-process; `main.rs` only wires configuration.

mod auth;
mod cursor;
mod discovery;
mod error;
pub mod fuzzing;
mod groups;
mod pager;
mod positions;
mod query;
mod throttle;
mod users;

use std::sync::Arc;

use actix_web::web;
use persistence::Database;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use scim_model::ServiceSettings;
use settings::Settings;
use web_runtime::Metrics;

pub use error::{ApiError, SCIM_JSON};
pub use throttle::Clock;

/// The largest request body accepted (a `.search` request is a few hundred bytes).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What every handler shares. Cheap to clone.
#[derive(Clone)]
pub struct ScimState {
    db: Database,
    settings: Arc<Settings>,
    service: Arc<ServiceSettings>,
    cursors: cursor::CursorCodec,
    totals: Arc<positions::TotalCache>,
    positions: Arc<positions::PositionCache>,
    throttle: Arc<throttle::AuthThrottle>,
    counters: Counters,
}

/// The label of `scim_api_index_pages_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StartLabels {
    start: &'static str,
}

/// The service's own metrics, beside the HTTP ones.
#[derive(Clone, Default)]
struct Counters {
    users_served: Counter,
    /// `startIndex` pages by how they started: where the page before ended, as this
    /// process (`memory`) or the database (`database`: another replica served it)
    /// remembered it, or by skipping rows (`offset`).
    index_pages: Family<StartLabels, Counter>,
    auth_failures: Counter,
    auth_throttled: Counter,
    /// Requests a token authenticated although its `Authorization` header had no
    /// `Bearer` scheme.
    without_bearer: Counter,
    /// Requests a token authenticated although its header said `Bearer Bearer`.
    doubled_bearer: Counter,
}

impl Counters {
    /// Counts a request authenticated in one of the forms Okta should not send.
    fn count_form(&self, form: token_store::BearerForm) {
        match form {
            token_store::BearerForm::Standard => {}
            token_store::BearerForm::WithoutScheme => {
                self.without_bearer.inc();
            }
            token_store::BearerForm::DoubledScheme => {
                self.doubled_bearer.inc();
            }
        }
    }
}

impl ScimState {
    /// Builds the state; registers the service's metrics in `metrics`. The cursor key is
    /// derived from `secrets.encryption_key`, so every replica accepts every other's
    /// cursors; without one (local development only) a random per-process key is used.
    pub fn new(db: Database, settings: Settings, metrics: &Metrics) -> Self {
        Self::with_clock(db, settings, metrics, Clock::system())
    }

    /// [`new`](Self::new), with the failure throttle's windows on `clock`.
    pub fn with_clock(db: Database, settings: Settings, metrics: &Metrics, clock: Clock) -> Self {
        let service = ServiceSettings::default();
        let secret: Vec<u8> = match &settings.secrets.encryption_key {
            Some(key) => key.as_bytes().to_vec(),
            None => {
                use rand::RngCore;
                let mut random = [0u8; 32];
                rand::rng().fill_bytes(&mut random);
                random.to_vec()
            }
        };
        let counters = Counters::default();
        metrics.register(
            "users_served",
            "SCIM User resources returned",
            counters.users_served.clone(),
        );
        metrics.register(
            "index_pages",
            "startIndex pages of users by how they started: where the page before ended, \
             remembered by this process (memory) or the database (database), or by \
             skipping rows (offset)",
            counters.index_pages.clone(),
        );
        metrics.register(
            "token_authentication_failures",
            "Requests refused for a missing, unknown or revoked bearer token",
            counters.auth_failures.clone(),
        );
        metrics.register(
            "token_authentication_throttled",
            "Requests refused with 429 after too many failed token attempts from their \
             address or on their workspace",
            counters.auth_throttled.clone(),
        );
        metrics.register(
            "token_sent_without_bearer",
            "Requests authenticated by a SCIM token sent without the Bearer scheme \
             (Authorization: <token>)",
            counters.without_bearer.clone(),
        );
        metrics.register(
            "token_sent_with_doubled_bearer",
            "Requests authenticated by a SCIM token sent as Authorization: Bearer Bearer <token>",
            counters.doubled_bearer.clone(),
        );
        let throttle = Arc::new(throttle::AuthThrottle::with_clock(
            throttle::Limits::from_settings(&settings),
            clock,
        ));
        Self {
            cursors: cursor::CursorCodec::new(&secret, service.cursor_timeout_secs),
            db,
            settings: Arc::new(settings),
            service: Arc::new(service),
            totals: Arc::new(positions::TotalCache::default()),
            positions: Arc::new(positions::PositionCache::default()),
            throttle,
            counters,
        }
    }
}

/// The whole service: SCIM routes under `/scim/v2`, health, readiness and metrics.
pub fn configure(state: ScimState, metrics: Metrics) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg: &mut web::ServiceConfig| {
        let metrics_route = web_runtime::metrics_route(&state.settings.public.base_domain);
        cfg.app_data(web::Data::new(state.db.clone()))
            .app_data(web::Data::new(metrics))
            .app_data(web::Data::new(state))
            .route("/healthz", web::get().to(web_runtime::healthz))
            .route("/readyz", web::get().to(web_runtime::readyz))
            .route("/metrics", metrics_route)
            .service(
                web::scope("/scim/v2")
                    .configure(users::routes)
                    .configure(groups::routes)
                    .configure(discovery::routes)
                    .default_service(web::to(not_found)),
            )
            .default_service(web::to(not_found));
    }
}

/// How [`serve_with`] runs the service beyond its settings.
#[derive(Clone, Debug, Default)]
pub struct ServeOptions {
    /// The failure throttle's clock (tests wait out its windows by moving a manual one).
    pub clock: Clock,
    /// The shutdown state: SIGTERM or SIGINT begin it; tests may too.
    pub lifecycle: web_runtime::Lifecycle,
}

/// Serves the service on `listener` until SIGTERM or SIGINT, then drains: not ready for
/// `server.drain_secs` while still serving, then no new connections and the requests in
/// flight finished (30 s at most). Call inside an actix system.
pub fn serve(
    listener: std::net::TcpListener,
    db: Database,
    settings: Settings,
) -> std::io::Result<actix_web::dev::Server> {
    serve_with(listener, db, settings, ServeOptions::default())
}

/// [`serve`] with `options`.
pub fn serve_with(
    listener: std::net::TcpListener,
    db: Database,
    settings: Settings,
    options: ServeOptions,
) -> std::io::Result<actix_web::dev::Server> {
    let drain = std::time::Duration::from_secs(settings.server.drain_secs);
    let workers = web_runtime::workers();
    let blocking_threads = web_runtime::blocking_threads_per_worker(db.max_connections());
    let metrics = Metrics::new("scim_api");
    let state = ScimState::with_clock(db, settings, &metrics, options.clock);
    let lifecycle = options.lifecycle;
    let ready = lifecycle.clone();
    let server = actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .wrap(actix_web::middleware::from_fn(web_runtime::observe))
            // Okta builds request URLs by appending `/Users` to the base URL as the admin
            // typed it, so `…/scim/v2/` becomes `…/scim/v2//Users`: repeated slashes are
            // merged and a trailing one dropped before routing (the query is kept).
            .wrap(actix_web::middleware::NormalizePath::trim())
            .app_data(web::Data::new(ready.clone()))
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

async fn not_found() -> Result<actix_web::HttpResponse, ApiError> {
    Err(ApiError::not_found(
        "No such SCIM endpoint. The SCIM connector base URL is \
         https://{workspace}.spark.work/scim/v2; its endpoints are /Users, /Groups, \
         /ServiceProviderConfig, /Schemas and /ResourceTypes.",
    ))
}
