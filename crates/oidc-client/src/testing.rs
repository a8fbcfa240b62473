//! The test OpenID Provider: `testing/oidc-provider/provider.js` (the npm package
//! `oidc-provider`, configured like an Okta org) started on a free loopback port, for
//! this crate's tests and those of the crates that sign in through it. Killed on drop.
//!
//! Built only with the `testing` feature. Test support: it panics, with instructions,
//! when the provider cannot be started.
#![allow(
    clippy::panic,
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running test provider.
pub struct TestProvider {
    child: Child,
    /// Its issuer, e.g. `http://127.0.0.1:43121` (it answers discovery once started).
    pub issuer: String,
}

impl TestProvider {
    /// Starts the provider with one client, and `extra` provider.js options
    /// (e.g. `--claims-in-userinfo-only`). Returns once it listens.
    ///
    /// # Panics
    /// When Node.js or the npm packages are missing, or the provider does not start.
    pub fn start(client_id: &str, client_secret: &str, redirect_uri: &str, extra: &[&str]) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testing/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider/package.json")
                .is_file(),
            "the test OpenID Provider is not installed: run `cargo xtask setup` (it runs \
             `npm ci` in {}; `cargo xtask test` does it first)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg("provider.js")
            .args(["--client-id", client_id, "--client-secret", client_secret])
            .args(["--redirect-uri", redirect_uri])
            .args(extra)
            .current_dir(&dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start `node` (is Node.js installed?): {e}"));
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        // provider.js prints `{"issuer": …}` once it listens: about half a second, and
        // seconds more when the test run's builds and databases saturate the disk.
        let line = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the test OpenID Provider did not start within 60 s");
            }
        };
        let issuer =
            serde_json::from_str::<serde_json::Value>(&line)
                .unwrap_or_else(|e| panic!("unexpected first line from provider.js `{line}`: {e}"))
                ["issuer"]
                .as_str()
                .unwrap_or_else(|| panic!("no issuer in `{line}`"))
                .to_owned();
        Self { child, issuer }
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.issuer
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
            .expect("the issuer names a port")
    }
}

impl Drop for TestProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request to a [`RawServer`].
#[derive(Debug, Clone)]
pub struct RawRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: path and query.
    pub target: String,
    /// The body, as text.
    pub body: String,
}

impl RawRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }
}

/// A bare HTTP/1.1 server on a free loopback port, one thread per connection, one
/// request per connection: for the parts of a test that play a hostile or broken server
/// (an attacker's "OpenID Provider", an org that floods or trickles), which no real peer
/// would be. `answer` writes the whole response itself, so it can misbehave at will.
pub struct RawServer {
    /// `http://127.0.0.1:PORT`.
    pub origin: String,
}

impl RawServer {
    /// Starts serving; runs until the test process ends.
    pub fn start(
        answer: impl Fn(&RawRequest, &mut std::net::TcpStream) + Send + Sync + 'static,
    ) -> RawServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        let answer = std::sync::Arc::new(answer);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let answer = answer.clone();
                std::thread::spawn(move || {
                    if let Some(request) = read_request(&mut stream) {
                        answer(&request, &mut stream);
                    }
                });
            }
        });
        RawServer { origin }
    }
}

fn read_request(stream: &mut std::net::TcpStream) -> Option<RawRequest> {
    use std::io::Read as _;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(RawRequest {
        method,
        target,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

/// Writes a whole response with a JSON body and `Connection: close`.
pub fn write_json(stream: &mut std::net::TcpStream, status: u16, body: &serde_json::Value) {
    use std::io::Write as _;
    let body = body.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         connection: close\r\n\r\n{body}",
        body.len()
    );
}

/// Writes a whole `302` response to `location`.
pub fn write_redirect(stream: &mut std::net::TcpStream, location: &str) {
    use std::io::Write as _;
    let _ = write!(
        stream,
        "HTTP/1.1 302 Found\r\nlocation: {location}\r\ncontent-length: 0\r\n\
         connection: close\r\n\r\n"
    );
}

/// An OpenID Provider discovery document for a server at `issuer` (its endpoints
/// `/authorize`, `/token`, `/keys`): enough for the relying party to start a sign-in.
pub fn discovery_document(issuer: &str) -> serde_json::Value {
    serde_json::json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/keys"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
    })
}
