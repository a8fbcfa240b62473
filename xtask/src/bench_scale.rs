//! Benchmarks of scim-api as a deployment:
//!
//! - `cargo xtask bench replicas [N]`: two scim-api processes on one PostgreSQL database
//!   with N employees (default 100,000): Okta's import walk (pages of 100 by
//!   `startIndex`) on one replica, then alternating between the two, as a round-robin
//!   load balancer would send it, five times each in turn; each walk's time and its last
//!   ten pages against its first ten, and the ratio of the two kinds' median walks.
//! - `cargo xtask bench throughput [SECONDS]`: on each backend, 10,000 employees, `wrk
//!   -t2 -c16` for SECONDS (default 15) against `userName eq` look-ups, then against pages
//!   of 100, then against look-ups with another workspace's well-formed token (each
//!   refused with 401 after one indexed look-up; throttling is off for the run):
//!   requests per second, latency, the CPU time each request cost in scim-api and in
//!   PostgreSQL's backends, and scim-api's resident memory before, during and after. wrk (Debian's package `wrk`) runs on the same machine as the services.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::{employee_count, in_scratch_dir, release_binaries, seconds, sparkctl};
use crate::bench_scim::{
    Client, PAGE, Server, backends_of, cpu_seconds, database_name, describe_walk, free_port,
    rss_mib, start_service, workspace,
};

/// Walks every page of `host`'s users, each page on the client `pick(page)` names;
/// returns each page's time.
fn walk(clients: &mut [Client], pages: u64, pick: impl Fn(u64) -> usize) -> Result<Vec<Duration>> {
    let mut times = Vec::new();
    for page in 0..pages {
        let client = clients
            .get_mut(pick(page))
            .ok_or_else(|| "no such replica".to_owned())?;
        let started = Instant::now();
        let (status, _) = client.get(&format!(
            "/scim/v2/Users?startIndex={}&count={PAGE}",
            page * PAGE + 1
        ))?;
        if status != 200 {
            return Err(format!("page {page}: status {status}"));
        }
        times.push(started.elapsed());
    }
    Ok(times)
}

/// Runs `bench replicas`.
pub fn replicas(args: &[&str]) -> Result {
    let count = employee_count(args, "cargo xtask bench replicas [N]")?;
    let bin = release_binaries(&["sparkctl", "scim-api"])?;
    in_scratch_dir("replicas", |dir| {
        crate::bench::on_postgres(|url| replicas_backend(&bin, url, dir, count))
    })
}

/// `bench replicas` on the PostgreSQL database at `url`.
fn replicas_backend(bin: &Path, url: &str, dir: &Path, count: usize) -> Result {
    sparkctl(bin, url, &["migrate"])?;
    let token = workspace(bin, url, dir, "big", count)?;
    let ports = [free_port()?, free_port()?];
    let servers: Vec<Server> = ports
        .iter()
        .map(|port| {
            start_service(
                bin,
                "scim-api",
                url,
                *port,
                &[("SPARK__PUBLIC__SCIM_PORT", *port)],
            )
        })
        .collect::<Result<_>>()?;
    let mut clients: Vec<Client> = ports
        .iter()
        .map(|port| Client::connect(*port, &format!("big.localhost:{port}"), &token))
        .collect::<Result<_>>()?;
    let pages = (count as u64).div_ceil(PAGE);
    println!("  {count} employees, two scim-api replicas on one database");
    // A first walk warms both replicas and the database's cache.
    walk(&mut clients, pages, |page| (page % 2) as usize)?;
    // The two walks take turns, so the machine's drift touches both alike; the figure is
    // the ratio of their medians.
    let (mut one, mut two) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        println!("  round {round} of {ROUNDS}");
        one.push(describe_walk(
            "one replica",
            &walk(&mut clients, pages, |_| 0)?,
        ));
        two.push(describe_walk(
            "two replicas, alternating",
            &walk(&mut clients, pages, |page| (page % 2) as usize)?,
        ));
    }
    let (one, two) = (median(one), median(two));
    println!(
        "  median walk: one replica {one:.2} s, two replicas {two:.2} s; two replicas / one replica: {:.2}",
        two / one
    );
    drop(servers);
    Ok(())
}

/// Walks of each kind in `bench replicas`.
const ROUNDS: usize = 5;

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// What wrk reported: requests per second and latency percentiles.
struct Wrk {
    requests_per_second: f64,
    requests: u64,
    latency: String,
    /// Answers other than 2xx or 3xx.
    refused: u64,
    /// Connection errors and timeouts.
    socket_errors: String,
}

/// Runs wrk with a Lua script that makes each request's path with `path` (a Lua
/// expression of the request number `n`).
fn wrk(port: u16, host: &str, token: &str, path_lua: &str, seconds: u64) -> Result<Wrk> {
    let script = std::env::temp_dir().join(format!("spark-wrk-{}.lua", std::process::id()));
    std::fs::write(
        &script,
        format!(
            "local n = 0\n\
             request = function()\n\
             \x20 n = n + 1\n\
             \x20 return wrk.format('GET', {path_lua}, {{['Host'] = '{host}', ['Authorization'] = 'Bearer {token}'}})\n\
             end\n"
        ),
    )
    .map_err(|e| e.to_string())?;
    let out = Command::new("wrk")
        .args(["-t2", "-c16", "--latency", "-d"])
        .arg(format!("{seconds}s"))
        .arg("-s")
        .arg(&script)
        .arg(format!("http://127.0.0.1:{port}/"))
        .output()
        .map_err(|e| format!("cannot run wrk (Debian's package `wrk`): {e}"))?;
    let _ = std::fs::remove_file(&script);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let field = |name: &str| {
        text.lines()
            .find_map(|line| line.trim().strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let percentile = |p: &str| {
        text.lines()
            .find(|line| line.trim().starts_with(p))
            .and_then(|line| line.split_whitespace().nth(1))
            .unwrap_or("?")
            .to_owned()
    };
    let requests = text
        .lines()
        .find(|line| line.contains("requests in"))
        .and_then(|line| line.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Ok(Wrk {
        requests_per_second: field("Requests/sec:").parse().unwrap_or(0.0),
        requests,
        latency: format!("p50 {}, p99 {}", percentile("50%"), percentile("99%")),
        refused: field("Non-2xx or 3xx responses:").parse().unwrap_or(0),
        socket_errors: [field("Socket errors:")]
            .into_iter()
            .filter(|e| !e.is_empty())
            .collect::<Vec<_>>()
            .join("; "),
    })
}

fn throughput_backend(bin: &Path, url: &str, dir: &Path, seconds: u64) -> Result {
    const EMPLOYEES: u64 = 10_000;
    sparkctl(bin, url, &["migrate"])?;
    let token = workspace(bin, url, dir, "bench", EMPLOYEES as usize)?;
    // Another workspace's connector, whose token is well-formed but not this workspace's:
    // what a stranger knocking with tokens costs.
    let strangers_token = workspace(bin, url, dir, "stranger", 10)?;
    let port = free_port()?;
    // Failed attempts are not throttled here, so that every refusal pays the token's
    // indexed look-up (throttled, a refusal costs no database work at all).
    let server = start_service(
        bin,
        "scim-api",
        url,
        port,
        &[
            ("SPARK__PUBLIC__SCIM_PORT", port),
            ("SPARK__SECURITY__AUTH_FAILURES_PER_ADDRESS", 0),
            ("SPARK__SECURITY__AUTH_FAILURES_PER_WORKSPACE", 0),
        ],
    )?;
    let host = format!("bench.localhost:{port}");
    let pid = server.0.id();
    // One request of each kind, so the first measured ones find everything warm.
    let mut client = Client::connect(port, &host, &token)?;
    client.get("/scim/v2/Users?startIndex=1&count=100")?;
    println!("  scim-api resident memory idle: {:.1} MiB", rss_mib(pid));
    let database = database_name(url);
    let look_up = format!(
        "'/scim/v2/Users?filter=userName%20eq%20%22employee' .. ((n * 7919) % {EMPLOYEES}) .. '%40bench.example%22'"
    );
    for (label, path, token, refused) in [
        ("userName eq look-ups", look_up.clone(), &token, false),
        (
            "pages of 100 users",
            format!(
                "'/scim/v2/Users?startIndex=' .. ((n % {}) * {PAGE} + 1) .. '&count={PAGE}'",
                EMPLOYEES / PAGE
            ),
            &token,
            false,
        ),
        (
            "look-ups with another workspace's token (401)",
            look_up,
            &strangers_token,
            true,
        ),
    ] {
        let before = (cpu_seconds(&[pid]), cpu_seconds(&backends_of(&database)));
        let result = wrk(port, &host, token, &path, seconds)?;
        let service = (cpu_seconds(&[pid]) - before.0) * 1e6 / result.requests.max(1) as f64;
        let database_cpu = match &database {
            Some(_) => format!(
                ", {:.0} µs in PostgreSQL",
                (cpu_seconds(&backends_of(&database)) - before.1) * 1e6
                    / result.requests.max(1) as f64
            ),
            None => String::new(),
        };
        let unexpected = if refused {
            (result.refused != result.requests).then(|| {
                format!(
                    "{} of {} not refused",
                    result.requests - result.refused,
                    result.requests
                )
            })
        } else {
            (result.refused > 0).then(|| format!("{} refused", result.refused))
        };
        let errors = [
            unexpected,
            (!result.socket_errors.is_empty()).then(|| result.socket_errors.clone()),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("; ");
        println!(
            "  {label}: {:.0}/s (wrk -t2 -c16, {seconds} s; latency {}{}); CPU per request {service:.0} µs in scim-api{database_cpu}; resident memory after: {:.1} MiB",
            result.requests_per_second,
            result.latency,
            if errors.is_empty() {
                String::new()
            } else {
                format!("; ERRORS: {errors}")
            },
            rss_mib(pid)
        );
        if !errors.is_empty() {
            return Err(format!("{label}: {errors}"));
        }
    }
    drop(server);
    Ok(())
}

/// Runs `bench throughput`.
pub fn throughput(args: &[&str]) -> Result {
    let seconds = seconds(args, 15, "cargo xtask bench throughput [SECONDS]")?;
    let bin = release_binaries(&["sparkctl", "scim-api"])?;
    in_scratch_dir("throughput", |dir| {
        crate::bench::on_both_backends(dir, |url| throughput_backend(&bin, url, dir, seconds))
    })
}
