//! Families addressed at run time: label values given as a slice in the order of the
//! family's label names, for code that fills labels it finds by name (the request metrics
//! layer fills `method`, `endpoint` and `status` wherever a user's family has them).

use super::{Child, Family};
use crate::metric::{Metric, Series};

/// A family of `M` series whose children are looked up by a slice of label values, in the
/// order of [`label_names`](Self::label_names): object-safe, so that one piece of code can
/// feed families of any label count.
///
/// Implemented for [`Family`], for a [`Metric`] of one, and for `&'static` references and
/// `Arc`s to either (a declared `static`, a family made at run time).
///
/// ```
/// use promlink_core::{Counter, Family, LabelledFamily};
///
/// let requests = Family::new(["method", "status"], Counter::new());
/// let by_name: &dyn LabelledFamily<Counter> = &requests;
/// assert_eq!(by_name.label_names(), ["method", "status"]);
/// by_name.with_child_of(&["GET", "200"], &mut |counter| counter.inc());
/// assert_eq!(requests.labels(("GET", 200)).get(), 1.0);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a labelled family of `{M}` series",
    label = "expected a metric declared with labels whose series are `{M}`"
)]
pub trait LabelledFamily<M>: Send + Sync {
    /// The label names, in the order values are given.
    fn label_names(&self) -> &[&'static str];

    /// The child for `values`, created on first use.
    ///
    /// # Panics
    ///
    /// Unless there is one value per label name.
    fn child_of(&self, values: &[&str]) -> Child<M>;

    /// Calls `f` with the child for `values`, without taking a handle.
    ///
    /// # Panics
    ///
    /// Unless there is one value per label name.
    fn with_child_of(&self, values: &[&str], f: &mut dyn FnMut(&M));
}

/// `values` as an array of the family's label count.
fn exactly<'a, const N: usize>(values: &[&'a str]) -> [&'a str; N] {
    values.try_into().unwrap_or_else(|_| {
        panic!(
            "a family with {N} labels was given {} label values",
            values.len()
        )
    })
}

impl<M: Series, const N: usize> LabelledFamily<M> for Family<M, N> {
    fn label_names(&self) -> &[&'static str] {
        Family::label_names(self)
    }

    fn child_of(&self, values: &[&str]) -> Child<M> {
        self.labels(exactly::<N>(values))
    }

    fn with_child_of(&self, values: &[&str], f: &mut dyn FnMut(&M)) {
        self.with_labels(exactly::<N>(values), f);
    }
}

/// Forwards to what `$ty` holds or points at.
macro_rules! forward {
    ($(impl[$($generics:tt)*] for $ty:ty;)*) => {$(
        impl<$($generics)*> LabelledFamily<M> for $ty {
            fn label_names(&self) -> &[&'static str] {
                LabelledFamily::label_names(&**self)
            }

            fn child_of(&self, values: &[&str]) -> Child<M> {
                (**self).child_of(values)
            }

            fn with_child_of(&self, values: &[&str], f: &mut dyn FnMut(&M)) {
                (**self).with_child_of(values, f);
            }
        }
    )*};
}

forward! {
    impl[M, F: LabelledFamily<M> + crate::metric::EncodeMetric] for Metric<F>;
    impl[M, F: LabelledFamily<M> + ?Sized] for &'static F;
    impl[M, F: LabelledFamily<M> + ?Sized] for std::sync::Arc<F>;
}

/// A metric whose labels are all among `method`, `endpoint` and `status`: what the request
/// metrics layer (`promlink::tower`) can fill for a request counter or duration histogram.
/// `declare_metrics!` implements it for the labelled metrics it declares whose labels
/// qualify by name and type (text for `method` and `endpoint`, text or an integer for
/// `status`), so the compiler refuses any other; a [`Metric`] of a [`Family`] built by hand
/// has it too, and its labels are checked when the layer is built.
#[diagnostic::on_unimplemented(
    message = "the request metrics layer cannot fill every label of `{Self}`",
    label = "needs labels among `method`, `endpoint` and `status`",
    note = "the layer knows a request's `method` and `endpoint` (the route template), as text, \
            and its `status`, as text or an integer: declare the metric with labels among \
            those three, in any order, of those types"
)]
pub trait RequestLabels: Sync + 'static {
    /// The metric's family, as the layer feeds it.
    type Family: crate::metric::Collect + 'static;

    /// The family.
    fn family(&self) -> &Self::Family;
}

/// A metric whose labels are all among `method` and `endpoint`: what the request metrics
/// layer can fill for requests in flight, whose status is not known yet. Implemented as
/// [`RequestLabels`] is.
#[diagnostic::on_unimplemented(
    message = "the request metrics layer cannot fill every label of `{Self}` for a request in flight",
    label = "needs labels among `method` and `endpoint`",
    note = "a request in flight has a `method` and an `endpoint` (the route template), as \
            text, and no status yet: declare the gauge with labels among those two"
)]
pub trait InFlightLabels: RequestLabels {}

impl<M: Series, const N: usize> RequestLabels for Metric<Family<M, N>> {
    type Family = Self;

    fn family(&self) -> &Self {
        self
    }
}

impl<M: Series, const N: usize> InFlightLabels for Metric<Family<M, N>> {}
