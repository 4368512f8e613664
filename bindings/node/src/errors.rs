//! The core's error in the structured form the JavaScript wrapper builds its classes from.
//!
//! Which class an error becomes is decided here, by an exhaustive `match` on the core's
//! `ErrorKind` (the `bindings` feature makes it exhaustive): a kind added to the core does not
//! compile until it is mapped. `errors.js` only looks the class up by name.

use napi_derive::napi;
use vectorcache::{Error, ErrorCategory, ErrorKind};

use crate::response::RateLimitInfo;

/// A failure, as data. The HTTP fields are set only when the server answered.
#[napi(object, object_from_js = false)]
pub struct NativeError {
    /// The core's stable kind name (`authentication`, `rate_limited`, `timeout`, ...).
    pub kind: String,
    /// The name of the class in `errors.js` this error becomes.
    pub error_class: String,
    /// The human-readable message (never contains the API key).
    pub message: String,
    /// The HTTP status, when the server answered (also for an undecodable 2xx body).
    pub status: Option<u32>,
    /// The server's `detail`, decoded from whichever body shape it sent.
    pub detail: Option<String>,
    /// The response headers, names in lower case, as `[name, value]` pairs for
    /// `Object.fromEntries`: napi-rs assigns an object's properties, which drops a header
    /// named `__proto__`.
    pub headers: Option<Vec<(String, String)>>,
    /// The response body as text (bounded).
    pub body: Option<String>,
    /// `error.response.data` as JSON text: the body's JSON, or the body text as a JSON string.
    /// Text because `JSON.parse` keeps a `"__proto__"` member an own property, where napi-rs
    /// assigning it would set the object's prototype.
    pub data_json: Option<String>,
    /// Seconds the server asked to wait before retrying (429/503).
    pub retry_after: Option<f64>,
    /// The server's request id.
    pub request_id: Option<String>,
    /// How many attempts the call made; absent for local errors (nothing was sent).
    pub attempts: Option<u32>,
    /// The `X-RateLimit-*` state of the answer.
    pub rate_limit: Option<RateLimitInfo>,
    /// The message of the underlying error (e.g. the transport's), for `error.cause`.
    pub cause: Option<String>,
}

/// The `errors.js` class of `error`.
fn error_class(error: &Error) -> &'static str {
    match error.kind() {
        ErrorKind::BadRequest | ErrorKind::UnprocessableEntity => "VectorcacheValidationError",
        ErrorKind::Authentication => "VectorcacheAuthenticationError",
        ErrorKind::PermissionDenied => "VectorcachePermissionError",
        ErrorKind::NotFound => "VectorcacheNotFoundError",
        ErrorKind::RateLimited => "VectorcacheRateLimitError",
        ErrorKind::InternalServer | ErrorKind::BadGateway | ErrorKind::ServiceUnavailable => {
            "VectorcacheServerError"
        }
        ErrorKind::Status => match error.category() {
            ErrorCategory::Server => "VectorcacheServerError",
            _ => "VectorcacheAPIError",
        },
        ErrorKind::Decode => "VectorcacheResponseValidationError",
        ErrorKind::Timeout => "VectorcacheTimeoutError",
        ErrorKind::Connection => "VectorcacheNetworkError",
        ErrorKind::Certificate => "VectorcacheCertificateError",
        ErrorKind::InvalidRequest => "VectorcacheInvalidRequestError",
        ErrorKind::MissingApiKey | ErrorKind::InvalidApiKey | ErrorKind::InvalidConfig => {
            "VectorcacheConfigurationError"
        }
    }
}

/// The core names settings as Rust and Python spell them; a JavaScript caller wrote them in
/// camelCase.
const JS_NAMES: &[(&str, &str)] = &[
    ("`api_key`", "`apiKey`"),
    ("`base_url`", "`baseUrl`"),
    ("`max_retries`", "`maxRetries`"),
    ("`total_timeout`", "`totalTimeout`"),
    ("`connect_timeout`", "`connectTimeout`"),
    ("`project_id`", "`projectId`"),
    ("`max_connections`", "`maxConnections`"),
    ("`similarity_threshold`", "`similarityThreshold`"),
    ("`include_debug`", "`includeDebug`"),
];

/// An error of the core's own checks (a client's settings, a query's fields), naming the
/// settings as the JavaScript caller spelt them. Only for errors the core made: this crate's
/// own reasons already use the caller's names, and quote the caller's unknown ones as given.
pub(crate) fn in_js_names(error: Error) -> Error {
    let rename = |reason: String| {
        JS_NAMES
            .iter()
            .fold(reason, |reason, (core, js)| reason.replace(core, js))
    };
    match error {
        Error::InvalidRequest { reason, .. } => Error::invalid_request(rename(reason)),
        Error::InvalidConfig { reason, .. } => Error::invalid_config(rename(reason)),
        other => other,
    }
}

impl From<Error> for NativeError {
    fn from(error: Error) -> Self {
        let body = error.body().map(str::to_owned);
        // The answer's JSON for the axios-style `error.response.data`, else its text.
        let data = match (error.api_error(), &body) {
            (Some(api), Some(text)) => Some(
                api.json()
                    .unwrap_or_else(|| serde_json::Value::String(text.clone())),
            ),
            (None, Some(text)) => Some(serde_json::Value::String(text.clone())),
            _ => None,
        };
        Self {
            kind: error.kind().as_str().to_owned(),
            error_class: error_class(&error).to_owned(),
            message: error.to_string(),
            status: error.status().map(u32::from),
            detail: error.detail().map(str::to_owned),
            headers: error
                .headers()
                .map(|headers| headers.clone().into_iter().collect()),
            body,
            data_json: data.map(|value| value.to_string()),
            retry_after: error.retry_after().map(|d| d.as_secs_f64()),
            request_id: error.request_id().map(str::to_owned),
            attempts: error.attempts(),
            rate_limit: error.rate_limit().map(RateLimitInfo::from),
            cause: error.source_chain(),
        }
    }
}
