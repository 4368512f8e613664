//! The one error type of the crate, and the API error it wraps for HTTP answers.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use crate::api_key::API_KEY_ENV;
use crate::response::RateLimit;

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong when talking to Vectorcache.
///
/// HTTP answers get one variant per documented status, each wrapping an [`ApiError`] with the
/// decoded `detail`, the headers and the (bounded) body; transport failures and local problems
/// (detected before anything is sent) have their own variants.
///
/// ```
/// # async fn run(client: vectorcache::Client) {
/// use vectorcache::{Error, QueryRequest};
///
/// match client.query(QueryRequest::new("What is AI?", "gpt-4o")).await {
///     Ok(answer) => println!("{}", answer.response),
///     Err(Error::Authentication(e)) => eprintln!("check VECTORCACHE_API_KEY: {}", e.detail),
///     Err(Error::PermissionDenied(e)) => eprintln!("wrong project: {}", e.detail),
///     Err(e) if e.is_retryable() => eprintln!("still failing after retries: {e}"),
///     Err(e) => eprintln!("{} error: {e}", e.kind()),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400: the server rejected the request.
    #[error("{0}")]
    BadRequest(Box<ApiError>),
    /// 401: missing, invalid, unknown or revoked API key.
    #[error("{0}")]
    Authentication(Box<ApiError>),
    /// 403: the key may not access this project.
    #[error("{0}")]
    PermissionDenied(Box<ApiError>),
    /// 404: no such route or resource.
    #[error("{0}")]
    NotFound(Box<ApiError>),
    /// 422: content not cacheable, or a FastAPI validation error.
    #[error("{0}")]
    UnprocessableEntity(Box<ApiError>),
    /// 429: rate limited; [`ApiError::retry_after`] says how long the server asked to wait.
    #[error("{0}")]
    RateLimited(Box<ApiError>),
    /// 500: the service failed.
    #[error("{0}")]
    InternalServer(Box<ApiError>),
    /// 502: the LLM provider (or a proxy) failed.
    #[error("{0}")]
    BadGateway(Box<ApiError>),
    /// 503: temporarily unavailable.
    #[error("{0}")]
    ServiceUnavailable(Box<ApiError>),
    /// Any other non-success status (408, 409, 413, 504, 3xx, ...).
    #[error("{0}")]
    Status(Box<ApiError>),
    /// An attempt did not complete within the per-attempt timeout (or, still connecting,
    /// within the connect timeout: then `connecting` is set), or the whole call ran past its
    /// total timeout (then `total` is set).
    #[error("{}", timeout_message(*timeout, *attempts, *total, *connecting, *connect))]
    #[non_exhaustive]
    Timeout {
        /// The per-attempt timeout in force.
        timeout: Duration,
        /// How many attempts were made.
        attempts: u32,
        /// The total timeout the call exceeded, if that is what ended it.
        total: Option<Duration>,
        /// Whether the last attempt was still connecting when its connect timeout ran out (a
        /// firewall that drops the packets, a host that is down): the message names that
        /// timeout rather than the per-attempt one, which did not run out.
        connecting: bool,
        /// That connect timeout, when the SDK set it (not when the client was given its own
        /// `reqwest::Client`, whose settings it cannot read).
        connect: Option<Duration>,
    },
    /// The connection could not be made or broke (refused, reset, DNS, TLS).
    #[error("connection error after {attempts} attempt(s): {message}")]
    #[non_exhaustive]
    Connection {
        /// What went wrong, without the key.
        message: String,
        /// How many attempts were made.
        attempts: u32,
        /// The underlying transport error.
        #[source]
        source: Option<BoxError>,
        /// Whether another attempt could get through: not when the proxy refused to tunnel
        /// until it is given credentials (407), which the next attempt would not have either.
        retryable: bool,
    },
    /// The server's TLS certificate is not trusted (unknown issuer, expired, wrong name).
    /// Not retried: another attempt meets the same certificate.
    #[error("the server's TLS certificate is not trusted ({reason}); {advice}")]
    #[non_exhaustive]
    Certificate {
        /// What is wrong with the certificate.
        reason: String,
        /// What can help: how to trust the CA that issued it, in the caller's language, or
        /// (for a wrong host name, expired dates, a CA certificate served as the server's own)
        /// what to check instead.
        advice: String,
        /// The underlying TLS error.
        #[source]
        source: Option<BoxError>,
    },
    /// A success status whose body is not the documented JSON.
    #[error("{0}")]
    Decode(Box<DecodeError>),
    /// No API key was given and `VECTORCACHE_API_KEY` is not set.
    #[error(
        "no API key: set the {API_KEY_ENV} environment variable \
         (export {API_KEY_ENV}=vc_...) or pass the key to the client explicitly"
    )]
    MissingApiKey,
    /// The API key is not of the documented format. The message never contains the key.
    #[error(
        "invalid API key: {reason}; a Vectorcache API key is `vc_` followed by 32 hexadecimal characters"
    )]
    #[non_exhaustive]
    InvalidApiKey {
        /// What is wrong with it.
        reason: String,
    },
    /// The request failed local validation; nothing was sent.
    #[error("invalid request: {reason}")]
    #[non_exhaustive]
    InvalidRequest {
        /// What is wrong, naming the field.
        reason: String,
    },
    /// The client configuration is unusable (base URL, timeout, header).
    #[error("invalid configuration: {reason}")]
    #[non_exhaustive]
    InvalidConfig {
        /// What is wrong.
        reason: String,
    },
}

fn timeout_message(
    timeout: Duration,
    attempts: u32,
    total: Option<Duration>,
    connecting: bool,
    connect: Option<Duration>,
) -> String {
    const WHY: &str = "(is a firewall dropping the packets, or the host down?)";
    match (total, connecting, connect) {
        (Some(total), _, _) => format!(
            "the call exceeded its total timeout of {total:?} after {attempts} attempt(s) \
             (timeout per attempt: {timeout:?})"
        ),
        (None, true, Some(connect)) => format!(
            "request timed out after {attempts} attempt(s): connecting to the server took \
             longer than the connect timeout of {connect:?} {WHY}"
        ),
        (None, true, None) => format!(
            "request timed out after {attempts} attempt(s): connecting to the server took \
             longer than the connect timeout of the HTTP client given to the SDK {WHY}"
        ),
        (None, false, _) => format!(
            "request timed out after {attempts} attempt(s) (timeout per attempt: {timeout:?})"
        ),
    }
}

/// A stable, machine-readable name for each kind of [`Error`].
///
/// The SDK's own bindings match on it exhaustively (they build with the internal `bindings`
/// feature, which drops `#[non_exhaustive]`), so a kind added here does not compile in a
/// binding until the binding maps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(not(feature = "bindings"), non_exhaustive)]
pub enum ErrorKind {
    /// 400.
    BadRequest,
    /// 401.
    Authentication,
    /// 403.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 422.
    UnprocessableEntity,
    /// 429.
    RateLimited,
    /// 500.
    InternalServer,
    /// 502.
    BadGateway,
    /// 503.
    ServiceUnavailable,
    /// Any other HTTP status.
    Status,
    /// Timed out.
    Timeout,
    /// Connection failure.
    Connection,
    /// Untrusted server certificate.
    Certificate,
    /// Undecodable success body.
    Decode,
    /// No key configured.
    MissingApiKey,
    /// Malformed key.
    InvalidApiKey,
    /// Request failed local validation.
    InvalidRequest,
    /// Unusable configuration.
    InvalidConfig,
}

impl ErrorKind {
    /// Every kind, in declaration order.
    pub const ALL: [ErrorKind; 18] = [
        Self::BadRequest,
        Self::Authentication,
        Self::PermissionDenied,
        Self::NotFound,
        Self::UnprocessableEntity,
        Self::RateLimited,
        Self::InternalServer,
        Self::BadGateway,
        Self::ServiceUnavailable,
        Self::Status,
        Self::Timeout,
        Self::Connection,
        Self::Certificate,
        Self::Decode,
        Self::MissingApiKey,
        Self::InvalidApiKey,
        Self::InvalidRequest,
        Self::InvalidConfig,
    ];

    /// The stable snake_case name, e.g. `"authentication"`, `"rate_limited"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::UnprocessableEntity => "unprocessable_entity",
            Self::RateLimited => "rate_limited",
            Self::InternalServer => "internal_server",
            Self::BadGateway => "bad_gateway",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Status => "status",
            Self::Timeout => "timeout",
            Self::Connection => "connection",
            Self::Certificate => "certificate",
            Self::Decode => "decode",
            Self::MissingApiKey => "missing_api_key",
            Self::InvalidApiKey => "invalid_api_key",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidConfig => "invalid_config",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The family an [`Error`] belongs to: what decides its class family in each language
/// (Python's `APIStatusError` / `InternalServerError` / `APIConnectionError` / ..., Node's
/// `VectorcacheAPIError` / `VectorcacheServerError` / `VectorcacheNetworkError` / ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(not(feature = "bindings"), non_exhaustive)]
pub enum ErrorCategory {
    /// The server answered with a non-success status below 500.
    Status,
    /// The server answered with a 5xx status.
    Server,
    /// The connection could not be made or broke.
    Connection,
    /// An attempt timed out.
    Timeout,
    /// A success status whose body could not be decoded.
    Decode,
    /// The request failed local validation; nothing was sent.
    InvalidRequest,
    /// The client's configuration (key, base URL, options) is unusable; nothing was sent.
    Configuration,
}

impl ErrorCategory {
    /// Whether the service or the network was involved (everything but local mistakes).
    pub fn involved_the_service(self) -> bool {
        !matches!(self, Self::InvalidRequest | Self::Configuration)
    }
}

/// The variants that wrap an [`ApiError`] (one per documented status, and `Status`), as one
/// pattern binding it to `$e`.
macro_rules! api_variants {
    ($e:ident) => {
        Error::BadRequest($e)
            | Error::Authentication($e)
            | Error::PermissionDenied($e)
            | Error::NotFound($e)
            | Error::UnprocessableEntity($e)
            | Error::RateLimited($e)
            | Error::InternalServer($e)
            | Error::BadGateway($e)
            | Error::ServiceUnavailable($e)
            | Error::Status($e)
    };
}

/// Statuses that are worth another attempt: transient server, proxy and rate-limit answers.
/// No other 4xx: the service's docs say a client error other than 429 must not be retried.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

impl From<ApiError> for Error {
    /// The variant that matches `api.status` (`Authentication` for 401, `Status` for an
    /// unlisted one, ...).
    fn from(api: ApiError) -> Self {
        let api = Box::new(api);
        match api.status {
            400 => Self::BadRequest(api),
            401 => Self::Authentication(api),
            403 => Self::PermissionDenied(api),
            404 => Self::NotFound(api),
            422 => Self::UnprocessableEntity(api),
            429 => Self::RateLimited(api),
            500 => Self::InternalServer(api),
            502 => Self::BadGateway(api),
            503 => Self::ServiceUnavailable(api),
            _ => Self::Status(api),
        }
    }
}

impl From<DecodeError> for Error {
    fn from(decode: DecodeError) -> Self {
        Self::Decode(Box::new(decode))
    }
}

impl Error {
    /// A local validation failure (nothing was sent), naming the field in `reason`.
    pub fn invalid_request(reason: impl Into<String>) -> Self {
        Self::InvalidRequest {
            reason: crate::scrub::without_key_shapes(reason.into()),
        }
    }

    /// An unusable configuration (nothing was sent).
    pub fn invalid_config(reason: impl Into<String>) -> Self {
        Self::InvalidConfig {
            reason: crate::scrub::without_key_shapes(reason.into()),
        }
    }

    /// A malformed API key; `reason` must not contain the key.
    pub fn invalid_api_key(reason: impl Into<String>) -> Self {
        Self::InvalidApiKey {
            reason: reason.into(),
        }
    }

    /// Which kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::BadRequest(_) => ErrorKind::BadRequest,
            Self::Authentication(_) => ErrorKind::Authentication,
            Self::PermissionDenied(_) => ErrorKind::PermissionDenied,
            Self::NotFound(_) => ErrorKind::NotFound,
            Self::UnprocessableEntity(_) => ErrorKind::UnprocessableEntity,
            Self::RateLimited(_) => ErrorKind::RateLimited,
            Self::InternalServer(_) => ErrorKind::InternalServer,
            Self::BadGateway(_) => ErrorKind::BadGateway,
            Self::ServiceUnavailable(_) => ErrorKind::ServiceUnavailable,
            Self::Status(_) => ErrorKind::Status,
            Self::Timeout { .. } => ErrorKind::Timeout,
            Self::Connection { .. } => ErrorKind::Connection,
            Self::Certificate { .. } => ErrorKind::Certificate,
            Self::Decode(_) => ErrorKind::Decode,
            Self::MissingApiKey => ErrorKind::MissingApiKey,
            Self::InvalidApiKey { .. } => ErrorKind::InvalidApiKey,
            Self::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            Self::InvalidConfig { .. } => ErrorKind::InvalidConfig,
        }
    }

    /// The family of this error. Every 5xx answer is [`ErrorCategory::Server`], the
    /// unlisted ones (504, 507, ...) included; every other error status is
    /// [`ErrorCategory::Status`].
    pub fn category(&self) -> ErrorCategory {
        match self {
            Self::Timeout { .. } => ErrorCategory::Timeout,
            Self::Connection { .. } | Self::Certificate { .. } => ErrorCategory::Connection,
            Self::Decode(_) => ErrorCategory::Decode,
            Self::InvalidRequest { .. } => ErrorCategory::InvalidRequest,
            Self::MissingApiKey | Self::InvalidApiKey { .. } | Self::InvalidConfig { .. } => {
                ErrorCategory::Configuration
            }
            _ => match self.status() {
                Some(500..=599) => ErrorCategory::Server,
                _ => ErrorCategory::Status,
            },
        }
    }

    /// The HTTP answer behind this error, if the server answered with an error status.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            api_variants!(e) => Some(e),
            _ => None,
        }
    }

    /// The undecodable success answer behind this error, if that is what it is.
    pub fn decode_error(&self) -> Option<&DecodeError> {
        match self {
            Self::Decode(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, for errors that came with one (API errors and decode errors).
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Decode(e) => Some(e.status),
            _ => self.api_error().map(|e| e.status),
        }
    }

    /// The server's `detail` message, decoded, for API errors.
    pub fn detail(&self) -> Option<&str> {
        self.api_error().map(|e| e.detail.as_str())
    }

    /// The response body as text (bounded), for errors that came with a response.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::Decode(e) => Some(&e.body),
            _ => self.api_error().map(|e| e.body.as_str()),
        }
    }

    /// How long the server asked the caller to wait before trying again, if it said.
    pub fn retry_after(&self) -> Option<Duration> {
        self.api_error().and_then(|e| e.retry_after)
    }

    /// The server's request id, if it sent one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Decode(e) => e.request_id.as_deref(),
            _ => self.api_error().and_then(|e| e.request_id.as_deref()),
        }
    }

    /// The response headers (lower-case names), for errors that came with a response.
    pub fn headers(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            Self::Decode(e) => Some(&e.headers),
            _ => self.api_error().map(|e| &e.headers),
        }
    }

    /// The `X-RateLimit-*` state of the answer, if the server sent it.
    pub fn rate_limit(&self) -> Option<RateLimit> {
        match self {
            Self::Decode(e) => e.rate_limit,
            _ => self.api_error().and_then(|e| e.rate_limit),
        }
    }

    /// How many attempts the call made before failing; `None` for local errors (nothing
    /// was sent).
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Self::Timeout { attempts, .. } | Self::Connection { attempts, .. } => Some(*attempts),
            // Never retried: one attempt.
            Self::Certificate { .. } => Some(1),
            Self::Decode(e) => Some(e.attempts),
            _ => self.api_error().map(|e| e.attempts),
        }
    }

    /// Records how many attempts the call made.
    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            Self::Timeout { attempts, .. } | Self::Connection { attempts, .. } => *attempts = n,
            Self::Decode(e) => e.attempts = n,
            other => {
                if let Some(api) = other.api_error_mut() {
                    api.attempts = n;
                }
            }
        }
        self
    }

    fn api_error_mut(&mut self) -> Option<&mut ApiError> {
        match self {
            api_variants!(e) => Some(e),
            _ => None,
        }
    }

    /// The underlying error and its causes on one line ("error sending request: connection
    /// refused"), for the bindings' `__cause__` / `cause`; `None` when there is none.
    pub fn source_chain(&self) -> Option<String> {
        let mut source = std::error::Error::source(self)?;
        let mut chain = source.to_string();
        while let Some(next) = source.source() {
            chain.push_str(": ");
            chain.push_str(&next.to_string());
            source = next;
        }
        Some(chain)
    }

    /// Whether another attempt could succeed: timeouts, connection failures (but a proxy's
    /// demand for credentials) and the statuses 429, 500, 502, 503 and 504. Never another
    /// 4xx (400, 401, 403, 404, 408, 409, 422, ...), nor an untrusted certificate.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout { .. } => true,
            Self::Connection { retryable, .. } => *retryable,
            _ => self
                .api_error()
                .is_some_and(|e| is_retryable_status(e.status)),
        }
    }
}

/// An HTTP answer with a non-success status, decoded.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status code.
    pub status: u16,
    /// The server's message: `detail` exactly as sent, or the best readable summary of
    /// another body shape (bounded).
    pub detail: String,
    /// The response headers, names in lower case (bounded).
    pub headers: BTreeMap<String, String>,
    /// The response body as text (lossy UTF-8, bounded; see `body_truncated`).
    pub body: String,
    /// Whether `body` was cut short.
    pub body_truncated: bool,
    /// How long the server asked to wait (429/503: `Retry-After`, `retry-after-ms`,
    /// `X-RateLimit-Reset` or a body `retry_after`).
    pub retry_after: Option<Duration>,
    /// The request id header (`x-request-id` or `request-id`), if present.
    pub request_id: Option<String>,
    /// The `X-RateLimit-*` headers, if present.
    pub rate_limit: Option<RateLimit>,
    /// How many attempts the call made (1 when it was not retried).
    pub attempts: u32,
}

impl ApiError {
    /// An answer with `status` and `detail` and nothing else (no headers, empty body, one
    /// attempt): for tests of code that handles errors. Set the other public fields as needed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use vectorcache::{ApiError, Error, ErrorKind};
    ///
    /// let mut api = ApiError::new(429, "Rate limit exceeded. Please try again later.");
    /// api.retry_after = Some(Duration::from_secs(7));
    /// let error = Error::from(api);
    /// assert_eq!(error.kind(), ErrorKind::RateLimited);
    /// assert_eq!(error.retry_after(), Some(Duration::from_secs(7)));
    /// ```
    pub fn new(status: u16, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
            headers: BTreeMap::new(),
            body: String::new(),
            body_truncated: false,
            retry_after: None,
            request_id: None,
            rate_limit: None,
            attempts: 1,
        }
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// A response header by name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason())
            .unwrap_or("HTTP error");
        // A detail that starts with the reason (a proxy's page or empty body, FastAPI's
        // "Not Found") is not told twice: "502 Bad Gateway (non-JSON response body)".
        let repeats = self
            .detail
            .strip_prefix(reason)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', ':', '(', '.']));
        if repeats {
            write!(f, "{} {}", self.status, self.detail)
        } else {
            write!(f, "{} {}: {}", self.status, reason, self.detail)
        }
    }
}

/// A success answer whose body is not the documented JSON.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DecodeError {
    /// The HTTP status (a 2xx).
    pub status: u16,
    /// What did not decode.
    pub message: String,
    /// The start of the body (bounded, lossy UTF-8).
    pub body: String,
    /// The response headers, names in lower case (bounded).
    pub headers: BTreeMap<String, String>,
    /// The request id header, if the server sent one.
    pub request_id: Option<String>,
    /// The `X-RateLimit-*` headers, if present.
    pub rate_limit: Option<RateLimit>,
    /// How many attempts the call made.
    pub attempts: u32,
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not decode the {} response: {}",
            self.status, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_reason_is_told_once() {
        let shown = |status, detail| ApiError::new(status, detail).to_string();
        assert_eq!(shown(404, "Not Found"), "404 Not Found");
        assert_eq!(
            shown(504, "Gateway Timeout: upstream request timeout"),
            "504 Gateway Timeout: upstream request timeout"
        );
        assert_eq!(
            shown(401, "Invalid API key"),
            "401 Unauthorized: Invalid API key"
        );
        // Only the whole reason counts, and only at the start.
        assert_eq!(shown(404, "Not Foundry"), "404 Not Found: Not Foundry");
        assert_eq!(
            shown(502, "a Bad Gateway"),
            "502 Bad Gateway: a Bad Gateway"
        );
    }

    #[test]
    fn every_unlisted_5xx_is_a_server_error_and_nothing_else_is() {
        for status in [500, 502, 503, 504, 507, 599] {
            assert_eq!(
                Error::from(ApiError::new(status, "x")).category(),
                ErrorCategory::Server,
                "{status}"
            );
        }
        for status in [302, 400, 401, 403, 404, 408, 409, 413, 422, 429, 499, 600] {
            assert_eq!(
                Error::from(ApiError::new(status, "x")).category(),
                ErrorCategory::Status,
                "{status}"
            );
        }
    }

    #[test]
    fn categories_of_transport_and_local_errors() {
        let cases = [
            (
                Error::Timeout {
                    timeout: Duration::from_secs(1),
                    attempts: 1,
                    total: None,
                    connecting: false,
                    connect: None,
                },
                ErrorCategory::Timeout,
            ),
            (
                Error::Connection {
                    message: "refused".into(),
                    attempts: 1,
                    source: None,
                    retryable: true,
                },
                ErrorCategory::Connection,
            ),
            (Error::MissingApiKey, ErrorCategory::Configuration),
            (
                Error::invalid_api_key("short"),
                ErrorCategory::Configuration,
            ),
            (
                Error::invalid_config("bad url"),
                ErrorCategory::Configuration,
            ),
            (
                Error::invalid_request("blank"),
                ErrorCategory::InvalidRequest,
            ),
        ];
        for (error, category) in cases {
            assert_eq!(error.category(), category, "{error:?}");
            assert_eq!(
                error.category().involved_the_service(),
                error.attempts().is_some()
            );
        }
    }

    #[test]
    fn attempts_are_recorded_on_every_answer() {
        let api = Error::from(ApiError::new(503, "down")).with_attempts(3);
        assert_eq!(api.attempts(), Some(3));
        let decode = Error::from(DecodeError {
            status: 200,
            message: "x".into(),
            body: "{".into(),
            headers: BTreeMap::new(),
            request_id: Some("req_1".into()),
            rate_limit: None,
            attempts: 1,
        })
        .with_attempts(2);
        assert_eq!(decode.attempts(), Some(2));
        assert_eq!(decode.status(), Some(200));
        assert_eq!(decode.request_id(), Some("req_1"));
        assert_eq!(decode.body(), Some("{"));
        assert_eq!(
            Error::invalid_request("x").with_attempts(2).attempts(),
            None
        );
    }

    #[test]
    fn every_kind_has_a_distinct_name() {
        let names: std::collections::BTreeSet<_> =
            ErrorKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), ErrorKind::ALL.len());
    }
}
