//! Escaping, exactly as each format defines it.

use super::Format;

/// Label values, both formats: `\` -> `\\`, `"` -> `\"`, newline -> `\n`.
pub(crate) fn escape_label_value(out: &mut Vec<u8>, value: &str) {
    escape(out, value, true);
}

/// HELP text: the text format escapes `\` and newline only (promtool rejects `\"` there);
/// OpenMetrics escapes `"` too.
pub(crate) fn escape_help(out: &mut Vec<u8>, help: &str, format: Format) {
    escape(out, help, format == Format::OpenMetrics);
}

fn escape(out: &mut Vec<u8>, text: &str, quotes: bool) {
    escape_bytes(out, text.as_bytes(), quotes);
}

/// Label values kept as bytes (UTF-8 all the same), both formats.
#[inline]
pub(crate) fn escape_label_bytes(out: &mut Vec<u8>, value: &[u8]) {
    escape_bytes(out, value, true);
}

#[inline]
fn escape_bytes(out: &mut Vec<u8>, bytes: &[u8], quotes: bool) {
    // Most text has nothing to escape: one copy.
    if needs_escaping(bytes, quotes) {
        escape_each(out, bytes, quotes);
    } else {
        out.extend_from_slice(bytes);
    }
}

#[cold]
fn escape_each(out: &mut Vec<u8>, bytes: &[u8], quotes: bool) {
    let mut start = 0;
    for (i, &c) in bytes.iter().enumerate() {
        let escaped: &[u8] = match c {
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'"' if quotes => b"\\\"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Whether `bytes` hold a backslash, a newline or (with `quotes`) a double quote: eight
/// bytes at a time.
#[inline]
fn needs_escaping(bytes: &[u8], quotes: bool) -> bool {
    let special =
        |word: u64| has_byte(word, b'\\') | has_byte(word, b'\n') | (quotes & has_byte(word, b'"'));
    let mut words = bytes.chunks_exact(8);
    let in_words = words
        .by_ref()
        .any(|word| special(u64::from_le_bytes(word.try_into().unwrap_or_default())));
    in_words
        || words
            .remainder()
            .iter()
            .any(|&c| c == b'\\' || c == b'\n' || (quotes && c == b'"'))
}

/// Whether one of the eight bytes of `word` is `byte` (the classic zero-byte test).
#[inline]
fn has_byte(word: u64, byte: u8) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_escaping_differs_by_format() {
        let mut text = Vec::new();
        escape_help(&mut text, "a\\b\n\"c\"", Format::Text);
        assert_eq!(text, b"a\\\\b\\n\"c\"");
        let mut om = Vec::new();
        escape_help(&mut om, "a\\b\n\"c\"", Format::OpenMetrics);
        assert_eq!(om, b"a\\\\b\\n\\\"c\\\"");
    }

    #[test]
    fn every_byte_that_needs_escaping_is_found_wherever_it_is() {
        for special in [b'\\', b'\n', b'"'] {
            for length in 1..20 {
                for at in 0..length {
                    let mut text = vec![b'a'; length];
                    text[at] = special;
                    assert!(needs_escaping(&text, true), "{special} at {at} of {length}");
                    assert_eq!(needs_escaping(&text, false), special != b'"');
                }
                assert!(!needs_escaping(&vec![b'a'; length], true));
            }
        }
    }

    #[test]
    fn label_values_keep_tabs_and_unicode() {
        let mut out = Vec::new();
        escape_label_value(&mut out, "tab\there ünï \"q\"");
        assert_eq!(String::from_utf8(out).unwrap(), "tab\there ünï \\\"q\\\"");
    }
}
