//! `cargo xtask test`: the README's test command, on a fresh clone as on a prepared
//! machine. In order, each phase announced with the time since the start: the peers
//! (`peers`), rustfmt, clippy, the layering rules, clippy on the fuzz targets (outside the
//! workspace), the test binaries built, every test run, and `cargo xtask dev --check`.
//! Ends with where the time went: each phase, and each test binary.
//!
//! Tests that need PostgreSQL say so: `#[ignore = "needs PostgreSQL"]` (the
//! `backend_tests!` macro marks each `postgres` half so). They run, with
//! `--include-ignored`, whenever PostgreSQL answers; without it, outside CI, they are
//! left out, reported as ignored, and counted in a warning at the start and the end.
//! `tidy` checks that no test is ignored for any other reason.

use std::io::{BufRead, BufReader, Write as _};
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::tidy::NEEDS_POSTGRES;
use crate::timeline::{Timeline, clock};
use crate::{Result, cargo, command, fuzz, peers, run, tidy, workspace_root};

/// What a package's doc tests are called in the output.
const DOC_TESTS: &str = "doc tests";

/// The test binary that drives headless Chromium, announced as its own phase.
const BROWSER_TESTS: (&str, &str) = ("auth-gateway", "tests/admin_browser.rs");

/// Runs the test task; always ends with where the time went, also when a phase failed.
pub fn test(extra: &[&str]) -> Result {
    let mut timeline = Timeline::start();
    let mut binaries = Vec::new();
    let outcome = phases(&mut timeline, &mut binaries, extra);
    timeline.end();
    println!("\nxtask: where the time went (wall clock):");
    println!("{}", timeline.summary());
    if !binaries.is_empty() {
        println!("\nxtask: test binaries, slowest first:");
        println!("{}", binary_table(&binaries));
    }
    outcome
}

fn phases(timeline: &mut Timeline, binaries: &mut Vec<Binary>, extra: &[&str]) -> Result {
    let cargo = cargo();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");

    timeline.phase("peers: system packages, PostgreSQL, npm ci, .venv");
    let postgres = peers::setup()?;
    let skipped_postgres = match (&postgres.missing, ci) {
        (None, _) => {
            println!(
                "xtask: PostgreSQL answers at {}",
                peers::redact(&postgres.url)
            );
            None
        }
        (Some(why), true) => {
            return Err(format!(
                "{why}. Under CI=true the PostgreSQL tests must run (set TEST_DATABASE_URL \
                 to a server that answers)"
            ));
        }
        (Some(why), false) => {
            eprintln!(
                "\nxtask: WARNING: {why}.\nxtask: WARNING: the tests that need PostgreSQL will \
                 NOT run (shown as ignored); only the SQLite half of the suite runs. CI runs \
                 them all.\n"
            );
            Some(why.clone())
        }
    };

    timeline.phase("rustfmt");
    run(&cargo, &["fmt", "--all", "--", "--check"], &[])?;
    timeline.phase("clippy");
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
    timeline.phase("tidy");
    tidy::check(&workspace_root())?;
    timeline.phase("clippy: fuzz targets");
    fuzz::check()?;

    timeline.phase("build the tests");
    let executables = build_tests(&cargo)?;

    timeline.phase("tests");
    let mut args = vec!["test", "--workspace", "--"];
    if skipped_postgres.is_none() {
        args.push("--include-ignored");
    }
    args.extend(extra.iter().copied().filter(|a| *a != "--"));
    let status = run_tests(
        &cargo,
        &args,
        &[("TEST_DATABASE_URL", postgres.url.as_str())],
        &executables,
        timeline,
        binaries,
    )?;
    let not_run: u32 = binaries.iter().map(|b| b.needs_postgres).sum();
    if !status.success() {
        return Err(format!("`cargo {}` failed ({status})", args.join(" ")));
    }

    // What a fresh clone shows first: `cargo xtask dev` on a fresh SQLite database, its
    // curl line and sign-in link tried for real.
    timeline.phase("cargo xtask dev --check");
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

    match skipped_postgres {
        None => {
            println!("\nxtask: every check passed; database backends tested: SQLite and PostgreSQL")
        }
        Some(why) => eprintln!(
            "\nxtask: WARNING: {not_run} tests that need PostgreSQL did NOT run ({why}).\n\
             xtask: every other check passed; database backends tested: SQLite only"
        ),
    }
    Ok(())
}

/// A test binary's file name (`faults-0123abcd`) and its package.
#[derive(Debug, PartialEq, Eq)]
struct Executable {
    file: String,
    package: String,
}

/// Builds every test binary; the packages they belong to (test binaries' names, such as
/// `faults`, repeat across packages; cargo's JSON messages tell them apart).
fn build_tests(cargo: &str) -> Result<Vec<Executable>> {
    let args = [
        "test",
        "--workspace",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ];
    println!("$ {cargo} {}", args.join(" "));
    let out = command(cargo)
        .args(args)
        .current_dir(workspace_root())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`cargo {}` failed ({})",
            args.join(" "),
            out.status
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(executable)
        .collect())
}

/// The executable a `compiler-artifact` message of cargo names, with its package.
fn executable(message: &str) -> Option<Executable> {
    if json_string(message, "reason")? != "compiler-artifact" {
        return None;
    }
    let path = json_string(message, "executable")?;
    let manifest = json_string(message, "manifest_path")?;
    let package = Path::new(&manifest)
        .parent()?
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let file = Path::new(&path).file_name()?.to_string_lossy().into_owned();
    Some(Executable { file, package })
}

/// The first string value of `"key":"…"` in one line of JSON (escapes undone for `\"`
/// and `\\`, enough for paths and names); `None` when absent or not a string.
fn json_string(json: &str, key: &str) -> Option<String> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = json.get(start..)?.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(value),
            '\\' => value.push(chars.next()?),
            c => value.push(c),
        }
    }
    None
}

/// One test binary's run.
#[derive(Debug)]
struct Binary {
    package: String,
    /// `unittests src/lib.rs`, `tests/faults.rs`, `doc tests`.
    what: String,
    took: Duration,
    /// `12 passed, 0 failed, 3 ignored`, from libtest's closing line.
    result: Option<String>,
    /// Tests it left out because they need PostgreSQL.
    needs_postgres: u32,
}

/// Where a line came from.
enum Line {
    Out(String),
    Err(String),
}

/// Runs `cargo args` with its output passed through, announcing each package's tests (and
/// the browser tests) as a phase, and timing each test binary.
fn run_tests(
    cargo: &str,
    args: &[&str],
    envs: &[(&str, &str)],
    executables: &[Executable],
    timeline: &Timeline,
    binaries: &mut Vec<Binary>,
) -> Result<ExitStatus> {
    println!("$ {cargo} {}", args.join(" "));
    let mut child = command(cargo)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let (lines, received) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        forward(out, lines.clone(), Line::Out);
    }
    if let Some(err) = child.stderr.take() {
        forward(err, lines.clone(), Line::Err);
    }
    drop(lines);
    let mut progress = Progress {
        executables,
        timeline,
        binaries,
        started: None,
        results: 0,
    };
    let status = loop {
        match received.recv_timeout(Duration::from_millis(200)) {
            Ok(line) => progress.line(line),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break child
                    .wait()
                    .map_err(|e| format!("waiting for cargo: {e}"))?;
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let exited = child
                    .try_wait()
                    .map_err(|e| format!("waiting for cargo: {e}"))?;
                if let Some(status) = exited {
                    // What is left in the pipes; a process a test left running may hold
                    // them open, and is not waited for.
                    let deadline = Instant::now() + Duration::from_secs(2);
                    while let Ok(line) =
                        received.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                    {
                        progress.line(line);
                    }
                    break status;
                }
            }
        }
    };
    if let (Some(began), Some(last)) = (progress.started, progress.binaries.last_mut()) {
        last.took = began.elapsed();
    }
    Ok(status)
}

/// What `run_tests` knows as cargo's output goes by.
struct Progress<'a> {
    executables: &'a [Executable],
    timeline: &'a Timeline,
    binaries: &'a mut Vec<Binary>,
    /// When the current binary started.
    started: Option<Instant>,
    /// Closing lines seen so far.
    results: usize,
}

impl Progress<'_> {
    /// Passes one line on, noting what it says.
    fn line(&mut self, line: Line) {
        match line {
            Line::Err(text) => {
                if let Some((package, what)) = binary_started(&text, self.executables) {
                    self.binary_started(package, what);
                }
                eprintln!("{text}");
            }
            Line::Out(text) => {
                if let Some(summary) = closing_line(&text) {
                    // The n-th closing line is the n-th binary's: each prints one.
                    if let Some(binary) = self.binaries.get_mut(self.results) {
                        binary.result = Some(summary);
                    }
                    self.results += 1;
                } else if text.ends_with(&format!("... ignored, {NEEDS_POSTGRES}"))
                    && let Some(binary) = self.binaries.last_mut()
                {
                    binary.needs_postgres += 1;
                }
                println!("{text}");
            }
        }
        let _ = std::io::stdout().flush();
    }

    /// Ends the last binary's time; announces a new package, or the browser tests.
    fn binary_started(&mut self, package: String, what: String) {
        let now = Instant::now();
        if let (Some(began), Some(last)) = (self.started, self.binaries.last_mut()) {
            last.took = now - began;
        }
        let is_browser = |package: &str, what: &str| (package, what) == BROWSER_TESTS;
        let previous = self.binaries.last();
        let announce = if is_browser(&package, &what) {
            Some(format!(
                "browser tests (headless Chromium): {package} {what}"
            ))
        } else if what == DOC_TESTS {
            // Cargo runs every package's doc tests last, one after the other.
            previous
                .is_none_or(|last| last.what != DOC_TESTS)
                .then(|| "doc tests".to_owned())
        } else if previous
            .is_none_or(|last| last.package != package || is_browser(&last.package, &last.what))
        {
            Some(format!("tests of {package}"))
        } else {
            None
        };
        if let Some(announce) = announce {
            println!("\n== [{}] {announce}", clock(self.timeline.elapsed()));
        }
        self.binaries.push(Binary {
            package,
            what,
            took: Duration::ZERO,
            result: None,
            needs_postgres: 0,
        });
        self.started = Some(now);
    }
}

/// Sends each line `from` writes, until it closes.
fn forward(
    from: impl std::io::Read + Send + 'static,
    to: mpsc::Sender<Line>,
    kind: fn(String) -> Line,
) {
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines().map_while(std::io::Result::ok) {
            if to.send(kind(line)).is_err() {
                break;
            }
        }
    });
}

/// The package and description of the test binary cargo announces on this line
/// (`Running tests/faults.rs (…/deps/faults-0123abcd)`, `Doc-tests scim_api`).
fn binary_started(line: &str, executables: &[Executable]) -> Option<(String, String)> {
    let line = line.trim();
    if let Some(krate) = line.strip_prefix("Doc-tests ") {
        return Some((krate.trim().replace('_', "-"), DOC_TESTS.to_owned()));
    }
    let rest = line.strip_prefix("Running ")?;
    let (what, path) = rest.rsplit_once(" (")?;
    let file = Path::new(path.trim_end_matches(')'))
        .file_name()?
        .to_string_lossy()
        .into_owned();
    let package = executables
        .iter()
        .find(|e| e.file == file)
        .map_or_else(|| "?".to_owned(), |e| e.package.clone());
    Some((package, what.to_owned()))
}

/// `12 passed, 0 failed, 3 ignored` from libtest's
/// `test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; …`.
fn closing_line(line: &str) -> Option<String> {
    let counts = line.strip_prefix("test result: ")?.split_once(". ")?.1;
    let kept: Vec<&str> = counts
        .split("; ")
        .filter(|part| {
            ["passed", "failed", "ignored"]
                .iter()
                .any(|k| part.ends_with(k))
        })
        .collect();
    Some(kept.join(", "))
}

fn binary_table(binaries: &[Binary]) -> String {
    let mut sorted: Vec<&Binary> = binaries.iter().collect();
    sorted.sort_by_key(|b| std::cmp::Reverse(b.took));
    let width = sorted
        .iter()
        .map(|b| b.package.len() + b.what.len() + 1)
        .max()
        .unwrap_or(0);
    sorted
        .iter()
        .map(|b| {
            let name = format!("{} {}", b.package, b.what);
            let result = b.result.as_deref().unwrap_or("did not finish");
            format!("  {:>6}  {name:<width$}  {result}", clock(b.took))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARTIFACT: &str = r#"{"reason":"compiler-artifact","package_id":"path+file:///w/bins/scim-api#0.1.0","manifest_path":"/w/bins/scim-api/Cargo.toml","target":{"kind":["test"],"crate_types":["bin"],"name":"faults","src_path":"/w/bins/scim-api/tests/faults.rs"},"executable":"/t/debug/deps/faults-0123abcd","fresh":true}"#;

    #[test]
    fn test_binaries_are_told_apart_by_package() {
        let executables = vec![
            executable(ARTIFACT).unwrap(),
            Executable {
                file: "faults-99".into(),
                package: "auth-gateway".into(),
            },
        ];
        assert_eq!(
            executables[0],
            Executable {
                file: "faults-0123abcd".into(),
                package: "scim-api".into()
            }
        );
        let lib = ARTIFACT.replace(
            r#""executable":"/t/debug/deps/faults-0123abcd""#,
            r#""executable":null"#,
        );
        assert_eq!(executable(&lib), None);
        assert_eq!(
            binary_started(
                "     Running tests/faults.rs (/t/debug/deps/faults-0123abcd)",
                &executables
            ),
            Some(("scim-api".into(), "tests/faults.rs".into()))
        );
        assert_eq!(
            binary_started("   Doc-tests scim_api", &executables),
            Some(("scim-api".into(), "doc tests".into()))
        );
        assert_eq!(
            binary_started("   Compiling scim-api v0.1.0", &executables),
            None
        );
    }

    #[test]
    fn json_strings_are_read_with_their_escapes() {
        assert_eq!(
            json_string(r#"{"a":"x\"y\\z","b":null}"#, "a").as_deref(),
            Some(r#"x"y\z"#)
        );
        assert_eq!(json_string(r#"{"b":null}"#, "b"), None);
    }

    #[test]
    fn closing_lines_are_summed_up() {
        assert_eq!(
            closing_line(
                "test result: ok. 12 passed; 0 failed; 3 ignored; 0 measured; 0 filtered out; finished in 1.02s"
            )
            .as_deref(),
            Some("12 passed, 0 failed, 3 ignored")
        );
        assert_eq!(closing_line("test foo ... ok"), None);
    }

    #[test]
    fn the_browser_tests_exist_where_they_are_announced() {
        let (package, file) = BROWSER_TESTS;
        assert!(
            workspace_root()
                .join("bins")
                .join(package)
                .join(file)
                .is_file(),
            "{package} {file}"
        );
    }
}
