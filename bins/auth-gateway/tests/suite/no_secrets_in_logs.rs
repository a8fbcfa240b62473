//! No secret ever reaches a log line. Both services run in-process with the JSON logging
//! of production (`web_runtime`'s format, at `debug` — more than production logs)
//! captured in memory, while everything that handles a secret happens: sign-in links,
//! sessions and CSRF tokens, saving the Okta client secret (and a wrong one), SCIM
//! tokens minted, used, mistyped, rotated, an Okta sign-in with its code, state and
//! hand-off. Then no captured line may contain any of those values.
//!
//! Its own test binary: the log subscriber is process-wide.

use std::io::Write;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::common::{
    CLIENT_ID, CLIENT_SECRET, Gateway, KEY, Op, ScimApi, employees, location, me,
    sign_in_at_provider, signed_in_browser, workspace,
};
use persistence::backend_tests;
use persistence::testing::TestDatabase;
use serde_json::json;

/// Every byte the services logged.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn captured() -> Captured {
    static LOGS: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        web_runtime::init_logging_with("tests", "debug", move || writer.clone());
        logs
    })
    .clone()
}

/// The value of `name` in a URL's query.
fn param(url: &str, name: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .unwrap_or_else(|| panic!("no {name} in {url}"))
        .1
        .into_owned()
}

fn exercise_every_secret(db: &TestDatabase) -> Vec<String> {
    let scim_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let gw = Gateway::start_configured(
        db,
        Gateway::bind(),
        true,
        &[(
            "SPARK__PUBLIC__SCIM_PORT",
            scim_listener.local_addr().unwrap().port().to_string(),
        )],
    );
    let scim = ScimApi::start(db, scim_listener);
    let op = Op::start(&Gateway::callback_uri(gw.addr.port()));
    let acme = workspace(db, "acme", true);
    employees(
        db,
        &acme,
        &[("admin@acme.com", true), ("ada@acme.com", true)],
    );
    let mut secrets = vec![CLIENT_SECRET.to_owned(), KEY.to_owned()];

    // An admin session from a sign-in link; its CSRF token.
    let link = crate::common::login_link(db, &acme, "admin@acme.com");
    secrets.push(param(&format!("http://x{link}"), "token"));
    let browser = gw.browser();
    let response = crate::common::use_login_link(&browser, &gw, "acme", &link);
    assert_eq!(location(&response), "/");
    secrets.push(crate::common::session_cookie(&response));
    let csrf = me(&browser, &gw, "acme").1["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    secrets.push(csrf.clone());
    let api = |method: reqwest::Method, path: &str, body: serde_json::Value| {
        browser
            .request(method, gw.url("acme", path))
            .header("origin", gw.origin("acme"))
            .header("x-csrf-token", &csrf)
            .json(&body)
            .send()
            .unwrap()
    };

    // The client secret: refused with a bad org URL, then saved; a wrong CSRF token.
    let wrong_secret = "wrong-client-secret-do-not-log-4242";
    secrets.push(wrong_secret.to_owned());
    let sso = "/api/admin/integrations/okta/sso";
    let refused = api(
        reqwest::Method::PUT,
        sso,
        json!({"org_url": "https://acme-admin.okta.com", "client_id": CLIENT_ID, "client_secret": wrong_secret}),
    );
    assert_eq!(refused.status(), 400);
    let saved = api(
        reqwest::Method::PUT,
        sso,
        json!({"org_url": op.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    );
    assert_eq!(saved.status(), 200);
    let forged_csrf = "forged-csrf-token-do-not-log-0000000000000000";
    secrets.push(forged_csrf.to_owned());
    let forged = browser
        .delete(gw.url("acme", sso))
        .header("x-csrf-token", forged_csrf)
        .send()
        .unwrap();
    assert_eq!(forged.status(), 403);

    // SCIM tokens: minted, used, mistyped, rotated.
    let tokens = "/api/my-settings/integrations/okta-scim/tokens";
    let minted: serde_json::Value = api(reqwest::Method::POST, tokens, json!({"label": "Okta"}))
        .json()
        .unwrap();
    let token = minted["token"].as_str().unwrap().to_owned();
    secrets.push(token.clone());
    let okta = reqwest::blocking::Client::builder()
        .resolve("acme.localhost", scim.addr)
        .build()
        .unwrap();
    let scim_url = format!("http://acme.localhost:{}/scim/v2/Users", scim.addr.port());
    let listed = okta.get(&scim_url).bearer_auth(&token).send().unwrap();
    assert_eq!(listed.status(), 200);
    // The last character changed (to one it is not).
    let last = if token.ends_with('x') { 'y' } else { 'x' };
    let mistyped = format!("{}{last}", &token[..token.len() - 1]);
    secrets.push(mistyped.clone());
    let refused = okta.get(&scim_url).bearer_auth(&mistyped).send().unwrap();
    assert_eq!(refused.status(), 401);
    let rotated: serde_json::Value = api(
        reqwest::Method::POST,
        &format!("{tokens}/{}/rotate", minted["id"].as_str().unwrap()),
        json!({}),
    )
    .json()
    .unwrap();
    secrets.push(rotated["token"].as_str().unwrap().to_owned());
    let revoked = okta.get(&scim_url).bearer_auth(&token).send().unwrap();
    assert_eq!(revoked.status(), 401);

    // An Okta sign-in: the authorization code and state, the hand-off, the session.
    let employee = gw.browser();
    let authorize =
        crate::common::authorize_url(&employee, &op, &gw.url("acme", "/api/OktaAuth/start"));
    let login = url::Url::parse(&authorize).unwrap();
    for secret in ["nonce", "state"] {
        let value = login.query_pairs().find(|(k, _)| k == secret).unwrap().1;
        secrets.push(value.into_owned());
    }
    let callback = sign_in_at_provider(&employee, &op, &authorize, "ada@acme.com");
    secrets.push(param(&callback, "code"));
    secrets.push(param(&callback, "state"));
    let handed = employee.get(&callback).send().unwrap();
    let handoff = location(&handed);
    secrets.push(param(&handoff, "handoff"));
    let session = employee.get(&handoff).send().unwrap();
    secrets.push(crate::common::session_cookie(&session));
    assert_eq!(me(&employee, &gw, "acme").1["email"], "ada@acme.com");
    // Replays of used codes are refused (and logged as refusals).
    assert_eq!(employee.get(&handoff).send().unwrap().status(), 400);
    let (_, _) = signed_in_browser(&gw, &acme, "ada@acme.com");

    drop(scim);
    drop(gw);
    secrets
}

backend_tests! {
    fn no_log_line_contains_a_secret(db) {
        let logs = captured();
        let secrets = exercise_every_secret(db);
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        // The capture is real: requests of both services were logged, refusals included.
        assert!(text.contains("\"message\":\"answered\""), "nothing captured");
        assert!(text.contains("\"path\":\"/scim/v2/Users\""), "scim-api not captured");
        assert!(text.contains("\"code\":\"CSRF_REJECTED\""), "refusals not captured");
        for secret in &secrets {
            assert!(secret.len() >= 16, "not a secret: {secret}");
            let line = text.lines().find(|line| line.contains(secret.as_str()));
            assert!(line.is_none(), "a log line contains a secret: {line:?}");
        }
    }
}

/// The real binary, as an operator runs it, with the PostgreSQL password given the way
/// libpq also takes it: as a query parameter of `DATABASE_URL`. Neither `migrate`'s
/// output nor `serve`'s start-up log shows it.
#[test]
#[ignore = "needs PostgreSQL"]
fn a_database_password_in_the_url_query_is_redacted_on_postgres() {
    use std::io::BufRead as _;
    use std::process::{Command, Stdio};
    let db = TestDatabase::new(persistence::Backend::Postgres);
    // Trust authentication here: the server ignores the password, the output must not.
    let canary = "pw-in-the-query-7c1e";
    let url = format!("{}?sslmode=disable&password={canary}", db.database_url());
    let run = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_auth-gateway"));
        command
            .args(args)
            .env("DATABASE_URL", &url)
            .env("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true")
            .env("SPARK__SECRETS__ENCRYPTION_KEY", KEY)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let migrated = run(&["migrate"]).output().unwrap();
    let printed = String::from_utf8_lossy(&migrated.stdout).into_owned()
        + &String::from_utf8_lossy(&migrated.stderr);
    assert!(migrated.status.success(), "{printed}");
    assert!(
        printed.contains("password=***") && !printed.contains(canary),
        "{printed}"
    );

    let mut served = run(&["serve", "--bind", "127.0.0.1:0"]).spawn().unwrap();
    let stdout = served.stdout.take().unwrap();
    let mut logged = String::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        logged.push_str(&line);
        logged.push('\n');
        if line.contains("listening") {
            break;
        }
    }
    let _ = served.kill();
    let _ = served.wait();
    assert!(logged.contains("password=***"), "{logged}");
    assert!(!logged.contains(canary), "{logged}");
}
