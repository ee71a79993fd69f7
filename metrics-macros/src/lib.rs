//! The procedural macros of promlink: `declare_metrics!`, `#[counted]`, `#[timed]` and
//! `#[in_progress]`, parsed into a typed model, validated, then expanded into `static`
//! metrics of `promlink-core`. They are being built (issue 3); until then this crate
//! exports nothing, and `promlink-core` is used by hand.
