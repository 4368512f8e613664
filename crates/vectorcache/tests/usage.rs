//! Usage statistics and batches, against a scripted server.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use vectorcache::{ErrorKind, QueryRequest};
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn miss() -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "cache_hit": false, "response": "fresh", "similarity_score": null,
        "cost_saved": 0.0, "llm_provider": "openai"
    }))
}

/// A client of `server` whose client-wide event hook is `hook` (set on the builder).
fn client_with_hook(server: &MockServer, hook: vectorcache::EventHook) -> vectorcache::Client {
    builder(server).on_event(hook).build().unwrap()
}

/// A client of a raw test server.
fn raw_client(server: &common::raw::RawServer) -> vectorcache::Client {
    vectorcache::Client::builder()
        .api_key(KEY)
        .base_url(&server.url)
        .build()
        .unwrap()
}

/// Answers by prompt: `hit` a hit, `miss` a miss, `denied` 401, `flaky` two 503s then a hit.
async fn scripted_server() -> MockServer {
    let server = MockServer::start().await;
    let by_prompt = |prompt: &str| {
        Mock::given(method("POST"))
            .and(path(QUERY_PATH))
            .and(body_partial_json(json!({ "prompt": prompt })))
    };
    by_prompt("flaky")
        .respond_with(json_error(503, "busy"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    by_prompt("flaky")
        .respond_with(ResponseTemplate::new(200).set_body_json(hit_body()))
        .mount(&server)
        .await;
    by_prompt("hit")
        .respond_with(ResponseTemplate::new(200).set_body_json(hit_body()))
        .mount(&server)
        .await;
    by_prompt("miss").respond_with(miss()).mount(&server).await;
    by_prompt("denied")
        .respond_with(json_error(401, "Invalid API key"))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn stats_count_a_known_sequence_exactly() {
    let server = scripted_server().await;
    let client = builder(&server).max_retries(2).build().unwrap();
    for prompt in ["hit", "hit", "miss", "flaky"] {
        client
            .query(QueryRequest::new(prompt, "gpt-4o"))
            .await
            .unwrap();
    }
    client
        .query(QueryRequest::new("denied", "gpt-4o"))
        .await
        .unwrap_err();
    client
        .query(QueryRequest::new(" ", "gpt-4o"))
        .await
        .unwrap_err();

    // Clones share the counters.
    let stats = client.clone().stats();
    assert_eq!(stats.queries, 6);
    assert_eq!((stats.hits, stats.misses), (3, 1));
    assert_eq!(stats.hit_rate, 0.75);
    // hit_body() saves 0.0021 each time: three hits.
    assert!(
        (stats.cost_saved - 3.0 * 0.0021).abs() < 1e-9,
        "{}",
        stats.cost_saved
    );
    assert_eq!(stats.retries, 2);
    assert_eq!(
        stats.errors.into_iter().collect::<Vec<_>>(),
        vec![
            (ErrorKind::Authentication, 1),
            (ErrorKind::InvalidRequest, 1)
        ]
    );
    let latency = stats.latency;
    assert!(
        latency.p50 > Duration::ZERO && latency.p50 <= latency.p95 && latency.p95 <= latency.p99
    );

    client.reset_stats();
    let fresh = client.stats();
    assert_eq!((fresh.queries, fresh.hits, fresh.retries), (0, 0, 0));
    assert!(fresh.errors.is_empty());
}

#[tokio::test]
async fn a_batch_keeps_input_order_and_each_requests_own_error() {
    let server = scripted_server().await;
    let client = builder(&server).max_retries(2).build().unwrap();
    let prompts = ["miss", "denied", "hit", " ", "flaky", "hit"];
    let outcomes = client
        .query_many(prompts.iter().map(|p| QueryRequest::new(*p, "gpt-4o")), 3)
        .await;
    assert_eq!(outcomes.len(), prompts.len());
    let summary: Vec<String> = outcomes
        .iter()
        .map(|o| match o {
            Ok(answer) => format!("hit={}", answer.cache_hit),
            Err(e) => e.kind().to_string(),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "hit=false",
            "authentication",
            "hit=true",
            "invalid_request",
            "hit=true",
            "hit=true"
        ]
    );
    assert_eq!(client.stats().queries, 6);
}

#[tokio::test]
async fn a_batch_runs_at_most_concurrency_requests_at_once() {
    use common::raw::{Behaviour, RawServer};
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(50))).await;
    let client = raw_client(&server);
    let outcomes = client
        .query_many((0..20).map(|i| QueryRequest::new(format!("p{i}"), "m")), 4)
        .await;
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(server.counts.get(&server.counts.peak_open), 4);
    assert_eq!(server.counts.get(&server.counts.requests), 20);
    // Zero sends nothing: each outcome says why, as the bindings refuse it, and nothing is
    // counted (as for a call the bindings refuse).
    client.reset_stats();
    let outcomes = client
        .query_many((0..3).map(|i| QueryRequest::new(format!("q{i}"), "m")), 0)
        .await;
    assert_eq!(outcomes.len(), 3);
    for outcome in &outcomes {
        let error = outcome.as_ref().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRequest);
        assert_eq!(
            error.to_string(),
            "invalid request: `concurrency` must be a whole number of at least 1, got 0"
        );
    }
    assert_eq!(server.counts.get(&server.counts.requests), 20);
    assert_eq!(client.stats().queries, 0);
    // More than the batch holds runs them all at once, and no more.
    let server = RawServer::start(Behaviour::HitAfter(Duration::from_millis(50))).await;
    let client = raw_client(&server);
    let outcomes = client
        .query_many(
            (0..3).map(|i| QueryRequest::new(format!("r{i}"), "m")),
            usize::MAX,
        )
        .await;
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(server.counts.get(&server.counts.requests), 3);
    assert_eq!(server.counts.get(&server.counts.peak_open), 3);
    // An empty batch is an empty answer.
    assert!(client.query_many(Vec::new(), 4).await.is_empty());
}

#[tokio::test]
#[should_panic(expected = "the caller's hook panicked")]
async fn a_panic_in_a_batch_reaches_the_caller() {
    use std::sync::Arc;
    use vectorcache::Event;

    let server = scripted_server().await;
    let client = client_with_hook(
        &server,
        Arc::new(|_: &Event| panic!("the caller's hook panicked")),
    );
    client
        .query_many([QueryRequest::new("hit", "gpt-4o")], 2)
        .await;
}

#[tokio::test]
async fn every_answer_and_retry_reaches_the_event_hook_without_the_key() {
    use std::sync::{Arc, Mutex};
    use vectorcache::{Event, Level};

    let server = scripted_server().await;
    let seen: Arc<Mutex<Vec<Event>>> = Arc::default();
    let sink = seen.clone();
    // Two retries: the default.
    let client = client_with_hook(
        &server,
        Arc::new(move |event: &Event| sink.lock().unwrap().push(event.clone())),
    );
    client
        .query(QueryRequest::new("flaky", "gpt-4o"))
        .await
        .unwrap();

    let events = seen.lock().unwrap().clone();
    let summary: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::Answer {
                status, attempt, ..
            } => format!("answer {status} #{attempt}"),
            Event::Retry {
                retry, max_retries, ..
            } => format!("retry {retry}/{max_retries}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        [
            "answer 503 #1",
            "retry 1/2",
            "answer 503 #2",
            "retry 2/2",
            "answer 200 #3"
        ]
    );
    // Each answer is timed, with no log subscriber to ask for it: the hook is enough.
    for event in &events {
        if let Event::Answer { duration, .. } = event {
            assert!(*duration > Duration::ZERO, "{event:?}");
        }
    }
    assert_eq!(events[0].level(), Level::Debug);
    assert_eq!(events[1].level(), Level::Info);
    assert!(events[1]
        .to_string()
        .contains("503 Service Unavailable: busy"));
    for event in &events {
        assert!(!format!("{event} {event:?}").contains(&KEY[8..]));
    }
}

#[tokio::test]
async fn a_requests_own_hook_gets_its_events_and_the_clients_gets_every_calls() {
    use std::sync::{Arc, Mutex};
    use vectorcache::{Event, EventHook};

    let server = scripted_server().await;
    // Each hook notes which hook it is and the event's attempt or retry.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let hook = |name: &'static str| -> EventHook {
        let sink = seen.clone();
        Arc::new(move |event: &Event| {
            let what = match event {
                Event::Answer {
                    status, attempt, ..
                } => format!("{name}: answer {status} #{attempt}"),
                Event::Retry { retry, .. } => format!("{name}: retry {retry}"),
                other => format!("{name}: {other:?}"),
            };
            sink.lock().unwrap().push(what);
        })
    };
    let client = client_with_hook(&server, hook("client"));

    let flaky = QueryRequest::new("flaky", "gpt-4o").on_event(hook("call"));
    client.query(flaky).await.unwrap();
    client
        .query(QueryRequest::new("hit", "gpt-4o"))
        .await
        .unwrap();
    // In a batch too, where the queries run in tasks of their own.
    let batch = vec![
        QueryRequest::new("hit", "gpt-4o").on_event(hook("batch")),
        QueryRequest::new("miss", "gpt-4o"),
    ];
    client.query_many(batch, 1).await;
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "client: answer 503 #1",
            "call: answer 503 #1",
            "client: retry 1",
            "call: retry 1",
            "client: answer 503 #2",
            "call: answer 503 #2",
            "client: retry 2",
            "call: retry 2",
            "client: answer 200 #3",
            "call: answer 200 #3",
            "client: answer 200 #1",
            "client: answer 200 #1",
            "batch: answer 200 #1",
            "client: answer 200 #1",
        ]
    );
}

#[test]
fn requests_with_hooks_are_equal_when_they_share_the_hook() {
    use std::sync::Arc;
    use vectorcache::{CallHook, Event, EventHook};

    let hook: EventHook = Arc::new(|_: &Event| {});
    let one = QueryRequest::new("p", "m").on_event(hook.clone());
    assert_eq!(one, QueryRequest::new("p", "m").on_event(hook.clone()));
    assert_eq!(one.clone(), one);
    assert_ne!(
        one,
        QueryRequest::new("p", "m").on_event(Arc::new(|_: &Event| {}))
    );
    assert_ne!(one, QueryRequest::new("p", "m"));
    assert_eq!(CallHook::from(hook.clone()), CallHook::new(hook));
    assert!(format!("{one:?}").contains("on_event: Some(CallHook(..))"));
}

/// Polls `future` on this thread, outside any runtime's workers, parking between wake-ups.
fn block_on<F: std::future::Future>(future: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = std::sync::Arc::new(Unpark(std::thread::current())).into();
    let mut context = std::task::Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
        std::thread::park();
    }
}

#[test]
fn a_batch_whose_runtime_shuts_down_says_its_queries_were_cancelled() {
    // The batch's queries run as tasks of the runtime it was started in; a caller polling the
    // batch from outside that runtime (a binding's own thread) outlives its shutdown, and gets
    // one error per query saying what became of it, not a panic.
    use common::raw::{Behaviour, RawServer};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(RawServer::start(Behaviour::HitAfter(Duration::from_secs(
        30,
    ))));
    let handle = runtime.handle().clone();
    let _entered = handle.enter();
    let client = raw_client(&server);
    let counts = server.counts.clone();
    let stopper = std::thread::spawn(move || {
        // Once every query has reached the server.
        let started = std::time::Instant::now();
        while counts.get(&counts.requests) < 3 && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(5));
        }
        runtime.shutdown_background();
    });
    let outcomes =
        block_on(client.query_many((0..3).map(|i| QueryRequest::new(format!("p{i}"), "m")), 3));
    stopper.join().unwrap();
    assert_eq!(outcomes.len(), 3);
    for outcome in outcomes {
        let err = outcome.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
        assert!(
            err.to_string().contains("its runtime is shutting down"),
            "{err}"
        );
    }
}
