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
//! Each key has a slot, created by the first caller (its *owner*), who computes the value with
//! no lock held and then publishes it. A caller that finds the slot still being computed waits
//! for it instead of computing the value a second time, with one exception that keeps the cache
//! free of deadlocks inside a rayon pool:
//!
//! * **No wait that would close a cycle.** Rayon threads steal work while they wait for their
//!   own parallel tasks, so the owner of a key can find itself, deeper in its own stack, running
//!   a stolen task that asks for the very key it is computing, or for a key whose owner, in turn,
//!   waits for one of its own. Every slot records its owner thread and every waiting thread the
//!   slot it waits for (a process-wide wait-for graph under one lock); before waiting, a caller
//!   follows owner → the slot that owner waits for → its owner … and if the chain comes back to
//!   itself it computes the value instead (equal to the owner's: it depends only on the key; the
//!   owner's is the one stored). Check and registration happen under the same lock, so two
//!   threads can never both decide to wait on each other.
//! * **A waiting thread helps.** While it waits it runs pending rayon tasks
//!   (`rayon::yield_now`) — typically the owner's own parallel work — and sleeps on the slot's
//!   condition variable (at most a millisecond at a time) only when there are none, so a wait
//!   costs no core. A task it runs meanwhile that waits in turn becomes its innermost wait (the
//!   one the graph follows).
//!
//! What the graph cannot see are rayon's own joins: a computation whose *parallel tasks* ask a
//! `Memo` for a key could, after work stealing, wait on a thread that waits for the join. No
//! computation in critscale does that (the parallel tasks inside cached computations are kernel
//! tiles and independent bisections, which use no `Memo`); keep it so. If an owner panics, its
//! slot is emptied and the next caller (or a waiter) computes the value.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

/// The wait-for graph of every `Memo`: slot owners and, per waiting thread, the slots it waits
/// for (innermost last).
struct Graph {
    owners: Vec<(usize, ThreadId)>,
    waits: Vec<(ThreadId, usize)>,
}

static GRAPH: Mutex<Graph> = Mutex::new(Graph {
    owners: Vec::new(),
    waits: Vec::new(),
});

/// Slot identities for the graph.
static NEXT_SLOT: AtomicUsize = AtomicUsize::new(0);

fn graph() -> MutexGuard<'static, Graph> {
    GRAPH.lock().unwrap_or_else(|e| e.into_inner())
}

impl Graph {
    fn owner(&self, slot: usize) -> Option<ThreadId> {
        self.owners
            .iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, t)| *t)
    }

    /// The slot `thread` waits for now (its innermost wait).
    fn waiting_for(&self, thread: ThreadId) -> Option<usize> {
        self.waits
            .iter()
            .rev()
            .find(|(t, _)| *t == thread)
            .map(|(_, s)| *s)
    }

    /// Whether `me` waiting for `slot` would close a cycle of waits.
    fn closes_cycle(&self, me: ThreadId, slot: usize) -> bool {
        let mut at = slot;
        // Each step moves to another thread; more steps than edges means a cycle elsewhere,
        // which cannot exist (every wait was checked), so the bound is only a guard.
        for _ in 0..=self.waits.len() {
            let Some(owner) = self.owner(at) else {
                return false;
            };
            if owner == me {
                return true;
            }
            match self.waiting_for(owner) {
                Some(next) => at = next,
                None => return false,
            }
        }
        true
    }

    fn remove_wait(&mut self, me: ThreadId, slot: usize) {
        if let Some(k) = self.waits.iter().rposition(|w| *w == (me, slot)) {
            self.waits.remove(k);
        }
    }
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
    id: usize,
    state: Mutex<State<V>>,
    changed: Condvar,
}

impl<V> Slot<V> {
    fn new(state: State<V>) -> Self {
        Slot {
            id: NEXT_SLOT.fetch_add(1, Ordering::Relaxed),
            state: Mutex::new(state),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<V>> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn set(&self, state: State<V>) {
        *self.lock() = state;
        self.changed.notify_all();
    }
}

/// The current thread as the owner of a slot while alive: registered in the graph; on drop
/// unregistered, and the slot emptied if the computation panicked (nothing was published).
struct Owner<'a, V> {
    slot: &'a Slot<V>,
    published: bool,
}

impl<'a, V> Owner<'a, V> {
    fn new(slot: &'a Slot<V>) -> Self {
        graph().owners.push((slot.id, std::thread::current().id()));
        Owner {
            slot,
            published: false,
        }
    }
}

impl<V> Drop for Owner<'_, V> {
    fn drop(&mut self) {
        {
            let mut g = graph();
            if let Some(k) = g.owners.iter().position(|(s, _)| *s == self.slot.id) {
                g.owners.remove(k);
            }
        }
        if !self.published {
            self.slot.set(State::Empty);
        }
    }
}

/// Values of type `V` by key `K` (compared with `==`; a linear search over few keys).
#[derive(Debug, Default)]
pub struct Memo<K, V> {
    entries: Mutex<Vec<(K, Arc<Slot<V>>)>>,
}

/// What a caller found for its key.
enum Found<'a, V> {
    Value(V),
    /// This caller owns the emptied slot and must compute.
    Own(Owner<'a, V>),
    /// Someone else is computing, and waiting for them could close a cycle.
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
    /// (see the module docs for the one exception: a caller whose wait would close a cycle of
    /// waits computes without waiting). `f` runs with no lock held.
    pub fn get_or_insert_with(&self, key: K, f: impl FnOnce() -> V) -> V {
        let slot = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match entries.iter().find(|(k, _)| *k == key) {
                Some((_, s)) => Arc::clone(s),
                None => {
                    let s = Arc::new(Slot::new(State::Computing));
                    // Registered as owner before the entries' lock is released, so that no
                    // caller sees the slot without its owner.
                    let owner = Owner::new(&s);
                    entries.push((key, Arc::clone(&s)));
                    drop(entries);
                    return Self::compute(owner, f);
                }
            }
        };
        let me = std::thread::current().id();
        let mut waiting = false;
        let result = loop {
            let mut state = slot.lock();
            match &*state {
                State::Done(v) => break Found::Value(v.clone()),
                State::Empty => {
                    *state = State::Computing;
                    drop(state);
                    break Found::Own(Owner::new(&slot));
                }
                State::Computing => {}
            }
            drop(state);
            if !waiting {
                let mut g = graph();
                if g.closes_cycle(me, slot.id) {
                    break Found::Busy;
                }
                g.waits.push((me, slot.id));
                waiting = true;
            }
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
        };
        if waiting {
            graph().remove_wait(me, slot.id);
        }
        match result {
            Found::Value(v) => v,
            Found::Own(owner) => Self::compute(owner, f),
            // Waiting would close a cycle: computed here, the owner's value is the one stored.
            Found::Busy => f(),
        }
    }

    /// Computes the value of an owned slot and publishes it.
    fn compute(mut owner: Owner<'_, V>, f: impl FnOnce() -> V) -> V {
        let v = f();
        owner.slot.set(State::Done(v.clone()));
        owner.published = true;
        v
    }

    /// Stores `value` under `key` unless the key is present (computed or being computed).
    pub fn insert(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.iter().any(|(k, _)| *k == key) {
            entries.push((key, Arc::new(Slot::new(State::Done(value)))));
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

    /// Many parallel callers of few keys, each value slow: every key is computed exactly once
    /// (the callers wait, helping, for the owners).
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
                        (0..1000u64).map(|v| v * (i % 4)).sum()
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
        assert!(
            graph()
                .owners
                .iter()
                .all(|(_, t)| *t != std::thread::current().id())
        );
    }
}
