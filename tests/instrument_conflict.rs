//! Two types in one module, each with a method `load` instrumented by its own attribute
//! and no `function = ".."`: the attribute cannot see the type, so both are labelled
//! `load`, the same series twice. The registry keeps the first, leaves out the second, and
//! `Registry::check()` names both sites.

use promlink::{counted, Format, Registry};

struct Cache(u32);

impl Cache {
    #[counted]
    fn load(&self) -> u32 {
        self.0
    }
}

struct Shelf(u32);

impl Shelf {
    #[counted]
    fn load(&self) -> u32 {
        self.0
    }
}

#[test]
fn the_same_series_from_two_methods_is_a_conflict_naming_both() {
    assert_eq!(Cache(1).load() + Shelf(2).load(), 3);
    let errors = Registry::global().check().expect_err("one conflict");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let error = errors[0].to_string();
    let file = file!();
    assert_eq!(errors[0].name(), "function_calls");
    assert!(error.contains("the same series"), "{error}");
    assert!(
        error.contains(&format!("{file}:11:")),
        "first site in: {error}"
    );
    assert!(
        error.contains(&format!("{file}:20:")),
        "second site in: {error}"
    );
    // The first definition is the one exported, once.
    let text = Registry::global().encode_to_string(Format::Text);
    assert_eq!(
        text.matches("function_calls_total{function=\"load\"")
            .count(),
        4,
        "one series per result: {text}"
    );
}
