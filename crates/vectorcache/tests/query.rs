//! What a query puts on the wire and how a success answer decodes.

mod common;

use common::*;
use serde_json::{json, Value};
use vectorcache::{Error, ErrorKind, QueryRequest};
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn sends_the_documented_request() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = common::builder(&server)
        .default_header("X-Team", "search")
        .user_agent_suffix("vectorcache-test/9")
        .build()
        .unwrap();

    client
        .query(
            QueryRequest::new("What is ML?", "gpt-4o")
                .similarity_threshold(0.9)
                .context("faq")
                .include_debug(false),
        )
        .await
        .unwrap();

    let sent = requests(&server).await;
    assert_eq!(sent.len(), 1);
    let req = &sent[0];
    assert_eq!(req.method.as_str(), "POST");
    assert_eq!(req.url.path(), QUERY_PATH);
    let header = |name: &str| {
        req.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    assert_eq!(
        header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(header("x-team").as_deref(), Some("search"));
    let ua = header("user-agent").unwrap();
    assert_eq!(
        ua,
        format!(
            "vectorcache-rust/{} vectorcache-test/9",
            vectorcache::VERSION
        )
    );
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({"prompt": "What is ML?", "model": "gpt-4o", "similarity_threshold": 0.9,
               "context": "faq", "include_debug": false})
    );
}

#[tokio::test]
async fn unset_options_are_omitted_and_client_project_applies() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = common::builder(&server)
        .project_id("proj_a")
        .build()
        .unwrap();

    client.query(QueryRequest::new("p", "m")).await.unwrap();
    client
        .query(QueryRequest::new("p", "m").project_id("proj_b"))
        .await
        .unwrap();

    let sent = requests(&server).await;
    let bodies: Vec<Value> = sent
        .iter()
        .map(|r| serde_json::from_slice(&r.body).unwrap())
        .collect();
    assert_eq!(
        bodies[0],
        json!({"prompt": "p", "model": "m", "project_id": "proj_a"})
    );
    assert_eq!(bodies[1]["project_id"], "proj_b");
}

#[tokio::test]
async fn decodes_hits_misses_debug_and_headers() {
    let server = MockServer::start().await;
    let mut body = hit_body();
    body["debug"] = json!({
        "embedding_time_ms": 1.5, "search_time_ms": 0.25, "total_time_ms": 2.0,
        "matched_cache_entry_id": "8b3f2f8e-8d2a-4f7e-9d7e-0c1b2a3d4e5f", "cache_entry_count": 42,
        "future_field": [1, 2]
    });
    body["brand_new_top_level_field"] = json!({"x": 1});
    answer_times(
        &server,
        1,
        ResponseTemplate::new(200)
            .set_body_json(body)
            .insert_header("X-RateLimit-Limit", "100")
            .insert_header("X-RateLimit-Remaining", "99")
            .insert_header("X-RateLimit-Reset", "1900000000")
            .insert_header("X-Request-Id", "req_abc"),
    )
    .await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(json!({
            "cache_hit": false, "response": "fresh", "similarity_score": null,
            "cost_saved": 0, "llm_provider": "openai"
        })),
    )
    .await;
    let client = client(&server);

    let hit = client
        .query(QueryRequest::new("p", "m").include_debug(true))
        .await
        .unwrap();
    assert!(hit.cache_hit);
    assert_eq!(hit.response, "Machine learning is a subset of AI.");
    assert_eq!(hit.similarity_score, Some(0.93));
    assert_eq!(hit.cost_saved, 0.0021);
    assert_eq!(hit.llm_provider, "cache");
    let debug = hit.debug.as_ref().unwrap();
    assert_eq!(debug.cache_entry_count, 42);
    assert_eq!(debug.search_time_ms, 0.25);
    assert_eq!(
        debug.matched_cache_entry_id.as_deref(),
        Some("8b3f2f8e-8d2a-4f7e-9d7e-0c1b2a3d4e5f")
    );
    let limits = hit.rate_limit.unwrap();
    assert_eq!(
        (limits.limit, limits.remaining, limits.reset),
        (Some(100), Some(99), Some(1_900_000_000))
    );
    assert_eq!(hit.request_id.as_deref(), Some("req_abc"));

    let miss = client.query(QueryRequest::new("p", "m")).await.unwrap();
    assert!(!miss.cache_hit);
    assert_eq!(miss.similarity_score, None);
    assert_eq!(miss.llm_provider, "openai");
    assert!(miss.debug.is_none() && miss.rate_limit.is_none() && miss.request_id.is_none());
}

#[tokio::test]
async fn undecodable_success_bodies_are_typed_errors() {
    let cases: [(&str, ResponseTemplate); 5] = [
        ("", ResponseTemplate::new(200)),
        (
            "<html>",
            ResponseTemplate::new(200).set_body_string("<html>"),
        ),
        (
            "{\"cache_hit\": tr",
            ResponseTemplate::new(200).set_body_string("{\"cache_hit\": tr"),
        ),
        (
            "wrong types",
            ResponseTemplate::new(200).set_body_json(json!({"cache_hit": "yes", "response": 1})),
        ),
        (
            "missing fields",
            ResponseTemplate::new(200).set_body_json(json!({"llm_provider": "x"})),
        ),
    ];
    for (name, template) in cases {
        let server = MockServer::start().await;
        let template = template
            .insert_header("x-request-id", "req_1")
            .insert_header("x-ratelimit-limit", "100")
            .insert_header("x-ratelimit-remaining", "7")
            .insert_header("x-ratelimit-reset", "1900000000");
        answer(&server, template).await;
        let err = client(&server)
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap_err();
        match &err {
            Error::Decode(e) if e.status == 200 => {
                assert_eq!(e.request_id.as_deref(), Some("req_1"))
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("could not decode the 200 response: "),
            "{name}: {err}"
        );
        // Every accessor answers for a decode error as it does for an API error.
        assert_eq!(err.category(), vectorcache::ErrorCategory::Decode, "{name}");
        assert_eq!(err.decode_error().map(|e| e.status), Some(200), "{name}");
        assert!(err.api_error().is_none(), "{name}");
        assert_eq!((err.status(), err.request_id()), (Some(200), Some("req_1")));
        let limits = err.rate_limit().expect("the rate-limit headers are kept");
        assert_eq!(
            (limits.limit, limits.remaining, limits.reset),
            (Some(100), Some(7), Some(1_900_000_000)),
            "{name}"
        );
        assert_eq!(err.attempts(), Some(1), "{name}");
        assert!(err.source_chain().is_none(), "{name}: nothing underneath");
        assert_eq!(
            err.headers()
                .and_then(|h| h.get("x-request-id"))
                .map(String::as_str),
            Some("req_1"),
            "{name}: decode errors keep the headers"
        );
        assert!(!err.is_retryable(), "{name}");
        assert_eq!(
            requests(&server).await.len(),
            1,
            "{name}: decode errors are not retried"
        );
    }
}

#[tokio::test]
async fn local_validation_sends_nothing() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = client(&server);
    let bad = [
        QueryRequest::new("", "gpt-4o"),
        QueryRequest::new("   ", "gpt-4o"),
        QueryRequest::new("p", " \t"),
        QueryRequest::new("p", "m").similarity_threshold(1.5),
        QueryRequest::new("p", "m").similarity_threshold(f64::NAN),
    ];
    for request in bad {
        let err = client.query(request.clone()).await.unwrap_err();
        assert!(
            matches!(err, Error::InvalidRequest { .. }),
            "{request:?}: {err:?}"
        );
        assert_eq!(err.kind().as_str(), "invalid_request");
    }
    assert!(
        requests(&server).await.is_empty(),
        "nothing may reach the server"
    );
}

#[tokio::test]
async fn base_url_path_prefix_is_kept() {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path("/gateway/v1/cache/query"))
        .respond_with(ResponseTemplate::new(200).set_body_json(hit_body()))
        .expect(2)
        .mount(&server)
        .await;
    for base in [
        format!("{}/gateway", server.uri()),
        format!("{}/gateway/v1/", server.uri()),
    ] {
        let client = vectorcache::Client::builder()
            .api_key(KEY)
            .base_url(base)
            .build()
            .unwrap();
        client.query(QueryRequest::new("p", "m")).await.unwrap();
    }
}

#[tokio::test]
async fn many_tasks_share_one_client() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = client(&server);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                client
                    .query(QueryRequest::new(format!("prompt {i}"), "gpt-4o"))
                    .await
            })
        })
        .collect();
    for task in tasks {
        assert!(task.await.unwrap().unwrap().cache_hit);
    }
    assert_eq!(requests(&server).await.len(), 64);

    fn assert_shareable<T: Clone + Send + Sync + 'static>() {}
    assert_shareable::<vectorcache::Client>();
}

#[tokio::test]
async fn key_rotation_on_a_live_client() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = client(&server);
    let clone = client.clone();
    client.query(QueryRequest::new("p", "m")).await.unwrap();
    client.set_api_key(OTHER_KEY.parse().unwrap());
    clone.query(QueryRequest::new("p", "m")).await.unwrap();

    let auth: Vec<String> = requests(&server)
        .await
        .iter()
        .map(|r| r.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        auth,
        [format!("Bearer {KEY}"), format!("Bearer {OTHER_KEY}")]
    );
    assert_eq!(clone.api_key().to_string(), "vc_fedc…");
}

#[tokio::test]
async fn success_bodies_up_to_16_mib_decode_and_larger_ones_are_refused() {
    const CAP: usize = 16 * 1024 * 1024;
    let body_with_answer = |len: usize| {
        let mut body = hit_body();
        // Not hexadecimal, so the key scrubbing has nothing to look at (its worst case has a
        // unit test of its own).
        body["response"] = Value::String("z".repeat(len));
        serde_json::to_vec(&body).unwrap()
    };
    // 2 MiB: far above a documented answer, well within the cap.
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_raw(body_with_answer(2 * 1024 * 1024), "application/json"),
    )
    .await;
    let big = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .expect("a 2 MiB answer decodes");
    assert_eq!(big.response.len(), 2 * 1024 * 1024);

    // Exactly the cap: still accepted.
    let mut exact = body_with_answer(0);
    let padding = CAP - exact.len();
    exact = body_with_answer(padding);
    assert_eq!(exact.len(), CAP);
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_raw(exact, "application/json"),
    )
    .await;
    let at_cap = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .expect("a body of exactly 16 MiB decodes");
    assert_eq!(at_cap.response.len(), padding);

    // The cap applies to the body as scrubbed: a body 35 bytes over it that echoes the key
    // twice (35 bytes each, 10 once redacted) fits, and the echoes are gone.
    let echo = format!("{KEY} {KEY}");
    let mut echoed = body_with_answer(0);
    let filler = CAP + KEY.len() - echoed.len() - echo.len();
    let mut body = hit_body();
    body["response"] = Value::String(format!("{echo}{}", "z".repeat(filler)));
    echoed = serde_json::to_vec(&body).unwrap();
    assert_eq!(echoed.len(), CAP + KEY.len());
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_raw(echoed, "application/json"),
    )
    .await;
    let scrubbed = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .expect("the scrubbed body is within the cap");
    assert!(scrubbed.response.starts_with("[redacted] [redacted]zzz"));

    // One byte over the cap: a decode error that names the cap, and no retry.
    let oversized = body_with_answer(CAP);
    assert!(oversized.len() > CAP);
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_raw(oversized, "application/json"),
    )
    .await;
    let err = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode(_)), "{err:?}");
    assert!(
        err.to_string()
            .contains(&format!("larger than {CAP} bytes")),
        "{err}"
    );
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn headers_the_client_owns_are_refused_and_nothing_is_sent() {
    let server = MockServer::start().await;
    let client = client(&server);
    for name in ["Content-Length", "transfer-encoding", "Host", "Connection"] {
        let error = client
            .query(QueryRequest::new("p", "m").header(name, "1000"))
            .await
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidRequest, "{name}");
        assert_eq!(
            error.to_string(),
            format!(
                "invalid request: the {name} header is set by the client (it frames the request \
                 or steers the connection) and cannot be given as a header"
            )
        );
        let error = builder(&server)
            .default_header(name, "1000")
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), ErrorKind::InvalidConfig, "{name}");
    }
    // A Content-Type may restate that the body is JSON, not say otherwise.
    let error = client
        .query(QueryRequest::new("p", "m").header("Content-Type", "text/plain"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "invalid request: the request body is JSON: a Content-Type header must be \
         application/json"
    );
    assert!(server.received_requests().await.unwrap().is_empty());
    // Others, User-Agent and Accept among them, are the caller's to set.
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    client
        .query(
            QueryRequest::new("p", "m")
                .header("Accept", "application/json")
                .header("Content-Type", "application/json; charset=utf-8")
                .header("X-Trace", "1"),
        )
        .await
        .unwrap();
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(
        sent.headers["content-type"],
        "application/json; charset=utf-8"
    );
}

/// `body` gzipped, as a compressing proxy or CDN sends it.
fn gzipped(body: &Value) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(body.to_string().as_bytes()).unwrap();
    encoder.finish().unwrap()
}

#[tokio::test]
async fn gzipped_answers_are_decoded() {
    let server = MockServer::start().await;
    let zipped = |status, body: &Value| {
        ResponseTemplate::new(status)
            .insert_header("content-encoding", "gzip")
            .set_body_raw(gzipped(body), "application/json")
    };
    answer(&server, zipped(200, &hit_body())).await;
    let hit = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap();
    assert!(hit.cache_hit);
    // The client says it takes gzip (a server may compress only when asked).
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(sent.headers["accept-encoding"], "gzip");

    let (error, _) = failed_query(zipped(503, &json!({ "detail": "gzipped down" })), 0).await;
    assert_eq!(error.detail(), Some("gzipped down"));
}
