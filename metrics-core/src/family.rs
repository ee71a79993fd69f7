//! Label families: one child series per set of label values.

use core::fmt;
use core::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::descriptor::{assert_label_names, MetricType};
use crate::encoding::{render_label_pairs, SeriesEncoder};
use crate::label::{key_values, LabelBuf, LabelValues};
use crate::metric::{EncodeMetric, Series};

type ChildMap<M> = papaya::HashMap<Box<[u8]>, Arc<ChildInner<M>>, KeyHasher>;

#[cfg(not(test))]
type KeyHasher = foldhash::fast::RandomState;
/// Unit tests hash every key to the same value, so that every lookup meets collisions and
/// only the comparison of whole keys tells label sets apart.
#[cfg(test)]
type KeyHasher = core::hash::BuildHasherDefault<tests::Colliding>;

/// A metric with `N` labels: one child series of type `M` per set of label values.
///
/// Looking a child up takes no lock: the children sit in a lock-free hash map (`papaya`)
/// keyed by the values' text with separators, compared on every hit, so two label sets
/// never share a child. A [`Child`] handle may be kept to skip the lookup.
///
/// ```
/// use promlink_core::{Counter, Family, Metric};
///
/// static REQUESTS: Metric<Family<Counter, 2>> =
///     Metric::new("requests_total", "Requests.", Family::new(["method", "code"], Counter::new()));
///
/// REQUESTS.labels(("GET", 200)).inc();
/// let post_500 = REQUESTS.labels(("POST", 500)); // a handle to keep
/// post_500.inc_by(2.0);
/// assert_eq!(REQUESTS.labels(("POST", 500)).get(), 2.0);
/// assert!(REQUESTS.remove(("GET", 200)));
/// ```
pub struct Family<M: Series, const N: usize> {
    label_names: [&'static str; N],
    prototype: M,
    children: OnceLock<ChildMap<M>>,
}

struct ChildInner<M> {
    metric: M,
    /// `name="value",...`, escaped: rendered once, written at every scrape.
    rendered_labels: Box<[u8]>,
    created: f64,
}

/// A handle to one child of a [`Family`]; dereferences to the child's metric.
///
/// Cloning is cheap. A handle kept after [`Family::remove`] or [`Family::clear`] still
/// works but is no longer exported, as in Python's client.
pub struct Child<M> {
    inner: Arc<ChildInner<M>>,
}

impl<M> Clone for Child<M> {
    fn clone(&self) -> Self {
        Child {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<M> Deref for Child<M> {
    type Target = M;

    #[inline]
    fn deref(&self) -> &M {
        &self.inner.metric
    }
}

impl<M: fmt::Debug> fmt::Debug for Child<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field(
                "labels",
                &String::from_utf8_lossy(&self.inner.rendered_labels),
            )
            .field("metric", &self.inner.metric)
            .finish()
    }
}

impl<M: Series, const N: usize> Family<M, N> {
    /// A family with the given label names whose children are fresh copies of `prototype`
    /// ([`Series::new_series`]): same buckets, same states.
    ///
    /// # Panics
    ///
    /// If a label name is invalid, repeated or reserved (`__` prefix, `le` on a histogram,
    /// `quantile` on a summary); in a `static`, at compile time.
    #[track_caller]
    pub const fn new(label_names: [&'static str; N], prototype: M) -> Self {
        assert!(
            N > 0,
            "a family needs at least one label; use the metric itself without labels"
        );
        assert_label_names(&label_names, M::KIND);
        Family {
            label_names,
            prototype,
            children: OnceLock::new(),
        }
    }

    /// The label names, in the order values are given.
    pub const fn label_names(&self) -> &[&'static str; N] {
        &self.label_names
    }

    fn map(&self) -> &ChildMap<M> {
        self.children.get_or_init(|| {
            papaya::HashMap::builder()
                .hasher(KeyHasher::default())
                .build()
        })
    }

    /// The child for `values`, created on first use.
    ///
    /// ```
    /// # use promlink_core::{Gauge, Family};
    /// let temperature = Family::new(["room"], Gauge::new());
    /// temperature.labels(["kitchen"]).set(21.5);
    /// assert_eq!(temperature.labels(["kitchen"]).get(), 21.5);
    /// ```
    #[inline]
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn labels(&self, values: impl LabelValues<N>) -> Child<M> {
        let mut key = LabelBuf::new();
        values.write_key(&mut key);
        let map = self.map().pin();
        if let Some(inner) = map.get(key.as_bytes()) {
            return Child {
                inner: Arc::clone(inner),
            };
        }
        drop(map);
        self.insert(key.as_bytes())
    }

    /// Calls `f` with the child for `values`, without taking a handle: the cheapest way to
    /// update a child once.
    ///
    /// ```
    /// # use promlink_core::{Counter, Family};
    /// let errors = Family::new(["kind"], Counter::new());
    /// errors.with_labels(["timeout"], |c| c.inc());
    /// ```
    #[inline]
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn with_labels<R>(&self, values: impl LabelValues<N>, f: impl FnOnce(&M) -> R) -> R {
        let mut key = LabelBuf::new();
        values.write_key(&mut key);
        let map = self.map().pin();
        if let Some(inner) = map.get(key.as_bytes()) {
            return f(&inner.metric);
        }
        drop(map);
        f(&self.insert(key.as_bytes()))
    }

    #[cold]
    fn insert(&self, key: &[u8]) -> Child<M> {
        let map = self.map().pin();
        let inner = map.get_or_insert_with(key.into(), || {
            let mut rendered = Vec::new();
            render_label_pairs(
                &mut rendered,
                self.label_names.iter().copied().zip(key_values(key)),
            );
            Arc::new(ChildInner {
                metric: self.prototype.new_series(),
                rendered_labels: rendered.into_boxed_slice(),
                created: crate::time::unix_time(),
            })
        });
        Child {
            inner: Arc::clone(inner),
        }
    }

    /// Removes the child for `values`; returns whether there was one.
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn remove(&self, values: impl LabelValues<N>) -> bool {
        let mut key = LabelBuf::new();
        values.write_key(&mut key);
        self.map().pin().remove(key.as_bytes()).is_some()
    }

    /// Removes every child.
    pub fn clear(&self) {
        self.map().pin().clear();
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children.get().map_or(0, papaya::HashMap::len)
    }

    /// Whether there are no children.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<M: Series + fmt::Debug, const N: usize> fmt::Debug for Family<M, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Family")
            .field("label_names", &self.label_names)
            .field("children", &self.len())
            .finish_non_exhaustive()
    }
}

impl<M: Series, const N: usize> EncodeMetric for Family<M, N> {
    const KIND: MetricType = M::KIND;

    fn label_names(&self) -> &[&'static str] {
        &self.label_names
    }

    fn encode_metric(&self, enc: &mut SeriesEncoder<'_>) {
        let Some(map) = self.children.get() else {
            return;
        };
        let shared = self.prototype.shared();
        for child in map.pin().values() {
            child
                .metric
                .encode_series(&shared, enc, &child.rendered_labels, child.created);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counter;

    /// A hasher for which every key collides.
    #[derive(Default)]
    pub(super) struct Colliding;

    impl core::hash::Hasher for Colliding {
        fn finish(&self) -> u64 {
            0
        }
        fn write(&mut self, _: &[u8]) {}
    }

    #[test]
    fn colliding_hashes_never_merge_label_sets() {
        let f = Family::new(["method", "code"], Counter::new());
        let sets = [
            ("GET", "200"),
            ("GET", "500"),
            ("POST", "200"),
            ("", ""),
            ("GET200", ""),
        ];
        for (i, set) in (1_u32..).zip(sets) {
            f.labels(set).inc_by(f64::from(i));
        }
        assert_eq!(f.len(), sets.len());
        for (i, set) in (1_u32..).zip(sets) {
            assert_eq!(f.labels(set).get(), f64::from(i), "{set:?}");
        }
        assert!(f.remove(("GET", "500")));
        assert!(!f.remove(("GET", "500")));
        assert_eq!(f.labels(("GET", "200")).get(), 1.0);
    }

    #[test]
    fn label_sets_never_merge() {
        let f = Family::new(["a", "b"], Counter::new());
        f.labels(("ab", "c")).inc();
        f.labels(("a", "bc")).inc_by(2.0);
        assert_eq!(f.len(), 2);
        assert_eq!(f.labels(("ab", "c")).get(), 1.0);
        assert_eq!(f.labels(("a", "bc")).get(), 2.0);
    }

    #[test]
    fn kept_handles_outlive_removal() {
        let f = Family::new(["a"], Counter::new());
        let kept = f.labels(["x"]);
        kept.inc();
        f.clear();
        kept.inc();
        assert_eq!(kept.get(), 2.0);
        assert_eq!(f.labels(["x"]).get(), 0.0, "a new child after clear");
    }

    #[test]
    fn concurrent_first_use_creates_one_child() {
        let f = Family::new(["a"], Counter::new());
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| (0..1000).for_each(|i| f.labels([i % 10]).inc()));
            }
        });
        assert_eq!(f.len(), 10);
        assert_eq!((0..10).map(|i| f.labels([i]).get()).sum::<f64>(), 4000.0);
    }
}
