//! What `#[counted]`, `#[timed]` and `#[in_progress]` expand to at run time: drop guards
//! that record a call however it ends (return, `?`, panic, a future dropped early), and
//! the outcome of a call, read from its return value's type.

use core::marker::PhantomData;
use std::time::Instant;

use crate::dense::DenseFamily;
use crate::label::{FixedLabelValue, LabelText, LabelValue};
use crate::{Counter, Histogram, Metric};

/// How a call ended: the `result` label of `function_calls_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallResult {
    /// Returned; for a `Result`, returned `Ok`.
    Ok,
    /// Returned `Err`, or left through `?`.
    Error,
    /// Panicked.
    Panic,
    /// An `async fn` whose future was dropped before it completed.
    Cancelled,
}

impl LabelValue for CallResult {
    #[inline]
    fn label_text(&self) -> LabelText<'_> {
        LabelText::from(Self::VALUES[self.index()])
    }
}

impl FixedLabelValue for CallResult {
    const VALUES: &'static [&'static str] = &["ok", "error", "panic", "cancelled"];

    #[inline]
    fn index(&self) -> usize {
        *self as usize
    }
}

/// Calls of one function by outcome: what `#[counted]` declares per function.
pub type CallCounts = Metric<DenseFamily<Counter, (CallResult,), 4>>;

/// Counts one call when dropped, with its outcome.
///
/// [`finish`](Self::finish) records the returned value's outcome; a guard dropped
/// without it counts a panic when unwinding, otherwise an early exit: through `?` in a
/// function returning `Result` (an error), or a cancelled future.
#[must_use]
pub struct CallGuard<'a> {
    calls: &'a DenseFamily<Counter, (CallResult,), 4>,
    early_exit: CallResult,
    finished: bool,
}

impl<'a> CallGuard<'a> {
    /// A guard for a synchronous function; `returns_result` from [`ReturnKind`].
    #[inline]
    pub fn new(calls: &'a CallCounts, returns_result: bool) -> Self {
        let early_exit = if returns_result {
            CallResult::Error
        } else {
            CallResult::Ok
        };
        CallGuard {
            calls,
            early_exit,
            finished: false,
        }
    }

    /// A guard for the body of an `async fn`: dropped unfinished, its future was cancelled.
    #[inline]
    pub fn new_async(calls: &'a CallCounts) -> Self {
        CallGuard {
            calls,
            early_exit: CallResult::Cancelled,
            finished: false,
        }
    }

    /// Counts the call with the outcome of what it returned.
    #[inline]
    pub fn finish(mut self, outcome: CallResult) {
        self.finished = true;
        self.calls.labels((outcome,)).inc_traced();
    }
}

impl Drop for CallGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        if !self.finished {
            let outcome = if std::thread::panicking() {
                CallResult::Panic
            } else {
                self.early_exit
            };
            self.calls.labels((outcome,)).inc_traced();
        }
    }
}

/// What `#[counted(TARGET)]` counts calls into: a counter, or a child of a counter family.
#[diagnostic::on_unimplemented(
    message = "`#[counted(..)]` counts calls into one counter series, and `{Self}` is not one",
    label = "not one counter series",
    note = "a target with labels needs their values: `#[counted(NAME, labels(label = value, ..))]`; \
            otherwise declare it as a `counter` in `declare_metrics!` (for calls in progress \
            `#[in_progress(..)]` takes a gauge, for durations `#[timed(..)]` a histogram)"
)]
pub trait CountTarget {
    /// Counts one call.
    fn count_call(&self);
}

/// What `#[timed(TARGET)]` observes durations into: a histogram or a summary, or a child
/// of a family of them.
#[diagnostic::on_unimplemented(
    message = "`#[timed(..)]` observes durations into one histogram or summary series, and `{Self}` is not one",
    label = "not one histogram or summary series",
    note = "a target with labels needs their values: `#[timed(NAME, labels(label = value, ..))]`; \
            otherwise declare it as a `histogram NAME_SECONDS .. buckets [..]` in \
            `declare_metrics!` (to count calls, `#[counted(..)]` takes a counter)"
)]
pub trait TimeTarget {
    /// Observes one call's duration.
    fn observe_call(&self, seconds: f64);
}

/// What `#[in_progress(TARGET)]` tracks calls in: a gauge, or a child of a gauge family.
#[diagnostic::on_unimplemented(
    message = "`#[in_progress(..)]` tracks calls in progress in one gauge series, and `{Self}` is not one",
    label = "not one gauge series",
    note = "a target with labels needs their values: `#[in_progress(NAME, labels(label = value, ..))]`; \
            otherwise declare it as a `gauge` in `declare_metrics!` (to count calls, \
            `#[counted(..)]` takes a counter)"
)]
pub trait InProgressTarget {
    /// Adds `delta` (one call started, or ended) to the gauge.
    fn add_calls(&self, delta: f64);
}

/// Implements a target trait for a reference to a metric and for a family's child of it;
/// in the items, `**self` is the metric either way.
macro_rules! targets {
    ($(impl[$($generics:tt)*] $trait:ident for $metric:ty { $($item:tt)* })*) => {$(
        impl<$($generics)*> $trait for &$metric {
            $($item)*
        }
        impl<$($generics)*> $trait for crate::Child<$metric> {
            $($item)*
        }
    )*};
}

targets! {
    impl[] CountTarget for Counter {
        #[inline]
        fn count_call(&self) {
            (**self).inc_traced();
        }
    }
    impl[] CountTarget for crate::ShardedCounter {
        #[inline]
        fn count_call(&self) {
            (**self).inc_traced();
        }
    }
    impl[const N: usize] TimeTarget for Histogram<N> {
        #[inline]
        fn observe_call(&self, seconds: f64) {
            (**self).observe_traced(seconds);
        }
    }
    impl[] TimeTarget for crate::Summary {
        #[inline]
        fn observe_call(&self, seconds: f64) {
            (**self).observe(seconds);
        }
    }
    impl[] InProgressTarget for crate::Gauge {
        #[inline]
        fn add_calls(&self, delta: f64) {
            (**self).add(delta);
        }
    }
}

// The guards below hold the target's method as a function pointer, set where the bound
// is checked (`new`), rather than bound the struct by the trait: a target of the wrong
// kind is then one error, on the target, not a second one on the guard's type (a
// function item in a type parameter brings the second one back). In a sync function
// `new` is inlined and the call is direct; a guard kept across an `.await` stores the
// pointer in the future (8 bytes) and calls through it, a few cycles beside the update.

/// Observes a call's duration in seconds when dropped, however the call ends.
#[must_use]
pub struct DurationGuard<T> {
    target: T,
    observe: fn(&T, f64),
    start: Instant,
}

impl<T> DurationGuard<T> {
    /// Starts timing.
    #[inline]
    pub fn new(target: T) -> Self
    where
        T: TimeTarget,
    {
        DurationGuard {
            target,
            observe: T::observe_call,
            start: Instant::now(),
        }
    }
}

impl<T> Drop for DurationGuard<T> {
    #[inline]
    fn drop(&mut self) {
        (self.observe)(&self.target, self.start.elapsed().as_secs_f64());
    }
}

/// Counts one call when dropped, however it ends: a call counted into a user's counter.
#[must_use]
pub struct CountGuard<T> {
    target: T,
    count: fn(&T),
}

impl<T> CountGuard<T> {
    /// Counts the call when dropped.
    #[inline]
    pub fn new(target: T) -> Self
    where
        T: CountTarget,
    {
        CountGuard {
            target,
            count: T::count_call,
        }
    }
}

impl<T> Drop for CountGuard<T> {
    #[inline]
    fn drop(&mut self) {
        (self.count)(&self.target);
    }
}

/// A call in progress: one more in its gauge until dropped.
#[must_use]
pub struct InProgressGuard<T> {
    target: T,
    add: fn(&T, f64),
}

impl<T> InProgressGuard<T> {
    /// Adds the call to the gauge.
    #[inline]
    pub fn new(target: T) -> Self
    where
        T: InProgressTarget,
    {
        target.add_calls(1.0);
        InProgressGuard {
            target,
            add: T::add_calls,
        }
    }
}

impl<T> Drop for InProgressGuard<T> {
    #[inline]
    fn drop(&mut self) {
        (self.add)(&self.target, -1.0);
    }
}

/// The outcome of a returned value, chosen by its type with autoref specialisation:
/// `(&Returned(&value)).call_result()` is [`ResultOutcome`] for a `Result` (whatever the
/// spelling of its type: an alias like `io::Result` included) and [`PlainOutcome`]
/// otherwise. Both traits must be in scope.
pub struct Returned<'a, T: ?Sized>(pub &'a T);

/// See [`Returned`].
pub trait ResultOutcome {
    /// `Ok` or `Error`.
    fn call_result(&self) -> CallResult;
}

impl<T, E> ResultOutcome for Returned<'_, Result<T, E>> {
    #[inline]
    fn call_result(&self) -> CallResult {
        if self.0.is_ok() {
            CallResult::Ok
        } else {
            CallResult::Error
        }
    }
}

/// See [`Returned`].
pub trait PlainOutcome {
    /// Always `Ok`.
    fn call_result(&self) -> CallResult;
}

impl<T: ?Sized> PlainOutcome for &Returned<'_, T> {
    #[inline]
    fn call_result(&self) -> CallResult {
        CallResult::Ok
    }
}

/// Whether a type is a `Result`, by the same specialisation on a type alone:
/// `(&ReturnKind::<T>::new()).returns_result()`.
pub struct ReturnKind<T: ?Sized>(PhantomData<T>);

impl<T: ?Sized> ReturnKind<T> {
    /// For the type `T`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        ReturnKind(PhantomData)
    }
}

/// See [`ReturnKind`].
pub trait ReturnsResult {
    /// `true`.
    fn returns_result(&self) -> bool;
}

impl<T, E> ReturnsResult for ReturnKind<Result<T, E>> {
    #[inline]
    fn returns_result(&self) -> bool {
        true
    }
}

/// See [`ReturnKind`].
pub trait ReturnsOther {
    /// `false`.
    fn returns_result(&self) -> bool;
}

impl<T: ?Sized> ReturnsOther for &ReturnKind<T> {
    #[inline]
    fn returns_result(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type IoResult = std::io::Result<u8>;

    #[test]
    #[allow(clippy::needless_borrow)] // the borrow is the specialisation under test
    fn outcomes_follow_the_type() {
        let ok: IoResult = Ok(1);
        let err: Result<(), String> = Err("no".into());
        assert_eq!((&Returned(&ok)).call_result(), CallResult::Ok);
        assert_eq!((&Returned(&err)).call_result(), CallResult::Error);
        assert_eq!((&Returned(&5_u8)).call_result(), CallResult::Ok);
        assert!((&ReturnKind::<IoResult>::new()).returns_result());
        assert!(!(&ReturnKind::<Option<u8>>::new()).returns_result());
        assert!(!(&ReturnKind::<str>::new()).returns_result());
    }
}
