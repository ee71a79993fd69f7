//! The metrics endpoint as a function of the request, on the `http` crate's types: for
//! embedding in any server. [`start_http_server`](crate::start_http_server) serves it.

use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};

use flate2::write::GzEncoder;
use flate2::Compression;
use http::header::{
    HeaderValue, ACCEPT, ACCEPT_ENCODING, ALLOW, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE,
    VARY,
};
use http::{Method, Response, StatusCode};

use crate::{Format, Registry};

/// Answers a scrape of `registry`: the exposition in the format the `Accept` header
/// prefers (q-values honoured; text 0.0.4 without one), gzipped when `Accept-Encoding`
/// allows it, limited to the families of any `name[]` parameters. `HEAD` gets the headers
/// alone; other methods `405` with `Allow`. When a collector fails or panics the answer
/// is `500` with the errors, as Go's `promhttp` does by default.
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
    if method != Method::GET && method != Method::HEAD {
        return plain(
            StatusCode::METHOD_NOT_ALLOWED,
            "only GET and HEAD are allowed on the metrics endpoint\n",
            Some("GET, HEAD"),
        );
    }
    let format = Format::from_accept(headers.get(ACCEPT).and_then(|v| v.to_str().ok()));
    let names = selected_names(uri.query().unwrap_or(""));
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut body = Vec::with_capacity(16 * 1024);
    let encoded = catch_unwind(AssertUnwindSafe(|| {
        registry.encode_selected(format, &mut body, &names)
    }));
    match encoded {
        Ok(Ok(())) => {}
        Ok(Err(errors)) => {
            let message = format!("An error has occurred while gathering metrics:\n\n{errors}\n");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, &message, None);
        }
        Err(_) => {
            return plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "encoding the metrics panicked\n",
                None,
            )
        }
    }
    let gzip = accepts_gzip(
        headers
            .get(ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or(""),
    );
    if gzip {
        let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
        if encoder.write_all(&body).is_ok() {
            if let Ok(compressed) = encoder.finish() {
                body = compressed;
            }
        }
    }
    let mut response = Response::new(Vec::new());
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    headers.insert(VARY, HeaderValue::from_static("Accept, Accept-Encoding"));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(body.len()));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    if method != Method::HEAD {
        *response.body_mut() = body;
    }
    response
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
