//! Pushing to a Prometheus push gateway, for batch jobs that end before a scrape could
//! find them: Python's `push_to_gateway`, `pushadd_to_gateway` and `delete_from_gateway`.

use core::fmt;
use std::fmt::Write as _;

use crate::{Format, GatherError, Registry};

/// Why a push failed.
#[derive(Debug)]
pub enum PushError {
    /// The gateway could not be reached (or the URL is invalid).
    Unreachable(String),
    /// The gateway answered with an error status, and this message.
    Status {
        /// The HTTP status.
        status: u16,
        /// The gateway's explanation.
        message: String,
    },
    /// A collector failed while gathering; nothing was pushed.
    Gather(GatherError),
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PushError::Unreachable(why) => write!(f, "the push gateway is unreachable: {why}"),
            PushError::Status { status, message } => {
                write!(f, "the push gateway answered {status}: {}", message.trim())
            }
            PushError::Gather(errors) => write!(f, "gathering the metrics failed: {errors}"),
        }
    }
}

impl std::error::Error for PushError {}

/// Replaces every metric of the group (`job` and `grouping`) with `registry`'s (HTTP
/// `PUT`, as Python's `push_to_gateway`).
///
/// `gateway` is `host:port` or a URL (`http://host:port/prefix`).
///
/// # Errors
///
/// [`PushError`]: unreachable, an error status with the gateway's message, or a failed
/// collector.
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
    send("PUT", gateway, job, grouping, Some(registry))
}

/// Replaces only the metrics of the group that `registry` has too (HTTP `POST`, as
/// Python's `pushadd_to_gateway`).
///
/// # Errors
///
/// As [`push_to_gateway`].
pub fn pushadd_to_gateway(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: &Registry,
) -> Result<(), PushError> {
    send("POST", gateway, job, grouping, Some(registry))
}

/// Deletes every metric of the group (HTTP `DELETE`, as Python's `delete_from_gateway`).
///
/// # Errors
///
/// As [`push_to_gateway`], without the collector.
pub fn delete_from_gateway(
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
) -> Result<(), PushError> {
    send("DELETE", gateway, job, grouping, None)
}

fn send(
    method: &str,
    gateway: &str,
    job: &str,
    grouping: &[(&str, &str)],
    registry: Option<&Registry>,
) -> Result<(), PushError> {
    let url = group_url(gateway, job, grouping);
    let agent = ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build(),
    );
    let result = match registry {
        Some(registry) => {
            let mut body = Vec::new();
            registry
                .encode(Format::Text, &mut body)
                .map_err(PushError::Gather)?;
            let request = if method == "PUT" {
                agent.put(&url)
            } else {
                agent.post(&url)
            };
            request
                .header("Content-Type", Format::Text.content_type())
                .send(&body[..])
        }
        None => agent.delete(&url).call(),
    };
    let mut response = result.map_err(|e| PushError::Unreachable(e.to_string()))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(());
    }
    let message = response.body_mut().read_to_string().unwrap_or_default();
    Err(PushError::Status { status, message })
}

/// `{gateway}/metrics/job/{job}/{label}/{value}...`, values in the gateway's base64 form
/// when a path segment cannot carry them (a `/`, or empty).
fn group_url(gateway: &str, job: &str, grouping: &[(&str, &str)]) -> String {
    let mut url = if gateway.contains("://") {
        gateway.trim_end_matches('/').to_owned()
    } else {
        format!("http://{gateway}")
    };
    url.push_str("/metrics");
    for (name, value) in std::iter::once(("job", job)).chain(grouping.iter().copied()) {
        if value.is_empty() || value.contains('/') {
            let _ = write!(url, "/{name}@base64/{}", base64_url(value.as_bytes()));
        } else {
            let _ = write!(url, "/{name}/{}", percent_encode(value));
        }
    }
    url
}

/// RFC 4648 base64 with the URL alphabet and padding, as the gateway reads it.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0_u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    if bytes.is_empty() {
        out.push('=');
    }
    out
}

/// Percent-encodes everything but unreserved characters.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_as_python_builds_them() {
        assert_eq!(
            group_url("localhost:9091", "backup", &[]),
            "http://localhost:9091/metrics/job/backup"
        );
        assert_eq!(
            group_url(
                "http://gw:9091/",
                "a/b",
                &[("instance", "db 1"), ("empty", "")]
            ),
            "http://gw:9091/metrics/job@base64/YS9i/instance/db%201/empty@base64/="
        );
        assert_eq!(base64_url(b"ab?"), "YWI_");
        assert_eq!(base64_url(b"a"), "YQ==");
    }
}
