//! The metrics endpoint as a function of the request, on the `http` crate's types: for
//! embedding in any server. [`start_http_server`](crate::start_http_server) serves it.

use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;
use http::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    VARY,
};
use http::{Method, Response, StatusCode};

use crate::{Format, Registry, Scrape};

/// How the endpoint answers a scrape in which something failed, and how long collectors
/// may take. [`ScrapeOptions::default`] serves what it can, as a monitoring endpoint
/// should when the service is in trouble.
#[derive(Debug, Clone, Copy)]
pub struct ScrapeOptions {
    /// Answer `500` when anything fails, as Go's `promhttp` does by default, rather than
    /// serve everything else. Either way, the failure is counted in promlink's own
    /// metrics and written to stderr, and the client sees no internal text. Default
    /// `false`.
    pub strict: bool,
    /// How long collectors may take when the scrape does not say: Prometheus sends its
    /// scrape timeout in `X-Prometheus-Scrape-Timeout-Seconds`, and collectors then have
    /// that, less half a second (or half of it, if shorter), to answer. Default 10 s,
    /// Prometheus's default scrape timeout.
    pub timeout: Duration,
}

impl Default for ScrapeOptions {
    fn default() -> Self {
        ScrapeOptions {
            strict: false,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Answers a scrape of `registry`: the exposition in the format the `Accept` header
/// prefers (q-values honoured; text 0.0.4 without one), gzipped when `Accept-Encoding`
/// allows it, limited to the families of any `name[]` parameters. `HEAD` gets the headers
/// alone; other methods `405` with `Allow`.
///
/// A collector that fails, panics or misses the scrape's deadline
/// ([`ScrapeOptions::timeout`]) loses its own families and nothing else; see
/// [`metrics_response_with`] for a strict endpoint.
///
/// It blocks until the collectors have answered or the deadline has passed (collectors
/// run on threads of their own meanwhile): from async code, call it through
/// `tokio::task::spawn_blocking`, as the axum handler does.
///
/// ```
/// use promlink::{http::metrics_response, Registry};
///
/// let request = http::Request::get("/metrics")
///     .header("accept", "application/openmetrics-text;version=1.0.0")
///     .body(())
///     .unwrap();
/// let response = metrics_response(Registry::global(), request.method(), request.uri(), request.headers());
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.headers()["content-type"], promlink::OPENMETRICS_CONTENT_TYPE);
/// assert!(response.body().ends_with(b"# EOF\n"));
/// ```
pub fn metrics_response(
    registry: &Registry,
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Response<Vec<u8>> {
    metrics_response_with(registry, ScrapeOptions::default(), method, uri, headers)
}

/// [`metrics_response`] with options.
///
/// ```
/// use promlink::http::{metrics_response_with, ScrapeOptions};
/// use promlink::Registry;
///
/// let strict = ScrapeOptions { strict: true, ..ScrapeOptions::default() };
/// let request = http::Request::get("/metrics").body(()).unwrap();
/// let response = metrics_response_with(Registry::global(), strict, request.method(), request.uri(), request.headers());
/// assert_eq!(response.status(), 200);
/// ```
pub fn metrics_response_with(
    registry: &Registry,
    options: ScrapeOptions,
    method: &Method,
    uri: &http::Uri,
    headers: &http::HeaderMap,
) -> Response<Vec<u8>> {
    match ScrapeRequest::parse(method, uri, headers, options) {
        Some(scrape) => {
            let mut encoded = scrape.encode(registry);
            let body = std::mem::take(&mut encoded.body);
            scrape.response(&encoded, body.len(), body)
        }
        None => method_not_allowed(),
    }
}

/// A request for the exposition, read from its method, query and headers.
#[derive(Debug, Clone)]
pub(crate) struct ScrapeRequest {
    /// What its answer depends on, beside the registry: two scrapes with the same key
    /// can share one encoded body.
    pub(crate) key: ScrapeKey,
    head_only: bool,
    /// How long this client waits, as it said (or the default).
    pub(crate) timeout: Duration,
}

/// The format, the compression and the families selected.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ScrapeKey {
    format: Format,
    gzip: bool,
    names: Vec<String>,
    strict: bool,
}

/// A scrape's answer before it becomes a response: the status, the headers' values and
/// the body.
#[derive(Debug)]
pub(crate) struct Encoded {
    status: StatusCode,
    format: Format,
    gzip: bool,
    pub(crate) body: Vec<u8>,
}

/// Collectors answer this much before the client's own timeout, so that the encoding and
/// the transfer still fit in it (half a second, `blackbox_exporter`'s default offset).
const TIMEOUT_MARGIN: Duration = Duration::from_millis(500);

impl ScrapeRequest {
    /// The scrape a request asks for; `None` for a method other than `GET` and `HEAD`
    /// (answer [`method_not_allowed`]).
    pub(crate) fn parse(
        method: &Method,
        uri: &http::Uri,
        headers: &http::HeaderMap,
        options: ScrapeOptions,
    ) -> Option<ScrapeRequest> {
        if method != Method::GET && method != Method::HEAD {
            return None;
        }
        let header = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let timeout = header(SCRAPE_TIMEOUT_HEADER)
            .and_then(|seconds| seconds.trim().parse::<f64>().ok())
            .filter(|seconds| seconds.is_finite() && *seconds > 0.0)
            .map_or(options.timeout, |seconds| {
                Duration::from_secs_f64(seconds.min(3600.0))
            });
        Some(ScrapeRequest {
            key: ScrapeKey {
                format: Format::from_accept(header(ACCEPT.as_str())),
                gzip: accepts_gzip(header(ACCEPT_ENCODING.as_str()).unwrap_or("")),
                names: {
                    // In one order, once each: the same selection is the same scrape.
                    let mut names = selected_names(uri.query().unwrap_or(""));
                    names.sort_unstable();
                    names.dedup();
                    names
                },
                strict: options.strict,
            },
            head_only: method == Method::HEAD,
            timeout,
        })
    }

    /// Encodes the registry as this scrape asks, collectors given until the deadline.
    pub(crate) fn encode(&self, registry: &Registry) -> Encoded {
        let ScrapeKey {
            format,
            gzip,
            names,
            ..
        } = &self.key;
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let collect_for = self
            .timeout
            .saturating_sub(TIMEOUT_MARGIN.min(self.timeout / 2));
        let scrape = Scrape::new(*format)
            .names(&names)
            .deadline(Instant::now() + collect_for);
        let mut body = Vec::with_capacity(16 * 1024);
        // Failures are the registry's to report (its own metrics, stderr): a client sees
        // no internal text.
        let failed = match catch_unwind(AssertUnwindSafe(|| {
            registry.encode_scrape(&scrape, &mut body)
        })) {
            Ok(Ok(())) => false,
            Ok(Err(_)) => self.key.strict,
            Err(_) => true,
        };
        if failed {
            return Encoded {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                format: *format,
                gzip: false,
                body: GATHER_FAILED.as_bytes().to_vec(),
            };
        }
        if *gzip {
            let mut encoder =
                GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
            if encoder.write_all(&body).is_ok() {
                if let Ok(compressed) = encoder.finish() {
                    body = compressed;
                }
            }
        }
        Encoded {
            status: StatusCode::OK,
            format: *format,
            gzip: *gzip,
            body,
        }
    }

    /// The response carrying `encoded`, whose body is `body` of `length` bytes
    /// (`encoded.body`, or a value sharing its bytes); empty for `HEAD`.
    pub(crate) fn response<B: Default>(
        &self,
        encoded: &Encoded,
        length: usize,
        body: B,
    ) -> Response<B> {
        if encoded.status != StatusCode::OK {
            let mut response = plain(encoded.status, GATHER_FAILED, None).map(|_| B::default());
            if !self.head_only {
                *response.body_mut() = body;
            }
            return response;
        }
        let mut response = Response::new(B::default());
        let headers = response.headers_mut();
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(encoded.format.content_type()),
        );
        headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
        headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
        if encoded.gzip {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        if !self.head_only {
            *response.body_mut() = body;
        }
        response
    }
}

/// The header in which Prometheus sends its scrape timeout, in seconds.
const SCRAPE_TIMEOUT_HEADER: &str = "x-prometheus-scrape-timeout-seconds";

/// The body of a `500`: what happened is on the server's stderr and in its own metrics,
/// not for any client to read.
const GATHER_FAILED: &str =
    "An error has occurred while gathering metrics; the server's log has the details.\n";

/// The `405` to a method other than `GET` and `HEAD`.
pub(crate) fn method_not_allowed() -> Response<Vec<u8>> {
    plain(
        StatusCode::METHOD_NOT_ALLOWED,
        "only GET and HEAD are allowed on the metrics endpoint\n",
        Some("GET, HEAD"),
    )
}

/// A short `text/plain` answer.
pub(crate) fn plain(
    status: StatusCode,
    message: &str,
    allow: Option<&'static str>,
) -> Response<Vec<u8>> {
    let mut response = Response::new(message.as_bytes().to_vec());
    *response.status_mut() = status;
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(allow) = allow {
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(allow));
    }
    response
}

/// Whether `Accept-Encoding` admits gzip (`gzip` or `*` with a non-zero q).
fn accepts_gzip(accept_encoding: &str) -> bool {
    accept_encoding.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or("").to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.split_once('='))
            .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
            .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok());
        (name == "gzip" || name == "x-gzip" || name == "*") && q.is_some_and(|q| q > 0.0)
    })
}

/// The values of `name[]` in a query string, percent-decoded.
fn selected_names(query: &str) -> Vec<String> {
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| percent_decode(key).as_deref() == Some("name[]"))
        .filter_map(|(_, value)| percent_decode(value))
        .collect()
}

/// `application/x-www-form-urlencoded` decoding; `None` for invalid escapes or UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut input = text.bytes();
    while let Some(b) = input.next() {
        match b {
            b'+' => bytes.push(b' '),
            b'%' => {
                let hex = [input.next()?, input.next()?];
                bytes.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
            }
            b => bytes.push(b),
        }
    }
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_by_q_value() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("deflate, gzip;q=0.5"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity"));
        assert!(!accepts_gzip(""));
    }

    #[test]
    fn name_parameters() {
        assert_eq!(
            selected_names("name[]=a&name%5B%5D=b_total&other=c&name[]=x%20y"),
            ["a", "b_total", "x y"]
        );
        assert!(selected_names("name[]=%zz").is_empty());
    }
}
