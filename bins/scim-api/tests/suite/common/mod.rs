//! The real scim-api, serving on a free loopback port from a fresh database, and an HTTP
//! client that reaches workspace hosts (`acme.localhost`) without DNS.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener};

use persistence::testing::TestDatabase;
use persistence::{Actor, Change, EmployeeInput, Role, Tenant, Workspace};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;
use token_store::scim::ScimTokens;

pub struct Service<'db> {
    pub db: &'db TestDatabase,
    pub addr: SocketAddr,
    pub client: Client,
    handle: actix_web::dev::ServerHandle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl<'db> Service<'db> {
    pub fn start(db: &'db TestDatabase) -> Self {
        Self::start_with(db, &[])
    }

    /// [`Service::start`] with more configuration, as `SPARK__SECTION__KEY` variables.
    pub fn start_with(db: &'db TestDatabase, extra_env: &[(&str, &str)]) -> Self {
        Self::start_on(db, db.db().clone(), extra_env)
    }

    pub fn url(&self, workspace: &str, path: &str) -> String {
        format!("http://{workspace}.localhost:{}{path}", self.addr.port())
    }

    pub fn get(&self, workspace: &str, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(workspace, path))
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    pub fn request(&self, method: reqwest::Method, workspace: &str, path: &str) -> RequestBuilder {
        self.client.request(method, self.url(workspace, path))
    }

    /// A client like [`Service::client`] that also reaches these workspaces' hosts.
    pub fn client_for(&self, workspaces: &[&str]) -> Client {
        workspaces
            .iter()
            .fold(Client::builder(), |builder, workspace| {
                builder.resolve(&format!("{workspace}.localhost"), self.addr)
            })
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }
}

impl Drop for Service<'_> {
    fn drop(&mut self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A workspace with the Okta integration live and a SCIM token; returns the token.
pub fn live_workspace(db: &TestDatabase, slug: &str) -> (Tenant, String) {
    let actor = Actor::operator("test");
    let tenant = db
        .tenants()
        .create(&Workspace::parse(slug).unwrap(), slug, &actor)
        .unwrap();
    db.okta_integrations().activate(&tenant, &actor).unwrap();
    db.okta_integrations().connect(&tenant, &actor).unwrap();
    let mut tokens = ScimTokens::new(db.scim_tokens(&actor));
    let minted = tokens
        .mint(&(&tenant.id).into(), "Okta", "test", chrono::Utc::now())
        .unwrap();
    (tenant, minted.token.into_exposed_secret())
}

/// Another SCIM token for a tenant; returns it.
pub fn mint_token(db: &TestDatabase, tenant: &Tenant, label: &str) -> String {
    let mut tokens = ScimTokens::new(db.scim_tokens(&Actor::operator("test")));
    tokens
        .mint(&(&tenant.id).into(), label, "test", chrono::Utc::now())
        .unwrap()
        .token
        .into_exposed_secret()
}

pub fn employee(
    email: &str,
    given: &str,
    family: &str,
    department: &str,
    active: bool,
) -> EmployeeInput {
    let text = |v: &str| Change::Set((!v.is_empty()).then(|| v.to_owned()));
    EmployeeInput {
        email: email.into(),
        given_name: text(given),
        family_name: text(family),
        department: text(department),
        title: text("Engineer"),
        phone: text("+1 555 0100"),
        active: Change::Set(active),
        role: Change::Set(Role::Employee),
        ..EmployeeInput::default()
    }
}

pub fn import(db: &TestDatabase, tenant: &Tenant, people: &[EmployeeInput]) {
    db.employees()
        .upsert_many(&tenant.id, people, &Actor::operator("test"))
        .unwrap();
}

/// The body of a response that must be SCIM JSON.
pub fn scim(response: Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/scim+json"),
        "content type {content_type:?}"
    );
    (status, response.json().unwrap())
}

/// Asserts a SCIM Error body with this status.
pub fn assert_error(response: Response, status: u16) -> Value {
    let (actual, body) = scim(response);
    assert_eq!(actual, status, "{body}");
    assert_eq!(
        body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{body}"
    );
    assert_eq!(
        body["status"],
        status.to_string(),
        "status is a string: {body}"
    );
    assert!(
        body["detail"].as_str().is_some_and(|d| d.len() > 20),
        "a detail that helps: {body}"
    );
    body
}

impl<'db> Service<'db> {
    /// The service on `database` — a pool of the caller's making, e.g. one that reaches
    /// the test database through a proxy — with `extra_env` (`SPARK__…` pairs) over the
    /// settings `start` uses.
    pub fn start_on(
        db: &'db TestDatabase,
        database: persistence::Database,
        extra_env: &[(&str, &str)],
    ) -> Self {
        Self::start_clocked(db, database, extra_env, scim_api::Clock::system())
    }

    /// [`Service::start_on`] with the failure throttle on `clock`.
    pub fn start_clocked(
        db: &'db TestDatabase,
        database: persistence::Database,
        extra_env: &[(&str, &str)],
        clock: scim_api::Clock,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut env: Vec<(String, String)> = vec![
            ("DATABASE_URL".into(), db.database_url().to_owned()),
            ("SPARK__PUBLIC__SCIM_PORT".into(), addr.port().to_string()),
            (
                "SPARK__SECRETS__ENCRYPTION_KEY".into(),
                "dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=".into(),
            ),
        ];
        env.extend(
            extra_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let settings = settings::Settings::from_sources(None, &env).unwrap();
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let options = scim_api::ServeOptions {
                    clock,
                    ..scim_api::ServeOptions::default()
                };
                let server = scim_api::serve_with(listener, database, settings, options).unwrap();
                sender.send(server.handle()).unwrap();
                server.await.unwrap();
            });
        });
        let handle = receiver.recv().unwrap();
        Service {
            db,
            addr,
            client: Self::client_builder(addr).build().unwrap(),
            handle,
            thread: Some(thread),
        }
    }

    /// A client whose connections come from `local`, another loopback address (any of
    /// 127.0.0.0/8 reaches the service): a second caller with its own source address.
    pub fn client_from(&self, local: &str) -> Client {
        Self::client_builder(self.addr)
            .local_address(local.parse::<std::net::IpAddr>().unwrap())
            .build()
            .unwrap()
    }

    fn client_builder(addr: SocketAddr) -> reqwest::blocking::ClientBuilder {
        Client::builder()
            .resolve("acme.localhost", addr)
            .resolve("globex.localhost", addr)
            .resolve("nowhere.localhost", addr)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(60))
    }

    /// `GET path` on a workspace host with `client` and a bearer token.
    pub fn get_as(&self, client: &Client, workspace: &str, path: &str, token: &str) -> Response {
        client
            .get(self.url(workspace, path))
            .bearer_auth(token)
            .send()
            .unwrap()
    }

    /// The service's `/metrics`, as text.
    pub fn metrics_text(&self) -> String {
        self.client
            .get(format!("http://127.0.0.1:{}/metrics", self.addr.port()))
            .send()
            .unwrap()
            .text()
            .unwrap()
    }

    /// [`Service::metric`], or 0 when the series does not exist (yet).
    pub fn metric_or_zero(&self, name: &str) -> f64 {
        sample(&self.metrics_text(), name).unwrap_or(0.0)
    }

    /// The value of one counter (or other sample without labels) in `/metrics`.
    pub fn metric(&self, name: &str) -> f64 {
        let text = self.metrics_text();
        sample(&text, name).unwrap_or_else(|| panic!("no {name} in /metrics:\n{text}"))
    }
}

/// The value of sample `name` (with its labels written out, if any) in the Prometheus
/// text `metrics`, if present.
fn sample(metrics: &str, name: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .map(|value| value.trim().parse().unwrap())
}
