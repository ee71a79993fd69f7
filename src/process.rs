//! Process metrics, as Python's and Go's clients export them, read from `/proc` (Linux):
//! `process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
//! `process_start_time_seconds`. Registered in the global registry at link time with the
//! `process` feature (on by default); [`ProcessCollector`] registers in others.

use std::sync::Arc;

use crate::{CollectError, Collector, MetricFamily, MetricType, SeriesValue};

/// Linux reports CPU ticks to user space at 100 Hz on every architecture (`USER_HZ`).
const USER_HZ: f64 = 100.0;

/// Collects this process's metrics at each scrape.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use std::sync::Arc;
/// use promlink::{process::ProcessCollector, Registry};
///
/// let registry = Registry::new();
/// registry.register_collector(Arc::new(ProcessCollector));
/// assert!(registry.get_sample_value("process_resident_memory_bytes", &[]).unwrap() > 0.0);
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessCollector;

impl Collector for ProcessCollector {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        // The command name may hold spaces and parentheses: fields resume after the last ')'.
        let fields: Vec<&str> = stat[stat.rfind(')').ok_or("malformed /proc/self/stat")? + 1..]
            .split_whitespace()
            .collect();
        let field = |n: usize| -> Result<f64, CollectError> {
            // `n` counts from 1 in proc(5), and the first two fields precede the ')'.
            Ok(fields
                .get(n - 3)
                .ok_or("short /proc/self/stat")?
                .parse::<f64>()?)
        };
        let cpu_seconds = (field(14)? + field(15)?) / USER_HZ;
        let status = std::fs::read_to_string("/proc/self/status")?;
        let kilobytes = |key: &str| -> Result<f64, CollectError> {
            let line = status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .ok_or("no memory line in /proc/self/status")?;
            Ok(line.trim().trim_end_matches("kB").trim().parse::<f64>()? * 1024.0)
        };
        #[allow(clippy::cast_precision_loss)] // a count of file descriptors
        let open_fds = std::fs::read_dir("/proc/self/fd")?.count() as f64;
        let limits = std::fs::read_to_string("/proc/self/limits")?;
        let max_fds = limits
            .lines()
            .find_map(|l| l.strip_prefix("Max open files"))
            .and_then(|l| l.split_whitespace().next())
            .map_or(Ok(f64::INFINITY), |soft| {
                if soft == "unlimited" {
                    Ok(f64::INFINITY)
                } else {
                    soft.parse::<f64>()
                }
            })?;
        Ok(vec![
            family(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
                MetricType::Counter,
                SeriesValue::Counter(cpu_seconds),
            )?,
            family(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                MetricType::Gauge,
                SeriesValue::Gauge(kilobytes("VmRSS:")?),
            )?,
            family(
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                MetricType::Gauge,
                SeriesValue::Gauge(kilobytes("VmSize:")?),
            )?,
            family(
                "process_open_fds",
                "Number of open file descriptors.",
                MetricType::Gauge,
                SeriesValue::Gauge(open_fds),
            )?,
            family(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                MetricType::Gauge,
                SeriesValue::Gauge(max_fds),
            )?,
            family(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                MetricType::Gauge,
                SeriesValue::Gauge(crate::process_start_time()),
            )?,
        ])
    }
}

fn family(
    name: &str,
    help: &str,
    kind: MetricType,
    value: SeriesValue,
) -> Result<MetricFamily, CollectError> {
    let mut family = MetricFamily::new(name, help, kind, &[])?;
    if kind == MetricType::Gauge && name.ends_with("_bytes") {
        family = family.with_unit("bytes")?;
    }
    family.add(&[], value)?;
    Ok(family)
}

fn make() -> Arc<dyn Collector> {
    Arc::new(ProcessCollector)
}

#[cfg(all(feature = "process", target_os = "linux"))]
crate::register_collector!(make);
