//! Catching the panics of user code that runs at scrape time (collectors, callback
//! gauges) without the panic hook printing a message and a backtrace at every scrape:
//! the registry reports each failure itself, once per interval ([`crate::health`]).

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    /// Set while this thread runs user code under [`catch`].
    static QUIET: Cell<bool> = const { Cell::new(false) };
    /// What the hook saw of the last quiet panic: its message and where it happened.
    static LAST: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`, turning a panic into `Err` with its message and location. While `f` runs,
/// the panic hook stays silent for this thread alone; every other panic of the process
/// goes to the hook that was installed before (the default one prints it as usual).
///
/// A hook installed later with `std::panic::set_hook` replaces this one: then the
/// panics are still caught, but printed by that hook. Built with `panic = "abort"`, a
/// panic cannot be caught: the previous hook prints it, and the process ends.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    install_hook();
    let was_quiet = QUIET.replace(true);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.set(was_quiet);
    result.map_err(|payload| {
        let message = payload
            .downcast_ref::<&str>()
            .map(ToString::to_string)
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".to_owned());
        match LAST.take() {
            Some(location) => format!("{message} (at {location})"),
            None => message,
        }
    })
}

/// Puts the quiet hook in front of the one installed now, once for the process. Called
/// when a registry is made (early, before a user's own hook is likely to change), and
/// again before each catch in case no registry was made first.
pub(crate) fn install_hook() {
    static INSTALLED: Once = Once::new();
    // `take_hook` panics on a thread that is already panicking (a scrape in a `Drop`
    // during unwinding): then leave the hook as it is; the panic is still caught.
    if std::thread::panicking() {
        return;
    }
    INSTALLED.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            // With `panic = "abort"` nothing is caught: the message is all there is.
            if QUIET.get() && cfg!(panic = "unwind") {
                let location = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()));
                LAST.set(location);
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_and_the_place() {
        let caught = catch(|| panic!("collector exploded")).unwrap_err();
        assert!(caught.starts_with("collector exploded (at "), "{caught}");
        assert!(caught.contains("panics.rs:"), "{caught}");
        let owned = catch(|| panic!("{} and {}", 1, 2)).unwrap_err();
        assert!(owned.starts_with("1 and 2"), "{owned}");
        assert_eq!(catch(|| 7), Ok(7));
        // Quiet only inside: the flag is back to what it was.
        assert!(!QUIET.get());
    }
}
