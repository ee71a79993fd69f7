//! Scrapes that share one encoded body, so that the memory of concurrent scrapes stays
//! bounded however many clients ask and however slowly they read.
//!
//! A scrape that arrives while the same scrape (same format, compression and `name[]`) is
//! being encoded waits for that encoding and shares its bytes. And while
//! [`HELD_PER_SCRAPE`] bodies of one scrape are still held (written to clients that have
//! not taken them yet), a new scrape shares the newest of them instead of encoding a
//! third, as long as that one is fresher than the client's own timeout.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Instant;

use bytes::Bytes;
use tokio::sync::watch;

use crate::http::{Encoded, ScrapeKey, ScrapeRequest};
use crate::Registry;

/// Bodies of one scrape held at once before new scrapes share the newest.
const HELD_PER_SCRAPE: usize = 2;

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

#[derive(Default)]
struct Bodies {
    /// The encoding under way, to wait for.
    encoding: Option<watch::Receiver<Option<Arc<Held>>>>,
    /// The bodies encoded before, alive while some client is still being sent one.
    held: Vec<Weak<Held>>,
}

/// Every scrape's encoding under way and bodies held, by what the scrape asks for.
#[derive(Default)]
pub(crate) struct SharedBodies {
    by_scrape: Mutex<HashMap<ScrapeKey, Bodies>>,
}

impl SharedBodies {
    /// The answer to `scrape`: shared with a scrape under way or held, or encoded anew (on
    /// a blocking thread: encoding and collectors never run on the server's I/O thread).
    /// `None` when the encoding was lost (it panicked).
    pub(crate) async fn answer(
        self: &Arc<Self>,
        registry: &'static Registry,
        scrape: &ScrapeRequest,
    ) -> Option<Arc<Held>> {
        let mut waiting = {
            let mut by_scrape = self
                .by_scrape
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            // Forget the scrapes that nothing holds any more (`name[]` can make many).
            by_scrape.retain(|_, bodies| {
                bodies.held.retain(|held| held.strong_count() > 0);
                bodies.encoding.is_some() || !bodies.held.is_empty()
            });
            let bodies = by_scrape.entry(scrape.key.clone()).or_default();
            // An encoding whose sender is gone panicked: start another.
            let under_way = bodies
                .encoding
                .as_ref()
                .filter(|encoding| encoding.has_changed().is_ok());
            if let Some(encoding) = under_way {
                encoding.clone()
            } else {
                let newest = bodies
                    .held
                    .iter()
                    .filter_map(Weak::upgrade)
                    .max_by_key(|h| h.at);
                if let Some(newest) = newest.filter(|newest| {
                    bodies.held.len() >= HELD_PER_SCRAPE && newest.at.elapsed() < scrape.timeout
                }) {
                    return Some(newest);
                }
                let (done, waiting) = watch::channel(None);
                bodies.encoding = Some(waiting.clone());
                let (shared, scrape) = (Arc::clone(self), scrape.clone());
                tokio::task::spawn_blocking(move || {
                    let held = Arc::new(Held {
                        encoded: scrape.encode(registry),
                        at: Instant::now(),
                    });
                    shared.finished(&scrape.key, &held);
                    let _ = done.send(Some(held));
                });
                waiting
            }
        };
        let answer = waiting.wait_for(Option::is_some).await.ok()?;
        answer.clone()
    }

    /// Files `held` as the newest body of its scrape, and ends the encoding under way.
    fn finished(&self, key: &ScrapeKey, held: &Arc<Held>) {
        let mut by_scrape = self
            .by_scrape
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let bodies = by_scrape.entry(key.clone()).or_default();
        bodies.encoding = None;
        bodies.held.push(Arc::downgrade(held));
    }
}
