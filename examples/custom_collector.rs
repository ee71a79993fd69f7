//! A custom collector: metrics read from a system of record at scrape time rather than
//! updated as events happen (Python's `REGISTRY.register(MyCollector())`).
//!
//! `cargo run --example custom_collector` serves on 127.0.0.1:8001 (`--listen ADDR`);
//! `-- --print` writes one exposition and exits.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use promlink::{CollectError, Collector, MetricFamily, MetricType, Registry, SeriesValue};

#[path = "support/cli.rs"]
mod cli;

/// A stand-in for a job queue the service does not own: depths and totals live there,
/// and the collector asks for them when Prometheus scrapes.
#[derive(Default)]
struct JobQueue {
    /// Per queue: jobs waiting, jobs done, and the oldest waiting job's age in seconds.
    queues: Mutex<BTreeMap<&'static str, (u64, u64, f64)>>,
}

impl JobQueue {
    fn enqueue(&self, queue: &'static str, jobs: u64) {
        let mut queues = self.queues.lock().expect("not poisoned");
        let entry = queues.entry(queue).or_default();
        entry.0 += jobs;
        entry.2 += 0.5;
    }

    fn work(&self, queue: &'static str, jobs: u64) {
        let mut queues = self.queues.lock().expect("not poisoned");
        let entry = queues.entry(queue).or_default();
        let done = jobs.min(entry.0);
        entry.0 -= done;
        entry.1 += done;
        if entry.0 == 0 {
            entry.2 = 0.0;
        }
    }
}

/// Reads the queue at each scrape.
struct JobQueueCollector(Arc<JobQueue>);

impl Collector for JobQueueCollector {
    fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
        let mut depth = MetricFamily::new(
            "job_queue_depth",
            "Jobs waiting in each queue.",
            MetricType::Gauge,
            &["queue"],
        )?;
        let mut done = MetricFamily::new(
            "job_queue_processed_total",
            "Jobs processed from each queue.",
            MetricType::Counter,
            &["queue"],
        )?;
        let mut age = MetricFamily::new(
            "job_queue_oldest_age_seconds",
            "Age of the oldest waiting job in each queue.",
            MetricType::Gauge,
            &["queue"],
        )?
        .with_unit("seconds")?;
        let queues = self
            .0
            .queues
            .lock()
            .map_err(|_| "the job queue is poisoned")?;
        for (queue, (waiting, processed, oldest)) in queues.iter() {
            #[allow(clippy::cast_precision_loss)] // job counts stay far below 2^53
            let (waiting, processed) = (*waiting as f64, *processed as f64);
            depth.add(&[queue], SeriesValue::Gauge(waiting))?;
            done.add(&[queue], SeriesValue::Counter(processed))?;
            age.add(&[queue], SeriesValue::Gauge(*oldest))?;
        }
        Ok(vec![depth, done, age])
    }
}

fn main() {
    let options = cli::options("127.0.0.1:8001");
    let queue = Arc::new(JobQueue::default());
    Registry::global().register_collector(Arc::new(JobQueueCollector(queue.clone())));

    queue.enqueue("emails", 12);
    queue.enqueue("reports", 3);
    queue.work("emails", 5);
    let Some(_server) = cli::print_or_serve(&options) else {
        return;
    };
    loop {
        std::thread::sleep(Duration::from_secs(1));
        queue.enqueue("emails", 3);
        queue.work("emails", 2);
        queue.work("reports", 1);
    }
}
