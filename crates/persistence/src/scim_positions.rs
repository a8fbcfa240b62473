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

use crate::connection::{DbConnection, on_own_connection};
use crate::error::Result;
use crate::prepared::Prepared;
use crate::schema::scim_page_positions as positions;
use crate::tenants::TenantId;

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
        .filter(positions::slot.eq(slot(walk)))
        .filter(positions::walk.eq(walk))
        .filter(positions::start_index.eq(index(start_index)))
        .filter(positions::expires_at.gt(now))
        .select(positions::after_id)
        .first(conn)
        .optional()?)
}

/// Remembers that the page at `start_index` of `walk` — its next one — starts after
/// `after_id`, in place of whatever the walk's slot held.
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
            positions::slot.eq(slot(walk)),
            positions::walk.eq(walk),
            positions::start_index.eq(index(start_index)),
            positions::after_id.eq(after_id),
            positions::expires_at.eq(expires_at),
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
