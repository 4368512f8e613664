//! The native half of the npm package `vectorcache`: a thin napi-rs layer over the Rust core
//! crate `vectorcache`. Configuration, validation, retries and error decoding all live in the
//! core; this crate only translates values between JavaScript and Rust.
//!
//! No function here throws for bad input: each returns a tagged outcome whose `error` is the
//! core's error in structured form, and the JavaScript wrapper (`index.js`) turns it into the
//! matching `Vectorcache*Error` class. The generated loader is `native.js` / `native.d.ts`.

mod cancel;
mod client;
mod config;
mod convert;
mod delivery;
mod errors;
mod names;
mod request;
mod response;
mod testing;

pub use cancel::CancelToken;
pub use client::{create_client, CreateClientOutcome, LogEvent, NativeClient};
pub use config::ClientOptions;
pub use errors::NativeError;
pub use request::{QueryInput, QueryOptions};
pub use response::{
    BatchOutcome, DebugInfo, LatencyMs, QueryOutcome, QueryResult, RateLimitInfo, UsageStats,
};
pub use testing::{start_emulator, EmulatorServer};

/// The version of this package, sent as `vectorcache-node/<version>` in the `User-Agent`.
#[napi_derive::napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
