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
    let bytes = text.as_bytes();
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
    fn label_values_keep_tabs_and_unicode() {
        let mut out = Vec::new();
        escape_label_value(&mut out, "tab\there ünï \"q\"");
        assert_eq!(String::from_utf8(out).unwrap(), "tab\there ünï \\\"q\\\"");
    }
}
