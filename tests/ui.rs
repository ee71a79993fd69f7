//! The macros' compile errors, each a `ui-tests/fail/*.rs` case with its reviewed
//! `.stderr`, and the shapes that must compile, in `ui-tests/pass/`.
//! `TRYBUILD=overwrite cargo test --all-features --test ui` regenerates the snapshots: review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("ui-tests/pass/*.rs");
    cases.compile_fail("ui-tests/fail/*.rs");
    // Cases that need the request metrics layer.
    if cfg!(feature = "tower") {
        cases.compile_fail("ui-tests/fail-tower/*.rs");
    }
}
