//! The runtime side of a call: per-request settings, the total timeout, the bound on
//! connections (and the wait at the bound for a connection on its way back), stale keep-alive
//! connections, and cancellation by dropping the future.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::raw::{Behaviour, RawServer};
use common::*;
use vectorcache::{Client, Error, ErrorKind, QueryRequest};
use wiremock::{MockServer, ResponseTemplate};

/// What a connect at the bound logs when it waits for a connection on its way back.
const HANDOVER_WAIT: &str = "waiting up to 50 ms for a pooled connection on its way back";

fn raw_client(server: &RawServer) -> vectorcache::ClientBuilder {
    Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

#[tokio::test]
async fn a_request_timeout_beats_the_clients() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(800))).await;
    let client = raw_client(&server)
        .timeout(Duration::from_secs(30))
        .max_retries(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client
        .query(QueryRequest::new("p", "m").timeout(Duration::from_millis(100)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Timeout { timeout, total: None, connecting: false, connect: None, .. } if timeout == Duration::from_millis(100)),
        "{err:?}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(700),
        "{:?}",
        started.elapsed()
    );
    // And the client's own timeout still applies to requests that set none.
    client.query(QueryRequest::new("p", "m")).await.unwrap();
}

/// A listener that never accepts, its queue full: connecting to it hangs, as it does when a
/// firewall drops the packets. Connecting works again once both are dropped.
fn unanswered_listener() -> (tokio::net::TcpListener, std::net::TcpStream) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(0).unwrap();
    let queued = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    (listener, queued)
}

/// A client made by `configure` (with a 30 s timeout per attempt), and its error for a query
/// to an [`unanswered_listener`].
async fn connecting_fails(
    configure: impl FnOnce(vectorcache::ClientBuilder) -> vectorcache::ClientBuilder,
) -> (Client, Error) {
    let (listener, _queued) = unanswered_listener();
    let addr = listener.local_addr().unwrap();
    let builder = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .timeout(Duration::from_secs(30));
    let client = configure(builder).build().unwrap();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    (client, err)
}

#[tokio::test]
async fn a_connect_that_runs_out_names_the_connect_timeout() {
    let (client, err) = connecting_fails(|builder| {
        builder
            .connect_timeout(Duration::from_millis(200))
            .max_retries(1)
            .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
    })
    .await;
    assert!(
        matches!(
            err,
            Error::Timeout { timeout, attempts: 2, total: None, connecting: true, connect: Some(connect), .. }
                if timeout == Duration::from_secs(30) && connect == Duration::from_millis(200)
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "request timed out after 2 attempt(s): connecting to the server took longer than the \
         connect timeout of 200ms (is a firewall dropping the packets, or the host down?)"
    );
    assert_eq!(client.stats().errors.get(&ErrorKind::Timeout), Some(&1));
}

#[tokio::test]
async fn a_given_http_clients_connect_timeout_is_not_named_as_the_sdks() {
    // The SDK's connect timeout (10 s by default) does not apply to a client given its own
    // reqwest::Client, and that client's setting cannot be read back.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let (_, err) = connecting_fails(|builder| builder.http_client(http).max_retries(0)).await;
    assert!(
        matches!(
            err,
            Error::Timeout {
                attempts: 1,
                total: None,
                connecting: true,
                connect: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "request timed out after 1 attempt(s): connecting to the server took longer than the \
         connect timeout of the HTTP client given to the SDK (is a firewall dropping the \
         packets, or the host down?)"
    );
}

#[tokio::test]
async fn request_max_retries_and_headers_beat_the_clients() {
    let server = MockServer::start().await;
    answer(&server, json_error(503, "down")).await;
    let client = builder(&server)
        .max_retries(0)
        .default_header("x-team", "client")
        .build()
        .unwrap();
    let err = client
        .query(
            QueryRequest::new("p", "m")
                .max_retries(2)
                .header("x-team", "request")
                .header("x-trace", "abc"),
        )
        .await
        .unwrap_err();
    assert_eq!(err.attempts(), Some(3));
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    for request in &sent {
        assert_eq!(request.headers["x-team"], "request");
        assert_eq!(request.headers["x-trace"], "abc");
    }
}

#[tokio::test]
async fn bad_request_settings_send_nothing() {
    let server = MockServer::start().await;
    let client = client(&server);
    for request in [
        QueryRequest::new("p", "m").timeout(Duration::ZERO),
        QueryRequest::new("p", "m").total_timeout(Duration::ZERO),
        QueryRequest::new("p", "m").header("authorization", "Bearer other"),
        QueryRequest::new("p", "m").header("bad name", "v"),
        QueryRequest::new("p", "m").header("x-ok", "a\nb"),
    ] {
        let err = client.query(request.clone()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{request:?}: {err}");
    }
    assert!(requests(&server).await.is_empty());
}

#[tokio::test]
async fn the_total_timeout_bounds_attempts_and_backoff() {
    // The case: 503 after 0.9 s, 1 s per attempt, 5 retries, 2.5 s in all.
    let server = RawServer::start(Behaviour::UnavailableAfter(Duration::from_millis(900))).await;
    let client = Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .timeout(Duration::from_secs(1))
        .max_retries(5)
        .total_timeout(Duration::from_millis(2500))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("total timeout 2.5 s ended the call after {elapsed:?}");
    match &err {
        Error::Timeout {
            total: Some(total),
            attempts,
            ..
        } => {
            assert_eq!(*total, Duration::from_millis(2500));
            assert!((2..=3).contains(attempts), "{attempts}");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("total timeout"), "{err}");
    // Margins for a loaded 2-core machine; `make bench`-style figures are printed above.
    assert!(elapsed >= Duration::from_millis(2500), "{elapsed:?}");
    assert!(elapsed < Duration::from_millis(3200), "{elapsed:?}");
}

#[tokio::test]
async fn a_server_wait_past_the_total_ends_the_call_at_once_with_the_servers_error() {
    let server = MockServer::start().await;
    answer(
        &server,
        json_error(429, "slow down").insert_header("retry-after", "5"),
    )
    .await;
    let client = builder(&server).max_retries(3).build().unwrap();
    let started = Instant::now();
    let err = client
        .query(QueryRequest::new("p", "m").total_timeout(Duration::from_secs(2)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited, "{err:?}");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(5)));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(requests(&server).await.len(), 1);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_total_timeout_beyond_the_clock_is_no_bound() {
    // `Duration::MAX` from now does not fit an `Instant`: no panic, an answer, and a server
    // wait the retry honours as with no bound at all.
    let server = MockServer::start().await;
    answer_times(
        &server,
        1,
        json_error(429, "slow").insert_header("retry-after-ms", "10"),
    )
    .await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = builder(&server)
        .total_timeout(Duration::MAX)
        .build()
        .unwrap();
    let answer = client
        .query(QueryRequest::new("p", "m").total_timeout(Duration::MAX))
        .await
        .unwrap();
    assert!(answer.cache_hit);
    assert!(
        client
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap()
            .cache_hit
    );
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_total_timeout_counts_the_attempt_it_cut_short() {
    // Two quick 503s, then an answer that never comes in time: the total ends the third attempt.
    let server = MockServer::start().await;
    answer_times(&server, 2, json_error(503, "busy")).await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(hit_body())
            .set_delay(Duration::from_secs(10)),
    )
    .await;
    let client = builder(&server).max_retries(5).build().unwrap();
    let err = client
        .query(QueryRequest::new("p", "m").total_timeout(Duration::from_secs(1)))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(err.attempts(), Some(3));
    assert_eq!(requests(&server).await.len(), 3);
}

#[tokio::test]
async fn a_server_wait_within_the_total_is_waited_out() {
    let server = MockServer::start().await;
    answer_times(
        &server,
        1,
        json_error(429, "slow down").insert_header("retry-after", "1"),
    )
    .await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = builder(&server).max_retries(3).build().unwrap();
    let answer = client
        .query(QueryRequest::new("p", "m").total_timeout(Duration::from_secs(30)))
        .await
        .expect("the 1 s wait fits in the 30 s total");
    assert!(answer.cache_hit);
    assert_eq!(requests(&server).await.len(), 2);
}

#[tokio::test]
async fn queries_beyond_max_connections_wait_their_turn() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(100))).await;
    let client = raw_client(&server).max_connections(4).build().unwrap();
    let queries = (0..40).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.query(QueryRequest::new(format!("p{i}"), "m")).await })
    });
    for outcome in futures_join(queries).await {
        outcome.unwrap();
    }
    let counts = &server.counts;
    assert_eq!(counts.get(&counts.requests), 40);
    let peak = counts.get(&counts.peak_open);
    eprintln!(
        "peak open connections: {peak} of at most 4; {} in all",
        counts.get(&counts.connections)
    );
    assert!(peak <= 4, "{peak} connections were open at once");
    assert!(peak >= 1);
}

#[tokio::test]
async fn the_wait_for_a_connection_is_not_part_of_the_attempt_timeout() {
    // One connection, three queries of 300 ms each: the last waits 600 ms for its turn, far
    // beyond its 400 ms per-attempt timeout, and still succeeds.
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(300))).await;
    let client = raw_client(&server)
        .max_connections(1)
        .timeout(Duration::from_millis(400))
        .max_retries(0)
        .build()
        .unwrap();
    let queries = (0..3).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.query(QueryRequest::new(format!("p{i}"), "m")).await })
    });
    for outcome in futures_join(queries).await {
        outcome.unwrap();
    }
    assert_eq!(server.counts.get(&server.counts.peak_open), 1);
}

#[tokio::test]
async fn a_reused_connection_closed_by_the_server_is_retried_at_once_for_free() {
    let server = RawServer::start(Behaviour::CloseReusedConnections).await;
    let client = raw_client(&server).max_retries(0).build().unwrap();
    for i in 0..5 {
        let started = Instant::now();
        client
            .query(QueryRequest::new(format!("p{i}"), "m"))
            .await
            .unwrap_or_else(|e| panic!("query {i}: {e:?}"));
        assert!(started.elapsed() < Duration::from_millis(500));
    }
    let counts = &server.counts;
    // Every query after the first met a dead pooled connection and went again on a new one.
    assert_eq!(counts.get(&counts.connections), 5);
    assert_eq!(counts.get(&counts.requests), 9);
}

#[tokio::test]
async fn below_the_bound_a_new_connection_opens_without_waiting() {
    // Just after an answer on a kept-alive connection, a connect at the bound would wait for
    // that connection; below the bound nothing waits. One query, then four at once: one
    // reuses the pooled connection, three connect at once.
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(20))).await;
    let client = raw_client(&server).max_connections(100).build().unwrap();
    let (logs, _guard) = capture_logs(tracing::Level::DEBUG);
    client.query(QueryRequest::new("first", "m")).await.unwrap();
    let queries = (0..4).map(|i| {
        let client = client.clone();
        tokio::spawn(async move { client.query(QueryRequest::new(format!("p{i}"), "m")).await })
    });
    for outcome in futures_join(queries).await {
        outcome.unwrap();
    }
    assert_eq!(server.counts.get(&server.counts.connections), 4);
    assert_answered_without_a_wait(&logs.text(), 5);
}

#[tokio::test]
async fn a_timeout_on_a_reused_connection_is_not_retried_for_free() {
    let server = RawServer::start(Behaviour::SlowOnReusedConnections(Duration::from_secs(5))).await;
    let client = raw_client(&server)
        .timeout(Duration::from_millis(300))
        .max_retries(0)
        .build()
        .unwrap();
    client.query(QueryRequest::new("p1", "m")).await.unwrap();
    let err = client
        .query(QueryRequest::new("p2", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Timeout, "{err:?}");
    assert_eq!(err.attempts(), Some(1));
    let counts = &server.counts;
    assert_eq!(
        counts.get(&counts.requests),
        2,
        "no second try on a new connection"
    );
    assert_eq!(counts.get(&counts.connections), 1);
}

#[tokio::test]
async fn an_error_body_that_never_ends_is_cut_at_its_limit_without_waiting() {
    // 64 KiB is the error-body limit; the server sends 80 KiB, then nothing, forever. A read
    // that waited for more would end in the 5 s timeout instead (no status), and soon enough
    // that a broken limit fails this test rather than hang the suite.
    let server = RawServer::start(Behaviour::EndlessErrorBody(80 * 1024)).await;
    let client = raw_client(&server)
        .timeout(Duration::from_secs(5))
        .max_retries(0)
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    assert_eq!(err.status(), Some(500), "{err:?}");
    assert_eq!(err.body().map(str::len), Some(64 * 1024));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_new_connection_dropped_by_the_server_is_not_retried_for_free() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .max_retries(0)
        .build()
        .unwrap();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert_eq!(err.attempts(), Some(1));
    // A second connect would be in the listen backlog by now; give the accept loop time to
    // count it before checking there was none.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(accepted.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_status_error_on_a_reused_connection_is_not_retried_for_free() {
    let server = MockServer::start().await;
    answer_times(
        &server,
        1,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    answer(&server, json_error(503, "busy")).await;
    let client = builder(&server).max_retries(0).build().unwrap();
    client.query(QueryRequest::new("p1", "m")).await.unwrap();
    let err = client
        .query(QueryRequest::new("p2", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(requests(&server).await.len(), 2, "one request per query");
}

#[tokio::test]
async fn dropping_the_future_cancels_the_call_and_closes_its_connection() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_secs(5))).await;
    let client = raw_client(&server).build().unwrap();
    let call = client.query(QueryRequest::new("p", "m"));
    assert!(tokio::time::timeout(Duration::from_millis(200), call)
        .await
        .is_err());
    let counts = &server.counts;
    let deadline = Instant::now() + Duration::from_secs(2);
    while counts.get(&counts.abandoned) == 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(
        counts.get(&counts.abandoned),
        1,
        "the server saw the connection close"
    );
    assert_eq!(counts.get(&counts.requests), 1, "nothing was retried");
}

#[tokio::test]
async fn reset_connections_starts_a_new_pool() {
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let client = raw_client(&server).build().unwrap();
    client.query(QueryRequest::new("a", "m")).await.unwrap();
    client.query(QueryRequest::new("b", "m")).await.unwrap();
    assert_eq!(
        server.counts.get(&server.counts.connections),
        1,
        "kept alive"
    );
    client.reset_connections().unwrap();
    client
        .clone()
        .query(QueryRequest::new("c", "m"))
        .await
        .unwrap();
    assert_eq!(
        server.counts.get(&server.counts.connections),
        2,
        "a new pool"
    );
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    // Spawn them all before waiting for any.
    let handles: Vec<_> = handles.collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.expect("task"));
    }
    out
}

/// Runs `queries` queries one after another with one connection allowed, capturing the
/// crate's debug log: the server (for its counts), the outcomes and the log.
async fn one_by_one_at_the_bound(
    behaviour: Behaviour,
    queries: usize,
) -> (
    RawServer,
    Vec<Result<vectorcache::QueryResponse, Error>>,
    String,
) {
    let server = RawServer::start(behaviour).await;
    let client = raw_client(&server)
        .max_connections(1)
        .max_retries(0)
        // A body read past its limit then fails in seconds, not after the default 30 s.
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let (logs, _guard) = capture_logs(tracing::Level::DEBUG);
    let mut outcomes = Vec::new();
    for i in 0..queries {
        outcomes.push(client.query(QueryRequest::new(format!("p{i}"), "m")).await);
    }
    (server, outcomes, logs.text())
}

/// `answered` answers were logged, and no connect waited for a connection on its way back.
fn assert_answered_without_a_wait(logs: &str, answered: usize) {
    assert_eq!(
        logs.matches("Vectorcache answered").count(),
        answered,
        "{logs}"
    );
    assert!(!logs.contains(HANDOVER_WAIT), "{logs}");
}

#[tokio::test]
async fn at_the_bound_a_connection_the_server_closed_is_not_waited_for() {
    // The server closes each connection after its answer (`connection: close`): none is on
    // its way back, so the next query connects at once, without the handover wait (which,
    // 50 ms a query, took 2.2 s for these 40).
    let (server, outcomes, logs) = one_by_one_at_the_bound(Behaviour::HitAndClose, 40).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(server.counts.get(&server.counts.connections), 40);
    assert_answered_without_a_wait(&logs, 40);
}

#[tokio::test]
async fn at_the_bound_a_kept_alive_connection_is_handed_on_without_a_wait() {
    // The pool takes a connection back in a task of its own, which (on one thread) runs
    // before the next query looks for an idle connection: no connect, no wait for a handover.
    let (server, outcomes, logs) =
        one_by_one_at_the_bound(Behaviour::HitAfter(Duration::ZERO), 50).await;
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(server.counts.get(&server.counts.connections), 1);
    assert_answered_without_a_wait(&logs, 50);
}

#[tokio::test]
async fn at_the_bound_an_answer_cut_short_leaves_no_connection_to_wait_for() {
    // An error body cut at its limit closes its connection: the next query at the bound
    // connects at once.
    let (server, outcomes, logs) =
        one_by_one_at_the_bound(Behaviour::EndlessErrorBody(80 * 1024), 3).await;
    for outcome in outcomes {
        assert_eq!(outcome.unwrap_err().status(), Some(500));
    }
    assert_eq!(server.counts.get(&server.counts.connections), 3);
    assert_answered_without_a_wait(&logs, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_bound_a_connection_on_its_way_back_is_waited_for() {
    // One connection allowed, kept alive by the server, and a task that keeps one of the two
    // runtime threads busy: the pool's task that hands a connection back often runs late
    // there, after the next query has asked for a connection. That query waits for it
    // instead of opening a second one (without the wait, 100 queries open several).
    let server = RawServer::start(Behaviour::HitAfter(Duration::ZERO)).await;
    let client = raw_client(&server).max_connections(1).build().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let busy = {
        let stop = stop.clone();
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(3));
                tokio::task::yield_now().await;
            }
        })
    };
    for i in 0..100 {
        client
            .query(QueryRequest::new(format!("p{i}"), "m"))
            .await
            .unwrap_or_else(|e| panic!("query {i}: {e:?}"));
    }
    stop.store(true, Ordering::Relaxed);
    busy.await.unwrap();
    let counts = &server.counts;
    assert_eq!(counts.get(&counts.requests), 100);
    assert_eq!(counts.get(&counts.connections), 1);
}

#[tokio::test]
async fn a_refused_connection_through_a_callers_http_client_is_not_retried_for_free() {
    // A caller's own reqwest client has no connector of the crate's, so no attempt through it
    // is known to have connected: a refused connection must still not pass for a stale one.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let client = Client::builder()
        .api_key(KEY)
        .base_url(format!("http://127.0.0.1:{port}"))
        .http_client(reqwest::Client::builder().no_proxy().build().unwrap())
        .max_retries(0)
        .build()
        .unwrap();
    let (logs, _guard) = capture_logs(tracing::Level::DEBUG);
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
    assert_eq!(err.attempts(), Some(1));
    let logs = logs.text();
    assert!(!logs.contains("retrying on a new connection"), "{logs}");
}

/// A client shared by runtimes that come and go, as a `static` client is by `#[tokio::test]`s
/// running in parallel: a pooled connection whose runtime ended is dead ("dispatch task is
/// gone"), and the free retry for a dead pooled connection may meet another one.
#[test]
fn a_client_shared_by_short_lived_runtimes_answers_every_query() {
    let (_server_runtime, server) = hits_on_a_runtime_of_their_own();
    let client = builder(&server).max_retries(0).build().unwrap();
    let mut failures = Vec::new();
    for round in 0..150 {
        let tests: Vec<_> = (0..4)
            .map(|test| {
                let client = client.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(async {
                        let mut failed = Vec::new();
                        for i in 0..1 + (test + round) % 3 {
                            let request = QueryRequest::new(format!("r{round} t{test} q{i}"), "m");
                            if let Err(e) = client.query(request).await {
                                failed.push(e.to_string());
                            }
                        }
                        failed
                    })
                })
            })
            .collect();
        for test in tests {
            failures.extend(test.join().unwrap());
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed, the first: {}",
        failures.len(),
        failures[0]
    );
    assert_eq!(client.stats().retries, 0);
}

/// A client used from a runtime that then sits idle (a sync wrapper's, between calls), then
/// from another: its pooled connection is a task of the idle runtime, which nothing runs, so
/// a query sent on it would wait out its timeout without reaching the server.
#[test]
fn a_client_used_from_a_second_runtime_does_not_wait_on_the_first() {
    let (_server_runtime, server) = hits_on_a_runtime_of_their_own();
    let client = builder(&server)
        .timeout(Duration::from_secs(5))
        .max_retries(0)
        .build()
        .unwrap();
    let sync = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    sync.block_on(client.query(QueryRequest::new("first", "m")))
        .unwrap();
    let other = tokio::runtime::Runtime::new().unwrap();
    other
        .block_on(client.query(QueryRequest::new("second", "m")))
        .unwrap_or_else(|e| panic!("from the second runtime: {e}"));
    // And the first runtime's own pool still serves it.
    sync.block_on(client.query(QueryRequest::new("third", "m")))
        .unwrap();
    let received = other.block_on(server.received_requests()).unwrap();
    assert_eq!(received.len(), 3);
}

/// A server answering every query with a hit, on a runtime of its own (returned, to keep it
/// running), for tests whose client runs on runtimes that come and go.
fn hits_on_a_runtime_of_their_own() -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        wiremock::Mock::given(wiremock::matchers::method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(hit_body()))
            .mount(&server)
            .await;
        server
    });
    (runtime, server)
}
