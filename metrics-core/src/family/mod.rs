//! Label families: one child series per set of label values.

use core::fmt;
use core::hash::{Hash, Hasher};
use core::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use crate::descriptor::{assert_label_names, MetricType};
use crate::encoding::{escape_label_bytes, SeriesEncoder};
use crate::histogram::{Observe, Target, Timer};
use crate::label::LabelValues;
use crate::metric::{EncodeMetric, Series};

mod by_name;
mod key;
mod limit;
mod recent;

pub use by_name::{InFlightLabels, LabelledFamily, RequestLabels};
pub use limit::{DEFAULT_MAX_SERIES, MAX_LABEL_VALUE_BYTES, OVERFLOW_VALUE};

use limit::Overflow;

use key::{pack, packs, unpack, ValueHasher};
use recent::{Identity, Remembered};

type ChildMap<M> = papaya::HashMap<ChildKey<M>, (), ValueHasher>;

/// The children.
struct Children<M> {
    /// Each child is its own key, hashed and compared by its label values.
    map: ChildMap<M>,
    /// The family as each thread's recently used children know it.
    recent: Identity,
    /// How many children have been numbered: the next child in the map gets this number.
    /// A scrape lists only the children numbered before it began, so that it never lists
    /// a label set twice (the reason is in `encode_metric`).
    numbered: AtomicU64,
    /// Where label sets past the limit go.
    overflow: Overflow<M>,
}

impl<M> Children<M> {
    /// Takes children out of the map with `remove`, making every thread's recent slots of
    /// this family stale before and after: before, so that no thread finds a child there
    /// once another has found the map without it; after, for a thread that remembered it
    /// in between.
    fn forget<R>(&self, remove: impl FnOnce(&ChildMap<M>) -> R) -> R {
        self.recent.invalidate();
        #[cfg(test)]
        tests::pause_at(tests::Point::BeforeRemoval);
        let removed = remove(&self.map);
        #[cfg(test)]
        tests::pause_at(tests::Point::BeforeSecondInvalidation);
        self.recent.invalidate();
        removed
    }
}

/// A metric with `N` labels: one child series of type `M` per set of label values.
///
/// Looking a child up takes no lock and copies nothing: a thread finds the label sets it
/// used last in its own few slots, and the others in a lock-free hash map (`papaya`);
/// either way the values are compared whole, so two label sets never share a child. A
/// [`Child`] handle may be kept to skip the lookup.
///
/// A scrape lists each label set at most once, whatever children are removed and created
/// again meanwhile; a child created while a scrape runs is listed from the next one.
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

struct ChildInner<M> {
    metric: M,
    /// The label values, [packed](pack): what lookups compare and hash. A scrape renders
    /// them with the label names, which every child would otherwise repeat.
    values: Box<[u8]>,
    created: f64,
    /// The child's place in the order children entered the map ([`Children::numbered`]),
    /// or [`UNNUMBERED`] until its creator has numbered it, just after putting it there.
    number: AtomicU64,
}

/// The number of a child not yet numbered: no scrape lists it.
const UNNUMBERED: u64 = u64::MAX;

impl<M> ChildInner<M> {
    fn new(metric: M, values: Box<[u8]>, created: f64) -> Self {
        ChildInner {
            metric,
            values,
            created,
            number: AtomicU64::new(UNNUMBERED),
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
        for (piece, value) in self.0.iter().zip(unpack(&child.values)) {
            out.extend_from_slice(piece);
            escape_label_bytes(out, value);
        }
        out.push(b'"');
    }
}

/// A child as the key of the map.
struct ChildKey<M>(Arc<ChildInner<M>>);

impl<M> Hash for ChildKey<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As a `Query` for the same values hashes.
        for value in unpack(&self.0.values) {
            state.write(value);
        }
    }
}

impl<M> PartialEq for ChildKey<M> {
    fn eq(&self, other: &Self) -> bool {
        self.0.values == other.0.values
    }
}

impl<M> Eq for ChildKey<M> {}

/// A lookup by label values' text, equal to the child that holds them.
struct Query<'a, const N: usize>(&'a [&'a [u8]; N]);

impl<const N: usize> Hash for Query<'_, N> {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        for value in self.0 {
            state.write(value);
        }
    }
}

impl<M, const N: usize> papaya::Equivalent<ChildKey<M>> for Query<'_, N> {
    #[inline]
    fn equivalent(&self, key: &ChildKey<M>) -> bool {
        packs(&key.0.values, self.0)
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
        let values: Vec<_> = unpack(&self.inner.values)
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
            map: papaya::HashMap::builder()
                .hasher(ValueHasher::new())
                .build(),
            recent: Identity::new(),
            numbered: AtomicU64::new(0),
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
            let key = children.recent.key(values);
            let found = children.recent.find(
                &key,
                |child: &ChildInner<M>| packs(&child.values, values),
                (),
                |(), child: Remembered<ChildInner<M>>| child.to_arc(),
            );
            let inner = found.unwrap_or_else(|()| self.find_in_map(children, values, Arc::clone));
            Child { inner }
        })
    }

    /// Calls `f` with the child for `values`, without taking a handle: the cheapest way to
    /// update a child once. Keep `f` short: lookups it makes itself may not be remembered
    /// in this thread's recent slots.
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
            let key = children.recent.key(values);
            let found = children.recent.find(
                &key,
                |child: &ChildInner<M>| packs(&child.values, values),
                f,
                |f, child: Remembered<ChildInner<M>>| f(&child.get().metric),
            );
            found.unwrap_or_else(|f| self.find_in_map(children, values, |child| f(&child.metric)))
        })
    }

    /// Calls `then` with the child for `values` from the map, created if need be, and
    /// offers it to this thread's recent slots. Out of line, so that the hits' path stays
    /// short.
    #[inline(never)]
    fn find_in_map<R>(
        &self,
        children: &Children<M>,
        values: &[&[u8]; N],
        then: impl FnOnce(&Arc<ChildInner<M>>) -> R,
    ) -> R {
        // Worked out again rather than passed: a hit need not keep its key in memory.
        let key = &children.recent.key(values);
        let generation = children.recent.generation();
        let query = Query(values);
        let map = children.map.pin();
        if let Some((found, ())) = map.get_key_value(&query) {
            children.recent.offer(key, generation, &found.0);
            return then(&found.0);
        }
        drop(map);
        let child = self.insert(children, &query).inner;
        // Not the overflow series: it would take a slot for values it does not have.
        if !children.overflow.is(&child) {
            children.recent.offer(key, generation, &child);
        }
        then(&child)
    }

    #[cold]
    fn insert(&self, children: &Children<M>, query: &Query<'_, N>) -> Child<M> {
        if !Overflow::<M>::admits(self.max_series, children.map.len(), query.0) {
            let overflow = children.overflow.refuse(|| {
                let values = [OVERFLOW_VALUE.as_bytes(); N];
                ChildInner::new(
                    self.prototype.new_series(),
                    pack(&values),
                    crate::time::unix_time(),
                )
            });
            return Child { inner: overflow };
        }
        let fresh = Arc::new(ChildInner::new(
            self.prototype.new_series(),
            pack(query.0),
            crate::time::unix_time(),
        ));
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
                // Numbered only now that it is in the map, having seen there the removal
                // of any child it replaces: `Release`, so that a scrape that counts it
                // among the numbered sees that removal too.
                let number = children.numbered.fetch_add(1, Ordering::Release);
                fresh.number.store(number, Ordering::Relaxed);
                return Child { inner: fresh };
            }
        }
    }

    /// Removes the child for `values`; returns whether there was one.
    ///
    /// A thread that used the child lately may keep it (no longer exported) in its recent
    /// slots until they are reused, as a kept [`Child`] handle keeps it.
    #[allow(clippy::needless_pass_by_value)] // tuples of references read best by value
    pub fn remove(&self, values: impl LabelValues<N>) -> bool {
        let children = self.children();
        let removed = values
            .with_texts(|values| children.forget(|map| map.pin().remove(&Query(values)).is_some()));
        removed
    }

    /// Removes every child.
    pub fn clear(&self) {
        if let Some(children) = self.children.get() {
            children.forget(|map| map.pin().clear());
            children.overflow.clear();
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
        // Why a scrape lists only the children numbered before it began: the map never
        // reuses a slot, so a child created again after a removal lands in a further slot
        // of its key's probe sequence, and a scrape that listed the removed child in the
        // first slot could meet the new one there too. A child numbered before this load
        // was numbered after its creator, on the way to its slot, saw the removal of the
        // child it replaces; the load is `Acquire`, so this scrape sees that removal as
        // well and never lists the removed child. The children skipped were created
        // during the scrape (or are being numbered): the next scrape lists them.
        let numbered = children.numbered.load(Ordering::Acquire);
        let shared = self.prototype.shared();
        let pieces = LabelPieces::new(&self.label_names);
        let mut labels = Vec::new();
        for ChildKey(child) in children.map.pin().keys() {
            if child.number.load(Ordering::Relaxed) >= numbered {
                continue;
            }
            labels.clear();
            pieces.render(child, &mut labels);
            child
                .metric
                .encode_series(&shared, enc, &labels, child.created);
        }
        if let Some(overflow) = children.overflow.series() {
            labels.clear();
            pieces.render(&overflow, &mut labels);
            overflow
                .metric
                .encode_series(&shared, enc, &labels, overflow.created);
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

    type Pause = &'static (std::sync::Barrier, std::sync::Barrier);

    /// Where a removing thread may be held.
    #[derive(Clone, Copy, PartialEq, Eq)]
    pub(super) enum Point {
        /// After the first bump of the generation, before the map removal.
        BeforeRemoval,
        /// After the map removal, before the second bump.
        BeforeSecondInvalidation,
    }

    thread_local! {
        static REMOVAL_PAUSE: core::cell::Cell<Option<(Point, Pause)>> = const { core::cell::Cell::new(None) };
    }

    /// Lets a test hold a removing thread at `point`, between two barriers.
    pub(super) fn pause_at(point: Point) {
        if let Some((at, pause)) = REMOVAL_PAUSE.with(core::cell::Cell::get) {
            if at == point {
                pause.0.wait();
                pause.1.wait();
            }
        }
    }

    fn barriers() -> Pause {
        Box::leak(Box::new((
            std::sync::Barrier::new(2),
            std::sync::Barrier::new(2),
        )))
    }

    /// T remembers x after R's first bump of the generation but before x leaves the map:
    /// only the second bump makes T's slot stale.
    #[test]
    fn a_child_remembered_during_its_removal_is_not_found_after_it() {
        let f = Family::new(["a"], Counter::new());
        let f = &f;
        let pause = barriers();
        f.labels(["x"]).inc(); // T's first miss
        std::thread::scope(|s| {
            let remover = s.spawn(move || {
                REMOVAL_PAUSE.with(|p| p.set(Some((Point::BeforeRemoval, pause))));
                assert!(f.remove(["x"]));
            });
            pause.0.wait();
            f.labels(["x"]).inc(); // T's second miss: remembered, at the bumped generation
            f.labels(["x"]).inc(); // found in T's slot
            pause.1.wait();
            remover.join().unwrap();
        });
        assert_eq!(f.labels(["x"]).get(), 0.0, "T found the removed child");
        assert_eq!(f.len(), 1);
    }

    /// R removes x and pauses once x is out of the map; U then finds x missing and creates
    /// a fresh child; T, whose lookup begins after U's, must get that child too, not the
    /// removed one from its slot.
    #[test]
    fn a_lookup_after_another_threads_fresh_child_gets_the_same_child() {
        let f = Family::new(["a"], Counter::new());
        let f = &f;
        let pause = barriers();
        f.labels(["x"]).inc();
        f.labels(["x"]).inc(); // remembered in this thread's (T's) slot
        std::thread::scope(|s| {
            let remover = s.spawn(move || {
                REMOVAL_PAUSE.with(|p| p.set(Some((Point::BeforeSecondInvalidation, pause))));
                assert!(f.remove(["x"]));
            });
            pause.0.wait();
            s.spawn(move || f.labels(["x"]).inc_by(100.0))
                .join()
                .unwrap();
            let seen_by_t = f.labels(["x"]).get();
            pause.1.wait();
            remover.join().unwrap();
            assert_eq!(f.len(), 1);
            assert_eq!(seen_by_t, 100.0, "T got the removed child");
        });
    }

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
                // Three lookups running: remembered at the second, found in this thread's
                // slots at the third.
                f.labels(["x"]).inc();
                f.with_labels(["x"], Counter::inc);
                to_main.send(f.labels(["x"]).get()).unwrap();
                worker_gets.recv().unwrap();
                // The fresh child after the removal, remembered in turn.
                f.labels(["x"]).get();
                f.labels(["x"]).get();
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
            f.labels(["x"]).inc_by(5.0); // into the child the worker remembers
            f.clear();
            to_worker.send(()).unwrap();
            assert_eq!(main_gets.recv().unwrap(), 0.0, "a fresh child after clear");
        });
    }

    #[test]
    fn a_lookup_inside_a_lookup_finds_the_same_children() {
        let f = Family::new(["a"], Counter::new());
        f.labels(["x"]).inc();
        f.labels(["x"]).inc(); // remembered: the next lookup of x is a hit
                               // Inside a hit the slots stay borrowed: lookups there, however many running, may
                               // find what is remembered but not remember anything.
        f.with_labels(["x"], |x| {
            x.inc();
            f.with_labels(["x"], Counter::inc);
            f.with_labels(["y"], |y| y.inc_by(x.get()));
            f.labels(["y"]).inc();
            f.labels(["y"]).inc();
        });
        assert_eq!(f.labels(["x"]).get(), 4.0);
        assert_eq!(f.with_labels(["y"], Counter::get), 6.0);
        assert_eq!(f.len(), 2);
    }

    #[test]
    fn families_do_not_share_remembered_children() {
        let first = Family::new(["a"], Counter::new());
        let second = Family::new(["a"], Counter::new());
        for _ in 0..3 {
            first.labels(["x"]).inc(); // remembered at the second
        }
        // Same values, same slot: only the family tells the remembered child apart.
        for _ in 0..3 {
            second.labels(["x"]).inc_by(10.0);
        }
        assert_eq!(first.labels(["x"]).get(), 3.0);
        assert_eq!(second.labels(["x"]).get(), 30.0);
        let gauges = Family::new(["a"], crate::Gauge::new());
        gauges.labels(["x"]).set(-1.0);
        assert_eq!(first.labels(["x"]).get(), 3.0);
    }

    #[test]
    fn label_sets_too_big_for_a_slot_still_find_their_child() {
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
        for _ in 0..3 {
            wide.labels([1, 2, 3, 4, 5, 6, 7, 8, 9]).inc();
        }
        // Nine labels: a slot keeps eight, so the ninth must not be taken as equal.
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
        for ChildKey(child) in f.children().map.pin().keys() {
            pieces.render(child, &mut out);
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "path=\"/a\\\"b\\\\c\\nd\",code=\"200\""
        );
    }

    #[test]
    fn a_child_and_a_lookup_for_the_same_values_hash_alike() {
        use core::hash::BuildHasher;
        let hasher = ValueHasher::new();
        let hash = |value: &dyn Fn(&mut key::ValueState)| {
            let mut state = hasher.build_hasher();
            value(&mut state);
            state.unmasked()
        };
        let values: [&[u8]; 3] = [b"GET", b"/api/orders", b"200"];
        let child = ChildKey(Arc::new(ChildInner::new(
            Counter::new(),
            key::pack(&values),
            0.0,
        )));
        let of_child = hash(&|state| child.hash(state));
        assert_eq!(of_child, hash(&|state| Query(&values).hash(state)));
        let other: [&[u8]; 3] = [b"GET", b"/api/order", b"s200"];
        assert_ne!(of_child, hash(&|state| Query(&other).hash(state)));
    }

    #[test]
    fn children_of_every_kind_are_found_again_in_the_slots() {
        // Counters and gauges are held by their own type, the others behind `dyn Any`.
        let counters = Family::new(["a"], Counter::new());
        let gauges = Family::new(["a"], crate::Gauge::new());
        let histograms = Family::new(["a"], crate::Histogram::new(&[1.0]));
        // Three lookups running: remembered at the second, found there at the third.
        for value in ["x", "y"] {
            for _ in 0..3 {
                counters.labels([value]).inc();
            }
            for _ in 0..3 {
                counters.with_labels([value], Counter::inc);
            }
            for _ in 0..3 {
                gauges.labels([value]).dec();
            }
            for _ in 0..3 {
                gauges.with_labels([value], crate::Gauge::dec);
            }
            for _ in 0..3 {
                histograms.labels([value]).observe(0.5);
            }
            for _ in 0..3 {
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
    fn label_sets_alike_in_what_a_slot_keeps_get_their_own_children() {
        // Each pair: same lengths and covers but for what tells them apart (a length, or
        // a long value's middle byte), the first remembered when the second comes.
        let seventeen = "a".repeat(17);
        let pairs: [[&str; 2]; 4] = [
            ["", "\0"],
            ["\x01", "\x01\x01\x01"],
            ["\x01\x01\x01", "\x01\x01"],
            [&seventeen, "aaaaaaaa#aaaaaaaa"],
        ];
        for [first, second] in pairs {
            let f = Family::new(["a", "b"], Counter::new());
            for _ in 0..3 {
                f.labels((first, "x")).inc();
            }
            f.labels((second, "x")).inc_by(10.0);
            assert_eq!(f.labels((first, "x")).get(), 3.0, "{first:?} {second:?}");
            assert_eq!(f.labels((second, "x")).get(), 10.0, "{first:?} {second:?}");
        }
    }

    #[test]
    fn values_of_every_length_and_byte_keep_their_children() {
        // One slot for all (unit tests), so each lookup compares against the set there.
        let f = Family::new(["a", "b"], Counter::new());
        let mut sets = Vec::new();
        // Past 16 bytes, a slot holds a value's ends only: the middle is compared whole.
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
        // Three lookups running: the second is remembered, the third a hit; the next set's
        // first lookup then meets the remembered one, of the same lengths.
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
