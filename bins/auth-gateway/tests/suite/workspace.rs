//! The workspace host without Okta in the loop, on both backends: sign-in links,
//! sessions and their scope, `/login`, logout and its CSRF defence, the login route's
//! refusals, security headers.

use crate::common::{
    CLIENT_SECRET, Gateway, assert_security_headers, configure_sso, employees, error_code,
    location, login_link, me, set_cookies, signed_in_browser, use_login_link, workspace,
};
use persistence::{Actor, backend_tests};
use token_store::{SecretKind, SecretToken};

fn start(db: &persistence::testing::TestDatabase) -> Gateway<'_> {
    Gateway::start(db, Gateway::bind())
}

backend_tests! {
    fn a_login_link_signs_in_once(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let browser = gw.browser();
        let link = login_link(db, &acme, "admin@acme.com");
        let token = link.split_once("token=").unwrap().1;
        // A mail or chat link scanner opens it first, as often as it likes: a page, and
        // nothing is used, started or set.
        let scanner = gw.bare_client();
        for _ in 0..3 {
            let page = scanner.get(gw.url("acme", &link)).send().unwrap();
            assert_eq!(page.status(), 200);
            assert!(set_cookies(&page).is_empty());
            assert!(page.text().unwrap().contains("method=\"post\""));
        }
        // One that submits the forms it finds, from elsewhere or with no origin: refused.
        for origin in [Some("https://scanner.example"), Some("http://globex.localhost"), None] {
            let mut post = scanner.post(gw.url("acme", "/auth/login-link")).form(&[("token", token)]);
            if let Some(origin) = origin {
                post = post.header("origin", origin);
            }
            let refused = post.send().unwrap();
            assert!(set_cookies(&refused).is_empty());
            assert_eq!(error_code(refused), (403, "CSRF_REJECTED".into()), "{origin:?}");
        }
        // The person presses the page's button: signed in, once.
        let response = use_login_link(&browser, &gw, "acme", &link);
        assert_eq!(location(&response), "/");
        let (status, body) = me(&browser, &gw, "acme");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["email"], "admin@acme.com");
        assert_eq!(body["role"], "admin");

        // Single use, in any browser.
        let again = use_login_link(&gw.browser(), &gw, "acme", &link);
        let (status, code) = error_code(again);
        assert_eq!((status, code.as_str()), (400, "LOGIN_LINK_INVALID"));
        // Another workspace's host does not take it; garbage is refused.
        let globex = workspace(db, "globex", false);
        employees(db, &globex, &[("admin@acme.com", true)]);
        let other = login_link(db, &acme, "admin@acme.com");
        assert_eq!(error_code(use_login_link(&gw.browser(), &gw, "globex", &other)).1, "LOGIN_LINK_INVALID");
        assert_eq!(error_code(gw.browser().get(gw.url("acme", "/auth/login-link?token=spark_link_nope")).send().unwrap()).1, "LOGIN_LINK_INVALID");
        // The landing page greets the employee.
        let home = browser.get(gw.url("acme", "/")).send().unwrap();
        assert_eq!(home.status(), 200);
        assert!(home.text().unwrap().contains("admin@acme.com"));
        // Outcomes are counted.
        let metrics = gw.bare_client().get(gw.metrics_url()).send().unwrap().text().unwrap();
        assert!(metrics.contains("auth_gateway_sign_ins_total{method=\"login_link\",code=\"SUCCESS\"} 1"), "{metrics}");
        assert!(metrics.contains("code=\"LOGIN_LINK_INVALID\""), "{metrics}");
        assert!(metrics.contains("code=\"CSRF_REJECTED\""), "{metrics}");
    }

    fn a_session_ends_when_the_employee_is_deactivated(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("ada@acme.com", true)]);
        let (browser, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        assert_eq!(me(&browser, &gw, "acme").0, 200);
        db.employees().set_active(&acme.id, "ada@acme.com", false, &Actor::operator("test")).unwrap();
        assert_eq!(me(&browser, &gw, "acme").0, 401);
        let home = browser.get(gw.url("acme", "/")).send().unwrap();
        assert_eq!(location(&home), "/login");
        // A link minted before the deactivation died with it.
        db.employees().set_active(&acme.id, "ada@acme.com", true, &Actor::operator("test")).unwrap();
        let link = login_link(db, &acme, "ada@acme.com");
        db.employees().set_active(&acme.id, "ada@acme.com", false, &Actor::operator("test")).unwrap();
        assert_eq!(error_code(use_login_link(&gw.browser(), &gw, "acme", &link)).1, "LOGIN_LINK_INVALID");
    }

    fn a_session_cookie_is_useless_on_another_workspace(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", false);
        let globex = workspace(db, "globex", false);
        employees(db, &acme, &[("ada@acme.com", true)]);
        employees(db, &globex, &[("ada@acme.com", true)]);
        let (_, session) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let client = gw.bare_client();
        let with_cookie = |ws: &str| {
            client
                .get(gw.url(ws, "/api/me"))
                .header("cookie", format!("spark_session={session}"))
                .send()
                .unwrap()
        };
        assert_eq!(with_cookie("acme").status(), 200);
        let response = with_cookie("globex");
        assert_eq!(response.status(), 401);
        assert_eq!(response.json::<serde_json::Value>().unwrap()["error"], "NOT_SIGNED_IN");
        // The auth host is not a workspace: /api/me does not exist there.
        assert_eq!(with_cookie("auth").status(), 404);
        // A session minted for acme is not usable as a hand-off or link either.
        let response = client.get(gw.url("globex", &format!("/auth/login-link?token={session}"))).send().unwrap();
        assert_eq!(error_code(response).1, "LOGIN_LINK_INVALID");
    }

    fn the_login_page_shows_the_button_only_when_sso_is_live(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("ada@acme.com", true)]);
        let page = |client: &reqwest::blocking::Client| {
            let response = client.get(gw.url("acme", "/login?return_to=%2Fpeople")).send().unwrap();
            assert_eq!(response.status(), 200);
            assert_security_headers(&response, &gw.origin("auth"));
            response.text().unwrap()
        };
        let anonymous = gw.browser();
        let body = page(&anonymous);
        assert!(!body.contains("Sign in with Okta"), "{body}");
        assert!(body.contains("sso-unavailable") && body.contains("Marketplace"), "{body}");

        // Live but not configured: says what the admin sets up.
        db.okta_integrations().activate(&acme, &Actor::operator("test")).unwrap();
        db.okta_integrations().connect(&acme, &Actor::operator("test")).unwrap();
        let body = page(&anonymous);
        assert!(!body.contains("Sign in with Okta"), "{body}");
        assert!(body.contains("/admin/domain/integrations/authentication"), "{body}");

        // Live and configured: the button, to this host's start of a sign-in (which binds
        // the browser here, then goes on to the auth host).
        configure_sso(db, &acme, "https://acme.okta.com", CLIENT_SECRET);
        let body = page(&anonymous);
        assert!(body.contains("Sign in with Okta"), "{body}");
        let href = "href=\"/api/OktaAuth/start?return_to=%2Fpeople\"";
        assert!(body.contains(href), "{href} in {body}");

        // Signed in: says so, with a sign-out form.
        let (browser, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let body = page(&browser);
        assert!(body.contains("You are signed in as") && body.contains("ada@acme.com"), "{body}");
        assert!(body.contains("action=\"/logout\""), "{body}");

        // Unknown workspace.
        let response = gw.browser().get(gw.url("nowhere", "/login")).send().unwrap();
        assert_eq!(error_code(response), (404, "WORKSPACE_UNKNOWN".into()));
    }

    fn logout_ends_the_session_and_requires_the_right_origin(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("ada@acme.com", true)]);
        let (browser, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let logout = |origin: Option<&str>, referer: Option<&str>| {
            let mut request = browser.post(gw.url("acme", "/logout"));
            if let Some(origin) = origin {
                request = request.header("origin", origin);
            }
            if let Some(referer) = referer {
                request = request.header("referer", referer);
            }
            request.send().unwrap()
        };
        // Cross-site, a look-alike origin, no origin at all without the CSRF token: refused.
        for (origin, referer) in [
            (Some("https://evil.example"), None),
            (Some(gw.origin("globex").as_str()), None),
            (Some(&format!("{}.evil.example", gw.origin("acme"))), None),
            (Some("null"), None),
            (None, Some("https://evil.example/acme")),
            (None, None),
        ] {
            let response = logout(origin, referer);
            assert_eq!(error_code(response), (403, "CSRF_REJECTED".into()), "{origin:?} {referer:?}");
            assert_eq!(me(&browser, &gw, "acme").0, 200, "still signed in");
        }
        // The right origin: signed out, cookie cleared.
        let response = logout(Some(&gw.origin("acme")), None);
        assert_eq!(response.status(), 303);
        assert_eq!(location(&response), "/login");
        let cleared = set_cookies(&response);
        assert!(cleared.iter().any(|c| c.starts_with("spark_session=;") && c.contains("Max-Age=0")), "{cleared:?}");
        assert_eq!(me(&browser, &gw, "acme").0, 401);

        // Without Origin, a same-origin Referer or the session's CSRF token also works.
        let (browser, session) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let response = browser
            .post(gw.url("acme", "/logout"))
            .header("referer", gw.url("acme", "/"))
            .send()
            .unwrap();
        assert_eq!(response.status(), 303);
        assert_eq!(me(&browser, &gw, "acme").0, 401);
        let (browser, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let home = browser.get(gw.url("acme", "/")).send().unwrap().text().unwrap();
        let marker = "name=\"csrf_token\" value=\"";
        let start = home.find(marker).unwrap() + marker.len();
        let csrf = &home[start..start + home[start..].find('"').unwrap()];
        let wrong = browser.post(gw.url("acme", "/logout")).form(&[("csrf_token", "wrong")]).send().unwrap();
        assert_eq!(wrong.status(), 403);
        let right = browser.post(gw.url("acme", "/logout")).form(&[("csrf_token", csrf)]).send().unwrap();
        assert_eq!(right.status(), 303);
        assert_eq!(me(&browser, &gw, "acme").0, 401);
        // The old session's cookie is dead for good.
        let stale = gw.bare_client().get(gw.url("acme", "/api/me")).header("cookie", format!("spark_session={session}")).send().unwrap();
        assert_eq!(stale.status(), 401);
    }

    fn the_login_route_refuses_with_a_code_for_each_problem(db) {
        let gw = start(db);
        let client = gw.bare_client();
        // As the workspace host's start sends it: with the browser's binding there.
        let binding = SecretToken::mint(SecretKind::OidcState).unwrap().1.to_hex();
        let login = |query: &str| {
            client.get(gw.url("auth", &format!("/api/OktaAuth/login?{query}&binding={binding}"))).send().unwrap()
        };
        let acme = workspace(db, "acme", false);
        let auth_origin = gw.origin("auth");

        let response = login("workspace=nowhere");
        assert_security_headers(&response, &auth_origin);
        assert_eq!(error_code(response), (404, "WORKSPACE_UNKNOWN".into()));
        assert_eq!(error_code(login("workspace=")), (400, "WORKSPACE_UNKNOWN".into()));
        assert_eq!(error_code(login("workspace=acme")), (403, "OKTA_NOT_ACTIVATED".into()));
        db.okta_integrations().activate(&acme, &Actor::operator("test")).unwrap();
        assert_eq!(error_code(login("workspace=acme")), (403, "OKTA_NOT_CONNECTED".into()));
        db.okta_integrations().connect(&acme, &Actor::operator("test")).unwrap();
        assert_eq!(error_code(login("workspace=acme")), (403, "SSO_NOT_CONFIGURED".into()));
        for bad in ["%2F%2Fevil.example", "https%3A%2F%2Fevil.example", "%2F%5Cevil.example", "people"] {
            assert_eq!(error_code(login(&format!("workspace=acme&return_to={bad}"))), (400, "RETURN_TO_INVALID".into()), "{bad}");
        }
        assert_eq!(error_code(login("workspace=acme&workspace=globex")).1, "REQUEST_INVALID");
        // The workspace host's start checks where to return, too.
        let start = client.get(gw.url("acme", "/api/OktaAuth/start?return_to=%2F%2Fevil.example")).send().unwrap();
        assert_eq!(error_code(start), (400, "RETURN_TO_INVALID".into()));
        // An org that does not answer discovery: the oidc-client code passes through.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        configure_sso(db, &acme, &format!("http://127.0.0.1:{port}"), CLIENT_SECRET);
        assert_eq!(error_code(login("workspace=acme")), (502, "OKTA_DISCOVERY_UNREACHABLE".into()));

        // Auth routes exist only on the auth host, workspace routes only on workspaces.
        let response = client.get(gw.url("acme", "/api/OktaAuth/login?workspace=acme")).send().unwrap();
        assert_eq!(error_code(response), (404, "NOT_FOUND".into()));
        let response = client.get(gw.url("auth", "/login")).send().unwrap();
        assert_eq!(error_code(response), (404, "NOT_FOUND".into()));
        let response = client.get(gw.url("acme", "/api/OktaAuth/session?handoff=spark_handoff_x")).send().unwrap();
        assert_security_headers(&response, &auth_origin);
        assert_eq!(error_code(response), (400, "HANDOFF_INVALID".into()));
        // Health endpoints answer on any host.
        assert_eq!(client.get(gw.url("auth", "/healthz")).send().unwrap().status(), 200);
        assert_eq!(client.get(gw.url("acme", "/readyz")).send().unwrap().status(), 200);
    }

    fn outside_development_session_cookies_are_secure_and_host_prefixed(db) {
        let gw = Gateway::start_with(db, Gateway::bind(), false);
        let acme = workspace(db, "acme", false);
        employees(db, &acme, &[("ada@acme.com", true)]);
        let link = login_link(db, &acme, "ada@acme.com");
        let response = use_login_link(&gw.browser(), &gw, "acme", &link);
        assert_eq!(location(&response), "/");
        let cookies = set_cookies(&response);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let cookie = &cookies[0];
        assert!(cookie.starts_with("__Host-spark_session=spark_session_"), "{cookie}");
        for attribute in ["; Path=/;", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
        // So is the cookie that binds a sign-in to this browser on the workspace host.
        let started = gw.browser().get(gw.url("acme", "/api/OktaAuth/start")).send().unwrap();
        let cookies = set_cookies(&started);
        assert_eq!(cookies.len(), 1, "{cookies:?}");
        let binding = &cookies[0];
        assert!(binding.starts_with("__Host-spark_handoff=spark_state_"), "{binding}");
        for attribute in ["; Path=/;", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
            assert!(binding.contains(attribute), "{attribute} in {binding}");
        }
    }
}
