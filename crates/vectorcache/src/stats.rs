//! Usage statistics of a client: what the docs make users count by hand (hits, misses, hit
//! rate, money saved, errors, retries, latency), counted in the core with atomics (no lock on
//! the query path) and shared by a client's clones.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::error::ErrorKind;

/// A snapshot of a client's usage since it was built (or since [`Client::reset_stats`]).
///
/// [`Client::reset_stats`]: crate::Client::reset_stats
///
/// ```
/// # async fn run(client: vectorcache::Client) {
/// let stats = client.stats();
/// println!(
///     "{} queries, hit rate {:.0} %, ${:.4} saved, p95 {:?}",
///     stats.queries,
///     stats.hit_rate * 100.0,
///     stats.cost_saved,
///     stats.latency.p95
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Calls of `query` that finished, successful or not (a batch's queries each count). A
    /// call refused before anything was sent counts as an `invalid_request` error, whether
    /// the core or a binding refused it (a Python `TypeError` is not a refused query).
    pub queries: u64,
    /// Answers that were cache hits.
    pub hits: u64,
    /// Answers that were misses.
    pub misses: u64,
    /// `hits / (hits + misses)`; 0 before the first answer.
    pub hit_rate: f64,
    /// The `cost_saved` of every answer, summed (USD).
    pub cost_saved: f64,
    /// Failed calls by the kind of their error.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Retries made (attempts after the first of a call).
    pub retries: u64,
    /// Latency of the calls that reached the network, retries and waits included.
    pub latency: Latency,
}

/// Latency percentiles, from a fixed-size histogram (each within about 5 % of the truth).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct Latency {
    /// The median.
    pub p50: Duration,
    /// The 95th percentile.
    pub p95: Duration,
    /// The 99th percentile.
    pub p99: Duration,
}

/// The smallest latency bucket's lower bound, and the growth factor from one bucket to the
/// next: buckets cover 10 µs to about 10 minutes within 10 %.
const FIRST_BUCKET_MICROS: f64 = 10.0;
const GROWTH: f64 = 1.1;
const BUCKETS: usize = 192;

/// Money is summed in nano-dollars so that it can be an atomic integer.
const NANOS_PER_DOLLAR: f64 = 1e9;

/// The counters behind [`Stats`].
pub(crate) struct Recorder {
    queries: AtomicU64,
    hits: AtomicU64,
    misses: AtomicU64,
    cost_saved_nanos: AtomicU64,
    retries: AtomicU64,
    errors: [AtomicU64; ErrorKind::ALL.len()],
    latency: [AtomicU64; BUCKETS],
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            queries: AtomicU64::new(0),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
            cost_saved_nanos: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Recorder {
    pub fn answer(&self, hit: bool, cost_saved: f64, took: Duration) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        if hit {
            self.hits.fetch_add(1, Ordering::Relaxed);
        } else {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        // A broken answer may say anything: infinity and NaN count nothing, and the float to
        // integer cast saturates, so a negative saving counts as zero.
        if cost_saved.is_finite() {
            let nanos = (cost_saved * NANOS_PER_DOLLAR).round() as u64;
            self.cost_saved_nanos.fetch_add(nanos, Ordering::Relaxed);
        }
        self.latency[bucket(took)].fetch_add(1, Ordering::Relaxed);
    }

    /// A failed call; `took` is `None` for one that never reached the network.
    pub fn failure(&self, kind: ErrorKind, took: Option<Duration>) {
        self.queries.fetch_add(1, Ordering::Relaxed);
        self.errors[kind_index(kind)].fetch_add(1, Ordering::Relaxed);
        if let Some(took) = took {
            self.latency[bucket(took)].fetch_add(1, Ordering::Relaxed);
        }
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Stats {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        let (hits, misses) = (get(&self.hits), get(&self.misses));
        let answered = hits + misses;
        let counts: Vec<u64> = self.latency.iter().map(get).collect();
        Stats {
            queries: get(&self.queries),
            hits,
            misses,
            hit_rate: if answered == 0 {
                0.0
            } else {
                hits as f64 / answered as f64
            },
            cost_saved: get(&self.cost_saved_nanos) as f64 / NANOS_PER_DOLLAR,
            errors: ErrorKind::ALL
                .iter()
                .zip(&self.errors)
                .map(|(kind, n)| (*kind, get(n)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            retries: get(&self.retries),
            latency: Latency {
                p50: percentile(&counts, 0.50),
                p95: percentile(&counts, 0.95),
                p99: percentile(&counts, 0.99),
            },
        }
    }

    pub fn reset(&self) {
        let zero = |n: &AtomicU64| n.store(0, Ordering::Relaxed);
        for n in [
            &self.queries,
            &self.hits,
            &self.misses,
            &self.cost_saved_nanos,
            &self.retries,
        ] {
            zero(n);
        }
        self.errors.iter().for_each(zero);
        self.latency.iter().for_each(zero);
    }
}

fn kind_index(kind: ErrorKind) -> usize {
    ErrorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .expect("ALL lists every kind")
}

/// The histogram bucket of a latency.
fn bucket(took: Duration) -> usize {
    let micros = took.as_secs_f64() * 1e6;
    if micros <= FIRST_BUCKET_MICROS {
        return 0;
    }
    let index = ((micros / FIRST_BUCKET_MICROS).ln() / GROWTH.ln()).floor() as usize + 1;
    index.min(BUCKETS - 1)
}

/// The geometric middle of a bucket, as the estimate of the latencies in it.
fn bucket_value(index: usize) -> Duration {
    if index == 0 {
        return Duration::from_secs_f64(FIRST_BUCKET_MICROS / 2.0 / 1e6);
    }
    let low = FIRST_BUCKET_MICROS * GROWTH.powi(index as i32 - 1);
    Duration::from_secs_f64(low * GROWTH.sqrt() / 1e6)
}

/// The `q` quantile of the histogram; zero when it is empty.
fn percentile(counts: &[u64], q: f64) -> Duration {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Duration::ZERO;
    }
    // The smallest bucket holding the rank ceil(q * total); the rank is at most the total,
    // so some bucket always holds it.
    let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0;
    let index = counts
        .iter()
        .position(|n| {
            seen += n;
            seen >= rank
        })
        .unwrap_or_default();
    bucket_value(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_rates() {
        let r = Recorder::default();
        r.answer(true, 0.002, Duration::from_millis(10));
        r.answer(true, 0.001, Duration::from_millis(10));
        r.answer(false, 0.0, Duration::from_millis(10));
        r.failure(ErrorKind::RateLimited, Some(Duration::from_millis(10)));
        r.failure(ErrorKind::InvalidRequest, None);
        r.retry();
        let s = r.snapshot();
        assert_eq!((s.queries, s.hits, s.misses, s.retries), (5, 2, 1, 1));
        assert!((s.hit_rate - 2.0 / 3.0).abs() < 1e-12);
        assert!((s.cost_saved - 0.003).abs() < 1e-12);
        assert_eq!(
            s.errors,
            BTreeMap::from([(ErrorKind::RateLimited, 1), (ErrorKind::InvalidRequest, 1)])
        );
        r.reset();
        assert_eq!(r.snapshot(), Stats::default());
    }

    #[test]
    fn savings_that_are_not_a_finite_positive_amount_count_nothing() {
        let r = Recorder::default();
        r.answer(true, 0.25, Duration::from_millis(1));
        for bogus in [f64::INFINITY, f64::NEG_INFINITY, f64::NAN, -3.0] {
            r.answer(true, bogus, Duration::from_millis(1));
        }
        let s = r.snapshot();
        assert_eq!((s.queries, s.hits), (5, 5));
        assert!((s.cost_saved - 0.25).abs() < 1e-12, "{}", s.cost_saved);
    }

    #[test]
    fn latencies_below_the_first_bucket_read_as_its_middle() {
        let r = Recorder::default();
        r.answer(false, 0.0, Duration::from_nanos(300));
        let p50 = r.snapshot().latency.p50;
        assert_eq!(
            p50,
            Duration::from_micros(5),
            "half of the first bucket's 10 µs"
        );
    }

    #[test]
    fn percentiles_are_within_ten_percent() {
        let r = Recorder::default();
        // 1..=1000 ms: p50 = 500 ms, p95 = 950 ms, p99 = 990 ms.
        for ms in 1..=1000 {
            r.answer(false, 0.0, Duration::from_millis(ms));
        }
        let latency = r.snapshot().latency;
        for (got, want) in [
            (latency.p50, 500.0),
            (latency.p95, 950.0),
            (latency.p99, 990.0),
        ] {
            let got = got.as_secs_f64() * 1e3;
            assert!((got - want).abs() / want < 0.1, "{got} ms for {want} ms");
        }
        assert_eq!(bucket(Duration::ZERO), 0);
        assert_eq!(bucket(Duration::from_secs(100_000)), BUCKETS - 1);
        assert_eq!(Recorder::default().snapshot().latency, Latency::default());
    }
}
