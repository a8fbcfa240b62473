//! Real-time sign-out, Spark → Okta: the workspace's Okta API service app (Spark's key
//! pair, sealed; the app's client id) and the revocation queue.
//!
//! Deactivating an employee by any path queues one revocation per Okta user linked to
//! them in the workspace's org, in the deactivation's own transaction (an outbox: a crash
//! can never lose one), when the workspace has set real-time sign-out up. A worker on any
//! replica claims due revocations for a lease ([`OktaRevocations::claim_due`]: on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, on SQLite inside the one writer's
//! transaction), so each is sent once in the normal case; a worker that dies mid-send
//! leaves its lease to expire and another sends it again (Okta's revocation is
//! idempotent). Every outcome is recorded with its audit event.
//!
//! What it does not know: keys, tokens, HTTP, the retry policy (the caller says when to
//! try again).

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use diesel::prelude::*;
use token_store::sealed::{KeyId, Sealed};

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::connection::DbConnection;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::{
    employee_identities, employees, okta_revocations, okta_service_apps, okta_sso_configs,
};

/// The associated data a service app's private key is sealed with: the workspace and the
/// key's id, so a sealed key opens only for the workspace and key it was made for.
pub fn service_key_context(tenant: &TenantId, key_id: &str) -> String {
    format!("okta-service-key\0{}\0{key_id}", tenant.as_str())
}

/// A workspace's Okta API service app, as Spark knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaServiceApp {
    /// The workspace.
    pub tenant_id: TenantId,
    /// The service app's client id, once the admin entered it.
    pub client_id: Option<String>,
    /// Spark's key id (the public key's thumbprint).
    pub key_id: String,
    /// The private key, sealed with [`service_key_context`].
    pub private_key: Sealed,
    /// The public key as a JWK (JSON text): what the admin adds in Okta.
    pub public_jwk: String,
    /// When the key was made or the client id last set.
    pub updated_at: DateTime<Utc>,
    /// Who did it.
    pub updated_by: String,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = okta_service_apps)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct ServiceAppRow {
    tenant_id: String,
    client_id: Option<String>,
    key_id: String,
    private_key_ciphertext: Vec<u8>,
    private_key_key_id: String,
    public_jwk: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    updated_by: String,
}

impl ServiceAppRow {
    fn into_domain(self) -> OktaServiceApp {
        OktaServiceApp {
            tenant_id: TenantId(self.tenant_id),
            client_id: self.client_id,
            key_id: self.key_id,
            private_key: Sealed {
                key_id: KeyId::from_stored(self.private_key_key_id),
                bytes: self.private_key_ciphertext,
            },
            public_jwk: self.public_jwk,
            updated_at: clock::utc(self.updated_at),
            updated_by: self.updated_by,
        }
    }
}

/// The service-app repository; see [`Database::okta_service_apps`].
pub struct OktaServiceApps<'db> {
    pub(crate) db: &'db Database,
}

impl OktaServiceApps<'_> {
    /// The workspace's service app, if a key was made.
    pub fn get(&self, tenant: &TenantId) -> Result<Option<OktaServiceApp>> {
        let row = okta_service_apps::table
            .find(tenant.as_str())
            .select(ServiceAppRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(ServiceAppRow::into_domain))
    }

    /// Stores a new key pair (the first, or a rotation replacing the old one: Okta must
    /// then be given the new public key); the client id stays. Audited as
    /// `okta_service_app.key_created` or `.key_rotated` with the key ids — never the key.
    pub fn set_key(
        &self,
        tenant: &TenantId,
        key_id: &str,
        private_key: &Sealed,
        public_jwk: &str,
        actor: &Actor,
    ) -> Result<OktaServiceApp> {
        if private_key.bytes.is_empty() || key_id.is_empty() {
            return Err(Error::Invalid(
                "the key must be sealed before it is stored".into(),
            ));
        }
        self.db.write(|conn| {
            let now = clock::now();
            let existing = okta_service_apps::table
                .find(tenant.as_str())
                .select(ServiceAppRow::as_select())
                .first(conn)
                .optional()?;
            let row = ServiceAppRow {
                tenant_id: tenant.0.clone(),
                client_id: existing.as_ref().and_then(|e| e.client_id.clone()),
                key_id: key_id.to_owned(),
                private_key_ciphertext: private_key.bytes.clone(),
                private_key_key_id: private_key.key_id.as_str().to_owned(),
                public_jwk: public_jwk.to_owned(),
                created_at: existing.as_ref().map_or(now, |e| e.created_at),
                updated_at: now,
                updated_by: actor.as_str().to_owned(),
            };
            let (action, details) = match &existing {
                None => (
                    "okta_service_app.key_created",
                    serde_json::json!({"key_id": key_id}),
                ),
                Some(old) => (
                    "okta_service_app.key_rotated",
                    serde_json::json!({"key_id": key_id, "previous_key_id": old.key_id}),
                ),
            };
            if existing.is_some() {
                diesel::update(okta_service_apps::table.find(tenant.as_str()))
                    .set(&row)
                    .execute(conn)?;
            } else {
                diesel::insert_into(okta_service_apps::table)
                    .values(&row)
                    .execute(conn)?;
            }
            audit::record(conn, Some(tenant), actor, action, None, details)?;
            Ok(row.into_domain())
        })
    }

    /// Sets the service app's client id (audited as `okta_service_app.client_id_set`).
    /// [`Error::NotFound`] before a key was made.
    pub fn set_client_id(
        &self,
        tenant: &TenantId,
        client_id: &str,
        actor: &Actor,
    ) -> Result<OktaServiceApp> {
        let client_id = client_id.trim();
        if client_id.is_empty() || client_id.len() > 200 || client_id.chars().any(char::is_control)
        {
            return Err(Error::Invalid(
                "the client id is empty or malformed; copy it from the service app's General \
                 tab"
                .into(),
            ));
        }
        self.db.write(|conn| {
            let updated = diesel::update(okta_service_apps::table.find(tenant.as_str()))
                .set((
                    okta_service_apps::client_id.eq(client_id),
                    okta_service_apps::updated_at.eq(clock::now()),
                    okta_service_apps::updated_by.eq(actor.as_str()),
                ))
                .execute(conn)?;
            if updated == 0 {
                return Err(Error::NotFound(
                    "make Spark's key first, then enter the client id".into(),
                ));
            }
            audit::record(
                conn,
                Some(tenant),
                actor,
                "okta_service_app.client_id_set",
                None,
                serde_json::json!({"client_id": client_id}),
            )?;
            let row = okta_service_apps::table
                .find(tenant.as_str())
                .select(ServiceAppRow::as_select())
                .first(conn)?;
            Ok(row.into_domain())
        })
    }

    /// Switches real-time sign-out off: forgets the key and client id (audited). Queued
    /// revocations stay listed; they are not sent.
    pub fn delete(&self, tenant: &TenantId, actor: &Actor) -> Result<bool> {
        self.db.write(|conn| {
            let deleted =
                diesel::delete(okta_service_apps::table.find(tenant.as_str())).execute(conn)?;
            if deleted > 0 {
                audit::record(
                    conn,
                    Some(tenant),
                    actor,
                    "okta_service_app.removed",
                    None,
                    serde_json::json!({}),
                )?;
            }
            Ok(deleted > 0)
        })
    }
}

/// Where a revocation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Waiting to be sent, or to be sent again.
    Pending,
    /// Okta revoked the user's sessions and tokens.
    Sent,
    /// Okta has no such user any more: nothing was left to revoke.
    UserGone,
}

impl RevocationStatus {
    fn as_str(self) -> &'static str {
        match self {
            RevocationStatus::Pending => "pending",
            RevocationStatus::Sent => "sent",
            RevocationStatus::UserGone => "user_gone",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "sent" => RevocationStatus::Sent,
            "user_gone" => RevocationStatus::UserGone,
            _ => RevocationStatus::Pending,
        }
    }
}

/// One queued revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaRevocation {
    /// Its id.
    pub id: String,
    /// The workspace.
    pub tenant_id: TenantId,
    /// The deactivated employee.
    pub employee_id: String,
    /// Their email when queued.
    pub email: String,
    /// The Okta org (issuer) the user belongs to.
    pub issuer: String,
    /// The Okta user id to revoke (the linked identity's `sub`).
    pub okta_user_id: String,
    /// Where it stands.
    pub status: RevocationStatus,
    /// How many times it was tried.
    pub attempts: i64,
    /// When it is due (again).
    pub next_attempt_at: DateTime<Utc>,
    /// Until when a worker holds it: the lease [`OktaRevocations::claim_due`] gave, which
    /// [`OktaRevocations::record`] must present.
    pub lease_until: Option<DateTime<Utc>>,
    /// Why the last attempt failed, if it did.
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it was done.
    pub finished_at: Option<DateTime<Utc>>,
}

impl OktaRevocation {
    /// Pending after at least one failed attempt: what the page, the metrics and
    /// `sparkctl okta revocations list` show as failing.
    pub fn is_failing(&self) -> bool {
        self.status == RevocationStatus::Pending && self.last_error.is_some()
    }
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = okta_revocations)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct RevocationRow {
    id: String,
    tenant_id: String,
    employee_id: String,
    email: String,
    issuer: String,
    okta_user_id: String,
    status: String,
    attempts: i64,
    next_attempt_at: NaiveDateTime,
    lease_until: Option<NaiveDateTime>,
    last_error: Option<String>,
    created_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
}

impl RevocationRow {
    fn into_domain(self) -> OktaRevocation {
        OktaRevocation {
            id: self.id,
            tenant_id: TenantId(self.tenant_id),
            employee_id: self.employee_id,
            email: self.email,
            issuer: self.issuer,
            okta_user_id: self.okta_user_id,
            status: RevocationStatus::parse(&self.status),
            attempts: self.attempts,
            next_attempt_at: clock::utc(self.next_attempt_at),
            lease_until: self.lease_until.map(clock::utc),
            last_error: self.last_error,
            created_at: clock::utc(self.created_at),
            finished_at: self.finished_at.map(clock::utc),
        }
    }
}

/// How an attempt ended, as the worker records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Okta revoked the user: done.
    Sent,
    /// Okta has no such user: done.
    UserGone,
    /// Not done: why, and when to try again.
    Failed {
        /// For the admin: the status and Okta's error.
        why: String,
        /// When to try again.
        retry_at: DateTime<Utc>,
    },
}

/// The most revocations a listing returns.
pub const MAX_LISTED_REVOCATIONS: i64 = 200;

/// The revocation queue; see [`Database::okta_revocations`].
pub struct OktaRevocations<'db> {
    pub(crate) db: &'db Database,
}

impl OktaRevocations<'_> {
    /// The workspace's revocations, newest first (at most [`MAX_LISTED_REVOCATIONS`]).
    pub fn list(&self, tenant: &TenantId) -> Result<Vec<OktaRevocation>> {
        let rows = okta_revocations::table
            .filter(okta_revocations::tenant_id.eq(tenant.as_str()))
            .order((
                okta_revocations::created_at.desc(),
                okta_revocations::id.desc(),
            ))
            .limit(MAX_LISTED_REVOCATIONS)
            .select(RevocationRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows.into_iter().map(RevocationRow::into_domain).collect())
    }

    /// Claims up to `max` due revocations of every workspace for `lease`: no other
    /// worker claims them until the lease ends (or the outcome is recorded).
    pub fn claim_due(
        &self,
        now: DateTime<Utc>,
        lease: TimeDelta,
        max: i64,
    ) -> Result<Vec<OktaRevocation>> {
        let at = clock::stored(now);
        // The ids due at `at` (and not leased), the earliest first.
        let due = |limit: i64| {
            okta_revocations::table
                .filter(okta_revocations::status.eq(RevocationStatus::Pending.as_str()))
                .filter(okta_revocations::next_attempt_at.le(at))
                .filter(
                    okta_revocations::lease_until
                        .is_null()
                        .or(okta_revocations::lease_until.le(at)),
                )
                .order(okta_revocations::next_attempt_at.asc())
                .limit(limit)
                .select(okta_revocations::id)
        };
        // Nothing due — the usual tick — costs one indexed read, no write transaction
        // (on SQLite that would take the database's one write lock twice a second).
        let anything: Option<String> = due(1).first(&mut *self.db.conn()?).optional()?;
        if anything.is_none() {
            return Ok(Vec::new());
        }
        self.db.write(|conn| {
            let due = due(max);
            // PostgreSQL: rows another replica's transaction holds are skipped, not
            // waited for. SQLite: this write transaction is the only writer anyway.
            let ids: Vec<String> = match conn {
                DbConnection::Postgresql(pg) => due.for_update().skip_locked().load(pg)?,
                DbConnection::Sqlite(lite) => due.load(lite)?,
            };
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(okta_revocations::table.filter(okta_revocations::id.eq_any(&ids)))
                .set(okta_revocations::lease_until.eq(clock::stored(now + lease)))
                .execute(conn)?;
            let rows = okta_revocations::table
                .filter(okta_revocations::id.eq_any(&ids))
                .order(okta_revocations::next_attempt_at.asc())
                .select(RevocationRow::as_select())
                .load(conn)?;
            Ok(rows.into_iter().map(RevocationRow::into_domain).collect())
        })
    }

    /// Records how an attempt at a claimed revocation ended, with its audit event (actor
    /// `system`): `okta.revocation_sent`, `okta.revocation_user_gone` or
    /// `okta.revocation_failed`. Only the holder of the current lease records: a worker
    /// whose lease ran out (another has claimed the revocation since), or whose
    /// revocation is already done, records nothing and gets `false`.
    pub fn record(
        &self,
        claimed: &OktaRevocation,
        outcome: &AttemptOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(lease) = claimed.lease_until.map(clock::stored) else {
            return Ok(false);
        };
        self.db.write(|conn| {
            let at = clock::stored(now);
            let attempts = claimed.attempts + 1;
            // The lease is the fencing token: the update matches only while it is ours.
            let ours = okta_revocations::table
                .filter(okta_revocations::id.eq(&claimed.id))
                .filter(okta_revocations::status.eq(RevocationStatus::Pending.as_str()))
                .filter(okta_revocations::lease_until.eq(lease));
            let (updated, action, details) = match outcome {
                AttemptOutcome::Sent | AttemptOutcome::UserGone => {
                    let (status, action) = if *outcome == AttemptOutcome::Sent {
                        (RevocationStatus::Sent, "okta.revocation_sent")
                    } else {
                        (RevocationStatus::UserGone, "okta.revocation_user_gone")
                    };
                    let updated = diesel::update(ours)
                        .set((
                            okta_revocations::status.eq(status.as_str()),
                            okta_revocations::attempts.eq(attempts),
                            okta_revocations::lease_until.eq(None::<NaiveDateTime>),
                            okta_revocations::finished_at.eq(Some(at)),
                        ))
                        .execute(conn)?;
                    (updated, action, serde_json::json!({}))
                }
                AttemptOutcome::Failed { why, retry_at } => {
                    let updated = diesel::update(ours)
                        .set((
                            okta_revocations::attempts.eq(attempts),
                            okta_revocations::lease_until.eq(None::<NaiveDateTime>),
                            okta_revocations::last_error.eq(Some(why.as_str())),
                            okta_revocations::next_attempt_at.eq(clock::stored(*retry_at)),
                        ))
                        .execute(conn)?;
                    (
                        updated,
                        "okta.revocation_failed",
                        serde_json::json!({"error": why, "retry_at": retry_at.to_rfc3339()}),
                    )
                }
            };
            if updated == 0 {
                return Ok(false);
            }
            let mut details = details;
            if let Some(object) = details.as_object_mut() {
                object.insert("revocation_id".into(), claimed.id.clone().into());
                object.insert("issuer".into(), claimed.issuer.clone().into());
                object.insert("okta_user_id".into(), claimed.okta_user_id.clone().into());
                object.insert("attempt".into(), attempts.into());
            }
            audit::record(
                conn,
                Some(&claimed.tenant_id),
                &Actor::system(),
                action,
                Some(&claimed.email),
                details,
            )?;
            Ok(true)
        })
    }

    /// How many revocations of all workspaces are failing (pending after a failed
    /// attempt): a metric.
    pub fn failing(&self) -> Result<u64> {
        let n: i64 = okta_revocations::table
            .filter(okta_revocations::status.eq(RevocationStatus::Pending.as_str()))
            .filter(okta_revocations::last_error.is_not_null())
            .count()
            .get_result(&mut *self.db.conn()?)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Forgets revocations done before `before` (the audit log keeps their story).
    pub fn purge_done(&self, before: DateTime<Utc>) -> Result<usize> {
        self.db.write(|conn| {
            Ok(diesel::delete(
                okta_revocations::table
                    .filter(okta_revocations::status.ne(RevocationStatus::Pending.as_str()))
                    .filter(okta_revocations::finished_at.le(clock::stored(before))),
            )
            .execute(conn)?)
        })
    }
}

/// Queues the revocations of employees just deactivated in `tenant`, in the caller's
/// transaction: one per Okta user of the workspace's org linked to them, when the
/// workspace has a service app with a client id. Each queued revocation is audited as
/// `okta.revocation_queued`; an employee with no linked Okta user — who never signed in
/// with Okta, so Spark knows no Okta user id — as `okta.revocation_impossible`.
pub(crate) fn queue_for_deactivated(
    conn: &mut DbConnection,
    tenant: &TenantId,
    employee_ids: &[String],
) -> Result<()> {
    if employee_ids.is_empty() {
        return Ok(());
    }
    let configured: Option<(Option<String>, String)> = okta_service_apps::table
        .inner_join(
            okta_sso_configs::table
                .on(okta_sso_configs::tenant_id.eq(okta_service_apps::tenant_id)),
        )
        .filter(okta_service_apps::tenant_id.eq(tenant.as_str()))
        .select((okta_service_apps::client_id, okta_sso_configs::org_url))
        .first(conn)
        .optional()?;
    let Some((Some(_), org_url)) = configured else {
        return Ok(());
    };
    let now = clock::now();
    for chunk in employee_ids.chunks(500) {
        let people: Vec<(String, String)> = employees::table
            .filter(employees::tenant_id.eq(tenant.as_str()))
            .filter(employees::id.eq_any(chunk))
            .select((employees::id, employees::email))
            .load(conn)?;
        let linked: Vec<(String, String)> = employee_identities::table
            .filter(employee_identities::tenant_id.eq(tenant.as_str()))
            .filter(employee_identities::issuer.eq(&org_url))
            .filter(employee_identities::employee_id.eq_any(chunk))
            .select((
                employee_identities::employee_id,
                employee_identities::subject,
            ))
            .load(conn)?;
        for (employee_id, email) in people {
            let users: Vec<&String> = linked
                .iter()
                .filter(|(linked_to, _)| *linked_to == employee_id)
                .map(|(_, subject)| subject)
                .collect();
            if users.is_empty() {
                audit::record(
                    conn,
                    Some(tenant),
                    &Actor::system(),
                    "okta.revocation_impossible",
                    Some(&email),
                    serde_json::json!({
                        "employee_id": employee_id,
                        "reason": "the employee never signed in with Okta, so Spark knows no \
                                   Okta user id to name; Okta's next import deactivates them",
                    }),
                )?;
                continue;
            }
            for okta_user_id in users {
                let row = RevocationRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    tenant_id: tenant.0.clone(),
                    employee_id: employee_id.clone(),
                    email: email.clone(),
                    issuer: org_url.clone(),
                    okta_user_id: okta_user_id.clone(),
                    status: RevocationStatus::Pending.as_str().to_owned(),
                    attempts: 0,
                    next_attempt_at: now,
                    lease_until: None,
                    last_error: None,
                    created_at: now,
                    finished_at: None,
                };
                diesel::insert_into(okta_revocations::table)
                    .values(&row)
                    .execute(conn)?;
                audit::record(
                    conn,
                    Some(tenant),
                    &Actor::system(),
                    "okta.revocation_queued",
                    Some(&email),
                    serde_json::json!({
                        "revocation_id": row.id,
                        "issuer": org_url,
                        "okta_user_id": okta_user_id,
                    }),
                )?;
            }
        }
    }
    Ok(())
}
