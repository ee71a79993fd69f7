//! Running the collectors of one scrape. With a deadline, each runs on a thread of its
//! own, so that a slow one costs only its own families: what has not answered by the
//! deadline is left out, and is not started again while it still runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use crate::collector::{Collector, MetricFamily};
use crate::health::{Failure, Reason, Subject};
use crate::panics;

/// A registered collector, and whether a call of it is still running.
pub(crate) struct Slot {
    collector: Arc<dyn Collector>,
    running: AtomicBool,
}

impl Slot {
    pub(crate) fn new(collector: Arc<dyn Collector>) -> Arc<Slot> {
        Arc::new(Slot {
            collector,
            running: AtomicBool::new(false),
        })
    }

    /// A failure of this collector.
    pub(crate) fn failure(&self, reason: Reason, detail: String) -> Failure {
        Failure {
            subject: Subject::Collector(self.collector.name().to_owned()),
            reason,
            detail,
        }
    }

    /// Calls the collector here, catching a panic.
    fn run(&self) -> Result<Vec<MetricFamily>, Failure> {
        match panics::catch(|| self.collector.collect()) {
            Ok(Ok(families)) => Ok(families),
            Ok(Err(error)) => Err(self.failure(Reason::Error, format!("failed: {error}"))),
            Err(panic) => Err(self.failure(Reason::Panic, format!("panicked: {panic}"))),
        }
    }
}

/// The families of every collector, in registration order, each with its collector,
/// and what failed.
pub(crate) fn gather(
    slots: &[Arc<Slot>],
    deadline: Option<Instant>,
) -> (Vec<(Option<&Slot>, MetricFamily)>, Vec<Failure>) {
    let results = match deadline {
        None => slots.iter().map(|slot| slot.run()).collect(),
        Some(deadline) => gather_by(slots, deadline),
    };
    let mut families = Vec::new();
    let mut failures = Vec::new();
    for (result, slot) in results.into_iter().zip(slots) {
        match result {
            Ok(collected) => families.extend(collected.into_iter().map(|f| (Some(&**slot), f))),
            Err(failure) => failures.push(failure),
        }
    }
    (families, failures)
}

fn gather_by(slots: &[Arc<Slot>], deadline: Instant) -> Vec<Result<Vec<MetricFamily>, Failure>> {
    let mut results: Vec<Option<Result<_, Failure>>> = slots.iter().map(|_| None).collect();
    let (answers, answered) = mpsc::channel();
    let mut waiting = 0;
    for (index, slot) in slots.iter().enumerate() {
        if slot.running.swap(true, Ordering::AcqRel) {
            let still = "still running since an earlier scrape missed its deadline".to_owned();
            results[index] = Some(Err(slot.failure(Reason::Timeout, still)));
            continue;
        }
        let (slot_here, answers) = (Arc::clone(slot), answers.clone());
        let spawned = std::thread::Builder::new()
            .name("promlink-collect".to_owned())
            .spawn(move || {
                let result = slot_here.run();
                slot_here.running.store(false, Ordering::Release);
                let _ = answers.send((index, result));
            });
        if spawned.is_ok() {
            waiting += 1;
        } else {
            // No thread to be had: run it here rather than lose it.
            results[index] = Some(slot.run());
            slot.running.store(false, Ordering::Release);
        }
    }
    while waiting > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok((index, result)) = answered.recv_timeout(left) else {
            break;
        };
        results[index] = Some(result);
        waiting -= 1;
    }
    results
        .into_iter()
        .zip(slots)
        .map(|(result, slot)| {
            result.unwrap_or_else(|| {
                let late = "did not answer within the scrape's deadline".to_owned();
                Err(slot.failure(Reason::Timeout, late))
            })
        })
        .collect()
}
