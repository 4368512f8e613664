//! The key never shows: not in `Debug` or `Display` of anything, not in errors, not in logs.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use vectorcache::{ApiKey, Client, ClientBuilder, ClientOptions, Event, QueryRequest};
use wiremock::{MockServer, ResponseTemplate};

/// The secret part; any occurrence of it means the key leaked.
const SECRET: &str = "0123456789abcdef0123456789abcdef";

fn assert_redacted(what: &str, shown: &str) {
    assert!(!shown.contains(SECRET), "{what} leaks the key: {shown}");
    assert!(
        !shown.contains(&SECRET[4..]),
        "{what} leaks part of the key: {shown}"
    );
}

#[tokio::test]
async fn nothing_formats_the_key() {
    let server = MockServer::start().await;
    answer_times(
        &server,
        2,
        json_error(503, "Service temporarily unavailable"),
    )
    .await;
    answer_times(&server, 1, json_error(401, "Invalid API key")).await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_json(hit_body()),
    )
    .await;

    let (logs, _guard) = capture_logs(tracing::Level::TRACE);

    let key: ApiKey = KEY.parse().unwrap();
    let builder = common::builder(&server);
    let client = builder.clone().build().unwrap();
    let mut shown = vec![
        format!("{key} {key:?} {key:#?}"),
        format!("{builder:?} {builder:#?}"),
        format!("{client:?} {client:#?}"),
    ];
    // 503, 503, then 401: two retries logged, then an API error.
    let err = client.query(QueryRequest::new("p", "m")).await.unwrap_err();
    shown.push(format!("{err} {err:?} {err:#?}"));
    let ok = client.query(QueryRequest::new("p", "m")).await.unwrap();
    shown.push(format!("{ok:?}"));

    let transport = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:1")
        .max_retries(1)
        .retry_backoff(Duration::from_millis(1), Duration::from_millis(1))
        .build()
        .unwrap()
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    shown.push(format!("{transport} {transport:?}"));
    for bad in [format!("{KEY} "), format!("x{KEY}"), format!("{KEY}0")] {
        let err = ApiKey::new(bad).unwrap_err();
        shown.push(format!("{err} {err:?}"));
    }

    for text in &shown {
        assert_redacted("formatting", text);
    }
    let logs = logs.text();
    assert!(
        logs.contains("retrying Vectorcache query"),
        "the retries were logged: {logs}"
    );
    assert_redacted("the log", &logs);
    assert!(shown[2].contains("vc_0123…"), "{}", shown[2]);
}

#[tokio::test]
async fn a_key_echoed_by_the_server_is_scrubbed() {
    let echo = format!("upstream rejected Authorization: Bearer {KEY}");
    let server = MockServer::start().await;
    answer_times(&server, 1, json_error(503, &echo)).await;
    answer_times(&server, 1, json_error(502, &echo)).await;
    answer(
        &server,
        ResponseTemplate::new(200).set_body_string(format!("{{\"echo\": \"{KEY}\"")),
    )
    .await;

    let (logs, _guard) = capture_logs(tracing::Level::INFO);

    // 503 and 502 are retried (and logged), then the 200 body does not decode.
    let err = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap_err();
    assert!(matches!(err, vectorcache::Error::Decode(_)), "{err:?}");
    assert_redacted("a decode error", &format!("{err} {err:?}"));
    let logs = logs.text();
    assert!(
        logs.contains("upstream rejected Authorization: Bearer [redacted]"),
        "{logs}"
    );
    assert_redacted("the retry log", &logs);

    let (err, _) = failed_query(json_error(401, &echo), 0).await;
    let api = err.api_error().unwrap();
    assert_eq!(
        api.detail,
        "upstream rejected Authorization: Bearer [redacted]"
    );
    assert_redacted("an API error", &format!("{err} {err:?} {}", api.body));
}

#[tokio::test]
async fn a_key_echoed_in_headers_is_scrubbed_everywhere() {
    let tail = &KEY[KEY.len() - 24..];
    let (err, _) = failed_query(
        json_error(401, "Invalid API key")
            .insert_header(
                "www-authenticate",
                format!("Bearer error=\"invalid_token\", token=\"{KEY}\"").as_str(),
            )
            .insert_header("x-debug-authorization", format!("Bearer {KEY}").as_str())
            .insert_header("x-partial", &KEY[5..25]),
        0,
    )
    .await;
    let api = err.api_error().unwrap();
    assert_eq!(
        api.header("www-authenticate"),
        Some("Bearer error=\"invalid_token\", token=\"[redacted]\"")
    );
    assert_eq!(
        api.header("x-debug-authorization"),
        Some("Bearer [redacted]")
    );
    assert_eq!(api.header("x-partial"), Some("[redacted]"));
    let shown = format!("{err} {err:?} {err:#?} {:?}", err.headers());
    assert!(!shown.contains(tail), "{shown}");
}

#[tokio::test]
async fn a_key_echoed_in_json_escapes_base64_or_a_header_name_is_scrubbed() {
    // `\u0076\u0063\u005f...`: JSON decoding would spell the key out in the detail and the
    // decode error's message.
    let escaped: String = KEY.bytes().map(|b| format!("\\u{b:04x}")).collect();
    let body = format!(r#"{{"detail": "Invalid API key: {escaped}"}}"#);
    let (err, _) = failed_query(
        ResponseTemplate::new(401)
            .set_body_raw(body.clone(), "application/json")
            .insert_header(format!("x-{KEY}").as_str(), "1")
            .insert_header("x-echo", STANDARD.encode(format!("Bearer {KEY}")).as_str()),
        0,
    )
    .await;
    let api = err.api_error().unwrap();
    assert_eq!(api.detail, "Invalid API key: [redacted]");
    let echo = api.header("x-echo").unwrap();
    assert!(
        echo.starts_with("QmVhcmVyI") && echo.contains("[redacted]"),
        "{echo}"
    );
    assert_eq!(api.json().unwrap()["detail"], "Invalid API key: [redacted]");
    assert_eq!(api.header("redacted"), Some("1"));
    let shown = format!("{err} {err:?} {} {:?}", api.body, api.headers);
    assert_redacted("an API error", &shown);
    assert!(!shown.contains(&STANDARD.encode(KEY)[4..24]), "{shown}");

    let answer = format!(r#"{{"cache_hit": "{escaped}", "response": "x"}}"#);
    let (err, _) = failed_query(
        ResponseTemplate::new(200).set_body_raw(answer, "application/json"),
        0,
    )
    .await;
    assert!(matches!(err, vectorcache::Error::Decode(_)), "{err:?}");
    assert!(err.to_string().contains("[redacted]"), "{err}");
    assert_redacted("a decode error", &format!("{err} {err:?}"));
}

#[tokio::test]
async fn a_key_across_the_body_limit_is_scrubbed_before_the_cut() {
    // 64 KiB is where error bodies are cut; put the key across that line.
    let limit = 64 * 1024;
    for offset in [10, 17, 20, 30] {
        let body = format!("{}{KEY}{}", "x".repeat(limit - offset), "y".repeat(100));
        let (err, _) = failed_query(ResponseTemplate::new(500).set_body_string(body), 0).await;
        let api = err.api_error().unwrap();
        assert!(api.body_truncated);
        assert!(api.body.len() <= limit);
        // Not even a short fragment is left where the key was cut.
        for piece in [&KEY[..8], &KEY[3..19], &KEY[KEY.len() - 16..]] {
            assert!(
                !api.body.contains(piece),
                "offset {offset}: {}",
                &api.body[limit - 40..]
            );
        }
        assert!(!format!("{err:?}").contains(&KEY[3..19]));
    }
}

#[tokio::test]
async fn a_key_echoed_in_a_successful_answers_headers_is_scrubbed() {
    // A key whose secret is all decimal digits, so an echoed run of it reads as a number.
    const DIGITS: &str = "vc_11112222333344445555666677778888";
    let echoed = |template: ResponseTemplate| {
        template
            .insert_header("x-request-id", format!("req_{DIGITS}").as_str())
            .insert_header("x-ratelimit-limit", &DIGITS[3..19])
            .insert_header("x-ratelimit-remaining", "5")
            .insert_header("x-debug-authorization", format!("Bearer {DIGITS}").as_str())
    };
    // The answer event carries the request id the debug log line shows.
    let events: Arc<Mutex<Vec<Event>>> = Arc::default();
    let client = |server: &MockServer| {
        let sink = events.clone();
        let mut options = ClientOptions::default();
        options.api_key = Some(DIGITS.into());
        options.base_url = Some(server.uri());
        options.max_retries = Some(0);
        options.on_event = Some(Arc::new(move |event: &Event| {
            sink.lock().unwrap().push(event.clone())
        }));
        ClientBuilder::from(options).build().unwrap()
    };
    let leaks = |shown: &str| shown.contains(&DIGITS[3..19]) || shown.contains(&DIGITS[19..]);

    // An answer that decodes passes on its request id and rate limit, scrubbed.
    let server = MockServer::start().await;
    answer(
        &server,
        echoed(ResponseTemplate::new(200).set_body_json(hit_body())),
    )
    .await;
    let ok = client(&server)
        .query(QueryRequest::new("p", "m"))
        .await
        .unwrap();
    assert_eq!(ok.request_id.as_deref(), Some("req_[redacted]"));
    let limits = ok.rate_limit.unwrap();
    assert_eq!((limits.limit, limits.remaining), (None, Some(5)));
    let events = events.lock().unwrap().clone();
    assert!(
        matches!(&events[..], [Event::Answer { request_id: Some(id), .. }] if id == "req_[redacted]"),
        "{events:?}"
    );
    assert!(!leaks(&format!("{ok:?} {events:?}")), "{ok:?}");

    // One that does not (or is too long) puts every header into its error, all scrubbed.
    let broken = ResponseTemplate::new(200).set_body_string("{\"cache_hit\": ");
    let too_long = ResponseTemplate::new(200).set_body_string(" ".repeat(16 * 1024 * 1024 + 1));
    for template in [broken, too_long] {
        let server = MockServer::start().await;
        answer(&server, echoed(template)).await;
        let err = client(&server)
            .query(QueryRequest::new("p", "m"))
            .await
            .unwrap_err();
        assert!(matches!(err, vectorcache::Error::Decode(_)), "{err:?}");
        let headers = err.headers().unwrap();
        assert_eq!(headers["x-debug-authorization"], "Bearer [redacted]");
        assert_eq!(headers["x-request-id"], "req_[redacted]");
        assert_eq!(headers["x-ratelimit-limit"], "[redacted]");
        assert!(!leaks(&format!("{err} {err:?}")), "{err:?}");
    }
}

#[test]
fn a_base_url_holding_the_key_is_refused_without_showing_it() {
    // Pasted with the key in its path, as a host, upper-cased, percent-encoded, or only its
    // secret part: refused before anything could print it (a transport error quotes the URL).
    let upper = KEY.to_ascii_uppercase();
    let encoded: String = KEY.bytes().map(|b| format!("%{b:02X}")).collect();
    for url in [
        format!("http://127.0.0.1:9/{KEY}/"),
        format!("http://127.0.0.1:9/v1?key={KEY}"),
        format!("http://{KEY}.example.com/"),
        format!("https://proxy.example/{upper}"),
        format!("https://proxy.example/{encoded}"),
        format!("https://proxy.example/{}", &SECRET[..20]),
    ] {
        let error = Client::builder()
            .api_key(KEY)
            .base_url(&url)
            .build()
            .unwrap_err();
        assert_eq!(error.kind(), vectorcache::ErrorKind::InvalidConfig, "{url}");
        assert_eq!(
            error.to_string(),
            "invalid configuration: the base URL contains the API key (or part of it): keep \
             the key out of the URL and pass it as `api_key` (it is sent in the Authorization \
             header)"
        );
        assert_redacted("the refusal", &format!("{error} {error:?}"));
        // Nor does a Debug of the options, before anything is built.
        let builder = Client::builder().api_key(KEY).base_url(&url);
        assert_redacted("the builder's Debug", &format!("{builder:?}"));
    }
    // Another key's digits, or a short run of this one's, are just a path.
    let other = format!("http://127.0.0.1:9/vc_{}/", "f".repeat(32));
    assert!(Client::builder()
        .api_key(KEY)
        .base_url(other)
        .build()
        .is_ok());
    let short = format!("http://127.0.0.1:9/{}/", &SECRET[..15]);
    assert!(Client::builder()
        .api_key(KEY)
        .base_url(short)
        .build()
        .is_ok());
}

#[tokio::test]
async fn a_key_given_as_a_header_name_is_not_quoted_back() {
    // Name and value swapped: the name is invalid, and its error names it, key redacted.
    let swapped = format!("Bearer {KEY}");
    let error = Client::builder()
        .api_key(KEY)
        .base_url("http://127.0.0.1:9")
        .default_header(&swapped, "Authorization")
        .build()
        .unwrap_err();
    assert_eq!(error.kind(), vectorcache::ErrorKind::InvalidConfig);
    assert_redacted("a default header's error", &format!("{error} {error:?}"));
    assert!(
        error.to_string().contains("\"Bearer [redacted]\""),
        "{error}"
    );

    let server = MockServer::start().await;
    let error = client(&server)
        .query(QueryRequest::new("p", "m").header(&swapped, "Authorization"))
        .await
        .unwrap_err();
    assert_eq!(error.kind(), vectorcache::ErrorKind::InvalidRequest);
    assert_redacted("a request header's error", &format!("{error} {error:?}"));
    assert!(server.received_requests().await.unwrap().is_empty());
}
