//! What a request looks up first, in one query: a workspace's tenant with its Okta
//! integration state, and — for a SCIM request — the tenant's token with the presented
//! hash. It joins the tables of three modules, so it lives beside them, not in one.

use diesel::prelude::*;

use crate::error::Result;
use crate::integration::{IntegrationRow, OktaIntegration};
use crate::schema::{okta_integrations, scim_tokens, tenants};
use crate::scim_tokens::TokenRow;
use crate::tenants::{Tenant, TenantRow, Tenants};

impl Tenants<'_> {
    /// The tenant of a workspace with its Okta integration state, in one query: what a
    /// service checks on every request.
    pub fn find_with_okta(&self, workspace: &str) -> Result<Option<(Tenant, OktaIntegration)>> {
        let slug = workspace.trim().to_ascii_lowercase();
        let row = tenants::table
            .inner_join(okta_integrations::table)
            .filter(tenants::workspace.eq(slug))
            .select((TenantRow::as_select(), IntegrationRow::as_select()))
            .first::<(TenantRow, IntegrationRow)>(&mut *self.db.conn()?)
            .optional()?;
        Ok(row.map(|(tenant, okta)| (tenant.into(), okta.into())))
    }

    /// [`find_with_okta`](Self::find_with_okta), and the tenant's SCIM token with this
    /// hash if there is one, in one query: what a SCIM request looks up first. The caller
    /// judges the token with `token_store::scim::check`.
    pub fn find_with_okta_and_token(
        &self,
        workspace: &str,
        hash: &token_store::TokenHash,
    ) -> Result<Option<(Tenant, OktaIntegration, Option<token_store::StoredToken>)>> {
        let slug = workspace.trim().to_ascii_lowercase();
        let row = tenants::table
            .inner_join(okta_integrations::table)
            .left_join(
                scim_tokens::table.on(scim_tokens::tenant_id
                    .eq(tenants::id)
                    .and(scim_tokens::token_hash.eq(hash.to_hex()))),
            )
            .filter(tenants::workspace.eq(slug))
            .select((
                TenantRow::as_select(),
                IntegrationRow::as_select(),
                Option::<TokenRow>::as_select(),
            ))
            .first::<(TenantRow, IntegrationRow, Option<TokenRow>)>(&mut *self.db.conn()?)
            .optional()?;
        let Some((tenant, okta, token)) = row else {
            return Ok(None);
        };
        Ok(Some((
            tenant.into(),
            okta.into(),
            token.map(TokenRow::into_stored).transpose()?,
        )))
    }
}
