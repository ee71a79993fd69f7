//! Running the Python checkers of `tests/python/` from integration tests.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to get what the checkers need.
pub const INSTALL_HINT: &str =
    "python3 -m pip install prometheus_client==0.26.0 grpcio-tools==1.85.1";

/// A fresh directory under the target's temporary directory for one test's files.
pub fn scratch_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
    dir
}

/// What a checker that passed printed (each test reads the half it needs).
#[allow(dead_code)]
pub struct Passed {
    /// Its findings, for a test to read.
    pub stdout: String,
    /// Its report, for a person.
    pub stderr: String,
}

/// Runs `tests/python/<script>` with `args`: `Ok` with what it printed when it passes,
/// `Err(report)` when it reports a mismatch. Panics when Python or `prometheus_client` is missing: the
/// tests fail rather than skip without them.
pub fn run_python(script: &str, args: &[&Path]) -> Result<Passed, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(script);
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        // Keep `__pycache__` out of the source tree.
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output();
    let output = match output {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            panic!("python3 is not on PATH: this test needs it. Install Python 3, then run `{INSTALL_HINT}`.")
        }
        Err(e) => panic!("running python3 {}: {e}", script.display()),
    };
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    match output.status.code() {
        Some(0) => Ok(Passed {
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr,
        }),
        Some(2) => panic!(
            "prometheus_client 0.26.0 is needed for this test; run `{INSTALL_HINT}`.\n{stderr}"
        ),
        _ => Err(format!(
            "{} failed ({}):\n{stderr}",
            script.display(),
            output.status
        )),
    }
}
