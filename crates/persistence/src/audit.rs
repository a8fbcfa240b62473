//! The audit log: who changed what, when. Events are written in the same transaction as
//! the change they describe, so the log never claims a change that did not happen.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::clock;
use crate::connection::DbConnection;
use crate::error::Result;
use crate::ids::TenantId;
use crate::schema::audit_events;

/// Who made a change, as the audit log records it: `operator:NAME` for the Spark team's
/// CLI, `employee:ID` for a signed-in admin, `okta` for an Okta org's request, `system` for the software itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor(String);

impl Actor {
    /// A Spark operator using `sparkctl`.
    pub fn operator(name: &str) -> Self {
        Self(format!("operator:{name}"))
    }

    /// A signed-in employee (a tenant admin).
    pub fn employee(id: &str) -> Self {
        Self(format!("employee:{id}"))
    }

    /// An Okta org acting through Spark's API (Universal Logout), named in the event's
    /// details.
    pub fn okta() -> Self {
        Self("okta".into())
    }

    /// The software acting on its own (seeding, expiry).
    pub fn system() -> Self {
        Self("system".into())
    }

    /// The recorded form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEvent {
    /// Event id.
    pub id: String,
    /// The tenant it concerns (none for platform-wide events).
    pub tenant_id: Option<TenantId>,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Who did it.
    pub actor: String,
    /// What was done, as `noun.verb` (`employee.deactivated`, `okta.connected`, …).
    pub action: String,
    /// What it was done to (an email, a token id, a workspace).
    pub target: Option<String>,
    /// Further facts, never a secret.
    pub details: serde_json::Value,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = audit_events)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct AuditRow {
    id: String,
    tenant_id: Option<String>,
    occurred_at: chrono::NaiveDateTime,
    actor: String,
    action: String,
    target: Option<String>,
    details: String,
}

/// Records an event inside the caller's transaction.
pub(crate) fn record(
    conn: &mut DbConnection,
    tenant: Option<&TenantId>,
    actor: &Actor,
    action: &str,
    target: Option<&str>,
    details: serde_json::Value,
) -> Result<()> {
    let row = AuditRow {
        id: uuid::Uuid::now_v7().to_string(),
        tenant_id: tenant.map(|t| t.0.clone()),
        occurred_at: clock::now(),
        actor: actor.0.clone(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        details: details.to_string(),
    };
    diesel::insert_into(audit_events::table)
        .values(&row)
        .execute(conn)?;
    Ok(())
}

/// The audit log; see [`Database::audit`].
pub struct AuditLog<'db> {
    pub(crate) db: &'db Database,
}

impl AuditLog<'_> {
    /// The tenant's most recent events, newest first.
    pub fn recent(&self, tenant: &TenantId, limit: u32) -> Result<Vec<AuditEvent>> {
        let rows = audit_events::table
            .filter(audit_events::tenant_id.eq(tenant.as_str()))
            .order((audit_events::occurred_at.desc(), audit_events::id.desc()))
            .limit(i64::from(limit))
            .select(AuditRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows
            .into_iter()
            .map(|row| AuditEvent {
                id: row.id,
                tenant_id: row.tenant_id.map(TenantId),
                occurred_at: clock::utc(row.occurred_at),
                actor: row.actor,
                action: row.action,
                target: row.target,
                details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            })
            .collect())
    }
}
