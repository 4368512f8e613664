//! The emulator driven by the core client, in-process: auth, the semantic cache, rate limits
//! and every fault kind, as an SDK user meets them. (Raw-HTTP cases the client would refuse to
//! send, like a missing header or a blank prompt, are in the emulator crate's own tests.)

use std::time::{Duration, Instant};

use serde_json::json;
use vectorcache::{Client, Error, ErrorKind, QueryRequest};
use vectorcache_emulator::{
    Emulator, EmulatorConfig, Fault, KeyConfig, ProjectConfig, RateLimitConfig, RunningEmulator,
    DEMO_SIMILAR_PROMPTS,
};

const KEY_A: &str = "vc_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1";
const REVOKED_A: &str = "vc_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa2";
const KEY_B: &str = "vc_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb1";
const UNKNOWN: &str = "vc_cccccccccccccccccccccccccccccccc";

fn config(rate_limit: Option<RateLimitConfig>) -> EmulatorConfig {
    let key = |key: &str, revoked| KeyConfig {
        key: key.into(),
        revoked,
    };
    let mut config = EmulatorConfig::with_key(KEY_A);
    config.projects = vec![
        ProjectConfig {
            id: "proj_a".into(),
            keys: vec![key(KEY_A, false), key(REVOKED_A, true)],
        },
        ProjectConfig {
            id: "proj_b".into(),
            keys: vec![key(KEY_B, false)],
        },
    ];
    config.rate_limit = rate_limit;
    config
}

async fn start(rate_limit: Option<RateLimitConfig>) -> RunningEmulator {
    Emulator::start_local(config(rate_limit), 0)
        .await
        .expect("emulator starts")
}

fn client(emulator: &RunningEmulator, key: &str) -> Client {
    Client::builder()
        .api_key(key)
        .base_url(emulator.url())
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .build()
        .unwrap()
}

#[tokio::test]
async fn auth_cases_as_documented() {
    let emulator = start(None).await;
    let ask = QueryRequest::new("What is AI?", "gpt-4o");

    for key in [UNKNOWN, REVOKED_A] {
        let err = client(&emulator, key).query(ask.clone()).await.unwrap_err();
        let Error::Authentication(api) = &err else {
            panic!("{err:?}")
        };
        assert_eq!(api.detail, "Invalid API key");
        assert!(api
            .request_id
            .as_deref()
            .is_some_and(|id| id.starts_with("req_")));
    }

    let err = client(&emulator, KEY_A)
        .query(ask.clone().project_id("proj_b"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::PermissionDenied(api) if api.detail == "API key does not have permission to access this project"),
        "{err:?}"
    );
    client(&emulator, KEY_A)
        .query(ask.clone().project_id("proj_a"))
        .await
        .unwrap();

    let sent = emulator.requests();
    assert_eq!(sent.len(), 4, "auth failures are not retried");
    let shown = format!("{sent:?}");
    for key in [KEY_A, REVOKED_A, UNKNOWN] {
        assert!(!shown.contains(key), "the request log shows a key");
    }
    assert_eq!(sent[3].headers["authorization"], "Bearer vc_aaaa…");
    assert!(sent[3].headers["user-agent"].starts_with("vectorcache-rust/"));
}

#[tokio::test]
async fn miss_then_hit_on_a_reworded_prompt_and_context_segments() {
    let emulator = start(None).await;
    let client = client(&emulator, KEY_A);
    let (first, reworded) = DEMO_SIMILAR_PROMPTS;

    let miss = client
        .query(QueryRequest::new(first, "gpt-4o"))
        .await
        .unwrap();
    assert!(!miss.cache_hit);
    assert_eq!(
        (
            miss.similarity_score,
            miss.cost_saved,
            miss.llm_provider.as_str()
        ),
        (None, 0.0, "openai")
    );

    let hit = client
        .query(QueryRequest::new(reworded, "gpt-4o"))
        .await
        .unwrap();
    assert!(hit.cache_hit, "{hit:?}");
    assert_eq!(hit.llm_provider, "cache");
    assert_eq!(
        hit.response, miss.response,
        "a hit returns the cached answer"
    );
    let score = hit.similarity_score.unwrap();
    assert!((0.85..1.0).contains(&score), "{score}");
    assert!(hit.cost_saved > 0.0);

    let same = client
        .query(QueryRequest::new(first, "gpt-4o"))
        .await
        .unwrap();
    assert_eq!(same.similarity_score, Some(1.0));

    // Another context is another segment; so is another project.
    let other = client
        .query(QueryRequest::new(first, "gpt-4o").context("support"))
        .await
        .unwrap();
    assert!(!other.cache_hit);
    assert!(
        client
            .query(QueryRequest::new(first, "gpt-4o").context("support"))
            .await
            .unwrap()
            .cache_hit
    );
    let b = self::client(&emulator, KEY_B)
        .query(QueryRequest::new(first, "gpt-4o"))
        .await
        .unwrap();
    assert!(!b.cache_hit, "projects do not share entries");

    let unrelated = client
        .query(QueryRequest::new("Best pizza in Naples?", "gpt-4o"))
        .await
        .unwrap();
    assert!(!unrelated.cache_hit);
    for (model, provider) in [
        ("claude-3-5-sonnet-20241022", "anthropic"),
        ("gemini-1.5-pro", "google"),
    ] {
        let answer = client
            .query(QueryRequest::new(
                format!("A fresh question for {model}"),
                model,
            ))
            .await
            .unwrap();
        assert_eq!(answer.llm_provider, provider);
    }
}

#[tokio::test]
async fn threshold_and_debug() {
    let emulator = start(None).await;
    let client = client(&emulator, KEY_A);
    let (first, reworded) = DEMO_SIMILAR_PROMPTS;
    client
        .query(QueryRequest::new(first, "gpt-4o"))
        .await
        .unwrap();

    let strict = client
        .query(
            QueryRequest::new(reworded, "gpt-4o")
                .similarity_threshold(0.99)
                .include_debug(true),
        )
        .await
        .unwrap();
    assert!(!strict.cache_hit, "below a 0.99 threshold");
    let debug = strict.debug.unwrap();
    assert!(debug.matched_cache_entry_id.is_none());

    let loose = client
        .query(
            QueryRequest::new(reworded, "gpt-4o")
                .similarity_threshold(0.8)
                .include_debug(true),
        )
        .await
        .unwrap();
    assert!(loose.cache_hit);
    let debug = loose.debug.unwrap();
    assert!(debug.cache_entry_count >= 1);
    assert!(
        debug.total_time_ms >= debug.search_time_ms && debug.total_time_ms > 0.0,
        "{debug:?}"
    );
    let id = debug.matched_cache_entry_id.unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    assert!(client
        .query(QueryRequest::new(first, "gpt-4o"))
        .await
        .unwrap()
        .debug
        .is_none());
}

#[tokio::test]
async fn rate_limits_headers_and_the_client_waiting_them_out() {
    // 600/min refills a token every 100 ms; a burst of 2.
    let emulator = start(Some(RateLimitConfig {
        per_minute: 600,
        burst: 2,
    }))
    .await;
    let strict = Client::builder()
        .api_key(KEY_A)
        .base_url(emulator.url())
        .max_retries(0)
        .build()
        .unwrap();
    let ask = || QueryRequest::new("What is AI?", "gpt-4o");

    let first = strict.query(ask()).await.unwrap();
    let limits = first.rate_limit.unwrap();
    assert_eq!((limits.limit, limits.remaining), (Some(600), Some(1)));
    assert!(limits.reset.unwrap() > 1_700_000_000);
    strict.query(ask()).await.unwrap();
    let err = strict.query(ask()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::RateLimited);
    assert_eq!(
        err.detail(),
        Some("Rate limit exceeded. Please try again later.")
    );
    let wait = err.retry_after().expect("the server says how long to wait");
    assert!(
        wait >= Duration::from_secs(1) && wait <= Duration::from_secs(2),
        "{wait:?}"
    );
    assert_eq!(
        err.api_error().unwrap().rate_limit.unwrap().remaining,
        Some(0)
    );

    // The default client waits as asked and then succeeds.
    emulator.reset();
    let patient = client(&emulator, KEY_A);
    patient.query(ask()).await.unwrap();
    patient.query(ask()).await.unwrap();
    let started = Instant::now();
    patient.query(ask()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(900),
        "waited {:?}",
        started.elapsed()
    );
    let statuses: Vec<Option<u16>> = emulator.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(200), Some(200), Some(429), Some(200)]);

    // A wait longer than the client's cap: give up at once with the typed error.
    let capped = Client::builder()
        .api_key(KEY_A)
        .base_url(emulator.url())
        .max_retry_wait(Duration::from_millis(100))
        .build()
        .unwrap();
    let started = Instant::now();
    while capped.query(ask()).await.is_ok() {}
    assert!(started.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn every_fault_kind_reaches_the_client_typed() {
    let emulator = start(None).await;
    let strict = Client::builder()
        .api_key(KEY_A)
        .base_url(emulator.url())
        .max_retries(0)
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let ask = || QueryRequest::new("What is AI?", "gpt-4o");
    let proxy_page = "<html><body><h1>502 Bad Gateway</h1></body></html>";
    let cases = [
        (
            Fault::status(500).body(json!({"detail": "Internal server error. Please try again or contact support."})),
            ErrorKind::InternalServer,
        ),
        (
            Fault::status(502).body(proxy_page).header("Content-Type", "text/html"),
            ErrorKind::BadGateway,
        ),
        (
            Fault::status(503).header("Retry-After", "1"),
            ErrorKind::ServiceUnavailable,
        ),
        (
            Fault::status(422).body(json!({"detail": [{"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}]})),
            ErrorKind::UnprocessableEntity,
        ),
        (
            Fault::status(200).body("{\"cache_hit\": tr"),
            ErrorKind::Decode,
        ),
        (Fault::delay(Duration::from_millis(1500)), ErrorKind::Timeout),
        (Fault::drop_connection(), ErrorKind::Connection),
    ];
    for (fault, kind) in cases {
        emulator.add_fault(fault.clone()).unwrap();
        let err = strict.query(ask()).await.unwrap_err();
        assert_eq!(err.kind(), kind, "{fault:?}: {err:?}");
    }
    emulator
        .add_fault(Fault::status(502).body(proxy_page))
        .unwrap();
    let err = strict.query(ask()).await.unwrap_err();
    assert_eq!(err.detail(), Some("Bad Gateway (non-JSON response body)"));

    // Faults with a count are consumed by the client's retries; then the real answer.
    emulator.reset();
    let outage = Fault::status(503).body(json!({"detail": "Service temporarily unavailable"}));
    emulator.add_fault(outage.times(2)).unwrap();
    assert_eq!(emulator.pending_faults(), 2);
    let answer = client(&emulator, KEY_A).query(ask()).await.unwrap();
    assert!(!answer.cache_hit);
    let sent = emulator.requests();
    assert_eq!(sent.len(), 3);
    assert_eq!(sent.iter().filter(|r| r.fault).count(), 2);
    assert_eq!(emulator.pending_faults(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_clients() {
    let emulator = start(None).await;
    let clients: Vec<Client> = [KEY_A, KEY_B]
        .iter()
        .map(|k| client(&emulator, k))
        .collect();
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let client = clients[i % 2].clone();
            tokio::spawn(async move {
                client
                    .query(QueryRequest::new(
                        format!("question number {}", i % 20),
                        "gpt-4o",
                    ))
                    .await
            })
        })
        .collect();
    let mut hits = 0;
    for task in tasks {
        hits += usize::from(task.await.unwrap().unwrap().cache_hit);
    }
    assert!(hits >= 200 - 2 * 20 * 2, "most repeats hit: {hits}");
    assert_eq!(emulator.requests().len(), 200);
}
