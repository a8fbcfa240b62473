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
        // provider.js prints `{"issuer": …}` once it listens.
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the test OpenID Provider did not start within 30 s");
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
