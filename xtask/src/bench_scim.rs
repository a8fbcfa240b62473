//! `cargo xtask bench scim [N]`: Okta's import as a load, against the release build of
//! scim-api on each backend, with N employees (default 100,000):
//!
//! 1. a full import walk in pages of 100 (`startIndex=1, 101, …`), timing the first and
//!    the last ten pages;
//! 2. `userName eq` look-ups in a 1,000-employee tenant and in the N-employee tenant;
//! 3. throughput: four keep-alive clients walking pages for ten seconds;
//! 4. refusals: what a request with a well-formed token that is not the workspace's costs
//!    (verified by one indexed read, as every well-formed token is), beside a malformed
//!    one (refused without the database);
//! 5. groups and the incremental import: `/Groups` without members, one department
//!    with all its members (N/8 of them; time, size, and how much scim-api's resident
//!    memory grows while it streams), and `meta.lastModified gt` with nothing newer.
//!
//! The HTTP client is a few lines of std over one keep-alive connection per client, so
//! the measurement includes no client library's overhead beyond the kernel's.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Result;
use crate::bench::{employee_count, in_scratch_dir, on_both_backends, release_binaries, sparkctl};

pub const PAGE: u64 = 100;
const CLIENTS: usize = 4;
const THROUGHPUT_SECONDS: u64 = 10;

/// One keep-alive HTTP/1.1 connection.
pub struct Client {
    reader: BufReader<TcpStream>,
    host: String,
    /// The header line that authenticates (`Authorization: …` or `Cookie: …`).
    credential: String,
}

impl Client {
    /// A connection to scim-api presenting `token`.
    pub fn connect(port: u16, host: &str, token: &str) -> Result<Self> {
        Self::with_credential(port, host, &format!("Authorization: Bearer {token}"))
    }

    /// A connection sending the header line `credential` with every request.
    pub fn with_credential(port: u16, host: &str, credential: &str) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            reader: BufReader::new(stream),
            host: host.to_owned(),
            credential: credential.to_owned(),
        })
    }

    /// GETs `path`; returns the status and the body.
    pub fn get(&mut self, path: &str) -> Result<(u16, Vec<u8>)> {
        let (status, _, body) = self.exchange(path)?;
        Ok((status, body))
    }

    /// A form POST to `path`, sent from `origin`'s page; the status and headers.
    pub fn post_form(&mut self, path: &str, origin: &str, form: &str) -> Result<(u16, String)> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {}\r\n{}\r\nOrigin: {origin}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            self.host,
            self.credential,
            form.len()
        );
        let (status, headers, _) = self.send(&head)?;
        Ok((status, headers))
    }

    fn exchange(&mut self, path: &str) -> Result<(u16, String, Vec<u8>)> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\n{}\r\nAccept: application/scim+json\r\n\r\n",
            self.host, self.credential
        );
        self.send(&request)
    }

    /// Writes `request` whole; reads the response's status, headers and body.
    fn send(&mut self, request: &str) -> Result<(u16, String, Vec<u8>)> {
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .map_err(|e| e.to_string())?;
        let mut status_line = String::new();
        self.reader
            .read_line(&mut status_line)
            .map_err(|e| e.to_string())?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut length = 0usize;
        let mut chunked = false;
        let mut headers = String::new();
        loop {
            let mut line = String::new();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("transfer-encoding")
            {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
            headers.push_str(line);
            headers.push('\n');
        }
        let body = if chunked {
            self.read_chunked()?
        } else {
            let mut body = vec![0; length];
            self.reader
                .read_exact(&mut body)
                .map_err(|e| e.to_string())?;
            body
        };
        Ok((status, headers, body))
    }

    /// A body sent in chunks (RFC 9112 §7.1): each a hexadecimal size line and that many
    /// bytes, until a chunk of size 0 and the (empty) trailer section.
    fn read_chunked(&mut self) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let mut line = String::new();
            self.reader
                .read_line(&mut line)
                .map_err(|e| e.to_string())?;
            let size = line.trim().split(';').next().unwrap_or_default();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| format!("a chunk size line: {line:?}"))?;
            if size == 0 {
                loop {
                    let mut trailer = String::new();
                    self.reader
                        .read_line(&mut trailer)
                        .map_err(|e| e.to_string())?;
                    if trailer.trim_end().is_empty() {
                        return Ok(body);
                    }
                }
            }
            let start = body.len();
            body.resize(start + size + 2, 0);
            self.reader
                .read_exact(body.get_mut(start..).unwrap_or_default())
                .map_err(|e| e.to_string())?;
            body.truncate(start + size); // the chunk's closing CRLF
        }
    }

    fn page(&mut self, start_index: u64) -> Result<Duration> {
        let started = Instant::now();
        let (status, body) = self.get(&format!(
            "/scim/v2/Users?startIndex={start_index}&count={PAGE}"
        ))?;
        if status != 200 || body.len() < 100 {
            return Err(format!("page {start_index}: status {status}"));
        }
        Ok(started.elapsed())
    }
}

pub fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// A workspace with `count` employees, the integration live, and a token.
pub fn workspace(bin: &Path, url: &str, dir: &Path, name: &str, count: usize) -> Result<String> {
    sparkctl(bin, url, &["tenant", "create", name])?;
    sparkctl(bin, url, &["okta", "enable", name])?;
    sparkctl(bin, url, &["okta", "connect", name])?;
    let file = dir.join(format!("{name}.csv"));
    std::fs::write(&file, crate::bench::generate_csv(count, 0)).map_err(|e| e.to_string())?;
    sparkctl(
        bin,
        url,
        &["employees", "import", name, &file.to_string_lossy()],
    )?;
    sparkctl(bin, url, &["scim-token", "mint", name])
}

/// A service process, killed when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server(bin: &Path, url: &str, port: u16) -> Result<Server> {
    start_service(
        bin,
        "scim-api",
        url,
        port,
        &[("SPARK__PUBLIC__SCIM_PORT", port)],
    )
}

/// Starts the release binary `name` on `port` with `DATABASE_URL` and further
/// settings; waits until it accepts connections.
pub fn start_service(
    bin: &Path,
    name: &str,
    url: &str,
    port: u16,
    env: &[(&str, u16)],
) -> Result<Server> {
    // `BENCH_POOL=N` runs the service with N pooled connections (default 8), to compare
    // pool sizes.
    let pool = std::env::var("BENCH_POOL").unwrap_or_else(|_| "8".to_owned());
    let child = Command::new(bin.join(name))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", url)
        .env("SPARK__DATABASE__MAX_CONNECTIONS", pool)
        .env("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true")
        .envs(env.iter().map(|(k, v)| (*k, v.to_string())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let server = Server(child);
    for _ in 0..100 {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{name} did not start"))
}

fn mean_ms(samples: &[Duration]) -> f64 {
    samples.iter().map(Duration::as_secs_f64).sum::<f64>() * 1000.0 / samples.len().max(1) as f64
}

/// Prints what a walk's pages took (`times`, one per page, in order): in all, and the
/// first ten pages against the last ten; returns the total in seconds.
pub fn describe_walk(label: &str, times: &[Duration]) -> f64 {
    let total: f64 = times.iter().map(Duration::as_secs_f64).sum();
    let first = mean_ms(times.get(..10).unwrap_or_default());
    let last = mean_ms(
        times
            .get(times.len().saturating_sub(10)..)
            .unwrap_or_default(),
    );
    println!(
        "  {label}: {} pages of {PAGE} in {total:.2} s; first 10 pages {first:.2} ms each, last 10 {last:.2} ms each (ratio {:.2})",
        times.len(),
        last / first
    );
    total
}

fn median_us(mut samples: Vec<Duration>) -> f64 {
    samples.sort();
    samples
        .get(samples.len() / 2)
        .map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn bench_backend(bin: &Path, url: &str, dir: &Path, count: usize) -> Result {
    let big_token = workspace(bin, url, dir, "big", count)?;
    let small_token = workspace(bin, url, dir, "small", 1_000)?;
    let port = free_port()?;
    let server = start_server(bin, url, port)?;
    let big = format!("big.localhost:{port}");
    let small = format!("small.localhost:{port}");

    // 1. The import walk.
    let mut client = Client::connect(port, &big, &big_token)?;
    let pages = (count as u64).div_ceil(PAGE);
    let mut times = Vec::new();
    for page in 0..pages {
        times.push(client.page(page * PAGE + 1)?);
    }
    describe_walk("import walk", &times);

    // 2. userName look-ups, small tenant vs big tenant.
    for (label, host, token, size) in [
        ("1,000", &small, &small_token, 1_000),
        ("full", &big, &big_token, count),
    ] {
        let mut client = Client::connect(port, host, token)?;
        let mut samples = Vec::new();
        for i in 0..500 {
            let email = format!("employee{}%40bench.example", (i * 7919) % size);
            let started = Instant::now();
            let (status, _) = client.get(&format!(
                "/scim/v2/Users?filter=userName%20eq%20%22{email}%22"
            ))?;
            if status != 200 {
                return Err(format!("look-up: status {status}"));
            }
            samples.push(started.elapsed());
        }
        println!(
            "  userName eq in the {label}-employee tenant ({size}): median {:.0} µs",
            median_us(samples)
        );
    }

    // 3. Throughput, and what each page cost in CPU time.
    let database = database_name(url);
    let cpu_before = (
        cpu_seconds(&[server.0.id()]),
        cpu_seconds(&backends_of(&database)),
    );
    let deadline = Instant::now() + Duration::from_secs(THROUGHPUT_SECONDS);
    let results: Vec<Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (big, token) = (big.clone(), big_token.clone());
                s.spawn(move || -> Result<u64> {
                    let mut client = Client::connect(port, &big, &token)?;
                    let mut served = 0;
                    let mut page = (c as u64 * pages / CLIENTS as u64) % pages;
                    while Instant::now() < deadline {
                        client.page(page * PAGE + 1)?;
                        served += 1;
                        page = (page + 1) % pages;
                    }
                    Ok(served)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("client panicked".into())))
            .collect()
    });
    let mut total = 0;
    for result in results {
        total += result?;
    }
    println!(
        "  throughput: {:.0} pages of {PAGE} users per second ({CLIENTS} keep-alive clients, {THROUGHPUT_SECONDS} s, zero errors)",
        total as f64 / THROUGHPUT_SECONDS as f64
    );
    println!(
        "  CPU per page: {}",
        cpu_per_request(&server, &database, cpu_before, total)
    );

    // 4. Refusals: another workspace's (valid, well-formed) token on the big workspace's
    // host — verified, and refused — and a token that is not even well-formed.
    for (label, credential) in [
        (
            "a well-formed token of another workspace (one indexed read)",
            format!("Authorization: Bearer {small_token}"),
        ),
        (
            "a malformed token (no database work)",
            "Authorization: Bearer spark_scim_not-a-token".to_owned(),
        ),
    ] {
        let cpu_before = (
            cpu_seconds(&[server.0.id()]),
            cpu_seconds(&backends_of(&database)),
        );
        let refused = hammer(port, &big, &credential, Duration::from_secs(5))?;
        println!(
            "  refusing {label}: {:.0} requests/s ({CLIENTS} clients, 401 then 429); CPU per refusal: {}",
            refused as f64 / 5.0,
            cpu_per_request(&server, &database, cpu_before, refused)
        );
    }

    // 5. Groups, and the incremental import.
    let mut client = Client::connect(port, &big, &big_token)?;
    let mut timed = |path: &str, times: usize| -> Result<(f64, usize)> {
        let mut samples = Vec::new();
        let mut size = 0;
        for _ in 0..times {
            let started = Instant::now();
            let (status, body) = client.get(path)?;
            if status != 200 {
                return Err(format!("{path}: status {status}"));
            }
            samples.push(started.elapsed());
            size = body.len();
        }
        Ok((median_us(samples) / 1000.0, size))
    };
    let (lean, _) = timed("/scim/v2/Groups?excludedAttributes=members", 50)?;
    println!("  /Groups without members: median {lean:.2} ms");
    let pid = server.0.id();
    let idle = rss_mib(pid);
    let peak = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicBool::new(false);
    let (whole, size) = std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(std::sync::atomic::Ordering::Relaxed) {
                let kib = (rss_mib(pid) * 1024.0) as u64;
                peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let timed = timed("/scim/v2/Groups?count=1", 5);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        timed
    })?;
    let grown = peak.into_inner() as f64 / 1024.0 - idle;
    println!(
        "  one department with its {} members: median {whole:.0} ms, {:.1} MB; resident memory {idle:.1} MiB before, at most +{:.1} MiB while streaming",
        count / 8,
        size as f64 / 1e6,
        grown.max(0.0)
    );
    let now = utc_now();
    let (newer, _) = timed(
        &format!("/scim/v2/Users?filter=meta.lastModified%20gt%20%22{now}%22"),
        50,
    )?;
    println!("  meta.lastModified gt now (nothing newer): median {newer:.2} ms");
    Ok(())
}

/// The current time as RFC 3339 in UTC, from `date` (xtask has no time library).
fn utc_now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|_| "2100-01-01T00:00:00Z".to_owned())
}

/// The CPU time scim-api (and PostgreSQL's backends) spent per request since `before`.
fn cpu_per_request(
    server: &Server,
    database: &Option<String>,
    before: (f64, f64),
    requests: u64,
) -> String {
    let per = |seconds: f64| seconds * 1e6 / requests.max(1) as f64;
    let service = cpu_seconds(&[server.0.id()]) - before.0;
    match database {
        // Backends that connected during the run are counted whole; the pool's were all
        // open before it.
        Some(_) => format!(
            "{:.0} µs in scim-api, {:.0} µs in PostgreSQL",
            per(service),
            per(cpu_seconds(&backends_of(database)) - before.1)
        ),
        None => format!("{:.0} µs in scim-api (SQLite runs inside it)", per(service)),
    }
}

/// [`CLIENTS`] keep-alive clients sending `/Users` with `credential` for `time`, each
/// answer a refusal (401, or 429 once the address has used up its failures); returns how
/// many were answered.
fn hammer(port: u16, host: &str, credential: &str, time: Duration) -> Result<u64> {
    let deadline = Instant::now() + time;
    let results: Vec<Result<u64>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(move || -> Result<u64> {
                    let mut client = Client::with_credential(port, host, credential)?;
                    let mut answered = 0;
                    while Instant::now() < deadline {
                        let (status, _) = client.get("/scim/v2/Users?count=1")?;
                        if status != 401 && status != 429 {
                            return Err(format!("a refusal answered {status}"));
                        }
                        answered += 1;
                    }
                    Ok(answered)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("client panicked".into())))
            .collect()
    });
    results.into_iter().sum()
}

/// The PostgreSQL database a URL names (`None` for SQLite).
pub fn database_name(url: &str) -> Option<String> {
    let path = url.split('?').next().unwrap_or_default();
    url.starts_with("postgres")
        .then(|| path.rsplit('/').next().unwrap_or_default().to_owned())
}

/// The server processes serving connections to `database`, by their process titles
/// (`postgres: … user database host(port) state`).
pub fn backends_of(database: &Option<String>) -> Vec<u32> {
    let Some(database) = database else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|title| {
                let title = String::from_utf8_lossy(&title);
                title.starts_with("postgres: ")
                    && title.split_whitespace().any(|word| word == database)
            })
        })
        .collect()
}

/// Resident memory of a process, in MiB.
pub fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

/// The CPU time (user and system) the processes have used so far, in seconds.
pub fn cpu_seconds(pids: &[u32]) -> f64 {
    let ticks_per_second = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| {
            String::from_utf8_lossy(&out.stdout)
                .trim()
                .parse::<f64>()
                .ok()
        })
        .unwrap_or(100.0);
    let ticks: u64 = pids
        .iter()
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // After the command name in parentheses: state is field 3, utime 14, stime 15.
            let (_, fields) = stat.rsplit_once(')')?;
            let fields: Vec<&str> = fields.split_whitespace().collect();
            let user: u64 = fields.get(11)?.parse().ok()?;
            let system: u64 = fields.get(12)?.parse().ok()?;
            Some(user + system)
        })
        .sum();
    ticks as f64 / ticks_per_second
}

/// Runs the SCIM benchmark.
pub fn scim(args: &[&str]) -> Result {
    let count = employee_count(args, "cargo xtask bench scim [N]")?;
    let bin = release_binaries(&["sparkctl", "scim-api"])?;
    in_scratch_dir("scim", |dir| {
        on_both_backends(dir, |url| {
            sparkctl(&bin, url, &["migrate"])?;
            bench_backend(&bin, url, dir, count)
        })
    })
}
