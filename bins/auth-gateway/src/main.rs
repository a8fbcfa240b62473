//! `auth-gateway [serve] [--bind ADDR] [--config FILE]` and `auth-gateway migrate`:
//! wiring only.

use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use persistence::{Database, DatabaseUrl, PoolOptions};
use settings::Settings;

/// mimalloc rather than the system allocator, as in scim-api: a request's work is many
/// small, short-lived allocations, which it serves faster.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The default listening address (interfaces.md).
const DEFAULT_BIND: &str = "127.0.0.1:8080";

#[derive(Parser)]
#[command(
    name = "auth-gateway",
    version,
    about = "Spark's browser-facing sign-in service: Okta OIDC, sessions, sign-in links"
)]
struct Cli {
    /// A TOML configuration file (layered over the defaults, under SPARK__* variables).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the gateway (the default).
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = DEFAULT_BIND)]
        bind: String,
    },
    /// Apply the database migrations this build has, then exit.
    Migrate,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    let url: DatabaseUrl = settings.database.url.parse()?;
    match cli.command.unwrap_or(Command::Serve {
        bind: DEFAULT_BIND.into(),
    }) {
        Command::Migrate => {
            let applied = Database::open(&url)?.migrate()?;
            println!("{url}: {} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Serve { bind } => {
            web_runtime::init_logging("auth-gateway");
            let options = PoolOptions {
                max_connections: settings.database.max_connections,
                acquire_timeout: std::time::Duration::from_secs(
                    settings.database.acquire_timeout_secs,
                ),
            };
            let db = Database::open_lazily(&url, &options);
            db.prepare().context("preparing the database")?;
            let listener =
                TcpListener::bind(&bind).with_context(|| format!("cannot listen on {bind}"))?;
            tracing::info!(
                address = %bind,
                database = %url,
                auth_origin = %settings.auth_origin(),
                "auth-gateway listening"
            );
            actix_web::rt::System::new().block_on(async move {
                let server = auth_gateway::serve(listener, db, settings)?;
                server.await.context("serving")
            })?;
            Ok(())
        }
    }
}
