//! HTTP-level tests: each starts an emulator on a free port and talks to it with reqwest.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::{json, Value};
use vectorcache_emulator::{
    EmulatorConfig, EmulatorError, Fault, RateLimitConfig, DEMO_SIMILAR_PROMPTS,
};

fn assert_common_headers(a: &Answer) {
    let id = a.header("x-request-id").expect("x-request-id");
    assert!(
        id.len() == 20 && id.starts_with("req_") && id[4..].bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(a.header("content-type"), Some("application/json"));
}

fn assert_error(a: &Answer, status: u16, detail: &str) {
    assert_eq!(a.status.as_u16(), status, "body: {}", a.text);
    assert_eq!(a.json(), json!({ "detail": detail }));
    assert_common_headers(a);
}

fn q(prompt: &str) -> Value {
    json!({ "prompt": prompt, "model": "gpt-4o" })
}

// ---------------------------------------------------------------- routes

#[tokio::test]
async fn health_404_and_405() {
    let emu = start().await;
    let c = client();
    let health = answer(
        c.get(format!("{}/health", emu.url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(health.status, 200);
    assert_eq!(
        health.json(),
        json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
    );
    assert_common_headers(&health);
    assert!(!emu.url().ends_with('/'));
    assert_eq!(emu.url(), format!("http://127.0.0.1:{}", emu.addr().port()));

    let missing = answer(
        c.get(format!("{}/v1/nope", emu.url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&missing, 404, "Not Found");
    let wrong = answer(
        c.get(format!("{}/v1/cache/query", emu.url()))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&wrong, 405, "Method Not Allowed");
    let wrong = answer(
        c.post(format!("{}/health", emu.url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&wrong, 405, "Method Not Allowed");
    emu.shutdown().await;
}

// ---------------------------------------------------------------- auth

#[tokio::test]
async fn auth_cases() {
    let emu = start().await;
    let body = q("What is AI?").to_string();
    let missing = "Invalid or missing API key";
    let invalid = "Invalid API key";

    let cases: Vec<(Option<String>, &str)> = vec![
        (None, missing),
        (Some("Basic dXNlcjpwYXNz".into()), missing),
        (Some(KEY.into()), missing), // no scheme
        (Some("Bearer ".into()), missing),
        (Some("Bearer vc_123".into()), missing),
        (
            Some("Bearer vc_0123456789abcdef0123456789abcdeZ".into()),
            missing,
        ),
        (Some(format!("Bearer {UNKNOWN_KEY}")), invalid),
        (Some(format!("Bearer {REVOKED_KEY}")), invalid),
    ];
    for (header, detail) in cases {
        let mut request = client()
            .post(format!("{}/v1/cache/query", emu.url()))
            .body(body.clone());
        if let Some(h) = &header {
            request = request.header("authorization", h);
        }
        let a = answer(request.send().await.expect("send")).await;
        assert_error(&a, 401, detail);
        assert_eq!(a.header("www-authenticate"), Some("Bearer"), "{header:?}");
        assert!(a.header("x-ratelimit-limit").is_none());
    }
    let ok = query(&emu, q("What is AI?")).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert!(ok.header("www-authenticate").is_none());
    // Auth comes before the size check.
    let huge = query_raw(&emu, None, vec![b'x'; 2 * 1024 * 1024]).await;
    assert_error(&huge, 401, missing);
}

// ---------------------------------------------------------------- validation

#[tokio::test]
async fn validation_cases() {
    let emu = start().await;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"{not json".to_vec(), "Invalid JSON format"),
        (b"".to_vec(), "Invalid JSON format"),
        (b"[1, 2]".to_vec(), "Invalid JSON format"),
        (b"\"prompt\"".to_vec(), "Invalid JSON format"),
        (vec![0xff, 0xfe, 0x00, 0x7b], "Invalid JSON format"),
        (br#"{"model": "gpt-4o"}"#.to_vec(), "Field required: prompt"),
        (
            br#"{"prompt": null, "model": "gpt-4o"}"#.to_vec(),
            "Field required: prompt",
        ),
        (
            br#"{"prompt": "   ", "model": "gpt-4o"}"#.to_vec(),
            "Field required: prompt",
        ),
        (br#"{"prompt": "hi"}"#.to_vec(), "Field required: model"),
        (
            br#"{"prompt": "hi", "model": ""}"#.to_vec(),
            "Field required: model",
        ),
        (
            br#"{"prompt": "hi", "model": "gpt-4o", "similarity_threshold": 1.5}"#.to_vec(),
            "similarity_threshold must be between 0 and 1",
        ),
        (
            br#"{"prompt": "hi", "model": "gpt-4o", "similarity_threshold": -0.1}"#.to_vec(),
            "similarity_threshold must be between 0 and 1",
        ),
    ];
    for (body, detail) in cases {
        let a = query_raw(&emu, Some(KEY), body.clone()).await;
        assert_error(&a, 400, detail);
    }

    // Wrong JSON types: FastAPI's 422 list, one entry per bad field.
    let a = query(
        &emu,
        json!({"prompt": 42, "model": "gpt-4o", "similarity_threshold": "high", "include_debug": "yes", "unknown": [1]}),
    )
    .await;
    assert_eq!(a.status, 422, "{}", a.text);
    assert_common_headers(&a);
    assert_eq!(
        a.json(),
        json!({"detail": [
            {"loc": ["body", "prompt"], "msg": "Input should be a valid string", "type": "string_type"},
            {"loc": ["body", "similarity_threshold"], "msg": "Input should be a valid number", "type": "float_parsing"},
            {"loc": ["body", "include_debug"], "msg": "Input should be a valid boolean", "type": "bool_parsing"},
        ]})
    );
    let a = query(
        &emu,
        json!({"prompt": "hi", "model": "gpt-4o", "similarity_threshold": "0.5"}),
    )
    .await;
    assert_eq!(
        a.json(),
        json!({"detail": [{"loc": ["body", "similarity_threshold"], "msg": "Input should be a valid number", "type": "float_parsing"}]})
    );

    // Unknown fields are ignored; nulls for optional fields are defaults.
    let a = query(
        &emu,
        json!({"prompt": "hi", "model": "gpt-4o", "temperature": 3, "context": null, "similarity_threshold": null}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

#[tokio::test]
async fn body_too_large() {
    let mut config = config();
    config.max_body_bytes = 1024;
    let emu = start_with(config).await;
    let big = json!({"prompt": "x".repeat(2000), "model": "gpt-4o"}).to_string();
    let a = query_raw(&emu, Some(KEY), big).await;
    assert_error(&a, 413, "Request body too large");
    // Exactly at the limit is fine.
    let prompt_len = 1024 - json!({"prompt": "", "model": "gpt-4o"}).to_string().len();
    let exact = json!({"prompt": "y".repeat(prompt_len), "model": "gpt-4o"}).to_string();
    assert_eq!(exact.len(), 1024);
    assert_eq!(query_raw(&emu, Some(KEY), exact).await.status, 200);

    // Default limit: 1 MiB.
    let emu = start().await;
    let big = vec![b' '; 1024 * 1024 + 1];
    assert_error(
        &query_raw(&emu, Some(KEY), big).await,
        413,
        "Request body too large",
    );
    // A far larger body is refused without reading it all.
    let huge = vec![b' '; 40 * 1024 * 1024];
    let result = client()
        .post(format!("{}/v1/cache/query", emu.url()))
        .bearer_auth(KEY)
        .body(huge)
        .send()
        .await;
    if let Ok(response) = result {
        assert_eq!(response.status(), 413);
    } // else: the client saw the connection close while still sending, which is acceptable.
      // The emulator is still healthy.
    assert_eq!(query(&emu, q("still alive?")).await.status, 200);
}

// ---------------------------------------------------------------- cache

#[tokio::test]
async fn miss_then_semantic_hit() {
    let emu = start().await;
    let (first, second) = DEMO_SIMILAR_PROMPTS;
    let miss = query(&emu, q(first)).await;
    assert_eq!(miss.status, 200, "{}", miss.text);
    assert_common_headers(&miss);
    let m = miss.json();
    assert_eq!(m["cache_hit"], false);
    assert_eq!(m["similarity_score"], Value::Null);
    assert_eq!(m["cost_saved"], 0.0);
    assert_eq!(m["llm_provider"], "openai");
    assert!(m.get("debug").is_none());
    let stored = m["response"].as_str().expect("response").to_owned();
    assert!(stored.starts_with("[emulated gpt-4o answer]"), "{stored}");

    let hit = query(&emu, q(second)).await.json();
    println!("demo pair hit: {hit}");
    assert_eq!(hit["cache_hit"], true);
    assert_eq!(hit["llm_provider"], "cache");
    assert_eq!(hit["response"], stored.as_str());
    let score = hit["similarity_score"].as_f64().expect("score");
    assert!((0.86..=0.97).contains(&score), "{score}");
    let cost = hit["cost_saved"].as_f64().expect("cost");
    assert!(cost > 0.0);
    assert_eq!((cost * 1e6).round() / 1e6, cost, "6 decimals");

    // An unrelated prompt misses.
    let other = query(&emu, q("Best pizza in Naples")).await.json();
    assert_eq!(other["cache_hit"], false);
}

#[tokio::test]
async fn identical_prompt_scores_one_and_providers() {
    let emu = start().await;
    query(
        &emu,
        json!({"prompt": "What is AI?", "model": "claude-3-5-sonnet-20241022"}),
    )
    .await;
    for prompt in ["What is AI?", "what is ai", "WHAT IS AI!!!"] {
        let hit = query(
            &emu,
            json!({"prompt": prompt, "model": "claude-3-5-sonnet-20241022"}),
        )
        .await
        .json();
        assert_eq!(hit["cache_hit"], true, "{prompt}");
        assert_eq!(hit["similarity_score"], 1.0, "{prompt}");
    }
    for (model, provider) in [
        ("claude-3-5-haiku", "anthropic"),
        ("gemini-1.5-pro", "google"),
        ("o1-mini", "openai"),
        ("llama-3-70b", "unknown"),
    ] {
        let miss = query(
            &emu,
            json!({"prompt": format!("fresh prompt for {model}"), "model": model}),
        )
        .await
        .json();
        assert_eq!(miss["llm_provider"], provider, "{model}");
    }
}

#[tokio::test]
async fn context_and_project_segment_the_cache() {
    let emu = start().await;
    let with = |context: Option<&str>| {
        let mut body = q("Summarise the release notes");
        if let Some(c) = context {
            body["context"] = json!(c);
        }
        body
    };
    assert_eq!(query(&emu, with(None)).await.json()["cache_hit"], false);
    assert_eq!(
        query(&emu, with(Some("team-a"))).await.json()["cache_hit"],
        false
    );
    assert_eq!(
        query(&emu, with(Some("team-b"))).await.json()["cache_hit"],
        false
    );
    assert_eq!(
        query(&emu, with(Some("team-a"))).await.json()["cache_hit"],
        true
    );
    assert_eq!(query(&emu, with(None)).await.json()["cache_hit"], true);
    // Another project's key does not see these entries.
    let other = query_raw(&emu, Some(OTHER_PROJECT_KEY), with(None).to_string()).await;
    assert_eq!(other.json()["cache_hit"], false);
}

#[tokio::test]
async fn threshold_decides() {
    let emu = start().await;
    let (first, second) = DEMO_SIMILAR_PROMPTS;
    let body = |prompt: &str, context: &str, threshold: f64| json!({"prompt": prompt, "model": "gpt-4o", "context": context, "similarity_threshold": threshold});
    query(&emu, body(first, "strict", 0.85)).await;
    let strict = query(&emu, body(second, "strict", 0.99)).await.json();
    assert_eq!(strict["cache_hit"], false);
    query(&emu, body(first, "lenient", 0.85)).await;
    let lenient = query(&emu, body(second, "lenient", 0.8)).await.json();
    assert_eq!(lenient["cache_hit"], true);
    // Threshold 0 hits on anything in the segment; 1 needs the same text.
    query(&emu, body("alpha", "edges", 0.85)).await;
    assert_eq!(
        query(&emu, body("something else", "edges", 0.0))
            .await
            .json()["cache_hit"],
        true
    );
    assert_eq!(
        query(&emu, body("Alpha!", "edges", 1.0)).await.json()["cache_hit"],
        true
    );
}

#[tokio::test]
async fn debug_fields() {
    let emu = start().await;
    let body =
        |prompt: &str| json!({"prompt": prompt, "model": "gpt-4o-mini", "include_debug": true});
    let miss = query(&emu, body("What is machine learning?")).await.json();
    let debug = &miss["debug"];
    assert_eq!(debug["matched_cache_entry_id"], Value::Null);
    assert_eq!(debug["cache_entry_count"], 0);
    for field in ["embedding_time_ms", "search_time_ms", "total_time_ms"] {
        let v = debug[field]
            .as_f64()
            .unwrap_or_else(|| panic!("{field}: {debug}"));
        assert!(v >= 0.0, "{field}");
    }
    assert!(debug["total_time_ms"].as_f64() >= debug["search_time_ms"].as_f64());

    let hit = query(&emu, body("What's machine learning?")).await.json();
    let debug = &hit["debug"];
    let id = debug["matched_cache_entry_id"].as_str().expect("uuid");
    assert_eq!(id.len(), 36);
    assert_eq!(id.matches('-').count(), 4);
    assert_eq!(debug["cache_entry_count"], 1);
    let without = query(&emu, q("What is machine learning")).await.json();
    assert!(without.get("debug").is_none());
}

#[tokio::test]
async fn project_id_permission() {
    let emu = start().await;
    let body = |project: &str| json!({"prompt": "hi", "model": "gpt-4o", "project_id": project});
    assert_error(
        &query(&emu, body("proj_b")).await,
        403,
        "API key does not have permission to access this project",
    );
    assert_eq!(query(&emu, body("proj_a")).await.status, 200);
}

// ---------------------------------------------------------------- rate limiting

#[tokio::test]
async fn rate_limiting() {
    let mut config = config();
    config.rate_limit = Some(RateLimitConfig {
        per_minute: 2,
        burst: 2,
    });
    let emu = start_with(config).await;
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
    };
    let first = query(&emu, q("one")).await;
    assert_eq!(first.status, 200);
    assert_eq!(first.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(first.header("x-ratelimit-remaining"), Some("1"));
    let second = query(&emu, q("two")).await;
    assert_eq!(second.status, 200);
    assert_eq!(second.header("x-ratelimit-remaining"), Some("0"));

    let third = query(&emu, q("three")).await;
    assert_error(&third, 429, "Rate limit exceeded. Please try again later.");
    let retry: u64 = third
        .header("retry-after")
        .expect("retry-after")
        .parse()
        .expect("int");
    assert!((1..=30).contains(&retry), "{retry}");
    assert_eq!(third.header("x-ratelimit-limit"), Some("2"));
    assert_eq!(third.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = third
        .header("x-ratelimit-reset")
        .expect("reset")
        .parse()
        .expect("int");
    assert!(reset >= now() && reset <= now() + 31, "{reset}");

    // Errors to an authenticated key carry the headers too; 401s do not.
    let bad = query_raw(&emu, Some(KEY), "{").await;
    assert_eq!(bad.status, 429);
    assert!(bad.header("x-ratelimit-remaining").is_some());
    let unauthenticated = query_raw(&emu, None, "{}").await;
    assert_eq!(unauthenticated.status, 401);
    assert!(unauthenticated.header("x-ratelimit-limit").is_none());
    // Buckets are per key.
    let other = query_raw(&emu, Some(OTHER_PROJECT_KEY), q("x").to_string()).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.header("x-ratelimit-remaining"), Some("1"));

    // Reset refills the buckets.
    client()
        .post(format!("{}/_emulator/reset", emu.url()))
        .send()
        .await
        .expect("reset");
    let again = query(&emu, q("four")).await;
    assert_eq!(again.status, 200);
    assert_eq!(again.header("x-ratelimit-remaining"), Some("1"));
}

#[tokio::test]
async fn generous_rate_limit_headers_by_default_and_none_when_switched_off() {
    let emu = start().await;
    let a = query(&emu, q("hello")).await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("x-ratelimit-limit"), Some("100000"));
    assert_eq!(a.header("x-ratelimit-remaining"), Some("99999"));
    assert!(a.header("x-ratelimit-reset").is_some());
    assert!(a.header("retry-after").is_none());

    let mut config = config();
    config.rate_limit = None;
    let off = start_with(config).await;
    let b = query(&off, q("hello")).await;
    assert_eq!(b.status, 200);
    for name in [
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
        "retry-after",
    ] {
        assert!(b.header(name).is_none(), "{name}");
    }
}

// ---------------------------------------------------------------- faults

#[tokio::test]
async fn a_fault_text_body_is_labelled_by_what_it_looks_like() {
    let emu = start().await;
    faults(
        &emu,
        json!([
            {"status": 502, "body": "  <html><body>Bad Gateway</body></html>"},
            {"status": 500, "body": "{\"detail\": \"trunc"},
            {"status": 503, "body": "upstream connect error or disconnect/reset before headers"},
            {"status": 504}
        ]),
    )
    .await;
    let expected = [
        "text/html; charset=utf-8",
        "application/json",
        "text/plain; charset=utf-8",
        "application/json",
    ];
    for content_type in expected {
        let a = query(&emu, q("hi")).await;
        assert_eq!(a.header("content-type"), Some(content_type), "{}", a.status);
    }
}

#[tokio::test]
async fn fault_status_body_headers_and_count() {
    let emu = start().await;
    let queued = faults(
        &emu,
        json!([
            {"status": 503, "body": "<html><body>Service Unavailable</body></html>",
             "headers": {"Retry-After": "1", "Content-Type": "text/html"}, "count": 2},
            {"status": 502, "body": {"error": "bad_gateway", "message": "upstream"}},
            {"status": 500, "body": "{\"detail\": \"trunc"},
            {"status": 504}
        ]),
    )
    .await;
    assert_eq!(queued.status, 200);
    assert_eq!(queued.json(), json!({"queued": 4, "pending": 5}));

    for _ in 0..2 {
        let a = query(&emu, q("hi")).await;
        assert_eq!(a.status, 503);
        assert_eq!(a.text, "<html><body>Service Unavailable</body></html>");
        assert_eq!(a.header("retry-after"), Some("1"));
        assert_eq!(a.header("content-type"), Some("text/html"));
        assert!(a.header("x-request-id").is_some());
    }
    let a = query(&emu, q("hi")).await;
    assert_eq!(a.status, 502);
    assert_eq!(
        a.json(),
        json!({"error": "bad_gateway", "message": "upstream"})
    );
    let a = query(&emu, q("hi")).await;
    assert_eq!(
        (a.status.as_u16(), a.text.as_str()),
        (500, "{\"detail\": \"trunc")
    );
    let a = query(&emu, q("hi")).await;
    assert_eq!((a.status.as_u16(), a.text.as_str()), (504, ""));
    // Queue exhausted: normal service again.
    assert_eq!(query(&emu, q("hi")).await.status, 200);

    // Faults apply before auth (they emulate whatever is in front of the service).
    faults(&emu, json!({"status": 503})).await;
    assert_eq!(query_raw(&emu, None, "{}").await.status, 503);

    // Invalid fault specs are refused.
    let bad = faults(&emu, json!({"status": 42})).await;
    assert_eq!(bad.status, 400);
    assert!(bad.detail().contains("status"), "{}", bad.text);
    let bad = faults(&emu, json!({"drop_conection": true})).await;
    assert_eq!(bad.status, 400);
}

#[tokio::test]
async fn a_fault_without_a_body_answers_as_the_service_does() {
    let emu = start().await;
    faults(
        &emu,
        json!([
            {"status": 429},
            {"status": 429, "headers": {"Retry-After": "7"}},
            {"status": 401},
            {"status": 429, "body": null},
            {"status": 503, "body": ""}
        ]),
    )
    .await;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let limited = query(&emu, q("hi")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.json(),
        json!({"detail": "Rate limit exceeded. Please try again later."})
    );
    assert_eq!(limited.header("content-type"), Some("application/json"));
    assert_eq!(limited.header("x-ratelimit-limit"), Some("100000"));
    assert_eq!(limited.header("x-ratelimit-remaining"), Some("0"));
    let reset: u64 = limited
        .header("x-ratelimit-reset")
        .unwrap()
        .parse()
        .unwrap();
    assert!((now + 1..=now + 3).contains(&reset), "{reset} vs {now}");
    assert_eq!(limited.header("retry-after"), Some("1"));
    // The fault's own headers win.
    let own = query(&emu, q("hi")).await;
    assert_eq!(own.header("retry-after"), Some("7"));
    assert_eq!(own.header("x-ratelimit-remaining"), Some("0"));
    let denied = query(&emu, q("hi")).await;
    assert_eq!(
        (denied.status.as_u16(), denied.detail()),
        (401, "Invalid API key".into())
    );
    // An empty body, when asked for, is empty and has no rate-limit headers.
    for status in [429, 503] {
        let empty = query(&emu, q("hi")).await;
        assert_eq!((empty.status.as_u16(), empty.text.as_str()), (status, ""));
        assert!(empty.header("x-ratelimit-limit").is_none());
        assert!(empty.header("retry-after").is_none());
    }

    // With limits switched off a 429 still says when to retry, and nothing more.
    let mut config = config();
    config.rate_limit = None;
    let off = start_with(config).await;
    faults(&off, json!({"status": 429})).await;
    let limited = query(&off, q("hi")).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after"), Some("1"));
    assert!(limited.header("x-ratelimit-limit").is_none());
}

#[tokio::test]
async fn fault_delay() {
    let emu = start().await;
    // A delay longer than the client's timeout: the client times out.
    faults(&emu, json!({"delay_ms": 1500})).await;
    let result = client()
        .post(format!("{}/v1/cache/query", emu.url()))
        .bearer_auth(KEY)
        .timeout(Duration::from_millis(200))
        .body(q("slow").to_string())
        .send()
        .await;
    let error = result.expect_err("should time out");
    assert!(error.is_timeout(), "{error}");

    // A delay without status: wait, then answer normally.
    faults(&emu, json!({"delay_ms": 300})).await;
    let started = Instant::now();
    let a = query(&emu, q("slow but fine")).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["cache_hit"], false);

    // A delayed error.
    faults(&emu, json!({"delay_ms": 200, "status": 503, "body": {"detail": "Service temporarily unavailable"}})).await;
    let started = Instant::now();
    let a = query(&emu, q("x")).await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_error(&a, 503, "Service temporarily unavailable");
}

#[tokio::test]
async fn fault_drop_connection() {
    let emu = start().await;
    faults(&emu, json!({"drop_connection": true, "count": 2})).await;
    for _ in 0..2 {
        let result = client()
            .post(format!("{}/v1/cache/query", emu.url()))
            .bearer_auth(KEY)
            .body(q("dropped").to_string())
            .send()
            .await;
        let error = result.expect_err("connection should be dropped");
        assert!(!error.is_timeout(), "{error:?}");
        assert!(error.is_request() || error.is_connect(), "{error:?}");
    }
    assert_eq!(query(&emu, q("back")).await.status, 200);
    let log = requests_log(&emu).await.json();
    let entries = log.as_array().expect("array");
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["status"], Value::Null);
    assert_eq!(entries[0]["fault"], true);
    assert_eq!(entries[2]["status"], 200);
    assert_eq!(entries[2]["fault"], false);
}

// ---------------------------------------------------------------- inspection

#[tokio::test]
async fn request_log_and_redaction() {
    let emu = start().await;
    query(&emu, q("logged prompt")).await;
    query_raw(&emu, Some(UNKNOWN_KEY), "not json").await;
    query_raw(&emu, Some(KEY), vec![0xffu8, 0x00, 0x41]).await;

    let log = requests_log(&emu).await;
    assert_eq!(log.status, 200);
    assert!(!log.text.contains(KEY), "full key leaked: {}", log.text);
    assert!(
        !log.text.contains(UNKNOWN_KEY),
        "full key leaked: {}",
        log.text
    );
    let entries = log.json();
    let entries = entries.as_array().expect("array");
    assert_eq!(entries.len(), 3);
    let first = &entries[0];
    assert_eq!(first["method"], "POST");
    assert_eq!(first["path"], "/v1/cache/query");
    assert_eq!(first["status"], 200);
    assert_eq!(first["fault"], false);
    assert_eq!(first["body"], q("logged prompt"));
    assert_eq!(first["headers"]["authorization"], "Bearer vc_0123…");
    assert_eq!(first["headers"]["content-type"], "application/json");
    assert!(first["request_id"]
        .as_str()
        .expect("id")
        .starts_with("req_"));
    assert_eq!(entries[1]["status"], 401);
    assert_eq!(entries[1]["body"], "not json");
    assert_eq!(entries[1]["headers"]["authorization"], "Bearer vc_0000…");
    assert_eq!(entries[2]["status"], 400);

    let cleared = answer(
        client()
            .delete(format!("{}/_emulator/requests", emu.url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(cleared.json(), json!({"cleared": 3}));
    assert_eq!(requests_log(&emu).await.json(), json!([]));
}

#[tokio::test]
async fn reset_clears_everything() {
    let emu = start().await;
    query(&emu, q("remember me")).await;
    faults(&emu, json!({"status": 500, "count": 5})).await;
    let reset = answer(
        client()
            .post(format!("{}/_emulator/reset", emu.url()))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reset.status, 200);
    assert_eq!(requests_log(&emu).await.json(), json!([]));
    let a = query(&emu, q("remember me")).await;
    assert_eq!(a.status, 200, "faults cleared");
    assert_eq!(a.json()["cache_hit"], false, "cache cleared");
}

/// The in-process calls a test makes on its emulator: the same checks and effects as the
/// admin routes.
#[tokio::test]
async fn faults_the_log_and_reset_in_process() {
    let emu = start().await;
    query(&emu, q("remember me")).await;
    let page = "<html><body>Service Unavailable</body></html>";
    emu.add_fault(
        Fault::status(503)
            .body(page)
            .header("Retry-After", "7")
            .times(2),
    )
    .expect("a fault it can make");
    emu.add_fault_json(br#"{"status": 502, "body": {"error": "bad_gateway"}}"#)
        .expect("a fault in JSON");
    emu.add_fault(Fault::status(504).delayed(Duration::from_millis(200)))
        .expect("a delayed status");
    assert_eq!(emu.pending_faults(), 4);
    for _ in 0..2 {
        let a = query(&emu, q("hi")).await;
        assert_eq!((a.status.as_u16(), a.text.as_str()), (503, page));
        assert_eq!(a.header("retry-after"), Some("7"));
    }
    let a = query(&emu, q("hi")).await;
    assert_eq!(a.status, 502);
    assert_eq!(a.json(), json!({"error": "bad_gateway"}));
    let started = Instant::now();
    assert_eq!(query(&emu, q("hi")).await.status, 504);
    assert!(
        started.elapsed() >= Duration::from_millis(190),
        "the delay was applied"
    );

    // What it cannot make is refused with the route's reason, and nothing is queued.
    for (bad, reason) in [
        (
            Fault::status(42),
            "status must be an integer between 200 and 599",
        ),
        (Fault::status(101), "status must be"),
        (Fault::delay(Duration::from_secs(301)), "delay_ms must be"),
        (Fault::status(500).times(0), "count must be"),
        (
            Fault::status(500).header("bad name", "x"),
            "invalid header name",
        ),
    ] {
        let refused = emu.add_fault(bad.clone()).expect_err("refused");
        assert!(
            matches!(&refused, EmulatorError::Fault(why) if why.contains(reason)),
            "{bad:?}: {refused}"
        );
        assert!(refused
            .to_string()
            .starts_with("the emulator refused the fault: "));
    }
    for (bad, reason) in [
        (&b"{\"stauts\": 503}"[..], "unknown field \"stauts\""),
        (b"{\"body\": \"x\"}", "body and headers need a status"),
        (b"[{\"status\": 503}]", "must be a JSON object"),
        (b"{\"status\": 5", "Invalid JSON"),
    ] {
        let refused = emu.add_fault_json(bad).expect_err("refused");
        assert!(refused.to_string().contains(reason), "{refused}");
    }
    assert_eq!(emu.pending_faults(), 0);
    emu.add_fault(Fault::drop_connection()).expect("a drop");
    assert!(client()
        .post(format!("{}/v1/cache/query", emu.url()))
        .bearer_auth(KEY)
        .json(&q("hi"))
        .send()
        .await
        .is_err());

    // The log, as the route shows it (the key redacted), then reset forgets everything.
    let log = emu.requests();
    let statuses: Vec<_> = log.iter().map(|r| (r.status, r.fault)).collect();
    assert_eq!(
        statuses,
        [
            (Some(200), false),
            (Some(503), true),
            (Some(503), true),
            (Some(502), true),
            (Some(504), true),
            (None, true)
        ]
    );
    assert_eq!(log[0].headers["authorization"], "Bearer vc_0123…");
    assert!(!format!("{log:?}").contains(KEY));
    assert_eq!(
        serde_json::to_value(&log).expect("serialises"),
        requests_log(&emu).await.json()
    );
    emu.add_fault(Fault::status(500)).expect("a fault");
    emu.reset();
    assert!(emu.requests().is_empty());
    assert_eq!(emu.pending_faults(), 0);
    let a = query(&emu, q("remember me")).await;
    assert_eq!(
        (a.status.as_u16(), &a.json()["cache_hit"]),
        (200, &json!(false)),
        "faults and cache cleared"
    );
}

#[tokio::test]
async fn concurrent_requests() {
    let emu = start().await;
    let url = emu.url();
    let c = client();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let c = c.clone();
            let url = url.clone();
            tokio::spawn(async move {
                let prompt = if i % 2 == 0 {
                    "shared question".to_owned()
                } else {
                    format!("question {i}")
                };
                let response = c
                    .post(format!("{url}/v1/cache/query"))
                    .bearer_auth(KEY)
                    .json(&json!({"prompt": prompt, "model": "gpt-4o"}))
                    .send()
                    .await
                    .expect("send");
                answer(response).await
            })
        })
        .collect();
    let mut ids = std::collections::HashSet::new();
    for task in tasks {
        let a = task.await.expect("task");
        assert_eq!(a.status, 200, "{}", a.text);
        assert!(ids.insert(a.header("x-request-id").expect("id").to_owned()));
    }
    assert_eq!(ids.len(), 50);
    let log = requests_log(&emu).await.json();
    assert_eq!(log.as_array().map(Vec::len), Some(50));
}

#[tokio::test]
async fn shutdown_and_drop_stop_the_server() {
    let emu = start().await;
    let url = emu.url();
    emu.shutdown().await;
    assert!(client().get(format!("{url}/health")).send().await.is_err());

    let emu = start_with(EmulatorConfig::with_key(KEY)).await;
    let url = emu.url();
    assert_eq!(emu.config().primary_key(), Some(KEY));
    drop(emu);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(client().get(format!("{url}/health")).send().await.is_err());
}

#[tokio::test]
async fn invalid_config_is_refused() {
    let config = EmulatorConfig::with_key("vc_short");
    let result =
        vectorcache_emulator::Emulator::start(config, "127.0.0.1:0".parse().expect("addr")).await;
    let error = result.err().expect("invalid config").to_string();
    assert!(error.contains("not a valid API key"), "{error}");
}

#[tokio::test]
async fn garbage_does_not_break_the_server() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = start().await;
    // Not HTTP at all.
    let mut stream = tokio::net::TcpStream::connect(emu.addr())
        .await
        .expect("connect");
    stream
        .write_all(b"\x00\xffGARBAGE\r\n\r\n")
        .await
        .expect("write");
    let mut sink = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.read_to_end(&mut sink)).await;
    // Non-UTF-8 header values and a lying content type.
    let value = reqwest::header::HeaderValue::from_bytes(b"Bearer vc_\xe9\xe9").expect("obs-text");
    let a = answer(
        client()
            .post(format!("{}/v1/cache/query", emu.url()))
            .header("authorization", value)
            .header(
                "x-odd",
                reqwest::header::HeaderValue::from_bytes(b"\xff").expect("obs-text"),
            )
            .body("\u{0}")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&a, 401, "Invalid or missing API key");
    assert_eq!(query(&emu, q("still fine")).await.status, 200);
    let log = requests_log(&emu).await.json();
    assert_eq!(log[0]["headers"]["authorization"], "[redacted]");
}

#[tokio::test]
async fn request_log_numbers_the_connections() {
    let emu = start().await;
    let http = client(); // one pool: its requests reuse a kept-alive connection
    let send = |prompt: &str| {
        http.post(format!("{}/v1/cache/query", emu.url()))
            .bearer_auth(KEY)
            .json(&q(prompt))
            .send()
    };
    for prompt in ["a", "b"] {
        assert_eq!(send(prompt).await.expect("send").status(), 200);
    }
    faults(&emu, json!({"drop_connection": true})).await;
    send("dropped")
        .await
        .expect_err("the connection is dropped");
    assert_eq!(send("c").await.expect("send").status(), 200);
    query(&emu, q("another client")).await;
    let log = requests_log(&emu).await.json();
    let numbers: Vec<&Value> = log
        .as_array()
        .expect("array")
        .iter()
        .map(|entry| &entry["connection"])
        .collect();
    // Connection 2 was the fault's (admin requests are not logged but are connections).
    assert_eq!(
        numbers,
        [&json!(1), &json!(1), &json!(1), &json!(3), &json!(4)]
    );
}
