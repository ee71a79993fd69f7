use promlink::declare_metrics;

declare_metrics! {
    /// State.
    #[metric(name = "task:state")]
    pub stateset TASK_STATE states ["running", "stopped"];
}

fn main() {}
