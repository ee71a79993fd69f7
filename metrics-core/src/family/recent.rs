//! Each thread's most recently used children, so that looking up a label set the thread
//! used a moment ago takes neither the map's epoch guard nor the full keyed hash.
//!
//! A slot keeps the label set it was looked up by (each value's length and the words that
//! [cover] it), and a hit compares them all, so two label sets never share a child
//! however their slot indices collide. A slot is trusted only while its family's
//! generation is unchanged: [`Family::remove`] and [`Family::clear`] bump it, so a thread
//! never finds a child the map no longer holds. A slot keeps its child alive until the
//! slot is reused: at most 64 children a thread, removed ones (no longer exported)
//! included.
//!
//! [`Family::remove`]: super::Family::remove
//! [`Family::clear`]: super::Family::clear

use core::cell::RefCell;
use std::any::{Any, TypeId};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::key::{cover, middles, COVERED};
use super::ChildInner;
use crate::{Counter, Gauge};

/// Slots per thread: 64 children of any families, in 12 KiB.
const SLOTS: usize = 64;

/// The most labels a slot keeps; larger label sets are not remembered.
const LABELS: usize = 8;

/// A family's identity as the slots know it.
pub(super) struct Identity {
    /// Unique for the life of the process, never 0 (an empty slot).
    id: u64,
    /// Bumped whenever a child leaves the family.
    generation: AtomicU64,
}

/// A thread's slots. A slot's words sit in two arrays whose elements are powers of two
/// in size, so that finding them from the slot's index takes shifts, not multiplies: the
/// index is on a hit's critical path.
struct Slots {
    heads: [Slot; SLOTS],
    covers: [Covers; SLOTS],
}

/// A slot's covers of the values, by label.
type Covers = [[u64; 2]; LABELS];

#[repr(align(64))]
struct Slot {
    family: u64,
    generation: u64,
    /// The sketch of the label set that last missed here: a set is remembered when it
    /// misses twice running, so that a family with more sets than slots, looked up in
    /// turn, costs no more than the map alone.
    missed: u64,
    /// The values' lengths, a byte each.
    lengths: u64,
    /// Whether a value is longer than its covers: read here rather than from the key, so
    /// that a hit need not keep that at hand. Equal lengths tell the same, as only keys
    /// whose lengths are all below 256 (kept whole in `lengths`) are ever remembered.
    long: bool,
    child: Held,
}

/// A remembered child. Counters and gauges, the children most looked up by label values,
/// are held by their own type: a hit on them then checks the type at compile time, where
/// a downcast from `dyn Any` would make a virtual call.
enum Held {
    Empty,
    Counter(Arc<ChildInner<Counter>>),
    Gauge(Arc<ChildInner<Gauge>>),
    Other(Arc<dyn Any + Send + Sync>),
}

impl Held {
    /// Holds `child`, by its own type if it has a variant.
    fn new<C: Any + Send + Sync>(child: &Arc<C>) -> Held {
        let any: &dyn Any = child;
        if let Some(child) = any.downcast_ref::<Arc<ChildInner<Counter>>>() {
            Held::Counter(Arc::clone(child))
        } else if let Some(child) = any.downcast_ref::<Arc<ChildInner<Gauge>>>() {
            Held::Gauge(Arc::clone(child))
        } else {
            Held::Other(Arc::clone(child) as Arc<dyn Any + Send + Sync>)
        }
    }

    /// The child, if it is a `C`. For a variant's own type, the downcasts fold away once
    /// this is inlined (which the hit's path relies on): one test of the variant.
    #[inline(always)]
    #[allow(clippy::inline_always)]
    fn get<C: Any + Send + Sync>(&self) -> Option<Remembered<'_, C>> {
        let counter = TypeId::of::<C>() == TypeId::of::<ChildInner<Counter>>();
        let gauge = TypeId::of::<C>() == TypeId::of::<ChildInner<Gauge>>();
        match self {
            Held::Counter(child) if counter => {
                (child as &dyn Any).downcast_ref().map(Remembered::Typed)
            }
            Held::Gauge(child) if gauge => {
                (child as &dyn Any).downcast_ref().map(Remembered::Typed)
            }
            // `new` never holds a counter or a gauge here.
            Held::Other(shared) if !counter && !gauge => Some(Remembered::Erased {
                shared,
                child: shared.downcast_ref()?,
            }),
            _ => None,
        }
    }
}

impl Slot {
    const EMPTY: Slot = Slot {
        family: 0,
        generation: 0,
        missed: 0,
        lengths: 0,
        long: false,
        child: Held::Empty,
    };
}

thread_local! {
    static RECENT: RefCell<Slots> = const {
        RefCell::new(Slots {
            heads: [Slot::EMPTY; SLOTS],
            covers: [[[0; 2]; LABELS]; SLOTS],
        })
    };
}

/// How a label set fits a slot.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fit {
    /// Its covers hold every byte.
    Covered,
    /// Some value is longer than its cover: a hit also compares the values whole.
    Long,
    /// Too many labels, or a value of 256 bytes or more: never remembered.
    Unkept,
}

/// A label set of a family as the slots see it, worked out once per lookup: where it goes,
/// and what a slot must hold to be its.
#[derive(Clone, Copy)]
pub(super) struct Key<const N: usize> {
    fit: Fit,
    /// The values' lengths, a byte each: meaningful only if the set fits (at most eight
    /// values, each under 256 bytes).
    lengths: u64,
    covers: [[u64; 2]; N],
    slot: usize,
    /// A 64-bit digest of the above, never 0.
    sketch: u64,
}

/// The family's generation, read before a lookup in the map whose result is to be
/// [offered](Identity::offer).
#[derive(Clone, Copy)]
pub(super) struct Generation(u64);

impl Identity {
    pub(super) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Identity {
            id: NEXT.fetch_add(1, Ordering::Relaxed),
            generation: AtomicU64::new(0),
        }
    }

    /// Marks every remembered child of this family stale (see `Children::forget`).
    pub(super) fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::Release);
    }

    /// The generation to remember a child under, read before looking it up.
    #[inline]
    pub(super) fn generation(&self) -> Generation {
        Generation(self.generation.load(Ordering::Acquire))
    }

    /// The key of `values` in this family. Its slot comes from a cheap, unkeyed sketch of
    /// the lengths and covers (and of long values' middles): a collision costs a miss,
    /// never a wrong child.
    #[inline(always)] // called, it would keep the key in memory, on the hit's critical path
    #[allow(clippy::inline_always)]
    pub(super) fn key<const N: usize>(&self, values: &[&[u8]; N]) -> Key<N> {
        let mut lengths = 0;
        let mut longest = 0;
        for (label, value) in values.iter().enumerate() {
            // Unmasked: a length of 256 or more spills into its neighbour, but such a set
            // is never kept, so its lengths are never compared.
            lengths |= (value.len() as u64) << (label * 8 % 64);
            longest = longest.max(value.len());
        }
        let fit = if N > LABELS || longest > usize::from(u8::MAX) {
            Fit::Unkept
        } else if longest > COVERED {
            Fit::Long
        } else {
            Fit::Covered
        };
        let covers = core::array::from_fn(|label| cover(values[label]));
        let mut sketch = self.id ^ lengths;
        for (label, [first, last]) in covers.iter().enumerate() {
            // The slot's index is on a hit's critical path: an add and a rotation a value,
            // worked out side by side. Each label turns its term its own way, so that the
            // same values under other labels (swapped, moved) sketch apart.
            #[allow(clippy::cast_possible_truncation)] // below 64
            let turn = (label * 21 % 64) as u32;
            sketch = sketch.wrapping_add(first.wrapping_add(*last).rotate_left(turn));
        }
        if fit == Fit::Long {
            sketch ^= middles(values);
        }
        // The high half folded onto the low one, then multiplied: a difference anywhere
        // reaches the top bits, the slot's index. Those bits alone are a linear function of
        // the sum, and sets that differ by a few digits in a few bytes (small numbers,
        // addresses) fall on a lattice of a third of the slots; the middle bits turned in
        // with an exclusive-or break it up, for two instructions where a second multiply
        // would cost three times that (any turn from 20 to 29 spreads as well).
        let sketch = (sketch ^ sketch >> 32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let sketch = (sketch ^ sketch << 23) | 1;
        #[allow(clippy::cast_possible_truncation)] // the top six bits
        let slot = (sketch >> (64 - SLOTS.trailing_zeros())) as usize;
        // Unit tests send every label set to one slot, so that only the comparison of the
        // values tells them apart.
        let slot = if cfg!(test) { 0 } else { slot };
        Key {
            fit,
            lengths,
            covers,
            slot,
            sketch,
        }
    }

    /// Calls `then` with `state` and the child remembered for `key`, if it is this
    /// family's and still current; otherwise hands `state` back. `holds` says whether a
    /// child holds exactly the values of a [long](Fit::Long) key.
    ///
    /// The thread's slots stay borrowed during `then`: a lookup `then` makes itself may
    /// use them but not remember anything in them.
    #[inline]
    pub(super) fn find<C, T, R, const N: usize>(
        &self,
        key: &Key<N>,
        holds: impl FnOnce(&C) -> bool,
        state: T,
        then: impl FnOnce(T, Remembered<'_, C>) -> R,
    ) -> Result<R, T>
    where
        C: Any + Send + Sync,
    {
        if key.fit == Fit::Unkept {
            return Err(state);
        }
        let generation = self.generation.load(Ordering::Acquire);
        let mut state = Some(state);
        let found = RECENT.try_with(|recent| {
            let recent = recent.try_borrow().ok()?;
            let remembered = recent.heads.get(key.slot)?;
            let mut differ = (remembered.family ^ self.id)
                | (remembered.generation ^ generation)
                | (remembered.lengths ^ key.lengths);
            for (ours, theirs) in key.covers.iter().zip(recent.covers.get(key.slot)?) {
                differ |= (ours[0] ^ theirs[0]) | (ours[1] ^ theirs[1]);
            }
            if differ != 0 {
                return None;
            }
            let child = remembered.child.get::<C>()?;
            if remembered.long && !holds(child.get()) {
                return None;
            }
            Some(then(state.take()?, child))
        });
        match (found, state) {
            (Ok(Some(result)), _) => Ok(result),
            (_, Some(state)) => Err(state),
            (_, None) => unreachable!("the state is taken only by a hit"),
        }
    }

    /// Offers `child`, just found in the map for `key` at `generation`: remembered in its
    /// place if the same label set missed there last time too.
    #[inline]
    pub(super) fn offer<C: Any + Send + Sync, const N: usize>(
        &self,
        key: &Key<N>,
        generation: Generation,
        child: &Arc<C>,
    ) {
        if key.fit == Fit::Unkept {
            return;
        }
        // `try_`: during the thread's exit, or inside a `find`, the child is not kept.
        let _ = RECENT.try_with(|recent| {
            let Ok(mut recent) = recent.try_borrow_mut() else {
                return;
            };
            let Slots { heads, covers } = &mut *recent;
            let (Some(slot), Some(covers)) = (heads.get_mut(key.slot), covers.get_mut(key.slot))
            else {
                return;
            };
            if slot.missed != key.sketch {
                slot.missed = key.sketch;
                return;
            }
            for (cover, theirs) in covers.iter_mut().zip(key.covers) {
                *cover = theirs;
            }
            let evicted = core::mem::replace(
                slot,
                Slot {
                    family: self.id,
                    generation: generation.0,
                    missed: 0,
                    lengths: key.lengths,
                    long: key.fit == Fit::Long,
                    child: Held::new(child),
                },
            );
            // Dropped once the slots are free again.
            drop(recent);
            drop(evicted);
        });
    }
}

/// A child found in a thread's slots.
pub(super) enum Remembered<'a, C> {
    Typed(&'a Arc<C>),
    Erased {
        shared: &'a Arc<dyn Any + Send + Sync>,
        child: &'a C,
    },
}

impl<C: Any + Send + Sync> Remembered<'_, C> {
    #[inline]
    pub(super) fn get(&self) -> &C {
        match self {
            Remembered::Typed(child) => child,
            Remembered::Erased { child, .. } => child,
        }
    }

    /// A handle of its own.
    #[inline]
    pub(super) fn to_arc(&self) -> Arc<C> {
        match self {
            Remembered::Typed(child) => Arc::clone(child),
            Remembered::Erased { shared, .. } => match Arc::clone(shared).downcast() {
                Ok(child) => child,
                Err(_) => unreachable!("`find` checked the child's type"),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child offered twice running is found, by its own type or behind `dyn Any`, as the
    /// same `Arc`.
    #[test]
    fn every_kind_of_child_is_found_where_it_was_remembered() {
        fn found_again<M: Send + Sync + 'static>(metric: M) -> bool {
            let family = Identity::new();
            let values: [&[u8]; 2] = [b"GET", b"200"];
            let key = family.key(&values);
            let child = Arc::new(ChildInner::new(metric, Box::new([]), 0.0));
            family.offer(&key, family.generation(), &child);
            family.offer(&key, family.generation(), &child);
            let hit =
                |(), found: Remembered<'_, ChildInner<M>>| Arc::ptr_eq(&found.to_arc(), &child);
            family.find(&key, |_| true, (), hit) == Ok(true)
        }
        assert!(found_again(Counter::new()));
        assert!(found_again(Gauge::new()));
        assert!(found_again(crate::Histogram::new(&[1.0])));
        assert!(found_again(crate::Summary::new()));
    }

    /// Similar label sets spread over the slots about as random ones would: 64 of them
    /// take about 41 of the 64 slots at random (4063 over 100 families, as the family's
    /// id takes part). Each case is a shape of label set a service has, which a weaker
    /// sketch put in far fewer slots.
    #[test]
    fn similar_label_sets_spread_over_the_slots() {
        type LabelSet<'a> = Box<dyn Fn(usize) -> [&'a str; 3] + 'a>;
        let texts = |text: fn(usize) -> String| -> Vec<String> { (0..64).map(text).collect() };
        let paths = texts(|i| format!("/api/orders/{i}"));
        let ids_inside = texts(|i| format!("/api/v1/customers/{i}/orders"));
        let hosts = texts(|i| format!("node-{i:02}.example.com"));
        let addresses = texts(|i| format!("10.0.{i}.1"));
        let durations = texts(|i| format!("{i}ms"));
        let numbers = texts(|i| i.to_string());
        let padded = texts(|i| format!("{i:02}"));
        let codes = texts(|i| (200 + i).to_string());
        let methods = [
            "GET", "PUT", "POST", "HEAD", "PATCH", "DELETE", "OPTIONS", "TRACE",
        ];
        let cases: [(&str, LabelSet<'_>); 11] = [
            ("small numbers", Box::new(|i| [&numbers[i], "", ""])),
            ("zero-padded numbers", Box::new(|i| [&padded[i], "", ""])),
            ("codes alone", Box::new(|i| [&codes[i], "", ""])),
            (
                "pairs either way",
                Box::new(|i| [&codes[i / 8], &codes[i % 8], ""]),
            ),
            ("paths", Box::new(|i| ["GET", &paths[i], "200"])),
            (
                "ids inside long paths",
                Box::new(|i| ["GET", &ids_inside[i], "200"]),
            ),
            ("hosts", Box::new(|i| ["GET", &hosts[i], "200"])),
            ("addresses", Box::new(|i| ["GET", "200", &addresses[i]])),
            ("durations", Box::new(|i| ["GET", &durations[i], "200"])),
            ("codes", Box::new(|i| ["GET", "/", &codes[i]])),
            (
                "methods and codes",
                Box::new(|i| [methods[i % 8], "/", &codes[i / 8]]),
            ),
        ];
        // The slots 64 label sets take (from the sketch: unit tests send every key to
        // slot 0).
        let slots_taken = |key_of: &dyn Fn(usize) -> Key<3>| {
            let mut slots: Vec<u64> = (0..64)
                .map(|i| key_of(i).sketch >> (64 - SLOTS.trailing_zeros()))
                .collect();
            slots.sort_unstable();
            slots.dedup();
            slots.len()
        };
        let family = |id| Identity {
            id,
            generation: AtomicU64::new(0),
        };
        for (case, label_set) in &cases {
            let taken: Vec<usize> = (1..=100)
                .map(|id| slots_taken(&|i| family(id).key(&label_set(i).map(str::as_bytes))))
                .collect();
            let (total, fewest) = (taken.iter().sum::<usize>(), taken.iter().min());
            assert!(
                total >= 3800 && fewest >= Some(&28),
                "{case}: {total} / 100, fewest {fewest:?}"
            );
        }
        // One label set in 64 families: the family's id spreads it too.
        let total: usize = (0..100)
            .map(|run| {
                slots_taken(&|i| family(run * 64 + i as u64 + 1).key(&[b"GET", b"/", b"200"]))
            })
            .sum();
        assert!(total >= 3800, "one set over families: {total} / 100");
    }
}
