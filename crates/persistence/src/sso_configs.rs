//! Okta SSO configurations: one per tenant — the Okta org URL, the client id, and the
//! client secret sealed by `token-store`'s key ring (ciphertext and key id; never the
//! plaintext) with [`secret_context`] as associated data, so it opens only for the org
//! URL and client id it was entered for. Saving and deleting are audited without the
//! secret. The org URL is stored as the caller normalised it (oidc-client's `OrgUrl`), so
//! IdP-initiated sign-in can find the tenants of an issuer by equality. An org URL on a
//! host Okta does not operate carries who approved it (the Spark team); the approval
//! belongs to that org URL and is dropped when another is saved.
//!
//! What it does not know: which hosts Okta operates (oidc-client decides; callers pass
//! `approve_custom_domain`).

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use token_store::sealed::{KeyId, Sealed};

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::integration::{IntegrationRow, OktaIntegration};
use crate::schema::{okta_integrations, okta_sso_configs, tenants};
use crate::tenants::{Tenant, TenantRow};

/// A tenant's Okta SSO configuration as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaSsoConfig {
    /// The tenant it belongs to.
    pub tenant_id: TenantId,
    /// The normalised Okta org URL (`https://acme.okta.com`): the expected issuer.
    pub org_url: String,
    /// The OIDC client id of the Spark app in Okta.
    pub client_id: String,
    /// The client secret, sealed (its `Debug` shows only key id and length).
    pub client_secret: Sealed,
    /// When it was first saved.
    pub created_at: DateTime<chrono::Utc>,
    /// When it was last saved.
    pub updated_at: DateTime<chrono::Utc>,
    /// Who saved it last (an [`Actor`]'s recorded form).
    pub updated_by: String,
    /// Who approved `org_url` as a custom domain (an [`Actor`]'s recorded form), when
    /// someone did: only then may an org URL on a host Okta does not operate be used.
    pub custom_domain_approved_by: Option<String>,
}

impl OktaSsoConfig {
    /// The associated data the client secret is sealed with: see [`secret_context`].
    pub fn secret_context(&self) -> String {
        secret_context(&self.tenant_id, &self.org_url, &self.client_id)
    }
}

/// The associated data an Okta client secret is sealed with: the tenant, the org URL and
/// the client id it belongs to. A sealed secret then opens only for the org and client it
/// was entered for: a stored org URL or client id changed by any means leaves a secret
/// that no longer opens, rather than one posted to the new host.
pub fn secret_context(tenant: &TenantId, org_url: &str, client_id: &str) -> String {
    format!(
        "okta-client-secret\0{}\0{org_url}\0{}",
        tenant.as_str(),
        client_id.trim()
    )
}

/// What a save writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OktaSsoConfigInput {
    /// The normalised Okta org URL.
    pub org_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret, sealed with [`secret_context`] of this tenant, org URL and
    /// client id.
    pub client_secret: Sealed,
    /// Record the saving actor's approval of `org_url` as a custom domain (the Spark
    /// team's `sparkctl okta sso set … --approve-custom-domain`). Without it, an earlier
    /// approval is kept only while the org URL stays the same.
    pub approve_custom_domain: bool,
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = okta_sso_configs)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
struct SsoRow {
    tenant_id: String,
    org_url: String,
    client_id: String,
    client_secret_ciphertext: Vec<u8>,
    client_secret_key_id: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    updated_by: String,
    custom_domain_approved_by: Option<String>,
}

impl SsoRow {
    fn into_domain(self) -> OktaSsoConfig {
        OktaSsoConfig {
            tenant_id: TenantId(self.tenant_id),
            org_url: self.org_url,
            client_id: self.client_id,
            client_secret: Sealed {
                key_id: KeyId::from_stored(self.client_secret_key_id),
                bytes: self.client_secret_ciphertext,
            },
            created_at: clock::utc(self.created_at),
            updated_at: clock::utc(self.updated_at),
            updated_by: self.updated_by,
            custom_domain_approved_by: self.custom_domain_approved_by,
        }
    }
}

/// The longest org URL or client id accepted (far above any real one).
const MAX_FIELD: usize = 2_000;

fn check(input: &OktaSsoConfigInput) -> Result<()> {
    let url = input.org_url.as_str();
    if url.is_empty() || url.len() > MAX_FIELD || url.chars().any(char::is_whitespace) {
        return Err(Error::Invalid(
            "the Okta org URL is empty, too long or contains spaces".into(),
        ));
    }
    let id = input.client_id.trim();
    if id.is_empty() || id.len() > MAX_FIELD || id.chars().any(char::is_control) {
        return Err(Error::Invalid(
            "the client id is empty or malformed; copy it from the Okta app's General tab".into(),
        ));
    }
    if input.client_secret.bytes.is_empty() || input.client_secret.key_id.as_str().is_empty() {
        return Err(Error::Invalid(
            "the client secret must be sealed before it is stored".into(),
        ));
    }
    Ok(())
}

/// The Okta SSO configuration repository; see [`Database::okta_sso_configs`].
pub struct OktaSsoConfigs<'db> {
    pub(crate) db: &'db Database,
}

impl OktaSsoConfigs<'_> {
    /// The tenant's integration state and its configuration (if one is saved), in one
    /// query: what a sign-in checks first.
    pub fn get_with_integration(
        &self,
        tenant: &TenantId,
    ) -> Result<(OktaIntegration, Option<OktaSsoConfig>)> {
        let row = tenants::table
            .inner_join(okta_integrations::table)
            .left_join(okta_sso_configs::table)
            .filter(tenants::id.eq(tenant.as_str()))
            .select((IntegrationRow::as_select(), Option::<SsoRow>::as_select()))
            .first::<(IntegrationRow, Option<SsoRow>)>(&mut *self.db.conn()?)
            .optional()?;
        let (integration, config) =
            row.ok_or_else(|| Error::NotFound(format!("no workspace with id `{tenant}`")))?;
        Ok((integration.into(), config.map(SsoRow::into_domain)))
    }

    /// The tenant's configuration, if one is saved.
    pub fn get(&self, tenant: &TenantId) -> Result<Option<OktaSsoConfig>> {
        let row = okta_sso_configs::table
            .find(tenant.as_str())
            .select(SsoRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(SsoRow::into_domain))
    }

    /// Saves (creates or replaces) the tenant's configuration; audited as
    /// `okta_sso.saved` with the org URL, client id, key id and custom-domain approval —
    /// never the secret — and, when `approve_custom_domain` is set, as
    /// `okta_sso.custom_domain_approved` too.
    pub fn upsert(
        &self,
        tenant: &TenantId,
        input: &OktaSsoConfigInput,
        actor: &Actor,
    ) -> Result<OktaSsoConfig> {
        check(input)?;
        self.db.write(|conn| {
            let now = clock::now();
            let existing = okta_sso_configs::table
                .find(tenant.as_str())
                .select(SsoRow::as_select())
                .first(conn)
                .optional()?;
            let approved_by = if input.approve_custom_domain {
                Some(actor.as_str().to_owned())
            } else {
                existing
                    .as_ref()
                    .filter(|e| e.org_url == input.org_url)
                    .and_then(|e| e.custom_domain_approved_by.clone())
            };
            let row = SsoRow {
                tenant_id: tenant.0.clone(),
                org_url: input.org_url.clone(),
                client_id: input.client_id.trim().to_owned(),
                client_secret_ciphertext: input.client_secret.bytes.clone(),
                client_secret_key_id: input.client_secret.key_id.as_str().to_owned(),
                created_at: existing.as_ref().map_or(now, |e| e.created_at),
                updated_at: now,
                updated_by: actor.as_str().to_owned(),
                custom_domain_approved_by: approved_by,
            };
            if existing.is_some() {
                diesel::update(okta_sso_configs::table.find(tenant.as_str()))
                    .set(&row)
                    .execute(conn)?;
            } else {
                diesel::insert_into(okta_sso_configs::table)
                    .values(&row)
                    .execute(conn)?;
            }
            audit::record(
                conn,
                Some(tenant),
                actor,
                "okta_sso.saved",
                Some(&row.org_url),
                serde_json::json!({
                    "org_url": row.org_url,
                    "client_id": row.client_id,
                    "client_secret_key_id": row.client_secret_key_id,
                    "custom_domain_approved_by": row.custom_domain_approved_by,
                    "replaced": existing.is_some(),
                }),
            )?;
            if input.approve_custom_domain {
                audit::record(
                    conn,
                    Some(tenant),
                    actor,
                    "okta_sso.custom_domain_approved",
                    Some(&row.org_url),
                    serde_json::json!({ "org_url": row.org_url }),
                )?;
            }
            Ok(row.into_domain())
        })
    }

    /// Deletes the tenant's configuration (SSO stops); audited as `okta_sso.deleted`.
    /// Returns whether there was one.
    pub fn delete(&self, tenant: &TenantId, actor: &Actor) -> Result<bool> {
        self.db.write(|conn| {
            let deleted =
                diesel::delete(okta_sso_configs::table.find(tenant.as_str())).execute(conn)?;
            if deleted > 0 {
                audit::record(
                    conn,
                    Some(tenant),
                    actor,
                    "okta_sso.deleted",
                    None,
                    serde_json::json!({}),
                )?;
            }
            Ok(deleted > 0)
        })
    }

    /// Every tenant configured with this (normalised) org URL, by workspace: how an
    /// IdP-initiated sign-in, which names only the issuer, finds its workspace. Callers
    /// still check that each tenant's integration is live.
    pub fn tenants_with_org_url(&self, org_url: &str) -> Result<Vec<Tenant>> {
        let rows = okta_sso_configs::table
            .inner_join(tenants::table)
            .filter(okta_sso_configs::org_url.eq(org_url))
            .order(tenants::workspace.asc())
            .select(TenantRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }
}
