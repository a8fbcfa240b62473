//! Where the pages of an import walk start, shared by every replica through the
//! database: Okta imports by `startIndex=1, 101, 201, …` in id order, and after each page
//! the id its next page starts after is kept here, so the next page — whichever replica
//! serves it — continues from an index position (keyset) instead of skipping rows
//! (OFFSET). The last page of a large directory then costs what the first does.
//!
//! A cache: on PostgreSQL the table is UNLOGGED (writing it flushes no WAL; a crash
//! empties it), an entry is trusted for [`LIFETIME`], and a missing or stale one only
//! makes that page use OFFSET, which gives the same rows. One row per (tenant, walk,
//! index): the next import overwrites it, so the table holds at most one row per page
//! of each directory.

use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::connection::{DbConnection, on_own_connection};
use crate::error::Result;
use crate::schema::scim_page_positions as positions;
use crate::tenants::TenantId;

/// How long a position is trusted (a walk normally takes minutes).
pub const LIFETIME: TimeDelta = TimeDelta::minutes(15);

/// The id the page at `start_index` of `walk` starts after, if a page before it was
/// served within [`LIFETIME`].
pub(crate) fn find(
    conn: &mut DbConnection,
    tenant: &TenantId,
    walk: &str,
    start_index: u64,
    now: NaiveDateTime,
) -> Result<Option<String>> {
    Ok(positions::table
        .filter(positions::tenant_id.eq(tenant.as_str()))
        .filter(positions::walk.eq(walk))
        .filter(positions::start_index.eq(index(start_index)))
        .filter(positions::expires_at.gt(now))
        .select(positions::after_id)
        .first(conn)
        .optional()?)
}

/// Remembers that the page at `start_index` of `walk` starts after `after_id`.
pub(crate) fn remember(
    conn: &mut DbConnection,
    tenant: &TenantId,
    walk: &str,
    start_index: u64,
    after_id: &str,
    now: NaiveDateTime,
) -> Result<()> {
    let expires_at = now + LIFETIME;
    let upsert = diesel::insert_into(positions::table)
        .values((
            positions::tenant_id.eq(tenant.as_str()),
            positions::walk.eq(walk),
            positions::start_index.eq(index(start_index)),
            positions::after_id.eq(after_id),
            positions::expires_at.eq(expires_at),
        ))
        .on_conflict((
            positions::tenant_id,
            positions::walk,
            positions::start_index,
        ))
        .do_update()
        .set((
            positions::after_id.eq(excluded(positions::after_id)),
            positions::expires_at.eq(excluded(positions::expires_at)),
        ));
    on_own_connection!(conn, |c| upsert.execute(c))?;
    Ok(())
}

fn index(start_index: u64) -> i64 {
    i64::try_from(start_index).unwrap_or(i64::MAX)
}
