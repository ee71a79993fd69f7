//! Counters: totals that only go up.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::descriptor::MetricType;
use crate::encoding::{SeriesEncoder, Value};
use crate::exemplar::{ExemplarSlot, InvalidExemplar};
use crate::metric::Series;

/// A monotonically increasing total.
///
/// Integer increments are one relaxed atomic add; fractional ones add to a separate
/// float cell with a compare-and-swap loop, so integer counts stay exact at any size.
///
/// The integer count saturates: once it reaches `u64::MAX` (18446744073709551615) it
/// stays there, since a count that wrapped to a small number would read as a counter
/// reset to Prometheus and `rate()` would count a huge jump. (A scrape in the instant
/// between the increment that crosses the top and its correction may still read the
/// wrapped count: the correction follows the add rather than lock it out, to keep `inc`
/// one atomic add.) Fractions add up as floats, which grow to infinity and never wrap.
///
/// ```
/// use promlink_core::Counter;
/// static JOBS: Counter = Counter::new();
/// JOBS.inc();
/// JOBS.inc_by(2.5);
/// assert_eq!(JOBS.get(), 3.5);
/// ```
#[derive(Debug, Default)]
pub struct Counter {
    int: AtomicU64,
    float_bits: AtomicU64,
    exemplar: ExemplarSlot,
}

/// The error of [`Counter::try_inc_by`]: counters only go up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InvalidIncrement(pub f64);

impl fmt::Display for InvalidIncrement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "counters can only increase: an increment of {} is negative or NaN",
            self.0
        )
    }
}

impl std::error::Error for InvalidIncrement {}

impl Counter {
    /// A counter at zero.
    pub const fn new() -> Self {
        Counter {
            int: AtomicU64::new(0),
            float_bits: AtomicU64::new(0),
            exemplar: ExemplarSlot::new(),
        }
    }

    #[inline]
    fn int_cell(&self) -> &AtomicU64 {
        &self.int
    }

    fn int_total(&self) -> u64 {
        self.int.load(Relaxed)
    }
}

/// A valid increment, split as the counters keep it: integers exact in one cell,
/// fractions in another.
enum Increment {
    Int(u64),
    Float(f64),
}

impl Increment {
    #[inline]
    fn of(amount: f64) -> Result<Self, InvalidIncrement> {
        if amount.is_nan() || amount < 0.0 {
            return Err(InvalidIncrement(amount));
        }
        if amount.fract() == 0.0 && amount < 9_007_199_254_740_992.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // integral, 0 <= amount < 2^53
            Ok(Increment::Int(amount as u64))
        } else {
            Ok(Increment::Float(amount))
        }
    }
}

/// The total of an integer cell and a fraction cell: exact while there is no fraction.
fn total(int: u64, float_bits: &AtomicU64) -> Value {
    let float = f64::from_bits(float_bits.load(Relaxed));
    if float == 0.0 {
        Value::Int(int)
    } else {
        Value::Float(Value::Int(int).as_f64() + float)
    }
}

/// How many cache lines a [`ShardedCounter`] spreads over.
const STRIPES: usize = 16;

/// A [`Counter`] for totals that many threads increment at once: increments go to one of
/// 16 cache lines chosen by thread, so that cores do not take turns on one line; a scrape
/// adds the lines up. Each line is 128 bytes (2 KiB in all), so keep it for the few hot
/// counters that need it; `declare_metrics!` makes one with `#[metric(sharded)]`.
///
/// The integer count saturates at `u64::MAX` as a [`Counter`]'s does: each line on its
/// own, and their total.
///
/// ```
/// use promlink_core::ShardedCounter;
/// static REQUESTS: ShardedCounter = ShardedCounter::new();
/// std::thread::scope(|s| {
///     for _ in 0..4 {
///         s.spawn(|| (0..1000).for_each(|_| REQUESTS.inc()));
///     }
/// });
/// assert_eq!(REQUESTS.get(), 4000.0);
/// ```
#[derive(Debug)]
pub struct ShardedCounter {
    stripes: [Stripe; STRIPES],
    float_bits: AtomicU64,
    exemplar: ExemplarSlot,
}

#[derive(Debug)]
#[repr(align(128))] // a line apart, and apart from the adjacent line some CPUs prefetch
struct Stripe(AtomicU64);

impl Default for ShardedCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl ShardedCounter {
    /// A counter at zero.
    pub const fn new() -> Self {
        ShardedCounter {
            stripes: [const { Stripe(AtomicU64::new(0)) }; STRIPES],
            float_bits: AtomicU64::new(0),
            exemplar: ExemplarSlot::new(),
        }
    }

    /// This thread's stripe: threads take stripes in turn as they first increment one.
    #[inline]
    fn int_cell(&self) -> &AtomicU64 {
        let index = crate::turn::thread_turn();
        &self.stripes[index % STRIPES].0
    }

    fn int_total(&self) -> u64 {
        // Saturating: lines that each stay below the top may add up past it.
        self.stripes.iter().fold(0_u64, |sum, stripe| {
            sum.saturating_add(stripe.0.load(Relaxed))
        })
    }
}

/// Puts back at the top an integer cell that an add took past it. Every value the cell
/// has held since that add is a wrapped one, as counts only grow, so storing the top
/// corrects them all; adds that wrap it again meanwhile store the same.
#[cold]
#[inline(never)]
fn saturate(cell: &AtomicU64) {
    cell.store(u64::MAX, Relaxed);
}

/// Adds `amount` to an integer cell, saturating at `u64::MAX`: one atomic add, then a
/// correction on the rare path where the add wrapped.
#[inline]
fn add_saturating(cell: &AtomicU64, amount: u64) {
    let before = cell.fetch_add(amount, Relaxed);
    if before.checked_add(amount).is_none() {
        saturate(cell);
    }
}

/// Adds to an `f64` kept as bits in an `AtomicU64`.
#[inline]
pub(crate) fn add_f64(cell: &AtomicU64, amount: f64) {
    let _ = cell.fetch_update(Relaxed, Relaxed, |bits| {
        Some((f64::from_bits(bits) + amount).to_bits())
    });
}

/// What both counters offer, alike but for where integers are added (`int_cell`) and
/// how they are totalled (`int_total`).
macro_rules! counter_api {
    ($($counter:ident),+) => {$(
        impl $counter {
            /// Adds one. At `u64::MAX` the count stays there: it never wraps.
            #[inline]
            pub fn inc(&self) {
                add_saturating(self.int_cell(), 1);
            }

            /// Adds an integer amount. The count stops at `u64::MAX` rather than wrap:
            ///
            #[doc = concat!("```\nlet c = promlink_core::", stringify!($counter), "::new();\nc.inc_by_u64(u64::MAX);\nc.inc();\nassert_eq!(c.get(), u64::MAX as f64);\n```")]
            #[inline]
            pub fn inc_by_u64(&self, amount: u64) {
                add_saturating(self.int_cell(), amount);
            }

            /// Adds `amount`. An integral `amount` below 2^53 counts as
            /// [`inc_by_u64`](Self::inc_by_u64) does, saturating at `u64::MAX`; others add
            /// up as floats, which never wrap.
            ///
            /// # Panics
            ///
            /// If `amount` is negative (as the Go and Python clients refuse it) or NaN
            /// (which both let through, leaving the counter NaN for good); use
            /// [`try_inc_by`](Self::try_inc_by) to get an error instead.
            ///
            #[doc = concat!("```should_panic\npromlink_core::", stringify!($counter), "::new().inc_by(-1.0); // panics: counters can only increase\n```")]
            #[inline]
            #[track_caller]
            pub fn inc_by(&self, amount: f64) {
                if let Err(e) = self.try_inc_by(amount) {
                    panic!("{e}");
                }
            }

            /// Adds `amount` as [`inc_by`](Self::inc_by) does, or returns an error when it
            /// is negative or NaN.
            ///
            /// # Errors
            ///
            /// [`InvalidIncrement`] for a negative or NaN `amount`; the counter is
            /// unchanged.
            ///
            #[doc = concat!("```\nlet c = promlink_core::", stringify!($counter), "::new();\nassert!(c.try_inc_by(f64::NAN).is_err());\nassert!(c.try_inc_by(2.0).is_ok());\n```")]
            #[inline]
            pub fn try_inc_by(&self, amount: f64) -> Result<(), InvalidIncrement> {
                match Increment::of(amount)? {
                    Increment::Int(n) => self.inc_by_u64(n),
                    Increment::Float(x) => add_f64(&self.float_bits, x),
                }
                Ok(())
            }

            /// Adds one, with an exemplar: labels (a trace id, say) that OpenMetrics and
            /// protobuf scrapes show beside the total until the next exemplar replaces
            /// them. The count goes up even when the exemplar is refused.
            ///
            /// # Errors
            ///
            /// [`InvalidExemplar`] when a label name is invalid or the names and values
            /// have more than [`MAX_EXEMPLAR_LABEL_CHARS`](crate::MAX_EXEMPLAR_LABEL_CHARS)
            /// characters together.
            ///
            #[doc = concat!("```
let c = promlink_core::", stringify!($counter), "::new();
c.inc_with_exemplar(&[(\"trace_id\", \"4bf92f3577b34da6\")]).unwrap();
assert!(c.inc_with_exemplar(&[(\"trace_id\", &\"x\".repeat(200))]).is_err());
assert_eq!(c.get(), 2.0);
```")]
            pub fn inc_with_exemplar(&self, exemplar: &[(&str, &str)]) -> Result<(), InvalidExemplar> {
                self.inc();
                self.exemplar.set(exemplar, 1.0)
            }

            /// Adds 1, with the current call's exemplar when the
            /// [`ExemplarSource`](crate::ExemplarSource) has one and a scrape has asked for
            /// a format that shows exemplars; as [`inc`](Self::inc) otherwise. What
            /// `#[counted]` and the request metrics layer call. An exemplar the source
            /// gives that is refused is dropped; the call is counted.
            #[inline]
            pub fn inc_traced(&self) {
                crate::exemplar_source::traced(
                    || self.inc(),
                    |labels| {
                        let _refused = self.inc_with_exemplar(labels);
                    },
                );
            }

            /// Adds `amount` as [`inc_by`](Self::inc_by) does, with an exemplar of that
            /// amount, as [`inc_with_exemplar`](Self::inc_with_exemplar) keeps it.
            ///
            /// # Errors
            ///
            /// As [`inc_with_exemplar`](Self::inc_with_exemplar).
            ///
            /// # Panics
            ///
            /// As [`inc_by`](Self::inc_by), for a negative or NaN `amount`.
            #[track_caller]
            pub fn inc_by_with_exemplar(
                &self,
                amount: f64,
                exemplar: &[(&str, &str)],
            ) -> Result<(), InvalidExemplar> {
                self.inc_by(amount);
                self.exemplar.set(exemplar, amount)
            }

            /// The current total.
            pub fn get(&self) -> f64 {
                self.value().as_f64()
            }

            fn value(&self) -> Value {
                total(self.int_total(), &self.float_bits)
            }
        }

        impl Series for $counter {
            const KIND: MetricType = MetricType::Counter;
            type Shared = ();

            fn new_series(&self) -> Self {
                $counter::new()
            }

            fn shared(&self) {}

            fn encode_series(
                &self,
                (): &(),
                enc: &mut SeriesEncoder<'_>,
                labels: &[u8],
                created: f64,
            ) {
                // The text format shows none.
                let exemplar = (enc.format() != crate::Format::Text)
                    .then(|| self.exemplar.get())
                    .flatten();
                enc.counter(labels, self.value(), Some(created), exemplar.as_ref());
            }
        }
    )+};
}

counter_api!(Counter, ShardedCounter);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exemplars_show_in_openmetrics_and_never_in_text() {
        static JOBS: crate::Metric<Counter> =
            crate::Metric::new("jobs_total", "Jobs.", Counter::new());
        JOBS.inc_with_exemplar(&[("trace_id", "a\"b")]).unwrap();
        assert!(JOBS.inc_with_exemplar(&[("bad-name", "x")]).is_err());
        assert_eq!(JOBS.get(), 2.0, "counted even when the exemplar is refused");
        let registry = crate::Registry::new();
        registry.register_static(&JOBS).unwrap();
        let openmetrics = registry.encode_to_string(crate::Format::OpenMetrics);
        let line = openmetrics
            .lines()
            .find(|l| l.starts_with("jobs_total "))
            .unwrap();
        let (sample, exemplar) = line.split_once(" # ").unwrap();
        assert_eq!(sample, "jobs_total 2.0");
        let (labels_and_value, timestamp) = exemplar.rsplit_once(' ').unwrap();
        assert_eq!(labels_and_value, "{trace_id=\"a\\\"b\"} 1.0");
        let timestamp: f64 = timestamp.parse().unwrap();
        assert!(
            (timestamp - crate::time::unix_time()).abs() < 60.0,
            "{timestamp}"
        );
        let text = registry.encode_to_string(crate::Format::Text);
        assert!(!text.contains("trace_id"), "{text}");
    }

    #[test]
    fn integers_stay_exact_beyond_f64() {
        let c = Counter::new();
        c.inc_by_u64(u64::MAX - 1);
        c.inc();
        assert_eq!(c.value(), Value::Int(u64::MAX));
    }

    /// The `_total` line of `counter` as a registry exports it, in both formats.
    fn exported(counter: &'static dyn crate::Collect) -> [String; 2] {
        let registry = crate::Registry::new();
        registry.register_static(counter).unwrap();
        [crate::Format::Text, crate::Format::OpenMetrics].map(|format| {
            let text = registry.encode_to_string(format);
            text.lines()
                .find(|line| line.starts_with("top_total "))
                .unwrap_or_else(|| panic!("no top_total in {text}"))
                .to_owned()
        })
    }

    #[test]
    fn counts_stop_at_the_top_instead_of_wrapping() {
        static TOP: crate::Metric<Counter> =
            crate::Metric::new("top_total", "Top.", Counter::new());
        TOP.inc_by_u64(u64::MAX);
        TOP.inc();
        let top = "top_total 18446744073709551615.0";
        assert_eq!(exported(&TOP), [top, top]);
        TOP.inc();
        TOP.inc_by_u64(u64::MAX);
        TOP.inc_by(3.0);
        TOP.inc_by_u64(0);
        assert_eq!(TOP.value(), Value::Int(u64::MAX));
        assert_eq!(exported(&TOP), [top, top]);
    }

    #[test]
    fn every_add_that_crosses_the_top_stops_there() {
        for (start, amount) in [
            (u64::MAX - 1, 2),
            (u64::MAX - 5, 6),
            (1, u64::MAX),
            (1 << 63, 1 << 63),
        ] {
            let c = Counter::new();
            c.inc_by_u64(start);
            c.inc_by_u64(amount);
            assert_eq!(c.value(), Value::Int(u64::MAX), "{start} + {amount}");
        }
    }

    #[test]
    fn threads_incrementing_at_the_top_leave_it_there() {
        let c = Counter::new();
        c.inc_by_u64(u64::MAX - 100);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..10_000).for_each(|_| c.inc()));
            }
        });
        assert_eq!(c.value(), Value::Int(u64::MAX));
    }

    #[test]
    fn sharded_counts_stop_at_the_top_line_by_line_and_in_total() {
        let c = ShardedCounter::new();
        c.inc_by_u64(u64::MAX);
        c.inc();
        assert_eq!(c.value(), Value::Int(u64::MAX));
        // Two lines, each below the top, whose total is past it.
        let c = ShardedCounter::new();
        c.stripes[0].0.store(1 << 63, Relaxed);
        c.stripes[1].0.store(1 << 63, Relaxed);
        assert_eq!(c.value(), Value::Int(u64::MAX));
    }

    #[test]
    fn fractions_and_integers_add_up() {
        let c = Counter::new();
        c.inc_by(0.25);
        c.inc_by(3.0);
        c.inc_by(f64::INFINITY);
        assert_eq!(c.get(), f64::INFINITY);
    }

    #[test]
    #[should_panic(expected = "counters can only increase")]
    fn negative_increments_panic() {
        Counter::new().inc_by(-0.5);
    }

    #[test]
    fn sharded_counts_stay_exact_across_threads() {
        let c = ShardedCounter::new();
        std::thread::scope(|s| {
            for _ in 0..(STRIPES + 3) {
                s.spawn(|| (0..10_000).for_each(|_| c.inc()));
            }
        });
        let threads = u32::try_from(STRIPES + 3).unwrap();
        assert_eq!(c.value(), Value::Int(10_000 * u64::from(threads)));
        c.inc_by(0.5);
        assert_eq!(c.get(), 10_000.0 * f64::from(threads) + 0.5);
        assert!(c.try_inc_by(-1.0).is_err());
    }

    #[test]
    fn nan_is_an_error() {
        let c = Counter::new();
        assert_eq!(c.try_inc_by(f64::NAN).map_err(|e| e.0.is_nan()), Err(true));
        assert_eq!(c.get(), 0.0);
    }
}
