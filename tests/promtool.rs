//! `promtool check metrics` (Debian package `prometheus`) accepts the quickstart's text
//! output without a single finding.

use std::process::Command;

#[allow(dead_code)] // this test needs only some of the helpers
mod support {
    pub mod tools;
}

use support::tools::{example, promtool_accepts};

#[test]
fn promtool_accepts_the_quickstart() {
    let output = Command::new(example("quickstart"))
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
