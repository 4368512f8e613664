//! The core's error in the structured form the JavaScript wrapper builds its classes from.

use std::collections::BTreeMap;

use napi_derive::napi;
use vectorcache::Error;

use crate::response::RateLimitInfo;

/// A failure, as data. `kind` is the core's stable name (`authentication`, `rate_limited`,
/// `timeout`, `invalid_request`, ...); the HTTP fields are set only when the server answered.
#[napi(object, object_from_js = false)]
pub struct NativeError {
    /// The core's stable kind name: how the wrapper picks the error class.
    pub kind: String,
    /// The human-readable message (never contains the API key).
    pub message: String,
    /// The HTTP status, when the server answered (also for an undecodable 2xx body).
    pub status: Option<u32>,
    /// The server's `detail`, decoded from whichever body shape it sent.
    pub detail: Option<String>,
    /// The response headers, names in lower case.
    pub headers: Option<BTreeMap<String, String>>,
    /// The response body as text (bounded).
    pub body: Option<String>,
    /// The body parsed as JSON, or the text itself when it is not JSON.
    pub data: Option<serde_json::Value>,
    /// Seconds the server asked to wait before retrying (429/503).
    pub retry_after: Option<f64>,
    /// The server's request id.
    pub request_id: Option<String>,
    /// How many attempts a timeout or connection failure took.
    pub attempts: Option<u32>,
    /// The `X-RateLimit-*` state of the answer.
    pub rate_limit: Option<RateLimitInfo>,
}

impl From<Error> for NativeError {
    fn from(error: Error) -> Self {
        let mut native = Self {
            kind: error.kind().as_str().to_owned(),
            message: error.to_string(),
            status: error.status().map(u32::from),
            detail: error.detail().map(str::to_owned),
            headers: error.headers().cloned(),
            body: None,
            data: None,
            retry_after: error.retry_after().map(|d| d.as_secs_f64()),
            request_id: error.request_id().map(str::to_owned),
            attempts: None,
            rate_limit: None,
        };
        if let Some(api) = error.api_error() {
            native.data = Some(
                api.json()
                    .unwrap_or_else(|| serde_json::Value::String(api.body.clone())),
            );
            native.body = Some(api.body.clone());
            native.rate_limit = api.rate_limit.map(RateLimitInfo::from);
        }
        match error {
            Error::Decode { body_snippet, .. } => {
                native.data = Some(serde_json::Value::String(body_snippet.clone()));
                native.body = Some(body_snippet);
            }
            Error::Timeout { attempts, .. } | Error::Connection { attempts, .. } => {
                native.attempts = Some(attempts);
            }
            _ => {}
        }
        native
    }
}

/// A local problem with what JavaScript passed (wrong type, not an object): the core's
/// `invalid_request` kind, so it surfaces as a `VectorcacheValidationError`.
pub(crate) fn invalid_request(reason: impl Into<String>) -> Error {
    Error::InvalidRequest {
        reason: reason.into(),
    }
}

/// A local problem with the client options: the core's `invalid_config` kind.
pub(crate) fn invalid_config(reason: impl Into<String>) -> Error {
    Error::InvalidConfig {
        reason: reason.into(),
    }
}
