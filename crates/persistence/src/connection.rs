//! One connection type over both backends, the URL rules that pick the backend, and the
//! r2d2 manager that opens connections with the right per-connection settings.

use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::R2D2Connection;

use crate::error::{Error, Result};

/// A connection to either backend. Diesel's derive makes it a `Connection` whose queries
/// compile once for both; the few statements that differ match on the variant.
#[derive(diesel::MultiConnection)]
pub(crate) enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

/// Which database engine a [`DatabaseUrl`] names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: a single file (or memory), opened with WAL and foreign keys.
    Sqlite,
    /// Production: a PostgreSQL server.
    Postgres,
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        })
    }
}

/// A parsed `DATABASE_URL`. The backend comes from the scheme alone:
/// `postgres://` or `postgresql://` is PostgreSQL; `sqlite://PATH`, `sqlite:PATH`, a bare
/// path or `:memory:` is SQLite; any other scheme is refused rather than guessed.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A SQLite database file, created with its parent folder when missing.
    SqliteFile(PathBuf),
    /// A private in-memory SQLite database (one connection; gone when it closes).
    SqliteMemory,
    /// A PostgreSQL connection string, passed to libpq as given.
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // PostgreSQL URLs may carry a password: print them redacted.
        match self {
            DatabaseUrl::SqliteFile(path) => write!(f, "SqliteFile({path:?})"),
            DatabaseUrl::SqliteMemory => f.write_str("SqliteMemory"),
            DatabaseUrl::Postgres(url) => write!(f, "Postgres({:?})", redact_password(url)),
        }
    }
}

impl std::fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DatabaseUrl::SqliteFile(path) => write!(f, "sqlite://{}", path.display()),
            DatabaseUrl::SqliteMemory => f.write_str("sqlite://:memory:"),
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
        }
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl std::str::FromStr for DatabaseUrl {
    type Err = Error;

    fn from_str(url: &str) -> Result<Self> {
        let url = url.trim();
        if url.is_empty() {
            return Err(Error::InvalidDatabaseUrl(
                "the database URL is empty; use postgres://… or a SQLite file path".into(),
            ));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(url.to_owned()));
        }
        let sqlite_path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"));
        let path = match sqlite_path {
            Some(path) => path,
            None if url.contains("://") => {
                let scheme = url.split("://").next().unwrap_or_default();
                return Err(Error::InvalidDatabaseUrl(format!(
                    "unsupported database URL scheme `{scheme}://`; use postgres://… for \
                     PostgreSQL or a file path (or sqlite://path) for SQLite"
                )));
            }
            None => url,
        };
        match path {
            "" => Err(Error::InvalidDatabaseUrl(
                "the SQLite URL names no file; use sqlite://path/to/spark.db".into(),
            )),
            ":memory:" => Ok(DatabaseUrl::SqliteMemory),
            path => Ok(DatabaseUrl::SqliteFile(PathBuf::from(path))),
        }
    }
}

impl DatabaseUrl {
    /// The backend this URL selects.
    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => Backend::Sqlite,
            DatabaseUrl::Postgres(_) => Backend::Postgres,
        }
    }

    pub(crate) fn connect(&self) -> std::result::Result<DbConnection, ConnectionError> {
        match self {
            DatabaseUrl::Postgres(url) => {
                Ok(DbConnection::Postgresql(PgConnection::establish(url)?))
            }
            DatabaseUrl::SqliteMemory => sqlite_connection(":memory:"),
            DatabaseUrl::SqliteFile(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        ConnectionError::BadConnection(format!(
                            "cannot create the folder {} for the SQLite database: {e}",
                            parent.display()
                        ))
                    })?;
                }
                sqlite_connection(&path.to_string_lossy())
            }
        }
    }
}

/// How long a SQLite writer waits for another writer before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn sqlite_connection(path: &str) -> std::result::Result<DbConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    // Per-connection settings: SQLite forgets these when a connection closes.
    // Reads dominate (Okta's imports): map the file into memory and give each connection
    // a 16 MiB page cache, so a page of users is served without read() calls.
    let pragmas = format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 268435456; PRAGMA cache_size = -16384;",
        SQLITE_BUSY_TIMEOUT.as_millis()
    );
    conn.batch_execute(&pragmas)
        .map_err(|e| ConnectionError::BadConnection(format!("configuring SQLite: {e}")))?;
    crate::sql_functions::register_sqlite(&mut conn)
        .map_err(|e| ConnectionError::BadConnection(format!("registering SQL functions: {e}")))?;
    Ok(DbConnection::Sqlite(conn))
}

/// The r2d2 manager: opens connections for one [`DatabaseUrl`], so the backend is decided
/// once, by the URL's scheme.
#[derive(Debug)]
pub(crate) struct ConnectionManager {
    url: DatabaseUrl,
}

impl ConnectionManager {
    pub(crate) fn new(url: DatabaseUrl) -> Self {
        Self { url }
    }
}

impl diesel::r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> std::result::Result<DbConnection, ConnectionError> {
        self.url.connect()
    }

    fn is_valid(&self, conn: &mut DbConnection) -> std::result::Result<(), ConnectionError> {
        conn.ping()
            .map(|_| ())
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

/// Runs `work` in a transaction that is a writer from its first statement.
///
/// On SQLite this is `BEGIN IMMEDIATE`: a deferred transaction that reads first and
/// writes later can fail with `SQLITE_BUSY` whatever the busy timeout, while an immediate
/// one simply waits its turn. PostgreSQL's ordinary `BEGIN` already behaves.
pub(crate) fn write_transaction<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    match conn {
        DbConnection::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?
        }
        DbConnection::Postgresql(_) => DbConnection::begin_transaction(conn)?,
    }
    match work(conn) {
        Ok(value) => {
            DbConnection::commit_transaction(conn)?;
            Ok(value)
        }
        Err(error) => {
            // The work's own error is the one worth reporting; a failed rollback leaves
            // the connection marked broken, and the pool discards it.
            let _ = DbConnection::rollback_transaction(conn);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        let cases = [
            ("postgres://u@h/db", Backend::Postgres),
            ("postgresql://h/db", Backend::Postgres),
            ("sqlite://data/spark.db", Backend::Sqlite),
            ("sqlite:spark.db", Backend::Sqlite),
            ("./data/spark.db", Backend::Sqlite),
            ("/abs/spark.db", Backend::Sqlite),
            (":memory:", Backend::Sqlite),
        ];
        for (url, backend) in cases {
            let parsed: DatabaseUrl = url.parse().unwrap();
            assert_eq!(parsed.backend(), backend, "{url}");
        }
    }

    #[test]
    fn unknown_schemes_are_refused_not_opened_as_files() {
        for url in ["mysql://h/db", "http://example.com/db", "postgre://typo/db"] {
            let err = url.parse::<DatabaseUrl>().unwrap_err().to_string();
            assert!(
                err.contains("unsupported database URL scheme"),
                "{url}: {err}"
            );
        }
        assert!("".parse::<DatabaseUrl>().is_err());
        assert!("sqlite://".parse::<DatabaseUrl>().is_err());
    }

    #[test]
    fn sqlite_url_forms_name_the_same_file() {
        let a: DatabaseUrl = "sqlite://data/spark.db".parse().unwrap();
        let b: DatabaseUrl = "data/spark.db".parse().unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn passwords_never_reach_debug_or_display() {
        let url: DatabaseUrl = "postgres://spark:hunter2@db:5432/spark".parse().unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.to_string(), "postgres://spark:***@db:5432/spark");
    }
}
