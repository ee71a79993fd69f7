//! A real Prometheus (the Debian package, 2.42) on loopback for end-to-end tests: started
//! with a generated config that scrapes one target every second, asked through its HTTP
//! API, killed when the test ends however it ends.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The running server; dropping it kills it.
pub struct Prometheus {
    child: Child,
    /// `http://127.0.0.1:port`, its API's base.
    pub base: String,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts Prometheus in `dir`, scraping `target` (`host:port`, path `/metrics`) as job
/// `promlink` every second, and waits until it is ready and has scraped the target once:
/// Prometheus hands new targets to its scrapers every few seconds, and traffic driven
/// before the first scrape would fall outside the windows the tests query.
#[allow(dead_code)] // each test uses what it needs
pub fn start(dir: &Path, target: &str) -> Prometheus {
    start_with(dir, target, "")
}

/// [`start`], with more settings for the job (YAML lines indented by four spaces:
/// `scheme`, `tls_config`, `basic_auth`...).
#[allow(dead_code)] // each test uses what it needs
pub fn start_with(dir: &Path, target: &str, job_settings: &str) -> Prometheus {
    launch(dir, target, job_settings, &[])
}

/// [`start`], with `--enable-feature=` each of `features` (`native-histograms`, which
/// makes Prometheus ask for protobuf first).
#[allow(dead_code)] // each test uses what it needs
pub fn start_with_features(dir: &Path, target: &str, features: &[&str]) -> Prometheus {
    launch(dir, target, "", features)
}

fn launch(dir: &Path, target: &str, job_settings: &str, features: &[&str]) -> Prometheus {
    std::fs::create_dir_all(dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: promlink\n{job_settings}    static_configs:\n      - targets: ['{target}']\n"
        ),
    )
    .unwrap();
    let api = format!("127.0.0.1:{}", free_port());
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={api}"))
        .arg("--log.level=warn")
        .args(features.iter().map(|f| format!("--enable-feature={f}")))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus is not installed: apt-get install prometheus");
    let prometheus = Prometheus {
        child,
        base: format!("http://{api}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{}/-/ready", prometheus.base))
        .call()
        .is_err()
    {
        assert!(Instant::now() < deadline, "Prometheus did not become ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while prometheus.api("/api/v1/query", &[("query", "up{job=\"promlink\"} == 1")])["result"]
        .as_array()
        .is_none_or(Vec::is_empty)
    {
        assert!(
            Instant::now() < deadline,
            "Prometheus never scraped {target}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    prometheus
}

impl Prometheus {
    /// The `data` of a successful API answer.
    pub fn api(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let mut request = ureq::get(&format!("{}{path}", self.base));
        for (key, value) in query {
            request = request.query(*key, *value);
        }
        let body = request
            .call()
            .expect("the Prometheus API answers")
            .body_mut()
            .read_to_string()
            .unwrap();
        let value: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(value["status"], "success", "{body}");
        value["data"].clone()
    }

    /// The single value of an instant query.
    pub fn scalar(&self, query: &str) -> f64 {
        let data = self.api("/api/v1/query", &[("query", query)]);
        let result = data["result"]
            .as_array()
            .unwrap_or_else(|| panic!("{query}: {data}"));
        assert_eq!(result.len(), 1, "{query}: {data}");
        result[0]["value"][1].as_str().unwrap().parse().unwrap()
    }

    /// The type and help the metadata API reports for `family` (a counter may be listed
    /// under its name with or without `_total`).
    pub fn metadata(&self, family: &str) -> (String, String) {
        let metadata = self.api("/api/v1/metadata", &[]);
        let entry = metadata
            .get(family)
            .or_else(|| metadata.get(family.trim_end_matches("_total")))
            .unwrap_or_else(|| panic!("no metadata for {family}: {metadata}"));
        (
            entry[0]["type"].as_str().unwrap().to_owned(),
            entry[0]["help"].as_str().unwrap().to_owned(),
        )
    }

    /// The seed's checks before its queries: the target is up, and the metadata API
    /// reports `http_requests_total` as a counter with `requests_help` and
    /// `http_request_duration_seconds` as a histogram with `duration_help`.
    #[allow(dead_code)] // each test uses what it needs
    pub fn assert_up_with_metadata(&self, requests_help: &str, duration_help: &str) {
        assert_eq!(self.scalar("up{job=\"promlink\"}"), 1.0);
        assert_eq!(
            self.metadata("http_requests_total"),
            ("counter".to_owned(), requests_help.to_owned())
        );
        assert_eq!(
            self.metadata("http_request_duration_seconds"),
            ("histogram".to_owned(), duration_help.to_owned())
        );
    }
}
