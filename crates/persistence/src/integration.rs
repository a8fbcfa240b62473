//! The Okta integration's state per tenant: activated by the Spark team (after the
//! customer's email), then connected by a tenant admin from the Marketplace. Sign-in and
//! SCIM tokens work only while both hold; disconnecting keeps the configuration.

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::okta_integrations;
use crate::tenants::Tenant;

/// When a step was taken, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntegrationStamp {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (an [`Actor`]'s recorded form).
    pub by: String,
}

/// A tenant's Okta integration state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaIntegration {
    /// Set while the Spark team has activated the integration for the tenant.
    pub activated: Option<IntegrationStamp>,
    /// Set while a tenant admin has it connected.
    pub connected: Option<IntegrationStamp>,
}

impl OktaIntegration {
    /// The Marketplace offers Okta to this tenant.
    pub fn is_activated(&self) -> bool {
        self.activated.is_some()
    }

    /// Activated and connected: Okta sign-in and SCIM tokens work.
    pub fn is_live(&self) -> bool {
        self.activated.is_some() && self.connected.is_some()
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = okta_integrations)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct IntegrationRow {
    activated_at: Option<chrono::NaiveDateTime>,
    activated_by: Option<String>,
    connected_at: Option<chrono::NaiveDateTime>,
    connected_by: Option<String>,
}

fn stamp(at: Option<chrono::NaiveDateTime>, by: Option<String>) -> Option<IntegrationStamp> {
    Some(IntegrationStamp {
        at: clock::utc(at?),
        by: by.unwrap_or_default(),
    })
}

impl From<IntegrationRow> for OktaIntegration {
    fn from(row: IntegrationRow) -> Self {
        OktaIntegration {
            activated: stamp(row.activated_at, row.activated_by),
            connected: stamp(row.connected_at, row.connected_by),
        }
    }
}

/// Which step a change takes.
#[derive(Clone, Copy)]
enum Step {
    Activate,
    Deactivate,
    Connect,
    Disconnect,
}

/// The integration-state repository; see [`Database::okta_integrations`].
pub struct OktaIntegrations<'db> {
    pub(crate) db: &'db Database,
}

impl OktaIntegrations<'_> {
    /// The tenant's current state.
    pub fn get(&self, tenant: &TenantId) -> Result<OktaIntegration> {
        load(&mut *self.db.conn()?, tenant)
    }

    /// The Spark team's one-time activation. Idempotent: activating again changes nothing.
    pub fn activate(&self, tenant: &Tenant, actor: &Actor) -> Result<OktaIntegration> {
        self.change(tenant, actor, Step::Activate)
    }

    /// Withdraws the activation; the Marketplace no longer offers Okta, and sign-in and
    /// SCIM stop, but the tenant's connection and configuration are kept.
    pub fn deactivate(&self, tenant: &Tenant, actor: &Actor) -> Result<OktaIntegration> {
        self.change(tenant, actor, Step::Deactivate)
    }

    /// What the admin's Connect button does; refused until the Spark team activated it.
    pub fn connect(&self, tenant: &Tenant, actor: &Actor) -> Result<OktaIntegration> {
        self.change(tenant, actor, Step::Connect)
    }

    /// What the admin's Disconnect button does: sign-in and SCIM stop, nothing is deleted.
    pub fn disconnect(&self, tenant: &Tenant, actor: &Actor) -> Result<OktaIntegration> {
        self.change(tenant, actor, Step::Disconnect)
    }

    fn change(&self, tenant: &Tenant, actor: &Actor, step: Step) -> Result<OktaIntegration> {
        self.db.write(|conn| {
            let before = load(conn, &tenant.id)?;
            let now = clock::now();
            let who = Some(actor.as_str());
            let target = okta_integrations::table.find(tenant.id.as_str());
            let (changed, action) = match step {
                Step::Activate if !before.is_activated() => {
                    diesel::update(target)
                        .set((
                            okta_integrations::activated_at.eq(Some(now)),
                            okta_integrations::activated_by.eq(who),
                            okta_integrations::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    (true, "okta.activated")
                }
                Step::Deactivate if before.is_activated() => {
                    diesel::update(target)
                        .set((
                            okta_integrations::activated_at.eq(None::<chrono::NaiveDateTime>),
                            okta_integrations::activated_by.eq(None::<String>),
                            okta_integrations::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    (true, "okta.deactivated")
                }
                Step::Connect if !before.is_activated() => {
                    return Err(Error::Invalid(format!(
                        "the Okta integration is not activated for `{}` yet: ask the Spark \
                         team to enable it (sparkctl okta enable {})",
                        tenant.workspace, tenant.workspace
                    )));
                }
                Step::Connect if before.connected.is_none() => {
                    diesel::update(target)
                        .set((
                            okta_integrations::connected_at.eq(Some(now)),
                            okta_integrations::connected_by.eq(who),
                            okta_integrations::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    (true, "okta.connected")
                }
                Step::Disconnect if before.connected.is_some() => {
                    diesel::update(target)
                        .set((
                            okta_integrations::connected_at.eq(None::<chrono::NaiveDateTime>),
                            okta_integrations::connected_by.eq(None::<String>),
                            okta_integrations::updated_at.eq(now),
                        ))
                        .execute(conn)?;
                    (true, "okta.disconnected")
                }
                _ => (false, ""),
            };
            if !changed {
                return Ok(before);
            }
            audit::record(
                conn,
                Some(&tenant.id),
                actor,
                action,
                Some(tenant.workspace.as_str()),
                serde_json::json!({}),
            )?;
            load(conn, &tenant.id)
        })
    }
}

fn load(conn: &mut crate::connection::DbConnection, tenant: &TenantId) -> Result<OktaIntegration> {
    let row = okta_integrations::table
        .find(tenant.as_str())
        .select(IntegrationRow::as_select())
        .first(conn)
        .optional()?;
    Ok(row.map(OktaIntegration::from).unwrap_or(OktaIntegration {
        activated: None,
        connected: None,
    }))
}
