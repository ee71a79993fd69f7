//! The registry: every metric of the program, found at link time, plus those registered
//! at run time; and the conflicts between them.

use core::fmt;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Instant;

use linkme::distributed_slice;

use crate::collector::{Collector, MetricFamily};
use crate::descriptor::{MetricType, Site};
use crate::encoding::{
    begin_family, end_family, render_label_pairs, Format, Header, SeriesContext, SeriesEncoder,
};
use crate::gather::{gather, Slot};
use crate::health::{Failure, Health, Reason, Subject};
use crate::metric::Collect;

/// One element of the link-time slice: a `static` metric and the module that registered it.
#[derive(Clone, Copy)]
pub struct Registration {
    metric: &'static dyn Collect,
    module: &'static str,
}

impl Registration {
    /// Used by [`register!`](crate::register) and the macros.
    pub const fn new(metric: &'static dyn Collect, module: &'static str) -> Self {
        Registration { metric, module }
    }
}

/// Every `static` metric of the program, gathered by the linker. The version in the name
/// keeps two incompatible promlink versions in one binary from sharing (and corrupting)
/// one section.
#[distributed_slice]
pub static PROMLINK_METRICS_V0_1: [Registration];

/// Collectors the global registry adds when it is built: a function making each, put in
/// this slice by [`register_collector!`](crate::register_collector) (promlink's process
/// collector arrives this way).
#[distributed_slice]
pub static PROMLINK_COLLECTORS_V0_1: [fn() -> Arc<dyn Collector>];

/// Adds a collector to the global registry at link time: `make` is called once, when the
/// registry is first used.
///
/// ```
/// use std::sync::Arc;
/// use promlink_core::{CollectError, Collector, MetricFamily, MetricType, SeriesValue};
///
/// struct Uptime;
///
/// impl Collector for Uptime {
///     fn collect(&self) -> Result<Vec<MetricFamily>, CollectError> {
///         let mut uptime = MetricFamily::new("uptime_seconds", "Seconds since start.", MetricType::Gauge, &[])?;
///         let seconds = promlink_core::unix_time() - promlink_core::process_start_time();
///         uptime.add(&[], SeriesValue::Gauge(seconds))?;
///         Ok(vec![uptime])
///     }
/// }
///
/// fn uptime() -> Arc<dyn Collector> {
///     Arc::new(Uptime)
/// }
/// promlink_core::register_collector!(uptime);
///
/// assert!(promlink_core::Registry::global().get_sample_value("uptime_seconds", &[]).is_some());
/// ```
#[macro_export]
macro_rules! register_collector {
    ($make:path) => {
        const _: () = {
            #[$crate::__private::linkme::distributed_slice(
                $crate::__private::PROMLINK_COLLECTORS_V0_1
            )]
            #[linkme(crate = $crate::__private::linkme)]
            static COLLECTOR: fn() -> ::std::sync::Arc<dyn $crate::Collector> = $make;
        };
    };
}

/// Registers `static` metrics in the global registry, at link time: no call at start-up,
/// no lazy initialisation.
///
/// ```
/// use promlink_core::{Gauge, Metric};
/// static TEMPERATURE: Metric<Gauge> = Metric::new("temperature_celsius", "Temperature.", Gauge::new());
/// static PRESSURE: Metric<Gauge> = Metric::new("pressure_pascals", "Pressure.", Gauge::new());
/// promlink_core::register!(TEMPERATURE, PRESSURE);
/// ```
#[macro_export]
macro_rules! register {
    ($($metric:path),+ $(,)?) => {$(
        const _: () = {
            #[$crate::__private::linkme::distributed_slice($crate::__private::PROMLINK_METRICS_V0_1)]
            #[linkme(crate = $crate::__private::linkme)]
            static REGISTRATION: $crate::__private::Registration =
                $crate::__private::Registration::new(&$metric, ::core::module_path!());
        };
    )+};
}

#[derive(Clone)]
enum Source {
    Static(&'static dyn Collect),
    Shared(Arc<dyn Collect>),
}

#[derive(Clone)]
struct Entry {
    source: Source,
    site: Site,
    /// The constant labels, rendered once.
    const_labels: Arc<[u8]>,
    /// Every label name of its samples, constant and variable.
    label_names: Arc<[&'static str]>,
    /// When its own series began: the process start for a static, the registration for a
    /// metric created at run time.
    created: f64,
    /// The constant labels sorted by name and rendered: what tells apart entries that
    /// share a family.
    series_key: Box<[u8]>,
}

impl Entry {
    fn new(source: Source, module: &'static str) -> Entry {
        let metric = match &source {
            Source::Static(m) => *m,
            Source::Shared(m) => &**m,
        };
        let d = metric.descriptor();
        let mut rendered = Vec::new();
        render_label_pairs(
            &mut rendered,
            Format::Text,
            d.const_labels().iter().copied(),
        );
        let mut sorted = d.const_labels().to_vec();
        sorted.sort_unstable();
        let mut series_key = Vec::new();
        render_label_pairs(&mut series_key, Format::Text, sorted);
        let label_names = d
            .const_labels()
            .iter()
            .map(|(n, _)| *n)
            .chain(metric.label_names().iter().copied())
            .collect();
        let created = match source {
            Source::Static(_) => crate::time::process_start_time(),
            Source::Shared(_) => crate::time::unix_time(),
        };
        Entry {
            label_names,
            created,
            site: Site {
                location: d.location(),
                module,
            },
            const_labels: rendered.into(),
            series_key: series_key.into(),
            source,
        }
    }

    fn metric(&self) -> &dyn Collect {
        match &self.source {
            Source::Static(m) => *m,
            Source::Shared(m) => &**m,
        }
    }

    fn name(&self) -> &'static str {
        self.metric().descriptor().name()
    }

    /// The constant and the variable label names, each sorted: what every entry of one
    /// family must agree on.
    fn label_shape(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        let m = self.metric();
        let mut constant: Vec<_> = m
            .descriptor()
            .const_labels()
            .iter()
            .map(|(n, _)| *n)
            .collect();
        let mut variable = m.label_names().to_vec();
        constant.sort_unstable();
        variable.sort_unstable();
        (constant, variable)
    }
}

/// Why a metric could not join the registry.
#[derive(Debug, Clone)]
pub struct RegistrationError {
    name: String,
    reason: String,
    first: Site,
    second: Option<Site>,
}

impl RegistrationError {
    /// The family name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for RegistrationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.second {
            Some(second) => write!(
                f,
                "metric `{}` is defined twice, {}: first at {}, again at {}",
                self.name, self.reason, self.first, second
            ),
            None => write!(
                f,
                "metric `{}` at {}: {}",
                self.name, self.first, self.reason
            ),
        }
    }
}

impl std::error::Error for RegistrationError {}

/// What went wrong while gathering; every other family was still written.
#[derive(Debug, Clone, Default)]
pub struct GatherError {
    problems: Vec<String>,
}

impl GatherError {
    fn from_failures(failures: &[Failure]) -> GatherError {
        GatherError {
            problems: failures.iter().map(Failure::describe).collect(),
        }
    }
}

/// Whether `PROMETHEUS_DISABLE_CREATED_SERIES` asks for OpenMetrics without `_created`
/// series, read once, as Python reads it (`true`, `t` or `1`, in any case).
fn created_series_disabled() -> bool {
    static DISABLED: OnceLock<bool> = OnceLock::new();
    *DISABLED.get_or_init(|| {
        std::env::var("PROMETHEUS_DISABLE_CREATED_SERIES")
            .is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "t" | "1"))
    })
}

/// What one scrape asks of [`Registry::encode_scrape`]: a format, the families wanted
/// (all by default), when the collectors must have answered (no deadline by default:
/// each is waited for), and whether OpenMetrics carries `_created` series.
///
/// ```
/// use std::time::{Duration, Instant};
/// use promlink_core::{Format, Registry, Scrape};
///
/// let scrape = Scrape::new(Format::OpenMetrics)
///     .names(&["process_cpu_seconds_total"])
///     .deadline(Instant::now() + Duration::from_secs(2));
/// let mut out = Vec::new();
/// let _ = Registry::new().encode_scrape(&scrape, &mut out);
/// assert_eq!(out, b"# EOF\n");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Scrape<'a> {
    format: Format,
    names: &'a [&'a str],
    deadline: Option<Instant>,
    created_series: bool,
}

impl<'a> Scrape<'a> {
    /// Every family, in `format`, collectors waited for, `_created` series written in
    /// OpenMetrics unless the environment variable `PROMETHEUS_DISABLE_CREATED_SERIES`
    /// is `true`, `t` or `1` (in any case), as in Python's client.
    pub fn new(format: Format) -> Self {
        if format != Format::Text {
            // From now on, the calls the attributes record take exemplars.
            crate::exemplar_source::exemplars_wanted();
        }
        Scrape {
            format,
            names: &[],
            deadline: None,
            created_series: !created_series_disabled(),
        }
    }

    /// Whether OpenMetrics carries the `_created` series of counters, histograms and
    /// summaries. Prometheus 2.x keeps each as a series of its own, one more per series
    /// counted; without them it loses only the creation times. Protobuf carries them as
    /// a field of the series, not a series, and always does.
    ///
    /// ```
    /// use promlink_core::{Counter, Format, Metric, Registry, Scrape};
    /// use std::sync::Arc;
    ///
    /// let registry = Registry::new();
    /// registry.register(Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new()))).unwrap();
    /// let mut out = Vec::new();
    /// registry.encode_scrape(&Scrape::new(Format::OpenMetrics).created_series(false), &mut out).unwrap();
    /// assert!(!String::from_utf8(out).unwrap().contains("_created"));
    /// ```
    #[must_use]
    pub fn created_series(self, created_series: bool) -> Self {
        Scrape {
            created_series,
            ..self
        }
    }

    /// Only the families named (as the `name[]` parameter of a scrape selects them): by
    /// family name or by the name the text format gives it (`http_requests_total` for the
    /// counter family `http_requests`). Empty: every family.
    #[must_use]
    pub fn names(self, names: &'a [&'a str]) -> Self {
        Scrape { names, ..self }
    }

    /// Collectors run each on a thread of its own, and those that have not answered by
    /// `deadline` are left out of this scrape (and not called again while they still
    /// run); everything else is written.
    #[must_use]
    pub fn deadline(self, deadline: Instant) -> Self {
        Scrape {
            deadline: Some(deadline),
            ..self
        }
    }

    /// Whether the family `name` of type `kind` is wanted.
    fn wants(&self, name: &str, kind: MetricType) -> bool {
        self.names.is_empty()
            || self.names.iter().any(|wanted| {
                *wanted == name
                    || kind
                        .family_suffix()
                        .is_some_and(|suffix| wanted.strip_suffix(suffix) == Some(name))
            })
    }
}

impl GatherError {
    /// One line per problem.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }
}

impl fmt::Display for GatherError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("; "))
    }
}

impl std::error::Error for GatherError {}

/// A set of metrics to expose.
///
/// [`Registry::global`] holds every `static` registered with
/// [`register!`](crate::register) (or by the macros) anywhere in the program; separate
/// registries from [`Registry::new`] serve tests and isolation.
///
/// ```
/// use std::sync::Arc;
/// use promlink_core::{Counter, Format, Metric, Registry};
///
/// let registry = Registry::new();
/// let jobs = Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new()));
/// registry.register(jobs.clone()).unwrap();
/// jobs.inc();
/// assert_eq!(
///     registry.encode_to_string(Format::Text),
///     "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 1.0\n"
/// );
/// ```
pub struct Registry {
    entries: RwLock<Entries>,
    collectors: RwLock<Vec<Arc<Slot>>>,
    /// Conflicts found among the link-time metrics.
    startup_errors: Vec<RegistrationError>,
    /// What failed in scrapes: promlink's own families, and stderr.
    health: Health,
}

impl Default for Registry {
    fn default() -> Self {
        // Early, so that a hook the program installs later wraps ours, not the reverse.
        crate::panics::install_hook();
        Registry {
            entries: RwLock::default(),
            collectors: RwLock::default(),
            startup_errors: Vec::new(),
            health: Health::default(),
        }
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = read(&self.entries).list.iter().map(Entry::name).collect();
        f.debug_struct("Registry")
            .field("metrics", &names)
            .field("errors", &self.startup_errors)
            .finish_non_exhaustive()
    }
}

/// The registered metrics, sorted by family name (entries sharing a name agree: checked
/// when added), and every sample name they write, mapped to its family.
#[derive(Default)]
struct Entries {
    list: Vec<Entry>,
    samples: HashMap<String, &'static str>,
    /// Each entry's family name and constant labels ([`Entry::series_key`]), and its site.
    series: HashMap<(&'static str, Box<[u8]>), Site>,
}

impl Entries {
    /// The lookups refused past their cardinality limit, by family (those with any).
    fn refused(&self) -> BTreeMap<&'static str, u64> {
        let mut refused = BTreeMap::new();
        for entry in &self.list {
            let n = entry.metric().refused_series();
            if n > 0 {
                *refused.entry(entry.name()).or_default() += n;
            }
        }
        refused
    }

    fn group(&self, name: &str) -> core::ops::Range<usize> {
        let start = self.list.partition_point(|e| e.name() < name);
        let len = self.list[start..]
            .iter()
            .take_while(|e| e.name() == name)
            .count();
        start..start + len
    }
}

/// The sample names a family writes.
fn sample_names(name: &str, kind: crate::MetricType) -> impl Iterator<Item = String> + '_ {
    kind.sample_suffixes()
        .iter()
        .map(move |suffix| format!("{name}{suffix}"))
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry of every metric registered at link time, built on first use.
    ///
    /// When two link-time metrics conflict, the one defined first (by file and line) is
    /// kept and the other is left out: [`check`](Self::check) reports both sites (call it
    /// in a test), every [`encode`](Self::encode) returns the conflict among its errors,
    /// the exposition shows `promlink_definition_conflicts{metric="..."}`, and stderr has
    /// a line naming both sites every few minutes. Everything else is served.
    pub fn global() -> &'static Registry {
        static GLOBAL: OnceLock<Registry> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let mut registrations: Vec<&Registration> = PROMLINK_METRICS_V0_1.iter().collect();
            let location = |r: &Registration| {
                let l = r.metric.descriptor().location();
                (l.file(), l.line(), l.column())
            };
            registrations.sort_by(|a, b| location(a).cmp(&location(b)));
            let mut registry = Registry::new();
            for r in registrations {
                if let Err(e) = registry.add(Entry::new(Source::Static(r.metric), r.module)) {
                    registry.startup_errors.push(e);
                }
            }
            for make in PROMLINK_COLLECTORS_V0_1 {
                registry.register_collector(make());
            }
            registry
        })
    }

    /// Every conflict found among the link-time metrics: call it at start-up or in a test.
    ///
    /// # Errors
    ///
    /// One error per definition that was left out, naming both sites.
    pub fn check(&self) -> Result<(), Vec<RegistrationError>> {
        if self.startup_errors.is_empty() {
            Ok(())
        } else {
            Err(self.startup_errors.clone())
        }
    }

    /// Adds a `static` metric.
    ///
    /// # Errors
    ///
    /// When it conflicts with a metric already registered under its name (different type,
    /// help, unit or labels, or the same series twice).
    pub fn register_static(&self, metric: &'static dyn Collect) -> Result<(), RegistrationError> {
        self.add(Entry::new(Source::Static(metric), ""))
    }

    /// Adds a metric created at run time.
    ///
    /// # Errors
    ///
    /// As [`register_static`](Self::register_static).
    pub fn register(&self, metric: Arc<dyn Collect>) -> Result<(), RegistrationError> {
        self.add(Entry::new(Source::Shared(metric), ""))
    }

    /// Removes a metric added with [`register`](Self::register); returns whether it was there.
    pub fn unregister(&self, metric: &Arc<dyn Collect>) -> bool {
        let mut entries = write(&self.entries);
        let Some(index) = entries
            .list
            .iter()
            .position(|e| matches!(&e.source, Source::Shared(m) if Arc::ptr_eq(m, metric)))
        else {
            return false;
        };
        let removed = entries.list.remove(index);
        entries
            .series
            .remove(&(removed.name(), removed.series_key.clone()));
        if entries.group(removed.name()).is_empty() {
            let kind = removed.metric().descriptor().kind();
            for sample in sample_names(removed.name(), kind) {
                entries.samples.remove(&sample);
            }
        }
        true
    }

    /// Adds a collector, called at every scrape.
    pub fn register_collector(&self, collector: Arc<dyn Collector>) {
        write(&self.collectors).push(Slot::new(collector));
    }

    fn add(&self, entry: Entry) -> Result<(), RegistrationError> {
        let name = entry.name();
        let own_error = |reason: &str| RegistrationError {
            name: name.to_owned(),
            reason: reason.to_owned(),
            first: entry.site,
            second: None,
        };
        let (constant, variable) = entry.label_shape();
        if constant.iter().any(|c| variable.contains(c)) {
            return Err(own_error("a constant label is also a variable label"));
        }
        if entry.metric().descriptor().kind() == MetricType::StateSet
            && (constant.contains(&name) || variable.contains(&name))
        {
            return Err(own_error(
                "a state set's label is its name, so no other label may have it",
            ));
        }
        let mut entries = write(&self.entries);
        let group = entries.group(name);
        // Entries of one family all agree, so the first speaks for them.
        if let Some(existing) = entries.list.get(group.start).filter(|_| !group.is_empty()) {
            if let Some(reason) = conflict(existing, &entry) {
                return Err(RegistrationError {
                    name: name.to_owned(),
                    reason,
                    first: existing.site,
                    second: Some(entry.site),
                });
            }
        }
        let series = (name, entry.series_key.clone());
        if let Some(existing) = entries.series.get(&series) {
            return Err(RegistrationError {
                name: name.to_owned(),
                reason:
                    "with the same series (give each definition its own name or constant labels)"
                        .to_owned(),
                first: *existing,
                second: Some(entry.site),
            });
        }
        if group.is_empty() {
            let kind = entry.metric().descriptor().kind();
            for sample in sample_names(name, kind) {
                if let Some(other) = entries.samples.get(&sample) {
                    let other_site = entries.list[entries.group(other).start].site;
                    return Err(RegistrationError {
                        name: name.to_owned(),
                        reason: format!("as its sample `{sample}` is also a sample of `{other}`"),
                        first: other_site,
                        second: Some(entry.site),
                    });
                }
            }
            entries
                .samples
                .extend(sample_names(name, kind).map(|s| (s, name)));
        }
        entries.series.insert(series, entry.site);
        entries.list.insert(group.end, entry);
        Ok(())
    }

    /// Writes every family in `format` to `out`, sorted by name, ending with `# EOF` in
    /// OpenMetrics.
    ///
    /// # Errors
    ///
    /// When a collector failed or panicked, or produced a family whose name is taken, and
    /// when link-time metrics conflict ([`check`](Self::check)). The rest is written all
    /// the same, and stays a valid exposition.
    pub fn encode(&self, format: Format, out: &mut Vec<u8>) -> Result<(), GatherError> {
        self.encode_selected(format, out, &[])
    }

    /// [`encode`](Self::encode), limited to the families named in `names` (all when it is
    /// empty), as the `name[]` parameter of a scrape selects them. A name matches a
    /// family by its family name or by the name the text format gives it
    /// (`http_requests_total` for the counter family `http_requests`).
    ///
    /// # Errors
    ///
    /// As [`encode`](Self::encode), for the families selected.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use promlink_core::{Counter, Format, Gauge, Metric, Registry};
    ///
    /// let registry = Registry::new();
    /// registry.register(Arc::new(Metric::new("jobs_total", "Jobs.", Counter::new()))).unwrap();
    /// registry.register(Arc::new(Metric::new("queue", "Queue.", Gauge::new()))).unwrap();
    /// let mut out = Vec::new();
    /// registry.encode_selected(Format::Text, &mut out, &["jobs_total"]).unwrap();
    /// assert_eq!(String::from_utf8(out).unwrap(), "# HELP jobs_total Jobs.\n# TYPE jobs_total counter\njobs_total 0.0\n");
    /// ```
    pub fn encode_selected(
        &self,
        format: Format,
        out: &mut Vec<u8>,
        names: &[&str],
    ) -> Result<(), GatherError> {
        self.encode_scrape(&Scrape::new(format).names(names), out)
    }

    /// Writes what `scrape` asks for to `out`: [`encode_selected`](Self::encode_selected),
    /// with a deadline for collectors when it has one.
    ///
    /// One failure costs only what it concerns: a collector that fails, panics or misses
    /// the deadline loses its own families, a callback that panics its own family, a
    /// conflicting definition itself. The rest is written, and stays a valid exposition.
    /// Each failure is counted in `promlink_collector_failures_total{collector,reason}` or
    /// `promlink_metric_failures_total{metric,reason}` (shown from the scrape that found
    /// it on, or the next one for a panic while encoding), and written to stderr once
    /// every few minutes; a panic's message and place are caught, without the panic
    /// hook's output or a backtrace.
    ///
    /// # Errors
    ///
    /// Every failure of the families selected, with its text: for logs and tests, not for
    /// clients.
    pub fn encode_scrape(&self, scrape: &Scrape<'_>, out: &mut Vec<u8>) -> Result<(), GatherError> {
        let format = scrape.format;
        // A conflict is reported when its name is selected, whichever type it is written as.
        let conflict_selected = |name: &str| {
            scrape.wants(name, MetricType::Counter) || scrape.wants(name, MetricType::Info)
        };
        let mut failures: Vec<Failure> = self
            .startup_errors
            .iter()
            .filter(|conflict| conflict_selected(conflict.name()))
            .map(|conflict| Failure {
                subject: Subject::Definition(conflict.name().to_owned()),
                reason: Reason::Conflict,
                detail: conflict.to_string(),
            })
            .collect();
        let slots = read(&self.collectors).clone();
        let (collected, collector_failures) = gather(&slots, scrape.deadline);
        failures.extend(collector_failures);
        let entries_guard = read(&self.entries);
        // A collected family whose samples another family writes is left out.
        let mut samples_taken = HashSet::new();
        let mut clash = |family: &MetricFamily| {
            let samples: Vec<String> = sample_names(family.name(), family.kind()).collect();
            let taken = samples
                .iter()
                .find(|s| entries_guard.samples.contains_key(*s) || samples_taken.contains(*s))
                .cloned();
            if taken.is_none() {
                samples_taken.extend(samples);
            }
            taken
        };
        let mut kept = Vec::new();
        for (slot, family) in collected {
            if !scrape.wants(family.name(), family.kind()) {
                continue;
            }
            match clash(&family) {
                None => kept.push(family),
                Some(sample) => failures.push(slot.failure(
                    Reason::Conflict,
                    format!(
                        "produced `{}`, whose sample `{sample}` another family writes too",
                        family.name()
                    ),
                )),
            }
        }
        self.health.record(&failures);
        let refused = entries_guard.refused();
        self.health.warn_limited(&refused);
        for family in self.health.families(&self.startup_errors, &refused) {
            if scrape.wants(family.name(), family.kind()) && clash(&family).is_none() {
                kept.push(family);
            }
        }
        let mut collected = kept;
        collected.sort_by(|a, b| a.name().cmp(b.name()));
        // Encode from a snapshot: a callback gauge that touches the registry must not
        // find it locked.
        let entries: Vec<Entry> = entries_guard
            .list
            .iter()
            .filter(|e| scrape.wants(e.name(), e.metric().descriptor().kind()))
            .cloned()
            .collect();
        drop(entries_guard);

        // Merge the sorted registered groups with the sorted collected families.
        let mut panics = Vec::new();
        let mut collected = collected.iter().peekable();
        let mut groups = entries.chunk_by(|a, b| a.name() == b.name()).peekable();
        loop {
            let collected_first = match (groups.peek(), collected.peek()) {
                (None, None) => break,
                (Some(group), Some(family)) => family.name() < group[0].name(),
                (None, Some(_)) => true,
                (Some(_), None) => false,
            };
            if collected_first {
                collected
                    .next()
                    .inspect(|family| family.encode(out, format));
            } else if let Some(group) = groups.next() {
                // A panicking callback gauge costs its own family, not the scrape.
                let start = out.len();
                if let Err(panic) = crate::panics::catch(|| encode_group(group, scrape, out)) {
                    out.truncate(start);
                    panics.push(Failure {
                        subject: Subject::Metric(group[0].name().to_owned()),
                        reason: Reason::Panic,
                        detail: format!("encoding it panicked: {panic}"),
                    });
                }
            }
        }
        if format == Format::OpenMetrics {
            out.extend_from_slice(b"# EOF\n");
        }
        self.health.record(&panics);
        failures.append(&mut panics);
        if failures.is_empty() {
            Ok(())
        } else {
            Err(GatherError::from_failures(&failures))
        }
    }

    /// [`encode`](Self::encode) into a new string, ignoring collector errors. For the text
    /// formats: protobuf is binary (use [`encode`](Self::encode)).
    pub fn encode_to_string(&self, format: Format) -> String {
        let mut out = Vec::new();
        let _ = self.encode(format, &mut out);
        String::from_utf8(out)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// The value of one sample, as Python's `REGISTRY.get_sample_value`: the sample name
    /// with its suffix (`requests_total`, `latency_seconds_bucket`, `_created`...) and
    /// exactly its labels, in any order. For tests.
    ///
    /// ```
    /// use promlink_core::{Family, Histogram, Metric, Registry};
    /// use std::sync::Arc;
    ///
    /// let registry = Registry::new();
    /// let latency = Arc::new(Metric::new("latency_seconds", "Latency.", Family::new(["path"], Histogram::new(&[0.1, 1.0]))));
    /// registry.register(latency.clone()).unwrap();
    /// latency.labels(["/"]).observe(0.5);
    /// assert_eq!(registry.get_sample_value("latency_seconds_bucket", &[("path", "/"), ("le", "1.0")]), Some(1.0));
    /// assert_eq!(registry.get_sample_value("latency_seconds_count", &[("path", "/")]), Some(1.0));
    /// ```
    pub fn get_sample_value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        // OpenMetrics has every sample but the `_sum` and `_count` it cannot express (a
        // histogram with negative buckets); the text format has those.
        [Format::OpenMetrics, Format::Text]
            .into_iter()
            .find_map(|format| {
                let text = self.encode_to_string(format);
                let value = crate::parse::samples(&text)
                    .find(|s| s.name == name && s.has_exactly(labels))
                    .map(|s| s.value);
                value
            })
    }
}

/// Why `new` cannot share a family name with `existing`, if it cannot.
fn conflict(existing: &Entry, new: &Entry) -> Option<String> {
    let (a, b) = (existing.metric().descriptor(), new.metric().descriptor());
    if a.kind() != b.kind() {
        return Some(format!("as a {} and as a {}", a.kind(), b.kind()));
    }
    if a.help() != b.help() {
        return Some(format!(
            "with help {:?} and with help {:?}",
            a.help(),
            b.help()
        ));
    }
    if a.unit() != b.unit() {
        return Some(format!(
            "with unit {:?} and with unit {:?}",
            a.unit(),
            b.unit()
        ));
    }
    let (a_shape, b_shape) = (existing.label_shape(), new.label_shape());
    if a_shape != b_shape {
        return Some(format!(
            "with constant and variable labels {a_shape:?} and {b_shape:?}"
        ));
    }
    None
}

fn encode_group(group: &[Entry], scrape: &Scrape<'_>, out: &mut Vec<u8>) {
    let format = scrape.format;
    let d = group[0].metric().descriptor();
    let header = Header {
        name: d.name(),
        help: d.help(),
        kind: d.kind(),
        unit: d.unit(),
    };
    let family = begin_family(out, format, &header);
    let mut const_labels = Vec::new();
    for entry in group {
        // Rendered once at registration for the text formats; protobuf's are cheap to make.
        let const_labels = if format == Format::Protobuf {
            const_labels.clear();
            let pairs = entry.metric().descriptor().const_labels().iter().copied();
            render_label_pairs(&mut const_labels, format, pairs);
            &const_labels[..]
        } else {
            &entry.const_labels[..]
        };
        let context = SeriesContext {
            name: d.name(),
            const_labels,
            label_names: &entry.label_names,
            created: entry.created,
            created_series: scrape.created_series,
        };
        entry
            .metric()
            .encode(&mut SeriesEncoder::new(out, format, context));
    }
    end_family(out, family);
}
