//! Who may read the endpoint: HTTP basic auth and bearer tokens, as Go's exporter toolkit
//! and Prometheus's `basic_auth` and `authorization` scrape settings have them.

use std::fmt;

use base64::Engine as _;
use http::header::{HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use http::{HeaderMap, Response, StatusCode};

use crate::http::plain;

/// A credential [`start_http_server_with`](crate::start_http_server_with) accepts. With
/// any set in [`ServerOptions::credentials`](crate::ServerOptions::credentials), a
/// request without one of them gets `401` and nothing else. Use it over TLS (feature
/// `tls`): over plain HTTP the credential crosses the network readable.
///
/// ```
/// use promlink::{Credentials, ServerOptions};
///
/// let options = ServerOptions {
///     credentials: vec![Credentials::basic("prometheus", "s3cret"), Credentials::bearer("token-1")],
///     ..ServerOptions::default()
/// };
/// # let _ = options;
/// ```
#[derive(Clone)]
pub struct Credentials {
    scheme: &'static str,
    /// What follows the scheme in the `Authorization` header.
    expected: String,
}

impl Credentials {
    /// A user name and password (`basic_auth` in Prometheus's scrape config).
    ///
    /// # Panics
    ///
    /// When `user` contains a `:`, which basic auth cannot carry (RFC 7617).
    pub fn basic(user: &str, password: &str) -> Self {
        assert!(
            !user.contains(':'),
            "a basic-auth user name cannot contain ':'"
        );
        Credentials {
            scheme: "Basic",
            expected: base64::engine::general_purpose::STANDARD
                .encode(format!("{user}:{password}")),
        }
    }

    /// A bearer token (`authorization: { credentials: .. }` in Prometheus's scrape
    /// config).
    ///
    /// # Panics
    ///
    /// When `token` is empty: no client could send it, so the endpoint would be closed to
    /// all.
    pub fn bearer(token: &str) -> Self {
        assert!(!token.is_empty(), "a bearer token cannot be empty");
        Credentials {
            scheme: "Bearer",
            expected: token.to_owned(),
        }
    }

    fn accepts(&self, authorization: &[u8]) -> bool {
        let Some(space) = authorization.iter().position(|&b| b == b' ') else {
            return false;
        };
        let (scheme, given) = (
            &authorization[..space],
            authorization[space + 1..].trim_ascii(),
        );
        scheme.eq_ignore_ascii_case(self.scheme.as_bytes())
            && same_in_constant_time(given, self.expected.as_bytes())
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Credentials({}, redacted)", self.scheme)
    }
}

/// Whether two byte strings are equal, in a time that depends on their lengths alone, so
/// that the time of a refusal does not tell how much of a guess was right.
fn same_in_constant_time(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0, |differ, (x, y)| differ | (x ^ y)) == 0
}

/// `None` when the request may go on; otherwise the `401` to answer.
pub(super) fn refusal(accepted: &[Credentials], headers: &HeaderMap) -> Option<Response<Vec<u8>>> {
    if accepted.is_empty() {
        return None;
    }
    let given = headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
    if given.is_some_and(|given| accepted.iter().any(|c| c.accepts(given))) {
        return None;
    }
    let mut refused = plain(StatusCode::UNAUTHORIZED, "unauthorized\n", None);
    let challenge = if accepted.iter().any(|c| c.scheme == "Basic") {
        "Basic realm=\"metrics\", charset=\"UTF-8\""
    } else {
        "Bearer"
    };
    refused
        .headers_mut()
        .insert(WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
    Some(refused)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(AUTHORIZATION, authorization.parse().unwrap());
        headers
    }

    #[test]
    fn basic_and_bearer() {
        let accepted = [
            Credentials::basic("prometheus", "s3cret"),
            Credentials::bearer("t0ken"),
        ];
        // "prometheus:s3cret"
        assert!(refusal(&accepted, &headers("Basic cHJvbWV0aGV1czpzM2NyZXQ=")).is_none());
        assert!(refusal(&accepted, &headers("basic cHJvbWV0aGV1czpzM2NyZXQ=")).is_none());
        assert!(refusal(&accepted, &headers("Bearer t0ken")).is_none());
        let wrong = refusal(&accepted, &headers("Basic cHJvbWV0aGV1czp3cm9uZw==")).unwrap();
        assert_eq!(wrong.status(), 401);
        assert_eq!(
            wrong.headers()[WWW_AUTHENTICATE],
            "Basic realm=\"metrics\", charset=\"UTF-8\""
        );
        assert!(refusal(&accepted, &headers("Bearer t0ke")).is_some());
        assert!(refusal(&accepted, &headers("t0ken")).is_some());
        assert!(refusal(&accepted, &HeaderMap::new()).is_some());
        assert!(
            refusal(&[], &HeaderMap::new()).is_none(),
            "open without credentials"
        );
        assert_eq!(format!("{:?}", accepted[0]), "Credentials(Basic, redacted)");
    }
}
