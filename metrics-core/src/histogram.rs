//! Histograms and summaries: observations counted without a shared lock and read as
//! consistent snapshots.
//!
//! # How a snapshot stays consistent
//!
//! A histogram's counts and sum sit in a few slots, each taken with one atomic swap of
//! its own flag. `observe` takes its thread's slot (or, if that is busy, the next free
//! one), bumps the bucket and adds to the sum with plain loads and stores, and hands the
//! slot back with a `Release` store: one locked instruction, where a sum kept by
//! compare-and-swap beside a started count (Go's hot/cold scheme) costs three.
//! A scrape takes each slot in turn, reads it and hands it back; it marks the slot it
//! waits for, and an observer that takes a marked slot hands it straight back, so a
//! stream of observers cannot keep the scrape waiting. Each slot it reads holds
//! whole observations only, bucket and sum together, so the totals agree: count, `+Inf`
//! bucket and the sum of the buckets are the same number and the sum covers exactly
//! those observations. A later scrape reads every slot later, so counts never go back.
//! Threads take slots in turn, so a few threads observing at once do not share a cache
//! line; an observer waits only if every slot is held (by threads descheduled holding
//! them, for a few instructions each).

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::descriptor::MetricType;
use crate::encoding::{write_float, Bucket, SeriesEncoder};
use crate::exemplar::{Exemplar, ExemplarSlot, InvalidExemplar};
use crate::metric::Series;

/// Python's default buckets: for latencies of web requests in seconds.
pub const DEFAULT_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Observations counted into buckets with upper bounds `bounds` (and an implied `+Inf`).
///
/// `N` is the number of finite bounds; the compiler infers it from the array.
///
/// ```
/// use promlink_core::Histogram;
/// static LATENCY: Histogram<3> = Histogram::new(&[0.1, 0.5, 1.0]);
/// LATENCY.observe(0.3);
/// LATENCY.observe(7.0);
/// let s = LATENCY.snapshot();
/// assert_eq!(s.cumulative_counts, [0, 1, 1]);
/// assert_eq!((s.count, s.sum), (2, 7.3));
/// ```
#[derive(Debug)]
pub struct Histogram<const N: usize> {
    bounds: &'static [f64; N],
    observations: Observations<N>,
    /// The latest exemplar of each bucket, `+Inf` last: made at the first exemplar.
    exemplars: OnceLock<Box<[ExemplarSlot]>>,
}

/// Python's default buckets, as `prometheus_client.Histogram` has them when none are given.
pub type DefaultHistogram = Histogram<{ DEFAULT_BUCKETS.len() }>;

impl DefaultHistogram {
    /// A histogram with [`DEFAULT_BUCKETS`].
    ///
    /// ```
    /// use promlink_core::{DefaultHistogram, DEFAULT_BUCKETS};
    /// static LATENCY: DefaultHistogram = DefaultHistogram::with_default_buckets();
    /// assert_eq!(LATENCY.bounds(), &DEFAULT_BUCKETS);
    /// ```
    pub const fn with_default_buckets() -> Self {
        Histogram::new(&DEFAULT_BUCKETS)
    }
}

impl Default for DefaultHistogram {
    fn default() -> Self {
        Self::with_default_buckets()
    }
}

/// A consistent view of a histogram: `count` observations in all, of which
/// `cumulative_counts[i]` were at most `bounds[i]`, summing to `sum`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HistogramSnapshot<const N: usize> {
    /// Cumulative bucket counts, one per finite bound.
    pub cumulative_counts: [u64; N],
    /// All observations: the `+Inf` bucket.
    pub count: u64,
    /// The sum of all observations.
    pub sum: f64,
}

/// `start_timer`, `time` and `observe_duration`, the same on histograms and summaries;
/// the doc lines given are the example shown on each.
macro_rules! timing_methods {
    ($(#[doc = $example:literal])*) => {
        /// Starts a timer that observes the elapsed seconds when dropped.
        ///
        $(#[doc = $example])*
        #[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
        pub fn start_timer(&self) -> Timer<'_> {
            Timer::start(Target::Borrowed(self))
        }

        /// Runs `f` and observes how long it took in seconds, also when it panics
        /// (Python's `with histogram.time():`).
        pub fn time<R>(&self, f: impl FnOnce() -> R) -> R {
            let _timer = self.start_timer();
            f()
        }

        /// Observes a duration measured elsewhere, in seconds.
        pub fn observe_duration(&self, duration: Duration) {
            self.observe(duration.as_secs_f64());
        }
    };
}

impl<const N: usize> Histogram<N> {
    /// A histogram with the given finite upper bounds.
    ///
    /// # Panics
    ///
    /// Unless the bounds are finite and strictly increasing and there is at least one
    /// (`+Inf` is always implied). In a `static` this is a compile error.
    #[track_caller]
    pub const fn new(bounds: &'static [f64; N]) -> Self {
        assert_buckets(bounds);
        Histogram {
            bounds,
            observations: Observations::new(),
            exemplars: OnceLock::new(),
        }
    }

    /// The finite upper bounds.
    pub const fn bounds(&self) -> &'static [f64; N] {
        self.bounds
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.observations.record(self.bucket_of(value), value);
    }

    /// Observes `value` with an exemplar: labels (a trace id, say) that OpenMetrics and
    /// protobuf scrapes show on the bucket `value` falls in, until the next exemplar of
    /// that bucket replaces them. The value is observed even when the exemplar is
    /// refused.
    ///
    /// # Errors
    ///
    /// [`InvalidExemplar`] when a label name is invalid or the names and values have more
    /// than [`MAX_EXEMPLAR_LABEL_CHARS`](crate::MAX_EXEMPLAR_LABEL_CHARS) characters
    /// together.
    ///
    /// ```
    /// use promlink_core::Histogram;
    /// static LATENCY: Histogram<2> = Histogram::new(&[0.1, 1.0]);
    /// LATENCY.observe_with_exemplar(0.3, &[("trace_id", "4bf92f3577b34da6")]).unwrap();
    /// assert_eq!(LATENCY.snapshot().count, 1);
    /// ```
    pub fn observe_with_exemplar(
        &self,
        value: f64,
        exemplar: &[(&str, &str)],
    ) -> Result<(), InvalidExemplar> {
        let bucket = self.bucket_of(value);
        self.observations.record(bucket, value);
        let slots = self
            .exemplars
            .get_or_init(|| (0..=N).map(|_| ExemplarSlot::new()).collect());
        slots[bucket].set(exemplar, value)
    }

    /// The bucket of `value`: the number of bounds below it, counted without a branch.
    /// NaN is below none of them, so it goes past every bound into `+Inf`, as in Go's
    /// client.
    #[inline]
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // `!(a <= b)` is true for NaN, on purpose
    fn bucket_of(&self, value: f64) -> usize {
        self.bounds
            .iter()
            .map(|bound| usize::from(!(value <= *bound)))
            .sum()
    }

    timing_methods! {
        /// ```
        /// use std::time::Duration;
        /// use promlink_core::Histogram;
        /// static DURATION: Histogram<3> = Histogram::new(&[0.01, 0.1, 1.0]);
        /// {
        ///     let _timer = DURATION.start_timer();
        /// }
        /// let sum = DURATION.time(|| (1..=10).sum::<u32>());
        /// DURATION.observe_duration(Duration::from_millis(250));
        /// assert_eq!((sum, DURATION.snapshot().count), (55, 3));
        /// ```
    }

    /// A consistent snapshot of the counts and the sum.
    pub fn snapshot(&self) -> HistogramSnapshot<N> {
        let (counts, overflow, sum) = self.observations.snapshot();
        let mut cumulative_counts = counts;
        let mut running = 0;
        for c in &mut cumulative_counts {
            running += *c;
            *c = running;
        }
        HistogramSnapshot {
            cumulative_counts,
            count: running + overflow,
            sum,
        }
    }
}

impl<const N: usize> Observe for Histogram<N> {
    fn observe(&self, value: f64) {
        Histogram::observe(self, value);
    }
}

impl<const N: usize> Series for Histogram<N> {
    const KIND: MetricType = MetricType::Histogram;
    type Shared = Vec<Vec<u8>>;

    fn new_series(&self) -> Self {
        Histogram {
            bounds: self.bounds,
            observations: Observations::new(),
            exemplars: OnceLock::new(),
        }
    }

    fn shared(&self) -> Self::Shared {
        self.bounds
            .iter()
            .map(|&bound| {
                let mut le = Vec::with_capacity(8);
                write_float(&mut le, bound);
                le
            })
            .collect()
    }

    fn encode_series(
        &self,
        le: &Self::Shared,
        enc: &mut SeriesEncoder<'_>,
        labels: &[u8],
        created: f64,
    ) {
        let snapshot = self.snapshot();
        let exemplars: Vec<Option<Exemplar>> = self
            .exemplars
            .get()
            .filter(|_| enc.format() != crate::Format::Text)
            .map(|slots| slots.iter().map(ExemplarSlot::get).collect())
            .unwrap_or_default();
        let exemplar = |bucket: usize| exemplars.get(bucket)?.as_ref();
        let finite = self.bounds.iter().zip(le).zip(snapshot.cumulative_counts);
        let finite = finite.map(|((&bound, le), cumulative)| (bound, le.as_slice(), cumulative));
        let inf = (f64::INFINITY, &b"+Inf"[..], snapshot.count);
        let buckets = finite.chain([inf]).enumerate();
        let buckets = buckets.map(|(i, (bound, le, cumulative))| Bucket {
            bound,
            le,
            cumulative,
            exemplar: exemplar(i),
        });
        enc.histogram(
            labels,
            buckets,
            (snapshot.count, snapshot.sum),
            Some(created),
        );
    }
}

/// Observations counted and summed, without buckets or quantiles (as Python's
/// `Summary`).
///
/// ```
/// use promlink_core::Summary;
/// static PAYLOAD_BYTES: Summary = Summary::new();
/// PAYLOAD_BYTES.observe(100.0);
/// PAYLOAD_BYTES.observe(250.5);
/// assert_eq!(PAYLOAD_BYTES.get(), (2, 350.5));
/// ```
#[derive(Debug, Default)]
pub struct Summary {
    observations: Observations<0>,
}

impl Summary {
    /// A summary with no observations.
    pub const fn new() -> Self {
        Summary {
            observations: Observations::new(),
        }
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.observations.record(0, value);
    }

    timing_methods! {
        /// ```
        /// use std::time::Duration;
        /// use promlink_core::Summary;
        /// static DURATION: Summary = Summary::new();
        /// DURATION.time(|| std::thread::yield_now());
        /// DURATION.observe_duration(Duration::from_millis(250));
        /// assert_eq!(DURATION.get().0, 2);
        /// ```
    }

    /// A consistent `(count, sum)`.
    pub fn get(&self) -> (u64, f64) {
        let ([], count, sum) = self.observations.snapshot();
        (count, sum)
    }
}

impl Observe for Summary {
    fn observe(&self, value: f64) {
        Summary::observe(self, value);
    }
}

impl Series for Summary {
    const KIND: MetricType = MetricType::Summary;
    type Shared = ();

    fn new_series(&self) -> Self {
        Summary::new()
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], created: f64) {
        enc.summary(labels, self.get(), Some(created));
    }
}

/// Something a [`Timer`] can report to: a histogram or a summary.
#[diagnostic::on_unimplemented(
    message = "`{Self}` takes no observations: durations and sizes go into a histogram or a summary",
    label = "not a histogram or summary"
)]
pub trait Observe: Sync {
    /// Records one observation.
    fn observe(&self, value: f64);
}

/// Observes the seconds since it started when dropped, unless discarded.
///
/// A timer started on a histogram borrows it; one started on a family's
/// [`Child`](crate::Child) holds the child itself (`Timer<'static>`), so that
/// `let _timer = FAMILY.labels(..).start_timer();` keeps timing to the end of the scope.
#[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
pub struct Timer<'a> {
    target: Target<'a>,
    start: Instant,
    armed: bool,
}

/// What a [`Timer`] reports to.
pub(crate) enum Target<'a> {
    Borrowed(&'a dyn Observe),
    /// A family's child, kept alive by the timer.
    Owned(Arc<dyn Observe + Send>),
}

impl<'a> Timer<'a> {
    pub(crate) fn start(target: Target<'a>) -> Self {
        Timer {
            target,
            start: Instant::now(),
            armed: true,
        }
    }

    fn report(&self, seconds: f64) {
        match &self.target {
            Target::Borrowed(target) => target.observe(seconds),
            Target::Owned(target) => target.observe(seconds),
        }
    }

    /// Observes now and returns the seconds observed.
    pub fn observe_duration(mut self) -> f64 {
        self.armed = false;
        let seconds = self.start.elapsed().as_secs_f64();
        self.report(seconds);
        seconds
    }

    /// Drops the timer without observing.
    pub fn stop_and_discard(mut self) {
        self.armed = false;
    }
}

impl Drop for Timer<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.report(self.start.elapsed().as_secs_f64());
        }
    }
}

/// Panics if a bound is negative: for durations and sizes, which never are. What the
/// macros check of a `const` bucket array, in `const` evaluation.
#[doc(hidden)]
#[track_caller]
pub const fn assert_non_negative_buckets(bounds: &[f64]) {
    let mut i = 0;
    while i < bounds.len() {
        assert!(
            bounds[i] >= 0.0,
            "a negative bucket for durations or sizes, which are never negative"
        );
        i += 1;
    }
}

/// Panics unless `bounds` are finite, strictly increasing and not empty.
#[track_caller]
const fn assert_buckets(bounds: &[f64]) {
    assert!(
        !bounds.is_empty(),
        "a histogram needs at least one finite bucket bound (+Inf is implied)"
    );
    let mut i = 0;
    while i < bounds.len() {
        assert!(
            bounds[i].is_finite(),
            "bucket bounds must be finite: +Inf is implied, NaN is meaningless"
        );
        assert!(
            i == 0 || bounds[i - 1] < bounds[i],
            "bucket bounds must be strictly increasing"
        );
        i += 1;
    }
}

/// How many slots an [`Observations`] has: threads take them in turn, so up to this many
/// observe side by side without sharing a cache line.
const SLOTS: usize = 4;

/// The counting core shared by [`Histogram`] and [`Summary`]: `N` finite buckets plus an
/// overflow bucket, in [`SLOTS`] slots (see the module docs).
#[derive(Debug)]
struct Observations<const N: usize> {
    slots: [Slot<N>; SLOTS],
}

/// Counts and a sum that only the holder of `busy` changes, so they change together.
#[derive(Debug)]
#[repr(align(64))] // slots of different threads on different cache lines
struct Slot<const N: usize> {
    busy: AtomicBool,
    /// The scrapes waiting for the slot: while there are any, observers go elsewhere, so
    /// that a stream of them cannot keep it from a scrape.
    wanted: AtomicU32,
    buckets: [AtomicU64; N],
    overflow: AtomicU64,
    sum_bits: AtomicU64,
}

impl<const N: usize> Slot<N> {
    const fn new() -> Self {
        Slot {
            busy: AtomicBool::new(false),
            wanted: AtomicU32::new(0),
            buckets: [const { AtomicU64::new(0) }; N],
            overflow: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0),
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

    /// Counts `value` into bucket `index` unless the slot is taken or a scrape wants it.
    #[inline]
    fn try_record(&self, index: usize, value: f64) -> bool {
        if !self.try_take() {
            return false;
        }
        // Taken, so the line is this thread's and the check is cheap; a waiting scrape
        // gets the slot back at once.
        if self.wanted.load(Ordering::Relaxed) != 0 {
            self.release();
            return false;
        }
        // Plain loads and stores: no one else writes while the slot is taken. Unlike a
        // counter's, these counts need no saturation: they grow by one an observation,
        // and 2^64 observations would take centuries at one a nanosecond.
        let bucket = self.buckets.get(index).unwrap_or(&self.overflow);
        bucket.store(bucket.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        let sum = f64::from_bits(self.sum_bits.load(Ordering::Relaxed)) + value;
        self.sum_bits.store(sum.to_bits(), Ordering::Relaxed);
        self.release();
        true
    }
}

impl<const N: usize> Default for Observations<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Observations<N> {
    const fn new() -> Self {
        Observations {
            slots: [const { Slot::new() }; SLOTS],
        }
    }

    /// Counts `value` into bucket `index` (`N` or more is the overflow bucket).
    #[inline]
    fn record(&self, index: usize, value: f64) {
        let turn = crate::turn::thread_turn();
        if !self.slots[turn % SLOTS].try_record(index, value) {
            self.record_elsewhere(turn, index, value);
        }
    }

    /// `record` when this thread's slot is taken (by a scrape or a thread sharing it):
    /// tries the next slots, and after each full round (every holder descheduled) lets
    /// the holders run. Out of line: a call on the fast path would spill its registers.
    #[cold]
    #[inline(never)]
    fn record_elsewhere(&self, mut turn: usize, index: usize, value: f64) {
        loop {
            turn = (turn + 1) % SLOTS;
            let slot = &self.slots[turn];
            // A slot seen taken is not written: its holder keeps the line.
            if !slot.busy.load(Ordering::Relaxed) && slot.try_record(index, value) {
                return;
            }
            if turn == 0 {
                std::thread::yield_now();
            }
        }
    }

    /// `(per-bucket counts, overflow count, sum)`, all from the same observations.
    fn snapshot(&self) -> ([u64; N], u64, f64) {
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
            slot.wanted.fetch_sub(1, Ordering::Relaxed);
            slot.release();
        }
        (counts, overflow, sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_upper_inclusive_and_nan_overflows() {
        let h = Histogram::new(&[1.0, 2.0]);
        for v in [0.5, 1.0, 1.5, 2.0, 3.0, f64::NAN, f64::NEG_INFINITY] {
            h.observe(v);
        }
        let s = h.snapshot();
        assert_eq!(s.cumulative_counts, [3, 5]);
        assert_eq!(s.count, 7);
        assert!(s.sum.is_nan());
    }

    #[test]
    fn snapshots_repeat_and_accumulate() {
        let h = Histogram::new(&[1.0]);
        h.observe(0.5);
        assert_eq!(h.snapshot().count, 1);
        assert_eq!(h.snapshot().count, 1);
        h.observe(2.0);
        let s = h.snapshot();
        assert_eq!((s.cumulative_counts, s.count, s.sum), ([1], 2, 2.5));
    }

    #[test]
    fn more_threads_than_slots_count_everything_consistently() {
        let h = Histogram::new(&[1.0]);
        std::thread::scope(|s| {
            for _ in 0..SLOTS * 2 {
                s.spawn(|| (0..10_000).for_each(|i| h.observe(f64::from(i % 2) * 2.0)));
            }
            let mut last = 0;
            for _ in 0..1000 {
                let snap = h.snapshot();
                // Values 0 (bucket `1.0`) and 2 (`+Inf`): the sum counts the latter twice.
                let twos = u32::try_from(snap.count - snap.cumulative_counts[0]).unwrap();
                assert_eq!(snap.sum, 2.0 * f64::from(twos));
                assert!(snap.count >= last);
                last = snap.count;
            }
        });
        let threads = SLOTS as u64 * 2;
        let snap = h.snapshot();
        assert_eq!(
            (snap.count, snap.cumulative_counts[0]),
            (threads * 10_000, threads * 5000)
        );
    }

    #[test]
    fn discarded_timers_observe_nothing() {
        let s = Summary::new();
        s.start_timer().stop_and_discard();
        let seconds = s.start_timer().observe_duration();
        assert_eq!(s.get(), (1, seconds));
    }

    #[test]
    #[should_panic(expected = "strictly increasing")]
    fn unsorted_buckets_panic() {
        let _ = Histogram::new(&[1.0, 1.0]);
    }
}
