//! [`Prepared`]: an `UPDATE` that diesel keeps as a prepared statement.
//!
//! Diesel prepares a statement once per connection when its SQL is fixed by its Rust
//! type, and never an `UPDATE`: a changeset struct with optional fields writes different
//! SQL for different values. An `UPDATE` that sets fixed columns (`.set(column.eq(v))`)
//! has one SQL text per type like any `SELECT`; wrapped in `Prepared`, PostgreSQL parses
//! and plans it once per connection instead of on every call — on the sign-in path, where
//! each statement counts. Never wrap a changeset whose columns depend on its values.
//!
//! Run it with `load` or `get_result` (an `UPDATE … RETURNING`): diesel's `execute` hands
//! the statement on by reference, and the reference asks the wrapped statement instead.

use diesel::backend::Backend;
use diesel::connection::Connection;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::{QueryResult, RunQueryDsl};

/// A statement whose SQL text is fixed by its type (see the module docs).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prepared<Q>(pub(crate) Q);

impl<Q: QueryId> QueryId for Prepared<Q> {
    type QueryId = Prepared<Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: QueryFragment<DB>, DB: Backend> QueryFragment<DB> for Prepared<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q: Query> Query for Prepared<Q> {
    type SqlType = Q::SqlType;
}

impl<Q, C: Connection> RunQueryDsl<C> for Prepared<Q> {}

#[cfg(test)]
mod tests {
    use diesel::pg::Pg;
    use diesel::prelude::*;
    use diesel::query_builder::QueryFragment;

    use super::Prepared;
    use crate::schema::employee_identities;

    #[test]
    fn an_update_of_fixed_columns_is_kept_prepared() {
        let update = diesel::update(
            employee_identities::table.filter(employee_identities::subject.eq("00u-ada")),
        )
        .set(employee_identities::last_sign_in_at.eq(chrono::NaiveDateTime::default()))
        .returning(employee_identities::employee_id);
        let kept = |query: &dyn QueryFragment<Pg>| query.is_safe_to_cache_prepared(&Pg).unwrap();
        assert!(!kept(&update), "diesel alone never keeps an UPDATE");
        assert!(kept(&Prepared(update)));
    }
}
