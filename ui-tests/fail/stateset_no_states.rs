use promlink::declare_metrics;

declare_metrics! {
    /// State.
    pub stateset TASK_STATE states [];
}

fn main() {}
