//! Okta identities linked to employees: after the first sign-in matched by email, the
//! (issuer, subject) pair names the employee, so a later change of the Okta user's email
//! does not move the sign-in to someone else — and an employee is linked to at most one
//! Okta user per issuer (a unique index holds it), so another Okta user who carries the
//! same email (Okta emails are not unique, and help-desk admins can change them) is
//! refused rather than let in as that employee. An admin sees the links and removes one
//! ([`EmployeeIdentities::unlink`], audited, ending the employee's sessions) when an
//! Okta user was really replaced.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use token_store::TokenHash;

use super::codes::NewOneTimeCode;
use super::one_statement::SignInLinked;
use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::clock::stored;
use crate::connection::{DbConnection, on_own_connection};
use crate::employees::{Employee, EmployeeId, EmployeeRow, email_key, end_access};
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::prepared::Prepared;
use crate::schema::{employee_identities, employees};

/// Who a verified Okta sign-in is, in this tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInMatch {
    /// An active employee: sign them in. `newly_linked` is true on the first sign-in,
    /// when the match was by email and the identity has just been remembered.
    Employee {
        /// The employee.
        employee: Employee,
        /// The identity was linked by this sign-in.
        newly_linked: bool,
    },
    /// The identity or email belongs to an employee who is deactivated.
    Deactivated(Employee),
    /// The email belongs to an employee already linked to another Okta user of this
    /// issuer: this Okta user is not let in as them (an admin unlinks the old identity
    /// when the Okta user was really replaced).
    IdentityConflict(Employee),
    /// No employee of this tenant has the identity or the email.
    NoSuchEmployee,
}

/// The session hand-off a sign-in ends in: its code, the browser it is bound to, and
/// where it lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandOff {
    /// Hash of the hand-off code.
    pub code_hash: TokenHash,
    /// Hash of the binding cookie, on the workspace host, of the browser that signed in.
    pub browser_binding: TokenHash,
    /// The path on the workspace to land on, if any (already validated).
    pub return_to: Option<String>,
}

/// An Okta identity linked to an employee, as an admin sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkedIdentity {
    /// The employee.
    pub employee_id: EmployeeId,
    /// The employee's email.
    pub email: String,
    /// Whether the employee is active.
    pub active: bool,
    /// The Okta org (issuer).
    pub issuer: String,
    /// The Okta user's id (`sub`).
    pub subject: String,
    /// When the first sign-in linked it.
    pub linked_at: DateTime<Utc>,
    /// The latest sign-in through it.
    pub last_sign_in_at: DateTime<Utc>,
}

/// What [`EmployeeIdentities::unlink`] removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unlinked {
    /// The employee's email.
    pub email: String,
    /// The (issuer, subject) pairs that were linked.
    pub identities: Vec<(String, String)>,
    /// How many of the employee's sessions ended.
    pub sessions_ended: usize,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = employee_identities)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct IdentityRow {
    issuer: String,
    subject: String,
    employee_id: String,
    created_at: NaiveDateTime,
    last_sign_in_at: NaiveDateTime,
}

/// The most links one listing returns.
pub const MAX_LISTED: i64 = 500;

/// The employee-identity repository; see [`Database::employee_identities`].
pub struct EmployeeIdentities<'db> {
    pub(crate) db: &'db Database,
}

impl EmployeeIdentities<'_> {
    /// The employee an (issuer, subject) pair is linked to in `tenant`, active or not.
    pub fn find_employee(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<Employee>> {
        linked_employee(&mut *self.db.conn()?, tenant, issuer, subject)
    }

    /// Whether anyone of `tenant` has signed in through `issuer` (an identity of that
    /// issuer is linked): proof that the workspace's sign-in with that org works — its
    /// client secret is right — which a saved configuration alone is not.
    pub fn any_with_issuer(&self, tenant: &TenantId, issuer: &str) -> Result<bool> {
        let found = employee_identities::table
            .filter(employee_identities::tenant_id.eq(tenant.as_str()))
            .filter(employee_identities::issuer.eq(issuer))
            .select(employee_identities::subject)
            .first::<String>(&mut *self.db.conn()?)
            .optional()?;
        Ok(found.is_some())
    }

    /// Links (issuer, subject) to an employee of `tenant`. Linking the same pair to the
    /// same employee again only records the sign-in time; to another employee, or to an
    /// employee linked to another subject of this issuer, it is a [`Error::Conflict`]; an
    /// employee outside the tenant is [`Error::NotFound`].
    pub fn link(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
        employee: &EmployeeId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.db
            .write_transient(|conn| link_in(conn, tenant, issuer, subject, employee, now))
    }

    /// Resolves a verified sign-in: the employee linked to (issuer, subject) if there is
    /// one — that link is relied on, whatever the email says now; otherwise the employee
    /// with this email (case-insensitively), who is then linked if active. Records the
    /// sign-in time on the link.
    pub fn resolve_sign_in(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<SignInMatch> {
        check_identity(issuer, subject)?;
        self.db
            .write_transient(|conn| resolve_in(conn, tenant, issuer, subject, email, now))
    }

    /// [`resolve_sign_in`](Self::resolve_sign_in) and, for an active employee, the
    /// session hand-off `handoff`, bound to the browser that signed in. A bad `return_to`
    /// refuses the step before anything is written. On PostgreSQL a linked identity's
    /// sign-in is one statement ([`SignInLinked`]). Otherwise the statements commit one
    /// by one, without a transaction's two extra round trips: each leaves a consistent
    /// state — a sign-in time without a code, or a link without one, is just a sign-in
    /// that did not finish — and a code is only ever good for an employee who is active
    /// when it is redeemed.
    pub fn resolve_and_hand_off(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
        email: &str,
        handoff: HandOff,
        now: DateTime<Utc>,
    ) -> Result<SignInMatch> {
        check_identity(issuer, subject)?;
        super::codes::check_return_to(handoff.return_to.as_deref())?;
        let purpose = super::codes::CodePurpose::SessionHandoff;
        let one_statement = self.db.signs_in_with_one_statement();
        self.db.transient_autocommit(|conn| {
            // A returning employee on PostgreSQL: one statement does it all.
            if let (true, DbConnection::Postgresql(pg)) = (one_statement, &mut *conn) {
                let at = stored(now);
                let linked: Option<EmployeeRow> = SignInLinked {
                    tenant_id: tenant.as_str().to_owned(),
                    issuer: issuer.to_owned(),
                    subject: subject.to_owned(),
                    now: at,
                    code_hash: handoff.code_hash.to_hex(),
                    purpose: purpose.as_str().to_owned(),
                    return_to: handoff.return_to.clone(),
                    browser_binding: handoff.browser_binding.to_hex(),
                    created_by_prefix: Actor::employee("").as_str().to_owned(),
                    expires_at: at + purpose.ttl(),
                }
                .get_result(pg)
                .optional()?;
                if let Some(employee) = linked.map(EmployeeRow::into_domain) {
                    return Ok(if employee.active {
                        SignInMatch::Employee {
                            employee,
                            newly_linked: false,
                        }
                    } else {
                        SignInMatch::Deactivated(employee)
                    });
                }
            }
            let matched = resolve_in(conn, tenant, issuer, subject, email, now)?;
            if let SignInMatch::Employee { employee, .. } = &matched {
                let code = NewOneTimeCode {
                    code_hash: handoff.code_hash,
                    purpose,
                    employee_id: employee.id.clone(),
                    return_to: handoff.return_to,
                    browser_binding: Some(handoff.browser_binding),
                };
                super::codes::insert_handoff_in(conn, tenant, &code, now)?;
            }
            Ok(matched)
        })
    }

    /// The Okta identities linked to employees of `tenant`, the latest sign-in first, at
    /// most [`MAX_LISTED`]; only the employee with `email` (case-insensitively) when one
    /// is given.
    pub fn list(&self, tenant: &TenantId, email: Option<&str>) -> Result<Vec<LinkedIdentity>> {
        let mut query = employee_identities::table
            .inner_join(
                employees::table.on(employees::tenant_id
                    .eq(employee_identities::tenant_id)
                    .and(employees::id.eq(employee_identities::employee_id))),
            )
            .filter(employee_identities::tenant_id.eq(tenant.as_str()))
            .select((
                IdentityRow::as_select(),
                employees::email,
                employees::active,
            ))
            .order((
                employee_identities::last_sign_in_at.desc(),
                employee_identities::subject.asc(),
            ))
            .limit(MAX_LISTED)
            .into_boxed();
        if let Some(email) = email {
            query = query.filter(employees::email_key.eq(email_key(email)));
        }
        let rows: Vec<(IdentityRow, String, bool)> = query.load(&mut *self.db.conn()?)?;
        Ok(rows
            .into_iter()
            .map(|(row, email, active)| LinkedIdentity {
                employee_id: EmployeeId(row.employee_id),
                email,
                active,
                issuer: row.issuer,
                subject: row.subject,
                linked_at: clock::utc(row.created_at),
                last_sign_in_at: clock::utc(row.last_sign_in_at),
            })
            .collect())
    }

    /// Removes every Okta identity linked to the employee with `email` in `tenant`, so
    /// that the next Okta sign-in with that email links afresh; ends the employee's
    /// sessions and unused one-time codes (whoever was signed in through the removed link
    /// is out). Audited as `okta_identity.unlinked`, in the same transaction.
    /// [`Error::NotFound`] when no employee has the email, or nothing is linked to them.
    pub fn unlink(&self, tenant: &TenantId, email: &str, actor: &Actor) -> Result<Unlinked> {
        self.db.write(|conn| {
            let employee: Option<(String, String)> = employees::table
                .filter(employees::tenant_id.eq(tenant.as_str()))
                .filter(employees::email_key.eq(email_key(email)))
                .select((employees::id, employees::email))
                .first(conn)
                .optional()?;
            let Some((employee_id, email)) = employee else {
                return Err(Error::NotFound(format!(
                    "no employee with the email `{}` in this workspace",
                    email.trim()
                )));
            };
            let mine = employee_identities::table
                .filter(employee_identities::tenant_id.eq(tenant.as_str()))
                .filter(employee_identities::employee_id.eq(&employee_id));
            let identities: Vec<(String, String)> = mine
                .select((employee_identities::issuer, employee_identities::subject))
                .order(employee_identities::issuer.asc())
                .load(conn)?;
            if identities.is_empty() {
                return Err(Error::NotFound(format!(
                    "`{email}` has no linked Okta identity in this workspace"
                )));
            }
            diesel::delete(mine).execute(conn)?;
            let sessions_ended = end_access(conn, std::slice::from_ref(&employee_id))?;
            audit::record(
                conn,
                Some(tenant),
                actor,
                "okta_identity.unlinked",
                Some(&email),
                serde_json::json!({
                    "employee_id": employee_id,
                    "identities": identities
                        .iter()
                        .map(|(issuer, subject)| serde_json::json!({
                            "issuer": issuer,
                            "subject": subject,
                        }))
                        .collect::<Vec<_>>(),
                    "sessions_ended": sessions_ended,
                }),
            )?;
            Ok(Unlinked {
                email,
                identities,
                sessions_ended,
            })
        })
    }
}

fn check_identity(issuer: &str, subject: &str) -> Result<()> {
    if issuer.is_empty() || subject.is_empty() {
        return Err(Error::Invalid(
            "a sign-in needs both an issuer and a subject".into(),
        ));
    }
    Ok(())
}

/// [`EmployeeIdentities::resolve_sign_in`] on a connection (in a write transaction, or
/// not: see [`EmployeeIdentities::resolve_and_hand_off`]).
fn resolve_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    issuer: &str,
    subject: &str,
    email: &str,
    now: DateTime<Utc>,
) -> Result<SignInMatch> {
    if let Some(employee) = linked_employee(conn, tenant, issuer, subject)? {
        if !employee.active {
            return Ok(SignInMatch::Deactivated(employee));
        }
        touch(conn, tenant, issuer, subject, now)?;
        return Ok(SignInMatch::Employee {
            employee,
            newly_linked: false,
        });
    }
    let row = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::email_key.eq(crate::employees::email_key(email)))
        .select(EmployeeRow::as_select())
        .first(conn)
        .optional()?;
    let Some(employee) = row.map(EmployeeRow::into_domain) else {
        return Ok(SignInMatch::NoSuchEmployee);
    };
    if !employee.active {
        return Ok(SignInMatch::Deactivated(employee));
    }
    // Linked to another Okta user of this issuer already: that user is the employee.
    let other: Option<String> = employee_identities::table
        .filter(employee_identities::tenant_id.eq(tenant.as_str()))
        .filter(employee_identities::issuer.eq(issuer))
        .filter(employee_identities::employee_id.eq(employee.id.as_str()))
        .select(employee_identities::subject)
        .first(conn)
        .optional()?;
    if other.is_some() {
        return Ok(SignInMatch::IdentityConflict(employee));
    }
    match link_in(conn, tenant, issuer, subject, &employee.id, now) {
        // Another sign-in linked the employee (or this identity) a moment ago.
        Err(Error::Conflict(_)) => Ok(SignInMatch::IdentityConflict(employee)),
        Err(other) => Err(other),
        Ok(()) => Ok(SignInMatch::Employee {
            employee,
            newly_linked: true,
        }),
    }
}

/// The employee an (issuer, subject) pair names, in one round trip.
fn linked_employee(
    conn: &mut DbConnection,
    tenant: &TenantId,
    issuer: &str,
    subject: &str,
) -> Result<Option<Employee>> {
    let linked = employee_identities::table
        .filter(employee_identities::tenant_id.eq(tenant.as_str()))
        .filter(employee_identities::issuer.eq(issuer))
        .filter(employee_identities::subject.eq(subject))
        .select(employee_identities::employee_id);
    let row = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::id.eq_any(linked))
        .select(EmployeeRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(EmployeeRow::into_domain))
}

fn touch(
    conn: &mut DbConnection,
    tenant: &TenantId,
    issuer: &str,
    subject: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let update = Prepared(
        diesel::update(
            employee_identities::table
                .filter(employee_identities::tenant_id.eq(tenant.as_str()))
                .filter(employee_identities::issuer.eq(issuer))
                .filter(employee_identities::subject.eq(subject)),
        )
        .set(employee_identities::last_sign_in_at.eq(stored(now)))
        .returning(employee_identities::employee_id),
    );
    // On each backend's own connection, where the prepared statement is kept; loaded
    // rather than executed, which would not keep it (see `Prepared`).
    let touched: Vec<String> = on_own_connection!(conn, |c| update.load(c))?;
    Ok(touched.len())
}

fn link_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    issuer: &str,
    subject: &str,
    employee: &EmployeeId,
    now: DateTime<Utc>,
) -> Result<()> {
    let in_tenant: i64 = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::id.eq(employee.as_str()))
        .count()
        .get_result(conn)?;
    if in_tenant == 0 {
        return Err(Error::NotFound(format!(
            "no employee `{employee}` in this workspace"
        )));
    }
    let linked: Option<String> = employee_identities::table
        .filter(employee_identities::tenant_id.eq(tenant.as_str()))
        .filter(employee_identities::issuer.eq(issuer))
        .filter(employee_identities::subject.eq(subject))
        .select(employee_identities::employee_id)
        .first(conn)
        .optional()?;
    match linked {
        Some(other) if other != employee.as_str() => Err(Error::Conflict(format!(
            "the Okta user `{subject}` of {issuer} is already linked to another employee"
        ))),
        Some(_) => touch(conn, tenant, issuer, subject, now).map(|_| ()),
        None => {
            let at = stored(now);
            let insert = diesel::insert_into(employee_identities::table)
                .values((
                    employee_identities::tenant_id.eq(tenant.as_str()),
                    employee_identities::issuer.eq(issuer),
                    employee_identities::subject.eq(subject),
                    employee_identities::employee_id.eq(employee.as_str()),
                    employee_identities::created_at.eq(at),
                    employee_identities::last_sign_in_at.eq(at),
                ))
                .on_conflict_do_nothing();
            // A unique index (one subject per employee and issuer; one employee per
            // subject) turns a racing second link into no row, without failing the
            // statement — which would end a PostgreSQL transaction.
            let inserted = on_own_connection!(conn, |c| insert.execute(c))?;
            if inserted == 0 {
                return Err(Error::Conflict(format!(
                    "the employee is already linked to another Okta user of {issuer}"
                )));
            }
            Ok(())
        }
    }
}
