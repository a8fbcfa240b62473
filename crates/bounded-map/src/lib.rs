//! A map shared between threads and bounded twice: by its number of entries and by
//! bytes, as the caller measures each entry. When a new entry would pass either bound
//! the map starts over — it forgets every entry, then keeps the new one.
//!
//! It is meant for caches whose every entry can be fetched again (from the database, or
//! from the network), where forgetting them all at once, rarely, costs less than
//! tracking their ages on every hit: a hit takes a shared lock and one hash look-up, and
//! never writes. An entry larger than the byte bound is never kept, so the bounds hold
//! whatever the caller inserts.
//!
//! ```
//! use bounded_map::BoundedMap;
//!
//! let tenants = BoundedMap::new(2, 1024);
//! tenants.insert("acme".to_owned(), 7, 100);
//! assert_eq!(tenants.get("acme"), Some(7));
//! tenants.insert("globex".to_owned(), 8, 100);
//! tenants.insert("initech".to_owned(), 9, 100); // a third entry: starts over
//! assert_eq!((tenants.len(), tenants.bytes()), (1, 100));
//! assert_eq!(tenants.get("acme"), None);
//! assert_eq!(tenants.get("initech"), Some(9));
//! ```
//!
//! No dependencies and no IO.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A map of at most [`max_entries`](Self::max_entries) entries taking at most
/// [`max_bytes`](Self::max_bytes), as the caller measures each entry when it inserts it;
/// when a new entry would pass either bound, the map starts over. Every method takes
/// `&self`, so one map can be shared (in an `Arc`, or a `static`).
///
/// `Debug` shows the bounds and the sizes, never the keys or values (a cache may hold
/// secrets).
pub struct BoundedMap<K, V> {
    entries: RwLock<Entries<K, V>>,
    max_entries: usize,
    max_bytes: usize,
}

/// The entries, each with the bytes it was counted for, and their sum.
struct Entries<K, V> {
    map: HashMap<K, (V, usize)>,
    bytes: usize,
}

impl<K: Hash + Eq, V> Entries<K, V> {
    fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let (value, bytes) = self.map.remove(key)?;
        self.bytes = self.bytes.saturating_sub(bytes);
        Some(value)
    }

    /// Keeps `value` under `key` (not present), counted as `bytes`, starting over first
    /// when it would pass a bound. The caller has checked that it fits an empty map.
    fn add(&mut self, key: K, value: V, bytes: usize, max_entries: usize, max_bytes: usize) {
        if self.map.len() >= max_entries || self.bytes.saturating_add(bytes) > max_bytes {
            self.map.clear();
            self.bytes = 0;
        }
        self.map.insert(key, (value, bytes));
        self.bytes += bytes;
    }
}

impl<K: Hash + Eq, V> BoundedMap<K, V> {
    /// An empty map that keeps at most `max_entries` entries and `max_bytes` bytes.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            entries: RwLock::new(Entries {
                map: HashMap::new(),
                bytes: 0,
            }),
            max_entries,
            max_bytes,
        }
    }

    /// The most entries kept.
    pub fn max_entries(&self) -> usize {
        self.max_entries
    }

    /// The most bytes kept, as the callers measured the entries.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// A copy of the value of `key`, if present.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        V: Clone,
    {
        self.get_with(key, V::clone)
    }

    /// What `read` makes of the value of `key`, if present — to look at part of a value,
    /// or decide whether it is still good, without copying all of it.
    pub fn get_with<Q, R>(&self, key: &Q, read: impl FnOnce(&V) -> R) -> Option<R>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.read().map.get(key).map(|(value, _)| read(value))
    }

    /// Sets `key` to `value`, an entry of `bytes` bytes in all (key, value and whatever
    /// else the caller counts). Starts over first when the entry would pass a bound.
    /// Returns whether the entry is kept: one larger than [`max_bytes`](Self::max_bytes)
    /// (or any, when `max_entries` is 0) is not, and then the key has no value at all —
    /// never an older one.
    pub fn insert(&self, key: K, value: V, bytes: usize) -> bool {
        let mut entries = self.write();
        entries.remove(&key);
        if !self.fits(bytes) {
            return false;
        }
        entries.add(key, value, bytes, self.max_entries, self.max_bytes);
        true
    }

    /// Runs `change` on the value of `key`, made by `make` first when there is none — an
    /// entry of `bytes` bytes, kept as [`insert`](Self::insert) would keep it (an entry
    /// keeps the size it was made with). The look-up and the change are one step for
    /// every thread. When the new entry cannot be kept, `change` runs on the made value,
    /// which is then dropped.
    pub fn update<Q, R>(
        &self,
        key: &Q,
        bytes: usize,
        make: impl FnOnce() -> V,
        change: impl FnOnce(&mut V) -> R,
    ) -> R
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let mut entries = self.write();
        if let Some((value, _)) = entries.map.get_mut(key) {
            return change(value);
        }
        let mut value = make();
        if !self.fits(bytes) {
            return change(&mut value);
        }
        let key = key.to_owned();
        let result = change(&mut value);
        entries.add(key, value, bytes, self.max_entries, self.max_bytes);
        result
    }

    /// Forgets `key`; returns its value, if it had one.
    pub fn remove<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.write().remove(key)
    }

    /// Forgets every entry.
    pub fn clear(&self) {
        let mut entries = self.write();
        entries.map.clear();
        entries.bytes = 0;
    }

    /// How many entries the map holds now.
    pub fn len(&self) -> usize {
        self.read().map.len()
    }

    /// Whether the map holds no entry.
    pub fn is_empty(&self) -> bool {
        self.read().map.is_empty()
    }

    /// The bytes of the entries held now, as the callers measured them.
    pub fn bytes(&self) -> usize {
        self.read().bytes
    }

    /// Whether an entry of `bytes` fits the map when it is empty.
    fn fits(&self, bytes: usize) -> bool {
        self.max_entries > 0 && bytes <= self.max_bytes
    }

    // A thread that panicked while holding the lock left the entries and their sum
    // consistent (every change of both happens with no caller code in between), so the
    // map stays usable.
    fn read(&self) -> RwLockReadGuard<'_, Entries<K, V>> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries<K, V>> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<K, V> std::fmt::Debug for BoundedMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("BoundedMap")
            .field("entries", &entries.map.len())
            .field("bytes", &entries.bytes)
            .field("max_entries", &self.max_entries)
            .field("max_bytes", &self.max_bytes)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The map's own count of bytes agrees with its entries, and both bounds hold.
    fn assert_within_bounds<K: Hash + Eq, V>(map: &BoundedMap<K, V>) {
        let entries = map.read();
        let counted: usize = entries.map.values().map(|(_, bytes)| bytes).sum();
        assert_eq!(entries.bytes, counted, "the byte count drifted");
        assert!(
            entries.map.len() <= map.max_entries && entries.bytes <= map.max_bytes,
            "{} entries, {} bytes",
            entries.map.len(),
            entries.bytes
        );
    }

    #[test]
    fn a_bounded_map_stays_within_its_entries_and_bytes() {
        let map = BoundedMap::new(100, 10_000);
        for i in 0..1_000 {
            map.insert(i, i, 1 + (i % 7) * 100);
            assert_within_bounds(&map);
        }
        map.insert(5_000, 1, 10);
        map.insert(5_000, 2, 20);
        assert_eq!(map.get(&5_000), Some(2));
        assert!(map.bytes() >= 20);
    }

    #[test]
    fn a_hit_returns_the_value_last_inserted() {
        let map = BoundedMap::new(10, 1_000);
        assert_eq!(map.get("a"), None);
        assert!(map.insert("a".to_owned(), vec![1, 2, 3], 50));
        assert!(map.insert("b".to_owned(), vec![4], 50));
        assert_eq!(map.get("a"), Some(vec![1, 2, 3]));
        assert_eq!(map.get_with("a", Vec::len), Some(3));
        assert!(map.insert("a".to_owned(), vec![9], 10));
        assert_eq!(map.get("a"), Some(vec![9]));
        assert_eq!(map.get("b"), Some(vec![4]));
        assert_eq!(
            (map.len(), map.bytes()),
            (2, 60),
            "a replaced entry is recounted"
        );
    }

    #[test]
    fn one_entry_too_many_starts_over() {
        let map = BoundedMap::new(3, 1_000);
        for key in 0..3 {
            map.insert(key, key, 1);
        }
        assert_eq!(map.len(), 3);
        // Replacing a present key adds no entry.
        map.insert(2, 20, 1);
        assert_eq!(map.len(), 3);
        assert_eq!(map.get(&0), Some(0));
        // A fourth key does.
        map.insert(3, 3, 1);
        assert_eq!((map.len(), map.bytes()), (1, 1));
        assert_eq!(map.get(&0), None);
        assert_eq!(map.get(&3), Some(3));
    }

    #[test]
    fn one_byte_too_many_starts_over() {
        let map = BoundedMap::new(100, 100);
        map.insert(1, 'a', 60);
        map.insert(2, 'b', 40);
        assert_eq!((map.len(), map.bytes()), (2, 100), "exactly full is within");
        map.insert(3, 'c', 1);
        assert_eq!((map.len(), map.bytes()), (1, 1));
        assert_eq!(map.get(&1), None);
        assert_eq!(map.get(&3), Some('c'));
    }

    #[test]
    fn an_entry_larger_than_the_bound_is_not_kept_nor_its_old_value() {
        let map = BoundedMap::new(10, 100);
        assert!(map.insert("k", 1, 10));
        assert!(map.insert("other", 2, 10));
        assert!(!map.insert("k", 3, 101));
        assert_eq!(map.get("k"), None, "no stale value either");
        assert_eq!(map.get("other"), Some(2), "and nothing else is forgotten");
        assert_eq!((map.len(), map.bytes()), (1, 10));
        assert!(!map.insert("huge", 4, usize::MAX));
        assert_within_bounds(&map);
    }

    #[test]
    fn a_map_of_no_entries_keeps_none() {
        let map = BoundedMap::new(0, 100);
        assert!(!map.insert(1, 1, 1));
        assert_eq!(map.update(&1, 1, || 5, |value| *value), 5);
        assert!(map.is_empty());
    }

    #[test]
    fn update_changes_a_value_in_place_and_makes_a_missing_one() {
        let map: BoundedMap<String, u32> = BoundedMap::new(2, 100);
        let count = |key: &str| map.update(key, 10, || 0, |n| std::mem::replace(n, *n + 1));
        assert_eq!(count("a"), 0);
        assert_eq!(count("a"), 1);
        assert_eq!(count("b"), 0);
        assert_eq!(map.get("a"), Some(2));
        assert_eq!((map.len(), map.bytes()), (2, 20));
        // A third key starts over, like an insert.
        assert_eq!(count("c"), 0);
        assert_eq!((map.len(), map.bytes()), (1, 10));
        assert_eq!(map.get("a"), None);
        assert_eq!(map.get("c"), Some(1));
        // An entry too large to keep: the change runs on a value that is then dropped.
        assert_eq!(map.update("d", 101, || 7, |n| *n), 7);
        assert_eq!(map.get("d"), None);
        assert_eq!(map.get("c"), Some(1));
    }

    #[test]
    fn remove_and_clear_give_back_the_bytes() {
        let map = BoundedMap::new(10, 100);
        map.insert(1, "one", 30);
        map.insert(2, "two", 20);
        assert_eq!(map.remove(&1), Some("one"));
        assert_eq!(map.remove(&1), None);
        assert_eq!((map.len(), map.bytes()), (1, 20));
        map.clear();
        assert!(map.is_empty());
        assert_eq!(map.bytes(), 0);
    }

    #[test]
    fn the_bounds_hold_over_any_mix_of_operations() {
        let map = BoundedMap::new(50, 2_000);
        // A fixed pseudo-random sequence (xorshift), so a failure repeats.
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let key = next() % 80;
            let bytes = usize::try_from(next() % 150).unwrap();
            match next() % 4 {
                0 | 1 => {
                    if map.insert(key, bytes, bytes) {
                        assert_eq!(
                            map.get(&key),
                            Some(bytes),
                            "an insert that is kept is a hit"
                        );
                    }
                }
                2 => {
                    map.update(&key, bytes, || 0, |value| *value += 1);
                }
                _ => {
                    map.remove(&key);
                    assert_eq!(map.get(&key), None);
                }
            }
            assert_within_bounds(&map);
        }
    }

    #[test]
    fn threads_share_one_map_within_its_bounds() {
        let map = BoundedMap::new(64, 4_096);
        std::thread::scope(|scope| {
            for thread in 0..4_u64 {
                let map = &map;
                scope.spawn(move || {
                    for i in 0..2_000_u64 {
                        let key = thread * 10_000 + i % 100;
                        map.insert(key, i, 48);
                        map.update(&(key + 1), 16, || 0, |value| *value += 1);
                        let _ = map.get(&key);
                    }
                });
            }
        });
        assert_within_bounds(&map);
        assert!(!map.is_empty());
    }

    #[test]
    fn debug_shows_sizes_not_contents() {
        let map = BoundedMap::new(10, 100);
        map.insert("token", "hunter2", 20);
        let shown = format!("{map:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("token"),
            "{shown}"
        );
        assert!(shown.contains("bytes: 20"), "{shown}");
    }
}
