//! Label families: one child series per set of label values.

use core::fmt;
use core::hash::{BuildHasher, BuildHasherDefault, Hash, Hasher};
use core::ops::Deref;
use std::sync::{Arc, OnceLock};

use crate::descriptor::{assert_label_names, MetricType};
use crate::encoding::{render_label_pairs, SeriesEncoder};
use crate::label::{LabelText, LabelValues};
use crate::metric::{EncodeMetric, Series};

/// Hashes label values where they are: a folded multiply over 8-byte words (as foldhash
/// and wyhash do), keyed with random seeds per family, so that values a client chooses
/// cannot be made to collide on purpose.
struct ValueHasher {
    seed: u64,
    multiplier: u64,
}

impl ValueHasher {
    fn new() -> Self {
        let random = foldhash::fast::RandomState::default();
        ValueHasher {
            seed: random.hash_one(0_u8),
            multiplier: random.hash_one(1_u8) | 1,
        }
    }

    #[inline]
    fn hash(&self, texts: &[LabelText<'_>]) -> u64 {
        if cfg!(test) {
            // Unit tests hash every label set alike, so that every lookup meets collisions
            // and only the comparison of the label text tells label sets apart.
            return 0;
        }
        self.hash_texts(texts)
    }

    #[inline]
    fn hash_texts(&self, texts: &[LabelText<'_>]) -> u64 {
        let mut hash = self.seed;
        for text in texts {
            let bytes = text.as_bytes();
            let mut words = bytes.chunks_exact(8);
            for word in &mut words {
                hash = self.mix(
                    hash,
                    u64::from_le_bytes(word.try_into().unwrap_or_default()),
                );
            }
            // The last word: the 0 to 7 bytes left, and the length in the top byte, so
            // that ("ab", "c") and ("a", "bc") hash apart and no tail cancels a length.
            let tail = words
                .remainder()
                .iter()
                .rev()
                .fold(0, |word, &byte| word << 8 | u64::from(byte));
            hash = self.mix(hash, tail | (bytes.len() as u64) << 56);
        }
        hash
    }

    #[inline]
    fn mix(&self, hash: u64, word: u64) -> u64 {
        let product = u128::from(hash ^ word) * u128::from(self.multiplier);
        #[allow(clippy::cast_possible_truncation)] // the two halves, folded
        let folded = (product as u64) ^ (product >> 64) as u64;
        folded
    }
}

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

/// The map's hasher: keys and lookups bring their hash along.
#[derive(Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not used by the keys and lookups above, which write one `u64`.
        for &byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

/// Whether `rendered` (as [`render_label_pairs`] writes it for label names `names`) holds
/// exactly `texts`.
#[inline]
fn renders_as(rendered: &[u8], names: &[&'static str], texts: &[LabelText<'_>]) -> bool {
    let mut rest = rendered;
    for (label, (name, text)) in names.iter().zip(texts).enumerate() {
        // `,` between pairs, then `name="`: alike in every child of the family.
        let skip = usize::from(label > 0) + name.len() + 2;
        match rest
            .get(skip..)
            .and_then(|after| strip_escaped(after, text.as_bytes()))
        {
            Some([b'"', tail @ ..]) => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// What follows `text`, escaped as a label value, at the start of `bytes`, if it is there.
#[inline]
fn strip_escaped<'a>(bytes: &'a [u8], text: &[u8]) -> Option<&'a [u8]> {
    // Eight bytes at a time while they need no escaping (most text), then byte by byte.
    let mut words = text.chunks_exact(8);
    let mut at = 0;
    let mut rest = text;
    for word in &mut words {
        let word = u64::from_le_bytes(word.try_into().ok()?);
        if has_byte(word, b'\\') || has_byte(word, b'"') || has_byte(word, b'\n') {
            break;
        }
        let theirs = u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?);
        if theirs != word {
            return None;
        }
        at += 8;
        rest = &rest[8..];
    }
    for &byte in rest {
        let escaped = match byte {
            b'\\' => b'\\',
            b'"' => b'"',
            b'\n' => b'n',
            _ => {
                if *bytes.get(at)? != byte {
                    return None;
                }
                at += 1;
                continue;
            }
        };
        if bytes.get(at..at + 2)? != [b'\\', escaped] {
            return None;
        }
        at += 2;
    }
    bytes.get(at..)
}

/// Whether one of the eight bytes of `word` is `byte` (the classic zero-byte test).
#[inline]
fn has_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & HIGHS != 0
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
    fn short_values_do_not_collide_by_construction() {
        let hasher = ValueHasher::new();
        let values = [
            "",
            "\x01",
            "\x02\0",
            "\x03\0\0",
            "\x07\0\0\0\0\0\0",
            "12345678",
            "12345678\x01",
            "a",
            "ab",
            "abc",
        ];
        let mut hashes: Vec<u64> = values
            .iter()
            .map(|v| hasher.hash_texts(&[LabelText::from(*v)]))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), values.len());
        let split = |a: &str, b: &str| hasher.hash_texts(&[LabelText::from(a), LabelText::from(b)]);
        assert_ne!(split("ab", "c"), split("a", "bc"));
    }

    #[test]
    fn escaped_comparison_word_by_word() {
        let text = "0123456789abcdef\"long\\value\nwith escapes after sixteen plain bytes";
        let mut rendered = Vec::new();
        crate::encoding::render_label_pairs(&mut rendered, [("a", text)]);
        let after_name = &rendered[3..];
        assert_eq!(strip_escaped(after_name, text.as_bytes()), Some(&b"\""[..]));
        for cut in 0..text.len() {
            let shorter = &text.as_bytes()[..cut];
            assert_ne!(
                strip_escaped(after_name, shorter),
                Some(&b"\""[..]),
                "{cut}"
            );
        }
        assert!(has_byte(u64::from_le_bytes(*b"abcdefg\""), b'"'));
        assert!(!has_byte(u64::from_le_bytes(*b"abcdefgh"), b'"'));
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
