//! `POST /v1/cache/query`: faults, auth, size limit, rate limit, validation, then the cache.

use std::time::{Duration, Instant};

use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, WWW_AUTHENTICATE};
use hyper::{Method, Request, Response, StatusCode};
use serde::Serialize;
use serde_json::{json, Value};

use crate::auth::AuthError;
use crate::embed::{embed_words, normalize_words};
use crate::faults::PlannedFault;
use crate::http::{
    detail, json_response, read_body, Body, ReadBody, INTERNAL_ERROR, NOT_FOUND, NO_PERMISSION,
    RATE_LIMITED, TOO_LARGE,
};
use crate::pricing::{cost_saved, provider_for};
use crate::ratelimit::{RateLimitInfo, RateLimiter};
use crate::reqlog::{loggable_body, loggable_headers, LoggedRequest};
use crate::server::{ConnectionDropped, ConnectionNumber, State};
use crate::store::SegmentKey;
use crate::validate::{parse_query, QueryRequest, ValidationError};

/// The path this module serves.
pub const PATH: &str = "/v1/cache/query";

/// What the dispatcher needs to know besides the answer.
pub struct QueryOutcome {
    /// The answer, or `Err` to close the connection without one.
    pub result: Result<Response<Body>, ConnectionDropped>,
    /// The redacted key prefix for the log line (`-` when unauthenticated).
    pub key_prefix: String,
}

/// The 200 body.
#[derive(Serialize)]
struct QueryResponse {
    cache_hit: bool,
    response: String,
    similarity_score: Option<f64>,
    cost_saved: f64,
    llm_provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    debug: Option<Debug>,
}

/// The `debug` object.
#[derive(Serialize)]
struct Debug {
    embedding_time_ms: f64,
    search_time_ms: f64,
    total_time_ms: f64,
    matched_cache_entry_id: Option<String>,
    cache_entry_count: usize,
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Handles one request to [`PATH`] and records it in the request log.
pub async fn handle(
    state: &State,
    req: Request<Incoming>,
    request_id: &str,
    started: Instant,
) -> QueryOutcome {
    let (parts, body) = req.into_parts();
    let headers = loggable_headers(&parts.headers);
    let read = read_body(
        body,
        parts.headers.get(CONTENT_LENGTH),
        state.config.max_body_bytes,
    )
    .await;
    let (bytes, too_large, read_failed) = match read {
        Ok(ReadBody::Complete(b)) => (b, false, false),
        Ok(ReadBody::TooLarge(b)) => (b, true, false),
        Err(_) => (Bytes::new(), false, true),
    };

    // Faults are meant for queries: a client that went away mid-body (nobody is left to
    // answer) or a wrong method does not spend one.
    let fault = if read_failed || parts.method != Method::POST {
        None
    } else {
        state.faults.next()
    };
    let mut key_prefix = "-".to_owned();
    let result = if read_failed {
        Err(ConnectionDropped)
    } else if parts.method != Method::POST {
        Ok(method_not_allowed())
    } else {
        let (result, prefix) = respond(
            state,
            &parts.headers,
            &bytes,
            too_large,
            fault.as_ref(),
            started,
        )
        .await;
        key_prefix = prefix;
        result
    };

    state.log.push(LoggedRequest {
        request_id: request_id.to_owned(),
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        status: result.as_ref().ok().map(|r| r.status().as_u16()),
        headers,
        body: loggable_body(&bytes, too_large),
        fault: fault.is_some(),
        connection: parts
            .extensions
            .get::<ConnectionNumber>()
            .map_or(0, |number| number.0),
    });
    QueryOutcome { result, key_prefix }
}

/// The 405 answer for other methods on a known route.
pub fn method_not_allowed() -> Response<Body> {
    let mut response = detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    response
        .headers_mut()
        .insert(hyper::header::ALLOW, HeaderValue::from_static("POST"));
    response
}

/// Applies a fault (if any), then the normal processing. Returns the answer and key prefix.
async fn respond(
    state: &State,
    headers: &hyper::HeaderMap,
    body: &[u8],
    too_large: bool,
    fault: Option<&PlannedFault>,
    started: Instant,
) -> (Result<Response<Body>, ConnectionDropped>, String) {
    if let Some(fault) = fault {
        if !fault.delay.is_zero() {
            tokio::time::sleep(fault.delay).await;
        }
        if fault.drop_connection {
            return (Err(ConnectionDropped), "-".to_owned());
        }
        if let Some(status) = fault.status {
            return (
                Ok(fault_response(fault, status, state.limiter.as_ref())),
                "-".to_owned(),
            );
        }
    }
    let (response, prefix) = process(state, headers, body, too_large, started);
    (Ok(response), prefix)
}

/// A fault's canned answer. Without a `body` of its own it is the service's answer for its
/// status (its documented `detail`; a 429 also the service's rate-limit headers and
/// `Retry-After`), so that a test of a user's handling of, say, rate limiting needs only the
/// status; `"body": null` or `""` sends an empty body, as proxies do. The fault's own headers
/// win.
fn fault_response(
    fault: &PlannedFault,
    status: StatusCode,
    limiter: Option<&RateLimiter>,
) -> Response<Body> {
    let mut response = match (&fault.body, service_detail(status)) {
        (None, Some(message)) => detail(status, message),
        _ => canned(fault, status),
    };
    if fault.body.is_none() && status == StatusCode::TOO_MANY_REQUESTS {
        let headers = match limiter {
            Some(limiter) => limiter.exhausted().headers(),
            // Limits switched off: no X-RateLimit-* headers, but a 429 still says when to retry.
            None => vec![("retry-after", "1".to_owned())],
        };
        insert_all(&mut response, headers);
    }
    for (name, value) in &fault.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

/// The fault's body as given (none: empty).
fn canned(fault: &PlannedFault, status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::new(Bytes::from(fault.body_bytes())));
    *response.status_mut() = status;
    // A text body is labelled by what it looks like: markup is a proxy's or a load balancer's
    // page, `{` or `[` JSON (perhaps cut short), anything else plain text (Envoy's "upstream
    // connect error"). A JSON body is JSON. A fault's own `Content-Type` header wins.
    let content_type = match &fault.body {
        Some(Value::String(text)) => match text.trim_start().chars().next() {
            Some('<') => "text/html; charset=utf-8",
            Some('{' | '[') => "application/json",
            _ => "text/plain; charset=utf-8",
        },
        _ => "application/json",
    };
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// The service's documented `detail` for an error status (API.md), where it has one.
fn service_detail(status: StatusCode) -> Option<&'static str> {
    Some(match status.as_u16() {
        400 => "Invalid JSON format",
        401 => AuthError::UnknownOrRevoked.detail(),
        403 => NO_PERMISSION,
        404 => NOT_FOUND,
        413 => TOO_LARGE,
        429 => RATE_LIMITED,
        500 => INTERNAL_ERROR,
        502 => "LLM provider error: Invalid API key",
        503 => "Service temporarily unavailable",
        _ => return None,
    })
}

/// Sets each of `headers` on `response` (names are lowercase constants, values ASCII).
fn insert_all(response: &mut Response<Body>, headers: Vec<(&'static str, String)>) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
}

/// The service's own processing, steps 1 to 6 of the documented order.
fn process(
    state: &State,
    headers: &hyper::HeaderMap,
    body: &[u8],
    too_large: bool,
    started: Instant,
) -> (Response<Body>, String) {
    // 1. Authentication.
    let caller = match state
        .keys
        .authenticate(headers.get(hyper::header::AUTHORIZATION))
    {
        Ok(caller) => caller,
        Err(e) => {
            let mut response = detail(StatusCode::UNAUTHORIZED, e.detail());
            response
                .headers_mut()
                .insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return (response, "-".to_owned());
        }
    };
    let prefix = caller.key_prefix();

    // 2. Body size (does not spend a rate-limit token), 3. rate limit.
    let mut rate_info: Option<RateLimitInfo> = None;
    let refused = if too_large {
        rate_info = state
            .limiter
            .as_ref()
            .map(|l| l.check(&caller.key, false).1);
        Some(detail(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE))
    } else if let Some(limiter) = &state.limiter {
        let (allowed, info) = limiter.check(&caller.key, true);
        rate_info = Some(info);
        (!allowed).then(|| detail(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED))
    } else {
        None
    };

    let mut response = match refused {
        Some(response) => response,
        None => match parse_query(body) {
            // 4. Validation.
            Err(ValidationError::BadRequest(message)) => detail(StatusCode::BAD_REQUEST, message),
            Err(ValidationError::Unprocessable(errors)) => json_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                &json!({ "detail": errors }),
            ),
            // 5. Project permission.
            Ok(query)
                if query
                    .project_id
                    .as_deref()
                    .is_some_and(|p| p != caller.project) =>
            {
                detail(StatusCode::FORBIDDEN, NO_PERMISSION)
            }
            // 6. The cache.
            Ok(query) => json_response(
                StatusCode::OK,
                &lookup(state, &caller.project, query, started),
            ),
        },
    };
    if let Some(info) = rate_info {
        insert_all(&mut response, info.headers());
    }
    (response, prefix)
}

/// A deterministic stand-in for the LLM's answer on a miss.
pub fn stand_in_answer(model: &str, prompt: &str) -> String {
    fn clip(text: &str, max: usize) -> String {
        let text = text.trim();
        if text.chars().count() > max {
            format!("{}…", text.chars().take(max).collect::<String>())
        } else {
            text.to_owned()
        }
    }
    format!(
        "[emulated {} answer] This is a deterministic stand-in produced by the local Vectorcache \
         emulator for the prompt \"{}\". No real LLM was called.",
        clip(model, 64),
        clip(prompt, 200)
    )
}

/// Searches the caller's segment; on a miss stores a stand-in answer.
fn lookup(state: &State, project: &str, query: QueryRequest, started: Instant) -> QueryResponse {
    let embed_start = Instant::now();
    let words = normalize_words(&query.prompt);
    let canonical = words.join(" ");
    let embedding = embed_words(&words);
    let embedding_time = embed_start.elapsed();

    let segment = SegmentKey {
        project: project.to_owned(),
        context: query.context.clone(),
    };
    let search_start = Instant::now();
    let found = state.store.search(&segment, &canonical, &embedding);
    let search_time = search_start.elapsed();

    let hit = found.best.filter(|m| m.score >= query.similarity_threshold);
    let (mut response, matched) = match hit {
        Some(m) => (
            QueryResponse {
                cache_hit: true,
                cost_saved: cost_saved(&query.model, &query.prompt, &m.entry.response),
                response: m.entry.response,
                similarity_score: Some(m.score),
                llm_provider: "cache".to_owned(),
                debug: None,
            },
            Some(m.entry.id),
        ),
        None => {
            let answer = stand_in_answer(&query.model, &query.prompt);
            state.store.insert(
                segment,
                canonical,
                &embedding,
                &query.prompt,
                &answer,
                &query.model,
            );
            (
                QueryResponse {
                    cache_hit: false,
                    response: answer,
                    similarity_score: None,
                    cost_saved: 0.0,
                    llm_provider: provider_for(&query.model).to_owned(),
                    debug: None,
                },
                None,
            )
        }
    };
    if query.include_debug {
        response.debug = Some(Debug {
            embedding_time_ms: millis(embedding_time),
            search_time_ms: millis(search_time),
            total_time_ms: millis(started.elapsed()),
            matched_cache_entry_id: matched,
            cache_entry_count: found.entry_count,
        });
    }
    response
}
