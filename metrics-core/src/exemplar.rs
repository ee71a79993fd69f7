//! Exemplars: a counter's or a histogram bucket's latest sample with labels of its own
//! (a trace id, typically) that point from a metric to an example of what it counts.
//!
//! Each series or bucket keeps its latest exemplar only, in a slot of one word until its
//! first exemplar, then a sequence lock over a buffer of words (see [`ExemplarSlot`]):
//! a write allocates nothing unless the buffer must grow. Updates without an exemplar
//! never touch it.

use core::fmt;
use core::ptr;
use std::sync::atomic::{fence, AtomicPtr, AtomicU64, Ordering};

use seize::Guard;

use crate::descriptor::is_label_name;
use crate::reclaim::collector;

/// The most characters an exemplar's label names and values may have together, as
/// OpenMetrics allows.
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// Why an exemplar was refused. The value it came with is counted all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidExemplar {
    /// The label names and values have more than [`MAX_EXEMPLAR_LABEL_CHARS`] characters.
    TooLong {
        /// How many they have.
        chars: usize,
    },
    /// A label name is not a valid Prometheus label name.
    LabelName(String),
    /// A label name comes twice.
    DuplicateLabel(String),
}

impl fmt::Display for InvalidExemplar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InvalidExemplar::TooLong { chars } => write!(
                f,
                "an exemplar's labels have {chars} characters, more than the \
                 {MAX_EXEMPLAR_LABEL_CHARS} OpenMetrics allows; the value was counted without it"
            ),
            InvalidExemplar::LabelName(name) => write!(
                f,
                "`{name}` is not a valid label name for an exemplar; the value was counted without it"
            ),
            InvalidExemplar::DuplicateLabel(name) => write!(
                f,
                "an exemplar has the label `{name}` twice; the value was counted without it"
            ),
        }
    }
}

impl std::error::Error for InvalidExemplar {}

/// One exemplar as a scrape reads it: its labels, the value observed or added, and when.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
    /// Seconds since the Unix epoch.
    pub(crate) timestamp: f64,
}

/// Checks an exemplar's labels as OpenMetrics wants them.
fn check(labels: &[(&str, &str)]) -> Result<(), InvalidExemplar> {
    if let Some((name, _)) = labels.iter().find(|(name, _)| !is_label_name(name)) {
        return Err(InvalidExemplar::LabelName((*name).to_owned()));
    }
    // At most 128 labels (names are not empty): a quadratic look is cheap.
    for (at, (name, _)) in labels.iter().enumerate() {
        if labels[..at].iter().any(|(other, _)| other == name) {
            return Err(InvalidExemplar::DuplicateLabel((*name).to_owned()));
        }
    }
    let bytes: usize = labels.iter().map(|(n, v)| n.len() + v.len()).sum();
    // No more characters than bytes: only longer text needs counting.
    if bytes > MAX_EXEMPLAR_LABEL_CHARS {
        let chars = labels
            .iter()
            .map(|(name, value)| name.chars().count() + value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            return Err(InvalidExemplar::TooLong { chars });
        }
    }
    Ok(())
}

/// The latest exemplar of a series or a bucket, or none yet.
///
/// A sequence lock over a buffer of words: a writer makes the sequence odd, writes the
/// words, and makes it even again; a reader copies the words and keeps the copy if the
/// sequence was even and unchanged around it. So an exemplar costs no allocation and
/// nothing to free, only a buffer the first time (and a larger one for a longer
/// exemplar, the old one freed by `seize` once no scrape reads it). A writer that finds
/// another writing leaves the slot to it (its exemplar is dropped, `Ok` all the same:
/// exemplars are samples).
///
/// One word until the first exemplar, so that a counter child stays in its allocation
/// size (an exemplar is for the few series that get them).
#[derive(Default)]
pub(crate) struct ExemplarSlot(AtomicPtr<Sequenced>);

/// A slot once it has had an exemplar; kept until the slot goes.
#[derive(Default)]
struct Sequenced {
    /// Even while the buffer holds a whole exemplar (or none: 0); odd while it is written.
    sequence: AtomicU64,
    buffer: AtomicPtr<Buffer>,
}

/// An exemplar in words: the byte length of the labels and their number, the value's
/// bits, the timestamp's bits, then each name and value after its length (two bytes).
struct Buffer {
    words: Box<[AtomicU64]>,
}

/// The words before the labels' bytes.
const HEADER_WORDS: usize = 3;

/// How many tries a scrape gives a slot that writers keep changing.
const READ_TRIES: usize = 64;

impl ExemplarSlot {
    pub(crate) const fn new() -> Self {
        ExemplarSlot(AtomicPtr::new(ptr::null_mut()))
    }

    /// Makes an exemplar of `value`, now, with `labels`, the latest.
    pub(crate) fn set(&self, labels: &[(&str, &str)], value: f64) -> Result<(), InvalidExemplar> {
        check(labels)?;
        self.sequenced().set(labels, value);
        Ok(())
    }

    /// The slot's sequence and buffer, made at the first exemplar.
    fn sequenced(&self) -> &Sequenced {
        let mut current = self.0.load(Ordering::Acquire);
        if current.is_null() {
            let new = Box::into_raw(Box::default());
            current = match self.0.compare_exchange(
                ptr::null_mut(),
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => new,
                Err(theirs) => {
                    // SAFETY: ours, never shared.
                    drop(unsafe { Box::from_raw(new) });
                    theirs
                }
            };
        }
        // SAFETY: set once, freed only with the slot.
        unsafe { &*current }
    }

    /// The latest exemplar, if any (none either while writers keep it changing).
    pub(crate) fn get(&self) -> Option<Exemplar> {
        // SAFETY: as in `sequenced`.
        unsafe { self.0.load(Ordering::Acquire).as_ref() }?.get()
    }
}

impl Sequenced {
    /// [`ExemplarSlot::set`], the labels checked.
    fn set(&self, labels: &[(&str, &str)], value: f64) {
        let before = self.sequence.load(Ordering::Relaxed);
        if before % 2 == 1
            || self
                .sequence
                .compare_exchange(before, before + 1, Ordering::AcqRel, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        fence(Ordering::Release);
        let timestamp = crate::time::coarse_unix_time();
        let bytes: usize = labels.iter().map(|(n, v)| 4 + n.len() + v.len()).sum();
        let (words, replaced) = self.buffer_for(HEADER_WORDS + bytes.div_ceil(8));
        let header = bytes as u64 | (labels.len() as u64) << 32;
        words[0].store(header, Ordering::Relaxed);
        words[1].store(value.to_bits(), Ordering::Relaxed);
        words[2].store(timestamp.to_bits(), Ordering::Relaxed);
        let mut out = WordWriter::new(&words[HEADER_WORDS..]);
        for (name, value) in labels {
            for text in [name, value] {
                #[allow(clippy::cast_possible_truncation)] // checked: at most 128 characters
                out.write(&(text.len() as u16).to_le_bytes());
                out.write(text.as_bytes());
            }
        }
        out.finish();
        self.sequence.store(before + 2, Ordering::Release);
        if !replaced.is_null() {
            // SAFETY: out of the slot, and from `Box::into_raw`; a scrape still reading it
            // holds a guard from before. Retired after the lock is let go: retiring may
            // free a batch, running other types' `Drop`, which must not find it held.
            unsafe { collector().retire(replaced, seize::reclaim::boxed) };
        }
    }

    /// The buffer, with room for `needed` words: a new one if it has less, with the one
    /// it replaced (null if none), for the caller to retire. The writer holds the
    /// sequence odd.
    fn buffer_for(&self, needed: usize) -> (&[AtomicU64], *mut Buffer) {
        let current = self.buffer.load(Ordering::Acquire);
        // SAFETY: only the writer, who holds the sequence, replaces the buffer.
        if let Some(buffer) = unsafe { current.as_ref() } {
            if buffer.words.len() >= needed {
                return (&buffer.words, ptr::null_mut());
            }
        }
        let words = (0..needed.next_power_of_two().max(8)).map(|_| AtomicU64::new(0));
        let new = Box::into_raw(Box::new(Buffer {
            words: words.collect(),
        }));
        self.buffer.store(new, Ordering::Release);
        // SAFETY: just made, replaced only by a later writer, and freed after this one's
        // slot goes or after a guard-protected grace.
        (unsafe { &(*new).words }, current)
    }

    /// [`ExemplarSlot::get`].
    fn get(&self) -> Option<Exemplar> {
        if self.buffer.load(Ordering::Relaxed).is_null() {
            return None;
        }
        let guard = collector().enter();
        let mut copy = Vec::new();
        for _ in 0..READ_TRIES {
            let before = self.sequence.load(Ordering::Acquire);
            if before % 2 == 1 {
                std::thread::yield_now();
                continue;
            }
            // SAFETY: in the slot when protected; freed only after the guard goes.
            let buffer = unsafe { guard.protect(&self.buffer, Ordering::Acquire).as_ref() }?;
            copy.clear();
            let header = buffer.words[0].load(Ordering::Relaxed);
            #[allow(clippy::cast_possible_truncation)] // the low half
            let bytes = (header as u32) as usize;
            let words = buffer.words.get(..HEADER_WORDS + bytes.div_ceil(8));
            copy.extend(
                words
                    .into_iter()
                    .flatten()
                    .map(|w| w.load(Ordering::Relaxed)),
            );
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                return decode(&copy);
            }
        }
        None
    }
}

/// Writes bytes into words, eight at a time, little-endian.
struct WordWriter<'w> {
    words: core::slice::Iter<'w, AtomicU64>,
    /// The bytes of the next word so far, in a register: a word put together in memory
    /// byte by byte and then loaded whole waits for each byte's store.
    word: u64,
    filled: usize,
}

impl<'w> WordWriter<'w> {
    fn new(words: &'w [AtomicU64]) -> Self {
        WordWriter {
            words: words.iter(),
            word: 0,
            filled: 0,
        }
    }

    fn write(&mut self, mut bytes: &[u8]) {
        // Byte by byte until a word is whole, then whole words straight from `bytes`.
        while self.filled != 0 {
            let Some((&byte, rest)) = bytes.split_first() else {
                return;
            };
            self.push(byte);
            bytes = rest;
        }
        while let Some((word, rest)) = bytes.split_first_chunk::<8>() {
            self.store(u64::from_le_bytes(*word));
            bytes = rest;
        }
        for &byte in bytes {
            self.push(byte);
        }
    }

    fn push(&mut self, byte: u8) {
        self.word |= u64::from(byte) << (8 * self.filled);
        self.filled += 1;
        if self.filled == 8 {
            self.flush();
        }
    }

    fn store(&mut self, word: u64) {
        if let Some(cell) = self.words.next() {
            cell.store(word, Ordering::Relaxed);
        }
    }

    fn flush(&mut self) {
        self.store(self.word);
        (self.word, self.filled) = (0, 0);
    }

    fn finish(mut self) {
        if self.filled > 0 {
            self.flush();
        }
    }
}

/// The exemplar in a consistent copy of a buffer's words.
fn decode(words: &[u64]) -> Option<Exemplar> {
    let (&[header, value, timestamp], rest) = words.split_first_chunk::<HEADER_WORDS>()?;
    #[allow(clippy::cast_possible_truncation)] // the two halves
    let (bytes, count) = ((header as u32) as usize, (header >> 32) as usize);
    let all: Vec<u8> = rest.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut rest = all.get(..bytes)?;
    let mut text = || {
        let (length, after) = rest.split_first_chunk::<2>()?;
        let (text, after) = after.split_at_checked(usize::from(u16::from_le_bytes(*length)))?;
        rest = after;
        String::from_utf8(text.to_vec()).ok()
    };
    let labels = (0..count)
        .map(|_| Some((text()?, text()?)))
        .collect::<Option<Vec<_>>>()?;
    Some(Exemplar {
        labels,
        value: f64::from_bits(value),
        timestamp: f64::from_bits(timestamp),
    })
}

impl Drop for ExemplarSlot {
    fn drop(&mut self) {
        let sequenced = *self.0.get_mut();
        if !sequenced.is_null() {
            // SAFETY: the slot's own, from `Box::into_raw`: whoever drops the slot holds it
            // alone.
            drop(unsafe { Box::from_raw(sequenced) });
        }
    }
}

impl Drop for Sequenced {
    fn drop(&mut self) {
        let last = *self.buffer.get_mut();
        if !last.is_null() {
            // SAFETY: as for the slot: its own, and replaced buffers went to the collector.
            drop(unsafe { Box::from_raw(last) });
        }
    }
}

impl fmt::Debug for ExemplarSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ExemplarSlot").field(&self.get()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked_and_counted_in_characters() {
        let slot = ExemplarSlot::new();
        slot.set(&[("trace_id", "4bf92f3577b34da6")], 0.5).unwrap();
        let ok = slot.get().unwrap();
        assert_eq!(ok.labels, [("trace_id".into(), "4bf92f3577b34da6".into())]);
        assert_eq!(ok.value, 0.5);
        assert!(ok.timestamp > 1.6e9);
        // 8 + 120 = 128 characters: at the limit; one more is over it.
        let at_limit = "é".repeat(120);
        slot.set(&[("trace_id", &at_limit)], 1.0).unwrap();
        assert_eq!(slot.get().unwrap().labels[0].1, at_limit);
        let over = "é".repeat(121);
        assert_eq!(
            slot.set(&[("trace_id", &over)], 2.0).unwrap_err(),
            InvalidExemplar::TooLong { chars: 129 }
        );
        assert_eq!(
            slot.set(&[("trace-id", "x")], 3.0).unwrap_err(),
            InvalidExemplar::LabelName("trace-id".into())
        );
        assert_eq!(
            slot.set(&[("a", "1"), ("b", "2"), ("a", "3")], 4.0)
                .unwrap_err(),
            InvalidExemplar::DuplicateLabel("a".into())
        );
        assert_eq!(
            slot.get().unwrap().value,
            1.0,
            "a refused exemplar changes nothing"
        );
    }

    #[test]
    fn the_latest_replaces_the_one_before_whatever_its_size() {
        let slot = ExemplarSlot::new();
        assert!(slot.get().is_none());
        for i in 0..100_u32 {
            let long = "v".repeat(i as usize % 100);
            let labels = [
                ("i", i.to_string()),
                ("empty", String::new()),
                ("long", long),
            ];
            let labels: Vec<(&str, &str)> = labels.iter().map(|(n, v)| (*n, v.as_str())).collect();
            slot.set(&labels, f64::from(i)).unwrap();
            let read = slot.get().unwrap();
            assert_eq!(read.value, f64::from(i));
            let expected: Vec<(String, String)> = labels
                .iter()
                .map(|(n, v)| ((*n).into(), (*v).into()))
                .collect();
            assert_eq!(read.labels, expected);
        }
        slot.set(&[], 7.0).unwrap();
        assert!(slot.get().unwrap().labels.is_empty());
    }

    #[test]
    fn readers_see_whole_exemplars_while_writers_write() {
        /// What writer `writer` writes at its `i`th exemplar: the value says which.
        fn text(writer: u32, i: u32) -> String {
            format!("{writer}-{i}.").repeat(1 + i as usize % 9)
        }
        let slot = ExemplarSlot::new();
        slot.set(&[("w", &text(0, 0))], 0.0).unwrap();
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for writer in 0..2_u32 {
                let (slot, stop) = (&slot, &stop);
                s.spawn(move || {
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let value = f64::from(writer * 1_000_000 + i);
                        slot.set(&[("w", &text(writer, i))], value).unwrap();
                        i = (i + 1) % 1_000_000;
                        // As often as a service's sampled requests at most: a reader
                        // gives up on a slot that writers never leave.
                        std::thread::yield_now();
                    }
                });
            }
            let read = || {
                let mut seen = 0;
                for _ in 0..20_000 {
                    if let Some(exemplar) = slot.get() {
                        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                        let value = exemplar.value as u32;
                        let expected = text(value / 1_000_000, value % 1_000_000);
                        if exemplar.labels != [("w".into(), expected)] {
                            return Err(format!("{exemplar:?}"));
                        }
                        seen += 1;
                    }
                }
                Ok(seen)
            };
            // The writers stop whatever the reads found.
            let seen = read();
            stop.store(true, Ordering::Relaxed);
            let seen = seen.unwrap_or_else(|torn| panic!("a torn exemplar: {torn}"));
            // Fewer when writers are preempted holding the lock: a reader gives up then.
            assert!(seen > 0, "{seen} of 20,000 reads");
        });
    }
}
