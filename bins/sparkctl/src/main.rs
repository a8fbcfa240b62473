//! `sparkctl`: the operator CLI for Spark's Okta integration — what the Spark team and
//! other Spark services do from a shell. Output is for people (tables, one-line
//! confirmations); every error is one line that says what to fix, with a non-zero exit.

mod csv_import;
mod sign_in;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use persistence::{Actor, Database, DatabaseUrl, Employee, Error as DbError, Tenant, Workspace};
use settings::Settings;
use token_store::TokenId;
use token_store::scim::ScimTokens;

#[derive(Parser)]
#[command(name = "sparkctl", version, about = "Operate Spark's Okta integration")]
struct Cli {
    /// A TOML configuration file (layered over the defaults, under SPARK__* variables).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply the database migrations this build has.
    Migrate,
    /// Create and list workspaces.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// The Okta integration of a workspace.
    #[command(subcommand)]
    Okta(OktaCommand),
    /// Employees: the HR master records Okta imports and matches sign-ins against.
    #[command(subcommand)]
    Employees(EmployeesCommand),
    /// SCIM bearer tokens, which Okta's importer presents.
    #[command(subcommand, name = "scim-token")]
    ScimToken(ScimTokenCommand),
    /// Print a one-time, 10-minute sign-in URL for an active employee (alone on stdout).
    #[command(name = "login-link")]
    LoginLink { workspace: String, email: String },
}

#[derive(Subcommand)]
enum ScimTokenCommand {
    /// Mint a token; prints it alone on standard output (it is shown only this once).
    Mint {
        workspace: String,
        /// What the token is for, as the token list shows it.
        #[arg(long, default_value = token_store::scim::DEFAULT_LABEL)]
        label: String,
    },
    /// List a workspace's tokens (never the tokens themselves).
    List { workspace: String },
    /// Revoke a token at once, on every replica.
    Revoke { workspace: String, id: String },
    /// Replace a token: prints the new one alone on standard output; the old one stops
    /// working at once.
    Rotate { workspace: String, id: String },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a workspace (reachable at WORKSPACE.{base_domain}).
    Create {
        /// The workspace name: letters, digits and hyphens.
        workspace: String,
        /// The customer's display name (default: the workspace name).
        #[arg(long)]
        name: Option<String>,
    },
    /// List the workspaces and their Okta integration state.
    List,
}

#[derive(Subcommand)]
enum OktaCommand {
    /// Activate the integration for a workspace (the Spark team's one-time step).
    Enable { workspace: String },
    /// Withdraw the activation; sign-in and SCIM stop, nothing is deleted.
    Disable { workspace: String },
    /// Connect the integration, as the admin's Connect button in the Marketplace does.
    Connect { workspace: String },
    /// Disconnect it, as the admin's Disconnect button does; nothing is deleted.
    Disconnect { workspace: String },
    /// The workspace's Okta SSO (OIDC) configuration.
    #[command(subcommand)]
    Sso(sign_in::SsoCommand),
    /// The Okta users linked to the workspace's employees.
    #[command(subcommand)]
    Identities(sign_in::IdentitiesCommand),
    /// The revocations deactivations sent to Okta (real-time sign-out).
    #[command(subcommand)]
    Revocations(sign_in::RevocationsCommand),
}

#[derive(Subcommand)]
enum EmployeesCommand {
    /// Create or update employees from a CSV file (`-` for standard input), by email.
    /// All or nothing: a file with any bad record changes nothing.
    Import { workspace: String, file: String },
    /// Deactivate an employee: Okta's next import shows active=false, sessions end now.
    Deactivate { workspace: String, email: String },
    /// Activate an employee again.
    Activate { workspace: String, email: String },
    /// List a workspace's employees.
    List { workspace: String },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    let url: DatabaseUrl = settings.database.url.parse()?;
    let db = Database::open(&url).with_context(|| format!("opening {url}"))?;
    if let Command::Migrate = cli.command {
        let applied = db.migrate()?;
        match applied.as_slice() {
            [] => println!("{url} is up to date"),
            applied => println!("{url}: applied {}", applied.join(", ")),
        }
        return Ok(());
    }
    db.prepare()?;
    let actor = operator();
    match cli.command {
        Command::Migrate => Ok(()),
        Command::Tenant(TenantCommand::Create { workspace, name }) => {
            let slug = Workspace::parse(&workspace)?;
            let tenant = db
                .tenants()
                .create(&slug, name.as_deref().unwrap_or(""), &actor)?;
            println!(
                "created workspace {} ({}) at {}",
                tenant.workspace,
                tenant.name,
                settings.workspace_origin(tenant.workspace.as_str())
            );
            Ok(())
        }
        Command::Tenant(TenantCommand::List) => tenant_list(&db),
        Command::Okta(OktaCommand::Sso(command)) => {
            sign_in::okta_sso(&db, &settings, &actor, command)
        }
        Command::Okta(OktaCommand::Identities(command)) => {
            sign_in::okta_identities(&db, &actor, command)
        }
        Command::Okta(OktaCommand::Revocations(command)) => sign_in::okta_revocations(&db, command),
        Command::Okta(command) => okta(&db, &actor, command),
        Command::Employees(command) => employees(&db, &actor, command),
        Command::ScimToken(command) => scim_token(&db, &actor, command),
        Command::LoginLink { workspace, email } => {
            sign_in::login_link(&db, &settings, &actor, &workspace, &email)
        }
    }
}

/// The operator, as the audit log records them: the login name of whoever runs this.
fn operator() -> Actor {
    let name = std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "unknown".into());
    Actor::operator(&name)
}

fn tenant(db: &Database, workspace: &str) -> anyhow::Result<Tenant> {
    Ok(db.tenants().get(workspace)?)
}

fn tenant_list(db: &Database) -> anyhow::Result<()> {
    let mut rows = vec![
        ["WORKSPACE", "NAME", "OKTA", "CREATED"]
            .map(String::from)
            .to_vec(),
    ];
    for t in db.tenants().list()? {
        let okta = db.okta_integrations().get(&t.id)?;
        let state = match (okta.activated.is_some(), okta.connected.is_some()) {
            (true, true) => "connected",
            (true, false) => "activated",
            (false, _) => "not activated",
        };
        rows.push(vec![
            t.workspace.to_string(),
            t.name,
            state.to_owned(),
            t.created_at.format("%Y-%m-%d").to_string(),
        ]);
    }
    print_table(&rows);
    Ok(())
}

fn okta(db: &Database, actor: &Actor, command: OktaCommand) -> anyhow::Result<()> {
    let okta = db.okta_integrations();
    let (workspace, done) = match &command {
        OktaCommand::Enable { workspace } => (workspace, "activated"),
        OktaCommand::Disable { workspace } => (workspace, "deactivated"),
        OktaCommand::Connect { workspace } => (workspace, "connected"),
        OktaCommand::Disconnect { workspace } => (workspace, "disconnected"),
        OktaCommand::Sso(_) | OktaCommand::Identities(_) | OktaCommand::Revocations(_) => {
            bail!("`okta sso|identities|revocations` are handled by the sign-in commands")
        }
    };
    let tenant = tenant(db, workspace)?;
    match command {
        OktaCommand::Enable { .. } => okta.activate(&tenant, actor)?,
        OktaCommand::Disable { .. } => okta.deactivate(&tenant, actor)?,
        OktaCommand::Connect { .. } => okta.connect(&tenant, actor)?,
        OktaCommand::Disconnect { .. } => okta.disconnect(&tenant, actor)?,
        OktaCommand::Sso(_) | OktaCommand::Identities(_) | OktaCommand::Revocations(_) => {
            return Ok(());
        }
    };
    println!("Okta integration {done} for {}", tenant.workspace);
    Ok(())
}

fn employees(db: &Database, actor: &Actor, command: EmployeesCommand) -> anyhow::Result<()> {
    match command {
        EmployeesCommand::Import { workspace, file } => import(db, actor, &workspace, &file),
        EmployeesCommand::Deactivate { workspace, email } => {
            let t = tenant(db, &workspace)?;
            let e = db.employees().set_active(&t.id, &email, false, actor)?;
            println!(
                "deactivated {} in {}; their sessions have ended",
                e.email, t.workspace
            );
            Ok(())
        }
        EmployeesCommand::Activate { workspace, email } => {
            let t = tenant(db, &workspace)?;
            let e = db.employees().set_active(&t.id, &email, true, actor)?;
            println!("activated {} in {}", e.email, t.workspace);
            Ok(())
        }
        EmployeesCommand::List { workspace } => {
            let t = tenant(db, &workspace)?;
            let mut rows = vec![
                ["EMAIL", "NAME", "TITLE", "DEPARTMENT", "ROLE", "ACTIVE"]
                    .map(String::from)
                    .to_vec(),
            ];
            rows.extend(
                db.employees()
                    .list(&t.id)?
                    .into_iter()
                    .map(|e| employee_row(&e)),
            );
            print_table(&rows);
            Ok(())
        }
    }
}

fn scim_token(db: &Database, actor: &Actor, command: ScimTokenCommand) -> anyhow::Result<()> {
    let mut tokens = ScimTokens::new(db.scim_tokens(actor));
    let now = chrono::Utc::now();
    match command {
        ScimTokenCommand::Mint { workspace, label } => {
            let t = tenant(db, &workspace)?;
            let minted = tokens.mint(&(&t.id).into(), &label, actor.as_str(), now)?;
            warn_unless_live(db, &t)?;
            eprintln!(
                "minted SCIM token {} for {} (shown once)",
                minted.record.id, t.workspace
            );
            println!("{}", minted.token.expose_secret());
        }
        ScimTokenCommand::List { workspace } => {
            let t = tenant(db, &workspace)?;
            let mut rows = vec![
                [
                    "ID",
                    "LABEL",
                    "TOKEN",
                    "CREATED",
                    "CREATED BY",
                    "LAST USED",
                    "REVOKED",
                ]
                .map(String::from)
                .to_vec(),
            ];
            let when = |at: Option<chrono::DateTime<chrono::Utc>>| {
                at.map_or_else(
                    || "-".to_owned(),
                    |at| at.format("%Y-%m-%d %H:%M").to_string(),
                )
            };
            for r in tokens.list(&(&t.id).into())? {
                rows.push(vec![
                    r.id.to_string(),
                    r.label,
                    r.hint.to_string(),
                    when(Some(r.created_at)),
                    r.created_by,
                    when(r.last_used_at),
                    when(r.revoked_at),
                ]);
            }
            print_table(&rows);
        }
        ScimTokenCommand::Revoke { workspace, id } => {
            let t = tenant(db, &workspace)?;
            let revoked = tokens.revoke(&(&t.id).into(), &TokenId::new(id), now)?;
            println!(
                "revoked SCIM token {} ({}) of {}",
                revoked.id, revoked.label, t.workspace
            );
        }
        ScimTokenCommand::Rotate { workspace, id } => {
            let t = tenant(db, &workspace)?;
            let minted = tokens.rotate(
                &(&t.id).into(),
                &TokenId::new(id.clone()),
                actor.as_str(),
                now,
            )?;
            warn_unless_live(db, &t)?;
            eprintln!(
                "SCIM token {id} of {} is revoked; its replacement {} is shown once",
                t.workspace, minted.record.id
            );
            println!("{}", minted.token.expose_secret());
        }
    }
    Ok(())
}

/// Tokens authenticate only while the integration is activated and connected; say so.
fn warn_unless_live(db: &Database, t: &Tenant) -> anyhow::Result<()> {
    if !db.okta_integrations().get(&t.id)?.is_live() {
        eprintln!(
            "warning: the Okta integration of {} is not activated and connected; the token \
             will be refused until it is (sparkctl okta enable / okta connect)",
            t.workspace
        );
    }
    Ok(())
}

/// The most problems printed for one file; the count of the rest follows.
const MAX_PROBLEMS_SHOWN: usize = 20;

fn import(db: &Database, actor: &Actor, workspace: &str, file: &str) -> anyhow::Result<()> {
    let t = tenant(db, workspace)?;
    let (source, mut bytes) = (if file == "-" { "<stdin>" } else { file }, Vec::new());
    if file == "-" {
        if std::io::stdin().is_terminal() {
            bail!(
                "reading employees from standard input, but it is a terminal; pipe a CSV file in"
            );
        }
        std::io::stdin()
            .read_to_end(&mut bytes)
            .context("reading standard input")?;
    } else {
        bytes = std::fs::read(file).with_context(|| format!("cannot read {file}"))?;
    }
    let parsed = csv_import::parse(bytes.as_slice());
    let problems = match parsed {
        Ok(parsed) => match db.employees().upsert_many(&t.id, &parsed.inputs, actor) {
            Ok(summary) => {
                println!(
                    "imported {source} into {}: {} created, {} updated, {} unchanged, {} deactivated",
                    t.workspace,
                    summary.created,
                    summary.updated,
                    summary.unchanged,
                    summary.deactivated
                );
                return Ok(());
            }
            Err(DbError::InvalidInput(problems)) => problems
                .iter()
                .map(|p| parsed.locate(p))
                .collect::<Vec<_>>(),
            Err(other) => return Err(other.into()),
        },
        Err(problems) => problems,
    };
    for problem in problems.iter().take(MAX_PROBLEMS_SHOWN) {
        eprintln!("error: {}", problem.render(source));
    }
    if problems.len() > MAX_PROBLEMS_SHOWN {
        eprintln!(
            "error: … and {} more problems",
            problems.len() - MAX_PROBLEMS_SHOWN
        );
    }
    bail!("{source}: nothing was imported; fix the lines above and run the import again")
}

fn employee_row(e: &Employee) -> Vec<String> {
    let name = e.display_name.clone().unwrap_or_else(|| {
        [e.given_name.as_deref(), e.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ")
    });
    vec![
        e.email.clone(),
        name,
        e.title.clone().unwrap_or_default(),
        e.department.clone().unwrap_or_default(),
        e.role.to_string(),
        if e.active { "yes" } else { "no" }.to_owned(),
    ]
}

/// Prints rows as left-aligned columns.
pub(crate) fn print_table(rows: &[Vec<String>]) {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
