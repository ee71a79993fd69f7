//! Pushing to a Prometheus push gateway, for batch jobs that end before a scrape could
//! find them: Python's `push_to_gateway`, `pushadd_to_gateway` and `delete_from_gateway`,
//! and [`Pusher`] for a timeout of your own.
//!
//! The job and the grouping key become the URL path
//! `/metrics/job/{job}/{label}/{value}...`, encoded as the gateway (and Python's client)
//! expect: a job or value with a `/` or a space as `label@base64/{URL-safe base64}`, an
//! empty value as `label@base64/=`, anything else percent-encoded. Label names are
//! checked before anything is sent.

use core::fmt;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::{is_label_name, Format, GatherError, Registry, Scrape};

/// How long a push may take, connecting included, unless [`Pusher::timeout`] says
/// otherwise: 30 seconds (Python's client has none by default).
///
/// ```
/// assert_eq!(promlink::push::DEFAULT_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a push failed.
///
/// ```no_run
/// use promlink::push::{push_to_gateway, PushError};
/// use promlink::Registry;
///
/// match push_to_gateway("127.0.0.1:9091", "nightly_backup", &[], Registry::global()) {
///     Ok(()) => {}
///     Err(PushError::Status { status, message }) => eprintln!("refused ({status}): {message}"),
///     Err(other) => eprintln!("{other}"),
/// }
/// ```
#[derive(Debug)]
pub enum PushError {
    /// The job name is empty, or a grouping-key label name is not one the gateway takes:
    /// not a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`), reserved (starting with
    /// `__`), `job` (the job name sets it), or given twice. Nothing was sent. The text
    /// says which.
    InvalidGroupingKey(String),
    /// The gateway could not be reached, did not answer within the timeout, or the URL
    /// is invalid.
    Unreachable(String),
    /// The gateway answered with an error status, and this message.
    Status {
        /// The HTTP status.
        status: u16,
        /// The gateway's explanation: the body of its answer.
        message: String,
    },
    /// A collector failed while gathering; nothing was pushed.
    Gather(GatherError),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::InvalidGroupingKey(why) => write!(f, "invalid grouping key: {why}"),
            PushError::Unreachable(why) => write!(f, "the push gateway is unreachable: {why}"),
            PushError::Status { status, message } => {
                write!(f, "the push gateway answered {status}: {}", message.trim())
            }
            PushError::Gather(errors) => write!(f, "gathering the metrics failed: {errors}"),
        }
    }
}

impl std::error::Error for PushError {}

/// A push gateway client with its settings: the gateway and a timeout. The free
/// functions ([`push_to_gateway`] and friends) are a `Pusher` with [`DEFAULT_TIMEOUT`].
///
/// ```no_run
/// use std::time::Duration;
///
/// use promlink::push::Pusher;
/// use promlink::Registry;
///
/// let pusher = Pusher::new("127.0.0.1:9091").timeout(Duration::from_secs(5));
/// pusher.push("nightly_backup", &[("instance", "db-1")], Registry::global())?;
/// # Ok::<(), promlink::push::PushError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Pusher {
    gateway: String,
    timeout: Duration,
}

impl Pusher {
    /// A client of `gateway`, `host:port` or a URL (`http://host:port/prefix`), with
    /// [`DEFAULT_TIMEOUT`].
    ///
    /// ```
    /// let pusher = promlink::push::Pusher::new("http://gateway.internal:9091/");
    /// ```
    pub fn new(gateway: impl Into<String>) -> Self {
        Pusher {
            gateway: gateway.into(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Sets how long one push (or delete) may take, from connecting to reading the
    /// answer; past it, the call returns [`PushError::Unreachable`].
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let pusher = promlink::push::Pusher::new("127.0.0.1:9091").timeout(Duration::from_secs(2));
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Replaces every metric of the group (`job` and `grouping`) with `registry`'s (HTTP
    /// `PUT`, as Python's `push_to_gateway`).
    ///
    /// # Errors
    ///
    /// [`PushError`]: an invalid grouping key (nothing sent), unreachable or too slow, an
    /// error status with the gateway's message, or a failed collector.
    ///
    /// ```no_run
    /// use promlink::push::Pusher;
    /// use promlink::Registry;
    ///
    /// Pusher::new("127.0.0.1:9091").push("nightly_backup", &[("path", "/var/tmp")], Registry::global())?;
    /// # Ok::<(), promlink::push::PushError>(())
    /// ```
    pub fn push(
        &self,
        job: &str,
        grouping: &[(&str, &str)],
        registry: &Registry,
    ) -> Result<(), PushError> {
        self.send(Method::Put, job, grouping, Some(registry))
    }

    /// Replaces only the metrics of the group that `registry` has too (HTTP `POST`, as
    /// Python's `pushadd_to_gateway`).
    ///
    /// # Errors
    ///
    /// As [`Pusher::push`].
    ///
    /// ```no_run
    /// use promlink::push::Pusher;
    /// use promlink::Registry;
    ///
    /// Pusher::new("127.0.0.1:9091").pushadd("nightly_backup", &[], Registry::global())?;
    /// # Ok::<(), promlink::push::PushError>(())
    /// ```
    pub fn pushadd(
        &self,
        job: &str,
        grouping: &[(&str, &str)],
        registry: &Registry,
    ) -> Result<(), PushError> {
        self.send(Method::Post, job, grouping, Some(registry))
    }

    /// Deletes every metric of the group (HTTP `DELETE`, as Python's
    /// `delete_from_gateway`).
    ///
    /// # Errors
    ///
    /// As [`Pusher::push`], without the collector.
    ///
    /// ```no_run
    /// use promlink::push::Pusher;
    ///
    /// Pusher::new("127.0.0.1:9091").delete("nightly_backup", &[("instance", "db-1")])?;
    /// # Ok::<(), promlink::push::PushError>(())
    /// ```
    pub fn delete(&self, job: &str, grouping: &[(&str, &str)]) -> Result<(), PushError> {
        self.send(Method::Delete, job, grouping, None)
    }

    fn send(
        &self,
        method: Method,
        job: &str,
        grouping: &[(&str, &str)],
        registry: Option<&Registry>,
    ) -> Result<(), PushError> {
        check_grouping_key(job, grouping)?;
        let url = group_url(&self.gateway, job, grouping);
        let body = match registry {
            Some(registry) => {
                let mut body = Vec::new();
                // Collectors get the push's timeout too: one that hangs fails the push
                // rather than block it.
                let scrape = Scrape::new(Format::Text).deadline(Instant::now() + self.timeout);
                registry
                    .encode_scrape(&scrape, &mut body)
                    .map_err(PushError::Gather)?;
                Some(body)
            }
            None => None,
        };
        let agent = ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(self.timeout))
                .build(),
        );
        let result = match (method, body) {
            (Method::Put, Some(body)) => agent
                .put(&url)
                .header("Content-Type", Format::Text.content_type())
                .send(&body[..]),
            (Method::Post, Some(body)) => agent
                .post(&url)
                .header("Content-Type", Format::Text.content_type())
                .send(&body[..]),
            _ => agent.delete(&url).call(),
        };
        let mut response = result.map_err(|e| PushError::Unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let message = response
            .body_mut()
            .read_to_string()
            .unwrap_or_else(|e| format!("(its answer could not be read: {e})"));
        Err(PushError::Status { status, message })
    }
}

#[derive(Clone, Copy)]
enum Method {
    Put,
    Post,
    Delete,
}

/// Replaces every metric of the group (`job` and `grouping`) with `registry`'s (HTTP
/// `PUT`, as Python's `push_to_gateway`), within [`DEFAULT_TIMEOUT`].
///
/// `gateway` is `host:port` or a URL (`http://host:port/prefix`).
///
/// # Errors
///
/// [`PushError`]: an invalid grouping key (nothing sent), unreachable or too slow, an
/// error status with the gateway's message, or a failed collector.
///
/// ```no_run
/// use promlink::push::push_to_gateway;
/// use promlink::Registry;
///
/// push_to_gateway("127.0.0.1:9091", "nightly_backup", &[("instance", "db-1")], Registry::global())?;
/// # Ok::<(), promlink::push::PushError>(())
/// ```
pub fn push_to_gateway(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: &Registry,
) -> Result<(), PushError> {
    Pusher::new(gateway).push(job, grouping, registry)
}

/// Replaces only the metrics of the group that `registry` has too (HTTP `POST`, as
/// Python's `pushadd_to_gateway`), within [`DEFAULT_TIMEOUT`].
///
/// # Errors
///
/// As [`push_to_gateway`].
///
/// ```no_run
/// use promlink::push::pushadd_to_gateway;
/// use promlink::Registry;
///
/// pushadd_to_gateway("127.0.0.1:9091", "nightly_backup", &[], Registry::global())?;
/// # Ok::<(), promlink::push::PushError>(())
/// ```
pub fn pushadd_to_gateway(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: &Registry,
) -> Result<(), PushError> {
    Pusher::new(gateway).pushadd(job, grouping, registry)
}

/// Deletes every metric of the group (HTTP `DELETE`, as Python's `delete_from_gateway`),
/// within [`DEFAULT_TIMEOUT`].
///
/// # Errors
///
/// As [`push_to_gateway`], without the collector.
///
/// ```no_run
/// use promlink::push::delete_from_gateway;
///
/// delete_from_gateway("127.0.0.1:9091", "nightly_backup", &[("instance", "db-1")])?;
/// # Ok::<(), promlink::push::PushError>(())
/// ```
pub fn delete_from_gateway(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
) -> Result<(), PushError> {
    Pusher::new(gateway).delete(job, grouping)
}

/// The checks the gateway makes of the path (and `job`, which it would take silently and
/// drop): a non-empty job, label names of the legacy character set, none reserved.
fn check_grouping_key(job: &str, grouping: &[(&str, &str)]) -> Result<(), PushError> {
    let invalid = |why: String| Err(PushError::InvalidGroupingKey(why));
    if job.is_empty() {
        return invalid("the job name is empty".to_owned());
    }
    for (i, (name, _)) in grouping.iter().enumerate() {
        if *name == "job" {
            return invalid(
                "`job` cannot be a grouping-key label: the job name sets it".to_owned(),
            );
        }
        if name.starts_with("__") {
            return invalid(format!(
                "`{name}` is reserved: label names starting with `__` are Prometheus's"
            ));
        }
        if !is_label_name(name) {
            return invalid(format!(
                "{name:?} is not a label name (letters, digits and `_`, not starting with a digit)"
            ));
        }
        if grouping[..i].iter().any(|(earlier, _)| earlier == name) {
            return invalid(format!("`{name}` is given twice"));
        }
    }
    Ok(())
}

/// `{gateway}/metrics/job/{job}/{label}/{value}...`, each value as [`push_segment`]
/// writes it.
fn group_url(gateway: &str, job: &str, grouping: &[(&str, &str)]) -> String {
    let mut url = if gateway.contains("://") {
        gateway.trim_end_matches('/').to_owned()
    } else {
        format!("http://{}", gateway.trim_end_matches('/'))
    };
    url.push_str("/metrics");
    for (name, value) in std::iter::once(("job", job)).chain(grouping.iter().copied()) {
        push_segment(&mut url, name, value);
    }
    url
}

/// Appends `/{name}/{value}` as Python's `_escape_grouping_key` writes it: an empty value
/// as `/{name}@base64/=` (a bare `//` would be cleaned away by the gateway's router), one
/// with a `/` (a path separator even percent-encoded) or a space as URL-safe base64 with
/// padding, anything else percent-encoded but for `A-Z a-z 0-9 _ . - ~`.
fn push_segment(url: &mut String, name: &str, value: &str) {
    if value.is_empty() {
        let _ = write!(url, "/{name}@base64/=");
    } else if value.contains(['/', ' ']) {
        let _ = write!(
            url,
            "/{name}@base64/{}",
            base64::engine::general_purpose::URL_SAFE.encode(value)
        );
    } else {
        let _ = write!(url, "/{name}/");
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) {
                url.push(char::from(b));
            } else {
                let _ = write!(url, "%{b:02X}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(value: &str) -> String {
        let mut url = String::new();
        push_segment(&mut url, "l", value);
        url
    }

    #[test]
    fn plain_values_stay_as_they_are() {
        assert_eq!(segment("db-1.eu_west~2"), "/l/db-1.eu_west~2");
        assert_eq!(
            group_url("localhost:9091", "backup", &[]),
            "http://localhost:9091/metrics/job/backup"
        );
    }

    #[test]
    fn a_slash_or_a_space_goes_to_url_safe_base64_with_padding() {
        assert_eq!(segment("a/b"), "/l@base64/YS9i");
        assert_eq!(segment("/var/tmp"), "/l@base64/L3Zhci90bXA=");
        assert_eq!(segment("db 1"), "/l@base64/ZGIgMQ==");
        // The URL alphabet: `-` and `_` where the standard one has `+` and `/`.
        assert_eq!(segment("a/?>"), "/l@base64/YS8_Pg==");
        assert_eq!(segment("/~~"), "/l@base64/L35-");
    }

    #[test]
    fn an_empty_value_is_a_single_equals_sign() {
        assert_eq!(segment(""), "/l@base64/=");
    }

    #[test]
    fn other_characters_are_percent_encoded() {
        assert_eq!(segment("a+b"), "/l/a%2Bb");
        assert_eq!(segment("x@y=z?#%"), "/l/x%40y%3Dz%3F%23%25");
        assert_eq!(segment("é"), "/l/%C3%A9");
    }

    #[test]
    fn urls_as_python_builds_them() {
        assert_eq!(
            group_url(
                "http://gw:9091/prefix/",
                "a/b",
                &[("instance", "db 1"), ("empty", ""), ("shard", "7")]
            ),
            "http://gw:9091/prefix/metrics/job@base64/YS9i/instance@base64/ZGIgMQ==/empty@base64/=/shard/7"
        );
    }

    fn refusal(job: &str, grouping: &[(&str, &str)]) -> String {
        match check_grouping_key(job, grouping) {
            Err(PushError::InvalidGroupingKey(why)) => why,
            other => panic!("{job:?} {grouping:?} was not refused: {other:?}"),
        }
    }

    #[test]
    fn grouping_keys_the_gateway_would_refuse_or_drop_are_refused() {
        assert!(refusal("", &[]).contains("job name is empty"));
        assert!(refusal("j", &[("job", "x")]).contains("`job`"));
        assert!(refusal("j", &[("__name__", "x")]).contains("reserved"));
        assert!(refusal("j", &[("__x", "x")]).contains("reserved"));
        for name in ["", "1st", "a-b", "a.b", "é", "a b"] {
            assert!(
                refusal("j", &[("ok", "1"), (name, "x")]).contains("not a label name"),
                "{name:?}"
            );
        }
        assert!(refusal("j", &[("a", "1"), ("b", "2"), ("a", "3")]).contains("`a` is given twice"));
    }

    #[test]
    fn valid_grouping_keys_pass() {
        check_grouping_key("j", &[]).unwrap();
        check_grouping_key("a/b", &[("instance", ""), ("_x", "/"), ("A9_z", "v")]).unwrap();
    }

    #[test]
    fn the_timeout_is_thirty_seconds_unless_set() {
        assert_eq!(Pusher::new("gw").timeout, Duration::from_secs(30));
        assert_eq!(
            Pusher::new("gw")
                .timeout(Duration::from_millis(1500))
                .timeout,
            Duration::from_millis(1500)
        );
    }
}
