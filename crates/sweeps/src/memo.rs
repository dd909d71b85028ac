//! A keyed once-cache: the first caller of a key computes its value, later callers get a clone.
//!
//! Used for values several checks share (the samples of [`crate::sample::sample`], the
//! unperturbed measurement of a theorem check that the suite reruns perturbed). It lives in a
//! `static` at the one call site that owns it; entries are never evicted (the keys of one run are
//! a few hundred at most), and a value depends only on its key, so the cache changes run times,
//! never results.
//!
//! # Once per key, without deadlock under rayon
//!
//! Each key has a slot, created by the first caller (the *owner*), who computes the value with
//! no lock held and then publishes it. A caller that finds the slot still being computed waits
//! for it instead of computing the value a second time — with one exception, which is what makes
//! the cache safe inside a rayon pool:
//!
//! * **A thread that is computing a value of any `Memo` never waits.** Rayon threads steal work
//!   while they wait for their own parallel tasks, so the owner of a key can find itself, deeper
//!   in its own stack, running a stolen task that asks for the very key it is computing (or for a
//!   key whose owner, in turn, waits on it). Waiting there could never end; such a thread
//!   computes the value itself instead (equal to the owner's: it depends only on the key) and
//!   the owner's stays the one stored. A thread-local depth counts the values a thread is
//!   computing.
//! * **A waiting thread helps.** While it waits it runs pending rayon tasks
//!   (`rayon::yield_now`) — typically the owner's own parallel work — and sleeps on the slot's
//!   condition variable (at most a millisecond at a time) only when there are none, so a wait
//!   costs no core. Tasks it runs while waiting may become owners of other keys; they never wait
//!   for anything below them on this thread's stack, which holds no value being computed
//!   (otherwise the thread would not be waiting).
//!
//! Waits therefore only ever go from a thread that computes nothing to a thread that computes
//! and never waits in a `Memo`: no cycle of waits can form. The one thing the cache cannot
//! prevent is a key whose computation asks for itself, which would be infinite recursion in any
//! case. If an owner panics, its slot is emptied and the next caller (or a waiter) computes the
//! value.

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

thread_local! {
    /// How many `Memo` values this thread is computing (nested owners on its stack).
    static COMPUTING: Cell<usize> = const { Cell::new(0) };
}

/// The state of one key.
#[derive(Debug)]
enum State<V> {
    /// An owner is computing the value.
    Computing,
    /// The value.
    Done(V),
    /// The owner panicked: the next caller computes.
    Empty,
}

/// One key's state and the condition its waiters sleep on.
#[derive(Debug)]
struct Slot<V> {
    state: Mutex<State<V>>,
    changed: Condvar,
}

impl<V> Slot<V> {
    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, state: State<V>) {
        *self.lock() = state;
        self.changed.notify_all();
    }
}

/// Marks the current thread as computing a value while alive; empties the slot if the
/// computation panics (the value was not published).
struct Owner<'a, V> {
    slot: &'a Slot<V>,
    published: bool,
}

impl<'a, V> Owner<'a, V> {
    fn new(slot: &'a Slot<V>) -> Self {
        COMPUTING.with(|c| c.set(c.get() + 1));
        Owner {
            slot,
            published: false,
        }
    }
}

impl<V> Drop for Owner<'_, V> {
    fn drop(&mut self) {
        COMPUTING.with(|c| c.set(c.get() - 1));
        if !self.published {
            self.slot.set(State::Empty);
        }
    }
}

/// Runs `f` counted as a computation of the current thread (for the no-wait rule).
fn computing<R>(f: impl FnOnce() -> R) -> R {
    struct Depth;
    impl Drop for Depth {
        fn drop(&mut self) {
            COMPUTING.with(|c| c.set(c.get() - 1));
        }
    }
    COMPUTING.with(|c| c.set(c.get() + 1));
    let _depth = Depth;
    f()
}

/// Values of type `V` by key `K` (compared with `==`; a linear search over few keys).
#[derive(Debug, Default)]
pub struct Memo<K, V> {
    entries: Mutex<Vec<(K, Arc<Slot<V>>)>>,
}

/// What a caller found for its key.
enum Found<V> {
    Value(V),
    /// This caller owns the (new or emptied) slot and must compute.
    Own,
    /// Someone else is computing.
    Busy,
}

impl<K: PartialEq, V: Clone> Memo<K, V> {
    /// An empty cache (usable in a `static`).
    pub const fn new() -> Self {
        Memo {
            entries: Mutex::new(Vec::new()),
        }
    }

    fn slot(&self, key: &K) -> Option<Arc<Slot<V>>> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, s)| Arc::clone(s))
    }

    /// The cached value of `key`, if it has been computed (a value being computed is `None`).
    pub fn get(&self, key: &K) -> Option<V> {
        match &*self.slot(key)?.lock() {
            State::Done(v) => Some(v.clone()),
            _ => None,
        }
    }

    /// The value of `key`: the cached one, or `f()` stored and returned, computed once per key
    /// (see the module docs for the one exception, a nested request on a thread that is itself
    /// computing a `Memo` value, which computes without waiting). `f` runs with no lock held.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match entries.iter().find(|(k, _)| *k == key) {
                Some((_, s)) => Arc::clone(s),
                None => {
                    let s = Arc::new(Slot {
                        state: Mutex::new(State::Computing),
                        changed: Condvar::new(),
                    });
                    entries.push((key, Arc::clone(&s)));
                    drop(entries);
                    return Self::compute(&s, f);
                }
            }
        };
        loop {
            let found = {
                let mut state = slot.lock();
                match &*state {
                    State::Done(v) => Found::Value(v.clone()),
                    State::Empty => {
                        *state = State::Computing;
                        Found::Own
                    }
                    State::Computing => Found::Busy,
                }
            };
            match found {
                Found::Value(v) => return v,
                Found::Own => return Self::compute(&slot, f),
                Found::Busy if COMPUTING.with(Cell::get) > 0 => return computing(f),
                Found::Busy => {
                    // Help: run a pending rayon task, or sleep briefly when there is none.
                    if !matches!(rayon::yield_now(), Some(rayon::Yield::Executed)) {
                        let state = slot.lock();
                        if matches!(*state, State::Computing) {
                            drop(
                                slot.changed
                                    .wait_timeout(state, Duration::from_millis(1))
                                    .unwrap_or_else(|e| e.into_inner()),
                            );
                        }
                    }
                }
            }
        }
    }

    /// Computes the value of an owned slot and publishes it.
    fn compute(slot: &Slot<V>, f: impl FnOnce() -> V) -> V {
        let mut owner = Owner::new(slot);
        let v = f();
        slot.set(State::Done(v.clone()));
        owner.published = true;
        v
    }

    /// Stores `value` under `key` unless the key is present (computed or being computed).
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.iter().any(|(k, _)| *k == key) {
            let slot = Slot {
                state: Mutex::new(State::Done(value)),
                changed: Condvar::new(),
            };
            entries.push((key, Arc::new(slot)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rayon::prelude::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn computes_once_per_key() {
        static MEMO: Memo<u8, usize> = Memo::new();
        let calls = AtomicUsize::new(0);
        let f = || calls.fetch_add(1, Ordering::Relaxed) + 10;
        assert_eq!(MEMO.get_or_insert_with(1, f), 10);
        assert_eq!(MEMO.get_or_insert_with(1, f), 10);
        assert_eq!(MEMO.get_or_insert_with(2, f), 11);
        assert_eq!(calls.into_inner(), 2);
        MEMO.insert(2, 99);
        assert_eq!(MEMO.get(&2), Some(11));
        assert_eq!(MEMO.get(&3), None);
    }

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
    }

    /// Many parallel callers of few keys, each value slow and itself parallel: every key is
    /// computed exactly once (no caller here is nested inside another computation).
    #[test]
    fn concurrent_callers_share_one_computation() {
        let memo: Memo<u64, u64> = Memo::new();
        let calls = AtomicUsize::new(0);
        let out: Vec<u64> = pool(4).install(|| {
            (0..64u64)
                .into_par_iter()
                .map(|i| {
                    memo.get_or_insert_with(i % 4, || {
                        calls.fetch_add(1, Ordering::Relaxed);
                        std::thread::sleep(Duration::from_millis(20));
                        (0..1000u64).into_par_iter().map(|v| v * (i % 4)).sum()
                    })
                })
                .collect()
        });
        assert_eq!(calls.into_inner(), 4);
        for (i, v) in out.iter().enumerate() {
            assert_eq!(*v, 499_500 * (i as u64 % 4));
        }
    }

    /// Computations whose parallel work steals tasks that ask for keys in progress (the same
    /// key, and two keys asking for each other's owners' keys): everything finishes, with the
    /// right values, on pools of 1 to 3 threads.
    #[test]
    fn nested_requests_under_work_stealing_do_not_deadlock() {
        for threads in 1..=3 {
            let memo: Memo<u64, u64> = Memo::new();
            let calls = AtomicUsize::new(0);
            let value = |k: u64| -> u64 {
                memo.get_or_insert_with(k, || {
                    calls.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(Duration::from_millis(2));
                    // Parallel work inside the computation: the waiting owner steals the
                    // outer tasks below, which ask for keys being computed.
                    (0..8u64).into_par_iter().map(|v| v + k).sum()
                })
            };
            let out: Vec<u64> = pool(threads).install(|| {
                (0..48u64)
                    .into_par_iter()
                    .map(|i| value(i % 3) + value((i + 1) % 3))
                    .collect()
            });
            for (i, v) in out.iter().enumerate() {
                let i = i as u64;
                assert_eq!(*v, 28 + 8 * (i % 3) + 28 + 8 * ((i + 1) % 3));
            }
            assert!(calls.into_inner() >= 3);
            for k in 0..3 {
                assert_eq!(memo.get(&k), Some(28 + 8 * k));
            }
        }
    }

    /// A panicking owner leaves the key to the next caller.
    #[test]
    fn a_panicking_owner_empties_the_slot() {
        let memo: Memo<u8, u8> = Memo::new();
        let hit = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            memo.get_or_insert_with(1, || panic!("deliberate"))
        }));
        assert!(hit.is_err());
        assert_eq!(memo.get(&1), None);
        assert_eq!(memo.get_or_insert_with(1, || 7), 7);
        assert_eq!(COMPUTING.with(Cell::get), 0);
    }
}
