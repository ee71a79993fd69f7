//! Scrapes that share one encoded body, so that the memory of concurrent scrapes stays
//! bounded however many clients ask and however slowly they read.
//!
//! - A scrape that arrives while the same scrape (same format, compression and `name[]`)
//!   is being encoded waits for that encoding and shares its bytes, if it will be done
//!   before this client gives up (a client with a longer timeout cannot make a
//!   Prometheus with a shorter one wait).
//! - While [`HELD_PER_SCRAPE`] bodies of one scrape are still held (written to clients
//!   that have not taken them yet), a new scrape shares the newest instead of encoding
//!   another, as long as that one is younger than the client's timeout.
//! - Past [`held_budget`] bytes held in all (encodings under way count as the largest
//!   body), a scrape shares the newest body of its own kind, however old, or is refused
//!   (`503`) when there is none.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::watch;

use crate::http::{Encoded, ScrapeKey, ScrapeRequest};
use crate::Registry;

/// Bodies of one scrape held at once before new scrapes share the newest.
const HELD_PER_SCRAPE: usize = 2;

/// The bytes of bodies held at once, in all, past which no new one is encoded: four of
/// the largest seen, and at least 16 MiB.
fn held_budget(largest: usize) -> usize {
    largest.saturating_mul(4).max(16 << 20)
}

/// An encoded answer, and when it was encoded; alive as long as a response holds it.
pub(crate) struct Held {
    pub(crate) encoded: Encoded,
    at: Instant,
}

/// The bytes of a [`Held`], for [`Bytes::from_owner`].
struct Body(Arc<Held>);

impl AsRef<[u8]> for Body {
    fn as_ref(&self) -> &[u8] {
        &self.0.encoded.body
    }
}

impl Held {
    /// The response body: shares the bytes, keeps them alive while it is being written.
    pub(crate) fn body(self: &Arc<Self>) -> Bytes {
        Bytes::from_owner(Body(Arc::clone(self)))
    }
}

/// An encoding under way, and when its collectors' deadline passes.
struct UnderWay {
    done: watch::Receiver<Option<Arc<Held>>>,
    deadline: Instant,
}

#[derive(Default)]
struct Bodies {
    encoding: Option<UnderWay>,
    /// The bodies encoded before, alive while some client is still being sent one.
    held: Vec<Weak<Held>>,
}

#[derive(Default)]
struct Scrapes {
    by_key: HashMap<ScrapeKey, Bodies>,
    /// The largest body encoded so far, for the budget.
    largest: usize,
}

/// Every scrape's encoding under way and bodies held, by what the scrape asks for.
#[derive(Default)]
pub(crate) struct SharedBodies {
    scrapes: Mutex<Scrapes>,
}

/// What a scrape gets.
pub(crate) enum Answer {
    /// The body to send.
    Body(Arc<Held>),
    /// Nothing: the encoding panicked, or the memory for bodies is spent.
    Unavailable,
}

impl SharedBodies {
    /// The answer to `scrape`: shared with a scrape under way or held, or encoded anew (on
    /// a blocking thread: encoding and collectors never run on the server's I/O thread).
    pub(crate) async fn answer(
        self: &Arc<Self>,
        registry: &'static Registry,
        scrape: &ScrapeRequest,
    ) -> Answer {
        let now = Instant::now();
        let gives_up = now + scrape.timeout;
        let mut waiting = {
            let mut scrapes = self.scrapes.lock().unwrap_or_else(PoisonError::into_inner);
            // Forget the scrapes that nothing holds any more (`name[]` can make many).
            scrapes.by_key.retain(|_, bodies| {
                bodies.held.retain(|held| held.strong_count() > 0);
                bodies.encoding.is_some() || !bodies.held.is_empty()
            });
            // What is held, and what the encodings under way will hold (as much as the
            // largest body each).
            let held_bytes: usize = (scrapes.by_key.values())
                .flat_map(|bodies| bodies.held.iter().filter_map(Weak::upgrade))
                .map(|held| held.encoded.body.len())
                .sum();
            let under_way = (scrapes.by_key.values())
                .filter(|bodies| bodies.encoding.is_some())
                .count();
            let coming = under_way.saturating_mul(scrapes.largest);
            let over_budget = held_bytes.saturating_add(coming) >= held_budget(scrapes.largest);
            let bodies = scrapes.by_key.entry(scrape.key.clone()).or_default();
            // Joined when it will be done in time; an encoding whose sender is gone
            // panicked, and one past its deadline hangs (a callback that blocks).
            let joinable = bodies.encoding.as_ref().filter(|under_way| {
                under_way.done.has_changed().is_ok()
                    && now < under_way.deadline
                    && under_way.deadline <= gives_up
            });
            if let Some(under_way) = joinable {
                under_way.done.clone()
            } else {
                let newest = bodies
                    .held
                    .iter()
                    .filter_map(Weak::upgrade)
                    .max_by_key(|h| h.at);
                let enough_held = bodies.held.len() >= HELD_PER_SCRAPE;
                match newest {
                    Some(newest) if over_budget => return Answer::Body(newest),
                    Some(newest) if enough_held && newest.at.elapsed() < scrape.timeout => {
                        return Answer::Body(newest);
                    }
                    None if over_budget => return Answer::Unavailable,
                    _ => {}
                }
                let (done, waiting) = watch::channel(None);
                bodies.encoding = Some(UnderWay {
                    done: waiting.clone(),
                    deadline: gives_up,
                });
                let (shared, scrape, ours) = (Arc::clone(self), scrape.clone(), waiting.clone());
                tokio::task::spawn_blocking(move || {
                    let held = Arc::new(Held {
                        encoded: scrape.encode(registry),
                        at: Instant::now(),
                    });
                    shared.finished(&scrape.key, &held, &ours);
                    let _ = done.send(Some(held));
                });
                waiting
            }
        };
        let answer = match waiting.wait_for(Option::is_some).await {
            Ok(answer) => answer.clone(),
            Err(_) => None,
        };
        answer.map_or(Answer::Unavailable, Answer::Body)
    }

    /// Files `held` as the newest body of its scrape, and ends the encoding under way
    /// if it is still this one (`ours`), not one that took its place.
    fn finished(
        &self,
        key: &ScrapeKey,
        held: &Arc<Held>,
        ours: &watch::Receiver<Option<Arc<Held>>>,
    ) {
        let mut scrapes = self.scrapes.lock().unwrap_or_else(PoisonError::into_inner);
        scrapes.largest = scrapes.largest.max(held.encoded.body.len());
        let bodies = scrapes.by_key.entry(key.clone()).or_default();
        if (bodies.encoding.as_ref()).is_some_and(|under_way| under_way.done.same_channel(ours)) {
            bodies.encoding = None;
        }
        bodies.held.push(Arc::downgrade(held));
    }
}
