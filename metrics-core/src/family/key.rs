//! Label text as a key: hashing label values where they are, and comparing them with a
//! child's rendered label text without rendering them.

use core::hash::{BuildHasher, Hasher};

/// Hashes label values where they are: a folded multiply over 8-byte words (as foldhash
/// and wyhash do), keyed with random seeds per family, so that values a client chooses
/// cannot be made to collide on purpose.
pub(super) struct ValueHasher {
    seed: u64,
    multiplier: u64,
}

impl ValueHasher {
    pub(super) fn new() -> Self {
        let random = foldhash::fast::RandomState::default();
        ValueHasher {
            seed: random.hash_one(0_u8),
            multiplier: random.hash_one(1_u8) | 1,
        }
    }

    #[inline]
    pub(super) fn hash(&self, values: &[&[u8]]) -> u64 {
        if cfg!(test) {
            // Unit tests hash every label set alike, so that every lookup meets collisions
            // and only the comparison of the label text tells label sets apart.
            return 0;
        }
        self.hash_values(values)
    }

    #[inline]
    pub(super) fn hash_values(&self, values: &[&[u8]]) -> u64 {
        let mut hash = self.seed;
        for bytes in values {
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

/// The map's hasher: keys and lookups bring their hash along.
#[derive(Default)]
pub(super) struct Prehashed(u64);

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
/// exactly `values`.
#[inline]
pub(super) fn renders_as<const N: usize>(
    rendered: &[u8],
    names: &[&'static str; N],
    values: &[&[u8]; N],
) -> bool {
    renders_plainly_as(rendered, names, values) || renders_escaped_as(rendered, names, values)
}

/// [`renders_as`] for values that need no escaping (most): each is there as it is, so the
/// comparison is a few word compares, and no loop for values up to 16 bytes.
#[inline]
fn renders_plainly_as<const N: usize>(
    rendered: &[u8],
    names: &[&'static str; N],
    values: &[&[u8]; N],
) -> bool {
    let mut at = 0;
    for (label, (name, value)) in names.iter().zip(values).enumerate() {
        // `,` between pairs, then `name="`: alike in every child of the family.
        at += usize::from(label > 0) + name.len() + 2;
        let end = at + value.len();
        match (rendered.get(at..end), rendered.get(end)) {
            (Some(same_length), Some(b'"')) if is_plain_and_equal(value, same_length) => {}
            _ => return false,
        }
        at = end + 1;
    }
    at == rendered.len()
}

/// [`renders_as`] byte by byte, unescaping.
#[cold]
fn renders_escaped_as(rendered: &[u8], names: &[&'static str], values: &[&[u8]]) -> bool {
    let mut rest = rendered;
    for (label, (name, value)) in names.iter().zip(values).enumerate() {
        let skip = usize::from(label > 0) + name.len() + 2;
        match rest
            .get(skip..)
            .and_then(|after| strip_escaped(after, value))
        {
            Some([b'"', tail @ ..]) => rest = tail,
            _ => return false,
        }
    }
    rest.is_empty()
}

/// What follows `text`, escaped as a label value, at the start of `bytes`, if it is there.
fn strip_escaped<'a>(bytes: &'a [u8], text: &[u8]) -> Option<&'a [u8]> {
    let mut at = 0;
    for &byte in text {
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

/// Whether `text` needs no escaping and equals `other`, of the same length.
///
/// A raw newline needs no check here: `other`, rendered text, has none.
#[inline]
fn is_plain_and_equal(text: &[u8], other: &[u8]) -> bool {
    let mut differ = 0;
    let mut special = false;
    for_each_word_pair(text, other, |ours, theirs| {
        differ |= ours ^ theirs;
        special |= has_byte(ours, b'\\') | has_byte(ours, b'"');
    });
    differ == 0 && !special
}

/// Whether `text` equals `other`, of the same length.
#[inline]
pub(super) fn is_equal(text: &[u8], other: &[u8]) -> bool {
    let mut differ = 0;
    for_each_word_pair(text, other, |ours, theirs| differ |= ours ^ theirs);
    differ == 0
}

/// Calls `visit` with `text` and `other`, of the same length, as pairs of words that
/// cover every byte (overlapping, short text zero-extended): no loop up to 16 bytes.
#[inline]
fn for_each_word_pair(text: &[u8], other: &[u8], mut visit: impl FnMut(u64, u64)) {
    #[inline]
    fn word(bytes: &[u8], at: usize) -> u64 {
        bytes.get(at..at + 8).map_or(0, |word| {
            u64::from_le_bytes(word.try_into().unwrap_or_default())
        })
    }
    #[inline]
    fn half(bytes: &[u8], at: usize) -> u64 {
        bytes.get(at..at + 4).map_or(0, |half| {
            u64::from(u32::from_le_bytes(half.try_into().unwrap_or_default()))
        })
    }
    #[inline]
    fn quarter(bytes: &[u8], at: usize) -> u64 {
        bytes.get(at..at + 2).map_or(0, |quarter| {
            u64::from(u16::from_le_bytes(quarter.try_into().unwrap_or_default()))
        })
    }
    let len = text.len();
    match len {
        0 => {}
        1 => visit(u64::from(text[0]), u64::from(other[0])),
        2..4 => visit(
            quarter(text, 0) | quarter(text, len - 2) << 16,
            quarter(other, 0) | quarter(other, len - 2) << 16,
        ),
        4..8 => visit(
            half(text, 0) | half(text, len - 4) << 32,
            half(other, 0) | half(other, len - 4) << 32,
        ),
        _ => {
            let mut at = 0;
            while at + 8 < len {
                visit(word(text, at), word(other, at));
                at += 8;
            }
            visit(word(text, len - 8), word(other, len - 8));
        }
    }
}

/// Whether one of the eight bytes of `word` is `byte` (the classic zero-byte test).
#[inline]
pub(super) fn has_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
            .map(|v| hasher.hash_values(&[v.as_bytes()]))
            .collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), values.len());
        let split = |a: &str, b: &str| hasher.hash_values(&[a.as_bytes(), b.as_bytes()]);
        assert_ne!(split("ab", "c"), split("a", "bc"));
    }

    #[test]
    fn every_short_text_matches_only_its_own_rendering() {
        let alphabet = ["a", "\\", "\"", "\n", ","];
        let mut texts = vec![String::new()];
        for length in 1..=4 {
            let longer: Vec<String> = texts
                .iter()
                .filter(|t| t.chars().count() == length - 1)
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(longer);
        }
        // The same behind seven plain bytes: through the word-wise comparison.
        let prefixed: Vec<String> = texts.iter().map(|t| format!("abcdefg{t}")).collect();
        for texts in [&texts, &prefixed] {
            assert_each_matches_only_itself(texts);
        }
    }

    fn assert_each_matches_only_itself(texts: &[String]) {
        for rendered_text in texts {
            let mut rendered = Vec::new();
            crate::encoding::render_label_pairs(&mut rendered, [("a", rendered_text.as_str())]);
            for text in texts {
                let matched = renders_as(&rendered, &["a"], &[text.as_bytes()]);
                assert_eq!(
                    matched,
                    text == rendered_text,
                    "{text:?} against {rendered_text:?}"
                );
            }
        }
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
}
