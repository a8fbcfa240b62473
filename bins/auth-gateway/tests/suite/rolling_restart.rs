//! A sign-in in flight survives a rolling restart: two gateway replicas on one database;
//! an employee starts an Okta sign-in on the first, which then begins to shut down (what
//! SIGTERM does: the same code path) — it reports not ready at once, but the callback
//! that reaches it during its drain time still completes the sign-in, and the hand-off
//! lands on the other replica, as a load balancer would send it. On both backends.

use std::time::Duration;

use crate::common::{Gateway, Op, acme_with_sso, location, me, sign_in_at_provider};
use persistence::backend_tests;

backend_tests! {
    fn a_sign_in_in_flight_survives_a_rolling_restart(db) {
        let listener = Gateway::bind();
        let op = Op::start(&Gateway::callback_uri(listener.local_addr().unwrap().port()));
        let lifecycle = web_runtime::Lifecycle::default();
        let drain = [("SPARK__SERVER__DRAIN_SECS", "2".to_owned())];
        let first = Gateway::start_running(db, db.db().clone(), listener, true, &drain, lifecycle.clone());
        let second = Gateway::start_configured(db, Gateway::bind(), true, &drain);
        acme_with_sso(db, &op);

        // The sign-in starts on the first replica and reaches Okta.
        let browser = first.browser();
        let authorize = crate::common::authorize_url(&browser, &op, &first.url("acme", "/api/OktaAuth/start"));
        let callback = sign_in_at_provider(&browser, &op, &authorize, "ada@acme.com");

        // Meanwhile the first replica is told to stop: not ready at once.
        lifecycle.shut_down(first.handle(), Duration::from_secs(2));
        let readiness = first.bare_client().get(format!("http://{}/readyz", first.addr)).send().unwrap();
        assert_eq!(readiness.status(), 503);
        let other = second.bare_client().get(format!("http://{}/readyz", second.addr)).send().unwrap();
        assert_eq!(other.status(), 200);

        // The callback reaches it before the balancer notices: answered.
        let answered = browser.get(&callback).send().unwrap();
        assert_eq!(answered.status(), 302, "{:?}", answered.text());
        let handoff = location(&answered);
        // The hand-off goes to the other replica (same public address, another port here).
        let handoff = handoff.replace(&first.addr.port().to_string(), &second.addr.port().to_string());
        let landed = browser.get(&handoff).send().unwrap();
        assert_eq!(landed.status(), 302);
        let (status, body) = me(&browser, &second, "acme");
        assert_eq!((status, body["email"].as_str()), (200, Some("ada@acme.com")));
    }
}
