//! A family's children, kept for lookups by label values and for scrapes in creation order.
//!
//! One [`Table`] holds them: the children in the order they were created, and an index
//! over them, an open-addressing hash table whose slots give a child's position with 32
//! bits of its hash. A lookup probes the index and compares the label values whole; it
//! takes no lock and writes nothing that other threads read. Creating and removing a
//! child take the writer's lock, and so do the rebuilds that grow a full table or drop
//! the holes that removals leave: a rebuilt table replaces the old one at once. What a
//! lookup or a scrape may still be reading (a replaced table, a removed child) is freed
//! once no one can be, by `seize`, the reclaimer that `papaya` is built on.

use core::marker::PhantomData;
use core::ptr;
use std::sync::atomic::{AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use seize::{Collector, Guard, LocalGuard};

use crate::reclaim::collector;

use super::key::{packs, unpack, ValueHasher};
use super::ChildInner;
use core::hash::Hasher;

/// The children of a family.
pub(super) struct Store<M> {
    /// The current table; replaced whole by a rebuild.
    table: AtomicPtr<Table<M>>,
    /// Held to change the table: the number of children in it.
    writer: Mutex<usize>,
    /// The number of children, for [`len`](Self::len) without the lock.
    live: AtomicUsize,
    hasher: ValueHasher,
    /// The table owns a strong count of each child: `Store` is `Send` and `Sync` as
    /// `Arc<ChildInner<M>>` is.
    _children: PhantomData<Arc<ChildInner<M>>>,
}

struct Table<M> {
    /// The index: 0 in an empty slot, else the hash's high 32 bits above the child's
    /// position + 1. A slot is never emptied; one whose child was removed leads nowhere.
    slots: Box<[AtomicU64]>,
    /// The children in creation order, each an `Arc` given up to a raw pointer; null where
    /// one was removed.
    children: Box<[AtomicPtr<ChildInner<M>>]>,
    /// How many positions are taken; those below are published.
    len: AtomicUsize,
}

/// The fewest children a table has room for.
const SMALLEST: usize = 4;

impl<M> Table<M> {
    /// An empty table with room for `capacity` children (a power of two), and twice as
    /// many slots, so that at least half of them stay empty and every probe ends.
    fn with_capacity(capacity: usize) -> Self {
        debug_assert!(capacity.is_power_of_two());
        assert!(
            u32::try_from(capacity).is_ok(),
            "a family holds fewer than 2^32 label sets"
        );
        Table {
            slots: (0..2 * capacity).map(|_| AtomicU64::new(0)).collect(),
            children: (0..capacity).map(|_| AtomicPtr::default()).collect(),
            len: AtomicUsize::new(0),
        }
    }

    /// The child whose packed values are `values`, probing from `hash`. `load` reads a
    /// child's pointer: protected by a guard in a lookup, plainly under the writer's lock.
    #[allow(clippy::inline_always)] // a separate call in the lookup profile otherwise
    #[inline(always)] // the whole of a lookup
    fn find<const N: usize>(
        &self,
        hash: u64,
        values: &[&[u8]; N],
        load: impl Fn(&AtomicPtr<ChildInner<M>>) -> *mut ChildInner<M>,
    ) -> Option<(usize, *mut ChildInner<M>)> {
        let mask = self.slots.len() - 1;
        let tag = hash >> 32;
        #[allow(clippy::cast_possible_truncation)] // the low bits pick the first slot
        let mut at = hash as usize & mask;
        loop {
            let slot = self.slots[at].load(Ordering::Acquire);
            if slot == 0 {
                return None;
            }
            if slot >> 32 == tag {
                #[allow(clippy::cast_possible_truncation)] // the low 32 bits
                let position = (slot as u32 - 1) as usize;
                let child = load(&self.children[position]);
                // SAFETY: a pointer in the table is a live `Arc`'s, kept alive by the caller's
                // guard or lock.
                if !child.is_null() && packs(unsafe { &(*child).values }, values) {
                    return Some((position, child));
                }
            }
            at = (at + 1) & mask;
        }
    }

    /// Appends `child`, whose values hash to `hash`, as the next position. The writer's
    /// lock is held and there is room.
    fn push(&self, hash: u64, child: *mut ChildInner<M>) {
        let position = self.len.load(Ordering::Relaxed);
        debug_assert!(position < self.children.len());
        self.children[position].store(child, Ordering::Release);
        let mask = self.slots.len() - 1;
        #[allow(clippy::cast_possible_truncation)] // the low bits pick the first slot
        let mut at = hash as usize & mask;
        while self.slots[at].load(Ordering::Relaxed) != 0 {
            at = (at + 1) & mask;
        }
        // Published in this order, so that whoever reads the slot or the length finds the
        // child behind it.
        self.slots[at].store(
            (hash >> 32) << 32 | (position as u64 + 1),
            Ordering::Release,
        );
        self.len.store(position + 1, Ordering::Release);
    }

    /// The positions taken, as a lookup or scrape sees them.
    fn taken(&self) -> &[AtomicPtr<ChildInner<M>>] {
        &self.children[..self.len.load(Ordering::Acquire)]
    }
}

/// Starts freeing what this thread retired, rather than when 32 things have gathered: a
/// replaced table is as big as the children it held. (A removed child waits for the
/// others: each start costs a barrier on every core.)
fn flush() {
    collector().enter().flush();
}

/// Drops the table's strong count of a child that a removal took out.
///
/// # Safety
///
/// `child` came from `Arc::into_raw` and the table's count was not dropped otherwise.
unsafe fn release<M>(child: *mut ChildInner<M>, _: &Collector) {
    // SAFETY: as the function's contract says.
    drop(unsafe { Arc::from_raw(child) });
}

impl<M> Store<M> {
    pub(super) fn new() -> Self {
        Store {
            table: AtomicPtr::new(Box::into_raw(Box::new(Table::with_capacity(SMALLEST)))),
            writer: Mutex::new(0),
            live: AtomicUsize::new(0),
            hasher: ValueHasher::new(),
            _children: PhantomData,
        }
    }

    /// The hash of a label set, for [`Pinned::find`] and [`insert`](Self::insert).
    #[allow(clippy::inline_always)] // a separate call in the lookup profile otherwise
    #[inline(always)] // unrolled over the family's labels
    pub(super) fn hash<const N: usize>(&self, values: &[&[u8]; N]) -> u64 {
        self.hasher.state_of(values.iter().copied()).finish()
    }

    /// The hash of a child's `count` packed values, as [`hash`](Self::hash) gives for them.
    fn hash_packed(&self, values: &[u8], count: usize) -> u64 {
        self.hasher.state_of(unpack(values, count)).finish()
    }

    /// A view of the current table that stays valid while it lives, however the store
    /// changes meanwhile.
    #[inline]
    pub(super) fn pin(&self) -> Pinned<'_, M> {
        let guard = collector().enter();
        let table = guard.protect(&self.table, Ordering::Acquire);
        // SAFETY: a table is retired only after it is replaced, and freed only once no
        // guard from before its retirement remains.
        let table = unsafe { &*table };
        Pinned { guard, table }
    }

    /// The current table, for the writer.
    fn current(&self, _lock: &mut usize) -> &Table<M> {
        // SAFETY: only the writer, who holds the lock, retires tables.
        unsafe { &*self.table.load(Ordering::Acquire) }
    }

    /// The child for `values` (hashed to `hash`): the one another thread put there since
    /// the caller looked, or a new one from `make` if the family holds fewer than `max`.
    pub(super) fn insert<const N: usize>(
        &self,
        hash: u64,
        values: &[&[u8]; N],
        max: usize,
        make: impl FnOnce() -> ChildInner<M>,
    ) -> Option<Arc<ChildInner<M>>> {
        let mut live = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut table = self.current(&mut live);
        if let Some((_, found)) = table.find(hash, values, |child| child.load(Ordering::Relaxed)) {
            // SAFETY: the table holds a count of the child, and the lock keeps it there.
            return Some(unsafe { share(found) });
        }
        if *live >= max {
            return None;
        }
        if table.len.load(Ordering::Relaxed) == table.children.len() {
            table = self.rebuild(table, *live + 1, N);
        }
        let child = Arc::new(make());
        table.push(hash, Arc::into_raw(Arc::clone(&child)).cast_mut());
        *live += 1;
        self.live.store(*live, Ordering::Relaxed);
        Some(child)
    }

    /// Replaces `old` with a table that holds its children in the same order, without
    /// holes, with room for `needed` and a third as many again at least. Each child has
    /// `count` label values.
    fn rebuild(&self, old: &Table<M>, needed: usize, count: usize) -> &Table<M> {
        let capacity = (needed + needed / 2).next_power_of_two().max(SMALLEST);
        let new = Table::with_capacity(capacity);
        for child in old.taken() {
            let child = child.load(Ordering::Relaxed);
            if !child.is_null() {
                // SAFETY: a live child of the table, under the lock.
                let values = unsafe { &(*child).values };
                new.push(self.hash_packed(values, count), child);
            }
        }
        let new = Box::into_raw(Box::new(new));
        let old = self.table.swap(new, Ordering::AcqRel);
        // SAFETY: `old` is out of reach for new lookups; it came from `Box::into_raw`. Its
        // children moved to the new table, so only the arrays go.
        unsafe { collector().retire(old, seize::reclaim::boxed) };
        flush();
        // SAFETY: just made; only a later rebuild under the lock retires it.
        unsafe { &*new }
    }

    /// Takes the child for `values` out; returns whether there was one.
    pub(super) fn remove<const N: usize>(&self, values: &[&[u8]; N]) -> bool {
        let hash = self.hash(values);
        let mut live = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let table = self.current(&mut live);
        let Some((position, child)) =
            table.find(hash, values, |child| child.load(Ordering::Relaxed))
        else {
            return false;
        };
        table.children[position].store(ptr::null_mut(), Ordering::Release);
        // SAFETY: out of the table, whose count it was; a lookup still holding it holds a
        // guard from before this.
        unsafe { collector().retire(child, release) };
        *live -= 1;
        self.live.store(*live, Ordering::Relaxed);
        true
    }

    /// Takes every child out.
    pub(super) fn clear(&self) {
        let mut live = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // Out of reach first: what is retired must be found by no lookup that begins after.
        let old = self.table.swap(
            Box::into_raw(Box::new(Table::with_capacity(SMALLEST))),
            Ordering::AcqRel,
        );
        // SAFETY: only the writer, who holds the lock, retires tables: this one, below.
        for child in unsafe { &*old }.taken() {
            let child = child.load(Ordering::Relaxed);
            if !child.is_null() {
                // SAFETY: as in `remove`: out of reach now, and the table's count.
                unsafe { collector().retire(child, release) };
            }
        }
        // SAFETY: as in `rebuild`.
        unsafe { collector().retire(old, seize::reclaim::boxed) };
        flush();
        *live = 0;
        self.live.store(0, Ordering::Relaxed);
    }

    /// The number of children.
    pub(super) fn len(&self) -> usize {
        self.live.load(Ordering::Relaxed)
    }
}

impl<M> Drop for Store<M> {
    fn drop(&mut self) {
        // SAFETY: no one else holds the store; the table came from `Box::into_raw`. Replaced
        // tables and removed children go when the collector's readers have left.
        let table = unsafe { Box::from_raw(*self.table.get_mut()) };
        for child in table.taken() {
            let child = child.load(Ordering::Relaxed);
            if !child.is_null() {
                // SAFETY: the table's own count.
                unsafe { release(child, collector()) };
            }
        }
    }
}

/// A handle of the table's child, counted.
///
/// # Safety
///
/// `child` is in a table that the caller's guard or lock keeps alive.
unsafe fn share<M>(child: *const ChildInner<M>) -> Arc<ChildInner<M>> {
    // SAFETY: the table's count keeps it alive while the caller looks.
    unsafe {
        Arc::increment_strong_count(child);
        Arc::from_raw(child)
    }
}

/// The table of a store as a lookup or scrape found it, kept alive by a guard.
pub(super) struct Pinned<'s, M> {
    guard: LocalGuard<'s>,
    table: &'s Table<M>,
}

impl<M> Pinned<'_, M> {
    /// The child for `values`, hashed to `hash`.
    #[inline]
    pub(super) fn find<const N: usize>(
        &self,
        hash: u64,
        values: &[&[u8]; N],
    ) -> Option<Found<'_, M>> {
        let (_, child) = self.table.find(hash, values, |child| {
            self.guard.protect(child, Ordering::Acquire)
        })?;
        // SAFETY: in the table, kept by the guard.
        Some(Found(unsafe { &*child }))
    }

    /// How many children the table has room for.
    #[cfg(test)]
    pub(super) fn capacity(&self) -> usize {
        self.table.children.len()
    }

    /// The children in the order they were created, as they were when the table was
    /// pinned, but for those removed since.
    pub(super) fn children(&self) -> impl Iterator<Item = &ChildInner<M>> {
        self.table.taken().iter().filter_map(|child| {
            let child = self.guard.protect(child, Ordering::Acquire);
            // SAFETY: in the table, kept by the guard.
            (!child.is_null()).then(|| unsafe { &*child })
        })
    }
}

/// A child found in a pinned table.
pub(super) struct Found<'p, M>(&'p ChildInner<M>);

impl<'p, M> Found<'p, M> {
    /// The child, for as long as the table is pinned.
    #[inline]
    pub(super) fn get(&self) -> &'p ChildInner<M> {
        self.0
    }

    /// A counted handle of the child, to keep.
    #[inline]
    pub(super) fn to_arc(&self) -> Arc<ChildInner<M>> {
        // SAFETY: found in a table that the pin keeps alive.
        unsafe { share(self.0) }
    }
}
