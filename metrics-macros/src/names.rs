//! Naming rules shared by every macro: what Prometheus accepts, what it reserves, and
//! what makes a label dangerous.

/// Whether `name` matches `[a-zA-Z_:][a-zA-Z0-9_:]*`.
pub(crate) fn is_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// Why `name` cannot be a label of a metric with the given reserved label, if it cannot.
pub(crate) fn label_name_problem(name: &str, reserved: Option<&str>) -> Option<String> {
    let mut chars = name.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return Some(format!(
            "`{name}` is not a valid label name: it must match [a-zA-Z_][a-zA-Z0-9_]*"
        ));
    }
    if name.starts_with("__") {
        return Some(format!(
            "`{name}`: label names starting with `__` are reserved for Prometheus"
        ));
    }
    if Some(name) == reserved {
        return Some(format!(
            "`{name}` is reserved: Prometheus uses it for the {}",
            if name == "le" {
                "bucket bounds of histograms"
            } else {
                "quantiles of summaries"
            }
        ));
    }
    None
}

/// Whether a label named `name` looks like it carries the identity of a user or a
/// request, whose values are unbounded.
pub(crate) fn looks_like_identity(name: &str) -> bool {
    const WORDS: [&str; 12] = [
        "email", "mail", "session", "token", "uuid", "guid", "password", "phone", "username", "ip",
        "jwt", "cookie",
    ];
    const EXACT: [&str; 6] = ["user", "uid", "userid", "sessionid", "requestid", "traceid"];
    let lower = name.to_ascii_lowercase();
    let words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
    EXACT.contains(&lower.as_str())
        || words.iter().any(|w| WORDS.contains(w))
        || words
            .last()
            .is_some_and(|w| ["id", "ids", "uid"].contains(w))
        || (words.len() >= 2 && words[words.len() - 2] == "ip")
}

/// `HTTP_REQUESTS_TOTAL` -> `HttpRequestsTotal`.
pub(crate) fn camel_case(screaming: &str) -> String {
    screaming
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            let first = chars.next().map(|c| c.to_ascii_uppercase());
            first
                .into_iter()
                .chain(chars.flat_map(char::to_lowercase))
                .collect::<String>()
        })
        .collect()
}

/// The type `declare_metrics!` generates for a labelled static: `WORKERS` ->
/// `WorkersMetric`. The suffix keeps it clear of the user's own types (a `struct Workers`
/// beside a gauge `WORKERS` is likely).
pub(crate) fn wrapper_type_name(static_name: &str) -> String {
    format!("{}Metric", camel_case(static_name))
}

/// The struct of named label values `declare_metrics!` generates for a static:
/// `HTTP_REQUESTS_TOTAL` -> `HttpRequestsTotalLabels`.
pub(crate) fn labels_struct_name(static_name: &str) -> String {
    format!("{}Labels", camel_case(static_name))
}

/// `NotFound` -> `not_found`.
pub(crate) fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_labels() {
        for name in [
            "user_id",
            "email",
            "session_token",
            "request_id",
            "client_ip",
            "ip",
            "trace_id",
            "customer_ids",
            "uid",
        ] {
            assert!(looks_like_identity(name), "{name}");
        }
        for name in [
            "method",
            "endpoint",
            "status",
            "region",
            "tier",
            "zip",
            "identity_provider",
            "shipping",
        ] {
            assert!(!looks_like_identity(name), "{name}");
        }
    }

    #[test]
    fn cases() {
        assert_eq!(camel_case("HTTP_REQUESTS_TOTAL"), "HttpRequestsTotal");
        assert_eq!(snake_case("NotFound"), "not_found");
        assert_eq!(snake_case("Get"), "get");
    }

    #[test]
    fn names() {
        assert!(is_metric_name("a:b_c1"));
        assert!(!is_metric_name("1a"));
        assert!(label_name_problem("le", Some("le")).is_some());
        assert!(label_name_problem("__x", None).is_some());
        assert!(label_name_problem("method", Some("le")).is_none());
    }
}
