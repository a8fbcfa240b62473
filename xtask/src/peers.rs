//! The peers the tests need, made ready by `cargo xtask test` itself (and alone by
//! `cargo xtask setup`): libpq, which the build links, and a C++ compiler for libFuzzer;
//! the PostgreSQL server of the
//! PostgreSQL half; headless Chromium and its WebDriver; curl; Node.js and the test OpenID
//! Provider's npm packages (`npm ci` in testing/oidc-provider when they are missing or
//! package-lock.json changed); Python's venv with scim2-tester and the deploy/ checkers
//! (`.venv`, reinstalled when a requirements file changed).
//!
//! A missing system package is installed (apt-get) where that is possible without asking:
//! on a Debian machine, as root — CI's case. Anywhere else xtask prints one line per
//! missing thing, naming the exact package or command, and fails. PostgreSQL is the one
//! exception: without it, outside CI, the SQLite half still runs (the caller says so
//! loudly). Knows nothing of what the tests do with these peers.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::{DEFAULT_TEST_DATABASE_URL, Result, workspace_root};

/// One thing the build or the tests need from the machine.
struct Need {
    /// What it is and who needs it, for messages.
    what: &'static str,
    /// The Debian packages that provide it.
    debian: &'static [&'static str],
    /// What to install where Debian's packages are not an option.
    elsewhere: &'static str,
    /// Whether the machine has it.
    present: fn() -> bool,
}

/// libpq and pg_config: diesel's PostgreSQL driver links libpq.
const LIBPQ: Need = Need {
    what: "libpq (PostgreSQL's client library, linked by the build)",
    debian: &["libpq-dev", "pkg-config"],
    elsewhere: "libpq with its development files and pg_config",
    present: libpq_present,
};

/// libfuzzer-sys compiles libFuzzer, C++, also when the fuzz targets are only checked.
const CXX: Need = Need {
    what: "a C++ compiler (libFuzzer, built when the fuzz targets are checked)",
    debian: &["g++"],
    elsewhere: "a C++ compiler (c++)",
    present: || answers("c++", &["--version"]),
};

const CURL: Need = Need {
    what: "curl (`cargo xtask dev --check` runs the curl line the demo prints)",
    debian: &["curl"],
    elsewhere: "curl",
    present: || answers("curl", &["--version"]),
};

// The same places bins/auth-gateway/tests/suite/common/webdriver.rs looks in.
const CHROMIUM: Need = Need {
    what: "headless Chromium (the admin pages' browser tests)",
    debian: &["chromium"],
    elsewhere: "Chromium, or set SPARK_TEST_CHROMIUM to its binary",
    present: || {
        program_present(
            "SPARK_TEST_CHROMIUM",
            &["/usr/bin/chromium", "/usr/bin/chromium-browser"],
        )
    },
};

const CHROMEDRIVER: Need = Need {
    what: "ChromeDriver (drives Chromium in the browser tests)",
    debian: &["chromium-driver"],
    elsewhere: "ChromeDriver of the same version as Chromium, or set SPARK_TEST_CHROMEDRIVER",
    present: || {
        program_present(
            "SPARK_TEST_CHROMEDRIVER",
            &["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"],
        )
    },
};

const NODE: Need = Need {
    what: "Node.js and npm (the test OpenID Provider)",
    debian: &["nodejs", "npm"],
    elsewhere: "Node.js (see testing/oidc-provider/package.json for the version) with npm",
    present: || answers("node", &["--version"]) && answers("npm", &["--version"]),
};

const PYTHON_VENV: Need = Need {
    what: "Python 3 with venv (scim2-tester and the deploy/ checks)",
    debian: &["python3-venv"],
    elsewhere: "Python 3 with its venv module",
    // Debian's python3 has the venv module without ensurepip, which creating one needs.
    present: || answers("python3", &["-c", "import ensurepip, venv"]),
};

const PSQL: Need = Need {
    what: "the PostgreSQL client (psql, pg_isready)",
    debian: &["postgresql-client"],
    elsewhere: "PostgreSQL's client programs",
    present: || answers("psql", &["--version"]) && answers("pg_isready", &["--version"]),
};

const POSTGRES_SERVER: Need = Need {
    what: "the PostgreSQL server",
    debian: &["postgresql"],
    elsewhere: "a PostgreSQL server",
    present: || Path::new("/etc/postgresql").is_dir(),
};

/// Whether the test database server can be reached, and the URL the tests use.
pub struct Postgres {
    pub url: String,
    /// Why not, as one line naming what to do; `None` when it answers.
    pub missing: Option<String>,
}

/// The machine: whether xtask may install Debian packages on it.
struct Host {
    debian: bool,
    root: bool,
    apt_updated: bool,
}

impl Host {
    fn detect() -> Host {
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
        Host {
            debian: Path::new("/etc/debian_version").is_file() && answers("dpkg", &["--version"]),
            root,
            apt_updated: false,
        }
    }

    fn can_install(&self) -> bool {
        self.debian && self.root
    }

    /// The line that tells a person how to get `need`.
    fn advice(&self, need: &Need) -> String {
        let packages = need.debian.join(" ");
        if self.debian {
            format!(
                "xtask: missing {}: install it with `apt-get install {packages}` (as root)",
                need.what
            )
        } else {
            format!(
                "xtask: missing {}: install {} (Debian's {packages})",
                need.what, need.elsewhere
            )
        }
    }

    /// Makes sure every need is met: installs what is missing where it can, and
    /// otherwise prints one line per missing need and fails.
    fn provide(&mut self, needs: &[&Need]) -> Result {
        let missing: Vec<&Need> = needs
            .iter()
            .copied()
            .filter(|need| !(need.present)())
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        if self.can_install() {
            let packages: Vec<&str> = missing
                .iter()
                .flat_map(|need| need.debian.iter().copied())
                .collect();
            self.apt_install(&packages)?;
        }
        let still: Vec<&Need> = missing
            .into_iter()
            .filter(|need| !(need.present)())
            .collect();
        if still.is_empty() {
            return Ok(());
        }
        for need in &still {
            eprintln!("{}", self.advice(need));
        }
        Err(format!(
            "missing: {}",
            still
                .iter()
                .map(|need| need.debian.join(" "))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }

    fn apt_install(&mut self, packages: &[&str]) -> Result {
        println!("xtask: installing {} (Debian packages)", packages.join(" "));
        if !self.apt_updated {
            quiet("apt-get", &["update", "-qq"], &[])?;
            self.apt_updated = true;
        }
        // With the packages Debian recommends (Chromium's fonts, say), as CI always had.
        let mut args = vec!["install", "-y", "-qq"];
        args.extend_from_slice(packages);
        quiet("apt-get", &args, &[("DEBIAN_FRONTEND", "noninteractive")])
    }
}

/// Runs a command in the workspace root with its output shown only when it fails.
fn quiet(program: &str, args: &[&str], envs: &[(&str, &str)]) -> Result {
    let out = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed ({}):\n{}{}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Whether `program args` runs and succeeds.
fn answers(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

fn program_present(variable: &str, paths: &[&str]) -> bool {
    match std::env::var_os(variable) {
        Some(path) => Path::new(&path).is_file(),
        None => paths.iter().any(|path| Path::new(path).is_file()),
    }
}

fn libpq_present() -> bool {
    let Ok(out) = Command::new("pg_config").arg("--libdir").output() else {
        return false;
    };
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    out.status.success()
        && ["libpq.so", "libpq.dylib", "libpq.lib"]
            .iter()
            .any(|lib| Path::new(&dir).join(lib).is_file())
}

/// What the build itself needs (`cargo xtask dev` builds the services too).
pub fn build_tools() -> Result {
    Host::detect().provide(&[&LIBPQ])
}

/// Makes every peer of the test suite ready; says how PostgreSQL stands.
pub fn setup() -> Result<Postgres> {
    let mut host = Host::detect();
    host.provide(&[
        &LIBPQ,
        &CXX,
        &CURL,
        &CHROMIUM,
        &CHROMEDRIVER,
        &NODE,
        &PYTHON_VENV,
    ])?;
    let postgres = postgres(&mut host)?;
    oidc_provider()?;
    venv()?;
    Ok(postgres)
}

/// The test database server: reachable as it is; or, for the default local server on a
/// machine where xtask may install packages, installed and started. A server named by
/// `TEST_DATABASE_URL` is the caller's own: it is never started here.
fn postgres(host: &mut Host) -> Result<Postgres> {
    let named = std::env::var("TEST_DATABASE_URL").ok();
    let url = named
        .clone()
        .unwrap_or_else(|| DEFAULT_TEST_DATABASE_URL.to_owned());
    let local_default = named.is_none_or(|named| named == DEFAULT_TEST_DATABASE_URL);
    if !reachable(&url) && local_default && host.can_install() {
        host.provide(&[&PSQL, &POSTGRES_SERVER])?;
        start_local_cluster()?;
    }
    if !reachable(&url) {
        let advice = if local_default {
            if host.debian {
                "start it (`apt-get install postgresql`, then `pg_ctlcluster <version> main start`, as root)"
            } else {
                "start a PostgreSQL server there"
            }
        } else {
            "start that server, or unset TEST_DATABASE_URL for the local default"
        };
        return Ok(Postgres {
            missing: Some(format!(
                "PostgreSQL is unreachable at {}: {advice}",
                redact(&url)
            )),
            url,
        });
    }
    if answers("psql", &["--version"]) {
        // Tests connect over TCP as the URL's user; fail here, plainly, if that is refused.
        quiet("psql", &[&url, "-qtAc", "select 1"], &[])
            .map_err(|e| format!("PostgreSQL answers at {} but refuses: {e}", redact(&url)))?;
        drop_stale_databases(&url);
    }
    Ok(Postgres { url, missing: None })
}

/// Starts the first cluster in /etc/postgresql (as `.ci/run` used to) and waits up to
/// 30 s for it to listen.
fn start_local_cluster() -> Result {
    let version = std::fs::read_dir("/etc/postgresql")
        .map_err(|e| format!("/etc/postgresql: {e}"))?
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .min()
        .ok_or("no PostgreSQL cluster in /etc/postgresql")?;
    println!("xtask: starting PostgreSQL {version} (cluster main)");
    // Fails when it is already running; the wait below is what counts.
    let _ = quiet(
        "pg_ctlcluster",
        &["--skip-systemctl-redirect", &version, "main", "start"],
        &[],
    );
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(30) {
        if answers("pg_isready", &["-h", "127.0.0.1", "-p", "5432", "-q"]) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    Err(format!(
        "PostgreSQL {version} did not start within 30 s (pg_ctlcluster {version} main start)"
    ))
}

/// Drops the test and benchmark databases (`spark_test_<pid>_…`, `spark_bench_<pid>`)
/// whose process has ended — left by an interrupted run. Only on a server on this
/// machine, whose process ids are this machine's; the databases of runs still going
/// (another checkout's, say) are left alone.
fn drop_stale_databases(url: &str) {
    let local = server_addresses(url)
        .iter()
        .all(|addr| addr.ip().is_loopback());
    if !local || !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(out) = Command::new("psql")
        .args([
            url,
            "-qtAc",
            "select datname from pg_database \
             where datname like 'spark\\_test\\_%' or datname like 'spark\\_bench\\_%'",
        ])
        .output()
    else {
        return;
    };
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    for name in listed.lines().map(str::trim) {
        if stale_pid(name).is_some_and(|pid| !Path::new(&format!("/proc/{pid}")).exists()) {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            if quiet("psql", &[url, "-qc", &drop], &[]).is_ok() {
                println!("xtask: dropped {name}, left by an interrupted run");
            }
        }
    }
}

/// The process id in a test or benchmark database's name.
fn stale_pid(name: &str) -> Option<u32> {
    let rest = name
        .strip_prefix("spark_test_")
        .or_else(|| name.strip_prefix("spark_bench_"))?;
    rest.split('_').next()?.parse().ok()
}

/// The test OpenID Provider's npm packages, installed by `npm ci` unless the
/// package-lock.json they were installed from is the one in the tree.
fn oidc_provider() -> Result {
    let dir = workspace_root().join("testing/oidc-provider");
    let lock = dir.join("package-lock.json");
    let stamp = dir.join("node_modules/.spark-installed-from-package-lock.json");
    check_node_version(&dir.join("package.json"))?;
    let wanted = std::fs::read(&lock).map_err(|e| format!("{}: {e}", lock.display()))?;
    let installed = dir
        .join("node_modules/oidc-provider/package.json")
        .is_file()
        && std::fs::read(&stamp).is_ok_and(|had| had == wanted);
    if installed {
        return Ok(());
    }
    println!("xtask: npm ci in testing/oidc-provider (the test OpenID Provider)");
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
        .current_dir(&dir)
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run npm: {e}"))?;
    if !status.success() {
        return Err(format!("`npm ci` in {} failed ({status})", dir.display()));
    }
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// Fails unless `node --version` meets package.json's `engines.node` (`>=MAJOR.MINOR`).
fn check_node_version(package_json: &Path) -> Result {
    let text = std::fs::read_to_string(package_json)
        .map_err(|e| format!("{}: {e}", package_json.display()))?;
    let Some(wanted) = minimum_node(&text) else {
        return Ok(());
    };
    let out = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run node: {e}"))?;
    let found = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    match version(found.trim_start_matches('v')) {
        Some(have) if have >= wanted => Ok(()),
        _ => Err(format!(
            "Node.js {found} is too old: the test OpenID Provider needs {}.{} or later \
             (testing/oidc-provider/package.json); install a newer Node.js",
            wanted.0, wanted.1
        )),
    }
}

/// `(major, minor)` from package.json's `"node": ">=20.19"`.
fn minimum_node(package_json: &str) -> Option<(u32, u32)> {
    let after = package_json.split_once("\"node\"")?.1;
    let value = after.split('"').nth(1)?;
    version(value.trim_start_matches(">="))
}

fn version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.split('.');
    let major = parts.next()?.trim().parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.trim().parse().ok())?;
    Some((major, minor))
}

/// The Python requirement files `.venv` is made from: scim2-tester's, and the deploy/
/// checkers' (the official schemas of Kubernetes and Compose).
pub const REQUIREMENTS: [&str; 2] = [
    "testing/scim-conformance/requirements.txt",
    "deploy/requirements.txt",
];

/// `.venv` with every requirement file installed, reinstalled when one changed.
fn venv() -> Result {
    let root = workspace_root();
    let python = root.join(".venv/bin/python");
    let stamp = root.join(".venv/.spark-installed-requirements.txt");
    let mut wanted = Vec::new();
    for file in REQUIREMENTS {
        let path = root.join(file);
        wanted.extend(std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?);
    }
    if python.is_file() && std::fs::read(&stamp).is_ok_and(|had| had == wanted) {
        return Ok(());
    }
    if !python.is_file() {
        println!("xtask: python3 -m venv .venv");
        quiet("python3", &["-m", "venv", ".venv"], &[])?;
    }
    println!(
        "xtask: .venv/bin/pip install -r {}",
        REQUIREMENTS.join(" -r ")
    );
    let mut args = vec![
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
    ];
    for file in &REQUIREMENTS {
        args.extend(["-r", file]);
    }
    let python = python.to_string_lossy().into_owned();
    quiet(&python, &args, &[])?;
    std::fs::write(&stamp, wanted).map_err(|e| format!("{}: {e}", stamp.display()))
}

/// `postgres://user:secret@host/db` with the password hidden, for messages.
pub fn redact(url: &str) -> String {
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

/// The addresses of the URL's host and port (default 5432).
fn server_addresses(url: &str) -> Vec<SocketAddr> {
    let Some(rest) = url.split_once("://").map(|(_, rest)| rest) else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host_port = if host_port.is_empty() {
        "127.0.0.1"
    } else {
        host_port
    };
    let has_port = host_port.contains(':')
        && host_port
            .rsplit(':')
            .next()
            .is_some_and(|p| p.parse::<u16>().is_ok());
    let with_port = if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:5432")
    };
    with_port
        .to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default()
}

/// Can a TCP connection be made to the URL's host and port?
fn reachable(url: &str) -> bool {
    server_addresses(url)
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

    #[test]
    fn server_addresses_default_to_port_5432() {
        assert_eq!(
            server_addresses("postgres://u:pw@127.0.0.1/db"),
            vec![SocketAddr::from(([127, 0, 0, 1], 5432))]
        );
        assert_eq!(
            server_addresses("postgres://127.0.0.1:6543/db?sslmode=disable"),
            vec![SocketAddr::from(([127, 0, 0, 1], 6543))]
        );
        assert!(server_addresses("not a url").is_empty());
    }

    #[test]
    fn stale_databases_are_known_by_their_process() {
        assert_eq!(stale_pid("spark_test_4242_7_0a1b2c3d"), Some(4242));
        assert_eq!(stale_pid("spark_bench_99"), Some(99));
        assert_eq!(stale_pid("spark"), None);
        assert_eq!(stale_pid("spark_test_x_1"), None);
    }

    #[test]
    fn the_node_version_comes_from_package_json() {
        let package =
            std::fs::read_to_string(workspace_root().join("testing/oidc-provider/package.json"))
                .unwrap();
        let wanted = minimum_node(&package).unwrap();
        assert!(wanted >= (20, 0), "{wanted:?}");
        assert_eq!(
            minimum_node(r#"{"engines": {"node": ">=20.19"}}"#),
            Some((20, 19))
        );
        assert!(version("18.19.1").unwrap() < (20, 19));
        assert!(version("22.1.0").unwrap() > (20, 19));
    }

    #[test]
    fn every_requirement_file_exists() {
        for file in REQUIREMENTS {
            assert!(workspace_root().join(file).is_file(), "{file}");
        }
    }

    #[test]
    fn a_missing_need_fails_naming_its_package_where_nothing_may_be_installed() {
        const ABSENT: Need = Need {
            what: "a thing",
            debian: &["thing-pkg"],
            elsewhere: "the thing",
            present: || false,
        };
        const THERE: Need = Need {
            what: "another thing",
            debian: &["other-pkg"],
            elsewhere: "the other thing",
            present: || true,
        };
        // Root, but not Debian: nothing is installed, the missing one is named.
        let mut host = Host {
            debian: false,
            root: true,
            apt_updated: false,
        };
        let err = host.provide(&[&THERE, &ABSENT]).unwrap_err();
        assert!(
            err.contains("thing-pkg") && !err.contains("other-pkg"),
            "{err}"
        );
        assert!(host.provide(&[&THERE]).is_ok());
        assert!(!host.apt_updated);
    }

    #[test]
    fn advice_names_the_package_and_the_command() {
        let debian = Host {
            debian: true,
            root: false,
            apt_updated: false,
        };
        let line = debian.advice(&CHROMIUM);
        assert!(line.contains("apt-get install chromium"), "{line}");
        let other = Host {
            debian: false,
            ..debian
        };
        let line = other.advice(&CHROMEDRIVER);
        assert!(line.contains("SPARK_TEST_CHROMEDRIVER"), "{line}");
        assert!(line.contains("chromium-driver"), "{line}");
    }
}
