//! Developer tasks, run as `cargo xtask <task>`. Standard library only, so it builds in
//! seconds and never drags the workspace's dependencies in.
//!
//! - `dev`: the demo on the embedded SQLite database, both services running.
//! - `test`: formatting, clippy, the layering rules (`tidy`), then every test on SQLite
//!   and PostgreSQL; says which backends ran, and fails when PostgreSQL is unreachable
//!   under `CI=true` instead of skipping it.
//! - `fuzz [TARGET|all] [SECONDS]`: one cargo-fuzz target, or every one in turn, for a
//!   bounded time each.
//! - `tidy`: the layering rules of ARCHITECTURE.md, checked from the Cargo.toml files.
//! - `bench import [N]`: times `sparkctl employees import` of N generated employees
//!   (default 100,000) on both backends.
//! - `bench scim [N]`: Okta's import walk, look-ups and throughput against scim-api.
//! - `bench load [SECONDS]`: both services at saturation at once: errors and memory.
//! - `bench replicas [N]`, `bench throughput [SECONDS]`: scim-api as a deployment.

mod bench;
mod bench_load;
mod bench_scale;
mod bench_scim;
mod dev;
mod fuzz;
mod tidy;

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

/// The server PostgreSQL tests use unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["test", rest @ ..] => test(rest),
        ["dev", rest @ ..] => dev::dev(rest),
        ["tidy"] => tidy::check(&workspace_root()),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["bench", "import", rest @ ..] => bench::import(rest),
        ["bench", "scim", rest @ ..] => bench_scim::scim(rest),
        ["bench", "load", rest @ ..] => bench_load::load(rest),
        ["bench", "replicas", rest @ ..] => bench_scale::replicas(rest),
        ["bench", "throughput", rest @ ..] => bench_scale::throughput(rest),
        _ => Err(USAGE.trim().to_owned()),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "
usage: cargo xtask <task>
  dev [--no-wait|--check]  seed the demo workspace acme, start both services, print how to use them
                        (--check: try the printed curl line and sign-in link, then stop)
  test [-- TEST-ARGS]   fmt, clippy, tidy, and every test on SQLite and PostgreSQL
  tidy                  check the crate layering rules
  fuzz [TARGET|all] [SECONDS]
                        run one fuzz target (default 60 s), or all of them (no target or
                        `all`: default 30 s each); targets: filter, scim_query, sign_in_params
  bench import [N]      time importing N employees (default 100000) on both backends
  bench scim [N]        Okta's import against scim-api with N employees (default 100000)
  bench load [SECONDS]  both services at saturation for SECONDS (default 60): errors, memory
  bench replicas [N]    Okta's import walk over N employees on one and on two scim-api replicas
  bench throughput [SECONDS]
                        wrk against look-ups and pages (10,000 employees): rate, CPU, memory
";

/// The workspace root: the nearest folder from the current one up whose Cargo.toml
/// has a `[workspace]` table (cargo runs xtask from where it was invoked). Found at run
/// time, not from the build: checkouts sharing one CARGO_TARGET_DIR share the xtask
/// binary too, and must each act on their own tree.
pub fn workspace_root() -> PathBuf {
    let start = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    start
        .ancestors()
        .find(|dir| {
            std::fs::read_to_string(dir.join("Cargo.toml"))
                .is_ok_and(|text| text.lines().any(|line| line.trim() == "[workspace]"))
        })
        .map_or(start.clone(), Path::to_path_buf)
}

/// Runs a command in the workspace root; fails with its name when it fails.
pub fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    println!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

fn test(extra: &[&str]) -> Result {
    let cargo = cargo();
    run(&cargo, &["fmt", "--all", "--", "--check"], &[])?;
    run(
        &cargo,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
        &[],
    )?;
    tidy::check(&workspace_root())?;

    let postgres_url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.into());
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let postgres_up = postgres_reachable(&postgres_url);
    let mut test_args: Vec<&str> = vec!["test", "--workspace", "--"];
    let backends = match (postgres_up, ci) {
        (true, _) => "SQLite and PostgreSQL",
        (false, true) => {
            return Err(format!(
                "PostgreSQL is unreachable at {} and CI=true: the PostgreSQL tests must run \
                 in CI (start the server, or set TEST_DATABASE_URL)",
                redact(&postgres_url)
            ));
        }
        (false, false) => {
            eprintln!(
                "\nxtask: WARNING: PostgreSQL is unreachable at {}; its tests are NOT run \
                 (filtered out with --skip postgres). CI runs them.\n",
                redact(&postgres_url)
            );
            test_args.extend(["--skip", "postgres"]);
            "SQLite only (PostgreSQL unreachable)"
        }
    };
    test_args.extend(extra.iter().copied().filter(|a| *a != "--"));
    run(
        &cargo,
        &test_args,
        &[("TEST_DATABASE_URL", postgres_url.as_str())],
    )?;
    // What a fresh clone shows first: `cargo xtask dev` on a fresh SQLite database, its
    // curl line and sign-in link tried for real.
    let demo = std::env::temp_dir().join(format!("spark-dev-check-{}", std::process::id()));
    std::fs::create_dir_all(&demo).map_err(|e| e.to_string())?;
    let demo_db = demo.join("spark.db").to_string_lossy().into_owned();
    let checked = run(
        &cargo,
        &["xtask", "dev", "--check"],
        &[("DATABASE_URL", demo_db.as_str())],
    );
    let _ = std::fs::remove_dir_all(&demo);
    checked?;
    println!("\nxtask: every check passed; database backends tested: {backends}");
    Ok(())
}

/// `postgres://user:secret@host/db` with the password hidden, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = url.get(scheme_end + 3..at).unwrap_or_default();
            match userinfo.split_once(':') {
                Some((user, _)) => format!(
                    "{}{user}:***{}",
                    url.get(..scheme_end + 3).unwrap_or_default(),
                    url.get(at..).unwrap_or_default()
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Can a TCP connection be made to the URL's host and port (default 5432)?
fn postgres_reachable(url: &str) -> bool {
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else {
        return false;
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host_port = if host_port.is_empty() {
        "127.0.0.1"
    } else {
        host_port
    };
    let with_port = if host_port
        .rsplit(':')
        .next()
        .is_some_and(|p| p.parse::<u16>().is_ok())
        && host_port.contains(':')
    {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    let addrs: Vec<SocketAddr> = with_port
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default();
    addrs
        .iter()
        .any(|addr| TcpStream::connect_timeout(addr, Duration::from_secs(2)).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://u:pw@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
