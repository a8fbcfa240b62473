//! Where a page of one tenant's employees in id order starts ([`after_in_tenant`]), or of
//! one department's ([`after_in_department`]), written so that the database can only
//! read it from the index that leads with the scope: `(tenant_id, id)`, or `(tenant_id,
//! department, id)`.
//!
//! The plain form, `tenant_id = $1 AND id > $2 ORDER BY id`, can also be read from the
//! primary key (ids in order, other tenants' rows filtered out). PostgreSQL plans a
//! prepared statement once per connection, for no tenant in particular, and with few
//! tenants in its statistics it picks the primary key: a small workspace's page then
//! reads past every row of a big workspace whose ids follow its own, and one admin's
//! import slows every other workspace's. As a row comparison bounded by the scope,
//! `(tenant_id, id) > ($1, $2) AND (tenant_id) <= ($1)`, only the scope's index can serve
//! the range, ordered by the scope's columns and then the id (the same order within one
//! scope), and the page reads its own rows only. The scope's columns must not also be
//! compared for equality: PostgreSQL would then start its scan at the scope's first row.

use diesel::backend::Backend;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{Bool, HasSqlType, Text};
use diesel::{QueryResult, expression::is_aggregate};

use crate::ids::TenantId;
use crate::schema::employees;

/// Where a scope's first page starts: ids are never empty, so every one comes after it.
pub(crate) const BEFORE_EVERY_ID: &str = "";

/// The employees' columns a page is scoped by (leading their index), and their values.
pub(crate) trait Scope {
    /// The columns, in the index's order.
    const COLUMNS: &'static [&'static str];
    /// Their values, in the same order.
    fn values(&self) -> &[String];
}

/// One tenant's employees: the `(tenant_id, id)` index.
#[derive(Debug, Clone)]
pub(crate) struct InTenant([String; 1]);

impl Scope for InTenant {
    const COLUMNS: &'static [&'static str] = &["tenant_id"];
    fn values(&self) -> &[String] {
        &self.0
    }
}

/// One department's members: the `(tenant_id, department, id)` index.
#[derive(Debug, Clone)]
pub(crate) struct InDepartment([String; 2]);

impl Scope for InDepartment {
    const COLUMNS: &'static [&'static str] = &["tenant_id", "department"];
    fn values(&self) -> &[String] {
        &self.0
    }
}

/// The tenant's employees whose id comes after `after` (an id, or a subquery giving one:
/// none when it gives NULL). Order the page by `(tenant_id, id)`.
pub(crate) fn after_in_tenant<A>(tenant: &TenantId, after: A) -> After<InTenant, A> {
    After {
        scope: InTenant([tenant.as_str().to_owned()]),
        after,
    }
}

/// The members of the tenant's department `name` whose id comes after `after`. Order the
/// page by `(tenant_id, department, id)`.
pub(crate) fn after_in_department<A>(
    tenant: &TenantId,
    name: &str,
    after: A,
) -> After<InDepartment, A> {
    After {
        scope: InDepartment([tenant.as_str().to_owned(), name.to_owned()]),
        after,
    }
}

/// See [`after_in_tenant`] and [`after_in_department`].
#[derive(Debug, Clone)]
pub(crate) struct After<S, A> {
    scope: S,
    after: A,
}

impl<S, A> Expression for After<S, A> {
    type SqlType = Bool;
}

impl<S, A, QS> AppearsOnTable<QS> for After<S, A> where employees::id: AppearsOnTable<QS> {}

impl<S, A, QS> SelectableExpression<QS> for After<S, A> where employees::id: SelectableExpression<QS>
{}

impl<S, A> ValidGrouping<()> for After<S, A> {
    type IsAggregate = is_aggregate::No;
}

impl<S: 'static, A: QueryId> QueryId for After<S, A> {
    type QueryId = After<S, A::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = A::HAS_STATIC_QUERY_ID;
}

impl<S, A, DB> QueryFragment<DB> for After<S, A>
where
    S: Scope,
    DB: Backend + HasSqlType<Text>,
    A: QueryFragment<DB>,
    String: ToSql<Text, DB>,
{
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        // `((scope…, id) > ($scope…, after) AND (scope…) <= ($scope…))`
        out.push_sql("((");
        push_columns::<S, DB>(&mut out)?;
        out.push_sql(", ");
        push_column(&mut out, "id")?;
        out.push_sql(") > (");
        self.push_values(&mut out)?;
        out.push_sql(", ");
        self.after.walk_ast(out.reborrow())?;
        out.push_sql(") AND (");
        push_columns::<S, DB>(&mut out)?;
        out.push_sql(") <= (");
        self.push_values(&mut out)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<S: Scope, A> After<S, A> {
    /// The scope's values as bound parameters, separated by commas.
    fn push_values<'b, DB>(&'b self, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
    where
        DB: Backend + HasSqlType<Text>,
        String: ToSql<Text, DB>,
    {
        for (at, value) in self.scope.values().iter().enumerate() {
            if at > 0 {
                out.push_sql(", ");
            }
            out.push_bind_param::<Text, _>(value)?;
        }
        Ok(())
    }
}

/// The scope's columns, separated by commas.
fn push_columns<S: Scope, DB: Backend>(out: &mut AstPass<'_, '_, DB>) -> QueryResult<()> {
    for (at, column) in S::COLUMNS.iter().enumerate() {
        if at > 0 {
            out.push_sql(", ");
        }
        push_column(out, column)?;
    }
    Ok(())
}

/// `"employees"."<column>"`, quoted as the backend quotes names.
fn push_column<DB: Backend>(out: &mut AstPass<'_, '_, DB>, column: &str) -> QueryResult<()> {
    out.push_identifier("employees")?;
    out.push_sql(".");
    out.push_identifier(column)
}
