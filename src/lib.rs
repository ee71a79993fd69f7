//! Prometheus metrics for Rust services.
//!
//! promlink's metrics are `static`s: built in `const` context (so the compiler checks
//! names, label names and buckets), registered at link time (so there is no registration
//! call and no lazy initialisation), and updated with a single relaxed atomic operation
//! where the metric type allows it. The registry encodes them in the Prometheus text
//! format 0.0.4 or OpenMetrics 1.0.0, chosen from the scrape's `Accept` header.
//!
//! ```
//! use promlink::{register, Counter, Family, Format, Metric, Registry};
//!
//! static HTTP_REQUESTS_TOTAL: Metric<Family<Counter, 2>> = Metric::new(
//!     "http_requests_total",
//!     "Total HTTP requests.",
//!     Family::new(["method", "status"], Counter::new()),
//! );
//! register!(HTTP_REQUESTS_TOTAL);
//!
//! HTTP_REQUESTS_TOTAL.labels(("GET", 200)).inc();
//! assert_eq!(
//!     Registry::global().get_sample_value("http_requests_total", &[("method", "GET"), ("status", "200")]),
//!     Some(1.0)
//! );
//! ```
//!
//! See [`promlink_core`] for the types; this crate re-exports all of them.

pub use promlink_core::*;
