//! Okta sign-in end to end, on both backends: the real gateway, the real OpenID Provider
//! (configured like an Okta org), a browser driven over real HTTP redirects. SP- and
//! IdP-initiated sign-in reach `/api/me`; each failure ends on its own code.

use crate::common::{
    CLIENT_SECRET, Gateway, Op, acme_with_sso, configure_sso, employees, error_code, location, me,
    okta_callback, okta_sign_in, set_cookies, workspace,
};
use persistence::{Actor, NewLoginTransaction, backend_tests};
use token_store::{SecretKind, SecretToken};

/// Starts the gateway and a provider whose client redirects to it.
fn start(db: &persistence::testing::TestDatabase) -> (Gateway<'_>, Op) {
    let listener = Gateway::bind();
    let port = listener.local_addr().unwrap().port();
    let op = Op::start(&Gateway::callback_uri(port));
    (Gateway::start(db, listener), op)
}

backend_tests! {
    fn sp_initiated_sign_in_reaches_api_me(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        let browser = gw.browser();

        // Before: anonymous.
        let (status, body) = me(&browser, &gw, "acme");
        assert_eq!((status, body["error"].as_str()), (401, Some("NOT_SIGNED_IN")));

        // The auth host's login without this browser's workspace binding: first to the
        // workspace host, which binds the browser there (the cookie the hand-off needs).
        let bounce = browser
            .get(gw.url("auth", "/api/OktaAuth/login?workspace=acme&return_to=%2Fpeople%3Ftab%3D1&login_hint=ada%40acme.com"))
            .send()
            .unwrap();
        assert_eq!(bounce.status(), 302);
        assert!(set_cookies(&bounce).is_empty());
        let to_start = location(&bounce);
        assert_eq!(to_start, gw.url("acme", "/api/OktaAuth/start?return_to=%2Fpeople%3Ftab%3D1&login_hint=ada%40acme.com"));
        let bound = browser.get(&to_start).send().unwrap();
        assert_eq!(bound.status(), 302);
        let handoff_binding = set_cookies(&bound);
        assert_eq!(handoff_binding.len(), 1, "{handoff_binding:?}");
        let handoff_binding = &handoff_binding[0];
        assert!(handoff_binding.starts_with("spark_handoff=spark_state_"), "{handoff_binding}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
            assert!(handoff_binding.contains(attribute), "{attribute} in {handoff_binding}");
        }
        assert!(!handoff_binding.to_ascii_lowercase().contains("domain="), "host-only: {handoff_binding}");
        let login = location(&bound);
        assert!(login.starts_with(&gw.url("auth", "/api/OktaAuth/login?workspace=acme&binding=")), "{login}");

        // The login route: a redirect to the provider, a binding cookie on the auth host.
        let start = browser.get(&login).send().unwrap();
        assert_eq!(start.status(), 302);
        let authorize = location(&start);
        let url = url::Url::parse(&authorize).unwrap();
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        assert_eq!(q["redirect_uri"], Gateway::callback_uri(gw.addr.port()));
        assert_eq!(q["login_hint"], "ada@acme.com");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["scope"], "openid profile email");
        let binding = set_cookies(&start);
        assert_eq!(binding.len(), 1, "{binding:?}");
        let binding = &binding[0];
        assert!(binding.starts_with("spark_signin=spark_state_"), "{binding}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
            assert!(binding.contains(attribute), "{attribute} in {binding}");
        }
        assert!(!binding.to_ascii_lowercase().contains("domain="), "host-only: {binding}");

        // Okta, then the callback: a hand-off to the workspace host.
        let callback_url = crate::common::sign_in_at_provider(&browser, &op, &authorize, "ada@acme.com");
        assert!(callback_url.starts_with(&Gateway::callback_uri(gw.addr.port())), "{callback_url}");
        let callback = browser.get(&callback_url).send().unwrap();
        let handoff = location(&callback);
        assert!(handoff.starts_with(&gw.url("acme", "/api/OktaAuth/session?handoff=")), "{handoff}");

        // The hand-off sets the workspace's own session cookie and lands on return_to.
        let session = browser.get(&handoff).send().unwrap();
        assert_eq!(session.status(), 302);
        assert_eq!(location(&session), "/people?tab=1");
        let cookies = set_cookies(&session);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let cookie = &cookies[0];
        assert!(cookie.starts_with("spark_session=spark_session_"), "{cookie}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/;"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "host-only: {cookie}");
        assert!(!cookie.contains("Secure"), "insecure http is allowed in this test: {cookie}");

        let (status, body) = me(&browser, &gw, "acme");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["email"], "ada@acme.com");
        assert_eq!(body["given_name"], "ada");
        assert_eq!(body["family_name"], "Tester");
        assert_eq!(body["role"], "employee");
        assert_eq!(body["workspace"], "acme");
        assert!(body["id"].as_str().is_some_and(|id| !id.is_empty()));
        assert!(body.get("display_name").is_some());

        // The hand-off code is single use.
        let again = browser.get(&handoff).send().unwrap();
        assert_eq!(error_code(again), (400, "HANDOFF_INVALID".into()));

        // The identity is linked: the next sign-in relies on (iss, sub).
        let linked = db.employee_identities().find_employee(
            &db.tenants().find("acme").unwrap().unwrap().id, &op.issuer, "00u-ada").unwrap();
        assert_eq!(linked.unwrap().email, "ada@acme.com");
        let second = okta_sign_in(&gw, &gw.browser(), &op, "acme", "ada@acme.com");
        assert_eq!(location(&second), "/");

        // Outcomes are counted by code.
        let metrics = gw.bare_client().get(gw.metrics_url()).send().unwrap().text().unwrap();
        assert!(
            metrics.lines().any(|l| l.starts_with("auth_gateway_sign_ins_total{") && l.contains("code=\"SUCCESS\"") && l.ends_with(" 2")),
            "{metrics}"
        );
    }

    fn idp_initiated_sign_in_by_get_and_post(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        let target = format!("{}/people", gw.origin("acme"));

        // GET, as a link would.
        let browser = gw.browser();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("iss", &format!("{}/", op.issuer))
            .append_pair("login_hint", "ada@acme.com")
            .append_pair("target_link_uri", &target)
            .finish();
        let start = browser.get(gw.url("auth", &format!("/api/OktaAuth/initiate?{query}"))).send().unwrap();
        let authorize = crate::common::follow_to_provider(&browser, &op, &start);
        assert!(authorize.contains("login_hint=ada%40acme.com"), "{authorize}");
        let callback_url = crate::common::sign_in_at_provider(&browser, &op, &authorize, "ada@acme.com");
        let handoff = location(&browser.get(&callback_url).send().unwrap());
        let landed = browser.get(&handoff).send().unwrap();
        assert_eq!(location(&landed), "/people", "target_link_uri on the workspace is honoured");
        assert_eq!(me(&browser, &gw, "acme").1["email"], "ada@acme.com");

        // POST, as the Okta dashboard tile does; a foreign target_link_uri is ignored.
        let browser = gw.browser();
        let start = browser
            .post(gw.url("auth", "/api/OktaAuth/initiate"))
            .form(&[("iss", op.issuer.as_str()), ("target_link_uri", "https://evil.example/")])
            .send()
            .unwrap();
        let authorize = crate::common::follow_to_provider(&browser, &op, &start);
        let callback_url = crate::common::sign_in_at_provider(&browser, &op, &authorize, "ada@acme.com");
        let handoff = location(&browser.get(&callback_url).send().unwrap());
        let landed = browser.get(&handoff).send().unwrap();
        assert_eq!(location(&landed), "/");
        let (status, body) = me(&browser, &gw, "acme");
        assert_eq!((status, body["email"].as_str()), (200, Some("ada@acme.com")));
    }

    fn initiate_matches_issuers_to_live_workspaces(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        let client = gw.bare_client();
        let initiate = |query: &str| {
            client.get(gw.url("auth", &format!("/api/OktaAuth/initiate?{query}"))).send().unwrap()
        };

        // A foreign issuer matches no workspace.
        let (status, code) = error_code(initiate("iss=https%3A%2F%2Fother.okta.com"));
        assert_eq!((status, code.as_str()), (404, "INITIATE_NO_MATCH"));
        // No iss, the admin URL, a callback's parameters: each refused with its code.
        assert_eq!(error_code(initiate("login_hint=a")).1, "INITIATE_LOGIN_INVALID");
        assert_eq!(error_code(initiate("iss=https%3A%2F%2Facme-admin.okta.com")).1, "OKTA_ORG_URL_ADMIN");
        let (status, code) = error_code(initiate(&format!("iss={}&code=abc&state=xyz", op.issuer)));
        assert_eq!((status, code.as_str()), (400, "INITIATE_LOGIN_INVALID"), "initiate is never a callback");

        // A second live workspace with the same org: a page that asks which.
        let globex = workspace(db, "globex", true);
        configure_sso(db, &globex, &op.issuer, CLIENT_SECRET);
        let page = initiate(&format!("iss={}&login_hint=ada%40acme.com", op.issuer));
        assert_eq!(page.status(), 200);
        assert!(page.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
        let body = page.text().unwrap();
        for ws in ["acme", "globex"] {
            let link = format!("{}/api/OktaAuth/start?login_hint=ada%40acme.com", gw.origin(ws));
            assert!(body.contains(&link), "{link} in {body}");
        }

        // A configured workspace that is not live is not offered; with only that one left,
        // its own problem is named.
        db.okta_integrations().disconnect(&globex, &Actor::operator("test")).unwrap();
        let start = initiate(&format!("iss={}", op.issuer));
        assert_eq!(location(&start), gw.url("acme", "/api/OktaAuth/start"), "only acme is live");
        db.okta_sso_configs().delete(&db.tenants().find("acme").unwrap().unwrap().id, &Actor::operator("test")).unwrap();
        assert_eq!(error_code(initiate(&format!("iss={}", op.issuer))).1, "OKTA_NOT_CONNECTED");
    }

    fn an_unknown_email_has_no_employee(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        // grace@acme.com is a real Okta user, but not an employee of acme.
        let browser = gw.browser();
        let (_, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "grace@acme.com");
        assert_eq!(error_code(response), (403, "SIGNIN_NO_EMPLOYEE".into()));
        assert_eq!(me(&browser, &gw, "acme").0, 401);
    }

    fn a_deactivated_employee_is_refused(db) {
        let (gw, op) = start(db);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("grace@acme.com", false)]);
        let browser = gw.browser();
        let (_, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "grace@acme.com");
        assert_eq!(error_code(response), (403, "SIGNIN_EMPLOYEE_DEACTIVATED".into()));
    }

    fn a_wrong_client_secret_is_invalid_client(db) {
        let (gw, op) = start(db);
        let acme = acme_with_sso(db, &op);
        configure_sso(db, &acme, &op.issuer, "not-the-secret");
        let browser = gw.browser();
        let (_, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "ada@acme.com");
        let status = response.status().as_u16();
        let body = response.text().unwrap();
        assert_eq!(status, 502);
        assert!(body.contains("OKTA_INVALID_CLIENT"), "{body}");
        assert!(body.contains("Client secret"), "the page names the fix: {body}");
        assert!(!body.contains("not-the-secret"), "never the secret: {body}");
    }

    fn an_unassigned_user_gets_access_denied(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        let browser = gw.browser();
        let (_, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "denied@acme.com");
        let status = response.status().as_u16();
        let body = response.text().unwrap();
        assert_eq!(status, 403);
        assert!(body.contains("OKTA_ACCESS_DENIED"), "{body}");
        assert!(body.contains("User is not assigned to the client application"), "{body}");
        assert!(body.contains("Assignments"), "{body}");
    }

    fn an_unverified_email_is_refused(db) {
        let (gw, op) = start(db);
        let acme = acme_with_sso(db, &op);
        employees(db, &acme, &[("unverified@acme.com", true)]);
        let browser = gw.browser();
        let (_, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "unverified@acme.com");
        assert_eq!(error_code(response), (403, "EMAIL_NOT_VERIFIED".into()));
    }

    fn replayed_unknown_and_expired_states_have_their_codes(db) {
        let (gw, op) = start(db);
        let acme = acme_with_sso(db, &op);
        let browser = gw.browser();
        let (callback_url, response) = okta_callback(&browser, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "ada@acme.com");
        assert_eq!(response.status(), 302);
        let replay = browser.get(&callback_url).send().unwrap();
        assert_eq!(error_code(replay), (400, "SIGNIN_STATE_REPLAYED".into()));

        let unknown_state = SecretToken::mint(SecretKind::OidcState).unwrap().0;
        for query in [
            format!("code=abc&state={}", unknown_state.expose_secret()),
            "code=abc&state=spark_state_garbage".to_owned(),
            "code=abc".to_owned(),
        ] {
            let response = browser.get(gw.url("auth", &format!("/api/OktaAuth/callback?{query}"))).send().unwrap();
            assert_eq!(error_code(response), (400, "SIGNIN_STATE_UNKNOWN".into()), "{query}");
        }

        // A transaction created eleven minutes ago (time is a parameter, nobody waits).
        let (state, state_hash) = SecretToken::mint(SecretKind::OidcState).unwrap();
        let (_, binding_hash) = SecretToken::mint(SecretKind::OidcState).unwrap();
        db.login_transactions().create(&acme.id, NewLoginTransaction {
            state_hash,
            browser_binding_hash: binding_hash,
            handoff_binding_hash: binding_hash,
            nonce: "n".repeat(43),
            pkce_verifier: "v".repeat(43),
            login_hint: None,
            return_to: None,
        }, chrono::Utc::now() - chrono::TimeDelta::minutes(11)).unwrap();
        let response = browser
            .get(gw.url("auth", &format!("/api/OktaAuth/callback?code=abc&state={}", state.expose_secret())))
            .send()
            .unwrap();
        assert_eq!(error_code(response), (400, "SIGNIN_STATE_EXPIRED".into()));

        // An error response names no sign-in of this browser: Okta's words in it are
        // anyone's words in a link, so nothing of it is shown.
        let response = browser
            .get(gw.url("auth", "/api/OktaAuth/callback?error=access_denied&error_description=Call+1-800-SCAM+to+restore+access"))
            .send()
            .unwrap();
        let body = response.text().unwrap();
        assert!(body.contains("SIGNIN_STATE_UNKNOWN") && !body.contains("SCAM"), "{body}");
    }

    fn a_callback_in_another_browser_is_a_browser_mismatch(db) {
        let (gw, op) = start(db);
        acme_with_sso(db, &op);
        // The victim's browser starts a sign-in and signs in at Okta...
        let victim = gw.browser();
        let authorize = crate::common::authorize_url(&victim, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"));
        let callback_url = crate::common::sign_in_at_provider(&victim, &op, &authorize, "ada@acme.com");
        // ...but the callback arrives in a browser with its own, different binding cookie.
        let other = gw.browser();
        crate::common::authorize_url(&other, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"));
        let response = other.get(&callback_url).send().unwrap();
        assert_eq!(error_code(response), (403, "SIGNIN_BROWSER_MISMATCH".into()));
        // And in one with none at all (the transaction is used up by then, as it should be).
        let (_, fresh) = okta_callback(&victim, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"), "ada@acme.com");
        assert_eq!(fresh.status(), 302, "the right browser still signs in");
        let authorize = crate::common::authorize_url(&victim, &op, &gw.url("auth", "/api/OktaAuth/login?workspace=acme"));
        let callback_url = crate::common::sign_in_at_provider(&victim, &op, &authorize, "ada@acme.com");
        let response = gw.bare_client().get(&callback_url).send().unwrap();
        assert_eq!(error_code(response), (403, "SIGNIN_BROWSER_MISMATCH".into()));
    }

    fn a_session_dies_when_its_employee_is_deactivated(db) {
        let (gw, op) = start(db);
        let acme = acme_with_sso(db, &op);
        let browser = gw.browser();
        okta_sign_in(&gw, &browser, &op, "acme", "ada@acme.com");
        assert_eq!(me(&browser, &gw, "acme").0, 200);
        db.employees().set_active(&acme.id, "ada@acme.com", false, &Actor::operator("test")).unwrap();
        let (status, body) = me(&browser, &gw, "acme");
        assert_eq!((status, body["error"].as_str()), (401, Some("NOT_SIGNED_IN")));
        // Reactivated, the old session stays dead; a new sign-in works.
        db.employees().set_active(&acme.id, "ada@acme.com", true, &Actor::operator("test")).unwrap();
        assert_eq!(me(&browser, &gw, "acme").0, 401);
        okta_sign_in(&gw, &browser, &op, "acme", "ada@acme.com");
        assert_eq!(me(&browser, &gw, "acme").0, 200);
    }
}
