//! `cargo xtask bench load [SECONDS]`: both services at saturation at once, on each
//! backend, for SECONDS (default 60): release builds of scim-api and auth-gateway on a
//! fresh database with 10,000 employees; eight keep-alive clients walk SCIM pages of 100
//! (Okta's import) and eight ask auth-gateway's `GET /api/me` with a session, all
//! together on this machine's cores. Reports requests per second, every response that
//! was not 200 or failed (the figure that must be zero), and each process's resident
//! memory (`VmRSS`) sampled every five seconds, so growth shows.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::{in_scratch_dir, on_both_backends, release_binaries, seconds, sparkctl};
use crate::bench_scim::{Client, Server, free_port, rss_mib, start_service, workspace};

const EMPLOYEES: usize = 10_000;
const CLIENTS_PER_SERVICE: usize = 8;
const SAMPLE_EVERY: Duration = Duration::from_secs(5);

/// Counts of one service's load.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    failed: AtomicU64,
}

/// A session cookie for the workspace's admin, from a sign-in link.
fn session_cookie(bin: &Path, url: &str, port: u16, host: &str) -> Result<String> {
    let link = sparkctl(
        bin,
        url,
        &["login-link", "loadtest", "employee0@bench.example"],
    )?;
    let (_, token) = link
        .split_once("/auth/login-link?token=")
        .ok_or_else(|| format!("unexpected sign-in link {link}"))?;
    // The link's page posts it from the workspace's own origin (a GET signs nobody in):
    // the gateway's, whose port the link (made without it) does not know.
    let origin = format!("http://{host}");
    let mut client = Client::with_credential(port, host, "X-Load: 1")?;
    let (status, headers) =
        client.post_form("/auth/login-link", &origin, &format!("token={token}"))?;
    if status != 302 {
        return Err(format!("sign-in link: status {status}"));
    }
    headers
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.trim().split(';').next())
        .find(|pair| pair.starts_with("spark_session="))
        .map(str::to_owned)
        .ok_or_else(|| "the sign-in link set no session cookie".into())
}

/// Runs `clients` threads calling `request` until `stop`; each counts into `tally`.
fn drive(
    clients: usize,
    stop: &Arc<AtomicBool>,
    tally: &Arc<Tally>,
    connect: impl Fn() -> Result<Client> + Send + Sync + Clone + 'static,
    path: impl Fn(u64) -> String + Send + Sync + Clone + 'static,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..clients)
        .map(|n| {
            let (stop, tally, connect, path) =
                (stop.clone(), tally.clone(), connect.clone(), path.clone());
            std::thread::spawn(move || {
                let mut client = connect().ok();
                let mut i = n as u64;
                while !stop.load(Ordering::Relaxed) {
                    let answer = client.as_mut().map(|c| c.get(&path(i)));
                    match answer {
                        Some(Ok((200, _))) => {
                            tally.ok.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {
                            tally.failed.fetch_add(1, Ordering::Relaxed);
                            client = connect().ok();
                        }
                    }
                    i += clients as u64;
                }
            })
        })
        .collect()
}

fn bench_backend(bin: &Path, url: &str, dir: &Path, seconds: u64) -> Result {
    sparkctl(bin, url, &["migrate"])?;
    let token = workspace(bin, url, dir, "loadtest", EMPLOYEES)?;
    let scim_port = free_port()?;
    let auth_port = free_port()?;
    let scim = start_service(
        bin,
        "scim-api",
        url,
        scim_port,
        &[("SPARK__PUBLIC__SCIM_PORT", scim_port)],
    )?;
    let gateway = start_service(
        bin,
        "auth-gateway",
        url,
        auth_port,
        &[("SPARK__PUBLIC__AUTH_PORT", auth_port)],
    )?;
    let host = |port: u16| format!("loadtest.localhost:{port}");
    let cookie = session_cookie(bin, url, auth_port, &host(auth_port))?;

    let stop = Arc::new(AtomicBool::new(false));
    let (pages, me) = (Arc::new(Tally::default()), Arc::new(Tally::default()));
    let scim_host = host(scim_port);
    let bearer = format!("Authorization: Bearer {token}");
    let mut threads = drive(
        CLIENTS_PER_SERVICE,
        &stop,
        &pages,
        move || Client::with_credential(scim_port, &scim_host, &bearer),
        |i| {
            let page = i % (EMPLOYEES as u64 / 100);
            format!("/scim/v2/Users?startIndex={}&count=100", page * 100 + 1)
        },
    );
    let auth_host = host(auth_port);
    let cookie_line = format!("Cookie: {cookie}");
    threads.extend(drive(
        CLIENTS_PER_SERVICE,
        &stop,
        &me,
        move || Client::with_credential(auth_port, &auth_host, &cookie_line),
        |_| "/api/me".to_owned(),
    ));

    let started = Instant::now();
    let processes = [("scim-api", &scim), ("auth-gateway", &gateway)];
    let mut samples: Vec<(u64, [f64; 2])> = Vec::new();
    while started.elapsed() < Duration::from_secs(seconds) {
        std::thread::sleep(SAMPLE_EVERY);
        let rss = processes.map(|(_, server): (&str, &Server)| rss_mib(server.0.id()));
        samples.push((started.elapsed().as_secs(), rss));
    }
    stop.store(true, Ordering::Relaxed);
    for thread in threads {
        let _ = thread.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    for (name, tally, unit) in [
        ("scim-api", &pages, "pages of 100 users"),
        ("auth-gateway", &me, "GET /api/me"),
    ] {
        let ok = tally.ok.load(Ordering::Relaxed);
        let failed = tally.failed.load(Ordering::Relaxed);
        println!(
            "  {name}: {:.0} {unit} per second, {ok} answered 200, {failed} errors ({CLIENTS_PER_SERVICE} clients, {elapsed:.0} s)",
            ok as f64 / elapsed
        );
    }
    for (i, (name, _)) in processes.iter().enumerate() {
        let series: Vec<String> = samples
            .iter()
            .map(|(at, rss)| format!("{at}s {:.1}", rss.get(i).copied().unwrap_or_default()))
            .collect();
        println!("  {name} resident memory (MiB): {}", series.join(", "));
    }
    let failed = pages.failed.load(Ordering::Relaxed) + me.failed.load(Ordering::Relaxed);
    drop(scim);
    drop(gateway);
    if failed > 0 {
        return Err(format!("{failed} requests failed under load"));
    }
    Ok(())
}

/// Runs the load benchmark.
pub fn load(args: &[&str]) -> Result {
    let seconds = seconds(args, 60, "cargo xtask bench load [SECONDS]")?;
    let bin = release_binaries(&["sparkctl", "scim-api", "auth-gateway"])?;
    in_scratch_dir("load", |dir| {
        on_both_backends(dir, |url| bench_backend(&bin, url, dir, seconds))
    })
}
