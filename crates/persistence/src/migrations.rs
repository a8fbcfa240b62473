//! Embedded migrations, one tree per backend, applied safely when several replicas start
//! at once.

use diesel::prelude::*;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::connection::DbConnection;
use crate::error::{Error, Result};

const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// The key of the PostgreSQL advisory lock held while migrating ("spark-mi" in ASCII),
/// so replicas that start together apply each migration once, one after the other.
const MIGRATION_LOCK_KEY: i64 = 0x7370_6172_6b2d_6d69;

/// Applies every pending migration; returns the versions applied, oldest first.
pub(crate) fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            // A write lock for the whole run: a second process waits (busy_timeout) and
            // then finds nothing left to do.
            sqlite.immediate_transaction(|c| apply(c, SQLITE))
        }
        DbConnection::Postgresql(pg) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(pg)?;
            let applied = apply(pg, POSTGRES);
            let unlocked =
                diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                    .execute(pg);
            let applied = applied?;
            unlocked?;
            Ok(applied)
        }
    }
}

/// The versions not yet applied, oldest first.
pub(crate) fn pending(conn: &mut DbConnection) -> Result<Vec<String>> {
    fn names<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>>
    where
        C: MigrationHarness<C::Backend> + diesel::Connection,
    {
        let pending = conn
            .pending_migrations(migrations)
            .map_err(|e| Error::Migration(e.to_string()))?;
        Ok(pending.iter().map(|m| m.name().to_string()).collect())
    }
    match conn {
        DbConnection::Sqlite(sqlite) => names(sqlite, SQLITE),
        DbConnection::Postgresql(pg) => names(pg, POSTGRES),
    }
}

fn apply<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>>
where
    C: MigrationHarness<C::Backend> + diesel::Connection,
{
    let applied = conn
        .run_pending_migrations(migrations)
        .map_err(|e| Error::Migration(e.to_string()))?;
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Applies pending migrations in order up to and including `last` (a migration's name,
/// e.g. `2026-11-29-000020_directory_version`): how a test builds the schema an earlier
/// version left, to see what a later migration does to its data.
#[cfg(any(test, feature = "testing"))]
pub(crate) fn run_until(conn: &mut DbConnection, last: &str) -> Result<()> {
    fn until<C>(conn: &mut C, migrations: fn() -> EmbeddedMigrations, last: &str) -> Result<()>
    where
        C: MigrationHarness<C::Backend> + diesel::Connection,
    {
        let migration_error =
            |e: Box<dyn std::error::Error + Send + Sync>| Error::Migration(e.to_string());
        loop {
            let pending = conn
                .pending_migrations(migrations())
                .map_err(migration_error)?;
            let Some(next) = pending.first() else {
                return Err(Error::Migration(format!("no migration `{last}`")));
            };
            let name = next.name().to_string();
            conn.run_migration(next.as_ref()).map_err(migration_error)?;
            if name == last {
                return Ok(());
            }
        }
    }
    match conn {
        DbConnection::Sqlite(sqlite) => until(sqlite, || SQLITE, last),
        DbConnection::Postgresql(pg) => until(pg, || POSTGRES, last),
    }
}

/// The versions of every migration this build knows, per backend (for the lockstep test).
#[cfg(test)]
pub(crate) fn known_versions(backend: crate::Backend) -> Vec<String> {
    use diesel::migration::MigrationSource;
    let names = match backend {
        crate::Backend::Sqlite => MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
        crate::Backend::Postgres => MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
            .map(|ms| ms.iter().map(|m| m.name().to_string()).collect::<Vec<_>>()),
    };
    names.unwrap_or_default()
}
