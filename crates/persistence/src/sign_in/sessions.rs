//! Sessions on a workspace host: stored by the hash of the cookie's token, with an idle
//! and an absolute timeout, alive only while their employee is active. Deactivating an
//! employee deletes their sessions (employees.rs, in the same transaction).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use token_store::TokenHash;

use super::codes::CodeRow;
use super::codes::{CodePurpose, OneTimeCode};
use super::one_statement::RedeemCode;
use super::records::{Consumed, hash_from_column};
use crate::Database;
use crate::clock;
use crate::clock::stored;
use crate::connection::DbConnection;
use crate::employees::{Employee, EmployeeId, EmployeeRow};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::{employees, sessions};

/// How an employee signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthMethod {
    /// Okta OIDC, SP- or IdP-initiated.
    Okta,
    /// A one-time sign-in link from `sparkctl login-link`.
    LoginLink,
}

impl AuthMethod {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Okta => "okta",
            AuthMethod::LoginLink => "login_link",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "okta" => Ok(AuthMethod::Okta),
            "login_link" => Ok(AuthMethod::LoginLink),
            other => Err(Error::Database(format!(
                "a session has an unknown auth method `{other}`"
            ))),
        }
    }
}

/// How long sessions live, and how often their `last_seen_at` is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused this long ends.
    pub idle_timeout: TimeDelta,
    /// A session ends this long after sign-in, however busy.
    pub absolute_timeout: TimeDelta,
    /// `last_seen_at` is rewritten at most this often (one write per minute, not per
    /// request).
    pub touch_interval: TimeDelta,
}

impl SessionPolicy {
    /// Idle timeout by default: 8 hours.
    pub const DEFAULT_IDLE_TIMEOUT: TimeDelta = TimeDelta::hours(8);
    /// Absolute timeout by default: 24 hours.
    pub const DEFAULT_ABSOLUTE_TIMEOUT: TimeDelta = TimeDelta::hours(24);
    /// Touch interval by default: 1 minute.
    pub const DEFAULT_TOUCH_INTERVAL: TimeDelta = TimeDelta::minutes(1);
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Self::DEFAULT_IDLE_TIMEOUT,
            absolute_timeout: Self::DEFAULT_ABSOLUTE_TIMEOUT,
            touch_interval: Self::DEFAULT_TOUCH_INTERVAL,
        }
    }
}

/// A session to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Hash of the session token (a `token-store` session token).
    pub token_hash: TokenHash,
    /// Who signed in.
    pub employee_id: EmployeeId,
    /// How.
    pub auth_method: AuthMethod,
    /// The CSRF token the pages echo back on state-changing requests.
    pub csrf_token: String,
}

impl std::fmt::Debug for NewSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewSession")
            .field("token_hash", &self.token_hash)
            .field("employee_id", &self.employee_id)
            .field("auth_method", &self.auth_method)
            .finish_non_exhaustive()
    }
}

/// A stored session.
#[derive(Clone, PartialEq, Eq)]
pub struct Session {
    /// Hash of the session token.
    pub token_hash: TokenHash,
    /// The tenant (workspace) it is valid on.
    pub tenant_id: TenantId,
    /// Who is signed in.
    pub employee_id: EmployeeId,
    /// How they signed in.
    pub auth_method: AuthMethod,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Sign-in time.
    pub created_at: DateTime<Utc>,
    /// Last use, to within the policy's touch interval.
    pub last_seen_at: DateTime<Utc>,
    /// The absolute end.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("token_hash", &self.token_hash)
            .field("tenant_id", &self.tenant_id)
            .field("employee_id", &self.employee_id)
            .field("auth_method", &self.auth_method)
            .field("last_seen_at", &self.last_seen_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A live session and the active employee it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInSession {
    /// The session (with `last_seen_at` as now stored).
    pub session: Session,
    /// The employee, active.
    pub employee: Employee,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = sessions)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SessionRow {
    token_hash: String,
    tenant_id: String,
    employee_id: String,
    auth_method: String,
    csrf_token: String,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    expires_at: NaiveDateTime,
}

impl SessionRow {
    fn into_domain(self) -> Result<Session> {
        Ok(Session {
            token_hash: hash_from_column(&self.token_hash)?,
            tenant_id: TenantId(self.tenant_id),
            employee_id: EmployeeId(self.employee_id),
            auth_method: AuthMethod::parse(&self.auth_method)?,
            csrf_token: self.csrf_token,
            created_at: clock::utc(self.created_at),
            last_seen_at: clock::utc(self.last_seen_at),
            expires_at: clock::utc(self.expires_at),
        })
    }
}

/// The session repository; see [`Database::sessions`].
pub struct Sessions<'db> {
    pub(crate) db: &'db Database,
}

/// What redeeming a one-time code for a session came to.
// Returned once per sign-in and matched at once: boxing the large variant would only add
// an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    /// What became of the code: a fresh one is now used and its session started
    /// ([`Consumed::Fresh`]); any other outcome changed nothing but what the code's own
    /// rules say (a code presented by the wrong browser is used up).
    Code(Consumed<(OneTimeCode, Session)>),
    /// The code is fresh, but its employee is no longer active in this workspace: the
    /// code stays unused and no session starts.
    EmployeeInactive,
}

impl Redeemed {
    /// The used code and the started session, when the code was fresh.
    pub fn started(self) -> Option<(OneTimeCode, Session)> {
        match self {
            Redeemed::Code(consumed) => consumed.fresh(),
            Redeemed::EmployeeInactive => None,
        }
    }
}

impl Sessions<'_> {
    /// Starts a session for an active employee of `tenant`, ending
    /// `policy.absolute_timeout` after `now`. Refused ([`Error::NotFound`]) for an
    /// employee who is not in the tenant or not active.
    pub fn create(
        &self,
        tenant: &TenantId,
        new: NewSession,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
    ) -> Result<Session> {
        let row = SessionRow::new(tenant, new, now, policy)?;
        self.db.transient_autocommit(|conn| {
            if insert_in(conn, tenant, &row)? {
                return Ok(());
            }
            crate::employees::require_active(conn, tenant, &EmployeeId(row.employee_id.clone()))?;
            Err(Error::NotFound(format!(
                "no active employee `{}` in this workspace",
                row.employee_id
            )))
        })?;
        row.into_domain()
    }

    /// Uses a one-time code of `purpose` (a sign-in link, a hand-off) and starts a session
    /// for its employee, in one transaction: a fresh code becomes a session, or nothing
    /// changes. A fresh code of an employee who is no longer active stays unused
    /// ([`Redeemed::EmployeeInactive`]).
    pub fn start_with_code(
        &self,
        tenant: &TenantId,
        purpose: CodePurpose,
        code_hash: &TokenHash,
        start: SessionStart,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
    ) -> Result<Redeemed> {
        if purpose == CodePurpose::SessionHandoff && self.db.signs_in_with_one_statement() {
            return self.hand_off_in_one_statement(tenant, code_hash, start, now, policy);
        }
        let work = |conn: &mut DbConnection| {
            let binding = start.browser_binding.as_ref();
            let code =
                match super::codes::consume_in(conn, tenant, purpose, code_hash, binding, now)? {
                    Consumed::Fresh(code) => code,
                    Consumed::Unknown => return Ok(Redeemed::Code(Consumed::Unknown)),
                    Consumed::AlreadyUsed => return Ok(Redeemed::Code(Consumed::AlreadyUsed)),
                    Consumed::Expired => return Ok(Redeemed::Code(Consumed::Expired)),
                    Consumed::WrongBrowser => return Ok(Redeemed::Code(Consumed::WrongBrowser)),
                };
            let new = NewSession {
                token_hash: start.token_hash,
                employee_id: code.employee_id.clone(),
                auth_method: start.auth_method,
                csrf_token: start.csrf_token,
            };
            let row = SessionRow::new(tenant, new, now, policy)?;
            if !insert_in(conn, tenant, &row)? {
                // In the same transaction: the code is unused again, as if never presented.
                super::codes::release_in(conn, tenant, code_hash)?;
                return Ok(Redeemed::EmployeeInactive);
            }
            Ok(Redeemed::Code(Consumed::Fresh((code, row.into_domain()?))))
        };
        purpose.write(self.db, work)
    }

    /// [`start_with_code`](Self::start_with_code) for a hand-off on PostgreSQL: one
    /// statement ([`RedeemCode`]) on a sign-in records' connection, with the same outcomes.
    fn hand_off_in_one_statement(
        &self,
        tenant: &TenantId,
        code_hash: &TokenHash,
        start: SessionStart,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
    ) -> Result<Redeemed> {
        let purpose = CodePurpose::SessionHandoff;
        let binding = start.browser_binding;
        let new = NewSession {
            token_hash: start.token_hash,
            // The code's employee, once the statement has found it.
            employee_id: EmployeeId(String::new()),
            auth_method: start.auth_method,
            csrf_token: start.csrf_token,
        };
        let mut row = SessionRow::new(tenant, new, now, policy)?;
        let now = stored(now);
        self.db.transient_autocommit(|conn| {
            let DbConnection::Postgresql(pg) = &mut *conn else {
                return Err(Error::Database(
                    "a PostgreSQL statement was sent to SQLite".into(),
                ));
            };
            let redeem = RedeemCode {
                now,
                code_hash: code_hash.to_hex(),
                tenant_id: tenant.as_str().to_owned(),
                purpose: purpose.as_str().to_owned(),
                browser_binding: binding.as_ref().map(TokenHash::to_hex),
                token_hash: row.token_hash.clone(),
                auth_method: row.auth_method.clone(),
                csrf_token: row.csrf_token.clone(),
                created_at: row.created_at,
                last_seen_at: row.last_seen_at,
                expires_at: row.expires_at,
            };
            let used: Option<CodeRow> = redeem.get_result(pg).optional()?;
            if let Some(code) = used {
                row.employee_id = code.employee_id.clone();
                let started = (code.into_domain()?, row.into_domain()?);
                return Ok(Redeemed::Code(Consumed::Fresh(started)));
            }
            match super::codes::why_unused(conn, tenant, purpose, code_hash, binding.as_ref(), now)?
            {
                Some(outcome) => Ok(Redeemed::Code(outcome)),
                // Fresh, yet not used: its employee is not active.
                None => Ok(Redeemed::EmployeeInactive),
            }
        })
    }

    /// The live session with this token hash on `tenant`, with its employee: `None`
    /// when there is none, it is another tenant's, it is past its idle or absolute
    /// timeout (then it is deleted), or its employee is no longer active (then it is
    /// deleted too). Writes `last_seen_at` when it is older than `policy.touch_interval`.
    ///
    /// One round trip for a live session: the session and its employee in one join, with
    /// the timeouts and the employee's `active` flag checked in SQL. A second statement
    /// runs only to delete a session that did not qualify, or to touch `last_seen_at`
    /// (at most once per touch interval).
    pub fn find(
        &self,
        tenant: &TenantId,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
    ) -> Result<Option<SignedInSession>> {
        let now = stored(now);
        let hash = token_hash.to_hex();
        let mut conn = self.db.conn()?;
        // Alive while now < last_seen_at + idle and now < min(expires_at, created_at +
        // absolute): compared with the bounds moved to `now`'s side, so the SQL needs no
        // interval arithmetic on either backend.
        let found = sessions::table
            .inner_join(employees::table)
            .filter(sessions::token_hash.eq(&hash))
            .filter(sessions::tenant_id.eq(tenant.as_str()))
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .filter(employees::active.eq(true))
            .filter(sessions::last_seen_at.gt(now - policy.idle_timeout))
            .filter(sessions::expires_at.gt(now))
            .filter(sessions::created_at.gt(now - policy.absolute_timeout))
            .select((SessionRow::as_select(), EmployeeRow::as_select()))
            .first::<(SessionRow, EmployeeRow)>(&mut *conn)
            .optional()?;
        let Some((row, employee)) = found else {
            // Unknown, another tenant's (kept: the tenant filter), ended, or its employee
            // is gone or inactive — deactivation deletes sessions; this is the belt to its
            // braces.
            diesel::delete(
                sessions::table
                    .filter(sessions::token_hash.eq(&hash))
                    .filter(sessions::tenant_id.eq(tenant.as_str())),
            )
            .execute(&mut *conn)?;
            return Ok(None);
        };
        let mut session = row.into_domain()?;
        if now - stored(session.last_seen_at) >= policy.touch_interval {
            diesel::update(sessions::table.find(&hash))
                .set(sessions::last_seen_at.eq(now))
                .execute(&mut *conn)?;
            session.last_seen_at = clock::utc(now);
        }
        Ok(Some(SignedInSession {
            session,
            employee: EmployeeRow::into_domain(employee),
        }))
    }

    /// Ends a session (logout). Returns whether it existed on `tenant`.
    pub fn delete(&self, tenant: &TenantId, token_hash: &TokenHash) -> Result<bool> {
        let deleted = diesel::delete(
            sessions::table
                .filter(sessions::token_hash.eq(token_hash.to_hex()))
                .filter(sessions::tenant_id.eq(tenant.as_str())),
        )
        .execute(&mut *self.db.conn()?)?;
        Ok(deleted > 0)
    }

    /// How many sessions an employee of `tenant` has (live or not yet purged).
    pub fn count_for_employee(&self, tenant: &TenantId, employee: &EmployeeId) -> Result<u64> {
        let n: i64 = sessions::table
            .filter(sessions::tenant_id.eq(tenant.as_str()))
            .filter(sessions::employee_id.eq(employee.as_str()))
            .count()
            .get_result(&mut *self.db.conn()?)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }

    /// Deletes sessions past their absolute end or idle for longer than
    /// `policy.idle_timeout`; returns how many.
    pub fn purge_expired(&self, now: DateTime<Utc>, policy: &SessionPolicy) -> Result<usize> {
        let now = stored(now);
        Ok(diesel::delete(
            sessions::table.filter(
                sessions::expires_at
                    .le(now)
                    .or(sessions::last_seen_at.le(now - policy.idle_timeout)),
            ),
        )
        .execute(&mut *self.db.conn()?)?)
    }
}

/// The secrets of a session started from a one-time code
/// ([`Sessions::start_with_code`]): whose it is comes from the code.
pub struct SessionStart {
    /// Hash of the session token.
    pub token_hash: TokenHash,
    /// How the employee signed in.
    pub auth_method: AuthMethod,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// Hash of the binding cookie the browser presents, if it has one: a code bound to a
    /// browser starts a session only for that browser.
    pub browser_binding: Option<TokenHash>,
}

impl std::fmt::Debug for SessionStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionStart")
            .field("token_hash", &self.token_hash)
            .field("auth_method", &self.auth_method)
            .finish_non_exhaustive()
    }
}

impl SessionRow {
    fn new(
        tenant: &TenantId,
        new: NewSession,
        now: DateTime<Utc>,
        policy: &SessionPolicy,
    ) -> Result<Self> {
        if new.csrf_token.is_empty() || new.csrf_token.len() > 256 {
            return Err(Error::Invalid(
                "the CSRF token must be 1 to 256 characters".into(),
            ));
        }
        let created_at = stored(now);
        Ok(SessionRow {
            token_hash: new.token_hash.to_hex(),
            tenant_id: tenant.0.clone(),
            employee_id: new.employee_id.0.clone(),
            auth_method: new.auth_method.as_str().to_owned(),
            csrf_token: new.csrf_token,
            created_at,
            last_seen_at: created_at,
            expires_at: created_at + policy.absolute_timeout,
        })
    }
}

/// Inserts a session inside a write transaction, checking there that its employee is
/// active — so a concurrent deactivation either sees this session (and deletes it) or is
/// seen here. False when nothing was inserted: the employee is not an active employee of
/// `tenant`.
fn insert_in(conn: &mut DbConnection, tenant: &TenantId, row: &SessionRow) -> Result<bool> {
    use diesel::IntoSql;
    use diesel::sql_types::{Text, Timestamp};
    // One statement: the session is inserted only from the employee's row, and only
    // while they are active.
    let from_active_employee = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::id.eq(&row.employee_id))
        .filter(employees::active.eq(true))
        .select((
            row.token_hash.clone().into_sql::<Text>(),
            employees::tenant_id,
            employees::id,
            row.auth_method.clone().into_sql::<Text>(),
            row.csrf_token.clone().into_sql::<Text>(),
            row.created_at.into_sql::<Timestamp>(),
            row.last_seen_at.into_sql::<Timestamp>(),
            row.expires_at.into_sql::<Timestamp>(),
        ));
    let inserted = diesel::insert_into(sessions::table)
        .values(from_active_employee)
        .into_columns((
            sessions::token_hash,
            sessions::tenant_id,
            sessions::employee_id,
            sessions::auth_method,
            sessions::csrf_token,
            sessions::created_at,
            sessions::last_seen_at,
            sessions::expires_at,
        ))
        .execute(conn)?;
    Ok(inserted > 0)
}
