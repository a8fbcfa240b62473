//! Real-time sign-out, Spark → Okta, on both backends: a deactivation in Spark reaches
//! Okta's Global Token Revocation API within seconds, as the workspace's API service app.
//!
//! The test OpenID Provider plays the Okta org: it issues the service app's token by the
//! client credentials grant with `private_key_jwt` (Spark's own key), and it serves a
//! **stand-in** for Okta's `POST /oauth2/v1/global-token-revocation` — Okta's API is a
//! boundary that cannot run here — which checks the bearer token as Okta would (issued by
//! this org to the service app, with the scope `okta.universalLogout.manage`) and records
//! every call (testing/oidc-provider/provider.js).

use std::time::{Duration, Instant};

use crate::common::{AdminBrowser, Gateway, Op, configure_sso, employees, okta_sign_in, workspace};
use persistence::testing::TestDatabase;
use persistence::{Actor, Tenant, backend_tests};
use reqwest::Method;
use serde_json::{Value, json};

const API: &str = "/api/admin/integrations/okta/real-time-sign-out";
const SERVICE_CLIENT: &str = "0oa-spark-service";

/// The stand-in's recorded calls.
fn calls(op: &Op) -> Vec<Value> {
    let answer: Value = reqwest::blocking::get(format!("{}/test/revocations", op.issuer))
        .unwrap()
        .json()
        .unwrap();
    answer["calls"].as_array().unwrap().clone()
}

/// The recorded calls for the Okta user `id` that Okta answered with `status`.
fn calls_for(op: &Op, id: &str, status: u64) -> usize {
    calls(op)
        .iter()
        .filter(|c| c["id"] == id && c["status"] == status)
        .count()
}

/// Waits up to `limit` for `done`; how long it took.
fn within(limit: Duration, mut done: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if done() {
            return Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn steer(op: &Op, behaviour: Value) {
    let status = reqwest::blocking::Client::new()
        .post(format!("{}/test/revocation-endpoint", op.issuer))
        .json(&behaviour)
        .send()
        .unwrap()
        .status();
    assert_eq!(status, 204);
}

/// The workspace `acme` live, its admin signed in, Spark's key made through the API; the
/// org started knowing that key for its service client (allowed `scope`), SSO pointing at
/// it, the service app's client id saved. Ada and Grace have signed in with Okta once.
fn set_up<'g>(
    gw: &'g Gateway<'g>,
    db: &TestDatabase,
    callback: &str,
    scope: &str,
) -> (Tenant, AdminBrowser<'g>, Op) {
    let acme = workspace(db, "acme", true);
    employees(
        db,
        &acme,
        &[
            ("admin@acme.com", true),
            ("ada@acme.com", true),
            ("grace@acme.com", true),
            ("linus@acme.com", true),
        ],
    );
    let admin = AdminBrowser::sign_in(gw, &acme, "admin@acme.com");
    let (status, made) = admin.json(Method::POST, &format!("{API}/key"), &json!({}));
    assert_eq!(status, 200, "{made}");
    let public_key = made["public_key"].clone();
    assert_eq!(public_key["kty"], "RSA");
    assert!(
        public_key.get("d").is_none() && !made.to_string().contains("PRIVATE"),
        "{made}"
    );
    let service =
        json!({"client_id": SERVICE_CLIENT, "jwks": {"keys": [public_key]}, "scope": scope});
    let op = Op::start_with(callback, &["--service-client", &service.to_string()]);
    configure_sso(db, &acme, &op.issuer, crate::common::CLIENT_SECRET);
    let (status, saved) = admin.json(Method::PUT, API, &json!({"client_id": SERVICE_CLIENT}));
    assert_eq!(
        (status, saved["set_up"].as_bool()),
        (200, Some(true)),
        "{saved}"
    );
    for email in ["ada@acme.com", "grace@acme.com"] {
        okta_sign_in(gw, &gw.browser(), &op, "acme", email);
    }
    (acme, admin, op)
}

backend_tests! {
    fn a_deactivation_in_spark_signs_the_person_out_of_okta_within_seconds(db) {
        let listener = Gateway::bind();
        let callback = Gateway::callback_uri(listener.local_addr().unwrap().port());
        let gw = Gateway::start(db, listener);
        let (acme, admin, op) = set_up(&gw, db, &callback, "okta.universalLogout.manage");
        let (status, tested) = admin.json(Method::POST, &format!("{API}/test"), &json!({}));
        assert_eq!((status, tested["ok"].as_bool()), (200, Some(true)), "{tested}");

        // Deactivate → one call naming Ada's Okta user, within 2 s.
        db.employees().set_active(&acme.id, "ada@acme.com", false, &Actor::operator("test")).unwrap();
        let took = within(Duration::from_secs(2), || calls_for(&op, "00u-ada", 204) == 1);
        assert!(took.is_some(), "no revocation within 2 s: {:?}", calls(&op));
        let call = calls(&op).into_iter().find(|c| c["id"] == "00u-ada").unwrap();
        assert_eq!((call["format"].as_str(), call["client_id"].as_str()), (Some("opaque"), Some(SERVICE_CLIENT)));
        let listed = within(Duration::from_secs(2), || {
            admin.get(API).1["revocations"][0]["status"] == "sent"
        });
        assert!(listed.is_some(), "{}", admin.get(API).1);

        // The org down: retried (its Retry-After honoured) until it is back; nothing lost.
        steer(&op, json!({"status": 503, "retry_after": 1}));
        db.employees().set_active(&acme.id, "grace@acme.com", false, &Actor::operator("test")).unwrap();
        assert!(within(Duration::from_secs(5), || calls_for(&op, "00u-grace", 503) >= 2).is_some(), "{:?}", calls(&op));
        let (_, shown) = admin.get(API);
        assert_eq!(shown["failing"], 1, "{shown}");
        assert!(shown["revocations"][0]["last_error"].as_str().unwrap().contains("503"), "{shown}");
        let page = admin.client.get(gw.url("acme", "/admin/domain/integrations/authentication")).send().unwrap().text().unwrap();
        assert!(page.contains("id=\"revocations-failing\"") && page.contains("grace@acme.com"), "the page shows it");
        let metrics = reqwest::blocking::get(gw.metrics_url()).unwrap().text().unwrap();
        assert!(metrics.contains("auth_gateway_okta_revocations_failing 1"), "{metrics}");
        steer(&op, json!({"status": 204}));
        assert!(within(Duration::from_secs(4), || calls_for(&op, "00u-grace", 204) == 1).is_some(), "{:?}", calls(&op));
        assert!(within(Duration::from_secs(2), || admin.get(API).1["failing"] == 0).is_some());

        // Never signed in with Okta: nothing to name; the audit log says so.
        db.employees().set_active(&acme.id, "linus@acme.com", false, &Actor::operator("test")).unwrap();
        let events = db.audit().recent(&acme.id, 30).unwrap();
        let impossible = events.iter().find(|e| e.action == "okta.revocation_impossible").unwrap();
        assert_eq!(impossible.target.as_deref(), Some("linus@acme.com"));
        for action in ["okta.revocation_queued", "okta.revocation_sent", "okta.revocation_failed"] {
            assert!(events.iter().any(|e| e.action == action), "{action} audited");
        }
        assert!(
            calls(&op).iter().all(|c| c["id"] == "00u-ada" || c["id"] == "00u-grace"),
            "no call but for the two linked Okta users: {:?}", calls(&op)
        );
    }

    fn a_revocation_queued_while_no_worker_runs_is_sent_after_a_restart_and_once_with_two_replicas(db) {
        let listener = Gateway::bind();
        let callback = Gateway::callback_uri(listener.local_addr().unwrap().port());
        let gw = Gateway::start(db, listener);
        let (acme, admin, op) = set_up(&gw, db, &callback, "okta.universalLogout.manage");
        drop(admin);
        // Every worker stopped: the deactivation is queued in its own transaction...
        drop(gw);
        db.employees().set_active(&acme.id, "ada@acme.com", false, &Actor::operator("test")).unwrap();
        std::thread::sleep(Duration::from_millis(800));
        assert_eq!(calls_for(&op, "00u-ada", 204), 0, "nothing runs");
        // ...and sent once a replica is back, by one of two replicas only.
        let first = Gateway::start(db, Gateway::bind());
        let second = Gateway::start(db, Gateway::bind());
        assert!(within(Duration::from_secs(3), || calls_for(&op, "00u-ada", 204) == 1).is_some(), "{:?}", calls(&op));
        db.employees().set_active(&acme.id, "grace@acme.com", false, &Actor::operator("test")).unwrap();
        assert!(within(Duration::from_secs(3), || calls_for(&op, "00u-grace", 204) == 1).is_some(), "{:?}", calls(&op));
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(calls_for(&op, "00u-ada", 204), 1, "sent once: {:?}", calls(&op));
        assert_eq!(calls_for(&op, "00u-grace", 204), 1, "sent once: {:?}", calls(&op));
        drop((first, second));
    }

    /// "Test" says what is missing, with Okta's error code: the scope not granted, Spark's
    /// key not one of the app's (after a new key), a wrong client id.
    fn the_test_button_says_what_is_missing(db) {
        let listener = Gateway::bind();
        let callback = Gateway::callback_uri(listener.local_addr().unwrap().port());
        let gw = Gateway::start(db, listener);
        let (_, admin, _op) = set_up(&gw, db, &callback, "okta.users.read");
        let test = || admin.json(Method::POST, &format!("{API}/test"), &json!({}));
        let (status, refused) = test();
        assert_eq!((status, refused["error"].as_str()), (409, Some("OKTA_SERVICE_SCOPE_NOT_GRANTED")), "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("invalid_scope"), "Okta's code: {refused}");

        let (status, _) = admin.json(Method::PUT, API, &json!({"client_id": "0oa-nobody"}));
        assert_eq!(status, 200);
        let (status, refused) = test();
        assert_eq!((status, refused["error"].as_str()), (409, Some("OKTA_SERVICE_CLIENT_INVALID")), "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("invalid_client"), "{refused}");

        admin.json(Method::PUT, API, &json!({"client_id": SERVICE_CLIENT}));
        let (status, rotated) = admin.json(Method::POST, &format!("{API}/key"), &json!({}));
        assert_eq!(status, 200);
        let (status, refused) = test();
        assert_eq!((status, refused["error"].as_str()), (409, Some("OKTA_SERVICE_CLIENT_INVALID")), "a key Okta does not know: {refused}");
        assert!(rotated["key_id"].is_string());

        // Not an admin's own workspace: another workspace's admin sees nothing of it.
        let globex = workspace(db, "globex", true);
        employees(db, &globex, &[("admin@globex.com", true)]);
        let other = AdminBrowser::sign_in(&gw, &globex, "admin@globex.com");
        let (status, theirs) = other.get(API);
        assert_eq!((status, theirs["key_id"].is_null(), theirs["revocations"].as_array().unwrap().len()), (200, true, 0));
    }
}
