//! Small helpers several tests share: an example's binary, promtool on an exposition, this process's memory,
//! a registry with one counter family, and a test run again alone in a child process (to read its stderr, or to run it under
//! limits of its own).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// The binary of example `name`: `cargo test` builds the examples beside the tests; when
/// only one test was selected, it is built now.
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("examples")
        .join(name);
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", name])
            .status()
            .expect("run cargo");
        assert!(status.success(), "cargo build --example {name} failed");
    }
    bin
}

/// Asserts that `promtool check metrics` (Debian package `prometheus`) accepts
/// `exposition` without a finding.
pub fn promtool_accepts(exposition: &[u8]) {
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool is not installed: apt-get install prometheus");
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(exposition)
        .unwrap();
    let checked = promtool.wait_with_output().unwrap();
    let findings = format!(
        "{}{}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let shown = String::from_utf8_lossy(exposition);
    assert!(
        checked.status.success(),
        "promtool failed:\n{findings}\n{shown}"
    );
    assert_eq!(findings.trim(), "", "promtool reported findings:\n{shown}");
}

/// The resident set of this process, in bytes (`VmRSS` of `/proc/self/status`).
pub fn resident_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: usize = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .unwrap()
        .trim()
        .trim_end_matches(" kB")
        .trim()
        .parse()
        .unwrap();
    kb * 1024
}

/// A registry of its own, for the life of the test process, with one family:
/// `requests_total{code="200"} 3`.
pub fn requests_registry() -> &'static promlink::Registry {
    use std::sync::Arc;

    let registry: &'static promlink::Registry = Box::leak(Box::new(promlink::Registry::new()));
    let requests = Arc::new(promlink::Metric::new(
        "requests_total",
        "Requests.",
        promlink::Family::new(["code"], promlink::Counter::new()),
    ));
    registry.register(requests.clone()).unwrap();
    requests.labels(["200"]).inc_by(3.0);
    registry
}

/// Set in the child that [`run_alone`] starts.
const CHILD: &str = "PROMLINK_CHILD";

/// Whether this process is the child of [`run_alone`]: a test meant to run only there
/// returns at once otherwise.
pub fn in_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

/// Runs the test `name` of this binary alone in a child process, started through
/// `wrapper` (a command and its arguments, such as `prlimit --nofile=256:256`; empty for
/// none), with `env` set; asserts that it passed.
pub fn run_alone(name: &str, wrapper: &[&str], env: &[(&str, &str)]) -> Output {
    let test_binary = std::env::current_exe().unwrap();
    let mut command = match wrapper.split_first() {
        Some((program, args)) => {
            let mut command = Command::new(program);
            command.args(args).arg(test_binary);
            command
        }
        None => Command::new(test_binary),
    };
    let child = command
        .args(["--exact", name, "--nocapture"])
        .env(CHILD, "1")
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("running {name} alone: {e}"));
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        child.status.success() && stdout.contains("1 passed"),
        "{stdout}{}",
        String::from_utf8_lossy(&child.stderr)
    );
    child
}
