//! Info and state-set metrics: labels as values.

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{PoisonError, RwLock};

use crate::descriptor::{is_label_name, str_eq, MetricType};
use crate::encoding::{escape_label_value, render_label_pairs, SeriesEncoder};
use crate::metric::Series;

/// Key-value pairs exposed as the labels of one series worth 1 (`build_info{version=".."} 1`).
///
/// A pair named like one of the metric's own labels (constant or variable) is not
/// exported: it would repeat that label.
///
/// ```
/// use promlink_core::Info;
/// static BUILD: Info = Info::new(&[("version", "1.2.3")]);
/// BUILD.set(&[("version", "1.2.4"), ("revision", "abc")]).unwrap();
/// ```
#[derive(Debug)]
pub struct Info {
    initial: &'static [(&'static str, &'static str)],
    /// The pairs set at run time; `None` until then.
    current: RwLock<Option<Vec<(String, String)>>>,
}

/// An invalid label name given to [`Info::set`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidLabelName(pub String);

impl fmt::Display for InvalidLabelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid label name {:?}: it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __",
            self.0
        )
    }
}

impl std::error::Error for InvalidLabelName {}

impl Info {
    /// An info with the given pairs.
    ///
    /// # Panics
    ///
    /// If a name is not a valid label name or is repeated; in a `static`, at compile time.
    #[track_caller]
    pub const fn new(pairs: &'static [(&'static str, &'static str)]) -> Self {
        let mut i = 0;
        while i < pairs.len() {
            assert!(is_label_name(pairs[i].0), "invalid info label name: it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __");
            let mut j = 0;
            while j < i {
                assert!(
                    !str_eq(pairs[i].0, pairs[j].0),
                    "an info label name is repeated"
                );
                j += 1;
            }
            i += 1;
        }
        Info {
            initial: pairs,
            current: RwLock::new(None),
        }
    }

    /// Replaces the pairs (Python's `Info.info`).
    ///
    /// # Errors
    ///
    /// When a name is invalid or repeated; the pairs are then left as they were.
    pub fn set(&self, pairs: &[(&str, &str)]) -> Result<(), InvalidLabelName> {
        for (i, (name, _)) in pairs.iter().enumerate() {
            if !is_label_name(name) || pairs[..i].iter().any(|(n, _)| n == name) {
                return Err(InvalidLabelName((*name).to_owned()));
            }
        }
        let owned = pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect();
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Some(owned);
        Ok(())
    }
}

impl Series for Info {
    const KIND: MetricType = MetricType::Info;
    type Shared = ();

    fn new_series(&self) -> Self {
        Info {
            initial: self.initial,
            current: RwLock::new(None),
        }
    }

    fn shared(&self) {}

    fn encode_series(&self, (): &(), enc: &mut SeriesEncoder<'_>, labels: &[u8], _created: f64) {
        let mut all = labels.to_vec();
        // A pair named like one of the metric's own labels would repeat that label.
        let taken = enc.label_names();
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        let pairs: Vec<(&str, &str)> = match &*current {
            Some(pairs) => pairs
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect(),
            None => self.initial.to_vec(),
        };
        render_label_pairs(
            &mut all,
            enc.format(),
            pairs.into_iter().filter(|(name, _)| !taken.contains(name)),
        );
        enc.info(&all);
    }
}

/// A set of named states, each on or off (OpenMetrics `stateset`). Python's `Enum`, with
/// exactly one state on, is [`set_state`](Self::set_state).
///
/// ```
/// use promlink_core::StateSet;
/// static TASK_STATE: StateSet = StateSet::new(&["starting", "running", "stopped"]);
/// assert!(TASK_STATE.is_set("starting"));
/// TASK_STATE.set_state("running");
/// assert!(TASK_STATE.is_set("running") && !TASK_STATE.is_set("starting"));
/// ```
#[derive(Debug)]
pub struct StateSet {
    states: &'static [&'static str],
    on: AtomicU64,
}

/// A state that the [`StateSet`] does not have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownState(pub String);

impl fmt::Display for UnknownState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown state {:?}", self.0)
    }
}

impl std::error::Error for UnknownState {}

impl StateSet {
    /// A state set whose first state is on (as Python's `Enum` starts).
    ///
    /// # Panics
    ///
    /// Unless there are 1 to 64 distinct states; in a `static`, at compile time.
    #[track_caller]
    pub const fn new(states: &'static [&'static str]) -> Self {
        assert!(
            !states.is_empty() && states.len() <= 64,
            "a state set has 1 to 64 states"
        );
        let mut i = 0;
        while i < states.len() {
            let mut j = 0;
            while j < i {
                assert!(!str_eq(states[i], states[j]), "a state is repeated");
                j += 1;
            }
            i += 1;
        }
        StateSet {
            states,
            on: AtomicU64::new(1),
        }
    }

    /// The states, in order.
    pub const fn states(&self) -> &'static [&'static str] {
        self.states
    }

    fn index(&self, state: &str) -> Result<usize, UnknownState> {
        self.states
            .iter()
            .position(|s| *s == state)
            .ok_or_else(|| UnknownState(state.to_owned()))
    }

    /// Turns `state` on and every other state off.
    ///
    /// # Panics
    ///
    /// If the state is unknown (as Python's `Enum.state` raises); see
    /// [`try_set_state`](Self::try_set_state).
    #[track_caller]
    pub fn set_state(&self, state: &str) {
        if let Err(e) = self.try_set_state(state) {
            panic!("{e}: the states of this state set are {:?}", self.states);
        }
    }

    /// Turns `state` on and every other state off, or returns an error for an unknown state.
    ///
    /// # Errors
    ///
    /// When the state is not one of [`states`](Self::states).
    pub fn try_set_state(&self, state: &str) -> Result<(), UnknownState> {
        self.on.store(1 << self.index(state)?, Relaxed);
        Ok(())
    }

    /// Turns one state on or off, leaving the others.
    ///
    /// # Errors
    ///
    /// When the state is not one of [`states`](Self::states).
    pub fn set(&self, state: &str, on: bool) -> Result<(), UnknownState> {
        let bit = 1 << self.index(state)?;
        if on {
            self.on.fetch_or(bit, Relaxed);
        } else {
            self.on.fetch_and(!bit, Relaxed);
        }
        Ok(())
    }

    /// Whether `state` is on (`false` for unknown states).
    pub fn is_set(&self, state: &str) -> bool {
        self.index(state)
            .is_ok_and(|i| self.on.load(Relaxed) & (1 << i) != 0)
    }
}

impl Series for StateSet {
    const KIND: MetricType = MetricType::StateSet;
    type Shared = Vec<Vec<u8>>;

    fn new_series(&self) -> Self {
        StateSet::new(self.states)
    }

    fn shared(&self) -> Vec<Vec<u8>> {
        self.states
            .iter()
            .map(|state| {
                let mut escaped = Vec::with_capacity(state.len());
                escape_label_value(&mut escaped, state);
                escaped
            })
            .collect()
    }

    fn encode_series(
        &self,
        states: &Vec<Vec<u8>>,
        enc: &mut SeriesEncoder<'_>,
        labels: &[u8],
        _created: f64,
    ) {
        let on = self.on.load(Relaxed);
        for (i, (state, escaped)) in self.states.iter().zip(states).enumerate() {
            enc.state(labels, state, escaped, (on >> i) & 1 == 1);
        }
    }
}
