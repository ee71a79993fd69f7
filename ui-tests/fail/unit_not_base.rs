use promlink::{counted, declare_metrics};

declare_metrics! {
    /// Latency, in milliseconds.
    pub histogram REQUEST_LATENCY_MILLISECONDS buckets [1.0, 10.0, 100.0];
    /// Disk used.
    pub gauge DISK_USED_MB;
}

/// Imports.
#[counted(name = "imports_sec_total")]
fn import() {}

fn main() {
    import();
}
