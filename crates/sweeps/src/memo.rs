//! A keyed once-cache: the first caller of a key computes its value, later callers get a clone.
//!
//! Used for values several checks share (the samples of [`crate::sample::sample`], the
//! unperturbed measurement of a theorem check that the suite reruns perturbed). It lives in a
//! `static` at the one call site that owns it; entries are never evicted (the keys of one run are
//! a few hundred at most), and a value depends only on its key, so the cache changes run times,
//! never results.

use std::sync::Mutex;

/// Values of type `V` by key `K` (compared with `==`; a linear search over few keys).
#[derive(Debug, Default)]
pub struct Memo<K, V> {
    entries: Mutex<Vec<(K, V)>>,
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    /// An empty cache (usable in a `static`).
    pub const fn new() -> Self {
        Memo {
            entries: Mutex::new(Vec::new()),
        }
    }

    /// The cached value of `key`, if any.
    pub fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    /// The value of `key`: the cached one, or `f()` stored and returned. `f` runs without the
    /// lock held, so two threads asking for the same new key may both compute it (the values are
    /// equal: they depend only on the key); the first stored is kept.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        if let Some(v) = self.get(&key) {
            return v;
        }
        let v = f();
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, old)) = entries.iter().find(|(k, _)| *k == key) {
            return old.clone();
        }
        entries.push((key, v.clone()));
        v
    }

    /// Stores `value` under `key` unless the key is present.
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.iter().any(|(k, _)| *k == key) {
            entries.push((key, value));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn computes_once_per_key() {
        static MEMO: Memo<u8, usize> = Memo::new();
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let f = || calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 10;
        assert_eq!(MEMO.get_or_insert_with(1, f), 10);
        assert_eq!(MEMO.get_or_insert_with(1, f), 10);
        assert_eq!(MEMO.get_or_insert_with(2, f), 11);
        assert_eq!(calls.into_inner(), 2);
        MEMO.insert(2, 99);
        assert_eq!(MEMO.get(&2), Some(11));
        assert_eq!(MEMO.get(&3), None);
    }
}
