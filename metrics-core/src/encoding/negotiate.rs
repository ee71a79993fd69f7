//! Choosing the format from a scrape's `Accept` header.

use super::{OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// An exposition format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    #[default]
    Text,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
}

impl Format {
    /// The `Content-Type` to send with this format.
    ///
    /// ```
    /// use promlink_core::Format;
    /// assert_eq!(Format::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    /// ```
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Text => TEXT_CONTENT_TYPE,
            Format::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
        }
    }

    /// Picks the format a client prefers from its `Accept` header, honouring q-values;
    /// on a tie the range listed first wins. Without a header, or when nothing we serve is
    /// acceptable, the text format (as Go's and Python's clients do).
    ///
    /// ```
    /// use promlink_core::Format;
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
    /// assert_eq!(Format::from_accept(None), Format::Text);
    /// assert_eq!(Format::from_accept(Some("text/plain;q=0.9, application/openmetrics-text;q=0.5")), Format::Text);
    /// ```
    pub fn from_accept(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        let mut best: Option<(f32, Format)> = None;
        for range in accept.split(',') {
            let Some((format, q)) = parse_range(range) else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, format));
            }
        }
        best.map_or(Format::Text, |(_, format)| format)
    }
}

/// One media range: the format it selects and its q-value, or `None` when we serve
/// nothing it matches.
fn parse_range(range: &str) -> Option<(Format, f32)> {
    let mut parts = range.split(';').map(str::trim);
    let media = parts.next()?.to_ascii_lowercase();
    let (mut version, mut q) = (None, 1.0_f32);
    for param in parts {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        match key.trim().to_ascii_lowercase().as_str() {
            "q" => {
                q = value
                    .parse()
                    .ok()
                    .filter(|q: &f32| (0.0..=1.0).contains(q))?;
            }
            "version" => version = Some(value.to_owned()),
            _ => {}
        }
    }
    let format = match (media.as_str(), version.as_deref()) {
        ("application/openmetrics-text", None | Some("1.0.0" | "0.0.1")) => Format::OpenMetrics,
        ("text/plain", None | Some("0.0.4")) | ("*/*" | "text/*", _) => Format::Text,
        _ => return None,
    };
    Some((format, q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_and_unknown_ranges() {
        assert_eq!(Format::from_accept(Some("application/json")), Format::Text);
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text; version=2.0.0")),
            Format::Text
        );
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text;q=0")),
            Format::Text
        );
        assert_eq!(
            Format::from_accept(Some("*/*;q=0.1, application/openmetrics-text;q=0.2")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some("text/plain, application/openmetrics-text")),
            Format::Text
        );
        assert_eq!(
            Format::from_accept(Some("APPLICATION/OpenMetrics-Text; Version=\"1.0.0\"")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text;q=bogus")),
            Format::Text
        );
        assert_eq!(Format::from_accept(Some("")), Format::Text);
    }
}
