//! The counting core of histograms and summaries: counts and a sum in a few slots, each
//! taken whole by one observer or one scrape at a time (see [`super`]).

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// How many slots an [`Observations`] has: threads take them in turn, so up to this many
/// observe side by side without sharing a cache line.
pub(super) const SLOTS: usize = 4;

/// `N` finite buckets plus an overflow bucket, a sum, and `X`, more that an observation
/// changes with them (a histogram's native buckets), in [`SLOTS`] slots.
#[derive(Debug)]
pub(super) struct Observations<const N: usize, X = ()> {
    slots: [Slot<N, X>; SLOTS],
}

/// Counts, a sum and `extra` that only the holder of `busy` changes, so they change
/// together.
#[derive(Debug)]
#[repr(align(64))] // slots of different threads on different cache lines
struct Slot<const N: usize, X> {
    busy: AtomicBool,
    /// The scrapes waiting for the slot: while there are any, observers go elsewhere, so
    /// that a stream of them cannot keep it from a scrape.
    wanted: AtomicU32,
    buckets: [AtomicU64; N],
    overflow: AtomicU64,
    sum_bits: AtomicU64,
    /// Read and written only by the holder of `busy`.
    extra: UnsafeCell<X>,
}

// SAFETY: `extra` is reached only through `with_extra`, by the one thread that holds
// `busy` (taken with `Acquire`, handed back with `Release`), as a mutex would; `X: Send`
// because the holders are different threads in turn.
unsafe impl<const N: usize, X: Send> Sync for Slot<N, X> {}

impl<const N: usize, X> Slot<N, X> {
    const fn new(extra: X) -> Self {
        Slot {
            busy: AtomicBool::new(false),
            wanted: AtomicU32::new(0),
            buckets: [const { AtomicU64::new(0) }; N],
            overflow: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0),
            extra: UnsafeCell::new(extra),
        }
    }

    /// Takes the slot if it is free: one atomic swap, `Acquire` to see the last holder's
    /// counts.
    #[inline]
    fn try_take(&self) -> bool {
        !self.busy.swap(true, Ordering::Acquire)
    }

    /// Hands the slot back, with what its holder wrote.
    #[inline]
    fn release(&self) {
        self.busy.store(false, Ordering::Release);
    }

    /// `extra`, to a caller that took the slot and has not handed it back.
    ///
    /// # Safety
    ///
    /// The caller holds the slot (`try_take` returned `true`) until `f` returns.
    #[inline]
    unsafe fn with_extra<R>(&self, f: impl FnOnce(&mut X) -> R) -> R {
        // SAFETY: the holder is the only thread that reaches `extra` (see `Sync` above).
        f(unsafe { &mut *self.extra.get() })
    }

    /// Counts `value` into bucket `index`, and `extra` by `more`, unless the slot is
    /// taken or a scrape wants it; gives `more` back then.
    #[inline]
    fn try_record<F: FnOnce(&mut X)>(&self, index: usize, value: f64, more: F) -> Result<(), F> {
        if !self.try_take() {
            return Err(more);
        }
        // Taken, so the line is this thread's and the check is cheap; a waiting scrape
        // gets the slot back at once.
        if self.wanted.load(Ordering::Relaxed) != 0 {
            self.release();
            return Err(more);
        }
        // Plain loads and stores: no one else writes while the slot is taken. Unlike a
        // counter's, these counts need no saturation: they grow by one an observation,
        // and 2^64 observations would take centuries at one a nanosecond.
        let bucket = self.buckets.get(index).unwrap_or(&self.overflow);
        bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let sum = f64::from_bits(self.sum_bits.load(Ordering::Relaxed)) + value;
        self.sum_bits.store(sum.to_bits(), Ordering::Relaxed);
        // SAFETY: taken above, handed back below.
        unsafe { self.with_extra(more) };
        self.release();
        Ok(())
    }
}

impl<const N: usize> Observations<N> {
    pub(super) const fn new() -> Self {
        Observations {
            slots: [const { Slot::new(()) }; SLOTS],
        }
    }
}

impl<const N: usize> Default for Observations<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize, T> Observations<N, Option<T>> {
    /// Slots with no `extra` yet.
    pub(super) const fn new_empty() -> Self {
        Observations {
            slots: [const { Slot::new(None) }; SLOTS],
        }
    }
}

impl<const N: usize, X> Observations<N, X> {
    /// Counts `value` into bucket `index` (`N` or more is the overflow bucket), and
    /// passes the slot's `extra` to `more`, all in one slot.
    #[inline]
    pub(super) fn record(&self, index: usize, value: f64, more: impl FnOnce(&mut X)) {
        let turn = crate::turn::thread_turn();
        if let Err(more) = self.slots[turn % SLOTS].try_record(index, value, more) {
            self.record_elsewhere(turn, index, value, more);
        }
    }

    /// `record` when this thread's slot is taken (by a scrape or a thread sharing it):
    /// tries the next slots, and after each full round (every holder descheduled) lets
    /// the holders run. Out of line: a call on the fast path would spill its registers.
    #[cold]
    #[inline(never)]
    fn record_elsewhere(
        &self,
        mut turn: usize,
        index: usize,
        value: f64,
        mut more: impl FnOnce(&mut X),
    ) {
        loop {
            turn = (turn + 1) % SLOTS;
            let slot = &self.slots[turn];
            // A slot seen taken is not written: its holder keeps the line.
            if !slot.busy.load(Ordering::Relaxed) {
                match slot.try_record(index, value, more) {
                    Ok(()) => return,
                    Err(back) => more = back,
                }
            }
            if turn == 0 {
                std::thread::yield_now();
            }
        }
    }

    /// `(per-bucket counts, overflow count, sum)`, all from the same observations, and
    /// each slot's `extra` passed to `read` while the slot is held, so that it agrees.
    pub(super) fn snapshot(&self, mut read: impl FnMut(&mut X)) -> ([u64; N], u64, f64) {
        let mut counts = [0; N];
        let (mut overflow, mut sum) = (0, 0.0);
        for slot in &self.slots {
            // Holders keep a slot for a few instructions, unless descheduled; none takes
            // it anew once it is wanted.
            slot.wanted.fetch_add(1, Ordering::Relaxed);
            let mut spins = 0_u32;
            while !slot.try_take() {
                spins += 1;
                if spins < 64 {
                    core::hint::spin_loop();
                } else {
                    std::thread::yield_now();
                }
            }
            for (count, bucket) in counts.iter_mut().zip(&slot.buckets) {
                *count += bucket.load(Ordering::Relaxed);
            }
            overflow += slot.overflow.load(Ordering::Relaxed);
            sum += f64::from_bits(slot.sum_bits.load(Ordering::Relaxed));
            // SAFETY: taken above, handed back below.
            unsafe { slot.with_extra(&mut read) };
            slot.wanted.fetch_sub(1, Ordering::Relaxed);
            slot.release();
        }
        (counts, overflow, sum)
    }
}
