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

    /// Picks the format a client prefers from its `Accept` header. Each format takes the
    /// q-value of the most specific range that matches it (`text/plain` over `text/*` over
    /// `*/*`, as RFC 9110 says); the higher q wins, a tie goes to the range listed first.
    /// Without a header, or when nothing we serve is acceptable, the text format (as Go's
    /// and Python's clients do).
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
        // Per format: (specificity, q, position) of the most specific matching range.
        let mut matched: [Option<(u8, f32, usize)>; 2] = [None, None];
        for (position, range) in accept.split(',').enumerate() {
            let Some(range) = Range::parse(range) else {
                continue;
            };
            for (slot, format) in matched.iter_mut().zip([Format::Text, Format::OpenMetrics]) {
                if let Some(specificity) = range.specificity_for(format) {
                    if slot.is_none_or(|(s, _, _)| specificity > s) {
                        *slot = Some((specificity, range.q, position));
                    }
                }
            }
        }
        let acceptable = |slot: Option<(u8, f32, usize)>| slot.filter(|(_, q, _)| *q > 0.0);
        match (acceptable(matched[0]), acceptable(matched[1])) {
            (_, None) => Format::Text,
            (None, Some(_)) => Format::OpenMetrics,
            (Some((_, text_q, text_at)), Some((_, om_q, om_at))) => {
                if om_q > text_q || (om_q == text_q && om_at < text_at) {
                    Format::OpenMetrics
                } else {
                    Format::Text
                }
            }
        }
    }
}

/// One media range of an `Accept` header.
struct Range {
    media: String,
    version: Option<String>,
    q: f32,
}

impl Range {
    fn parse(range: &str) -> Option<Range> {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().filter(|m| !m.is_empty())?.to_ascii_lowercase();
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
        Some(Range { media, version, q })
    }

    /// How specifically this range names `format` (3: type and version, 2: type, 1:
    /// `type/*`, 0: `*/*`), or `None` when it does not match it.
    fn specificity_for(&self, format: Format) -> Option<u8> {
        let (media, versions, family) = match format {
            Format::Text => ("text/plain", &["0.0.4"][..], "text/*"),
            Format::OpenMetrics => (
                "application/openmetrics-text",
                &["1.0.0", "0.0.1"][..],
                "application/*",
            ),
        };
        match (self.media.as_str(), self.version.as_deref()) {
            (m, Some(v)) if m == media => versions.contains(&v).then_some(3),
            (m, None) if m == media => Some(2),
            (m, _) if m == family => Some(1),
            ("*/*", _) => Some(0),
            _ => None,
        }
    }
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
        assert_eq!(
            Format::from_accept(Some("text/plain;q=0, */*;q=0.1")),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some("application/*")),
            Format::OpenMetrics
        );
        assert_eq!(Format::from_accept(Some("*/*")), Format::Text);
        assert_eq!(
            Format::from_accept(Some(
                "text/plain;version=0.0.4;q=0.5, text/*;q=0.9, application/openmetrics-text;q=0.6"
            )),
            Format::OpenMetrics
        );
    }
}
