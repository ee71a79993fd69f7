//! Wall-clock times for `_created` and the process start.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, now.
///
/// ```
/// assert!(promlink_core::unix_time() > 1.6e9);
/// ```
pub fn unix_time() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The time in seconds since the Unix epoch, to a few milliseconds (the kernel's tick):
/// for exemplars, whose times Prometheus keeps in milliseconds. On Linux a fifth of the
/// cost of [`unix_time`] (`CLOCK_REALTIME_COARSE`, read from the vDSO without a
/// system call); elsewhere it is [`unix_time`].
pub(crate) fn coarse_unix_time() -> f64 {
    #[cfg(target_os = "linux")]
    {
        let mut now = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `now` is a valid timespec to write; the clock exists on every Linux
        // since 2.6.32.
        if unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &raw mut now) } == 0 {
            #[allow(clippy::cast_precision_loss)] // seconds and nanoseconds, as f64 keeps times
            return now.tv_sec as f64 + now.tv_nsec as f64 * 1e-9;
        }
    }
    unix_time()
}

/// When this process started, in seconds since the Unix epoch: the `_created` time of
/// every `static` metric, which exists from the start.
///
/// Read from `/proc` on Linux; elsewhere, the first time this is called.
///
/// ```
/// let start = promlink_core::process_start_time();
/// assert!(start <= promlink_core::unix_time());
/// ```
pub fn process_start_time() -> f64 {
    static START: OnceLock<f64> = OnceLock::new();
    *START.get_or_init(|| proc_start_time().unwrap_or_else(unix_time))
}

/// The start time from `/proc/self/stat` (field 22, in clock ticks after boot) and the
/// boot time from `/proc/stat`. Linux reports ticks at 100 Hz to user space on every
/// architecture (`USER_HZ`), which is what Go's procfs assumes too.
#[cfg(target_os = "linux")]
fn proc_start_time() -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces and parentheses: fields resume after the last ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let start_ticks: u64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
    let boot = std::fs::read_to_string("/proc/stat").ok()?;
    let boot_time: u64 = boot
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    #[allow(clippy::cast_precision_loss)] // seconds since 1970 and ticks since boot fit in 2^53
    Some(boot_time as f64 + start_ticks as f64 / USER_HZ)
}

#[cfg(not(target_os = "linux"))]
fn proc_start_time() -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn process_started_recently_and_in_the_past() {
        let start = super::process_start_time();
        let now = super::unix_time();
        assert!(start <= now + 0.01, "{start} > {now}");
        assert!(
            now - start < 3600.0,
            "a test process is younger than an hour"
        );
    }
}
