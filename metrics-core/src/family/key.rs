//! Label text as a key: hashing label values where they are, and comparing them with a
//! child's rendered label text without rendering them.

use core::hash::{BuildHasher, Hasher};

use crate::label::LabelText;

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
    pub(super) fn hash(&self, texts: &[LabelText<'_>]) -> u64 {
        if cfg!(test) {
            // Unit tests hash every label set alike, so that every lookup meets collisions
            // and only the comparison of the label text tells label sets apart.
            return 0;
        }
        self.hash_texts(texts)
    }

    #[inline]
    pub(super) fn hash_texts(&self, texts: &[LabelText<'_>]) -> u64 {
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
/// exactly `texts`.
#[inline]
pub(super) fn renders_as(rendered: &[u8], names: &[&'static str], texts: &[LabelText<'_>]) -> bool {
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
pub(super) fn strip_escaped<'a>(bytes: &'a [u8], text: &[u8]) -> Option<&'a [u8]> {
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
}
