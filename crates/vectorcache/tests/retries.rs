//! Which failures are retried, how often, and how long the client waits.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use common::*;
use vectorcache::{Error, ErrorKind, QueryRequest};
use wiremock::{MockServer, ResponseTemplate};

#[tokio::test]
async fn retryable_statuses_are_retried_up_to_max_retries() {
    for status in [429, 500, 502, 503, 504] {
        let (err, attempts) = failed_query(json_error(status, "try again"), 3).await;
        assert_eq!(err.status(), Some(status));
        assert_eq!(attempts, 4, "{status}: 1 attempt + 3 retries");
        assert_eq!(
            err.attempts(),
            Some(4),
            "{status}: the error counts them too"
        );
    }
}

#[tokio::test]
async fn client_errors_are_never_retried() {
    // The service's docs: a client error other than 429 must not be retried (408 and 409
    // included, which some HTTP clients retry).
    for status in [400, 401, 403, 404, 408, 409, 413, 422] {
        let (err, attempts) = failed_query(json_error(status, "no"), 5).await;
        assert!(!err.is_retryable());
        assert_eq!(attempts, 1, "{status} must not be retried");
        assert_eq!(err.attempts(), Some(1), "{status}");
    }
}

#[tokio::test]
async fn default_is_two_retries_and_zero_disables() {
    let server = MockServer::start().await;
    answer(&server, json_error(500, "boom")).await;
    client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(requests(&server).await.len(), 3);

    let server = MockServer::start().await;
    answer(&server, json_error(500, "boom")).await;
    common::builder(&server)
        .max_retries(0)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn recovers_after_transient_failures() {
    let server = MockServer::start().await;
    answer_times(
        &server,
        1,
        json_error(503, "Service temporarily unavailable"),
    )
    .await;
    answer_times(
        &server,
        1,
        ResponseTemplate::new(502).set_body_string("<html>bad gateway</html>"),
    )
    .await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let answer = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap();
    assert!(answer.cache_hit);
    let sent = requests(&server).await;
    assert_eq!(sent.len(), 3);
    assert!(
        sent.iter().all(|r| r.body == sent[0].body),
        "every attempt sends the same body"
    );
}

#[tokio::test]
async fn honours_the_wait_the_server_asks_for() {
    for template in [
        ResponseTemplate::new(429).insert_header("retry-after-ms", "300"),
        ResponseTemplate::new(503).insert_header("Retry-After", "1"),
        ResponseTemplate::new(429).insert_header("X-RateLimit-Reset", "1"),
    ] {
        let server = MockServer::start().await;
        answer_times(&server, 1, template).await;
        answer(
            &server,
            ResponseTemplate::new(200).set_body_json(hit_body()),
        )
        .await;
        let started = Instant::now();
        client(&server)
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap();
        let elapsed = started.elapsed();
        assert_eq!(requests(&server).await.len(), 2);
        // Far longer than the 1–5 ms backoff, so the server's wait was used.
        assert!(
            elapsed >= Duration::from_millis(290),
            "waited only {elapsed:?}"
        );
        assert!(elapsed < Duration::from_secs(3), "waited {elapsed:?}");
    }
}

#[tokio::test]
async fn a_reset_time_already_past_backs_off_instead_of_retrying_at_once() {
    // A client clock ahead of the server's makes its reset (or Retry-After date) past.
    let past = SystemTime::now() - Duration::from_secs(30);
    let epoch = past
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .to_string();
    for template in [
        json_error(429, "slow down").insert_header("X-RateLimit-Reset", epoch.as_str()),
        json_error(503, "busy").insert_header("Retry-After", httpdate::fmt_http_date(past)),
    ] {
        let server = MockServer::start().await;
        answer(&server, template).await;
        let started = Instant::now();
        let err = common::builder(&server)
            .retry_backoff(Duration::from_millis(300), Duration::from_millis(300))
            .max_retries(1)
            .build()
            .unwrap()
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(requests(&server).await.len(), 2);
        assert_eq!(err.retry_after(), None, "no wait was asked for");
        // The backoff (300 ms less at most a quarter of jitter), not an immediate retry.
        assert!(
            elapsed >= Duration::from_millis(220),
            "retried after {elapsed:?}"
        );
    }
}

#[tokio::test]
async fn a_wait_beyond_the_cap_fails_at_once() {
    let server = MockServer::start().await;
    answer(
        &server,
        json_error(429, "Rate limit exceeded. Please try again later.")
            .insert_header("Retry-After", "3600"),
    )
    .await;
    let started = Instant::now();
    let err = common::builder(&server)
        .max_retries(3)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(matches!(err, Error::RateLimited(_)));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(requests(&server).await.len(), 1);

    let server = MockServer::start().await;
    answer(
        &server,
        json_error(503, "busy").insert_header("Retry-After", "2"),
    )
    .await;
    let err = common::builder(&server)
        .max_retry_wait(Duration::from_secs(1))
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(requests(&server).await.len(), 1);
}

#[tokio::test]
async fn timeouts_are_retried_then_reported() {
    let server = MockServer::start().await;
    answer(
        &server,
        ResponseTemplate::new(200)
            .set_body_json(hit_body())
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    let started = Instant::now();
    let err = common::builder(&server)
        .timeout(Duration::from_millis(150))
        .max_retries(1)
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Timeout { attempts: 2, .. }), "{err:?}");
    assert!(err.is_retryable());
    assert_eq!(requests(&server).await.len(), 2);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the call is bounded"
    );
}

#[tokio::test]
async fn a_slow_first_attempt_then_success() {
    let server = MockServer::start().await;
    answer_times(
        &server,
        1,
        ResponseTemplate::new(200)
            .set_body_json(hit_body())
            .set_delay(Duration::from_secs(5)),
    )
    .await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;
    let client = common::builder(&server)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    assert!(
        client
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap()
            .cache_hit
    );
}

#[tokio::test]
async fn connection_refused_is_retried_then_reported() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let client = vectorcache::Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    match &err {
        Error::Connection {
            attempts: 3,
            message,
            ..
        } => {
            assert!(!message.contains(KEY));
            // The whole cause chain, down to the operating system's words.
            assert!(
                message.starts_with("error sending request") && message.contains("refused"),
                "{message}"
            );
            let chain = err.source_chain().expect("a transport error underneath");
            assert!(
                chain.starts_with("error sending request") && chain.contains(": "),
                "{chain}"
            );
            assert!(chain.to_lowercase().contains("refused"), "{chain}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.kind(), ErrorKind::Connection);
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn a_dropped_connection_is_retried() {
    // A server that accepts and hangs up at once on the first two connections, then is gone.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let client = vectorcache::Client::builder()
        .api_key(KEY)
        .base_url(format!("http://{addr}"))
        .max_retries(2)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connection, "{err:?}");
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}
