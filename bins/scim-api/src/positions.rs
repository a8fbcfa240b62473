//! What the service remembers between the pages of an import, per process: result
//! counts. (Where each page of a walk starts is kept in the database, shared by every
//! replica: persistence's `PageStart::Index`.)

use std::collections::HashMap;
use std::sync::Mutex;

/// The most remembered counts, and the most bytes of their keys; past either the cache
/// starts over (a count is one query away).
const CAPACITY: usize = 10_000;
const CAPACITY_BYTES: usize = 1 << 20;

/// Remembered result counts: (tenant, query) → the count at a directory version. A
/// count is reused only while the tenant's directory version is unchanged (persistence
/// raises it with every change to the tenant's employees), so it is never stale; this
/// spares every page but the first of an import a count over the whole directory. Per
/// process: another replica counts once for itself.
#[derive(Default)]
pub struct TotalCache {
    entries: Mutex<Totals>,
}

#[derive(Default)]
struct Totals {
    by_query: HashMap<(String, String), (i64, u64)>,
    key_bytes: usize,
}

impl TotalCache {
    /// The count for this query at `version`, if known.
    pub fn get(&self, tenant: &str, query: &str, version: i64) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        match entries.by_query.get(&(tenant.to_owned(), query.to_owned())) {
            Some((at, total)) if *at == version => Some(*total),
            _ => None,
        }
    }

    /// Remembers the count of this query at `version`.
    pub fn remember(&self, tenant: &str, query: &str, version: i64, total: u64) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let bytes = tenant.len() + query.len();
        if entries.by_query.len() >= CAPACITY || entries.key_bytes + bytes > CAPACITY_BYTES {
            *entries = Totals::default();
        }
        let key = (tenant.to_owned(), query.to_owned());
        if entries.by_query.insert(key, (version, total)).is_none() {
            entries.key_bytes += bytes;
        }
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

    #[test]
    fn totals_stay_bounded_by_entries_and_bytes() {
        let totals = TotalCache::default();
        let long = "q".repeat(4_000);
        for i in 0..2_000 {
            totals.remember("t", &format!("{long}{i}"), 1, 1);
            let entries = totals.entries.lock().unwrap();
            assert!(entries.key_bytes <= CAPACITY_BYTES, "{}", entries.key_bytes);
        }
        for i in 0..(CAPACITY + 10) {
            totals.remember("t", &i.to_string(), 1, 1);
        }
        assert!(totals.entries.lock().unwrap().by_query.len() <= CAPACITY);
    }
}
