//! Hostile and broken input on auth-gateway: oversize bodies and headers, long and
//! repeated parameters, invalid UTF-8 and percent-encoding, SQL metacharacters in every
//! string the gateway reads, spoofed hosts, tampered hand-off codes and sign-in links.
//! Each gets a clear 4xx — an error page (or JSON under `/api/`) with a stable code
//! where the gateway itself answers — and the service keeps serving.

use crate::common::{Gateway, employees, error_code, location, login_link, me, workspace};
use persistence::backend_tests;
use persistence::testing::TestDatabase;

fn start(db: &TestDatabase) -> Gateway<'_> {
    Gateway::start(db, Gateway::bind())
}

/// Still serving: health and a real page answer normally.
fn still_serving(gw: &Gateway) {
    let client = gw.bare_client();
    assert_eq!(
        client
            .get(gw.url("auth", "/healthz"))
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(gw.url("acme", "/login"))
            .send()
            .unwrap()
            .status(),
        200
    );
}

backend_tests! {
    fn oversize_bodies_and_headers_are_refused_clearly(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let client = gw.bare_client();
        let big = format!("iss=https%3A%2F%2Facme.okta.com&login_hint={}", "a".repeat(20_000));
        let response = client
            .post(gw.url("auth", "/api/OktaAuth/initiate"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(big)
            .send()
            .unwrap();
        assert_eq!(error_code(response), (413, "REQUEST_TOO_LARGE".into()));
        let response = client
            .put(gw.url("acme", "/api/admin/integrations/okta/sso"))
            .header("content-type", "application/json")
            .body(format!("{{\"org_url\":\"{}\"}}", "x".repeat(20_000)))
            .send()
            .unwrap();
        assert_eq!(response.status(), 413);
        let body: serde_json::Value = response.json().unwrap();
        assert_eq!(body["error"], "REQUEST_TOO_LARGE");
        // Headers far over any real one: refused (a 4xx, or the connection closed), or
        // read as what they are — here a cookie that is no session.
        for size in [64 * 1024, 1024 * 1024] {
            let response = client
                .get(gw.url("acme", "/login"))
                .header("cookie", format!("spark_session={}", "a".repeat(size)))
                .send();
            if let Ok(response) = response {
                let status = response.status();
                assert!(status.is_client_error() || status == 200, "{size}: {status}");
                if status == 200 {
                    assert!(!response.text().unwrap().contains("id=\"signed-in\""), "not signed in");
                }
            }
        }
        still_serving(&gw);
    }

    fn malformed_and_hostile_parameters_get_their_codes(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let client = gw.bare_client();
        let get = |host: &str, path: &str| error_code(client.get(gw.url(host, path)).send().unwrap());
        let cases: Vec<(&str, String, u16, &str)> = vec![
            ("auth", "/api/OktaAuth/login?workspace=%FF%FE".into(), 404, "WORKSPACE_UNKNOWN"),
            ("auth", "/api/OktaAuth/login?workspace=acme%".into(), 404, "WORKSPACE_UNKNOWN"),
            ("auth", "/api/OktaAuth/login?workspace=acme'--".into(), 404, "WORKSPACE_UNKNOWN"),
            ("auth", "/api/OktaAuth/login?workspace=acme%27%20OR%20%271%27%3D%271".into(), 404, "WORKSPACE_UNKNOWN"),
            ("auth", "/api/OktaAuth/login?workspace=acme&workspace=acme".into(), 400, "REQUEST_INVALID"),
            ("auth", format!("/api/OktaAuth/login?workspace=acme&login_hint={}", "a".repeat(10_000)), 400, "REQUEST_INVALID"),
            ("auth", "/api/OktaAuth/login?workspace=acme&return_to=%2F%2Fevil.example".into(), 400, "RETURN_TO_INVALID"),
            ("auth", "/api/OktaAuth/login?workspace=acme&return_to=%C0%AF".into(), 400, "RETURN_TO_INVALID"),
            ("auth", "/api/OktaAuth/initiate?iss=https%3A%2F%2Facme.okta.com%27%3B%20DROP%20TABLE%20tenants%3B--".into(), 400, "OKTA_ORG_URL_INVALID"),
            ("auth", "/api/OktaAuth/initiate?iss=%FF".into(), 400, "OKTA_ORG_URL_INVALID"),
            ("auth", "/api/OktaAuth/initiate?login_hint=%FF".into(), 400, "INITIATE_LOGIN_INVALID"),
            ("auth", "/api/OktaAuth/callback?state=%27%3B--&code=x".into(), 400, "SIGNIN_STATE_UNKNOWN"),
            ("auth", "/api/OktaAuth/callback?state=a&state=b".into(), 400, "OKTA_CALLBACK_INVALID"),
            ("acme", "/api/OktaAuth/session?handoff=%27%20OR%201%3D1--".into(), 400, "HANDOFF_INVALID"),
            ("acme", "/auth/login-link?token=spark_link_%00".into(), 400, "LOGIN_LINK_INVALID"),
            ("acme", "/auth/login-link?token=a&token=b".into(), 400, "LOGIN_LINK_INVALID"),
        ];
        for (host, path, status, code) in cases {
            let (got, got_code) = get(host, &path);
            assert!(
                got == status && got_code == code,
                "{host} {}: {got} {got_code}, expected {status} {code}",
                &path[..path.len().min(120)]
            );
        }
        // Nothing was harmed: the tenants table and acme are still there.
        assert_eq!(db.tenants().list().unwrap().len(), 1);
        still_serving(&gw);
    }

    fn spoofed_hosts_and_tampered_codes_are_refused(db) {
        let gw = start(db);
        let acme = workspace(db, "acme", true);
        workspace(db, "globex", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let client = gw.bare_client();
        // A host that is not ours, or a forwarded host: routes do not exist there, and a
        // forwarded host never changes which workspace a request is for.
        let response = client.get(gw.url("acme", "/login")).header("host", "evil.example").send().unwrap();
        assert_eq!(error_code(response), (404, "NOT_FOUND".into()));
        let response = client
            .get(gw.url("acme", "/login"))
            .header("x-forwarded-host", "globex.localhost")
            .send()
            .unwrap();
        assert!(response.text().unwrap().contains("Sign in to acme Inc"));
        let response = client.get(gw.url("acme", "/api/OktaAuth/login?workspace=acme")).send().unwrap();
        assert_eq!(error_code(response), (404, "NOT_FOUND".into()), "sign-in starts on the auth host only");

        // A sign-in link with one character changed, or cut short: refused; the real one
        // still works afterwards (a tampered attempt does not spend it).
        let link = login_link(db, &acme, "admin@acme.com");
        let last = link.chars().last().unwrap();
        let flipped = format!("{}{}", &link[..link.len() - 1], if last == 'A' { 'B' } else { 'A' });
        for bad in [flipped.as_str(), &link[..link.len() - 5]] {
            let response = client.get(gw.url("acme", bad)).send().unwrap();
            assert_eq!(error_code(response), (400, "LOGIN_LINK_INVALID".into()), "{bad}");
        }
        let browser = gw.browser();
        let response = crate::common::use_login_link(&browser, &gw, "acme", &link);
        assert_eq!(location(&response), "/");
        assert_eq!(me(&browser, &gw, "acme").0, 200);
        // A forged hand-off code in the right format.
        let forged = token_store::SecretToken::mint(token_store::SecretKind::HandoffCode).unwrap().0;
        let response = client
            .get(gw.url("acme", &format!("/api/OktaAuth/session?handoff={}", forged.expose_secret())))
            .send()
            .unwrap();
        assert_eq!(error_code(response), (400, "HANDOFF_INVALID".into()));
        still_serving(&gw);
    }
}
