//! Freeing what lock-free readers may still hold: replaced tables and removed children of
//! families, replaced exemplars.

use std::sync::OnceLock;

use seize::Collector;

/// The process's one reclaimer: frees what was retired once no guard from before its
/// retirement remains. One for everything, as a collector costs about 16 KiB (one per
/// family was 16 MiB for a thousand families).
pub(crate) fn collector() -> &'static Collector {
    static COLLECTOR: OnceLock<Collector> = OnceLock::new();
    COLLECTOR.get_or_init(Collector::new)
}
