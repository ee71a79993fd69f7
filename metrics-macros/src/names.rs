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

/// Why promtool's lint (`promtool check metrics`) would flag a unit in `name`, if it would:
/// an abbreviation as a word of the name (`_ms`, `_sec`, `_mb`), or a unit that is not
/// Prometheus' base unit (`_milliseconds`, `_kilobytes`, `_minutes`): the rules of
/// promlint, checked against promtool 2.42 name by name (see the tests).
pub(crate) fn unit_problem(name: &str) -> Option<String> {
    const ABBREVIATIONS: [&str; 14] = [
        "s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d",
    ];
    const BASE_UNITS: [&str; 10] = [
        "amperes", "bytes", "celsius", "grams", "joules", "kelvin", "meters", "metres", "seconds",
        "volts",
    ];
    const OTHER_UNITS: [(&str, &str); 14] = [
        ("minutes", "seconds"),
        ("hours", "seconds"),
        ("days", "seconds"),
        ("weeks", "seconds"),
        ("kelvins", "kelvin"),
        ("fahrenheit", "celsius"),
        ("rankine", "celsius"),
        ("inches", "meters"),
        ("yards", "meters"),
        ("miles", "meters"),
        ("bits", "bytes"),
        ("calories", "joules"),
        ("pounds", "grams"),
        ("ounces", "grams"),
    ];
    const PREFIXES: [&str; 18] = [
        "pico", "nano", "micro", "milli", "centi", "deci", "deca", "hecto", "kilo", "kibi", "mega",
        "mibi", "giga", "gibi", "tera", "tebi", "peta", "pebi",
    ];
    for (i, word) in name.split('_').enumerate() {
        // promlint reads an abbreviation after an underscore only: `us_orders_total` is
        // a region, not microseconds.
        if i > 0 && ABBREVIATIONS.contains(&word) {
            return Some(format!(
                "`{word}` in `{name}` is an abbreviated unit, which promtool flags: spell the \
                 base unit out (`_seconds`, `_bytes`)"
            ));
        }
        let base = OTHER_UNITS
            .iter()
            .find(|(unit, _)| *unit == word)
            .map(|(_, base)| *base)
            .or_else(|| {
                PREFIXES.iter().find_map(|prefix| {
                    let rest = word.strip_prefix(prefix)?;
                    BASE_UNITS.iter().find(|b| **b == rest).copied()
                })
            });
        if let Some(base) = base {
            return Some(format!(
                "`{word}` is not Prometheus' base unit, which promtool flags: measure in \
                 {base} (`_{base}`; for a duration, `elapsed.as_secs_f64()`), and let \
                 dashboards scale it"
            ));
        }
    }
    None
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

    /// What `promtool check metrics` (2.42) flags and what it does not, name by name.
    #[test]
    fn units_as_promtool_lints_them() {
        let flagged = [
            "age_d",
            "age_h",
            "disk_gb",
            "disk_mb",
            "dist_miles",
            "energy_calories",
            "http_requests_microseconds",
            "items_count_ms",
            "lat_s",
            "latency_us",
            "len_centimeters",
            "link_bits",
            "queue_b",
            "req_duration_milliseconds",
            "req_ms",
            "req_ns",
            "req_sec",
            "requests_per_ms",
            "size_kibibytes",
            "size_kilobytes",
            "size_megabytes",
            "temp_fahrenheit",
            "time_nanoseconds",
            "uptime_hours",
            "wait_minutes",
            "weight_pounds",
            "x_m",
            "size_mibibytes",
            "t_rankine",
            "w_kelvins",
        ];
        let clean = [
            "power_watts",
            "cpu_seconds",
            "size_bytes",
            "temp_celsius",
            "len_meters",
            "ratio",
            "http_requests_total",
            "function_calls_in_progress",
            "size_mebibytes",
            "len_feet",
            "dist_mile",
            // A first word is not an abbreviation to promlint.
            "us_orders_total",
            "sec_alerts_total",
            "b_calls_total",
            "ms_queue_depth",
        ];
        for name in flagged {
            assert!(unit_problem(name).is_some(), "{name}");
        }
        for name in clean {
            assert_eq!(unit_problem(name), None, "{name}");
        }
    }
}
