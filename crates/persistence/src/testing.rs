//! Fresh, migrated databases for tests, on either backend.
//!
//! SQLite: a new file in a temporary folder. PostgreSQL: a new database on the server at
//! `TEST_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`), copied
//! from a template this process migrated once, and dropped again when the test ends. Use [`backend_tests!`](crate::backend_tests) to run one test
//! body on both backends as two named tests.
//!
//! A test that needs PostgreSQL says so with `#[ignore = "needs PostgreSQL"]`
//! (`backend_tests!` marks each `postgres` half so): `cargo xtask test` runs these with
//! `--include-ignored` whenever the server answers (always in CI), and leaves them out,
//! reported as ignored, where it does not. By hand: `cargo test -- --include-ignored`.

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::prelude::*;

use crate::{Backend, Database, DatabaseUrl, PoolOptions};

/// The server PostgreSQL tests use when `TEST_DATABASE_URL` is unset.
pub const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A migrated database that exists for one test.
pub struct TestDatabase {
    db: Option<Database>,
    url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDatabase {
    /// A fresh, migrated database on `backend`.
    ///
    /// # Panics
    /// When the database cannot be made: a test without its database cannot say anything.
    pub fn new(backend: Backend) -> Self {
        Self::migrated(backend, 4)
    }

    /// A fresh, migrated database on `backend` whose pool holds one connection, so that
    /// a test can look at that connection's own state (its prepared statements).
    ///
    /// # Panics
    /// When the database cannot be made.
    pub fn with_one_connection(backend: Backend) -> Self {
        Self::migrated(backend, 1)
    }

    /// A fresh, migrated database whose pool holds up to `max_connections`. On
    /// PostgreSQL, a copy of this process's [`migrated_template`].
    #[allow(clippy::expect_used)]
    fn migrated(backend: Backend, max_connections: u32) -> Self {
        match backend {
            Backend::Postgres => Self::fresh_postgres(Some(migrated_template()), max_connections),
            Backend::Sqlite => {
                let test_db = Self::fresh(backend, max_connections);
                test_db.db().migrate().expect("migrating the test database");
                test_db
            }
        }
    }

    /// A fresh database on `backend` migrated up to and including the migration `last`
    /// (its folder's name), as a deployment of an earlier version left it.
    ///
    /// # Panics
    /// When the database cannot be made or `last` is not a migration.
    #[allow(clippy::expect_used)]
    pub fn new_migrated_until(backend: Backend, last: &str) -> Self {
        let test_db = Self::new_unmigrated(backend);
        let mut conn = test_db
            .db()
            .conn()
            .expect("a connection to the test database");
        crate::migrations::run_until(&mut conn, last).expect("migrating the test database");
        drop(conn);
        test_db
    }

    /// A fresh, empty database on `backend`, not yet migrated.
    ///
    /// # Panics
    /// When the database cannot be made.
    pub fn new_unmigrated(backend: Backend) -> Self {
        Self::fresh(backend, 4)
    }

    /// A fresh, empty database whose pool holds up to `max_connections`.
    #[allow(clippy::expect_used, clippy::panic)]
    fn fresh(backend: Backend, max_connections: u32) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temporary folder for SQLite");
                let path = dir.path().join("spark.db");
                let url = format!("sqlite://{}", path.display());
                Self::ready(
                    DatabaseUrl::SqliteFile(path),
                    url,
                    Cleanup::Sqlite(dir),
                    max_connections,
                )
            }
            Backend::Postgres => Self::fresh_postgres(None, max_connections),
        }
    }

    /// A new PostgreSQL database, empty or a copy of `template`.
    #[allow(clippy::expect_used)]
    fn fresh_postgres(template: Option<&str>, max_connections: u32) -> Self {
        let admin_url = admin_url();
        let name = unique_name();
        let copy = template.map_or_else(String::new, |t| format!(" TEMPLATE \"{t}\""));
        diesel::sql_query(format!("CREATE DATABASE \"{name}\"{copy}"))
            .execute(&mut admin_connection(&admin_url))
            .expect("CREATE DATABASE for a test");
        let url = database_url_with_name(&admin_url, &name);
        Self::ready(
            DatabaseUrl::Postgres(url.clone()),
            url,
            Cleanup::Postgres { admin_url, name },
            max_connections,
        )
    }

    fn ready(url: DatabaseUrl, url_string: String, cleanup: Cleanup, max_connections: u32) -> Self {
        let db = Database::open_lazily(
            &url,
            &PoolOptions {
                max_connections,
                ..PoolOptions::default()
            },
        );
        Self {
            db: Some(db),
            url: url_string,
            cleanup,
        }
    }

    /// The URL to hand to another process as `DATABASE_URL` (not redacted).
    pub fn database_url(&self) -> &str {
        &self.url
    }

    /// Runs `sql` as written and returns the rows it changed: for tests that write what
    /// an earlier version wrote, before migrating past it.
    ///
    /// # Panics
    /// When the statement fails.
    #[allow(clippy::expect_used)]
    pub fn execute(&self, sql: &str) -> usize {
        let mut conn = self.db().conn().expect("a connection to the test database");
        match &mut *conn {
            crate::DbConnection::Sqlite(c) => diesel::sql_query(sql).execute(c),
            crate::DbConnection::Postgresql(c) => diesel::sql_query(sql).execute(c),
        }
        .expect("a test's SQL statement")
    }

    /// The number `sql` selects as its one column `n` (`SELECT count(*) AS n …`).
    ///
    /// # Panics
    /// When the statement fails.
    #[allow(clippy::expect_used)]
    pub fn select_number(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Number {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.db().conn().expect("a connection to the test database");
        match &mut *conn {
            crate::DbConnection::Sqlite(c) => diesel::sql_query(sql).get_result::<Number>(c),
            crate::DbConnection::Postgresql(c) => diesel::sql_query(sql).get_result::<Number>(c),
        }
        .expect("a test's SQL query")
        .n
    }

    /// The database.
    #[allow(clippy::expect_used)]
    pub fn db(&self) -> &Database {
        self.db.as_ref().expect("present until drop")
    }
}

impl std::ops::Deref for TestDatabase {
    type Target = Database;

    fn deref(&self) -> &Database {
        self.db()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Close the pool first, so the database can be dropped.
        drop(self.db.take());
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let drop = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let _ = diesel::sql_query(drop).execute(&mut admin);
        }
    }
}

/// The server the PostgreSQL tests use.
fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
}

/// A connection to that server's administrative database.
#[allow(clippy::panic)]
fn admin_connection(admin_url: &str) -> PgConnection {
    PgConnection::establish(admin_url).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL tests need a server at TEST_DATABASE_URL ({admin_url}): {e}. \
             Start it, or run `cargo xtask test`, which leaves them out when there is \
             none: those marked as needing PostgreSQL (see persistence::testing)."
        )
    })
}

/// The migrated database this process's PostgreSQL tests copy (`CREATE DATABASE …
/// TEMPLATE`), made on first use: copying it takes about half the time of migrating a
/// new database (0.12–0.13 s against 0.25–0.38 s measured). Named like the tests'
/// databases, so `cargo xtask test` drops it once this process has ended.
#[allow(clippy::expect_used)]
fn migrated_template() -> &'static str {
    static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let admin_url = admin_url();
        let name = format!("spark_test_{}_template", std::process::id());
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut admin_connection(&admin_url))
            .expect("CREATE DATABASE for the tests' template");
        let url = database_url_with_name(&admin_url, &name);
        let options = PoolOptions {
            max_connections: 1,
            ..PoolOptions::default()
        };
        let template = Database::open_lazily(&DatabaseUrl::Postgres(url), &options);
        template.migrate().expect("migrating the tests' template");
        // Closed before it is copied: a template may have no one connected.
        drop(template);
        name
    })
}

/// `spark_test_<pid>_<counter>_<random>`: unique across parallel test binaries.
fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let random = uuid::Uuid::now_v7().simple().to_string();
    let tail = random
        .get(random.len().saturating_sub(8)..)
        .unwrap_or_default();
    format!("spark_test_{}_{n}_{tail}", std::process::id())
}

/// The same server URL with another database name (query string kept).
fn database_url_with_name(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let server = match base.get(authority_start..).and_then(|rest| rest.find('/')) {
        Some(slash) => base.get(..authority_start + slash).unwrap_or(base),
        None => base,
    };
    match query {
        Some(query) => format!("{server}/{name}?{query}"),
        None => format!("{server}/{name}"),
    }
}

/// Defines each test body twice, as `name::sqlite` and `name::postgres`, each on a
/// fresh [`TestDatabase`]; the `postgres` half is marked `#[ignore = "needs PostgreSQL"]`
/// (see the module docs):
///
/// ```text
/// persistence::backend_tests! {
///     fn creates_a_tenant(db) { db.tenants().create(…).unwrap(); }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($(#[doc = $doc:literal])* fn $name:ident($db:ident) $body:block)*) => {
        $(
            $(#[doc = $doc])*
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                fn run($db: &$crate::testing::TestDatabase) $body

                #[test]
                fn sqlite() {
                    run(&$crate::testing::TestDatabase::new($crate::Backend::Sqlite));
                }

                #[test]
                #[ignore = "needs PostgreSQL"]
                fn postgres() {
                    run(&$crate::testing::TestDatabase::new($crate::Backend::Postgres));
                }
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_database_names_replace_the_path() {
        assert_eq!(
            database_url_with_name("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            database_url_with_name("postgres://h:5432?sslmode=disable", "t2"),
            "postgres://h:5432/t2?sslmode=disable"
        );
    }
}
