//! Summaries: a count and a sum over all time (as Python's `Summary`), and, when asked
//! for, quantiles over a sliding window (as Go's `Summary` with objectives).
//!
//! # How quantiles are computed, and how exact they are
//!
//! Each observation is counted in the exponential buckets of a native histogram at
//! schema 5: bucket `k` holds the values in `(b^(k-1), b^k]` with `b = 2^(1/32)`, the
//! same on the negative side, and a zero bucket for magnitudes up to 2^-128. A quantile
//! `q` of `n` observations is reported as `2·b^k / (b + 1)` for the bucket `k` of the
//! `⌈q·n⌉`-th smallest observation: a value within a relative error of
//! `(b - 1) / (b + 1)` of it, **1.083%** ([`QUANTILE_RELATIVE_ERROR`]), whatever the
//! distribution (0 for the zero bucket). This is the bound of a relative-error sketch (as `DDSketch`), not a rank error: the
//! value reported is close to an observation of exactly that rank.
//!
//! Memory is bounded: a window keeps at most [`MAX_QUANTILE_BUCKETS`] populated buckets
//! in each of its age buckets; when the values spread over more, that age bucket halves
//! its resolution (schema 4: 2.17%, and so on), until it ages out; so does the merge of
//! the window's age buckets at a scrape, if together they populate more. Values within a
//! factor of 2^15.9 of each other (fewer than 512 buckets: 1 ms to a minute, say) never
//! cause a halving. The
//! counts of an age bucket are dense between its smallest and largest value: 8 bytes for
//! each factor of `b` between them, about 3.5 KB for latencies from 1 ms to 10 s, at most
//! 16 KB; a summary has that for each age bucket and for each thread observing at the
//! same moment (up to four).
//!
//! # The window
//!
//! Quantiles cover the last [`max_age`](Summary::max_age) (ten minutes by default, as in
//! Go's client), kept as [`age_buckets`](Summary::age_buckets) buckets of
//! `max_age / age_buckets` each (five by default) that rotate: an age bucket is reset when
//! the clock reaches a period it has not counted, so a scrape sees between
//! `max_age · (age_buckets - 1) / age_buckets` and `max_age` of observations. An empty
//! window has NaN quantiles. `_count` and `_sum` are over all time. OpenMetrics forbids
//! negative quantile values, so there a quantile whose value is negative is left out (the
//! text format and protobuf carry it).
//!
//! Observations go into the slots of [`Observations`](super::observations) with the
//! count and the sum, so `observe` takes no lock and a scrape sees whole observations.

use core::sync::atomic::AtomicI8;
use std::time::Duration;

use super::native::{factor_of, NativeBuckets, NativeSnapshot, Sparse};
use super::observations::Observations;
use super::{Observe, Target, Timer};
use crate::descriptor::MetricType;
use crate::encoding::SeriesEncoder;
use crate::metric::Series;

/// How long quantiles look back by default: ten minutes, as Go's `DefMaxAge`.
pub const DEFAULT_MAX_AGE: Duration = Duration::from_mins(10);

/// How many buckets the window rotates through by default: five, as Go's
/// `DefAgeBuckets`.
pub const DEFAULT_AGE_BUCKETS: u32 = 5;

/// The relative error of a quantile's value while its window keeps the full resolution:
/// `(b - 1) / (b + 1)` for `b = 2^(1/32)`, 1.083%.
pub const QUANTILE_RELATIVE_ERROR: f64 = 0.010_830_001_253_373_618;

/// The populated buckets an age bucket keeps before it halves its resolution.
pub const MAX_QUANTILE_BUCKETS: u32 = 512;

/// The schema quantiles are counted at: bounds `2^(1/32)` apart.
const QUANTILE_SCHEMA: i8 = 5;

/// The sketch settings of every age bucket.
const SKETCH: NativeBuckets =
    NativeBuckets::schema(QUANTILE_SCHEMA).max_buckets(MAX_QUANTILE_BUCKETS);

/// Observations counted and summed (as Python's `Summary`), and, with
/// [`with_quantiles`](Self::with_quantiles), quantiles over a sliding window (as Go's);
/// within the error bound below.
///
/// # Quantiles
///
/// Each observation is counted in exponential buckets with bounds `b = 2^(1/32)` apart
/// (a native histogram's schema 5). The value reported for quantile `q` of the `n`
/// observations in the window is `2·b^k / (b + 1)` for the bucket `k` of the
/// `⌈q·n⌉`-th smallest: within [`QUANTILE_RELATIVE_ERROR`] (1.083%) of that
/// observation, whatever the distribution, while the window populates at most
/// [`MAX_QUANTILE_BUCKETS`] buckets (values within a factor of 2^15.9: 1 ms to a minute);
/// past that, the resolution is halved (2.17%, and so on) until the values age out. The window is
/// [`max_age`](Self::max_age) (ten minutes) in [`age_buckets`](Self::age_buckets) (five)
/// rotating buckets; an empty window gives NaN; `_count` and `_sum` are over all time.
/// Memory: 8 bytes for each factor of `b` between the smallest and largest value of an
/// age bucket (3.5 KB for 1 ms to 10 s, at most 16 KB), per age bucket and per thread
/// observing at the same moment (up to four). OpenMetrics forbids negative quantile
/// values: there they are left out.
///
/// ```
/// use promlink_core::Summary;
/// static PAYLOAD_BYTES: Summary = Summary::new();
/// PAYLOAD_BYTES.observe(100.0);
/// PAYLOAD_BYTES.observe(250.5);
/// assert_eq!(PAYLOAD_BYTES.get(), (2, 350.5));
/// ```
#[derive(Debug)]
pub struct Summary {
    observations: Observations<0, Option<Box<Window>>>,
    quantiles: &'static [f64],
    max_age: Duration,
    age_buckets: u32,
    /// `age_buckets / max_age`, so that finding the period takes a product, not a
    /// division.
    periods_per_second: f64,
    /// Seconds since some start: the Unix time, unless a test gives another clock.
    clock: fn() -> f64,
}

impl Default for Summary {
    fn default() -> Self {
        Self::new()
    }
}

impl Summary {
    /// A summary with no observations and no quantiles.
    pub const fn new() -> Self {
        Summary {
            observations: Observations::new_empty(),
            quantiles: &[],
            max_age: DEFAULT_MAX_AGE,
            age_buckets: DEFAULT_AGE_BUCKETS,
            periods_per_second: periods_per_second(DEFAULT_MAX_AGE, DEFAULT_AGE_BUCKETS),
            clock: crate::time::coarse_unix_time,
        }
    }

    /// This summary with the quantiles `quantiles` (each from 0 to 1, increasing) of the
    /// observations of the last [`max_age`](Self::max_age), within the error bound
    /// stated [above](Self#quantiles).
    ///
    /// ```
    /// use promlink_core::{Summary, QUANTILE_RELATIVE_ERROR};
    /// static LATENCY: Summary = Summary::new().with_quantiles(&[0.5, 0.99]);
    /// for ms in 1..=100 {
    ///     LATENCY.observe(f64::from(ms) / 1000.0);
    /// }
    /// let [(_, p50), (_, p99)] = LATENCY.quantiles()[..] else { unreachable!() };
    /// assert!((p50 / 0.050 - 1.0).abs() <= QUANTILE_RELATIVE_ERROR);
    /// assert!((p99 / 0.099 - 1.0).abs() <= QUANTILE_RELATIVE_ERROR);
    /// ```
    ///
    /// # Panics
    ///
    /// Unless every quantile is from 0 to 1 and each is above the one before; in a
    /// `static`, this is a compile error.
    #[track_caller]
    #[must_use]
    pub const fn with_quantiles(mut self, quantiles: &'static [f64]) -> Self {
        let mut i = 0;
        while i < quantiles.len() {
            let q = quantiles[i];
            assert!(q >= 0.0 && q <= 1.0, "a quantile is from 0 to 1");
            assert!(
                i == 0 || quantiles[i - 1] < q,
                "quantiles must be strictly increasing"
            );
            i += 1;
        }
        self.quantiles = quantiles;
        self
    }

    /// This summary with quantiles over the last `max_age` (by default
    /// [`DEFAULT_MAX_AGE`]).
    ///
    /// # Panics
    ///
    /// If `max_age` is shorter than a millisecond.
    #[track_caller]
    #[must_use]
    pub const fn max_age(mut self, max_age: Duration) -> Self {
        assert!(
            max_age.as_millis() >= 1,
            "a summary's window is at least a millisecond"
        );
        self.max_age = max_age;
        self.periods_per_second = periods_per_second(max_age, self.age_buckets);
        self
    }

    /// This summary with its window kept as `age_buckets` rotating buckets (by default
    /// [`DEFAULT_AGE_BUCKETS`]): more of them, a smoother window and more memory.
    ///
    /// # Panics
    ///
    /// Unless `age_buckets` is from 1 to 60.
    #[track_caller]
    #[must_use]
    pub const fn age_buckets(mut self, age_buckets: u32) -> Self {
        assert!(
            age_buckets >= 1 && age_buckets <= 60,
            "a summary's window has from 1 to 60 age buckets"
        );
        self.age_buckets = age_buckets;
        self.periods_per_second = periods_per_second(self.max_age, age_buckets);
        self
    }

    /// This summary reading the time (in seconds) from `clock` instead of the system's:
    /// for tests of the window.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use std::time::Duration;
    /// use promlink_core::Summary;
    /// static NOW: AtomicU64 = AtomicU64::new(0);
    /// fn now() -> f64 {
    ///     NOW.load(Ordering::Relaxed) as f64
    /// }
    /// static LATENCY: Summary = Summary::new()
    ///     .with_quantiles(&[0.5])
    ///     .max_age(Duration::from_secs(60))
    ///     .with_clock(now);
    /// LATENCY.observe(0.25);
    /// NOW.store(61, Ordering::Relaxed);
    /// assert!(LATENCY.quantiles()[0].1.is_nan()); // aged out
    /// assert_eq!(LATENCY.get().0, 1); // the count is over all time
    /// ```
    #[must_use]
    pub const fn with_clock(mut self, clock: fn() -> f64) -> Self {
        self.clock = clock;
        self
    }

    /// The quantiles this summary computes.
    pub const fn quantile_objectives(&self) -> &'static [f64] {
        self.quantiles
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, value: f64) {
        if self.quantiles.is_empty() {
            self.observations.record(0, value, |_| {});
        } else {
            let period = self.period();
            let ages = self.age_buckets;
            self.observations.record(0, value, |window| {
                window
                    .get_or_insert_with(|| Box::new(Window::new(ages)))
                    .observe(value, period);
            });
        }
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

    /// A consistent `(count, sum)`, over all time.
    pub fn get(&self) -> (u64, f64) {
        let ([], count, sum) = self.observations.snapshot(|_| {});
        (count, sum)
    }

    /// `(quantile, value)` for each quantile asked for, over the window; NaN values when
    /// the window is empty.
    pub fn quantiles(&self) -> Vec<(f64, f64)> {
        self.snapshot().2
    }

    /// Count, sum and quantiles, from the same observations.
    fn snapshot(&self) -> (u64, f64, Vec<(f64, f64)>) {
        if self.quantiles.is_empty() {
            let (count, sum) = self.get();
            return (count, sum, Vec::new());
        }
        let period = self.period();
        let mut merged: Option<Sparse> = None;
        let ([], count, sum) = self.observations.snapshot(|window| {
            let Some(window) = window else { return };
            for age in window.current(period) {
                match &mut merged {
                    None => merged = Some(age.sketch.clone()),
                    Some(merged) => merged.merge(&age.sketch),
                }
            }
        });
        let merged = merged
            .unwrap_or_else(|| Sparse::new(QUANTILE_SCHEMA))
            .into_snapshot(&SKETCH, &AtomicI8::new(QUANTILE_SCHEMA));
        let quantiles = self
            .quantiles
            .iter()
            .map(|&q| (q, quantile(&merged, q)))
            .collect();
        (count, sum, quantiles)
    }

    /// The period of the clock's time: which age bucket is current.
    #[inline]
    fn period(&self) -> u64 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // saturates
        let index = ((self.clock)() * self.periods_per_second) as u64;
        index
    }
}

/// `age_buckets / max_age`, in periods a second.
const fn periods_per_second(max_age: Duration, age_buckets: u32) -> f64 {
    age_buckets as f64 / max_age.as_secs_f64()
}

/// One slot's window: its age buckets, in turn by period.
#[derive(Debug)]
pub(crate) struct Window {
    ages: Vec<Age>,
    /// The period last observed, and its age bucket: found again without a division.
    last: (u64, usize),
}

/// The observations of one period.
#[derive(Debug)]
struct Age {
    period: u64,
    sketch: Sparse,
    /// The schema this age bucket counts at, lowered if it had to halve.
    schema: AtomicI8,
}

impl Window {
    fn new(age_buckets: u32) -> Self {
        Window {
            ages: (0..age_buckets)
                .map(|_| Age {
                    period: u64::MAX,
                    sketch: Sparse::new(QUANTILE_SCHEMA),
                    schema: AtomicI8::new(QUANTILE_SCHEMA),
                })
                .collect(),
            last: (u64::MAX, 0),
        }
    }

    /// Counts `value` in the age bucket of `period`, reset first if it held an older one.
    #[inline]
    fn observe(&mut self, value: f64, period: u64) {
        if self.last.0 != period {
            let count = self.ages.len() as u64;
            #[allow(clippy::cast_possible_truncation)] // below the number of age buckets
            let index = (period % count) as usize;
            self.last = (period, index);
        }
        let age = &mut self.ages[self.last.1];
        if age.period != period {
            age.period = period;
            age.sketch.reset(QUANTILE_SCHEMA);
            age.schema = AtomicI8::new(QUANTILE_SCHEMA);
        }
        age.sketch.observe(value, &SKETCH, &age.schema);
    }

    /// The age buckets within the window that ends in `period`.
    fn current(&self, period: u64) -> impl Iterator<Item = &Age> {
        let count = self.ages.len() as u64;
        self.ages
            .iter()
            .filter(move |age| age.period <= period && period - age.period < count)
    }
}

/// The value of quantile `q` of the buckets' observations: the representative of the
/// bucket of the `⌈q·n⌉`-th smallest, `2·b^k / (b + 1)`, within `(b - 1) / (b + 1)` of any
/// value of bucket `k`; NaN without observations.
fn quantile(buckets: &NativeSnapshot, q: f64) -> f64 {
    let count = |side: &[(i32, u64)]| side.iter().map(|&(_, c)| c).sum::<u64>();
    let total = count(&buckets.negative) + buckets.zero_count + count(&buckets.positive);
    if total == 0 {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let factor = factor_of(buckets.schema);
    let representative = |index: i32| {
        let bound = buckets.upper_bound(index);
        if bound.is_infinite() {
            bound
        } else {
            2.0 * (bound / (factor + 1.0))
        }
    };
    // Ascending values: negative buckets from the largest magnitude, zero, positive.
    let negative = buckets
        .negative
        .iter()
        .rev()
        .map(|&(index, c)| (-representative(index), c));
    let zero = core::iter::once((0.0, buckets.zero_count));
    let positive = buckets
        .positive
        .iter()
        .map(|&(index, c)| (representative(index), c));
    let mut seen = 0;
    for (value, c) in negative.chain(zero).chain(positive) {
        seen += c;
        if seen >= rank {
            return value;
        }
    }
    unreachable!("the rank is at most the total")
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
        Summary {
            observations: Observations::new_empty(),
            ..*self
        }
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], created: f64) {
        let (count, sum, quantiles) = self.snapshot();
        enc.summary(labels, (count, sum), &quantiles, Some(created));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_summaries_keep_no_window() {
        let s = Summary::new();
        s.observe(1.0);
        assert!(s.quantiles().is_empty());
        assert_eq!(s.get(), (1, 1.0));
    }

    #[test]
    fn quantiles_of_an_empty_window_are_nan() {
        let s = Summary::new().with_quantiles(&[0.5, 0.9]);
        let q = s.quantiles();
        assert_eq!(q.len(), 2);
        assert!(q.iter().all(|(_, v)| v.is_nan()));
    }

    #[test]
    fn the_relative_error_is_the_schemas() {
        let b = factor_of(QUANTILE_SCHEMA);
        assert!(((b - 1.0) / (b + 1.0) - QUANTILE_RELATIVE_ERROR).abs() < 1e-15);
    }

    #[test]
    fn negative_zero_and_positive_values_order() {
        let s = Summary::new().with_quantiles(&[0.0, 0.25, 0.5, 0.75, 1.0]);
        for v in [-8.0, -1.0, 0.0, 1.0, 8.0] {
            s.observe(v);
        }
        let values: Vec<f64> = s.quantiles().iter().map(|&(_, v)| v).collect();
        let expected = [-8.0, -1.0, 0.0, 1.0, 8.0];
        for (got, want) in values.iter().zip(expected) {
            assert!(
                (got - want).abs() <= want.abs() * QUANTILE_RELATIVE_ERROR * (1.0 + 1e-9),
                "{values:?}"
            );
        }
    }
}
