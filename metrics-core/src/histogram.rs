//! Histograms and summaries: observations counted without a lock and read as consistent
//! snapshots.
//!
//! # How a snapshot stays consistent without a lock on `observe`
//!
//! The scheme of Go's client: two shards of counts, one *hot* taking observations, and
//! one word holding the hot shard's index (top bit) and the number of observations
//! started (the rest). `observe` bumps that word, adds to the sum of the shard it names,
//! then increments the bucket with `Release`. A scrape (serialised by a mutex that
//! `observe` never touches) flips the index, learning how many observations started
//! before the flip; it waits until the now-cold shard's buckets add up to that number,
//! so every one of them has finished with its sum too; it reads the cold shard and folds
//! it into the hot one. Count, `+Inf` bucket and the sum of the buckets are then the
//! same number by construction, and the sum covers exactly those observations.

use core::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use crate::counter::add_f64;
use crate::descriptor::MetricType;
use crate::encoding::{write_float, SeriesEncoder};
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
        }
    }

    /// The finite upper bounds.
    pub const fn bounds(&self) -> &'static [f64; N] {
        self.bounds
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        // NaN goes past every bound, into `+Inf`, as in Go's client.
        let bucket = if value.is_nan() {
            N
        } else {
            self.bounds.partition_point(|bound| *bound < value)
        };
        self.observations.record(bucket, value);
    }

    /// Starts a timer that observes the elapsed seconds when dropped.
    ///
    /// ```
    /// use promlink_core::{Histogram, DEFAULT_BUCKETS};
    /// static DURATION: Histogram<14> = Histogram::new(&DEFAULT_BUCKETS);
    /// {
    ///     let _timer = DURATION.start_timer();
    /// }
    /// assert_eq!(DURATION.snapshot().count, 1);
    /// ```
    #[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
    pub fn start_timer(&self) -> Timer<'_> {
        Timer {
            target: self,
            start: Instant::now(),
            armed: true,
        }
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
        let negative_buckets = self.bounds.first().is_some_and(|b| *b < 0.0);
        let buckets = le.iter().map(Vec::as_slice).zip(snapshot.cumulative_counts);
        enc.histogram(
            labels,
            buckets,
            snapshot.count,
            snapshot.sum,
            negative_buckets,
        );
        enc.write_created(labels, created);
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

    /// Starts a timer that observes the elapsed seconds when dropped.
    #[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
    pub fn start_timer(&self) -> Timer<'_> {
        Timer {
            target: self,
            start: Instant::now(),
            armed: true,
        }
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
        let (count, sum) = self.get();
        enc.count_and_sum(labels, count, sum, false);
        enc.write_created(labels, created);
    }
}

/// Something a [`Timer`] can report to.
pub trait Observe: Sync {
    /// Records one observation.
    fn observe(&self, value: f64);
}

/// Observes the seconds since it started when dropped, unless discarded.
#[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
pub struct Timer<'a> {
    target: &'a dyn Observe,
    start: Instant,
    armed: bool,
}

impl Timer<'_> {
    /// Observes now and returns the seconds observed.
    pub fn observe_duration(mut self) -> f64 {
        self.armed = false;
        let seconds = self.start.elapsed().as_secs_f64();
        self.target.observe(seconds);
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
            self.target.observe(self.start.elapsed().as_secs_f64());
        }
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

const HOT_BIT: u64 = 1 << 63;

/// The lock-free counting core shared by [`Histogram`] and [`Summary`]: `N` finite
/// buckets plus an overflow bucket, in two shards (see the module docs).
#[derive(Debug)]
struct Observations<const N: usize> {
    count_and_hot: AtomicU64,
    shards: [Shard<N>; 2],
    scrape: Mutex<()>,
}

#[derive(Debug)]
struct Shard<const N: usize> {
    buckets: [AtomicU64; N],
    overflow: AtomicU64,
    sum_bits: AtomicU64,
}

impl<const N: usize> Shard<N> {
    const fn new() -> Self {
        Shard {
            buckets: [const { AtomicU64::new(0) }; N],
            overflow: AtomicU64::new(0),
            sum_bits: AtomicU64::new(0),
        }
    }

    #[inline]
    fn bucket(&self, index: usize) -> &AtomicU64 {
        self.buckets.get(index).unwrap_or(&self.overflow)
    }

    fn total(&self) -> u64 {
        self.buckets
            .iter()
            .chain([&self.overflow])
            .map(|b| b.load(Ordering::Acquire))
            .sum()
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
            count_and_hot: AtomicU64::new(0),
            shards: [Shard::new(), Shard::new()],
            scrape: Mutex::new(()),
        }
    }

    /// Counts `value` into bucket `index` (`N` is the overflow bucket).
    #[inline]
    fn record(&self, index: usize, value: f64) {
        let started = self.count_and_hot.fetch_add(1, Ordering::Relaxed);
        let shard = &self.shards[usize::from(started & HOT_BIT != 0)];
        add_f64(&shard.sum_bits, value);
        // Release: a scrape that sees this count also sees the sum above.
        shard.bucket(index).fetch_add(1, Ordering::Release);
    }

    /// `(per-bucket counts, overflow count, sum)`, all from the same observations.
    fn snapshot(&self) -> ([u64; N], u64, f64) {
        let _serialised = self.scrape.lock().unwrap_or_else(PoisonError::into_inner);
        let before = self.count_and_hot.fetch_add(HOT_BIT, Ordering::AcqRel);
        let started = before & !HOT_BIT;
        let cold_index = usize::from(before & HOT_BIT != 0);
        let (cold, hot) = (&self.shards[cold_index], &self.shards[cold_index ^ 1]);

        // Observations that began on the cold shard finish within a few instructions.
        let mut spins = 0_u32;
        while cold.total() != started {
            spins += 1;
            if spins < 64 {
                core::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }

        let counts = core::array::from_fn(|i| cold.buckets[i].load(Ordering::Relaxed));
        let overflow = cold.overflow.load(Ordering::Relaxed);
        let sum = f64::from_bits(cold.sum_bits.load(Ordering::Relaxed));

        // Fold the cold shard into the hot one, which from now on holds every count.
        for (cold_bucket, hot_bucket) in cold
            .buckets
            .iter()
            .chain([&cold.overflow])
            .zip(hot.buckets.iter().chain([&hot.overflow]))
        {
            hot_bucket.fetch_add(cold_bucket.swap(0, Ordering::Relaxed), Ordering::Release);
        }
        add_f64(
            &hot.sum_bits,
            f64::from_bits(cold.sum_bits.swap(0, Ordering::Relaxed)),
        );
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
