//! What Spark's two HTTP services (`scim-api`, `auth-gateway`) share, so each binary is
//! only its routes: structured JSON logs, a request id on every log line and response,
//! Prometheus metrics, the health and readiness checks, stopping without losing a
//! request ([`Lifecycle`]), and running blocking database work off the async workers.
//!
//! What it knows: actix-web, tracing, the metric names. What it does not know: SCIM,
//! OIDC, HTML, or how a service turns its errors into responses.

mod health;
mod lifecycle;
mod metrics;
mod request_id;

pub use health::{healthz, readyz};
pub use lifecycle::Lifecycle;
pub use metrics::{Metrics, RouteLabels, method_label, metrics_endpoint, metrics_route};
pub use request_id::{REQUEST_ID_HEADER, RequestId, observe};

/// Starts JSON logging to standard output, one object per line, filtered by `RUST_LOG`
/// (default `info`). Each line carries the fields of the spans it is in, so the request
/// id is on every line logged while serving a request. Safe to call more than once.
pub fn init_logging(service: &'static str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    install(service, filter, std::io::stdout);
}

/// [`init_logging`]'s format with another filter (`RUST_LOG` syntax) and writer — for
/// tests that read the log lines the services really write (e.g. to prove no secret is
/// ever in one).
pub fn init_logging_with<W>(service: &'static str, directives: &str, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    install(
        service,
        tracing_subscriber::EnvFilter::new(directives),
        writer,
    );
}

fn install<W>(service: &'static str, filter: tracing_subscriber::EnvFilter, writer: W)
where
    W: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
{
    let installed = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        .with_writer(writer)
        .try_init();
    if installed.is_ok() {
        tracing::info!(service, "logging started");
    }
}

/// The async workers of a service: one per CPU.
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// The threads that run blocking (database) work, per async worker: the database pool's
/// connections spread over the workers, plus one. More threads could only wait for a
/// connection, each costing a stack and an allocator heap (actix's default allows 512
/// per process, and under load a service grew to forty threads and their memory).
pub fn blocking_threads_per_worker(database_connections: u32, workers: usize) -> usize {
    usize::try_from(database_connections)
        .unwrap_or(usize::MAX)
        .div_ceil(workers.max(1))
        .saturating_add(1)
}

/// Runs blocking work (a database call) on actix's blocking pool. A panic or a
/// cancelled task becomes `None`, for the caller to answer as a server error.
pub async fn blocking<T, F>(work: F) -> Option<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    actix_web::web::block(work).await.ok()
}
