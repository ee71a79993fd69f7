//! Counters: totals that only go up.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::descriptor::MetricType;
use crate::encoding::{SeriesEncoder, Value};
use crate::metric::Series;

/// A monotonically increasing total.
///
/// Integer increments are one relaxed atomic add; fractional ones add to a separate
/// float cell with a compare-and-swap loop, so integer counts stay exact at any size.
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
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.int.fetch_add(1, Relaxed);
    }

    /// Adds an integer amount.
    #[inline]
    pub fn inc_by_u64(&self, amount: u64) {
        self.int.fetch_add(amount, Relaxed);
    }

    /// Adds `amount`.
    ///
    /// # Panics
    ///
    /// If `amount` is negative (as the Go and Python clients refuse it) or NaN (which
    /// both let through, leaving the counter NaN for good); use
    /// [`try_inc_by`](Self::try_inc_by) to get an error instead.
    ///
    /// ```should_panic
    /// promlink_core::Counter::new().inc_by(-1.0); // panics: counters can only increase
    /// ```
    #[inline]
    #[track_caller]
    pub fn inc_by(&self, amount: f64) {
        if let Err(e) = self.try_inc_by(amount) {
            panic!("{e}");
        }
    }

    /// Adds `amount`, or returns an error when it is negative or NaN.
    ///
    /// # Errors
    ///
    /// [`InvalidIncrement`] for a negative or NaN `amount`; the counter is unchanged.
    ///
    /// ```
    /// let c = promlink_core::Counter::new();
    /// assert!(c.try_inc_by(f64::NAN).is_err());
    /// assert!(c.try_inc_by(2.0).is_ok());
    /// ```
    #[inline]
    pub fn try_inc_by(&self, amount: f64) -> Result<(), InvalidIncrement> {
        if amount.is_nan() || amount < 0.0 {
            return Err(InvalidIncrement(amount));
        }
        if amount.fract() == 0.0 && amount < 9_007_199_254_740_992.0 {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            // integral, 0 <= amount < 2^53
            self.int.fetch_add(amount as u64, Relaxed);
        } else {
            add_f64(&self.float_bits, amount);
        }
        Ok(())
    }

    /// The current total.
    pub fn get(&self) -> f64 {
        self.value().as_f64()
    }

    fn value(&self) -> Value {
        let int = self.int.load(Relaxed);
        let float = f64::from_bits(self.float_bits.load(Relaxed));
        if float == 0.0 {
            Value::Int(int)
        } else {
            Value::Float(Value::Int(int).as_f64() + float)
        }
    }
}

/// Adds to an `f64` kept as bits in an `AtomicU64`.
#[inline]
pub(crate) fn add_f64(cell: &AtomicU64, amount: f64) {
    let _ = cell.fetch_update(Relaxed, Relaxed, |bits| {
        Some((f64::from_bits(bits) + amount).to_bits())
    });
}

impl Series for Counter {
    const KIND: MetricType = MetricType::Counter;
    type Shared = ();

    fn new_series(&self) -> Self {
        Counter::new()
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], created: f64) {
        enc.sample("_total", labels, None, self.value());
        enc.write_created(labels, created);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_stay_exact_beyond_f64() {
        let c = Counter::new();
        c.inc_by_u64(u64::MAX - 1);
        c.inc();
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
    fn nan_is_an_error() {
        let c = Counter::new();
        assert_eq!(c.try_inc_by(f64::NAN).map_err(|e| e.0.is_nan()), Err(true));
        assert_eq!(c.get(), 0.0);
    }
}
