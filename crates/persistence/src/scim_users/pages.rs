//! Pages of the tenant's users: by offset, after a known id (keyset), or as a step of
//! Okta's `startIndex` walk that resumes where the page before it ended — in this
//! process, or on any replica (`scim_positions`) — and costs the same on the last page
//! as on the first. The count comes from the caller, from a page that ends the results,
//! or from one `COUNT`.

use diesel::prelude::*;
use diesel::sql_types::Text;
use scim_filter::Expr;
use scim_model::EmployeeRecord;

use super::filter_sql::filtered;
use super::query::{PageStart, Resumed, SortDirection, SortKey, UserOrder, UserPage};
use super::rows::{
    MANAGERS, NameRow, ScimUserRow, manager_names, managing, tenant_users, with_managers,
};
use crate::clock;
use crate::connection::{Db, DbConnection};
use crate::employees::Employees;
use crate::error::{Error, Result};
use crate::ids::TenantId;
use crate::keyset::{BEFORE_EVERY_ID, after_in_tenant};
use crate::names::display_name_of;
use crate::schema::employees;
use crate::scim_positions::{NextPosition, kept_after_page};
use crate::sql_functions::{spark_order_key, spark_sort_key};

impl Employees<'_> {
    /// One page of the tenant's employees as SCIM user records: those matching `filter`
    /// (all when `None`), in `order`, from `start`, at most `limit`. `known_total` skips
    /// counting when the caller knows the count for this filter at the tenant's current
    /// directory version (counting is the one part that grows with the directory).
    pub fn scim_users(
        &self,
        tenant: &TenantId,
        filter: Option<&Expr>,
        order: UserOrder,
        start: &PageStart,
        limit: u64,
        known_total: Option<u64>,
    ) -> Result<UserPage> {
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        if let PageStart::Index {
            start_index,
            walk,
            known_after,
            went_elsewhere,
        } = start
        {
            let now = clock::now();
            let offset = start_index.saturating_sub(1);
            // Where the next page starts, if this one is full: kept in the database for
            // whichever replica serves it — by the page's own statement where it can —
            // unless the walk stays with the caller (it remembered this page's start).
            let next_index = start_index.saturating_add(limit);
            let next_position = NextPosition::new(tenant, walk, next_index, now);
            let keep = (order == UserOrder::Id).then_some(&next_position);
            let by_skipping = |conn: &mut DbConnection| {
                let skipping = PageStart::Offset(offset);
                page_in(
                    conn,
                    tenant,
                    filter,
                    order,
                    &skipping,
                    limit,
                    known_total,
                    keep,
                )
                .map(|(page, kept)| (page, kept, Resumed::No))
            };
            let (mut page, kept, resumed) = match (order, known_after) {
                (UserOrder::Id, Some(after)) => {
                    let from = PageStart::AfterId(after.clone());
                    let (page, _) =
                        page_in(conn, tenant, filter, order, &from, limit, known_total, None)?;
                    (page, false, Resumed::FromCaller)
                }
                (UserOrder::Id, None) if offset > 0 => {
                    // From where another replica's page before it ended, read by the
                    // page's own query; no rows means nobody kept it (or the walk is past
                    // its end), and skipping tells which.
                    let (users, kept) = users_in(conn, tenant, filter, order, start, limit, keep)?;
                    if users.is_empty() {
                        by_skipping(conn)?
                    } else {
                        let page =
                            with_total(conn, tenant, filter, start, limit, known_total, users)?;
                        (page, kept, Resumed::FromDatabase)
                    }
                }
                _ => by_skipping(conn)?,
            };
            page.resumed = resumed;
            // Only a full page has a next one: a look-up (`userName eq`, one user in a
            // page of 100) or a walk's last page remembers nothing.
            let full = page.users.len() as u64 == limit;
            if let (UserOrder::Id, Some(last), true) = (order, page.users.last(), full) {
                // A walk that came back to the caller from other replicas moves the
                // database's position on only if it was this page's. A cache: a failed
                // write only costs the next page its keyset start.
                match (resumed, went_elsewhere) {
                    (Resumed::FromCaller, false) => {}
                    (Resumed::FromCaller, true) => {
                        page.followed_elsewhere = crate::scim_positions::advance(
                            conn,
                            tenant,
                            walk,
                            *start_index,
                            next_index,
                            &last.id,
                            now,
                        )
                        .ok();
                    }
                    _ if kept => {}
                    _ => {
                        let _ = next_position.keep(conn, &last.id);
                    }
                }
                page.next = Some((next_index, last.id.clone()));
            }
            return Ok(page);
        }
        let (page, _) = page_in(conn, tenant, filter, order, start, limit, known_total, None)?;
        Ok(page)
    }

    /// One employee as a SCIM user record, if it belongs to the tenant.
    pub fn scim_user(&self, tenant: &TenantId, id: &str) -> Result<Option<EmployeeRecord>> {
        let mut conn = self.db.conn()?;
        let conn = &mut *conn;
        let rows: Vec<ScimUserRow> = tenant_users(tenant)
            .filter(employees::id.eq(id.to_owned()))
            .select(ScimUserRow::as_select())
            .load(conn)?;
        Ok(with_managers(conn, tenant, rows)?.into_iter().next())
    }
}

/// [`Employees::scim_users`] from a start that is an offset or an id, on a connection:
/// the page first, then — only when the page cannot tell — the count; and whether the
/// page's statement kept `keep` (see [`users_in`]).
#[allow(clippy::too_many_arguments)]
fn page_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    order: UserOrder,
    start: &PageStart,
    limit: u64,
    known_total: Option<u64>,
    keep: Option<&NextPosition>,
) -> Result<(UserPage, bool)> {
    let (users, kept) = users_in(conn, tenant, filter, order, start, limit, keep)?;
    let page = with_total(conn, tenant, filter, start, limit, known_total, users)?;
    Ok((page, kept))
}

/// A page of `users` read from `start`, with the count of all that match: given, told by
/// the page itself, or counted.
pub(super) fn with_total(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    start: &PageStart,
    limit: u64,
    known_total: Option<u64>,
    users: Vec<EmployeeRecord>,
) -> Result<UserPage> {
    let served = users.len() as u64;
    let (total, counted) = match (known_total, start) {
        (Some(total), _) => (total, false),
        // A page that starts at an offset inside the results and is not full ends them:
        // the count is the offset plus the page (a look-up by userName is such a page).
        (None, PageStart::Offset(offset)) if served < limit && (served > 0 || *offset == 0) => {
            (offset + served, false)
        }
        (None, _) => {
            let total: i64 = match filter {
                Some(filter) => filtered(tenant_users(tenant), filter, UserOrder::Id)?
                    .count()
                    .get_result(conn)?,
                // All of the tenant's employees: from its range of the `(tenant_id, id)`
                // index, not the whole table (see `keyset`).
                None => employees::table
                    .filter(after_in_tenant(tenant, BEFORE_EVERY_ID.into_sql::<Text>()))
                    .count()
                    .get_result(conn)?,
            };
            (u64::try_from(total).unwrap_or_default(), true)
        }
    };
    Ok(UserPage {
        total,
        counted,
        resumed: Resumed::No,
        next: None,
        followed_elsewhere: None,
        users,
    })
}

/// The users of one page, and whether its statement also kept `keep`, where the walk's
/// next page starts (Okta's walk on PostgreSQL: see [`NextPosition::kept_by`]).
fn users_in(
    conn: &mut DbConnection,
    tenant: &TenantId,
    filter: Option<&Expr>,
    order: UserOrder,
    start: &PageStart,
    limit: u64,
    keep: Option<&NextPosition>,
) -> Result<(Vec<EmployeeRecord>, bool)> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    // Okta's import walk — no filter, id order, from an offset or after the last id
    // of the previous page — as static queries that bring each manager's name along
    // (one round trip); both backends reuse their prepared statements (a boxed query
    // is compiled to SQL anew on every call).
    if filter.is_none() && matches!(order, UserOrder::Id) {
        // The tenant's rows only, from the `(tenant_id, id)` index (see `keyset`).
        let mine = employees::table.left_join(MANAGERS.on(managing!()));
        let in_order = (employees::tenant_id.asc(), employees::id.asc());
        // A macro, not a value: the selection names its backend.
        macro_rules! select {
            () => {
                (ScimUserRow::as_select(), manager_names!())
            };
        }
        // On PostgreSQL the page's statement keeps where the next page starts, too.
        macro_rules! load_keeping {
            ($query:expr) => {{
                match (keep, &mut *conn) {
                    (Some(next), DbConnection::Postgresql(pg)) => (
                        next.kept_by($query, limit)
                            .load::<(ScimUserRow, Option<NameRow>)>(pg)?,
                        true,
                    ),
                    (_, conn) => ($query.load::<(ScimUserRow, Option<NameRow>)>(conn)?, false),
                }
            }};
        }
        let (rows, kept) = match start {
            PageStart::AfterId(after) => load_keeping!(
                mine.filter(after_in_tenant(tenant, after.as_str().into_sql::<Text>()))
                    .order(in_order)
                    .limit(limit)
                    .select(select!())
            ),
            PageStart::Offset(offset) => load_keeping!(
                mine.filter(after_in_tenant(tenant, BEFORE_EVERY_ID.into_sql::<Text>()))
                    .order(in_order)
                    .offset(i64::try_from(*offset).unwrap_or(i64::MAX))
                    .limit(limit)
                    .select(select!())
            ),
            PageStart::Index {
                start_index, walk, ..
            } => load_keeping!(
                mine.filter(after_in_tenant(
                    tenant,
                    kept_after_page(tenant, walk, *start_index),
                ))
                .order(in_order)
                .limit(limit)
                .select(select!())
            ),
        };
        let users = rows
            .into_iter()
            .map(|(row, manager)| {
                let manager_name = manager
                    .and_then(|(display, given, family)| display_name_of(display, given, family));
                row.into_record(manager_name)
            })
            .collect();
        return Ok((users, kept));
    }
    let mut page = tenant_users(tenant);
    if let Some(filter) = filter {
        page = filtered(page, filter, order)?;
    }
    page = match order {
        UserOrder::Id => page.order(employees::id.asc()),
        UserOrder::By(key, direction) => sorted(page, key, direction),
    };
    page = match (start, order) {
        (PageStart::AfterId(after), UserOrder::Id) => page.filter(employees::id.gt(after.clone())),
        (PageStart::AfterId(_), UserOrder::By(..)) => {
            return Err(Error::Invalid(
                "keyset paging follows the id order only".into(),
            ));
        }
        (PageStart::Offset(offset), _) => page.offset(i64::try_from(*offset).unwrap_or(i64::MAX)),
        // After where the walk's page before it ended, as any replica kept it.
        (
            PageStart::Index {
                start_index, walk, ..
            },
            UserOrder::Id,
        ) => page.filter(
            employees::id
                .nullable()
                .gt(kept_after_page(tenant, walk, *start_index)),
        ),
        (PageStart::Index { .. }, UserOrder::By(..)) => {
            return Err(Error::Invalid(
                "keyset paging follows the id order only".into(),
            ));
        }
    };
    let rows: Vec<ScimUserRow> = page
        .limit(limit)
        .select(ScimUserRow::as_select())
        .load(conn)?;
    Ok((with_managers(conn, tenant, rows)?, false))
}

fn sorted(
    page: employees::BoxedQuery<'static, Db>,
    key: SortKey,
    direction: SortDirection,
) -> employees::BoxedQuery<'static, Db> {
    use employees::dsl as e;
    let descending = direction == SortDirection::Descending;
    macro_rules! by {
        ($expr:expr, $nullable:expr) => {{
            let page = if $nullable {
                page.order(($expr).is_null().asc())
            } else {
                page.order(e::id.is_null().asc())
            };
            let page = if descending {
                page.then_order_by(($expr).desc())
            } else {
                page.then_order_by(($expr).asc())
            };
            page.then_order_by(e::id.asc())
        }};
    }
    match key {
        SortKey::UserName => by!(spark_order_key(e::email_key), false),
        SortKey::GivenName => by!(spark_sort_key(e::given_name), true),
        SortKey::FamilyName => by!(spark_sort_key(e::family_name), true),
        SortKey::DisplayName => by!(spark_sort_key(e::display_name), true),
        SortKey::Title => by!(spark_sort_key(e::title), true),
        SortKey::Department => by!(spark_sort_key(e::department), true),
        SortKey::EmployeeNumber => by!(spark_sort_key(e::employee_number), true),
        // externalId is case-exact; the id breaks ties either way.
        SortKey::ExternalId => by!(e::external_id, true),
        SortKey::Created => by!(e::created_at, false),
        SortKey::LastModified => by!(e::updated_at, false),
        SortKey::Active => by!(e::active, false),
    }
}
