//! `#[counted]`, `#[timed]` and `#[in_progress]` on every function shape, read back from
//! the global registry: counts, `result` labels, panics, early exits, async durations,
//! cancelled futures, and series present at 0 before any call.

use std::future::Future;
use std::panic::catch_unwind;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use promlink::{counted, declare_metrics, in_progress, timed, Registry};

const MODULE: &str = module_path!();

fn calls(function: &str, result: &str) -> f64 {
    Registry::global()
        .get_sample_value(
            "function_calls_total",
            &[
                ("function", function),
                ("module", MODULE),
                ("result", result),
            ],
        )
        .unwrap_or_else(|| panic!("no series for {function} {result}"))
}

fn duration_count(function: &str) -> f64 {
    Registry::global()
        .get_sample_value(
            "function_duration_seconds_count",
            &[("function", function), ("module", MODULE)],
        )
        .unwrap_or_else(|| panic!("no duration for {function}"))
}

fn duration_sum(function: &str) -> f64 {
    Registry::global()
        .get_sample_value(
            "function_duration_seconds_sum",
            &[("function", function), ("module", MODULE)],
        )
        .unwrap_or_else(|| panic!("no duration for {function}"))
}

fn duration_bucket(function: &str, le: &str) -> f64 {
    Registry::global()
        .get_sample_value(
            "function_duration_seconds_bucket",
            &[("function", function), ("module", MODULE), ("le", le)],
        )
        .unwrap_or_else(|| panic!("no bucket {le} for {function}"))
}

#[derive(Debug)]
struct Failed;

#[counted]
#[allow(dead_code)] // its series exist all the same
fn never_called() {}

#[counted]
#[allow(dead_code)] // proves only that the series exist before any call
fn parse_quantity(text: &str) -> Result<u32, std::num::ParseIntError> {
    let value: u32 = text.trim().parse()?;
    if value == 0 {
        return Ok(1);
    }
    Ok(value)
}

#[test]
fn series_exist_at_zero_before_any_call() {
    for result in ["ok", "error", "panic", "cancelled"] {
        assert_eq!(calls("never_called", result), 0.0);
    }
}

#[test]
fn results_by_type_with_early_return_and_question_mark() {
    assert_eq!(parse_quantity("0").unwrap(), 1); // early `return Ok`
    assert_eq!(parse_quantity(" 7 ").unwrap(), 7);
    assert!(parse_quantity("seven").is_err()); // `?`
    assert_eq!(calls("parse_quantity", "ok"), 2.0);
    assert_eq!(calls("parse_quantity", "error"), 1.0);
}

type Outcome = std::io::Result<()>;

#[counted]
fn through_an_alias(fail: bool) -> Outcome {
    if fail {
        Err(std::io::Error::other("no"))
    } else {
        Ok(())
    }
}

#[test]
fn a_result_alias_is_a_result() {
    through_an_alias(false).unwrap();
    through_an_alias(true).unwrap_err();
    assert_eq!(
        (
            calls("through_an_alias", "ok"),
            calls("through_an_alias", "error")
        ),
        (1.0, 1.0)
    );
}

#[counted]
#[timed]
fn explodes(really: bool) -> u8 {
    assert!(!really, "boom");
    1
}

#[test]
fn panics_are_counted_and_timed() {
    assert!(catch_unwind(|| explodes(true)).is_err());
    assert_eq!(explodes(false), 1);
    assert_eq!(
        (calls("explodes", "panic"), calls("explodes", "ok")),
        (1.0, 1.0)
    );
    assert_eq!(duration_count("explodes"), 2.0);
}

/// Returns a reference borrowed from its argument: a closure around the body would not
/// compile.
#[counted]
#[timed]
fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or(text)
}

#[counted]
fn evens(limit: u32) -> impl Iterator<Item = u32> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[counted]
fn largest<T: PartialOrd + Copy>(items: &[T]) -> Option<T> {
    let mut best = *items.first()?;
    for &item in items {
        if item > best {
            best = item;
        }
    }
    Some(best)
}

#[counted]
unsafe fn read_first(pointer: *const u8) -> u8 {
    // SAFETY: the caller passes a valid pointer.
    unsafe { *pointer }
}

#[counted]
extern "C" fn c_callback(value: i32) -> i32 {
    value * 2
}

#[test]
fn borrowed_returns_impl_trait_generics_unsafe_and_extern() {
    assert_eq!(first_word("hello world"), "hello");
    assert_eq!(evens(5).count(), 3);
    assert_eq!(largest(&[3, 9, 2]), Some(9));
    assert_eq!(largest::<f64>(&[]), None); // `?` on an Option: not a Result, so ok
    assert_eq!(unsafe { read_first([42_u8].as_ptr()) }, 42);
    assert_eq!(c_callback(21), 42);
    for function in ["first_word", "evens", "read_first", "c_callback"] {
        assert_eq!(calls(function, "ok"), 1.0, "{function}");
    }
    assert_eq!(calls("largest", "ok"), 2.0);
    assert_eq!(duration_count("first_word"), 1.0);
}

struct Inventory {
    items: Vec<u32>,
}

#[counted]
impl Inventory {
    fn total(&self) -> u32 {
        self.items.iter().sum()
    }

    fn add(&mut self, item: u32) -> &mut Self {
        self.items.push(item);
        self
    }

    fn into_items(self) -> Vec<u32> {
        self.items
    }

    #[counted(skip)]
    fn untracked(&self) -> usize {
        self.items.len()
    }
}

#[test]
fn methods_on_an_instrumented_impl_block() {
    let mut inventory = Inventory { items: vec![1] };
    inventory.add(2).add(3);
    assert_eq!(inventory.total(), 6);
    assert_eq!(inventory.untracked(), 3);
    assert_eq!(inventory.into_items(), [1, 2, 3]);
    assert_eq!(calls("Inventory::add", "ok"), 2.0);
    assert_eq!(calls("Inventory::total", "ok"), 1.0);
    assert_eq!(calls("Inventory::into_items", "ok"), 1.0);
    let skipped = Registry::global().get_sample_value(
        "function_calls_total",
        &[
            ("function", "Inventory::untracked"),
            ("module", MODULE),
            ("result", "ok"),
        ],
    );
    assert_eq!(skipped, None);
}

/// Left through `?` with no nameable return type: the spelling `Result` decides.
#[counted]
fn digits(text: &str) -> Result<impl Iterator<Item = u32> + '_, Failed> {
    if text.is_empty() {
        Err(Failed)?;
    }
    Ok(text.chars().filter_map(|c| c.to_digit(10)))
}

#[test]
fn a_result_holding_impl_trait_left_through_question_mark_is_an_error() {
    assert_eq!(digits("a1b2").unwrap().sum::<u32>(), 3);
    assert!(digits("").is_err());
    assert_eq!(
        (calls("digits", "ok"), calls("digits", "error")),
        (1.0, 1.0)
    );
}

/// A method's own attribute inside an instrumented impl block is labelled `Type::method`
/// as well, whichever attribute it is.
struct Cache(u32);

#[counted]
impl Cache {
    #[timed]
    fn load(&self) -> u32 {
        self.0
    }

    /// A family of its own, still labelled by the impl block.
    #[counted(name = "cache_stores_total")]
    fn store(&self) -> u32 {
        self.0
    }
}

/// Another type with a method `load` in the same module, instrumented per method: the
/// attribute cannot see the type, so `function` names it.
struct Shelf(u32);

impl Shelf {
    #[counted(function = "Shelf::load")]
    #[timed(function = "Shelf::load")]
    fn load(&self) -> u32 {
        self.0
    }
}

#[test]
fn methods_named_alike_on_two_types_are_two_series() {
    assert_eq!(Cache(1).load() + Shelf(2).load(), 3);
    assert_eq!(Cache(1).store(), 1);
    assert_eq!(calls("Cache::load", "ok"), 1.0);
    assert_eq!(duration_count("Cache::load"), 1.0);
    assert_eq!(calls("Shelf::load", "ok"), 1.0);
    assert_eq!(duration_count("Shelf::load"), 1.0);
    let own = [
        ("function", "Cache::store"),
        ("module", MODULE),
        ("result", "ok"),
    ];
    assert_eq!(
        Registry::global().get_sample_value("cache_stores_total", &own),
        Some(1.0)
    );
    for bare in [
        "function_calls_total",
        "function_duration_seconds_count",
        "cache_stores_total",
    ] {
        let text = Registry::global().encode_to_string(promlink::Format::Text);
        assert!(
            !text.contains(&format!("{bare}{{function=\"load\"")),
            "{text}"
        );
        assert!(
            !text.contains(&format!("{bare}{{function=\"store\"")),
            "{text}"
        );
    }
}

/// A plain trait, instrumented method by method with each kind of receiver.
trait Account {
    fn balance(&self) -> i64;
    fn deposit(&mut self, amount: i64) -> Result<i64, Failed>;
    fn close(self) -> i64;
}

struct Wallet(i64);

impl Account for Wallet {
    #[counted(function = "Wallet::balance")]
    fn balance(&self) -> i64 {
        self.0
    }

    #[counted(function = "Wallet::deposit")]
    #[timed(function = "Wallet::deposit")]
    fn deposit(&mut self, amount: i64) -> Result<i64, Failed> {
        if amount <= 0 {
            return Err(Failed);
        }
        self.0 += amount;
        Ok(self.0)
    }

    #[counted(function = "Wallet::close")]
    fn close(self) -> i64 {
        self.0
    }
}

#[test]
fn trait_methods_with_each_receiver() {
    let mut wallet = Wallet(1);
    assert_eq!(wallet.deposit(2).unwrap(), 3);
    assert!(wallet.deposit(-1).is_err());
    assert_eq!(wallet.balance(), 3);
    assert_eq!(wallet.close(), 3);
    assert_eq!(
        (
            calls("Wallet::deposit", "ok"),
            calls("Wallet::deposit", "error")
        ),
        (1.0, 1.0)
    );
    assert_eq!(duration_count("Wallet::deposit"), 2.0);
    assert_eq!(calls("Wallet::balance", "ok"), 1.0);
    assert_eq!(calls("Wallet::close", "ok"), 1.0);
}

#[counted]
#[timed]
async fn fetch_order(id: u64) -> Result<u64, Failed> {
    tokio::time::sleep(Duration::from_millis(50)).await;
    if id == 0 {
        return Err(Failed);
    }
    Ok(id)
}

#[tokio::test(flavor = "current_thread")]
async fn async_durations_span_the_awaits() {
    assert_eq!(fetch_order(7).await.unwrap(), 7);
    assert!(fetch_order(0).await.is_err());
    assert_eq!(
        (calls("fetch_order", "ok"), calls("fetch_order", "error")),
        (1.0, 1.0)
    );
    assert_eq!(duration_count("fetch_order"), 2.0);
    assert!(
        duration_sum("fetch_order") >= 0.1,
        "{}",
        duration_sum("fetch_order")
    );
    // Each call, not only their sum, lasted the 50 ms it slept: none fell in a bucket
    // below that.
    for le in ["0.005", "0.01", "0.025"] {
        assert_eq!(duration_bucket("fetch_order", le), 0.0, "le={le}");
    }
    assert_eq!(duration_bucket("fetch_order", "+Inf"), 2.0);
}

/// Not an `async fn`, but it returns a future: the future is what is timed and counted.
#[counted]
#[timed]
#[in_progress]
fn fetch_later(id: u64) -> impl Future<Output = Result<u64, Failed>> + Send {
    if id == 99 {
        // An early return of the future: instrumented all the same.
        return std::future::ready(Ok(99)).left_or(id);
    }
    async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if id == 0 {
            return Err(Failed);
        }
        Ok(id)
    }
    .right_or(id)
}

/// The two futures `fetch_later` returns, as one type.
enum Either<L, R> {
    Left(L),
    Right(R),
}

trait IntoEither: Sized {
    fn left_or<R>(self, _: u64) -> Either<Self, R> {
        Either::Left(self)
    }
    fn right_or<L>(self, _: u64) -> Either<L, Self> {
        Either::Right(self)
    }
}

impl<F: Future> IntoEither for F {}

impl<T, L: Future<Output = T> + Unpin, R: Future<Output = T>> Future for Either<L, R> {
    type Output = T;

    fn poll(self: std::pin::Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        // SAFETY: neither variant is moved out of the pinned enum.
        unsafe {
            match self.get_unchecked_mut() {
                Either::Left(left) => std::pin::Pin::new(left).poll(cx),
                Either::Right(right) => std::pin::Pin::new_unchecked(right).poll(cx),
            }
        }
    }
}

/// A boxed future, as `futures::future::BoxFuture` spells it.
#[timed]
fn fetch_boxed(id: u64) -> std::pin::Pin<Box<dyn Future<Output = u64> + Send>> {
    Box::pin(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        id
    })
}

#[tokio::test(flavor = "current_thread")]
async fn a_plain_fn_returning_a_future_is_timed_until_the_future_completes() {
    let in_progress = || {
        Registry::global()
            .get_sample_value(
                "function_calls_in_progress",
                &[("function", "fetch_later"), ("module", MODULE)],
            )
            .unwrap()
    };
    let future = fetch_later(7);
    assert_eq!(in_progress(), 0.0, "not started before it is polled");
    let (value, seen) = tokio::join!(future, async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        in_progress()
    });
    assert_eq!((value.unwrap(), seen), (7, 1.0));
    assert!(fetch_later(0).await.is_err());
    assert_eq!(fetch_later(99).await.unwrap(), 99);
    assert_eq!(in_progress(), 0.0);
    assert_eq!(
        (calls("fetch_later", "ok"), calls("fetch_later", "error")),
        (2.0, 1.0)
    );
    assert_eq!(duration_count("fetch_later"), 3.0);
    // Each of the two slow calls slept 200 ms: a timer of the construction would see
    // microseconds.
    assert!(
        duration_sum("fetch_later") >= 0.4,
        "{}",
        duration_sum("fetch_later")
    );
    assert_eq!(
        duration_bucket("fetch_later", "0.1"),
        1.0,
        "only the early return"
    );

    assert_eq!(fetch_boxed(3).await, 3);
    assert!(
        duration_sum("fetch_boxed") >= 0.1,
        "{}",
        duration_sum("fetch_boxed")
    );
}

#[counted]
#[in_progress]
async fn wait_forever() {
    std::future::pending::<()>().await;
}

#[test]
fn a_future_dropped_before_completion_is_cancelled() {
    let in_progress = || {
        Registry::global()
            .get_sample_value(
                "function_calls_in_progress",
                &[("function", "wait_forever"), ("module", MODULE)],
            )
            .unwrap()
    };
    {
        let mut future = pin!(wait_forever());
        let mut context = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut context).is_pending());
        assert_eq!(in_progress(), 1.0);
    }
    assert_eq!(in_progress(), 0.0);
    assert_eq!(calls("wait_forever", "cancelled"), 1.0);
    assert_eq!(calls("wait_forever", "ok"), 0.0);
    let never_polled = wait_forever();
    drop(never_polled);
    assert_eq!(
        calls("wait_forever", "cancelled"),
        1.0,
        "a future never polled never started"
    );
    assert!(matches!(Poll::<()>::Pending, Poll::Pending));
}

#[async_trait::async_trait]
trait Store {
    async fn load(&self, key: u32) -> Result<u32, Failed>;
    async fn save(&self, key: u32) -> u32;
}

struct Memory;

/// `#[counted]` before `#[async_trait]`: it sees the `async fn`s as written.
#[counted]
#[async_trait::async_trait]
impl Store for Memory {
    async fn load(&self, key: u32) -> Result<u32, Failed> {
        tokio::time::sleep(Duration::from_millis(1)).await;
        if key == 0 {
            Err(Failed)?;
        }
        Ok(key)
    }

    async fn save(&self, key: u32) -> u32 {
        key
    }
}

struct Disk;

/// `#[async_trait]` first: the methods arrive as `Box::pin(async move { .. })`, and a
/// method's own attribute cannot see the type, so `function` names it.
#[async_trait::async_trait]
impl Store for Disk {
    #[counted(function = "Disk::load")]
    #[timed(function = "Disk::load")]
    async fn load(&self, key: u32) -> Result<u32, Failed> {
        tokio::time::sleep(Duration::from_millis(20)).await;
        if key == 0 {
            return Err(Failed);
        }
        Ok(key)
    }

    async fn save(&self, key: u32) -> u32 {
        key
    }
}

#[tokio::test(flavor = "current_thread")]
async fn async_trait_methods_in_either_order() {
    assert_eq!(Memory.load(1).await.unwrap(), 1);
    assert!(Memory.load(0).await.is_err());
    assert_eq!(Memory.save(2).await, 2);
    assert_eq!(
        (calls("Memory::load", "ok"), calls("Memory::load", "error")),
        (1.0, 1.0)
    );
    assert_eq!(calls("Memory::save", "ok"), 1.0);

    assert_eq!(Disk.load(1).await.unwrap(), 1);
    assert!(Disk.load(0).await.is_err());
    assert_eq!(
        (calls("Disk::load", "ok"), calls("Disk::load", "error")),
        (1.0, 1.0)
    );
    assert!(
        duration_sum("Disk::load") >= 0.04,
        "the durations span the awaits: {}",
        duration_sum("Disk::load")
    );
}

declare_metrics! {
    /// Total HTTP requests.
    pub counter HTTP_REQUESTS_TOTAL { method: &str, endpoint: &str, status: u16 };
    /// Request duration in seconds.
    pub histogram HTTP_REQUEST_DURATION_SECONDS { endpoint: &str } buckets [0.01, 0.1, 1];
    /// Requests being served.
    pub gauge REQUESTS_IN_FLIGHT;
    /// Orders processed.
    pub counter ORDERS_TOTAL;
}

#[counted(HTTP_REQUESTS_TOTAL, labels(method = "GET", endpoint = path, status = 200))]
#[timed(HTTP_REQUEST_DURATION_SECONDS, labels(endpoint = path))]
#[in_progress(REQUESTS_IN_FLIGHT)]
fn handle(path: &str) -> usize {
    assert_eq!(REQUESTS_IN_FLIGHT.get(), 1.0);
    path.len()
}

#[counted(ORDERS_TOTAL)]
fn process_order() {}

/// A metric of its own, with help from this doc comment.
#[counted(name = "imports_total")]
fn import() {}

#[test]
fn target_metrics_with_label_values_from_arguments() {
    handle("/api/orders");
    handle("/api/orders");
    process_order();
    import();
    let registry = Registry::global();
    let labels = [
        ("method", "GET"),
        ("endpoint", "/api/orders"),
        ("status", "200"),
    ];
    assert_eq!(
        registry.get_sample_value("http_requests_total", &labels),
        Some(2.0)
    );
    assert_eq!(
        registry.get_sample_value(
            "http_request_duration_seconds_count",
            &[("endpoint", "/api/orders")]
        ),
        Some(2.0)
    );
    assert_eq!(REQUESTS_IN_FLIGHT.get(), 0.0);
    assert_eq!(ORDERS_TOTAL.get(), 1.0);
    let own = [("function", "import"), ("module", MODULE), ("result", "ok")];
    assert_eq!(registry.get_sample_value("imports_total", &own), Some(1.0));
    let text = registry.encode_to_string(promlink::Format::Text);
    assert!(
        text.contains(
            "# HELP imports_total A metric of its own, with help from this doc comment.\n"
        ),
        "{text}"
    );
}

#[test]
fn the_registry_is_consistent() {
    Registry::global()
        .check()
        .expect("no conflicts among the generated metrics");
}

/// A future-returning `fn` whose label value comes from an argument the future then
/// takes: the series is looked up when the call starts, before the body moves it.
#[timed(HTTP_REQUEST_DURATION_SECONDS, labels(endpoint = &path))]
fn fetch_path(path: String) -> impl Future<Output = usize> {
    async move { path.len() }
}

/// `+ Unpin`: an `async` block is not, so the instrumented future is boxed.
#[counted]
fn ready_unpin() -> impl Future<Output = u32> + Unpin {
    std::future::ready(3)
}

#[tokio::test(flavor = "current_thread")]
async fn future_returning_fns_with_labels_from_arguments_and_unpin() {
    assert_eq!(fetch_path("/moved".to_owned()).await, 6);
    assert_eq!(
        HTTP_REQUEST_DURATION_SECONDS
            .labels("/moved")
            .snapshot()
            .count,
        1
    );
    assert_eq!(ready_unpin().await, 3);
    assert_eq!(calls("ready_unpin", "ok"), 1.0);
}
