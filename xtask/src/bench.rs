//! `cargo xtask bench import [N]`: how long the operator's real path —
//! `sparkctl employees import` of a generated CSV, release build — takes on each backend.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use crate::{DEFAULT_TEST_DATABASE_URL, Result, cargo, run, workspace_root};

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

fn sparkctl(binary: &Path, url: &str, args: &[&str]) -> Result<String> {
    let out = Command::new(binary)
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

pub fn psql(admin_url: &str, sql: &str) -> Result {
    let status = Command::new("psql")
        .args([admin_url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .status()
        .map_err(|e| format!("cannot run psql (needed to create the benchmark database): {e}"))?;
    status
        .success()
        .then_some(())
        .ok_or_else(|| format!("psql failed: {sql}"))
}

fn time_backend(binary: &Path, url: &str, files: &[String; 2], count: usize) -> Result<()> {
    sparkctl(binary, url, &["migrate"])?;
    sparkctl(binary, url, &["tenant", "create", "bench"])?;
    let [file, changed] = files;
    let passes = [
        ("first import", file, "created"),
        ("same file again", file, "unchanged"),
        ("every title new", changed, "updated"),
    ];
    for (label, file, expect) in passes {
        let started = Instant::now();
        let summary = sparkctl(binary, url, &["employees", "import", "bench", file])?;
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
    let count: usize = match args {
        [] => 100_000,
        [n] => n
            .replace('_', "")
            .parse()
            .map_err(|_| format!("not a count: {n}"))?,
        _ => return Err("usage: cargo xtask bench import [N]".into()),
    };
    run(
        &cargo(),
        &["build", "--release", "--quiet", "-p", "sparkctl"],
        &[],
    )?;
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| workspace_root().join("target"));
    let binary = target.join("release/sparkctl");

    let dir = std::env::temp_dir().join(format!("spark-bench-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let files = [0, 1].map(|revision| {
        let file = dir.join(format!("employees-{revision}.csv"));
        let written = std::fs::write(&file, generate_csv(count, revision));
        written.map(|()| file.to_string_lossy().into_owned())
    });
    let [Ok(first), Ok(second)] = files else {
        return Err("cannot write the benchmark files".into());
    };
    let files = [first, second];

    println!("SQLite (file, WAL):");
    let sqlite_url = format!("sqlite://{}", dir.join("bench.db").display());
    let sqlite = time_backend(&binary, &sqlite_url, &files, count);

    println!("PostgreSQL:");
    let admin_url =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.into());
    let name = format!("spark_bench_{}", std::process::id());
    psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
    let server = admin_url
        .rsplit_once('/')
        .map_or(admin_url.as_str(), |(server, _)| server);
    let postgres = time_backend(&binary, &format!("{server}/{name}"), &files, count);
    let dropped = psql(&admin_url, &format!("DROP DATABASE {name} WITH (FORCE)"));

    let _ = std::fs::remove_dir_all(&dir);
    sqlite?;
    postgres?;
    dropped
}
