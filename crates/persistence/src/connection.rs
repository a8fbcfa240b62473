//! One connection type over both backends, the URL rules that pick the backend, and the
//! r2d2 manager that opens connections with the right per-connection settings.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
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

/// The backend of the two-backend connection.
pub(crate) type Db = <DbConnection as diesel::Connection>::Backend;

/// Runs `$work`, an expression over the connection `$c`, on whichever backend's own
/// connection `$conn` holds: for the statements diesel's two-backend connection cannot
/// carry (multi-row INSERT, `RETURNING`) or keep prepared. `$work` is compiled once per
/// backend, so it may build the backend-specific parts (`as_returning()`) itself.
macro_rules! on_own_connection {
    ($conn:expr, |$c:ident| $work:expr) => {
        match $conn {
            $crate::connection::DbConnection::Postgresql($c) => $work,
            $crate::connection::DbConnection::Sqlite($c) => $work,
        }
    };
}
pub(crate) use on_own_connection;

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

/// A PostgreSQL URL with every password in it replaced by `***`: the user info's
/// (`postgres://user:secret@host/db`) and libpq's query parameters that carry one
/// (`?password=…`, `?sslpassword=…`, in any case, percent-encoded or not).
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let authority_end = before_query.find('/').unwrap_or(before_query.len());
    let (authority, path) = before_query.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let query = query.map(|query| {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| {
                let key = pair.split('=').next().unwrap_or_default();
                if matches!(percent_decoded(key).as_str(), "password" | "sslpassword") {
                    format!("{key}=***")
                } else {
                    pair.to_owned()
                }
            })
            .collect();
        format!("?{}", pairs.join("&"))
    });
    format!("{scheme}://{authority}{path}{}", query.unwrap_or_default())
}

/// A URL query key as libpq reads it: `%XX` decoded, lower-cased.
fn percent_decoded(key: &str) -> String {
    let bytes = key.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (byte, hex) {
            (b'%', Some(value)) => {
                decoded.push(value);
                i += 3;
            }
            _ => {
                decoded.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).to_ascii_lowercase()
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

    fn connect(
        &self,
        connect_timeout: Duration,
        losses: &Arc<AtomicU64>,
        commits: Durability,
    ) -> std::result::Result<DbConnection, ConnectionError> {
        match self {
            DatabaseUrl::Postgres(url) => {
                postgres_connection(url, connect_timeout, losses, commits)
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

/// The longest a PostgreSQL statement may run before the server cancels it (the session's
/// `statement_timeout`): a runaway query fails instead of holding a connection for good.
/// Migrations run without it. A URL that sets `statement_timeout` itself (in `options`)
/// keeps its own.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(30);

/// A connection used successfully this recently is handed out without a round trip to
/// check it; one idle for longer is checked first (a `SELECT 1`), so connections the
/// server or the network dropped while idle are replaced instead of failing a request.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(1);

/// libpq's `connect_timeout` for a wait of `acquire_timeout`: whole seconds, at least
/// libpq's minimum of 2, so a connection attempt to an unreachable server gives up about
/// when the caller waiting for it does.
pub(crate) fn connect_timeout_for(acquire_timeout: Duration) -> Duration {
    Duration::from_secs(acquire_timeout.as_secs().clamp(2, 60))
}

/// The URL with `connect_timeout` added when it names none.
fn with_connect_timeout(url: &str, timeout: Duration) -> String {
    let query = url.split_once('?').map(|(_, query)| query).unwrap_or("");
    if query
        .split('&')
        .any(|pair| pair.split('=').next() == Some("connect_timeout"))
    {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}connect_timeout={}", timeout.as_secs())
}

fn postgres_connection(
    url: &str,
    connect_timeout: Duration,
    losses: &Arc<AtomicU64>,
    commits: Durability,
) -> std::result::Result<DbConnection, ConnectionError> {
    let mut conn = PgConnection::establish(&with_connect_timeout(url, connect_timeout))?;
    conn.set_instrumentation(ConnectionHealth::new(losses.clone()));
    // Diesel prepares each static query once per connection as a named statement; those
    // are the hot paths (an import page, a token check, a session look-up), with plans
    // that do not depend on their parameters. By default PostgreSQL plans a named
    // statement anew on every execution as long as a parameter-specific plan looks
    // cheaper than the generic one — and with `LIMIT $n` it always does, which cost a
    // quarter of the server's time on an import. Forcing the generic plan plans each once.
    // Boxed (dynamic) queries are unnamed, one-shot statements and keep their custom
    // plans: PostgreSQL does not apply this setting to them.
    let mut setup = String::from("SET plan_cache_mode = force_generic_plan");
    if commits == Durability::Transient {
        setup.push_str("; SET synchronous_commit = off");
    }
    if !url.contains("statement_timeout") {
        setup.push_str(&format!(
            "; SET statement_timeout = {}",
            STATEMENT_TIMEOUT.as_millis()
        ));
    }
    conn.batch_execute(&setup)
        .map_err(|e| ConnectionError::BadConnection(format!("configuring PostgreSQL: {e}")))?;
    Ok(DbConnection::Postgresql(conn))
}

/// What the pool knows about a PostgreSQL connection beyond diesel's own state (diesel
/// already reports a connection libpq found dropped as broken, and the pool discards it
/// when it comes back): when a query last succeeded on it, seen through diesel's
/// instrumentation, and whether it was retired.
#[derive(Debug)]
struct ConnectionHealth {
    /// Counts the connections of this pool found lost; shared by all of them.
    losses: Arc<AtomicU64>,
    /// `losses` as it was at the last success: when it has moved since, some connection
    /// was lost after this one last worked, and this one is checked before reuse.
    losses_seen: u64,
    last_success: Option<Instant>,
    retired: bool,
}

impl ConnectionHealth {
    fn new(losses: Arc<AtomicU64>) -> Self {
        ConnectionHealth {
            losses,
            losses_seen: 0,
            last_success: None,
            retired: false,
        }
    }

    /// Worked a moment ago, and no connection of the pool was lost since.
    fn recently_fine(&self) -> bool {
        self.last_success
            .is_some_and(|at| at.elapsed() < CHECK_AFTER_IDLE)
            && self.losses_seen == self.losses.load(Ordering::Relaxed)
    }
}

impl Instrumentation for ConnectionHealth {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::FinishQuery { error, .. } = event {
            match error {
                None => {
                    self.last_success = Some(Instant::now());
                    self.losses_seen = self.losses.load(Ordering::Relaxed);
                }
                Some(error) if is_connection_lost(error) => {
                    self.losses.fetch_add(1, Ordering::Relaxed);
                }
                Some(_) => {}
            }
        }
    }
}

/// The errors libpq gives when the connection itself is gone.
fn is_connection_lost(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error as D};
    matches!(
        error,
        D::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        )
    )
}

fn health(conn: &mut PgConnection) -> Option<&mut ConnectionHealth> {
    conn.instrumentation().downcast_mut::<ConnectionHealth>()
}

/// Runs `work` (the migrations) without the statement timeout: an index build on a big
/// table, or the wait for another replica's migration lock, may take longer. The
/// connection is retired afterwards, so the setting does not outlive the work.
pub(crate) fn without_statement_timeout<T>(
    conn: &mut DbConnection,
    work: impl FnOnce(&mut DbConnection) -> Result<T>,
) -> Result<T> {
    if let DbConnection::Postgresql(pg) = conn {
        if let Some(health) = health(pg) {
            health.retired = true;
        }
        pg.batch_execute("SET statement_timeout = 0")?;
    }
    work(conn)
}

/// How long a SQLite writer waits for another writer before giving up.
pub(crate) const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

fn sqlite_connection(path: &str) -> std::result::Result<DbConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    // Per-connection settings: SQLite forgets these when a connection closes.
    // Reads go through a page cache of at most 4 MiB per connection and, past it, the
    // operating system's file cache (shared, and not the process's memory). Mapping the
    // file instead (mmap_size) was no faster and counted every page once per connection
    // in the process's resident memory: 88 MiB for an 11 MB database under load, against
    // 35 MiB (figures in docs/benchmarks.md).
    let pragmas = format!(
        "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
         PRAGMA synchronous = NORMAL; PRAGMA mmap_size = 0; PRAGMA cache_size = -4096;",
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
    connect_timeout: Duration,
    /// How many of this pool's PostgreSQL connections were found lost (see
    /// [`ConnectionHealth`]).
    losses: Arc<AtomicU64>,
    /// Whether the commits of this pool's PostgreSQL connections wait for the WAL flush.
    commits: Durability,
}

impl ConnectionManager {
    pub(crate) fn new(url: DatabaseUrl, connect_timeout: Duration, commits: Durability) -> Self {
        Self {
            url,
            connect_timeout,
            losses: Arc::default(),
            commits,
        }
    }
}

impl diesel::r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> std::result::Result<DbConnection, ConnectionError> {
        self.url
            .connect(self.connect_timeout, &self.losses, self.commits)
    }

    /// Called as a connection is handed out. SQLite connections are files in this
    /// process and cannot go stale. A PostgreSQL one is checked with a round trip first
    /// unless it worked within [`CHECK_AFTER_IDLE`] and no connection of the pool was
    /// found lost since — so once the database or the network has dropped connections,
    /// requests get fresh ones instead of failing one by one on the dead ones, and a busy
    /// pool pays nothing.
    fn is_valid(&self, conn: &mut DbConnection) -> std::result::Result<(), ConnectionError> {
        let DbConnection::Postgresql(pg) = conn else {
            return Ok(());
        };
        if health(pg).is_some_and(|health| health.recently_fine()) {
            return Ok(());
        }
        conn.ping()
            .map(|_| ())
            .map_err(|e| ConnectionError::BadConnection(e.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        let retired = match conn {
            DbConnection::Postgresql(pg) => health(pg).is_some_and(|health| health.retired),
            DbConnection::Sqlite(_) => false,
        };
        retired || conn.is_broken()
    }
}

/// Whether a pool's commits wait for the database's log to reach disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// They do: every pool but the one below.
    Durable,
    /// On PostgreSQL they do not (the session's `synchronous_commit = off`): a commit is
    /// on disk a fraction of a second later, and a server crash in between loses it
    /// without corrupting anything. SQLite (WAL, `synchronous = NORMAL`) is unchanged.
    Transient,
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

    /// The bundled SQLite is built as `.cargo/config.toml` says: without its global
    /// memory-statistics mutex, without per-connection mutexes, and with plans that do
    /// not depend on bound values (so cached statements are not re-prepared).
    #[test]
    fn sqlite_is_built_without_global_locks() {
        let db = crate::testing::TestDatabase::new(Backend::Sqlite);
        let options = db.select_number(
            "SELECT count(*) AS n FROM pragma_compile_options \
             WHERE compile_options IN ('THREADSAFE=2', 'DEFAULT_MEMSTATUS=0', 'ENABLE_QPSG')",
        );
        assert_eq!(
            options, 3,
            "LIBSQLITE3_FLAGS did not reach the bundled SQLite"
        );
    }

    #[test]
    fn passwords_are_redacted_wherever_the_url_carries_them() {
        for (url, shown) in [
            (
                "postgres://spark:hunter2@db/spark",
                "postgres://spark:***@db/spark",
            ),
            (
                "postgres://db/spark?user=spark&password=hunter2",
                "postgres://db/spark?user=spark&password=***",
            ),
            (
                "postgresql://db/spark?PassWord=hunter2&sslmode=require",
                "postgresql://db/spark?PassWord=***&sslmode=require",
            ),
            (
                "postgres://db/spark?pass%77ord=hunter2",
                "postgres://db/spark?pass%77ord=***",
            ),
            (
                "postgres://db?sslpassword=hunter2&password=hunter2",
                "postgres://db?sslpassword=***&password=***",
            ),
            (
                "postgres://a:hunter2@db:5432/spark?password=hunter2",
                "postgres://a:***@db:5432/spark?password=***",
            ),
            (
                "postgres://db/spark?application_name=password",
                "postgres://db/spark?application_name=password",
            ),
        ] {
            let parsed: DatabaseUrl = url.parse().unwrap();
            assert_eq!(parsed.to_string(), shown, "{url}");
            assert!(!format!("{parsed:?}").contains("hunter2"), "{url}");
        }
    }

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
    fn a_connect_timeout_is_added_unless_the_url_has_one() {
        let t = Duration::from_secs(5);
        assert_eq!(
            with_connect_timeout("postgres://u@h/db", t),
            "postgres://u@h/db?connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?sslmode=disable", t),
            "postgres://u@h/db?sslmode=disable&connect_timeout=5"
        );
        assert_eq!(
            with_connect_timeout("postgres://u@h/db?connect_timeout=9", t),
            "postgres://u@h/db?connect_timeout=9"
        );
        assert_eq!(connect_timeout_for(Duration::from_millis(500)).as_secs(), 2);
        assert_eq!(connect_timeout_for(Duration::from_secs(5)).as_secs(), 5);
    }

    #[test]
    #[ignore = "needs PostgreSQL"]
    fn postgres_sessions_plan_generically_and_time_out_and_migrations_do_not_leak() {
        let test_db = crate::testing::TestDatabase::new(Backend::Postgres);
        let db = test_db.db();
        db.migrate().unwrap();
        // Several at once: the connection that ran the migrations would come first.
        let mut conns: Vec<_> = (0..3).map(|_| db.conn().unwrap()).collect();
        for conn in &mut conns {
            let DbConnection::Postgresql(pg) = &mut **conn else {
                panic!("a PostgreSQL connection");
            };
            let setting: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                "current_setting('statement_timeout')",
            ))
            .get_result(pg)
            .unwrap();
            assert_eq!(setting, "30s");
            let planning: String = diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                "current_setting('plan_cache_mode')",
            ))
            .get_result(pg)
            .unwrap();
            assert_eq!(planning, "force_generic_plan");
        }
        // Commits wait for the disk on every connection but the sign-in records' own.
        let synchronous_commit = |conn: &mut DbConnection| -> String {
            let DbConnection::Postgresql(pg) = conn else {
                panic!("a PostgreSQL connection");
            };
            diesel::select(diesel::dsl::sql::<diesel::sql_types::Text>(
                "current_setting('synchronous_commit')",
            ))
            .get_result(pg)
            .unwrap()
        };
        for conn in &mut conns {
            assert_eq!(synchronous_commit(conn), "on");
        }
        assert_eq!(synchronous_commit(&mut db.transient.get().unwrap()), "off");
    }

    #[test]
    fn passwords_never_reach_debug_or_display() {
        let url: DatabaseUrl = "postgres://spark:hunter2@db:5432/spark".parse().unwrap();
        assert!(!format!("{url:?}").contains("hunter2"));
        assert_eq!(url.to_string(), "postgres://spark:***@db:5432/spark");
    }
}
