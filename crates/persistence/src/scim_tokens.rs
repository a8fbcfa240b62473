//! SCIM bearer tokens as stored: `token-store`'s [`TokenRepository`] over the
//! `scim_tokens` table. Only hashes are stored (hex SHA-256, uniquely indexed); every
//! change is audited in its own transaction with the actor the store was opened for.

use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use token_store::{
    BearerForm, NewToken, StoredToken, TenantId as TokenTenant, TokenHash, TokenHint, TokenId,
    TokenRecord, TokenRepository,
};

use crate::Database;
use crate::audit::{self, Actor};
use crate::clock;
use crate::connection::DbConnection;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::schema::scim_tokens;

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = scim_tokens)]
#[diesel(check_for_backend(diesel::sqlite::Sqlite, diesel::pg::Pg))]
pub(crate) struct TokenRow {
    id: String,
    tenant_id: String,
    token_hash: String,
    label: String,
    hint: String,
    created_at: NaiveDateTime,
    created_by: String,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    replaced_by: Option<String>,
    presented_as: String,
}

impl TokenRow {
    fn new(tenant: &TokenTenant, token: NewToken) -> Self {
        TokenRow {
            id: uuid::Uuid::now_v7().to_string(),
            tenant_id: tenant.as_str().to_owned(),
            token_hash: token.hash.to_hex(),
            label: token.label,
            hint: token.hint.into_string(),
            created_at: stored_time(token.created_at),
            created_by: token.created_by,
            last_used_at: None,
            revoked_at: None,
            replaced_by: None,
            presented_as: BearerForm::Standard.as_str().to_owned(),
        }
    }

    fn record(self) -> TokenRecord {
        TokenRecord {
            id: TokenId::new(self.id),
            tenant_id: TokenTenant::new(self.tenant_id),
            label: self.label,
            hint: TokenHint::from_stored(self.hint),
            created_at: clock::utc(self.created_at),
            created_by: self.created_by,
            last_used_at: self.last_used_at.map(clock::utc),
            revoked_at: self.revoked_at.map(clock::utc),
            // A value this build does not know (written by a newer one) reads as the
            // standard form: it only decides a hint on the token page.
            presented_as: BearerForm::from_stored(&self.presented_as).unwrap_or_default(),
        }
    }
}

/// An instant as the columns hold it (UTC, microseconds).
fn stored_time(at: DateTime<Utc>) -> NaiveDateTime {
    use chrono::SubsecRound;
    at.naive_utc().trunc_subsecs(6)
}

/// The SCIM token store of one actor; see [`Database::scim_tokens`]. Wrap it in
/// `token_store::scim::ScimTokens` for the lifecycle rules.
pub struct ScimTokenStore<'db> {
    pub(crate) db: &'db Database,
    pub(crate) actor: Actor,
}

impl TokenRow {
    /// The stored token of a row, as the repository hands it out.
    pub(crate) fn into_stored(self) -> Result<StoredToken> {
        let hash = TokenHash::from_hex(&self.token_hash)
            .map_err(|e| Error::Database(format!("a stored token hash is corrupt: {e}")))?;
        Ok(StoredToken {
            record: self.record(),
            hash,
        })
    }
}

impl ScimTokenStore<'_> {
    fn load(
        conn: &mut DbConnection,
        tenant: &TokenTenant,
        id: &TokenId,
    ) -> Result<Option<TokenRow>> {
        Ok(scim_tokens::table
            .filter(scim_tokens::tenant_id.eq(tenant.as_str()))
            .filter(scim_tokens::id.eq(id.as_str()))
            .select(TokenRow::as_select())
            .first(conn)
            .optional()?)
    }

    fn audit(
        &self,
        conn: &mut DbConnection,
        tenant: &TokenTenant,
        action: &str,
        token: &TokenRow,
    ) -> Result<()> {
        let details = serde_json::json!({ "label": token.label, "hint": token.hint });
        let tenant = TenantId(tenant.as_str().to_owned());
        audit::record(
            conn,
            Some(&tenant),
            &self.actor,
            action,
            Some(&token.id),
            details,
        )
    }
}

impl TokenRepository for ScimTokenStore<'_> {
    type Error = Error;

    fn insert(&mut self, tenant: &TokenTenant, token: NewToken) -> Result<TokenRecord> {
        let row = TokenRow::new(tenant, token);
        self.db.write(|conn| {
            diesel::insert_into(scim_tokens::table)
                .values(&row)
                .execute(conn)?;
            self.audit(conn, tenant, "scim_token.minted", &row)
        })?;
        Ok(row.record())
    }

    fn insert_replacing(
        &mut self,
        tenant: &TokenTenant,
        old: &TokenId,
        replacement: NewToken,
        revoked_at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>> {
        let row = TokenRow::new(tenant, replacement);
        let replaced = self.db.write(|conn| {
            let revoked = diesel::update(
                scim_tokens::table
                    .filter(scim_tokens::tenant_id.eq(tenant.as_str()))
                    .filter(scim_tokens::id.eq(old.as_str()))
                    .filter(scim_tokens::revoked_at.is_null()),
            )
            .set((
                scim_tokens::revoked_at.eq(Some(stored_time(revoked_at))),
                scim_tokens::replaced_by.eq(Some(&row.id)),
            ))
            .execute(conn)?;
            if revoked != 1 {
                return Ok(false);
            }
            diesel::insert_into(scim_tokens::table)
                .values(&row)
                .execute(conn)?;
            self.audit(conn, tenant, "scim_token.rotated", &row)?;
            Ok(true)
        })?;
        Ok(replaced.then(|| row.record()))
    }

    fn find_by_hash(
        &mut self,
        tenant: &TokenTenant,
        hash: &TokenHash,
    ) -> Result<Option<StoredToken>> {
        let row = scim_tokens::table
            .filter(scim_tokens::token_hash.eq(hash.to_hex()))
            .filter(scim_tokens::tenant_id.eq(tenant.as_str()))
            .select(TokenRow::as_select())
            .first(&mut *self.db.conn()?)
            .optional()?;
        row.map(TokenRow::into_stored).transpose()
    }

    fn get(&mut self, tenant: &TokenTenant, id: &TokenId) -> Result<Option<TokenRecord>> {
        Ok(Self::load(&mut *self.db.conn()?, tenant, id)?.map(TokenRow::record))
    }

    fn list(&mut self, tenant: &TokenTenant) -> Result<Vec<TokenRecord>> {
        let rows = scim_tokens::table
            .filter(scim_tokens::tenant_id.eq(tenant.as_str()))
            .order((scim_tokens::created_at.desc(), scim_tokens::id.desc()))
            .select(TokenRow::as_select())
            .load(&mut *self.db.conn()?)?;
        Ok(rows.into_iter().map(TokenRow::record).collect())
    }

    fn touch(
        &mut self,
        tenant: &TokenTenant,
        id: &TokenId,
        at: DateTime<Utc>,
        form: BearerForm,
    ) -> Result<()> {
        diesel::update(
            scim_tokens::table
                .filter(scim_tokens::tenant_id.eq(tenant.as_str()))
                .filter(scim_tokens::id.eq(id.as_str())),
        )
        .set((
            scim_tokens::last_used_at.eq(Some(stored_time(at))),
            scim_tokens::presented_as.eq(form.as_str()),
        ))
        .execute(&mut *self.db.conn()?)?;
        Ok(())
    }

    fn revoke(
        &mut self,
        tenant: &TokenTenant,
        id: &TokenId,
        at: DateTime<Utc>,
    ) -> Result<Option<TokenRecord>> {
        self.db.write(|conn| {
            let Some(row) = Self::load(conn, tenant, id)? else {
                return Ok(None);
            };
            if row.revoked_at.is_some() {
                return Ok(Some(row.record()));
            }
            let revoked_at = stored_time(at);
            diesel::update(scim_tokens::table.find(&row.id))
                .set(scim_tokens::revoked_at.eq(Some(revoked_at)))
                .execute(conn)?;
            self.audit(conn, tenant, "scim_token.revoked", &row)?;
            Ok(Some(
                TokenRow {
                    revoked_at: Some(revoked_at),
                    ..row
                }
                .record(),
            ))
        })
    }
}

impl From<&TenantId> for TokenTenant {
    fn from(tenant: &TenantId) -> Self {
        TokenTenant::new(tenant.as_str())
    }
}
