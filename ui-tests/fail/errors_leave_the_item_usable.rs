//! After a macro's error, the item it was given is still there: using it adds no error
//! of its own ("cannot find function", "cannot find value").

use promlink::{counted, declare_metrics, timed};

declare_metrics! {
    /// Jobs.
    pub counter JOBS { queue: &str };
}

#[counted(bogus = 1)]
fn work(input: u32) -> u32 {
    input + 1
}

struct Worker;

#[timed(buckets = [1.0, 0.5])]
impl Worker {
    fn run(&self) -> u32 {
        work(1)
    }
}

fn main() {
    JOBS.labels("default").inc();
    assert_eq!(work(1), 2);
    assert_eq!(Worker.run(), 2);
}
