//! scim-api while its database is unreachable or slow: 503 with a SCIM Error, `/readyz`
//! not ready, bounded waits, and normal service again when the database is back — without
//! a restart. The service reaches PostgreSQL through a TCP proxy the test cuts, restores
//! and slows down; the shared server itself is never stopped.
//!
//! PostgreSQL only, by nature: a SQLite database is a file inside the process, with no
//! connection that can drop or become slow.
//!
//! The waits are real (r2d2's acquire timeout has no clock to inject), so each bound on
//! elapsed time sits between what the service should take and what the failure it rules
//! out would take, far from both: a loaded two-core runner adds seconds, never the tens
//! of seconds a missing limit costs. Each bound says which failure it rules out.

#[path = "common/proxy.rs"]
mod proxy;

use std::time::{Duration, Instant};

use crate::common::{Service, assert_error, employee, import, live_workspace};
use persistence::testing::TestDatabase;
use persistence::{Backend, Database, PoolOptions};
use proxy::DbProxy;

/// How long a request waits for a pooled connection in these tests.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// What a loaded machine may add to any wait here (scheduling, other test binaries).
const SLACK: Duration = Duration::from_secs(8);

/// r2d2's default acquire timeout: the wait the pool's own timeout replaces. A request
/// answered later than this would not be bounded by [`ACQUIRE_TIMEOUT`].
const UNBOUNDED_WAIT: Duration = Duration::from_secs(30);

/// A fresh PostgreSQL database with `acme` (live, three employees), a proxy in front of
/// its server, and a pool of four connections that goes through the proxy.
fn setup() -> (TestDatabase, String, DbProxy, Database) {
    let db = TestDatabase::new(Backend::Postgres);
    let (acme, token) = live_workspace(&db, "acme");
    import(
        &db,
        &acme,
        &[
            employee("ada@acme.com", "Ada", "Lovelace", "Engineering", true),
            employee("grace@acme.com", "Grace", "Hopper", "Engineering", true),
            employee("linus@acme.com", "Linus", "T", "Operations", true),
        ],
    );
    let (proxy, url) = DbProxy::start(db.database_url());
    let database = Database::open_lazily(
        &url.parse().unwrap(),
        &PoolOptions {
            max_connections: 4,
            acquire_timeout: ACQUIRE_TIMEOUT,
        },
    );
    (db, token, proxy, database)
}

fn readyz(svc: &Service) -> u16 {
    svc.client
        .get(format!("http://127.0.0.1:{}/readyz", svc.addr.port()))
        .send()
        .unwrap()
        .status()
        .as_u16()
}

fn users(svc: &Service, token: &str) -> (u16, Duration) {
    let started = Instant::now();
    let response = svc.get("acme", "/scim/v2/Users?count=2", token);
    let status = response.status().as_u16();
    if status == 503 {
        assert_error(response, 503);
    }
    (status, started.elapsed())
}

/// Polls `/readyz` until it answers 200; panics after `limit`.
fn wait_until_ready(svc: &Service, limit: Duration) {
    let started = Instant::now();
    while readyz(svc) != 200 {
        assert!(
            started.elapsed() < limit,
            "not ready {limit:?} after the database came back"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Several requests at once, so the pool opens several connections.
fn warm_up(svc: &Service, token: &str) {
    std::thread::scope(|s| {
        for _ in 0..8 {
            s.spawn(|| assert_eq!(users(svc, token).0, 200));
        }
    });
}

#[test]
#[ignore = "needs PostgreSQL"]
fn database_down_answers_503_and_recovers_without_restart() {
    let (db, token, proxy, database) = setup();
    let svc = Service::start_on(&db, database, &[]);
    warm_up(&svc, &token);
    assert_eq!(readyz(&svc), 200);

    proxy.cut();
    let started = Instant::now();
    let response = svc.get("acme", "/scim/v2/Users?count=2", &token);
    let body = assert_error(response, 503);
    assert!(body["detail"].as_str().unwrap().contains("Retry"), "{body}");
    // Bounded by the pool's acquire timeout, not r2d2's default of 30 s.
    let took = started.elapsed();
    assert!(
        took < ACQUIRE_TIMEOUT + SLACK && ACQUIRE_TIMEOUT + SLACK < UNBOUNDED_WAIT,
        "a 503 after {took:?}"
    );
    let ready = svc
        .client
        .get(format!("http://127.0.0.1:{}/readyz", svc.addr.port()))
        .send()
        .unwrap();
    assert_eq!(ready.status(), 503);
    assert!(ready.text().unwrap().contains("not ready"));
    let alive = svc
        .client
        .get(format!("http://127.0.0.1:{}/healthz", svc.addr.port()))
        .send()
        .unwrap();
    assert_eq!(alive.status(), 200, "alive, only not ready");
    // A failed database is not a failed token: nothing is counted against the caller.
    assert_eq!(
        svc.metric("scim_api_token_authentication_failures_total"),
        0.0
    );

    // Back: the very next requests succeed — the connections the outage killed while
    // they sat idle in the pool are not handed out again.
    proxy.restore();
    for _ in 0..10 {
        assert_eq!(users(&svc, &token).0, 200);
    }
    assert_eq!(readyz(&svc), 200);
    let list = svc
        .get("acme", "/scim/v2/Users", &token)
        .json::<serde_json::Value>()
        .unwrap();
    assert_eq!(list["totalResults"], 3);

    // Twice: the recovery is not a one-off.
    warm_up(&svc, &token);
    proxy.cut();
    assert_eq!(users(&svc, &token).0, 503);
    assert_eq!(readyz(&svc), 503);
    proxy.restore();
    wait_until_ready(&svc, Duration::from_secs(30));
    for _ in 0..5 {
        assert_eq!(users(&svc, &token).0, 200);
    }
}

#[test]
#[ignore = "needs PostgreSQL"]
fn a_slow_database_bounds_waits_and_the_service_recovers() {
    const LATENCY: Duration = Duration::from_secs(2);
    const REQUESTS: usize = 50;
    /// Round trips one request makes at most: a check of an idle connection, the
    /// tenant, the token, the page.
    const ROUND_TRIPS: u32 = 4;
    /// The pool's connections (`setup`).
    const CONNECTIONS: u32 = 4;
    let (db, token, proxy, database) = setup();
    let svc = Service::start_on(&db, database, &[]);
    // Open the pool's connections while the database is fast.
    warm_up(&svc, &token);

    proxy.set_latency(LATENCY);
    let started = Instant::now();
    let outcomes: Vec<(u16, Duration)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..REQUESTS)
            .map(|_| s.spawn(|| users(&svc, &token)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let wall = started.elapsed();
    proxy.set_latency(Duration::ZERO);

    let ok = outcomes.iter().filter(|(status, _)| *status == 200).count();
    let unavailable = outcomes.iter().filter(|(status, _)| *status == 503).count();
    assert_eq!(ok + unavailable, REQUESTS, "only 200 or 503: {outcomes:?}");
    // Four connections cannot serve fifty requests two seconds per round trip within
    // the one-second acquire timeout: the rest is shed with 503 instead of queueing.
    assert!(ok >= 1 && unavailable >= 1, "{outcomes:?}");
    let slowest = outcomes.iter().map(|(_, took)| *took).max().unwrap();
    // A request waits at most the acquire timeout for a connection, then pays its own
    // round trips: nothing waits behind the pile. Had the requests queued for the four
    // connections instead, the last would have waited for all the others' round trips:
    // 50 / 4 × 4 × 2 s = 100 s.
    let bound = ACQUIRE_TIMEOUT + LATENCY * ROUND_TRIPS + SLACK;
    let queued = LATENCY * ROUND_TRIPS * (REQUESTS as u32 / CONNECTIONS);
    assert!(
        bound * 3 < queued,
        "{bound:?} does not tell {queued:?} apart"
    );
    assert!(
        slowest < bound && wall < bound,
        "slowest {slowest:?}, all {wall:?}, bound {bound:?}: {outcomes:?}"
    );
    for (status, took) in &outcomes {
        if *status == 503 {
            // Shed after the acquire timeout, not after a connection came free.
            assert!(*took < ACQUIRE_TIMEOUT + SLACK, "a 503 after {took:?}");
        }
    }

    // Fast again: nothing left over from the slow spell — a request that still paid
    // one slow round trip would take LATENCY at least.
    for _ in 0..5 {
        let (status, took) = users(&svc, &token);
        assert_eq!(status, 200);
        assert!(took < LATENCY, "{took:?} once fast again");
    }
    assert_eq!(readyz(&svc), 200);
}
