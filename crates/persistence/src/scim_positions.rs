//! Where the pages of an import walk start, shared by every replica through the
//! database: Okta imports by `startIndex=1, 101, 201, …` in id order, and after each page
//! the id its next page starts after is kept here, so the next page — whichever replica
//! serves it — continues from an index position (keyset) instead of skipping rows
//! (OFFSET). The last page of a large directory then costs what the first does.
//!
//! A cache: on PostgreSQL the table is UNLOGGED (writing it flushes no WAL; a crash
//! empties it), an entry is trusted for [`LIFETIME`], and a missing or stale one only
//! makes that page use OFFSET, which gives the same rows. A walk asks for its pages in
//! order, so only its next position is kept: one row per walk, in one of [`WALK_SLOTS`]
//! slots per tenant chosen by the walk. The table holds at most that many rows per
//! tenant, whatever filters and start indexes clients send; walks that share a slot
//! (rare: they run at once and hash alike) take turns, and a page whose position was
//! overwritten uses OFFSET.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::upsert::excluded;

use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::connection::{DbConnection, on_own_connection};
use crate::error::Result;
use crate::ids::TenantId;
use crate::prepared::Prepared;
use crate::schema::scim_page_positions as positions;

/// How long a position is trusted (a walk normally takes minutes).
pub const LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// Positions kept per tenant: walks of one tenant at once (each filter and sort order is
/// its own walk).
pub const WALK_SLOTS: u32 = 16;

/// The slot of `walk`: a stable hash of its text (FNV-1a), so every replica picks the
/// same one.
fn slot(walk: &str) -> i64 {
    let hash = walk.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    i64::from(hash % WALK_SLOTS)
}

/// The id the page at `start_index` of `walk` starts after, if a page before it was
/// served within [`LIFETIME`] — as a subquery (NULL when nobody kept it), so the page's
/// own query reads it in the same round trip.
#[diesel::dsl::auto_type]
pub(crate) fn kept_after(
    tenant: String,
    walk_slot: i64,
    walk: String,
    start_index: i64,
    now: NaiveDateTime,
) -> _ {
    positions::table
        .filter(positions::tenant_id.eq(tenant))
        .filter(positions::slot.eq(walk_slot))
        .filter(positions::walk.eq(walk))
        .filter(positions::start_index.eq(start_index))
        .filter(positions::expires_at.gt(now))
        .select(positions::after_id)
        .single_value()
}

/// [`kept_after`] for the page at `start_index` of `walk`, read now.
pub(crate) fn kept_after_page(tenant: &TenantId, walk: &str, start_index: u64) -> kept_after {
    kept_after(
        tenant.as_str().to_owned(),
        slot(walk),
        walk.to_owned(),
        index(start_index),
        crate::clock::now(),
    )
}

/// Where a walk's next page will start, to be kept for whichever replica serves it: the
/// page at `start_index`, after the last id of a full page being read now.
pub(crate) struct NextPosition {
    tenant: String,
    slot: i64,
    walk: String,
    start_index: i64,
    expires_at: NaiveDateTime,
}

impl NextPosition {
    /// The position of the page at `start_index` of `walk`, kept from `now`.
    pub(crate) fn new(tenant: &TenantId, walk: &str, start_index: u64, now: NaiveDateTime) -> Self {
        Self {
            tenant: tenant.as_str().to_owned(),
            slot: slot(walk),
            walk: walk.to_owned(),
            start_index: index(start_index),
            expires_at: now + LIFETIME,
        }
    }

    /// Keeps it — the page starts after `after_id` — in place of whatever the walk's slot
    /// held: a statement of its own.
    pub(crate) fn keep(&self, conn: &mut DbConnection, after_id: &str) -> Result<()> {
        let upsert = diesel::insert_into(positions::table)
            .values((
                positions::tenant_id.eq(&self.tenant),
                positions::slot.eq(self.slot),
                positions::walk.eq(&self.walk),
                positions::start_index.eq(self.start_index),
                positions::after_id.eq(after_id),
                positions::expires_at.eq(self.expires_at),
            ))
            .on_conflict((positions::tenant_id, positions::slot))
            .do_update()
            .set((
                positions::walk.eq(excluded(positions::walk)),
                positions::start_index.eq(excluded(positions::start_index)),
                positions::after_id.eq(excluded(positions::after_id)),
                positions::expires_at.eq(excluded(positions::expires_at)),
            ));
        on_own_connection!(conn, |c| upsert.execute(c))?;
        Ok(())
    }

    /// `page` — a query of employees in id order whose first column is the id, at most
    /// `limit` of them — that also keeps this position when it reads a full page, in the
    /// same statement (PostgreSQL: a data-modifying `WITH`): a walk that goes from
    /// replica to replica pays no round trip for it.
    pub(crate) fn kept_by<Q>(&self, page: Q, limit: i64) -> KeptBy<'_, Q> {
        KeptBy {
            page,
            limit,
            next: self,
        }
    }
}

/// A page query that keeps a [`NextPosition`]; see [`NextPosition::kept_by`].
pub(crate) struct KeptBy<'a, Q> {
    page: Q,
    limit: i64,
    next: &'a NextPosition,
}

impl<Q: QueryId> QueryId for KeptBy<'_, Q> {
    type QueryId = KeptBy<'static, Q::QueryId>;
    const HAS_STATIC_QUERY_ID: bool = Q::HAS_STATIC_QUERY_ID;
}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for KeptBy<'_, Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // The page is read once (a `WITH` query that another statement reads is
        // materialised); `max(id)` of a page in id order is its last id.
        out.push_sql("WITH page AS (");
        self.page.walk_ast(out.reborrow())?;
        out.push_sql(
            "), kept AS (INSERT INTO scim_page_positions \
             (tenant_id, slot, walk, start_index, after_id, expires_at) SELECT ",
        );
        let next = self.next;
        out.push_bind_param::<Text, _>(&next.tenant)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&next.slot)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&next.walk)?;
        out.push_sql(", ");
        out.push_bind_param::<BigInt, _>(&next.start_index)?;
        out.push_sql(", max(page.id), ");
        out.push_bind_param::<Timestamp, _>(&next.expires_at)?;
        // Only a full page has a next one (and an empty page, of `count=0`, none).
        out.push_sql(" FROM page HAVING count(*) > 0 AND count(*) = ");
        out.push_bind_param::<BigInt, _>(&self.limit)?;
        out.push_sql(
            " ON CONFLICT (tenant_id, slot) DO UPDATE SET walk = excluded.walk, \
             start_index = excluded.start_index, after_id = excluded.after_id, \
             expires_at = excluded.expires_at) SELECT * FROM page ORDER BY page.id",
        );
        Ok(())
    }

    fn is_safe_to_cache_prepared(&self, backend: &Pg) -> QueryResult<bool> {
        self.page.is_safe_to_cache_prepared(backend)
    }
}

impl<Q: Query> Query for KeptBy<'_, Q> {
    type SqlType = Q::SqlType;
}

impl<Q> RunQueryDsl<PgConnection> for KeptBy<'_, Q> {}

/// Moves the walk's slot on to `next` (its next page starts after `after_id`) only if
/// it holds the page at `from` — that is, if the walk's pages before this one were
/// served by other replicas — and says whether it did. A page served from the caller's
/// own memory uses this: it keeps a walk that alternates between replicas going, and
/// writes nothing for a page that is not part of such a walk.
pub(crate) fn advance(
    conn: &mut DbConnection,
    tenant: &TenantId,
    walk: &str,
    from: u64,
    next: u64,
    after_id: &str,
    now: NaiveDateTime,
) -> Result<bool> {
    let update = Prepared(
        diesel::update(
            positions::table
                .filter(positions::tenant_id.eq(tenant.as_str()))
                .filter(positions::slot.eq(slot(walk)))
                .filter(positions::walk.eq(walk))
                .filter(positions::start_index.eq(index(from))),
        )
        .set((
            positions::start_index.eq(index(next)),
            positions::after_id.eq(after_id),
            positions::expires_at.eq(now + LIFETIME),
        )),
    );
    let moved = on_own_connection!(conn, |c| update.execute(c))?;
    Ok(moved > 0)
}

fn index(start_index: u64) -> i64 {
    i64::try_from(start_index).unwrap_or(i64::MAX)
}
