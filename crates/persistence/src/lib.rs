//! Spark's Okta-integration data on SQLite (the embedded default) and PostgreSQL
//! (production), behind one API that speaks domain types.
//!
//! What it knows: the tables and their migrations, how to open and pool connections for
//! either backend (chosen by the `DATABASE_URL` scheme), and the repositories — tenants,
//! the Okta integration state, employees, SCIM tokens (as `token-store`'s repository),
//! audit events. Every repository call takes the
//! tenant it acts for; no query reads another tenant's rows.
//!
//! What it does not know: HTTP, OIDC, SCIM wire formats, configuration files. It is the
//! only crate that names diesel; its row structs stay private.
//!
//! ```
//! use persistence::{Actor, Database, Workspace};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let db = Database::open(&":memory:".parse()?)?;
//! db.migrate()?;
//! let acme = db.tenants().create(&Workspace::parse("acme")?, "Acme Inc", &Actor::system())?;
//! assert!(db.employees().list(&acme.id)?.is_empty());
//! # Ok(())
//! # }
//! ```

mod audit;
mod clock;
mod connection;
mod department_reads;
mod departments;
mod employees;
mod error;
mod ids;
mod integration;
mod keyset;
mod migrations;
mod names;
mod okta_revocations;
mod prepared;
mod request_context;
mod schema;
#[cfg(test)]
mod schema_check;
mod scim_positions;
mod scim_tokens;
mod scim_users;
mod sign_in;
mod sql_functions;
mod sso_configs;
mod tenants;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use std::sync::Arc;
use std::time::Duration;

use diesel::r2d2::{Pool, PooledConnection};

pub use audit::{Actor, AuditEvent, AuditLog};
pub use connection::{Backend, DatabaseUrl, STATEMENT_TIMEOUT};
pub use department_reads::{DepartmentSummary, department_id};
pub use employees::{Change, Employee, EmployeeId, EmployeeInput, Employees, ImportSummary, Role};
pub use error::{Error, InputProblem, Result};
pub use ids::TenantId;
pub use integration::{IntegrationStamp, OktaIntegration, OktaIntegrations};
pub use okta_revocations::{
    AttemptOutcome, MAX_LISTED_REVOCATIONS, OktaRevocation, OktaRevocations, OktaServiceApp,
    OktaServiceApps, RevocationStatus, service_key_context,
};
pub use scim_positions::WALK_SLOTS;
pub use scim_tokens::ScimTokenStore;
pub use scim_users::{PageStart, Resumed, ScimLookup, SortDirection, SortKey, UserOrder, UserPage};
pub use sign_in::{
    AuthMethod, CodePurpose, Consumed, EmployeeIdentities, HandOff, LOGIN_TRANSACTION_TTL,
    LinkedIdentity, LoginTransaction, LoginTransactions, LogoutOrder, LogoutOutcome, LogoutSubject,
    NewLoginTransaction, NewOneTimeCode, NewSession, OneTimeCode, OneTimeCodes, Redeemed, Session,
    SessionPolicy, SessionStart, Sessions, SignInMatch, SignedInSession, UniversalLogouts,
    Unlinked,
};
pub use sso_configs::{OktaSsoConfig, OktaSsoConfigInput, OktaSsoConfigs, secret_context};
pub use tenants::{Tenant, Tenants, Workspace};

use connection::{ConnectionManager, DbConnection, Durability};

/// How the connection pool behaves.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The most connections open at once. On PostgreSQL, short-lived sign-in records
    /// have a pool of their own, of at most half as many more.
    pub max_connections: u32,
    /// How long a caller waits for a free connection before getting
    /// [`Error::Unavailable`]: waits are bounded, so a slow database cannot pile up work.
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool of connections to one database, and the door to its repositories. Cheap to
/// clone; every clone shares the pool. Calls block: async callers run them on a blocking
/// thread pool.
#[derive(Clone)]
pub struct Database {
    pool: Pool<ConnectionManager>,
    /// Connections for short-lived sign-in records, whose commits do not wait for the
    /// disk (see [`Database::write_transient`]); on SQLite, `pool` itself.
    transient: Pool<ConnectionManager>,
    url: Arc<DatabaseUrl>,
    /// Whether PostgreSQL runs the sign-in steps it can in one statement
    /// (`sign_in/one_statement.rs`); always, but in the test that compares the two paths.
    sign_in_in_one_statement: bool,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database").field("url", &self.url).finish()
    }
}

impl Database {
    /// Opens a pool and checks that one connection can be made.
    pub fn open(url: &DatabaseUrl) -> Result<Self> {
        Self::open_with(url, &PoolOptions::default())
    }

    /// Opens a pool with explicit options and checks that one connection can be made.
    pub fn open_with(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self> {
        let db = Self::open_lazily(url, options);
        db.ping()?;
        Ok(db)
    }

    /// Opens a pool without connecting yet: a service can start while its database is
    /// down, report not-ready, and recover when the database returns.
    pub fn open_lazily(url: &DatabaseUrl, options: &PoolOptions) -> Self {
        let pool = |commits: Durability, max_size: u32| {
            let manager = ConnectionManager::new(
                url.clone(),
                connection::connect_timeout_for(options.acquire_timeout),
                commits,
            );
            // Checking out runs the manager's `is_valid`, which costs a round trip only for
            // a PostgreSQL connection that has been idle (connection.rs).
            let builder = Pool::builder()
                .connection_timeout(options.acquire_timeout)
                .test_on_check_out(true);
            let builder = match url {
                // One private database per connection: the pool must keep exactly one,
                // forever.
                DatabaseUrl::SqliteMemory => builder
                    .max_size(1)
                    .min_idle(Some(1))
                    .idle_timeout(None)
                    .max_lifetime(None),
                _ => builder.max_size(max_size.max(1)).min_idle(Some(0)),
            };
            builder.build_unchecked(manager)
        };
        let durable = pool(Durability::Durable, options.max_connections);
        // SQLite commits the same either way, and an in-memory database is one connection.
        let transient = match url {
            DatabaseUrl::Postgres(_) => {
                pool(Durability::Transient, options.max_connections.div_ceil(2))
            }
            DatabaseUrl::SqliteFile(_) | DatabaseUrl::SqliteMemory => durable.clone(),
        };
        Self {
            pool: durable,
            transient,
            url: Arc::new(url.clone()),
            sign_in_in_one_statement: true,
        }
    }

    /// Whether this database runs a sign-in step in one statement where it can: on
    /// PostgreSQL (see `sign_in/one_statement.rs`).
    pub(crate) fn signs_in_with_one_statement(&self) -> bool {
        self.sign_in_in_one_statement && self.backend() == Backend::Postgres
    }

    /// This database, running every sign-in step as the statements SQLite runs: for the
    /// test that compares what the two paths write.
    #[cfg(any(test, feature = "testing"))]
    pub fn with_sign_in_step_by_step(&self) -> Self {
        Self {
            sign_in_in_one_statement: false,
            ..self.clone()
        }
    }

    /// The most connections this process opens to the database, over all its pools.
    pub fn max_connections(&self) -> u32 {
        match self.url.backend() {
            Backend::Postgres => self.pool.max_size() + self.transient.max_size(),
            Backend::Sqlite => self.pool.max_size(),
        }
    }

    /// How long a caller waits for a connection before [`Error::Unavailable`].
    pub fn acquire_timeout(&self) -> Duration {
        self.pool.connection_timeout()
    }

    /// Which backend this database runs on.
    pub fn backend(&self) -> Backend {
        self.url.backend()
    }

    /// The URL this pool connects to (its password redacted when printed).
    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// Applies the pending migrations of this backend; returns the versions applied.
    /// Safe to run from several processes at once.
    pub fn migrate(&self) -> Result<Vec<String>> {
        connection::without_statement_timeout(&mut *self.conn()?, migrations::run_pending)
    }

    /// The migrations this build has that the database has not applied yet.
    pub fn pending_migrations(&self) -> Result<Vec<String>> {
        migrations::pending(&mut *self.conn()?)
    }

    /// Makes the schema current where that is this process's job, else checks it is:
    /// SQLite (embedded, one deployment) migrates itself; PostgreSQL is migrated by an
    /// explicit `migrate` step (a deploy job), and a service refuses to run on a schema
    /// older than its build, with a message that says so.
    pub fn prepare(&self) -> Result<()> {
        match self.backend() {
            Backend::Sqlite => self.migrate().map(|_| ()),
            Backend::Postgres => match self.pending_migrations()?.as_slice() {
                [] => Ok(()),
                pending => Err(Error::SchemaOutdated(format!(
                    "the database schema is behind this build ({} migration(s) pending, \
                     first {}); run the `migrate` command first",
                    pending.len(),
                    pending.first().map(String::as_str).unwrap_or_default()
                ))),
            },
        }
    }

    /// Succeeds when a connection can be had and answers (the readiness check).
    pub fn ping(&self) -> Result<()> {
        use diesel::r2d2::R2D2Connection;
        self.conn()?.ping()?;
        Ok(())
    }

    /// The tenants repository.
    pub fn tenants(&self) -> Tenants<'_> {
        Tenants { db: self }
    }

    /// The per-tenant Okta integration state.
    pub fn okta_integrations(&self) -> OktaIntegrations<'_> {
        OktaIntegrations { db: self }
    }

    /// The employees repository (the HR master records).
    pub fn employees(&self) -> Employees<'_> {
        Employees { db: self }
    }

    /// The SCIM token store, acting for `actor` (who is audited for each change). Wrap
    /// it in `token_store::scim::ScimTokens` for the lifecycle rules.
    pub fn scim_tokens(&self, actor: &Actor) -> ScimTokenStore<'_> {
        ScimTokenStore {
            db: self,
            actor: actor.clone(),
        }
    }

    /// The per-tenant Okta SSO configurations (org URL, client id, sealed secret).
    pub fn okta_sso_configs(&self) -> OktaSsoConfigs<'_> {
        OktaSsoConfigs { db: self }
    }

    /// Login transactions: the server side of each authorization request.
    pub fn login_transactions(&self) -> LoginTransactions<'_> {
        LoginTransactions { db: self }
    }

    /// Sessions on workspace hosts.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions { db: self }
    }

    /// One-time codes: session hand-offs and sign-in links.
    pub fn one_time_codes(&self) -> OneTimeCodes<'_> {
        OneTimeCodes { db: self }
    }

    /// Okta identities (issuer, subject) linked to employees.
    pub fn employee_identities(&self) -> EmployeeIdentities<'_> {
        EmployeeIdentities { db: self }
    }

    /// Okta Universal Logout: signing an employee out at the request of their Okta org.
    pub fn universal_logouts(&self) -> UniversalLogouts<'_> {
        UniversalLogouts { db: self }
    }

    /// The workspaces' Okta API service apps (real-time sign-out).
    pub fn okta_service_apps(&self) -> OktaServiceApps<'_> {
        OktaServiceApps { db: self }
    }

    /// The queue of Okta revocations that deactivations leave (real-time sign-out).
    pub fn okta_revocations(&self) -> OktaRevocations<'_> {
        OktaRevocations { db: self }
    }

    /// The audit log.
    pub fn audit(&self) -> AuditLog<'_> {
        AuditLog { db: self }
    }

    pub(crate) fn conn(&self) -> Result<PooledConnection<ConnectionManager>> {
        Ok(self.pool.get()?)
    }

    /// Runs `work` in a write transaction on a pooled connection.
    pub(crate) fn write<T>(&self, work: impl FnOnce(&mut DbConnection) -> Result<T>) -> Result<T> {
        connection::write_transaction(&mut *self.conn()?, work)
    }

    /// [`write`](Self::write) for short-lived sign-in records whose loss in a database
    /// crash costs someone one more sign-in and nothing else: login transactions, session
    /// hand-off codes, sessions, the sign-in time of an identity link. On PostgreSQL they
    /// go through a pool of their own whose sessions run with `synchronous_commit = off`:
    /// a commit does not wait for the WAL flush (the write is durable a fraction of a
    /// second later, and a crash in between loses it but never corrupts anything); a
    /// flush costs a millisecond or more, several per sign-in. No other write can reach
    /// those connections. Never for employees, tokens, settings, sign-in links, deletions
    /// or audit.
    pub(crate) fn write_transient<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T>,
    ) -> Result<T> {
        connection::write_transaction(&mut *self.transient.get()?, work)
    }

    /// Statements of the kind [`write_transient`](Self::write_transient) takes, each
    /// committing by itself, for work whose every statement leaves a consistent state (a
    /// statement is atomic on its own): a statement costs one round trip on PostgreSQL,
    /// and a transaction two more.
    pub(crate) fn transient_autocommit<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T>,
    ) -> Result<T> {
        work(&mut *self.transient.get()?)
    }
}
