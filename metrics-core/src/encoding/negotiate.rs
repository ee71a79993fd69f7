//! Choosing the format from a scrape's `Accept` header.

use super::{OPENMETRICS_CONTENT_TYPE, PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// An exposition format. More may come (OpenMetrics 2.0, say): match with a wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Format {
    /// Prometheus text format 0.0.4.
    #[default]
    Text,
    /// OpenMetrics 1.0.0.
    OpenMetrics,
    /// Protobuf: length-delimited `io.prometheus.client.MetricFamily` messages, what
    /// Prometheus asks for first when native histograms are on. Binary.
    Protobuf,
}

/// Every format, in the order a tie of preferences is settled.
const FORMATS: [Format; 3] = [Format::Text, Format::OpenMetrics, Format::Protobuf];

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
            Format::Protobuf => PROTOBUF_CONTENT_TYPE,
        }
    }

    /// Picks the format a client prefers from its `Accept` header. Each format takes the
    /// q-value of the most specific range that matches it (`text/plain` over `text/*` over
    /// `*/*`, as RFC 9110 says); the higher q wins, a tie goes to the range listed first.
    /// Without a header, or when nothing we serve is acceptable, the text format (as Go's
    /// and Python's clients do). Protobuf is chosen only when asked for by name, with
    /// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`, as Go's client
    /// does: never for `*/*` or `application/*`.
    ///
    /// ```
    /// use promlink_core::Format;
    /// let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    /// assert_eq!(Format::from_accept(Some(prometheus)), Format::OpenMetrics);
    /// assert_eq!(Format::from_accept(None), Format::Text);
    /// assert_eq!(Format::from_accept(Some("text/plain;q=0.9, application/openmetrics-text;q=0.5")), Format::Text);
    /// let native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8";
    /// assert_eq!(Format::from_accept(Some(native)), Format::Protobuf);
    /// ```
    pub fn from_accept(accept: Option<&str>) -> Format {
        let Some(accept) = accept else {
            return Format::Text;
        };
        // Per format: (specificity, q, position) of the most specific matching range.
        let mut matched: [Option<(u8, f32, usize)>; FORMATS.len()] = [None; FORMATS.len()];
        for (position, range) in accept.split(',').enumerate() {
            let Some(range) = Range::parse(range) else {
                continue;
            };
            for (slot, format) in matched.iter_mut().zip(FORMATS) {
                if let Some(specificity) = range.specificity_for(format) {
                    if slot.is_none_or(|(s, _, _)| specificity > s) {
                        *slot = Some((specificity, range.q, position));
                    }
                }
            }
        }
        // The highest q wins, then the range listed first, then the earlier format.
        let mut best: Option<(Format, f32, usize)> = None;
        for (format, slot) in FORMATS.into_iter().zip(matched) {
            let Some((_, q, at)) = slot.filter(|(_, q, _)| *q > 0.0) else {
                continue;
            };
            if best.is_none_or(|(_, best_q, best_at)| q > best_q || (q == best_q && at < best_at)) {
                best = Some((format, q, at));
            }
        }
        best.map_or(Format::Text, |(format, _, _)| format)
    }
}

/// One media range of an `Accept` header.
struct Range {
    media: String,
    version: Option<String>,
    /// `proto=` and `encoding=`, which name the protobuf format.
    proto: Option<String>,
    encoding: Option<String>,
    q: f32,
}

impl Range {
    fn parse(range: &str) -> Option<Range> {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().filter(|m| !m.is_empty())?.to_ascii_lowercase();
        let (mut version, mut proto, mut encoding, mut q) = (None, None, None, 1.0_f32);
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
                "proto" => proto = Some(value.to_owned()),
                "encoding" => encoding = Some(value.to_ascii_lowercase()),
                _ => {}
            }
        }
        Some(Range {
            media,
            version,
            proto,
            encoding,
            q,
        })
    }

    /// How specifically this range names `format` (3: type and version, 2: type, 1:
    /// `type/*`, 0: `*/*`), or `None` when it does not match it.
    fn specificity_for(&self, format: Format) -> Option<u8> {
        let (media, versions, family) = match format {
            Format::Protobuf => {
                let named = self.media == "application/vnd.google.protobuf"
                    && self.proto.as_deref() == Some("io.prometheus.client.MetricFamily")
                    && self.encoding.as_deref() == Some("delimited");
                return named.then_some(3);
            }
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
    fn protobuf_only_when_named_whole() {
        const PROTO: &str =
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily";
        let delimited = format!("{PROTO};encoding=delimited");
        assert_eq!(Format::from_accept(Some(&delimited)), Format::Protobuf);
        // Text or compact-text protobuf, or none named: not what we write.
        for other in [
            PROTO.to_owned(),
            format!("{PROTO};encoding=text"),
            "application/vnd.google.protobuf;encoding=delimited".to_owned(),
            "application/*".to_owned(),
        ] {
            assert_ne!(
                Format::from_accept(Some(&other)),
                Format::Protobuf,
                "{other}"
            );
        }
        assert_eq!(
            Format::from_accept(Some(&format!(
                "{delimited};q=0.5,application/openmetrics-text;version=1.0.0;q=0.8"
            ))),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some(&format!("text/plain;q=0.5,{delimited};q=0.5"))),
            Format::Text,
            "a tie goes to the range listed first"
        );
    }

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
