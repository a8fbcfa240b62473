//! How a service stops without losing a request: on SIGTERM (or SIGINT) it first reports
//! not ready (`/readyz` 503) while still serving everything that reaches it, for the
//! drain time, so load balancers take it out of rotation; only then does it stop
//! accepting connections and let the requests in flight finish (actix's graceful stop,
//! 30 s at most), and exit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::dev::ServerHandle;

/// Whether this process is shutting down. Cheap to clone; shared with `/readyz`.
#[derive(Clone, Debug, Default)]
pub struct Lifecycle(Arc<AtomicBool>);

impl Lifecycle {
    /// Whether shutdown has begun (then `/readyz` answers 503).
    pub fn is_draining(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Begins the shutdown of `server`: not ready at once, still serving for `drain`,
    /// then a graceful stop. What a SIGTERM does; tests call it directly.
    pub fn shut_down(&self, server: ServerHandle, drain: Duration) {
        if self.0.swap(true, Ordering::SeqCst) {
            return;
        }
        tracing::info!(
            drain_secs = drain.as_secs(),
            "shutting down: not ready; serving what still arrives, then stopping"
        );
        // A thread of its own, so this works from any thread, in or out of the server's
        // actix system; the handle reaches the server from anywhere.
        std::thread::spawn(move || {
            std::thread::sleep(drain);
            tracing::info!("draining done: finishing the requests in flight");
            actix_web::rt::System::new().block_on(server.stop(true));
        });
    }

    /// Shuts `server` down as [`shut_down`](Self::shut_down) does when the process gets
    /// SIGTERM or SIGINT. Call inside the actix system that runs the server, whose own
    /// signal handling is off (`HttpServer::disable_signals`).
    pub fn on_signal(&self, server: ServerHandle, drain: Duration) {
        let lifecycle = self.clone();
        actix_web::rt::spawn(async move {
            if wait_for_signal().await {
                lifecycle.shut_down(server, drain);
            }
        });
    }
}

/// Waits for SIGTERM or SIGINT; false when they cannot be listened for.
async fn wait_for_signal() -> bool {
    use actix_web::rt::signal::unix::{SignalKind, signal};
    let (Ok(mut terminate), Ok(mut interrupt)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("cannot listen for SIGTERM/SIGINT: stop with SIGKILL");
        return false;
    };
    tokio_select(terminate.recv(), interrupt.recv()).await;
    true
}

/// Completes when either future does.
async fn tokio_select<A, B>(a: A, b: B)
where
    A: std::future::Future,
    B: std::future::Future,
{
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
}
