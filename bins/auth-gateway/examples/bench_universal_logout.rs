//! Okta Universal Logout: how soon a session is dead after Okta's request, and how many
//! requests per second the endpoint carries.
//!
//! ```text
//! cargo run --release -p auth-gateway --example bench_universal_logout -- [employees] [connections] [sqlite|postgres]
//! ```
//!
//! Starts the real gateway in-process on a fresh database and the real OpenID Provider of
//! `testing/oidc-provider` as the Okta org (Node.js; `npm ci` there). `employees`
//! employees (default 3,000) each have a linked Okta user and a live session; the
//! provider signs one logout token per employee beforehand, as Okta signs each request
//! (RS256, its own key). Then:
//!
//! 1. **Request to dead session**: for the first third, one at a time, the time from
//!    sending `POST /api/OktaAuth/universal-logout` (an `iss_sub` subject) to a
//!    `GET /api/me` with that employee's session cookie answering 401 — the request's
//!    204 and the next request of the signed-out browser.
//! 2. **Requests per second**: the rest, over `connections` keep-alive clients (default
//!    8) at once, each request signing out another employee.
//!
//! The throttle per org is switched off (`security.universal_logouts_per_second = 0`) so
//! the figure is the endpoint's own; clients run on the same machine.

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

use common::{Gateway, Op, acme_with_sso, iss_sub};
use persistence::testing::TestDatabase;
use persistence::{AuthMethod, NewSession, SessionPolicy};
use token_store::{SecretKind, SecretToken};

#[path = "support/mod.rs"]
mod support;
use support::report;

/// The allocator the shipped binary uses (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// One employee to sign out: their Okta user id and session cookie.
struct Target {
    subject: String,
    cookie: String,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let employees: usize = support::number(&args, 1, 3_000);
    let connections: usize = support::number(&args, 2, 8);
    let backend = support::backend(&args, 3);
    let db = TestDatabase::new(backend);
    let listener = Gateway::bind();
    let op = Op::start(&Gateway::callback_uri(
        listener.local_addr().unwrap().port(),
    ));
    let gw = Gateway::start_configured(
        &db,
        listener,
        true,
        &[("SPARK__SECURITY__UNIVERSAL_LOGOUTS_PER_SECOND", "0".into())],
    );
    let acme = acme_with_sso(&db, &op);
    support::people(&db, &acme.id, employees);
    let policy = SessionPolicy::default();
    let now = chrono::Utc::now();
    let targets: Vec<Target> = (0..employees)
        .map(|i| {
            let employee = db
                .employees()
                .find_by_email(&acme.id, &format!("person{i}@acme.com"))
                .unwrap()
                .unwrap();
            let subject = format!("00u-bench-{i}");
            db.employee_identities()
                .link(&acme.id, &op.issuer, &subject, &employee.id, now)
                .unwrap();
            let (token, hash) = SecretToken::mint(SecretKind::Session).unwrap();
            let session = NewSession {
                token_hash: hash,
                employee_id: employee.id,
                auth_method: AuthMethod::Okta,
                csrf_token: "bench".into(),
            };
            db.sessions()
                .create(&acme.id, session, now, &policy)
                .unwrap();
            Target {
                subject,
                cookie: format!("spark_session={}", token.expose_secret()),
            }
        })
        .collect();
    let aud = gw.url("auth", "/api/OktaAuth/universal-logout");
    let minted = Instant::now();
    let tokens = op.logout_tokens(&aud, employees, serde_json::json!({}));
    println!(
        "{employees} logout tokens signed by the provider in {:.1} s ({backend:?})",
        minted.elapsed().as_secs_f64()
    );
    let mut work: Vec<(Target, String)> = targets.into_iter().zip(tokens).collect();
    let throughput_work = work.split_off(employees / 3);

    // 1. Request to dead session, one at a time.
    let client = gw.bare_client();
    let me = gw.url("acme", "/api/me");
    let sign_out = |client: &reqwest::blocking::Client, target: &Target, token: &str| {
        let response = client
            .post(&aud)
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(iss_sub(&op.issuer, &target.subject))
            .send()
            .unwrap();
        assert_eq!(response.status(), 204, "{}", response.text().unwrap());
    };
    for (target, _) in work.iter().take(5) {
        let alive = client
            .get(&me)
            .header("cookie", &target.cookie)
            .send()
            .unwrap();
        assert_eq!(alive.status(), 200, "every session is alive before");
    }
    let (mut answered, mut dead) = (Vec::new(), Vec::new());
    for (target, token) in &work {
        let sent = Instant::now();
        sign_out(&client, target, token);
        answered.push(sent.elapsed());
        let after = client
            .get(&me)
            .header("cookie", &target.cookie)
            .send()
            .unwrap();
        assert_eq!(after.status(), 401);
        dead.push(sent.elapsed());
    }
    report("POST universal-logout → 204", &mut answered);
    report("POST universal-logout → GET /api/me 401", &mut dead);

    // 2. Requests per second over `connections` clients.
    let per_client = throughput_work.len().div_ceil(connections);
    let mut batches: Vec<Vec<(Target, String)>> = Vec::new();
    let mut rest = throughput_work;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(per_client));
        batches.push(rest);
        rest = tail;
    }
    let count: usize = batches.iter().map(Vec::len).sum();
    let started = Instant::now();
    let threads: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let client = gw.bare_client();
            let (aud, issuer) = (aud.clone(), op.issuer.clone());
            std::thread::spawn(move || {
                let mut times = Vec::new();
                for (target, token) in batch {
                    let sent = Instant::now();
                    let response = client
                        .post(&aud)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(iss_sub(&issuer, &target.subject))
                        .send()
                        .unwrap();
                    assert_eq!(response.status(), 204);
                    times.push(sent.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all: Vec<Duration> = Vec::new();
    for thread in threads {
        all.extend(thread.join().unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{count} sign-outs over {connections} connections in {elapsed:.2} s: {:.0} requests/s",
        count as f64 / elapsed
    );
    report("POST universal-logout under load", &mut all);
}
