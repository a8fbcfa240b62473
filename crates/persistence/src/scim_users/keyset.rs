//! [`after_in_tenant`]: where a page of one tenant's employees in id order starts, written
//! so that the database can only read it from the `(tenant_id, id)` index.
//!
//! The plain form, `tenant_id = $1 AND id > $2 ORDER BY id`, can also be read from the
//! primary key (ids in order, other tenants' rows filtered out). PostgreSQL plans a
//! prepared statement once per connection, for no tenant in particular, and with few
//! tenants in its statistics it picks the primary key: a small workspace's page then
//! reads past every row of a big workspace whose ids follow its own, and one admin's
//! import slows every other workspace's. As a row comparison bounded by the tenant,
//! `(tenant_id, id) > ($1, $2) AND tenant_id <= $1`, only that index can serve the range,
//! ordered by `(tenant_id, id)` (the same order within one tenant), and the page reads
//! its own rows only.

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};
use diesel::{QueryResult, expression::is_aggregate};

use crate::ids::TenantId;
use crate::schema::employees;

/// The tenant's employees whose id comes after `after` (an id, or a subquery giving one:
/// none when it gives NULL), as a condition only the `(tenant_id, id)` index serves.
/// Order the page by `(tenant_id, id)`.
pub(super) fn after_in_tenant<A>(tenant: &TenantId, after: A) -> AfterInTenant<A> {
    AfterInTenant {
        tenant: tenant.as_str().to_owned(),
        after,
    }
}

/// See [`after_in_tenant`].
#[derive(Debug, Clone)]
pub(super) struct AfterInTenant<A> {
    tenant: String,
    after: A,
}

impl<A> Expression for AfterInTenant<A> {
    type SqlType = Bool;
}

impl<A, QS> AppearsOnTable<QS> for AfterInTenant<A> where employees::id: AppearsOnTable<QS> {}

impl<A, QS> SelectableExpression<QS> for AfterInTenant<A> where
    employees::id: SelectableExpression<QS>
{
}

impl<A> ValidGrouping<()> for AfterInTenant<A> {
    type IsAggregate = is_aggregate::No;
}

impl<A: QueryId> QueryId for AfterInTenant<A> {
    type QueryId = AfterInTenant<A::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = A::HAS_STATIC_QUERY_ID;
}

impl<A, DB> QueryFragment<DB> for AfterInTenant<A>
where
    DB: Backend + HasSqlType<Text>,
    A: QueryFragment<DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql("((");
        push_column(&mut out, "tenant_id")?;
        out.push_sql(", ");
        push_column(&mut out, "id")?;
        out.push_sql(") > (");
        out.push_bind_param::<Text, _>(&self.tenant)?;
        out.push_sql(", ");
        self.after.walk_ast(out.reborrow())?;
        out.push_sql(") AND ");
        push_column(&mut out, "tenant_id")?;
        out.push_sql(" <= ");
        out.push_bind_param::<Text, _>(&self.tenant)?;
        out.push_sql(")");
        Ok(())
    }
}

/// `"employees"."<column>"`, quoted as the backend quotes names.
fn push_column<DB: Backend>(out: &mut AstPass<'_, '_, DB>, column: &str) -> QueryResult<()> {
    out.push_identifier("employees")?;
    out.push_sql(".");
    out.push_identifier(column)
}
