//! Developer tasks, run as `cargo xtask <task>`. Standard library only, so it builds in
//! seconds and never drags the workspace's dependencies in.
//!
//! - `dev`: the demo on the embedded SQLite database, both services running.
//! - `test`: makes the tests' peers ready (`setup`), then formatting, clippy, the
//!   layering rules (`tidy`), the fuzz targets, every test on SQLite and PostgreSQL, and
//!   `dev --check`; says which backends ran, and fails when PostgreSQL is unreachable
//!   under `CI=true` instead of skipping it.
//! - `setup`: the tests' peers alone (system packages, PostgreSQL, npm, Python venv).
//! - `fuzz [TARGET|all] [SECONDS]`: one cargo-fuzz target, or every one in turn, for a
//!   bounded time each.
//! - `tidy`: the layering rules of ARCHITECTURE.md, checked from the Cargo.toml files.
//! - `bench import [N]`: times `sparkctl employees import` of N generated employees
//!   (default 100,000) on both backends.
//! - `bench scim [N]`: Okta's import walk, look-ups and throughput against scim-api.
//! - `bench load [SECONDS]`: both services at saturation at once: errors and memory.
//! - `bench replicas [N]`, `bench throughput [SECONDS]`: scim-api as a deployment.
//! - `bench ceiling [SECONDS]`: what PostgreSQL alone serves of scim-api's statements.

mod bench;
mod bench_ceiling;
mod bench_load;
mod bench_scale;
mod bench_scim;
mod dev;
mod fuzz;
mod peers;
mod test;
mod tidy;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The server PostgreSQL tests use unless `TEST_DATABASE_URL` says otherwise.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match args.as_slice() {
        ["test", rest @ ..] => test::test(rest),
        ["setup"] => peers::setup().map(|postgres| match postgres.missing {
            Some(why) => eprintln!("xtask: WARNING: {why}"),
            None => println!("xtask: the tests' peers are ready"),
        }),
        ["dev", rest @ ..] => dev::dev(rest),
        ["tidy"] => tidy::check(&workspace_root()),
        ["fuzz", rest @ ..] => fuzz::fuzz(rest),
        ["bench", "import", rest @ ..] => bench::import(rest),
        ["bench", "scim", rest @ ..] => bench_scim::scim(rest),
        ["bench", "load", rest @ ..] => bench_load::load(rest),
        ["bench", "replicas", rest @ ..] => bench_scale::replicas(rest),
        ["bench", "throughput", rest @ ..] => bench_scale::throughput(rest),
        ["bench", "ceiling", rest @ ..] => bench_ceiling::ceiling(rest),
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
  test [-- TEST-ARGS]   make the tests' peers ready, then fmt, clippy, tidy, the fuzz
                        targets, and every test on SQLite and PostgreSQL
  setup                 make the tests' peers ready: system packages (as root on Debian),
                        PostgreSQL, npm ci for the test OpenID Provider, .venv
  tidy                  check the crate layering rules
  fuzz [TARGET|all] [SECONDS]
                        run one fuzz target (default 60 s), or all of them (no target or
                        `all`: default 30 s each); targets: filter, scim_query, sign_in_params,
                        universal_logout
  bench import [N]      time importing N employees (default 100000) on both backends
  bench scim [N]        Okta's import against scim-api with N employees (default 100000)
  bench load [SECONDS]  both services at saturation for SECONDS (default 60): errors, memory
  bench replicas [N]    Okta's import walk over N employees on one and on two scim-api replicas
  bench throughput [SECONDS]
                        wrk against look-ups and pages (10,000 employees): rate, CPU, memory
  bench ceiling [SECONDS]
                        pgbench against scim-api's look-up and page statements on PostgreSQL
                        alone: the most any scim-api could serve with that database here
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

/// A command for `program` without what `cargo run` told xtask about its own package
/// (`CARGO_MANIFEST_DIR`, `CARGO_PKG_*`, …). Cargo run from xtask would otherwise pass
/// them on to build scripts, and ring's tracks `CARGO_MANIFEST_DIR`: every switch between
/// `cargo xtask test` and a plain `cargo test` would rebuild ring and all above it.
pub fn command(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("CARGO_PKG_")
            || [
                "CARGO_MANIFEST_DIR",
                "CARGO_MANIFEST_PATH",
                "CARGO_CRATE_NAME",
                "CARGO_BIN_NAME",
                "CARGO_PRIMARY_PACKAGE",
            ]
            .contains(&name.as_ref())
        {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Runs a command in the workspace root; fails with its name when it fails.
pub fn run(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    println!("$ {program} {}", args.join(" "));
    let status = command(program)
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

/// The build folder: `CARGO_TARGET_DIR`, or `target/` in the workspace root.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}
