//! Label families: one child series per set of label values.

use core::fmt;
use core::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::descriptor::{assert_label_names, MetricType};
use crate::encoding::{escape_label_bytes, render_label, Format, SeriesEncoder};
use crate::histogram::{Observe, Target, Timer};
use crate::label::LabelValues;
use crate::metric::{EncodeMetric, Series};

mod by_name;
mod key;
mod limit;
mod store;

pub use by_name::{InFlightLabels, LabelledFamily, RequestLabels};
pub use limit::{DEFAULT_MAX_SERIES, MAX_LABEL_VALUE_BYTES, OVERFLOW_VALUE};

use key::{pack, unpack, Packed};
use limit::Overflow;
use store::Store;

/// The children.
struct Children<M> {
    /// The label sets within the limit.
    store: Store<M>,
    /// Where label sets past the limit go.
    overflow: Overflow<M>,
}

/// A metric with `N` labels: one child series of type `M` per set of label values.
///
/// Looking a child up takes no lock and copies nothing: the values are hashed and found
/// in an index read without locks, and compared whole, so two label sets never share a
/// child. A [`Child`] handle may be kept to skip the lookup.
///
/// A scrape lists the children in the order they were created, each label set at most
/// once, whatever children are removed and created again meanwhile; a child created while
/// a scrape runs is listed from the next one.
///
/// A family holds at most [`DEFAULT_MAX_SERIES`] label sets unless
/// [`with_max_series`](Self::with_max_series) says otherwise. Past that, and for a label
/// value over [`MAX_LABEL_VALUE_BYTES`], a new label set is counted in one overflow series
/// whose label values are all [`OVERFLOW_VALUE`], so that sums stay right; the registry
/// counts the refused lookups in `promlink_series_refused_total{metric}` and says so on
/// stderr once per family.
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
    max_series: usize,
    children: OnceLock<Children<M>>,
}

/// In this order, so that a lookup finds the values at the start of the child, with the
/// reference counts, however big the metric (a histogram's are 576 bytes).
#[repr(C)]
struct ChildInner<M> {
    /// The label values, [packed](pack): what lookups compare and hash. A scrape renders
    /// them with the label names, which every child would otherwise repeat.
    values: Packed,
    created: f64,
    metric: M,
}

impl<M> ChildInner<M> {
    fn new(metric: M, values: Packed, created: f64) -> Self {
        ChildInner {
            values,
            created,
            metric,
        }
    }
}

/// A family's label names as a scrape writes them before each value: `name="`, then
/// `",name="` for the others.
struct LabelPieces<const N: usize>([Vec<u8>; N]);

impl<const N: usize> LabelPieces<N> {
    fn new(names: &[&'static str; N]) -> Self {
        LabelPieces(core::array::from_fn(|label| {
            let opening: &[u8] = if label == 0 { b"" } else { b"\"," };
            [opening, names[label].as_bytes(), b"=\""].concat()
        }))
    }

    /// `name="value",...` of `child`, escaped, into `out`.
    fn render<M>(&self, child: &ChildInner<M>, out: &mut Vec<u8>) {
        for (piece, value) in self.0.iter().zip(unpack(&child.values, N)) {
            out.extend_from_slice(piece);
            escape_label_bytes(out, value);
        }
        out.push(b'"');
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

impl<M: Observe + Send + 'static> Child<M> {
    /// Starts a timer that observes the elapsed seconds into this child when dropped. The
    /// timer holds the child, so it may be started on a handle that is not kept:
    ///
    /// ```
    /// # use promlink_core::{Family, Histogram};
    /// let duration = Family::new(["endpoint"], Histogram::new(&[0.1, 1.0]));
    /// {
    ///     let _timer = duration.labels(["/api/orders"]).start_timer();
    ///     // ... handle the request ...
    /// }
    /// assert_eq!(duration.labels(["/api/orders"]).snapshot().count, 1);
    /// ```
    #[must_use = "the timer observes when it drops; dropping it at once measures nothing"]
    pub fn start_timer(&self) -> Timer<'static> {
        let target: Arc<dyn Observe + Send> = self.inner.clone();
        Timer::start(Target::Owned(target))
    }
}

impl<M: Observe> Observe for ChildInner<M> {
    fn observe(&self, value: f64) {
        self.metric.observe(value);
    }
}

impl<M: fmt::Debug> fmt::Debug for Child<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values: Vec<_> = unpack(&self.inner.values, key::count(&self.inner.values))
            .map(String::from_utf8_lossy)
            .collect();
        f.debug_struct("Child")
            .field("values", &values)
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
            max_series: DEFAULT_MAX_SERIES,
            children: OnceLock::new(),
        }
    }

    /// At most `max_series` label sets (instead of [`DEFAULT_MAX_SERIES`]); the others
    /// are counted in the overflow series.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use promlink_core::{Counter, Family, Format, Metric, Registry};
    ///
    /// let logins = Arc::new(Metric::new(
    ///     "logins_total",
    ///     "Logins.",
    ///     Family::new(["user"], Counter::new()).with_max_series(2),
    /// ));
    /// let registry = Registry::new();
    /// registry.register(logins.clone()).unwrap();
    /// for user in ["ann", "bob", "cy", "dee"] {
    ///     logins.labels([user]).inc();
    /// }
    /// assert_eq!(logins.len(), 2);
    /// let text = registry.encode_to_string(Format::Text);
    /// assert!(text.contains("logins_total{user=\"__overflow__\"} 2.0\n"), "{text}");
    /// assert!(text.contains("promlink_series_refused_total{metric=\"logins\"} 2.0\n"), "{text}");
    /// ```
    ///
    /// # Panics
    ///
    /// When `max_series` is 0; in a `static`, at compile time.
    #[must_use]
    #[track_caller]
    pub const fn with_max_series(mut self, max_series: usize) -> Self {
        assert!(
            max_series > 0,
            "a family needs room for one label set at least"
        );
        self.max_series = max_series;
        self
    }

    /// The label names, in the order values are given.
    pub const fn label_names(&self) -> &[&'static str; N] {
        &self.label_names
    }

    fn children(&self) -> &Children<M> {
        self.children.get_or_init(|| Children {
            store: Store::new(),
            overflow: Overflow::new(),
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
        let children = self.children();
        values.with_texts(|values| {
            let hash = children.store.hash(values);
            let found = children.store.pin().find(hash, values).map(|c| c.to_arc());
            let inner = found.unwrap_or_else(|| self.insert(children, hash, values));
            Child { inner }
        })
    }

    /// Calls `f` with the child for `values`, without taking a handle: the cheapest way to
    /// update a child once. Keep `f` short: while it runs, children removed from any
    /// family are not freed.
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
        values.with_texts(|values| {
            let hash = children.store.hash(values);
            let pinned = children.store.pin();
            if let Some(found) = pinned.find(hash, values) {
                return f(&found.get().metric);
            }
            drop(pinned);
            f(&self.insert(children, hash, values).metric)
        })
    }

    /// The child for `values`, made now, or found if another thread just made it, or the
    /// overflow series if the family is full or a value too long.
    #[cold]
    #[inline(never)]
    fn insert(&self, children: &Children<M>, hash: u64, values: &[&[u8]; N]) -> Arc<ChildInner<M>> {
        let make = || {
            ChildInner::new(
                self.prototype.new_series(),
                pack(values),
                crate::time::unix_time(),
            )
        };
        let inserted = limit::fits(values)
            .then(|| children.store.insert(hash, values, self.max_series, make))
            .flatten();
        inserted.unwrap_or_else(|| {
            children.overflow.refuse(|| {
                ChildInner::new(
                    self.prototype.new_series(),
                    pack(&[OVERFLOW_VALUE.as_bytes(); N]),
                    crate::time::unix_time(),
                )
            })
        })
    }

    /// Removes the child for `values`; returns whether there was one.
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn remove(&self, values: impl LabelValues<N>) -> bool {
        let children = self.children();
        values.with_texts(|values| children.store.remove(values))
    }

    /// Removes every child.
    pub fn clear(&self) {
        if let Some(children) = self.children.get() {
            children.store.clear();
            children.overflow.clear();
        }
    }

    /// The number of children.
    pub fn len(&self) -> usize {
        self.children
            .get()
            .map_or(0, |children| children.store.len())
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
        let pieces = LabelPieces::new(&self.label_names);
        let format = enc.format();
        let mut labels = Vec::new();
        let mut encode = |child: &ChildInner<M>, enc: &mut SeriesEncoder<'_>| {
            labels.clear();
            if format == Format::Protobuf {
                let values = unpack(&child.values, N);
                for (name, value) in self.label_names.iter().zip(values) {
                    render_label(&mut labels, format, name, value);
                }
            } else {
                pieces.render(child, &mut labels);
            }
            child
                .metric
                .encode_series(&shared, enc, &labels, child.created);
        };
        for child in children.store.pin().children() {
            encode(child, enc);
        }
        if let Some(overflow) = children.overflow.series() {
            encode(&overflow, enc);
        }
    }

    fn refused_series(&self) -> u64 {
        self.children
            .get()
            .map_or(0, |children| children.overflow.refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Counter;

    /// Counts `i` into the `i`th set (from 1), then reads every set back.
    fn assert_each_set_has_its_own_child(f: &Family<Counter, 2>, sets: &[(&str, &str)]) {
        for (i, set) in (1_u32..).zip(sets) {
            f.labels(*set).inc_by(f64::from(i));
        }
        assert_eq!(f.len(), sets.len());
        for (i, set) in (1_u32..).zip(sets) {
            assert_eq!(f.labels(*set).get(), f64::from(i), "{set:?}");
        }
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
        assert_each_set_has_its_own_child(&f, &sets);
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
            // Plain text, once `"` is let through unescaped, could span two pairs.
            ("x", "yyyyyyyy"),
            ("x\",b=", "yyyy"),
            ("x\\n", "y"),
            ("ü", "✓"),
        ];
        assert_each_set_has_its_own_child(&f, &sets);
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

    #[test]
    fn a_removed_child_is_not_found_again_by_any_thread() {
        let f = Family::new(["a"], Counter::new());
        let (to_worker, worker_gets) = std::sync::mpsc::channel::<()>();
        let (to_main, main_gets) = std::sync::mpsc::channel::<f64>();
        let f = &f;
        std::thread::scope(|s| {
            s.spawn(move || {
                f.labels(["x"]).inc();
                f.with_labels(["x"], Counter::inc);
                to_main.send(f.labels(["x"]).get()).unwrap();
                worker_gets.recv().unwrap();
                to_main.send(f.labels(["x"]).get()).unwrap();
                worker_gets.recv().unwrap();
                to_main.send(f.with_labels(["x"], Counter::get)).unwrap();
            });
            // Owned here, so that a failed assertion hangs up and the worker ends too.
            let to_worker = to_worker;
            assert_eq!(main_gets.recv().unwrap(), 2.0);
            assert!(f.remove(["x"]));
            to_worker.send(()).unwrap();
            assert_eq!(main_gets.recv().unwrap(), 0.0, "a fresh child after remove");
            f.labels(["x"]).inc_by(5.0);
            f.clear();
            to_worker.send(()).unwrap();
            assert_eq!(main_gets.recv().unwrap(), 0.0, "a fresh child after clear");
        });
    }

    #[test]
    fn a_lookup_inside_a_lookup_finds_the_same_children() {
        let f = Family::new(["a"], Counter::new());
        f.labels(["x"]).inc();
        // Inside `with_labels` the table stays pinned: lookups there, and the children
        // they create, are the family's as anywhere.
        f.with_labels(["x"], |x| {
            x.inc();
            f.with_labels(["x"], Counter::inc);
            f.with_labels(["y"], |y| y.inc_by(x.get()));
            f.labels(["y"]).inc();
            assert!(f.remove(["z"]) || f.len() == 2);
        });
        assert_eq!(f.labels(["x"]).get(), 3.0);
        assert_eq!(f.with_labels(["y"], Counter::get), 4.0);
        assert_eq!(f.len(), 2);
    }

    /// Clears of families big enough to fill the reclaimer's batches at once, under lookups
    /// and scrapes: a child retired while still reachable would be read after it is freed.
    #[test]
    fn clears_under_lookups_and_scrapes_read_only_live_children() {
        let f = Family::new(["n"], Counter::new());
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..200 {
                    for i in 0..64 {
                        f.labels([i]).inc();
                    }
                    f.clear();
                }
                stop.store(true, std::sync::atomic::Ordering::Relaxed);
            });
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for i in 0..64 {
                    assert!(f.with_labels([i], Counter::get) <= 201.0);
                }
                for value in listed(&f) {
                    assert!(value.parse::<u32>().unwrap() < 64, "{value}");
                }
            }
        });
    }

    #[test]
    fn the_overflow_label_set_is_the_overflow_series() {
        let f = Family::new(["a", "b"], Counter::new()).with_max_series(1);
        f.labels(("x", "y")).inc();
        f.labels(("full", "now")).inc(); // refused: into the overflow series
        f.labels((OVERFLOW_VALUE, OVERFLOW_VALUE)).inc_by(10.0);
        f.labels((OVERFLOW_VALUE, "y")).inc(); // not its label set: refused as well
        assert_eq!(f.len(), 1);
        let overflow = f.children().overflow.series().unwrap();
        assert_eq!(overflow.metric.get(), 12.0);
        assert_eq!(f.refused_series(), 3);
        let roomy = Family::new(["a"], Counter::new());
        roomy.labels([OVERFLOW_VALUE]).inc();
        assert_eq!(roomy.len(), 0, "never a child of its own, even with room");
        assert_eq!(roomy.refused_series(), 1);
    }

    #[test]
    fn long_values_and_many_labels_find_their_child() {
        let long = "x".repeat(300);
        let f = Family::new(["a", "b"], Counter::new());
        for _ in 0..3 {
            f.labels((long.as_str(), "1")).inc();
            f.with_labels((long.as_str(), "2"), Counter::inc);
        }
        assert_eq!(f.labels((long.as_str(), "1")).get(), 3.0);
        assert_eq!(f.labels((long.as_str(), "2")).get(), 3.0);
        assert_eq!(f.len(), 2);
        let wide = Family::new(
            ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
            Counter::new(),
        );
        wide.labels([1, 2, 3, 4, 5, 6, 7, 8, 9]).inc_by(3.0);
        wide.labels([1, 2, 3, 4, 5, 6, 7, 8, 0]).inc_by(10.0);
        assert_eq!(wide.labels([1, 2, 3, 4, 5, 6, 7, 8, 9]).get(), 3.0);
        assert!(wide.remove([1, 2, 3, 4, 5, 6, 7, 8, 9]));
        assert_eq!(wide.labels([1, 2, 3, 4, 5, 6, 7, 8, 9]).get(), 0.0);
    }

    #[test]
    fn scrapes_render_values_escaped_after_their_names() {
        let f = Family::new(["path", "code"], Counter::new());
        f.labels(("/a\"b\\c\nd", 200)).inc();
        let pieces = LabelPieces::new(&f.label_names);
        let mut out = Vec::new();
        for child in f.children().store.pin().children() {
            pieces.render(child, &mut out);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "path=\"/a\\\"b\\\\c\\nd\",code=\"200\""
        );
    }

    /// The values of `f`'s children as a scrape lists them.
    fn listed(f: &Family<Counter, 1>) -> Vec<String> {
        let pinned = f.children().store.pin();
        let values = pinned.children().map(|child| {
            let value = unpack(&child.values, 1).next().unwrap();
            String::from_utf8(value.to_vec()).unwrap()
        });
        values.collect()
    }

    #[test]
    fn scrapes_list_children_in_creation_order_through_rebuilds_and_removals() {
        let f = Family::new(["n"], Counter::new());
        let mut expected: Vec<String> = Vec::new();
        // Enough to grow the table several times; every third removed as it goes, and
        // some created again, which puts them last.
        for i in 0..200 {
            f.labels([i]).inc();
            expected.push(i.to_string());
            if i % 3 == 0 {
                assert!(f.remove([i / 2]));
                expected.retain(|v| *v != (i / 2).to_string());
            }
            if i % 7 == 0 && !expected.contains(&(i / 2).to_string()) {
                f.labels([i / 2]).inc();
                expected.push((i / 2).to_string());
            }
            assert_eq!(listed(&f), expected, "after {i}");
        }
        assert_eq!(f.len(), expected.len());
        for value in &expected {
            let value: u32 = value.parse().unwrap();
            assert_eq!(f.labels([value]).get(), 1.0, "{value}");
        }
    }

    #[test]
    fn a_scrape_lists_a_label_set_once_while_it_is_removed_and_created_again() {
        let f = Family::new(["n"], Counter::new());
        for i in 0..10 {
            f.labels([i]).inc();
        }
        let pinned = f.children().store.pin();
        let mut listed = pinned.children();
        assert!(listed.next().is_some());
        // While the scrape is at the first child: the others leave and come back, and so
        // many new ones come that the table is rebuilt.
        for i in 1..10 {
            assert!(f.remove([i]));
            f.labels([i]).inc_by(2.0);
        }
        for i in 10..100 {
            f.labels([i]).inc();
        }
        let rest: Vec<f64> = listed.map(|child| child.metric.get()).collect();
        assert!(rest.iter().all(|&v| v == 1.0), "{rest:?}");
        drop(pinned);
        assert_eq!(listed_len(&f), 100);
    }

    fn listed_len(f: &Family<Counter, 1>) -> usize {
        listed(f).len()
    }

    #[test]
    fn churn_keeps_the_table_small() {
        let f = Family::new(["n"], Counter::new());
        for i in 0..10_000 {
            f.labels([i]).inc();
            assert!(f.remove([i]));
        }
        f.labels(["last"]).inc();
        let capacity = f.children().store.pin().capacity();
        assert!(capacity <= 8, "{capacity}");
        assert_eq!(listed(&f), ["last"]);
    }

    #[test]
    fn children_of_every_kind_keep_their_values() {
        let counters = Family::new(["a"], Counter::new());
        let gauges = Family::new(["a"], crate::Gauge::new());
        let histograms = Family::new(["a"], crate::Histogram::new(&[1.0]));
        for value in ["x", "y"] {
            for _ in 0..3 {
                counters.labels([value]).inc();
                counters.with_labels([value], Counter::inc);
                gauges.labels([value]).dec();
                gauges.with_labels([value], crate::Gauge::dec);
                histograms.labels([value]).observe(0.5);
                histograms.with_labels([value], |h| h.observe(2.0));
            }
        }
        for value in ["x", "y"] {
            assert_eq!(counters.labels([value]).get(), 6.0);
            assert_eq!(gauges.with_labels([value], crate::Gauge::get), -6.0);
            let snapshot = histograms.labels([value]).snapshot();
            assert_eq!((snapshot.count, snapshot.sum), (6, 7.5));
        }
    }

    #[test]
    fn values_of_every_length_and_byte_keep_their_children() {
        // Every label set hashes alike in unit tests, so each lookup compares the values
        // against every child before it: sets that differ in one byte or a length.
        let f = Family::new(["a", "b"], Counter::new());
        let mut sets = Vec::new();
        for len in 0..=40 {
            let plain: String = (b'a'..=b'z').cycle().take(len).map(char::from).collect();
            sets.push((plain.clone(), "x".to_owned()));
            for changed in 0..len {
                let mut other = plain.clone().into_bytes();
                other[changed] = b'#';
                sets.push((String::from_utf8(other).unwrap(), "x".to_owned()));
            }
            sets.push((plain.clone(), String::new()));
            sets.push((String::new(), plain));
        }
        sets.dedup();
        for set in &sets {
            for _ in 0..3 {
                f.labels((set.0.as_str(), set.1.as_str())).inc();
            }
        }
        for set in &sets {
            let count = f.with_labels((set.0.as_str(), set.1.as_str()), Counter::get);
            assert_eq!(count, 3.0, "{set:?}");
        }
        assert_eq!(f.len(), sets.len());
    }
}
