//! A real browser for the admin-page tests: headless Chromium driven through
//! `chromedriver` by the W3C WebDriver protocol (JSON over HTTP, spoken here with the
//! blocking reqwest client the other tests use — a few calls, no driver crate).
//!
//! Needs Debian's `chromium` and `chromium-driver` (`cargo xtask test` installs them on
//! Debian as root, and names them elsewhere); without them [`Chromium::start`] fails and
//! says what to install. `*.localhost` resolves to loopback inside Chromium itself, so
//! workspace hosts need no DNS.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};

/// The W3C element reference key.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where a program is, from `SPARK_TEST_CHROMIUM`/`SPARK_TEST_CHROMEDRIVER` or the
/// usual Debian paths.
fn program(env: &str, candidates: &[&str]) -> PathBuf {
    if let Ok(path) = std::env::var(env) {
        return PathBuf::from(path);
    }
    candidates
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!(
                "{} not found (looked at {candidates:?}; set {env}). Install Debian's \
                 chromium and chromium-driver: apt-get install chromium chromium-driver",
                candidates.first().copied().unwrap_or_default()
            )
        })
}

/// A chromedriver process and one headless Chromium session; both end when dropped.
pub struct Chromium {
    driver: Child,
    http: reqwest::blocking::Client,
    session: String,
    base: String,
}

/// An element found on the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Chromium {
    /// Starts chromedriver on a free port and a headless Chromium window of
    /// `width`×`height` CSS pixels.
    pub fn start(width: u32, height: u32) -> Chromium {
        let chromium = program(
            "SPARK_TEST_CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        );
        let driver_path = program(
            "SPARK_TEST_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(&driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", driver_path.display()));
        let http = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{base}/status")).send().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut browser = Chromium {
            driver,
            http,
            session: String::new(),
            base,
        };
        let created = browser.call(
            reqwest::Method::POST,
            "/session",
            json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium.to_string_lossy(),
                    "args": [
                        "--headless", "--no-sandbox", "--disable-gpu",
                        "--disable-background-networking", "--no-first-run",
                        "--disable-dev-shm-usage",
                        format!("--window-size={width},{height}"),
                    ],
                },
            }}}),
        );
        browser.session = created["sessionId"].as_str().unwrap().to_owned();
        browser
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let url = if self.session.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let mut request = self.http.request(method.clone(), &url);
        if method != reqwest::Method::GET && method != reqwest::Method::DELETE {
            request = request.json(&body);
        }
        let response = request.send().unwrap_or_else(|e| panic!("{url}: {e}"));
        let status = response.status();
        let value: Value = response.json().unwrap();
        assert!(
            status.is_success(),
            "WebDriver {method} {path}: {status} {value}"
        );
        value["value"].clone()
    }

    /// Opens `url` and waits for the page to load.
    pub fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", json!({ "url": url }));
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", Value::Null)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The page's HTML as the browser holds it.
    pub fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", Value::Null)
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// The first element matching the CSS selector, if any.
    pub fn find(&self, css: &str) -> Option<Element> {
        let found = self.call(
            reqwest::Method::POST,
            "/elements",
            json!({"using": "css selector", "value": css}),
        );
        found.as_array().and_then(|all| all.first()).map(|e| {
            Element(
                e[ELEMENT]
                    .as_str()
                    .unwrap_or_else(|| panic!("not an element: {e}"))
                    .to_owned(),
            )
        })
    }

    /// The element matching the CSS selector; fails the test when there is none.
    pub fn element(&self, css: &str) -> Element {
        self.find(css)
            .unwrap_or_else(|| panic!("no `{css}` on {}:\n{}", self.url(), self.source()))
    }

    /// Clicks the element (and waits for a navigation it starts).
    pub fn click(&self, element: &Element) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/click", element.0),
            json!({}),
        );
    }

    /// Clicks a link or submit button and waits until the next page has loaded (a click
    /// returns as soon as it is dispatched; the navigation may come later).
    pub fn click_to_load(&self, element: &Element) {
        self.script("window.__sparkStale = true; return null;");
        self.click(element);
        let started = Instant::now();
        loop {
            let loaded = self.script(
                "return window.__sparkStale === undefined && document.readyState === 'complete';",
            );
            if loaded == Value::Bool(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "no new page after the click on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Clears a field and types `text` into it.
    pub fn fill(&self, element: &Element, text: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/clear", element.0),
            json!({}),
        );
        self.call(
            reqwest::Method::POST,
            &format!("/element/{}/value", element.0),
            json!({ "text": text }),
        );
    }

    /// The element's rendered text.
    pub fn text(&self, element: &Element) -> String {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/text", element.0),
            Value::Null,
        )
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// The element's current property (e.g. an input's `value`).
    pub fn property(&self, element: &Element, name: &str) -> Value {
        self.call(
            reqwest::Method::GET,
            &format!("/element/{}/property/{name}", element.0),
            Value::Null,
        )
    }

    /// Runs `script` (a function body; `return` gives the value) in the page.
    pub fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            json!({"script": script, "args": []}),
        )
    }

    /// Resizes the window (CSS pixels).
    pub fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            json!({"width": width, "height": height}),
        );
    }

    /// Forgets every cookie of the current page's host.
    pub fn delete_cookies(&self) {
        self.call(reqwest::Method::DELETE, "/cookie", Value::Null);
    }

    /// Saves a PNG of the viewport as `dir/name.png`.
    pub fn screenshot(&self, dir: &Path, name: &str) -> PathBuf {
        let data = self.call(reqwest::Method::GET, "/screenshot", Value::Null);
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_str().unwrap())
            .unwrap();
        std::fs::create_dir_all(dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self
                .http
                .delete(format!("{}/session/{}", self.base, self.session))
                .send();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
