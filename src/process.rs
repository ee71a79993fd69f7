//! Process metrics, as Python's and Go's clients export them, read from `/proc` (Linux):
//! `process_cpu_seconds_total`, `process_resident_memory_bytes`,
//! `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`,
//! `process_start_time_seconds`. Registered in the global registry at link time with the
//! `process` feature (on by default); [`ProcessCollector`] registers in others.

use std::fs::File;
use std::io::{self, Read as _, Seek as _, SeekFrom};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::{CollectError, Collector, MetricFamily, MetricType, SeriesValue};

/// Linux reports CPU ticks to user space at 100 Hz on every architecture (`USER_HZ`).
const USER_HZ: f64 = 100.0;

/// `EMFILE`: this process has every file descriptor its limit allows open.
const TOO_MANY_OPEN_FILES: i32 = 24;

/// Collects this process's metrics at each scrape.
///
/// It keeps its `/proc` files open between scrapes, so that it still answers when the
/// process is out of file descriptors, which is when `process_open_fds` matters most:
/// then it reports `process_open_fds` equal to `process_max_fds`. One value that cannot
/// be read costs its own family, not the others.
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

/// The `/proc/self` files read at each scrape, opened once for the whole process.
struct ProcFiles {
    stat: Option<File>,
    status: Option<File>,
    limits: Option<File>,
}

/// The text of `/proc/self/<name>`, read again through `file` (opened on first use).
fn read_proc(file: &mut Option<File>, name: &str) -> io::Result<String> {
    if file.is_none() {
        *file = Some(File::open(format!("/proc/self/{name}"))?);
    }
    let Some(file) = file else {
        unreachable!("opened just above")
    };
    // procfs makes the text anew when it is read from the start.
    file.seek(SeekFrom::Start(0))?;
    let mut text = String::new();
    file.read_to_string(&mut text)?;
    Ok(text)
}

impl Collector for ProcessCollector {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        static FILES: OnceLock<Mutex<ProcFiles>> = OnceLock::new();
        let files = FILES.get_or_init(|| {
            Mutex::new(ProcFiles {
                stat: None,
                status: None,
                limits: None,
            })
        });
        let mut files = files.lock().unwrap_or_else(PoisonError::into_inner);
        let mut families = Vec::new();
        let mut first_error: Option<CollectError> = None;
        let mut keep = |family: Result<MetricFamily, CollectError>| match family {
            Ok(family) => families.push(family),
            Err(error) => {
                first_error.get_or_insert(error);
            }
        };
        keep(
            read_proc(&mut files.stat, "stat")
                .map_err(Into::into)
                .and_then(|stat| {
                    family(
                        "process_cpu_seconds_total",
                        "Total user and system CPU time spent in seconds.",
                        MetricType::Counter,
                        SeriesValue::Counter(cpu_seconds(&stat)?),
                    )
                }),
        );
        let status = read_proc(&mut files.status, "status");
        for (name, help, key) in [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                "VmRSS:",
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                "VmSize:",
            ),
        ] {
            keep(match &status {
                Ok(status) => kilobytes(status, key).and_then(|bytes| {
                    family(name, help, MetricType::Gauge, SeriesValue::Gauge(bytes))
                }),
                Err(error) => Err(error.to_string().into()),
            });
        }
        let max_fds = read_proc(&mut files.limits, "limits")
            .map_err(Into::into)
            .and_then(|limits| max_open_files(&limits));
        #[allow(clippy::cast_precision_loss)] // a count of file descriptors
        let open_fds = match std::fs::read_dir("/proc/self/fd") {
            Ok(entries) => Ok(entries.count() as f64),
            // Every descriptor is taken: as many are open as the limit allows.
            Err(e) if e.raw_os_error() == Some(TOO_MANY_OPEN_FILES) => max_fds
                .as_ref()
                .map(|max| *max)
                .map_err(|e| e.to_string().into()),
            Err(e) => Err(CollectError::from(e)),
        };
        keep(open_fds.and_then(|open| {
            family(
                "process_open_fds",
                "Number of open file descriptors.",
                MetricType::Gauge,
                SeriesValue::Gauge(open),
            )
        }));
        keep(max_fds.and_then(|max| {
            family(
                "process_max_fds",
                "Maximum number of open file descriptors.",
                MetricType::Gauge,
                SeriesValue::Gauge(max),
            )
        }));
        keep(family(
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            MetricType::Gauge,
            SeriesValue::Gauge(crate::process_start_time()),
        ));
        match first_error {
            // Nothing could be read: the failure is what there is to report.
            Some(error) if families.len() <= 1 => Err(error),
            _ => Ok(families),
        }
    }
}

/// User and system CPU seconds from `/proc/self/stat`.
fn cpu_seconds(stat: &str) -> Result<f64, CollectError> {
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
    Ok((field(14)? + field(15)?) / USER_HZ)
}

/// The bytes of a `kB` line of `/proc/self/status`.
fn kilobytes(status: &str, key: &str) -> Result<f64, CollectError> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .ok_or("no memory line in /proc/self/status")?;
    Ok(line.trim().trim_end_matches("kB").trim().parse::<f64>()? * 1024.0)
}

/// The soft limit of open files from `/proc/self/limits`.
fn max_open_files(limits: &str) -> Result<f64, CollectError> {
    let soft = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|l| l.split_whitespace().next());
    match soft {
        None | Some("unlimited") => Ok(f64::INFINITY),
        Some(soft) => Ok(soft.parse::<f64>()?),
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
