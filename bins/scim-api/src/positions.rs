//! What the service remembers between the pages of an import, so that each page costs
//! the same however large the directory is.
//!
//! **Positions.** Sequential `startIndex` paging is made as cheap as a cursor. Okta imports by asking for
//! `startIndex=1, 101, 201, …` in id order; after serving a page, the service remembers
//! the id its next page starts after, so the next request continues from an index
//! position (keyset) instead of skipping rows (OFFSET), and the last page of a large
//! directory costs what the first does. A miss (another replica served the previous
//! page, or the entry was evicted) falls back to OFFSET, which gives the same rows.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The most remembered positions; when full, the oldest half is dropped.
const CAPACITY: usize = 10_000;
/// How long a position is trusted (a page sequence normally takes minutes).
const LIFETIME: Duration = Duration::from_secs(15 * 60);

#[derive(Hash, PartialEq, Eq, Clone)]
struct Key {
    tenant: String,
    query: String,
    start_index: u64,
}

/// Remembered page boundaries: (tenant, query, startIndex) → the id before that index.
#[derive(Default)]
pub struct PositionCache {
    entries: Mutex<HashMap<Key, (String, Instant)>>,
}

impl PositionCache {
    /// The id the page at `start_index` starts after, if known.
    pub fn get(&self, tenant: &str, query: &str, start_index: u64) -> Option<String> {
        let entries = self.entries.lock().ok()?;
        let key = Key {
            tenant: tenant.to_owned(),
            query: query.to_owned(),
            start_index,
        };
        entries
            .get(&key)
            .filter(|(_, at)| at.elapsed() < LIFETIME)
            .map(|(id, _)| id.clone())
    }

    /// Remembers that the page at `start_index` starts after `after_id`.
    pub fn remember(&self, tenant: &str, query: &str, start_index: u64, after_id: String) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            let mut ages: Vec<Instant> = entries.values().map(|(_, at)| *at).collect();
            ages.sort();
            let cutoff = ages.get(ages.len() / 2).copied();
            entries.retain(|_, (_, at)| Some(*at) > cutoff);
        }
        let key = Key {
            tenant: tenant.to_owned(),
            query: query.to_owned(),
            start_index,
        };
        entries.insert(key, (after_id, Instant::now()));
    }
}

/// Remembered result counts: (tenant, query) → the count at a directory version. A
/// count is reused only while the tenant's directory version is unchanged (persistence
/// raises it with every change to the tenant's employees), so it is never stale; this
/// spares every page but the first of an import a count over the whole directory.
#[derive(Default)]
pub struct TotalCache {
    entries: Mutex<HashMap<(String, String), (i64, u64)>>,
}

impl TotalCache {
    /// The count for this query at `version`, if known.
    pub fn get(&self, tenant: &str, query: &str, version: i64) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        match entries.get(&(tenant.to_owned(), query.to_owned())) {
            Some((at, total)) if *at == version => Some(*total),
            _ => None,
        }
    }

    /// Remembers the count of this query at `version`.
    pub fn remember(&self, tenant: &str, query: &str, version: i64, total: u64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert((tenant.to_owned(), query.to_owned()), (version, total));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_tenant_query_and_index() {
        let cache = PositionCache::default();
        cache.remember("t1", "q", 101, "id-100".into());
        assert_eq!(cache.get("t1", "q", 101).as_deref(), Some("id-100"));
        assert_eq!(cache.get("t2", "q", 101), None);
        assert_eq!(cache.get("t1", "other", 101), None);
        assert_eq!(cache.get("t1", "q", 201), None);
    }

    #[test]
    fn totals_hold_only_at_their_version() {
        let totals = TotalCache::default();
        totals.remember("t1", "q", 7, 1_000);
        assert_eq!(totals.get("t1", "q", 7), Some(1_000));
        assert_eq!(totals.get("t1", "q", 8), None, "the directory changed");
        assert_eq!(totals.get("t1", "other", 7), None);
    }

    #[test]
    fn stays_bounded() {
        let cache = PositionCache::default();
        for i in 0..(CAPACITY as u64 + 10) {
            cache.remember("t", "q", i, i.to_string());
        }
        assert!(cache.entries.lock().unwrap().len() <= CAPACITY);
    }
}
