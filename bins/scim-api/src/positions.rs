//! What the service remembers between the pages of an import, per process: where each
//! page of a walk starts, and result counts. Both are caches of what the database says
//! (a miss costs a query, never a different answer), and both are bounded by entries and
//! by bytes. Where a page starts is also kept in the database, for the replica that
//! serves the next page (persistence's `PageStart::Index`); this process's memory spares
//! a walk whose pages keep landing here that read and write.

use std::time::{Duration, Instant};

use bounded_map::BoundedMap;

/// How long a remembered position is trusted (a walk normally takes minutes); the same
/// as the database's.
const POSITION_LIFETIME: Duration = Duration::from_secs(15 * 60);

/// Remembered page boundaries: (tenant, walk, startIndex) → the id the page starts
/// after, at most 10,000 of them and 2 MiB; and per walk, its [`Head`] here (at most
/// 10,000 walks and 1 MiB).
pub struct PositionCache {
    starts: BoundedMap<(String, String, u64), (String, Instant)>,
    heads: BoundedMap<(String, String), Head>,
}

/// Where a walk stands in this process.
#[derive(Clone, Copy)]
struct Head {
    /// Where the next page starts after the last page of the walk this process served.
    next: u64,
    /// The database was found not to follow this walk (no replica walks it through
    /// the database): pages this process remembers need not move the shared position
    /// on. Cleared when the walk starts again or a page resumes from the database.
    local: bool,
}

/// How a page of a walk was served, for [`PositionCache::remember`].
pub struct WalkStep {
    /// Its `startIndex` was 1: the walk (re)starts.
    pub first: bool,
    /// It resumed from the position the database kept (another replica's).
    pub from_database: bool,
    /// What moving the shared position on found (persistence's `followed_elsewhere`).
    pub followed_elsewhere: Option<bool>,
}

impl Default for PositionCache {
    fn default() -> Self {
        Self {
            starts: BoundedMap::new(10_000, 2 << 20),
            heads: BoundedMap::new(10_000, 1 << 20),
        }
    }
}

/// What this process remembers about a page of a walk.
pub struct Remembered {
    /// The id the page starts after, if this process served the page before it lately.
    pub after_id: Option<String>,
    /// Whether the walk moved on elsewhere since the last page of it served here (this
    /// page does not continue from it) while the database may be following it: then the
    /// page moves the shared position on.
    pub went_elsewhere: bool,
}

impl PositionCache {
    /// What this process remembers about the page at `start_index` of `walk`.
    pub fn get(&self, tenant: &str, walk: &str, start_index: u64) -> Remembered {
        let key = (tenant.to_owned(), walk.to_owned(), start_index);
        let after_id = self
            .starts
            .get(&key)
            .filter(|(_, at)| at.elapsed() < POSITION_LIFETIME)
            .map(|(after, _)| after);
        let (tenant, walk, _) = key;
        let went_elsewhere = after_id.is_some()
            && self
                .heads
                .get(&(tenant, walk))
                .is_none_or(|head| head.next != start_index && !head.local);
        Remembered {
            after_id,
            went_elsewhere,
        }
    }

    /// Remembers that the page at `start_index` of `walk` starts after `after_id`, and
    /// that it is the next page of the walk after the `step` just served here.
    pub fn remember(
        &self,
        tenant: &str,
        walk: &str,
        start_index: u64,
        after_id: String,
        step: &WalkStep,
    ) {
        let bytes = tenant.len() + walk.len() + after_id.len() + 64;
        let key = (tenant.to_owned(), walk.to_owned(), start_index);
        self.starts.insert(key, (after_id, Instant::now()), bytes);
        let walk_key = (tenant.to_owned(), walk.to_owned());
        let was_local = self.heads.get(&walk_key).is_some_and(|head| head.local);
        let local = match step.followed_elsewhere {
            _ if step.first || step.from_database => false,
            Some(followed) => !followed,
            None => was_local,
        };
        self.heads.insert(
            walk_key,
            Head {
                next: start_index,
                local,
            },
            tenant.len() + walk.len() + 48,
        );
    }
}

/// Remembered result counts: (tenant, query) → the count at a directory version. A
/// count is reused only while the tenant's directory version is unchanged (persistence
/// raises it with every change to the tenant's employees), so it is never stale; this
/// spares every page but the first of an import a count over the whole directory. Per
/// process: another replica counts once for itself. At most 10,000 counts and 1 MiB.
pub struct TotalCache(BoundedMap<(String, String), (i64, u64)>);

impl Default for TotalCache {
    fn default() -> Self {
        Self(BoundedMap::new(10_000, 1 << 20))
    }
}

impl TotalCache {
    /// The count for this query at `version`, if known.
    pub fn get(&self, tenant: &str, query: &str, version: i64) -> Option<u64> {
        match self.0.get(&(tenant.to_owned(), query.to_owned())) {
            Some((at, total)) if at == version => Some(total),
            _ => None,
        }
    }

    /// Remembers the count of this query at `version`.
    pub fn remember(&self, tenant: &str, query: &str, version: i64, total: u64) {
        let bytes = tenant.len() + query.len() + 32;
        self.0.insert(
            (tenant.to_owned(), query.to_owned()),
            (version, total),
            bytes,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_hold_only_at_their_version() {
        let totals = TotalCache::default();
        totals.remember("t1", "q", 7, 1_000);
        assert_eq!(totals.get("t1", "q", 7), Some(1_000));
        assert_eq!(totals.get("t1", "q", 8), None, "the directory changed");
        assert_eq!(totals.get("t1", "other", 7), None);
    }

    const PLAIN: WalkStep = WalkStep {
        first: false,
        from_database: false,
        followed_elsewhere: None,
    };

    #[test]
    fn positions_are_per_tenant_walk_and_index() {
        let positions = PositionCache::default();
        positions.remember("t1", "w", 101, "id-100".into(), &PLAIN);
        assert_eq!(
            positions.get("t1", "w", 101).after_id.as_deref(),
            Some("id-100")
        );
        assert_eq!(positions.get("t1", "w", 201).after_id, None);
        assert_eq!(positions.get("t1", "other", 101).after_id, None);
        assert_eq!(positions.get("t2", "w", 101).after_id, None);
    }

    #[test]
    fn a_remembered_page_moves_the_shared_position_on_while_the_database_follows() {
        let positions = PositionCache::default();
        // An earlier walk served page 3 here; this walk's page 1 too.
        positions.remember("t1", "w", 201, "id-200".into(), &PLAIN);
        let first = WalkStep {
            first: true,
            ..PLAIN
        };
        positions.remember("t1", "w", 101, "id-100".into(), &first);
        // Page 2 continues here: nothing to share.
        assert!(!positions.get("t1", "w", 101).went_elsewhere);
        // Page 2 went elsewhere; page 3 is known from the earlier walk: it moves the
        // shared position on.
        let page_3 = positions.get("t1", "w", 201);
        assert_eq!(page_3.after_id.as_deref(), Some("id-200"));
        assert!(page_3.went_elsewhere);
        // The database did not hold page 3's position: nobody walks this through it,
        // so remembered pages stop trying ...
        let not_followed = WalkStep {
            followed_elsewhere: Some(false),
            ..PLAIN
        };
        positions.remember("t1", "w", 301, "id-300".into(), &not_followed);
        positions.remember("t1", "w", 901, "id-900".into(), &PLAIN);
        assert!(!positions.get("t1", "w", 201).went_elsewhere);
        // ... until a page resumes from the database.
        let resumed = WalkStep {
            from_database: true,
            ..PLAIN
        };
        positions.remember("t1", "w", 401, "id-400".into(), &resumed);
        assert!(positions.get("t1", "w", 201).went_elsewhere);
        assert!(
            !positions.get("t1", "w", 401).went_elsewhere,
            "continues here"
        );
        assert!(
            !positions.get("t1", "w", 601).went_elsewhere,
            "nothing known"
        );
    }
}
