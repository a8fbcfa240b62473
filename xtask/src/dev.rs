//! `cargo xtask dev`: the whole product on the embedded SQLite default, in one command.
//! Migrates `./data/spark.db`, seeds the demo workspace `acme` (about fifty employees in
//! several departments, with managers, an admin and a deactivated employee), activates
//! and connects Okta for it, starts scim-api and auth-gateway, and prints the URLs, a
//! fresh SCIM token, a curl line that lists users, and an admin sign-in link. Ctrl-C
//! stops both services (they finish in-flight requests first).

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command};

use crate::bench::sparkctl;
use crate::{Result, cargo, peers, run, target_dir, workspace_root};

const WORKSPACE: &str = "acme";
const ADMIN: &str = "ada.lovelace@acme.example";

const DEPARTMENTS: [(&str, &[&str]); 5] = [
    (
        "Engineering",
        &["Engineer", "Senior Engineer", "Staff Engineer"],
    ),
    ("Sales", &["Account Executive", "Sales Engineer"]),
    ("People", &["HR Partner", "Recruiter"]),
    ("Finance", &["Accountant", "Financial Analyst"]),
    ("Support", &["Support Specialist", "Support Lead"]),
];

const GIVEN: [&str; 10] = [
    "Grace",
    "Alan",
    "Katherine",
    "Linus",
    "Barbara",
    "Ken",
    "Margaret",
    "Dennis",
    "Frances",
    "Tim",
];
const FAMILY: [&str; 5] = ["Hopper", "Turing", "Johnson", "Torvalds", "Liskov"];

/// The demo directory: Ada (admin, CTO) at the top, a head per department reporting to
/// her, everyone else reporting to their department's head; one deactivated employee.
fn demo_csv() -> String {
    let mut csv = String::from(
        "email,given_name,family_name,display_name,phone,title,department,employee_number,manager_email,active,role\n",
    );
    let _ = writeln!(
        csv,
        "{ADMIN},Ada,Lovelace,Ada Lovelace,+1 555 0100,CTO,Engineering,E-0001,,true,admin"
    );
    let mut number = 2;
    for (d, (department, titles)) in DEPARTMENTS.iter().enumerate() {
        let head = format!("head.{}@acme.example", department.to_lowercase());
        let _ = writeln!(
            csv,
            "{head},Dana,{department}head,,+1 555 01{d:02},Head of {department},{department},E-{number:04},{ADMIN},true,employee"
        );
        number += 1;
        for i in 0..9 {
            let given = GIVEN
                .get((d * 3 + i) % GIVEN.len())
                .copied()
                .unwrap_or("Sam");
            let family = FAMILY
                .get((d + i) % FAMILY.len())
                .copied()
                .unwrap_or("Smith");
            let title = titles
                .get(i % titles.len().max(1))
                .copied()
                .unwrap_or("Specialist");
            let email = format!(
                "{}.{}{i}@acme.example",
                given.to_lowercase(),
                family.to_lowercase()
            );
            let active = !(d == 1 && i == 8); // one former salesperson, deactivated
            let _ = writeln!(
                csv,
                "{email},{given},{family},{given} {family},+1 555 1{d}{i:02},{title},{department},E-{number:04},{head},{active},employee"
            );
            number += 1;
        }
    }
    csv
}

struct Services(Vec<Child>);

impl Drop for Services {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start(bin: &Path, name: &str) -> Result<Child> {
    Command::new(bin.join(name))
        .arg("serve")
        .env("SPARK__SECURITY__ALLOW_INSECURE_HTTP", "true")
        // The Marketplace's activation email goes here in the demo.
        .env(
            "SPARK__SUPPORT__ACTIVATION_EMAIL",
            "integrations@spark.localhost",
        )
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .current_dir(workspace_root())
        .spawn()
        .map_err(|e| format!("cannot start {name}: {e}"))
}

/// Runs the demo until Ctrl-C. `--no-wait` stops after printing; `--check` also runs the
/// printed curl line and follows the sign-in link, and fails unless both work (what
/// `cargo xtask test` runs on a fresh database).
pub fn dev(args: &[&str]) -> Result {
    let check = args.contains(&"--check");
    let wait = !args.contains(&"--no-wait") && !check;
    peers::build_tools()?;
    run(
        &cargo(),
        &[
            "build",
            "--quiet",
            "-p",
            "sparkctl",
            "-p",
            "scim-api",
            "-p",
            "auth-gateway",
        ],
        &[],
    )?;
    let bin = target_dir().join("debug");
    let root = workspace_root();
    std::env::set_current_dir(&root).map_err(|e| e.to_string())?;
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "./data/spark.db".into());

    sparkctl(&bin, &url, &["migrate"])?;
    let created = sparkctl(
        &bin,
        &url,
        &["tenant", "create", WORKSPACE, "--name", "Acme Corporation"],
    );
    // A second run finds the workspace there and carries on.
    if let Err(e) = created
        && !e.contains("already exists")
    {
        return Err(e);
    }
    sparkctl(&bin, &url, &["okta", "enable", WORKSPACE])?;
    sparkctl(&bin, &url, &["okta", "connect", WORKSPACE])?;
    let file = std::env::temp_dir().join(format!("spark-demo-{}.csv", std::process::id()));
    std::fs::write(&file, demo_csv()).map_err(|e| e.to_string())?;
    let imported = sparkctl(
        &bin,
        &url,
        &["employees", "import", WORKSPACE, &file.to_string_lossy()],
    );
    let _ = std::fs::remove_file(&file);
    let imported = imported?;
    let token = sparkctl(
        &bin,
        &url,
        &[
            "scim-token",
            "mint",
            WORKSPACE,
            "--label",
            "cargo xtask dev",
        ],
    )?;
    let link = sparkctl(&bin, &url, &["login-link", WORKSPACE, ADMIN])?;

    let mut services = Services(vec![start(&bin, "scim-api")?, start(&bin, "auth-gateway")?]);
    let scim = format!("http://{WORKSPACE}.localhost:8081/scim/v2");
    let curl =
        format!("curl -H 'Authorization: Bearer {token}' '{scim}/Users?startIndex=1&count=5'");
    println!(
        "\n{imported}\n\n\
         Spark is running on the embedded SQLite database ({url}):\n\
         \x20 workspace        http://{WORKSPACE}.localhost:8080  (sign-in page: /login)\n\
         \x20 SCIM base URL    {scim}\n\
         \x20 auth host        http://auth.localhost:8080\n\n\
         SCIM token (shown once): {token}\n\n\
         List users:\n\
         \x20 {curl}\n\n\
         Sign in as the admin ({ADMIN}), once, within 10 minutes:\n\
         \x20 {link}\n\
         then open the admin pages:\n\
         \x20 http://{WORKSPACE}.localhost:8080/marketplace/integrations\n\
         \x20 http://{WORKSPACE}.localhost:8080/admin/domain/integrations/authentication\n\
         \x20 http://{WORKSPACE}.localhost:8080/my-settings/integrations/okta-scim\n\n\
         Ctrl-C stops both services."
    );
    if check {
        verify(&curl, &link)?;
        println!(
            "xtask: dev check passed: the curl line lists employees, the sign-in link signs in"
        );
    }
    if wait {
        for child in &mut services.0 {
            let _ = child.wait();
        }
    }
    Ok(())
}

/// Waits until `/readyz` answers 200 on `port` (the services need a moment to start).
fn wait_ready(port: u16) -> Result {
    use std::io::{Read as _, Write as _};
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let answer = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut stream| {
            stream.write_all(
                b"GET /readyz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
            )?;
            let mut text = String::new();
            stream.read_to_string(&mut text)?;
            Ok(text)
        });
        if answer.is_ok_and(|text| text.starts_with("HTTP/1.1 200")) {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(format!(
                "nothing ready on port {port} after 60 s (is the port taken?)"
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Runs a shell command line, returning its standard output.
fn shell(line: &str) -> Result<String> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(line)
        .output()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "`{line}` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The printed curl line lists the demo's employees; the sign-in link signs the admin in.
fn verify(curl: &str, link: &str) -> Result {
    wait_ready(8081)?;
    wait_ready(8080)?;
    let listed = shell(&format!("{curl} --silent --show-error --fail"))?;
    let employees = demo_csv().lines().count() - 1;
    if !listed.contains(&format!("\"totalResults\":{employees}"))
        || !listed.contains("\"userName\"")
    {
        return Err(format!(
            "the curl line did not list the {employees} employees: {listed}"
        ));
    }
    // As a person does: the link opens a page (a GET signs nobody in, so link scanners
    // cannot use it), whose button posts the link from the workspace's own origin.
    let page = shell(&format!("curl --silent --show-error --fail '{link}'"))?;
    if !page.contains("action=\"/auth/login-link\"") {
        return Err(format!("the sign-in link did not open its page: {page}"));
    }
    let (origin, token) = link
        .split_once("/auth/login-link?token=")
        .ok_or_else(|| format!("not a sign-in link: {link}"))?;
    let signed_in = shell(&format!(
        "curl --silent --show-error -o /dev/null -w '%{{http_code}} %{{redirect_url}}' \
         -H 'Origin: {origin}' --data-urlencode 'token={token}' '{origin}/auth/login-link'"
    ))?;
    if signed_in != format!("302 http://{WORKSPACE}.localhost:8080/") {
        return Err(format!("the sign-in link did not sign in: {signed_in}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory_is_realistic() {
        let csv = demo_csv();
        let rows: Vec<&str> = csv.lines().skip(1).collect();
        assert!((45..=60).contains(&rows.len()), "{}", rows.len());
        assert_eq!(rows.iter().filter(|r| r.ends_with(",admin")).count(), 1);
        assert_eq!(rows.iter().filter(|r| r.contains(",false,")).count(), 1);
        let emails: std::collections::HashSet<&str> =
            rows.iter().filter_map(|r| r.split(',').next()).collect();
        assert_eq!(emails.len(), rows.len(), "emails are unique");
        for row in &rows {
            let manager = row.split(',').nth(8).unwrap_or_default();
            assert!(manager.is_empty() || emails.contains(manager), "{row}");
        }
    }
}
