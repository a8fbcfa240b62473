//! The admin's whole set-up in a real headless Chromium: sign in through a sign-in link
//! (what `sparkctl login-link` prints), find Okta in the Marketplace and connect it,
//! enter SSO settings (the `-admin` URL first, refused next to its field), test the
//! connection against the real OpenID Provider, save, generate a SCIM token and see it
//! once — then that token lists employees on the real scim-api, at the base URL the page
//! shows. An employee without the admin role is refused, and a forged cross-site form
//! post changes nothing. Every page is also checked at phone width (no sideways
//! scrolling) and for labelled inputs.
//!
//! Real-time sign-out is set up the same way: the SSO page shows the Universal Logout
//! URL to copy, makes Spark's key and shows its public key, takes the service app's
//! Client ID, and its Test gets a token from the real provider with that key.
//!
//! Screenshots of each page, desktop and phone, are saved under
//! `target/screenshots/admin-{backend}/` as test artefacts.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "suite/common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::webdriver::Chromium;
use common::{
    CLIENT_ID, CLIENT_SECRET, Gateway, Op, ScimApi, configure_sso, employees, login_link, workspace,
};
use persistence::testing::TestDatabase;
use persistence::{Actor, backend_tests};

const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 900);

/// Another site (`evil.localhost`) whose page posts a hidden form to the workspace's
/// Marketplace as soon as it loads. Serves that page to every request, on a thread.
fn forging_site(target: &str) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let page = format!(
        "<!doctype html><html><body><form id=\"f\" method=\"post\" action=\"{target}\">\
         <input type=\"hidden\" name=\"action\" value=\"disconnect\"></form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    );
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    addr
}

fn screenshots(db: &TestDatabase) -> PathBuf {
    let backend = format!("{:?}", db.db().backend()).to_lowercase();
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/screenshots")
        .join(format!("admin-{backend}"))
}

/// Waits until the browser shows a page whose address satisfies `done`.
fn wait_for_url(chrome: &Chromium, done: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let url = chrome.url();
        if done(&url) {
            return url;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "still at {url}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Checks the page at desktop and phone width and saves both screenshots.
fn check_layout(chrome: &Chromium, dir: &std::path::Path, name: &str) {
    let unlabelled = chrome.script(
        "return [...document.querySelectorAll('input:not([type=hidden]), textarea')]\
         .filter(e => e.labels.length === 0).map(e => e.outerHTML);",
    );
    assert_eq!(
        unlabelled,
        serde_json::json!([]),
        "inputs without a label on {name}"
    );
    chrome.screenshot(dir, &format!("{name}-desktop"));
    chrome.resize(PHONE.0, PHONE.1);
    let overflow = chrome.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    let widest = chrome.script(
        "const w = document.documentElement.clientWidth;\
         return [...document.querySelectorAll('body *')]\
         .filter(e => e.getBoundingClientRect().right > w && e.children.length === 0)\
         .map(e => e.outerHTML.slice(0, 160));",
    );
    assert!(
        overflow.as_i64().unwrap() <= 0,
        "{name} scrolls sideways on a phone by {overflow}px; too wide: {widest}"
    );
    chrome.screenshot(dir, &format!("{name}-phone"));
    chrome.resize(DESKTOP.0, DESKTOP.1);
}

backend_tests! {
    fn an_admin_sets_up_okta_in_a_real_browser(db) {
        let scim_listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let scim_port = scim_listener.local_addr().unwrap().port();
        let gw = Gateway::start_configured(
            db,
            Gateway::bind(),
            true,
            &[("SPARK__PUBLIC__SCIM_PORT", scim_port.to_string())],
        );
        let scim = ScimApi::start(db, scim_listener);
        let op = Op::start(&Gateway::callback_uri(gw.addr.port()));
        let acme = workspace(db, "acme", false);
        db.okta_integrations().activate(&acme, &Actor::operator("spark-team")).unwrap();
        employees(db, &acme, &[("admin@acme.com", true), ("ada@acme.com", true)]);
        let shots = screenshots(db);
        let chrome = Chromium::start(DESKTOP.0, DESKTOP.1);

        // Signed in through a sign-in link, the admin lands on the workspace's home.
        chrome.goto(&gw.url("acme", &login_link(db, &acme, "admin@acme.com")));
        check_layout(&chrome, &shots, "0-sign-in-link");
        chrome.click_to_load(&chrome.element("#use-login-link"));
        assert_eq!(chrome.url(), gw.url("acme", "/"));
        assert!(chrome.text(&chrome.element("#signed-in")).contains("admin@acme.com"));
        chrome.click_to_load(&chrome.element("a[href='/marketplace/integrations']"));

        // Marketplace: Okta is available; Connect.
        assert_eq!(chrome.text(&chrome.element("#okta-status")), "Available");
        check_layout(&chrome, &shots, "1-marketplace-available");
        chrome.click_to_load(&chrome.element("#integration-okta button[type=submit]"));
        assert_eq!(chrome.text(&chrome.element("#okta-status")), "Connected");
        assert!(chrome.text(&chrome.element("#notice")).contains("Okta is connected"));
        assert!(db.okta_integrations().get(&acme.id).unwrap().is_live());
        check_layout(&chrome, &shots, "2-marketplace-connected");

        // SSO settings: the -admin URL is refused next to its field, naming the right one.
        chrome.click_to_load(&chrome.element("nav a[href='/admin/domain/integrations/authentication']"));
        assert_eq!(
            chrome.property(&chrome.element("#redirect-uri"), "value"),
            Gateway::callback_uri(gw.addr.port()).as_str()
        );
        assert_eq!(
            chrome.property(&chrome.element("#initiate-login-uri"), "value"),
            gw.url("auth", "/api/OktaAuth/initiate").as_str()
        );
        chrome.fill(&chrome.element("#org_url"), "https://acme-admin.okta.com");
        chrome.fill(&chrome.element("#client_id"), CLIENT_ID);
        chrome.fill(&chrome.element("#client_secret"), CLIENT_SECRET);
        chrome.click_to_load(&chrome.element("#save"));
        let error = chrome.text(&chrome.element("#org_url-error"));
        assert!(error.contains("https://acme.okta.com") && error.contains("OKTA_ORG_URL_ADMIN"), "{error}");
        assert_eq!(chrome.property(&chrome.element("#org_url"), "value"), "https://acme-admin.okta.com");
        assert!(db.okta_sso_configs().get(&acme.id).unwrap().is_none());
        check_layout(&chrome, &shots, "3-sso-admin-url-refused");

        // Test connection against the OpenID Provider, then Save.
        chrome.fill(&chrome.element("#org_url"), &op.issuer);
        chrome.click_to_load(&chrome.element("#test-connection"));
        let tested = chrome.text(&chrome.element("#test-result"));
        assert!(tested.contains("Connection works") && tested.contains(&op.issuer), "{tested}");
        check_layout(&chrome, &shots, "4-sso-connection-tested");
        chrome.fill(&chrome.element("#client_secret"), CLIENT_SECRET);
        chrome.click_to_load(&chrome.element("#save"));
        assert!(chrome.text(&chrome.element("#notice")).contains("Saved"));
        assert!(chrome.text(&chrome.element("#sso-state")).contains("active"));
        assert!(!chrome.source().contains(CLIENT_SECRET), "the secret is never shown");
        assert_eq!(db.okta_sso_configs().get(&acme.id).unwrap().unwrap().org_url, op.issuer);
        check_layout(&chrome, &shots, "5-sso-saved");

        // SCIM tokens: generate one; it is shown once.
        chrome.click_to_load(&chrome.element("nav a[href='/my-settings/integrations/okta-scim']"));
        let base_url = chrome.property(&chrome.element("#scim-base-url"), "value");
        let base_url = base_url.as_str().unwrap().to_owned();
        assert_eq!(base_url, format!("http://acme.localhost:{scim_port}/scim/v2"));
        chrome.fill(&chrome.element("#label"), "Okta production");
        chrome.click_to_load(&chrome.element("#generate-token"));
        let token = chrome.property(&chrome.element("#new-token-value"), "value");
        let token = token.as_str().unwrap().to_owned();
        assert!(token.starts_with("spark_scim_"), "{token}");
        assert!(chrome.text(&chrome.element("#new-token")).contains("only time the token is shown"));
        check_layout(&chrome, &shots, "6-scim-token-shown-once");
        chrome.goto(&gw.url("acme", "/my-settings/integrations/okta-scim"));
        assert!(!chrome.source().contains(&token), "shown once only");
        assert!(chrome.text(&chrome.element("#tokens")).contains("Okta production"));
        check_layout(&chrome, &shots, "7-scim-token-list");

        // That token, at that base URL, lists the workspace's employees on scim-api.
        let okta = reqwest::blocking::Client::builder()
            .resolve("acme.localhost", scim.addr)
            .build()
            .unwrap();
        let users: serde_json::Value = okta
            .get(format!("{base_url}/Users"))
            .bearer_auth(&token)
            .send()
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(users["totalResults"], 2, "{users}");
        let names: Vec<&str> = users["Resources"].as_array().unwrap().iter().map(|u| u["userName"].as_str().unwrap()).collect();
        assert!(names.contains(&"admin@acme.com") && names.contains(&"ada@acme.com"), "{names:?}");

        // A page on another site posts a forged form to the Marketplace: nothing changes.
        let evil = forging_site(&gw.url("acme", "/marketplace/integrations"));
        chrome.goto(&format!("http://evil.localhost:{}/", evil.port()));
        let landed = wait_for_url(&chrome, |url| url.starts_with(&gw.origin("acme")));
        assert!(!landed.contains("done=disconnected"), "{landed}");
        assert!(db.okta_integrations().get(&acme.id).unwrap().is_live(), "still connected");

        // An employee without the admin role is refused.
        chrome.goto(&gw.url("acme", "/"));
        chrome.delete_cookies();
        chrome.goto(&gw.url("acme", &login_link(db, &acme, "ada@acme.com")));
        chrome.click_to_load(&chrome.element("#use-login-link"));
        chrome.goto(&gw.url("acme", "/marketplace/integrations"));
        assert_eq!(chrome.text(&chrome.element("#error-code")), "ADMIN_REQUIRED");
        check_layout(&chrome, &shots, "8-employee-refused");
        drop(chrome);
        drop(scim);
    }

    fn an_admin_sets_up_real_time_sign_out_in_a_real_browser(db) {
        let gw = Gateway::start(db, Gateway::bind());
        let acme = workspace(db, "acme", true);
        employees(db, &acme, &[("admin@acme.com", true)]);
        let shots = screenshots(db);
        let chrome = Chromium::start(DESKTOP.0, DESKTOP.1);
        chrome.goto(&gw.url("acme", &login_link(db, &acme, "admin@acme.com")));
        chrome.click_to_load(&chrome.element("#use-login-link"));
        chrome.goto(&gw.url("acme", "/admin/domain/integrations/authentication"));
        assert_eq!(
            chrome.property(&chrome.element("#universal-logout-uri"), "value"),
            gw.url("auth", "/api/OktaAuth/universal-logout").as_str()
        );
        assert!(chrome.text(&chrome.element("#revocations-empty")).contains("No deactivation"));

        // Generate key: the public key is shown, never the private one.
        chrome.click_to_load(&chrome.element("#real-time-sign-out form button"));
        assert!(chrome.text(&chrome.element("#notice")).contains("new key"));
        let public = chrome.property(&chrome.element("#service-public-key"), "value");
        let public: serde_json::Value = serde_json::from_str(public.as_str().unwrap()).unwrap();
        assert_eq!((public["kty"].as_str(), public["alg"].as_str()), (Some("RSA"), Some("RS256")));
        assert!(!chrome.source().contains("PRIVATE KEY"));
        check_layout(&chrome, &shots, "9-real-time-sign-out-key");

        // The org knows that key for its service app; the admin enters the Client ID and
        // tests it.
        let service = serde_json::json!({"client_id": "0oa-service", "jwks": {"keys": [public]}});
        let op = Op::start_with(&Gateway::callback_uri(gw.addr.port()), &["--service-client", &service.to_string()]);
        configure_sso(db, &acme, &op.issuer, CLIENT_SECRET);
        chrome.goto(&gw.url("acme", "/admin/domain/integrations/authentication"));
        chrome.fill(&chrome.element("#service_client_id"), "0oa-service");
        chrome.click_to_load(&chrome.element("#save-service-app"));
        assert!(chrome.text(&chrome.element("#notice")).contains("Saved"));
        chrome.click_to_load(&chrome.element("#test-service-app"));
        let tested = chrome.text(&chrome.element("#sign-out-test-result"));
        assert!(tested.contains("works"), "{tested}");
        check_layout(&chrome, &shots, "10-real-time-sign-out-tested");

        // A wrong Client ID: Test says so, with Okta's code.
        chrome.fill(&chrome.element("#service_client_id"), "0oa-nobody");
        chrome.click_to_load(&chrome.element("#save-service-app"));
        chrome.click_to_load(&chrome.element("#test-service-app"));
        let refused = chrome.text(&chrome.element("#sign-out-test-result"));
        assert!(refused.contains("OKTA_SERVICE_CLIENT_INVALID") && refused.contains("invalid_client"), "{refused}");
        drop(chrome);
    }
}
