//! Label families: one child series per set of label values.

use core::fmt;
use core::hash::{BuildHasherDefault, Hash, Hasher};
use core::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::descriptor::{assert_label_names, MetricType};
use crate::encoding::{render_label_pairs, SeriesEncoder};
use crate::label::{LabelText, LabelValues};
use crate::metric::{EncodeMetric, Series};

mod key;

use key::{renders_as, Prehashed, ValueHasher};

/// The children, and the hasher of their label values.
struct Children<M> {
    /// Each child is its own key: its hash is computed once, from its label values, and
    /// it compares equal to a lookup by its rendered label text.
    map: papaya::HashMap<ChildKey<M>, (), BuildHasherDefault<Prehashed>>,
    values: ValueHasher,
}

/// A metric with `N` labels: one child series of type `M` per set of label values.
///
/// Looking a child up takes no lock and copies nothing: the children sit in a lock-free
/// hash map (`papaya`); a lookup hashes the values where they are and compares them with
/// each candidate's rendered label text, so two label sets never share a child. A
/// [`Child`] handle may be kept to skip the lookup.
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
    children: OnceLock<Children<M>>,
}

struct ChildInner<M> {
    metric: M,
    /// `name="value",...`, escaped: rendered once, written at every scrape, and the key
    /// lookups compare with.
    rendered_labels: Box<[u8]>,
    /// The hash of the label values.
    hash: u64,
    created: f64,
}

/// A child as the key of the map.
struct ChildKey<M>(Arc<ChildInner<M>>);

impl<M> Hash for ChildKey<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl<M> PartialEq for ChildKey<M> {
    fn eq(&self, other: &Self) -> bool {
        self.0.rendered_labels == other.0.rendered_labels
    }
}

impl<M> Eq for ChildKey<M> {}

/// A lookup: label values' text with its hash, equal to the child that renders it.
struct Query<'a, const N: usize> {
    names: &'a [&'static str; N],
    texts: [LabelText<'a>; N],
    hash: u64,
}

impl<const N: usize> Hash for Query<'_, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.hash);
    }
}

impl<M, const N: usize> papaya::Equivalent<ChildKey<M>> for Query<'_, N> {
    #[inline]
    fn equivalent(&self, key: &ChildKey<M>) -> bool {
        renders_as(&key.0.rendered_labels, self.names, &self.texts)
    }
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

    fn children(&self) -> &Children<M> {
        self.children.get_or_init(|| Children {
            map: papaya::HashMap::builder()
                .hasher(BuildHasherDefault::default())
                .build(),
            values: ValueHasher::new(),
        })
    }

    #[inline]
    fn query<'a>(
        &'a self,
        children: &Children<M>,
        values: &'a impl LabelValues<N>,
    ) -> Query<'a, N> {
        let texts = values.texts();
        Query {
            names: &self.label_names,
            hash: children.values.hash(&texts),
            texts,
        }
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
        let children = self.children();
        let query = self.query(children, &values);
        if let Some((key, ())) = children.map.pin().get_key_value(&query) {
            return Child {
                inner: Arc::clone(&key.0),
            };
        }
        self.insert(children, &query)
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
        let children = self.children();
        let query = self.query(children, &values);
        if let Some((key, ())) = children.map.pin().get_key_value(&query) {
            return f(&key.0.metric);
        }
        f(&self.insert(children, &query))
    }

    #[cold]
    fn insert(&self, children: &Children<M>, query: &Query<'_, N>) -> Child<M> {
        let mut rendered = Vec::new();
        render_label_pairs(
            &mut rendered,
            self.label_names
                .iter()
                .copied()
                .zip(query.texts.iter().map(LabelText::as_str)),
        );
        let fresh = Arc::new(ChildInner {
            metric: self.prototype.new_series(),
            rendered_labels: rendered.into_boxed_slice(),
            hash: query.hash,
            created: crate::time::unix_time(),
        });
        let map = children.map.pin();
        loop {
            if let Some((key, ())) = map.get_key_value(query) {
                return Child {
                    inner: Arc::clone(&key.0),
                };
            }
            // Another thread may insert the same label set meanwhile: then its child is
            // the one, found above on the next turn.
            if map.try_insert(ChildKey(Arc::clone(&fresh)), ()).is_ok() {
                return Child { inner: fresh };
            }
        }
    }

    /// Removes the child for `values`; returns whether there was one.
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn remove(&self, values: impl LabelValues<N>) -> bool {
        let children = self.children();
        let query = self.query(children, &values);
        children.map.pin().remove(&query).is_some()
    }

    /// Removes every child.
    pub fn clear(&self) {
        if let Some(children) = self.children.get() {
            children.map.pin().clear();
        }
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children.get().map_or(0, |children| children.map.len())
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
        let Some(children) = self.children.get() else {
            return;
        };
        let shared = self.prototype.shared();
        for ChildKey(child) in children.map.pin().keys() {
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
    fn escaped_text_never_merges_label_sets() {
        let f = Family::new(["a", "b"], Counter::new());
        let sets = [
            ("x\\", "y"),
            ("x", "\\y"),
            ("x\"", "y"),
            ("x", "\"y"),
            ("x\n", "y"),
            ("x", "\ny"),
            ("x\\\"", ""),
            ("x\",b=\"", "y"),
            ("x", "y\",b=\""),
            ("x\\n", "y"),
            ("ü", "✓"),
        ];
        for (i, set) in (1_u32..).zip(sets) {
            f.labels(set).inc_by(f64::from(i));
        }
        assert_eq!(f.len(), sets.len());
        for (i, set) in (1_u32..).zip(sets) {
            assert_eq!(f.labels(set).get(), f64::from(i), "{set:?}");
        }
        assert!(!f.remove(("x", "y")));
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
