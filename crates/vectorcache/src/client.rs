//! The client: one shared connection pool, the key (swappable), and the query call.

use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use std::time::Duration;
use tokio::runtime::Id as RuntimeId;

use tokio::time::Instant;

use bytes::Bytes;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION};
use reqwest::{Method, Url};

use crate::api_key::ApiKey;
use crate::config::{header, ClientBuilder};
use crate::decode::{self, MAX_ERROR_BODY};
use crate::error::Error;
use crate::events::{Event, EventHook};
use crate::headers::Unscrubbed;
use crate::request::{CallHook, QueryRequest};
use crate::response::QueryResponse;
use crate::retry::RetryPolicy;
use crate::scrub::{scrub, Echoes};
use crate::stats::{Recorder, Stats};
use crate::transport::{keeps_alive, watch_connections, HttpSettings, Transport};

/// The largest success body accepted; the documented answer is a few kilobytes.
const MAX_SUCCESS_BODY: usize = 16 * 1024 * 1024;

/// A Vectorcache client. Cheap to clone (clones share one connection pool and one key) and
/// safe to use from many tasks at once, and from several tokio runtimes: a `static` client
/// shared by `#[tokio::test]`s, say. Each runtime gets a pool of its own (a connection is a
/// task of the runtime that opened it), made on its first query (about 2 ms) and kept for
/// the 16 runtimes that used the client last.
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
    http_settings: HttpSettings,
    // Swapped without locks: a process forked while a runtime thread held a lock would keep
    // it locked forever, and the child needs both to make its first query.
    /// The pool last used (the one for the runtime most calls come from).
    transport: ArcSwap<Transport>,
    /// A pool per runtime the client was used from, newest last (at most [`POOLS_KEPT`]).
    pools: ArcSwap<Vec<Arc<Transport>>>,
    base_url: Url,
    query_url: Url,
    credentials: ArcSwap<Credentials>,
    headers: HeaderMap,
    timeout: Duration,
    total_timeout: Option<Duration>,
    retry: RetryPolicy,
    project_id: Option<String>,
    stats: Recorder,
    on_event: Option<EventHook>,
}

/// The key, its ready-made header and what echoes of it look like, swapped together on
/// rotation.
struct Credentials {
    key: ApiKey,
    header: HeaderValue,
    echoes: Echoes,
}

impl Credentials {
    fn new(key: ApiKey) -> Self {
        // The key format admits only header-safe characters, so this cannot fail.
        let mut header = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .expect("a validated API key is a valid header value");
        header.set_sensitive(true);
        Self {
            echoes: Echoes::of(&key),
            key,
            header,
        }
    }
}

/// Everything the builder hands over.
pub(crate) struct Parts {
    pub http: HttpSettings,
    pub base_url: Url,
    pub query_url: Url,
    pub key: ApiKey,
    pub headers: HeaderMap,
    pub timeout: Duration,
    pub total_timeout: Option<Duration>,
    pub retry: RetryPolicy,
    pub project_id: Option<String>,
    pub on_event: Option<EventHook>,
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

    pub(crate) fn from_parts(parts: Parts) -> Result<Self, Error> {
        let mut headers = parts.headers;
        // Every exchange sets the key's header in a copy of these: with a slot for it already
        // there, that is a write in place rather than the copy's growth.
        headers.insert(AUTHORIZATION, HeaderValue::from_static(""));
        let transport = Transport::for_client(&parts.http, crate::transport::current_runtime())?;
        Ok(Self {
            inner: Arc::new(Inner {
                transport: ArcSwap::new(transport.clone()),
                pools: ArcSwap::from_pointee(vec![transport]),
                http_settings: parts.http,
                base_url: parts.base_url,
                query_url: parts.query_url,
                credentials: ArcSwap::from_pointee(Credentials::new(parts.key)),
                headers,
                timeout: parts.timeout,
                total_timeout: parts.total_timeout,
                retry: parts.retry,
                project_id: parts.project_id,
                stats: Recorder::default(),
                on_event: parts.on_event,
            }),
        })
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
        self.credentials().key.clone()
    }

    /// Swaps the key on this client and all its clones, keeping the connection pool: rotate
    /// by setting the new key, testing it with a query, then revoking the old one. Each
    /// attempt uses the key current when it starts, so a call being retried during the swap
    /// may finish with the new key.
    pub fn set_api_key(&self, key: ApiKey) {
        self.inner
            .credentials
            .store(Arc::new(Credentials::new(key)));
    }

    /// Replaces the connection pool (and the permits bounding it) with new, empty ones, on
    /// this client and its clones. For a process that was forked: the pool's connections and
    /// tasks belong to the parent, so the child must not touch them. They are leaked, not
    /// dropped: dropping them could act on the parent's sockets or wait for its threads. A
    /// client given a `reqwest::Client` keeps it (clones share its pool).
    pub fn reset_connections(&self) -> Result<(), Error> {
        let fresh = Transport::fresh(
            &self.inner.http_settings,
            crate::transport::current_runtime(),
        )?;
        std::mem::forget(self.inner.transport.swap(fresh.clone()));
        std::mem::forget(self.inner.pools.swap(Arc::new(vec![fresh])));
        Ok(())
    }

    /// The pool of the runtime this call runs on. A pool's connections are tasks of the
    /// runtime that opened them: used from another, they stall while that runtime is not
    /// running (a sync wrapper's between calls) and die with it (a `#[tokio::test]`'s, with a
    /// client shared by tests). A client given a `reqwest::Client` keeps it.
    fn transport(&self) -> Arc<Transport> {
        let last = self.inner.transport.load_full();
        if self.inner.http_settings.custom.is_some() {
            return last;
        }
        // Outside any runtime reqwest refuses to send, and says so.
        let Some(here) = crate::transport::current_runtime() else {
            return last;
        };
        if *last.runtime.get_or_init(|| here) == here {
            return last;
        }
        self.transport_on(here).unwrap_or(last)
    }

    /// The pool for `runtime`, made if there is none, and from now on the one tried first.
    fn transport_on(&self, runtime: RuntimeId) -> Result<Arc<Transport>, Error> {
        let known = self
            .inner
            .pools
            .load()
            .iter()
            .find(|pool| pool.runtime.get() == Some(&runtime))
            .cloned();
        let pool = match known {
            Some(pool) => pool,
            None => {
                let pool = Transport::for_client(&self.inner.http_settings, Some(runtime))?;
                // The oldest gives way (a runtime that ended, most likely); one still in use
                // gets a new pool when it next comes.
                self.inner.pools.rcu(|pools| {
                    let mut kept: Vec<_> = pools
                        .iter()
                        .filter(|kept| kept.runtime.get() != Some(&runtime))
                        .cloned()
                        .collect();
                    if kept.len() == POOLS_KEPT {
                        kept.remove(0);
                    }
                    kept.push(pool.clone());
                    kept
                });
                pool
            }
        };
        self.inner.transport.store(pool.clone());
        Ok(pool)
    }

    fn credentials(&self) -> Arc<Credentials> {
        self.inner.credentials.load_full()
    }

    /// Looks `request` up in the cache (`POST /v1/cache/query`): a hit returns the cached
    /// answer, a miss a fresh one. Invalid requests fail before any I/O; retryable failures
    /// are retried per the client's policy (or the request's own settings). Dropping the
    /// future cancels the call and closes its connection.
    pub async fn query(&self, request: QueryRequest) -> Result<QueryResponse, Error> {
        let started = Instant::now();
        let outcome = self.call(request).await;
        let stats = &self.inner.stats;
        match &outcome {
            Ok(answer) => stats.answer(answer.cache_hit, answer.cost_saved, started.elapsed()),
            Err(error) => stats.failure(error.kind(), error.attempts().map(|_| started.elapsed())),
        }
        outcome
    }

    /// Looks every request up, at most `concurrency` at once, and returns their outcomes in
    /// the order of `requests`: one failure never fails the others. The client's connection
    /// bound and each request's own settings apply. A `concurrency` of 0 sends nothing: every
    /// outcome is then [`Error::InvalidRequest`], and nothing is counted in [`Client::stats`]
    /// (the Python and Node packages refuse it the same way, for the whole call).
    ///
    /// ```no_run
    /// # async fn run(client: vectorcache::Client) {
    /// use vectorcache::QueryRequest;
    ///
    /// let prompts = ["What is AI?", "What is ML?", ""];
    /// let outcomes = client
    ///     .query_many(prompts.iter().map(|p| QueryRequest::new(*p, "gpt-4o")), 16)
    ///     .await;
    /// assert!(outcomes[2].is_err()); // a blank prompt: that request's own error
    /// # }
    /// ```
    pub async fn query_many(
        &self,
        requests: impl IntoIterator<Item = QueryRequest>,
        concurrency: usize,
    ) -> Vec<Result<QueryResponse, Error>> {
        // `concurrency` worker tasks take the requests in turn, so a batch spreads over the
        // runtime's threads (one task polling every future would do all the work on one), and
        // the caller's task wakes once per worker, not once per query. Dropping the future
        // drops the JoinSet, which aborts the queries in flight.
        let requests: Vec<QueryRequest> = requests.into_iter().collect();
        let count = requests.len();
        if concurrency == 0 {
            let reason = crate::config::concurrency_problem(&concurrency);
            return (0..count)
                .map(|_| Err(Error::invalid_request(reason.clone())))
                .collect();
        }
        let queue = Arc::new(std::sync::Mutex::new(requests.into_iter().enumerate()));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..concurrency.min(count) {
            let (queue, client) = (queue.clone(), self.clone());
            workers.spawn(async move {
                let mut done = Vec::new();
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).next();
                    let Some((index, request)) = next else {
                        return done;
                    };
                    done.push((index, client.query(request).await));
                }
            });
        }
        let mut outcomes: Vec<Option<Result<QueryResponse, Error>>> =
            std::iter::repeat_with(|| None).take(count).collect();
        while let Some(joined) = workers.join_next().await {
            match joined {
                Ok(done) => {
                    for (index, outcome) in done {
                        outcomes[index] = Some(outcome);
                    }
                }
                Err(failure) if failure.is_panic() => {
                    std::panic::resume_unwind(failure.into_panic())
                }
                // Only a runtime shutting down cancels them; their slots say so below.
                Err(_) => {}
            }
        }
        outcomes
            .into_iter()
            .map(|outcome| {
                outcome.unwrap_or_else(|| {
                    Err(Error::Connection {
                        message: "the query was cancelled: its runtime is shutting down".into(),
                        attempts: 0,
                        source: None,
                        retryable: true,
                    })
                })
            })
            .collect()
    }

    /// A snapshot of this client's usage (shared with its clones): queries, hits, misses,
    /// hit rate, money saved, errors by kind, retries and latency percentiles.
    pub fn stats(&self) -> Stats {
        self.inner.stats.snapshot()
    }

    /// Starts the statistics afresh (for this client and its clones).
    pub fn reset_stats(&self) {
        self.inner.stats.reset();
    }

    /// Counts a call that a binding refused before handing it over (an argument the core's
    /// types cannot hold, such as `max_retries=101` or a negative timeout), as the core counts
    /// the calls it refuses itself: the same input counts the same in every language.
    #[cfg(feature = "bindings")]
    #[doc(hidden)]
    pub fn count_refused(&self, kind: crate::ErrorKind) {
        self.inner.stats.failure(kind, None);
    }

    async fn call(&self, request: QueryRequest) -> Result<QueryResponse, Error> {
        let call = self.prepare(&request)?;
        let attempts = AtomicU32::new(0);
        let run = self.run(&call, &attempts);
        let Some(total) = call.total_timeout else {
            return run.await;
        };
        match tokio::time::timeout(total, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Error::Timeout {
                timeout: call.timeout,
                attempts: attempts.load(Ordering::Relaxed).max(1),
                total: Some(total),
                connecting: false,
                connect: None,
            }),
        }
    }

    /// Validates the request and resolves its settings against the client's.
    fn prepare(&self, request: &QueryRequest) -> Result<Call, Error> {
        let inner = &*self.inner;
        let body = request.to_body(inner.project_id.as_deref())?.into();
        // Most requests have no headers of their own: they use the client's, not a copy.
        let mut headers = None;
        for (name, value) in &request.headers {
            let (name, value) = header(name, value).map_err(Error::invalid_request)?;
            headers
                .get_or_insert_with(|| inner.headers.clone())
                .insert(name, value);
        }
        let total_timeout = request.total_timeout.or(inner.total_timeout);
        Ok(Call {
            body,
            headers,
            timeout: request.timeout.unwrap_or(inner.timeout),
            total_timeout,
            // A bound too far out for the clock (`Duration::MAX`) is no bound at all.
            deadline: total_timeout.and_then(|t| Instant::now().checked_add(t)),
            retry: RetryPolicy {
                max_retries: request.max_retries.unwrap_or(inner.retry.max_retries),
                ..inner.retry
            },
            on_event: request.on_event.clone(),
        })
    }

    /// The attempts of one call and the waits between them.
    async fn run(&self, call: &Call, attempts: &AtomicU32) -> Result<QueryResponse, Error> {
        let mut retry = 0;
        let mut stale_retried = false;
        loop {
            attempts.store(retry + 1, Ordering::Relaxed);
            let mut new_connection = false;
            let outcome = self.attempt(call, retry + 1, &mut new_connection).await;
            let error = match outcome {
                Ok(response) => return Ok(response),
                Err(error) => error,
            };
            // A pooled connection the server closed while idle fails before the server could
            // answer: try once more at once, on a new connection, without counting a retry.
            if !new_connection && !stale_retried && is_stale_connection(&error) {
                stale_retried = true;
                tracing::debug!(target: "vectorcache", error = %error, "retrying on a new connection");
                continue;
            }
            let Some(wait) = call.retry.delay(retry, &error) else {
                return Err(error.with_attempts(retry + 1));
            };
            if let Some(deadline) = call.deadline {
                // A wait the server asked for that would overrun the total ends the call now,
                // with the server's own error (and its retry_after).
                let resumes = Instant::now().checked_add(wait);
                if error.retry_after().is_some() && resumes.is_none_or(|at| at >= deadline) {
                    return Err(error.with_attempts(retry + 1));
                }
            }
            tracing::warn!(
                target: "vectorcache",
                error = %error,
                retry = retry + 1,
                wait_ms = wait.as_millis() as u64,
                "retrying Vectorcache query"
            );
            self.emit(call, || Event::Retry {
                reason: error.to_string(),
                retry: retry + 1,
                max_retries: call.retry.max_retries,
                wait,
            });
            self.inner.stats.retry();
            tokio::time::sleep(wait).await;
            retry += 1;
        }
    }

    /// One attempt: a connection permit (that wait is not part of the per-attempt timeout),
    /// then the exchange. `opened` tells whether it opened a new connection.
    async fn attempt(
        &self,
        call: &Call,
        attempt: u32,
        opened: &mut bool,
    ) -> Result<QueryResponse, Error> {
        let transport = self.transport();
        let permit = transport
            .permits
            .acquire()
            .await
            .map_err(|_| Error::invalid_config("the connection pool was closed"))?;
        // The connection goes back to the pool from a task of the pool's own, woken as the
        // body ends; a query that takes this permit meanwhile and finds no idle connection
        // waits for it at the connector (see transport.rs), rather than open one more.
        let outcome = self.exchange(call, &transport, attempt, opened).await;
        drop(permit);
        outcome
    }

    /// Tells the client's and the call's event hooks, if there are any (the event is built
    /// only then).
    fn emit(&self, call: &Call, event: impl FnOnce() -> Event) {
        match (&self.inner.on_event, &call.on_event) {
            (None, None) => {}
            (Some(client), None) => client(&event()),
            (None, Some(call)) => call.call(&event()),
            (Some(client), Some(call)) => {
                let event = event();
                client(&event);
                call.call(&event);
            }
        }
    }

    /// A transport failure as the crate's error (one attempt; the caller records the count).
    fn transport_error(&self, error: reqwest::Error, timeout: Duration) -> Error {
        // The system gave up connecting (ETIMEDOUT, after its own SYN retries): no timeout of
        // the SDK's or the client's ran out, and the error says what did.
        if error.is_timeout() && !system_timed_out(&error) {
            // reqwest's connect timeout is a connect error too.
            let connecting = error.is_connect();
            let settings = &self.inner.http_settings;
            return Error::Timeout {
                timeout,
                attempts: 1,
                total: None,
                connecting,
                connect: (connecting && settings.custom.is_none())
                    .then_some(settings.connect_timeout),
            };
        }
        if let Some(problem) = untrusted_certificate(&error) {
            let reason = certificate_problem(problem);
            let advice = certificate_advice(problem, &reason).map_or_else(
                || self.inner.http_settings.trust_advice.clone(),
                str::to_owned,
            );
            return Error::Certificate {
                reason,
                advice,
                source: Some(Box::new(error)),
            };
        }
        if proxy_wants_credentials(&error) {
            return connection_error(PROXY_WANTS_CREDENTIALS.into(), error, false);
        }
        if proxy_refused_tunnel(&error) {
            let host = self.inner.base_url.host_str().unwrap_or("the service");
            let message = format!(
                "the proxy refused to open a tunnel to {host} (it answered the CONNECT request \
                 with an error status, as a proxy does for a host its policy blocks or cannot \
                 reach): check that the proxy lets this host through, and the proxy setting"
            );
            return connection_error(message, error, true);
        }
        if peer_not_tls(&error) {
            return connection_error(NOT_TLS.into(), error, false);
        }
        connection_error(error_chain(&error), error, true)
    }

    /// One HTTP exchange, decoded; `opened` tells whether it opened a new connection.
    async fn exchange(
        &self,
        call: &Call,
        transport: &Transport,
        attempt: u32,
        opened: &mut bool,
    ) -> Result<QueryResponse, Error> {
        let inner = &*self.inner;
        // The duration is for the event hook and the debug log line only: without either, the
        // clock is not read.
        let timed = inner.on_event.is_some()
            || call.on_event.is_some()
            || tracing::enabled!(target: "vectorcache", tracing::Level::DEBUG);
        let started = timed.then(Instant::now);
        let credentials = self.credentials();
        let (echoes, auth) = (&credentials.echoes, credentials.header.clone());
        let mut request = reqwest::Request::new(Method::POST, inner.query_url.clone());
        *request.headers_mut() = call.headers.as_ref().unwrap_or(&inner.headers).clone();
        request.headers_mut().insert(AUTHORIZATION, auth);
        *request.timeout_mut() = Some(call.timeout);
        *request.body_mut() = Some(call.body.clone().into());
        // The pool calls the connector, if it must connect, while the request is sent.
        let (sent, new_connection) = watch_connections(transport.http.execute(request)).await;
        *opened = new_connection;
        let mut response = sent.map_err(|e| self.transport_error(e, call.timeout))?;
        let status = response.status().as_u16();
        let keeps_alive = keeps_alive(response.version(), response.headers());
        // They may echo the key: what leaves them is scrubbed.
        let mut headers = Unscrubbed::new(std::mem::take(response.headers_mut()), echoes);
        let success = response.status().is_success();
        let limit = if success {
            MAX_SUCCESS_BODY
        } else {
            MAX_ERROR_BODY
        };
        let (bytes, truncated, failure) = read_scrubbed(&mut response, limit, echoes).await;
        if failure.is_none() && !truncated {
            transport.handovers.exchange_ended(keeps_alive);
        }
        let request_id = headers.take_request_id();
        let duration = started.map_or(Duration::ZERO, |started| started.elapsed());
        tracing::debug!(
            target: "vectorcache",
            status,
            request_id = request_id.as_deref().unwrap_or("-"),
            duration_ms = duration.as_secs_f64() * 1e3,
            attempt,
            "Vectorcache answered"
        );
        self.emit(call, || Event::Answer {
            status,
            request_id: request_id.clone(),
            duration,
            attempt,
        });
        if success {
            if let Some(e) = failure {
                return Err(self.transport_error(e, call.timeout));
            }
            if truncated {
                return Err(decode::undecodable(
                    status,
                    format!("the body is larger than {MAX_SUCCESS_BODY} bytes"),
                    String::new(),
                    &headers.scrubbed(echoes),
                    request_id,
                ));
            }
            decode::success(status, &headers, echoes, &bytes, request_id)
        } else {
            // An error body that breaks off mid-way is still worth decoding: the status is known.
            Err(Error::from(decode::api_error(
                status,
                &headers.scrubbed(echoes),
                &bytes,
                truncated,
            )))
        }
    }
}

/// Pools a client keeps, one per runtime it was used from.
const POOLS_KEPT: usize = 16;

/// The settings of one call: the request's own where it has them, else the client's.
struct Call {
    /// Shared by the attempts (a clone is a reference count).
    body: Bytes,
    /// The request's own headers over the client's; `None`: the client's.
    headers: Option<HeaderMap>,
    timeout: Duration,
    total_timeout: Option<Duration>,
    deadline: Option<Instant>,
    retry: RetryPolicy,
    /// The request's own event hook (the client's is told too).
    on_event: Option<CallHook>,
}

/// What a proxy's 407 to the tunnel request becomes: the proxy is named, never its URL (it
/// may hold a password), and the fix is said.
// Said for either case: no credentials were given, or the proxy refused the ones given.
const PROXY_WANTS_CREDENTIALS: &str = "the proxy refused the tunnel for want of credentials \
     it accepts (407 Proxy Authentication Required): give them, or check the ones given, in \
     the proxy URL (http://user:password@host:port), in the proxy option or HTTPS_PROXY";

/// A failed attempt's connection error (the caller records the attempt count).
fn connection_error(message: String, source: reqwest::Error, retryable: bool) -> Error {
    Error::Connection {
        message,
        attempts: 1,
        source: Some(Box::new(source)),
        retryable,
    }
}

/// What a TLS handshake answered in plain text becomes: retrying cannot help.
const NOT_TLS: &str = "the server did not answer in TLS: is it a plain http:// server behind an \
     https:// URL, or an http:// proxy given as https://? Check the base URL and the proxy \
     setting";

/// Whether the proxy answered the tunnel request with 407. hyper-util's tunnel error type is
/// not public, so its message is what can be matched (a test pins it).
fn proxy_wants_credentials(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| cause.to_string() == "tunnel error: proxy authorization required")
}

/// Whether the proxy answered the tunnel request with another status than 200 or 407 (a 403
/// by policy, a 502 when it cannot reach the host); hyper-util says only "unsuccessful".
fn proxy_refused_tunnel(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| cause.to_string() == "tunnel error: unsuccessful")
}

/// Whether the system's own timeout ended the attempt (ETIMEDOUT: a connect left unanswered
/// through every SYN retry, or a connection whose peer stopped acknowledging), rather than a
/// timer of the SDK's or reqwest's, whose errors carry no OS error code.
fn system_timed_out(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.raw_os_error().is_some())
    })
}

/// Whether the peer answered the TLS handshake with something else than TLS: plain HTTP (an
/// `https://` URL of an `http://` server, or an `http://` proxy given as `https://`).
fn peer_not_tls(error: &(dyn std::error::Error + 'static)) -> bool {
    causes(error).any(|cause| {
        matches!(
            cause.downcast_ref(),
            Some(rustls::Error::InvalidMessage(
                rustls::InvalidMessage::InvalidContentType
            ))
        )
    })
}

/// `error` and its causes, in order. An io::Error's source() skips the error it wraps (where
/// rustls' travels), so that one is taken instead.
fn causes<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |error| {
        match error.downcast_ref::<std::io::Error>() {
            Some(io) => io
                .get_ref()
                .map(|inner| inner as &(dyn std::error::Error + 'static)),
            None => error.source(),
        }
    })
}

/// What to do about a certificate `problem` (`reason`, its text) that trusting another CA
/// does not solve; `None` when trusting the issuer's CA is the advice.
fn certificate_advice(problem: &rustls::CertificateError, reason: &str) -> Option<&'static str> {
    use rustls::CertificateError as Problem;
    match problem {
        Problem::NotValidForName | Problem::NotValidForNameContext { .. } => Some(
            "it was issued for another host name: check the base URL's host (trusting a CA \
             does not change this)",
        ),
        Problem::Expired
        | Problem::ExpiredContext { .. }
        | Problem::NotValidYet
        | Problem::NotValidYetContext { .. } => Some(
            "it is outside its validity dates: check the server's certificate and this \
             machine's clock",
        ),
        Problem::Revoked => Some("its issuer revoked it: the server needs a new certificate"),
        Problem::InvalidPurpose | Problem::InvalidPurposeContext { .. } => Some(
            "it is not issued for serving TLS (no serverAuth usage): the server needs a \
             certificate that is",
        ),
        // webpki's, carried as `Other`: a self-signed CA certificate served as the server's own.
        _ if reason.contains("CaUsedAsEndEntity") => Some(
            "the server presents a CA certificate as its own: it needs a certificate that a CA \
             issued for its host name (trusting the CA does not change this)",
        ),
        _ => None,
    }
}

/// A certificate problem as a reader takes it: rustls' name for it (what a search finds),
/// then, where rustls knows them, the dates or names behind it, readable (its own `Debug`
/// shows Unix seconds and `DnsName("…")` wrappers).
fn certificate_problem(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as Problem;
    let date = |time: rustls::pki_types::UnixTime| {
        let at = std::time::UNIX_EPOCH + Duration::from_secs(time.as_secs());
        httpdate::fmt_http_date(at)
    };
    match problem {
        Problem::ExpiredContext { time, not_after } => format!(
            "Expired: it was valid until {}, and this machine's clock says {}",
            date(*not_after),
            date(*time)
        ),
        Problem::NotValidYetContext { time, not_before } => format!(
            "NotValidYet: it is valid from {}, and this machine's clock says {}",
            date(*not_before),
            date(*time)
        ),
        Problem::NotValidForNameContext {
            expected,
            presented,
        } => {
            // rustls gives each name as `DnsName("host")` or `IpAddress(…)`.
            let names: Vec<&str> = presented
                .iter()
                .map(|name| {
                    name.split_once('(')
                        .map_or(name.as_str(), |(_, inner)| inner.trim_end_matches(')'))
                        .trim_matches('"')
                })
                .collect();
            let expected = match expected {
                rustls::pki_types::ServerName::DnsName(name) => name.as_ref().to_owned(),
                rustls::pki_types::ServerName::IpAddress(ip) => {
                    std::net::IpAddr::from(*ip).to_string()
                }
                other => format!("{other:?}"),
            };
            match names.as_slice() {
                [] => format!("NotValidForName: it names no host, and this is {expected}"),
                names => format!(
                    "NotValidForName: it is for {}, not {expected}",
                    names.join(", ")
                ),
            }
        }
        // webpki's own reasons come wrapped: `Other(OtherError(CaUsedAsEndEntity))`.
        Problem::Other(other) => {
            let shown = format!("{other:?}");
            shown
                .strip_prefix("OtherError(")
                .and_then(|inner| inner.strip_suffix(')'))
                .map_or(shown.clone(), str::to_owned)
        }
        other => format!("{other:?}"),
    }
}

/// What is wrong with the server's certificate, if that is why the connection failed.
fn untrusted_certificate<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::CertificateError> {
    causes(error).find_map(|cause| match cause.downcast_ref() {
        Some(rustls::Error::InvalidCertificate(problem)) => Some(problem),
        _ => None,
    })
}

/// Whether `error` is what a pooled connection closed by the server while idle gives: the
/// connection broke (reset, or closed before any byte of an answer), after connecting.
fn is_stale_connection(error: &Error) -> bool {
    let Error::Connection {
        source: Some(source),
        ..
    } = error
    else {
        return false;
    };
    source
        .downcast_ref::<reqwest::Error>()
        // (A timeout is never here: `transport_error` makes it an `Error::Timeout`.)
        .is_some_and(|e| !e.is_connect() && e.is_request())
}

/// Reads at most `limit` bytes of the body with every echo of the key scrubbed, as
/// [`read_bounded`] does. The scrubbing happens before the cut (reading a key's length
/// further), so a key that straddles the limit does not survive in part.
async fn read_scrubbed(
    response: &mut reqwest::Response,
    limit: usize,
    key: &Echoes,
) -> (Bytes, bool, Option<reqwest::Error>) {
    let slack = key.key_len();
    let (mut bytes, mut truncated, failure) = read_bounded(response, limit + slack).await;
    scrub(&mut bytes, key);
    if bytes.len() > limit {
        bytes.truncate(limit);
        truncated = true;
    }
    (bytes, truncated, failure)
}

/// The error and its causes on one line ("error sending request ...: connection refused").
pub(crate) fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
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
) -> (Bytes, bool, Option<reqwest::Error>) {
    // Most bodies come in one chunk, kept as it came; a second one is where copying starts.
    let mut first = Bytes::new();
    let mut joined: Option<Vec<u8>> = None;
    let (truncated, failure) = loop {
        let read = joined.as_ref().map_or(first.len(), Vec::len);
        match response.chunk().await {
            Ok(Some(mut chunk)) => {
                let room = limit - read;
                let over = chunk.len() > room;
                chunk.truncate(room);
                match joined.as_mut() {
                    Some(joined) => joined.extend_from_slice(&chunk),
                    None if first.is_empty() => first = chunk,
                    None => joined = Some([&first[..], &chunk[..]].concat()),
                }
                if over {
                    break (true, None);
                }
            }
            Ok(None) => break (false, None),
            Err(e) => break (false, Some(e)),
        }
    };
    (joined.map_or(first, Bytes::from), truncated, failure)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_with_a_system_code_are_the_systems_timeouts() {
        // ETIMEDOUT, wrapped as hyper-util wraps a connect error.
        let system = std::io::Error::other(std::io::Error::from_raw_os_error(110));
        assert!(system_timed_out(&system));
        // hyper-util's own connect timeout, and a timer's error without any io::Error.
        let timer = std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timeout");
        assert!(!system_timed_out(&timer));
        let elapsed: Box<dyn std::error::Error> = "operation timed out".into();
        assert!(!system_timed_out(elapsed.as_ref()));
    }
}
