//! A family's cardinality limit: past it, or for a label value longer than
//! [`MAX_LABEL_VALUE_BYTES`], a new label set is counted in one overflow series whose
//! label values are all [`OVERFLOW_VALUE`] (as OpenTelemetry's overflow attribute), so
//! that a runaway label costs one series, not the process.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::ChildInner;

/// The label sets a family holds unless it says otherwise
/// ([`Family::with_max_series`](super::Family::with_max_series)): ten thousand, about a
/// megabyte and a half of counters, far beyond what a label of requests' method, route
/// and status makes, far below what a user id or a raw path would.
pub const DEFAULT_MAX_SERIES: usize = 10_000;

/// The longest label value a family takes, in bytes; a longer one is counted in the
/// overflow series.
pub const MAX_LABEL_VALUE_BYTES: usize = 2048;

/// Every label value of the overflow series.
pub const OVERFLOW_VALUE: &str = "__overflow__";

/// Whether a family may hold `values` as a label set of its own: every value short
/// enough, and not the overflow series' own label set, which a scrape would otherwise list
/// twice. (The number of label sets is the store's to check, under its lock.)
pub(super) fn fits(values: &[&[u8]]) -> bool {
    values.iter().all(|v| v.len() <= MAX_LABEL_VALUE_BYTES)
        && !values.iter().all(|v| *v == OVERFLOW_VALUE.as_bytes())
}

/// The overflow series of a family, made on the first label set refused, and the count of
/// lookups refused.
pub(super) struct Overflow<M> {
    child: Mutex<Option<Arc<ChildInner<M>>>>,
    refused: AtomicU64,
}

impl<M> Overflow<M> {
    pub(super) fn new() -> Self {
        Overflow {
            child: Mutex::new(None),
            refused: AtomicU64::new(0),
        }
    }

    /// Counts a refused label set and returns the overflow series, made by `make` if need
    /// be.
    pub(super) fn refuse(&self, make: impl FnOnce() -> ChildInner<M>) -> Arc<ChildInner<M>> {
        self.refused.fetch_add(1, Ordering::Relaxed);
        let mut child = self.child.lock().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(child.get_or_insert_with(|| Arc::new(make())))
    }

    /// The overflow series, if a label set was refused since the last [`clear`](Self::clear).
    pub(super) fn series(&self) -> Option<Arc<ChildInner<M>>> {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Drops the overflow series, as `Family::clear` drops every child.
    pub(super) fn clear(&self) {
        *self.child.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// How many lookups were refused, ever.
    pub(super) fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}
