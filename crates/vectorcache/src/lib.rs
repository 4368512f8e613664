//! The official Rust client for [Vectorcache](https://vectorcache.ai), the hosted semantic
//! cache for LLM calls: send a prompt and a model, get back a cached answer to a similar
//! earlier prompt (a hit) or a fresh one (a miss), with the similarity and the money saved.
//!
//! The client reads `VECTORCACHE_API_KEY`, sends it as a Bearer token over HTTPS, validates
//! requests before sending them, decodes every error shape the service (or a proxy in front
//! of it) answers with into a typed [`Error`], and retries what is retryable.
//!
//! ```no_run
//! # async fn run() -> Result<(), vectorcache::Error> {
//! use vectorcache::{Client, Error, QueryRequest};
//!
//! let client = Client::from_env()?;
//! match client.query(QueryRequest::new("What is AI?", "gpt-4o")).await {
//!     Ok(answer) => println!("hit={} {}", answer.cache_hit, answer.response),
//!     Err(Error::Authentication(e)) => eprintln!("bad key: {}", e.detail),
//!     Err(e) => return Err(e),
//! }
//! # Ok(()) }
//! ```
#![warn(missing_docs)]

mod api_key;
#[cfg(feature = "bindings")]
#[doc(hidden)]
pub mod bindings;
mod client;
mod config;
mod decode;
mod error;
mod events;
mod headers;
mod request;
mod response;
mod retry;
mod scrub;
mod stats;
mod transport;
mod trust;

pub use api_key::{ApiKey, API_KEY_ENV};
pub use client::Client;
pub use config::{
    ClientBuilder, ClientOptions, BASE_URL_ENV, DEFAULT_BASE_URL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_WAIT, DEFAULT_TIMEOUT,
};
pub use error::{ApiError, DecodeError, Error, ErrorCategory, ErrorKind, Result};
pub use events::{Event, EventHook, Level};
pub use request::{CallHook, QueryRequest, DEFAULT_SIMILARITY_THRESHOLD};
pub use response::{DebugInfo, QueryResponse, RateLimit};
pub use stats::{Latency, Stats};
pub use transport::{DEFAULT_MAX_CONNECTIONS, DEFAULT_POOL_IDLE_TIMEOUT};

/// This crate's version, as sent in the `User-Agent`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
