//! auth-gateway while its database is unreachable: `/readyz` not ready, pages answered
//! 503 with the stable code `SERVICE_UNAVAILABLE`, and normal service again when the
//! database is back — without a restart. The gateway reaches PostgreSQL through a TCP
//! proxy the test cuts and restores (scim-api's fault tests use the same one); the shared
//! server itself is never stopped.
//!
//! PostgreSQL only, by nature: a SQLite database is a file inside the process, with no
//! connection that can drop.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;
#[path = "../../scim-api/tests/common/proxy.rs"]
mod proxy;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{CLIENT_SECRET, KEY, configure_sso, employees, error_code, workspace};
use persistence::testing::TestDatabase;
use persistence::{Backend, Database, PoolOptions};
use proxy::DbProxy;
use reqwest::blocking::Client;

/// How long a request waits for a pooled connection in this test.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// The real gateway on `database`, in its own actix system on a thread.
struct Gateway {
    port: u16,
    client: Client,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Gateway {
    fn start(db: &TestDatabase, database: Database) -> Gateway {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let env: Vec<(String, String)> = [
            ("DATABASE_URL", db.database_url().to_owned()),
            ("SPARK__PUBLIC__AUTH_PORT", addr.port().to_string()),
            ("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true".to_owned()),
            ("SPARK__SECRETS__ENCRYPTION_KEY", KEY.to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let settings = settings::Settings::from_sources(None, &env).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = auth_gateway::serve(listener, database, settings).unwrap();
                sender.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = receiver.recv().unwrap();
        let client = Client::builder()
            .resolve("acme.localhost", addr)
            .resolve("auth.localhost", addr)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Gateway {
            port: addr.port(),
            client,
            handle,
            thread: Some(thread),
        }
    }

    fn get(&self, host: &str, path: &str) -> reqwest::blocking::Response {
        self.client
            .get(format!("http://{host}.localhost:{}{path}", self.port))
            .send()
            .unwrap()
    }

    fn readyz(&self) -> u16 {
        self.client
            .get(format!("http://127.0.0.1:{}/readyz", self.port))
            .send()
            .unwrap()
            .status()
            .as_u16()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The sign-in page answers with its button.
fn assert_login_page(gw: &Gateway) {
    let page = gw.get("acme", "/login");
    assert_eq!(page.status(), 200);
    assert!(page.text().unwrap().contains("id=\"okta-sign-in\""));
}

#[test]
fn database_down_answers_503_pages_and_recovers_without_restart() {
    let db = TestDatabase::new(Backend::Postgres);
    let acme = workspace(&db, "acme", true);
    configure_sso(&db, &acme, "https://acme.okta.com", CLIENT_SECRET);
    employees(&db, &acme, &[("ada@acme.com", true)]);
    let (proxy, url) = DbProxy::start(db.database_url());
    let database = Database::open_lazily(
        &url.parse().unwrap(),
        &PoolOptions {
            max_connections: 4,
            acquire_timeout: ACQUIRE_TIMEOUT,
        },
    );
    let gw = Gateway::start(&db, database);
    std::thread::scope(|s| {
        for _ in 0..6 {
            s.spawn(|| assert_login_page(&gw));
        }
    });
    assert_eq!(gw.readyz(), 200);

    proxy.cut();
    let started = Instant::now();
    let (status, code) = error_code(gw.get("acme", "/login"));
    assert_eq!((status, code.as_str()), (503, "SERVICE_UNAVAILABLE"));
    assert!(started.elapsed() < ACQUIRE_TIMEOUT + Duration::from_secs(4));
    assert_eq!(gw.readyz(), 503);
    let alive = gw
        .client
        .get(format!("http://127.0.0.1:{}/healthz", gw.port))
        .send()
        .unwrap();
    assert_eq!(alive.status(), 200, "alive, only not ready");

    // Back: the very next requests are served.
    proxy.restore();
    for _ in 0..5 {
        assert_login_page(&gw);
    }
    assert_eq!(gw.readyz(), 200);
}
