//! The tenant admin's pages and JSON APIs over HTTP: who may use them, CSRF, the
//! Marketplace, the SSO settings (every sign-in rule, the write-only encrypted secret,
//! test connection) and SCIM tokens, each change audited. The same flows in a real
//! browser are in `admin_browser.rs`.

use crate::common::{
    AdminBrowser, CLIENT_ID, CLIENT_SECRET, Gateway, KEY, Op, assert_security_headers, employees,
    error_code, location, me, okta_sign_in, parse, signed_in_browser, workspace,
};
use persistence::testing::TestDatabase;
use persistence::{Actor, Tenant, backend_tests};
use reqwest::blocking::RequestBuilder;
use serde_json::{Value, json};
use token_store::scim::ScimTokens;
use token_store::sealed::{EncryptionKey, KeyRing};

const PAGES: [&str; 3] = [
    "/marketplace/integrations",
    "/admin/domain/integrations/authentication",
    "/my-settings/integrations/okta-scim",
];
const MARKETPLACE_API: &str = "/api/marketplace/integrations";
const SSO_API: &str = "/api/admin/integrations/okta/sso";
const TOKENS_API: &str = "/api/my-settings/integrations/okta-scim/tokens";

fn start(db: &TestDatabase) -> Gateway<'_> {
    Gateway::start(db, Gateway::bind())
}

/// `acme` with an admin and an employee; Okta activated and connected when `live`.
fn acme(db: &TestDatabase, live: bool) -> Tenant {
    let acme = workspace(db, "acme", live);
    employees(
        db,
        &acme,
        &[("admin@acme.com", true), ("ada@acme.com", true)],
    );
    acme
}

fn audit_actions(db: &TestDatabase, tenant: &Tenant) -> Vec<(String, String)> {
    db.audit()
        .recent(&tenant.id, 100)
        .unwrap()
        .into_iter()
        .map(|e| (e.action, e.actor))
        .collect()
}

backend_tests! {
    fn only_admins_get_in(db) {
        let gw = start(db);
        let acme = acme(db, true);
        // Anonymous: pages send to /login (and back afterwards), the API answers 401.
        for page in PAGES {
            let response = gw.browser().get(gw.url("acme", page)).send().unwrap();
            assert_eq!(response.status(), 303, "{page}");
            let expected = format!("/login?return_to={}", page.replace('/', "%2F"));
            assert_eq!(location(&response), expected);
        }
        for api in [MARKETPLACE_API, SSO_API, TOKENS_API] {
            let (status, body) = parse(gw.browser().get(gw.url("acme", api)).send().unwrap());
            assert_eq!((status, body["error"].as_str()), (401, Some("NOT_SIGNED_IN")), "{api}");
        }
        // An employee without the admin role: 403 page and 403 JSON.
        let (employee, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        for page in PAGES {
            let response = employee.get(gw.url("acme", page)).send().unwrap();
            assert_eq!(error_code(response), (403, "ADMIN_REQUIRED".into()), "{page}");
        }
        let (status, body) = parse(employee.get(gw.url("acme", SSO_API)).send().unwrap());
        assert_eq!((status, body["error"].as_str()), (403, Some("ADMIN_REQUIRED")));
        let (status, _) = parse(
            employee.post(gw.url("acme", TOKENS_API)).header("origin", gw.origin("acme")).json(&json!({})).send().unwrap(),
        );
        assert_eq!(status, 403);
        // The admin gets every page, with the workspace's navigation.
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        for page in PAGES {
            let response = admin.client.get(gw.url("acme", page)).send().unwrap();
            assert_eq!(response.status(), 200, "{page}");
            let body = response.text().unwrap();
            assert!(body.contains(&format!("<a href=\"{page}\" aria-current=\"page\">")), "{body}");
            assert!(body.contains("admin@acme.com"));
        }
        // The home page links the admin pages for admins only.
        let home = admin.client.get(gw.url("acme", "/")).send().unwrap().text().unwrap();
        assert!(home.contains("/my-settings/integrations/okta-scim"), "{home}");
        let home = employee.get(gw.url("acme", "/")).send().unwrap().text().unwrap();
        assert!(!home.contains("/my-settings/integrations/okta-scim"), "{home}");
        // Not on the auth host; an admin session of acme means nothing on globex.
        let response = admin.client.get(gw.url("auth", PAGES[0])).send().unwrap();
        assert_eq!(error_code(response), (404, "NOT_FOUND".into()));
        let globex = workspace(db, "globex", true);
        employees(db, &globex, &[("admin@acme.com", true)]);
        let response = admin.client.get(gw.url("globex", PAGES[0])).send().unwrap();
        assert_eq!(response.status(), 303);
        // A method the route does not take.
        let (status, body) = parse(admin.api(reqwest::Method::PATCH, SSO_API).send().unwrap());
        assert_eq!((status, body["error"].as_str()), (405, Some("METHOD_NOT_ALLOWED")));
    }

    fn state_changes_need_the_csrf_token_and_our_origin(db) {
        let gw = start(db);
        let acme = acme(db, true);
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let attempts: [(&str, RequestBuilder); 4] = [
            ("no token", admin.client.post(gw.url("acme", TOKENS_API)).header("origin", gw.origin("acme")).json(&json!({}))),
            ("wrong token", admin.client.post(gw.url("acme", TOKENS_API)).header("x-csrf-token", "x".repeat(43)).json(&json!({}))),
            ("foreign origin", admin.client.post(gw.url("acme", TOKENS_API)).header("origin", "https://evil.example").header("x-csrf-token", &admin.csrf).json(&json!({}))),
            ("cross-site fetch", admin.client.delete(gw.url("acme", SSO_API)).header("sec-fetch-site", "cross-site").header("x-csrf-token", &admin.csrf)),
        ];
        for (what, request) in attempts {
            let (status, body) = parse(request.send().unwrap());
            assert_eq!((status, body["error"].as_str()), (403, Some("CSRF_REJECTED")), "{what}");
        }
        // A forged form post: the page's error, nothing changed.
        let forged = admin
            .client
            .post(gw.url("acme", PAGES[0]))
            .header("origin", "https://evil.example")
            .form(&[("action", "disconnect"), ("csrf_token", admin.csrf.as_str())])
            .send()
            .unwrap();
        assert_eq!(error_code(forged), (403, "CSRF_REJECTED".into()));
        let forged = admin
            .client
            .post(gw.url("acme", PAGES[0]))
            .form(&[("action", "disconnect")])
            .send()
            .unwrap();
        assert_eq!(error_code(forged), (403, "CSRF_REJECTED".into()));
        assert!(db.okta_integrations().get(&acme.id).unwrap().is_live());
        assert!(ScimTokens::new(db.scim_tokens(&Actor::system())).list(&(&acme.id).into()).unwrap().is_empty());
        // The real form works.
        let response = admin.form(PAGES[0], &[("action", "disconnect")]);
        assert_eq!(location(&response), "/marketplace/integrations?done=disconnected");
        assert!(!db.okta_integrations().get(&acme.id).unwrap().is_live());
    }

    fn the_marketplace_offers_okta_once_activated(db) {
        let gw = start(db);
        let acme = acme(db, false);
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        // Not activated: how to ask, with this workspace's URL and the admin's contact.
        let (status, body) = admin.get(MARKETPLACE_API);
        assert_eq!(status, 200);
        let okta = &body["integrations"][0];
        assert_eq!(okta["status"], "not_activated");
        let request = okta["activation_request"]["body"].as_str().unwrap();
        assert!(request.contains(&format!("for our tenant acme\n( {} )", gw.origin("acme"))), "{request}");
        assert!(request.contains("Admin contact: admin Tester / admin@acme.com."), "{request}");
        assert_eq!(okta["activation_request"]["subject"], "Enable Okta integration — acme");
        let page = admin.client.get(gw.url("acme", PAGES[0])).send().unwrap().text().unwrap();
        assert!(page.contains("id=\"activation-needed\""), "{page}");
        assert!(page.contains("Please enable the Okta integration for our tenant acme"));
        assert!(!page.contains("value=\"connect\""), "no Connect before activation");
        let (status, body) = admin.json(reqwest::Method::POST, &format!("{MARKETPLACE_API}/okta/connect"), &json!({}));
        assert_eq!((status, body["error"].as_str()), (409, Some("OKTA_NOT_ACTIVATED")));

        // `sparkctl okta enable`: now it is offered, and Connect works.
        db.okta_integrations().activate(&acme, &Actor::operator("spark-team")).unwrap();
        let page = admin.client.get(gw.url("acme", PAGES[0])).send().unwrap().text().unwrap();
        assert!(page.contains("value=\"connect\""), "{page}");
        let (status, body) = admin.json(reqwest::Method::POST, &format!("{MARKETPLACE_API}/okta/connect"), &json!({}));
        assert_eq!((status, body["integrations"][0]["status"].as_str()), (200, Some("connected")));
        assert!(db.okta_integrations().get(&acme.id).unwrap().is_live());

        // Disconnect switches sign-in and SCIM tokens off, keeping their configuration.
        let op = Op::start(&Gateway::callback_uri(gw.addr.port()));
        crate::common::configure_sso(db, &acme, &op.issuer, CLIENT_SECRET);
        let (_, minted) = admin.json(reqwest::Method::POST, TOKENS_API, &json!({"label": "Okta"}));
        let token = minted["token"].as_str().unwrap().to_owned();
        let verify = || {
            ScimTokens::new(db.scim_tokens(&Actor::system()))
                .verify(&(&acme.id).into(), &token, chrono::Utc::now())
                .is_ok()
        };
        assert!(verify());
        let response = admin.form(PAGES[0], &[("action", "disconnect")]);
        assert_eq!(location(&response), "/marketplace/integrations?done=disconnected");
        let login = gw.browser().get(gw.url("acme", "/login")).send().unwrap().text().unwrap();
        assert!(login.contains("id=\"sso-unavailable\""), "{login}");
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_some(), "SSO settings kept");
        assert!(verify(), "the token itself is kept; scim-api refuses it while disconnected");
        assert!(!db.okta_integrations().get(&acme.id).unwrap().is_live());
        // Reconnect: on again.
        let (status, _) = admin.json(reqwest::Method::POST, &format!("{MARKETPLACE_API}/okta/connect"), &json!({}));
        assert_eq!(status, 200);
        let login = gw.browser().get(gw.url("acme", "/login")).send().unwrap().text().unwrap();
        assert!(login.contains("id=\"okta-sign-in\""), "{login}");

        let admin_id = db.employees().find_by_email(&acme.id, "admin@acme.com").unwrap().unwrap().id;
        let actor = format!("employee:{}", admin_id.as_str());
        let actions = audit_actions(db, &acme);
        for action in ["okta.connected", "okta.disconnected", "scim_token.minted"] {
            assert!(actions.contains(&(action.to_owned(), actor.clone())), "{action}: {actions:?}");
        }
    }

    fn sso_settings_apply_the_sign_in_rules_and_hide_the_secret(db) {
        let gw = start(db);
        let acme = acme(db, true);
        let op = Op::start(&Gateway::callback_uri(gw.addr.port()));
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let put = |body: Value| admin.json(reqwest::Method::PUT, SSO_API, &body);

        let (status, body) = admin.get(SSO_API);
        assert_eq!(status, 200);
        assert_eq!(body["configured"], false);
        assert_eq!(body["redirect_uri"], format!("{}/api/OktaAuth/callback", gw.origin("auth")));
        assert_eq!(body["initiate_login_uri"], format!("{}/api/OktaAuth/initiate", gw.origin("auth")));

        // Each rule, on its field.
        let refused = [
            (json!({"org_url": "https://acme-admin.okta.com", "client_id": CLIENT_ID, "client_secret": "s"}), 400, "OKTA_ORG_URL_ADMIN", "org_url"),
            (json!({"org_url": "http://acme.okta.com", "client_id": CLIENT_ID, "client_secret": "s"}), 400, "OKTA_ORG_URL_INSECURE", "org_url"),
            (json!({"org_url": "https://acme.okta.com/oauth2/default", "client_id": CLIENT_ID, "client_secret": "s"}), 400, "OKTA_ORG_URL_INVALID", "org_url"),
            (json!({"org_url": op.issuer, "client_id": " ", "client_secret": "s"}), 400, "SSO_CLIENT_ID_MISSING", "client_id"),
            (json!({"org_url": op.issuer, "client_id": CLIENT_ID}), 400, "SSO_CLIENT_SECRET_MISSING", "client_secret"),
            (json!({"org_url": "http://127.0.0.1:9", "client_id": CLIENT_ID, "client_secret": "s"}), 502, "OKTA_DISCOVERY_UNREACHABLE", "org_url"),
        ];
        for (body, status, code, field) in refused {
            let (got, answer) = put(body);
            assert_eq!((got, answer["error"].as_str(), answer["field"].as_str()), (status, Some(code), Some(field)), "{answer}");
        }
        let (_, answer) = put(json!({"org_url": "https://acme-admin.okta.com", "client_id": CLIENT_ID, "client_secret": "s"}));
        assert!(answer["message"].as_str().unwrap().contains("https://acme.okta.com"), "{answer}");
        let (status, answer) = put(json!({"org_url": op.issuer, "client_id": CLIENT_ID, "client_secret": "s", "extra": 1}));
        assert_eq!((status, answer["error"].as_str()), (400, Some("REQUEST_INVALID")));
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_none(), "nothing saved by a refusal");

        // Test connection: discovery against the org, nothing saved.
        let (status, answer) = admin.json(reqwest::Method::POST, &format!("{SSO_API}/test"), &json!({"org_url": op.issuer}));
        assert_eq!((status, answer["ok"].as_bool()), (200, Some(true)), "{answer}");
        assert_eq!(answer["issuer"], op.issuer.as_str());
        let (status, answer) = admin.json(reqwest::Method::POST, &format!("{SSO_API}/test"), &json!({}));
        assert_eq!((status, answer["error"].as_str()), (400, Some("SSO_NOT_CONFIGURED")));

        // Saved: the secret is never returned, stored only encrypted, and sign-in works.
        let (status, saved) = put(json!({"org_url": format!("{}/", op.issuer), "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}));
        assert_eq!(status, 200, "{saved}");
        assert_eq!(saved["org_url"], op.issuer.as_str(), "normalised");
        assert_eq!((saved["client_secret_set"].as_bool(), saved["active"].as_bool()), (Some(true), Some(true)));
        let (_, read) = admin.get(SSO_API);
        let page = admin.client.get(gw.url("acme", PAGES[1])).send().unwrap().text().unwrap();
        for shown in [saved.to_string(), read.to_string(), page] {
            assert!(!shown.contains(CLIENT_SECRET), "the secret must never be shown: {shown}");
        }
        let stored = db.okta_sso_configs().get(&acme.id).unwrap().unwrap();
        assert!(!String::from_utf8_lossy(&stored.client_secret.bytes).contains(CLIENT_SECRET));
        let ring = KeyRing::new(EncryptionKey::from_base64(KEY).unwrap());
        // Sealed for this org and app only.
        let opened = ring.open(&stored.client_secret, &stored.secret_context()).unwrap();
        assert!(ring.open(&stored.client_secret, acme.id.as_str()).is_err());
        assert_eq!(opened.expose_secret(), CLIENT_SECRET);
        let browser = gw.browser();
        okta_sign_in(&gw, &browser, &op, "acme", "ada@acme.com");
        assert_eq!(me(&browser, &gw, "acme").1["email"], "ada@acme.com");

        // Saving again without a secret keeps it; removing switches sign-in off.
        let (status, _) = put(json!({"org_url": op.issuer, "client_id": CLIENT_ID}));
        assert_eq!(status, 200);
        let kept = db.okta_sso_configs().get(&acme.id).unwrap().unwrap();
        assert_eq!(ring.open(&kept.client_secret, &kept.secret_context()).unwrap().expose_secret(), CLIENT_SECRET);
        let (status, _) = parse(admin.api(reqwest::Method::DELETE, SSO_API).send().unwrap());
        assert_eq!(status, 204);
        let (status, answer) = parse(admin.api(reqwest::Method::DELETE, SSO_API).send().unwrap());
        assert_eq!((status, answer["error"].as_str()), (404, Some("SSO_NOT_CONFIGURED")));
        let login = gw.browser().get(gw.url("acme", "/login")).send().unwrap().text().unwrap();
        assert!(login.contains("id=\"sso-unavailable\""));

        // The page's form: an inline error under the field, the typed URL kept.
        let response = admin.form(PAGES[1], &[("action", "save"), ("org_url", "https://acme-admin.okta.com"), ("client_id", CLIENT_ID), ("client_secret", "x")]);
        assert_eq!(response.status(), 400);
        let page = response.text().unwrap();
        assert!(page.contains("id=\"org_url-error\""), "{page}");
        assert!(page.contains("value=\"https://acme-admin.okta.com\""));
        assert!(page.contains("aria-invalid=\"true\""));
        assert!(!page.contains("value=\"x\""), "a typed secret is not echoed");
        let response = admin.form(PAGES[1], &[("action", "save"), ("org_url", &op.issuer), ("client_id", CLIENT_ID), ("client_secret", CLIENT_SECRET)]);
        assert_eq!(location(&response), "/admin/domain/integrations/authentication?done=saved");

        // While Okta is disconnected, settings cannot be switched on.
        db.okta_integrations().disconnect(&acme, &Actor::operator("test")).unwrap();
        let (status, answer) = put(json!({"org_url": op.issuer, "client_id": CLIENT_ID, "client_secret": "s"}));
        assert_eq!((status, answer["error"].as_str()), (409, Some("OKTA_NOT_CONNECTED")));

        let actions = audit_actions(db, &acme);
        assert!(actions.iter().filter(|(a, _)| a == "okta_sso.saved").count() >= 3, "{actions:?}");
        assert!(actions.iter().any(|(a, actor)| a == "okta_sso.deleted" && actor.starts_with("employee:")));
    }

    fn scim_tokens_are_shown_once_and_can_be_revoked_and_rotated(db) {
        let gw = start(db);
        let acme = acme(db, true);
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let verify = |token: &str| {
            ScimTokens::new(db.scim_tokens(&Actor::system()))
                .verify(&(&acme.id).into(), token, chrono::Utc::now())
                .is_ok()
        };
        let (status, listed) = admin.get(TOKENS_API);
        assert_eq!(status, 200);
        assert_eq!(listed["scim_base_url"], format!("http://acme.localhost:{}/scim/v2", 8081));
        assert_eq!(listed["tokens"], json!([]));

        let (status, minted) = admin.json(reqwest::Method::POST, TOKENS_API, &json!({"label": "Okta production"}));
        assert_eq!(status, 201, "{minted}");
        let first = minted["token"].as_str().unwrap().to_owned();
        let (_, listed) = admin.get(TOKENS_API);
        let row = &listed["tokens"][0];
        assert_eq!((row["label"].as_str(), row["created_by"].as_str(), row["status"].as_str()), (Some("Okta production"), Some("admin@acme.com"), Some("active")));
        assert!(row["last_used_at"].is_null(), "{row}");
        assert!(!listed.to_string().contains(&first), "listed without the secret");
        assert!(first.starts_with("spark_scim_") && verify(&first));
        let (_, listed) = admin.get(TOKENS_API);
        assert!(listed["tokens"][0]["last_used_at"].is_string(), "used once: {listed}");

        // Rotate: a new token; the old one stops working at once.
        let id = minted["id"].as_str().unwrap().to_owned();
        let (status, rotated) = admin.json(reqwest::Method::POST, &format!("{TOKENS_API}/{id}/rotate"), &json!({}));
        assert_eq!(status, 201);
        let second = rotated["token"].as_str().unwrap().to_owned();
        assert!(verify(&second) && !verify(&first));
        let (status, answer) = admin.json(reqwest::Method::POST, &format!("{TOKENS_API}/{id}/rotate"), &json!({}));
        assert_eq!((status, answer["error"].as_str()), (409, Some("SCIM_TOKEN_REVOKED")));
        // Revoke.
        let second_id = rotated["id"].as_str().unwrap().to_owned();
        let (status, revoked) = parse(admin.api(reqwest::Method::DELETE, &format!("{TOKENS_API}/{second_id}")).send().unwrap());
        assert_eq!((status, revoked["status"].as_str()), (200, Some("revoked")));
        assert!(!verify(&second));
        // Unknown ids, another workspace's token, a bad label.
        let globex = workspace(db, "globex", true);
        let foreign = ScimTokens::new(db.scim_tokens(&Actor::system()))
            .mint(&(&globex.id).into(), "theirs", "test", chrono::Utc::now())
            .unwrap();
        for id in ["nope", foreign.record.id.as_str(), &"f".repeat(500)] {
            let (status, answer) = parse(admin.api(reqwest::Method::DELETE, &format!("{TOKENS_API}/{id}")).send().unwrap());
            assert_eq!((status, answer["error"].as_str()), (404, Some("SCIM_TOKEN_NOT_FOUND")), "{id}");
        }
        assert!(ScimTokens::new(db.scim_tokens(&Actor::system())).verify(&(&globex.id).into(), foreign.token.expose_secret(), chrono::Utc::now()).is_ok());
        let (status, answer) = admin.json(reqwest::Method::POST, TOKENS_API, &json!({"label": "x".repeat(101)}));
        assert_eq!((status, answer["error"].as_str(), answer["field"].as_str()), (400, Some("SCIM_TOKEN_LABEL_INVALID"), Some("label")));

        // The page: a generated token appears in that response only.
        let response = admin.form(PAGES[2], &[("action", "mint"), ("label", "From the page")]);
        assert_eq!(response.status(), 200);
        let page = response.text().unwrap();
        let marker = "id=\"new-token-value\" value=\"";
        let start = page.find(marker).unwrap() + marker.len();
        let shown = &page[start..start + page[start..].find('"').unwrap()];
        assert!(verify(shown), "the page shows a working token");
        assert!(page.contains("only time the token is shown"));
        let again = admin.client.get(gw.url("acme", PAGES[2])).send().unwrap().text().unwrap();
        assert!(!again.contains(shown), "never shown again");
        assert!(again.contains("<td data-label=\"Label\">From the page</td>"), "{again}");
        assert!(again.contains(&format!("http://acme.localhost:{}/scim/v2", 8081)));

        // Disconnected: no new tokens, but revoking still works.
        db.okta_integrations().disconnect(&acme, &Actor::operator("test")).unwrap();
        let (status, answer) = admin.json(reqwest::Method::POST, TOKENS_API, &json!({}));
        assert_eq!((status, answer["error"].as_str()), (409, Some("OKTA_NOT_CONNECTED")));
        let listed = admin.get(TOKENS_API).1;
        let live_id = listed["tokens"].as_array().unwrap().iter().find(|t| t["status"] == "active").unwrap()["id"].as_str().unwrap().to_owned();
        let (status, _) = parse(admin.api(reqwest::Method::DELETE, &format!("{TOKENS_API}/{live_id}")).send().unwrap());
        assert_eq!(status, 200);

        let actions: Vec<String> = audit_actions(db, &acme).into_iter().map(|(a, _)| a).collect();
        for action in ["scim_token.minted", "scim_token.rotated", "scim_token.revoked"] {
            assert!(actions.iter().any(|a| a == action), "{action}: {actions:?}");
        }
    }

    fn every_page_and_answer_sends_the_security_headers(db) {
        let gw = start(db);
        let acme = acme(db, true);
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let (employee, _) = signed_in_browser(&gw, &acme, "ada@acme.com");
        let auth_origin = gw.origin("auth");
        let mut responses = vec![
            gw.browser().get(gw.url("acme", "/login")).send().unwrap(),
            gw.browser().get(gw.url("acme", PAGES[0])).send().unwrap(),
            gw.browser().get(gw.url("acme", "/no-such-page")).send().unwrap(),
            employee.get(gw.url("acme", PAGES[1])).send().unwrap(),
            admin.client.get(gw.url("acme", "/")).send().unwrap(),
            admin.client.post(gw.url("acme", PAGES[0])).form(&[("action", "connect")]).send().unwrap(),
            admin.form(PAGES[1], &[("action", "save"), ("org_url", "https://acme-admin.okta.com")]),
            admin.form(PAGES[2], &[("action", "mint"), ("label", "headers")]),
            admin.api(reqwest::Method::GET, TOKENS_API).send().unwrap(),
            admin.api(reqwest::Method::POST, TOKENS_API).body("{").send().unwrap(),
        ];
        for page in PAGES {
            responses.push(admin.client.get(gw.url("acme", page)).send().unwrap());
        }
        for response in &responses {
            assert_security_headers(response, &auth_origin);
        }
        let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(statuses, [200, 303, 404, 403, 200, 403, 400, 200, 200, 400, 200, 200, 200]);
    }

    fn the_setup_guide_names_every_button_and_address(db) {
        let gw = start(db);
        let acme = acme(db, false);
        let op = Op::start(&Gateway::callback_uri(gw.addr.port()));
        let admin = AdminBrowser::sign_in(&gw, &acme, "admin@acme.com");
        let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/okta-setup.md")).unwrap();
        let mut pages = Vec::new();
        let mut page = |path: &str| pages.push(admin.client.get(gw.url("acme", path)).send().unwrap().text().unwrap());
        page(PAGES[0]);
        db.okta_integrations().activate(&acme, &Actor::operator("spark-team")).unwrap();
        page(PAGES[0]);
        db.okta_integrations().connect(&acme, &Actor::operator("test")).unwrap();
        crate::common::configure_sso(db, &acme, &op.issuer, CLIENT_SECRET);
        admin.json(reqwest::Method::POST, TOKENS_API, &json!({}));
        for path in PAGES {
            page(path);
        }
        // Every button and button-styled link the admin can press, by its label.
        let mut labels = std::collections::BTreeSet::new();
        for html in &pages {
            for (end, _) in html.match_indices("</button>").chain(html.match_indices("</a>")) {
                let start = html[..end].rfind('>').unwrap() + 1;
                let tag_start = html[..start].rfind('<').unwrap();
                let is_button = html[tag_start..].starts_with("<button") || html[tag_start..start].contains("class=\"button\"");
                if is_button {
                    labels.insert(html[start..end].to_owned());
                }
            }
        }
        labels.remove("Sign out");
        assert!(labels.len() >= 10, "{labels:?}");
        let missing: Vec<_> = labels.iter().filter(|l| !guide.contains(&format!("**{l}**"))).collect();
        assert!(missing.is_empty(), "docs/okta-setup.md does not name these buttons: {missing:?}");
        for fixed in [
            "https://auth.spark.work/api/OktaAuth/callback",
            "https://auth.spark.work/api/OktaAuth/initiate",
            "https://{workspace}.spark.work/scim/v2",
            "https://{workspace}.spark.work/marketplace/integrations",
            "https://{workspace}.spark.work/admin/domain/integrations/authentication",
            "https://{workspace}.spark.work/my-settings/integrations/okta-scim",
            MARKETPLACE_API, SSO_API, TOKENS_API,
        ] {
            assert!(guide.contains(fixed), "docs/okta-setup.md lacks {fixed}");
        }
    }
}
