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
