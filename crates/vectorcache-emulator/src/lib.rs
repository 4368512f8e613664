//! A faithful local emulator of the hosted Vectorcache HTTP API (a semantic cache for LLM
//! calls), for offline development and for the test suites of client libraries.
//!
//! ```no_run
//! use vectorcache_emulator::config::generate_key;
//! use vectorcache_emulator::{Emulator, EmulatorConfig};
//!
//! # async fn demo() -> Result<(), vectorcache_emulator::EmulatorError> {
//! let config = EmulatorConfig::with_key(generate_key()); // the key its clients give
//! let emulator = Emulator::start(config, "127.0.0.1:0".parse().unwrap()).await?;
//! println!("listening on {}", emulator.url());
//! emulator.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # Testing your own code
//!
//! Start one per test, on a free loopback port, and point the client at it. A test queues
//! faults ([`RunningEmulator::add_fault`]), reads what the code sent
//! ([`RunningEmulator::requests`]) and starts over ([`RunningEmulator::reset`]), in process:
//!
//! ```
//! use vectorcache::{Client, QueryRequest};
//! use vectorcache_emulator::config::generate_key;
//! use vectorcache_emulator::{Emulator, EmulatorConfig, Fault};
//!
//! /// The code under test: the cache's answer, or a fallback when the cache is down.
//! async fn answer(client: &Client, prompt: &str) -> String {
//!     match client.query(QueryRequest::new(prompt, "gpt-4o")).await {
//!         Ok(result) => result.response,
//!         Err(_) => "answered by the LLM directly".to_owned(),
//!     }
//! }
//!
//! // In your crate: `#[tokio::test] async fn falls_back_when_the_cache_is_down() { … }`
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let key = generate_key();
//! let emulator = Emulator::start_local(EmulatorConfig::with_key(key.clone()), 0).await.unwrap();
//! let client = Client::builder()
//!     .api_key(key)
//!     .base_url(emulator.url())
//!     .max_retries(0)
//!     .build()
//!     .unwrap();
//! emulator.add_fault(Fault::status(503)).unwrap();
//! assert_eq!(answer(&client, "What is AI?").await, "answered by the LLM directly");
//! assert_eq!(emulator.requests().len(), 1);
//! emulator.shutdown().await;
//! # }
//! ```
//!
//! # The API it emulates
//!
//! - `GET /health` → `{"status":"ok","version":"…"}` (no auth).
//! - `POST /v1/cache/query`, checked in this order: `Authorization: Bearer vc_…` (401
//!   `Invalid or missing API key` / `Invalid API key`, with `WWW-Authenticate: Bearer`), body size
//!   (413), rate limit (429 with `Retry-After`), body validation (400 with a
//!   string `detail`, or FastAPI's 422 list for values of the wrong type), `project_id` (403), then
//!   the semantic cache. Every answer carries `X-Request-Id` and is JSON. As on the service, every
//!   answer to an authenticated key carries `X-RateLimit-Limit`, `X-RateLimit-Remaining` and
//!   `X-RateLimit-Reset` (see [`ratelimit`]); the default limit is generous
//!   ([`RateLimitConfig::GENEROUS`]) and `rate_limit: None` switches limiting and headers off.
//!
//! The cache embeds prompts locally and deterministically (see [`embed`]); a miss answers with a
//! deterministic stand-in text and stores it, a later similar prompt in the same project and
//! `context` is a hit. [`DEMO_SIMILAR_PROMPTS`] is a pair that hits with a score below 1.
//!
//! # Emulator-only routes (no authentication)
//!
//! These need no API key: the emulator is a local development tool and binds to loopback by
//! default. Do not expose it on a shared network.
//!
//! - `POST /_emulator/faults` with one object or an array of objects, queued and consumed in
//!   order, one per `POST /v1/cache/query` (`count` repeats one, default 1):
//!   - `{"status": 503, "body": "<html>…", "headers": {"Retry-After": "1"}, "delay_ms": 200}`:
//!     answer this instead (a string body is sent verbatim, other JSON serialised, `null` or
//!     `""` empty; at most 64 MiB, so a client's own size limit can be tested). Without a `body` it is the service's answer for the status, its
//!     documented `detail` (`{"status": 429}` also carries `X-RateLimit-Limit`,
//!     `X-RateLimit-Remaining: 0`, `X-RateLimit-Reset` and `Retry-After: 1`); statuses the
//!     service has no detail for are empty. The fault's own headers win;
//!   - `{"delay_ms": 500}`: wait, then answer normally;
//!   - `{"drop_connection": true}`: close the connection without any answer.
//!
//!   Answers `{"queued": n, "pending": m}` (`n` objects queued by this call, `m` requests the
//!   whole queue will affect). `GET` shows `pending`, `DELETE` clears the queue.
//! - `POST /_emulator/reset`: clears the cache, the fault queue, the request log and the
//!   rate-limit buckets.
//! - `GET /_emulator/requests`: the last 1000 requests to `/v1/cache/query`, oldest first, as
//!   `{"request_id","method","path","status","headers","body","fault","connection"}` (`status`
//!   is `null` for a dropped connection; the `Authorization` header is redacted to
//!   `Bearer vc_1234…`; `connection` numbers the connection it came on, from 1, so requests
//!   on one kept-alive connection share it).
//!   `DELETE` clears it.
//!
//! API keys never appear in full in the request log, in `tracing` output, in error messages or
//! in `Debug` output.

pub mod admin;
pub mod auth;
pub mod config;
pub mod embed;
pub mod errors;
pub mod faults;
pub mod http;
pub mod pricing;
pub mod query;
pub mod ratelimit;
pub mod reqlog;
pub mod server;
pub mod store;
pub mod validate;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::{EmulatorConfig, KeyConfig, ProjectConfig, RateLimitConfig};
pub use embed::DEMO_SIMILAR_PROMPTS;
pub use errors::EmulatorError;
pub use faults::Fault;
pub use reqlog::LoggedRequest;

/// Starts emulator servers.
pub struct Emulator;

impl Emulator {
    /// Validates `config`, binds `addr` (port 0 picks a free port) and starts serving on the
    /// current tokio runtime.
    pub async fn start(
        config: EmulatorConfig,
        addr: SocketAddr,
    ) -> Result<RunningEmulator, EmulatorError> {
        config.validate()?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| EmulatorError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        let state = Arc::new(server::State::new(config.clone()));
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(server::accept_loop(listener, Arc::clone(&state), stopped));
        tracing::info!(addr = %local, "vectorcache emulator listening");
        Ok(RunningEmulator {
            addr: local,
            config,
            state,
            stop,
            task: Some(task),
        })
    }

    /// [`Emulator::start`] on `127.0.0.1:port`.
    pub async fn start_local(
        config: EmulatorConfig,
        port: u16,
    ) -> Result<RunningEmulator, EmulatorError> {
        Self::start(config, SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await
    }
}

/// A running emulator. Dropping it stops the server too (without waiting).
pub struct RunningEmulator {
    addr: SocketAddr,
    config: EmulatorConfig,
    /// What its handlers share: faults, the request log, the cache.
    state: Arc<server::State>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    /// The base URL, e.g. `http://127.0.0.1:8080` (no trailing slash). A wildcard bind address
    /// is shown as loopback, which is where a local client can reach it.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}", SocketAddr::new(ip, self.addr.port()))
    }

    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The configuration it serves.
    pub fn config(&self) -> &EmulatorConfig {
        &self.config
    }

    /// Queues `fault` for the next queries, after those already queued (as
    /// `POST /_emulator/faults` does). Faults apply before authentication: they emulate
    /// whatever stands in front of the service.
    ///
    /// # Errors
    /// [`EmulatorError::Fault`] when the emulator cannot make it (a status outside 200–599, a
    /// delay over 5 minutes, `times(0)`, a body or header without a status, …); nothing is
    /// queued then. The reason names the field as the fault route spells it (`delay_ms` for
    /// [`Fault::delay`] and [`Fault::delayed`], `count` for [`Fault::times`]).
    pub fn add_fault(&self, fault: Fault) -> Result<(), EmulatorError> {
        let planned = fault.plan().map_err(EmulatorError::Fault)?;
        self.state.faults.push(vec![planned]);
        Ok(())
    }

    /// [`add_fault`](Self::add_fault) for one fault object in the JSON of
    /// `POST /_emulator/faults` (`{"status": 503, "count": 2}`), for callers that hold JSON.
    ///
    /// # Errors
    /// [`EmulatorError::Fault`] for JSON that is not a fault the emulator can make.
    pub fn add_fault_json(&self, fault: &[u8]) -> Result<(), EmulatorError> {
        let planned = faults::parse_fault(fault).map_err(EmulatorError::Fault)?;
        self.state.faults.push(vec![planned]);
        Ok(())
    }

    /// How many queries the queued faults will still affect.
    pub fn pending_faults(&self) -> u64 {
        self.state.faults.pending()
    }

    /// The queries it received, oldest first: the last [`reqlog::LOG_CAPACITY`], with the
    /// `Authorization` header redacted (as `GET /_emulator/requests` shows them).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.state.log.snapshot()
    }

    /// Forgets the cache, the queued faults, the request log and the rate-limit buckets (as
    /// `POST /_emulator/reset` does).
    pub fn reset(&self) {
        self.state.reset();
    }

    /// Stops accepting connections and waits (up to 5 s) for in-flight requests to finish.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        tracing::info!(addr = %self.addr, "vectorcache emulator stopped");
    }

    /// Runs until Ctrl-C (or SIGTERM on Unix), then shuts down gracefully.
    pub async fn wait(self) -> Result<(), EmulatorError> {
        shutdown_signal().await?;
        self.shutdown().await;
        Ok(())
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        // The accept loop and every connection watch this flag; they stop on their own.
        let _ = self.stop.send(true);
    }
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() -> Result<(), EmulatorError> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            result = tokio::signal::ctrl_c() => result?,
            _ = term.recv() => {}
        }
        Ok(())
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await?;
        Ok(())
    }
}
