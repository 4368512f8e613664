//! Small HTTP helpers shared by the handlers: JSON answers, body reading, request ids.

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use hyper::{Response, StatusCode};
use serde::Serialize;
use serde_json::json;

/// Every answer's body type.
pub type Body = Full<Bytes>;

/// How far past the limit an oversized body is still read (and discarded) before answering
/// 413. Answering while the client is still sending makes many clients report a broken pipe
/// instead of the 413, so we drain a reasonable amount first.
const DRAIN_LIMIT: usize = 16 * 1024 * 1024;

/// The name of the request id header.
pub const REQUEST_ID: &str = "x-request-id";

/// A unique request id: `req_` and 16 hexadecimal characters.
pub fn new_request_id() -> String {
    format!("req_{:016x}", fastrand::u64(..))
}

/// A JSON answer.
pub fn json_response<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> Response<Body> {
    // Serialising our own plain data structures cannot fail; fall back to a fixed body anyway
    // rather than panicking.
    let bytes = serde_json::to_vec(value)
        .unwrap_or_else(|_| format!(r#"{{"detail":"{INTERNAL_ERROR}"}}"#).into_bytes());
    let mut response = Response::new(Full::new(Bytes::from(bytes)));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// The service's documented `detail` texts that more than one answer gives.
pub const NOT_FOUND: &str = "Not Found";
pub const TOO_LARGE: &str = "Request body too large";
pub const NO_PERMISSION: &str = "API key does not have permission to access this project";
pub const RATE_LIMITED: &str = "Rate limit exceeded. Please try again later.";
pub const INTERNAL_ERROR: &str = "Internal server error. Please try again or contact support.";

/// The documented error shape: `{"detail": "..."}`.
pub fn detail(status: StatusCode, message: &str) -> Response<Body> {
    json_response(status, &json!({ "detail": message }))
}

/// A request body read up to a limit.
pub enum ReadBody {
    /// The whole body.
    Complete(Bytes),
    /// The body exceeded the limit; holds its first `limit` bytes.
    TooLarge(Bytes),
}

/// Reads a request body, keeping at most `limit` bytes. An oversized body is drained up to
/// 16 MiB past the limit (so the client sees the 413 rather than a broken pipe).
pub async fn read_body(
    mut body: Incoming,
    content_length: Option<&HeaderValue>,
    limit: usize,
) -> Result<ReadBody, hyper::Error> {
    let declared = content_length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > (limit.saturating_add(DRAIN_LIMIT)) as u64) {
        // Far too large to be worth reading: answer right away.
        return Ok(ReadBody::TooLarge(Bytes::new()));
    }
    let mut kept: Vec<u8> = Vec::new();
    let mut total: usize = 0;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else {
            continue; // trailers
        };
        total = total.saturating_add(data.len());
        if kept.len() < limit {
            let room = limit - kept.len();
            kept.extend_from_slice(&data[..data.len().min(room)]);
        }
        if total > limit.saturating_add(DRAIN_LIMIT) {
            break;
        }
    }
    if total > limit {
        Ok(ReadBody::TooLarge(Bytes::from(kept)))
    } else {
        Ok(ReadBody::Complete(Bytes::from(kept)))
    }
}

/// Adds the headers every answer carries (unless a fault already set them).
pub fn finish(response: &mut Response<Body>, request_id: &str) {
    let headers = response.headers_mut();
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    if !headers.contains_key(REQUEST_ID) {
        if let Ok(value) = HeaderValue::from_str(request_id) {
            headers.insert(REQUEST_ID, value);
        }
    }
    // Full<Bytes> frames itself; a fault must not be able to send a contradicting framing.
    headers.remove(CONTENT_LENGTH);
    headers.remove(TRANSFER_ENCODING);
}
