//! Label values: how a value becomes label text, visited in place so that looking a child
//! of a [`Family`](crate::Family) up copies nothing.

use core::fmt;
use std::borrow::Cow;

/// A type whose values can be label values.
///
/// Implemented for strings (`&str`, `String`, `Cow<str>`, `Box<str>`), integers, `bool`
/// and `char`; implement it for your own types (an enum, say) by handing over the text.
///
/// ```
/// use promlink_core::{LabelText, LabelValue};
///
/// enum Method { Get, Post }
///
/// impl LabelValue for Method {
///     fn label_text(&self) -> LabelText<'_> {
///         LabelText::from(match self { Method::Get => "GET", Method::Post => "POST" })
///     }
/// }
/// ```
pub trait LabelValue {
    /// This value's text: borrowed where the value holds it, so that a lookup copies
    /// nothing.
    fn label_text(&self) -> LabelText<'_>;

    /// Calls `f` with this value's text, the same as [`label_text`](Self::label_text)'s.
    /// Provided: override it only where the text is at hand without a [`LabelText`] (the
    /// strings and numbers here do), so that a lookup builds none.
    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        f(self.label_text().as_str())
    }
}

/// The text of a label value: borrowed, or formatted in place (a number).
pub struct LabelText<'a>(Text<'a>);

enum Text<'a> {
    Borrowed(&'a str),
    /// Up to 22 bytes: the digits and sign of any integer up to 64 bits; 24 bytes in all.
    Inline([u8; 22], u8),
    Owned(Box<str>),
}

impl<'a> From<&'a str> for LabelText<'a> {
    #[inline]
    fn from(text: &'a str) -> Self {
        LabelText(Text::Borrowed(text))
    }
}

impl From<String> for LabelText<'_> {
    fn from(text: String) -> Self {
        LabelText(Text::Owned(text.into_boxed_str()))
    }
}

impl LabelText<'_> {
    /// A copy of short `text` kept in place; longer text on the heap.
    #[inline]
    pub fn copied(text: &str) -> Self {
        let mut inline = [0; 22];
        match (inline.get_mut(..text.len()), u8::try_from(text.len())) {
            (Some(prefix), Ok(len)) => {
                prefix.copy_from_slice(text.as_bytes());
                LabelText(Text::Inline(inline, len))
            }
            _ => LabelText(Text::Owned(text.into())),
        }
    }

    /// The text's bytes (without the UTF-8 check [`as_str`](Self::as_str) makes of
    /// formatted text: lookups only hash and compare them).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Text::Borrowed(text) => text.as_bytes(),
            Text::Inline(bytes, len) => &bytes[..usize::from(*len)],
            Text::Owned(text) => text.as_bytes(),
        }
    }

    /// The text.
    #[inline]
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Borrowed(text) => text,
            // Copied from a `&str` whole, so valid UTF-8.
            Text::Inline(bytes, len) => {
                core::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            Text::Owned(text) => text,
        }
    }
}

impl fmt::Debug for LabelText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// The values of all labels of one child, in the order of the family's label names.
///
/// Implemented for tuples of up to twelve [`LabelValue`]s and for arrays, so that the
/// number of values is checked by the compiler against the family's label count `N`.
/// Sealed: a key must hold exactly `N` values, so only these implementations exist;
/// implement [`LabelValue`] for your own types.
pub trait LabelValues<const N: usize>: crate::sealed::Values<N> {
    /// Calls `f` with every value's text (UTF-8), in order: the text stays where the values
    /// hold it, or on this call's stack.
    fn with_texts<R>(&self, f: impl FnOnce(&[&[u8]; N]) -> R) -> R;
}

/// A label value type with a fixed, known set of values (`bool`, or an enum deriving
/// `LabelValue`): its children live in a dense array indexed by the value, with no
/// hashing, and every one of them is exported from the first scrape.
///
/// ```
/// use promlink_core::{FixedLabelValue, LabelText, LabelValue};
///
/// #[derive(Clone, Copy)]
/// enum Outcome { Hit, Miss }
///
/// impl LabelValue for Outcome {
///     fn label_text(&self) -> LabelText<'_> {
///         LabelText::from(Self::VALUES[self.index()])
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

impl<T: LabelValue + ?Sized> LabelValue for &T {
    #[inline]
    fn label_text(&self) -> LabelText<'_> {
        (**self).label_text()
    }

    #[inline]
    fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        (**self).with_text(f)
    }
}

macro_rules! string_label_values {
    ($($string:ty)*) => {$(
        impl LabelValue for $string {
            #[inline]
            fn label_text(&self) -> LabelText<'_> {
                let text: &str = self;
                LabelText::from(text)
            }

            #[inline]
            fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
                f(self)
            }
        }
    )*};
}
string_label_values!(str String Box<str> Cow<'_, str>);

impl LabelValue for bool {
    #[inline]
    fn label_text(&self) -> LabelText<'_> {
        LabelText::from(if *self { "true" } else { "false" })
    }
}

impl LabelValue for char {
    #[inline]
    fn label_text(&self) -> LabelText<'_> {
        LabelText::copied(self.encode_utf8(&mut [0; 4]))
    }
}

/// The digits of `0` to `999`, end to end.
#[allow(clippy::cast_possible_truncation)] // single digits
const SMALL_DIGITS: [u8; 10 + 90 * 2 + 900 * 3] = {
    let mut digits = [0_u8; 10 + 90 * 2 + 900 * 3];
    let (mut number, mut at) = (0_u32, 0);
    while number < 1000 {
        if number >= 100 {
            digits[at] = b'0' + (number / 100) as u8;
            at += 1;
        }
        if number >= 10 {
            digits[at] = b'0' + (number / 10 % 10) as u8;
            at += 1;
        }
        digits[at] = b'0' + (number % 10) as u8;
        at += 1;
        number += 1;
    }
    digits
};

/// [`SMALL_DIGITS`] as text: labels such as HTTP status codes need no formatting.
const SMALL_NUMBERS: &str = match core::str::from_utf8(&SMALL_DIGITS) {
    Ok(text) => text,
    Err(_) => panic!("digits are ASCII"),
};

/// The text of `number` if it is below 1000, from [`SMALL_NUMBERS`].
#[inline]
fn small_number(number: u64) -> Option<&'static str> {
    #[allow(clippy::cast_possible_truncation)] // below 1000
    let start = match number {
        0..10 => number as usize,
        10..100 => 10 + (number as usize - 10) * 2,
        100..1000 => 190 + (number as usize - 100) * 3,
        _ => return None,
    };
    let len = 1 + usize::from(number >= 10) + usize::from(number >= 100);
    SMALL_NUMBERS.get(start..start + len)
}

macro_rules! integer_label_values {
    ($($int:ty)*) => {$(
        impl LabelValue for $int {
            #[inline]
            fn label_text(&self) -> LabelText<'_> {
                LabelText::copied(itoa::Buffer::new().format(*self))
            }

            #[inline]
            fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> R {
                match u64::try_from(*self).ok().and_then(small_number) {
                    Some(text) => f(text),
                    None => f(itoa::Buffer::new().format(*self)),
                }
            }
        }
    )*};
}
integer_label_values!(u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl<T: LabelValue, const N: usize> crate::sealed::Values<N> for [T; N] {}
impl<T: LabelValue, const N: usize> crate::sealed::Values<N> for &[T; N] {}
impl<T: LabelValue, const N: usize> LabelValues<N> for [T; N] {
    #[inline]
    fn with_texts<R>(&self, f: impl FnOnce(&[&[u8]; N]) -> R) -> R {
        let texts: [LabelText<'_>; N] = core::array::from_fn(|i| self[i].label_text());
        f(&texts.each_ref().map(LabelText::as_bytes))
    }
}

impl<T: LabelValue, const N: usize> LabelValues<N> for &[T; N] {
    #[inline]
    fn with_texts<R>(&self, f: impl FnOnce(&[&[u8]; N]) -> R) -> R {
        (*self).with_texts(f)
    }
}

/// `self.0.with_text(|A| self.1.with_text(|B| .. f(&[A, B, ..])))`.
macro_rules! nested_with_text {
    ($self:ident, $f:ident, [$($done:ident)*], ) => {
        $f(&[$($done.as_bytes()),*])
    };
    ($self:ident, $f:ident, [$($done:ident)*], $name:ident $i:tt $($rest:tt)*) => {
        $self.$i.with_text(|$name| nested_with_text!($self, $f, [$($done)* $name], $($rest)*))
    };
}

macro_rules! tuple_label_values {
    ($($n:literal => ($($t:ident $i:tt),+);)*) => {$(
        impl<$($t: LabelValue),+> crate::sealed::Values<$n> for ($($t,)+) {}
        impl<$($t: LabelValue),+> LabelValues<$n> for ($($t,)+) {
            #[inline]
            #[allow(non_snake_case)] // each value's text is named after its type
            fn with_texts<R>(&self, f: impl FnOnce(&[&[u8]; $n]) -> R) -> R {
                // Each value lends its text in turn, from where it is: no copies, and no
                // `LabelText` to build and drop for strings and numbers.
                nested_with_text!(self, f, [], $($t $i)+)
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

    #[test]
    fn small_numbers_read_as_formatted() {
        for number in 0..1100_u64 {
            let expected = (number < 1000).then(|| number.to_string());
            assert_eq!(small_number(number).map(str::to_owned), expected);
        }
        assert_eq!(200_u16.with_text(str::to_owned), "200");
        assert_eq!((-7_i32).with_text(str::to_owned), "-7");
        assert_eq!(u128::MAX.with_text(str::to_owned), u128::MAX.to_string());
    }

    #[allow(clippy::needless_pass_by_value)]
    fn texts<const N: usize>(values: impl LabelValues<N>) -> Vec<String> {
        values.with_texts(|texts| {
            texts
                .iter()
                .map(|t| String::from_utf8(t.to_vec()).unwrap())
                .collect()
        })
    }

    #[test]
    fn every_kind_of_value_as_text() {
        assert_eq!(
            texts(("GET", 200_u16, true, 'x', i128::MIN)),
            [
                "GET",
                "200",
                "true",
                "x",
                "-170141183460469231731687303715884105728"
            ]
        );
        assert_eq!(texts([String::from("a"), String::new()]), ["a", ""]);
        assert_eq!(
            texts((Cow::Borrowed("c"), Box::<str>::from("d"))),
            ["c", "d"]
        );
        assert_eq!(LabelText::copied(&"é".repeat(30)).as_str(), "é".repeat(30));
    }
}
