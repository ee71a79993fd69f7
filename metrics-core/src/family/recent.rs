//! Each thread's most recently used children, so that looking up a label set the thread
//! used a moment ago takes neither the map's epoch guard nor the full keyed hash.
//!
//! A slot keeps a copy of the values it was looked up by, and a hit compares them all, so
//! two label sets never share a child however their slot indices collide. A slot is
//! trusted only while its family's generation is unchanged: [`Family::remove`] and
//! [`Family::clear`] bump it, so a thread never finds a child the map no longer holds.
//! A slot keeps its child alive until the slot is reused: at most 64 children a thread,
//! removed ones (no longer exported) included.
//!
//! [`Family::remove`]: super::Family::remove
//! [`Family::clear`]: super::Family::clear

use core::cell::RefCell;
use std::any::Any;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::key::difference;

/// Slots per thread: 64 children of any families, under 6 KiB.
const SLOTS: usize = 64;

/// The most value bytes a slot keeps; label sets with longer values are not remembered.
const KEY_BYTES: usize = 40;

/// A family's identity as the slots know it.
pub(super) struct Identity {
    /// Unique for the life of the process, never 0 (an empty slot).
    id: u64,
    /// Bumped whenever a child leaves the family.
    generation: AtomicU64,
}

struct Slot {
    family: u64,
    generation: u64,
    /// The sketch of the label set that last missed here: a set is remembered when it
    /// misses twice running, so that a family with more sets than slots, looked up in
    /// turn, costs no more than the map alone.
    missed: u64,
    /// The values' lengths, a byte each.
    lengths: u64,
    /// The values, end to end.
    bytes: [u8; KEY_BYTES],
    child: Option<Arc<dyn Any + Send + Sync>>,
}

impl Slot {
    const EMPTY: Slot = Slot {
        family: 0,
        generation: 0,
        missed: 0,
        lengths: 0,
        bytes: [0; KEY_BYTES],
        child: None,
    };
}

/// The values' lengths packed a byte each, if a slot can keep the values: at most eight,
/// each under 256 bytes, [`KEY_BYTES`] in all.
#[inline]
fn packed_lengths<const N: usize>(values: &[&[u8]; N]) -> Option<u64> {
    let mut lengths = 0;
    let mut total = 0;
    for (label, value) in values.iter().enumerate() {
        let length = u8::try_from(value.len()).ok()?;
        lengths |= u64::from(length).checked_shl(u32::try_from(label * 8).ok()?)?;
        total += value.len();
    }
    (N <= 8 && total <= KEY_BYTES).then_some(lengths)
}

thread_local! {
    static RECENT: RefCell<[Slot; SLOTS]> = const { RefCell::new([Slot::EMPTY; SLOTS]) };
}

/// The family's generation, read before a lookup in the map whose result is to be
/// [offered](Identity::offer).
#[derive(Clone, Copy)]
pub(super) struct Generation(u64);

/// Where a label set of a family goes among a thread's slots.
#[derive(Clone, Copy)]
pub(super) struct Place {
    slot: usize,
    sketch: u64,
}

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

    /// The place of `values` of this family: cheap and unkeyed, from each value's length
    /// and its first and last eight bytes (or first, middle and last bytes when shorter);
    /// a collision costs a miss, never a wrong child.
    #[inline]
    pub(super) fn place<const N: usize>(&self, values: &[&[u8]; N]) -> Place {
        let mut sketch = self.id;
        for value in values {
            let len = value.len();
            let sample = if let (Some(first), Some(last)) =
                (value.first_chunk::<8>(), value.last_chunk::<8>())
            {
                u64::from_le_bytes(*first) ^ u64::from_le_bytes(*last).rotate_left(32)
            } else {
                let byte = |at: usize| u64::from(value.get(at).copied().unwrap_or(0));
                byte(len.wrapping_sub(1)) | byte(len / 2) << 8 | byte(0) << 16
            };
            sketch = sketch.rotate_left(21) ^ sample ^ (len as u64) << 40;
        }
        // Folded down, then multiplied up: a difference anywhere reaches the top bits.
        let sketch = (sketch ^ sketch >> 32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let sketch = sketch | 1; // never 0, an empty slot's
        if cfg!(test) {
            // Unit tests send every label set to one slot, so that only the comparison
            // of the values tells them apart.
            return Place { slot: 0, sketch };
        }
        #[allow(clippy::cast_possible_truncation)] // the top six bits
        let slot = (sketch >> (64 - SLOTS.trailing_zeros())) as usize;
        Place { slot, sketch }
    }

    /// Calls `then` with `state` and the child remembered in `slot` for `values`, if it
    /// is this family's and still current; otherwise hands `state` back.
    ///
    /// The thread's slots stay borrowed during `then`: a lookup `then` makes itself may
    /// use them but not remember anything in them.
    #[inline]
    pub(super) fn find<C, T, R, const N: usize>(
        &self,
        place: Place,
        values: &[&[u8]; N],
        state: T,
        then: impl FnOnce(T, Remembered<'_, C>) -> R,
    ) -> Result<R, T>
    where
        C: Any + Send + Sync,
    {
        let Some(lengths) = packed_lengths(values) else {
            return Err(state);
        };
        let generation = self.generation.load(Ordering::Acquire);
        let mut state = Some(state);
        let found = RECENT.try_with(|recent| {
            let recent = recent.try_borrow().ok()?;
            let remembered = &recent[place.slot];
            if remembered.family != self.id
                || remembered.generation != generation
                || remembered.lengths != lengths
            {
                return None;
            }
            let (mut at, mut differ) = (0, 0);
            for value in values {
                differ |= difference(value, remembered.bytes.get(at..at + value.len())?);
                at += value.len();
            }
            if differ != 0 {
                return None;
            }
            let shared = remembered.child.as_ref()?;
            let child = shared.downcast_ref::<C>()?;
            Some(then(state.take()?, Remembered { shared, child }))
        });
        match (found, state) {
            (Ok(Some(result)), _) => Ok(result),
            (_, Some(state)) => Err(state),
            (_, None) => unreachable!("the state is taken only by a hit"),
        }
    }

    /// Offers `child`, just found in the map for `values` at `generation`: remembered in
    /// its place if the same label set missed there last time too.
    #[inline]
    pub(super) fn offer<C: Any + Send + Sync, const N: usize>(
        &self,
        place: Place,
        generation: Generation,
        values: &[&[u8]; N],
        child: &Arc<C>,
    ) {
        let Some(lengths) = packed_lengths(values) else {
            return;
        };
        // `try_`: during the thread's exit, or inside a `find`, the child is not kept.
        let _ = RECENT.try_with(|recent| {
            let Ok(mut recent) = recent.try_borrow_mut() else {
                return;
            };
            let slot = &mut recent[place.slot];
            if slot.missed != place.sketch {
                slot.missed = place.sketch;
                return;
            }
            let mut bytes = [0; KEY_BYTES];
            let mut at = 0;
            for value in values {
                bytes[at..at + value.len()].copy_from_slice(value);
                at += value.len();
            }
            let evicted = core::mem::replace(
                slot,
                Slot {
                    family: self.id,
                    generation: generation.0,
                    missed: 0,
                    lengths,
                    bytes,
                    child: Some(Arc::clone(child) as Arc<dyn Any + Send + Sync>),
                },
            );
            // Dropped once the slots are free again.
            drop(recent);
            drop(evicted);
        });
    }
}

/// A child found in a thread's slots.
pub(super) struct Remembered<'a, C> {
    shared: &'a Arc<dyn Any + Send + Sync>,
    child: &'a C,
}

impl<C: Any + Send + Sync> Remembered<'_, C> {
    pub(super) fn get(&self) -> &C {
        self.child
    }

    /// A handle of its own.
    pub(super) fn to_arc(&self) -> Arc<C> {
        match Arc::clone(self.shared).downcast() {
            Ok(child) => child,
            Err(_) => unreachable!("`find` checked the child's type"),
        }
    }
}
