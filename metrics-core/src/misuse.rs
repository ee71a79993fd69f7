//! Methods that exist only to explain a mistake. Calling `dec` on a counter, `inc` on a
//! histogram, `inc` on a family (before choosing a child) or `labels` on a metric without
//! labels would be rustc's "no method named `dec`", which says nothing of what to do;
//! these methods exist, hidden from the docs, with a bound no type satisfies, so the
//! compiler reports the bound's message on the user's call instead. None can ever be
//! called. Being inherent, they come before a user's extension trait with a method of
//! the same name on these types; such a method is called as `Trait::method(&x)`.

use crate::{Counter, DenseFamily, Family, Histogram, Series, ShardedCounter, Summary};

/// Declares the methods: each a trait of its own (the message lives on the trait) and a
/// method on each type, bounded by the trait on `&()`, which nothing implements. Each
/// returns the metric, so that a call chained after it adds no second error.
macro_rules! misuses {
    ($(
        $trait:ident($message:literal, $label:literal, $note:literal) {
            $(impl[$($generics:tt)*] $ty:ty { $($method:ident($($arg:ident: $arg_ty:ty),*)),+ })+
        }
    )*) => {$(
        #[doc(hidden)]
        #[diagnostic::on_unimplemented(message = $message, label = $label, note = $note)]
        pub trait $trait {}

        $(
            #[allow(missing_docs, clippy::unused_self, unused_variables)]
            impl<$($generics)*> $ty {
                $(
                    #[doc(hidden)]
                    pub fn $method(&self, $($arg: $arg_ty),*) -> &Self
                    where
                        for<'a> &'a (): $trait,
                    {
                        self
                    }
                )+
            }
        )+
    )*};
}

misuses! {
    CounterOnlyGoesUp(
        "a counter only goes up: `dec`, `sub` and `set` are for gauges",
        "a counter cannot go down or be set",
        "declare a `gauge` for a value that goes up and down; a counter that restarts at zero is read with `rate()` or `increase()`"
    ) {
        impl[] Counter { dec(), sub(amount: f64), set(value: f64) }
        impl[] ShardedCounter { dec(), sub(amount: f64), set(value: f64) }
    }

    CountsComeFromObservations(
        "a histogram or summary counts observations: give it a value with `observe` instead",
        "not a counter",
        "`observe(seconds)`, `start_timer()` or `time(|| ..)` record a value; its `_count` counts them. To count events, declare a `counter`"
    ) {
        impl[const N: usize] Histogram<N> { inc(), inc_by(amount: f64), set(value: f64) }
        impl[] Summary { inc(), inc_by(amount: f64), set(value: f64) }
    }

    ObservationsAreForHistograms(
        "counters and gauges take no observations: `observe` is for histograms and summaries",
        "not a histogram",
        "declare a `histogram` (with buckets) to observe durations or sizes; a counter is `inc`-ed, a gauge `set`"
    ) {
        impl[] Counter { observe(value: f64) }
        impl[] crate::Gauge { observe(value: f64) }
    }

    NoLabelsDeclared(
        "this metric has no labels, so it has no series to look up with `.labels(..)`",
        "a metric without labels",
        "update it directly (`JOBS_TOTAL.inc()`), or declare labels in `declare_metrics!`: `counter JOBS_TOTAL {{ queue: &str }};`"
    ) {
        impl[] Counter { labels(values: impl Sized) }
        impl[] ShardedCounter { labels(values: impl Sized) }
        impl[] crate::Gauge { labels(values: impl Sized) }
        impl[const N: usize] Histogram<N> { labels(values: impl Sized) }
        impl[] Summary { labels(values: impl Sized) }
    }

    PickAChildFirst(
        "this metric has labels: pick the series first, with `.labels(..)` (or `.with(..)`), then update it",
        "a metric with labels, not one series",
        "for example `HTTP_REQUESTS_TOTAL.labels(\"GET\", \"/api/orders\", 200).inc()`"
    ) {
        impl[M: Series, const N: usize] Family<M, N> {
            inc(), inc_by(amount: f64), dec(), set(value: f64), observe(value: f64), start_timer(), get()
        }
        impl[M: Series, L: crate::FixedLabelValues, const K: usize] DenseFamily<M, L, K> {
            inc(), inc_by(amount: f64), dec(), set(value: f64), observe(value: f64), start_timer(), get()
        }
    }
}
