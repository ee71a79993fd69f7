//! Exemplars: a counter's or a histogram bucket's latest sample with labels of its own
//! (a trace id, typically) that point from a metric to an example of what it counts.
//!
//! Each series or bucket keeps its latest exemplar only, replaced whole: the update
//! allocates the new one and swaps it in; the one it replaces is freed once no scrape can
//! be reading it (by `seize`, as removed children are). Updates without an exemplar never
//! touch it.

use core::fmt;
use core::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

use seize::{Guard, LocalGuard};

use crate::descriptor::is_label_name;
use crate::reclaim::collector;

/// The most characters an exemplar's label names and values may have together, as
/// OpenMetrics allows.
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// Why an exemplar was refused. The value it came with is counted all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidExemplar {
    /// The label names and values have more than [`MAX_EXEMPLAR_LABEL_CHARS`] characters.
    TooLong {
        /// How many they have.
        chars: usize,
    },
    /// A label name is not a valid Prometheus label name.
    LabelName(String),
}

impl fmt::Display for InvalidExemplar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidExemplar::TooLong { chars } => write!(
                f,
                "an exemplar's labels have {chars} characters, more than the \
                 {MAX_EXEMPLAR_LABEL_CHARS} OpenMetrics allows; the value was counted without it"
            ),
            InvalidExemplar::LabelName(name) => write!(
                f,
                "`{name}` is not a valid label name for an exemplar; the value was counted without it"
            ),
        }
    }
}

impl std::error::Error for InvalidExemplar {}

/// One exemplar: its labels, the value observed or added, and when.
#[derive(Debug)]
pub(crate) struct Exemplar {
    pub(crate) labels: Box<[(Box<str>, Box<str>)]>,
    pub(crate) value: f64,
    /// Seconds since the Unix epoch.
    pub(crate) timestamp: f64,
}

impl Exemplar {
    /// An exemplar of `value` now, with `labels` checked.
    pub(crate) fn new(labels: &[(&str, &str)], value: f64) -> Result<Self, InvalidExemplar> {
        if let Some((name, _)) = labels.iter().find(|(name, _)| !is_label_name(name)) {
            return Err(InvalidExemplar::LabelName((*name).to_owned()));
        }
        let chars = labels
            .iter()
            .map(|(name, value)| name.chars().count() + value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            return Err(InvalidExemplar::TooLong { chars });
        }
        Ok(Exemplar {
            labels: labels.iter().map(|&(n, v)| (n.into(), v.into())).collect(),
            value,
            timestamp: crate::time::unix_time(),
        })
    }
}

/// The latest exemplar of a series or a bucket, or none yet.
#[derive(Default)]
pub(crate) struct ExemplarSlot(AtomicPtr<Exemplar>);

impl ExemplarSlot {
    pub(crate) const fn new() -> Self {
        ExemplarSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Makes `exemplar` the latest.
    pub(crate) fn set(&self, exemplar: Exemplar) {
        let new = Box::into_raw(Box::new(exemplar));
        let old = self.0.swap(new, Ordering::AcqRel);
        if !old.is_null() {
            // SAFETY: out of the slot now, and from `Box::into_raw`; a scrape still reading
            // it holds a guard from before the swap.
            unsafe { collector().retire(old, seize::reclaim::boxed) };
        }
    }

    /// Calls `f` with the latest exemplar, if any.
    pub(crate) fn read<R>(&self, f: impl FnOnce(Option<&Exemplar>) -> R) -> R {
        if self.0.load(Ordering::Relaxed).is_null() {
            return f(None);
        }
        f(self.get(&pin()))
    }
}

/// Keeps every exemplar read under it alive, for a scrape that reads several.
pub(crate) struct Pin(LocalGuard<'static>);

/// A [`Pin`] for reading exemplars.
pub(crate) fn pin() -> Pin {
    Pin(collector().enter())
}

impl ExemplarSlot {
    /// The latest exemplar, kept alive by `pin`.
    pub(crate) fn get<'p>(&self, pin: &'p Pin) -> Option<&'p Exemplar> {
        let exemplar = pin.0.protect(&self.0, Ordering::Acquire);
        // SAFETY: in the slot when the pin protected it; freed only after the pin goes.
        unsafe { exemplar.as_ref() }
    }
}

impl Drop for ExemplarSlot {
    fn drop(&mut self) {
        let last = *self.0.get_mut();
        if !last.is_null() {
            // SAFETY: the slot's own, from `Box::into_raw`: whoever drops the slot holds it
            // alone, and replaced ones went to the collector.
            drop(unsafe { Box::from_raw(last) });
        }
    }
}

impl fmt::Debug for ExemplarSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.read(|exemplar| f.debug_tuple("ExemplarSlot").field(&exemplar).finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked_and_counted_in_characters() {
        let ok = Exemplar::new(&[("trace_id", "4bf92f3577b34da6")], 0.5).unwrap();
        assert_eq!(ok.value, 0.5);
        assert!(ok.timestamp > 1.6e9);
        // 8 + 120 = 128 characters: at the limit; one more is over it.
        let at_limit = "é".repeat(120);
        assert!(Exemplar::new(&[("trace_id", &at_limit)], 1.0).is_ok());
        let over = "é".repeat(121);
        assert_eq!(
            Exemplar::new(&[("trace_id", &over)], 1.0).unwrap_err(),
            InvalidExemplar::TooLong { chars: 129 }
        );
        assert_eq!(
            Exemplar::new(&[("trace-id", "x")], 1.0).unwrap_err(),
            InvalidExemplar::LabelName("trace-id".into())
        );
    }

    #[test]
    fn the_latest_replaces_the_one_before() {
        let slot = ExemplarSlot::new();
        assert!(slot.read(|e| e.is_none()));
        for i in 0..100 {
            slot.set(Exemplar::new(&[("i", &i.to_string())], f64::from(i)).unwrap());
        }
        assert_eq!(slot.read(|e| e.map(|e| e.value)), Some(99.0));
    }
}
