//! The Rust side of `make bench`: the core client against raw reqwest + serde_json, on the same
//! emulator, sequentially, at 64 in flight, and through `query_many`.
//!
//! `cargo bench -p vectorcache-cli --bench client` runs it alone against an in-process
//! emulator. `make bench` (scripts/bench.sh) points it at the shared emulator process with
//! `VECTORCACHE_BENCH_URL` and `VECTORCACHE_API_KEY`, and reads the JSON lines it prints (one
//! per figure, after `BENCH `) beside the Python and Node ones. Not a test: it asserts only
//! that every query was a hit.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;
use vectorcache::{Client, QueryRequest, QueryResponse};
use vectorcache_emulator::config::generate_key;
use vectorcache_emulator::{Emulator, EmulatorConfig, RunningEmulator};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT_TOTAL: usize = 20_000;
/// Every figure is measured in this many rounds (`BENCH_ROUNDS`), the clients taking turns;
/// summary.py takes the median: a 2-core machine running its own server is noisy.
const ROUNDS: usize = 3;
/// Sequential figures are taken this many times a round: one query at a time waits on every
/// wake-up of the virtual machine, whose latency changes from one second to the next.
const SEQUENTIAL_TURNS: usize = 3;
const IN_FLIGHT: usize = 64;
/// Unmeasured queries per worker before each "64 in flight" figure.
const IN_FLIGHT_WARM_UP: usize = 20;
const PROMPT: &str = "What is machine learning?";
const MODEL: &str = "gpt-4o";

/// This process's CPU time (user + system) so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1_000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Whether this figure is measured: `BENCH_ONLY=<text>` keeps only the figures whose
/// "client mode" contains the text, `BENCH_SKIP=<text>` leaves out those that do
/// (scripts/bench.sh measures query_many apart, see there).
fn selected(client: &str, mode: &str) -> bool {
    let figure = format!("{client} {mode}");
    let env = |name| {
        std::env::var(name)
            .ok()
            .filter(|text: &String| !text.is_empty())
    };
    env("BENCH_ONLY").is_none_or(|only| figure.contains(&only))
        && env("BENCH_SKIP").is_none_or(|skip| !figure.contains(&skip))
}

/// Runs `run` (which makes `queries` queries) and prints its figures as a `BENCH` JSON line.
async fn measure<F: std::future::Future<Output = ()>>(
    client: &str,
    mode: &str,
    queries: usize,
    run: F,
) {
    if !selected(client, mode) {
        return;
    }
    let (cpu, wall) = (cpu_time(), Instant::now());
    run.await;
    let (wall, cpu) = (wall.elapsed(), cpu_time() - cpu);
    let line = json!({
        "lang": "rust",
        "client": client,
        "mode": mode,
        "queries": queries,
        "qps": queries as f64 / wall.as_secs_f64(),
        "cpu_us_per_query": cpu.as_secs_f64() * 1e6 / queries as f64,
    });
    println!("BENCH {line}");
}

/// The competitor: what a careful user writes by hand with reqwest and serde_json.
#[derive(Clone)]
struct Raw {
    http: reqwest::Client,
    url: reqwest::Url,
    auth: String,
}

impl Raw {
    async fn query(&self) -> QueryResponse {
        let answer = self
            .http
            .post(self.url.clone())
            .header(reqwest::header::AUTHORIZATION, &self.auth)
            .json(&json!({ "prompt": PROMPT, "model": MODEL }))
            .send()
            .await
            .expect("raw send");
        assert!(answer.status().is_success(), "{}", answer.status());
        let body = answer.bytes().await.expect("raw body");
        serde_json::from_slice(&body).expect("raw json")
    }
}

fn ask() -> QueryRequest {
    QueryRequest::new(PROMPT, MODEL)
}

async fn concurrently<F, Fut>(each: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let mut workers = JoinSet::new();
    for _ in 0..IN_FLIGHT {
        workers.spawn(each());
    }
    while let Some(result) = workers.join_next().await {
        result.expect("worker");
    }
}

/// The "64 in flight" figure of one client: `worker(n)` makes `n` queries one after another.
/// Each run is preceded by a short unmeasured one at the same concurrency (as in the Python and
/// Node benchmarks), so that the first client measured does not pay alone for opening the
/// connections and warming the machine up.
async fn in_flight<F, Fut>(client: &str, worker: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !selected(client, "64 in flight") {
        return;
    }
    concurrently(|| worker(IN_FLIGHT_WARM_UP)).await;
    let each = CONCURRENT_TOTAL / IN_FLIGHT;
    measure(
        client,
        "64 in flight",
        each * IN_FLIGHT,
        concurrently(|| worker(each)),
    )
    .await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (url, key, own): (String, String, Option<RunningEmulator>) = match (
        std::env::var("VECTORCACHE_BENCH_URL"),
        std::env::var("VECTORCACHE_API_KEY"),
    ) {
        (Ok(url), Ok(key)) => (url, key, None),
        _ => {
            let key = generate_key();
            let emulator = Emulator::start_local(EmulatorConfig::with_key(key.clone()), 0)
                .await
                .expect("emulator");
            (emulator.url(), key, Some(emulator))
        }
    };
    let client = Client::builder()
        .api_key(key.clone())
        .base_url(url.clone())
        .build()
        .expect("client");
    // A careful user's client: a timeout (the SDK's default, 30 s) and the URL parsed once.
    let raw = Raw {
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("reqwest client"),
        url: reqwest::Url::parse(&format!("{url}/v1/cache/query")).expect("url"),
        auth: format!("Bearer {key}"),
    };
    client.query(ask()).await.expect("warm-up miss");
    for _ in 0..200 {
        assert!(client.query(ask()).await.expect("warm-up").cache_hit);
        assert!(raw.query().await.cache_hit);
    }

    // As in the Python and Node benchmarks, one unmeasured batch first (it opens the
    // connections the measured ones use).
    let batch = || client.query_many((0..CONCURRENT_TOTAL).map(|_| ask()), IN_FLIGHT);
    if selected("vectorcache", "query_many 64") {
        batch().await;
    }
    let rounds = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    for _ in 0..rounds {
        for _ in 0..SEQUENTIAL_TURNS {
            measure("vectorcache", "sequential", SEQUENTIAL, async {
                for _ in 0..SEQUENTIAL {
                    assert!(client.query(ask()).await.expect("hit").cache_hit);
                }
            })
            .await;
            measure("reqwest+serde_json", "sequential", SEQUENTIAL, async {
                for _ in 0..SEQUENTIAL {
                    assert!(raw.query().await.cache_hit);
                }
            })
            .await;
        }
        in_flight("vectorcache", |n| {
            let client = client.clone();
            async move {
                for _ in 0..n {
                    assert!(client.query(ask()).await.expect("hit").cache_hit);
                }
            }
        })
        .await;
        in_flight("reqwest+serde_json", |n| {
            let raw = raw.clone();
            async move {
                for _ in 0..n {
                    assert!(raw.query().await.cache_hit);
                }
            }
        })
        .await;
        measure("vectorcache", "query_many 64", CONCURRENT_TOTAL, async {
            let answers = batch().await;
            assert!(answers
                .iter()
                .all(|a| a.as_ref().is_ok_and(|a| a.cache_hit)));
        })
        .await;
    }
    if let Some(emulator) = own {
        emulator.shutdown().await;
    }
}
