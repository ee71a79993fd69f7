//! Label values: how a value becomes label text, and how a set of them becomes the key of
//! a child in a [`Family`](crate::Family).
//!
//! A key is the values' UTF-8 text, each followed by the byte `0xFF`. No UTF-8 text
//! contains that byte, so two different value sets never produce the same key: the map
//! compares keys on every hit, and a hash collision can never merge two series.

use std::borrow::Cow;

/// A type whose values can be label values.
///
/// Implemented for strings (`&str`, `String`, `Cow<str>`, `Box<str>`), integers, `bool`
/// and `char`; implement it for your own types (an enum, say) by writing the text.
///
/// ```
/// use promlink_core::{LabelBuf, LabelValue};
///
/// enum Method { Get, Post }
///
/// impl LabelValue for Method {
///     fn write_label_value(&self, out: &mut LabelBuf) {
///         out.push_str(match self { Method::Get => "GET", Method::Post => "POST" });
///     }
/// }
/// ```
pub trait LabelValue {
    /// Appends this value's text.
    fn write_label_value(&self, out: &mut LabelBuf);
}

/// The values of all labels of one child, in the order of the family's label names.
///
/// Implemented for tuples of up to twelve [`LabelValue`]s and for arrays, so that the
/// number of values is checked by the compiler against the family's label count `N`.
/// Sealed: a key must hold exactly `N` values, so only these implementations exist;
/// implement [`LabelValue`] for your own types.
pub trait LabelValues<const N: usize>: crate::sealed::Values<N> {
    /// Appends every value followed by the separator byte `0xFF`.
    fn write_key(&self, out: &mut LabelBuf);
}

/// A label value type with a fixed, known set of values (`bool`, or an enum deriving
/// `LabelValue`): its children live in a dense array indexed by the value, with no
/// hashing, and every one of them is exported from the first scrape.
///
/// ```
/// use promlink_core::{FixedLabelValue, LabelBuf, LabelValue};
///
/// #[derive(Clone, Copy)]
/// enum Outcome { Hit, Miss }
///
/// impl LabelValue for Outcome {
///     fn write_label_value(&self, out: &mut LabelBuf) {
///         out.push_str(Self::VALUES[self.index()]);
///     }
/// }
///
/// impl FixedLabelValue for Outcome {
///     const VALUES: &'static [&'static str] = &["hit", "miss"];
///     fn index(&self) -> usize {
///         *self as usize
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a label type with a fixed set of values",
    label = "a fixed-cardinality label type is expected here",
    note = "derive `LabelValue` on an enum, or use `bool`; for strings and numbers, the family hashes its label values instead"
)]
pub trait FixedLabelValue: LabelValue {
    /// Every value's text, in index order.
    const VALUES: &'static [&'static str];

    /// This value's position in [`VALUES`](Self::VALUES).
    fn index(&self) -> usize;
}

impl FixedLabelValue for bool {
    const VALUES: &'static [&'static str] = &["false", "true"];

    #[inline]
    fn index(&self) -> usize {
        usize::from(*self)
    }
}

/// The values of all labels of a [`DenseFamily`](crate::DenseFamily): a tuple of
/// [`FixedLabelValue`]s, numbered in mixed radix (the last label varies fastest).
pub trait FixedLabelValues {
    /// The number of labels.
    const ARITY: usize;
    /// The number of value combinations.
    const CARDINALITY: usize;

    /// This combination's number, below [`CARDINALITY`](Self::CARDINALITY).
    fn index(&self) -> usize;

    /// The text of label `label` in combination `index`.
    fn value_text(index: usize, label: usize) -> &'static str;
}

macro_rules! tuple_fixed_label_values {
    ($($n:literal => ($($t:ident $i:tt),+);)*) => {$(
        impl<$($t: FixedLabelValue),+> FixedLabelValues for ($($t,)+) {
            const ARITY: usize = $n;
            const CARDINALITY: usize = 1 $(* $t::VALUES.len())+;

            #[inline]
            fn index(&self) -> usize {
                let mut index = 0;
                $(
                    let value = self.$i.index();
                    // A hand-written `index` out of range would select another combination.
                    assert!(value < $t::VALUES.len(), "FixedLabelValue::index returned {value}, past its VALUES");
                    index = index * $t::VALUES.len() + value;
                )+
                index
            }

            fn value_text(index: usize, label: usize) -> &'static str {
                let radices = [$($t::VALUES),+];
                let stride: usize = radices[label + 1..].iter().map(|v| v.len()).product();
                radices[label][(index / stride) % radices[label].len()]
            }
        }
    )*};
}
tuple_fixed_label_values! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
}

/// The separator after each value in a key; never part of UTF-8 text.
pub(crate) const SEPARATOR: u8 = 0xFF;

/// A byte buffer that lives on the stack for short label sets and spills to the heap for
/// long ones, so that looking a child up allocates nothing in the common case.
pub struct LabelBuf {
    inline: [u8; LabelBuf::INLINE],
    len: usize,
    heap: Vec<u8>,
}

impl LabelBuf {
    const INLINE: usize = 160;

    pub(crate) fn new() -> Self {
        LabelBuf {
            inline: [0; Self::INLINE],
            len: 0,
            heap: Vec::new(),
        }
    }

    /// Appends text.
    #[inline]
    pub fn push_str(&mut self, text: &str) {
        self.push_bytes(text.as_bytes());
    }

    #[inline]
    fn push_bytes(&mut self, bytes: &[u8]) {
        let end = self.len + bytes.len();
        if self.heap.is_empty() && end <= Self::INLINE {
            self.inline[self.len..end].copy_from_slice(bytes);
            self.len = end;
        } else {
            if self.heap.is_empty() {
                self.heap.extend_from_slice(&self.inline[..self.len]);
            }
            self.heap.extend_from_slice(bytes);
        }
    }

    #[inline]
    pub(crate) fn end_value(&mut self) {
        self.push_bytes(&[SEPARATOR]);
    }

    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        if self.heap.is_empty() {
            &self.inline[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Splits a key back into its values.
pub(crate) fn key_values(key: &[u8]) -> impl Iterator<Item = &str> {
    key.strip_suffix(&[SEPARATOR])
        .into_iter()
        .flat_map(|body| body.split(|&b| b == SEPARATOR))
        .map(|value| core::str::from_utf8(value).expect("keys are built from UTF-8 text"))
}

impl<T: LabelValue + ?Sized> LabelValue for &T {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        (**self).write_label_value(out);
    }
}

impl LabelValue for str {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(self);
    }
}

impl LabelValue for String {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(self);
    }
}

impl LabelValue for Box<str> {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(self);
    }
}

impl LabelValue for Cow<'_, str> {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(self);
    }
}

impl LabelValue for bool {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

impl LabelValue for char {
    #[inline]
    fn write_label_value(&self, out: &mut LabelBuf) {
        out.push_str(self.encode_utf8(&mut [0; 4]));
    }
}

macro_rules! integer_label_values {
    ($($int:ty)*) => {$(
        impl LabelValue for $int {
            #[inline]
            fn write_label_value(&self, out: &mut LabelBuf) {
                out.push_str(itoa::Buffer::new().format(*self));
            }
        }
    )*};
}
integer_label_values!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl<T: LabelValue, const N: usize> crate::sealed::Values<N> for [T; N] {}
impl<T: LabelValue, const N: usize> crate::sealed::Values<N> for &[T; N] {}
impl<T: LabelValue, const N: usize> LabelValues<N> for [T; N] {
    #[inline]
    fn write_key(&self, out: &mut LabelBuf) {
        for value in self {
            value.write_label_value(out);
            out.end_value();
        }
    }
}

impl<T: LabelValue, const N: usize> LabelValues<N> for &[T; N] {
    #[inline]
    fn write_key(&self, out: &mut LabelBuf) {
        (*self).write_key(out);
    }
}

macro_rules! tuple_label_values {
    ($($n:literal => ($($t:ident $i:tt),+);)*) => {$(
        impl<$($t: LabelValue),+> crate::sealed::Values<$n> for ($($t,)+) {}
        impl<$($t: LabelValue),+> LabelValues<$n> for ($($t,)+) {
            #[inline]
            fn write_key(&self, out: &mut LabelBuf) {
                $( self.$i.write_label_value(out); out.end_value(); )+
            }
        }
    )*};
}
tuple_label_values! {
    1 => (A 0);
    2 => (A 0, B 1);
    3 => (A 0, B 1, C 2);
    4 => (A 0, B 1, C 2, D 3);
    5 => (A 0, B 1, C 2, D 3, E 4);
    6 => (A 0, B 1, C 2, D 3, E 4, F 5);
    7 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    8 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    9 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    10 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    11 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    12 => (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::needless_pass_by_value)]
    fn key<const N: usize>(values: impl LabelValues<N>) -> Vec<u8> {
        let mut buf = LabelBuf::new();
        values.write_key(&mut buf);
        buf.as_bytes().to_vec()
    }

    #[test]
    fn keys_separate_values() {
        assert_ne!(key(("ab", "c")), key(("a", "bc")));
        assert_ne!(key(("", "x")), key(("x", "")));
        assert_eq!(key(("GET", 200_u16, true)), b"GET\xff200\xfftrue\xff");
    }

    #[test]
    fn long_keys_spill_to_the_heap() {
        let long = "x".repeat(500);
        let k = key((long.as_str(), "tail"));
        assert_eq!(k.len(), 500 + 1 + 4 + 1);
        let values: Vec<&str> = key_values(&k).collect();
        assert_eq!(values, [long.as_str(), "tail"]);
    }

    #[test]
    fn empty_values_round_trip() {
        let k = key(("", ""));
        assert_eq!(key_values(&k).collect::<Vec<_>>(), ["", ""]);
    }
}
