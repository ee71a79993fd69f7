//! The process collector when the process is out of file descriptors: it still answers
//! (its `/proc` files stay open), with `process_open_fds` equal to `process_max_fds`.
#![cfg(target_os = "linux")]

use std::fs::File;
use std::sync::Arc;

use promlink::process::ProcessCollector;
use promlink::Registry;

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod tools;
}

use support::tools::{in_child, run_alone};

/// Run by `out_of_file_descriptors` in a child process of its own: it takes every file
/// descriptor the process may have, scrapes, and prints what it read.
#[test]
fn child_runs_out_of_file_descriptors() {
    if !in_child() {
        return;
    }
    let registry = Registry::new();
    registry.register_collector(Arc::new(ProcessCollector));
    let before = registry.get_sample_value("process_open_fds", &[]).unwrap();
    let max = registry.get_sample_value("process_max_fds", &[]).unwrap();
    let mut hoard = Vec::new();
    while let Ok(file) = File::open("/dev/null") {
        hoard.push(file);
        assert!(hoard.len() < 1_000_000, "no limit of open files");
    }
    let mut out = Vec::new();
    let scraped = registry.encode(promlink::Format::Text, &mut out);
    drop(hoard);
    let text = String::from_utf8(out).unwrap();
    assert!(scraped.is_ok(), "{scraped:?}\n{text}");
    let value = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(|v| v.parse::<f64>().unwrap())
    };
    assert!(before < max);
    assert_eq!(value("process_open_fds"), Some(max), "{text}");
    assert_eq!(value("process_max_fds"), Some(max), "{text}");
    assert!(value("process_cpu_seconds_total").is_some(), "{text}");
    assert!(
        value("process_resident_memory_bytes").unwrap() > 0.0,
        "{text}"
    );
}

#[test]
fn out_of_file_descriptors() {
    // A low limit keeps the child quick.
    run_alone(
        "child_runs_out_of_file_descriptors",
        &["prlimit", "--nofile=256:256"],
        &[],
    );
}
