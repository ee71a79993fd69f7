//! Running the collectors of one scrape. With a deadline, each runs on a thread of its
//! own, so that a slow one costs only its own families: what has not answered by the
//! deadline is left out, and is not started again while that late call still runs.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use crate::collector::{Collector, MetricFamily};
use crate::health::{Failure, Reason, Subject};
use crate::panics;

/// A registered collector, and how many of its calls are late: given up on by a scrape,
/// still running.
pub(crate) struct Slot {
    collector: Arc<dyn Collector>,
    late: AtomicUsize,
}

/// Where one call on a thread of its own stands.
const RUNNING: u8 = 0;
const DONE: u8 = 1;
const GIVEN_UP: u8 = 2;

impl Slot {
    pub(crate) fn new(collector: Arc<dyn Collector>) -> Arc<Slot> {
        Arc::new(Slot {
            collector,
            late: AtomicUsize::new(0),
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

    /// Whether a call of it that a scrape gave up on still runs: then it is not called
    /// again (a collector that hangs would take a thread a scrape).
    fn is_late(&self) -> Option<Failure> {
        (self.late.load(Ordering::Acquire) > 0).then(|| {
            let still = "still running since an earlier scrape missed its deadline".to_owned();
            self.failure(Reason::Timeout, still)
        })
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
) -> (Vec<(&Slot, MetricFamily)>, Vec<Failure>) {
    let results = match deadline {
        None => slots
            .iter()
            .map(|slot| slot.is_late().map_or_else(|| slot.run(), Err))
            .collect(),
        Some(deadline) => gather_by(slots, deadline),
    };
    let mut families = Vec::new();
    let mut failures = Vec::new();
    for (result, slot) in results.into_iter().zip(slots) {
        match result {
            Ok(collected) => families.extend(collected.into_iter().map(|f| (&**slot, f))),
            Err(failure) => failures.push(failure),
        }
    }
    (families, failures)
}

fn gather_by(slots: &[Arc<Slot>], deadline: Instant) -> Vec<Result<Vec<MetricFamily>, Failure>> {
    let mut results: Vec<Option<Result<_, Failure>>> = slots.iter().map(|_| None).collect();
    let mut calls: Vec<Option<Arc<AtomicU8>>> = slots.iter().map(|_| None).collect();
    let (answers, answered) = mpsc::channel();
    let mut waiting = 0;
    for (index, slot) in slots.iter().enumerate() {
        if let Some(late) = slot.is_late() {
            results[index] = Some(Err(late));
            continue;
        }
        let call = Arc::new(AtomicU8::new(RUNNING));
        let (slot_here, call_here, answers) =
            (Arc::clone(slot), Arc::clone(&call), answers.clone());
        let spawned = std::thread::Builder::new()
            .name("promlink-collect".to_owned())
            .spawn(move || {
                let result = slot_here.run();
                if call_here.swap(DONE, Ordering::AcqRel) == GIVEN_UP {
                    slot_here.late.fetch_sub(1, Ordering::AcqRel);
                }
                let _ = answers.send((index, result));
            });
        if spawned.is_ok() {
            calls[index] = Some(call);
            waiting += 1;
        } else {
            // No thread to be had: run it here rather than lose it.
            results[index] = Some(slot.run());
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
        .zip(calls)
        .map(|((result, slot), call)| {
            result.unwrap_or_else(|| {
                // Late: counted before the call can see it given up, so that the call's
                // own count down, when it ends, always follows.
                slot.late.fetch_add(1, Ordering::AcqRel);
                let given_up = call.is_some_and(|call| {
                    call.compare_exchange(RUNNING, GIVEN_UP, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                });
                if !given_up {
                    // It ended just now, answering no one.
                    slot.late.fetch_sub(1, Ordering::AcqRel);
                }
                let late = "did not answer within the scrape's deadline".to_owned();
                Err(slot.failure(Reason::Timeout, late))
            })
        })
        .collect()
}
