//! Each thread's turn: a number handed out to threads in the order they first ask, so that
//! threads spread over the stripes of a [`ShardedCounter`](crate::ShardedCounter) and the
//! slots of a histogram instead of meeting on one cache line.

use core::cell::Cell;
use core::sync::atomic::{AtomicUsize, Ordering};

/// This thread's turn (0, 1, 2, ... in order of first use; 0 while the thread exits).
#[inline]
pub(crate) fn thread_turn() -> usize {
    thread_local! {
        static TURN: Cell<usize> = const { Cell::new(usize::MAX) };
    }
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    TURN.try_with(|turn| {
        let mut index = turn.get();
        if index == usize::MAX {
            // Never `usize::MAX`, the mark of a turn not yet taken; callers take it modulo
            // their width.
            index = NEXT.fetch_add(1, Ordering::Relaxed) & (usize::MAX >> 1);
            turn.set(index);
        }
        index
    })
    .unwrap_or(0)
}
