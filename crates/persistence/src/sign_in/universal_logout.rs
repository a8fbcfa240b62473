//! Okta Universal Logout's effect: an Okta org asks that an employee be signed out of
//! Spark, and every session and unused one-time code of that employee ends in one
//! transaction, with the request's token id remembered so it is accepted once.
//!
//! What it knows: which workspaces' employees a request may reach (the caller passes the
//! workspaces that sign in with the requesting org), how the employee is named (the Okta
//! user linked to them, or their email), single use of the token id, the audit event.
//! What it does not know: JWTs, signatures, HTTP; the caller has verified the request
//! and decided the workspaces.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock::stored;
use crate::connection::on_own_connection;
use crate::employees::{email_key, end_access};
use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::{employee_identities, employees, universal_logout_tokens};

/// How a Universal Logout request names the employee (the subject identifier formats
/// Okta sends: RFC 9493 `iss_sub` and `email`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutSubject<'a> {
    /// The Okta user (`sub`) of the requesting issuer linked to the employee at their
    /// first sign-in.
    OktaUser(&'a str),
    /// The employee's email, matched case-insensitively; active or not.
    Email(&'a str),
}

impl LogoutSubject<'_> {
    /// The format's name as Okta sends it and the audit log records it.
    pub fn format(&self) -> &'static str {
        match self {
            LogoutSubject::OktaUser(_) => "iss_sub",
            LogoutSubject::Email(_) => "email",
        }
    }
}

/// A verified Universal Logout request.
#[derive(Debug, Clone)]
pub struct LogoutOrder<'a> {
    /// The Okta org that signed the request (its issuer URL).
    pub issuer: &'a str,
    /// The request token's `jti`: accepted once per issuer.
    pub token_id: &'a str,
    /// When the request token expires: its id is remembered until then.
    pub token_expires_at: DateTime<Utc>,
    /// The workspaces whose sign-in is this issuer's (and app's): the only ones reached.
    pub workspaces: &'a [TenantId],
    /// Who is to be signed out.
    pub subject: LogoutSubject<'a>,
}

/// What a Universal Logout request did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutOutcome {
    /// The named employees (one per workspace at most) are signed out.
    SignedOut {
        /// Each employee's workspace and email.
        employees: Vec<(TenantId, String)>,
        /// How many sessions ended, all employees together.
        sessions_ended: usize,
    },
    /// No employee of the workspaces is named by the subject; nothing changed but the
    /// token's use.
    NoSuchEmployee,
    /// The token id was used before: nothing changed.
    TokenReplayed,
}

/// The Universal Logout repository; see [`Database::universal_logouts`].
pub struct UniversalLogouts<'db> {
    pub(crate) db: &'db Database,
}

impl UniversalLogouts<'_> {
    /// Carries out a verified request in one transaction: records the token id (a second
    /// use is [`LogoutOutcome::TokenReplayed`] and changes nothing), finds the employees
    /// the subject names in `order.workspaces` only, ends their sessions and unused
    /// one-time codes, and audits each as `okta.universal_logout` (actor `okta`, with the
    /// issuer and the subject format). Durable when it returns: a session it ended does
    /// not come back after a crash.
    pub fn sign_out(&self, order: &LogoutOrder<'_>) -> Result<LogoutOutcome> {
        self.db.write(|conn| {
            let insert = diesel::insert_into(universal_logout_tokens::table)
                .values((
                    universal_logout_tokens::issuer.eq(order.issuer),
                    universal_logout_tokens::token_id.eq(order.token_id),
                    universal_logout_tokens::expires_at.eq(stored(order.token_expires_at)),
                ))
                .on_conflict_do_nothing();
            // A conflict is no row rather than a failed statement, which would end a
            // PostgreSQL transaction.
            if on_own_connection!(&mut *conn, |c| insert.execute(c))? == 0 {
                return Ok(LogoutOutcome::TokenReplayed);
            }
            let workspaces: Vec<&str> = order.workspaces.iter().map(TenantId::as_str).collect();
            let named: Vec<(String, String, String)> = match order.subject {
                LogoutSubject::OktaUser(subject) => {
                    let linked = employee_identities::table
                        .filter(employee_identities::tenant_id.eq_any(&workspaces))
                        .filter(employee_identities::issuer.eq(order.issuer))
                        .filter(employee_identities::subject.eq(subject))
                        .select(employee_identities::employee_id);
                    employees::table
                        .filter(employees::tenant_id.eq_any(&workspaces))
                        .filter(employees::id.eq_any(linked))
                        .select((employees::tenant_id, employees::id, employees::email))
                        .order(employees::tenant_id.asc())
                        .load(conn)?
                }
                LogoutSubject::Email(email) => employees::table
                    .filter(employees::tenant_id.eq_any(&workspaces))
                    .filter(employees::email_key.eq(email_key(email)))
                    .select((employees::tenant_id, employees::id, employees::email))
                    .order(employees::tenant_id.asc())
                    .load(conn)?,
            };
            if named.is_empty() {
                return Ok(LogoutOutcome::NoSuchEmployee);
            }
            let mut sessions_ended = 0;
            let mut signed_out = Vec::with_capacity(named.len());
            for (tenant_id, employee_id, email) in named {
                let ended = end_access(conn, std::slice::from_ref(&employee_id))?;
                sessions_ended += ended;
                let tenant = TenantId(tenant_id);
                audit::record(
                    conn,
                    Some(&tenant),
                    &Actor::okta(),
                    "okta.universal_logout",
                    Some(&email),
                    serde_json::json!({
                        "employee_id": employee_id,
                        "issuer": order.issuer,
                        "subject_format": order.subject.format(),
                        "sessions_ended": ended,
                    }),
                )?;
                signed_out.push((tenant, email));
            }
            Ok(LogoutOutcome::SignedOut {
                employees: signed_out,
                sessions_ended,
            })
        })
    }

    /// Forgets the token ids whose tokens have expired (they can no longer be replayed:
    /// an expired token is refused before its id is looked at).
    pub fn purge_expired(&self, now: DateTime<Utc>) -> Result<usize> {
        self.db.write(|conn| {
            Ok(diesel::delete(
                universal_logout_tokens::table
                    .filter(universal_logout_tokens::expires_at.le(stored(now))),
            )
            .execute(conn)?)
        })
    }
}
