//! Families whose labels all have a fixed set of values: children in an array.

use core::fmt;
use core::marker::PhantomData;
use std::sync::OnceLock;

use crate::descriptor::assert_label_names;
use crate::encoding::render_label_pairs;
use crate::label::FixedLabelValues;
use crate::metric::{EncodeMetric, Series};
use crate::{Format, MetricType, SeriesEncoder};

/// Each child's labels, rendered.
type Rendered = Box<[Box<[u8]>]>;

/// A family whose label types all have a fixed set of values (`bool`, enums deriving
/// `LabelValue`): one child per combination, in an array of `K` = the number of
/// combinations. A lookup is an index computation; no hashing, no lock, no allocation,
/// and every combination is exported (at 0) from the first scrape.
///
/// ```
/// use promlink_core::{Counter, DenseFamily, Metric};
///
/// static CACHE_LOOKUPS: Metric<DenseFamily<Counter, (bool,), 2>> = Metric::new(
///     "cache_lookups_total",
///     "Cache lookups by hit.",
///     DenseFamily::new(&["hit"], [const { Counter::new() }; 2]),
/// );
/// CACHE_LOOKUPS.labels((true,)).inc();
/// assert_eq!(CACHE_LOOKUPS.labels((true,)).get(), 1.0);
/// assert_eq!(CACHE_LOOKUPS.labels((false,)).get(), 0.0);
/// ```
pub struct DenseFamily<M, L, const K: usize> {
    label_names: &'static [&'static str],
    children: [M; K],
    /// Each child's labels, rendered at the first scrape: for the text formats, and for
    /// protobuf.
    rendered: [OnceLock<Rendered>; 2],
    labels: PhantomData<fn(L)>,
}

impl<M: Series, L: FixedLabelValues, const K: usize> DenseFamily<M, L, K> {
    /// A family with the given label names, one per element of `L`, and its children.
    ///
    /// # Panics
    ///
    /// If `K` is not the number of combinations of `L`, the names do not match `L`, or a
    /// name is invalid, repeated or reserved; in a `static`, at compile time.
    #[track_caller]
    pub const fn new(label_names: &'static [&'static str], children: [M; K]) -> Self {
        assert!(
            K == L::CARDINALITY,
            "a dense family needs one child per combination of label values"
        );
        assert!(
            label_names.len() == L::ARITY,
            "one label name per label value type"
        );
        assert_label_names(label_names, M::KIND);
        DenseFamily {
            label_names,
            children,
            rendered: [OnceLock::new(), OnceLock::new()],
            labels: PhantomData,
        }
    }

    /// The child for `values`.
    #[inline]
    #[allow(clippy::needless_pass_by_value)] // tuples of small enums read best by value
    pub fn labels(&self, values: L) -> &M {
        &self.children[values.index()]
    }

    fn rendered(&self, format: Format) -> &[Box<[u8]>] {
        self.rendered[usize::from(format == Format::Protobuf)].get_or_init(|| {
            (0..K)
                .map(|index| {
                    let mut out = Vec::new();
                    let values = (0..L::ARITY).map(|label| L::value_text(index, label));
                    let pairs = self.label_names.iter().copied().zip(values);
                    render_label_pairs(&mut out, format, pairs);
                    out.into_boxed_slice()
                })
                .collect()
        })
    }
}

impl<M: Series + fmt::Debug, L, const K: usize> fmt::Debug for DenseFamily<M, L, K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DenseFamily")
            .field("label_names", &self.label_names)
            .field("children", &self.children)
            .finish_non_exhaustive()
    }
}

impl<M: Series, L: FixedLabelValues, const K: usize> EncodeMetric for DenseFamily<M, L, K> {
    const KIND: MetricType = M::KIND;

    fn label_names(&self) -> &[&'static str] {
        self.label_names
    }

    fn encode_metric(&self, enc: &mut SeriesEncoder<'_>) {
        let created = enc.created();
        // Children may have been built differently (other buckets, other states): each
        // brings its own shared data.
        for (child, labels) in self.children.iter().zip(self.rendered(enc.format())) {
            child.encode_series(&child.shared(), enc, labels, created);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Format, Metric, Registry};
    use std::sync::Arc;

    #[test]
    fn every_combination_is_exported_from_the_start() {
        let registry = Registry::new();
        let family = Arc::new(Metric::new(
            "flags_total",
            "Flags.",
            DenseFamily::<Counter, (bool, bool), 4>::new(
                &["a", "b"],
                [const { Counter::new() }; 4],
            ),
        ));
        registry.register(family.clone()).unwrap();
        family.labels((true, false)).inc();
        let text = registry.encode_to_string(Format::Text);
        assert_eq!(
            text,
            "# HELP flags_total Flags.\n# TYPE flags_total counter\n\
             flags_total{a=\"false\",b=\"false\"} 0.0\nflags_total{a=\"false\",b=\"true\"} 0.0\n\
             flags_total{a=\"true\",b=\"false\"} 1.0\nflags_total{a=\"true\",b=\"true\"} 0.0\n"
        );
    }
}
