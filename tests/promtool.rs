//! `promtool check metrics` (Debian package `prometheus`) accepts the quickstart's text
//! output without a single finding.

use std::path::PathBuf;
use std::process::Command;

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod tools;
}

use support::tools::promtool_accepts;

/// The quickstart binary: `cargo test` builds the examples beside this test; when only
/// this test was selected, build it now.
fn quickstart() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let bin = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .join("examples")
        .join("quickstart");
    if !bin.exists() {
        let status = Command::new(env!("CARGO"))
            .args(["build", "--example", "quickstart"])
            .status()
            .expect("run cargo");
        assert!(status.success(), "cargo build --example quickstart failed");
    }
    bin
}

#[test]
fn promtool_accepts_the_quickstart() {
    let output = Command::new(quickstart())
        .arg("--print")
        .output()
        .expect("run the quickstart");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exposition = output.stdout;
    assert!(
        exposition.starts_with(b"# HELP active_connections"),
        "{}",
        String::from_utf8_lossy(&exposition)
    );

    promtool_accepts(&exposition);
}
