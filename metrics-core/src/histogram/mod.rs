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

mod native;
mod observations;

use core::sync::atomic::{AtomicI8, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::descriptor::MetricType;
use crate::encoding::{write_float, Bucket, SeriesEncoder};
use crate::exemplar::{Exemplar, ExemplarSlot, InvalidExemplar};
use crate::metric::Series;
use native::Sparse;
pub use native::{
    NativeBuckets, NativeSnapshot, DEFAULT_MAX_NATIVE_BUCKETS, DEFAULT_ZERO_THRESHOLD, MAX_SCHEMA,
    MIN_SCHEMA,
};
use observations::Observations;
pub use summary::{
    Summary, DEFAULT_AGE_BUCKETS, DEFAULT_MAX_AGE, MAX_QUANTILE_BUCKETS, QUANTILE_RELATIVE_ERROR,
};

/// Python's default buckets: for latencies of web requests in seconds.
pub const DEFAULT_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Observations counted into buckets with upper bounds `bounds` (and an implied `+Inf`).
///
/// `N` is the number of finite bounds; the compiler infers it from the array.
///
/// A histogram can also count into native buckets ([`NativeBuckets`]): exponential
/// buckets that need no list of bounds, which Prometheus reads from protobuf scrapes.
/// [`Histogram::native`] makes one with native buckets only, [`Histogram::with_native`]
/// adds them to classic ones, as Go's client does; text scrapes show the classic buckets
/// (only `+Inf` for a native-only histogram), with the count and the sum.
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
    native: Option<NativeBuckets>,
    /// The schema native buckets are counted at: the declared one, until they outgrow
    /// their limit.
    schema: AtomicI8,
    observations: Observations<N, Option<Box<Sparse>>>,
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

// After `timing_methods!`, which it uses.
mod summary;

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
            native: None,
            schema: AtomicI8::new(0),
            observations: Observations::new_empty(),
            exemplars: OnceLock::new(),
        }
    }

    /// This histogram with native buckets beside its classic ones: protobuf scrapes carry
    /// both, text scrapes the classic ones.
    ///
    /// ```
    /// use promlink_core::{Histogram, NativeBuckets};
    /// static LATENCY: Histogram<3> =
    ///     Histogram::new(&[0.1, 0.5, 1.0]).with_native(NativeBuckets::factor(1.1));
    /// LATENCY.observe(0.3);
    /// assert_eq!(LATENCY.snapshot().cumulative_counts, [0, 1, 1]);
    /// assert_eq!(LATENCY.native_snapshot().unwrap().positive.len(), 1);
    /// ```
    #[must_use]
    pub const fn with_native(mut self, native: NativeBuckets) -> Self {
        self.native = Some(native);
        self.schema = AtomicI8::new(native.get_schema());
        self
    }

    /// The native buckets declared, if any.
    pub const fn native_buckets(&self) -> Option<NativeBuckets> {
        self.native
    }

    /// The finite upper bounds.
    pub const fn bounds(&self) -> &'static [f64; N] {
        self.bounds
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        self.record(self.bucket_of(value), value);
    }

    /// Counts `value` into classic bucket `bucket` and the native buckets, if any.
    #[inline]
    fn record(&self, bucket: usize, value: f64) {
        match &self.native {
            None => self.observations.record(bucket, value, |_| {}),
            Some(native) => self.record_native(bucket, value, native),
        }
    }

    /// [`record`](Self::record) with native buckets. Out of line, so that the classic
    /// path stays small enough to inline (with this inside, `observe` needed a stack
    /// frame and cost classic histograms 1-2 ns).
    #[inline(never)]
    fn record_native(&self, bucket: usize, value: f64, native: &NativeBuckets) {
        self.observations.record(bucket, value, |sparse| {
            let schema = &self.schema;
            sparse
                .get_or_insert_with(|| Box::new(Sparse::new(schema.load(Ordering::Relaxed))))
                .observe(value, native, schema);
        });
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
        self.record(bucket, value);
        let slots = self
            .exemplars
            .get_or_init(|| (0..=N).map(|_| ExemplarSlot::new()).collect());
        slots[bucket].set(exemplar, value)
    }

    /// Observes `value`, with the current call's exemplar when the
    /// [`ExemplarSource`](crate::ExemplarSource) has one and a scrape has asked for a
    /// format that shows exemplars; as [`observe`](Self::observe) otherwise. What
    /// `#[timed]` and the request metrics layer call.
    #[inline]
    pub fn observe_traced(&self, value: f64) {
        crate::exemplar_source::traced(
            || self.observe(value),
            |labels| {
                let _refused = self.observe_with_exemplar(value, labels);
            },
        );
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
        self.snapshots().0
    }

    /// A consistent snapshot of the native buckets, if the histogram has them. It is
    /// within the bucket limit: if the buckets outgrew it, the resolution is halved here,
    /// and observers follow.
    pub fn native_snapshot(&self) -> Option<NativeSnapshot> {
        self.snapshots().1
    }

    /// Both snapshots, from the same observations.
    fn snapshots(&self) -> (HistogramSnapshot<N>, Option<NativeSnapshot>) {
        let mut merged: Option<Sparse> = None;
        let (counts, overflow, sum) = self.observations.snapshot(|sparse| {
            if let Some(sparse) = sparse {
                match &mut merged {
                    None => merged = Some(Sparse::clone(sparse)),
                    Some(merged) => merged.merge(sparse),
                }
            }
        });
        let native = self.native.as_ref().map(|native| {
            merged
                .unwrap_or_else(|| Sparse::new(self.schema.load(Ordering::Relaxed)))
                .into_snapshot(native, &self.schema)
        });
        let mut cumulative_counts = counts;
        let mut running = 0;
        for c in &mut cumulative_counts {
            running += *c;
            *c = running;
        }
        let classic = HistogramSnapshot {
            cumulative_counts,
            count: running + overflow,
            sum,
        };
        (classic, native)
    }
}

impl Histogram<0> {
    /// A histogram with native buckets only. Text scrapes show its count, its sum and the
    /// `+Inf` bucket.
    ///
    /// ```
    /// use promlink_core::{Histogram, NativeBuckets};
    /// static LATENCY: Histogram<0> = Histogram::native(NativeBuckets::schema(3).max_buckets(100));
    /// LATENCY.observe(0.02);
    /// LATENCY.observe(-1.0);
    /// LATENCY.observe(0.0);
    /// let native = LATENCY.native_snapshot().unwrap();
    /// assert_eq!((native.positive.len(), native.negative, native.zero_count), (1, vec![(0, 1)], 1));
    /// ```
    pub const fn native(native: NativeBuckets) -> Self {
        Histogram {
            bounds: &[],
            native: Some(native),
            schema: AtomicI8::new(native.get_schema()),
            observations: Observations::new_empty(),
            exemplars: OnceLock::new(),
        }
    }
}

impl<const N: usize> Observe for Histogram<N> {
    fn observe(&self, value: f64) {
        Histogram::observe(self, value);
    }

    fn observe_traced(&self, value: f64) {
        Histogram::observe_traced(self, value);
    }
}

impl<const N: usize> Series for Histogram<N> {
    const KIND: MetricType = MetricType::Histogram;
    type Shared = Vec<Vec<u8>>;

    fn new_series(&self) -> Self {
        Histogram {
            bounds: self.bounds,
            native: self.native,
            schema: AtomicI8::new(self.native.map_or(0, |native| native.get_schema())),
            observations: Observations::new_empty(),
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
        let (snapshot, native) = self.snapshots();
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
            native.as_ref(),
        );
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

    /// Records one observation with the current call's exemplar, where the type keeps
    /// exemplars (histograms: [`Histogram::observe_traced`]); as `observe` otherwise.
    fn observe_traced(&self, value: f64) {
        self.observe(value);
    }
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
            for _ in 0..observations::SLOTS * 2 {
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
        let threads = observations::SLOTS as u64 * 2;
        let snap = h.snapshot();
        assert_eq!(
            (snap.count, snap.cumulative_counts[0]),
            (threads * 10_000, threads * 5000)
        );
    }

    #[test]
    fn native_buckets_agree_with_the_count_while_threads_observe_and_halve() {
        // Few buckets, values over twelve orders of magnitude: the resolution halves while
        // threads observe and scrapes read.
        let h = Histogram::new(&[1.0]).with_native(NativeBuckets::schema(8).max_buckets(20));
        std::thread::scope(|s| {
            for t in 0..2 * i32::try_from(observations::SLOTS).unwrap() {
                let h = &h;
                s.spawn(move || {
                    for i in 0..5_000 {
                        let value = 10f64.powi((i + t) % 13 - 6);
                        h.observe(if i % 7 == 0 { -value } else { value });
                    }
                });
            }
            let mut last_schema = 8;
            for _ in 0..300 {
                let (classic, native) = h.snapshots();
                let native = native.unwrap();
                let counted: u64 = native
                    .positive
                    .iter()
                    .chain(&native.negative)
                    .map(|b| b.1)
                    .sum();
                assert_eq!(classic.count, counted + native.zero_count);
                assert!(native.positive.len() + native.negative.len() <= 20);
                assert!(native.schema <= last_schema);
                last_schema = native.schema;
            }
        });
        let native = h.native_snapshot().unwrap();
        let positive: u64 = native.positive.iter().map(|b| b.1).sum();
        let negative: u64 = native.negative.iter().map(|b| b.1).sum();
        let threads = observations::SLOTS as u64 * 2;
        assert_eq!(negative, threads * 715); // i % 7 == 0 for 715 of 5,000
        assert_eq!(positive, threads * 5000 - negative);
        // Each bucket holds the values it should at the final schema.
        for &(index, _) in &native.positive {
            assert!(native.upper_bound(index) >= 1e-6 && native.upper_bound(index - 1) < 1e6);
        }
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
