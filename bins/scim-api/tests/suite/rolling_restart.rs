//! A rolling restart loses nothing: Okta's import walk runs through two scim-api
//! processes (the real binary) behind a round-robin "load balancer" that, like a
//! Kubernetes Service, sends requests only to replicas whose `/readyz` says ready,
//! polled every 100 ms. Mid-walk one replica gets SIGTERM: it reports not ready at once
//! but still answers what reaches it during its drain time (the balancer has not noticed
//! yet), then stops; a new process takes its port. Not one page fails, and the walk sees
//! every employee exactly once. On both backends.

use std::collections::HashSet;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::common::{employee, import, live_workspace};
use persistence::backend_tests;
use persistence::testing::TestDatabase;
use reqwest::blocking::Client;
use serde_json::Value;

const EMPLOYEES: usize = 600;
const PAGE: usize = 25;

/// One scim-api process on `port`.
struct Replica {
    child: Child,
    port: u16,
}

impl Replica {
    fn start(db: &TestDatabase, port: u16) -> Replica {
        let child = Command::new(env!("CARGO_BIN_EXE_scim-api"))
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .env("DATABASE_URL", db.database_url())
            .env("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true")
            .env("SPARK__SERVER__DRAIN_SECS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let replica = Replica { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        while !replica.ready() {
            assert!(
                Instant::now() < deadline,
                "replica on {port} never became ready"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        replica
    }

    fn ready(&self) -> bool {
        reqwest::blocking::get(format!("http://127.0.0.1:{}/readyz", self.port))
            .is_ok_and(|r| r.status() == 200)
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client(port: u16) -> Client {
    Client::builder()
        .resolve("acme.localhost", ([127, 0, 0, 1], port).into())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

fn page(port: u16, token: &str, start: usize) -> reqwest::Result<reqwest::blocking::Response> {
    client(port)
        .get(format!(
            "http://acme.localhost:{port}/scim/v2/Users?startIndex={start}&count={PAGE}"
        ))
        .bearer_auth(token)
        .send()
}

backend_tests! {
    fn an_import_walk_survives_a_rolling_restart(db) {
        let (tenant, token) = live_workspace(db, "acme");
        let people: Vec<_> = (0..EMPLOYEES)
            .map(|i| employee(&format!("person{i:04}@acme.com"), "P", &i.to_string(), "", true))
            .collect();
        import(db, &tenant, &people);
        let ports = [free_port(), free_port()];
        let mut replicas = [Replica::start(db, ports[0]), Replica::start(db, ports[1])];

        // The balancer's view: each replica's readiness, polled every 100 ms.
        let ready: Arc<[AtomicBool; 2]> = Arc::new([AtomicBool::new(true), AtomicBool::new(true)]);
        let stop = Arc::new(AtomicBool::new(false));
        let poller = {
            let (ready, stop) = (ready.clone(), stop.clone());
            std::thread::spawn(move || {
                let probe = Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
                while !stop.load(Ordering::SeqCst) {
                    for (i, port) in ports.iter().enumerate() {
                        let up = probe
                            .get(format!("http://127.0.0.1:{port}/readyz"))
                            .send()
                            .is_ok_and(|r| r.status() == 200);
                        ready[i].store(up, Ordering::SeqCst);
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        };

        let mut seen = Vec::new();
        let mut served_by = [0usize; 2];
        let mut next = 0;
        let mut restarted = false;
        let mut during_drain = None;
        for (n, start) in (1..=EMPLOYEES).step_by(PAGE).enumerate() {
            if n == 5 {
                // The rolling restart begins: replica 1 gets SIGTERM. A request the
                // balancer sends before it notices still gets its answer.
                replicas[1].terminate();
                let answer = page(ports[1], &token, start).unwrap();
                during_drain = Some(answer.status().as_u16());
            }
            if n == 12 && !restarted {
                // Its process has exited by now (2 s of drain): a new one takes the port.
                let status = replicas[1].child.wait().unwrap();
                assert!(status.success(), "a graceful stop exits 0: {status}");
                replicas[1] = Replica::start(db, ports[1]);
                restarted = true;
            }
            // Round robin over the replicas the balancer thinks ready.
            let target = loop {
                let candidate = next % 2;
                next += 1;
                if ready[candidate].load(Ordering::SeqCst) {
                    break candidate;
                }
            };
            let answer = page(ports[target], &token, start)
                .unwrap_or_else(|e| panic!("page {n} on replica {target}: {e}"));
            assert_eq!(answer.status(), 200, "page {n} on replica {target}");
            served_by[target] += 1;
            let body: Value = answer.json().unwrap();
            seen.extend(
                body["Resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|u| u["id"].as_str().unwrap().to_owned()),
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        stop.store(true, Ordering::SeqCst);
        poller.join().unwrap();

        assert_eq!(during_drain, Some(200), "answered while draining");
        assert_eq!(seen.len(), EMPLOYEES);
        assert_eq!(seen.iter().collect::<HashSet<_>>().len(), EMPLOYEES, "nobody twice");
        assert!(served_by[0] > 0 && served_by[1] > 0, "both replicas served: {served_by:?}");
        assert!(restarted);
    }
}
