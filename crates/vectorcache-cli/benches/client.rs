//! Client latency and throughput against the in-process emulator, printed as figures.
//!
//! `cargo bench -p vectorcache-cli --bench client`. The emulator's own server time comes back
//! in the `debug` object, so the client's share of each round trip is shown separately.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;
use vectorcache::{Client, QueryRequest};
use vectorcache_emulator::config::generate_key;
use vectorcache_emulator::{Emulator, EmulatorConfig};

const SEQUENTIAL: usize = 2_000;
const CONCURRENT_TOTAL: usize = 20_000;
const IN_FLIGHT: usize = 64;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let key = generate_key();
    let emulator = Emulator::start_local(EmulatorConfig::with_key(key.clone()), 0)
        .await
        .expect("emulator");
    let client = Client::builder()
        .api_key(key)
        .base_url(emulator.url())
        .build()
        .expect("client");
    let ask = || QueryRequest::new("What is machine learning?", "gpt-4o");
    client.query(ask()).await.expect("warm-up miss");

    let mut round_trips = Vec::with_capacity(SEQUENTIAL);
    let mut server_ms = 0.0;
    for _ in 0..SEQUENTIAL {
        let started = Instant::now();
        let answer = client.query(ask().include_debug(true)).await.expect("hit");
        round_trips.push(started.elapsed());
        server_ms += answer.debug.map_or(0.0, |d| d.total_time_ms);
        assert!(answer.cache_hit);
    }
    round_trips.sort();
    let mean = round_trips.iter().sum::<Duration>() / SEQUENTIAL as u32;
    let server_mean = server_ms / SEQUENTIAL as f64;
    println!("sequential hits ({SEQUENTIAL}, one connection, loopback):");
    println!(
        "  round trip p50 {:.3} ms  p99 {:.3} ms  mean {:.3} ms",
        ms(percentile(&round_trips, 0.50)),
        ms(percentile(&round_trips, 0.99)),
        ms(mean)
    );
    println!(
        "  emulator server time mean {server_mean:.3} ms; client + HTTP + loopback {:.3} ms",
        ms(mean) - server_mean
    );

    let started = Instant::now();
    let mut workers = JoinSet::new();
    for _ in 0..IN_FLIGHT {
        let client = client.clone();
        workers.spawn(async move {
            for _ in 0..CONCURRENT_TOTAL / IN_FLIGHT {
                client
                    .query(QueryRequest::new("What is machine learning?", "gpt-4o"))
                    .await
                    .expect("hit");
            }
        });
    }
    while let Some(result) = workers.join_next().await {
        result.expect("worker");
    }
    let elapsed = started.elapsed();
    let done = (CONCURRENT_TOTAL / IN_FLIGHT) * IN_FLIGHT;
    println!("concurrent hits ({done}, {IN_FLIGHT} in flight, one shared client):");
    println!(
        "  {:.0} queries/s, {:.3} s in all",
        done as f64 / elapsed.as_secs_f64(),
        elapsed.as_secs_f64()
    );
    emulator.shutdown().await;
}
