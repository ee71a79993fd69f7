//! Gauges: values that go up and down, set directly or read from a callback.

use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use crate::counter::add_f64;
use crate::descriptor::MetricType;
use crate::encoding::{SeriesEncoder, Value};
use crate::metric::Series;

/// A value that goes up and down.
///
/// ```
/// use promlink_core::Gauge;
/// static CONNECTIONS: Gauge = Gauge::new();
/// CONNECTIONS.inc();
/// CONNECTIONS.add(4.0);
/// CONNECTIONS.dec();
/// assert_eq!(CONNECTIONS.get(), 4.0);
/// CONNECTIONS.set(42.0);
/// assert_eq!(CONNECTIONS.get(), 42.0);
/// ```
#[derive(Debug, Default)]
pub struct Gauge {
    bits: AtomicU64,
}

impl Gauge {
    /// A gauge at zero.
    pub const fn new() -> Self {
        Gauge {
            bits: AtomicU64::new(0),
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Adds `amount` (which may be negative).
    #[inline]
    pub fn add(&self, amount: f64) {
        add_f64(&self.bits, amount);
    }

    /// Subtracts `amount`.
    #[inline]
    pub fn sub(&self, amount: f64) {
        add_f64(&self.bits, -amount);
    }

    /// Sets the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Relaxed);
    }

    /// Sets the value to the current Unix time in seconds (Python's `set_to_current_time`).
    ///
    /// ```
    /// let last_success = promlink_core::Gauge::new();
    /// last_success.set_to_current_time();
    /// assert!(last_success.get() > 1.6e9);
    /// ```
    pub fn set_to_current_time(&self) {
        self.set(crate::time::unix_time());
    }

    /// The current value.
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Relaxed))
    }

    /// Adds one now and subtracts it when the returned guard drops (Python's
    /// `track_inprogress`).
    ///
    /// ```
    /// let in_flight = promlink_core::Gauge::new();
    /// {
    ///     let _guard = in_flight.track_in_progress();
    ///     assert_eq!(in_flight.get(), 1.0);
    /// }
    /// assert_eq!(in_flight.get(), 0.0);
    /// ```
    #[must_use = "the gauge goes back down when the guard drops"]
    pub fn track_in_progress(&self) -> InProgress<'_> {
        self.inc();
        InProgress { gauge: self }
    }
}

/// Subtracts one from its gauge when dropped; see [`Gauge::track_in_progress`].
#[derive(Debug)]
pub struct InProgress<'a> {
    gauge: &'a Gauge,
}

impl Drop for InProgress<'_> {
    fn drop(&mut self) {
        self.gauge.dec();
    }
}

impl Series for Gauge {
    const KIND: MetricType = MetricType::Gauge;
    type Shared = ();

    fn new_series(&self) -> Self {
        Gauge::new()
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], _created: f64) {
        enc.gauge(labels, Value::Float(self.get()));
    }
}

/// A gauge whose value a function computes at each scrape (Python's `set_function`).
///
/// The function runs while the scrape is encoded, with no deadline: keep it quick (read
/// a value, do not wait on I/O; a [`Collector`](crate::Collector) is the place for slow
/// work, which gets the scrape's deadline). A panic in it costs its own family only, and
/// is counted in `promlink_metric_failures_total`.
///
/// ```
/// use promlink_core::CallbackGauge;
/// fn queue_depth() -> f64 { 7.0 }
/// static QUEUE_DEPTH: CallbackGauge = CallbackGauge::new(queue_depth);
/// assert_eq!(QUEUE_DEPTH.get(), 7.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CallbackGauge {
    read: fn() -> f64,
}

impl CallbackGauge {
    /// A gauge that calls `read` at each scrape.
    pub const fn new(read: fn() -> f64) -> Self {
        CallbackGauge { read }
    }

    /// Calls the function.
    pub fn get(&self) -> f64 {
        (self.read)()
    }
}

impl Series for CallbackGauge {
    const KIND: MetricType = MetricType::Gauge;
    type Shared = ();

    fn new_series(&self) -> Self {
        *self
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], _created: f64) {
        enc.gauge(labels, Value::Float(self.get()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_adds_are_not_lost() {
        let g = Gauge::new();
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..10_000).for_each(|_| g.add(0.5)));
            }
        });
        assert_eq!(g.get(), 20_000.0);
    }
}
