//! Fills one cache segment with 10,000 entries and prints how long searches take.
//!
//! Run with `cargo run --release -p vectorcache-emulator --example bench`.
//! Prints the timings only; nothing is asserted.

use std::time::Instant;

use serde_json::json;
use vectorcache_emulator::config::generate_key;
use vectorcache_emulator::embed::{canonical, embed};
use vectorcache_emulator::store::{SegmentKey, Store};
use vectorcache_emulator::{Emulator, EmulatorConfig};

const ENTRIES: usize = 10_000;

const TOPICS: [&str; 10] = [
    "machine learning",
    "the french revolution",
    "sourdough bread",
    "rust lifetimes",
    "black holes",
    "tax returns",
    "marathon training",
    "jazz harmony",
    "kubernetes",
    "tide pools",
];
const ASKS: [&str; 5] = [
    "What is",
    "Explain",
    "Give me a summary of",
    "How do I learn",
    "Why care about",
];

fn prompt(i: usize) -> String {
    format!(
        "{} {} (question {i}, variant {})",
        ASKS[i % ASKS.len()],
        TOPICS[(i / ASKS.len()) % TOPICS.len()],
        i * 7919 % 10_007
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The store alone.
    let store = Store::default();
    let key = SegmentKey {
        project: "p".into(),
        context: None,
    };
    for i in 0..ENTRIES {
        let p = prompt(i);
        store.insert(
            key.clone(),
            canonical(&p),
            &embed(&p),
            &p,
            "answer",
            "gpt-4o",
        );
    }
    let probe = "what is machine learning question 5 variant";
    let e = embed(probe);
    let c = canonical(probe);
    let runs = 200;
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(store.search(&key, &c, &e));
    }
    let scan = started.elapsed() / runs;
    let exact_prompt = prompt(1234);
    let (ee, ec) = (embed(&exact_prompt), canonical(&exact_prompt));
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(store.search(&key, &ec, &ee));
    }
    let exact = started.elapsed() / runs;
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(embed(probe));
    }
    let embedding = started.elapsed() / runs;
    println!("store, {ENTRIES} entries: full scan {scan:?}, exact match {exact:?}, embedding {embedding:?}");

    // 2. Through HTTP, as the server measures it (debug.search_time_ms).
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let key = generate_key();
        let emu = Emulator::start(EmulatorConfig::with_key(&key), "127.0.0.1:0".parse()?).await?;
        let client = reqwest::Client::builder().no_proxy().build()?;
        let url = format!("{}/v1/cache/query", emu.url());
        let started = Instant::now();
        let mut batch = Vec::new();
        for i in 0..ENTRIES {
            let request = client
                .post(&url)
                .bearer_auth(&key)
                .json(&json!({"prompt": prompt(i), "model": "gpt-4o", "similarity_threshold": 1.0}))
                .send();
            batch.push(request);
            if batch.len() == 64 || i + 1 == ENTRIES {
                for response in futures_join(std::mem::take(&mut batch)).await {
                    response?.error_for_status()?;
                }
            }
        }
        println!("filled {ENTRIES} entries over HTTP in {:?}", started.elapsed());
        for (label, text) in [("semantic", probe.to_owned()), ("exact", prompt(1234))] {
            let mut times = Vec::new();
            for _ in 0..20 {
                let body: serde_json::Value = client
                    .post(&url)
                    .bearer_auth(&key)
                    .json(&json!({"prompt": text, "model": "gpt-4o", "include_debug": true, "similarity_threshold": 0.0}))
                    .send()
                    .await?
                    .json()
                    .await?;
                times.push(body["debug"]["search_time_ms"].as_f64().unwrap_or(f64::NAN));
                assert_eq!(body["debug"]["cache_entry_count"], ENTRIES);
            }
            times.sort_by(f64::total_cmp);
            println!(
                "server search_time_ms ({label} hit, {ENTRIES} entries): median {:.4} ms, max {:.4} ms",
                times[times.len() / 2],
                times[times.len() - 1]
            );
        }
        emu.shutdown().await;
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    Ok(())
}

/// Awaits a batch of futures concurrently (without pulling in the `futures` crate).
async fn futures_join<F, T>(futures: Vec<F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Ok(value) = handle.await {
            out.push(value);
        }
    }
    out
}
