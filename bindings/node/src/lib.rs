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

/// The addon's own allocations (requests, answers, the HTTP stack's buffers and futures) go to
/// mimalloc: glibc's allocator took a tenth of the runtime threads' time per query (answers
/// are made on one thread and freed on another, and its large-chunk path consolidates), and
/// mimalloc cut the client's CPU per query at 64 in flight by 1 to 3 µs (of 21 to 25). Node's
/// and V8's own allocations are not affected. Its thread-local storage is the dynamic model a
/// `dlopen`ed library needs. Built without its transparent-huge-page advice: it returns freed
/// memory to the system and, with the advice, each batch's first touch of that memory again
/// had the kernel zero whole 2 MiB pages (5 % of a `queryMany`'s CPU time). mimalloc's v2
/// line, not v3: under v3, once the thread that first allocated here had ended (a worker
/// thread that loaded the package, as in vitest's `threads` pool), the next thread to
/// allocate crashed in mimalloc's thread set-up (tests/node/exit.test.mjs).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The runtime every query runs on: napi-rs's default one (multi-threaded, I/O and timers),
/// with the hook that lets a worker wake the JavaScript thread once per busy stretch rather
/// than once per answer (see `delivery.rs`). Without it (the build failed, or napi-rs made
/// its default runtime after a shutdown) answers are signalled one by one, as before.
#[napi_derive::module_init]
fn runtime_with_delivery_on_park() {
    if let Ok(runtime) = vectorcache::bindings::wake::runtime_builder().build() {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
}

/// The version of this package, sent as `vectorcache-node/<version>` in the `User-Agent`.
#[napi_derive::napi]
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
