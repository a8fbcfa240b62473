//! The gateway's own work per Okta sign-in (the issue asks for under 2 ms), without the
//! IdP's round trips.
//!
//! ```text
//! cargo run --release -p auth-gateway --example bench_sign_in -- [sign-ins] [sqlite|postgres]
//! ```
//!
//! Starts the real gateway in-process on a fresh database and the real OpenID Provider of
//! `testing/oidc-provider` (as the end-to-end tests do: Node.js, `npm ci` there), then
//! signs Ada in `sign-ins` times, SP-initiated, with one browser (a reqwest client with
//! cookies, keep-alive), and times the three gateway steps from the browser's side:
//!
//! 1. `GET acme/api/OktaAuth/start` (the "Sign in with Okta" button, binding the browser
//!    on the workspace host) → `GET auth/api/OktaAuth/login?workspace=acme&binding=…` →
//!    the redirect to the provider;
//! 2. `GET auth/api/OktaAuth/callback?code=…&state=…` → the redirect to the hand-off,
//!    minus the time the gateway spent awaiting the OIDC client's calls to the provider
//!    (its `auth_gateway_okta_wait_seconds_total` counter, read from `/metrics` before and
//!    after: discovery when not cached, the code exchange, the ID-token verification with
//!    JWKS when not cached, userinfo when needed);
//! 3. `GET acme/api/OktaAuth/session?handoff=…` → the redirect with the session cookie.
//!
//! The provider's own pages (authorize, login form) are driven between steps and not
//! timed. Each step's time includes the loopback HTTP round trip and the client's own
//! parsing, so it overstates the gateway's work slightly. The first 5 sign-ins warm up
//! (discovery, JWKS, connections) and are not counted.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

#[path = "../tests/suite/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Gateway, Op, acme_with_sso, location, sign_in_at_provider};
use persistence::testing::TestDatabase;

const WARM_UP: usize = 5;

#[path = "support/mod.rs"]
mod support;
use support::report;

/// The allocator the shipped binary uses (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let runs: usize = support::number(&args, 1, 200);
    let backend = support::backend(&args, 2);
    let db = TestDatabase::new(backend);
    let listener = Gateway::bind();
    let op = Op::start(&Gateway::callback_uri(
        listener.local_addr().unwrap().port(),
    ));
    let gw = Gateway::start(&db, listener);
    acme_with_sso(&db, &op);
    let browser = gw.browser();
    let metrics = gw.bare_client();
    let metrics_url = gw.metrics_url();
    let snapshot = || metrics.get(&metrics_url).send().unwrap().text().unwrap();

    // Per step: (seen by the browser, measured by the gateway's own request middleware),
    // the callback's minus the time awaiting the provider.
    let mut steps: [(Vec<Duration>, Vec<Duration>); 3] = Default::default();
    let (mut total_browser, mut total_server, mut waited) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs + WARM_UP {
        let start = gw.url("acme", "/api/OktaAuth/start");
        let before = snapshot();
        let (login_time, started) = timed(|| {
            let bound = browser.get(&start).send().unwrap();
            browser.get(location(&bound)).send().unwrap()
        });
        let after = snapshot();
        let login_server = server_time(&before, &after, "/api/OktaAuth/start")
            + server_time(&before, &after, "/api/OktaAuth/login");
        assert_eq!(started.status(), 302);
        let callback_url = sign_in_at_provider(&browser, &op, &location(&started), "ada@acme.com");

        let before = snapshot();
        let (callback_time, answered) = timed(|| browser.get(&callback_url).send().unwrap());
        let after = snapshot();
        let wait = secs(value(&after, OKTA_WAIT) - value(&before, OKTA_WAIT));
        let callback_server =
            server_time(&before, &after, "/api/OktaAuth/callback").saturating_sub(wait);
        let handoff_url = location(&answered);
        assert!(
            handoff_url.contains("/api/OktaAuth/session?handoff="),
            "{handoff_url}"
        );

        let before = snapshot();
        let (handoff_time, landed) = timed(|| browser.get(&handoff_url).send().unwrap());
        let handoff_server = server_time(&before, &snapshot(), "/api/OktaAuth/session");
        assert_eq!(landed.status(), 302);
        assert!(
            landed.headers().get("set-cookie").is_some(),
            "no session cookie"
        );
        if run < WARM_UP {
            continue;
        }
        let browser_times = [login_time, callback_time.saturating_sub(wait), handoff_time];
        let server_times = [login_server, callback_server, handoff_server];
        for (i, step) in steps.iter_mut().enumerate() {
            step.0.push(browser_times[i]);
            step.1.push(server_times[i]);
        }
        total_browser.push(browser_times.iter().sum());
        total_server.push(server_times.iter().sum());
        waited.push(wait);
    }
    let (status, body) = common::me(&browser, &gw, "acme");
    assert_eq!(
        (status, body["email"].as_str()),
        (200, Some("ada@acme.com"))
    );

    println!("Okta sign-ins: {runs} (after {WARM_UP} warm-up) on {backend:?}");
    let names = [
        "1. start + login → provider",
        "2. callback → hand-off (provider wait excluded)",
        "3. hand-off → session cookie",
    ];
    for (name, (seen, server)) in names.iter().zip(steps.iter_mut()) {
        report(&format!("{name}, gateway-side"), server);
        report(&format!("{name}, browser-side"), seen);
    }
    report(
        "   provider wait inside the callback (excluded)",
        &mut waited,
    );
    report(
        "total gateway work per sign-in, gateway-side",
        &mut total_server,
    );
    report(
        "total gateway work per sign-in, browser-side",
        &mut total_browser,
    );
}

const OKTA_WAIT: &str = "auth_gateway_okta_wait_seconds_total";

fn secs(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.max(0.0))
}

/// The sum of the metric lines starting with `prefix` in a `/metrics` text.
fn value(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The time the gateway's request middleware measured on `route` between two snapshots.
fn server_time(before: &str, after: &str, route: &str) -> Duration {
    let prefix = format!("auth_gateway_http_request_duration_seconds_sum{{route=\"{route}\",");
    secs(value(after, &prefix) - value(before, &prefix))
}

fn timed<T>(work: impl FnOnce() -> T) -> (Duration, T) {
    let started = Instant::now();
    let result = work();
    (started.elapsed(), result)
}
