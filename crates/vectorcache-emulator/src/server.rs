//! Connection handling and request dispatch.
//!
//! Connections are served with hyper directly (rather than through a framework) because the
//! `drop_connection` fault needs a service that can fail: when the service future returns an
//! error, hyper closes the connection without writing any response, which is exactly the
//! "server vanished" case client libraries must survive.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::KeyRegistry;
use crate::config::EmulatorConfig;
use crate::faults::FaultQueue;
use crate::http::{detail, finish, new_request_id, Body};
use crate::ratelimit::RateLimiter;
use crate::reqlog::RequestLog;
use crate::store::Store;
use crate::{admin, query};

/// How long a graceful shutdown waits for in-flight requests.
const GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Everything the handlers share.
pub struct State {
    /// The (validated) configuration.
    pub config: EmulatorConfig,
    /// Key -> project lookup.
    pub keys: KeyRegistry,
    /// The semantic cache.
    pub store: Store,
    /// Pending faults.
    pub faults: FaultQueue,
    /// Log of query requests.
    pub log: RequestLog,
    /// Present when rate limiting is configured.
    pub limiter: Option<RateLimiter>,
}

impl State {
    /// Fresh state for a configuration.
    pub fn new(config: EmulatorConfig) -> Self {
        State {
            keys: KeyRegistry::new(&config),
            limiter: config.rate_limit.map(RateLimiter::new),
            store: Store::with_capacity(config.max_cache_entries),
            faults: FaultQueue::default(),
            log: RequestLog::default(),
            config,
        }
    }

    /// Forgets the cache, the queued faults, the request log and the rate-limit buckets.
    pub fn reset(&self) {
        self.store.clear();
        self.faults.clear();
        self.log.clear();
        if let Some(limiter) = &self.limiter {
            limiter.reset();
        }
    }
}

/// The service error that makes hyper close the connection without answering.
#[derive(Debug)]
pub struct ConnectionDropped;

impl fmt::Display for ConnectionDropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for ConnectionDropped {}

/// Routes one request and adds the common headers; logs one line per request.
async fn dispatch(
    state: Arc<State>,
    req: Request<Incoming>,
) -> Result<Response<Body>, ConnectionDropped> {
    let started = Instant::now();
    let request_id = new_request_id();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();

    let (result, key_prefix) = if path == query::PATH {
        let outcome = query::handle(&state, req, &request_id, started).await;
        (outcome.result, outcome.key_prefix)
    } else {
        let response = admin::handle(&state, req)
            .await
            .unwrap_or_else(|| detail(StatusCode::NOT_FOUND, crate::http::NOT_FOUND));
        (Ok(response), "-".to_owned())
    };

    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match result {
        Ok(mut response) => {
            finish(&mut response, &request_id);
            tracing::info!(
                %method,
                %path,
                status = response.status().as_u16(),
                elapsed_ms,
                key = %key_prefix,
                request_id = %request_id,
                "request"
            );
            Ok(response)
        }
        Err(dropped) => {
            tracing::info!(
                %method,
                %path,
                status = "dropped",
                elapsed_ms,
                key = %key_prefix,
                request_id = %request_id,
                "request (connection dropped by fault)"
            );
            Err(dropped)
        }
    }
}

/// Resolves once shutdown is requested (or the emulator handle is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // The guard `wait_for` returns is not `Send`: drop it here, not in the caller's future.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Serves one TCP connection (HTTP/1.1 or HTTP/2) until it ends or shutdown is requested.
async fn serve_connection(
    stream: TcpStream,
    number: u64,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    // Small JSON answers: send them at once rather than waiting for Nagle.
    let _ = stream.set_nodelay(true);
    let service = service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectionNumber(number));
        dispatch(Arc::clone(&state), req)
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "connection ended with an error");
            }
        }
        _ = stopped(&mut shutdown) => {
            connection.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(GRACE_PERIOD, connection.as_mut()).await;
        }
    }
}

/// Which connection a request came on: 1 for the first the emulator accepted, and so on.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionNumber(pub u64);

/// Accepts connections until shutdown is requested, then lets in-flight requests finish.
pub async fn accept_loop(
    listener: TcpListener,
    state: Arc<State>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut connections: JoinSet<()> = JoinSet::new();
    let mut accepted_so_far = 0;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    accepted_so_far += 1;
                    connections.spawn(serve_connection(
                        stream,
                        accepted_so_far,
                        Arc::clone(&state),
                        shutdown.clone(),
                    ));
                }
                Err(error) => {
                    // E.g. out of file descriptors: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stopped(&mut shutdown) => break,
        }
    }
    drop(listener);
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(GRACE_PERIOD, drain).await.is_err() {
        connections.abort_all();
    }
}
