//! The HTTP side of a client: the reqwest client with its connection pool, the bound on open
//! connections, and what lets a call tell a fresh connection from a reused one.

use std::future::Future;
use std::pin::Pin;
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
    /// CA certificates trusted beside the system's and the bundled roots.
    pub root_certificates: Vec<reqwest::Certificate>,
    /// The proxy option; without one, the environment's proxies apply (https only).
    pub proxy: Option<reqwest::Proxy>,
    /// What an untrusted-certificate error advises.
    pub trust_advice: String,
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
        let permits = Arc::new(Semaphore::new(settings.max_connections));
        let layer_permits = permits.clone();
        let http = match &settings.custom {
            Some(http) => http.clone(),
            None => {
                let mut http = reqwest::Client::builder()
                    .connect_timeout(settings.connect_timeout)
                    .pool_idle_timeout(settings.pool_idle_timeout)
                    .pool_max_idle_per_host(settings.max_connections)
                    .connector_layer(tower::layer::layer_fn(move |inner| NewConnections {
                        inner,
                        permits: layer_permits.clone(),
                    }))
                    // A redirect could carry the key elsewhere; the API never redirects.
                    .redirect(reqwest::redirect::Policy::none());
                for certificate in &settings.root_certificates {
                    http = http.add_root_certificate(certificate.clone());
                }
                if let Some(proxy) = &settings.proxy {
                    http = http.proxy(proxy.clone());
                } else if settings.plain_http {
                    // Plain http is allowed only to loopback; an HTTP_PROXY from the
                    // environment would otherwise receive the key in clear text.
                    http = http.no_proxy();
                }
                http.build().map_err(|e| {
                    Error::invalid_config(format!("cannot build the HTTP client: {e}"))
                })?
            }
        };
        Ok(Self { http, permits })
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

/// How long, at most, a new connection waits when every permit is taken, for a connection on
/// its way back to the pool (see [`NewConnections`]); it looks every millisecond. On a loaded
/// machine a pooled connection can take a few milliseconds to come back; only a request whose
/// connection really died pays the whole wait.
const HANDOVER_GRACE: Duration = Duration::from_millis(50);
const HANDOVER_POLL: Duration = Duration::from_millis(1);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The connector layer: marks the running attempt when it connects (the pool calls the
/// connector from the request's own task only when it has no idle connection to hand out),
/// and keeps the pool within `max_connections`.
///
/// The pool races each checkout against a connect; when a pooled connection comes back
/// first, it finishes the connect in the background and keeps that connection too, one more
/// than the bound. So when the bound is reached, a connect first gives a connection on its
/// way back to the pool a moment to arrive, and a connect left in the background (its
/// request was served by the pool meanwhile) gives up instead of opening a surplus socket.
#[derive(Clone)]
struct NewConnections<S> {
    inner: S,
    permits: Arc<Semaphore>,
}

impl<S, R> tower::Service<R> for NewConnections<S>
where
    S: tower::Service<R>,
    S::Future: Send + 'static,
    S::Response: Send + 'static,
    S::Error: Into<BoxError>,
{
    type Response = S::Response;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, request: R) -> Self::Future {
        let watcher = NEW_CONNECTION
            .try_with(|opened| {
                opened.store(true, Ordering::Relaxed);
                opened.clone()
            })
            .ok();
        let at_the_bound = self.permits.available_permits() == 0;
        let connect = self.inner.call(request);
        Box::pin(async move {
            if at_the_bound {
                let deadline = tokio::time::Instant::now() + HANDOVER_GRACE;
                while tokio::time::Instant::now() < deadline {
                    tokio::time::sleep(HANDOVER_POLL).await;
                    if !still_wanted(watcher.as_ref()) {
                        return Err("the pool served the request meanwhile".into());
                    }
                }
            }
            let connection = connect.await.map_err(Into::into)?;
            if at_the_bound && !still_wanted(watcher.as_ref()) {
                return Err("the pool served the request meanwhile".into());
            }
            Ok(connection)
        })
    }
}

/// Whether the attempt that asked for a connection still waits for this one: the pool moves a
/// connect that lost the race into a task of its own, where the attempt's mark is not set.
fn still_wanted(watcher: Option<&Arc<AtomicBool>>) -> bool {
    match watcher {
        Some(mine) => NEW_CONNECTION
            .try_with(|current| Arc::ptr_eq(current, mine))
            .unwrap_or(false),
        None => true,
    }
}
