//! `cargo xtask bench import [N]`: how long the operator's real path —
//! `sparkctl employees import` of a generated CSV, release build — takes on each backend.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use crate::{DEFAULT_TEST_DATABASE_URL, Result, cargo, run, target_dir};

const DEPARTMENTS: [&str; 8] = [
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "People",
    "Support",
    "Legal",
    "Operations",
];

/// A realistic employee file: managers first referenced by later rows, every 50th
/// employee inactive, one admin per hundred.
pub fn generate_csv(count: usize, revision: usize) -> String {
    let mut csv = String::from(
        "email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role\n",
    );
    for i in 0..count {
        let manager = if i == 0 {
            String::new()
        } else {
            format!("employee{}@bench.example", i / 100)
        };
        let department = DEPARTMENTS
            .get(i % DEPARTMENTS.len())
            .copied()
            .unwrap_or("Engineering");
        let _ = writeln!(
            csv,
            "employee{i}@bench.example,Given{i},Family{i},Given{i} Family{i},+1 555 {:04},Title {},{department},E-{i:06},{manager},{},{}",
            i % 10_000,
            (i + revision) % 37,
            i % 50 != 49,
            if i % 100 == 0 { "admin" } else { "employee" },
        );
    }
    csv
}

/// Runs the release `sparkctl` in `bin` against `url`; its standard output.
pub fn sparkctl(bin: &Path, url: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(bin.join("sparkctl"))
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .map_err(|e| format!("cannot run sparkctl: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    } else {
        Err(format!(
            "sparkctl {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs `bench` with a new scratch folder for its files (`spark-bench-NAME-PID` in the
/// system's temporary folder), removed afterwards whatever the outcome.
pub fn in_scratch_dir(name: &str, bench: impl FnOnce(&Path) -> Result) -> Result {
    let dir = std::env::temp_dir().join(format!("spark-bench-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let result = bench(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The duration of a timed bench task: its one optional argument, in seconds.
pub fn seconds(args: &[&str], default: u64, usage: &str) -> Result<u64> {
    match args {
        [] => Ok(default),
        [n] => n.parse().map_err(|_| format!("usage: {usage}")),
        _ => Err(format!("usage: {usage}")),
    }
}

/// The employee count of a bench task: its one optional argument (default 100,000;
/// `_` separators allowed).
pub fn employee_count(args: &[&str], usage: &str) -> Result<usize> {
    match args {
        [] => Ok(100_000),
        [n] => n
            .replace('_', "")
            .parse()
            .map_err(|_| format!("not a count: {n}")),
        _ => Err(format!("usage: {usage}")),
    }
}

/// Builds `packages` in release mode; the folder their binaries are in.
pub fn release_binaries(packages: &[&str]) -> Result<PathBuf> {
    let mut args = vec!["build", "--release", "--quiet"];
    for package in packages {
        args.extend(["-p", package]);
    }
    run(&cargo(), &args, &[])?;
    Ok(target_dir().join("release"))
}

/// Runs `bench` with a database URL on each backend: a new SQLite file in `dir`, then a
/// new PostgreSQL database on the `TEST_DATABASE_URL` server, dropped afterwards.
/// `BENCH_BACKEND=sqlite` or `=postgres` runs one of them only.
pub fn on_both_backends(dir: &Path, mut bench: impl FnMut(&str) -> Result) -> Result {
    let only = std::env::var("BENCH_BACKEND").unwrap_or_default();
    if !["", "sqlite", "postgres"].contains(&only.as_str()) {
        return Err(format!("BENCH_BACKEND={only}: use sqlite or postgres"));
    }
    let sqlite = if only == "postgres" {
        Ok(())
    } else {
        println!("SQLite (file, WAL):");
        bench(&format!("sqlite://{}", dir.join("bench.db").display()))
    };
    if only == "sqlite" {
        return sqlite;
    }
    let postgres = on_postgres(&mut bench);
    sqlite?;
    postgres
}

/// Runs `bench` with the URL of a new PostgreSQL database on the `TEST_DATABASE_URL`
/// server, dropped afterwards.
pub fn on_postgres(mut bench: impl FnMut(&str) -> Result) -> Result {
    println!("PostgreSQL:");
    let admin =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.into());
    let name = format!("spark_bench_{}", std::process::id());
    psql(&admin, &format!("CREATE DATABASE {name}"))?;
    let postgres = bench(&bench_database_url(&admin, &name));
    let dropped = psql(&admin, &format!("DROP DATABASE {name} WITH (FORCE)"));
    postgres?;
    dropped
}

/// The URL of database `name` on the server of `admin_url`. Without TLS unless the URL
/// says otherwise: the benchmarks reach a database on this machine, as a co-located
/// deployment would (over a network, TLS costs both sides some 5% more CPU per query).
fn bench_database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url.split_once('?').unwrap_or((admin_url, ""));
    let server = base.rsplit_once('/').map_or(base, |(server, _)| server);
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    if !params.iter().any(|p| p.starts_with("sslmode=")) {
        params.push("sslmode=disable");
    }
    format!("{server}/{name}?{}", params.join("&"))
}

fn psql(admin_url: &str, sql: &str) -> Result {
    psql_value(admin_url, sql).map(|_| ())
}

/// Runs `sql` with psql; the one value its last statement returns.
pub fn psql_value(url: &str, sql: &str) -> Result<String> {
    let out = Command::new("psql")
        .args([url, "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .map_err(|e| format!("cannot run psql (needed for the benchmark database): {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "psql failed: {sql}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn time_backend(bin: &Path, url: &str, files: &[String; 2], count: usize) -> Result<()> {
    sparkctl(bin, url, &["migrate"])?;
    sparkctl(bin, url, &["tenant", "create", "bench"])?;
    let [file, changed] = files;
    let passes = [
        ("first import", file, "created"),
        ("same file again", file, "unchanged"),
        ("every title new", changed, "updated"),
    ];
    for (label, file, expect) in passes {
        let started = Instant::now();
        let summary = sparkctl(bin, url, &["employees", "import", "bench", file])?;
        let seconds = started.elapsed().as_secs_f64();
        if !summary.contains(&format!("{count} {expect}")) {
            return Err(format!("unexpected import result: {summary}"));
        }
        println!(
            "  {label:<16} {count} employees in {seconds:.2} s ({:.0} employees/s) — {summary}",
            count as f64 / seconds
        );
    }
    Ok(())
}

/// Runs the import benchmark.
pub fn import(args: &[&str]) -> Result {
    let count = employee_count(args, "cargo xtask bench import [N]")?;
    let bin = release_binaries(&["sparkctl"])?;
    in_scratch_dir("import", |dir| {
        let files = [0, 1].map(|revision| {
            let file = dir.join(format!("employees-{revision}.csv"));
            let written = std::fs::write(&file, generate_csv(count, revision));
            written.map(|()| file.to_string_lossy().into_owned())
        });
        let [Ok(first), Ok(second)] = files else {
            return Err("cannot write the benchmark files".into());
        };
        let files = [first, second];
        on_both_backends(dir, |url| time_backend(&bin, url, &files, count))
    })
}
