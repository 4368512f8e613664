//! `vectorcache demo`: an in-process emulator and a guided tour of what the client does.

use vectorcache::{Client, Error, QueryRequest, QueryResponse};
use vectorcache_emulator::config::generate_key;
use vectorcache_emulator::{Emulator, EmulatorConfig, DEMO_SIMILAR_PROMPTS};

use crate::console::outln;
use crate::{exit, output};

const MODEL: &str = "gpt-4o";

pub async fn run() -> u8 {
    match tour().await {
        Ok(()) => exit::SUCCESS,
        Err(error) => output::report_error(&error, false),
    }
}

/// Hits, misses and savings across the tour: the counters the docs have users write by hand.
#[derive(Default)]
struct Totals {
    queries: u32,
    hits: u32,
    cost_saved: f64,
}

impl Totals {
    fn record(&mut self, answer: &QueryResponse) {
        self.queries += 1;
        self.hits += u32::from(answer.cache_hit);
        self.cost_saved += answer.cost_saved;
    }
}

async fn tour() -> Result<(), Error> {
    // A fresh key for this run only: the demo never touches the caller's real key.
    let key = generate_key();
    let emulator = Emulator::start_local(EmulatorConfig::with_key(key.clone()), 0)
        .await
        .map_err(|e| Error::invalid_config(format!("cannot start the emulator: {e}")))?;
    let client = Client::builder()
        .api_key(key)
        .base_url(emulator.url())
        .build()?;
    let mut totals = Totals::default();
    let (question, reworded) = DEMO_SIMILAR_PROMPTS;

    outln!(
        "Vectorcache demo: a local emulator is running at {}",
        emulator.url()
    );
    outln!("(nothing leaves this machine; similarity is lexical, computed by the emulator)\n");

    step(
        1,
        "A first question is a MISS: the LLM answers and the answer is cached",
    );
    ask(&client, &mut totals, QueryRequest::new(question, MODEL)).await?;

    step(
        2,
        "A reworded question is a HIT: the cached answer comes back, with the money saved",
    );
    ask(&client, &mut totals, QueryRequest::new(reworded, MODEL)).await?;

    step(
        3,
        "Context segments the cache: the same question under context \"support\" misses once...",
    );
    ask(
        &client,
        &mut totals,
        QueryRequest::new(question, MODEL).context("support"),
    )
    .await?;
    outln!("   ...and hits from then on, within that context:");
    ask(
        &client,
        &mut totals,
        QueryRequest::new(question, MODEL).context("support"),
    )
    .await?;

    step(
        4,
        "A wrong key is refused with a typed 401 (the key itself is never printed)",
    );
    let intruder = Client::builder()
        .api_key(generate_key())
        .base_url(emulator.url())
        .build()?;
    outln!("   key in use: {}", intruder.api_key());
    match intruder.query(QueryRequest::new(question, MODEL)).await {
        Err(Error::Authentication(e)) => {
            outln!(
                "   Error::Authentication  status {}  detail {:?}",
                e.status,
                e.detail
            );
        }
        other => outln!("   unexpected: {other:?}"),
    }
    outln!();

    step(5, "Running totals");
    let rate = 100.0 * f64::from(totals.hits) / f64::from(totals.queries.max(1));
    outln!(
        "   {} queries, {} hits, {} misses, hit rate {rate:.0}%, saved ${:.6}",
        totals.queries,
        totals.hits,
        totals.queries - totals.hits,
        totals.cost_saved
    );
    outln!("\nNext: `vectorcache emulator` serves this API for your own app; see README.md.");
    emulator.shutdown().await;
    Ok(())
}

fn step(n: u32, title: &str) {
    outln!("{n}. {title}");
}

async fn ask(client: &Client, totals: &mut Totals, request: QueryRequest) -> Result<(), Error> {
    outln!("   > {:?} ({})", request.prompt(), request.model());
    let answer = client.query(request).await?;
    totals.record(&answer);
    for line in output::describe(&answer).lines() {
        if line.is_empty() {
            outln!();
        } else {
            outln!("   {line}");
        }
    }
    outln!();
    Ok(())
}
