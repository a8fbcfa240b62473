//! Okta identities linked to employees: after the first sign-in matched by email, the
//! (issuer, subject) pair names the employee, so a later change of the Okta user's email
//! does not move the sign-in to someone else.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use token_store::TokenHash;

use super::one_statement::SignInLinked;
use super::{NewOneTimeCode, stored};
use crate::Database;
use crate::audit::Actor;
use crate::connection::{DbConnection, on_own_connection};
use crate::employees::{Employee, EmployeeId, EmployeeRow};
use crate::error::{Error, Result};
use crate::prepared::Prepared;
use crate::schema::{employee_identities, employees};
use crate::tenants::TenantId;

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
    /// No employee of this tenant has the identity or the email.
    NoSuchEmployee,
}

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

    /// Links (issuer, subject) to an employee of `tenant`. Linking the same pair to the
    /// same employee again only records the sign-in time; to another employee it is a
    /// [`Error::Conflict`]; an employee outside the tenant is [`Error::NotFound`].
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

    /// [`resolve_sign_in`](Self::resolve_sign_in) and, for an active employee, a session
    /// hand-off code (hash `handoff`, landing on `return_to`) for them. A bad
    /// `return_to` refuses the step before anything is written. On PostgreSQL a linked
    /// identity's sign-in is one statement ([`SignInLinked`]). Otherwise the statements
    /// commit one by one, without a transaction's two extra round trips: each leaves a
    /// consistent state — a sign-in time without a code, or a link without one, is just
    /// a sign-in that did not finish — and a code is only ever good for an employee who
    /// is active when it is redeemed.
    #[allow(clippy::too_many_arguments)]
    pub fn resolve_and_hand_off(
        &self,
        tenant: &TenantId,
        issuer: &str,
        subject: &str,
        email: &str,
        handoff: &TokenHash,
        return_to: Option<String>,
        now: DateTime<Utc>,
    ) -> Result<SignInMatch> {
        check_identity(issuer, subject)?;
        super::codes::check_return_to(return_to.as_deref())?;
        let purpose = super::CodePurpose::SessionHandoff;
        self.db.transient_autocommit(|conn| {
            // A returning employee on PostgreSQL: one statement does it all.
            if let DbConnection::Postgresql(pg) = &mut *conn {
                let at = stored(now);
                let linked: Option<EmployeeRow> = SignInLinked {
                    tenant_id: tenant.as_str().to_owned(),
                    issuer: issuer.to_owned(),
                    subject: subject.to_owned(),
                    now: at,
                    code_hash: handoff.to_hex(),
                    purpose: purpose.as_str().to_owned(),
                    return_to: return_to.clone(),
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
                    code_hash: *handoff,
                    purpose,
                    employee_id: employee.id.clone(),
                    return_to,
                };
                super::codes::insert_handoff_in(conn, tenant, &code, now)?;
            }
            Ok(matched)
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
    link_in(conn, tenant, issuer, subject, &employee.id, now)?;
    Ok(SignInMatch::Employee {
        employee,
        newly_linked: true,
    })
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
            diesel::insert_into(employee_identities::table)
                .values((
                    employee_identities::tenant_id.eq(tenant.as_str()),
                    employee_identities::issuer.eq(issuer),
                    employee_identities::subject.eq(subject),
                    employee_identities::employee_id.eq(employee.as_str()),
                    employee_identities::created_at.eq(at),
                    employee_identities::last_sign_in_at.eq(at),
                ))
                .execute(conn)?;
            Ok(())
        }
    }
}

/// Checks, inside the caller's transaction, that `employee` is an active employee of
/// `tenant`; returns their email (for audit targets).
pub(super) fn require_active(
    conn: &mut DbConnection,
    tenant: &TenantId,
    employee: &EmployeeId,
) -> Result<String> {
    let found: Option<(String, bool)> = employees::table
        .filter(employees::tenant_id.eq(tenant.as_str()))
        .filter(employees::id.eq(employee.as_str()))
        .select((employees::email, employees::active))
        .first(conn)
        .optional()?;
    match found {
        Some((email, true)) => Ok(email),
        Some((email, false)) => Err(Error::NotFound(format!(
            "`{email}` is deactivated in this workspace; activate them first"
        ))),
        None => Err(Error::NotFound(format!(
            "no employee `{employee}` in this workspace"
        ))),
    }
}
