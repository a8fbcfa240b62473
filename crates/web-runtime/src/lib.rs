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

use std::time::{Duration, Instant};

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

/// The threads that run blocking (database) work, per async worker: one per database
/// connection, plus one. Every connection may be in use by one worker's requests, and
/// that worker still has a thread to turn away the requests queued behind them
/// ([`blocking`]). More threads could only wait for a connection, each costing a stack
/// and an allocator heap (actix's default allows 512 per worker, and under load a
/// service grew to forty threads and their memory).
pub fn blocking_threads_per_worker(database_connections: u32) -> usize {
    usize::try_from(database_connections)
        .unwrap_or(usize::MAX)
        .saturating_add(1)
}

/// Why blocking work did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotDone {
    /// It waited longer than it may for a thread, and was not run: the service is
    /// overloaded, and the caller answers 503 as it does when no database connection
    /// came free in time.
    Shed,
    /// It panicked, or was cancelled: a server error.
    Failed,
}

/// Runs blocking work (a database call) on actix's blocking pool — unless it waited
/// there longer than `max_wait` for a thread. Threads are few ([`blocking_threads_per_worker`]),
/// so under overload requests queue for them; shedding the ones that waited past the
/// database's acquire timeout keeps every answer, 503s included, within that timeout
/// plus the request's own work, instead of behind everyone else's.
///
/// # Errors
/// [`NotDone::Shed`] when not run, [`NotDone::Failed`] on a panic.
pub async fn blocking<T, F>(max_wait: Duration, work: F) -> Result<T, NotDone>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let queued = Instant::now();
    actix_web::web::block(move || (queued.elapsed() <= max_wait).then(work))
        .await
        .map_err(|_| NotDone::Failed)?
        .ok_or(NotDone::Shed)
}
