//! Native histograms: exponential buckets whose bounds follow from one number, the
//! schema, so a histogram needs no bucket list and Prometheus merges any two of them.
//!
//! At schema `s` the bounds are powers of `base = 2^(2^-s)`; bucket `k` holds the values
//! in `(base^(k-1), base^k]`, and the same on the negative side by absolute value. Values
//! whose absolute value is at most the zero threshold go to the zero bucket. Halving the
//! resolution (schema `s - 1`) merges buckets `2k - 1` and `2k` into bucket `k`: no
//! observation changes side of a bound, so a reduced histogram is exact at its schema.
//!
//! A histogram's native buckets sit in the same slots as its classic counts
//! (see [`super`]): an observation updates both while it holds its slot, so a scrape
//! reads whole observations only. Buckets are kept dense between the lowest and the
//! highest populated one, an index away from their count.

use core::sync::atomic::{AtomicI8, Ordering};

/// The coarsest schema: a factor of 65,536 between bounds.
pub const MIN_SCHEMA: i8 = -4;
/// The finest schema: a factor of about 1.0027 between bounds.
pub const MAX_SCHEMA: i8 = 8;

/// How many buckets a native histogram keeps, by default, before it halves its
/// resolution: enough for the values of a request latency (a millisecond to a minute) at
/// schema 3, where neighbouring bounds differ by 9%.
pub const DEFAULT_MAX_NATIVE_BUCKETS: u32 = 160;

/// The zero threshold by default, as in Go's client: 2^-128, a bound at every schema.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// The native buckets of a histogram: their resolution (schema), the width of the zero
/// bucket, and how many buckets may be populated before the resolution is halved.
///
/// ```
/// use promlink_core::{Histogram, NativeBuckets};
/// // Neighbouring bounds at most 10% apart: schema 3, a factor of 1.09.
/// static LATENCY: Histogram<0> = Histogram::native(NativeBuckets::factor(1.1));
/// LATENCY.observe(0.25);
/// let native = LATENCY.native_snapshot().unwrap();
/// assert_eq!(native.schema, 3);
/// assert_eq!(native.positive, [(-16, 1)]); // 0.25 = 2^-2 is the upper bound of bucket -16
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeBuckets {
    schema: i8,
    zero_threshold: f64,
    max_buckets: u32,
}

/// `2^(2^-s)` for `s` from [`MIN_SCHEMA`] to [`MAX_SCHEMA`]: the factor between
/// neighbouring bounds at each schema.
const FACTORS: [f64; 13] = [
    65536.0,
    256.0,
    16.0,
    4.0,
    2.0,
    core::f64::consts::SQRT_2,
    1.189_207_115_002_721,
    1.090_507_732_665_257_7,
    1.044_273_782_427_413_8,
    1.021_897_148_654_116_7,
    1.010_889_286_051_700_5,
    1.005_429_901_112_802_8,
    1.002_711_275_050_202_5,
];

impl NativeBuckets {
    /// Buckets at schema `schema`: bounds a factor of `2^(2^-schema)` apart.
    ///
    /// # Panics
    ///
    /// Unless `schema` is from -4 to 8, the schemas Prometheus reads. In a `static` this
    /// is a compile error.
    #[track_caller]
    pub const fn schema(schema: i8) -> Self {
        assert!(
            MIN_SCHEMA <= schema && schema <= MAX_SCHEMA,
            "a native histogram's schema is from -4 to 8"
        );
        NativeBuckets {
            schema,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_buckets: DEFAULT_MAX_NATIVE_BUCKETS,
        }
    }

    /// Buckets whose neighbouring bounds differ by at most `factor` (Go's
    /// `NativeHistogramBucketFactor`): the coarsest schema that is that fine, schema 8 for
    /// a factor below its own.
    ///
    /// ```
    /// use promlink_core::NativeBuckets;
    /// assert_eq!(NativeBuckets::factor(1.1).get_schema(), 3);
    /// assert_eq!(NativeBuckets::factor(2.0).get_schema(), 0);
    /// ```
    ///
    /// # Panics
    ///
    /// Unless `factor` is above 1.
    #[track_caller]
    pub const fn factor(factor: f64) -> Self {
        assert!(
            factor > 1.0,
            "a native histogram's bucket factor is above 1"
        );
        let mut schema = MIN_SCHEMA;
        #[allow(clippy::cast_sign_loss)] // from 0 to 12
        while schema < MAX_SCHEMA && FACTORS[(schema - MIN_SCHEMA) as usize] > factor {
            schema += 1;
        }
        NativeBuckets::schema(schema)
    }

    /// Sets the zero threshold: values whose absolute value is at most `threshold` are
    /// counted in the zero bucket. [`DEFAULT_ZERO_THRESHOLD`] unless set; 0 keeps only
    /// exact zeros there.
    ///
    /// # Panics
    ///
    /// Unless `threshold` is finite and not negative.
    #[track_caller]
    #[must_use]
    pub const fn zero_threshold(mut self, threshold: f64) -> Self {
        assert!(
            threshold.is_finite() && threshold >= 0.0,
            "a zero threshold is finite and not negative"
        );
        self.zero_threshold = threshold;
        self
    }

    /// Sets how many buckets may be populated (both sides together, zero bucket aside, as
    /// in Go's client) before the
    /// resolution is halved; [`DEFAULT_MAX_NATIVE_BUCKETS`] unless set. The resolution is
    /// also halved when the buckets, gaps included, spread over more than four times as
    /// many: a histogram keeps at most that many counts, whatever values it is given.
    ///
    /// # Panics
    ///
    /// If `max_buckets` is 0.
    #[track_caller]
    #[must_use]
    pub const fn max_buckets(mut self, max_buckets: u32) -> Self {
        assert!(
            max_buckets > 0,
            "a native histogram keeps at least one bucket"
        );
        self.max_buckets = max_buckets;
        self
    }

    /// The schema the histogram starts at.
    pub const fn get_schema(&self) -> i8 {
        self.schema
    }

    /// The zero threshold.
    pub const fn get_zero_threshold(&self) -> f64 {
        self.zero_threshold
    }

    /// How many buckets may be populated before the resolution is halved.
    pub const fn get_max_buckets(&self) -> u32 {
        self.max_buckets
    }

    /// How far populated buckets, gaps included, may spread.
    fn max_spread(&self) -> usize {
        self.max_buckets as usize * 4
    }
}

/// A consistent view of a histogram's native buckets.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeSnapshot {
    /// The schema, lower than the declared one if the resolution was halved.
    pub schema: i8,
    /// The zero bucket's threshold.
    pub zero_threshold: f64,
    /// Observations whose absolute value is at most the threshold.
    pub zero_count: u64,
    /// `(index, count)` of each populated bucket of positive values, by index.
    pub positive: Vec<(i32, u64)>,
    /// `(index, count)` of each populated bucket of negative values, by the index of
    /// their absolute value.
    pub negative: Vec<(i32, u64)>,
}

impl NativeSnapshot {
    /// The upper bound (by absolute value) of bucket `index` at this snapshot's schema.
    ///
    /// ```
    /// use promlink_core::{Histogram, NativeBuckets};
    /// let native = Histogram::native(NativeBuckets::schema(0)).native_snapshot().unwrap();
    /// assert_eq!(native.upper_bound(3), 8.0);
    /// ```
    pub fn upper_bound(&self, index: i32) -> f64 {
        upper_bound(index, self.schema)
    }
}

/// `2^(j/256 - 1)` for `j` from 0 to 256, correctly rounded: the bounds of the fraction
/// (in `[0.5, 1)`) of a value at schema 8, and every `2^(8-s)`th of them at schema `s`.
/// Go's client computes its table by repeated multiplication and differs from this one
/// by an ulp in places; that moves only observations exactly on a bound.
#[rustfmt::skip]
// Digits as a float prints them (and one of them is 1/sqrt(2)), to compare with any table.
#[allow(clippy::unreadable_literal, clippy::approx_constant)]
const FRACTION_BOUNDS: [f64; 257] = [
    0.5, 0.5013556375251013, 0.5027149505564014, 0.5040779490592088,
    0.5054446430258502, 0.5068150424757447, 0.5081891574554765, 0.509566998038869,
    0.5109485743270583, 0.5123338964485679, 0.5137229745593819, 0.5151158188430205,
    0.5165124395106142, 0.5179128468009786, 0.5193170509806894, 0.520725062344158,
    0.5221368912137069, 0.5235525479396449, 0.5249720429003436, 0.5263953865023132,
    0.5278225891802786, 0.5292536613972564, 0.530688613644631, 0.5321274564422322,
    0.5335702003384118, 0.5350168559101209, 0.5364674337629878, 0.5379219445313955,
    0.5393803988785599, 0.5408428074966076, 0.5423091811066546, 0.5437795304588848,
    0.5452538663326288, 0.5467321995364429, 0.5482145409081884, 0.549700901315111,
    0.5511912916539204, 0.5526857228508706, 0.5541842058618394, 0.5556867516724088,
    0.5571933712979462, 0.5587040757836846, 0.5602188762048034, 0.56173778366651,
    0.5632608093041209, 0.564787964283144, 0.5663192597993596, 0.5678547070789027,
    0.5693943173783458, 0.5709381019847808, 0.5724860722159021, 0.5740382394200895,
    0.5755946149764913, 0.577155210295108, 0.5787200368168756, 0.5802891060137494,
    0.5818624293887887, 0.5834400184762408, 0.5850218848416251, 0.5866080400818187,
    0.5881984958251406, 0.5897932637314379, 0.5913923554921705, 0.5929957828304969,
    0.5946035575013605, 0.5962156912915756, 0.5978321960199137, 0.5994530835371903,
    0.6010783657263515, 0.6027080545025619, 0.6043421618132908, 0.6059806996384006,
    0.6076236799902345, 0.6092711149137042, 0.6109230164863788, 0.6125793968185728,
    0.614240268053435, 0.6159056423670379, 0.6175755319684667, 0.6192499490999083,
    0.620928906036742, 0.622612415087629, 0.6243004885946024, 0.6259931389331581,
    0.6276903785123455, 0.6293922197748583, 0.6310986751971254, 0.6328097572894031,
    0.6345254785958666, 0.6362458516947014, 0.637970889198196, 0.6397006037528347,
    0.6414350080393891, 0.6431741147730128, 0.6449179367033329, 0.6466664866145447,
    0.6484197773255048, 0.6501778216898253, 0.6519406325959679, 0.6537082229673387,
    0.6554806057623822, 0.6572577939746773, 0.659039800633032, 0.6608266388015788,
    0.6626183215798707, 0.6644148621029772, 0.6662162735415808, 0.6680225691020729,
    0.6698337620266515, 0.6716498655934177, 0.6734708931164729, 0.6752968579460172,
    0.6771277734684463, 0.6789636531064506, 0.6808045103191124, 0.682650358602006,
    0.6845012114872953, 0.6863570825438342, 0.6882179853772651, 0.690083933630119,
    0.691954940981916, 0.6938310211492645, 0.6957121878859631, 0.6975984549831001,
    0.6994898362691556, 0.7013863456101024, 0.7032879969095077, 0.7051948041086353,
    0.7071067811865476, 0.7090239421602076, 0.7109463010845828, 0.7128738720527471,
    0.714806669195985, 0.7167447066838945, 0.7186879987244912, 0.7206365595643128,
    0.7225904034885233, 0.7245495448210175, 0.7265139979245263, 0.7284837772007219,
    0.7304588970903235, 0.7324393720732029, 0.7344252166684909, 0.7364164454346838,
    0.7384130729697497, 0.7404151139112359, 0.7424225829363762, 0.7444354947621985,
    0.7464538641456324, 0.7484777058836177, 0.7505070348132128, 0.7525418658117032,
    0.7545822137967114, 0.7566280937263049, 0.7586795205991074, 0.7607365094544073,
    0.7627990753722692, 0.7648672334736435, 0.766940998920478, 0.7690203869158284,
    0.7711054127039704, 0.7731960915705107, 0.7752924388425, 0.7773944698885443,
    0.7795022001189185, 0.7816156449856788, 0.7837348199827765, 0.7858597406461707,
    0.7879904225539432, 0.7901268813264123, 0.7922691326262469, 0.794417192158582,
    0.7965710756711335, 0.7987307989543135, 0.8008963778413467, 0.8030678282083855,
    0.8052451659746271, 0.8074284071024304, 0.8096175675974319, 0.8118126635086644,
    0.8140137109286739, 0.8162207259936375, 0.8184337248834822, 0.8206527238220032,
    0.8228777390769825, 0.8251087869603089, 0.8273458838280972, 0.8295890460808081,
    0.8318382901633682, 0.8340936325652912, 0.8363550898207983, 0.8386226785089392,
    0.8408964152537145, 0.8431763167241967, 0.8454623996346526, 0.8477546807446663,
    0.8500531768592617, 0.8523579048290256, 0.8546688815502315, 0.856986123964963,
    0.859309649061239, 0.861639473873137, 0.8639756154809188, 0.8663180910111555,
    0.8686669176368531, 0.8710221125775782, 0.8733836930995845, 0.8757516765159391,
    0.8781260801866497, 0.880506921518792, 0.8828942179666364, 0.8852879870317774,
    0.8876882462632606, 0.8900950132577122, 0.8925083056594675, 0.8949281411607005,
    0.8973545375015536, 0.8997875124702676, 0.902227083903312, 0.904673269685516,
    0.9071260877501994, 0.9095855560793042, 0.9120516927035267, 0.9145245157024486,
    0.9170040432046712, 0.9194902933879469, 0.921983284479313, 0.9244830347552254,
    0.9269895625416927, 0.9295028862144102, 0.9320230241988945, 0.9345499949706193,
    0.93708381705515, 0.9396245090282801, 0.9421720895161673, 0.9447265771954696,
    0.9472879907934828, 0.9498563490882777, 0.9524316709088371, 0.9550139751351949,
    0.9576032806985737, 0.9601996065815237, 0.9628029718180625, 0.9654133954938136,
    0.9680308967461472, 0.9706554947643202, 0.9732872087896166, 0.9759260581154892,
    0.9785720620877001, 0.9812252401044637, 0.9838856116165879, 0.9865531961276172,
    0.9892280131939755, 0.9919100824251097, 0.9945994234836332, 0.9972960560854701,
    1.0,
];

/// For schema `s` and the top `s + 1` bits of a fraction's mantissa: how many of the
/// schema's fraction bounds are below the start of that stretch. A stretch is narrower
/// than the gap between neighbouring bounds, so at most one more bound is inside it and
/// one comparison finds the bucket.
const STRETCH_STARTS: [[u16; 512]; 9] = stretch_starts();

const fn stretch_starts() -> [[u16; 512]; 9] {
    let mut table = [[0; 512]; 9];
    let mut schema = 1;
    while schema <= 8 {
        let mut stretch = 0;
        while stretch < 1 << (schema + 1) {
            #[allow(clippy::cast_precision_loss)] // below 2^9
            let start = 0.5 + stretch as f64 / (1_u32 << (schema + 2)) as f64;
            let mut below = 0;
            while below < 1 << schema && FRACTION_BOUNDS[below << (8 - schema)] < start {
                below += 1;
            }
            #[allow(clippy::cast_possible_truncation)] // at most 256
            {
                table[schema][stretch] = below as u16;
            }
            stretch += 1;
        }
        schema += 1;
    }
    table
}

/// The index of the bucket of `magnitude` (positive, above the zero threshold) at
/// `schema`: `ceil(log2(magnitude) * 2^schema)`, from the bits of the float. Infinity
/// goes one past the bucket of the largest float, as in Go's client.
#[inline]
pub(crate) fn bucket_index(magnitude: f64, schema: i8) -> i32 {
    const MANTISSA_BITS: u32 = 52;
    const MANTISSA: u64 = (1 << MANTISSA_BITS) - 1;
    let (value, past_max) = if magnitude == f64::INFINITY {
        (f64::MAX, 1)
    } else {
        (magnitude, 0)
    };
    let mut bits = value.to_bits();
    // `value = fraction * 2^exponent`, the fraction in [0.5, 1), as C's `frexp`.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // 11 bits
    let mut exponent = (bits >> MANTISSA_BITS) as i32 - 1022;
    if exponent == -1022 {
        // Subnormal: scaled into the normal range first.
        bits = (value * 2f64.powi(64)).to_bits();
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let scaled = (bits >> MANTISSA_BITS) as i32 - 1022;
        exponent = scaled - 64;
    }
    let mantissa = bits & MANTISSA;
    let index = if schema > 0 {
        #[allow(clippy::cast_sign_loss)] // 1 to 8
        let s = schema as u32;
        #[allow(clippy::cast_possible_truncation)] // the top s + 1 bits
        let stretch = (mantissa >> (MANTISSA_BITS - 1 - s)) as usize;
        let below = STRETCH_STARTS[s as usize][stretch] as usize;
        let fraction = f64::from_bits(1022 << MANTISSA_BITS | mantissa);
        let candidate = FRACTION_BOUNDS[below << (8 - s)];
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)] // at most 256
        let within = (below + usize::from(candidate < fraction)) as i32;
        within + ((exponent - 1) << s)
    } else {
        // A power of two is the upper bound of its bucket: 2^e lies in bucket e - 1 of
        // schema 0's `(2^(k-1), 2^k]`.
        let at_zero = exponent - i32::from(mantissa == 0);
        let shift = -i32::from(schema);
        (at_zero + (1 << shift) - 1) >> shift
    };
    index + past_max
}

/// The upper bound of bucket `index` at `schema`. The bucket of the largest float ends
/// at it (its bound would overflow), and the one past it, infinity's, at infinity.
pub(crate) fn upper_bound(index: i32, schema: i8) -> f64 {
    let (fraction, exponent) = if schema > 0 {
        #[allow(clippy::cast_sign_loss)] // 1 to 8
        let s = schema as u32;
        #[allow(clippy::cast_sign_loss)] // masked
        let within = (index & ((1 << s) - 1)) as usize;
        (FRACTION_BOUNDS[within << (8 - s)], (index >> s) + 1)
    } else {
        (0.5, (index << -i32::from(schema)) + 1)
    };
    if exponent > 1025 || (exponent == 1025 && fraction > 0.5) {
        return f64::INFINITY;
    }
    if exponent == 1025 {
        return f64::MAX;
    }
    ldexp(fraction, exponent)
}

/// `fraction * 2^exponent` without losing subnormal results.
fn ldexp(fraction: f64, exponent: i32) -> f64 {
    if exponent < -1000 {
        fraction * 2f64.powi(exponent + 100) * 2f64.powi(-100)
    } else {
        fraction * 2f64.powi(exponent)
    }
}

/// The factor between neighbouring bounds at `schema`, `2^(2^-schema)`.
pub(crate) fn factor_of(schema: i8) -> f64 {
    #[allow(clippy::cast_sign_loss)] // from 0 to 12
    FACTORS[(schema - MIN_SCHEMA) as usize]
}

/// The index at `schema - by` of bucket `index` at `schema`.
fn coarser(index: i32, by: u32) -> i32 {
    (index + (1 << by) - 1) >> by
}

/// Buckets of one side, dense from `first` on: `counts[i]` is bucket `first + i`.
#[derive(Debug, Default, Clone)]
struct Run {
    first: i32,
    counts: Vec<u64>,
}

impl Run {
    /// The slot for bucket `index`, if it lies within `max_spread` of the others.
    #[inline]
    fn slot(&mut self, index: i32, max_spread: usize) -> Option<&mut u64> {
        // Below `first`, the difference wraps to far beyond any length.
        let at = index.wrapping_sub(self.first).cast_unsigned() as usize;
        if at < self.counts.len() {
            return Some(&mut self.counts[at]);
        }
        self.grow_to(index, max_spread)
    }

    /// [`slot`](Self::slot) for a bucket outside the run: widens the run to it.
    #[cold]
    fn grow_to(&mut self, index: i32, max_spread: usize) -> Option<&mut u64> {
        if self.counts.is_empty() {
            self.first = index;
            self.counts.push(0);
        } else if index < self.first {
            let grow = (self.first - index).unsigned_abs() as usize;
            if self.counts.len() + grow > max_spread {
                return None;
            }
            self.counts.splice(0..0, core::iter::repeat_n(0, grow));
            self.first = index;
        } else {
            let at = (index - self.first).unsigned_abs() as usize;
            if at >= max_spread {
                return None;
            }
            if at >= self.counts.len() {
                self.counts.resize(at + 1, 0);
            }
        }
        let at = (index - self.first).unsigned_abs() as usize;
        Some(&mut self.counts[at])
    }

    /// Adds `count` to bucket `index`, however far it spreads the run; whether the bucket
    /// was empty.
    fn add(&mut self, index: i32, count: u64) -> bool {
        let slot = self.slot(index, usize::MAX).expect("no limit");
        let was_empty = *slot == 0;
        *slot += count;
        was_empty && count > 0
    }

    /// Merges neighbours to the schema `by` lower.
    fn coarsen(&mut self, by: u32) {
        if self.counts.is_empty() || by == 0 {
            return;
        }
        let first = coarser(self.first, by);
        let last = coarser(
            self.first + i32::try_from(self.counts.len()).unwrap_or(i32::MAX) - 1,
            by,
        );
        let mut counts = vec![0; (last - first).unsigned_abs() as usize + 1];
        for (index, count) in self.populated() {
            counts[(coarser(index, by) - first).unsigned_abs() as usize] += count;
        }
        *self = Run { first, counts };
    }

    /// `(index, count)` of each populated bucket, in order.
    fn populated(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        (self.first..)
            .zip(&self.counts)
            .filter(|&(_, &count)| count > 0)
            .map(|(index, &count)| (index, count))
    }

    fn populated_count(&self) -> u32 {
        let populated = self.counts.iter().filter(|&&count| count > 0).count();
        u32::try_from(populated).unwrap_or(u32::MAX)
    }
}

/// The native buckets one slot of a histogram has counted: changed only by whoever holds
/// the slot.
#[derive(Debug, Clone)]
pub(crate) struct Sparse {
    schema: i8,
    zero: u64,
    positive: Run,
    negative: Run,
    /// Populated buckets of both sides.
    populated: u32,
}

impl Sparse {
    pub(crate) fn new(schema: i8) -> Self {
        Sparse {
            schema,
            zero: 0,
            positive: Run::default(),
            negative: Run::default(),
            populated: 0,
        }
    }

    /// Empties the buckets, keeping their memory, to count anew at `schema`.
    pub(crate) fn reset(&mut self, schema: i8) {
        self.schema = schema;
        self.zero = 0;
        self.positive.counts.clear();
        self.negative.counts.clear();
        self.populated = 0;
    }

    /// Counts `value` at the histogram's current schema `shared`, which this lowers when
    /// the buckets outgrow `spec`'s limits. NaN is counted by the classic count only, as
    /// in Go's client.
    #[inline]
    pub(crate) fn observe(&mut self, value: f64, spec: &NativeBuckets, shared: &AtomicI8) {
        if value.is_nan() {
            return;
        }
        let schema = shared.load(Ordering::Relaxed);
        if schema < self.schema {
            self.coarsen_to(schema);
        }
        let magnitude = value.abs();
        if magnitude <= spec.zero_threshold {
            self.zero += 1;
            return;
        }
        loop {
            let index = bucket_index(magnitude, self.schema);
            let side = if value > 0.0 {
                &mut self.positive
            } else {
                &mut self.negative
            };
            if let Some(slot) = side.slot(index, spec.max_spread()) {
                if *slot == 0 {
                    self.populated += 1;
                }
                *slot += 1;
                break;
            }
            if !self.halve(shared) {
                // The coarsest schema spreads over at most 131 buckets a side.
                let side = if value > 0.0 {
                    &mut self.positive
                } else {
                    &mut self.negative
                };
                self.populated += u32::from(side.add(index, 1));
                break;
            }
        }
        while self.populated > spec.max_buckets && self.halve(shared) {}
    }

    /// Halves the resolution and lowers the histogram's schema to match; `false` at the
    /// coarsest schema.
    fn halve(&mut self, shared: &AtomicI8) -> bool {
        if self.schema == MIN_SCHEMA {
            return false;
        }
        self.coarsen_to(self.schema - 1);
        shared.fetch_min(self.schema, Ordering::Relaxed);
        true
    }

    /// Lowers the resolution to `schema` if it is finer.
    #[cold]
    fn coarsen_to(&mut self, schema: i8) {
        if schema >= self.schema {
            return;
        }
        let by = u32::from(self.schema.abs_diff(schema));
        self.positive.coarsen(by);
        self.negative.coarsen(by);
        self.schema = schema;
        self.populated = self.positive.populated_count() + self.negative.populated_count();
    }

    /// Adds `other`'s counts, at the coarser of the two schemas.
    pub(crate) fn merge(&mut self, other: &Sparse) {
        let mut other = other.clone();
        other.coarsen_to(self.schema);
        self.coarsen_to(other.schema);
        self.zero += other.zero;
        for (index, count) in other.positive.populated() {
            self.populated += u32::from(self.positive.add(index, count));
        }
        for (index, count) in other.negative.populated() {
            self.populated += u32::from(self.negative.add(index, count));
        }
    }

    /// The snapshot of what was merged, within `spec`'s bucket limit; lowers `shared` if
    /// it had to halve the resolution, so that observers follow.
    pub(crate) fn into_snapshot(
        mut self,
        spec: &NativeBuckets,
        shared: &AtomicI8,
    ) -> NativeSnapshot {
        self.coarsen_to(shared.load(Ordering::Relaxed));
        while self.populated > spec.max_buckets && self.halve(shared) {}
        NativeSnapshot {
            schema: self.schema,
            zero_threshold: spec.zero_threshold,
            zero_count: self.zero,
            positive: self.positive.populated().collect(),
            negative: self.negative.populated().collect(),
        }
    }
}

#[cfg(test)]
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss,
    clippy::cast_sign_loss
)]
mod tests {
    use super::*;

    /// The exact index, from the definition, at high precision where it matters.
    fn exact_index(value: f64, schema: i8) -> i32 {
        // ceil(log2(v) * 2^s), checked against the bounds on both sides.
        let guess = (value.log2() * 2f64.powi(schema.into())).ceil() as i32;
        for index in [guess - 1, guess, guess + 1] {
            if upper_bound(index - 1, schema) < value && value <= upper_bound(index, schema) {
                return index;
            }
        }
        panic!("no bucket for {value} at {schema}");
    }

    #[test]
    fn fraction_bounds_are_powers_of_two() {
        for (j, bound) in FRACTION_BOUNDS.iter().enumerate() {
            let exact = 2f64.powf(j as f64 / 256.0 - 1.0);
            assert!((bound - exact).abs() <= 2.0 * f64::EPSILON, "{j}");
        }
    }

    #[test]
    fn bounds_are_upper_inclusive_at_every_schema() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            for index in -200..200 {
                let bound = upper_bound(index, schema);
                if !(f64::MIN_POSITIVE..f64::MAX).contains(&bound) {
                    continue; // beyond the normal floats: tested below
                }
                assert_eq!(bucket_index(bound, schema), index, "{schema} {index}");
                let above = f64::from_bits(bound.to_bits() + 1);
                assert_eq!(bucket_index(above, schema), index + 1, "{schema} {index}");
            }
        }
    }

    #[test]
    fn indexes_agree_with_the_definition() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Magnitudes from 1e-12 to 1e12, and every mantissa.
            let value = 10f64.powf((x >> 11) as f64 / (1u64 << 53) as f64 * 24.0 - 12.0);
            for schema in MIN_SCHEMA..=MAX_SCHEMA {
                assert_eq!(
                    bucket_index(value, schema),
                    exact_index(value, schema),
                    "{value} {schema}"
                );
            }
        }
    }

    #[test]
    fn extremes_have_buckets() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            let max = bucket_index(f64::MAX, schema);
            assert_eq!(upper_bound(max, schema), f64::MAX);
            assert_eq!(bucket_index(f64::INFINITY, schema), max + 1);
            assert_eq!(upper_bound(max + 1, schema), f64::INFINITY);
            // Subnormal powers of two, 2^-1074 and 2^-1024: their index is exact, though
            // the bounds around them round.
            for exponent in [-1074, -1024] {
                let tiny = 2f64.powi(exponent + 100) * 2f64.powi(-100);
                let exact = (f64::from(exponent) * 2f64.powi(schema.into())).ceil() as i32;
                assert_eq!(bucket_index(tiny, schema), exact, "{schema} {exponent}");
            }
        }
    }

    #[test]
    fn factors_pick_the_coarsest_schema_fine_enough() {
        for schema in MIN_SCHEMA..=MAX_SCHEMA {
            let factor = FACTORS[(schema - MIN_SCHEMA) as usize];
            assert!((factor - 2f64.powf(2f64.powi(-i32::from(schema)))).abs() < 1e-12);
            assert_eq!(NativeBuckets::factor(factor).get_schema(), schema);
            assert_eq!(
                NativeBuckets::factor(factor * 1.000_001).get_schema(),
                schema.max(MIN_SCHEMA)
            );
        }
        assert_eq!(NativeBuckets::factor(1.000_01).get_schema(), MAX_SCHEMA);
    }

    #[test]
    fn halving_merges_pairs_exactly() {
        let spec = NativeBuckets::schema(3).max_buckets(4);
        let shared = AtomicI8::new(3);
        let mut sparse = Sparse::new(3);
        let values = [1.0, 1.05, 1.1, 1.2, 1.3, 1.4, 1.5, 2.0, -0.5, 0.0];
        for v in values {
            sparse.observe(v, &spec, &shared);
        }
        let snapshot = sparse.into_snapshot(&spec, &shared);
        assert!(snapshot.schema < 3);
        assert_eq!(shared.load(Ordering::Relaxed), snapshot.schema);
        assert!(snapshot.positive.len() + snapshot.negative.len() <= 4);
        // Every value is still in the bucket that holds it at the reduced schema.
        let mut expected = Sparse::new(snapshot.schema);
        let unlimited = NativeBuckets::schema(snapshot.schema).max_buckets(u32::MAX / 8);
        let fixed = AtomicI8::new(snapshot.schema);
        for v in values {
            expected.observe(v, &unlimited, &fixed);
        }
        assert_eq!(expected.into_snapshot(&unlimited, &fixed), snapshot);
        assert_eq!(snapshot.zero_count, 1);
    }

    #[test]
    fn spread_is_bounded() {
        let spec = NativeBuckets::schema(8).max_buckets(10).zero_threshold(0.0);
        let shared = AtomicI8::new(8);
        let mut sparse = Sparse::new(8);
        for v in [1e-300, 1e300, 1.0, f64::INFINITY, f64::MIN_POSITIVE / 4.0] {
            sparse.observe(v, &spec, &shared);
            assert!(sparse.positive.counts.len() <= spec.max_spread().max(140));
        }
        let snapshot = sparse.into_snapshot(&spec, &shared);
        assert_eq!(snapshot.positive.iter().map(|b| b.1).sum::<u64>(), 5);
    }
}
