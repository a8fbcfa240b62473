//! `cargo xtask bench ceiling [SECONDS]`: what PostgreSQL alone can serve on this
//! machine of the statements scim-api sends, with pgbench as the leanest client there is.
//! The same workspace as `bench throughput` (10,000 employees), the same statements as
//! PostgreSQL's `pg_stat_statements` recorded them from scim-api, prepared and planned
//! generically as scim-api's connections have them, `pgbench -M prepared -c16 -j2` for
//! SECONDS (default 15) each:
//!
//! - Okta's `userName eq` look-up: one statement with the caller's credentials;
//! - a page of 100 users after a known id, with their managers' names;
//! - what a page costs the database in all: the token's statement, then the page's.
//!
//! The rates bound what scim-api can reach on this machine with PostgreSQL beside it:
//! a figure above them would need the database to do less per request, not scim-api.
//! pgbench (from PostgreSQL's packages) runs on the same machine as the database.

use std::path::Path;
use std::process::Command;

use crate::Result;
use crate::bench::{in_scratch_dir, on_postgres, psql_value, release_binaries, seconds, sparkctl};
use crate::bench_scim::workspace;

/// The employees of the benchmark's workspace, as in `bench throughput`.
const EMPLOYEES: usize = 10_000;

/// The token's statement: the workspace's tenant, its integration and its token with the
/// presented hash (`Tenants::find_with_okta_and_token`).
const TOKEN: &str = r#"SELECT "tenants"."id", "tenants"."workspace", "tenants"."name", "tenants"."created_at", "tenants"."directory_version", "okta_integrations"."activated_at", "okta_integrations"."activated_by", "okta_integrations"."connected_at", "okta_integrations"."connected_by", "scim_tokens"."id", "scim_tokens"."tenant_id", "scim_tokens"."token_hash", "scim_tokens"."label", "scim_tokens"."hint", "scim_tokens"."created_at", "scim_tokens"."created_by", "scim_tokens"."last_used_at", "scim_tokens"."revoked_at", "scim_tokens"."replaced_by", "scim_tokens"."presented_as" FROM (("tenants" INNER JOIN "okta_integrations" ON ("okta_integrations"."tenant_id" = "tenants"."id")) LEFT OUTER JOIN "scim_tokens" ON (("scim_tokens"."tenant_id" = "tenants"."id") AND ("scim_tokens"."token_hash" = :hash))) WHERE ("tenants"."workspace" = :workspace) LIMIT 1;"#;

/// Okta's look-up with the caller's credentials (`Employees::scim_lookup`), for the
/// employee `:n`.
const LOOKUP: &str = r#"SELECT "tenants"."id", "tenants"."workspace", "tenants"."name", "tenants"."created_at", "tenants"."directory_version", "okta_integrations"."activated_at", "okta_integrations"."activated_by", "okta_integrations"."connected_at", "okta_integrations"."connected_by", "scim_tokens"."id", "scim_tokens"."tenant_id", "scim_tokens"."token_hash", "scim_tokens"."label", "scim_tokens"."hint", "scim_tokens"."created_at", "scim_tokens"."created_by", "scim_tokens"."last_used_at", "scim_tokens"."revoked_at", "scim_tokens"."replaced_by", "scim_tokens"."presented_as", "employees"."id", "employees"."email", "employees"."external_id", "employees"."given_name", "employees"."family_name", "employees"."display_name", "employees"."phone", "employees"."title", "employees"."department", "employees"."employee_number", "employees"."manager_id", "employees"."active", "employees"."created_at", "employees"."updated_at", "employees"."version", "managers"."display_name", "managers"."given_name", "managers"."family_name" FROM (((("tenants" INNER JOIN "okta_integrations" ON ("okta_integrations"."tenant_id" = "tenants"."id")) LEFT OUTER JOIN "scim_tokens" ON (("scim_tokens"."tenant_id" = "tenants"."id") AND ("scim_tokens"."token_hash" = :hash))) LEFT OUTER JOIN "employees" ON (((("employees"."tenant_id" = "tenants"."id") AND ("scim_tokens"."id" IS NOT NULL)) AND ("scim_tokens"."revoked_at" IS NULL)) AND ((("employees"."email_key" IS NOT NULL) AND ("employees"."email_key" != '')) AND ("employees"."email_key" = 'employee' || :n || '@bench.example')))) LEFT OUTER JOIN "employees" AS "managers" ON (("managers"."id" = "employees"."manager_id") AND ("managers"."tenant_id" = "employees"."tenant_id"))) WHERE ("tenants"."workspace" = :workspace) ORDER BY "employees"."id" ASC LIMIT 100;"#;

/// A page of 100 users after a known id, with their managers' names (an import walk's
/// page, `users_in`); the id the page starts after is read from `bench_page_starts`.
const PAGE: &str = r#"SELECT "employees"."id", "employees"."email", "employees"."external_id", "employees"."given_name", "employees"."family_name", "employees"."display_name", "employees"."phone", "employees"."title", "employees"."department", "employees"."employee_number", "employees"."manager_id", "employees"."active", "employees"."created_at", "employees"."updated_at", "employees"."version", "managers"."display_name", "managers"."given_name", "managers"."family_name" FROM ("employees" LEFT OUTER JOIN "employees" AS "managers" ON (("managers"."id" = "employees"."manager_id") AND ("managers"."tenant_id" = "employees"."tenant_id"))) WHERE (("employees"."tenant_id" = :tenant) AND ("employees"."id" > (SELECT after_id FROM bench_page_starts WHERE page = :page))) ORDER BY "employees"."id" ASC LIMIT 100;"#;

/// Runs `bench ceiling`.
pub fn ceiling(args: &[&str]) -> Result {
    let seconds = seconds(args, 15, "cargo xtask bench ceiling [SECONDS]")?;
    let bin = release_binaries(&["sparkctl"])?;
    in_scratch_dir("ceiling", |dir| {
        on_postgres(|url| ceiling_on(&bin, url, dir, seconds))
    })
}

fn ceiling_on(bin: &Path, url: &str, dir: &Path, seconds: u64) -> Result {
    sparkctl(bin, url, &["migrate"])?;
    workspace(bin, url, dir, "bench", EMPLOYEES)?;
    let pages = EMPLOYEES / 100;
    let tenant = psql_value(url, "SELECT id FROM tenants WHERE workspace = 'bench'")?;
    let hash = psql_value(
        url,
        "SELECT token_hash FROM scim_tokens JOIN tenants ON tenants.id = tenant_id \
         WHERE workspace = 'bench'",
    )?;
    // Where each page of the walk starts: the last id of the page before it.
    psql_value(
        url,
        &format!(
            "CREATE TABLE bench_page_starts AS SELECT n / 100 AS page, after_id FROM \
             (SELECT id AS after_id, row_number() OVER (ORDER BY id) AS n FROM employees \
              WHERE tenant_id = '{tenant}') ids WHERE n % 100 = 0 AND n / 100 < {pages}; \
             CREATE UNIQUE INDEX ON bench_page_starts (page); ANALYZE"
        ),
    )?;
    let variables = [
        ("tenant", tenant.as_str()),
        ("hash", hash.as_str()),
        ("workspace", "bench"),
    ];
    let draws = format!(
        "\\set n random(0, {})\n\\set page random(1, {})\n",
        EMPLOYEES - 1,
        pages - 1
    );
    for (label, statements) in [
        ("the look-up's statement", LOOKUP.to_owned()),
        ("a page of 100 with managers", PAGE.to_owned()),
        (
            "a page in all: the token's statement, then the page's",
            format!("{TOKEN}\n{PAGE}"),
        ),
    ] {
        let script = dir.join("statement.sql");
        std::fs::write(&script, format!("{draws}{statements}\n")).map_err(|e| e.to_string())?;
        let rate = pgbench(url, &script, &variables, seconds)?;
        println!("  {label}: {rate:.0}/s (pgbench -M prepared -c16 -j2, {seconds} s)");
    }
    Ok(())
}

/// Transactions (runs of `script`) per second.
fn pgbench(url: &str, script: &Path, variables: &[(&str, &str)], seconds: u64) -> Result<f64> {
    let mut command = Command::new("pgbench");
    command
        .args(["-n", "-M", "prepared", "-c", "16", "-j", "2", "-T"])
        .arg(seconds.to_string())
        .arg("-f")
        .arg(script);
    for (name, value) in variables {
        command.arg("-D").arg(format!("{name}={value}"));
    }
    // Planned once per connection, as scim-api's connections plan their statements.
    let out = command
        .arg(url)
        .env("PGOPTIONS", "-c plan_cache_mode=force_generic_plan")
        .output()
        .map_err(|e| format!("cannot run pgbench (from PostgreSQL's packages): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    let failed = text
        .lines()
        .find_map(|line| line.strip_prefix("number of failed transactions: "))
        .is_some_and(|failed| !failed.starts_with('0'));
    if !out.status.success() || failed {
        return Err(format!(
            "pgbench failed: {}{}",
            text.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    text.lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|tps| tps.parse().ok())
        .ok_or_else(|| format!("no rate in pgbench's output: {text}"))
}
