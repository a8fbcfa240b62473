//! One-time codes: the 30-second hand-off from the auth host to a workspace host after
//! a sign-in, and the 10-minute sign-in links `sparkctl login-link` mints. Stored as
//! hashes, single use, for an active employee of one tenant; deactivating the employee
//! deletes them (employees.rs).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use token_store::TokenHash;

use super::records::{Consumed, check_optional, hash_from_column};
use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::clock::stored;
use crate::connection::{DbConnection, on_own_connection};
use crate::employees::EmployeeId;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::prepared::Prepared;
use crate::schema::one_time_codes;

/// What a one-time code is for; a code of one purpose never works as the other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodePurpose {
    /// Hands a fresh sign-in from the auth host to the workspace host (30 seconds).
    SessionHandoff,
    /// A sign-in link minted by an operator (10 minutes).
    LoginLink,
}

impl CodePurpose {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            CodePurpose::SessionHandoff => "session_handoff",
            CodePurpose::LoginLink => "login_link",
        }
    }

    /// How long a code of this purpose is usable.
    pub fn ttl(self) -> TimeDelta {
        match self {
            CodePurpose::SessionHandoff => TimeDelta::seconds(30),
            CodePurpose::LoginLink => TimeDelta::minutes(10),
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "session_handoff" => Ok(CodePurpose::SessionHandoff),
            "login_link" => Ok(CodePurpose::LoginLink),
            other => Err(Error::Database(format!(
                "a one-time code has an unknown purpose `{other}`"
            ))),
        }
    }
}

/// A one-time code to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOneTimeCode {
    /// Hash of the code (a `token-store` hand-off code or sign-in link token).
    pub code_hash: TokenHash,
    /// What it is for.
    pub purpose: CodePurpose,
    /// Who it signs in.
    pub employee_id: EmployeeId,
    /// The path on the workspace to land on, if any (already validated).
    pub return_to: Option<String>,
    /// Hash of the binding cookie of the browser that may redeem it: required for a
    /// session hand-off (it works only in the browser that started the sign-in); none
    /// for a sign-in link, which is handed to a person.
    pub browser_binding: Option<TokenHash>,
}

/// A stored one-time code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeCode {
    /// Hash of the code.
    pub code_hash: TokenHash,
    /// What it is for.
    pub purpose: CodePurpose,
    /// The tenant it is valid on.
    pub tenant_id: TenantId,
    /// Who it signs in.
    pub employee_id: EmployeeId,
    /// Where to land.
    pub return_to: Option<String>,
    /// Who minted it (an [`Actor`]'s recorded form).
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// When it stops being usable.
    pub expires_at: DateTime<Utc>,
    /// Hash of the binding cookie of the browser that may redeem it, if it is bound.
    pub browser_binding: Option<TokenHash>,
}

// Absent values are inserted as NULL rather than DEFAULT, so the INSERT's text is always
// the same and diesel keeps it as a prepared statement.
#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = one_time_codes)]
#[diesel(treat_none_as_default_value = false)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(super) struct CodeRow {
    code_hash: String,
    purpose: String,
    tenant_id: String,
    pub(super) employee_id: String,
    return_to: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    consumed_at: Option<NaiveDateTime>,
    browser_binding_hash: Option<String>,
}

impl CodeRow {
    pub(super) fn into_domain(self) -> Result<OneTimeCode> {
        Ok(OneTimeCode {
            code_hash: hash_from_column(&self.code_hash)?,
            purpose: CodePurpose::parse(&self.purpose)?,
            tenant_id: TenantId(self.tenant_id),
            employee_id: EmployeeId(self.employee_id),
            return_to: self.return_to,
            created_by: self.created_by,
            created_at: clock::utc(self.created_at),
            expires_at: clock::utc(self.expires_at),
            browser_binding: self
                .browser_binding_hash
                .as_deref()
                .map(hash_from_column)
                .transpose()?,
        })
    }
}

/// The one-time code repository; see [`Database::one_time_codes`].
pub struct OneTimeCodes<'db> {
    pub(crate) db: &'db Database,
}

impl OneTimeCodes<'_> {
    /// Stores a code for an active employee of `tenant`, usable for its purpose's
    /// [`ttl`](CodePurpose::ttl) after `now`. A sign-in link is audited
    /// (`login_link.created`, the employee's email as target); hand-offs are not (one per
    /// sign-in). Refused ([`Error::NotFound`]) for an employee not in the tenant or not
    /// active.
    pub fn create(
        &self,
        tenant: &TenantId,
        new: NewOneTimeCode,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<OneTimeCode> {
        let row = CodeRow::new(tenant, &new, actor, now)?;
        let purpose = new.purpose;
        let work = |conn: &mut DbConnection| {
            let email = crate::employees::require_active(conn, tenant, &new.employee_id)?;
            diesel::insert_into(one_time_codes::table)
                .values(&row)
                .execute(conn)?;
            if new.purpose == CodePurpose::LoginLink {
                audit::record(
                    conn,
                    Some(tenant),
                    actor,
                    "login_link.created",
                    Some(&email),
                    serde_json::json!({
                        "employee_id": row.employee_id,
                        "expires_at": row.expires_at.and_utc().to_rfc3339(),
                    }),
                )?;
            }
            Ok(())
        };
        purpose.write(self.db, work)?;
        row.into_domain()
    }

    /// Uses a code of `purpose` on `tenant`, once (see
    /// [`LoginTransactions::consume`](super::LoginTransactions::consume) for the
    /// outcomes), presented by the browser whose binding cookie hashes to
    /// `browser_binding`. A code of another tenant or purpose is [`Consumed::Unknown`]; a
    /// bound code presented by another browser is [`Consumed::WrongBrowser`] and is used
    /// up (see [`why_unused`]).
    pub fn consume(
        &self,
        tenant: &TenantId,
        purpose: CodePurpose,
        code_hash: &TokenHash,
        browser_binding: Option<&TokenHash>,
        now: DateTime<Utc>,
    ) -> Result<Consumed<OneTimeCode>> {
        let work = |conn: &mut DbConnection| {
            consume_in(conn, tenant, purpose, code_hash, browser_binding, now)
        };
        purpose.write(self.db, work)
    }

    /// Deletes codes that expired before `now`; returns how many.
    pub fn purge_expired(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(
            diesel::delete(
                one_time_codes::table.filter(one_time_codes::expires_at.le(stored(now))),
            )
            .execute(&mut *self.db.conn()?)?,
        )
    }
}

impl CodePurpose {
    /// Runs a write about a code of this purpose. A hand-off lives 30 seconds and only
    /// moves a sign-in to the workspace host: its records are transient. A sign-in link
    /// is handed to a person: created and used durably, so a used link stays used
    /// through a database crash.
    pub(crate) fn write<T>(
        self,
        db: &Database,
        work: impl FnOnce(&mut DbConnection) -> Result<T>,
    ) -> Result<T> {
        match self {
            CodePurpose::SessionHandoff => db.write_transient(work),
            CodePurpose::LoginLink => db.write(work),
        }
    }
}

/// [`OneTimeCodes::consume`] on a connection inside a write transaction.
pub(crate) fn consume_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    purpose: CodePurpose,
    code_hash: &TokenHash,
    browser_binding: Option<&TokenHash>,
    now: DateTime<Utc>,
) -> Result<Consumed<OneTimeCode>> {
    let now = stored(now);
    let hash = code_hash.to_hex();
    let presented = browser_binding.map(TokenHash::to_hex);
    let mine = one_time_codes::table
        .filter(one_time_codes::code_hash.eq(&hash))
        .filter(one_time_codes::tenant_id.eq(tenant.as_str()))
        .filter(one_time_codes::purpose.eq(purpose.as_str()))
        // A bound code only for its browser (`= NULL` matches nothing: no cookie, no
        // redemption).
        .filter(
            one_time_codes::browser_binding_hash
                .is_null()
                .or(one_time_codes::browser_binding_hash.eq(presented.clone())),
        );
    // The winner gets the row back from the UPDATE itself; only a loser reads it again,
    // to say why it lost.
    let won: Option<CodeRow> = on_own_connection!(&mut *conn, |c| Prepared(
        diesel::update(
            mine.filter(one_time_codes::consumed_at.is_null())
                .filter(one_time_codes::expires_at.gt(now)),
        )
        .set(one_time_codes::consumed_at.eq(Some(now)))
        .returning(CodeRow::as_returning()),
    )
    .get_result(c)
    .optional())?;
    if let Some(row) = won {
        return Ok(Consumed::Fresh(row.into_domain()?));
    }
    Ok(
        why_unused(conn, tenant, purpose, code_hash, browser_binding, now)?
            .unwrap_or(Consumed::Expired),
    )
}

/// Why a code could not be used just now: unknown, used before, expired, or bound to
/// another browser — or `None` when it is still usable (then something else stopped it,
/// such as an inactive employee).
///
/// A bound code presented by another browser is used up there and then: its URL has
/// reached someone it was not made for. That is a login CSRF in progress — an attacker
/// who had a victim start a sign-in with the attacker's binding (a forged
/// `/api/OktaAuth/login?binding=…` link) gets a hand-off the victim's browser cannot use,
/// and must not be able to use it later if its URL leaks — or a leaked URL opened
/// elsewhere; the browser it was made for has already used it or never will.
pub(super) fn why_unused<T>(
    conn: &mut DbConnection,
    tenant: &TenantId,
    purpose: CodePurpose,
    code_hash: &TokenHash,
    browser_binding: Option<&TokenHash>,
    now: NaiveDateTime,
) -> Result<Option<Consumed<T>>> {
    let row = one_time_codes::table
        .filter(one_time_codes::code_hash.eq(code_hash.to_hex()))
        .filter(one_time_codes::tenant_id.eq(tenant.as_str()))
        .filter(one_time_codes::purpose.eq(purpose.as_str()))
        .select(CodeRow::as_select())
        .first(conn)
        .optional()?;
    Ok(match row {
        None => Some(Consumed::Unknown),
        Some(row) if row.consumed_at.is_some() => Some(Consumed::AlreadyUsed),
        Some(row) if row.expires_at <= now => Some(Consumed::Expired),
        Some(row)
            if row.browser_binding_hash.is_some()
                && row.browser_binding_hash != browser_binding.map(TokenHash::to_hex) =>
        {
            diesel::update(
                one_time_codes::table.filter(one_time_codes::code_hash.eq(&row.code_hash)),
            )
            .set(one_time_codes::consumed_at.eq(Some(now)))
            .execute(conn)?;
            Some(Consumed::WrongBrowser)
        }
        Some(_) => None,
    })
}

/// Undoes [`consume_in`] in the same write transaction, for a start that could not go
/// on (its employee is no longer active): the code is unused again.
pub(super) fn release_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    code_hash: &TokenHash,
) -> Result<()> {
    diesel::update(
        one_time_codes::table
            .filter(one_time_codes::code_hash.eq(code_hash.to_hex()))
            .filter(one_time_codes::tenant_id.eq(tenant.as_str())),
    )
    .set(one_time_codes::consumed_at.eq(None::<NaiveDateTime>))
    .execute(conn)?;
    Ok(())
}

impl CodeRow {
    fn new(
        tenant: &TenantId,
        new: &NewOneTimeCode,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Self> {
        check_return_to(new.return_to.as_deref())?;
        if new.purpose == CodePurpose::SessionHandoff && new.browser_binding.is_none() {
            return Err(Error::Invalid(
                "a session hand-off must be bound to the browser that signed in".into(),
            ));
        }
        let created_at = stored(now);
        Ok(CodeRow {
            code_hash: new.code_hash.to_hex(),
            purpose: new.purpose.as_str().to_owned(),
            tenant_id: tenant.0.clone(),
            employee_id: new.employee_id.0.clone(),
            return_to: new.return_to.clone(),
            created_by: actor.as_str().to_owned(),
            created_at,
            expires_at: created_at + new.purpose.ttl(),
            consumed_at: None,
            browser_binding_hash: new.browser_binding.as_ref().map(TokenHash::to_hex),
        })
    }
}

/// Checks where a code lands before anything is stored for it.
pub(crate) fn check_return_to(return_to: Option<&str>) -> Result<()> {
    check_optional("return_to", return_to, 2_000)
}

/// Stores a session hand-off code for an employee the caller has just found active
/// (hand-offs are not audited; redeeming one checks again that its employee is active).
pub(crate) fn insert_handoff_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    new: &NewOneTimeCode,
    now: DateTime<Utc>,
) -> Result<OneTimeCode> {
    if new.purpose != CodePurpose::SessionHandoff {
        return Err(Error::Invalid(
            "only hand-off codes are stored this way".into(),
        ));
    }

    let actor = Actor::employee(new.employee_id.as_str());
    let row = CodeRow::new(tenant, new, &actor, now)?;
    diesel::insert_into(one_time_codes::table)
        .values(&row)
        .execute(conn)?;
    row.into_domain()
}
