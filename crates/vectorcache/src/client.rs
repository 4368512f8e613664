//! The client: one shared connection pool, the key (swappable), and the query call.

use std::fmt;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::Url;

use crate::api_key::ApiKey;
use crate::config::ClientBuilder;
use crate::decode::{self, MAX_ERROR_BODY};
use crate::error::{DecodeError, Error};
use crate::request::QueryRequest;
use crate::response::QueryResponse;
use crate::retry::RetryPolicy;

/// The largest success body accepted; the documented answer is a few kilobytes.
const MAX_SUCCESS_BODY: usize = 16 * 1024 * 1024;

/// A Vectorcache client. Cheap to clone (clones share one connection pool and one key) and
/// safe to use from many tasks at once.
///
/// ```no_run
/// # async fn run() -> Result<(), vectorcache::Error> {
/// use vectorcache::{Client, QueryRequest};
///
/// let client = Client::from_env()?; // VECTORCACHE_API_KEY, optional VECTORCACHE_BASE_URL
/// let answer = client
///     .query(QueryRequest::new("What is machine learning?", "gpt-4o").context("faq"))
///     .await?;
/// if answer.cache_hit {
///     println!("hit ({:?}), saved ${}", answer.similarity_score, answer.cost_saved);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: Url,
    query_url: Url,
    credentials: RwLock<Credentials>,
    headers: HeaderMap,
    timeout: Duration,
    retry: RetryPolicy,
    project_id: Option<String>,
}

/// The key and its ready-made header, swapped together on rotation.
#[derive(Clone)]
struct Credentials {
    key: ApiKey,
    header: HeaderValue,
}

impl Credentials {
    fn new(key: ApiKey) -> Self {
        // The key format admits only header-safe characters, so this cannot fail.
        let mut header = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .expect("a validated API key is a valid header value");
        header.set_sensitive(true);
        Self { key, header }
    }
}

/// Everything the builder hands over.
pub(crate) struct Parts {
    pub http: reqwest::Client,
    pub base_url: Url,
    pub query_url: Url,
    pub key: ApiKey,
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub retry: RetryPolicy,
    pub project_id: Option<String>,
}

impl Client {
    /// A builder; see [`ClientBuilder`] for every setting.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// A client configured from `VECTORCACHE_API_KEY` and `VECTORCACHE_BASE_URL`. A missing
    /// key is [`Error::MissingApiKey`], whose message says how to set it.
    pub fn from_env() -> Result<Self, Error> {
        ClientBuilder::new().build()
    }

    pub(crate) fn from_parts(parts: Parts) -> Self {
        Self {
            inner: Arc::new(Inner {
                http: parts.http,
                base_url: parts.base_url,
                query_url: parts.query_url,
                credentials: RwLock::new(Credentials::new(parts.key)),
                headers: parts.headers,
                timeout: parts.timeout,
                retry: parts.retry,
                project_id: parts.project_id,
            }),
        }
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &str {
        self.inner.base_url.as_str()
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.inner.timeout
    }

    /// Retries after the first attempt.
    pub fn max_retries(&self) -> u32 {
        self.inner.retry.max_retries
    }

    /// The default project id, if one was set.
    pub fn project_id(&self) -> Option<&str> {
        self.inner.project_id.as_deref()
    }

    /// The key in use (its `Debug`/`Display` are redacted).
    pub fn api_key(&self) -> ApiKey {
        self.credentials().key
    }

    /// Swaps the key on this client and all its clones, keeping the connection pool: rotate
    /// by setting the new key, testing it with a query, then revoking the old one. Each
    /// attempt uses the key current when it starts, so a call being retried during the swap
    /// may finish with the new key.
    pub fn set_api_key(&self, key: ApiKey) {
        let fresh = Credentials::new(key);
        // A poisoned lock only means a panic elsewhere mid-swap; the value is still whole.
        *self
            .inner
            .credentials
            .write()
            .unwrap_or_else(|p| p.into_inner()) = fresh;
    }

    fn credentials(&self) -> Credentials {
        self.inner
            .credentials
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Looks `request` up in the cache (`POST /v1/cache/query`): a hit returns the cached
    /// answer, a miss a fresh one. Invalid requests fail before any I/O; retryable failures
    /// are retried per the client's policy.
    pub async fn query(&self, request: QueryRequest) -> Result<QueryResponse, Error> {
        let body = request.to_body(self.inner.project_id.as_deref())?;
        let mut retry = 0;
        loop {
            let error = match self.attempt(&body).await {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            let Some(wait) = self.inner.retry.delay(retry, &error) else {
                return Err(error.with_attempts(retry + 1));
            };
            tracing::warn!(
                target: "vectorcache",
                error = %error,
                retry = retry + 1,
                wait_ms = wait.as_millis() as u64,
                "retrying Vectorcache query"
            );
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// One HTTP exchange, decoded.
    async fn attempt(&self, body: &[u8]) -> Result<QueryResponse, Error> {
        let inner = &*self.inner;
        let Credentials { key, header: auth } = self.credentials();
        let mut response = inner
            .http
            .post(inner.query_url.clone())
            .headers(inner.headers.clone())
            .header(AUTHORIZATION, auth)
            .timeout(inner.timeout)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| self.transport_error(e))?;
        let status = response.status().as_u16();
        let headers = std::mem::take(response.headers_mut());
        tracing::debug!(target: "vectorcache", status, "Vectorcache answered");
        if response.status().is_success() {
            let (mut bytes, truncated, failure) =
                read_bounded(&mut response, MAX_SUCCESS_BODY).await;
            if let Some(e) = failure {
                return Err(self.transport_error(e));
            }
            if truncated {
                return Err(Error::from(DecodeError {
                    status,
                    message: format!("the body is larger than {MAX_SUCCESS_BODY} bytes"),
                    body: String::new(),
                    headers: crate::headers::to_map(&headers),
                    request_id: crate::headers::request_id(&headers),
                    rate_limit: crate::headers::rate_limit(&headers),
                    attempts: 1,
                }));
            }
            scrub_key(&mut bytes, &key);
            decode::success(status, &headers, &bytes)
        } else {
            // An error body that breaks off mid-way is still worth decoding: the status is known.
            let (mut bytes, truncated, _) = read_bounded(&mut response, MAX_ERROR_BODY).await;
            scrub_key(&mut bytes, &key);
            Err(Error::from(decode::api_error(
                status, &headers, &bytes, truncated,
            )))
        }
    }

    fn transport_error(&self, error: reqwest::Error) -> Error {
        if error.is_timeout() {
            return Error::Timeout {
                timeout: self.inner.timeout,
                attempts: 1,
            };
        }
        Error::Connection {
            message: error_chain(&error),
            attempts: 1,
            source: Some(Box::new(error)),
        }
    }
}

/// Replaces the key wherever the body repeats it (a proxy or upstream echoing the request
/// headers) with its redacted form, so it cannot reach an error message or a log line.
fn scrub_key(bytes: &mut Vec<u8>, key: &ApiKey) {
    let secret = key.expose_secret().as_bytes();
    if !bytes.windows(secret.len()).any(|w| w == secret) {
        return;
    }
    let redacted = key.redacted();
    let mut out = Vec::with_capacity(bytes.len());
    let mut rest = &bytes[..];
    while let Some(at) = rest.windows(secret.len()).position(|w| w == secret) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(redacted.as_bytes());
        rest = &rest[at + secret.len()..];
    }
    out.extend_from_slice(rest);
    *bytes = out;
}

/// The error and its causes on one line ("error sending request ...: connection refused").
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

/// Reads at most `limit` bytes of the body: the bytes, whether more were left, and the
/// transport error that stopped the read, if one did.
async fn read_bounded(
    response: &mut reqwest::Response,
    limit: usize,
) -> (Vec<u8>, bool, Option<reqwest::Error>) {
    let mut buf = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = limit - buf.len();
                if chunk.len() > room {
                    buf.extend_from_slice(&chunk[..room]);
                    return (buf, true, None);
                }
                buf.extend_from_slice(&chunk);
            }
            Ok(None) => return (buf, false, None),
            Err(e) => return (buf, false, Some(e)),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url())
            .field("api_key", &self.api_key())
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.retry.max_retries)
            .field("project_id", &self.inner.project_id)
            .finish_non_exhaustive()
    }
}
