//! The real auth-gateway, serving on a free loopback port from a fresh database; the real
//! OpenID Provider of `testing/oidc-provider` (configured like an Okta org, started the
//! way oidc-client's tests start it); and a browser — a reqwest client that keeps cookies
//! per host, follows no redirect on its own, and reaches `auth.localhost`,
//! `acme.localhost`, … without DNS.
//!
//! The provider needs Node.js and `npm ci` in `testing/oidc-provider` (`cargo xtask test`
//! does it); without them the tests that sign in through Okta fail and say so.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod webdriver;

use std::net::{SocketAddr, TcpListener};

use oidc_client::testing::TestProvider;
use persistence::testing::TestDatabase;
use persistence::{Actor, Change, EmployeeInput, OktaSsoConfigInput, Role, Tenant, Workspace};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use token_store::sealed::{EncryptionKey, KeyRing, SecretText};

pub const KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";
pub const CLIENT_ID: &str = "0oa-spark-gateway-test";
pub const CLIENT_SECRET: &str = "gateway-test-client-secret-0123456789";
pub const WORKSPACES: [&str; 4] = ["acme", "globex", "initech", "nowhere"];

/// The gateway, running in its own actix system on a thread.
pub struct Gateway<'db> {
    pub db: &'db TestDatabase,
    pub addr: SocketAddr,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<'db> Gateway<'db> {
    /// Binds a free port first: the provider needs the callback URL, which names it.
    pub fn bind() -> TcpListener {
        TcpListener::bind("127.0.0.1:0").unwrap()
    }

    pub fn start(db: &'db TestDatabase, listener: TcpListener) -> Self {
        Self::start_with(db, listener, true)
    }

    /// `allow_insecure_http` off: `Secure` cookies (and https-only issuers).
    pub fn start_with(db: &'db TestDatabase, listener: TcpListener, insecure: bool) -> Self {
        Self::start_configured(db, listener, insecure, &[])
    }

    /// With further settings as environment variables (`SPARK__…`).
    pub fn start_configured(
        db: &'db TestDatabase,
        listener: TcpListener,
        insecure: bool,
        extra: &[(&str, String)],
    ) -> Self {
        Self::start_on(db, db.db().clone(), listener, insecure, extra)
    }

    /// On `database` — a pool of the caller's making, e.g. one that reaches the test
    /// database through a proxy — with the settings of [`Gateway::start_configured`].
    pub fn start_on(
        db: &'db TestDatabase,
        database: persistence::Database,
        listener: TcpListener,
        insecure: bool,
        extra: &[(&str, String)],
    ) -> Self {
        Self::start_running(
            db,
            database,
            listener,
            insecure,
            extra,
            web_runtime::Lifecycle::default(),
        )
    }

    /// [`Gateway::start_on`] with `lifecycle`, to begin its shutdown as SIGTERM would.
    pub fn start_running(
        db: &'db TestDatabase,
        database: persistence::Database,
        listener: TcpListener,
        insecure: bool,
        extra: &[(&str, String)],
        lifecycle: web_runtime::Lifecycle,
    ) -> Self {
        let addr = listener.local_addr().unwrap();
        let env: Vec<(String, String)> = [
            ("DATABASE_URL", db.database_url().to_owned()),
            ("SPARK__PUBLIC__AUTH_PORT", addr.port().to_string()),
            ("SPARK__SECURITY__ALLOW_INSECURE_HTTP", insecure.to_string()),
            ("SPARK__SECRETS__ENCRYPTION_KEY", KEY.to_owned()),
        ]
        .into_iter()
        .chain(extra.iter().cloned())
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let settings = settings::Settings::from_sources(None, &env).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server =
                    auth_gateway::serve_with(listener, database, settings, lifecycle).unwrap();
                sender.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = receiver.recv().unwrap();
        Gateway {
            db,
            addr,
            handle,
            thread: Some(thread),
        }
    }

    /// The server's handle (to stop it, or begin its shutdown).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.handle.clone()
    }

    /// `http://{host}.localhost:{port}{path}`.
    pub fn url(&self, host: &str, path: &str) -> String {
        format!("http://{host}.localhost:{}{path}", self.addr.port())
    }

    pub fn origin(&self, host: &str) -> String {
        self.url(host, "")
    }

    /// `/metrics`, on the gateway's address itself (the public hosts do not serve it).
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    pub fn callback_uri(port: u16) -> String {
        format!("http://auth.localhost:{port}/api/OktaAuth/callback")
    }

    /// A fresh browser (its own cookie jar).
    pub fn browser(&self) -> Client {
        let mut builder = Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .resolve("auth.localhost", self.addr);
        for ws in WORKSPACES {
            builder = builder.resolve(&format!("{ws}.localhost"), self.addr);
        }
        builder.build().unwrap()
    }

    /// A client without cookies, for handcrafted requests.
    pub fn bare_client(&self) -> Client {
        let mut builder = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
            .resolve("auth.localhost", self.addr);
        for ws in WORKSPACES {
            builder = builder.resolve(&format!("{ws}.localhost"), self.addr);
        }
        builder.build().unwrap()
    }
}

impl Drop for Gateway<'_> {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A running test OpenID Provider, killed when dropped.
pub struct Op {
    _provider: TestProvider,
    pub issuer: String,
}

impl Op {
    /// Starts `provider.js` with one client whose redirect URI is the gateway's callback.
    pub fn start(redirect_uri: &str) -> Op {
        Op::start_with(redirect_uri, &[])
    }

    /// [`Op::start`] with further `provider.js` options (e.g. `--users JSON`).
    pub fn start_with(redirect_uri: &str, extra: &[&str]) -> Op {
        let provider = TestProvider::start(CLIENT_ID, CLIENT_SECRET, redirect_uri, extra);
        Op {
            issuer: provider.issuer.clone(),
            _provider: provider,
        }
    }
}

impl Op {
    /// `count` Universal Logout tokens the org signs as Okta does, for the endpoint `aud`,
    /// with `overrides` (claims, `typ`, `"key": "foreign"`: see provider.js).
    pub fn logout_tokens(&self, aud: &str, count: usize, overrides: Value) -> Vec<String> {
        let mut request = serde_json::json!({ "aud": aud, "count": count });
        if let (Some(request), Value::Object(overrides)) = (request.as_object_mut(), overrides) {
            request.extend(overrides);
        }
        let answer: Value = Client::new()
            .post(format!("{}/test/universal-logout-tokens", self.issuer))
            .json(&request)
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect()
    }

    /// One Universal Logout token for the gateway's endpoint, with `overrides`.
    pub fn logout_token(&self, gw: &Gateway, overrides: Value) -> String {
        let aud = gw.url("auth", "/api/OktaAuth/universal-logout");
        self.logout_tokens(&aud, 1, overrides).remove(0)
    }
}

/// Posts a Universal Logout request to the gateway as Okta does: the bearer token (none
/// when `token` is `None`) and the JSON `body`; the status and JSON answer.
pub fn universal_logout(gw: &Gateway, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = gw
        .bare_client()
        .post(gw.url("auth", "/api/OktaAuth/universal-logout"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    parse(request.send().unwrap())
}

/// A Universal Logout body naming the Okta user `sub` of `iss`.
pub fn iss_sub(iss: &str, sub: &str) -> String {
    serde_json::json!({"subject": {"format": "iss_sub", "iss": iss, "sub": sub}}).to_string()
}

/// A Universal Logout body naming an email.
pub fn email_subject(email: &str) -> String {
    serde_json::json!({"subject": {"format": "email", "email": email}}).to_string()
}

/// A workspace with the Okta integration activated and connected (when `live`).
pub fn workspace(db: &TestDatabase, slug: &str, live: bool) -> Tenant {
    let actor = Actor::operator("test");
    let tenant = db
        .tenants()
        .create(
            &Workspace::parse(slug).unwrap(),
            &format!("{slug} Inc"),
            &actor,
        )
        .unwrap();
    if live {
        db.okta_integrations().activate(&tenant, &actor).unwrap();
        db.okta_integrations().connect(&tenant, &actor).unwrap();
    }
    tenant
}

/// Saves the tenant's Okta SSO configuration, the secret sealed as sparkctl seals it.
pub fn configure_sso(db: &TestDatabase, tenant: &Tenant, issuer: &str, secret: &str) {
    let ring = KeyRing::new(EncryptionKey::from_base64(KEY).unwrap());
    let sealed = ring
        .seal(
            &SecretText::new(secret),
            &persistence::secret_context(&tenant.id, issuer, CLIENT_ID),
        )
        .unwrap();
    db.okta_sso_configs()
        .upsert(
            &tenant.id,
            &OktaSsoConfigInput {
                org_url: issuer.to_owned(),
                client_id: CLIENT_ID.to_owned(),
                client_secret: sealed,
                approve_custom_domain: false,
            },
            &Actor::operator("test"),
        )
        .unwrap();
}

/// Employees by email; `role` admin for emails starting with `admin`.
pub fn employees(db: &TestDatabase, tenant: &Tenant, people: &[(&str, bool)]) {
    let inputs: Vec<EmployeeInput> = people
        .iter()
        .map(|(email, active)| {
            let given = email.split('@').next().unwrap();
            EmployeeInput {
                email: (*email).into(),
                given_name: Change::Set(Some(given.to_owned())),
                family_name: Change::Set(Some("Tester".into())),
                active: Change::Set(*active),
                role: Change::Set(if email.starts_with("admin") {
                    Role::Admin
                } else {
                    Role::Employee
                }),
                ..EmployeeInput::default()
            }
        })
        .collect();
    db.employees()
        .upsert_many(&tenant.id, &inputs, &Actor::operator("test"))
        .unwrap();
}

/// The standard set-up: `acme` live, SSO pointing at `op`, Ada active.
pub fn acme_with_sso(db: &TestDatabase, op: &Op) -> Tenant {
    let acme = workspace(db, "acme", true);
    configure_sso(db, &acme, &op.issuer, CLIENT_SECRET);
    employees(db, &acme, &[("ada@acme.com", true)]);
    acme
}

pub fn location(response: &Response) -> String {
    assert!(
        response.status().is_redirection(),
        "expected a redirect, got {}",
        response.status()
    );
    response.headers()["location"].to_str().unwrap().to_owned()
}

/// Every `Set-Cookie` of a response.
pub fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// Drives the provider from its authorization URL through its login form, signing in as
/// `email`, until it redirects to the gateway; returns that URL (the callback).
pub fn sign_in_at_provider(browser: &Client, op: &Op, authorize_url: &str, email: &str) -> String {
    assert!(
        authorize_url.starts_with(&op.issuer),
        "not the provider: {authorize_url}"
    );
    let absolute = |location: &str| {
        if location.starts_with('/') {
            format!("{}{location}", op.issuer)
        } else {
            location.to_owned()
        }
    };
    let mut next = authorize_url.to_owned();
    for _ in 0..10 {
        let response = browser.get(&next).send().unwrap();
        let status = response.status();
        if status.is_success() && next.contains("/interaction/") {
            let uid = next.rsplit('/').next().unwrap().to_owned();
            let posted = browser
                .post(format!("{}/interaction/{uid}/login", op.issuer))
                .form(&[("email", email)])
                .send()
                .unwrap();
            assert_eq!(posted.status(), 303, "login form: {:?}", posted.text());
            next = absolute(posted.headers()["location"].to_str().unwrap());
            continue;
        }
        assert!(
            status.is_redirection(),
            "{next}: HTTP {status}: {:?}",
            response.text()
        );
        next = absolute(response.headers()["location"].to_str().unwrap());
        if !next.starts_with(&op.issuer) {
            return next;
        }
    }
    panic!("the provider never sent the browser back (last at {next})");
}

/// Follows the gateway's redirects from `start_url` (a workspace's
/// `/api/OktaAuth/start`, or the auth host's login or initiate URL, which bounce through
/// the workspace host first) to the provider's authorization URL.
pub fn authorize_url(browser: &Client, op: &Op, start_url: &str) -> String {
    let response = browser.get(start_url).send().unwrap();
    follow_to_provider(browser, op, &response)
}

/// Follows the gateway's redirects from `response` to the provider's authorization URL.
pub fn follow_to_provider(browser: &Client, op: &Op, response: &Response) -> String {
    let mut next = location(response);
    for _ in 0..5 {
        if next.starts_with(&op.issuer) {
            return next;
        }
        next = location(&browser.get(&next).send().unwrap());
    }
    panic!("the gateway never sent the browser to the provider (last at {next})");
}

/// What the callback answered: the redirect to the workspace's session hand-off, or an
/// error page.
pub fn okta_callback(
    browser: &Client,
    op: &Op,
    start_url: &str,
    email: &str,
) -> (String, Response) {
    let authorize = authorize_url(browser, op, start_url);
    let callback_url = sign_in_at_provider(browser, op, &authorize, email);
    let response = browser.get(&callback_url).send().unwrap();
    (callback_url, response)
}

/// A full SP-initiated sign-in through the callback and the session hand-off; returns
/// the hand-off's response (a redirect into the workspace, with the session cookie).
pub fn okta_sign_in(
    gw: &Gateway,
    browser: &Client,
    op: &Op,
    workspace: &str,
    email: &str,
) -> Response {
    let start = gw.url(
        "auth",
        &format!("/api/OktaAuth/login?workspace={workspace}"),
    );
    let (_, callback) = okta_callback(browser, op, &start, email);
    let handoff = location(&callback);
    assert!(
        handoff.starts_with(&gw.url(workspace, "/api/OktaAuth/session?handoff=spark_handoff_")),
        "{handoff}"
    );
    let response = browser.get(&handoff).send().unwrap();
    assert_eq!(response.status(), 302);
    response
}

/// The status and stable code of an error page.
pub fn error_code(response: Response) -> (u16, String) {
    let status = response.status().as_u16();
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let body = response.text().unwrap();
    let marker = "id=\"error-code\">";
    let start = body
        .find(marker)
        .unwrap_or_else(|| panic!("no error code on the page: {body}"))
        + marker.len();
    let end = start + body[start..].find('<').unwrap();
    (status, body[start..end].to_owned())
}

/// `GET /api/me` on a workspace host: status and JSON body.
pub fn me(browser: &Client, gw: &Gateway, workspace: &str) -> (u16, serde_json::Value) {
    let response = browser.get(gw.url(workspace, "/api/me")).send().unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap())
}

/// Mints a sign-in link for an employee the way `sparkctl login-link` does; returns the
/// URL path with the token.
pub fn login_link(db: &TestDatabase, tenant: &Tenant, email: &str) -> String {
    let employee = db
        .employees()
        .find_by_email(&tenant.id, email)
        .unwrap()
        .unwrap();
    let (token, hash) =
        token_store::SecretToken::mint(token_store::SecretKind::SignInLink).unwrap();
    db.one_time_codes()
        .create(
            &tenant.id,
            persistence::NewOneTimeCode {
                code_hash: hash,
                purpose: persistence::CodePurpose::LoginLink,
                employee_id: employee.id,
                return_to: None,
                browser_binding: None,
            },
            &Actor::operator("test"),
            chrono::Utc::now(),
        )
        .unwrap();
    format!("/auth/login-link?token={}", token.expose_secret())
}

/// Uses a sign-in link (a path from [`login_link`]) as a person does: opens its page,
/// then presses its button (a same-origin form POST); returns the POST's response.
pub fn use_login_link(browser: &Client, gw: &Gateway, workspace: &str, link: &str) -> Response {
    let page = browser.get(gw.url(workspace, link)).send().unwrap();
    assert_eq!(page.status(), 200, "the sign-in link's page");
    let body = page.text().unwrap();
    assert!(body.contains("id=\"use-login-link\""), "{body}");
    let token = link.split_once("token=").unwrap().1;
    browser
        .post(gw.url(workspace, "/auth/login-link"))
        .header("origin", gw.origin(workspace))
        .form(&[("token", token)])
        .send()
        .unwrap()
}

/// Signs in with a fresh sign-in link; returns the browser and the session cookie's
/// value.
pub fn signed_in_browser(gw: &Gateway, tenant: &Tenant, email: &str) -> (Client, String) {
    let browser = gw.browser();
    let link = login_link(gw.db, tenant, email);
    let response = use_login_link(&browser, gw, tenant.workspace.as_str(), &link);
    assert_eq!(location(&response), "/");
    (browser, session_cookie(&response))
}

/// The value of the (development) session cookie a response sets.
pub fn session_cookie(response: &Response) -> String {
    let cookie = set_cookies(response)
        .into_iter()
        .find(|c| c.starts_with("spark_session="))
        .unwrap_or_else(|| panic!("no session cookie set: {response:?}"));
    cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("spark_session=")
        .to_owned()
}

pub const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
];

/// Every response's security headers: CSP (no framing), nosniff, referrer policy, no
/// caching.
pub fn assert_security_headers(response: &Response, auth_origin: &str) {
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self'; connect-src 'self'; form-action 'self' {auth_origin}; \
             frame-ancestors 'none'; base-uri 'none'"
        )
    );
    for (name, value) in SECURITY_HEADERS {
        assert_eq!(
            response.headers()[name].to_str().unwrap(),
            value,
            "{name} on {}",
            response.url()
        );
    }
}

/// scim-api serving on `listener` in its own actix system; stopped when dropped.
pub struct ScimApi {
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
    pub addr: SocketAddr,
}

impl ScimApi {
    pub fn start(db: &TestDatabase, listener: TcpListener) -> ScimApi {
        let addr = listener.local_addr().unwrap();
        let env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db.database_url().to_owned()),
            ("SPARK__PUBLIC__SCIM_PORT".into(), addr.port().to_string()),
            ("SPARK__SECURITY__ALLOW_INSECURE_HTTP".into(), "true".into()),
        ];
        let settings = settings::Settings::from_sources(None, &env).unwrap();
        let database = db.db().clone();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = scim_api::serve(listener, database, settings).unwrap();
                sender.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        ScimApi {
            handle: receiver.recv().unwrap(),
            thread: Some(thread),
            addr,
        }
    }
}

impl Drop for ScimApi {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A signed-in admin's browser on their workspace, with its CSRF token.
pub struct AdminBrowser<'g> {
    pub gw: &'g Gateway<'g>,
    pub client: Client,
    pub csrf: String,
    pub workspace: String,
}

impl<'g> AdminBrowser<'g> {
    pub fn sign_in(gw: &'g Gateway<'g>, tenant: &Tenant, email: &str) -> Self {
        let workspace = tenant.workspace.as_str().to_owned();
        let (client, _) = signed_in_browser(gw, tenant, email);
        let (status, body) = me(&client, gw, &workspace);
        assert_eq!(status, 200, "{body}");
        let csrf = body["csrf_token"].as_str().unwrap().to_owned();
        assert!(csrf.len() >= 43, "a 256-bit CSRF token: {csrf}");
        AdminBrowser {
            gw,
            client,
            csrf,
            workspace,
        }
    }

    /// A same-origin API call carrying the CSRF header, as the pages' scripts would.
    pub fn api(&self, method: reqwest::Method, path: &str) -> RequestBuilder {
        self.client
            .request(method, self.gw.url(&self.workspace, path))
            .header("origin", self.gw.origin(&self.workspace))
            .header("x-csrf-token", &self.csrf)
    }

    pub fn json(&self, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
        parse(self.api(method, path).json(body).send().unwrap())
    }

    pub fn get(&self, path: &str) -> (u16, Value) {
        parse(
            self.client
                .get(self.gw.url(&self.workspace, path))
                .send()
                .unwrap(),
        )
    }

    /// Submits a page's form the way the browser does (same origin, with the token).
    pub fn form(&self, page: &str, fields: &[(&str, &str)]) -> Response {
        let mut fields: Vec<(&str, &str)> = fields.to_vec();
        fields.push(("csrf_token", &self.csrf));
        self.client
            .post(self.gw.url(&self.workspace, page))
            .header("origin", self.gw.origin(&self.workspace))
            .form(&fields)
            .send()
            .unwrap()
    }
}

pub fn parse(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"))
    };
    (status, value)
}
