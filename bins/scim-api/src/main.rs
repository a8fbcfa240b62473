//! `scim-api [serve] [--bind ADDR] [--config FILE]` and `scim-api migrate`: wiring only.

use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use persistence::{Database, DatabaseUrl, PoolOptions};
use settings::Settings;

/// mimalloc rather than the system allocator: a page of users allocates and frees
/// thousands of small strings and a few large buffers, which glibc's allocator pays for
/// in consolidation (about a twentieth of the service's time per page, measured with
/// `cargo xtask bench scim`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "scim-api",
    version,
    about = "Spark's read-only SCIM 2.0 service for Okta"
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
    /// Serve SCIM (the default).
    Serve {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8081")]
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
        bind: "127.0.0.1:8081".into(),
    }) {
        Command::Migrate => {
            let applied = Database::open(&url)?.migrate()?;
            println!("{url}: {} migration(s) applied", applied.len());
            Ok(())
        }
        Command::Serve { bind } => {
            web_runtime::init_logging("scim-api");
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
            tracing::info!(address = %bind, database = %url, "scim-api listening");
            actix_web::rt::System::new()
                .block_on(async move { scim_api::serve(listener, db, settings)?.await })?;
            Ok(())
        }
    }
}
