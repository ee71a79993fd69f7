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

struct Gauge(u32);

/// A method's own attributes inside an instrumented impl block are given
/// `function = "Gauge::.."`, after a trailing comma or through a renamed path too.
#[counted]
impl Gauge {
    #[metrics::timed(crate = metrics, buckets = [0.1],)]
    #[in_progress]
    fn read(&self) -> u32 {
        self.0
    }

    #[counted(function = "Gauge::reset_named")]
    fn reset(&mut self) {
        self.0 = 0;
    }
}

/// A `Result` holding `impl Trait`, left through `?`.
#[counted]
fn parsed(text: &str) -> Result<impl Iterator<Item = u8> + '_, std::num::ParseIntError> {
    let count: usize = text.parse()?;
    Ok(text.bytes().take(count))
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
    let mut gauge = Gauge(3);
    assert_eq!(gauge.read(), 3);
    gauge.reset();
    assert_eq!(parsed("1").map(Iterator::count), Ok(1));
    assert_eq!(one_line(), 3);
    drop(one_line_async());
    assert_eq!(one_line_counted(), 5);
    drop(one_line_boxed("x"));
    assert_eq!(native_only(), 6);
    drop(dual(1));
}

/// One-line bodies: the user's block, inside the generated one, draws no `unused_braces`.
#[timed]
pub fn one_line() -> u32 { 3 }

/// The same, async and counted into a target.
#[counted(ONE_LINE_TOTAL)]
pub async fn one_line_async() -> u32 { 4 }

promlink::declare_metrics! {
    /// One-line calls.
    pub counter ONE_LINE_TOTAL;
}

/// Counted by outcome, one line.
#[counted]
pub fn one_line_counted() -> u32 { 5 }

/// A boxed future built in one line.
#[timed]
pub fn one_line_boxed(s: &'static str) -> std::pin::Pin<Box<dyn std::future::Future<Output = usize>>> { Box::pin(async move { s.len() }) }

/// Native buckets only.
#[timed(native)]
pub fn native_only() -> u32 { 6 }

/// Classic and native buckets.
#[timed(buckets = [0.1, 1.0], native(factor = 1.05, max_buckets = 50))]
pub async fn dual(n: u32) -> u32 { n }
