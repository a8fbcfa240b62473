//! Failed bearer-token attempts are throttled per client address and per workspace (429
//! with `Retry-After` and a SCIM Error), while valid tokens keep working — every
//! well-formed token is verified, whoever else knocks from its address: the real service
//! in-process, on both backends. Callers get their own source addresses from
//! 127.0.0.0/8, so one machine plays an attacker, Okta and other tenants; the throttle's
//! windows run on a clock the tests move, so nobody waits.

use std::time::Duration;

use crate::common::{Service, assert_error, live_workspace, mint_token};
use persistence::{Actor, backend_tests};
use reqwest::blocking::Response;
use token_store::scim::ScimTokens;
use token_store::{SecretKind, SecretToken};

/// A well-formed SCIM token that no workspace has: what a guesser sends.
fn guess() -> String {
    let (token, _) = SecretToken::mint(SecretKind::ScimToken).unwrap();
    token.expose_secret().to_owned()
}

/// Asserts a 429 SCIM Error whose `Retry-After` (1 to `window` seconds) is the wait
/// its detail names; returns the wait.
fn assert_throttled(response: Response, window: u64) -> u64 {
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .expect("a Retry-After header")
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=window).contains(&retry_after), "{retry_after}");
    let body = assert_error(response, 429);
    let detail = body["detail"].as_str().unwrap();
    assert!(
        detail.contains("Okta's provisioning settings")
            && detail.contains(&format!("retry after {retry_after} seconds")),
        "{detail}"
    );
    retry_after
}

fn status(response: Response) -> u16 {
    response.status().as_u16()
}

backend_tests! {
    fn failures_from_one_address_are_refused_with_429_while_valid_tokens_work(db) {
        let (acme, acme_token) = live_workspace(db, "acme");
        let (globex, globex_token) = live_workspace(db, "globex");
        // The default limits: 20 failures per address, 100 per workspace, per minute.
        let svc = Service::start(db);
        let attacker = svc.client_from("127.0.0.2");
        let okta = svc.client_from("127.0.0.3");
        // globex's connector shares the attacker's address (as Okta's connectors for
        // many customers share Okta's).

        for _ in 0..20 {
            assert_error(svc.get_as(&attacker, "acme", "/scim/v2/Users", &guess()), 401);
        }
        assert_throttled(svc.get_as(&attacker, "acme", "/scim/v2/Users", &guess()), 60);
        // Whatever the attempt: another workspace, a malformed token, no token at all.
        assert_throttled(svc.get_as(&attacker, "globex", "/scim/v2/Users", &guess()), 60);
        assert_throttled(svc.get_as(&attacker, "acme", "/scim/v2/Users", "nonsense"), 60);
        let anonymous = attacker.get(svc.url("acme", "/scim/v2/Users")).send().unwrap();
        assert_throttled(anonymous, 60);

        // The attacked workspace's own connector, from its own address, is not slowed.
        assert_eq!(status(svc.get_as(&okta, "acme", "/scim/v2/Users", &acme_token)), 200);
        // Other tenants are not either, from anywhere they have worked from before.
        assert_eq!(status(svc.get_as(&okta, "globex", "/scim/v2/Users", &globex_token)), 200);
        assert_eq!(status(svc.get_as(&attacker, "globex", "/scim/v2/Users", &globex_token)), 200);
        assert_eq!(status(svc.get_as(&attacker, "globex", "/scim/v2/Groups", &globex_token)), 200);

        // Another workspace's token minted a moment ago, which this process has never
        // seen, from the exhausted address: verified (one indexed read), and it passes.
        let minted_now = mint_token(db, &globex, "Okta, second org");
        assert_eq!(status(svc.get_as(&attacker, "globex", "/scim/v2/Users", &minted_now)), 200);
        let fresh = mint_token(db, &acme, "Okta");
        assert_eq!(status(svc.get_as(&attacker, "acme", "/scim/v2/Users", &fresh)), 200);

        // A known token that is revoked stops working at once, throttled or not.
        let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::operator("test")));
        let newest = tokens.list(&(&acme.id).into()).unwrap().remove(0);
        tokens.revoke(&(&acme.id).into(), &newest.id, chrono::Utc::now()).unwrap();
        assert_throttled(svc.get_as(&attacker, "acme", "/scim/v2/Users", &fresh), 60);
        assert_error(svc.get_as(&okta, "acme", "/scim/v2/Users", &fresh), 401);
        assert_eq!(status(svc.get_as(&okta, "acme", "/scim/v2/Users", &acme_token)), 200);

        assert_eq!(svc.metric("scim_api_token_authentication_throttled_total"), 5.0);
        assert_eq!(svc.metric("scim_api_token_authentication_failures_total"), 21.0);
    }

    fn a_workspace_under_attack_from_many_addresses_keeps_its_valid_tokens(db) {
        let (acme, acme_token) = live_workspace(db, "acme");
        let (_, globex_token) = live_workspace(db, "globex");
        let svc = Service::start_with(db, &[
            ("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "1000"),
            ("SPARK__SECURITY__AUTH_FAILURES_PER_WORKSPACE", "10"),
        ]);
        for n in 10..15 {
            let attacker = svc.client_from(&format!("127.0.0.{n}"));
            for _ in 0..2 {
                assert_error(svc.get_as(&attacker, "acme", "/scim/v2/Users", &guess()), 401);
            }
        }
        // Ten failures on acme, two per address: the workspace's limit, not an address's.
        let next = svc.client_from("127.0.0.15");
        assert_throttled(svc.get_as(&next, "acme", "/scim/v2/Users", &guess()), 60);
        assert_throttled(svc.get_as(&next, "acme", "/scim/v2/Users", "nonsense"), 60);

        // Every valid token of acme passes, even one minted during the attack that no
        // one has used yet: well-formed tokens are still verified.
        let okta = svc.client_from("127.0.0.3");
        assert_eq!(status(svc.get_as(&okta, "acme", "/scim/v2/Users", &acme_token)), 200);
        let minted_now = mint_token(db, &acme, "Okta");
        assert_eq!(status(svc.get_as(&okta, "acme", "/scim/v2/Users", &minted_now)), 200);
        assert_eq!(status(svc.get_as(&next, "acme", "/scim/v2/Users", &minted_now)), 200);

        // Other workspaces count their own failures.
        assert_eq!(status(svc.get_as(&next, "globex", "/scim/v2/Users", &globex_token)), 200);
        assert_error(svc.get_as(&next, "globex", "/scim/v2/Users", &guess()), 401);
        // A workspace that does not exist says so (and counts for itself).
        assert_error(svc.get_as(&next, "nowhere", "/scim/v2/Users", &guess()), 404);
    }

    fn successful_requests_never_count_and_the_window_resets(db) {
        let (_, token) = live_workspace(db, "acme");
        let clock = scim_api::Clock::manual();
        let svc = Service::start_clocked(db, db.db().clone(), &[
            ("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "3"),
            ("SPARK__SECURITY__AUTH_FAILURE_WINDOW_SECS", "2"),
        ], clock.clone());
        let caller = svc.client_from("127.0.0.2");
        for _ in 0..30 {
            assert_eq!(status(svc.get_as(&caller, "acme", "/scim/v2/Users?count=1", &token)), 200);
        }
        for _ in 0..3 {
            assert_error(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 401);
        }
        let wait = assert_throttled(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 2);
        assert_throttled(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 2);
        // Its valid token still works from the throttled address.
        assert_eq!(status(svc.get_as(&caller, "acme", "/scim/v2/Users?count=1", &token)), 200);

        // A moment before the wait `Retry-After` named, still throttled; after it, the
        // address starts a fresh window.
        clock.advance(Duration::from_secs(wait) - Duration::from_millis(1));
        assert_throttled(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 2);
        clock.advance(Duration::from_millis(1));
        for _ in 0..3 {
            assert_error(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 401);
        }
        assert_throttled(svc.get_as(&caller, "acme", "/scim/v2/Users", &guess()), 2);
    }

    fn x_forwarded_for_counts_only_behind_trusted_proxies(db) {
        live_workspace(db, "acme");
        let limits = [("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", "3")];
        // Not trusted (the default): a caller cannot escape its limit by naming other
        // addresses.
        {
            let svc = Service::start_with(db, &limits);
            let caller = svc.client_from("127.0.0.2");
            let attempt = |n: u32| {
                caller
                    .get(svc.url("acme", "/scim/v2/Users"))
                    .bearer_auth(guess())
                    .header("x-forwarded-for", format!("198.51.100.{n}"))
                    .send()
                    .unwrap()
            };
            for n in 0..3 {
                assert_error(attempt(n), 401);
            }
            assert_throttled(attempt(3), 60);
        }
        // One trusted proxy (127.0.0.2 plays it): the address it appended counts, so two
        // clients behind it are told apart.
        let mut env = limits.to_vec();
        env.push(("SPARK__SECURITY__TRUSTED_PROXY_HOPS", "1"));
        let svc = Service::start_with(db, &env);
        let proxy = svc.client_from("127.0.0.2");
        let attempt = |client: &str| {
            proxy
                .get(svc.url("acme", "/scim/v2/Users"))
                .bearer_auth(guess())
                .header("x-forwarded-for", format!("192.0.2.1, {client}"))
                .send()
                .unwrap()
        };
        for _ in 0..3 {
            assert_error(attempt("198.51.100.7"), 401);
        }
        assert_throttled(attempt("198.51.100.7"), 60);
        assert_error(attempt("198.51.100.8"), 401);
    }
}
