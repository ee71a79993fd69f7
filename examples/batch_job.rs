//! A batch job that pushes its metrics to a push gateway when it ends, as Python's
//! `push_to_gateway`.
//!
//! `cargo run --example batch_job --features push -- 127.0.0.1:9091` (start one with
//! `prometheus-pushgateway`); then see them on the gateway's `/metrics`.

use promlink::push::push_to_gateway;
use promlink::{counted, declare_metrics, Registry};

declare_metrics! {
    /// Records the job processed.
    pub counter RECORDS_PROCESSED_TOTAL;
    /// When the job last succeeded, in Unix seconds.
    pub gauge LAST_SUCCESS_SECONDS;
}

/// One record's work.
#[counted]
fn process(record: u32) -> Result<u32, String> {
    if record.is_multiple_of(97) {
        return Err(format!("record {record} is malformed"));
    }
    RECORDS_PROCESSED_TOTAL.inc();
    Ok(record * 2)
}

fn main() {
    let gateway = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9091".to_owned());
    let failures = (1..=1000)
        .filter(|record| process(*record).is_err())
        .count();
    LAST_SUCCESS_SECONDS.set_to_current_time();
    match push_to_gateway(
        &gateway,
        "batch_job",
        &[("instance", "example")],
        Registry::global(),
    ) {
        Ok(()) => println!("pushed to {gateway}: 1000 records, {failures} failed"),
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    }
}
