//! A quick load test of `GET /api/me` (the issue asks for ≥ 5,000 requests/s) and of the
//! gateway's own per-request work on the sign-in routes that need no IdP round trip.
//!
//! ```text
//! cargo run --release -p auth-gateway --example bench_me -- [seconds] [connections] [sqlite|postgres]
//! ```
//!
//! Starts the real gateway in-process on a fresh database, signs an employee in with a
//! sign-in link, then keeps `connections` keep-alive HTTP/1.1 connections busy (std
//! only, no external tool) and prints requests per second and latency percentiles.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    missing_docs
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use persistence::testing::TestDatabase;
use persistence::{Actor, CodePurpose, NewOneTimeCode, Workspace};
use token_store::{SecretKind, SecretToken};

#[path = "support/mod.rs"]
mod support;
use support::report;

/// The allocator the shipped binary uses (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seconds: u64 = support::number(&args, 1, 5);
    let connections: usize = support::number(&args, 2, 8);
    let backend = support::backend(&args, 3);
    let db = TestDatabase::new(backend);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let env: Vec<(String, String)> = [
        ("DATABASE_URL", db.database_url().to_owned()),
        ("SPARK__PUBLIC__AUTH_PORT", addr.port().to_string()),
        ("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true".to_owned()),
        (
            "SPARK__SECRETS__ENCRYPTION_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = settings::Settings::from_sources(None, &env).unwrap();
    let database = db.db().clone();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            auth_gateway::serve(listener, database, settings)
                .unwrap()
                .await
                .unwrap();
        });
    });
    std::thread::sleep(Duration::from_millis(300));

    let tenant = db
        .tenants()
        .create(&Workspace::parse("acme").unwrap(), "Acme", &Actor::system())
        .unwrap();
    support::people(&db, &tenant.id, 1_000);
    let employee = db
        .employees()
        .find_by_email(&tenant.id, "person500@acme.com")
        .unwrap()
        .unwrap();

    // Sign in with a link: time the gateway's own work for a sign-in's last leg.
    let host = format!("acme.localhost:{}", addr.port());
    let mut link_times = Vec::new();
    let mut cookie = String::new();
    for _ in 0..200 {
        let (token, hash) = SecretToken::mint(SecretKind::SignInLink).unwrap();
        db.one_time_codes()
            .create(
                &tenant.id,
                NewOneTimeCode {
                    code_hash: hash,
                    purpose: CodePurpose::LoginLink,
                    employee_id: employee.id.clone(),
                    return_to: None,
                    browser_binding: None,
                },
                &Actor::system(),
                chrono::Utc::now(),
            )
            .unwrap();
        let mut stream = TcpStream::connect(addr).unwrap();
        let form = format!("token={}", token.expose_secret());
        let started = Instant::now();
        let (status, headers) = post_form(&mut stream, &host, "/auth/login-link", &form);
        link_times.push(started.elapsed());
        assert_eq!(status, 302, "{headers}");
        cookie = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
            .and_then(|l| l.split_once(':'))
            .and_then(|(_, c)| c.trim().split(';').next())
            .unwrap()
            .to_owned();
    }
    report(
        "POST /auth/login-link (consume code + create session)",
        &mut link_times,
    );

    let deadline = Instant::now() + Duration::from_secs(seconds);
    let threads: Vec<_> = (0..connections)
        .map(|_| {
            let (host, cookie) = (host.clone(), cookie.clone());
            std::thread::spawn(move || worker(addr, &host, &cookie, deadline))
        })
        .collect();
    let mut all = Vec::new();
    for t in threads {
        all.extend(t.join().unwrap());
    }
    let rate = all.len() as f64 / seconds as f64;
    println!(
        "GET /api/me: {} requests in {seconds} s over {connections} connections ({backend:?}): {rate:.0} requests/s",
        all.len()
    );
    report("GET /api/me", &mut all);
}

fn worker(addr: SocketAddr, host: &str, cookie: &str, deadline: Instant) -> Vec<Duration> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut times = Vec::new();
    while Instant::now() < deadline {
        let started = Instant::now();
        let (status, body) = request(&mut stream, host, "/api/me", cookie);
        assert_eq!(status, 200, "{body}");
        times.push(started.elapsed());
    }
    times
}

/// One keep-alive request; returns the status and the header block.
fn request(stream: &mut TcpStream, host: &str, path: &str, cookie: &str) -> (u16, String) {
    let cookie_line = if cookie.is_empty() {
        String::new()
    } else {
        format!("Cookie: {cookie}\r\n")
    };
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\n{cookie_line}\r\n"
    )
    .unwrap();
    response(stream)
}

/// A form POST from the page at `host` itself (its `Origin`).
fn post_form(stream: &mut TcpStream, host: &str, path: &str, form: &str) -> (u16, String) {
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    response(stream)
}

/// The status and headers of the response on `stream`, its body read and dropped.
fn response(stream: &mut TcpStream) -> (u16, String) {
    let mut reader = BufReader::new(stream);
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
        headers.push_str(&line.replace('\r', ""));
    }
    let status: u16 = headers
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let length: usize = headers
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("content-length:"))
        .find_map(|l| l.split_once(':'))
        .and_then(|(_, n)| n.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    (status, headers)
}
