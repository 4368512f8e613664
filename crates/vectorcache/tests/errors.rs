//! Every documented status and every error body shape the service or a proxy sends.

mod common;

use std::time::Duration;

use common::*;
use serde_json::json;
use vectorcache::{ApiError, Error, ErrorCategory, ErrorKind};
use wiremock::ResponseTemplate;

async fn error_for(template: ResponseTemplate) -> (Error, usize) {
    failed_query(template, 0).await
}

#[tokio::test]
async fn each_documented_status_has_its_kind_and_exact_detail() {
    let cases = [
        (400, "Field required: prompt", ErrorKind::BadRequest),
        (401, "Invalid or missing API key", ErrorKind::Authentication),
        (401, "Invalid API key", ErrorKind::Authentication),
        (
            403,
            "API key does not have permission to access this project",
            ErrorKind::PermissionDenied,
        ),
        (404, "Not Found", ErrorKind::NotFound),
        (
            422,
            "Content type not cacheable",
            ErrorKind::UnprocessableEntity,
        ),
        (
            429,
            "Rate limit exceeded. Please try again later.",
            ErrorKind::RateLimited,
        ),
        (
            500,
            "Internal server error. Please try again or contact support.",
            ErrorKind::InternalServer,
        ),
        (
            502,
            "LLM provider error: Invalid API key",
            ErrorKind::BadGateway,
        ),
        (
            503,
            "Service temporarily unavailable",
            ErrorKind::ServiceUnavailable,
        ),
        (504, "upstream timed out", ErrorKind::Status),
        (409, "conflict", ErrorKind::Status),
        (418, "teapot", ErrorKind::Status),
    ];
    for (status, detail, kind) in cases {
        let (err, attempts) =
            error_for(json_error(status, detail).insert_header("x-request-id", "req_9")).await;
        assert_eq!(attempts, 1);
        assert_eq!(err.kind(), kind, "{status}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.detail(), Some(detail), "{status}");
        assert_eq!(err.request_id(), Some("req_9"));
        let api = err.api_error().unwrap();
        assert_eq!(api.body, json!({ "detail": detail }).to_string());
        assert_eq!(api.json().unwrap()["detail"], detail);
        assert_eq!(api.header("X-Request-Id"), Some("req_9"));
        assert!(err.to_string().starts_with(&format!("{status} ")), "{err}");
        assert!(err.to_string().ends_with(detail), "{err}");
        assert_eq!(err.body(), Some(api.body.as_str()));
        assert_eq!(err.attempts(), Some(1));
        let expected = if status >= 500 {
            ErrorCategory::Server
        } else {
            ErrorCategory::Status
        };
        assert_eq!(err.category(), expected, "{status}");
    }
}

#[tokio::test]
async fn the_rate_limit_state_of_an_error_answer() {
    let (err, _) = error_for(
        json_error(429, "slow down")
            .insert_header("x-ratelimit-limit", "100")
            .insert_header("x-ratelimit-remaining", "0")
            .insert_header("x-ratelimit-reset", "4102444800"),
    )
    .await;
    let rate_limit = err.rate_limit().expect("the headers were sent");
    assert_eq!(
        (rate_limit.limit, rate_limit.remaining, rate_limit.reset),
        (Some(100), Some(0), Some(4102444800))
    );
    let (plain, _) = error_for(json_error(429, "slow down")).await;
    assert_eq!(plain.rate_limit(), None);
}

#[test]
fn users_can_build_errors_for_their_own_tests() {
    let mut api = ApiError::new(503, "down");
    api.retry_after = Some(Duration::from_secs(2));
    api.headers.insert("retry-after".into(), "2".into());
    let err = Error::from(api);
    assert_eq!(err.kind(), ErrorKind::ServiceUnavailable);
    assert_eq!(err.category(), ErrorCategory::Server);
    assert!(err.is_retryable());
    assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
    assert_eq!(err.attempts(), Some(1));
    assert_eq!(err.to_string(), "503 Service Unavailable: down");
    assert_eq!(
        Error::from(ApiError::new(418, "teapot")).kind(),
        ErrorKind::Status
    );
}

#[tokio::test]
async fn matching_on_variants() {
    let (err, _) = error_for(json_error(401, "Invalid API key")).await;
    let Error::Authentication(api) = err else {
        panic!("not an authentication error")
    };
    assert_eq!(api.detail, "Invalid API key");
    let (err, _) = error_for(json_error(
        403,
        "API key does not have permission to access this project",
    ))
    .await;
    assert!(
        matches!(err, Error::PermissionDenied(_)),
        "403 is not an authentication error"
    );
}

#[tokio::test]
async fn other_body_shapes_decode() {
    let fastapi = json!({"detail": [
        {"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"},
        {"loc": ["body", "similarity_threshold"], "msg": "Input should be a valid number", "type": "float_parsing"}
    ]});
    let (err, _) = error_for(ResponseTemplate::new(422).set_body_json(fastapi)).await;
    assert_eq!(
        err.detail(),
        Some("body.prompt: Field required; body.similarity_threshold: Input should be a valid number")
    );

    let guide = json!({"error": "rate_limit_exceeded", "message": "Monthly limit reached",
                       "retry_after": 60, "fallback": "call the LLM", "current_usage": 10000, "monthly_limit": 10000});
    let (err, _) = error_for(ResponseTemplate::new(429).set_body_json(guide)).await;
    assert_eq!(err.detail(), Some("Monthly limit reached"));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(60)));
    assert_eq!(
        err.api_error().unwrap().json().unwrap()["monthly_limit"],
        10000
    );

    let html = "<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";
    let (err, _) = error_for(ResponseTemplate::new(502).set_body_raw(html, "text/html")).await;
    assert_eq!(err.kind(), ErrorKind::BadGateway);
    assert_eq!(err.detail(), Some("Bad Gateway (non-JSON response body)"));
    // The message tells the reason once.
    assert_eq!(err.to_string(), "502 Bad Gateway (non-JSON response body)");
    assert_eq!(err.api_error().unwrap().body, html);

    let (err, _) = error_for(ResponseTemplate::new(503)).await;
    assert_eq!(
        err.detail(),
        Some("Service Unavailable (empty response body)")
    );

    let (err, _) =
        error_for(ResponseTemplate::new(500).set_body_bytes(vec![0xff, 0xfe, 0x00, b'!'])).await;
    assert_eq!(err.kind(), ErrorKind::InternalServer);
    assert!(
        err.detail().unwrap().starts_with("Internal Server Error"),
        "{err}"
    );
}

#[tokio::test]
async fn megabyte_bodies_are_bounded() {
    let huge_detail = "x".repeat(3 * 1024 * 1024);
    let (err, _) = error_for(json_error(500, &huge_detail)).await;
    let api = err.api_error().unwrap();
    assert!(
        api.detail.len() < 1100,
        "detail is {} bytes",
        api.detail.len()
    );
    assert!(
        api.body.len() <= 64 * 1024,
        "body is {} bytes",
        api.body.len()
    );
    assert!(api.body_truncated);
    assert!(err.to_string().len() < 1200);

    let (err, _) =
        error_for(ResponseTemplate::new(502).set_body_string("<p>".repeat(1_000_000))).await;
    assert!(err.to_string().len() < 1200);
}

#[tokio::test]
async fn retry_after_is_read_from_every_documented_source() {
    let cases = [
        (
            ResponseTemplate::new(429).insert_header("Retry-After", "7"),
            7_000,
        ),
        (
            ResponseTemplate::new(503).insert_header("Retry-After", "2"),
            2_000,
        ),
        (
            ResponseTemplate::new(429).insert_header("retry-after-ms", "1500"),
            1_500,
        ),
        (
            ResponseTemplate::new(429)
                .set_body_json(json!({"detail": "slow down", "retry_after": 30})),
            30_000,
        ),
        (
            ResponseTemplate::new(429).insert_header("X-RateLimit-Reset", "12"),
            12_000,
        ),
    ];
    for (template, millis) in cases {
        let (err, _) = error_for(template).await;
        assert_eq!(
            err.retry_after(),
            Some(Duration::from_millis(millis)),
            "{err:?}"
        );
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let (err, _) = error_for(
        ResponseTemplate::new(429)
            .insert_header("X-RateLimit-Limit", "100")
            .insert_header("X-RateLimit-Remaining", "0")
            .insert_header("X-RateLimit-Reset", (now + 40).to_string().as_str()),
    )
    .await;
    let wait = err.retry_after().unwrap();
    assert!(
        wait > Duration::from_secs(37) && wait <= Duration::from_secs(40),
        "{wait:?}"
    );
    let limits = err.api_error().unwrap().rate_limit.unwrap();
    assert_eq!((limits.limit, limits.remaining), (Some(100), Some(0)));
    assert_eq!(
        err.api_error().unwrap().header("x-ratelimit-reset"),
        Some((now + 40).to_string().as_str())
    );
}

#[tokio::test]
async fn kinds_have_stable_names() {
    // Every kind: the bindings and the fixture rely on each of these names.
    let names: Vec<(ErrorKind, &str)> = ErrorKind::ALL.iter().map(|k| (*k, k.as_str())).collect();
    assert_eq!(
        names,
        [
            (ErrorKind::BadRequest, "bad_request"),
            (ErrorKind::Authentication, "authentication"),
            (ErrorKind::PermissionDenied, "permission_denied"),
            (ErrorKind::NotFound, "not_found"),
            (ErrorKind::UnprocessableEntity, "unprocessable_entity"),
            (ErrorKind::RateLimited, "rate_limited"),
            (ErrorKind::InternalServer, "internal_server"),
            (ErrorKind::BadGateway, "bad_gateway"),
            (ErrorKind::ServiceUnavailable, "service_unavailable"),
            (ErrorKind::Status, "status"),
            (ErrorKind::Timeout, "timeout"),
            (ErrorKind::Connection, "connection"),
            (ErrorKind::Certificate, "certificate"),
            (ErrorKind::Decode, "decode"),
            (ErrorKind::MissingApiKey, "missing_api_key"),
            (ErrorKind::InvalidApiKey, "invalid_api_key"),
            (ErrorKind::InvalidRequest, "invalid_request"),
            (ErrorKind::InvalidConfig, "invalid_config"),
        ]
    );
    for (kind, name) in names {
        assert_eq!(kind.to_string(), name);
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_and_says_where_it_went() {
    let (err, requests) = error_for(
        ResponseTemplate::new(307).insert_header("Location", "https://login.corp.example/sso"),
    )
    .await;
    assert_eq!(requests, 1);
    assert_eq!(
        err.to_string(),
        "307 Temporary Redirect (empty response body); redirected to \
         https://login.corp.example/sso, not followed: check the base URL"
    );
}
