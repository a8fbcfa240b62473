//! Okta's look-up and the caller's credentials in one statement (see
//! [`Employees::scim_lookup`]).

use diesel::expression::{AppearsOnTable, SelectableExpression, ValidGrouping};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::Bool;
use scim_filter::Expr;
use token_store::{StoredToken, TokenHash};

use super::filter_sql::{Condition, translate, worth_preparing};
use super::pages::with_total;
use super::query::{PageStart, UserOrder, UserPage};
use super::rows::{MANAGERS, NameRow, ScimUserRow, manager_names, managing};
use crate::connection::Db;
use crate::employees::Employees;
use crate::error::Result;
use crate::integration::{IntegrationRow, OktaIntegration};
use crate::names::display_name_of;
use crate::schema::employees;
use crate::scim_tokens::TokenRow;
use crate::tenants::{Tenant, TenantRow};

/// A filter [`Condition`] over the employees, in a query that joins them with other
/// tables: the condition names employees' columns only, so it holds wherever the
/// employees table is joined in (the bound on `QS` asks that it is). Shared, because a
/// join's condition must be `Clone`.
#[derive(Clone)]
struct OnEmployees(std::rc::Rc<Condition>);

impl Expression for OnEmployees {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for OnEmployees where employees::id: AppearsOnTable<QS> {}

impl<QS> SelectableExpression<QS> for OnEmployees where employees::id: SelectableExpression<QS> {}

impl ValidGrouping<()> for OnEmployees {
    type IsAggregate = diesel::expression::is_aggregate::No;
}

impl QueryId for OnEmployees {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Db> for OnEmployees {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, Db>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, backend: &Db) -> QueryResult<bool> {
        self.0.is_safe_to_cache_prepared(backend)
    }
}

/// What [`Employees::scim_lookup`] found: the caller's side — the workspace's tenant,
/// its integration and its token with the presented hash, for the caller to judge
/// (`token_store::scim::check`) — and the look-up's page, read only for a live token.
#[derive(Debug)]
pub struct ScimLookup {
    /// The workspace's tenant.
    pub tenant: Tenant,
    /// Its Okta integration.
    pub okta: OktaIntegration,
    /// The tenant's token with the presented hash, if there is one.
    pub token: Option<StoredToken>,
    /// The first page of the users the filter matches, in id order: empty unless the
    /// token is stored and not revoked.
    pub page: UserPage,
}

impl Employees<'_> {
    /// Okta's look-up (`filter=userName eq "…"`, or any filter) and the caller's
    /// credentials in one statement — the first page, in id order — where checking the
    /// token first and then reading the users would take two round trips. `None` when no
    /// tenant has this workspace name. The token is only fetched here: the caller judges
    /// it, and uses the page only if it lets the caller in.
    pub fn scim_lookup(
        &self,
        workspace: &str,
        hash: &TokenHash,
        filter: &Expr,
        limit: u64,
    ) -> Result<Option<ScimLookup>> {
        use crate::schema::{okta_integrations, scim_tokens, tenants};
        let slug = workspace.trim().to_ascii_lowercase();
        let matches = OnEmployees(std::rc::Rc::new(translate(filter)?));
        // One row per matching user, or one with no user: the workspace's tenant, and
        // its token with this hash if any; its users only with a live token.
        let mut query = tenants::table
            .inner_join(okta_integrations::table)
            .left_join(
                scim_tokens::table.on(scim_tokens::tenant_id
                    .eq(tenants::id)
                    .and(scim_tokens::token_hash.eq(hash.to_hex()))),
            )
            .left_join(
                employees::table.on(employees::tenant_id
                    .eq(tenants::id)
                    .and(scim_tokens::id.is_not_null())
                    .and(scim_tokens::revoked_at.is_null())
                    .and(matches)),
            )
            .left_join(MANAGERS.on(managing!()))
            .filter(tenants::workspace.eq(slug))
            .select((
                TenantRow::as_select(),
                IntegrationRow::as_select(),
                Option::<TokenRow>::as_select(),
                Option::<ScimUserRow>::as_select(),
                manager_names!(),
            ))
            // Boxed, like the filter inside it: the two-backend connection takes it.
            .into_boxed()
            .order(employees::id.nullable().asc())
            // At least one row, so that `count=0` still finds the caller.
            .limit(i64::try_from(limit.max(1)).unwrap_or(i64::MAX));
        if !worth_preparing(filter, UserOrder::Id) {
            query = query.filter(diesel::dsl::sql::<Bool>("TRUE"));
        }
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        type Row = (
            TenantRow,
            IntegrationRow,
            Option<TokenRow>,
            Option<ScimUserRow>,
            Option<NameRow>,
        );
        let mut caller = None;
        let mut users = Vec::new();
        for (tenant, okta, token, user, manager) in query.load::<Row>(conn)? {
            caller.get_or_insert((tenant, okta, token));
            if let Some(user) = user {
                let manager_name = manager
                    .and_then(|(display, given, family)| display_name_of(display, given, family));
                users.push(user.into_record(manager_name));
            }
        }
        let Some((tenant, okta, token)) = caller else {
            return Ok(None);
        };
        let tenant = Tenant::from(tenant);
        users.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        // A first page that is not full ends the results: its count needs no statement.
        let first = PageStart::Offset(0);
        let page = with_total(conn, &tenant.id, Some(filter), &first, limit, None, users)?;
        Ok(Some(ScimLookup {
            tenant,
            okta: okta.into(),
            token: token.map(TokenRow::into_stored).transpose()?,
            page,
        }))
    }
}
