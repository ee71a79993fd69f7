//! Function shapes the attributes must leave warning-free.

#![deny(warnings)]

use promlink::{counted, in_progress, timed};

extern crate promlink as metrics;

/// Through a renamed dependency.
#[metrics::counted(crate = metrics)]
#[metrics::timed(crate = metrics, buckets = [0.1])]
fn renamed() -> u8 {
    7
}

/// Inner attributes and `use` in the body stay the body's own.
#[counted]
#[timed]
fn with_inner_attribute() -> u32 {
    #![allow(clippy::let_and_return)]
    use std::convert::identity;
    let value = identity(4);
    value
}

/// Never returns.
#[counted]
#[allow(dead_code)]
fn diverges() -> ! {
    panic!("always")
}

/// Where clauses and lifetimes.
#[counted]
#[in_progress]
fn longest<'a, T>(items: &'a [T]) -> Option<&'a T>
where
    T: Ord,
{
    items.iter().max()
}

struct Counter(u32);

impl Counter {
    /// `self: Box<Self>` and an early return without a value.
    #[counted]
    fn consume(self: Box<Self>) {
        if self.0 == 0 {
            return;
        }
        let _ = self.0;
    }
}

/// A `return` inside a closure belongs to the closure.
#[counted]
fn closures(values: &[i32]) -> Vec<i32> {
    values
        .iter()
        .map(|v| {
            if *v < 0 {
                return 0;
            }
            *v
        })
        .collect()
}

fn main() {
    assert_eq!(with_inner_attribute(), 4);
    assert_eq!(longest(&[1, 3, 2]), Some(&3));
    Box::new(Counter(1)).consume();
    assert_eq!(closures(&[-1, 2]), [0, 2]);
    assert_eq!(renamed(), 7);
}
