//! Label values as a key: how a child keeps them (packed end to end, unescaped), how
//! they are hashed where they are, and how a lookup compares them.

use core::hash::{BuildHasher, Hasher};

/// The map's hasher: a folded multiply over 8-byte words (as foldhash and wyhash do),
/// keyed with random seeds per family, so that a client choosing values cannot predict
/// which collide (and a collision only costs a comparison: label sets never merge). Keys
/// and lookups write one value at a time.
#[derive(Clone)]
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
}

impl ValueHasher {
    /// The hash state of `values`, written one value at a time.
    #[allow(clippy::inline_always)] // a separate call in the lookup profile otherwise
    #[inline(always)] // unrolled over a family's labels
    pub(super) fn state_of<'v>(&self, values: impl IntoIterator<Item = &'v [u8]>) -> ValueState {
        let mut state = self.build_hasher();
        for value in values {
            state.write(value);
        }
        state
    }
}

impl BuildHasher for ValueHasher {
    type Hasher = ValueState;

    #[inline]
    fn build_hasher(&self) -> ValueState {
        ValueState {
            hash: self.seed,
            multiplier: self.multiplier,
        }
    }
}

/// A hash of label values under way.
pub(super) struct ValueState {
    hash: u64,
    multiplier: u64,
}

impl Hasher for ValueState {
    /// Mixes in one label value.
    #[inline]
    #[allow(clippy::cast_possible_truncation)] // a remainder below 8
    fn write(&mut self, value: &[u8]) {
        let mut words = value.chunks_exact(8);
        for word in &mut words {
            self.mix(u64::from_le_bytes(word.try_into().unwrap_or_default()));
        }
        // The last word: the 0 to 7 bytes left, and the length in the top byte, so that
        // ("ab", "c") and ("a", "bc") hash apart and no tail cancels a length.
        let left = words.remainder().len() as u32;
        let tail = match value.last_chunk::<8>() {
            // The last eight bytes, overlapping the words above, shifted down to those left
            // (a shift by 64, for none left, gives none).
            Some(last) => u64::from_le_bytes(*last)
                .checked_shr(8 * (8 - left))
                .unwrap_or(0),
            None => short_word(value),
        };
        self.mix(tail | (value.len() as u64) << 56);
    }

    #[inline]
    fn finish(&self) -> u64 {
        if cfg!(test) {
            // Unit tests hash every label set alike, so that every lookup meets collisions
            // and only the comparison of the values tells label sets apart.
            return 0;
        }
        self.hash
    }
}

impl ValueState {
    /// The hash as it is outside unit tests.
    #[cfg(test)]
    fn unmasked(&self) -> u64 {
        self.hash
    }

    #[inline]
    fn mix(&mut self, word: u64) {
        let product = u128::from(self.hash ^ word) * u128::from(self.multiplier);
        #[allow(clippy::cast_possible_truncation)] // the two halves, folded
        let folded = (product as u64) ^ (product >> 64) as u64;
        self.hash = folded;
    }
}

/// The bytes of `value`, shorter than eight, in the low bytes of a word, first byte
/// lowest: as a longer read would find them, in two or three loads and no loop.
#[inline]
fn short_word(value: &[u8]) -> u64 {
    debug_assert!(value.len() < 8, "{} bytes", value.len());
    let len = value.len();
    if let (Some(first), Some(last)) = (value.first_chunk::<4>(), value.last_chunk::<4>()) {
        // Four to seven bytes: two halves, overlapping.
        let [first, last] = [first, last].map(|half| u64::from(u32::from_le_bytes(*half)));
        first | last << (8 * (len - 4))
    } else if let Some(&first) = value.first() {
        // One to three bytes: the first, the middle and the last are all of them.
        let at = |index: usize| u64::from(value.get(index).copied().unwrap_or(0)) << (8 * index);
        u64::from(first) | at(len / 2) | at(len - 1)
    } else {
        0
    }
}

/// Label values as a child keeps them: the length of each (LEB128) first, then the values
/// end to end, in about a byte a value more than the values themselves. A lookup compares
/// the lengths as a run of bytes and the values with no length read between them. Up to
/// [`INLINE`] bytes they are kept in the child itself, so that a lookup compares them in
/// memory it has just read.
pub(super) enum Packed {
    Inline { len: u8, bytes: [u8; INLINE] },
    Boxed(Box<[u8]>),
}

/// The most bytes of packed values a child keeps in itself: as many as fit beside the
/// length in the room of a boxed slice and three words more.
pub(super) const INLINE: usize = 38;

impl core::ops::Deref for Packed {
    type Target = [u8];

    #[inline]
    fn deref(&self) -> &[u8] {
        match self {
            Packed::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Packed::Boxed(bytes) => bytes,
        }
    }
}

/// `values` [packed](Packed).
pub(super) fn pack(values: &[&[u8]]) -> Packed {
    let mut packed =
        Vec::with_capacity(values.iter().map(|v| length_bytes(v.len()) + v.len()).sum());
    for value in values {
        crate::encoding::varint(&mut packed, value.len() as u64);
    }
    for value in values {
        packed.extend_from_slice(value);
    }
    match u8::try_from(packed.len()) {
        Ok(len) if packed.len() <= INLINE => {
            let mut bytes = [0; INLINE];
            bytes[..packed.len()].copy_from_slice(&packed);
            Packed::Inline { len, bytes }
        }
        _ => Packed::Boxed(packed.into_boxed_slice()),
    }
}

fn length_bytes(length: usize) -> usize {
    (usize::BITS - length.leading_zeros()).div_ceil(7).max(1) as usize
}

/// The `count` values that [`pack`] packed, in order (fewer if `packed` holds fewer).
pub(super) fn unpack(packed: &[u8], count: usize) -> impl Iterator<Item = &[u8]> {
    // The values begin after `count` lengths, each ended by a byte under 0x80.
    let header = packed
        .iter()
        .enumerate()
        .filter(|(_, &byte)| byte < 0x80)
        .nth(count.wrapping_sub(1))
        .map_or(0, |(at, _)| at + 1);
    let (mut lengths, mut rest) = packed.split_at(header.min(packed.len()));
    core::iter::from_fn(move || {
        let (length, after) = next_length(lengths)?;
        let (value, others) = rest.split_at_checked(length)?;
        (lengths, rest) = (after, others);
        Some(value)
    })
}

/// How many values `packed` holds, for those who do not know (a handle's `Debug`): the
/// one count whose lengths add up, with the lengths, to all of it.
pub(super) fn count(packed: &[u8]) -> usize {
    let (mut lengths, mut total, mut count) = (packed, 0, 0);
    while total < packed.len() {
        let Some((length, after)) = next_length(lengths) else {
            break;
        };
        total += length + (lengths.len() - after.len());
        (lengths, count) = (after, count + 1);
    }
    count
}

/// The first length of `lengths` and the lengths after it.
fn next_length(lengths: &[u8]) -> Option<(usize, &[u8])> {
    let mut length = 0_usize;
    for (at, &byte) in lengths.iter().enumerate() {
        length |= usize::from(byte & 0x7f).checked_shl(u32::try_from(7 * at).ok()?)?;
        if byte & 0x80 == 0 {
            return Some((length, &lengths[at + 1..]));
        }
    }
    None
}

/// Whether `packed` holds exactly `values`.
#[inline]
pub(super) fn packs<const N: usize>(packed: &[u8], values: &[&[u8]; N]) -> bool {
    // Values under 128 bytes (most) have a one-byte length: then the first N bytes are
    // the lengths, and the values follow.
    let Some((lengths, bytes)) = packed.split_first_chunk::<N>() else {
        return false;
    };
    let mut at = 0;
    let mut differ = 0;
    for (value, &length) in values.iter().zip(lengths) {
        if length >= 0x80 {
            return packs_long(packed, values);
        }
        let Some(theirs) = bytes.get(at..at + value.len()) else {
            return false;
        };
        if value.len() != usize::from(length) {
            return false;
        }
        differ |= difference(value, theirs);
        at += value.len();
    }
    differ == 0 && at == bytes.len()
}

/// [`packs`] for a child with a value of 128 bytes or more.
#[cold]
#[inline(never)]
fn packs_long(packed: &[u8], values: &[&[u8]]) -> bool {
    let mut theirs = unpack(packed, values.len());
    let consumed: usize = values.iter().map(|v| length_bytes(v.len()) + v.len()).sum();
    values.iter().all(|value| theirs.next() == Some(*value)) && consumed == packed.len()
}

/// Whether `text` equals `other`, of the same length.
#[cfg(test)]
fn is_equal(text: &[u8], other: &[u8]) -> bool {
    difference(text, other) == 0
}

/// Zero if `text` equals `other`, of the same length: the bits where their words differ,
/// to be gathered over several values and tested once.
#[inline]
fn difference(text: &[u8], other: &[u8]) -> u64 {
    let mut differ = 0;
    for_each_word_pair(text, other, |ours, theirs| differ |= ours ^ theirs);
    differ
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

#[cfg(test)]
mod tests {
    use super::*;

    fn hash(hasher: &ValueHasher, values: &[&str]) -> u64 {
        let mut state = hasher.build_hasher();
        for value in values {
            state.write(value.as_bytes());
        }
        state.hash
    }

    #[test]
    fn packed_values_hash_as_the_values_they_pack() {
        let hasher = ValueHasher::new();
        let values: [&[u8]; 3] = [b"GET", b"/api/orders/with/a/long/path", b"200"];
        let packed = pack(&values);
        let of_values = hasher.state_of(values).unmasked();
        assert_eq!(of_values, hasher.state_of(unpack(&packed, 3)).unmasked());
        let other: [&[u8]; 3] = [b"GET", b"/api/orders/with/a/long/pat", b"h200"];
        assert_ne!(of_values, hasher.state_of(other).unmasked());
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
        let mut hashes: Vec<u64> = values.iter().map(|v| hash(&hasher, &[v])).collect();
        hashes.sort_unstable();
        hashes.dedup();
        assert_eq!(hashes.len(), values.len());
        assert_ne!(hash(&hasher, &["ab", "c"]), hash(&hasher, &["a", "bc"]));
    }

    #[test]
    fn packed_values_come_back_and_compare_exactly() {
        let long = "x".repeat(300);
        // Packed into 37, 38 and 39 bytes: the last kept in a box, the others inline.
        let [below, at, above] = [36, 37, 38].map(|len| "y".repeat(len));
        // 133 bytes: a length whose first LEB128 byte, 0x85, reads as 133 too.
        let leb = "z".repeat(133);
        let sets: [&[&str]; 11] = [
            &[""],
            &["", ""],
            &["GET", "/api/orders", "200"],
            &[&long, "a"],
            &[&leb, "a"],
            &["a", &leb],
            &["a\"b", "\\", "\n"],
            &["ab", "c"],
            &[&below],
            &[&at],
            &[&above],
        ];
        for set in sets {
            let bytes: Vec<&[u8]> = set.iter().map(|v| v.as_bytes()).collect();
            let packed = pack(&bytes);
            assert_eq!(unpack(&packed, bytes.len()).collect::<Vec<_>>(), bytes);
            for other in sets {
                let other: Vec<&[u8]> = other.iter().map(|v| v.as_bytes()).collect();
                assert_eq!(count(&packed), bytes.len());
                assert_eq!(
                    packs_slice(&packed, &other),
                    other == bytes,
                    "{set:?} against {other:?}"
                );
            }
        }
        assert_eq!(pack(&[long.as_bytes()]).len(), 2 + 300);
        assert!(matches!(
            pack(&[at.as_bytes()]),
            Packed::Inline { len: 38, .. }
        ));
        assert!(matches!(pack(&[above.as_bytes()]), Packed::Boxed(_)));
        assert!(
            !packs(&pack(&[b"a"]), &[b"a", b""]),
            "fewer values packed than asked"
        );
    }

    /// [`packs`] for the numbers of values the tests use.
    fn packs_slice(packed: &[u8], values: &[&[u8]]) -> bool {
        match values.len() {
            1 => packs::<1>(packed, values.try_into().unwrap()),
            2 => packs::<2>(packed, values.try_into().unwrap()),
            3 => packs::<3>(packed, values.try_into().unwrap()),
            n => panic!("{n} values"),
        }
    }

    #[test]
    fn short_words_hold_their_bytes_in_order() {
        let bytes = [1, 2, 3, 4, 5, 6, 7_u8];
        for len in 0..8 {
            let word = bytes[..len]
                .iter()
                .rev()
                .fold(0, |word, &byte| word << 8 | u64::from(byte));
            assert_eq!(short_word(&bytes[..len]), word, "{len}");
        }
    }

    #[test]
    fn words_compare_every_byte() {
        let text: Vec<u8> = (0..40).collect();
        for length in 0..text.len() {
            for flipped in 0..length {
                let mut other = text[..length].to_vec();
                other[flipped] ^= 1;
                assert!(!is_equal(&text[..length], &other), "{length} {flipped}");
            }
            assert!(is_equal(&text[..length], &text[..length]));
        }
    }
}
