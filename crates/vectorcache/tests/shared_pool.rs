//! Clients that share their connection pool (the Python and Node packages' clients): the
//! same settings share one pool per process, other settings get their own, and a pool
//! outlives its last client by its idle timeout (as its idle connections would).
#![cfg(feature = "bindings")]

mod common;

use std::time::{Duration, Instant};

use common::raw::{Behaviour, RawServer};
use common::KEY;
use vectorcache::{Client, QueryRequest};

/// A sharing client's builder. Each test passes its own `connect_timeout`, so that tests
/// running at once (each on its own runtime) never share a pool with one another.
fn sharing(server: &RawServer, connect_timeout_ms: u64) -> vectorcache::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .connect_timeout(Duration::from_millis(connect_timeout_ms))
        .share_connections()
}

async fn ask(client: &Client, prompt: &str) {
    assert!(
        client
            .query(QueryRequest::new(prompt, "m"))
            .await
            .unwrap()
            .cache_hit
    );
}

async fn settle(server: &RawServer, open: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    let counts = &server.counts;
    while counts.get(&counts.open) != open && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    counts.get(&counts.open)
}

#[tokio::test]
async fn clients_with_the_same_settings_share_one_pool() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let clients: Vec<Client> = (0..5)
        .map(|_| sharing(&server, 10_001).build().unwrap())
        .collect();
    for (n, client) in clients.iter().enumerate() {
        ask(client, &format!("q{n}")).await;
    }
    let counts = &server.counts;
    assert_eq!(counts.get(&counts.requests), 5);
    assert_eq!(
        counts.get(&counts.connections),
        1,
        "one kept-alive connection for all five"
    );
}

#[tokio::test]
async fn a_client_made_per_query_reuses_the_connection_while_another_client_lives() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let keeper = sharing(&server, 10_002).build().unwrap();
    for n in 0..20 {
        let per_query = sharing(&server, 10_002).build().unwrap();
        ask(&per_query, &format!("q{n}")).await;
    }
    assert_eq!(server.counts.get(&server.counts.connections), 1);
    drop(keeper);
}

#[tokio::test]
async fn other_connection_settings_get_a_pool_of_their_own() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let first = sharing(&server, 10_003).build().unwrap();
    let bounded = sharing(&server, 10_003).max_connections(7).build().unwrap();
    let slower = sharing(&server, 10_004).build().unwrap();
    let alone = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .connect_timeout(Duration::from_millis(10_003))
        .build()
        .unwrap();
    for (n, client) in [&first, &bounded, &slower, &alone].into_iter().enumerate() {
        ask(client, &format!("q{n}")).await;
    }
    assert_eq!(server.counts.get(&server.counts.connections), 4);
    // What differs from the pool's settings is only what reaches the pool: a longer request
    // timeout, say, shares it.
    let patient = sharing(&server, 10_003)
        .timeout(Duration::from_secs(99))
        .build()
        .unwrap();
    ask(&patient, "patient").await;
    assert_eq!(server.counts.get(&server.counts.connections), 4);
}

#[tokio::test]
async fn a_pool_outlives_its_clients_by_its_idle_timeout() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let idle = Duration::from_millis(300);
    let made = || {
        sharing(&server, 10_005)
            .pool_idle_timeout(idle)
            .build()
            .unwrap()
    };
    // A client per query, each gone before the next is made (a `with` block per request).
    for prompt in ["a", "b", "c"] {
        let client = made();
        ask(&client, prompt).await;
    }
    let counts = &server.counts;
    assert_eq!(
        counts.get(&counts.connections),
        1,
        "each found the one before's connection"
    );
    assert_eq!(
        settle(&server, 0).await,
        0,
        "closed once idle past its timeout"
    );
    let later = made();
    ask(&later, "d").await;
    assert_eq!(counts.get(&counts.connections), 2);
}

#[tokio::test]
async fn reset_connections_gives_a_new_pool_that_later_clients_share() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let earlier = sharing(&server, 10_006).build().unwrap();
    let resetting = sharing(&server, 10_006).build().unwrap();
    ask(&earlier, "a").await;
    resetting.reset_connections().unwrap();
    ask(&resetting, "b").await;
    assert_eq!(
        server.counts.get(&server.counts.connections),
        2,
        "a new pool"
    );
    let later = sharing(&server, 10_006).build().unwrap();
    ask(&later, "c").await;
    ask(&earlier, "d").await;
    assert_eq!(
        server.counts.get(&server.counts.connections),
        2,
        "the later client took the new pool, the earlier one kept the old"
    );
}
