//! The HTTP side of a client: the reqwest client with its connection pool, the bound on open
//! connections, and what lets a call tell a fresh connection from a reused one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::Error;

/// Connections a client opens at most, like httpx's and aiohttp's default of 100.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;
/// How long an idle keep-alive connection is kept: below the common server keep-alive
/// timeouts (uvicorn and Node 5 s, nginx 75 s), so the server rarely closes one under us.
pub const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(4);

/// What the reqwest client is built from, kept so that it can be built again (after a fork).
#[derive(Clone)]
pub(crate) struct HttpSettings {
    pub connect_timeout: Duration,
    pub pool_idle_timeout: Duration,
    pub max_connections: usize,
    /// Plain http (loopback only): no proxy may see the key in clear text.
    pub plain_http: bool,
    /// A caller-configured client, used as it is.
    pub custom: Option<reqwest::Client>,
}

/// The connection pool and the permits that bound it; replaced whole by [`Transport::new`].
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    /// One permit per request in flight, so no more than `max_connections` connections are
    /// ever busy at once (and the pool, which keeps at most that many idle, never grows past).
    pub permits: Arc<Semaphore>,
}

impl Transport {
    pub fn new(settings: &HttpSettings) -> Result<Self, Error> {
        let http = match &settings.custom {
            Some(http) => http.clone(),
            None => {
                let mut http = reqwest::Client::builder()
                    .connect_timeout(settings.connect_timeout)
                    .pool_idle_timeout(settings.pool_idle_timeout)
                    .pool_max_idle_per_host(settings.max_connections)
                    .connector_layer(tower::layer::layer_fn(MarkNewConnections))
                    // A redirect could carry the key elsewhere; the API never redirects.
                    .redirect(reqwest::redirect::Policy::none());
                if settings.plain_http {
                    // Plain http is allowed only to loopback; an HTTP_PROXY from the
                    // environment would otherwise receive the key in clear text.
                    http = http.no_proxy();
                }
                http.build().map_err(|e| {
                    Error::invalid_config(format!("cannot build the HTTP client: {e}"))
                })?
            }
        };
        Ok(Self {
            http,
            permits: Arc::new(Semaphore::new(settings.max_connections)),
        })
    }
}

tokio::task_local! {
    /// Set by the connector when the attempt running in this task opens a new connection.
    static NEW_CONNECTION: Arc<AtomicBool>;
}

/// Runs one attempt, telling afterwards whether it opened a new connection (`false`: it
/// reused a pooled one, or failed before connecting).
pub(crate) async fn watch_connections<F: std::future::Future>(attempt: F) -> (F::Output, bool) {
    let opened = Arc::new(AtomicBool::new(false));
    let output = NEW_CONNECTION.scope(opened.clone(), attempt).await;
    (output, opened.load(Ordering::Relaxed))
}

/// A connector layer that marks the running attempt when it connects. The pool calls the
/// connector from the request's own task only when it has no idle connection to hand out.
#[derive(Clone)]
struct MarkNewConnections<S>(S);

impl<S, R> tower::Service<R> for MarkNewConnections<S>
where
    S: tower::Service<R>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let _ = NEW_CONNECTION.try_with(|opened| opened.store(true, Ordering::Relaxed));
        self.0.call(request)
    }
}
